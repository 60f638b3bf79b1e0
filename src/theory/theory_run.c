/* src/theory/theory_run.c: the mean-field theory of a run (`mesogif run --theory`,
 * mg_run_opts.theory; docs/THEORY.md §7), computed by mg_run into mg_result.theory and written
 * by src/io/io_h5_theory.c under /theory (docs/FILE_FORMAT.md).
 *
 * After a run, the mean-field theory of the run's model (include/mesogif/theory.h) is computed
 * and written next to the statistics it is meant to be compared with: every fixed point of the
 * quasi-renewal mean field with its stability, and at each stable one the power spectrum of the
 * finite-size mesoscopic model (linear response; for uncoupled non-adapting populations this is
 * the exact renewal spectrum) at the run's /stats/freq.
 *
 * The spectrum is given as the run's estimator sees it. /stats/psd is the periodogram of A
 * averaged over bins of D = psd_bin_ms and sampled every D, so its expectation is not S(f) but
 *     S_D(f) = sum_k S(f + k/D) sinc^2((f + k/D) D),   sinc(x) = sin(pi x)/(pi x)
 * (averaging over D multiplies the spectrum by sinc^2, sampling folds the images k/D onto f;
 * e.g. M. B. Priestley, "Spectral Analysis and Time Series", Academic Press 1981).
 * Since sum_k sinc^2(x + k) = 1, writing S = A0/N + (S - A0/N) keeps the shot-noise floor A0/N
 * exact and leaves a sum over the deviation S - A0/N, which decays with f: |k| <= 4 images are
 * kept (the neglected sinc^2 weight is below 2/(pi^2 4.5) = 0.045 times a deviation that is
 * below 1e-3 A0/N beyond 4 kHz for the models of MODEL.md §3). Finally the periodogram of a
 * rectangular segment of n samples has the expectation D sum_{|tau|<n} (1 - |tau|/n) c_tau
 * e^{-2 pi i k tau/n} (c the autocovariance of the samples; the leakage of a strong resonance
 * into the low frequencies, 30-130 % at 1-4 Hz for E/I 3(c) with 1 s segments). /theory/psd is
 * that expectation, computed from S_D with two FFTs (expected_periodogram), and
 * /theory/psd_unbinned is S(f) itself at the same frequencies.
 *
 * A failure of the theory never costs the run: mg_run keeps the result and puts the reason into
 * mg_result.theory_error (written as the root attribute theory_error, with no /theory group);
 * problems that still allow a result (a spectrum that failed at one fixed point, step currents
 * changing during the statistics window) go to the warnings (the /theory attribute warnings). */
#include "mesogif/theory.h"
#include "model/stimulus.h" /* mg_pop_ou_stationary */

#include <fftw3.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N_IMAGES 4          /* aliased images k = +-1 .. +-N_IMAGES */
#define IMAGE_GRID 512      /* above this many frequencies the images go on a coarse grid */
#define RATE_MAX_HZ 200.0   /* fixed points searched in (0, max(this, 2 x simulated rate)] */
#ifndef WINDOW_MAX_VALUES
#define WINDOW_MAX_VALUES (1 << 21) /* spectral values the window may need (16 MB) */
#endif


void mg_run_theory_free(mg_run_theory *t)
{
    if (!t)
        return;
    mg_fixed_points_free(&t->fps);
    free(t->psd);
    free(t->psd_unbinned);
    memset(t, 0, sizeof *t);
}

static void add_warning(mg_run_theory *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add_warning(mg_run_theory *t, const char *fmt, ...)
{
    size_t at = strlen(t->warnings);
    if (at + 4 >= sizeof t->warnings)
        return;
    if (at)
        at += (size_t)snprintf(t->warnings + at, sizeof t->warnings - at, "; ");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(t->warnings + at, sizeof t->warnings - at, fmt, ap);
    va_end(ap);
}

static double sinc2(double x)
{
    if (fabs(x) < 1e-8)
        return 1.0;
    double s = sin(M_PI * x) / (M_PI * x);
    return s * s;
}

/* Sum over the images k = +-1..+-N_IMAGES of (S(|f + k fs|) - floor_a) sinc^2((f + k fs) D) at
 * the G frequencies g[G], for every population: out[a][G]. */
static int image_sum(const mg_model *m, double t_eval, const double *rates, const double *g,
                     int G, double D_s, const double *floor_hz, double *out, mg_err *err)
{
    const int P = m->P, NI = 2 * N_IMAGES;
    const double fs = 1.0 / D_s;
    double *fi = malloc((size_t)G * NI * sizeof(double));
    double *Si = malloc((size_t)G * NI * P * sizeof(double));
    if (!fi || !Si) {
        free(fi);
        free(Si);
        return mg_err_set(err, MG_ENOMEM, "out of memory for the aliased spectrum");
    }
    for (int j = 0; j < G; ++j)
        for (int q = 0; q < NI; ++q) {
            int k = q < N_IMAGES ? -(q + 1) : q - N_IMAGES + 1;
            fi[(size_t)j * NI + q] = fabs(g[j] + k * fs);
        }
    int rc = mg_theory_spectrum_at(m, t_eval, rates, fi, G * NI, Si, err);
    for (int a = 0; a < P && rc == MG_OK; ++a)
        for (int j = 0; j < G; ++j) {
            double sum = 0.0;
            for (int q = 0; q < NI; ++q) {
                int k = q < N_IMAGES ? -(q + 1) : q - N_IMAGES + 1;
                double f = g[j] + k * fs;
                sum += (Si[((size_t)a * G + j) * NI + q] - floor_hz[a]) * sinc2(f * D_s);
            }
            out[(size_t)a * G + j] = sum;
        }
    free(fi);
    free(Si);
    return rc;
}

/* Linear interpolation of y[G] given on G points spread evenly over [0, fN], at f in [0, fN]. */
static double lerp_grid(const double *y, int G, double fN, double f)
{
    if (G == 1)
        return y[0];
    double x = f / fN * (G - 1);
    int i0 = (int)x;
    if (i0 >= G - 1)
        i0 = G - 2;
    if (i0 < 0)
        i0 = 0;
    double u = x - i0;
    return (1.0 - u) * y[i0] + u * y[i0 + 1];
}

/* Expected periodogram (the /stats/psd estimator: rectangular segments of n samples, k = 1..F)
 * of a sampled process with spectrum SD given on the periodic grid nu_j = j fs / M,
 * j = 0..M/2 (M = n mf): out[k-1] = D sum_{|tau| < n} (1 - |tau|/n) c_tau e^{-2 pi i k tau/n}
 * with the autocovariance c_tau = integral over one period of SD(nu) e^{2 pi i nu tau D},
 * a Riemann sum on the grid (exact up to the covariance beyond M D - n D, which the caller
 * makes negligible). Both sums are FFTs. */
static int expected_periodogram(const double *SD, int64_t n, int64_t mf, double D_s, int64_t F,
                                double *out)
{
    const int64_t M = n * mf;
    double *x = fftw_alloc_real((size_t)M);
    fftw_complex *X = fftw_alloc_complex((size_t)(M / 2 + 1));
    double *y = fftw_alloc_real((size_t)n);
    fftw_complex *Y = fftw_alloc_complex((size_t)(n / 2 + 1));
    if (!x || !X || !y || !Y) {
        fftw_free(x), fftw_free(X), fftw_free(y), fftw_free(Y);
        return -1;
    }
    fftw_plan p1, p2;
#pragma omp critical(mg_fftw_plan)
    {
        p1 = fftw_plan_dft_r2c_1d((int)M, x, X, FFTW_ESTIMATE);
        p2 = fftw_plan_dft_r2c_1d((int)n, y, Y, FFTW_ESTIMATE);
    }
    /* SD is even and periodic: x_j = SD(nu_j), x_{M-j} = x_j */
    for (int64_t j = 0; j <= M / 2; ++j)
        x[j] = SD[j];
    for (int64_t j = M / 2 + 1; j < M; ++j)
        x[j] = SD[M - j];
    fftw_execute(p1);
    const double dnu = 1.0 / (D_s * (double)M);
    /* c_tau = dnu Re X_tau for tau = 0..n-1 (n - 1 <= M/2 as mf >= 2); fold the lags -tau onto
     * n - tau with the triangle of the rectangular window */
    y[0] = dnu * X[0][0];
    for (int64_t t = 1; t < n; ++t)
        y[t] = dnu * ((1.0 - (double)t / n) * X[t][0] + ((double)t / n) * X[n - t][0]);
    fftw_execute(p2);
    for (int64_t k = 1; k <= F; ++k)
        out[k - 1] = D_s * Y[k][0];
#pragma omp critical(mg_fftw_plan)
    {
        fftw_destroy_plan(p1);
        fftw_destroy_plan(p2);
    }
    fftw_free(x), fftw_free(X), fftw_free(y), fftw_free(Y);
    return 0;
}

/* The frequency grids of the spectra of one fixed point and their scratch: the spectrum S on
 * the NG frequencies nu (the fine grid of the window, or the run's frequencies), the images on
 * the G frequencies g (the grid itself when exact), one population's SD on nu (sd). */
typedef struct {
    int64_t n, mf, F, NG;  /* samples per segment, fine-grid factor, run's frequencies, |nu| */
    int G, exact, windowed;
    double D_s, fN, T_s;   /* sample bin (s), Nyquist frequency (Hz), segment length (s) */
    double *nu, *Sg, *g, *img, *sd; /* nu[NG], Sg[P][NG], g[G], img[P][G], sd[NG] */
} spec_grid;

/* The grid factor mf of the window: the autocovariance from a grid of spacing 1/(mf T) is
 * exact up to covariances at lags beyond (mf - 1) T; tau_c bounds the correlation time (20 s,
 * or 20 adaptation time constants). */
static int64_t window_factor(const mg_model *m, double T_s)
{
    double tau_c = 20.0;
    for (int a = 0; a < m->P; ++a)
        for (int r = 0; r < m->pops[a].n_sfa; ++r)
            if (20e-3 * m->pops[a].tau_sfa[r] > tau_c)
                tau_c = 20e-3 * m->pops[a].tau_sfa[r];
    int64_t mf = (int64_t)ceil(1.0 + tau_c / T_s);
    if (mf < 2)
        mf = 2;
    return mf;
}

/* Lay out the grids of the run's statistics s for model m and allocate them (sg->nu etc. NULL
 * when out of memory; spec_grid_free in either case). */
static void spec_grid_alloc(spec_grid *sg, const mg_model *m, const mg_stats *s)
{
    const int P = m->P;
    memset(sg, 0, sizeof *sg);
    sg->F = s->L.F;
    sg->n = s->L.cfg.psd_n;
    sg->D_s = s->L.cfg.psd_bin_ms * 1e-3;
    sg->fN = 0.5 / sg->D_s;
    sg->T_s = (double)sg->n * sg->D_s;
    sg->mf = window_factor(m, sg->T_s);
    const int64_t Mh = sg->n * sg->mf / 2; /* fine grid nu_j = j / (mf T), j = 0..Mh */
    sg->windowed = (double)(Mh + 1) * P <= (double)WINDOW_MAX_VALUES;
    sg->NG = sg->windowed ? Mh + 1 : sg->F;
    sg->nu = malloc((size_t)sg->NG * sizeof(double));
    sg->Sg = malloc((size_t)sg->NG * P * sizeof(double));
    sg->G = sg->NG <= IMAGE_GRID + 1 ? (int)sg->NG : IMAGE_GRID + 1;
    sg->exact = sg->G == sg->NG && sg->windowed; /* images at the grid points themselves */
    sg->g = malloc((size_t)sg->G * sizeof(double));
    sg->img = malloc((size_t)sg->G * P * sizeof(double));
    sg->sd = malloc((size_t)sg->NG * sizeof(double));
}

static void spec_grid_free(spec_grid *sg)
{
    free(sg->nu), free(sg->Sg), free(sg->g), free(sg->img), free(sg->sd);
}

/* S and SD of population a ([F] each) from the spectrum and the images on the grids: SD is
 * floor + (S - floor) sinc^2 + images, seen through the window when sg->windowed; both in
 * the /stats/psd convention (one-sided doubles every bin below Nyquist). */
static int pop_spectra(const spec_grid *sg, int a, double floor_a, int onesided, double *Sout,
                       double *SDout, mg_err *err)
{
    const int64_t NG = sg->NG, F = sg->F, n = sg->n, mf = sg->mf;
    const int G = sg->G;
    const double *Sa = sg->Sg + (size_t)a * NG, *nu = sg->nu;
    double *sd = sg->sd;
    for (int64_t j = 0; j < NG; ++j) {
        double im = sg->exact ? sg->img[(size_t)a * G + j]
                              : lerp_grid(sg->img + (size_t)a * G, G, sg->fN, nu[j]);
        sd[j] = floor_a + (Sa[j] - floor_a) * sinc2(nu[j] * sg->D_s) + im;
    }
    if (sg->windowed) {
        if (expected_periodogram(sd, n, mf, sg->D_s, F, SDout) != 0)
            return mg_err_set(err, MG_ENOMEM, "out of memory for the window of %lld samples",
                              (long long)n);
        for (int64_t k = 0; k < F; ++k)
            Sout[k] = Sa[(k + 1) * mf]; /* f_k = k df is grid point k mf */
    } else {
        for (int64_t k = 0; k < F; ++k) {
            Sout[k] = Sa[k];
            SDout[k] = sd[k];
        }
    }
    for (int64_t k = 0; k < F; ++k) {
        double fold = onesided && !(n % 2 == 0 && k == F - 1) ? 2.0 : 1.0;
        Sout[k] *= fold;
        SDout[k] *= fold;
    }
    return MG_OK;
}

/* Spectra of one stable fixed point at the run's frequencies, [P][F] each: S (the spectrum of
 * the continuous-time activity) and SD (the expectation of /stats/psd: S averaged over the
 * sample bin, aliased, and seen through the rectangular window of the segments). *windowed
 * is 0 when the grid the window needs was too large and SD is only averaged and aliased. */
static int fixed_point_spectra(const mg_model *m, const mg_stats *s, double t_eval,
                               const mg_fixed_point *fp, double *S, double *SD, int *windowed,
                               mg_err *err)
{
    const int P = m->P;
    double floor_hz[MG_POP_MAX];
    for (int a = 0; a < P; ++a)
        floor_hz[a] = fp->A_hz[a] / (double)m->pops[a].N;
    spec_grid sg;
    spec_grid_alloc(&sg, m, s);
    *windowed = sg.windowed;
    const int64_t NG = sg.NG, F = sg.F;
    const int G = sg.G;
    int rc = MG_OK;
    if (!sg.nu || !sg.Sg || !sg.g || !sg.img || !sg.sd) {
        rc = mg_err_set(err, MG_ENOMEM, "out of memory for the spectrum on %lld frequencies",
                        (long long)NG);
        goto done;
    }
    for (int64_t j = 0; j < NG; ++j)
        sg.nu[j] = sg.windowed ? (double)j / ((double)sg.mf * sg.T_s) : s->freq[j];
    rc = mg_theory_spectrum_at(m, t_eval, fp->A_hz, sg.nu, (int)NG, sg.Sg, err);
    if (rc != MG_OK)
        goto done;
    /* the images vary on the scale of the refractory period and the delays (>= 100 Hz): on
     * fine grids they are computed on IMAGE_GRID + 1 points of [0, fN] and interpolated
     * linearly (error below 1e-4 of the image term) */
    for (int j = 0; j < G; ++j)
        sg.g[j] = sg.exact ? sg.nu[j] : (G == 1 ? 0.0 : sg.fN * j / (G - 1));
    rc = image_sum(m, t_eval, fp->A_hz, sg.g, G, sg.D_s, floor_hz, sg.img, err);
    for (int a = 0; a < P && rc == MG_OK; ++a)
        rc = pop_spectra(&sg, a, floor_hz[a], s->L.cfg.onesided, S + (size_t)a * F,
                         SD + (size_t)a * F, err);
done:
    spec_grid_free(&sg);
    return rc;
}

/* Step currents: the statistics start at t_warmup, so the theory takes the currents of that
 * moment (t->t_eval_ms; -1 without step currents); if they change later the statistics are not
 * stationary. Warnings for that and for the stimuli the stationary theory leaves out or takes
 * to linear order. */
static void stimulus_warnings(const mg_model *m, const mg_run_opts *o, mg_run_theory *t)
{
    const int P = m->P;
    int steps = 0, late = 0;
    for (int a = 0; a < P; ++a)
        for (int i = 0; i < m->pops[a].n_steps; ++i) {
            steps = 1;
            double ts = m->pops[a].step_times[i];
            if (ts > o->t_warmup_ms && ts < o->t_sim_ms)
                late = 1;
        }
    t->t_eval_ms = steps ? o->t_warmup_ms : -1.0;
    if (late)
        add_warning(t, "step currents change after the warm-up: the statistics are not "
                    "stationary, the theory uses the currents at t_warmup");
    for (int a = 0; a < P; ++a) {
        const mg_pop *p = &m->pops[a];
        if (p->has_ac || p->n_series > 0 || (p->has_ou && !mg_pop_ou_stationary(p))) {
            add_warning(t, "time-dependent stimuli (ac_current, time_current, ou_current with "
                        "start/stop) are left out of the stationary theory: it uses I_e, the "
                        "step currents and OU currents on for the whole run");
            break;
        }
    }
    for (int a = 0; a < P; ++a)
        if (mg_pop_ou_stationary(&m->pops[a])) {
            add_warning(t, "ou_current: in the theory to linear order (its mean in mu, its "
                        "spectrum through the susceptibility); the rate shift of order std^2 "
                        "is not");
            break;
        }
}

/* Is the model renewal (no adaptation, no coupling)? Then the spectrum is the exact one. */
static int is_renewal(const mg_model *m)
{
    int renewal = 1;
    for (int a = 0; a < m->P; ++a)
        for (int r = 0; r < m->pops[a].n_sfa; ++r)
            if (m->pops[a].q_sfa[r] != 0.0)
                renewal = 0;
    for (int i = 0; i < m->n_proj; ++i)
        if (m->proj[i].J != 0.0 && m->proj[i].p > 0.0)
            renewal = 0;
    return renewal;
}

/* The spectra at every stable fixed point (NaN at the unstable ones and where one failed,
 * with a warning). */
static int spectra_at_fixed_points(const mg_model *m, const mg_stats *s, mg_run_theory *t,
                                   mg_err *err)
{
    const int n = t->fps.n;
    size_t per = (size_t)m->P * (size_t)t->F;
    t->windowed = 1;
    t->psd = malloc((size_t)n * per * sizeof(double));
    t->psd_unbinned = malloc((size_t)n * per * sizeof(double));
    if (!t->psd || !t->psd_unbinned)
        return mg_err_set(err, MG_ENOMEM, "out of memory for %d x %zu spectral values", n, per);
    for (int k = 0; k < n; ++k) {
        double *S = t->psd_unbinned + (size_t)k * per, *SD = t->psd + (size_t)k * per;
        for (size_t j = 0; j < per; ++j)
            S[j] = SD[j] = NAN;
        if (!t->fps.fp[k].stable)
            continue;
        mg_err e2 = {{0}};
        int win = 1;
        int rc2 = fixed_point_spectra(m, s, t->t_eval_ms, &t->fps.fp[k], S, SD, &win, &e2);
        t->windowed = t->windowed && win;
        if (rc2 != MG_OK) {
            for (size_t j = 0; j < per; ++j)
                S[j] = SD[j] = NAN;
            add_warning(t, "spectrum at fixed point %d failed: %s", k + 1, e2.msg);
        }
    }
    return MG_OK;
}

int mg_theory_of_run(const mg_model *m, const mg_result *res, mg_run_theory *t, mg_err *err)
{
    memset(t, 0, sizeof *t);
    const int P = m->P;
    const mg_stats *s = &res->stats;
    t->P = P;
    t->F = s->L.F > 0 && s->freq ? s->L.F : 0;
    if (P != res->P)
        return mg_err_set(err, MG_EINVAL, "the result has %d populations, the model %d",
                          res->P, P);
    stimulus_warnings(m, &res->opts, t);
    t->rate_max_hz = RATE_MAX_HZ;
    for (int a = 0; a < P && s->mean_A; ++a)
        if (isfinite(s->mean_A[a]) && 2.0 * s->mean_A[a] > t->rate_max_hz)
            t->rate_max_hz = 2.0 * s->mean_A[a];
    t->renewal = is_renewal(m);
    int rc = mg_theory_fixed_points_at(m, t->rate_max_hz, t->t_eval_ms, &t->fps, err);
    if (rc != MG_OK)
        return mg_err_prefix(err, rc, "fixed points");
    if (t->F == 0 || t->fps.n == 0)
        return MG_OK;
    return spectra_at_fixed_points(m, s, t, err);
}
