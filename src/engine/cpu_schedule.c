/* src/engine/cpu_schedule.c: the OpenMP work loop shared by the CPU backends (meso and micro).
 *
 * Work items are blocks of MG_VL realizations, listed group by group from each group's first
 * unfinished realization (job->group_next), handed out dynamically so that every thread has
 * work even for a few dozen realizations. A finished block's records wait until the blocks
 * before it in its group are done; then the finished prefix is added to the group sums in
 * realization order (the fixed reduction tree of src/engine/job.h) and group_next moves past it,
 * so a checkpoint holds exactly that prefix. Blocks finished after a parked one are simply run
 * again after a resume (they depend only on the seed). The result does not depend on the
 * number of threads or on the order in which blocks finish. */
#include "engine/job.h"

#include <omp.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    int64_t g, r0;
    int64_t *ri;                 /* [valid][n_i] its records once done, until summed */
    double *rd;                  /* [valid][n_d] */
    int done;
} block;

/* Add the finished blocks at the head of group g to its sums. Caller holds the lock. */
static void reduce_prefix(mg_job *job, block *blk, int64_t *next_blk, int64_t g, int64_t b_end)
{
    const mg_stats_layout *L = &job->SL;
    int64_t lo, hi;
    mg_job_group_range(job, job->g_first + g, &lo, &hi);
    int64_t *gi = job->group_i + g * L->n_i;
    double *gd = job->group_d + g * L->n_d;
    while (next_blk[g] < b_end && blk[next_blk[g]].done) {
        block *b = &blk[next_blk[g]];
        const int64_t valid = hi - b->r0 < MG_VL ? hi - b->r0 : MG_VL;
        for (int64_t r = 0; r < valid; ++r) {
            for (int64_t k = 0; k < L->n_i; ++k)
                gi[k] += b->ri[r * L->n_i + k];
            for (int64_t k = 0; k < L->n_d; ++k)
                gd[k] += b->rd[r * L->n_d + k];
        }
        free(b->ri);
        free(b->rd);
        b->ri = NULL;
        b->rd = NULL;
        job->group_next[g] = b->r0 + valid;
        ++next_blk[g];
    }
}

int mg_cpu_run_blocks(mg_job *job, const mg_cpu_block_ops *ops, mg_err *err)
{
    const mg_stats_layout *L = &job->SL;
    const int nthreads = job->opts.threads > 0 ? job->opts.threads : omp_get_max_threads();
    int64_t n_blocks = 0;
    for (int64_t g = 0; g < job->n_groups; ++g) {
        int64_t lo, hi;
        mg_job_group_range(job, job->g_first + g, &lo, &hi);
        n_blocks += (hi - job->group_next[g] + MG_VL - 1) / MG_VL;
    }
    block *blk = calloc((size_t)(n_blocks > 0 ? n_blocks : 1), sizeof *blk);
    int64_t *next_blk = malloc((size_t)job->n_groups * sizeof *next_blk);
    int64_t *end_blk = malloc((size_t)job->n_groups * sizeof *end_blk);
    if (!blk || !next_blk || !end_blk) {
        free(blk);
        free(next_blk);
        free(end_blk);
        return mg_err_set(err, MG_ENOMEM, "out of memory for the work list");
    }
    for (int64_t g = 0, b = 0; g < job->n_groups; ++g) {
        int64_t lo, hi;
        mg_job_group_range(job, job->g_first + g, &lo, &hi);
        next_blk[g] = b;
        for (int64_t r0 = job->group_next[g]; r0 < hi; r0 += MG_VL, ++b) {
            blk[b].g = g;
            blk[b].r0 = r0;
        }
        end_blk[g] = b;
    }
#pragma omp parallel num_threads(nthreads)
    {
        void *w = ops->worker_alloc(job);
        if (!w)
            mg_job_fail(job, MG_ENOMEM, "out of memory for the state of a block of realizations");
#pragma omp for schedule(dynamic, 1)
        for (int64_t b = 0; b < n_blocks; ++b) {
            /* at a checkpoint no block is begun or resumed: parked ones stay parked */
            if (job->failed || mg_job_should_park(job))
                continue;
            block *bk = &blk[b];
            int64_t lo, hi;
            mg_job_group_range(job, job->g_first + bk->g, &lo, &hi);
            const int64_t valid = hi - bk->r0 < MG_VL ? hi - bk->r0 : MG_VL;
            int64_t *ri = malloc((size_t)(valid * L->n_i) * sizeof *ri);
            double *rd = malloc((size_t)(valid * L->n_d) * sizeof *rd);
            if (!ri || !rd) {
                free(ri);
                free(rd);
                mg_job_fail(job, MG_ENOMEM, "out of memory for the records of a block");
                continue;
            }
            if (ops->run_block(job, w, bk->r0, hi, ri, rd) != 0) {
                free(ri); /* parked or failed: not done */
                free(rd);
                continue;
            }
#pragma omp critical(mg_cpu_reduce)
            {
                bk->ri = ri;
                bk->rd = rd;
                bk->done = 1;
                reduce_prefix(job, blk, next_blk, bk->g, end_blk[bk->g]);
            }
        }
        if (w)
            ops->worker_free(job, w);
    }
    for (int64_t b = 0; b < n_blocks; ++b) {
        free(blk[b].ri); /* finished after a parked block of their group: run again later */
        free(blk[b].rd);
    }
    free(blk);
    free(next_blk);
    free(end_blk);
    if (job->failed)
        return mg_err_set(err, job->fail_code, "%s", job->fail_msg);
    return MG_OK;
}
