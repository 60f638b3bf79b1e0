/* kernels/backend_cuda_micro.cu: the CUDA backend of the micro level (MODEL.md §1.3), twin of the
 * CPU backend src/engine/backend_cpu_micro.c; the structure follows kernels/backend_cuda.cu (meso).
 *
 * One thread block of MG_MICRO_THREADS threads per realization, threads over neurons: a step is
 * the decomposition of src/core/micro.h ("The step decomposed over the T threads of a CUDA
 * block"): delivery with list spikes over warps and out-edges over a warp's threads; the
 * per-population values on thread 0; the neurons in rounds of one Philox block (4 neurons) per
 * thread, each thread's spikes placed in the spike list by a block prefix sum (CUB's BlockScan)
 * so that the list is in neuron order as on the host; the step's count and the intervals on one
 * thread per population; then mg_obs_step on thread 0. __syncthreads separates the phases, so
 * many steps run in one launch without a grid-wide sync. tests/test_micro_split.c runs the same
 * calls serially on the host against mg_micro_step. The state of a realization is contiguous
 * (ld = 1: neighbouring neurons are neighbouring doubles, so a warp's loads are coalesced).
 *
 * Connectivity: the per-realization networks are drawn on the host (mg_micro_build_csr, the
 * CPU backend's function, on all cores) for one batch at a time and uploaded as CSR; a shared
 * network is uploaded once. An ensemble larger than the device runs in batches of whole
 * reduction groups. Statistics: mg_obs_record and mg_micro_isi_record per realization, then the
 * group sums in realization order on the device, as the meso kernel does: the final statistics
 * are bitwise those of the CPU. Traces go straight to a device copy of job->trace_AN; the spikes
 * of the recorded realizations go to a device buffer sized for one launch (a neuron fires at
 * most once per R + 1 steps) and are appended to job->mi->rec after each launch, then merged
 * as the CPU backend merges them (mg_micro_merge_spikes). Spectra: launches end at the steps
 * that complete a segment; cuFFT transforms them (FFTW on the host without cuFFT).
 * Checkpoints: as the meso CUDA backend, none are taken (the run restarts from step 0).
 *
 * Unverified on a device until tools/gpu_check.sh has run tests/test_gpu_micro.c on one:
 * src/engine/run.c keeps --backend auto on the CPU for the micro level until then. */
#include <cuda_runtime.h>
#include <cub/block/block_scan.cuh>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <thread>
#include <vector>

#include "engine/job.h"
#include "engine/micro_derive.h"
#include "cuda_check.cuh"  /* MG_CUDA_TRY */
#include "cuda_common.cuh" /* mg_cu_to_device, mg_cu_cufft */
#include "cuda_micro_step.cuh" /* mg_cu_micro_step */
#include "cuda_models.cuh" /* mg_cu_micro_upload */

#define MG_MICRO_THREADS 128   /* threads per realization (a multiple of MG_MICRO_WARP) */
#define MG_MICRO_CHUNK 1000    /* steps per launch at most (progress, cancel, NaN checks) */
#define MG_MICRO_REC_BUDGET (256.0 * 1048576.0) /* bytes for the recorded spikes of a launch */
#define MG_MICRO_HOST_NET (2.0 * 1073741824.0)  /* bytes of networks drawn per batch on the host */

/* Faults of a launch. A NaN potential at its last step: the smallest key (lane of the batch
 * from bit 40, population from 34, neuron), so that the report does not depend on the order in
 * which the device runs blocks (as the meso backend's, kernels/backend_cuda.cu); MG_FAULT_NONE:
 * none. A full spike record buffer (a bug): the first realization seen, or -1. */
enum { MG_NAN_LANE_BIT = 40, MG_NAN_POP_BIT = 34 };
static_assert(MG_POP_MAX <= 64, "the fault key's population field");
struct mg_micro_fault {
    unsigned long long nan_key;
    long long full_realization;
    int full_population;
    long long full_step;
};

/* Everything a launch needs; device pointers. */
struct mg_micro_args {
    mg_micro_model mm;
    mg_obs_cfg oc;
    double *state;            /* [lanes][rows] */
    long long rows;
    uint32_t *spk;            /* [lanes][spk_elems] */
    long long spk_elems;
    const mg_micro_csr *csr;  /* [lanes][n_list] */
    double *isi;              /* [lanes][sum N] intervals of the current step's spikes */
    long long isi_n;
    long long lane0, first, end;
    float *tr_AN;
    long long trace_k, trace_T;
    uint64_t *rec_key;        /* [trace_k][P][rec_cap] spikes (step << 32 | neuron) of a launch */
    long long *rec_n;         /* [trace_k][P] how many */
    long long rec_cap;
    mg_micro_fault *fault;
};

typedef cub::BlockScan<int, MG_MICRO_THREADS> mg_micro_scan;

/* Steps [t0, t1) of the realization of this block (lane blockIdx.x of the batch); step 0
 * starts from the initial state. */
__global__ void __launch_bounds__(MG_MICRO_THREADS)
mg_micro_run_kernel(mg_micro_args A, long long t0, long long t1)
{
    __shared__ typename mg_micro_scan::TempStorage scan_tmp;
    __shared__ double n_sh[MG_POP_MAX];
    __shared__ long long cnt_sh[MG_POP_MAX];
    __shared__ long long rec_sh[MG_POP_MAX];
    const long long i = blockIdx.x;
    const long long r = A.lane0 + i;
    if (r < A.first || r >= A.end)
        return; /* padding lane of a group: nothing to simulate (the whole block leaves) */
    const int tid = threadIdx.x;
    const int P = A.mm.P;
    mg_lanes st = mg_cu_lane_view(A.state, i, A.rows, 1);
    mg_micro_buf buf;
    buf.spk = A.spk + i * A.spk_elems;
    buf.csr = A.csr + i * (long long)A.mm.n_list;
    double *isi = A.isi + i * A.isi_n;
    const long long k = r - A.first;
    const int rec = k < A.trace_k;
    int64_t trace_row = rec ? k * P * A.trace_T : -1;
    if (tid < MG_POP_MAX)
        rec_sh[tid] = 0;
    if (t0 == 0 && tid == 0) {
        mg_micro_init(&A.mm, st, &buf);
        mg_obs_init(&A.oc, st);
    }
    __syncthreads();
    for (long long t = t0; t < t1; ++t) {
        /* A to D: delivery, the per-population values, the neurons, the counts */
        mg_cu_micro_step<MG_MICRO_THREADS>(&A.mm, st, &buf, t, (uint32_t)r, isi, scan_tmp, cnt_sh,
                                           n_sh);
        /* D (continued): the recorded realizations' spikes */
        for (int a = 0; a < P; ++a) {
            if (rec && cnt_sh[a] > 0) {
                const mg_micro_pop *pp = &A.mm.pop[a];
                const uint32_t *l = mg_micro_spikes(&buf, pp, (int)(t % pp->H), 0);
                const long long at = rec_sh[a], c = cnt_sh[a];
                if (at + c > A.rec_cap) {
                    if (tid == 0 &&
                        atomicCAS((unsigned long long *)&A.fault->full_realization,
                                  (unsigned long long)-1LL, (unsigned long long)r) ==
                            (unsigned long long)-1LL) {
                        A.fault->full_population = a;
                        A.fault->full_step = t;
                    }
                } else {
                    uint64_t *dst = A.rec_key + (k * P + a) * A.rec_cap + at;
                    for (long long q = tid; q < c; q += MG_MICRO_THREADS)
                        dst[q] = ((uint64_t)t << 32) | l[q];
                }
            }
        }
        __syncthreads();
        /* E: the observer (reads n_sh; the next step's phase D comes after three barriers) */
        if (tid == 0) {
            mg_obs_step(&A.oc, st, t, n_sh, NULL, A.tr_AN, NULL, &trace_row);
            for (int a = 0; a < P; ++a)
                rec_sh[a] += cnt_sh[a];
        }
    }
    __syncthreads();
    if (tid == 0 && rec)
        for (int a = 0; a < P; ++a)
            A.rec_n[k * P + a] = rec_sh[a];
    /* NaN check of the potentials (a NaN potential never fires again) */
    for (int a = 0; a < P; ++a) {
        const mg_micro_pop *pp = &A.mm.pop[a];
        for (long long q = tid; q < pp->N; q += MG_MICRO_THREADS)
            if (isnan(MG_AT(st, pp->row_u + q, 0)))
                atomicMin(&A.fault->nan_key, ((unsigned long long)i << MG_NAN_LANE_BIT) |
                                                 ((unsigned long long)a << MG_NAN_POP_BIT) |
                                                 (unsigned long long)q);
    }
}

/* Each valid lane's statistics record, contiguous per lane, as the CPU's run_block writes it. */
__global__ void mg_micro_record_kernel(mg_micro_args A, long long nlanes, mg_stats_layout L,
                                       int64_t *rec_i, double *rec_d)
{
    long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= nlanes || A.lane0 + i < A.first || A.lane0 + i >= A.end)
        return;
    mg_lanes st = mg_cu_lane_view(A.state, i, A.rows, 1);
    mg_obs_record(&A.oc, st, 0, rec_i + i * L.n_i, rec_d + i * L.n_d);
    mg_micro_isi_record(&A.mm, &L, st, 0, rec_i + i * L.n_i, rec_d + i * L.n_d);
}

/* Periodograms of lane i from X[a][lane][N/2 + 1] (interleaved complex; k = 0 is the dropped
 * mean). */
__global__ void mg_micro_spectrum_kernel(mg_micro_args A, long long nlanes, const double *X,
                                         long long x_lanes)
{
    long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= nlanes || A.lane0 + i < A.first || A.lane0 + i >= A.end)
        return;
    mg_lanes st = mg_cu_lane_view(A.state, i, A.rows, 1);
    const long long H = A.oc.L.cfg.psd_n / 2 + 1;
    const double *re = X + 2 * (i * H + 1);
    mg_obs_add_spectrum(&A.oc, st, 0, re, re + 1, 2 * x_lanes * H, 2);
}

/* The per-lane networks on the device: off [lanes][n_list][N_src + 1] and tgt (concatenated),
 * allocated once and grown as a batch needs. */
struct net_arena {
    int64_t *d_off;
    uint32_t *d_tgt;
    long long cap_off, cap_tgt;
};

/* Grow the arena to n_off offsets and n_tgt targets (at least one). */
static int net_arena_reserve(net_arena *na, long long n_off, long long n_tgt, mg_err *err)
{
    int rc = MG_OK;
    if (n_off > na->cap_off) {
        cudaFree(na->d_off);
        na->d_off = NULL;
        na->cap_off = 0;
        MG_CUDA_TRY(cudaMalloc((void **)&na->d_off, (size_t)n_off * sizeof(int64_t)));
        na->cap_off = n_off;
    }
    if (n_tgt > na->cap_tgt || !na->d_tgt) {
        cudaFree(na->d_tgt);
        na->d_tgt = NULL;
        na->cap_tgt = 0;
        MG_CUDA_TRY(cudaMalloc((void **)&na->d_tgt,
                               (size_t)(n_tgt > 0 ? n_tgt : 1) * sizeof(uint32_t)));
        na->cap_tgt = n_tgt > 0 ? n_tgt : 1;
    }
out:
    return rc;
}

/* Upload the networks store[nlanes][n_list] (an entry without offsets: a padding lane, no
 * targets) into the arena, packed, and point h_csr[i n_list + c] at them on the device. */
static int upload_networks(const mg_micro_derived *d, const mg_micro_csr_store *store,
                           long long nlanes, net_arena *na, mg_micro_csr *h_csr, mg_err *err)
{
    int rc = MG_OK;
    const int n_list = d->mm.n_list;
    long long n_off = 0, n_tgt = 0, po = 0, pt = 0;
    int64_t *h_off = NULL;
    uint32_t *h_tgt = NULL;
    for (long long i = 0; i < nlanes; ++i)
        for (int c = 0; c < n_list; ++c) {
            const long long ns = d->conn[c].N_src;
            n_off += ns + 1;
            if (store[i * n_list + c].off)
                n_tgt += store[i * n_list + c].off[ns];
        }
    if ((rc = net_arena_reserve(na, n_off, n_tgt, err)) != MG_OK)
        return rc;
    h_off = (int64_t *)malloc((size_t)(n_off > 0 ? n_off : 1) * sizeof(int64_t));
    h_tgt = (uint32_t *)malloc((size_t)(n_tgt > 0 ? n_tgt : 1) * sizeof(uint32_t));
    if (!h_off || !h_tgt) {
        rc = mg_err_set(err, MG_ENOMEM, "out of host memory for the networks of a batch");
        goto out;
    }
    for (long long i = 0; i < nlanes; ++i)
        for (int c = 0; c < n_list; ++c) {
            const long long ns = d->conn[c].N_src;
            const mg_micro_csr_store *so = &store[i * n_list + c];
            long long m = so->off ? so->off[ns] : 0;
            if (so->off)
                memcpy(h_off + po, so->off, (size_t)(ns + 1) * sizeof(int64_t));
            else
                memset(h_off + po, 0, (size_t)(ns + 1) * sizeof(int64_t));
            if (m > 0)
                memcpy(h_tgt + pt, so->tgt, (size_t)m * sizeof(uint32_t));
            h_csr[i * n_list + c].off = na->d_off + po;
            h_csr[i * n_list + c].tgt = na->d_tgt + pt;
            po += ns + 1;
            pt += m;
        }
    MG_CUDA_TRY(cudaMemcpy(na->d_off, h_off, (size_t)n_off * sizeof(int64_t),
                           cudaMemcpyHostToDevice));
    if (n_tgt > 0)
        MG_CUDA_TRY(cudaMemcpy(na->d_tgt, h_tgt, (size_t)n_tgt * sizeof(uint32_t),
                               cudaMemcpyHostToDevice));
out:
    free(h_off);
    free(h_tgt);
    return rc;
}

/* The networks of the valid lanes of a batch, drawn on the host (all cores, the CPU backend's
 * mg_micro_build_csr) and uploaded into the arena; h_csr as in upload_networks. Padding lanes
 * get no targets. */
static int build_networks(mg_job *job, long long lane0, long long nlanes, net_arena *na,
                          mg_micro_csr *h_csr, mg_err *err)
{
    mg_micro_derived *d = job->mi;
    const int n_list = d->mm.n_list;
    const long long first = job->opts.realization_first;
    const long long end = first + job->opts.realization_count;
    std::vector<mg_micro_csr_store> store((size_t)(nlanes * n_list));
    memset(store.data(), 0, store.size() * sizeof(mg_micro_csr_store));
    int nth = job->opts.threads > 0 ? job->opts.threads : (int)std::thread::hardware_concurrency();
    nth = nth < 1 ? 1 : nth > 64 ? 64 : nth;
    std::vector<int> fail((size_t)nth, MG_OK);
    std::vector<std::thread> pool;
    for (int w = 0; w < nth; ++w) {
        pool.emplace_back([&, w]() {
            mg_micro_scratch sc;
            if (mg_micro_scratch_alloc(d, &sc) != MG_OK) {
                fail[w] = MG_ENOMEM;
                return;
            }
            mg_err e = {{0}};
            for (long long i = w; i < nlanes && fail[w] == MG_OK; i += nth) {
                long long r = lane0 + i;
                if (r < first || r >= end)
                    continue;
                for (int c = 0; c < n_list && fail[w] == MG_OK; ++c)
                    fail[w] = mg_micro_build_csr(d, c, (uint32_t)r, 0, &store[i * n_list + c],
                                                 &sc, &e);
            }
            mg_micro_scratch_free(&sc);
        });
    }
    for (auto &th : pool)
        th.join();
    int rc = MG_OK;
    for (int w = 0; w < nth && rc == MG_OK; ++w)
        if (fail[w] != MG_OK)
            rc = mg_err_set(err, MG_ENOMEM, "out of host memory for the networks of a batch");
    if (rc == MG_OK)
        rc = upload_networks(d, store.data(), nlanes, na, h_csr, err);
    for (auto &so : store)
        mg_micro_csr_free(&so);
    return rc;
}

/* Append the spikes of the launch of recorded realization k (device buffer) to d->rec. */
static int append_spikes(mg_micro_derived *d, int P, long long k, const long long *n,
                         const uint64_t *d_key, long long cap, mg_err *err)
{
    int rc = MG_OK;
    for (int a = 0; a < P; ++a) {
        long long c = n[k * P + a];
        if (c == 0)
            continue;
        mg_micro_rec *rcd = &d->rec[k * P + a];
        if (rcd->n + c > rcd->cap) {
            int64_t nc = rcd->cap > 0 ? rcd->cap : 4096;
            while (nc < rcd->n + c)
                nc *= 2;
            uint64_t *x = (uint64_t *)realloc(rcd->key, (size_t)nc * sizeof *x);
            if (!x)
                return mg_err_set(err, MG_ENOMEM, "out of memory for the recorded spikes");
            rcd->key = x;
            rcd->cap = nc;
        }
        MG_CUDA_TRY(cudaMemcpy(rcd->key + rcd->n, d_key + (k * P + a) * cap,
                               (size_t)c * sizeof(uint64_t), cudaMemcpyDeviceToHost));
        rcd->n += c;
    }
out:
    return rc;
}

/* One run of the micro backend: the batch geometry, the launch length, and the buffers on the
 * device and their host mirrors, shared by the steps of mg_cuda_run_micro. */
struct micro_run {
    mg_job *job;
    mg_micro_derived *d;
    int P, n_list;
    mg_micro_args A;              /* the launch arguments (device pointers) */
    mg_cu_model_bufs model_bufs;  /* the network's tables on the device */
    long long sumN;               /* neurons of a realization */
    long long chunk;              /* steps per launch at most */
    long long rec_cap;            /* recorded spikes per (realization, population) and launch */
    double net_lane;              /* bytes of one lane's network on the device (0: shared) */
    long long groups_per_batch;
    size_t trace_n, free0;        /* trace_k P trace_T; free device memory at the start */
    double *d_state, *d_isi;
    uint32_t *d_spk;
    mg_micro_csr *d_csr, *h_csr;  /* [lanes_max][n_list] */
    mg_cu_group_bufs gb;          /* records and group sums */
    mg_cu_spectra spec;
    float *d_AN;
    uint64_t *d_key;              /* [trace_k][P][rec_cap] */
    long long *d_recn, *h_recn;   /* [trace_k][P] */
    mg_micro_fault *d_fault;
    net_arena na;
};

static void micro_run_free(micro_run *R)
{
    mg_cu_model_free(&R->model_bufs);
    cudaFree(R->d_state);
    cudaFree(R->d_spk);
    cudaFree(R->d_isi);
    cudaFree(R->d_csr);
    mg_cu_group_bufs_free(&R->gb);
    mg_cu_spectra_free(&R->spec);
    cudaFree(R->d_AN);
    cudaFree(R->d_key);
    cudaFree(R->d_recn);
    cudaFree(R->d_fault);
    cudaFree(R->na.d_off);
    cudaFree(R->na.d_tgt);
    free(R->h_csr);
    free(R->h_recn);
}

/* The recorded spikes of the run, appended launch by launch (as the CPU backend's): allocated
 * on first use, and emptied, since a run resumed from a checkpoint starts again from step 0
 * here (as the meso CUDA backend) and drops what the checkpoint's process recorded. */
static int micro_rec_reset(mg_job *job, mg_micro_derived *d, int P, mg_err *err)
{
    if (!d->rec && job->trace_k > 0) {
        d->rec_k = job->trace_k;
        d->rec = (mg_micro_rec *)calloc((size_t)(d->rec_k * P), sizeof *d->rec);
        d->rec_upto = (int64_t *)calloc((size_t)d->rec_k, sizeof *d->rec_upto);
        if (!d->rec || !d->rec_upto)
            return mg_err_set(err, MG_ENOMEM, "out of memory for the recorded spikes");
    }
    for (long long k = 0; k < d->rec_k; ++k) {
        d->rec_upto[k] = 0;
        for (int a = 0; a < P; ++a)
            d->rec[k * P + a].n = 0;
    }
    return MG_OK;
}

/* Launches short enough that the recorded spikes of one fit MG_MICRO_REC_BUDGET (a neuron
 * fires at most once per R + 1 steps): R->chunk and R->rec_cap. Also R->sumN. */
static void micro_launch_size(micro_run *R)
{
    const mg_micro_model *hm = &R->d->mm;
    const long long trace_k = R->job->trace_k;
    double per_step_rec = 0.0;
    R->sumN = 0;
    R->chunk = MG_MICRO_CHUNK;
    R->rec_cap = 1;
    for (int a = 0; a < R->P; ++a) {
        R->sumN += hm->pop[a].N;
        per_step_rec += (double)hm->pop[a].N / (hm->pop[a].R + 1.0);
    }
    if (trace_k <= 0)
        return;
    double steps = MG_MICRO_REC_BUDGET / (8.0 * (double)trace_k * R->P * (per_step_rec + 1.0));
    R->chunk = steps < 1.0                     ? 1
               : steps < (double)MG_MICRO_CHUNK ? (long long)steps
                                                : MG_MICRO_CHUNK;
    long long cap = 0;
    for (int a = 0; a < R->P; ++a) {
        const mg_micro_pop *pp = &hm->pop[a];
        long long per = (R->chunk + (long long)pp->R) / ((long long)pp->R + 1); /* ceil */
        long long c = pp->N * per + pp->N;
        cap = c > cap ? c : cap;
    }
    R->rec_cap = cap;
}

/* What every batch shares, to the device: the model, the traces, the fault note, the buffer of
 * a launch's recorded spikes, and a shared network (uploaded once; every lane points at it).
 * Without a shared network, R->net_lane: the device bytes of one lane's network. */
static int micro_run_upload(micro_run *R, mg_err *err)
{
    int rc = MG_OK;
    mg_job *job = R->job;
    mg_micro_derived *d = R->d;
    const size_t tn = R->trace_n > 0 ? R->trace_n : 1;
    const size_t nrec = (size_t)(job->trace_k * R->P);
    size_t total_b = 0;
    MG_CUDA_TRY(cudaMemGetInfo(&R->free0, &total_b)); /* device memory used = free0 - later */
    MG_CUDA_TRY(mg_cu_micro_upload(d, &R->A.mm, &R->model_bufs));
    MG_CUDA_TRY(cudaMalloc((void **)&R->d_AN, tn * sizeof(float)));
    MG_CUDA_TRY(cudaMemset(R->d_AN, 0, tn * sizeof(float)));
    MG_CUDA_TRY(cudaMalloc((void **)&R->d_fault, sizeof(mg_micro_fault)));
    if (job->trace_k > 0) {
        MG_CUDA_TRY(cudaMalloc((void **)&R->d_key, nrec * (size_t)R->rec_cap * sizeof(uint64_t)));
        MG_CUDA_TRY(cudaMalloc((void **)&R->d_recn, nrec * sizeof(long long)));
        R->h_recn = (long long *)malloc(nrec * sizeof(long long));
        if (!R->h_recn)
            return mg_err_set(err, MG_ENOMEM, "out of memory for the recorded spikes");
    }
    if (R->n_list > 0 && d->shared) {
        R->h_csr = (mg_micro_csr *)malloc((size_t)R->n_list * sizeof(mg_micro_csr));
        if (!R->h_csr)
            return mg_err_set(err, MG_ENOMEM, "out of memory");
        return upload_networks(d, d->shared_csr, 1, &R->na, R->h_csr, err);
    }
    for (int c = 0; c < R->n_list; ++c) /* Bernoulli counts vary: 10 % spare */
        R->net_lane += 8.0 * ((double)d->conn[c].N_src + 1.0) + 4.4 * d->conn[c].mean_syn + 64.0;
out:
    return rc;
}

/* The lanes' network pointers on the host (h_csr [lanes][n_list]): a shared network's
 * replicated to every lane and uploaded once; per-lane ones are filled batch by batch. */
static int micro_lane_csr(micro_run *R, long long lanes, mg_err *err)
{
    int rc = MG_OK;
    const int n_list = R->n_list;
    mg_micro_csr *all = (mg_micro_csr *)malloc((size_t)(lanes * n_list) * sizeof(mg_micro_csr));
    if (!all)
        return mg_err_set(err, MG_ENOMEM, "out of memory");
    if (R->d->shared)
        for (long long i = 0; i < lanes; ++i)
            memcpy(all + i * n_list, R->h_csr, (size_t)n_list * sizeof(mg_micro_csr));
    free(R->h_csr);
    R->h_csr = all;
    if (R->d->shared)
        MG_CUDA_TRY(cudaMemcpy(R->d_csr, R->h_csr, (size_t)(lanes * n_list) *
                                                      sizeof(mg_micro_csr),
                               cudaMemcpyHostToDevice));
out:
    return rc;
}

/* The batch: whole reduction groups, as many as fit in 70 % of the free device memory and
 * whose networks take at most MG_MICRO_HOST_NET on the host while they are drawn; its
 * buffers. */
static int micro_run_alloc_batch(micro_run *R, mg_err *err)
{
    int rc = MG_OK;
    mg_job *job = R->job;
    const mg_micro_derived *d = R->d;
    size_t free_b = 0, total_b = 0;
    long long host_groups = 0, lanes;
    const double per_lane =
        (double)job->rows * 8.0 + (double)d->spk_elems * 4.0 + (double)R->sumN * 8.0 +
        (double)R->n_list * sizeof(mg_micro_csr) + (job->SL.n_i + job->SL.n_d) * 8.0 +
        (double)mg_cu_spectra_bytes_per_lane(&job->oc) + 2.0 * R->net_lane;
    if (R->net_lane > 0) { /* the networks' host copy caps the batch too */
        host_groups = (long long)(MG_MICRO_HOST_NET / (R->net_lane * MG_RGROUP));
        host_groups = host_groups < 1 ? 1 : host_groups;
    }
    if ((rc = mg_cu_spectra_plan(&R->spec, &job->oc,
                                 mg_cu_lanes_at_most(job->n_groups, host_groups, job->opts.batch),
                                 err)) != MG_OK)
        return rc;
    MG_CUDA_TRY(cudaMemGetInfo(&free_b, &total_b));
    R->groups_per_batch =
        mg_cu_groups_per_batch(mg_cu_free_for_batches(free_b, &R->spec, &job->oc),
                               per_lane * MG_RGROUP, host_groups, job->opts.batch);
    if (R->groups_per_batch < 1)
        return mg_cu_no_group_fits(err, " of the micro level", per_lane * MG_RGROUP, free_b,
                                   &R->spec, &job->oc);
    if (R->groups_per_batch > job->n_groups)
        R->groups_per_batch = job->n_groups;
    lanes = R->groups_per_batch * MG_RGROUP;
    MG_CUDA_TRY(cudaMalloc((void **)&R->d_state, (size_t)(lanes * job->rows) * sizeof(double)));
    MG_CUDA_TRY(cudaMalloc((void **)&R->d_spk, (size_t)(lanes * (d->spk_elems > 0 ? d->spk_elems
                                                                                 : 1)) *
                                                   sizeof(uint32_t)));
    MG_CUDA_TRY(cudaMalloc((void **)&R->d_isi, (size_t)(lanes * R->sumN) * sizeof(double)));
    MG_CUDA_TRY(cudaMalloc((void **)&R->d_csr, (size_t)(lanes * (R->n_list > 0 ? R->n_list : 1)) *
                                                   sizeof(mg_micro_csr)));
    if ((rc = mg_cu_group_bufs_alloc(&R->gb, &job->SL, lanes, R->groups_per_batch, err)) !=
        MG_OK)
        goto out;
    if (job->SL.cfg.psd_n > 0 && (rc = mg_cu_spectra_alloc(&R->spec, lanes, err)) != MG_OK)
        goto out;
    if (R->n_list > 0)
        rc = micro_lane_csr(R, lanes, err);
out:
    return rc;
}

/* The launch arguments that stay for the run (lane0 changes by batch). */
static void micro_args(micro_run *R)
{
    mg_micro_args *A = &R->A;
    const mg_job *job = R->job;
    A->state = R->d_state;
    A->rows = job->rows;
    A->spk = R->d_spk;
    A->spk_elems = R->d->spk_elems;
    A->csr = R->d_csr;
    A->isi = R->d_isi;
    A->isi_n = R->sumN;
    A->first = job->opts.realization_first;
    A->end = A->first + job->opts.realization_count;
    A->tr_AN = R->d_AN;
    A->trace_k = job->trace_k;
    A->trace_T = job->trace_T;
    A->rec_key = R->d_key;
    A->rec_n = R->d_recn;
    A->rec_cap = R->rec_cap;
    A->fault = R->d_fault;
}

/* The fault the lanes noted in the launch that ended at t1, if any, as the run's error. */
static int micro_check_fault(micro_run *R, long long t1, mg_err *err)
{
    int rc = MG_OK;
    mg_micro_fault f;
    MG_CUDA_TRY(cudaMemcpy(&f, R->d_fault, sizeof f, cudaMemcpyDeviceToHost));
    if (f.full_realization >= 0)
        return mg_err_set(err, MG_EINVAL, "CUDA micro: the spike record of realization "
                          "%lld overflowed at step %lld (a bug: the buffer is sized for the "
                          "most spikes a refractory period allows)", f.full_realization,
                          f.full_step);
    if (f.nan_key != MG_FAULT_NONE) {
        const int a = (int)((f.nan_key >> MG_NAN_POP_BIT) & 63);
        return mg_err_set(err, MG_ENUM,
                          "NaN in the membrane potential of realization %lld, population "
                          "%d (%s), neuron %lld, step %lld: check Delta_V and the input",
                          R->A.lane0 + (long long)(f.nan_key >> MG_NAN_LANE_BIT), a,
                          R->job->model->pops[a].name,
                          (long long)(f.nan_key & ((1ULL << MG_NAN_POP_BIT) - 1)), t1 - 1);
    }
out:
    return rc;
}

/* The spikes the recorded realizations of the batch (lanes from lane0) fired in the launch
 * that ended at t1, appended to d->rec. */
static int micro_take_spikes(micro_run *R, long long lane0, long long nlanes, long long t1,
                             mg_err *err)
{
    int rc = MG_OK;
    mg_job *job = R->job;
    const long long first = job->opts.realization_first;
    const long long end = first + job->opts.realization_count;
    MG_CUDA_TRY(cudaMemcpy(R->h_recn, R->d_recn, (size_t)(job->trace_k * R->P) *
                           sizeof(long long), cudaMemcpyDeviceToHost));
    for (long long i = 0; i < nlanes; ++i) {
        long long k = lane0 + i - first;
        if (lane0 + i < first || lane0 + i >= end || k >= job->trace_k)
            continue;
        rc = append_spikes(R->d, R->P, k, R->h_recn, R->d_key, R->rec_cap, err);
        if (rc != MG_OK)
            return rc;
        R->d->rec_upto[k] = t1;
    }
out:
    return rc;
}

/* Steps [t0, t1) of the batch's nlanes lanes: the launch, its fault check, its recorded
 * spikes, and the spectral segments completed at its last step (seg_end >= 0). */
static int micro_launch(micro_run *R, long long nlanes, long long t0, long long t1,
                        long long seg_end, mg_err *err)
{
    int rc = MG_OK;
    mg_job *job = R->job;
    if (R->d_recn)
        MG_CUDA_TRY(cudaMemset(R->d_recn, 0, (size_t)(job->trace_k * R->P) * sizeof(long long)));
    MG_LAUNCH(mg_micro_run_kernel, (unsigned)nlanes, MG_MICRO_THREADS)(R->A, t0, t1);
    MG_CUDA_TRY(cudaGetLastError());
    MG_CUDA_TRY(cudaDeviceSynchronize());
    if ((rc = micro_check_fault(R, t1, err)) != MG_OK)
        return rc;
    if (R->d_recn && (rc = micro_take_spikes(R, R->A.lane0, nlanes, t1, err)) != MG_OK)
        return rc;
    if (seg_end >= 0) {
        rc = mg_cu_spectra_transform(&R->spec, &job->oc, R->d_state, job->rows, 1, nlanes, err);
        if (rc != MG_OK)
            return rc;
        MG_LAUNCH(mg_micro_spectrum_kernel, (unsigned)((nlanes + 127) / 128), 128)(
            R->A, nlanes, R->spec.d_X, R->spec.rows);
        MG_CUDA_TRY(cudaGetLastError());
        MG_CUDA_TRY(cudaDeviceSynchronize());
    }
out:
    return rc;
}

/* Batch g0 from step 0 to the end: its networks, its launches, then its records summed by
 * group into the run's sums. */
static int micro_run_batch(micro_run *R, long long g0, mg_err *err)
{
    int rc = MG_OK;
    mg_job *job = R->job;
    const long long ng = job->n_groups - g0 < R->groups_per_batch ? job->n_groups - g0
                                                                  : R->groups_per_batch;
    const long long nlanes = ng * MG_RGROUP;
    const long long lane0 = (job->g_first + g0) * MG_RGROUP;
    const long long valid = (lane0 + nlanes < R->A.end ? lane0 + nlanes : R->A.end) -
                            (lane0 > R->A.first ? lane0 : R->A.first);
    size_t free_now = 0, total_now = 0;
    mg_micro_fault nofault = {MG_FAULT_NONE, -1, 0, 0};
    R->A.lane0 = lane0;
    if (R->n_list > 0 && !R->d->shared) {
        if ((rc = build_networks(job, lane0, nlanes, &R->na, R->h_csr, err)) != MG_OK)
            return rc;
        MG_CUDA_TRY(cudaMemcpy(R->d_csr, R->h_csr,
                               (size_t)(nlanes * R->n_list) * sizeof(mg_micro_csr),
                               cudaMemcpyHostToDevice));
    }
    MG_CUDA_TRY(cudaMemGetInfo(&free_now, &total_now));
    if ((double)R->free0 - (double)free_now > job->device_bytes)
        job->device_bytes = (double)R->free0 - (double)free_now;
    MG_CUDA_TRY(cudaMemcpy(R->d_fault, &nofault, sizeof nofault, cudaMemcpyHostToDevice));
    for (long long t0 = 0, t1; t0 < job->n_steps; t0 = t1) {
        long long seg_end;
        t1 = t0 + R->chunk < job->n_steps ? t0 + R->chunk : job->n_steps;
        t1 = mg_cu_launch_end(&job->oc, t0, t1, &seg_end);
        if ((rc = micro_launch(R, nlanes, t0, t1, seg_end, err)) != MG_OK)
            return rc;
        job->steps_done += (t1 - t0) * valid;
        if (job->opts.cancel && *job->opts.cancel)
            return mg_err_set(err, MG_EINTR, "interrupted");
        mg_job_progress(job, 0);
    }
    MG_LAUNCH(mg_micro_record_kernel, (unsigned)((nlanes + 127) / 128), 128)(
        R->A, nlanes, job->SL, R->gb.d_rec_i, R->gb.d_rec_d);
    MG_CUDA_TRY(cudaGetLastError());
    /* every realization's record is in: the groups go into the running sum in order (the
     * sums start at 0, so a group a checkpoint had partly summed gets the same bits) */
    if ((rc = mg_cu_groups_complete(job, &R->gb, g0, ng, nlanes, lane0, NULL, err)) != MG_OK)
        return rc;
    job->real_done += valid;
out:
    return rc;
}

extern "C" int mg_cuda_run_micro(mg_job *job, mg_err *err)
{
    int rc = MG_OK;
    micro_run R;
    memset(&R, 0, sizeof R);
    R.job = job;
    R.d = job->mi;
    R.P = R.d->mm.P;
    R.n_list = R.d->mm.n_list;
    R.A.mm = R.d->mm;
    R.A.oc = job->oc;
    R.trace_n = (size_t)(job->trace_k * R.P * job->trace_T);
    if ((rc = micro_rec_reset(job, R.d, R.P, err)) != MG_OK)
        return rc;
    micro_launch_size(&R);
    if ((rc = micro_run_upload(&R, err)) != MG_OK || (rc = micro_run_alloc_batch(&R, err)) != MG_OK)
        goto out;
    micro_args(&R);
    for (long long g0 = 0; g0 < job->n_groups; g0 += R.groups_per_batch)
        if ((rc = micro_run_batch(&R, g0, err)) != MG_OK)
            goto out;
    if (R.trace_n > 0)
        MG_CUDA_TRY(cudaMemcpy(job->trace_AN, R.d_AN, R.trace_n * sizeof(float),
                               cudaMemcpyDeviceToHost));
    rc = mg_micro_merge_spikes(job, err);
out:
    micro_run_free(&R);
    return rc;
}
