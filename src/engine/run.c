/* src/engine/run.c: mg_run, the ensemble driver (DESIGN.md "The shape of a run"): validate the
 * options against the model, derive the per-step model, lay out state and observers, pick a
 * backend, run it over the reduction groups, and add the group sums in order. */
#include "engine/job.h"
#include "engine/run_key.h"
#include "mesogif/theory.h"

#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int mg_cuda_available(char *name, int len)
{
#ifdef MG_HAVE_CUDA
    if (mg_cuda_probe(name, len) == MG_OK)
        return 1;
    snprintf(name, (size_t)len, "no CUDA device answers");
#else
    snprintf(name, (size_t)len, "this build has no CUDA backend (nvcc was not found)");
#endif
    return 0;
}

/* Is x a whole multiple of dt (to 1e-9 relative)? Sets *k to the multiple. */
static int multiple_of(double x, double dt, int64_t *k)
{
    double q = x / dt;
    double r = llround(q);
    *k = (int64_t)r;
    return r >= 1 && fabs(q - r) <= 1e-9 * (q > 1 ? q : 1);
}

static int check_opts(const mg_run_opts *o, int64_t *n_steps, int64_t *rec_L, int64_t *st_L,
                      mg_err *err)
{
    if (!(o->dt_ms > 0) || !isfinite(o->dt_ms))
        return mg_err_set(err, MG_EINVAL, "--dt: %g ms (allowed: > 0)", o->dt_ms);
    if (!(o->t_sim_ms > 0) || !isfinite(o->t_sim_ms))
        return mg_err_set(err, MG_EINVAL, "--t-sim: %g ms (allowed: > 0)", o->t_sim_ms);
    if (!(o->t_warmup_ms >= 0) || !(o->t_warmup_ms < o->t_sim_ms))
        return mg_err_set(err, MG_EINVAL, "--t-warmup: %g ms (allowed: 0 <= t-warmup < t-sim = "
                          "%g ms)", o->t_warmup_ms, o->t_sim_ms);
    double steps = floor(o->t_sim_ms / o->dt_ms + 1e-9);
    if (steps < 1 || steps > 4294967295.0)
        return mg_err_set(err, MG_EINVAL, "--t-sim: %.0f steps of dt = %g ms (allowed: 1 to "
                          "2^32-1 steps)", steps, o->dt_ms);
    *n_steps = (int64_t)steps;
    if (!multiple_of(o->record_bin_ms, o->dt_ms, rec_L))
        return mg_err_set(err, MG_EINVAL, "--record-bin: %g ms is not a multiple of dt = %g ms "
                          "(allowed: k * dt, k >= 1)", o->record_bin_ms, o->dt_ms);
    if (!multiple_of(o->stats_bin_ms, o->dt_ms, st_L))
        return mg_err_set(err, MG_EINVAL, "--stats-bin: %g ms is not a multiple of dt = %g ms "
                          "(allowed: k * dt, k >= 1)", o->stats_bin_ms, o->dt_ms);
    if (*st_L > *n_steps)
        return mg_err_set(err, MG_EINVAL, "--stats-bin: %g ms is longer than the run (allowed: "
                          "k * dt <= t-sim = %g ms)", o->stats_bin_ms, o->t_sim_ms);
    if (o->realization_first < 0 || o->realization_count < 1 ||
        o->realization_first + o->realization_count > 4294967296LL)
        return mg_err_set(err, MG_EINVAL, "--realizations: [%lld, %lld) (allowed: a range "
                          "within [0, 2^32))", (long long)o->realization_first,
                          (long long)(o->realization_first + o->realization_count));
    if (o->record_realizations < 0)
        return mg_err_set(err, MG_EINVAL, "--record-realizations: %lld (allowed: >= 0)",
                          (long long)o->record_realizations);
    if (o->threads < 0 || o->threads > 4096)
        return mg_err_set(err, MG_EINVAL, "--threads: %d (allowed: 0 = all, 1..4096)",
                          o->threads);
    /* enumerations: the command line only makes valid ones, a hand-built or restored (checkpoint)
     * option set may hold anything */
    if ((int)o->level < MG_LEVEL_MESO || (int)o->level > MG_LEVEL_MICRO ||
        (int)o->noise < MG_NOISE_BINOMIAL || (int)o->noise > MG_NOISE_DETERMINISTIC ||
        (int)o->backend < MG_BACKEND_AUTO || (int)o->backend > MG_BACKEND_CUDA ||
        (int)o->connectivity < MG_CONN_PER_REALIZATION || (int)o->connectivity > MG_CONN_SHARED)
        return mg_err_set(err, MG_EINVAL, "options: level %d, noise %d, backend %d, connectivity "
                          "%d (allowed: the values of include/mesogif/run.h)", (int)o->level,
                          (int)o->noise, (int)o->backend, (int)o->connectivity);
    if (memchr(o->switch_observable, 0, sizeof o->switch_observable) == NULL)
        return mg_err_set(err, MG_EINVAL, "--switch-observable: not a terminated string "
                          "(allowed: < %zu characters)", sizeof o->switch_observable);
    return MG_OK;
}

static double phys_mem_bytes(void)
{
    long pages = sysconf(_SC_PHYS_PAGES), size = sysconf(_SC_PAGE_SIZE);
    return pages > 0 && size > 0 ? (double)pages * (double)size : 1e18;
}

/* The refusal of a run too big for this machine (above 80 % of its memory), with the numbers:
 * shared by the early check of job_setup (before the derived model is allocated) and the full
 * one of job_check_memory. */
static int refuse_memory(double total, double traces, double groups, double per_real,
                         mg_err *err)
{
    double avail = phys_mem_bytes();
    if (total > 0.8 * avail)
        return mg_err_set(err, MG_ENOMEM, "the run needs about %.3g GB of memory (traces %.3g "
                          "GB, statistics %.3g GB, state %.3g MB per "
                          "realization in flight) but this machine has %.3g GB (allowed: up to "
                          "80%%); record fewer or coarser traces (--record-realizations, "
                          "--record-bin), split the realizations into shards (--shard) or "
                          "shorten len_kernel", total / 1e9, traces / 1e9, groups / 1e9,
                          per_real / 1e6, avail / 1e9);
    return MG_OK;
}

/* The spectral part of the statistics configuration: the bin and resolution of --psd-bin and
 * --psd-df (no spectra for --psd-df < 0 or --stats-basic); *psd_L the steps per sample. */
static int psd_config(mg_stats_cfg *c, const mg_run_opts *o, int64_t *psd_L, mg_err *err)
{
    if (o->psd_bin_ms > 0)
        c->psd_bin_ms = o->psd_bin_ms;
    *psd_L = 0;
    if (o->psd_df_hz < 0) {
        c->psd_n = 0;
    } else {
        int64_t L;
        if (!multiple_of(c->psd_bin_ms, o->dt_ms, &L))
            return mg_err_set(err, MG_EINVAL, "--psd-bin: %g ms is not a multiple of dt = %g ms "
                              "(allowed: k * dt, k >= 1)", c->psd_bin_ms, o->dt_ms);
        double df = o->psd_df_hz > 0 ? o->psd_df_hz : 1.0;
        c->psd_n = llround(1000.0 / (df * c->psd_bin_ms));
        *psd_L = L;
    }
    c->onesided = o->onesided;
    if (o->stats_basic) {
        c->basic = 1;
        c->psd_n = 0;
        *psd_L = 0;
    }
    return MG_OK;
}

/* The switching analysis of the options: the observable, its smoothing window and the
 * thresholds (each left at its default when not given). */
static int switch_config(mg_stats_cfg *c, const mg_run_opts *o, mg_err *err)
{
    if (o->switch_observable[0]) {
        int rc = mg_stats_parse_observable(c, o->switch_observable, err);
        if (rc != MG_OK)
            return rc;
    }
    if (o->switch_smooth_ms > 0) {
        int64_t W;
        if (!multiple_of(o->switch_smooth_ms, o->stats_bin_ms, &W))
            return mg_err_set(err, MG_EINVAL, "--switch-smooth: %g ms is not a multiple of the "
                              "statistics bin %g ms (allowed: k * stats-bin)",
                              o->switch_smooth_ms, o->stats_bin_ms);
        c->sw_window = (int)(W < 100001 ? W : 100001);
    }
    if (o->switch_lo < o->switch_hi) {
        c->sw_lo = o->switch_lo;
        c->sw_hi = o->switch_hi;
    }
    return MG_OK;
}

/* The time-resolved statistics: asked for (--stats-time), or by default for a time-dependent
 * input in the statistics bin (left off when that record would be too large). */
static int time_config(mg_stats_cfg *c, const mg_job *job, const mg_run_opts *o, int P,
                       mg_err *err)
{
    double tbin = o->stats_time_ms;
    if (tbin == 0.0) {
        int timed = 0;
        for (int a = 0; a < job->model->P; ++a)
            timed |= job->model->pops[a].n_steps > 0 || mg_pop_has_stimulus(&job->model->pops[a]);
        int64_t L = 0;
        tbin = -1.0;
        if (timed && multiple_of(o->stats_bin_ms, o->dt_ms, &L) && L <= job->n_steps &&
            ((double)P + (double)P * P) * (double)(job->n_steps / L) * 8.0 <=
                MG_STATS_TIME_MAX_BYTES)
            tbin = o->stats_bin_ms;
    }
    if (tbin > 0 || isnan(tbin)) {
        int64_t L;
        if (!(tbin > 0) || !multiple_of(tbin, o->dt_ms, &L) || L > job->n_steps)
            return mg_err_set(err, MG_EINVAL, "--stats-time: %g ms is not a multiple of dt = "
                              "%g ms within t-sim = %g ms (allowed: k * dt <= t-sim, k >= 1)",
                              tbin, o->dt_ms, o->t_sim_ms);
        c->time_bin_ms = tbin;
        c->time_bins = job->n_steps / L;
    }
    return MG_OK;
}

/* The statistics configuration of a run: defaults of mg_stats_cfg_default, overridden by the
 * options; sets job->SL and the steps per spectral sample (0 = no spectra). */
static int stats_config(mg_job *job, const mg_run_opts *o, int P, int64_t *psd_L, mg_err *err)
{
    mg_stats_cfg c;
    mg_stats_cfg_default(&c, P, o->stats_bin_ms, o->dt_ms);
    int rc = psd_config(&c, o, psd_L, err);
    if (rc != MG_OK)
        return rc;
    rc = switch_config(&c, o, err);
    if (rc != MG_OK)
        return rc;
    if (o->hist_max_hz > 0)
        c.hist_max_hz = o->hist_max_hz;
    if (o->hist_bins > 0)
        c.hist_bins = o->hist_bins;
    rc = time_config(&c, job, o, P, err);
    if (rc != MG_OK)
        return rc;
    rc = mg_stats_cfg_check(&c, err);
    if (rc != MG_OK)
        return rc;
    mg_stats_layout_init(&job->SL, &c);
    return MG_OK;
}

/* The meso part of job_setup: the sizes first, so that a run that cannot fit is refused before
 * the derived model (kernels of up to 2 x 1e8 values per population) is allocated
 * (job_check_memory repeats the check with the observer and the statistics once they are laid
 * out); then the derived model and the statistics configuration. A refusal for memory leaves
 * the early estimate in *per_real_out, *total_out (when both are given). */
static int meso_setup(mg_job *job, const mg_run_opts *o, int64_t rec_L, int64_t *psd_L,
                      double *per_real_out, double *total_out, mg_err *err)
{
    const mg_model *m = job->model;
    int64_t dyn_rows = 0, n_kernels = 0;
    int rc = mg_meso_size(m, o->dt_ms, &dyn_rows, &n_kernels, err);
    if (rc != MG_OK)
        return rc;
    int nthreads = o->threads > 0 ? o->threads : omp_get_max_threads();
    double per_real = (double)dyn_rows * sizeof(double);
    int64_t k = o->record_realizations < o->realization_count ? o->record_realizations
                                                              : o->realization_count;
    double traces = 2.0 * (double)k * m->P * (double)(job->n_steps / rec_L) * 4.0;
    double total = per_real * nthreads * MG_VL + (double)n_kernels * sizeof(double) + traces;
    rc = refuse_memory(total, traces, 0.0, per_real, err);
    if (rc != MG_OK) {
        if (per_real_out && total_out) {
            *per_real_out = per_real;
            *total_out = total;
        }
        return rc;
    }
    rc = mg_meso_derive_run(m, o->dt_ms, (int)o->noise, o->seed, job->n_steps, &job->md, err);
    if (rc != MG_OK)
        return rc;
    job->dyn_rows = job->md.mm.rows;
    return stats_config(job, o, m->P, psd_L, err);
}

/* The last part of job_setup: the warm-up checked against the statistics bins, the observer's
 * layout (src/engine/observe_setup.c), the state rows, the reduction groups and the traces. */
static int job_layout(mg_job *job, const mg_run_opts *o, int64_t rec_L, int64_t st_L,
                      int64_t psd_L, mg_err *err)
{
    const mg_model *m = job->model;
    const int P = m->P;
    if ((o->t_warmup_ms / (o->dt_ms * (double)st_L)) >= (double)(job->n_steps / st_L) - 1e-9 ||
        (int64_t)ceil(o->t_warmup_ms / (o->dt_ms * (double)st_L) - 1e-9) >= job->n_steps / st_L)
        return mg_err_set(err, MG_EINVAL, "--t-warmup: %g ms leaves no complete statistics bin "
                          "of %g ms before t-sim = %g ms (allowed: t-warmup + stats-bin <= "
                          "t-sim)", o->t_warmup_ms, o->stats_bin_ms, o->t_sim_ms);
    double N[MG_POP_MAX];
    for (int a = 0; a < P; ++a)
        N[a] = (double)m->pops[a].N;
    int rc = mg_obs_setup(&job->oc, &job->SL, N, o->dt_ms, job->n_steps, rec_L, st_L, psd_L,
                          o->t_warmup_ms, job->dyn_rows, err);
    if (rc != MG_OK)
        return rc;
    job->rows = job->oc.row_rec_n + job->oc.rows;
    int64_t first = o->realization_first, end = first + o->realization_count;
    job->g_first = first / MG_RGROUP;
    job->n_groups = (end - 1) / MG_RGROUP - job->g_first + 1;
    job->trace_k = o->record_realizations < o->realization_count ? o->record_realizations
                                                                  : o->realization_count;
    job->trace_T = job->oc.rec_T;
    return MG_OK;
}

/* Fill everything of the job but the big buffers. A run refused for its memory before the
 * derived model is made (MG_ENOMEM) leaves the early estimate in *per_real, *total (may be
 * NULL). */
static int job_setup(mg_job *job, const mg_model *m, const mg_run_opts *o, mg_err *err,
                     double *per_real_out, double *total_out)
{
    memset(job, 0, sizeof *job);
    job->model = m;
    job->opts = *o;
    int64_t rec_L = 1, st_L = 1;
    int rc = check_opts(o, &job->n_steps, &rec_L, &st_L, err);
    if (rc != MG_OK)
        return rc;
    int64_t psd_L = 0;
    if (m->P < 1 || m->P > MG_POP_MAX)
        return mg_err_set(err, MG_EINVAL, "/populations: %d populations (allowed: 1..%d)", m->P,
                          MG_POP_MAX);
    if (o->level == MG_LEVEL_MICRO) {
        /* what is measured first: the micro level keeps its ISI accumulators in its rows */
        rc = stats_config(job, o, m->P, &psd_L, err);
        if (rc != MG_OK)
            return rc;
        rc = mg_micro_setup(job, err);
    } else {
        rc = meso_setup(job, o, rec_L, &psd_L, per_real_out, total_out, err);
    }
    if (rc != MG_OK)
        return rc;
    return job_layout(job, o, rec_L, st_L, psd_L, err);
}

static void job_free(mg_job *job)
{
    for (int i = 0; i < job->n_inflight; ++i)
        free(job->inflight[i].state);
    free(job->inflight);
    job->inflight = NULL;
    mg_job_groups_free(job);
    job->n_inflight = job->cap_inflight = 0;
    mg_meso_derived_free(&job->md);
    mg_micro_free(job);
}

/* The memory of the run by part (src/engine/job.h, mg_run_mem). The statistics do not grow with
 * the number of realizations: the running sum and the result, at most mg_job_group_window open
 * groups, and the records of the blocks in flight or waiting for an earlier block of their
 * group (at most one group's worth per thread, src/engine/cpu_schedule.c). */
static void job_memory(const mg_job *job, mg_run_mem *mem)
{
    int nthreads = job->opts.threads > 0 ? job->opts.threads : omp_get_max_threads();
    double state = (double)job->rows * sizeof(double);
    double record = (double)(job->SL.n_i + job->SL.n_d) * 8.0;
    double shared = (double)job->md.n_kernels * 8.0;
    if (job->opts.level == MG_LEVEL_MICRO) {
        double per_micro, shared_micro;
        mg_micro_memory(job, &per_micro, &shared_micro);
        state += per_micro;
        shared += shared_micro;
    }
    memset(mem, 0, sizeof *mem);
    mem->per_realization = state;
    mem->in_flight = (double)nthreads * MG_VL;
    mem->state = state * mem->in_flight;
    mem->statistics = record * (2.0 + (double)mg_job_group_window(job) +
                                (double)nthreads * MG_RGROUP);
    mem->traces = 2.0 * (double)job->trace_k * job->model->P * (double)job->trace_T * 4.0;
    mem->shared = shared;
    mem->total = mem->state + mem->statistics + mem->traces + mem->shared;
}

/* Refuse a run whose estimate exceeds 80% of the machine's memory before allocating anything
 * (the rest is left to the OS, the backend's scratch and the HDF5 writer). Shared by mg_run and
 * mg_run_estimate, so that `--dry-run` and the CLI's early check refuse exactly what mg_run
 * would. *mem is filled in either case. */
static int job_check_memory(const mg_job *job, mg_run_mem *mem, mg_err *err)
{
    job_memory(job, mem);
    return refuse_memory(mem->total, mem->traces, mem->statistics, mem->per_realization, err);
}

int mg_run_memory(const mg_model *m, const mg_run_opts *opts, mg_run_mem *mem, mg_err *err)
{
    mg_job job;
    double per = 0, total = 0;
    memset(mem, 0, sizeof *mem);
    int rc = job_setup(&job, m, opts, err, &per, &total);
    if (rc == MG_OK) {
        rc = job_check_memory(&job, mem, err);
    } else if (rc == MG_ENOMEM) { /* refused before the layout: the early estimate */
        mem->per_realization = per;
        mem->total = total;
    }
    job_free(&job);
    return rc;
}

int mg_run_estimate(const mg_model *m, const mg_run_opts *opts, double *per_realization,
                    double *total, mg_err *err)
{
    mg_run_mem mem;
    int rc = mg_run_memory(m, opts, &mem, err);
    *per_realization = mem.per_realization;
    *total = mem.total;
    return rc;
}

void mg_result_free(mg_result *res)
{
    if (!res)
        return;
    free(res->pop_names);
    free(res->resolved);
    free(res->A_N);
    free(res->A_bar);
    free(res->run_key);
    mg_spikes_free(res->spikes, res->P);
    mg_stats_free(&res->stats);
    mg_run_theory_free(res->theory);
    free(res->theory);
    memset(res, 0, sizeof *res);
}

/* --theory: the mean-field theory of the model into the result (src/theory/theory_run.c), for
 * partial results too. A theory that cannot be computed never costs the run: its reason goes to
 * res->theory_error (and into the file). */
static void run_theory(const mg_model *m, mg_result *res)
{
    mg_err e = {{0}};
    res->theory = calloc(1, sizeof *res->theory);
    int rc = res->theory ? mg_theory_of_run(m, res, res->theory, &e)
                         : mg_err_set(&e, MG_ENOMEM, "out of memory");
    if (rc != MG_OK) {
        snprintf(res->theory_error, sizeof res->theory_error, "%s", e.msg);
        mg_run_theory_free(res->theory);
        free(res->theory);
        res->theory = NULL;
    }
}

/* An ensemble set up once (include/mesogif/run.h): the job with its derived model and layout, the
 * memory estimate, and the answer of the CUDA probe. */
struct mg_ensemble {
    mg_job job;
    mg_run_opts opts;
    mg_run_mem mem;              /* by part (src/engine/job.h) */
    mg_resume *resume;           /* borrowed: the checkpoint to continue from (mg_ensemble_resume) */
    int have_cuda;               /* a device answered the probe (not made for --backend cpu) */
    char device[128];            /* its name, or why there is none (as mg_result.device) */
};

int mg_ensemble_alloc(const mg_model *m, const mg_run_opts *opts, mg_ensemble **ens,
                      double *per_realization, double *total, mg_err *err)
{
    *ens = NULL;
    mg_ensemble *p = calloc(1, sizeof *p);
    if (!p)
        return mg_err_set(err, MG_ENOMEM, "out of memory");
    double per = 0.0, tot = 0.0;
    int rc = job_setup(&p->job, m, opts, err, &per, &tot);
    if (rc == MG_OK) {
        rc = job_check_memory(&p->job, &p->mem, err);
        per = p->mem.per_realization;
        tot = p->mem.total;
    }
    if (per_realization && total) {
        *per_realization = per;
        *total = tot;
    }
    if (rc != MG_OK) {
        job_free(&p->job);
        free(p);
        return rc;
    }
    p->opts = *opts;
    snprintf(p->device, sizeof p->device, "not probed (--backend cpu)");
    if (opts->backend != MG_BACKEND_CPU)
        p->have_cuda = mg_cuda_available(p->device, sizeof p->device);
    *ens = p;
    return MG_OK;
}

int mg_ensemble_cuda(const mg_ensemble *ens, char *name, int len)
{
    snprintf(name, (size_t)len, "%s", ens->device);
    return ens->have_cuda;
}

int mg_ensemble_resume(mg_ensemble *ens, mg_resume *rs, mg_err *err)
{
    if (!ens->opts.resume_path)
        return mg_err_set(err, MG_EINVAL, "resume: the ensemble was set up without resume_path");
    ens->resume = rs;
    return MG_OK;
}

void mg_ensemble_free(mg_ensemble *ens)
{
    if (!ens)
        return;
    job_free(&ens->job);
    free(ens);
}

int mg_run(const mg_model *m, const mg_run_opts *opts, mg_result *res, mg_err *err)
{
    memset(res, 0, sizeof *res);
    mg_ensemble *ens;
    int rc = mg_ensemble_alloc(m, opts, &ens, NULL, NULL, err);
    if (rc == MG_OK)
        rc = mg_ensemble_run(ens, res, err);
    mg_ensemble_free(ens);
    return rc;
}

typedef int (*backend_fn)(mg_job *, mg_err *);

/* The backend of the ensemble, its name and its device into res: CUDA when the probe found
 * a device (and not for the micro level under auto), else the CPU. MG_ENODEV when CUDA was
 * asked for and is not there. */
static int pick_backend(const mg_ensemble *ens, mg_result *res, backend_fn *backend,
                        int *use_cuda_out, mg_err *err)
{
    const mg_run_opts *opts = &ens->opts;
    int use_cuda = 0;
#ifdef MG_HAVE_CUDA
    const char *devname = ens->device;
    /* the micro CUDA backend (kernels/backend_cuda_micro.cu) is unverified on a device until
     * tools/gpu_check.sh has run it: auto keeps the micro level on the CPU until then */
    if (opts->backend != MG_BACKEND_CPU &&
        !(opts->level == MG_LEVEL_MICRO && opts->backend == MG_BACKEND_AUTO) && ens->have_cuda)
        use_cuda = 1;
#endif
    if (opts->backend == MG_BACKEND_CUDA && !use_cuda)
        return mg_err_set(err, MG_ENODEV, "--backend cuda: no CUDA device answers%s",
#ifdef MG_HAVE_CUDA
                        ""
#else
                        " (this build has no CUDA backend: nvcc was not found)"
#endif
        );
    *backend = opts->level == MG_LEVEL_MICRO ? mg_cpu_run_micro : mg_cpu_run;
#ifdef MG_HAVE_CUDA
    if (use_cuda) {
        res->backend_name = "cuda";
        snprintf(res->device, sizeof res->device, "%s", devname);
        *backend = opts->level == MG_LEVEL_MICRO ? mg_cuda_run_micro : mg_cuda_run;
    } else
#endif
    {
        res->backend_name = "cpu";
        int nthreads = opts->threads > 0 ? opts->threads : omp_get_max_threads();
        mg_cpu_device_name(res->device, sizeof res->device, nthreads);
    }
    *use_cuda_out = use_cuda;
    return MG_OK;
}

/* The group sums (src/engine/ensemble_groups.c) and the trace buffers of the job, and the
 * population names of the result (freed by the caller on failure too). */
static int job_alloc_sums(mg_job *job, mg_result *res, mg_err *err)
{
    const int P = job->model->P;
    int groups_rc = mg_job_groups_alloc(job);
    size_t trace_n = (size_t)(job->trace_k * P * job->trace_T);
    job->trace_AN = calloc(trace_n > 0 ? trace_n : 1, sizeof(float));
    job->trace_Abar = calloc(trace_n > 0 ? trace_n : 1, sizeof(float));
    res->pop_names = calloc((size_t)P, sizeof *res->pop_names);
    if (groups_rc != MG_OK || !job->trace_AN || !job->trace_Abar || !res->pop_names)
        return mg_err_set(err, MG_ENOMEM, "out of memory for traces and statistics");
    for (int a = 0; a < P; ++a)
        snprintf(res->pop_names[a], MG_NAME_MAX, "%s", job->model->pops[a].name);
    return MG_OK;
}

/* The result of a finished job: the group sums in order into the statistics, the traces
 * and spikes handed over (job keeps what is not), the run key. */
static int collect_result(mg_job *job, const mg_model *m, const mg_run_opts *opts,
                          double per_real, mg_result *res, mg_err *err)
{
    const int P = m->P;
    /* the fixed reduction tree: groups in order (src/engine/job.h), added as they completed
     * (src/engine/ensemble_groups.c); a partial result adds the open groups' sums in order too */
    int rc = mg_stats_alloc(&res->stats, &job->SL, err);
    if (rc != MG_OK)
        return rc;
    mg_job_groups_flush(job);
    memcpy(res->stats.i, job->sum_i, (size_t)job->SL.n_i * sizeof *job->sum_i);
    memcpy(res->stats.d, job->sum_d, (size_t)job->SL.n_d * sizeof *job->sum_d);
    rc = mg_stats_finalize(&res->stats, err);
    if (rc != MG_OK)
        return rc;
    res->opts = *opts;
    res->opts.progress = NULL;
    res->opts.progress_user = NULL;
    res->opts.cancel = NULL;
    res->P = P;
    res->trace_k = job->trace_k;
    res->trace_T = job->trace_T;
    res->trace_bin_ms = opts->record_bin_ms;
    res->A_N = job->trace_AN;
    res->A_bar = opts->level == MG_LEVEL_MICRO ? NULL : job->trace_Abar;
    if (opts->level == MG_LEVEL_MICRO)
        free(job->trace_Abar);
    job->trace_AN = job->trace_Abar = NULL;
    res->spikes = job->spikes;
    job->spikes = NULL;
    res->mem_bytes_per_realization = per_real;
    res->device_bytes = job->device_bytes;
    res->run_key = mg_run_key(m, opts, &job->SL.cfg);
    if (!res->run_key)
        return mg_err_set(err, MG_ENOMEM, "out of memory");
    mg_run_hash_hex(res->run_key, res->run_hash);
    return MG_OK;
}

/* Before the backend runs: the group sums and traces (src/engine/ensemble_groups.c), the state
 * of the checkpoint resumed from, and the resolved parameters of the result. On failure the
 * caller frees what was allocated (job and res). */
static int job_prepare(const mg_ensemble *ens, mg_job *job, mg_result *res, mg_err *err)
{
    const mg_run_opts *opts = &ens->opts;
    int rc = job_alloc_sums(job, res, err);
    if (rc != MG_OK)
        return rc;
    if (opts->resume_path) {
        rc = ens->resume ? mg_resume_load(ens->resume, job, err)
                         : mg_checkpoint_load(job, opts->resume_path, err);
        if (rc != MG_OK)
            return rc;
    }
    if (opts->level == MG_LEVEL_MICRO)
        rc = mg_micro_resolved(job, &res->resolved, &res->n_resolved, err);
    else
        rc = mg_meso_resolved(job->model, &job->md, &res->resolved, &res->n_resolved, err);
    return rc;
}

/* Run the backend to the end of the job (starting its clocks). The backend returns early with
 * its unfinished realizations parked when a checkpoint is due (timer or signal): write it, and
 * go on unless the run was cancelled. The meso backends (CPU and CUDA) and the micro CPU
 * backend park; the micro CUDA backend runs to the end (a resume re-runs its realizations from
 * step 0, which gives the same bits). Returns the backend's status (MG_ENUM: a numerical fault,
 * with a partial result to keep). */
static int run_backend(mg_job *job, const mg_run_opts *opts, backend_fn backend, int use_cuda,
                       mg_err *err)
{
    int rc;
    job->t_start = mg_wall_s();
    job->t_last_report = job->t_start;
    job->ckpt_last = job->t_start;
    for (;;) {
        job->ckpt_request = 0;
        rc = backend(job, err);
        if (rc != MG_OK || mg_job_groups_done(job))
            break;
        rc = mg_checkpoint_write(job, opts->checkpoint_path, err);
        if (rc != MG_OK)
            break;
        job->ckpt_last = mg_wall_s();
        if (opts->cancel && *opts->cancel) {
            rc = mg_err_set(err, MG_ESTOPPED, "stopped by a signal; checkpoint written to %s",
                            opts->checkpoint_path);
            break;
        }
    }
    /* stopped without writing a checkpoint: say why (the CLI prints it, exit 130) */
    if (rc == MG_EINTR && opts->checkpoint_path)
        mg_err_set(err, MG_EINTR, "%s", use_cuda && opts->level == MG_LEVEL_MICRO
                   ? "the micro CUDA backend writes no checkpoints"
                   : "stopped while replaying the recorded spikes after a resume; the "
                     "checkpoint it resumed from is kept");
    return rc;
}

int mg_ensemble_run(mg_ensemble *ens, mg_result *res, mg_err *err)
{
    memset(res, 0, sizeof *res);
    /* the job moves out (an ensemble runs once; the job holds no pointer into itself) */
    mg_job job = ens->job;
    memset(&ens->job, 0, sizeof ens->job);
    const mg_model *m = job.model;
    const mg_run_opts *opts = &ens->opts;
    double per_real = ens->mem.per_realization;
    int rc = MG_OK;
    if (opts->level == MG_LEVEL_MICRO)
        rc = mg_micro_draw_shared(&job, err);
    if (rc != MG_OK) {
        job_free(&job);
        return rc;
    }
    rc = job_prepare(ens, &job, res, err);
    if (rc != MG_OK)
        goto out;
    int use_cuda = 0;
    backend_fn backend = NULL;
    rc = pick_backend(ens, res, &backend, &use_cuda, err);
    if (rc != MG_OK)
        goto out;
    rc = run_backend(&job, opts, backend, use_cuda, err);
    res->wall_s = mg_wall_s() - job.t_start;
    mg_job_progress(&job, 1);
    /* a numerical fault keeps what was computed: the statistics of the realizations that
     * finished and the traces so far, returned as a partial result with the fault's message */
    int fault = rc == MG_ENUM ? rc : MG_OK;
    char fault_msg[MG_ERR_LEN] = "";
    if (fault) {
        snprintf(fault_msg, sizeof fault_msg, "%s", err->msg);
        rc = MG_OK;
    }
    if (rc != MG_OK)
        goto out;
    rc = collect_result(&job, m, opts, per_real, res, err);
    if (rc != MG_OK)
        goto out;
    if (opts->theory)
        run_theory(m, res);
    if (fault) {
        res->partial = 1;
        snprintf(res->partial_reason, sizeof res->partial_reason, "%s", fault_msg);
        snprintf(err->msg, sizeof err->msg, "%s", fault_msg);
        rc = fault;
        goto out_keep;
    }
out:
    free(job.trace_AN);
    free(job.trace_Abar);
    mg_spikes_free(job.spikes, m->P);
    job_free(&job);
    if (rc != MG_OK)
        mg_result_free(res);
    return rc;
out_keep: /* a partial result: everything above but the result itself */
    job_free(&job);
    return rc;
}
