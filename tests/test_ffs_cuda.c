/* tests/test_ffs_cuda.c: the FFS CUDA engines (kernels/ffs/) against the CPU engines
 * (src/ffs/ffs_meso_cpu.c, src/ffs/ffs_micro_cpu.c).
 *
 * Host (every build): the end of a trial's statistics bin (mg_ffs_trial_bin and
 * mg_ffs_trial_begin of src/ffs/ffs_internal.h, MG_HD: the one definition both kinds of engine
 * run) on a fixed table of bin counts whose observable, hysteresis state and outcome are worked
 * out by hand below; which engine each --backend gets, and --backend cuda refused where no
 * device answers; the micro time frame (src/ffs/ffs_micro_frame.h) split over the 128 threads of
 * a CUDA block, run serially in a scrambled order, against one thread (the CPU engine's).
 * Device (a CUDA build with a device, or test_ffs_cuda_emu: this file linked with the host
 * emulation of tests/cuda_emu/, in every `make test`; otherwise each test prints "skipped: no
 * CUDA device" and passes):
 * - trial by trial: 21 trials from two basin states (every fifth skipped; micro: three from a
 *   state expressed 100 steps later) end as on the CPU engine, bit for bit (outcome, end step,
 *   largest and end lambda, end state), on a few slots in launches of 37 steps (slots take new
 *   trials as theirs end, trials run across launches and end mid-launch) and in the engine's
 *   own launches; both ends occur; a trial from a later-expressed state ends as its twin, in a
 *   state re-expressed alike (the time frame on the device);
 * - trials past the trial cap end with outcome -1 at the CPU engine's step;
 * - a NaN in a start state stops the call with the CPU engine's error; a cancel request stops
 *   it with MG_EINTR after one launch;
 * - the small estimates of tests/test_ffs.c (meso) and tests/test_ffs_micro.c (micro) with
 *   --backend cuda are the CPU engine's bits: rates, intervals, flux, interfaces, per-stage
 *   trials and successes, simulated time.
 * Exact comparisons only: nothing here is statistical. Mutations seen to fail (in the
 * emulation): a slot's step not kept between launches, a trial loaded in the wrong time frame,
 * a success's state not saved, the results mapped past skipped trials. */
#include "testutil.h"
#include "ffs_testutil.h"

#include "engine/job.h" /* mg_job */
#include "engine/meso_derive.h"
#include "engine/micro_derive.h"
#include "ffs/ffs_micro_frame.h" /* mg_ffs_micro_load, _save */
#include "ffs/ffs_state.h" /* mg_ffs_job, the engines, mg_ffs_lane_layout */
#include "mesogif/ffs.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

/* ---- host: the end of a trial's bin on a fixed table ---------------------------------------- */

/* Two populations, D = 0.5 n1 - 0.5 n2 (coef 1, -1; scale 0.5), a moving average of W = 2 bins,
 * thresholds -5, 5; rows: n[2], ring[2], seen, state, then the basin rows. */
static void table_cfg(mg_ffs_lane_cfg *c)
{
    memset(c, 0, sizeof *c);
    c->P = 2;
    c->W = 2;
    c->st_L = 20;
    c->bin_s = 0.01;
    c->coef[0] = 1.0;
    c->coef[1] = -1.0;
    c->st_scale[0] = c->st_scale[1] = 0.5;
    c->lo = -5.0;
    c->hi = 5.0;
    c->row_n = 0;
    c->row_ring = 2;
    c->row_seen = 4;
    c->row_state = 5;
    c->row_count = 6;
    c->row_armed = 8;
    c->row_dstate = 10;
    c->rows = 12;
}

typedef struct {
    int d;
    double lam_A, lam_next;
    int n_bins;
    double n[6][2];              /* counts of each bin */
    int ret[6];                  /* mg_ffs_trial_bin's answer after each bin */
    double state[6];             /* the hysteresis row after each bin */
    int outcome;
    double max_lam, end_lam;     /* end_lam NaN: none */
    int64_t end_t;               /* -1: not set */
} bin_case;

START_TEST(test_trial_bin_table)
{
    const bin_case cases[] = {
        /* from low, success: D = 2, 4, 8; Ds = NaN (ring not full), 3, 6; state -1, -1, 1;
         * lambda 6 > 4 ends it in bin 2: end_t = 3 x 20 */
        {0, -3.0, 4.0, 3, {{4, 0}, {8, 0}, {16, 0}}, {0, 0, 1}, {-1, -1, 1}, 1, 6.0, 6.0, 60},
        /* from high (lambda = -Ds), back in A: D = 0, 0, 2, 2 (n2 = 0); Ds = NaN, 0, 1, 2;
         * lambda = -1 equals lam_A (not below: goes on), -2 < -1 ends it in bin 3, outcome 0,
         * no end lambda; the largest lambda is -0 */
        {1, -1.0, 3.0, 4, {{0, 0}, {0, 0}, {4, 0}, {4, 0}}, {0, 0, 0, 1}, {-1, -1, -1, -1}, 0,
         0.0, NAN, 80},
        /* hysteresis without an end: D = 10, 10, -10, -10; Ds = NaN, 10, 0, -10: state -1, 1,
         * 1 (0 is between the thresholds), 0; lambda never leaves (-100, 100) */
        {0, -100.0, 100.0, 4, {{20, 0}, {20, 0}, {0, 20}, {0, 20}}, {0, 0, 0, 0}, {-1, 1, 1, 0},
         -1, 10.0, NAN, -1},
    };
    mg_ffs_lane_cfg c;
    table_cfg(&c);
    for (size_t k = 0; k < sizeof cases / sizeof *cases; ++k) {
        const bin_case *e = &cases[k];
        double x[12];
        mg_lanes st = {x, 1};
        mg_ffs_obs_init(&c, st);
        mg_ffs_trial tr;
        memset(&tr, 0, sizeof tr);
        tr.end_t = -1;
        mg_ffs_trial_begin(&tr);
        ck_assert(tr.outcome == -1 && isinf(tr.max_lam) && tr.max_lam < 0 && isnan(tr.end_lam));
        for (int b = 0; b < e->n_bins; ++b) {
            mg_ffs_obs_add(&c, st, e->n[b]);
            int r = mg_ffs_trial_bin(&c, &tr, st, b, (int64_t)(b + 1) * c.st_L, e->d, e->lam_A,
                                     e->lam_next);
            ck_assert_msg(r == e->ret[b], "case %zu bin %d: answered %d", k, b, r);
            ck_assert_msg(x[c.row_state] == e->state[b], "case %zu bin %d: state %g", k, b,
                          x[c.row_state]);
            /* the bin sums are cleared, the ring has the bin's D in slot b mod W */
            ck_assert(x[c.row_n] == 0.0 && x[c.row_n + 1] == 0.0);
            ck_assert(x[c.row_seen] == (double)(b + 1));
            ck_assert(x[c.row_ring + b % c.W] == 0.5 * e->n[b][0] - 0.5 * e->n[b][1]);
        }
        ck_assert_int_eq(tr.outcome, e->outcome);
        ck_assert_msg(tr.max_lam == e->max_lam, "case %zu: max_lam %g", k, tr.max_lam);
        ck_assert(isnan(e->end_lam) ? isnan(tr.end_lam) : tr.end_lam == e->end_lam);
        ck_assert_int_eq(tr.end_t, e->end_t);
    }
}
END_TEST

/* ---- host: which engine runs ---------------------------------------------------------------- */

/* cpu: the CPU engines; cuda: the CUDA engines in a CUDA build (none without); auto: the device
 * for the meso level when one answers, else the CPU. --backend cuda without a device is refused
 * (MG_EINVAL, exit 2 on the command line) naming the option and why. */
START_TEST(test_engine_choice)
{
    char name[160];
    const int dev = mg_cuda_available(name, sizeof name);
    for (int l = 0; l < 2; ++l) {
        const mg_level level = l ? MG_LEVEL_MICRO : MG_LEVEL_MESO;
        const mg_ffs_engine *E = mg_ffs_engine_for(level, MG_BACKEND_CPU);
        ck_assert(E && strcmp(E->name, "cpu") == 0 && E->level == level);
        E = mg_ffs_engine_for(level, MG_BACKEND_CUDA);
#ifdef MG_HAVE_CUDA
        ck_assert(E && strcmp(E->name, "cuda") == 0 && E->level == level);
#else
        ck_assert_ptr_null(E);
#endif
        E = mg_ffs_engine_for(level, MG_BACKEND_AUTO);
        ck_assert_str_eq(E->name, dev && level == MG_LEVEL_MESO ? "cuda" : "cpu");
    }
    mg_model m;
    mg_test_model(NULL, &m);
    mg_ffs_opts o;
    mg_ffs_opts_default(&o);
    o.backend = MG_BACKEND_CUDA;
    mg_stats_cfg c;
    int64_t st_L;
    mg_err err = {{0}};
    int rc = mg_ffs_check_opts(&m, &o, &c, &st_L, &err);
    if (dev)
        ck_assert_msg(rc == MG_OK, "%s", err.msg);
    else
        ck_assert_msg(rc == MG_EINVAL && strstr(err.msg, "--backend cuda") &&
                      strstr(err.msg, name), "rc %d: %s", rc, err.msg);
    printf("engine choice: a device %s (%s)\n", dev ? "answers" : "does not answer", name);
    mg_model_free(&m);
}
END_TEST

/* ---- device: the estimates ----------------------------------------------------------------- */

static void estimate_twins(const mg_model *m, mg_ffs_opts *o, const char *what)
{
    mg_ffs_result rc, rg;
    mg_err err = {{0}};
    o->backend = MG_BACKEND_CPU;
    ck_assert_msg(mg_ffs_run(m, o, &rc, &err) == MG_OK, "cpu: %s", err.msg);
    o->backend = MG_BACKEND_CUDA;
    ck_assert_msg(mg_ffs_run(m, o, &rg, &err) == MG_OK, "cuda: %s", err.msg);
    ck_assert_str_eq(rg.backend_name, "cuda");
    for (int d = 0; d < 2; ++d)
        printf("%s: rate from %s cpu %.6g Hz, cuda %.6g Hz (%d stages); wall cpu %.2f s, cuda "
               "%.2f s\n", what, d ? "high" : "low", rc.rate_hz[d], rg.rate_hz[d],
               rc.n_stages[d], rc.wall_s, rg.wall_s);
    mg_test_ffs_same_result(&rc, &rg);
    ck_assert(memcmp(rc.rate_ci_high, rg.rate_ci_high, sizeof rc.rate_ci_high) == 0);
    ck_assert(rc.rate_hz[0] > 0 && isfinite(rc.rate_hz[0]));
    printf("%s: the CUDA estimate is the CPU's, bit for bit\n", what);
}

/* ---- device: trial by trial ---------------------------------------------------------------- */

#define N_TR 21

/* One level's trials on both engines: the job of each, two states of the CPU engine's basin run
 * 3 (steps 2020 and 4040; micro: the first also expressed 100 steps later, its own time frame),
 * interfaces 2 Hz around them (both ends occur), and room for N_TR end states per engine. */
typedef struct {
    mg_model m;
    mg_ffs_opts o;
    mg_ffs_job Jc, Jg;
    const mg_ffs_engine *Ec, *Eg;
    int rows;
    double *x1, *x2, *x3;
    double lam_A, lam_next;
    double *ends;                /* [2][N_TR][rows]: CPU, CUDA */
} fixture;

static void fixture_begin(fixture *F, mg_level level)
{
    if (level == MG_LEVEL_MICRO) {
        mg_test_ffs_micro_model(&F->m); /* delays and a random network: the time frame counts */
        mg_test_ffs_micro_opts(&F->o, 2, 0);
    } else {
        mg_test_model(NULL, &F->m); /* B1, N = 500 */
        mg_test_ffs_meso_opts(&F->o, 2);
    }
    F->Ec = mg_test_ffs_job_begin(&F->Jc, &F->m, &F->o, MG_BACKEND_CPU);
    F->Eg = mg_test_ffs_job_begin(&F->Jg, &F->m, &F->o, MG_BACKEND_CUDA);
    ck_assert_str_eq(F->Eg->name, "cuda");
    ck_assert_int_eq(F->Jc.rows, F->Jg.rows);
    F->rows = F->Jc.rows;
    F->x1 = calloc((size_t)F->rows * (3 + 2 * N_TR), sizeof(double));
    ck_assert_ptr_nonnull(F->x1);
    F->x2 = F->x1 + F->rows;
    F->x3 = F->x2 + F->rows;
    F->ends = F->x3 + F->rows;
    mg_test_ffs_basin_state(&F->Jc, F->Ec, F->x1, 2020);
    mg_test_ffs_basin_state(&F->Jc, F->Ec, F->x2, 4040);
    if (level == MG_LEVEL_MICRO)
        mg_test_ffs_shift_state(&((mg_job *)F->Jc.lev)->mi->mm, F->x1, F->x3, F->rows, 100);
    const double d1 = mg_test_ffs_ds(&F->Jc, F->x1), d2 = mg_test_ffs_ds(&F->Jc, F->x2);
    F->lam_A = fmin(d1, d2) - 2.0;
    F->lam_next = fmax(d1, d2) + 2.0;
}

static void fixture_end(fixture *F)
{
    free(F->x1);
    F->Ec->release(&F->Jc);
    F->Eg->release(&F->Jg);
    mg_model_free(&F->m);
}

/* Trials k = 0 .. N_TR-1 from x1 and x2 alternately, indices 0x80000300 + k, every fifth one
 * skipped, and at the micro level every seventh (k = 6, 13, 20) from x3 with the index of trial
 * k - 6; engine `which` (0: CPU, 1: CUDA) keeps its end states apart. */
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

/* Trials a and b ended alike, bit for bit. */
static int same_trial(const fixture *F, const mg_ffs_trial *a, const mg_ffs_trial *b)
{
    int ok = a->outcome == b->outcome && a->end_t == b->end_t &&
             memcmp(&a->max_lam, &b->max_lam, sizeof(double)) == 0 &&
             memcmp(&a->end_lam, &b->end_lam, sizeof(double)) == 0;
    if (ok && a->outcome == 1)
        ok = memcmp(a->end_state, b->end_state, (size_t)F->rows * sizeof(double)) == 0;
    return ok;
}

/* The CUDA engine's call on at most `slots` slots in launches of `steps` steps (0: the engine's
 * own counts). */
static int cuda_trials(fixture *F, mg_ffs_trial *tr, double lam_A, double lam_next, int slots,
                       int64_t steps, mg_err *err)
{
    F->Jg.dev_slots = slots;
    F->Jg.dev_steps = steps;
    return F->Eg->trials(&F->Jg, tr, N_TR, 0, lam_A, lam_next, err);
}

/* The N_TR trials on the CPU engine, then on CUDA with each (slots, steps) of v[0 .. n_v): alike,
 * bit for bit; both ends occur; skipped trials are left alone; with launches of a few steps,
 * slots take new trials as theirs end and trials run across launches. At the micro level, a
 * trial from a state expressed 100 steps later ends as the trial from the state itself, 100
 * steps later (the time frame on the device). */
static void match_cpu(mg_level level, const int (*v)[2], int n_v)
{
    fixture F;
    fixture_begin(&F, level);
    mg_err err = {{0}};
    mg_ffs_trial tc[N_TR], tg[N_TR];
    trials_fill(&F, tc, 0);
    ck_assert_msg(F.Ec->trials(&F.Jc, tc, N_TR, 0, F.lam_A, F.lam_next, &err) == MG_OK, "%s",
                  err.msg);
    int succ = 0, fail = 0;
    for (int k = 0; k < N_TR; ++k)
        if (!tc[k].skip) {
            succ += tc[k].outcome == 1;
            fail += tc[k].outcome == 0;
        }
    ck_assert_msg(succ > 0 && fail > 0, "%d successes, %d failures: both ends must occur", succ,
                  fail);
    for (int i = 0; i < n_v; ++i) {
        trials_fill(&F, tg, 1);
        ck_assert_msg(cuda_trials(&F, tg, F.lam_A, F.lam_next, v[i][0], v[i][1], &err) == MG_OK,
                      "cuda: %s", err.msg);
        int same = 0;
        for (int k = 0; k < N_TR; ++k) {
            same += tg[k].skip || same_trial(&F, &tc[k], &tg[k]);
            if (tg[k].skip) /* skipped trials are left alone */
                ck_assert_int_eq(tg[k].outcome, 0);
        }
        printf("%s: %d slots, %lld launches of %s steps: %d of %d trials as on the CPU engine "
               "(%d successes, %d failures)\n", mg_level_name(level), v[i][0],
               (long long)F.Jg.dev_launches, v[i][1] ? "37" : "the engine's", same, N_TR, succ,
               fail);
        ck_assert_msg(same == N_TR, "%s: %d of %d trials differ between CPU and CUDA",
                      mg_level_name(level), N_TR - same, N_TR);
        if (v[i][1] > 0)
            ck_assert_int_gt(F.Jg.dev_launches, 2);
        int twins = 0;
        for (int k = 6; level == MG_LEVEL_MICRO && k < N_TR; k += 7) {
            const mg_ffs_trial *a = &tg[k - 6], *b = &tg[k];
            if (a->skip || a->start != F.x1) /* not the same trial in another frame */
                continue;
            ++twins;
            ck_assert_int_eq(b->outcome, a->outcome);
            ck_assert_int_eq(b->end_t - b->t0, a->end_t - a->t0);
            ck_assert(b->max_lam == a->max_lam);
            if (a->outcome == 1) {
                double *z = malloc((size_t)F.rows * sizeof(double));
                ck_assert_ptr_nonnull(z);
                mg_test_ffs_shift_state(&((mg_job *)F.Jc.lev)->mi->mm, a->end_state, z, F.rows,
                                        100);
                ck_assert(memcmp(z, b->end_state, (size_t)F.rows * sizeof(double)) == 0);
                free(z);
            }
        }
        ck_assert(level == MG_LEVEL_MESO || twins == 1);
    }
    fixture_end(&F);
}

/* Trials past a cap of 150 steps (shorter than any trial with the interfaces 50 Hz further
 * out) end with outcome -1 at step t0 + 150 on both engines. */
static void trial_cap(mg_level level)
{
    fixture F;
    fixture_begin(&F, level);
    mg_err err = {{0}};
    mg_ffs_trial tc[N_TR], tg[N_TR];
    F.Jc.trial_cap_steps = F.Jg.trial_cap_steps = 150;
    trials_fill(&F, tc, 0);
    trials_fill(&F, tg, 1);
    ck_assert_msg(F.Ec->trials(&F.Jc, tc, N_TR, 0, F.lam_A - 50.0, F.lam_next + 50.0, &err) ==
                  MG_OK, "%s", err.msg);
    ck_assert_msg(cuda_trials(&F, tg, F.lam_A - 50.0, F.lam_next + 50.0, 4, 37, &err) == MG_OK,
                  "cuda: %s", err.msg);
    for (int k = 0; k < N_TR; ++k) {
        if (tc[k].skip)
            continue;
        ck_assert_int_eq(tc[k].outcome, -1);
        ck_assert_int_eq(tc[k].end_t, tc[k].t0 + 150);
        ck_assert(same_trial(&F, &tc[k], &tg[k]));
    }
    printf("%s: trials capped at 150 steps end there on both engines\n", mg_level_name(level));
    fixture_end(&F);
}

/* A NaN in trial 2's start state (meso: population 1's free pool, so its first expected count
 * is NaN; micro: the potential of neuron 7 of population 0, which then never fires) stops the
 * call with the CPU engine's error (meso: the same message; micro: up to the step, since the
 * two check at different steps). On CUDA trial 8 starts from that state too, and every trial has
 * a slot of its own from the first launch: the report must still name trial 2, the lower
 * position, whichever slot reaches its note first on a device (in the emulation the slots
 * take their trials in the order they run, so trial 2 always notes first there; this part
 * tells only on a device, and checks the lowest position is the one named). A cancel request stops the call after one
 * launch. */
static void fault_and_cancel(mg_level level)
{
    fixture F;
    fixture_begin(&F, level);
    mg_err ec = {{0}}, eg = {{0}};
    mg_ffs_trial tc[N_TR], tg[N_TR];
    double *bad = malloc((size_t)F.rows * sizeof(double));
    ck_assert_ptr_nonnull(bad);
    memcpy(bad, F.x1, (size_t)F.rows * sizeof(double));
    if (level == MG_LEVEL_MICRO)
        bad[((mg_job *)F.Jc.lev)->mi->mm.pop[0].row_u + 7] = NAN;
    else
        bad[((const mg_meso_derived *)F.Jc.lev)->mm.pop[1].row_x] = NAN;
    trials_fill(&F, tc, 0);
    trials_fill(&F, tg, 1);
    tc[2].start = tg[2].start = tg[8].start = bad;
    const int rc_c = F.Ec->trials(&F.Jc, tc, N_TR, 0, F.lam_A, F.lam_next, &ec);
    const int rc_g = cuda_trials(&F, tg, F.lam_A, F.lam_next, N_TR, 37, &eg);
    printf("%s NaN: cpu rc %d \"%s\"; cuda rc %d after %lld launch(es): \"%s\"\n",
           mg_level_name(level), rc_c, ec.msg, rc_g, (long long)F.Jg.dev_launches, eg.msg);
    ck_assert_int_eq(rc_c, MG_ENUM);
    ck_assert_int_eq(rc_g, MG_ENUM);
    const char *cut = strstr(ec.msg, ", step ");
    ck_assert_ptr_nonnull(cut);
    ck_assert_msg(strncmp(eg.msg, ec.msg, (size_t)(cut - ec.msg)) == 0, "messages differ");
    if (level == MG_LEVEL_MESO)
        ck_assert_str_eq(eg.msg, ec.msg);
    ck_assert_ptr_nonnull(strstr(eg.msg, "realization 2147484418")); /* 0x80000302 */
    /* a cancel request: the call stops after its first launch */
    volatile int stop = 1;
    F.Jg.o.cancel = &stop;
    trials_fill(&F, tg, 1);
    ck_assert_int_eq(cuda_trials(&F, tg, F.lam_A, F.lam_next, 3, 37, &eg), MG_EINTR);
    ck_assert_int_eq(F.Jg.dev_launches, 1);
    free(bad);
    fixture_end(&F);
}

/* ---- host: the micro time frame over a block's threads ------------------------------------ */

/* The load (or save) of src/ffs/ffs_micro_frame.h over T threads, phase by phase as a CUDA
 * block with a barrier between phases, the threads of a phase in a scrambled order (37 k + 11
 * mod T: a permutation for odd 37 and T a power of 2). */
static void frame_run(const mg_micro_model *mm, int64_t rows, mg_lanes st,
                      const mg_micro_buf *buf, const double *x_in, double *x_out, int64_t shift,
                      int load, int T)
{
    const int n_phases = load ? MG_FFS_LOAD_PHASES : MG_FFS_SAVE_PHASES;
    for (int phase = 0; phase < n_phases; ++phase)
        for (int k = 0; k < T; ++k) {
            const int tid = (37 * k + 11) % T;
            if (load)
                mg_ffs_micro_load(mm, rows, st, buf, 0, x_in, shift, phase, tid, T);
            else
                mg_ffs_micro_save(mm, rows, st, buf, 0, x_out, shift, phase, tid, T);
        }
}

/* Lane 0 of two loaded blocks: the same rows and the same spike lists (the entries in use). */
static int same_lane(const mg_micro_model *mm, int64_t rows, const double *s1,
                     const uint32_t *k1, const double *s2, const uint32_t *k2)
{
    if (memcmp(s1, s2, (size_t)rows * sizeof(double)) != 0)
        return 0;
    const mg_micro_buf b1 = {(uint32_t *)k1, NULL}, b2 = {(uint32_t *)k2, NULL};
    for (int a = 0; a < mm->P; ++a)
        for (int h = 0; h < mm->pop[a].H; ++h) {
            const int64_t cnt = (int64_t)s1[mm->pop[a].row_hist + h];
            if (memcmp(mg_micro_spikes(&b1, &mm->pop[a], h, 0),
                       mg_micro_spikes(&b2, &mm->pop[a], h, 0), (size_t)cnt * 4) != 0)
                return 0;
        }
    return 1;
}

/* The trial's frame as the CUDA engine runs it (128 threads) gives one thread's bits (the CPU
 * engine's): loading a stored state at three shifts (three slot phases of H = 3), saving it
 * back (the stored state again, bit for bit), and the state 100 steps later loaded with the
 * shift + 100 (the same lane). */
START_TEST(test_micro_frame_threads)
{
    mg_model m;
    mg_test_ffs_micro_model(&m);
    mg_ffs_opts o;
    mg_test_ffs_micro_opts(&o, 1, 0);
    mg_ffs_job J;
    const mg_ffs_engine *E = mg_test_ffs_job_begin(&J, &m, &o, MG_BACKEND_CPU);
    const mg_micro_derived *d = ((mg_job *)J.lev)->mi;
    const mg_micro_model *mm = &d->mm;
    const int64_t rows = J.rows, ne = d->spk_elems * MG_VL;
    double *buf = calloc((size_t)rows * 6, sizeof(double));
    uint32_t *k1 = calloc((size_t)ne, 4), *k2 = calloc((size_t)ne, 4);
    ck_assert(buf && k1 && k2);
    double *x = buf, *y = buf + rows, *s1 = buf + 2 * rows, *s2 = buf + 3 * rows;
    double *x1 = buf + 4 * rows, *x2 = buf + 5 * rows;
    mg_lanes st1 = {s1, 1}, st2 = {s2, 1};
    const mg_micro_buf b1 = {k1, NULL}, b2 = {k2, NULL};
    mg_test_ffs_basin_state(&J, E, x, 2020);
    const int64_t shifts[3] = {2020, 2021, 7};
    for (int k = 0; k < 3; ++k) {
        frame_run(mm, rows, st1, &b1, x, NULL, shifts[k], 1, 1);
        frame_run(mm, rows, st2, &b2, x, NULL, shifts[k], 1, 128);
        ck_assert_msg(same_lane(mm, rows, s1, k1, s2, k2), "load, shift %lld: 128 threads "
                      "differ from one", (long long)shifts[k]);
        frame_run(mm, rows, st1, &b1, NULL, x1, shifts[k], 0, 1);
        frame_run(mm, rows, st2, &b2, NULL, x2, shifts[k], 0, 128);
        ck_assert(memcmp(x1, x, (size_t)rows * sizeof(double)) == 0);
        ck_assert(memcmp(x2, x, (size_t)rows * sizeof(double)) == 0);
    }
    /* (compared as stored states: the park rows of a loaded lane are a cold copy of the
     * stored one's, rotated differently) */
    mg_test_ffs_shift_state(mm, x, y, (int)rows, 100);
    frame_run(mm, rows, st1, &b1, x, NULL, 2020, 1, 1);
    frame_run(mm, rows, st2, &b2, y, NULL, 2120, 1, 128);
    frame_run(mm, rows, st1, &b1, NULL, x1, 0, 0, 1);
    frame_run(mm, rows, st2, &b2, NULL, x2, 0, 0, 128);
    ck_assert_msg(memcmp(x1, x2, (size_t)rows * sizeof(double)) == 0, "a state 100 steps "
                  "later, loaded 100 steps further back, is another lane");
    free(buf);
    free(k1);
    free(k2);
    E->release(&J);
    mg_model_free(&m);
}
END_TEST

/* ---- the device tests on the small case of each level --------------------------------------- */

/* f on the small estimate of the level: the model and options of tests/test_ffs.c (meso) or
 * tests/test_ffs_micro.c (micro). */
static void on_level(mg_level level, void (*f)(const mg_model *, mg_ffs_opts *, const char *))
{
    mg_model m;
    mg_ffs_opts o;
    if (level == MG_LEVEL_MICRO) {
        mg_test_ffs_micro_model(&m);
        mg_test_ffs_micro_opts(&o, 2, 0);
    } else {
        mg_test_model(NULL, &m); /* B1, N = 500 */
        mg_test_ffs_meso_opts(&o, 2);
    }
    f(&m, &o, mg_level_name(level));
    mg_model_free(&m);
}

/* Trial by trial: meso on 1, 3 and 64 slots in launches of 37 steps and on 2 slots in the
 * engine's launches; micro on 1 and 3 slots in launches of 37 steps and on 2 in its own. */
START_TEST(test_cuda_trials_match_cpu)
{
    if (!mg_test_have_device(__func__))
        return;
    const int meso[4][2] = {{1, 37}, {3, 37}, {64, 37}, {2, 0}};
    const int micro[3][2] = {{1, 37}, {3, 37}, {2, 0}};
    match_cpu(MG_LEVEL_MESO, meso, 4);
    match_cpu(MG_LEVEL_MICRO, micro, 3);
}
END_TEST

START_TEST(test_cuda_trial_cap)
{
    if (!mg_test_have_device(__func__))
        return;
    trial_cap(MG_LEVEL_MESO);
    trial_cap(MG_LEVEL_MICRO);
}
END_TEST

START_TEST(test_cuda_fault_and_cancel)
{
    if (!mg_test_have_device(__func__))
        return;
    fault_and_cancel(MG_LEVEL_MESO);
    fault_and_cancel(MG_LEVEL_MICRO);
}
END_TEST

/* The whole estimates (after the trials: a difference shows there first, trial by trial). */
START_TEST(test_cuda_matches_cpu)
{
    if (!mg_test_have_device(__func__))
        return;
    on_level(MG_LEVEL_MESO, estimate_twins);
    on_level(MG_LEVEL_MICRO, estimate_twins);
}
END_TEST

MG_TEST_SUITE(ffs_cuda,
              MG_TCASE("host", 60, test_trial_bin_table, test_engine_choice,
                       test_micro_frame_threads),
              MG_TCASE("device", 300, test_cuda_trials_match_cpu, test_cuda_trial_cap,
                       test_cuda_fault_and_cancel, test_cuda_matches_cpu))
