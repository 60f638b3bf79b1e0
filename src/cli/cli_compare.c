/* src/cli/cli_compare.c: `mesogif compare A.h5 B.h5`: do two result files show the same statistics?
 *
 * A side-by-side table of what both files hold: per population the mean of A, the variance of A
 * within realizations and the power spectrum in log-spaced bands; per switching state the exit
 * rate (exact 95 % limits) and the mean dwell time. Every row gets a z-score, and the files agree
 * when no |z| reaches a threshold that keeps the family-wise false-alarm rate at --alpha
 * (default 1 %) over all rows judged (Bonferroni: z* = Phi^-1(1 - alpha / (2 m)) for m rows).
 *
 * How each row is judged (docs/COMPARE.md has the same in prose):
 *  - mean A: the files' mean_A and mean_A_sem (spread of the realization means).
 *  - var A: the mean over realizations of the within-realization variance (sums d_v1 / R) and
 *    var_A_sem. (var_A of the file also holds the spread of the realization means, whose error
 *    the sums do not carry; the within-realization variance has an exact error bar.)
 *  - PSD bands: bands equally spaced in log f from the first to the last frequency (--bands,
 *    --fmin, --fmax); the band value is the mean of its periodogram ordinates. Its error is not
 *    that of independent ordinates: a realization with a high mean rate has a high shot-noise
 *    floor at every frequency, so realization-level factors are shared across the band (for B1
 *    the independent-ordinate error was 6x too small at high f). The variance of a
 *    realization's band mean is taken as (1/n^2) sum S_k^2 / M (the chi-square(2) scatter of the
 *    periodogram over the realization's M segments, independent across k) plus
 *    max(0, mean_k (V_k - S_k^2 / M)) (the excess of the observed across-realization variance V_k
 *    over that scatter, as a factor common to the band: an upper bound when it is not shared).
 *    For these three, d = B - A with standard error se = sqrt(se_A^2 + se_B^2); with few
 *    realizations t = d / se is referred to Welch's t distribution (Welch-Satterthwaite degrees
 *    of freedom from the realization counts) and mapped to the normal scale, so that one
 *    threshold serves every row.
 *  - switching rate of each state: d = ln(rate_B / rate_A) with rates (exits + 0.5) / exposure
 *    and se = sqrt(1 / (n_A + 0.5) + 1 / (n_B + 0.5)), the Poisson error of the exit counts (the
 *    0.5 keeps zero counts finite). Exits of the pooled realizations are Poisson when dwells are
 *    exponential; the dwell CV is printed so that a user can see when they are not.
 *  - mean dwell of each state: d = ln(mean_B / mean_A), se = sqrt(CV_A^2 / n_A + CV_B^2 / n_B)
 *    over complete dwells, with the tolerance ln(--dwell-factor) (MODEL.md §5: micro and meso
 *    agree within a factor 1.3); judged only when both files have >= --min-dwells complete
 *    dwells per state (MODEL.md §5 asks for >= 100 switches).
 *  - time-resolved means (/stats/time, both files with the same bins): every bin of every
 *    population is a test of the family, d = mean_B(t) - mean_A(t), se from the two files'
 *    mean_A_sem (independent realizations), Welch's t as above; one row per population shows
 *    the bin with the largest |z| and how many bins reach z*. The family then has m rows plus
 *    P x bins tests, and z* is Bonferroni's over all of them.
 * With a tolerance tol (--rel-tol X: X times the mean of |A| and |B| for moments and spectra,
 * ln(1 + X) for rates; ln(dwell-factor) for dwells), z = (|d| - tol) / se when |d| > tol, else
 * 0: a row disagrees only when its difference exceeds the tolerance by more than z* standard
 * errors. --rel-tol 0 (the default) asks for statistical identity (two runs of one model,
 * shards, CPU vs GPU); a comparison of different approximations (micro vs meso) needs a
 * tolerance for the approximation (e.g. 0.15, MODEL.md §4.3).
 *
 * Exit status: 0 all rows agree, 1 some row disagrees, 2 bad input (unreadable file, not a
 * result, different populations or statistics configurations, fewer than 2 realizations). */
#include "cli/cli.h"
#include "io/io_h5_internal.h" /* mg_h5_read_* */
#include "mesogif/io.h"
#include "mesogif/stats.h"
#include "mesogif/units.h" /* mg_parse_frequency_hz */

#include <getopt.h>
#include <gsl/gsl_cdf.h>
#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const char *path;
    mg_stats s;
    int P;
    char (*names)[128];    /* [P] population names */
    char level[32];
    long long first, count, seed;
    int has_switching;     /* /stats/switching written (an observable was declared) */
} cmp_file;

/* One row of the table. */
typedef struct {
    char label[96];
    char a[64], b[64];     /* the two files' values as printed */
    double ratio;          /* B / A (NaN: not printed) */
    double d, se, tol, df; /* difference, its standard error, tolerance, Welch dof (inf: normal) */
    int judged;            /* 0: shown only */
    const char *why_not;   /* when not judged */
    double z;              /* normal-equivalent z of the excess over the tolerance, signed */
    int ok;
} cmp_row;

static void compare_usage(FILE *out)
{
    fputs("usage: mesogif compare A.h5 B.h5 [options]\n"
          "\n"
          "Side-by-side statistics of two result files and whether they agree: means and\n"
          "variances of A, power spectra in log-spaced bands, switching rates and mean dwell\n"
          "times, each with a z-score from the spread across realizations.\n"
          "\n"
          "  --alpha P          family-wise false-alarm rate over all rows (default 0.01)\n"
          "  --bands N          log-spaced spectral bands (default 8)\n"
          "  --fmin FREQ        lowest frequency of the bands (default: the first, df)\n"
          "  --fmax FREQ        highest frequency of the bands (default: Nyquist)\n"
          "  --rel-tol X        allowed relative difference on top of the statistical error\n"
          "                     (default 0: statistically identical; e.g. 0.15 for micro vs meso)\n"
          "  --dwell-factor F   allowed ratio of mean dwell times (default 1.3, docs/MODEL.md §5)\n"
          "  --min-dwells N     complete dwells per state needed to judge dwells (default 100)\n"
          "\n"
          "Exit status: 0 the files agree, 1 they disagree, 2 bad input (unreadable, not a\n"
          "result, different populations or statistics configurations).\n",
          out);
}

/* ---- reading ----------------------------------------------------------------------------- */

static long long attr_ll(hid_t loc, const char *name)
{
    long long v = -1;
    if (mg_h5_read_attr(loc, name, H5T_NATIVE_LLONG, &v) != 0)
        v = -1;
    return v;
}

/* Population names and run attributes (for the header); the statistics by mg_h5_read_stats.
 * Prints the error and returns -1 on failure. */
static int cmp_load(const char *path, cmp_file *f)
{
    memset(f, 0, sizeof *f);
    f->path = path;
    mg_err err = {{0}};
    if (mg_h5_read_stats(path, &f->s, &err) != MG_OK) {
        mg_cli_error("%s", err.msg);
        return -1;
    }
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    hid_t h = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    hid_t d = h >= 0 ? H5Dopen2(h, "/config/populations", H5P_DEFAULT) : -1;
    int ok = 0;
    if (d >= 0) {
        hid_t sp = H5Dget_space(d), ft = H5Dget_type(d), mt = H5Tcopy(H5T_C_S1);
        H5Tset_size(mt, H5T_VARIABLE);
        H5Tset_cset(mt, H5Tget_cset(ft));
        hssize_t n = H5Sget_simple_extent_npoints(sp);
        if (n == f->s.L.P) {
            char **v = calloc((size_t)n, sizeof *v);
            f->names = calloc((size_t)n, sizeof *f->names);
            if (v && f->names && H5Dread(d, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) >= 0) {
                for (hssize_t k = 0; k < n; ++k) {
                    snprintf(f->names[k], sizeof f->names[k], "%s", v[k] ? v[k] : "?");
                    H5free_memory(v[k]);
                }
                ok = 1;
            }
            free(v);
        }
        H5Tclose(mt);
        H5Tclose(ft);
        H5Sclose(sp);
        H5Dclose(d);
    }
    if (h >= 0) {
        mg_h5_read_attr_str(h, "level", f->level, sizeof f->level);
        f->first = attr_ll(h, "realization_first");
        f->count = attr_ll(h, "realization_count");
        f->seed = attr_ll(h, "seed");
        f->has_switching = H5Lexists(h, "/stats", H5P_DEFAULT) > 0 &&
                           H5Lexists(h, "/stats/switching", H5P_DEFAULT) > 0;
        H5Fclose(h);
    }
    if (!ok) {
        mg_cli_error("%s: /config/populations is missing or does not match the %d populations "
                     "of /stats (not a complete mesogif result)", path, f->s.L.P);
        mg_stats_free(&f->s);
        free(f->names);
        f->names = NULL;
        return -1;
    }
    f->P = f->s.L.P;
    return 0;
}

static void cmp_free(cmp_file *f)
{
    mg_stats_free(&f->s);
    free(f->names);
}

/* The first difference between two statistics configurations, as an option name and values;
 * "" when they are equal (then the layouts are equal and the sums comparable). */
static void cfg_difference(const mg_stats_cfg *a, const mg_stats_cfg *b, char *out, size_t len)
{
    out[0] = 0;
    if (a->basic != b->basic) /* first: it switches off most of what follows */
        snprintf(out, len, "--stats: %s vs %s", a->basic ? "basic" : "full",
                 b->basic ? "basic" : "full");
#define DIFF_F(field, opt, unit)                                                           \
    if (!out[0] && a->field != b->field)                                                   \
    snprintf(out, len, "%s: %g vs %g%s", opt, (double)a->field, (double)b->field, unit)
    DIFF_F(bin_ms, "--stats-bin", " ms");
    DIFF_F(psd_n, "--psd-df (samples per segment)", "");
    DIFF_F(psd_bin_ms, "--psd-bin", " ms");
    DIFF_F(onesided, "--onesided", "");
    DIFF_F(hist_bins, "--hist-bins", "");
    DIFF_F(hist_max_hz, "--hist-max", " Hz");
    DIFF_F(obs_bins, "observable histogram bins", "");
    DIFF_F(obs_max_hz, "observable histogram range", " Hz");
    DIFF_F(sw_window, "--switch-smooth (bins)", "");
    DIFF_F(sw_lo, "--switch-thresholds (low)", " Hz");
    DIFF_F(sw_hi, "--switch-thresholds (high)", " Hz");
    DIFF_F(dwell_bins, "dwell histogram bins", "");
    DIFF_F(dwell_min_s, "dwell histogram start", " s");
    DIFF_F(dwell_max_s, "dwell histogram end", " s");
#undef DIFF_F
    if (!out[0] && strcmp(a->observable, b->observable) != 0)
        snprintf(out, len, "--switch-observable: '%.100s' vs '%.100s'", a->observable, b->observable);
    if (!out[0] && memcmp(a->sw_coef, b->sw_coef, sizeof a->sw_coef) != 0)
        snprintf(out, len, "--switch-observable: different coefficients");
}

/* ---- judging ----------------------------------------------------------------------------- */

static double welch_df(double se_a, double se_b, double R_a, double R_b)
{
    double va = se_a * se_a, vb = se_b * se_b;
    double den = va * va / (R_a - 1.0) + vb * vb / (R_b - 1.0);
    return den > 0 ? (va + vb) * (va + vb) / den : INFINITY;
}

/* The difference of two estimates, va +- ea (file A, Ra realizations) and vb +- eb (file B, Rb),
 * with the tolerance rel times their mean magnitude and Welch's degrees of freedom. */
static void two_sample(cmp_row *r, double va, double ea, double Ra, double vb, double eb,
                       double Rb, double rel)
{
    r->d = vb - va;
    r->se = sqrt(ea * ea + eb * eb);
    r->tol = rel * 0.5 * (fabs(va) + fabs(vb));
    r->df = welch_df(ea, eb, Ra, Rb);
}

static void fmt_val(char *buf, size_t len, double v, double e)
{
    if (isnan(v))
        snprintf(buf, len, "n/a");
    else if (isnan(e))
        snprintf(buf, len, "%.5g", v);
    else
        snprintf(buf, len, "%.5g +- %.2g", v, e);
}

/* The judged row of two estimates, as shown (value +- error) and as two_sample. */
static void judged_row(cmp_row *r, double va, double ea, double Ra, double vb, double eb,
                       double Rb, double rel)
{
    fmt_val(r->a, sizeof r->a, va, ea);
    fmt_val(r->b, sizeof r->b, vb, eb);
    r->ratio = vb / va;
    two_sample(r, va, ea, Ra, vb, eb, Rb, rel);
    r->judged = 1;
}

/* z of the row (see the file comment), against the threshold zstar. */
static void judge(cmp_row *r, double zstar)
{
    r->z = 0;
    r->ok = 1;
    if (!r->judged)
        return;
    double excess = fabs(r->d) - r->tol;
    if (excess > 0) {
        double t = r->se > 0 ? excess / r->se : INFINITY;
        double z = t;
        if (isfinite(r->df) && isfinite(t)) {
            double p2 = gsl_cdf_tdist_Q(t, r->df); /* one tail */
            z = p2 > 1e-300 ? gsl_cdf_ugaussian_Qinv(p2) : t;
        }
        r->z = r->d < 0 ? -z : z;
    }
    r->ok = fabs(r->z) < zstar;
}

/* Rows for moments (mean, within-realization variance) of every population. */
static int rows_moments(const cmp_file *A, const cmp_file *B, double rel, cmp_row *rows, int n)
{
    for (int p = 0; p < A->P; ++p) {
        const mg_stats *sa = &A->s, *sb = &B->s;
        double Ra = (double)sa->i[sa->L.i_nreal], Rb = (double)sb->i[sb->L.i_nreal];
        for (int what = 0; what < 2; ++what) {
            cmp_row *r = &rows[n++];
            memset(r, 0, sizeof *r);
            double va, vb, ea, eb;
            if (what == 0) {
                snprintf(r->label, sizeof r->label, "mean A %s (Hz)", A->names[p]);
                va = sa->mean_A[p];
                vb = sb->mean_A[p];
                ea = sa->mean_A_sem[p];
                eb = sb->mean_A_sem[p];
            } else {
                snprintf(r->label, sizeof r->label, "var A %s within (Hz^2)", A->names[p]);
                va = Ra > 0 ? sa->d[sa->L.d_v1 + p] / Ra : NAN;
                vb = Rb > 0 ? sb->d[sb->L.d_v1 + p] / Rb : NAN;
                ea = sa->var_A_sem[p];
                eb = sb->var_A_sem[p];
            }
            judged_row(r, va, ea, Ra, vb, eb, Rb, rel);
        }
    }
    return n;
}

/* The time-resolved means, bin by bin: row n + p of population p summarizes its bins (the bin
 * of largest |z|, and in beyond[p] how many bins reach zstar). Needs both files with the same
 * time bins. Returns the new row count. */
static int rows_time(const cmp_file *A, const cmp_file *B, double rel, double zstar,
                     cmp_row *rows, int n, int64_t *beyond)
{
    const mg_stats *sa = &A->s, *sb = &B->s;
    const int64_t T = sa->L.cfg.time_bins;
    const double Ra = (double)sa->i[sa->L.i_tm_nreal], Rb = (double)sb->i[sb->L.i_tm_nreal];
    for (int p = 0; p < A->P; ++p) {
        cmp_row *r = &rows[n++], worst;
        memset(r, 0, sizeof *r);
        memset(&worst, 0, sizeof worst);
        int64_t at = -1;
        beyond[p] = 0;
        for (int64_t b = 0; b < T; ++b) {
            cmp_row t;
            memset(&t, 0, sizeof t);
            const double va = sa->tm_mean_A[p * T + b], vb = sb->tm_mean_A[p * T + b];
            const double ea = sa->tm_mean_A_sem[p * T + b], eb = sb->tm_mean_A_sem[p * T + b];
            two_sample(&t, va, ea, Ra, vb, eb, Rb, rel);
            t.judged = isfinite(t.d) && t.se >= 0;
            judge(&t, zstar);
            beyond[p] += t.judged && !t.ok;
            if (t.judged && (at < 0 || fabs(t.z) > fabs(worst.z))) {
                worst = t;
                at = b;
            }
        }
        snprintf(r->label, sizeof r->label, "mean A(t) %s, %lld bins", A->names[p],
                 (long long)T);
        if (at < 0) {
            snprintf(r->a, sizeof r->a, "n/a");
            snprintf(r->b, sizeof r->b, "n/a");
            r->ratio = NAN;
            r->why_not = "undefined";
            continue;
        }
        const double va = sa->tm_mean_A[p * T + at], vb = sb->tm_mean_A[p * T + at];
        char ta[40], tb[40];
        fmt_val(ta, sizeof ta, va, sa->tm_mean_A_sem[p * T + at]);
        fmt_val(tb, sizeof tb, vb, sb->tm_mean_A_sem[p * T + at]);
        snprintf(r->a, sizeof r->a, "%s @%gs", ta, sa->tm_t_s[at]);
        snprintf(r->b, sizeof r->b, "%s", tb);
        r->ratio = vb / va;
        r->d = worst.d;
        r->se = worst.se;
        r->tol = worst.tol;
        r->df = worst.df;
        r->z = worst.z;
        r->judged = 1;
        r->ok = beyond[p] == 0;
    }
    return n;
}

/* Rows for the spectra: nb bands equally spaced in log f over [fmin, fmax] per population. */
static int rows_psd(const cmp_file *A, const cmp_file *B, int nb, double f_min, double f_max,
                    double rel, cmp_row *rows, int n)
{
    const mg_stats *sa = &A->s, *sb = &B->s;
    const int64_t F = sa->L.F;
    /* no spectra, or none formed (runs shorter than a segment: left out of the files) */
    if (F == 0 || sa->i[sa->L.i_psd_seg] == 0 || sb->i[sb->L.i_psd_seg] == 0)
        return n;
    double lo = f_min > sa->freq[0] ? f_min : sa->freq[0];
    double hi = f_max > 0 && f_max < sa->freq[F - 1] ? f_max : sa->freq[F - 1];
    double Ra = (double)sa->i[sa->L.i_psd_nreal], Rb = (double)sb->i[sb->L.i_psd_nreal];
    /* segments per realization (equal within a file: one t_sim) */
    double Ma = (double)sa->i[sa->L.i_psd_seg] / Ra, Mb = (double)sb->i[sb->L.i_psd_seg] / Rb;
    const char *side = sa->L.cfg.onesided ? "one-sided" : "two-sided";
    for (int p = 0; p < A->P; ++p) {
        for (int b = 0; b < nb; ++b) {
            double e0 = lo * pow(hi / lo, (double)b / nb);
            double e1 = lo * pow(hi / lo, (double)(b + 1) / nb);
            double ma = 0, mb = 0, ia = 0, ib = 0, xa = 0, xb = 0;
            int cnt = 0;
            for (int64_t k = 0; k < F; ++k) {
                double f = sa->freq[k];
                /* half-open bands [e0, e1), the last one closed at hi */
                if (f < e0 * (1 - 1e-12) || (b < nb - 1 ? f >= e1 * (1 - 1e-12)
                                                        : f > e1 * (1 + 1e-12)))
                    continue;
                int64_t at = (int64_t)p * F + k;
                ma += sa->psd[at];
                mb += sb->psd[at];
                /* the chi-square(2) scatter of one realization's mean periodogram (chi-square(1)
                 * at Nyquist), and the observed across-realization variance */
                double w = sa->L.cfg.psd_n % 2 == 0 && k == F - 1 ? 2.0 : 1.0;
                ia += w * sa->psd[at] * sa->psd[at] / Ma;
                ib += w * sb->psd[at] * sb->psd[at] / Mb;
                xa += sa->psd_sem[at] * sa->psd_sem[at] * Ra;
                xb += sb->psd_sem[at] * sb->psd_sem[at] * Rb;
                ++cnt;
            }
            if (cnt == 0)
                continue;
            cmp_row *r = &rows[n++];
            memset(r, 0, sizeof *r);
            snprintf(r->label, sizeof r->label, "PSD %s %.3g-%.3g Hz (Hz, %s)", A->names[p], e0,
                     e1, side);
            ma /= cnt;
            mb /= cnt;
            /* variance of a realization's band mean: independent scatter / n + the excess of
             * the observed variance over it, as a factor common to the band (file comment) */
            double ea = sqrt((ia / cnt / cnt + fmax(0.0, (xa - ia) / cnt)) / Ra);
            double eb = sqrt((ib / cnt / cnt + fmax(0.0, (xb - ib) / cnt)) / Rb);
            judged_row(r, ma, ea, Ra, mb, eb, Rb, rel);
        }
    }
    return n;
}

/* A dwell cell: "mean CV cv n=count", n/a where a value is undefined (the mean needs a complete
 * dwell, the CV two). */
static void dwell_cell(char *buf, size_t len, double mean_s, double cv, double count)
{
    char m[32], c[32];
    snprintf(buf, len, "%s CV %s n=%.0f", mg_fmt_or_na(m, sizeof m, "%.4g", mean_s),
             mg_fmt_or_na(c, sizeof c, "%.2f", cv), count);
}

/* Rows for the switching analysis: the rate and the mean dwell of each state. */
static int rows_switching(const cmp_file *A, const cmp_file *B, double rel, double dwell_factor,
                          int64_t min_dwells, cmp_row *rows, int n)
{
    static const char *state[2] = {"low", "high"};
    const mg_stats *sa = &A->s, *sb = &B->s;
    for (int s = 0; s < 2; ++s) {
        double na = (double)sa->i[sa->L.i_sw_exits + s], nb = (double)sb->i[sb->L.i_sw_exits + s];
        double Ta = sa->d[sa->L.d_sw_expo + s], Tb = sb->d[sb->L.d_sw_expo + s];
        cmp_row *r = &rows[n++];
        memset(r, 0, sizeof *r);
        snprintf(r->label, sizeof r->label, "switch rate from %s (Hz)", state[s]);
        if (Ta > 0)
            snprintf(r->a, sizeof r->a, "%.4g [%.4g, %.4g] n=%.0f", sa->rate_hz[s],
                     sa->rate_ci_low[s], sa->rate_ci_high[s], na);
        else
            snprintf(r->a, sizeof r->a, "never in this state");
        if (Tb > 0)
            snprintf(r->b, sizeof r->b, "%.4g [%.4g, %.4g] n=%.0f", sb->rate_hz[s],
                     sb->rate_ci_low[s], sb->rate_ci_high[s], nb);
        else
            snprintf(r->b, sizeof r->b, "never in this state");
        r->ratio = sb->rate_hz[s] / sa->rate_hz[s];
        if (Ta > 0 && Tb > 0 && na + nb > 0) {
            r->d = log((nb + 0.5) / Tb) - log((na + 0.5) / Ta);
            r->se = sqrt(1.0 / (na + 0.5) + 1.0 / (nb + 0.5));
            r->tol = log1p(rel);
            r->df = INFINITY;
            r->judged = 1;
        } else {
            r->why_not = "no exits";
        }

        double da = (double)sa->i[sa->L.i_sw_done + s], db = (double)sb->i[sb->L.i_sw_done + s];
        r = &rows[n++];
        memset(r, 0, sizeof *r);
        snprintf(r->label, sizeof r->label, "mean dwell in %s (s)", state[s]);
        dwell_cell(r->a, sizeof r->a, sa->mean_dwell_s[s], sa->cv_dwell[s], da);
        dwell_cell(r->b, sizeof r->b, sb->mean_dwell_s[s], sb->cv_dwell[s], db);
        r->ratio = sb->mean_dwell_s[s] / sa->mean_dwell_s[s];
        if (da >= (double)min_dwells && db >= (double)min_dwells) {
            r->d = log(sb->mean_dwell_s[s] / sa->mean_dwell_s[s]);
            r->se = sqrt(sa->cv_dwell[s] * sa->cv_dwell[s] / da +
                         sb->cv_dwell[s] * sb->cv_dwell[s] / db);
            r->tol = log(dwell_factor);
            r->df = INFINITY;
            r->judged = 1;
        } else {
            r->why_not = "too few complete dwells";
        }
    }
    return n;
}

static int parse_pos(const char *opt, const char *text, double lo, double hi, double *v)
{
    char *end;
    double x = strtod(text, &end);
    if (end == text || *end || !(x >= lo && x <= hi)) {
        mg_cli_error("%s: '%s' (allowed: a number in [%g, %g])", opt, text, lo, hi);
        return -1;
    }
    *v = x;
    return 0;
}

/* parse_pos of a whole number; allowed says which. */
static int parse_whole(const char *opt, const char *text, double lo, double hi,
                       const char *allowed, double *v)
{
    if (parse_pos(opt, text, lo, hi, v) != 0)
        return -1;
    if (*v != floor(*v)) {
        mg_cli_error("%s: '%s' (allowed: %s)", opt, text, allowed);
        return -1;
    }
    return 0;
}

/* A frequency (e.g. 2Hz), > 0 or, with zero_ok, >= 0. */
static int parse_freq(const char *opt, const char *text, int zero_ok, double *v)
{
    if (mg_parse_frequency_hz(text, v) != 0 || !(zero_ok ? *v >= 0 : *v > 0)) {
        mg_cli_error("%s: '%s' (allowed: a frequency %s 0, e.g. %s)", opt, text,
                     zero_ok ? ">=" : ">", zero_ok ? "2Hz" : "100Hz");
        return -1;
    }
    return 0;
}

enum { O_ALPHA = 1000, O_BANDS, O_FMIN, O_FMAX, O_REL, O_DWELL, O_MIND, O_HELP };
static const struct option compare_longopts[] = {
    {"alpha", required_argument, 0, O_ALPHA},   {"bands", required_argument, 0, O_BANDS},
    {"fmin", required_argument, 0, O_FMIN},     {"fmax", required_argument, 0, O_FMAX},
    {"rel-tol", required_argument, 0, O_REL},   {"dwell-factor", required_argument, 0, O_DWELL},
    {"min-dwells", required_argument, 0, O_MIND}, {"help", no_argument, 0, O_HELP},
    {0, 0, 0, 0}};

/* The options of a comparison. */
typedef struct {
    double alpha, bands, f_min, f_max, rel, dwell_factor, min_dwells;
} compare_cli;

/* The options and the two file arguments: 0 to go on, else the exit code (-1: --help). */
static int parse_compare_options(int argc, char **argv, compare_cli *o)
{
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":h", compare_longopts, NULL)) != -1) {
        int bad = 0;
        switch (c) {
        case O_ALPHA: bad = parse_pos("--alpha", optarg, 1e-12, 0.5, &o->alpha); break;
        case O_BANDS:
            bad = parse_whole("--bands", optarg, 1, 1000, "a whole number 1..1000", &o->bands);
            break;
        case O_FMIN: bad = parse_freq("--fmin", optarg, 1, &o->f_min); break;
        case O_FMAX: bad = parse_freq("--fmax", optarg, 0, &o->f_max); break;
        case O_REL: bad = parse_pos("--rel-tol", optarg, 0, 10, &o->rel); break;
        case O_DWELL: bad = parse_pos("--dwell-factor", optarg, 1, 1e6, &o->dwell_factor); break;
        case O_MIND:
            bad = parse_whole("--min-dwells", optarg, 2, 1e15, "a whole number >= 2",
                              &o->min_dwells);
            break;
        case 'h':
        case O_HELP: compare_usage(stdout); return -1;
        case ':':
            mg_cli_error("%s: needs a value (see mesogif compare --help)", argv[optind - 1]);
            return 2;
        default:
            mg_cli_unknown_option("compare", argv[optind - 1], compare_longopts);
            return 2;
        }
        if (bad)
            return 2;
    }
    if (argc - optind != 2) {
        mg_cli_error("compare: expected two result files (usage: mesogif compare A.h5 B.h5 "
                     "[options]; --help lists them)");
        return 2;
    }
    if (o->f_max > 0 && o->f_min >= o->f_max) {
        mg_cli_error("--fmin: %g Hz (allowed: below --fmax, %g Hz)", o->f_min, o->f_max);
        return 2;
    }
    return 0;
}

/* Whether A and B can be compared: the same populations and statistics options, and error bars
 * in both. 0, or 2 after an error line. */
static int check_comparable(const cmp_file *A, const cmp_file *B)
{
    char diff[256];
    if (A->P != B->P) {
        mg_cli_error("%s: %d populations, but %d in %s (allowed: the same populations)", B->path,
                     B->P, A->P, A->path);
        return 2;
    }
    for (int p = 0; p < A->P; ++p)
        if (strcmp(A->names[p], B->names[p]) != 0) {
            mg_cli_error("%s: population %d is '%s', but '%s' in %s (allowed: the same "
                         "populations in the same order)", B->path, p + 1, B->names[p],
                         A->names[p], A->path);
            return 2;
        }
    cfg_difference(&A->s.L.cfg, &B->s.L.cfg, diff, sizeof diff);
    if (diff[0]) {
        mg_cli_error("%s: statistics options differ from %s: %s (allowed: the same statistics "
                     "options; rerun one file with the other's)", B->path, A->path, diff);
        return 2;
    }
    for (int k = 0; k < 2; ++k) {
        const cmp_file *f = k ? B : A;
        if (f->s.i[f->s.L.i_nreal] < 2) {
            mg_cli_error("%s: %lld realization(s) with statistics (allowed: >= 2: the error bars "
                         "come from the spread across realizations)", f->path,
                         (long long)f->s.i[f->s.L.i_nreal]);
            return 2;
        }
    }
    return 0;
}

/* The judged family: rows of moments, spectra, switching and time bins, and the threshold. */
typedef struct {
    cmp_row *rows;
    int n, m, n_before_time, time_cmp, nb;
    int64_t TB;
    double m_all, zstar;
    int64_t beyond[MG_STATS_POP_MAX];
} cmp_family;

/* Fill f (rows owned by the caller, sized for nb bands). 0, or 2 after an error line when
 * nothing can be compared. */
static int judge_family(const cmp_file *A, const cmp_file *B, const compare_cli *o, cmp_family *f)
{
    int n = rows_moments(A, B, o->rel, f->rows, 0);
    n = rows_psd(A, B, f->nb, o->f_min, o->f_max, o->rel, f->rows, n);
    /* the switching analysis where both files declared an observable */
    if (A->has_switching && B->has_switching && !A->s.L.cfg.basic)
        n = rows_switching(A, B, o->rel, o->dwell_factor, (int64_t)o->min_dwells, f->rows, n);
    int m = 0;
    for (int k = 0; k < n; ++k) {
        cmp_row *r = &f->rows[k];
        if (r->judged && (!isfinite(r->d) || !(r->se >= 0))) {
            r->judged = 0; /* e.g. a spectrum without segments */
            r->why_not = "undefined";
        }
        m += r->judged;
    }
    if (m == 0) {
        mg_cli_error("%s, %s: nothing to compare (no statistics with error bars)", A->path,
                     B->path);
        return 2;
    }
    /* time-resolved means: every bin is a test of the family */
    f->TB = A->s.L.cfg.time_bins;
    f->time_cmp = f->TB > 0 && f->TB == B->s.L.cfg.time_bins &&
                  A->s.L.cfg.time_bin_ms == B->s.L.cfg.time_bin_ms &&
                  A->s.i[A->s.L.i_tm_nreal] >= 2 && B->s.i[B->s.L.i_tm_nreal] >= 2;
    f->m = m;
    f->m_all = (double)m + (f->time_cmp ? (double)A->P * (double)f->TB : 0.0);
    f->zstar = gsl_cdf_ugaussian_Qinv(o->alpha / (2.0 * f->m_all));
    for (int k = 0; k < n; ++k)
        judge(&f->rows[k], f->zstar);
    f->n_before_time = n;
    if (f->time_cmp)
        n = rows_time(A, B, o->rel, f->zstar, f->rows, n, f->beyond);
    f->n = n;
    return 0;
}

/* What was compared, and how it is judged. */
static void print_compare_header(const cmp_file *A, const cmp_file *B, const compare_cli *o,
                                 const cmp_family *f)
{
    const mg_stats_cfg *cfg = &A->s.L.cfg;
    for (int k = 0; k < 2; ++k) {
        const cmp_file *x = k ? B : A;
        printf("%s = %s: %s level, realizations [%lld, %lld), seed %lld\n", k ? "B" : "A",
               x->path, x->level[0] ? x->level : "?", x->first, x->first + x->count, x->seed);
    }
    char spec[96] = "absent";
    if (A->s.L.F > 0 && A->s.i[A->s.L.i_psd_seg] > 0 && B->s.i[B->s.L.i_psd_seg] > 0)
        snprintf(spec, sizeof spec, "df %g Hz, %d log bands", A->s.freq[0], f->nb);
    else if (A->s.L.F > 0)
        snprintf(spec, sizeof spec, "none formed (runs shorter than a segment)");
    if (A->has_switching && B->has_switching && !cfg->basic)
        printf("statistics in %g ms bins; spectra %s; switching on %s smoothed over %g ms, "
               "thresholds %g / %g Hz\n", cfg->bin_ms, spec,
               cfg->observable[0] ? cfg->observable : "?", cfg->sw_window * cfg->bin_ms,
               cfg->sw_lo, cfg->sw_hi);
    else
        printf("statistics in %g ms bins; spectra %s; switching not compared (%s)\n",
               cfg->bin_ms, spec, A->has_switching || B->has_switching
                                     ? "only one file declares an observable"
                                     : "no observable declared");
    if (f->time_cmp)
        printf("agree when |z| < %.2f in each of %d rows and %lld time bins (%lld bins of %g ms "
               "per population; Bonferroni over all %.0f tests: family-wise false-alarm rate "
               "%g);\n", f->zstar, f->m, (long long)(A->P * f->TB), (long long)f->TB,
               A->s.L.cfg.time_bin_ms, f->m_all, o->alpha);
    else
        printf("agree when |z| < %.2f in each of %d rows (Bonferroni: family-wise false-alarm "
               "rate %g);\n", f->zstar, f->m, o->alpha);
    if (!f->time_cmp && (A->s.L.cfg.time_bins > 0 || B->s.L.cfg.time_bins > 0))
        printf("time-resolved means not compared (%s)\n",
               A->s.L.cfg.time_bins > 0 && B->s.L.cfg.time_bins > 0
                   ? "different time bins, or fewer than 2 realizations"
                   : "only one file has them");
    printf("z = (|B - A| - tolerance) / standard error, from the spread across realizations "
           "(Welch's t,\nmapped to the normal scale) or Poisson counts; tolerance %g relative",
           o->rel);
    printf(" (--rel-tol), dwell ratio %g (--dwell-factor)\n\n", o->dwell_factor);
}

/* The table and the verdict: 0 when everything agrees, 1 otherwise. */
static int print_verdict(const cmp_file *A, const cmp_family *f)
{
    printf("%-40s %-28s %-28s %8s %7s\n", "quantity", "A", "B", "B/A", "z");
    int bad = 0;
    for (int k = 0; k < f->n; ++k) {
        const cmp_row *r = &f->rows[k];
        char ratio[16] = "", z[16] = "";
        if (isfinite(r->ratio))
            snprintf(ratio, sizeof ratio, "%.4f", r->ratio);
        if (r->judged)
            snprintf(z, sizeof z, "%+.2f", r->z);
        char status[64];
        if (k >= f->n_before_time && r->judged)
            snprintf(status, sizeof status, "%s (%lld bins beyond)", r->ok ? "ok" : "DIFFERS",
                     (long long)f->beyond[k - f->n_before_time]);
        else
            snprintf(status, sizeof status, "%s",
                     !r->judged ? (r->why_not ? r->why_not : "") : r->ok ? "ok" : "DIFFERS");
        printf("%-40s %-28s %-28s %8s %7s  %s\n", r->label, r->a, r->b, ratio, z, status);
        bad += r->judged && !r->ok && k < f->n_before_time;
    }
    int64_t bad_bins = 0;
    for (int p = 0; p < A->P && f->time_cmp; ++p)
        bad_bins += f->beyond[p];
    if (bad || bad_bins) {
        printf("\nDISAGREE: %d of %d rows", bad, f->m);
        if (f->time_cmp)
            printf(" and %lld of %lld time bins", (long long)bad_bins, (long long)(A->P * f->TB));
        printf(" beyond |z| = %.2f\n", f->zstar);
        return 1;
    }
    if (f->time_cmp)
        printf("\nagree: all %d rows and %lld time bins within |z| < %.2f\n", f->m,
               (long long)(A->P * f->TB), f->zstar);
    else
        printf("\nagree: all %d rows within |z| < %.2f\n", f->m, f->zstar);
    return 0;
}

int mg_cli_compare(int argc, char **argv)
{
    compare_cli o = {0.01, 8, 0, 0, 0, 1.3, 100};
    int rc = parse_compare_options(argc, argv, &o);
    if (rc != 0)
        return rc < 0 ? 0 : rc;
    cmp_file A, B;
    if (cmp_load(argv[optind], &A) != 0)
        return 2;
    if (cmp_load(argv[optind + 1], &B) != 0) {
        cmp_free(&A);
        return 2;
    }
    cmp_family f;
    memset(&f, 0, sizeof f);
    f.nb = (int)o.bands;
    rc = check_comparable(&A, &B);
    if (rc == 0) {
        f.rows = calloc((size_t)(3 * A.P + A.P * f.nb + 4), sizeof *f.rows);
        if (!f.rows) {
            mg_cli_error("out of memory");
            rc = 1;
        }
    }
    if (rc == 0)
        rc = judge_family(&A, &B, &o, &f);
    if (rc == 0) {
        print_compare_header(&A, &B, &o, &f);
        rc = print_verdict(&A, &f);
    }
    free(f.rows);
    cmp_free(&A);
    cmp_free(&B);
    return rc;
}
