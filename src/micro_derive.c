/* src/micro_derive.c: the microscopic GIF network (MODEL.md §1.3) derived for a run.
 * Placeholder until the micro engine lands: the level is refused with a clear message. */
#include "ensemble.h"

int mg_micro_setup(mg_job *job, mg_err *err)
{
    (void)job;
    return mg_err_set(err, MG_EINVAL, "--level: micro is not built yet (allowed: meso)");
}

int mg_micro_resolved(const mg_job *job, mg_resolved **list, int *n, mg_err *err)
{
    (void)job;
    (void)list;
    (void)n;
    (void)err;
    return MG_OK;
}

void mg_micro_free(mg_job *job)
{
    (void)job;
}

void mg_micro_memory(const mg_job *job, double *per_realization, double *shared)
{
    (void)job;
    *per_realization = 0.0;
    *shared = 0.0;
}

int mg_cpu_run_micro(mg_job *job, mg_err *err)
{
    (void)job;
    return mg_err_set(err, MG_EINVAL, "--level: micro is not built yet");
}
