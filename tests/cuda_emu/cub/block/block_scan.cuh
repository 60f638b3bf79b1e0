/* tests/cuda_emu/cub/block/block_scan.cuh: CUB's BlockScan as the kernels use it
 * (ExclusiveSum of one int per thread, with the block's total), for the host emulation of
 * tests/cuda_emu/cuda_runtime.h: every thread puts its value in the shared storage, the block
 * meets at a barrier, each sums the values of the threads before it, and the block meets again
 * (so the storage can be reused). The sums are of integers: exact in any order. */
#ifndef MESOGIF_TESTS_CUDA_EMU_CUB_BLOCK_SCAN_CUH
#define MESOGIF_TESTS_CUDA_EMU_CUB_BLOCK_SCAN_CUH

#include <cuda_runtime.h>

namespace cub {

template <class T, int BLOCK_THREADS> class BlockScan {
  public:
    struct TempStorage {
        T v[BLOCK_THREADS];
    };
    explicit BlockScan(TempStorage &s) : s_(s) {}
    void ExclusiveSum(T in, T &out, T &aggregate)
    {
        const unsigned me = threadIdx.x;
        s_.v[me] = in;
        mg_emu_yield();
        T before = T(), all = T();
        for (unsigned i = 0; i < (unsigned)BLOCK_THREADS; ++i) {
            before += i < me ? s_.v[i] : T();
            all += s_.v[i];
        }
        out = before;
        aggregate = all;
        mg_emu_yield();
    }

  private:
    TempStorage &s_;
};

} // namespace cub

#endif /* MESOGIF_TESTS_CUDA_EMU_CUB_BLOCK_SCAN_CUH */
