/* tests/stim_model.h: a model file with every kind of time-dependent stimulus, for the suites
 * that compare backends (tests/test_gpu.c, tests/test_gpu_micro.c) and tests/test_stimulus.c.
 * Include after testutil.h. */
#ifndef MESOGIF_TESTS_STIM_MODEL_H
#define MESOGIF_TESTS_STIM_MODEL_H

#include <stdio.h>
#include <unistd.h>

#include "mesogif/model.h"

/* The model at path (NULL: the default B1) with a sinusoid, a sampled ramp and an OU current
 * independent per realization on its first population and a frozen OU current on its last
 * (docs/MODEL_FILE.md "Stimuli"), applied with
 * mg_model_set and written to a temporary JSON file whose name goes to out; the caller removes
 * the file. A failure fails the test. */
static inline void mg_test_stim_model(const char *path, char *out, size_t cap)
{
    mg_model m;
    mg_err err = {{0}};
    char a[256];
    mg_test_model(path, &m);
    /* names are read anew after each mg_model_set: it replaces the populations */
    snprintf(a, sizeof a, "%s.ac_current={\"amplitude\": 40, \"frequency\": 7, \"phase\": 30, "
             "\"start\": 100}", m.pops[0].name);
    ck_assert_msg(mg_model_set(&m, a, &err) == MG_OK, "%s", err.msg);
    snprintf(a, sizeof a, "%s.time_current={\"times\": [0, 150, 2500], \"values\": [0, 50, -20]}",
             m.pops[0].name);
    ck_assert_msg(mg_model_set(&m, a, &err) == MG_OK, "%s", err.msg);
    snprintf(a, sizeof a, "%s.ou_current={\"mean\": -5, \"std\": 20, \"tau\": 3, \"start\": 50, "
             "\"independent\": true}", m.pops[0].name);
    ck_assert_msg(mg_model_set(&m, a, &err) == MG_OK, "%s", err.msg);
    snprintf(a, sizeof a, "%s.ou_current={\"mean\": 10, \"std\": 30, \"tau\": 5}",
             m.pops[m.P - 1].name);
    ck_assert_msg(mg_model_set(&m, a, &err) == MG_OK, "%s", err.msg);
    snprintf(out, cap, "/tmp/mg_test_stim_%ld.json", (long)getpid());
    FILE *f = fopen(out, "w");
    ck_assert_ptr_nonnull(f);
    fputs(m.json, f);
    ck_assert_int_eq(fclose(f), 0);
    mg_model_free(&m);
}

#endif /* MESOGIF_TESTS_STIM_MODEL_H */
