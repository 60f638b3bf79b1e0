/* tests/test_theory_sim.c: the theory written by `mesogif run --theory` (/theory, src/io/io_h5_theory.c,
 * docs/THEORY.md §7) against the mesoscopic simulation it is written next to.
 *
 * Every test simulates in its own (forked) process with mg_run (CPU backend, 2 threads), writes
 * the file with mg_h5_write_result and reads /stats and /theory back through the HDF5 C API, so
 * the whole path of the issue-7 output is exercised. No OpenMP runs in the parent process.
 *
 * Spectra are compared as band averages over log-spaced (octave) bands: r = <sim>/<theory>, with
 * the band's standard error sigma = sqrt(sum_k psd_sem_k^2) / m / <theory> (periodogram ordinates
 * at different Fourier frequencies are nearly independent; sigma agrees with 1/sqrt(m segments)
 * to 10 %). /theory/psd is the expectation of the estimator (bin average, aliasing and the
 * rectangular window included), so without a model error E[r] = 1 in every band.
 *
 *   layout:      B1 (MODEL.md §3(a)): three fixed points, the middle one unstable with a NaN
 *                spectrum row, /theory/freq equal to /stats/freq; --psd-df off: fixed points
 *                only; a theory that cannot be computed leaves the run intact plus
 *                theory_error. Deterministic: false-failure rate 0.
 *   renewal:     uncoupled population (MODEL.md §3(d), C set), meso at dt = 0.5 ms, 16 x 500 s:
 *                |r - 1| <= 4 sigma + allowance(band) in 9 octave bands 1-500 Hz. The allowance
 *                is the meso model's own deviation from exact renewal theory, measured at
 *                dt = 0.5, 0.2 and 0.1 ms (table in renewal_uncoupled): +12 % at 1-2 Hz, -10 %
 *                at 8-16 Hz (the ISI peak) at every dt, so it is a property of the mesoscopic
 *                approximation (MODEL.md §4.3 reports the same for the reference
 *                implementation: meso 8 % above micro at 1-3 Hz, 8 % below at the peak), not of
 *                the time step. Above 32 Hz it is below 1 %, and the test is tight there (about
 *                2 %: the shot-noise floor, bin averaging and aliasing). False-failure rate:
 *                4 sigma per band, 9 bands: < 6e-4 (the measured values lie 7 sigma or more
 *                inside the tolerances).
 *   response:    E/I network 3(c) (data/models/ei_network.json) with N x 100 and J / 100: the same
 *                mean-field network (w, fixed point, susceptibilities, characteristic matrix are
 *                unchanged), finite-size noise 100 times weaker; meso at dt = 0.2 ms, 48 x 26 s:
 *                the expectation of r within 15 % in the 7 octave bands below 100 Hz for both
 *                populations, i.e. |r - 1| <= 0.15 + 3 sigma. Measured (24 x 100 s, sigma
 *                0.3-2.8 %): E 1.107 1.074 0.934 0.869 0.893 0.983 0.993, I 1.031 1.011 0.930
 *                0.872 0.901 0.979 0.999. The 8-32 Hz deficit (-10..-13 %) is the meso model's
 *                own deviation from renewal noise at the ISI peak (as in the uncoupled test,
 *                -10 % at 8-16 Hz), amplified by the 20 Hz resonance; it does not shrink with N
 *                (N x 1000: 0.90) or dt (0.1 ms: 0.86-0.94). False-failure rate < 1e-5 (8-16 Hz,
 *                the closest band, lies 4.8 sigma inside the limit).
 *                3(c) itself (N = 800/200) is not within 15 %: its fluctuations are large (std of
 *                A_E 10 Hz at a mean of 17 Hz, close to the oscillatory instability), the 20 Hz
 *                resonance is 30 % below the linear prediction and its harmonic at 40 Hz 2.3x
 *                above it (docs/THEORY.md §7). For 3(c) the test checks what linear theory
 *                does get right there: the resonance frequency (maximum of the spectrum within
 *                2 Hz = 2 frequency bins; the bins 3 Hz away hold half the power) and the
 *                high-frequency bands 128-500 Hz (within 10 %; measured 0.99-1.04, sigma
 *                0.5 %). False-failure rate < 1e-6. */
#include "io/io_h5_internal.h"
#include "mesogif/io.h"
#include "mesogif/model.h"
#include "mesogif/run.h"
#include "mesogif/theory.h"
#include "testutil.h"

#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- helpers ---------------------------------------------------------------------------------- */

static void opts_for(mg_run_opts *o, double dt_ms, double t_sim_ms, int64_t R, uint32_t seed)
{
    *o = mg_test_opts(MG_BACKEND_CPU, t_sim_ms, 1000.0, R, 0);
    o->threads = 2;
    mg_test_bins(o, dt_ms, 1.0, 1.0);
    o->seed = seed;
    o->psd_df_hz = 1.0;
    o->psd_bin_ms = 1.0;
    o->theory = 1;
}

/* Run, write to a fresh temporary file (path returned in path[len]), free the result. */
static void run_to_file(const mg_model *m, const mg_run_opts *o, char *path, size_t len)
{
    mg_err err = {{0}};
    mg_result res;
    ck_assert_msg(mg_run(m, o, &res, &err) == MG_OK, "mg_run: %s", err.msg);
    char dir[] = "/tmp/mg_test_theory_sim_XXXXXX";
    ck_assert_msg(mkdtemp(dir) != NULL, "mkdtemp failed");
    snprintf(path, len, "%s/run.h5", dir);
    ck_assert_msg(mg_h5_write_result(path, &res, m, "test_theory_sim", 0, &err) == MG_OK,
                  "mg_h5_write_result: %s", err.msg);
    mg_result_free(&res);
}

/* run_to_file with opts_for(dt_ms, t_sim_ms, R, seed). */
static void run_model_to_file(const mg_model *m, double dt_ms, double t_sim_ms, int64_t R,
                              uint32_t seed, char *path, size_t len)
{
    mg_run_opts o;
    opts_for(&o, dt_ms, t_sim_ms, R, seed);
    run_to_file(m, &o, path, len);
}

static void remove_file(const char *path)
{
    unlink(path);
    char dir[512];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash) {
        *slash = '\0';
        rmdir(dir);
    }
}

/* Shape of a dataset (rank returned, dims[4]); -1 when absent. */
static int shape(hid_t f, const char *path, hsize_t *dims)
{
    if (H5Lexists(f, "/theory", H5P_DEFAULT) <= 0 && strncmp(path, "/theory/", 8) == 0)
        return -1;
    htri_t e = H5Lexists(f, path, H5P_DEFAULT);
    if (e <= 0)
        return -1;
    hid_t d = H5Dopen2(f, path, H5P_DEFAULT);
    hid_t s = H5Dget_space(d);
    int r = H5Sget_simple_extent_ndims(s);
    H5Sget_simple_extent_dims(s, dims, NULL);
    H5Sclose(s);
    H5Dclose(d);
    return r;
}

/* Whole dataset as doubles (malloc'ed), its element count in *n. */
static double *read_f64(hid_t f, const char *path, size_t *n)
{
    hsize_t dims[4] = {0, 0, 0, 0};
    int r = shape(f, path, dims);
    ck_assert_msg(r >= 1, "%s missing", path);
    size_t cnt = 1;
    for (int i = 0; i < r; ++i)
        cnt *= dims[i];
    double *v = malloc((cnt + 1) * sizeof(double));
    hid_t d = H5Dopen2(f, path, H5P_DEFAULT);
    ck_assert_msg(cnt == 0 || H5Dread(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) >= 0,
                  "%s unreadable", path);
    H5Dclose(d);
    *n = cnt;
    return v;
}

static int64_t attr_i64(hid_t obj, const char *name)
{
    ck_assert_msg(H5Aexists(obj, name) > 0, "attribute %s missing", name);
    int64_t v = 0;
    hid_t a = H5Aopen(obj, name, H5P_DEFAULT);
    H5Aread(a, H5T_NATIVE_INT64, &v);
    H5Aclose(a);
    return v;
}

static void attr_string(hid_t obj, const char *name, char *buf, size_t len)
{
    ck_assert_msg(H5Aexists(obj, name) > 0, "attribute %s missing", name);
    hid_t a = H5Aopen(obj, name, H5P_DEFAULT);
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, H5T_VARIABLE);
    H5Tset_cset(t, H5T_CSET_UTF8);
    char *s = NULL;
    ck_assert(H5Aread(a, t, &s) >= 0 && s);
    snprintf(buf, len, "%s", s);
    H5free_memory(s);
    H5Tclose(t);
    H5Aclose(a);
}

/* Spectra of a file: simulation, its standard error and the theory of fixed point fp. */
typedef struct {
    int P;
    size_t F;
    double *freq, *sim, *sem, *th;
} spectra;

static void read_spectra(const char *path, int fp, spectra *s)
{
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    ck_assert_msg(f >= 0, "%s does not open", path);
    size_t nf, nth, nsim, nsem, nfs;
    s->freq = read_f64(f, "/theory/freq", &nf);
    double *fs = read_f64(f, "/stats/freq", &nfs);
    ck_assert_uint_eq(nf, nfs);
    for (size_t k = 0; k < nf; ++k)
        ck_assert_msg(s->freq[k] == fs[k], "/theory/freq[%zu] = %g != /stats/freq %g", k,
                      s->freq[k], fs[k]);
    free(fs);
    s->sim = read_f64(f, "/stats/psd", &nsim);
    s->sem = read_f64(f, "/stats/psd_sem", &nsem);
    double *all = read_f64(f, "/theory/psd", &nth);
    s->F = nf;
    s->P = (int)(nsim / nf);
    size_t per = (size_t)s->P * nf;
    ck_assert_msg(nth % per == 0 && (size_t)fp < nth / per, "/theory/psd has %zu values", nth);
    s->th = malloc(per * sizeof(double));
    memcpy(s->th, all + (size_t)fp * per, per * sizeof(double));
    free(all);
    H5Fclose(f);
}

static void spectra_free(spectra *s)
{
    free(s->freq), free(s->sim), free(s->sem), free(s->th);
}

/* Band [lo, hi) of population a: ratio sim/theory and its relative standard error. */
static void band(const spectra *s, int a, double lo, double hi, double *r, double *sigma)
{
    double st = 0, ss = 0, v = 0;
    int m = 0;
    for (size_t k = 0; k < s->F; ++k) {
        if (s->freq[k] < lo || s->freq[k] >= hi)
            continue;
        size_t at = (size_t)a * s->F + k;
        st += s->th[at];
        ss += s->sim[at];
        v += s->sem[at] * s->sem[at];
        ++m;
    }
    ck_assert_msg(m > 0 && st > 0, "band %g-%g Hz is empty", lo, hi);
    *r = ss / st;
    *sigma = sqrt(v) / st;
}

/* The ratio r = sim/theory in the band [lo, hi) Hz of population a (band) against 1 +- tol,
 * tol = fixed + nsigma * its standard error; appends " <label><lo>-<hi> Hz: r (sigma, tol)"
 * to report[cap] at *at, with " FAIL" when outside. Returns 1 when outside. */
static int band_outside(const spectra *s, int a, double lo, double hi, double fixed,
                        double nsigma, const char *label, char *report, size_t cap, size_t *at)
{
    double r, sigma;
    band(s, a, lo, hi, &r, &sigma);
    double tol = fixed + nsigma * sigma;
    int out = fabs(r - 1.0) > tol;
    *at += (size_t)snprintf(report + *at, cap - *at,
                            " %s%g-%g Hz: %.3f (sigma %.3f, tol %.3f)%s;", label, lo, hi, r,
                            sigma, tol, out ? " FAIL" : "");
    return out;
}

/* ---- layout ----------------------------------------------------------------------------------- */

START_TEST(layout_b1)
{
    mg_model m;
    mg_test_load("bistable_b1", &m);
    char path[512];
    run_model_to_file(&m, 0.5, 3000.0, 4, 11, path, sizeof path);

    mg_fixed_points fps;
    mg_err err = {{0}};
    ck_assert(mg_theory_fixed_points(&m, 200.0, &fps, &err) == MG_OK);
    ck_assert_int_eq(fps.n, 3);

    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    ck_assert(f >= 0);
    hsize_t d[4];
    ck_assert_int_eq(shape(f, "/theory/fixed_points/rates_hz", d), 2);
    ck_assert(d[0] == 3 && d[1] == 2);
    ck_assert_int_eq(shape(f, "/theory/psd", d), 3);
    ck_assert(d[0] == 3 && d[1] == 2 && d[2] == 500);
    ck_assert_int_eq(shape(f, "/theory/cv", d), 2);
    ck_assert(d[0] == 3 && d[1] == 2);
    /* stable: int8 [n] */
    hid_t ds = H5Dopen2(f, "/theory/fixed_points/stable", H5P_DEFAULT);
    hid_t ty = H5Dget_type(ds);
    ck_assert(H5Tget_class(ty) == H5T_INTEGER && H5Tget_size(ty) == 1);
    int8_t st[3];
    ck_assert(H5Dread(ds, H5T_NATIVE_INT8, H5S_ALL, H5S_ALL, H5P_DEFAULT, st) >= 0);
    H5Tclose(ty);
    H5Dclose(ds);
    size_t n;
    double *rates = read_f64(f, "/theory/fixed_points/rates_hz", &n);
    double *psd = read_f64(f, "/theory/psd", &n);
    double *cv = read_f64(f, "/theory/cv", &n);
    for (int k = 0; k < 3; ++k) {
        ck_assert_int_eq(st[k], fps.fp[k].stable);
        for (int a = 0; a < 2; ++a) {
            ck_assert(rates[k * 2 + a] == fps.fp[k].A_hz[a]);
            ck_assert(cv[k * 2 + a] > 0.2 && cv[k * 2 + a] < 1.0);
        }
        /* NaN rows exactly at the unstable point; finite, positive spectra elsewhere, with the
         * floor A/N at high frequency */
        for (int a = 0; a < 2; ++a)
            for (int j = 0; j < 500; ++j) {
                double v = psd[(k * 2 + a) * 500 + j];
                if (st[k])
                    ck_assert_msg(isfinite(v) && v > 0, "fp %d pop %d f %d: %g", k, a, j, v);
                else
                    ck_assert(isnan(v));
            }
        if (st[k])
            for (int a = 0; a < 2; ++a) {
                double floor_hz = fps.fp[k].A_hz[a] / 500.0, v = psd[(k * 2 + a) * 500 + 399];
                ck_assert_msg(fabs(v / floor_hz - 1.0) < 0.02, "S(400 Hz) = %g, A/N = %g", v,
                              floor_hz);
            }
    }
    ck_assert_int_eq(st[0] + st[1] + st[2], 2);
    ck_assert_int_eq(st[1], 0); /* the symmetric point, sorted in the middle */
    hid_t g = H5Gopen2(f, "/theory", H5P_DEFAULT);
    char method[64];
    attr_string(g, "method", method, sizeof method);
    ck_assert_str_eq(method, "linear_response");
    ck_assert_int_eq(attr_i64(g, "complete"), 1);
    ck_assert_int_eq(attr_i64(g, "version"), 1);
    H5Gclose(g);
    free(rates), free(psd), free(cv);
    H5Fclose(f);

    /* the table for the command line */
    char warning[1200];
    FILE *out = tmpfile();
    ck_assert_int_eq(mg_h5_theory_print(path, out, warning, sizeof warning), MG_OK);
    ck_assert_str_eq(warning, "");
    ck_assert(ftell(out) > 100);
    fclose(out);
    remove_file(path);
    mg_fixed_points_free(&fps);
    mg_model_free(&m);
}
END_TEST

START_TEST(layout_no_spectra)
{
    mg_model m;
    mg_test_load("bistable_b1", &m);
    mg_run_opts o;
    opts_for(&o, 0.5, 2000.0, 2, 3);
    o.psd_df_hz = -1.0;
    char path[512];
    run_to_file(&m, &o, path, sizeof path);
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    hsize_t d[4];
    ck_assert_int_eq(shape(f, "/theory/fixed_points/rates_hz", d), 2);
    ck_assert(d[0] == 3);
    ck_assert_int_eq(shape(f, "/theory/cv", d), 2);
    ck_assert_int_eq(shape(f, "/theory/freq", d), -1);
    ck_assert_int_eq(shape(f, "/theory/psd", d), -1);
    ck_assert_int_eq(shape(f, "/stats/psd", d), -1);
    H5Fclose(f);
    remove_file(path);
    mg_model_free(&m);
}
END_TEST

/* A model the theory cannot handle (here: a model with other populations than the run's)
 * must not cost the run: the file is complete, /theory absent, theory_error set, and the
 * command-line reader turns that into one warning. */
START_TEST(theory_failure_keeps_run)
{
    mg_model m, other;
    mg_test_load("bistable_b1", &m);
    mg_test_load("uncoupled", &other);
    mg_run_opts o;
    opts_for(&o, 0.5, 2000.0, 2, 5);
    mg_err err = {{0}};
    mg_result res;
    ck_assert(mg_run(&m, &o, &res, &err) == MG_OK);
    char dir[] = "/tmp/mg_test_theory_sim_XXXXXX", path[512];
    ck_assert(mkdtemp(dir) != NULL);
    snprintf(path, sizeof path, "%s/run.h5", dir);
    ck_assert_msg(mg_h5_write_result(path, &res, &other, "x", 0, &err) == MG_OK, "%s", err.msg);
    mg_stats s;
    ck_assert_msg(mg_h5_read_stats(path, &s, &err) == MG_OK, "%s", err.msg);
    ck_assert(s.i[s.L.i_count] == res.stats.i[res.stats.L.i_count]);
    mg_stats_free(&s);
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    ck_assert(H5Lexists(f, "/theory", H5P_DEFAULT) == 0);
    char msg[1024];
    attr_string(f, "theory_error", msg, sizeof msg);
    ck_assert_msg(strstr(msg, "populations") != NULL, "theory_error = %s", msg);
    H5Fclose(f);
    char warning[1200];
    FILE *out = tmpfile();
    mg_h5_theory_print(path, out, warning, sizeof warning);
    fclose(out);
    ck_assert_msg(strstr(warning, "no theory written") != NULL, "warning = %s", warning);
    remove_file(path);
    mg_result_free(&res);
    mg_model_free(&m);
    mg_model_free(&other);
}
END_TEST

/* ---- renewal spectrum: uncoupled population ---------------------------------------------------- */

START_TEST(renewal_uncoupled)
{
    /* allowance per band: the meso model's own deviation from exact renewal theory. Measured
     * r = sim/theory (sigma) with 8 realizations at dt 0.5 ms x 2000 s / 0.2 ms x 500 s /
     * 0.1 ms x 150 s (docs/THEORY.md §7):
     *   1-2 Hz    1.119 (.010)  1.125 (.015)  1.119 (.017)
     *   2-4       1.053 (.006)  1.079 (.010)  1.078 (.020)
     *   4-8       0.935 (.003)  0.935 (.007)  0.936 (.015)
     *   8-16      0.905 (.003)  0.900 (.004)  0.899 (.010)
     *   16-32     0.957 (.002)  0.954 (.003)  0.962 (.006)
     *   32-64     0.994 (.001)  0.991 (.003)  0.995 (.005)
     *   64-128    1.005 (.001)  1.001 (.002)  0.997 (.004)
     *   128-256   1.007 (.001)  1.005 (.001)  1.002 (.003)
     *   256-500   1.008 (.001)  1.004 (.001)  1.007 (.002)
     * The time step changes r by less than the sampling error (at most 2.6 % at 2-4 Hz, 2
     * sigma), so the deviation is not discretisation; allowance = the largest |r - 1| over the
     * time steps plus 2 of its sigma, rounded up. */
    static const double edges[10] = {1, 2, 4, 8, 16, 32, 64, 128, 256, 501};
    static const double allow[9] = {0.16, 0.10, 0.08, 0.11, 0.06, 0.02, 0.015, 0.015, 0.015};
    mg_model m;
    mg_test_load("uncoupled", &m);
    char path[512];
    run_model_to_file(&m, 0.5, 501000.0, 16, 21, path, sizeof path);
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    hid_t g = H5Gopen2(f, "/theory", H5P_DEFAULT);
    char method[64];
    attr_string(g, "method", method, sizeof method);
    ck_assert_str_eq(method, "renewal");
    H5Gclose(g);
    H5Fclose(f);
    spectra s;
    read_spectra(path, 0, &s);
    int bad = 0;
    char report[2048] = "";
    size_t at = 0;
    for (int b = 0; b < 9; ++b)
        bad |= band_outside(&s, 0, edges[b], edges[b + 1], allow[b], 4.0, "", report,
                            sizeof report, &at);
    printf("renewal_uncoupled:%s\n", report);
    ck_assert_msg(!bad, "sim/theory per band:%s", report);
    spectra_free(&s);
    remove_file(path);
    mg_model_free(&m);
}
END_TEST

/* ---- linear-response spectrum: E/I network ------------------------------------------------------ */

START_TEST(response_ei_large_n)
{
    static const double edges[8] = {1, 2, 4, 8, 16, 32, 64, 100};
    mg_model m;
    mg_test_load("ei_network", &m);
    for (int a = 0; a < m.P; ++a)
        m.pops[a].N *= 100;
    for (int i = 0; i < m.n_proj; ++i)
        m.proj[i].J /= 100.0;
    char path[512];
    run_model_to_file(&m, 0.2, 26000.0, 48, 31, path, sizeof path);
    spectra s;
    read_spectra(path, 0, &s);
    ck_assert_int_eq(s.P, 2);
    int bad = 0;
    char report[2048] = "";
    size_t at = 0;
    for (int a = 0; a < 2; ++a)
        for (int b = 0; b < 7; ++b)
            bad |= band_outside(&s, a, edges[b], edges[b + 1], 0.15, 3.0, a ? "I " : "E ",
                                report, sizeof report, &at);
    printf("response_ei_large_n:%s\n", report);
    ck_assert_msg(!bad, "sim/theory per band:%s", report);
    spectra_free(&s);
    remove_file(path);
    mg_model_free(&m);
}
END_TEST

START_TEST(response_ei_3c)
{
    static const double edges[3] = {128, 256, 501};
    mg_model m;
    mg_test_load("ei_network", &m);
    char path[512];
    run_model_to_file(&m, 0.2, 21000.0, 16, 41, path, sizeof path);
    spectra s;
    read_spectra(path, 0, &s);
    char report[2048] = "";
    size_t at = 0;
    int bad = 0;
    for (int a = 0; a < 2; ++a) {
        size_t ks = 0, kt = 0;
        for (size_t k = 0; k < s.F; ++k) {
            if (s.sim[a * s.F + k] > s.sim[a * s.F + ks])
                ks = k;
            if (s.th[a * s.F + k] > s.th[a * s.F + kt])
                kt = k;
        }
        at += (size_t)snprintf(report + at, sizeof report - at, " %s: peak %g Hz (theory %g Hz)",
                               a ? "I" : "E", s.freq[ks], s.freq[kt]);
        bad |= fabs(s.freq[ks] - s.freq[kt]) > 2.0;
        for (int b = 0; b < 2; ++b) {
            double r, sigma;
            band(&s, a, edges[b], edges[b + 1], &r, &sigma);
            at += (size_t)snprintf(report + at, sizeof report - at, ", %g-%g Hz: %.3f (sigma "
                                   "%.3f)", edges[b], edges[b + 1], r, sigma);
            bad |= fabs(r - 1.0) > 0.10;
        }
        at += (size_t)snprintf(report + at, sizeof report - at, ";");
    }
    printf("response_ei_3c:%s\n", report);
    ck_assert_msg(!bad, "%s", report);
    spectra_free(&s);
    remove_file(path);
    mg_model_free(&m);
}
END_TEST

MG_TEST_SUITE(theory_sim,
              MG_TCASE("layout", 300, layout_b1, layout_no_spectra, theory_failure_keeps_run),
              MG_TCASE("spectra", 900, renewal_uncoupled, response_ei_large_n, response_ei_3c))
