/* src/ffs/ffs_micro_cpu.c: the FFS engine of the micro level on the CPU (src/ffs/ffs_internal.h).
 *
 * The micro step (src/core/micro.h, mg_micro_step) runs a block of MG_VL realizations side by
 * side with one step counter t, and lane j draws its uniforms from Philox with counter
 * (real0 + j, Philox block, t). So the engine runs lane blocks: basin runs r0 .. r0 + 7 (the
 * realizations `mesogif run` simulates with the same seed, in absolute time), and blocks of up
 * to MG_VL trials with consecutive indices (the driver numbers the trials of a stage
 * consecutively), each from its own stored state. The trials of a block start at different
 * steps t0; every trial therefore runs in its own time frame, t counted from its start
 * (lane_load shifts the state by -t0, lane_save back by +t0), and its random numbers are
 * Philox(trial index, block, steps since its start): they depend on the trial alone, not on
 * its lane, block, batch or thread. Only the dynamics rows carry time (the refractory row holds
 * an absolute step; the spike history and the spike lists are slots t mod H); the observer
 * keeps the absolute statistics bin, so the moving average is summed in the same slot order as
 * in the basin run that stored the state. A lane whose trial has ended is stepped with the
 * others until the block's last trial ends (its results are kept from its end): lanes are not
 * refilled, because a lane's stream is tied to its place in the block.
 *
 * A stored state is the realization's dynamics rows in absolute time with its spike lists in
 * the park rows (the only state outside the lane matrix), and one more row: the realization
 * index of its network (the basin run it descends from), so that a trial keeps its parent's
 * quenched connectivity (per-realization networks, drawn again from the seed,
 * mg_micro_build_csr; all-to-all projections have none). Interval statistics are off. */
#include "ffs/ffs_internal.h"
#include "engine/job.h"      /* mg_job, mg_micro_setup */
#include "engine/micro_derive.h"
#include "ffs/ffs_micro_frame.h" /* mg_ffs_micro_load, _save */
#include "ffs/ffs_slots.h"       /* mg_ffs_micro_fault_msg */

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Steps between NaN and cancel checks. */
#define FFS_CHECK_EVERY 512

static const mg_micro_derived *mic(const mg_ffs_job *J)
{
    return ((const mg_job *)J->lev)->mi;
}

/* The micro network of `run` for m at the options' dt and seed, derived into job (without
 * interval statistics, per-realization networks). */
static int derive(const mg_model *m, const mg_ffs_opts *o, mg_job *job, mg_err *err)
{
    memset(job, 0, sizeof *job);
    job->model = m;
    mg_run_opts_default(&job->opts);
    job->opts.level = MG_LEVEL_MICRO;
    job->opts.dt_ms = o->dt_ms;
    job->opts.seed = o->seed;
    job->opts.t_warmup_ms = o->t_warmup_ms;
    job->opts.connectivity = MG_CONN_PER_REALIZATION;
    job->n_steps = 1; /* the input tables: switch allows stationary input only */
    job->SL.cfg.basic = 1;
    job->SL.cfg.isi_bins = 0;
    return mg_micro_setup(job, err);
}

int mg_ffs_micro_size(const mg_model *m, const mg_ffs_opts *o, int64_t *dyn_rows,
                      double *worker_bytes, mg_err *err)
{
    mg_job *job = malloc(sizeof *job);
    if (!job)
        return mg_err_set(err, MG_ENOMEM, "out of memory");
    int rc = derive(m, o, job, err);
    if (rc == MG_OK) {
        double per, shared;
        mg_micro_memory(job, &per, &shared);
        *dyn_rows = job->dyn_rows + 1;
        *worker_bytes = per * MG_VL + shared;
    }
    mg_micro_free(job);
    free(job);
    return rc;
}

/* What one thread owns: a lane block and its spike lists and networks. */
typedef struct {
    double *state;               /* [rows][MG_VL] */
    double *n;                   /* [P][MG_VL] spike counts of the step */
    uint32_t *spk;               /* spike lists */
    mg_micro_csr *csr;           /* [n_list][MG_VL] what the core reads */
    mg_micro_csr_store *store;   /* [n_list][MG_VL] lane j's network */
    int64_t net[MG_VL];          /* realization whose network lane j's store holds (-1 none) */
    int64_t *empty_off;          /* [max_N + 1] zeros: no targets (padding lanes) */
    mg_micro_scratch sc;
    int have_sc;
} worker;

static void worker_free(const mg_ffs_job *J, void *wp)
{
    worker *w = wp;
    free(w->state);
    free(w->n);
    free(w->spk);
    free(w->csr);
    if (w->store)
        for (int c = 0; c < mic(J)->mm.n_list * MG_VL; ++c)
            mg_micro_csr_free(&w->store[c]);
    free(w->store);
    free(w->empty_off);
    if (w->have_sc)
        mg_micro_scratch_free(&w->sc);
    free(w);
}

static void *worker_alloc(const mg_ffs_job *J)
{
    const mg_micro_derived *d = mic(J);
    const int n_list = d->mm.n_list;
    worker *w = calloc(1, sizeof *w);
    if (!w)
        return NULL;
    size_t sb = ((size_t)J->rows * MG_VL * sizeof(double) + 63) / 64 * 64;
    w->state = aligned_alloc(64, sb);
    if (w->state)
        memset(w->state, 0, sb); /* rows the micro init leaves alone are defined too */
    w->n = calloc((size_t)d->mm.P * MG_VL, sizeof(double));
    w->spk = malloc((size_t)(d->spk_elems > 0 ? d->spk_elems : 1) * MG_VL * sizeof(uint32_t));
    w->csr = calloc((size_t)(n_list > 0 ? n_list : 1) * MG_VL, sizeof *w->csr);
    w->empty_off = calloc((size_t)d->max_N + 1, sizeof(int64_t));
    for (int j = 0; j < MG_VL; ++j)
        w->net[j] = -1;
    int ok = w->state && w->n && w->spk && w->csr && w->empty_off;
    if (ok && n_list > 0) {
        w->store = calloc((size_t)n_list * MG_VL, sizeof *w->store);
        ok = w->store && mg_micro_scratch_alloc(d, &w->sc) == MG_OK;
        w->have_sc = ok;
    }
    if (ok)
        return w;
    worker_free(J, w);
    return NULL;
}

static const mg_ffs_worker_ops ops = {worker_alloc, worker_free};

/* Lane j reads the network of realization net (< 0: none, a padding lane); kept while the lane
 * stays with that network. 0, or -1 out of memory. */
static int connect_lane(const mg_ffs_job *J, worker *w, int j, int64_t net)
{
    const mg_micro_derived *d = mic(J);
    if (net >= 0 && w->net[j] != net) {
        mg_err err = {{0}};
        for (int c = 0; c < d->mm.n_list; ++c)
            if (mg_micro_build_csr(d, c, (uint32_t)net, 0, &w->store[c * MG_VL + j], &w->sc,
                                   &err) != MG_OK)
                return -1;
        w->net[j] = net;
    }
    for (int c = 0; c < d->mm.n_list; ++c) {
        mg_micro_csr *cs = &w->csr[c * MG_VL + j];
        cs->off = net >= 0 ? w->store[c * MG_VL + j].off : w->empty_off;
        cs->tgt = net >= 0 ? w->store[c * MG_VL + j].tgt : NULL;
    }
    return 0;
}

/* Lane j of the block <- the stored state x (contiguous rows, at step t_x), running at step
 * t_x - shift (src/ffs/ffs_micro_frame.h, on one thread). */
static void lane_load(const mg_ffs_job *J, worker *w, mg_lanes st, int j, const double *x,
                      int64_t shift)
{
    const mg_micro_buf buf = {w->spk, w->csr};
    for (int phase = 0; phase < MG_FFS_LOAD_PHASES; ++phase)
        mg_ffs_micro_load(&mic(J)->mm, J->rows, st, &buf, j, x, shift, phase, 0, 1);
}

/* The stored state x (contiguous rows, at step t + shift) <- lane j of the block at step t: the
 * inverse of lane_load, with the spike lists in the park rows. */
static void lane_save(const mg_ffs_job *J, const worker *w, mg_lanes st, int j, double *x,
                      int64_t shift)
{
    const mg_micro_buf buf = {w->spk, w->csr};
    for (int phase = 0; phase < MG_FFS_SAVE_PHASES; ++phase)
        mg_ffs_micro_save(&mic(J)->mm, J->rows, st, &buf, j, x, shift, phase, 0, 1);
}

/* The network row of a stored state. */
static int64_t net_of(const mg_ffs_job *J, const double *x)
{
    return (int64_t)x[J->dyn_rows - 1];
}

/* A basin crossing: lane j of the block, in absolute time. */
typedef struct {
    const worker *w;
    mg_lanes st;
    int j;
} lane_ref;

static void save_lane(const mg_ffs_job *J, void *ctx, double *dst)
{
    const lane_ref *r = ctx;
    lane_save(J, r->w, r->st, r->j, dst, 0);
}

/* What a lane block carries: lane j holds the stored state x[j] (live[j] = 1) shifted by
 * shift[j] steps, with realization index real0 + j; or nothing (a padding lane). */
typedef struct {
    const double *x[MG_VL];
    int64_t shift[MG_VL];
    int live[MG_VL];
    uint32_t real0;
} block;

int mg_ffs_micro_fault_msg(const mg_ffs_job *J, const mg_ffs_slot_fault *f, mg_err *err)
{
    return mg_err_set(err, MG_ENUM, "NaN in the membrane potential of realization %u, "
                      "population %d (%s), neuron %lld, step %lld: check Delta_V and the input",
                      (unsigned)f->real, f->pop, J->model->pops[f->pop].name, f->neuron, f->step);
}

int mg_ffs_micro_networks(const mg_micro_derived *d, long long n_net, mg_micro_csr_store **store,
                          mg_err *err)
{
    const long long nc = n_net * d->mm.n_list;
    mg_micro_scratch sc;
    int rc = MG_OK;
    *store = calloc((size_t)(nc > 0 ? nc : 1), sizeof **store);
    if (!*store || (nc > 0 && mg_micro_scratch_alloc(d, &sc) != MG_OK)) {
        free(*store);
        *store = NULL;
        return mg_err_set(err, MG_ENOMEM, "out of memory for the networks");
    }
    for (long long k = 0; k < nc && rc == MG_OK; ++k)
        rc = mg_micro_build_csr(d, (int)(k % d->mm.n_list), (uint32_t)(k / d->mm.n_list), 0,
                                &(*store)[k], &sc, err);
    if (nc > 0)
        mg_micro_scratch_free(&sc);
    if (rc != MG_OK) {
        mg_ffs_micro_networks_free(*store, nc);
        *store = NULL;
    }
    return rc;
}

void mg_ffs_micro_networks_free(mg_micro_csr_store *store, long long n)
{
    if (!store)
        return;
    for (long long k = 0; k < n; ++k)
        mg_micro_csr_free(&store[k]);
    free(store);
}

/* 0, or -1 after recording a NaN potential in lane j (realization real) at step t (a NaN
 * potential never fires again: its hazard compares false). */
static int lane_nan(const mg_ffs_job *J, mg_lanes st, int j, uint32_t real, int64_t t,
                    mg_ffs_fail *f)
{
    const mg_micro_model *mm = &mic(J)->mm;
    for (int a = 0; a < mm->P; ++a)
        for (int64_t i = 0; i < mm->pop[a].N; ++i)
            if (isnan(MG_AT(st, mm->pop[a].row_u + i, j))) {
                const mg_ffs_slot_fault fault = {real, a, 1, i, t};
                mg_err e = {{0}};
                mg_ffs_micro_fault_msg(J, &fault, &e);
                mg_fail_note_set(f, MG_ENUM, e.msg);
                return -1;
            }
    return 0;
}

/* 0, or -1 after recording a NaN potential in one of the live lanes of B. */
static int nan_check(const mg_ffs_job *J, mg_lanes st, const block *B, int64_t t, mg_ffs_fail *f)
{
    for (int j = 0; j < MG_VL; ++j)
        if (B->live[j] && lane_nan(J, st, j, B->real0 + (uint32_t)j, t, f))
            return -1;
    return 0;
}

/* The counts of lane j of the step into the observer's bin sums. */
static void obs_add_lane(const mg_ffs_job *J, const worker *w, mg_lanes st, int j)
{
    double n[MG_POP_MAX];
    for (int a = 0; a < J->lc.P; ++a)
        n[a] = w->n[a * MG_VL + j];
    mg_ffs_obs_add(&J->lc, mg_lane(st, j), n);
}

/* The block's lanes: the initial state everywhere (padding lanes stay in it), then the live
 * lanes' states and networks. 0, or -1 (recorded in f) out of memory. */
static int block_begin(const mg_ffs_job *J, worker *w, mg_lanes st, const block *B,
                       mg_ffs_fail *f)
{
    mg_micro_buf buf = {w->spk, w->csr};
    mg_micro_init(&mic(J)->mm, st, &buf);
    for (int j = 0; j < MG_VL; ++j) {
        if (connect_lane(J, w, j, B->live[j] ? net_of(J, B->x[j]) : -1)) {
            mg_fail_note_set(f, MG_ENOMEM, "out of memory for the networks");
            return -1;
        }
        if (B->live[j])
            lane_load(J, w, st, j, B->x[j], B->shift[j]);
    }
    return 0;
}

/* Basin runs b[0 .. k) (consecutive realization indices, all at step b[0].t) to t_end. */
static void basin_block(mg_ffs_job *J, worker *w, mg_ffs_basin *b, int k, int64_t t_end,
                        mg_ffs_fail *f)
{
    const mg_ffs_lane_cfg *c = &J->lc;
    const mg_micro_model *mm = &mic(J)->mm;
    mg_lanes st = {w->state, MG_VL};
    block B = {.real0 = b[0].real};
    for (int j = 0; j < k; ++j) {
        B.live[j] = 1;
        B.x[j] = b[j].state; /* basin runs: absolute time */
    }
    if (block_begin(J, w, st, &B, f))
        return;
    const mg_micro_buf buf = {w->spk, w->csr};
    for (int64_t t = b[0].t; t < t_end; ++t) {
        mg_micro_step(mm, st, &buf, t, b[0].real, k, w->n);
        for (int j = 0; j < k; ++j)
            obs_add_lane(J, w, st, j);
        if ((t + 1) % c->st_L == 0)
            for (int j = 0; j < k; ++j) {
                lane_ref ctx = {w, st, j};
                if (mg_ffs_basin_bin(J, &b[j], mg_lane(st, j), (t + 1) / c->st_L - 1, t + 1,
                                     save_lane, &ctx)) {
                    mg_fail_note_set(f, MG_ENOMEM, "out of memory for the crossing states");
                    return;
                }
            }
        /* no cancel here: a basin call is atomic for the driver's checkpoints */
        if ((t + 1) % FFS_CHECK_EVERY == 0 && (f->failed || nan_check(J, st, &B, t, f)))
            return;
    }
    for (int j = 0; j < k; ++j) {
        lane_save(J, w, st, j, b[j].state, 0);
        b[j].t = t_end;
    }
}

/* Trials tr[0 .. k) (consecutive realization indices; tr[0] runs; skipped ones are padding)
 * until each has ended. */
static void trial_block(mg_ffs_job *J, worker *w, mg_ffs_trial *tr, int k, int d, double lam_A,
                        double lam_next, mg_ffs_fail *f)
{
    const mg_ffs_lane_cfg *c = &J->lc;
    const mg_micro_model *mm = &mic(J)->mm;
    mg_lanes st = {w->state, MG_VL};
    block B = {.real0 = tr[0].real};
    int n_live = 0, n_lanes = 0;
    for (int j = 0; j < k; ++j) {
        if (tr[j].skip)
            continue; /* a padding lane */
        B.live[j] = 1;
        B.x[j] = tr[j].start;
        B.shift[j] = tr[j].t0; /* the trial's own time frame */
        mg_ffs_trial_begin(&tr[j]);
        ++n_live;
        n_lanes = j + 1;
    }
    if (block_begin(J, w, st, &B, f))
        return;
    const mg_micro_buf buf = {w->spk, w->csr};
    for (int64_t t = 0; n_live > 0; ++t) {
        if (t >= J->trial_cap_steps) {
            for (int j = 0; j < MG_VL; ++j)
                if (B.live[j])
                    tr[j].end_t = tr[j].t0 + t; /* outcome -1 */
            return;
        }
        mg_micro_step(mm, st, &buf, t, tr[0].real, n_lanes, w->n);
        for (int j = 0; j < MG_VL; ++j) {
            if (!B.live[j])
                continue;
            obs_add_lane(J, w, st, j);
            const int64_t t_next = tr[j].t0 + t + 1; /* absolute: the observer's bins */
            if (t_next % c->st_L == 0 &&
                mg_ffs_trial_bin(c, &tr[j], mg_lane(st, j), t_next / c->st_L - 1, t_next, d,
                                 lam_A, lam_next)) {
                if (lane_nan(J, st, j, tr[j].real, t, f)) /* never end with a NaN unseen */
                    return;
                if (tr[j].outcome == 1 && tr[j].end_state)
                    lane_save(J, w, st, j, tr[j].end_state, tr[j].t0);
                B.live[j] = 0;
                --n_live;
            }
        }
        if ((t + 1) % FFS_CHECK_EVERY == 0) {
            if (f->failed || nan_check(J, st, &B, t, f))
                return;
            if (J->o.cancel && *J->o.cancel) {
                mg_fail_note_set(f, MG_EINTR, "interrupted");
                return;
            }
        }
    }
}

static void basin_item(mg_ffs_job *J, void *w, int q, void *ctx, mg_ffs_fail *f)
{
    const mg_ffs_call *c = ctx;
    basin_block(J, w, &c->b[c->start[q]], c->len[q], c->t_end, f);
}

static void trial_item(mg_ffs_job *J, void *w, int q, void *ctx, mg_ffs_fail *f)
{
    const mg_ffs_call *c = ctx;
    trial_block(J, w, &c->tr[c->start[q]], c->len[q], c->d, c->lam_A, c->lam_next, f);
}

/* The n items of c in lane blocks, run over the threads: a block starts at an item that runs
 * (not skipped) and takes the following ones while their realization indices continue
 * consecutively, at most MG_VL, without skipped ones at its end. */
static int run_blocks(mg_ffs_job *J, mg_ffs_call *c, int n,
                      void (*item)(mg_ffs_job *J, void *w, int q, void *ctx, mg_ffs_fail *f),
                      mg_err *err)
{
    c->start = malloc((size_t)(n > 0 ? n : 1) * sizeof(int));
    c->len = malloc((size_t)(n > 0 ? n : 1) * sizeof(int));
    int rc = MG_OK;
    if (!c->start || !c->len) {
        rc = mg_err_set(err, MG_ENOMEM, "out of memory");
        goto out;
    }
#define REAL(i) (c->b ? c->b[i].real : c->tr[i].real)
#define SKIP(i) (c->b ? 0 : c->tr[i].skip)
    int nb = 0;
    for (int i = 0; i < n;) {
        if (SKIP(i)) {
            ++i;
            continue;
        }
        int k = 1;
        while (k < MG_VL && i + k < n && REAL(i + k) == REAL(i) + (uint32_t)k)
            ++k;
        while (SKIP(i + k - 1))
            --k;
        c->start[nb] = i;
        c->len[nb++] = k;
        i += k;
    }
#undef REAL
#undef SKIP
    rc = mg_ffs_parallel(J, &ops, nb, item, c, err);
out:
    free(c->start);
    free(c->len);
    return rc;
}

static int engine_basin(mg_ffs_job *J, mg_ffs_basin *b, int nb, int64_t t_end, mg_err *err)
{
    mg_ffs_call c = {.b = b, .t_end = t_end};
    return run_blocks(J, &c, nb, basin_item, err);
}

static int engine_trials(mg_ffs_job *J, mg_ffs_trial *tr, int n, int d, double lam_A,
                         double lam_next, mg_err *err)
{
    mg_ffs_call c = {.tr = tr, .d = d, .lam_A = lam_A, .lam_next = lam_next};
    return run_blocks(J, &c, n, trial_item, err);
}

static void free_job(void *job)
{
    mg_micro_free(job);
}

static int engine_setup(mg_ffs_job *J, mg_err *err)
{
    mg_job *job = malloc(sizeof *job);
    if (!job)
        return mg_err_set(err, MG_ENOMEM, "out of memory");
    int rc = mg_ffs_lev_take(J, job, free_job, derive(J->model, &J->o, job, err));
    if (rc == MG_OK)
        J->dyn_rows = job->dyn_rows + 1; /* the network row last */
    return rc;
}

/* The initial state of basin run `real` (MODEL.md §1.5), through a lane block. */
static int engine_init(const mg_ffs_job *J, double *state, uint32_t real)
{
    worker *w = worker_alloc(J);
    if (!w)
        return -1;
    mg_lanes st = {w->state, MG_VL};
    mg_micro_buf buf = {w->spk, w->csr};
    mg_micro_init(&mic(J)->mm, st, &buf);
    lane_save(J, w, st, 0, state, 0);
    state[J->dyn_rows - 1] = (double)real;
    worker_free(J, w);
    return 0;
}

const mg_ffs_engine mg_ffs_engine_micro_cpu = {"cpu", MG_LEVEL_MICRO, engine_setup,
                                               mg_ffs_lev_release, engine_init, engine_basin,
                                               engine_trials};
