/* kernels/ffs/ffs_cuda.cuh: what the two FFS CUDA engines (kernels/ffs/ffs_meso_cuda.cu,
 * ffs_micro_cuda.cu) share: the device list of a trials call (the trials, their start states,
 * the successes' end states, the slots that run them and the counters that hand them out) and
 * the host side of a call (kernels/ffs/ffs_cuda.cu: upload, launches until every trial has
 * ended, cancel and NaN checks between launches, results back into the driver's trials).
 *
 * A slot is what runs one trial at a time (meso: a thread; micro: a block). It keeps its trial
 * q (or MG_FFS_CU_IDLE: none, take the next; MG_FFS_CU_DRAINED: the list is used up) and its
 * next step between launches, so a launch runs a bounded number of steps and a trial runs
 * across launches unchanged. */
#ifndef MESOGIF_KERNELS_FFS_CUDA_CUH
#define MESOGIF_KERNELS_FFS_CUDA_CUH

#include <cuda_runtime.h>

#include "ffs/ffs_internal.h"

#define MG_FFS_CU_IDLE (-1LL)
#define MG_FFS_CU_DRAINED (-2LL)

/* The first fault of a call: a non-finite value in realization real (-1: none), population,
 * neuron (micro) and step. */
typedef struct {
    long long real;
    int pop;
    int is_nan;
    long long neuron;
    long long step;
} mg_ffs_cu_fault;

/* A trials call on the device (device pointers). */
typedef struct {
    mg_ffs_trial *tr;            /* [n] the trials that run (copies of the driver's) */
    const double *start;         /* [n][rows] their start states */
    double *end;                 /* [n][rows] the end states of successes with an end_state */
    long long n, rows;
    double *state;               /* the slots' rows (the engine's layout) */
    long long slots;
    long long *slot_q, *slot_t;  /* [slots] trial and next step of each slot */
    unsigned long long *next;    /* the next trial to hand out */
    unsigned long long *done;    /* trials ended */
    int d;
    double lam_A, lam_next;
    long long cap;               /* J->trial_cap_steps */
    mg_ffs_cu_fault *fault;
} mg_ffs_cu_list;

/* Record the call's first fault (the first claim wins); the host stops after the launch. */
static __device__ inline void mg_ffs_cu_fault_note(mg_ffs_cu_list *L, uint32_t real, int pop,
                                                   long long neuron, long long step, int is_nan)
{
    if (atomicCAS((unsigned long long *)&L->fault->real, (unsigned long long)-1LL,
                  (unsigned long long)real) == (unsigned long long)-1LL) {
        L->fault->pop = pop;
        L->fault->neuron = neuron;
        L->fault->step = step;
        L->fault->is_nan = is_nan;
    }
}

/* How an engine runs a call: launch(ctx, slots, steps) starts its kernel over the slots of
 * *L (filled in by mg_ffs_cu_trials before each launch; ctx holds L), at most `steps` steps
 * per slot; at most max_slots slots; fault_msg writes the error of a recorded fault. */
typedef struct {
    void (*launch)(void *ctx, long long slots, long long steps);
    void *ctx;
    mg_ffs_cu_list *L;
    long long steps;
    long long max_slots;
    int (*fault_msg)(const mg_ffs_job *J, const mg_ffs_cu_fault *f, mg_err *err);
} mg_ffs_cu_run;

/* Run the trials tr[0 .. n) that are not skipped to their ends on the device (the engine's
 * `trials` call): outcome, max_lam, end_lam, end_t and a success's end_state, as the CPU
 * engine's. MG_OK, MG_EINTR (cancelled), MG_ENUM (fault_msg's) or MG_ECUDA / MG_ENOMEM. */
int mg_ffs_cu_trials(mg_ffs_job *J, const mg_ffs_cu_run *R, mg_ffs_trial *tr, int n, int d,
                     double lam_A, double lam_next, mg_err *err);

#endif /* MESOGIF_KERNELS_FFS_CUDA_CUH */
