/* tests/testutil.h: what every Check suite of mesogif shares: the runner main and small helpers
 * (loading a model, bitwise comparisons of two runs).
 * Each tests/test_<concept>.c defines `Suite *<concept>_suite(void)` and ends with
 * MG_TEST_MAIN(<concept>_suite); `make test` builds and runs every tests/test_*.c. */
#ifndef MESOGIF_TESTS_TESTUTIL_H
#define MESOGIF_TESTS_TESTUTIL_H

#include <check.h>
#include <math.h>
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
static inline void mg_test_span(mg_run_opts *o, double t_sim_ms, double t_warmup_ms, int64_t R,
                                int64_t rec);
static inline mg_run_opts mg_test_opts(mg_backend backend, double t_sim_ms, double t_warmup_ms,
                                       int64_t R, int64_t rec)
{
    mg_run_opts o;
    mg_run_opts_default(&o);
    o.backend = backend;
    mg_test_span(&o, t_sim_ms, t_warmup_ms, R, rec);
    return o;
}

/* The fields of a run's size: simulated time and warm-up (ms), R realizations of which the
 * first rec are recorded as traces. */
static inline void mg_test_span(mg_run_opts *o, double t_sim_ms, double t_warmup_ms, int64_t R,
                                int64_t rec)
{
    o->t_sim_ms = t_sim_ms;
    o->t_warmup_ms = t_warmup_ms;
    o->realization_count = R;
    o->record_realizations = rec;
}

/* mg_run_opts_default at level, with the time step of the model file where it gives one. */
static inline void mg_test_model_opts(mg_run_opts *o, const mg_model *m, mg_level level)
{
    mg_run_opts_default(o);
    o->level = level;
    if (m->sim.dt > 0)
        o->dt_ms = m->sim.dt;
}

/* The time step and the two bins (ms): the other fields nearly every test sets. */
static inline void mg_test_bins(mg_run_opts *o, double dt_ms, double record_bin_ms,
                                double stats_bin_ms)
{
    o->dt_ms = dt_ms;
    o->record_bin_ms = record_bin_ms;
    o->stats_bin_ms = stats_bin_ms;
}

/* 1 when a CUDA device is usable; else 0 after "<test>: skipped: no CUDA device (<why>)", so
 * that the GPU suites pass where there is none (CI). */
static inline int mg_test_have_device(const char *test)
{
    char name[160];
    if (!mg_cuda_available(name, sizeof name)) {
        printf("%s: skipped: no CUDA device (%s)\n", test, name);
        return 0;
    }
    return 1;
}

/* Realizations [first, first + count), all recorded. */
static inline void mg_test_range(mg_run_opts *o, int64_t first, int64_t count)
{
    o->realization_first = first;
    o->realization_count = count;
    o->record_realizations = count;
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

/* The statistics of a CPU and a device run: bitwise equal outside the spectral sums
 * [d_psd, d_sw_expo), and within those a difference of at most 1e-9 relative to the block's
 * largest magnitude, written to *psd_rel (cuFFT and FFTW round differently, ~1e-15; a wrong
 * segment or a lost periodogram shows as O(1)). */
static inline int mg_test_stats_fft_close(const mg_result *a, const mg_result *b, double *psd_rel)
{
    const mg_stats_layout *L = &a->stats.L;
    if (L->n_i != b->stats.L.n_i || L->n_d != b->stats.L.n_d)
        return *psd_rel = INFINITY, 0;
    int ok = memcmp(a->stats.i, b->stats.i, (size_t)L->n_i * sizeof(int64_t)) == 0;
    ok &= memcmp(a->stats.d, b->stats.d, (size_t)L->d_psd * sizeof(double)) == 0;
    ok &= memcmp(a->stats.d + L->d_sw_expo, b->stats.d + L->d_sw_expo,
                 (size_t)(L->n_d - L->d_sw_expo) * sizeof(double)) == 0;
    double big = 0.0, diff = 0.0;
    for (int64_t k = L->d_psd; k < L->d_sw_expo; ++k) {
        big = fmax(big, fmax(fabs(a->stats.d[k]), fabs(b->stats.d[k])));
        diff = fmax(diff, fabs(a->stats.d[k] - b->stats.d[k]));
    }
    *psd_rel = big > 0 ? diff / big : diff;
    return ok && *psd_rel <= 1e-9;
}

/* a == b: integers bitwise; floats to 1e-12 relative to the largest magnitude of the field
 * (a sum that cancels to nearly 0, like a cross-spectrum, is only as exact as its terms). */
static inline void mg_test_close_stats(const mg_stats *a, const mg_stats *b,
                                       const char *what)
{
    const mg_stats_layout *L = &a->L;
    ck_assert_msg(memcmp(&a->L, &b->L, sizeof a->L) == 0, "%s: layouts differ", what);
    for (int64_t k = 0; k < L->n_i; ++k)
        ck_assert_msg(a->i[k] == b->i[k], "%s: integer sum %lld: %lld vs %lld", what,
                      (long long)k, (long long)a->i[k], (long long)b->i[k]);
    const int64_t starts[] = {L->d_s1, L->d_s2, L->d_m1, L->d_m2, L->d_v1, L->d_v2, L->d_psd,
                              L->d_psd_m1, L->d_psd_m2, L->d_csd_re, L->d_csd_im, L->d_sw_expo,
                              L->d_sw_d1, L->d_sw_d2, L->n_d};
    for (size_t f = 0; f + 1 < sizeof starts / sizeof starts[0]; ++f) {
        double scale = 0;
        for (int64_t k = starts[f]; k < starts[f + 1]; ++k)
            scale = fmax(scale, fabs(b->d[k]));
        for (int64_t k = starts[f]; k < starts[f + 1]; ++k)
            ck_assert_msg(fabs(a->d[k] - b->d[k]) <= 1e-12 * scale, "%s: field %zu, sum %lld: "
                          "%.17g vs %.17g", what, f, (long long)k, a->d[k], b->d[k]);
    }
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

/* mg_test_same_stats and mg_test_same_traces of b's first k recorded realizations. */
static inline void mg_test_same_run(const mg_result *a, const mg_result *b, int64_t k,
                                    const char *what)
{
    mg_test_same_stats(a, b, what);
    mg_test_same_traces(a, 0, b, k, what);
}

/* The recorded spikes of a and b (micro) are the same bits: per population the count, the
 * times and the node ids; both NULL (meso) counts as the same. */
static inline int mg_test_same_spikes(const mg_result *a, const mg_result *b)
{
    if (!a->spikes || !b->spikes)
        return a->spikes == b->spikes;
    for (int p = 0; p < a->P; ++p) {
        const mg_spikes *x = &a->spikes[p], *y = &b->spikes[p];
        if (x->n != y->n || x->n_neurons != y->n_neurons ||
            memcmp(x->t_ms, y->t_ms, (size_t)x->n * sizeof(double)) != 0 ||
            memcmp(x->node_id, y->node_id, (size_t)x->n * sizeof(uint64_t)) != 0)
            return 0;
    }
    return 1;
}

/* The first two recorded realizations have different traces. */
static inline void mg_test_neighbours_differ(const mg_result *r)
{
    size_t row = (size_t)r->P * (size_t)r->trace_T;
    ck_assert_msg(memcmp(r->A_N, r->A_N + row, row * sizeof(float)) != 0,
                  "realizations 0 and 1 agree");
}

/* A device self-test: print how many of n values (what) differ from the host's, and assert
 * that none does. */
static inline void mg_test_none_differ(const char *what, int64_t bad, int64_t n)
{
    printf("%s: %lld of %lld differ\n", what, (long long)bad, (long long)n);
    ck_assert_msg(bad == 0, "%lld %s differ between host and device", (long long)bad, what);
}

/* fn(p) for every pointer p (of type T *) given, in order. MG_TEST_FREE(a, b, c) frees;
 * MG_TEST_RESULTS_FREE(&r1, &r2) releases results (mg_result_free). */
#define MG_TEST_EACH(fn, T, ...)                                                           \
    do {                                                                                   \
        T *const mg_each_[] = {__VA_ARGS__};                                               \
        for (size_t mg_k_ = 0; mg_k_ < sizeof mg_each_ / sizeof mg_each_[0]; ++mg_k_)      \
            fn(mg_each_[mg_k_]);                                                           \
    } while (0)
#define MG_TEST_FREE(...) MG_TEST_EACH(free, void, __VA_ARGS__)
#define MG_TEST_RESULTS_FREE(...) MG_TEST_EACH(mg_result_free, mg_result, __VA_ARGS__)

#endif /* MESOGIF_TESTS_TESTUTIL_H */
