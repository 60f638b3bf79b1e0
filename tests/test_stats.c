/* tests/test_stats.c: the streaming statistics (include/mesogif/stats.h, src/stats/stats.c) as the
 * backends compute them: synthetic counts go through the real observer (src/core/observe.h:
 * mg_obs_step, mg_obs_add_spectrum, mg_obs_record, laid out by mg_obs_setup) and the CPU
 * backend's FFTW path (mg_cpu_psd_segment), then through mg_stats_add / mg_stats_finalize.
 *
 * TCases and their false-failure rates (all seeds fixed, so each run is deterministic; the
 * rates are over the choice of seed):
 *   rate_ci   mg_rate_ci95 against chi-square quantiles computed independently
 *             (scipy.stats.chi2.ppf) for n = 0 .. 10^7 events. Deterministic, rate 0.
 *   psd       white noise (sample bins of 1 and 4 steps) and AR(1) series (red, phi = 0.9;
 *             blue, phi = -0.7 with bins of 2 steps) against the exact expectation of the
 *             MODEL.md §4.3 periodogram; tolerances from the chi-square(2) law of periodogram
 *             ordinates. About 1e-5 per run (each check's rate is stated at the check).
 *   switching the hysteresis analysis against an independent reference implementation on
 *             random observables (exact, rate 0); a two-state Markov (telegraph) chain with known
 *             rates: coverage of the exact 95 % limits in 1000 replicates, within 93-97 % for
 *             each state (rate about 0.9 %, see the test), mean dwell, CV and the dwell
 *             histogram against their exact expectations (about 1e-5).
 *   merge     merge(stats(X), stats(Y)) = stats(X u Y): synthetic records and mg_run ranges
 *             not aligned to the reduction groups (meso and micro): integers bitwise, floats
 *             to 1e-12 relative. Deterministic, rate 0.
 *   io        mg_h5_read_stats returns the sums of mg_h5_write_result bitwise, and refuses
 *             files that are not results. Deterministic, rate 0. */
#include "testutil.h"

#include <gsl/gsl_cdf.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "engine/job.h"      /* mg_obs_setup, mg_job, mg_cpu_psd_* */
#include "core/fmath.h"    /* mg_log: the dwell-histogram bin as the observer computes it */
#include "mesogif/io.h"    /* mg_h5_write_result, mg_h5_read_stats */
#include "mesogif/model.h"
#include "mesogif/run.h"
#include "mesogif/stats.h"

/* ---- a harness around the observer: MG_VL lanes fed with synthetic counts -------------- */

typedef struct {
    mg_stats_layout L;
    mg_obs_cfg oc;
    mg_job job;        /* only job.oc and job.SL are used (by mg_cpu_psd_segment) */
    mg_cpu_psd *psd;   /* NULL without spectra */
    double *state;     /* [oc.rows][MG_VL] */
    mg_lanes st;
    int64_t *ri;       /* one lane's record */
    double *rd;
} harness;

/* Observer for configuration c (c->bin_ms = st_L dt, c->psd_bin_ms = psd_L dt), P = c->P
 * populations of N[p] neurons, n_steps steps of dt_ms, warm-up warm_ms. */
static void harness_init(harness *h, const mg_stats_cfg *c, const double *N, double dt_ms,
                         int64_t n_steps, int64_t st_L, int64_t psd_L, double warm_ms)
{
    mg_err err = {{0}};
    memset(h, 0, sizeof *h);
    ck_assert_int_eq(mg_stats_cfg_check(c, &err), MG_OK);
    mg_stats_layout_init(&h->L, c);
    int rc = mg_obs_setup(&h->oc, &h->L, N, dt_ms, n_steps, 1, st_L, psd_L, warm_ms, 0, &err);
    ck_assert_msg(rc == MG_OK, "mg_obs_setup: %s", err.msg);
    h->job.oc = h->oc;
    h->job.SL = h->L;
    if (c->psd_n > 0) {
        h->psd = mg_cpu_psd_alloc(&h->job);
        ck_assert_ptr_nonnull(h->psd);
    }
    h->state = malloc((size_t)h->oc.rows * MG_VL * sizeof(double));
    h->ri = malloc((size_t)h->L.n_i * sizeof(int64_t));
    h->rd = malloc((size_t)h->L.n_d * sizeof(double));
    ck_assert(h->state && h->ri && h->rd);
    h->st.base = h->state;
    h->st.ld = MG_VL;
}

static void harness_free(harness *h)
{
    mg_cpu_psd_free(h->psd);
    free(h->state);
    free(h->ri);
    free(h->rd);
}

static void harness_reset(harness *h)
{
    mg_obs_init(&h->oc, h->st);
}

/* Step t with counts n[P][MG_VL]; a completed segment is transformed as the CPU backend does. */
static void harness_step(harness *h, int64_t t, const double *n)
{
    if (mg_obs_step(&h->oc, h->st, t, n, NULL, NULL, NULL, NULL))
        mg_cpu_psd_segment(&h->job, h->st, MG_VL, h->psd);
}

/* Add the records of lanes [0, lanes) to s, in lane order (as a reduction group does). */
static void harness_record(harness *h, mg_stats *s, int lanes)
{
    for (int j = 0; j < lanes; ++j) {
        mg_obs_record(&h->oc, h->st, j, h->ri, h->rd);
        for (int64_t k = 0; k < h->L.n_i; ++k)
            s->i[k] += h->ri[k];
        for (int64_t k = 0; k < h->L.n_d; ++k)
            s->d[k] += h->rd[k];
    }
}

/* Statistics configuration for synthetic data: defaults, then the given bins. */
static mg_stats_cfg cfg_for(int P, double bin_ms, double dt_ms, int64_t psd_n, double psd_bin_ms)
{
    mg_stats_cfg c;
    mg_stats_cfg_default(&c, P, bin_ms, dt_ms);
    c.psd_n = psd_n;
    c.psd_bin_ms = psd_bin_ms;
    return c;
}

/* ---- rate_ci: exact Poisson limits ------------------------------------------------------ */

/* Reference quantiles: scipy.stats.chi2.ppf(0.025, 2n) / 2 and chi2.ppf(0.975, 2n + 2) / 2
 * (SciPy 1.10.1, Cephes' igami), printed with 12 significant digits: the Garwood (1936) limits
 * (n = 0: [0, 3.689], 1: [0.0253, 5.572], 10: [4.795, 18.39]). n = 1159 and 4713 are values
 * where GSL's gsl_cdf_chisq_Pinv (GSL 2.7) fails to converge and its default error handler
 * aborts the process; it fails for most n above 10^4. */
static const struct {
    int64_t n;
    double lo, hi;
} garwood[] = {
    {0, 0.0, 3.68887945411},
    {1, 0.0253178079843, 5.57164339094},
    {2, 0.242209278544, 7.22468766772},
    {5, 1.62348639012, 11.6683320793},
    {10, 4.79538869613, 18.390356042},
    {100, 81.3639912509, 121.626793792},
    {1000, 938.973018408, 1063.95213602},
    {1159, 1093.226956, 1227.69601403},
    {4713, 4579.39558191, 4849.51296936},
    {100000, 99381.1526637, 100621.74474},
    {10000000, 9993802.99688, 10006199.8977},
};

START_TEST(rate_ci_matches_chi_square_quantiles)
{
    const double T[] = {1.0, 2.5e3};
    for (size_t t = 0; t < 2; ++t) {
        for (size_t k = 0; k < sizeof garwood / sizeof garwood[0]; ++k) {
            double lo, hi;
            mg_rate_ci95(garwood[k].n, T[t], &lo, &hi);
            double elo = garwood[k].lo / T[t], ehi = garwood[k].hi / T[t];
            ck_assert_msg(fabs(lo - elo) <= 1e-9 * elo && fabs(hi - ehi) <= 1e-9 * ehi,
                          "n = %lld, T = %g: [%.12g, %.12g], expected [%.12g, %.12g]",
                          (long long)garwood[k].n, T[t], lo, hi, elo, ehi);
        }
    }
    double lo, hi;
    mg_rate_ci95(3, 0.0, &lo, &hi);
    ck_assert_msg(isnan(lo) && isnan(hi), "no exposure gives NaN limits, not [%g, %g]", lo, hi);
}
END_TEST

/* ---- psd: the periodogram through the observer ------------------------------------------ */

/* Expected periodogram E I_k = bin sum_{|h|<n} (1 - |h|/n) g(h) cos(2 pi k h / n), k = 1..n/2,
 * of a stationary series with autocovariance g(h) (Hz^2) sampled at bin_s: the exact mean of
 * the MODEL.md §4.3 estimator on rectangular segments of n samples (the Fejer-smoothed
 * spectrum, leakage included). */
static void expected_periodogram(const double *g, int64_t n, double bin_s, double *E)
{
    for (int64_t k = 1; k <= n / 2; ++k) {
        double acc = g[0];
        for (int64_t h = 1; h < n; ++h)
            acc += 2.0 * (1.0 - (double)h / (double)n) * g[h] *
                   cos(2.0 * M_PI * (double)(k * h % n) / (double)n);
        E[k - 1] = bin_s * acc;
    }
}

/* Autocovariance of the bin means (L steps per bin) of an AR(1) series x_t = phi x_{t-1} + e_t,
 * Var e = s2: gamma(m) = s2 phi^|m| / (1 - phi^2), averaged over the L x L pairs of steps. */
static void ar1_bin_autocov(double phi, double s2, int L, int64_t n, double *g)
{
    for (int64_t h = 0; h < n; ++h) {
        double acc = 0;
        for (int i = 0; i < L; ++i)
            for (int j = 0; j < L; ++j)
                acc += pow(fabs(phi), (double)llabs(h * L + i - j)) *
                       (phi < 0 && llabs(h * L + i - j) % 2 ? -1.0 : 1.0);
        g[h] = s2 / (1.0 - phi * phi) * acc / (double)(L * L);
    }
}

/* Feed R = blocks * MG_VL realizations of A_t = mu + x_t through the observer (P = 1, N = 1,
 * dt = 1 ms), x an AR(1) series (phi = 0: white), sample bins of psd_L steps, segments of
 * psd_n samples, segs segments per realization after a 12 ms warm-up. Returns the finalized
 * statistics in *s. */
static void psd_run(double mu, double phi, double sigma_e, int psd_L, int64_t psd_n, int segs,
                    int blocks, uint64_t seed, mg_stats *s)
{
    const double dt_ms = 1.0, N = 1.0, warm_ms = 12.0;
    const int64_t b0 = (int64_t)ceil(warm_ms / (dt_ms * psd_L));
    const int64_t n_steps = (b0 + (int64_t)segs * psd_n) * psd_L + 5; /* 5 steps left over */
    mg_stats_cfg c = cfg_for(1, dt_ms, dt_ms, psd_n, psd_L * dt_ms);
    harness h;
    harness_init(&h, &c, &N, dt_ms, n_steps, 1, psd_L, warm_ms);
    mg_err err = {{0}};
    ck_assert_int_eq(mg_stats_alloc(s, &h.L, &err), MG_OK);
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(rng, seed);
    const double dt_s = dt_ms * 1e-3;
    double x[MG_VL], n[MG_VL];
    for (int b = 0; b < blocks; ++b) {
        harness_reset(&h);
        for (int j = 0; j < MG_VL; ++j) /* start in the stationary state */
            x[j] = gsl_ran_gaussian(rng, sigma_e / sqrt(1.0 - phi * phi));
        for (int64_t t = 0; t < n_steps; ++t) {
            for (int j = 0; j < MG_VL; ++j) {
                if (t > 0)
                    x[j] = phi * x[j] + gsl_ran_gaussian(rng, sigma_e);
                n[j] = (mu + x[j]) * N * dt_s; /* real-valued count: A = n / (N dt) */
            }
            harness_step(&h, t, n);
        }
        harness_record(&h, s, MG_VL);
    }
    gsl_rng_free(rng);
    ck_assert_int_eq(mg_stats_finalize(s, &err), MG_OK);
    ck_assert_int_eq(s->i[s->L.i_psd_seg], (int64_t)blocks * MG_VL * segs);
    ck_assert_int_eq(s->i[s->L.i_psd_nreal], (int64_t)blocks * MG_VL);
    harness_free(&h);
}

/* White noise of variance sigma^2 per step has the two-sided density S = sigma^2 dt at every
 * frequency and for every sample bin (a bin of L steps averages L steps: variance / L, sampled
 * at L dt). Averaged over M segments, 2 M S_k / S ~ chi2(2M) exactly (Gaussian data) for
 * k < n/2, and M S_k / S ~ chi2(M) at Nyquist; ordinates are independent. Checks:
 *  (1) the sum of all these statistics, chi2 with 2M(F-1) + M dof, two-sided p >= 1e-6;
 *  (2) every ordinate, two-sided p >= 1e-6 / F (Bonferroni);
 *  (3) psd_sem^2 (across-realization spread) averaged over the F - 1 ordinates below Nyquist
 *      against S^2 / M: relative error of that mean is sqrt(2 / ((R-1)(F-1))) (the realization
 *      means are Gamma-distributed with excess kurtosis 3/M_r, negligible); |z| < 5.
 * False-failure rate: 2e-6 + 2e-6 + 6e-7 per configuration. */
static void check_white(int psd_L, int64_t psd_n, uint64_t seed)
{
    const double sigma = 40.0, mu = 100.0, dt_s = 1e-3;
    const int segs = 64, blocks = 4;
    mg_stats s;
    psd_run(mu, 0.0, sigma, psd_L, psd_n, segs, blocks, seed, &s);
    const double S = sigma * sigma * dt_s;
    const int64_t F = s.L.F;
    const double M = (double)s.i[s.L.i_psd_seg], R = (double)blocks * MG_VL;
    double chi = 0, dof = 0, pmin = 1, sem2 = 0;
    int64_t kmin = 0;
    for (int64_t k = 0; k < F; ++k) {
        int nyq = k == F - 1;
        double nu = nyq ? M : 2 * M, q = nu * s.psd[k] / S;
        chi += q;
        dof += nu;
        double p = 2 * fmin(gsl_cdf_chisq_P(q, nu), gsl_cdf_chisq_Q(q, nu));
        if (p < pmin) {
            pmin = p;
            kmin = k;
        }
        ck_assert_msg(fabs(s.freq[k] - (double)(k + 1) * 1000.0 / (double)(psd_n * psd_L)) <
                          1e-9, "freq[%lld] = %g", (long long)k, s.freq[k]);
        if (!nyq)
            sem2 += s.psd_sem[k] * s.psd_sem[k];
    }
    double p_all = 2 * fmin(gsl_cdf_chisq_P(chi, dof), gsl_cdf_chisq_Q(chi, dof));
    ck_assert_msg(p_all >= 1e-6, "white noise (bin %d steps): sum of ordinates / S = %.5f "
                  "(expected 1), chi2 = %.1f on %.0f dof, p = %.2g", psd_L, chi / dof, chi, dof,
                  p_all);
    ck_assert_msg(pmin * (double)F >= 1e-6, "white noise (bin %d steps): ordinate %lld (%g Hz) "
                  "= %g, expected %g, p = %.2g", psd_L, (long long)kmin, s.freq[kmin],
                  s.psd[kmin], S, pmin);
    double ratio = sem2 / (double)(F - 1) / (S * S / M);
    double z = (ratio - 1.0) / sqrt(2.0 / ((R - 1.0) * (double)(F - 1)));
    printf("white noise, bins of %d steps: mean S / (sigma^2 dt) = %.5f (chi2 p = %.3f), "
           "smallest ordinate p x F = %.3f, psd_sem^2 / (S^2/M) = %.4f (z = %+.2f)\n", psd_L,
           chi / dof, p_all, pmin * (double)F, ratio, z);
    ck_assert_msg(fabs(z) < 5, "white noise (bin %d steps): psd_sem^2 / (S^2/M) = %.4f, z = %.2f",
                  psd_L, ratio, z);
    mg_stats_free(&s);
}

START_TEST(psd_of_white_noise_is_flat_at_sigma2_dt)
{
    check_white(1, 256, 11);
    check_white(4, 64, 12);
}
END_TEST

/* AR(1) against the exact expectation of the estimator (expected_periodogram with
 * ar1_bin_autocov; for bins of one step it differs from the asymptotic closed form
 * dt s2 / |1 - phi e^{-2 pi i f dt}|^2 only by the leakage of the rectangular window, which the
 * test also measures). Band averages over 8 ordinates: the ordinates are close to independent
 * exponentials (Gaussian data, smooth spectrum), so a band mean over M segments has standard
 * deviation sqrt(sum_k E_k^2 w_k) / (8 sqrt M), w = 1 below Nyquist and 2 at it. |z| < 5 in
 * every band: false-failure rate 5.7e-7 per band, 2e-5 per configuration. */
static void check_ar1(double phi, int psd_L, int64_t psd_n, uint64_t seed, double *leak)
{
    const double sigma_e = 20.0, mu = 50.0, dt_s = 1e-3;
    mg_stats s;
    psd_run(mu, phi, sigma_e, psd_L, psd_n, 64, 4, seed, &s);
    const int64_t F = s.L.F;
    double *g = malloc((size_t)psd_n * sizeof *g), *E = malloc((size_t)F * sizeof *E);
    ar1_bin_autocov(phi, sigma_e * sigma_e, psd_L, psd_n, g);
    expected_periodogram(g, psd_n, psd_L * dt_s, E);
    const double M = (double)s.i[s.L.i_psd_seg];
    const int B = 8;
    double zmax = 0;
    for (int64_t b0 = 0; b0 < F; b0 += B) {
        double sim = 0, ex = 0, v = 0;
        for (int64_t k = b0; k < b0 + B; ++k) {
            sim += s.psd[k];
            ex += E[k];
            v += E[k] * E[k] * (k == F - 1 ? 2.0 : 1.0);
        }
        double z = (sim - ex) / sqrt(v / M);
        zmax = fmax(zmax, fabs(z));
        ck_assert_msg(fabs(z) < 5, "AR(1) phi = %g (bin %d steps), %g-%g Hz: %g vs expected %g "
                      "(z = %.2f)", phi, psd_L, s.freq[b0], s.freq[b0 + B - 1], sim / B, ex / B,
                      z);
    }
    printf("AR(1) phi = %g, bins of %d steps: largest band |z| = %.2f over %lld bands\n", phi,
           psd_L, zmax, (long long)(F / B));
    *leak = 0;
    if (psd_L == 1)
        for (int64_t k = 0; k < F; ++k) {
            double c = 2 * M_PI * s.freq[k] * dt_s;
            double S = dt_s * sigma_e * sigma_e / (1 - 2 * phi * cos(c) + phi * phi);
            *leak = fmax(*leak, fabs(E[k] / S - 1));
        }
    free(g);
    free(E);
    mg_stats_free(&s);
}

START_TEST(psd_of_ar1_matches_its_closed_form)
{
    double leak1, leak2;
    check_ar1(0.9, 1, 512, 21, &leak1);
    check_ar1(-0.7, 2, 256, 22, &leak2);
    /* the leakage correction is what makes the comparison exact; it is small but not nothing
     * (measured 1.6 % at the lowest frequency for phi = 0.9, n = 512) */
    printf("AR(1) phi = 0.9: window leakage, max |E I_k / S(f_k) - 1| = %.4f\n", leak1);
    ck_assert_msg(leak1 > 1e-3 && leak1 < 0.05, "leakage of the red AR(1): %g", leak1);
}
END_TEST

/* ---- switching ------------------------------------------------------------------------- */

/* Independent reference of the switching analysis (the recipe of MODEL.md §3(a) with the dwell
 * conventions of src/core/observe.h): D[b] for bins b = 0..nb-1 of one realization; the
 * moving average over the last W bins is defined from bin W-1 on and used from bin b0 on. */
typedef struct {
    int64_t exits[2], done[2], cens[2], hist[2][128], hist_obs[512];
    double expo[2], d1[2], d2[2];
} sw_ref;

static void sw_reference(const double *D, int64_t nb, const mg_stats_cfg *c, int64_t b0,
                         sw_ref *r)
{
    const double bin_s = c->bin_ms * 1e-3;
    int s = -1, left = 0;
    int64_t entry = 0;
    for (int64_t b = b0 > c->sw_window - 1 ? b0 : c->sw_window - 1; b < nb; ++b) {
        double sum = 0;
        /* the observer sums its ring in slot order (slot = bin mod W): same order here */
        for (int w = 0; w < c->sw_window; ++w) {
            int64_t bb = b - ((b - w) % c->sw_window + c->sw_window) % c->sw_window;
            sum += D[bb];
        }
        double x = sum / c->sw_window;
        int slot = x < -c->obs_max_hz ? 0
                   : x >= c->obs_max_hz
                       ? c->obs_bins + 1
                       : 1 + (int)((x + c->obs_max_hz) / (2 * c->obs_max_hz) * c->obs_bins);
        r->hist_obs[slot > c->obs_bins ? c->obs_bins + 1 : slot]++;
        int sn = x > c->sw_hi ? 1 : x < c->sw_lo ? 0 : s;
        if (s < 0 && sn >= 0) {
            left = 1;
            entry = b;
        } else if (s >= 0 && sn != s) {
            r->exits[s]++;
            if (left) {
                r->cens[s]++;
            } else {
                double d = (double)(b - entry) * bin_s;
                r->done[s]++;
                r->d1[s] += d;
                r->d2[s] += d * d;
                int hb = 1 + (int)floor(log(d / c->dwell_min_s) /
                                        log(c->dwell_max_s / c->dwell_min_s) * c->dwell_bins);
                r->hist[s][hb < 0 ? 0 : hb > c->dwell_bins + 1 ? c->dwell_bins + 1 : hb]++;
            }
            left = 0;
            entry = b;
        }
        s = sn;
        if (s >= 0)
            r->expo[s] += bin_s;
    }
    if (s >= 0)
        r->cens[s]++;
}

/* Random observables (an AR(1) of amplitude ~10 Hz around the thresholds, three populations,
 * D = 0.5 A1 - A3 + A2 ... any linear combination) through the observer and the reference:
 * every switching count and histogram equal, float sums to 1e-12. Bins of 7 ms, so that no
 * dwell time falls on a log-bin edge (where the two logarithms could round differently);
 * 50 ms window (7 bins), asymmetric thresholds, warm-up of 10 bins. Deterministic. */
START_TEST(switching_matches_reference_implementation)
{
    const int P = 3;
    const double dt_ms = 7.0, N[3] = {100, 200, 50}, warm_ms = 70.0;
    const int64_t nb = 4000;
    mg_stats_cfg c = cfg_for(P, dt_ms, dt_ms, 0, dt_ms);
    mg_err err = {{0}};
    ck_assert_int_eq(mg_stats_parse_observable(&c, "0.5*A1 + A2 - 1.5 * A3", &err), MG_OK);
    c.sw_window = 7;
    c.sw_lo = -3.0;
    c.sw_hi = 6.0;
    c.obs_bins = 50;
    c.obs_max_hz = 20.0;
    harness h;
    harness_init(&h, &c, N, dt_ms, nb, 1, 1, warm_ms);
    ck_assert_int_eq(h.oc.st_b0, 10);
    double *D = malloc((size_t)(MG_VL * nb) * sizeof *D);
    double n[3 * MG_VL], x[MG_VL] = {0};
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(rng, 5);
    harness_reset(&h);
    for (int64_t t = 0; t < nb; ++t) {
        for (int j = 0; j < MG_VL; ++j) {
            x[j] = 0.97 * x[j] + gsl_ran_gaussian(rng, 4.0);
            double A[3] = {20 + x[j] + gsl_ran_gaussian(rng, 3), 10 + gsl_ran_gaussian(rng, 2),
                           15 - 0.3 * x[j]};
            double d = 0;
            for (int a = 0; a < P; ++a) {
                n[a * MG_VL + j] = A[a] * N[a] * dt_ms * 1e-3;
                d += c.sw_coef[a] * (n[a * MG_VL + j] * h.oc.st_scale[a]); /* A as observed */
            }
            D[j * nb + t] = d;
        }
        harness_step(&h, t, n);
    }
    int64_t flips = 0;
    for (int j = 0; j < MG_VL; ++j) {
        sw_ref r;
        memset(&r, 0, sizeof r);
        sw_reference(D + j * nb, nb, &c, h.oc.st_b0, &r);
        mg_obs_record(&h.oc, h.st, j, h.ri, h.rd);
        const mg_stats_layout *L = &h.L;
        for (int s = 0; s < 2; ++s) {
            ck_assert_int_eq(h.ri[L->i_sw_exits + s], r.exits[s]);
            ck_assert_int_eq(h.ri[L->i_sw_done + s], r.done[s]);
            ck_assert_int_eq(h.ri[L->i_sw_cens + s], r.cens[s]);
            ck_assert_double_eq_tol(h.rd[L->d_sw_expo + s], r.expo[s], 1e-12 * nb);
            ck_assert_double_eq_tol(h.rd[L->d_sw_d1 + s], r.d1[s], 1e-12 * (1 + r.d1[s]));
            ck_assert_double_eq_tol(h.rd[L->d_sw_d2 + s], r.d2[s], 1e-12 * (1 + r.d2[s]));
            for (int k = 0; k < c.dwell_bins + 2; ++k)
                ck_assert_msg(h.ri[L->i_sw_hist + s * (c.dwell_bins + 2) + k] == r.hist[s][k],
                              "lane %d, state %d, dwell bin %d", j, s, k);
            flips += r.exits[s];
        }
        for (int k = 0; k < c.obs_bins + 2; ++k)
            ck_assert_msg(h.ri[L->i_hist_obs + k] == r.hist_obs[k], "lane %d, obs bin %d", j, k);
    }
    ck_assert_msg(flips > 20 * MG_VL, "the random observable switched only %lld times",
                  (long long)flips);
    gsl_rng_free(rng);
    free(D);
    harness_free(&h);
}
END_TEST

/* Dwell-histogram slot of a dwell of d seconds, computed as src/core/observe.h does. */
static int dwell_slot(const mg_stats_cfg *c, double d)
{
    int hb = 1 + (int)floor(mg_log(d / c->dwell_min_s) / mg_log(c->dwell_max_s / c->dwell_min_s) *
                            c->dwell_bins);
    return hb < 0 ? 0 : (hb > c->dwell_bins + 1 ? c->dwell_bins + 1 : hb);
}

/* Telegraph process: a two-state Markov chain on bins of 10 ms that leaves state s with
 * probability p_s per bin (p_0 = 0.005, p_1 = 0.01), seen as A1 - A2 = -10 Hz (state 0) or
 * +10 Hz (state 1) with thresholds -5 / +5 Hz and a window of one bin, so the analysed state is
 * the chain's state. Its exit rate per unit time in state s is k_s = p_s / bin (0.5 and 1 Hz;
 * exits / exposure is the maximum-likelihood estimate of exactly this; a continuous-time chain
 * with rate k sampled in bins would differ by O(k bin) = 0.5 %). 1000 replicates (realizations)
 * of 600 s each start in the stationary distribution; about 200 exits per state each.
 *
 * Coverage: the fraction of replicates whose exact 95 % limits contain k_s must lie in
 * [93 %, 97 %] for each state. The exact (Garwood) limits are conservative: the Poisson coverage
 * averaged over the spread of counts (200 +- 15 %) is 95.40 %, so the count of covering
 * replicates is Binomial(1000, 0.954), outside [930, 970] with probability 0.44 % per state:
 * false-failure rate 0.9 % for the two states (the 93-97 % band).
 * Pooled over all replicates: the rate estimate against k_s with its Poisson error, |z| < 5
 * (6e-7 per state). Mean and second moment of the complete dwells against their exact
 * expectations in this design (telegraph_expect: only dwells that begin and end inside the
 * observation are complete, which favours short ones by O(mean / run) = 0.3 %): |z| < 5 each
 * (6e-7 each). Dwell histogram against the same expectation: chi-square over groups of bins
 * with >= 5 expected dwells, p >= 1e-6.
 * Exact bookkeeping: exposure = observed time, exits = complete + left-censored dwells. */
typedef struct {
    double n, m1, m2;         /* expected complete dwells, E[d], E[d^2] (bins) */
} dwell_moments;

/* Complete dwells of length d bins in state s over T bins of a stationary chain: a dwell that
 * begins with a flip at bin u >= 1 and ends with a flip at u + d <= T - 1; expected number
 * (T - 1 - d) q g(d), q = rate of flips into s (pi_o p_o), g(d) = p (1-p)^(d-1) geometric. */
static void telegraph_expect(double p, double q, int64_t T, dwell_moments *m, double *w)
{
    m->n = m->m1 = m->m2 = 0;
    for (int64_t d = 1; d <= T - 2; ++d) {
        double e = (double)(T - 1 - d) * q * p * pow(1 - p, (double)(d - 1));
        if (w)
            w[d] = e;
        m->n += e;
        m->m1 += e * (double)d;
        m->m2 += e * (double)d * (double)d;
    }
    m->m1 /= m->n;
    m->m2 /= m->n;
}

START_TEST(telegraph_rates_dwells_and_coverage)
{
    const double dt_ms = 10.0, bin_s = 0.01, N[2] = {1, 1}, p[2] = {0.005, 0.01};
    const int64_t T = 60000;
    const int reps = 1000, blocks = (reps + MG_VL - 1) / MG_VL;
    mg_stats_cfg c = cfg_for(2, dt_ms, dt_ms, 0, dt_ms);
    c.sw_window = 1;
    harness h;
    harness_init(&h, &c, N, dt_ms, T, 1, 1, 0.0);
    mg_err err = {{0}};
    mg_stats pooled;
    ck_assert_int_eq(mg_stats_alloc(&pooled, &h.L, &err), MG_OK);
    const mg_stats_layout *L = &h.L;
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(rng, 2017);
    const double pi1 = p[0] / (p[0] + p[1]);
    int covered[2] = {0, 0};
    int64_t flipped = 0;
    double n[2 * MG_VL];
    int s[MG_VL];
    for (int b = 0; b < blocks; ++b) {
        harness_reset(&h);
        for (int j = 0; j < MG_VL; ++j)
            s[j] = gsl_rng_uniform(rng) < pi1;
        for (int64_t t = 0; t < T; ++t) {
            for (int j = 0; j < MG_VL; ++j) {
                if (t > 0 && gsl_rng_uniform(rng) < p[s[j]])
                    s[j] = 1 - s[j];
                double A1 = s[j] ? 25.0 : 15.0, A2 = 40.0 - A1; /* A1 - A2 = +-10 Hz */
                n[j] = A1 * N[0] * dt_ms * 1e-3;
                n[MG_VL + j] = A2 * N[1] * dt_ms * 1e-3;
            }
            harness_step(&h, t, n);
        }
        int lanes = b * MG_VL + MG_VL <= reps ? MG_VL : reps - b * MG_VL;
        for (int j = 0; j < lanes; ++j) {
            mg_obs_record(&h.oc, h.st, j, h.ri, h.rd);
            for (int st = 0; st < 2; ++st) {
                double lo, hi, k = p[st] / bin_s;
                mg_rate_ci95(h.ri[L->i_sw_exits + st], h.rd[L->d_sw_expo + st], &lo, &hi);
                covered[st] += lo <= k && k <= hi;
            }
            int64_t ex = h.ri[L->i_sw_exits] + h.ri[L->i_sw_exits + 1];
            flipped += ex > 0;
            /* bookkeeping: the state is known from bin 0 (window 1), so the exposure is the
             * whole run; every exit ends a complete dwell or the left-censored first one */
            ck_assert_double_eq_tol(h.rd[L->d_sw_expo] + h.rd[L->d_sw_expo + 1], T * bin_s,
                                    1e-9 * T * bin_s);
            ck_assert_int_eq(ex, h.ri[L->i_sw_done] + h.ri[L->i_sw_done + 1] + (ex > 0));
            ck_assert_int_eq(h.ri[L->i_sw_cens] + h.ri[L->i_sw_cens + 1], ex > 0 ? 2 : 1);
            for (int64_t k = 0; k < L->n_i; ++k)
                pooled.i[k] += h.ri[k];
            for (int64_t k = 0; k < L->n_d; ++k)
                pooled.d[k] += h.rd[k];
        }
    }
    gsl_rng_free(rng);
    ck_assert_int_eq(mg_stats_finalize(&pooled, &err), MG_OK);
    for (int st = 0; st < 2; ++st) {
        double k = p[st] / bin_s;
        printf("telegraph state %d: coverage %d/1000; pooled k = %.5f [%.5f, %.5f] Hz (true "
               "%g), %lld exits, %lld complete dwells, mean %.5f s, CV %.4f\n", st, covered[st],
               pooled.rate_hz[st], pooled.rate_ci_low[st], pooled.rate_ci_high[st], k,
               (long long)pooled.i[L->i_sw_exits + st], (long long)pooled.i[L->i_sw_done + st],
               pooled.mean_dwell_s[st], pooled.cv_dwell[st]);
        ck_assert_msg(covered[st] >= 930 && covered[st] <= 970, "state %d: the 95 %% limits "
                      "covered the true rate in %d of 1000 replicates (allowed 930-970)", st,
                      covered[st]);
        double ex = (double)pooled.i[L->i_sw_exits + st];
        double z = (pooled.rate_hz[st] - k) / (k / sqrt(ex));
        ck_assert_msg(fabs(z) < 5, "state %d: pooled rate %g Hz vs %g (z = %.2f)", st,
                      pooled.rate_hz[st], k, z);
        /* complete dwells: exact expectation of their moments in this design */
        const double q = (st == 0 ? pi1 : 1 - pi1) * p[1 - st];
        double *w = calloc((size_t)T, sizeof *w);
        dwell_moments m;
        telegraph_expect(p[st], q, T, &m, w);
        double nd = (double)pooled.i[L->i_sw_done + st];
        double mean_b = pooled.mean_dwell_s[st] / bin_s;
        double var_b = m.m2 - m.m1 * m.m1;
        double zm = (mean_b - m.m1) / sqrt(var_b / nd);
        ck_assert_msg(fabs(zm) < 5, "state %d: mean complete dwell %.4f bins, expected %.4f "
                      "(z = %.2f)", st, mean_b, m.m1, zm);
        /* the second moment via the CV: E d^2 = mean^2 (1 + CV^2 (n-1)/n) */
        double m2 = mean_b * mean_b * (1 + pooled.cv_dwell[st] * pooled.cv_dwell[st] *
                                               (nd - 1) / nd);
        double m4 = 0;
        for (int64_t d = 1; d <= T - 2; ++d)
            m4 += w[d] * pow((double)d, 4);
        m4 /= m.n;
        double z2 = (m2 - m.m2) / sqrt((m4 - m.m2 * m.m2) / nd);
        ck_assert_msg(fabs(z2) < 5, "state %d: E d^2 %.2f bins^2, expected %.2f (z = %.2f)", st,
                      m2, m.m2, z2);
        /* histogram: expected counts in the observer's log bins, scaled to the observed total */
        double expct[128] = {0};
        for (int64_t d = 1; d <= T - 2; ++d)
            expct[dwell_slot(&c, (double)d * bin_s)] += w[d] / m.n * nd;
        /* groups of consecutive bins with >= 5 expected dwells; a short tail joins the last */
        double ge[128], go[128], acc_e = 0, acc_o = 0;
        int ng = 0;
        for (int kb = 0; kb < c.dwell_bins + 2; ++kb) {
            acc_e += expct[kb];
            acc_o += (double)pooled.i[L->i_sw_hist + st * (c.dwell_bins + 2) + kb];
            if (acc_e >= 5) {
                ge[ng] = acc_e;
                go[ng++] = acc_o;
                acc_e = acc_o = 0;
            }
        }
        ck_assert_int_gt(ng, 0);
        ge[ng - 1] += acc_e;
        go[ng - 1] += acc_o;
        double chi = 0;
        for (int g = 0; g < ng; ++g)
            chi += (go[g] - ge[g]) * (go[g] - ge[g]) / ge[g];
        int dof = ng - 1; /* the expectation is scaled to the observed total */
        double pv = gsl_cdf_chisq_Q(chi, dof);
        ck_assert_msg(dof >= 5 && pv >= 1e-6, "state %d: dwell histogram chi2 = %.1f on %d dof, "
                      "p = %.2g", st, chi, dof, pv);
        free(w);
    }
    ck_assert_int_eq(flipped, reps);
    mg_stats_free(&pooled);
    harness_free(&h);
}
END_TEST

/* ---- merge ------------------------------------------------------------------------------ */

/* Derived quantities of two finalized statistics agree to 1e-12 relative (NaN = NaN). */
static void assert_derived_close(const mg_stats *a, const mg_stats *b, const char *what)
{
    const int P = a->L.P;
    const int64_t F = a->L.F;
#define CLOSE(x, y)                                                                          \
    ck_assert_msg((isnan(x) && isnan(y)) || fabs((x) - (y)) <= 1e-12 * fmax(fabs(x), fabs(y)), \
                  "%s: %s: %.17g vs %.17g", what, #x, (x), (y))
    for (int p = 0; p < P; ++p) {
        CLOSE(a->mean_A[p], b->mean_A[p]);
        CLOSE(a->var_A[p], b->var_A[p]);
        /* standard errors come from differences of sums: 1e-9 relative */
        ck_assert(fabs(a->mean_A_sem[p] - b->mean_A_sem[p]) <= 1e-9 * b->mean_A_sem[p]);
        for (int64_t k = 0; k < F; ++k)
            CLOSE(a->psd[p * F + k], b->psd[p * F + k]);
    }
    for (int s = 0; s < 2; ++s) {
        CLOSE(a->rate_hz[s], b->rate_hz[s]);
        CLOSE(a->rate_ci_low[s], b->rate_ci_low[s]);
        CLOSE(a->rate_ci_high[s], b->rate_ci_high[s]);
        CLOSE(a->mean_dwell_s[s], b->mean_dwell_s[s]);
    }
#undef CLOSE
}

/* Synthetic: 3 blocks of lanes with white noise and a telegraph observable, spectra on. The
 * statistics of lanes {0..10} and {11..23} merged equal those of all 24 lanes in order. */
START_TEST(merge_of_synthetic_records_equals_union)
{
    const double dt_ms = 1.0, N[2] = {7, 3};
    const int64_t T = 5000;
    mg_stats_cfg c = cfg_for(2, 5.0, dt_ms, 100, 2.0);
    c.sw_window = 3;
    harness h;
    harness_init(&h, &c, N, dt_ms, T, 5, 2, 100.0);
    mg_err err = {{0}};
    mg_stats all, x, y;
    ck_assert_int_eq(mg_stats_alloc(&all, &h.L, &err), MG_OK);
    ck_assert_int_eq(mg_stats_alloc(&x, &h.L, &err), MG_OK);
    ck_assert_int_eq(mg_stats_alloc(&y, &h.L, &err), MG_OK);
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(rng, 77);
    int s[MG_VL] = {0};
    double n[2 * MG_VL];
    for (int b = 0; b < 3; ++b) {
        harness_reset(&h);
        for (int64_t t = 0; t < T; ++t) {
            for (int j = 0; j < MG_VL; ++j) {
                if (gsl_rng_uniform(rng) < 0.002)
                    s[j] = 1 - s[j];
                n[j] = (double)gsl_ran_poisson(rng, N[0] * 1e-3 * (s[j] ? 40.0 : 10.0));
                n[MG_VL + j] = (double)gsl_ran_poisson(rng, N[1] * 1e-3 * (s[j] ? 10.0 : 40.0));
            }
            harness_step(&h, t, n);
        }
        for (int j = 0; j < MG_VL; ++j) {
            int lane = b * MG_VL + j;
            mg_obs_record(&h.oc, h.st, j, h.ri, h.rd);
            mg_stats *part = lane <= 10 ? &x : &y;
            for (int64_t k = 0; k < h.L.n_i; ++k) {
                all.i[k] += h.ri[k];
                part->i[k] += h.ri[k];
            }
            for (int64_t k = 0; k < h.L.n_d; ++k) {
                all.d[k] += h.rd[k];
                part->d[k] += h.rd[k];
            }
        }
    }
    gsl_rng_free(rng);
    ck_assert_msg(all.i[h.L.i_sw_exits] > 10 && all.i[h.L.i_psd_seg] == 24 * 24,
                  "the synthetic data exercise switching and spectra (%lld exits, %lld segments)",
                  (long long)all.i[h.L.i_sw_exits], (long long)all.i[h.L.i_psd_seg]);
    ck_assert_int_eq(mg_stats_add(&x, &y, &err), MG_OK);
    mg_test_close_stats(&x, &all, "synthetic merge");
    ck_assert_int_eq(mg_stats_finalize(&x, &err), MG_OK);
    ck_assert_int_eq(mg_stats_finalize(&all, &err), MG_OK);
    assert_derived_close(&x, &all, "synthetic merge");
    /* a different configuration is refused, and the destination is left alone */
    mg_stats_cfg c2 = c;
    c2.sw_hi = 6.0;
    mg_stats_layout L2;
    mg_stats_layout_init(&L2, &c2);
    mg_stats other;
    ck_assert_int_eq(mg_stats_alloc(&other, &L2, &err), MG_OK);
    int64_t before = x.i[0];
    ck_assert_int_eq(mg_stats_add(&x, &other, &err), MG_EINVAL);
    ck_assert_int_eq(x.i[0], before);
    mg_stats_free(&other);
    mg_stats_free(&all);
    mg_stats_free(&x);
    mg_stats_free(&y);
    harness_free(&h);
}
END_TEST

static void run_model(const mg_model *m, mg_level level, int64_t first, int64_t count,
                      mg_result *res)
{
    mg_run_opts o = mg_test_opts(MG_BACKEND_CPU, 3000, 500, count, 0);
    o.level = level;
    o.realization_first = first;
    o.seed = 4242;
    o.psd_df_hz = 4.0;
    o.switch_smooth_ms = 30.0;
    mg_err err = {{0}};
    int rc = mg_run(m, &o, res, &err);
    ck_assert_msg(rc == MG_OK, "mg_run (%s): %s", mg_level_name(level), err.msg);
}

/* mg_run on [0, 45) and [45, 77) (45 is inside a reduction group of 32) merged equals [0, 77):
 * the default model B1, meso and micro (smaller: the micro level costs more). */
static void check_run_merge(mg_level level, int64_t cut, int64_t count)
{
    mg_model m;
    mg_err err = {{0}};
    ck_assert_int_eq(mg_model_default(&m, &err), MG_OK);
    mg_result all, x, y;
    run_model(&m, level, 0, count, &all);
    run_model(&m, level, 0, cut, &x);
    run_model(&m, level, cut, count - cut, &y);
    ck_assert_msg(all.stats.i[all.stats.L.i_sw_exits] + all.stats.i[all.stats.L.i_sw_exits + 1] >
                      0, "B1 (%s) switched in %lld realizations of 3 s", mg_level_name(level),
                  (long long)count);
    ck_assert_int_eq(mg_stats_add(&x.stats, &y.stats, &err), MG_OK);
    mg_test_close_stats(&x.stats, &all.stats, mg_level_name(level));
    ck_assert_int_eq(mg_stats_finalize(&x.stats, &err), MG_OK);
    assert_derived_close(&x.stats, &all.stats, mg_level_name(level));
    mg_result_free(&all);
    mg_result_free(&x);
    mg_result_free(&y);
    mg_model_free(&m);
}

/* _i = 0: meso, split at realizations 45 and 77; 1: micro, at 5 and 12. */
START_TEST(merge_of_run_ranges_equals_union)
{
    if (_i == 0)
        check_run_merge(MG_LEVEL_MESO, 45, 77);
    else
        check_run_merge(MG_LEVEL_MICRO, 5, 12);
}
END_TEST

/* ---- io: the statistics survive the file ------------------------------------------------- */

START_TEST(h5_statistics_round_trip_bitwise)
{
    mg_model m;
    mg_err err = {{0}};
    ck_assert_int_eq(mg_model_default(&m, &err), MG_OK);
    mg_result res;
    run_model(&m, MG_LEVEL_MESO, 3, 20, &res);
    char path[] = "/tmp/mg_test_stats_XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    close(fd);
    int rc = mg_h5_write_result(path, &res, &m, "test_stats", 1, &err);
    ck_assert_msg(rc == MG_OK, "write: %s", err.msg);
    mg_stats back;
    rc = mg_h5_read_stats(path, &back, &err);
    ck_assert_msg(rc == MG_OK, "read: %s", err.msg);
    const mg_stats *s = &res.stats;
    ck_assert_msg(memcmp(&back.L, &s->L, sizeof s->L) == 0, "layout (configuration) differs "
                  "after the round trip, so files could not be merged with runs");
    ck_assert(memcmp(back.i, s->i, (size_t)s->L.n_i * sizeof(int64_t)) == 0);
    ck_assert(memcmp(back.d, s->d, (size_t)s->L.n_d * sizeof(double)) == 0);
    assert_derived_close(&back, s, "round trip");
    ck_assert_int_eq(mg_stats_add(&back, s, &err), MG_OK);
    mg_stats_free(&back);
    /* not a result: a text file, a missing file, an HDF5 file without /stats/sums */
    FILE *f = fopen(path, "w");
    fputs("not hdf5\n", f);
    fclose(f);
    rc = mg_h5_read_stats(path, &back, &err);
    ck_assert_int_eq(rc, MG_EIO);
    ck_assert_msg(strstr(err.msg, path) != NULL, "message names the file: %s", err.msg);
    unlink(path);
    ck_assert_int_eq(mg_h5_read_stats(path, &back, &err), MG_EIO);
    mg_result_free(&res);
    mg_model_free(&m);
}
END_TEST

MG_TEST_SUITE(stats,
              MG_TCASE("rate_ci", 0, rate_ci_matches_chi_square_quantiles),
              MG_TCASE("psd", 120, psd_of_white_noise_is_flat_at_sigma2_dt,
                       psd_of_ar1_matches_its_closed_form),
              MG_TCASE("switching", 120, switching_matches_reference_implementation,
                       telegraph_rates_dwells_and_coverage),
              {.name = "merge", .timeout_s = 120,
               .tests = MG_TESTS(merge_of_synthetic_records_equals_union),
               .loops = (const mg_test_loop[]){{merge_of_run_ranges_equals_union, 2}, {NULL, 0}}},
              MG_TCASE("io", 60, h5_statistics_round_trip_bitwise))
