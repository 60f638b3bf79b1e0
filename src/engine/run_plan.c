/* src/engine/run_plan.c: the --dry-run report (src/engine/run_plan.h): memory by part, and the run time from
 * a short calibration run of the same model and options. */
#include "engine/run_plan.h"

#include <math.h>
#include <omp.h>
#include <string.h>

/* One calibration attempt: R realizations for t_ms. MG_OK and the wall time, or the error. */
static int attempt(const mg_model *m, const mg_run_opts *base, int64_t R, double t_ms,
                   double *wall, double *rate_hz, const char **backend, mg_err *err)
{
    mg_run_opts o = *base;
    mg_run_opts_unhook(&o);
    o.theory = 0; /* computed after the simulation by mg_run: not part of its time */
    o.realization_count = R;
    o.record_realizations = 0;
    o.t_sim_ms = t_ms;
    o.t_warmup_ms = 0;
    if (o.stats_time_ms > 0) /* asked for: the statistics bin fits any attempt */
        o.stats_time_ms = o.stats_bin_ms;
    mg_result res;
    int rc = mg_run(m, &o, &res, err);
    if (rc != MG_OK)
        return rc;
    *wall = res.wall_s;
    *backend = res.backend_name;
    for (int a = 0; a < res.P; ++a)
        rate_hz[a] = res.stats.mean_A && isfinite(res.stats.mean_A[a]) ? res.stats.mean_A[a] : 0;
    mg_result_free(&res);
    return MG_OK;
}

/* The calibration attempts: the last one (R realizations for t ms, wall time w), the one
 * before it (R_prev, t_prev, w_prev; R_prev = 0 when there was none), the wall time of all
 * together, and the rates of the last. */
typedef struct {
    int64_t R, R_prev;
    double t, t_prev, w, w_prev, total;
    double rate[MG_POP_MAX];
} cal_runs;

/* Run attempts that grow in simulated time up to t-sim, then in realizations up to c->R (set
 * by the caller, as c->t), until one takes 0.1 s (or all together 1 s). 0, or -1 with the
 * reason in plan->note when an attempt failed. */
static int run_attempts(const mg_model *m, const mg_run_opts *opts, cal_runs *c,
                        mg_run_plan *plan)
{
    mg_err err = {{0}};
    for (;;) {
        if (c->t > opts->t_sim_ms)
            c->t = opts->t_sim_ms;
        if (c->R > opts->realization_count)
            c->R = opts->realization_count;
        int rc = attempt(m, opts, c->R, c->t, &c->w, c->rate, &plan->backend, &err);
        if (rc != MG_OK && opts->psd_df_hz >= 0) { /* spectra longer than the attempt */
            mg_run_opts o = *opts;
            o.psd_df_hz = -1;
            rc = attempt(m, &o, c->R, c->t, &c->w, c->rate, &plan->backend, &err);
        }
        if (rc != MG_OK) {
            snprintf(plan->note, sizeof plan->note, "calibration failed: %.200s", err.msg);
            return -1;
        }
        c->total += c->w;
        if (c->w >= 0.1 || c->total >= 1.0 ||
            (c->t >= opts->t_sim_ms && c->R >= opts->realization_count))
            return 0;
        c->t_prev = c->t;
        c->w_prev = c->w;
        c->R_prev = c->R;
        if (c->t < opts->t_sim_ms)
            c->t *= 4;
        else
            c->R *= 4;
    }
}

/* The run's wall time extrapolated from the last two attempts. */
static double extrapolate(const mg_run_opts *opts, const cal_runs *c)
{
    const double steps = floor(opts->t_sim_ms / opts->dt_ms + 1e-9);
    const double s2 = floor(c->t / opts->dt_ms + 1e-9), R_all = (double)opts->realization_count;
    const double w = c->w, w_prev = c->w_prev;
    const int64_t R = c->R, R_prev = c->R_prev;
    if (R_prev > 0 && R_prev < R) {
        /* the last two attempts differ in realizations (both of the full length): wall =
         * c0 + k R, c0 the cost of a call (threads, scratch, FFTW plans) that the run pays
         * once (c0 >= 0, k >= 0) */
        double k = (w - w_prev) / (double)(R - R_prev), c0 = w - k * (double)R;
        if (!(k > 0) || c0 < 0) {
            k = w / (double)R;
            c0 = 0;
        }
        return c0 + k * R_all;
    }
    /* in simulated time (same realizations): wall = a + b steps through the last two (a holds
     * per-realization setup such as drawing a micro network, not scaled by steps) */
    const double s1 = floor(c->t_prev / opts->dt_ms + 1e-9);
    double b = R_prev > 0 && s2 > s1 ? (w - w_prev) / (s2 - s1) : w / s2;
    if (!(b >= 0))
        b = w / s2;
    double a = w - b * s2;
    if (a < 0) {
        a = 0;
        b = w / s2;
    }
    return (a + b * steps) * (R_all / (double)R);
}

static void calibrate(const mg_model *m, const mg_run_opts *opts, mg_run_plan *plan)
{
    const int nthreads = opts->threads > 0 ? opts->threads : omp_get_max_threads();
    char dev[128];
    const int cuda = opts->backend != MG_BACKEND_CPU && mg_cuda_available(dev, sizeof dev) &&
                     !(opts->level == MG_LEVEL_MICRO && opts->backend == MG_BACKEND_AUTO);
    cal_runs c = {0};
    c.R = cuda ? 65536 : 2 * (int64_t)nthreads * MG_VL;
    if (c.R > opts->realization_count)
        c.R = opts->realization_count;
    double bin = opts->stats_bin_ms;
    c.t = 20.0 * opts->dt_ms;
    c.t = bin * ceil(c.t / bin - 1e-9);
    if (c.t < bin)
        c.t = bin;
    if (run_attempts(m, opts, &c, plan) != 0)
        return;
    plan->calibrated = 1;
    plan->cal_realizations = c.R;
    plan->cal_t_ms = c.t;
    plan->cal_wall_s = c.total;
    plan->est_wall_s = extrapolate(opts, &c);
    if (opts->level == MG_LEVEL_MICRO) {
        int64_t k = opts->record_realizations < opts->realization_count
                        ? opts->record_realizations : opts->realization_count;
        double n = 0;
        for (int p = 0; p < m->P; ++p)
            n += (double)m->pops[p].N * c.rate[p] * opts->t_sim_ms * 1e-3;
        plan->spikes = (double)k * n * (double)(sizeof(double) + sizeof(uint64_t));
    }
}

int mg_run_plan_make(const mg_model *m, const mg_run_opts *opts, int calibrate_it,
                     mg_run_plan *plan, mg_err *err)
{
    memset(plan, 0, sizeof *plan);
    int rc = mg_run_memory(m, opts, &plan->mem, err);
    if (rc != MG_OK) {
        snprintf(plan->note, sizeof plan->note, "not calibrated (the run does not fit)");
        return rc;
    }
    if (calibrate_it)
        calibrate(m, opts, plan);
    else
        snprintf(plan->note, sizeof plan->note, "not calibrated");
    return MG_OK;
}

/* "3.2 s", "4.1 min", "2.5 h", "3.1 d" */
static void fmt_time(double s, char *buf, size_t len)
{
    if (s < 120)
        snprintf(buf, len, "%.3g s", s);
    else if (s < 7200)
        snprintf(buf, len, "%.3g min", s / 60);
    else if (s < 172800)
        snprintf(buf, len, "%.3g h", s / 3600);
    else
        snprintf(buf, len, "%.3g d", s / 86400);
}

void mg_run_plan_print(const mg_run_plan *p, FILE *f)
{
    const mg_run_mem *M = &p->mem;
    fprintf(f, "memory: %.4g MB per realization in flight, %.4g MB in total\n",
            M->per_realization / 1e6, (M->total + p->spikes) / 1e6);
    if (M->statistics > 0 || M->state > 0)
        fprintf(f, "memory by part: state %.4g MB (%.0f realizations in flight), statistics "
                "%.4g MB, traces %.4g MB, spikes %.4g MB%s, shared %.4g MB (kernels, network)\n",
                M->state / 1e6, M->in_flight, M->statistics / 1e6, M->traces / 1e6,
                p->spikes / 1e6, p->calibrated ? "" : " (not estimated)", M->shared / 1e6);
    if (p->calibrated) {
        char est[32], cal[32];
        fmt_time(p->est_wall_s, est, sizeof est);
        fmt_time(p->cal_wall_s, cal, sizeof cal);
        fprintf(f, "estimated run time: %s (%.3g s) on %s, from a calibration of %lld "
                "realizations x %g ms that took %s\n", est, p->est_wall_s, p->backend,
                (long long)p->cal_realizations, p->cal_t_ms, cal);
    } else {
        fprintf(f, "estimated run time: %s\n", p->note);
    }
}

void mg_run_plan_report(const mg_model *m, const mg_run_opts *opts, int rc_fit, FILE *f)
{
    mg_run_plan plan;
    mg_err err = {{0}};
    mg_run_plan_make(m, opts, rc_fit == MG_OK, &plan, &err);
    mg_run_plan_print(&plan, f);
}
