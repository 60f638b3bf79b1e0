/* tests/test_gpu.c: the CUDA backend against its CPU twin. Needs a CUDA device; where there is
 * none (CI), every test prints "skipped: no CUDA device" and passes.
 *
 * Bitwise identity is required where the design promises it (Philox words, binomial and
 * Poisson draws, exp/log: the same core source and IEEE operations on both sides). For whole
 * meso runs the test reports the fraction of realizations whose spike-count sequences are
 * bitwise identical and requires it to be 1, and the ensemble statistics to be the CPU's
 * (bitwise, but for the spectral sums: cuFFT and FFTW round differently, so those within 1e-9
 * relative, out of the reach of ~1e-15 rounding: no false failures) and to agree within their
 * sampling error (a two-sample z bound of 4.4 per population: false-failure rate 1e-5 each; a
 * redundant check while the fraction is 1, kept to say how far apart a failure is). */
#include "testutil.h"
#include "stim_model.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/binom.h"
#include "core/fmath.h"
#include "core/rng.h"
#include "mesogif/model.h"
#include "mesogif/run.h"
#ifdef MG_HAVE_CUDA
#include "cuda_ckpt_twins.h"
#include "cuda_selftests.h"
#endif

#ifdef MG_HAVE_CUDA
START_TEST(philox_streams_equal_host)
{
    if (!mg_test_have_device(__func__))
        return;
    selftest_philox_streams_equal_host(); /* tests/cuda_selftests.h */
}
END_TEST

START_TEST(binomial_draws_equal_host)
{
    if (!mg_test_have_device(__func__))
        return;
    selftest_binomial_draws_equal_host(); /* tests/cuda_selftests.h */
}
END_TEST

START_TEST(exp_log_equal_host)
{
    if (!mg_test_have_device(__func__))
        return;
    selftest_exp_log_equal_host(); /* tests/cuda_selftests.h */
}
END_TEST

/* R realizations of t_sim of model m at its own dt, all recorded with record bin = dt (so the
 * traces are spike counts), moments in 10-step bins, the first 20 % as warm-up. */
static void twin_opts(mg_run_opts *o, const mg_model *m, int64_t R, double t_sim)
{
    *o = mg_test_opts(MG_BACKEND_AUTO, t_sim, 0.2 * t_sim, R, R);
    if (m->sim.dt > 0)
        o->dt_ms = m->sim.dt;
    o->record_bin_ms = o->dt_ms;
    o->stats_bin_ms = 10 * o->dt_ms;
}

/* Run model on both backends; return the fraction of realizations whose count sequences over
 * the first 1000 steps are identical; *stats_ok: the statistics are the CPU's
 * (mg_test_stats_fft_close: bitwise, the spectral sums within 1e-9). */
static double meso_twins(const char *path, int64_t R, double t_sim, double *z_max, int *stats_ok)
{
    mg_model m;
    mg_err err = {{0}};
    mg_test_model(path, &m);
    mg_run_opts o;
    twin_opts(&o, &m, R, t_sim);
    mg_result cpu, gpu;
    o.backend = MG_BACKEND_CPU;
    ck_assert_msg(mg_run(&m, &o, &cpu, &err) == MG_OK, "cpu: %s", err.msg);
    o.backend = MG_BACKEND_CUDA;
    ck_assert_msg(mg_run(&m, &o, &gpu, &err) == MG_OK, "cuda: %s", err.msg);
    int64_t steps = cpu.trace_T < 1000 ? cpu.trace_T : 1000, same = 0;
    for (int64_t r = 0; r < R; ++r) {
        int ok = 1;
        for (int a = 0; a < cpu.P && ok; ++a) {
            size_t at = ((size_t)r * cpu.P + a) * cpu.trace_T;
            ok = memcmp(cpu.A_N + at, gpu.A_N + at, steps * sizeof(float)) == 0;
        }
        same += ok;
    }
    *z_max = 0;
    for (int a = 0; a < cpu.P; ++a) {
        double d = cpu.stats.mean_A[a] - gpu.stats.mean_A[a];
        double se = hypot(cpu.stats.mean_A_sem[a], gpu.stats.mean_A_sem[a]);
        double z = se > 0 ? fabs(d) / se : (d == 0 ? 0 : INFINITY);
        *z_max = z > *z_max ? z : *z_max;
        printf("%s P%d: mean A cpu %.5f gpu %.5f (+- %.5f), var cpu %.4f gpu %.4f\n",
               path ? path : "B1", a, cpu.stats.mean_A[a], gpu.stats.mean_A[a], se,
               cpu.stats.var_A[a], gpu.stats.var_A[a]);
    }
    double psd_rel;
    *stats_ok = mg_test_stats_fft_close(&cpu, &gpu, &psd_rel);
    printf("%s: %lld of %lld realizations bitwise identical over %lld steps; stats %s (spectral "
           "sums: max relative difference %.2g)\n", path ? path : "B1", (long long)same,
           (long long)R, (long long)steps, *stats_ok ? "equal" : "DIFFER", psd_rel);
    mg_result_free(&cpu);
    mg_result_free(&gpu);
    mg_model_free(&m);
    return (double)same / (double)R;
}

START_TEST(meso_b1_matches_cpu)
{
    if (!mg_test_have_device(__func__))
        return;
    double z;
    int stats_ok;
    double frac = meso_twins(NULL, 1024, 2000, &z, &stats_ok);
    printf("B1 meso: bitwise-identical fraction %.4f, max z %.2f\n", frac, z);
    ck_assert_msg(z < 4.4, "B1 means differ by %.2f standard errors", z);
    /* the same core source and IEEE operations on both sides: every realization is the same
     * (1024 of 1024 on an H200, 2026-11-27) */
    ck_assert_msg(frac == 1.0, "B1: only a fraction %.4f of the realizations is bitwise the CPU's",
                  frac);
    ck_assert_msg(stats_ok, "B1: the statistics are not the CPU's");
}
END_TEST

START_TEST(meso_nest_ei_matches_cpu)
{
    if (!mg_test_have_device(__func__))
        return;
    double z;
    int stats_ok;
    /* 1 s = 2000 steps (dt 0.5 ms): the bitwise check covers the first 1000 */
    double frac = meso_twins("data/models/nest_brunel_ei.json", 1000, 1000, &z, &stats_ok);
    printf("NEST E/I meso: bitwise-identical fraction %.4f, max z %.2f\n", frac, z);
    ck_assert_msg(z < 4.4, "NEST E/I means differ by %.2f standard errors", z);
    ck_assert_msg(frac == 1.0, "NEST E/I: only a fraction %.4f of the realizations is bitwise "
                  "the CPU's", frac);
    ck_assert_msg(stats_ok, "NEST E/I: the statistics are not the CPU's");
}
END_TEST
/* Every meso CUDA kernel (--cuda-kernel thread, warp, warp64) computes the canonical order of
 * src/core/meso.h, so each must give the CPU's results bit for bit: every trace value and every
 * statistic, except that spectra from cuFFT on the device and FFTW on the host agree only to
 * rounding: the spectral sums are required within 1e-9 of the CPU's (mg_test_stats_fft_close)
 * and bitwise between kernels. The runs complete at least two spectral segments (default 1 s
 * each) and end with a partial batch (R = 200 in batches of 96: 96, 96, 8, with a partial
 * reduction group). cuFFT is called in chunks of 26 lanes (MG_CUDA_FFT_CHUNK), so a batch of 96
 * crosses three chunk boundaries and pads the last chunk, as a batch larger than one chunk of
 * MG_CU_FFT_SAMPLES does. */
static void meso_variants_equal(const char *path, int64_t R, double t_sim)
{
    mg_model m;
    mg_err err = {{0}};
    mg_test_model(path, &m);
    mg_run_opts o;
    twin_opts(&o, &m, R, t_sim);
    o.batch = 96;
    const mg_cuda_kernel kernels[] = {MG_CUDA_KERNEL_THREAD, MG_CUDA_KERNEL_WARP,
                                      MG_CUDA_KERNEL_WARP64};
    mg_result cpu, res[3];
    o.backend = MG_BACKEND_CPU;
    ck_assert_msg(mg_run(&m, &o, &cpu, &err) == MG_OK, "cpu: %s", err.msg);
    o.backend = MG_BACKEND_CUDA;
    setenv("MG_CUDA_FFT_CHUNK", "26", 1);
    for (int v = 0; v < 3; ++v) {
        o.cuda_kernel = kernels[v];
        ck_assert_msg(mg_run(&m, &o, &res[v], &err) == MG_OK, "%s: %s",
                      mg_cuda_kernel_name(kernels[v]), err.msg);
    }
    unsetenv("MG_CUDA_FFT_CHUNK");
    ck_assert_msg(cpu.stats.L.F > 0 && cpu.stats.i[cpu.stats.L.i_psd_seg] >= 2 * R,
                  "fewer than two spectral segments per realization (%lld in all)",
                  (long long)cpu.stats.i[cpu.stats.L.i_psd_seg]);
    for (int v = 0; v < 3; ++v) {
        const mg_result *ref = &cpu;
        size_t nt = (size_t)R * ref->P * ref->trace_T;
        int64_t same = 0;
        for (int64_t r = 0; r < R; ++r) {
            size_t at = (size_t)r * ref->P * ref->trace_T;
            same += memcmp(ref->A_N + at, res[v].A_N + at,
                           (size_t)ref->P * ref->trace_T * sizeof(float)) == 0;
        }
        int traces = memcmp(ref->A_N, res[v].A_N, nt * sizeof(float)) == 0 &&
                     memcmp(ref->A_bar, res[v].A_bar, nt * sizeof(float)) == 0;
        double psd_rel;
        int stats_cpu = mg_test_stats_fft_close(ref, &res[v], &psd_rel);
        int stats_d = memcmp(res[0].stats.d, res[v].stats.d,
                             res[0].stats.L.n_d * sizeof(double)) == 0;
        printf("%s: kernel %s vs CPU: %lld of %lld realizations identical, traces %s, "
               "stats %s (spectral sums: max relative difference %.2g); floating stats vs the "
               "thread kernel %s\n", path ? path : "B1", mg_cuda_kernel_name(kernels[v]),
               (long long)same, (long long)R, traces ? "equal" : "DIFFER",
               stats_cpu ? "equal" : "DIFFER", psd_rel, stats_d ? "equal" : "DIFFER");
        ck_assert_msg(traces && stats_cpu && stats_d, "%s: the %s kernel differs",
                      path ? path : "B1", mg_cuda_kernel_name(kernels[v]));
    }
    mg_result_free(&cpu);
    for (int v = 0; v < 3; ++v)
        mg_result_free(&res[v]);
    mg_model_free(&m);
}

START_TEST(meso_every_kernel_equals_cpu)
{
    if (!mg_test_have_device(__func__))
        return;
    meso_variants_equal(NULL, 200, 3000);
    meso_variants_equal("data/models/nest_brunel_ei.json", 200, 3000);
}
END_TEST
/* Time-dependent stimuli (src/model/stimulus.c): the host's per-step input tables are uploaded as
 * they are and read by the same core/input.h lookup, so every kernel sees the CPU's input and
 * must give its results bit for bit (NEST E/I with a sinusoid, a ramp and a frozen OU current). */
START_TEST(meso_stimuli_equal_cpu)
{
    if (!mg_test_have_device(__func__))
        return;
    char path[128];
    mg_test_stim_model("data/models/nest_brunel_ei.json", path, sizeof path);
    meso_variants_equal(path, 200, 3000);
    remove(path);
}
END_TEST
START_TEST(meso_checkpoints_on_the_device_are_bitwise)
{
    if (!mg_test_have_device(__func__))
        return;
    ckpt_twin_scenario(); /* tests/cuda_ckpt_twins.h */
}
END_TEST
#endif /* MG_HAVE_CUDA */

START_TEST(backend_cuda_without_device_is_a_clear_error)
{
    char name[160];
    if (mg_cuda_available(name, sizeof name)) {
        printf("%s: skipped: a CUDA device answers (%s)\n", __func__, name);
        return;
    }
    mg_model m;
    mg_err err = {{0}};
    mg_test_model(NULL, &m);
    for (int level = 0; level < 2; ++level) { /* both levels have a CUDA backend */
        mg_run_opts o = mg_test_opts(MG_BACKEND_CUDA, 100, 0, 1, 1);
        o.level = level == 0 ? MG_LEVEL_MESO : MG_LEVEL_MICRO;
        mg_result res;
        int rc = mg_run(&m, &o, &res, &err);
        ck_assert_int_eq(rc, MG_ENODEV);
        ck_assert_msg(strstr(err.msg, "cuda") != NULL, "message: %s", err.msg);
        /* auto falls back to the CPU */
        o.backend = MG_BACKEND_AUTO;
        ck_assert_int_eq(mg_run(&m, &o, &res, &err), MG_OK);
        ck_assert_str_eq(res.backend_name, "cpu");
        mg_result_free(&res);
    }
    mg_model_free(&m);
}
END_TEST

/* The device tests exist only in a CUDA build; the no-device error test runs everywhere. */
#ifdef MG_HAVE_CUDA
#define GPU_DEVICE_TESTS                                                                     \
    philox_streams_equal_host, binomial_draws_equal_host, exp_log_equal_host,                \
        meso_b1_matches_cpu, meso_nest_ei_matches_cpu, meso_every_kernel_equals_cpu,         \
        meso_stimuli_equal_cpu, meso_checkpoints_on_the_device_are_bitwise,
#else
#define GPU_DEVICE_TESTS
#endif

Suite *gpu_suite(void)
{
#ifndef MG_HAVE_CUDA
    printf("gpu: skipped: no CUDA device (this build has no CUDA backend)\n");
#endif
    const mg_tcase cases[] = {
        MG_TCASE("core", 600, GPU_DEVICE_TESTS backend_cuda_without_device_is_a_clear_error)};
    return mg_test_suite("gpu", cases, 1);
}

MG_TEST_MAIN(gpu_suite)
