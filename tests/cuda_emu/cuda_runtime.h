/* tests/cuda_emu/cuda_runtime.h: a host emulation of the part of the CUDA runtime that the meso
 * backend (kernels/backend_cuda.cu, cuda_common.cuh, cuda_models.cuh) uses, so that its driver
 * and its per-thread kernels run on a machine without a GPU (tests/test_cuda_emu.c).
 *
 * The .cu file is compiled by the host C++ compiler with -Itests/cuda_emu in front, so that this
 * file stands for <cuda_runtime.h> and cufft.h beside it for <cufft.h>. It defines __CUDACC__
 * and __CUDA_ARCH__: src/core is compiled as nvcc compiles it for the device (one lane per call,
 * the device's Philox and atomics), not as the host's vectorized twin. Device memory is host
 * memory (filled with 0xff bytes when allocated, NaN as doubles, as a stand-in for the device's
 * undefined contents); a launch runs its blocks and threads one after another on the calling
 * thread (MG_LAUNCH, kernels/cuda_check.cuh). That is exact for kernels whose threads do not
 * wait for each other; warp-synchronous code (__syncwarp, shuffles) stops the process with a
 * message, so the warp kernels and the micro backend (block barriers, CUB) are not emulated.
 * What only a device can check: real concurrency, the memory model, the hardware's arithmetic
 * (nvcc -fmad=false keeps it IEEE, as here), launch limits. */
#ifndef MESOGIF_TESTS_CUDA_EMU_RUNTIME_H
#define MESOGIF_TESTS_CUDA_EMU_RUNTIME_H

#define MG_CUDA_EMU 1
#define __CUDACC__ 1
#define __CUDA_ARCH__ 900
#define CUDART_VERSION 13000
#define R123_ASSERT(x) assert(x) /* Random123's device assert is a PTX trap */

#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __launch_bounds__(...)
#define __restrict__ __restrict

struct dim3 {
    unsigned x, y, z;
    dim3(unsigned x_ = 1, unsigned y_ = 1, unsigned z_ = 1) : x(x_), y(y_), z(z_) {}
};
inline thread_local dim3 threadIdx(0, 0, 0), blockIdx(0, 0, 0), blockDim, gridDim;

/* ---- launches: every block, every thread, in order --------------------------------------- */
template <class... P> struct mg_emu_kernel {
    void (*fn)(P...);
    dim3 grid, block;
    template <class... A> void operator()(A &&...args) const
    {
        gridDim = grid;
        blockDim = block;
        for (unsigned b = 0; b < grid.x; ++b)
            for (unsigned t = 0; t < block.x; ++t) {
                blockIdx = dim3(b, 0, 0);
                threadIdx = dim3(t, 0, 0);
                fn(args...); /* the parameters are copies, as a launch's */
            }
    }
};
template <class... P> mg_emu_kernel<P...> mg_emu_launch(void (*fn)(P...), dim3 grid, dim3 block)
{
    mg_emu_kernel<P...> k;
    k.fn = fn;
    k.grid = grid;
    k.block = block;
    return k;
}
#define MG_LAUNCH(kernel, grid, block) mg_emu_launch(kernel, dim3(grid), dim3(block))

/* ---- errors and the device ---------------------------------------------------------------- */
typedef int cudaError_t;
enum { cudaSuccess = 0, cudaErrorMemoryAllocation = 2 };
enum cudaMemcpyKind {
    cudaMemcpyHostToHost,
    cudaMemcpyHostToDevice,
    cudaMemcpyDeviceToHost,
    cudaMemcpyDeviceToDevice
};
struct cudaDeviceProp {
    char name[256];
    int major, minor;
    size_t totalGlobalMem;
};
/* The emulated device's memory (the batch sizing reads it through cudaMemGetInfo). */
#define MG_EMU_DEVICE_BYTES ((size_t)4 << 30)
inline size_t mg_emu_allocated = 0;

static inline cudaError_t cudaGetLastError(void) { return cudaSuccess; }
static inline const char *cudaGetErrorString(cudaError_t e)
{
    return e == cudaErrorMemoryAllocation ? "out of memory (emulated device)" : "emulated error";
}
static inline cudaError_t cudaDeviceSynchronize(void) { return cudaSuccess; }
static inline cudaError_t cudaGetDeviceCount(int *n)
{
    *n = 1;
    return cudaSuccess;
}
static inline cudaError_t cudaGetDeviceProperties(cudaDeviceProp *p, int dev)
{
    memset(p, 0, sizeof *p);
    snprintf(p->name, sizeof p->name, "host emulation");
    p->major = 9;
    p->minor = 0;
    p->totalGlobalMem = MG_EMU_DEVICE_BYTES;
    return cudaSuccess;
}

/* ---- memory: host allocations with their size in front (for cudaMemGetInfo) --------------- */
#define MG_EMU_HEAD 16 /* keeps the 16-byte alignment of malloc */
static inline cudaError_t cudaMalloc(void **p, size_t n)
{
    *p = NULL;
    if (n > MG_EMU_DEVICE_BYTES - mg_emu_allocated)
        return cudaErrorMemoryAllocation;
    unsigned char *m = (unsigned char *)malloc(n + MG_EMU_HEAD);
    if (!m)
        return cudaErrorMemoryAllocation;
    memcpy(m, &n, sizeof n);
    memset(m + MG_EMU_HEAD, 0xff, n);
    mg_emu_allocated += n;
    *p = m + MG_EMU_HEAD;
    return cudaSuccess;
}
template <class T> static inline cudaError_t cudaMalloc(T **p, size_t n)
{
    return cudaMalloc((void **)p, n);
}
static inline cudaError_t cudaFree(void *p)
{
    if (p) {
        unsigned char *m = (unsigned char *)p - MG_EMU_HEAD;
        size_t n;
        memcpy(&n, m, sizeof n);
        mg_emu_allocated -= n;
        free(m);
    }
    return cudaSuccess;
}
static inline cudaError_t cudaMemcpy(void *dst, const void *src, size_t n, cudaMemcpyKind kind)
{
    if (n > 0)
        memcpy(dst, src, n);
    return cudaSuccess;
}
static inline cudaError_t cudaMemset(void *p, int v, size_t n)
{
    memset(p, v, n);
    return cudaSuccess;
}
static inline cudaError_t cudaMemGetInfo(size_t *free_b, size_t *total_b)
{
    *free_b = MG_EMU_DEVICE_BYTES - mg_emu_allocated;
    *total_b = MG_EMU_DEVICE_BYTES;
    return cudaSuccess;
}

/* ---- device functions ------------------------------------------------------------------------
 * Atomics are plain read-modify-writes: the threads of a launch run one after another. */
static inline unsigned long long atomicCAS(unsigned long long *p, unsigned long long cmp,
                                           unsigned long long val)
{
    unsigned long long old = *p;
    if (old == cmp)
        *p = val;
    return old;
}
static inline double atomicAdd(double *p, double v)
{
    double old = *p;
    *p = old + v;
    return old;
}
static inline long long __double_as_longlong(double x)
{
    long long b;
    memcpy(&b, &x, sizeof b);
    return b;
}
static inline double __longlong_as_double(long long b)
{
    double x;
    memcpy(&x, &b, sizeof x);
    return x;
}
static inline unsigned __umulhi(unsigned a, unsigned b)
{
    return (unsigned)(((unsigned long long)a * b) >> 32);
}
static inline unsigned long long __umul64hi(unsigned long long a, unsigned long long b)
{
    return (unsigned long long)(((unsigned __int128)a * b) >> 64);
}

/* Warp-synchronous code cannot run one thread after another. */
[[noreturn]] static inline void mg_emu_no_warps(const char *what)
{
    fprintf(stderr, "tests/cuda_emu: %s needs the threads of a warp to run together; the host "
                    "emulation runs them one after another (use the thread kernel)\n", what);
    abort();
}
static inline void __syncwarp(unsigned mask = 0xffffffffu) { mg_emu_no_warps("__syncwarp"); }
template <class T> static inline T __shfl_sync(unsigned m, T v, int src, int w = 32)
{
    mg_emu_no_warps("__shfl_sync");
}
template <class T> static inline T __shfl_up_sync(unsigned m, T v, unsigned d, int w = 32)
{
    mg_emu_no_warps("__shfl_up_sync");
}
template <class T> static inline T __shfl_xor_sync(unsigned m, T v, int d, int w = 32)
{
    mg_emu_no_warps("__shfl_xor_sync");
}

#endif /* MESOGIF_TESTS_CUDA_EMU_RUNTIME_H */
