/* tests/test_binom.c: the exact count samplers of src/core/binom.h against exact pmfs.
 *
 * Oracle: GSL's gsl_ran_binomial_pdf / gsl_ran_poisson_pdf and the matching cdfs
 * (gsl_cdf_binomial_P/Q, gsl_cdf_poisson_P/Q): independent code, computed through lgamma.
 *
 * stats (chi-square): each case draws D = 1e6 values, one fresh generator per draw with counter
 * (realization = case, unit = sampler, step = draw index), as the simulation uses them. The
 * values are binned over a window of about +-10 sd around the mean, the mass outside the window
 * goes to the two end bins, and neighbouring bins are pooled from the left until each expected
 * count is >= 5 (a remainder joins the last bin). dof = bins - 1 (nothing is fitted). A case
 * fails if the chi-square p-value is < 1e-6: false-failure rate 1e-6 per case, about 6e-5 for
 * the 58 cases of this file together (union bound). Every value must also lie in [0, n].
 * The grid covers every branch of binom.h: p = 1e-4 .. 0.5 and p > 0.5 (mirror) at N = 500,
 * n p just below and above MG_BINOM_INV_CUTOFF, N = 1, 2, 5, N = 1e6 and N = 2^31, the
 * Poisson mode below and above MG_POISSON_INV_CUTOFF and with clipping at n.
 * stats (moments): sample mean and variance of 1e6 draws on large cases, z-score < 5.33
 * (two-sided false-failure rate 1e-7 each).
 * edges: exact outputs (p = 0, p = 1, NaN, n <= 0, mean > n, ...), the run-off retry of both
 * inversions, the huge rejected candidates of BTRS and PTRS, the Bernoulli branch.
 * core: purity (same counter, same draw) and a pinned checksum of the streams.
 * Set MG_TEST_VERBOSE=1 to print every case's statistic. */
#include "testutil.h"
#include "core/binom.h" /* mg_binom, mg_binom_inv, mg_binom_btrs, mg_poisson_count */

#include <gsl/gsl_cdf.h>
#include <gsl/gsl_randist.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#define SEED 20240601u
#define D_CHI2 1000000L
#define P_FAIL 1e-6
#define Z_FAIL 5.33 /* two-sided normal tail 9.8e-8 */
#define N31 2147483648LL /* 2^31 */

/* ---- samplers under test: one signature ----------------------------------------------------- */

typedef int64_t (*sampler_fn)(mg_rng *g, int64_t n, double p);

static int64_t s_binom(mg_rng *g, int64_t n, double p) { return mg_binom(g, n, p); }
static int64_t s_inv(mg_rng *g, int64_t n, double p) { return mg_binom_inv(g, n, p); }
static int64_t s_btrs(mg_rng *g, int64_t n, double p) { return mg_binom_btrs(g, n, p); }
/* Poisson mode: p carries the mean */
static int64_t s_pois(mg_rng *g, int64_t n, double mean) { return mg_poisson_count(g, mean, n); }

enum { K_BINOM = 0, K_INV = 1, K_BTRS = 2, K_POIS = 3 };
static const sampler_fn sampler[4] = {s_binom, s_inv, s_btrs, s_pois};
static const char *sampler_name[4] = {"mg_binom", "mg_binom_inv", "mg_binom_btrs",
                                      "mg_poisson_count"};

/* ---- expected distribution on a window -------------------------------------------------- */

/* P(X = k) for lo <= k <= hi in prob[k - lo]; below = P(X < lo), above = P(X > hi). */
typedef struct {
    int64_t lo, hi;
    double *prob;
    double below, above;
} dist;

static void window(double mean, double sd, int64_t n, int64_t *lo, int64_t *hi)
{
    double l = floor(mean - 10.0 * sd - 10.0), h = ceil(mean + 10.0 * sd + 10.0);
    *lo = l < 0.0 ? 0 : (int64_t)l;
    *hi = h > (double)n ? n : (int64_t)h;
}

/* Binomial(n, p), 0 < p < 1, n < 2^32 (GSL takes unsigned int) */
static dist binom_dist(int64_t n, double p)
{
    dist d;
    double mean = (double)n * p, sd = sqrt((double)n * p * (1.0 - p));
    window(mean, sd, n, &d.lo, &d.hi);
    d.prob = malloc((size_t)(d.hi - d.lo + 1) * sizeof *d.prob);
    ck_assert(d.prob != NULL);
    for (int64_t k = d.lo; k <= d.hi; k++)
        d.prob[k - d.lo] = gsl_ran_binomial_pdf((unsigned)k, p, (unsigned)n);
    d.below = d.lo > 0 ? gsl_cdf_binomial_P((unsigned)(d.lo - 1), p, (unsigned)n) : 0.0;
    d.above = d.hi < n ? gsl_cdf_binomial_Q((unsigned)d.hi, p, (unsigned)n) : 0.0;
    return d;
}

/* min(Poisson(mean), n) */
static dist pois_dist(double mean, int64_t n)
{
    dist d;
    window(mean, sqrt(mean), n, &d.lo, &d.hi);
    d.prob = malloc((size_t)(d.hi - d.lo + 1) * sizeof *d.prob);
    ck_assert(d.prob != NULL);
    for (int64_t k = d.lo; k <= d.hi; k++)
        d.prob[k - d.lo] = gsl_ran_poisson_pdf((unsigned)k, mean);
    if (d.hi == n) /* clipping: all of P(X >= n) at n */
        d.prob[n - d.lo] = gsl_cdf_poisson_Q((unsigned)(n - 1), mean);
    d.below = d.lo > 0 ? gsl_cdf_poisson_P((unsigned)(d.lo - 1), mean) : 0.0;
    d.above = d.hi < n ? gsl_cdf_poisson_Q((unsigned)d.hi, mean) : 0.0;
    return d;
}

/* ---- chi-square against a dist ---------------------------------------------------------- */

typedef struct {
    int kind;      /* K_BINOM ... */
    int64_t n;
    double p;      /* probability, or the mean for K_POIS */
    const char *why;
} chi_case;

/* Draw D values with sampler `kind` and counters (realization = case_id, unit = kind, step =
 * draw); chi-square against d. Fails on a value outside [0, n] or p-value < P_FAIL. */
static void run_chi2(const chi_case *c, int case_id, const dist *d)
{
    int64_t w = d->hi - d->lo + 1;
    /* cells: 0 = below the window, 1..w = window, w+1 = above */
    long *obs = calloc((size_t)(w + 2), sizeof *obs);
    ck_assert(obs != NULL);
    for (long i = 0; i < D_CHI2; i++) {
        mg_rng g;
        mg_rng_init(&g, SEED, MG_STREAM_TEST, (uint32_t)case_id, (uint32_t)c->kind, (uint32_t)i);
        int64_t x = sampler[c->kind](&g, c->n, c->p);
        if (x < 0 || x > c->n)
            ck_abort_msg("%s(n=%lld, p=%g) returned %lld outside [0, n]", sampler_name[c->kind],
                         (long long)c->n, c->p, (long long)x);
        obs[x < d->lo ? 0 : x > d->hi ? w + 1 : x - d->lo + 1]++;
    }
    /* pool from the left until expected >= 5 */
    double chi2 = 0.0, e_acc = 0.0, o_acc = 0.0, last_e = 0.0, last_o = 0.0;
    int bins = 0;
    for (int64_t i = 0; i < w + 2; i++) {
        double pr = i == 0 ? d->below : i == w + 1 ? d->above : d->prob[i - 1];
        e_acc += pr * (double)D_CHI2;
        o_acc += (double)obs[i];
        if (e_acc >= 5.0) {
            if (bins > 0)
                chi2 += (last_o - last_e) * (last_o - last_e) / last_e;
            last_e = e_acc;
            last_o = o_acc;
            bins++;
            e_acc = o_acc = 0.0;
        }
    }
    /* the remainder (expected < 5) joins the last bin */
    last_e += e_acc;
    last_o += o_acc;
    if (bins > 0)
        chi2 += (last_o - last_e) * (last_o - last_e) / last_e;
    free(obs);
    ck_assert_msg(bins >= 2, "case %d has fewer than 2 bins: choose other parameters", case_id);
    double pv = gsl_cdf_chisq_Q(chi2, bins - 1);
    if (mg_test_verbose()) {
        printf("%-17s n=%-11lld p=%-10.4g %-26s chi2=%9.1f dof=%6d p=%.3g\n",
               sampler_name[c->kind], (long long)c->n, c->p, c->why, chi2, bins - 1, pv);
        fflush(stdout);
    }
    ck_assert_msg(pv >= P_FAIL, "%s(n=%lld, p=%g) [%s] vs exact pmf: chi2=%.1f dof=%d p=%.3g",
                  sampler_name[c->kind], (long long)c->n, c->p, c->why, chi2, bins - 1, pv);
}

/* ---- the grid --------------------------------------------------------------------------- */

static const chi_case cases[] = {
    /* mg_binom, N = 500 */
    {K_BINOM, 500, 1e-4, "Np=0.05 inversion"},
    {K_BINOM, 500, 1e-3, "Np=0.5 inversion"},
    {K_BINOM, 500, 0.01, "Np=5 inversion"},
    {K_BINOM, 500, 0.0199, "Np=9.95 inversion"},
    {K_BINOM, 500, 0.0201, "Np=10.05 BTRS"},
    {K_BINOM, 500, 0.05, "Np=25 BTRS"},
    {K_BINOM, 500, 0.1, "Np=50 BTRS"},
    {K_BINOM, 500, 0.3, "Np=150 BTRS"},
    {K_BINOM, 500, 0.5, "Np=250 BTRS"},
    {K_BINOM, 500, 0.7, "mirror BTRS"},
    {K_BINOM, 500, 0.9799, "mirror Nq=10.05 BTRS"},
    {K_BINOM, 500, 0.9801, "mirror Nq=9.95 inversion"},
    {K_BINOM, 500, 0.9999, "mirror Nq=0.05 inversion"},
    /* at the switch with p = 1/2 */
    {K_BINOM, 19, 0.5, "Np=9.5 inversion"},
    {K_BINOM, 20, 0.5, "Np=10 BTRS (at cutoff)"},
    {K_BINOM, 21, 0.5, "Np=10.5 BTRS"},
    /* small N */
    {K_BINOM, 1, 0.3, "N=1"},
    {K_BINOM, 1, 0.9, "N=1 mirror"},
    {K_BINOM, 2, 0.5, "N=2"},
    {K_BINOM, 2, 0.01, "N=2 small p"},
    {K_BINOM, 5, 0.3, "N=5"},
    {K_BINOM, 5, 0.9, "N=5 mirror"},
    /* large N */
    {K_BINOM, 1000000, 1e-6, "N=1e6 Np=1 inversion"},
    {K_BINOM, 1000000, 9.99e-6, "N=1e6 Np=9.99 inversion"},
    {K_BINOM, 1000000, 1.001e-5, "N=1e6 Np=10.01 BTRS"},
    {K_BINOM, 1000000, 0.3, "N=1e6 BTRS"},
    {K_BINOM, N31, 2e-9, "N=2^31 Np=4.3 inversion"},
    {K_BINOM, N31, 1e-8, "N=2^31 Np=21.5 BTRS"},
    {K_BINOM, N31, 0.5, "N=2^31 p=1/2 BTRS"},
    /* the slow exact reference on its own, including n p far above the switch */
    {K_INV, 500, 0.01, "Np=5"},
    {K_INV, 500, 0.05, "Np=25 (above switch)"},
    {K_INV, 500, 0.3, "Np=150 (above switch)"},
    {K_INV, 5, 0.9, "mirror inside"},
    {K_INV, 1, 0.23, "N=1"},
    {K_INV, N31, 1e-8, "N=2^31 Np=21.5"},
    /* BTRS on its own */
    {K_BTRS, 500, 0.0201, "Np=10.05"},
    {K_BTRS, 20, 0.5, "Np=10 p=1/2"},
    {K_BTRS, 500, 0.5, "Np=250"},
    {K_BTRS, 1000000, 0.3, "N=1e6"},
    {K_BTRS, 1000000, 1e-5, "N=1e6 Np=10"},
    {K_BTRS, N31, 1e-8, "N=2^31 Np=21.5"},
    /* Poisson mode: (n, mean) */
    {K_POIS, 500, 1e-3, "mean=1e-3 inversion"},
    {K_POIS, 500, 0.05, "inversion"},
    {K_POIS, 500, 0.5, "inversion"},
    {K_POIS, 500, 5.0, "inversion"},
    {K_POIS, 1000000, 9.99, "inversion below switch"},
    {K_POIS, 1000000, 10.0, "PTRS at switch"},
    {K_POIS, 1000000, 10.01, "PTRS above switch"},
    {K_POIS, 500, 50.0, "PTRS"},
    {K_POIS, 1000000, 1e4, "PTRS"},
    {K_POIS, N31, 1e6, "PTRS large mean"},
    {K_POIS, 3, 2.5, "inversion clipped at n=3"},
    {K_POIS, 12, 10.5, "PTRS clipped at n=12"},
    {K_POIS, 500, 499.0, "PTRS clipped at n=500"},
    {K_POIS, 10, 9.5, "inversion clipped at n=10"},
    {K_POIS, 1, 0.5, "n=1"},
    {K_POIS, 2, 1.9, "n=2 clipped"},
    {K_POIS, 100, 30.0, "PTRS"},
};
#define N_CASES ((int)(sizeof cases / sizeof cases[0]))

START_TEST(pmf_chi2)
{
    const chi_case *c = &cases[_i];
    dist d = c->kind == K_POIS ? pois_dist(c->p, c->n) : binom_dist(c->n, c->p);
    run_chi2(c, _i, &d);
    free(d.prob);
}
END_TEST

/* ---- moments on large cases ------------------------------------------------------------- */

typedef struct {
    int kind;
    int64_t n;
    double p;
} mom_case;

static const mom_case mom_cases[] = {
    {K_BINOM, 1000000, 0.3},   {K_BINOM, N31, 0.5},      {K_BINOM, N31, 1e-3},
    {K_BINOM, N31, 0.999},     {K_BINOM, 500, 0.0199},   {K_INV, 500, 0.1},
    {K_POIS, N31, 1e6},        {K_POIS, 1000000, 1e4},   {K_POIS, 1000000, 3.0},
};

START_TEST(moments_large)
{
    /* sample mean and variance of 1e6 draws vs n p and n p q (Poisson: mean, mean).
     * SE(mean) = sqrt(var / D); SE(sample variance) = var sqrt((2 + g2) / D), g2 the excess
     * kurtosis ((1 - 6pq)/(npq), Poisson 1/mean). Fail at |z| > 5.33: false-failure rate 1e-7
     * per statistic. */
    const mom_case *c = &mom_cases[_i];
    const long D = 1000000;
    double mu, var, g2;
    if (c->kind == K_POIS) {
        mu = var = c->p;
        g2 = 1.0 / c->p;
    } else {
        double q = 1.0 - c->p;
        mu = (double)c->n * c->p;
        var = mu * q;
        g2 = (1.0 - 6.0 * c->p * q) / var;
    }
    /* shifted sums (by the true mean) keep the variance accurate for means ~1e9 */
    long double s1 = 0.0L, s2 = 0.0L;
    for (long i = 0; i < D; i++) {
        mg_rng g;
        mg_rng_init(&g, SEED, MG_STREAM_TEST, 1000u + (uint32_t)_i, (uint32_t)c->kind, (uint32_t)i);
        double y = (double)sampler[c->kind](&g, c->n, c->p) - mu;
        s1 += y;
        s2 += (long double)y * y;
    }
    double m1 = (double)(s1 / D);
    double svar = (double)((s2 - s1 * s1 / D) / (D - 1));
    double z_mean = m1 / sqrt(var / D);
    double z_var = (svar - var) / (var * sqrt((2.0 + g2) / D));
    if (mg_test_verbose()) {
        printf("moments %-17s n=%-11lld p=%-8.4g mean-mu=%10.4g z=%6.2f var=%12.6g (exact %12.6g) z=%6.2f\n",
               sampler_name[c->kind], (long long)c->n, c->p, m1, z_mean, svar, var, z_var);
        fflush(stdout);
    }
    ck_assert_msg(fabs(z_mean) < Z_FAIL, "%s(n=%lld, p=%g): mean off by %.2f SE",
                  sampler_name[c->kind], (long long)c->n, c->p, z_mean);
    ck_assert_msg(fabs(z_var) < Z_FAIL, "%s(n=%lld, p=%g): variance off by %.2f SE",
                  sampler_name[c->kind], (long long)c->n, c->p, z_var);
}
END_TEST

/* ---- exact outputs ---------------------------------------------------------------------- */

START_TEST(binom_exact_cases)
{
    mg_rng g;
    mg_rng_init(&g, SEED, MG_STREAM_TEST, 0, 0, 0);
    int64_t ns[] = {1, 2, 5, 500, 1000000, N31};
    for (size_t i = 0; i < sizeof ns / sizeof ns[0]; i++) {
        int64_t n = ns[i];
        for (int r = 0; r < 100; r++) {
            ck_assert_msg(mg_binom(&g, n, 0.0) == 0, "p = 0 gives 0");
            ck_assert_msg(mg_binom(&g, n, -0.0) == 0, "p = -0 gives 0");
            ck_assert_msg(mg_binom(&g, n, -0.1) == 0, "p < 0 gives 0 (clamp)");
            ck_assert_msg(mg_binom(&g, n, -HUGE_VAL) == 0, "p = -inf gives 0");
            ck_assert_msg(mg_binom(&g, n, NAN) == 0, "p = NaN gives 0");
            ck_assert_msg(mg_binom(&g, n, 1.0) == n, "p = 1 gives n");
            ck_assert_msg(mg_binom(&g, n, 1.5) == n, "p > 1 gives n (clamp)");
            ck_assert_msg(mg_binom(&g, n, HUGE_VAL) == n, "p = +inf gives n");
        }
    }
    for (int r = 0; r < 100; r++) {
        ck_assert_msg(mg_binom(&g, 0, 0.5) == 0, "n = 0 gives 0");
        ck_assert_msg(mg_binom(&g, 0, 1.0) == 0, "n = 0, p = 1 gives 0");
        ck_assert_msg(mg_binom(&g, -3, 0.5) == 0, "n < 0 gives 0");
    }
    ck_assert_msg(g.ctr.v[3] == 0 && g.used == 4, "exact cases consume no random numbers");
    /* the smallest positive p and the largest p below 1 (drawn, but n p ~ 1e-321 / 5e-14) */
    for (int r = 0; r < 1000; r++) {
        ck_assert(mg_binom(&g, 500, 4.9406564584124654e-324) == 0);
        ck_assert(mg_binom(&g, 500, nextafter(1.0, 0.0)) == 500);
    }
}
END_TEST

START_TEST(poisson_exact_cases)
{
    mg_rng g;
    mg_rng_init(&g, SEED, MG_STREAM_TEST, 0, 0, 0);
    for (int r = 0; r < 100; r++) {
        ck_assert_msg(mg_poisson_count(&g, 500.5, 500) == 500, "mean > n gives n");
        ck_assert_msg(mg_poisson_count(&g, 1e300, 500) == 500, "mean >> n gives n");
        ck_assert_msg(mg_poisson_count(&g, HUGE_VAL, 500) == 500, "mean = inf gives n");
        ck_assert_msg(mg_poisson_count(&g, 0.0, 500) == 0, "mean = 0 gives 0");
        ck_assert_msg(mg_poisson_count(&g, -1.0, 500) == 0, "mean < 0 gives 0");
        ck_assert_msg(mg_poisson_count(&g, NAN, 500) == 0, "mean = NaN gives 0");
        ck_assert_msg(mg_poisson_count(&g, 1e-310, 500) == 0, "mean <= DBL_MIN gives 0");
        ck_assert_msg(mg_poisson_count(&g, 0.5, 0) == 0, "n = 0 gives 0");
        ck_assert_msg(mg_poisson_count(&g, 0.5, -1) == 0, "n < 0 gives 0");
    }
    ck_assert_msg(g.ctr.v[3] == 0 && g.used == 4, "exact cases consume no random numbers");
}
END_TEST

/* A generator whose next four words are (hi, lo, hi, lo), then Philox blocks of a fixed
 * counter: forces the first two uniforms to mg_u01_from(hi, lo), e.g. 2^-53 (0, 0) or
 * 1 - 2^-53 (all ones). */
static void forced2(mg_rng *g, uint32_t hi, uint32_t lo)
{
    mg_rng_init(g, SEED, MG_STREAM_TEST, 4242, 0, 0);
    g->out.v[0] = g->out.v[2] = hi;
    g->out.v[1] = g->out.v[3] = lo;
    g->used = 0;
}

static void forced(mg_rng *g, uint32_t w) { forced2(g, w, w); }

START_TEST(poisson_bernoulli_branch)
{
    /* mean = 5e-9: 1 - (mean+1) e^-mean rounds to 0 (P(X >= 2) ~ 1e-17 is lost), so the count
     * is Bernoulli(mean): 1 exactly when the uniform is below the mean */
    mg_rng g;
    forced(&g, 0u); /* u = 2^-53 < 5e-9 */
    ck_assert_msg(mg_poisson_count(&g, 5e-9, 500) == 1, "Bernoulli branch: u < mean gives 1");
    ck_assert_msg(g.used == 2 && g.ctr.v[3] == 0, "Bernoulli branch uses one uniform");
    forced(&g, 0xffffffffu);
    ck_assert_msg(mg_poisson_count(&g, 5e-9, 500) == 0, "Bernoulli branch: u > mean gives 0");
    /* the threshold is the mean itself: 5e-9 * 2^32 = 21.5, so a first word of 20 gives
     * u < 4.9e-9 < mean and a first word of 22 gives u >= 5.12e-9 > mean */
    forced2(&g, 20u, 0xffffffffu);
    ck_assert_msg(mg_poisson_count(&g, 5e-9, 500) == 1, "Bernoulli: u = 4.9e-9 < mean = 5e-9");
    forced2(&g, 22u, 0u);
    ck_assert_msg(mg_poisson_count(&g, 5e-9, 500) == 0, "Bernoulli: u = 5.12e-9 > mean = 5e-9");
    /* statistics: mean = 9e-9 over 2e6 fresh generators: the number of ones is Poisson(0.018);
     * mostly 0. The branch is tested exactly above; here only that nothing else comes out. */
    for (long i = 0; i < 2000000; i++) {
        mg_rng h;
        mg_rng_init(&h, SEED, MG_STREAM_TEST, 77, 0, (uint32_t)i);
        int64_t x = mg_poisson_count(&h, 9e-9, 500);
        ck_assert(x == 0 || x == 1);
    }
    /* at mean = 1e-3 the Poisson branch is taken: a uniform 1 - 2.3e-10 lies beyond
     * P(X <= 1) = 1 - 5e-7, so the inversion gives at least 2, which Bernoulli cannot */
    forced2(&g, 0xffffffffu, 0u);
    ck_assert_msg(mg_poisson_count(&g, 1e-3, 500) >= 2, "Poisson branch at mean = 1e-3, u ~ 1");
}
END_TEST

START_TEST(inversion_retry_path)
{
    /* With the uniform forced to 1 - 2^-53 (the largest), the search runs past the end of the
     * numerically summed cdf whenever the rounded sum of the pmf terms is below it; then it
     * must retry with the next uniform (the second forced one runs off too, the third comes
     * from a Philox block, so the draw counter moves). Which parameters do so depends on the
     * last bits of mg_exp/mg_log, so the test scans a grid and requires that the retry path was
     * taken at least once and always ends with a valid value. */
    mg_rng g;
    int runoffs = 0, tried = 0;
    for (int64_t n = 1; n <= 3; n++)
        for (int j = 1; j < 2000; j++) {
            double p = j / 4000.0;
            forced(&g, 0xffffffffu);
            int64_t x = mg_binom_inv(&g, n, p);
            ck_assert_msg(x >= 0 && x <= n, "inversion gives a valid value at u ~ 1");
            runoffs += g.ctr.v[3] >= 1;
            tried++;
        }
    if (mg_test_verbose())
        printf("binomial inversion run-off at u = 1 - 2^-53: %d of %d (n <= 3)\n", runoffs, tried);
    ck_assert_msg(runoffs > 0, "binomial inversion retry path reached in the grid");
    /* the retried draw is the draw of the next uniform: compare with a generator whose first
     * uniform is the third one of the forced generator */
    runoffs = 0;
    for (int j = 1; j < 100; j++) {
        double mean = j / 10.0;
        forced(&g, 0xffffffffu);
        int64_t x = mg_poisson_inv(&g, mean, 1000000);
        ck_assert_msg(x >= 0 && x <= 1000000, "Poisson inversion gives a valid value at u ~ 1");
        if (g.ctr.v[3] >= 1) {
            runoffs++;
            mg_rng h;
            mg_rng_init(&h, SEED, MG_STREAM_TEST, 4242, 0, 0); /* the block after the forced one */
            ck_assert_msg(x == mg_poisson_inv(&h, mean, 1000000), "retry draws the next uniform");
        } else {
            ck_assert_msg(x >= 9, "u ~ 1 gives a far tail value (mean %g: %lld)", mean, (long long)x);
        }
    }
    if (mg_test_verbose()) {
        printf("Poisson inversion run-off at u = 1 - 2^-53: %d of 99 means\n", runoffs);
        fflush(stdout);
    }
    ck_assert_msg(runoffs > 0, "Poisson inversion retry path reached in the grid");
    /* reaching x = n ends the search at n (clipping), without a retry */
    forced(&g, 0xffffffffu);
    ck_assert(mg_poisson_inv(&g, 9.9, 7) == 7 && g.ctr.v[3] == 0);
}
END_TEST

START_TEST(rejection_extreme_uniforms)
{
    /* First uniform 1 - 2^-53 or 2^-53: U = +-(1/2 - 2^-53), us = 2^-53, and the candidate
     * (2a/us + b) U + c is ~1e16 a in size: it must be rejected without an overflowing
     * integer conversion, and the next block must give a valid value. */
    uint32_t ws[2] = {0u, 0xffffffffu};
    for (int i = 0; i < 2; i++) {
        mg_rng g;
        forced(&g, ws[i]);
        int64_t x = mg_binom_btrs(&g, N31, 0.5);
        ck_assert_msg(x >= 0 && x <= N31 && g.ctr.v[3] >= 1, "BTRS rejects the pole (w=%x)", ws[i]);
        forced(&g, ws[i]);
        x = mg_binom_btrs(&g, 500, 0.05);
        ck_assert_msg(x >= 0 && x <= 500 && g.ctr.v[3] >= 1, "BTRS rejects the pole (w=%x)", ws[i]);
        forced(&g, ws[i]);
        x = mg_poisson_ptrs(&g, 1e6, N31);
        ck_assert_msg(x >= 0 && x <= N31 && g.ctr.v[3] >= 1, "PTRS rejects the pole (w=%x)", ws[i]);
        forced(&g, ws[i]);
        x = mg_poisson_ptrs(&g, 4e15, 9007199254740992LL);
        ck_assert_msg(x >= 0 && g.ctr.v[3] >= 1, "PTRS rejects the pole near 2^53 (w=%x)", ws[i]);
    }
}
END_TEST

START_TEST(lfact_values)
{
    /* log k! against 25-digit references (mpmath loggamma(k+1)): within 2 ulp, table
     * (k < 32) exact; and against glibc lgamma for every k < 1e5 within 1e-15 relative (about
     * 4.5 ulp: both sides carry a few ulp) */
    static const struct {
        int64_t k;
        long double ref;
    } refs[] = {
        {32LL, 81.55795945611503717850297L},
        {33LL, 85.05446701758151741396016L},
        {50LL, 148.4777669517730320675372L},
        {100LL, 363.73937555556349014408L},
        {1000LL, 5912.128178488163348878131L},
        {4528LL, 33593.99326157746027223893L},
        {10000LL, 82108.92783681435345538503L},
        {123456LL, 1323904.492483797679544744L},
        {1000000LL, 12815518.38465816962425108L},
        {2147483648LL, 43996705676.86608694010463L},
        {1000000000000LL, 26631021115943.28265730707L},
        {9007199254740991LL, 321888483458023028.6212401L},
    };
    for (size_t i = 0; i < sizeof refs / sizeof refs[0]; i++) {
        double got = mg_lfact(refs[i].k);
        double r = (double)refs[i].ref;
        double ulp = nextafter(r, HUGE_VAL) - r;
        ck_assert_msg(fabsl((long double)got - refs[i].ref) <= 2.0L * ulp,
                      "lfact(%lld) = %.17g, exact %.17Lg", (long long)refs[i].k, got, refs[i].ref);
    }
    ck_assert(mg_lfact(0) == 0.0 && mg_lfact(1) == 0.0);
    for (int64_t k = 2; k < 100000; k++) {
        double ref = lgamma((double)k + 1.0);
        double got = mg_lfact(k);
        ck_assert_msg(fabs(got - ref) <= 1e-15 * ref, "lfact(%lld) = %.17g, lgamma %.17g",
                      (long long)k, got, ref);
    }
}
END_TEST

/* ---- purity and pinned streams ---------------------------------------------------------- */

START_TEST(same_counter_same_draw)
{
    /* the draw depends only on (key, counter, buffered words) and the parameters: a copy of the
     * generator, or a generator re-initialized with the same counter, gives the same value, in
     * every branch; and the generator ends in the same state */
    double ps[] = {1e-3, 0.01, 0.0199, 0.0201, 0.3, 0.5, 0.7, 0.9801, 0.9999};
    for (uint32_t s = 0; s < 2000; s++) {
        for (size_t i = 0; i < sizeof ps / sizeof ps[0]; i++) {
            mg_rng a, b;
            mg_rng_init(&a, SEED, MG_STREAM_MESO_COUNT, 3, 1, s);
            (void)mg_rng_u32(&a); /* also from a partly used block */
            b = a;
            int64_t xa = mg_binom(&a, 500, ps[i]);
            int64_t xb = mg_binom(&b, 500, ps[i]);
            ck_assert(xa == xb && a.ctr.v[3] == b.ctr.v[3] && a.used == b.used);
            mg_rng c;
            mg_rng_init(&c, SEED, MG_STREAM_MESO_COUNT, 3, 1, s);
            (void)mg_rng_u32(&c);
            ck_assert(mg_binom(&c, 500, ps[i]) == xa);
            mg_rng_init(&a, SEED, MG_STREAM_MESO_COUNT, 3, 1, s);
            mg_rng_init(&b, SEED, MG_STREAM_MESO_COUNT, 3, 1, s);
            ck_assert(mg_poisson_count(&a, 500 * ps[i], 500) == mg_poisson_count(&b, 500 * ps[i], 500));
        }
    }
}
END_TEST

START_TEST(dispatch_branches)
{
    /* mg_binom and mg_poisson_count call the branch the header documents: with the same
     * counter they return exactly what the branch function returns (just below and at/above
     * each switch, and for the mirror) */
    for (uint32_t s = 0; s < 2000; s++) {
        mg_rng a, b;
#define SAME(call_a, call_b, what)                                              \
        mg_rng_init(&a, SEED, MG_STREAM_TEST, 9, 9, s);                         \
        mg_rng_init(&b, SEED, MG_STREAM_TEST, 9, 9, s);                         \
        ck_assert_msg((call_a) == (call_b), "dispatch: %s (step %u)", what, s)
        SAME(mg_binom(&a, 500, 0.0199), mg_binom_inv(&b, 500, 0.0199), "Np = 9.95 -> inversion");
        SAME(mg_binom(&a, 500, 0.02), mg_binom_btrs(&b, 500, 0.02), "Np = 10 -> BTRS");
        SAME(mg_binom(&a, 500, 0.3), mg_binom_btrs(&b, 500, 0.3), "Np = 150 -> BTRS");
        SAME(mg_binom(&a, 500, 0.7), 500 - mg_binom_btrs(&b, 500, 1.0 - 0.7), "p = 0.7 -> mirror BTRS");
        SAME(mg_binom(&a, 500, 0.9801), 500 - mg_binom_inv(&b, 500, 1.0 - 0.9801),
             "p = 0.9801 -> mirror inversion");
        SAME(mg_binom(&a, 19, 0.5), mg_binom_inv(&b, 19, 0.5), "N = 19, p = 1/2 -> inversion");
        SAME(mg_poisson_count(&a, 9.99, 500), mg_poisson_inv(&b, 9.99, 500), "mean 9.99 -> inversion");
        SAME(mg_poisson_count(&a, 10.0, 500), mg_poisson_ptrs(&b, 10.0, 500), "mean 10 -> PTRS");
#undef SAME
    }
}
END_TEST

START_TEST(pinned_stream_checksum)
{
    /* A checksum of 2e5 draws across all branches. It pins the exact output streams: any
     * change to binom.h, rng.h or fmath.h that alters a single draw alters every simulation
     * result, and must be deliberate. If so, update the constant below from the failure
     * message and say so in the commit. A device test can compare its draws with the same
     * number. */
    double ps[] = {1e-3, 0.01, 0.0199, 0.0201, 0.05, 0.3, 0.5, 0.7, 0.9801, 0.9999};
    uint64_t h = 1469598103934665603ULL; /* FNV-1a over the 64-bit counts */
    for (uint32_t s = 0; s < 10000; s++) {
        for (size_t i = 0; i < sizeof ps / sizeof ps[0]; i++) {
            mg_rng g;
            mg_rng_init(&g, SEED, MG_STREAM_MESO_COUNT, (uint32_t)i, 0, s);
            uint64_t x = (uint64_t)mg_binom(&g, 500, ps[i]);
            mg_rng_init(&g, SEED, MG_STREAM_MESO_COUNT, (uint32_t)i, 1, s);
            x = x * 1000003u + (uint64_t)mg_poisson_count(&g, 500.0 * ps[i] * 1.3, 500);
            for (int b = 0; b < 8; b++) {
                h ^= (x >> (8 * b)) & 0xff;
                h *= 1099511628211ULL;
            }
        }
    }
    const uint64_t pinned = 0x70756752038d0234ULL;
    ck_assert_msg(h == pinned, "stream checksum %#018llx differs from the pinned %#018llx",
                  (unsigned long long)h, (unsigned long long)pinned);
}
END_TEST

MG_TEST_SUITE(binom,
              MG_TCASE("core", 60, same_counter_same_draw, dispatch_branches,
                       pinned_stream_checksum, lfact_values),
              MG_TCASE("edges", 60, binom_exact_cases, poisson_exact_cases,
                       poisson_bernoulli_branch, inversion_retry_path, rejection_extreme_uniforms),
              {.name = "stats", .timeout_s = 300,
               .loops = (const mg_test_loop[]){
                   {pmf_chi2, N_CASES},
                   {moments_large, (int)(sizeof mom_cases / sizeof mom_cases[0])},
                   {NULL, 0}}})
