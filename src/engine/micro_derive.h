/* src/engine/micro_derive.h: from a model (NEST units), a time step and the run options to the
 * per-step constants and state layout of the microscopic network (MODEL.md §1.3) that
 * src/core/micro.h runs on, and the quenched connectivity (MODEL.md §1.2). Internal. */
#ifndef MESOGIF_MICRO_DERIVE_H
#define MESOGIF_MICRO_DERIVE_H

#include "mesogif/model.h"
#include "mesogif/run.h"
#include "core/micro.h"

#ifdef __cplusplus
extern "C" {
#endif

/* One projection with explicit out-lists. */
typedef struct {
    int proj;              /* index in the model file's projections (RNG counter word) */
    int rule;              /* MG_RULE_FIXED_INDEGREE or MG_RULE_PAIRWISE_BERNOULLI */
    uint32_t N_src, N_tgt;
    uint32_t C;            /* fixed in-degree: partners per target neuron */
    uint64_t thr;          /* Bernoulli: a pair connects iff its 32-bit word < thr */
    double mean_syn;       /* expected synapses (exact for fixed in-degree) */
} mg_micro_conn;

/* A growable CSR (host memory) for one projection in one realization. */
typedef struct {
    int64_t *off;          /* [N_src + 1] */
    uint32_t *tgt;         /* [cap] */
    int64_t cap;
} mg_micro_csr_store;

/* Scratch of one builder (one thread): in-lists, positions and the bitmap of Floyd's draw. */
typedef struct {
    uint32_t *tmp;         /* [tmp_cap] drawn partners, target by target */
    int64_t tmp_cap;
    int64_t *pos;          /* [N_src max] fill positions; also per-target counts */
    uint32_t *deg;         /* [N_tgt max] in-degree of each target (Bernoulli) */
    uint64_t *mark;        /* [N_src max / 64 + 1] */
} mg_micro_scratch;

/* Spikes of one recorded realization and population: (step << 32 | neuron), in step order. */
typedef struct {
    uint64_t *key;
    int64_t n, cap;
} mg_micro_rec;

typedef struct mg_micro_derived {
    mg_micro_model mm;     /* points into the arrays below */
    mg_micro_pop *pop;     /* [P] */
    mg_micro_proj *proj;   /* [n_proj] active projections (J != 0, p > 0), in file order */
    mg_micro_in *in;       /* [n_proj] grouped by target, source order */
    int *inp_first, *inp_count;
    int64_t *inp_step;
    double *inp_mV;
    int n_inp;
    mg_micro_conn *conn;   /* [n_list] */
    int shared;            /* 1: one network for the whole ensemble (shared_csr) */
    mg_micro_csr_store *shared_csr; /* [n_list] when shared */
    int64_t spk_elems;     /* sum over populations of H N: spike-list entries per lane */
    int64_t max_N;         /* largest population */
    /* recorded spikes [trace_k][P], filled by the backend; rec_upto[k]: steps of recorded
     * realization k whose spikes are in rec (a block that is run again after a checkpoint
     * does not record them twice) */
    int64_t rec_k;
    mg_micro_rec *rec;
    int64_t *rec_upto;
} mg_micro_derived;

/* Build the out-lists of list projection c for realization r (ignored when shared != 0) into
 * *cs, growing it as needed; sc is this thread's scratch (mg_micro_scratch_alloc). Pure in
 * (seed, r, c): the same network whatever thread builds it. MG_ENOMEM on allocation failure. */
int mg_micro_build_csr(const mg_micro_derived *d, int c, uint32_t r, int shared,
                       mg_micro_csr_store *cs, mg_micro_scratch *sc, mg_err *err);

int mg_micro_scratch_alloc(const mg_micro_derived *d, mg_micro_scratch *sc);
void mg_micro_scratch_free(mg_micro_scratch *sc);
void mg_micro_csr_free(mg_micro_csr_store *cs);

#ifdef __cplusplus
}
#endif

#endif /* MESOGIF_MICRO_DERIVE_H */
