/* src/core/binom.h: exact binomial and Poisson spike-count draws for host and device
 * (MODEL.md 2.5, step 8 of the meso update in 2.4).
 *
 * Distributions.
 *   Binomial(n, p):  P(X = k) = C(n, k) p^k (1-p)^(n-k), k = 0..n (the default count draw).
 *   "Poisson mode" (NEST gif_pop_psc_exp with BinoRand = false): min(Poisson(mean), n), with
 *   NEST's special cases for mean > n and for tiny means (see mg_poisson_count).
 *
 * Branches (every one is exercised by tests/test_binom.c against the exact pmf):
 *   mg_binom          dispatcher. n <= 0 -> 0; p NaN or p <= 0 -> 0; p >= 1 -> n;
 *                     p > 1/2 -> n - X with X ~ Binomial(n, 1-p) (1-p is exact there);
 *                     then, with p' = min(p, 1-p): n p' < MG_BINOM_INV_CUTOFF -> mg_binom_inv,
 *                     otherwise mg_binom_btrs.
 *   mg_binom_inv      inversion by sequential search from 0 with the pmf recursion
 *                     f(x) = f(x-1) (n-x+1)/x p/(1-p), f(0) = (1-p)^n (algorithm BINV of
 *                     V. Kachitvichyanukul and B. W. Schmeiser, "Binomial random variate
 *                     generation", Communications of the ACM 31 (1988) 216-222). Expected
 *                     cost n p' + 1 steps, so it serves small means; it is also the slow exact
 *                     reference the tests compare BTRS with (STYLE.md item 15).
 *   mg_binom_btrs     BTRS: transformed rejection with squeeze, W. Hoermann, "The generation of
 *                     binomial random variates", Journal of Statistical Computation and
 *                     Simulation 46 (1993) 101-110. Valid for n p >= 10, p <= 1/2; 1.34 iterations
 *                     per draw at n p = 10, 1.13 at n p = 1e5 (measured); the squeeze (no
 *                     log) accepts 40 % (n p = 10) to 79 % (n p = 1e5) of first tries.
 *   mg_poisson_count  NEST's draw_poisson: mean > n -> n; mean NaN or <= DBL_MIN -> 0; mean so
 *                     small that 1 - (mean+1) e^-mean (= P(X >= 2)) is not above DBL_MIN ->
 *                     Bernoulli(mean); otherwise Poisson(mean) clipped to [0, n]:
 *     mg_poisson_inv  inversion by sequential search (L. Devroye, "Non-Uniform Random Variate
 *                     Generation", Springer 1986, section X.3) for mean < MG_POISSON_INV_CUTOFF;
 *     mg_poisson_ptrs PTRS: W. Hoermann, "The transformed rejection method for generating
 *                     Poisson random variables", Insurance: Mathematics and Economics 12 (1993)
 *                     39-45, for mean >= 10 (1.33 iterations per draw at mean 10,
 *                     1.13 at mean 1e5, measured).
 *   mg_lfact          log k!: exact (correctly rounded) table for k < MG_LFACT_TABLE, Stirling's
 *                     series beyond (Abramowitz & Stegun 6.1.41), not libm's lgamma.
 *
 * Determinism. Only + - * / sqrt floor fabs and the mg_exp/mg_log of core/fmath.h are used, so a
 * draw is the same bits on the host (scalar or SIMD build) and on the device. Each draw is a pure
 * function of (the mg_rng's key, counter and buffered words, n, p): it consumes as many uniforms
 * from g as the algorithm needs (two 32-bit words per uniform; BTRS and PTRS use one Philox block
 * per iteration) and leaves g positioned after them.
 *
 * Accuracy. The rejection tests compare log(V ...) with log f(k) - log f(m) computed as a
 * difference of log-factorials of size ~n log n (Poisson: mean log mean), so their absolute
 * rounding error is about 1e-16 n log n: a relative pmf error of ~1e-11 at n = 1e4 and ~1e-5 at
 * n = 2^31, far below what any sample can detect. Counts must be exact integers in double: n <= MG_COUNT_MAX = 2^53
 * (a larger n is a caller bug; it is clamped only to keep the arithmetic defined).
 */
#ifndef MESOGIF_CORE_BINOM_H
#define MESOGIF_CORE_BINOM_H

#include "core/hd.h"    /* MG_HD */
#include "core/rng.h"   /* mg_rng, mg_rng_u01 */
#include "core/fmath.h" /* mg_exp, mg_log */
#include <math.h>       /* sqrt, floor, fabs */

/* n p' (p' = min(p, 1-p)) below which mg_binom inverts and at or above which it uses BTRS.
 * 10 is the lower end of the range for which Hoermann (1993) states that BTRS is valid (its
 * hat lies above the pmf for n p >= 10), so BTRS cannot be used lower; and the two cost about
 * the same there (host, N = 500, fresh generator per draw: inversion 60 ns, BTRS 56 ns at
 * n p = 10; equal near n p = 8), so there is no reason to invert higher. Not tunable below 10. */
#define MG_BINOM_INV_CUTOFF 10.0

/* Poisson mean below which mg_poisson_count inverts and at or above which it uses PTRS. 10 is
 * Hoermann's (1993) validity condition for PTRS; same reasoning as MG_BINOM_INV_CUTOFF. */
#define MG_POISSON_INV_CUTOFF 10.0

/* Largest count the samplers handle exactly: 2^53, the last integer from which every smaller
 * integer is a double. Rejection candidates at or above it are rejected before the conversion
 * to int64_t (which would otherwise overflow for the rare huge candidates produced when the
 * transformed uniform is within a few ulp of its pole). */
#define MG_COUNT_MAX 9007199254740992.0

/* Size of the log k! table: Stirling's series to 1/x^7 (x = k+1 >= 33 beyond it) has a
 * truncation error below 1/(1188 x^9) < 2e-17, i.e. under 1 ulp of log k! >= 81. */
#define MG_LFACT_TABLE 32

/* DBL_MIN (smallest normal double), spelled out so the header needs no <float.h> on the device;
 * NEST compares with std::numeric_limits<double>::min() in draw_poisson. */
#define MG_DBL_MIN 2.2250738585072014e-308

/* log k! for k >= 0 (k < 0 is a caller bug and returns 0). Exact table for small k, Stirling's
 * series for log Gamma(x), x = k+1: (x-1/2) log x - x + log(2 pi)/2 + 1/(12x) - 1/(360x^3)
 * + 1/(1260x^5) - 1/(1680x^7). Pure; table exact, series within a few ulp (the error of mg_log
 * scaled by log x / (log x - 1) <= 1.4; tests/test_binom.c bounds it by 1e-15 relative). */
static inline MG_HD double mg_lfact(int64_t k)
{
    /* log k!, k = 0..31, correctly rounded (computed with 50-digit decimal arithmetic) */
    static const double tab[MG_LFACT_TABLE] = {
        0.0, 0.0, 0.6931471805599453, 1.791759469228055, 3.1780538303479458,
        4.787491742782046, 6.579251212010101, 8.525161361065415, 10.60460290274525,
        12.801827480081469, 15.104412573075516, 17.502307845873887, 19.987214495661885,
        22.552163853123425, 25.19122118273868, 27.89927138384089, 30.671860106080672,
        33.50507345013689, 36.39544520803305, 39.339884187199495, 42.335616460753485,
        45.38013889847691, 48.47118135183523, 51.60667556776438, 54.78472939811232,
        58.00360522298052, 61.261701761002, 64.55753862700634, 67.88974313718154,
        71.25703896716801, 74.65823634883016, 78.0922235533153};
    if (k < MG_LFACT_TABLE)
        return k < 0 ? 0.0 : tab[k];
    double x = (double)k + 1.0;
    double ix = 1.0 / x;
    double ix2 = ix * ix;
    double corr = ix * (1.0 / 12.0 - ix2 * (1.0 / 360.0 - ix2 * (1.0 / 1260.0 - ix2 * (1.0 / 1680.0))));
    /* (x - 1/2) log x - x + log(2 pi)/2 = (x - 1/2)(log x - 1) + (log(2 pi) - 1)/2: no
     * cancellation between the two large terms (log x - 1 is exact) */
    return (x - 0.5) * (mg_log(x) - 1.0) + (0.4189385332046727 + corr);
}

/* log(1 - p) for 0 <= p < 1, accurate to a few ulp also for tiny p, where mg_log(1 - p) would
 * keep only the bits of p above 2^-53. Goldberg's trick: w = 1 - p rounded, then
 * log(1-p) = log(w) * (-p) / (w - 1) (w - 1 is exact); D. Goldberg, "What every computer
 * scientist should know about floating-point arithmetic", ACM Computing Surveys 23 (1991) 5-48,
 * Theorem 4. Pure. */
static inline MG_HD double mg_log1m(double p)
{
    double w = 1.0 - p;
    if (w == 1.0)
        return -p;
    return mg_log(w) * (-p / (w - 1.0));
}

/* BTRS draw of Binomial(n, p). Preconditions (not checked; mg_binom guarantees them):
 * 0 < p <= 1/2, n p >= 10, n <= MG_COUNT_MAX. Returns k in [0, n]. Consumes one Philox block
 * (two uniforms) per iteration. Deterministic, reentrant.
 * Hoermann (1993), algorithm BTRS, steps 1-5: U ~ U(-1/2, 1/2), V ~ U(0, 1),
 * us = 1/2 - |U|, k = floor((2a/us + b) U + c); accept at once in the squeeze region
 * (us >= 0.07 and V <= v_r); reject k outside [0, n]; otherwise accept when
 * log(V alpha / (a/us^2 + b)) <= log f(k) - log f(m), m the mode. The constants 1.15, 2.53,
 * 0.0873, 0.0248, 0.01, 2.83, 5.1, 0.92, 4.2, 0.07 are the paper's (fitted so the hat covers
 * the pmf for all n p >= 10): not tunable. */
static inline MG_HD int64_t mg_binom_btrs(mg_rng *g, int64_t n, double p)
{
    const double nd = (double)n;
    const double q = 1.0 - p;
    const double spq = sqrt(nd * p * q);
    const double b = 1.15 + 2.53 * spq;
    const double a = -0.0873 + 0.0248 * b + 0.01 * p;
    const double c = nd * p + 0.5;
    const double vr = 0.92 - 4.2 / b;
    /* The rest of the paper's setup (two log-factorials and a log) is needed only when the
     * squeeze fails (in 60 % of the draws at n p = 10, 21 % at n p = 1e5): computed on first
     * use. */
    int have_tail = 0;
    double alpha = 0.0, lpq = 0.0, h = 0.0;
    int64_t m = 0;
    for (;;) {
        double u = mg_rng_u01(g) - 0.5; /* exact; |u| <= 1/2 - 2^-53, so us > 0 */
        double v = mg_rng_u01(g);
        double us = 0.5 - fabs(u);
        double kd = floor((2.0 * a / us + b) * u + c);
        /* Outside [0, n] the pmf is 0: reject. Done before the squeeze (the paper checks after
         * it) only to keep the int64 conversion defined; the squeeze region lies inside [0, n]
         * for n p >= 10, so this changes no outcome. */
        if (kd < 0.0 || kd > nd)
            continue;
        int64_t k = (int64_t)kd;
        if (us >= 0.07 && v <= vr)
            return k;
        if (!have_tail) {
            alpha = (2.83 + 5.1 / b) * spq;
            lpq = mg_log(p / q);
            m = (int64_t)floor((nd + 1.0) * p);
            h = mg_lfact(m) + mg_lfact(n - m);
            have_tail = 1;
        }
        v = v * alpha / (a / (us * us) + b);
        if (mg_log(v) <= h - mg_lfact(k) - mg_lfact(n - k) + (double)(k - m) * lpq)
            return k;
    }
}

/* Binomial(n, p) by inversion (sequential search from 0). Preconditions: 0 < p < 1,
 * 1 <= n <= MG_COUNT_MAX. Works on p' = min(p, 1-p) and mirrors (n - x) for p > 1/2. Exact
 * (up to rounding) for any n p' for which f(0) = (1-p')^n is a normal double, i.e.
 * n log(1/(1-p')) < 708 (so at least for n p' < 511); the cost is n p' + 1 steps, so mg_binom uses it
 * below MG_BINOM_INV_CUTOFF only. Beyond that domain (never reached from mg_binom) it draws by
 * BTRS, which is valid there because n p' >= 708 / log 4 > 10. Consumes one uniform per try.
 * Deterministic, reentrant. */
static inline MG_HD int64_t mg_binom_inv(mg_rng *g, int64_t n, double p)
{
    const int mirror = p > 0.5;
    const double pp = mirror ? 1.0 - p : p; /* exact for p in [1/2, 1] (Sterbenz) */
    const double nd = (double)n;
    const double s = pp / (1.0 - pp);
    const double a = (nd + 1.0) * s; /* f(x) = f(x-1) (a/x - s) */
    const double f0 = mg_exp(nd * mg_log1m(pp));
    int64_t x;
    if (!(f0 >= MG_DBL_MIN)) {
        x = mg_binom_btrs(g, n, pp);
    } else {
        for (;;) {
            double u = mg_rng_u01(g);
            double f = f0;
            int found = 0;
            x = 0;
            for (;;) {
                if (u < f) {
                    found = 1;
                    break;
                }
                u -= f;
                /* Ran off the end of the numerically summed cdf: u (at most 1 - 2^-53) is
                 * above the rounded sum of all pmf terms, or the terms have underflowed to 0.
                 * Happens with probability ~1e-16. Retrying with a new uniform conditions on
                 * u < (computed total), i.e. samples the computed pmf renormalized; clamping
                 * to x would instead pile the deficit onto one value. */
                if (x == n || !(f > 0.0))
                    break;
                x += 1;
                f *= a / (double)x - s;
            }
            if (found)
                break;
        }
    }
    return mirror ? n - x : x;
}

/* Binomial(n, p) for any n and p (the count draw of MODEL.md 2.5; callers need not clamp p).
 * n <= 0 -> 0; p NaN or p <= 0 -> 0; p >= 1 -> n (as NEST's draw_binomial); otherwise an exact
 * draw by inversion (n p' < MG_BINOM_INV_CUTOFF, p' = min(p, 1-p)) or BTRS, mirrored for
 * p > 1/2. n above MG_COUNT_MAX is a caller bug (clamped). Returns k in [0, n]. Deterministic,
 * reentrant; consumes a variable number of uniforms from g. */
static inline MG_HD int64_t mg_binom(mg_rng *g, int64_t n, double p)
{
    if (n <= 0 || !(p > 0.0))
        return 0;
    if (p >= 1.0)
        return n;
    if (n > (int64_t)MG_COUNT_MAX)
        n = (int64_t)MG_COUNT_MAX;
    const int mirror = p > 0.5;
    const double pp = mirror ? 1.0 - p : p; /* exact */
    int64_t x = (double)n * pp < MG_BINOM_INV_CUTOFF ? mg_binom_inv(g, n, pp)
                                                    : mg_binom_btrs(g, n, pp);
    return mirror ? n - x : x;
}

/* min(Poisson(mean), n) by inversion. Preconditions: 0 < mean < ~700 (e^-mean a normal
 * double; mg_poisson_count uses it below MG_POISSON_INV_CUTOFF), n >= 1. Reaching x = n ends
 * the search with n whatever u is: the whole mass P(X >= n) goes to n, which is exactly the
 * clipping of MODEL.md 2.5. Consumes one uniform per try. Deterministic, reentrant. */
static inline MG_HD int64_t mg_poisson_inv(mg_rng *g, double mean, int64_t n)
{
    const double f0 = mg_exp(-mean);
    for (;;) {
        double u = mg_rng_u01(g);
        double f = f0;
        int64_t x = 0;
        for (;;) {
            if (x == n || u < f)
                return x;
            u -= f;
            /* Ran off the numerically summed cdf (terms underflowed to 0 before u was used up;
             * probability ~1e-16): retry, as in mg_binom_inv. */
            if (!(f > 0.0))
                break;
            x += 1;
            f *= mean / (double)x;
        }
    }
}

/* min(Poisson(mean), n) by PTRS. Preconditions: 10 <= mean <= n <= MG_COUNT_MAX. One Philox
 * block per iteration. Deterministic, reentrant.
 * Hoermann (1993), algorithm PTRS: U ~ U(-1/2, 1/2), V ~ U(0, 1), us = 1/2 - |U|,
 * k = floor((2a/us + b) U + mean + 0.43); accept at once if us >= 0.07 and V <= v_r; reject
 * k < 0 and the corner us < 0.013, V > us; otherwise accept when
 * log(V inv_alpha / (a/us^2 + b)) <= -mean + k log(mean) - log k!. The constants (0.931, 2.53,
 * 0.059, 0.02483, 1.1239, 1.1328, 3.4, 0.9277, 3.6224, 0.43, 0.07, 0.013) are the paper's: not
 * tunable. */
static inline MG_HD int64_t mg_poisson_ptrs(mg_rng *g, double mean, int64_t n)
{
    const double slam = sqrt(mean);
    const double b = 0.931 + 2.53 * slam;
    const double a = -0.059 + 0.02483 * b;
    const double inv_alpha = 1.1239 + 1.1328 / (b - 3.4);
    const double vr = 0.9277 - 3.6224 / (b - 2.0);
    double loglam = 0.0; /* log(mean), computed on first use (needed when the squeeze fails) */
    int have_log = 0;
    for (;;) {
        double u = mg_rng_u01(g) - 0.5; /* exact; us > 0 */
        double v = mg_rng_u01(g);
        double us = 0.5 - fabs(u);
        double kd = floor((2.0 * a / us + b) * u + mean + 0.43);
        /* k < 0 has probability 0. k >= 2^53 (only when us is within a few ulp of 0) would
         * overflow the integer conversion; for mean <= 2^52 its Poisson probability is below
         * exp(-0.19 * 2^53) (Chernoff), so rejecting it changes nothing. (Above 2^52 this
         * truncates the far tail; such counts are not exact doubles anyway.) */
        if (kd < 0.0 || kd >= MG_COUNT_MAX)
            continue;
        int64_t k = (int64_t)kd;
        if (us >= 0.07 && v <= vr)
            return k < n ? k : n;
        if (us < 0.013 && v > us)
            continue;
        if (!have_log) {
            loglam = mg_log(mean);
            have_log = 1;
        }
        if (mg_log(v * inv_alpha / (a / (us * us) + b)) <= -mean + (double)k * loglam - mg_lfact(k))
            return k < n ? k : n;
    }
}

/* Spike count in NEST's Poisson mode (gif_pop_psc_exp, BinoRand = false; MODEL.md 2.5):
 *   n <= 0                                   -> 0
 *   mean > n (also mean = +inf)              -> n
 *   mean NaN or mean <= DBL_MIN              -> 0
 *   1 - (mean+1) e^-mean <= DBL_MIN          -> Bernoulli(mean): 1 if u < mean, else 0.
 *       P(X >= 2) = 1 - (mean+1) e^-mean is then lost to rounding (mean below ~1e-8), and NEST
 *       switches to a Bernoulli draw, which keeps P(X = 1) = mean to first order.
 *   otherwise min(Poisson(mean), n): inversion for mean < MG_POISSON_INV_CUTOFF, PTRS above.
 * The tests are NEST's, in its order, with mg_exp for std::exp. Returns a count in [0, n].
 * Deterministic, reentrant; consumes a variable number of uniforms from g. */
static inline MG_HD int64_t mg_poisson_count(mg_rng *g, double mean, int64_t n)
{
    if (n <= 0)
        return 0;
    if (n > (int64_t)MG_COUNT_MAX)
        n = (int64_t)MG_COUNT_MAX;
    if (mean > (double)n)
        return n;
    if (!(mean > MG_DBL_MIN))
        return 0;
    if (!(1.0 - (mean + 1.0) * mg_exp(-mean) > MG_DBL_MIN))
        return mg_rng_u01(g) < mean ? 1 : 0;
    return mean < MG_POISSON_INV_CUTOFF ? mg_poisson_inv(g, mean, n) : mg_poisson_ptrs(g, mean, n);
}

#endif /* MESOGIF_CORE_BINOM_H */
