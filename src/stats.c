/* src/stats.c: mergeable sufficient statistics (include/mesogif/stats.h). */
#include "mesogif/stats.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void mg_stats_layout_init(mg_stats_layout *L, int P)
{
    memset(L, 0, sizeof *L);
    L->P = P;
    int64_t i = 0, d = 0;
    L->i_count = i++;
    L->i_nreal = i++;
    L->n_i = i;
    L->d_s1 = d;
    d += P;
    L->d_s2 = d;
    d += (int64_t)P * P;
    L->d_m1 = d;
    d += P;
    L->d_m2 = d;
    d += P;
    L->n_d = d;
}

static void free_derived(mg_stats *s)
{
    free(s->mean_A);
    free(s->var_A);
    free(s->cov_A);
    free(s->mean_A_sem);
    s->mean_A = s->var_A = s->cov_A = s->mean_A_sem = NULL;
}

int mg_stats_alloc(mg_stats *s, const mg_stats_layout *L, double bin_ms, mg_err *err)
{
    int64_t *i = calloc((size_t)L->n_i, sizeof *i);
    double *d = calloc((size_t)L->n_d, sizeof *d);
    if (!i || !d) {
        free(i);
        free(d);
        return mg_err_set(err, MG_ENOMEM, "out of memory for statistics");
    }
    memset(s, 0, sizeof *s);
    s->L = *L;
    s->bin_ms = bin_ms;
    s->i = i;
    s->d = d;
    return MG_OK;
}

int mg_stats_add(mg_stats *dst, const mg_stats *src, mg_err *err)
{
    if (memcmp(&dst->L, &src->L, sizeof dst->L) != 0)
        return mg_err_set(err, MG_EINVAL, "statistics of different shapes cannot be merged");
    if (dst->bin_ms != src->bin_ms)
        return mg_err_set(err, MG_EINVAL, "statistics at different bins (%g ms, %g ms) cannot be "
                          "merged", dst->bin_ms, src->bin_ms);
    for (int64_t k = 0; k < dst->L.n_i; ++k)
        dst->i[k] += src->i[k];
    for (int64_t k = 0; k < dst->L.n_d; ++k)
        dst->d[k] += src->d[k];
    return MG_OK;
}

void mg_stats_zero(mg_stats *s)
{
    memset(s->i, 0, (size_t)s->L.n_i * sizeof *s->i);
    memset(s->d, 0, (size_t)s->L.n_d * sizeof *s->d);
    free_derived(s);
}

int mg_stats_finalize(mg_stats *s, mg_err *err)
{
    const int P = s->L.P;
    free_derived(s);
    s->mean_A = malloc((size_t)P * sizeof(double));
    s->var_A = malloc((size_t)P * sizeof(double));
    s->cov_A = malloc((size_t)P * P * sizeof(double));
    s->mean_A_sem = malloc((size_t)P * sizeof(double));
    if (!s->mean_A || !s->var_A || !s->cov_A || !s->mean_A_sem) {
        free_derived(s);
        return mg_err_set(err, MG_ENOMEM, "out of memory for statistics");
    }
    const double n = (double)s->i[s->L.i_count];
    const double R = (double)s->i[s->L.i_nreal];
    const double *S1 = s->d + s->L.d_s1, *S2 = s->d + s->L.d_s2;
    const double *M1 = s->d + s->L.d_m1, *M2 = s->d + s->L.d_m2;
    for (int a = 0; a < P; ++a) {
        s->mean_A[a] = n > 0 ? S1[a] / n : NAN;
        for (int b = 0; b < P; ++b)
            s->cov_A[a * P + b] = n > 1 ? (S2[a * P + b] - S1[a] * S1[b] / n) / (n - 1.0) : NAN;
        /* a constant A (deterministic runs) can give -1e-17 by cancellation */
        if (s->cov_A[a * P + a] < 0.0)
            s->cov_A[a * P + a] = 0.0;
        s->var_A[a] = s->cov_A[a * P + a];
        /* spread of the realization means: the honest error bar when samples within a
         * realization are correlated */
        double var_between = R > 1 ? (M2[a] - M1[a] * M1[a] / R) / (R - 1.0) : NAN;
        if (var_between < 0.0)
            var_between = 0.0;
        s->mean_A_sem[a] = R > 1 ? sqrt(var_between / R) : NAN;
    }
    return MG_OK;
}

void mg_stats_free(mg_stats *s)
{
    if (!s)
        return;
    free(s->i);
    free(s->d);
    free_derived(s);
    memset(s, 0, sizeof *s);
}
