/* src/ffs/ffs_state.h: the state of a forward-flux-sampling estimate between engine calls: stored
 * crossing states, per-stage tallies and where the driver is. Shared by the driver (src/ffs/ffs.c)
 * and its checkpoints (src/ffs/ffs_ckpt.c). Internal. */
#ifndef MESOGIF_FFS_STATE_H
#define MESOGIF_FFS_STATE_H

#include "ffs/ffs_internal.h"
#include "mesogif/stats.h"

typedef struct {
    int64_t n, cap;
    int rows;
    double *states;              /* [n][rows] */
    int64_t *t;                  /* [n] step the state continues at */
    double *lam;                 /* [n] lambda at the crossing */
    int32_t *root;               /* [n] the basin crossing (index in pool 0) it descends from */
} pool;

typedef struct {
    double lam_next;
    int64_t M, S;                /* trials, successes */
    int64_t next;                /* trials issued (trial k starts from state k mod n of the pool) */
    int64_t goal;                /* trials the current pass runs to (resumable) */
    int64_t *m_c, *s_c;          /* [cap_c] trials and successes per start state */
    int64_t cap_c;
    /* every trial in order: its root (basin crossing) and outcome, for the tree bootstrap */
    int32_t *log_root;
    uint8_t *log_succ;
    int64_t n_log, cap_log;
} stage;

typedef struct {
    mg_ffs_job J;
    const mg_ffs_engine *eng;
    mg_ffs_result *r;
    int chunk;                         /* trials per engine call (mg_ffs_chunk) */
    mg_ffs_basin *br;                  /* [nb] basin runs */
    int nb;
    pool pools[2][MG_FFS_IF_MAX + 1];
    stage st[2][MG_FFS_IF_MAX];
    int n_stages[2];
    double lam[2][MG_FFS_IF_MAX + 1];  /* lambda_0 .. lambda_n per direction */
    double spent_s;                    /* simulated seconds so far (all kinds) */
    /* where the driver is, so that a checkpoint can be continued (src/ffs/ffs_ckpt.c) */
    int explored;                      /* interface 0 (and the core) placed */
    int basin_done;                    /* the flux is final */
    int dir_state[2];                  /* 0 first pass, 1 refinement, 2 done */
    int refine_round[2];
    int plan[2];                       /* a refinement round's goals are set */
    double *end_buf;                   /* [chunk][rows] */
    mg_ffs_trial *tr;                  /* [chunk] */
} run_ctx;

/* Checkpoints (src/ffs/ffs_ckpt.c), written via path.partial and a rename. mg_ffs_ckpt_write: the
 * model, the options and everything in X at a point where the driver can continue.
 * mg_ffs_ckpt_read_opts: the options, model text and output path of a checkpoint (strings
 * malloc'ed). mg_ffs_ckpt_load: fill X (set up from those options) from the checkpoint. */
int mg_ffs_ckpt_write(const run_ctx *X, const char *path, mg_err *err);
int mg_ffs_ckpt_load(run_ctx *X, const char *path, mg_err *err);

/* Constants of the method (docs/SWITCHING.md). */
#define FFS_Q0 0.05               /* share of the A-state bins above the automatic lambda_0 */
#define FFS_MIN_CROSS 64          /* least crossings of lambda_0 stored before the stages */
#define FFS_ROUND_S 2.0           /* simulated s per basin run per round (and the exploration) */
#define FFS_CHUNK 1024            /* most trials per engine call: bounds memory, not results */
#define FFS_CHUNK_BYTES 268435456.0 /* at most this much for the end states of one call */
#define FFS_TRIALS_MAX (1 << 23)  /* most trials per stage (the trial index has 24 bits) */
#define FFS_REFINE_ROUNDS 12      /* most refinement rounds per direction */

/* src/ffs/ffs_opts.c: check options against model m, giving the switching configuration and the
 * steps per statistics bin (MG_EINVAL naming the option otherwise); lay out the observer rows
 * from row0 on. */
int mg_ffs_check_opts(const mg_model *m, const mg_ffs_opts *o, mg_stats_cfg *c, int64_t *st_L,
                      mg_err *err);
/* The stored states per interface (--pool-max, or the level's default) and the trials per engine
 * call (--batch, or FFS_CHUNK capped by FFS_CHUNK_BYTES of end states of `rows` doubles). */
int64_t mg_ffs_pool_max(const mg_ffs_opts *o);
int mg_ffs_chunk(const mg_ffs_opts *o, int64_t rows);
void mg_ffs_lane_layout(mg_ffs_lane_cfg *lc, const mg_model *m, const mg_stats_cfg *c,
                        int64_t st_L, double dt_ms, int row0);

/* src/ffs_stats.c. Pools and stages: append (0, or -1 out of memory), free. */
int mg_ffs_pool_add(pool *p, const double *state, int64_t t, double lam, int32_t root);
void mg_ffs_pool_free(pool *p);
int mg_ffs_stage_grow(stage *s, int64_t n);
int mg_ffs_stage_log(stage *s, int32_t root, int succ);
/* p of a stage and the variance of its estimate (the larger of the binomial one and the one
 * across start states), and how many start states were used. */
void mg_ffs_stage_p(const stage *s, double *p, double *var, int64_t *n_used);
/* The flux of direction d (crossings of lambda_0 per second in state A) and its relative
 * variance; crossings and exposure. */
void mg_ffs_flux(const run_ctx *X, int d, double *flux, double *relvar, int64_t *C, double *T);
/* The rate of direction d and its relative variance: the flux's plus the larger of the sum over
 * stages and the tree bootstrap's (*stage_sum, *boot; may be NULL). */
double mg_ffs_rate_relvar(const run_ctx *X, int d, double *rate, double *stage_sum,
                          double *boot);

#endif /* MESOGIF_FFS_STATE_H */
