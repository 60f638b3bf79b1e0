/* include/mesogif/stats.h: mergeable sufficient statistics of an ensemble (DESIGN.md property 4).
 *
 * Everything kept is a sum over (realization, bin) samples, over spectral segments or over
 * realizations: integer counts in `i`, floating sums in `d`. Merging two disjoint sets of
 * realizations is therefore the elementwise sum of the two arrays (mg_stats_add); the derived
 * quantities (moments, spectra, switching rates with confidence limits) are recomputed from the
 * sums by mg_stats_finalize. The configuration (mg_stats_cfg) fixes the shape, so files, shards
 * and the GPU agree on it. Shapes below: P populations, F spectral frequencies, NA histogram
 * bins of A, NO bins of the switching observable, ND dwell-time bins, C = P (P - 1) / 2 pairs. */
#ifndef MESOGIF_STATS_H
#define MESOGIF_STATS_H

#include <stdint.h>
#include "mesogif/error.h"

#ifdef __cplusplus
extern "C" {
#endif

#define MG_STATS_POP_MAX 64
#define MG_OBSERVABLE_LEN 256

/* What is measured (all fixed before the run). */
typedef struct {
    int P;
    double bin_ms;               /* bin of A for moments, histograms and switching */
    /* spectra (MODEL.md §4.3): segments of psd_n samples of A at psd_bin_ms, DC dropped */
    int64_t psd_n;               /* samples per segment; 0 = no spectra */
    double psd_bin_ms;
    int onesided;                /* 0: two-sided S(f) (the convention of the sources); 1: 2 S(f) */
    /* histograms */
    int hist_bins;               /* NA bins of A on [0, hist_max_hz) */
    double hist_max_hz;
    int obs_bins;                /* NO bins of the observable on [-obs_max_hz, obs_max_hz) */
    double obs_max_hz;
    /* switching: observable = sum_p sw_coef[p] A_p at bin_ms, moving average over sw_window
     * bins, hysteresis: state "high" (1) once it exceeds sw_hi, "low" (0) once below sw_lo */
    char observable[MG_OBSERVABLE_LEN];
    double sw_coef[MG_STATS_POP_MAX];
    int sw_window;               /* bins of the moving average, >= 1 */
    double sw_lo, sw_hi;         /* Hz, sw_lo < sw_hi */
    int dwell_bins;              /* ND log-spaced bins on [dwell_min_s, dwell_max_s) */
    double dwell_min_s, dwell_max_s;
    int basic;                   /* 1: moments only (no spectra, histograms, switching, ISIs):
                                  * the baseline the cost of the statistics is measured against */
    /* interspike intervals (micro only): NI bins on [0, isi_max_s) */
    int isi_bins;
    double isi_max_s;
    /* time-resolved statistics across realizations (--stats-time): time_bins bins of
     * time_bin_ms from the start of the run (warm-up included); 0 bins = none */
    double time_bin_ms;
    int64_t time_bins;
} mg_stats_cfg;

typedef struct {
    mg_stats_cfg cfg;
    int P;
    int64_t F;                   /* psd_n / 2 frequencies k = 1 .. psd_n/2 (0 if no spectra) */
    /* integer fields (offsets into i[]) */
    int64_t i_count;     /* [1] (realization, bin) samples behind the moments */
    int64_t i_nreal;     /* [1] realizations with at least one sample */
    int64_t i_psd_seg;   /* [1] spectral segments (all realizations) */
    int64_t i_psd_nreal; /* [1] realizations with at least one segment */
    int64_t i_hist_A;    /* [P][NA + 2]: underflow, NA bins, overflow */
    int64_t i_hist_obs;  /* [NO + 2] */
    int64_t i_sw_exits;  /* [2] exits from state s (switches out of it) */
    int64_t i_sw_done;   /* [2] complete dwells (entered and left while observed) */
    int64_t i_sw_cens;   /* [2] censored dwells (begun before the observation or cut at its end) */
    int64_t i_sw_hist;   /* [2][ND + 2] complete dwell times: underflow, ND bins, overflow */
    int64_t i_isi_hist;  /* [P][NI + 2] interspike intervals after the warm-up (micro) */
    int64_t i_isi_n;     /* [P] intervals counted */
    int64_t n_i;
    /* floating fields (offsets into d[]) */
    int64_t d_s1;        /* [P]    sum of A_p (Hz) */
    int64_t d_s2;        /* [P][P] sum of A_p A_q (Hz^2) */
    int64_t d_m1;        /* [P]    sum over realizations of the realization's mean A_p */
    int64_t d_m2;        /* [P]    ... of its square */
    int64_t d_v1;        /* [P]    sum over realizations of the realization's variance of A_p */
    int64_t d_v2;        /* [P]    ... of its square */
    int64_t d_psd;       /* [P][F] sum over segments of the periodogram (Hz) */
    int64_t d_psd_m1;    /* [P][F] sum over realizations of the realization's mean periodogram */
    int64_t d_psd_m2;    /* [P][F] ... of its square */
    int64_t d_csd_re;    /* [C][F] sum over segments of Re(X_a conj X_b) dt / n, pairs a < b */
    int64_t d_csd_im;    /* [C][F] imaginary part */
    int64_t d_sw_expo;   /* [2] time observed in state s (s), censored dwells included */
    int64_t d_sw_d1;     /* [2] sum of complete dwell times (s) */
    int64_t d_sw_d2;     /* [2] sum of their squares (s^2) */
    int64_t d_isi_s1;    /* [P] sum of the intervals (s) */
    int64_t d_isi_s2;    /* [P] sum of their squares (s^2) */
    int64_t n_d;
    /* time-resolved sums (only with cfg.time_bins = B > 0; else -1 and no space): per
     * realization one sample per population and bin, so the sums over realizations are
     * exact sufficient statistics of mean and covariance of A at each time */
    int64_t i_tm_nreal;  /* [1]       realizations behind the time-resolved sums */
    int64_t d_tm_s1;     /* [P][B]    sum over realizations of A_p(bin) (Hz) */
    int64_t d_tm_s2;     /* [P][P][B] sum of A_p(bin) A_q(bin) (Hz^2) */
} mg_stats_layout;

typedef struct {
    mg_stats_layout L;
    double bin_ms;       /* = L.cfg.bin_ms */
    int64_t *i;          /* [L.n_i] */
    double *d;           /* [L.n_d] */
    /* derived by mg_stats_finalize (owned; NULL before) */
    double *mean_A;      /* [P] Hz */
    double *var_A;       /* [P] Hz^2, unbiased over all samples */
    double *cov_A;       /* [P][P] Hz^2 */
    double *mean_A_sem;  /* [P] Hz, standard error of mean_A from the spread across realizations */
    double *var_A_sem;   /* [P] Hz^2, standard error of the realizations' variances */
    double *freq;        /* [F] Hz */
    double *psd;         /* [P][F] Hz (two-sided unless cfg.onesided) */
    double *psd_sem;     /* [P][F] across realizations */
    double *csd_re, *csd_im; /* [C][F] */
    double rate_hz[2], rate_ci_low[2], rate_ci_high[2]; /* exits / exposure, exact 95 % */
    double mean_dwell_s[2], cv_dwell[2];
    double *dwell_edges_s;   /* [ND + 1] */
    double *hist_A_edges;    /* [NA + 1] */
    double *hist_obs_edges;  /* [NO + 1] */
    double *isi_mean_s;      /* [P] mean interspike interval (NaN without intervals) */
    double *isi_cv;          /* [P] its coefficient of variation */
    double *isi_edges_s;     /* [NI + 1] */
    /* time-resolved (cfg.time_bins = B > 0; NULL otherwise), across realizations */
    double *tm_t_s;          /* [B] start of each bin (s, from the start of the run) */
    double *tm_mean_A;       /* [P][B] Hz */
    double *tm_var_A;        /* [P][B] Hz^2, unbiased across realizations */
    double *tm_cov_A;        /* [P][P][B] Hz^2 */
    double *tm_mean_A_sem;   /* [P][B] Hz, sqrt(var / R) */
} mg_stats;

/* Default configuration for P populations at bin_ms: spectra with df = 1 Hz at 1 ms (when 1 ms
 * is a multiple of dt_ms; else at dt), histograms of A on [0, 200) Hz in 400 bins, observable
 * A1 - A2 (A1 for one population) on [-100, 100) Hz in 400 bins, 50 ms moving average,
 * thresholds -5 / +5 Hz (MODEL.md §3(a)), dwell times on [1 ms, 1e4 s) in 70 log bins,
 * interspike intervals on [0, 2 s) in 200 bins of 10 ms (S2's get_isih, MODEL.md §5). */
void mg_stats_cfg_default(mg_stats_cfg *c, int P, double bin_ms, double dt_ms);

/* Parse an observable "A1-A2", "0.5*A1+A3", "A2" (A<k> = k-th population, 1-based) into
 * c->sw_coef and c->observable. MG_EINVAL with a message naming the term otherwise. */
int mg_stats_parse_observable(mg_stats_cfg *c, const char *text, mg_err *err);

/* Check a configuration (sizes, ranges). MG_EINVAL with "--option: ..." otherwise. */
int mg_stats_cfg_check(const mg_stats_cfg *c, mg_err *err);

/* The record of one realization with time-resolved statistics is (P + P^2) B doubles: refused
 * above this many bytes (MG_EINVAL, naming --stats-time, by mg_stats_cfg_check). */
#define MG_STATS_TIME_MAX_BYTES (64.0 * 1024 * 1024)

/* Fill the layout for configuration c. Pure. */
void mg_stats_layout_init(mg_stats_layout *L, const mg_stats_cfg *c);

/* Allocate zeroed sums for layout L. MG_ENOMEM on failure (s untouched). */
int mg_stats_alloc(mg_stats *s, const mg_stats_layout *L, mg_err *err);

/* dst += src, elementwise (layouts must be equal; returns MG_EINVAL otherwise). */
int mg_stats_add(mg_stats *dst, const mg_stats *src, mg_err *err);

/* Compute every derived quantity from the sums. NaN where undefined (too few samples). */
int mg_stats_finalize(mg_stats *s, mg_err *err);

void mg_stats_zero(mg_stats *s);
void mg_stats_free(mg_stats *s);

/* Exact 95 % confidence limits of a Poisson rate: n events in exposure T (any unit):
 * lower = chi2_{0.025}(2n) / (2T) (0 for n = 0), upper = chi2_{0.975}(2n + 2) / (2T). */
void mg_rate_ci95(int64_t n, double T, double *lo, double *hi);

/* Periodogram of one segment x[n] (sampled at dt_s): adds |dt sum_j x_j e^{-2 pi i k j/n}|^2
 * / (n dt) for k = 1 .. n/2 to out[k-1] (the MODEL.md §4.3 convention). Reference
 * implementation with FFTW for tests and for the CPU backend's per-lane use through
 * mg_psd_plan; thread-safe given separate plans. */
typedef struct mg_psd_plan mg_psd_plan;
mg_psd_plan *mg_psd_plan_alloc(int64_t n);
void mg_psd_plan_free(mg_psd_plan *p);
/* Transform x[n] (copied), returning the complex coefficients X_k, k = 1..n/2, in re/im. */
void mg_psd_transform(mg_psd_plan *p, const double *x, double *re, double *im);
/* The same transform, all of it: X[2k], X[2k + 1] = Re, Im X_k for k = 0..n/2 (interleaved
 * complex, the layout of cuFFT's real-to-complex output; the CUDA backends' host path). */
void mg_psd_transform_complex(mg_psd_plan *p, const double *x, double *X);

#ifdef __cplusplus
}
#endif

#endif /* MESOGIF_STATS_H */
