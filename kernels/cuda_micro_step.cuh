/* kernels/cuda_micro_step.cuh: one step of the micro level for the realization of a CUDA block
 * of T threads, the decomposition of src/core/micro.h ("The step decomposed over the T threads
 * of a CUDA block"), phases A to D: delivery, the per-population values on thread 0, the neurons
 * in rounds of one Philox block per thread with each thread's spikes placed in the spike list by
 * a block prefix sum (CUB's BlockScan), so that the list is in neuron order as on the host, and
 * the step's count on one thread per population (in different warps where there are enough).
 * __syncthreads separates the phases. Used by kernels/backend_cuda_micro.cu (`run`) and
 * kernels/ffs/ffs_micro_cuda.cu (the FFS trials); tests/test_micro_split.c runs the same core
 * calls serially on the host against mg_micro_step. */
#ifndef MESOGIF_KERNELS_CUDA_MICRO_STEP_CUH
#define MESOGIF_KERNELS_CUDA_MICRO_STEP_CUH

#include <cub/block/block_scan.cuh>

#include "core/micro.h"

/* Step t of realization `real` (its rows st, its buffers buf, isi: sum N doubles of scratch
 * for the intervals). Leaves cnt_sh[a] (the spikes of population a; read after the barrier at
 * its end) and n_sh[a] (written by thread (a * MG_MICRO_WARP) % T; the caller's barrier comes
 * before anyone reads it). Every thread of the block calls it. */
template <int T>
static __device__ inline void mg_cu_micro_step(const mg_micro_model *mm, mg_lanes st,
                                               const mg_micro_buf *buf, int64_t t, uint32_t real,
                                               double *isi,
                                               typename cub::BlockScan<int, T>::TempStorage &tmp,
                                               long long *cnt_sh, double *n_sh)
{
    const int tid = threadIdx.x, P = mm->P;
    /* A: spikes arrive */
    mg_micro_part_deliver(mm, st, buf, t, 1, tid, T);
    __syncthreads();
    /* B: per-population values */
    if (tid == 0)
        for (int a = 0; a < P; ++a)
            mg_micro_update_pre(mm, a, st, t, real);
    __syncthreads();
    /* C: neurons, in rounds of one Philox block per thread; lists in neuron order */
    long long isi_off = 0;
    for (int a = 0; a < P; ++a) {
        const long long nb = mg_micro_blocks(&mm->pop[a]);
        long long cnt = 0;
        for (long long b0 = 0; b0 < nb; b0 += T) {
            mg_micro_sink sk;
            mg_micro_part_neurons(mm, a, st, buf, t, real, b0 + tid, &sk);
            int off, total;
            cub::BlockScan<int, T>(tmp).ExclusiveSum(sk.n[0], off, total);
            mg_micro_sink_flush(mm, a, buf, t, 0, &sk, cnt + off, isi + isi_off);
            cnt += total;
            __syncthreads(); /* tmp is reused */
        }
        if (tid == 0)
            cnt_sh[a] = cnt;
        isi_off += mm->pop[a].N;
    }
    __syncthreads();
    /* D: the step's count and intervals, one thread per population */
    isi_off = 0;
    for (int a = 0; a < P; ++a) {
        if (tid == (a * MG_MICRO_WARP) % T)
            mg_micro_finish(mm, a, st, t, 0, cnt_sh[a], isi + isi_off, &n_sh[a]);
        isi_off += mm->pop[a].N;
    }
}

#endif /* MESOGIF_KERNELS_CUDA_MICRO_STEP_CUH */
