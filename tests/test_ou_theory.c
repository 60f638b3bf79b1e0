/* tests/test_ou_theory.c: a stationary Ornstein-Uhlenbeck input current in the stationary theory
 * (src/theory/theory_spectrum.c, docs/THEORY.md): its mean enters the drive mu, its
 * fluctuations the power spectrum through the linear response, S_A = |chi|^2 S_eta + the
 * finite-size spectrum (issue 17.2: stimuli "covered by mesogif theory where linear response
 * applies").
 *
 * The run: data/models/uncoupled.json (N = 1000 non-adapting neurons, mu = 18 mV) with an OU
 * current of 6.25 pA (0.5 mV of drive, a quarter of Delta_u) and tau 20 ms, independent per
 * realization, at the meso level: 128 realizations x 20 s after 1 s, spectra in 1 s segments of
 * 1 ms bins. Below 10 Hz the OU part is about 20 times the finite-size spectrum.
 *
 * The comparison is the one of tests/test_spectrum_theory.c: 15 log bands from 1 Hz to 500 Hz,
 * a band's value the mean of its ordinates and its standard error from the across-realization
 * spread; a band passes when |sim - theory| <= 4 sem + allowance * theory (false-failure rate
 * 6e-5 per band from the 4 sem, 1e-3 for the 15 bands). The allowance is the approximations'
 * error, measured (seed 7, 2026-12-05) and not tuned to pass: below 50 Hz the simulated
 * spectrum is 1-5.4 % below the linear response (the input is a quarter of Delta_u: second
 * order), and the finite-size part, a few % of the total there, carries the meso model's own
 * 12 % (test_spectrum_theory): 8 %; from 50 Hz on the finite-size floor, +0.9 to +1.9 % as in
 * test_spectrum_theory: 2.5 %. The stationary mean rate is the theory's within 2 % (the rate
 * shift of order std^2 that linear response leaves out: measured -0.5 %) plus 4 sem.
 * Negative control: the same run against the theory without the OU term fails in at least 5
 * bands (measured: 12 of 15, up to 23-fold below 10 Hz). */
#include "testutil.h"
#include "psd_bands.h"

#include <math.h>
#include <stdio.h>

#include "mesogif/theory.h"

static void load_ou(mg_model *m, int with_ou)
{
    mg_err err = {{0}};
    mg_test_model("data/models/uncoupled.json", m);
    if (with_ou) {
        char a[256];
        snprintf(a, sizeof a, "%s.ou_current={\"mean\": 2.5, \"std\": 6.25, \"tau\": 20, "
                 "\"independent\": true}", m->pops[0].name);
        ck_assert_msg(mg_model_set(m, a, &err) == MG_OK, "%s", err.msg);
    }
}

START_TEST(ou_input_spectrum_matches_linear_response)
{
    mg_model m, bare;
    load_ou(&m, 1);
    load_ou(&bare, 0);
    mg_run_opts o = mg_test_opts(MG_BACKEND_CPU, 21000, 1000, 128, 0);
    mg_test_bins(&o, 1.0, 1.0, 1.0);
    o.seed = 7;
    o.psd_df_hz = 1.0;
    o.psd_bin_ms = 1.0;
    o.stats_time_ms = -1; /* stationary: no time-resolved record */
    mg_result res;
    mg_test_run(&m, &o, &res);
    mg_run_theory t, t0;
    mg_err err = {{0}};
    ck_assert_msg(mg_theory_of_run(&m, &res, &t, &err) == MG_OK, "%s", err.msg);
    ck_assert_msg(mg_theory_of_run(&bare, &res, &t0, &err) == MG_OK, "%s", err.msg);
    ck_assert_int_eq(t.fps.n, 1);
    ck_assert(t.fps.fp[0].stable && t.F == res.stats.L.F);
    ck_assert_msg(strstr(t.warnings, "ou_current: in the theory to linear order") != NULL, "%s",
                  t.warnings);
    /* the mean: the OU mean (2.5 pA = 0.2 mV) is in the drive */
    const double A_th = t.fps.fp[0].A_hz[0], A = res.stats.mean_A[0];
    ck_assert_msg(fabs(A - A_th) <= 0.02 * A_th + 4 * res.stats.mean_A_sem[0],
                  "mean rate %.4f Hz, theory %.4f Hz", A, A_th);
    ck_assert_msg(t0.fps.fp[0].A_hz[0] < A_th, "the OU mean must raise the theory's rate");
    printf("mean rate: sim %.4f +- %.4f Hz, theory %.4f Hz (%+.2f %%), without the OU mean %.4f\n",
           A, res.stats.mean_A_sem[0], A_th, 100 * (A / A_th - 1), t0.fps.fp[0].A_hz[0]);
    double worst;
    printf("meso with an independent OU input vs theory:\n");
    const int fails = mg_test_psd_bands(&res.stats, t.psd, 0.08, 0.025, &worst);
    ck_assert_msg(fails == 0, "%d bands outside theory +- (allowance + 4 sem)", fails);
    /* negative control: the finite-size theory alone misses the input's part */
    printf("the same run vs the theory without the OU (negative control):\n");
    const int fails0 = mg_test_psd_bands(&res.stats, t0.psd, 0.08, 0.025, &worst);
    ck_assert_msg(fails0 >= 5, "only %d bands fail without the OU term", fails0);
    mg_run_theory_free(&t);
    mg_run_theory_free(&t0);
    mg_result_free(&res);
    mg_model_free(&m);
    mg_model_free(&bare);
}
END_TEST

MG_TEST_SUITE(ou_theory, MG_TCASE("spectrum", 180, ou_input_spectrum_matches_linear_response))
