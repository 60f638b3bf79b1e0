/* src/backend_cpu_micro.c: the CPU backend of the micro level (MODEL.md §1.3), the reference twin
 * of a future CUDA backend; the structure mirrors src/backend_cpu.c (meso).
 *
 * One OpenMP loop over blocks of MG_VL realizations (a finer grain than the meso's loop over
 * reduction groups: micro realizations are expensive and runs are small), each through
 * mg_micro_step and mg_obs_step (src/core/micro.h, src/core/observe.h); the records of a
 * reduction group (src/ensemble.h) are staged and summed in realization order by the thread
 * that finishes the group's last block, so the sums are bitwise those of a sequential run. The state of a block is a [rows][MG_VL] matrix (per-neuron state stored
 * [variable][neuron][lane], so one neuron of all lanes is one SIMD vector); each lane's
 * connectivity is drawn when the block starts, from the lane's realization index alone
 * (mg_micro_build_csr), or shared by the ensemble. Padding lanes past the end of a group are
 * simulated and discarded (without list deliveries), so a realization never depends on its
 * neighbours. Spikes of the first k realizations are collected per realization and merged into
 * time order at the end (job->spikes, SONATA node ids k N + i).
 *
 * Checkpoints (src/checkpoint.c): a micro block is not parked mid-run (its spike lists and
 * networks live outside the lane matrix); the group progress job->group_next advances when a
 * group's sums are complete, so a resumed run skips the finished groups. A signal stops the run without
 * a checkpoint (MG_EINTR), and the recorded spikes of blocks finished before a checkpoint are
 * not in it. */
#include "ensemble.h"
#include "micro_derive.h"

#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Steps between progress/cancel/NaN checks of a block (as the meso backend). */
#define MG_CPU_CHECK_EVERY 512

static void fail(mg_job *job, int code, const char *msg)
{
#pragma omp critical(mg_job_fail)
    {
        if (!job->failed) {
            job->failed = 1;
            job->fail_code = code;
            snprintf(job->fail_msg, sizeof job->fail_msg, "%.500s", msg);
        }
    }
}

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
    mg_cpu_psd *psd;             /* spectra scratch (src/backend_cpu.c), NULL without spectra */
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
    if (job->SL.cfg.psd_n > 0 && !(w->psd = mg_cpu_psd_new(job)))
        return MG_ENOMEM;
    if (n_list > 0 && !d->shared) {
        w->store = calloc((size_t)n_list * MG_VL, sizeof *w->store);
        if (!w->store || mg_micro_scratch_alloc(d, &w->sc) != MG_OK)
            return MG_ENOMEM;
        w->have_sc = 1;
    }
    return MG_OK;
}

/* Append the spikes of step t of lane j to recorded realization k. 0, or -1 out of memory. */
static int record(mg_micro_derived *d, const mg_micro_buf *buf, mg_lanes st, int64_t t, int j,
                  int64_t k)
{
    const mg_micro_model *mm = &d->mm;
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

/* Run one block of MG_VL realizations starting at r0 (lanes with r >= hi are padding) and write
 * the record of valid lane j to si + j n_i, sd + j n_d (the group's staging area). */
static void run_block(mg_job *job, worker *w, int64_t r0, int64_t hi, int64_t *si, double *sd)
{
    mg_micro_derived *d = job->mi;
    const mg_micro_model *mm = &d->mm;
    const mg_obs_cfg *oc = &job->oc;
    const mg_stats_layout *L = &job->SL;
    const int P = mm->P;
    const int valid = (int)(hi - r0 < MG_VL ? hi - r0 : MG_VL);
    mg_lanes st = {w->state, MG_VL};
    mg_err err = {{0}};

    /* the network of every lane */
    for (int c = 0; c < mm->n_list; ++c) {
        for (int j = 0; j < MG_VL; ++j) {
            mg_micro_csr *cs = &w->csr[c * MG_VL + j];
            if (d->shared) {
                cs->off = d->shared_csr[c].off;
                cs->tgt = d->shared_csr[c].tgt;
            } else if (j < valid) {
                mg_micro_csr_store *so = &w->store[c * MG_VL + j];
                if (mg_micro_build_csr(d, c, (uint32_t)(r0 + j), 0, so, &w->sc, &err) != MG_OK) {
                    fail(job, MG_ENOMEM, err.msg);
                    return;
                }
                cs->off = so->off;
                cs->tgt = so->tgt;
            } else {
                cs->off = w->empty_off;
                cs->tgt = NULL;
            }
        }
    }
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
    for (int64_t t = 0; t < job->n_steps; ++t) {
        mg_micro_step(mm, st, &buf, t, (uint32_t)r0, valid, w->n);
        if (mg_obs_step(oc, st, t, w->n, NULL, job->trace_AN, NULL, trace_row))
            mg_cpu_psd_segment(job, st, w->psd);
        if (any_rec) {
            for (int j = 0; j < valid; ++j) {
                if (rec_k[j] >= 0 && record(d, &buf, st, t, j, rec_k[j]) != 0) {
                    fail(job, MG_ENOMEM, "out of memory for the recorded spikes (record fewer "
                         "realizations: --record-realizations)");
                    return;
                }
            }
        }
        if ((t + 1) % MG_CPU_CHECK_EVERY == 0 || t + 1 == job->n_steps) {
            /* a NaN potential never fires again (its hazard compares false): look for it */
            for (int a = 0; a < P; ++a) {
                const mg_micro_pop *pp = &mm->pop[a];
                for (int64_t i = 0; i < pp->N; ++i) {
                    for (int j = 0; j < valid; ++j) {
                        if (isnan(MG_AT(st, pp->row_u + i, j))) {
                            char msg[320];
                            snprintf(msg, sizeof msg,
                                     "NaN in the membrane potential of realization %lld, "
                                     "population %d (%s), neuron %lld, step %lld: check Delta_V "
                                     "and the input", (long long)(r0 + j), a,
                                     job->model->pops[a].name, (long long)i, (long long)t);
                            fail(job, MG_ENUM, msg);
                            return;
                        }
                    }
                }
            }
        }
        if ((t + 1) % MG_CPU_CHECK_EVERY == 0) {
#pragma omp atomic
            job->steps_done += (int64_t)MG_CPU_CHECK_EVERY * valid;
            if (job->failed || (job->opts.cancel && *job->opts.cancel)) {
                if (!job->failed)
                    fail(job, MG_EINTR, "interrupted");
                return;
            }
            mg_job_progress(job, 0);
        }
    }
#pragma omp atomic
    job->steps_done += (job->n_steps % MG_CPU_CHECK_EVERY) * valid;
#pragma omp atomic
    job->real_done += valid;
    for (int j = 0; j < valid; ++j)
        mg_obs_record(oc, st, j, si + (int64_t)j * L->n_i, sd + (int64_t)j * L->n_d);
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

/* The recorded spikes as job->spikes: per population, sorted by (time, node id). */
static int merge_spikes(mg_job *job, mg_err *err)
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

/* Records of one reduction group while its blocks run (possibly on several threads): one
 * record per realization of [start, hi), summed in realization order by whichever thread
 * finishes the group's last block. */
typedef struct {
    int64_t *ri;                 /* [hi - start][n_i] */
    double *rd;                  /* [hi - start][n_d] */
    int64_t done;                /* realizations recorded so far */
} stage;

int mg_cpu_run_micro(mg_job *job, mg_err *err)
{
    mg_micro_derived *d = job->mi;
    const mg_stats_layout *L = &job->SL;
    const int nthreads = job->opts.threads > 0 ? job->opts.threads : omp_get_max_threads();
    const int n_list = d->mm.n_list;
    d->rec_k = job->trace_k;
    if (d->rec_k > 0) {
        d->rec = calloc((size_t)(d->rec_k * d->mm.P), sizeof *d->rec);
        if (!d->rec)
            return mg_err_set(err, MG_ENOMEM, "out of memory for the recorded spikes");
    }
    /* Work items are blocks of MG_VL realizations, not whole groups as for the meso: a micro
     * realization is expensive and runs are often a few dozen realizations, which one group
     * would hold. Blocks are numbered group by group from each group's first unfinished
     * realization (job->group_next: a resumed run skips finished groups). --batch does not
     * apply. */
    int64_t n_blocks = 0;
    for (int64_t g = 0; g < job->n_groups; ++g) {
        int64_t lo, hi;
        mg_job_group_range(job, job->g_first + g, &lo, &hi);
        n_blocks += (hi - job->group_next[g] + MG_VL - 1) / MG_VL;
    }
    int64_t *blk_g = malloc((size_t)(n_blocks > 0 ? n_blocks : 1) * sizeof *blk_g);
    int64_t *blk_r0 = malloc((size_t)(n_blocks > 0 ? n_blocks : 1) * sizeof *blk_r0);
    stage *stg = calloc((size_t)job->n_groups, sizeof *stg);
    if (!blk_g || !blk_r0 || !stg) {
        free(blk_g);
        free(blk_r0);
        free(stg);
        return mg_err_set(err, MG_ENOMEM, "out of memory for the work list");
    }
    for (int64_t g = 0, b = 0; g < job->n_groups; ++g) {
        int64_t lo, hi;
        mg_job_group_range(job, job->g_first + g, &lo, &hi);
        for (int64_t r0 = job->group_next[g]; r0 < hi; r0 += MG_VL, ++b) {
            blk_g[b] = g;
            blk_r0[b] = r0;
        }
    }
#pragma omp parallel num_threads(nthreads)
    {
        worker w;
        if (worker_alloc(job, &w) != MG_OK)
            fail(job, MG_ENOMEM, "out of memory for the state of a block of realizations");
#pragma omp for schedule(dynamic, 1)
        for (int64_t b = 0; b < n_blocks; ++b) {
            if (job->failed)
                continue;
            const int64_t g = blk_g[b], r0 = blk_r0[b];
            int64_t lo, hi;
            mg_job_group_range(job, job->g_first + g, &lo, &hi);
            const int64_t start = job->group_next[g], n_real = hi - start;
            stage *sg = &stg[g];
            int ok = 1;
#pragma omp critical(mg_micro_stage)
            {
                if (!sg->ri) {
                    sg->ri = malloc((size_t)(n_real * L->n_i) * sizeof *sg->ri);
                    sg->rd = malloc((size_t)(n_real * L->n_d) * sizeof *sg->rd);
                }
                ok = sg->ri && sg->rd;
            }
            if (!ok) {
                fail(job, MG_ENOMEM, "out of memory for the records of a group");
                continue;
            }
            run_block(job, &w, r0, hi, sg->ri + (r0 - start) * L->n_i,
                      sg->rd + (r0 - start) * L->n_d);
            if (job->failed)
                continue;
            const int64_t valid = hi - r0 < MG_VL ? hi - r0 : MG_VL;
            int last;
#pragma omp critical(mg_micro_stage)
            {
                sg->done += valid;
                last = sg->done == n_real;
            }
            if (last) {
                /* the fixed reduction order of src/ensemble.h: realizations in order */
                int64_t *gi = job->group_i + g * L->n_i;
                double *gd = job->group_d + g * L->n_d;
                for (int64_t r = 0; r < n_real; ++r) {
                    for (int64_t k = 0; k < L->n_i; ++k)
                        gi[k] += sg->ri[r * L->n_i + k];
                    for (int64_t k = 0; k < L->n_d; ++k)
                        gd[k] += sg->rd[r * L->n_d + k];
                }
                job->group_next[g] = hi;
                free(sg->ri);
                free(sg->rd);
                sg->ri = NULL;
                sg->rd = NULL;
            }
        }
        worker_free(&w, n_list);
    }
    for (int64_t g = 0; g < job->n_groups; ++g) {
        free(stg[g].ri);
        free(stg[g].rd);
    }
    free(stg);
    free(blk_g);
    free(blk_r0);
    if (job->failed)
        return mg_err_set(err, job->fail_code, "%s", job->fail_msg);
    return merge_spikes(job, err);
}
