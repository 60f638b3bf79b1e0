/* tests/test_ensemble.c: reproducibility of the ensemble driver (src/engine/run.c): realization r
 * depends only on (model, options, seed, r). Bitwise comparisons, so no false failures. */
#include "testutil.h"

#include <math.h>
#include <string.h>

#include "mesogif/model.h"
#include "mesogif/run.h"

static mg_model model;

static void setup(void)
{
    mg_err err = {{0}};
    ck_assert_int_eq(mg_model_default(&model, &err), MG_OK);
}

static void teardown(void)
{
    mg_model_free(&model);
}

static void base_opts(mg_run_opts *o)
{
    /* 70 realizations: three reduction groups, the last one partial */
    *o = mg_test_opts(MG_BACKEND_CPU, 1500, 500, 70, 70);
    o->seed = 99;
}

/* base_opts runs on threads_a threads in batches of batch_a (0: automatic), and on threads_b in
 * batches of batch_b, have the same statistics and traces, bit for bit. */
static void runs_agree(int threads_a, int64_t batch_a, int threads_b, int64_t batch_b,
                       const char *what)
{
    mg_run_opts o;
    mg_result r1, r2;
    base_opts(&o);
    o.threads = threads_a;
    o.batch = batch_a;
    mg_test_run(&model, &o, &r1);
    o.threads = threads_b;
    o.batch = batch_b;
    mg_test_run(&model, &o, &r2);
    mg_test_same_run(&r1, &r2, 70, what);
    MG_TEST_RESULTS_FREE(&r1, &r2);
}

START_TEST(one_and_two_threads_are_bitwise_equal)
{
    runs_agree(1, 0, 2, 0, "threads 1 vs 2");
}
END_TEST

START_TEST(batch_size_does_not_matter)
{
    runs_agree(2, 0, 2, 96, "batch auto vs 96");
}
END_TEST

/* A realization run alone, or in a range that starts elsewhere, gives the same trace; its
 * lane position in a SIMD block differs (37 is lane 5 of its block in [0, 70), lane 0 alone). */
START_TEST(realization_alone_equals_realization_in_ensemble)
{
    mg_run_opts o;
    mg_result all, one, tail;
    base_opts(&o);
    mg_test_run(&model, &o, &all);
    mg_test_range(&o, 37, 1);
    mg_test_run(&model, &o, &one);
    mg_test_same_traces(&all, 37, &one, 1, "r = 37 alone");
    mg_test_range(&o, 33, 37);
    mg_test_run(&model, &o, &tail);
    mg_test_same_traces(&all, 33, &tail, 37, "range [33, 70)");
    MG_TEST_RESULTS_FREE(&all, &one, &tail);
}
END_TEST

/* The statistics of disjoint ranges add up to those of their union (integers exactly, floats
 * to rounding). */
START_TEST(stats_of_split_ranges_add_up)
{
    mg_run_opts o;
    mg_result all, a, b;
    mg_err err = {{0}};
    base_opts(&o);
    o.record_realizations = 0;
    mg_test_run(&model, &o, &all);
    o.realization_count = 32;
    mg_test_run(&model, &o, &a);
    o.realization_first = 32;
    o.realization_count = 38;
    mg_test_run(&model, &o, &b);
    ck_assert_int_eq(mg_stats_add(&a.stats, &b.stats, &err), MG_OK);
    mg_test_close_stats(&a.stats, &all.stats, "ranges [0, 32) + [32, 70) vs [0, 70)");
    MG_TEST_RESULTS_FREE(&all, &a, &b);
}
END_TEST

START_TEST(different_seeds_differ_and_same_seed_repeats)
{
    mg_run_opts o;
    mg_result a, b, c;
    base_opts(&o);
    o.realization_count = 8;
    o.record_realizations = 8;
    mg_test_run(&model, &o, &a);
    mg_test_run(&model, &o, &b);
    o.seed = 100;
    mg_test_run(&model, &o, &c);
    mg_test_same_traces(&a, 0, &b, 8, "same seed");
    size_t n = (size_t)8 * a.P * a.trace_T;
    ck_assert_msg(memcmp(a.A_N, c.A_N, n * sizeof(float)) != 0, "seeds 99 and 100 agree");
    /* neighbouring realizations differ too */
    mg_test_neighbours_differ(&a);
    MG_TEST_RESULTS_FREE(&a, &b, &c);
}
END_TEST

MG_TEST_SUITE(ensemble,
              {.name = "core", .timeout_s = 300, .setup = setup, .teardown = teardown,
               .tests = MG_TESTS(one_and_two_threads_are_bitwise_equal, batch_size_does_not_matter,
                                 realization_alone_equals_realization_in_ensemble,
                                 stats_of_split_ranges_add_up,
                                 different_seeds_differ_and_same_seed_repeats)})
