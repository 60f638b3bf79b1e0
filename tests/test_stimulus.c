/* tests/test_stimulus.c: stimuli of a population (src/stimulus*.c, docs/MODEL_FILE.md
 * "Stimuli") and parameter overrides (src/model/model_set.c).
 *
 * - the model file keys parse, and bad values are refused with their exact JSON path;
 * - the input the meso and the micro step read (mg_meso_input, mg_micro_input) is the formula
 *   of each stimulus, step by step, for the sum of all four kinds;
 * - the frozen OU current has its mean, variance and correlation (statistical, fixed seed) and
 *   depends on the seed only;
 * - a run too long for the per-step tables is refused naming --t-sim / --dt;
 * - mg_model_set overrides are checked like the file and land in the model's JSON. */
#include "core/meso.h"
#include "core/micro.h"
#include "engine/job.h"
#include "engine/meso_derive.h"
#include "engine/micro_derive.h"
#include "mesogif/model.h"
#include "model/stimulus.h"
#include "testutil.h"
#include "stim_model.h"

#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define PI 3.141592653589793

/* One uncoupled population (tau_m 20 ms, C_m 250 pF: R = 0.08 GOhm) with the given extra keys. */
static int parse_pop(const char *extra, mg_model *m, mg_err *err)
{
    char text[4096];
    snprintf(text, sizeof text,
             "{\"populations\": [{\"name\": \"E\", \"N\": 500, \"tau_m\": 20, \"C_m\": 250, "
             "\"V_reset\": 0, \"V_T_star\": 15, \"Delta_V\": 2, \"lambda_0\": 10, \"t_ref\": 4, "
             "\"I_e\": 225%s%s}]}",
             extra[0] ? ", " : "", extra);
    return mg_model_parse(text, "test.json", m, err);
}

/* parse_pop, which must succeed. */
static void parse_pop_ok(const char *extra, mg_model *m)
{
    mg_err err = {{0}};
    ck_assert_msg(parse_pop(extra, m, &err) == MG_OK, "%s", err.msg);
}

static void expect_error(const char *extra, const char *msg_start)
{
    mg_model m;
    mg_err err = {{0}};
    ck_assert_int_eq(parse_pop(extra, &m, &err), MG_EINVAL);
    ck_assert_msg(strncmp(err.msg, msg_start, strlen(msg_start)) == 0,
                  "for %s:\n got      \"%s\"\n expected \"%s...\"", extra, err.msg, msg_start);
}

START_TEST(parse_keys)
{
    mg_model m;
    mg_err err = {{0}};
    ck_assert_msg(parse_pop("\"ac_current\": {\"amplitude\": 10, \"frequency\": 5, \"phase\": 90,"
                            " \"offset\": 1, \"start\": 100, \"stop\": 900},"
                            "\"ou_current\": {\"mean\": 2, \"std\": 20, \"tau\": 10},"
                            "\"time_current\": {\"times\": [0, 50], \"values\": [0, 10]}",
                            &m, &err) == MG_OK, "%s", err.msg);
    const mg_pop *p = &m.pops[0];
    ck_assert(p->has_ac && p->has_ou && p->n_series == 2 && mg_pop_has_stimulus(p));
    ck_assert(p->ac_amplitude == 10 && p->ac_frequency == 5 && p->ac_phase == 90 &&
              p->ac_offset == 1 && p->ac_start == 100 && p->ac_stop == 900);
    ck_assert(p->ou_mean == 2 && p->ou_std == 20 && p->ou_tau == 10 && p->ou_start == 0 &&
              isinf(p->ou_stop) && !p->ou_independent); /* frozen unless asked */
    ck_assert(p->series_times[1] == 50 && p->series_amps[1] == 10);
    mg_model_free(&m);
    ck_assert_int_eq(parse_pop("", &m, &err), MG_OK);
    ck_assert(!mg_pop_has_stimulus(&m.pops[0]));
    mg_model_free(&m);
    for (int ind = 0; ind < 2; ++ind) {
        parse_pop_ok(ind ? "\"ou_current\": {\"std\": 1, \"tau\": 3, \"independent\": true}"
                         : "\"ou_current\": {\"std\": 1, \"tau\": 3, \"independent\": false}",
                     &m);
        ck_assert(m.pops[0].has_ou && m.pops[0].ou_independent == ind &&
                  mg_pop_has_stimulus(&m.pops[0]));
        /* the independent current is not in the input tables: only the (empty) step table */
        mg_inp_tables it;
        ck_assert_int_eq(mg_inp_tables_build(&m, 0.5, 1000, 1, &it, &err), MG_OK);
        ck_assert_int_eq(it.count[0], ind ? 0 : 1000);
        mg_inp_tables_free(&it);
        mg_model_free(&m);
    }
}
END_TEST

START_TEST(parse_errors)
{
    expect_error("\"ac_current\": {\"frequency\": 5}",
                 "/populations/0/ac_current: missing required key \"amplitude\" "
                 "(allowed: number, pA)");
    expect_error("\"ac_current\": {\"amplitude\": 1, \"frequency\": -5}",
                 "/populations/0/ac_current/frequency: -5 is out of range "
                 "(allowed: number >= 0, Hz)");
    expect_error("\"ac_current\": {\"amplitude\": 1, \"frequency\": 5, \"freq\": 1}",
                 "/populations/0/ac_current/freq: unknown key \"freq\" (allowed: amplitude, ");
    expect_error("\"ac_current\": {\"amplitud\": 1, \"frequency\": 5}",
                 "/populations/0/ac_current/amplitud: unknown key \"amplitud\" (did you mean "
                 "\"amplitude\"?) (allowed: amplitude, ");
    expect_error("\"ac_current\": {\"amplitude\": \"1\", \"frequency\": 5}",
                 "/populations/0/ac_current/amplitude: must be a number, not a string");
    expect_error("\"ac_current\": {\"amplitude\": 1, \"frequency\": 5, \"start\": 10, "
                 "\"stop\": 10}",
                 "/populations/0/ac_current/stop: 10 ms is not after start = 10 ms");
    expect_error("\"ac_current\": [1]",
                 "/populations/0/ac_current: must be an object, not an array");
    expect_error("\"ou_current\": {\"std\": 1, \"tau\": 0}",
                 "/populations/0/ou_current/tau: 0 is out of range (allowed: number > 0, ms)");
    expect_error("\"ou_current\": {\"std\": -1, \"tau\": 3}",
                 "/populations/0/ou_current/std: -1 is out of range (allowed: number >= 0, pA)");
    expect_error("\"ou_current\": {\"tau\": 3}",
                 "/populations/0/ou_current: missing required key \"std\"");
    expect_error("\"ou_current\": {\"std\": 1, \"tau\": 3, \"independent\": 1}",
                 "/populations/0/ou_current/independent: must be true or false, not an integer "
                 "(1) (allowed: true: independent per realization; false (default): frozen)");
    expect_error("\"ou_current\": {\"std\": 1, \"tau\": 3, \"independant\": true}",
                 "/populations/0/ou_current/independant: unknown key \"independant\" (did you "
                 "mean \"independent\"?)");
    expect_error("\"time_current\": {\"times\": [0, 5, 5], \"values\": [1, 2, 3]}",
                 "/populations/0/time_current/times/2: time 5 ms is not after the previous one");
    expect_error("\"time_current\": {\"times\": [-1, 5], \"values\": [1, 2]}",
                 "/populations/0/time_current/times/0: time -1 ms is negative or not finite");
    expect_error("\"time_current\": {\"times\": [0, 5], \"values\": [1]}",
                 "/populations/0/time_current/values: has 1 entries but times has 2");
    expect_error("\"time_current\": {\"times\": [0], \"values\": [1]}",
                 "/populations/0/time_current/times: has 1 sample(s)");
    expect_error("\"time_current\": {}",
                 "/populations/0/time_current: no samples given");
    expect_error("\"time_current\": {\"file\": \"x.csv\", \"times\": [0, 1]}",
                 "/populations/0/time_current: both \"file\" and \"times\"/\"values\" given");
    expect_error("\"time_current\": {\"file\": \"/nonexistent/x.csv\"}",
                 "/populations/0/time_current/file: cannot open \"/nonexistent/x.csv\"");
    expect_error("\"time_current\": {\"times\": [0, 1], \"values\": [1, 2], \"dataset\": \"/a\"}",
                 "/populations/0/time_current/dataset: is only meaningful with \"file\"");
}
END_TEST

/* A CSV file with a header, comments and blank lines; then a bad line. */
START_TEST(csv_file)
{
    char dir[] = "/tmp/mg_stim_XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char csv[256], model[256];
    snprintf(csv, sizeof csv, "%s/ts.csv", dir);
    snprintf(model, sizeof model, "%s/m.json", dir);
    FILE *f = fopen(csv, "w");
    fputs("time_ms, current_pA\n# a ramp\n0, 0\n\n100 , 50 # up\n200;0\n", f);
    fclose(f);
    f = fopen(model, "w");
    fputs("{\"populations\": [{\"name\": \"E\", \"N\": 5, \"tau_m\": 20, \"C_m\": 250, "
          "\"V_reset\": 0, \"V_T_star\": 15, \"Delta_V\": 2, \"lambda_0\": 10, \"t_ref\": 4, "
          "\"time_current\": {\"file\": \"ts.csv\"}}]}", f);
    fclose(f);
    mg_model m;
    mg_err err = {{0}};
    ck_assert_msg(mg_model_load(model, &m, &err) == MG_OK, "%s", err.msg); /* relative path */
    ck_assert_int_eq(m.pops[0].n_series, 3);
    ck_assert(m.pops[0].series_times[1] == 100 && m.pops[0].series_amps[1] == 50 &&
              m.pops[0].series_times[2] == 200 && m.pops[0].series_amps[2] == 0);
    mg_model_free(&m);
    f = fopen(csv, "w");
    fputs("0, 0\n100, x\n", f);
    fclose(f);
    ck_assert_int_eq(mg_model_load(model, &m, &err), MG_EINVAL);
    ck_assert_msg(strstr(err.msg, "/populations/0/time_current/file: ") == err.msg &&
                  strstr(err.msg, "line 2 is not two numbers"), "%s", err.msg);
    f = fopen(csv, "w"); /* a broken first line is not taken for a header */
    fputs("0, x\n100, 5\n", f);
    fclose(f);
    ck_assert_int_eq(mg_model_load(model, &m, &err), MG_EINVAL);
    ck_assert_msg(strstr(err.msg, "line 1 is not two numbers"), "%s", err.msg);
    remove(csv);
    remove(model);
    rmdir(dir);
}
END_TEST

/* An HDF5 dataset [n][2]; a missing dataset and a wrong shape are refused with the path. */
static void write_h5(const char *path, const char *name, hsize_t rows, hsize_t cols,
                     const double *x)
{
    hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    hsize_t dims[2] = {rows, cols};
    hid_t sp = H5Screate_simple(2, dims, NULL);
    hid_t d = H5Dcreate2(f, name, H5T_NATIVE_DOUBLE, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    H5Dwrite(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, x);
    H5Dclose(d);
    H5Sclose(sp);
    H5Fclose(f);
}

START_TEST(h5_file)
{
    char dir[] = "/tmp/mg_stim_XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char h5[256], extra[512];
    snprintf(h5, sizeof h5, "%s/s.h5", dir);
    const double x[6] = {0, 1, 10, 2, 20, -3};
    write_h5(h5, "/E", 3, 2, x);
    mg_model m;
    mg_err err = {{0}};
    snprintf(extra, sizeof extra, "\"time_current\": {\"file\": \"%s\", \"dataset\": \"/E\"}", h5);
    parse_pop_ok(extra, &m);
    ck_assert_int_eq(m.pops[0].n_series, 3);
    ck_assert(m.pops[0].series_times[2] == 20 && m.pops[0].series_amps[2] == -3);
    mg_model_free(&m);
    snprintf(extra, sizeof extra, "\"time_current\": {\"file\": \"%s\", \"dataset\": \"/F\"}", h5);
    ck_assert_int_eq(parse_pop(extra, &m, &err), MG_EINVAL);
    ck_assert_msg(strstr(err.msg, "/populations/0/time_current/file: ") == err.msg &&
                  strstr(err.msg, "has no dataset \"/F\""), "%s", err.msg);
    write_h5(h5, "/E", 2, 3, x);
    snprintf(extra, sizeof extra, "\"time_current\": {\"file\": \"%s\", \"dataset\": \"/E\"}", h5);
    ck_assert_int_eq(parse_pop(extra, &m, &err), MG_EINVAL);
    ck_assert_msg(strstr(err.msg, "has shape [2][3]"), "%s", err.msg);
    remove(h5);
    rmdir(dir);
}
END_TEST

/* The formula of every stimulus (pA) at step t, written independently of src/stimulus.c. */
static double formula_pA(double dt, int64_t t)
{
    const double s = t * dt; /* ms */
    double I = 0.0;
    if (s >= 300.0 - 1e-9) /* step_current: 25 pA from 300 ms, 0 from 700 ms */
        I += s >= 700.0 - 1e-9 ? 0.0 : 25.0;
    if (s >= 100.0 - 1e-9 && s < 900.0 - 1e-9) /* ac: 40 pA at 7 Hz, phase 60 deg, offset 5 */
        I += 5.0 + 40.0 * sin(2.0 * PI * 7.0 * (s / 1000.0) + PI / 3.0);
    if (s >= 200.0 && s <= 600.0) /* time series: ramp 0 -> 30 pA at 400 ms -> 10 pA */
        I += s <= 400.0 ? 30.0 * (s - 200.0) / 200.0 : 30.0 - 20.0 * (s - 400.0) / 200.0;
    return I;
}

static const char *all_four =
    "\"step_current\": {\"amplitude_times\": [300, 700], \"amplitude_values\": [25, 0]},"
    "\"ac_current\": {\"amplitude\": 40, \"frequency\": 7, \"phase\": 60, \"offset\": 5,"
    " \"start\": 100, \"stop\": 900},"
    "\"time_current\": {\"times\": [200, 400, 600], \"values\": [0, 30, 10]},"
    "\"ou_current\": {\"mean\": 3, \"std\": 0, \"tau\": 10, \"start\": 50}";

/* The meso and micro steps read the formula (std 0: the OU current is its mean, 3 pA from
 * 50 ms); R = tau_m / C_m = 0.08 mV/pA. Tolerance 1e-12 mV: only rounding differs. */
START_TEST(input_is_formula)
{
    mg_model m;
    mg_err err = {{0}};
    parse_pop_ok(all_four, &m);
    const double dt = 0.5;
    const int64_t n = 2000; /* 1 s */
    mg_meso_derived d;
    ck_assert_msg(mg_meso_derive_run(&m, dt, 0, 7, n, &d, &err) == MG_OK, "%s", err.msg);
    mg_job job;
    memset(&job, 0, sizeof job);
    job.model = &m;
    job.opts.dt_ms = dt;
    job.opts.seed = 7;
    job.n_steps = n;
    ck_assert_msg(mg_micro_setup(&job, &err) == MG_OK, "%s", err.msg);
    for (int64_t t = 0; t < n + 5; ++t) { /* beyond the run: the last value holds */
        const int64_t tt = t < n ? t : n - 1;
        const double want = (formula_pA(dt, tt) + (tt * dt >= 50.0 ? 3.0 : 0.0)) * 0.08;
        const double meso = mg_meso_input(&d.mm, 0, t), micro = mg_micro_input(&job.mi->mm, 0, t);
        ck_assert_msg(fabs(meso - want) <= 1e-12, "meso step %lld: %.17g vs %.17g", (long long)t,
                      meso, want);
        ck_assert_msg(meso == micro, "micro step %lld: %.17g vs meso %.17g", (long long)t, micro,
                      meso);
    }
    mg_micro_free(&job);
    mg_meso_derived_free(&d);
    /* without the run length the stimuli are refused (e.g. analyses that need a stationary
     * input), naming the key */
    ck_assert_int_eq(mg_meso_derive(&m, dt, 0, 7, &d, &err), MG_EINVAL);
    ck_assert_msg(strstr(err.msg, "/populations/0/ac_current: time-dependent stimuli are not "
                                  "supported") == err.msg, "%s", err.msg);
    mg_model_free(&m);
}
END_TEST

/* Only step currents: the short (first step, value) table as before, two times in one step
 * keep the later value, and the lookup equals mg_pop_step_current at every step start. */
START_TEST(step_only_table)
{
    mg_model m;
    mg_err err = {{0}};
    parse_pop_ok("\"step_current\": {\"amplitude_times\": [10, 10.2, 10.4, 30, 31], "
                 "\"amplitude_values\": [1, 2, 3, 4, 5]}", &m);
    mg_inp_tables it;
    ck_assert_int_eq(mg_inp_tables_build(&m, 1.0, 100, 1, &it, &err), MG_OK);
    ck_assert_int_eq(it.count[0], 4); /* 10.2 and 10.4 fall into step 11 */
    for (int64_t t = 0; t < 100; ++t)
        ck_assert(mg_input_at(it.step, it.mV, it.first[0], it.count[0], t) ==
                  mg_pop_step_current(&m.pops[0], t * 1.0) * 0.08);
    mg_inp_tables_free(&it);
    mg_model_free(&m);
}
END_TEST

/* Frozen OU current (std 20 pA, tau 10 ms, dt 0.5 ms, 200 s = 20000 tau): sample mean within 5
 * standard errors of 3 pA (se = std * sqrt(2 tau / T) = 0.2 pA), variance within 5 se of 400
 * (se ~ 400 * sqrt(2 tau / T) = 4 pA^2), lag-1 correlation exp(-dt/tau) = 0.95123 within 0.005
 * (10 se: se = sqrt((1 - a^2) / n) = 0.0005). False-failure rate < 1e-5 each. Same seed:
 * same numbers, also for a shorter run (a prefix); another seed: other numbers. */
START_TEST(ou_frozen)
{
    mg_model m;
    mg_err err = {{0}};
    parse_pop_ok("\"ou_current\": {\"mean\": 3, \"std\": 20, \"tau\": 10}", &m);
    const int64_t n = 400000;
    mg_inp_tables a, b, c;
    ck_assert_int_eq(mg_inp_tables_build(&m, 0.5, n, 11, &a, &err), MG_OK);
    ck_assert_int_eq(mg_inp_tables_build(&m, 0.5, 1000, 11, &b, &err), MG_OK);
    ck_assert_int_eq(mg_inp_tables_build(&m, 0.5, 1000, 12, &c, &err), MG_OK);
    double s1 = 0, s2 = 0, s11 = 0;
    for (int64_t t = 0; t < n; ++t) {
        const double x = a.mV[t] / 0.08 - 3.0;
        s1 += x;
        s2 += x * x;
        if (t > 0)
            s11 += x * (a.mV[t - 1] / 0.08 - 3.0);
    }
    const double mean = s1 / n, var = s2 / n - mean * mean;
    const double rho = (s11 / (n - 1) - mean * mean) / var;
    ck_assert_msg(fabs(mean) < 5 * 0.2, "OU mean %g pA (want 0 +- 1)", mean);
    ck_assert_msg(fabs(var - 400.0) < 5 * 4.0, "OU variance %g pA^2 (want 400 +- 20)", var);
    ck_assert_msg(fabs(rho - exp(-0.05)) < 0.005, "OU lag-1 correlation %g (want %g)", rho,
                  exp(-0.05));
    ck_assert(memcmp(a.mV, b.mV, 1000 * sizeof(double)) == 0);
    ck_assert(memcmp(a.mV, c.mV, 1000 * sizeof(double)) != 0);
    mg_inp_tables_free(&a);
    mg_inp_tables_free(&b);
    mg_inp_tables_free(&c);
    mg_model_free(&m);
}
END_TEST

START_TEST(table_limit)
{
    mg_model m;
    mg_err err = {{0}};
    parse_pop_ok("\"ac_current\": {\"amplitude\": 1, \"frequency\": 1}", &m);
    mg_inp_tables it;
    ck_assert_int_eq(mg_inp_tables_build(&m, 0.1, MG_STIM_TABLE_MAX_BYTES / 16 + 1, 1, &it, &err),
                     MG_EINVAL);
    ck_assert_msg(strstr(err.msg, "/populations/0/ac_current: ") == err.msg &&
                  strstr(err.msg, "--t-sim") && strstr(err.msg, "--dt") &&
                  strstr(err.msg, "limit of 1 GiB"), "%s", err.msg);
    mg_model_free(&m);
}
END_TEST

START_TEST(overrides)
{
    mg_model m;
    mg_err err = {{0}};
    mg_test_model("data/models/ei_network.json", &m);
    ck_assert_msg(mg_model_set(&m, "E.I_e=310.5", &err) == MG_OK, "%s", err.msg);
    ck_assert(m.pops[0].I_e == 310.5 && m.pops[1].I_e == 300.0);
    ck_assert_msg(mg_model_set(&m, "PROJ[E->I].weight=100", &err) == MG_OK, "%s", err.msg);
    ck_assert(fabs(m.proj[2].J - 100.0 * 3.0 / 250.0) < 1e-15); /* NEST weight converted */
    ck_assert_msg(mg_model_set(&m, "PROJ[E->I].J=0.25", &err) == MG_OK, "%s", err.msg);
    ck_assert(m.proj[2].J == 0.25 && m.proj[0].J == 0.3);
    ck_assert_msg(mg_model_set(&m, "I.ac_current.amplitude=10", &err) == MG_EINVAL, "%s",
                  err.msg); /* a new object needs its required keys: the file's message */
    ck_assert_msg(strcmp(err.msg, "--set I.ac_current.amplitude=10: /populations/1/ac_current: "
                         "missing required key \"frequency\" (allowed: number >= 0, Hz)") == 0,
                  "%s", err.msg);
    ck_assert_msg(mg_model_set(&m, "I.ac_current={\"amplitude\": 10, \"frequency\": 4}", &err) ==
                  MG_OK, "%s", err.msg);
    ck_assert_msg(mg_model_set(&m, "I.ac_current.frequency=8", &err) == MG_OK, "%s", err.msg);
    ck_assert(m.pops[1].has_ac && m.pops[1].ac_frequency == 8 && m.pops[1].ac_amplitude == 10);
    ck_assert_msg(mg_model_set(&m, "E.tau_sfa=[100]", &err) == MG_EINVAL, "%s", err.msg);
    ck_assert_msg(strstr(err.msg, "/populations/0/q_sfa: has 0 entries but tau_sfa has 1"),
                  "%s", err.msg);
    ck_assert(m.pops[0].I_e == 310.5); /* unchanged by the failed overrides */
    /* the JSON carries the overrides: parsing it again gives the same model */
    mg_model m2;
    ck_assert(mg_model_parse(m.json, "again", &m2, &err) == MG_OK);
    ck_assert(m2.pops[0].I_e == 310.5 && m2.proj[2].J == 0.25 && m2.pops[1].ac_frequency == 8);
    mg_model_free(&m2);
    static const char *const bad[][2] = {
        {"E.I_e", "--set E.I_e: not an assignment"},
        {"=3", "--set =3: not an assignment"},
        {"X.I_e=3", "--set X.I_e=3: no population of the model is named"},
        {"E.name=F", "--set E.name=F: a population's name cannot be overridden"},
        {"E.lambda_0=0", "--set E.lambda_0=0: /populations/0/lambda_0: 0 is out of range "
                         "(allowed: number > 0, Hz (1/s))"},
        {"E.I_e=abc", "--set E.I_e=abc: /populations/0/I_e: must be a number, not a string "
                      "(\"abc\")"},
        {"PROJ[E->X].J=1", "--set PROJ[E->X].J=1: the model has no projection \"E\" -> \"X\" "
                           "(allowed: PROJ[E->E], PROJ[I->E], PROJ[E->I], PROJ[I->I])"},
        {"PROJ[E-I].J=1", "--set PROJ[E-I].J=1: not of the form PROJ[SRC->TGT].PARAM"},
        {"PROJ[E->I].delay=-1", "--set PROJ[E->I].delay=-1: /projections/2/delay: -1 is out of "
                                "range"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; ++i) {
        ck_assert_int_eq(mg_model_set(&m, bad[i][0], &err), MG_EINVAL);
        ck_assert_msg(strncmp(err.msg, bad[i][1], strlen(bad[i][1])) == 0,
                      "%s:\n got      \"%s\"\n expected \"%s...\"", bad[i][0], err.msg, bad[i][1]);
    }
    mg_model_free(&m);
}
END_TEST

/* The model the GPU suites compare (tests/stim_model.h) parses with all its stimuli, and a
 * short meso run of it gives the same statistics with 1 and 2 threads (bitwise). */
START_TEST(gpu_suite_model)
{
    char path[128];
    mg_test_stim_model("data/models/nest_brunel_ei.json", path, sizeof path);
    mg_model m;
    mg_test_model(path, &m);
    remove(path);
    ck_assert(m.pops[0].has_ac && m.pops[0].n_series == 3 && m.pops[1].has_ou &&
              !m.pops[1].ou_independent && m.pops[0].has_ou && m.pops[0].ou_independent &&
              !m.pops[1].has_ac);
    mg_run_opts o = mg_test_opts(MG_BACKEND_CPU, 400, 50, 6, 2);
    o.dt_ms = 0.5;
    o.psd_df_hz = -1; /* no spectra: shorter */
    mg_result a, b;
    mg_err err = {{0}};
    o.threads = 1;
    o.batch = 2;
    ck_assert_msg(mg_run(&m, &o, &a, &err) == MG_OK, "%s", err.msg);
    o.threads = 2;
    o.batch = 3;
    ck_assert_msg(mg_run(&m, &o, &b, &err) == MG_OK, "%s", err.msg);
    mg_test_same_run(&a, &b, 2, "stimuli, 1 vs 2 threads");
    mg_result_free(&a);
    mg_result_free(&b);
    mg_model_free(&m);
}
END_TEST

static MG_TEST_SUITE(stimulus,
              MG_TCASE("core", 60, parse_keys, parse_errors, csv_file, h5_file, input_is_formula,
                       step_only_table, ou_frozen, table_limit, overrides, gpu_suite_model))
