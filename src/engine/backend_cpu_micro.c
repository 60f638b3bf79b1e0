/* src/engine/backend_cpu_micro.c: the CPU backend of the micro level (MODEL.md §1.3), the reference twin
 * of a future CUDA backend; the structure mirrors src/engine/backend_cpu.c (meso).
 *
 * One OpenMP loop over blocks of MG_VL realizations (a finer grain than the meso's loop over
 * reduction groups: micro realizations are expensive and runs are small), each through
 * mg_micro_step and mg_obs_step (src/core/micro.h, src/core/observe.h); a finished block's
 * records wait until the blocks before it in its reduction group (src/engine/job.h) are done and
 * are then added in realization order, so the sums are bitwise those of a sequential run. The
 * state of a block is a [rows][MG_VL] matrix (per-neuron state stored
 * [variable][neuron][lane], so one neuron of all lanes is one SIMD vector); each lane's
 * connectivity is drawn when the block starts, from the lane's realization index alone
 * (mg_micro_build_csr), or shared by the ensemble. Padding lanes past the end of a group are
 * simulated and discarded (without list deliveries), so a realization never depends on its
 * neighbours. Spikes of the first k realizations are collected per realization and merged into
 * time order at the end (job->spikes, SONATA node ids k N + i).
 *
 * Checkpoints (src/engine/checkpoint.c, as the meso backend): at a checkpoint every running block parks
 * its realizations (mg_job_park: the lane matrix, with the spike lists copied into its park rows;
 * networks are drawn again from the seed) and no block starts; group progress advances over
 * the finished blocks at the head of each group, whose records are then in the group sums (a
 * block finished behind a parked one runs again later). Recorded spikes survive: within a
 * process they are kept and never recorded twice (rec_upto); a run resumed in a new process
 * first runs its recorded realizations again from step 0, recording only, up to where the
 * checkpoint has them (replay_recorded). */
#include "engine/job.h"
#include "engine/micro_derive.h"

#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* What one thread owns. */
typedef struct {
    double *state;               /* [rows][MG_VL] */
    double *n;                   /* [P][MG_VL] spike counts of the step */
    uint32_t *spk;               /* spike lists, [spk_elems][MG_VL] */
    mg_micro_csr *csr;           /* [n_list][MG_VL] what the core reads */
    mg_micro_csr_store *store;   /* [n_list][MG_VL] per-realization networks */
    int64_t *empty_off;          /* [max_N + 1] zeros: no targets (padding lanes) */
    mg_micro_scratch sc;
    int have_sc;
    mg_cpu_psd *psd;             /* spectra scratch (src/engine/backend_cpu.c), NULL without spectra */
} worker;

static void worker_free(worker *w, int n_list)
{
    free(w->state);
    free(w->n);
    free(w->spk);
    free(w->csr);
    if (w->store)
        for (int c = 0; c < n_list * MG_VL; ++c)
            mg_micro_csr_free(&w->store[c]);
    free(w->store);
    free(w->empty_off);
    if (w->have_sc)
        mg_micro_scratch_free(&w->sc);
    mg_cpu_psd_free(w->psd);
}

static int worker_alloc(const mg_job *job, worker *w)
{
    const mg_micro_derived *d = job->mi;
    const int n_list = d->mm.n_list;
    memset(w, 0, sizeof *w);
    size_t state_bytes = (size_t)job->rows * MG_VL * sizeof(double);
    state_bytes = (state_bytes + 63) / 64 * 64;
    w->state = aligned_alloc(64, state_bytes);
    w->n = calloc((size_t)d->mm.P * MG_VL, sizeof(double));
    w->spk = malloc((size_t)(d->spk_elems > 0 ? d->spk_elems : 1) * MG_VL * sizeof(uint32_t));
    w->csr = calloc((size_t)(n_list > 0 ? n_list : 1) * MG_VL, sizeof *w->csr);
    w->empty_off = calloc((size_t)d->max_N + 1, sizeof(int64_t));
    if (!w->state || !w->n || !w->spk || !w->csr || !w->empty_off)
        return MG_ENOMEM;
    if (job->SL.cfg.psd_n > 0 && !(w->psd = mg_cpu_psd_alloc(job)))
        return MG_ENOMEM;
    if (n_list > 0 && !d->shared) {
        w->store = calloc((size_t)n_list * MG_VL, sizeof *w->store);
        if (!w->store || mg_micro_scratch_alloc(d, &w->sc) != MG_OK)
            return MG_ENOMEM;
        w->have_sc = 1;
    }
    return MG_OK;
}

/* Append the spikes of step t of lane j to recorded realization k, unless that step is
 * recorded already (a block run again after a checkpoint). 0, or -1 out of memory. */
static int record(mg_micro_derived *d, const mg_micro_buf *buf, mg_lanes st, int64_t t, int j,
                  int64_t k)
{
    const mg_micro_model *mm = &d->mm;
    if (t < d->rec_upto[k])
        return 0;
    d->rec_upto[k] = t + 1;
    for (int a = 0; a < mm->P; ++a) {
        const mg_micro_pop *pp = &mm->pop[a];
        const int hs = (int)(t % pp->H);
        const int64_t cnt = (int64_t)MG_AT(st, pp->row_hist + hs, j);
        if (cnt == 0)
            continue;
        mg_micro_rec *rc = &d->rec[k * mm->P + a];
        if (rc->n + cnt > rc->cap) {
            int64_t cap = rc->cap > 0 ? rc->cap : 4096;
            while (cap < rc->n + cnt)
                cap *= 2;
            uint64_t *x = realloc(rc->key, (size_t)cap * sizeof *x);
            if (!x)
                return -1;
            rc->key = x;
            rc->cap = cap;
        }
        const uint32_t *l = mg_micro_spikes(buf, pp, hs, j);
        for (int64_t q = 0; q < cnt; ++q)
            rc->key[rc->n++] = ((uint64_t)t << 32) | l[q];
    }
    return 0;
}

/* The out-lists of every lane of the block starting at r0 (valid lanes: their realization's
 * network; padding lanes: none). 0, or -1 (failure recorded in job). */
static int connect_block(mg_job *job, worker *w, int64_t r0, int valid)
{
    mg_micro_derived *d = job->mi;
    mg_err err = {{0}};
    for (int c = 0; c < d->mm.n_list; ++c) {
        for (int j = 0; j < MG_VL; ++j) {
            mg_micro_csr *cs = &w->csr[c * MG_VL + j];
            if (d->shared) {
                cs->off = d->shared_csr[c].off;
                cs->tgt = d->shared_csr[c].tgt;
            } else if (j < valid) {
                mg_micro_csr_store *so = &w->store[c * MG_VL + j];
                if (mg_micro_build_csr(d, c, (uint32_t)(r0 + j), 0, so, &w->sc, &err) != MG_OK) {
                    mg_job_fail(job, MG_ENOMEM, err.msg);
                    return -1;
                }
                cs->off = so->off;
                cs->tgt = so->tgt;
            } else {
                cs->off = w->empty_off;
                cs->tgt = NULL;
            }
        }
    }
    return 0;
}

/* Spike lists of lane j <-> the park rows of the lane matrix (the only state of a realization
 * outside the matrix; networks are drawn again from the seed). */
static void pack_spikes(const mg_micro_model *mm, const mg_micro_buf *buf, mg_lanes st, int j,
                        int to_rows)
{
    for (int a = 0; a < mm->P; ++a) {
        const mg_micro_pop *pp = &mm->pop[a];
        for (int h = 0; h < pp->H; ++h) {
            uint32_t *l = mg_micro_spikes(buf, pp, h, j);
            const int64_t cnt = (int64_t)MG_AT(st, pp->row_hist + h, j);
            for (int64_t q = 0; q < cnt; ++q) {
                double *x = &MG_AT(st, pp->row_park + (int64_t)h * pp->N + q, j);
                if (to_rows)
                    *x = (double)l[q];
                else
                    l[q] = (uint32_t)*x;
            }
        }
    }
}

/* pack_spikes into the rows, for mg_job_block_check, which parks the block's state rows. */
typedef struct {
    const mg_micro_model *mm;
    const mg_micro_buf *buf;
    mg_lanes st;
} park_ctx;

static void park_lane(void *ctx, int j)
{
    const park_ctx *pc = ctx;
    pack_spikes(pc->mm, pc->buf, pc->st, j, 1);
}

/* The NaN check of lane j (a NaN potential never fires again: its hazard compares false).
 * 0, or -1 with the failure recorded. */
static int nan_check(mg_job *job, mg_lanes st, int64_t r0, int valid, int64_t t)
{
    const mg_micro_model *mm = &job->mi->mm;
    for (int a = 0; a < mm->P; ++a) {
        const mg_micro_pop *pp = &mm->pop[a];
        for (int64_t i = 0; i < pp->N; ++i) {
            for (int j = 0; j < valid; ++j) {
                if (isnan(MG_AT(st, pp->row_u + i, j))) {
                    char msg[320];
                    snprintf(msg, sizeof msg,
                             "NaN in the membrane potential of realization %lld, population %d "
                             "(%s), neuron %lld, step %lld: check Delta_V and the input",
                             (long long)(r0 + j), a, job->model->pops[a].name, (long long)i,
                             (long long)t);
                    mg_job_fail(job, MG_ENUM, msg);
                    return -1;
                }
            }
        }
    }
    return 0;
}

/* Run the block of MG_VL realizations starting at r0 (lanes with r >= hi are padding) from step
 * 0, or from where a checkpoint parked it, and write the record of valid lane j to
 * si + j n_i, sd + j n_d. Returns 0 when done, 1 when parked for a checkpoint, -1 on a failure
 * (recorded in job). */
static int run_block(mg_job *job, worker *w, int64_t r0, int64_t hi, int64_t *si, double *sd)
{
    mg_micro_derived *d = job->mi;
    const mg_micro_model *mm = &d->mm;
    const mg_obs_cfg *oc = &job->oc;
    const mg_stats_layout *L = &job->SL;
    const int P = mm->P;
    const int valid = (int)(hi - r0 < MG_VL ? hi - r0 : MG_VL);
    mg_lanes st = {w->state, MG_VL};
    if (connect_block(job, w, r0, valid) != 0)
        return -1;
    mg_micro_buf buf;
    buf.spk = w->spk;
    buf.csr = w->csr;

    int64_t trace_row[MG_VL], rec_k[MG_VL];
    int any_rec = 0;
    for (int j = 0; j < MG_VL; ++j) {
        int64_t k = r0 + j - job->opts.realization_first;
        int rec = r0 + j < hi && k < job->trace_k;
        trace_row[j] = rec ? k * P * job->trace_T : -1;
        rec_k[j] = rec ? k : -1;
        any_rec |= rec;
    }
    mg_micro_init(mm, st, &buf);
    mg_obs_init(oc, st);
    int64_t t0 = 0;
    int parked = 0;
    for (int j = 0; j < valid; ++j) /* lanes of a parked block share its step */
        parked |= mg_job_unpark(job, r0 + j, &t0, w->state + j, MG_VL);
    if (parked)
        for (int j = 0; j < valid; ++j)
            pack_spikes(mm, &buf, st, j, 0);
    int64_t counted = t0; /* steps already added to job->steps_done */
    for (int64_t t = t0; t < job->n_steps; ++t) {
        mg_micro_step(mm, st, &buf, t, (uint32_t)r0, valid, w->n);
        if (mg_obs_step(oc, st, t, w->n, NULL, job->trace_AN, NULL, trace_row))
            mg_cpu_psd_segment(job, st, valid, w->psd);
        if (any_rec) {
            for (int j = 0; j < valid; ++j) {
                if (rec_k[j] >= 0 && record(d, &buf, st, t, j, rec_k[j]) != 0) {
                    mg_job_fail(job, MG_ENOMEM, "out of memory for the recorded spikes (record fewer "
                         "realizations: --record-realizations)");
                    return -1;
                }
            }
        }
        if ((t + 1) % MG_CPU_CHECK_EVERY == 0 || t + 1 == job->n_steps) {
            if (nan_check(job, st, r0, valid, t) != 0)
                return -1;
            /* the spikes are packed into the rows of a lane before it is parked */
            park_ctx pc = {mm, &buf, st};
            int rc = (t + 1) % MG_CPU_CHECK_EVERY ? 0
                                                  : mg_job_block_check(job, t + 1, &counted, r0,
                                                                       valid, w->state,
                                                                       park_lane, &pc);
            if (rc != 0)
                return rc;
        }
    }
    mg_job_block_done(job, counted, valid);
    for (int j = 0; j < valid; ++j) {
        mg_obs_record(oc, st, j, si + (int64_t)j * L->n_i, sd + (int64_t)j * L->n_d);
        mg_micro_isi_record(mm, L, st, j, si + (int64_t)j * L->n_i, sd + (int64_t)j * L->n_d);
    }
    return 0;
}

/* Recorded spikes after a resume in a new process: the spikes of recorded realizations that
 * finished, or were parked, before the checkpoint are not in it; realization r depends only on
 * (model, options, seed, r), so run them again from step 0, recording only (no statistics, no
 * traces), up to where the checkpoint has them: until[j] steps for realization r[j] = r[0] + j,
 * j < n <= MG_VL. 0, or -1 with the failure recorded in job. */
static int replay_spikes(mg_job *job, worker *w, const int64_t *r, const int64_t *until, int n)
{
    mg_micro_derived *d = job->mi;
    const mg_micro_model *mm = &d->mm;
    mg_lanes st = {w->state, MG_VL};
    if (connect_block(job, w, r[0], n) != 0)
        return -1;
    mg_micro_buf buf;
    buf.spk = w->spk;
    buf.csr = w->csr;
    int64_t last = 0;
    for (int j = 0; j < n; ++j)
        last = until[j] > last ? until[j] : last;
    /* the core numbers lane j realization real0 + j: the caller passes consecutive ones */
    mg_micro_init(mm, st, &buf);
    for (int64_t t = 0; t < last; ++t) {
        mg_micro_step(mm, st, &buf, t, (uint32_t)r[0], n, w->n);
        for (int j = 0; j < n; ++j) {
            int64_t k = r[j] - job->opts.realization_first;
            if (t < until[j] && record(d, &buf, st, t, j, k) != 0) {
                mg_job_fail(job, MG_ENOMEM, "out of memory for the recorded spikes");
                return -1;
            }
        }
        if ((t + 1) % MG_CPU_CHECK_EVERY == 0 && job->opts.cancel && *job->opts.cancel) {
            mg_job_fail(job, MG_EINTR, "interrupted");
            return -1;
        }
    }
    return 0;
}

typedef struct {
    uint64_t step, node;
} spike_pair;

static int cmp_pair(const void *x, const void *y)
{
    const spike_pair *a = x, *b = y;
    if (a->step != b->step)
        return a->step < b->step ? -1 : 1;
    return a->node < b->node ? -1 : (a->node > b->node);
}

/* The recorded spikes as job->spikes: per population, sorted by (time, node id). Also used by
 * the CUDA backend (kernels/backend_cuda_micro.cu). */
int mg_micro_merge_spikes(mg_job *job, mg_err *err)
{
    mg_micro_derived *d = job->mi;
    const int P = d->mm.P;
    mg_spikes *s = calloc((size_t)P, sizeof *s);
    if (!s)
        return mg_err_set(err, MG_ENOMEM, "out of memory for the recorded spikes");
    job->spikes = s;
    for (int a = 0; a < P; ++a) {
        int64_t n = 0;
        for (int64_t k = 0; k < d->rec_k; ++k)
            n += d->rec[k * P + a].n;
        spike_pair *pr = malloc((size_t)(n > 0 ? n : 1) * sizeof *pr);
        s[a].t_ms = malloc((size_t)(n > 0 ? n : 1) * sizeof(double));
        s[a].node_id = malloc((size_t)(n > 0 ? n : 1) * sizeof(uint64_t));
        if (!pr || !s[a].t_ms || !s[a].node_id) {
            free(pr);
            return mg_err_set(err, MG_ENOMEM, "out of memory for the recorded spikes");
        }
        int64_t at = 0;
        const uint64_t N = (uint64_t)d->mm.pop[a].N;
        for (int64_t k = 0; k < d->rec_k; ++k) {
            mg_micro_rec *rc = &d->rec[k * P + a];
            for (int64_t q = 0; q < rc->n; ++q, ++at) {
                pr[at].step = rc->key[q] >> 32;
                pr[at].node = (uint64_t)k * N + (rc->key[q] & 0xffffffffu);
            }
            free(rc->key);
            rc->key = NULL;
            rc->n = rc->cap = 0;
        }
        qsort(pr, (size_t)n, sizeof *pr, cmp_pair);
        for (int64_t q = 0; q < n; ++q) {
            /* time stamp: the start of the step in which the spike was emitted, so that
             * spikes binned like /traces/A_N give its counts */
            s[a].t_ms[q] = (double)pr[q].step * job->opts.dt_ms;
            s[a].node_id[q] = pr[q].node;
        }
        s[a].n = n;
        s[a].n_neurons = (int64_t)N;
        free(pr);
    }
    return MG_OK;
}

/* After a resume: run again, recording only, the recorded realizations whose spikes the new
 * process lacks (see replay_spikes). 0 or -1. */
static int replay_recorded(mg_job *job, worker *w)
{
    mg_micro_derived *d = job->mi;
    const int64_t first = job->opts.realization_first;
    int64_t r[MG_VL], until[MG_VL];
    int n = 0;
    for (int64_t k = 0; k < job->trace_k; ++k) {
        const int64_t rr = first + k;
        const int64_t g = rr / MG_RGROUP - job->g_first;
        int64_t need = 0;
        if (rr < mg_job_group_next(job, g))
            need = job->n_steps; /* finished: its record is in the sums */
        for (int i = 0; i < job->n_inflight; ++i)
            if (job->inflight[i].r == rr)
                need = job->inflight[i].t; /* parked at that step */
        if (d->rec_upto[k] >= need)
            continue;
        if (n > 0 && (n == MG_VL || rr != r[0] + n)) {
            if (replay_spikes(job, w, r, until, n) != 0)
                return -1;
            n = 0;
        }
        r[n] = rr;
        until[n] = need;
        ++n;
    }
    if (n > 0 && replay_spikes(job, w, r, until, n) != 0)
        return -1;
    return 0;
}

/* The mg_cpu_block_ops callbacks (src/engine/job.h). */
static void *worker_alloc_cb(mg_job *job)
{
    worker *w = malloc(sizeof *w);
    if (!w)
        return NULL;
    if (worker_alloc(job, w) != MG_OK) {
        worker_free(w, job->mi->mm.n_list);
        free(w);
        return NULL;
    }
    return w;
}

static void worker_free_cb(mg_job *job, void *w)
{
    worker_free((worker *)w, job->mi->mm.n_list);
    free(w);
}

static int run_block_cb(mg_job *job, void *w, int64_t r0, int64_t hi, int64_t *ri, double *rd)
{
    return run_block(job, (worker *)w, r0, hi, ri, rd);
}

int mg_cpu_run_micro(mg_job *job, mg_err *err)
{
    mg_micro_derived *d = job->mi;
    const int n_list = d->mm.n_list;
    /* the recorded spikes live across the calls of one run (a checkpoint returns here) */
    if (!d->rec && job->trace_k > 0) {
        d->rec_k = job->trace_k;
        d->rec = calloc((size_t)(d->rec_k * d->mm.P), sizeof *d->rec);
        d->rec_upto = calloc((size_t)d->rec_k, sizeof *d->rec_upto);
        if (!d->rec || !d->rec_upto)
            return mg_err_set(err, MG_ENOMEM, "out of memory for the recorded spikes");
    }
    if (d->rec_k > 0) {
        worker w;
        int rc = worker_alloc(job, &w) == MG_OK ? replay_recorded(job, &w) : -1;
        worker_free(&w, n_list);
        if (rc != 0 && !job->fail.failed)
            mg_job_fail(job, MG_ENOMEM, "out of memory for replaying the recorded realizations");
        if (job->fail.failed)
            return mg_err_set(err, job->fail.code, "%s", job->fail.msg);
    }
    /* the shared block scheduler (src/engine/cpu_schedule.c); --batch does not apply */
    static const mg_cpu_block_ops ops = {worker_alloc_cb, worker_free_cb, run_block_cb};
    int rc = mg_cpu_run_blocks(job, &ops, err);
    if (rc != MG_OK)
        return rc;
    int all_done = mg_job_groups_done(job);
    /* the spikes go to the result once every realization is done (else a checkpoint is due
     * and the driver calls again) */
    return all_done ? mg_micro_merge_spikes(job, err) : MG_OK;
}
