/* tests/cuda_ckpt_twins.h: the checkpoint scenario of the meso CUDA backend, shared by the device
 * suite (tests/test_gpu.c) and the host emulation (tests/test_cuda_emu.c). Include after
 * testutil.h. */
#ifndef MESOGIF_TESTS_CUDA_CKPT_TWINS_H
#define MESOGIF_TESTS_CUDA_CKPT_TWINS_H

#include <stdio.h>
#include <unistd.h>

/* mg_run must return want. */
static void ckpt_twin_run(const mg_model *m, const mg_run_opts *o, mg_result *res, int want)
{
    mg_err err = {{0}};
    int rc = mg_run(m, o, res, &err);
    ck_assert_msg(rc == want, "mg_run (%s): %d, want %d: %s",
                  o->backend == MG_BACKEND_CUDA ? "cuda" : "cpu", rc, want, err.msg);
}

static void ckpt_twin_same(const mg_result *a, const mg_result *b, const char *what)
{
    mg_test_same_stats(a, b, what);
    ck_assert_int_eq(b->trace_k, a->trace_k);
    mg_test_same_traces(a, 0, b, a->trace_k, what);
    printf("checkpoint: %s: statistics and traces bitwise equal\n", what);
}

static volatile int ckpt_twin_stop = 1; /* a cancel flag set from the start: park at once */

/* Checkpoints of the meso CUDA backend (kernels/backend_cuda.cu: lanes parked at the end of a
 * launch with their state and step; batches finished before a checkpoint are not run again;
 * group sums continue from the checkpoint's): every way of interrupting and resuming must give
 * the uninterrupted run's statistics and traces bit for bit. B1, 96 realizations in batches of
 * 32 (3 batches), 3 s, 8 recorded. */
static void ckpt_twin_scenario(void)
{
    mg_model m;
    mg_test_model(NULL, &m);
    mg_run_opts o = mg_test_opts(MG_BACKEND_CUDA, 3000, 500, 96, 8);
    o.batch = 32;
    o.seed = 11;
    char ck[64];
    snprintf(ck, sizeof ck, "/tmp/mg_test_cuda_%d.ckpt", (int)getpid());
    mg_result ref, r1, r2;
    ckpt_twin_run(&m, &o, &ref, MG_OK);

    o.checkpoint_path = ck; /* (b) a checkpoint after every launch, continued in-process */
    o.checkpoint_every_s = 1e-9;
    ckpt_twin_run(&m, &o, &r1, MG_OK);
    ckpt_twin_same(&ref, &r1, "cuda, checkpoint after every launch");
    mg_result_free(&r1);

    o.checkpoint_every_s = 0; /* (c) stopped at the first launch, resumed on the device */
    o.cancel = &ckpt_twin_stop;
    ckpt_twin_run(&m, &o, &r1, MG_ESTOPPED);
    o.cancel = NULL;
    o.resume_path = ck;
    ckpt_twin_run(&m, &o, &r2, MG_OK);
    ckpt_twin_same(&ref, &r2, "cuda stopped, resumed on cuda");
    mg_result_free(&r2);
    o.resume_path = NULL;
    mg_result_free(&ref);

    /* (d) across backends: without spectra (FFTW and cuFFT round differently) the CPU and the
     * device compute the same bits, so a checkpoint of one resumes on the other */
    o.psd_df_hz = -1.0;
    ckpt_twin_run(&m, &o, &ref, MG_OK);
    for (int from = 0; from < 2; ++from) {
        o.backend = from == 0 ? MG_BACKEND_CPU : MG_BACKEND_CUDA;
        o.cancel = &ckpt_twin_stop;
        ckpt_twin_run(&m, &o, &r1, MG_ESTOPPED);
        o.cancel = NULL;
        o.resume_path = ck;
        o.backend = from == 0 ? MG_BACKEND_CUDA : MG_BACKEND_CPU;
        ckpt_twin_run(&m, &o, &r2, MG_OK);
        o.resume_path = NULL;
        ckpt_twin_same(&ref, &r2, from == 0 ? "cpu stopped, resumed on cuda"
                                            : "cuda stopped, resumed on cpu");
        mg_result_free(&r2);
    }
    unlink(ck);
    mg_result_free(&ref);
    mg_model_free(&m);
}

#endif /* MESOGIF_TESTS_CUDA_CKPT_TWINS_H */
