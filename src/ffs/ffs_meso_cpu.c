/* src/ffs/ffs_meso_cpu.c: the FFS engine of the meso level on the CPU (src/ffs/ffs_internal.h).
 *
 * Realizations over OpenMP threads, handed out one at a time (dynamic schedule): a basin run
 * advances to a given step, a trial runs until it has reached its next interface or fallen
 * back into its basin, and the thread takes the next one. Each realization is stepped alone by
 * mg_meso_step1 of src/core/meso.h (rows contiguous, the host's pass form with per-thread
 * scratch) with its own step counter; the observable is tracked by the functions of
 * src/ffs_internal.h. A realization's result depends only on its inputs (start state, step,
 * realization index), never on the thread that ran it or on the others. */
#include "ffs/ffs_internal.h"

#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Steps between cancel checks. */
#define FFS_CHECK_EVERY 1024

typedef struct {
    int failed;
    int code;
    char msg[512];
} fail_box;

static void fail_set(fail_box *f, int code, const char *msg)
{
#pragma omp critical(mg_ffs_fail)
    {
        if (!f->failed) {
            f->failed = 1;
            f->code = code;
            snprintf(f->msg, sizeof f->msg, "%s", msg);
        }
    }
}

/* 0, or -1 after recording a NaN/Inf among the expected counts nbar[P]. */
static int check_finite(const mg_ffs_job *J, const double *nbar, int64_t t, uint32_t real,
                        fail_box *f)
{
    for (int a = 0; a < J->mm->P; ++a)
        if (!isfinite(nbar[a])) {
            char msg[400];
            snprintf(msg, sizeof msg, "%s in the expected spike count of population %d (%s), "
                     "realization %u, step %lld: likely cause: Delta_V too small for the input, "
                     "or extreme parameters", isnan(nbar[a]) ? "NaN" : "Inf", a,
                     J->model->pops[a].name, real, (long long)t);
            fail_set(f, MG_ENUM, msg);
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

static void worker_free(worker *w)
{
    free(w->scratch);
    free(w->n);
    free(w->nbar);
    free(w->state);
}

static int worker_alloc(const mg_ffs_job *J, worker *w)
{
    memset(w, 0, sizeof *w);
    size_t sb = ((size_t)mg_meso_scratch_doubles(J->mm) * sizeof(double) + 63) / 64 * 64;
    size_t stb = ((size_t)J->rows * sizeof(double) + 63) / 64 * 64;
    w->scratch = aligned_alloc(64, sb);
    w->state = aligned_alloc(64, stb);
    w->n = calloc((size_t)J->mm->P, sizeof(double));
    w->nbar = calloc((size_t)J->mm->P, sizeof(double));
    return w->scratch && w->state && w->n && w->nbar ? 0 : -1;
}

/* Histogram of lambda on [lam_thr - w, lam_B], w = lam_B - lam_thr (the basin side of the
 * threshold as wide as the way to B), with under- and overflow. */
static int hist_slot(const mg_ffs_job *J, int d, double lam)
{
    double hi = J->lam_B[d], lo = J->lam_thr[d] - (hi - J->lam_thr[d]);
    if (lam < lo)
        return 0;
    if (!(lam < hi))
        return MG_FFS_HIST + 1;
    int k = (int)((lam - lo) / (hi - lo) * MG_FFS_HIST);
    return 1 + (k < MG_FFS_HIST ? k : MG_FFS_HIST - 1);
}

/* A statistics bin of basin run br ended. Per direction d: state A of d begins when lambda <
 * lam_A (the core) and ends when lambda > lam_B. From bin J->b_hist on, the histogram of lambda
 * in state A; from bin J->b_count on: entering A starts the count and arms the crossing; a first
 * crossing of interface 0 after A, made in state A, is recorded with the state; time in state A
 * is exposure. Returns 0, or -1 when out of memory. */
static int basin_bin(const mg_ffs_job *J, mg_ffs_basin *br, mg_lanes st, int64_t b,
                     int64_t t_next)
{
    const mg_ffs_lane_cfg *c = &J->lc;
    double Ds = mg_ffs_obs_bin(c, st, b);
    if (isnan(Ds))
        return 0;
    /* the hysteresis state of `run`, kept with the stored states */
    MG_AT(st, c->row_state, 0) = (double)mg_ffs_hysteresis(c, Ds, (int)MG_AT(st, c->row_state, 0));
    for (int d = 0; d < 2; ++d) {
        double lam = mg_ffs_lambda(d, Ds);
        double *ds = &MG_AT(st, c->row_dstate + d, 0);
        int in_prev = *ds != 0.0;
        int in_new = lam < J->lam_A[d] ? 1 : (lam > J->lam_B[d] ? 0 : in_prev);
        *ds = (double)in_new;
        if (b < J->b_hist)
            continue;
        if (in_new)
            br->hist[d * (MG_FFS_HIST + 2) + hist_slot(J, d, lam)] += 1;
        if (b < J->b_count)
            continue;
        double *count = &MG_AT(st, c->row_count + d, 0), *armed = &MG_AT(st, c->row_armed + d, 0);
        if (lam < J->lam_A[d]) {
            *count = 1.0;
            *armed = 1.0;
        } else if (*armed != 0.0 && in_prev && lam > J->lam0[d]) {
            *armed = 0.0;
            if (br->n_cross == br->cap_cross) {
                int cap = br->cap_cross ? 2 * br->cap_cross : 16;
                mg_ffs_crossing *a = realloc(br->cross, (size_t)cap * sizeof *a);
                if (!a)
                    return -1;
                br->cross = a;
                br->cap_cross = cap;
            }
            double *copy = malloc((size_t)J->rows * sizeof(double));
            if (!copy)
                return -1;
            memcpy(copy, st.base, (size_t)J->rows * sizeof(double));
            mg_ffs_crossing *x = &br->cross[br->n_cross++];
            x->d = d;
            x->t = t_next;
            x->lam = lam;
            x->state = copy;
            br->crossings[d] += 1;
        }
        if (*count != 0.0 && in_new)
            br->exposure[d] += c->bin_s;
    }
    return 0;
}

static void basin_run(mg_ffs_job *J, mg_ffs_basin *br, int64_t t_end, worker *w, fail_box *f)
{
    const mg_ffs_lane_cfg *c = &J->lc;
    mg_lanes st = {br->state, 1};
    for (int64_t t = br->t; t < t_end; ++t) {
        mg_meso_step1(J->mm, st, t, br->real, w->n, w->nbar, w->scratch);
        if (check_finite(J, w->nbar, t, br->real, f))
            return;
        mg_ffs_obs_add(c, st, w->n);
        if ((t + 1) % c->st_L == 0 && basin_bin(J, br, st, (t + 1) / c->st_L - 1, t + 1)) {
            fail_set(f, MG_ENOMEM, "out of memory for the crossing states");
            return;
        }
        /* no cancel here: a basin call is atomic for the driver's checkpoints (a signal takes
         * effect after it, at most one round later) */
        if ((t + 1) % FFS_CHECK_EVERY == 0 && f->failed)
            return;
    }
    br->t = t_end;
}

static int engine_basin(mg_ffs_job *J, mg_ffs_basin *b, int nb, int64_t t_end, mg_err *err)
{
    fail_box f = {0, 0, ""};
#pragma omp parallel num_threads(J->threads)
    {
        worker w;
        if (worker_alloc(J, &w))
            fail_set(&f, MG_ENOMEM, "out of memory");
#pragma omp for schedule(dynamic, 1)
        for (int i = 0; i < nb; ++i)
            if (!f.failed)
                basin_run(J, &b[i], t_end, &w, &f);
        worker_free(&w);
    }
    if (f.failed)
        return mg_err_set(err, f.code, "%s", f.msg);
    return MG_OK;
}

static void trial_run(mg_ffs_job *J, mg_ffs_trial *tr, int d, double lam_A, double lam_next,
                      worker *w, fail_box *f)
{
    const mg_ffs_lane_cfg *c = &J->lc;
    memcpy(w->state, tr->start, (size_t)J->rows * sizeof(double));
    mg_lanes st = {w->state, 1};
    tr->outcome = -1;
    tr->max_lam = -INFINITY;
    tr->end_lam = NAN;
    for (int64_t t = tr->t0;; ++t) {
        if (t - tr->t0 >= J->trial_cap_steps) {
            tr->end_t = t;
            return; /* outcome -1 */
        }
        mg_meso_step1(J->mm, st, t, tr->real, w->n, w->nbar, w->scratch);
        if (check_finite(J, w->nbar, t, tr->real, f))
            return;
        mg_ffs_obs_add(c, st, w->n);
        if ((t + 1) % c->st_L == 0) {
            double Ds = mg_ffs_obs_bin(c, st, (t + 1) / c->st_L - 1);
            if (!isnan(Ds)) {
                MG_AT(st, c->row_state, 0) =
                    (double)mg_ffs_hysteresis(c, Ds, (int)MG_AT(st, c->row_state, 0));
                double lam = mg_ffs_lambda(d, Ds);
                if (lam > tr->max_lam)
                    tr->max_lam = lam;
                if (lam > lam_next || lam < lam_A) {
                    tr->outcome = lam > lam_next;
                    tr->end_t = t + 1;
                    if (tr->outcome) {
                        tr->end_lam = lam;
                        if (tr->end_state)
                            memcpy(tr->end_state, w->state, (size_t)J->rows * sizeof(double));
                    }
                    return;
                }
            }
        }
        if ((t + 1) % FFS_CHECK_EVERY == 0 && (f->failed || (J->o.cancel && *J->o.cancel))) {
            if (!f->failed)
                fail_set(f, MG_EINTR, "interrupted");
            return;
        }
    }
}

static int engine_trials(mg_ffs_job *J, mg_ffs_trial *tr, int n, int d, double lam_A,
                         double lam_next, mg_err *err)
{
    fail_box f = {0, 0, ""};
#pragma omp parallel num_threads(J->threads)
    {
        worker w;
        if (worker_alloc(J, &w))
            fail_set(&f, MG_ENOMEM, "out of memory");
#pragma omp for schedule(dynamic, 1)
        for (int i = 0; i < n; ++i)
            if (!f.failed && !tr[i].skip)
                trial_run(J, &tr[i], d, lam_A, lam_next, &w, &f);
        worker_free(&w);
    }
    if (f.failed)
        return mg_err_set(err, f.code, "%s", f.msg);
    return MG_OK;
}

const mg_ffs_engine mg_ffs_engine_meso_cpu = {"cpu", engine_basin, engine_trials};
