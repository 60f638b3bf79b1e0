/* tests/test_hardening.c: what a damaged or hostile file can do to the readers (issue 8; the
 * fuzzing findings of tests/fuzz/, each as a test through the library's normal entry points).
 * Files are made by a real run and then damaged through the HDF5 API:
 *   - a checkpoint's option bytes carry pointers and an unterminated string: the reader clears
 *     the pointers and terminates the string (a resume used to call the file's "progress"
 *     pointer);
 *   - a checkpoint's progress and parked realizations out of range (group progress outside its
 *     group, a negative step, a switching state of 7, a negative histogram count): refused
 *     before the backend indexes traces or state with them;
 *   - attributes of several values where one is read (stack overflow before), a statistics
 *     configuration asking for ~270 GB of sums (allocated before), negative exit counts (an
 *     endless loop in the confidence limits before);
 *   - merge: a merged file has the root attributes (format, level, ...; none before), merges
 *     again, and a realization index of the wrong length is refused.
 * Deterministic, no sampling: no false failures. */
#include "testutil.h"

#include <hdf5.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "cli/cli.h"
#include "mesogif/io.h"
#include "mesogif/model.h"
#include "mesogif/run.h"

static char g_dir[64];

static void path_in(char *buf, size_t len, const char *name)
{
    snprintf(buf, len, "%s/%s", g_dir, name);
}

static void setup(void)
{
    snprintf(g_dir, sizeof g_dir, "/tmp/mg_test_hardening_XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(g_dir));
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
}

static void teardown(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", g_dir);
    ck_assert_int_eq(system(cmd), 0);
}

static void small_opts(mg_run_opts *o)
{
    /* 1 s: 2000 steps, so checks every 512 steps park mid-run */
    *o = mg_test_opts(MG_BACKEND_CPU, 1000.0, 100.0, 3, 2);
    o->threads = 1;
    o->psd_df_hz = 50.0;
    o->hist_bins = 8;
}

/* A checkpoint with parked realizations: a run that checkpoints at every check (every 512
 * steps) leaves the last one, written mid-run, behind. */
static void make_checkpoint(const char *ckpt)
{
    mg_model m;
    mg_err err = {{0}};
    ck_assert_int_eq(mg_model_default(&m, &err), MG_OK);
    mg_run_opts o;
    small_opts(&o);
    o.checkpoint_path = ckpt;
    o.checkpoint_every_s = 1e-9;
    mg_result res;
    ck_assert_msg(mg_run(&m, &o, &res, &err) == MG_OK, "%s", err.msg);
    mg_result_free(&res);
    mg_model_free(&m);
    ck_assert_int_eq(access(ckpt, R_OK), 0);
}

/* Resume from ckpt as `mesogif run --resume` does; returns mg_run's status, message in err. */
static int resume(const char *ckpt, mg_err *err)
{
    char *json = NULL, *source = NULL, *out = NULL;
    mg_run_opts o;
    int rc = mg_run_checkpoint_read(ckpt, &json, &source, &o, &out, err);
    if (rc != MG_OK)
        return rc;
    mg_model m;
    ck_assert_int_eq(mg_model_parse(json, source, &m, err), MG_OK);
    o.resume_path = ckpt;
    mg_result res;
    rc = mg_run(&m, &o, &res, err);
    if (rc == MG_OK)
        mg_result_free(&res);
    mg_model_free(&m);
    free(json);
    free(source);
    free(out);
    return rc;
}

/* Read (write 0) or overwrite (write 1) the whole dataset at path of file fn, as type t. */
static void dset_io(const char *fn, const char *path, hid_t t, void *v, int write)
{
    hid_t f = H5Fopen(fn, write ? H5F_ACC_RDWR : H5F_ACC_RDONLY, H5P_DEFAULT);
    ck_assert_int_ge(f, 0);
    hid_t d = H5Dopen2(f, path, H5P_DEFAULT);
    ck_assert_int_ge(d, 0);
    herr_t rc = write ? H5Dwrite(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, v)
                      : H5Dread(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, v);
    ck_assert_int_ge(rc, 0);
    H5Dclose(d);
    H5Fclose(f);
}

static void patch_dset(const char *fn, const char *path, hid_t t, const void *v)
{
    dset_io(fn, path, t, (void *)v, 1);
}

static void read_dset(const char *fn, const char *path, hid_t t, void *v)
{
    dset_io(fn, path, t, v, 0);
}

/* The number of elements of the dataset at path of file fn. */
static hssize_t dset_points(const char *fn, const char *path)
{
    hid_t f = H5Fopen(fn, H5F_ACC_RDONLY, H5P_DEFAULT);
    ck_assert_int_ge(f, 0);
    hid_t d = H5Dopen2(f, path, H5P_DEFAULT);
    ck_assert_int_ge(d, 0);
    hid_t sp = H5Dget_space(d);
    hssize_t n = H5Sget_simple_extent_npoints(sp);
    H5Sclose(sp);
    H5Dclose(d);
    H5Fclose(f);
    return n;
}

static void copy_file(const char *from, const char *to)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "cp '%s' '%s'", from, to);
    ck_assert_int_eq(system(cmd), 0);
}

static void patch_attr_i64(const char *fn, const char *obj_path, const char *name,
                           const int64_t *v, hsize_t n);

/* The checkpoint's own attribute readers: an array where one value is read (a stack overflow
 * before: found by fuzz_h5, tests/fuzz/regressions/h5/checkpoint_attribute_array). */
START_TEST(checkpoint_attribute_arrays_refused)
{
    char ckpt[128];
    path_in(ckpt, sizeof ckpt, "d.ckpt");
    make_checkpoint(ckpt);
    int64_t many[300];
    for (int k = 0; k < 300; ++k)
        many[k] = 1;
    patch_attr_i64(ckpt, "/", "format_version", many, 300);
    char *json = NULL, *source = NULL, *out = NULL;
    mg_run_opts o;
    mg_err err = {{0}};
    ck_assert_int_eq(mg_run_checkpoint_read(ckpt, &json, &source, &o, &out, &err), MG_EINVAL);
    ck_assert_msg(strstr(err.msg, "not a mesogif checkpoint"), "%s", err.msg);
    ck_assert_ptr_null(json);
}
END_TEST

static void on_progress(const mg_progress *p, void *user)
{
    (void)p;
    (void)user;
}

START_TEST(checkpoint_pointers_cleared)
{
    char ckpt[128];
    path_in(ckpt, sizeof ckpt, "a.ckpt");
    make_checkpoint(ckpt);
    /* the option bytes as a hostile file would hold them */
    mg_run_opts blob;
    read_dset(ckpt, "/opts", H5T_NATIVE_UCHAR, &blob);
    static volatile int flag = 1;
    blob.progress = on_progress;
    blob.progress_user = &blob;
    blob.cancel = &flag;
    blob.checkpoint_path = "x";
    blob.resume_path = "y";
    blob.output_path = "z";
    memset(blob.switch_observable, 'A', sizeof blob.switch_observable);
    patch_dset(ckpt, "/opts", H5T_NATIVE_UCHAR, &blob);
    char *json = NULL, *source = NULL, *out = NULL;
    mg_run_opts o;
    mg_err err = {{0}};
    ck_assert_int_eq(mg_run_checkpoint_read(ckpt, &json, &source, &o, &out, &err), MG_OK);
    ck_assert_ptr_null(o.progress);
    ck_assert_ptr_null(o.progress_user);
    ck_assert_ptr_null((const void *)(uintptr_t)o.cancel);
    ck_assert_ptr_null(o.checkpoint_path);
    ck_assert_ptr_null(o.resume_path);
    ck_assert_ptr_null(o.output_path);
    ck_assert_uint_lt(strlen(o.switch_observable), sizeof o.switch_observable);
    free(json);
    free(source);
    free(out);
}
END_TEST

/* A copy bad of ckpt with the first entry of the int64 dataset at path (at most 64 entries) set
 * to v is refused (MG_EIO) with a message that contains word1 (and word2 where given). */
static void refused_with(const char *ckpt, const char *bad, const char *path, int64_t v,
                         const char *word1, const char *word2)
{
    int64_t x[64];
    mg_err err = {{0}};
    copy_file(ckpt, bad);
    read_dset(bad, path, H5T_NATIVE_INT64, x);
    x[0] = v;
    patch_dset(bad, path, H5T_NATIVE_INT64, x);
    ck_assert_int_eq(resume(bad, &err), MG_EIO);
    ck_assert_msg(strstr(err.msg, word1) && (!word2 || strstr(err.msg, word2)), "%s: %s", path,
                  err.msg);
}

START_TEST(checkpoint_out_of_range_refused)
{
    char ckpt[128], bad[128];
    path_in(ckpt, sizeof ckpt, "b.ckpt");
    path_in(bad, sizeof bad, "bad.ckpt");
    make_checkpoint(ckpt);
    mg_err err = {{0}};
    /* the intact checkpoint resumes */
    copy_file(ckpt, bad);
    ck_assert_msg(resume(bad, &err) == MG_OK, "%s", err.msg);

    /* group progress before its group: blocks would start at negative trace rows */
    refused_with(ckpt, bad, "/groups_done", -64, "progress of group", "-64");

    /* a parked realization at a negative step, and one outside the run */
    hssize_t m = dset_points(ckpt, "/inflight_t");
    ck_assert_msg(m >= 1 && m <= 8, "%lld parked realizations (the test needs 1..8)",
                  (long long)m);
    refused_with(ckpt, bad, "/inflight_t", -1000, "step outside the run", NULL);
    refused_with(ckpt, bad, "/inflight_r", 1000000, "outside the run's range", NULL);
}
END_TEST

/* The parked state's observer rows: find the switching state (-1, 0 or 1) by damaging every
 * row in turn is too slow; instead set every value to 7: some row is the switching state, and
 * the counts go with it. Refused, never used as an index. */
START_TEST(checkpoint_state_refused)
{
    char ckpt[128], bad[128];
    path_in(ckpt, sizeof ckpt, "c.ckpt");
    path_in(bad, sizeof bad, "bad2.ckpt");
    make_checkpoint(ckpt);
    hssize_t n = dset_points(ckpt, "/inflight_state");
    ck_assert_int_gt(n, 0);
    double *x = malloc((size_t)n * sizeof *x);
    ck_assert_ptr_nonnull(x);
    mg_err err = {{0}};
    const double bad_values[] = {7.0, -3.0, NAN, 1e300};
    for (size_t v = 0; v < sizeof bad_values / sizeof bad_values[0]; ++v) {
        copy_file(ckpt, bad);
        for (hssize_t k = 0; k < n; ++k)
            x[k] = bad_values[v];
        patch_dset(bad, "/inflight_state", H5T_NATIVE_DOUBLE, x);
        ck_assert_int_eq(resume(bad, &err), MG_EIO);
        ck_assert_msg(strstr(err.msg, "parked realization"), "%s", err.msg);
    }
    free(x);
}
END_TEST

/* A result file made by a short run. */
static void make_result(const char *fn, int64_t first, int64_t count)
{
    mg_model m;
    mg_err err = {{0}};
    ck_assert_int_eq(mg_model_default(&m, &err), MG_OK);
    mg_run_opts o;
    small_opts(&o);
    o.t_sim_ms = 400.0;
    o.realization_first = first;
    o.realization_count = count;
    o.realizations_total = 4;
    mg_result res;
    ck_assert_msg(mg_run(&m, &o, &res, &err) == MG_OK, "%s", err.msg);
    ck_assert_msg(mg_h5_write_result(fn, &res, &m, "test", 1, &err) == MG_OK, "%s", err.msg);
    mg_result_free(&res);
    mg_model_free(&m);
}

/* Replace attribute name of the object at obj_path with n int64 values v. */
static void patch_attr_i64(const char *fn, const char *obj_path, const char *name,
                           const int64_t *v, hsize_t n)
{
    hid_t f = H5Fopen(fn, H5F_ACC_RDWR, H5P_DEFAULT);
    ck_assert_int_ge(f, 0);
    hid_t o = H5Oopen(f, obj_path, H5P_DEFAULT);
    ck_assert_int_ge(o, 0);
    if (H5Aexists(o, name) > 0)
        ck_assert_int_ge(H5Adelete(o, name), 0);
    hid_t sp = n == 1 ? H5Screate(H5S_SCALAR) : H5Screate_simple(1, &n, NULL);
    hid_t a = H5Acreate2(o, name, H5T_STD_I64LE, sp, H5P_DEFAULT, H5P_DEFAULT);
    ck_assert_int_ge(a, 0);
    ck_assert_int_ge(H5Awrite(a, H5T_NATIVE_INT64, v), 0);
    H5Aclose(a);
    H5Sclose(sp);
    H5Oclose(o);
    H5Fclose(f);
}

START_TEST(attribute_arrays_refused)
{
    char fn[128];
    path_in(fn, sizeof fn, "r.h5");
    make_result(fn, 0, 3);
    mg_stats s;
    mg_err err = {{0}};
    ck_assert_msg(mg_h5_read_stats(fn, &s, &err) == MG_OK, "%s", err.msg);
    mg_stats_free(&s);
    /* 64 values where one is read: 512 bytes into an int64 before */
    int64_t many[64];
    for (int k = 0; k < 64; ++k)
        many[k] = 2;
    patch_attr_i64(fn, "/stats/sums", "P", many, 64);
    ck_assert_int_eq(mg_h5_read_stats(fn, &s, &err), MG_EIO);
    patch_attr_i64(fn, "/", "format_version", many, 64);
    /* info shows the array by its size */
    FILE *out = tmpfile();
    ck_assert_ptr_nonnull(out);
    ck_assert_int_eq(mg_h5_info(fn, out, &err), MG_OK);
    rewind(out);
    char line[512];
    int seen = 0;
    while (fgets(line, sizeof line, out))
        seen |= strstr(line, "format_version") && strstr(line, "[64 values]");
    fclose(out);
    ck_assert_msg(seen, "info does not show format_version as [64 values]");
}
END_TEST

START_TEST(statistics_size_checked_before_allocation)
{
    char fn[128];
    path_in(fn, sizeof fn, "big.h5");
    make_result(fn, 0, 3);
    /* 64 populations with 2^24-sample spectra: ~3.4e10 doubles of cross-spectra (270 GB) */
    int64_t P = 64, psd_n = 1 << 24;
    patch_attr_i64(fn, "/stats/sums", "P", &P, 1);
    patch_attr_i64(fn, "/stats/sums", "psd_n", &psd_n, 1);
    struct rusage ru0, ru1;
    getrusage(RUSAGE_SELF, &ru0);
    mg_stats s;
    mg_err err = {{0}};
    ck_assert_int_eq(mg_h5_read_stats(fn, &s, &err), MG_EIO);
    ck_assert_msg(strstr(err.msg, "wrong size"), "%s", err.msg);
    getrusage(RUSAGE_SELF, &ru1);
    ck_assert_int_lt(ru1.ru_maxrss - ru0.ru_maxrss, 256 * 1024); /* kB */
}
END_TEST

START_TEST(negative_exit_counts)
{
    double lo = 0, hi = 0;
    mg_rate_ci95(-1, 10.0, &lo, &hi); /* did not return before */
    ck_assert(isnan(lo) && isnan(hi));
    mg_rate_ci95(-1000000, 10.0, &lo, &hi);
    ck_assert(isnan(lo) && isnan(hi));
    mg_rate_ci95(0, 10.0, &lo, &hi);
    ck_assert(lo == 0.0 && hi > 0.36 && hi < 0.37); /* chi2_0.975(2) / 20 = 7.3778 / 20 */
}
END_TEST

static int merge(int n, char **paths)
{
    char *argv[8];
    char verb[] = "merge", force[] = "--force";
    argv[0] = verb;
    argv[1] = force;
    for (int i = 0; i < n; ++i)
        argv[2 + i] = paths[i];
    fflush(stdout);
    return mg_cli_merge(2 + n, argv);
}

START_TEST(merged_file_is_a_result)
{
    char s0[128], s1[128], m1[128], m2[128];
    path_in(s0, sizeof s0, "s0.h5");
    path_in(s1, sizeof s1, "s1.h5");
    path_in(m1, sizeof m1, "m1.h5");
    path_in(m2, sizeof m2, "m2.h5");
    make_result(s0, 0, 2);
    make_result(s1, 2, 2);
    char *a[] = {m1, s0, s1};
    ck_assert_int_eq(merge(3, a), 0);
    /* the root attributes are there (none were copied before: H5Aget_num_attrs(file) = -1) */
    FILE *out = tmpfile();
    mg_err err = {{0}};
    ck_assert_msg(mg_h5_info(m1, out, &err) == MG_OK, "%s", err.msg);
    fclose(out);
    hid_t f = H5Fopen(m1, H5F_ACC_RDONLY, H5P_DEFAULT);
    ck_assert_int_gt(H5Aexists(f, "format"), 0);
    ck_assert_int_gt(H5Aexists(f, "level"), 0);
    ck_assert_int_gt(H5Aexists(f, "dt_ms"), 0);
    H5Fclose(f);
    /* and it merges again */
    char *b[] = {m2, m1};
    ck_assert_int_eq(merge(2, b), 0);
    /* a realization index of the wrong length is refused, not read past its buffer */
    hid_t g = H5Fopen(s1, H5F_ACC_RDWR, H5P_DEFAULT);
    ck_assert_int_ge(H5Ldelete(g, "/traces/realization_index", H5P_DEFAULT), 0);
    hsize_t n = 1000;
    hid_t sp = H5Screate_simple(1, &n, NULL);
    hid_t d = H5Dcreate2(g, "/traces/realization_index", H5T_STD_I64LE, sp, H5P_DEFAULT,
                         H5P_DEFAULT, H5P_DEFAULT);
    int64_t *idx = calloc(n, sizeof *idx);
    ck_assert_int_ge(H5Dwrite(d, H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, idx), 0);
    free(idx);
    H5Dclose(d);
    H5Sclose(sp);
    H5Fclose(g);
    char *c[] = {m1, s0, s1};
    ck_assert_int_eq(merge(3, c), 2);
}
END_TEST

MG_TEST_SUITE(hardening,
              {.name = "checkpoint", .timeout_s = 120, .setup = setup, .teardown = teardown,
               .tests = MG_TESTS(checkpoint_pointers_cleared, checkpoint_out_of_range_refused,
                                 checkpoint_state_refused, checkpoint_attribute_arrays_refused)},
              {.name = "readers", .timeout_s = 120, .setup = setup, .teardown = teardown,
               .tests = MG_TESTS(attribute_arrays_refused,
                                 statistics_size_checked_before_allocation, negative_exit_counts,
                                 merged_file_is_a_result)})
