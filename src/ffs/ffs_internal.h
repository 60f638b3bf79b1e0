/* src/ffs/ffs_internal.h: what the FFS driver (src/ffs/ffs.c) hands an engine, and the observable
 * every engine tracks at the end of a statistics bin. Internal.
 *
 * An engine is a model level on a backend (mg_ffs_engine below): the meso level on the CPU
 * (src/ffs/ffs_meso_cpu.c), the micro level on the CPU (src/ffs/ffs_micro_cpu.c), and each on
 * CUDA (kernels/ffs/: the CPU engine with the trials on the device). It advances single
 * realizations, each with its own start step, so a trial can start from any stored state and end
 * on its own. Its random numbers come from the level's counter-based stream with the
 * realization index as a counter word: a basin run r has index r (as realization r of `mesogif
 * run`), a trial the index mg_ffs_trial_id(direction, pilot, stage, trial), so no two
 * realizations of an estimate share a stream. (Meso: counter (index, population, absolute step);
 * micro: counter (index, Philox block, step), the step counted from the trial's start, see
 * src/ffs_micro_cpu.c.)
 *
 * The state of a realization is the dynamics (rows [0, dyn_rows), the engine's layout) followed
 * by the observer rows of mg_ffs_lane_cfg: the statistics-bin sums, the moving-average ring of
 * the observable, its fill count, the hysteresis state and the basin-run flags. A stored crossing
 * state is all `rows` of the realization at the end of a statistics bin, contiguous, with the
 * absolute step it continues at; the driver only copies, stores and checkpoints these rows.
 *
 * The observer functions compute the observable with the same arithmetic, in the same order, as
 * src/core/observe.h (mg_obs_step / mg_obs_stats_bin), so that the values, and hence the
 * threshold decisions, are the bits `mesogif run` sees. They take a one-realization view (lane 0
 * of an mg_lanes, any ld: mg_lane(block, j) for a lane block) and are MG_HD, as is the end of a
 * trial's bin (mg_ffs_trial_bin below): the CPU and the CUDA engines run the one definition. The
 * bookkeeping of a basin run's bin is in src/ffs/ffs_engine.c (mg_ffs_basin_bin). */
#ifndef MESOGIF_FFS_INTERNAL_H
#define MESOGIF_FFS_INTERNAL_H

#include "core/hd.h"
#include "core/lanes.h" /* mg_lanes, MG_AT, MG_VL */
#include "core/rng.h"   /* mg_philox_block, MG_STREAM_* */
#include "engine/fail_note.h" /* mg_fail_note */
#include "mesogif/ffs.h"

#include <math.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Observer of one lane (rows are absolute row indices). */
typedef struct {
    int P;
    int W;                       /* bins of the moving average */
    int64_t st_L;                /* steps per statistics bin */
    double bin_s;
    double coef[MG_POP_MAX];     /* observable = sum_p coef[p] A_p */
    double st_scale[MG_POP_MAX]; /* 1/(N st_L dt): bin count -> Hz */
    double lo, hi;               /* hysteresis thresholds (Hz) */
    int row_n;                   /* [P] spike counts of the current bin */
    int row_ring;                /* [W] observable of the last W bins, slot b mod W */
    int row_seen;                /* [1] bins completed */
    int row_state;               /* [1] hysteresis state: -1 unknown, 0 low, 1 high */
    int row_count;               /* [2] basin: exposure counted for direction d (A entered) */
    int row_armed;               /* [2] basin: A entered since the last counted crossing */
    int row_dstate;              /* [2] basin: 1 while in state A of direction d (A visited
                                  * last, not B), else 0 */
    int rows;                    /* observer rows */
} mg_ffs_lane_cfg;

/* lambda of direction d: the observable for d = 0 (from low), its negative for d = 1, so that
 * each direction moves to larger lambda: A = {lambda < lam_A}, B = {lambda > lam_B}. */
static inline MG_HD double mg_ffs_lambda(int d, double D)
{
    return d == 0 ? D : -D;
}

/* Add the counts of one step (n[P]) to the bin sums (observe.h: row_st_n). */
static inline MG_HD void mg_ffs_obs_add(const mg_ffs_lane_cfg *c, mg_lanes st, const double *n)
{
    for (int a = 0; a < c->P; ++a)
        MG_AT(st, c->row_n + a, 0) += n[a];
}

/* End of statistics bin b: the observable D enters the ring (as mg_obs_step), the bin sums are
 * cleared; returns the moving average Ds once the ring is full (as mg_obs_stats_bin), NaN
 * before. */
static inline MG_HD double mg_ffs_obs_bin(const mg_ffs_lane_cfg *c, mg_lanes st, int64_t b)
{
    double D = 0.0;
    for (int a = 0; a < c->P; ++a)
        D += c->coef[a] * MG_AT(st, c->row_n + a, 0) * c->st_scale[a];
    MG_AT(st, c->row_ring + (int)(b % c->W), 0) = D;
    MG_AT(st, c->row_seen, 0) += 1.0;
    for (int a = 0; a < c->P; ++a)
        MG_AT(st, c->row_n + a, 0) = 0.0;
    if (MG_AT(st, c->row_seen, 0) < (double)c->W)
        return NAN;
    double sum = 0.0;
    for (int w = 0; w < c->W; ++w)
        sum += MG_AT(st, c->row_ring + w, 0);
    return sum / (double)c->W;
}

/* The hysteresis of src/core/observe.h: high once Ds > hi, low once Ds < lo. */
static inline MG_HD int mg_ffs_hysteresis(const mg_ffs_lane_cfg *c, double Ds, int s)
{
    return Ds > c->hi ? 1 : (Ds < c->lo ? 0 : s);
}

/* Zero the observer rows; state unknown. */
static inline MG_HD void mg_ffs_obs_init(const mg_ffs_lane_cfg *c, mg_lanes st)
{
    for (int k = c->row_n; k < c->row_n + c->rows; ++k)
        MG_AT(st, k, 0) = 0.0;
    MG_AT(st, c->row_state, 0) = -1.0;
}

/* Realization index of trial k of stage s of direction d (pilot: 1 for the trials that place
 * an interface). Bit 31 set: never an index of a basin run (those are < 2^31, the indices
 * `mesogif run` uses for the same seed). Stages < 32, trials < 2^24 (checked by the driver). */
static inline MG_HD uint32_t mg_ffs_trial_id(int d, int pilot, int s, int64_t k)
{
    return 0x80000000u | ((uint32_t)d << 30) | ((uint32_t)pilot << 29) | ((uint32_t)s << 24) |
           (uint32_t)k;
}

/* ---- engine interface ------------------------------------------------------------------- */

/* A crossing recorded by a basin run: direction, the step the state continues at, lambda at the
 * crossing and the state (rows values), malloc'ed. */
typedef struct {
    int d;
    int64_t t;
    double lam;
    double *state;
} mg_ffs_crossing;

#define MG_FFS_HIST 2000

/* A basin run: realization `real` from t = 0. The engine advances it to t_end, accumulating. */
typedef struct {
    double *state;               /* [rows], kept between calls */
    int64_t t;                   /* next step */
    uint32_t real;
    double exposure[2];          /* s in state A of direction d while counted */
    int64_t crossings[2];
    /* crossings of the last call, in time order (appended by the engine) */
    mg_ffs_crossing *cross;
    int n_cross, cap_cross;
    /* histogram of lambda in state A (bins after the warm-up), for the placement of interface
     * 0: [2][MG_FFS_HIST + 2] (below, bins on [lam_thr - w, lam_B], above; src/ffs/ffs_engine.c) */
    int64_t *hist;
} mg_ffs_basin;

/* A trial: realization `real` from a stored state (t0 its step) until lambda > lam_next
 * (outcome 1: its state at that bin is copied to end_state, lambda to end_lam) or lambda <
 * lam_A (0), or past the trial cap (-1). end_t: the step after its last bin; max_lam: the
 * largest lambda seen (pilots). skip = 1: not run (the driver fills the outputs). */
typedef struct {
    const double *start;         /* [rows] */
    int64_t t0;
    uint32_t real;
    int skip;
    int64_t cfg;                 /* the driver's: index of the start state in its pool */
    int outcome;
    double max_lam;
    double end_lam;
    int64_t end_t;
    double *end_state;           /* [rows], NULL: do not copy (pilots) */
} mg_ffs_trial;

/* Outputs of a trial before it runs (outcome -1: neither end within the cap). */
static inline MG_HD void mg_ffs_trial_begin(mg_ffs_trial *tr)
{
    tr->outcome = -1;
    tr->max_lam = -INFINITY;
    tr->end_lam = NAN;
}

/* A statistics bin b of trial tr of direction d (lane view st, observer c) ended, t_next = the
 * step after it: 1 when the trial has ended (lambda > lam_next: outcome 1, end_lam; lambda <
 * lam_A: 0; end_t = t_next), else 0. The caller copies the state of a success to
 * tr->end_state. MG_HD: one definition for the CPU engines and the CUDA engines (kernels/ffs/),
 * so that both end a trial at the same bin with the same outcome. */
static inline MG_HD int mg_ffs_trial_bin(const mg_ffs_lane_cfg *c, mg_ffs_trial *tr,
                                         mg_lanes st, int64_t b, int64_t t_next, int d,
                                         double lam_A, double lam_next)
{
    double Ds = mg_ffs_obs_bin(c, st, b);
    if (isnan(Ds))
        return 0;
    MG_AT(st, c->row_state, 0) = (double)mg_ffs_hysteresis(c, Ds, (int)MG_AT(st, c->row_state, 0));
    double lam = mg_ffs_lambda(d, Ds);
    if (lam > tr->max_lam)
        tr->max_lam = lam;
    if (!(lam > lam_next || lam < lam_A))
        return 0;
    tr->outcome = lam > lam_next;
    tr->end_t = t_next;
    if (tr->outcome)
        tr->end_lam = lam;
    return 1;
}

typedef struct mg_ffs_job mg_ffs_job;

/* What a level on a backend provides (one engine per pair; the driver picks it in
 * mg_ffs_engine_for). A CUDA engine plugs in with the same calls:
 *  - setup: derive the level's model for J->model and J->o into J->lev and set J->dyn_rows
 *    (J->lev is the engine's; release frees it);
 *  - init: the dynamics rows [0, dyn_rows) of basin run `real` at step 0 into state (contiguous;
 *    0, or -1 out of memory);
 *  - basin: advance the nb basin runs (all at the same step b[0].t) to step t_end, tallying
 *    with mg_ffs_basin_bin at every statistics bin; the states stay in b[i].state;
 *  - trials: run every trial given (skip = 0) from its start state to its end, ending each with
 *    mg_ffs_trial_bin, and copy a successful trial's state to end_state.
 * basin and trials run every item (in parallel as they like: one realization per thread or
 * warp, lane blocks, trials refilled as others end) and must give results that depend only on
 * each item's inputs (start state, start step, realization index), never on the thread, the
 * batch or the other items. Stored states are contiguous rows in absolute time. MG_OK, or an
 * error code with the message in err (MG_ENUM: NaN in the state, MG_EINTR: cancelled,
 * MG_ENOMEM). The CUDA engines (kernels/ffs/) are described in docs/SWITCHING.md, "The CUDA
 * engines". */
typedef struct {
    const char *name;            /* backend: "cpu" or "cuda" */
    mg_level level;
    int (*setup)(mg_ffs_job *J, mg_err *err);
    void (*release)(mg_ffs_job *J);
    int (*init)(const mg_ffs_job *J, double *state, uint32_t real);
    int (*basin)(mg_ffs_job *J, mg_ffs_basin *b, int nb, int64_t t_end, mg_err *err);
    int (*trials)(mg_ffs_job *J, mg_ffs_trial *tr, int n, int d, double lam_A, double lam_next,
                  mg_err *err);
} mg_ffs_engine;

struct mg_ffs_job {
    const mg_model *model;
    mg_ffs_opts o;
    void *lev;                   /* the engine's derived model (setup / release) */
    void (*lev_free)(void *lev); /* releases what lev holds (mg_ffs_lev_take) */
    void *dev;                   /* a CUDA engine's device copy of it (kernels/ffs/), or NULL */
    int dev_slots;               /* most slots (trials at once) of a CUDA engine's trials call;
                                  * 0: the engine's choice (tests set a few, so slots refill) */
    int64_t dev_steps;           /* steps per slot and launch of such a call; 0: the engine's
                                  * (tests set a few, so trials run across launches) */
    int64_t dev_launches;        /* launches of the last such call (for the tests) */
    int dyn_rows;
    int rows;                    /* dyn_rows + lane observer rows */
    mg_ffs_lane_cfg lc;
    int64_t b_hist;              /* basin: first bin of the histogram of lambda (after warm-up) */
    int64_t b_count;             /* basin: first bin counted (exposure, crossings) */
    /* per direction, in lambda: lam_thr = the threshold of `run` (lo, or -hi); lam_A = the
     * basin's core (A = {lambda < lam_A}; lam_thr, or deeper, see src/ffs/ffs.c); lam_B = the other
     * threshold; lam0 = interface 0 */
    double lam_thr[2], lam_A[2], lam_B[2], lam0[2];
    int64_t trial_cap_steps;
    int threads;
};

/* The engines: the meso level (src/ffs/ffs_meso_cpu.c) and the micro level
 * (src/ffs/ffs_micro_cpu.c) on the CPU, and in a build with CUDA each on the device
 * (kernels/ffs/ffs_meso_cuda.cu, kernels/ffs/ffs_micro_cuda.cu). mg_ffs_engine_for: the engine
 * of (level, backend), NULL if none; auto picks the device for the meso level when one
 * answers. */
extern const mg_ffs_engine mg_ffs_engine_meso_cpu;
extern const mg_ffs_engine mg_ffs_engine_micro_cpu;
#ifdef MG_HAVE_CUDA
extern const mg_ffs_engine mg_ffs_engine_meso_cuda;
extern const mg_ffs_engine mg_ffs_engine_micro_cuda;
#endif
const mg_ffs_engine *mg_ffs_engine_for(mg_level level, mg_backend backend);

/* src/ffs/ffs_micro_cpu.c: doubles of the dynamics of one realization at the micro level (the
 * micro state rows and the network row), and the bytes a worker thread holds besides its lane
 * block (spike lists, networks), for the memory estimate. */
int mg_ffs_micro_size(const mg_model *m, const mg_ffs_opts *o, int64_t *dyn_rows,
                      double *worker_bytes, mg_err *err);

/* ---- src/ffs/ffs_engine.c: what every engine shares ------------------------------------------ */

/* The first failure of an engine call (mg_fail_note_set); workers stop at their next check. */
typedef mg_fail_note mg_ffs_fail;

/* What an engine call hands its items (the ctx of mg_ffs_parallel): basin runs b to t_end, or
 * trials tr of direction d between lam_A and lam_next; start, len: the micro engine's lane blocks
 * (block q: items start[q] .. start[q] + len[q] - 1). */
typedef struct {
    mg_ffs_basin *b;
    int64_t t_end;
    mg_ffs_trial *tr;
    int d;
    double lam_A, lam_next;
    int *start, *len;
} mg_ffs_call;

/* item(J, w, i, ctx, f) for every i in [0, n), over J->threads OpenMP threads, handed out one
 * at a time (dynamic schedule: an item that ends early frees its thread for the next); each
 * thread has its own worker w from worker_alloc (NULL: out of memory), freed by worker_free. An
 * item records a failure in f; the others then stop at their next check. MG_OK or the first
 * failure (code and message in err). */
typedef struct {
    void *(*worker_alloc)(const mg_ffs_job *J);
    void (*worker_free)(const mg_ffs_job *J, void *w);
} mg_ffs_worker_ops;
int mg_ffs_parallel(mg_ffs_job *J, const mg_ffs_worker_ops *ops, int n,
                    void (*item)(mg_ffs_job *J, void *w, int i, void *ctx, mg_ffs_fail *f),
                    void *ctx, mg_err *err);

/* setup's end: lev, the engine's derived model, becomes J->lev (lev_free releases what it holds)
 * when its derivation returned rc = MG_OK; otherwise lev (whose derivation released what it
 * held) is freed. Returns rc. */
int mg_ffs_lev_take(mg_ffs_job *J, void *lev, void (*lev_free)(void *lev), int rc);

/* An engine's release: J->lev_free(J->lev), then J->lev itself (nothing when there is none). */
void mg_ffs_lev_release(mg_ffs_job *J);

/* *p resized to n elements of elem bytes (realloc); 0, or -1 with *p unchanged. */
int mg_ffs_resize(void **p, int64_t n, size_t elem);

/* A statistics bin b of basin run br (lane view st) ended; t_next = the step after it. Per
 * direction: the hysteresis state, the histogram of lambda in state A (from J->b_hist), the
 * exposure and the first crossings of interface 0 after A (from J->b_count); a crossing's state
 * is written by save(J, ctx, dst) into a new buffer of `rows` doubles. 0, or -1 out of memory. */
int mg_ffs_basin_bin(const mg_ffs_job *J, mg_ffs_basin *br, mg_lanes st, int64_t b,
                     int64_t t_next, void (*save)(const mg_ffs_job *J, void *ctx, double *dst),
                     void *ctx);

#ifdef __cplusplus
}
#endif

#endif /* MESOGIF_FFS_INTERNAL_H */
