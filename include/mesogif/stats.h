/* include/mesogif/stats.h: mergeable sufficient statistics of an ensemble (DESIGN.md property 4).
 *
 * Everything kept is a sum over (realization, bin) samples or over realizations: integer counts
 * in `i`, floating sums in `d`. Merging two disjoint sets of realizations is therefore the
 * elementwise sum of the two arrays (mg_stats_add); the derived quantities (mean, variance, ...)
 * are recomputed from the sums by mg_stats_finalize. A layout fixes where each field lives, so
 * files, shards and the GPU agree on it. Shapes below: P populations. */
#ifndef MESOGIF_STATS_H
#define MESOGIF_STATS_H

#include <stdint.h>
#include "mesogif/error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    int P;
    /* integer fields (offsets into i[]) */
    int64_t i_count;   /* [1] (realization, bin) samples behind the moments */
    int64_t i_nreal;   /* [1] realizations with at least one sample */
    int64_t n_i;
    /* floating fields (offsets into d[]) */
    int64_t d_s1;      /* [P]    sum of A_p (Hz) */
    int64_t d_s2;      /* [P][P] sum of A_p A_q (Hz^2) */
    int64_t d_m1;      /* [P]    sum over realizations of the realization's mean A_p (Hz) */
    int64_t d_m2;      /* [P]    sum over realizations of its square (Hz^2) */
    int64_t n_d;
} mg_stats_layout;

typedef struct {
    mg_stats_layout L;
    double bin_ms;       /* bin of A behind the moments */
    int64_t *i;          /* [L.n_i] */
    double *d;           /* [L.n_d] */
    /* derived by mg_stats_finalize (owned; NULL before) */
    double *mean_A;      /* [P] Hz */
    double *var_A;       /* [P] Hz^2, unbiased over all samples */
    double *cov_A;       /* [P][P] Hz^2 */
    double *mean_A_sem;  /* [P] Hz, standard error of mean_A from the spread across realizations */
} mg_stats;

/* Fill the layout for P populations. Pure. */
void mg_stats_layout_init(mg_stats_layout *L, int P);

/* Allocate zeroed sums for layout L. MG_ENOMEM on failure (s untouched). */
int mg_stats_alloc(mg_stats *s, const mg_stats_layout *L, double bin_ms, mg_err *err);

/* dst += src, elementwise (layouts must be equal; returns MG_EINVAL otherwise). */
int mg_stats_add(mg_stats *dst, const mg_stats *src, mg_err *err);

/* Compute mean_A, var_A, cov_A, mean_A_sem from the sums. NaN where undefined (count < 2). */
int mg_stats_finalize(mg_stats *s, mg_err *err);

void mg_stats_zero(mg_stats *s);
void mg_stats_free(mg_stats *s);

#ifdef __cplusplus
}
#endif

#endif /* MESOGIF_STATS_H */
