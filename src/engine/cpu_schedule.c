/* src/engine/cpu_schedule.c: the OpenMP work loop shared by the CPU backends (meso and micro).
 *
 * Work items are blocks of MG_VL realizations, handed out in order (group by group, each group
 * from its first unfinished realization, mg_job_group_next) from one shared cursor, so that every
 * thread has work even for a few dozen realizations. A finished block's records wait until the
 * blocks before it in its group are done; then the finished prefix is added to the group's sums
 * in realization order (the fixed reduction tree of src/engine/job.h), the group's progress moves
 * past it (so a checkpoint holds exactly that prefix), and complete groups at the head go into
 * the running sum (src/engine/ensemble_groups.c). Blocks finished after a parked one are simply run
 * again after a resume (they depend only on the seed). The result does not depend on the
 * number of threads or on the order in which blocks finish. Memory does not grow with the
 * number of realizations: no block starts more than mg_job_group_window groups past the first
 * unfinished one (a thread that would waits), so at most that many groups are open, and the
 * records waiting for an earlier block are those of the few groups with a block running. */
#include "engine/job.h"

#include <omp.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* A finished block waiting for an earlier block of its group. */
typedef struct pending {
    int64_t g, r0, valid;
    int64_t *ri;                 /* [valid][n_i] */
    double *rd;                  /* [valid][n_d] */
    struct pending *next;
} pending;

/* The shared state of one call, under the lock mg_cpu_reduce. */
typedef struct {
    int64_t g, r0;               /* the next block to hand out (g = n_groups: none left) */
    pending *wait;               /* finished blocks waiting for an earlier one (any order) */
} cursor;

/* Move the cursor to the first unfinished realization at or after (g, r0). */
static void cursor_settle(const mg_job *job, cursor *c)
{
    while (c->g < job->n_groups) {
        int64_t lo, hi;
        mg_job_group_range(job, job->g_first + c->g, &lo, &hi);
        if (c->r0 < hi)
            return;
        ++c->g;
        if (c->g < job->n_groups)
            c->r0 = mg_job_group_next(job, c->g);
    }
}

/* Add the block's records to its group if it is next there, then every waiting block that
 * follows it. Caller holds the lock. 0, or -1 when out of memory (job failed). */
static int reduce(mg_job *job, cursor *c, int64_t g, int64_t r0, int64_t valid, int64_t *ri,
                  double *rd)
{
    const mg_stats_layout *L = &job->SL;
    mg_gslot *s = mg_job_group_open(job, g);
    if (!s) {
        free(ri);
        free(rd);
        mg_job_fail(job, MG_ENOMEM, "out of memory for the sums of a reduction group");
        return -1;
    }
    if (s->next != r0) { /* an earlier block of the group is still running: wait */
        pending *p = malloc(sizeof *p);
        if (!p) {
            free(ri);
            free(rd);
            mg_job_fail(job, MG_ENOMEM, "out of memory for the records of a block");
            return -1;
        }
        *p = (pending){g, r0, valid, ri, rd, c->wait};
        c->wait = p;
        return 0;
    }
    for (;;) {
        for (int64_t r = 0; r < valid; ++r) {
            for (int64_t k = 0; k < L->n_i; ++k)
                s->i[k] += ri[r * L->n_i + k];
            for (int64_t k = 0; k < L->n_d; ++k)
                s->d[k] += rd[r * L->n_d + k];
        }
        free(ri);
        free(rd);
        int64_t next = r0 + valid;
        /* the waiting block that starts where this one ended, if any */
        pending **pp = &c->wait;
        while (*pp && !((*pp)->g == g && (*pp)->r0 == next))
            pp = &(*pp)->next;
        if (!*pp) {
            mg_job_group_advance(job, s, next); /* may add s to the running sum and close it */
            return 0;
        }
        pending *p = *pp;
        *pp = p->next;
        s->next = next;
        r0 = p->r0;
        valid = p->valid;
        ri = p->ri;
        rd = p->rd;
        free(p);
    }
}

/* A block handed out: its group g (-1: none), its first realization r0 and the end hi of its
 * group's range. */
typedef struct {
    int64_t g, r0, hi;
} block;

/* Hand out the next block (under the lock): 1 when it would start more than window groups past
 * the first unfinished one (the caller waits), else 0 with b->g = -1 when none is left. */
static int take_block(const mg_job *job, cursor *c, int64_t window, block *b)
{
    int wait = 0;
    b->g = -1;
    b->r0 = 0;
    b->hi = 0;
#pragma omp critical(mg_cpu_reduce)
    {
        if (c->g < job->n_groups && c->g - job->g_done >= window) {
            wait = 1;
        } else if (c->g < job->n_groups) {
            int64_t lo;
            b->g = c->g;
            b->r0 = c->r0;
            mg_job_group_range(job, job->g_first + b->g, &lo, &b->hi);
            c->r0 += MG_VL;
            cursor_settle(job, c);
        }
    }
    return wait;
}

/* Run block b on the worker w and add its records (under the lock). 0 when the thread goes
 * on (a parked or failed block too: not done), -1 when out of memory (the job failed). */
static int run_and_reduce(mg_job *job, const mg_cpu_block_ops *ops, void *w, cursor *c,
                          const block *b)
{
    const mg_stats_layout *L = &job->SL;
    const int64_t valid = b->hi - b->r0 < MG_VL ? b->hi - b->r0 : MG_VL;
    int64_t *ri = malloc((size_t)(valid * L->n_i > 0 ? valid * L->n_i : 1) * sizeof *ri);
    double *rd = malloc((size_t)(valid * L->n_d > 0 ? valid * L->n_d : 1) * sizeof *rd);
    if (!ri || !rd) {
        free(ri);
        free(rd);
        mg_job_fail(job, MG_ENOMEM, "out of memory for the records of a block");
        return -1;
    }
    if (ops->run_block(job, w, b->r0, b->hi, ri, rd) != 0) {
        free(ri); /* parked or failed: not done */
        free(rd);
        return 0;
    }
#pragma omp critical(mg_cpu_reduce)
    reduce(job, c, b->g, b->r0, valid, ri, rd);
    return 0;
}

int mg_cpu_run_blocks(mg_job *job, const mg_cpu_block_ops *ops, mg_err *err)
{
    const int nthreads = job->opts.threads > 0 ? job->opts.threads : omp_get_max_threads();
    const int64_t window = mg_job_group_window(job);
    cursor c = {job->g_done, 0, NULL};
    if (c.g < job->n_groups)
        c.r0 = mg_job_group_next(job, c.g);
    cursor_settle(job, &c);
#pragma omp parallel num_threads(nthreads)
    {
        void *w = ops->worker_alloc(job);
        if (!w)
            mg_job_fail(job, MG_ENOMEM, "out of memory for the state of a block of realizations");
        for (;;) {
            /* at a checkpoint no block is begun or resumed: parked ones stay parked */
            if (!w || job->fail.failed || mg_job_should_park(job))
                break;
            block b;
            if (take_block(job, &c, window, &b)) {
                /* the head group is still running: let it finish */
                struct timespec ts = {0, 200000};
                nanosleep(&ts, NULL);
                continue;
            }
            if (b.g < 0 || run_and_reduce(job, ops, w, &c, &b) != 0)
                break;
        }
        if (w)
            ops->worker_free(job, w);
    }
    while (c.wait) { /* finished after a parked block of their group: run again later */
        pending *p = c.wait;
        c.wait = p->next;
        free(p->ri);
        free(p->rd);
        free(p);
    }
    if (job->fail.failed)
        return mg_err_set(err, job->fail.code, "%s", job->fail.msg);
    return MG_OK;
}
