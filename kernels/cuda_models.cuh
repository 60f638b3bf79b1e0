/* kernels/cuda_models.cuh: the derived model of either level on the device: its tables copied
 * to device buffers and a copy of the model struct whose pointers name them (the struct is
 * passed to kernels by value). Static, as cuda_common.cuh. Used by the run backends
 * (backend_cuda.cu, backend_cuda_micro.cu) and the FFS CUDA engines (kernels/ffs/). */
#ifndef MESOGIF_KERNELS_CUDA_MODELS_CUH
#define MESOGIF_KERNELS_CUDA_MODELS_CUH

#include <cuda_runtime.h>

#include "engine/meso_derive.h"
#include "engine/micro_derive.h"
#include "cuda_common.cuh" /* mg_cu_to_device */

/* The device buffers of one uploaded model (NULL where none). */
#define MG_CU_MODEL_BUFS 10
typedef struct {
    void *buf[MG_CU_MODEL_BUFS];
} mg_cu_model_bufs;

static inline void mg_cu_model_free(mg_cu_model_bufs *b)
{
    for (int k = 0; k < MG_CU_MODEL_BUFS; ++k) {
        cudaFree(b->buf[k]);
        b->buf[k] = NULL;
    }
}

/* Each table (src, bytes) to its own device buffer b->buf[k]; the first failure, or success.
 * On failure the buffers made so far stay in b (mg_cu_model_free releases them). */
static inline cudaError_t mg_cu_upload_tables(mg_cu_model_bufs *b, int n, const void *const *src,
                                              const size_t *bytes)
{
    for (int k = 0; k < n; ++k) {
        cudaError_t e = mg_cu_to_device(&b->buf[k], src[k], bytes[k]);
        if (e != cudaSuccess)
            return e;
    }
    return cudaSuccess;
}

/* The meso model of md on the device: *dm = md->mm with device pointers (buffers in b). */
static inline cudaError_t mg_cu_meso_upload(const mg_meso_derived *md, mg_meso_model *dm,
                                            mg_cu_model_bufs *b)
{
    const size_t P = (size_t)md->mm.P;
    const size_t n_inp = (size_t)md->n_inp;
    const void *src[10] = {md->pop,    md->kernels,   md->pair_w,    md->pair_Es,  md->pair_F,
                           md->pair_D, md->inp_first, md->inp_count, md->inp_step, md->inp_mV};
    const size_t bytes[10] = {P * sizeof(mg_meso_pop),  (size_t)md->n_kernels * sizeof(double),
                              P * P * sizeof(double),   P * P * sizeof(double),
                              P * P * sizeof(double),   P * P * sizeof(int),
                              P * sizeof(int),          P * sizeof(int),
                              n_inp * sizeof(int64_t),  n_inp * sizeof(double)};
    memset(b, 0, sizeof *b);
    cudaError_t e = mg_cu_upload_tables(b, 10, src, bytes);
    *dm = md->mm;
    dm->pop = (const mg_meso_pop *)b->buf[0];
    dm->kernels = (const double *)b->buf[1];
    dm->pair_w = (const double *)b->buf[2];
    dm->pair_Es = (const double *)b->buf[3];
    dm->pair_F = (const double *)b->buf[4];
    dm->pair_D = (const int *)b->buf[5];
    dm->inp_first = (const int *)b->buf[6];
    dm->inp_count = (const int *)b->buf[7];
    dm->inp_step = (const int64_t *)b->buf[8];
    dm->inp_mV = (const double *)b->buf[9];
    return e;
}

/* The micro model of d on the device: *dm = d->mm with device pointers (buffers in b). */
static inline cudaError_t mg_cu_micro_upload(const mg_micro_derived *d, mg_micro_model *dm,
                                             mg_cu_model_bufs *b)
{
    const mg_micro_model *hm = &d->mm;
    const size_t P = (size_t)hm->P, n_proj = (size_t)hm->n_proj;
    const void *src[7] = {hm->pop,       hm->proj,      hm->in,      hm->inp_first,
                          hm->inp_count, hm->inp_step,  hm->inp_mV};
    const size_t bytes[7] = {P * sizeof(mg_micro_pop),     n_proj * sizeof(mg_micro_proj),
                             n_proj * sizeof(mg_micro_in), P * sizeof(int),
                             P * sizeof(int),              (size_t)d->n_inp * sizeof(int64_t),
                             (size_t)d->n_inp * sizeof(double)};
    memset(b, 0, sizeof *b);
    cudaError_t e = mg_cu_upload_tables(b, 7, src, bytes);
    *dm = *hm;
    dm->pop = (const mg_micro_pop *)b->buf[0];
    dm->proj = (const mg_micro_proj *)b->buf[1];
    dm->in = (const mg_micro_in *)b->buf[2];
    dm->inp_first = (const int *)b->buf[3];
    dm->inp_count = (const int *)b->buf[4];
    dm->inp_step = (const int64_t *)b->buf[5];
    dm->inp_mV = (const double *)b->buf[6];
    return e;
}

#endif /* MESOGIF_KERNELS_CUDA_MODELS_CUH */
