/* src/theory/theory_renewal.c: stationary quasi-renewal (QR) theory of one population (MODEL.md §4.1).
 *
 * A neuron whose last spike was tau ago (tau > t_ref) at constant input h0 has the potential
 * u(tau) = h0 + (u_r - h0) exp(-(tau - t_ref)/tau_m), the QR threshold
 * theta(tau) = u_th + theta_kernel(tau) + A integral_tau^inf theta_tilde(s) ds, with
 * theta_tilde = Delta_u (1 - exp(-theta_kernel/Delta_u)) (quasi-renewal approximation, Naud &
 * Gerstner, "Coding and decoding with adapting neurons: a population approach to the
 * peri-stimulus time histogram", PLoS Comput Biol 8:e1002711, 2012; as used by Schwalger, Deger &
 * Gerstner, PLoS Comput Biol 13:e1005507, 2017), the hazard rho = c exp((u - theta)/Delta_u) and
 * the survival S = exp(-integral rho). The stationary rate solves A = 1/integral S(.; A).
 *
 * Numerics (docs/THEORY.md §1): instead of the trapezoid on a uniform 1e-5 s grid of the
 * reference implementation, the ages are marched in segments of a fixed fraction (1/n_per) of
 * the local time scale (1/|d ln rho/d tau|, 1/rho, tau_m, each tau_theta still present), each
 * integrated with 5-point Gauss-Legendre; values inside a segment (the cumulative hazard, the
 * adaptation integral) come from the exact integral of the interpolating polynomial through the
 * Gauss nodes. The march stops when S < 1e-15 or when the hazard is constant to 13 digits
 * (membrane and kernels relaxed), after which the tail is exact (exponential survival). The same
 * march accumulates the derivatives of the mean ISI by h0 and by the QR rate, so that the static
 * gain and Newton steps need no finite differences. */
#include "theory/theory_internal.h"
#include "util/free_all.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define GL_N 5
#define S_STOP 1e-15       /* survival below which the march may stop (spec: 1e-14) */
#define FLAT_TOL 1e-13     /* relative deviation of the hazard from its asymptote at "flat" */
#define PSI_CLAMP 300.0    /* |log(rho/c)| cap: keeps 1/rho^2 finite; rates beyond are 0 or 1/t_ref */
#define MAX_SEGMENTS 2000000L
/* Segments per local time scale: moments converge to 1e-15 relative already at 4 (measured:
 * T, M2 and both derivatives agree to 15 digits between 4 and 128); the stored grid is finer
 * because the spectral routines interpolate between nodes with cubic Hermite polynomials. */
#define RATE_NPER 4
#define GRID_NPER 32

/* Gauss-Legendre on [0,1] with the cumulative matrix C[i][k] = integral_0^{g_i} l_k(t) dt
 * (l_k the Lagrange basis on the nodes), so that integral_a^{a+h g_i} f = h sum_k C[i][k] f(x_k)
 * exactly for polynomials of degree < 5. */
typedef struct {
    double g[GL_N], w[GL_N], C[GL_N][GL_N];
} gl_rule;

static void gl_rule_init(gl_rule *r)
{
    static const double t[GL_N] = {-0.90617984593866399280, -0.53846931010568309104, 0.0,
                                   0.53846931010568309104, 0.90617984593866399280};
    static const double wt[GL_N] = {0.23692688505618908751, 0.47862867049936646804,
                                    0.56888888888888888889, 0.47862867049936646804,
                                    0.23692688505618908751};
    for (int i = 0; i < GL_N; i++) {
        r->g[i] = 0.5 * (1.0 + t[i]);
        r->w[i] = 0.5 * wt[i];
    }
    for (int k = 0; k < GL_N; k++) {
        double coef[GL_N] = {1.0, 0, 0, 0, 0}; /* l_k(t) = sum coef[p] t^p */
        int deg = 0;
        double denom = 1.0;
        for (int m = 0; m < GL_N; m++) {
            if (m == k)
                continue;
            for (int p = deg + 1; p >= 1; p--) /* multiply by (t - g_m) */
                coef[p] = coef[p - 1] - r->g[m] * coef[p];
            coef[0] = -r->g[m] * coef[0];
            deg++;
            denom *= r->g[k] - r->g[m];
        }
        for (int i = 0; i < GL_N; i++) {
            double s = 0.0, xp = r->g[i];
            for (int p = 0; p <= deg; p++) {
                s += coef[p] * xp / (p + 1);
                xp *= r->g[i];
            }
            r->C[i][k] = s / denom;
        }
    }
}

/* Kernel sum theta_kernel(tau) (mV) and its tau-derivative (mV/s). */
static void kernel_at(const mg_qr_pop *q, double tau, double *thk, double *dthk, double *small,
                      double *gbound)
{
    double s = 0.0, ds = 0.0, sm = 0.0, gb = 0.0;
    for (int r = 0; r < q->nk; r++) {
        double ex = exp(-tau / q->tk[r]);
        s += q->q[r] * ex;
        ds -= q->q[r] / q->tk[r] * ex;
        sm += fabs(q->q[r]) * ex;
        gb += fabs(q->q[r]) * q->tk[r] * ex;
    }
    *thk = s;
    if (dthk)
        *dthk = ds;
    if (small)
        *small = sm / q->du;
    if (gbound)
        *gbound = gb;
}

static double theta_tilde(const mg_qr_pop *q, double thk)
{
    return -q->du * expm1(-thk / q->du);
}

static double clamp_psi(double psi)
{
    return psi > PSI_CLAMP ? PSI_CLAMP : (psi < -PSI_CLAMP ? -PSI_CLAMP : psi);
}

/* G_ref = integral_{t_ref}^inf theta_tilde: marched with the kernels' own time scales. */
static double theta_tilde_integral(const mg_qr_pop *q)
{
    if (q->nk == 0)
        return 0.0;
    gl_rule gl;
    gl_rule_init(&gl);
    double tau = q->t_ref, sum = 0.0;
    for (long it = 0; it < MAX_SEGMENTS; it++) {
        double inv = 0.0;
        for (int r = 0; r < q->nk; r++)
            if (fabs(q->q[r]) * exp(-tau / q->tk[r]) / q->du > 1e-18)
                inv = fmax(inv, 1.0 / q->tk[r]);
        if (inv == 0.0)
            break;
        double h = 1.0 / (16.0 * inv);
        for (int i = 0; i < GL_N; i++) {
            double thk;
            kernel_at(q, tau + h * gl.g[i], &thk, NULL, NULL, NULL);
            sum += h * gl.w[i] * theta_tilde(q, thk);
        }
        tau += h;
    }
    return sum;
}

int mg_qr_pop_init(const mg_pop *p, mg_qr_pop *q, mg_err *err)
{
    memset(q, 0, sizeof *q);
    if (!(p->tau_m > 0) || !(p->t_ref >= 0) || !(p->Delta_V > 0) || !(p->lambda_0 > 0) ||
        !isfinite(p->V_reset) || !isfinite(p->V_T_star) || p->n_sfa < 0 || p->n_sfa > MG_SFA_MAX)
        return mg_err_set(err, MG_EINVAL,
                          "%s: invalid neuron parameters for the theory (allowed: tau_m > 0, "
                          "t_ref >= 0, Delta_V > 0, lambda_0 > 0, finite potentials)",
                          p->name);
    q->tau_m = p->tau_m * 1e-3;
    q->t_ref = p->t_ref * 1e-3;
    q->u_r = p->V_reset;
    q->u_th = p->V_T_star;
    q->du = p->Delta_V;
    q->c = p->lambda_0;
    for (int r = 0; r < p->n_sfa; r++) {
        if (!(p->tau_sfa[r] > 0) || !isfinite(p->q_sfa[r]))
            return mg_err_set(err, MG_EINVAL, "%s: tau_sfa[%d] must be > 0 and q_sfa finite",
                              p->name, r);
        if (p->q_sfa[r] == 0.0)
            continue; /* NEST's placeholder kernel q_sfa = [0] */
        q->q[q->nk] = p->q_sfa[r];
        q->tk[q->nk] = p->tau_sfa[r] * 1e-3;
        q->nk++;
    }
    q->G_ref = theta_tilde_integral(q);
    return MG_OK;
}

/* Values at one node. */
typedef struct {
    double rho, dpsi, tt, dtt, e, small, gbound;
} node_val;

static void node_eval(const mg_qr_pop *q, double h0, double A, double tau, double G, node_val *v)
{
    double thk, dthk;
    kernel_at(q, tau, &thk, &dthk, &v->small, &v->gbound);
    v->e = exp(-(tau - q->t_ref) / q->tau_m);
    double u = h0 + (q->u_r - h0) * v->e;
    double du_dt = -(q->u_r - h0) * v->e / q->tau_m;
    v->tt = theta_tilde(q, thk);
    v->dtt = dthk * exp(-thk / q->du);
    double psi = (u - q->u_th - thk - A * G) / q->du;
    double pc = clamp_psi(psi);
    v->rho = q->c * exp(pc);
    /* d/dtau of A*G is -A*theta_tilde */
    v->dpsi = pc == psi ? (du_dt - dthk + A * v->tt) / q->du : 0.0;
}

static int store_node(struct mg_renewal_priv *nd, int *n, double tau, double S,
                      const node_val *v, mg_err *err)
{
    if (*n == nd->cap) {
        int cap = nd->cap ? 2 * nd->cap : 1024;
        double **arrs[7] = {&nd->tau, &nd->S, &nd->rho, &nd->drho, &nd->tt, &nd->dtt, &nd->e};
        for (int a = 0; a < 7; a++) {
            double *p = (double *)realloc(*arrs[a], (size_t)cap * sizeof(double));
            if (!p)
                return mg_err_set(err, MG_ENOMEM, "theory: out of memory for the age grid");
            *arrs[a] = p;
        }
        nd->cap = cap;
    }
    int j = (*n)++;
    nd->tau[j] = tau;
    nd->S[j] = S;
    nd->rho[j] = v->rho;
    nd->drho[j] = v->rho * v->dpsi;
    nd->tt[j] = v->tt;
    nd->dtt[j] = v->dtt;
    nd->e[j] = v->e;
    return MG_OK;
}

/* The running integrals of a march, from t_ref to the age tau: of the hazard (H, so that
 * S = exp(-H)), of theta_tilde (Qi), of the hazard's derivatives by h0 and by A (Dh, DA); the
 * moments' integrals I0 = int S, I1 = int tau S and their derivatives Jh, JA; and the width of
 * the previous segment (hprev, 0 before the first). */
typedef struct {
    double tau, H, Qi, Dh, DA, I0, I1, Jh, JA, hprev;
} march_state;

/* The tail beyond the last node, where the hazard is the constant rt: exponential survival,
 * the integrals in closed form. */
static void march_tail(const mg_qr_pop *q, double S, double rt, march_state *ms)
{
    ms->I0 += S / rt;
    ms->I1 += S * (ms->tau + 1.0 / rt) / rt;
    ms->Jh += S * (ms->Dh + 1.0 / q->du) / rt;
    ms->JA += S * ms->DA / rt;
}

/* The width of the next segment: 1/n_per of the shortest local time scale still present (of
 * the hazard while S matters, of the membrane, of each kernel not yet decayed), growing by at
 * most 1.5 from segment to segment. */
static double segment_width(const mg_qr_pop *q, const node_val *v, double S, int n_per,
                            const march_state *ms)
{
    double inv = 1e-6;
    if (S >= S_STOP) {
        inv = fmax(inv, fmax(fabs(v->dpsi), v->rho));
        if (v->e >= 1e-14)
            inv = fmax(inv, 1.0 / q->tau_m);
    }
    for (int r = 0; r < q->nk; r++)
        if (fabs(q->q[r]) * exp(-ms->tau / q->tk[r]) / q->du > 1e-16)
            inv = fmax(inv, 1.0 / q->tk[r]);
    double h = 1.0 / (inv * n_per);
    if (ms->hprev > 0 && h > 1.5 * ms->hprev)
        h = 1.5 * ms->hprev;
    return h;
}

/* The Gauss nodes of one segment: ages x, theta_tilde, hazard and its derivatives by h0 (drh)
 * and by A (drA). */
typedef struct {
    double x[GL_N], tts[GL_N], rhos[GL_N], drh[GL_N], drA[GL_N];
} seg_nodes;

/* The values at the Gauss nodes of [tau, tau + h], G = G_ref - Qi at tau. */
static void segment_nodes(const mg_qr_pop *q, const gl_rule *gl, double h0, double A, double G,
                          double tau, double h, seg_nodes *sn)
{
    double thks[GL_N], es[GL_N], Gs[GL_N];
    for (int i = 0; i < GL_N; i++) {
        sn->x[i] = tau + h * gl->g[i];
        kernel_at(q, sn->x[i], &thks[i], NULL, NULL, NULL);
        sn->tts[i] = theta_tilde(q, thks[i]);
        es[i] = exp(-(sn->x[i] - q->t_ref) / q->tau_m);
    }
    for (int i = 0; i < GL_N; i++) {
        double cq = 0.0;
        for (int k = 0; k < GL_N; k++)
            cq += gl->C[i][k] * sn->tts[k];
        Gs[i] = G - h * cq;
        double u = h0 + (q->u_r - h0) * es[i];
        sn->rhos[i] = q->c * exp(clamp_psi((u - q->u_th - thks[i] - A * Gs[i]) / q->du));
        sn->drh[i] = sn->rhos[i] * (1.0 - es[i]) / q->du;
        sn->drA[i] = -sn->rhos[i] * Gs[i] / q->du;
    }
}

/* Add the segment [tau, tau + h] to the integrals: the moments first (with the survival inside
 * the segment from the cumulative rule), then the running integrals; tau advances by h. */
static void segment_add(const gl_rule *gl, const seg_nodes *sn, double h, march_state *ms)
{
    for (int i = 0; i < GL_N; i++) {
        double ch = 0.0, cdh = 0.0, cda = 0.0;
        for (int k = 0; k < GL_N; k++) {
            ch += gl->C[i][k] * sn->rhos[k];
            cdh += gl->C[i][k] * sn->drh[k];
            cda += gl->C[i][k] * sn->drA[k];
        }
        double Si = exp(-(ms->H + h * ch));
        double wi = h * gl->w[i];
        ms->I0 += wi * Si;
        ms->I1 += wi * sn->x[i] * Si;
        ms->Jh += wi * Si * (ms->Dh + h * cdh);
        ms->JA += wi * Si * (ms->DA + h * cda);
    }
    for (int i = 0; i < GL_N; i++) {
        double wi = h * gl->w[i];
        ms->H += wi * sn->rhos[i];
        ms->Qi += wi * sn->tts[i];
        ms->Dh += wi * sn->drh[i];
        ms->DA += wi * sn->drA[i];
    }
    ms->tau += h;
    ms->hprev = h;
}

int mg_qr_march(const mg_qr_pop *q, double h0, double A, int n_per, mg_qr_moments *mom,
                struct mg_renewal_priv *nodes, int *n_nodes, mg_err *err)
{
    gl_rule gl;
    gl_rule_init(&gl);
    /* With nodes, continue past S ~ 0 until theta_tilde has decayed: the spectral routines need
     * integral_tau^inf theta_tilde e^{-i w s} ds at every age. */
    const int need_theta = nodes != NULL && q->nk > 0;
    march_state ms = {.tau = q->t_ref};
    const double rho_inf = q->c * exp(clamp_psi((h0 - q->u_th) / q->du));
    if (n_nodes)
        *n_nodes = 0;
    for (long it = 0;; it++) {
        node_val v;
        double G = q->G_ref - ms.Qi;
        node_eval(q, h0, A, ms.tau, G, &v);
        double S = exp(-ms.H);
        if (nodes) {
            int rc = store_node(nodes, n_nodes, ms.tau, S, &v, err);
            if (rc)
                return rc;
        }
        int flat = v.e < FLAT_TOL && v.small < FLAT_TOL && 2.0 * A * v.gbound / q->du < FLAT_TOL;
        int negl = S < S_STOP && (!need_theta || v.small < 1e-16);
        if (flat || negl) {
            /* Beyond tau the hazard is constant (exactly rho_inf when flat; when S is negligible
             * the value does not matter). */
            double rt = flat ? rho_inf : v.rho;
            march_tail(q, S, rt, &ms);
            if (nodes)
                nodes->rho_tail = rt;
            break;
        }
        if (it >= MAX_SEGMENTS)
            return mg_err_set(err, MG_ENUM, "theory: survival integration did not converge "
                                            "(h0 = %g mV, A = %g Hz)", h0, A);
        double h = segment_width(q, &v, S, n_per, &ms);
        seg_nodes sn;
        segment_nodes(q, &gl, h0, A, G, ms.tau, h, &sn);
        segment_add(&gl, &sn, h, &ms);
    }
    mom->T = q->t_ref + ms.I0;
    mom->M2 = 0.5 * q->t_ref * q->t_ref + ms.I1;
    mom->dT_dh = -ms.Jh;
    mom->dT_dA = -ms.JA;
    return MG_OK;
}

int mg_qr_rate(const mg_qr_pop *q, double h0, double *A_out, mg_qr_moments *mom, mg_err *err)
{
    mg_qr_moments m;
    int rc = mg_qr_march(q, h0, 0.0, RATE_NPER, &m, NULL, NULL, err);
    if (rc)
        return rc;
    double A_nc = 1.0 / m.T; /* rate with the last-spike kernel only */
    if (q->nk == 0) {
        *A_out = A_nc;
        *mom = m;
        return MG_OK;
    }
    /* F(A) = A T(A) - 1, F(0) = -1; F(A_nc) >= 0 for nonnegative kernels. For facilitating
     * kernels expand the bracket: F(A) >= A t_ref - 1 > 0 above 1/t_ref. */
    double lo = 0.0, hi = A_nc, A = A_nc;
    rc = mg_qr_march(q, h0, hi, RATE_NPER, &m, NULL, NULL, err);
    if (rc)
        return rc;
    while (hi * m.T - 1.0 < 0.0) {
        lo = hi;
        hi *= 2.0;
        if (hi > 1e7 || (q->t_ref > 0 && hi > 4.0 / q->t_ref) || !isfinite(m.T))
            return mg_err_set(err, MG_EINVAL, "theory: no self-consistent QR rate at h0 = %g mV",
                              h0);
        rc = mg_qr_march(q, h0, hi, RATE_NPER, &m, NULL, NULL, err);
        if (rc)
            return rc;
    }
    A = hi;
    /* Newton on F, kept inside [lo, hi] by bisection. */
    for (int it = 0; it < 200; it++) {
        double F = A * m.T - 1.0, dF = m.T + A * m.dT_dA;
        if (fabs(F) < 1e-14)
            break;
        if (F < 0)
            lo = A;
        else
            hi = A;
        if (hi - lo <= 1e-15 * hi)
            break;
        double An = A - F / dF;
        if (!(An > lo && An < hi) || !isfinite(An))
            An = 0.5 * (lo + hi);
        A = An;
        rc = mg_qr_march(q, h0, A, RATE_NPER, &m, NULL, NULL, err);
        if (rc)
            return rc;
    }
    *A_out = A;
    *mom = m;
    return MG_OK;
}

int mg_qr_input(const mg_qr_pop *q, double A, double h_guess, double *h_out, mg_qr_moments *mom,
                mg_err *err)
{
    if (!(A > 0) || (q->t_ref > 0 && A * q->t_ref >= 1.0))
        return mg_err_set(err, MG_EINVAL, "theory: rate %g Hz out of range (0, 1/t_ref)", A);
    double h = h_guess;
    if (!isfinite(h)) {
        /* dead-time Poisson estimate plus the mean adaptation A*G_ref */
        double rho = A / (1.0 - A * q->t_ref);
        h = q->u_th + q->du * log(rho / q->c) + A * q->G_ref;
    }
    double lo = -INFINITY, hi = INFINITY;
    mg_qr_moments m;
    for (int it = 0; it < 300; it++) {
        int rc = mg_qr_march(q, h, A, RATE_NPER, &m, NULL, NULL, err);
        if (rc)
            return rc;
        /* f(h) = log(A T(A, h)) decreases in h; nearly linear at low rates (T ~ e^{-h/du}). */
        double f = log(A * m.T), df = m.dT_dh / m.T;
        if (fabs(f) < 1e-14) {
            *h_out = h;
            *mom = m;
            return MG_OK;
        }
        if (f > 0)
            lo = h;
        else
            hi = h;
        if (isfinite(lo) && isfinite(hi) && hi - lo <= 1e-14 * (1.0 + fabs(h))) {
            *h_out = h;
            *mom = m;
            return MG_OK;
        }
        double step = df < 0 ? -f / df : (f > 0 ? 20.0 * q->du : -20.0 * q->du);
        if (step > 20.0 * q->du)
            step = 20.0 * q->du;
        if (step < -20.0 * q->du)
            step = -20.0 * q->du;
        double hn = h + step;
        if (!(hn > lo && hn < hi))
            hn = 0.5 * (lo + hi);
        h = hn;
    }
    return mg_err_set(err, MG_EINVAL, "theory: no input reaches the QR rate %g Hz", A);
}

double mg_qr_gain(double A, const mg_qr_moments *m)
{
    /* F(A, h) = A T(A, h) - 1 = 0 => dA/dh = -A T_h / (T + A T_A) */
    return -A * m->dT_dh / (m->T + A * m->dT_dA);
}

void mg_renewal_free(mg_renewal *r)
{
    if (!r)
        return;
    if (r->priv) {
        struct mg_renewal_priv *p = r->priv;
        MG_FREE_ALL(p->tau, p->S, p->rho, p->drho, p->tt, p->dtt, p->e, p);
    }
    free(r->tau_ms);
    free(r->survival);
    free(r->hazard_hz);
    free(r->isi_density_hz);
    memset(r, 0, sizeof *r);
}

static int renewal_build(const mg_qr_pop *q, double h0, double A_qr, mg_renewal *out, mg_err *err)
{
    memset(out, 0, sizeof *out);
    struct mg_renewal_priv *p = (struct mg_renewal_priv *)calloc(1, sizeof *p);
    if (!p)
        return mg_err_set(err, MG_ENOMEM, "theory: out of memory");
    out->priv = p;
    p->q = *q;
    p->h0 = h0;
    p->A_qr = A_qr;
    mg_qr_moments m;
    int n = 0;
    int rc = mg_qr_march(q, h0, A_qr, GRID_NPER, &m, p, &n, err);
    if (rc) {
        mg_renewal_free(out);
        return rc;
    }
    out->n = n;
    out->tau_ms = (double *)malloc((size_t)n * sizeof(double));
    out->survival = (double *)malloc((size_t)n * sizeof(double));
    out->hazard_hz = (double *)malloc((size_t)n * sizeof(double));
    out->isi_density_hz = (double *)malloc((size_t)n * sizeof(double));
    if (!out->tau_ms || !out->survival || !out->hazard_hz || !out->isi_density_hz) {
        mg_renewal_free(out);
        return mg_err_set(err, MG_ENOMEM, "theory: out of memory");
    }
    for (int j = 0; j < n; j++) {
        out->tau_ms[j] = p->tau[j] * 1e3;
        out->survival[j] = p->S[j];
        out->hazard_hz[j] = p->rho[j];
        out->isi_density_hz[j] = p->rho[j] * p->S[j];
    }
    out->h0_mV = h0;
    out->A0_hz = 1.0 / m.T;
    out->mean_isi_ms = m.T * 1e3;
    double cv2 = 2.0 * m.M2 / (m.T * m.T) - 1.0;
    out->cv = cv2 > 0 ? sqrt(cv2) : 0.0;
    out->gain_hz_per_mV = mg_qr_gain(A_qr > 0 ? A_qr : out->A0_hz, &m);
    out->t_ref_ms = q->t_ref * 1e3;
    out->hazard_inf_hz = q->c * exp(clamp_psi((h0 - q->u_th) / q->du));
    out->adapting = q->nk > 0;
    return MG_OK;
}

int mg_theory_renewal_at(const mg_pop *pop, double h0_mV, double A_qr_hz, mg_renewal *out,
                         mg_err *err)
{
    memset(out, 0, sizeof *out);
    if (!isfinite(h0_mV) || !(A_qr_hz >= 0) || !isfinite(A_qr_hz))
        return mg_err_set(err, MG_EINVAL, "theory: h0 and the QR rate must be finite, rate >= 0");
    mg_qr_pop q;
    int rc = mg_qr_pop_init(pop, &q, err);
    if (rc)
        return rc;
    return renewal_build(&q, h0_mV, A_qr_hz, out, err);
}

int mg_theory_stationary_pop(const mg_pop *pop, double h0_mV, mg_renewal *out, mg_err *err)
{
    memset(out, 0, sizeof *out);
    if (!isfinite(h0_mV))
        return mg_err_set(err, MG_EINVAL, "theory: h0 must be finite");
    mg_qr_pop q;
    int rc = mg_qr_pop_init(pop, &q, err);
    if (rc)
        return rc;
    double A;
    mg_qr_moments m;
    rc = mg_qr_rate(&q, h0_mV, &A, &m, err);
    if (rc)
        return rc;
    rc = renewal_build(&q, h0_mV, q.nk > 0 ? A : 0.0, out, err);
    if (rc)
        return rc;
    if (q.nk == 0)
        out->gain_hz_per_mV = mg_qr_gain(out->A0_hz, &m);
    return MG_OK;
}

void mg_renewal_eval(const mg_renewal *r, double tau_ms, double *S_out, double *hazard_hz,
                     double *isi_density_hz)
{
    const struct mg_renewal_priv *p = r ? r->priv : NULL;
    double tau = tau_ms * 1e-3, S, rho;
    int n = p ? r->n : 0;
    if (n == 0 || tau < p->q.t_ref) {
        S = 1.0;
        rho = 0.0;
    } else if (tau >= p->tau[n - 1]) {
        rho = p->rho_tail;
        S = p->S[n - 1] * exp(-rho * (tau - p->tau[n - 1]));
    } else {
        int lo = 0, hi = n - 1; /* p->tau[lo] <= tau < p->tau[hi] */
        while (hi - lo > 1) {
            int mid = (lo + hi) / 2;
            if (p->tau[mid] <= tau)
                lo = mid;
            else
                hi = mid;
        }
        double h = p->tau[hi] - p->tau[lo], t = (tau - p->tau[lo]) / h;
        double h00 = (1 + 2 * t) * (1 - t) * (1 - t), h10 = t * (1 - t) * (1 - t);
        double h01 = t * t * (3 - 2 * t), h11 = t * t * (t - 1);
        double dS0 = -p->rho[lo] * p->S[lo], dS1 = -p->rho[hi] * p->S[hi];
        S = h00 * p->S[lo] + h * h10 * dS0 + h01 * p->S[hi] + h * h11 * dS1;
        rho = h00 * p->rho[lo] + h * h10 * p->drho[lo] + h01 * p->rho[hi] + h * h11 * p->drho[hi];
        if (S < 0)
            S = 0;
    }
    if (S_out)
        *S_out = S;
    if (hazard_hz)
        *hazard_hz = rho;
    if (isi_density_hz)
        *isi_density_hz = rho * S;
}
