/* kernels/ffs/ffs_micro_cuda.cu: the FFS engine of the micro level on CUDA (src/ffs/ffs_internal.h,
 * docs/SWITCHING.md "Design"), twin of src/ffs/ffs_micro_cpu.c.
 *
 * Trials: one per CUDA block of FFS_MICRO_THREADS threads (a slot). The block takes the next
 * trial of the call's list from an atomic counter and loads its stored state into its rows in
 * the CPU engine's time frame: the trial runs at steps t = 0, 1, ... counted from its start,
 * so the refractory rows move by -t0 and the spike history and the spike lists (kept in the park
 * rows of a stored state) from slot (t0 + t) mod H to t mod H (src/ffs/ffs_micro_frame.h, the
 * CPU engine's functions over the block's threads); its uniforms are Philox(trial index,
 * block, t), the CPU engine's.
 * A step is the decomposition of src/core/micro.h over the block's threads (mg_micro_part_*,
 * as kernels/backend_cuda_micro.cu: delivery, per-population values, neurons in rounds of one
 * Philox block per thread with the spike lists in neuron order by a block prefix sum, the
 * count); then thread 0 adds the counts to the observer and, at the end of a statistics bin
 * (absolute: t0 + t + 1), ends the trial with mg_ffs_trial_bin (src/ffs/ffs_internal.h, the
 * CPU engine's). A success's state goes back to absolute time (save_trial = lane_save) into
 * the device end buffer; then the block takes the next trial. Each trial reads the network of
 * its basin run (the state's last dynamics row): the per-realization networks of basin runs
 * 0 .. R-1 are drawn on the host at setup (mg_micro_build_csr, the CPU engine's) and stay on the
 * device. So a trial's result depends only on its start state, start step and index: the same
 * bits as the CPU engine's lane blocks, in any block and order (tests/test_ffs_cuda.c).
 *
 * Basin runs, init, the derived model: the CPU engine's (mg_ffs_engine_micro_cpu).
 * Unverified on a device until tests/test_ffs_cuda.c has run on one (tools/gpu_check.sh). */
#include <cuda_runtime.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ffs/ffs_internal.h"
#include "engine/job.h" /* mg_job */
#include "engine/micro_derive.h"
#include "ffs/ffs_micro_frame.h" /* mg_ffs_micro_load, _save */
#include "../cuda_check.cuh"  /* MG_CUDA_TRY */
#include "../cuda_common.cuh" /* mg_cu_lane_view */
#include "../cuda_micro_step.cuh" /* mg_cu_micro_step */
#include "../cuda_models.cuh"     /* mg_cu_micro_upload */
#include "ffs_cuda.cuh"       /* mg_ffs_cu_mem, mg_ffs_cu_launched; src/ffs/ffs_slots.h */

#define FFS_MICRO_THREADS 128  /* threads per trial (a multiple of MG_MICRO_WARP) */
#define FFS_MICRO_STEPS 1000   /* steps per block and launch */
#define FFS_MICRO_SLOTS 1024   /* blocks at most (the driver's calls hold at most 1024 trials) */

/* What the device holds from setup to release. */
typedef struct {
    mg_micro_model dm;           /* the network, device pointers */
    mg_cu_model_bufs bufs;
    mg_micro_csr *csr;           /* [R][n_list] the networks of the basin runs */
    int64_t *off;                /* their out-lists */
    uint32_t *tgt;
    uint32_t *spk;               /* [slots][spk_elems] the slots' spike lists */
    double *isi;                 /* [slots][sum N] intervals of a step's spikes */
    long long slots, spk_elems, sum_N, n_net;
} dev_ctx;

/* Everything a launch needs; device pointers. */
typedef struct {
    mg_micro_model mm;
    mg_ffs_lane_cfg lc;
    mg_ffs_slot_list L;
    const mg_micro_csr *csr;
    uint32_t *spk;
    double *isi;
    long long spk_elems, sum_N, n_net;
    int net_row;                 /* the dynamics row that names the network */
} trial_args;

typedef cub::BlockScan<int, FFS_MICRO_THREADS> block_scan; /* its temporary storage */

/* The block's rows st and spike lists <- the stored state x (at step t_x), running at step
 * t_x - shift: src/ffs/ffs_micro_frame.h over the block's threads (lane_load of
 * src/ffs/ffs_micro_cpu.c). */
static __device__ void load_trial(const trial_args *A, mg_lanes st, const mg_micro_buf *buf,
                                  const double *x, long long shift)
{
    for (int phase = 0; phase < MG_FFS_LOAD_PHASES; ++phase) {
        mg_ffs_micro_load(&A->mm, A->L.rows, st, buf, 0, x, shift, phase, threadIdx.x,
                          blockDim.x);
        __syncthreads();
    }
}

/* The stored state x (at step t + shift) <- the block at step t (lane_save). */
static __device__ void save_trial(const trial_args *A, mg_lanes st, const mg_micro_buf *buf,
                                  double *x, long long shift)
{
    for (int phase = 0; phase < MG_FFS_SAVE_PHASES; ++phase) {
        mg_ffs_micro_save(&A->mm, A->L.rows, st, buf, 0, x, shift, phase, threadIdx.x,
                          blockDim.x);
        __syncthreads();
    }
}

/* Thread 0: a NaN potential in the block (a NaN potential never fires again), as the CPU
 * engine's nan_check; recorded as the call's fault. */
static __device__ void nan_check(const trial_args *A, mg_ffs_slot_list *L, mg_lanes st,
                                 uint32_t real, long long t)
{
    for (int a = 0; a < A->mm.P; ++a) {
        const mg_micro_pop *pp = &A->mm.pop[a];
        for (long long i = threadIdx.x; i < pp->N; i += blockDim.x)
            if (isnan(MG_AT(st, pp->row_u + i, 0)))
                mg_ffs_slot_fault_note(L, real, a, i, t, 1);
    }
}

/* Block s (slot s): its trial and step from the last launch, then at most `steps` steps,
 * taking trials from the list as its trials end. The loop is trial_block of
 * src/ffs/ffs_micro_cpu.c for one lane; the step is mg_micro_run_kernel's of
 * kernels/backend_cuda_micro.cu. */
__global__ void __launch_bounds__(FFS_MICRO_THREADS)
mg_ffs_micro_trials_kernel(trial_args A, long long steps)
{
    __shared__ typename block_scan::TempStorage scan_tmp;
    __shared__ double n_sh[MG_POP_MAX];
    __shared__ long long cnt_sh[MG_POP_MAX];
    __shared__ long long q_sh, t_sh; /* the slot's trial; its step, counted from its start */
    __shared__ int end_sh;           /* the trial ended: 1, and 2 when its state is kept */
    const long long s = blockIdx.x;
    const int tid = threadIdx.x;
    mg_ffs_slot_list *L = &A.L;
    mg_lanes st = mg_cu_lane_view(L->state, s, L->rows, 1);
    mg_micro_buf buf;
    buf.spk = A.spk + s * A.spk_elems;
    buf.csr = A.csr;
    double *isi = A.isi + s * A.sum_N;
    if (tid == 0) {
        q_sh = L->slot_q[s];
        t_sh = L->slot_t[s];
    }
    __syncthreads();
    if (q_sh >= 0) /* the network of the trial it holds */
        buf.csr = A.csr + (long long)MG_AT(st, A.net_row, 0) * A.mm.n_list;
    for (long long k = 0; k < steps;) {
        if (q_sh == MG_FFS_SLOT_DRAINED)
            break;
        if (q_sh == MG_FFS_SLOT_IDLE) {
            __syncthreads(); /* every thread has read q_sh */
            if (tid == 0) {
                const long long q = (long long)mg_ffs_slot_count(L->next);
                q_sh = q < L->n ? q : MG_FFS_SLOT_DRAINED;
            }
            __syncthreads();
            if (q_sh == MG_FFS_SLOT_DRAINED)
                break;
            mg_ffs_trial *tr = &L->tr[q_sh];
            const double *x = L->start + q_sh * L->rows;
            buf.csr = A.csr + (long long)x[A.net_row] * A.mm.n_list;
            load_trial(&A, st, &buf, x, tr->t0); /* the trial's own time frame */
            if (tid == 0) {
                mg_ffs_trial_begin(tr);
                t_sh = 0;
            }
            __syncthreads();
            continue;
        }
        mg_ffs_trial *tr = &L->tr[q_sh];
        const long long t = t_sh;
        const uint32_t real = tr->real;
        if (t >= L->cap) {
            __syncthreads();
            if (tid == 0) {
                tr->end_t = tr->t0 + t; /* outcome -1 */
                mg_ffs_slot_count(L->done);
                q_sh = MG_FFS_SLOT_IDLE;
            }
            __syncthreads();
            continue;
        }
        mg_cu_micro_step<FFS_MICRO_THREADS>(&A.mm, st, &buf, t, real, isi, scan_tmp, cnt_sh,
                                            n_sh);
        __syncthreads();
        /* E: the observer and the end of a bin (absolute bins: the stored state's) */
        if (tid == 0) {
            mg_ffs_obs_add(&A.lc, st, n_sh);
            const long long t_next = tr->t0 + t + 1;
            end_sh = 0;
            if (t_next % A.lc.st_L == 0 &&
                mg_ffs_trial_bin(&A.lc, tr, st, t_next / A.lc.st_L - 1, t_next, L->d, L->lam_A,
                                 L->lam_next))
                end_sh = tr->outcome == 1 && tr->end_state ? 2 : 1;
            t_sh = t + 1;
        }
        ++k;
        __syncthreads();
        if (end_sh || k == steps) {
            nan_check(&A, L, st, real, t);
            __syncthreads();
        }
        if (end_sh) {
            if (end_sh == 2)
                save_trial(&A, st, &buf, L->end + q_sh * L->rows, tr->t0);
            if (tid == 0) {
                mg_ffs_slot_count(L->done);
                q_sh = MG_FFS_SLOT_IDLE;
            }
            __syncthreads();
        }
    }
    __syncthreads();
    if (tid == 0) {
        L->slot_q[s] = q_sh;
        L->slot_t[s] = t_sh;
    }
}

static int launch(void *ctx, long long slots, long long steps, mg_err *err)
{
    mg_ffs_micro_trials_kernel<<<(unsigned)slots, FFS_MICRO_THREADS>>>(*(const trial_args *)ctx,
                                                                      steps);
    return mg_ffs_cu_launched(err);
}

/* A launch's arguments but the list: the network and the slots' buffers of setup. */
static trial_args args_of(const mg_ffs_job *J)
{
    const dev_ctx *D = (const dev_ctx *)J->dev;
    trial_args A;
    memset(&A, 0, sizeof A);
    A.mm = D->dm;
    A.lc = J->lc;
    A.csr = D->csr;
    A.spk = D->spk;
    A.isi = D->isi;
    A.spk_elems = D->spk_elems;
    A.sum_N = D->sum_N;
    A.n_net = D->n_net;
    A.net_row = J->dyn_rows - 1;
    return A;
}

static int engine_trials(mg_ffs_job *J, mg_ffs_trial *tr, int n, int d, double lam_A,
                         double lam_next, mg_err *err)
{
    trial_args A = args_of(J);
    const mg_ffs_slot_run R = {&mg_ffs_cu_mem, launch, &A, &A.L, FFS_MICRO_STEPS,
                               ((const dev_ctx *)J->dev)->slots, mg_ffs_micro_fault_msg};
    return mg_ffs_slot_trials(J, &R, tr, n, d, lam_A, lam_next, err);
}

/* The networks of basin runs 0 .. n_net - 1 (the only networks a trial reads: a stored state
 * descends from one of them), drawn on the host as the CPU engine draws them, to the device. */
static int upload_networks(const mg_micro_derived *d, dev_ctx *D, mg_err *err)
{
    const int n_list = d->mm.n_list;
    const long long nc = D->n_net * n_list;
    int rc = MG_OK;
    long long n_off = 0, n_tgt = 0;
    mg_micro_csr *h_csr = NULL;
    mg_micro_scratch sc;
    int have_sc = 0;
    mg_micro_csr_store *store = (mg_micro_csr_store *)calloc((size_t)(nc > 0 ? nc : 1),
                                                             sizeof *store);
    if (!store)
        return mg_err_set(err, MG_ENOMEM, "out of memory for the networks");
    if (nc == 0)
        goto out;
    h_csr = (mg_micro_csr *)malloc((size_t)nc * sizeof *h_csr);
    if (!h_csr || mg_micro_scratch_alloc(d, &sc) != MG_OK) {
        rc = mg_err_set(err, MG_ENOMEM, "out of memory for the networks");
        goto out;
    }
    have_sc = 1;
    for (long long k = 0; k < nc && rc == MG_OK; ++k)
        rc = mg_micro_build_csr(d, (int)(k % n_list), (uint32_t)(k / n_list), 0, &store[k], &sc,
                                err);
    if (rc != MG_OK)
        goto out;
    for (long long k = 0; k < nc; ++k) {
        const long long ns = d->conn[k % n_list].N_src;
        n_off += ns + 1;
        n_tgt += store[k].off[ns];
    }
    MG_CUDA_TRY(cudaMalloc((void **)&D->off, (size_t)n_off * sizeof(int64_t)));
    MG_CUDA_TRY(cudaMalloc((void **)&D->tgt, (size_t)(n_tgt > 0 ? n_tgt : 1) * sizeof(uint32_t)));
    n_off = n_tgt = 0;
    for (long long k = 0; k < nc; ++k) {
        const long long ns = d->conn[k % n_list].N_src, m = store[k].off[ns];
        MG_CUDA_TRY(cudaMemcpy(D->off + n_off, store[k].off, (size_t)(ns + 1) * sizeof(int64_t),
                               cudaMemcpyHostToDevice));
        if (m > 0)
            MG_CUDA_TRY(cudaMemcpy(D->tgt + n_tgt, store[k].tgt, (size_t)m * sizeof(uint32_t),
                                   cudaMemcpyHostToDevice));
        h_csr[k].off = D->off + n_off;
        h_csr[k].tgt = D->tgt + n_tgt;
        n_off += ns + 1;
        n_tgt += m;
    }
    MG_CUDA_TRY(mg_cu_to_device((void **)&D->csr, h_csr, (size_t)nc * sizeof *h_csr));
out:
    for (long long k = 0; k < nc; ++k)
        mg_micro_csr_free(&store[k]);
    free(store);
    free(h_csr);
    if (have_sc)
        mg_micro_scratch_free(&sc);
    return rc;
}

static void engine_release(mg_ffs_job *J)
{
    dev_ctx *D = (dev_ctx *)J->dev;
    if (D) {
        mg_cu_model_free(&D->bufs);
        cudaFree(D->csr);
        cudaFree(D->off);
        cudaFree(D->tgt);
        cudaFree(D->spk);
        cudaFree(D->isi);
        free(D);
    }
    J->dev = NULL;
    mg_ffs_engine_micro_cpu.release(J);
}

static int engine_setup(mg_ffs_job *J, mg_err *err)
{
    int rc = mg_ffs_engine_micro_cpu.setup(J, err);
    if (rc != MG_OK)
        return rc;
    const mg_micro_derived *d = ((const mg_job *)J->lev)->mi;
    size_t free_b = 0, total_b = 0;
    double per_slot;
    dev_ctx *D = (dev_ctx *)calloc(1, sizeof *D);
    if (!D) {
        rc = mg_err_set(err, MG_ENOMEM, "out of memory");
        goto out;
    }
    J->dev = D;
    D->spk_elems = d->spk_elems > 0 ? d->spk_elems : 1;
    for (int a = 0; a < d->mm.P; ++a)
        D->sum_N += d->mm.pop[a].N;
    D->n_net = J->o.basin_realizations;
    MG_CUDA_TRY(mg_cu_micro_upload(d, &D->dm, &D->bufs));
    rc = upload_networks(d, D, err);
    if (rc != MG_OK)
        goto out;
    /* slots: as many as the driver's calls can use, in half the free memory (the rows of the
     * slots, their spike lists and intervals; the call's start and end states besides) */
    MG_CUDA_TRY(cudaMemGetInfo(&free_b, &total_b));
    per_slot = (double)(J->dyn_rows + 1024) * 8.0 * 3.0 + (double)D->spk_elems * 4.0 +
               (double)D->sum_N * 8.0; /* J->rows is not known yet: the observer's are few */
    D->slots = (long long)(0.5 * (double)free_b / per_slot);
    D->slots = D->slots < FFS_MICRO_SLOTS ? D->slots : FFS_MICRO_SLOTS;
    if (D->slots < 1) {
        rc = mg_err_set(err, MG_ENOMEM, "CUDA: one micro trial needs %.3g MB, the device has "
                        "%.3g MB free", per_slot / 1e6, (double)free_b / 1e6);
        goto out;
    }
    MG_CUDA_TRY(cudaMalloc((void **)&D->spk, (size_t)(D->slots * D->spk_elems) * sizeof(uint32_t)));
    MG_CUDA_TRY(cudaMalloc((void **)&D->isi, (size_t)(D->slots * D->sum_N) * sizeof(double)));
out:
    return rc; /* on failure the driver calls release */
}

/* init and basin: the CPU engine's (a constant of a C file, so it is initialized before this
 * table, which C++ initializes at load time) */
extern "C" const mg_ffs_engine mg_ffs_engine_micro_cuda = {
    "cuda", MG_LEVEL_MICRO, engine_setup, engine_release, mg_ffs_engine_micro_cpu.init,
    mg_ffs_engine_micro_cpu.basin, engine_trials};
