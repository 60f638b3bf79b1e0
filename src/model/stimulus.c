/* src/model/stimulus.c: the input tables of a run (contracts in src/model/stimulus.h).
 *
 * Step t of a run covers [t dt, (t + 1) dt); its input is taken as constant over the step
 * (MODEL.md §2.4) and equal to the stimulus at the step's start, t dt: a step current from its
 * first step at or after amplitude_times[i] (as before), a sinusoid and a time series sampled
 * at t dt, an OU current advanced exactly (AR(1) with a = exp(-dt / tau)) from step to step.
 * A stimulus with start/stop is active in the steps t with ceil(start/dt) <= t < ceil(stop/dt),
 * the same rounding as the step currents. */
#include "model/stimulus.h"
#include "util/free_all.h"
#include "core/input.h"
#include "core/rng.h"
#include "util/search.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define STEP_CAP 4611686018427387904.0 /* 2^62: a time beyond any run (see the step tables) */

int mg_pop_has_stimulus(const mg_pop *p)
{
    return p->has_ac || p->has_ou || p->n_series > 0;
}

int mg_pop_ou_stationary(const mg_pop *p)
{
    return p->has_ou && p->ou_start == 0.0 && p->ou_stop == INFINITY;
}

/* A stimulus the host evaluates into a dense per-step table (everything but the independent OU
 * current, which the dynamics draw themselves: src/core/stim_ou.h). */
static int has_table_stimulus(const mg_pop *p)
{
    return p->has_ac || (p->has_ou && !p->ou_independent) || p->n_series > 0;
}

/* First step at or after t_ms; +inf (and huge times) become 2^62. */
static int64_t step_of(double t_ms, double dt_ms)
{
    const double s = ceil(t_ms / dt_ms - 1e-9);
    return s < STEP_CAP ? (int64_t)s : INT64_C(4611686018427387904);
}

double mg_stim_normal(uint32_t seed, int a, int64_t t)
{
    philox4x32_ctr_t w =
        mg_philox_block(seed, MG_STREAM_STIM_OU, 0u, (uint32_t)a, (uint32_t)t, 0u);
    const double u1 = mg_u01_from(w.v[0], w.v[1]), u2 = mg_u01_from(w.v[2], w.v[3]);
    /* u1 is never 0, so the logarithm is finite */
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

/* Linear interpolation of the samples at t_ms; 0 outside the sampled interval. */
static double series_at(const mg_pop *p, double t_ms)
{
    const int n = p->n_series;
    if (n <= 0 || t_ms < p->series_times[0] || t_ms > p->series_times[n - 1])
        return 0.0;
    const int lo = mg_last_at_or_before(p->series_times, n, t_ms);
    if (lo == n - 1)
        return p->series_amps[n - 1];
    const double t0 = p->series_times[lo], t1 = p->series_times[lo + 1];
    const double w = (t_ms - t0) / (t1 - t0);
    return p->series_amps[lo] + w * (p->series_amps[lo + 1] - p->series_amps[lo]);
}

double mg_stim_pA(const mg_pop *p, double dt_ms, int64_t t, double ou)
{
    const double t_ms = (double)t * dt_ms;
    double I = 0.0;
    if (p->has_ac && t >= step_of(p->ac_start, dt_ms) && t < step_of(p->ac_stop, dt_ms)) {
        /* NEST ac_generator: frequency in Hz, t in ms, phase in degrees */
        const double arg = 6.283185307179586 * p->ac_frequency * t_ms * 1e-3 +
                           p->ac_phase * (3.141592653589793 / 180.0);
        I += p->ac_offset + p->ac_amplitude * sin(arg);
    }
    if (p->has_ou && !p->ou_independent && t >= step_of(p->ou_start, dt_ms) &&
        t < step_of(p->ou_stop, dt_ms))
        I += p->ou_mean + ou;
    if (p->n_series > 0)
        I += series_at(p, t_ms);
    return I;
}

void mg_inp_tables_free(mg_inp_tables *t)
{
    MG_FREE_ALL(t->first, t->count, t->step, t->mV);
    memset(t, 0, sizeof *t);
}

/* The step currents of p as (first step, pA) pairs with strictly ascending steps: of two times
 * in one step the later one wins, as the binary search of core/input.h would pick it. Returns
 * the number of pairs written to step[], pA[]. */
static int step_pairs(const mg_pop *p, double dt_ms, int64_t *step, double *pA)
{
    int k = 0;
    for (int i = 0; i < p->n_steps; ++i) {
        const int64_t s = step_of(p->step_times[i], dt_ms);
        if (k > 0 && step[k - 1] == s)
            --k;
        step[k] = s;
        pA[k] = p->step_amps[i];
        ++k;
    }
    return k;
}

/* The size of the tables of model m: *n entries (the step currents of the populations without
 * a table stimulus, n_steps per population with one) and the largest number of step-current
 * pairs of a population. MG_EINVAL for a time-dependent stimulus when n_steps < 0 and for
 * tables beyond MG_STIM_TABLE_MAX_BYTES or 2^31 entries. */
static int tables_size(const mg_model *m, int64_t n_steps, int64_t *n_out, int64_t *max_pairs,
                       mg_err *err)
{
    int64_t n = 0, n_dense = 0;
    int n_stim = 0, first_stim = -1;
    *max_pairs = 0;
    for (int a = 0; a < m->P; ++a) {
        const mg_pop *p = &m->pops[a];
        if (has_table_stimulus(p)) {
            n_stim++;
            if (first_stim < 0)
                first_stim = a;
            n_dense += n_steps > 0 ? n_steps : 0;
        } else {
            n += p->n_steps;
        }
        if (p->n_steps > *max_pairs)
            *max_pairs = p->n_steps;
    }
    if (n_stim > 0) {
        const mg_pop *p = &m->pops[first_stim];
        const char *key = p->has_ac ? "ac_current" : p->n_series > 0 ? "time_current"
                                                                       : "ou_current";
        if (n_steps < 0)
            return mg_err_set(err, MG_EINVAL, "/populations/%d/%s: time-dependent stimuli are "
                              "not supported by this analysis (allowed: I_e, and step_current "
                              "where the analysis accepts it)", first_stim, key);
        const double bytes = (double)n_dense * 16.0;
        if (bytes > (double)MG_STIM_TABLE_MAX_BYTES)
            return mg_err_set(err, MG_EINVAL, "/populations/%d/%s: the time-dependent stimuli "
                              "of %d population(s) need a per-step input table of %lld steps "
                              "each (--t-sim / --dt), %.3g GiB, more than the limit of %.3g GiB "
                              "(allowed: at most %lld steps per population here: a shorter "
                              "--t-sim or a larger --dt)", first_stim, key, n_stim,
                              (long long)n_steps, bytes / 1073741824.0,
                              (double)MG_STIM_TABLE_MAX_BYTES / 1073741824.0,
                              (long long)(MG_STIM_TABLE_MAX_BYTES / 16 / n_stim));
    }
    n += n_dense;
    *n_out = n;
    if (n > 0x7fffffffLL) /* table indices are int; the limit above keeps dense tables below */
        return mg_err_set(err, MG_EINVAL, "/populations: %lld step current entries (allowed: "
                          "fewer than 2^31)", (long long)n);
    return MG_OK;
}

/* What filling the tables needs besides the population: the run, and scratch for the
 * step-current pairs of one population (as many as the largest count). */
typedef struct {
    double dt_ms;
    int64_t n_steps;
    uint32_t seed;
    int64_t *ps; /* first step of each step current */
    double *pa;  /* its amplitude (pA) */
} table_fill;

/* The entries of population p (index a) from out->step[at], out->mV[at] on: its step currents,
 * or with a table stimulus one entry per step 0 .. n_steps - 1. Returns their number. */
static int fill_pop(const table_fill *tf, const mg_pop *p, int a, mg_inp_tables *out, int at)
{
    const double dt_ms = tf->dt_ms;
    /* R = tau_m / C_m (GOhm): pA -> mV, as for the constant I_e */
    const double R = p->tau_m / p->C_m;
    const int np = step_pairs(p, dt_ms, tf->ps, tf->pa);
    if (!has_table_stimulus(p)) {
        for (int i = 0; i < np; ++i) {
            out->step[at] = tf->ps[i];
            out->mV[at] = tf->pa[i] * R;
            ++at;
        }
        return np;
    }
    /* dense: one entry per step 0 .. n_steps - 1 */
    const int frozen = p->has_ou && !p->ou_independent;
    const double aou = frozen ? exp(-dt_ms / p->ou_tau) : 0.0;
    const double sou = frozen ? p->ou_std * sqrt(1.0 - aou * aou) : 0.0;
    const int64_t ou0 = frozen ? step_of(p->ou_start, dt_ms) : 0;
    double x = 0.0;
    for (int64_t t = 0; t < tf->n_steps; ++t) {
        if (frozen && t >= ou0) /* stationary start, then the exact AR(1) update */
            x = t == ou0 ? p->ou_std * mg_stim_normal(tf->seed, a, t)
                         : aou * x + sou * mg_stim_normal(tf->seed, a, t);
        const double I_step = mg_input_at(tf->ps, tf->pa, 0, np, t);
        out->step[at] = t;
        out->mV[at] = (I_step + mg_stim_pA(p, dt_ms, t, x)) * R;
        ++at;
    }
    return (int)tf->n_steps;
}

int mg_inp_tables_build(const mg_model *m, double dt_ms, int64_t n_steps, uint32_t seed,
                        mg_inp_tables *out, mg_err *err)
{
    const int P = m->P;
    memset(out, 0, sizeof *out);
    int64_t n = 0, max_pairs = 0;
    int rc = tables_size(m, n_steps, &n, &max_pairs, err);
    if (rc != MG_OK)
        return rc;
    out->first = calloc((size_t)(P > 0 ? P : 1), sizeof(int));
    out->count = calloc((size_t)(P > 0 ? P : 1), sizeof(int));
    out->step = malloc((size_t)(n > 0 ? n : 1) * sizeof(int64_t));
    out->mV = malloc((size_t)(n > 0 ? n : 1) * sizeof(double));
    int64_t *ps = malloc((size_t)(max_pairs > 0 ? max_pairs : 1) * sizeof(int64_t));
    double *pa = malloc((size_t)(max_pairs > 0 ? max_pairs : 1) * sizeof(double));
    if (!out->first || !out->count || !out->step || !out->mV || !ps || !pa) {
        free(ps);
        free(pa);
        mg_inp_tables_free(out);
        return mg_err_set(err, MG_ENOMEM, "out of memory for the input tables (%lld entries)",
                          (long long)n);
    }
    const table_fill tf = {dt_ms, n_steps, seed, ps, pa};
    int at = 0;
    for (int a = 0; a < P; ++a) {
        out->first[a] = at;
        out->count[a] = fill_pop(&tf, &m->pops[a], a, out, at);
        at += out->count[a];
    }
    free(ps);
    free(pa);
    out->n = at;
    return MG_OK;
}

void mg_stim_ou_of(const mg_pop *p, double dt_ms, mg_stim_ou *o)
{
    memset(o, 0, sizeof *o); /* t_on = t_off = 0: never active */
    if (!(p->has_ou && p->ou_independent))
        return;
    mg_stim_ou_init(o, p->ou_mean, p->ou_std, p->ou_tau, p->tau_m / p->C_m, dt_ms,
                    step_of(p->ou_start, dt_ms), step_of(p->ou_stop, dt_ms));
}
