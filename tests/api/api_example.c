/* tests/api/api_example.c: the public C API of libmesogif as a binding (Python, Julia) uses it,
 * built against the installed headers and `pkg-config --libs mesogif` only (tests/test_api.sh).
 *
 *   api_example OUT.h5 [MODEL.json]
 *
 * Parses a model (the embedded B1 without MODEL.json) and a bad one (the error must name the
 * JSON path), estimates the memory, runs a small meso ensemble with a progress callback and a
 * cancel flag, reads the result (moments, traces), writes it, reads the file's statistics back
 * and checks them equal to the run's, bit for bit. Then a second run with the cancel flag set
 * from the progress callback must stop with MG_EINTR and write nothing. Prints one line per step;
 * exit status 0 when every check holds, 1 otherwise. */
#include <mesogif/error.h>
#include <mesogif/io.h>
#include <mesogif/model.h>
#include <mesogif/run.h>
#include <mesogif/stats.h>

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int failures;

static void check(int ok, const char *what)
{
    printf("%s %s\n", ok ? "ok  " : "FAIL", what);
    failures += !ok;
}

typedef struct {
    int calls;
    int64_t last_done, total;
    volatile int *cancel; /* set by the second run to cancel from the callback */
} progress_log;

static void on_progress(const mg_progress *p, void *user)
{
    progress_log *log = user;
    log->calls++;
    log->last_done = p->realizations_done;
    log->total = p->realizations_total;
    if (log->cancel)
        *log->cancel = 1;
}

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: api_example OUT.h5 [MODEL.json]\n");
        return 2;
    }
    const char *out = argv[1];
    mg_err err = {{0}};

    mg_model bad;
    int rc = mg_model_parse("{\"populations\": [{\"name\": \"E\", \"N\": -3}]}", "bad.json", &bad,
                            &err);
    check(rc == MG_EINVAL && strstr(err.msg, "N") != NULL, "a bad model is refused with MG_EINVAL");
    printf("     (%s)\n", err.msg);

    mg_model m;
    rc = argc == 3 ? mg_model_load(argv[2], &m, &err) : mg_model_default(&m, &err);
    check(rc == MG_OK, "model parsed");
    if (rc != MG_OK) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }

    mg_run_opts o;
    mg_run_opts_default(&o);
    o.t_sim_ms = 2000;
    o.t_warmup_ms = 500;
    o.realization_count = 8;
    o.record_realizations = 2;
    o.threads = 2;
    o.backend = MG_BACKEND_CPU;
    o.psd_df_hz = 10;
    volatile int cancel = 0;
    progress_log log = {0, 0, 0, NULL};
    o.progress = on_progress;
    o.progress_user = &log;
    o.cancel = &cancel;

    double per = 0, total = 0;
    rc = mg_run_estimate(&m, &o, &per, &total, &err);
    check(rc == MG_OK && per > 0 && total >= per, "memory estimate");

    mg_result res;
    rc = mg_run(&m, &o, &res, &err);
    check(rc == MG_OK, "run of 8 realizations");
    if (rc != MG_OK) {
        fprintf(stderr, "%s\n", err.msg);
        mg_model_free(&m);
        return 1;
    }
    check(log.calls >= 1 && log.last_done == 8 && log.total == 8,
          "progress callback reported every realization done");
    check(res.P == m.P && res.trace_k == 2 && res.trace_T == 2000 && res.A_N != NULL,
          "result holds 2 recorded traces of 2000 bins");
    int finite = 1;
    for (int p = 0; p < res.P; ++p) {
        finite &= isfinite(res.stats.mean_A[p]) && res.stats.mean_A[p] > 0;
        printf("     %s: mean A %.4f Hz +- %.4f, var %.4f Hz^2\n", res.pop_names[p],
               res.stats.mean_A[p], res.stats.mean_A_sem[p], res.stats.var_A[p]);
    }
    check(finite && res.stats.L.F > 0, "moments positive and finite, spectra present");

    rc = mg_h5_write_result(out, &res, &m, "api_example", 1, &err);
    check(rc == MG_OK, "result written");
    mg_stats back;
    rc = mg_h5_read_stats(out, &back, &err);
    int same = rc == MG_OK && back.L.n_d == res.stats.L.n_d && back.L.n_i == res.stats.L.n_i;
    if (same) {
        same = memcmp(back.d, res.stats.d, (size_t)back.L.n_d * sizeof(double)) == 0 &&
               memcmp(back.i, res.stats.i, (size_t)back.L.n_i * sizeof(int64_t)) == 0 &&
               memcmp(back.mean_A, res.stats.mean_A, (size_t)res.P * sizeof(double)) == 0;
        mg_stats_free(&back);
    }
    check(same, "statistics read back from the file equal the run's, bit for bit");
    mg_result_free(&res);

    /* cancelled from the progress callback: MG_EINTR, nothing to free, nothing written */
    char out2[4096];
    snprintf(out2, sizeof out2, "%s.cancelled.h5", out);
    o.realization_count = 64;
    o.t_sim_ms = 20000;
    cancel = 0;
    log.cancel = &cancel;
    rc = mg_run(&m, &o, &res, &err);
    check(rc == MG_EINTR, "cancel flag stops the run with MG_EINTR");
    if (rc == MG_OK)
        mg_result_free(&res);
    check(access(out2, F_OK) != 0, "a cancelled run leaves no file");

    mg_model_free(&m);
    printf("%s\n", failures ? "api_example: FAILED" : "api_example: all checks hold");
    return failures ? 1 : 0;
}
