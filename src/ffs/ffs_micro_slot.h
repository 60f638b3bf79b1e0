/* src/ffs/ffs_micro_slot.h: a slot of the micro level's trials call (src/ffs/ffs_slots.h): a
 * block of T threads that runs one trial at a time, for the CUDA engine's kernel
 * (kernels/ffs/ffs_micro_cuda.cu).
 *
 * The includer defines, before including this header (so that src/ stays free of CUDA syntax):
 *  - MG_FFS_SLOT_FN: the qualifiers of the functions below (`static __device__ inline`);
 *  - MG_FFS_BLOCK_SYNC(ctx): a barrier of the block's threads (__syncthreads());
 *  - MG_FFS_MICRO_STEP(mm, st, buf, t, real, isi, cnt, n, tid, T, ctx): step t of the block's
 *    realization, the decomposition of src/core/micro.h over the T threads
 *    (kernels/cuda_micro_step.cuh), leaving the spike count of population a in cnt[a] and n[a]
 *    (shared).
 *
 * A trial runs in the CPU engine's time frame: steps t = 0, 1, ... counted from its start, its
 * state loaded shifted by -t0 and a success's saved shifted back (src/ffs/ffs_micro_frame.h, in
 * phases the block separates by barriers); its uniforms are Philox(trial index, block, t), the
 * CPU engine's. Thread 0 adds the step's counts to the observer and, at the end of a statistics
 * bin (absolute: t0 + t + 1), ends the trial with mg_ffs_trial_bin (src/ffs/ffs_internal.h). A
 * trial reads the network of its basin run (the state's last dynamics row). So a trial's result
 * depends only on its start state, start step and index: the CPU engine's bits, in any block and
 * order. Every thread reads the block's shared state (sh) only between barriers that order it
 * after thread 0's writes. */
#ifndef MESOGIF_FFS_MICRO_SLOT_H
#define MESOGIF_FFS_MICRO_SLOT_H

#include "core/micro.h"
#include "ffs/ffs_micro_frame.h" /* mg_ffs_micro_load, _save */
#include "ffs/ffs_slots.h"

#if !defined(MG_FFS_SLOT_FN) || !defined(MG_FFS_BLOCK_SYNC) || !defined(MG_FFS_MICRO_STEP)
#error "define MG_FFS_SLOT_FN, MG_FFS_BLOCK_SYNC and MG_FFS_MICRO_STEP before ffs/ffs_micro_slot.h"
#endif

/* What every block of a launch reads (device pointers on CUDA). */
typedef struct {
    mg_micro_model mm;
    mg_ffs_lane_cfg lc;
    mg_ffs_slot_list L;
    const mg_micro_csr *csr;     /* [n_net][n_list][MG_VL] the networks of the basin runs
                                  * (lane 0; MG_VL = 1 on the device) */
    uint32_t *spk;               /* [slots][spk_elems] the slots' spike lists (a lane block's) */
    double *isi;                 /* [slots][sum_N] intervals of a step's spikes */
    long long spk_elems, sum_N, n_net;
    int net_row;                 /* the dynamics row that names the network */
} mg_ffs_micro_slot_args;

/* The block's shared state. */
typedef struct {
    long long q, t;              /* the slot's trial; its step, counted from its start */
    int end;                     /* the trial ended at this step: 1, and 2 when its state is kept */
    double n[MG_POP_MAX];        /* the step's counts */
    long long cnt[MG_POP_MAX];
} mg_ffs_micro_slot_sh;

/* The block's rows st and spike lists <- stored state x (at step t_x), running at step
 * t_x - shift (lane_load of src/ffs/ffs_micro_cpu.c over the block's threads). */
MG_FFS_SLOT_FN void mg_ffs_micro_slot_load(const mg_ffs_micro_slot_args *A, mg_lanes st,
                                           const mg_micro_buf *buf, const double *x,
                                           long long shift, int tid, int T, void *ctx)
{
    for (int phase = 0; phase < MG_FFS_LOAD_PHASES; ++phase) {
        mg_ffs_micro_load(&A->mm, A->L.rows, st, buf, 0, x, shift, phase, tid, T);
        MG_FFS_BLOCK_SYNC(ctx);
    }
}

/* Stored state x (at step t + shift) <- the block at step t (lane_save). */
MG_FFS_SLOT_FN void mg_ffs_micro_slot_save(const mg_ffs_micro_slot_args *A, mg_lanes st,
                                           const mg_micro_buf *buf, double *x, long long shift,
                                           int tid, int T, void *ctx)
{
    for (int phase = 0; phase < MG_FFS_SAVE_PHASES; ++phase) {
        mg_ffs_micro_save(&A->mm, A->L.rows, st, buf, 0, x, shift, phase, tid, T);
        MG_FFS_BLOCK_SYNC(ctx);
    }
}

/* A NaN potential in the block (a NaN potential never fires again), as the CPU engine's
 * nan_check: recorded as the call's fault. */
MG_FFS_SLOT_FN void mg_ffs_micro_slot_nan(const mg_ffs_micro_slot_args *A, mg_lanes st,
                                          long long q, long long t, int tid, int T)
{
    for (int a = 0; a < A->mm.P; ++a) {
        const mg_micro_pop *pp = &A->mm.pop[a];
        for (long long i = tid; i < pp->N; i += T)
            if (isnan(MG_AT(st, pp->row_u + i, 0)))
                mg_ffs_slot_fault_note(&A->L, q, t, a, i, 1);
    }
}

/* Thread 0, after step t of trial tr: the counts into the observer, and at the end of a
 * statistics bin the end of the trial (sh->end). */
MG_FFS_SLOT_FN void mg_ffs_micro_slot_observe(const mg_ffs_micro_slot_args *A, mg_lanes st,
                                              mg_ffs_trial *tr, long long t,
                                              mg_ffs_micro_slot_sh *sh)
{
    const mg_ffs_slot_list *L = &A->L;
    mg_ffs_obs_add(&A->lc, st, sh->n);
    const long long t_next = tr->t0 + t + 1; /* absolute: the stored state's bins */
    sh->end = 0;
    if (t_next % A->lc.st_L == 0 &&
        mg_ffs_trial_bin(&A->lc, tr, st, t_next / A->lc.st_L - 1, t_next, L->d, L->lam_A,
                         L->lam_next))
        sh->end = tr->outcome == 1 && tr->end_state ? 2 : 1;
    sh->t = t + 1;
}

/* Block s (slot s), thread tid of T: its trial and step from the last launch, then at most
 * `steps` steps, taking trials from the list as its trials end. The loop is trial_block of
 * src/ffs/ffs_micro_cpu.c for one lane. Every thread of the block calls it. */
MG_FFS_SLOT_FN void mg_ffs_micro_slot_run(const mg_ffs_micro_slot_args *A, long long s,
                                          long long steps, int tid, int T,
                                          mg_ffs_micro_slot_sh *sh, void *ctx)
{
    const mg_ffs_slot_list *L = &A->L;
    /* the slot's rows, [slot][row] (the networks and spike lists are indexed by lane as the
     * core does, with MG_VL, which is 1 on the device) */
    mg_lanes st;
    st.base = L->state + s * L->rows;
    st.ld = 1;
    mg_micro_buf buf;
    buf.spk = A->spk + s * A->spk_elems;
    buf.csr = A->csr;
    double *isi = A->isi + s * A->sum_N;
    const long long net_stride = (long long)A->mm.n_list * MG_VL;
    if (tid == 0) {
        sh->q = L->slot_q[s];
        sh->t = L->slot_t[s];
    }
    MG_FFS_BLOCK_SYNC(ctx);
    if (sh->q >= 0) /* the network of the trial it holds */
        buf.csr = A->csr + (long long)MG_AT(st, A->net_row, 0) * net_stride;
    for (long long k = 0; k < steps;) {
        if (sh->q == MG_FFS_SLOT_DRAINED)
            break;
        if (sh->q == MG_FFS_SLOT_IDLE) {
            MG_FFS_BLOCK_SYNC(ctx); /* every thread has read sh->q */
            if (tid == 0) {
                const long long q = (long long)mg_ffs_slot_count(L->next);
                sh->q = q < L->n ? q : MG_FFS_SLOT_DRAINED;
            }
            MG_FFS_BLOCK_SYNC(ctx);
            if (sh->q == MG_FFS_SLOT_DRAINED)
                break;
            mg_ffs_trial *tr = &L->tr[sh->q];
            const double *x = L->start + sh->q * L->rows;
            buf.csr = A->csr + (long long)x[A->net_row] * net_stride;
            mg_ffs_micro_slot_load(A, st, &buf, x, tr->t0, tid, T, ctx); /* its own frame */
            if (tid == 0) {
                mg_ffs_trial_begin(tr);
                sh->t = 0;
            }
            MG_FFS_BLOCK_SYNC(ctx);
            continue;
        }
        mg_ffs_trial *tr = &L->tr[sh->q];
        const long long t = sh->t;
        const uint32_t real = tr->real;
        if (t >= L->cap) {
            MG_FFS_BLOCK_SYNC(ctx);
            if (tid == 0) {
                tr->end_t = tr->t0 + t; /* outcome -1 */
                mg_ffs_slot_count(L->done);
                sh->q = MG_FFS_SLOT_IDLE;
            }
            MG_FFS_BLOCK_SYNC(ctx);
            continue;
        }
        MG_FFS_MICRO_STEP(&A->mm, st, &buf, t, real, isi, sh->cnt, sh->n, tid, T, ctx);
        MG_FFS_BLOCK_SYNC(ctx);
        if (tid == 0)
            mg_ffs_micro_slot_observe(A, st, tr, t, sh);
        ++k;
        MG_FFS_BLOCK_SYNC(ctx);
        if (sh->end || k == steps) {
            mg_ffs_micro_slot_nan(A, st, sh->q, t, tid, T);
            MG_FFS_BLOCK_SYNC(ctx);
        }
        if (sh->end) {
            if (sh->end == 2)
                mg_ffs_micro_slot_save(A, st, &buf, L->end + sh->q * L->rows, tr->t0, tid, T,
                                       ctx);
            if (tid == 0) { /* the others read sh->q before the save's last barrier */
                mg_ffs_slot_count(L->done);
                sh->q = MG_FFS_SLOT_IDLE;
            }
            MG_FFS_BLOCK_SYNC(ctx);
        }
    }
    MG_FFS_BLOCK_SYNC(ctx);
    if (tid == 0) {
        L->slot_q[s] = sh->q;
        L->slot_t[s] = sh->t;
    }
}

#endif /* MESOGIF_FFS_MICRO_SLOT_H */
