/* kernels/ffs/ffs_meso_cuda.cu: the FFS engine of the meso level on CUDA (src/ffs/ffs_internal.h,
 * docs/SWITCHING.md "Design"), twin of src/ffs/ffs_meso_cpu.c.
 *
 * Trials: one per thread. A thread (a slot) takes the next trial of the call's list from an
 * atomic counter, copies its start state into its rows, and steps it with mg_meso_step1 of
 * src/core/meso.h (the CPU engine's per-realization update, compiled for the device: the tile
 * path, which the host's pass form equals bit for bit) from the trial's own start step, with
 * the trial's realization index; the observer and the end of a bin are the MG_HD functions of
 * src/ffs/ffs_internal.h (mg_ffs_obs_add, mg_ffs_trial_bin), the CPU engine's. When its trial
 * ends the slot copies a success's state to the device end buffer and takes the next one, so a
 * thread is never idle while trials remain. A trial's result depends only on its start state,
 * start step and index: the same bits as the CPU engine, on any number of slots and in any
 * order. The state of the slots is [row][slot] (ld = slots: a warp's loads are coalesced).
 * Launches of at most FFS_CUDA_CHUNK steps per slot (each slot keeps its trial and step
 * between launches) let the host serve cancel requests and NaN reports.
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
#include "engine/meso_derive.h"
#include "../cuda_check.cuh"  /* MG_CUDA_TRY */
#include "../cuda_common.cuh" /* mg_cu_lane_view */
#include "../cuda_models.cuh" /* mg_cu_meso_upload */
#include "ffs_cuda.cuh"       /* mg_ffs_cu_* */

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
    mg_ffs_cu_list L;            /* the trials, their slots and counters */
} trial_args;

/* Slot view st takes the next trial of the list: its start state, its outputs reset, its
 * start step to *t. Returns its index, or MG_FFS_CU_DRAINED. */
static __device__ long long take_trial(mg_ffs_cu_list *L, mg_lanes st, long long *t)
{
    const long long q = (long long)atomicAdd(L->next, 1ULL);
    if (q >= L->n)
        return MG_FFS_CU_DRAINED;
    const double *x = L->start + q * L->rows;
    for (long long r = 0; r < L->rows; ++r)
        MG_AT(st, r, 0) = x[r];
    mg_ffs_trial_begin(&L->tr[q]);
    *t = L->tr[q].t0;
    return q;
}

/* Trial q of slot view st has ended: its state to the end buffer when `keep`. MG_FFS_CU_IDLE. */
static __device__ long long end_trial(mg_ffs_cu_list *L, mg_lanes st, long long q, int keep)
{
    if (keep) {
        double *x = L->end + q * L->rows;
        for (long long r = 0; r < L->rows; ++r)
            x[r] = MG_AT(st, r, 0);
    }
    atomicAdd(L->done, 1ULL);
    return MG_FFS_CU_IDLE;
}

/* Slot s: its trial and step from the last launch, then at most `steps` steps, taking trials
 * from the list as its trials end. The loop is trial_run of src/ffs/ffs_meso_cpu.c. */
__global__ void __launch_bounds__(FFS_CUDA_THREADS)
mg_ffs_meso_trials_kernel(trial_args A, long long steps)
{
    const long long s = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    mg_ffs_cu_list *L = &A.L;
    if (s >= L->slots)
        return;
    mg_lanes st = mg_cu_lane_view(L->state, s, 1, L->slots);
    long long q = L->slot_q[s], t = L->slot_t[s];
    double n[MG_POP_MAX], nbar[MG_POP_MAX];
    for (long long k = 0; k < steps && q != MG_FFS_CU_DRAINED;) {
        if (q == MG_FFS_CU_IDLE) {
            q = take_trial(L, st, &t);
            continue;
        }
        mg_ffs_trial *tr = &L->tr[q];
        if (t - tr->t0 >= L->cap) {
            tr->end_t = t; /* outcome -1 */
            q = end_trial(L, st, q, 0);
            continue;
        }
        mg_meso_step1(&A.mm, st, t, tr->real, n, nbar, NULL);
        int bad = 0;
        for (int a = 0; a < A.mm.P; ++a)
            if (!isfinite(nbar[a])) { /* the CPU engine's check_finite */
                mg_ffs_cu_fault_note(L, tr->real, a, -1, t, isnan(nbar[a]) ? 1 : 0);
                bad = 1;
            }
        mg_ffs_obs_add(&A.lc, st, n);
        ++t;
        ++k;
        if (bad) /* the call fails (the host stops after this launch) */
            q = end_trial(L, st, q, 0);
        else if (t % A.lc.st_L == 0 &&
                 mg_ffs_trial_bin(&A.lc, tr, st, t / A.lc.st_L - 1, t, L->d, L->lam_A,
                                  L->lam_next))
            q = end_trial(L, st, q, tr->outcome == 1 && tr->end_state != NULL);
    }
    L->slot_q[s] = q;
    L->slot_t[s] = t;
}

static void launch(void *ctx, long long slots, long long steps)
{
    const unsigned blocks = (unsigned)((slots + FFS_CUDA_THREADS - 1) / FFS_CUDA_THREADS);
    mg_ffs_meso_trials_kernel<<<blocks, FFS_CUDA_THREADS>>>(*(const trial_args *)ctx, steps);
}

/* The CPU engine's message (src/ffs/ffs_meso_cpu.c, check_finite). */
static int fault_msg(const mg_ffs_job *J, const mg_ffs_cu_fault *f, mg_err *err)
{
    return mg_err_set(err, MG_ENUM, "%s in the expected spike count of population %d (%s), "
                      "realization %u, step %lld: likely cause: Delta_V too small for the input, "
                      "or extreme parameters", f->is_nan ? "NaN" : "Inf", f->pop,
                      J->model->pops[f->pop].name, (unsigned)f->real, f->step);
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
    const mg_ffs_cu_run R = {launch, &A, &A.L, FFS_CUDA_CHUNK, 1LL << 20, fault_msg};
    return mg_ffs_cu_trials(J, &R, tr, n, d, lam_A, lam_next, err);
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
