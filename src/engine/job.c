/* src/engine/job.c: the plumbing of a job that the driver, the backends and the checkpoint
 * writer share (src/engine/job.h): realization groups, failure, parking realizations at a
 * checkpoint, progress reports, wall time and the CPU's name. Below the driver (src/engine/run.c),
 * so that backends never call back up into it. */
#include "engine/job.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

double mg_wall_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void mg_job_group_range(const mg_job *job, int64_t gi, int64_t *lo, int64_t *hi)
{
    int64_t first = job->opts.realization_first;
    int64_t end = first + job->opts.realization_count;
    int64_t a = gi * MG_RGROUP, b = a + MG_RGROUP;
    *lo = a > first ? a : first;
    *hi = b < end ? b : end;
}

void mg_fail_note_set(mg_fail_note *f, int code, const char *msg)
{
#pragma omp critical(mg_fail_note)
    {
        if (!f->failed) {
            f->failed = 1;
            f->code = code;
            snprintf(f->msg, sizeof f->msg, "%.500s", msg);
        }
    }
}

void mg_job_fail(mg_job *job, int code, const char *msg)
{
    mg_fail_note_set(&job->fail, code, msg);
}

int mg_job_should_park(const mg_job *job)
{
    if (!job->opts.checkpoint_path)
        return 0;
    return job->ckpt_request || (job->opts.cancel && *job->opts.cancel);
}

int mg_job_park(mg_job *job, int64_t r, int64_t t, const double *state, int64_t stride)
{
    double *copy = malloc((size_t)job->rows * sizeof(double));
    if (!copy)
        return MG_ENOMEM;
    for (int k = 0; k < job->rows; ++k)
        copy[k] = state[(int64_t)k * stride];
    int rc = MG_OK;
#pragma omp critical(mg_job_inflight)
    {
        if (job->n_inflight == job->cap_inflight) {
            int cap = job->cap_inflight ? 2 * job->cap_inflight : 64;
            mg_inflight *a = realloc(job->inflight, (size_t)cap * sizeof *a);
            if (a) {
                job->inflight = a;
                job->cap_inflight = cap;
            }
        }
        if (job->n_inflight < job->cap_inflight) {
            mg_inflight *e = &job->inflight[job->n_inflight++];
            e->r = r;
            e->t = t;
            e->state = copy;
        } else {
            rc = MG_ENOMEM;
        }
    }
    if (rc != MG_OK)
        free(copy);
    return rc;
}

int mg_job_unpark(mg_job *job, int64_t r, int64_t *t, double *dst, int64_t stride)
{
    int found = 0;
#pragma omp critical(mg_job_inflight)
    {
        for (int i = 0; i < job->n_inflight; ++i) {
            if (job->inflight[i].r != r)
                continue;
            for (int k = 0; k < job->rows; ++k)
                dst[(int64_t)k * stride] = job->inflight[i].state[k];
            *t = job->inflight[i].t;
            free(job->inflight[i].state);
            job->inflight[i] = job->inflight[--job->n_inflight];
            found = 1;
            break;
        }
    }
    return found;
}

int mg_job_block_check(mg_job *job, int64_t t1, int64_t *counted, int64_t r0, int valid,
                       const double *state, void (*pack)(void *ctx, int j), void *ctx)
{
#pragma omp atomic
    job->steps_done += (t1 - *counted) * valid;
    *counted = t1;
    if (job->fail.failed)
        return -1;
    if (mg_job_should_park(job)) {
        for (int j = 0; j < valid; ++j) {
            pack(ctx, j);
            if (mg_job_park(job, r0 + j, t1, state + j, MG_VL) != MG_OK) {
                mg_job_fail(job, MG_ENOMEM, "out of memory for a checkpoint");
                return -1;
            }
        }
        return 1;
    }
    if (job->opts.cancel && *job->opts.cancel) {
        mg_job_fail(job, MG_EINTR, "interrupted");
        return -1;
    }
    mg_job_progress(job, 0);
    return 0;
}

void mg_job_block_done(mg_job *job, int64_t counted, int valid)
{
#pragma omp atomic
    job->steps_done += (job->n_steps - counted) * valid;
#pragma omp atomic
    job->real_done += valid;
}

void mg_job_progress(mg_job *job, int final)
{
    double now = mg_wall_s();
    /* the checkpoint timer rides on the progress calls that workers make anyway */
    if (job->opts.checkpoint_path && job->opts.checkpoint_every_s > 0 &&
        now - job->ckpt_last >= job->opts.checkpoint_every_s)
        job->ckpt_request = 1;
    if (!job->opts.progress)
        return;
    if (!final && now - job->t_last_report < 1.0)
        return;
#pragma omp critical(mg_job_progress)
    {
        if (final || now - job->t_last_report >= 1.0) {
            job->t_last_report = now;
            mg_progress p;
            int64_t steps, done;
#pragma omp atomic read
            steps = job->steps_done;
#pragma omp atomic read
            done = job->real_done;
            p.realizations_done = done;
            p.realizations_total = job->opts.realization_count;
            /* this process's share, so that the rate and the ETA stay right after a resume */
            p.sim_s_done = (double)(steps - job->steps_base) * job->opts.dt_ms * 1e-3;
            p.wall_s = now - job->t_start;
            job->opts.progress(&p, job->opts.progress_user);
        }
    }
}

void mg_run_opts_unhook(mg_run_opts *o)
{
    o->checkpoint_path = o->resume_path = o->output_path = NULL;
    o->progress = NULL;
    o->progress_user = NULL;
    o->cancel = NULL;
}

void mg_cpu_device_name(char *buf, size_t len, int threads)
{
    char model[96] = "unknown CPU";
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (f) {
        char line[256];
        while (fgets(line, sizeof line, f)) {
            if (strncmp(line, "model name", 10) == 0) {
                char *c = strchr(line, ':');
                if (c) {
                    snprintf(model, sizeof model, "%s", c + 2);
                    model[strcspn(model, "\n")] = 0;
                }
                break;
            }
        }
        fclose(f);
    }
    snprintf(buf, len, "%d OpenMP threads on %s", threads, model);
}
