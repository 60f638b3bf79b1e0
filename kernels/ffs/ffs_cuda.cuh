/* kernels/ffs/ffs_cuda.cuh: what the two FFS CUDA engines (kernels/ffs/ffs_meso_cuda.cu,
 * ffs_micro_cuda.cu) share besides the slots' trials call of src/ffs/ffs_slots.h (the list, its
 * counters, the host side of a call): the device's memory for that call, and the end of a
 * launch. A slot is a thread (meso) or a block (micro). */
#ifndef MESOGIF_KERNELS_FFS_CUDA_CUH
#define MESOGIF_KERNELS_FFS_CUDA_CUH

#include <cuda_runtime.h>

#include "ffs/ffs_slots.h"

/* The slots' memory on the device (cudaMalloc, cudaMemcpy, cudaMemset, cudaFree). */
extern const mg_ffs_slot_mem mg_ffs_cu_mem;

/* After a kernel launch: its launch error, then the wait for its end. MG_OK or MG_ECUDA. */
int mg_ffs_cu_launched(mg_err *err);

#endif /* MESOGIF_KERNELS_FFS_CUDA_CUH */
