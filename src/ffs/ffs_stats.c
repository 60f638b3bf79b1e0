/* src/ffs/ffs_stats.c: the tallies of a forward-flux-sampling estimate and their errors
 * (docs/SWITCHING.md, "Error estimate and 95 % interval"): stored-state pools, per-stage trial
 * counts, the flux as a ratio estimator over basin runs, the per-stage variance (binomial or
 * across start states), and the bootstrap over trial trees. */
#include "ffs/ffs_state.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int mg_ffs_pool_add(pool *p, const double *state, int64_t t, double lam, int32_t root)
{
    if (p->n == p->cap) {
        int64_t cap = p->cap ? 2 * p->cap : 64;
        if (mg_ffs_resize((void **)&p->states, cap * p->rows, sizeof(double)) ||
            mg_ffs_resize((void **)&p->t, cap, sizeof *p->t) ||
            mg_ffs_resize((void **)&p->lam, cap, sizeof *p->lam) ||
            mg_ffs_resize((void **)&p->root, cap, sizeof *p->root))
            return -1;
        p->cap = cap;
    }
    memcpy(p->states + p->n * p->rows, state, (size_t)p->rows * sizeof(double));
    p->t[p->n] = t;
    p->lam[p->n] = lam;
    p->root[p->n] = root;
    ++p->n;
    return 0;
}

void mg_ffs_pool_free(pool *p)
{
    free(p->states);
    free(p->t);
    free(p->lam);
    free(p->root);
    memset(p, 0, sizeof *p);
}

/* One stage: trials from pool `from` towards lambda `lam_next`, per start state counts (for
 * the variance across start states). */

int mg_ffs_stage_log(stage *s, int32_t root, int succ)
{
    if (s->n_log == s->cap_log) {
        int64_t cap = s->cap_log ? 2 * s->cap_log : 1024;
        if (mg_ffs_resize((void **)&s->log_root, cap, sizeof *s->log_root) ||
            mg_ffs_resize((void **)&s->log_succ, cap, sizeof *s->log_succ))
            return -1;
        s->cap_log = cap;
    }
    s->log_root[s->n_log] = root;
    s->log_succ[s->n_log] = (uint8_t)succ;
    ++s->n_log;
    return 0;
}

int mg_ffs_stage_grow(stage *s, int64_t n)
{
    if (n <= s->cap_c)
        return 0;
    int64_t cap = n > 2 * s->cap_c ? n : 2 * s->cap_c;
    if (mg_ffs_resize((void **)&s->m_c, cap, sizeof *s->m_c) ||
        mg_ffs_resize((void **)&s->s_c, cap, sizeof *s->s_c))
        return -1;
    for (int64_t k = s->cap_c; k < cap; ++k)
        s->m_c[k] = s->s_c[k] = 0;
    s->cap_c = cap;
    return 0;
}

/* p and the variance of its estimate: the larger of the binomial variance and the variance
 * across start states (trials from one state are correlated: the ratio estimator's
 * variance over the states used, n_c / (n_c - 1) sum_c (s_c - p m_c)^2 / M^2). */
void mg_ffs_stage_p(const stage *s, double *p, double *var, int64_t *n_used)
{
    *p = s->M > 0 ? (double)s->S / (double)s->M : NAN;
    double vb = s->M > 0 ? *p * (1.0 - *p) / (double)s->M : NAN;
    double sum = 0.0;
    int64_t nc = 0;
    for (int64_t k = 0; k < s->cap_c; ++k) {
        if (s->m_c[k] == 0)
            continue;
        double r = (double)s->s_c[k] - *p * (double)s->m_c[k];
        sum += r * r;
        ++nc;
    }
    double vc = nc > 1 ? (double)nc / (double)(nc - 1) * sum / ((double)s->M * (double)s->M)
                       : vb;
    *var = vc > vb ? vc : vb;
    *n_used = nc;
}

/* Flux out of A through lambda_0 of direction d: the ratio estimator over basin realizations
 * and its relative variance (at least the Poisson 1/C). */
void mg_ffs_flux(const run_ctx *X, int d, double *flux, double *relvar, int64_t *C,
                 double *T)
{
    double c = 0.0, t = 0.0;
    for (int i = 0; i < X->nb; ++i) {
        c += (double)X->br[i].crossings[d];
        t += X->br[i].exposure[d];
    }
    *C = (int64_t)c;
    *T = t;
    *flux = t > 0 ? c / t : NAN;
    if (!(c > 0)) {
        *relvar = INFINITY;
        return;
    }
    double sum = 0.0, n = 0.0;
    for (int i = 0; i < X->nb; ++i) {
        double e = (double)X->br[i].crossings[d] - *flux * X->br[i].exposure[d];
        sum += e * e;
        n += 1.0;
    }
    double v = n > 1 ? n / (n - 1.0) * sum / (t * t) : 0.0;
    double rv = v / (*flux * *flux);
    *relvar = rv > 1.0 / c ? rv : 1.0 / c;
}

/* Bootstrap over trial trees: every stored state and trial descends from one basin crossing
 * (its root). Resample the roots with replacement, recompute every stage's p from the trials
 * of the resampled trees (each counted as often as its root was drawn), and return the variance
 * of ln prod p over FFS_BOOT resamples (NaN if fewer than half of them have every stage
 * defined). This keeps the correlations between stages and within trees that the per-stage
 * formula leaves out. Random draws: Philox, key (seed, MG_STREAM_FFS_BOOT), counter (direction,
 * resample, draw): deterministic. */
#define FFS_BOOT 200
static double boot_var(const run_ctx *X, int d)
{
    const int64_t R0 = X->pools[d][0].n;
    const int ns = X->n_stages[d];
    if (R0 < 2 || ns < 1)
        return NAN;
    double *w = malloc((size_t)R0 * sizeof(double));
    if (!w)
        return NAN;
    double s1 = 0.0, s2 = 0.0;
    int nb = 0;
    for (int b = 0; b < FFS_BOOT; ++b) {
        for (int64_t r = 0; r < R0; ++r)
            w[r] = 0.0;
        for (int64_t r = 0; r < R0; r += 4) {
            philox4x32_ctr_t u = mg_philox_block(X->J.o.seed, MG_STREAM_FFS_BOOT, (uint32_t)d,
                                                 (uint32_t)b, (uint32_t)(r / 4), 0);
            for (int q = 0; q < 4 && r + q < R0; ++q)
                w[(int64_t)((double)u.v[q] * (1.0 / 4294967296.0) * (double)R0)] += 1.0;
        }
        double lnk = 0.0;
        int ok = 1;
        for (int i = 0; i < ns && ok; ++i) {
            const stage *s = &X->st[d][i];
            double M = 0.0, S = 0.0;
            for (int64_t k = 0; k < s->n_log; ++k) {
                double wk = w[s->log_root[k]];
                M += wk;
                S += wk * s->log_succ[k];
            }
            ok = M > 0 && S > 0;
            if (ok)
                lnk += log(S / M);
        }
        if (!ok)
            continue;
        s1 += lnk;
        s2 += lnk * lnk;
        ++nb;
    }
    free(w);
    if (nb < FFS_BOOT / 2)
        return NAN;
    double v = (s2 - s1 * s1 / nb) / (nb - 1);
    return v > 0 ? v : 0.0;
}

/* Relative variance of the rate of direction d with the stages so far: the flux's plus the
 * larger of the sum of the stages' (independent stages) and the tree bootstrap's.
 * *stage_sum and *boot (may be NULL) receive the two. */
double mg_ffs_rate_relvar(const run_ctx *X, int d, double *rate, double *stage_sum,
                          double *boot)
{
    double flux, rv, T;
    int64_t C;
    mg_ffs_flux(X, d, &flux, &rv, &C, &T);
    double k = flux, sum = 0.0;
    for (int i = 0; i < X->n_stages[d]; ++i) {
        double p, var;
        int64_t nu;
        mg_ffs_stage_p(&X->st[d][i], &p, &var, &nu);
        k *= p;
        sum += p > 0 ? var / (p * p) : INFINITY;
    }
    double bv = boot_var(X, d);
    if (stage_sum)
        *stage_sum = sum;
    if (boot)
        *boot = bv;
    *rate = k;
    return rv + (bv > sum ? bv : sum);
}
