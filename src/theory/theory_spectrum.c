/* src/theory/theory_spectrum.c: the finite-size mesoscopic network linearized around a fixed point
 * (docs/THEORY.md §4): power spectra of the population activities and the linear stability of
 * the fixed point.
 *
 * Each population's activity is written, as in Lindner, Doiron & Longtin (Phys Rev E 72:061919,
 * 2005) and Deger, Schwalger, Naud & Gerstner (Phys Rev E 90:062704, 2014), as intrinsic
 * finite-size noise xi_a (the spike trains of N_a independent QR renewal neurons: renewal
 * spectrum) plus the linear response to its input and to its own activity through the QR
 * threshold:
 *   dA_a = xi_a + R_u,a sum_b w_ab F_ab(f) dA_b - R_theta,a dA_a,
 *   F_ab(f) = e^{-2 pi i f d} / (1 + 2 pi i f tau_s)  (delay and exponential synapse),
 * so dA = M^{-1} xi with M = diag(1 + R_theta) - diag(R_u) (w .* F), and
 *   S_aa(f) = sum_b |(M^{-1})_ab|^2 S_xi,b(f).
 * A stationary OU input current eta_b (independent across populations, mV of drive) adds
 * R_u,b eta_b to xi_b: S_xi,b gains |R_u,b|^2 S_eta,b (linear response; its second-order shift
 * of the rate is left out).
 * The same M at s = 2 pi i f is the characteristic matrix of the N -> infinity dynamics: the
 * fixed point is unstable iff det M(s) has a root with Re s > 0. M is analytic in Re s >= 0
 * (R_u and R_theta are transforms of causal kernels divided by the survival transform, which
 * has no zeros there) and M -> identity for |s| -> infinity, so by the argument principle the
 * number of such roots is (arg det M(0) - arg det M(i infinity))/pi along the imaginary axis,
 * using the conjugate symmetry det M(-i w) = conj det M(i w). */
#include "theory/theory_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void mg_net_lin_free(mg_net_lin *L)
{
    if (!L)
        return;
    if (L->ren)
        for (int a = 0; a < L->P; a++)
            mg_renewal_free(&L->ren[a]);
    free(L->ren);
    free(L->N);
    free(L->proj);
    memset(L, 0, sizeof *L);
}

int mg_net_lin_alloc(const mg_model *m, const double *mu, const double *rates, double rtol,
                    mg_net_lin *L, mg_err *err)
{
    memset(L, 0, sizeof *L);
    const int P = m->P;
    double *w = (double *)malloc((size_t)P * P * sizeof(double));
    L->ren = (mg_renewal *)calloc((size_t)P, sizeof(mg_renewal));
    L->N = (double *)malloc((size_t)P * sizeof(double));
    L->proj = (mg_lin_proj *)malloc((size_t)(m->n_proj > 0 ? m->n_proj : 1) * sizeof(mg_lin_proj));
    L->P = P;
    if (!w || !L->ren || !L->N || !L->proj) {
        free(w);
        mg_net_lin_free(L);
        return mg_err_set(err, MG_ENOMEM, "theory: out of memory");
    }
    mg_theory_coupling(m, w);
    for (int k = 0; k < m->n_proj; k++) {
        const mg_proj *pj = &m->proj[k];
        double wk = pj->J * pj->p * (double)m->pops[pj->source].N * m->pops[pj->target].tau_m * 1e-3;
        if (wk == 0.0)
            continue;
        mg_lin_proj *lp = &L->proj[L->n_proj++];
        lp->a = pj->target;
        lp->b = pj->source;
        lp->w = wk;
        lp->d = pj->delay * 1e-3;
        lp->ts = pj->tau_syn * 1e-3;
    }
    for (int a = 0; a < P; a++) {
        const mg_pop *pa = &m->pops[a];
        if (mg_pop_ou_stationary(pa)) { /* pA -> mV of drive, as I_e */
            const double sd_mV = pa->ou_std * pa->tau_m / pa->C_m;
            L->ou_var[a] = sd_mV * sd_mV;
            L->ou_tau[a] = pa->ou_tau * 1e-3;
        }
        if (!(rates[a] > 0) || !isfinite(rates[a])) {
            free(w);
            mg_net_lin_free(L);
            return mg_err_set(err, MG_EINVAL, "theory: rate of population %s must be > 0",
                              m->pops[a].name);
        }
        double h = mu[a];
        for (int b = 0; b < P; b++)
            h += w[a * P + b] * rates[b];
        L->N[a] = (double)m->pops[a].N;
        int rc = mg_theory_renewal_at(&m->pops[a], h, rates[a], &L->ren[a], err);
        if (rc == MG_OK && fabs(L->ren[a].A0_hz - rates[a]) > rtol * rates[a])
            rc = mg_err_set(err, MG_EINVAL,
                            "theory: rates are not a fixed point: population %s has %.6g Hz but "
                            "its input %.6g mV gives %.6g Hz",
                            m->pops[a].name, rates[a], h, L->ren[a].A0_hz);
        if (rc) {
            free(w);
            mg_net_lin_free(L);
            return rc;
        }
    }
    free(w);
    return MG_OK;
}

/* In-place LU with partial pivoting of the n x n row-major A; returns the determinant. */
static double complex clu(double complex *A, int n, int *piv)
{
    double complex det = 1.0;
    for (int k = 0; k < n; k++) {
        int p = k;
        for (int i = k + 1; i < n; i++)
            if (cabs(A[i * n + k]) > cabs(A[p * n + k]))
                p = i;
        piv[k] = p;
        if (p != k) {
            for (int j = 0; j < n; j++) {
                double complex t = A[k * n + j];
                A[k * n + j] = A[p * n + j];
                A[p * n + j] = t;
            }
            det = -det;
        }
        double complex d = A[k * n + k];
        det *= d;
        if (d == 0.0)
            continue;
        for (int i = k + 1; i < n; i++) {
            double complex f = A[i * n + k] / d;
            A[i * n + k] = f;
            for (int j = k + 1; j < n; j++)
                A[i * n + j] -= f * A[k * n + j];
        }
    }
    return det;
}

/* Solve with the factors of clu: b overwritten by A^-1 b. */
static void clu_solve(const double complex *A, int n, const int *piv, double complex *b)
{
    for (int k = 0; k < n; k++) {
        if (piv[k] != k) {
            double complex t = b[k];
            b[k] = b[piv[k]];
            b[piv[k]] = t;
        }
        for (int i = k + 1; i < n; i++)
            b[i] -= A[i * n + k] * b[k];
    }
    for (int i = n - 1; i >= 0; i--) {
        for (int j = i + 1; j < n; j++)
            b[i] -= A[i * n + j] * b[j];
        b[i] /= A[i * n + i];
    }
}

/* M(omega) into Mx[P][P]; Sxi[P] (may be NULL) the spectra of each population's own noise:
 * the renewal spectrum of its finite size, plus |R_u|^2 times the spectrum of a stationary OU
 * input (two-sided, 2 var tau / (1 + omega^2 tau^2)), which enters where the drive mu does. */
static void net_matrix(const mg_net_lin *L, double omega, double complex *Mx, double *Sxi)
{
    const int P = L->P;
    double complex Ru[MG_POP_MAX], Rt[MG_POP_MAX];
    for (int a = 0; a < P; a++) {
        double complex Sh;
        mg_qr_response(&L->ren[a], omega, &Sh, &Ru[a], &Rt[a]);
        if (Sxi) {
            if (omega > 2e-9 * M_PI) {
                double a2 = creal(Sh) * creal(Sh) + cimag(Sh) * cimag(Sh);
                Sxi[a] = L->ren[a].A0_hz / L->N[a] * (-2.0 * cimag(Sh) / omega - a2) / a2;
            } else {
                Sxi[a] = mg_qr_renewal_psd(&L->ren[a], L->N[a], 0.0);
            }
            if (L->ou_var[a] > 0) {
                const double wt = omega * L->ou_tau[a];
                const double S_ou = 2.0 * L->ou_var[a] * L->ou_tau[a] / (1.0 + wt * wt);
                Sxi[a] += (creal(Ru[a]) * creal(Ru[a]) + cimag(Ru[a]) * cimag(Ru[a])) * S_ou;
            }
        }
    }
    for (int a = 0; a < P; a++)
        for (int b = 0; b < P; b++)
            Mx[a * P + b] = a == b ? 1.0 + Rt[a] : 0.0;
    for (int k = 0; k < L->n_proj; k++) {
        const mg_lin_proj *lp = &L->proj[k];
        double ph = omega * lp->d;
        double complex F = (cos(ph) - I * sin(ph)) / (1.0 + I * omega * lp->ts);
        Mx[lp->a * P + lp->b] -= Ru[lp->a] * lp->w * F;
    }
}

int mg_net_lin_spectrum(const mg_net_lin *L, const double *freq_hz, int F, double *S, int ldS,
                        mg_err *err)
{
    const int P = L->P;
    double complex *Mx = (double complex *)malloc((size_t)P * P * sizeof(double complex));
    double complex *col = (double complex *)malloc((size_t)P * sizeof(double complex));
    int *piv = (int *)malloc((size_t)P * sizeof(int));
    double *Sxi = (double *)malloc((size_t)P * sizeof(double));
    double *acc = (double *)malloc((size_t)P * sizeof(double));
    if (!Mx || !col || !piv || !Sxi || !acc) {
        free(Mx), free(col), free(piv), free(Sxi), free(acc);
        return mg_err_set(err, MG_ENOMEM, "theory: out of memory");
    }
    for (int k = 0; k < F; k++) {
        double omega = 2.0 * M_PI * fabs(freq_hz[k]);
        net_matrix(L, omega, Mx, Sxi);
        clu(Mx, P, piv);
        for (int a = 0; a < P; a++)
            acc[a] = 0.0;
        /* column b of M^-1 = M^-1 e_b */
        for (int b = 0; b < P; b++) {
            for (int i = 0; i < P; i++)
                col[i] = i == b ? 1.0 : 0.0;
            clu_solve(Mx, P, piv, col);
            for (int a = 0; a < P; a++)
                acc[a] += (creal(col[a]) * creal(col[a]) + cimag(col[a]) * cimag(col[a])) * Sxi[b];
        }
        for (int a = 0; a < P; a++)
            S[(size_t)a * ldS + k] = acc[a];
    }
    free(Mx), free(col), free(piv), free(Sxi), free(acc);
    return MG_OK;
}

typedef struct {
    const mg_net_lin *L;
    double complex *Mx;
    int *piv;
    long evals;
} det_ctx;

static double complex det_at(det_ctx *c, double f_hz)
{
    c->evals++;
    net_matrix(c->L, 2.0 * M_PI * f_hz, c->Mx, NULL);
    return clu(c->Mx, c->L->P, c->piv);
}

/* Phase change of det M from fa to fb, bisecting until each step turns by less than pi/4. */
static double phase_step(det_ctx *c, double fa, double complex ga, double fb, double complex gb,
                         int depth, int *ok)
{
    double d = carg(gb / ga);
    if (fabs(d) <= M_PI / 4 || !*ok)
        return d;
    if (depth > 48 || c->evals > 200000) {
        *ok = 0;
        return d;
    }
    double fm = fa > 0 ? sqrt(fa * fb) : 0.5 * (fa + fb);
    if (fb / fa < 1.0001 && fa > 0)
        fm = 0.5 * (fa + fb);
    double complex gm = det_at(c, fm);
    return phase_step(c, fa, ga, fm, gm, depth + 1, ok) + phase_step(c, fm, gm, fb, gb, depth + 1, ok);
}

int mg_net_lin_unstable_roots(const mg_net_lin *L, int *n_unstable, mg_err *err)
{
    const int P = L->P;
    *n_unstable = -1;
    det_ctx c;
    c.L = L;
    c.evals = 0;
    c.Mx = (double complex *)malloc((size_t)P * P * sizeof(double complex));
    c.piv = (int *)malloc((size_t)P * sizeof(int));
    if (!c.Mx || !c.piv) {
        free(c.Mx), free(c.piv);
        return mg_err_set(err, MG_ENOMEM, "theory: out of memory");
    }
    /* Upper end of the scan: det M must have settled near 1 (M -> I as 1/f or faster), so
     * that no winding is left beyond it. */
    double fmax = 2000.0;
    while (fmax < 1e7 && (cabs(det_at(&c, fmax) - 1.0) > 0.2 || cabs(det_at(&c, 2 * fmax) - 1.0) > 0.2))
        fmax *= 2.0;
    double complex g0 = det_at(&c, 0.0);
    int ok = cabs(g0) > 0 && isfinite(creal(g0)) && isfinite(cimag(g0));
    double phi0 = carg(g0), phi = phi0;
    /* grid: 0, then 40 points per decade from 1e-3 Hz */
    double fa = 0.0;
    double complex ga = g0;
    int nd = (int)ceil(40.0 * log10(fmax / 1e-3));
    for (int k = 0; k <= nd && ok; k++) {
        double fb = 1e-3 * pow(fmax / 1e-3, (double)k / nd);
        double complex gb = det_at(&c, fb);
        if (!(cabs(gb) > 0) || !isfinite(creal(gb)) || !isfinite(cimag(gb))) {
            ok = 0;
            break;
        }
        phi += phase_step(&c, fa, ga, fb, gb, 0, &ok);
        fa = fb;
        ga = gb;
    }
    free(c.Mx), free(c.piv);
    if (!ok)
        return mg_err_set(err, MG_ENUM, "theory: could not follow the phase of the "
                                        "characteristic function (a root on the imaginary axis?)");
    /* det M(i inf) = 1: the final phase is a multiple of 2 pi */
    double turns = (phi0 - phi) / M_PI;
    int nz = (int)lround(turns);
    if (fabs(turns - nz) > 0.1 || nz < 0)
        return mg_err_set(err, MG_ENUM, "theory: argument principle gave %.3f roots", turns);
    *n_unstable = nz;
    return MG_OK;
}
