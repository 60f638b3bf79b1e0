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
#include <string.h>

#include "engine/job.h"     /* mg_obs_cfg, mg_psd_* */
#include "cuda_check.cuh" /* MG_CUDA_TRY */

/* The empty fault key of the backends' NaN reports (the smallest key noted wins). */
#define MG_FAULT_NONE (~0ULL)

/* Copy n bytes to a new device buffer (1 byte allocated for n = 0, so it can be freed). */
static inline cudaError_t mg_cu_to_device(void **dst, const void *src, size_t n)
{
    cudaError_t e = cudaMalloc(dst, n > 0 ? n : 1);
    if (e == cudaSuccess && n > 0)
        e = cudaMemcpy(*dst, src, n, cudaMemcpyHostToDevice);
    return e;
}

/* cuFFT, loaded on first use. The plan is made in steps (cufftCreate, then cufftMakePlanMany
 * with automatic allocation off) so that its work area is known before the batch sizing and
 * allocated by the backend, as every other buffer is. */
typedef cufftResult (*mg_cu_create_fn)(cufftHandle *);
typedef cufftResult (*mg_cu_set_auto_fn)(cufftHandle, int);
typedef cufftResult (*mg_cu_make_plan_many_fn)(cufftHandle, int, int *, int *, int, int, int *,
                                               int, int, cufftType, int, size_t *);
typedef cufftResult (*mg_cu_set_work_fn)(cufftHandle, void *);
typedef cufftResult (*mg_cu_exec_d2z_fn)(cufftHandle, cufftDoubleReal *, cufftDoubleComplex *);
typedef cufftResult (*mg_cu_destroy_fn)(cufftHandle);
typedef struct {
    int tried;
    void *lib;
    mg_cu_create_fn create;
    mg_cu_set_auto_fn set_auto_allocation;
    mg_cu_make_plan_many_fn make_plan_many;
    mg_cu_set_work_fn set_work_area;
    mg_cu_exec_d2z_fn exec_d2z;
    mg_cu_destroy_fn destroy;
} mg_cu_cufft_lib;

/* The loaded library, or NULL when there is none. */
static inline const mg_cu_cufft_lib *mg_cu_cufft(void)
{
#ifdef MG_CUDA_EMU
    /* The host emulation's cuFFT (tests/cuda_emu/emu_cufft.cc), unless MG_EMU_CUFFT=0 asks for
     * the FFTW path below; read at every call, so that a test can take either path. */
    static const mg_cu_cufft_lib emu = {1,
                                        (void *)&emu,
                                        cufftCreate,
                                        cufftSetAutoAllocation,
                                        cufftMakePlanMany,
                                        cufftSetWorkArea,
                                        cufftExecD2Z,
                                        cufftDestroy};
    const char *use = getenv("MG_EMU_CUFFT");
    return use && strcmp(use, "0") == 0 ? NULL : &emu;
#else
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
    g.create = (mg_cu_create_fn)dlsym(g.lib, "cufftCreate");
    g.set_auto_allocation = (mg_cu_set_auto_fn)dlsym(g.lib, "cufftSetAutoAllocation");
    g.make_plan_many = (mg_cu_make_plan_many_fn)dlsym(g.lib, "cufftMakePlanMany");
    g.set_work_area = (mg_cu_set_work_fn)dlsym(g.lib, "cufftSetWorkArea");
    g.exec_d2z = (mg_cu_exec_d2z_fn)dlsym(g.lib, "cufftExecD2Z");
    g.destroy = (mg_cu_destroy_fn)dlsym(g.lib, "cufftDestroy");
    if (!g.create || !g.set_auto_allocation || !g.make_plan_many || !g.set_work_area ||
        !g.exec_d2z || !g.destroy) {
        dlclose(g.lib);
        g.lib = NULL;
    }
    return g.lib ? &g : NULL;
#endif
}

/* cuFFT's status in words (the values of cufftResult in the toolkit's cufft.h), for errors a
 * user can act on without the header at hand. */
static inline const char *mg_cu_cufft_status(int r)
{
    switch (r) {
    case 1: return "CUFFT_INVALID_PLAN";
    case 2: return "CUFFT_ALLOC_FAILED: out of device memory";
    case 3: return "CUFFT_INVALID_TYPE";
    case 4: return "CUFFT_INVALID_VALUE: a bad pointer or layout";
    case 5: return "CUFFT_INTERNAL_ERROR";
    case 6: return "CUFFT_EXEC_FAILED";
    case 7: return "CUFFT_SETUP_FAILED";
    case 8: return "CUFFT_INVALID_SIZE";
    case 9: return "CUFFT_UNALIGNED_DATA";
    case 13: return "CUFFT_NO_WORKSPACE: no work area set";
    case 16: return "CUFFT_NOT_SUPPORTED";
    default: return "cufftResult";
    }
}

/* Lane i's rows in a batch whose lanes start lane_stride doubles apart and whose rows are
 * row_stride apart (the meso backend's [row][lane] and the lane-contiguous layouts alike). */
static __device__ inline mg_lanes mg_cu_lane_view(double *state, long long i,
                                                  long long lane_stride, long long row_stride)
{
    mg_lanes st;
    st.base = state + i * lane_stride;
    st.ld = row_stride;
    return st;
}

/* Reduction groups per batch: as many as fit in 70 % of the free device memory (group_bytes
 * each), at most cap (0: no cap) and at most the user's --batch rounded up to whole groups;
 * below 1 when not even one group fits (the caller says so). */
static inline long long mg_cu_groups_per_batch(size_t free_b, double group_bytes,
                                               long long cap, long long batch)
{
    long long g = (long long)(0.7 * (double)free_b / group_bytes);
    if (cap > 0 && cap < g)
        g = cap;
    if (batch > 0) {
        long long want = (batch + MG_RGROUP - 1) / MG_RGROUP;
        if (want < g)
            g = want;
    }
    return g;
}

/* The most lanes a batch can have before its sizing: the run's groups, at most cap (0: no cap)
 * and at most the user's --batch in whole groups (what bounds the spectra's plan). */
static inline long long mg_cu_lanes_at_most(long long n_groups, long long cap, long long batch)
{
    long long g = n_groups;
    if (cap > 0 && cap < g)
        g = cap;
    if (batch > 0 && (batch + MG_RGROUP - 1) / MG_RGROUP < g)
        g = (batch + MG_RGROUP - 1) / MG_RGROUP;
    return g * MG_RGROUP;
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
 * only, exactly as the CPU's gd[k] += rd[k] (src/engine/cpu_schedule.c), so the statistics are the
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

/* A batch's statistics records on the device ([lanes][n_i], [lanes][n_d], written by the
 * backend's record kernel), the sums of its reduction groups ([groups][n_i], [groups][n_d])
 * and their host copy. */
typedef struct {
    int64_t *d_rec_i, *d_gi, *h_gi;
    double *d_rec_d, *d_gd, *h_gd;
} mg_cu_group_bufs;

static inline void mg_cu_group_bufs_free(mg_cu_group_bufs *b)
{
    cudaFree(b->d_rec_i);
    cudaFree(b->d_rec_d);
    cudaFree(b->d_gi);
    cudaFree(b->d_gd);
    free(b->h_gi);
    free(b->h_gd);
    memset(b, 0, sizeof *b);
}

/* Buffers for batches of at most lanes_max lanes in `groups` groups. MG_OK, or MG_ECUDA /
 * MG_ENOMEM with what is allocated so far left for mg_cu_group_bufs_free. */
static inline int mg_cu_group_bufs_alloc(mg_cu_group_bufs *b, const mg_stats_layout *L,
                                         long long lanes_max, long long groups, mg_err *err)
{
    int rc = MG_OK;
    MG_CUDA_TRY(cudaMalloc((void **)&b->d_rec_i, (size_t)(lanes_max * L->n_i) * sizeof(int64_t)));
    MG_CUDA_TRY(cudaMalloc((void **)&b->d_rec_d, (size_t)(lanes_max * L->n_d) * sizeof(double)));
    MG_CUDA_TRY(cudaMalloc((void **)&b->d_gi, (size_t)(groups * L->n_i) * sizeof(int64_t)));
    MG_CUDA_TRY(cudaMalloc((void **)&b->d_gd, (size_t)(groups * L->n_d) * sizeof(double)));
    b->h_gi = (int64_t *)malloc((size_t)(groups * L->n_i + 1) * sizeof(int64_t));
    b->h_gd = (double *)malloc((size_t)(groups * L->n_d + 1) * sizeof(double));
    if (!b->h_gi || !b->h_gd)
        rc = mg_err_set(err, MG_ENOMEM, "out of host memory for the group sums of a batch");
out:
    return rc;
}

/* The batch's records are in b: sum its ng groups (lanes from lane0, groups from the job's
 * group g0; d_lo as in mg_cu_group_sum_kernel) on the device, copy the sums to the host and
 * add the groups, complete, in order to the run's sums (mg_job_group_complete). MG_OK,
 * MG_ECUDA, or the job's failure (a sum that could not be added). */
static inline int mg_cu_groups_complete(mg_job *job, const mg_cu_group_bufs *b, long long g0,
                                        long long ng, long long nlanes, long long lane0,
                                        const long long *d_lo, mg_err *err)
{
    int rc = MG_OK;
    const mg_stats_layout *L = &job->SL;
    const long long first = job->opts.realization_first;
    const long long end = first + job->opts.realization_count;
    const long long nsum = ng * (L->n_i + L->n_d);
    MG_LAUNCH(mg_cu_group_sum_kernel, (unsigned)((nsum + 127) / 128), 128)(
        *L, nlanes, lane0, first, end, ng, d_lo, b->d_rec_i, b->d_rec_d, b->d_gi, b->d_gd);
    MG_CUDA_TRY(cudaGetLastError());
    MG_CUDA_TRY(cudaMemcpy(b->h_gi, b->d_gi, (size_t)(ng * L->n_i) * sizeof(int64_t),
                           cudaMemcpyDeviceToHost));
    MG_CUDA_TRY(cudaMemcpy(b->h_gd, b->d_gd, (size_t)(ng * L->n_d) * sizeof(double),
                           cudaMemcpyDeviceToHost));
    for (long long g = 0; g < ng; ++g)
        mg_job_group_complete(job, g0 + g, b->h_gi + g * L->n_i, b->h_gd + g * L->n_d);
    if (job->fail.failed)
        rc = mg_err_set(err, job->fail.code, "%s", job->fail.msg);
out:
    return rc;
}

/* ---- spectra ----------------------------------------------------------------------------
 * The completed segments of a batch are first gathered from the state (whatever the backend's
 * layout) into one dense buffer seg [P][rows][N] (cudaMalloc'd, each population's block on a
 * 256-byte boundary), then transformed into X [P][rows][N/2 + 1] (interleaved complex,
 * k = 0 .. N/2) by one cuFFT plan made once per run and called once per chunk of lanes.
 * Why dense: cuFFT's real-to-complex transform needs its input aligned to the complex type (16
 * bytes); reading straight from the state, as before, passed rows that start on an odd double
 * whenever the segment rows begin at an odd offset in a realization's contiguous rows (the warp
 * and micro layouts), and cufftExecD2Z answered CUFFT_INVALID_VALUE (4). The dense buffer makes
 * the transform independent of the layout, and planning once removes a plan per segment.
 * Why chunks: a plan's work area grows with its batch (about the size of its data), so a plan
 * over the whole batch could ask for gigabytes; a plan of at most MG_CU_FFT_SAMPLES samples
 * keeps it bounded. A chunk is an even number of lanes, so each one starts on 16 bytes.
 * Why in two steps: the plan is made first (mg_cu_spectra_plan), without its work area, so that
 * cuFFT says how large that area is; the batch sizing sets it and the padding to whole chunks
 * aside (mg_cu_spectra_reserve_bytes), and mg_cu_spectra_alloc then allocates the buffers and
 * the work area for the batch it chose. Nothing is guessed, and the run's device memory
 * (job->device_bytes) includes the work area. */
#define MG_CU_FFT_SAMPLES (1LL << 23)

typedef struct {
    int P;
    long long N, H;
    long long chunk;            /* lanes per cuFFT call (the plan's batch), even */
    long long rows;             /* the batch's most lanes rounded up to whole chunks */
    long long pitch;            /* doubles per population in seg (>= rows N) */
    double *d_seg;              /* [P][pitch] */
    double *d_X;                /* [P][rows][H] complex */
    const mg_cu_cufft_lib *fft; /* cuFFT, or NULL: FFTW on the host */
    int have_plan;
    cufftHandle plan;           /* batch chunk, when cuFFT loaded */
    size_t work_bytes;          /* the plan's work area, as cuFFT states it */
    void *d_work;               /* that area */
} mg_cu_spectra;

/* Lanes per cuFFT call, for segments of N samples and batches of at most lanes_max (a multiple
 * of a reduction group, so even) lanes. The emulation takes 24: less than a group and not a
 * divisor of one, so that every emulated run crosses chunk boundaries and pads a tail.
 * MG_CUDA_FFT_CHUNK=n (lanes, made even) sets it, for the device tests to do the same. */
static inline long long mg_cu_fft_chunk(long long N, long long lanes_max)
{
#ifdef MG_CUDA_EMU
    long long c = 24;
    (void)N;
#else
    long long c = MG_CU_FFT_SAMPLES / N;
#endif
    const char *env = getenv("MG_CUDA_FFT_CHUNK");
    if (env && atoll(env) > 0)
        c = atoll(env);
    c -= c % 2;
    if (c < 2)
        c = 2;
    return c < lanes_max ? c : lanes_max;
}

/* Device bytes per lane of the spectra (segments and transforms), for the batch sizing. */
static inline long long mg_cu_spectra_bytes_per_lane(const mg_obs_cfg *oc)
{
    const long long N = oc->L.cfg.psd_n;
    return N > 0 ? (long long)oc->P * (N + 2 * (N / 2 + 1)) * 8 : 0;
}

static inline void mg_cu_spectra_free(mg_cu_spectra *s)
{
    if (s->have_plan)
        s->fft->destroy(s->plan);
    cudaFree(s->d_seg);
    cudaFree(s->d_X);
    cudaFree(s->d_work);
    memset(s, 0, sizeof *s);
}

/* The first step, before the batch sizing: the chunk for batches of at most lanes_max lanes
 * (the run's lanes, or its --batch, in whole groups) and, when cuFFT loads, the plan without
 * its work area, whose size cuFFT then states. Nothing when the run has no spectra. */
static inline int mg_cu_spectra_plan(mg_cu_spectra *s, const mg_obs_cfg *oc, long long lanes_max,
                                     mg_err *err)
{
    memset(s, 0, sizeof *s);
    if (oc->L.cfg.psd_n <= 0)
        return MG_OK;
    s->P = oc->P;
    s->N = oc->L.cfg.psd_n;
    s->H = s->N / 2 + 1;
    s->chunk = mg_cu_fft_chunk(s->N, lanes_max);
    s->fft = mg_cu_cufft();
    if (!s->fft)
        return MG_OK;
    int n = (int)s->N, inembed = (int)s->N, onembed = (int)s->H;
    cufftResult r = s->fft->create(&s->plan);
    if (r == CUFFT_SUCCESS) {
        s->have_plan = 1;
        r = s->fft->set_auto_allocation(s->plan, 0);
    }
    if (r == CUFFT_SUCCESS)
        r = s->fft->make_plan_many(s->plan, 1, &n, &inembed, 1, (int)s->N, &onembed, 1,
                                   (int)s->H, CUFFT_D2Z, (int)s->chunk, &s->work_bytes);
    if (r != CUFFT_SUCCESS) {
        const long long chunk = s->chunk;
        mg_cu_spectra_free(s);
        return mg_err_set(err, MG_ECUDA, "cuFFT: making the plan failed (%d, %s; N = %lld, "
                          "batch %lld)", (int)r, mg_cu_cufft_status((int)r), (long long)n, chunk);
    }
    return MG_OK;
}

/* Device bytes the spectra need whatever the batch: the padding of the rows to whole chunks
 * (less than one chunk per population) and the plan's work area. */
static inline long long mg_cu_spectra_reserve_bytes(const mg_cu_spectra *s, const mg_obs_cfg *oc)
{
    return s->chunk * mg_cu_spectra_bytes_per_lane(oc) + (long long)s->work_bytes;
}

/* The free device bytes the batch sizing may share out: free_b less the spectra's reserve. */
static inline size_t mg_cu_free_for_batches(size_t free_b, const mg_cu_spectra *s,
                                            const mg_obs_cfg *oc)
{
    const size_t r = (size_t)mg_cu_spectra_reserve_bytes(s, oc);
    return free_b > r ? free_b - r : 0;
}

/* The error when not one reduction group fits (what: "" or " of the micro level"). */
static inline int mg_cu_no_group_fits(mg_err *err, const char *what, double group_bytes,
                                      size_t free_b, const mg_cu_spectra *s, const mg_obs_cfg *oc)
{
    const double kept = (double)mg_cu_spectra_reserve_bytes(s, oc);
    return mg_err_set(err, MG_ENOMEM, "CUDA: one group of %d realizations%s needs %.3g MB; "
                      "batches may use 70 %% of the device's %.3g MB free, after %.3g MB kept "
                      "for the spectra's transforms%s", MG_RGROUP, what, group_bytes / 1e6,
                      (double)free_b / 1e6, kept / 1e6, kept > 0 ? " (--psd-df off: none)" : "");
}

/* The second step, after the sizing: the buffers for batches of at most lanes_max lanes (no
 * more than the plan was made for) and the plan's work area. seg is zeroed once, so the padding
 * lanes a chunk transforms are never uninitialised memory. */
static inline int mg_cu_spectra_alloc(mg_cu_spectra *s, long long lanes_max, mg_err *err)
{
    s->rows = (lanes_max + s->chunk - 1) / s->chunk * s->chunk;
    s->pitch = (s->rows * s->N + 31) / 32 * 32;
    if (cudaMalloc((void **)&s->d_seg, (size_t)(s->P * s->pitch) * sizeof(double)) != cudaSuccess ||
        cudaMalloc((void **)&s->d_X, (size_t)(s->P * s->rows * s->H) * 2 * sizeof(double)) !=
            cudaSuccess ||
        (s->work_bytes > 0 && cudaMalloc(&s->d_work, s->work_bytes) != cudaSuccess) ||
        cudaMemset(s->d_seg, 0, (size_t)(s->P * s->pitch) * sizeof(double)) != cudaSuccess) {
        cudaGetLastError();
        return mg_err_set(err, MG_ECUDA, "out of device memory for the spectra (%lld lanes of "
                          "%d x %lld samples, %.3g MB of cuFFT work area)", lanes_max, s->P, s->N,
                          (double)s->work_bytes / 1e6);
    }
    cufftResult r = CUFFT_SUCCESS;
    if (s->have_plan && s->work_bytes > 0 &&
        (r = s->fft->set_work_area(s->plan, s->d_work)) != CUFFT_SUCCESS)
        return mg_err_set(err, MG_ECUDA, "cuFFT: cufftSetWorkArea failed (%d, %s; %.3g MB)",
                          (int)r, mg_cu_cufft_status((int)r), (double)s->work_bytes / 1e6);
    return MG_OK;
}

/* seg[a][i N + k] = state element (row_seg + a N + k, lane i), for lanes i < nlanes. */
static __global__ void mg_cu_gather_segments_kernel(const double *state, long long lane_stride,
                                                    long long row_stride, long long nlanes,
                                                    long long row_seg, long long N, int P,
                                                    long long pitch, double *seg)
{
    long long idx = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (idx >= (long long)P * nlanes * N)
        return;
    const long long k = idx % N, i = (idx / N) % nlanes, a = idx / (N * nlanes);
    seg[a * pitch + i * N + k] = state[(row_seg + a * N + k) * row_stride + i * lane_stride];
}

/* Transform the completed segments of the nlanes <= lanes_max lanes of a batch into s->d_X.
 * Element (row, lane) of the batch's state is d_state[row * row_stride + lane * lane_stride].
 * Without cuFFT, FFTW on the host (the dense segments cross the bus in one copy). */
static inline int mg_cu_spectra_transform(mg_cu_spectra *s, const mg_obs_cfg *oc,
                                          const double *d_state, long long lane_stride,
                                          long long row_stride, long long nlanes, mg_err *err)
{
    const long long N = s->N, H = s->H, total = (long long)s->P * nlanes * N;
    int rc = MG_OK;
    mg_psd_plan *plan = NULL;
    double *hx = NULL, *hb = NULL;
    MG_LAUNCH(mg_cu_gather_segments_kernel, (unsigned)((total + 255) / 256), 256)(
        d_state, lane_stride, row_stride, nlanes, oc->row_seg, N, s->P, s->pitch, s->d_seg);
    MG_CUDA_TRY(cudaGetLastError());
    if (s->have_plan) {
        /* whole chunks: the lanes of the last one past nlanes are stale, transformed, unused */
        for (int a = 0; a < s->P; ++a)
            for (long long c0 = 0; c0 < nlanes; c0 += s->chunk) {
                cufftResult r = s->fft->exec_d2z(
                    s->plan, s->d_seg + a * s->pitch + c0 * N,
                    (cufftDoubleComplex *)s->d_X + (a * s->rows + c0) * H);
                if (r != CUFFT_SUCCESS) {
                    rc = mg_err_set(err, MG_ECUDA, "cuFFT: cufftExecD2Z failed (%d, %s)",
                                    (int)r, mg_cu_cufft_status((int)r));
                    goto out;
                }
            }
        goto out;
    }
    plan = mg_psd_plan_alloc(N);
    hx = (double *)malloc((size_t)(s->P * s->rows * H * 2) * sizeof(double));
    hb = (double *)malloc((size_t)(s->P * s->pitch) * sizeof(double));
    if (!plan || !hx || !hb) {
        rc = mg_err_set(err, MG_ENOMEM, "out of host memory for the spectra");
        goto out;
    }
    MG_CUDA_TRY(cudaMemcpy(hb, s->d_seg, (size_t)(s->P * s->pitch) * sizeof(double),
                           cudaMemcpyDeviceToHost));
    for (int a = 0; a < s->P; ++a)
        for (long long i = 0; i < nlanes; ++i)
            mg_psd_transform_complex(plan, hb + a * s->pitch + i * N,
                                     hx + 2 * ((a * s->rows + i) * H));
    MG_CUDA_TRY(cudaMemcpy(s->d_X, hx, (size_t)(s->P * s->rows * H * 2) * sizeof(double),
                           cudaMemcpyHostToDevice));
out:
    mg_psd_plan_free(plan);
    free(hx);
    free(hb);
    return rc;
}

#endif /* MESOGIF_KERNELS_CUDA_COMMON_CUH */
