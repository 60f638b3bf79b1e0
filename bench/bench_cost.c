/* bench/bench_cost.c: what one cohort-step of the meso step must at least cost on this core.
 *
 * The meso step's work is, per cohort and step, the hazard lambda = c exp((u - theta)/Delta_V)
 * and, where q = (lambda_old + lambda) dt/2 > 0.01, P = 1 - exp(-q) (MODEL.md §2.4 step 5),
 * plus a dozen multiplies and adds. This program measures, in the best case for the hardware
 * (a long branch-free loop the compiler vectorizes at full width, data in L1), the time per lane
 * of (a) the project's exact exp (src/core/fmath.h, mg_exp_mid) and (b) a table lookup with
 * linear interpolation (the original C code's approach; not used here), so that bench/run_bench.sh
 * can set the floors of issue 12 against what the arithmetic alone needs.
 *   build: cc -O3 -march=native -ffp-contract=off -Isrc -Iinclude bench/bench_cost.c -lm
 *   usage: bench_cost  -> "exp_ns LERP_ns" (nanoseconds per lane, best of 5) */
#include "core/fmath.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define LANES 256   /* one block of ages, as the step's pass form uses */
#define TABLE 4096  /* entries of the lookup table (32 KB each for value and slope) */
#define REPS 200000

static double wall(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Keeps the compiler from dropping or merging the repetitions. */
static void sink(double *y)
{
    __asm__ volatile("" : : "r"(y) : "memory");
}

int main(void)
{
    double *x = aligned_alloc(64, LANES * sizeof(double));
    double *y = aligned_alloc(64, LANES * sizeof(double));
    double *tv = malloc(TABLE * sizeof(double)), *ts = malloc(TABLE * sizeof(double));
    if (!x || !y || !tv || !ts)
        return 1;
    for (int i = 0; i < LANES; ++i) { /* hazard exponents of a typical population */
        x[i] = -6.0 + 9.0 * i / LANES;
        y[i] = 0.0;
    }
    const double x0 = -10.0, inv_h = TABLE / 20.0;
    for (int i = 0; i < TABLE; ++i) {
        tv[i] = exp(x0 + i / inv_h);
        ts[i] = exp(x0 + (i + 1) / inv_h) - tv[i];
    }
    double best_exp = 1e9, best_lerp = 1e9;
    for (int round = 0; round < 5; ++round) {
        double t0 = wall();
        for (int r = 0; r < REPS; ++r) {
#pragma omp simd
            for (int i = 0; i < LANES; ++i)
                y[i] += mg_exp_mid(x[i]);
            sink(y);
        }
        double t1 = wall();
        for (int r = 0; r < REPS; ++r) {
#pragma omp simd
            for (int i = 0; i < LANES; ++i) {
                double f = (x[i] - x0) * inv_h;
                int k = (int)f;
                y[i] += tv[k] + (f - k) * ts[k];
            }
            sink(y);
        }
        double t2 = wall();
        double e = (t1 - t0) / ((double)REPS * LANES) * 1e9;
        double l = (t2 - t1) / ((double)REPS * LANES) * 1e9;
        best_exp = e < best_exp ? e : best_exp;
        best_lerp = l < best_lerp ? l : best_lerp;
    }
    printf("%.3f %.3f\n", best_exp, best_lerp);
    return y[3] == 12345.0; /* never: uses y */
}
