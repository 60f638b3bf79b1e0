/* kernels/ffs/ffs_cuda.cu: the device's memory for the slots' trials call of the FFS CUDA
 * engines (src/ffs/ffs_slots.h; the call itself is src/ffs/ffs_slots.c), and the end of a
 * launch. */
#include <cuda_runtime.h>

#include "ffs_cuda.cuh"
#include "../cuda_check.cuh" /* MG_CUDA_TRY */

static int cu_alloc(void **p, size_t bytes, mg_err *err)
{
    int rc = MG_OK;
    MG_CUDA_TRY(cudaMalloc(p, bytes > 0 ? bytes : 1));
out:
    return rc;
}

static void cu_release(void *p)
{
    cudaFree(p);
}

/* bytes from src to dst in the direction kind */
static int cu_copy(void *dst, const void *src, size_t bytes, cudaMemcpyKind kind, mg_err *err)
{
    int rc = MG_OK;
    if (bytes > 0)
        MG_CUDA_TRY(cudaMemcpy(dst, src, bytes, kind));
out:
    return rc;
}

static int cu_put(void *dst, const void *src, size_t bytes, mg_err *err)
{
    return cu_copy(dst, src, bytes, cudaMemcpyHostToDevice, err);
}

static int cu_get(void *dst, const void *src, size_t bytes, mg_err *err)
{
    return cu_copy(dst, src, bytes, cudaMemcpyDeviceToHost, err);
}

static int cu_fill(void *dst, int byte, size_t bytes, mg_err *err)
{
    int rc = MG_OK;
    if (bytes > 0)
        MG_CUDA_TRY(cudaMemset(dst, byte, bytes));
out:
    return rc;
}

const mg_ffs_slot_mem mg_ffs_cu_mem = {cu_alloc, cu_release, cu_put, cu_get, cu_fill};

int mg_ffs_cu_launched(mg_err *err)
{
    int rc = MG_OK;
    MG_CUDA_TRY(cudaGetLastError());
    MG_CUDA_TRY(cudaDeviceSynchronize());
out:
    return rc;
}
