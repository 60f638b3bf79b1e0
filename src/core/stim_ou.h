/* src/core/stim_ou.h: an Ornstein-Uhlenbeck input current independent per realization (issue
 * 17.2), for host and device. Internal.
 *
 * The frozen OU current (src/model/stimulus.c) is one sample path per population, shared by every
 * realization and baked into the input tables. This one is a different path in every
 * realization: its deviation x from the mean is part of the realization's state (one double per
 * population, so it parks, checkpoints and resumes with the rest), and it is advanced exactly,
 * x(t) = a x(t - 1) + sd sqrt(1 - a^2) xi(t), a = exp(-dt / tau), from a stationary start
 * x(t_on) = sd xi(t_on). xi(t) is a standard normal drawn from the realization's counter-based
 * stream (key (seed, MG_STREAM_STIM_OU_IND), counter (realization, population, step, 0)), so a
 * path depends only on (seed, realization, population) and never on batch, thread, backend or
 * shard, and a run resumed at any step continues it bitwise.
 *
 * Wiring: population a's current is mg_meso_pop.ou / mg_micro_pop.ou with its state row row_ou
 * (-1 when the population has none: the layouts of other models do not change), filled by
 * mg_stim_ou_of (src/model/stimulus.c) in src/engine/meso_derive.c and micro_derive.c; the step
 * adds it to the input tables' value in mg_meso_input1 (src/core/meso.h) and
 * mg_micro_update_pre (src/core/micro.h). Tests: tests/test_stim_ou.c (the process),
 * tests/test_stim_ou_run.c and tests/test_stim_ou.sh (inside the runs). */
#ifndef MESOGIF_CORE_STIM_OU_H
#define MESOGIF_CORE_STIM_OU_H

#include <math.h>

#include "core/fmath.h" /* mg_log */
#include "core/hd.h"
#include "core/rng.h"

/* One population's independent OU current, in mV (pA times R = tau_m / C_m, as the tables). */
typedef struct {
    double mean_mV;      /* mean */
    double sd_mV;        /* stationary standard deviation */
    double decay;        /* exp(-dt / tau) */
    double kick;         /* sd_mV sqrt(1 - decay^2) */
    int64_t t_on, t_off; /* active in the steps t_on <= t < t_off (ceil(start / dt), ...) */
} mg_stim_ou;

/* Fill o from the stimulus parameters (pA, ms) for time step dt_ms and R = tau_m / C_m. */
static inline void mg_stim_ou_init(mg_stim_ou *o, double mean_pA, double sd_pA, double tau_ms,
                                   double R, double dt_ms, int64_t t_on, int64_t t_off)
{
    o->mean_mV = mean_pA * R;
    o->sd_mV = sd_pA * R;
    o->decay = exp(-dt_ms / tau_ms);
    o->kick = o->sd_mV * sqrt(1.0 - o->decay * o->decay);
    o->t_on = t_on;
    o->t_off = t_off;
}

/* The standard normal xi(t) of population a in realization r: Marsaglia's polar method
 * (G. Marsaglia and T. A. Bray, SIAM Review 6 (1964) 260-264) on successive Philox blocks
 * (fourth counter word = attempt), accepting a point of the unit disc with probability pi/4.
 * Only +, -, *, /, sqrt and the project's own log (src/core/fmath.h): libm's log and cos may
 * differ from CUDA's in the last bit, and the input of every realization must be the same bits
 * on both sides. Pure. */
static inline MG_HD double mg_stim_ou_normal(uint32_t seed, uint32_t realization, int a, int64_t t)
{
    for (uint32_t attempt = 0;; ++attempt) {
        philox4x32_ctr_t w = mg_philox_block(seed, MG_STREAM_STIM_OU_IND, realization,
                                             (uint32_t)a, (uint32_t)t, attempt);
        const double u = 2.0 * mg_u01_from(w.v[0], w.v[1]) - 1.0;
        const double v = 2.0 * mg_u01_from(w.v[2], w.v[3]) - 1.0;
        const double s = u * u + v * v;
        if (s > 0.0 && s < 1.0)
            return u * sqrt(-2.0 * mg_log(s) / s);
    }
}

/* The OU input (mV) of step t, advancing the deviation *x (the state row) to step t: 0 and *x
 * untouched outside [t_on, t_off); *x is only read after t_on, so its initial value does not
 * matter. Call once per step, in step order. */
static inline MG_HD double mg_stim_ou_step(const mg_stim_ou *o, uint32_t seed, uint32_t realization,
                                           int a, int64_t t, double *x)
{
    if (t < o->t_on || t >= o->t_off)
        return 0.0;
    const double xi = mg_stim_ou_normal(seed, realization, a, t);
    *x = t == o->t_on ? o->sd_mV * xi : o->decay * *x + o->kick * xi;
    return o->mean_mV + *x;
}

#endif /* MESOGIF_CORE_STIM_OU_H */
