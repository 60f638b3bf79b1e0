/* tests/test_cuda_emu.c: the CUDA code of kernels/ runs on the host through the emulated
 * CUDA runtime of tests/cuda_emu/ (launches run block by block, a block's threads as fibers;
 * device memory is host memory), against the CPU backends, bit for bit. This binary is linked
 * with kernels/ compiled by the host C++ compiler (Makefile: EMU_OBJ) in place of nvcc's
 * objects, so mg_run's CUDA backend is the emulation and mg_cuda_available names it.
 *
 * What it checks on every machine: the drivers (batches, lane starts, a shard's realization
 * range, the group sums in realization order, spectral segments gathered and transformed through
 * cuFFT's interface (tests/cuda_emu/emu_cufft.cc: cuFFT's layout and alignment rules, FFTW's
 * arithmetic) and through the backends' FFTW path, checkpoints parked and resumed across
 * backends, recorded spikes, networks, the fault notes of both levels) and every kernel's
 * arithmetic (src/core compiled as for the device: one lane per call, the device's Philox
 * path), the warp kernels and the micro block included (their threads are fibers that meet at
 * barriers and shuffles). What it cannot: cuFFT's own arithmetic, true concurrency and the
 * device itself; tests/test_gpu.c and test_gpu_micro.c check those on a GPU. Needs a build with
 * the CUDA backend (nvcc found); otherwise every test says it is skipped. */
#include "testutil.h"
#include "stim_model.h"

#include <hdf5.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "mesogif/model.h"
#include "mesogif/run.h"

#ifdef MG_HAVE_CUDA
#include "cuda_ckpt_twins.h"
#include "cuda_selftests.h"

/* The device this binary answers with is the emulation, never a GPU. */
static void assert_emulated(void)
{
    char name[160];
    ck_assert_msg(mg_cuda_available(name, sizeof name), "no emulated device: %s", name);
    ck_assert_msg(strstr(name, "host emulation") != NULL, "device %s is not the emulation",
                  name);
}

/* One comparison: model at path (NULL: B1), level, CUDA kernel (meso), R realizations from 37
 * (a shard that starts mid-group), the first 5 recorded, t_sim ms. */
typedef struct {
    const char *path;
    mg_level level;
    mg_cuda_kernel kernel;
    int64_t R;
    double t_sim;
    int64_t batch;                 /* realizations per batch (whole reduction groups) */
    int want_segments;             /* the run must complete two spectral segments */
    mg_connectivity connectivity;  /* micro */
    double psd_df_hz;              /* spectral resolution (segments of 1 / df); 0: default */
} emu_case;

/* The case on the CPU and on the emulated device: statistics (spectra included), traces and
 * recorded spikes must be the same bits. */
static void emu_equals_cpu(const emu_case *c)
{
    mg_model m;
    mg_err err = {{0}};
    const char *name = c->path ? c->path : "B1";
    mg_test_model(c->path, &m);
    mg_run_opts o;
    mg_test_model_opts(&o, &m, c->level);
    mg_test_span(&o, c->t_sim, 0.2 * c->t_sim, c->R, 5);
    o.realization_first = 37;
    o.record_bin_ms = o.dt_ms;
    o.stats_bin_ms = 10 * o.dt_ms;
    o.batch = c->batch;
    o.threads = 2;
    o.cuda_kernel = c->kernel;
    o.connectivity = c->connectivity;
    if (c->psd_df_hz > 0)
        o.psd_df_hz = c->psd_df_hz;
    mg_result cpu, emu;
    o.backend = MG_BACKEND_CPU;
    ck_assert_msg(mg_run(&m, &o, &cpu, &err) == MG_OK, "cpu: %s", err.msg);
    o.backend = MG_BACKEND_CUDA;
    ck_assert_msg(mg_run(&m, &o, &emu, &err) == MG_OK, "emulated cuda: %s", err.msg);
    ck_assert_str_eq(emu.backend_name, "cuda");
    int64_t segs = cpu.stats.L.F > 0 ? cpu.stats.i[cpu.stats.L.i_psd_seg] : 0;
    printf("%s %s%s%s: realizations 37..%lld in batches of %lld, %lld spectral segments, "
           "%lld spikes recorded: emulated cuda vs cpu\n", name,
           c->level == MG_LEVEL_MICRO ? "micro" : "meso, kernel ",
           c->level == MG_LEVEL_MICRO ? "" : mg_cuda_kernel_name(c->kernel),
           c->connectivity == MG_CONN_SHARED ? ", shared network" : "",
           (long long)(36 + c->R), (long long)c->batch, (long long)segs,
           (long long)(cpu.spikes ? cpu.spikes[0].n : 0));
    fflush(stdout); /* before an assertion ends a forked test */
    if (c->want_segments)
        ck_assert_msg(segs >= 2 * c->R, "fewer than two spectral segments per realization (%lld)",
                      (long long)segs);
    ck_assert_int_eq(emu.trace_k, cpu.trace_k);
    mg_test_same_run(&cpu, &emu, cpu.trace_k, name);
    ck_assert_msg(mg_test_same_spikes(&cpu, &emu), "%s: recorded spikes differ", name);
    mg_test_neighbours_differ(&emu);
    MG_TEST_RESULTS_FREE(&cpu, &emu);
    mg_model_free(&m);
}

/* The device path of src/core (Philox with the device's multiply-high, the samplers, exp and
 * log as nvcc compiles them) gives the host path's bits: tests/cuda_selftests.h. */
START_TEST(emulated_device_arithmetic_equals_host)
{
    assert_emulated();
    selftest_philox_streams_equal_host();
    selftest_binomial_draws_equal_host();
    selftest_exp_log_equal_host();
}
END_TEST

START_TEST(emulated_b1_equals_cpu)
{
    assert_emulated();
    const emu_case c = {NULL, MG_LEVEL_MESO, MG_CUDA_KERNEL_THREAD, 150, 2500, 64, 1, 0, 0};
    emu_equals_cpu(&c);
}
END_TEST

/* The eight-lane kernels (warp, warp64): shuffles and __syncwarp emulated by fibers; their
 * layout (a realization's rows contiguous) through the gather, record and spectrum kernels. */
START_TEST(emulated_warp_kernels_equal_cpu)
{
    assert_emulated();
    const mg_cuda_kernel k[] = {MG_CUDA_KERNEL_WARP, MG_CUDA_KERNEL_WARP64};
    for (int v = 0; v < 2; ++v) {
        const emu_case c = {NULL, MG_LEVEL_MESO, k[v], 40, 700, 32, 1, 0, 4.0};
        emu_equals_cpu(&c);
    }
}
END_TEST

/* NEST E/I with every kind of stimulus (tests/stim_model.h), the independent OU current
 * included: the input tables uploaded by kernels/cuda_models.cuh and read by the device's lookup
 * must give the CPU's input, at both levels. */
START_TEST(emulated_stimuli_equal_cpu)
{
    assert_emulated();
    char path[128];
    mg_test_stim_model("data/models/nest_brunel_ei.json", path, sizeof path);
    const emu_case meso = {path, MG_LEVEL_MESO, MG_CUDA_KERNEL_THREAD, 70, 600, 64, 0, 0, 0};
    const emu_case micro = {path, MG_LEVEL_MICRO, MG_CUDA_KERNEL_AUTO, 3, 300, 32, 0, 0, 0};
    emu_equals_cpu(&meso);
    emu_equals_cpu(&micro);
    remove(path);
}
END_TEST

/* The micro backend (kernels/backend_cuda_micro.cu): one block of 128 fibers per realization,
 * block barriers and the block scan. B1 (all-to-all), and NEST E/I (p = 0.2) with networks
 * drawn per realization on the host batch by batch, and with one shared network. */
START_TEST(emulated_micro_equals_cpu)
{
    assert_emulated();
    const char *ei = "data/models/nest_brunel_ei.json";
    const emu_case c[] = {
        {NULL, MG_LEVEL_MICRO, MG_CUDA_KERNEL_AUTO, 8, 700, 32, 1, MG_CONN_PER_REALIZATION, 4.0},
        {ei, MG_LEVEL_MICRO, MG_CUDA_KERNEL_AUTO, 28, 400, 32, 1, MG_CONN_PER_REALIZATION, 8.0},
        {ei, MG_LEVEL_MICRO, MG_CUDA_KERNEL_AUTO, 4, 200, 32, 0, MG_CONN_SHARED, 0}};
    for (size_t k = 0; k < sizeof c / sizeof c[0]; ++k)
        emu_equals_cpu(&c[k]);
}
END_TEST

START_TEST(emulated_checkpoints_are_bitwise)
{
    assert_emulated();
    ckpt_twin_scenario(); /* tests/cuda_ckpt_twins.h */
}
END_TEST

/* Open reduction groups in a checkpoint file (groups with some records summed and not all):
 * what a resume must go on from (group sums so far, first unsummed realization). */
static long long open_groups(const char *path)
{
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    ck_assert_msg(f >= 0, "cannot open checkpoint %s", path);
    long long n = 0;
    if (H5Lexists(f, "/group_g", H5P_DEFAULT) > 0) {
        hid_t d = H5Dopen(f, "/group_g", H5P_DEFAULT);
        hid_t sp = H5Dget_space(d);
        n = (long long)H5Sget_simple_extent_npoints(sp);
        H5Sclose(sp);
        H5Dclose(d);
    }
    H5Fclose(f);
    return n;
}

typedef struct {
    volatile int *flag;
    double after_s;
} stop_timer;

static void *stop_later(void *arg)
{
    const stop_timer *st = arg;
    struct timespec ts = {(time_t)st->after_s, (long)(fmod(st->after_s, 1.0) * 1e9)};
    nanosleep(&ts, NULL);
    *st->flag = 1;
    return NULL;
}

/* A CPU run stopped part-way (by a timer, so its reduction groups are partly summed: blocks of 8
 * realizations on one thread, 4 blocks per group) and resumed on the emulated device must give
 * the uninterrupted run's bits: the device's group sums go on from the checkpoint's, from each
 * group's first unsummed realization. The micro CUDA backend takes no parked state: it runs
 * the unfinished realizations again from step 0, which must give the same bits, recorded
 * spikes included. Where the stop falls is timing; the bits may not depend on it. Up to 8
 * stops are tried until one leaves a group open (nearly always the first). B1, R realizations
 * of t_sim ms, 4 recorded. */
static void resume_mid_group(mg_level level, int64_t R, double t_sim)
{
    mg_model m;
    mg_test_model(NULL, &m);
    mg_run_opts o = mg_test_opts(MG_BACKEND_CPU, t_sim, t_sim / 6, R, 4);
    o.level = level;
    o.threads = 1;
    o.seed = 5;
    o.psd_df_hz = -1.0; /* spectra: FFTW on both sides here, but not across real backends */
    char ck[64];
    snprintf(ck, sizeof ck, "/tmp/mg_test_cuda_emu_%d.ckpt", (int)getpid());
    mg_result ref, res;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    mg_test_run(&m, &o, &ref);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    const double wall = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
    long long open = 0;
    for (int attempt = 0; attempt < 8 && open == 0; ++attempt) {
        volatile int stop = 0;
        stop_timer st = {&stop, wall * (0.2 + 0.08 * attempt)};
        pthread_t th;
        ck_assert_int_eq(pthread_create(&th, NULL, stop_later, &st), 0);
        o.backend = MG_BACKEND_CPU;
        o.checkpoint_path = ck;
        o.cancel = &stop;
        mg_err err = {{0}};
        int rc = mg_run(&m, &o, &res, &err);
        pthread_join(th, NULL);
        o.cancel = NULL;
        if (rc == MG_OK) { /* finished before the timer: try an earlier stop */
            mg_result_free(&res);
            continue;
        }
        ck_assert_msg(rc == MG_ESTOPPED, "cpu run: %d: %s", rc, err.msg);
        open = open_groups(ck);
        o.backend = MG_BACKEND_CUDA;
        o.resume_path = ck;
        mg_test_run(&m, &o, &res);
        o.resume_path = NULL;
        o.checkpoint_path = NULL;
        char what[112];
        snprintf(what, sizeof what, "%s: cpu stopped at %.2f s with %lld open groups, resumed "
                 "on emulated cuda", level == MG_LEVEL_MICRO ? "micro" : "meso", st.after_s,
                 open);
        ckpt_twin_same(&ref, &res, what);
        ck_assert_msg(mg_test_same_spikes(&ref, &res), "%s: recorded spikes differ", what);
        mg_result_free(&res);
    }
    if (open == 0)
        printf("note: no stop left a group open; the mid-group resume was not exercised\n");
    unlink(ck);
    mg_result_free(&ref);
    mg_model_free(&m);
}

START_TEST(emulated_resume_of_a_cpu_checkpoint_mid_group)
{
    assert_emulated();
    resume_mid_group(MG_LEVEL_MESO, 96, 3000);
    resume_mid_group(MG_LEVEL_MICRO, 64, 1000);
}
END_TEST

/* B1 whose first population receives a NaN input from t = 200 ms on (as tests/test_faults.c;
 * the parser would refuse it), R realizations from 3, on the CPU (one thread) and on the
 * emulated device: both stop with MG_ENUM; the messages into e_cpu, e_emu. */
static void nan_input_run(mg_level level, int64_t R, double t_sim, mg_err *e_cpu, mg_err *e_emu)
{
    mg_model m;
    mg_test_model(NULL, &m);
    mg_pop *p = &m.pops[0];
    p->n_steps = 1;
    p->step_times = malloc(sizeof(double));
    p->step_amps = malloc(sizeof(double));
    p->step_times[0] = 200.0;
    p->step_amps[0] = NAN;
    mg_run_opts o;
    mg_test_model_opts(&o, &m, level);
    mg_test_span(&o, t_sim, 0.0, R, 1);
    o.realization_first = 3;
    o.threads = 1;
    mg_result r_cpu, r_emu;
    o.backend = MG_BACKEND_CPU;
    int rc_cpu = mg_run(&m, &o, &r_cpu, e_cpu);
    o.backend = MG_BACKEND_CUDA;
    int rc_emu = mg_run(&m, &o, &r_emu, e_emu);
    printf("%s cpu: %s\n%s emulated cuda: %s\n", mg_level_name(level), e_cpu->msg,
           mg_level_name(level), e_emu->msg);
    ck_assert_int_eq(rc_cpu, MG_ENUM);
    ck_assert_int_eq(rc_emu, MG_ENUM);
    MG_TEST_RESULTS_FREE(&r_cpu, &r_emu);
    mg_model_free(&m);
}

/* The kernels' fault notes stop the run with the message the CPU backend gives. Every
 * realization meets the NaN at the same step, so the report must name the lowest (3), not the
 * first lane to reach the note: blocks run in changing orders here, as on a device. Meso: the
 * same text (realization, population, step). Micro: the same up to the step (the CPU checks
 * the potentials after each block of its own steps, the device at the end of a launch). */
START_TEST(emulated_fault_is_reported_as_on_the_cpu)
{
    assert_emulated();
    mg_err e_cpu = {{0}}, e_emu = {{0}};
    nan_input_run(MG_LEVEL_MESO, 40, 1000, &e_cpu, &e_emu);
    ck_assert_str_eq(e_emu.msg, e_cpu.msg);
    memset(&e_cpu, 0, sizeof e_cpu);
    memset(&e_emu, 0, sizeof e_emu);
    nan_input_run(MG_LEVEL_MICRO, 6, 400, &e_cpu, &e_emu);
    const char *cut = strstr(e_cpu.msg, ", step ");
    ck_assert_ptr_nonnull(cut);
    ck_assert_msg(strncmp(e_emu.msg, e_cpu.msg, (size_t)(cut - e_cpu.msg)) == 0,
                  "the micro messages differ before the step");
    ck_assert_ptr_nonnull(strstr(e_emu.msg, "realization 3, population 0 (P1), neuron 0,"));
}
END_TEST

/* Without cuFFT (not found at run time) the backends copy the segments to the host and transform
 * them with FFTW: MG_EMU_CUFFT=0 makes the emulation answer as such a machine does. The warp
 * layout (rows of a realization contiguous) and the micro backend: the two whose spectra failed
 * in cuFFT on the H200 before the segments were gathered. The other tests take the cuFFT path. */
START_TEST(emulated_fftw_path_equals_cpu)
{
    assert_emulated();
    setenv("MG_EMU_CUFFT", "0", 1);
    const emu_case c[] = {
        {NULL, MG_LEVEL_MESO, MG_CUDA_KERNEL_WARP, 40, 700, 32, 1, 0, 4.0},
        {NULL, MG_LEVEL_MICRO, MG_CUDA_KERNEL_AUTO, 3, 600, 32, 1, MG_CONN_PER_REALIZATION, 8.0}};
    for (size_t k = 0; k < sizeof c / sizeof c[0]; ++k)
        emu_equals_cpu(&c[k]);
    unsetenv("MG_EMU_CUFFT"); /* for CK_FORK=no */
}
END_TEST
/* The batch sizing sets the spectra's fixed part (padding to whole cuFFT chunks, and the work
 * area cuFFT states for the plan made before the sizing) aside before it shares out the free
 * memory, and the backend allocates that work area itself. The emulated cuFFT states what
 * MG_EMU_CUFFT_WORK says: 5 GB, more than the emulated device (4 GB), so no group fits and both
 * levels say why, and with the spectra off the same runs go; 1 GB, so the runs go and the
 * device memory they report includes it. Deterministic: no false failures. */
START_TEST(emulated_batch_sizing_keeps_the_spectra_reserve)
{
    assert_emulated();
    mg_model m;
    mg_test_model(NULL, &m);
    for (int level = 0; level < 2; ++level) {
        mg_run_opts o = mg_test_opts(MG_BACKEND_CUDA, 20, 0, 32, 0);
        o.level = level == 0 ? MG_LEVEL_MESO : MG_LEVEL_MICRO;
        mg_result res;
        mg_err err = {{0}};
        setenv("MG_EMU_CUFFT_WORK", "5000000000", 1);
        int rc = mg_run(&m, &o, &res, &err);
        ck_assert_msg(rc == MG_ENOMEM, "level %d: rc %d (%s)", level, rc, err.msg);
        ck_assert_msg(strstr(err.msg, "kept for the spectra's transforms (--psd-df off: none)"),
                      "message: %s", err.msg);
        printf("level %s, a 5 GB work area: %s\n", level == 0 ? "meso" : "micro", err.msg);
        setenv("MG_EMU_CUFFT_WORK", "1000000000", 1);
        rc = mg_run(&m, &o, &res, &err);
        ck_assert_msg(rc == MG_OK, "level %d with a 1 GB work area: %s", level, err.msg);
        ck_assert_msg(res.device_bytes >= 1e9, "level %d: device memory %g B", level,
                      res.device_bytes);
        mg_result_free(&res);
        setenv("MG_EMU_CUFFT_WORK", "5000000000", 1);
        o.psd_df_hz = -1.0; /* --psd-df off */
        rc = mg_run(&m, &o, &res, &err);
        ck_assert_msg(rc == MG_OK, "level %d without spectra: %s", level, err.msg);
        mg_result_free(&res);
    }
    unsetenv("MG_EMU_CUFFT_WORK");
    mg_model_free(&m);
}
END_TEST
#define EMU_TESTS                                                                            \
    emulated_batch_sizing_keeps_the_spectra_reserve, emulated_device_arithmetic_equals_host, emulated_b1_equals_cpu,                          \
        emulated_warp_kernels_equal_cpu, emulated_stimuli_equal_cpu, emulated_micro_equals_cpu, \
        emulated_checkpoints_are_bitwise, emulated_resume_of_a_cpu_checkpoint_mid_group,      \
        emulated_fault_is_reported_as_on_the_cpu, emulated_fftw_path_equals_cpu
#else
START_TEST(emulation_needs_the_cuda_backend)
{
    printf("cuda_emu: skipped: this build has no CUDA backend (nvcc was not found)\n");
}
END_TEST
#define EMU_TESTS emulation_needs_the_cuda_backend
#endif /* MG_HAVE_CUDA */

MG_TEST_SUITE(cuda_emu, MG_TCASE("emulated", 600, EMU_TESTS))
