/* src/model/stimulus.h: the external input of the populations of a run, as the input tables that
 * src/core/input.h reads (step currents, sinusoids, frozen Ornstein-Uhlenbeck currents and
 * sampled time series; docs/MODEL_FILE.md "Stimuli"). Internal.
 *
 * The host evaluates every stimulus once per run; the meso and micro updates on CPU and GPU
 * only read the resulting numbers, so both backends see the same bits (no sin() on the
 * device). A population with only step currents keeps its short (first step, value) table; one
 * with a time-dependent stimulus gets a dense table, one entry per step of the run. */
#ifndef MESOGIF_STIMULUS_H
#define MESOGIF_STIMULUS_H

#include <jansson.h>
#include <stdint.h>
#include "mesogif/model.h"
#include "core/stim_ou.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Largest size of all dense per-step tables of a run together (8-byte step + 8-byte value per
 * entry); a run beyond it is refused naming --t-sim and --dt. */
#define MG_STIM_TABLE_MAX_BYTES (1LL << 30)

/* The input tables in the format of mg_meso_model / mg_micro_model (inp_*), owned. */
typedef struct {
    int *first, *count;    /* [P] */
    int64_t *step;         /* [n], strictly ascending within a population */
    double *mV;            /* [n], I_ext * tau_m / C_m */
    int n;
} mg_inp_tables;

/* Build the tables of model m for a run of n_steps steps of dt_ms with the given seed (the
 * frozen OU currents depend on it, and on nothing else of the run). n_steps < 0 means "the run
 * length is not known": then a model with a time-dependent stimulus is refused (MG_EINVAL naming
 * its JSON path). MG_EINVAL when the dense tables would exceed MG_STIM_TABLE_MAX_BYTES. */
int mg_inp_tables_build(const mg_model *m, double dt_ms, int64_t n_steps, uint32_t seed,
                        mg_inp_tables *out, mg_err *err);
void mg_inp_tables_free(mg_inp_tables *t);

/* Point the input-table fields of a derived model (mg_meso_model, mg_micro_model: inp_first,
 * inp_count, inp_step, inp_mV) at the tables t. */
#define MG_INP_TABLES_VIEW(mm, t)                                                              \
    do {                                                                                       \
        (mm)->inp_first = (t)->first;                                                          \
        (mm)->inp_count = (t)->count;                                                          \
        (mm)->inp_step = (t)->step;                                                            \
        (mm)->inp_mV = (t)->mV;                                                                \
    } while (0)

/* The stimulus current (pA) of population p (index a) in step t, without the step currents:
 * sinusoid and time series at t * dt_ms; ou is the OU deviation x of that step, used only for a
 * frozen OU current (p->has_ou && !p->ou_independent). Pure. */
double mg_stim_pA(const mg_pop *p, double dt_ms, int64_t t, double ou);

/* 1 when population p has an OU current (frozen or independent) on for the whole run (no
 * start, no stop): the stationary theory includes it (its mean in the drive mu, its
 * fluctuations in the spectrum through the linear response; docs/THEORY.md). Pure. */
int mg_pop_ou_stationary(const mg_pop *p);

/* The independent OU current of population p for time step dt_ms (src/core/stim_ou.h), or one
 * that is never active (t_on = t_off = 0) when p has none. */
void mg_stim_ou_of(const mg_pop *p, double dt_ms, mg_stim_ou *o);

/* The standard normal number of the frozen OU current of population a in step t: Philox key
 * (seed, MG_STREAM_STIM_OU), counter (0, a, t, 0), Box-Muller. Pure. */
double mg_stim_normal(uint32_t seed, int a, int64_t t);

/* Parse the stimulus keys ("ac_current", "ou_current", "time_current") of the population object
 * obj at JSON path `path` into p; source is the model file's name (time series files are found
 * relative to its directory). Errors "<path>: <what> (allowed: ...)" as src/model_parse.c. */
int mg_stim_parse_pop(const json_t *obj, const char *path, const char *source, mg_pop *p,
                      mg_err *err);

/* Read a time series (time ms, current pA) from a CSV file (two columns; a first line that is
 * not numbers is a header; '#' starts a comment) or, with dataset != NULL, from an HDF5 dataset
 * of shape [n][2]. *times and *amps are malloc'ed; the caller checks order and ranges. `where`
 * (a JSON path) prefixes messages. */
int mg_stim_read_series(const char *file, const char *dataset, const char *where,
                        double **times, double **amps, int *n, mg_err *err);

#ifdef __cplusplus
}
#endif

#endif /* MESOGIF_STIMULUS_H */
