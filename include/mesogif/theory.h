/* include/mesogif/theory.h: what mesogif computes from a model alone, without simulating it.
 *
 *  - Stationary quasi-renewal (QR) theory of one population at constant input (MODEL.md §4.1):
 *    rate, ISI CV, hazard, survival and ISI density on a grid, with the QR threshold of
 *    adapting neurons (the rate appears on both sides and is solved for).
 *  - Mean-field fixed points of a network, A = Phi(mu + W A) (MODEL.md §2.2, §4.4), all of them
 *    in a bounded rate range, with their linear stability.
 *  - Spectra: the exact renewal spectrum of an uncoupled non-adapting population (MODEL.md §4.3)
 *    and the linear-response spectrum of the finite-size mesoscopic model around a stable fixed
 *    point (coupled and/or adapting populations).
 * docs/THEORY.md gives the derivations, the numerics and the references (Schwalger, Deger &
 * Gerstner 2017 PLoS Comput Biol 13:e1005507; Deger, Schwalger, Naud & Gerstner 2014 Phys Rev E
 * 90:062704; Lindner, Doiron & Longtin 2005 Phys Rev E 72:061919; Naud & Gerstner 2012 PLoS
 * Comput Biol 8:e1002711).
 *
 * Units: parameters come in the model's NEST units (ms, mV, pA, pF, Hz). Results carry their unit
 * in their name (rates Hz, ages ms, potentials mV, gains Hz/mV, spectra Hz = Hz^2/Hz, two-sided).
 * The synaptic coupling used throughout is w[a][b] = sum over projections b->a of J*p*N_b*tau_m,a
 * (mV/Hz); the input potential of population a is h_a = mu_a + sum_b w[a][b]*A_b with
 * mu = E_L + I_e*tau_m/C_m. Every function here is deterministic, allocates only what it
 * returns (or frees before returning), never prints and is reentrant. */
#ifndef MESOGIF_THEORY_H
#define MESOGIF_THEORY_H

#include "mesogif/error.h"
#include "mesogif/model.h"
#include "mesogif/run.h"

/* A complex number as two doubles (kept out of <complex.h> so that C++ and CUDA code can include
 * this header). */
typedef struct {
    double re, im;
} mg_cplx;

typedef struct mg_renewal_priv mg_renewal_priv;

/* Stationary state of one population at constant input h0 (QR theory, MODEL.md §4.1).
 * For ages tau < t_ref the hazard is 0 and the survival 1; the grid covers [t_ref, tau_end]
 * with nodes placed adaptively (a fixed fraction of the local time scale of hazard, survival,
 * membrane and adaptation kernels); beyond the last node either the survival is below 1e-15 or
 * the hazard is constant (hazard_inf_hz) to 13 digits. */
typedef struct {
    double h0_mV;            /* constant input potential */
    double A0_hz;            /* stationary rate = 1 / mean ISI */
    double mean_isi_ms;
    double cv;               /* coefficient of variation of the ISI (of the QR renewal process) */
    double gain_hz_per_mV;   /* dA0/dh0, the QR self-consistency included (static susceptibility) */
    double t_ref_ms;
    double hazard_inf_hz;    /* c*exp((h0 - u_th)/Delta_u): hazard at ages where all kernels decayed */
    int adapting;            /* 1 when the population has a nonzero adaptation kernel (QR used) */
    int n;                   /* grid nodes */
    double *tau_ms;          /* [n] ages, tau_ms[0] = t_ref, increasing */
    double *survival;        /* [n] S(tau) */
    double *hazard_hz;       /* [n] rho(tau) (right limit at t_ref) */
    double *isi_density_hz;  /* [n] P(tau) = rho*S, per second */
    mg_renewal_priv *priv;   /* internal: derivatives and kernel values at the nodes */
} mg_renewal;

/* Stationary QR state of population p at constant input h0_mV (mV; the effective input
 * mu + sum w*A, not mu alone). Solves A0 = 1/integral S(tau; A0) for adapting populations
 * (bisection-safeguarded Newton on A*integral S - 1; unique for nonnegative kernels).
 * Returns MG_OK and fills *out (free with mg_renewal_free); MG_EINVAL for invalid parameters or
 * when no self-consistent rate exists (facilitating kernels with t_ref = 0), MG_ENOMEM.
 * On error *out is zeroed. Cost: about a millisecond. */
int mg_theory_stationary_pop(const mg_pop *p, double h0_mV, mg_renewal *out, mg_err *err);

/* The same, with the rate in the QR threshold fixed to A_qr_hz >= 0 instead of solved for
 * (A0_hz is then 1/mean ISI, which equals A_qr_hz only at a self-consistent point, and
 * gain_hz_per_mV is the self-consistent gain formula evaluated there). Used for network fixed
 * points, where the rate is known. */
int mg_theory_renewal_at(const mg_pop *p, double h0_mV, double A_qr_hz, mg_renewal *out,
                         mg_err *err);

/* Release what r owns and zero it. r may be NULL; freeing a zeroed struct does nothing. */
void mg_renewal_free(mg_renewal *r);

/* Survival S, hazard (Hz) and ISI density (1/s) at age tau_ms >= 0, interpolated (cubic Hermite,
 * relative error about 1e-9) between grid nodes, exponential beyond the last node; any output
 * pointer may be NULL. A zeroed r gives S = 1, hazard 0. Pure. */
void mg_renewal_eval(const mg_renewal *r, double tau_ms, double *S, double *hazard_hz,
                     double *isi_density_hz);

/* Exact renewal spectrum of N independent neurons with r's ISI density (MODEL.md §4.3):
 * S(f) = (A0/N) (1 - |P^(f)|^2) / |1 - P^(f)|^2, two-sided, in Hz; S(0) = A0 CV^2/N (evaluated as
 * the limit), S(f -> inf) -> A0/N. P^ is the Fourier transform of the ISI density, computed
 * as 1 - 2 pi i f S^(f) from the transform of the survival (Filon-Hermite quadrature, exact
 * for every f). freq_hz[F] >= 0; S_out[F]. N > 0. */
int mg_theory_renewal_spectrum(const mg_renewal *r, double N, const double *freq_hz, int F,
                               double *S_out, mg_err *err);

/* Linear response of population r (docs/THEORY.md §3) at freq_hz[F] >= 0:
 *   R_u     (Hz/mV): response of A to its input potential drive I (tau_m du/dt = -u + mu + I),
 *                    with the QR threshold held at its stationary value;
 *   R_theta (1):     response to the activity that enters the QR threshold (adaptation
 *                    feedback; 0 for non-adapting populations);
 *   P_hat   (1):     Fourier transform of the ISI density.
 * The susceptibility of the population with its adaptation is chi = R_u / (1 + R_theta);
 * chi(0) = gain_hz_per_mV. Any output may be NULL; arrays have F entries. */
int mg_theory_pop_response(const mg_renewal *r, const double *freq_hz, int F, mg_cplx *R_u,
                           mg_cplx *R_theta, mg_cplx *P_hat, mg_err *err);

/* Mean input mu (mV) of every population at time t_ms (step currents included when t_ms >= 0,
 * ignored when t_ms < 0; the mean of an ou_current on for the whole run included), and the
 * coupling matrix w[a][b] (mV/Hz, [P][P], row = target).
 * Either output may be NULL. */
void mg_theory_mu(const mg_model *m, double t_ms, double *mu_mV);
void mg_theory_coupling(const mg_model *m, double *w_mV_per_hz);

/* One fixed point of the mean-field network. */
typedef struct {
    double A_hz[MG_POP_MAX];           /* rates */
    double h_mV[MG_POP_MAX];           /* input potentials mu + w A */
    double gain_hz_per_mV[MG_POP_MAX]; /* Phi'(h), QR included */
    double cv[MG_POP_MAX];             /* ISI CV of each population's QR renewal process */
    double static_eig_re;    /* largest real part of the eigenvalues of diag(Phi') w */
    double static_eig_im;    /* its imaginary part */
    int static_stable;       /* 1 if static_eig_re < 1 (stable under rate dynamics, §4.4) */
    int n_unstable;          /* roots of the linear-response characteristic equation with
                                Re s > 0 (argument principle along the imaginary axis) */
    int stable;              /* 1 if n_unstable == 0: stable under the population dynamics */
} mg_fixed_point;

typedef struct {
    int P;                 /* populations */
    int n;                 /* fixed points found, sorted by A_hz[0], then A_hz[1], ... */
    mg_fixed_point *fp;    /* [n], owned */
    int complete;          /* 1 when the search is exhaustive up to tangencies (P <= 2); 0 for
                              the multi-start search used for P >= 3 */
} mg_fixed_points;

/* Every fixed point A_a = Phi_a(mu_a + sum_b w[a][b] A_b) with all rates in (0, rate_max_hz]
 * (rate_max_hz > 0; it is capped at 0.999/t_ref), external step currents ignored, with their
 * stability. Method (docs/THEORY.md §2): P = 1: scan of A*T(A, mu + w A) - 1 on a log-linear grid
 * of 600 rates, sign changes refined by Brent's method; P = 2: reduction to one dimension by
 * eliminating one population through the inverse transfer function, then the same scan; P >= 3:
 * damped Newton from quasi-random starts, deduplicated. Fixed points where the scanned function
 * only touches zero (tangencies) and rates below 1e-4 Hz may be missed.
 * Returns MG_OK (out->n may be 0), MG_EINVAL, MG_ENOMEM; free with mg_fixed_points_free. */
int mg_theory_fixed_points(const mg_model *m, double rate_max_hz, mg_fixed_points *out,
                           mg_err *err);

/* The same with the step currents evaluated at t_ms (t_ms < 0: ignored). */
int mg_theory_fixed_points_at(const mg_model *m, double rate_max_hz, double t_ms,
                              mg_fixed_points *out, mg_err *err);

/* Release what fps owns and zero it; NULL is fine. */
void mg_fixed_points_free(mg_fixed_points *fps);

/* Power spectra (two-sided, Hz) of the activities A_N of every population of the finite-size
 * mesoscopic model, linearized around the fixed point rates_hz[P] (docs/THEORY.md §4):
 * delta A = (D - diag(R_u) (w .* F(f)))^-1 xi, D = diag(1 + R_theta), F = synaptic filters
 * exp(-2 pi i f d)/(1 + 2 pi i f tau_s), xi the finite-size noise with the renewal spectrum of
 * each population. S_out[P][F] (population slowest). For an uncoupled non-adapting population
 * this is the renewal spectrum; S -> A0/N at high f. rates_hz must be a fixed point (each rate
 * within 1e-3 relative of Phi(mu + w A)), else MG_EINVAL; t_ms as in mg_theory_mu (use -1).
 * The result is meaningful only around a stable fixed point. */
int mg_theory_spectrum(const mg_model *m, const double *rates_hz, const double *freq_hz, int F,
                       double *S_out, mg_err *err);
int mg_theory_spectrum_at(const mg_model *m, double t_ms, const double *rates_hz,
                          const double *freq_hz, int F, double *S_out, mg_err *err);

/* The theory of a run (mg_run_opts.theory; docs/THEORY.md §7): every fixed point of the run's
 * model with its stability and, at each stable one, the spectra at the run's frequencies
 * (/stats/freq): psd as the run's estimator sees it (averaged over the sample bin, aliased,
 * through the window of the segments) and psd_unbinned = S(f); NaN rows at unstable points. */
typedef struct mg_run_theory {
    mg_fixed_points fps;
    int P;
    int64_t F;             /* frequencies; 0 when the run has no spectra */
    double *psd;           /* [fps.n][P][F] */
    double *psd_unbinned;  /* [fps.n][P][F] */
    double t_eval_ms;      /* step currents evaluated here; -1 when the model has none */
    double rate_max_hz;    /* fixed points searched in (0, rate_max_hz] */
    int renewal;           /* 1: no coupling, no adaptation: the spectra are renewal spectra */
    int windowed;          /* 1: psd includes the window of the segments (always but for huge
                              segments) */
    char warnings[MG_ERR_LEN]; /* "" or what limits the result ("; "-separated) */
} mg_run_theory;

/* The theory of the run res of model m into *t (free with mg_run_theory_free). MG_OK, or an
 * error with *t to be freed (MG_EINVAL: res is not of m; the fixed-point search failed;
 * MG_ENOMEM). mg_run calls it after the simulation when opts.theory is set. */
int mg_theory_of_run(const mg_model *m, const mg_result *res, mg_run_theory *t, mg_err *err);

/* Release what t owns and zero it; NULL is fine. */
void mg_run_theory_free(mg_run_theory *t);

#endif /* MESOGIF_THEORY_H */
