/* src/stats/stats.c: mergeable sufficient statistics (include/mesogif/stats.h): configuration,
 * layout, merging, and the derived quantities (moments, spectra, switching rates). */
#include "mesogif/stats.h"

#include <ctype.h>
#include <fftw3.h>
#include <gsl/gsl_cdf.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void mg_stats_cfg_default(mg_stats_cfg *c, int P, double bin_ms, double dt_ms)
{
    memset(c, 0, sizeof *c);
    c->P = P;
    c->bin_ms = bin_ms;
    /* spectra: 1 ms samples (MODEL.md §4.3, S3's dt_sample) when 1 ms is a whole number of
     * steps, else one step; df = 1 Hz */
    double q = 1.0 / dt_ms;
    c->psd_bin_ms = fabs(q - llround(q)) < 1e-9 * q ? 1.0 : dt_ms;
    c->psd_n = llround(1000.0 / c->psd_bin_ms);
    c->onesided = 0;
    c->hist_bins = 400;
    c->hist_max_hz = 200.0;
    c->obs_bins = 400;
    c->obs_max_hz = 100.0;
    mg_stats_parse_observable(c, P >= 2 ? "A1-A2" : "A1", NULL);
    c->sw_window = (int)llround(50.0 / bin_ms);
    if (c->sw_window < 1)
        c->sw_window = 1;
    c->sw_lo = -5.0;
    c->sw_hi = 5.0;
    c->dwell_bins = 70;
    c->dwell_min_s = 1e-3;
    c->dwell_max_s = 1e4;
    c->isi_bins = 200;
    c->isi_max_s = 2.0;
}

int mg_stats_parse_observable(mg_stats_cfg *c, const char *text, mg_err *err)
{
    double coef[MG_STATS_POP_MAX] = {0};
    const char *s = text;
    int terms = 0;
    while (*s) {
        while (isspace((unsigned char)*s))
            ++s;
        if (!*s)
            break;
        double sign = 1.0;
        if (*s == '+' || *s == '-') {
            sign = *s == '-' ? -1.0 : 1.0;
            ++s;
        } else if (terms > 0) {
            return mg_err_set(err, MG_EINVAL, "--switch-observable: '%s': expected + or - before "
                              "'%s' (allowed: e.g. A1-A2, 0.5*A1+A3)", text, s);
        }
        while (isspace((unsigned char)*s))
            ++s;
        double w = 1.0;
        if (*s != 'A') {
            char *end;
            w = strtod(s, &end);
            if (end == s)
                return mg_err_set(err, MG_EINVAL, "--switch-observable: '%s': cannot read the "
                                  "term at '%s' (allowed: e.g. A1-A2, 0.5*A1+A3)", text, s);
            s = end;
            while (isspace((unsigned char)*s))
                ++s;
            if (*s == '*')
                ++s;
            while (isspace((unsigned char)*s))
                ++s;
        }
        if (*s != 'A' || !isdigit((unsigned char)s[1]))
            return mg_err_set(err, MG_EINVAL, "--switch-observable: '%s': expected A<k> at '%s' "
                              "(allowed: e.g. A1-A2, 0.5*A1+A3)", text, s);
        char *end;
        long k = strtol(s + 1, &end, 10);
        if (k < 1 || k > c->P)
            return mg_err_set(err, MG_EINVAL, "--switch-observable: '%s': A%ld names no "
                              "population (allowed: A1..A%d)", text, k, c->P);
        coef[k - 1] += sign * w;
        s = end;
        ++terms;
    }
    if (terms == 0)
        return mg_err_set(err, MG_EINVAL, "--switch-observable: empty (allowed: e.g. A1-A2)");
    memcpy(c->sw_coef, coef, sizeof coef);
    snprintf(c->observable, sizeof c->observable, "%s", text);
    return MG_OK;
}

int mg_stats_cfg_check(const mg_stats_cfg *c, mg_err *err)
{
    if (c->psd_n != 0 && (c->psd_n < 4 || c->psd_n > (1 << 24)))
        return mg_err_set(err, MG_EINVAL, "--psd-df: %lld samples per segment (allowed: 4 to "
                          "2^24; raise --psd-df or --psd-bin)", (long long)c->psd_n);
    if (!(c->hist_max_hz > 0) || c->hist_bins < 1 || c->hist_bins > 100000)
        return mg_err_set(err, MG_EINVAL, "--hist: %d bins up to %g Hz (allowed: 1..100000 bins, "
                          "max > 0)", c->hist_bins, c->hist_max_hz);
    if (!(c->obs_max_hz > 0) || c->obs_bins < 1 || c->obs_bins > 100000)
        return mg_err_set(err, MG_EINVAL, "--obs-hist: %d bins up to %g Hz (allowed: 1..100000 "
                          "bins, max > 0)", c->obs_bins, c->obs_max_hz);
    if (c->sw_window < 1 || c->sw_window > 100000)
        return mg_err_set(err, MG_EINVAL, "--switch-smooth: %d bins (allowed: 1..100000 bins "
                          "of the statistics bin)", c->sw_window);
    if (!(c->sw_lo < c->sw_hi))
        return mg_err_set(err, MG_EINVAL, "--switch-thresholds: %g,%g (allowed: low < high)",
                          c->sw_lo, c->sw_hi);
    if (c->isi_bins < 1 || c->isi_bins > 100000 || !(c->isi_max_s > 0))
        return mg_err_set(err, MG_EINVAL, "ISI histogram: %d bins up to %g s (allowed: 1..100000 "
                          "bins, max > 0)", c->isi_bins, c->isi_max_s);
    if (c->dwell_bins < 1 || !(c->dwell_min_s > 0) || !(c->dwell_max_s > c->dwell_min_s))
        return mg_err_set(err, MG_EINVAL, "dwell histogram: %d bins on [%g, %g) s (allowed: "
                          "bins >= 1, 0 < min < max)", c->dwell_bins, c->dwell_min_s,
                          c->dwell_max_s);
    if (c->time_bins < 0 || (c->time_bins > 0 && !(c->time_bin_ms > 0)))
        return mg_err_set(err, MG_EINVAL, "--stats-time: %lld bins of %g ms (allowed: bins >= "
                          "0, bin > 0)", (long long)c->time_bins, c->time_bin_ms);
    const double rec_bytes = ((double)c->P + (double)c->P * c->P) * (double)c->time_bins * 8.0;
    if (rec_bytes > MG_STATS_TIME_MAX_BYTES)
        return mg_err_set(err, MG_EINVAL, "--stats-time: %lld bins of %g ms for %d populations "
                          "make a time-resolved record of %.1f MB per realization (allowed: <= "
                          "%.0f MB; use a coarser bin, a shorter --t-sim, or --stats-time off)",
                          (long long)c->time_bins, c->time_bin_ms, c->P, rec_bytes / 1048576.0,
                          MG_STATS_TIME_MAX_BYTES / 1048576.0);
    return MG_OK;
}

/* The next n slots of a layout, from *at on: their offset. */
static int64_t take(int64_t *at, int64_t n)
{
    int64_t o = *at;
    *at += n;
    return o;
}

void mg_stats_layout_init(mg_stats_layout *L, const mg_stats_cfg *c)
{
    memset(L, 0, sizeof *L);
    L->cfg = *c;
    const int64_t P = c->P, C = P * (P - 1) / 2;
    L->P = c->P;
    L->F = c->psd_n / 2;
    const int64_t F = L->F;
    int64_t i = 0, d = 0;
    L->i_count = take(&i, 1);
    L->i_nreal = take(&i, 1);
    L->i_psd_seg = take(&i, 1);
    L->i_psd_nreal = take(&i, 1);
    L->i_hist_A = take(&i, P * (c->hist_bins + 2));
    L->i_hist_obs = take(&i, c->obs_bins + 2);
    L->i_sw_exits = take(&i, 2);
    L->i_sw_done = take(&i, 2);
    L->i_sw_cens = take(&i, 2);
    L->i_sw_hist = take(&i, 2 * (c->dwell_bins + 2));
    L->i_isi_hist = take(&i, P * (c->isi_bins + 2));
    L->i_isi_n = take(&i, P);
    const int64_t B = c->time_bins > 0 ? c->time_bins : 0;
    L->i_tm_nreal = B > 0 ? i++ : -1;
    L->n_i = i;
    L->d_s1 = take(&d, P);
    L->d_s2 = take(&d, P * P);
    L->d_m1 = take(&d, P);
    L->d_m2 = take(&d, P);
    L->d_v1 = take(&d, P);
    L->d_v2 = take(&d, P);
    L->d_psd = take(&d, P * F);
    L->d_psd_m1 = take(&d, P * F);
    L->d_psd_m2 = take(&d, P * F);
    L->d_csd_re = take(&d, C * F);
    L->d_csd_im = take(&d, C * F);
    L->d_sw_expo = take(&d, 2);
    L->d_sw_d1 = take(&d, 2);
    L->d_sw_d2 = take(&d, 2);
    L->d_isi_s1 = take(&d, P);
    L->d_isi_s2 = take(&d, P);
    L->d_tm_s1 = B > 0 ? d : -1;
    d += P * B;
    L->d_tm_s2 = B > 0 ? d : -1;
    d += P * P * B;
    L->n_d = d;
}

static void free_derived(mg_stats *s)
{
    double **p[] = {&s->mean_A, &s->var_A, &s->cov_A, &s->mean_A_sem, &s->var_A_sem, &s->freq,
                    &s->psd, &s->psd_sem, &s->csd_re, &s->csd_im, &s->dwell_edges_s,
                    &s->hist_A_edges, &s->hist_obs_edges, &s->isi_mean_s, &s->isi_cv,
                    &s->isi_edges_s, &s->tm_t_s, &s->tm_mean_A, &s->tm_var_A,
                    &s->tm_cov_A, &s->tm_mean_A_sem};
    for (size_t k = 0; k < sizeof p / sizeof p[0]; ++k) {
        free(*p[k]);
        *p[k] = NULL;
    }
}

int mg_stats_alloc(mg_stats *s, const mg_stats_layout *L, mg_err *err)
{
    int64_t *i = calloc((size_t)L->n_i, sizeof *i);
    double *d = calloc((size_t)L->n_d, sizeof *d);
    if (!i || !d) {
        free(i);
        free(d);
        return mg_err_set(err, MG_ENOMEM, "out of memory for statistics");
    }
    memset(s, 0, sizeof *s);
    s->L = *L;
    s->bin_ms = L->cfg.bin_ms;
    s->i = i;
    s->d = d;
    return MG_OK;
}

int mg_stats_add(mg_stats *dst, const mg_stats *src, mg_err *err)
{
    if (memcmp(&dst->L, &src->L, sizeof dst->L) != 0)
        return mg_err_set(err, MG_EINVAL, "statistics of different configurations (bins, "
                          "spectra, histograms or switching options) cannot be merged");
    for (int64_t k = 0; k < dst->L.n_i; ++k)
        dst->i[k] += src->i[k];
    for (int64_t k = 0; k < dst->L.n_d; ++k)
        dst->d[k] += src->d[k];
    return MG_OK;
}

void mg_stats_zero(mg_stats *s)
{
    memset(s->i, 0, (size_t)s->L.n_i * sizeof *s->i);
    memset(s->d, 0, (size_t)s->L.n_d * sizeof *s->d);
    free_derived(s);
}

/* The x with P(X <= x) = p (upper = 0) or P(X > x) = p (upper = 1), X ~ chi-square with nu > 0
 * degrees of freedom. Not gsl_cdf_chisq_Pinv: it fails to converge for many nu above 2000 (GSL
 * 2.7: nu = 2320, 2 * 1159 + 2, ...) and GSL's default error handler then aborts the process.
 * Bisection on GSL's distribution function instead, which is exact to 1e-15 relative for
 * nu <= 2e5 (checked against SciPy's chi2.ppf for every n <= 2e4 and on a log grid up to 1e5);
 * above that GSL's upper tail loses digits, and the Wilson & Hilferty (1931, Proc. Natl. Acad.
 * Sci. 17:684) cube-root approximation is used, relative error < 1e-9 there and falling as
 * nu^-3/2. Deterministic, thread-safe. */
static double chisq_quantile(double p, double nu, int upper)
{
    const double z = gsl_cdf_ugaussian_Pinv(upper ? 1.0 - p : p), h = 2.0 / (9.0 * nu);
    double x = nu * pow(1.0 - h + z * sqrt(h), 3);
    if (nu > 2e5)
        return x;
    if (!(x > 0))
        x = 0.01 * nu;
    /* g(x) increases through 0 at the quantile */
#define MG_CHISQ_G(v) (upper ? p - gsl_cdf_chisq_Q((v), nu) : gsl_cdf_chisq_P((v), nu) - p)
    double lo = x, hi = x;
    while (MG_CHISQ_G(lo) > 0)
        lo *= 0.9;
    while (MG_CHISQ_G(hi) < 0)
        hi *= 1.1;
    for (int it = 0; it < 200 && hi - lo > 1e-15 * hi; ++it) {
        double mid = 0.5 * (lo + hi);
        if (MG_CHISQ_G(mid) < 0)
            lo = mid;
        else
            hi = mid;
    }
#undef MG_CHISQ_G
    return 0.5 * (lo + hi);
}

void mg_rate_ci95(int64_t n, double T, double *lo, double *hi)
{
    /* n < 0 only comes from a damaged file's sums: no limits (and chisq_quantile needs nu > 0;
     * its bracketing loops would not end for nu <= 0) */
    if (!(T > 0) || n < 0) {
        *lo = *hi = NAN;
        return;
    }
    *lo = n > 0 ? chisq_quantile(0.025, 2.0 * (double)n, 0) / (2.0 * T) : 0.0;
    *hi = chisq_quantile(0.025, 2.0 * (double)n + 2.0, 1) / (2.0 * T);
}

/* Standard error of a mean over R realizations from the sums of x and x^2. */
static double sem_of(double s1, double s2, double R)
{
    if (!(R > 1))
        return NAN;
    double v = (s2 - s1 * s1 / R) / (R - 1.0);
    return sqrt((v > 0 ? v : 0.0) / R);
}

static double *alloc_n(int64_t n)
{
    return malloc((size_t)(n > 0 ? n : 1) * sizeof(double));
}

/* Time-resolved moments across the R realizations, per bin: mean, unbiased (co)variance, and
 * the standard error of the mean, sqrt(var / R) (realizations are independent). */
static int time_finalize(mg_stats *s, mg_err *err)
{
    const mg_stats_layout *L = &s->L;
    const int64_t B = L->cfg.time_bins, P = L->P;
    if (B <= 0)
        return MG_OK;
    s->tm_t_s = alloc_n(B);
    s->tm_mean_A = alloc_n(P * B);
    s->tm_var_A = alloc_n(P * B);
    s->tm_cov_A = alloc_n(P * P * B);
    s->tm_mean_A_sem = alloc_n(P * B);
    if (!s->tm_t_s || !s->tm_mean_A || !s->tm_var_A || !s->tm_cov_A || !s->tm_mean_A_sem) {
        free_derived(s);
        return mg_err_set(err, MG_ENOMEM, "out of memory for statistics");
    }
    const double R = (double)s->i[L->i_tm_nreal];
    const double *S1 = s->d + L->d_tm_s1, *S2 = s->d + L->d_tm_s2;
    for (int64_t b = 0; b < B; ++b)
        s->tm_t_s[b] = (double)b * L->cfg.time_bin_ms * 1e-3;
    for (int64_t a = 0; a < P; ++a)
        for (int64_t q = 0; q < P; ++q)
            for (int64_t b = 0; b < B; ++b) {
                const double sa = S1[a * B + b], sq = S1[q * B + b];
                double v = R > 1 ? (S2[(a * P + q) * B + b] - sa * sq / R) / (R - 1.0) : NAN;
                /* identical realizations (deterministic runs) can give -1e-17 by cancellation */
                if (a == q && v < 0.0)
                    v = 0.0;
                s->tm_cov_A[(a * P + q) * B + b] = v;
            }
    for (int64_t a = 0; a < P; ++a)
        for (int64_t b = 0; b < B; ++b) {
            const double v = s->tm_cov_A[(a * P + a) * B + b];
            s->tm_mean_A[a * B + b] = R > 0 ? S1[a * B + b] / R : NAN;
            s->tm_var_A[a * B + b] = v;
            s->tm_mean_A_sem[a * B + b] = R > 1 ? sqrt(v / R) : NAN;
        }
    return MG_OK;
}

/* Allocate the derived arrays of s but the time-resolved ones (free_derived called before).
 * Returns 0, or -1 when one could not be allocated (the others are then still set). */
static int alloc_derived(mg_stats *s)
{
    const mg_stats_layout *L = &s->L;
    const mg_stats_cfg *c = &L->cfg;
    const int P = L->P;
    const int64_t F = L->F, C = (int64_t)P * (P - 1) / 2;
    s->mean_A = alloc_n(P);
    s->var_A = alloc_n(P);
    s->cov_A = alloc_n((int64_t)P * P);
    s->mean_A_sem = alloc_n(P);
    s->var_A_sem = alloc_n(P);
    s->freq = alloc_n(F);
    s->psd = alloc_n(P * F);
    s->psd_sem = alloc_n(P * F);
    s->csd_re = alloc_n(C * F);
    s->csd_im = alloc_n(C * F);
    s->dwell_edges_s = alloc_n(c->dwell_bins + 1);
    s->hist_A_edges = alloc_n(c->hist_bins + 1);
    s->hist_obs_edges = alloc_n(c->obs_bins + 1);
    s->isi_mean_s = alloc_n(P);
    s->isi_cv = alloc_n(P);
    s->isi_edges_s = alloc_n(c->isi_bins + 1);
    if (!s->isi_mean_s || !s->isi_cv || !s->isi_edges_s || !s->mean_A || !s->var_A || !s->cov_A || !s->mean_A_sem || !s->var_A_sem || !s->freq ||
        !s->psd || !s->psd_sem || !s->csd_re || !s->csd_im || !s->dwell_edges_s ||
        !s->hist_A_edges || !s->hist_obs_edges)
        return -1;
    return 0;
}

/* mean_A, cov_A, var_A and their standard errors from the sums. */
static void finalize_moments(mg_stats *s)
{
    const mg_stats_layout *L = &s->L;
    const int P = L->P;
    const double n = (double)s->i[L->i_count];
    const double R = (double)s->i[L->i_nreal];
    const double *S1 = s->d + L->d_s1, *S2 = s->d + L->d_s2;
    for (int a = 0; a < P; ++a) {
        s->mean_A[a] = n > 0 ? S1[a] / n : NAN;
        for (int b = 0; b < P; ++b)
            s->cov_A[a * P + b] = n > 1 ? (S2[a * P + b] - S1[a] * S1[b] / n) / (n - 1.0) : NAN;
        /* a constant A (deterministic runs) can give -1e-17 by cancellation */
        if (s->cov_A[a * P + a] < 0.0)
            s->cov_A[a * P + a] = 0.0;
        s->var_A[a] = s->cov_A[a * P + a];
        /* spread of the realization means: the honest error bar when samples within a
         * realization are correlated */
        s->mean_A_sem[a] = sem_of(s->d[L->d_m1 + a], s->d[L->d_m2 + a], R);
        s->var_A_sem[a] = sem_of(s->d[L->d_v1 + a], s->d[L->d_v2 + a], R);
    }
}

/* freq, psd, psd_sem, csd_re and csd_im: pooled over segments; the error bar from the spread
 * of realization means. */
static void finalize_spectra(mg_stats *s)
{
    const mg_stats_layout *L = &s->L;
    const mg_stats_cfg *c = &L->cfg;
    const int P = L->P;
    const int64_t F = L->F, C = (int64_t)P * (P - 1) / 2;
    const double nseg = (double)s->i[L->i_psd_seg], Rp = (double)s->i[L->i_psd_nreal];
    const double df = F > 0 ? 1000.0 / ((double)c->psd_n * c->psd_bin_ms) : 0.0;
    for (int64_t k = 0; k < F; ++k) {
        s->freq[k] = (double)(k + 1) * df;
        /* one-sided: fold the negative frequencies onto the positive ones, except Nyquist */
        double fold = c->onesided && !(c->psd_n % 2 == 0 && k == F - 1) ? 2.0 : 1.0;
        for (int a = 0; a < P; ++a) {
            int64_t at = (int64_t)a * F + k;
            s->psd[at] = nseg > 0 ? fold * s->d[L->d_psd + at] / nseg : NAN;
            s->psd_sem[at] = fold * sem_of(s->d[L->d_psd_m1 + at], s->d[L->d_psd_m2 + at], Rp);
        }
        for (int64_t pr = 0; pr < C; ++pr) {
            int64_t at = pr * F + k;
            s->csd_re[at] = nseg > 0 ? fold * s->d[L->d_csd_re + at] / nseg : NAN;
            s->csd_im[at] = nseg > 0 ? fold * s->d[L->d_csd_im + at] / nseg : NAN;
        }
    }
}

/* Switching rates with their exact 95 % limits, mean and CV of the dwell times, and the edges
 * of the dwell-time, A and observable histograms. */
static void finalize_switching(mg_stats *s)
{
    const mg_stats_layout *L = &s->L;
    const mg_stats_cfg *c = &L->cfg;
    /* rate = exits / exposure (exposure includes censored time) */
    for (int st = 0; st < 2; ++st) {
        int64_t ex = s->i[L->i_sw_exits + st];
        double T = s->d[L->d_sw_expo + st];
        s->rate_hz[st] = T > 0 ? (double)ex / T : NAN;
        mg_rate_ci95(ex, T, &s->rate_ci_low[st], &s->rate_ci_high[st]);
        double nd = (double)s->i[L->i_sw_done + st];
        double d1 = s->d[L->d_sw_d1 + st], d2 = s->d[L->d_sw_d2 + st];
        s->mean_dwell_s[st] = nd > 0 ? d1 / nd : NAN;
        double v = nd > 1 ? (d2 - d1 * d1 / nd) / (nd - 1.0) : NAN;
        s->cv_dwell[st] = nd > 1 ? sqrt(v > 0 ? v : 0.0) / s->mean_dwell_s[st] : NAN;
    }
    for (int k = 0; k <= c->dwell_bins; ++k)
        s->dwell_edges_s[k] =
            c->dwell_min_s * pow(c->dwell_max_s / c->dwell_min_s, (double)k / c->dwell_bins);
    for (int k = 0; k <= c->hist_bins; ++k)
        s->hist_A_edges[k] = c->hist_max_hz * k / c->hist_bins;
    for (int k = 0; k <= c->obs_bins; ++k)
        s->hist_obs_edges[k] = -c->obs_max_hz + 2.0 * c->obs_max_hz * k / c->obs_bins;
}

/* isi_mean_s, isi_cv (moments of the exact intervals, not of bin centres) and isi_edges_s. */
static void finalize_isi(mg_stats *s)
{
    const mg_stats_layout *L = &s->L;
    const mg_stats_cfg *c = &L->cfg;
    for (int a = 0; a < L->P; ++a) {
        double ni = (double)s->i[L->i_isi_n + a];
        double m1 = ni > 0 ? s->d[L->d_isi_s1 + a] / ni : NAN;
        double var = ni > 1 ? (s->d[L->d_isi_s2 + a] - ni * m1 * m1) / (ni - 1.0) : NAN;
        s->isi_mean_s[a] = m1;
        s->isi_cv[a] = ni > 1 ? sqrt(var > 0 ? var : 0.0) / m1 : NAN;
    }
    for (int k = 0; k <= c->isi_bins; ++k)
        s->isi_edges_s[k] = c->isi_max_s * k / c->isi_bins;
}

int mg_stats_finalize(mg_stats *s, mg_err *err)
{
    free_derived(s);
    if (alloc_derived(s) != 0) {
        free_derived(s);
        return mg_err_set(err, MG_ENOMEM, "out of memory for statistics");
    }
    finalize_moments(s);
    finalize_spectra(s);
    finalize_switching(s);
    finalize_isi(s);
    return time_finalize(s, err);
}

void mg_stats_free(mg_stats *s)
{
    if (!s)
        return;
    free(s->i);
    free(s->d);
    free_derived(s);
    memset(s, 0, sizeof *s);
}

/* ---- spectra on the host: FFTW (FFTW 3, M. Frigo and S. G. Johnson, Proc. IEEE 93(2) 2005) -- */

struct mg_psd_plan {
    int64_t n;
    double *in;
    fftw_complex *out;
    fftw_plan plan;
};

mg_psd_plan *mg_psd_plan_alloc(int64_t n)
{
    mg_psd_plan *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->n = n;
    p->in = fftw_alloc_real((size_t)n);
    p->out = fftw_alloc_complex((size_t)(n / 2 + 1));
    if (!p->in || !p->out) {
        mg_psd_plan_free(p);
        return NULL;
    }
    /* planning is not thread-safe in FFTW; execution on a plan of one's own is */
#pragma omp critical(mg_fftw_plan)
    p->plan = fftw_plan_dft_r2c_1d((int)n, p->in, p->out, FFTW_ESTIMATE);
    if (!p->plan) {
        mg_psd_plan_free(p);
        return NULL;
    }
    return p;
}

void mg_psd_plan_free(mg_psd_plan *p)
{
    if (!p)
        return;
    if (p->plan) {
#pragma omp critical(mg_fftw_plan)
        fftw_destroy_plan(p->plan);
    }
    fftw_free(p->in);
    fftw_free(p->out);
    free(p);
}

void mg_psd_transform(mg_psd_plan *p, const double *x, double *re, double *im)
{
    memcpy(p->in, x, (size_t)p->n * sizeof(double));
    fftw_execute(p->plan);
    for (int64_t k = 1; k <= p->n / 2; ++k) {
        re[k - 1] = p->out[k][0];
        im[k - 1] = p->out[k][1];
    }
}

void mg_psd_transform_complex(mg_psd_plan *p, const double *x, double *X)
{
    memcpy(p->in, x, (size_t)p->n * sizeof(double));
    fftw_execute(p->plan);
    memcpy(X, p->out, (size_t)(p->n / 2 + 1) * sizeof(fftw_complex));
}
