/* tests/test_gpu_micro.c: the micro level's CUDA backend (kernels/backend_cuda_micro.cu) against
 * its CPU twin (src/engine/backend_cpu_micro.c). Needs a CUDA device; where there is none (CI), the
 * device tests print "skipped: no CUDA device" and pass.
 *
 * The design is exact (integer spike counts, the same Philox uniforms, the same core source
 * compiled for both sides, the same summation order), so everything is required bitwise: the
 * spike-count sequence of every realization (the fraction that is identical is reported and
 * must be 1), the recorded spikes, and the ensemble statistics (integer and floating sums),
 * except the spectral sums: the device transforms segments with cuFFT, the host with FFTW, whose
 * roundings differ (~1e-15 relative); those must agree to 1e-9 relative (a wrong segment or a
 * lost periodogram shows as O(1)). B1 (2 x 500, all-to-all: the fast path) and E/I 3(c)
 * (800 + 200, fixed in-degree, per-realization networks), 128 realizations x 2000 steps each:
 * well under a minute on an H100 with 16 cores for the CPU side. Deterministic (fixed seed,
 * exact comparisons): no false failures, except from the 1e-9 spectral tolerance, which FFT
 * rounding (~1e-15) cannot reach. */
#include "testutil.h"
#include "stim_model.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mesogif/model.h"
#include "mesogif/run.h"

/* Run model (NULL: the default B1) at the micro level on both backends with R realizations of
 * `steps` steps, every realization recorded with record bin = dt (traces are spike counts);
 * returns the fraction of realizations whose count sequences over the first 1000 steps are
 * identical, and whether statistics and spikes are bitwise equal. */
static double micro_twins(const char *path, int64_t R, int64_t steps, int *stats_equal,
                          int *spikes_equal)
{
    mg_model m;
    mg_test_model(path, &m);
    mg_run_opts o;
    mg_test_model_opts(&o, &m, MG_LEVEL_MICRO);
    o.realization_count = R;
    o.record_realizations = R;
    o.t_sim_ms = (double)steps * o.dt_ms;
    o.t_warmup_ms = 0.2 * o.t_sim_ms;
    o.record_bin_ms = o.dt_ms;
    o.stats_bin_ms = 10 * o.dt_ms;
    o.psd_df_hz = 10.0; /* segments of 100 ms: several per run, so the spectra are compared */
    o.psd_bin_ms = 5 * o.dt_ms;
    mg_result cpu, gpu;
    mg_err err = {{0}};
    o.backend = MG_BACKEND_CPU;
    ck_assert_msg(mg_run(&m, &o, &cpu, &err) == MG_OK, "cpu: %s", err.msg);
    o.backend = MG_BACKEND_CUDA;
    ck_assert_msg(mg_run(&m, &o, &gpu, &err) == MG_OK, "cuda: %s", err.msg);
    ck_assert_str_eq(gpu.backend_name, "cuda");
    ck_assert_int_eq(cpu.trace_T, gpu.trace_T);
    int64_t T = cpu.trace_T < 1000 ? cpu.trace_T : 1000, same = 0;
    for (int64_t r = 0; r < R; ++r) {
        int ok = 1;
        for (int a = 0; a < cpu.P && ok; ++a) {
            size_t at = ((size_t)r * cpu.P + a) * cpu.trace_T;
            ok = memcmp(cpu.A_N + at, gpu.A_N + at, (size_t)T * sizeof(float)) == 0;
        }
        same += ok;
    }
    double psd_rel;
    *stats_equal = mg_test_stats_fft_close(&cpu, &gpu, &psd_rel);
    ck_assert_int_gt(cpu.stats.L.d_sw_expo, cpu.stats.L.d_psd); /* spectra were computed */
    *spikes_equal = mg_test_same_spikes(&cpu, &gpu);
    for (int a = 0; a < cpu.P; ++a)
        printf("%s micro P%d: mean A cpu %.5f gpu %.5f, var cpu %.4f gpu %.4f, spikes cpu %lld "
               "gpu %lld\n", path ? path : "B1", a, cpu.stats.mean_A[a], gpu.stats.mean_A[a],
               cpu.stats.var_A[a], gpu.stats.var_A[a],
               (long long)(cpu.spikes ? cpu.spikes[a].n : 0),
               (long long)(gpu.spikes ? gpu.spikes[a].n : 0));
    printf("%s micro: %lld of %lld realizations bitwise identical over %lld steps; stats %s "
           "(spectral sums: max relative difference %.2g); spikes bitwise %s; wall cpu %.2f s, "
           "cuda %.2f s\n", path ? path : "B1", (long long)same, (long long)R, (long long)T,
           *stats_equal ? "equal" : "differ", psd_rel, *spikes_equal ? "equal" : "differ",
           cpu.wall_s, gpu.wall_s);
    mg_result_free(&cpu);
    mg_result_free(&gpu);
    mg_model_free(&m);
    return (double)same / (double)R;
}

/* with_stimuli: the model at path with the stimuli of tests/stim_model.h. */
static void check_twins(const char *path, int with_stimuli, const char *name)
{
    int stats_equal, spikes_equal;
    char stim[128];
    if (with_stimuli)
        mg_test_stim_model(path, stim, sizeof stim);
    double frac = micro_twins(with_stimuli ? stim : path, 128, 2000, &stats_equal, &spikes_equal);
    if (with_stimuli)
        remove(stim);
    printf("%s micro: bitwise-identical fraction %.4f\n", name, frac);
    ck_assert_msg(frac == 1.0, "%s micro: only %.4f of the realizations are identical", name,
                  frac);
    ck_assert_msg(stats_equal, "%s micro: statistics differ", name);
    ck_assert_msg(spikes_equal, "%s micro: recorded spikes differ", name);
}

START_TEST(micro_b1_matches_cpu)
{
    if (!mg_test_have_device(__func__))
        return;
    check_twins(NULL, 0, "B1");
}
END_TEST

START_TEST(micro_ei_matches_cpu)
{
    if (!mg_test_have_device(__func__))
        return;
    check_twins("data/models/ei_network.json", 0, "E/I 3(c)");
}
END_TEST

/* Time-dependent stimuli (src/model/stimulus.c): the same per-step input tables on both sides. */
START_TEST(micro_stimuli_match_cpu)
{
    if (!mg_test_have_device(__func__))
        return;
    check_twins("data/models/ei_network.json", 1, "E/I 3(c) with stimuli");
}
END_TEST

/* A batch smaller than the ensemble (several device batches, networks drawn per batch) and a
 * realization range that starts inside a reduction group: the same results as the CPU. */
START_TEST(micro_batches_and_offset_range)
{
    if (!mg_test_have_device(__func__))
        return;
    mg_model m;
    mg_err err = {{0}};
    ck_assert_int_eq(mg_model_load("data/models/ei_network.json", &m, &err), MG_OK);
    mg_run_opts o;
    mg_run_opts_default(&o);
    o.level = MG_LEVEL_MICRO;
    o.dt_ms = m.sim.dt;
    o.realization_first = 37;
    o.realization_count = 70;
    o.record_realizations = 5;
    o.t_sim_ms = 300 * o.dt_ms;
    o.t_warmup_ms = 0;
    o.stats_bin_ms = 10 * o.dt_ms;
    o.psd_df_hz = -1.0;
    o.batch = 32;
    mg_result cpu, gpu;
    o.backend = MG_BACKEND_CPU;
    ck_assert_msg(mg_run(&m, &o, &cpu, &err) == MG_OK, "cpu: %s", err.msg);
    o.backend = MG_BACKEND_CUDA;
    ck_assert_msg(mg_run(&m, &o, &gpu, &err) == MG_OK, "cuda: %s", err.msg);
    double psd_rel;
    int st = mg_test_stats_fft_close(&cpu, &gpu, &psd_rel);
    int tr = memcmp(cpu.A_N, gpu.A_N,
                    (size_t)(cpu.trace_k * cpu.P * cpu.trace_T) * sizeof(float)) == 0;
    int sp = mg_test_same_spikes(&cpu, &gpu);
    printf("E/I micro, realizations 37..106 in batches of 32: stats %s, traces %s, spikes %s\n",
           st ? "equal" : "differ", tr ? "equal" : "differ", sp ? "equal" : "differ");
    ck_assert_msg(st && tr && sp, "batched CUDA run differs from the CPU");
    mg_result_free(&cpu);
    mg_result_free(&gpu);
    mg_model_free(&m);
}
END_TEST

MG_TEST_SUITE(gpu_micro,
              MG_TCASE("core", 300, micro_b1_matches_cpu, micro_ei_matches_cpu,
                       micro_stimuli_match_cpu, micro_batches_and_offset_range))
