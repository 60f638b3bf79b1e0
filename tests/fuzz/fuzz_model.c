/* tests/fuzz/fuzz_model.c: libFuzzer harness for the model-file parser (issue 8, point 2).
 *
 * Input: arbitrary bytes, taken as the text of a model file. They go through mg_model_parse,
 * as `mesogif run FILE` does; a model that parses is then set up for a run at both levels
 * (mg_run_estimate: options checked against the model, derived model, observer layout, memory
 * estimate; nothing is simulated), with the model file's "simulation" block applied as the
 * command line applies it. Beyond what the sanitizers catch, the harness aborts when a
 * documented contract breaks:
 *   - a failed parse leaves the model zeroed and a NUL-terminated, non-empty message;
 *   - a failed estimate leaves a non-empty message; a successful one gives finite, positive
 *     memory numbers.
 * Built by `make fuzz` (clang -fsanitize=fuzzer,address,undefined); `make check-asan` builds
 * the same file with tests/fuzz/standalone.c (gcc) and replays the corpus and the regression
 * inputs through it. */
#include "mesogif/model.h"
#include "mesogif/run.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void check_msg(const mg_err *err, const char *what)
{
    size_t n = strnlen(err->msg, sizeof err->msg);
    if (n == 0 || n == sizeof err->msg) {
        fprintf(stderr, "fuzz_model: %s failed without a message (or unterminated)\n", what);
        abort();
    }
}

/* Set up a run of m at the given level, as `mesogif run` would, without simulating. */
static void estimate(const mg_model *m, mg_level level)
{
    mg_run_opts o;
    mg_run_opts_default(&o);
    o.level = level;
    o.backend = MG_BACKEND_CPU;
    /* many threads: the memory estimate refuses big states before anything is allocated, so
     * the fuzzer's RSS limit is never reached by a legitimate (refused) request */
    o.threads = 64;
    o.t_sim_ms = 200.0;
    o.t_warmup_ms = 0.0;
    if (m->sim.dt > 0)
        o.dt_ms = m->sim.dt;
    if (m->sim.t_sim > 0)
        o.t_sim_ms = m->sim.t_sim;
    if (m->sim.t_warmup >= 0)
        o.t_warmup_ms = m->sim.t_warmup;
    if (m->sim.record_bin > 0)
        o.record_bin_ms = m->sim.record_bin;
    if (m->sim.stats_bin > 0)
        o.stats_bin_ms = m->sim.stats_bin;
    double per = -1, total = -1;
    mg_err err = {{0}};
    int rc = mg_run_estimate(m, &o, &per, &total, &err);
    if (rc != MG_OK) {
        check_msg(&err, "mg_run_estimate");
    } else if (!(per > 0) || !(total >= per) || !isfinite(total)) {
        fprintf(stderr, "fuzz_model: estimate %g / %g bytes\n", per, total);
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* mg_model_parse takes a C string: stop at the first NUL, as a file read would not */
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    mg_model m;
    mg_err err = {{0}};
    int rc = mg_model_parse(text, "fuzz.json", &m, &err);
    if (rc != MG_OK) {
        static const mg_model zero;
        check_msg(&err, "mg_model_parse");
        if (memcmp(&m, &zero, sizeof m) != 0) {
            fprintf(stderr, "fuzz_model: failed parse left the model non-zero\n");
            abort();
        }
    } else {
        for (int a = 0; a < m.P; ++a) {
            if (mg_model_find_pop(&m, m.pops[a].name) != a) {
                fprintf(stderr, "fuzz_model: population %d not found by its name\n", a);
                abort();
            }
            (void)mg_pop_step_current(&m.pops[a], 1000.0);
        }
        estimate(&m, MG_LEVEL_MESO);
        estimate(&m, MG_LEVEL_MICRO);
        mg_model_free(&m);
    }
    free(text);
    return 0;
}
