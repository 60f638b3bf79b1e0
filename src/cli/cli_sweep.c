/* src/cli/cli_sweep.c: `mesogif sweep`: one ensemble per point of a parameter grid (issue 17, point
 * 3), each an ordinary `mesogif run` with --set overrides into its own file, plus an index of
 * the grid values and summary statistics of every point.
 *
 * Every point runs in a child process (this executable, verb run): a point is then exactly
 * what `mesogif run ... --set KEY=VALUE` gives (same checks, same run key, same file), a
 * failing point cannot leave state behind for the next, and a SLURM array task runs one point
 * with --point $SLURM_ARRAY_TASK_ID. With --shards S every point is S shards of its
 * realizations (run --shard i/S into point_<k>.shard_<i>.h5), one array task each (--task T or
 * --task slurm: point T / S, shard T mod S); the index merges each point's shards into
 * point_<k>.h5 (mesogif merge) before reading it. The whole grid is checked before anything
 * runs: every override of every point against the model (mg_model_set), and the run options by
 * a --dry-run of the first point run. */
#include "cli/cli.h"
#include "mesogif/io.h"
#include "mesogif/model.h"
#include "mesogif/stats.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

#define GRID_MAX 16          /* grid dimensions */
#define VALUES_MAX 10000     /* values per dimension */
#define POINTS_MAX 100000    /* points in all */
#define VALUE_LEN 64

typedef struct {
    char key[256];           /* POP.PARAM or PROJ[SRC->TGT].PARAM */
    int n;
    char (*val)[VALUE_LEN];  /* [n] the values as written into the model */
} dim;

static void sweep_usage(FILE *out)
{
    fputs("usage: mesogif sweep [MODEL.json] --set-grid KEY=SPEC [--set-grid ...] --out-dir DIR\n"
          "                     [--set KEY=VALUE ...] [--point k | --index-only] [run options]\n"
          "\n"
          "One ensemble (mesogif run) per point of the grid (the Cartesian product of the\n"
          "--set-grid values, the last one varying fastest) into DIR/point_<k>.h5, and\n"
          "DIR/index.csv: per point its values, its file and per population mean A, its\n"
          "standard error and var A. MODEL.json, if given, comes first.\n"
          "  --set-grid KEY=LO:HI:STEP    LO, LO+STEP, ... up to HI (inclusive)\n"
          "  --set-grid KEY=V1,V2,...     the listed values (JSON numbers or words)\n"
          "                               KEY as for --set: POP.PARAM or PROJ[SRC->TGT].PARAM\n"
          "  --out-dir DIR                where the files go (created if absent)\n"
          "  --point k                    only point k (0-based; e.g. $SLURM_ARRAY_TASK_ID);\n"
          "                               no index: add it with --index-only afterwards\n"
          "  --index-only                 only write DIR/index.csv from the points' files\n"
          "  --shards S                   each point as S shards of its realizations\n"
          "                               (DIR/point_<k>.shard_<i>.h5, merged into\n"
          "                               DIR/point_<k>.h5 by the index); default 1\n"
          "  --task T | slurm             only array task T of points x shards: point T / S,\n"
          "                               shard T mod S (slurm: $SLURM_ARRAY_TASK_ID minus\n"
          "                               $SLURM_ARRAY_TASK_MIN); no index\n"
          "  --count-tasks                print the number of tasks (points x shards), e.g.\n"
          "                               for sbatch --array=0-<count - 1>, and exit\n"
          "Every other option is passed to each point's run (--level, --t-sim, --realizations,\n"
          "--seed, --set, --force, ...); --out, --resume and --shard are not allowed.\n"
          "A SLURM array over the tasks, then the index:\n"
          "  sbatch --array=0-$((N - 1)) --wrap 'mesogif sweep ... --shards S --task slurm'\n"
          "  mesogif sweep ... --shards S --index-only\n",
          out);
}

static int parse_dim(const char *arg, dim *d)
{
    const char *eq = strchr(arg, '=');
    if (!eq || eq == arg || !eq[1] || (size_t)(eq - arg) >= sizeof d->key) {
        mg_cli_error("--set-grid '%s': not KEY=LO:HI:STEP or KEY=V1,V2,... (allowed: e.g. "
                     "P1.I_e=200:300:25)", arg);
        return 2;
    }
    snprintf(d->key, sizeof d->key, "%.*s", (int)(eq - arg), arg);
    const char *spec = eq + 1;
    d->val = calloc(VALUES_MAX, sizeof *d->val);
    if (!d->val) {
        mg_cli_error("--set-grid: out of memory");
        return 1;
    }
    if (strchr(spec, ':')) {
        char *end;
        double lo = strtod(spec, &end), hi = 0, step = 0;
        int ok = *end == ':';
        if (ok) {
            hi = strtod(end + 1, &end);
            ok = *end == ':';
        }
        if (ok) {
            step = strtod(end + 1, &end);
            ok = *end == '\0';
        }
        if (!ok || !isfinite(lo) || !isfinite(hi) || !(step > 0) || !(hi >= lo) ||
            (hi - lo) / step >= VALUES_MAX) {
            mg_cli_error("--set-grid '%s': bad range (allowed: LO:HI:STEP with numbers, "
                         "STEP > 0, HI >= LO, at most %d values)", arg, VALUES_MAX);
            return 2;
        }
        /* within a billionth of a step of HI counts as HI (decimal steps are not exact) */
        int n = (int)floor((hi - lo) / step + 1e-9) + 1;
        for (int i = 0; i < n; ++i)
            snprintf(d->val[i], VALUE_LEN, "%.15g", lo + i * step);
        d->n = n;
        return 0;
    }
    const char *s = spec;
    for (;;) {
        const char *c = strchr(s, ',');
        size_t len = c ? (size_t)(c - s) : strlen(s);
        if (len == 0 || len >= VALUE_LEN || d->n == VALUES_MAX) {
            mg_cli_error("--set-grid '%s': an empty, too long (>= %d characters) or %dth value "
                         "(allowed: V1,V2,... with at most %d values)", arg, VALUE_LEN,
                         VALUES_MAX + 1, VALUES_MAX);
            return 2;
        }
        snprintf(d->val[d->n++], VALUE_LEN, "%.*s", (int)len, s);
        if (!c)
            break;
        s = c + 1;
    }
    return 0;
}

/* The value index of dimension g at point k (row-major, the last dimension fastest). */
static int coord(const dim *dims, int nd, long k, int g)
{
    for (int h = nd - 1; h > g; --h)
        k /= dims[h].n;
    return (int)(k % dims[g].n);
}

/* Run this executable with args (NULL-terminated), its stdout sent to /dev/null when quiet;
 * returns its exit status (1 if it could not be started or died). */
static int spawn_wait(char **args, int quiet)
{
    pid_t pid;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    if (quiet)
        posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    fflush(stdout);
    int rc = posix_spawn(&pid, "/proc/self/exe", &fa, NULL, args, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) {
        mg_cli_error("sweep: cannot start a run: %s", strerror(rc));
        return 1;
    }
    int st;
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR)
            return 1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 1;
}

/* Merge the S shard files of point k into DIR/point_<k>.h5 unless that exists (`mesogif
 * merge`, quiet). 0, or the failure (missing shards named with their tasks). */
static int merge_point(const char *dir, long k, long S)
{
    char out[4200];
    snprintf(out, sizeof out, "%s/point_%ld.h5", dir, k);
    if (S <= 1 || access(out, F_OK) == 0)
        return 0;
    char **args = calloc((size_t)S + 4, sizeof *args);
    char (*files)[4200] = calloc((size_t)S, sizeof *files);
    int rc = 0;
    if (!args || !files) {
        mg_cli_error("sweep: out of memory");
        rc = 1;
    }
    long missing = 0, first_missing = -1;
    for (long i = 0; rc == 0 && i < S; ++i) {
        snprintf(files[i], sizeof files[i], "%s/point_%ld.shard_%ld.h5", dir, k, i);
        if (access(files[i], F_OK) != 0 && missing++ == 0)
            first_missing = i;
    }
    if (rc == 0 && missing > 0) {
        mg_cli_error("sweep: index: point %ld: %ld of its %ld shards missing, the first %s (run "
                     "it with --shards %ld --task %ld)", k, missing, S, files[first_missing], S,
                     k * S + first_missing);
        rc = 1;
    }
    if (rc == 0) {
        int n = 0;
        args[n++] = "mesogif";
        args[n++] = "merge";
        args[n++] = out;
        for (long i = 0; i < S; ++i)
            args[n++] = files[i];
        args[n] = NULL;
        int mrc = spawn_wait(args, 1);
        if (mrc != 0) {
            mg_cli_error("sweep: index: point %ld: merging its shards failed (exit status %d)",
                         k, mrc);
            rc = 1;
        }
    }
    free(args);
    free(files);
    return rc;
}

static int write_index(const char *dir, const dim *dims, int nd, long n_points, long S,
                       const mg_model *m)
{
    char path[4096], tmp[4200];
    snprintf(path, sizeof path, "%s/index.csv", dir);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f) {
        mg_cli_error("sweep: cannot write %s: %s", tmp, strerror(errno));
        return 1;
    }
    fputs("point", f);
    for (int g = 0; g < nd; ++g)
        fprintf(f, ",%s", dims[g].key);
    fputs(",file", f);
    for (int a = 0; a < m->P; ++a)
        fprintf(f, ",%s_mean_A_hz,%s_mean_A_sem_hz,%s_var_A_hz2", m->pops[a].name,
                m->pops[a].name, m->pops[a].name);
    fputc('\n', f);
    int rc = 0;
    for (long k = 0; k < n_points && rc == 0; ++k) {
        char file[4200];
        snprintf(file, sizeof file, "%s/point_%ld.h5", dir, k);
        mg_stats s;
        mg_err err = {{0}};
        if (merge_point(dir, k, S) != 0) {
            rc = 1;
            break;
        }
        if (mg_h5_read_stats(file, &s, &err) != MG_OK) {
            mg_cli_error("sweep: index: point %ld: %s (run it with --point %ld)", k, err.msg, k);
            rc = 1;
            break;
        }
        fprintf(f, "%ld", k);
        for (int g = 0; g < nd; ++g)
            fprintf(f, ",%s", dims[g].val[coord(dims, nd, k, g)]);
        fprintf(f, ",point_%ld.h5", k);
        for (int a = 0; a < m->P && a < s.L.P; ++a)
            fprintf(f, ",%.10g,%.10g,%.10g", s.mean_A[a], s.mean_A_sem[a], s.var_A[a]);
        fputc('\n', f);
        mg_stats_free(&s);
    }
    if (fclose(f) != 0 && rc == 0) {
        mg_cli_error("sweep: cannot write %s", tmp);
        rc = 1;
    }
    if (rc == 0 && rename(tmp, path) != 0) {
        mg_cli_error("sweep: cannot write %s: %s", path, strerror(errno));
        rc = 1;
    }
    if (rc != 0)
        remove(tmp);
    else
        printf("sweep: %ld points, index %s\n", n_points, path);
    return rc;
}

/* --task T or slurm (SLURM_ARRAY_TASK_ID - SLURM_ARRAY_TASK_MIN). 0 or 2 (message printed). */
static int parse_task(const char *v, long *task)
{
    char *end;
    if (strcmp(v, "slurm") == 0) {
        const char *id = getenv("SLURM_ARRAY_TASK_ID"), *mn = getenv("SLURM_ARRAY_TASK_MIN");
        errno = 0;
        long a = id && *id ? strtol(id, &end, 10) : -1;
        if (!id || !*id || *end || errno || a < 0) {
            mg_cli_error("sweep: --task slurm: SLURM_ARRAY_TASK_ID is not set or not a number "
                         "(allowed: inside a SLURM job array, or --task T)");
            return 2;
        }
        long b = mn && *mn ? strtol(mn, &end, 10) : 0;
        if (mn && *mn && (*end || b < 0 || b > a)) {
            mg_cli_error("sweep: --task slurm: SLURM_ARRAY_TASK_MIN '%s' (allowed: 0..%ld)", mn,
                         a);
            return 2;
        }
        *task = a - b;
        return 0;
    }
    errno = 0;
    *task = strtol(v, &end, 10);
    if (*end || end == v || *task < 0 || errno) {
        mg_cli_error("sweep: --task '%s' (allowed: a task number >= 0, or slurm)", v);
        return 2;
    }
    return 0;
}

/* What the command line says: the grid, the tasks, and what goes to every `mesogif run`. */
typedef struct {
    dim dims[GRID_MAX];
    int nd, index_only, count_tasks;
    long point, task, S;
    const char *model_path, *out_dir;
    char **pass, **fixed; /* run's options passed through; the --set of every point */
    int n_pass, n_fixed;
} sweep_cli;

/* sweep's own options that take a value, as --opt VALUE or --opt=VALUE. */
static const char *const sweep_own[] = {"--set-grid", "--out-dir", "--point", "--set",
                                        "--shards", "--task"};

/* Is argv[*k] one of sweep_own? Its index, with the value in *v (NULL when it is missing; *k
 * then moved past a separate value), or -1 for any other argument. */
static int own_option(int argc, char **argv, int *k, const char **v)
{
    const char *a = argv[*k];
    for (int i = 0; i < 6; ++i) {
        size_t l = strlen(sweep_own[i]);
        if (strncmp(a, sweep_own[i], l) == 0 && (a[l] == '\0' || a[l] == '=')) {
            *v = a[l] == '=' ? a + l + 1 : (*k + 1 < argc ? argv[++*k] : NULL);
            return i;
        }
    }
    return -1;
}

/* The value v of sweep_own[which] into c: 0, or 2 after a message naming the option and what
 * is allowed. */
static int own_option_value(sweep_cli *c, int which, const char *v)
{
    char *end;
    switch (which) {
    case 0:
        if (c->nd == GRID_MAX) {
            mg_cli_error("sweep: more than %d --set-grid (allowed: at most %d)", GRID_MAX,
                         GRID_MAX);
            return 2;
        }
        return parse_dim(v, &c->dims[c->nd++]);
    case 1:
        c->out_dir = v;
        return 0;
    case 2:
        errno = 0;
        c->point = strtol(v, &end, 10);
        if (*end || end == v || c->point < 0 || errno) {
            mg_cli_error("sweep: --point '%s' (allowed: a point number >= 0)", v);
            return 2;
        }
        return 0;
    case 3:
        c->fixed[c->n_fixed++] = (char *)v;
        return 0;
    case 4:
        errno = 0;
        c->S = strtol(v, &end, 10);
        if (*end || end == v || c->S < 1 || c->S > 4096 || errno) {
            mg_cli_error("sweep: --shards '%s' (allowed: 1..4096)", v);
            return 2;
        }
        return 0;
    default: /* 5 */
        return parse_task(v, &c->task);
    }
}

/* An argument that is not one of sweep_own: sweep's flags, the run options a sweep sets itself
 * (refused), or one passed through to every run. 0, or the exit code (-1: help printed). */
static int other_arg(sweep_cli *c, char *a)
{
    if (strcmp(a, "--count-tasks") == 0) {
        c->count_tasks = 1;
    } else if (strcmp(a, "--index-only") == 0) {
        c->index_only = 1;
    } else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
        sweep_usage(stdout);
        return -1;
    } else if (strncmp(a, "--out", 5) == 0 && (a[5] == '\0' || a[5] == '=')) {
        mg_cli_error("sweep: --out is not allowed (the files are DIR/point_<k>.h5 of "
                     "--out-dir)");
        return 2;
    } else if (strncmp(a, "--resume", 8) == 0 || strncmp(a, "--shard", 7) == 0) {
        mg_cli_error("sweep: %s is not allowed (allowed: --point k for one point)", a);
        return 2;
    } else {
        c->pass[c->n_pass++] = a;
    }
    return 0;
}

/* sweep's own options; the others go to every run. 0, or the exit code (-1: done, exit 0). */
static int parse_sweep_args(int argc, char **argv, sweep_cli *c)
{
    int rc = 0, k = 1;
    if (argc > 1 && argv[1][0] != '-')
        c->model_path = argv[k++];
    for (; k < argc && rc == 0; ++k) {
        const char *v = NULL;
        int which = own_option(argc, argv, &k, &v);
        if (which >= 0 && !v) {
            mg_cli_error("sweep: %s needs a value (see mesogif sweep --help)", sweep_own[which]);
            rc = 2;
        } else if (which >= 0) {
            rc = own_option_value(c, which, v);
        } else {
            rc = other_arg(c, argv[k]);
        }
    }
    return rc;
}

/* The grid's size and the choice of tasks, checked; --count-tasks answered. 0, or the exit
 * code (-1: done, exit 0). */
static int check_grid(const sweep_cli *c, long *n_points_out)
{
    int rc = 0;
    long n_points = 1;
    if (rc == 0 && c->nd == 0) {
        mg_cli_error("sweep: no --set-grid given (allowed: e.g. --set-grid P1.I_e=200:300:25)");
        rc = 2;
    }
    if (rc == 0 && !c->out_dir && !c->count_tasks) {
        mg_cli_error("sweep: no --out-dir given (allowed: a directory for the points' files)");
        rc = 2;
    }
    for (int g = 0; g < c->nd && rc == 0; ++g) {
        if (n_points * c->dims[g].n > POINTS_MAX) {
            mg_cli_error("sweep: the grid has more than %d points (allowed: at most %d)",
                         POINTS_MAX, POINTS_MAX);
            rc = 2;
        }
        n_points *= c->dims[g].n;
    }
    if (rc == 0 && c->point >= n_points) {
        mg_cli_error("sweep: --point %ld, but the grid has %ld points (allowed: 0..%ld)", c->point,
                     n_points, n_points - 1);
        rc = 2;
    }
    if (rc == 0 && c->task >= n_points * c->S) {
        mg_cli_error("sweep: --task %ld, but the grid has %ld points x %ld shards = %ld tasks "
                     "(allowed: 0..%ld)", c->task, n_points, c->S, n_points * c->S, n_points * c->S - 1);
        rc = 2;
    }
    if (rc == 0 && c->task >= 0 && c->point >= 0) {
        mg_cli_error("sweep: --task and --point together (allowed: one of them)");
        rc = 2;
    }
    if (rc == 0 && c->count_tasks) {
        printf("%ld\n", n_points * c->S);
        rc = -1;
    }
    *n_points_out = n_points;
    return rc;
}

/* Every override of every point this call runs, before anything runs. 0, or 2. */
static int check_points(const sweep_cli *c, const mg_model *base, long n_points, long t_lo,
                        long t_hi)
{
    int rc = 0;
    char assign[512];
    for (long p = 0; p < n_points && rc == 0; ++p) {
        if (p < t_lo / c->S || p > (t_hi - 1) / c->S)
            continue;
        mg_model m;
        mg_err err = {{0}};
        if (mg_model_parse(base->json, base->source, &m, &err) != MG_OK) {
            mg_cli_error("sweep: %s", err.msg);
            rc = 2;
            break;
        }
        for (int i = 0; i < c->n_fixed && rc == 0; ++i)
            if (mg_model_set(&m, c->fixed[i], &err) != MG_OK) {
                mg_cli_error("sweep: %s", err.msg);
                rc = 2;
            }
        for (int g = 0; g < c->nd && rc == 0; ++g) {
            snprintf(assign, sizeof assign, "%.255s=%.63s", c->dims[g].key,
                     c->dims[g].val[coord(c->dims, c->nd, p, g)]);
            if (mg_model_set(&m, assign, &err) != MG_OK) {
                mg_cli_error("sweep: point %ld: %s", p, err.msg);
                rc = 2;
            }
        }
        mg_model_free(&m);
    }
    return rc;
}

/* The command line of one task of a sweep: args (NULL-terminated when filled) point into
 * gset (the grid's --set values), file and shard. */
typedef struct {
    char **args;       /* room for n_pass + 2 (n_fixed + nd) + 12 entries */
    char (*gset)[512]; /* [nd] */
    char file[4200];
    char shard[64];
} task_argv;

/* ta's `mesogif run` command line for task t (point t / S, shard t % S) without the final
 * NULL: returns its number of entries. */
static int task_argv_fill(const sweep_cli *c, long t, task_argv *ta)
{
    const long p = t / c->S, sh = t % c->S;
    char **args = ta->args;
    int n = 0;
    args[n++] = "mesogif";
    args[n++] = "run";
    if (c->model_path)
        args[n++] = (char *)c->model_path;
    for (int i = 0; i < c->n_pass; ++i)
        args[n++] = c->pass[i];
    for (int i = 0; i < c->n_fixed; ++i) {
        args[n++] = "--set";
        args[n++] = c->fixed[i];
    }
    for (int g = 0; g < c->nd; ++g) {
        snprintf(ta->gset[g], sizeof ta->gset[g], "%.255s=%.63s", c->dims[g].key,
                 c->dims[g].val[coord(c->dims, c->nd, p, g)]);
        args[n++] = "--set";
        args[n++] = ta->gset[g];
    }
    if (c->S > 1) {
        snprintf(ta->file, sizeof ta->file, "%s/point_%ld.shard_%ld.h5", c->out_dir, p, sh);
        snprintf(ta->shard, sizeof ta->shard, "%ld/%ld", sh, c->S);
        args[n++] = "--shard";
        args[n++] = ta->shard;
    } else {
        snprintf(ta->file, sizeof ta->file, "%s/point_%ld.h5", c->out_dir, p);
    }
    args[n++] = "--out";
    args[n++] = ta->file;
    return n;
}

/* The line on stdout that announces task t: point, shard, grid values and output file. */
static void announce_task(const sweep_cli *c, long t, long n_points, const task_argv *ta)
{
    const long p = t / c->S, sh = t % c->S;
    if (c->S > 1)
        printf("sweep: point %ld of %ld, shard %ld of %ld:", p, n_points, sh, c->S);
    else
        printf("sweep: point %ld of %ld:", p, n_points);
    for (int g = 0; g < c->nd; ++g)
        printf(" %s", ta->gset[g]);
    printf(" -> %s\n", ta->file);
    fflush(stdout);
}

/* One `mesogif run` per task in [t_lo, t_hi) (the first after a --dry-run of its options).
 * 0, or the exit code. */
static int run_tasks(const sweep_cli *c, long n_points, long t_lo, long t_hi)
{
    int rc = 0;
    size_t cap = (size_t)(c->n_pass + 2 * (c->n_fixed + c->nd) + 12);
    task_argv ta;
    ta.args = calloc(cap, sizeof *ta.args);
    ta.gset = calloc((size_t)(c->nd > 0 ? c->nd : 1), sizeof *ta.gset);
    if (!ta.args || !ta.gset) {
        mg_cli_error("sweep: out of memory");
        rc = 1;
    }
    for (long t = t_lo, first = 1; rc == 0 && t < t_hi; ++t, first = 0) {
        int n = task_argv_fill(c, t, &ta);
        if (first) { /* the run options, checked once by a dry run of the first point */
            ta.args[n] = "--dry-run";
            ta.args[n + 1] = NULL;
            int drc = spawn_wait(ta.args, 1);
            if (drc != 0) {
                rc = drc;
                break;
            }
        }
        ta.args[n] = NULL;
        announce_task(c, t, n_points, &ta);
        int prc = spawn_wait(ta.args, 0);
        if (prc != 0) {
            mg_cli_error("sweep: point %ld failed (exit status %d); the points before it are in "
                         "%s", t / c->S, prc, c->out_dir);
            rc = prc;
        }
    }
    free(ta.args);
    free(ta.gset);
    return rc;
}

int mg_cli_sweep(int argc, char **argv)
{
    sweep_cli c;
    memset(&c, 0, sizeof c);
    c.point = c.task = -1;
    c.S = 1;
    c.pass = calloc((size_t)argc + 1, sizeof *c.pass);
    c.fixed = calloc((size_t)argc + 1, sizeof *c.fixed);
    if (!c.pass || !c.fixed) {
        free(c.pass);
        free(c.fixed);
        mg_cli_error("sweep: out of memory");
        return 1;
    }
    mg_model base;
    memset(&base, 0, sizeof base);
    long n_points = 1;
    int rc = parse_sweep_args(argc, argv, &c);
    if (rc == 0)
        rc = check_grid(&c, &n_points);
    /* the tasks this call runs: all, those of one point, or one */
    const long t_lo = c.task >= 0 ? c.task : c.point >= 0 ? c.point * c.S : 0;
    const long t_hi = c.task >= 0 ? c.task + 1 : c.point >= 0 ? (c.point + 1) * c.S
                                                               : n_points * c.S;
    if (rc == 0) {
        mg_err err = {{0}};
        int mrc = c.model_path ? mg_model_load(c.model_path, &base, &err)
                               : mg_model_default(&base, &err);
        if (mrc != MG_OK) {
            mg_cli_error("%s: %s", c.model_path ? c.model_path : "<embedded B1>", err.msg);
            rc = 2;
        }
    }
    if (rc == 0 && !c.index_only)
        rc = check_points(&c, &base, n_points, t_lo, t_hi);
    if (rc == 0 && mkdir(c.out_dir, 0777) != 0 && errno != EEXIST) {
        mg_cli_error("sweep: cannot create --out-dir %s: %s", c.out_dir, strerror(errno));
        rc = 2;
    }
    if (rc == 0 && !c.index_only)
        rc = run_tasks(&c, n_points, t_lo, t_hi);
    if (rc == 0 && c.point < 0 && c.task < 0)
        rc = write_index(c.out_dir, c.dims, c.nd, n_points, c.S, &base);
    free(c.pass);
    free(c.fixed);
    for (int g = 0; g < c.nd; ++g)
        free(c.dims[g].val);
    mg_model_free(&base);
    return rc < 0 ? 0 : rc;
}
