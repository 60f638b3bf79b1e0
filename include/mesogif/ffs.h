/* include/mesogif/ffs.h: switching rates of metastable states by direct forward flux sampling
 * (FFS: Allen, Warren & ten Wolde, PRL 94:018104, 2005; review Allen, Valeriani & ten Wolde,
 * J Phys Condens Matter 21:463102, 2009). docs/SWITCHING.md has the method, its assumptions
 * and how the 95 % interval is made.
 *
 * The quantity estimated is the one `mesogif run` reports as exits / exposure under
 * /stats/switching: the smoothed observable D (--switch-observable, --switch-smooth, at the
 * statistics bin) with the hysteresis thresholds lo < hi; basin "low" is entered when D < lo and
 * "high" when D > hi; the rate from low is the number of low -> high flips per second spent in
 * state low. The estimate is bitwise reproducible for (model, options, seed): never dependent
 * on the number of threads. */
#ifndef MESOGIF_FFS_H
#define MESOGIF_FFS_H

#include <stdint.h>
#include "mesogif/error.h"
#include "mesogif/model.h"
#include "mesogif/run.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Most interfaces per direction (the last one is the other basin's threshold), so most stages. */
#define MG_FFS_IF_MAX 32

typedef enum { MG_FFS_FFS = 0, MG_FFS_BRUTE = 1 } mg_ffs_method;

typedef struct {
    mg_level level;              /* MG_LEVEL_MESO or MG_LEVEL_MICRO */
    mg_noise noise;
    mg_backend backend;          /* auto and cpu run on the CPU (cuda: not yet) */
    double dt_ms;                /* > 0 */
    double stats_bin_ms;         /* bin of the observable, a multiple of dt */
    double t_warmup_ms;          /* basin runs start counting after this, >= 0 */
    /* switching analysis of `run` (0 / "" = its defaults: A1-A2, 50 ms, -5,5 Hz) */
    char switch_observable[256];
    double switch_smooth_ms;
    double switch_lo, switch_hi; /* used when switch_lo < switch_hi */
    double rel_err;              /* target relative standard error of each rate, in (0, 1) */
    /* interfaces (Hz, values of the smoothed observable) strictly between lo and hi and
     * strictly increasing; n_interfaces = 0: placed automatically (docs/SWITCHING.md). The
     * direction from low crosses them upwards, the one from high downwards; the other basin's
     * threshold is the last interface of each. */
    int n_interfaces;
    double interfaces[MG_FFS_IF_MAX - 1];
    uint32_t seed;
    int threads;                 /* OpenMP threads, 0 = all */
    int64_t basin_realizations;  /* realizations of the basin runs, >= 2 */
    double basin_budget_s;       /* most simulated seconds of the basin runs (all realizations
                                  * together) spent looking for crossings of the first
                                  * interfaces; a basin never left within it is an error */
    double trial_max_s;          /* longest trial (simulated s); a trial that neither reaches
                                  * its interface nor falls back within it is an error */
    int64_t trials_first;        /* trials per stage in the first pass, >= 8 */
    int64_t pilot_trials;        /* trials of the pilot that places an interface (auto) */
    double p_target;             /* stage success probability auto placement aims at */
    int64_t pool_max;            /* most stored crossing states per interface (0: the level's
                                  * default, 2048 meso, 256 micro) */
    double budget_s;             /* most simulated seconds in all (basin, pilots, trials); when
                                  * reached, the estimate so far is returned with reached = 0 */
    int64_t batch;               /* trials handed to the engine at once (0: auto, <= 1024 and
                                  * at most ~256 MB of end states); memory only, never results */
    void (*log)(const char *line, void *user); /* progress lines (may be NULL) */
    void *log_user;
    volatile int *cancel;        /* may be NULL; non-zero: stop (MG_EINTR, or MG_ESTOPPED after
                                  * writing checkpoint_path) */
    const char *checkpoint_path; /* NULL: no checkpoint when cancelled */
    const char *resume_path;     /* continue from this checkpoint (written with these options) */
    const char *output_path;     /* recorded in checkpoints */
} mg_ffs_opts;

/* Per direction d: 0 = from low (A = low, B = high), 1 = from high. */
typedef struct {
    mg_ffs_opts opts;            /* as run (defaults resolved) */
    char observable[256];
    double lo, hi, smooth_ms;
    double rate_hz[2], rate_ci_low[2], rate_ci_high[2];
    double rate_rel_se[2];       /* relative standard error of the rate: the flux's and the
                                  * larger of the two below, in quadrature */
    double rate_rel_se_stages[2];/* of prod p: the stages' errors, stages independent */
    double rate_rel_se_tree[2];  /* of prod p: bootstrap over trial trees (basin crossings) */
    int reached[2];              /* 1: rate_rel_se <= rel_err */
    double flux_hz[2];           /* first crossings of interface 0 per second in state A */
    double flux_rel_se[2];
    int64_t flux_crossings[2];
    double exposure_s[2];        /* basin time in state A that the flux is counted over */
    double basin_core[2];        /* edge of A (Hz of the observable): the threshold of `run`, or
                                  * a deeper core when the threshold is rarely reached */
    int n_stages[2];
    double interfaces[2][MG_FFS_IF_MAX + 1];   /* [n_stages + 1] observable values (Hz) */
    int64_t trials[2][MG_FFS_IF_MAX];          /* [n_stages] */
    int64_t successes[2][MG_FFS_IF_MAX];
    int64_t start_states[2][MG_FFS_IF_MAX];    /* distinct stored states the trials started from */
    double p[2][MG_FFS_IF_MAX];
    double p_rel_se[2][MG_FFS_IF_MAX];
    double trial_s[2];           /* simulated seconds of the trials and pilots of a direction */
    double basin_s;              /* simulated seconds of the basin runs (warm-up included) */
    double wall_s;
    double state_bytes;          /* bytes of one stored state */
    const char *backend_name;
    char device[128];
} mg_ffs_result;

/* Defaults: meso, binomial, auto backend, dt 0.5 ms, stats bin 10 ms, warm-up 1 s, rel_err 0.1,
 * auto interfaces, seed 1, 64 basin realizations, basin budget 5000 s, trials up to 100 s, 256
 * trials per stage first, 64 pilot trials, p_target 0.3, the level's states per interface
 * (pool_max 0), total budget 1e7 s, automatic batch. */
void mg_ffs_opts_default(mg_ffs_opts *o);

/* Check the options against model m (MG_EINVAL naming the option otherwise) and estimate the
 * memory: bytes of one stored state and the most the state pools can take. MG_ENOMEM (with both
 * filled in) when that exceeds 80 % of the machine. */
int mg_ffs_estimate(const mg_model *m, const mg_ffs_opts *o, double *state_bytes,
                    double *total_bytes, mg_err *err);

/* Estimate both rates. MG_OK and *r filled; MG_EINVAL bad input or a basin never left within
 * the budget (message names it); MG_ENUM numerical fault; MG_EINTR cancelled without a
 * checkpoint path; MG_ESTOPPED cancelled after writing the checkpoint (src/ffs/ffs_ckpt.c; continue
 * with resume_path: the same bits as an uninterrupted estimate); MG_ENOMEM. */
int mg_ffs_run(const mg_model *m, const mg_ffs_opts *o, mg_ffs_result *r, mg_err *err);

/* The options of `mesogif run` that estimate the same rates by brute force (exits / exposure
 * under /stats/switching): o's level, noise, backend, time step, statistics bin (also the trace
 * bin), warm-up, observable, smoothing, thresholds, seed, threads and cancel flag;
 * o->basin_realizations realizations, each brute_ms / basin_realizations ms after the warm-up;
 * no traces, no spectra. brute_ms: simulated ms after the warm-up, all realizations together,
 * > 0 and finite. Returns MG_OK with *ro filled, or MG_EINVAL naming --brute-time or
 * --basin-realizations (*ro unchanged). The other options are checked by mg_ffs_estimate and mg_run. */
int mg_ffs_brute_opts(const mg_ffs_opts *o, double brute_ms, mg_run_opts *ro, mg_err *err);

/* What a checkpoint holds to be continued: the options (pointers cleared), the model text and
 * its source, the output path (strings malloc'ed). MG_EIO unreadable, MG_EINVAL not a
 * checkpoint of this build. */
int mg_ffs_checkpoint_read(const char *path, mg_ffs_opts *o, char **model_json,
                           char **model_source, char **out_path, mg_err *err);

/* Write r as an HDF5 file (root attributes of a run file, /config/model_json, and
 * /switching/ffs; docs/FILE_FORMAT.md) via path.partial and a rename. MG_EIO on failure. */
int mg_ffs_write_h5(const char *path, const mg_ffs_result *r, const mg_model *m,
                    const char *command_line, int force, mg_err *err);

#ifdef __cplusplus
}
#endif

#endif /* MESOGIF_FFS_H */
