/* src/cli/cli_theory.c: `mesogif theory [MODEL.json]`: what the theory module (include/mesogif/
 * theory.h) says about a model, without simulating it: the stationary rate and ISI CV of every
 * population alone at its mean input, every mean-field fixed point with its stability, and the
 * linear-response spectrum at each stable fixed point. docs/THEORY.md explains the methods. */
#include "cli/cli.h"
#include "mesogif/model.h"
#include "mesogif/theory.h"
#include "mesogif/units.h"

#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void theory_usage(FILE *out)
{
    fputs("usage: mesogif theory [MODEL.json] [options]\n"
          "\n"
          "  --rate-max RATE      search fixed points with all rates in (0, RATE] (default 200Hz)\n"
          "  --freqs FMIN,FMAX,N  spectrum at N log-spaced frequencies (default 0.1,1000,41;\n"
          "                       N = 0: no spectrum)\n"
          "  --at T               evaluate the model's step currents at time T (duration;\n"
          "                       default: step currents ignored)\n"
          "  --out table|tsv      aligned table (default) or tab-separated values\n"
          "\n"
          "Prints the stationary rate and ISI CV of every population alone at its mean input\n"
          "(quasi-renewal theory), every fixed point A = Phi(mu + w A) of the mean-field network\n"
          "with its stability (static criterion and linear-response characteristic equation),\n"
          "and the power spectrum (two-sided, Hz) of the finite-size mesoscopic model at each\n"
          "stable fixed point. Without MODEL.json the embedded default (B1) is used.\n",
          out);
}

enum { OPT_RATEMAX = 1000, OPT_FREQS, OPT_AT, OPT_OUT, OPT_HELP };

/* "FMIN,FMAX,N" with frequencies in Hz (units Hz or kHz allowed), 0 < FMIN <= FMAX, N >= 0. */
static int parse_freqs(const char *s, double *fmin, double *fmax, int *n)
{
    char buf[256];
    if (strlen(s) >= sizeof buf)
        return -1;
    strcpy(buf, s);
    char *c1 = strchr(buf, ','), *c2 = c1 ? strchr(c1 + 1, ',') : NULL;
    if (!c1 || !c2 || strchr(c2 + 1, ','))
        return -1;
    *c1 = *c2 = '\0';
    char *end;
    long v = strtol(c2 + 1, &end, 10);
    if (mg_parse_frequency_hz(buf, fmin) || mg_parse_frequency_hz(c1 + 1, fmax) || end == c2 + 1 ||
        *end || v < 0 || v > 100000 || !(*fmin > 0) || !(*fmax >= *fmin))
        return -1;
    *n = (int)v;
    return 0;
}

/* One column header per population, "<prefix><name><suffix>" right-aligned in 12 characters. */
static void print_pop_headers(const mg_model *m, const char *prefix, const char *suffix)
{
    for (int a = 0; a < m->P; a++) {
        char h[MG_NAME_MAX + 16];
        snprintf(h, sizeof h, "%s%s%s", prefix, m->pops[a].name, suffix);
        printf(" %12s", h);
    }
}

static const struct option theory_longopts[] = {{"rate-max", required_argument, 0, OPT_RATEMAX},
                                                {"freqs", required_argument, 0, OPT_FREQS},
                                                {"at", required_argument, 0, OPT_AT},
                                                {"out", required_argument, 0, OPT_OUT},
                                                {"help", no_argument, 0, OPT_HELP},
                                                {0, 0, 0, 0}};

/* What the command line asks for. */
typedef struct {
    double rate_max, fmin, fmax, t_ms; /* Hz, Hz, Hz, ms (< 0: step currents ignored) */
    int nf, tsv;
} theory_cli;

/* The options: 0 to go on, else the exit code (-1: --help printed, exit 0). */
static int parse_theory_options(int argc, char **argv, theory_cli *t)
{
    static const char *const outs[] = {"table", "tsv"};
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "", theory_longopts, NULL)) != -1) {
        switch (c) {
        case OPT_HELP:
            theory_usage(stdout);
            return -1;
        case OPT_RATEMAX:
            if (mg_parse_frequency_hz(optarg, &t->rate_max) || !(t->rate_max > 0)) {
                mg_cli_error("--rate-max: '%s' (allowed: a rate > 0, e.g. 200 or 200Hz)", optarg);
                return 2;
            }
            break;
        case OPT_FREQS:
            if (parse_freqs(optarg, &t->fmin, &t->fmax, &t->nf)) {
                mg_cli_error("--freqs: '%s' (allowed: FMIN,FMAX,N with 0 < FMIN <= FMAX in Hz "
                             "and N >= 0, e.g. 0.1,1000,41)", optarg);
                return 2;
            }
            break;
        case OPT_AT:
            if (mg_parse_duration_ms(optarg, &t->t_ms) || !(t->t_ms >= 0)) {
                mg_cli_error("--at: '%s' is not a duration >= 0 (allowed: number with us, ms, s, "
                             "min or h; bare numbers are ms)", optarg);
                return 2;
            }
            break;
        case OPT_OUT:
            if ((t->tsv = mg_cli_parse_choice("--out", optarg, outs, 2)) < 0)
                return 2;
            break;
        default:
            mg_cli_unknown_option("theory", argv[optind - 1], theory_longopts);
            return 2;
        }
    }
    return 0;
}

/* Section 1: every population alone at its mean input mu. 0, or the exit code. */
static int print_single_pops(const mg_model *m, const theory_cli *t, const double *mu,
                             const char *shown)
{
    const int P = m->P;
    mg_err err = {{0}};
    if (t->t_ms >= 0)
        printf("# %s: %d population%s, step currents at t = %g ms\n", m->name, P, P == 1 ? "" : "s",
               t->t_ms);
    else
        printf("# %s: %d population%s, step currents ignored\n", m->name, P, P == 1 ? "" : "s");
    for (int a = 0; a < P; a++)
        if (mg_pop_has_stimulus(&m->pops[a])) {
            printf("# stimuli: an ou_current on for the whole run is included to linear order "
                   "(docs/THEORY.md 4); sinusoids, time series and currents with start/stop "
                   "are ignored\n");
            break;
        }
    printf("# uncoupled populations at input mu (quasi-renewal theory)\n");
    if (t->tsv)
        printf("population\tN\tmu_mV\tA0_hz\tcv\tgain_hz_per_mV\n");
    else
        printf("%-16s %8s %10s %10s %8s %14s\n", "population", "N", "mu (mV)", "A0 (Hz)", "CV",
               "gain (Hz/mV)");
    for (int a = 0; a < P; a++) {
        mg_renewal r;
        int rc = mg_theory_stationary_pop(&m->pops[a], mu[a], &r, &err);
        if (rc != MG_OK) {
            mg_cli_error("%s: populations[%d] (%s): %s", shown, a, m->pops[a].name, err.msg);
            return mg_err_exit_code(rc);
        }
        if (t->tsv)
            printf("%s\t%lld\t%.10g\t%.10g\t%.10g\t%.10g\n", m->pops[a].name,
                   (long long)m->pops[a].N, mu[a], r.A0_hz, r.cv, r.gain_hz_per_mV);
        else
            printf("%-16s %8lld %10.4f %10.4f %8.4f %14.4f\n", m->pops[a].name,
                   (long long)m->pops[a].N, mu[a], r.A0_hz, r.cv, r.gain_hz_per_mV);
        mg_renewal_free(&r);
    }

    return 0;
}

/* The head of section 2: the search and the stability criteria, then the column names (one
 * TSV line, or the table's header). */
static void print_fp_header(const mg_model *m, const theory_cli *t, const mg_fixed_points *fps)
{
    const int P = m->P;
    printf("\n# fixed points A = Phi(mu + w A) with rates in (0, %g] Hz: %d (%s)\n", t->rate_max,
           fps->n, fps->complete ? "exhaustive search" : "multi-start search, may be incomplete");
    printf("# static: max Re eig(diag(Phi') w) < 1; roots: unstable roots of the linear-response "
           "characteristic equation\n");
    if (t->tsv) {
        printf("fp");
        for (int a = 0; a < P; a++)
            printf("\tA_%s_hz", m->pops[a].name);
        for (int a = 0; a < P; a++)
            printf("\th_%s_mV", m->pops[a].name);
        for (int a = 0; a < P; a++)
            printf("\tgain_%s_hz_per_mV\tcv_%s", m->pops[a].name, m->pops[a].name);
        printf("\tstatic_eig_re\tstatic_eig_im\tunstable_roots\tstable\n");
    } else {
        printf("%-3s", "fp");
        print_pop_headers(m, "A_", " (Hz)");
        print_pop_headers(m, "h_", " (mV)");
        printf(" %12s %6s %s\n", "static eig", "roots", "stability");
    }
}

/* The line of fixed point k (0-based) fp: rates and input potentials, then in TSV gains, CVs
 * and the raw stability numbers, in the table the static eigenvalue, the unstable roots and a
 * word for the stability. */
static void print_fp_row(const mg_model *m, const theory_cli *t, int k, const mg_fixed_point *fp)
{
    const int P = m->P;
    printf(t->tsv ? "%d" : "%-3d", k + 1);
    for (int a = 0; a < P; a++)
        printf(t->tsv ? "\t%.10g" : " %12.4f", fp->A_hz[a]);
    for (int a = 0; a < P; a++)
        printf(t->tsv ? "\t%.10g" : " %12.4f", fp->h_mV[a]);
    if (t->tsv) {
        for (int a = 0; a < P; a++)
            printf("\t%.10g\t%.10g", fp->gain_hz_per_mV[a], fp->cv[a]);
        printf("\t%.10g\t%.10g\t%d\t%d\n", fp->static_eig_re, fp->static_eig_im,
               fp->n_unstable, fp->stable);
        return;
    }
    char eig[48], roots[16];
    if (fp->static_eig_im > 0)
        snprintf(eig, sizeof eig, "%.3f%+.3fi", fp->static_eig_re, fp->static_eig_im);
    else
        snprintf(eig, sizeof eig, "%.4f", fp->static_eig_re);
    if (fp->n_unstable >= 0)
        snprintf(roots, sizeof roots, "%d", fp->n_unstable);
    else
        snprintf(roots, sizeof roots, "?");
    printf(" %12s %6s %s\n", eig, roots,
           fp->stable ? "stable" : (fp->static_stable ? "unstable (oscillatory)"
                                                      : "unstable"));
}

/* The table's second part (not in TSV, which has them in each row): gain and CV of each
 * population at each fixed point. */
static void print_fp_gains(const mg_model *m, const mg_fixed_points *fps)
{
    const int P = m->P;
    printf("%-3s", "");
    print_pop_headers(m, "gain_", "");
    print_pop_headers(m, "CV_", "");
    printf("   (gain in Hz/mV)\n");
    for (int k = 0; k < fps->n; k++) {
        printf("%-3d", k + 1);
        for (int a = 0; a < P; a++)
            printf(" %12.4f", fps->fp[k].gain_hz_per_mV[a]);
        for (int a = 0; a < P; a++)
            printf(" %12.4f", fps->fp[k].cv[a]);
        printf("\n");
    }
}

/* Section 2: the fixed points of the network, their stability, gains and CVs. */
static void print_fixed_points(const mg_model *m, const theory_cli *t, const mg_fixed_points *fps)
{
    print_fp_header(m, t, fps);
    for (int k = 0; k < fps->n; k++)
        print_fp_row(m, t, k, &fps->fp[k]);
    if (!t->tsv && fps->n > 0)
        print_fp_gains(m, fps);
}

/* Section 3: the spectra at the stable fixed points. MG_OK, or the error (reported; -1: out
 * of memory). */
static int print_spectra(const mg_model *m, const theory_cli *t, const mg_fixed_points *fps,
                         const char *shown)
{
    const int P = m->P;
    int rc = MG_OK;
    mg_err err = {{0}};
    double *f = NULL, *S = NULL;
    if (t->nf > 0) {
        f = (double *)malloc((size_t)t->nf * sizeof(double));
        S = (double *)malloc((size_t)t->nf * P * sizeof(double));
        if (!f || !S) {
            free(f), free(S);
            mg_cli_error("out of memory");
            return -1;
        }
        for (int i = 0; i < t->nf; i++)
            f[i] = t->nf == 1 ? t->fmin : t->fmin * pow(t->fmax / t->fmin, (double)i / (t->nf - 1));
    }
    for (int k = 0; k < fps->n && t->nf > 0; k++) {
        const mg_fixed_point *fp = &fps->fp[k];
        if (!fp->stable)
            continue;
        int rc2 = mg_theory_spectrum_at(m, t->t_ms, fp->A_hz, f, t->nf, S, &err);
        if (rc2 != MG_OK) {
            mg_cli_error("%s: fixed point %d: %s", shown, k + 1, err.msg);
            rc = rc2;
            break;
        }
        printf("\n# power spectrum of A (two-sided, Hz) at stable fixed point %d; high-f limit "
               "A/N:", k + 1);
        for (int a = 0; a < P; a++)
            printf(" %s %.6g", m->pops[a].name, fp->A_hz[a] / (double)m->pops[a].N);
        printf("\n");
        if (t->tsv) {
            printf("f_hz");
            for (int a = 0; a < P; a++)
                printf("\tS_%s_hz", m->pops[a].name);
            printf("\n");
        } else {
            printf("%12s", "f (Hz)");
            for (int a = 0; a < P; a++) {
                char h[MG_NAME_MAX + 16];
                snprintf(h, sizeof h, "S_%s (Hz)", m->pops[a].name);
                printf(" %14s", h);
            }
            printf("\n");
        }
        for (int i = 0; i < t->nf; i++) {
            printf(t->tsv ? "%.10g" : "%12.5g", f[i]);
            for (int a = 0; a < P; a++)
                printf(t->tsv ? "\t%.10g" : " %14.6g", S[(size_t)a * t->nf + i]);
            printf("\n");
        }
    }
    free(f);
    free(S);
    return rc;
}

int mg_cli_theory(int argc, char **argv)
{
    theory_cli t = {200.0, 0.1, 1000.0, -1.0, 41, 0};
    int code = parse_theory_options(argc, argv, &t);
    if (code != 0)
        return code < 0 ? 0 : code;
    const char *model_path;
    if (mg_cli_model_arg("theory", argc, argv, optind, &model_path))
        return 2;
    const char *shown = model_path ? model_path : "<embedded B1>";
    mg_model m;
    mg_err err = {{0}};
    int rc = mg_cli_load_model(model_path, NULL, NULL, &m);
    if (rc != 0)
        return rc;
    double mu[MG_POP_MAX];
    mg_theory_mu(&m, t.t_ms, mu);
    code = print_single_pops(&m, &t, mu, shown);
    if (code != 0) {
        mg_model_free(&m);
        return code;
    }
    mg_fixed_points fps;
    rc = mg_theory_fixed_points_at(&m, t.rate_max, t.t_ms, &fps, &err);
    if (rc != MG_OK) {
        mg_cli_error("%s: %s", shown, err.msg);
        mg_model_free(&m);
        return mg_err_exit_code(rc);
    }
    print_fixed_points(&m, &t, &fps);
    rc = print_spectra(&m, &t, &fps, shown);
    mg_fixed_points_free(&fps);
    mg_model_free(&m);
    return rc == MG_OK ? 0 : rc < 0 ? 1 : mg_err_exit_code(rc);
}
