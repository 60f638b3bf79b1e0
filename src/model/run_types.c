/* src/model/run_types.c: the value types of include/mesogif/run.h that every layer shares: the
 * default options, the names of levels, noises and kernels (for files and messages), and the
 * release of spike lists (mg_result_free, which also owns the theory, is in src/engine/run.c). Below io/ and engine/, so that the writer and the driver use them without
 * depending on each other (docs/ARCHITECTURE.md). */
#include "mesogif/run.h"

#include <stdlib.h>
#include <string.h>

/* Deliberate twin in shape: mg_ffs_opts_default (src/ffs/ffs_opts.c) for the options of switch. */
void mg_run_opts_default(mg_run_opts *o)
{
    memset(o, 0, sizeof *o);
    o->level = MG_LEVEL_MESO;
    o->noise = MG_NOISE_BINOMIAL;
    o->backend = MG_BACKEND_AUTO;
    o->dt_ms = 0.5;
    o->t_sim_ms = 10000.0;
    o->t_warmup_ms = 1000.0;
    o->record_bin_ms = 1.0;
    o->stats_bin_ms = 10.0;
    o->realization_first = 0;
    o->realization_count = 1;
    o->record_realizations = 1;
    o->seed = 1;
}

const char *mg_level_name(mg_level l)
{
    return l == MG_LEVEL_MICRO ? "micro" : "meso";
}

const char *mg_noise_name(mg_noise n)
{
    return n == MG_NOISE_POISSON ? "poisson" : n == MG_NOISE_DETERMINISTIC ? "deterministic"
                                                                             : "binomial";
}

const char *mg_cuda_kernel_name(mg_cuda_kernel k)
{
    return k == MG_CUDA_KERNEL_THREAD ? "thread" : k == MG_CUDA_KERNEL_WARP ? "warp"
                                                 : k == MG_CUDA_KERNEL_WARP64 ? "warp64" : "auto";
}

void mg_spikes_free(mg_spikes *s, int P)
{
    if (!s)
        return;
    for (int a = 0; a < P; ++a) {
        free(s[a].t_ms);
        free(s[a].node_id);
    }
    free(s);
}
