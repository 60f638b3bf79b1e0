/* bench/bench_meso_step.c: the meso step alone (src/core/meso.h), one realization, one thread:
 * realization-seconds per wall-second of mg_meso_step1 for a model file, without the observer,
 * the driver or I/O. A workbench for the step's arithmetic (make bench-step); the figures that
 * count are those of `make bench` (bench/run_bench.sh), which runs the whole program.
 *   usage: bench_meso_step [MODEL.json] [seconds of model time] [dt_ms] [tiles|count]
 * With "tiles" it runs the tile-by-tile form (the device's) instead of the host's pass form;
 * with "count" it also reports the share of active cohort-steps whose q = (lambda_old +
 * lambda) dt/2 exceeds 0.01, i.e. that need the second exp (1 - e^-q) of step 5. */
#include "engine/meso_derive.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double wall(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int main(int argc, char **argv)
{
    mg_model m;
    mg_err err = {0};
    int rc = argc > 1 && argv[1][0] ? mg_model_load(argv[1], &m, &err) : mg_model_default(&m, &err);
    if (rc != MG_OK) {
        fprintf(stderr, "bench_meso_step: %s\n", err.msg);
        return 2;
    }
    const double T_s = argc > 2 ? atof(argv[2]) : 10.0;
    const double dt_ms = argc > 3 ? atof(argv[3]) : 0.5;
    mg_meso_derived d;
    if (mg_meso_derive(&m, dt_ms, 0, 1, &d, &err) != MG_OK) {
        fprintf(stderr, "bench_meso_step: %s\n", err.msg);
        return 2;
    }
    const int tiles = argc > 4 && strcmp(argv[4], "tiles") == 0;
    const int count = argc > 4 && strcmp(argv[4], "count") == 0;
    int64_t n_cohort_steps = 0, n_second_exp = 0;
    double *lam_old = NULL;
    if (count) {
        int64_t kmax = 1;
        for (int a = 0; a < d.mm.P; ++a)
            kmax = d.mm.pop[a].K > kmax ? d.mm.pop[a].K : kmax;
        lam_old = malloc((size_t)(kmax * d.mm.P) * sizeof(double));
    }
    double *scratch = aligned_alloc(64, (size_t)mg_meso_scratch_doubles(&d.mm) * sizeof(double));
    double *state = aligned_alloc(64, ((size_t)d.mm.rows * sizeof(double) + 63) / 64 * 64);
    mg_lanes st = {state, 1};
    mg_meso_init1(&d.mm, st);
    const int64_t steps = (int64_t)(T_s * 1000.0 / dt_ms);
    double n[MG_POP_MAX], nbar[MG_POP_MAX], sum = 0.0;
    double t0 = wall();
    for (int64_t t = 0; t < steps; ++t) {
        int64_t off = 0;
        if (count) { /* each population's hazards before the step */
            off = 0;
            for (int a = 0; a < d.mm.P; ++a) {
                memcpy(lam_old + off, state + d.mm.pop[a].row_lam,
                       (size_t)d.mm.pop[a].K * sizeof(double));
                off += d.mm.pop[a].K;
            }
        }
        mg_meso_step1(&d.mm, st, t, 0, n, nbar, tiles ? NULL : scratch);
        sum += n[0];
        if (count) { /* ages 1 .. K-R-1 (age 0's slot now holds the new cohort) */
            off = 0;
            for (int a = 0; a < d.mm.P; ++a) {
                const mg_meso_pop *pp = &d.mm.pop[a];
                for (int l = 1; l < pp->K - pp->R; ++l) {
                    int s = (int)((t + l) % pp->K);
                    double q = (lam_old[off + s] + state[pp->row_lam + s]) * pp->half_dt;
                    n_second_exp += !(q <= 0.01);
                    n_cohort_steps += 1;
                }
                off += pp->K;
            }
        }
    }
    double el = wall() - t0;
    printf("%.1f realization-s per wall-s (%lld steps in %.3f s; mean count %.4f)\n", T_s / el,
           (long long)steps, el, sum / (double)steps);
    if (count)
        printf("second exp needed in %.3f of %lld active cohort-steps\n",
               (double)n_second_exp / (double)n_cohort_steps, (long long)n_cohort_steps);
    free(lam_old);
    free(state);
    free(scratch);
    mg_meso_derived_free(&d);
    mg_model_free(&m);
    return 0;
}
