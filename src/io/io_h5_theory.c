/* src/io/io_h5_theory.c: the /theory group of a format-1 file (`mesogif run --theory`;
 * docs/THEORY.md §7, docs/FILE_FORMAT.md): what src/theory/theory_run.c computed into the
 * result (mg_result.theory), or the reason it could not (the root attribute theory_error). The
 * writer only writes; mg_h5_theory_print reads /theory back and prints its table. */
#include "io/io_h5_internal.h"
#include "mesogif/io.h"
#include "mesogif/theory.h"

#include <hdf5.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define THEORY_LAYOUT_VERSION 1

/* The attributes of /theory (g). Returns 0, or nonzero when one could not be written. */
static int theory_write_attrs(hid_t g, const mg_run_theory *t)
{
    int rc = 0;
    rc |= mg_h5_attr_i64(g, "version", THEORY_LAYOUT_VERSION);
    rc |= mg_h5_attr_str(g, "method", t->renewal ? "renewal" : "linear_response");
    rc |= mg_h5_attr_i64(g, "complete", t->fps.complete);
    rc |= mg_h5_attr_str(g, "description",
                      t->renewal
                          ? "uncoupled non-adapting populations: stationary renewal theory, exact "
                            "renewal spectrum of N independent neurons (docs/THEORY.md)"
                          : "quasi-renewal mean-field fixed points with linear stability; "
                            "spectra of the finite-size mesoscopic model linearized around each "
                            "stable fixed point (docs/THEORY.md)");
    rc |= mg_h5_attr_f64(g, "rate_max_hz", t->rate_max_hz);
    rc |= mg_h5_attr_f64(g, "t_eval_ms", t->t_eval_ms);
    rc |= mg_h5_attr_str(g, "warnings", t->warnings);
    rc |= mg_h5_attr_str(g, "mesogif_version", MG_VERSION);
    return rc;
}

/* buf[k][a] (n x P) = entry a of the double[MG_POP_MAX] member at byte offset off of fixed
 * point k (e.g. offsetof(mg_fixed_point, h_mV)). */
static void gather_rows(double *buf, const mg_run_theory *t, size_t off)
{
    for (int k = 0; k < t->fps.n; ++k) {
        const double *v = (const double *)((const char *)&t->fps.fp[k] + off);
        for (int a = 0; a < t->P; ++a)
            buf[(size_t)k * t->P + a] = v[a];
    }
}

/* /theory/fixed_points/ and /theory/cv (g = /theory). Returns 0 when all were written, 1 when
 * a dataset could not be (the others are still written), -1 without writing anything when the
 * buffers cannot be allocated. */
static int theory_write_fixed_points(hid_t g, const mg_run_theory *t)
{
    const int n = t->fps.n, P = t->P;
    double *buf = malloc(((size_t)n * P + 1) * sizeof(double));
    double *eig = malloc(((size_t)n * 2 + 1) * sizeof(double));
    int8_t *st = malloc((size_t)n + 1);
    int64_t *nu = malloc(((size_t)n + 1) * sizeof(int64_t));
    if (!buf || !eig || !st || !nu) {
        free(buf), free(eig), free(st), free(nu);
        return -1;
    }
    int rc = 0;
    hsize_t nP[2] = {(hsize_t)n, (hsize_t)P}, n1 = (hsize_t)n, n2[2] = {(hsize_t)n, 2};
    for (int k = 0; k < n; ++k) {
        const mg_fixed_point *fp = &t->fps.fp[k];
        st[k] = (int8_t)(fp->stable ? 1 : 0);
        nu[k] = fp->n_unstable;
        eig[2 * k] = fp->static_eig_re;
        eig[2 * k + 1] = fp->static_eig_im;
    }
    gather_rows(buf, t, offsetof(mg_fixed_point, A_hz));
    rc |= mg_h5_dset_f64(g, "fixed_points/rates_hz", 2, nP, buf);
    rc |= mg_h5_dset(g, "fixed_points/stable", H5T_NATIVE_INT8, H5T_STD_I8LE, 1, &n1, st, 0);
    rc |= mg_h5_dset(g, "fixed_points/n_unstable", H5T_NATIVE_INT64, H5T_STD_I64LE, 1, &n1, nu, 0);
    rc |= mg_h5_dset_f64(g, "fixed_points/static_eig", 2, n2, eig);
    gather_rows(buf, t, offsetof(mg_fixed_point, h_mV));
    rc |= mg_h5_dset_f64(g, "fixed_points/h_mV", 2, nP, buf);
    gather_rows(buf, t, offsetof(mg_fixed_point, gain_hz_per_mV));
    rc |= mg_h5_dset_f64(g, "fixed_points/gain_hz_per_mV", 2, nP, buf);
    gather_rows(buf, t, offsetof(mg_fixed_point, cv));
    for (size_t i = 0; i < (size_t)n * P; ++i) /* an undefined CV is written as NaN */
        buf[i] = isfinite(buf[i]) && buf[i] >= 0 ? buf[i] : NAN;
    rc |= mg_h5_dset_f64(g, "cv", 2, nP, buf);
    free(buf), free(eig), free(st), free(nu);
    return rc ? 1 : 0;
}

/* /theory/freq, psd and psd_unbinned with their attributes (g = /theory; only when the run has
 * spectra, t->F > 0). Returns 0, or nonzero when something could not be written. */
static int theory_write_spectra(hid_t g, const mg_result *res, const mg_run_theory *t)
{
    const mg_stats *s = &res->stats;
    const mg_stats_cfg *c = &s->L.cfg;
    int rc = 0;
    hsize_t F1 = (hsize_t)t->F, nPF[3] = {(hsize_t)t->fps.n, (hsize_t)t->P, (hsize_t)t->F};
    rc |= mg_h5_dset_f64(g, "freq", 1, &F1, s->freq);
    /* n = 0: empty [0][P][F] arrays; the buffers are then NULL and nothing is written */
    rc |= mg_h5_dset_f64(g, "psd", 3, nPF, t->psd);
    rc |= mg_h5_dset_f64(g, "psd_unbinned", 3, nPF, t->psd_unbinned);
    hid_t d = H5Dopen2(g, "psd", H5P_DEFAULT);
    if (d < 0) {
        rc = -1;
    } else {
        rc |= mg_h5_attr_i64(d, "onesided", c->onesided);
        rc |= mg_h5_attr_f64(d, "sample_bin_ms", c->psd_bin_ms);
        rc |= mg_h5_attr_str(d, "units", "Hz (spectral density of A in Hz^2/Hz)");
        rc |= mg_h5_attr_str(d, "sampling",
                          t->windowed
                              ? "expectation of /stats/psd: S averaged over bins of D = "
                                "sample_bin_ms, aliased (sum_k S(f + k/D) sinc^2((f + k/D) D), "
                                "|k| <= 4) and seen through the rectangular window of the "
                                "segments (leakage); NaN rows at unstable fixed points"
                              : "S averaged over bins of D = sample_bin_ms and aliased "
                                "(sum_k S(f + k/D) sinc^2((f + k/D) D), |k| <= 4); the window "
                                "of the segments is not included (too many frequencies); NaN "
                                "rows at unstable fixed points");
        rc |= mg_h5_attr_i64(d, "window_included", t->windowed);
        H5Dclose(d);
    }
    d = H5Dopen2(g, "psd_unbinned", H5P_DEFAULT);
    if (d < 0) {
        rc = -1;
    } else {
        rc |= mg_h5_attr_i64(d, "onesided", c->onesided);
        rc |= mg_h5_attr_str(d, "sampling", "S(f) of the continuous-time activity");
        H5Dclose(d);
    }
    return rc;
}

/* The group /theory of f from t. Returns 0, or -1 when any part could not be written (the
 * caller deletes the group). */
static int theory_write(hid_t f, const mg_result *res, const mg_run_theory *t)
{
    hid_t g = H5Gcreate2(f, "/theory", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (g < 0)
        return -1;
    int rc = theory_write_attrs(g, t);
    int fp = theory_write_fixed_points(g, t);
    if (fp < 0) {
        H5Gclose(g);
        return -1;
    }
    rc |= fp;
    if (t->F > 0)
        rc |= theory_write_spectra(g, res, t);
    H5Gclose(g);
    return rc ? -1 : 0;
}

int mg_h5_write_theory(hid_t f, const mg_result *res, const mg_model *m)
{
    char why[MG_ERR_LEN + 64];
    snprintf(why, sizeof why, "%s", res->theory_error[0] ? res->theory_error
                                    : "not computed (a result of mg_run with opts.theory set "
                                      "carries it)");
    /* the theory belongs to the run's model: not written next to another model's /config */
    if (res->theory && m->P != res->P)
        snprintf(why, sizeof why, "the result has %d populations, the model %d", res->P, m->P);
    else if (res->theory) {
        if (theory_write(f, res, res->theory) == 0)
            return 0;
        H5Ldelete(f, "/theory", H5P_DEFAULT);
        snprintf(why, sizeof why, "writing /theory failed");
    }
    mg_h5_attr_str(f, "theory_error", why);
    return 0;
}

/* ---- reading back (tests, tools): the table of a file's /theory ---------------------------- */

/* Number of entries of a dataset along axis 0, or -1. */
static int64_t rd_len(hid_t loc, const char *path)
{
    if (H5Lexists(loc, path, H5P_DEFAULT) <= 0)
        return -1;
    hid_t d = H5Dopen2(loc, path, H5P_DEFAULT);
    if (d < 0)
        return -1;
    hid_t sp = H5Dget_space(d);
    hsize_t dims[4] = {0, 0, 0, 0};
    int r = H5Sget_simple_extent_ndims(sp);
    if (r >= 1 && r <= 4)
        H5Sget_simple_extent_dims(sp, dims, NULL);
    H5Sclose(sp);
    H5Dclose(d);
    return r >= 1 && r <= 4 ? (int64_t)dims[0] : -1;
}

/* Population names of the file (one per line of names[P]). */
static int rd_names(hid_t f, int P, char (*names)[MG_NAME_MAX])
{
    hid_t d = H5Dopen2(f, "/config/populations", H5P_DEFAULT);
    if (d < 0)
        return -1;
    hid_t mt = H5Tcopy(H5T_C_S1);
    H5Tset_size(mt, H5T_VARIABLE);
    H5Tset_cset(mt, H5T_CSET_UTF8);
    char **v = calloc((size_t)P, sizeof *v);
    int ok = v && H5Dread(d, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) >= 0;
    for (int a = 0; a < P && ok; ++a)
        snprintf(names[a], MG_NAME_MAX, "%s", v[a] ? v[a] : "?");
    if (ok) {
        hid_t sp = H5Dget_space(d);
        H5Dvlen_reclaim(mt, sp, H5P_DEFAULT, v);
        H5Sclose(sp);
    }
    free(v);
    H5Tclose(mt);
    H5Dclose(d);
    return ok ? 0 : -1;
}

/* What mg_h5_theory_print reads back from a file: the sizes and attributes of /theory, then
 * the arrays of its table (owned; NULL until read). */
typedef struct {
    int P, n;
    int64_t F;
    int64_t complete;
    char method[64];
    char (*names)[MG_NAME_MAX];
    double *rates, *cv, *mean; /* [n][P], [n][P], [P] */
    int8_t *stable;            /* [n] */
    double *freq, *psd, *sim;  /* [F], [n][P][F], [P][F]: only with exactly one stable point */
} theory_back;

static void theory_back_free(theory_back *b)
{
    free(b->names), free(b->rates), free(b->cv), free(b->stable), free(b->mean);
    free(b->freq), free(b->psd), free(b->sim);
}

/* The sizes (P, n, F) and the attributes of /theory into b; /theory's warnings, if any, into
 * warning. Cannot fail: missing parts leave P or n at -1 for the caller to reject. */
static void read_theory_header(hid_t f, theory_back *b, char *warning, size_t warning_len)
{
    char msg[MG_ERR_LEN];
    b->P = (int)rd_len(f, "/config/populations");
    b->n = (int)rd_len(f, "/theory/fixed_points/rates_hz");
    b->F = rd_len(f, "/theory/freq");
    hid_t g = H5Gopen2(f, "/theory", H5P_DEFAULT);
    if (g < 0)
        return;
    mg_h5_read_attr_str(g, "warnings", msg, sizeof msg);
    if (msg[0])
        snprintf(warning, warning_len, "--theory: %s", msg);
    mg_h5_read_attr_str(g, "method", b->method, sizeof b->method);
    if (H5Aexists(g, "complete") > 0) {
        hid_t a = H5Aopen(g, "complete", H5P_DEFAULT);
        H5Aread(a, H5T_NATIVE_INT64, &b->complete);
        H5Aclose(a);
    }
    H5Gclose(g);
}

/* The fixed-point table (names, rates, CVs, stability) and the simulated mean rates into b
 * (P > 0, n >= 0). Returns 0, or -1 when something cannot be allocated or read. */
static int read_theory_table(hid_t f, theory_back *b)
{
    const int P = b->P, n = b->n;
    b->names = calloc((size_t)P, sizeof *b->names);
    b->rates = malloc(((size_t)n * P + 1) * sizeof(double));
    b->cv = malloc(((size_t)n * P + 1) * sizeof(double));
    b->stable = malloc((size_t)n + 1);
    b->mean = malloc((size_t)P * sizeof(double));
    if (!b->names || !b->rates || !b->cv || !b->stable || !b->mean || rd_names(f, P, b->names) ||
        mg_h5_read_array(f, "/theory/fixed_points/rates_hz", H5T_NATIVE_DOUBLE, b->rates, (hsize_t)n * P) ||
        mg_h5_read_array(f, "/theory/cv", H5T_NATIVE_DOUBLE, b->cv, (hsize_t)n * P) ||
        mg_h5_read_array(f, "/theory/fixed_points/stable", H5T_NATIVE_INT8, b->stable, (hsize_t)n) ||
        mg_h5_read_array(f, "/stats/mean_A", H5T_NATIVE_DOUBLE, b->mean, (hsize_t)P))
        return -1;
    return 0;
}

/* The theoretical and simulated spectra into b, only where the table shows them: exactly one
 * stable point. Returns 1 when they were read, 0 otherwise (the table goes without them). */
static int read_theory_spectra(hid_t f, theory_back *b)
{
    const int P = b->P, n = b->n;
    const int64_t F = b->F;
    int n_stable = 0;
    for (int k = 0; k < n; ++k)
        n_stable += b->stable[k] != 0;
    if (!(F > 0 && n_stable == 1))
        return 0;
    size_t per = (size_t)P * (size_t)F;
    b->freq = malloc((size_t)F * sizeof(double));
    b->psd = malloc((size_t)n * per * sizeof(double));
    b->sim = malloc(per * sizeof(double));
    return b->freq && b->psd && b->sim &&
           !mg_h5_read_array(f, "/theory/freq", H5T_NATIVE_DOUBLE, b->freq, (hsize_t)F) &&
           !mg_h5_read_array(f, "/theory/psd", H5T_NATIVE_DOUBLE, b->psd, (hsize_t)(n * per)) &&
           !mg_h5_read_array(f, "/stats/psd", H5T_NATIVE_DOUBLE, b->sim, (hsize_t)per);
}

int mg_h5_theory_print(const char *path, FILE *out, char *warning, size_t warning_len)
{
    warning[0] = '\0';
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f < 0) {
        snprintf(warning, warning_len, "%s: cannot open to read /theory back", path);
        return MG_EIO;
    }
    if (H5Lexists(f, "/theory", H5P_DEFAULT) <= 0) {
        char msg[MG_ERR_LEN];
        if (mg_h5_read_attr_str(f, "theory_error", msg, sizeof msg) == 0)
            snprintf(warning, warning_len, "--theory: no theory written: %s", msg);
        else
            snprintf(warning, warning_len, "--theory: %s has no /theory", path);
        H5Fclose(f);
        return MG_OK;
    }
    theory_back b = {0};
    read_theory_header(f, &b, warning, warning_len);
    if (b.P <= 0 || b.n < 0) {
        snprintf(warning, warning_len, "--theory: %s: /theory is incomplete", path);
        H5Fclose(f);
        return MG_EIO;
    }
    int rc = MG_OK;
    if (read_theory_table(f, &b)) {
        snprintf(warning, warning_len, "--theory: %s: /theory cannot be read back", path);
        rc = MG_EIO;
        goto done;
    }
    mg_theory_table tt = {b.P, b.n, b.F > 0 ? b.F : 0, b.names, b.rates, b.cv, b.mean, NULL, NULL,
                          NULL, b.stable, strcmp(b.method, "renewal") == 0, b.complete != 0};
    if (read_theory_spectra(f, &b)) {
        tt.freq = b.freq;
        tt.psd = b.psd;
        tt.sim = b.sim;
    }
    mg_theory_table_print(&tt, out);
done:
    theory_back_free(&b);
    H5Fclose(f);
    return rc;
}
