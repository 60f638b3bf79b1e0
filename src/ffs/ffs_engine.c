/* src/ffs/ffs_engine.c: what every FFS engine shares (src/ffs/ffs_internal.h): the bookkeeping at the
 * end of a statistics bin of a basin run (hysteresis state, histogram of lambda, exposure,
 * first crossings of interface 0 and their states) and of a trial (next interface reached, or
 * back in the basin), the first failure of an engine call, and the engine of a (level,
 * backend). The engines differ only in how they step a realization and copy its state. */
#include "ffs/ffs_internal.h"

#include <math.h>
#include <stdio.h>
#include <omp.h>
#include <stdlib.h>

int mg_ffs_parallel(mg_ffs_job *J, const mg_ffs_worker_ops *ops, int n,
                    void (*item)(mg_ffs_job *J, void *w, int i, void *ctx, mg_ffs_fail *f),
                    void *ctx, mg_err *err)
{
    mg_ffs_fail f = {0, 0, ""};
#pragma omp parallel num_threads(J->threads)
    {
        void *w = ops->worker_alloc(J);
        if (!w)
            mg_fail_note_set(&f, MG_ENOMEM, "out of memory");
#pragma omp for schedule(dynamic, 1)
        for (int i = 0; i < n; ++i)
            if (!f.failed)
                item(J, w, i, ctx, &f);
        if (w)
            ops->worker_free(J, w);
    }
    if (f.failed)
        return mg_err_set(err, f.code, "%s", f.msg);
    return MG_OK;
}

int mg_ffs_lev_take(mg_ffs_job *J, void *lev, void (*lev_free)(void *lev), int rc)
{
    if (rc != MG_OK) {
        free(lev);
        return rc;
    }
    J->lev = lev;
    J->lev_free = lev_free;
    return MG_OK;
}

void mg_ffs_lev_release(mg_ffs_job *J)
{
    if (!J->lev)
        return;
    J->lev_free(J->lev);
    free(J->lev);
    J->lev = NULL;
}

int mg_ffs_resize(void **p, int64_t n, size_t elem)
{
    void *q = realloc(*p, (size_t)n * elem);
    if (!q)
        return -1;
    *p = q;
    return 0;
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

/* Per direction d: state A of d begins when lambda < lam_A (the core) and ends when lambda >
 * lam_B. From bin J->b_hist on, the histogram of lambda in state A; from bin J->b_count on:
 * entering A starts the count and arms the crossing; a first crossing of interface 0 after A,
 * made in state A, is recorded with the state; time in state A is exposure. */
int mg_ffs_basin_bin(const mg_ffs_job *J, mg_ffs_basin *br, mg_lanes st, int64_t b,
                     int64_t t_next, void (*save)(const mg_ffs_job *J, void *ctx, double *dst),
                     void *ctx)
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
                if (mg_ffs_resize((void **)&br->cross, cap, sizeof *br->cross))
                    return -1;
                br->cap_cross = cap;
            }
            double *copy = malloc((size_t)J->rows * sizeof(double));
            if (!copy)
                return -1;
            save(J, ctx, copy);
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
