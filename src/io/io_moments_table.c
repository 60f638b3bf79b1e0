/* src/io/io_moments_table.c: the table of time-averaged moments per population that `mesogif
 * run` prints after a run and `mesogif info` prints from a file: mean A, its standard error
 * across realizations and the standard deviation of A; and the "n/a" the printed tables show
 * for an undefined (NaN) value. The standard error is the spread of the
 * realization means (docs/FILE_FORMAT.md), undefined with one realization: the table says
 * "n/a" and why, where the file holds NaN. */
#include "io/io_h5_internal.h"

#include <math.h>

const char *mg_fmt_or_na(char *buf, size_t len, const char *fmt, double v)
{
    if (isnan(v))
        snprintf(buf, len, "n/a");
    else
        snprintf(buf, len, fmt, v);
    return buf;
}

void mg_print_moments_table(FILE *out, const char *indent, char *const *names, const int64_t *N,
                            const double *mean, const double *sem, const double *var, int P)
{
    int undefined = 0;
    char sem_s[32];
    fprintf(out, "%s%-16s", indent, "population");
    if (N)
        fprintf(out, " %10s", "N");
    fprintf(out, " %12s %12s %12s\n", "mean A (Hz)", "+- sem (Hz)", "std A (Hz)");
    for (int a = 0; a < P; ++a) {
        fprintf(out, "%s%-16s", indent, names[a]);
        if (N)
            fprintf(out, " %10lld", (long long)N[a]);
        fprintf(out, " %12.4f %12s %12.4f\n", mean[a],
                mg_fmt_or_na(sem_s, sizeof sem_s, "%.4f", sem[a]), sqrt(var[a]));
        undefined |= isnan(sem[a]);
    }
    if (undefined)
        fprintf(out, "%s(+- sem: n/a with fewer than 2 realizations; it is the spread of the "
                "realization means)\n", indent);
}
