/* tests/test_ffs_slots.c: the slots' trials call of the FFS CUDA engines (src/ffs/ffs_slots.h),
 * emulated on the host, against the CPU engine (src/ffs/ffs_meso_cpu.c). Every build.
 *
 * The emulation runs what the meso CUDA engine runs, compiled for the host: the host side of
 * the call (src/ffs/ffs_slots.c: the list, the launches, the cancel and fault checks, the
 * results back) over host memory, and at each launch every slot's loop (src/ffs/ffs_meso_slot.h,
 * the kernel's body) one after another, in an order that changes from launch to launch (a GPU
 * runs its threads in no fixed order), with few slots and launches of a few dozen steps, so that
 * slots take new trials as theirs end and trials run across launches, ending mid-launch. What
 * is left for a device: the atomics, the kernel launch and the device memory (tests/
 * test_ffs_cuda.c there). The micro engine's slot is a CUDA block whose threads share its
 * step (kernels/ffs/ffs_micro_cuda.cu); its parts have host tests of their own (the step
 * decomposed over threads: tests/test_micro_split.c; its time frame: tests/test_ffs_cuda.c).
 *
 * Checks, all exact (nothing here is statistical):
 * - 21 trials from two basin states (some skipped) on 1, 3 and 64 slots end as on the CPU
 *   engine, bit for bit: outcome, end step, largest and end lambda, end state; both ends occur;
 * - trials past the trial cap end with outcome -1 at the CPU engine's step;
 * - a NaN in a start state stops the call with the CPU engine's code and message;
 * - a cancel request stops it with MG_EINTR after one launch. */
#include "testutil.h"
#include "ffs_testutil.h"

#include "engine/meso_derive.h"
#include "ffs/ffs_meso_slot.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

/* ---- the emulation ------------------------------------------------------------------------- */

static int host_alloc(void **p, size_t bytes, mg_err *err)
{
    *p = malloc(bytes > 0 ? bytes : 1);
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
static int emu_trials(mg_ffs_job *J, mg_ffs_trial *tr, int n, double lam_A, double lam_next,
                      long long steps, int *launches, mg_err *err)
{
    emu_ctx E = {&((const mg_meso_derived *)J->lev)->mm, &J->lc, {0}, 0};
    const mg_ffs_slot_run R = {&host_mem, emu_launch, &E, &E.L, steps, 1LL << 20,
                               mg_ffs_meso_fault_msg};
    int rc = mg_ffs_slot_trials(J, &R, tr, n, 0, lam_A, lam_next, err);
    *launches = E.launches;
    return rc;
}

/* ---- the checks ------------------------------------------------------------------------------ */

#define N_TR 21

typedef struct {
    mg_model m;
    mg_ffs_opts o;
    mg_ffs_job J;
    const mg_ffs_engine *E;
    int rows;
    double *x1, *x2;             /* basin run 3 at steps 2020 and 4040 */
    double lam_A, lam_next;      /* 2 Hz around both states: both ends occur */
    double *ends;                /* [2][N_TR][rows] end states: CPU, emulation */
} fixture;

static void fixture_begin(fixture *F)
{
    mg_test_model(NULL, &F->m); /* B1, N = 500 */
    mg_test_ffs_meso_opts(&F->o, 1);
    F->E = mg_test_ffs_job_begin(&F->J, &F->m, &F->o, MG_BACKEND_CPU);
    F->rows = F->J.rows;
    F->x1 = calloc((size_t)F->rows * (2 + 2 * N_TR), sizeof(double));
    ck_assert_ptr_nonnull(F->x1);
    F->x2 = F->x1 + F->rows;
    F->ends = F->x2 + F->rows;
    mg_test_ffs_basin_state(&F->J, F->E, F->x1, 2020);
    mg_test_ffs_basin_state(&F->J, F->E, F->x2, 4040);
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
 * skipped; copy `which` (0: CPU, 1: emulation) of the end states. */
static void trials_fill(fixture *F, mg_ffs_trial *tr, int which)
{
    for (int k = 0; k < N_TR; ++k) {
        memset(&tr[k], 0, sizeof tr[k]);
        tr[k].start = k % 2 ? F->x2 : F->x1;
        tr[k].t0 = k % 2 ? 4040 : 2020;
        tr[k].real = 0x80000300u + (uint32_t)k;
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

START_TEST(test_slots_match_cpu)
{
    fixture F;
    fixture_begin(&F);
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
    const int slots[3] = {1, 3, 64};
    for (int v = 0; v < 3; ++v) {
        F.J.dev_slots = slots[v];
        trials_fill(&F, te, 1);
        int launches = 0, same = 0;
        ck_assert_msg(emu_trials(&F.J, te, N_TR, F.lam_A, F.lam_next, 37, &launches, &err) ==
                      MG_OK, "%s", err.msg);
        for (int k = 0; k < N_TR; ++k)
            same += te[k].skip || same_trial(&F, &tc[k], &te[k]);
        printf("%d slots, %d launches of 37 steps: %d of %d trials as on the CPU engine "
               "(%d successes, %d failures)\n", slots[v], launches, same, N_TR, succ, fail);
        ck_assert_int_eq(same, N_TR);
        ck_assert_int_gt(launches, 2); /* trials ran across launches */
        for (int k = 0; k < N_TR; ++k)
            if (te[k].skip) /* skipped trials are left alone */
                ck_assert_int_eq(te[k].outcome, 0);
    }
    fixture_end(&F);
}
END_TEST

START_TEST(test_slots_trial_cap)
{
    fixture F;
    fixture_begin(&F);
    mg_err err = {{0}};
    mg_ffs_trial tc[N_TR], te[N_TR];
    F.J.trial_cap_steps = 150; /* shorter than any trial here (the rings fill after 7 bins) */
    F.J.dev_slots = 4;
    trials_fill(&F, tc, 0);
    trials_fill(&F, te, 1);
    int launches = 0;
    ck_assert_msg(F.E->trials(&F.J, tc, N_TR, 0, F.lam_A - 50.0, F.lam_next + 50.0, &err) ==
                  MG_OK, "%s", err.msg);
    ck_assert_msg(emu_trials(&F.J, te, N_TR, F.lam_A - 50.0, F.lam_next + 50.0, 37, &launches,
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
END_TEST

START_TEST(test_slots_fault_and_cancel)
{
    fixture F;
    fixture_begin(&F);
    const mg_meso_model *mm = &((const mg_meso_derived *)F.J.lev)->mm;
    mg_err ec = {{0}}, ee = {{0}};
    mg_ffs_trial tc[N_TR], te[N_TR];
    /* trial 2 starts with a NaN in population 1's free pool: its first expected count is NaN */
    double *bad = malloc((size_t)F.rows * sizeof(double));
    ck_assert_ptr_nonnull(bad);
    memcpy(bad, F.x1, (size_t)F.rows * sizeof(double));
    bad[mm->pop[1].row_x] = NAN;
    trials_fill(&F, tc, 0);
    trials_fill(&F, te, 1);
    tc[2].start = te[2].start = bad;
    F.J.dev_slots = 3;
    int launches = 0;
    const int rc_c = F.E->trials(&F.J, tc, N_TR, 0, F.lam_A, F.lam_next, &ec);
    const int rc_e = emu_trials(&F.J, te, N_TR, F.lam_A, F.lam_next, 37, &launches, &ee);
    printf("NaN: cpu rc %d \"%s\"; emulation rc %d after %d launch(es)\n", rc_c, ec.msg, rc_e,
           launches);
    ck_assert_int_eq(rc_c, MG_ENUM);
    ck_assert_int_eq(rc_e, MG_ENUM);
    ck_assert_str_eq(ee.msg, ec.msg);
    ck_assert_ptr_nonnull(strstr(ee.msg, "realization 2147484418")); /* 0x80000302 */
    ck_assert_int_eq(launches, 1);
    /* a cancel request: the call stops after its first launch */
    volatile int stop = 1;
    F.J.o.cancel = &stop;
    trials_fill(&F, te, 1);
    ck_assert_int_eq(emu_trials(&F.J, te, N_TR, F.lam_A, F.lam_next, 37, &launches, &ee),
                     MG_EINTR);
    ck_assert_int_eq(launches, 1);
    free(bad);
    fixture_end(&F);
}
END_TEST

MG_TEST_SUITE(ffs_slots,
              MG_TCASE("emulation", 120, test_slots_match_cpu, test_slots_trial_cap,
                       test_slots_fault_and_cancel))
