/* tests/cuda_emu/cufft.h: the cuFFT types that kernels/cuda_common.cuh names, for the host
 * emulation (cuda_runtime.h beside it). The emulation loads no cuFFT (mg_cu_cufft answers NULL
 * under MG_CUDA_EMU), so the spectra take the backends' FFTW path. */
#ifndef MESOGIF_TESTS_CUDA_EMU_CUFFT_H
#define MESOGIF_TESTS_CUDA_EMU_CUFFT_H

typedef int cufftHandle;
typedef enum { CUFFT_SUCCESS = 0, CUFFT_INVALID_VALUE = 4 } cufftResult;
typedef enum { CUFFT_D2Z = 0x6a } cufftType;
typedef double cufftDoubleReal;
typedef struct {
    double x, y;
} cufftDoubleComplex;

#endif /* MESOGIF_TESTS_CUDA_EMU_CUFFT_H */
