/* tests/test_micro_split.c: the CPU proof of the CUDA micro kernel's decomposition of a step
 * (src/core/micro.h, "The step decomposed over the T threads of a CUDA block";
 * kernels/backend_cuda_micro.cu). The same calls the kernel makes are run serially on the host,
 * with the barriers between phases as sequence points and, inside a phase, the threads in a
 * scrambled order (a CUDA block runs them in any order): delivery by (warp, thread) shares,
 * the per-population values, the neurons in rounds of one Philox block per thread into sinks,
 * the exclusive prefix sum over threads that places each sink in the spike list, and the count
 * and intervals of the step. Against mg_micro_step (the CPU backend's path) on the same lanes:
 * spike counts and spike lists of every step, and the whole state (potentials, refractory
 * counters, thresholds, synaptic traces, interval accumulators) at the end, all bitwise. The
 * lanes are MG_VL realizations side by side (the kernel has one; the code is the same per lane).
 * A negative control takes the prefix sum over the threads in reverse order (spike lists out of
 * neuron order) and requires the comparison to see it. Deterministic: no false failures. */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mesogif/model.h"
#include "mesogif/run.h"
#include "engine/job.h"     /* mg_job, mg_micro_setup */
#include "engine/micro_derive.h" /* mg_micro_build_csr */

/* One side of the comparison: lane matrix, spike lists, counts. */
typedef struct {
    double *state;
    uint32_t *spk;
    double *n;
    mg_micro_buf buf;
    mg_lanes st;
} side;

static void side_init(side *s, const mg_micro_derived *d, mg_micro_csr *csr)
{
    s->state = calloc((size_t)d->mm.rows * MG_VL, sizeof(double));
    s->spk = calloc((size_t)(d->spk_elems > 0 ? d->spk_elems : 1) * MG_VL, sizeof(uint32_t));
    s->n = calloc((size_t)d->mm.P * MG_VL, sizeof(double));
    ck_assert(s->state && s->spk && s->n);
    s->buf.spk = s->spk;
    s->buf.csr = csr;
    s->st.base = s->state;
    s->st.ld = MG_VL;
    mg_micro_init(&d->mm, s->st, &s->buf);
}

static void side_free(side *s)
{
    free(s->state);
    free(s->spk);
    free(s->n);
}

/* Step t of the split: T threads, run in the order perm[0..T); reverse_scan: the negative
 * control. isi[j]: lane j's interval scratch (sum of N entries), sk: T sinks. */
static void split_step(const mg_micro_model *mm, side *s, int64_t t, uint32_t real0, int T,
                       const int *perm, int reverse_scan, double **isi, mg_micro_sink *sk)
{
    /* A */
    for (int k = 0; k < T; ++k)
        mg_micro_part_deliver(mm, s->st, &s->buf, t, MG_VL, perm[k], T);
    /* B */
    for (int a = 0; a < mm->P; ++a)
        mg_micro_update_pre(mm, a, s->st, t, real0);
    /* C */
    int64_t cnt[MG_POP_MAX][MG_VL];
    int64_t isi_off = 0;
    for (int a = 0; a < mm->P; ++a) {
        for (int j = 0; j < MG_VL; ++j)
            cnt[a][j] = 0;
        const int64_t nb = mg_micro_blocks(&mm->pop[a]);
        for (int64_t b0 = 0; b0 < nb; b0 += T) {
            for (int k = 0; k < T; ++k)
                mg_micro_part_neurons(mm, a, s->st, &s->buf, t, real0, b0 + perm[k],
                                      &sk[perm[k]]);
            for (int j = 0; j < MG_VL; ++j) {
                /* the exclusive prefix sum of the sink counts over threads in order */
                int64_t off[1024], run = 0;
                for (int q = 0; q < T; ++q) {
                    const int tid = reverse_scan ? T - 1 - q : q;
                    off[tid] = run;
                    run += sk[tid].n[j];
                }
                for (int k = 0; k < T; ++k)
                    mg_micro_sink_flush(mm, a, &s->buf, t, j, &sk[perm[k]],
                                        cnt[a][j] + off[perm[k]], isi[j] + isi_off);
                cnt[a][j] += run;
            }
        }
        isi_off += mm->pop[a].N;
    }
    /* D */
    isi_off = 0;
    for (int a = 0; a < mm->P; ++a) {
        for (int j = 0; j < MG_VL; ++j)
            mg_micro_finish(mm, a, s->st, t, j, cnt[a][j], isi[j] + isi_off,
                            &s->n[a * MG_VL + j]);
        isi_off += mm->pop[a].N;
    }
}

/* Run `steps` steps of model (NULL: the default B1) both ways on T threads; returns the number
 * of steps whose counts or spike lists differ, and sets *state_same. */
static int64_t compare(const char *path, int64_t steps, int T, int reverse_scan, int *state_same,
                       int64_t *spikes_seen)
{
    mg_model m;
    mg_err err = {{0}};
    mg_test_model(path, &m);
    mg_run_opts o;
    mg_test_model_opts(&o, &m, MG_LEVEL_MICRO);
    o.t_warmup_ms = 0; /* intervals counted from the start */
    mg_job job;
    memset(&job, 0, sizeof job);
    job.model = &m;
    job.opts = o;
    mg_stats_cfg_default(&job.SL.cfg, m.P, o.stats_bin_ms, o.dt_ms);
    ck_assert_int_eq(mg_micro_setup(&job, &err), MG_OK);
    const mg_micro_derived *d = job.mi;
    const mg_micro_model *mm = &d->mm;
    ck_assert_int_gt(mm->isi_bins, 0);
    const uint32_t real0 = 40; /* lanes are realizations 40 .. 40 + MG_VL - 1 */

    /* each lane's network, as the CPU backend draws it */
    const int n_list = mm->n_list;
    mg_micro_csr *csr = calloc((size_t)(n_list > 0 ? n_list : 1) * MG_VL, sizeof *csr);
    mg_micro_csr_store *store = calloc((size_t)(n_list > 0 ? n_list : 1) * MG_VL, sizeof *store);
    mg_micro_scratch sc;
    ck_assert_int_eq(mg_micro_scratch_alloc(d, &sc), MG_OK);
    for (int c = 0; c < n_list; ++c)
        for (int j = 0; j < MG_VL; ++j) {
            ck_assert_int_eq(mg_micro_build_csr(d, c, real0 + (uint32_t)j, 0,
                                                &store[c * MG_VL + j], &sc, &err), MG_OK);
            csr[c * MG_VL + j].off = store[c * MG_VL + j].off;
            csr[c * MG_VL + j].tgt = store[c * MG_VL + j].tgt;
        }
    mg_micro_scratch_free(&sc);

    side ref, spl;
    side_init(&ref, d, csr);
    side_init(&spl, d, csr);
    int64_t sumN = 0;
    for (int a = 0; a < mm->P; ++a)
        sumN += mm->pop[a].N;
    double *isi[MG_VL];
    for (int j = 0; j < MG_VL; ++j)
        isi[j] = calloc((size_t)sumN, sizeof(double));
    mg_micro_sink *sk = calloc((size_t)T, sizeof *sk);
    int *perm = malloc((size_t)T * sizeof *perm);
    for (int k = 0; k < T; ++k)
        perm[k] = (k * 37 + 11) % T; /* T a power of two: a permutation */

    int64_t bad_steps = 0;
    *spikes_seen = 0;
    for (int64_t t = 0; t < steps; ++t) {
        mg_micro_step(mm, ref.st, &ref.buf, t, real0, MG_VL, ref.n);
        split_step(mm, &spl, t, real0, T, perm, reverse_scan, isi, sk);
        int bad = memcmp(ref.n, spl.n, (size_t)mm->P * MG_VL * sizeof(double)) != 0;
        for (int a = 0; a < mm->P && !bad; ++a) {
            const mg_micro_pop *pp = &mm->pop[a];
            for (int j = 0; j < MG_VL; ++j) {
                const int64_t c = (int64_t)ref.n[a * MG_VL + j];
                *spikes_seen += c;
                bad |= memcmp(mg_micro_spikes(&ref.buf, pp, (int)(t % pp->H), j),
                              mg_micro_spikes(&spl.buf, pp, (int)(t % pp->H), j),
                              (size_t)c * sizeof(uint32_t)) != 0;
            }
        }
        bad_steps += bad;
    }
    *state_same = memcmp(ref.state, spl.state, (size_t)mm->rows * MG_VL * sizeof(double)) == 0;
    printf("%s, T = %d%s: %lld of %lld steps differ, %lld spikes, final state %s\n",
           path ? path : "B1", T, reverse_scan ? " (negative control)" : "",
           (long long)bad_steps, (long long)steps, (long long)*spikes_seen,
           *state_same ? "bitwise equal" : "differs");

    for (int j = 0; j < MG_VL; ++j)
        free(isi[j]);
    free(sk);
    free(perm);
    side_free(&ref);
    side_free(&spl);
    for (int c = 0; c < n_list * MG_VL; ++c)
        mg_micro_csr_free(&store[c]);
    free(store);
    free(csr);
    mg_micro_free(&job);
    mg_model_free(&m);
    return bad_steps;
}

static void check_model(const char *path, int64_t steps)
{
    const int Ts[2] = {32, 128}; /* 128: the kernel's; 32: more rounds, one warp */
    for (int k = 0; k < 2; ++k) {
        int same;
        int64_t spikes;
        int64_t bad = compare(path, steps, Ts[k], 0, &same, &spikes);
        ck_assert_msg(bad == 0, "%lld steps differ", (long long)bad);
        ck_assert_msg(spikes > 1000, "too few spikes (%lld) to test anything", (long long)spikes);
        ck_assert_msg(same, "the final state differs");
    }
    /* the comparison sees spike lists out of neuron order */
    int same;
    int64_t spikes;
    int64_t bad = compare(path, steps, 128, 1, &same, &spikes);
    ck_assert_msg(bad > 0, "negative control: lists out of order went unnoticed");
}

START_TEST(split_equals_step_b1)
{
    check_model(NULL, 400);
}
END_TEST

START_TEST(split_equals_step_ei)
{
    check_model("data/models/ei_network.json", 400);
}
END_TEST

MG_TEST_SUITE(micro_split,
              MG_TCASE("core", 300, split_equals_step_b1, split_equals_step_ei))
