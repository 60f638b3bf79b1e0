/* tests/test_ffs.c: forward flux sampling (src/ffs/ffs.c, src/ffs/ffs_meso_cpu.c, src/ffs/ffs_internal.h).
 *
 * - observable: fed the same counts, the FFS observer functions and the observer of `mesogif
 *   run` (src/core/observe.h) hold the same hysteresis state after every statistics bin, so
 *   the FFS rate is about the same switching as exits / exposure;
 * - trial stream ids are distinct across (direction, pilot, stage, trial) and never an index
 *   of a basin run;
 * - the estimate is the same bits with 1 and 2 threads;
 * - bad options are refused (MG_EINVAL) naming the option;
 * - --method brute gets the options of `run` that match the estimate's (mg_ffs_brute_opts);
 * - the slots' atomic counter, minimum and fault record (src/ffs/ffs_slots.h) from 4 threads;
 * - the error formulas on tallies with known answers: a stage whose start states decide the
 *   outcome has the variance across states, one whose states do not has the binomial one; the
 *   flux's ratio estimator over basin runs, with the Poisson floor.
 * The statistical comparison with brute force is tests/test_ffs.sh (CLI). */
#include "testutil.h"
#include "ffs_testutil.h" /* mg_test_ffs_meso_opts */

#include "engine/job.h"      /* mg_obs_setup */
#include "ffs/ffs_slots.h"     /* mg_ffs_slot_count, mg_ffs_slot_min, mg_ffs_slot_fault_note */
#include "ffs/ffs_state.h"     /* stage, run_ctx, mg_ffs_stage_p, mg_ffs_flux */
#include "core/rng.h"
#include "mesogif/ffs.h"

#include <math.h>
#include <stdio.h>

/* ---- the FFS observable against the run observer --------------------------------------- */

START_TEST(test_lane_matches_observer)
{
    const int P = 2;
    const double dt_ms = 0.5, N[2] = {100.0, 100.0};
    const int64_t st_L = 20, n_steps = 20 * 4000;
    mg_stats_cfg c;
    mg_stats_cfg_default(&c, P, st_L * dt_ms, dt_ms);
    c.psd_n = 0;
    mg_err err = {{0}};
    ck_assert_int_eq(mg_stats_cfg_check(&c, &err), MG_OK);
    mg_stats_layout L;
    mg_stats_layout_init(&L, &c);
    mg_obs_cfg oc;
    ck_assert_int_eq(mg_obs_setup(&oc, &L, N, dt_ms, n_steps, 1, st_L, 0, 0.0, 0, &err), MG_OK);
    /* the FFS lane rows after the run observer's */
    mg_ffs_lane_cfg lc;
    memset(&lc, 0, sizeof lc);
    lc.P = P;
    lc.W = c.sw_window;
    lc.st_L = st_L;
    lc.bin_s = c.bin_ms * 1e-3;
    for (int a = 0; a < P; ++a) {
        lc.coef[a] = c.sw_coef[a];
        lc.st_scale[a] = 1.0 / (N[a] * (double)st_L * (dt_ms * 1e-3));
        ck_assert(lc.st_scale[a] == oc.st_scale[a]);
    }
    lc.lo = c.sw_lo;
    lc.hi = c.sw_hi;
    int r = oc.row_rec_n + oc.rows;
    lc.row_n = r;
    r += P;
    lc.row_ring = r;
    r += lc.W;
    lc.row_seen = r++;
    lc.row_state = r++;
    lc.row_count = r;
    r += 2;
    lc.row_armed = r;
    r += 2;
    lc.row_dstate = r;
    r += 2;
    lc.rows = r - lc.row_n;
    double *state = calloc((size_t)r * MG_VL, sizeof(double));
    ck_assert_ptr_nonnull(state);
    mg_lanes st = {state, MG_VL};
    mg_obs_init(&oc, st);
    for (int j = 0; j < MG_VL; ++j)
        mg_ffs_obs_init(&lc, mg_lane(st, j));
    double n[2 * MG_VL];
    int64_t flips = 0;
    for (int64_t t = 0; t < n_steps; ++t) {
        /* counts 0..3 per step: A about 30 Hz per population, D = A1 - A2 crosses +-5 Hz */
        for (int a = 0; a < P; ++a)
            for (int j = 0; j < MG_VL; ++j) {
                philox4x32_ctr_t b = mg_philox_block(7, MG_STREAM_TEST, (uint32_t)j,
                                                     (uint32_t)a, (uint32_t)t, 0);
                n[a * MG_VL + j] = (double)(b.v[0] & 3u);
            }
        mg_obs_step(&oc, st, t, n, NULL, NULL, NULL, NULL);
        for (int j = 0; j < MG_VL; ++j) {
            mg_lanes one = mg_lane(st, j);
            double nj[2] = {n[j], n[MG_VL + j]};
            mg_ffs_obs_add(&lc, one, nj);
            if ((t + 1) % st_L != 0)
                continue;
            int64_t b = (t + 1) / st_L - 1;
            double Ds = mg_ffs_obs_bin(&lc, one, b);
            double s_old = MG_AT(one, lc.row_state, 0);
            if (!isnan(Ds))
                MG_AT(one, lc.row_state, 0) =
                    (double)mg_ffs_hysteresis(&lc, Ds, (int)MG_AT(one, lc.row_state, 0));
            flips += s_old >= 0 && MG_AT(one, lc.row_state, 0) != s_old;
            ck_assert_msg(MG_AT(one, lc.row_state, 0) == MG_AT(st, oc.row_sw, j),
                          "bin %lld lane %d: FFS state %g, run state %g", (long long)b, j,
                          MG_AT(one, lc.row_state, 0), MG_AT(st, oc.row_sw, j));
        }
    }
    /* the run observer's exits are the flips the lanes saw */
    int64_t exits = 0;
    for (int j = 0; j < MG_VL; ++j)
        exits += (int64_t)(MG_AT(st, oc.row_sw_acc + 0, j) + MG_AT(st, oc.row_sw_acc + 6, j));
    ck_assert_int_eq(exits, flips);
    ck_assert_msg(flips > 100, "only %lld flips: the test does not exercise the hysteresis",
                  (long long)flips);
    free(state);
}
END_TEST

/* ---- stream ids -------------------------------------------------------------------------- */

START_TEST(test_trial_ids)
{
    /* a sample of the id space: corners of every field */
    const int64_t ks[] = {0, 1, 7, 8, 12345, (1 << 23) - 1, (1 << 24) - 1};
    uint32_t seen[2 * 2 * 32 * 7];
    int n = 0;
    for (int d = 0; d < 2; ++d)
        for (int pilot = 0; pilot < 2; ++pilot)
            for (int s = 0; s < 32; ++s)
                for (int k = 0; k < 7; ++k) {
                    uint32_t id = mg_ffs_trial_id(d, pilot, s, ks[k]);
                    ck_assert_msg(id >= 0x80000000u, "trial id %u collides with basin runs", id);
                    for (int i = 0; i < n; ++i)
                        ck_assert_msg(seen[i] != id, "id %u twice", id);
                    seen[n++] = id;
                }
}
END_TEST

/* ---- reproducibility --------------------------------------------------------------------- */

START_TEST(test_threads_same_bits)
{
    mg_model m;
    mg_test_model(NULL, &m); /* B1, N = 500 */
    mg_ffs_opts o1, o2;
    mg_test_ffs_meso_opts(&o1, 1);
    mg_test_ffs_meso_opts(&o2, 2);
    mg_ffs_result r1, r2;
    mg_err err = {{0}};
    ck_assert_msg(mg_ffs_run(&m, &o1, &r1, &err) == MG_OK, "%s", err.msg);
    ck_assert_msg(mg_ffs_run(&m, &o2, &r2, &err) == MG_OK, "%s", err.msg);
    ck_assert(memcmp(r1.rate_hz, r2.rate_hz, sizeof r1.rate_hz) == 0);
    ck_assert(memcmp(r1.rate_ci_low, r2.rate_ci_low, sizeof r1.rate_ci_low) == 0);
    ck_assert(memcmp(r1.flux_hz, r2.flux_hz, sizeof r1.flux_hz) == 0);
    ck_assert(memcmp(r1.n_stages, r2.n_stages, sizeof r1.n_stages) == 0);
    ck_assert(memcmp(r1.interfaces, r2.interfaces, sizeof r1.interfaces) == 0);
    ck_assert(memcmp(r1.trials, r2.trials, sizeof r1.trials) == 0);
    ck_assert(memcmp(r1.successes, r2.successes, sizeof r1.successes) == 0);
    ck_assert(memcmp(r1.trial_s, r2.trial_s, sizeof r1.trial_s) == 0);
    for (int d = 0; d < 2; ++d) {
        ck_assert_msg(r1.rate_hz[d] > 0 && isfinite(r1.rate_hz[d]), "rate %g", r1.rate_hz[d]);
        ck_assert(r1.rate_ci_low[d] < r1.rate_hz[d] && r1.rate_hz[d] < r1.rate_ci_high[d]);
        ck_assert(r1.n_stages[d] >= 1);
        /* the last interface is the other basin's threshold */
        ck_assert(r1.interfaces[d][r1.n_stages[d]] == (d == 0 ? 5.0 : -5.0));
    }
    mg_model_free(&m);
}
END_TEST

/* ---- bad options ------------------------------------------------------------------------- */

static void expect_bad(const mg_model *m, const mg_ffs_opts *o, const char *word)
{
    double per, total;
    mg_err err = {{0}};
    int rc = mg_ffs_estimate(m, o, &per, &total, &err);
    ck_assert_msg(rc == MG_EINVAL, "expected MG_EINVAL for %s, got %d (%s)", word, rc, err.msg);
    ck_assert_msg(strstr(err.msg, word) != NULL, "message '%s' does not name %s", err.msg, word);
}

START_TEST(test_bad_options)
{
    mg_model m;
    mg_test_model(NULL, &m);
    mg_ffs_opts o;
    mg_ffs_opts_default(&o);
    double per, total;
    mg_err err = {{0}};
    ck_assert_msg(mg_ffs_estimate(&m, &o, &per, &total, &err) == MG_OK, "%s", err.msg);
    ck_assert(per > 0 && total > per);
    o.rel_err = 0.0;
    expect_bad(&m, &o, "--rel-err");
    o.rel_err = 1.0;
    expect_bad(&m, &o, "--rel-err");
    mg_ffs_opts_default(&o);
    o.n_interfaces = 2;
    o.interfaces[0] = 1.0;
    o.interfaces[1] = 0.0; /* not increasing */
    expect_bad(&m, &o, "--interfaces");
    o.interfaces[0] = -5.0; /* on the threshold: not strictly between */
    o.interfaces[1] = 0.0;
    expect_bad(&m, &o, "--interfaces");
    o.interfaces[0] = 0.0;
    o.interfaces[1] = 6.0; /* beyond the high threshold */
    expect_bad(&m, &o, "--interfaces");
    mg_ffs_opts_default(&o);
    snprintf(o.switch_observable, sizeof o.switch_observable, "A1-A3");
    expect_bad(&m, &o, "--switch-observable");
    mg_ffs_opts_default(&o);
    o.level = (mg_level)7; /* no such level */
    expect_bad(&m, &o, "--level");
    mg_ffs_opts_default(&o);
    o.basin_realizations = 1;
    expect_bad(&m, &o, "--basin-realizations");
    mg_ffs_opts_default(&o);
    o.switch_smooth_ms = 55.0;
    expect_bad(&m, &o, "--switch-smooth");
    mg_model_free(&m);
}
END_TEST

/* ---- the options of --method brute ------------------------------------------------------- */

START_TEST(test_brute_opts)
{
    mg_ffs_opts o;
    mg_ffs_opts_default(&o);
    o.level = MG_LEVEL_MICRO;
    o.noise = MG_NOISE_POISSON;
    o.backend = MG_BACKEND_CPU;
    o.dt_ms = 0.25;
    o.stats_bin_ms = 5.0;
    o.t_warmup_ms = 500.0;
    o.basin_realizations = 8;
    o.seed = 77;
    o.threads = 3;
    snprintf(o.switch_observable, sizeof o.switch_observable, "A2-A1");
    o.switch_smooth_ms = 20.0;
    o.switch_lo = -4.0;
    o.switch_hi = 6.0;
    volatile int flag = 0;
    o.cancel = &flag;
    mg_run_opts ro;
    mg_err err = {{0}};
    ck_assert_msg(mg_ffs_brute_opts(&o, 1600e3, &ro, &err) == MG_OK, "%s", err.msg);
    ck_assert(ro.level == MG_LEVEL_MICRO && ro.noise == MG_NOISE_POISSON);
    ck_assert(ro.backend == MG_BACKEND_CPU);
    ck_assert(ro.dt_ms == 0.25 && ro.stats_bin_ms == 5.0 && ro.record_bin_ms == 5.0);
    ck_assert(ro.t_warmup_ms == 500.0);
    /* 1600 s shared by 8 realizations: 200 s each after the warm-up */
    ck_assert_int_eq(ro.realization_count, 8);
    ck_assert_msg(ro.t_sim_ms == 500.0 + 200e3, "t_sim %.17g ms", ro.t_sim_ms);
    ck_assert_int_eq(ro.record_realizations, 0);
    ck_assert(ro.psd_df_hz < 0); /* no spectra */
    ck_assert_int_eq(ro.seed, 77);
    ck_assert_int_eq(ro.threads, 3);
    ck_assert_str_eq(ro.switch_observable, "A2-A1");
    ck_assert(ro.switch_smooth_ms == 20.0 && ro.switch_lo == -4.0 && ro.switch_hi == 6.0);
    ck_assert(ro.cancel == &flag);
    /* what is not mapped keeps run's default */
    mg_run_opts def;
    mg_run_opts_default(&def);
    ck_assert(ro.realization_first == def.realization_first && ro.theory == def.theory);
    /* a bad brute-force time is refused, naming the option, and *ro stays as it was */
    const double bad[] = {0.0, -1.0, INFINITY, NAN};
    for (int k = 0; k < 4; ++k) {
        mg_run_opts before;
        memcpy(&before, &ro, sizeof ro);
        mg_err e = {{0}};
        ck_assert_int_eq(mg_ffs_brute_opts(&o, bad[k], &ro, &e), MG_EINVAL);
        ck_assert_msg(strstr(e.msg, "--brute-time") != NULL, "message '%s'", e.msg);
        ck_assert(memcmp(&before, &ro, sizeof ro) == 0);
    }
    o.basin_realizations = 1; /* no realizations to share the time */
    err.msg[0] = '\0';
    ck_assert_int_eq(mg_ffs_brute_opts(&o, 1600e3, &ro, &err), MG_EINVAL);
    ck_assert_msg(strstr(err.msg, "--basin-realizations") != NULL, "message '%s'", err.msg);
}
END_TEST

/* ---- error formulas on known tallies ----------------------------------------------------- */

START_TEST(test_stage_variance)
{
    stage s;
    memset(&s, 0, sizeof s);
    ck_assert_int_eq(mg_ffs_stage_grow(&s, 10), 0);
    /* 10 start states, 8 trials each; states 0..4 always succeed, 5..9 never: p = 0.5, the
     * variance is the one across states: 10/9 * sum (s_c - p m_c)^2 / M^2 = 10/9 * 10 * 16 /
     * 6400, ten times the binomial 0.25 / 80 */
    for (int c = 0; c < 10; ++c) {
        s.m_c[c] = 8;
        s.s_c[c] = c < 5 ? 8 : 0;
    }
    s.M = 80;
    s.S = 40;
    double p, var;
    int64_t nu;
    mg_ffs_stage_p(&s, &p, &var, &nu);
    ck_assert(p == 0.5);
    ck_assert_int_eq(nu, 10);
    ck_assert_msg(fabs(var - 10.0 / 9.0 * 160.0 / 6400.0) < 1e-15, "var %g", var);
    /* every state gives 4 of 8: nothing across states, the binomial variance remains */
    for (int c = 0; c < 10; ++c)
        s.s_c[c] = 4;
    mg_ffs_stage_p(&s, &p, &var, &nu);
    ck_assert_msg(fabs(var - 0.25 / 80.0) < 1e-15, "var %g", var);
    free(s.m_c);
    free(s.s_c);
}
END_TEST

START_TEST(test_flux_variance)
{
    run_ctx *X = calloc(1, sizeof *X);
    ck_assert_ptr_nonnull(X);
    mg_ffs_basin br[4];
    memset(br, 0, sizeof br);
    X->br = br;
    X->nb = 4;
    /* equal runs: the ratio estimator sees no spread; the Poisson floor 1/C is left */
    for (int i = 0; i < 4; ++i) {
        br[i].crossings[0] = 10;
        br[i].exposure[0] = 10.0;
    }
    double flux, rv, T;
    int64_t C;
    mg_ffs_flux(X, 0, &flux, &rv, &C, &T);
    ck_assert(flux == 1.0 && C == 40 && T == 40.0);
    ck_assert_msg(fabs(rv - 1.0 / 40.0) < 1e-15, "relvar %g", rv);
    /* clustered crossings (20, 0, 20, 0 in 10 s each): 4/3 * 4 * 100 / 1600 = 1/3 */
    for (int i = 0; i < 4; ++i)
        br[i].crossings[0] = i % 2 ? 0 : 20;
    mg_ffs_flux(X, 0, &flux, &rv, &C, &T);
    ck_assert(flux == 1.0);
    ck_assert_msg(fabs(rv - 1.0 / 3.0) < 1e-12, "relvar %g", rv);
    /* no crossing: no flux to speak of */
    for (int i = 0; i < 4; ++i)
        br[i].crossings[1] = 0;
    mg_ffs_flux(X, 1, &flux, &rv, &C, &T);
    ck_assert(C == 0 && isinf(rv));
    free(X);
}
END_TEST

/* ---- the slots' counters and fault record, host side (src/ffs/ffs_slots.h) ---------------
 * The device takes atomicAdd/atomicMin; a host compiler (and a future host slot engine) takes
 * the __atomic built-ins of the other branch, which no other test runs. 4 threads hammer one
 * counter and one minimum; exact answers, so no false failures. */
START_TEST(test_slot_atomics_on_the_host)
{
    enum { threads = 4, per_thread = 50000, n = threads * per_thread };
    unsigned char *seen = calloc(n, 1);
    unsigned long long counter = 0, least = MG_FFS_NO_FAULT, fault_q = MG_FFS_NO_FAULT;
    unsigned long long fault_key[3] = {MG_FFS_NO_FAULT, MG_FFS_NO_FAULT, MG_FFS_NO_FAULT};
    mg_ffs_slot_list L = {0};
    L.fault_q = &fault_q;
    L.fault_key = fault_key;
    int out_of_range = 0;
#pragma omp parallel num_threads(threads) reduction(+ : out_of_range)
    for (int i = 0; i < per_thread; ++i) {
        const unsigned long long old = mg_ffs_slot_count(&counter);
        if (old < n)
            seen[old] = 1; /* each old value is returned once: no two threads write one byte */
        else
            ++out_of_range;
        mg_ffs_slot_min(&least, (old * 2654435761ULL) % 1000003ULL + 7);
        /* faults of trials 1 and 2 (never 0) at many steps; the report is the least of each */
        mg_ffs_slot_fault_note(&L, 1 + (long long)(old % 2), 10 + (long long)(old % 97),
                               (int)(old % 3), (long long)(old % 5), (int)(old % 2));
    }
    ck_assert_int_eq(out_of_range, 0);
    ck_assert_uint_eq(counter, n);
    long long missing = 0;
    unsigned long long want = MG_FFS_NO_FAULT;
    for (unsigned long long v = 0; v < n; ++v) {
        missing += !seen[v];
        const unsigned long long h = (v * 2654435761ULL) % 1000003ULL + 7;
        want = h < want ? h : want;
    }
    ck_assert_int_eq(missing, 0);
    ck_assert_uint_eq(least, want);
    ck_assert_uint_eq(fault_q, 1);
    ck_assert_uint_eq(fault_key[0], MG_FFS_NO_FAULT);
    /* trial 1 noted the even counts, trial 2 the odd ones: each holds the least of its keys */
    unsigned long long key1 = MG_FFS_NO_FAULT, key2 = MG_FFS_NO_FAULT;
    for (unsigned long long v = 0; v < n; ++v) {
        const unsigned long long k =
            ((unsigned long long)(10 + v % 97) << MG_FFS_FAULT_REL_BIT) |
            ((unsigned long long)(v % 3) << MG_FFS_FAULT_POP_BIT) |
            ((unsigned long long)(v % 2 ? 0 : 1) << MG_FFS_FAULT_INF_BIT) | (v % 5);
        unsigned long long *kq = v % 2 ? &key2 : &key1;
        *kq = k < *kq ? k : *kq;
    }
    ck_assert_uint_eq(fault_key[1], key1);
    ck_assert_uint_eq(fault_key[2], key2);
    ck_assert_uint_eq(fault_key[1] >> MG_FFS_FAULT_REL_BIT, 10);
    free(seen);
}
END_TEST

MG_TEST_SUITE(ffs,
              MG_TCASE("core", 300, test_lane_matches_observer, test_trial_ids, test_stage_variance,
                       test_flux_variance, test_bad_options, test_brute_opts,
                       test_threads_same_bits, test_slot_atomics_on_the_host))
