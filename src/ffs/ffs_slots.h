/* src/ffs/ffs_slots.h: a trials call of the FFS engines run by slots (the CUDA engines of
 * kernels/ffs/: a slot is a thread at the meso level, a block at the micro level). A slot takes
 * the next trial of the call's list from a counter, runs it to its end and takes the next one, so
 * no slot idles while trials remain; it keeps its trial and its next step between launches, so a
 * launch runs a bounded number of steps (the host serves cancel requests and fault reports in
 * between) and a trial runs across launches unchanged.
 *
 * Here:
 * - the list and its counters and the fault record (MG_HD: the device's atomics; the host
 *   compiles them too, with its own); the slots' loops are src/ffs/ffs_meso_slot.h and
 *   src/ffs/ffs_micro_slot.h;
 * - the host side of a call (src/ffs/ffs_slots.c: the trials that run and their start states to
 *   the slots' memory, launches until every trial has ended, the results back), over the memory
 *   and launch operations of the backend (kernels/ffs/ffs_cuda.cu). tests/test_ffs_cuda.c
 *   compares it with the CPU engines trial by trial, on a device and, in every `make test`, in
 *   the host emulation of tests/cuda_emu/ (slots run in an order that changes per launch). */
#ifndef MESOGIF_FFS_SLOTS_H
#define MESOGIF_FFS_SLOTS_H

#include "ffs/ffs_internal.h"
#include "engine/micro_derive.h" /* mg_micro_derived, mg_micro_csr_store */

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define MG_FFS_SLOT_IDLE (-1LL)    /* a slot without a trial: it takes the next one */
#define MG_FFS_SLOT_DRAINED (-2LL) /* the list is used up */

/* The fault a call reports: a non-finite value in realization real, population, neuron (micro;
 * -1 meso) and step (meso: absolute; micro: of the trial, as the CPU engines report them). */
typedef struct {
    long long real;
    int pop;
    int is_nan;
    long long neuron;
    long long step;
} mg_ffs_slot_fault;

/* A trials call in the slots' memory (device pointers). */
typedef struct {
    mg_ffs_trial *tr;            /* [n] the trials that run (copies of the driver's) */
    const double *start;         /* [n][rows] their start states */
    double *end;                 /* [n][rows] the end states of successes with an end_state */
    long long n, rows;
    double *state;               /* the slots' rows (the engine's layout) */
    long long slots;
    long long *slot_q, *slot_t;  /* [slots] trial (or IDLE, DRAINED) and next step of a slot */
    unsigned long long *next;    /* the next trial to hand out */
    unsigned long long *done;    /* trials ended */
    int d;
    double lam_A, lam_next;
    long long cap;               /* J->trial_cap_steps */
    unsigned long long *fault_q; /* the lowest list position of a trial with a fault */
    unsigned long long *fault_key; /* [n] each trial's smallest key (mg_ffs_slot_fault_note) */
} mg_ffs_slot_list;

#define MG_FFS_NO_FAULT (~0ULL)
/* The fault key's fields (mg_ffs_slot_fault_note): where each begins. */
enum { MG_FFS_FAULT_REL_BIT = 41, MG_FFS_FAULT_POP_BIT = 35, MG_FFS_FAULT_INF_BIT = 34 };

/* *c = min(*c, v). */
static inline MG_HD void mg_ffs_slot_min(unsigned long long *c, unsigned long long v)
{
#ifdef __CUDA_ARCH__
    atomicMin(c, v);
#else
    unsigned long long old = __atomic_load_n(c, __ATOMIC_SEQ_CST);
    while (v < old &&
           !__atomic_compare_exchange_n(c, &old, v, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) {
    }
#endif
}

/* *c + 1 into *c; the old value. */
static inline MG_HD unsigned long long mg_ffs_slot_count(unsigned long long *c)
{
#ifdef __CUDA_ARCH__
    return atomicAdd(c, 1ULL);
#else
    return __atomic_fetch_add(c, 1ULL, __ATOMIC_SEQ_CST);
#endif
}

/* Note a fault of the trial at list position q, rel steps after its start; the host stops
 * after the launch and reports the trial of lowest position, at its smallest key: (rel,
 * saturated; population; 1 for Inf; neuron), fields from the bits named above. The smallest,
 * not the first to arrive: which slot or thread reaches an atomic first depends on the device's
 * scheduling, so the report is the same on any device and in any order (as `run`'s,
 * kernels/backend_cuda.cu). */
static inline MG_HD void mg_ffs_slot_fault_note(const mg_ffs_slot_list *L, long long q,
                                                long long rel, int pop, long long neuron,
                                                int is_nan)
{
    const long long rel_max = (1LL << (64 - MG_FFS_FAULT_REL_BIT)) - 1;
    const unsigned long long key =
        ((unsigned long long)(rel < rel_max ? rel : rel_max) << MG_FFS_FAULT_REL_BIT) |
        ((unsigned long long)pop << MG_FFS_FAULT_POP_BIT) |
        ((unsigned long long)(is_nan ? 0 : 1) << MG_FFS_FAULT_INF_BIT) |
        (unsigned long long)(neuron > 0 ? neuron : 0);
    mg_ffs_slot_min(&L->fault_key[q], key);
    mg_ffs_slot_min(L->fault_q, (unsigned long long)q);
}

/* The slots' memory: alloc, release (NULL: nothing), put (host to slots), get (slots to host),
 * fill (bytes); launch(ctx, slots, steps): every slot runs at most `steps` steps, and the call
 * returns when they have (MG_OK, or an error code with the message in err). */
typedef struct {
    int (*alloc)(void **p, size_t bytes, mg_err *err);
    void (*release)(void *p);
    int (*put)(void *dst, const void *src, size_t bytes, mg_err *err);
    int (*get)(void *dst, const void *src, size_t bytes, mg_err *err);
    int (*fill)(void *dst, int byte, size_t bytes, mg_err *err);
} mg_ffs_slot_mem;

/* How an engine runs a call: launch over the slots of *L (filled in by mg_ffs_slot_trials
 * before the first launch; ctx holds L), at most `steps` steps per slot and launch, at most
 * max_slots slots; fault_msg writes the error of a recorded fault. */
typedef struct {
    const mg_ffs_slot_mem *mem;
    int (*launch)(void *ctx, long long slots, long long steps, mg_err *err);
    void *ctx;
    mg_ffs_slot_list *L;
    long long steps;
    long long max_slots;
    int (*fault_msg)(const mg_ffs_job *J, const mg_ffs_slot_fault *f, mg_err *err);
} mg_ffs_slot_run;

/* Run the trials tr[0 .. n) that are not skipped to their ends on the slots (an engine's
 * `trials` call): outcome, max_lam, end_lam, end_t and a success's end_state, as the CPU
 * engine's. At most J->dev_slots slots when that is > 0, launches of J->dev_steps steps when
 * that is > 0 (else R->steps), their count in J->dev_launches. MG_OK, MG_EINTR (cancelled), MG_ENUM
 * (fault_msg's), or the memory's or launch's error. */
int mg_ffs_slot_trials(mg_ffs_job *J, const mg_ffs_slot_run *R, mg_ffs_trial *tr, int n, int d,
                       double lam_A, double lam_next, mg_err *err);

/* The messages of a fault, one definition for the CPU engines and the slots (MG_ENUM):
 * meso: a non-finite expected count (src/ffs/ffs_meso_cpu.c); micro: a NaN membrane potential
 * (src/ffs/ffs_micro_cpu.c). */
int mg_ffs_meso_fault_msg(const mg_ffs_job *J, const mg_ffs_slot_fault *f, mg_err *err);
int mg_ffs_micro_fault_msg(const mg_ffs_job *J, const mg_ffs_slot_fault *f, mg_err *err);

/* The networks of basin runs 0 .. n_net-1 at the micro level, drawn as the CPU engine draws
 * them (mg_micro_build_csr), for the slots of a trials call (a trial reads the network of the
 * basin run it descends from): (*store)[r * n_list + c] for projection list c of run r, freed
 * with mg_ffs_micro_networks_free(*store, n_net * n_list). src/ffs/ffs_micro_cpu.c. */
int mg_ffs_micro_networks(const mg_micro_derived *d, long long n_net, mg_micro_csr_store **store,
                          mg_err *err);
void mg_ffs_micro_networks_free(mg_micro_csr_store *store, long long n);

#ifdef __cplusplus
}
#endif

#endif /* MESOGIF_FFS_SLOTS_H */
