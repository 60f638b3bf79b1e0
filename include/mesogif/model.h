/* include/mesogif/model.h: a network of populations of GIF neurons as written in a model file.
 *
 * Parameter names and units follow NEST's gif_pop_psc_exp / gif_psc_exp (ms, mV, pA, pF, Hz),
 * so that a NEST script ports key by key; docs/MODEL_FILE.md lists every key. The model is kept
 * in the user's units here; src/model_derive.c turns it into the per-step quantities of
 * MODEL.md §1.3 and §2.2 for a given dt. */
#ifndef MESOGIF_MODEL_H
#define MESOGIF_MODEL_H

#include <stdint.h>
#include "mesogif/error.h"

#ifdef __cplusplus
extern "C" {
#endif

#define MG_NAME_MAX 64   /* population name, including the terminating NUL */
#define MG_SFA_MAX 8     /* adaptation kernels per population */
#define MG_POP_MAX 64    /* populations per model */

/* Connectivity rule of a projection for the microscopic network (MODEL.md §1.2). */
typedef enum {
    MG_RULE_AUTO = 0,            /* all-to-all for p == 1, else fixed in-degree */
    MG_RULE_ALL_TO_ALL = 1,      /* every source neuron to every target (autapses included) */
    MG_RULE_FIXED_INDEGREE = 2,  /* C = floor(p * N_source) partners, without replacement */
    MG_RULE_PAIRWISE_BERNOULLI = 3
} mg_rule;

/* One population (NEST gif_pop_psc_exp parameters). */
typedef struct {
    char name[MG_NAME_MAX];
    int64_t N;             /* neurons, >= 1 */
    double tau_m;          /* ms, membrane time constant, > 0 */
    double C_m;            /* pF, membrane capacitance, > 0 */
    double E_L;            /* mV, resting potential (default 0) */
    double V_reset;        /* mV, reset potential u_r */
    double V_T_star;       /* mV, baseline threshold u_th */
    double Delta_V;        /* mV, escape-noise softness Delta_u, > 0 */
    double lambda_0;       /* Hz (1/s), escape rate at threshold c, > 0 */
    double t_ref;          /* ms, absolute refractory period, >= 0 */
    double I_e;            /* pA, constant input current (default 0) */
    int n_sfa;             /* adaptation kernels, 0..MG_SFA_MAX */
    double tau_sfa[MG_SFA_MAX]; /* ms, > 0 */
    double q_sfa[MG_SFA_MAX];   /* mV, threshold jump per spike (J_theta = q_sfa * tau_sfa) */
    int64_t len_kernel;    /* history length K in steps; -1 = automatic (MODEL.md §2.2) */
    /* Piecewise-constant extra input current (NEST step_current_generator): from
     * step_times[i] (ms) on, the current step_amps[i] (pA) is added to I_e. Times strictly
     * increasing, >= 0. Before the first time the extra current is 0. */
    int n_steps;
    double *step_times;    /* ms [n_steps], owned by the model */
    double *step_amps;     /* pA [n_steps], owned by the model */
    /* Time-dependent stimuli, each added to I_e (docs/MODEL_FILE.md "Stimuli"; parsed by
     * src/model/stimulus_parse.c). Active from start (inclusive) to stop (exclusive), ms; stop is
     * +inf when not given. ac_current (NEST ac_generator): offset + amplitude *
     * sin(2 pi frequency t + phase), pA, Hz, degrees, t the time since the run's step 0. */
    int has_ac;
    double ac_amplitude, ac_offset, ac_frequency, ac_phase, ac_start, ac_stop;
    /* ou_current: mean + x(t), x a stationary Ornstein-Uhlenbeck process of standard deviation
     * std (pA) and correlation time tau (ms). ou_independent = 0 (default): FROZEN, the same in
     * every realization of a run (drawn from the run seed, in the input tables); 1: a different
     * path in every realization, part of the realization's state (src/core/stim_ou.h). */
    int has_ou;
    int ou_independent;
    double ou_mean, ou_std, ou_tau, ou_start, ou_stop;
    /* time_current: samples (ms, pA) read from the file or the arrays, linearly interpolated,
     * 0 outside [series_times[0], series_times[n_series - 1]]. */
    int n_series;
    double *series_times;  /* ms [n_series], strictly increasing, owned by the model */
    double *series_amps;   /* pA [n_series], owned by the model */
} mg_pop;

/* One projection source -> target (MODEL.md §1.1: J is the PSP area per spike, in mV). */
typedef struct {
    int source;            /* population index */
    int target;            /* population index */
    double J;              /* mV per presynaptic spike (resolved from "J" or "weight") */
    double p;              /* connection probability, 0..1 */
    double delay;          /* ms, >= dt (checked when dt is known) */
    double tau_syn;        /* ms, synaptic time constant, >= 0 (0 = delta synapse) */
    mg_rule rule;          /* micro connectivity */
} mg_proj;

/* Optional simulation defaults carried by a model file ("simulation" object); a negative value
 * means "not given", and the command line's value wins over these. t_sim includes t_warmup. */
typedef struct {
    double dt;             /* ms */
    double t_sim;          /* ms */
    double t_warmup;       /* ms */
    double record_bin;     /* ms */
    double stats_bin;      /* ms */
} mg_sim_defaults;

typedef struct {
    char name[MG_NAME_MAX];   /* "name" key, or the file's base name */
    int P;                    /* number of populations */
    mg_pop *pops;             /* [P] */
    int n_proj;
    mg_proj *proj;            /* [n_proj] */
    mg_sim_defaults sim;
    /* "switch_observable": the observable of the switching analysis the model declares (e.g.
     * "A1-A2" for a bistable pair; "" = none: then the analysis runs only when asked for) */
    char switch_observable[256];
    char *json;               /* the model file verbatim (NUL-terminated), owned */
    char *source;             /* file name it came from ("<embedded B1>" for the default), owned */
} mg_model;

/* Parse and validate a model from JSON text. `source` names the text in messages (a file name).
 * On success fills *m (caller frees it with mg_model_free) and returns MG_OK. On failure returns
 * MG_EINVAL with "<json path>: <what is wrong> (allowed: ...)" in err, or
 * "line L, column C: <parser message>" for malformed JSON; *m is left zeroed (nothing to free).
 * Checks everything that does not depend on the run options (dt, bins): types, unknown keys
 * (with the closest known key suggested), missing keys, ranges, population names. */
int mg_model_parse(const char *json_text, const char *source, mg_model *m, mg_err *err);

/* Read the file at path and parse it as above. MG_EIO if it cannot be read. */
int mg_model_load(const char *path, mg_model *m, mg_err *err);

/* The embedded default model (bistable pair B1 of MODEL.md §3(a)). */
int mg_model_default(mg_model *m, mg_err *err);

/* Release what m owns and zero it. m may be NULL; freeing a zeroed model does nothing. */
void mg_model_free(mg_model *m);

/* Index of the population called name, or -1. */
int mg_model_find_pop(const mg_model *m, const char *name);

/* Convenience: mu = E_L + I_e * tau_m / C_m (mV), the constant drive of MODEL.md §1.1. */
double mg_pop_mu(const mg_pop *p);

/* Extra input (pA) of population p at time t_ms (piecewise constant, right-continuous). */
double mg_pop_step_current(const mg_pop *p, double t_ms);

/* 1 when population p has a stimulus that is not piecewise constant (ac_current, ou_current,
 * time_current): its input is tabulated per step of a run (src/model/stimulus.c). */
int mg_pop_has_stimulus(const mg_pop *p);

/* Apply one override "POP.PARAM=VALUE" or "PROJ[SRC->TGT].PARAM=VALUE" (the mesogif run
 * option --set) to a parsed model: the value (JSON, or else taken as a string) replaces the key
 * in the model's JSON, which is parsed again, so the override is checked exactly as the model
 * file is (same ranges and messages, prefixed with "--set <assignment>: ") and m->json (hence
 * the run key and the stored model) carries it. On error m is unchanged. */
int mg_model_set(mg_model *m, const char *assignment, mg_err *err);

#ifdef __cplusplus
}
#endif

#endif /* MESOGIF_MODEL_H */
