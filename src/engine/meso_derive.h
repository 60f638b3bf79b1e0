/* src/engine/meso_derive.h: from a model (NEST units) and a time step to the per-step constants of the
 * mesoscopic equations (MODEL.md §2.2) in the form src/core/meso.h runs on. Internal. */
#ifndef MESOGIF_MESO_DERIVE_H
#define MESOGIF_MESO_DERIVE_H

#include "mesogif/model.h"
#include "mesogif/run.h"
#include "core/meso.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    mg_meso_model mm;      /* points into the arrays below */
    mg_meso_pop *pop;      /* [P] */
    double *kernels;       /* theta, theta_tilde per population */
    int64_t n_kernels;
    double *pair_w, *pair_Es, *pair_F; /* [P][P] */
    int *pair_D;           /* [P][P] */
    int *inp_first, *inp_count;        /* [P] */
    int64_t *inp_step;     /* [n_inp] */
    double *inp_mV;        /* [n_inp] */
    int n_inp;
} mg_meso_derived;

/* Longest history of a population in steps (len_kernel or automatic), and the most state rows
 * of one realization (dynamics and observer; row indices are int). */
#define MG_MESO_K_MAX 100000000
#define MG_ROWS_MAX 2000000000LL

/* History length K of population p at step dt_ms (MODEL.md §2.2, or len_kernel when >= 1),
 * and the refractory steps R. Returns MG_EINVAL when len_kernel <= R (path in err). */
int mg_meso_history_length(const mg_pop *p, int index, double dt_ms, int *K, int *R, mg_err *err);

/* The sizes mg_meso_derive would lay out for model m at dt_ms, without allocating anything:
 * state rows of the dynamics of one realization and kernel values shared by all. Checks every
 * limit first (delays >= dt and < 1e8 steps, K <= 1e8 steps, rows <= MG_ROWS_MAX): MG_EINVAL
 * with the numbers otherwise. */
int mg_meso_size(const mg_model *m, double dt_ms, int64_t *rows, int64_t *n_kernels,
                 mg_err *err);

/* Derive everything for model m at dt_ms; the state rows of the dynamics start at row 0 and
 * occupy out->mm.rows rows. Checks delays >= dt ("/projections/i/delay"). On error returns
 * MG_EINVAL/MG_ENOMEM with the message in err and *out zeroed. */
int mg_meso_derive(const mg_model *m, double dt_ms, int noise, uint32_t seed,
                   mg_meso_derived *out, mg_err *err);

/* The same for a run of n_steps steps: the time-dependent stimuli (src/model/stimulus.h) are
 * tabulated per step; mg_meso_derive (n_steps unknown) refuses them. */
int mg_meso_derive_run(const mg_model *m, double dt_ms, int noise, uint32_t seed,
                       int64_t n_steps, mg_meso_derived *out, mg_err *err);

/* Append the entry "<pop>/<name>" = v to *list[*n] (realloc'ed), name formatted from fmt; no
 * "<pop>/" when pop is NULL. Returns MG_OK, or MG_ENOMEM with *list and *n unchanged. Used by
 * mg_meso_resolved and mg_micro_resolved. */
int mg_resolved_push(mg_resolved **list, int *n, const char *pop, double v, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* The entries both levels list first for population a: R, H (steps), mu_mV and E_m. */
int mg_resolved_push_pop(mg_resolved **list, int *n, const mg_model *m, int a, double R, double H,
                         double E_m);

/* Append "<pop>/<name>" = value entries describing the derived model to *list (realloc'ed). */
int mg_meso_resolved(const mg_model *m, const mg_meso_derived *d, mg_resolved **list, int *n,
                     mg_err *err);

void mg_meso_derived_free(mg_meso_derived *d);

#ifdef __cplusplus
}
#endif

#endif /* MESOGIF_MESO_DERIVE_H */
