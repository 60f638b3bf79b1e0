/* src/engine/micro_derive.c: the microscopic GIF network (MODEL.md §1.3) derived for a run: per-step
 * constants (propagators of MODEL.md §1.3 computed once on the host with libm), the layout of a
 * realization's state in the lane matrix of src/core/micro.h, the validation of projections,
 * and the quenched connectivity of MODEL.md §1.2 (fixed in-degree without replacement, pairwise
 * Bernoulli; all-to-all needs none). Called from src/engine/run.c through the hooks declared in
 * src/engine/job.h; the CPU backend is src/backend_cpu_micro.c. */
#include "engine/job.h"
#include "util/free_all.h"
#include "engine/micro_derive.h"
#include "model/stimulus.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Rows the observer may add after the dynamics (src/engine/run.c: 4P + 1 + P^2 <= 4417 for
 * P <= 64); the dynamics must leave room for them in an int. */
#define MG_MICRO_ROWS_MAX (INT_MAX - 65536)

/* in-degree C = floor(p N) as S2 truncates, but with p N within 1e-9 of an integer taken as that
 * integer, so that e.g. p = 0.7, N = 10 gives 7 whatever the last bit of 0.7 * 10 is */
static int64_t indegree(double p, int64_t N)
{
    double x = p * (double)N;
    double c = floor(x);
    if (x - c > 1.0 - 1e-9)
        c += 1.0;
    return (int64_t)c;
}

static void derived_free(mg_micro_derived *d)
{
    if (!d)
        return;
    MG_FREE_ALL(d->pop, d->proj, d->in, d->inp_first, d->inp_count, d->inp_step, d->inp_mV,
                d->conn);
    if (d->shared_csr)
        for (int c = 0; c < d->mm.n_list; ++c)
            mg_micro_csr_free(&d->shared_csr[c]);
    free(d->shared_csr);
    if (d->rec)
        for (int64_t k = 0; k < d->rec_k * d->mm.P; ++k)
            free(d->rec[k].key);
    free(d->rec);
    free(d->rec_upto);
    free(d);
}

void mg_micro_free(mg_job *job)
{
    if (!job)
        return;
    derived_free(job->mi);
    job->mi = NULL;
}

void mg_micro_csr_free(mg_micro_csr_store *cs)
{
    if (!cs)
        return;
    free(cs->off);
    free(cs->tgt);
    memset(cs, 0, sizeof *cs);
}

void mg_micro_scratch_free(mg_micro_scratch *sc)
{
    if (!sc)
        return;
    void *owned[] = {sc->tmp, sc->pos, sc->deg, sc->mark};
    for (size_t i = 0; i < sizeof owned / sizeof owned[0]; ++i)
        free(owned[i]);
    memset(sc, 0, sizeof *sc);
}

int mg_micro_scratch_alloc(const mg_micro_derived *d, mg_micro_scratch *sc)
{
    memset(sc, 0, sizeof *sc);
    int64_t Nmax = d->max_N;
    sc->pos = malloc((size_t)(Nmax + 1) * sizeof *sc->pos);
    sc->deg = malloc((size_t)(Nmax + 1) * sizeof *sc->deg);
    sc->mark = calloc((size_t)(Nmax / 64 + 1), sizeof *sc->mark);
    if (!sc->pos || !sc->deg || !sc->mark) {
        mg_micro_scratch_free(sc);
        return MG_ENOMEM;
    }
    return MG_OK;
}

/* grow a uint32 array to at least `need` entries (doubling) */
static int grow_u32(uint32_t **a, int64_t *cap, int64_t need)
{
    if (need <= *cap)
        return MG_OK;
    int64_t c = *cap > 0 ? *cap : 1024;
    while (c < need)
        c *= 2;
    uint32_t *x = realloc(*a, (size_t)c * sizeof *x);
    if (!x)
        return MG_ENOMEM;
    *a = x;
    *cap = c;
    return MG_OK;
}

int mg_micro_build_csr(const mg_micro_derived *d, int c, uint32_t r, int shared,
                       mg_micro_csr_store *cs, mg_micro_scratch *sc, mg_err *err)
{
    const mg_micro_conn *cn = &d->conn[c];
    const uint32_t seed = d->mm.seed;
    const uint32_t c0 = shared ? 0u : r;
    const uint32_t c1 = shared ? (MG_MICRO_SHARED | (uint32_t)cn->proj) : (uint32_t)cn->proj;
    const uint32_t Ns = cn->N_src, Nt = cn->N_tgt;
    /* 1. the partners of every target neuron, target by target (in-lists) */
    int64_t n_syn = 0;
    if (cn->rule == MG_RULE_FIXED_INDEGREE) {
        n_syn = (int64_t)Nt * cn->C;
        if (grow_u32(&sc->tmp, &sc->tmp_cap, n_syn > 0 ? n_syn : 1) != MG_OK)
            goto nomem;
        for (uint32_t i = 0; i < Nt; ++i) {
            mg_micro_draw_indegree(seed, c0, c1, i, Ns, cn->C, sc->tmp + (int64_t)i * cn->C,
                                   sc->mark);
            sc->deg[i] = cn->C;
        }
    } else {
        for (uint32_t i = 0; i < Nt; ++i) {
            if (grow_u32(&sc->tmp, &sc->tmp_cap, n_syn + Ns) != MG_OK)
                goto nomem;
            sc->deg[i] = mg_micro_draw_bernoulli(seed, c0, c1, i, Ns, cn->thr, sc->tmp + n_syn);
            n_syn += sc->deg[i];
        }
    }
    /* 2. transpose into out-lists (CSR by source neuron); targets come out ascending */
    if (!cs->off) {
        cs->off = malloc((size_t)(Ns + 1) * sizeof *cs->off);
        if (!cs->off)
            goto nomem;
    }
    if (grow_u32(&cs->tgt, &cs->cap, n_syn > 0 ? n_syn : 1) != MG_OK)
        goto nomem;
    memset(cs->off, 0, (size_t)(Ns + 1) * sizeof *cs->off);
    for (int64_t e = 0; e < n_syn; ++e)
        cs->off[sc->tmp[e] + 1] += 1;
    for (uint32_t q = 0; q < Ns; ++q)
        cs->off[q + 1] += cs->off[q];
    memcpy(sc->pos, cs->off, (size_t)Ns * sizeof *sc->pos);
    int64_t e = 0;
    for (uint32_t i = 0; i < Nt; ++i)
        for (uint32_t k = 0; k < sc->deg[i]; ++k, ++e)
            cs->tgt[sc->pos[sc->tmp[e]]++] = i;
    return MG_OK;
nomem:
    return mg_err_set(err, MG_ENOMEM, "out of memory for the connectivity of projection %d "
                      "(try --connectivity shared)", cn->proj);
}

/* Validate projection i of m for the micro level at dt_ms (what the parser cannot know or a
 * hand-built model may break). */
static int check_proj(const mg_model *m, int i, double dt_ms, mg_err *err)
{
    const mg_proj *pr = &m->proj[i];
    if (pr->source < 0 || pr->source >= m->P)
        return mg_err_set(err, MG_EINVAL, "/projections/%d/source: unknown population (index "
                          "%d; allowed: one of the %d populations)", i, pr->source, m->P);
    if (pr->target < 0 || pr->target >= m->P)
        return mg_err_set(err, MG_EINVAL, "/projections/%d/target: unknown population (index "
                          "%d; allowed: one of the %d populations)", i, pr->target, m->P);
    const int64_t Ns = m->pops[pr->source].N;
    if (!(pr->p >= 0.0 && pr->p <= 1.0)) {
        if (pr->p > 1.0 && pr->rule != MG_RULE_PAIRWISE_BERNOULLI)
            return mg_err_set(err, MG_EINVAL, "/projections/%d/p: %g gives an in-degree "
                              "floor(p N) = %lld larger than the %lld neurons of source \"%s\" "
                              "(allowed: 0 <= p <= 1)", i, pr->p,
                              (long long)indegree(pr->p, Ns), (long long)Ns,
                              m->pops[pr->source].name);
        return mg_err_set(err, MG_EINVAL, "/projections/%d/p: %g (allowed: 0 <= p <= 1)", i,
                          pr->p);
    }
    if (pr->rule == MG_RULE_ALL_TO_ALL && pr->p != 1.0)
        return mg_err_set(err, MG_EINVAL, "/projections/%d/rule: \"all_to_all\" needs p = 1, "
                          "but p = %g (allowed: all_to_all with p = 1; fixed_indegree, "
                          "pairwise_bernoulli or auto for p < 1)", i, pr->p);
    if ((int)pr->rule < MG_RULE_AUTO || (int)pr->rule > MG_RULE_PAIRWISE_BERNOULLI)
        return mg_err_set(err, MG_EINVAL, "/projections/%d/rule: %d (allowed: auto, all_to_all, "
                          "fixed_indegree, pairwise_bernoulli)", i, (int)pr->rule);
    if (!(pr->delay >= dt_ms * (1.0 - 1e-9)))
        return mg_err_set(err, MG_EINVAL, "/projections/%d/delay: %g ms is shorter than the "
                          "time step dt = %g ms (allowed: >= dt)", i, pr->delay, dt_ms);
    /* compared as a double first: converting a larger one to an integer is undefined */
    if (!(pr->delay / dt_ms < 1e8))
        return mg_err_set(err, MG_EINVAL, "/projections/%d/delay: %g ms is %.4g steps of dt = "
                          "%g ms (allowed: fewer than 1e8 steps)", i, pr->delay,
                          pr->delay / dt_ms, dt_ms);
    if (!(pr->tau_syn >= 0.0) || !isfinite(pr->J))
        return mg_err_set(err, MG_EINVAL, "/projections/%d: tau_syn = %g ms, J = %g mV "
                          "(allowed: tau_syn >= 0, finite J)", i, pr->tau_syn, pr->J);
    return MG_OK;
}

/* Is projection i active at the micro level (any synapse with an effect)? */
static int proj_active(const mg_model *m, int i)
{
    const mg_proj *pr = &m->proj[i];
    if (pr->J == 0.0 || pr->p <= 0.0)
        return 0;
    int a2a = pr->rule == MG_RULE_ALL_TO_ALL || (pr->rule == MG_RULE_AUTO && pr->p == 1.0);
    if (!a2a && pr->rule != MG_RULE_PAIRWISE_BERNOULLI &&
        indegree(pr->p, m->pops[pr->source].N) == 0)
        return 0;
    return 1;
}

/* The limits of the micro level that the model file's checks do not cover. */
static int check_limits(const mg_model *m, double dt_ms, mg_err *err)
{
    const int P = m->P;
    if (P < 1 || P > MG_POP_MAX)
        return mg_err_set(err, MG_EINVAL, "/populations: %d populations (allowed: 1..%d)", P,
                          MG_POP_MAX);
    for (int a = 0; a < P; ++a) {
        if (m->pops[a].n_sfa > MG_MICRO_SFA_MAX)
            return mg_err_set(err, MG_EINVAL, "/populations/%d/tau_sfa: %d kernels (allowed: "
                              "0..%d)", a, m->pops[a].n_sfa, MG_MICRO_SFA_MAX);
        if (m->pops[a].N < 1 || m->pops[a].N > 0x7fffffffLL)
            return mg_err_set(err, MG_EINVAL, "/populations/%d/N: %lld neurons (allowed at the "
                              "micro level: 1..2^31-1)", a, (long long)m->pops[a].N);
        /* refractory steps are compared as a double before anything is converted */
        if (!(m->pops[a].t_ref / dt_ms < 4294967295.0))
            return mg_err_set(err, MG_EINVAL, "/populations/%d/t_ref: %g ms is %.4g steps of dt "
                              "= %g ms (allowed: fewer than 2^32 steps)", a, m->pops[a].t_ref,
                              m->pops[a].t_ref / dt_ms, dt_ms);
    }
    for (int i = 0; i < m->n_proj; ++i) {
        int rc = check_proj(m, i, dt_ms, err);
        if (rc != MG_OK)
            return rc;
    }
    return MG_OK;
}

/* The active projections: delay, propagator, kind (and the lists' connectivity rules). Returns
 * how many; *n_list_out: how many of them are lists. */
static int derive_projs(const mg_model *m, double dt_ms, mg_micro_derived *d, int *n_list_out)
{
    const double dt_s = dt_ms * 1e-3;
    int k = 0, n_list = 0;
    for (int i = 0; i < m->n_proj; ++i) {
        if (!proj_active(m, i))
            continue;
        const mg_proj *pr = &m->proj[i];
        const mg_pop *post = &m->pops[pr->target];
        mg_micro_proj *pj = &d->proj[k++];
        pj->src = pr->source;
        pj->tgt = pr->target;
        int D = (int)llround(pr->delay / dt_ms);
        pj->D = D < 1 ? 1 : D;
        const double tau_m = post->tau_m * 1e-3, tau_s = pr->tau_syn * 1e-3;
        const double E_m = exp(-dt_s / tau_m);
        /* G = J F / tau_s with F of MODEL.md §1.3: the voltage increment per unit of trace
         * (exact integration of the exponential current over a step). tau_s -> 0 gives J E_m
         * (the PSP of a delta synapse arriving at the start of the step, decayed over it);
         * tau_s = tau_m (to 1e-6 relative, where the quotient has lost ~10 digits) the limit
         * J (dt/tau_m) E_m (MODEL.md pitfall 2). */
        if (tau_s <= 0.0) {
            pj->E_s = 0.0;
            pj->G = pr->J * E_m;
        } else {
            double E_s = exp(-dt_s / tau_s);
            pj->E_s = E_s;
            if (fabs(tau_s - tau_m) <= 1e-6 * tau_m)
                pj->G = pr->J * dt_s / tau_m * E_m;
            else
                pj->G = pr->J * tau_m * (E_s - E_m) / (tau_s - tau_m);
        }
        int a2a = pr->rule == MG_RULE_ALL_TO_ALL || (pr->rule == MG_RULE_AUTO && pr->p == 1.0);
        if (a2a) {
            pj->kind = MG_MICRO_A2A;
            pj->conn = -1;
        } else {
            pj->kind = MG_MICRO_LIST;
            pj->conn = n_list;
            mg_micro_conn *cn = &d->conn[n_list++];
            cn->proj = i;
            cn->N_src = (uint32_t)m->pops[pr->source].N;
            cn->N_tgt = (uint32_t)post->N;
            if (pr->rule == MG_RULE_PAIRWISE_BERNOULLI) {
                cn->rule = MG_RULE_PAIRWISE_BERNOULLI;
                cn->thr = (uint64_t)llround(pr->p * 4294967296.0);
                cn->mean_syn = pr->p * (double)cn->N_src * (double)cn->N_tgt;
            } else {
                cn->rule = MG_RULE_FIXED_INDEGREE;
                cn->C = (uint32_t)indegree(pr->p, m->pops[pr->source].N);
                cn->mean_syn = (double)cn->C * (double)cn->N_tgt;
            }
        }
    }
    *n_list_out = n_list;
    return k;
}

/* Per population: constants, history depth, Philox blocks, spike-list offsets. Returns the
 * Philox blocks of all populations (the caller checks their range). */
static int64_t derive_pops(const mg_model *m, double dt_ms, mg_micro_derived *d, int n_proj)
{
    const double dt_s = dt_ms * 1e-3;
    int64_t blk = 0, spk = 0;
    for (int a = 0; a < m->P; ++a) {
        const mg_pop *p = &m->pops[a];
        mg_micro_pop *q = &d->pop[a];
        const double tau_m = p->tau_m * 1e-3;
        q->N = p->N;
        q->blk0 = blk;
        blk += (p->N + 3) / 4;
        q->E_m = exp(-dt_s / tau_m);
        q->one_m_E_m = -expm1(-dt_s / tau_m);
        q->mu_drive = mg_pop_mu(p) * q->one_m_E_m;
        q->u_r = p->V_reset;
        q->u_th = p->V_T_star;
        q->inv_Delta = 1.0 / p->Delta_V;
        q->c_dt = p->lambda_0 * dt_s;
        q->R = nearbyint(p->t_ref / dt_ms); /* range-checked in mg_micro_setup */
        q->n_sfa = p->n_sfa;
        for (int r = 0; r < p->n_sfa; ++r) {
            q->E_th[r] = exp(-dt_ms / p->tau_sfa[r]);
            q->jump[r] = p->q_sfa[r];
        }
        q->H = 1;
        for (int j = 0; j < n_proj; ++j)
            if (d->proj[j].src == a && d->proj[j].D > q->H)
                q->H = d->proj[j].D;
        q->spk_off = spk;
        spk += (int64_t)q->H * p->N;
        if (p->N > d->max_N)
            d->max_N = p->N;
    }
    d->spk_elems = spk;
    return blk;
}

/* The state rows of a realization: per population, then the projections' traces, then (cold)
 * the park rows. Returns the row count, or -1 beyond MG_MICRO_ROWS_MAX. */
static int64_t layout_rows(const mg_job *job, mg_micro_derived *d, int n_proj)
{
    const mg_model *m = job->model;
    const int P = m->P;
    const double dt_ms = job->opts.dt_ms;
    int64_t row = 0;
    for (int a = 0; a < P; ++a) {
        mg_micro_pop *q = &d->pop[a];
        const int64_t N = q->N;
        q->row_u = (int)row;
        row += N;
        q->row_ref = (int)row;
        row += N;
        q->row_th = (int)row;
        row += (int64_t)q->n_sfa * N;
        q->row_hist = (int)row;
        row += q->H;
        q->row_psi = (int)row;
        row += 1;
        q->row_isi = (int)row;
        row += job->SL.cfg.isi_bins + 5;
        const mg_pop *pm = &m->pops[a];
        q->row_ou = pm->has_ou && pm->ou_independent ? (int)row++ : -1;
        mg_stim_ou_of(pm, dt_ms, &q->ou);
        if (row > MG_MICRO_ROWS_MAX)
            break;
    }
    for (int j = 0; j < n_proj && row <= MG_MICRO_ROWS_MAX; ++j) {
        mg_micro_proj *pj = &d->proj[j];
        pj->row_s = (int)row;
        if (pj->kind == MG_MICRO_A2A) {
            row += 1;
            pj->row_g = (int)row;
            row += 1;
        } else {
            row += d->pop[pj->tgt].N;
            pj->row_g = -1;
        }
    }
    /* last, so that they stay cold: the spike lists of a parked realization */
    for (int a = 0; a < P && row <= MG_MICRO_ROWS_MAX; ++a) {
        d->pop[a].row_park = (int)row;
        row += (int64_t)d->pop[a].H * d->pop[a].N;
    }
    return row > MG_MICRO_ROWS_MAX ? -1 : row;
}

/* The incoming inputs of each population, in source order (stable: file order for equal
 * sources). */
static void derive_inputs(mg_micro_derived *d, int P, int n_proj)
{
    int at = 0;
    for (int a = 0; a < P; ++a) {
        mg_micro_pop *q = &d->pop[a];
        q->in_first = at;
        for (int b = 0; b < P; ++b) {
            for (int j = 0; j < n_proj; ++j) {
                const mg_micro_proj *pj = &d->proj[j];
                if (pj->tgt != a || pj->src != b)
                    continue;
                mg_micro_in *in = &d->in[at++];
                if (pj->kind == MG_MICRO_A2A) {
                    in->row = pj->row_g;
                    in->stride = 0;
                    in->G = 1.0;
                    in->E = 1.0;
                } else {
                    in->row = pj->row_s;
                    in->stride = 1;
                    in->G = pj->G;
                    in->E = pj->E_s;
                    q->n_list_in++;
                }
            }
        }
        q->in_count = at - q->in_first;
    }

}

/* The arrays of the derived network of model m: its populations and its active projections
 * (with their inputs and connectivity). 0, or -1 when out of memory (mg_micro_free frees what
 * was allocated). */
static int derived_alloc(mg_micro_derived *d, const mg_model *m)
{
    int n_act = 0;
    for (int i = 0; i < m->n_proj; ++i)
        n_act += proj_active(m, i);
    d->pop = calloc((size_t)m->P, sizeof *d->pop);
    d->proj = calloc((size_t)(n_act > 0 ? n_act : 1), sizeof *d->proj);
    d->in = calloc((size_t)(n_act > 0 ? n_act : 1), sizeof *d->in);
    d->conn = calloc((size_t)(n_act > 0 ? n_act : 1), sizeof *d->conn);
    return d->pop && d->proj && d->in && d->conn ? 0 : -1;
}

/* The per-step model d->mm of the job: the derived populations, projections and inputs, the
 * state rows, the ISI histogram and the input tables it (owned by d). */
static void fill_step_model(const mg_job *job, mg_micro_derived *d, const mg_inp_tables *it,
                            int n_proj, int n_list, int64_t row)
{
    const double dt_ms = job->opts.dt_ms;
    d->mm.P = job->model->P;
    d->mm.n_proj = n_proj;
    d->mm.n_list = n_list;
    d->mm.rows = (int)row;
    d->mm.isi_bins = job->SL.cfg.basic ? 0 : job->SL.cfg.isi_bins; /* 0: not counted */
    d->mm.isi_bin_s = job->SL.cfg.isi_max_s / job->SL.cfg.isi_bins;
    d->mm.dt_s = dt_ms * 1e-3;
    d->mm.isi_t0 = ceil(job->opts.t_warmup_ms / dt_ms - 1e-9);
    d->mm.seed = job->opts.seed;
    d->mm.pop = d->pop;
    d->mm.proj = d->proj;
    d->mm.in = d->in;
    MG_INP_TABLES_VIEW(&d->mm, it);
}

int mg_micro_setup(mg_job *job, mg_err *err)
{
    const mg_model *m = job->model;
    const double dt_ms = job->opts.dt_ms;
    const int P = m->P;
    int rc = check_limits(m, dt_ms, err);
    if (rc != MG_OK)
        return rc;
    mg_micro_derived *d = calloc(1, sizeof *d);
    if (!d)
        return mg_err_set(err, MG_ENOMEM, "out of memory while deriving the micro network");
    job->mi = d;
    if (derived_alloc(d, m) != 0) {
        rc = mg_err_set(err, MG_ENOMEM, "out of memory while deriving the micro network");
        goto fail;
    }
    int n_list;
    const int n_proj = derive_projs(m, dt_ms, d, &n_list);
    const int64_t blk = derive_pops(m, dt_ms, d, n_proj);
    if (blk > 0xffffffffLL) {
        rc = mg_err_set(err, MG_EINVAL, "/populations: %lld neurons in total (allowed at the micro "
                   "level: < 2^34)", (long long)(blk * 4));
        goto fail;
    }
    const int64_t row = layout_rows(job, d, n_proj);
    if (row < 0) {
        rc = mg_err_set(err, MG_EINVAL, "/populations: the network needs more than %d state rows "
                   "per realization (allowed: fewer neurons, adaptation kernels or list "
                   "projections)", MG_MICRO_ROWS_MAX);
        goto fail;
    }
    derive_inputs(d, P, n_proj);

    /* external input (src/model/stimulus.c): step currents and stimuli in mV, as the meso */
    mg_inp_tables it;
    rc = mg_inp_tables_build(m, dt_ms, job->n_steps, job->opts.seed, &it, err);
    if (rc != MG_OK)
        goto fail;
    MG_INP_TABLES_VIEW(d, &it); /* d owns them from here */
    d->n_inp = it.n;
    fill_step_model(job, d, &it, n_proj, n_list, row);
    job->dyn_rows = (int)row;

    /* a network shared by the ensemble is drawn once, by mg_micro_draw_shared: not here, so
     * that --dry-run and the memory check before a run do not draw it */
    d->shared = job->opts.connectivity == MG_CONN_SHARED;
    return MG_OK;

fail:
    mg_micro_free(job);
    return rc;
}

int mg_micro_draw_shared(mg_job *job, mg_err *err)
{
    mg_micro_derived *d = job->mi;
    const int n_list = d->mm.n_list;
    if (!d->shared || n_list == 0 || d->shared_csr)
        return MG_OK;
    d->shared_csr = calloc((size_t)n_list, sizeof *d->shared_csr);
    mg_micro_scratch sc;
    if (!d->shared_csr || mg_micro_scratch_alloc(d, &sc) != MG_OK)
        return mg_err_set(err, MG_ENOMEM, "out of memory while drawing the shared network");
    int rc = MG_OK;
    for (int c = 0; c < n_list && rc == MG_OK; ++c)
        rc = mg_micro_build_csr(d, c, 0, 1, &d->shared_csr[c], &sc, err);
    mg_micro_scratch_free(&sc);
    return rc; /* on failure mg_micro_free releases what was drawn */
}

void mg_micro_memory(const mg_job *job, double *per_realization, double *shared)
{
    const mg_micro_derived *d = job->mi;
    *per_realization = 0.0;
    *shared = 0.0;
    if (!d)
        return;
    /* spike lists of the last H steps */
    double per = 4.0 * (double)d->spk_elems;
    double net = 0.0, scratch = 0.0;
    for (int c = 0; c < d->mm.n_list; ++c) {
        const mg_micro_conn *cn = &d->conn[c];
        double bytes = 8.0 * ((double)cn->N_src + 1.0) + 4.0 * cn->mean_syn;
        net += bytes;
        if (4.0 * cn->mean_syn > scratch)
            scratch = 4.0 * cn->mean_syn; /* in-lists while building, per thread */
    }
    if (d->shared)
        *shared = net;
    else
        per += net + scratch / MG_VL;
    *per_realization = per;
}

int mg_micro_resolved(const mg_job *job, mg_resolved **list, int *n, mg_err *err)
{
    const mg_micro_derived *d = job->mi;
    const mg_model *m = job->model;
    int rc = MG_OK;
    rc |= mg_resolved_push(list, n, NULL, d->shared, "micro_connectivity_shared");
    for (int a = 0; a < m->P && rc == MG_OK; ++a) {
        const mg_micro_pop *q = &d->pop[a];
        const char *nm = m->pops[a].name;
        rc |= mg_resolved_push_pop(list, n, m, a, q->R, q->H, q->E_m);
        rc |= mg_resolved_push(list, n, nm, q->c_dt, "lambda_0_dt");
        for (int r = 0; r < q->n_sfa; ++r)
            rc |= mg_resolved_push(list, n, nm, q->E_th[r], "E_theta_%d", r);
    }
    for (int j = 0; j < d->mm.n_proj && rc == MG_OK; ++j) {
        const mg_micro_proj *pj = &d->proj[j];
        const char *nm = m->pops[pj->tgt].name, *src = m->pops[pj->src].name;
        rc |= mg_resolved_push(list, n, nm, pj->D, "from_%s/D_steps", src);
        rc |= mg_resolved_push(list, n, nm, pj->G, "from_%s/G_mV", src);
        rc |= mg_resolved_push(list, n, nm, pj->E_s, "from_%s/E_s", src);
        rc |= mg_resolved_push(list, n, nm, pj->kind == MG_MICRO_A2A, "from_%s/all_to_all", src);
        if (pj->kind == MG_MICRO_LIST) {
            const mg_micro_conn *cn = &d->conn[pj->conn];
            if (cn->rule == MG_RULE_FIXED_INDEGREE)
                rc |= mg_resolved_push(list, n, nm, cn->C, "from_%s/indegree", src);
            else
                rc |= mg_resolved_push(list, n, nm, (double)cn->thr / 4294967296.0,
                                       "from_%s/bernoulli_p", src);
        }
    }
    if (rc != MG_OK)
        return mg_err_set(err, MG_ENOMEM, "out of memory listing derived parameters");
    return MG_OK;
}

const char *mg_micro_state_invalid(const mg_job *job, const double *x)
{
    const mg_micro_model *mm = &job->mi->mm;
    for (int a = 0; a < mm->P; ++a) {
        const mg_micro_pop *pp = &mm->pop[a];
        const double N = (double)pp->N;
        for (int h = 0; h < pp->H; ++h) {
            const double cnt = x[pp->row_hist + h];
            if (!(cnt >= 0.0 && cnt <= N && cnt == floor(cnt)))
                return "a spike count of the history is not a whole number in [0, N]";
            for (int64_t q = 0; q < (int64_t)cnt; ++q) {
                const double id = x[pp->row_park + (int64_t)h * pp->N + q];
                if (!(id >= 0.0 && id < N && id == floor(id)))
                    return "a parked spike names no neuron of its population";
            }
        }
        for (int k = 0; k < mm->isi_bins + 3; ++k)
            if (!(x[pp->row_isi + k] >= 0.0 && x[pp->row_isi + k] <= 9007199254740992.0))
                return "an interval count is negative, not a number or too large";
    }
    return NULL;
}
