/* src/model/model_json.c: the JSON checks the model file readers share (contract in
 * src/model/model_json.h): messages "<JSON Pointer>: <what is wrong> (allowed: ...)", JSON Pointers
 * (RFC 6901), "did you mean" for unknown keys, and the typed getters. */
#include "model/model_json.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- messages and JSON Pointers ---------------------------------------------------------- */

int mg_json_fail(mg_err *err, const char *path, const char *fmt, ...)
{
    char what[MG_ERR_LEN];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    return mg_err_set(err, MG_EINVAL, "%s: %s", path, what);
}

void mg_json_key(char out[MG_JSON_PATH_LEN], const char *path, const char *key)
{
    size_t n = (size_t)snprintf(out, MG_JSON_PATH_LEN, "%s/", strcmp(path, "/") == 0 ? "" : path);
    for (const char *c = key; *c && n + 3 < MG_JSON_PATH_LEN; c++) {
        if (*c == '~' || *c == '/') {
            out[n++] = '~';
            out[n++] = *c == '~' ? '0' : '1';
        } else {
            out[n++] = *c;
        }
    }
    out[n < MG_JSON_PATH_LEN ? n : MG_JSON_PATH_LEN - 1] = '\0';
}

void mg_json_index(char out[MG_JSON_PATH_LEN], const char *path, size_t i)
{
    int w = snprintf(out, MG_JSON_PATH_LEN, "%s/%zu", strcmp(path, "/") == 0 ? "" : path, i);
    if (w < 0 || w >= MG_JSON_PATH_LEN) /* cut: keep the (more telling) end visible as "..." */
        memcpy(out + MG_JSON_PATH_LEN - 4, "...", 4);
}

const char *mg_json_type_name(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return "an object";
    case JSON_ARRAY:
        return "an array";
    case JSON_STRING:
        return "a string";
    case JSON_INTEGER:
        return "an integer";
    case JSON_REAL:
        return "a real number";
    case JSON_TRUE:
        return "true";
    case JSON_FALSE:
        return "false";
    case JSON_NULL:
        return "null";
    }
    return "an unknown JSON value";
}

const char *mg_json_type_desc(const json_t *v, char *buf)
{
    switch (json_typeof(v)) {
    case JSON_STRING:
        snprintf(buf, MG_JSON_TYPE_DESC_LEN, "a string (\"%.60s\")", json_string_value(v));
        return buf;
    case JSON_INTEGER:
        snprintf(buf, MG_JSON_TYPE_DESC_LEN, "an integer (%" JSON_INTEGER_FORMAT ")",
                 json_integer_value(v));
        return buf;
    case JSON_REAL:
        snprintf(buf, MG_JSON_TYPE_DESC_LEN, "a real number (%g)", json_real_value(v));
        return buf;
    default:
        return mg_json_type_name(v);
    }
}

/* Levenshtein distance (unit costs; case counts), for "did you mean". Keys are short: strings
 * longer than 63 characters are never close to a known key and return a large distance. */
static size_t edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 63 || lb > 63)
        return 1000;
    size_t row[64];
    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t up = row[j];
            size_t best = diag + (a[i - 1] != b[j - 1]);
            if (up + 1 < best)
                best = up + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[lb];
}

/* "tau_mem" -> "tau_m", "lambda0" -> "lambda_0"; "foo" suggests nothing. */
const char *mg_json_closest(const char *key, const char *const *known, size_t n)
{
    const char *best = NULL;
    size_t best_d = (size_t)-1;
    for (size_t i = 0; i < n; i++) {
        size_t d = edit_distance(key, known[i]);
        if (d < best_d) {
            best_d = d;
            best = known[i];
        }
    }
    size_t limit = strlen(key) / 3 > 2 ? strlen(key) / 3 : 2;
    return best_d <= limit ? best : NULL;
}

void mg_json_join(char *out, size_t cap, const char *const *words, size_t n)
{
    size_t len = 0;
    out[0] = '\0';
    for (size_t i = 0; i < n && len < cap; i++)
        len += (size_t)snprintf(out + len, cap - len, "%s%s", i ? ", " : "", words[i]);
}

int mg_json_check_keys(const json_t *obj, const char *path, const char *const *known, size_t n,
                       mg_err *err)
{
    const char *key;
    json_t *val;
    json_object_foreach((json_t *)obj, key, val) {
        if (strcmp(key, "comment") == 0)
            continue;
        int ok = 0;
        for (size_t i = 0; i < n && !ok; i++)
            ok = strcmp(key, known[i]) == 0;
        if (ok)
            continue;
        char kp[MG_JSON_PATH_LEN], list[512], hint[160] = "";
        mg_json_key(kp, path, key);
        mg_json_join(list, sizeof list, known, n);
        if (strcmp(key, "tau_syn_ex") == 0 || strcmp(key, "tau_syn_in") == 0) {
            /* NEST keeps tau_syn on the target neuron, chosen by the sign of the weight. */
            snprintf(hint, sizeof hint,
                     " (set \"tau_syn\" on each projection instead: NEST's "
                     "%s applies to projections with %s weights)",
                     key, key[8] == 'e' ? "positive" : "negative");
        } else {
            const char *sug = mg_json_closest(key, known, n);
            if (sug)
                snprintf(hint, sizeof hint, " (did you mean \"%s\"?)", sug);
        }
        return mg_json_fail(err, kp, "unknown key \"%s\"%s (allowed: %s, comment)", key, hint,
                            list);
    }
    return MG_OK;
}

/* ---- typed getters ------------------------------------------------------------------------
 * Each looks up key in the object at path and reports a wrong type with the
 * key's JSON Pointer. JSON has no NaN or Inf, and jansson rejects overflowing literals such
 * as 1e400 while parsing, so the finiteness checks are a second line of defence. */

/* Look up key in the object at path. Absent: *v = NULL, *found = 0, an error when required.
 * Present: kp is its JSON Pointer, *found = 1, and a value not of type want (JSON_REAL: any
 * number) is an error that leaves *v NULL. */
static int lookup(const json_t *obj, const char *path, const char *key, const char *allowed,
                  int required, json_type want, json_t **v, char kp[MG_JSON_PATH_LEN],
                  int *found, mg_err *err)
{
    static const char *const what[] = {[JSON_OBJECT] = "an object", [JSON_ARRAY] = "an array",
                                       [JSON_STRING] = "a string", [JSON_INTEGER] = "an integer",
                                       [JSON_REAL] = "a number"};
    *v = json_object_get(obj, key);
    *found = *v != NULL;
    if (!*v)
        return required ? mg_json_fail(err, path, "missing required key \"%s\" (allowed: %s)", key,
                                       allowed)
                        : MG_OK;
    mg_json_key(kp, path, key);
    const json_t *x = *v;
    int rc = MG_OK;
    if (want == JSON_INTEGER && json_is_real(x))
        rc = mg_json_fail(err, kp,
                          "must be an integer, not a real number (%g): write integers "
                          "without a decimal point or exponent (allowed: %s)",
                          json_real_value(x), allowed);
    else if (want == JSON_REAL ? !json_is_number(x) : json_typeof(x) != want)
        rc = mg_json_wrong_type(err, kp, what[want], x, allowed);
    if (rc != MG_OK)
        *v = NULL;
    return rc;
}

int mg_json_wrong_type(mg_err *err, const char *kp, const char *what, const json_t *v,
                       const char *allowed)
{
    return mg_json_fail(err, kp, "must be %s, not %s (allowed: %s)", what, MG_JSON_TYPE_DESC(v),
                        allowed);
}

int mg_json_number(const json_t *obj, const char *path, const char *key, const char *allowed,
                   int required, double *out, int *found, mg_err *err)
{
    char kp[MG_JSON_PATH_LEN];
    json_t *v;
    int rc = lookup(obj, path, key, allowed, required, JSON_REAL, &v, kp, found, err);
    if (rc != MG_OK || !v)
        return rc;
    double x = json_number_value(v);
    if (!isfinite(x))
        return mg_json_fail(err, kp, "must be finite (allowed: %s)", allowed);
    *out = x;
    return MG_OK;
}

int mg_json_integer(const json_t *obj, const char *path, const char *key, const char *allowed,
                    int required, long long *out, int *found, mg_err *err)
{
    char kp[MG_JSON_PATH_LEN];
    json_t *v;
    int rc = lookup(obj, path, key, allowed, required, JSON_INTEGER, &v, kp, found, err);
    if (rc != MG_OK || !v)
        return rc;
    *out = (long long)json_integer_value(v);
    return MG_OK;
}

int mg_json_name(const json_t *obj, const char *path, const char *key, const char *allowed,
                 int required, char out[MG_NAME_MAX], int *found, mg_err *err)
{
    char kp[MG_JSON_PATH_LEN];
    json_t *v;
    int rc = lookup(obj, path, key, allowed, required, JSON_STRING, &v, kp, found, err);
    if (rc != MG_OK || !v)
        return rc;
    const char *s = json_string_value(v);
    size_t len = strlen(s);
    if (len == 0 || len >= MG_NAME_MAX)
        return mg_json_fail(err, kp, "\"%.80s\" has %zu characters (allowed: %s)", s, len, allowed);
    memcpy(out, s, len + 1);
    return MG_OK;
}

int mg_json_numbers(const json_t *obj, const char *path, const char *key, const char *allowed,
                    int required, size_t cap, double *fixed, double **heap, int *n_out, int *found,
                    mg_err *err)
{
    char kp[MG_JSON_PATH_LEN], ep[MG_JSON_PATH_LEN];
    json_t *v;
    *n_out = 0;
    int rc = lookup(obj, path, key, allowed, required, JSON_ARRAY, &v, kp, found, err);
    if (rc != MG_OK || !v)
        return rc;
    size_t n = json_array_size(v);
    if (cap > 0 && n > cap)
        return mg_json_fail(err, kp, "has %zu entries, more than %zu (allowed: %s)", n, cap,
                            allowed);
    if (n > (size_t)0x7fffffff)
        return mg_json_fail(err, kp, "has %zu entries (allowed: %s)", n, allowed);
    double *dst = fixed;
    if (cap == 0) {
        *heap = NULL;
        if (n == 0)
            return MG_OK;
        dst = malloc(n * sizeof *dst);
        if (!dst)
            return mg_err_set(err, MG_ENOMEM, "%s: out of memory for %zu numbers", kp, n);
    }
    for (size_t i = 0; i < n; i++) {
        json_t *e = json_array_get(v, i);
        mg_json_index(ep, kp, i);
        if (!json_is_number(e))
            rc = mg_json_wrong_type(err, ep, "a number", e, allowed);
        else if (!isfinite(json_number_value(e)))
            rc = mg_json_fail(err, ep, "must be finite (allowed: %s)", allowed);
        if (rc != MG_OK) {
            if (cap == 0)
                free(dst);
            return rc;
        }
        dst[i] = json_number_value(e);
    }
    if (cap == 0)
        *heap = dst;
    *n_out = (int)n;
    return MG_OK;
}

int mg_json_container(const json_t *obj, const char *path, const char *key, const char *allowed,
                      int required, json_type type, json_t **out, mg_err *err)
{
    char kp[MG_JSON_PATH_LEN];
    int found;
    return lookup(obj, path, key, allowed, required, type, out, kp, &found, err);
}

int mg_json_read_numbers(const json_t *obj, const char *path, const mg_json_num_field *f,
                         size_t n, void *dst, mg_err *err)
{
    for (size_t i = 0; i < n; i++) {
        double x = f[i].dflt;
        int found, rc;
        rc = mg_json_number(obj, path, f[i].key, f[i].allowed, f[i].required, &x, &found, err);
        if (rc != MG_OK)
            return rc;
        int bad = (f[i].range == MG_JSON_POS && !(x > 0.0)) ||
                  (f[i].range == MG_JSON_NONNEG && !(x >= 0.0)) ||
                  (f[i].range == MG_JSON_UNIT && !(x >= 0.0 && x <= 1.0));
        if (found && bad) {
            char kp[MG_JSON_PATH_LEN];
            mg_json_key(kp, path, f[i].key);
            return mg_json_fail(err, kp, "%g is out of range (allowed: %s)", x, f[i].allowed);
        }
        memcpy((char *)dst + f[i].offset, &x, sizeof x);
    }
    return MG_OK;
}

int mg_json_take_series(const char *kp, int from_file, double *t, double *v, int n,
                        const char *t_allowed, int *n_out, double **t_out, double **v_out,
                        mg_err *err)
{
    char ep[MG_JSON_PATH_LEN + 24];
    int rc = MG_OK;
    for (int i = 0; rc == MG_OK && i < n; i++) {
        snprintf(ep, sizeof ep, "%s%s%d", kp, from_file ? ": sample " : "/", i);
        if (!(t[i] >= 0.0) || !isfinite(t[i]))
            rc = mg_json_fail(err, ep, "time %g ms is negative or not finite (allowed: %s)", t[i],
                              t_allowed);
        else if (i > 0 && !(t[i] > t[i - 1]))
            rc = mg_json_fail(err, ep,
                              "time %g ms is not after the previous one, %g ms: times must be "
                              "strictly increasing (allowed: %s)",
                              t[i], t[i - 1], t_allowed);
        else if (!isfinite(v[i]))
            rc = mg_json_fail(err, ep, "current %g pA is not finite (allowed: finite numbers, pA)",
                              v[i]);
    }
    if (rc != MG_OK) {
        free(t);
        free(v);
        return rc;
    }
    *n_out = n;
    *t_out = t;
    *v_out = v;
    return MG_OK;
}
