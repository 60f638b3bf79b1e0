/* src/ffs/ffs_meso_cpu.c: the FFS engine of the meso level on the CPU (src/ffs/ffs_internal.h).
 *
 * Realizations over OpenMP threads, handed out one at a time (dynamic schedule): a basin run
 * advances to a given step, a trial runs until it has reached its next interface or fallen
 * back into its basin, and the thread takes the next one. Each realization is stepped alone by
 * mg_meso_step1 of src/core/meso.h (rows contiguous, the host's pass form with per-thread
 * scratch) with its own step counter; the observable is tracked by the functions of
 * src/ffs_internal.h. A realization's result depends only on its inputs (start state, step,
 * realization index), never on the thread that ran it or on the others. The per-bin
 * bookkeeping is src/ffs/ffs_engine.c's, shared with the micro engine. */
#include "ffs/ffs_internal.h"
#include "ffs/ffs_slots.h" /* mg_ffs_meso_fault_msg */
#include "engine/meso_derive.h"

#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Steps between cancel checks. */
#define FFS_CHECK_EVERY 1024

static const mg_meso_model *meso_of(const mg_ffs_job *J)
{
    return &((const mg_meso_derived *)J->lev)->mm;
}

int mg_ffs_meso_fault_msg(const mg_ffs_job *J, const mg_ffs_slot_fault *f, mg_err *err)
{
    return mg_err_set(err, MG_ENUM, "%s in the expected spike count of population %d (%s), "
                      "realization %u, step %lld: likely cause: Delta_V too small for the input, "
                      "or extreme parameters", f->is_nan ? "NaN" : "Inf", f->pop,
                      J->model->pops[f->pop].name, (unsigned)f->real, f->step);
}

/* 0, or -1 after recording a NaN/Inf among the expected counts nbar[P] (the first population). */
static int check_finite(const mg_ffs_job *J, const double *nbar, int64_t t, uint32_t real,
                        mg_ffs_fail *f)
{
    for (int a = 0; a < meso_of(J)->P; ++a)
        if (!isfinite(nbar[a])) {
            const mg_ffs_slot_fault fault = {real, a, isnan(nbar[a]) ? 1 : 0, -1, t};
            mg_err e = {{0}};
            mg_ffs_meso_fault_msg(J, &fault, &e);
            mg_fail_note_set(f, MG_ENUM, e.msg);
            return -1;
        }
    return 0;
}

/* Per-thread scratch: the pass form's scratch and one step's counts. */
typedef struct {
    double *scratch;
    double *n, *nbar;            /* [P] */
    double *state;               /* [rows] a trial's state */
} worker;

static void worker_free(const mg_ffs_job *J, void *wp)
{
    (void)J;
    worker *w = wp;
    free(w->scratch);
    free(w->n);
    free(w->nbar);
    free(w->state);
    free(w);
}

static void *worker_alloc(const mg_ffs_job *J)
{
    worker *w = calloc(1, sizeof *w);
    if (!w)
        return NULL;
    size_t sb = ((size_t)mg_meso_scratch_doubles(meso_of(J)) * sizeof(double) + 63) / 64 * 64;
    size_t stb = ((size_t)J->rows * sizeof(double) + 63) / 64 * 64;
    w->scratch = aligned_alloc(64, sb);
    w->state = aligned_alloc(64, stb);
    w->n = calloc((size_t)meso_of(J)->P, sizeof(double));
    w->nbar = calloc((size_t)meso_of(J)->P, sizeof(double));
    if (w->scratch && w->state && w->n && w->nbar)
        return w;
    worker_free(J, w);
    return NULL;
}

static const mg_ffs_worker_ops ops = {worker_alloc, worker_free};

/* A crossing's state: the realization's rows, contiguous. */
static void save_rows(const mg_ffs_job *J, void *ctx, double *dst)
{
    memcpy(dst, ctx, (size_t)J->rows * sizeof(double));
}

static void basin_run(mg_ffs_job *J, mg_ffs_basin *br, int64_t t_end, worker *w, mg_ffs_fail *f)
{
    const mg_ffs_lane_cfg *c = &J->lc;
    mg_lanes st = {br->state, 1};
    for (int64_t t = br->t; t < t_end; ++t) {
        mg_meso_step1(meso_of(J), st, t, br->real, w->n, w->nbar, w->scratch);
        if (check_finite(J, w->nbar, t, br->real, f))
            return;
        mg_ffs_obs_add(c, st, w->n);
        if ((t + 1) % c->st_L == 0 &&
            mg_ffs_basin_bin(J, br, st, (t + 1) / c->st_L - 1, t + 1, save_rows, br->state)) {
            mg_fail_note_set(f, MG_ENOMEM, "out of memory for the crossing states");
            return;
        }
        /* no cancel here: a basin call is atomic for the driver's checkpoints (a signal takes
         * effect after it, at most one round later) */
        if ((t + 1) % FFS_CHECK_EVERY == 0 && f->failed)
            return;
    }
    br->t = t_end;
}

static void basin_item(mg_ffs_job *J, void *w, int i, void *ctx, mg_ffs_fail *f)
{
    const mg_ffs_call *c = ctx;
    basin_run(J, &c->b[i], c->t_end, w, f);
}

static int engine_basin(mg_ffs_job *J, mg_ffs_basin *b, int nb, int64_t t_end, mg_err *err)
{
    mg_ffs_call c = {.b = b, .t_end = t_end};
    return mg_ffs_parallel(J, &ops, nb, basin_item, &c, err);
}

static void trial_run(mg_ffs_job *J, mg_ffs_trial *tr, int d, double lam_A, double lam_next,
                      worker *w, mg_ffs_fail *f)
{
    const mg_ffs_lane_cfg *c = &J->lc;
    memcpy(w->state, tr->start, (size_t)J->rows * sizeof(double));
    mg_lanes st = {w->state, 1};
    mg_ffs_trial_begin(tr);
    for (int64_t t = tr->t0;; ++t) {
        if (t - tr->t0 >= J->trial_cap_steps) {
            tr->end_t = t;
            return; /* outcome -1 */
        }
        mg_meso_step1(meso_of(J), st, t, tr->real, w->n, w->nbar, w->scratch);
        if (check_finite(J, w->nbar, t, tr->real, f))
            return;
        mg_ffs_obs_add(c, st, w->n);
        if ((t + 1) % c->st_L == 0 &&
            mg_ffs_trial_bin(c, tr, st, (t + 1) / c->st_L - 1, t + 1, d, lam_A, lam_next)) {
            if (tr->outcome == 1 && tr->end_state)
                memcpy(tr->end_state, w->state, (size_t)J->rows * sizeof(double));
            return;
        }
        if ((t + 1) % FFS_CHECK_EVERY == 0 && (f->failed || (J->o.cancel && *J->o.cancel))) {
            if (!f->failed)
                mg_fail_note_set(f, MG_EINTR, "interrupted");
            return;
        }
    }
}

static void trial_item(mg_ffs_job *J, void *w, int i, void *ctx, mg_ffs_fail *f)
{
    const mg_ffs_call *c = ctx;
    if (!c->tr[i].skip)
        trial_run(J, &c->tr[i], c->d, c->lam_A, c->lam_next, w, f);
}

static int engine_trials(mg_ffs_job *J, mg_ffs_trial *tr, int n, int d, double lam_A,
                         double lam_next, mg_err *err)
{
    mg_ffs_call c = {.tr = tr, .d = d, .lam_A = lam_A, .lam_next = lam_next};
    return mg_ffs_parallel(J, &ops, n, trial_item, &c, err);
}

static void free_derived(void *md)
{
    mg_meso_derived_free(md);
}

static int engine_setup(mg_ffs_job *J, mg_err *err)
{
    mg_meso_derived *md = calloc(1, sizeof *md);
    if (!md)
        return mg_err_set(err, MG_ENOMEM, "out of memory");
    int rc = mg_ffs_lev_take(J, md, free_derived, mg_meso_derive(J->model, J->o.dt_ms,
                                                                 (int)J->o.noise, J->o.seed, md,
                                                                 err));
    if (rc == MG_OK)
        J->dyn_rows = md->mm.rows;
    return rc;
}

static int engine_init(const mg_ffs_job *J, double *state, uint32_t real)
{
    (void)real; /* every realization starts from the model's initial state */
    mg_lanes st = {state, 1};
    mg_meso_init1(meso_of(J), st);
    return 0;
}

const mg_ffs_engine mg_ffs_engine_meso_cpu = {"cpu", MG_LEVEL_MESO, engine_setup,
                                              mg_ffs_lev_release, engine_init, engine_basin,
                                              engine_trials};
