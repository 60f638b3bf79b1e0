/* tests/test_rng.c: the counter-based random numbers of src/core/rng.h.
 *
 * core:  Philox4x32-10 known-answer vectors (Random123's tests/kat_vectors, the three
 *        "philox4x32 10" lines), word order of mg_rng_u32 across blocks, counter layout.
 * edges: mg_u01_from at its extremes (never 0, never 1, exact values), which bits it uses.
 * stats: uniformity of mg_rng_u01 (1-D, low bits, serial pairs) and independence of generators
 *        whose counters or keys differ in one coordinate (seed, stream, realization, unit, step).
 * Every statistical test uses a fixed key, so its outcome is fixed; the false-failure rate
 * stated for each is the probability that a correct generator fails it, i.e. the chance that
 * the fixed key happens to be an unlucky one. Set MG_TEST_VERBOSE=1 to print the statistics. */
#include "testutil.h"
#include "core/rng.h" /* mg_rng, mg_philox_block, mg_u01_from */

#include <gsl/gsl_cdf.h> /* gsl_cdf_chisq_Q */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

/* Chi-square tests here fail when the p-value is below this: false-failure rate 1e-6 each. */
#define P_FAIL 1e-6

/* ---- known answers ------------------------------------------------------------------------ */

/* Random123 (D. E. Shaw Research), tests/kat_vectors, lines "philox4x32 10": counter (4 words),
 * key (2 words), expected output (4 words). The same three lines appear verbatim in several
 * independent ports; the last uses the hexadecimal digits of pi as input. */
static const uint32_t kat[3][10] = {
    {0x00000000, 0x00000000, 0x00000000, 0x00000000, 0x00000000, 0x00000000,
     0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8},
    {0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff,
     0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd},
    {0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344, 0xa4093822, 0x299f31d0,
     0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1}};

START_TEST(philox_known_answers)
{
    for (int i = 0; i < 3; i++) {
        const uint32_t *v = kat[i];
        /* mg_philox_block(seed = key word 0, stream = key word 1, counter words 0..3) */
        philox4x32_ctr_t out = mg_philox_block(v[4], v[5], v[0], v[1], v[2], v[3]);
        for (int j = 0; j < 4; j++)
            ck_assert_msg(out.v[j] == v[6 + j],
                          "Philox4x32-10 KAT %d word %d: got %08x, Random123 says %08x", i, j,
                          out.v[j], v[6 + j]);
    }
}
END_TEST

START_TEST(rng_u32_block_order)
{
    /* mg_rng_u32 returns words 0..3 of block (r, u, s, draw = 0), then of draw = 1, ... */
    const uint32_t seed = 12345, stream = MG_STREAM_TEST, r = 7, u = 3, s = 1000000;
    mg_rng g;
    mg_rng_init(&g, seed, stream, r, u, s);
    for (uint32_t d = 0; d < 5; d++) {
        philox4x32_ctr_t blk = mg_philox_block(seed, stream, r, u, s, d);
        for (int j = 0; j < 4; j++) {
            uint32_t w = mg_rng_u32(&g);
            ck_assert_msg(w == blk.v[j], "word %d of draw block %u in order", j, d);
        }
        ck_assert_msg(g.ctr.v[3] == d + 1, "draw counter advanced to %u", d + 1);
    }
    /* the counter/key layout of mg_rng_init: (realization, unit, step, draw), (seed, stream) */
    mg_rng h;
    mg_rng_init(&h, seed, stream, r, u, s);
    ck_assert(h.ctr.v[0] == r && h.ctr.v[1] == u && h.ctr.v[2] == s && h.ctr.v[3] == 0);
    ck_assert(h.key.v[0] == seed && h.key.v[1] == stream);
}
END_TEST

START_TEST(rng_u01_uses_words_in_order)
{
    /* mg_rng_u01 = mg_u01_from(first word, second word); two uniforms per block */
    mg_rng g, h;
    mg_rng_init(&g, 1, MG_STREAM_TEST, 0, 0, 0);
    mg_rng_init(&h, 1, MG_STREAM_TEST, 0, 0, 0);
    for (int i = 0; i < 16; i++) {
        uint32_t hi = mg_rng_u32(&h);
        uint32_t lo = mg_rng_u32(&h);
        ck_assert_msg(mg_rng_u01(&g) == mg_u01_from(hi, lo), "uniform %d = u01(w[2i], w[2i+1])", i);
    }
}
END_TEST

START_TEST(rng_pure_in_counter)
{
    /* two generators with the same (seed, stream, realization, unit, step) give the same
     * stream, whatever was drawn elsewhere in between */
    for (uint32_t s = 0; s < 1000; s++) {
        mg_rng a, b, other;
        mg_rng_init(&a, 99, MG_STREAM_MESO_COUNT, 5, 2, s);
        mg_rng_init(&other, 99, MG_STREAM_MESO_COUNT, 5, 2, s + 1);
        for (int i = 0; i < 7; i++)
            (void)mg_rng_u32(&other);
        mg_rng_init(&b, 99, MG_STREAM_MESO_COUNT, 5, 2, s);
        for (int i = 0; i < 9; i++)
            ck_assert(mg_rng_u32(&a) == mg_rng_u32(&b));
    }
}
END_TEST

/* ---- mg_u01_from edges -------------------------------------------------------------------- */

START_TEST(u01_extremes)
{
    const double two_m52 = 1.0 / 4503599627370496.0; /* 2^-52 */
    double lo = mg_u01_from(0u, 0u);
    double hi = mg_u01_from(0xffffffffu, 0xffffffffu);
    ck_assert_msg(lo == 0.5 * two_m52, "smallest uniform is 2^-53 (got %.17g)", lo);
    ck_assert_msg(hi == 1.0 - 0.5 * two_m52, "largest uniform is 1 - 2^-53 (got %.17g)", hi);
    ck_assert_msg(lo > 0.0 && hi < 1.0, "open interval (0, 1)");
    ck_assert_msg(1.0 - hi > 0.0 && isfinite(log(lo)) && isfinite(log(1.0 - hi)),
                  "log(u) and log(1 - u) finite at both extremes");
    /* exact values: (k + 1/2) 2^-52 with k = hi << 20 | lo >> 12 */
    ck_assert(mg_u01_from(0u, 0x1000u) == 1.5 * two_m52);
    ck_assert(mg_u01_from(0x80000000u, 0u) == 0.5 + 0.5 * two_m52);
    ck_assert(mg_u01_from(0x00000001u, 0u) == ((double)(1u << 20) + 0.5) * two_m52);
    /* the low 12 bits of the second word are dropped (52 bits used) */
    for (uint32_t l = 0; l < 0x1000u; l++)
        ck_assert(mg_u01_from(0x12345678u, 0xabcde000u | l) == mg_u01_from(0x12345678u, 0xabcde000u));
    /* strictly increasing in the 52 used bits */
    ck_assert(mg_u01_from(0u, 0x1000u) > mg_u01_from(0u, 0xfffu));
    ck_assert(mg_u01_from(1u, 0u) > mg_u01_from(0u, 0xffffffffu));
    ck_assert(mg_u01_from(0xffffffffu, 0xffffe000u) < mg_u01_from(0xffffffffu, 0xfffff000u));
}
END_TEST

START_TEST(u01_never_outside_open_interval)
{
    /* 4e6 draws: all in (0, 1) and the sample min/max plausible */
    mg_rng g;
    mg_rng_init(&g, 3, MG_STREAM_TEST, 0, 0, 0);
    double mn = 1.0, mx = 0.0;
    for (long i = 0; i < 4000000; i++) {
        double u = mg_rng_u01(&g);
        ck_assert(u > 0.0 && u < 1.0);
        mn = u < mn ? u : mn;
        mx = u > mx ? u : mx;
    }
    /* P(min > 5e-6) = (1 - 5e-6)^4e6 = e^-20: false-failure rate 2e-9 for each bound */
    ck_assert_msg(mn < 5e-6 && mx > 1.0 - 5e-6, "extremes reached: min %.3g max 1-%.3g", mn, 1.0 - mx);
}
END_TEST

/* ---- uniformity --------------------------------------------------------------------------- */

/* chi-square p-value of counts against equal expected counts */
static double chisq_equal(const long *cnt, int nbins, long total, double *chi2_out)
{
    double e = (double)total / nbins, chi2 = 0.0;
    for (int i = 0; i < nbins; i++)
        chi2 += ((double)cnt[i] - e) * ((double)cnt[i] - e) / e;
    *chi2_out = chi2;
    return gsl_cdf_chisq_Q(chi2, nbins - 1);
}

static void check_chisq(const char *what, const long *cnt, int nbins, long total)
{
    double chi2;
    double pv = chisq_equal(cnt, nbins, total, &chi2);
    if (mg_test_verbose()) {
        printf("%-58s chi2 = %9.1f dof = %5d p = %.3g\n", what, chi2, nbins - 1, pv);
        fflush(stdout);
    }
    ck_assert_msg(pv >= P_FAIL, "%s: chi2 = %.1f, dof = %d, p = %.3g < %g", what, chi2, nbins - 1,
                  pv, P_FAIL);
}

/* Uniformity of mg_rng_u01: 1e6 draws (or pairs) of each case into nb bins, checked by
 * check_chisq: false-failure rate 1e-6 per case. */
enum { U01_ONE_STREAM, U01_ACROSS_STEPS, U01_LOW_BITS, U01_PAIRS };
static const struct {
    const char *what;
    int nb;
    uint32_t seed;
} u01_cases[] = {
    /* 1e6 consecutive uniforms of one generator (draw counter 0..5e5), expected 1000 per bin */
    [U01_ONE_STREAM] = {"u01: 1e6 from one generator, 1000 bins", 1000, 11},
    /* the simulation pattern: a fresh generator per step, first uniform of each */
    [U01_ACROSS_STEPS] = {"u01: first uniform of 1e6 steps, 1000 bins", 1000, 11},
    /* the 10 lowest of the 52 bits (from the second word) */
    [U01_LOW_BITS] = {"u01: lowest 10 of 52 bits, 1024 bins", 1024, 12},
    /* consecutive pairs (u_2i, u_2i+1) of one generator in a 32 x 32 grid: 977 per cell */
    [U01_PAIRS] = {"u01: serial pairs, 32x32 grid", 32 * 32, 13},
};

/* The bin of draw i of case k, from g. */
static int u01_bin(int k, mg_rng *g, long i)
{
    switch (k) {
    case U01_ACROSS_STEPS:
        mg_rng_init(g, u01_cases[k].seed, MG_STREAM_MESO_COUNT, 3, 1, (uint32_t)i);
        return (int)(mg_rng_u01(g) * 1000);
    case U01_LOW_BITS: {
        uint64_t b = (uint64_t)(mg_rng_u01(g) * 4503599627370496.0); /* (k + 1/2) -> k, exact */
        return (int)(b & 1023);
    }
    case U01_PAIRS: {
        int a = (int)(mg_rng_u01(g) * 32);
        return a * 32 + (int)(mg_rng_u01(g) * 32);
    }
    default:
        return (int)(mg_rng_u01(g) * 1000);
    }
}

START_TEST(u01_uniform)
{
    static long cnt[1024];
    memset(cnt, 0, sizeof cnt);
    const long D = 1000000;
    mg_rng g;
    mg_rng_init(&g, u01_cases[_i].seed, MG_STREAM_TEST, 0, 0, 0);
    for (long i = 0; i < D; i++)
        cnt[u01_bin(_i, &g, i)]++;
    check_chisq(u01_cases[_i].what, cnt, u01_cases[_i].nb, D);
}
END_TEST

/* ---- independence of different counters and keys ---------------------------------------- */

/* Coordinate j of (seed, stream, realization, unit, step) plus delta. */
static void init_shift(mg_rng *g, uint32_t base, int j, uint32_t delta)
{
    uint32_t c[5] = {77, MG_STREAM_TEST, base, 5, 1000 + base};
    c[j] += delta;
    mg_rng_init(g, c[0], c[1], c[2], c[3], c[4]);
}

static const char *coord_name[5] = {"seed", "stream", "realization", "unit", "step"};

START_TEST(neighbour_streams_differ)
{
    /* generators one apart in any coordinate give different words; one chance coincidence
     * (probability 2^-32 per word) is allowed in 8 words, two have probability 28 * 2^-64 per
     * pair: false-failure rate 1e-14 over the 5000 pairs */
    for (uint32_t base = 0; base < 1000; base++) {
        for (int j = 0; j < 5; j++) {
            mg_rng a, b;
            init_shift(&a, base, j, 0);
            init_shift(&b, base, j, 1);
            int same = 0;
            for (int i = 0; i < 8; i++)
                same += mg_rng_u32(&a) == mg_rng_u32(&b);
            ck_assert_msg(same <= 1, "%s and %s+1 give %d equal words of 8", coord_name[j],
                          coord_name[j], same);
        }
    }
}
END_TEST

START_TEST(neighbour_streams_independent)
{
    /* _i = coordinate. Joint histogram of (first uniform of generator c, first uniform of
     * generator c + e_i) over 1e6 base counters, 32 x 32 grid: a dependence between
     * neighbouring counters would show as a non-uniform grid. False-failure rate 1e-6 per
     * coordinate. */
    enum { NB = 32 };
    static long cnt[NB * NB];
    const long D = 1000000;
    int j = _i;
    for (long i = 0; i < NB * NB; i++)
        cnt[i] = 0;
    for (long i = 0; i < D; i++) {
        mg_rng a, b;
        init_shift(&a, (uint32_t)i, j, 0);
        init_shift(&b, (uint32_t)i, j, 1);
        int x = (int)(mg_rng_u01(&a) * NB);
        int y = (int)(mg_rng_u01(&b) * NB);
        cnt[x * NB + y]++;
    }
    char what[80];
    snprintf(what, sizeof what, "pairs (counter, counter + 1 in %s), 32x32", coord_name[j]);
    check_chisq(what, cnt, NB * NB, D);
}
END_TEST

START_TEST(distinct_counters_distinct_outputs)
{
    /* 2e5 counters (realization x step): all first 64-bit outputs distinct (birthday bound for
     * 64-bit values: collision probability 2e10 / 2^65 = 1e-9) */
    enum { R = 200, S = 1000 };
    static uint64_t w[R * S];
    for (uint32_t r = 0; r < R; r++)
        for (uint32_t s = 0; s < S; s++) {
            mg_rng g;
            mg_rng_init(&g, 5, MG_STREAM_MESO_COUNT, r, 0, s);
            uint64_t hi = mg_rng_u32(&g);
            w[r * S + s] = hi << 32 | mg_rng_u32(&g);
        }
    /* sort (shell sort: no libc comparator needed) and look for neighbours */
    long n = (long)R * S;
    for (long gap = n / 2; gap > 0; gap /= 2)
        for (long i = gap; i < n; i++) {
            uint64_t t = w[i];
            long k = i;
            for (; k >= gap && w[k - gap] > t; k -= gap)
                w[k] = w[k - gap];
            w[k] = t;
        }
    for (long i = 1; i < n; i++)
        ck_assert_msg(w[i] != w[i - 1], "two counters gave the same 64-bit output");
}
END_TEST

MG_TEST_SUITE(rng,
              MG_TCASE("core", 0, philox_known_answers, rng_u32_block_order,
                       rng_u01_uses_words_in_order, rng_pure_in_counter),
              MG_TCASE("edges", 60, u01_extremes, u01_never_outside_open_interval),
              {.name = "stats", .timeout_s = 120,
               .tests = MG_TESTS(neighbour_streams_differ, distinct_counters_distinct_outputs),
               .loops = (const mg_test_loop[]){{u01_uniform, 4},
                                               {neighbour_streams_independent, 5},
                                               {NULL, 0}}})
