/* tests/test_stim_ou.c: the OU current independent per realization (src/core/stim_ou.h, issue
 * 17.2): stationary mean, variance and lag correlation across realizations, distinct paths per
 * realization (and not the frozen stream), the stationary start and the off steps, and a path
 * continued from a saved state is the uninterrupted one bitwise.
 * Statistical checks: R = 20000 realizations, fixed seed; each statistic within 4.5 of its
 * standard errors (two-sided normal tail 6.8e-6 each, 4 checks: false-failure rate < 3e-5). */
#include "testutil.h"

#include <math.h>

#include "core/stim_ou.h"
#include "model/stimulus.h"

#define R 20000
#define T 400

static mg_stim_ou ou(void)
{
    mg_stim_ou o;
    /* 50 pA mean, 20 pA sd, tau 5 ms, R = 0.08 GOhm (tau_m 20 ms, C_m 250 pF), dt 0.5 ms:
     * 4 mV mean, 1.6 mV sd, decay exp(-0.1) */
    mg_stim_ou_init(&o, 50.0, 20.0, 5.0, 20.0 / 250.0, 0.5, 100, 1000000);
    return o;
}

START_TEST(stationary_moments_across_realizations)
{
    const mg_stim_ou o = ou();
    const int lag = 5, t_obs = T - 1 - lag; /* I ends as the value of step T - 1 */
    double s1 = 0, s2 = 0, c = 0;
    for (uint32_t r = 0; r < R; ++r) {
        double x = 0, I = 0, I_obs = 0;
        for (int64_t t = 0; t < T; ++t) {
            I = mg_stim_ou_step(&o, 7u, r, 1, t, &x);
            if (t == t_obs)
                I_obs = I;
        }
        s1 += I_obs;
        s2 += (I_obs - o.mean_mV) * (I_obs - o.mean_mV);
        c += (I_obs - o.mean_mV) * (I - o.mean_mV);
    }
    const double mean = s1 / R, var = s2 / R, rho = c / s2;
    const double sd = o.sd_mV, rho_want = pow(o.decay, lag);
    /* errors: sd / sqrt(R); sd^2 sqrt(2 / R) (normal); (1 - rho^2) / sqrt(R) */
    ck_assert_msg(fabs(mean - o.mean_mV) < 4.5 * sd / sqrt(R), "mean %g, want %g", mean,
                  o.mean_mV);
    ck_assert_msg(fabs(var - sd * sd) < 4.5 * sd * sd * sqrt(2.0 / R), "var %g, want %g", var,
                  sd * sd);
    ck_assert_msg(fabs(rho - rho_want) < 4.5 * (1 - rho_want * rho_want) / sqrt(R),
                  "lag-%d correlation %g, want %g", lag, rho, rho_want);
    if (mg_test_verbose())
        printf("mean %.4f (4), var %.4f (%.4f), rho %.4f (%.4f)\n", mean, var, sd * sd, rho,
               rho_want);
}
END_TEST

/* The stationary start: x(t_on) = sd xi across realizations has variance sd^2 at once. */
START_TEST(stationary_from_the_first_step)
{
    const mg_stim_ou o = ou();
    double s2 = 0;
    for (uint32_t r = 0; r < R; ++r) {
        double x = 12345.0; /* whatever the row held: not read at t_on */
        const double I = mg_stim_ou_step(&o, 7u, r, 0, o.t_on, &x);
        s2 += (I - o.mean_mV) * (I - o.mean_mV);
    }
    ck_assert_msg(fabs(s2 / R - o.sd_mV * o.sd_mV) < 4.5 * o.sd_mV * o.sd_mV * sqrt(2.0 / R),
                  "var at t_on %g", s2 / R);
}
END_TEST

START_TEST(realizations_differ_off_steps_are_zero)
{
    const mg_stim_ou o = ou();
    double x0 = 0, x1 = 0, x0b = 0;
    for (int64_t t = 0; t < o.t_on; ++t) {
        ck_assert(mg_stim_ou_step(&o, 7u, 0, 0, t, &x0) == 0.0);
        ck_assert(x0 == 0.0);
    }
    int differ = 0, same_again = 1, not_frozen = 0;
    for (int64_t t = o.t_on; t < o.t_on + 50; ++t) {
        const double a = mg_stim_ou_step(&o, 7u, 0, 0, t, &x0);
        const double b = mg_stim_ou_step(&o, 7u, 1, 0, t, &x1);
        const double c = mg_stim_ou_step(&o, 7u, 0, 0, t, &x0b);
        differ += a != b;
        same_again &= a == c;
        /* the frozen current's stream (src/model/stimulus.c) is another stream kind */
        not_frozen += mg_stim_ou_normal(7u, 0, 0, t) != mg_stim_normal(7u, 0, t);
    }
    ck_assert_int_eq(differ, 50);
    ck_assert(same_again);
    ck_assert_int_eq(not_frozen, 50);
    mg_stim_ou off = ou();
    off.t_off = off.t_on + 3;
    double x = 0;
    for (int64_t t = off.t_on; t < off.t_on + 3; ++t)
        mg_stim_ou_step(&off, 7u, 0, 0, t, &x);
    const double kept = x;
    ck_assert(mg_stim_ou_step(&off, 7u, 0, 0, off.t_off, &x) == 0.0);
    ck_assert(x == kept);
}
END_TEST

/* A checkpoint keeps x: continuing from the saved value is the uninterrupted path, bitwise. */
START_TEST(resumed_path_is_bitwise_the_same)
{
    const mg_stim_ou o = ou();
    double x = 0, path[T];
    for (int64_t t = 0; t < T; ++t)
        path[t] = mg_stim_ou_step(&o, 3u, 4242u, 2, t, &x);
    double saved = 0;
    for (int64_t t = 0; t < 237; ++t)
        mg_stim_ou_step(&o, 3u, 4242u, 2, t, &saved);
    double y = saved; /* as restored from a checkpoint */
    for (int64_t t = 237; t < T; ++t) {
        const double I = mg_stim_ou_step(&o, 3u, 4242u, 2, t, &y);
        ck_assert_msg(memcmp(&I, &path[t], sizeof I) == 0, "step %lld", (long long)t);
    }
}
END_TEST

MG_TEST_SUITE(stim_ou,
              MG_TCASE("ou", 60, stationary_moments_across_realizations,
                       stationary_from_the_first_step, realizations_differ_off_steps_are_zero,
                       resumed_path_is_bitwise_the_same))
