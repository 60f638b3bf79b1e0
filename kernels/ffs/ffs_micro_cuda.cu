/* kernels/ffs/ffs_micro_cuda.cu: the FFS engine of the micro level on CUDA (src/ffs/ffs_internal.h,
 * docs/SWITCHING.md "Design"), twin of src/ffs/ffs_micro_cpu.c.
 *
 * Trials: one per CUDA block of FFS_MICRO_THREADS threads (a slot of src/ffs/ffs_slots.h). The
 * block runs the slot of src/ffs/ffs_micro_slot.h: it takes the next trial from an atomic
 * counter, loads its stored state into its rows in the CPU engine's time frame, steps it with
 * the decomposition of src/core/micro.h over its threads (kernels/cuda_micro_step.cuh, as
 * `run`'s micro kernel), observes it on thread 0, saves a success's state back to absolute time
 * into the device end buffer and takes the next trial. tests/test_ffs_cuda.c runs this file on
 * the host too (tests/cuda_emu/, every `make test`). Each trial reads the network
 * of its basin run (the state's last dynamics row): the networks of basin runs 0 .. R-1 are
 * drawn on the host at setup (mg_ffs_micro_networks, the CPU engine's draw) and stay on the
 * device. So a trial's result depends only on its start state, start step and index: the same
 * bits as the CPU engine's lane blocks, in any block and order (tests/test_ffs_cuda.c).
 *
 * Basin runs, init, the derived model: the CPU engine's (mg_ffs_engine_micro_cpu).
 * Unverified on a device until tests/test_ffs_cuda.c has run on one (tools/gpu_check.sh). */
#include <cuda_runtime.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ffs/ffs_internal.h"
#include "engine/job.h" /* mg_job */
#include "engine/micro_derive.h"
#include "../cuda_check.cuh"  /* MG_CUDA_TRY */
#include "../cuda_common.cuh" /* mg_cu_to_device */
#include "../cuda_micro_step.cuh" /* mg_cu_micro_step */
#include "../cuda_models.cuh"     /* mg_cu_micro_upload */
#include "ffs_cuda.cuh"       /* mg_ffs_cu_mem, mg_ffs_cu_launched; src/ffs/ffs_slots.h */

#define FFS_MICRO_THREADS 128  /* threads per trial (a multiple of MG_MICRO_WARP) */
#define FFS_MICRO_STEPS 1000   /* steps per block and launch */
#define FFS_MICRO_SLOTS 1024   /* blocks at most (the driver's calls hold at most 1024 trials) */

/* What the device holds from setup to release. */
typedef struct {
    mg_micro_model dm;           /* the network, device pointers */
    mg_cu_model_bufs bufs;
    mg_micro_csr *csr;           /* [R][n_list] the networks of the basin runs */
    int64_t *off;                /* their out-lists */
    uint32_t *tgt;
    uint32_t *spk;               /* [slots][spk_elems] the slots' spike lists */
    double *isi;                 /* [slots][sum N] intervals of a step's spikes */
    long long slots, spk_elems, sum_N, n_net;
} dev_ctx;

typedef cub::BlockScan<int, FFS_MICRO_THREADS> block_scan; /* its temporary storage */

/* The slot of src/ffs/ffs_micro_slot.h on a CUDA block: its barrier, and its step
 * (kernels/cuda_micro_step.cuh, as `run`'s micro kernel); ctx is the scan's shared storage. */
#define MG_FFS_SLOT_FN static __device__ inline
#define MG_FFS_BLOCK_SYNC(ctx) __syncthreads()
#define MG_FFS_MICRO_STEP(mm, st, buf, t, real, isi, cnt, n, tid, T, ctx)                     \
    mg_cu_micro_step<FFS_MICRO_THREADS>(mm, st, buf, t, real, isi,                            \
                                        *(block_scan::TempStorage *)(ctx), cnt, n)
#include "ffs/ffs_micro_slot.h"

/* Block s: slot s of the call (src/ffs/ffs_micro_slot.h). */
__global__ void __launch_bounds__(FFS_MICRO_THREADS)
mg_ffs_micro_trials_kernel(mg_ffs_micro_slot_args A, long long steps)
{
    __shared__ block_scan::TempStorage scan_tmp;
    __shared__ mg_ffs_micro_slot_sh sh;
    mg_ffs_micro_slot_run(&A, blockIdx.x, steps, threadIdx.x, FFS_MICRO_THREADS, &sh, &scan_tmp);
}

static int launch(void *ctx, long long slots, long long steps, mg_err *err)
{
    const mg_ffs_micro_slot_args *A = (const mg_ffs_micro_slot_args *)ctx;
    MG_LAUNCH(mg_ffs_micro_trials_kernel, (unsigned)slots, FFS_MICRO_THREADS)(*A, steps);
    return mg_ffs_cu_launched(err);
}

/* A launch's arguments but the list: the network and the slots' buffers of setup. */
static mg_ffs_micro_slot_args args_of(const mg_ffs_job *J)
{
    const dev_ctx *D = (const dev_ctx *)J->dev;
    mg_ffs_micro_slot_args A;
    memset(&A, 0, sizeof A);
    A.mm = D->dm;
    A.lc = J->lc;
    A.csr = D->csr;
    A.spk = D->spk;
    A.isi = D->isi;
    A.spk_elems = D->spk_elems;
    A.sum_N = D->sum_N;
    A.n_net = D->n_net;
    A.net_row = J->dyn_rows - 1;
    return A;
}

static int engine_trials(mg_ffs_job *J, mg_ffs_trial *tr, int n, int d, double lam_A,
                         double lam_next, mg_err *err)
{
    mg_ffs_micro_slot_args A = args_of(J);
    const mg_ffs_slot_run R = {&mg_ffs_cu_mem, launch, &A, &A.L, FFS_MICRO_STEPS,
                               ((const dev_ctx *)J->dev)->slots, mg_ffs_micro_fault_msg};
    return mg_ffs_slot_trials(J, &R, tr, n, d, lam_A, lam_next, err);
}

/* The networks of basin runs 0 .. n_net - 1 (the only networks a trial reads: a stored state
 * descends from one of them), drawn on the host as the CPU engine draws them, to the device. */
static int upload_networks(const mg_micro_derived *d, dev_ctx *D, mg_err *err)
{
    const int n_list = d->mm.n_list;
    const long long nc = D->n_net * n_list;
    long long n_off = 0, n_tgt = 0;
    mg_micro_csr *h_csr = NULL;
    mg_micro_csr_store *store = NULL;
    int rc = mg_ffs_micro_networks(d, D->n_net, &store, err);
    if (rc != MG_OK || nc == 0)
        goto out;
    h_csr = (mg_micro_csr *)malloc((size_t)nc * sizeof *h_csr);
    if (!h_csr) {
        rc = mg_err_set(err, MG_ENOMEM, "out of memory for the networks");
        goto out;
    }
    for (long long k = 0; k < nc; ++k) {
        const long long ns = d->conn[k % n_list].N_src;
        n_off += ns + 1;
        n_tgt += store[k].off[ns];
    }
    MG_CUDA_TRY(cudaMalloc((void **)&D->off, (size_t)n_off * sizeof(int64_t)));
    MG_CUDA_TRY(cudaMalloc((void **)&D->tgt, (size_t)(n_tgt > 0 ? n_tgt : 1) * sizeof(uint32_t)));
    n_off = n_tgt = 0;
    for (long long k = 0; k < nc; ++k) {
        const long long ns = d->conn[k % n_list].N_src, m = store[k].off[ns];
        MG_CUDA_TRY(cudaMemcpy(D->off + n_off, store[k].off, (size_t)(ns + 1) * sizeof(int64_t),
                               cudaMemcpyHostToDevice));
        if (m > 0)
            MG_CUDA_TRY(cudaMemcpy(D->tgt + n_tgt, store[k].tgt, (size_t)m * sizeof(uint32_t),
                                   cudaMemcpyHostToDevice));
        h_csr[k].off = D->off + n_off;
        h_csr[k].tgt = D->tgt + n_tgt;
        n_off += ns + 1;
        n_tgt += m;
    }
    MG_CUDA_TRY(mg_cu_to_device((void **)&D->csr, h_csr, (size_t)nc * sizeof *h_csr));
out:
    mg_ffs_micro_networks_free(store, nc);
    free(h_csr);
    return rc;
}

static void engine_release(mg_ffs_job *J)
{
    dev_ctx *D = (dev_ctx *)J->dev;
    if (D) {
        mg_cu_model_free(&D->bufs);
        cudaFree(D->csr);
        cudaFree(D->off);
        cudaFree(D->tgt);
        cudaFree(D->spk);
        cudaFree(D->isi);
        free(D);
    }
    J->dev = NULL;
    mg_ffs_engine_micro_cpu.release(J);
}

static int engine_setup(mg_ffs_job *J, mg_err *err)
{
    int rc = mg_ffs_engine_micro_cpu.setup(J, err);
    if (rc != MG_OK)
        return rc;
    const mg_micro_derived *d = ((const mg_job *)J->lev)->mi;
    size_t free_b = 0, total_b = 0;
    double per_slot;
    dev_ctx *D = (dev_ctx *)calloc(1, sizeof *D);
    if (!D) {
        rc = mg_err_set(err, MG_ENOMEM, "out of memory");
        goto out;
    }
    J->dev = D;
    D->spk_elems = d->spk_elems > 0 ? d->spk_elems : 1;
    for (int a = 0; a < d->mm.P; ++a)
        D->sum_N += d->mm.pop[a].N;
    D->n_net = J->o.basin_realizations;
    MG_CUDA_TRY(mg_cu_micro_upload(d, &D->dm, &D->bufs));
    rc = upload_networks(d, D, err);
    if (rc != MG_OK)
        goto out;
    /* slots: as many as the driver's calls can use, in half the free memory (the rows of the
     * slots, their spike lists and intervals; the call's start and end states besides) */
    MG_CUDA_TRY(cudaMemGetInfo(&free_b, &total_b));
    per_slot = (double)(J->dyn_rows + 1024) * 8.0 * 3.0 + (double)D->spk_elems * 4.0 +
               (double)D->sum_N * 8.0; /* J->rows is not known yet: the observer's are few */
    D->slots = (long long)(0.5 * (double)free_b / per_slot);
    D->slots = D->slots < FFS_MICRO_SLOTS ? D->slots : FFS_MICRO_SLOTS;
    if (D->slots < 1) {
        rc = mg_err_set(err, MG_ENOMEM, "CUDA: one micro trial needs %.3g MB, the device has "
                        "%.3g MB free", per_slot / 1e6, (double)free_b / 1e6);
        goto out;
    }
    MG_CUDA_TRY(cudaMalloc((void **)&D->spk, (size_t)(D->slots * D->spk_elems) * sizeof(uint32_t)));
    MG_CUDA_TRY(cudaMalloc((void **)&D->isi, (size_t)(D->slots * D->sum_N) * sizeof(double)));
out:
    return rc; /* on failure the driver calls release */
}

/* init and basin: the CPU engine's (a constant of a C file, so it is initialized before this
 * table, which C++ initializes at load time) */
extern "C" const mg_ffs_engine mg_ffs_engine_micro_cuda = {
    "cuda", MG_LEVEL_MICRO, engine_setup, engine_release, mg_ffs_engine_micro_cpu.init,
    mg_ffs_engine_micro_cpu.basin, engine_trials};
