/* src/core/lanes.h: how the state of realizations is addressed, for host and device.
 *
 * The state of a realization is a column of `rows` doubles. A block of realizations side by
 * side is a row-major matrix state[row][lane] with leading dimension ld: lane j of row k is
 * base[k * ld + j]. ld = 1 gives one realization with its rows contiguous (the host's meso step,
 * the CUDA warp layout); ld = batch size gives the CUDA thread layout (coalesced across a warp);
 * ld = MG_VL gives the host's SIMD lane blocks (observer, micro). Internal header. */
#ifndef MESOGIF_CORE_LANES_H
#define MESOGIF_CORE_LANES_H

#include "core/hd.h"

typedef struct {
    double *base;
    int64_t ld;
} mg_lanes;

#define MG_AT(st, row, j) ((st).base[(int64_t)(row) * (st).ld + (j)])

/* Lane j of a block as a one-realization view (its rows strided by the block's ld). */
static inline MG_HD mg_lanes mg_lane(mg_lanes st, int j)
{
    mg_lanes one;
    one.base = st.base + j;
    one.ld = st.ld;
    return one;
}

#endif /* MESOGIF_CORE_LANES_H */
