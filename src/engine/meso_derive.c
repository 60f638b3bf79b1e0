/* src/engine/meso_derive.c: per-step constants of the mesoscopic model (MODEL.md §2.2), computed once on
 * the host in double precision with libm and then shared by every backend. */
#include "engine/meso_derive.h"
#include "util/free_all.h"
#include "model/stimulus.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* theta_kernel(t) = sum_r q_sfa_r exp(-t/tau_sfa_r) (mV), t in ms (MODEL.md §1.1). */
static double theta_kernel(const mg_pop *p, double t_ms)
{
    double s = 0.0;
    for (int r = 0; r < p->n_sfa; ++r)
        s += p->q_sfa[r] * exp(-t_ms / p->tau_sfa[r]);
    return s;
}

/* Upper bound of |theta_kernel(t)| that decreases with t: sum_r |q_sfa_r| exp(-t/tau_sfa_r). */
static double theta_bound(const mg_pop *p, double t_ms)
{
    double s = 0.0;
    for (int r = 0; r < p->n_sfa; ++r)
        s += fabs(p->q_sfa[r]) * exp(-t_ms / p->tau_sfa[r]);
    return s;
}

/* The last step k in (k_min, k_start] where the adaptation kernel is still at least
 * 0.1 Delta_V (k_min when there is none): the scan down from k_start of GetHistoryLength. The
 * scan passes every step where even the bound is below 0.1 Delta_V; the bound decreases, so
 * those steps are all beyond some k: find it by bisection (for kernels with q_sfa >= 0 the
 * bound is the kernel and the scan stops at once after it). */
static int64_t kernel_end(const mg_pop *p, double dt_ms, int64_t k_min, int64_t k)
{
    if (k > k_min && theta_bound(p, (double)k * dt_ms) / p->Delta_V < 0.1) {
        int64_t lo = k_min, hi = k; /* bound(hi) < 0.1 Delta_V; lo is the scan's floor */
        while (hi - lo > 1) {
            int64_t mid = lo + (hi - lo) / 2;
            if (theta_bound(p, (double)mid * dt_ms) / p->Delta_V < 0.1)
                hi = mid;
            else
                lo = mid;
        }
        k = hi;
    }
    while (k > k_min && theta_kernel(p, (double)k * dt_ms) / p->Delta_V < 0.1)
        --k;
    return k;
}

/* The automatic history length (len_kernel = -1) of population p (index for messages) with a
 * refractory period of R steps, into *k_out. GetHistoryLength (Fig. 11 of Schwalger et al.
 * 2017; S1 get_history_size): the window covers 5 tau_m and the part of the adaptation kernel
 * above 0.1 Delta_V, at most 20 s. */
static int auto_history(const mg_pop *p, int index, double dt_ms, int R, int64_t *k_out,
                        mg_err *err)
{
    const double K_max = (double)MG_MESO_K_MAX;
    const double k_top = floor(20000.0 / dt_ms), k_min_d = floor(5.0 * p->tau_m / dt_ms);
    if (!(k_min_d <= K_max))
        return mg_err_set(err, MG_EINVAL,
                          "/populations/%d/len_kernel: the automatic history covers 5 tau_m "
                          "= %g ms, %.4g steps of dt = %g ms (allowed: <= %d steps; a "
                          "larger dt)", index, 5.0 * p->tau_m, k_min_d, dt_ms,
                          MG_MESO_K_MAX);
    const int64_t k_min = (int64_t)k_min_d;
    int64_t k;
    if (k_top > K_max) {
        /* The scan would start more than 1e8 steps back (dt < 0.2 us): skip the steps beyond
         * K_max when the kernel's decreasing bound shows that the scan passes them all (the
         * result is then the same), else the history is too long anyway. */
        if (!(theta_bound(p, (K_max + 1.0) * dt_ms) / p->Delta_V < 0.1))
            return mg_err_set(err, MG_EINVAL,
                              "/populations/%d/len_kernel: the adaptation kernel is still "
                              "%g mV (>= 0.1 Delta_V) after %d steps of dt = %g ms: the "
                              "automatic history is longer (allowed: <= %d steps; a larger "
                              "dt, shorter tau_sfa or an explicit len_kernel)", index,
                              theta_bound(p, (K_max + 1.0) * dt_ms), MG_MESO_K_MAX, dt_ms,
                              MG_MESO_K_MAX);
        k = (int64_t)MG_MESO_K_MAX + 1;
    } else {
        k = (int64_t)k_top;
    }
    k = kernel_end(p, dt_ms, k_min, k);
    if ((double)k * dt_ms <= p->t_ref)
        k = (int64_t)floor(p->t_ref / dt_ms) + 1;
    if (k <= R) /* at least one cohort must be able to fire */
        k = R + 1;
    *k_out = k;
    return MG_OK;
}

int mg_meso_history_length(const mg_pop *p, int index, double dt_ms, int *K_out, int *R_out,
                           mg_err *err)
{
    /* Lengths in steps are first compared as doubles: with a tiny dt or a huge t_ref they are
     * far beyond the range of any integer type (converting them would be undefined). */
    const double K_max = (double)MG_MESO_K_MAX;
    const double R_d = nearbyint(p->t_ref / dt_ms);
    if (!(R_d < K_max))
        return mg_err_set(err, MG_EINVAL,
                          "/populations/%d/t_ref: %g ms is %.4g steps of dt = %g ms (allowed: "
                          "fewer than %d steps, the longest history)", index, p->t_ref, R_d,
                          dt_ms, MG_MESO_K_MAX);
    const int R = (int)R_d;
    int64_t k = 0;
    if (p->len_kernel >= 1) {
        k = p->len_kernel;
        if (k <= R)
            return mg_err_set(err, MG_EINVAL,
                              "/populations/%d/len_kernel: %lld steps do not reach past the "
                              "refractory period of %d steps (allowed: -1 or >= %d)",
                              index, (long long)k, R, R + 1);
    } else {
        int rc = auto_history(p, index, dt_ms, R, &k, err);
        if (rc != MG_OK)
            return rc;
    }
    if (k > MG_MESO_K_MAX)
        return mg_err_set(err, MG_EINVAL,
                          "/populations/%d/len_kernel: %lld steps of history is too long "
                          "(allowed: <= 1e8 steps)", index, (long long)k);
    *K_out = (int)k;
    *R_out = R;
    return MG_OK;
}

/* History lengths, refractory steps and delay buffers of every population, and the state rows
 * and kernel values of the derived model, checked against the limits before anything is
 * allocated (the layout is that of mg_meso_derive below: 5 K cohort rows, x, z, h, lambda_free,
 * psi, the n_sfa adaptation variables, P synaptic inputs, the H-step activity history and, with
 * an independent OU current, its deviation). */
_Static_assert(MG_MESO_POP_MAX == MG_POP_MAX, "src/core/meso.h sizes its lane-block scratch by MG_POP_MAX");

/* 1 when population p carries the state row of an independent OU current (src/core/stim_ou.h) */
static int has_ou_row(const mg_pop *p)
{
    return p->has_ou && p->ou_independent;
}

static int meso_sizes(const mg_model *m, double dt_ms, int *K, int *R, int *H, int64_t *rows,
                      int64_t *n_kernels, mg_err *err)
{
    const int P = m->P;
    if (P < 1 || P > MG_POP_MAX)
        return mg_err_set(err, MG_EINVAL, "/populations: %d populations (allowed: 1..%d)", P,
                          MG_POP_MAX);
    for (int b = 0; b < P; ++b)
        H[b] = 1;
    /* delays in whole steps, >= 1 (MODEL.md §1.3, pitfall 11: round, not truncate) */
    for (int i = 0; i < m->n_proj; ++i) {
        const mg_proj *pr = &m->proj[i];
        if (!(pr->delay >= dt_ms * (1.0 - 1e-9)))
            return mg_err_set(err, MG_EINVAL,
                              "/projections/%d/delay: %g ms is shorter than the time step "
                              "dt = %g ms (allowed: >= dt)", i, pr->delay, dt_ms);
        if (!(pr->delay / dt_ms < (double)MG_MESO_K_MAX))
            return mg_err_set(err, MG_EINVAL,
                              "/projections/%d/delay: %g ms is %.4g steps of dt = %g ms "
                              "(allowed: fewer than %d steps)", i, pr->delay,
                              pr->delay / dt_ms, dt_ms, MG_MESO_K_MAX);
        if (pr->source < 0 || pr->source >= P || pr->target < 0 || pr->target >= P)
            return mg_err_set(err, MG_EINVAL, "/projections/%d: population index out of range "
                              "(allowed: 0..%d)", i, P - 1);
        int D = (int)llround(pr->delay / dt_ms);
        if (D > H[pr->source])
            H[pr->source] = D;
    }
    int64_t row = 0, n_k = 0;
    for (int a = 0; a < P; ++a) {
        int rc = mg_meso_history_length(&m->pops[a], a, dt_ms, &K[a], &R[a], err);
        if (rc != MG_OK)
            return rc;
        n_k += 2 * (int64_t)K[a];
        row += 5 * (int64_t)K[a] + 5 + m->pops[a].n_sfa + P + H[a] + has_ou_row(&m->pops[a]);
    }
    if (row > MG_ROWS_MAX)
        return mg_err_set(err, MG_EINVAL, "/populations: the mesoscopic state of one realization "
                          "would have %lld rows (allowed: <= %lld; shorter len_kernel or "
                          "delays, or a larger dt)", (long long)row, (long long)MG_ROWS_MAX);
    *rows = row;
    *n_kernels = n_k;
    return MG_OK;
}

int mg_meso_size(const mg_model *m, double dt_ms, int64_t *rows, int64_t *n_kernels,
                 mg_err *err)
{
    int K[MG_POP_MAX], R[MG_POP_MAX], H[MG_POP_MAX];
    return meso_sizes(m, dt_ms, K, R, H, rows, n_kernels, err);
}

void mg_meso_derived_free(mg_meso_derived *d)
{
    if (!d)
        return;
    MG_FREE_ALL(d->pop, d->kernels, d->pair_w, d->pair_Es, d->pair_F, d->pair_D, d->inp_first,
                d->inp_count, d->inp_step, d->inp_mV);
    memset(d, 0, sizeof *d);
}

int mg_meso_derive(const mg_model *m, double dt_ms, int noise, uint32_t seed,
                   mg_meso_derived *out, mg_err *err)
{
    return mg_meso_derive_run(m, dt_ms, noise, seed, -1, out, err);
}

/* The constants of every projection b -> a (MODEL.md §2.2) into d's [P][P] tables. */
static void derive_pairs(const mg_model *m, double dt_ms, mg_meso_derived *d)
{
    const int P = m->P;
    const double dt_s = dt_ms * 1e-3;
    for (int i = 0; i < P * P; ++i)
        d->pair_D[i] = 1;
    for (int i = 0; i < m->n_proj; ++i) {
        const mg_proj *pr = &m->proj[i];
        const mg_pop *post = &m->pops[pr->target], *pre = &m->pops[pr->source];
        const int ab = pr->target * P + pr->source;
        double tau_m_s = post->tau_m * 1e-3, tau_s_s = pr->tau_syn * 1e-3;
        double E_m = exp(-dt_s / tau_m_s);
        /* mean-field coupling of MODEL.md §2.2: w = J p N_pre tau_m (mV s) */
        d->pair_w[ab] = pr->J * pr->p * (double)pre->N * tau_m_s;
        if (tau_s_s <= 0.0) {
            d->pair_Es[ab] = 0.0;
            d->pair_F[ab] = 0.0; /* delta synapse: y = A within the step */
        } else {
            double E_s = exp(-dt_s / tau_s_s);
            d->pair_Es[ab] = E_s;
            /* exact integration of the filtered input; at tau_s == tau_m the quotient is 0/0
             * and the limit (dt/tau_m) E_m is used instead (MODEL.md pitfall 2). Within a
             * relative distance of 1e-6 the quotient has lost ~10 digits, the limit formula
             * is off by O(1e-6 dt/tau_m): take the limit there. */
            if (fabs(tau_s_s - tau_m_s) <= 1e-6 * tau_m_s)
                d->pair_F[ab] = dt_s / tau_m_s * E_m;
            else
                d->pair_F[ab] = tau_s_s * (E_s - E_m) / (tau_s_s - tau_m_s);
        }
        int D = (int)llround(pr->delay / dt_ms);
        d->pair_D[ab] = D < 1 ? 1 : D;
        if (d->pair_w[ab] == 0.0)
            d->pair_D[ab] = 1; /* inactive (J = 0 or p = 0): no history needed */
    }
}

/* Population a's constants and kernels (q->K, q->R, q->theta_off set; theta at
 * kernels + theta_off), and its state rows from *row on (the layout meso_sizes counts). */
static void derive_pop(const mg_pop *p, int P, double dt_ms, int H, double *kernels,
                       mg_meso_pop *q, int *row)
{
    const int K = q->K;
    const double dt_s = dt_ms * 1e-3, tau_m_s = p->tau_m * 1e-3;
    q->N = (double)p->N;
    q->N_int = p->N;
    q->inv_N = 1.0 / q->N;
    q->dt_s = dt_s;
    q->inv_N_dt = 1.0 / (q->N * dt_s);
    q->E_m = exp(-dt_s / tau_m_s);
    q->one_m_E_m = -expm1(-dt_s / tau_m_s);
    q->mu_drive = mg_pop_mu(p) * q->one_m_E_m;
    q->u_th = p->V_T_star;
    q->u_r = p->V_reset;
    q->c_hz = p->lambda_0;
    q->inv_Delta = 1.0 / p->Delta_V;
    q->half_dt = 0.5 * dt_s;
    q->n_sfa = p->n_sfa;
    q->H = H;
    for (int r = 0; r < p->n_sfa; ++r) {
        double J_theta = p->q_sfa[r] * p->tau_sfa[r] * 1e-3; /* mV s */
        q->Q[r] = exp(-dt_ms / p->tau_sfa[r]);
        q->Qtail[r] = J_theta * exp(-(double)K * dt_ms / p->tau_sfa[r]);
    }
    double *theta = kernels + q->theta_off, *theta_tilde = theta + K;
    for (int l = 0; l < K; ++l) {
        /* cohort l is K - l steps old; theta(m dt) at age m (MODEL.md pitfall 9) */
        theta[l] = theta_kernel(p, (double)(K - l) * dt_ms);
        theta_tilde[l] = p->Delta_V * (-expm1(-theta[l] / p->Delta_V));
    }
    q->theta_tilde0 = theta_tilde[0];
    int at = *row;
    q->row_n = at;
    q->row_m = at + K;
    q->row_v = at + 2 * K;
    q->row_u = at + 3 * K;
    q->row_lam = at + 4 * K;
    at += 5 * K;
    q->row_x = at++;
    q->row_z = at++;
    q->row_h = at++;
    q->row_lamf = at++;
    q->row_psi = at++;
    q->row_g = at;
    at += p->n_sfa;
    q->row_y = at;
    at += P;
    q->row_hist = at;
    at += q->H;
    q->row_ou = has_ou_row(p) ? at++ : -1;
    mg_stim_ou_of(p, dt_ms, &q->ou);
    *row = at;
}

/* The model view of d (pointers into d's tables; it: the input tables d owns). */
static void point_model(mg_meso_derived *d, const mg_inp_tables *it, int P, int rows, int noise,
                        uint32_t seed)
{
    d->mm.P = P;
    d->mm.rows = rows;
    d->mm.noise = noise;
    d->mm.seed = seed;
    d->mm.pop = d->pop;
    d->mm.kernels = d->kernels;
    d->mm.pair_w = d->pair_w;
    d->mm.pair_Es = d->pair_Es;
    d->mm.pair_F = d->pair_F;
    d->mm.pair_D = d->pair_D;
    MG_INP_TABLES_VIEW(&d->mm, it);
}

int mg_meso_derive_run(const mg_model *m, double dt_ms, int noise, uint32_t seed,
                       int64_t n_steps, mg_meso_derived *out, mg_err *err)
{
    mg_meso_derived d;
    memset(&d, 0, sizeof d);
    memset(out, 0, sizeof *out);
    const int P = m->P;
    /* every size checked before anything is allocated */
    int Ks[MG_POP_MAX], Rs[MG_POP_MAX], Hs[MG_POP_MAX];
    int64_t rows_total, n_k_total;
    int rc = meso_sizes(m, dt_ms, Ks, Rs, Hs, &rows_total, &n_k_total, err);
    if (rc != MG_OK)
        return rc;
    d.pop = calloc((size_t)P, sizeof *d.pop);
    d.pair_w = calloc((size_t)P * P, sizeof(double));
    d.pair_Es = calloc((size_t)P * P, sizeof(double));
    d.pair_F = calloc((size_t)P * P, sizeof(double));
    d.pair_D = calloc((size_t)P * P, sizeof(int));
    d.kernels = malloc((size_t)(n_k_total > 0 ? n_k_total : 1) * sizeof(double));
    if (!d.pop || !d.pair_w || !d.pair_Es || !d.pair_F || !d.pair_D || !d.kernels) {
        mg_meso_derived_free(&d);
        return mg_err_set(err, MG_ENOMEM, "out of memory while deriving the mesoscopic model");
    }
    d.n_kernels = n_k_total;
    derive_pairs(m, dt_ms, &d);
    int row = 0;
    int64_t n_k = 0;
    for (int a = 0; a < P; ++a) {
        d.pop[a].K = Ks[a];
        d.pop[a].R = Rs[a];
        d.pop[a].theta_off = n_k;
        n_k += 2 * (int64_t)Ks[a];
        derive_pop(&m->pops[a], P, dt_ms, Hs[a], d.kernels, &d.pop[a], &row);
    }
    if ((int64_t)row != rows_total || n_k != n_k_total) { /* meso_sizes describes this layout */
        mg_meso_derived_free(&d);
        return mg_err_set(err, MG_EINVAL, "internal error: %d state rows laid out, %lld "
                          "expected", row, (long long)rows_total);
    }
    /* external input (src/model/stimulus.c): step currents and stimuli in mV, per-step tables for
     * the time-dependent stimuli */
    mg_inp_tables it;
    rc = mg_inp_tables_build(m, dt_ms, n_steps, seed, &it, err);
    if (rc != MG_OK) {
        mg_meso_derived_free(&d);
        return rc;
    }
    MG_INP_TABLES_VIEW(&d, &it); /* d owns them from here */
    d.n_inp = it.n;
    point_model(&d, &it, P, row, noise, seed);
    *out = d;
    return MG_OK;
}

int mg_resolved_push(mg_resolved **list, int *n, const char *pop, double v, const char *fmt, ...)
{
    char name[MG_NAME_MAX + 64]; /* the part after "<pop>/" */
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(name, sizeof name, fmt, ap);
    va_end(ap);
    mg_resolved *l = realloc(*list, (size_t)(*n + 1) * sizeof **list);
    if (!l)
        return MG_ENOMEM;
    snprintf(l[*n].name, sizeof l[*n].name, "%s%s%s", pop ? pop : "", pop ? "/" : "", name);
    l[*n].value = v;
    *list = l;
    ++*n;
    return MG_OK;
}

int mg_resolved_push_pop(mg_resolved **list, int *n, const mg_model *m, int a, double R, double H,
                         double E_m)
{
    const char *nm = m->pops[a].name;
    int rc = mg_resolved_push(list, n, nm, R, "R");
    rc |= mg_resolved_push(list, n, nm, H, "H");
    rc |= mg_resolved_push(list, n, nm, mg_pop_mu(&m->pops[a]), "mu_mV");
    rc |= mg_resolved_push(list, n, nm, E_m, "E_m");
    return rc;
}

int mg_meso_resolved(const mg_model *m, const mg_meso_derived *d, mg_resolved **list, int *n,
                     mg_err *err)
{
    int rc = MG_OK;
    const int P = m->P;
    for (int a = 0; a < P && rc == MG_OK; ++a) {
        const mg_meso_pop *q = &d->pop[a];
        const char *nm = m->pops[a].name;
        rc |= mg_resolved_push(list, n, nm, q->K, "K");
        rc |= mg_resolved_push_pop(list, n, m, a, q->R, q->H, q->E_m);
        rc |= mg_resolved_push(list, n, nm, q->theta_tilde0, "theta_tilde_0_mV");
        for (int r = 0; r < q->n_sfa; ++r) {
            rc |= mg_resolved_push(list, n, nm, q->Q[r], "Q_%d", r);
            rc |= mg_resolved_push(list, n, nm, q->Qtail[r], "Qtail_%d_mVs", r);
        }
        for (int b = 0; b < P; ++b) {
            const int ab = a * P + b;
            const char *src = m->pops[b].name;
            if (d->pair_w[ab] == 0.0)
                continue;
            rc |= mg_resolved_push(list, n, nm, d->pair_w[ab], "from_%s/w_mVs", src);
            rc |= mg_resolved_push(list, n, nm, d->pair_Es[ab], "from_%s/E_s", src);
            rc |= mg_resolved_push(list, n, nm, d->pair_F[ab], "from_%s/F", src);
            rc |= mg_resolved_push(list, n, nm, d->pair_D[ab], "from_%s/D_steps", src);
        }
    }
    if (rc != MG_OK)
        return mg_err_set(err, MG_ENOMEM, "out of memory listing derived parameters");
    return MG_OK;
}
