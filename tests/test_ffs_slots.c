/* tests/test_ffs_slots.c: the slots' trials calls of the FFS CUDA engines (src/ffs/ffs_slots.h),
 * emulated on the host, against the CPU engines (src/ffs/ffs_meso_cpu.c, ffs_micro_cpu.c).
 * Every build.
 *
 * The emulation runs what the CUDA engines run, compiled for the host: the host side of the call
 * (src/ffs/ffs_slots.c: the list, the launches, the cancel and fault checks, the results back)
 * over host memory, and at each launch the slots one after another, in an order that changes
 * from launch to launch (a GPU runs its blocks in no fixed order), with few slots and launches
 * of 37 steps, so that slots take new trials as theirs end and trials run across launches and
 * end mid-launch:
 * - meso: a slot is the kernel's thread, the loop of src/ffs/ffs_meso_slot.h;
 * - micro: a slot is the kernel's block, src/ffs/ffs_micro_slot.h run by EMU_T = 64 POSIX
 *   threads with a pthread barrier for __syncthreads, and the step of kernels/cuda_micro_step.cuh
 *   made of the same core calls (its prefix sum over the threads written out; the delivery on
 *   one thread, see emu_micro_step). The host's core functions advance MG_VL lanes, so an
 *   emulated slot is a lane block whose lane 0 runs the trial.
 * What is left for a device: the atomics, the launches, CUB's scan, the device memory (tests/
 * test_ffs_cuda.c there, and tools/gpu_sanitize.sh for races).
 *
 * Checks, all exact (nothing here is statistical):
 * - 21 trials from two basin states (some skipped; micro: three from a state expressed 100
 *   steps later) end as on the CPU engine, bit for bit: outcome, end step, largest and end
 *   lambda, end state; both ends occur (meso on 1, 3 and 64 slots; micro on 1 and 3);
 * - trials past the trial cap end with outcome -1 at the CPU engine's step;
 * - a NaN in a start state stops the call with the CPU engine's error;
 * - a cancel request stops it with MG_EINTR after one launch.
 * Mutations seen to fail: a slot's step not kept between launches, a trial loaded in the wrong
 * time frame, a success's state not saved, the results mapped past skipped trials. */
#include "testutil.h"
#include "ffs_testutil.h"

#include "engine/job.h" /* mg_job */
#include "engine/meso_derive.h"
#include "engine/micro_derive.h"
#include "ffs/ffs_meso_slot.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

/* ---- the emulation -------------------------------------------------------------------------- */

static int host_alloc(void **p, size_t bytes, mg_err *err)
{
    *p = calloc(1, bytes > 0 ? bytes : 1);
    return *p ? MG_OK : mg_err_set(err, MG_ENOMEM, "out of memory");
}

static int host_copy(void *dst, const void *src, size_t bytes, mg_err *err)
{
    (void)err;
    memcpy(dst, src, bytes);
    return MG_OK;
}

static int host_fill(void *dst, int byte, size_t bytes, mg_err *err)
{
    (void)err;
    memset(dst, byte, bytes);
    return MG_OK;
}

static const mg_ffs_slot_mem host_mem = {host_alloc, free, host_copy, host_copy, host_fill};

typedef struct {
    const mg_meso_model *mm;
    const mg_ffs_lane_cfg *lc;
    mg_ffs_slot_list L;
    int launches;
} emu_ctx;

/* A launch: every slot's loop, in reverse order on odd launches and rotated by the launch
 * count on even ones. */
static int emu_launch(void *ctx, long long slots, long long steps, mg_err *err)
{
    (void)err;
    emu_ctx *E = ctx;
    for (long long k = 0; k < slots; ++k) {
        const long long s = E->launches % 2 ? slots - 1 - k : (k + E->launches) % slots;
        mg_ffs_meso_slot_run(E->mm, E->lc, &E->L, s, steps);
    }
    ++E->launches;
    return MG_OK;
}

/* The trials call of the emulation, launches of `steps` steps (the CUDA engine's call but
 * those); the launch count to *launches. */
static int emu_meso_trials(mg_ffs_job *J, mg_ffs_trial *tr, int n, double lam_A,
                           double lam_next, long long steps, int *launches, mg_err *err)
{
    emu_ctx E = {&((const mg_meso_derived *)J->lev)->mm, &J->lc, {0}, 0};
    const mg_ffs_slot_run R = {&host_mem, emu_launch, &E, &E.L, steps, 1LL << 20,
                               mg_ffs_meso_fault_msg, 1};
    int rc = mg_ffs_slot_trials(J, &R, tr, n, 0, lam_A, lam_next, err);
    *launches = E.launches;
    return rc;
}

/* ---- the micro level: a block of EMU_T POSIX threads ---------------------------------------- */

#define EMU_T 64 /* threads of an emulated block: two warps, so that phase D spreads */

typedef struct {
    pthread_barrier_t bar;
    int count[EMU_T];            /* the threads' spike counts of a round, for the prefix sum */
} emu_block;

static void emu_sync(void *ctx)
{
    pthread_barrier_wait(&((emu_block *)ctx)->bar);
}

/* Step t of the block's realization, the calls of kernels/cuda_micro_step.cuh with this
 * block's barrier; the exclusive prefix sum over the threads (CUB's BlockScan there) from the
 * counts in ctx. */
static void emu_micro_step(const mg_micro_model *mm, mg_lanes st, const mg_micro_buf *buf,
                           int64_t t, uint32_t real, double *isi, long long *cnt_sh,
                           double *n_sh, int tid, int T, void *ctx)
{
    emu_block *B = ctx;
    /* delivery: every thread's share, on thread 0 in a scrambled order (the device's threads
     * add 1.0 with atomicAdd, in any order with the same sums; the host's add is a plain +=,
     * which concurrent threads would lose) */
    if (tid == 0)
        for (int k = 0; k < T; ++k)
            mg_micro_part_deliver(mm, st, buf, t, 1, (37 * k + 11) % T, T);
    emu_sync(B);
    if (tid == 0)
        for (int a = 0; a < mm->P; ++a)
            mg_micro_update_pre(mm, a, st, t, real);
    emu_sync(B);
    long long isi_off = 0;
    for (int a = 0; a < mm->P; ++a) {
        const long long nb = mg_micro_blocks(&mm->pop[a]);
        long long cnt = 0;
        for (long long b0 = 0; b0 < nb; b0 += T) {
            mg_micro_sink sk;
            mg_micro_part_neurons(mm, a, st, buf, t, real, b0 + tid, &sk);
            B->count[tid] = sk.n[0];
            emu_sync(B);
            int off = 0, total = 0;
            for (int u = 0; u < T; ++u) {
                off += u < tid ? B->count[u] : 0;
                total += B->count[u];
            }
            mg_micro_sink_flush(mm, a, buf, t, 0, &sk, cnt + off, isi + isi_off);
            cnt += total;
            emu_sync(B); /* count is reused */
        }
        if (tid == 0)
            cnt_sh[a] = cnt;
        isi_off += mm->pop[a].N;
    }
    emu_sync(B);
    isi_off = 0;
    for (int a = 0; a < mm->P; ++a) {
        if (tid == (a * MG_MICRO_WARP) % T)
            mg_micro_finish(mm, a, st, t, 0, cnt_sh[a], isi + isi_off, &n_sh[a]);
        isi_off += mm->pop[a].N;
    }
}

#define MG_FFS_SLOT_FN static inline
#define MG_FFS_BLOCK_SYNC(ctx) emu_sync(ctx)
#define MG_FFS_MICRO_STEP(mm, st, buf, t, real, isi, cnt, n, tid, T, ctx)                     \
    emu_micro_step(mm, st, buf, t, real, isi, cnt, n, tid, T, ctx)
#include "ffs/ffs_micro_slot.h"

typedef struct {
    mg_ffs_micro_slot_args A;    /* the network, the slots' buffers; A.L the call's list */
    mg_ffs_micro_slot_sh sh;     /* the block's shared state */
    emu_block block;
    long long slots, steps;
    int launches;
} emu_micro_ctx;

typedef struct {
    emu_micro_ctx *C;
    int tid;
} emu_thread;

/* Thread tid of the block: every slot in the launch's order, one block after another. */
static void *emu_micro_thread(void *p)
{
    const emu_thread *th = p;
    emu_micro_ctx *C = th->C;
    for (long long k = 0; k < C->slots; ++k) {
        const long long s = C->launches % 2 ? C->slots - 1 - k : (k + C->launches) % C->slots;
        mg_ffs_micro_slot_run(&C->A, s, C->steps, th->tid, EMU_T, &C->sh, &C->block);
    }
    return NULL;
}

static int emu_micro_launch(void *ctx, long long slots, long long steps, mg_err *err)
{
    emu_micro_ctx *C = ctx;
    pthread_t th[EMU_T];
    emu_thread arg[EMU_T];
    C->slots = slots;
    C->steps = steps;
    for (int i = 0; i < EMU_T; ++i) {
        arg[i] = (emu_thread){C, i};
        if (pthread_create(&th[i], NULL, emu_micro_thread, &arg[i]) != 0)
            ck_abort_msg("pthread_create failed");
    }
    for (int i = 0; i < EMU_T; ++i)
        pthread_join(th[i], NULL);
    ++C->launches;
    (void)err;
    return MG_OK;
}

/* The trials call of the micro emulation on at most J->dev_slots slots (the CUDA engine's
 * setup and call but the memory and the launches). */
static int emu_micro_trials(mg_ffs_job *J, mg_ffs_trial *tr, int n, double lam_A,
                            double lam_next, long long steps, int *launches, mg_err *err)
{
    const mg_micro_derived *d = ((const mg_job *)J->lev)->mi;
    const long long n_net = J->o.basin_realizations, nc = n_net * d->mm.n_list;
    const long long slots = J->dev_slots;
    emu_micro_ctx *C = calloc(1, sizeof *C);
    mg_micro_csr_store *store = NULL;
    mg_micro_csr *csr = calloc((size_t)(nc > 0 ? nc : 1) * MG_VL, sizeof *csr);
    ck_assert(C && csr && slots > 0);
    ck_assert_int_eq(mg_ffs_micro_networks(d, n_net, &store, err), MG_OK);
    for (long long k = 0; k < nc; ++k) /* lane 0 of [run][list][MG_VL] */
        csr[k * MG_VL] = (mg_micro_csr){store[k].off, store[k].tgt};
    C->A.mm = d->mm;
    C->A.lc = J->lc;
    C->A.csr = csr;
    C->A.spk_elems = (d->spk_elems > 0 ? d->spk_elems : 1) * MG_VL; /* a lane block's */
    for (int a = 0; a < d->mm.P; ++a)
        C->A.sum_N += d->mm.pop[a].N;
    C->A.n_net = n_net;
    C->A.net_row = J->dyn_rows - 1;
    C->A.spk = calloc((size_t)(slots * C->A.spk_elems), sizeof(uint32_t));
    C->A.isi = calloc((size_t)(slots * C->A.sum_N), sizeof(double));
    ck_assert(C->A.spk && C->A.isi);
    ck_assert_int_eq(pthread_barrier_init(&C->block.bar, NULL, EMU_T), 0);
    const mg_ffs_slot_run R = {&host_mem, emu_micro_launch, C, &C->A.L, steps, slots,
                               mg_ffs_micro_fault_msg, MG_VL};
    int rc = mg_ffs_slot_trials(J, &R, tr, n, 0, lam_A, lam_next, err);
    *launches = C->launches;
    pthread_barrier_destroy(&C->block.bar);
    mg_ffs_micro_networks_free(store, nc);
    free(csr);
    free(C->A.spk);
    free(C->A.isi);
    free(C);
    return rc;
}

/* ---- the checks ----------------------------------------------------------------------------- */

#define N_TR 21

typedef struct {
    mg_model m;
    mg_ffs_opts o;
    mg_ffs_job J;
    const mg_ffs_engine *E;
    int rows;
    double *x1, *x2;             /* basin run 3 at steps 2020 and 4040 */
    double *x3;                  /* micro: x1 expressed 100 steps later (its own time frame) */
    double lam_A, lam_next;      /* 2 Hz around both states: both ends occur */
    double *ends;                /* [2][N_TR][rows] end states: CPU, emulation */
} fixture;

/* The small estimate's model and options of the level (tests/ffs_testutil.h) on the CPU
 * engine, and two states of its basin run 3. */
static void fixture_begin(fixture *F, mg_level level)
{
    if (level == MG_LEVEL_MICRO) {
        mg_test_ffs_micro_model(&F->m); /* delays and a random network: the time frame counts */
        mg_test_ffs_micro_opts(&F->o, 1, 0);
    } else {
        mg_test_model(NULL, &F->m); /* B1, N = 500 */
        mg_test_ffs_meso_opts(&F->o, 1);
    }
    F->E = mg_test_ffs_job_begin(&F->J, &F->m, &F->o, MG_BACKEND_CPU);
    F->rows = F->J.rows;
    F->x1 = calloc((size_t)F->rows * (3 + 2 * N_TR), sizeof(double));
    ck_assert_ptr_nonnull(F->x1);
    F->x2 = F->x1 + F->rows;
    F->x3 = F->x2 + F->rows;
    F->ends = F->x3 + F->rows;
    mg_test_ffs_basin_state(&F->J, F->E, F->x1, 2020);
    mg_test_ffs_basin_state(&F->J, F->E, F->x2, 4040);
    if (level == MG_LEVEL_MICRO)
        mg_test_ffs_shift_state(&((mg_job *)F->J.lev)->mi->mm, F->x1, F->x3, F->rows, 100);
    const double d1 = mg_test_ffs_ds(&F->J, F->x1), d2 = mg_test_ffs_ds(&F->J, F->x2);
    F->lam_A = fmin(d1, d2) - 2.0;
    F->lam_next = fmax(d1, d2) + 2.0;
}

static void fixture_end(fixture *F)
{
    free(F->x1);
    F->E->release(&F->J);
    mg_model_free(&F->m);
}

/* Trials k = 0 .. N_TR-1 from x1 and x2 alternately, indices 0x80000300 + k, every fifth one
 * skipped, and at the micro level every seventh (k = 6, 13, 20) from x3 with the index of
 * trial k - 6; copy `which` (0: CPU, 1: emulation) of the end states. */
static void trials_fill(fixture *F, mg_ffs_trial *tr, int which)
{
    const int micro = F->o.level == MG_LEVEL_MICRO;
    for (int k = 0; k < N_TR; ++k) {
        memset(&tr[k], 0, sizeof tr[k]);
        const int later = micro && k % 7 == 6;
        tr[k].start = later ? F->x3 : k % 2 ? F->x2 : F->x1;
        tr[k].t0 = later ? 2120 : k % 2 ? 4040 : 2020;
        tr[k].real = 0x80000300u + (uint32_t)(later ? k - 6 : k);
        tr[k].skip = k % 5 == 4;
        tr[k].end_state = F->ends + (size_t)(which * N_TR + k) * F->rows;
    }
}

/* Trial a (CPU) and b (emulation) ended alike, bit for bit. */
static int same_trial(const fixture *F, const mg_ffs_trial *a, const mg_ffs_trial *b)
{
    int ok = a->outcome == b->outcome && a->end_t == b->end_t &&
             memcmp(&a->max_lam, &b->max_lam, sizeof(double)) == 0 &&
             memcmp(&a->end_lam, &b->end_lam, sizeof(double)) == 0;
    if (ok && a->outcome == 1)
        ok = memcmp(a->end_state, b->end_state, (size_t)F->rows * sizeof(double)) == 0;
    return ok;
}

/* The emulated engine of J's level: at most J->dev_slots slots, launches of 37 steps. */
static int emu_trials(mg_ffs_job *J, mg_ffs_trial *tr, int n, double lam_A, double lam_next,
                      int *launches, mg_err *err)
{
    return J->o.level == MG_LEVEL_MICRO
               ? emu_micro_trials(J, tr, n, lam_A, lam_next, 37, launches, err)
               : emu_meso_trials(J, tr, n, lam_A, lam_next, 37, launches, err);
}

/* The N_TR trials on the CPU engine, then emulated on each slot count of slots[0 .. n_v):
 * alike, bit for bit; both ends occur. */
static void match_cpu(mg_level level, const int *slots, int n_v)
{
    fixture F;
    fixture_begin(&F, level);
    mg_err err = {{0}};
    mg_ffs_trial tc[N_TR], te[N_TR];
    trials_fill(&F, tc, 0);
    ck_assert_msg(F.E->trials(&F.J, tc, N_TR, 0, F.lam_A, F.lam_next, &err) == MG_OK, "%s",
                  err.msg);
    int succ = 0, fail = 0;
    for (int k = 0; k < N_TR; ++k)
        if (!tc[k].skip) {
            succ += tc[k].outcome == 1;
            fail += tc[k].outcome == 0;
        }
    ck_assert_msg(succ > 0 && fail > 0, "%d successes, %d failures: both ends must occur", succ,
                  fail);
    for (int v = 0; v < n_v; ++v) {
        F.J.dev_slots = slots[v];
        trials_fill(&F, te, 1);
        int launches = 0, same = 0;
        ck_assert_msg(emu_trials(&F.J, te, N_TR, F.lam_A, F.lam_next, &launches, &err) ==
                      MG_OK, "%s", err.msg);
        for (int k = 0; k < N_TR; ++k)
            same += te[k].skip || same_trial(&F, &tc[k], &te[k]);
        printf("%s: %d slots, %d launches of 37 steps: %d of %d trials as on the CPU engine "
               "(%d successes, %d failures)\n", mg_level_name(level), slots[v], launches, same,
               N_TR, succ, fail);
        ck_assert_int_eq(same, N_TR);
        ck_assert_int_gt(launches, 2); /* trials ran across launches */
        for (int k = 0; k < N_TR; ++k)
            if (te[k].skip) /* skipped trials are left alone */
                ck_assert_int_eq(te[k].outcome, 0);
    }
    fixture_end(&F);
}

START_TEST(test_meso_slots_match_cpu)
{
    const int slots[3] = {1, 3, 64};
    match_cpu(MG_LEVEL_MESO, slots, 3);
}
END_TEST

START_TEST(test_micro_slots_match_cpu)
{
    const int slots[2] = {1, 3};
    match_cpu(MG_LEVEL_MICRO, slots, 2);
}
END_TEST

/* Trials past a cap of 150 steps (shorter than any trial with the interfaces 50 Hz further
 * out) end with outcome -1 at step t0 + 150 on both. */
static void trial_cap(mg_level level)
{
    fixture F;
    fixture_begin(&F, level);
    mg_err err = {{0}};
    mg_ffs_trial tc[N_TR], te[N_TR];
    F.J.trial_cap_steps = 150;
    F.J.dev_slots = 4;
    trials_fill(&F, tc, 0);
    trials_fill(&F, te, 1);
    int launches = 0;
    ck_assert_msg(F.E->trials(&F.J, tc, N_TR, 0, F.lam_A - 50.0, F.lam_next + 50.0, &err) ==
                  MG_OK, "%s", err.msg);
    ck_assert_msg(emu_trials(&F.J, te, N_TR, F.lam_A - 50.0, F.lam_next + 50.0, &launches,
                             &err) == MG_OK, "%s", err.msg);
    for (int k = 0; k < N_TR; ++k) {
        if (tc[k].skip)
            continue;
        ck_assert_int_eq(tc[k].outcome, -1);
        ck_assert_int_eq(tc[k].end_t, tc[k].t0 + 150);
        ck_assert(same_trial(&F, &tc[k], &te[k]));
    }
    fixture_end(&F);
}

START_TEST(test_slots_trial_cap)
{
    trial_cap(MG_LEVEL_MESO);
    trial_cap(MG_LEVEL_MICRO);
}
END_TEST

/* A NaN in trial 2's start state (meso: population 1's free pool, so its first expected count
 * is NaN; micro: the potential of neuron 7 of population 0, which then never fires) stops the
 * call with the CPU engine's error (meso: the same message; micro: up to the step, since the
 * two check at different steps); a cancel request stops it after one launch. */
static void fault_and_cancel(mg_level level)
{
    fixture F;
    fixture_begin(&F, level);
    mg_err ec = {{0}}, ee = {{0}};
    mg_ffs_trial tc[N_TR], te[N_TR];
    double *bad = malloc((size_t)F.rows * sizeof(double));
    ck_assert_ptr_nonnull(bad);
    memcpy(bad, F.x1, (size_t)F.rows * sizeof(double));
    if (level == MG_LEVEL_MICRO)
        bad[((mg_job *)F.J.lev)->mi->mm.pop[0].row_u + 7] = NAN;
    else
        bad[((const mg_meso_derived *)F.J.lev)->mm.pop[1].row_x] = NAN;
    trials_fill(&F, tc, 0);
    trials_fill(&F, te, 1);
    tc[2].start = te[2].start = bad;
    F.J.dev_slots = 3;
    int launches = 0;
    const int rc_c = F.E->trials(&F.J, tc, N_TR, 0, F.lam_A, F.lam_next, &ec);
    const int rc_e = emu_trials(&F.J, te, N_TR, F.lam_A, F.lam_next, &launches, &ee);
    printf("%s NaN: cpu rc %d \"%s\"; emulation rc %d after %d launch(es): \"%s\"\n",
           mg_level_name(level), rc_c, ec.msg, rc_e, launches, ee.msg);
    ck_assert_int_eq(rc_c, MG_ENUM);
    ck_assert_int_eq(rc_e, MG_ENUM);
    const char *cut = strstr(ec.msg, ", step ");
    ck_assert_ptr_nonnull(cut);
    ck_assert_msg(strncmp(ee.msg, ec.msg, (size_t)(cut - ec.msg)) == 0, "messages differ");
    if (level == MG_LEVEL_MESO)
        ck_assert_str_eq(ee.msg, ec.msg);
    ck_assert_ptr_nonnull(strstr(ee.msg, "realization 2147484418")); /* 0x80000302 */
    /* a cancel request: the call stops after its first launch */
    volatile int stop = 1;
    F.J.o.cancel = &stop;
    trials_fill(&F, te, 1);
    ck_assert_int_eq(emu_trials(&F.J, te, N_TR, F.lam_A, F.lam_next, &launches, &ee), MG_EINTR);
    ck_assert_int_eq(launches, 1);
    free(bad);
    fixture_end(&F);
}

START_TEST(test_slots_fault_and_cancel)
{
    fault_and_cancel(MG_LEVEL_MESO);
    fault_and_cancel(MG_LEVEL_MICRO);
}
END_TEST

MG_TEST_SUITE(ffs_slots,
              MG_TCASE("meso", 120, test_meso_slots_match_cpu),
              MG_TCASE("micro", 300, test_micro_slots_match_cpu),
              MG_TCASE("both", 300, test_slots_trial_cap, test_slots_fault_and_cancel))
