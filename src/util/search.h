/* src/util/search.h: the binary search that the piecewise-constant step currents and the sampled
 * time series share (src/model/model.c, src/model/stimulus.c). Internal. */
#ifndef MESOGIF_UTIL_SEARCH_H
#define MESOGIF_UTIL_SEARCH_H

/* The last index i of the ascending x[0..n) with x[i] <= v; requires n >= 1 and x[0] <= v.
 * O(log n): a current may carry a long sampled waveform. Pure. */
static inline int mg_last_at_or_before(const double *x, int n, double v)
{
    int lo = 0, hi = n - 1; /* invariant: x[lo] <= v */
    while (lo < hi) {
        const int mid = lo + (hi - lo + 1) / 2;
        if (x[mid] <= v)
            lo = mid;
        else
            hi = mid - 1;
    }
    return lo;
}

#endif /* MESOGIF_UTIL_SEARCH_H */
