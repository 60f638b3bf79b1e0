/* tests/test_spectrum_theory.c: the power spectrum of the simulated mesoscopic population
 * against theory: data/models/uncoupled.json (MODEL.md §3(d), C set: N = 1000 non-adapting
 * neurons, no coupling) against the exact spectrum of N independent renewal neurons with the
 * model's ISI density (MODEL.md §4.3; mg_theory_renewal_spectrum, docs/THEORY.md §3.4).
 *
 * What is compared. The simulation estimates S with the MODEL.md §4.3 periodogram: A in 1 ms
 * bins, rectangular segments of 1 s (df = 1 Hz), 128 realizations x 20 s after a 1 s warm-up
 * (2560 segments). Its exact expectation under the renewal theory is not S(f) itself but
 *   E I_k = A0/N + bin sum_{|h|<n} (1 - |h|/n) c(h) cos(2 pi k h / n),
 * with c(h) the autocovariance of the binned activity minus its white part: the spectrum of
 * the binned process is A0/N + (S(f) - A0/N) sinc^2(pi f bin) (aliases |m| >= 1 are below
 * 1e-6 of the floor and dropped), and the Bartlett weights are the leakage of the 1 s window
 * (which alone lifts the 1-2 Hz ordinate by 7 % above S). expected_periodogram computes it.
 *
 * Bands: 15 log-spaced bands between 1 Hz and the Nyquist frequency 500 Hz; a band's value is
 * the mean of its ordinates, its standard error sqrt(sum sem_k^2) / n_band from the across-
 * realization spread (psd_sem; periodogram ordinates at distinct Fourier frequencies are close
 * to uncorrelated). A band passes when
 *   |sim - E| <= 4 sem + allowance * E,
 * 4 sem being the estimator's error (false-failure rate 6e-5 per band, 1e-3 for the 15 bands,
 * if the allowance were exhausted; in practice far lower) and the allowance the model's
 * approximation error, measured here and not tuned to pass:
 *
 *   measured (sim / E - 1, +- 1 sem; seed 7, 256 / 128 / 64 realizations of 20 s at
 *   dt = 1 / 0.5 / 0.2 ms; hand-picked bands around the peak):
 *     band (Hz)     dt = 1 ms         dt = 0.5 ms       dt = 0.2 ms
 *     1-2           +10.0 +- 1.6 %    +9.4 +- 2.1 %     +13.8 +- 3.6 %
 *     2-4           +3.8 +- 1.0       +6.1 +- 1.7       +6.3 +- 2.1
 *     7-11          -10.5 +- 0.6      -10.5 +- 0.9      -10.7 +- 1.3
 *     14-17 (peak)  -7.4 +- 0.7       -7.9 +- 1.1       -7.7 +- 1.5
 *     27-35         -1.2 +- 0.5       -2.2 +- 0.7       -2.2 +- 1.0
 *     >= 50         +0.2 .. +1.5      -0.1 .. +1.0      +0.6 .. +1.1
 * The low-frequency deviations do not shrink with dt: they are the mesoscopic approximation
 * itself (the model of Schwalger, Deger & Gerstner, PLoS Comput Biol 13:e1005507, 2017, keeps
 * only the mean and the variance of the survivors of each cohort), as MODEL.md §4.3 reports for
 * the reference implementation (meso 8 % above the micro spectrum at 1-3 Hz, 8 % below at the
 * peak). This test prints its own table (15 log bands); at dt = 1 ms the largest deviation is
 * 10.1 % (8-12 Hz band). The high-frequency excess over A0/N does shrink with dt (+1.4 % at
 * 1 ms, +0.6-1 % at 0.2 ms): time discretisation. Allowance: 12 % below 50 Hz and
 * 2.5 % from 50 Hz on. Anything that changes the normalisation (one-sided vs two-sided, N,
 * bin width, a dropped dt) or the shape (DC leaking in, wrong frequencies) fails.
 *
 * Deterministic (fixed seed); the false-failure rate over seeds is below 1e-3 (see above). */
#include "testutil.h"
#include "psd_bands.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mesogif/model.h"
#include "mesogif/run.h"
#include "mesogif/stats.h"
#include "mesogif/theory.h"

/* E I_k, k = 1..F, for n samples of bin_s: see the file comment. The binned non-white part is
 * integrated on a grid of 0.05 Hz (the cosines of lag h <= n - 1 have periods >= 1 Hz; the
 * spectrum varies on the scale of its 14 Hz peak), trapezoid rule. */
static void expected_periodogram(const mg_renewal *r, double N, double bin_s, int64_t n,
                                 int64_t F, double *E)
{
    const double df = 0.05, fN = 0.5 / bin_s, floor_hz = r->A0_hz / N;
    const int G = (int)llround(fN / df);
    double *f = malloc((size_t)(G + 1) * sizeof *f), *S = malloc((size_t)(G + 1) * sizeof *S);
    double *c = malloc((size_t)n * sizeof *c);
    ck_assert(f && S && c);
    for (int g = 0; g <= G; ++g)
        f[g] = g * df;
    mg_err err = {{0}};
    ck_assert_int_eq(mg_theory_renewal_spectrum(r, N, f, G + 1, S, &err), MG_OK);
    for (int g = 0; g <= G; ++g) {
        double x = M_PI * f[g] * bin_s;
        S[g] = (S[g] - floor_hz) * (g == 0 ? 1.0 : pow(sin(x) / x, 2));
    }
    for (int64_t h = 0; h < n; ++h) {
        double acc = 0;
        for (int g = 0; g <= G; ++g)
            acc += (g == 0 || g == G ? 0.5 : 1.0) * S[g] * cos(2 * M_PI * f[g] * (double)h * bin_s);
        c[h] = 2.0 * acc * df; /* both signs of f */
    }
    for (int64_t k = 1; k <= F; ++k) {
        double acc = c[0];
        for (int64_t h = 1; h < n; ++h)
            acc += 2.0 * (1.0 - (double)h / (double)n) * c[h] *
                   cos(2 * M_PI * (double)(k * h % n) / (double)n);
        E[k - 1] = floor_hz + bin_s * acc;
    }
    free(f);
    free(S);
    free(c);
}

START_TEST(uncoupled_meso_spectrum_matches_renewal_theory)
{
    mg_model m;
    mg_err err = {{0}};
    int rc = mg_model_load("data/models/uncoupled.json", &m, &err);
    ck_assert_msg(rc == MG_OK, "%s (run from the repository root)", err.msg);
    mg_run_opts o = mg_test_opts(MG_BACKEND_CPU, 21000, 1000, 128, 0);
    mg_test_bins(&o, 1.0, 1.0, 1.0); /* dt: the model file's simulation block */
    o.seed = 7;
    o.psd_df_hz = 1.0;
    o.psd_bin_ms = 1.0;
    mg_result res;
    rc = mg_run(&m, &o, &res, &err);
    ck_assert_msg(rc == MG_OK, "mg_run: %s", err.msg);
    const mg_stats *s = &res.stats;
    const int64_t F = s->L.F, n = s->L.cfg.psd_n;
    const double bin_s = s->L.cfg.psd_bin_ms * 1e-3;
    ck_assert_int_eq(n, 1000);
    ck_assert_int_eq(s->i[s->L.i_psd_seg], 128 * 20);

    mg_renewal r;
    rc = mg_theory_stationary_pop(&m.pops[0], mg_pop_mu(&m.pops[0]), &r, &err);
    ck_assert_msg(rc == MG_OK, "theory: %s", err.msg);
    const double N = (double)m.pops[0].N;
    double *E = malloc((size_t)F * sizeof *E);
    expected_periodogram(&r, N, bin_s, n, F, E);

    printf("uncoupled meso vs renewal theory (A0 = %.4f Hz theory, %.4f +- %.4f Hz sim):\n",
           r.A0_hz, s->mean_A[0], s->mean_A_sem[0]);
    double worst;
    const int fails = mg_test_psd_bands(s, E, 0.12, 0.025, &worst);
    ck_assert_msg(fails == 0, "%d bands of the meso spectrum outside theory +- (allowance + 4 "
                  "sem) (see the table above)", fails);
    printf("  largest deviation %.1f %%\n", 100 * worst);
    free(E);
    mg_renewal_free(&r);
    mg_result_free(&res);
    mg_model_free(&m);
}
END_TEST

MG_TEST_SUITE(spectrum_theory,
              MG_TCASE("stats", 120, uncoupled_meso_spectrum_matches_renewal_theory))
