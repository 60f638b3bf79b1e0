/* src/cli/cli_run.c: `mesogif run`: parse the options (DESIGN.md "Command line"), load the model,
 * run the ensemble with a progress line, write the HDF5 file and print a summary table. */
#include "cli/cli.h"
#include "engine/run_plan.h"
#include "util/shard.h"
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
#include <unistd.h>

static void run_usage(FILE *out)
{
    fputs("usage: mesogif run [MODEL.json] [options]\n"
          "\n"
          "  --level meso|micro         model level (default meso)\n"
          "  --noise binomial|poisson|deterministic\n"
          "                             meso spike-count draw (default binomial)\n"
          "  --realizations R           number of realizations (default 1)\n"
          "  --first I                  index of the first realization (default 0)\n"
          "  --count R                  the same as --realizations\n"
          "  --checkpoint FILE          checkpoint file (default OUT.h5.ckpt)\n"
          "  --checkpoint-every DURATION  write a checkpoint every DURATION of wall time; on\n"
          "                             SIGTERM/SIGINT one is always written, then exit 75\n"
          "                             (not by the micro level on CUDA: exit 130)\n"
          "  --no-checkpoint            never write one (a signal then stops with exit 130)\n"
          "  --resume FILE              continue from a checkpoint (model and options come\n"
          "                             from it; options given must agree with it)\n"
          "  --shard I/N | slurm        simulate only shard I of N of the realizations (contiguous\n"
          "                             ranges; slurm: from SLURM_ARRAY_TASK_ID/_MIN/_COUNT)\n"
          "  --t-sim DURATION           simulated time per realization (default 10s)\n"
          "  --dt DURATION              time step (default 0.5ms)\n"
          "  --t-warmup DURATION        statistics start after this (default min(1s, t-sim/10))\n"
          "  --record-bin DURATION      bin of the recorded traces (default 1ms, in whole steps)\n"
          "  --stats-bin DURATION       bin of A for means and variances (default 10ms, in\n"
          "                             whole steps; shorter for runs too short for it)\n"
          "  --record-realizations k    record traces of the first k realizations (default 1)\n"
          "  --seed S                   random seed, 0..4294967295 (default 1)\n"
          "  --set POP.PARAM=VALUE      override a model parameter (repeatable), e.g.\n"
          "                             --set E.I_e=300, --set 'PROJ[E->I].J=0.5'\n"
          "  --threads n                OpenMP threads (default: all cores)\n"
          "  --backend auto|cpu|cuda    (default auto: CUDA when a device answers)\n"
          "  --cuda-kernel auto|thread|warp|warp64\n"
          "                             meso CUDA kernel, all with the CPU's bits (default auto:\n"
          "                             thread, one per realization; warp: 8 lanes per\n"
          "                             realization; warp64: warp within 64 registers)\n"
          "  --batch B                  realizations per work item / device batch (0 = auto)\n"
          "  --connectivity per-realization|shared\n"
          "                             micro: each realization draws its own network\n"
          "                             (default), or one network for the whole ensemble\n"
          "  --out FILE.h5              output file (default <model>_<level>.h5)\n"
          "  --force                    overwrite an existing output file\n"
          "  --dry-run                  print the memory needed and exit\n"
          "  --quiet                    no progress line\n"
          "statistics (after the warm-up; all kept as mergeable sums):\n"
          "  --stats full|basic         basic: moments only (default full: all of the below)\n"
          "  --psd-df FREQ              spectral resolution (default 1Hz; 'off': no spectra)\n"
          "  --psd-bin DURATION         spectral sample bin (default 1ms, or dt)\n"
          "  --onesided                 one-sided spectra (default two-sided, S -> A/N)\n"
          "  --switch-observable EXPR   the switching analysis of e.g. A1-A2 or 0.5*A1+A3 (default:\n"
          "                             the model file's \"switch_observable\"; none: no analysis)\n"
          "  --switch-smooth DURATION   moving average of the observable (default 50ms)\n"
          "  --switch-thresholds LO,HI  hysteresis thresholds in Hz (default -5,5)\n"
          "  --hist-max FREQ            histograms of A on [0, max) (default 200Hz)\n"
          "  --hist-bins N              (default 400)\n"
          "  --stats-time BIN|off       mean, variance and covariance of A across realizations\n"
          "                             per time bin from the start of the run, warm-up\n"
          "                             included (default: the stats bin when the model has a\n"
          "                             time-dependent input, else off)\n"
          "  --theory                   also compute the mean-field theory (fixed points, their\n"
          "                             stability, spectra at /stats/freq) into /theory\n"
          "\n"
          "Durations take units us, ms, s, min, h; a bare number means ms (--t-sim below 10\n"
          "draws a warning). Values given here override the model file's \"simulation\" block,\n"
          "which overrides the defaults. The equations: docs/MODEL.md. Exit status: 0 done,\n"
          "1 runtime failure, 2 bad input (every problem is listed), 75 stopped by a signal\n"
          "with a checkpoint (continue with --resume), 130 interrupted without one.\n",
          out);
}

/* Total biological seconds of the run, for the ETA. */
static double g_total_sim_s = 0.0;

typedef struct {
    int is_tty;
    double last_plain; /* wall_s of the last plain line (not a TTY: one line per 10 s) */
} progress_state;

static void on_progress(const mg_progress *p, void *user)
{
    progress_state *ps = (progress_state *)user;
    int done = p->realizations_done >= p->realizations_total;
    if (!ps->is_tty && !done && p->wall_s - ps->last_plain < 10.0)
        return;
    /* simulated time is the better clock: realizations finish in bursts */
    double rate = p->wall_s > 0 ? p->sim_s_done / p->wall_s : 0.0;
    char eta[32] = "?";
    if (rate > 0) {
        double left = (g_total_sim_s - p->sim_s_done) / rate;
        snprintf(eta, sizeof eta, "%.0f s", left > 0 ? left : 0.0);
    }
    if (ps->is_tty) {
        fprintf(stderr, "\r  realizations %lld/%lld  simulated %.4g s  %.4g real-s/s  ETA %s   ",
                (long long)p->realizations_done, (long long)p->realizations_total,
                p->sim_s_done, rate, eta);
    } else {
        ps->last_plain = p->wall_s;
        fprintf(stderr, "progress: realizations %lld/%lld, simulated %.4g s, %.4g real-s/s, "
                "ETA %s\n", (long long)p->realizations_done, (long long)p->realizations_total,
                p->sim_s_done, rate, eta);
    }
    fflush(stderr);
}


enum {
    OPT_LEVEL = 1000, OPT_NOISE, OPT_REAL, OPT_FIRST, OPT_TSIM, OPT_DT, OPT_WARM, OPT_RECBIN,
    OPT_STATSBIN, OPT_RECREAL, OPT_SEED, OPT_THREADS, OPT_BACKEND, OPT_BATCH, OPT_OUT,
    OPT_FORCE, OPT_DRY, OPT_QUIET, OPT_HELP, OPT_PSD_DF, OPT_PSD_BIN, OPT_ONESIDED, OPT_SW_OBS,
    OPT_SW_SMOOTH, OPT_SW_THR, OPT_HIST_MAX, OPT_HIST_BINS, OPT_SHARD, OPT_COUNT, OPT_CKPT,
    OPT_CKPT_EVERY, OPT_NO_CKPT, OPT_RESUME, OPT_STATS, OPT_STATS_TIME
};

enum { OPT_CONNECTIVITY = 2000 }; /* micro connectivity (src/engine/micro_derive.c) */

enum { OPT_THEORY = 2100 }; /* --theory: /theory in the file (src/io/io_h5_theory.c) */

enum { OPT_CUDA_KERNEL = 2300 }; /* --cuda-kernel: the meso CUDA kernel (kernels/backend_cuda.cu) */

enum { OPT_SET = 2200 }; /* --set: model overrides (src/model/model_set.c) */

/* A slot per option code for the given[] and bad_opt[] flags of run_cli. */
static int opt_slot(int c)
{
    return c >= OPT_LEVEL && c - OPT_LEVEL < 60 ? c - OPT_LEVEL
           : c == OPT_CUDA_KERNEL ? 60 : c == OPT_CONNECTIVITY ? 61 : c == OPT_THEORY ? 62 : 63;
}

/* A bare number below 10 for a duration that is usually seconds long (--t-sim 5) is read as
 * ms, as documented, but that is rarely what was meant: one warning line. */
static void warn_bare_ms(const char *opt, const char *text, double ms)
{
    char *end;
    double v = strtod(text, &end);
    if (end != text && *end == '\0' && v > 0 && v < 10.0 && ms == v)
        mg_cli_error("warning: %s %s is read as %g ms (a number without a unit means ms; "
                     "write %gs for seconds)", opt, text, v, v);
}


/* The options a model file's "simulation" block can set, with their JSON keys (bit i of the
 * from_file mask of report() is sim_opts[i]). */
static const char *const sim_opts[5][2] = {{"--dt", "dt"}, {"--t-sim", "t_sim"},
                                           {"--t-warmup", "t_warmup"},
                                           {"--record-bin", "record_bin"},
                                           {"--stats-bin", "stats_bin"}};

/* One line for a failed validation or run: "<file>: " before messages about the model (JSON
 * paths, parser positions); a message about an option whose value came from the model file's
 * "simulation" block (bit set in from_file) names the file and "/simulation/<key>" instead of
 * the option, since that is where the user has to look. */
static void report(const mg_model *m, const char *model_path, unsigned from_file, int rc,
                   mg_err *err)
{
    mg_cli_one_line(err->msg);
    const char *file = model_path ? model_path : (m && m->source ? m->source : "model");
    /* JSON paths are model errors (MG_EINVAL); an I/O message starts with a file's path */
    if (rc == MG_EINVAL && (err->msg[0] == '/' || strncmp(err->msg, "line ", 5) == 0)) {
        mg_cli_error("%s: %s", file, err->msg);
        return;
    }
    for (int i = 0; i < 5; ++i) {
        size_t n = strlen(sim_opts[i][0]);
        if ((from_file >> i & 1u) && strncmp(err->msg, sim_opts[i][0], n) == 0 &&
            err->msg[n] == ':') {
            mg_cli_error("%s: /simulation/%s%s", file, sim_opts[i][1], err->msg + n);
            return;
        }
    }
    mg_cli_error("%s", err->msg);
}

/* Is x a whole multiple (>= 1) of dt, to 1e-9 relative (the library's rule)? Sets *k. */
static int multiple_of_dt(double x, double dt, int64_t *k)
{
    double q = x / dt;
    double r = llround(q);
    *k = (int64_t)r;
    return r >= 1 && fabs(q - r) <= 1e-9 * (q > 1 ? q : 1);
}

/* The default bin `def` ms when it is a whole number of steps of dt, else the nearest whole
 * number (at least 1) of steps: defaults follow --dt instead of failing on it. */
static double bin_near(double def, double dt)
{
    if (!(dt > 0) || !isfinite(dt))
        return def;
    double q = def / dt;
    long long k = llround(q);
    if (k >= 1 && fabs(q - (double)k) <= 1e-9 * (q > 1 ? q : 1))
        return def;
    return (double)(k < 1 ? 1 : k) * dt;
}

/* Options that do not apply to the level or backend chosen: one line each naming why;
 * returns the number of lines. */
static int check_level_options(const mg_run_opts *o, const unsigned char *given)
{
    int n = 0;
    if (o->level == MG_LEVEL_MICRO && given[opt_slot(OPT_NOISE)]) {
        mg_cli_error("--noise: does not apply to the micro level (it chooses how the meso level "
                     "draws its spike counts; the micro level simulates every neuron)");
        n++;
    }
    if (o->level == MG_LEVEL_MESO && given[opt_slot(OPT_CONNECTIVITY)]) {
        mg_cli_error("--connectivity: does not apply to the meso level (it chooses the networks "
                     "of the micro level; add --level micro)");
        n++;
    }
    if (o->level == MG_LEVEL_MICRO && o->backend == MG_BACKEND_CUDA &&
        given[opt_slot(OPT_CKPT_EVERY)]) {
        mg_cli_error("--checkpoint-every: does not apply to the micro level on CUDA (its backend "
                     "writes no checkpoints; use --backend cpu for checkpoints)");
        n++;
    }
    if (given[opt_slot(OPT_CUDA_KERNEL)] &&
        (o->level == MG_LEVEL_MICRO || o->backend == MG_BACKEND_CPU)) {
        mg_cli_error("--cuda-kernel: does not apply to %s (it chooses the meso level's CUDA "
                     "kernel)", o->level == MG_LEVEL_MICRO ? "the micro level" : "--backend cpu");
        n++;
    }
    return n;
}

/* Statistics options given although the choice of statistics (--stats basic, --psd-df off)
 * switches them off: one line each; returns the number of lines. */
static int check_stats_options(const mg_run_opts *o, const unsigned char *given)
{
    int n = 0;
    static const struct {
        int opt;
        const char *name;
    } sw_opts[] = {{OPT_PSD_BIN, "--psd-bin"}, {OPT_ONESIDED, "--onesided"},
                   {OPT_SW_OBS, "--switch-observable"}, {OPT_SW_SMOOTH, "--switch-smooth"},
                   {OPT_SW_THR, "--switch-thresholds"}, {OPT_HIST_MAX, "--hist-max"},
                   {OPT_HIST_BINS, "--hist-bins"}};
    for (size_t k = 0; k < sizeof sw_opts / sizeof sw_opts[0]; ++k) {
        if (!given[opt_slot(sw_opts[k].opt)])
            continue;
        if (o->stats_basic) {
            mg_cli_error("%s: does not apply with --stats basic (moments only)",
                         sw_opts[k].name);
            n++;
        } else if (o->psd_df_hz < 0 && k < 2) {
            mg_cli_error("%s: does not apply with --psd-df off (no spectra)", sw_opts[k].name);
            n++;
        }
    }
    return n;
}

/* Options that would change a resumed run (o differs from the checkpoint's options resumed):
 * one line each naming the option and the checkpoint's value; returns the number of lines. */
static int check_resumed(const mg_run_opts *o, const mg_run_opts *resumed)
{
    int n = 0;
    /* a resumed run is the checkpoint's run: what changes it cannot be given otherwise */
    struct {
        const char *opt;
        int differs;
        char was[96];
    } f[] = {
        {"--realizations, --count, --first or --shard",
         o->realization_first != resumed->realization_first ||
             o->realization_count != resumed->realization_count, ""},
        {"--level", o->level != resumed->level, ""},
        {"--noise", o->noise != resumed->noise, ""},
        {"--t-sim", o->t_sim_ms != resumed->t_sim_ms, ""},
        {"--dt", o->dt_ms != resumed->dt_ms, ""},
        {"--t-warmup", o->t_warmup_ms != resumed->t_warmup_ms, ""},
        {"--record-bin", o->record_bin_ms != resumed->record_bin_ms, ""},
        {"--stats-bin", o->stats_bin_ms != resumed->stats_bin_ms, ""},
        {"--record-realizations", o->record_realizations != resumed->record_realizations, ""},
        {"--seed", o->seed != resumed->seed, ""},
        {"--connectivity", o->connectivity != resumed->connectivity, ""},
        {"--psd-df", o->psd_df_hz != resumed->psd_df_hz, ""},
        {"--psd-bin", o->psd_bin_ms != resumed->psd_bin_ms, ""},
        {"--onesided", o->onesided != resumed->onesided, ""},
        {"--switch-observable",
         strncmp(o->switch_observable, resumed->switch_observable,
                 sizeof o->switch_observable) != 0, ""},
        {"--switch-smooth", o->switch_smooth_ms != resumed->switch_smooth_ms, ""},
        {"--switch-thresholds",
         o->switch_lo != resumed->switch_lo || o->switch_hi != resumed->switch_hi, ""},
        {"--hist-max", o->hist_max_hz != resumed->hist_max_hz, ""},
        {"--hist-bins", o->hist_bins != resumed->hist_bins, ""},
        {"--stats", o->stats_basic != resumed->stats_basic, ""},
        {"--theory", o->theory != resumed->theory, ""},
        {"--stats-time", o->stats_time_ms != resumed->stats_time_ms, ""},
    };
    snprintf(f[0].was, sizeof f[0].was, "realizations [%lld, %lld)",
             (long long)resumed->realization_first,
             (long long)(resumed->realization_first + resumed->realization_count));
    snprintf(f[3].was, sizeof f[3].was, "t-sim %g ms", resumed->t_sim_ms);
    snprintf(f[4].was, sizeof f[4].was, "dt %g ms", resumed->dt_ms);
    snprintf(f[9].was, sizeof f[9].was, "seed %u", (unsigned)resumed->seed);
    for (size_t k = 0; k < sizeof f / sizeof f[0]; ++k)
        if (f[k].differs) {
            mg_cli_error("%s: does not apply with --resume (the checkpoint fixes the run%s%s; "
                         "only --threads, --backend, --batch, --checkpoint-every, --out and "
                         "--quiet may be given; to change the run start a new one)", f[k].opt,
                         f[k].was[0] ? ": " : "", f[k].was);
            n++;
        }
    return n;
}

/* Options that do not apply to the level, to a resumed run or to each other: one line each
 * naming why; returns the number of lines. */
static int check_applicable(const mg_run_opts *o, const mg_run_opts *resumed,
                            const unsigned char *given, int no_ckpt, const char *ckpt_path)
{
    int n = check_level_options(o, given);
    n += check_stats_options(o, given);
    if (no_ckpt && (ckpt_path || given[opt_slot(OPT_CKPT_EVERY)])) {
        mg_cli_error("--no-checkpoint: conflicts with %s (allowed: one of them)",
                     ckpt_path ? "--checkpoint" : "--checkpoint-every");
        n++;
    }
    if (resumed)
        n += check_resumed(o, resumed);
    return n;
}

/* The relations between the durations of a run (what the library's validation refuses one at
 * a time), all reported at once; skips options whose value did not parse (bad_opt). Returns
 * the number of lines printed. */
static int check_relations(const mg_run_opts *o, const mg_model *m, const char *model_path,
                           unsigned from_file, const unsigned char *bad_opt)
{
    int n = 0;
    mg_err e = {{0}};
#define REL_BAD(...)                                                                          \
    do {                                                                                      \
        mg_err_set(&e, MG_EINVAL, __VA_ARGS__);                                               \
        report(m, model_path, from_file, MG_EINVAL, &e);                                      \
        n++;                                                                                  \
    } while (0)
    int dt_ok = !bad_opt[opt_slot(OPT_DT)] && o->dt_ms > 0 && isfinite(o->dt_ms);
    int ts_ok = !bad_opt[opt_slot(OPT_TSIM)] && o->t_sim_ms > 0 && isfinite(o->t_sim_ms);
    if (!bad_opt[opt_slot(OPT_DT)] && !dt_ok)
        REL_BAD("--dt: %g ms (allowed: > 0)", o->dt_ms);
    if (!bad_opt[opt_slot(OPT_TSIM)] && !ts_ok)
        REL_BAD("--t-sim: %g ms (allowed: > 0)", o->t_sim_ms);
    if (ts_ok && !bad_opt[opt_slot(OPT_WARM)] &&
        (!(o->t_warmup_ms >= 0) || !(o->t_warmup_ms < o->t_sim_ms)))
        REL_BAD("--t-warmup: %g ms (allowed: 0 <= t-warmup < t-sim = %g ms)", o->t_warmup_ms,
                o->t_sim_ms);
    int64_t k;
    int rec_ok = 1, st_ok = 1;
    if (dt_ok && !bad_opt[opt_slot(OPT_RECBIN)] && !multiple_of_dt(o->record_bin_ms, o->dt_ms, &k)) {
        REL_BAD("--record-bin: %g ms is not a multiple of dt = %g ms (allowed: k * dt, k >= 1)",
                o->record_bin_ms, o->dt_ms);
        rec_ok = 0;
    }
    (void)rec_ok;
    if (dt_ok && !bad_opt[opt_slot(OPT_STATSBIN)] &&
        !multiple_of_dt(o->stats_bin_ms, o->dt_ms, &k)) {
        REL_BAD("--stats-bin: %g ms is not a multiple of dt = %g ms (allowed: k * dt, k >= 1)",
                o->stats_bin_ms, o->dt_ms);
        st_ok = 0;
    }
    if (dt_ok && o->psd_bin_ms > 0 && o->psd_df_hz >= 0 && !o->stats_basic &&
        !bad_opt[opt_slot(OPT_PSD_BIN)] && !multiple_of_dt(o->psd_bin_ms, o->dt_ms, &k))
        REL_BAD("--psd-bin: %g ms is not a multiple of dt = %g ms (allowed: k * dt, k >= 1)",
                o->psd_bin_ms, o->dt_ms);
    if (st_ok && o->switch_smooth_ms > 0 && !bad_opt[opt_slot(OPT_SW_SMOOTH)] &&
        !bad_opt[opt_slot(OPT_STATSBIN)] &&
        !multiple_of_dt(o->switch_smooth_ms, o->stats_bin_ms, &k))
        REL_BAD("--switch-smooth: %g ms is not a multiple of the statistics bin %g ms (allowed: "
                "k * stats-bin)", o->switch_smooth_ms, o->stats_bin_ms);
    if (dt_ok && o->stats_time_ms > 0 && !bad_opt[opt_slot(OPT_STATS_TIME)] &&
        !multiple_of_dt(o->stats_time_ms, o->dt_ms, &k))
        REL_BAD("--stats-time: %g ms is not a multiple of dt = %g ms (allowed: k * dt, k >= 1)",
                o->stats_time_ms, o->dt_ms);
    else if (ts_ok && o->stats_time_ms > o->t_sim_ms && !bad_opt[opt_slot(OPT_STATS_TIME)])
        REL_BAD("--stats-time: %g ms is longer than t-sim = %g ms (allowed: bin <= t-sim)",
                o->stats_time_ms, o->t_sim_ms);
#undef REL_BAD
    return n;
}


/* Everything `mesogif run` knows about its command line, filled by the steps of mg_cli_run in
 * order: parse_options, resolve_shard, resolve_model, apply_simulation_block, set_up. */
typedef struct {
    mg_run_opts o;
    /* which options the user gave (they win over the model file's "simulation" block) */
    int set_dt, set_tsim, set_warm, set_rec, set_stats;
    int set_stats_time; /* --stats-time given (else: on for time-dependent inputs) */
    const char *out_path;
    int force, dry, quiet;
    const char *shard_text;
    int64_t shard_index, shard_count;
    const char *ckpt_path, *resume_path;
    int no_ckpt;
    const char *sets[MG_CLI_MAX_SETS]; /* --set assignments, applied in order after the model */
    int n_sets;
    char *resume_json, *resume_source, *resume_out;
    mg_resume *resume;   /* the checkpoint of --resume, opened once (read here, loaded by the run) */
    mg_run_opts resumed; /* the options of the checkpoint of --resume */
    /* every problem of the command line is reported, then exit 2 */
    int nbad, n_unknown;
    unsigned char bad_opt[64], given[64];
    const char *model_path;
    unsigned from_file;  /* options whose value came from the model file (bits of sim_opts) */
    int warm_default;    /* the warm-up is the default min(1 s, t-sim/10) */
    char default_out[MG_NAME_MAX + 32];
    char ckpt_default[4096];
    progress_state ps;
} run_cli;

static void run_cli_free(run_cli *cl)
{
    free(cl->resume_json);
    free(cl->resume_source);
    free(cl->resume_out);
    cl->resume_json = cl->resume_source = cl->resume_out = NULL;
    mg_resume_free(cl->resume);
    cl->resume = NULL;
}

static const struct option run_longopts[] = {
    {"level", required_argument, 0, OPT_LEVEL},
    {"noise", required_argument, 0, OPT_NOISE},
    {"realizations", required_argument, 0, OPT_REAL},
    {"first", required_argument, 0, OPT_FIRST},
    {"t-sim", required_argument, 0, OPT_TSIM},
    {"dt", required_argument, 0, OPT_DT},
    {"t-warmup", required_argument, 0, OPT_WARM},
    {"record-bin", required_argument, 0, OPT_RECBIN},
    {"stats-bin", required_argument, 0, OPT_STATSBIN},
    {"record-realizations", required_argument, 0, OPT_RECREAL},
    {"seed", required_argument, 0, OPT_SEED},
    {"threads", required_argument, 0, OPT_THREADS},
    {"backend", required_argument, 0, OPT_BACKEND},
    {"cuda-kernel", required_argument, 0, OPT_CUDA_KERNEL},
    {"batch", required_argument, 0, OPT_BATCH},
    {"connectivity", required_argument, 0, OPT_CONNECTIVITY},
    {"out", required_argument, 0, OPT_OUT},
    {"force", no_argument, 0, OPT_FORCE},
    {"dry-run", no_argument, 0, OPT_DRY},
    {"quiet", no_argument, 0, OPT_QUIET},
    {"help", no_argument, 0, OPT_HELP},
    {"psd-df", required_argument, 0, OPT_PSD_DF},
    {"shard", required_argument, 0, OPT_SHARD},
    {"stats", required_argument, 0, OPT_STATS},
    {"checkpoint", required_argument, 0, OPT_CKPT},
    {"checkpoint-every", required_argument, 0, OPT_CKPT_EVERY},
    {"no-checkpoint", no_argument, 0, OPT_NO_CKPT},
    {"resume", required_argument, 0, OPT_RESUME},
    {"count", required_argument, 0, OPT_COUNT},
    {"psd-bin", required_argument, 0, OPT_PSD_BIN},
    {"onesided", no_argument, 0, OPT_ONESIDED},
    {"switch-observable", required_argument, 0, OPT_SW_OBS},
    {"switch-smooth", required_argument, 0, OPT_SW_SMOOTH},
    {"switch-thresholds", required_argument, 0, OPT_SW_THR},
    {"hist-max", required_argument, 0, OPT_HIST_MAX},
    {"hist-bins", required_argument, 0, OPT_HIST_BINS},
    {"stats-time", required_argument, 0, OPT_STATS_TIME},
    {"theory", no_argument, 0, OPT_THEORY},
    {"set", required_argument, 0, OPT_SET},
    {0, 0, 0, 0}};

/* --resume first: the checkpoint's options are the defaults the others override. 0, or 2 after
 * an error line. */
static int read_resume(int argc, char **argv, run_cli *cl)
{
    cl->resume_path = mg_cli_find_resume(argc, argv);
    if (!cl->resume_path)
        return 0;
    mg_err rerr = {{0}};
    int rrc = mg_resume_alloc(cl->resume_path, &cl->resume, &cl->resume_json, &cl->resume_source,
                              &cl->o, &cl->resume_out, &rerr);
    if (rrc != MG_OK) {
        mg_cli_error("--resume: %s", rerr.msg);
        return 2;
    }
    cl->set_dt = cl->set_tsim = cl->set_warm = cl->set_rec = cl->set_stats = 1;
    cl->resumed = cl->o;
    /* a resumed shard stays the shard it was (its file tells merge which run it is of) */
    cl->shard_index = cl->o.shard_index;
    cl->shard_count = cl->o.shard_count > 0 ? cl->o.shard_count : 1;
    return 0;
}

/* The word options of parse_sim_option: option c with value k (the index of its word in the
 * table's row) into o. Returns 0, or 1 when c is not one of them. */
static int set_sim_enum(mg_run_opts *o, int c, int k)
{
    switch (c) {
    case OPT_LEVEL:
        o->level = k ? MG_LEVEL_MICRO : MG_LEVEL_MESO;
        return 0;
    case OPT_NOISE:
        o->noise = k == 0 ? MG_NOISE_BINOMIAL : k == 1 ? MG_NOISE_POISSON : MG_NOISE_DETERMINISTIC;
        return 0;
    case OPT_BACKEND:
        o->backend = k == 0 ? MG_BACKEND_AUTO : k == 1 ? MG_BACKEND_CPU : MG_BACKEND_CUDA;
        return 0;
    case OPT_CUDA_KERNEL:
        o->cuda_kernel = k == 0 ? MG_CUDA_KERNEL_AUTO : k == 1 ? MG_CUDA_KERNEL_THREAD
                         : k == 2 ? MG_CUDA_KERNEL_WARP : MG_CUDA_KERNEL_WARP64;
        return 0;
    case OPT_CONNECTIVITY:
        o->connectivity = k ? MG_CONN_SHARED : MG_CONN_PER_REALIZATION;
        return 0;
    default:
        return 1;
    }
}

/* The options of the simulation itself (level, sizes, durations, backend). Returns 0, -1 for a
 * bad value (its line printed) or 1 when c is not one of them. */
static int parse_sim_option(int c, const char *arg, run_cli *cl)
{
    static const mg_cli_enum enums[] = {
        {OPT_LEVEL, "--level", {"meso", "micro"}, 2},
        {OPT_NOISE, "--noise", {"binomial", "poisson", "deterministic"}, 3},
        {OPT_BACKEND, "--backend", {"auto", "cpu", "cuda"}, 3},
        {OPT_CUDA_KERNEL, "--cuda-kernel", {"auto", "thread", "warp", "warp64"}, 4},
        {OPT_CONNECTIVITY, "--connectivity", {"per-realization", "shared"}, 2}};
    mg_run_opts *o = &cl->o;
    const mg_cli_num nums[] = {
        {OPT_FIRST, "--first", MG_CLI_I64, &o->realization_first, 0, 4294967295LL, NULL},
        {OPT_DT, "--dt", MG_CLI_MS, &o->dt_ms, 0, 0, &cl->set_dt},
        {OPT_WARM, "--t-warmup", MG_CLI_MS, &o->t_warmup_ms, 0, 0, &cl->set_warm},
        {OPT_RECBIN, "--record-bin", MG_CLI_MS, &o->record_bin_ms, 0, 0, &cl->set_rec},
        {OPT_STATSBIN, "--stats-bin", MG_CLI_MS, &o->stats_bin_ms, 0, 0, &cl->set_stats},
        {OPT_RECREAL, "--record-realizations", MG_CLI_I64, &o->record_realizations, 0, 1000000,
         NULL},
        {OPT_SEED, "--seed", MG_CLI_U32, &o->seed, 0, 4294967295LL, NULL},
        {OPT_THREADS, "--threads", MG_CLI_INT, &o->threads, 0, 4096, NULL},
        {OPT_BATCH, "--batch", MG_CLI_I64, &o->batch, 0, 1LL << 40, NULL},
    };
    int r = mg_cli_num_option(nums, (int)(sizeof nums / sizeof nums[0]), c, arg);
    if (r != 1)
        return r;
    int k = mg_cli_enum_option(enums, (int)(sizeof enums / sizeof enums[0]), c, arg);
    if (k == -1)
        return -1;
    if (set_sim_enum(o, c, k) == 0)
        return 0;
    int64_t v;
    switch (c) {
    case OPT_REAL:
    case OPT_COUNT:
        if (mg_cli_parse_int64(c == OPT_REAL ? "--realizations" : "--count", arg, 1,
                               4294967296LL, &v))
            return -1;
        o->realization_count = v;
        return 0;
    case OPT_TSIM:
        if (mg_cli_parse_duration("--t-sim", arg, &o->t_sim_ms))
            return -1;
        cl->set_tsim = 1;
        warn_bare_ms("--t-sim", arg, o->t_sim_ms);
        return 0;
    case OPT_THEORY:
        o->theory = 1;
        return 0;
    default:
        return 1;
    }
}

/* The options of the statistics (include/mesogif/stats.h). As parse_sim_option. */
static int parse_stats_option(int c, const char *arg, run_cli *cl)
{
    static const char *const stats[] = {"full", "basic"};
    mg_run_opts *o = &cl->o;
    int64_t v;
    int k;
    switch (c) {
    case OPT_PSD_DF:
        if (strcmp(arg, "off") == 0) {
            o->psd_df_hz = -1.0;
        } else if (mg_parse_frequency_hz(arg, &o->psd_df_hz) != 0 || !(o->psd_df_hz > 0)) {
            mg_cli_error("--psd-df: '%s' (allowed: a frequency > 0 with Hz or kHz, or off)", arg);
            return -1;
        }
        return 0;
    case OPT_PSD_BIN:
        return mg_cli_parse_positive_ms("--psd-bin", arg, &o->psd_bin_ms,
                                        "> 0, a multiple of dt");
    case OPT_ONESIDED:
        o->onesided = 1;
        return 0;
    case OPT_SW_OBS:
    case OPT_SW_SMOOTH:
    case OPT_SW_THR:
        return mg_cli_switch_analysis_option(c == OPT_SW_OBS ? 'o' : c == OPT_SW_SMOOTH ? 's' : 't',
                                             arg, o->switch_observable,
                                             sizeof o->switch_observable, &o->switch_smooth_ms,
                                             &o->switch_lo, &o->switch_hi);
    case OPT_HIST_MAX:
        if (mg_parse_frequency_hz(arg, &o->hist_max_hz) != 0 || !(o->hist_max_hz > 0)) {
            mg_cli_error("--hist-max: '%s' (allowed: a frequency > 0)", arg);
            return -1;
        }
        return 0;
    case OPT_HIST_BINS:
        if (mg_cli_parse_int64("--hist-bins", arg, 1, 100000, &v))
            return -1;
        o->hist_bins = (int)v;
        return 0;
    case OPT_STATS_TIME:
        cl->set_stats_time = 1;
        if (strcmp(arg, "off") == 0) {
            o->stats_time_ms = -1.0;
            return 0;
        }
        return mg_cli_parse_positive_ms("--stats-time", arg, &o->stats_time_ms,
                                        "a duration > 0, or off");
    case OPT_STATS:
        if ((k = mg_cli_parse_choice("--stats", arg, stats, 2)) < 0)
            return -1;
        o->stats_basic = k;
        return 0;
    default:
        return 1;
    }
}

/* The options of the output, checkpoints, shards and overrides. As parse_sim_option. */
static int parse_output_option(int c, const char *arg, run_cli *cl)
{
    switch (c) {
    case OPT_OUT:
        cl->out_path = arg;
        return 0;
    case OPT_FORCE:
        cl->force = 1;
        return 0;
    case OPT_DRY:
        cl->dry = 1;
        return 0;
    case OPT_QUIET:
        cl->quiet = 1;
        return 0;
    case OPT_SHARD:
        cl->shard_text = arg;
        return 0;
    case OPT_CKPT:
        cl->ckpt_path = arg;
        return 0;
    case OPT_CKPT_EVERY: {
        double ms;
        if (mg_cli_parse_duration("--checkpoint-every", arg, &ms))
            return -1;
        if (!(ms >= 1000.0)) {
            mg_cli_error("--checkpoint-every: '%s' (allowed: >= 1s)", arg);
            return -1;
        }
        cl->o.checkpoint_every_s = ms * 1e-3;
        return 0;
    }
    case OPT_NO_CKPT:
        cl->no_ckpt = 1;
        return 0;
    case OPT_RESUME:
        return 0; /* read before the options (read_resume) */
    case OPT_SET:
        return mg_cli_add_set(cl->sets, &cl->n_sets, arg);
    default:
        return 1;
    }
}

/* The getopt loop: every option's value parsed, every problem reported (counted in cl->nbad).
 * Returns -1 to go on, or the exit status (0 after --help, 2 after an unknown option). */
static int parse_options(int argc, char **argv, run_cli *cl)
{
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "", run_longopts, NULL)) != -1) {
        if (c == OPT_HELP) {
            run_usage(stdout);
            return 0;
        }
        int r = parse_sim_option(c, optarg, cl);
        if (r == 1)
            r = parse_stats_option(c, optarg, cl);
        if (r == 1)
            r = parse_output_option(c, optarg, cl);
        if (r == 1) {
            mg_cli_unknown_option("run", argv[optind - 1], run_longopts);
            cl->nbad++;
            cl->n_unknown++;
        } else if (r < 0) {
            /* go on to the next option, so that every problem is reported at once */
            cl->nbad++;
            cl->bad_opt[opt_slot(c)] = 1;
        }
        if (c > 0 && c != '?')
            cl->given[opt_slot(c)] = 1;
    }
    if (argc - optind > 1) {
        /* after an unknown option its value is left over: that one line is enough */
        if (!cl->n_unknown)
            mg_cli_error("run: one model file at most, got '%s' and '%s'", argv[optind],
                         argv[optind + 1]);
        cl->nbad++;
    }
    /* an unknown option leaves its value as a stray word: what follows would only echo it */
    if (cl->n_unknown > 0)
        return 2;
    cl->model_path = optind < argc ? argv[optind] : NULL;
    return -1;
}

/* --shard: the range of this shard (or, with --resume, the check that it is the checkpoint's
 * shard); problems counted in cl->nbad. Then the options that do not apply. */
static void resolve_shard(run_cli *cl)
{
    mg_run_opts *o = &cl->o;
    int64_t realizations_total = cl->resume_path && o->realizations_total > 0
                                     ? o->realizations_total : o->realization_count;
    mg_err serr = {{0}};
    if (cl->shard_text && (cl->bad_opt[opt_slot(OPT_REAL)] || cl->bad_opt[opt_slot(OPT_COUNT)])) {
        /* the shards of a count that did not parse: nothing to check */
    } else if (cl->shard_text && cl->resume_path) {
        /* the checkpoint's shard, or an error naming it */
        int64_t si = 0, sc = 1;
        if (mg_shard_parse(cl->shard_text, &si, &sc, &serr) != MG_OK) {
            mg_cli_error("%s", serr.msg);
            cl->nbad++;
        } else if (si != cl->shard_index || sc != cl->shard_count) {
            mg_cli_error("--shard: does not apply with --resume (the checkpoint is of shard "
                         "%lld/%lld, realizations [%lld, %lld); to change the run start a new "
                         "one)", (long long)cl->shard_index, (long long)cl->shard_count,
                         (long long)o->realization_first,
                         (long long)(o->realization_first + o->realization_count));
            cl->nbad++;
        }
    } else if (cl->shard_text) {
        if (mg_shard_parse(cl->shard_text, &cl->shard_index, &cl->shard_count, &serr) != MG_OK) {
            mg_cli_error("%s", serr.msg);
            cl->nbad++;
        } else if (cl->shard_count > realizations_total) {
            mg_cli_error("--shard: %lld shards of %lld realizations would leave shards empty "
                         "(allowed: N <= --realizations)", (long long)cl->shard_count,
                         (long long)realizations_total);
            cl->nbad++;
        } else {
            mg_shard_range(o->realization_first, realizations_total, cl->shard_index,
                           cl->shard_count, &o->realization_first, &o->realization_count);
        }
    }
    o->shard_index = cl->shard_index;
    o->shard_count = cl->shard_count;
    o->realizations_total = realizations_total;
    cl->nbad += check_applicable(o, cl->resume_path ? &cl->resumed : NULL, cl->given,
                                 cl->no_ckpt, cl->ckpt_path);
}

/* The model: the file named, the checkpoint's, or the embedded B1; then the --set overrides.
 * Returns -1 with *m loaded, or the exit status after an error line (*m freed). */
static int resolve_model(run_cli *cl, mg_model *m)
{
    int rc = mg_cli_load_model(cl->model_path, cl->resume_json,
                               cl->resume_source ? cl->resume_source : "checkpoint", m);
    free(cl->resume_json);
    free(cl->resume_source);
    cl->resume_json = cl->resume_source = NULL;
    if (rc != 0)
        return rc;
    rc = mg_cli_apply_sets(m, cl->sets, cl->n_sets);
    return rc != 0 ? rc : -1;
}

/* Durations from the model file's "simulation" block where the user gave none (only those of a
 * real file are reported as JSON paths: cl->from_file), and the defaults that follow the run: a
 * warm-up of a tenth of a short run (at most 1 s), bins of whole steps of the time step. */
static void apply_simulation_block(run_cli *cl, const mg_model *m)
{
    mg_run_opts *o = &cl->o;
    unsigned from_file = 0;
    /* bit k of from_file: row k came from the file (a value > 0; the warm-up may be 0) */
    const struct {
        int given;
        double file;
        double *to;
        int zero_ok;
    } rows[] = {{cl->set_dt, m->sim.dt, &o->dt_ms, 0},
                {cl->set_tsim, m->sim.t_sim, &o->t_sim_ms, 0},
                {cl->set_warm, m->sim.t_warmup, &o->t_warmup_ms, 1},
                {cl->set_rec, m->sim.record_bin, &o->record_bin_ms, 0},
                {cl->set_stats, m->sim.stats_bin, &o->stats_bin_ms, 0}};
    for (unsigned k = 0; k < sizeof rows / sizeof rows[0]; ++k)
        if (!rows[k].given && (rows[k].zero_ok ? rows[k].file >= 0 : rows[k].file > 0)) {
            *rows[k].to = rows[k].file;
            from_file |= 1u << k;
        }
    if (!cl->model_path)
        from_file = 0;
    /* the warm-up: the user's (--t-warmup), else the model file's when it fits the run (its
     * t_warmup belongs to its t_sim: with a --t-sim of at most twice it, it is dropped), else
     * min(1 s, t-sim/10); the embedded model's "simulation" block is the defaults themselves */
    cl->warm_default = !cl->set_warm && (!(from_file & 4u) || !cl->model_path ||
                                         (cl->set_tsim && !(2.0 * o->t_warmup_ms < o->t_sim_ms)));
    if (cl->warm_default) {
        from_file &= ~4u;
        if (o->t_sim_ms > 0 && isfinite(o->t_sim_ms))
            o->t_warmup_ms = fmin(1000.0, o->t_sim_ms / 10.0);
    }
    if (!cl->set_rec && !(from_file & 8u))
        o->record_bin_ms = bin_near(1.0, o->dt_ms);
    if (!cl->set_stats && !(from_file & 16u)) {
        o->stats_bin_ms = bin_near(10.0, o->dt_ms);
        /* a very short run: the longest bin of whole steps that leaves one complete bin after
         * the warm-up (bins are counted from t = 0, as the library does) */
        if (o->dt_ms > 0 && isfinite(o->dt_ms) && o->t_sim_ms > 0 && isfinite(o->t_sim_ms) &&
            o->t_warmup_ms >= 0) {
            double n_steps = floor(o->t_sim_ms / o->dt_ms + 1e-9);
            double k = floor(o->stats_bin_ms / o->dt_ms + 0.5);
            while (k > 1 && !(ceil(o->t_warmup_ms / (o->dt_ms * k) - 1e-9) + 1.0 <=
                              floor(n_steps / k)))
                k -= 1.0;
            o->stats_bin_ms = k * o->dt_ms == o->stats_bin_ms ? o->stats_bin_ms : k * o->dt_ms;
        }
    }
    cl->from_file = from_file;
}

/* Time-resolved statistics are on by default when the input depends on time (a response to a
 * stimulus is what such a run is for), in the statistics bin, unless the record of one
 * realization would be too large: then off, with a note. The library makes that choice
 * (stats_time_ms = 0, so that every caller gets the same default); this only says so. The model
 * file may declare the observable of the switching analysis. Then the relations between the
 * durations (cl->nbad). */
static void complete_options(run_cli *cl, const mg_model *m)
{
    mg_run_opts *o = &cl->o;
    if (!cl->set_stats_time && !cl->resume_path) {
        int timed = 0;
        for (int a = 0; a < m->P; ++a)
            timed |= m->pops[a].n_steps > 0 || mg_pop_has_stimulus(&m->pops[a]);
        if (timed && o->dt_ms > 0 && o->stats_bin_ms > 0 && o->t_sim_ms >= o->stats_bin_ms) {
            double bins = floor(floor(o->t_sim_ms / o->dt_ms + 1e-9) /
                                floor(o->stats_bin_ms / o->dt_ms + 0.5));
            double bytes = ((double)m->P + (double)m->P * m->P) * bins * 8.0;
            if (bytes > MG_STATS_TIME_MAX_BYTES)
                mg_cli_error("note: time-resolved statistics left off (%.0f MB per realization "
                             "in bins of %g ms; ask for them with a coarser --stats-time)",
                             bytes / 1048576.0, o->stats_bin_ms);
        }
    }
    if (!o->switch_observable[0] && m->switch_observable[0])
        snprintf(o->switch_observable, sizeof o->switch_observable, "%s", m->switch_observable);
    cl->nbad += check_relations(o, m, cl->model_path, cl->from_file, cl->bad_opt);
}

/* The output and checkpoint paths and the progress and cancel plumbing, into cl->o. */
static void set_paths(run_cli *cl, const mg_model *m)
{
    mg_run_opts *o = &cl->o;
    if (!cl->out_path && cl->resume_out && *cl->resume_out)
        cl->out_path = cl->resume_out;
    if (!cl->out_path) {
        snprintf(cl->default_out, sizeof cl->default_out, "%s_%s.h5", m->name,
                 mg_level_name(o->level));
        cl->out_path = cl->default_out;
    }
    /* checkpoints: next to the output unless told otherwise; a resume keeps writing into the
     * checkpoint it came from */
    snprintf(cl->ckpt_default, sizeof cl->ckpt_default, "%s.ckpt", cl->out_path);
    o->checkpoint_path = cl->no_ckpt ? NULL : cl->ckpt_path ? cl->ckpt_path
                         : cl->resume_path ? cl->resume_path : cl->ckpt_default;
    cl->ps.is_tty = isatty(2);
    cl->ps.last_plain = 0.0;
    if (!cl->quiet) {
        o->progress = on_progress;
        o->progress_user = &cl->ps;
    }
    g_total_sim_s = (double)o->realization_count * o->t_sim_ms * 1e-3;
    o->cancel = mg_cli_cancel_flag();
    o->resume_path = cl->resume_path;
    o->output_path = cl->out_path;
}

/* Set up once (mg_ensemble_alloc: validate, derive, check the memory, probe CUDA), then the
 * checks of the output: --dry-run stops after the memory line; an output that exists, a folder
 * that cannot be written, an earlier run's checkpoint or a missing CUDA device stop with exit 2
 * before anything is simulated. Returns -1 with *ens set, or the exit status. */
static int set_up(run_cli *cl, const mg_model *m, mg_ensemble **ens)
{
    mg_run_opts *o = &cl->o;
    mg_err err = {{0}};
    set_paths(cl, m);
    /* Validate everything (options, model against options, memory) before anything else is
     * printed, so that bad input gives exactly one line on stderr and exit 2. A run too big
     * for this machine (MG_ENOMEM here) is bad input as well: the sizes asked for. */
    double per, total;
    int rc = mg_ensemble_alloc(m, o, ens, &per, &total, &err);
    if (cl->dry && (rc == MG_OK || rc == MG_ENOMEM))
        mg_run_plan_report(m, o, rc, stdout); /* memory by part, calibrated run time */
    if (rc == MG_OK && cl->resume)
        rc = mg_ensemble_resume(*ens, cl->resume, &err);
    if (rc != MG_OK) {
        report(m, cl->model_path, cl->from_file, rc, &err);
        return rc == MG_ENOMEM ? 2 : mg_err_exit_code(rc);
    }
    if (cl->dry)
        return 0;
    if (!cl->force && !cl->resume_path && access(cl->out_path, F_OK) == 0) {
        mg_cli_error("%s: exists (use --force to overwrite)", cl->out_path);
        return 2;
    }
    if (mg_cli_check_out_folder(cl->out_path) != 0)
        return 2;
    /* A checkpoint this run did not write is finished work of an earlier one: it is continued
     * with --resume, and only --force starts over over it. */
    if (o->checkpoint_path && !cl->force && access(o->checkpoint_path, F_OK) == 0 &&
        !(cl->resume_path && strcmp(o->checkpoint_path, cl->resume_path) == 0)) {
        mg_cli_error("%s: a checkpoint of an earlier run is there; continue it with: mesogif run "
                     "--resume %s (or add --force to start over and discard it)",
                     o->checkpoint_path, o->checkpoint_path);
        return 2;
    }
    /* say which backend runs before a long run starts */
    char devname[160];
    int have_cuda = mg_ensemble_cuda(*ens, devname, sizeof devname);
    if (o->backend == MG_BACKEND_CUDA && !have_cuda) {
        mg_cli_error("--backend cuda: %s", devname);
        return 2;
    }
    if (!cl->quiet && o->backend == MG_BACKEND_AUTO && o->level == MG_LEVEL_MICRO && have_cuda)
        fprintf(stderr, "mesogif: the micro level runs on the CPU unless --backend cuda is "
                        "given (what its CUDA backend was measured to do: README, \"What runs "
                        "where\")\n");
    else if (!cl->quiet && o->backend == MG_BACKEND_AUTO)
        fprintf(stderr, have_cuda ? "mesogif: backend cuda (%s)\n"
                                  : "mesogif: %s; running on the CPU\n", devname);
    return -1;
}

/* Run the ensemble with SIGINT/SIGTERM asking for a checkpoint. A numerical fault keeps what was
 * computed (written marked partial, exit 1). Returns -1 with *res filled, or the exit status
 * after the error lines. */
static int execute(run_cli *cl, const mg_model *m, mg_ensemble *ens, mg_result *res)
{
    mg_run_opts *o = &cl->o;
    mg_err err = {{0}};
    mg_cli_signals sigs;
    mg_cli_signals_catch(&sigs);
    int rc = mg_ensemble_run(ens, res, &err);
    mg_cli_signals_restore(&sigs);
    if (!cl->quiet && cl->ps.is_tty)
        fputc('\n', stderr);
    if (rc == MG_ENUM && res->partial) {
        /* keep what was computed, marked partial, then fail */
        mg_err werr = {{0}};
        mg_cli_one_line(err.msg);
        mg_cli_error("%s", err.msg);
        if (mg_h5_write_result(cl->out_path, res, m, mg_cli_command_line(), 1, &werr) == MG_OK)
            mg_cli_error("what was computed before the fault is in %s, marked partial",
                         cl->out_path);
        else
            mg_cli_error("%s", werr.msg);
        mg_result_free(res);
        return 1;
    }
    if (rc == MG_OK)
        return -1;
    int code = mg_err_exit_code(rc);
    if (rc == MG_ESTOPPED) {
        mg_cli_error("stopped by a signal; checkpoint %s written; continue with: mesogif run "
                     "--resume %s", o->checkpoint_path, o->checkpoint_path);
        code = 75; /* EX_TEMPFAIL: try again later */
    } else if (rc == MG_EINTR) {
        if (o->checkpoint_path)
            mg_cli_error("interrupted by a signal; nothing written (%s)", err.msg);
        else
            mg_cli_error("interrupted by a signal; nothing written (--no-checkpoint)");
        code = 130;
    } else {
        report(m, cl->model_path, cl->from_file, rc, &err);
        if (cl->resume_path && rc == MG_EINVAL)
            code = 2;
    }
    return code;
}

/* Write the result; once it is in place the checkpoint has served its purpose. 0, or 1 after
 * the error line. */
static int write_result(run_cli *cl, const mg_model *m, const mg_result *res)
{
    const mg_run_opts *o = &cl->o;
    mg_err err = {{0}};
    if (!cl->quiet)
        mg_cli_note_left_out(res);
    int rc = mg_h5_write_result(cl->out_path, res, m, mg_cli_command_line(),
                                cl->force || cl->resume_path, &err);
    if (rc != MG_OK) {
        mg_cli_error("%s%s", err.msg, o->checkpoint_path && access(o->checkpoint_path, F_OK) == 0
                                          ? " (the last checkpoint is kept)" : "");
        return 1;
    }
    if (o->checkpoint_path) {
        char stale[4200];
        snprintf(stale, sizeof stale, "%s.partial", o->checkpoint_path);
        unlink(o->checkpoint_path);
        unlink(stale); /* left by a process killed while writing one */
    }
    return 0;
}

/* The summary table, and the theory's when --theory asked for it. */
static void print_result(const run_cli *cl, const mg_model *m, const mg_result *res)
{
    mg_cli_print_summary(res, m, cl->out_path, cl->warm_default);
    if (!cl->o.theory)
        return;
    /* from the result in memory; a theory failure is one warning, not an error: the run is in
     * the file */
    char warning[MG_ERR_LEN + 64];
    mg_cli_print_theory(res, stdout, warning, sizeof warning);
    if (warning[0]) {
        mg_cli_one_line(warning);
        mg_cli_error("warning: %s", warning);
    }
}

/* mesogif run: parse -> resolve the model and the simulation block -> set up once -> run ->
 * write -> print (docs/ARCHITECTURE.md). */
int mg_cli_run(int argc, char **argv)
{
    run_cli cl;
    memset(&cl, 0, sizeof cl);
    mg_run_opts_default(&cl.o);
    cl.shard_count = 1;
    int code = read_resume(argc, argv, &cl);
    if (code == 0)
        code = parse_options(argc, argv, &cl);
    if (code >= 0) {
        run_cli_free(&cl);
        return code;
    }
    resolve_shard(&cl);
    mg_model m;
    if ((code = resolve_model(&cl, &m)) >= 0) {
        run_cli_free(&cl);
        return code;
    }
    apply_simulation_block(&cl, &m);
    complete_options(&cl, &m);
    mg_ensemble *ens = NULL;
    mg_result res;
    memset(&res, 0, sizeof res);
    if (cl.nbad > 0)
        code = 2;
    else if ((code = set_up(&cl, &m, &ens)) < 0 && (code = execute(&cl, &m, ens, &res)) < 0) {
        code = write_result(&cl, &m, &res);
        if (code == 0)
            print_result(&cl, &m, &res);
        mg_result_free(&res);
    }
    mg_ensemble_free(ens);
    mg_model_free(&m);
    run_cli_free(&cl);
    return code;
}
