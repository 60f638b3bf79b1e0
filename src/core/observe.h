/* src/core/observe.h: what is measured on a realization while it runs, for host and device.
 *
 * After every step the backend hands the spike counts n (and, for meso, the expectations n_bar)
 * of its lanes to mg_obs_step, which
 *   - sums them into the recording bin and writes A_N = sum n / (N L dt) and A_bar to the trace
 *     of a recorded realization when a bin is complete;
 *   - at every complete statistics bin after the warm-up (MODEL.md §5): adds A and A A^T to the
 *     realization's sums, counts A in the histograms, and advances the switching analysis:
 *     observable D = sum_p c_p A_p, moving average over the last W bins, hysteresis states
 *     (high once D > hi, low once D < lo), exposure, exits and dwell times per state;
 *   - at every spectral sample bin after the warm-up: stores A in the current segment; when a
 *     segment is complete it returns 1, and the backend transforms the segment (FFTW on the
 *     host, cuFFT on the device) and adds periodograms with mg_obs_add_spectrum;
 *   - with time-resolved statistics (--stats-time), at every time bin from the start of the
 *     run (warm-up included): stores A of that bin; mg_obs_record turns the stored A(t) into
 *     the realization's A and A A^T per bin, whose sums over realizations give mean A(t) and
 *     cov A(t) across the ensemble.
 * At the end mg_obs_record turns a realization's accumulators into its contribution to the
 * ensemble sums (include/mesogif/stats.h): the ensemble statistics are the ordered sum of
 * these records. Dwell conventions: a dwell begins with the flip into a state and ends with the
 * flip out of it; the first state of a realization began before it was observed and the last
 * one is cut by the end of the run: both are censored (their time counts as exposure, and a
 * censored first dwell's exit counts as an exit, but neither enters the dwell-time
 * distribution). The rate k = exits / exposure is the maximum-likelihood estimate for
 * exponential dwells.
 *
 * The accumulators live in rows of the same lane matrix as the dynamics (core/lanes.h); the
 * layout is in mg_obs_cfg (rows are absolute row indices of the realization's state). */
#ifndef MESOGIF_CORE_OBSERVE_H
#define MESOGIF_CORE_OBSERVE_H

#include "core/hd.h"
#include "core/lanes.h" /* mg_lanes, MG_AT */
#include "mesogif/stats.h"

#define MG_OBS_POP_MAX MG_STATS_POP_MAX

typedef struct {
    int P;
    mg_stats_layout L;       /* shape of the record (and the statistics configuration) */
    double dt_s;
    int64_t rec_L;          /* steps per recording bin */
    int64_t rec_T;          /* recording bins kept (trace length) */
    int64_t st_L;           /* steps per statistics bin */
    int64_t st_b0;          /* first statistics bin after the warm-up */
    int64_t psd_L;          /* steps per spectral sample (0: no spectra) */
    int64_t psd_b0;         /* first spectral sample bin after the warm-up */
    double rec_scale[MG_OBS_POP_MAX]; /* 1/(N rec_L dt): count -> Hz */
    double st_scale[MG_OBS_POP_MAX];  /* 1/(N st_L dt) */
    double psd_scale[MG_OBS_POP_MAX]; /* 1/(N psd_L dt) */
    /* rows */
    int row_rec_n;          /* [P] recording-bin sum of n */
    int row_rec_nbar;       /* [P] recording-bin sum of n_bar */
    int row_st_n;           /* [P] statistics-bin sum of n */
    int row_cnt;            /* [1] statistics bins counted */
    int row_s1;             /* [P] sum of A */
    int row_s2;             /* [P][P] sum of A_p A_q */
    int row_hist_A;         /* [P][NA+2] */
    int row_hist_obs;       /* [NO+2] */
    int row_ma;             /* [W] last W values of the observable, slot b mod W */
    int row_sw;             /* [5] state (-1 unknown), entry bin, left-censored, bins seen, - */
    int row_sw_acc;         /* [2][6] per state: exits, done, censored, exposure, d1, d2 */
    int row_sw_hist;        /* [2][ND+2] */
    int row_psd_n;          /* [P] spectral-sample sum of n */
    int row_seg;            /* [P][psd_n] the current segment */
    int row_psd_nseg;       /* [1] segments done */
    int row_psd;            /* [P][F] sum of periodograms */
    int row_csd;            /* [2][C][F] sums of Re, Im of cross-periodograms */
    int rows;               /* rows used by the observer (from row_rec_n on) */
    /* time-resolved statistics (tm_L = 0: none); rows inside the `rows` above */
    int64_t tm_L;           /* steps per time bin */
    int64_t tm_B;           /* time bins (= L.cfg.time_bins) */
    double tm_scale[MG_OBS_POP_MAX]; /* 1/(N tm_L dt) */
    int row_tm_n;           /* [P] time-bin sum of n */
    int row_tm_A;           /* [P][tm_B] A of every time bin */
} mg_obs_cfg;

/* Zero the observer rows. */
static inline MG_HD void mg_obs_init(const mg_obs_cfg *oc, mg_lanes st)
{
    for (int k = oc->row_rec_n; k < oc->row_rec_n + oc->rows; ++k)
        for (int j = 0; j < MG_VL; ++j)
            MG_AT(st, k, j) = 0.0;
    for (int j = 0; j < MG_VL; ++j)
        MG_AT(st, oc->row_sw, j) = -1.0; /* state unknown */
}

/* Histogram slot of x on [lo, hi) in nb bins: 0 = underflow, nb + 1 = overflow. */
static inline MG_HD int mg_obs_hist_slot(double x, double lo, double hi, int nb)
{
    if (!(x >= lo))
        return 0;
    if (!(x < hi))
        return nb + 1;
    int k = (int)((x - lo) / (hi - lo) * nb);
    return 1 + (k < nb ? k : nb - 1);
}

/* One complete, observed statistics bin b of lane j: moments, histograms, switching. */
static inline MG_HD void mg_obs_stats_bin(const mg_obs_cfg *oc, mg_lanes st, int64_t b, int j)
{
    const int P = oc->P;
    const mg_stats_cfg *c = &oc->L.cfg;
    const double bin_s = c->bin_ms * 1e-3;
    MG_AT(st, oc->row_cnt, j) += 1.0;
    for (int a = 0; a < P; ++a) {
        double A_a = MG_AT(st, oc->row_st_n + a, j) * oc->st_scale[a];
        MG_AT(st, oc->row_s1 + a, j) += A_a;
        for (int q = 0; q < P; ++q) {
            double A_q = MG_AT(st, oc->row_st_n + q, j) * oc->st_scale[q];
            MG_AT(st, oc->row_s2 + a * P + q, j) += A_a * A_q;
        }
        if (c->basic)
            continue;
        int k = mg_obs_hist_slot(A_a, 0.0, c->hist_max_hz, c->hist_bins);
        MG_AT(st, oc->row_hist_A + a * (c->hist_bins + 2) + k, j) += 1.0;
    }
    if (c->basic)
        return;
    /* switching: the moving average is read from the ring filled by mg_obs_step */
    const int W = c->sw_window;
    if (MG_AT(st, oc->row_sw + 3, j) < (double)W)
        return; /* window not full yet */
    double sum = 0.0;
    for (int w = 0; w < W; ++w)
        sum += MG_AT(st, oc->row_ma + w, j);
    const double Ds = sum / (double)W;
    int k = mg_obs_hist_slot(Ds, -c->obs_max_hz, c->obs_max_hz, c->obs_bins);
    MG_AT(st, oc->row_hist_obs + k, j) += 1.0;
    double *state = &MG_AT(st, oc->row_sw, j);
    int s = (int)*state;
    int s_new = Ds > c->sw_hi ? 1 : (Ds < c->sw_lo ? 0 : s);
    if (s < 0 && s_new >= 0) { /* first state: its beginning was not observed */
        *state = (double)s_new;
        MG_AT(st, oc->row_sw + 1, j) = (double)b;
        MG_AT(st, oc->row_sw + 2, j) = 1.0;
    } else if (s >= 0 && s_new != s) {
        const int acc = oc->row_sw_acc + 6 * s;
        MG_AT(st, acc + 0, j) += 1.0; /* exit */
        if (MG_AT(st, oc->row_sw + 2, j) != 0.0) {
            MG_AT(st, acc + 2, j) += 1.0; /* censored at its start */
        } else {
            double dwell = ((double)b - MG_AT(st, oc->row_sw + 1, j)) * bin_s;
            MG_AT(st, acc + 1, j) += 1.0;
            MG_AT(st, acc + 4, j) += dwell;
            MG_AT(st, acc + 5, j) += dwell * dwell;
            int hb = dwell > 0 ? 1 + (int)floor(mg_log(dwell / c->dwell_min_s) /
                                                mg_log(c->dwell_max_s / c->dwell_min_s) *
                                                c->dwell_bins)
                               : 0;
            hb = hb < 0 ? 0 : (hb > c->dwell_bins + 1 ? c->dwell_bins + 1 : hb);
            MG_AT(st, oc->row_sw_hist + s * (c->dwell_bins + 2) + hb, j) += 1.0;
        }
        *state = (double)s_new;
        MG_AT(st, oc->row_sw + 1, j) = (double)b;
        MG_AT(st, oc->row_sw + 2, j) = 0.0;
    }
    if (*state >= 0.0)
        MG_AT(st, oc->row_sw_acc + 6 * (int)*state + 3, j) += bin_s; /* exposure */
}

/* Account step t. n and nbar are [P][MG_VL] (nbar may be NULL). trace_row[j] is the offset of
 * lane j's [P][rec_T] block in trace_AN / trace_Abar, or -1 when lane j is not recorded.
 * Returns 1 when a spectral segment was completed by this step (the same for every lane). */
static inline MG_HD int mg_obs_step(const mg_obs_cfg *oc, mg_lanes st, int64_t t,
                                    const double *MG_RESTRICT n, const double *MG_RESTRICT nbar,
                                    float *trace_AN, float *trace_Abar, const int64_t *trace_row)
{
    const int P = oc->P;
    for (int a = 0; a < P; ++a) {
        MG_SIMD
        for (int j = 0; j < MG_VL; ++j) {
            MG_AT(st, oc->row_rec_n + a, j) += n[a * MG_VL + j];
            MG_AT(st, oc->row_st_n + a, j) += n[a * MG_VL + j];
            MG_AT(st, oc->row_psd_n + a, j) += n[a * MG_VL + j];
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
        const mg_stats_cfg *c = &oc->L.cfg;
        const int64_t b = (t + 1) / oc->st_L - 1;
        for (int j = 0; j < MG_VL; ++j) {
            /* the observable's ring fills from the start, so the average is ready when the
             * observation begins */
            double D = 0.0;
            for (int a = 0; a < P; ++a)
                D += c->sw_coef[a] * MG_AT(st, oc->row_st_n + a, j) * oc->st_scale[a];
            MG_AT(st, oc->row_ma + (int)(b % c->sw_window), j) = D;
            MG_AT(st, oc->row_sw + 3, j) += 1.0;
            if (b >= oc->st_b0)
                mg_obs_stats_bin(oc, st, b, j);
            for (int a = 0; a < P; ++a)
                MG_AT(st, oc->row_st_n + a, j) = 0.0;
        }
    }
    int segment_done = 0;
    if (oc->psd_L > 0 && (t + 1) % oc->psd_L == 0) {
        const int64_t pb = (t + 1) / oc->psd_L - 1;
        const int64_t N = oc->L.cfg.psd_n;
        if (pb >= oc->psd_b0) {
            const int64_t i = (pb - oc->psd_b0) % N;
            for (int a = 0; a < P; ++a)
                for (int j = 0; j < MG_VL; ++j)
                    MG_AT(st, oc->row_seg + a * N + i, j) =
                        MG_AT(st, oc->row_psd_n + a, j) * oc->psd_scale[a];
            segment_done = i == N - 1;
        }
        for (int a = 0; a < P; ++a)
            for (int j = 0; j < MG_VL; ++j)
                MG_AT(st, oc->row_psd_n + a, j) = 0.0;
    }
    if (oc->tm_L > 0) {
        for (int a = 0; a < P; ++a) {
            MG_SIMD
            for (int j = 0; j < MG_VL; ++j)
                MG_AT(st, oc->row_tm_n + a, j) += n[a * MG_VL + j];
        }
        if ((t + 1) % oc->tm_L == 0) {
            const int64_t b = (t + 1) / oc->tm_L - 1;
            for (int a = 0; a < P; ++a)
                for (int j = 0; j < MG_VL; ++j) {
                    if (b < oc->tm_B)
                        MG_AT(st, oc->row_tm_A + a * oc->tm_B + b, j) =
                            MG_AT(st, oc->row_tm_n + a, j) * oc->tm_scale[a];
                    MG_AT(st, oc->row_tm_n + a, j) = 0.0;
                }
        }
    }
    return segment_done;
}

/* Add the spectra of lane j's completed segment, given its Fourier coefficients
 * X_a(k) = sum_i A_a(i) e^{-2 pi i k i / n}, k = 1..F: Re X_a(k) at re[a * ps + (k-1) * ks],
 * Im at im[...] (host: ps = F, ks = 1; device: cuFFT's interleaved output). Adds the
 * periodogram |X|^2 dt / n (MODEL.md §4.3) and the cross terms X_a conj(X_b) dt / n, a < b. */
static inline MG_HD void mg_obs_add_spectrum(const mg_obs_cfg *oc, mg_lanes st, int j,
                                             const double *re, const double *im, int64_t ps,
                                             int64_t ks)
{
    const int P = oc->P;
    const int64_t F = oc->L.F;
    const double w = oc->L.cfg.psd_bin_ms * 1e-3 / (double)oc->L.cfg.psd_n;
    for (int a = 0; a < P; ++a)
        for (int64_t k = 0; k < F; ++k) {
            double x = re[a * ps + k * ks], y = im[a * ps + k * ks];
            MG_AT(st, oc->row_psd + a * F + k, j) += (x * x + y * y) * w;
        }
    int64_t pr = 0, C = (int64_t)P * (P - 1) / 2;
    for (int a = 0; a < P; ++a)
        for (int b = a + 1; b < P; ++b, ++pr)
            for (int64_t k = 0; k < F; ++k) {
                double xa = re[a * ps + k * ks], ya = im[a * ps + k * ks];
                double xb = re[b * ps + k * ks], yb = im[b * ps + k * ks];
                MG_AT(st, oc->row_csd + pr * F + k, j) += (xa * xb + ya * yb) * w;
                MG_AT(st, oc->row_csd + (C + pr) * F + k, j) += (ya * xb - xa * yb) * w;
            }
    MG_AT(st, oc->row_psd_nseg, j) += 1.0;
}

/* The contribution of lane j to the ensemble sums (layout oc->L): ri[n_i], rd[n_d], both
 * written in full. The last dwell of the realization is censored here. */
static inline MG_HD void mg_obs_record(const mg_obs_cfg *oc, mg_lanes st, int j, int64_t *ri,
                                       double *rd)
{
    const int P = oc->P;
    const mg_stats_layout *L = &oc->L;
    const mg_stats_cfg *c = &L->cfg;
    const int64_t F = L->F, C = (int64_t)P * (P - 1) / 2;
    double cnt = MG_AT(st, oc->row_cnt, j);
    double nseg = MG_AT(st, oc->row_psd_nseg, j);
    ri[L->i_count] = (int64_t)cnt;
    ri[L->i_nreal] = cnt > 0.0 ? 1 : 0;
    ri[L->i_psd_seg] = (int64_t)nseg;
    ri[L->i_psd_nreal] = nseg > 0.0 ? 1 : 0;
    for (int64_t k = 0; k < (int64_t)P * (c->hist_bins + 2); ++k)
        ri[L->i_hist_A + k] = (int64_t)MG_AT(st, oc->row_hist_A + k, j);
    for (int k = 0; k < c->obs_bins + 2; ++k)
        ri[L->i_hist_obs + k] = (int64_t)MG_AT(st, oc->row_hist_obs + k, j);
    int s_last = (int)MG_AT(st, oc->row_sw, j);
    for (int s = 0; s < 2; ++s) {
        const int acc = oc->row_sw_acc + 6 * s;
        ri[L->i_sw_exits + s] = (int64_t)MG_AT(st, acc + 0, j);
        ri[L->i_sw_done + s] = (int64_t)MG_AT(st, acc + 1, j);
        ri[L->i_sw_cens + s] = (int64_t)MG_AT(st, acc + 2, j) + (s == s_last ? 1 : 0);
        rd[L->d_sw_expo + s] = MG_AT(st, acc + 3, j);
        rd[L->d_sw_d1 + s] = MG_AT(st, acc + 4, j);
        rd[L->d_sw_d2 + s] = MG_AT(st, acc + 5, j);
        for (int k = 0; k < c->dwell_bins + 2; ++k)
            ri[L->i_sw_hist + s * (c->dwell_bins + 2) + k] =
                (int64_t)MG_AT(st, oc->row_sw_hist + s * (c->dwell_bins + 2) + k, j);
    }
    for (int a = 0; a < P; ++a) {
        double s1 = MG_AT(st, oc->row_s1 + a, j);
        double s2 = MG_AT(st, oc->row_s2 + a * P + a, j);
        double mean = cnt > 0.0 ? s1 / cnt : 0.0;
        double var = cnt > 1.0 ? (s2 - s1 * s1 / cnt) / (cnt - 1.0) : 0.0;
        rd[L->d_s1 + a] = s1;
        rd[L->d_m1 + a] = mean;
        rd[L->d_m2 + a] = mean * mean;
        rd[L->d_v1 + a] = var;
        rd[L->d_v2 + a] = var * var;
        for (int b = 0; b < P; ++b)
            rd[L->d_s2 + a * P + b] = MG_AT(st, oc->row_s2 + a * P + b, j);
        for (int64_t k = 0; k < F; ++k) {
            double ps = MG_AT(st, oc->row_psd + a * F + k, j);
            double pm = nseg > 0.0 ? ps / nseg : 0.0;
            rd[L->d_psd + a * F + k] = ps;
            rd[L->d_psd_m1 + a * F + k] = pm;
            rd[L->d_psd_m2 + a * F + k] = pm * pm;
        }
    }
    for (int64_t k = 0; k < C * F; ++k) {
        rd[L->d_csd_re + k] = MG_AT(st, oc->row_csd + k, j);
        rd[L->d_csd_im + k] = MG_AT(st, oc->row_csd + C * F + k, j);
    }
    /* interspike intervals are the micro level's (mg_micro_isi_record fills them) */
    for (int64_t k = 0; k < (int64_t)P * (c->isi_bins + 2); ++k)
        ri[L->i_isi_hist + k] = 0;
    for (int a = 0; a < P; ++a) {
        ri[L->i_isi_n + a] = 0;
        rd[L->d_isi_s1 + a] = 0.0;
        rd[L->d_isi_s2 + a] = 0.0;
    }
    /* time-resolved: one sample per bin and realization */
    const int64_t B = c->time_bins;
    if (B > 0) {
        ri[L->i_tm_nreal] = 1;
        for (int a = 0; a < P; ++a)
            for (int64_t b = 0; b < B; ++b) {
                const double A_a = MG_AT(st, oc->row_tm_A + a * B + b, j);
                rd[L->d_tm_s1 + a * B + b] = A_a;
                for (int q = 0; q < P; ++q)
                    rd[L->d_tm_s2 + ((int64_t)a * P + q) * B + b] =
                        A_a * MG_AT(st, oc->row_tm_A + q * B + b, j);
            }
    }
}

#endif /* MESOGIF_CORE_OBSERVE_H */
