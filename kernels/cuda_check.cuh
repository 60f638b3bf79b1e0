/* kernels/cuda_check.cuh: the one way CUDA calls are checked in kernels/ (STYLE.md item 11):
 * on failure record file:line and CUDA's error string in err, set rc = MG_ECUDA and jump to the
 * caller's `out:` label (where it frees what it allocated). Needs `int rc` and `mg_err *err`. */
#ifndef MESOGIF_KERNELS_CUDA_CHECK_CUH
#define MESOGIF_KERNELS_CUDA_CHECK_CUH

#include <cuda_runtime.h>
#include "mesogif/error.h"

#define MG_CUDA_TRY(call)                                                                     \
    do {                                                                                      \
        cudaError_t e_ = (call);                                                              \
        if (e_ != cudaSuccess) {                                                              \
            rc = mg_err_set(err, MG_ECUDA, "CUDA: %s at %s:%d: %s", #call, __FILE__, __LINE__, \
                            cudaGetErrorString(e_));                                          \
            goto out;                                                                         \
        }                                                                                     \
    } while (0)

/* A launch, kernel<<<grid, block>>>(args), written MG_LAUNCH(kernel, grid, block)(args) so that
 * the host emulation of tests/cuda_emu/ (which defines MG_LAUNCH first) can run it as a loop. */
#ifndef MG_LAUNCH
#define MG_LAUNCH(kernel, grid, block) kernel<<<grid, block>>>
#endif

#endif /* MESOGIF_KERNELS_CUDA_CHECK_CUH */
