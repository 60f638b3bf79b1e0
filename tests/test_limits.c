/* tests/test_limits.c: the size limits of a run (issue 8, point 5) at their boundaries. Every
 * limit is checked before anything of that size is allocated, a request beyond it is refused
 * with the numbers in the message, and the largest accepted sizes do not overflow 32-bit (or
 * 64-bit) integers:
 *   len_kernel            1e8 steps accepted, 1e8 + 1 refused (model file, src/engine/meso_derive.c)
 *   state rows            <= 2e9 per realization (int row indices): 64 populations of 1e7 are
 *                         refused, not wrapped around
 *   realizations          [first, first + count) within [0, 2^32): index 2^32 - 1 runs,
 *                         count 2^32 passes the range check, 2^32 + 1 does not
 *   steps                 2^32 - 1 accepted, 2^32 refused
 *   N                     1e9 neurons accepted and run (meso), 1e9 + 1 refused
 *   t_ref, delay, dt      lengths in steps beyond 1e8 refused without converting them to
 *                         integers (undefined for huge values) and without a 1e10-step scan
 *   memory                refused before allocation, with the estimate in GB
 * Deterministic (no sampling), so no false failures. */
#include "testutil.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

#include "engine/meso_derive.h"
#include "mesogif/model.h"
#include "mesogif/run.h"

/* The default model B1 with edit applied to its JSON (NULL: unchanged): the parser's status,
 * with err filled. */
typedef void (*edit_fn)(json_t *root);

static json_t *pop(json_t *root, size_t i)
{
    return json_array_get(json_object_get(root, "populations"), i);
}

/* The JSON of B1, parsed. */
static json_t *b1_json(void)
{
    mg_model b1;
    mg_err err = {{0}};
    ck_assert_int_eq(mg_model_default(&b1, &err), MG_OK);
    json_error_t jerr;
    json_t *root = json_loads(b1.json, 0, &jerr);
    ck_assert_ptr_nonnull(root);
    mg_model_free(&b1);
    return root;
}

/* mg_model_parse of root, which it frees. */
static int parse_json(json_t *root, mg_model *m, mg_err *err)
{
    char *text = json_dumps(root, JSON_COMPACT);
    json_decref(root);
    ck_assert_ptr_nonnull(text);
    int rc = mg_model_parse(text, "limits.json", m, err);
    free(text);
    return rc;
}

static int make_model(edit_fn edit, mg_model *m, mg_err *err)
{
    json_t *root = b1_json();
    if (edit)
        edit(root);
    return parse_json(root, m, err);
}

/* make_model with population 0's key set to the integer v. */
static int make_model_pop0(const char *key, json_int_t v, mg_model *m, mg_err *err)
{
    json_t *root = b1_json();
    json_object_set_new(pop(root, 0), key, json_integer(v));
    return parse_json(root, m, err);
}

static void opts_small(mg_run_opts *o)
{
    *o = mg_test_opts(MG_BACKEND_CPU, 100.0, 0.0, 1, 1);
    o->threads = 1;
    o->psd_df_hz = -1.0; /* no spectra: small statistics */
}

/* Peak resident memory of this process so far (bytes). */
static double peak_rss(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_maxrss * 1024.0;
}

/* B1 as make_model gives it, and opts_small. */
static mg_run_opts b1_small(mg_model *m)
{
    mg_err err = {{0}};
    mg_run_opts o;
    ck_assert_msg(make_model(NULL, m, &err) == MG_OK, "%s", err.msg);
    opts_small(&o);
    return o;
}

/* ---- history length -------------------------------------------------------------------- */

START_TEST(len_kernel_boundary)
{
    mg_model m;
    mg_err err = {{0}};
    ck_assert_int_eq(make_model_pop0("len_kernel", 100000000, &m, &err), MG_OK);
    /* accepted: the sizes (no allocation) are 5e8 rows and 2e8 kernel values... */
    int64_t rows = 0, n_k = 0;
    ck_assert_msg(mg_meso_size(&m, 0.5, &rows, &n_k, &err) == MG_OK, "%s", err.msg);
    ck_assert_int_ge(rows, 500000000);
    ck_assert_int_lt(rows, 500100000);
    ck_assert_int_ge(n_k, 200000000);
    /* ...and a run that cannot hold them in memory (4096 threads x 8 lanes x 4 GB) is refused
     * with the numbers, before the 1.6 GB of kernels are allocated and filled */
    mg_run_opts o;
    opts_small(&o);
    o.threads = 4096;
    double per = 0, total = 0, rss0 = peak_rss();
    int rc = mg_run_estimate(&m, &o, &per, &total, &err);
    ck_assert_msg(rc == MG_ENOMEM, "rc %d: %s", rc, err.msg);
    ck_assert_msg(strstr(err.msg, "GB") && strstr(err.msg, "allowed"), "%s", err.msg);
    ck_assert_msg(peak_rss() - rss0 < 256e6, "peak memory grew by %.3g bytes before the refusal",
                  peak_rss() - rss0);
    mg_model_free(&m);

    /* the parser takes any integer */
    ck_assert_int_eq(make_model_pop0("len_kernel", 100000001, &m, &err), MG_OK);
    rc = mg_meso_size(&m, 0.5, &rows, &n_k, &err);
    ck_assert_int_eq(rc, MG_EINVAL);
    ck_assert_msg(strstr(err.msg, "/populations/0/len_kernel") && strstr(err.msg, "100000001") &&
                  strstr(err.msg, "1e8"), "%s", err.msg);
    opts_small(&o);
    ck_assert_int_eq(mg_run_estimate(&m, &o, &per, &total, &err), MG_EINVAL);
    mg_model_free(&m);
}
END_TEST

/* 64 populations of len_kernel 1e7: 5e7 rows each, 3.2e9 in total, beyond int row indices */
static void set_64_pops(json_t *root)
{
    json_t *pops = json_object_get(root, "populations");
    json_t *p0 = json_deep_copy(pop(root, 0));
    json_array_clear(pops);
    for (int a = 0; a < 64; ++a) {
        json_t *p = json_deep_copy(p0);
        char name[16];
        snprintf(name, sizeof name, "Q%d", a);
        json_object_set_new(p, "name", json_string(name));
        json_object_set_new(p, "len_kernel", json_integer(10000000));
        json_array_append_new(pops, p);
    }
    json_decref(p0);
    json_array_clear(json_object_get(root, "projections"));
}

START_TEST(rows_beyond_int_refused)
{
    mg_model m;
    mg_err err = {{0}};
    ck_assert_int_eq(make_model(set_64_pops, &m, &err), MG_OK);
    int64_t rows = 0, n_k = 0;
    ck_assert_int_eq(mg_meso_size(&m, 0.5, &rows, &n_k, &err), MG_EINVAL);
    ck_assert_msg(strstr(err.msg, "rows") && strstr(err.msg, "3200") &&
                  strstr(err.msg, "allowed"), "%s", err.msg);
    mg_run_opts o;
    opts_small(&o);
    double per, total;
    ck_assert_int_eq(mg_run_estimate(&m, &o, &per, &total, &err), MG_EINVAL);
    mg_model_free(&m);
}
END_TEST

/* ---- steps in time: t_ref, delays, tiny dt ---------------------------------------------- */

static void set_t_ref_huge(json_t *root)
{
    json_object_set_new(pop(root, 1), "t_ref", json_real(1e300));
}

static void set_delay_huge(json_t *root)
{
    json_object_set_new(json_array_get(json_object_get(root, "projections"), 0), "delay",
                        json_real(1e300));
}

START_TEST(huge_times_refused)
{
    mg_model m;
    mg_err err = {{0}};
    mg_run_opts o;
    opts_small(&o);
    double per, total;
    ck_assert_int_eq(make_model(set_t_ref_huge, &m, &err), MG_OK);
    ck_assert_int_eq(mg_run_estimate(&m, &o, &per, &total, &err), MG_EINVAL);
    ck_assert_msg(strstr(err.msg, "/populations/1/t_ref") && strstr(err.msg, "1e+300"), "%s",
                  err.msg);
    mg_model_free(&m);
    ck_assert_int_eq(make_model(set_delay_huge, &m, &err), MG_OK);
    ck_assert_int_eq(mg_run_estimate(&m, &o, &per, &total, &err), MG_EINVAL);
    ck_assert_msg(strstr(err.msg, "/projections/0/delay") && strstr(err.msg, "steps"), "%s",
                  err.msg);
    mg_model_free(&m);
    /* dt = 5e-7 ms: the automatic history would scan 4e10 steps, and its 5 tau_m window alone
     * is 2e8 steps: refused at once, with the numbers */
    ck_assert_int_eq(make_model(NULL, &m, &err), MG_OK);
    mg_test_bins(&o, 5e-7, 5e-7, 5e-7);
    o.t_sim_ms = 1.0;
    ck_assert_int_eq(mg_run_estimate(&m, &o, &per, &total, &err), MG_EINVAL);
    ck_assert_msg(strstr(err.msg, "len_kernel") && strstr(err.msg, "steps"), "%s", err.msg);
    /* dt = 1e-300 ms (a 100-step run): no undefined conversion of 2e304 steps either */
    mg_test_bins(&o, 1e-300, 1e-300, 1e-300);
    o.t_sim_ms = 1e-298;
    ck_assert_int_eq(mg_run_estimate(&m, &o, &per, &total, &err), MG_EINVAL);
    mg_model_free(&m);
}
END_TEST

/* ---- realizations, steps ---------------------------------------------------------------- */

START_TEST(realization_range_boundary)
{
    mg_model m;
    mg_run_opts o = b1_small(&m);
    mg_err err = {{0}};
    double per, total;
    /* the last index, 2^32 - 1, runs (the Philox counter holds it) */
    o.realization_first = 4294967295LL;
    o.realization_count = 1;
    mg_result res;
    ck_assert_msg(mg_run(&m, &o, &res, &err) == MG_OK, "%s", err.msg);
    ck_assert(isfinite(res.stats.mean_A[0]));
    ck_assert_int_eq(res.stats.i[res.stats.L.i_nreal], 1);
    mg_result_free(&res);
    /* one more is out of the range, with the range in the message */
    o.realization_count = 2;
    ck_assert_int_eq(mg_run_estimate(&m, &o, &per, &total, &err), MG_EINVAL);
    ck_assert_msg(strstr(err.msg, "--realizations") && strstr(err.msg, "4294967297") &&
                  strstr(err.msg, "2^32"), "%s", err.msg);
    /* 2^32 realizations pass the range check and fit: the statistics keep only the groups in
     * flight (src/engine/ensemble_groups.c), so the estimate is that of one realization's run */
    o.realization_first = 0;
    o.realization_count = 1;
    double total1;
    ck_assert_int_eq(mg_run_estimate(&m, &o, &per, &total1, &err), MG_OK);
    o.realization_count = 4294967296LL;
    int rc = mg_run_estimate(&m, &o, &per, &total, &err);
    ck_assert_msg(rc == MG_OK, "rc %d: %s", rc, err.msg);
    ck_assert_msg(total == total1, "estimate %g bytes for 2^32 realizations, %g for one", total,
                  total1);
    o.realization_count = 4294967297LL;
    ck_assert_int_eq(mg_run_estimate(&m, &o, &per, &total, &err), MG_EINVAL);
    mg_model_free(&m);
}
END_TEST

START_TEST(steps_boundary)
{
    double per, total;
    mg_model m;
    mg_run_opts o = b1_small(&m);
    mg_err err = {{0}};
    /* 2^32 - 1 steps of 1 ms, traces and statistics in 2^20-step bins (small) */
    mg_test_bins(&o, 1.0, 1048576.0, 1048576.0);
    o.t_sim_ms = 4294967295.0;
    o.record_realizations = 1;
    ck_assert_msg(mg_run_estimate(&m, &o, &per, &total, &err) == MG_OK, "%s", err.msg);
    o.t_sim_ms = 4294967296.0;
    ck_assert_int_eq(mg_run_estimate(&m, &o, &per, &total, &err), MG_EINVAL);
    ck_assert_msg(strstr(err.msg, "--t-sim") && strstr(err.msg, "4294967296") &&
                  strstr(err.msg, "2^32-1"), "%s", err.msg);
    mg_model_free(&m);
}
END_TEST

/* ---- neurons ---------------------------------------------------------------------------- */

START_TEST(neurons_boundary)
{
    mg_err err = {{0}};
    mg_model m;
    ck_assert_int_eq(make_model_pop0("N", 1000000000, &m, &err), MG_OK);
    ck_assert_int_eq(m.pops[0].N, 1000000000LL);
    /* a short meso run with 1e9 neurons: counts up to N, products N * K in int64 */
    mg_run_opts o;
    opts_small(&o);
    mg_result res;
    ck_assert_msg(mg_run(&m, &o, &res, &err) == MG_OK, "%s", err.msg);
    ck_assert(isfinite(res.stats.mean_A[0]) && res.stats.mean_A[0] >= 0);
    mg_result_free(&res);
    mg_model_free(&m);
    ck_assert_int_eq(make_model_pop0("N", 1000000001, &m, &err), MG_EINVAL);
    ck_assert_msg(strstr(err.msg, "/populations/0/N") && strstr(err.msg, "1000000001"), "%s",
                  err.msg);
}
END_TEST

/* ---- memory ----------------------------------------------------------------------------- */

START_TEST(memory_refused_before_allocation)
{
    mg_model m;
    mg_run_opts o = b1_small(&m);
    mg_err err = {{0}};
    /* 1e6 recorded realizations x 2 populations x 1e8 bins: 800 TB of traces */
    o.realization_count = o.record_realizations = 1000000;
    o.t_sim_ms = 1e8;
    o.dt_ms = 1.0;
    double per = -1, total = -1, rss0 = peak_rss();
    ck_assert_int_eq(mg_run_estimate(&m, &o, &per, &total, &err), MG_ENOMEM);
    ck_assert_msg(strstr(err.msg, "GB") && strstr(err.msg, "traces") &&
                  strstr(err.msg, "allowed"), "%s", err.msg);
    ck_assert(total > 8e14 && per > 0);
    mg_result res;
    ck_assert_int_eq(mg_run(&m, &o, &res, &err), MG_ENOMEM);
    ck_assert_msg(peak_rss() - rss0 < 256e6, "peak memory grew by %.3g bytes", peak_rss() - rss0);
    mg_model_free(&m);
}
END_TEST

MG_TEST_SUITE(limits,
              MG_TCASE("limits", 120, len_kernel_boundary, rows_beyond_int_refused,
                       huge_times_refused, realization_range_boundary, steps_boundary,
                       neurons_boundary, memory_refused_before_allocation))
