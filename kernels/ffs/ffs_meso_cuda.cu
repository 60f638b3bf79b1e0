/* kernels/ffs/ffs_meso_cuda.cu: the FFS engine of the meso level on CUDA (src/ffs/ffs_internal.h,
 * docs/SWITCHING.md "Design"), twin of src/ffs/ffs_meso_cpu.c.
 *
 * Trials: one per thread (a slot of src/ffs/ffs_slots.h). The thread runs the slot loop of
 * src/ffs/ffs_meso_slot.h: it takes the next trial of the call's list from an atomic counter,
 * copies its start state into its rows, steps it with mg_meso_step1 of src/core/meso.h (the
 * CPU engine's per-realization update, compiled for the device) from the trial's own start step
 * with the trial's realization index, observes it with the CPU engine's functions
 * (src/ffs/ffs_internal.h), and when its trial ends takes the next one, so a thread is never
 * idle while trials remain. A trial's result depends only on its start state, start step and
 * index: the same bits as the CPU engine, on any number of slots and in any order. The state of
 * the slots is [row][slot] (a warp's loads are coalesced). Launches of at most FFS_CUDA_CHUNK
 * steps per slot let the host serve cancel requests and NaN reports (src/ffs/ffs_slots.c).
 * tests/test_ffs_cuda.c runs this file on the host too (tests/cuda_emu/, every `make test`).
 *
 * Basin runs, init, the derived model: the CPU engine's (mg_ffs_engine_meso_cpu); the basin
 * phase is a few percent of the cost (docs/SWITCHING.md). The device holds a copy of the model
 * (J->dev) from setup to release.
 *
 * Unverified on a device until tests/test_ffs_cuda.c has run on one (tools/gpu_check.sh). */
#include <cuda_runtime.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ffs/ffs_internal.h"
#include "ffs/ffs_meso_slot.h" /* mg_ffs_meso_slot_run */
#include "engine/meso_derive.h"
#include "../cuda_check.cuh"  /* MG_CUDA_TRY */
#include "../cuda_models.cuh" /* mg_cu_meso_upload */
#include "ffs_cuda.cuh"       /* mg_ffs_cu_mem, mg_ffs_cu_launched */

/* Steps per slot and launch: a launch stays well under a second. */
#define FFS_CUDA_CHUNK 2000
#define FFS_CUDA_THREADS 128

/* What the device holds from setup to release. */
typedef struct {
    mg_meso_model dm;            /* the model, device pointers */
    mg_cu_model_bufs bufs;
} dev_ctx;

/* Everything a launch needs; device pointers. */
typedef struct {
    mg_meso_model mm;
    mg_ffs_lane_cfg lc;
    mg_ffs_slot_list L;          /* the trials, their slots and counters */
} trial_args;

/* Slot s: the loop of src/ffs/ffs_meso_slot.h. */
__global__ void __launch_bounds__(FFS_CUDA_THREADS)
mg_ffs_meso_trials_kernel(trial_args A, long long steps)
{
    const long long s = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (s < A.L.slots)
        mg_ffs_meso_slot_run(&A.mm, &A.lc, &A.L, s, steps);
}

static int launch(void *ctx, long long slots, long long steps, mg_err *err)
{
    const unsigned blocks = (unsigned)((slots + FFS_CUDA_THREADS - 1) / FFS_CUDA_THREADS);
    MG_LAUNCH(mg_ffs_meso_trials_kernel, blocks, FFS_CUDA_THREADS)(*(const trial_args *)ctx,
                                                                  steps);
    return mg_ffs_cu_launched(err);
}

static int engine_trials(mg_ffs_job *J, mg_ffs_trial *tr, int n, int d, double lam_A,
                         double lam_next, mg_err *err)
{
    const dev_ctx *D = (const dev_ctx *)J->dev;
    trial_args A;
    memset(&A, 0, sizeof A);
    A.mm = D->dm;
    A.lc = J->lc;
    /* a slot (thread) per trial: the slots' rows are the call's only per-slot memory */
    const mg_ffs_slot_run R = {&mg_ffs_cu_mem, launch, &A, &A.L, FFS_CUDA_CHUNK, 1LL << 20,
                               mg_ffs_meso_fault_msg};
    return mg_ffs_slot_trials(J, &R, tr, n, d, lam_A, lam_next, err);
}

static int engine_setup(mg_ffs_job *J, mg_err *err)
{
    int rc = mg_ffs_engine_meso_cpu.setup(J, err);
    if (rc != MG_OK)
        return rc;
    dev_ctx *D = (dev_ctx *)calloc(1, sizeof *D);
    if (!D) {
        rc = mg_err_set(err, MG_ENOMEM, "out of memory");
        goto out;
    }
    J->dev = D;
    MG_CUDA_TRY(mg_cu_meso_upload((const mg_meso_derived *)J->lev, &D->dm, &D->bufs));
out:
    return rc; /* on failure the driver calls release */
}

static void engine_release(mg_ffs_job *J)
{
    dev_ctx *D = (dev_ctx *)J->dev;
    if (D)
        mg_cu_model_free(&D->bufs);
    free(D);
    J->dev = NULL;
    mg_ffs_engine_meso_cpu.release(J);
}

/* init and basin: the CPU engine's (a constant of a C file, so it is initialized before this
 * table, which C++ initializes at load time) */
extern "C" const mg_ffs_engine mg_ffs_engine_meso_cuda = {
    "cuda", MG_LEVEL_MESO, engine_setup, engine_release, mg_ffs_engine_meso_cpu.init,
    mg_ffs_engine_meso_cpu.basin, engine_trials};
