/* src/engine/job.h: the job a backend executes: the derived model, the observer layout, where the
 * results go, and the progress/cancel plumbing (src/engine/job.c). Set up and run by the driver
 * (mg_run, src/engine/run.c); shared by the CPU backends, the checkpoints and kernels/. Internal. */
#ifndef MESOGIF_ENGINE_JOB_H
#define MESOGIF_ENGINE_JOB_H

#include "engine/fail_note.h" /* mg_fail_note */
#include "mesogif/run.h"
#include "engine/meso_derive.h"
#include "core/observe.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Realizations are reduced in groups of MG_RGROUP consecutive indices, aligned to multiples of
 * MG_RGROUP in absolute realization index: group g holds [g G, (g+1) G) within the run's range.
 * Inside a group the per-realization records are summed in realization order, and the group
 * sums are then added in group order. This fixed tree makes the statistics bitwise independent
 * of threads, batch size and backend. (Fixed forever: changing it changes the last bits.) */
#define MG_RGROUP 32

/* A realization parked at a checkpoint: the next step to run and its state (the rows of its
 * lane, dynamics and observer). */
typedef struct {
    int64_t r;
    int64_t t;
    double *state;               /* [rows] */
} mg_inflight;

/* A reduction group in flight: its sums so far and the first realization whose record is not
 * yet in them (the group is complete when next reaches its end). */
typedef struct mg_gslot {
    int64_t g;                   /* relative group index; -1: free */
    int64_t next;
    int64_t *i;                  /* [L.n_i] */
    double *d;                   /* [L.n_d] */
} mg_gslot;

typedef struct mg_job {
    const mg_model *model;
    mg_run_opts opts;
    int64_t n_steps;             /* steps per realization */
    /* meso dynamics (level meso) */
    mg_meso_derived md;
    /* micro dynamics (level micro): src/engine/micro_derive.c owns it */
    struct mg_micro_derived *mi;
    int dyn_rows;                /* state rows of the dynamics; the observer's rows follow */
    /* observer (rows after the dynamics) */
    mg_obs_cfg oc;
    int rows;                    /* doubles of state per realization, dynamics + observer */
    /* statistics (src/engine/ensemble_groups.c): the groups before g_done are added in order into
     * sum_i [L.n_i] / sum_d [L.n_d]; the groups in flight are open slots of a ring */
    mg_stats_layout SL;
    int64_t g_first;             /* absolute index of the first group */
    int64_t n_groups;
    int64_t *sum_i;
    double *sum_d;
    int64_t g_done;              /* groups (relative) in the running sum */
    struct mg_gslot *slots;      /* [slot_cap], a power of two; open group g at g & (cap - 1) */
    int64_t slot_cap, n_open, open_peak;
    /* traces [k][P][T] */
    int64_t trace_k, trace_T;
    float *trace_AN, *trace_Abar;
    mg_spikes *spikes;           /* [P] recorded spikes (micro), handed to the result */
    /* progress (updated atomically by workers) */
    int64_t steps_done;          /* realization-steps */
    int64_t real_done;
    double t_start, t_last_report;
    double device_bytes;         /* device memory allocated by the CUDA backend */
    /* checkpoints (src/engine/checkpoint.c): progress that survives a restart (with the sums) */
    mg_inflight *inflight;       /* realizations parked mid-run */
    int n_inflight, cap_inflight;
    volatile int ckpt_request;   /* workers park their blocks at the next check and stop */
    double ckpt_last;            /* wall time of the last checkpoint */
    int64_t steps_base;          /* realization-steps done before this process (resume) */
    mg_fail_note fail;           /* set by a worker on error (NaN, cancel) */
} mg_job;

/* Lay out the observer (src/engine/observe_setup.c): rows from row0 on, for statistics layout L,
 * populations of N[p] neurons, time step dt_ms, n_steps steps, and recording / statistics /
 * spectral bins of rec_L / st_L / psd_L steps (psd_L ignored without spectra). MG_EINVAL if the
 * state would be too large. Used by the driver and by tests that feed synthetic counts. */
int mg_obs_setup(mg_obs_cfg *oc, const mg_stats_layout *L, const double *N, double dt_ms,
                 int64_t n_steps, int64_t rec_L, int64_t st_L, int64_t psd_L,
                 double t_warmup_ms, int row0, mg_err *err);

/* Checkpoint plumbing for backends (src/engine/job.c). mg_job_should_park: a checkpoint is due
 * (timer or signal, when checkpoints are enabled) and the caller must park its realizations
 * (mg_job_park, thread-safe, copies `rows` values strided by `stride` from state) and stop.
 * mg_job_unpark: if realization r was parked, copy its state into dst (strided), set *t to its
 * next step, forget it and return 1; else 0. */
int mg_job_should_park(const mg_job *job);
int mg_job_park(mg_job *job, int64_t r, int64_t t, const double *state, int64_t stride);
int mg_job_unpark(mg_job *job, int64_t r, int64_t *t, double *dst, int64_t stride);

/* The check a CPU backend's block of `valid` lanes (realizations r0 + j, state [rows][MG_VL])
 * makes every MG_CPU_CHECK_EVERY steps, after step t1 - 1: the steps since *counted go to the
 * progress (and *counted = t1); then it stops (-1) when the job failed elsewhere; parks every
 * lane and stops (1) when a checkpoint is due, pack(ctx, j) first laying lane j's whole state
 * out in its column; fails the job and stops (-1) on a cancel; else reports progress (0). One
 * for the meso and the micro backends (src/engine/backend_cpu.c, backend_cpu_micro.c). */
#define MG_CPU_CHECK_EVERY 512 /* cheap enough to be invisible, often enough that a cancel
                                  takes effect within a fraction of a second */
int mg_job_block_check(mg_job *job, int64_t t1, int64_t *counted, int64_t r0, int valid,
                       const double *state, void (*pack)(void *ctx, int j), void *ctx);
/* The block's `valid` lanes ran to the end: the steps since counted, and the lanes, are done. */
void mg_job_block_done(mg_job *job, int64_t counted, int valid);

/* Checkpoint files (src/engine/checkpoint.c). mg_checkpoint_write: everything needed to continue
 * (model text, options, run key, group sums and progress, parked realizations, traces) to
 * path via path.partial and a rename, so the previous checkpoint survives any failure.
 * mg_checkpoint_load: restore that into a job set up from the checkpoint's own model and
 * options (mg_checkpoint_read_setup gives those first). */
int mg_checkpoint_write(const mg_job *job, const char *path, mg_err *err);
int mg_checkpoint_read_setup(const char *path, char **model_json, char **model_source,
                             mg_run_opts *opts, char **run_key, char **out_path, mg_err *err);
int mg_checkpoint_load(mg_job *job, const char *path, mg_err *err);
/* mg_checkpoint_load from a checkpoint already opened by mg_resume_alloc (run.h). */
int mg_resume_load(mg_resume *rs, mg_job *job, mg_err *err);

/* The reduction groups (src/engine/ensemble_groups.c), g relative to g_first; callers serialize.
 * mg_job_group_next: the first realization of group g whose record is not yet summed (its end
 * when complete). mg_job_group_peek: the open slot of g, or NULL. mg_job_group_open: that slot,
 * opened (zero sums, next = its first realization) if needed; NULL when out of memory or g is
 * already summed. mg_job_group_advance: records up to next are in s's sums; complete groups at
 * the head are added to the running sum. mg_job_group_complete: group g's whole sums computed
 * elsewhere (the CUDA backends), added in order (ignored if g is already summed).
 * mg_job_groups_flush: add the open groups' partial sums in order (a partial result after a
 * fault, as the old per-group arrays did). mg_job_group_window: the most groups the CPU
 * scheduler lets be open at once (it bounds the statistics memory). */
int64_t mg_job_group_next(const mg_job *job, int64_t g);
const mg_gslot *mg_job_group_peek(const mg_job *job, int64_t g);
mg_gslot *mg_job_group_open(mg_job *job, int64_t g);
void mg_job_group_advance(mg_job *job, mg_gslot *s, int64_t next);
void mg_job_group_complete(mg_job *job, int64_t g, const int64_t *gi, const double *gd);
int mg_job_groups_done(const mg_job *job);
void mg_job_groups_flush(mg_job *job);
int mg_job_groups_alloc(mg_job *job);
void mg_job_groups_free(mg_job *job);
int64_t mg_job_group_window(const mg_job *job);

/* The memory of a run by part (bytes), as mg_run would allocate it on the CPU: the state of
 * the realizations in flight (threads x MG_VL of per_realization), the statistics (running sum,
 * result, open groups, records of blocks in flight), the traces, what the ensemble shares
 * (meso kernels, a shared network) and the total. mg_run_memory validates like mg_run_estimate
 * (MG_ENOMEM above 80 % of the machine, with *mem filled; refused before the layout, only
 * per_realization and total are). Spikes are not counted here (their number depends on the
 * rates: src/engine/run_plan.c estimates them from a calibration). */
typedef struct {
    double per_realization, in_flight;
    double state, statistics, traces, shared, total;
} mg_run_mem;
int mg_run_memory(const mg_model *m, const mg_run_opts *opts, mg_run_mem *mem, mg_err *err);

/* Realization range of group gi (absolute group index): [*lo, *hi). */
void mg_job_group_range(const mg_job *job, int64_t gi, int64_t *lo, int64_t *hi);

/* Report progress if a second has passed (thread-safe; workers call it often). */
void mg_job_progress(mg_job *job, int final);

/* Clear the pointers of o (progress, cancel, checkpoint, resume and output paths): options
 * that mean nothing in another process (a checkpoint) or must not act twice (a calibration). */
void mg_run_opts_unhook(mg_run_opts *o);

/* "T OpenMP threads on <CPU model>" into buf: the device attribute of CPU results. */
void mg_cpu_device_name(char *buf, size_t len, int threads);

/* Wall-clock seconds (monotonic). */
double mg_wall_s(void);

/* Backends. Each simulates all groups of the job, filling group sums and traces. */
int mg_cpu_run(mg_job *job, mg_err *err);

/* Record the first failure of a run (thread-safe); workers stop at their next check. */
void mg_job_fail(mg_job *job, int code, const char *msg);

/* The CPU backends' shared work loop (src/engine/cpu_schedule.c): blocks of MG_VL realizations over
 * OpenMP threads, records added to the group sums in realization order. Each thread gets a
 * worker from worker_alloc (NULL: out of memory); run_block simulates the block [r0, min(r0 +
 * MG_VL, hi)) and writes each valid realization's record to ri[j n_i], rd[j n_d], returning 0
 * (done), 1 (parked at a checkpoint) or -1 (failed: mg_job_fail called). Returns MG_OK (all
 * done, or stopped for a checkpoint) or the failure. */
typedef struct {
    void *(*worker_alloc)(mg_job *job);
    void (*worker_free)(mg_job *job, void *w);
    int (*run_block)(mg_job *job, void *w, int64_t r0, int64_t hi, int64_t *ri, double *rd);
} mg_cpu_block_ops;
int mg_cpu_run_blocks(mg_job *job, const mg_cpu_block_ops *ops, mg_err *err);

/* Spectra on the CPU (src/engine/backend_cpu.c), for every CPU backend: per-thread FFTW scratch
 * (NULL on allocation failure; only when job->SL.cfg.psd_n > 0), and the work to do when
 * mg_obs_step reports a completed segment for a block of MG_VL lanes. */
typedef struct mg_cpu_psd mg_cpu_psd;
mg_cpu_psd *mg_cpu_psd_alloc(const mg_job *job);
void mg_cpu_psd_free(mg_cpu_psd *w);
void mg_cpu_psd_segment(const mg_job *job, mg_lanes st, int valid, mg_cpu_psd *w);

/* Micro level (src/engine/micro_derive.c, src/engine/backend_cpu_micro.c). mg_micro_setup derives the
 * network for job->model at job->opts.dt_ms, allocates job->mi and sets job->dyn_rows; called
 * by job_setup before the observer is laid out. mg_micro_resolved appends derived parameters.
 * mg_micro_free releases job->mi (NULL-safe). mg_cpu_run_micro is the CPU backend. */
int mg_micro_setup(mg_job *job, mg_err *err);
/* Draws the network shared by the ensemble (--connectivity shared; no-op otherwise or when
 * already drawn); mg_run calls it after the memory check, so --dry-run never draws it. */
int mg_micro_draw_shared(mg_job *job, mg_err *err);
int mg_micro_resolved(const mg_job *job, mg_resolved **list, int *n, mg_err *err);
void mg_micro_free(mg_job *job);
/* Why the state x (rows of one realization) cannot be a micro state, or NULL: the checkpoint
 * reader's guard against damaged files (counts and spike ids index the spike lists). */
const char *mg_micro_state_invalid(const mg_job *job, const double *x);
int mg_cpu_run_micro(mg_job *job, mg_err *err);
/* job->mi->rec (every recorded realization's spikes, complete) as job->spikes: per population,
 * sorted by (step, node id); releases the records. Both micro backends end with it. */
int mg_micro_merge_spikes(mg_job *job, mg_err *err);
/* Memory of the micro state: per realization in flight, and shared by the ensemble (bytes). */
void mg_micro_memory(const mg_job *job, double *per_realization, double *shared);

#ifdef MG_HAVE_CUDA
/* kernels/backend_cuda.cu. mg_cuda_probe: MG_OK and the device name if a device answers. */
int mg_cuda_probe(char *name, int name_len);
int mg_cuda_run(mg_job *job, mg_err *err);
/* kernels/backend_cuda_micro.cu: the micro level on the device (the CPU twin: mg_cpu_run_micro). */
int mg_cuda_run_micro(mg_job *job, mg_err *err);
#endif

#ifdef __cplusplus
}
#endif

#endif /* MESOGIF_ENGINE_JOB_H */
