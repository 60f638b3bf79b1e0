/* src/model/stimulus_parse.c: the stimulus keys of a population in a model file (contract in
 * src/model/stimulus.h; schema in docs/MODEL_FILE.md "Stimuli"). Messages follow src/model/model.c:
 * "<JSON Pointer>: <what is wrong> (allowed: ...)"; on error p owns nothing new. */
#include "model/stimulus.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PATH_LEN 256

static int fail(mg_err *err, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(mg_err *err, const char *path, const char *fmt, ...)
{
    char what[MG_ERR_LEN];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    return mg_err_set(err, MG_EINVAL, "%s: %s", path, what);
}

/* The keys of this schema contain no '~' or '/', so no RFC 6901 escaping is needed. */
static void path_key(char out[PATH_LEN], const char *path, const char *key)
{
    if (snprintf(out, PATH_LEN, "%s/%s", path, key) >= PATH_LEN) /* cut: mark it */
        memcpy(out + PATH_LEN - 4, "...", 4);
}

static const char *type_name(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT: return "an object";
    case JSON_ARRAY: return "an array";
    case JSON_STRING: return "a string";
    case JSON_INTEGER: return "an integer";
    case JSON_REAL: return "a real number";
    case JSON_TRUE: return "true";
    case JSON_FALSE: return "false";
    case JSON_NULL: return "null";
    }
    return "an unknown JSON value";
}

static int check_keys(const json_t *obj, const char *path, const char *const *known, size_t n,
                      mg_err *err)
{
    const char *key;
    json_t *val;
    json_object_foreach((json_t *)obj, key, val) {
        int ok = strcmp(key, "comment") == 0;
        for (size_t i = 0; i < n && !ok; i++)
            ok = strcmp(key, known[i]) == 0;
        if (ok)
            continue;
        char kp[PATH_LEN], list[256] = "";
        size_t len = 0;
        for (size_t i = 0; i < n; i++)
            len += (size_t)snprintf(list + len, sizeof list - len, "%s, ", known[i]);
        path_key(kp, path, key);
        return fail(err, kp, "unknown key \"%s\" (allowed: %scomment)", key, list);
    }
    return MG_OK;
}

enum { ANY, NONNEG, POS };

/* A finite number at obj[key]; *x keeps its default when absent and not required. */
static int number(const json_t *obj, const char *path, const char *key, int required, int range,
                  const char *allowed, double *x, mg_err *err)
{
    char kp[PATH_LEN];
    json_t *v = json_object_get(obj, key);
    if (!v)
        return required ? fail(err, path, "missing required key \"%s\" (allowed: %s)", key,
                               allowed)
                        : MG_OK;
    path_key(kp, path, key);
    if (!json_is_number(v))
        return fail(err, kp, "must be a number, not %s (allowed: %s)", type_name(v), allowed);
    double y = json_number_value(v);
    if (!isfinite(y) || (range == NONNEG && !(y >= 0.0)) || (range == POS && !(y > 0.0)))
        return fail(err, kp, "%g is out of range (allowed: %s)", y, allowed);
    *x = y;
    return MG_OK;
}

/* start (>= 0, default 0) and stop (> start, default +inf) */
static int window(const json_t *obj, const char *path, double *start, double *stop, mg_err *err)
{
    char kp[PATH_LEN];
    *start = 0.0;
    *stop = HUGE_VAL;
    int rc = number(obj, path, "start", 0, NONNEG, "number >= 0, ms, default 0", start, err);
    if (rc == MG_OK)
        rc = number(obj, path, "stop", 0, ANY, "number > start, ms, default: the end of the run",
                    stop, err);
    if (rc == MG_OK && !(*stop > *start)) {
        path_key(kp, path, "stop");
        rc = fail(err, kp, "%g ms is not after start = %g ms (allowed: number > start, ms)",
                  *stop, *start);
    }
    return rc;
}

static int parse_ac(const json_t *o, const char *path, mg_pop *p, mg_err *err)
{
    static const char *const keys[] = {"amplitude", "frequency", "phase", "offset", "start",
                                       "stop"};
    int rc = check_keys(o, path, keys, sizeof keys / sizeof keys[0], err);
    p->ac_phase = p->ac_offset = 0.0;
    if (rc == MG_OK)
        rc = number(o, path, "amplitude", 1, ANY, "number, pA", &p->ac_amplitude, err);
    if (rc == MG_OK)
        rc = number(o, path, "frequency", 1, NONNEG, "number >= 0, Hz", &p->ac_frequency, err);
    if (rc == MG_OK)
        rc = number(o, path, "phase", 0, ANY, "number, degrees, default 0", &p->ac_phase, err);
    if (rc == MG_OK)
        rc = number(o, path, "offset", 0, ANY, "number, pA, default 0", &p->ac_offset, err);
    if (rc == MG_OK)
        rc = window(o, path, &p->ac_start, &p->ac_stop, err);
    p->has_ac = rc == MG_OK;
    return rc;
}

static int parse_ou(const json_t *o, const char *path, mg_pop *p, mg_err *err)
{
    static const char *const keys[] = {"mean", "std", "tau", "start", "stop"};
    int rc = check_keys(o, path, keys, sizeof keys / sizeof keys[0], err);
    p->ou_mean = 0.0;
    if (rc == MG_OK)
        rc = number(o, path, "mean", 0, ANY, "number, pA, default 0", &p->ou_mean, err);
    if (rc == MG_OK)
        rc = number(o, path, "std", 1, NONNEG, "number >= 0, pA", &p->ou_std, err);
    if (rc == MG_OK)
        rc = number(o, path, "tau", 1, POS, "number > 0, ms", &p->ou_tau, err);
    if (rc == MG_OK)
        rc = window(o, path, &p->ou_start, &p->ou_stop, err);
    p->has_ou = rc == MG_OK;
    return rc;
}

/* An array of finite numbers -> malloc'ed copy. */
static int numbers(const json_t *o, const char *path, const char *key, const char *allowed,
                   double **out, int *n, mg_err *err)
{
    char kp[PATH_LEN], ep[PATH_LEN + 24];
    json_t *v = json_object_get(o, key);
    path_key(kp, path, key);
    if (!v)
        return fail(err, path, "missing required key \"%s\" (allowed: %s)", key, allowed);
    if (!json_is_array(v))
        return fail(err, kp, "must be an array, not %s (allowed: %s)", type_name(v), allowed);
    size_t k = json_array_size(v);
    if (k > 0x7fffffff)
        return fail(err, kp, "has %zu entries (allowed: %s)", k, allowed);
    double *x = malloc((k > 0 ? k : 1) * sizeof *x);
    if (!x)
        return mg_err_set(err, MG_ENOMEM, "%s: out of memory for %zu numbers", kp, k);
    for (size_t i = 0; i < k; i++) {
        json_t *e = json_array_get(v, i);
        if (!json_is_number(e) || !isfinite(json_number_value(e))) {
            snprintf(ep, sizeof ep, "%s/%zu", kp, i);
            free(x);
            return fail(err, ep, "must be a finite number, not %s (allowed: %s)", type_name(e),
                        allowed);
        }
        x[i] = json_number_value(e);
    }
    *out = x;
    *n = (int)k;
    return MG_OK;
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

static int parse_series(const json_t *o, const char *path, const char *source, mg_pop *p,
                        mg_err *err)
{
    static const char *const keys[] = {"file", "dataset", "times", "values"};
    const char *t_allowed = "times >= 0 ms, strictly increasing, at least 2";
    char kp[PATH_LEN], ep[PATH_LEN + 24];
    double *t = NULL, *v = NULL;
    int nt = 0, nv = 0;
    int rc = check_keys(o, path, keys, sizeof keys / sizeof keys[0], err);
    if (rc != MG_OK)
        return rc;
    json_t *file = json_object_get(o, "file"), *ds = json_object_get(o, "dataset");
    int inline_ = json_object_get(o, "times") || json_object_get(o, "values");
    if (!file == !inline_)
        return fail(err, path, "%s (allowed: \"file\" (CSV, or HDF5 with \"dataset\") or "
                    "\"times\" (ms) with \"values\" (pA))",
                    file ? "both \"file\" and \"times\"/\"values\" given" : "no samples given");
    if (file) {
        path_key(kp, path, "file");
        if (!json_is_string(file) || json_string_length(file) == 0)
            return fail(err, kp, "must be a non-empty string, not %s (allowed: a file name, "
                        "relative to the model file)", type_name(file));
        if (ds && (!json_is_string(ds) || json_string_length(ds) == 0)) {
            path_key(kp, path, "dataset");
            return fail(err, kp, "must be a non-empty string, not %s (allowed: the path of a "
                        "[n][2] dataset (time ms, current pA) in the HDF5 file)", type_name(ds));
        }
        char name[4096];
        resolve_file(json_string_value(file), source, name, sizeof name);
        rc = mg_stim_read_series(name, ds ? json_string_value(ds) : NULL, kp, &t, &v, &nt, err);
        if (rc != MG_OK)
            return rc;
        nv = nt;
        path_key(kp, path, "file");
    } else {
        if (ds) {
            path_key(kp, path, "dataset");
            return fail(err, kp, "is only meaningful with \"file\" (allowed: \"dataset\" with "
                        "an HDF5 \"file\")");
        }
        rc = numbers(o, path, "times", t_allowed, &t, &nt, err);
        if (rc == MG_OK)
            rc = numbers(o, path, "values", "array of currents in pA, one per time", &v, &nv,
                         err);
        if (rc == MG_OK && nv != nt) {
            path_key(kp, path, "values");
            rc = fail(err, kp, "has %d entries but times has %d (allowed: one current in pA "
                      "per time)", nv, nt);
        }
        path_key(kp, path, "times");
    }
    if (rc == MG_OK && nt < 2)
        rc = fail(err, kp, "has %d sample(s) (allowed: %s)", nt, t_allowed);
    for (int i = 0; rc == MG_OK && i < nt; i++) {
        snprintf(ep, sizeof ep, "%s%s%d", kp, file ? ": sample " : "/", i);
        if (!(t[i] >= 0.0) || !isfinite(t[i]))
            rc = fail(err, ep, "time %g ms is negative or not finite (allowed: %s)", t[i],
                      t_allowed);
        else if (i > 0 && !(t[i] > t[i - 1]))
            rc = fail(err, ep, "time %g ms is not after the previous one, %g ms (allowed: %s)",
                      t[i], t[i - 1], t_allowed);
        else if (!isfinite(v[i]))
            rc = fail(err, ep, "current %g pA is not finite (allowed: finite numbers, pA)", v[i]);
    }
    if (rc != MG_OK) {
        free(t);
        free(v);
        return rc;
    }
    p->n_series = nt;
    p->series_times = t;
    p->series_amps = v;
    return MG_OK;
}

int mg_stim_parse_pop(const json_t *obj, const char *path, const char *source, mg_pop *p,
                      mg_err *err)
{
    char kp[PATH_LEN];
    static const char *const names[] = {"ac_current", "ou_current", "time_current"};
    for (int k = 0; k < 3; k++) {
        json_t *o = json_object_get(obj, names[k]);
        if (!o)
            continue;
        path_key(kp, path, names[k]);
        if (!json_is_object(o))
            return fail(err, kp, "must be an object, not %s (allowed: see docs/MODEL_FILE.md "
                        "\"Stimuli\")", type_name(o));
        int rc = k == 0 ? parse_ac(o, kp, p, err)
               : k == 1 ? parse_ou(o, kp, p, err)
                        : parse_series(o, kp, source, p, err);
        if (rc != MG_OK)
            return rc;
    }
    return MG_OK;
}
