/* src/ffs/ffs_opts.c: the options of `mesogif switch` (include/mesogif/ffs.h): defaults, their
 * check against the model (the switching configuration of `run`, so that the estimate is about
 * the same observable), the observer rows of a realization, and the memory estimate. */
#include "ffs/ffs_state.h"
#include "engine/meso_derive.h" /* mg_meso_size */
#include "mesogif/stats.h"

#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* Deliberate twin in shape: mg_run_opts_default (src/model/run_types.c) for the options of run. */
void mg_ffs_opts_default(mg_ffs_opts *o)
{
    memset(o, 0, sizeof *o);
    o->level = MG_LEVEL_MESO;
    o->noise = MG_NOISE_BINOMIAL;
    o->backend = MG_BACKEND_AUTO;
    o->dt_ms = 0.5;
    o->stats_bin_ms = 10.0;
    o->t_warmup_ms = 1000.0;
    o->rel_err = 0.1;
    o->seed = 1;
    o->basin_realizations = 64;
    o->basin_budget_s = 5000.0;
    o->trial_max_s = 100.0;
    o->trials_first = 256;
    o->pilot_trials = 64;
    o->p_target = 0.3;
    o->pool_max = 0; /* the level's: mg_ffs_pool_max */
    o->budget_s = 1e7;
}

static int multiple_of(double x, double unit, int64_t *k)
{
    double q = x / unit;
    double r = llround(q);
    *k = (int64_t)r;
    return r >= 1 && fabs(q - r) <= 1e-9 * (q > 1 ? q : 1);
}

/* The switching configuration of `run` (src/engine/run.c stats_config): defaults of
 * mg_stats_cfg_default, then the options; the same messages. */
static int switch_config(const mg_model *m, const mg_ffs_opts *o, mg_stats_cfg *c,
                         int64_t *st_L, mg_err *err)
{
    if (!(o->dt_ms > 0) || !isfinite(o->dt_ms) || o->dt_ms > 1e6)
        return mg_err_set(err, MG_EINVAL, "--dt: %g ms (allowed: > 0)", o->dt_ms);
    if (!multiple_of(o->stats_bin_ms, o->dt_ms, st_L) || *st_L > 100000000)
        return mg_err_set(err, MG_EINVAL, "--stats-bin: %g ms is not a multiple of dt = %g ms "
                          "(allowed: k * dt, 1 <= k <= 1e8)", o->stats_bin_ms, o->dt_ms);
    mg_stats_cfg_default(c, m->P, o->stats_bin_ms, o->dt_ms);
    if (o->switch_observable[0]) {
        int rc = mg_stats_parse_observable(c, o->switch_observable, err);
        if (rc != MG_OK)
            return rc;
    }
    if (o->switch_smooth_ms > 0) {
        int64_t W;
        if (!multiple_of(o->switch_smooth_ms, o->stats_bin_ms, &W) || W > 100000)
            return mg_err_set(err, MG_EINVAL, "--switch-smooth: %g ms is not a multiple of the "
                              "statistics bin %g ms (allowed: k * stats-bin, k <= 100000)",
                              o->switch_smooth_ms, o->stats_bin_ms);
        c->sw_window = (int)W;
    }
    if (o->switch_lo < o->switch_hi) {
        c->sw_lo = o->switch_lo;
        c->sw_hi = o->switch_hi;
    }
    return mg_stats_cfg_check(c, err);
}

/* Everything that does not need the derived model. */
/* The run's level, backend and noise, and a model that switch can estimate rates for. */
static int check_setting(const mg_model *m, const mg_ffs_opts *o, mg_err *err)
{
    if (o->level != MG_LEVEL_MESO && o->level != MG_LEVEL_MICRO)
        return mg_err_set(err, MG_EINVAL, "--level: %d (allowed: meso, micro)", (int)o->level);
    char device[160];
    if (o->backend == MG_BACKEND_CUDA && !mg_cuda_available(device, sizeof device))
        return mg_err_set(err, MG_EINVAL, "--backend cuda: %s (allowed here: auto, cpu)",
                          device);
    if ((int)o->noise < MG_NOISE_BINOMIAL || (int)o->noise > MG_NOISE_POISSON)
        return mg_err_set(err, MG_EINVAL, "--noise: %s has no switching to estimate (allowed: "
                          "binomial, poisson)", mg_noise_name(o->noise));
    if (m->P < 1 || m->P > MG_POP_MAX)
        return mg_err_set(err, MG_EINVAL, "/populations: %d populations (allowed: 1..%d)", m->P,
                          MG_POP_MAX);
    for (int a = 0; a < m->P; ++a)
        if (m->pops[a].n_steps > 0 || mg_pop_has_stimulus(&m->pops[a]))
            return mg_err_set(err, MG_EINVAL, "/populations/%d: a time-dependent input "
                              "(step_current or a stimulus; allowed for switch: none, rates "
                              "need stationary dynamics)", a);
    return MG_OK;
}

/* --rel-err and the interfaces: strictly between the basins of c, strictly increasing. */
static int check_interfaces(const mg_ffs_opts *o, const mg_stats_cfg *c, mg_err *err)
{
    if (!(o->rel_err > 0 && o->rel_err < 1))
        return mg_err_set(err, MG_EINVAL, "--rel-err: %g (allowed: 0 < rel-err < 1)", o->rel_err);
    if (o->n_interfaces < 0 || o->n_interfaces > MG_FFS_IF_MAX - 1)
        return mg_err_set(err, MG_EINVAL, "--interfaces: %d values (allowed: 1..%d, or auto)",
                          o->n_interfaces, MG_FFS_IF_MAX - 1);
    for (int i = 0; i < o->n_interfaces; ++i) {
        double v = o->interfaces[i];
        if (!(v > c->sw_lo && v < c->sw_hi))
            return mg_err_set(err, MG_EINVAL, "--interfaces: %g Hz is not strictly between the "
                              "basins (allowed: %g < value < %g, the --switch-thresholds)", v,
                              c->sw_lo, c->sw_hi);
        if (i > 0 && !(v > o->interfaces[i - 1]))
            return mg_err_set(err, MG_EINVAL, "--interfaces: %g after %g is not increasing "
                              "(allowed: strictly increasing values)", v, o->interfaces[i - 1]);
    }
    return MG_OK;
}

/* The sizes of the phases: warm-up, realizations, trials, pools, budgets, threads. */
static int check_sizes(const mg_ffs_opts *o, mg_err *err)
{
    if (!(o->t_warmup_ms >= 0) || !isfinite(o->t_warmup_ms) || o->t_warmup_ms > 1e9)
        return mg_err_set(err, MG_EINVAL, "--t-warmup: %g ms (allowed: 0 .. 1e9 ms)",
                          o->t_warmup_ms);
    if (o->basin_realizations < 2 || o->basin_realizations > (1 << 20))
        return mg_err_set(err, MG_EINVAL, "--basin-realizations: %lld (allowed: 2..2^20)",
                          (long long)o->basin_realizations);
    if (o->trials_first < 8 || o->trials_first > FFS_TRIALS_MAX)
        return mg_err_set(err, MG_EINVAL, "--trials: %lld (allowed: 8..2^23)",
                          (long long)o->trials_first);
    if (o->pilot_trials < 8 || o->pilot_trials > 65536)
        return mg_err_set(err, MG_EINVAL, "--pilot: %lld (allowed: 8..65536)",
                          (long long)o->pilot_trials);
    if (!(o->p_target >= 0.05 && o->p_target <= 0.8))
        return mg_err_set(err, MG_EINVAL, "--p-target: %g (allowed: 0.05 .. 0.8)", o->p_target);
    if (o->pool_max != 0 && (o->pool_max < 8 || o->pool_max > 10000000))
        return mg_err_set(err, MG_EINVAL, "--pool-max: %lld (allowed: 8..1e7)",
                          (long long)o->pool_max);
    if (o->batch != 0 && (o->batch < 1 || o->batch > FFS_CHUNK))
        return mg_err_set(err, MG_EINVAL, "--batch: %lld (allowed: 1..%d)", (long long)o->batch,
                          FFS_CHUNK);
    if (!(o->basin_budget_s > 0) || !isfinite(o->basin_budget_s))
        return mg_err_set(err, MG_EINVAL, "--basin-budget: %g s (allowed: > 0)",
                          o->basin_budget_s);
    if (!(o->trial_max_s > 0) || !isfinite(o->trial_max_s) || o->trial_max_s > 1e6)
        return mg_err_set(err, MG_EINVAL, "--trial-max: %g s (allowed: > 0, <= 1e6 s)",
                          o->trial_max_s);
    if (!(o->budget_s > 0) || !isfinite(o->budget_s))
        return mg_err_set(err, MG_EINVAL, "--budget: %g s (allowed: > 0)", o->budget_s);
    if (o->threads < 0 || o->threads > 4096)
        return mg_err_set(err, MG_EINVAL, "--threads: %d (allowed: 0 = all, 1..4096)",
                          o->threads);
    double steps = (o->t_warmup_ms + FFS_ROUND_S * 1e3) / o->dt_ms +
                   o->basin_budget_s * 1e3 / o->dt_ms / (double)o->basin_realizations;
    if (steps > 4e9)
        return mg_err_set(err, MG_EINVAL, "--basin-budget: %g s over %lld realizations is "
                          "%.3g steps each (allowed: < 4e9 steps)", o->basin_budget_s,
                          (long long)o->basin_realizations, steps);
    return MG_OK;
}

int mg_ffs_check_opts(const mg_model *m, const mg_ffs_opts *o, mg_stats_cfg *c, int64_t *st_L,
                      mg_err *err)
{
    int rc = check_setting(m, o, err);
    if (rc == MG_OK)
        rc = switch_config(m, o, c, st_L, err);
    if (rc == MG_OK)
        rc = check_interfaces(o, c, err);
    if (rc == MG_OK)
        rc = check_sizes(o, err);
    return rc;
}

static double phys_mem_bytes(void)
{
    long pages = sysconf(_SC_PHYS_PAGES), size = sysconf(_SC_PAGE_SIZE);
    return pages > 0 && size > 0 ? (double)pages * (double)size : 1e18;
}

int64_t mg_ffs_pool_max(const mg_ffs_opts *o)
{
    /* a micro state is every neuron: ~100 times a meso state at the same N */
    return o->pool_max > 0 ? o->pool_max : (o->level == MG_LEVEL_MICRO ? 256 : 2048);
}

int mg_ffs_chunk(const mg_ffs_opts *o, int64_t rows)
{
    if (o->batch > 0)
        return (int)o->batch;
    double fit = FFS_CHUNK_BYTES / ((double)rows * sizeof(double));
    return fit >= FFS_CHUNK ? FFS_CHUNK : (fit < 8 ? 8 : (int)fit);
}

/* Observer rows after the dynamics. */
void mg_ffs_lane_layout(mg_ffs_lane_cfg *lc, const mg_model *m, const mg_stats_cfg *c,
                        int64_t st_L, double dt_ms, int row0)
{
    memset(lc, 0, sizeof *lc);
    lc->P = m->P;
    lc->W = c->sw_window;
    lc->st_L = st_L;
    lc->bin_s = c->bin_ms * 1e-3;
    for (int a = 0; a < m->P; ++a) {
        lc->coef[a] = c->sw_coef[a];
        /* the expression of src/engine/observe_setup.c, so the bits agree */
        lc->st_scale[a] = 1.0 / ((double)m->pops[a].N * (double)st_L * (dt_ms * 1e-3));
    }
    lc->lo = c->sw_lo;
    lc->hi = c->sw_hi;
    int r = row0;
    lc->row_n = r;
    r += m->P;
    lc->row_ring = r;
    r += c->sw_window;
    lc->row_seen = r++;
    lc->row_state = r++;
    lc->row_count = r;
    r += 2;
    lc->row_armed = r;
    r += 2;
    lc->row_dstate = r;
    r += 2;
    lc->rows = r - row0;
}

int mg_ffs_estimate(const mg_model *m, const mg_ffs_opts *o, double *state_bytes,
                    double *total_bytes, mg_err *err)
{
    mg_stats_cfg c;
    int64_t st_L;
    *state_bytes = *total_bytes = 0;
    int rc = mg_ffs_check_opts(m, o, &c, &st_L, err);
    if (rc != MG_OK)
        return rc;
    int64_t dyn_rows = 0, n_kernels = 0;
    double worker = 0.0;
    if (o->level == MG_LEVEL_MICRO)
        rc = mg_ffs_micro_size(m, o, &dyn_rows, &worker, err);
    else
        rc = mg_meso_size(m, o->dt_ms, &dyn_rows, &n_kernels, err);
    if (rc != MG_OK)
        return rc;
    double rows = (double)dyn_rows + m->P + c.sw_window + 8;
    if (rows > 2e9)
        return mg_err_set(err, MG_EINVAL, "the state of one realization would have %.3g rows "
                          "(allowed: < 2e9; lower len_kernel)", rows);
    int nthreads = o->threads > 0 ? o->threads : omp_get_max_threads();
    double per = rows * sizeof(double);
    const int64_t pool_max = mg_ffs_pool_max(o);
    const int chunk = mg_ffs_chunk(o, (int64_t)rows);
    /* pools: up to pool_max states at each of the interfaces of both directions (interface 0
     * of both directions fills from the basin runs at the same time); realizations in flight
     * (the end states of a call, the basin runs, a lane block per thread) and what each thread
     * holds besides (micro: spike lists and networks) */
    double pools = 2.0 * MG_FFS_IF_MAX * (double)pool_max * per;
    double flight = (double)(chunk + nthreads * MG_VL + o->basin_realizations) * per;
    *state_bytes = per;
    *total_bytes = pools + flight + nthreads * worker + (double)n_kernels * sizeof(double);
    double avail = phys_mem_bytes();
    if (*total_bytes > 0.8 * avail)
        return mg_err_set(err, MG_ENOMEM, "the state pools may need %.3g GB (%.3g MB per stored "
                          "state, up to %lld states at each of %d interfaces of 2 directions) "
                          "but this machine has %.3g GB (allowed: up to 80%%); lower "
                          "--pool-max or len_kernel", *total_bytes / 1e9, per / 1e6,
                          (long long)pool_max, MG_FFS_IF_MAX, avail / 1e9);
    return MG_OK;
}

int mg_ffs_brute_opts(const mg_ffs_opts *o, double brute_ms, mg_run_opts *ro, mg_err *err)
{
    if (!(brute_ms > 0) || !isfinite(brute_ms))
        return mg_err_set(err, MG_EINVAL, "--brute-time: %g ms (allowed: > 0, finite)", brute_ms);
    if (o->basin_realizations < 2 || o->basin_realizations > (1 << 20))
        return mg_err_set(err, MG_EINVAL, "--basin-realizations: %lld (allowed: 2..2^20)",
                          (long long)o->basin_realizations);
    mg_run_opts_default(ro);
    ro->level = o->level;
    ro->noise = o->noise;
    ro->backend = o->backend;
    ro->dt_ms = o->dt_ms;
    ro->stats_bin_ms = o->stats_bin_ms;
    ro->record_bin_ms = o->stats_bin_ms;
    ro->t_warmup_ms = o->t_warmup_ms;
    /* the realizations of the FFS basin runs share the brute-force time evenly */
    ro->realization_count = o->basin_realizations;
    ro->t_sim_ms = o->t_warmup_ms + brute_ms / (double)o->basin_realizations;
    ro->record_realizations = 0;
    ro->seed = o->seed;
    ro->threads = o->threads;
    ro->psd_df_hz = -1.0; /* the rates need no spectra */
    snprintf(ro->switch_observable, sizeof ro->switch_observable, "%s", o->switch_observable);
    ro->switch_smooth_ms = o->switch_smooth_ms;
    ro->switch_lo = o->switch_lo;
    ro->switch_hi = o->switch_hi;
    ro->cancel = o->cancel;
    return MG_OK;
}
