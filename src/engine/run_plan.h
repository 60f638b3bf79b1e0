/* src/engine/run_plan.h: what `mesogif run --dry-run` reports (issue 17.4): the memory of the run by
 * part and its run time estimated from a short calibration run. Internal. */
#ifndef MESOGIF_RUN_PLAN_H
#define MESOGIF_RUN_PLAN_H

#include <stdio.h>

#include "engine/job.h"

typedef struct {
    mg_run_mem mem;              /* by part, as mg_run allocates it (src/engine/run.c) */
    double spikes;               /* bytes of recorded spikes (micro; from the calibrated rates) */
    int calibrated;              /* 1: the fields below hold */
    int64_t cal_realizations;    /* realizations of the calibration run */
    double cal_t_ms;             /* its simulated time (the longest of its attempts) */
    double cal_wall_s;           /* wall time of all its attempts */
    double est_wall_s;           /* the run's estimated wall time (backend only) */
    const char *backend;         /* where the calibration ran */
    char note[256];              /* why there is no estimate ("" when calibrated) */
} mg_run_plan;

/* Memory by part (mg_run_memory) and, when calibrate is set and the run fits, a calibration:
 * realizations [first, first + min(R, 2 threads MG_VL)) (min(R, 65536) on a CUDA device) run
 * for growing simulated times (x4 from max(stats-bin, 20 dt)) until one takes 0.1 s of wall time
 * or reaches t-sim; the run's time is extrapolated linearly in steps from the last two
 * attempts (so a per-realization setup cost, such as drawing a micro network, is not scaled by
 * the steps) and in realizations. Returns mg_run_memory's status; a calibration that fails
 * leaves calibrated = 0 with the reason in note. */
int mg_run_plan_make(const mg_model *m, const mg_run_opts *opts, int calibrate,
                     mg_run_plan *plan, mg_err *err);

/* The plan as lines of text: "memory: ..." (the line --dry-run always printed), "memory by
 * part: ..." and "estimated run time: ...". */
void mg_run_plan_print(const mg_run_plan *plan, FILE *f);

/* For the CLI: make the plan (calibrated when the run fits: rc_fit == MG_OK) and print it. */
void mg_run_plan_report(const mg_model *m, const mg_run_opts *opts, int rc_fit, FILE *f);

#endif /* MESOGIF_RUN_PLAN_H */
