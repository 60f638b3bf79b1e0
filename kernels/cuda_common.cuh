/* kernels/cuda_common.cuh: host-side helpers of the CUDA backends (the .cu files of kernels/):
 * uploading a buffer, loading cuFFT at run time (the toolkit's libcufft is large and need
 * not be staged; without it the backends transform spectra with FFTW on the host), and the
 * transform of the spectral segments and the group sums of a batch. Everything
 * is static, so each translation unit has its own copy and the names cannot clash with a
 * backend's own.
 * Used by kernels/backend_cuda.cu (meso) and kernels/backend_cuda_micro.cu. */
#ifndef MESOGIF_KERNELS_CUDA_COMMON_CUH
#define MESOGIF_KERNELS_CUDA_COMMON_CUH

#include <cuda_runtime.h>
#include <cufft.h>
#include <dlfcn.h>
#include <stddef.h>
#include <stdlib.h>

#include "ensemble.h"     /* mg_obs_cfg, mg_psd_* */
#include "cuda_check.cuh" /* MG_CUDA_TRY */

/* Copy n bytes to a new device buffer (1 byte allocated for n = 0, so it can be freed). */
static inline cudaError_t mg_cu_to_device(void **dst, const void *src, size_t n)
{
    cudaError_t e = cudaMalloc(dst, n > 0 ? n : 1);
    if (e == cudaSuccess && n > 0)
        e = cudaMemcpy(*dst, src, n, cudaMemcpyHostToDevice);
    return e;
}

/* cuFFT, loaded on first use. */
typedef cufftResult (*mg_cu_plan_many_fn)(cufftHandle *, int, int *, int *, int, int, int *, int,
                                          int, cufftType, int);
typedef cufftResult (*mg_cu_exec_d2z_fn)(cufftHandle, cufftDoubleReal *, cufftDoubleComplex *);
typedef cufftResult (*mg_cu_destroy_fn)(cufftHandle);
typedef struct {
    int tried;
    void *lib;
    mg_cu_plan_many_fn plan_many;
    mg_cu_exec_d2z_fn exec_d2z;
    mg_cu_destroy_fn destroy;
} mg_cu_cufft_lib;

/* The loaded library, or NULL when there is none. */
static inline const mg_cu_cufft_lib *mg_cu_cufft(void)
{
    static mg_cu_cufft_lib g;
    if (g.tried)
        return g.lib ? &g : NULL;
    g.tried = 1;
    const char *names[] = {"libcufft.so.12", "libcufft.so.11", "libcufft.so",
                           "/usr/local/cuda/lib64/libcufft.so.12",
                           "/usr/local/cuda/lib64/libcufft.so"};
    for (size_t k = 0; k < sizeof names / sizeof names[0] && !g.lib; ++k)
        g.lib = dlopen(names[k], RTLD_NOW | RTLD_LOCAL);
    if (!g.lib)
        return NULL;
    g.plan_many = (mg_cu_plan_many_fn)dlsym(g.lib, "cufftPlanMany");
    g.exec_d2z = (mg_cu_exec_d2z_fn)dlsym(g.lib, "cufftExecD2Z");
    g.destroy = (mg_cu_destroy_fn)dlsym(g.lib, "cufftDestroy");
    if (!g.plan_many || !g.exec_d2z || !g.destroy) {
        dlclose(g.lib);
        g.lib = NULL;
    }
    return g.lib ? &g : NULL;
}

/* The last step of a launch over steps [t0, t1): the step that completes a spectral segment,
 * if one falls in the range (segments complete at steps (b0 + m N) L - 1, m >= 1; the launch
 * must end there so the segments can be transformed), else t1 - 1. Sets *seg_end to that step
 * or to -1 and returns the launch's end. */
static inline long long mg_cu_launch_end(const mg_obs_cfg *oc, long long t0, long long t1,
                                         long long *seg_end)
{
    *seg_end = -1;
    if (oc->psd_L <= 0)
        return t1;
    const long long L = oc->psd_L, b0 = oc->psd_b0, N = oc->L.cfg.psd_n;
    long long m = (t0 + 1 + L - 1) / L - b0; /* first sample bin ending >= t0 */
    m = m < 1 ? 1 : (m + N - 1) / N;
    for (;; ++m) {
        long long te = (b0 + m * N) * L - 1;
        if (te < t0)
            continue;
        if (te < t1)
            *seg_end = te;
        break;
    }
    return *seg_end >= 0 ? *seg_end + 1 : t1;
}

/* Group sums of a batch: one thread per (group, field), lanes in realization order, valid lanes
 * only, exactly as the CPU's gd[k] += rd[k] (src/cpu_schedule.c), so the statistics are the
 * CPU's bits. lo == NULL: lanes from `first` count and the sums start at 0; otherwise lanes
 * from lo[g] count and the sums go on from gi/gd (what a checkpoint had already summed). */
static __global__ void mg_cu_group_sum_kernel(mg_stats_layout L, long long nlanes,
                                              long long lane0, long long first, long long end,
                                              long long n_groups, const long long *lo,
                                              const int64_t *rec_i, const double *rec_d,
                                              int64_t *gi, double *gd)
{
    long long tid = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    long long nf = L.n_i + L.n_d;
    if (tid >= n_groups * nf)
        return;
    long long g = tid / nf, f = tid % nf;
    const long long from = lo ? lo[g] : first;
    int64_t li = f < L.n_i && lo ? gi[g * L.n_i + f] : 0;
    double ld = f >= L.n_i && lo ? gd[g * L.n_d + (f - L.n_i)] : 0.0;
    for (long long j = 0; j < MG_RGROUP; ++j) {
        long long i = g * MG_RGROUP + j, r = lane0 + i;
        if (i >= nlanes || r < from || r >= end)
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

/* Transform the completed spectral segments of every lane of a batch into
 * d_X [P][nlanes][N/2 + 1] (interleaved complex, k = 0 .. N/2). Element (row, lane) of the
 * batch's state is d_state[row * row_stride + lane * lane_stride]: the segments of population a
 * are rows oc->row_seg + a N + k. Batched cuFFT straight from the state; without cuFFT, FFTW
 * on the host (slower: the segments cross the bus, in one copy). */
static inline int mg_cu_spectra_transform(const mg_obs_cfg *oc, const double *d_state,
                                          long long lane_stride, long long row_stride,
                                          long long nlanes, double *d_X, mg_err *err)
{
    const long long N = oc->L.cfg.psd_n, H = N / 2 + 1, PN = (long long)oc->P * N;
    int rc = MG_OK;
    const mg_cu_cufft_lib *fft = mg_cu_cufft();
    if (fft) {
        for (int a = 0; a < oc->P; ++a) {
            cufftHandle plan;
            int n = (int)N, inembed = (int)N, onembed = (int)H;
            if (fft->plan_many(&plan, 1, &n, &inembed, (int)row_stride, (int)lane_stride,
                               &onembed, 1, (int)H, CUFFT_D2Z, (int)nlanes) != CUFFT_SUCCESS)
                return mg_err_set(err, MG_ECUDA, "cuFFT: cufftPlanMany failed (N = %lld, batch "
                                  "%lld)", N, nlanes);
            double *in = (double *)d_state + (oc->row_seg + a * N) * row_stride;
            cufftDoubleComplex *out = (cufftDoubleComplex *)d_X + (long long)a * nlanes * H;
            cufftResult r = fft->exec_d2z(plan, in, out);
            fft->destroy(plan);
            if (r != CUFFT_SUCCESS)
                return mg_err_set(err, MG_ECUDA, "cuFFT: cufftExecD2Z failed (%d)", (int)r);
        }
        return MG_OK;
    }
    /* host: hb[(a N + k) hr + i hl]; lanes with contiguous rows (row_stride 1) are copied as
     * one pitched block, lane-major; otherwise the rows of all lanes are one block, row-major */
    const int lane_major = row_stride == 1;
    const long long hr = lane_major ? 1 : nlanes, hl = lane_major ? PN : 1;
    mg_psd_plan *plan = mg_psd_plan_new(N);
    double *seg = (double *)malloc((size_t)N * sizeof(double));
    double *re = (double *)malloc((size_t)H * sizeof(double));
    double *im = (double *)malloc((size_t)H * sizeof(double));
    double *hx = (double *)malloc((size_t)(PN / N * nlanes * H * 2) * sizeof(double));
    double *hb = (double *)malloc((size_t)(PN * nlanes) * sizeof(double));
    if (!plan || !seg || !re || !im || !hx || !hb) {
        rc = mg_err_set(err, MG_ENOMEM, "out of host memory for the spectra");
        goto out;
    }
    if (lane_major)
        MG_CUDA_TRY(cudaMemcpy2D(hb, (size_t)PN * sizeof(double), d_state + oc->row_seg,
                                 (size_t)lane_stride * sizeof(double), (size_t)PN * sizeof(double),
                                 (size_t)nlanes, cudaMemcpyDeviceToHost));
    else
        MG_CUDA_TRY(cudaMemcpy(hb, d_state + (long long)oc->row_seg * row_stride,
                               (size_t)(PN * nlanes) * sizeof(double), cudaMemcpyDeviceToHost));
    for (int a = 0; a < oc->P; ++a)
        for (long long i = 0; i < nlanes; ++i) {
            for (long long k = 0; k < N; ++k)
                seg[k] = hb[(a * N + k) * hr + i * hl];
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
    free(hb);
    return rc;
}

#endif /* MESOGIF_KERNELS_CUDA_COMMON_CUH */
