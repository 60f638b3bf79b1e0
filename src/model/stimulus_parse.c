/* src/model/stimulus_parse.c: the stimulus keys of a population in a model file (contract in
 * src/model/stimulus.h; schema in docs/MODEL_FILE.md "Stimuli"). Messages follow src/model/model.c:
 * "<JSON Pointer>: <what is wrong> (allowed: ...)" (the checks of src/model/model_json.h); on error
 * p owns nothing new. */
#include "model/stimulus.h"

#include "model/model_json.h" /* mg_json_*: messages, JSON Pointers, typed getters */

#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* The window of a stimulus: start (>= 0, default 0) and stop (> start, default +inf). */
#define WINDOW_FIELDS(start, stop)                                                            \
    {"start", offsetof(mg_pop, start), 0, 0.0, MG_JSON_NONNEG, "number >= 0, ms, default 0"}, \
    {"stop", offsetof(mg_pop, stop), 0, HUGE_VAL, MG_JSON_ANY,                                \
     "number > start, ms, default: the end of the run"}

static int check_window(const char *path, double start, double stop, mg_err *err)
{
    char kp[MG_JSON_PATH_LEN];
    if (stop > start)
        return MG_OK;
    mg_json_key(kp, path, "stop");
    return mg_json_fail(err, kp, "%g ms is not after start = %g ms (allowed: number > start, ms)",
                        stop, start);
}

/* A stimulus object: its keys are those of f[n] (read into p; the last two are its window) and
 * `flag` when not NULL (a boolean the caller reads). */
static int parse_numbers(const json_t *o, const char *path, const mg_json_num_field *f, size_t n,
                         const char *flag, mg_pop *p, mg_err *err)
{
    const char *keys[9];
    for (size_t i = 0; i < n; i++)
        keys[i] = f[i].key;
    if (flag)
        keys[n] = flag;
    int rc = mg_json_check_keys(o, path, keys, n + (flag != NULL), err);
    if (rc == MG_OK)
        rc = mg_json_read_numbers(o, path, f, n, p, err);
    if (rc == MG_OK) {
        double start, stop;
        memcpy(&start, (const char *)p + f[n - 2].offset, sizeof start);
        memcpy(&stop, (const char *)p + f[n - 1].offset, sizeof stop);
        rc = check_window(path, start, stop, err);
    }
    return rc;
}

/* The numbers of "ac_current" and "ou_current" (docs/MODEL_FILE.md "Stimuli"). */
static const mg_json_num_field ac_fields[] = {
    {"amplitude", offsetof(mg_pop, ac_amplitude), 1, 0.0, MG_JSON_ANY, "number, pA"},
    {"frequency", offsetof(mg_pop, ac_frequency), 1, 0.0, MG_JSON_NONNEG, "number >= 0, Hz"},
    {"phase", offsetof(mg_pop, ac_phase), 0, 0.0, MG_JSON_ANY, "number, degrees, default 0"},
    {"offset", offsetof(mg_pop, ac_offset), 0, 0.0, MG_JSON_ANY, "number, pA, default 0"},
    WINDOW_FIELDS(ac_start, ac_stop),
};
static const mg_json_num_field ou_fields[] = {
    {"mean", offsetof(mg_pop, ou_mean), 0, 0.0, MG_JSON_ANY, "number, pA, default 0"},
    {"std", offsetof(mg_pop, ou_std), 1, 0.0, MG_JSON_NONNEG, "number >= 0, pA"},
    {"tau", offsetof(mg_pop, ou_tau), 1, 0.0, MG_JSON_POS, "number > 0, ms"},
    WINDOW_FIELDS(ou_start, ou_stop),
};

/* "ou_current": its numbers, and "independent" (true: a path per realization; default false,
 * the frozen path shared by every realization). */
static int parse_ou(const json_t *o, const char *path, mg_pop *p, mg_err *err)
{
    int rc = parse_numbers(o, path, ou_fields, COUNT(ou_fields), "independent", p, err);
    const json_t *ind = json_object_get(o, "independent");
    if (rc != MG_OK || !ind)
        return rc;
    char kp[MG_JSON_PATH_LEN];
    mg_json_key(kp, path, "independent");
    if (!json_is_boolean(ind))
        return mg_json_wrong_type(err, kp, "true or false", ind,
                                  "true: independent per realization; false (default): frozen");
    p->ou_independent = json_is_true(ind);
    return MG_OK;
}

/* A required array of finite numbers -> malloc'ed copy (NULL when empty). */
static int numbers(const json_t *o, const char *path, const char *key, const char *allowed,
                   double **out, int *n, mg_err *err)
{
    int found;
    return mg_json_numbers(o, path, key, allowed, 1, 0, NULL, out, n, &found, err);
}

/* The file name as given, or relative to the directory of the model file. */
static void resolve_file(const char *name, const char *source, char *out, size_t cap)
{
    const char *slash = source ? strrchr(source, '/') : NULL;
    if (name[0] == '/' || !slash || source[0] == '<')
        snprintf(out, cap, "%s", name);
    else
        snprintf(out, cap, "%.*s/%s", (int)(slash - source), source, name);
}

#define SERIES_T_ALLOWED "times >= 0 ms, strictly increasing, at least 2"

/* The samples of a time_current as read (t[nt] ms, v[nv] pA, allocated), and the JSON path kp
 * that the messages about them name. */
typedef struct {
    double *t, *v;
    int nt, nv;
    char kp[MG_JSON_PATH_LEN];
} series_in;

/* The samples of "file" (a CSV file, or the HDF5 dataset ds; relative to the model file
 * source), after checking both strings. */
static int series_file(const json_t *file, const json_t *ds, const char *path,
                       const char *source, series_in *si, mg_err *err)
{
    mg_json_key(si->kp, path, "file");
    if (!json_is_string(file) || json_string_length(file) == 0)
        return mg_json_fail(err, si->kp,
                            "must be a non-empty string, not %s (allowed: a file name, "
                            "relative to the model file)",
                            mg_json_type_name(file));
    if (ds && (!json_is_string(ds) || json_string_length(ds) == 0)) {
        mg_json_key(si->kp, path, "dataset");
        return mg_json_fail(err, si->kp,
                            "must be a non-empty string, not %s (allowed: the path of a "
                            "[n][2] dataset (time ms, current pA) in the HDF5 file)",
                            mg_json_type_name(ds));
    }
    char name[4096];
    resolve_file(json_string_value(file), source, name, sizeof name);
    int rc = mg_stim_read_series(name, ds ? json_string_value(ds) : NULL, si->kp, &si->t,
                                 &si->v, &si->nt, err);
    if (rc != MG_OK)
        return rc;
    si->nv = si->nt;
    mg_json_key(si->kp, path, "file");
    return MG_OK;
}

/* The samples given inline, "times" (ms) and "values" (pA) of the same length ("dataset" is
 * refused: it belongs to a file). On failure si->t, si->v may hold arrays to free. */
static int series_inline(const json_t *o, const json_t *ds, const char *path, series_in *si,
                         mg_err *err)
{
    if (ds) {
        mg_json_key(si->kp, path, "dataset");
        return mg_json_fail(err, si->kp,
                            "is only meaningful with \"file\" (allowed: \"dataset\" with "
                            "an HDF5 \"file\")");
    }
    int rc = numbers(o, path, "times", SERIES_T_ALLOWED, &si->t, &si->nt, err);
    if (rc == MG_OK)
        rc = numbers(o, path, "values", "array of currents in pA, one per time", &si->v,
                     &si->nv, err);
    if (rc == MG_OK && si->nv != si->nt) {
        mg_json_key(si->kp, path, "values");
        rc = mg_json_fail(err, si->kp,
                          "has %d entries but times has %d (allowed: one current in pA "
                          "per time)",
                          si->nv, si->nt);
    }
    mg_json_key(si->kp, path, "times");
    return rc;
}

static int parse_series(const json_t *o, const char *path, const char *source, mg_pop *p,
                        mg_err *err)
{
    static const char *const keys[] = {"file", "dataset", "times", "values"};
    series_in si = {NULL, NULL, 0, 0, ""};
    int rc = mg_json_check_keys(o, path, keys, sizeof keys / sizeof keys[0], err);
    if (rc != MG_OK)
        return rc;
    json_t *file = json_object_get(o, "file"), *ds = json_object_get(o, "dataset");
    int inline_ = json_object_get(o, "times") || json_object_get(o, "values");
    if (!file == !inline_)
        return mg_json_fail(err, path,
                            "%s (allowed: \"file\" (CSV, or HDF5 with \"dataset\") or "
                            "\"times\" (ms) with \"values\" (pA))",
                            file ? "both \"file\" and \"times\"/\"values\" given"
                                 : "no samples given");
    if (file) {
        rc = series_file(file, ds, path, source, &si, err);
        if (rc != MG_OK)
            return rc;
    } else {
        rc = series_inline(o, ds, path, &si, err);
    }
    if (rc == MG_OK && si.nt < 2)
        rc = mg_json_fail(err, si.kp, "has %d sample(s) (allowed: %s)", si.nt, SERIES_T_ALLOWED);
    if (rc != MG_OK) {
        free(si.t);
        free(si.v);
        return rc;
    }
    return mg_json_take_series(si.kp, file != NULL, si.t, si.v, si.nt, SERIES_T_ALLOWED,
                               &p->n_series, &p->series_times, &p->series_amps, err);
}

int mg_stim_parse_pop(const json_t *obj, const char *path, const char *source, mg_pop *p,
                      mg_err *err)
{
    char kp[MG_JSON_PATH_LEN];
    static const char *const names[] = {"ac_current", "ou_current", "time_current"};
    for (int k = 0; k < 3; k++) {
        json_t *o = json_object_get(obj, names[k]);
        if (!o)
            continue;
        mg_json_key(kp, path, names[k]);
        if (!json_is_object(o))
            return mg_json_wrong_type(err, kp, "an object", o,
                                      "see docs/MODEL_FILE.md \"Stimuli\"");
        int rc;
        if (k == 0)
            p->has_ac = (rc = parse_numbers(o, kp, ac_fields, COUNT(ac_fields), NULL, p,
                                            err)) == MG_OK;
        else if (k == 1)
            p->has_ou = (rc = parse_ou(o, kp, p, err)) == MG_OK;
        else
            rc = parse_series(o, kp, source, p, err);
        if (rc != MG_OK)
            return rc;
    }
    return MG_OK;
}
