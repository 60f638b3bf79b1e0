/* src/ffs/ffs_micro_frame.h: the time frame of a micro trial (docs/SWITCHING.md, "The micro
 * level"), written once for the CPU engine (src/ffs/ffs_micro_cpu.c: lane j of a lane block, one
 * thread) and the CUDA engine (kernels/ffs/ffs_micro_cuda.cu: the threads of a block, lane 0).
 *
 * A stored state x is a realization's rows in absolute time, its spike lists in the park rows.
 * A trial runs in its own frame, step t counted from its start t0: loading moves the refractory
 * rows (absolute steps) by -shift and the spike-count history and the spike lists (slot t mod H)
 * from slot hx to (hx - shift) mod H; saving is the inverse, with unused park entries zero, so
 * that a stored state depends on the realization alone. The work is split into phases that a
 * CUDA block separates by barriers (a later phase overwrites rows the earlier one copied); in
 * a phase, thread tid of T takes the items tid, tid + T, ... (the host: tid 0 of 1).
 * tests/test_ffs_cuda.c runs the phases with 128 threads in a scrambled order on the host
 * against one thread. */
#ifndef MESOGIF_FFS_MICRO_FRAME_H
#define MESOGIF_FFS_MICRO_FRAME_H

#include "core/hd.h"
#include "core/lanes.h"
#include "core/micro.h" /* mg_micro_model, mg_micro_buf, mg_micro_spikes */

#define MG_FFS_LOAD_PHASES 2
#define MG_FFS_SAVE_PHASES 3

static inline MG_HD int64_t mg_ffs_mod(int64_t x, int64_t H)
{
    return ((x % H) + H) % H;
}

/* Phase `phase` of: lane j of st and its spike lists <- the stored state x (rows doubles, at
 * step t_x), running at step t_x - shift. */
static inline MG_HD void mg_ffs_micro_load(const mg_micro_model *mm, int64_t rows, mg_lanes st,
                                           const mg_micro_buf *buf, int j, const double *x,
                                           int64_t shift, int phase, int tid, int T)
{
    if (phase == 0) {
        for (int64_t k = tid; k < rows; k += T)
            MG_AT(st, k, j) = x[k];
        return;
    }
    for (int a = 0; a < mm->P; ++a) {
        const mg_micro_pop *pp = &mm->pop[a];
        for (int64_t i = tid; i < pp->N; i += T)
            MG_AT(st, pp->row_ref + i, j) = x[pp->row_ref + i] - (double)shift;
        for (int hx = 0; hx < pp->H; ++hx) {
            const int h = (int)mg_ffs_mod(hx - shift, pp->H);
            const double cnt = x[pp->row_hist + hx];
            if (tid == 0)
                MG_AT(st, pp->row_hist + h, j) = cnt;
            uint32_t *l = mg_micro_spikes(buf, pp, h, j);
            for (int64_t q = tid; q < (int64_t)cnt; q += T)
                l[q] = (uint32_t)x[pp->row_park + (int64_t)hx * pp->N + q];
        }
    }
}

/* Phase `phase` of: the stored state x (at step t + shift) <- lane j of st and its spike lists
 * at step t (the inverse of mg_ffs_micro_load). */
static inline MG_HD void mg_ffs_micro_save(const mg_micro_model *mm, int64_t rows, mg_lanes st,
                                           const mg_micro_buf *buf, int j, double *x,
                                           int64_t shift, int phase, int tid, int T)
{
    if (phase == 0) {
        for (int64_t k = tid; k < rows; k += T)
            x[k] = MG_AT(st, k, j);
        return;
    }
    for (int a = 0; a < mm->P; ++a) {
        const mg_micro_pop *pp = &mm->pop[a];
        if (phase == 1) {
            for (int64_t k = tid; k < (int64_t)pp->H * pp->N; k += T)
                x[pp->row_park + k] = 0.0;
            continue;
        }
        for (int64_t i = tid; i < pp->N; i += T)
            x[pp->row_ref + i] = MG_AT(st, pp->row_ref + i, j) + (double)shift;
        for (int h = 0; h < pp->H; ++h) {
            const int64_t hx = mg_ffs_mod(h + shift, pp->H);
            const double cnt = MG_AT(st, pp->row_hist + h, j);
            if (tid == 0)
                x[pp->row_hist + hx] = cnt;
            const uint32_t *l = mg_micro_spikes(buf, pp, h, j);
            for (int64_t q = tid; q < (int64_t)cnt; q += T)
                x[pp->row_park + hx * pp->N + q] = (double)l[q];
        }
    }
}

#endif /* MESOGIF_FFS_MICRO_FRAME_H */
