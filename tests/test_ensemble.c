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

START_TEST(one_and_two_threads_are_bitwise_equal)
{
    mg_run_opts o;
    mg_result r1, r2;
    base_opts(&o);
    o.threads = 1;
    mg_test_run(&model, &o, &r1);
    o.threads = 2;
    mg_test_run(&model, &o, &r2);
    mg_test_same_stats(&r1, &r2, "threads 1 vs 2");
    mg_test_same_traces(&r1, 0, &r2, 70, "threads 1 vs 2");
    mg_result_free(&r1);
    mg_result_free(&r2);
}
END_TEST

START_TEST(batch_size_does_not_matter)
{
    mg_run_opts o;
    mg_result r1, r2;
    base_opts(&o);
    o.threads = 2;
    o.batch = 0;
    mg_test_run(&model, &o, &r1);
    o.batch = 96;
    mg_test_run(&model, &o, &r2);
    mg_test_same_stats(&r1, &r2, "batch auto vs 96");
    mg_test_same_traces(&r1, 0, &r2, 70, "batch auto vs 96");
    mg_result_free(&r1);
    mg_result_free(&r2);
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
    o.realization_first = 37;
    o.realization_count = 1;
    o.record_realizations = 1;
    mg_test_run(&model, &o, &one);
    mg_test_same_traces(&all, 37, &one, 1, "r = 37 alone");
    o.realization_first = 33;
    o.realization_count = 37;
    o.record_realizations = 37;
    mg_test_run(&model, &o, &tail);
    mg_test_same_traces(&all, 33, &tail, 37, "range [33, 70)");
    mg_result_free(&all);
    mg_result_free(&one);
    mg_result_free(&tail);
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
    for (int64_t k = 0; k < all.stats.L.n_i; ++k)
        ck_assert_int_eq(a.stats.i[k], all.stats.i[k]);
    /* floats to 1e-12 relative to the largest magnitude of the field they belong to: a sum
     * that cancels to nearly 0 (a cross-spectrum) is only as exact as its terms */
    const mg_stats_layout *L = &all.stats.L;
    const int64_t starts[] = {L->d_s1, L->d_s2, L->d_m1, L->d_m2, L->d_v1, L->d_v2, L->d_psd,
                              L->d_psd_m1, L->d_psd_m2, L->d_csd_re, L->d_csd_im, L->d_sw_expo,
                              L->d_sw_d1, L->d_sw_d2, L->n_d};
    for (size_t f = 0; f + 1 < sizeof starts / sizeof starts[0]; ++f) {
        double scale = 0;
        for (int64_t k = starts[f]; k < starts[f + 1]; ++k)
            scale = fmax(scale, fabs(all.stats.d[k]));
        for (int64_t k = starts[f]; k < starts[f + 1]; ++k)
            ck_assert_msg(fabs(a.stats.d[k] - all.stats.d[k]) <= 1e-12 * scale,
                          "field %zu, sum %lld: %.17g vs %.17g (scale %g)", f, (long long)k,
                          a.stats.d[k], all.stats.d[k], scale);
    }
    mg_result_free(&all);
    mg_result_free(&a);
    mg_result_free(&b);
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
    size_t row = (size_t)a.P * a.trace_T;
    ck_assert_msg(memcmp(a.A_N, a.A_N + row, row * sizeof(float)) != 0,
                  "realizations 0 and 1 agree");
    mg_result_free(&a);
    mg_result_free(&b);
    mg_result_free(&c);
}
END_TEST

MG_TEST_SUITE(ensemble,
              {.name = "core", .timeout_s = 300, .setup = setup, .teardown = teardown,
               .tests = MG_TESTS(one_and_two_threads_are_bitwise_equal, batch_size_does_not_matter,
                                 realization_alone_equals_realization_in_ensemble,
                                 stats_of_split_ranges_add_up,
                                 different_seeds_differ_and_same_seed_repeats)})
