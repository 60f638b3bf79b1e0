/* tests/test_stim_ou_run.c: the OU current independent per realization ("independent": true,
 * issue 17.2) inside the meso and micro dynamics (src/core/meso.h mg_meso_input1, src/core/micro.h
 * mg_micro_update_pre; the current itself is tests/test_stim_ou.c's):
 *   - each level's step advances the state row of the current along the path of
 *     (seed, realization, population) that mg_stim_ou_step gives from an independently built
 *     mg_stim_ou, and adds it to the drive; the meso and the micro level give a realization the
 *     same path, bit for bit;
 *   - with n = n_bar (--noise deterministic) all realizations are identical before the current
 *     starts and differ after (var_A(t) = 0, then > 0), while the frozen current keeps them
 *     identical throughout;
 *   - runs are the same bits for 1 or 2 threads, any batch size and as shards, at both levels;
 *   - a model without the current keeps its state layout (no row), so its outputs and
 *     checkpoints do not change.
 * No statistical tolerance here: every check is exact (up to the rounding of var_A's sums). */
#include "core/meso.h"
#include "core/micro.h"
#include "engine/job.h"
#include "engine/meso_derive.h"
#include "engine/micro_derive.h"
#include "model/stimulus.h"
#include "testutil.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Two uncoupled populations (tau_m 20 ms, C_m 250 pF: R = 0.08 GOhm), each with an independent OU
 * current; the first also has a sinusoid, so that its input tables are not empty. */
static const char *MODEL =
    "{\"name\": \"ou_independent\",\n"
    " \"populations\": [\n"
    "  {\"name\": \"E\", \"N\": 400, \"tau_m\": 20.0, \"C_m\": 250.0, \"V_reset\": 0.0,"
    " \"V_T_star\": 15.0, \"Delta_V\": 2.0, \"lambda_0\": 10.0, \"t_ref\": 4.0, \"I_e\": 225.0,"
    " \"ac_current\": {\"amplitude\": 20, \"frequency\": 5},"
    " \"ou_current\": {\"mean\": 10, \"std\": 30, \"tau\": 5, \"start\": 20, \"independent\": true}},\n"
    "  {\"name\": \"I\", \"N\": 300, \"tau_m\": 10.0, \"C_m\": 250.0, \"V_reset\": 0.0,"
    " \"V_T_star\": 15.0, \"Delta_V\": 2.0, \"lambda_0\": 10.0, \"t_ref\": 2.0, \"I_e\": 300.0,"
    " \"tau_sfa\": [100], \"q_sfa\": [1],"
    " \"ou_current\": {\"mean\": -5, \"std\": 15, \"tau\": 20, \"stop\": 150, \"independent\": true}}],\n"
    " \"projections\": []}\n";

#define DT 0.5
#define SEED 29u
#define NSTEP 400 /* 200 ms: both currents start, the second also stops */

static void load(const char *text, mg_model *m)
{
    mg_err err = {{0}};
    ck_assert_msg(mg_model_parse(text, "test_stim_ou_run", m, &err) == MG_OK, "%s", err.msg);
}

/* The currents as the file states them, built here from the numbers (not from the model):
 * pA * R -> mV, windows in steps of DT. */
static void reference_ou(mg_stim_ou ref[2])
{
    mg_stim_ou_init(&ref[0], 10.0, 30.0, 5.0, 20.0 / 250.0, DT, 40, INT64_C(1) << 62);
    mg_stim_ou_init(&ref[1], -5.0, 15.0, 20.0, 10.0 / 250.0, DT, 0, 300);
}

/* Meso: realization r stepped alone; after each step the row of population a holds the reference
 * path's deviation and psi (no synaptic input) is the drive with table + current. Returns the
 * deviations [NSTEP][2] in dev. */
static void meso_path(const mg_model *m, uint32_t r, double *dev)
{
    mg_err err = {{0}};
    mg_meso_derived d;
    ck_assert_msg(mg_meso_derive_run(m, DT, MG_MESO_BINOMIAL, SEED, NSTEP, &d, &err) == MG_OK,
                  "%s", err.msg);
    const mg_meso_model *mm = &d.mm;
    ck_assert(mm->pop[0].row_ou >= 0 && mm->pop[1].row_ou >= 0);
    double *x = calloc((size_t)mm->rows, sizeof(double));
    mg_lanes st = {x, 1};
    mg_meso_init1(mm, st);
    mg_stim_ou ref[2];
    reference_ou(ref);
    double xr[2] = {0, 0}, n[2], nbar[2];
    for (int64_t t = 0; t < NSTEP; ++t) {
        mg_meso_step1(mm, st, t, r, n, nbar, NULL);
        for (int a = 0; a < 2; ++a) {
            const mg_meso_pop *pp = &mm->pop[a];
            const double I = mg_stim_ou_step(&ref[a], SEED, r, a, t, &xr[a]);
            ck_assert_msg(x[pp->row_ou] == xr[a], "meso r %u pop %d step %lld: %.17g vs %.17g",
                          r, a, (long long)t, x[pp->row_ou], xr[a]);
            const double psi = pp->mu_drive + (mg_meso_input(mm, a, t) + I) * pp->one_m_E_m;
            ck_assert_msg(x[pp->row_psi] == psi, "meso psi r %u pop %d step %lld", r, a,
                          (long long)t);
            dev[t * 2 + a] = x[pp->row_ou];
        }
    }
    free(x);
    mg_meso_derived_free(&d);
}

START_TEST(meso_and_micro_follow_the_reference_path)
{
    mg_model m;
    load(MODEL, &m);
    static double meso[3][NSTEP * 2];
    const uint32_t reals[3] = {0, 7, 100000};
    for (int k = 0; k < 3; ++k)
        meso_path(&m, reals[k], meso[k]);
    /* paths of different realizations differ once the current is on */
    ck_assert(meso[0][2 * 100] != meso[1][2 * 100] && meso[1][2 * 100 + 1] != meso[2][2 * 100 + 1]);

    /* micro: MG_VL lanes of realizations 7 + j through the per-lane part of the step (the drive
     * and the currents live there; no projections, so psi is the drive alone) */
    mg_err err = {{0}};
    mg_job job;
    memset(&job, 0, sizeof job);
    job.model = &m;
    job.opts.dt_ms = DT;
    job.opts.seed = SEED;
    job.n_steps = NSTEP;
    ck_assert_msg(mg_micro_setup(&job, &err) == MG_OK, "%s", err.msg);
    const mg_micro_model *mm = &job.mi->mm;
    ck_assert(mm->pop[0].row_ou >= 0 && mm->pop[1].row_ou >= 0);
    double *x = calloc((size_t)mm->rows * MG_VL, sizeof(double));
    mg_lanes st = {x, MG_VL};
    mg_stim_ou ref[2];
    reference_ou(ref);
    double xr[MG_VL][2] = {{0}};
    for (int64_t t = 0; t < NSTEP; ++t)
        for (int a = 0; a < 2; ++a) {
            const mg_micro_pop *pp = &mm->pop[a];
            mg_micro_update_pre(mm, a, st, t, 7u);
            for (int j = 0; j < MG_VL; ++j) {
                const double I = mg_stim_ou_step(&ref[a], SEED, 7u + (uint32_t)j, a, t, &xr[j][a]);
                ck_assert_msg(MG_AT(st, pp->row_ou, j) == xr[j][a], "micro lane %d pop %d step "
                              "%lld", j, a, (long long)t);
                const double psi = pp->mu_drive + (mg_micro_input(mm, a, t) + I) * pp->one_m_E_m;
                ck_assert_msg(MG_AT(st, pp->row_psi, j) == psi + 0.0, "micro psi lane %d pop %d "
                              "step %lld", j, a, (long long)t);
                if (j == 0) /* realization 7: the meso level's path */
                    ck_assert(MG_AT(st, pp->row_ou, 0) == meso[1][t * 2 + a]);
            }
        }
    free(x);
    mg_micro_free(&job);
    mg_model_free(&m);
}
END_TEST

/* n = n_bar: realizations are the same deterministic trajectory until the current starts (20 ms
 * for E, 0 for I: E alone here), then differ; a frozen current keeps them equal. Time bins of
 * 10 ms. */
static void deterministic_spread(int independent, double *var_before, double *var_after,
                                 double *var_after_rel)
{
    char text[4096];
    snprintf(text, sizeof text,
             "{\"populations\": [{\"name\": \"E\", \"N\": 400, \"tau_m\": 20.0, \"C_m\": 250.0,"
             " \"V_reset\": 0.0, \"V_T_star\": 15.0, \"Delta_V\": 2.0, \"lambda_0\": 10.0,"
             " \"t_ref\": 4.0, \"I_e\": 225.0, \"ou_current\": {\"std\": 30, \"tau\": 5,"
             " \"start\": 100, \"independent\": %s}}], \"projections\": []}",
             independent ? "true" : "false");
    mg_model m;
    load(text, &m);
    mg_run_opts o = mg_test_opts(MG_BACKEND_CPU, 300.0, 0.0, 6, 0);
    o.noise = MG_NOISE_DETERMINISTIC;
    mg_test_bins(&o, DT, 10.0, 10.0);
    o.stats_time_ms = 10.0;
    o.stats_basic = 1;
    o.threads = 2;
    mg_result res;
    mg_test_run(&m, &o, &res);
    const mg_stats *s = &res.stats;
    ck_assert_int_eq(s->L.cfg.time_bins, 30);
    /* var_A is formed from sums of A and A^2, so equal values leave rounding of about 1e-16
     * mean^2 (as in tests/test_stats_time.c): "before" is that variance over this bound */
    *var_before = *var_after_rel = 0.0;
    *var_after = s->tm_var_A[10];
    for (int b = 0; b < 30; ++b) {
        const double rel = s->tm_var_A[b] / (1e-24 + 1e-12 * s->tm_mean_A[b] * s->tm_mean_A[b]);
        if (b < 10) {
            *var_before = fmax(*var_before, rel);
        } else {
            *var_after = fmin(*var_after, s->tm_var_A[b]);
            *var_after_rel = fmax(*var_after_rel, rel);
        }
    }
    mg_result_free(&res);
    mg_model_free(&m);
}

START_TEST(deterministic_realizations_part_when_the_current_starts)
{
    double before, after, after_rel;
    deterministic_spread(1, &before, &after, &after_rel);
    ck_assert_msg(before <= 1.0, "independent, before the start: var_A %g of the rounding bound",
                  before);
    ck_assert_msg(after > 0.1, "independent, after the start: min var_A %g Hz^2", after);
    deterministic_spread(0, &before, &after, &after_rel);
    ck_assert_msg(before <= 1.0 && after_rel <= 1.0, "frozen: var_A %g and %g of the bound",
                  before, after_rel);
}
END_TEST

/* Same bits for 1 vs 2 threads, batch 2 vs 3, and a shard [3, 5) against the whole run. */
static void invariance(mg_level level, double t_sim_ms, int64_t R)
{
    mg_model m;
    load(MODEL, &m);
    mg_run_opts o = mg_test_opts(MG_BACKEND_CPU, t_sim_ms, 20.0, R, R);
    o.level = level;
    mg_test_bins(&o, DT, 5.0, 5.0);
    o.psd_df_hz = -1;
    o.stats_time_ms = 10.0;
    o.seed = SEED;
    mg_result a, b, c;
    o.threads = 1;
    o.batch = 2;
    mg_test_run(&m, &o, &a);
    mg_test_neighbours_differ(&a);
    o.threads = 2;
    o.batch = 3;
    mg_test_run(&m, &o, &b);
    mg_test_same_run(&a, &b, R, level == MG_LEVEL_MICRO ? "micro, threads/batch"
                                                         : "meso, threads/batch");
    mg_test_range(&o, 3, 2);
    mg_test_run(&m, &o, &c);
    mg_test_same_traces(&a, 3, &c, 2, "shard [3, 5)");
    mg_result_free(&a);
    mg_result_free(&b);
    mg_result_free(&c);
    mg_model_free(&m);
}

START_TEST(meso_threads_batches_shards)
{
    invariance(MG_LEVEL_MESO, 400.0, 8);
}
END_TEST

START_TEST(micro_threads_batches_shards)
{
    invariance(MG_LEVEL_MICRO, 150.0, 6);
}
END_TEST

/* The frozen current and no current: no state row (layouts as before the independent one). */
START_TEST(no_row_without_the_current)
{
    mg_model m;
    load("{\"populations\": [{\"name\": \"E\", \"N\": 400, \"tau_m\": 20.0, \"C_m\": 250.0,"
         " \"V_reset\": 0.0, \"V_T_star\": 15.0, \"Delta_V\": 2.0, \"lambda_0\": 10.0,"
         " \"t_ref\": 4.0, \"I_e\": 225.0, \"ou_current\": {\"std\": 30, \"tau\": 5}},"
         " {\"name\": \"I\", \"N\": 400, \"tau_m\": 20.0, \"C_m\": 250.0,"
         " \"V_reset\": 0.0, \"V_T_star\": 15.0, \"Delta_V\": 2.0, \"lambda_0\": 10.0,"
         " \"t_ref\": 4.0, \"I_e\": 225.0}], \"projections\": []}", &m);
    mg_err err = {{0}};
    mg_meso_derived d;
    ck_assert_msg(mg_meso_derive_run(&m, DT, MG_MESO_BINOMIAL, SEED, NSTEP, &d, &err) == MG_OK,
                  "%s", err.msg);
    ck_assert(d.mm.pop[0].row_ou == -1 && d.mm.pop[1].row_ou == -1);
    /* the layout: the last row is the second population's history */
    ck_assert_int_eq(d.mm.rows, d.mm.pop[1].row_hist + d.mm.pop[1].H);
    mg_meso_derived_free(&d);
    mg_model_free(&m);
}
END_TEST

MG_TEST_SUITE(stim_ou_run,
                     MG_TCASE("path", 60, meso_and_micro_follow_the_reference_path,
                              no_row_without_the_current),
                     MG_TCASE("runs", 120, deterministic_realizations_part_when_the_current_starts,
                              meso_threads_batches_shards, micro_threads_batches_shards))
