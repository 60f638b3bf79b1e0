/* tests/test_stats_time.c: time-resolved ensemble statistics (--stats-time, issue 17 point 1):
 * mean, variance and covariance of A across realizations per time bin (include/mesogif/stats.h,
 * src/core/observe.h). An uncoupled population (data/models/uncoupled.json) under a step of
 * input current:
 *   - with n = n_bar (--noise deterministic) every realization is the deterministic trajectory:
 *     mean_A(t) is its A_bar to float rounding (the trace is float32), var_A(t) is 0;
 *   - with binomial noise mean_A(t) is the deterministic response within its sampling error;
 *   - the time-resolved sums are the same bits for 1 or 2 threads and any batch size, and two
 *     group-aligned shards summed are one run;
 *   - a bin that is not a multiple of dt, or a record that would be too large, is refused. */
#include "testutil.h"

#include <math.h>
#include <stdio.h>

/* uncoupled.json's population (N = 1000, no adaptation) at dt = 1 ms, with a step of +60 pA
 * (mu 18 -> 22.8 mV) at 300 ms: 13.7 Hz before, 23.8 Hz after, with an overshoot to 25.7 Hz */
static const char *MODEL =
    "{\"name\": \"uncoupled_step\",\n"
    " \"simulation\": {\"dt\": 1.0, \"t_sim\": 700.0, \"t_warmup\": 100.0, \"record_bin\": 10.0,"
    " \"stats_bin\": 10.0},\n"
    " \"populations\": [\n"
    "  {\"name\": \"P1\", \"N\": 1000, \"tau_m\": 20.0, \"C_m\": 250.0, \"E_L\": 0.0,"
    " \"V_reset\": 0.0, \"V_T_star\": 15.0, \"Delta_V\": 2.0, \"lambda_0\": 10.0, \"t_ref\": 4.0,"
    " \"I_e\": 225.0, \"tau_sfa\": [], \"q_sfa\": [], \"len_kernel\": -1,"
    " \"step_current\": {\"amplitude_times\": [300.0], \"amplitude_values\": [60.0]}}],\n"
    " \"projections\": []}\n";

static void load(mg_model *m)
{
    mg_err err = {{0}};
    ck_assert_msg(mg_model_parse(MODEL, "test_stats_time", m, &err) == MG_OK, "%s", err.msg);
}

static void opts_for(mg_run_opts *o, mg_noise noise, int64_t R)
{
    *o = mg_test_opts(MG_BACKEND_CPU, 700.0, 100.0, R, 1);
    o->noise = noise;
    mg_test_bins(o, 1.0, 10.0, 10.0);
    o->stats_time_ms = 10.0;
    o->stats_basic = 1;
    o->threads = 2;
    o->seed = 17;
}

START_TEST(deterministic_is_the_trace)
{
    mg_model m;
    load(&m);
    mg_run_opts o;
    opts_for(&o, MG_NOISE_DETERMINISTIC, 5);
    mg_result res;
    mg_test_run(&m, &o, &res);
    const mg_stats *s = &res.stats;
    const int64_t B = s->L.cfg.time_bins;
    ck_assert_int_eq(B, 70); /* 700 ms in 10 ms bins, warm-up included */
    ck_assert_int_eq(res.trace_T, B);
    ck_assert_int_eq(s->i[s->L.i_tm_nreal], 5);
    for (int64_t b = 0; b < B; ++b) {
        ck_assert(fabs(s->tm_t_s[b] - 0.01 * (double)b) < 1e-15);
        const double mean = s->tm_mean_A[b], tr = (double)res.A_bar[b];
        /* the trace is float32: rounding of 2^-24 relative, and the mean of 5 equal doubles
         * may differ from each of them in the last bits */
        ck_assert_msg(fabs(mean - tr) <= 1e-7 * fabs(tr) + 1e-9, "bin %lld: mean %.17g, "
                      "A_bar %.9g", (long long)b, mean, tr);
        ck_assert_msg(s->tm_var_A[b] >= 0.0 && s->tm_var_A[b] <= 1e-24 + 1e-12 * mean * mean,
                      "bin %lld: var %g", (long long)b, s->tm_var_A[b]);
        ck_assert(s->tm_cov_A[b] == s->tm_var_A[b]); /* P = 1: cov[0][0] is var */
    }
    /* the step is seen: after it the rate rises well above the stationary 13.7 Hz */
    ck_assert(s->tm_mean_A[25] > 12.0 && s->tm_mean_A[25] < 16.0);
    ck_assert(s->tm_mean_A[60] > 22.0 && s->tm_mean_A[60] < 26.0);
    mg_result_free(&res);
    mg_model_free(&m);
}
END_TEST

/* Binomial noise: mean_A(t) against the deterministic (n = n_bar) response. With R = 2000
 * realizations the mean of a bin is close to normal with the standard error sem (estimated from
 * the same realizations: Student t with 1999 degrees of freedom); |z| > 4.4 has probability
 * p = 1.1e-5 per bin when the means agree, so over B = 70 bins the expected number of
 * exceedances is 8e-4 and at most 1 is allowed: P(>= 2) = C(70,2) p^2 < 3e-7, the false-failure
 * rate of this test. Any difference of the ensemble mean from the n = n_bar response is far
 * below the sampling error at R = 2000: measured with R = 20000 (seed 17), max |z| over the 70
 * bins was 2.58, i.e. a difference below 0.01 Hz against a sem of 0.03 Hz here. */
START_TEST(stochastic_mean_is_the_deterministic_response)
{
    mg_model m;
    load(&m);
    mg_run_opts o;
    opts_for(&o, MG_NOISE_DETERMINISTIC, 1);
    mg_result det, sto;
    mg_test_run(&m, &o, &det);
    opts_for(&o, MG_NOISE_BINOMIAL, 2000);
    mg_test_run(&m, &o, &sto);
    const int64_t B = sto.stats.L.cfg.time_bins;
    ck_assert_int_eq(B, det.stats.L.cfg.time_bins);
    int exceed = 0;
    double zmax = 0.0;
    for (int64_t b = 0; b < B; ++b) {
        const double sem = sto.stats.tm_mean_A_sem[b];
        ck_assert_msg(sem > 0.0, "bin %lld: sem %g", (long long)b, sem);
        /* sem is the spread across realizations: sqrt(var / R) */
        ck_assert(fabs(sem - sqrt(sto.stats.tm_var_A[b] / 2000.0)) <= 1e-12 * sem);
        const double z = (sto.stats.tm_mean_A[b] - det.stats.tm_mean_A[b]) / sem;
        zmax = fmax(zmax, fabs(z));
        exceed += fabs(z) > 4.4;
    }
    ck_assert_msg(exceed <= 1, "%d of %lld bins beyond 4.4 standard errors (max |z| %.2f)",
                  exceed, (long long)B, zmax);
    mg_result_free(&det);
    mg_result_free(&sto);
    mg_model_free(&m);
}
END_TEST

START_TEST(bitwise_threads_batches_shards)
{
    mg_model m;
    load(&m);
    mg_run_opts o;
    opts_for(&o, MG_NOISE_BINOMIAL, 64);
    o.threads = 1;
    mg_result ref;
    mg_test_run(&m, &o, &ref);
    const int threads[] = {2, 2, 1};
    const int64_t batch[] = {0, 5, 64};
    for (int k = 0; k < 3; ++k) {
        mg_result r;
        o.threads = threads[k];
        o.batch = batch[k];
        mg_test_run(&m, &o, &r);
        char what[64];
        snprintf(what, sizeof what, "%d threads, batch %lld", threads[k], (long long)batch[k]);
        mg_test_same_stats(&ref, &r, what);
        mg_result_free(&r);
    }
    /* two shards of 32 (one reduction group each) summed: the same bits as one run */
    mg_result s0, s1;
    opts_for(&o, MG_NOISE_BINOMIAL, 32);
    mg_test_run(&m, &o, &s0);
    o.realization_first = 32;
    mg_test_run(&m, &o, &s1);
    mg_stats sum;
    mg_err err = {{0}};
    ck_assert(mg_stats_alloc(&sum, &s0.stats.L, &err) == MG_OK);
    ck_assert(mg_stats_add(&sum, &s0.stats, &err) == MG_OK);
    ck_assert(mg_stats_add(&sum, &s1.stats, &err) == MG_OK);
    ck_assert(mg_stats_finalize(&sum, &err) == MG_OK);
    const mg_stats_layout *L = &sum.L;
    const int64_t nd = (L->cfg.time_bins) * (L->P + L->P * L->P);
    ck_assert_int_eq(L->n_d - L->d_tm_s1, nd);
    ck_assert(memcmp(sum.d + L->d_tm_s1, ref.stats.d + L->d_tm_s1, (size_t)nd * 8) == 0);
    ck_assert(sum.i[L->i_tm_nreal] == 64);
    ck_assert(memcmp(sum.tm_mean_A, ref.stats.tm_mean_A, (size_t)L->cfg.time_bins * 8) == 0);
    mg_stats_free(&sum);
    mg_result_free(&s0);
    mg_result_free(&s1);
    mg_result_free(&ref);
    mg_model_free(&m);
}
END_TEST

/* Without --stats-time the layout is the one it always was: no time-resolved fields. */
START_TEST(off_leaves_the_layout)
{
    mg_stats_cfg c;
    mg_stats_cfg_default(&c, 2, 10.0, 0.5);
    mg_stats_layout L0, L1;
    mg_stats_layout_init(&L0, &c);
    ck_assert_int_eq(L0.i_tm_nreal, -1);
    ck_assert_int_eq(L0.d_tm_s1, -1);
    ck_assert_int_eq(L0.n_d, L0.d_isi_s2 + 2);
    c.time_bin_ms = 5.0;
    c.time_bins = 100;
    mg_stats_layout_init(&L1, &c);
    ck_assert_int_eq(L1.n_i, L0.n_i + 1);
    ck_assert_int_eq(L1.n_d, L0.n_d + 100 * (2 + 4));
}
END_TEST

/* The library's default (stats_time_ms = 0): on in the statistics bin for a time-dependent
 * input, off for a stationary one; negative: off. */
START_TEST(library_default)
{
    mg_model m;
    load(&m);
    mg_run_opts o;
    mg_result res;
    opts_for(&o, MG_NOISE_BINOMIAL, 2);
    o.stats_time_ms = 0.0;
    o.stats_bin_ms = 20.0;
    mg_test_run(&m, &o, &res);
    ck_assert(res.stats.L.cfg.time_bin_ms == 20.0);
    ck_assert_int_eq(res.stats.L.cfg.time_bins, 35);
    mg_result_free(&res);
    o.stats_time_ms = -1.0;
    mg_test_run(&m, &o, &res);
    ck_assert_int_eq(res.stats.L.cfg.time_bins, 0);
    ck_assert_int_eq(res.stats.L.i_tm_nreal, -1);
    ck_assert(res.stats.tm_mean_A == NULL);
    mg_result_free(&res);
    /* the same population without the step: stationary, no time-resolved statistics */
    free(m.pops[0].step_times);
    free(m.pops[0].step_amps);
    m.pops[0].step_times = m.pops[0].step_amps = NULL;
    m.pops[0].n_steps = 0;
    o.stats_time_ms = 0.0;
    mg_test_run(&m, &o, &res);
    ck_assert_int_eq(res.stats.L.cfg.time_bins, 0);
    mg_result_free(&res);
    mg_model_free(&m);
}
END_TEST

START_TEST(bad_input)
{
    mg_model m;
    load(&m);
    mg_run_opts o;
    mg_result res;
    mg_err err = {{0}};
    opts_for(&o, MG_NOISE_BINOMIAL, 1);
    o.stats_time_ms = 2.5; /* not a multiple of dt = 1 ms */
    ck_assert_int_eq(mg_run(&m, &o, &res, &err), MG_EINVAL);
    ck_assert_msg(strstr(err.msg, "--stats-time") && strstr(err.msg, "multiple of dt"), "%s",
                  err.msg);
    o.stats_time_ms = 800.0; /* longer than t-sim */
    ck_assert_int_eq(mg_run(&m, &o, &res, &err), MG_EINVAL);
    ck_assert_msg(strstr(err.msg, "--stats-time"), "%s", err.msg);
    /* 64 populations' covariances in 1 ms bins over 10 s: 10^4 x 4160 x 8 bytes = 317 MB */
    mg_stats_cfg c;
    mg_stats_cfg_default(&c, 64, 10.0, 1.0);
    c.time_bin_ms = 1.0;
    c.time_bins = 10000;
    ck_assert_int_eq(mg_stats_cfg_check(&c, &err), MG_EINVAL);
    ck_assert_msg(strstr(err.msg, "--stats-time") && strstr(err.msg, "317.4 MB") &&
                      strstr(err.msg, "64 MB"), "%s", err.msg);
    c.time_bins = 2000; /* 63.5 MB: allowed */
    ck_assert_int_eq(mg_stats_cfg_check(&c, &err), MG_OK);
    mg_model_free(&m);
}
END_TEST

static MG_TEST_SUITE(stats_time,
              MG_TCASE("core", 120, off_leaves_the_layout, bad_input, library_default,
                       deterministic_is_the_trace, stochastic_mean_is_the_deterministic_response,
                       bitwise_threads_batches_shards))
