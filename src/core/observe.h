/* src/core/observe.h: what is measured on a realization while it runs, for host and device.
 *
 * After every step the backend hands the spike counts n (and, for meso, the expectations n_bar)
 * of its lanes to mg_obs_step, which
 *   - sums them into the recording bin and, when a bin is complete, writes A_N = sum n/(N L dt)
 *     and A_bar to the trace of that realization (if it is recorded);
 *   - sums them into the statistics bin and, for complete bins after the warm-up, adds A and
 *     A A^T to the realization's own sums (MODEL.md §5: mean and variance of A at a bin).
 * At the end mg_obs_record turns a realization's sums into its contribution to mg_stats
 * (include/mesogif/stats.h): the ensemble statistics are the ordered sum of these records.
 *
 * The accumulators live in rows of the same lane matrix as the dynamics (core/meso.h),
 * starting at row0; layout in mg_obs_cfg. */
#ifndef MESOGIF_CORE_OBSERVE_H
#define MESOGIF_CORE_OBSERVE_H

#include "core/hd.h"
#include "core/meso.h" /* mg_lanes, MG_AT */

#define MG_OBS_POP_MAX 64

typedef struct {
    int P;
    int64_t rec_L;          /* steps per recording bin */
    int64_t rec_T;          /* recording bins kept (trace length) */
    int64_t st_L;           /* steps per statistics bin */
    int64_t st_b0;          /* first statistics bin after the warm-up */
    int64_t st_B;           /* statistics bins in the run (complete ones) */
    double rec_scale[MG_OBS_POP_MAX]; /* 1/(N rec_L dt): count -> Hz */
    double st_scale[MG_OBS_POP_MAX];  /* 1/(N st_L dt) */
    /* rows (offsets from the start of the realization's state) */
    int row_rec_n;          /* [P] recording-bin sum of n */
    int row_rec_nbar;       /* [P] recording-bin sum of n_bar */
    int row_st_n;           /* [P] statistics-bin sum of n */
    int row_cnt;            /* [1] statistics bins counted */
    int row_s1;             /* [P] sum of A */
    int row_s2;             /* [P][P] sum of A_p A_q */
    int rows;               /* rows used by the observer */
} mg_obs_cfg;

/* Zero the observer rows. */
static inline MG_HD void mg_obs_init(const mg_obs_cfg *oc, mg_lanes st)
{
    for (int k = oc->row_rec_n; k < oc->row_rec_n + oc->rows; ++k)
        for (int j = 0; j < MG_VL; ++j)
            MG_AT(st, k, j) = 0.0;
}

/* Account step t. n and nbar are [P][MG_VL] (nbar may be NULL). trace_row[j] is the offset of
 * lane j's [P][rec_T] block in trace_AN / trace_Abar, or -1 when lane j is not recorded. */
static inline MG_HD void mg_obs_step(const mg_obs_cfg *oc, mg_lanes st, int64_t t,
                                     const double *MG_RESTRICT n, const double *MG_RESTRICT nbar,
                                     float *trace_AN, float *trace_Abar, const int64_t *trace_row)
{
    const int P = oc->P;
    for (int a = 0; a < P; ++a) {
        MG_SIMD
        for (int j = 0; j < MG_VL; ++j) {
            MG_AT(st, oc->row_rec_n + a, j) += n[a * MG_VL + j];
            MG_AT(st, oc->row_st_n + a, j) += n[a * MG_VL + j];
        }
        if (nbar) {
            MG_SIMD
            for (int j = 0; j < MG_VL; ++j)
                MG_AT(st, oc->row_rec_nbar + a, j) += nbar[a * MG_VL + j];
        }
    }
    if ((t + 1) % oc->rec_L == 0) {
        int64_t bin = (t + 1) / oc->rec_L - 1;
        for (int a = 0; a < P; ++a) {
            for (int j = 0; j < MG_VL; ++j) {
                if (trace_row && trace_row[j] >= 0 && bin < oc->rec_T) {
                    int64_t at = trace_row[j] + (int64_t)a * oc->rec_T + bin;
                    trace_AN[at] = (float)(MG_AT(st, oc->row_rec_n + a, j) * oc->rec_scale[a]);
                    if (trace_Abar)
                        trace_Abar[at] =
                            (float)(MG_AT(st, oc->row_rec_nbar + a, j) * oc->rec_scale[a]);
                }
                MG_AT(st, oc->row_rec_n + a, j) = 0.0;
                MG_AT(st, oc->row_rec_nbar + a, j) = 0.0;
            }
        }
    }
    if ((t + 1) % oc->st_L == 0) {
        int64_t bin = (t + 1) / oc->st_L - 1;
        if (bin >= oc->st_b0) {
            MG_SIMD
            for (int j = 0; j < MG_VL; ++j)
                MG_AT(st, oc->row_cnt, j) += 1.0;
            for (int a = 0; a < P; ++a) {
                MG_SIMD
                for (int j = 0; j < MG_VL; ++j) {
                    double A_a = MG_AT(st, oc->row_st_n + a, j) * oc->st_scale[a];
                    MG_AT(st, oc->row_s1 + a, j) += A_a;
                    for (int b = 0; b < P; ++b) {
                        double A_b = MG_AT(st, oc->row_st_n + b, j) * oc->st_scale[b];
                        MG_AT(st, oc->row_s2 + a * P + b, j) += A_a * A_b;
                    }
                }
            }
        }
        for (int a = 0; a < P; ++a)
            for (int j = 0; j < MG_VL; ++j)
                MG_AT(st, oc->row_st_n + a, j) = 0.0;
    }
}

/* The contribution of lane j to the ensemble sums, in the layout of mg_stats (offsets given as
 * in mg_stats_layout): ri[i_count], ri[i_nreal], rd[d_s1..], rd[d_s2..], rd[d_m1..], rd[d_m2..]. */
static inline MG_HD void mg_obs_record(const mg_obs_cfg *oc, mg_lanes st, int j,
                                       int64_t i_count, int64_t i_nreal, int64_t d_s1,
                                       int64_t d_s2, int64_t d_m1, int64_t d_m2,
                                       int64_t *ri, double *rd)
{
    const int P = oc->P;
    double cnt = MG_AT(st, oc->row_cnt, j);
    ri[i_count] = (int64_t)cnt;
    ri[i_nreal] = cnt > 0.0 ? 1 : 0;
    for (int a = 0; a < P; ++a) {
        double s1 = MG_AT(st, oc->row_s1 + a, j);
        double mean = cnt > 0.0 ? s1 / cnt : 0.0;
        rd[d_s1 + a] = s1;
        rd[d_m1 + a] = mean;
        rd[d_m2 + a] = mean * mean;
        for (int b = 0; b < P; ++b)
            rd[d_s2 + a * P + b] = MG_AT(st, oc->row_s2 + a * P + b, j);
    }
}

#endif /* MESOGIF_CORE_OBSERVE_H */
