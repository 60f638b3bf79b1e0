/* src/model/model_set.c: parameter overrides of a parsed model (mg_model_set, contract in
 * include/mesogif/model.h; the mesogif run option --set).
 *
 * An override edits the model's JSON text and parses it again instead of writing into the
 * structs: then an override is checked by exactly the code, ranges and messages that check the
 * model file (a NEST weight is converted, a derived value follows), and the model text stored in
 * the output file and hashed into the run key carries the overridden value, so a run with
 * --set is reproducible from its file alone.
 *
 * Syntax: POP.KEY[.KEY...]=VALUE (a population key, or a key inside one of its objects, e.g.
 * E.ac_current.frequency) and PROJ[SRC->TGT].KEY=VALUE. VALUE is JSON (250, [100, 1000],
 * {"amplitude": 10, "frequency": 5}); anything that is not JSON is taken as a string, so that
 * the model file's own message says what was expected. */
#include "mesogif/model.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SET_SYNTAX "POP.PARAM=VALUE or PROJ[SRC->TGT].PARAM=VALUE"

/* Set the dotted key path (a.b.c) inside obj to v (stolen), creating objects on the way. */
static int set_path(json_t *obj, const char *keys, json_t *v, const char *what, mg_err *err)
{
    char buf[256];
    if (strlen(keys) >= sizeof buf || keys[0] == '\0') {
        json_decref(v);
        return mg_err_set(err, MG_EINVAL, "%s: empty or too long parameter name (allowed: "
                          SET_SYNTAX ")", what);
    }
    strcpy(buf, keys);
    char *k = buf;
    for (char *dot; (dot = strchr(k, '.')) != NULL; k = dot + 1) {
        *dot = '\0';
        if (!*k)
            break;
        json_t *sub = json_object_get(obj, k);
        if (!sub) {
            sub = json_object();
            if (!sub || json_object_set_new(obj, k, sub) != 0) {
                json_decref(v);
                return mg_err_set(err, MG_ENOMEM, "%s: out of memory", what);
            }
        } else if (!json_is_object(sub)) {
            json_decref(v);
            return mg_err_set(err, MG_EINVAL, "%s: \"%s\" is not an object in the model, so it "
                              "has no key \"%s\" (allowed: " SET_SYNTAX ")", what, k, dot + 1);
        }
        obj = sub;
    }
    if (!*k) {
        json_decref(v);
        return mg_err_set(err, MG_EINVAL, "%s: empty parameter name (allowed: " SET_SYNTAX ")",
                          what);
    }
    if (json_object_set_new(obj, k, v) != 0)
        return mg_err_set(err, MG_ENOMEM, "%s: out of memory", what);
    return MG_OK;
}

/* The population object whose name is the longest prefix of lhs followed by '.'. */
static json_t *find_pop(json_t *pops, const char *lhs, size_t *name_len)
{
    json_t *best = NULL;
    size_t i;
    json_t *o;
    *name_len = 0;
    json_array_foreach(pops, i, o) {
        const char *name = json_string_value(json_object_get(o, "name"));
        size_t n = name ? strlen(name) : 0;
        if (n > *name_len && strncmp(lhs, name, n) == 0 && lhs[n] == '.') {
            best = o;
            *name_len = n;
        }
    }
    return best;
}

static void names_of(json_t *arr, const char *fmt2, char *out, size_t cap)
{
    size_t len = 0, i;
    json_t *o;
    out[0] = '\0';
    json_array_foreach(arr, i, o) {
        const char *a = json_string_value(json_object_get(o, fmt2 ? "source" : "name"));
        const char *b = fmt2 ? json_string_value(json_object_get(o, "target")) : NULL;
        int w = fmt2 ? snprintf(out + len, cap - len, "%sPROJ[%s->%s]", i ? ", " : "",
                                a ? a : "?", b ? b : "?")
                     : snprintf(out + len, cap - len, "%s%s", i ? ", " : "", a ? a : "?");
        if (w < 0 || (size_t)w >= cap - len) {
            snprintf(out + (cap > 5 ? cap - 5 : 0), 5, "...");
            return;
        }
        len += (size_t)w;
    }
}

/* Edit root as the assignment says. */
static int apply(json_t *root, const char *lhs, json_t *v, const char *what, mg_err *err)
{
    char list[512];
    if (strncmp(lhs, "PROJ[", 5) == 0) {
        const char *arrow = strstr(lhs + 5, "->"), *close = strstr(lhs + 5, "].");
        if (!arrow || !close || arrow > close) {
            json_decref(v);
            return mg_err_set(err, MG_EINVAL, "%s: not of the form PROJ[SRC->TGT].PARAM "
                              "(allowed: " SET_SYNTAX ")", what);
        }
        char src[MG_NAME_MAX + 1], tgt[MG_NAME_MAX + 1];
        snprintf(src, sizeof src, "%.*s", (int)(arrow - lhs - 5), lhs + 5);
        snprintf(tgt, sizeof tgt, "%.*s", (int)(close - arrow - 2), arrow + 2);
        json_t *projs = json_object_get(root, "projections"), *hit = NULL, *o;
        size_t i;
        if (json_is_array(projs)) {
            json_array_foreach(projs, i, o) {
                const char *s = json_string_value(json_object_get(o, "source"));
                const char *t = json_string_value(json_object_get(o, "target"));
                if (s && t && strcmp(s, src) == 0 && strcmp(t, tgt) == 0)
                    hit = o;
            }
        }
        if (!hit) {
            json_decref(v);
            if (json_is_array(projs))
                names_of(projs, "proj", list, sizeof list);
            else
                snprintf(list, sizeof list, "none");
            return mg_err_set(err, MG_EINVAL, "%s: the model has no projection \"%s\" -> \"%s\" "
                              "(allowed: %s)", what, src, tgt, list);
        }
        const char *key = close + 2;
        /* J and weight are alternatives in the file: the override replaces the other one */
        if (strcmp(key, "J") == 0)
            json_object_del(hit, "weight");
        else if (strcmp(key, "weight") == 0)
            json_object_del(hit, "J");
        return set_path(hit, key, v, what, err);
    }
    json_t *pops = json_object_get(root, "populations");
    size_t n = 0;
    json_t *pop = json_is_array(pops) ? find_pop(pops, lhs, &n) : NULL;
    if (!pop) {
        json_decref(v);
        if (json_is_array(pops))
            names_of(pops, NULL, list, sizeof list);
        else
            snprintf(list, sizeof list, "none");
        return mg_err_set(err, MG_EINVAL, "%s: no population of the model is named as the part "
                          "before the '.' (allowed: " SET_SYNTAX " with POP one of %s)", what,
                          list);
    }
    if (strncmp(lhs + n + 1, "name", 5) == 0) {
        json_decref(v);
        return mg_err_set(err, MG_EINVAL, "%s: a population's name cannot be overridden (allowed: "
                          "its parameters)", what);
    }
    return set_path(pop, lhs + n + 1, v, what, err);
}

int mg_model_set(mg_model *m, const char *assignment, mg_err *err)
{
    char what[160];
    snprintf(what, sizeof what, "--set %.140s", assignment ? assignment : "");
    const char *eq = assignment ? strchr(assignment, '=') : NULL;
    if (!eq || eq == assignment || !eq[1])
        return mg_err_set(err, MG_EINVAL, "%s: not an assignment (allowed: " SET_SYNTAX ")",
                          what);
    if (!m || !m->json)
        return mg_err_set(err, MG_EINVAL, "%s: no model text to override", what);
    char lhs[512];
    if ((size_t)(eq - assignment) >= sizeof lhs)
        return mg_err_set(err, MG_EINVAL, "%s: parameter name too long (allowed: " SET_SYNTAX
                          ")", what);
    snprintf(lhs, sizeof lhs, "%.*s", (int)(eq - assignment), assignment);

    json_error_t jerr;
    json_t *v = json_loads(eq + 1, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &jerr);
    if (!v)
        v = json_string(eq + 1);
    json_t *root = json_loads(m->json, JSON_REJECT_DUPLICATES, &jerr);
    if (!v || !root) {
        json_decref(v);
        json_decref(root);
        return mg_err_set(err, MG_EINVAL, "%s: the model text cannot be read again", what);
    }
    int rc = apply(root, lhs, v, what, err);
    char *text = rc == MG_OK ? json_dumps(root, JSON_INDENT(2)) : NULL;
    json_decref(root);
    if (rc != MG_OK)
        return rc;
    if (!text)
        return mg_err_set(err, MG_ENOMEM, "%s: out of memory", what);
    mg_model tmp;
    mg_err perr = {{0}};
    rc = mg_model_parse(text, m->source, &tmp, &perr);
    free(text);
    if (rc != MG_OK)
        return mg_err_set(err, rc, "%s: %s", what, perr.msg);
    /* the name the file gave, or its base name: parsing again from the same source keeps it */
    mg_model_free(m);
    *m = tmp;
    return MG_OK;
}
