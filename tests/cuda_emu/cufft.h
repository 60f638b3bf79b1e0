/* tests/cuda_emu/cufft.h: the part of cuFFT that kernels/cuda_common.cuh uses, for the host
 * emulation (cuda_runtime.h beside it): batched one-dimensional double real-to-complex
 * transforms with cuFFT's advanced data layout. Implemented on FFTW in emu_cufft.cc; under
 * MG_CUDA_EMU, mg_cu_cufft hands these out in place of the dlopen'd library. */
#ifndef MESOGIF_TESTS_CUDA_EMU_CUFFT_H
#define MESOGIF_TESTS_CUDA_EMU_CUFFT_H

#include <stddef.h>

typedef int cufftHandle;
typedef enum {
    CUFFT_SUCCESS = 0,
    CUFFT_INVALID_PLAN = 1,
    CUFFT_ALLOC_FAILED = 2,
    CUFFT_INVALID_TYPE = 3,
    CUFFT_INVALID_VALUE = 4,
    CUFFT_EXEC_FAILED = 6,
    CUFFT_INVALID_SIZE = 8,
    CUFFT_NO_WORKSPACE = 13,
    CUFFT_NOT_SUPPORTED = 16
} cufftResult;
typedef enum { CUFFT_D2Z = 0x6a } cufftType;
typedef double cufftDoubleReal;
typedef struct {
    double x, y;
} cufftDoubleComplex;

extern "C" {
/* A handle with no plan yet; its work area is allocated automatically unless
 * cufftSetAutoAllocation(plan, 0) says the caller will set one. */
cufftResult cufftCreate(cufftHandle *plan);
cufftResult cufftSetAutoAllocation(cufftHandle plan, int autoAllocate);
/* rank 1 and CUFFT_D2Z only (CUFFT_NOT_SUPPORTED otherwise). Batch b's element j is read at
 * idata[b idist + j istride] and X_k written at odata[b odist + k ostride], k = 0..n/2, as in
 * cuFFT's advanced layout (with inembed and onembed NULL: dense rows, strides 1). *workSize is
 * the work area, a stand-in figure (twice the batch's complex output; MG_EMU_CUFFT_WORK=bytes
 * sets it, for a test of the batch sizing), cudaMalloc'd here under automatic allocation. */
cufftResult cufftMakePlanMany(cufftHandle plan, int rank, int *n, int *inembed, int istride,
                              int idist, int *onembed, int ostride, int odist, cufftType type,
                              int batch, size_t *workSize);
cufftResult cufftSetWorkArea(cufftHandle plan, void *workArea);
/* CUFFT_INVALID_VALUE when idata or odata is not aligned to cufftDoubleComplex (16 bytes). On
 * an H200 (2026-12-04), cufftExecD2Z answered 4 for the layouts whose segment rows began on an
 * odd double and not for the one whose rows did not: this check stands for that.
 * CUFFT_EXEC_FAILED when the batch's rows reach past the cudaMalloc'd block they start in (a
 * device would read or write beyond it; here every make test sees it, not only the sanitizers),
 * or when the work area set is smaller than the plan's; CUFFT_NO_WORKSPACE when none is. */
cufftResult cufftExecD2Z(cufftHandle plan, cufftDoubleReal *idata, cufftDoubleComplex *odata);
cufftResult cufftDestroy(cufftHandle plan);
}

#endif /* MESOGIF_TESTS_CUDA_EMU_CUFFT_H */
