/* kernels/backend_cuda.cu: the CUDA backend of the ensemble driver (src/ensemble.h).
 *
 * Meso: one thread per realization. Each thread calls mg_meso_step() and mg_obs_step()
 * (src/core/meso.h, src/core/observe.h): the same source as the CPU twin mg_cpu_run()
 * (src/backend_cpu.c), compiled here with MG_VL = 1 lane per call. State is the row-major
 * matrix state[row][lane] with ld = lanes of the batch, so a warp's loads are coalesced.
 * After the last step each thread writes its statistics record (mg_obs_record) and a second
 * kernel sums the records of each reduction group in realization order on the device: only
 * traces and group sums cross to the host, and they are bitwise equal to the CPU's.
 * Spectra: when a segment is complete (the same step in every lane) the launch ends there and
 * the segments are transformed in one batched cuFFT call per population (cuFFT is loaded at run
 * time, so the staged binary needs no copy of it; without it the transform falls back to FFTW
 * on the host), then mg_obs_add_spectrum adds the periodograms on the device.
 * Test: tests/test_gpu.c (tools/gpu_check.sh). Bench: bench/bench_gpu.sh.
 * v1: global-memory state, steps in chunks of MG_CUDA_CHUNK launches (progress, cancel). */
#include <cuda_runtime.h>
#include <cufft.h>
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ensemble.h"
#include "cuda_check.cuh" /* MG_CUDA_TRY */

/* Steps per kernel launch: a launch stays well under a second even for large batches, so that
 * progress lines and cancel requests are served; launch overhead is < 0.1 % at this size. */
#define MG_CUDA_CHUNK 1000
#define MG_CUDA_THREADS 128


/* NaN report: first (realization, population, step) seen, or realization = -1. */
struct mg_cuda_fault {
    long long realization;
    int population;
    long long step;
};

/* Lane i of the batch is absolute realization lane0 + i; it is simulated whatever its index,
 * and recorded/validated only inside [first, end). */
__global__ void mg_meso_run_kernel(mg_meso_model mm, mg_obs_cfg oc, double *state, long long ld,
                                   long long nlanes, long long lane0, long long first,
                                   long long end, long long t0, long long t1, float *tr_AN,
                                   float *tr_Abar, long long trace_k, long long trace_T,
                                   mg_cuda_fault *fault)
{
    long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= nlanes)
        return;
    long long r = lane0 + i;
    mg_lanes st;
    st.base = state + i;
    st.ld = ld;
    double n[MG_POP_MAX], nbar[MG_POP_MAX];
    long long k = r - first;
    int64_t trace_row = (r < end && k >= 0 && k < trace_k) ? k * mm.P * trace_T : -1;
    if (t0 == 0) {
        mg_meso_init(&mm, st);
        mg_obs_init(&oc, st);
    }
    for (long long t = t0; t < t1; ++t) {
        mg_meso_step(&mm, st, t, (uint32_t)r, n, nbar);
        mg_obs_step(&oc, st, t, n, nbar, tr_AN, tr_Abar, &trace_row);
        if (r >= first && r < end) {
            for (int a = 0; a < mm.P; ++a) {
                if (isnan(nbar[a]) && atomicCAS((unsigned long long *)&fault->realization,
                                                (unsigned long long)-1LL,
                                                (unsigned long long)r) ==
                                          (unsigned long long)-1LL) {
                    fault->population = a;
                    fault->step = t;
                }
            }
        }
    }
}

/* Each lane's statistics record, contiguous per lane (rec_i + i n_i, rec_d + i n_d). */
__global__ void mg_record_kernel(mg_obs_cfg oc, double *state, long long ld, long long nlanes,
                                 int64_t *rec_i, double *rec_d)
{
    long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= nlanes)
        return;
    mg_lanes st;
    st.base = state + i;
    st.ld = ld;
    mg_obs_record(&oc, st, 0, rec_i + i * oc.L.n_i, rec_d + i * oc.L.n_d);
}

/* Group sums: one thread per (group, field), lanes in realization order, valid lanes only,
 * starting from 0 exactly as the CPU's gd[k] += rd[k] does. */
__global__ void mg_group_sum_kernel(mg_stats_layout L, long long nlanes, long long lane0,
                                    long long first, long long end, long long n_groups,
                                    const int64_t *rec_i, const double *rec_d, int64_t *gi,
                                    double *gd)
{
    long long tid = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    long long nf = L.n_i + L.n_d;
    if (tid >= n_groups * nf)
        return;
    long long g = tid / nf, f = tid % nf;
    int64_t li = 0;
    double ld = 0.0;
    for (long long j = 0; j < MG_RGROUP; ++j) {
        long long i = g * MG_RGROUP + j, r = lane0 + i;
        if (i >= nlanes || r < first || r >= end)
            continue;
        if (f < L.n_i)
            li += rec_i[i * L.n_i + f];
        else
            ld += rec_d[i * L.n_d + (f - L.n_i)];
    }
    if (f < L.n_i)
        gi[g * L.n_i + f] = li;
    else
        gd[g * L.n_d + (f - L.n_i)] = ld;
}

/* Periodograms of lane i from the transformed segments X[a][lane][N/2 + 1] (interleaved
 * complex, k = 0 .. N/2; k = 0 is the dropped mean). */
__global__ void mg_spectrum_kernel(mg_obs_cfg oc, double *state, long long ld, long long nlanes,
                                   const double *X)
{
    long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= nlanes)
        return;
    mg_lanes st;
    st.base = state + i;
    st.ld = ld;
    const long long H = oc.L.cfg.psd_n / 2 + 1;
    const double *re = X + 2 * (i * H + 1);
    mg_obs_add_spectrum(&oc, st, 0, re, re + 1, 2 * nlanes * H, 2);
}

/* cuFFT, loaded on first use (the toolkit's libcufft is large and need not be staged). */
typedef cufftResult (*plan_many_fn)(cufftHandle *, int, int *, int *, int, int, int *, int, int,
                                    cufftType, int);
typedef cufftResult (*exec_d2z_fn)(cufftHandle, cufftDoubleReal *, cufftDoubleComplex *);
typedef cufftResult (*destroy_fn)(cufftHandle);
static struct {
    int tried;
    void *lib;
    plan_many_fn plan_many;
    exec_d2z_fn exec_d2z;
    destroy_fn destroy;
} g_cufft;

static int cufft_load(void)
{
    if (g_cufft.tried)
        return g_cufft.lib != NULL;
    g_cufft.tried = 1;
    const char *names[] = {"libcufft.so.12", "libcufft.so.11", "libcufft.so",
                           "/usr/local/cuda/lib64/libcufft.so.12",
                           "/usr/local/cuda/lib64/libcufft.so"};
    for (size_t k = 0; k < sizeof names / sizeof names[0] && !g_cufft.lib; ++k)
        g_cufft.lib = dlopen(names[k], RTLD_NOW | RTLD_LOCAL);
    if (!g_cufft.lib)
        return 0;
    g_cufft.plan_many = (plan_many_fn)dlsym(g_cufft.lib, "cufftPlanMany");
    g_cufft.exec_d2z = (exec_d2z_fn)dlsym(g_cufft.lib, "cufftExecD2Z");
    g_cufft.destroy = (destroy_fn)dlsym(g_cufft.lib, "cufftDestroy");
    if (!g_cufft.plan_many || !g_cufft.exec_d2z || !g_cufft.destroy) {
        dlclose(g_cufft.lib);
        g_cufft.lib = NULL;
    }
    return g_cufft.lib != NULL;
}

/* Transform the completed segments of every lane into d_X [P][nlanes][N/2+1] complex:
 * batched cuFFT straight from the state rows (stride = ld), or, without cuFFT, FFTW on the
 * host (slower: the segments cross the bus). */
static int spectra_transform(const mg_job *job, double *d_state, long long nlanes, double *d_X,
                             double *h_buf, mg_err *err)
{
    const mg_obs_cfg *oc = &job->oc;
    const long long N = oc->L.cfg.psd_n, H = N / 2 + 1;
    int rc = MG_OK;
    if (cufft_load()) {
        for (int a = 0; a < oc->P; ++a) {
            cufftHandle plan;
            int n = (int)N, inembed = (int)N, onembed = (int)H;
            if (g_cufft.plan_many(&plan, 1, &n, &inembed, (int)nlanes, 1, &onembed, 1, (int)H,
                                  CUFFT_D2Z, (int)nlanes) != CUFFT_SUCCESS)
                return mg_err_set(err, MG_ECUDA, "cuFFT: cufftPlanMany failed (N = %lld, batch "
                                  "%lld)", N, nlanes);
            double *in = d_state + (long long)(oc->row_seg + a * N) * nlanes;
            cufftDoubleComplex *out = (cufftDoubleComplex *)d_X + (long long)a * nlanes * H;
            cufftResult r = g_cufft.exec_d2z(plan, in, out);
            g_cufft.destroy(plan);
            if (r != CUFFT_SUCCESS)
                return mg_err_set(err, MG_ECUDA, "cuFFT: cufftExecD2Z failed (%d)", (int)r);
        }
        return MG_OK;
    }
    /* host fallback: rows [row_seg, row_seg + P N) of all lanes */
    mg_psd_plan *plan = mg_psd_plan_new(N);
    double *seg = (double *)malloc((size_t)N * sizeof(double));
    double *re = (double *)malloc((size_t)H * sizeof(double));
    double *im = (double *)malloc((size_t)H * sizeof(double));
    double *hx = (double *)malloc((size_t)(oc->P * nlanes * H * 2) * sizeof(double));
    if (!plan || !seg || !re || !im || !hx) {
        rc = mg_err_set(err, MG_ENOMEM, "out of host memory for the spectra");
        goto out;
    }
    MG_CUDA_TRY(cudaMemcpy(h_buf, d_state + (long long)oc->row_seg * nlanes,
                           (size_t)(oc->P * N * nlanes) * sizeof(double),
                           cudaMemcpyDeviceToHost));
    for (int a = 0; a < oc->P; ++a)
        for (long long i = 0; i < nlanes; ++i) {
            for (long long k = 0; k < N; ++k)
                seg[k] = h_buf[(a * N + k) * nlanes + i];
            mg_psd_transform(plan, seg, re, im);
            double *x = hx + 2 * ((a * nlanes + i) * H);
            x[0] = x[1] = 0.0;
            for (long long k = 1; k < H; ++k) {
                x[2 * k] = re[k - 1];
                x[2 * k + 1] = im[k - 1];
            }
        }
    MG_CUDA_TRY(cudaMemcpy(d_X, hx, (size_t)(oc->P * nlanes * H * 2) * sizeof(double),
                           cudaMemcpyHostToDevice));
out:
    mg_psd_plan_free(plan);
    free(seg);
    free(re);
    free(im);
    free(hx);
    return rc;
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

/* Copy n bytes to a new device buffer. */
static cudaError_t to_device(void **dst, const void *src, size_t n)
{
    cudaError_t e = cudaMalloc(dst, n > 0 ? n : 1);
    if (e == cudaSuccess && n > 0)
        e = cudaMemcpy(*dst, src, n, cudaMemcpyHostToDevice);
    return e;
}

extern "C" int mg_cuda_run(mg_job *job, mg_err *err)
{
    int rc = MG_OK;
    const mg_meso_derived *md = &job->md;
    const int P = md->mm.P;
    mg_meso_model dm = md->mm;
    void *d_pop = NULL, *d_kernels = NULL, *d_w = NULL, *d_Es = NULL, *d_F = NULL, *d_D = NULL;
    void *d_if = NULL, *d_ic = NULL, *d_is = NULL, *d_iv = NULL;
    double *d_state = NULL, *d_rec_d = NULL, *d_gd = NULL, *d_X = NULL, *h_seg = NULL;
    int64_t *d_rec_i = NULL, *d_gi = NULL;
    const long long psd_N = job->SL.cfg.psd_n, psd_H = psd_N / 2 + 1;
    float *d_AN = NULL, *d_Abar = NULL;
    mg_cuda_fault *d_fault = NULL;
    const long long first = job->opts.realization_first;
    const long long end = first + job->opts.realization_count;
    size_t trace_n = (size_t)(job->trace_k * P * job->trace_T);
    size_t free_b = 0, total_b = 0;
    long long groups_per_batch, per_lane;

    MG_CUDA_TRY(to_device(&d_pop, md->pop, (size_t)P * sizeof(mg_meso_pop)));
    MG_CUDA_TRY(to_device(&d_kernels, md->kernels, (size_t)md->n_kernels * sizeof(double)));
    MG_CUDA_TRY(to_device(&d_w, md->pair_w, (size_t)P * P * sizeof(double)));
    MG_CUDA_TRY(to_device(&d_Es, md->pair_Es, (size_t)P * P * sizeof(double)));
    MG_CUDA_TRY(to_device(&d_F, md->pair_F, (size_t)P * P * sizeof(double)));
    MG_CUDA_TRY(to_device(&d_D, md->pair_D, (size_t)P * P * sizeof(int)));
    MG_CUDA_TRY(to_device(&d_if, md->inp_first, (size_t)P * sizeof(int)));
    MG_CUDA_TRY(to_device(&d_ic, md->inp_count, (size_t)P * sizeof(int)));
    MG_CUDA_TRY(to_device(&d_is, md->inp_step, (size_t)md->n_inp * sizeof(int64_t)));
    MG_CUDA_TRY(to_device(&d_iv, md->inp_mV, (size_t)md->n_inp * sizeof(double)));
    dm.pop = (const mg_meso_pop *)d_pop;
    dm.kernels = (const double *)d_kernels;
    dm.pair_w = (const double *)d_w;
    dm.pair_Es = (const double *)d_Es;
    dm.pair_F = (const double *)d_F;
    dm.pair_D = (const int *)d_D;
    dm.inp_first = (const int *)d_if;
    dm.inp_count = (const int *)d_ic;
    dm.inp_step = (const int64_t *)d_is;
    dm.inp_mV = (const double *)d_iv;
    MG_CUDA_TRY(cudaMalloc(&d_AN, (trace_n > 0 ? trace_n : 1) * sizeof(float)));
    MG_CUDA_TRY(cudaMalloc(&d_Abar, (trace_n > 0 ? trace_n : 1) * sizeof(float)));
    MG_CUDA_TRY(cudaMemset(d_AN, 0, (trace_n > 0 ? trace_n : 1) * sizeof(float)));
    MG_CUDA_TRY(cudaMemset(d_Abar, 0, (trace_n > 0 ? trace_n : 1) * sizeof(float)));
    MG_CUDA_TRY(cudaMalloc(&d_fault, sizeof(mg_cuda_fault)));

    /* batch: whole reduction groups, as many as fit in 70 % of the free memory (an ensemble
     * larger than the device runs in several batches instead of failing) */
    per_lane = (long long)job->rows * 8 + (job->SL.n_i + job->SL.n_d) * 8 +
               (psd_N > 0 ? (long long)P * psd_H * 16 : 0);
    MG_CUDA_TRY(cudaMemGetInfo(&free_b, &total_b));
    groups_per_batch = (long long)(0.7 * (double)free_b / (double)(per_lane * MG_RGROUP));
    if (job->opts.batch > 0) {
        long long want = (job->opts.batch + MG_RGROUP - 1) / MG_RGROUP;
        if (want < groups_per_batch)
            groups_per_batch = want;
    }
    if (groups_per_batch < 1) {
        rc = mg_err_set(err, MG_ENOMEM, "CUDA: one group of %d realizations needs %.3g MB, "
                        "the device has %.3g MB free", MG_RGROUP,
                        (double)per_lane * MG_RGROUP / 1e6, (double)free_b / 1e6);
        goto out;
    }
    if (groups_per_batch > job->n_groups)
        groups_per_batch = job->n_groups;
    {
        long long lanes_max = groups_per_batch * MG_RGROUP;
        MG_CUDA_TRY(cudaMalloc(&d_state, (size_t)lanes_max * job->rows * sizeof(double)));
        MG_CUDA_TRY(cudaMalloc(&d_rec_i, (size_t)(lanes_max * job->SL.n_i) * sizeof(int64_t)));
        MG_CUDA_TRY(cudaMalloc(&d_rec_d, (size_t)(lanes_max * job->SL.n_d) * sizeof(double)));
        MG_CUDA_TRY(cudaMalloc(&d_gi, (size_t)(groups_per_batch * job->SL.n_i) * sizeof(int64_t)));
        if (psd_N > 0) {
            MG_CUDA_TRY(cudaMalloc(&d_X, (size_t)(P * lanes_max * psd_H) * 2 * sizeof(double)));
            if (!cufft_load()) {
                h_seg = (double *)malloc((size_t)(P * psd_N * lanes_max) * sizeof(double));
                if (!h_seg) {
                    rc = mg_err_set(err, MG_ENOMEM, "out of host memory for the spectra");
                    goto out;
                }
            }
        }
        MG_CUDA_TRY(cudaMalloc(&d_gd, (size_t)(groups_per_batch * job->SL.n_d) * sizeof(double)));
    }
    {
        size_t free_now = 0, total_now = 0;
        MG_CUDA_TRY(cudaMemGetInfo(&free_now, &total_now));
        job->device_bytes = (double)(free_b - free_now) + (double)(trace_n * 2 * sizeof(float));
    }
    for (long long g0 = 0; g0 < job->n_groups; g0 += groups_per_batch) {
        long long ng = job->n_groups - g0 < groups_per_batch ? job->n_groups - g0
                                                             : groups_per_batch;
        long long nlanes = ng * MG_RGROUP;
        long long lane0 = (job->g_first + g0) * MG_RGROUP;
        long long valid = (lane0 + nlanes < end ? lane0 + nlanes : end) -
                          (lane0 > first ? lane0 : first);
        unsigned blocks = (unsigned)((nlanes + MG_CUDA_THREADS - 1) / MG_CUDA_THREADS);
        mg_cuda_fault nofault = {-1, 0, 0};
        MG_CUDA_TRY(cudaMemcpy(d_fault, &nofault, sizeof nofault, cudaMemcpyHostToDevice));
        for (long long t0 = 0, t1; t0 < job->n_steps; t0 = t1) {
            t1 = t0 + MG_CUDA_CHUNK < job->n_steps ? t0 + MG_CUDA_CHUNK : job->n_steps;
            /* end the launch with the step that completes a spectral segment, if one does */
            long long seg_end = -1;
            if (job->oc.psd_L > 0) {
                const long long L = job->oc.psd_L, b0 = job->oc.psd_b0;
                /* segments complete at steps (b0 + m N) L - 1, m >= 1 */
                long long m = (t0 + 1 + L - 1) / L - b0; /* first sample bin ending >= t0 */
                m = m < 1 ? 1 : (m + psd_N - 1) / psd_N;
                for (;; ++m) {
                    long long te = (b0 + m * psd_N) * L - 1;
                    if (te < t0)
                        continue;
                    if (te < t1)
                        seg_end = te;
                    break;
                }
                if (seg_end >= 0)
                    t1 = seg_end + 1;
            }
            mg_meso_run_kernel<<<blocks, MG_CUDA_THREADS>>>(
                dm, job->oc, d_state, nlanes, nlanes, lane0, first, end, t0, t1, d_AN, d_Abar,
                job->trace_k, job->trace_T, d_fault);
            MG_CUDA_TRY(cudaGetLastError());
            MG_CUDA_TRY(cudaDeviceSynchronize());
            mg_cuda_fault f;
            MG_CUDA_TRY(cudaMemcpy(&f, d_fault, sizeof f, cudaMemcpyDeviceToHost));
            if (f.realization >= 0) {
                rc = mg_err_set(err, MG_ENUM,
                                "NaN in the expected spike count of realization %lld, population "
                                "%d (%s), step %lld: check Delta_V and the input (a very small "
                                "Delta_V or a huge input overflows the hazard)",
                                f.realization, f.population, job->model->pops[f.population].name,
                                f.step);
                goto out;
            }
            if (seg_end >= 0) {
                rc = spectra_transform(job, d_state, nlanes, d_X, h_seg, err);
                if (rc != MG_OK)
                    goto out;
                mg_spectrum_kernel<<<blocks, MG_CUDA_THREADS>>>(job->oc, d_state, nlanes, nlanes,
                                                                d_X);
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
        mg_record_kernel<<<blocks, MG_CUDA_THREADS>>>(job->oc, d_state, nlanes, nlanes, d_rec_i,
                                                      d_rec_d);
        MG_CUDA_TRY(cudaGetLastError());
        long long nsum = ng * (job->SL.n_i + job->SL.n_d);
        mg_group_sum_kernel<<<(unsigned)((nsum + 127) / 128), 128>>>(
            job->SL, nlanes, lane0, first, end, ng, d_rec_i, d_rec_d, d_gi, d_gd);
        MG_CUDA_TRY(cudaGetLastError());
        MG_CUDA_TRY(cudaMemcpy(job->group_i + g0 * job->SL.n_i, d_gi,
                               (size_t)(ng * job->SL.n_i) * sizeof(long long),
                               cudaMemcpyDeviceToHost));
        MG_CUDA_TRY(cudaMemcpy(job->group_d + g0 * job->SL.n_d, d_gd,
                               (size_t)(ng * job->SL.n_d) * sizeof(double),
                               cudaMemcpyDeviceToHost));
        job->real_done += valid;
    }
    if (trace_n > 0) {
        MG_CUDA_TRY(cudaMemcpy(job->trace_AN, d_AN, trace_n * sizeof(float),
                               cudaMemcpyDeviceToHost));
        MG_CUDA_TRY(cudaMemcpy(job->trace_Abar, d_Abar, trace_n * sizeof(float),
                               cudaMemcpyDeviceToHost));
    }
out:
    cudaFree(d_pop);
    cudaFree(d_kernels);
    cudaFree(d_w);
    cudaFree(d_Es);
    cudaFree(d_F);
    cudaFree(d_D);
    cudaFree(d_if);
    cudaFree(d_ic);
    cudaFree(d_is);
    cudaFree(d_iv);
    cudaFree(d_state);
    cudaFree(d_rec_i);
    cudaFree(d_rec_d);
    cudaFree(d_gi);
    cudaFree(d_gd);
    cudaFree(d_AN);
    cudaFree(d_Abar);
    cudaFree(d_fault);
    cudaFree(d_X);
    free(h_seg);
    return rc;
}
