/* include/mesogif/run.h: one ensemble run: options, the result, and the call that makes it.
 *
 * A run simulates realizations [realization_first, realization_first + realization_count) of one
 * model at one level (meso: MODEL.md §2; micro: MODEL.md §1.3). Realization r depends only on
 * (model, options that change the dynamics, seed, r): never on threads, batch size, backend,
 * shard or the other realizations of the run. */
#ifndef MESOGIF_RUN_H
#define MESOGIF_RUN_H

#include <stdint.h>
#include "mesogif/error.h"
#include "mesogif/model.h"
#include "mesogif/stats.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum { MG_LEVEL_MESO = 0, MG_LEVEL_MICRO = 1 } mg_level;

/* How the meso spike count n(t) is drawn from its expectation n_bar (MODEL.md §2.5). */
typedef enum {
    MG_NOISE_BINOMIAL = 0,      /* n ~ Binomial(N, n_bar/N), the default */
    MG_NOISE_POISSON = 1,       /* NEST's BinoRand = false */
    MG_NOISE_DETERMINISTIC = 2  /* n = n_bar (real-valued): the N -> infinity limit */
} mg_noise;

typedef enum { MG_BACKEND_AUTO = 0, MG_BACKEND_CPU = 1, MG_BACKEND_CUDA = 2 } mg_backend;

/* The meso CUDA kernel (every one computes the CPU's bits): AUTO the default of this build for
 * the model, THREAD one thread per realization, WARP eight lanes per realization (four per
 * warp), WARP64 the same capped at 64 registers. No effect on the CPU or at the micro level. */
typedef enum {
    MG_CUDA_KERNEL_AUTO = 0,
    MG_CUDA_KERNEL_THREAD = 1,
    MG_CUDA_KERNEL_WARP = 2,
    MG_CUDA_KERNEL_WARP64 = 3
} mg_cuda_kernel;

/* Quenched connectivity of the micro level (MODEL.md §1.2; projections with p < 1 or an explicit
 * rule). Either way it is reproducible from the seed alone (stream MG_STREAM_CONNECT). */
typedef enum {
    MG_CONN_PER_REALIZATION = 0, /* every realization draws its own network (the default) */
    MG_CONN_SHARED = 1           /* one network for the whole ensemble (less memory) */
} mg_connectivity;

/* Progress report, called from one thread at most every ~second (and once at the end). */
typedef struct {
    int64_t realizations_done;   /* completed realizations */
    int64_t realizations_total;
    double sim_s_done;           /* biological seconds simulated, summed over realizations */
    double wall_s;               /* since the start of the run */
} mg_progress;
typedef void (*mg_progress_fn)(const mg_progress *p, void *user);

typedef struct {
    mg_level level;
    mg_noise noise;
    mg_backend backend;
    double dt_ms;                /* time step, > 0 */
    double t_sim_ms;             /* simulated time per realization, > 0 (warm-up included) */
    double t_warmup_ms;          /* statistics ignore [0, t_warmup), >= 0, < t_sim */
    double record_bin_ms;        /* trace bin, a multiple of dt */
    double stats_bin_ms;         /* bin of A for the moments, a multiple of dt */
    int64_t realization_first;   /* >= 0 */
    int64_t realization_count;   /* >= 1 */
    /* shard bookkeeping, recorded in the file (the range above is what runs): shard
     * shard_index of shard_count of realizations_total realizations; 0/1/count when unsharded */
    int64_t shard_index, shard_count, realizations_total;
    int64_t record_realizations; /* traces of the first k realizations of the range, >= 0 */
    uint32_t seed;
    int threads;                 /* OpenMP threads, 0 = all */
    int64_t batch;               /* realizations per work item (CPU) or device batch (CUDA); 0 = auto
                                  * (the micro CPU backend always works in blocks of 8) */
    mg_connectivity connectivity; /* micro only: per-realization (default) or shared network */
    /* statistics (include/mesogif/stats.h; 0 or "" = the default of mg_stats_cfg_default) */
    double psd_df_hz;            /* spectral resolution; < 0: no spectra */
    double psd_bin_ms;           /* spectral sample bin, a multiple of dt */
    int onesided;                /* one-sided spectra (2 S(f)) */
    char switch_observable[256]; /* e.g. "A1-A2" */
    double switch_smooth_ms;     /* moving-average window of the observable */
    double switch_lo, switch_hi; /* hysteresis thresholds (Hz); used when switch_lo < switch_hi */
    int stats_basic;             /* 1: moments only (--stats basic) */
    double hist_max_hz;          /* histograms of A on [0, max) */
    int hist_bins;
    int theory;                  /* 1: compute the mean-field theory of the model after the run
                                    into mg_result.theory (src/theory/theory_run.c), written under
                                    /theory; does not change the simulation */
    /* checkpoints: written to checkpoint_path (NULL: never) every checkpoint_every_s seconds of
     * wall time (0: only when cancelled) and when *cancel becomes non-zero; a cancelled run with
     * a checkpoint path returns MG_EINTR after writing it. resume_path: continue from that
     * checkpoint (written by a run with the same run key) instead of starting afresh. */
    const char *checkpoint_path;
    double checkpoint_every_s;
    const char *resume_path;
    const char *output_path;     /* recorded in checkpoints, so that a resume knows it */
    mg_progress_fn progress;     /* may be NULL */
    void *progress_user;
    volatile int *cancel;        /* may be NULL; set non-zero to stop early (signals) */
    mg_cuda_kernel cuda_kernel;  /* meso CUDA kernel (MG_CUDA_KERNEL_AUTO) */
    double stats_time_ms;        /* time-resolved statistics across realizations in bins of this
                                  * (a multiple of dt) from the start of the run (/stats/time,
                                  * include/mesogif/stats.h); < 0: none; 0: the default, the
                                  * statistics bin when a population has a time-dependent input
                                  * (step current or mg_pop_has_stimulus) and the record of a
                                  * realization fits MG_STATS_TIME_MAX_BYTES, else none */
} mg_run_opts;

/* Defaults: meso, binomial, auto backend, dt 0.5 ms, 10 s, warm-up 1 s, bins 1 ms / 10 ms,
 * realizations [0, 1), 1 recorded, seed 1, all threads, auto batch, per-realization network. */
void mg_run_opts_default(mg_run_opts *o);

/* A named derived quantity, written under /config/resolved (e.g. "P1/K", "P1/E_m"). */
typedef struct {
    char name[2 * MG_NAME_MAX + 64];
    double value;
} mg_resolved;

/* Spikes of the recorded realizations of one population (micro only), SONATA layout:
 * node_id = k * N + i for neuron i of the k-th recorded realization. */
typedef struct {
    int64_t n;
    double *t_ms;                /* [n] spike times (ms): start of the emitting step, sorted */
    uint64_t *node_id;           /* [n] k * n_neurons + i, sorted by (t_ms, node_id) */
    int64_t n_neurons;           /* N of the population */
} mg_spikes;

typedef struct {
    mg_run_opts opts;            /* as run (defaults resolved) */
    int P;
    char (*pop_names)[MG_NAME_MAX]; /* [P] */
    const char *backend_name;    /* "cpu" or "cuda" */
    char device[128];            /* "2 OpenMP threads on <cpu>" or the GPU's name */
    int n_resolved;
    mg_resolved *resolved;       /* [n_resolved] */
    /* traces of the first k realizations, float32 [k][P][T], T contiguous (Hz) */
    int64_t trace_k, trace_T;
    double trace_bin_ms;
    float *A_N;
    float *A_bar;                /* meso only, NULL for micro */
    mg_spikes *spikes;           /* [P], micro only (NULL for meso) */
    mg_stats stats;              /* sufficient statistics of the whole range */
    double wall_s;               /* wall-clock seconds of the simulation */
    double mem_bytes_per_realization;
    double device_bytes;         /* device memory used by the CUDA backend (0 on the CPU) */
    int partial;                 /* 1: stopped by a numerical fault (MG_ENUM); what is here was
                                  * computed before it: finished realizations, traces so far */
    char partial_reason[MG_ERR_LEN];
    char *run_key;               /* canonical identity of the run (src/engine/run_key.c), owned */
    char run_hash[17];           /* its 64-bit FNV-1a hash, hex */
    /* opts.theory: the mean-field theory of the model (include/mesogif/theory.h), computed after
     * the simulation, owned; NULL when not asked for or when it could not be computed: then
     * theory_error says why (a theory never costs the run) */
    struct mg_run_theory *theory;
    char theory_error[MG_ERR_LEN];
} mg_result;

/* Validate opts against model m (dt multiples, delays >= dt, sizes and memory), then simulate.
 * On success fills *res (free with mg_result_free) and returns MG_OK. Errors: MG_EINVAL (bad
 * option or model/option combination, message names the option or JSON path), MG_ENOMEM,
 * MG_ENODEV (CUDA asked for but absent), MG_ECUDA, MG_EINTR (cancelled: *res holds nothing),
 * MG_ENUM (NaN/Inf in the state: *res holds the partial result, res->partial = 1, free it). Uses opts->threads OpenMP threads; not reentrant with
 * respect to the progress callback only. */
int mg_run(const mg_model *m, const mg_run_opts *opts, mg_result *res, mg_err *err);

/* Memory the run would need (bytes): per realization of state, and in total (state of the
 * realizations simulated at once + traces + statistics). Validates like mg_run, including the
 * memory limit: MG_ENOMEM when the total exceeds 80 % of the machine, with both estimates
 * still filled in. */
int mg_run_estimate(const mg_model *m, const mg_run_opts *opts, double *per_realization,
                    double *total, mg_err *err);

void mg_result_free(mg_result *res);

/* An ensemble run set up once, for a caller that looks before it runs (the command line:
 * --dry-run, the backend line, the checks of the output, then the run). mg_ensemble_alloc
 * validates opts against m, derives the per-step model, lays out state and statistics and checks
 * the memory, exactly as mg_run_estimate (*per_realization and *total, when not NULL, are filled
 * on MG_OK and MG_ENOMEM), and asks for a CUDA device unless opts->backend is MG_BACKEND_CPU;
 * *ens is NULL on failure. m must outlive it. mg_ensemble_cuda: 1 and the device's name if the
 * probe found one, else 0 and why not (as mg_cuda_available). mg_ensemble_run simulates it as
 * mg_run does (once); mg_ensemble_free releases it (NULL-safe). mg_run is these three. */
typedef struct mg_ensemble mg_ensemble;
int mg_ensemble_alloc(const mg_model *m, const mg_run_opts *opts, mg_ensemble **ens,
                      double *per_realization, double *total, mg_err *err);
int mg_ensemble_cuda(const mg_ensemble *ens, char *name, int len);
int mg_ensemble_run(mg_ensemble *ens, mg_result *res, mg_err *err);
void mg_ensemble_free(mg_ensemble *ens);

/* What a checkpoint file (written by a run with checkpoint_path set) holds to be continued:
 * the model text and its source name, the options (pointers cleared; set resume_path to
 * continue) and the output path it was writing. Strings are malloc'ed (caller frees).
 * MG_EIO if unreadable, MG_EINVAL if it is not a checkpoint of this program version. */
int mg_run_checkpoint_read(const char *path, char **model_json, char **model_source,
                           mg_run_opts *opts, char **out_path, mg_err *err);

/* A checkpoint opened once to resume from it: mg_resume_alloc opens and checks path and gives
 * what it holds, as mg_run_checkpoint_read; mg_ensemble_resume hands it to an ensemble set up
 * from that model and those options with resume_path set, whose run then continues from the
 * checkpoint's state without opening the file again; mg_resume_free closes it (NULL-safe; after
 * the run). */
typedef struct mg_resume mg_resume;
int mg_resume_alloc(const char *path, mg_resume **rs, char **model_json, char **model_source,
                    mg_run_opts *opts, char **out_path, mg_err *err);
int mg_ensemble_resume(mg_ensemble *ens, mg_resume *rs, mg_err *err);
void mg_resume_free(mg_resume *rs);

/* Free P populations' spike arrays and the array itself (NULL-safe). */
void mg_spikes_free(mg_spikes *s, int P);

/* 1 if this build has the CUDA backend and a device answers (its name in name), else 0 and
 * a reason in name ("no CUDA device answers", "built without CUDA"). */
int mg_cuda_available(char *name, int len);

/* Human-readable names, for files and messages. */
const char *mg_level_name(mg_level l);
const char *mg_noise_name(mg_noise n);
const char *mg_cuda_kernel_name(mg_cuda_kernel k);

#ifdef __cplusplus
}
#endif

#endif /* MESOGIF_RUN_H */
