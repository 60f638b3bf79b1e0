/* src/io/io_h5_info.c: what a result file holds, read back through HDF5 (mg_h5_info; the verb
 * `mesogif info` is in src/cli/cli_common.c). */
#include "mesogif/io.h"
#include "io/io_h5_internal.h" /* mg_h5_read_* */

#include <hdf5.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Print a scalar attribute (string, integer or float) as "  name = value". */
/* src/io/ffs_h5.c: the rates of a `mesogif switch` file (nothing without /switching/ffs). */
void mg_ffs_h5_print(hid_t f, FILE *out);

static herr_t print_attr(hid_t loc, const char *name, const H5A_info_t *info, void *op)
{
    FILE *out = (FILE *)op;
    (void)info;
    hid_t a = H5Aopen(loc, name, H5P_DEFAULT);
    if (a < 0)
        return 0;
    /* mesogif writes single values; an array (a foreign or damaged file) is shown by its size,
     * since H5Aread would write all of its values */
    hid_t sp = H5Aget_space(a);
    hssize_t nv = sp >= 0 ? H5Sget_simple_extent_npoints(sp) : -1;
    if (sp >= 0)
        H5Sclose(sp);
    if (nv != 1) {
        fprintf(out, "  %-20s [%lld values]\n", name, (long long)nv);
        H5Aclose(a);
        return 0;
    }
    hid_t t = H5Aget_type(a);
    H5T_class_t cls = H5Tget_class(t);
    if (cls == H5T_STRING) {
        if (H5Tis_variable_str(t) > 0) {
            char *s = NULL;
            hid_t mt = H5Tcopy(H5T_C_S1);
            H5Tset_size(mt, H5T_VARIABLE);
            H5Tset_cset(mt, H5Tget_cset(t)); /* HDF5 does not convert ASCII <-> UTF-8 */
            if (H5Aread(a, mt, &s) >= 0 && s) {
                fprintf(out, "  %-20s %s\n", name, s);
                H5free_memory(s);
            }
            H5Tclose(mt);
        }
    } else if (cls == H5T_INTEGER) {
        long long v = 0;
        if (H5Aread(a, H5T_NATIVE_LLONG, &v) >= 0)
            fprintf(out, "  %-20s %lld\n", name, v);
    } else if (cls == H5T_FLOAT) {
        double v = 0;
        if (H5Aread(a, H5T_NATIVE_DOUBLE, &v) >= 0)
            fprintf(out, "  %-20s %g\n", name, v);
    }
    H5Tclose(t);
    H5Aclose(a);
    return 0;
}

/* Every dataset with its shape (skipping the many scalars of /config/resolved). */
static herr_t print_object(hid_t loc, const char *name, const H5O_info_t *info, void *op)
{
    FILE *out = (FILE *)op;
    if (info->type != H5O_TYPE_DATASET || strncmp(name, "config/resolved", 15) == 0)
        return 0;
    hid_t d = H5Dopen2(loc, name, H5P_DEFAULT);
    if (d < 0)
        return 0;
    hid_t s = H5Dget_space(d);
    int rank = H5Sget_simple_extent_ndims(s);
    hsize_t dims[8] = {0};
    if (rank > 0 && rank <= 8)
        H5Sget_simple_extent_dims(s, dims, NULL);
    fprintf(out, "  /%-34s", name);
    if (rank == 0)
        fprintf(out, " scalar");
    for (int i = 0; i < rank && i < 8; ++i)
        fprintf(out, "%s%llu", i ? " x " : " ", (unsigned long long)dims[i]);
    fputc('\n', out);
    H5Sclose(s);
    H5Dclose(d);
    return 0;
}

static int read_names(hid_t f, char ***names, int *P)
{
    hid_t d = H5Dopen2(f, "/config/populations", H5P_DEFAULT);
    if (d < 0)
        return -1;
    hid_t s = H5Dget_space(d);
    hssize_t n = H5Sget_simple_extent_npoints(s);
    hid_t mt = H5Tcopy(H5T_C_S1), ft = H5Dget_type(d);
    H5Tset_size(mt, H5T_VARIABLE);
    H5Tset_cset(mt, H5Tget_cset(ft)); /* HDF5 does not convert ASCII <-> UTF-8 */
    H5Tclose(ft);
    char **v = calloc((size_t)(n > 0 ? n : 1), sizeof *v);
    int ok = v && n > 0 && n <= 4096 &&
             H5Dread(d, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) >= 0;
    H5Tclose(mt);
    H5Sclose(s);
    H5Dclose(d);
    if (!ok) {
        free(v);
        return -1;
    }
    *names = v;
    *P = (int)n;
    return 0;
}

/* The time-resolved statistics (/stats/time) in one line per population: the range of the
 * ensemble mean A(t) with the times of its extremes, the largest standard deviation across
 * realizations and the mean standard error of mean A(t). */
static void print_time_summary(const mg_stats *s, char **names, int P, FILE *out)
{
    const int64_t B = s->L.cfg.time_bins;
    if (B <= 0 || P != s->L.P || !s->tm_mean_A)
        return;
    fprintf(out, "time-resolved statistics across %lld realizations (%lld bins of %g ms from the "
            "start of the run, /stats/time):\n", (long long)s->i[s->L.i_tm_nreal],
            (long long)B, s->L.cfg.time_bin_ms);
    fprintf(out, "  %-16s %12s %9s %12s %9s %12s %12s\n", "population", "min mean A", "at (s)",
            "max mean A", "at (s)", "max sd (Hz)", "mean sem");
    for (int a = 0; a < P; ++a) {
        const double *m = s->tm_mean_A + (int64_t)a * B, *v = s->tm_var_A + (int64_t)a * B;
        const double *e = s->tm_mean_A_sem + (int64_t)a * B;
        int64_t lo = 0, hi = 0;
        double sd = 0.0, sem = 0.0;
        for (int64_t b = 0; b < B; ++b) {
            lo = m[b] < m[lo] ? b : lo;
            hi = m[b] > m[hi] ? b : hi;
            sd = v[b] > sd * sd ? sqrt(v[b]) : sd;
            sem += e[b] / (double)B;
        }
        char sd_s[32] = "n/a", sem_s[32] = "n/a"; /* across fewer than 2 realizations */
        if (s->i[s->L.i_tm_nreal] >= 2) {
            snprintf(sd_s, sizeof sd_s, "%.4f", sd);
            snprintf(sem_s, sizeof sem_s, "%.4g", sem);
        }
        fprintf(out, "  %-16s %12.4f %9.4g %12.4f %9.4g %12s %12s\n", names[a], m[lo],
                s->tm_t_s[lo], m[hi], s->tm_t_s[hi], sd_s, sem_s);
    }
    if (s->i[s->L.i_tm_nreal] < 2)
        fprintf(out, "  (n/a: the spread across realizations needs 2 of them)\n");
}

/* One row of the spectra table: band b of nb log-spaced bands of [freq[0], freq[F-1]], for
 * each of the P populations the mean PSD over the band +- its standard error (as compare
 * computes it, see print_stats_summary), "-" for an empty band. */
static void print_psd_band(const mg_stats *s, int P, int b, int nb, FILE *out)
{
    const mg_stats_cfg *c = &s->L.cfg;
    const int64_t F = s->L.F;
    const double lo = s->freq[0], hi = s->freq[F - 1];
    const double R = (double)s->i[s->L.i_psd_nreal], Mr = (double)s->i[s->L.i_psd_seg] / R;
    double e0 = lo * pow(hi / lo, (double)b / nb), e1 = lo * pow(hi / lo, (b + 1.0) / nb);
    char band[32];
    snprintf(band, sizeof band, "%.3g-%.3g", e0, e1);
    fprintf(out, "  %-16s", band);
    for (int a = 0; a < P; ++a) {
        double m = 0, ind = 0, obs = 0;
        int cnt = 0;
        for (int64_t k = 0; k < F; ++k) {
            double f = s->freq[k];
            if (f < e0 * (1 - 1e-12) || (b < nb - 1 ? f >= e1 * (1 - 1e-12) : f > hi))
                continue;
            double x = s->psd[(int64_t)a * F + k], e = s->psd_sem[(int64_t)a * F + k];
            double w = c->psd_n % 2 == 0 && k == F - 1 ? 2.0 : 1.0;
            m += x;
            ind += w * x * x / Mr;
            obs += e * e * R;
            ++cnt;
        }
        double v = cnt ? (ind / cnt / cnt + fmax(0.0, (obs - ind) / cnt)) / R : 0;
        if (cnt)
            fprintf(out, " %13.5g +- %-8.2g", m / cnt, sqrt(v));
        else
            fprintf(out, " %24s", "-");
    }
    fputc('\n', out);
}

/* The spectra of s in 6 log bands (nothing without spectra or when the file's P populations
 * are not the statistics'; one line when no segment fitted). */
static void print_psd_summary(const mg_stats *s, char **names, int P, FILE *out)
{
    const mg_stats_cfg *c = &s->L.cfg;
    const int64_t F = s->L.F;
    if (F > 0 && s->i[s->L.i_psd_seg] == 0)
        fprintf(out, "spectra: none (no segment of %lld x %g ms fitted after the warm-up; "
                "left out)\n", (long long)c->psd_n, c->psd_bin_ms);
    else if (F > 0 && P == s->L.P) {
        const int nb = 6;
        fprintf(out, "spectra (%s, df %g Hz, %lld-sample segments of %g ms bins, %lld segments "
                "from %lld realizations), mean over log bands:\n",
                c->onesided ? "one-sided" : "two-sided", s->freq[0], (long long)c->psd_n,
                c->psd_bin_ms, (long long)s->i[s->L.i_psd_seg],
                (long long)s->i[s->L.i_psd_nreal]);
        fprintf(out, "  %-16s", "band (Hz)");
        for (int a = 0; a < P; ++a)
            fprintf(out, " %24s", names[a]);
        fputc('\n', out);
        for (int b = 0; b < nb; ++b)
            print_psd_band(s, P, b, nb, out);
    }
}

/* The switching table of s (rates with exact limits, dwell counts and times per state), or
 * one line saying why there is none. */
static void print_switching_summary(const mg_stats *s, int has_switching, FILE *out)
{
    const mg_stats_cfg *c = &s->L.cfg;
    static const char *state[2] = {"low", "high"};
    if (!has_switching || c->basic) {
        fprintf(out, "switching: not analysed (%s)\n", c->basic ? "--stats basic" :
                "no observable declared: --switch-observable, or \"switch_observable\" in the "
                "model file");
        return;
    }
    fprintf(out, "switching on %s (%g ms moving average; low below %g Hz, high above %g Hz):\n",
            c->observable[0] ? c->observable : "?", c->sw_window * c->bin_ms, c->sw_lo, c->sw_hi);
    fprintf(out, "  %-6s %8s %12s %30s %9s %9s %12s %6s\n", "state", "exits", "exposure (s)",
            "rate (Hz) [exact 95 %]", "complete", "censored", "mean dwell", "CV");
    int undefined = 0;
    for (int st = 0; st < 2; ++st) {
        char rate[64] = "n/a: never in this state", dwell[32], cv[16];
        if (!isnan(s->rate_hz[st]))
            snprintf(rate, sizeof rate, "%.4g [%.4g, %.4g]", s->rate_hz[st], s->rate_ci_low[st],
                     s->rate_ci_high[st]);
        mg_fmt_or_na(dwell, sizeof dwell, "%.4g s", s->mean_dwell_s[st]);
        mg_fmt_or_na(cv, sizeof cv, "%.3f", s->cv_dwell[st]);
        undefined |= isnan(s->mean_dwell_s[st]) || isnan(s->cv_dwell[st]);
        fprintf(out, "  %-6s %8lld %12.6g %30s %9lld %9lld %12s %6s\n", state[st],
                (long long)s->i[s->L.i_sw_exits + st], s->d[s->L.d_sw_expo + st], rate,
                (long long)s->i[s->L.i_sw_done + st], (long long)s->i[s->L.i_sw_cens + st],
                dwell, cv);
    }
    if (undefined)
        fprintf(out, "  (n/a: the mean dwell needs a complete dwell, the CV two)\n");
}

/* Spectra and switching from the sufficient statistics (mg_h5_read_stats): the PSD of every
 * population as means over log-spaced bands, with the band's standard error as `mesogif
 * compare` computes it (docs/COMPARE.md: the periodogram's own chi-square(2) scatter plus the
 * excess across-realization variance as a factor common to the band), and per state the exits,
 * exposure, rate with its exact 95 % limits, complete and censored dwells, mean dwell and CV.
 * Prints nothing when the file has no /stats/sums (then there is nothing to summarize). */
static void print_stats_summary(const char *path, char **names, int P, int has_switching,
                                FILE *out)
{
    mg_stats s;
    mg_err err = {{0}};
    if (mg_h5_read_stats(path, &s, &err) != MG_OK)
        return;
    print_psd_summary(&s, names, P, out);
    print_time_summary(&s, names, P, out);
    print_switching_summary(&s, has_switching, out);
    mg_stats_free(&s);
}

int mg_h5_info(const char *path, FILE *out, mg_err *err)
{
    int rc = mg_h5_check_readable(path, err);
    if (rc != MG_OK)
        return rc;
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f < 0)
        return mg_err_set(err, MG_EIO, "%s: cannot open", path);
    if (H5Aexists(f, "format") <= 0 || H5Aexists(f, "format_version") <= 0) {
        H5Fclose(f);
        return mg_err_set(err, MG_EIO, "%s: not a mesogif result (no format attribute)", path);
    }
    fprintf(out, "%s\n", path);
    hsize_t idx = 0;
    H5Aiterate2(f, H5_INDEX_NAME, H5_ITER_INC, &idx, print_attr, out);
    char **names = NULL;
    int P = 0;
    if (read_names(f, &names, &P) == 0) {
        double *mean = malloc((size_t)P * sizeof *mean), *var = malloc((size_t)P * sizeof *var);
        double *sem = malloc((size_t)P * sizeof *sem), bin = NAN;
        mg_h5_read_array(f, "/stats/bin_ms", H5T_NATIVE_DOUBLE, &bin, 1);
        if (mean && var && sem && mg_h5_read_array(f, "/stats/mean_A", H5T_NATIVE_DOUBLE, mean, (hsize_t)P) == 0 &&
            mg_h5_read_array(f, "/stats/var_A", H5T_NATIVE_DOUBLE, var, (hsize_t)P) == 0 &&
            mg_h5_read_array(f, "/stats/mean_A_sem", H5T_NATIVE_DOUBLE, sem, (hsize_t)P) == 0) {
            fprintf(out, "statistics (A in %g ms bins):\n", bin);
            mg_print_moments_table(out, "  ", names, NULL, mean, sem, var, P);
        }
        free(mean);
        free(var);
        free(sem);
        print_stats_summary(path, names, P,
                            H5Lexists(f, "/stats", H5P_DEFAULT) > 0 &&
                                H5Lexists(f, "/stats/switching", H5P_DEFAULT) > 0,
                            out);
        for (int a = 0; a < P; ++a)
            H5free_memory(names[a]);
        free(names);
    }
    mg_ffs_h5_print(f, out); /* the rates of a `mesogif switch` file (src/io/ffs_h5.c) */
    fprintf(out, "datasets:\n");
    H5Ovisit(f, H5_INDEX_NAME, H5_ITER_INC, print_object, out);
    H5Fclose(f);
    return MG_OK;
}
