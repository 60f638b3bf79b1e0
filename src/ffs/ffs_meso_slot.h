/* src/ffs/ffs_meso_slot.h: a slot of the meso level's trials call (src/ffs/ffs_slots.h), MG_HD:
 * the loop the CUDA engine's threads run (kernels/ffs/ffs_meso_cuda.cu). A trial is stepped
 * with mg_meso_step1 of src/core/meso.h (the tile path: the slots' rows are [row][slot],
 * ld = slots, so that a warp's loads are coalesced; the host's pass form equals it bit for
 * bit), from its own start step with its own realization index, and observed with the
 * functions of src/ffs/ffs_internal.h: the loop is trial_run of src/ffs/ffs_meso_cpu.c, so a
 * trial ends at the same bin with the same bits on any slot, in any order, across any
 * launches. */
#ifndef MESOGIF_FFS_MESO_SLOT_H
#define MESOGIF_FFS_MESO_SLOT_H

#include "core/meso.h"
#include "ffs/ffs_slots.h"

/* Slot s of L takes the next trial: its start state into the slot's rows st, its outputs
 * reset, its start step to *t. Its index, or MG_FFS_SLOT_DRAINED. */
static inline MG_HD long long mg_ffs_meso_slot_take(const mg_ffs_slot_list *L, mg_lanes st,
                                                    long long *t)
{
    const long long q = (long long)mg_ffs_slot_count(L->next);
    if (q >= L->n)
        return MG_FFS_SLOT_DRAINED;
    const double *x = L->start + q * L->rows;
    for (long long r = 0; r < L->rows; ++r)
        MG_AT(st, r, 0) = x[r];
    mg_ffs_trial_begin(&L->tr[q]);
    *t = L->tr[q].t0;
    return q;
}

/* Trial q of the slot's rows st has ended: its state to the end buffer when `keep`. */
static inline MG_HD long long mg_ffs_meso_slot_end(const mg_ffs_slot_list *L, mg_lanes st,
                                                   long long q, int keep)
{
    if (keep) {
        double *x = L->end + q * L->rows;
        for (long long r = 0; r < L->rows; ++r)
            x[r] = MG_AT(st, r, 0);
    }
    mg_ffs_slot_count(L->done);
    return MG_FFS_SLOT_IDLE;
}

/* Slot s: its trial and step from the last launch, then at most `steps` steps, taking trials
 * from the list as its trials end. A non-finite expected count is recorded as the call's fault
 * (the CPU engine's check_finite) and ends the trial; the host stops after the launch. */
static inline MG_HD void mg_ffs_meso_slot_run(const mg_meso_model *mm, const mg_ffs_lane_cfg *lc,
                                              const mg_ffs_slot_list *L, long long s,
                                              long long steps)
{
    mg_lanes st;
    st.base = L->state + s;
    st.ld = L->slots;
    long long q = L->slot_q[s], t = L->slot_t[s];
    double n[MG_POP_MAX], nbar[MG_POP_MAX];
    for (long long k = 0; k < steps && q != MG_FFS_SLOT_DRAINED;) {
        if (q == MG_FFS_SLOT_IDLE) {
            q = mg_ffs_meso_slot_take(L, st, &t);
            continue;
        }
        mg_ffs_trial *tr = &L->tr[q];
        if (t - tr->t0 >= L->cap) {
            tr->end_t = t; /* outcome -1 */
            q = mg_ffs_meso_slot_end(L, st, q, 0);
            continue;
        }
        mg_meso_step1(mm, st, t, tr->real, n, nbar, NULL);
        int bad = 0;
        for (int a = 0; a < mm->P; ++a)
            if (!bad && !isfinite(nbar[a])) { /* the first population, as check_finite */
                mg_ffs_slot_fault_note(L, q, t - tr->t0, a, -1, isnan(nbar[a]) ? 1 : 0);
                bad = 1;
            }
        mg_ffs_obs_add(lc, st, n);
        ++t;
        ++k;
        if (bad)
            q = mg_ffs_meso_slot_end(L, st, q, 0);
        else if (t % lc->st_L == 0 &&
                 mg_ffs_trial_bin(lc, tr, st, t / lc->st_L - 1, t, L->d, L->lam_A, L->lam_next))
            q = mg_ffs_meso_slot_end(L, st, q, tr->outcome == 1 && tr->end_state != NULL);
    }
    L->slot_q[s] = q;
    L->slot_t[s] = t;
}

#endif /* MESOGIF_FFS_MESO_SLOT_H */
