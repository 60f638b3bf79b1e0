/* src/theory/theory_internal.h: what the theory_*.c files share (not public API).
 *
 *   theory_renewal.c   stationary QR renewal theory of one population: the march over ages,
 *                      the self-consistent rate Phi(h) and its inverse Psi(A), mg_renewal.
 *   theory_response.c  Fourier transforms on the renewal grid (Filon-Hermite quadrature), the
 *                      linear response R_u, R_theta, the renewal spectrum, network spectra and
 *                      the characteristic function of the linearized network.
 *   theory_fixed.c     mean-field fixed points of a network and their stability.
 *   theory_network.c   the mean input and the coupling matrix of the network.
 * Internal units are SI-like: seconds, mV, Hz. */
#ifndef MESOGIF_THEORY_INTERNAL_H
#define MESOGIF_THEORY_INTERNAL_H

#include <complex.h>
#include <math.h>
#include "mesogif/theory.h"
#include "model/stimulus.h" /* mg_pop_ou_stationary */

/* One population's neuron parameters in seconds/mV/Hz (MODEL.md §1.1 notation). */
typedef struct {
    double tau_m, t_ref;        /* s */
    double u_r, u_th, du, c;    /* mV, mV, mV, Hz */
    int nk;                     /* adaptation kernels with q != 0 */
    double q[MG_SFA_MAX];       /* mV, threshold jump J_theta/tau_theta of kernel r */
    double tk[MG_SFA_MAX];      /* s, tau_theta of kernel r */
    double G_ref;               /* mV*s, integral of theta_tilde from t_ref to infinity */
} mg_qr_pop;

/* Moments of the survival function returned by the march. */
typedef struct {
    double T;      /* s, mean ISI = integral_0^inf S */
    double M2;     /* s^2, integral_0^inf tau S */
    double dT_dh;  /* s/mV, derivative of T by the input h0 (A in the QR threshold fixed) */
    double dT_dA;  /* s^2, derivative of T by the rate in the QR threshold (h0 fixed) */
} mg_qr_moments;

/* Node values stored by a march for the spectral routines (all at ages tau[j], seconds). */
struct mg_renewal_priv {
    mg_qr_pop q;
    double h0, A_qr;       /* mV, Hz: the input and the rate inside the QR threshold */
    double rho_tail;       /* Hz: hazard assumed beyond the last node */
    int cap;               /* allocated nodes */
    double *tau;           /* [n] s */
    double *S, *rho, *drho;/* [n] survival, hazard (Hz), d hazard / d tau (Hz/s) */
    double *tt, *dtt;      /* [n] theta_tilde (mV) and its derivative (mV/s) */
    double *e;             /* [n] exp(-(tau - t_ref)/tau_m) */
};

/* Convert and check a population (MG_EINVAL with "populations[i].key: ..." style messages are
 * the parser's job; here "<name>: <what>"). Computes G_ref. */
int mg_qr_pop_init(const mg_pop *p, mg_qr_pop *q, mg_err *err);

/* Integrate the survival of the QR hazard at input h0 (mV) and QR rate A (Hz) over ages.
 * n_per: segments per local time scale (4 for moments only, 32 for spectral grids).
 * If nodes != NULL the node values are appended to it (nodes->priv arrays, n in *n_nodes) and
 * the march continues until the adaptation kernels have decayed too. MG_OK, MG_ENOMEM, MG_ENUM. */
int mg_qr_march(const mg_qr_pop *q, double h0, double A, int n_per, mg_qr_moments *mom,
                struct mg_renewal_priv *nodes, int *n_nodes, mg_err *err);

/* Self-consistent QR rate at input h0: A = 1/T(A, h0). *mom receives the moments there.
 * MG_OK or MG_EINVAL (no solution). */
int mg_qr_rate(const mg_qr_pop *q, double h0, double *A, mg_qr_moments *mom, mg_err *err);

/* Inverse: the input h at which the QR rate equals A (0 < A < 1/t_ref). h_guess may be NAN.
 * MG_OK or MG_EINVAL (no solution found). */
int mg_qr_input(const mg_qr_pop *q, double A, double h_guess, double *h, mg_qr_moments *mom,
                mg_err *err);

/* Static gain dA/dh of the self-consistent QR rate, from the moments at a solution (Hz/mV). */
double mg_qr_gain(double A, const mg_qr_moments *mom);

/* Linear response of renewal r at angular frequency omega >= 0 (rad/s):
 * Shat = Fourier transform of the survival (s), R_u (Hz/mV), R_th (1). Pure. */
void mg_qr_response(const mg_renewal *r, double omega, double complex *Shat,
                    double complex *R_u, double complex *R_th);

/* Renewal spectrum (Hz, two-sided) of N neurons at angular frequency omega (0 = the limit). */
double mg_qr_renewal_psd(const mg_renewal *r, double N, double omega);

/* The mesoscopic network linearized around a fixed point (src/theory/theory_spectrum.c). */
typedef struct {
    int a, b;          /* target, source population */
    double w;          /* mV/Hz, J*p*N_b*tau_m,a */
    double d, ts;      /* s: delay, synaptic time constant (0 = delta synapse) */
} mg_lin_proj;

typedef struct {
    int P;
    mg_renewal *ren;   /* [P] stationary states at the fixed point (grid for the transforms) */
    double *N;         /* [P] neurons */
    int n_proj;
    mg_lin_proj *proj; /* [n_proj], projections with w != 0 */
    /* stationary Ornstein-Uhlenbeck input currents (mg_pop_ou_stationary), in mV of drive:
     * variance and correlation time (s); ou_var 0 where a population has none */
    double ou_var[MG_POP_MAX], ou_tau[MG_POP_MAX];
} mg_net_lin;


/* Build the linearization at rates[P] (Hz) with inputs h = mu + w rates. Each population's
 * renewal state uses its rate in the QR threshold; if |1/T - rate| > rtol*rate the rates are
 * not a fixed point: MG_EINVAL. mu[P] in mV. On error nothing is left allocated. */
int mg_net_lin_alloc(const mg_model *m, const double *mu, const double *rates, double rtol,
                    mg_net_lin *L, mg_err *err);
void mg_net_lin_free(mg_net_lin *L);

/* Auto-spectra S[P][F] (Hz) of the linearized finite-size network at freq_hz[F]. */
int mg_net_lin_spectrum(const mg_net_lin *L, const double *freq_hz, int F, double *S, int ldS,
                        mg_err *err);

/* Number of roots with Re s > 0 of det M(s) = 0, M = diag(1 + R_theta) - diag(R_u) (w .* F),
 * counted with the argument principle along s = 2 pi i f. MG_OK, MG_ENOMEM, or MG_ENUM when
 * the phase could not be followed (then *n_unstable = -1). */
int mg_net_lin_unstable_roots(const mg_net_lin *L, int *n_unstable, mg_err *err);

/* Brent's root finder (R. P. Brent, "Algorithms for Minimization without Derivatives",
 * Prentice-Hall 1973, ch. 4) on [a, b] with f(a) f(b) <= 0. Returns the root; *status is MG_OK
 * or the first non-OK status of f. */
typedef double (*mg_theory_fn)(double x, void *ctx, int *status);
double mg_theory_brent(mg_theory_fn f, void *ctx, double a, double b, double fa, double fb,
                       double xtol, int *status);

#endif /* MESOGIF_THEORY_INTERNAL_H */
