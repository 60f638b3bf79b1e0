/* src/util/units.c: quantities with units on the command line (include/mesogif/units.h). */
#include "mesogif/units.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int parse_with(const char *text, const char *const *units, const double *scale, int n,
                      int bare, double *out)
{
    if (!text || !*text)
        return -1;
    char *end;
    double v = strtod(text, &end);
    if (end == text || !isfinite(v))
        return -1;
    while (*end == ' ')
        ++end;
    if (*end == '\0') {
        *out = v * scale[bare];
        return 0;
    }
    for (int i = 0; i < n; ++i) {
        if (strcmp(end, units[i]) == 0) {
            *out = v * scale[i];
            return 0;
        }
    }
    return -1;
}

int mg_parse_duration_ms(const char *text, double *ms)
{
    static const char *const units[] = {"us", "ms", "s", "min", "h"};
    static const double scale[] = {1e-3, 1.0, 1e3, 6e4, 3.6e6};
    return parse_with(text, units, scale, 5, 1, ms);
}

int mg_parse_frequency_hz(const char *text, double *hz)
{
    static const char *const units[] = {"Hz", "kHz"};
    static const double scale[] = {1.0, 1e3};
    return parse_with(text, units, scale, 2, 0, hz);
}

void mg_format_duration(double ms, char *buf, int len)
{
    if (fabs(ms) >= 1000.0)
        snprintf(buf, (size_t)len, "%g s", ms / 1000.0);
    else
        snprintf(buf, (size_t)len, "%g ms", ms);
}
