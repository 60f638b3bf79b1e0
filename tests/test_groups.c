/* tests/test_groups.c: the reduction groups in memory independent of R (src/engine/ensemble_groups.c,
 * src/engine/cpu_schedule.c; issue 17.4). Groups that complete out of order, in any order, give the
 * bits of ((g0 + g1) + g2) + ...; runs whose threads complete groups out of order, and runs
 * stopped and resumed from checkpoints holding open groups, give the bits of one thread.
 * Bitwise comparisons, so no false failures. */
#include "testutil.h"

#include <hdf5.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "engine/job.h"

/* Realizations [5, 5 + 32 * 9 + 7): a partial first and last group, 10 groups. */
#define FIRST 5
#define COUNT (32 * 9 + 7)
#define NI 2
#define ND 3

/* A record of realization r whose sums depend on the order of addition (magnitudes 1e-8..1e8). */
static void record(int64_t r, int64_t *ri, double *rd)
{
    ri[0] = r;
    ri[1] = 1;
    for (int k = 0; k < ND; ++k)
        rd[k] = pow(10.0, (double)((r * 7 + k * 3) % 17) - 8.0) * (1.0 + 0.1 * (double)k) / 3.0;
}

static void job_init(mg_job *job)
{
    memset(job, 0, sizeof *job);
    job->opts.realization_first = FIRST;
    job->opts.realization_count = COUNT;
    job->opts.threads = 1;
    job->SL.n_i = NI;
    job->SL.n_d = ND;
    job->g_first = FIRST / MG_RGROUP;
    job->n_groups = (FIRST + COUNT - 1) / MG_RGROUP - job->g_first + 1;
    ck_assert_int_eq(mg_job_groups_alloc(job), MG_OK);
}

/* The sums of group g (relative), realizations in order. */
static void group_sums(const mg_job *job, int64_t g, int64_t *gi, double *gd)
{
    int64_t lo, hi, ri[NI];
    double rd[ND];
    mg_job_group_range(job, job->g_first + g, &lo, &hi);
    memset(gi, 0, NI * sizeof *gi);
    memset(gd, 0, ND * sizeof *gd);
    for (int64_t r = lo; r < hi; ++r) {
        record(r, ri, rd);
        for (int k = 0; k < NI; ++k)
            gi[k] += ri[k];
        for (int k = 0; k < ND; ++k)
            gd[k] += rd[k];
    }
}

/* A fixed permutation of [0, n) (LCG-driven Fisher-Yates). */
static void permute(int64_t *p, int64_t n, uint64_t seed)
{
    for (int64_t k = 0; k < n; ++k)
        p[k] = k;
    for (int64_t k = n - 1; k > 0; --k) {
        seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
        int64_t j = (int64_t)((seed >> 33) % (uint64_t)(k + 1)), t = p[k];
        p[k] = p[j];
        p[j] = t;
    }
}

START_TEST(groups_in_any_order_give_the_ordered_sum)
{
    mg_job job;
    job_init(&job);
    const int64_t G = job.n_groups;
    ck_assert_int_eq(G, 10);
    int64_t gi[16][NI], ref_i[NI] = {0}, naive_i[NI] = {0};
    double gd[16][ND], ref_d[ND] = {0}, naive_d[ND] = {0};
    for (int64_t g = 0; g < G; ++g)
        group_sums(&job, g, gi[g], gd[g]);
    for (int64_t g = 0; g < G; ++g) /* the fixed tree: groups in order */
        for (int k = 0; k < ND; ++k)
            ref_d[k] += gd[g][k];
    for (int64_t g = 0; g < G; ++g)
        for (int k = 0; k < NI; ++k)
            ref_i[k] += gi[g][k];
    int64_t perm[16];
    int naive_differs = 0;
    for (uint64_t seed = 1; seed <= 20; ++seed) {
        permute(perm, G, seed);
        /* half the groups through slots (records in blocks of 8, the blocks of a group in
         * order), half as whole sums (the CUDA path), completing in the permuted order */
        for (int64_t q = 0; q < G; ++q) {
            const int64_t g = perm[q];
            if (g % 2) {
                mg_gslot *s = mg_job_group_open(&job, g);
                ck_assert_ptr_nonnull(s);
                int64_t lo, hi, ri[NI];
                double rd[ND];
                mg_job_group_range(&job, job.g_first + g, &lo, &hi);
                for (int64_t r = lo; r < hi; ++r) {
                    record(r, ri, rd);
                    for (int k = 0; k < NI; ++k)
                        s->i[k] += ri[k];
                    for (int k = 0; k < ND; ++k)
                        s->d[k] += rd[k];
                    if ((r + 1 - lo) % 8 == 0 || r + 1 == hi) {
                        mg_job_group_advance(&job, s, r + 1);
                        if (r + 1 == hi)
                            break; /* s may be closed now */
                    }
                }
            } else {
                mg_job_group_complete(&job, g, gi[g], gd[g]);
            }
            ck_assert_int_le(job.n_open, G);
        }
        ck_assert(mg_job_groups_done(&job));
        ck_assert_int_eq(job.n_open, 0);
        ck_assert_msg(memcmp(job.sum_i, ref_i, sizeof ref_i) == 0, "seed %d: integer sums",
                      (int)seed);
        ck_assert_msg(memcmp(job.sum_d, ref_d, sizeof ref_d) == 0, "seed %d: floating sums",
                      (int)seed);
        /* the same groups added in completion order differ in the last bits: the order is
         * what the test holds fixed */
        memset(naive_d, 0, sizeof naive_d);
        for (int64_t q = 0; q < G; ++q)
            for (int k = 0; k < ND; ++k)
                naive_d[k] += gd[perm[q]][k];
        naive_differs |= memcmp(naive_d, ref_d, sizeof ref_d) != 0;
        (void)naive_i;
        mg_job_groups_free(&job);
        ck_assert_int_eq(mg_job_groups_alloc(&job), MG_OK);
    }
    ck_assert_msg(naive_differs, "the records do not make the order visible");
    mg_job_groups_free(&job);
}
END_TEST

/* Memory stays with the groups in flight: open groups behind an unfinished head only. */
START_TEST(only_groups_in_flight_are_kept)
{
    mg_job job;
    job_init(&job);
    int64_t gi[NI];
    double gd[ND];
    /* group 0 unfinished, 1..4 complete: 5 open (0 and four behind it) */
    mg_gslot *s0 = mg_job_group_open(&job, 0);
    ck_assert_ptr_nonnull(s0);
    for (int64_t g = 1; g < 5; ++g) {
        group_sums(&job, g, gi, gd);
        mg_job_group_complete(&job, g, gi, gd);
    }
    ck_assert_int_eq(job.n_open, 5);
    ck_assert_int_eq(job.g_done, 0);
    ck_assert_int_eq(mg_job_group_next(&job, 0), FIRST);
    ck_assert_int_eq(mg_job_group_next(&job, 7), 7 * 32);
    /* group 0 completes: 0..4 go into the running sum and nothing stays open */
    group_sums(&job, 0, gi, gd);
    memcpy(s0->i, gi, sizeof gi);
    memcpy(s0->d, gd, sizeof gd);
    mg_job_group_advance(&job, s0, 32);
    ck_assert_int_eq(job.g_done, 5);
    ck_assert_int_eq(job.n_open, 0);
    ck_assert_int_eq(mg_job_group_next(&job, 3), 4 * 32);
    ck_assert_ptr_null(mg_job_group_open(&job, 2)); /* already summed */
    mg_job_groups_free(&job);
}
END_TEST

static mg_model model;

static void run_ok(const mg_run_opts *o, mg_result *res)
{
    mg_err err = {{0}};
    int rc = mg_run(&model, o, res, &err);
    ck_assert_msg(rc == MG_OK, "mg_run: %s", err.msg);
}

static void setup(void)
{
    mg_err err = {{0}};
    ck_assert_int_eq(mg_model_default(&model, &err), MG_OK);
}

static void teardown(void)
{
    mg_model_free(&model);
}

/* 300 realizations (10 groups, the last partial), time-resolved statistics on. */
static mg_run_opts base_opts(void)
{
    mg_run_opts o = mg_test_opts(MG_BACKEND_CPU, 600, 200, 300, 3);
    o.seed = 17;
    o.stats_time_ms = 50;
    return o;
}

/* base_opts, and the reference run of them on one thread into ref. */
static mg_run_opts base_ref(mg_result *ref)
{
    mg_run_opts o = base_opts();
    o.threads = 1;
    run_ok(&o, ref);
    return o;
}

/* More threads than cores: blocks of later groups finish before earlier ones. */
START_TEST(threads_completing_groups_out_of_order_agree)
{
    mg_result r1, r;
    mg_run_opts o = base_ref(&r1);
    const int threads[] = {3, 7};
    for (int k = 0; k < 2; ++k) {
        o.threads = threads[k];
        run_ok(&o, &r);
        char what[64];
        snprintf(what, sizeof what, "threads 1 vs %d", threads[k]);
        mg_test_same_stats(&r1, &r, what);
        mg_result_free(&r);
    }
    mg_result_free(&r1);
}
END_TEST

/* The cancel flag of the current attempt, set by a timer thread after `ms`. */
typedef struct {
    volatile int flag;
    int ms;
} stopper;

static void *stop_after(void *arg)
{
    stopper *s = arg;
    struct timespec ts = {0, (long)s->ms * 1000000L};
    nanosleep(&ts, NULL);
    s->flag = 1;
    return NULL;
}

/* Open groups in the checkpoint at path. */
static int64_t open_groups_in(const char *path)
{
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f < 0)
        return -1;
    hid_t d = H5Dopen2(f, "/group_g", H5P_DEFAULT);
    hid_t sp = H5Dget_space(d);
    int64_t m = (int64_t)H5Sget_simple_extent_npoints(sp);
    H5Sclose(sp);
    H5Dclose(d);
    H5Fclose(f);
    return m;
}

/* Stopped every few tens of ms by a signal-like cancel and resumed from the checkpoint, with 3
 * threads on out-of-order groups: the statistics are those of one uninterrupted thread. */
START_TEST(checkpoints_with_open_groups_resume_bitwise)
{
    mg_result ref, res;
    mg_run_opts o = base_ref(&ref);
    char ckpt[] = "/tmp/mg_test_groups_XXXXXX";
    int fd = mkstemp(ckpt);
    ck_assert_int_ge(fd, 0);
    close(fd);
    unlink(ckpt);
    o.threads = 3;
    o.checkpoint_path = ckpt;
    int stops = 0, rc = MG_ESTOPPED;
    int64_t open_max = 0;
    mg_err err = {{0}};
    for (int attempt = 0; attempt < 400 && rc == MG_ESTOPPED; ++attempt) {
        stopper st = {0, 25};
        pthread_t th;
        ck_assert_int_eq(pthread_create(&th, NULL, stop_after, &st), 0);
        o.cancel = &st.flag;
        o.resume_path = attempt > 0 ? ckpt : NULL;
        rc = mg_run(&model, &o, &res, &err);
        pthread_join(th, NULL);
        if (rc == MG_ESTOPPED) {
            ++stops;
            int64_t m = open_groups_in(ckpt);
            open_max = m > open_max ? m : open_max;
        }
    }
    ck_assert_msg(rc == MG_OK, "last attempt: %s", err.msg);
    ck_assert_msg(stops >= 2, "only %d stops: the test did not interrupt the run", stops);
    mg_test_same_stats(&ref, &res, "stopped and resumed vs uninterrupted");
    if (mg_test_verbose())
        printf("checkpoints: %d stops, up to %lld open groups in one\n", stops,
               (long long)open_max);
    mg_result_free(&ref);
    mg_result_free(&res);
    unlink(ckpt);
}
END_TEST

MG_TEST_SUITE(groups,
              MG_TCASE("fold", 0, groups_in_any_order_give_the_ordered_sum,
                       only_groups_in_flight_are_kept),
              {"runs", 240,
               MG_TESTS(threads_completing_groups_out_of_order_agree,
                        checkpoints_with_open_groups_resume_bitwise),
               setup, teardown, 0, NULL})
