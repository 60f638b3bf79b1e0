/* src/cli/cli_switch.c: `mesogif switch`: switching rates of the two metastable states by forward
 * flux sampling (include/mesogif/ffs.h, docs/SWITCHING.md), or by brute force (exits /
 * exposure of an ensemble run, the /stats/switching of `mesogif run`). Prints the stages and,
 * last, one line per direction: "rate from low: X Hz [lo, hi] (95 %)". */
#include "cli/cli.h"
#include "mesogif/ffs.h"
#include "mesogif/io.h"
#include "mesogif/model.h"
#include "mesogif/run.h"
#include "mesogif/units.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static void switch_usage(FILE *out)
{
    fputs("usage: mesogif switch [MODEL.json] [options]\n"
          "\n"
          "Switching rates between the low and the high state of the smoothed observable, in\n"
          "both directions, with 95 % intervals (docs/SWITCHING.md).\n"
          "\n"
          "  --level meso|micro         model level (default meso)\n"
          "  --method ffs|brute         forward flux sampling (default), or exits / exposure of\n"
          "                             brute-force runs\n"
          "  --rel-err E                stop when each rate's relative standard error is below E,\n"
          "                             0 < E < 1 (default 0.1)\n"
          "  --interfaces auto|LIST     observable values (Hz) strictly between the thresholds,\n"
          "                             increasing, e.g. -4,-2,0,2,4 (default auto: placed so\n"
          "                             that each stage succeeds with about --p-target)\n"
          "  --seed S                   random seed (default 1)\n"
          "  --threads n                OpenMP threads (default: all cores)\n"
          "  --backend auto|cpu|cuda    (default auto: CUDA for the meso level when a\n"
          "                             device answers; the basin runs stay on the CPU)\n"
          "  --noise binomial|poisson   meso spike-count draw (default binomial)\n"
          "  --set POP.PARAM=VALUE      override a model parameter (repeatable), e.g.\n"
          "                             --set P1.N=1000, --set 'PROJ[P1->P2].J=-0.0215'\n"
          "  --out FILE.h5              output file (default <model>_switch.h5)\n"
          "  --force                    overwrite an existing output file\n"
          "  --dry-run                  print the memory the state pools may need and exit\n"
          "  --checkpoint FILE          where a signal (SIGTERM, SIGINT) writes the state before\n"
          "                             exit 75 (default OUT.h5.ckpt)\n"
          "  --no-checkpoint            a signal stops with exit 130, nothing written\n"
          "  --resume FILE              continue from a checkpoint (model and options come from\n"
          "                             it; only --threads, --quiet, --out, --force and\n"
          "                             --checkpoint may be given): the result of an\n"
          "                             uninterrupted run\n"
          "  --quiet                    no progress lines\n"
          "switching analysis (the same as `mesogif run`):\n"
          "  --switch-observable EXPR   e.g. A1-A2 (default: the model's switch_observable, else\n"
          "                             A1-A2, or A1 for one population)\n"
          "  --switch-smooth DURATION   moving average of the observable (default 50ms)\n"
          "  --switch-thresholds LO,HI  hysteresis thresholds in Hz (default -5,5)\n"
          "  --stats-bin DURATION       bin of the observable (default 10ms)\n"
          "  --dt DURATION              time step (default 0.5ms)\n"
          "  --t-warmup DURATION        basin runs count after this (default 1s)\n"
          "forward flux sampling (rarely needed):\n"
          "  --basin-realizations R     realizations of the basin runs (default 64)\n"
          "  --basin-budget DURATION    most simulated time of the basin runs, all realizations\n"
          "                             together (default 5000s); a basin never left past the\n"
          "                             first interface within it is an error\n"
          "  --trial-max DURATION       longest trial (default 100s)\n"
          "  --trials N                 trials per stage in the first pass (default 256)\n"
          "  --pilot N                  pilot trials per auto interface (default 64)\n"
          "  --p-target P               stage success probability of auto placement (default 0.3)\n"
          "  --pool-max N               most stored states per interface (default 2048 meso,\n"
          "                             256 micro)\n"
          "  --batch N                  trials per engine call, 1..1024 (default: 1024, fewer\n"
          "                             for large states); memory only, never the result\n"
          "  --budget DURATION          most simulated time in all (default 1e7 s); when spent,\n"
          "                             the estimate so far is reported as not converged\n"
          "brute force:\n"
          "  --brute-time DURATION      simulated time after the warm-up, all realizations\n"
          "                             together (default 2000s, over --basin-realizations)\n"
          "\n"
          "Durations take units us, ms, s, min, h; a bare number means ms.\n",
          out);
}

static double g_t0 = 0.0;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void on_log(const char *line, void *user)
{
    (void)user;
    fprintf(stderr, "mesogif switch [%.0f s]: %s\n", now_s() - g_t0, line);
    fflush(stderr);
}

enum {
    O_LEVEL = 1000, O_METHOD, O_RELERR, O_IFACES, O_SEED, O_THREADS, O_BACKEND, O_NOISE, O_OUT,
    O_FORCE, O_DRY, O_QUIET, O_SWOBS, O_SWSMOOTH, O_SWTHR, O_STATSBIN, O_DT, O_WARM, O_BREAL,
    O_BBUDGET, O_TMAX, O_TRIALS, O_PILOT, O_PTARGET, O_POOL, O_BATCH, O_BUDGET, O_BRUTE, O_HELP,
    O_CKPT, O_NOCKPT, O_RESUME, O_SET
};



static int parse_real(const char *opt, const char *s, double *out)
{
    char *end;
    *out = strtod(s, &end);
    if (end == s || *end || !isfinite(*out)) {
        mg_cli_error("%s: '%s' is not a number", opt, s);
        return -1;
    }
    return 0;
}

/* "a,b,c" -> values; -1 with an error line otherwise. */
static int parse_list(const char *s, double *v, int max, int *n)
{
    *n = 0;
    const char *p = s;
    while (*p) {
        char *end;
        double x = strtod(p, &end);
        if (end == p || !isfinite(x) || (*end && *end != ',')) {
            mg_cli_error("--interfaces: '%s' (allowed: auto, or numbers in Hz separated by "
                         "commas)", s);
            return -1;
        }
        if (*n == max) {
            mg_cli_error("--interfaces: more than %d values (allowed: up to %d)", max, max);
            return -1;
        }
        v[(*n)++] = x;
        p = *end ? end + 1 : end;
        if (*end && !*p) {
            mg_cli_error("--interfaces: '%s' ends with a comma", s);
            return -1;
        }
    }
    if (*n == 0) {
        mg_cli_error("--interfaces: empty (allowed: auto, or a list)");
        return -1;
    }
    return 0;
}



static void print_rates(const double *k, const double *lo, const double *hi)
{
    for (int d = 0; d < 2; ++d)
        printf("rate from %s: %.6g Hz [%.6g, %.6g] (95 %%)\n", d == 0 ? "low" : "high", k[d],
               lo[d], hi[d]);
}

static void print_ffs(const mg_ffs_result *r, const mg_model *m, const char *out)
{
    printf("mesogif %s switch: %s, %s level, forward flux sampling, backend %s (%s)\n",
           MG_VERSION, m->name, mg_level_name(r->opts.level), r->backend_name, r->device);
    printf("observable %s, %g ms moving average, thresholds %g,%g Hz; wall %.1f s; simulated "
           "%.4g s (basin %.4g, trials from low %.4g, from high %.4g)\n", r->observable,
           r->smooth_ms, r->lo, r->hi, r->wall_s, r->basin_s + r->trial_s[0] + r->trial_s[1],
           r->basin_s, r->trial_s[0], r->trial_s[1]);
    for (int d = 0; d < 2; ++d) {
        printf("from %s: basin edge %g Hz, flux %.5g Hz (+- %.2g rel, %lld crossings in %.4g "
               "s)\n", d == 0 ? "low" : "high", r->basin_core[d], r->flux_hz[d],
               r->flux_rel_se[d], (long long)r->flux_crossings[d], r->exposure_s[d]);
        printf("  %-5s %10s %10s %10s %10s %8s %8s\n", "stage", "from (Hz)", "to (Hz)", "trials",
               "successes", "p", "rel se");
        for (int i = 0; i < r->n_stages[d]; ++i)
            printf("  %-5d %10.4g %10.4g %10lld %10lld %8.4f %8.3f\n", i, r->interfaces[d][i],
                   r->interfaces[d][i + 1], (long long)r->trials[d][i],
                   (long long)r->successes[d][i], r->p[d][i], r->p_rel_se[d][i]);
        printf("  relative error %.3g (flux %.2g, stages %.2g, tree bootstrap %.2g)%s; trials "
               "and pilots %.4g s simulated\n", r->rate_rel_se[d], r->flux_rel_se[d],
               r->rate_rel_se_stages[d], r->rate_rel_se_tree[d],
               r->reached[d] ? "" : " (above --rel-err: see the warnings)", r->trial_s[d]);
    }
    if (out)
        printf("written: %s\n", out);
    print_rates(r->rate_hz, r->rate_ci_low, r->rate_ci_high);
}

/* The enumerated options (mg_cli_enum_option). */
static const mg_cli_enum switch_enums[] = {{O_LEVEL, "--level", {"meso", "micro"}, 2},
                                           {O_METHOD, "--method", {"ffs", "brute"}, 2},
                                           {O_BACKEND, "--backend", {"auto", "cpu", "cuda"}, 3},
                                           {O_NOISE, "--noise", {"binomial", "poisson"}, 2}};

static const struct option switch_longopts[] = {
    {"level", required_argument, 0, O_LEVEL},
    {"method", required_argument, 0, O_METHOD},
    {"rel-err", required_argument, 0, O_RELERR},
    {"interfaces", required_argument, 0, O_IFACES},
    {"seed", required_argument, 0, O_SEED},
    {"threads", required_argument, 0, O_THREADS},
    {"backend", required_argument, 0, O_BACKEND},
    {"noise", required_argument, 0, O_NOISE},
    {"out", required_argument, 0, O_OUT},
    {"force", no_argument, 0, O_FORCE},
    {"dry-run", no_argument, 0, O_DRY},
    {"quiet", no_argument, 0, O_QUIET},
    {"switch-observable", required_argument, 0, O_SWOBS},
    {"switch-smooth", required_argument, 0, O_SWSMOOTH},
    {"switch-thresholds", required_argument, 0, O_SWTHR},
    {"stats-bin", required_argument, 0, O_STATSBIN},
    {"dt", required_argument, 0, O_DT},
    {"t-warmup", required_argument, 0, O_WARM},
    {"basin-realizations", required_argument, 0, O_BREAL},
    {"basin-budget", required_argument, 0, O_BBUDGET},
    {"trial-max", required_argument, 0, O_TMAX},
    {"trials", required_argument, 0, O_TRIALS},
    {"pilot", required_argument, 0, O_PILOT},
    {"p-target", required_argument, 0, O_PTARGET},
    {"pool-max", required_argument, 0, O_POOL},
    {"batch", required_argument, 0, O_BATCH},
    {"budget", required_argument, 0, O_BUDGET},
    {"brute-time", required_argument, 0, O_BRUTE},
    {"help", no_argument, 0, O_HELP},
    {"checkpoint", required_argument, 0, O_CKPT},
    {"no-checkpoint", no_argument, 0, O_NOCKPT},
    {"resume", required_argument, 0, O_RESUME},
    {"set", required_argument, 0, O_SET},
    {0, 0, 0, 0}};

/* What the command line says, before the model is read. */
typedef struct {
    mg_ffs_opts o;
    int brute, force, dry, quiet, no_ckpt;
    int set_dt, set_warm, set_bin; /* given on the command line (or fixed by a checkpoint) */
    double brute_ms;
    const char *out_path, *ckpt_path, *resume_path, *model_path;
    char *resume_json, *resume_source; /* the checkpoint's model (owned) */
    char resume_out[4096];             /* the checkpoint's output file */
    const char *sets[MG_CLI_MAX_SETS]; /* --set assignments, applied in order after the model */
    int n_sets;
} switch_cli;

static void switch_cli_free(switch_cli *cl)
{
    free(cl->resume_json);
    free(cl->resume_source);
    cl->resume_json = cl->resume_source = NULL;
}

/* --resume first: the checkpoint's options are the estimate's, and options that would change it
 * are refused by parse_switch_options. Returns 0, or the exit code. */
static int read_resume(switch_cli *cl, int argc, char **argv)
{
    cl->resume_path = mg_cli_find_resume(argc, argv);
    if (!cl->resume_path)
        return 0;
    mg_err rerr = {{0}};
    char *out = NULL;
    if (mg_ffs_checkpoint_read(cl->resume_path, &cl->o, &cl->resume_json, &cl->resume_source,
                               &out, &rerr) != MG_OK) {
        mg_cli_one_line(rerr.msg);
        mg_cli_error("--resume: %s", rerr.msg);
        return 2;
    }
    cl->set_dt = cl->set_warm = cl->set_bin = 1;
    snprintf(cl->resume_out, sizeof cl->resume_out, "%s", out ? out : "");
    free(out);
    return 0;
}

/* One of the options that choose from a list of words (--level, --method, --backend, --noise;
 * switch_enums): 0, or 2 after a message naming the allowed words. */
static int switch_enum_option(switch_cli *cl, int c, const char *arg)
{
    mg_ffs_opts *o = &cl->o;
    int k = mg_cli_enum_option(switch_enums, (int)(sizeof switch_enums / sizeof *switch_enums), c,
                               arg);
    if (k < 0)
        return 2;
    if (c == O_LEVEL)
        o->level = k ? MG_LEVEL_MICRO : MG_LEVEL_MESO;
    else if (c == O_METHOD)
        cl->brute = k;
    else if (c == O_BACKEND)
        o->backend = k == 0 ? MG_BACKEND_AUTO : k == 1 ? MG_BACKEND_CPU : MG_BACKEND_CUDA;
    else
        o->noise = k ? MG_NOISE_POISSON : MG_NOISE_BINOMIAL;
    return 0;
}

/* One of the options that take numbers (--rel-err, --interfaces, --p-target, --brute-time):
 * 0, or 2 after a message naming the option and the allowed range. */
static int switch_number_option(switch_cli *cl, int c, const char *arg)
{
    mg_ffs_opts *o = &cl->o;
    switch (c) {
    case O_RELERR:
        if (parse_real("--rel-err", arg, &o->rel_err))
            return 2;
        if (!(o->rel_err > 0 && o->rel_err < 1)) {
            mg_cli_error("--rel-err: '%s' (allowed: 0 < rel-err < 1)", arg);
            return 2;
        }
        return 0;
    case O_IFACES:
        if (strcmp(arg, "auto") == 0)
            o->n_interfaces = 0;
        else if (parse_list(arg, o->interfaces, MG_FFS_IF_MAX - 1, &o->n_interfaces))
            return 2;
        return 0;
    case O_PTARGET:
        return parse_real("--p-target", arg, &o->p_target) ? 2 : 0;
    default: /* O_BRUTE */
        return mg_cli_parse_positive_ms("--brute-time", arg, &cl->brute_ms, "> 0") ? 2 : 0;
    }
}

/* The options of one getopt code that is not a plain number: 0, or the exit code (-1: --help
 * printed, exit 0). */
static int switch_option(switch_cli *cl, int c, const char *arg, char **argv)
{
    mg_ffs_opts *o = &cl->o;
    switch (c) {
    case O_LEVEL:
    case O_METHOD:
    case O_BACKEND:
    case O_NOISE:
        return switch_enum_option(cl, c, arg);
    case O_RELERR:
    case O_IFACES:
    case O_PTARGET:
    case O_BRUTE:
        return switch_number_option(cl, c, arg);
    case O_FORCE:
    case O_DRY:
    case O_QUIET:
    case O_NOCKPT: /* the flags */
        *(c == O_FORCE ? &cl->force : c == O_DRY ? &cl->dry : c == O_QUIET ? &cl->quiet
                                                                           : &cl->no_ckpt) = 1;
        return 0;
    case O_OUT:
    case O_CKPT: /* the paths */
        *(c == O_OUT ? &cl->out_path : &cl->ckpt_path) = arg;
        return 0;
    case O_SWOBS:
    case O_SWSMOOTH:
    case O_SWTHR: /* as `mesogif run` */
        return mg_cli_switch_analysis_option(c == O_SWOBS ? 'o' : c == O_SWSMOOTH ? 's' : 't', arg,
                                             o->switch_observable, sizeof o->switch_observable,
                                             &o->switch_smooth_ms, &o->switch_lo, &o->switch_hi)
                   ? 2
                   : 0;
    case O_RESUME:
        return 0; /* read before the options */
    case O_SET:
        return mg_cli_add_set(cl->sets, &cl->n_sets, arg) ? 2 : 0;
    case O_HELP:
        switch_usage(stdout);
        return -1;
    default:
        mg_cli_unknown_option("switch", argv[optind - 1], switch_longopts);
        return 2;
    }
}

/* Every option, then the model argument. Returns 0 to go on, else the exit code (-1: exit 0). */
static int parse_switch_options(switch_cli *cl, int argc, char **argv)
{
    mg_ffs_opts *o = &cl->o;
    const mg_cli_num nums[] = {
        {O_SEED, "--seed", MG_CLI_U32, &o->seed, 0, 4294967295LL, NULL},
        {O_THREADS, "--threads", MG_CLI_INT, &o->threads, 0, 4096, NULL},
        {O_STATSBIN, "--stats-bin", MG_CLI_MS, &o->stats_bin_ms, 0, 0, &cl->set_bin},
        {O_DT, "--dt", MG_CLI_MS, &o->dt_ms, 0, 0, &cl->set_dt},
        {O_WARM, "--t-warmup", MG_CLI_MS, &o->t_warmup_ms, 0, 0, &cl->set_warm},
        {O_BREAL, "--basin-realizations", MG_CLI_I64, &o->basin_realizations, 2, 1 << 20, NULL},
        {O_BBUDGET, "--basin-budget", MG_CLI_S, &o->basin_budget_s, 0, 0, NULL},
        {O_TMAX, "--trial-max", MG_CLI_S, &o->trial_max_s, 0, 0, NULL},
        {O_TRIALS, "--trials", MG_CLI_I64, &o->trials_first, 8, 1 << 23, NULL},
        {O_PILOT, "--pilot", MG_CLI_I64, &o->pilot_trials, 8, 65536, NULL},
        {O_POOL, "--pool-max", MG_CLI_I64, &o->pool_max, 8, 10000000, NULL},
        {O_BATCH, "--batch", MG_CLI_I64, &o->batch, 1, 1024, NULL},
        {O_BUDGET, "--budget", MG_CLI_S, &o->budget_s, 0, 0, NULL},
    };
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "", switch_longopts, NULL)) != -1) {
        if (cl->resume_path && c != O_THREADS && c != O_QUIET && c != O_OUT && c != O_FORCE &&
            c != O_CKPT && c != O_NOCKPT && c != O_RESUME && c != O_HELP && c != '?' &&
            c != ':') {
            mg_cli_error("%s: not allowed with --resume (the checkpoint holds the options of the "
                         "estimate)", argv[optind - 1]);
            return 2;
        }
        int r = mg_cli_num_option(nums, (int)(sizeof nums / sizeof nums[0]), c, optarg);
        if (r < 0)
            return 2;
        if (r == 0)
            continue;
        r = switch_option(cl, c, optarg, argv);
        if (r != 0)
            return r;
    }
    if (mg_cli_model_arg("switch", argc, argv, optind, &cl->model_path))
        return 2;
    if (cl->resume_path && cl->model_path) {
        mg_cli_error("%s: not allowed with --resume (the checkpoint holds the model)",
                     cl->model_path);
        return 2;
    }
    return 0;
}

/* The model (file, checkpoint or the embedded B1) with the --set overrides, and what it supplies
 * where the command line is silent: the time step, warm-up, statistics bin, observable and
 * output name. Returns 0 or the exit code. */
static int resolve_switch_model(switch_cli *cl, mg_model *m, char *default_out, size_t cap)
{
    int rc = mg_cli_load_model(cl->model_path, cl->resume_json, cl->resume_source, m);
    switch_cli_free(cl);
    if (rc != 0 || (rc = mg_cli_apply_sets(m, cl->sets, cl->n_sets)) != 0)
        return rc;
    mg_ffs_opts *o = &cl->o;
    if (!cl->set_dt && m->sim.dt > 0)
        o->dt_ms = m->sim.dt;
    if (!cl->set_warm && m->sim.t_warmup >= 0)
        o->t_warmup_ms = m->sim.t_warmup;
    if (!cl->set_bin && m->sim.stats_bin > 0)
        o->stats_bin_ms = m->sim.stats_bin;
    /* the observable the model declares, unless one is given (as `mesogif run`); without
     * either, the library's default: A1-A2 (A1 for one population) */
    if (!o->switch_observable[0] && m->switch_observable[0])
        snprintf(o->switch_observable, sizeof o->switch_observable, "%s", m->switch_observable);
    if (!cl->out_path && cl->resume_out[0])
        cl->out_path = cl->resume_out;
    if (!cl->out_path) {
        snprintf(default_out, cap, "%s_switch.h5", m->name);
        cl->out_path = default_out;
    }
    return 0;
}

/* Everything validated before anything runs or is written: the estimate (and the memory line
 * of --dry-run), the output file. Returns 0 to go on, else the exit code (-1: exit 0). */
static int check_switch(const switch_cli *cl, const mg_model *m)
{
    mg_err err = {{0}};
    double per = 0, total = 0;
    int rc = mg_ffs_estimate(m, &cl->o, &per, &total, &err);
    if (cl->dry && (rc == MG_OK || rc == MG_ENOMEM))
        printf("memory: %.4g MB per stored state, up to %.4g MB for the state pools and the "
               "realizations in flight\n", per / 1e6, total / 1e6);
    if (rc != MG_OK) {
        mg_cli_one_line(err.msg);
        const char *file = cl->model_path ? cl->model_path : "<embedded B1>";
        if (err.msg[0] == '/')
            mg_cli_error("%s: %s", file, err.msg);
        else
            mg_cli_error("%s", err.msg);
        return rc == MG_ENOMEM ? 2 : mg_err_exit_code(rc);
    }
    if (cl->dry)
        return -1;
    if (!cl->force && access(cl->out_path, F_OK) == 0) {
        mg_cli_error("%s: exists (use --force to overwrite)", cl->out_path);
        return 2;
    }
    return mg_cli_check_out_folder(cl->out_path) != 0 ? 2 : 0;
}

/* --method brute: `mesogif run` with the same switching analysis (the options of
 * mg_ffs_brute_opts), exits / exposure. */
static int run_brute(const switch_cli *cl, const mg_model *m, mg_err *err)
{
    mg_run_opts ro;
    int rc = mg_ffs_brute_opts(&cl->o, cl->brute_ms, &ro, err);
    if (rc != MG_OK)
        return rc;
    ro.cancel = mg_cli_cancel_flag(); /* cl->o.cancel is set only for FFS */
    mg_result res;
    rc = mg_run(m, &ro, &res, err);
    if (rc == MG_OK) {
        rc = mg_h5_write_result(cl->out_path, &res, m, mg_cli_command_line(), cl->force, err);
        if (rc == MG_OK) {
            const mg_stats *s = &res.stats;
            printf("mesogif %s switch: %s, brute force, %lld realizations x %g s after the "
                   "warm-up, wall %.1f s\n", MG_VERSION, m->name,
                   (long long)ro.realization_count, (ro.t_sim_ms - ro.t_warmup_ms) * 1e-3,
                   res.wall_s);
            for (int d = 0; d < 2; ++d)
                printf("from %s: %lld exits in %.6g s\n", d == 0 ? "low" : "high",
                       (long long)s->i[s->L.i_sw_exits + d], s->d[s->L.d_sw_expo + d]);
            printf("written: %s\n", cl->out_path);
            print_rates(s->rate_hz, s->rate_ci_low, s->rate_ci_high);
        }
        mg_result_free(&res);
    } else if (rc == MG_ENUM) {
        mg_result_free(&res);
    }
    return rc;
}

/* --method ffs: the estimate, with checkpoints (src/ffs/ffs.c); o gets the checkpoint path
 * (pointing into ckpt_default, which must outlive o). */
static int run_ffs(const switch_cli *cl, const mg_model *m, mg_ffs_opts *o, char *ckpt_default,
                   size_t cap, mg_err *err)
{
    if (!cl->quiet) {
        o->log = on_log;
        o->log_user = NULL;
    }
    o->cancel = mg_cli_cancel_flag();
    g_t0 = now_s();
    snprintf(ckpt_default, cap, "%s.ckpt", cl->out_path);
    o->checkpoint_path = cl->no_ckpt ? NULL
                         : cl->ckpt_path ? cl->ckpt_path
                         : cl->resume_path ? cl->resume_path
                                           : ckpt_default;
    o->resume_path = cl->resume_path;
    o->output_path = cl->out_path;
    mg_ffs_result r;
    int rc = mg_ffs_run(m, o, &r, err);
    if (rc == MG_OK) {
        rc = mg_ffs_write_h5(cl->out_path, &r, m, mg_cli_command_line(),
                             cl->force || cl->resume_path, err);
        if (rc == MG_OK) {
            /* the result is in place: the checkpoint has served its purpose */
            if (o->checkpoint_path) {
                char stale[4300];
                snprintf(stale, sizeof stale, "%s.partial", o->checkpoint_path);
                unlink(o->checkpoint_path);
                unlink(stale);
            }
            print_ffs(&r, m, cl->out_path);
        }
    }
    return rc;
}

/* The exit code of a failed estimate, with its one line on stderr. */
static int switch_failure(int rc, mg_err *err, const mg_ffs_opts *o)
{
    mg_cli_one_line(err->msg);
    if (rc == MG_ESTOPPED) {
        mg_cli_error("stopped by a signal; checkpoint %s written; continue with: mesogif switch "
                     "--resume %s", o->checkpoint_path, o->checkpoint_path);
        return 75;
    }
    if (rc == MG_EINTR) {
        mg_cli_error("interrupted by a signal; nothing written");
        return 130;
    }
    mg_cli_error("%s", err->msg);
    return mg_err_exit_code(rc);
}

int mg_cli_switch(int argc, char **argv)
{
    switch_cli cl; /* the checkpoint's output name (resume_out) lives in it until the end */
    memset(&cl, 0, sizeof cl);
    mg_ffs_opts_default(&cl.o);
    cl.brute_ms = 2000e3;
    int code = read_resume(&cl, argc, argv);
    if (code == 0)
        code = parse_switch_options(&cl, argc, argv);
    if (code != 0) {
        switch_cli_free(&cl);
        return code < 0 ? 0 : code;
    }
    mg_model m;
    char default_out[MG_NAME_MAX + 32];
    code = resolve_switch_model(&cl, &m, default_out, sizeof default_out);
    if (code != 0)
        return code;
    code = check_switch(&cl, &m);
    if (code != 0) {
        mg_model_free(&m);
        return code < 0 ? 0 : code;
    }
    mg_cli_signals sigs;
    mg_cli_signals_catch(&sigs);
    mg_err err = {{0}};
    char ckpt_default[4200]; /* cl.o.checkpoint_path may point here until the end */
    int rc = cl.brute ? run_brute(&cl, &m, &err)
                      : run_ffs(&cl, &m, &cl.o, ckpt_default, sizeof ckpt_default, &err);
    mg_cli_signals_restore(&sigs);
    code = rc == MG_OK ? 0 : switch_failure(rc, &err, &cl.o);
    mg_model_free(&m);
    return code;
}
