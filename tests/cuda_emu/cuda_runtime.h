/* tests/cuda_emu/cuda_runtime.h: a host emulation of the part of the CUDA runtime that the two
 * backends (kernels/backend_cuda.cu, backend_cuda_micro.cu and their .cuh files) use, so that
 * their drivers and kernels run on a machine without a GPU (tests/test_cuda_emu.c).
 *
 * The .cu file is compiled by the host C++ compiler with -Itests/cuda_emu in front, so that this
 * file stands for <cuda_runtime.h> and cufft.h beside it for <cufft.h>. It defines __CUDACC__
 * and __CUDA_ARCH__: src/core is compiled as nvcc compiles it for the device (one lane per call,
 * the device's Philox and atomics), not as the host's vectorized twin. Device memory is host
 * memory (filled with 0xff bytes when allocated, NaN as doubles, as a stand-in for the device's
 * undefined contents); a launch runs its blocks and threads one after another on the calling
 * thread (MG_LAUNCH, kernels/cuda_check.cuh), the threads of a block as fibers that meet at
 * its barriers, so block barriers, warp shuffles and CUB's block scan (cub/ beside this file)
 * keep their meaning. Atomics are exact (one fiber runs at a time).
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
#include <time.h>

#include <atomic>
#include <map>
#include <mutex>
#include <tuple>
#include <utility>

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

/* ---- launches: the blocks one after another, the threads of a block as fibers -------------
 * Each thread of a block is a fiber on the calling thread (emu_fibers.cc). The scheduler
 * resumes the block's unfinished fibers pass after pass; a fiber runs until it reaches a
 * barrier (__syncthreads, __syncwarp, the two halves of a shuffle or of a block scan) or ends.
 * Every fiber thus passes one barrier per pass: all threads of the block reach a barrier before
 * any goes on, which is what the kernels rely on. A kernel without barriers runs each thread
 * to its end in the first pass. Shared memory (__shared__) is a static local: one block runs at
 * a time.
 * Order: a device runs blocks, and warps between barriers, in no fixed order, and the kernels
 * must give the same bits whatever it is. So each launch runs its blocks, and each pass its
 * fibers, in an order of its own (mg_emu_order: a stride and an offset that change from launch
 * to launch and from pass to pass, reversed every other time; fixed for the process, so a run
 * repeats). Code that read another thread's write without a barrier between them, or summed
 * floating atomics, would change its bits with the order and fail the tests (without the barrier
 * after phase B of kernels/cuda_micro_step.cuh, four tests of test_cuda_emu fail; in index
 * order, none did). MG_EMU_ORDER=linear keeps index order (to debug). */
#define __shared__ static

/* The running fiber waits at a barrier (back to the scheduler); outside a launch, an error.
 * mg_emu_run_block: block blockIdx with n threads, each calling call(body). In emu_fibers.cc. */
void mg_emu_yield(void);
void mg_emu_run_block(unsigned n, const void *body, void (*call)(const void *));
/* The order numbered c of n indices (see above; made in emu_fibers.cc): its k-th index is
 * mg_emu_order_at(&o, k). */
struct mg_emu_order {
    unsigned n, m, off, rev;
};
mg_emu_order mg_emu_order_make(unsigned n, unsigned long long c);
static inline unsigned mg_emu_order_at(const mg_emu_order *o, unsigned k)
{
    const unsigned j = o->rev ? o->n - 1 - k : k;
    return (unsigned)(((unsigned long long)o->m * j + o->off) % o->n);
}
inline thread_local unsigned long long mg_emu_launches = 0;

template <class... P> struct mg_emu_kernel {
    void (*fn)(P...);
    dim3 grid, block;
    template <class... A> void operator()(A... args) const
    {
        struct closure {
            void (*fn)(P...);
            std::tuple<A...> args;
        } c = {fn, std::tuple<A...>(args...)};
        auto call = [](const void *p) {
            const closure *cl = (const closure *)p;
            std::apply([cl](const A &...a) { cl->fn(a...); }, cl->args); /* copies, as a launch */
        };
        gridDim = grid;
        blockDim = block;
        const mg_emu_order order = mg_emu_order_make(grid.x, mg_emu_launches++);
        for (unsigned k = 0; k < grid.x; ++k) {
            blockIdx = dim3(mg_emu_order_at(&order, k), 0, 0);
            mg_emu_run_block(block.x, &c, call);
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
inline std::atomic<size_t> mg_emu_allocated{0}; /* any thread may allocate */
/* The live allocations (start -> bytes), so that an emulated library can check that a buffer it
 * is handed lies within one: a device would read or write past it (a fault, or corruption). */
inline std::map<uintptr_t, size_t> mg_emu_live;
inline std::mutex mg_emu_live_lock;

/* Whether [p, p + bytes) lies within one live cudaMalloc'd block. */
static inline int mg_emu_within_allocation(const void *p, size_t bytes)
{
    std::lock_guard<std::mutex> hold(mg_emu_live_lock);
    auto it = mg_emu_live.upper_bound((uintptr_t)p);
    if (it == mg_emu_live.begin())
        return 0;
    --it;
    return (uintptr_t)p - it->first <= it->second &&
           bytes <= it->second - ((uintptr_t)p - it->first);
}

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
    const size_t before = mg_emu_allocated.fetch_add(n); /* reserve, then check */
    unsigned char *m = NULL;
    if (n > MG_EMU_DEVICE_BYTES || before > MG_EMU_DEVICE_BYTES - n ||
        !(m = (unsigned char *)malloc(n + MG_EMU_HEAD))) {
        mg_emu_allocated.fetch_sub(n);
        return cudaErrorMemoryAllocation;
    }
    memcpy(m, &n, sizeof n);
    memset(m + MG_EMU_HEAD, 0xff, n);
    *p = m + MG_EMU_HEAD;
    std::lock_guard<std::mutex> hold(mg_emu_live_lock);
    mg_emu_live[(uintptr_t)*p] = n;
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
        {
            std::lock_guard<std::mutex> hold(mg_emu_live_lock);
            mg_emu_live.erase((uintptr_t)p);
        }
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
    const size_t used = mg_emu_allocated.load();
    *free_b = used < MG_EMU_DEVICE_BYTES ? MG_EMU_DEVICE_BYTES - used : 0;
    *total_b = MG_EMU_DEVICE_BYTES;
    return cudaSuccess;
}

/* ---- events: host clock (the bandwidth self-test times copies with them) ------------------ */
typedef struct mg_emu_event {
    double t_ms;
} *cudaEvent_t;
static inline cudaError_t cudaEventCreate(cudaEvent_t *e)
{
    *e = (cudaEvent_t)calloc(1, sizeof **e);
    return *e ? cudaSuccess : cudaErrorMemoryAllocation;
}
static inline cudaError_t cudaEventDestroy(cudaEvent_t e)
{
    free(e);
    return cudaSuccess;
}
static inline cudaError_t cudaEventRecord(cudaEvent_t e, int stream = 0)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    e->t_ms = 1e3 * (double)ts.tv_sec + 1e-6 * (double)ts.tv_nsec;
    return cudaSuccess;
}
static inline cudaError_t cudaEventSynchronize(cudaEvent_t e) { return cudaSuccess; }
static inline cudaError_t cudaEventElapsedTime(float *ms, cudaEvent_t a, cudaEvent_t b)
{
    *ms = (float)(b->t_ms - a->t_ms);
    return cudaSuccess;
}

/* ---- device functions ------------------------------------------------------------------------
 * Atomics are plain read-modify-writes: one fiber runs at a time and none yields inside. */
static inline unsigned long long atomicCAS(unsigned long long *p, unsigned long long cmp,
                                           unsigned long long val)
{
    unsigned long long old = *p;
    if (old == cmp)
        *p = val;
    return old;
}
static inline unsigned long long atomicMin(unsigned long long *p, unsigned long long v)
{
    unsigned long long old = *p;
    *p = v < old ? v : old;
    return old;
}
static inline unsigned long long atomicAdd(unsigned long long *p, unsigned long long v)
{
    unsigned long long old = *p;
    *p = old + v;
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

/* ---- barriers and shuffles (fibers: see the launches above) ---------------------------- */
static inline void __syncthreads(void) { mg_emu_yield(); }
static inline void __syncwarp(unsigned mask = 0xffffffffu) { mg_emu_yield(); }

/* A shuffle: every lane of the segment puts its value in its slot, waits, reads its source's
 * slot, waits (so no slot is overwritten before every lane has read). Lanes are threadIdx.x %
 * 32, segments of width w as in CUDA; src < 0: the caller's own value (shfl_up below the
 * segment start). */
inline thread_local unsigned long long mg_emu_slot[1024];
template <class T> static inline T mg_emu_shuffle(T v, int src)
{
    static_assert(sizeof(T) <= sizeof(unsigned long long), "shuffle of a wide type");
    const unsigned me = threadIdx.x;
    memcpy(&mg_emu_slot[me], &v, sizeof v);
    mg_emu_yield();
    T r = v;
    if (src >= 0)
        memcpy(&r, &mg_emu_slot[(me & ~31u) + (unsigned)src], sizeof r);
    mg_emu_yield();
    return r;
}
static inline int mg_emu_seg_start(int w) { return (int)(threadIdx.x & 31u) / w * w; }
template <class T> static inline T __shfl_sync(unsigned m, T v, int src, int w = 32)
{
    return mg_emu_shuffle(v, mg_emu_seg_start(w) + src % w);
}
template <class T> static inline T __shfl_up_sync(unsigned m, T v, unsigned d, int w = 32)
{
    const int lane = (int)(threadIdx.x & 31u), s0 = mg_emu_seg_start(w);
    return mg_emu_shuffle(v, lane - (int)d >= s0 ? lane - (int)d : -1);
}
template <class T> static inline T __shfl_xor_sync(unsigned m, T v, int d, int w = 32)
{
    const int lane = (int)(threadIdx.x & 31u), s0 = mg_emu_seg_start(w);
    const int src = lane ^ d;
    return mg_emu_shuffle(v, src >= s0 && src < s0 + w ? src : lane);
}

#endif /* MESOGIF_TESTS_CUDA_EMU_RUNTIME_H */
