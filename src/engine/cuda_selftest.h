/* src/engine/cuda_selftest.h: device-side checks used by tests/test_gpu.c and tools/gpu_check.sh
 * (kernels/selftest.cu). Each runs the named src/core function on the device for n inputs and
 * copies the results back, so a test can compare them bitwise with the host's. Return MG_OK,
 * MG_ENODEV (no CUDA build or device) or MG_ECUDA with the message in err. Internal. */
#ifndef MESOGIF_CUDA_SELFTEST_H
#define MESOGIF_CUDA_SELFTEST_H

#include <stdint.h>
#include "mesogif/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* out[4 i + w] = word w of mg_philox_block(seed, stream, c0[i], c1[i], c2[i], c3[i]). */
int mg_cuda_selftest_philox(uint32_t seed, uint32_t stream, const uint32_t *c0,
                            const uint32_t *c1, const uint32_t *c2, const uint32_t *c3,
                            int64_t n, uint32_t *out, mg_err *err);

/* out[i] = mg_binom(g, N[i], p[i]) with g = mg_rng_init(seed, MG_STREAM_TEST, i, unit[i], step[i]);
 * if poisson, mg_poisson_count(g, p[i] * N[i], N[i]) instead. */
int mg_cuda_selftest_binom(uint32_t seed, const int64_t *N, const double *p,
                           const uint32_t *unit, const uint32_t *step, int64_t n, int poisson,
                           int64_t *out, mg_err *err);

/* out_exp[i] = mg_exp(x[i]), out_log[i] = mg_log(x[i]). */
int mg_cuda_selftest_fmath(const double *x, int64_t n, double *out_exp, double *out_log,
                           mg_err *err);

/* Device-to-device copy bandwidth (GB/s, bytes read + written) over a buffer of `bytes`,
 * median of 10 copies timed with events. */
int mg_cuda_bandwidth(double bytes, double *gbps, mg_err *err);

#ifdef __cplusplus
}
#endif

#endif /* MESOGIF_CUDA_SELFTEST_H */
