/* src/core/input.h: piecewise-constant external input, for host and device. Internal.
 *
 * A population's step currents (NEST step_current_generator, converted to mV) are a table of
 * (first step, value) pairs in ascending step order; the value in step t is that of the last
 * pair whose step is <= t, and 0 before the first. Shared by the meso and micro updates.
 *
 * The steps of one population are strictly ascending (src/model/stimulus.c keeps the later of two
 * values that fall into one step). A time-dependent stimulus gives a dense table, one entry
 * per step of the run: then the last step minus the first is n - 1, and the entry is found by
 * subtraction instead of a binary search (strictly ascending integers with that span are
 * consecutive, so both give the same entry). */
#ifndef MESOGIF_CORE_INPUT_H
#define MESOGIF_CORE_INPUT_H

#include "core/hd.h"

/* Binary search in step[first .. first + n); value[...] in mV. Pure. */
static inline MG_HD double mg_input_at(const int64_t *step, const double *value, int first, int n,
                                       int64_t t)
{
    if (n == 0 || t < step[first])
        return 0.0;
    if (step[first + n - 1] - step[first] == (int64_t)n - 1) {
        const int64_t k = t - step[first];
        return value[first + (k < n - 1 ? (int)k : n - 1)];
    }
    int a = 0, b = n - 1; /* invariant: step[first + a] <= t */
    while (a < b) {
        int mid = (a + b + 1) / 2;
        if (step[first + mid] <= t)
            a = mid;
        else
            b = mid - 1;
    }
    return value[first + a];
}

#endif /* MESOGIF_CORE_INPUT_H */
