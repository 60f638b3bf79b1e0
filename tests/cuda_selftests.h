/* tests/cuda_selftests.h: the device's random numbers, samplers and exp/log against the host's,
 * bit for bit (src/engine/cuda_selftest.h, kernels/selftest.cu), shared by the device suite
 * (tests/test_gpu.c) and the host emulation (tests/test_cuda_emu.c, where the device path of
 * src/core, e.g. Philox's 32-bit multiply-high, runs on the host). Include after testutil.h. */
#ifndef MESOGIF_TESTS_CUDA_SELFTESTS_H
#define MESOGIF_TESTS_CUDA_SELFTESTS_H

#include <math.h>
#include <stdlib.h>

#include "core/binom.h"
#include "core/fmath.h"
#include "core/rng.h"
#include "engine/cuda_selftest.h"

/* 10^6 Philox blocks (4 x 10^6 words) over counters spread across realization, unit, step and
 * draw, including the extremes of each word. */
static void selftest_philox_streams_equal_host(void)
{
    const int64_t n = 1000000;
    uint32_t *buf = malloc(n * 32); /* the counters c0..c3 [n] each, then the device's [n][4] */
    uint32_t *c0 = buf, *c1 = buf + n, *c2 = buf + 2 * n, *c3 = buf + 3 * n, *dev = buf + 4 * n;
    for (int64_t i = 0; i < n; ++i) {
        c0[i] = (uint32_t)(i % 100003) * 42949u;   /* realizations over the 32-bit range */
        c1[i] = (uint32_t)((i / 7) % 1000);         /* units */
        c2[i] = (uint32_t)(i * 2654435761u);        /* steps */
        c3[i] = (uint32_t)(i % 5) | (i % 11 == 0 ? 0xffffff00u : 0u);
    }
    mg_err err = {{0}};
    int rc = mg_cuda_selftest_philox(20261127u, MG_STREAM_MESO_COUNT, c0, c1, c2, c3, n, dev, &err);
    ck_assert_msg(rc == MG_OK, "%s", err.msg);
    int64_t bad = 0;
    for (int64_t i = 0; i < n; ++i) {
        philox4x32_ctr_t h = mg_philox_block(20261127u, MG_STREAM_MESO_COUNT, c0[i], c1[i], c2[i],
                                             c3[i]);
        for (int w = 0; w < 4; ++w)
            bad += h.v[w] != dev[4 * i + w];
    }
    mg_test_none_differ("Philox words", bad, 4 * n);
    free(buf);
}

/* The samplers fed identical (N, p, counter): every branch (inversion, BTRS, symmetry, p = 0,
 * p = 1, Poisson inversion and PTRS). */
static void selftest_binomial_draws_equal_host(void)
{
    const int64_t n = 400000;
    int64_t *N = malloc(n * 8), *dev = malloc(n * 8);
    double *p = malloc(n * 8);
    uint32_t *unit = malloc(n * 4), *step = malloc(n * 4);
    const double ps[] = {0.0, 1e-4, 1e-3, 0.01, 0.0199, 0.0201, 0.05, 0.3, 0.5, 0.7, 0.99, 1.0};
    const int64_t Ns[] = {1, 5, 500, 800, 100000};
    for (int64_t i = 0; i < n; ++i) {
        N[i] = Ns[i % 5];
        p[i] = ps[(i / 5) % 12];
        unit[i] = (uint32_t)(i % 3);
        step[i] = (uint32_t)(i / 17);
    }
    mg_err err = {{0}};
    for (int poisson = 0; poisson <= 1; ++poisson) {
        int rc = mg_cuda_selftest_binom(77u, N, p, unit, step, n, poisson, dev, &err);
        ck_assert_msg(rc == MG_OK, "%s", err.msg);
        int64_t bad = 0;
        for (int64_t i = 0; i < n; ++i) {
            mg_rng g;
            mg_rng_init(&g, 77u, MG_STREAM_TEST, (uint32_t)i, unit[i], step[i]);
            int64_t h = poisson ? mg_poisson_count(&g, p[i] * (double)N[i], N[i])
                                : mg_binom(&g, N[i], p[i]);
            bad += h != dev[i];
        }
        mg_test_none_differ(poisson ? "Poisson draws" : "binomial draws", bad, n);
    }
    MG_TEST_FREE(N, dev, p, unit, step);
}

static void selftest_exp_log_equal_host(void)
{
    const int64_t n = 1000000;
    double *x = malloc(n * 8), *e = malloc(n * 8), *l = malloc(n * 8);
    uint64_t s = 12345;
    for (int64_t i = 0; i < n; ++i) {
        s = s * 6364136223846793005ULL + 1442695040888963407ULL;
        double u = (double)(s >> 11) / 9007199254740992.0;
        x[i] = i % 2 ? -750.0 + 1465.0 * u : exp(-700.0 + 1400.0 * u);
    }
    mg_err err = {{0}};
    ck_assert_msg(mg_cuda_selftest_fmath(x, n, e, l, &err) == MG_OK, "%s", err.msg);
    int64_t bad = 0;
    for (int64_t i = 0; i < n; ++i) {
        double he = mg_exp(x[i]), hl = mg_log(x[i]);
        bad += memcmp(&he, &e[i], 8) != 0 || memcmp(&hl, &l[i], 8) != 0;
    }
    mg_test_none_differ("exp/log results", bad, n);
    MG_TEST_FREE(x, e, l);
}

#endif /* MESOGIF_TESTS_CUDA_SELFTESTS_H */
