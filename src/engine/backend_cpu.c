/* src/engine/backend_cpu.c: the CPU backend, the reference twin of the CUDA backend.
 *
 * Blocks of MG_VL realizations over OpenMP threads (src/engine/cpu_schedule.c) run through the same
 * core functions the CUDA kernels call
 * (mg_meso_step1, mg_obs_step: src/core/meso.h, src/core/observe.h). Each realization's meso
 * dynamics is contiguous and its step vectorizes across its cohorts (the canonical tiles of
 * src/core/meso.h); the observer's lanes are SIMD lanes of a [rows][MG_VL] matrix. Padding
 * lanes past the end of a group run no dynamics, and a realization never depends on its
 * neighbours. */
#include "engine/job.h"

#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Per-thread scratch of the CPU backend. */
typedef struct {
    double *state;       /* [rows][MG_VL]: the observer's rows (and the dynamics' for parking) */
    double *dyn;         /* [MG_VL][dyn_rows]: each lane's dynamics, contiguous */
    double *scratch;     /* the meso step's pass-form scratch (mg_meso_scratch_doubles) */
    double *n, *nbar;    /* [P][MG_VL] */
    mg_cpu_psd *psd;     /* NULL without spectra */
} scratch;

struct mg_cpu_psd {
    mg_psd_plan *plan;   /* FFTW plan for one segment */
    double *seg;         /* [psd_n] one population's segment of one lane */
    double *re, *im;     /* [P][F] Fourier coefficients */
};

mg_cpu_psd *mg_cpu_psd_alloc(const mg_job *job)
{
    const int64_t N = job->SL.cfg.psd_n, F = job->SL.F;
    const int P = job->SL.P;
    mg_cpu_psd *w = calloc(1, sizeof *w);
    if (!w)
        return NULL;
    w->plan = mg_psd_plan_alloc(N);
    w->seg = malloc((size_t)(N + 2 * P * F) * sizeof(double)); /* seg, then re and im */
    if (!w->plan || !w->seg) {
        mg_cpu_psd_free(w);
        return NULL;
    }
    w->re = w->seg + N;
    w->im = w->re + P * F;
    return w;
}

void mg_cpu_psd_free(mg_cpu_psd *w)
{
    if (!w)
        return;
    mg_psd_plan_free(w->plan);
    free(w->seg); /* re and im too */
    free(w);
}

void mg_cpu_psd_segment(const mg_job *job, mg_lanes st, int valid, mg_cpu_psd *w)
{
    const mg_obs_cfg *oc = &job->oc;
    const int64_t N = oc->L.cfg.psd_n, F = oc->L.F;
    for (int j = 0; j < valid; ++j) { /* padding lanes' records are discarded anyway */
        for (int a = 0; a < oc->P; ++a) {
            for (int64_t i = 0; i < N; ++i)
                w->seg[i] = MG_AT(st, oc->row_seg + a * N + i, j);
            mg_psd_transform(w->plan, w->seg, w->re + a * F, w->im + a * F);
        }
        mg_obs_add_spectrum(oc, st, j, w->re, w->im, F, 1);
    }
}

/* The dynamics of lane j: its own contiguous rows (ld = 1), so the cohort tiles of the meso
 * step are vector loads. The block matrix keeps the observer's rows; its dynamics rows are
 * used only to hand a lane's whole state to a checkpoint (mg_job_park's layout). */
static mg_lanes dyn_lane(const scratch *w, const mg_job *job, int j)
{
    mg_lanes one = {w->dyn + (int64_t)j * job->dyn_rows, 1};
    return one;
}

static void dyn_to_block(const scratch *w, const mg_job *job, int j)
{
    for (int64_t k = 0; k < job->dyn_rows; ++k)
        w->state[k * MG_VL + j] = w->dyn[(int64_t)j * job->dyn_rows + k];
}

/* dyn_to_block for mg_job_block_check, which parks the block's state rows. */
typedef struct {
    const scratch *w;
    const mg_job *job;
} park_ctx;

static void park_lane(void *ctx, int j)
{
    const park_ctx *pc = ctx;
    dyn_to_block(pc->w, pc->job, j);
}

static void dyn_from_block(scratch *w, const mg_job *job, int j)
{
    for (int64_t k = 0; k < job->dyn_rows; ++k)
        w->dyn[(int64_t)j * job->dyn_rows + k] = w->state[k * MG_VL + j];
}

/* NaN or Inf in an expected count of a valid lane: fail the job with where and why. */
static int nan_check(mg_job *job, const double *nbar, int64_t r0, int valid, int64_t t)
{
    const int P = job->md.mm.P;
    for (int i = 0; i < P * MG_VL; ++i) {
        if (!isfinite(nbar[i]) && i % MG_VL < valid) {
            char msg[400];
            snprintf(msg, sizeof msg,
                     "%s in the expected spike count of realization %lld, population %d "
                     "(%s), step %lld (t = %g ms): likely cause: Delta_V too small for the "
                     "input, or extreme parameters (check Delta_V, I_e, J and q_sfa)",
                     isnan(nbar[i]) ? "NaN" : "Inf", (long long)(r0 + i % MG_VL), i / MG_VL,
                     job->model->pops[i / MG_VL].name, (long long)t,
                     (double)t * job->opts.dt_ms);
            mg_job_fail(job, MG_ENUM, msg);
            return -1;
        }
    }
    return 0;
}

/* Run the block of MG_VL realizations starting at r0 (lanes with r >= hi are padding) from step
 * 0, or from where a checkpoint parked it, and write the valid lanes' records to ri[j n_i],
 * rd[j n_d]. Padding lanes run no dynamics (their counts are 0 for the observer), so a block
 * of one realization costs one realization. Returns 0 when done, 1 when parked for a
 * checkpoint, -1 on a failure (recorded in job). The mg_cpu_block_ops contract of
 * src/engine/job.h. */
static int run_block(mg_job *job, void *wv, int64_t r0, int64_t hi, int64_t *ri, double *rd)
{
    scratch *w = (scratch *)wv;
    double *state = w->state, *n = w->n, *nbar = w->nbar;
    const mg_meso_model *mm = &job->md.mm;
    const mg_obs_cfg *oc = &job->oc;
    const mg_stats_layout *L = &job->SL;
    const int P = mm->P;
    mg_lanes st = {state, MG_VL};
    int64_t trace_row[MG_VL];
    for (int j = 0; j < MG_VL; ++j) {
        int64_t k = r0 + j - job->opts.realization_first;
        trace_row[j] = (r0 + j < hi && k < job->trace_k) ? k * P * job->trace_T : -1;
    }
    const int valid = (int)(hi - r0 < MG_VL ? hi - r0 : MG_VL);
    for (int j = 0; j < valid; ++j)
        mg_meso_init1(mm, dyn_lane(w, job, j));
    for (int i = 0; i < P * MG_VL; ++i)
        n[i] = nbar[i] = 0.0;
    mg_obs_init(oc, st);
    int64_t t0 = 0;
    for (int j = 0; j < valid; ++j) /* lanes of a parked block share its step */
        if (mg_job_unpark(job, r0 + j, &t0, state + j, MG_VL))
            dyn_from_block(w, job, j);
    int64_t counted = t0; /* steps already added to job->steps_done */
    double nj[MG_POP_MAX] = {0}, nbj[MG_POP_MAX] = {0}; /* one lane's counts and expectations */
    for (int64_t t = t0; t < job->n_steps; ++t) {
        for (int j = 0; j < valid; ++j) {
            mg_meso_step1(mm, dyn_lane(w, job, j), t, (uint32_t)(r0 + j), nj, nbj, w->scratch);
            for (int a = 0; a < P; ++a) {
                n[a * MG_VL + j] = nj[a];
                nbar[a * MG_VL + j] = nbj[a];
            }
        }
        if (mg_obs_step(oc, st, t, n, nbar, job->trace_AN, job->trace_Abar, trace_row))
            mg_cpu_psd_segment(job, st, valid, w->psd);
        if (nan_check(job, nbar, r0, valid, t) != 0)
            return -1;
        if ((t + 1) % MG_CPU_CHECK_EVERY == 0) {
            park_ctx pc = {w, job};
            int rc = mg_job_block_check(job, t + 1, &counted, r0, valid, state, park_lane, &pc);
            if (rc != 0)
                return rc;
        }
    }
    mg_job_block_done(job, counted, valid);
    for (int j = 0; j < valid; ++j)
        mg_obs_record(oc, st, j, ri + (int64_t)j * L->n_i, rd + (int64_t)j * L->n_d);
    return 0;
}

static void scratch_free(mg_job *job, void *wv)
{
    (void)job;
    scratch *w = (scratch *)wv;
    double *const own[] = {w->state, w->dyn, w->scratch, w->n, w->nbar};
    for (size_t k = 0; k < sizeof own / sizeof own[0]; ++k)
        free(own[k]);
    mg_cpu_psd_free(w->psd);
    free(w);
}

static void *scratch_alloc(mg_job *job)
{
    const int P = job->md.mm.P;
    scratch *w = calloc(1, sizeof *w);
    if (!w)
        return NULL;
    size_t state_bytes = (size_t)job->rows * MG_VL * sizeof(double);
    state_bytes = (state_bytes + 63) / 64 * 64;
    w->state = aligned_alloc(64, state_bytes);
    size_t dyn_bytes = ((size_t)job->dyn_rows * MG_VL * sizeof(double) + 63) / 64 * 64;
    w->dyn = aligned_alloc(64, dyn_bytes);
    w->scratch = aligned_alloc(64, (size_t)mg_meso_scratch_doubles(&job->md.mm) * sizeof(double));
    w->n = calloc((size_t)P * MG_VL, sizeof(double));
    w->nbar = calloc((size_t)P * MG_VL, sizeof(double));
    int ok = w->state && w->dyn && w->scratch && w->n && w->nbar;
    if (ok && job->SL.cfg.psd_n > 0)
        ok = (w->psd = mg_cpu_psd_alloc(job)) != NULL;
    if (!ok) {
        scratch_free(job, w);
        return NULL;
    }
    return w;
}

int mg_cpu_run(mg_job *job, mg_err *err)
{
    static const mg_cpu_block_ops ops = {scratch_alloc, scratch_free, run_block};
    return mg_cpu_run_blocks(job, &ops, err);
}
