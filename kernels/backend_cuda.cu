/* kernels/backend_cuda.cu: the CUDA backend of the ensemble driver (src/engine/job.h).
 *
 * Meso: one thread per realization. Each thread calls mg_meso_step() and mg_obs_step()
 * (src/core/meso.h, src/core/observe.h): the same source as the CPU twin mg_cpu_run()
 * (src/engine/backend_cpu.c), compiled here with MG_VL = 1 lane per call. State is the row-major
 * matrix state[row][lane] with ld = lanes of the batch, so a warp's loads are coalesced.
 * After the last step each thread writes its statistics record (mg_obs_record) and a second
 * kernel sums the records of each reduction group in realization order on the device: only
 * traces and group sums cross to the host, and they are bitwise equal to the CPU's.
 * Spectra: when a segment is complete (the same step in every lane) the launch ends there, the
 * segments are gathered into one dense buffer and transformed by a cuFFT plan made once per run
 * (kernels/cuda_common.cuh: mg_cu_spectra; cuFFT is loaded at run time, FFTW on the host without
 * it), then mg_obs_add_spectrum adds the periodograms on the device.
 * Test: tests/test_gpu.c (tools/gpu_check.sh). Bench: bench/bench_gpu.sh.
 * Kernels (--cuda-kernel, mg_run_opts.cuda_kernel): "thread", one thread per realization (the
 * core step compiled for the device; the default), and "warp"/"warp64", eight lanes per
 * realization following the canonical order of the cohort sums lane for lane (see
 * mg_group_expect). All compute the CPU's bits (tests/test_gpu.c, and on the host
 * tests/test_meso_order.c); which is fastest is for bench/bench_gpu.sh on a device to say.
 * Checkpoints: every lane has its own start step (0, or where a checkpoint parked it); when a
 * checkpoint is due at the end of a launch the batch's lanes are parked (mg_job_park) and the
 * driver writes the file; batches a checkpoint had finished are skipped and group sums go on
 * from the checkpoint's, so a resumed run gives the uninterrupted run's bits on either backend
 * (tests/test_gpu.c: meso_checkpoints_on_the_device_are_bitwise). */
#include <cuda_runtime.h>
#include <cufft.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/job.h"
#include "cuda_check.cuh"  /* MG_CUDA_TRY */
#include "cuda_common.cuh" /* mg_cu_to_device, mg_cu_cufft */
#include "cuda_models.cuh" /* mg_cu_meso_upload */

/* Steps per kernel launch: a launch stays well under a second even for large batches, so that
 * progress lines and cancel requests are served; launch overhead is < 0.1 % at this size. */
#define MG_CUDA_CHUNK 1000
#define MG_CUDA_THREADS 128
/* Start step of a lane that does not run in this call (padding, or summed before a
 * checkpoint); a lane parked at the last step (start = n_steps) still needs its record. */
#define MG_CUDA_NEVER (1LL << 62)


/* NaN report of a launch: the smallest key any lane noted (MG_FAULT_NONE: none). A key orders
 * the faults by step of the launch, then lane, then population: the smallest, not the first to
 * arrive, so that the report does not depend on the order in which the device runs blocks and
 * warps (the host emulation runs them in changing orders; with "first claim wins" it named
 * another realization from run to run). Bits: step - t0 (launches are at most MG_CUDA_CHUNK
 * steps) from 40, lane of the batch from 7, population from 1 (MG_POP_MAX = 64), bit 0 set for
 * an infinite count, clear for NaN. */
enum { MG_FAULT_STEP_BIT = 40, MG_FAULT_LANE_BIT = 7, MG_FAULT_POP_BIT = 1 };
static_assert(MG_CUDA_CHUNK < (1 << 24) && MG_MESO_POP_MAX <= 64, "the fault key's fields");
struct mg_cuda_fault {
    unsigned long long key;
};

/* Note lane i's first non-finite expected count at step t of the launch from t0. */
static __device__ void mg_fault_note(mg_cuda_fault *fault, const double *nbar, int P,
                                     long long i, long long t, long long t0)
{
    for (int a = 0; a < P; ++a)
        if (!isfinite(nbar[a])) {
            atomicMin(&fault->key, ((unsigned long long)(t - t0) << MG_FAULT_STEP_BIT) |
                                       ((unsigned long long)i << MG_FAULT_LANE_BIT) |
                                       ((unsigned long long)a << MG_FAULT_POP_BIT) |
                                       (isnan(nbar[a]) ? 0 : 1));
            return;
        }
}

/* Lane i of the batch is absolute realization lane0 + i; it is simulated whatever its index,
 * and recorded/validated only inside [first, end). */
__global__ void mg_meso_run_kernel(mg_meso_model mm, mg_obs_cfg oc, double *state, long long ld,
                                   long long nlanes, long long lane0, long long first,
                                   long long end, long long t0, long long t1, float *tr_AN,
                                   float *tr_Abar, long long trace_k, long long trace_T,
                                   const long long *tstart, mg_cuda_fault *fault)
{
    long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= nlanes)
        return;
    /* a lane starts at its own step (0, or where a checkpoint parked it) */
    const long long tb = tstart[i] > t0 ? tstart[i] : t0;
    if (tb >= t1)
        return;
    long long r = lane0 + i;
    mg_lanes st = mg_cu_lane_view(state, i, 1, ld);
    double n[MG_POP_MAX], nbar[MG_POP_MAX];
    long long k = r - first;
    int64_t trace_row = (r < end && k >= 0 && k < trace_k) ? k * mm.P * trace_T : -1;
    if (tb == 0) {
        mg_meso_init(&mm, st);
        mg_obs_init(&oc, st);
    }
    for (long long t = tb; t < t1; ++t) {
        mg_meso_step(&mm, st, t, (uint32_t)r, n, nbar);
        mg_obs_step(&oc, st, t, n, nbar, tr_AN, tr_Abar, &trace_row);
        if (r >= first && r < end)
            mg_fault_note(fault, nbar, mm.P, i, t, t0);
    }
}

/* ---- eight lanes per realization ("warp" kernels) ------------------------------------------
 * Layout: realization i owns the contiguous rows state[i * rs .. i * rs + rows) (rs = rows
 * rounded up to 4, so every realization starts on a 32-byte sector). A warp holds four
 * realizations, one per group of 8 lanes, and lane j of a group takes cohort 8i + j of tile i:
 * this is the canonical order of src/core/meso.h lane for lane, so the results are the CPU's
 * bits. Lane j's registers hold the partial sums p_j of X, W, Y, Z; the prefix sum of the
 * threshold is three shuffles up (Hillis-Steele, width 8); the final tree is three xor-shuffles.
 * The prologue and epilogue (mg_meso_expect_begin/_end), the draw, the commit, the inputs and
 * the observer are the shared core functions, called by lane 0 of the group. Every shuffle names
 * only its group's lanes, so a warp with fewer than four realizations works unchanged.
 * tests/test_meso_order.c emulates this function lane by lane on the host against the core. */
#define MG_WARP_BLOCK 4 /* warps per thread block */
#define MG_GROUP 8      /* lanes per realization (= MG_TILE) */
#define MG_GROUPS_PER_WARP (32 / MG_GROUP)

static_assert(MG_GROUP == MG_TILE, "a group of lanes is one tile of the canonical order");

/* Step 5 of population a for the realization of this group (gl = lane in the group, gmask =
 * the group's lanes); returns nbar on lane 0 of the group. */
static __device__ double mg_group_expect(const mg_meso_model *mm, int a, mg_lanes st, int64_t t,
                                         int gl, unsigned gmask)
{
    const mg_meso_pop *pp = &mm->pop[a];
    const int K = pp->K, k0 = (int)(t % K), n_active = K - pp->R;
    const double *theta = mm->kernels + pp->theta_off;
    const double *theta_tilde = theta + K;
    const double E_m = pp->E_m, c = pp->c_hz, inv_Delta = pp->inv_Delta, hdt = pp->half_dt;
    const double inv_N = pp->inv_N;
    double Th = 0.0, Pf = 0.0, Psi = 0.0;
    if (gl == 0)
        mg_meso_expect_begin(mm, a, st, t, &Th, &Pf, &Psi);
    __syncwarp(gmask);
    Th = __shfl_sync(gmask, Th, 0, MG_GROUP);
    Psi = __shfl_sync(gmask, Psi, 0, MG_GROUP); /* Pf stays with lane 0 */
    double pX = 0.0, pW = 0.0, pY = 0.0, pZ = 0.0;
    int l0 = 0;
    for (; l0 < n_active; l0 += MG_GROUP) {
        const int l = l0 + gl, active = l < n_active, exists = l < K;
        int s = k0 + l;
        s = s >= K ? s - K : s;
        const double nl = exists ? MG_AT(st, pp->row_n + s, 0) : 0.0;
        const double cl = active ? theta_tilde[l] * nl * inv_N : 0.0;
        /* exclusive prefix sum of the tile (mg_meso_scan8): e = (0, c0, .., c6), then
         * e_j += e_{j-1}, e_{j-2}, e_{j-4} */
        double e = __shfl_up_sync(gmask, cl, 1, MG_GROUP);
        e = gl >= 1 ? e : 0.0;
        double o = __shfl_up_sync(gmask, e, 1, MG_GROUP);
        e = gl >= 1 ? e + o : e;
        o = __shfl_up_sync(gmask, e, 2, MG_GROUP);
        e = gl >= 2 ? e + o : e;
        o = __shfl_up_sync(gmask, e, 4, MG_GROUP);
        e = gl >= 4 ? e + o : e;
        const double total = __shfl_sync(gmask, e + cl, MG_GROUP - 1, MG_GROUP);
        if (active) /* lane gl adds to partial sum gl only (mg_meso_tile) */
            mg_meso_cohort_survive(&MG_AT(st, pp->row_m + s, 0), &MG_AT(st, pp->row_v + s, 0),
                                   mg_meso_cohort_P(&MG_AT(st, pp->row_u + s, 0),
                                                    &MG_AT(st, pp->row_lam + s, 0),
                                                    theta[l] + (Th + e), Psi, E_m, inv_Delta,
                                                    c, hdt),
                                   &pX, &pW, &pY, &pZ);
        else if (exists) /* refractory: counted in X only */
            pX += MG_AT(st, pp->row_m + s, 0);
        Th = Th + total;
    }
    /* step 3: the refractory cohorts' survivors join X, tile by tile */
    for (; l0 < K; l0 += MG_GROUP) {
        const int l = l0 + gl;
        int s = k0 + l;
        s = s >= K ? s - K : s;
        pX += l < K ? MG_AT(st, pp->row_m + s, 0) : 0.0;
    }
    /* the tree ((p0 + p1) + (p2 + p3)) + ((p4 + p5) + (p6 + p7)): xor-shuffles 1, 2, 4 (every
     * lane ends with the total; IEEE addition commutes, so each pair is the same bits) */
    for (int d = 1; d < MG_GROUP; d <<= 1) {
        pX += __shfl_xor_sync(gmask, pX, d, MG_GROUP);
        pW += __shfl_xor_sync(gmask, pW, d, MG_GROUP);
        pY += __shfl_xor_sync(gmask, pY, d, MG_GROUP);
        pZ += __shfl_xor_sync(gmask, pZ, d, MG_GROUP);
    }
    __syncwarp(gmask); /* the cohorts' stores before lane 0 reads slot k0 */
    double nbar = 0.0;
    if (gl == 0)
        nbar = mg_meso_expect_end(mm, a, st, t, pX, pW, pY, pZ, Pf);
    __syncwarp(gmask);
    return nbar;
}

/* The eight-lane twin of mg_meso_run_kernel: group g of warp w of the grid is lane
 * (block * MG_WARP_BLOCK + w) * 4 + g of the batch. MINB: blocks per SM the register
 * allocation must allow (4: about 94 registers; 8: at most 64 registers, some spilling). */
template <int MINB>
__global__ void __launch_bounds__(32 * MG_WARP_BLOCK, MINB)
mg_meso_warp_kernel(mg_meso_model mm, mg_obs_cfg oc, double *state, long long rs,
                    long long nlanes, long long lane0, long long first, long long end,
                    long long t0, long long t1, float *tr_AN, float *tr_Abar, long long trace_k,
                    long long trace_T, const long long *tstart, mg_cuda_fault *fault)
{
    const int lane = threadIdx.x & 31, gl = lane & (MG_GROUP - 1), g = lane / MG_GROUP;
    const unsigned gmask = 0xffu << (MG_GROUP * g);
    const long long i = ((long long)blockIdx.x * MG_WARP_BLOCK + (threadIdx.x >> 5)) *
                        MG_GROUPS_PER_WARP + g;
    if (i >= nlanes) /* whole groups leave together */
        return;
    const long long tb = tstart[i] > t0 ? tstart[i] : t0; /* the lane's own start (checkpoints) */
    if (tb >= t1)
        return;
    const long long r = lane0 + i;
    mg_lanes st = mg_cu_lane_view(state, i, rs, 1);
    double n[MG_POP_MAX], nbar[MG_POP_MAX];
    long long k = r - first;
    int64_t trace_row = (r < end && k >= 0 && k < trace_k) ? k * mm.P * trace_T : -1;
    if (tb == 0 && gl == 0) {
        mg_meso_init1(&mm, st);
        mg_obs_init(&oc, st);
    }
    __syncwarp(gmask);
    for (long long t = tb; t < t1; ++t) {
        if (gl == 0)
            mg_meso_inputs1(&mm, st, t, (uint32_t)r);
        __syncwarp(gmask);
        for (int a = 0; a < mm.P; ++a) {
            double nb = mg_group_expect(&mm, a, st, t, gl, gmask);
            if (gl == 0) {
                nbar[a] = nb;
                n[a] = mg_meso_draw(&mm, a, t, (uint32_t)r, nb);
                mg_meso_commit(&mm, a, st, t, n[a]);
            }
            __syncwarp(gmask);
        }
        if (gl == 0) {
            mg_obs_step(&oc, st, t, n, nbar, tr_AN, tr_Abar, &trace_row);
            if (r >= first && r < end)
                mg_fault_note(fault, nbar, mm.P, i, t, t0);
        }
        __syncwarp(gmask);
    }
}

/* Each lane's statistics record, contiguous per lane (rec_i + i n_i, rec_d + i n_d). */
__global__ void mg_record_kernel(mg_obs_cfg oc, double *state, long long lane_stride,
                                 long long row_stride, long long nlanes, int64_t *rec_i,
                                 double *rec_d, const long long *tstart, long long n_steps)
{
    long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= nlanes || tstart[i] > n_steps) /* lanes that did not run hold no state */
        return;
    mg_lanes st = mg_cu_lane_view(state, i, lane_stride, row_stride);
    mg_obs_record(&oc, st, 0, rec_i + i * oc.L.n_i, rec_d + i * oc.L.n_d);
}

/* Periodograms of lane i from the transformed segments X[a][lane][N/2 + 1] (interleaved
 * complex, k = 0 .. N/2; k = 0 is the dropped mean). */
__global__ void mg_spectrum_kernel(mg_obs_cfg oc, double *state, long long lane_stride,
                                   long long row_stride, long long nlanes, const double *X,
                                   long long x_lanes, const long long *tstart, long long seg_end)
{
    long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= nlanes || tstart[i] > seg_end) /* a lane resumed after this segment had it */
        return;
    mg_lanes st = mg_cu_lane_view(state, i, lane_stride, row_stride);
    const long long H = oc.L.cfg.psd_n / 2 + 1;
    const double *re = X + 2 * (i * H + 1);
    mg_obs_add_spectrum(&oc, st, 0, re, re + 1, 2 * x_lanes * H, 2);
}

extern "C" int mg_cuda_probe(char *name, int name_len)
{
    int n = 0;
    if (cudaGetDeviceCount(&n) != cudaSuccess || n < 1) {
        cudaGetLastError(); /* clear the sticky "no device" error */
        return MG_ENODEV;
    }
    cudaDeviceProp prop;
    if (cudaGetDeviceProperties(&prop, 0) != cudaSuccess)
        return MG_ENODEV;
    snprintf(name, (size_t)name_len, "%s (sm_%d%d, %.0f GiB)", prop.name, prop.major, prop.minor,
             (double)prop.totalGlobalMem / 1073741824.0);
    return MG_OK;
}

/* One run of the meso backend: the kernel chosen, the batch geometry, and the buffers on the
 * device and their host mirrors, shared by the steps of mg_cuda_run. */
struct meso_run {
    mg_job *job;
    mg_meso_model dm;             /* the model, its tables pointing at model_bufs */
    mg_cu_model_bufs model_bufs;
    int warp, warp64;             /* --cuda-kernel warp / warp64; else the thread kernel */
    long long rs;                 /* warp layout: rows per lane (rows rounded up to 4) */
    long long lane_rows;          /* state doubles per lane */
    long long groups_per_batch, lanes_max;
    size_t trace_n;               /* trace_k P trace_T */
    double *d_state;              /* [lanes_max][lane_rows], layout as the kernel's */
    mg_cu_group_bufs gb;          /* records and group sums */
    mg_cu_spectra spec;
    float *d_AN, *d_Abar;         /* traces [trace_n] */
    mg_cuda_fault *d_fault;
    long long *d_tstart, *h_tstart; /* [lanes_max] each lane's start step (MG_CUDA_NEVER) */
    long long *d_lo, *h_lo;       /* [groups_per_batch] mg_job_group_next of each group */
    int *h_pidx;                  /* [lanes_max] lane -> its entry in job->inflight, or -1 */
    double *h_park;               /* a batch's state on the host, for checkpoints (lazily) */
};

/* One batch: groups [g0, g0 + ng) of the job, lanes [lane0, lane0 + nlanes). Element (row,
 * lane) of its state is at row * row_stride + lane * lane_stride. */
struct meso_batch {
    long long g0, ng, nlanes, lane0;
    long long lane_stride, row_stride;
    unsigned blocks;              /* of the thread kernel */
    long long t_min;              /* the first step any lane runs */
    long long valid;              /* lanes that run (realizations of [first, end) not summed) */
};

static void meso_run_free(meso_run *R)
{
    mg_cu_model_free(&R->model_bufs);
    cudaFree(R->d_state);
    mg_cu_group_bufs_free(&R->gb);
    cudaFree(R->d_AN);
    cudaFree(R->d_Abar);
    cudaFree(R->d_fault);
    mg_cu_spectra_free(&R->spec);
    cudaFree(R->d_tstart);
    cudaFree(R->d_lo);
    free(R->h_tstart);
    free(R->h_lo);
    free(R->h_pidx);
    free(R->h_park);
}

/* The model and the traces so far on the device (zeros, or what a checkpoint holds: batches
 * finished before it are not run again, and the copy back at the end must keep their traces). */
static int meso_run_upload(meso_run *R, mg_err *err)
{
    int rc = MG_OK;
    mg_job *job = R->job;
    const size_t tn = R->trace_n > 0 ? R->trace_n : 1;
    MG_CUDA_TRY(mg_cu_meso_upload(&job->md, &R->dm, &R->model_bufs));
    MG_CUDA_TRY(cudaMalloc(&R->d_AN, tn * sizeof(float)));
    MG_CUDA_TRY(cudaMalloc(&R->d_Abar, tn * sizeof(float)));
    if (R->trace_n > 0) {
        MG_CUDA_TRY(cudaMemcpy(R->d_AN, job->trace_AN, R->trace_n * sizeof(float),
                               cudaMemcpyHostToDevice));
        MG_CUDA_TRY(cudaMemcpy(R->d_Abar, job->trace_Abar, R->trace_n * sizeof(float),
                               cudaMemcpyHostToDevice));
    }
    MG_CUDA_TRY(cudaMalloc(&R->d_fault, sizeof(mg_cuda_fault)));
out:
    return rc;
}

/* The batch: whole reduction groups, as many as fit in 70 % of the free memory (an ensemble
 * larger than the device runs in several batches instead of failing); its buffers, and the
 * device memory the run uses (job->device_bytes). */
static int meso_run_alloc_batch(meso_run *R, mg_err *err)
{
    int rc = MG_OK;
    mg_job *job = R->job;
    size_t free_b = 0, total_b = 0, free_now = 0;
    const long long per_lane = R->lane_rows * 8 + 8 + (job->SL.n_i + job->SL.n_d) * 8 +
                               mg_cu_spectra_bytes_per_lane(&job->oc);
    long long lanes, groups;
    if ((rc = mg_cu_spectra_plan(&R->spec, &job->oc,
                                 mg_cu_lanes_at_most(job->n_groups, 0, job->opts.batch), err)) !=
        MG_OK)
        return rc;
    MG_CUDA_TRY(cudaMemGetInfo(&free_b, &total_b));
    R->groups_per_batch =
        mg_cu_groups_per_batch(mg_cu_free_for_batches(free_b, &R->spec, &job->oc),
                               (double)(per_lane * MG_RGROUP), 0, job->opts.batch);
    if (R->groups_per_batch < 1)
        return mg_cu_no_group_fits(err, "", (double)per_lane * MG_RGROUP, free_b, &R->spec,
                                   &job->oc);
    if (R->groups_per_batch > job->n_groups)
        R->groups_per_batch = job->n_groups;
    groups = R->groups_per_batch;
    lanes = R->lanes_max = groups * MG_RGROUP;
    R->h_tstart = (long long *)malloc((size_t)lanes * sizeof(long long));
    R->h_lo = (long long *)malloc((size_t)groups * sizeof(long long));
    R->h_pidx = (int *)malloc((size_t)lanes * sizeof(int));
    if (!R->h_tstart || !R->h_lo || !R->h_pidx)
        return mg_err_set(err, MG_ENOMEM, "out of host memory");
    MG_CUDA_TRY(cudaMalloc(&R->d_tstart, (size_t)lanes * sizeof(long long)));
    MG_CUDA_TRY(cudaMalloc(&R->d_lo, (size_t)groups * sizeof(long long)));
    MG_CUDA_TRY(cudaMalloc(&R->d_state, (size_t)(lanes * R->lane_rows) * sizeof(double)));
    if ((rc = mg_cu_group_bufs_alloc(&R->gb, &job->SL, lanes, groups, err)) != MG_OK)
        goto out;
    if (job->SL.cfg.psd_n > 0 && (rc = mg_cu_spectra_alloc(&R->spec, lanes, err)) != MG_OK)
        goto out;
    MG_CUDA_TRY(cudaMemGetInfo(&free_now, &total_b));
    job->device_bytes = (double)(free_b - free_now) + (double)(R->trace_n * 2 * sizeof(float));
out:
    return rc;
}

/* h_park, allocated on first use. */
static int meso_park_buffer(meso_run *R, mg_err *err)
{
    if (!R->h_park)
        R->h_park = (double *)malloc((size_t)(R->lanes_max * R->lane_rows) * sizeof(double));
    return R->h_park ? MG_OK
                     : mg_err_set(err, MG_ENOMEM, "out of host memory for a checkpoint");
}

/* Where each lane of the batch starts: realizations a checkpoint already summed (before
 * group_next) and padding lanes never run; parked ones go on from their step with their state
 * (taken into h_park and removed from job->inflight); the others start at 0. Sets h_lo,
 * h_tstart, B->t_min and B->valid; *any_parked says whether h_park holds states. */
static int meso_lane_starts(meso_run *R, meso_batch *B, int *any_parked, mg_err *err)
{
    mg_job *job = R->job;
    const long long end = job->opts.realization_first + job->opts.realization_count;
    B->t_min = job->n_steps;
    B->valid = 0;
    *any_parked = 0;
    for (long long g = 0; g < B->ng; ++g)
        R->h_lo[g] = mg_job_group_next(job, B->g0 + g);
    /* the parked realizations of this batch, found in one pass over the list (a resume of a
     * device checkpoint has every lane of a batch parked) */
    for (long long i = 0; i < B->nlanes; ++i)
        R->h_pidx[i] = -1;
    for (int e = 0; e < job->n_inflight; ++e) {
        long long i = job->inflight[e].r - B->lane0;
        if (i >= 0 && i < B->nlanes)
            R->h_pidx[i] = e;
    }
    for (long long i = 0; i < B->nlanes; ++i) {
        long long r = B->lane0 + i, g = i / MG_RGROUP;
        R->h_tstart[i] = MG_CUDA_NEVER;
        if (r < R->h_lo[g] || r >= end)
            continue;
        long long tp = 0;
        if (R->h_pidx[i] >= 0) {
            mg_inflight *e = &job->inflight[R->h_pidx[i]];
            if (meso_park_buffer(R, err) != MG_OK)
                return MG_ENOMEM;
            for (int q = 0; q < job->rows; ++q)
                R->h_park[i * B->lane_stride + q * B->row_stride] = e->state[q];
            tp = e->t;
            free(e->state);
            e->state = NULL; /* taken: removed from the list below */
            *any_parked = 1;
        }
        R->h_tstart[i] = tp;
        B->t_min = tp < B->t_min ? tp : B->t_min;
        ++B->valid;
    }
    if (*any_parked) {
        int kept = 0;
        for (int e = 0; e < job->n_inflight; ++e)
            if (job->inflight[e].state)
                job->inflight[kept++] = job->inflight[e];
        job->n_inflight = kept;
    }
    return MG_OK;
}

/* What a batch starts from, to the device: the parked states, the lanes' start steps, the
 * groups' first unsummed realizations and their sums so far (0, or what a checkpoint had
 * summed: its open groups), and no fault. */
static int meso_batch_upload(meso_run *R, const meso_batch *B, int any_parked, mg_err *err)
{
    int rc = MG_OK;
    const mg_job *job = R->job;
    const int64_t ni = job->SL.n_i, nd = job->SL.n_d;
    if (any_parked)
        MG_CUDA_TRY(cudaMemcpy(R->d_state, R->h_park, (size_t)(B->nlanes * R->lane_rows) *
                               sizeof(double), cudaMemcpyHostToDevice));
    MG_CUDA_TRY(cudaMemcpy(R->d_tstart, R->h_tstart, (size_t)B->nlanes * sizeof(long long),
                           cudaMemcpyHostToDevice));
    MG_CUDA_TRY(cudaMemcpy(R->d_lo, R->h_lo, (size_t)B->ng * sizeof(long long),
                           cudaMemcpyHostToDevice));
    for (long long g = 0; g < B->ng; ++g) {
        const mg_gslot *gs = mg_job_group_peek(job, B->g0 + g);
        for (int64_t k = 0; k < ni; ++k)
            R->gb.h_gi[g * ni + k] = gs ? gs->i[k] : 0;
        for (int64_t k = 0; k < nd; ++k)
            R->gb.h_gd[g * nd + k] = gs ? gs->d[k] : 0.0;
    }
    MG_CUDA_TRY(cudaMemcpy(R->gb.d_gi, R->gb.h_gi, (size_t)(B->ng * ni) * sizeof(int64_t),
                           cudaMemcpyHostToDevice));
    MG_CUDA_TRY(cudaMemcpy(R->gb.d_gd, R->gb.h_gd, (size_t)(B->ng * nd) * sizeof(double),
                           cudaMemcpyHostToDevice));
    {
        mg_cuda_fault nofault = {MG_FAULT_NONE};
        MG_CUDA_TRY(cudaMemcpy(R->d_fault, &nofault, sizeof nofault, cudaMemcpyHostToDevice));
    }
out:
    return rc;
}

/* Steps [t0, t1) of the batch with the run's kernel, then the first NaN or Inf the lanes saw
 * (MG_ENUM naming realization, population and step). */
static int meso_launch(meso_run *R, const meso_batch *B, long long t0, long long t1,
                       mg_err *err)
{
    int rc = MG_OK;
    mg_job *job = R->job;
    const long long first = job->opts.realization_first;
    const long long end = first + job->opts.realization_count;
    const long long per_block = (long long)MG_WARP_BLOCK * MG_GROUPS_PER_WARP;
    const unsigned wblocks = (unsigned)((B->nlanes + per_block - 1) / per_block);
    if (R->warp64)
        MG_LAUNCH(mg_meso_warp_kernel<8>, wblocks, 32 * MG_WARP_BLOCK)(
            R->dm, job->oc, R->d_state, R->rs, B->nlanes, B->lane0, first, end, t0, t1, R->d_AN,
            R->d_Abar, job->trace_k, job->trace_T, R->d_tstart, R->d_fault);
    else if (R->warp)
        MG_LAUNCH(mg_meso_warp_kernel<4>, wblocks, 32 * MG_WARP_BLOCK)(
            R->dm, job->oc, R->d_state, R->rs, B->nlanes, B->lane0, first, end, t0, t1, R->d_AN,
            R->d_Abar, job->trace_k, job->trace_T, R->d_tstart, R->d_fault);
    else
        MG_LAUNCH(mg_meso_run_kernel, B->blocks, MG_CUDA_THREADS)(
            R->dm, job->oc, R->d_state, B->nlanes, B->nlanes, B->lane0, first, end, t0, t1,
            R->d_AN, R->d_Abar, job->trace_k, job->trace_T, R->d_tstart, R->d_fault);
    MG_CUDA_TRY(cudaGetLastError());
    MG_CUDA_TRY(cudaDeviceSynchronize());
    mg_cuda_fault f;
    MG_CUDA_TRY(cudaMemcpy(&f, R->d_fault, sizeof f, cudaMemcpyDeviceToHost));
    if (f.key != MG_FAULT_NONE) {
        const unsigned long long lane_mask = (1ULL << (MG_FAULT_STEP_BIT - MG_FAULT_LANE_BIT)) - 1;
        const long long step = t0 + (long long)(f.key >> MG_FAULT_STEP_BIT);
        const long long r = B->lane0 + (long long)((f.key >> MG_FAULT_LANE_BIT) & lane_mask);
        const int a = (int)((f.key >> MG_FAULT_POP_BIT) & 63);
        rc = mg_err_set(err, MG_ENUM,
                        "%s in the expected spike count of realization %lld, population "
                        "%d (%s), step %lld (t = %g ms): likely cause: Delta_V too small "
                        "for the input, or extreme parameters (check Delta_V, I_e, J and "
                        "q_sfa)", f.key & 1 ? "Inf" : "NaN", r, a, job->model->pops[a].name,
                        step, (double)step * job->opts.dt_ms);
    }
out:
    return rc;
}

/* The segments completed at step seg_end: transformed, and their periodograms added on the
 * device by the lanes that ran them. */
static int meso_spectra(meso_run *R, const meso_batch *B, long long seg_end, mg_err *err)
{
    int rc = mg_cu_spectra_transform(&R->spec, &R->job->oc, R->d_state, B->lane_stride,
                                     B->row_stride, B->nlanes, err);
    if (rc != MG_OK)
        return rc;
    MG_LAUNCH(mg_spectrum_kernel, B->blocks, MG_CUDA_THREADS)(
        R->job->oc, R->d_state, B->lane_stride, B->row_stride, B->nlanes, R->spec.d_X,
        R->spec.rows, R->d_tstart, seg_end);
    MG_CUDA_TRY(cudaGetLastError());
    MG_CUDA_TRY(cudaDeviceSynchronize());
out:
    return rc;
}

/* A checkpoint is due after step t1 (timer or signal): park every running lane of the batch
 * with its state and step (mg_job_park); the driver writes the checkpoint and calls again
 * (src/engine/run.c), or stops after a signal. */
static int meso_park_batch(meso_run *R, const meso_batch *B, long long t1, mg_err *err)
{
    int rc = MG_OK;
    mg_job *job = R->job;
    if ((rc = meso_park_buffer(R, err)) != MG_OK)
        return rc;
    MG_CUDA_TRY(cudaMemcpy(R->h_park, R->d_state, (size_t)(B->nlanes * R->lane_rows) *
                           sizeof(double), cudaMemcpyDeviceToHost));
    for (long long i = 0; i < B->nlanes; ++i) {
        if (R->h_tstart[i] > job->n_steps)
            continue;
        long long tp = R->h_tstart[i] > t1 ? R->h_tstart[i] : t1;
        if (mg_job_park(job, B->lane0 + i, tp, R->h_park + i * B->lane_stride,
                        B->row_stride) != MG_OK)
            return mg_err_set(err, MG_ENOMEM, "out of memory for a checkpoint");
    }
out:
    return rc;
}

/* The batch's steps from t_min to the end, in launches of at most MG_CUDA_CHUNK steps that end
 * where a spectral segment completes. *parked = 1 when a checkpoint parked the batch. */
static int meso_run_steps(meso_run *R, const meso_batch *B, int *parked, mg_err *err)
{
    int rc = MG_OK;
    mg_job *job = R->job;
    *parked = 0;
    for (long long t0 = B->t_min, t1; t0 < job->n_steps; t0 = t1) {
        t1 = t0 + MG_CUDA_CHUNK < job->n_steps ? t0 + MG_CUDA_CHUNK : job->n_steps;
        long long seg_end;
        t1 = mg_cu_launch_end(&job->oc, t0, t1, &seg_end);
        if ((rc = meso_launch(R, B, t0, t1, err)) != MG_OK)
            return rc;
        if (seg_end >= 0 && (rc = meso_spectra(R, B, seg_end, err)) != MG_OK)
            return rc;
        for (long long i = 0; i < B->nlanes; ++i) /* progress: the lanes that ran */
            if (R->h_tstart[i] < t1)
                job->steps_done += t1 - (R->h_tstart[i] > t0 ? R->h_tstart[i] : t0);
        if (t1 < job->n_steps && mg_job_should_park(job)) {
            *parked = 1;
            return meso_park_batch(R, B, t1, err);
        }
        /* with a checkpoint file a signal parks the lanes above (at the next launch that
         * ends before the last step); without one it stops the run here */
        if (!job->opts.checkpoint_path && job->opts.cancel && *job->opts.cancel)
            return mg_err_set(err, MG_EINTR, "interrupted");
        mg_job_progress(job, 0);
    }
    return MG_OK;
}

/* Batch g0: its lanes' starts, their steps, then their records summed by group into the run's
 * sums. *parked = 1 when a checkpoint parked it (its groups stay open). */
static int meso_run_batch(meso_run *R, long long g0, int *parked, mg_err *err)
{
    int rc = MG_OK, any_parked;
    mg_job *job = R->job;
    meso_batch B;
    B.g0 = g0;
    B.ng = job->n_groups - g0 < R->groups_per_batch ? job->n_groups - g0 : R->groups_per_batch;
    B.nlanes = B.ng * MG_RGROUP;
    B.lane0 = (job->g_first + g0) * MG_RGROUP;
    B.blocks = (unsigned)((B.nlanes + MG_CUDA_THREADS - 1) / MG_CUDA_THREADS);
    B.lane_stride = R->warp ? R->rs : 1;
    B.row_stride = R->warp ? 1 : B.nlanes;
    *parked = 0;
    if ((rc = meso_lane_starts(R, &B, &any_parked, err)) != MG_OK)
        return rc;
    if (B.valid == 0) /* every realization of the batch was done before a checkpoint */
        return MG_OK;
    if ((rc = meso_batch_upload(R, &B, any_parked, err)) != MG_OK ||
        (rc = meso_run_steps(R, &B, parked, err)) != MG_OK || *parked)
        return rc;
    MG_LAUNCH(mg_record_kernel, B.blocks, MG_CUDA_THREADS)(
        job->oc, R->d_state, B.lane_stride, B.row_stride, B.nlanes, R->gb.d_rec_i, R->gb.d_rec_d,
        R->d_tstart, job->n_steps);
    MG_CUDA_TRY(cudaGetLastError());
    if ((rc = mg_cu_groups_complete(job, &R->gb, g0, B.ng, B.nlanes, B.lane0, R->d_lo, err)) !=
        MG_OK)
        return rc;
    job->real_done += B.valid;
out:
    return rc;
}

extern "C" int mg_cuda_run(mg_job *job, mg_err *err)
{
    int rc = MG_OK, parked = 0;
    meso_run R;
    memset(&R, 0, sizeof R);
    R.job = job;
    R.dm = job->md.mm;
    R.trace_n = (size_t)(job->trace_k * job->md.mm.P * job->trace_T);
    /* kernel: the thread kernel unless the run asks for another (--cuda-kernel). The thread
     * kernel is the core step compiled for the device, the reference; the group kernels become
     * the default once a device has measured them faster and equal (tools/gpu_check.sh). */
    const mg_cuda_kernel kern = job->opts.cuda_kernel == MG_CUDA_KERNEL_AUTO
                                    ? MG_CUDA_KERNEL_THREAD : job->opts.cuda_kernel;
    R.warp64 = kern == MG_CUDA_KERNEL_WARP64;
    R.warp = R.warp64 || kern == MG_CUDA_KERNEL_WARP;
    R.rs = ((long long)job->rows + 3) / 4 * 4;
    R.lane_rows = R.warp ? R.rs : (long long)job->rows;

    if ((rc = meso_run_upload(&R, err)) != MG_OK || (rc = meso_run_alloc_batch(&R, err)) != MG_OK)
        goto out;
    for (long long g0 = 0; g0 < job->n_groups && !parked; g0 += R.groups_per_batch)
        if ((rc = meso_run_batch(&R, g0, &parked, err)) != MG_OK)
            goto out;
    /* the traces so far, also when a checkpoint parked the run */
    if (R.trace_n > 0) {
        MG_CUDA_TRY(cudaMemcpy(job->trace_AN, R.d_AN, R.trace_n * sizeof(float),
                               cudaMemcpyDeviceToHost));
        MG_CUDA_TRY(cudaMemcpy(job->trace_Abar, R.d_Abar, R.trace_n * sizeof(float),
                               cudaMemcpyDeviceToHost));
    }
out:
    meso_run_free(&R);
    return rc;
}
