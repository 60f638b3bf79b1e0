/* src/engine/ensemble_groups.c: the fixed reduction tree of src/engine/job.h in memory independent of the
 * number of realizations (issue 17.4).
 *
 * The result is ((g0 + g1) + g2) + ... over the group sums in group order, as it always was.
 * Instead of keeping every group's sums until the end, the running sum holds the groups before
 * job->g_done (all complete), and only the groups in flight are kept: a group is opened when
 * its first record arrives (or a checkpoint restores it), collects its records in realization
 * order, and is added to the running sum as soon as it and every group before it are complete.
 * The open groups live in a ring indexed by group number (capacity a power of two at least
 * their span), so lookups are O(1) and memory is O(groups in flight). Callers serialize access
 * (the CPU scheduler holds its reduction lock; the CUDA host loop is single-threaded). */
#include "engine/job.h"

#include <omp.h>
#include <stdlib.h>
#include <string.h>

/* The slot of relative group g, or NULL if g is not open. */
static mg_gslot *slot_of(const mg_job *job, int64_t g)
{
    if (job->slot_cap == 0)
        return NULL;
    mg_gslot *s = &job->slots[g & (job->slot_cap - 1)];
    return s->g == g ? s : NULL;
}

int64_t mg_job_group_next(const mg_job *job, int64_t g)
{
    int64_t lo, hi;
    mg_job_group_range(job, job->g_first + g, &lo, &hi);
    if (g < job->g_done)
        return hi;
    const mg_gslot *s = slot_of(job, g);
    return s ? s->next : lo;
}

const mg_gslot *mg_job_group_peek(const mg_job *job, int64_t g)
{
    return g < job->g_done ? NULL : slot_of(job, g);
}

/* Grow the ring so that groups [g_done, g] fit without collisions. */
static int ring_fit(mg_job *job, int64_t g)
{
    int64_t span = g - job->g_done + 1;
    if (span <= job->slot_cap)
        return MG_OK;
    int64_t cap = job->slot_cap ? job->slot_cap : 8;
    while (cap < span)
        cap *= 2;
    mg_gslot *a = malloc((size_t)cap * sizeof *a);
    if (!a)
        return MG_ENOMEM;
    for (int64_t k = 0; k < cap; ++k)
        a[k].g = -1;
    for (int64_t k = 0; k < job->slot_cap; ++k)
        if (job->slots[k].g >= 0)
            a[job->slots[k].g & (cap - 1)] = job->slots[k];
    free(job->slots);
    job->slots = a;
    job->slot_cap = cap;
    return MG_OK;
}

mg_gslot *mg_job_group_open(mg_job *job, int64_t g)
{
    if (g < job->g_done || g >= job->n_groups)
        return NULL;
    mg_gslot *s = slot_of(job, g);
    if (s)
        return s;
    if (ring_fit(job, g) != MG_OK)
        return NULL;
    s = &job->slots[g & (job->slot_cap - 1)];
    int64_t *gi = calloc((size_t)(job->SL.n_i > 0 ? job->SL.n_i : 1), sizeof *gi);
    double *gd = calloc((size_t)(job->SL.n_d > 0 ? job->SL.n_d : 1), sizeof *gd);
    if (!gi || !gd) {
        free(gi);
        free(gd);
        return NULL;
    }
    int64_t lo, hi;
    mg_job_group_range(job, job->g_first + g, &lo, &hi);
    s->g = g;
    s->next = lo;
    s->i = gi;
    s->d = gd;
    if (++job->n_open > job->open_peak)
        job->open_peak = job->n_open;
    return s;
}

/* running sum += group sums: the one place where groups meet (the order is the caller's) */
static void add_to_sum(mg_job *job, const int64_t *gi, const double *gd)
{
    for (int64_t k = 0; k < job->SL.n_i; ++k)
        job->sum_i[k] += gi[k];
    for (int64_t k = 0; k < job->SL.n_d; ++k)
        job->sum_d[k] += gd[k];
}

static void slot_close(mg_job *job, mg_gslot *s)
{
    free(s->i);
    free(s->d);
    s->i = NULL;
    s->d = NULL;
    s->g = -1;
    --job->n_open;
}

/* Add the complete groups at the head (g_done, g_done + 1, ...) to the running sum. */
static void fold_head(mg_job *job)
{
    for (;;) {
        mg_gslot *s = slot_of(job, job->g_done);
        if (!s)
            return;
        int64_t lo, hi;
        mg_job_group_range(job, job->g_first + s->g, &lo, &hi);
        if (s->next < hi)
            return;
        add_to_sum(job, s->i, s->d);
        slot_close(job, s);
        ++job->g_done;
    }
}

void mg_job_group_advance(mg_job *job, mg_gslot *s, int64_t next)
{
    s->next = next;
    fold_head(job);
}

void mg_job_group_complete(mg_job *job, int64_t g, const int64_t *gi, const double *gd)
{
    if (g < job->g_done)
        return; /* already in the running sum (a rerun gives the same bits) */
    mg_gslot *s = slot_of(job, g);
    if (g == job->g_done) {
        add_to_sum(job, gi, gd);
        if (s)
            slot_close(job, s);
        ++job->g_done;
        fold_head(job);
        return;
    }
    /* behind an unfinished group: keep it open, complete */
    if (!s)
        s = mg_job_group_open(job, g);
    if (!s) {
        mg_job_fail(job, MG_ENOMEM, "out of memory for the sums of a reduction group");
        return;
    }
    memcpy(s->i, gi, (size_t)job->SL.n_i * sizeof *gi);
    memcpy(s->d, gd, (size_t)job->SL.n_d * sizeof *gd);
    int64_t lo, hi;
    mg_job_group_range(job, job->g_first + g, &lo, &hi);
    s->next = hi;
}

int mg_job_groups_done(const mg_job *job)
{
    return job->g_done >= job->n_groups;
}

void mg_job_groups_flush(mg_job *job)
{
    for (int64_t g = job->g_done; g < job->n_groups && job->n_open > 0; ++g) {
        mg_gslot *s = slot_of(job, g);
        if (s) {
            add_to_sum(job, s->i, s->d);
            slot_close(job, s);
        }
    }
}

int mg_job_groups_alloc(mg_job *job)
{
    job->sum_i = calloc((size_t)(job->SL.n_i > 0 ? job->SL.n_i : 1), sizeof *job->sum_i);
    job->sum_d = calloc((size_t)(job->SL.n_d > 0 ? job->SL.n_d : 1), sizeof *job->sum_d);
    job->g_done = 0;
    return job->sum_i && job->sum_d ? MG_OK : MG_ENOMEM;
}

void mg_job_groups_free(mg_job *job)
{
    for (int64_t k = 0; k < job->slot_cap; ++k)
        if (job->slots[k].g >= 0) {
            free(job->slots[k].i);
            free(job->slots[k].d);
        }
    free(job->slots);
    free(job->sum_i);
    free(job->sum_d);
    job->slots = NULL;
    job->slot_cap = job->n_open = 0;
    job->sum_i = NULL;
    job->sum_d = NULL;
}

int64_t mg_job_group_window(const mg_job *job)
{
    int nthreads = job->opts.threads > 0 ? job->opts.threads : omp_get_max_threads();
    return 4 * (int64_t)nthreads + 4;
}
