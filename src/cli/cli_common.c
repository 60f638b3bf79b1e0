/* src/cli/cli_common.c: what every verb of the command line shares (the "mesogif: " error line and
 * the command line recorded in result files), and `mesogif info`. Kept out of src/cli/main.c so that
 * tests can link the verbs without main(), and out of the library (src/io/io_h5_info.c keeps only
 * mg_h5_info), which reports errors as mg_err values and never prints. */
#include "cli/cli.h"
#include "mesogif/io.h"
#include "mesogif/units.h" /* mg_parse_duration_ms */

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <unistd.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static char command_line[8192];

void mg_cli_set_command_line(int argc, char **argv)
{
    size_t at = 0;
    for (int i = 0; i < argc && at < sizeof command_line - 1; ++i) {
        int n = snprintf(command_line + at, sizeof command_line - at, "%s%s", i ? " " : "",
                         argv[i]);
        if (n < 0)
            break;
        at += (size_t)n;
    }
}

const char *mg_cli_command_line(void)
{
    return command_line;
}

void mg_cli_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("mesogif: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

/* Edit distance (insertions, deletions, substitutions, swaps of neighbours) between a and b,
 * both shorter than 64 characters (longer words: 99). */
static int distance(const char *a, const char *b)
{
    size_t na = strlen(a), nb = strlen(b);
    if (na >= 64 || nb >= 64)
        return 99;
    int d[64][64];
    for (size_t i = 0; i <= na; ++i)
        d[i][0] = (int)i;
    for (size_t j = 0; j <= nb; ++j)
        d[0][j] = (int)j;
    for (size_t i = 1; i <= na; ++i)
        for (size_t j = 1; j <= nb; ++j) {
            int best = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
            if (d[i - 1][j] + 1 < best)
                best = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < best)
                best = d[i][j - 1] + 1;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
                d[i - 2][j - 2] + 1 < best)
                best = d[i - 2][j - 2] + 1;
            d[i][j] = best;
        }
    return d[na][nb];
}

void mg_cli_unknown_option(const char *verb, const char *argv_word, const struct option *opts)
{
    const char *w = argv_word ? argv_word : "?";
    const char *name = w[0] == '-' && w[1] == '-' ? w + 2 : w[0] == '-' ? w + 1 : w;
    char typed[64];
    size_t n = strcspn(name, "=");
    snprintf(typed, sizeof typed, "%.*s", (int)(n < sizeof typed ? n : sizeof typed - 1), name);
    const char *best = NULL;
    int best_d = 99;
    for (const struct option *o = opts; o && o->name; ++o) {
        if (strcmp(o->name, typed) == 0 && o->has_arg == required_argument) {
            mg_cli_error("%s: option '--%s' needs a value (see mesogif %s --help)", verb,
                         o->name, verb);
            return;
        }
        int d = distance(typed, o->name);
        if (d < best_d) {
            best_d = d;
            best = o->name;
        }
    }
    /* close enough to be a typo: at most a third of the word (and at least 2 edits) */
    int limit = (int)strlen(typed) / 3 > 2 ? (int)strlen(typed) / 3 : 2;
    if (best && best_d <= limit)
        mg_cli_error("%s: unknown option '%s' (did you mean --%s? see mesogif %s --help)", verb,
                     w, best, verb);
    else
        mg_cli_error("%s: unknown option '%s' (see mesogif %s --help)", verb, w, verb);
}

int mg_cli_info(int argc, char **argv)
{
    if (argc != 2 || strcmp(argv[1], "--help") == 0) {
        fputs("usage: mesogif info FILE.h5\n", argc == 2 ? stdout : stderr);
        return argc == 2 ? 0 : 2;
    }
    mg_err err = {{0}};
    int rc = mg_h5_info(argv[1], stdout, &err);
    if (rc != MG_OK) {
        mg_cli_error("%s", err.msg);
        return 2;
    }
    return 0;
}

int mg_cli_parse_int64(const char *opt, const char *s, int64_t lo, int64_t hi, int64_t *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi) {
        mg_cli_error("%s: '%s' (allowed: integer %lld..%lld)", opt, s, (long long)lo,
                     (long long)hi);
        return -1;
    }
    *out = v;
    return 0;
}

int mg_cli_parse_duration(const char *opt, const char *s, double *ms)
{
    if (mg_parse_duration_ms(s, ms) != 0 || !isfinite(*ms)) {
        mg_cli_error("%s: '%s' is not a duration (allowed: number with us, ms, s, min or h; "
                     "bare numbers are ms)", opt, s);
        return -1;
    }
    return 0;
}

int mg_cli_parse_positive_ms(const char *opt, const char *s, double *ms, const char *allowed)
{
    if (mg_cli_parse_duration(opt, s, ms))
        return -1;
    if (!(*ms > 0)) {
        mg_cli_error("%s: '%s' (allowed: %s)", opt, s, allowed);
        return -1;
    }
    return 0;
}

int mg_cli_load_model(const char *path, const char *json, const char *source, mg_model *m)
{
    mg_err err = {{0}};
    int rc = path ? mg_model_load(path, m, &err)
             : json ? mg_model_parse(json, source, m, &err)
                    : mg_model_default(m, &err);
    if (rc == MG_OK)
        return 0;
    mg_cli_one_line(err.msg);
    if (rc == MG_EIO)
        mg_cli_error("%s", err.msg);
    else
        mg_cli_error("%s: %s", path ? path : "<embedded B1>", err.msg);
    return rc == MG_EIO ? 2 : mg_err_exit_code(rc);
}

int mg_cli_add_set(const char **sets, int *n, const char *arg)
{
    if (*n == MG_CLI_MAX_SETS) {
        mg_cli_error("--set: more than %d overrides (allowed: at most %d)", MG_CLI_MAX_SETS,
                     MG_CLI_MAX_SETS);
        return -1;
    }
    sets[(*n)++] = arg;
    return 0;
}

int mg_cli_apply_sets(mg_model *m, const char *const *sets, int n)
{
    mg_err err = {{0}};
    for (int k = 0; k < n; ++k) {
        const int rc = mg_model_set(m, sets[k], &err);
        if (rc != MG_OK) {
            mg_cli_one_line(err.msg);
            mg_cli_error("%s", err.msg);
            mg_model_free(m);
            return mg_err_exit_code(rc);
        }
    }
    return 0;
}

const char *mg_cli_find_resume(int argc, char **argv)
{
    const char *path = NULL;
    for (int k = 1; k < argc; ++k) {
        if (strcmp(argv[k], "--resume") == 0 && k + 1 < argc)
            path = argv[k + 1];
        else if (strncmp(argv[k], "--resume=", 9) == 0)
            path = argv[k] + 9;
    }
    return path;
}

int mg_cli_switch_analysis_option(char which, const char *arg, char *observable, size_t cap,
                                  double *smooth_ms, double *lo, double *hi)
{
    if (which == 's')
        return mg_cli_parse_positive_ms("--switch-smooth", arg, smooth_ms,
                                        "> 0, a multiple of --stats-bin");
    if (which == 'o') {
        if (strlen(arg) >= cap) {
            mg_cli_error("--switch-observable: too long (allowed: < %zu characters)", cap);
            return -1;
        }
        snprintf(observable, cap, "%s", arg);
        return 0;
    }
    char *end;
    *lo = strtod(arg, &end);
    if (*end != ',' || (*hi = strtod(end + 1, &end), *end != '\0') || !(*lo < *hi) ||
        !isfinite(*lo) || !isfinite(*hi)) {
        mg_cli_error("--switch-thresholds: '%s' (allowed: LO,HI in Hz with LO < HI)", arg);
        return -1;
    }
    return 0;
}

int mg_cli_check_out_folder(const char *path)
{
    char dir[4096];
    const char *slash = strrchr(path, '/');
    if (!slash)
        snprintf(dir, sizeof dir, ".");
    else if (slash == path)
        snprintf(dir, sizeof dir, "/");
    else
        snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
    if (access(dir, W_OK | X_OK) != 0) {
        mg_cli_error("--out: %s: folder '%s' is not writable: %s (allowed: a file in an "
                     "existing, writable folder)", path, dir, strerror(errno));
        return -1;
    }
    return 0;
}

void mg_cli_one_line(char *msg)
{
    for (char *c = msg; *c; ++c)
        if ((unsigned char)*c < 0x20 || *c == 0x7f)
            *c = '?';
}

int mg_cli_model_arg(const char *verb, int argc, char **argv, int first, const char **path)
{
    *path = NULL;
    if (argc - first > 1) {
        mg_cli_error("%s: one model file at most, got '%s' and '%s'", verb, argv[first],
                     argv[first + 1]);
        return -1;
    }
    if (first < argc)
        *path = argv[first];
    return 0;
}

static volatile int g_cancel = 0;

static void on_signal(int sig)
{
    (void)sig;
    g_cancel = 1;
}

volatile int *mg_cli_cancel_flag(void)
{
    return &g_cancel;
}

void mg_cli_signals_catch(mg_cli_signals *old)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    g_cancel = 0;
    sigaction(SIGINT, &sa, &old->old_int);
    sigaction(SIGTERM, &sa, &old->old_term);
}

void mg_cli_signals_restore(const mg_cli_signals *old)
{
    sigaction(SIGINT, &old->old_int, NULL);
    sigaction(SIGTERM, &old->old_term, NULL);
}

int mg_cli_parse_choice(const char *opt, const char *value, const char *const *names, int n)
{
    for (int i = 0; i < n; ++i)
        if (strcmp(value, names[i]) == 0)
            return i;
    char allowed[256] = "";
    for (int i = 0; i < n; ++i)
        snprintf(allowed + strlen(allowed), sizeof allowed - strlen(allowed), "%s%s",
                 i ? ", " : "", names[i]);
    mg_cli_error("%s: '%s' (allowed: %s)", opt, value, allowed);
    return -1;
}

int mg_cli_num_option(const mg_cli_num *tab, int n, int c, const char *arg)
{
    const mg_cli_num *e = NULL;
    for (int k = 0; k < n && !e; ++k)
        if (tab[k].id == c)
            e = &tab[k];
    if (!e)
        return 1;
    int64_t v = 0;
    double ms = 0.0;
    if (e->kind == MG_CLI_MS || e->kind == MG_CLI_S) {
        if (mg_cli_parse_duration(e->name, arg, &ms))
            return -1;
    } else if (mg_cli_parse_int64(e->name, arg, e->lo, e->hi, &v)) {
        return -1;
    }
    switch (e->kind) {
    case MG_CLI_I64:
        *(int64_t *)e->dst = v;
        break;
    case MG_CLI_INT:
        *(int *)e->dst = (int)v;
        break;
    case MG_CLI_U32:
        *(uint32_t *)e->dst = (uint32_t)v;
        break;
    case MG_CLI_MS:
        *(double *)e->dst = ms;
        break;
    case MG_CLI_S:
        *(double *)e->dst = ms * 1e-3;
        break;
    }
    if (e->given)
        *e->given = 1;
    return 0;
}

int mg_cli_enum_option(const mg_cli_enum *tab, int n, int c, const char *arg)
{
    for (int k = 0; k < n; ++k)
        if (tab[k].id == c)
            return mg_cli_parse_choice(tab[k].name, arg, tab[k].values, tab[k].n);
    return -2;
}
