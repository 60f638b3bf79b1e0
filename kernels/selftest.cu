/* kernels/selftest.cu: the src/core functions run on the device for bitwise comparison with the
 * host (src/engine/cuda_selftest.h). Used by tests/test_gpu.c and tools/gpu_check.sh. */
#include <cuda_runtime.h>
#include <stdlib.h>

#include "engine/cuda_selftest.h"
#include "cuda_check.cuh" /* MG_CUDA_TRY */
#include "core/binom.h"
#include "core/fmath.h"
#include "core/rng.h"


__global__ void philox_kernel(uint32_t seed, uint32_t stream, const uint32_t *c0,
                              const uint32_t *c1, const uint32_t *c2, const uint32_t *c3,
                              long long n, uint32_t *out)
{
    long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n)
        return;
    philox4x32_ctr_t r = mg_philox_block(seed, stream, c0[i], c1[i], c2[i], c3[i]);
    for (int w = 0; w < 4; ++w)
        out[4 * i + w] = r.v[w];
}

__global__ void binom_kernel(uint32_t seed, const int64_t *N, const double *p,
                             const uint32_t *unit, const uint32_t *step, long long n, int poisson,
                             int64_t *out)
{
    long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n)
        return;
    mg_rng g;
    mg_rng_init(&g, seed, MG_STREAM_TEST, (uint32_t)i, unit[i], step[i]);
    out[i] = poisson ? mg_poisson_count(&g, p[i] * (double)N[i], N[i]) : mg_binom(&g, N[i], p[i]);
}

__global__ void fmath_kernel(const double *x, long long n, double *e, double *l)
{
    long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n)
        return;
    e[i] = mg_exp(x[i]);
    l[i] = mg_log(x[i]);
}

template <typename T> static cudaError_t up(T **d, const T *h, long long n)
{
    cudaError_t e = cudaMalloc((void **)d, (size_t)n * sizeof(T));
    if (e == cudaSuccess)
        e = cudaMemcpy(*d, h, (size_t)n * sizeof(T), cudaMemcpyHostToDevice);
    return e;
}

static unsigned blocks_for(long long n)
{
    return (unsigned)((n + 255) / 256);
}

extern "C" int mg_cuda_selftest_philox(uint32_t seed, uint32_t stream, const uint32_t *c0,
                                       const uint32_t *c1, const uint32_t *c2,
                                       const uint32_t *c3, int64_t n, uint32_t *out,
                                       mg_err *err)
{
    int rc = MG_OK;
    uint32_t *d0 = NULL, *d1 = NULL, *d2 = NULL, *d3 = NULL, *dout = NULL;
    MG_CUDA_TRY(up(&d0, c0, n));
    MG_CUDA_TRY(up(&d1, c1, n));
    MG_CUDA_TRY(up(&d2, c2, n));
    MG_CUDA_TRY(up(&d3, c3, n));
    MG_CUDA_TRY(cudaMalloc((void **)&dout, (size_t)n * 4 * sizeof(uint32_t)));
    MG_LAUNCH(philox_kernel, blocks_for(n), 256)(seed, stream, d0, d1, d2, d3, n, dout);
    MG_CUDA_TRY(cudaGetLastError());
    MG_CUDA_TRY(cudaMemcpy(out, dout, (size_t)n * 4 * sizeof(uint32_t), cudaMemcpyDeviceToHost));
out:
    cudaFree(d0);
    cudaFree(d1);
    cudaFree(d2);
    cudaFree(d3);
    cudaFree(dout);
    return rc;
}

extern "C" int mg_cuda_selftest_binom(uint32_t seed, const int64_t *N, const double *p,
                                      const uint32_t *unit, const uint32_t *step, int64_t n,
                                      int poisson, int64_t *out, mg_err *err)
{
    int rc = MG_OK;
    int64_t *dN = NULL, *dout = NULL;
    double *dp = NULL;
    uint32_t *du = NULL, *ds = NULL;
    MG_CUDA_TRY(up(&dN, N, n));
    MG_CUDA_TRY(up(&dp, p, n));
    MG_CUDA_TRY(up(&du, unit, n));
    MG_CUDA_TRY(up(&ds, step, n));
    MG_CUDA_TRY(cudaMalloc((void **)&dout, (size_t)n * sizeof(int64_t)));
    MG_LAUNCH(binom_kernel, blocks_for(n), 256)(seed, dN, dp, du, ds, n, poisson, dout);
    MG_CUDA_TRY(cudaGetLastError());
    MG_CUDA_TRY(cudaMemcpy(out, dout, (size_t)n * sizeof(int64_t), cudaMemcpyDeviceToHost));
out:
    cudaFree(dN);
    cudaFree(dp);
    cudaFree(du);
    cudaFree(ds);
    cudaFree(dout);
    return rc;
}

extern "C" int mg_cuda_selftest_fmath(const double *x, int64_t n, double *out_exp,
                                      double *out_log, mg_err *err)
{
    int rc = MG_OK;
    double *dx = NULL, *de = NULL, *dl = NULL;
    MG_CUDA_TRY(up(&dx, x, n));
    MG_CUDA_TRY(cudaMalloc((void **)&de, (size_t)n * sizeof(double)));
    MG_CUDA_TRY(cudaMalloc((void **)&dl, (size_t)n * sizeof(double)));
    MG_LAUNCH(fmath_kernel, blocks_for(n), 256)(dx, n, de, dl);
    MG_CUDA_TRY(cudaGetLastError());
    MG_CUDA_TRY(cudaMemcpy(out_exp, de, (size_t)n * sizeof(double), cudaMemcpyDeviceToHost));
    MG_CUDA_TRY(cudaMemcpy(out_log, dl, (size_t)n * sizeof(double), cudaMemcpyDeviceToHost));
out:
    cudaFree(dx);
    cudaFree(de);
    cudaFree(dl);
    return rc;
}

static int cmp_float(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

extern "C" int mg_cuda_bandwidth(double bytes, double *gbps, mg_err *err)
{
    int rc = MG_OK;
    void *a = NULL, *b = NULL;
    cudaEvent_t e0 = NULL, e1 = NULL;
    float ms[10];
    size_t n = (size_t)(bytes / 2);
    MG_CUDA_TRY(cudaMalloc(&a, n));
    MG_CUDA_TRY(cudaMalloc(&b, n));
    MG_CUDA_TRY(cudaMemset(a, 1, n));
    MG_CUDA_TRY(cudaEventCreate(&e0));
    MG_CUDA_TRY(cudaEventCreate(&e1));
    MG_CUDA_TRY(cudaMemcpy(b, a, n, cudaMemcpyDeviceToDevice)); /* warm-up */
    for (int i = 0; i < 10; ++i) {
        MG_CUDA_TRY(cudaEventRecord(e0));
        MG_CUDA_TRY(cudaMemcpy(b, a, n, cudaMemcpyDeviceToDevice));
        MG_CUDA_TRY(cudaEventRecord(e1));
        MG_CUDA_TRY(cudaEventSynchronize(e1));
        MG_CUDA_TRY(cudaEventElapsedTime(&ms[i], e0, e1));
    }
    qsort(ms, 10, sizeof ms[0], cmp_float);
    *gbps = 2.0 * (double)n / (0.5 * (ms[4] + ms[5]) * 1e-3) / 1e9;
out:
    if (e0)
        cudaEventDestroy(e0);
    if (e1)
        cudaEventDestroy(e1);
    cudaFree(a);
    cudaFree(b);
    return rc;
}
