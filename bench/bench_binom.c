/* bench/bench_binom.c: host time per spike-count draw of src/core/binom.h (not a test).
 *
 * Times mg_binom at N = 500 for N p = 0.5, 5, 20, 100 (the first two by inversion, the others by
 * BTRS), each draw with a fresh generator (mg_rng_init per draw, as the meso step does per
 * population and step), so the numbers include the Philox blocks a draw consumes. For scale it
 * also times the generator alone (init + one uniform), the branch functions directly, and the
 * Poisson mode at the same means. Each figure is the median of 5 repeats of 2e6 draws, single
 * thread. Tests: tests/test_binom.c.
 *
 * Build and run (the lead wires it into `make bench`):
 *   gcc -std=c11 -D_GNU_SOURCE -O3 -march=native -ffp-contract=off -Isrc \
 *       bench/bench_binom.c -lm -o build/bench_binom && build/bench_binom
 */
#include "core/binom.h" /* mg_binom, mg_binom_inv, mg_binom_btrs, mg_poisson_count */
#include "core/rng.h"   /* mg_rng_init, mg_rng_u01 */

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define N_POP 500
#define DRAWS 2000000L
#define REPEATS 5

enum { F_RNG, F_BINOM, F_INV, F_BTRS, F_POIS };

static volatile int64_t sink; /* keeps the draws from being optimized away */

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* ns per draw of function f at probability p (mean N_POP * p for the Poisson mode) */
static double time_once(int f, double p, uint32_t rep)
{
    int64_t acc = 0;
    double t0 = now_s();
    for (long i = 0; i < DRAWS; i++) {
        mg_rng g;
        mg_rng_init(&g, 1234u + rep, MG_STREAM_MESO_COUNT, 0, 0, (uint32_t)i);
        switch (f) {
        case F_RNG:
            acc += (int64_t)(mg_rng_u01(&g) * 2.0);
            break;
        case F_BINOM:
            acc += mg_binom(&g, N_POP, p);
            break;
        case F_INV:
            acc += mg_binom_inv(&g, N_POP, p);
            break;
        case F_BTRS:
            acc += mg_binom_btrs(&g, N_POP, p);
            break;
        default:
            acc += mg_poisson_count(&g, N_POP * p, N_POP);
            break;
        }
    }
    double t1 = now_s();
    sink += acc;
    return (t1 - t0) * 1e9 / (double)DRAWS;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median_ns(int f, double p)
{
    double t[REPEATS];
    (void)time_once(f, p, 99); /* warm-up */
    for (int r = 0; r < REPEATS; r++)
        t[r] = time_once(f, p, (uint32_t)r);
    qsort(t, REPEATS, sizeof t[0], cmp_double);
    return t[REPEATS / 2];
}

int main(void)
{
    const double np[] = {0.5, 5.0, 20.0, 100.0};
    printf("bench_binom: ns per draw, N = %d, fresh generator per draw, median of %d x %ld draws\n",
           N_POP, REPEATS, DRAWS);
    printf("generator alone (init + 1 uniform): %.1f ns\n", median_ns(F_RNG, 0.0));
    printf("%8s %10s %12s %14s %14s %16s\n", "N*p", "p", "mg_binom", "mg_binom_inv", "mg_binom_btrs",
           "mg_poisson_count");
    for (int i = 0; i < 4; i++) {
        double p = np[i] / N_POP;
        double t_binom = median_ns(F_BINOM, p);
        double t_inv = median_ns(F_INV, p);
        /* BTRS is valid only for N p >= 10 */
        double t_btrs = np[i] >= MG_BINOM_INV_CUTOFF ? median_ns(F_BTRS, p) : -1.0;
        double t_pois = median_ns(F_POIS, p);
        printf("%8.1f %10.4g %12.1f %14.1f ", np[i], p, t_binom, t_inv);
        if (t_btrs >= 0.0)
            printf("%14.1f", t_btrs);
        else
            printf("%14s", "-");
        printf(" %16.1f\n", t_pois);
    }
    return sink == 42 ? 1 : 0;
}
