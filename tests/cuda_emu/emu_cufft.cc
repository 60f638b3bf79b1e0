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

#include "mesogif/stats.h" /* mg_psd_plan */

namespace {

struct emu_plan {
    int used;
    long long n, istride, idist, ostride, odist, batch;
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
    *p = emu_plan();
}

} // namespace

extern "C" cufftResult cufftPlanMany(cufftHandle *plan, int rank, int *n, int *inembed,
                                     int istride, int idist, int *onembed, int ostride,
                                     int odist, cufftType type, int batch)
{
    if (rank != 1 || type != CUFFT_D2Z)
        return CUFFT_NOT_SUPPORTED;
    if (!plan || !n || n[0] < 1 || batch < 1)
        return CUFFT_INVALID_SIZE;
    const long long h = n[0] / 2 + 1;
    if (!inembed || !onembed) /* cuFFT ignores the strides and distances then: dense rows */
        istride = ostride = 1, idist = n[0], odist = (int)h;
    if (istride < 1 || ostride < 1 || idist < 1 || odist < 1 ||
        (batch > 1 && ((long long)idist < (n[0] - 1LL) * istride + 1 ||
                       (long long)odist < (h - 1) * ostride + 1)))
        return CUFFT_INVALID_VALUE; /* rows that overlap */
    std::lock_guard<std::mutex> hold(plans_lock);
    for (int k = 0; k < max_plans; ++k) {
        if (plans[k].used)
            continue;
        emu_plan *p = &plans[k];
        p->used = 1;
        p->n = n[0];
        p->istride = istride, p->idist = idist, p->ostride = ostride, p->odist = odist;
        p->batch = batch;
        p->fft = mg_psd_plan_alloc(p->n);
        p->row = new double[p->n];
        p->X = new double[2 * h];
        if (!p->fft) {
            release(p);
            return CUFFT_ALLOC_FAILED;
        }
        *plan = k;
        return CUFFT_SUCCESS;
    }
    return CUFFT_ALLOC_FAILED;
}

extern "C" cufftResult cufftExecD2Z(cufftHandle plan, cufftDoubleReal *idata,
                                    cufftDoubleComplex *odata)
{
    std::lock_guard<std::mutex> hold(plans_lock);
    emu_plan *p = find(plan);
    if (!p)
        return CUFFT_INVALID_PLAN;
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
