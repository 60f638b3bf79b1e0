/* src/theory/theory_fixed.c: mean-field fixed points of a network of QR populations and their
 * stability (MODEL.md §2.2, §4.4; docs/THEORY.md §2), and the public spectrum entry points.
 *
 * A fixed point satisfies, for every population a, A_a T_a(A_a, h_a) = 1 with
 * h_a = mu_a + sum_b w_ab A_b, where T_a(A, h) is the mean ISI of the QR hazard with input h and
 * rate A in the threshold (src/theory/theory_renewal.c). Writing the condition this way needs no inner
 * solve for adapting populations, and its sign is that of Psi_a(A_a) - h_a (Psi the inverse
 * transfer function: T decreases in h), so scanning it brackets every transversal root.
 *   P = 1: r(A) = A T(A, mu + w A) - 1 on 600 rates (300 log-spaced from 1e-4 Hz, 300 linear),
 *          each sign change refined with Brent's method.
 *   P = 2: choose s with w_so != 0 (o the other population); the equation of s gives
 *          A_o = (Psi_s(A_s) - mu_s - w_ss A_s) / w_so explicitly, and the scan runs over A_s
 *          on r(A_s) = A_o T_o(A_o, mu_o + w_os A_s + w_oo A_o) - 1. If w_01 = w_10 = 0 the two
 *          one-dimensional problems are solved separately and combined.
 *   P >= 3: damped Newton in log-rates from quasi-random (Halton) starts, deduplicated; not
 *          guaranteed to be complete (out->complete = 0).
 * Stability: the static criterion (eigenvalues of diag(Phi') w, real part < 1) and the number
 * of unstable roots of the linear-response characteristic equation (src/theory/theory_spectrum.c). */
#include "theory/theory_internal.h"

#include <float.h>
#include <gsl/gsl_eigen.h>
#include <gsl/gsl_matrix.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define SCAN_LOG 300
#define SCAN_LIN 300
#define SCAN_AMIN 1e-4     /* Hz: lowest rate scanned */
#define DEDUP_RTOL 1e-6

static void swap(double *x, double *y)
{
    double t = *x;
    *x = *y;
    *y = t;
}

double mg_theory_brent(mg_theory_fn f, void *ctx, double a, double b, double fa, double fb,
                       double xtol, int *status)
{
    *status = MG_OK;
    if (fa == 0.0)
        return a;
    if (fb == 0.0)
        return b;
    double c = a, fc = fa, d = b - a, e = d;
    for (int it = 0; it < 300; it++) {
        if ((fb > 0) == (fc > 0)) {
            c = a;
            fc = fa;
            d = e = b - a;
        }
        if (fabs(fc) < fabs(fb)) { /* b, the best estimate, takes c; a and c the old b */
            swap(&b, &c);
            swap(&fb, &fc);
            a = c;
            fa = fc;
        }
        double tol = 2.0 * DBL_EPSILON * fabs(b) + 0.5 * xtol;
        double m = 0.5 * (c - b);
        if (fabs(m) <= tol || fb == 0.0)
            return b;
        if (fabs(e) >= tol && fabs(fa) > fabs(fb)) {
            /* inverse quadratic interpolation, or secant when only two points are distinct */
            double s = fb / fa, p, q;
            if (a == c) {
                p = 2.0 * m * s;
                q = 1.0 - s;
            } else {
                double qq = fa / fc, r = fb / fc;
                p = s * (2.0 * m * qq * (qq - r) - (b - a) * (r - 1.0));
                q = (qq - 1.0) * (r - 1.0) * (s - 1.0);
            }
            if (p > 0)
                q = -q;
            else
                p = -p;
            if (2.0 * p < fmin(3.0 * m * q - fabs(tol * q), fabs(e * q))) {
                e = d;
                d = p / q;
            } else {
                d = e = m;
            }
        } else {
            d = e = m;
        }
        a = b;
        fa = fb;
        b += fabs(d) > tol ? d : (m > 0 ? tol : -tol);
        fb = f(b, ctx, status);
        if (*status)
            return b;
    }
    return b;
}

void mg_fixed_points_free(mg_fixed_points *fps)
{
    if (!fps)
        return;
    free(fps->fp);
    memset(fps, 0, sizeof *fps);
}

/* ---- search state ---- */

typedef struct {
    const mg_model *m;
    int P;
    mg_qr_pop q[MG_POP_MAX];
    double mu[MG_POP_MAX];
    double *w;                 /* [P][P] */
    double Alim[MG_POP_MAX];   /* upper rate per population */
    /* roots found (rates), growing */
    int n, cap;
    double *roots;             /* [cap][P] */
    mg_err *err;
} search;

static int add_root(search *s, const double *A)
{
    for (int k = 0; k < s->n; k++) {
        int same = 1;
        for (int a = 0; a < s->P; a++)
            if (fabs(s->roots[k * s->P + a] - A[a]) > DEDUP_RTOL * fmax(A[a], 1e-3))
                same = 0;
        if (same)
            return MG_OK;
    }
    if (s->n == s->cap) {
        int cap = s->cap ? 2 * s->cap : 16;
        double *p = (double *)realloc(s->roots, (size_t)cap * s->P * sizeof(double));
        if (!p)
            return mg_err_set(s->err, MG_ENOMEM, "theory: out of memory");
        s->roots = p;
        s->cap = cap;
    }
    memcpy(&s->roots[s->n * s->P], A, (size_t)s->P * sizeof(double));
    s->n++;
    return MG_OK;
}

/* rate grid on (0, Alim]: log-spaced from SCAN_AMIN plus linear, sorted, distinct */
static int rate_grid(double Alim, double **out, int *n)
{
    double *g = (double *)malloc((SCAN_LOG + SCAN_LIN) * sizeof(double));
    if (!g)
        return MG_ENOMEM;
    int k = 0;
    double lo = fmin(SCAN_AMIN, 0.01 * Alim);
    for (int i = 0; i < SCAN_LOG; i++)
        g[k++] = lo * pow(Alim / lo, (double)i / (SCAN_LOG - 1));
    for (int i = 1; i <= SCAN_LIN; i++)
        g[k++] = Alim * i / SCAN_LIN;
    /* insertion sort (600 values, already two sorted runs) */
    for (int i = 1; i < k; i++) {
        double v = g[i];
        int j = i - 1;
        while (j >= 0 && g[j] > v) {
            g[j + 1] = g[j];
            j--;
        }
        g[j + 1] = v;
    }
    int m = 0;
    for (int i = 0; i < k; i++)
        if (m == 0 || g[i] > g[m - 1] * (1 + 1e-12))
            g[m++] = g[i];
    *out = g;
    *n = m;
    return MG_OK;
}

/* One-population residual along a line: A T(A, h0 + wself*A) - 1. */
typedef struct {
    const mg_qr_pop *q;
    double h0, wself;
    mg_err *err;
} line_ctx;

static double line_res(double A, void *vctx, int *status)
{
    line_ctx *c = (line_ctx *)vctx;
    mg_qr_moments mom;
    *status = mg_qr_march(c->q, c->h0 + c->wself * A, A, 4, &mom, NULL, NULL, c->err);
    return *status ? 0.0 : A * mom.T - 1.0;
}

/* All roots of A T(A, h0 + wself A) = 1 in (0, Alim] into roots[] (at most cap). */
static int line_roots(const mg_qr_pop *q, double h0, double wself, double Alim, double *roots,
                      int cap, int *nr, mg_err *err)
{
    double *g;
    int n;
    *nr = 0;
    if (rate_grid(Alim, &g, &n))
        return mg_err_set(err, MG_ENOMEM, "theory: out of memory");
    line_ctx c = {q, h0, wself, err};
    int st = MG_OK;
    double fa = line_res(g[0], &c, &st);
    for (int i = 1; i < n && !st; i++) {
        double fb = line_res(g[i], &c, &st);
        if (st)
            break;
        if (fa == 0.0 || (fa < 0) != (fb < 0)) {
            double r = fa == 0.0 ? g[i - 1]
                                 : mg_theory_brent(line_res, &c, g[i - 1], g[i], fa, fb,
                                                   1e-13 * g[i], &st);
            if (st)
                break;
            if (*nr < cap)
                roots[(*nr)++] = r;
        }
        fa = fb;
    }
    free(g);
    return st;
}

/* Two populations, elimination through population s (w[s][o] != 0). */
typedef struct {
    search *s;
    int is, io;
    double h_warm;     /* last Psi_s solution, warm start */
    int valid;         /* result of the last evaluation is usable */
    double Ao;         /* the other rate at the last evaluation */
} elim_ctx;

static double elim_res(double As, void *vctx, int *status)
{
    elim_ctx *c = (elim_ctx *)vctx;
    search *s = c->s;
    const int P = 2, is = c->is, io = c->io;
    mg_qr_moments mom;
    double hs;
    c->valid = 0;
    *status = mg_qr_input(&s->q[is], As, c->h_warm, &hs, &mom, s->err);
    if (*status)
        return 0.0;
    c->h_warm = hs;
    double Ao = (hs - s->mu[is] - s->w[is * P + is] * As) / s->w[is * P + io];
    c->Ao = Ao;
    if (!(Ao > 0) || Ao > s->Alim[io])
        return 0.0;
    double ho = s->mu[io] + s->w[io * P + is] * As + s->w[io * P + io] * Ao;
    *status = mg_qr_march(&s->q[io], ho, Ao, 4, &mom, NULL, NULL, s->err);
    if (*status)
        return 0.0;
    c->valid = 1;
    return Ao * mom.T - 1.0;
}

static int search_two(search *s)
{
    const int P = 2;
    int is = -1;
    if (s->w[0 * P + 1] != 0.0)
        is = 0;
    else if (s->w[1 * P + 0] != 0.0)
        is = 1;
    if (is < 0) {
        /* uncoupled pair: each population alone, all combinations */
        double r0[64], r1[64];
        int n0, n1, rc;
        rc = line_roots(&s->q[0], s->mu[0], s->w[0], s->Alim[0], r0, 64, &n0, s->err);
        if (!rc)
            rc = line_roots(&s->q[1], s->mu[1], s->w[3], s->Alim[1], r1, 64, &n1, s->err);
        for (int i = 0; i < n0 && !rc; i++)
            for (int j = 0; j < n1 && !rc; j++) {
                double A[2] = {r0[i], r1[j]};
                rc = add_root(s, A);
            }
        return rc;
    }
    int io = 1 - is;
    double *g;
    int n;
    if (rate_grid(s->Alim[is], &g, &n))
        return mg_err_set(s->err, MG_ENOMEM, "theory: out of memory");
    elim_ctx c = {s, is, io, NAN, 0, 0.0};
    int st = MG_OK;
    double fa = elim_res(g[0], &c, &st);
    int va = c.valid;
    for (int i = 1; i < n && !st; i++) {
        double fb = elim_res(g[i], &c, &st);
        if (st)
            break;
        int vb = c.valid;
        if (va && vb && (fa == 0.0 || (fa < 0) != (fb < 0))) {
            double hw = c.h_warm;
            double As = fa == 0.0 ? g[i - 1]
                                  : mg_theory_brent(elim_res, &c, g[i - 1], g[i], fa, fb,
                                                    1e-13 * g[i], &st);
            if (st)
                break;
            /* Brent may return a point it evaluated earlier: evaluate the root again so that
             * c.Ao and c.valid belong to it */
            elim_res(As, &c, &st);
            if (!st && c.valid) {
                double A[2];
                A[is] = As;
                A[io] = c.Ao;
                st = add_root(s, A);
            }
            c.h_warm = hw; /* the scan continues from g[i] */
        }
        fa = fb;
        va = vb;
    }
    free(g);
    return st;
}

/* The residual G_a = y_a + log T_a(A_a, h_a) at y = log A, its max norm and its Jacobian
 * J[a][b] = dG_a/dy_b. MG_OK (with *left = 1 and the rest not set when a rate left the range),
 * or the error of mg_qr_march. */
static int newton_residual(search *s, const double *y, double *G, double *J, double *norm,
                           int *left)
{
    const int P = s->P;
    double A[MG_POP_MAX];
    *norm = 0.0;
    *left = 0;
    for (int a = 0; a < P; a++)
        A[a] = exp(y[a]);
    for (int a = 0; a < P; a++) {
        if (A[a] > s->Alim[a] * 1.5 || A[a] < 1e-8) {
            *left = 1;
            return MG_OK;
        }
        double h = s->mu[a];
        for (int b = 0; b < P; b++)
            h += s->w[a * P + b] * A[b];
        mg_qr_moments mom;
        int rc = mg_qr_march(&s->q[a], h, A[a], 4, &mom, NULL, NULL, s->err);
        if (rc)
            return rc;
        G[a] = y[a] + log(mom.T);
        *norm = fmax(*norm, fabs(G[a]));
        for (int b = 0; b < P; b++)
            J[a * P + b] = mom.dT_dh / mom.T * s->w[a * P + b] * A[b];
        J[a * P + a] += 1.0 + A[a] * mom.dT_dA / mom.T;
    }
    return MG_OK;
}

/* Solve J dy = -G (P x P, J overwritten) by Gaussian elimination with partial pivoting.
 * 0, or -1 when J is singular. */
static int newton_solve(int P, double *J, const double *G, double *dy)
{
    for (int a = 0; a < P; a++)
        dy[a] = -G[a];
    for (int k = 0; k < P; k++) {
        int p = k;
        for (int i = k + 1; i < P; i++)
            if (fabs(J[i * P + k]) > fabs(J[p * P + k]))
                p = i;
        if (J[p * P + k] == 0.0)
            return -1;
        if (p != k) {
            for (int j = 0; j < P; j++) {
                double t = J[k * P + j];
                J[k * P + j] = J[p * P + j];
                J[p * P + j] = t;
            }
            double t = dy[k];
            dy[k] = dy[p];
            dy[p] = t;
        }
        for (int i = k + 1; i < P; i++) {
            double f = J[i * P + k] / J[k * P + k];
            for (int j = k; j < P; j++)
                J[i * P + j] -= f * J[k * P + j];
            dy[i] -= f * dy[k];
        }
    }
    for (int i = P - 1; i >= 0; i--) {
        for (int j = i + 1; j < P; j++)
            dy[i] -= J[i * P + j] * dy[j];
        dy[i] /= J[i * P + i];
    }
    return 0;
}

/* P >= 3: damped Newton on G_a(y) = y_a + log T_a(A_a, h_a), y = log A. */
static int newton_from(search *s, double *y, int *converged)
{
    const int P = s->P;
    double G[MG_POP_MAX], J[MG_POP_MAX * MG_POP_MAX], dy[MG_POP_MAX];
    *converged = 0;
    double norm_prev = INFINITY;
    for (int it = 0; it < 60; it++) {
        double norm;
        int left;
        int rc = newton_residual(s, y, G, J, &norm, &left);
        if (rc || left)
            return rc;
        if (norm < 1e-12) {
            *converged = 1;
            return MG_OK;
        }
        if (norm > norm_prev && it > 0) {
            /* backtrack: halve the last step */
            for (int a = 0; a < P; a++) {
                dy[a] *= 0.5;
                y[a] -= dy[a];
            }
            if (fabs(dy[0]) < 1e-14)
                return MG_OK;
            continue;
        }
        norm_prev = norm;
        if (newton_solve(P, J, G, dy) != 0)
            return MG_OK;
        /* a step of at most 2 in every log-rate */
        double mx = 0.0;
        for (int a = 0; a < P; a++)
            mx = fmax(mx, fabs(dy[a]));
        if (mx > 2.0)
            for (int a = 0; a < P; a++)
                dy[a] *= 2.0 / mx;
        for (int a = 0; a < P; a++)
            y[a] += dy[a];
    }
    return MG_OK;
}

static double halton(int i, int base)
{
    double f = 1.0, r = 0.0;
    while (i > 0) {
        f /= base;
        r += f * (i % base);
        i /= base;
    }
    return r;
}

static int search_many(search *s)
{
    static const int primes[MG_POP_MAX] = {
        2,   3,   5,   7,   11,  13,  17,  19,  23,  29,  31,  37,  41,  43,  47,  53,
        59,  61,  67,  71,  73,  79,  83,  89,  97,  101, 103, 107, 109, 113, 127, 131,
        137, 139, 149, 151, 157, 163, 167, 173, 179, 181, 191, 193, 197, 199, 211, 223,
        227, 229, 233, 239, 241, 251, 257, 263, 269, 271, 277, 281, 283, 293, 307, 311};
    const int P = s->P;
    int nstart = 40 * P < 400 ? 40 * P : 400;
    double y[MG_POP_MAX];
    for (int k = 0; k <= nstart; k++) {
        for (int a = 0; a < P; a++) {
            double lo = log(1e-2), hi = log(s->Alim[a]);
            /* start 0: every population at its uncoupled rate scale (Halton point 1/2) */
            double u = k == 0 ? 0.5 : halton(k, primes[a]);
            y[a] = lo + u * (hi - lo);
        }
        int conv;
        int rc = newton_from(s, y, &conv);
        if (rc)
            return rc;
        if (!conv)
            continue;
        double A[MG_POP_MAX];
        int inside = 1;
        for (int a = 0; a < P; a++) {
            A[a] = exp(y[a]);
            if (!(A[a] <= s->Alim[a]))
                inside = 0;
        }
        if (inside && (rc = add_root(s, A)))
            return rc;
    }
    return MG_OK;
}

static int cmp_fp(const void *x, const void *y)
{
    const mg_fixed_point *a = (const mg_fixed_point *)x, *b = (const mg_fixed_point *)y;
    for (int k = 0; k < MG_POP_MAX; k++) {
        if (a->A_hz[k] < b->A_hz[k])
            return -1;
        if (a->A_hz[k] > b->A_hz[k])
            return 1;
    }
    return 0;
}

/* Gains, CVs, static eigenvalues and the dynamic root count of one fixed point. */
static int classify(search *s, mg_fixed_point *fp)
{
    const int P = s->P;
    for (int a = 0; a < P; a++) {
        mg_qr_moments mom;
        int rc = mg_qr_march(&s->q[a], fp->h_mV[a], fp->A_hz[a], 4, &mom, NULL, NULL, s->err);
        if (rc)
            return rc;
        fp->gain_hz_per_mV[a] = mg_qr_gain(fp->A_hz[a], &mom);
        double cv2 = 2.0 * mom.M2 / (mom.T * mom.T) - 1.0;
        fp->cv[a] = cv2 > 0 ? sqrt(cv2) : 0.0;
    }
    gsl_matrix *G = gsl_matrix_alloc((size_t)P, (size_t)P);
    gsl_vector_complex *ev = gsl_vector_complex_alloc((size_t)P);
    gsl_eigen_nonsymm_workspace *ws = gsl_eigen_nonsymm_alloc((size_t)P);
    if (!G || !ev || !ws) {
        if (G)
            gsl_matrix_free(G);
        if (ev)
            gsl_vector_complex_free(ev);
        if (ws)
            gsl_eigen_nonsymm_free(ws);
        return mg_err_set(s->err, MG_ENOMEM, "theory: out of memory");
    }
    for (int a = 0; a < P; a++)
        for (int b = 0; b < P; b++)
            gsl_matrix_set(G, (size_t)a, (size_t)b, fp->gain_hz_per_mV[a] * s->w[a * P + b]);
    int ers = gsl_eigen_nonsymm(G, ev, ws);
    fp->static_eig_re = -INFINITY;
    fp->static_eig_im = 0.0;
    for (int a = 0; a < P && ers == 0; a++) {
        gsl_complex z = gsl_vector_complex_get(ev, (size_t)a);
        if (GSL_REAL(z) > fp->static_eig_re) {
            fp->static_eig_re = GSL_REAL(z);
            fp->static_eig_im = fabs(GSL_IMAG(z));
        }
    }
    gsl_matrix_free(G);
    gsl_vector_complex_free(ev);
    gsl_eigen_nonsymm_free(ws);
    fp->static_stable = fp->static_eig_re < 1.0;

    mg_net_lin L;
    mg_err e2;
    int rc = mg_net_lin_alloc(s->m, s->mu, fp->A_hz, 1e-6, &L, s->err);
    if (rc)
        return rc;
    rc = mg_net_lin_unstable_roots(&L, &fp->n_unstable, &e2);
    mg_net_lin_free(&L);
    if (rc == MG_ENOMEM)
        return mg_err_set(s->err, MG_ENOMEM, "%s", e2.msg);
    /* MG_ENUM (phase not followed): n_unstable = -1, fall back on the static criterion */
    fp->stable = fp->n_unstable >= 0 ? fp->n_unstable == 0 : fp->static_stable;
    return MG_OK;
}

/* The search state of model m: inputs mu at t_ms, couplings (s->w, allocated: free it in every
 * case), the QR populations and the rate limits (rate_max_hz, below 1/t_ref). */
static int search_init(search *s, const mg_model *m, double rate_max_hz, double t_ms,
                       mg_err *err)
{
    const int P = m->P;
    memset(s, 0, sizeof *s);
    s->m = m;
    s->P = P;
    s->err = err;
    s->w = (double *)malloc((size_t)P * P * sizeof(double));
    if (!s->w)
        return mg_err_set(err, MG_ENOMEM, "theory: out of memory");
    mg_theory_mu(m, t_ms, s->mu);
    mg_theory_coupling(m, s->w);
    int rc = MG_OK;
    for (int a = 0; a < P && !rc; a++) {
        rc = mg_qr_pop_init(&m->pops[a], &s->q[a], err);
        s->Alim[a] = rate_max_hz;
        if (s->q[a].t_ref > 0 && s->Alim[a] > 0.999 / s->q[a].t_ref)
            s->Alim[a] = 0.999 / s->q[a].t_ref;
    }
    return rc;
}

/* Every root into s->roots, by the method for the number of populations. MG_OK, or the error
 * (message in s->err). */
static int search_roots(search *s)
{
    if (s->P == 1) {
        double r[64];
        int nr;
        int rc = line_roots(&s->q[0], s->mu[0], s->w[0], s->Alim[0], r, 64, &nr, s->err);
        for (int i = 0; i < nr && !rc; i++)
            rc = add_root(s, &r[i]);
        return rc;
    }
    if (s->P == 2)
        return search_two(s);
    return search_many(s);
}

/* The fixed points of the roots found (rates, inputs, classification) into out->fp. MG_OK, or
 * the error with out->fp still to be freed (mg_fixed_points_free). */
static int classify_roots(search *s, mg_fixed_points *out)
{
    const int P = s->P;
    int rc = MG_OK;
    if (s->n > 0) {
        out->fp = (mg_fixed_point *)calloc((size_t)s->n, sizeof(mg_fixed_point));
        if (!out->fp)
            rc = mg_err_set(s->err, MG_ENOMEM, "theory: out of memory");
    }
    for (int k = 0; k < s->n && !rc; k++) {
        mg_fixed_point *fp = &out->fp[k];
        for (int a = 0; a < P; a++) {
            fp->A_hz[a] = s->roots[k * P + a];
            double h = s->mu[a];
            for (int b = 0; b < P; b++)
                h += s->w[a * P + b] * s->roots[k * P + b];
            fp->h_mV[a] = h;
        }
        rc = classify(s, fp);
    }
    return rc;
}

int mg_theory_fixed_points_at(const mg_model *m, double rate_max_hz, double t_ms,
                              mg_fixed_points *out, mg_err *err)
{
    memset(out, 0, sizeof *out);
    if (!m || m->P < 1 || m->P > MG_POP_MAX)
        return mg_err_set(err, MG_EINVAL, "theory: the model has no populations");
    if (!(rate_max_hz > 0) || !isfinite(rate_max_hz))
        return mg_err_set(err, MG_EINVAL, "--rate-max: must be a positive number of Hz");
    search s;
    int rc = search_init(&s, m, rate_max_hz, t_ms, err);
    if (!rc)
        rc = search_roots(&s);
    if (!rc)
        rc = classify_roots(&s, out);
    free(s.w);
    free(s.roots);
    if (rc) {
        mg_fixed_points_free(out);
        return rc;
    }
    out->P = m->P;
    out->n = s.n;
    out->complete = m->P <= 2;
    if (out->n > 1)
        qsort(out->fp, (size_t)out->n, sizeof(mg_fixed_point), cmp_fp);
    return MG_OK;
}

int mg_theory_fixed_points(const mg_model *m, double rate_max_hz, mg_fixed_points *out,
                           mg_err *err)
{
    return mg_theory_fixed_points_at(m, rate_max_hz, -1.0, out, err);
}

int mg_theory_spectrum_at(const mg_model *m, double t_ms, const double *rates_hz,
                          const double *freq_hz, int F, double *S_out, mg_err *err)
{
    if (!m || m->P < 1 || m->P > MG_POP_MAX || !rates_hz || F < 0 ||
        (F > 0 && (!freq_hz || !S_out)))
        return mg_err_set(err, MG_EINVAL, "theory: spectrum needs a model, P rates and F >= 0 "
                                          "frequencies");
    for (int k = 0; k < F; k++)
        if (!isfinite(freq_hz[k]))
            return mg_err_set(err, MG_EINVAL, "theory: frequency %d is not finite", k);
    double mu[MG_POP_MAX];
    mg_theory_mu(m, t_ms, mu);
    mg_net_lin L;
    int rc = mg_net_lin_alloc(m, mu, rates_hz, 1e-3, &L, err);
    if (rc)
        return rc;
    rc = mg_net_lin_spectrum(&L, freq_hz, F, S_out, F, err);
    mg_net_lin_free(&L);
    return rc;
}

int mg_theory_spectrum(const mg_model *m, const double *rates_hz, const double *freq_hz, int F,
                       double *S_out, mg_err *err)
{
    return mg_theory_spectrum_at(m, -1.0, rates_hz, freq_hz, F, S_out, err);
}
