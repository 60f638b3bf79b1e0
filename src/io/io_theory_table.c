/* src/io/io_theory_table.c: the theory table of `mesogif run --theory` (the fixed points next to
 * the simulated rates and, with one stable fixed point, simulated / theoretical spectrum in
 * octave bands), printed from a result in memory (the command line) or from a file's /theory
 * (mg_h5_theory_print): one printer, so both say the same. */
#include "io/io_h5_internal.h"

#include <stdio.h>
#include <string.h>

static void print_bands(const mg_theory_table *t, int ks, FILE *out)
{
    const int P = t->P;
    const int64_t F = t->F;
    const size_t per = (size_t)P * (size_t)F;
    fprintf(out, "spectrum, simulated / theory, averaged over octave bands (fixed point %d):\n",
            ks + 1);
    fprintf(out, "%-16s", "band (Hz)");
    for (int a = 0; a < P; ++a)
        fprintf(out, " %12s", t->names[a]);
    fprintf(out, "\n");
    double lo = t->freq[0];
    while (lo < t->freq[F - 1]) {
        double hi = 2.0 * lo;
        double st[MG_POP_MAX] = {0}, ss[MG_POP_MAX] = {0};
        int cnt = 0;
        for (int64_t j = 0; j < F; ++j) {
            if (t->freq[j] < lo || t->freq[j] >= hi)
                continue;
            ++cnt;
            for (int a = 0; a < P; ++a) {
                st[a] += t->psd[(size_t)ks * per + (size_t)a * F + j];
                ss[a] += t->sim[(size_t)a * F + j];
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

void mg_theory_table_print(const mg_theory_table *t, FILE *out)
{
    const int P = t->P, n = t->n;
    fprintf(out, "theory (%s, /theory): %d fixed point%s%s\n",
            t->renewal ? "stationary renewal theory" : "quasi-renewal mean field, linear response",
            n, n == 1 ? "" : "s", t->complete ? "" : " (multi-start search, may be incomplete)");
    fprintf(out, "%-16s", "");
    for (int a = 0; a < P; ++a) {
        char h[MG_NAME_MAX + 16];
        snprintf(h, sizeof h, "A_%s (Hz)", t->names[a]);
        fprintf(out, " %12s", h);
    }
    for (int a = 0; a < P; ++a) {
        char h[MG_NAME_MAX + 16];
        snprintf(h, sizeof h, "CV_%s", t->names[a]);
        fprintf(out, " %8s", h);
    }
    fprintf(out, "\n");
    for (int k = 0; k < n; ++k) {
        char h[32];
        snprintf(h, sizeof h, "fixed point %d", k + 1);
        fprintf(out, "%-16s", h);
        for (int a = 0; a < P; ++a)
            fprintf(out, " %12.4f", t->rates[(size_t)k * P + a]);
        for (int a = 0; a < P; ++a)
            fprintf(out, " %8.4f", t->cv[(size_t)k * P + a]);
        fprintf(out, " %s\n", t->stable[k] ? "stable" : "unstable");
    }
    fprintf(out, "%-16s", "simulation");
    for (int a = 0; a < P; ++a)
        fprintf(out, " %12.4f", t->mean[a]);
    fprintf(out, "\n");
    /* with exactly one stable point, the simulated spectrum should follow it: octave bands */
    int n_stable = 0, ks = -1;
    for (int k = 0; k < n; ++k)
        if (t->stable[k])
            ks = k, ++n_stable;
    if (t->F > 0 && n_stable == 1 && t->freq && t->psd && t->sim)
        print_bands(t, ks, out);
}
