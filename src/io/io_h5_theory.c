/* src/io/io_h5_theory.c: the /theory group of a format-1 file (`mesogif run --theory`;
 * docs/THEORY.md §7, docs/FILE_FORMAT.md).
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
 * A failure of the theory never costs the run: mg_h5_write_theory always returns 0 and leaves
 * either a complete /theory group or none, with the reason in the root attribute theory_error;
 * problems that still allow a result (a spectrum that failed at one fixed point, step currents
 * changing during the statistics window) go to the /theory attribute warnings.
 * mg_h5_theory_print reads what was written and prints the table for the command line. */
#include "io/io_h5_internal.h"
#include "mesogif/io.h"
#include "mesogif/theory.h"

#include <fftw3.h>
#include <hdf5.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define THEORY_LAYOUT_VERSION 1
#define N_IMAGES 4          /* aliased images k = +-1 .. +-N_IMAGES */
#define IMAGE_GRID 512      /* above this many frequencies the images go on a coarse grid */
#define RATE_MAX_HZ 200.0   /* fixed points searched in (0, max(this, 2 x simulated rate)] */
#ifndef WINDOW_MAX_VALUES
#define WINDOW_MAX_VALUES (1 << 21) /* spectral values the window may need (16 MB) */
#endif

/* ---- the computation ----------------------------------------------------------------------- */

typedef struct {
    mg_fixed_points fps;
    int P;
    int64_t F;             /* 0 when the run has no spectra */
    double *psd;           /* [n][P][F] S_D, NaN rows at unstable points */
    double *psd_unbinned;  /* [n][P][F] S */
    double t_eval_ms;      /* step currents evaluated here; -1 when the model has none */
    double rate_max_hz;
    int renewal;           /* 1: no coupling, no adaptation: the spectra are renewal spectra */
    int windowed;          /* 1: psd includes the window of the segments (always but for huge
                              segments, see fixed_point_spectra) */
    char warnings[MG_ERR_LEN];
} theory_out;

static void theory_out_free(theory_out *t)
{
    mg_fixed_points_free(&t->fps);
    free(t->psd);
    free(t->psd_unbinned);
    memset(t, 0, sizeof *t);
}

static void add_warning(theory_out *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add_warning(theory_out *t, const char *fmt, ...)
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

/* Spectra of one stable fixed point at the run's frequencies, [P][F] each: S (the spectrum of
 * the continuous-time activity) and SD (the expectation of /stats/psd: S averaged over the
 * sample bin, aliased, and seen through the rectangular window of the segments). *windowed
 * is 0 when the grid the window needs was too large and SD is only averaged and aliased. */
static int fixed_point_spectra(const mg_model *m, const mg_stats *s, double t_eval,
                               const mg_fixed_point *fp, double *S, double *SD, int *windowed,
                               mg_err *err)
{
    const int P = m->P;
    const int64_t F = s->L.F, n = s->L.cfg.psd_n;
    const mg_stats_cfg *c = &s->L.cfg;
    const double D_s = c->psd_bin_ms * 1e-3, fN = 0.5 / D_s, T_s = (double)n * D_s;
    double floor_hz[MG_POP_MAX];
    for (int a = 0; a < P; ++a)
        floor_hz[a] = fp->A_hz[a] / (double)m->pops[a].N;
    /* The window: the autocovariance from a grid of spacing 1/(mf T) is exact up to
     * covariances at lags beyond (mf - 1) T; tau_c bounds the correlation time (20 s, or 20
     * adaptation time constants). */
    double tau_c = 20.0;
    for (int a = 0; a < P; ++a)
        for (int r = 0; r < m->pops[a].n_sfa; ++r)
            if (20e-3 * m->pops[a].tau_sfa[r] > tau_c)
                tau_c = 20e-3 * m->pops[a].tau_sfa[r];
    int64_t mf = (int64_t)ceil(1.0 + tau_c / T_s);
    if (mf < 2)
        mf = 2;
    const int64_t Mh = n * mf / 2; /* fine grid nu_j = j / (mf T), j = 0..Mh */
    *windowed = (double)(Mh + 1) * P <= (double)WINDOW_MAX_VALUES;
    const int64_t NG = *windowed ? Mh + 1 : F;
    double *nu = malloc((size_t)NG * sizeof(double));
    double *Sg = malloc((size_t)NG * P * sizeof(double));
    int G = NG <= IMAGE_GRID + 1 ? (int)NG : IMAGE_GRID + 1;
    int exact = G == NG && *windowed; /* images at the grid points themselves */
    double *g = malloc((size_t)G * sizeof(double));
    double *img = malloc((size_t)G * P * sizeof(double));
    double *sd = malloc((size_t)NG * sizeof(double));
    int rc = MG_OK;
    if (!nu || !Sg || !g || !img || !sd) {
        rc = mg_err_set(err, MG_ENOMEM, "out of memory for the spectrum on %lld frequencies",
                        (long long)NG);
        goto done;
    }
    for (int64_t j = 0; j < NG; ++j)
        nu[j] = *windowed ? (double)j / ((double)mf * T_s) : s->freq[j];
    rc = mg_theory_spectrum_at(m, t_eval, fp->A_hz, nu, (int)NG, Sg, err);
    if (rc != MG_OK)
        goto done;
    /* the images vary on the scale of the refractory period and the delays (>= 100 Hz): on
     * fine grids they are computed on IMAGE_GRID + 1 points of [0, fN] and interpolated
     * linearly (error below 1e-4 of the image term) */
    for (int j = 0; j < G; ++j)
        g[j] = exact ? nu[j] : (G == 1 ? 0.0 : fN * j / (G - 1));
    rc = image_sum(m, t_eval, fp->A_hz, g, G, D_s, floor_hz, img, err);
    if (rc != MG_OK)
        goto done;
    for (int a = 0; a < P; ++a) {
        const double *Sa = Sg + (size_t)a * NG;
        for (int64_t j = 0; j < NG; ++j) {
            double im = exact ? img[(size_t)a * G + j] : lerp_grid(img + (size_t)a * G, G, fN,
                                                                  nu[j]);
            sd[j] = floor_hz[a] + (Sa[j] - floor_hz[a]) * sinc2(nu[j] * D_s) + im;
        }
        double *Sout = S + (size_t)a * F, *SDout = SD + (size_t)a * F;
        if (*windowed) {
            if (expected_periodogram(sd, n, mf, D_s, F, SDout) != 0) {
                rc = mg_err_set(err, MG_ENOMEM, "out of memory for the window of %lld samples",
                                (long long)n);
                goto done;
            }
            for (int64_t k = 0; k < F; ++k)
                Sout[k] = Sa[(k + 1) * mf]; /* f_k = k df is grid point k mf */
        } else {
            for (int64_t k = 0; k < F; ++k) {
                Sout[k] = Sa[k];
                SDout[k] = sd[k];
            }
        }
        /* the /stats/psd convention: one-sided doubles every bin below Nyquist */
        for (int64_t k = 0; k < F; ++k) {
            double fold = c->onesided && !(n % 2 == 0 && k == F - 1) ? 2.0 : 1.0;
            Sout[k] *= fold;
            SDout[k] *= fold;
        }
    }
done:
    free(nu), free(Sg), free(g), free(img), free(sd);
    return rc;
}

static int theory_compute(const mg_result *res, const mg_model *m, theory_out *t, mg_err *err)
{
    memset(t, 0, sizeof *t);
    const int P = m->P;
    const mg_run_opts *o = &res->opts;
    const mg_stats *s = &res->stats;
    t->P = P;
    t->F = s->L.F > 0 && s->freq ? s->L.F : 0;
    if (P != res->P)
        return mg_err_set(err, MG_EINVAL, "the result has %d populations, the model %d",
                          res->P, P);
    /* Step currents: the statistics start at t_warmup, so the theory takes the currents of
     * that moment; if they change later the statistics are not stationary. */
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
    for (int a = 0; a < P; ++a)
        if (mg_pop_has_stimulus(&m->pops[a])) { /* src/model/stimulus.c */
            add_warning(t, "time-dependent stimuli (ac_current, ou_current, time_current) are "
                        "left out of the stationary theory: it uses I_e and the step currents");
            break;
        }
    t->rate_max_hz = RATE_MAX_HZ;
    for (int a = 0; a < P && s->mean_A; ++a)
        if (isfinite(s->mean_A[a]) && 2.0 * s->mean_A[a] > t->rate_max_hz)
            t->rate_max_hz = 2.0 * s->mean_A[a];
    t->renewal = 1;
    for (int a = 0; a < P; ++a)
        for (int r = 0; r < m->pops[a].n_sfa; ++r)
            if (m->pops[a].q_sfa[r] != 0.0)
                t->renewal = 0;
    for (int i = 0; i < m->n_proj; ++i)
        if (m->proj[i].J != 0.0 && m->proj[i].p > 0.0)
            t->renewal = 0;

    int rc = mg_theory_fixed_points_at(m, t->rate_max_hz, t->t_eval_ms, &t->fps, err);
    if (rc != MG_OK)
        return mg_err_prefix(err, rc, "fixed points");
    const int n = t->fps.n;
    if (t->F == 0 || n == 0)
        return MG_OK;
    size_t per = (size_t)P * (size_t)t->F;
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

/* ---- writing ------------------------------------------------------------------------------- */

static int dset_f64(hid_t loc, const char *path, int rank, const hsize_t *dims, const double *v)
{
    return mg_h5_dset(loc, path, H5T_NATIVE_DOUBLE, H5T_IEEE_F64LE, rank, dims, v, 0);
}

static int theory_write(hid_t f, const mg_result *res, const theory_out *t)
{
    const int n = t->fps.n, P = t->P;
    const int64_t F = t->F;
    hid_t g = H5Gcreate2(f, "/theory", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (g < 0)
        return -1;
    int rc = 0;
    rc |= mg_h5_attr_i64(g, "version", THEORY_LAYOUT_VERSION);
    rc |= mg_h5_attr_str(g, "method", t->renewal ? "renewal" : "linear_response");
    rc |= mg_h5_attr_i64(g, "complete", t->fps.complete);
    rc |= mg_h5_attr_str(g, "description",
                      t->renewal
                          ? "uncoupled non-adapting populations: stationary renewal theory, exact "
                            "renewal spectrum of N independent neurons (docs/THEORY.md)"
                          : "quasi-renewal mean-field fixed points with linear stability; "
                            "spectra of the finite-size mesoscopic model linearized around each "
                            "stable fixed point (docs/THEORY.md)");
    rc |= mg_h5_attr_f64(g, "rate_max_hz", t->rate_max_hz);
    rc |= mg_h5_attr_f64(g, "t_eval_ms", t->t_eval_ms);
    rc |= mg_h5_attr_str(g, "warnings", t->warnings);
    rc |= mg_h5_attr_str(g, "mesogif_version", MG_VERSION);

    double *buf = malloc(((size_t)n * P + 1) * sizeof(double));
    double *eig = malloc(((size_t)n * 2 + 1) * sizeof(double));
    int8_t *st = malloc((size_t)n + 1);
    int64_t *nu = malloc(((size_t)n + 1) * sizeof(int64_t));
    if (!buf || !eig || !st || !nu) {
        free(buf), free(eig), free(st), free(nu);
        H5Gclose(g);
        return -1;
    }
    hsize_t nP[2] = {(hsize_t)n, (hsize_t)P}, n1 = (hsize_t)n, n2[2] = {(hsize_t)n, 2};
    for (int k = 0; k < n; ++k) {
        const mg_fixed_point *fp = &t->fps.fp[k];
        st[k] = (int8_t)(fp->stable ? 1 : 0);
        nu[k] = fp->n_unstable;
        eig[2 * k] = fp->static_eig_re;
        eig[2 * k + 1] = fp->static_eig_im;
    }
    for (int k = 0; k < n; ++k)
        for (int a = 0; a < P; ++a)
            buf[(size_t)k * P + a] = t->fps.fp[k].A_hz[a];
    rc |= dset_f64(g, "fixed_points/rates_hz", 2, nP, buf);
    rc |= mg_h5_dset(g, "fixed_points/stable", H5T_NATIVE_INT8, H5T_STD_I8LE, 1, &n1, st, 0);
    rc |= mg_h5_dset(g, "fixed_points/n_unstable", H5T_NATIVE_INT64, H5T_STD_I64LE, 1, &n1, nu, 0);
    rc |= dset_f64(g, "fixed_points/static_eig", 2, n2, eig);
    for (int k = 0; k < n; ++k)
        for (int a = 0; a < P; ++a)
            buf[(size_t)k * P + a] = t->fps.fp[k].h_mV[a];
    rc |= dset_f64(g, "fixed_points/h_mV", 2, nP, buf);
    for (int k = 0; k < n; ++k)
        for (int a = 0; a < P; ++a)
            buf[(size_t)k * P + a] = t->fps.fp[k].gain_hz_per_mV[a];
    rc |= dset_f64(g, "fixed_points/gain_hz_per_mV", 2, nP, buf);
    for (int k = 0; k < n; ++k)
        for (int a = 0; a < P; ++a) {
            double cv = t->fps.fp[k].cv[a];
            buf[(size_t)k * P + a] = isfinite(cv) && cv >= 0 ? cv : NAN;
        }
    rc |= dset_f64(g, "cv", 2, nP, buf);
    free(buf), free(eig), free(st), free(nu);

    if (F > 0) {
        const mg_stats *s = &res->stats;
        const mg_stats_cfg *c = &s->L.cfg;
        hsize_t F1 = (hsize_t)F, nPF[3] = {(hsize_t)n, (hsize_t)P, (hsize_t)F};
        rc |= dset_f64(g, "freq", 1, &F1, s->freq);
        /* n = 0: empty [0][P][F] arrays; the buffers are then NULL and nothing is written */
        rc |= dset_f64(g, "psd", 3, nPF, t->psd);
        rc |= dset_f64(g, "psd_unbinned", 3, nPF, t->psd_unbinned);
        hid_t d = H5Dopen2(g, "psd", H5P_DEFAULT);
        if (d < 0) {
            rc = -1;
        } else {
            rc |= mg_h5_attr_i64(d, "onesided", c->onesided);
            rc |= mg_h5_attr_f64(d, "sample_bin_ms", c->psd_bin_ms);
            rc |= mg_h5_attr_str(d, "units", "Hz (spectral density of A in Hz^2/Hz)");
            rc |= mg_h5_attr_str(d, "sampling",
                              t->windowed
                                  ? "expectation of /stats/psd: S averaged over bins of D = "
                                    "sample_bin_ms, aliased (sum_k S(f + k/D) sinc^2((f + k/D) D), "
                                    "|k| <= 4) and seen through the rectangular window of the "
                                    "segments (leakage); NaN rows at unstable fixed points"
                                  : "S averaged over bins of D = sample_bin_ms and aliased "
                                    "(sum_k S(f + k/D) sinc^2((f + k/D) D), |k| <= 4); the window "
                                    "of the segments is not included (too many frequencies); NaN "
                                    "rows at unstable fixed points");
            rc |= mg_h5_attr_i64(d, "window_included", t->windowed);
            H5Dclose(d);
        }
        d = H5Dopen2(g, "psd_unbinned", H5P_DEFAULT);
        if (d < 0) {
            rc = -1;
        } else {
            rc |= mg_h5_attr_i64(d, "onesided", c->onesided);
            rc |= mg_h5_attr_str(d, "sampling", "S(f) of the continuous-time activity");
            H5Dclose(d);
        }
    }
    H5Gclose(g);
    return rc ? -1 : 0;
}

int mg_h5_write_theory(hid_t f, const mg_result *res, const mg_model *m)
{
    theory_out t;
    mg_err err = {{0}};
    int rc = theory_compute(res, m, &t, &err);
    if (rc == MG_OK && theory_write(f, res, &t) != 0) {
        H5Ldelete(f, "/theory", H5P_DEFAULT);
        mg_err_set(&err, MG_EIO, "writing /theory failed");
        rc = MG_EIO;
    }
    theory_out_free(&t);
    if (rc != MG_OK)
        mg_h5_attr_str(f, "theory_error", err.msg);
    return 0;
}

/* ---- reading back for the command line ----------------------------------------------------- */

/* Number of entries of a dataset along axis 0, or -1. */
static int64_t rd_len(hid_t loc, const char *path)
{
    if (H5Lexists(loc, path, H5P_DEFAULT) <= 0)
        return -1;
    hid_t d = H5Dopen2(loc, path, H5P_DEFAULT);
    if (d < 0)
        return -1;
    hid_t sp = H5Dget_space(d);
    hsize_t dims[4] = {0, 0, 0, 0};
    int r = H5Sget_simple_extent_ndims(sp);
    if (r >= 1 && r <= 4)
        H5Sget_simple_extent_dims(sp, dims, NULL);
    H5Sclose(sp);
    H5Dclose(d);
    return r >= 1 && r <= 4 ? (int64_t)dims[0] : -1;
}

/* Population names of the file (one per line of names[P]). */
static int rd_names(hid_t f, int P, char (*names)[MG_NAME_MAX])
{
    hid_t d = H5Dopen2(f, "/config/populations", H5P_DEFAULT);
    if (d < 0)
        return -1;
    hid_t mt = H5Tcopy(H5T_C_S1);
    H5Tset_size(mt, H5T_VARIABLE);
    H5Tset_cset(mt, H5T_CSET_UTF8);
    char **v = calloc((size_t)P, sizeof *v);
    int ok = v && H5Dread(d, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) >= 0;
    for (int a = 0; a < P && ok; ++a)
        snprintf(names[a], MG_NAME_MAX, "%s", v[a] ? v[a] : "?");
    if (ok) {
        hid_t sp = H5Dget_space(d);
        H5Dvlen_reclaim(mt, sp, H5P_DEFAULT, v);
        H5Sclose(sp);
    }
    free(v);
    H5Tclose(mt);
    H5Dclose(d);
    return ok ? 0 : -1;
}

int mg_h5_theory_print(const char *path, FILE *out, char *warning, size_t warning_len)
{
    warning[0] = '\0';
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f < 0) {
        snprintf(warning, warning_len, "%s: cannot open to read /theory back", path);
        return MG_EIO;
    }
    int rc = MG_OK;
    char msg[MG_ERR_LEN];
    double *rates = NULL, *cv = NULL, *freq = NULL, *psd = NULL, *sim = NULL, *mean = NULL;
    int8_t *stable = NULL;
    char(*names)[MG_NAME_MAX] = NULL;
    if (H5Lexists(f, "/theory", H5P_DEFAULT) <= 0) {
        if (mg_h5_read_attr_str(f, "theory_error", msg, sizeof msg) == 0)
            snprintf(warning, warning_len, "--theory: no theory written: %s", msg);
        else
            snprintf(warning, warning_len, "--theory: %s has no /theory", path);
        H5Fclose(f);
        return MG_OK;
    }
    int P = (int)rd_len(f, "/config/populations");
    int n = (int)rd_len(f, "/theory/fixed_points/rates_hz");
    int64_t F = rd_len(f, "/theory/freq");
    hid_t g = H5Gopen2(f, "/theory", H5P_DEFAULT);
    int64_t complete = 0;
    char method[64] = "";
    if (g >= 0) {
        mg_h5_read_attr_str(g, "warnings", msg, sizeof msg);
        if (msg[0])
            snprintf(warning, warning_len, "--theory: %s", msg);
        mg_h5_read_attr_str(g, "method", method, sizeof method);
        if (H5Aexists(g, "complete") > 0) {
            hid_t a = H5Aopen(g, "complete", H5P_DEFAULT);
            H5Aread(a, H5T_NATIVE_INT64, &complete);
            H5Aclose(a);
        }
        H5Gclose(g);
    }
    if (P <= 0 || n < 0) {
        snprintf(warning, warning_len, "--theory: %s: /theory is incomplete", path);
        H5Fclose(f);
        return MG_EIO;
    }
    names = calloc((size_t)P, sizeof *names);
    rates = malloc(((size_t)n * P + 1) * sizeof(double));
    cv = malloc(((size_t)n * P + 1) * sizeof(double));
    stable = malloc((size_t)n + 1);
    mean = malloc((size_t)P * sizeof(double));
    if (!names || !rates || !cv || !stable || !mean || rd_names(f, P, names) ||
        mg_h5_read_array(f, "/theory/fixed_points/rates_hz", H5T_NATIVE_DOUBLE, rates, (hsize_t)n * P) ||
        mg_h5_read_array(f, "/theory/cv", H5T_NATIVE_DOUBLE, cv, (hsize_t)n * P) ||
        mg_h5_read_array(f, "/theory/fixed_points/stable", H5T_NATIVE_INT8, stable, (hsize_t)n) ||
        mg_h5_read_array(f, "/stats/mean_A", H5T_NATIVE_DOUBLE, mean, (hsize_t)P)) {
        snprintf(warning, warning_len, "--theory: %s: /theory cannot be read back", path);
        rc = MG_EIO;
        goto done;
    }
    fprintf(out, "theory (%s, /theory): %d fixed point%s%s\n",
            strcmp(method, "renewal") == 0 ? "stationary renewal theory"
                                            : "quasi-renewal mean field, linear response",
            n, n == 1 ? "" : "s", complete ? "" : " (multi-start search, may be incomplete)");
    fprintf(out, "%-16s", "");
    for (int a = 0; a < P; ++a) {
        char h[MG_NAME_MAX + 16];
        snprintf(h, sizeof h, "A_%s (Hz)", names[a]);
        fprintf(out, " %12s", h);
    }
    for (int a = 0; a < P; ++a) {
        char h[MG_NAME_MAX + 16];
        snprintf(h, sizeof h, "CV_%s", names[a]);
        fprintf(out, " %8s", h);
    }
    fprintf(out, "\n");
    for (int k = 0; k < n; ++k) {
        char h[32];
        snprintf(h, sizeof h, "fixed point %d", k + 1);
        fprintf(out, "%-16s", h);
        for (int a = 0; a < P; ++a)
            fprintf(out, " %12.4f", rates[(size_t)k * P + a]);
        for (int a = 0; a < P; ++a)
            fprintf(out, " %8.4f", cv[(size_t)k * P + a]);
        fprintf(out, " %s\n", stable[k] ? "stable" : "unstable");
    }
    fprintf(out, "%-16s", "simulation");
    for (int a = 0; a < P; ++a)
        fprintf(out, " %12.4f", mean[a]);
    fprintf(out, "\n");
    /* with exactly one stable point, the simulated spectrum should follow it: octave bands */
    int n_stable = 0, ks = -1;
    for (int k = 0; k < n; ++k)
        if (stable[k])
            ks = k, ++n_stable;
    if (F > 0 && n_stable == 1) {
        size_t per = (size_t)P * (size_t)F;
        freq = malloc((size_t)F * sizeof(double));
        psd = malloc((size_t)n * per * sizeof(double));
        sim = malloc(per * sizeof(double));
        if (!freq || !psd || !sim ||
            mg_h5_read_array(f, "/theory/freq", H5T_NATIVE_DOUBLE, freq, (hsize_t)F) ||
            mg_h5_read_array(f, "/theory/psd", H5T_NATIVE_DOUBLE, psd, (hsize_t)(n * per)) ||
            mg_h5_read_array(f, "/stats/psd", H5T_NATIVE_DOUBLE, sim, (hsize_t)per))
            goto done;
        fprintf(out, "spectrum, simulated / theory, averaged over octave bands (fixed point %d):\n",
                ks + 1);
        fprintf(out, "%-16s", "band (Hz)");
        for (int a = 0; a < P; ++a)
            fprintf(out, " %12s", names[a]);
        fprintf(out, "\n");
        double lo = freq[0];
        while (lo < freq[F - 1]) {
            double hi = 2.0 * lo;
            double st[MG_POP_MAX] = {0}, ss[MG_POP_MAX] = {0};
            int cnt = 0;
            for (int64_t j = 0; j < F; ++j) {
                if (freq[j] < lo || freq[j] >= hi)
                    continue;
                ++cnt;
                for (int a = 0; a < P; ++a) {
                    st[a] += psd[(size_t)ks * per + (size_t)a * F + j];
                    ss[a] += sim[(size_t)a * F + j];
                }
            }
            if (cnt > 0) {
                char h[48];
                snprintf(h, sizeof h, "%g-%g", lo, hi);
                fprintf(out, "%-16s", h);
                for (int a = 0; a < P; ++a)
                    fprintf(out, " %12.3f", ss[a] / st[a]);
                fprintf(out, "\n");
            }
            lo = hi;
        }
    }
done:
    free(names), free(rates), free(cv), free(stable), free(mean);
    free(freq), free(psd), free(sim);
    H5Fclose(f);
    return rc;
}
