/* src/core/fmath.h: exp and log written out in plain IEEE arithmetic, for host and device.
 *
 * Why not libm / CUDA's exp: the results of this project must not depend on where a realization
 * runs. glibc's scalar exp, its vector variants (libmvec) and CUDA's exp may differ in the last
 * bit, and a last-bit difference in a hazard flips a spike draw now and then, after which two
 * runs of the same realization diverge. These functions use only +, -, *, /, fma, comparisons
 * and bit operations, which IEEE-754 defines exactly (fma is one rounding on both sides; the
 * build forbids implicit FMA contraction: -ffp-contract=off, nvcc -fmad=false). So the SIMD host
 * loop, a scalar host loop and a CUDA thread compute the same bits. They are branch-free so the
 * host loops vectorize.
 *
 * Method (textbook Cody & Waite argument reduction, W. J. Cody and W. Waite, "Software Manual for
 * the Elementary Functions", Prentice-Hall 1980):
 *   exp: x = k ln2 + r, |r| <= ln2/2, e^r by its Taylor series to degree 13 (truncation error
 *        < 4e-18 relative) evaluated by Estrin's scheme except for the two lowest orders,
 *        e^x = 2^k e^r; error below 1 ulp (tests/test_fmath.c measures it).
 *   log: x = 2^e m, m in [sqrt(1/2), sqrt(2)), log m = 2 atanh(s), s = (m-1)/(m+1), series to
 *        s^23 (|s| <= 0.172; truncation < 1e-18 relative); plus e ln2 in two parts.
 * Range: mg_exp(x) = 0 for x < -746, +inf for x > 710 (true values underflow / overflow there),
 * NaN for NaN; subnormal results are produced by the final IEEE multiply. mg_log(x): -inf at 0,
 * NaN below 0 or for NaN, +inf at +inf; subnormal x are handled. */
#ifndef MESOGIF_CORE_FMATH_H
#define MESOGIF_CORE_FMATH_H

#include "core/hd.h"
#include <math.h> /* fma */

#define MG_LN2_HI 6.93147180369123816490e-01 /* ln 2, upper 32 bits (k * hi is exact) */
#define MG_LN2_LO 1.90821492927058770002e-10 /* ln 2 - MG_LN2_HI */

static inline MG_HD double mg_pow2i(int64_t e) /* 2^e for -1022 <= e <= 1023 */
{
    return mg_double_of((uint64_t)(e + 1023) << 52);
}

/* e^xc = p 2^k for |xc| <= 746: returns p (in [0.7, 1.42]) and k. */
static inline MG_HD double mg_exp_reduced(double xc, int64_t *k_out)
{
    const double shifter = 6755399441055744.0; /* 1.5 * 2^52: adding it rounds to an integer */
    /* k + shifter, k = round(x / ln2); one rounding (explicit fma, the same on both sides) */
    double t = fma(xc, 1.4426950408889634074, shifter);
    double kd = t - shifter;
    *k_out = (int64_t)(mg_bits_of(t) - mg_bits_of(shifter)); /* k as integer, exactly */
    double r = fma(-kd, MG_LN2_HI, xc);
    r = fma(-kd, MG_LN2_LO, r);
    /* e^r = 1 + r (1 + r q), q = sum_{n=2..13} r^(n-2) / n!. q by Estrin's scheme (4 levels
     * deep instead of 11, so consecutive calls overlap in the pipeline), then the two lowest
     * orders by Horner: the rounding errors of q are scaled by r^2 <= 0.12 and the result has
     * one final rounding, so the error stays below 1 ulp (0.92 ulp measured). Estrin all the
     * way down to the constant term rounds four sums of size ~1 and gave 2.2 ulp. */
    double r2 = r * r, r4 = r2 * r2, r8 = r4 * r4;
    double a0 = fma(r, 1.0 / 6.0, 0.5);
    double a1 = fma(r, 1.0 / 120.0, 1.0 / 24.0);
    double a2 = fma(r, 1.0 / 5040.0, 1.0 / 720.0);
    double a3 = fma(r, 1.0 / 362880.0, 1.0 / 40320.0);
    double a4 = fma(r, 1.0 / 39916800.0, 1.0 / 3628800.0);
    double a5 = fma(r, 1.0 / 6227020800.0, 1.0 / 479001600.0);
    double b0 = fma(r2, a1, a0);
    double b1 = fma(r2, a3, a2);
    double b2 = fma(r2, a5, a4);
    double c0 = fma(r4, b1, b0);
    double q = fma(r8, b2, c0);
    double p = fma(fma(q, r, 1.0), r, 1.0);
    return p;
}

static inline MG_HD double mg_exp(double x)
{
    double xc = x < -746.0 ? -746.0 : x;       /* NaN compares false and passes through */
    xc = xc > 710.0 ? 710.0 : xc;
    int64_t k;
    double p = mg_exp_reduced(xc, &k);
    /* 2^k in two factors so that k = 1024 overflows and k < -1022 reaches the subnormals by
     * IEEE rounding instead of wrapping the exponent field */
    int64_t k1 = k / 2;
    return p * mg_pow2i(k1) * mg_pow2i(k - k1);
}

/* e^x for x in [-708, 708], which the caller guarantees (hot loops clamp once, where they
 * know their range): the result is a normal number, so one scaling multiply suffices.
 * Bitwise equal to mg_exp there (scaling by 2^k1 2^k2 or by 2^k is exact either way).
 * Outside that range the result is wrong: never call it unclamped. */
static inline MG_HD double mg_exp_mid(double x)
{
    int64_t k;
    double p = mg_exp_reduced(x, &k);
    return p * mg_pow2i(k);
}

static inline MG_HD double mg_log(double x)
{
    /* bring subnormals into the normal range first */
    int sub = x < 2.2250738585072014e-308;
    double xs = sub ? x * 18014398509481984.0 : x; /* * 2^54 */
    uint64_t b = mg_bits_of(xs);
    int64_t e = (int64_t)((b >> 52) & 0x7ff) - 1023 - (sub ? 54 : 0);
    double m = mg_double_of((b & 0x000fffffffffffffULL) | 0x3ff0000000000000ULL); /* [1,2) */
    int big = m > 1.4142135623730951;
    m = big ? 0.5 * m : m;
    e = big ? e + 1 : e;
    double s = (m - 1.0) / (m + 1.0);
    double s2 = s * s;
    double q = 1.0 / 23.0;
    q = fma(q, s2, 1.0 / 21.0);
    q = fma(q, s2, 1.0 / 19.0);
    q = fma(q, s2, 1.0 / 17.0);
    q = fma(q, s2, 1.0 / 15.0);
    q = fma(q, s2, 1.0 / 13.0);
    q = fma(q, s2, 1.0 / 11.0);
    q = fma(q, s2, 1.0 / 9.0);
    q = fma(q, s2, 1.0 / 7.0);
    q = fma(q, s2, 1.0 / 5.0);
    q = fma(q, s2, 1.0 / 3.0);
    double ed = (double)e;
    /* log m = 2 s + 2 s^3 q; add the small terms first */
    double lm = fma(2.0 * s * s2, q, ed * MG_LN2_LO);
    double res = (ed * MG_LN2_HI + 2.0 * s) + lm;
    /* special cases */
    res = x == 0.0 ? -HUGE_VAL : res;
    res = x == HUGE_VAL ? HUGE_VAL : res;
    res = (x < 0.0 || x != x) ? NAN : res;
    return res;
}

#endif /* MESOGIF_CORE_FMATH_H */
