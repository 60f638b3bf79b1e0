/* src/model/model_json.h: the JSON checks the model file readers share (src/model/model.c, the
 * stimulus keys in src/model/stimulus_parse.c): "<JSON Pointer>: <what is wrong> (allowed: ...)"
 * messages, JSON Pointers, unknown keys with "did you mean", and typed getters.
 * Internal API, not installed. Every function here returns MG_OK or MG_EINVAL (MG_ENOMEM where
 * it allocates) with the message in err; none prints, exits or keeps state: reentrant. */
#ifndef MESOGIF_MODEL_JSON_H
#define MESOGIF_MODEL_JSON_H

#include <jansson.h>
#include <stddef.h>

#include "mesogif/error.h"
#include "mesogif/model.h" /* MG_NAME_MAX */

#define MG_JSON_PATH_LEN 256 /* JSON Pointers of this schema are short; longer ones are cut */

/* "<path>: <fmt...>" into err; returns MG_EINVAL. */
int mg_json_fail(mg_err *err, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* out = path + "/" + key, with '~' and '/' escaped as RFC 6901 asks (~0, ~1); path "/" is the
 * root. mg_json_index: out = path + "/" + i. Both cut an over-long pointer. */
void mg_json_key(char out[MG_JSON_PATH_LEN], const char *path, const char *key);
void mg_json_index(char out[MG_JSON_PATH_LEN], const char *path, size_t i);

/* "a string", "an integer", ... for "must be X, not <type>". */
const char *mg_json_type_name(const json_t *v);

/* mg_json_type_name with the value of a scalar ("a string (\"500\")", "an integer (3)"), so
 * that a message shows what was found. buf holds MG_JSON_TYPE_DESC_LEN bytes; the result is
 * buf or a literal. MG_JSON_TYPE_DESC(v) passes a buffer that lives to the end of the full
 * expression. */
#define MG_JSON_TYPE_DESC_LEN 128
#define MG_JSON_TYPE_DESC(v) mg_json_type_desc((v), (char[MG_JSON_TYPE_DESC_LEN]){0})
const char *mg_json_type_desc(const json_t *v, char *buf);

/* "<kp>: must be <what>, not <what v is> (allowed: ...)"; returns MG_EINVAL. */
int mg_json_wrong_type(mg_err *err, const char *kp, const char *what, const json_t *v,
                       const char *allowed);

/* The known word closest to key, or NULL when none is close enough to be a plausible typo
 * (edit distance <= 2, or <= a third of the key's length for long keys). */
const char *mg_json_closest(const char *key, const char *const *known, size_t n);

/* out = "a, b, c" (cut to cap bytes). */
void mg_json_join(char *out, size_t cap, const char *const *words, size_t n);

/* Every key of obj must be in known[n] or be "comment" (free text anywhere); an unknown key
 * is reported with the closest known one. */
int mg_json_check_keys(const json_t *obj, const char *path, const char *const *known, size_t n,
                       mg_err *err);

/* Typed getters: look up key in the object at path. Absent: an error when required, else
 * *found = 0 and *out unchanged. Present: a wrong type or value is an error naming the key's
 * JSON Pointer, else *found = 1 and *out is the value. allowed describes the valid values. */
int mg_json_number(const json_t *obj, const char *path, const char *key, const char *allowed,
                   int required, double *out, int *found, mg_err *err); /* finite */
int mg_json_integer(const json_t *obj, const char *path, const char *key, const char *allowed,
                    int required, long long *out, int *found, mg_err *err);
/* A string of 1 .. MG_NAME_MAX-1 characters. */
int mg_json_name(const json_t *obj, const char *path, const char *key, const char *allowed,
                 int required, char out[MG_NAME_MAX], int *found, mg_err *err);
/* An array of finite numbers (possibly empty), *n_out entries. With cap > 0 at most cap
 * entries are accepted and written to fixed[]; with cap == 0 they go to a new malloc'ed array
 * *heap (NULL when empty; the caller frees it; nothing is left allocated on error). */
int mg_json_numbers(const json_t *obj, const char *path, const char *key, const char *allowed,
                    int required, size_t cap, double *fixed, double **heap, int *n_out,
                    int *found, mg_err *err);
/* An object (type JSON_OBJECT) or an array (JSON_ARRAY); *out is NULL when absent. */
int mg_json_container(const json_t *obj, const char *path, const char *key, const char *allowed,
                      int required, json_type type, json_t **out, mg_err *err);

/* Number fields described by a table: key, where the double goes in the struct being filled,
 * whether required, the default when optional and absent, and the range checked. */
enum { MG_JSON_ANY, MG_JSON_POS, MG_JSON_NONNEG, MG_JSON_UNIT }; /* x, > 0, >= 0, in [0, 1] */

typedef struct {
    const char *key;
    size_t offset; /* of the double inside the struct being filled */
    int required;
    double dflt; /* when optional and absent */
    int range;   /* MG_JSON_ANY, ... */
    const char *allowed;
} mg_json_num_field;

/* Read the n fields f[] of the object at path into the struct at dst, in table order; stops
 * at the first error (the fields before it are written). */
int mg_json_read_numbers(const json_t *obj, const char *path, const mg_json_num_field *f,
                         size_t n, void *dst, mg_err *err);

/* The samples of a time series (a step current, a stimulus), t[n] (ms) and v[n] (pA), owned
 * (malloc'ed) by the caller: times >= 0 and strictly increasing, values finite. Sample i is
 * named "<kp>/<i>", or "<kp>: sample <i>" when from_file. On success *n_out, *t_out, *v_out
 * take n, t, v; on error t and v are freed. */
int mg_json_take_series(const char *kp, int from_file, double *t, double *v, int n,
                        const char *t_allowed, int *n_out, double **t_out, double **v_out,
                        mg_err *err);

#endif /* MESOGIF_MODEL_JSON_H */
