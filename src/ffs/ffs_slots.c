/* src/ffs/ffs_slots.c: the host side of a trials call run by slots (src/ffs/ffs_slots.h): the
 * trials that run and their start states to the slots' memory, launches until every trial has
 * ended (the cancel flag and the fault record checked after each), then the outcomes and the
 * successes' end states back into the driver's trials. The memory and the launches are the
 * backend's (R->mem, R->launch): the device's for the CUDA engines (kernels/ffs/), which
 * tests/test_ffs_cuda.c runs on a device and, compiled against tests/cuda_emu/, on the host. */
#include "ffs/ffs_slots.h"

#include <stdlib.h>
#include <string.h>

/* rc = call; on failure to the caller's out: label. */
#define SLOT_TRY(call)            \
    do {                          \
        rc = (call);              \
        if (rc != MG_OK)          \
            goto out;             \
    } while (0)

/* The non-skipped trials of tr[0 .. n): their indices into idx, copies into run; the count. */
static long long pick_runs(const mg_ffs_trial *tr, int n, int *idx, mg_ffs_trial *run)
{
    long long nrun = 0;
    for (int i = 0; i < n; ++i)
        if (!tr[i].skip) {
            idx[nrun] = i;
            run[nrun++] = tr[i];
        }
    return nrun;
}

/* The list of a call of nrun trials (copies h_tr, start states h_start) on `slots` slots, in the
 * slots' memory; the parameters of the call besides. */
static int list_alloc(const mg_ffs_slot_mem *M, mg_ffs_slot_list *L, const mg_ffs_trial *h_tr,
                      const double *h_start, long long nrun, long long rows, long long slots,
                      mg_err *err)
{
    int rc;
    const size_t states = (size_t)(nrun * rows) * sizeof(double);
    L->n = nrun;
    L->rows = rows;
    L->slots = slots;
    SLOT_TRY(M->alloc((void **)&L->tr, (size_t)nrun * sizeof(mg_ffs_trial), err));
    SLOT_TRY(M->put(L->tr, h_tr, (size_t)nrun * sizeof(mg_ffs_trial), err));
    SLOT_TRY(M->alloc((void **)&L->start, states, err));
    SLOT_TRY(M->put((void *)L->start, h_start, states, err));
    SLOT_TRY(M->alloc((void **)&L->end, states, err));
    /* a slot's rows are written when it takes a trial, before they are read */
    SLOT_TRY(M->alloc((void **)&L->state, (size_t)(slots * rows) * sizeof(double), err));
    SLOT_TRY(M->alloc((void **)&L->slot_q, (size_t)slots * sizeof(long long), err));
    SLOT_TRY(M->fill(L->slot_q, 0xff, (size_t)slots * sizeof(long long), err)); /* all idle */
    SLOT_TRY(M->alloc((void **)&L->slot_t, (size_t)slots * sizeof(long long), err));
    SLOT_TRY(M->fill(L->slot_t, 0, (size_t)slots * sizeof(long long), err));
    SLOT_TRY(M->alloc((void **)&L->next, 2 * sizeof(unsigned long long), err));
    SLOT_TRY(M->fill(L->next, 0, 2 * sizeof(unsigned long long), err));
    L->done = L->next + 1;
    SLOT_TRY(M->alloc((void **)&L->fault_q, sizeof(unsigned long long), err));
    SLOT_TRY(M->fill(L->fault_q, 0xff, sizeof(unsigned long long), err)); /* MG_FFS_NO_FAULT */
    SLOT_TRY(M->alloc((void **)&L->fault_key, (size_t)nrun * sizeof(unsigned long long), err));
    SLOT_TRY(M->fill(L->fault_key, 0xff, (size_t)nrun * sizeof(unsigned long long), err));
out:
    return rc;
}

static void list_free(const mg_ffs_slot_mem *M, mg_ffs_slot_list *L)
{
    M->release(L->tr);
    M->release((void *)L->start);
    M->release(L->end);
    M->release(L->state);
    M->release(L->slot_q);
    M->release(L->slot_t);
    M->release(L->next);
    M->release(L->fault_q);
    M->release(L->fault_key);
    memset(L, 0, sizeof *L);
}

/* The fault noted at list position q (trial h_tr[q]) with key `key` (mg_ffs_slot_fault_note),
 * as the engine's error. */
static int fault_report(const mg_ffs_job *J, const mg_ffs_slot_run *R, const mg_ffs_trial *tr,
                        unsigned long long key, mg_err *err)
{
    const int meso = J->o.level == MG_LEVEL_MESO;
    const long long rel = (long long)(key >> MG_FFS_FAULT_REL_BIT);
    mg_ffs_slot_fault f;
    f.real = tr->real;
    f.pop = (int)((key >> MG_FFS_FAULT_POP_BIT) & 63);
    f.is_nan = (key >> MG_FFS_FAULT_INF_BIT) & 1 ? 0 : 1;
    f.neuron = meso ? -1 : (long long)(key & ((1ULL << MG_FFS_FAULT_INF_BIT) - 1));
    f.step = meso ? tr->t0 + rel : rel;
    return R->fault_msg(J, &f, err);
}

/* Launches of `steps` steps until all nrun trials (copies h_tr) have ended (counted in
 * J->dev_launches): MG_OK, the fault's error, MG_EINTR, or the launch's or the memory's
 * error. */
static int launch_all(mg_ffs_job *J, const mg_ffs_slot_run *R, const mg_ffs_trial *h_tr,
                      long long nrun, long long steps, mg_err *err)
{
    const mg_ffs_slot_mem *M = R->mem;
    mg_ffs_slot_list *L = R->L;
    int rc;
    for (;;) {
        unsigned long long q, key, done;
        ++J->dev_launches;
        SLOT_TRY(R->launch(R->ctx, L->slots, steps, err));
        SLOT_TRY(M->get(&q, L->fault_q, sizeof q, err));
        SLOT_TRY(M->get(&done, L->done, sizeof done, err));
        if (q != MG_FFS_NO_FAULT) {
            SLOT_TRY(M->get(&key, L->fault_key + q, sizeof key, err));
            return fault_report(J, R, &h_tr[q], key, err);
        }
        if ((long long)done >= nrun)
            return MG_OK;
        if (J->o.cancel && *J->o.cancel)
            return mg_err_set(err, MG_EINTR, "interrupted");
    }
out:
    return rc;
}

/* The results of the nrun trials (their indices idx into tr) back from the slots' memory. */
static int results_back(const mg_ffs_slot_mem *M, const mg_ffs_slot_list *L, mg_ffs_trial *tr,
                        const int *idx, mg_ffs_trial *h_tr, long long nrun, mg_err *err)
{
    int rc;
    SLOT_TRY(M->get(h_tr, L->tr, (size_t)nrun * sizeof(mg_ffs_trial), err));
    for (long long k = 0; k < nrun; ++k) {
        mg_ffs_trial *t = &tr[idx[k]];
        t->outcome = h_tr[k].outcome;
        t->max_lam = h_tr[k].max_lam;
        t->end_lam = h_tr[k].end_lam;
        t->end_t = h_tr[k].end_t;
        if (t->outcome == 1 && t->end_state)
            SLOT_TRY(M->get(t->end_state, L->end + k * L->rows,
                            (size_t)L->rows * sizeof(double), err));
    }
out:
    return rc;
}

int mg_ffs_slot_trials(mg_ffs_job *J, const mg_ffs_slot_run *R, mg_ffs_trial *tr, int n, int d,
                       double lam_A, double lam_next, mg_err *err)
{
    int rc = MG_OK;
    const long long rows = J->rows;
    mg_ffs_slot_list *L = R->L;
    int *idx = malloc((size_t)(n > 0 ? n : 1) * sizeof(int));
    mg_ffs_trial *h_tr = malloc((size_t)(n > 0 ? n : 1) * sizeof(mg_ffs_trial));
    double *h_start = NULL;
    long long nrun = 0, slots;
    memset(L, 0, sizeof *L);
    J->dev_launches = 0;
    if (!idx || !h_tr) {
        rc = mg_err_set(err, MG_ENOMEM, "out of memory");
        goto out;
    }
    nrun = pick_runs(tr, n, idx, h_tr);
    if (nrun == 0)
        goto out;
    h_start = malloc((size_t)(nrun * rows) * sizeof(double));
    if (!h_start) {
        rc = mg_err_set(err, MG_ENOMEM, "out of memory");
        goto out;
    }
    for (long long k = 0; k < nrun; ++k)
        memcpy(h_start + k * rows, h_tr[k].start, (size_t)rows * sizeof(double));
    slots = nrun < R->max_slots ? nrun : R->max_slots;
    if (J->dev_slots > 0 && slots > J->dev_slots)
        slots = J->dev_slots;
    L->d = d;
    L->lam_A = lam_A;
    L->lam_next = lam_next;
    L->cap = J->trial_cap_steps;
    SLOT_TRY(list_alloc(R->mem, L, h_tr, h_start, nrun, rows, slots, err));
    SLOT_TRY(launch_all(J, R, h_tr, nrun, J->dev_steps > 0 ? J->dev_steps : R->steps, err));
    SLOT_TRY(results_back(R->mem, L, tr, idx, h_tr, nrun, err));
out:
    list_free(R->mem, L);
    free(idx);
    free(h_tr);
    free(h_start);
    return rc;
}
