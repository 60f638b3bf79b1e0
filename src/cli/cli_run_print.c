/* src/cli/cli_run_print.c: what `mesogif run` prints after a run, from the result in memory:
 * notes on statistics left out, the summary table, and with --theory the fixed points of the
 * theory next to the simulated rates and, with one stable fixed point, simulated / theoretical
 * spectrum in octave bands. */
#include "cli/cli.h"
#include "io/io_h5_internal.h" /* mg_theory_table */
#include "mesogif/model.h"
#include "mesogif/run.h"
#include "mesogif/theory.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One note per statistic that could not be formed and is left out of the file (it would be
 * NaN): spectra of runs shorter than a segment, the switching analysis without a declared
 * observable. */
void mg_cli_note_left_out(const mg_result *res)
{
    const mg_stats *s = &res->stats;
    const mg_stats_cfg *c = &s->L.cfg;
    if (s->L.F > 0 && s->i[s->L.i_psd_seg] == 0)
        mg_cli_error("note: no spectra: %g ms of each realization after the warm-up is shorter "
                     "than one segment of %g ms (1/--psd-df); left out of the file",
                     res->opts.t_sim_ms - res->opts.t_warmup_ms,
                     (double)c->psd_n * c->psd_bin_ms);
    if (!c->basic && !res->opts.switch_observable[0])
        mg_cli_error("note: no switching analysis: the model declares no observable (give "
                     "--switch-observable, e.g. A1-A2, or \"switch_observable\" in the model "
                     "file)");
}

void mg_cli_print_summary(const mg_result *res, const mg_model *m, const char *out_path,
                          int warm_default)
{
    const mg_stats *s = &res->stats;
    const mg_run_opts *o = &res->opts;
    double sim_s = (double)o->realization_count * o->t_sim_ms * 1e-3;
    printf("mesogif %s: %s, %s level, %lld realizations x %g s, backend %s (%s)\n", MG_VERSION,
           m->name, mg_level_name(o->level), (long long)o->realization_count,
           o->t_sim_ms * 1e-3, res->backend_name, res->device);
    printf("wall %.3f s, %.4g realization-s per wall-s; statistics after %g s%s in %g ms bins "
           "(%lld samples)\n", res->wall_s, res->wall_s > 0 ? sim_s / res->wall_s : 0.0,
           o->t_warmup_ms * 1e-3,
           warm_default ? " (the default warm-up, min(1 s, t-sim/10); --t-warmup to change)" : "",
           s->bin_ms, (long long)s->i[s->L.i_count]);
    if (res->device_bytes > 0)
        printf("device memory %.4g MB\n", res->device_bytes / 1e6);
    char *names[MG_POP_MAX];
    int64_t N[MG_POP_MAX];
    for (int a = 0; a < res->P; ++a) {
        names[a] = res->pop_names[a];
        N[a] = m->pops[a].N;
    }
    mg_print_moments_table(stdout, "", names, N, s->mean_A, s->mean_A_sem, s->var_A, res->P);
    if (out_path)
        printf("written: %s\n", out_path);
}

void mg_cli_print_theory(const mg_result *res, FILE *out, char *warning, size_t warning_len)
{
    warning[0] = '\0';
    const mg_run_theory *t = res->theory;
    if (!t) {
        snprintf(warning, warning_len, "--theory: no theory written: %s", res->theory_error);
        return;
    }
    if (t->warnings[0])
        snprintf(warning, warning_len, "--theory: %s", t->warnings);
    const int P = res->P, n = t->fps.n;
    double *rates = malloc(((size_t)n * P + 1) * sizeof(double));
    double *cv = malloc(((size_t)n * P + 1) * sizeof(double));
    int8_t *stable = malloc((size_t)n + 1);
    if (!rates || !cv || !stable) {
        snprintf(warning, warning_len, "--theory: out of memory for the table");
    } else {
        for (int k = 0; k < n; ++k) {
            const mg_fixed_point *fp = &t->fps.fp[k];
            stable[k] = (int8_t)(fp->stable ? 1 : 0);
            for (int a = 0; a < P; ++a) {
                rates[(size_t)k * P + a] = fp->A_hz[a];
                /* as written to /theory/cv: a CV that is not a number >= 0 is NaN */
                double c = fp->cv[a];
                cv[(size_t)k * P + a] = isfinite(c) && c >= 0 ? c : NAN;
            }
        }
        /* the simulated spectra are in the file only when a segment fitted after the warm-up */
        const mg_stats *s = &res->stats;
        int spectra = t->F > 0 && s->L.F > 0 && s->i[s->L.i_psd_seg] > 0;
        mg_theory_table tt = {P, n, t->F, res->pop_names, rates, cv, s->mean_A,
                              spectra ? s->freq : NULL, spectra ? t->psd : NULL,
                              spectra ? s->psd : NULL, stable, t->renewal, t->fps.complete};
        mg_theory_table_print(&tt, out);
    }
    free(rates), free(cv), free(stable);
}
