/* tests/test_io.c: the HDF5 writer of file format 1 (src/io/io_h5_write.c; DESIGN.md "HDF5 file -
 * format 1"; docs/FILE_FORMAT.md).
 *
 * A small ensemble of the default model (bistable pair B1, MODEL.md §3(a)) is run in-process on
 * the CPU, written with mg_h5_write_result and read back through the HDF5 C API, independently
 * of the writer's code. TCases: content (every root attribute, /config, /stats bitwise equal to
 * the in-memory mg_stats, /traces bitwise equal to the result's float32 traces with shape
 * [k][P][T], chunked and deflate-compressed), files (the .partial rule, no overwrite without
 * force, overwrite with force, unwritable folders). Everything compared is deterministic (a
 * fixed seed, and a file must equal the memory it was written from): false-failure
 * probability 0. */
#include "mesogif/io.h"
#include "mesogif/model.h"
#include "mesogif/run.h"
#include "testutil.h"

#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* ------------------------------------------------------------------------------------------
 * One run shared by every test (an unchecked fixture runs once, before the tests fork). */

#define SEED 7u
#define FIRST 3       /* realizations [3, 43): traces hold realizations 3, 4, 5 */
#define COUNT 40
#define RECORD 3

static mg_model g_m;
static mg_result g_res;
static mg_result g_one; /* realization FIRST + 1 alone, for test_trace_order */
static char g_dir[64];
static char g_path[128];
static const char *g_cmd = "mesogif run --t-sim 2s --realizations 40 (test_io)";

static void setup(void)
{
    mg_err err = {{0}};
    ck_assert_msg(mg_model_default(&g_m, &err) == MG_OK, "default model: %s", err.msg);
    mg_run_opts o = mg_test_opts(MG_BACKEND_CPU, 2000.0, 500.0, COUNT, RECORD);
    o.realization_first = FIRST;
    o.seed = SEED;
    o.threads = 2;
    ck_assert_msg(mg_run(&g_m, &o, &g_res, &err) == MG_OK, "mg_run: %s", err.msg);
    /* Every mg_run happens here, in the parent: libgomp's thread pool does not survive the
     * fork that Check makes for each test, so OpenMP in a test body would hang. */
    o.realization_first = FIRST + 1;
    o.realization_count = 1;
    o.record_realizations = 1;
    ck_assert_msg(mg_run(&g_m, &o, &g_one, &err) == MG_OK, "mg_run: %s", err.msg);
    snprintf(g_dir, sizeof g_dir, "/tmp/mg_test_io_XXXXXX");
    ck_assert_msg(mkdtemp(g_dir) != NULL, "mkdtemp failed");
    snprintf(g_path, sizeof g_path, "%s/run.h5", g_dir);
    ck_assert_msg(mg_h5_write_result(g_path, &g_res, &g_m, g_cmd, 0, &err) == MG_OK,
                  "mg_h5_write_result: %s", err.msg);
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
}

static void teardown(void)
{
    static const char *const names[] = {"run.h5", "run.h5.partial", "again.h5",
                                        "again.h5.partial", "file", "ro/x.h5", "ro/x.h5.partial"};
    char p[256];
    for (size_t i = 0; i < sizeof names / sizeof names[0]; ++i) {
        snprintf(p, sizeof p, "%s/%s", g_dir, names[i]);
        unlink(p);
    }
    snprintf(p, sizeof p, "%s/ro", g_dir);
    rmdir(p);
    rmdir(g_dir);
    mg_result_free(&g_res);
    mg_result_free(&g_one);
    mg_model_free(&g_m);
}

/* ------------------------------------------------------------------------------------------
 * Readers (plain HDF5 C API) */

static hid_t open_file(const char *path)
{
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    ck_assert_msg(f >= 0, "%s does not open as HDF5", path);
    return f;
}

/* A variable-length string attribute of obj (malloc'ed copy). */
static char *attr_str(hid_t obj, const char *name)
{
    ck_assert_msg(H5Aexists(obj, name) > 0, "attribute %s missing", name);
    hid_t a = H5Aopen(obj, name, H5P_DEFAULT);
    hid_t ft = H5Aget_type(a);
    ck_assert_msg(H5Tget_class(ft) == H5T_STRING, "attribute %s is not a string", name);
    hid_t mt = H5Tcopy(H5T_C_S1);
    H5Tset_size(mt, H5T_VARIABLE);
    H5Tset_cset(mt, H5Tget_cset(ft));
    char *s = NULL;
    ck_assert_msg(H5Aread(a, mt, &s) >= 0 && s, "attribute %s unreadable", name);
    char *copy = strdup(s);
    H5free_memory(s);
    H5Tclose(mt);
    H5Tclose(ft);
    H5Aclose(a);
    return copy;
}

static void check_attr_str(hid_t obj, const char *name, const char *want)
{
    char *s = attr_str(obj, name);
    ck_assert_msg(strcmp(s, want) == 0, "attribute %s = \"%s\", expected \"%s\"", name, s, want);
    free(s);
}

static int64_t attr_i64(hid_t obj, const char *name)
{
    ck_assert_msg(H5Aexists(obj, name) > 0, "attribute %s missing", name);
    hid_t a = H5Aopen(obj, name, H5P_DEFAULT);
    hid_t ft = H5Aget_type(a);
    ck_assert_msg(H5Tget_class(ft) == H5T_INTEGER, "attribute %s is not an integer", name);
    int64_t v = 0;
    ck_assert(H5Aread(a, H5T_NATIVE_INT64, &v) >= 0);
    H5Tclose(ft);
    H5Aclose(a);
    return v;
}

static double attr_f64(hid_t obj, const char *name)
{
    ck_assert_msg(H5Aexists(obj, name) > 0, "attribute %s missing", name);
    hid_t a = H5Aopen(obj, name, H5P_DEFAULT);
    hid_t ft = H5Aget_type(a);
    ck_assert_msg(H5Tget_class(ft) == H5T_FLOAT, "attribute %s is not a float", name);
    double v = NAN;
    ck_assert(H5Aread(a, H5T_NATIVE_DOUBLE, &v) >= 0);
    H5Tclose(ft);
    H5Aclose(a);
    return v;
}

/* Read dataset path into buf (n elements of mem_type); checks rank, shape and the file type's
 * class and size. dims may be NULL for a scalar (rank 0). */
static void read_dset(hid_t f, const char *path, hid_t mem_type, H5T_class_t cls, size_t size,
                      int rank, const hsize_t *dims, void *buf)
{
    ck_assert_msg(H5Lexists(f, path, H5P_DEFAULT) > 0, "%s missing", path);
    hid_t d = H5Dopen2(f, path, H5P_DEFAULT);
    ck_assert_msg(d >= 0, "%s does not open", path);
    hid_t ft = H5Dget_type(d);
    ck_assert_msg(H5Tget_class(ft) == cls && H5Tget_size(ft) == size,
                  "%s: file type of class %d size %zu, expected class %d size %zu", path,
                  (int)H5Tget_class(ft), H5Tget_size(ft), (int)cls, size);
    hid_t s = H5Dget_space(d);
    int r = H5Sget_simple_extent_ndims(s);
    ck_assert_msg(r == rank, "%s has rank %d, expected %d", path, r, rank);
    hsize_t got[8] = {0};
    H5Sget_simple_extent_dims(s, got, NULL);
    for (int i = 0; i < rank; ++i)
        ck_assert_msg(got[i] == dims[i], "%s: dimension %d is %llu, expected %llu", path, i,
                      (unsigned long long)got[i], (unsigned long long)dims[i]);
    ck_assert_msg(H5Dread(d, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) >= 0,
                  "%s unreadable", path);
    H5Sclose(s);
    H5Tclose(ft);
    H5Dclose(d);
}

/* A float64 dataset equals n doubles bitwise (NaN included). */
static void check_f64(hid_t f, const char *path, int rank, const hsize_t *dims, const double *want,
                      size_t n)
{
    double *got = malloc((n ? n : 1) * sizeof *got);
    read_dset(f, path, H5T_NATIVE_DOUBLE, H5T_FLOAT, 8, rank, dims, got);
    for (size_t i = 0; i < n; ++i)
        ck_assert_msg(memcmp(&got[i], &want[i], sizeof(double)) == 0,
                      "%s[%zu] = %.17g, in memory %.17g", path, i, got[i], want[i]);
    free(got);
}

static void check_i64(hid_t f, const char *path, int64_t want)
{
    int64_t got = -1;
    read_dset(f, path, H5T_NATIVE_INT64, H5T_INTEGER, 8, 0, NULL, &got);
    ck_assert_msg(got == want, "%s = %lld, in memory %lld", path, (long long)got,
                  (long long)want);
}

/* A scalar or 1-D variable-length string dataset, element i (malloc'ed copy). */
static char *dset_str(hid_t f, const char *path, size_t i, size_t n_expected)
{
    hid_t d = H5Dopen2(f, path, H5P_DEFAULT);
    ck_assert_msg(d >= 0, "%s missing", path);
    hid_t ft = H5Dget_type(d);
    ck_assert_msg(H5Tget_class(ft) == H5T_STRING && H5Tis_variable_str(ft) > 0,
                  "%s is not a variable-length string", path);
    hid_t s = H5Dget_space(d);
    hssize_t n = H5Sget_simple_extent_npoints(s);
    ck_assert_msg((size_t)n == n_expected, "%s holds %lld strings, expected %zu", path,
                  (long long)n, n_expected);
    hid_t mt = H5Tcopy(H5T_C_S1);
    H5Tset_size(mt, H5T_VARIABLE);
    H5Tset_cset(mt, H5Tget_cset(ft));
    char **v = calloc((size_t)n, sizeof *v);
    ck_assert(H5Dread(d, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) >= 0);
    char *copy = strdup(v[i]);
    for (hssize_t k = 0; k < n; ++k)
        H5free_memory(v[k]);
    free(v);
    H5Tclose(mt);
    H5Sclose(s);
    H5Tclose(ft);
    H5Dclose(d);
    return copy;
}

/* The whole file as bytes (malloc'ed), for "left untouched" checks. */
static unsigned char *slurp(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    ck_assert_msg(fp != NULL, "%s cannot be opened", path);
    fseek(fp, 0, SEEK_END);
    long n = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    unsigned char *b = malloc((size_t)n + 1);
    ck_assert(fread(b, 1, (size_t)n, fp) == (size_t)n);
    fclose(fp);
    *len = (size_t)n;
    return b;
}

static int exists(const char *path)
{
    return access(path, F_OK) == 0;
}

/* ------------------------------------------------------------------------------------------
 * content */

START_TEST(test_root_attributes)
{
    hid_t f = open_file(g_path);
    check_attr_str(f, "format", "mesogif");
    ck_assert_int_eq(attr_i64(f, "format_version"), 1);
    ck_assert_int_eq(MG_FORMAT_VERSION, 1);
    check_attr_str(f, "mesogif_version", MG_VERSION);
    /* the library's commit (fixed when it was built), not necessarily this test's */
    char *gc = attr_str(f, "git_commit");
    ck_assert_msg(strlen(gc) > 0, "git_commit is empty");
    free(gc);
    check_attr_str(f, "command_line", g_cmd);
    check_attr_str(f, "level", "meso");
    check_attr_str(f, "backend", "cpu");
    check_attr_str(f, "device", g_res.device);
    ck_assert_msg(strstr(g_res.device, "OpenMP") != NULL, "device \"%s\"", g_res.device);
    ck_assert_int_eq(attr_i64(f, "seed"), SEED);
    ck_assert_int_eq(attr_i64(f, "realization_first"), FIRST);
    ck_assert_int_eq(attr_i64(f, "realization_count"), COUNT);
    ck_assert(attr_f64(f, "dt_ms") == 0.5);
    ck_assert(attr_f64(f, "t_sim_ms") == 2000.0);
    ck_assert(attr_f64(f, "t_warmup_ms") == 500.0);
    check_attr_str(f, "noise", "binomial");

    /* created: ISO 8601 UTC, "YYYY-MM-DDTHH:MM:SSZ", within a day of now (clock skew aside) */
    char *cr = attr_str(f, "created");
    struct tm tmv;
    memset(&tmv, 0, sizeof tmv);
    const char *end = strptime(cr, "%Y-%m-%dT%H:%M:%SZ", &tmv);
    ck_assert_msg(end && *end == '\0' && strlen(cr) == 20, "created = \"%s\"", cr);
    double age = difftime(time(NULL), timegm(&tmv));
    ck_assert_msg(fabs(age) < 86400.0, "created = \"%s\" is %g s from now", cr, age);
    free(cr);
    H5Fclose(f);
}
END_TEST

START_TEST(test_config)
{
    hid_t f = open_file(g_path);
    char *json = dset_str(f, "/config/model_json", 0, 1);
    ck_assert_msg(strlen(json) == strlen(g_m.json) && memcmp(json, g_m.json, strlen(json)) == 0,
                  "/config/model_json differs from the model text (%zu vs %zu bytes)",
                  strlen(json), strlen(g_m.json));
    free(json);
    char *src = dset_str(f, "/config/model_source", 0, 1);
    ck_assert_str_eq(src, "<embedded B1>");
    free(src);
    for (int a = 0; a < 2; ++a) {
        char *nm = dset_str(f, "/config/populations", (size_t)a, 2);
        ck_assert_str_eq(nm, a == 0 ? "P1" : "P2");
        free(nm);
    }

    /* K of B1 at dt = 0.5 ms: no adaptation, so the window is 5 tau_m = 100 ms = 200 steps
     * (MODEL.md §2.2, GetHistoryLength of Schwalger et al. 2017, Fig. 11) */
    double K = NAN;
    read_dset(f, "/config/resolved/P1/K", H5T_NATIVE_DOUBLE, H5T_FLOAT, 8, 0, NULL, &K);
    ck_assert_msg(K == 200.0, "/config/resolved/P1/K = %g, expected 200", K);
    /* every resolved quantity of the run, under its own path, bitwise */
    ck_assert(g_res.n_resolved > 0);
    for (int i = 0; i < g_res.n_resolved; ++i) {
        char p[300];
        snprintf(p, sizeof p, "/config/resolved/%s", g_res.resolved[i].name);
        check_f64(f, p, 0, NULL, &g_res.resolved[i].value, 1);
    }

    hid_t og = H5Gopen2(f, "/config/options", H5P_DEFAULT);
    ck_assert_msg(og >= 0, "/config/options missing");
    ck_assert(attr_f64(og, "record_bin_ms") == 1.0);
    ck_assert(attr_f64(og, "stats_bin_ms") == 10.0);
    ck_assert_int_eq(attr_i64(og, "record_realizations"), RECORD);
    H5Gclose(og);
    H5Fclose(f);
}
END_TEST

START_TEST(test_stats_bitwise)
{
    const mg_stats *s = &g_res.stats;
    const mg_stats_layout *L = &s->L;
    ck_assert_int_eq(L->P, 2);
    /* statistics after the warm-up only: (2000 - 500) ms / 10 ms = 150 bins per realization */
    ck_assert_int_eq(s->i[L->i_count], (int64_t)COUNT * 150);
    hsize_t P = 2, PP[2] = {2, 2};
    hid_t f = open_file(g_path);
    check_i64(f, "/stats/count", s->i[L->i_count]);
    check_f64(f, "/stats/bin_ms", 0, NULL, &s->bin_ms, 1);
    check_f64(f, "/stats/mean_A", 1, &P, s->mean_A, 2);
    check_f64(f, "/stats/var_A", 1, &P, s->var_A, 2);
    check_f64(f, "/stats/cov_A", 2, PP, s->cov_A, 4);
    check_f64(f, "/stats/mean_A_sem", 1, &P, s->mean_A_sem, 2);
    check_i64(f, "/stats/sums/n_realizations", s->i[L->i_nreal]);
    check_f64(f, "/stats/sums/sum_A", 1, &P, s->d + L->d_s1, 2);
    check_f64(f, "/stats/sums/sum_AA", 2, PP, s->d + L->d_s2, 4);
    check_f64(f, "/stats/sums/sum_realization_mean", 1, &P, s->d + L->d_m1, 2);
    check_f64(f, "/stats/sums/sum_realization_mean_sq", 1, &P, s->d + L->d_m2, 2);
    /* a sanity anchor, so that equal garbage cannot pass: B1 fires at ~9 Hz on average */
    for (int a = 0; a < 2; ++a)
        ck_assert_msg(s->mean_A[a] > 2.0 && s->mean_A[a] < 20.0, "mean_A[%d] = %g", a,
                      s->mean_A[a]);
    H5Fclose(f);
}
END_TEST

/* Shape, values, storage and attributes of one trace dataset. */
static void check_trace(hid_t f, const char *path, const float *want)
{
    const int64_t k = g_res.trace_k, T = g_res.trace_T;
    ck_assert_int_eq(k, RECORD);
    ck_assert_int_eq(T, 2000); /* 2 s in 1 ms bins */
    hsize_t dims[3] = {(hsize_t)k, 2, (hsize_t)T};
    size_t n = (size_t)(k * 2 * T);
    float *got = malloc(n * sizeof *got);
    read_dset(f, path, H5T_NATIVE_FLOAT, H5T_FLOAT, 4, 3, dims, got);
    ck_assert_msg(memcmp(got, want, n * sizeof *got) == 0, "%s differs from the result", path);
    double sum = 0.0;
    for (size_t i = 0; i < n; ++i)
        sum += got[i];
    ck_assert_msg(sum > 0.0, "%s is all zero", path);
    free(got);

    hid_t d = H5Dopen2(f, path, H5P_DEFAULT);
    hid_t dcpl = H5Dget_create_plist(d);
    ck_assert_msg(H5Pget_layout(dcpl) == H5D_CHUNKED, "%s is not chunked", path);
    hsize_t chunk[3] = {0, 0, 0};
    ck_assert_int_eq(H5Pget_chunk(dcpl, 3, chunk), 3);
    ck_assert_msg(chunk[0] == 1 && chunk[1] == 1 && chunk[2] == (hsize_t)T,
                  "%s chunks %llu x %llu x %llu, expected 1 x 1 x %lld", path,
                  (unsigned long long)chunk[0], (unsigned long long)chunk[1],
                  (unsigned long long)chunk[2], (long long)T);
    int deflate = 0, nf = H5Pget_nfilters(dcpl);
    for (int i = 0; i < nf; ++i) {
        unsigned flags, cd[8];
        size_t ncd = 8;
        char name[64];
        if (H5Pget_filter2(dcpl, (unsigned)i, &flags, &ncd, cd, sizeof name, name, NULL) ==
            H5Z_FILTER_DEFLATE)
            deflate = 1;
    }
    ck_assert_msg(deflate, "%s is not deflate-compressed (%d filters)", path, nf);
    ck_assert(attr_f64(d, "dt_ms") == 1.0);
    ck_assert(attr_f64(d, "t0_ms") == 0.0);
    check_attr_str(d, "units", "Hz");
    ck_assert_int_eq(attr_i64(d, "realization_first"), FIRST);
    H5Pclose(dcpl);
    H5Dclose(d);
}

START_TEST(test_traces)
{
    ck_assert_ptr_nonnull(g_res.A_N);
    ck_assert_ptr_nonnull(g_res.A_bar);
    hid_t f = open_file(g_path);
    check_trace(f, "/traces/A_N", g_res.A_N);
    check_trace(f, "/traces/A_bar", g_res.A_bar);
    H5Fclose(f);
}
END_TEST

/* The recorded traces are those of the first realizations of the range, in order: a run of
 * just realization FIRST + 1 gives the second trace of the file, bitwise (DESIGN.md property 2:
 * realization r depends only on the model, dynamics options, seed and r). */
START_TEST(test_trace_order)
{
    const mg_result *one = &g_one;
    size_t T = (size_t)g_res.trace_T;
    ck_assert_int_eq(one->trace_T, (int64_t)T);
    ck_assert_msg(memcmp(one->A_N, g_res.A_N + 2 * T, 2 * T * sizeof(float)) == 0,
                  "trace 1 of the file is not realization %d", FIRST + 1);
    ck_assert_msg(memcmp(one->A_N, g_res.A_N, 2 * T * sizeof(float)) != 0,
                  "traces 0 and 1 are equal");
}
END_TEST

/* ------------------------------------------------------------------------------------------
 * files */

START_TEST(test_partial_and_force)
{
    char path[160], partial[176];
    mg_err err = {{0}};
    snprintf(path, sizeof path, "%s/again.h5", g_dir);
    snprintf(partial, sizeof partial, "%s.partial", path);

    ck_assert_int_eq(mg_h5_write_result(path, &g_res, &g_m, "first", 0, &err), MG_OK);
    ck_assert_msg(exists(path) && !exists(partial), "%s.partial left behind", path);
    char gp[160];
    snprintf(gp, sizeof gp, "%s.partial", g_path);
    ck_assert_msg(!exists(gp), "%s left behind", gp);
    size_t n1, n2;
    unsigned char *b1 = slurp(path, &n1);
    sleep(1); /* a rewrite would change the "created" attribute */

    /* exists, no force: MG_EIO, message names the file and --force, file untouched */
    err.msg[0] = '\0';
    ck_assert_int_eq(mg_h5_write_result(path, &g_res, &g_m, "second", 0, &err), MG_EIO);
    ck_assert_msg(strstr(err.msg, path) && strstr(err.msg, "exists") &&
                      strstr(err.msg, "--force"),
                  "message \"%s\"", err.msg);
    ck_assert(!exists(partial));
    unsigned char *b2 = slurp(path, &n2);
    ck_assert_msg(n1 == n2 && memcmp(b1, b2, n1) == 0, "%s was modified without force", path);
    free(b2);

    /* force: replaced */
    ck_assert_int_eq(mg_h5_write_result(path, &g_res, &g_m, "second", 1, &err), MG_OK);
    ck_assert(!exists(partial));
    hid_t f = open_file(path);
    check_attr_str(f, "command_line", "second");
    H5Fclose(f);
    b2 = slurp(path, &n2);
    ck_assert_msg(n1 != n2 || memcmp(b1, b2, n1) != 0, "--force did not rewrite %s", path);
    free(b1);
    free(b2);
}
END_TEST

/* The write fails with MG_EIO, a message naming the file and telling the folder is not
 * writable, and leaves neither the file nor its .partial. */
static void check_unwritable(const char *path)
{
    char partial[300];
    mg_err err = {{0}};
    snprintf(partial, sizeof partial, "%s.partial", path);
    int rc = mg_h5_write_result(path, &g_res, &g_m, "x", 0, &err);
    ck_assert_msg(rc == MG_EIO, "%s: rc %d, expected MG_EIO", path, rc);
    ck_assert_msg(strstr(err.msg, path) && strstr(err.msg, "cannot create") &&
                      strstr(err.msg, "writable"),
                  "message \"%s\"", err.msg);
    ck_assert_msg(strchr(err.msg, '\n') == NULL, "message has a newline: \"%s\"", err.msg);
    ck_assert(!exists(path));
    ck_assert(!exists(partial));
}

START_TEST(test_unwritable)
{
    char p[200];
    snprintf(p, sizeof p, "%s/no_such_folder/x.h5", g_dir);
    check_unwritable(p);
    /* a regular file where a folder should be: unwritable even for root */
    snprintf(p, sizeof p, "%s/file", g_dir);
    FILE *fp = fopen(p, "w");
    ck_assert(fp != NULL);
    fclose(fp);
    snprintf(p, sizeof p, "%s/file/x.h5", g_dir);
    check_unwritable(p);
    /* a read-only folder (root may write anyway, so only checked for other users) */
    if (geteuid() != 0) {
        snprintf(p, sizeof p, "%s/ro", g_dir);
        ck_assert(mkdir(p, 0555) == 0);
        snprintf(p, sizeof p, "%s/ro/x.h5", g_dir);
        check_unwritable(p);
    }
}
END_TEST

MG_TEST_SUITE(io,
              {.name = "content", .timeout_s = 120, .setup = setup, .teardown = teardown, .once = 1,
               .tests = MG_TESTS(test_root_attributes, test_config, test_stats_bitwise, test_traces,
                                 test_trace_order)},
              {.name = "files", .timeout_s = 120, .setup = setup, .teardown = teardown, .once = 1,
               .tests = MG_TESTS(test_partial_and_force, test_unwritable)})
