/* tests/test_fmath.c: accuracy and special values of mg_exp and mg_log (src/core/fmath.h).
 *
 * The functions exist so that host and device compute the same bits; this suite checks that
 * they are also accurate. Each argument set compares, in units in the last place (ulp, the
 * spacing of doubles at the reference value; for subnormal results the ulp is 2^-1074):
 *   - with glibc's exp/log: integer ulp distance, bound 1 for exp and 2 for log (the contract
 *     written in fmath.h's header);
 *   - with expl/logl (x87 extended precision, 64-bit significand, so the reference itself is
 *     within ~2^-11 double ulp): the real-valued error, bound 1.0 ulp for exp and 2.5 ulp for
 *     log (the method's bound, see LOG_ERR_MAX), which catches an error that the integer
 *     distance to glibc could hide.
 * Arguments come from Philox (fixed key), so the suite is deterministic: no false failures.
 * Set MG_TEST_VERBOSE=1 to print the measured maxima. */
#include "testutil.h"
#include "core/fmath.h" /* mg_exp, mg_log */
#include "core/rng.h"   /* mg_rng: argument generator */

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

/* ---- helpers ---------------------------------------------------------------------------- */

/* Doubles mapped to integers that are ordered like the doubles (+0 and -0 both 0), so that the
 * difference of two images counts the representable doubles between them. */
static int64_t ordered(double x)
{
    uint64_t b = mg_bits_of(x);
    int64_t mag = (int64_t)(b & 0x7fffffffffffffffULL);
    return (b >> 63) ? -mag : mag;
}

static int64_t ulp_dist(double a, double b)
{
    int64_t d = ordered(a) - ordered(b);
    return d < 0 ? -d : d;
}

/* Real-valued error of got against the extended-precision reference, in ulp of the double
 * nearest to ref (2^-1074 for subnormals). */
static double ulp_err(double got, long double ref)
{
    double r = (double)ref;
    if (r == 0.0 && got == 0.0)
        return 0.0;
    int e;
    frexp(r == 0.0 ? DBL_MIN : r, &e); /* |r| in [2^(e-1), 2^e) */
    double ulp = ldexp(1.0, (e - 53 < -1074) ? -1074 : e - 53);
    return (double)(fabsl((long double)got - ref) / (long double)ulp);
}

static double uni(mg_rng *g, double lo, double hi)
{
    return lo + (hi - lo) * mg_rng_u01(g);
}

/* The arguments of set `set`: one Philox stream each (fixed key). */
static mg_rng arg_rng(uint32_t set)
{
    mg_rng g;
    mg_rng_init(&g, 2024, MG_STREAM_TEST, set, 0, 0);
    return g;
}

typedef struct {
    int64_t max_ulp_glibc;  /* largest integer ulp distance to glibc */
    double max_err;         /* largest real error against the extended reference, ulp */
    double worst_x;         /* argument of max_err */
    long n;                 /* arguments tried */
} acc_stats;

#define EXP_ULP_GLIBC 1
#define EXP_ERR_MAX 1.0
#define LOG_ULP_GLIBC 2
/* mg_log forms s = (m-1)/(m+1) with two roundings, so 2s, the leading term, carries up to 2u
 * relative error (u = 2^-53), i.e. up to 2 ulp, plus the final rounding: 2.5 ulp is the bound
 * of the method (2.04 ulp measured over 1e8 arguments near 1). */
#define LOG_ERR_MAX 2.5

/* A function under test: ours, glibc's, the extended-precision reference and the bounds. */
typedef struct {
    const char *name, *glibc_name;
    double (*mg)(double);
    double (*glibc)(double);
    long double (*ref)(long double);
    int64_t ulp_glibc;
    double err_max;
} fn_spec;

static double mg_exp_fn(double x)
{
    return mg_exp(x);
}

static double mg_log_fn(double x)
{
    return mg_log(x);
}

static const fn_spec EXP = {"mg_exp", "exp", mg_exp_fn, exp, expl, EXP_ULP_GLIBC, EXP_ERR_MAX};
static const fn_spec LOG = {"mg_log", "log", mg_log_fn, log, logl, LOG_ULP_GLIBC, LOG_ERR_MAX};

static void acc_add(acc_stats *s, const fn_spec *f, double x)
{
    double got = f->mg(x);
    int64_t d = ulp_dist(got, f->glibc(x));
    double e = ulp_err(got, f->ref((long double)x));
    if (d > s->max_ulp_glibc)
        s->max_ulp_glibc = d;
    if (e > s->max_err) {
        s->max_err = e;
        s->worst_x = x;
    }
    s->n++;
}

static void acc_check(const char *what, const fn_spec *f, const acc_stats *s)
{
    if (mg_test_verbose())
        printf("%-44s n=%8ld  max |mg - glibc| = %lld ulp  max err = %.4f ulp at %.17g\n", what,
               s->n, (long long)s->max_ulp_glibc, s->max_err, s->worst_x);
    fflush(stdout); /* Check runs each test in a child that may exit before stdio flushes */
    ck_assert_msg(s->max_ulp_glibc <= f->ulp_glibc,
                  "%s within %lld ulp of glibc %s (%s): got %lld ulp", f->name,
                  (long long)f->ulp_glibc, f->glibc_name, what, (long long)s->max_ulp_glibc);
    ck_assert_msg(s->max_err <= f->err_max, "%s error <= %.1f ulp (%s): %.4f ulp at x = %.17g",
                  f->name, f->err_max, what, s->max_err, s->worst_x);
}

/* ---- the argument sets ------------------------------------------------------------------- */

/* Each draws argument i from g into *x; 0 when that draw is not used. */

/* uniform over the whole finite-result range of exp, normal and subnormal results */
static int exp_full_range(mg_rng *g, long i, double *x)
{
    (void)i;
    *x = uni(g, -745.13, 709.78);
    return 1;
}

/* |x| log-uniform in [1e-20, 1], both signs: where e^x is near 1 */
static int exp_small_args(mg_rng *g, long i, double *x)
{
    double a = pow(10.0, uni(g, -20.0, 0.0));
    *x = (i & 1) ? a : -a;
    return 1;
}

/* within 1e-9 relative of (j + 1/2) ln 2, where the reduction x = k ln2 + r switches k and |r|
 * is largest */
static int exp_reduction_edges(mg_rng *g, long i, double *x)
{
    (void)i;
    double j = floor(uni(g, -1075.0, 1023.0));
    *x = (j + 0.5) * 0.69314718055994530942;
    *x *= 1.0 + uni(g, -1e-9, 1e-9);
    return *x > -745.13 && *x < 709.78;
}

/* results that are subnormal (x < log(DBL_MIN) = -708.40) */
static int exp_subnormal_results(mg_rng *g, long i, double *x)
{
    (void)i;
    *x = uni(g, -745.13, -708.40);
    return 1;
}

/* positive normal doubles with uniformly random exponent and significand bits: every binade
 * from DBL_MIN to DBL_MAX equally often */
static int log_full_range(mg_rng *g, long i, double *x)
{
    (void)i;
    uint64_t hi = mg_rng_u32(g), lo = mg_rng_u32(g);
    uint64_t e = 1 + hi % 2046; /* biased exponent 1..2046 */
    uint64_t b = (e << 52) | ((hi >> 11) << 32 & 0x000fffff00000000ULL) | lo;
    *x = mg_double_of(b);
    return 1;
}

/* 1 + d, |d| log-uniform in [1e-16, 0.5], both signs: where log x is small and relative
 * accuracy is hardest */
static int log_near_one(mg_rng *g, long i, double *x)
{
    double d = pow(10.0, uni(g, -16.0, log10(0.5)));
    *x = (i & 1) ? 1.0 + d : 1.0 - d;
    return 1;
}

/* subnormal arguments (random significand bits, exponent field 0), spread over all
 * magnitudes */
static int log_subnormal_args(mg_rng *g, long i, double *x)
{
    uint64_t b = ((uint64_t)mg_rng_u32(g) << 32 | mg_rng_u32(g)) & 0x000fffffffffffffULL;
    *x = mg_double_of(b >> (i % 52));
    return b != 0;
}

/* near 2^e sqrt(2), where the reduction m in [sqrt(1/2), sqrt(2)) wraps, and near powers of
 * two */
static int log_reduction_edges(mg_rng *g, long i, double *x)
{
    int e = (int)floor(uni(g, -1021.0, 1023.0));
    double base = (i & 1) ? 1.4142135623730951 : 1.0;
    *x = ldexp(base * (1.0 + uni(g, -1e-12, 1e-12)), e);
    return 1;
}

/* ---- accuracy ---------------------------------------------------------------------------- */

static const struct {
    const char *what;
    const fn_spec *f;
    int (*arg)(mg_rng *g, long i, double *x);
    long n;
} acc_cases[] = {
    {"exp: uniform [-745.13, 709.78]", &EXP, exp_full_range, 4000000},
    {"exp: |x| log-uniform [1e-20, 1]", &EXP, exp_small_args, 1000000},
    {"exp: near (j+1/2) ln2", &EXP, exp_reduction_edges, 1000000},
    {"exp: subnormal results [-745.13, -708.40]", &EXP, exp_subnormal_results, 1000000},
    {"log: all binades (random bits)", &LOG, log_full_range, 4000000},
    {"log: 1 +- d, d in [1e-16, 0.5]", &LOG, log_near_one, 1000000},
    {"log: subnormal x", &LOG, log_subnormal_args, 1000000},
    {"log: near 2^e and 2^e sqrt2", &LOG, log_reduction_edges, 1000000},
};

/* Case _i: its n arguments, from the generator of argument set _i + 1. */
START_TEST(accuracy)
{
    acc_stats s = {0, 0.0, 0.0, 0};
    mg_rng g = arg_rng((uint32_t)_i + 1);
    double x;
    for (long i = 0; i < acc_cases[_i].n; i++)
        if (acc_cases[_i].arg(&g, i, &x))
            acc_add(&s, acc_cases[_i].f, x);
    acc_check(acc_cases[_i].what, acc_cases[_i].f, &s);
}
END_TEST

/* ---- special values ---------------------------------------------------------------------- */

START_TEST(exp_special_values)
{
    ck_assert_msg(mg_exp(0.0) == 1.0, "exp(0) = 1 exactly");
    ck_assert_msg(mg_exp(-0.0) == 1.0, "exp(-0) = 1 exactly");
    ck_assert_msg(mg_exp(1e-300) == 1.0 && mg_exp(-1e-300) == 1.0, "exp(+-1e-300) = 1");
    ck_assert_msg(mg_exp(4.9406564584124654e-324) == 1.0, "exp(denorm_min) = 1");
    ck_assert_msg(mg_exp(HUGE_VAL) == HUGE_VAL, "exp(+inf) = +inf");
    ck_assert_msg(mg_exp(-HUGE_VAL) == 0.0, "exp(-inf) = 0");
    ck_assert_msg(isnan(mg_exp(NAN)), "exp(NaN) = NaN");
    ck_assert_msg(mg_exp(1e6) == HUGE_VAL && mg_exp(-1e6) == 0.0, "exp(+-1e6) = inf, 0");
    /* overflow edge: log(DBL_MAX) = 709.782712893384 */
    double xmax = 709.782712893384;
    ck_assert_msg(isfinite(mg_exp(xmax)) && ulp_dist(mg_exp(xmax), exp(xmax)) <= 1,
                  "exp(709.782712893384) finite, = glibc (%.17g vs %.17g)", mg_exp(xmax), exp(xmax));
    ck_assert_msg(mg_exp(nextafter(xmax, 1e9)) == HUGE_VAL, "exp overflows just above log(DBL_MAX)");
    ck_assert_msg(mg_exp(709.79) == HUGE_VAL && mg_exp(710.0) == HUGE_VAL, "exp(709.79) = inf");
    /* underflow edges: log(DBL_MIN) = -708.3964, log(2^-1074) = -744.44, 0 below
     * log(2^-1075) = -745.1332 */
    double edges[] = {-708.3964185322641, -708.39641853226408, -744.44007192138126,
                      -745.13321910194110, -745.1332191019411, -745.13321910194122, -745.2,
                      -745.0, -740.0};
    for (size_t i = 0; i < sizeof edges / sizeof edges[0]; i++) {
        double x = edges[i];
        for (int j = -4; j <= 4; j++) {
            double xj = x;
            for (int t = 0; t < (j < 0 ? -j : j); t++)
                xj = nextafter(xj, j < 0 ? -1e9 : 1e9);
            ck_assert_msg(ulp_dist(mg_exp(xj), exp(xj)) <= 1,
                          "exp underflow edge x = %.17g: mg %.17g glibc %.17g", xj, mg_exp(xj),
                          exp(xj));
        }
    }
    ck_assert_msg(mg_exp(-746.0) == 0.0 && mg_exp(-745.2) == 0.0, "exp(-746), exp(-745.2) = 0");
    ck_assert_msg(mg_exp(-745.0) > 0.0, "exp(-745) is the smallest subnormal, not 0");
}
END_TEST

START_TEST(log_special_values)
{
    ck_assert_msg(mg_log(1.0) == 0.0, "log(1) = 0 exactly");
    ck_assert_msg(mg_log(0.0) == -HUGE_VAL, "log(0) = -inf");
    ck_assert_msg(mg_log(-0.0) == -HUGE_VAL, "log(-0) = -inf");
    ck_assert_msg(isnan(mg_log(-1.0)), "log(-1) = NaN");
    ck_assert_msg(isnan(mg_log(-4.9406564584124654e-324)), "log(-denorm_min) = NaN");
    ck_assert_msg(isnan(mg_log(-HUGE_VAL)), "log(-inf) = NaN");
    ck_assert_msg(isnan(mg_log(NAN)), "log(NaN) = NaN");
    ck_assert_msg(mg_log(HUGE_VAL) == HUGE_VAL, "log(+inf) = +inf");
    double xs[] = {4.9406564584124654e-324, 1e-320, DBL_MIN, nextafter(DBL_MIN, 0.0),
                   DBL_MAX, 2.0, 0.5, 10.0, 1.0 + DBL_EPSILON, 1.0 - DBL_EPSILON / 2,
                   M_E, 1.4142135623730951, nextafter(1.4142135623730951, 2.0)};
    for (size_t i = 0; i < sizeof xs / sizeof xs[0]; i++)
        ck_assert_msg(ulp_dist(mg_log(xs[i]), log(xs[i])) <= LOG_ULP_GLIBC,
                      "log(%.17g): mg %.17g glibc %.17g", xs[i], mg_log(xs[i]), log(xs[i]));
    /* powers of two: e ln2 from the split constant, exact to ~1 ulp */
    for (int e = -1074; e <= 1023; e++) {
        double x = ldexp(1.0, e);
        ck_assert_msg(ulp_dist(mg_log(x), log(x)) <= 1, "log(2^%d): mg %.17g glibc %.17g", e,
                      mg_log(x), log(x));
    }
}
END_TEST

START_TEST(exp_log_roundtrip_integers)
{
    /* exp(log k) recovers k = 1..1e5: a consistency check of the two functions together.
     * Bound: an absolute error of LOG_ERR_MAX ulp(log k) in the logarithm becomes that relative
     * error after exp, plus EXP_ERR_MAX ulp from exp itself and 1 for rounding log k. */
    for (int k = 1; k <= 100000; k++) {
        double lk = mg_log((double)k);
        double y = mg_exp(lk);
        double ulp_lk = lk > 0.0 ? nextafter(lk, 1e9) - lk : DBL_MIN;
        double tol = (double)k * (LOG_ERR_MAX * ulp_lk + (EXP_ERR_MAX + 1.0) * DBL_EPSILON);
        ck_assert_msg(fabs(y - k) <= tol, "exp(log %d) = %.17g (tol %.3g)", k, y, tol);
    }
}
END_TEST

MG_TEST_SUITE(fmath,
              {.name = "accuracy", .timeout_s = 120,
               .loops = (const mg_test_loop[]){
                   {accuracy, (int)(sizeof acc_cases / sizeof acc_cases[0])}, {NULL, 0}}},
              MG_TCASE("edges", 60, exp_special_values, log_special_values,
                       exp_log_roundtrip_integers))
