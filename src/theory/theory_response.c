/* src/theory/theory_response.c: linear response and renewal spectrum of one population (docs/THEORY.md
 * §3), computed on the age grid of src/theory_renewal.c.
 *
 * A sinusoidal modulation I(t) = I^ e^{iwt} of the input drive (tau_m du/dt = -u + mu + I) and
 * a modulation A^ e^{iwt} of the activity that enters the QR threshold change the hazard of a
 * neuron of age tau by rho0(tau) [I^ K_u(tau) - A^ K_theta(tau)]/Delta_u e^{iwt}, with
 *   K_u(tau)     = (1 - e^{-(1/tau_m + iw)(tau - t_ref)}) / (1 + iw tau_m)   (tau > t_ref),
 *   K_theta(tau) = integral_tau^inf theta_tilde(s) e^{-iws} ds.
 * Linearizing the refractory-density equation A(t) = integral P(t|t^) A(t^) dt^ (Gerstner 2000;
 * Naud & Gerstner 2012) gives
 *   A^ (1 - P^(w)) = (A0/Delta_u) iw integral rho0(tau) [I^ K_u - A^ K_theta] W(tau) dtau,
 *   W(tau) = integral_tau^inf S0(s) e^{-iw(s - tau)} ds,
 * and with 1 - P^ = iw S^ (S^ the transform of the survival):
 *   R_u = (A0/Delta_u) L_u / S^,  R_theta = (A0/Delta_u) L_theta / S^,
 *   L_u = integral rho0 K_u W,  L_theta = integral rho0 K_theta W.
 * W, V(tau) = e^{iw tau} K_theta(tau) are smooth in tau and obey backward recursions over the
 * grid; every integral is a sum over segments of (cubic Hermite interpolant of a smooth factor)
 * x e^{-iw tau}, integrated exactly (Filon-type quadrature; L. N. G. Filon, Proc. R. Soc.
 * Edinburgh 49:38, 1928, here with Hermite instead of Lagrange interpolation). This is exact in w:
 * no aliasing, no resolution limit at high frequency. */
#include "theory/theory_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* w[ab] = integral_0^1 H_ab(t) e^{-i th t} dt for the cubic Hermite basis
 * H00 = 2t^3-3t^2+1, H10 = t^3-2t^2+t, H01 = -2t^3+3t^2, H11 = t^3-t^2 (order 00, 10, 01, 11).
 * |th| < 1: Taylor series sum_n (-i th)^n/n! integral t^n H_ab, stopped when th^n/n! < 1e-17
 * (at most 19 terms); otherwise the closed form from repeated integration by parts,
 * sum_k (p^(k)(0) - p^(k)(1) e^{-i th}) / (i th)^{k+1}, whose cancellation costs at most a
 * factor ~25 in relative precision at th = 1. */
#define HM00(n) (2.0 / ((n) + 4) - 3.0 / ((n) + 3) + 1.0 / ((n) + 1))
#define HM10(n) (1.0 / ((n) + 4) - 2.0 / ((n) + 3) + 1.0 / ((n) + 2))
#define HM01(n) (-2.0 / ((n) + 4) + 3.0 / ((n) + 3))
#define HM11(n) (1.0 / ((n) + 4) - 1.0 / ((n) + 3))
#define HM_ROW(M) {M(0), M(1), M(2), M(3), M(4), M(5), M(6), M(7), M(8), M(9), M(10), M(11), \
                   M(12), M(13), M(14), M(15), M(16), M(17), M(18), M(19), M(20)}
static const double hm[4][21] = {HM_ROW(HM00), HM_ROW(HM10), HM_ROW(HM01), HM_ROW(HM11)};

static void herm_weights(double th, double complex w[4])
{
    if (fabs(th) < 1.0) {
        /* (-i th)^n / n! is real for even n (sign (-1)^(n/2)) and imaginary for odd n */
        double re[4] = {hm[0][0], hm[1][0], hm[2][0], hm[3][0]}, im[4] = {0, 0, 0, 0};
        double c = 1.0;
        for (int n = 1; n <= 20; n++) {
            c *= th / n;
            double sc = (n & 2) ? -c : c; /* sign of (-i)^n: n = 1: -i, 2: -1, 3: +i, 4: +1 */
            if (n & 1)
                for (int k = 0; k < 4; k++)
                    im[k] -= sc * hm[k][n];
            else
                for (int k = 0; k < 4; k++)
                    re[k] += ((n & 2) ? -c : c) * hm[k][n];
            if (fabs(c) < 1e-17)
                break;
        }
        for (int k = 0; k < 4; k++)
            w[k] = re[k] + I * im[k];
        return;
    }
    double complex E = cos(th) - I * sin(th);
    double complex z = -I / th, z2 = z * z, z3 = z2 * z, z4 = z3 * z;
    w[0] = z + z3 * (-6.0 - 6.0 * E) + z4 * (12.0 - 12.0 * E);
    w[1] = z2 + z3 * (-4.0 - 2.0 * E) + z4 * (6.0 - 6.0 * E);
    w[2] = -z * E + z3 * (6.0 + 6.0 * E) + z4 * (-12.0 + 12.0 * E);
    w[3] = -z2 * E + z3 * (-2.0 - 4.0 * E) + z4 * (6.0 - 6.0 * E);
}

static inline double complex seg(const double complex w[4], double h, double complex f0,
                                 double complex d0, double complex f1, double complex d1)
{
    return h * (f0 * w[0] + h * d0 * w[1] + f1 * w[2] + h * d1 * w[3]);
}

/* What every segment of mg_qr_response uses: the age grid, the population, the frequency. */
typedef struct {
    const struct mg_renewal_priv *p;
    const mg_qr_pop *q;
    double omega;
    double complex iw;
    double itm;               /* 1/tau_m */
    int adapt;                /* the population has adaptation kernels (K_theta != 0) */
} resp_ctx;

/* The backward recursion at a node: W and V, the smooth factors f = rho0 W, g = rho0 e W,
 * k = rho0 V W with their tau-derivatives, and the integrals from the node on (Ia = integral
 * rho0 W, Ib and Lth without their phase e^{-iw t_ref}). */
typedef struct {
    double complex W, V, f, df, g, dg, k, dk, Ia, Ib, Lth;
} resp_state;

/* The recursion at the last node j: beyond it the hazard is constant, W = S/(rho_tail + iw),
 * and the kernels have decayed (V = 0); the tail of integral rho0 W is W itself. */
static void resp_start(const resp_ctx *c, int j, resp_state *st)
{
    const struct mg_renewal_priv *p = c->p;
    const double complex iw = c->iw;
    const double itm = c->itm;
    double complex W1 = p->S[j] / (p->rho_tail + iw);
    double rho = p->rho[j], drho = p->drho[j], S = p->S[j], e = p->e[j];
    st->W = W1;
    st->V = 0.0;
    st->f = rho * W1;
    st->df = drho * W1 + rho * (iw * W1 - S);
    st->g = rho * e * W1;
    st->dg = (drho * e - rho * e * itm) * W1 + rho * e * (iw * W1 - S);
    st->k = 0.0;
    st->dk = 0.0;
    st->Ia = W1;
    st->Ib = 0.0;
    st->Lth = 0.0;
}

/* One step of the recursion: from node j + 1 (in st) to node j, adding the segment between
 * them to the integrals (Filon-type: Hermite interpolant times e^{-iw tau}, exact). */
static void resp_step(const resp_ctx *c, int j, resp_state *st)
{
    const struct mg_renewal_priv *p = c->p;
    const double complex iw = c->iw;
    const double omega = c->omega, itm = c->itm;
    double complex wts[4];
    double h = p->tau[j + 1] - p->tau[j];
    double th = omega * h;
    herm_weights(th, wts);
    double complex E = cos(th) - I * sin(th);
    double S0 = p->S[j], S1 = p->S[j + 1];
    double dS0 = -p->rho[j] * S0, dS1 = -p->rho[j + 1] * S1;
    double complex W0 = E * st->W + seg(wts, h, S0, dS0, S1, dS1);
    double rho = p->rho[j], drho = p->drho[j], e = p->e[j];
    double complex dW0 = iw * W0 - S0;
    double complex f0 = rho * W0, df0 = drho * W0 + rho * dW0;
    double complex g0 = rho * e * W0, dg0 = (drho * e - rho * e * itm) * W0 + rho * e * dW0;
    st->Ia += h * (0.5 * (f0 + st->f) + h * (df0 - st->df) / 12.0);
    double ph = omega * (p->tau[j] - c->q->t_ref);
    double complex phase_b = cos(ph) - I * sin(ph);
    st->Ib += phase_b * seg(wts, h, g0, dg0, st->g, st->dg);
    if (c->adapt) {
        double complex V0 = E * st->V + seg(wts, h, p->tt[j], p->dtt[j], p->tt[j + 1],
                                            p->dtt[j + 1]);
        double complex dV0 = iw * V0 - p->tt[j];
        double complex k0 = rho * V0 * W0;
        double complex dk0 = drho * V0 * W0 + rho * dV0 * W0 + rho * V0 * dW0;
        st->Lth += phase_b * seg(wts, h, k0, dk0, st->k, st->dk); /* times e^{-iw t_ref} later */
        st->V = V0;
        st->k = k0;
        st->dk = dk0;
    }
    st->W = W0;
    st->f = f0;
    st->df = df0;
    st->g = g0;
    st->dg = dg0;
}

void mg_qr_response(const mg_renewal *r, double omega, double complex *Shat_out,
                    double complex *R_u, double complex *R_th)
{
    const struct mg_renewal_priv *p = r->priv;
    const mg_qr_pop *q = &p->q;
    const int n = r->n, adapt = q->nk > 0;
    const double complex iw = I * omega;
    const resp_ctx c = {p, q, omega, iw, 1.0 / q->tau_m, adapt};
    resp_state st;
    resp_start(&c, n - 1, &st);
    for (int j = n - 2; j >= 0; j--)
        resp_step(&c, j, &st);
    /* survival is 1 during the refractory period: integral_0^t_ref e^{-iws} ds = t_ref*(w00+w01) */
    double complex wts[4];
    herm_weights(omega * q->t_ref, wts);
    double complex ref = q->t_ref * (wts[0] + wts[2]);
    double tr = omega * q->t_ref;
    double complex Shat = ref + (cos(tr) - I * sin(tr)) * st.W;
    double complex Lu = (st.Ia - st.Ib) / (1.0 + iw * q->tau_m);
    double complex Lth = st.Lth * (cos(tr) - I * sin(tr));
    double a = r->A0_hz / q->du;
    if (Shat_out)
        *Shat_out = Shat;
    if (R_u)
        *R_u = a * Lu / Shat;
    if (R_th)
        *R_th = adapt ? a * Lth / Shat : 0.0;
}

int mg_theory_pop_response(const mg_renewal *r, const double *freq_hz, int F, mg_cplx *R_u,
                           mg_cplx *R_theta, mg_cplx *P_hat, mg_err *err)
{
    if (!r || !r->priv || r->n < 1 || F < 0 || (F > 0 && !freq_hz))
        return mg_err_set(err, MG_EINVAL, "theory: response needs a computed renewal state");
    for (int k = 0; k < F; k++) {
        if (!isfinite(freq_hz[k]))
            return mg_err_set(err, MG_EINVAL, "theory: frequency %d is not finite", k);
        double w = 2.0 * M_PI * fabs(freq_hz[k]);
        double complex Sh, Ru, Rt;
        mg_qr_response(r, w, &Sh, &Ru, &Rt);
        if (R_u) {
            R_u[k].re = creal(Ru);
            R_u[k].im = cimag(Ru);
        }
        if (R_theta) {
            R_theta[k].re = creal(Rt);
            R_theta[k].im = cimag(Rt);
        }
        if (P_hat) {
            double complex Ph = 1.0 - I * w * Sh;
            P_hat[k].re = creal(Ph);
            P_hat[k].im = cimag(Ph);
        }
    }
    return MG_OK;
}

/* Renewal spectrum from the survival transform: with P^ = 1 - iw S^,
 * (1 - |P^|^2)/|1 - P^|^2 = (-2 Im S^ / w - |S^|^2) / |S^|^2, free of the 0/0 at w -> 0
 * (Im S^/w -> -integral tau S). f = 0 is evaluated at 1e-9 Hz (relative error ~1e-17). */
double mg_qr_renewal_psd(const mg_renewal *r, double N, double omega)
{
    double w = omega > 2e-9 * M_PI ? omega : 2e-9 * M_PI;
    double complex Sh;
    mg_qr_response(r, w, &Sh, NULL, NULL);
    double a2 = creal(Sh) * creal(Sh) + cimag(Sh) * cimag(Sh);
    return r->A0_hz / N * (-2.0 * cimag(Sh) / w - a2) / a2;
}

int mg_theory_renewal_spectrum(const mg_renewal *r, double N, const double *freq_hz, int F,
                               double *S_out, mg_err *err)
{
    if (!r || !r->priv || r->n < 1)
        return mg_err_set(err, MG_EINVAL, "theory: spectrum needs a computed renewal state");
    if (!(N > 0) || F < 0 || (F > 0 && (!freq_hz || !S_out)))
        return mg_err_set(err, MG_EINVAL, "theory: spectrum needs N > 0 and F >= 0 frequencies");
    for (int k = 0; k < F; k++) {
        if (!isfinite(freq_hz[k]))
            return mg_err_set(err, MG_EINVAL, "theory: frequency %d is not finite", k);
        S_out[k] = mg_qr_renewal_psd(r, N, 2.0 * M_PI * fabs(freq_hz[k]));
    }
    return MG_OK;
}
