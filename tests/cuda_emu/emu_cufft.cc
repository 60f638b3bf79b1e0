/* tests/cuda_emu/emu_cufft.cc: cuFFT's batched double real-to-complex transform for the host
 * emulation (declared in cufft.h beside this file), on the FFTW plan of the CPU backends
 * (mg_psd_plan, src/stats/stats.c): each row is transformed as the CPU transforms a segment, so
 * the emulated device's spectra are the CPU's bits, and what this adds to the test is cuFFT's
 * side of the contract: the plan's layout (strides, distances, batch) read as cuFFT reads it,
 * the output offsets the backends compute, and the alignment cuFFT demands. */
#include "cufft.h"
#include "cuda_runtime.h" /* mg_emu_within_allocation */

#include <mutex>
#include <stdint.h>
#include <stdlib.h>

#include "mesogif/stats.h" /* mg_psd_plan */

namespace {

struct emu_plan {
    int used;    /* a handle from cufftCreate */
    int planned; /* cufftMakePlanMany succeeded */
    int auto_allocate;
    long long n, istride, idist, ostride, odist, batch;
    size_t work_bytes;
    void *work;      /* the work area: cudaMalloc'd here, or the caller's */
    int work_owned;  /* allocated here (automatic allocation) */
    mg_psd_plan *fft;
    double *row; /* one input row made dense */
    double *X;   /* its n/2 + 1 coefficients, interleaved */
};

const int max_plans = 64;
emu_plan plans[max_plans];
std::mutex plans_lock; /* the table, and FFTW's plans (one execution at a time per plan) */

emu_plan *find(cufftHandle h)
{
    return h >= 0 && h < max_plans && plans[h].used ? &plans[h] : nullptr;
}

void release(emu_plan *p)
{
    mg_psd_plan_free(p->fft);
    delete[] p->row;
    delete[] p->X;
    if (p->work_owned)
        cudaFree(p->work);
    *p = emu_plan();
}

/* The stand-in work area of a plan: twice its complex output, or MG_EMU_CUFFT_WORK bytes. */
size_t work_area_bytes(long long h, long long batch)
{
    const char *env = getenv("MG_EMU_CUFFT_WORK");
    if (env && atoll(env) > 0)
        return (size_t)atoll(env);
    return (size_t)(2 * batch * h) * sizeof(cufftDoubleComplex);
}

} // namespace

extern "C" cufftResult cufftCreate(cufftHandle *plan)
{
    std::lock_guard<std::mutex> hold(plans_lock);
    for (int k = 0; k < max_plans; ++k)
        if (!plans[k].used) {
            plans[k] = emu_plan();
            plans[k].used = 1;
            plans[k].auto_allocate = 1;
            *plan = k;
            return CUFFT_SUCCESS;
        }
    return CUFFT_ALLOC_FAILED;
}

extern "C" cufftResult cufftSetAutoAllocation(cufftHandle plan, int autoAllocate)
{
    std::lock_guard<std::mutex> hold(plans_lock);
    emu_plan *p = find(plan);
    if (!p)
        return CUFFT_INVALID_PLAN;
    p->auto_allocate = autoAllocate != 0;
    return CUFFT_SUCCESS;
}

extern "C" cufftResult cufftMakePlanMany(cufftHandle plan, int rank, int *n, int *inembed,
                                         int istride, int idist, int *onembed, int ostride,
                                         int odist, cufftType type, int batch, size_t *workSize)
{
    std::lock_guard<std::mutex> hold(plans_lock);
    emu_plan *p = find(plan);
    if (!p || p->planned)
        return CUFFT_INVALID_PLAN;
    if (rank != 1 || type != CUFFT_D2Z)
        return CUFFT_NOT_SUPPORTED;
    if (!n || n[0] < 1 || batch < 1)
        return CUFFT_INVALID_SIZE;
    const long long h = n[0] / 2 + 1;
    if (!inembed || !onembed) /* cuFFT ignores the strides and distances then: dense rows */
        istride = ostride = 1, idist = n[0], odist = (int)h;
    if (istride < 1 || ostride < 1 || idist < 1 || odist < 1 ||
        (batch > 1 && ((long long)idist < (n[0] - 1LL) * istride + 1 ||
                       (long long)odist < (h - 1) * ostride + 1)))
        return CUFFT_INVALID_VALUE; /* rows that overlap */
    p->n = n[0];
    p->istride = istride, p->idist = idist, p->ostride = ostride, p->odist = odist;
    p->batch = batch;
    p->work_bytes = work_area_bytes(h, batch);
    p->fft = mg_psd_plan_alloc(p->n);
    p->row = new double[p->n];
    p->X = new double[2 * h];
    if (!p->fft)
        return CUFFT_ALLOC_FAILED;
    if (p->auto_allocate) {
        if (cudaMalloc(&p->work, p->work_bytes) != cudaSuccess)
            return CUFFT_ALLOC_FAILED;
        p->work_owned = 1;
    }
    p->planned = 1;
    if (workSize)
        *workSize = p->work_bytes;
    return CUFFT_SUCCESS;
}

extern "C" cufftResult cufftSetWorkArea(cufftHandle plan, void *workArea)
{
    std::lock_guard<std::mutex> hold(plans_lock);
    emu_plan *p = find(plan);
    if (!p)
        return CUFFT_INVALID_PLAN;
    if (p->work_owned) {
        cudaFree(p->work);
        p->work_owned = 0;
    }
    p->work = workArea;
    return CUFFT_SUCCESS;
}

extern "C" cufftResult cufftExecD2Z(cufftHandle plan, cufftDoubleReal *idata,
                                    cufftDoubleComplex *odata)
{
    std::lock_guard<std::mutex> hold(plans_lock);
    emu_plan *p = find(plan);
    if (!p || !p->planned)
        return CUFFT_INVALID_PLAN;
    if (!p->work)
        return CUFFT_NO_WORKSPACE;
    if (!mg_emu_within_allocation(p->work, p->work_bytes))
        return CUFFT_EXEC_FAILED;
    if (!idata || !odata || (uintptr_t)idata % 16 != 0 || (uintptr_t)odata % 16 != 0)
        return CUFFT_INVALID_VALUE;
    const long long h = p->n / 2 + 1;
    const size_t in_bytes = (size_t)((p->batch - 1) * p->idist + (p->n - 1) * p->istride + 1) *
                            sizeof(double),
                 out_bytes = (size_t)((p->batch - 1) * p->odist + (h - 1) * p->ostride + 1) *
                             sizeof(cufftDoubleComplex);
    if (!mg_emu_within_allocation(idata, in_bytes) || !mg_emu_within_allocation(odata, out_bytes))
        return CUFFT_EXEC_FAILED;
    for (long long b = 0; b < p->batch; ++b) {
        const double *in = idata + b * p->idist;
        for (long long j = 0; j < p->n; ++j)
            p->row[j] = in[j * p->istride];
        mg_psd_transform_complex(p->fft, p->row, p->X);
        cufftDoubleComplex *out = odata + b * p->odist;
        for (long long k = 0; k < h; ++k) {
            out[k * p->ostride].x = p->X[2 * k];
            out[k * p->ostride].y = p->X[2 * k + 1];
        }
    }
    return CUFFT_SUCCESS;
}

extern "C" cufftResult cufftDestroy(cufftHandle plan)
{
    std::lock_guard<std::mutex> hold(plans_lock);
    emu_plan *p = find(plan);
    if (!p)
        return CUFFT_INVALID_PLAN;
    release(p);
    return CUFFT_SUCCESS;
}
