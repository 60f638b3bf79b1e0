/* tests/ffs_testutil.h: what the FFS suites share (tests/test_ffs_micro.c, tests/test_ffs_cuda.c):
 * the small estimates (model and options), a micro state re-expressed later in time, the
 * comparison of two estimates bit for bit, and an engine's job and basin states for trials run
 * one by one. */
#ifndef MESOGIF_TESTS_FFS_TESTUTIL_H
#define MESOGIF_TESTS_FFS_TESTUTIL_H

#include "testutil.h"
#include "core/micro.h"
#include "ffs/ffs_state.h" /* mg_ffs_job, the engines, mg_ffs_lane_layout */
#include "mesogif/ffs.h"

#include <limits.h>
#include <string.h>

/* x re-expressed `by` steps later (the layout of src/ffs/ffs_micro_cpu.c: refractory rows hold
 * absolute steps, history slot t mod H, the spike lists in the park rows). */
static inline void mg_test_ffs_shift_state(const mg_micro_model *mm, const double *x, double *y,
                                           int rows, int64_t by)
{
    memcpy(y, x, (size_t)rows * sizeof(double));
    for (int a = 0; a < mm->P; ++a) {
        const mg_micro_pop *pp = &mm->pop[a];
        for (int64_t i = 0; i < pp->N; ++i)
            y[pp->row_ref + i] = x[pp->row_ref + i] + (double)by;
        for (int h = 0; h < pp->H; ++h) {
            const int g = (int)((h + by) % pp->H);
            y[pp->row_hist + g] = x[pp->row_hist + h];
            memcpy(y + pp->row_park + (int64_t)g * pp->N, x + pp->row_park + (int64_t)h * pp->N,
                   (size_t)pp->N * sizeof(double));
        }
    }
}

/* Two estimates are the same bits: rates, intervals, flux, interfaces, per-stage tallies. */
static inline void mg_test_ffs_same_result(const mg_ffs_result *a, const mg_ffs_result *b)
{
    ck_assert(memcmp(a->rate_hz, b->rate_hz, sizeof a->rate_hz) == 0);
    ck_assert(memcmp(a->rate_ci_low, b->rate_ci_low, sizeof a->rate_ci_low) == 0);
    ck_assert(memcmp(a->flux_hz, b->flux_hz, sizeof a->flux_hz) == 0);
    ck_assert(memcmp(a->n_stages, b->n_stages, sizeof a->n_stages) == 0);
    ck_assert(memcmp(a->interfaces, b->interfaces, sizeof a->interfaces) == 0);
    ck_assert(memcmp(a->trials, b->trials, sizeof a->trials) == 0);
    ck_assert(memcmp(a->successes, b->successes, sizeof a->successes) == 0);
    ck_assert(memcmp(a->trial_s, b->trial_s, sizeof a->trial_s) == 0);
}

/* Options of the small meso estimate of tests/test_ffs.c (B1, N = 500): about a second. */
static inline void mg_test_ffs_meso_opts(mg_ffs_opts *o, int threads)
{
    mg_ffs_opts_default(o);
    o->rel_err = 0.3;
    o->basin_realizations = 16;
    o->basin_budget_s = 400.0;
    o->trials_first = 64;
    o->pilot_trials = 16;
    o->seed = 11;
    o->threads = threads;
}

/* The model of tests/test_ffs_micro.c: B1 (N = 500) with a delay of 1.5 ms (3 steps: a spike
 * history of H = 3 slots, so that start steps, multiples of the 20-step statistics bin, fall on
 * every slot phase) and fixed in-degree connectivity p = 0.5 (J doubled, so J p N is B1's):
 * trials must rotate the spike history into their own time frame and keep their parent's
 * network. */
static inline void mg_test_ffs_micro_model(mg_model *m)
{
    mg_test_model(NULL, m); /* B1, N = 500 */
    for (int i = 0; i < m->n_proj; ++i) {
        m->proj[i].delay = 1.5;
        m->proj[i].p = 0.5;
        m->proj[i].J *= 2.0;
    }
}

/* Options of the small micro estimate of tests/test_ffs_micro.c: the meso ones but these. */
static inline void mg_test_ffs_micro_opts(mg_ffs_opts *o, int threads, int64_t batch)
{
    mg_test_ffs_meso_opts(o, threads);
    o->level = MG_LEVEL_MICRO;
    o->basin_budget_s = 300.0;
    o->trials_first = 48;
    o->seed = 5;
    o->batch = batch;
}

/* ---- engines trial by trial (tests/test_ffs_cuda.c) ---------------------------------------- */

/* J on engine E for model m and options o, as the driver sets it up (without basin counting). */
static inline const mg_ffs_engine *mg_test_ffs_job_begin(mg_ffs_job *J, const mg_model *m,
                                                         const mg_ffs_opts *o, mg_backend backend)
{
    mg_stats_cfg c;
    int64_t st_L;
    mg_err err = {{0}};
    ck_assert_msg(mg_ffs_check_opts(m, o, &c, &st_L, &err) == MG_OK, "%s", err.msg);
    const mg_ffs_engine *E = mg_ffs_engine_for(o->level, backend);
    ck_assert_ptr_nonnull(E);
    memset(J, 0, sizeof *J);
    J->model = m;
    J->o = *o;
    J->threads = 2;
    ck_assert_msg(E->setup(J, &err) == MG_OK, "%s", err.msg);
    mg_ffs_lane_layout(&J->lc, m, &c, st_L, o->dt_ms, J->dyn_rows);
    J->rows = J->dyn_rows + J->lc.rows;
    J->b_hist = J->b_count = INT64_MAX; /* the basin run only moves on */
    J->trial_cap_steps = 200000;
    return E;
}

/* The state of basin run 3 of engine E at step t_end, from its initial state, into x. */
static inline void mg_test_ffs_basin_state(mg_ffs_job *J, const mg_ffs_engine *E, double *x,
                                           int64_t t_end)
{
    mg_err err = {{0}};
    mg_ffs_basin b;
    memset(&b, 0, sizeof b);
    b.state = x;
    b.real = 3;
    ck_assert_int_eq(E->init(J, x, b.real), 0);
    mg_ffs_obs_init(&J->lc, (mg_lanes){x, 1});
    ck_assert_msg(E->basin(J, &b, 1, t_end, &err) == MG_OK, "%s", err.msg);
}

/* The moving average of stored state x. */
static inline double mg_test_ffs_ds(const mg_ffs_job *J, const double *x)
{
    double Ds = 0.0;
    for (int w = 0; w < J->lc.W; ++w)
        Ds += x[J->lc.row_ring + w];
    return Ds / J->lc.W;
}

#endif /* MESOGIF_TESTS_FFS_TESTUTIL_H */
