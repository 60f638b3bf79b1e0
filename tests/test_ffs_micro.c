/* tests/test_ffs_micro.c: forward flux sampling at the micro level (src/ffs/ffs_micro_cpu.c).
 *
 * The model (tests/ffs_testutil.h) is B1 (N = 500) with a delay of 1.5 ms (3 steps: a spike
 * history of H = 3 slots, so that start steps, multiples of the 20-step statistics bin, fall on
 * every slot phase) and fixed in-degree connectivity p = 0.5 (J doubled, so J p N is B1's):
 * trials must rotate the spike history into their own time frame and keep their parent's
 * network.
 * - time frame: a trial from a stored state and a trial from the same state expressed 100
 *   steps later (refractory steps + 100, history slots rotated by 100 mod 3) with the same index
 *   end the same way at the same relative step, in states that differ by the same re-expression;
 * - the whole estimate is the same bits with 1 and 2 threads and with batches of 1024 and 13
 *   trials (13 splits the lane blocks of 8 differently, so a trial runs in another lane, block
 *   and thread);
 * - --dry-run's estimate: a micro state holds every neuron (more than 2 N doubles).
 * Exact comparisons only: nothing here is statistical. */
#include "testutil.h"
#include "ffs_testutil.h" /* the model, options, mg_test_ffs_shift_state, _same_result */

#include "engine/job.h"      /* mg_job */
#include "ffs/ffs_state.h"     /* mg_ffs_job, the engines, mg_ffs_lane_layout */
#include "engine/micro_derive.h"
#include "mesogif/ffs.h"

#include <math.h>
#include <stdio.h>

/* ---- a trial does not depend on the absolute step it starts at ----------------------------- */

START_TEST(test_trial_time_frame)
{
    mg_model m;
    mg_test_ffs_micro_model(&m);
    mg_ffs_opts o;
    mg_test_ffs_micro_opts(&o, 1, 0);
    mg_stats_cfg c;
    int64_t st_L;
    mg_err err = {{0}};
    ck_assert_msg(mg_ffs_check_opts(&m, &o, &c, &st_L, &err) == MG_OK, "%s", err.msg);
    const mg_ffs_engine *E = mg_ffs_engine_for(MG_LEVEL_MICRO, MG_BACKEND_CPU);
    ck_assert_ptr_nonnull(E);
    mg_ffs_job J;
    memset(&J, 0, sizeof J);
    J.model = &m;
    J.o = o;
    J.threads = 1;
    ck_assert_msg(E->setup(&J, &err) == MG_OK, "%s", err.msg);
    mg_ffs_lane_layout(&J.lc, &m, &c, st_L, o.dt_ms, J.dyn_rows);
    J.rows = J.dyn_rows + J.lc.rows;
    J.b_hist = J.b_count = INT64_MAX; /* the basin run only moves on */
    J.trial_cap_steps = 200000;
    const mg_micro_model *mm = &((mg_job *)J.lev)->mi->mm;
    ck_assert_int_eq(mm->pop[0].H, 3);
    ck_assert_int_eq(mm->n_list, 2);
    const int rows = J.rows;
    double *x = calloc((size_t)rows, sizeof(double)), *y = calloc((size_t)rows, sizeof(double));
    double *ex = calloc((size_t)rows, sizeof(double)), *ey = calloc((size_t)rows, sizeof(double));
    double *ez = calloc((size_t)rows, sizeof(double));
    ck_assert(x && y && ex && ey && ez);
    mg_ffs_basin b;
    memset(&b, 0, sizeof b);
    b.state = x;
    b.real = 3;
    ck_assert_int_eq(E->init(&J, x, b.real), 0);
    mg_lanes sx = {x, 1};
    mg_ffs_obs_init(&J.lc, sx);
    /* 1.01 s: a start step that is 1 mod 3, the ring full */
    ck_assert_msg(E->basin(&J, &b, 1, 2020, &err) == MG_OK, "%s", err.msg);
    ck_assert_int_eq(b.t % 3, 1);
    /* 100 = 5 bins = the whole moving-average ring (W = 5): the ring keeps its slots */
    mg_test_ffs_shift_state(mm, x, y, rows, 100);
    mg_ffs_trial tr[2];
    for (int k = 0; k < 2; ++k) {
        memset(&tr[k], 0, sizeof tr[k]);
        tr[k].start = k == 0 ? x : y;
        tr[k].t0 = b.t + (k == 0 ? 0 : 100);
        tr[k].real = 0x80000123u;
        tr[k].end_state = k == 0 ? ex : ey;
    }
    /* the next interface just above the start and A far below: the trial succeeds soon, and its
     * end state is compared */
    double Ds = 0.0;
    for (int w = 0; w < J.lc.W; ++w)
        Ds += x[J.lc.row_ring + w];
    Ds /= J.lc.W;
    for (int k = 0; k < 2; ++k)
        ck_assert_msg(E->trials(&J, &tr[k], 1, 0, Ds - 30.0, Ds + 1.0, &err) == MG_OK, "%s",
                      err.msg);
    ck_assert_int_eq(tr[0].outcome, 1);
    ck_assert_int_eq(tr[0].outcome, tr[1].outcome);
    ck_assert_int_eq(tr[0].end_t - tr[0].t0, tr[1].end_t - tr[1].t0);
    ck_assert(tr[0].max_lam == tr[1].max_lam);
    ck_assert(tr[0].end_t > tr[0].t0 + st_L); /* it ran a while (the ring moved) */
    mg_test_ffs_shift_state(mm, ex, ez, rows, 100);
    ck_assert(memcmp(ez, ey, (size_t)rows * sizeof(double)) == 0);
    free(x);
    free(y);
    free(ex);
    free(ey);
    free(ez);
    E->release(&J);
    mg_model_free(&m);
}
END_TEST

/* ---- the estimate: threads and batch ----------------------------------------------------- */

START_TEST(test_threads_batch_same_bits)
{
    mg_model m;
    mg_test_ffs_micro_model(&m);
    mg_ffs_opts o1, o2, o3;
    mg_test_ffs_micro_opts(&o1, 1, 0);
    mg_test_ffs_micro_opts(&o2, 2, 0);
    mg_test_ffs_micro_opts(&o3, 2, 13);
    mg_ffs_result r1, r2, r3;
    mg_err err = {{0}};
    ck_assert_msg(mg_ffs_run(&m, &o1, &r1, &err) == MG_OK, "%s", err.msg);
    ck_assert_msg(mg_ffs_run(&m, &o2, &r2, &err) == MG_OK, "%s", err.msg);
    ck_assert_msg(mg_ffs_run(&m, &o3, &r3, &err) == MG_OK, "%s", err.msg);
    mg_test_ffs_same_result(&r1, &r2);
    mg_test_ffs_same_result(&r1, &r3);
    for (int d = 0; d < 2; ++d) {
        ck_assert_msg(r1.rate_hz[d] > 0 && isfinite(r1.rate_hz[d]), "rate %g", r1.rate_hz[d]);
        ck_assert(r1.rate_ci_low[d] < r1.rate_hz[d] && r1.rate_hz[d] < r1.rate_ci_high[d]);
        ck_assert(r1.interfaces[d][r1.n_stages[d]] == (d == 0 ? 5.0 : -5.0));
        ck_assert(r1.trials[d][0] >= o1.trials_first);
    }
    ck_assert_int_eq(r1.opts.pool_max, 256); /* the micro level's default */
    mg_model_free(&m);
}
END_TEST

/* ---- the memory estimate ----------------------------------------------------------------- */

START_TEST(test_estimate)
{
    mg_model m;
    mg_test_ffs_micro_model(&m);
    mg_ffs_opts o;
    mg_test_ffs_micro_opts(&o, 2, 0);
    double per, total;
    mg_err err = {{0}};
    ck_assert_msg(mg_ffs_estimate(&m, &o, &per, &total, &err) == MG_OK, "%s", err.msg);
    /* u, ref and 3 history slots of spike ids per neuron: more than 5 N doubles */
    ck_assert_msg(per > 5.0 * 1000 * sizeof(double), "%g bytes per state", per);
    ck_assert(total > 2.0 * MG_FFS_IF_MAX * 256 * per);
    /* N = 10^6 per population: pools of 2 x 32 x 256 states of ~80 MB are refused */
    for (int a = 0; a < m.P; ++a)
        m.pops[a].N = 1000000;
    int rc = mg_ffs_estimate(&m, &o, &per, &total, &err);
    ck_assert_msg(rc == MG_ENOMEM, "rc %d: %s", rc, err.msg);
    ck_assert_msg(strstr(err.msg, "--pool-max") != NULL, "%s", err.msg);
    mg_model_free(&m);
}
END_TEST

static Suite *ffs_micro_suite(void)
{
    Suite *s = suite_create("ffs_micro");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_trial_time_frame);
    tcase_add_test(tc, test_estimate);
    tcase_add_test(tc, test_threads_batch_same_bits);
    suite_add_tcase(s, tc);
    return s;
}

MG_TEST_MAIN(ffs_micro_suite)
