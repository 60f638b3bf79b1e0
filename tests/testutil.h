/* tests/testutil.h: what every Check suite of mesogif shares: the runner main and small helpers
 * (loading a model, bitwise comparisons of two runs).
 * Each tests/test_<concept>.c defines `Suite *<concept>_suite(void)` and ends with
 * MG_TEST_MAIN(<concept>_suite); `make test` builds and runs every tests/test_*.c. */
#ifndef MESOGIF_TESTS_TESTUTIL_H
#define MESOGIF_TESTS_TESTUTIL_H

#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mesogif/model.h"
#include "mesogif/run.h"

/* The runner exits 1 when any test failed, so make sees failures. */
#define MG_TEST_MAIN(suite_fn)                                   \
    int main(void)                                               \
    {                                                            \
        SRunner *sr = srunner_create(suite_fn());                \
        srunner_run_all(sr, CK_NORMAL);                          \
        int nfail = srunner_ntests_failed(sr);                   \
        srunner_free(sr);                                        \
        return nfail == 0 ? EXIT_SUCCESS : EXIT_FAILURE;         \
    }

/* A suite as a table: one mg_tcase per TCase. tests is NULL-terminated (MG_TESTS); loops, where
 * given, is {NULL, 0}-terminated and adds test i for i in [0, n); setup/teardown, where given,
 * run around each test, or once per case (before the tests fork) when once is 1; timeout_s 0
 * keeps Check's default (CK_DEFAULT_TIMEOUT). */
typedef struct {
    const TTest *test;
    int n;
} mg_test_loop;

typedef struct {
    const char *name;
    int timeout_s;
    const TTest *const *tests;
    void (*setup)(void);
    void (*teardown)(void);
    int once;
    const mg_test_loop *loops;
} mg_tcase;

#define MG_TESTS(...) ((const TTest *const[]){__VA_ARGS__, NULL})
#define MG_TCASE(name, timeout_s, ...) {name, timeout_s, MG_TESTS(__VA_ARGS__), NULL, NULL, 0, NULL}

static inline Suite *mg_test_suite(const char *name, const mg_tcase *cases, int n_cases)
{
    Suite *s = suite_create(name);
    for (int c = 0; c < n_cases; ++c) {
        const mg_tcase *k = &cases[c];
        TCase *tc = tcase_create(k->name);
        if (k->setup || k->teardown) {
            if (k->once)
                tcase_add_unchecked_fixture(tc, k->setup, k->teardown);
            else
                tcase_add_checked_fixture(tc, k->setup, k->teardown);
        }
        if (k->timeout_s > 0)
            tcase_set_timeout(tc, k->timeout_s);
        for (const TTest *const *t = k->tests; t && *t; ++t)
            tcase_add_test(tc, *t);
        for (const mg_test_loop *l = k->loops; l && l->test; ++l)
            tcase_add_loop_test(tc, l->test, 0, l->n);
        suite_add_tcase(s, tc);
    }
    return s;
}

/* Suite *<stem>_suite(void) built from the mg_tcase rows given, and the runner main:
 * MG_TEST_SUITE(rng, MG_TCASE("core", 0, a, b), MG_TCASE("stats", 120, c)) */
#define MG_TEST_SUITE(stem, ...)                                                        \
    Suite *stem##_suite(void)                                                          \
    {                                                                                  \
        const mg_tcase tcases_[] = {__VA_ARGS__};                                      \
        return mg_test_suite(#stem, tcases_, (int)(sizeof tcases_ / sizeof *tcases_)); \
    }                                                                                  \
    MG_TEST_MAIN(stem##_suite)

/* MG_TEST_VERBOSE set (and not "0"): the statistical suites print their tables. */
static inline int mg_test_verbose(void)
{
    const char *v = getenv("MG_TEST_VERBOSE");
    return v != NULL && v[0] != '\0' && v[0] != '0';
}

/* mg_run_opts_default with the fields nearly every test sets: backend, simulated time and
 * warm-up (ms), R realizations of which the first rec are recorded as traces. */
static inline mg_run_opts mg_test_opts(mg_backend backend, double t_sim_ms, double t_warmup_ms,
                                       int64_t R, int64_t rec)
{
    mg_run_opts o;
    mg_run_opts_default(&o);
    o.backend = backend;
    o.t_sim_ms = t_sim_ms;
    o.t_warmup_ms = t_warmup_ms;
    o.realization_count = R;
    o.record_realizations = rec;
    return o;
}

/* Load the model file at path, or the default model (B1) for NULL; a failure fails the test. */
static inline void mg_test_model(const char *path, mg_model *m)
{
    mg_err err = {{0}};
    int rc = path ? mg_model_load(path, m, &err) : mg_model_default(m, &err);
    ck_assert_msg(rc == MG_OK, "%s: %s", path ? path : "default model", err.msg);
}

/* Load data/models/<name>.json (the tests run from the repository root); a failure fails the
 * test. */
static inline void mg_test_load(const char *name, mg_model *m)
{
    char path[256];
    snprintf(path, sizeof path, "data/models/%s.json", name);
    mg_test_model(path, m);
}

/* mg_run, which must succeed. */
static inline void mg_test_run(const mg_model *m, const mg_run_opts *o, mg_result *res)
{
    mg_err err = {{0}};
    int rc = mg_run(m, o, res, &err);
    ck_assert_msg(rc == MG_OK, "mg_run: %s", err.msg);
}

/* The statistics of two runs are the same bits (integer and floating sums). */
static inline void mg_test_same_stats(const mg_result *a, const mg_result *b, const char *what)
{
    const mg_stats_layout *L = &a->stats.L;
    ck_assert_msg(L->n_i == b->stats.L.n_i && L->n_d == b->stats.L.n_d, "%s: layouts differ",
                  what);
    ck_assert_msg(memcmp(a->stats.i, b->stats.i, (size_t)L->n_i * sizeof(int64_t)) == 0,
                  "%s: integer sums differ", what);
    ck_assert_msg(memcmp(a->stats.d, b->stats.d, (size_t)L->n_d * sizeof(double)) == 0,
                  "%s: floating sums differ", what);
}

/* Recorded rows [k0, k0 + k) of a's traces are b's first k rows, bit for bit (A_bar too where
 * both runs have it: meso). */
static inline void mg_test_same_traces(const mg_result *a, int64_t k0, const mg_result *b,
                                       int64_t k, const char *what)
{
    ck_assert_int_eq(a->trace_T, b->trace_T);
    size_t row = (size_t)a->P * (size_t)a->trace_T;
    ck_assert_msg(memcmp(a->A_N + k0 * row, b->A_N, k * row * sizeof(float)) == 0,
                  "%s: A_N differs", what);
    if (a->A_bar && b->A_bar)
        ck_assert_msg(memcmp(a->A_bar + k0 * row, b->A_bar, k * row * sizeof(float)) == 0,
                      "%s: A_bar differs", what);
}

#endif /* MESOGIF_TESTS_TESTUTIL_H */
