/* tests/ffs_testutil.h: what the FFS suites share (tests/test_ffs_micro.c, tests/test_ffs_cuda.c):
 * the small estimates (model and options), a micro state re-expressed later in time, and the
 * comparison of two estimates bit for bit. */
#ifndef MESOGIF_TESTS_FFS_TESTUTIL_H
#define MESOGIF_TESTS_FFS_TESTUTIL_H

#include "testutil.h"
#include "core/micro.h"
#include "mesogif/ffs.h"

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

#endif /* MESOGIF_TESTS_FFS_TESTUTIL_H */
