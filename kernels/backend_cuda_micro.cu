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

/* First fault seen: NaN potential (realization, population, neuron, step), or a full spike
 * record buffer (kind 2). realization = -1: none. */
struct mg_micro_fault {
    long long realization;
    int population;
    int kind;
    long long neuron;
    long long step;
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
                        atomicCAS((unsigned long long *)&A.fault->realization,
                                  (unsigned long long)-1LL, (unsigned long long)r) ==
                            (unsigned long long)-1LL) {
                        A.fault->kind = 2;
                        A.fault->population = a;
                        A.fault->step = t;
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
        for (long long q = tid; q < pp->N; q += MG_MICRO_THREADS) {
            if (isnan(MG_AT(st, pp->row_u + q, 0)) &&
                atomicCAS((unsigned long long *)&A.fault->realization, (unsigned long long)-1LL,
                          (unsigned long long)r) == (unsigned long long)-1LL) {
                A.fault->kind = 1;
                A.fault->population = a;
                A.fault->neuron = q;
                A.fault->step = t1 - 1;
            }
        }
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

/* The networks of the valid lanes of a batch, drawn on the host (all cores) and packed:
 * off [lanes][n_list][N_src + 1] and tgt (concatenated); csr[i n_list + c] gets device pointers
 * into d_off / d_tgt (allocated here, grown as needed). Padding lanes get no targets. */
struct net_arena {
    int64_t *d_off;
    uint32_t *d_tgt;
    long long cap_off, cap_tgt;
};

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
    int64_t *h_off = NULL;
    uint32_t *h_tgt = NULL;
    long long n_off = 0, n_tgt = 0;
    for (int w = 0; w < nth; ++w)
        if (fail[w] != MG_OK) {
            rc = mg_err_set(err, MG_ENOMEM, "out of host memory for the networks of a batch");
            goto out;
        }
    for (long long i = 0; i < nlanes; ++i)
        for (int c = 0; c < n_list; ++c) {
            const long long ns = d->conn[c].N_src;
            n_off += ns + 1;
            if (store[i * n_list + c].off)
                n_tgt += store[i * n_list + c].off[ns];
        }
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
    h_off = (int64_t *)malloc((size_t)(n_off > 0 ? n_off : 1) * sizeof(int64_t));
    h_tgt = (uint32_t *)malloc((size_t)(n_tgt > 0 ? n_tgt : 1) * sizeof(uint32_t));
    if (!h_off || !h_tgt) {
        rc = mg_err_set(err, MG_ENOMEM, "out of host memory for the networks of a batch");
        goto out;
    }
    {
        long long po = 0, pt = 0;
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
    }
    MG_CUDA_TRY(cudaMemcpy(na->d_off, h_off, (size_t)n_off * sizeof(int64_t),
                           cudaMemcpyHostToDevice));
    if (n_tgt > 0)
        MG_CUDA_TRY(cudaMemcpy(na->d_tgt, h_tgt, (size_t)n_tgt * sizeof(uint32_t),
                               cudaMemcpyHostToDevice));
out:
    for (auto &so : store)
        mg_micro_csr_free(&so);
    free(h_off);
    free(h_tgt);
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

extern "C" int mg_cuda_run_micro(mg_job *job, mg_err *err)
{
    int rc = MG_OK;
    mg_micro_derived *d = job->mi;
    const mg_micro_model *hm = &d->mm;
    const int P = hm->P, n_list = hm->n_list;
    mg_micro_args A;
    memset(&A, 0, sizeof A);
    A.mm = *hm;
    A.oc = job->oc;
    mg_cu_model_bufs model_bufs; /* the network's tables on the device */
    memset(&model_bufs, 0, sizeof model_bufs);
    double *d_state = NULL, *d_isi = NULL, *d_rec_d = NULL, *d_gd = NULL;
    mg_cu_spectra spec;
    memset(&spec, 0, sizeof spec);
    uint32_t *d_spk = NULL;
    mg_micro_csr *d_csr = NULL, *h_csr = NULL;
    int64_t *d_rec_i = NULL, *d_gi = NULL;
    int64_t *h_gi = NULL; /* a batch's group sums on the host (src/engine/ensemble_groups.c) */
    double *h_gd = NULL;
    float *d_AN = NULL;
    uint64_t *d_key = NULL;
    long long *d_recn = NULL, *h_recn = NULL;
    mg_micro_fault *d_fault = NULL;
    net_arena na = {NULL, NULL, 0, 0};
    const long long first = job->opts.realization_first;
    const long long end = first + job->opts.realization_count;
    const long long psd_N = job->SL.cfg.psd_n;
    const size_t trace_n = (size_t)(job->trace_k * P * job->trace_T);
    long long sumN = 0, chunk = MG_MICRO_CHUNK, rec_cap = 1, groups_per_batch;
    double per_lane, net_lane = 0.0, per_step_rec = 0.0;
    size_t free_b = 0, total_b = 0, free0 = 0;

    /* the recorded spikes of the run, appended launch by launch (as the CPU backend's) */
    if (!d->rec && job->trace_k > 0) {
        d->rec_k = job->trace_k;
        d->rec = (mg_micro_rec *)calloc((size_t)(d->rec_k * P), sizeof *d->rec);
        d->rec_upto = (int64_t *)calloc((size_t)d->rec_k, sizeof *d->rec_upto);
        if (!d->rec || !d->rec_upto)
            return mg_err_set(err, MG_ENOMEM, "out of memory for the recorded spikes");
    }
    /* a run resumed from a checkpoint starts again from step 0 here (as the meso CUDA
     * backend): drop what the checkpoint's process recorded */
    for (long long k = 0; k < d->rec_k; ++k) {
        d->rec_upto[k] = 0;
        for (int a = 0; a < P; ++a)
            d->rec[k * P + a].n = 0;
    }
    for (int a = 0; a < P; ++a) {
        sumN += hm->pop[a].N;
        per_step_rec += (double)hm->pop[a].N / (hm->pop[a].R + 1.0);
    }
    /* launches short enough that the recorded spikes of one fit the budget */
    if (job->trace_k > 0) {
        double steps = MG_MICRO_REC_BUDGET /
                       (8.0 * (double)job->trace_k * P * (per_step_rec + 1.0));
        chunk = steps < 1.0                     ? 1
                : steps < (double)MG_MICRO_CHUNK ? (long long)steps
                                                 : MG_MICRO_CHUNK;
        long long cap = 0;
        for (int a = 0; a < P; ++a) {
            const mg_micro_pop *pp = &hm->pop[a];
            long long per = (chunk + (long long)pp->R) / ((long long)pp->R + 1); /* ceil */
            long long c = pp->N * per + pp->N;
            cap = c > cap ? c : cap;
        }
        rec_cap = cap;
    }

    MG_CUDA_TRY(cudaMemGetInfo(&free0, &total_b)); /* device memory used = free0 - free later */
    MG_CUDA_TRY(mg_cu_micro_upload(d, &A.mm, &model_bufs));
    MG_CUDA_TRY(cudaMalloc((void **)&d_AN, (trace_n > 0 ? trace_n : 1) * sizeof(float)));
    MG_CUDA_TRY(cudaMemset(d_AN, 0, (trace_n > 0 ? trace_n : 1) * sizeof(float)));
    MG_CUDA_TRY(cudaMalloc((void **)&d_fault, sizeof(mg_micro_fault)));
    if (job->trace_k > 0) {
        MG_CUDA_TRY(cudaMalloc((void **)&d_key,
                               (size_t)(job->trace_k * P * rec_cap) * sizeof(uint64_t)));
        MG_CUDA_TRY(cudaMalloc((void **)&d_recn, (size_t)(job->trace_k * P) * sizeof(long long)));
        h_recn = (long long *)malloc((size_t)(job->trace_k * P) * sizeof(long long));
        if (!h_recn) {
            rc = mg_err_set(err, MG_ENOMEM, "out of memory for the recorded spikes");
            goto out;
        }
    }
    /* a shared network: uploaded once, every lane points at it */
    if (n_list > 0 && d->shared) {
        h_csr = (mg_micro_csr *)malloc((size_t)n_list * sizeof(mg_micro_csr));
        if (!h_csr) {
            rc = mg_err_set(err, MG_ENOMEM, "out of memory");
            goto out;
        }
        long long n_off = 0, n_tgt = 0;
        for (int c = 0; c < n_list; ++c) {
            n_off += d->conn[c].N_src + 1;
            n_tgt += d->shared_csr[c].off[d->conn[c].N_src];
        }
        MG_CUDA_TRY(cudaMalloc((void **)&na.d_off, (size_t)n_off * sizeof(int64_t)));
        MG_CUDA_TRY(cudaMalloc((void **)&na.d_tgt,
                               (size_t)(n_tgt > 0 ? n_tgt : 1) * sizeof(uint32_t)));
        long long po = 0, pt = 0;
        for (int c = 0; c < n_list; ++c) {
            const long long ns = d->conn[c].N_src, m = d->shared_csr[c].off[ns];
            MG_CUDA_TRY(cudaMemcpy(na.d_off + po, d->shared_csr[c].off,
                                   (size_t)(ns + 1) * sizeof(int64_t), cudaMemcpyHostToDevice));
            if (m > 0)
                MG_CUDA_TRY(cudaMemcpy(na.d_tgt + pt, d->shared_csr[c].tgt,
                                       (size_t)m * sizeof(uint32_t), cudaMemcpyHostToDevice));
            h_csr[c].off = na.d_off + po;
            h_csr[c].tgt = na.d_tgt + pt;
            po += ns + 1;
            pt += m;
        }
    } else {
        for (int c = 0; c < n_list; ++c) /* Bernoulli counts vary: 10 % spare */
            net_lane += 8.0 * ((double)d->conn[c].N_src + 1.0) + 4.4 * d->conn[c].mean_syn + 64.0;
    }

    /* batch: whole reduction groups, as many as fit in 70 % of the free device memory and
     * whose networks take at most MG_MICRO_HOST_NET on the host while they are drawn */
    per_lane = (double)job->rows * 8.0 + (double)d->spk_elems * 4.0 + (double)sumN * 8.0 +
               (double)n_list * sizeof(mg_micro_csr) + (job->SL.n_i + job->SL.n_d) * 8.0 +
               (double)mg_cu_spectra_bytes_per_lane(&job->oc) + 2.0 * net_lane;
    MG_CUDA_TRY(cudaMemGetInfo(&free_b, &total_b));
    {
        long long host_groups = 0; /* the networks' host copy caps the batch too */
        if (net_lane > 0) {
            host_groups = (long long)(MG_MICRO_HOST_NET / (net_lane * MG_RGROUP));
            host_groups = host_groups < 1 ? 1 : host_groups;
        }
        groups_per_batch = mg_cu_groups_per_batch(free_b, per_lane * MG_RGROUP, host_groups,
                                                  job->opts.batch);
    }
    if (groups_per_batch < 1) {
        rc = mg_err_set(err, MG_ENOMEM, "CUDA: one group of %d realizations of the micro level "
                        "needs %.3g MB, the device has %.3g MB free", MG_RGROUP,
                        per_lane * MG_RGROUP / 1e6, (double)free_b / 1e6);
        goto out;
    }
    if (groups_per_batch > job->n_groups)
        groups_per_batch = job->n_groups;
    {
        const long long lanes_max = groups_per_batch * MG_RGROUP;
        MG_CUDA_TRY(cudaMalloc((void **)&d_state,
                               (size_t)(lanes_max * job->rows) * sizeof(double)));
        MG_CUDA_TRY(cudaMalloc((void **)&d_spk,
                               (size_t)(lanes_max * (d->spk_elems > 0 ? d->spk_elems : 1)) *
                                   sizeof(uint32_t)));
        MG_CUDA_TRY(cudaMalloc((void **)&d_isi, (size_t)(lanes_max * sumN) * sizeof(double)));
        MG_CUDA_TRY(cudaMalloc((void **)&d_csr, (size_t)(lanes_max * (n_list > 0 ? n_list : 1)) *
                                                    sizeof(mg_micro_csr)));
        MG_CUDA_TRY(cudaMalloc((void **)&d_rec_i,
                               (size_t)(lanes_max * job->SL.n_i) * sizeof(int64_t)));
        MG_CUDA_TRY(cudaMalloc((void **)&d_rec_d,
                               (size_t)(lanes_max * job->SL.n_d) * sizeof(double)));
        MG_CUDA_TRY(cudaMalloc((void **)&d_gi,
                               (size_t)(groups_per_batch * job->SL.n_i) * sizeof(int64_t)));
        MG_CUDA_TRY(cudaMalloc((void **)&d_gd,
                               (size_t)(groups_per_batch * job->SL.n_d) * sizeof(double)));
        h_gi = (int64_t *)malloc((size_t)(groups_per_batch * job->SL.n_i + 1) * sizeof(int64_t));
        h_gd = (double *)malloc((size_t)(groups_per_batch * job->SL.n_d + 1) * sizeof(double));
        if (!h_gi || !h_gd) {
            rc = mg_err_set(err, MG_ENOMEM, "out of host memory for the group sums of a batch");
            goto out;
        }
        if (psd_N > 0 && (rc = mg_cu_spectra_alloc(&spec, &job->oc, lanes_max, err)) != MG_OK)
            goto out;
        if (n_list > 0) {
            if (d->shared) {
                /* every lane points at the shared network */
                mg_micro_csr *all = (mg_micro_csr *)malloc((size_t)(lanes_max * n_list) *
                                                           sizeof(mg_micro_csr));
                if (!all) {
                    rc = mg_err_set(err, MG_ENOMEM, "out of memory");
                    goto out;
                }
                for (long long i = 0; i < lanes_max; ++i)
                    memcpy(all + i * n_list, h_csr, (size_t)n_list * sizeof(mg_micro_csr));
                free(h_csr);
                h_csr = all;
                MG_CUDA_TRY(cudaMemcpy(d_csr, h_csr, (size_t)(lanes_max * n_list) *
                                                         sizeof(mg_micro_csr),
                                       cudaMemcpyHostToDevice));
            } else {
                h_csr = (mg_micro_csr *)malloc((size_t)(lanes_max * n_list) *
                                               sizeof(mg_micro_csr));
                if (!h_csr) {
                    rc = mg_err_set(err, MG_ENOMEM, "out of memory");
                    goto out;
                }
            }
        }
    }
    A.state = d_state;
    A.rows = job->rows;
    A.spk = d_spk;
    A.spk_elems = d->spk_elems;
    A.csr = d_csr;
    A.isi = d_isi;
    A.isi_n = sumN;
    A.first = first;
    A.end = end;
    A.tr_AN = d_AN;
    A.trace_k = job->trace_k;
    A.trace_T = job->trace_T;
    A.rec_key = d_key;
    A.rec_n = d_recn;
    A.rec_cap = rec_cap;
    A.fault = d_fault;

    for (long long g0 = 0; g0 < job->n_groups; g0 += groups_per_batch) {
        const long long ng = job->n_groups - g0 < groups_per_batch ? job->n_groups - g0
                                                                   : groups_per_batch;
        const long long nlanes = ng * MG_RGROUP;
        const long long lane0 = (job->g_first + g0) * MG_RGROUP;
        const long long valid = (lane0 + nlanes < end ? lane0 + nlanes : end) -
                                (lane0 > first ? lane0 : first);
        A.lane0 = lane0;
        if (n_list > 0 && !d->shared) {
            rc = build_networks(job, lane0, nlanes, &na, h_csr, err);
            if (rc != MG_OK)
                goto out;
            MG_CUDA_TRY(cudaMemcpy(d_csr, h_csr,
                                   (size_t)(nlanes * n_list) * sizeof(mg_micro_csr),
                                   cudaMemcpyHostToDevice));
        }
        {
            size_t free_now = 0, total_now = 0;
            MG_CUDA_TRY(cudaMemGetInfo(&free_now, &total_now));
            double used = (double)free0 - (double)free_now;
            if (used > job->device_bytes)
                job->device_bytes = used;
        }
        mg_micro_fault nofault = {-1, 0, 0, 0, 0};
        MG_CUDA_TRY(cudaMemcpy(d_fault, &nofault, sizeof nofault, cudaMemcpyHostToDevice));
        for (long long t0 = 0, t1; t0 < job->n_steps; t0 = t1) {
            t1 = t0 + chunk < job->n_steps ? t0 + chunk : job->n_steps;
            long long seg_end;
            t1 = mg_cu_launch_end(&job->oc, t0, t1, &seg_end);
            if (d_recn)
                MG_CUDA_TRY(cudaMemset(d_recn, 0,
                                       (size_t)(job->trace_k * P) * sizeof(long long)));
            mg_micro_run_kernel<<<(unsigned)nlanes, MG_MICRO_THREADS>>>(A, t0, t1);
            MG_CUDA_TRY(cudaGetLastError());
            MG_CUDA_TRY(cudaDeviceSynchronize());
            mg_micro_fault f;
            MG_CUDA_TRY(cudaMemcpy(&f, d_fault, sizeof f, cudaMemcpyDeviceToHost));
            if (f.realization >= 0 && f.kind == 2) {
                rc = mg_err_set(err, MG_EINVAL, "CUDA micro: the spike record of realization "
                                "%lld overflowed at step %lld (a bug: the buffer is sized for the "
                                "most spikes a refractory period allows)", f.realization, f.step);
                goto out;
            }
            if (f.realization >= 0) {
                rc = mg_err_set(err, MG_ENUM,
                                "NaN in the membrane potential of realization %lld, population "
                                "%d (%s), neuron %lld, step %lld: check Delta_V and the input",
                                f.realization, f.population, job->model->pops[f.population].name,
                                f.neuron, f.step);
                goto out;
            }
            if (d_recn) {
                MG_CUDA_TRY(cudaMemcpy(h_recn, d_recn,
                                       (size_t)(job->trace_k * P) * sizeof(long long),
                                       cudaMemcpyDeviceToHost));
                for (long long i = 0; i < nlanes; ++i) {
                    long long k = lane0 + i - first;
                    if (lane0 + i < first || lane0 + i >= end || k >= job->trace_k)
                        continue;
                    rc = append_spikes(d, P, k, h_recn, d_key, rec_cap, err);
                    if (rc != MG_OK)
                        goto out;
                    d->rec_upto[k] = t1;
                }
            }
            if (seg_end >= 0) {
                rc = mg_cu_spectra_transform(&spec, &job->oc, d_state, job->rows, 1, nlanes,
                                             err);
                if (rc != MG_OK)
                    goto out;
                mg_micro_spectrum_kernel<<<(unsigned)((nlanes + 127) / 128), 128>>>(
                    A, nlanes, spec.d_X, spec.lanes_max);
                MG_CUDA_TRY(cudaGetLastError());
                MG_CUDA_TRY(cudaDeviceSynchronize());
            }
            job->steps_done += (t1 - t0) * valid;
            if (job->opts.cancel && *job->opts.cancel) {
                rc = mg_err_set(err, MG_EINTR, "interrupted");
                goto out;
            }
            mg_job_progress(job, 0);
        }
        mg_micro_record_kernel<<<(unsigned)((nlanes + 127) / 128), 128>>>(A, nlanes, job->SL,
                                                                          d_rec_i, d_rec_d);
        MG_CUDA_TRY(cudaGetLastError());
        {
            long long nsum = ng * (job->SL.n_i + job->SL.n_d);
            mg_cu_group_sum_kernel<<<(unsigned)((nsum + 127) / 128), 128>>>(
                job->SL, nlanes, lane0, first, end, ng, NULL, d_rec_i, d_rec_d, d_gi, d_gd);
            MG_CUDA_TRY(cudaGetLastError());
        }
        MG_CUDA_TRY(cudaMemcpy(h_gi, d_gi, (size_t)(ng * job->SL.n_i) * sizeof(int64_t),
                               cudaMemcpyDeviceToHost));
        MG_CUDA_TRY(cudaMemcpy(h_gd, d_gd, (size_t)(ng * job->SL.n_d) * sizeof(double),
                               cudaMemcpyDeviceToHost));
        /* every realization's record is in: the groups go into the running sum in order (the
         * sums start at 0, so a group a checkpoint had partly summed gets the same bits) */
        for (long long g = 0; g < ng; ++g)
            mg_job_group_complete(job, g0 + g, h_gi + g * job->SL.n_i, h_gd + g * job->SL.n_d);
        if (job->fail.failed) {
            rc = mg_err_set(err, job->fail.code, "%s", job->fail.msg);
            goto out;
        }
        job->real_done += valid;
    }
    if (trace_n > 0)
        MG_CUDA_TRY(cudaMemcpy(job->trace_AN, d_AN, trace_n * sizeof(float),
                               cudaMemcpyDeviceToHost));
    rc = mg_micro_merge_spikes(job, err);
out:
    mg_cu_model_free(&model_bufs);
    cudaFree(d_state);
    cudaFree(d_spk);
    cudaFree(d_isi);
    cudaFree(d_csr);
    cudaFree(d_rec_i);
    cudaFree(d_rec_d);
    cudaFree(d_gi);
    cudaFree(d_gd);
    mg_cu_spectra_free(&spec);
    cudaFree(d_AN);
    cudaFree(d_key);
    cudaFree(d_recn);
    cudaFree(d_fault);
    cudaFree(na.d_off);
    cudaFree(na.d_tgt);
    free(h_csr);
    free(h_recn);
    free(h_gi);
    free(h_gd);
    return rc;
}
