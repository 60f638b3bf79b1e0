/* tests/psd_bands.h: a run's power spectrum against a theory's, in 15 log-spaced bands from 1 Hz
 * to the Nyquist frequency (tests/test_spectrum_theory.c, tests/test_ou_theory.c). A band's
 * value is the mean of its ordinates, its standard error sqrt(sum sem_k^2) / n_band from the
 * across-realization spread (psd_sem; ordinates at distinct Fourier frequencies are close to
 * uncorrelated). A band passes when |sim - E| <= 4 sem + allowance * E, the allowance being
 * allow_low below 50 Hz and allow_high from 50 Hz on (4 sem: a false-failure rate of 6e-5 per
 * band). Prints a table; returns the failing bands, *worst the largest |sim / E - 1|. Include
 * after testutil.h. */
#ifndef MESOGIF_TESTS_PSD_BANDS_H
#define MESOGIF_TESTS_PSD_BANDS_H

#include <math.h>
#include <stdio.h>

#include "mesogif/stats.h"

static inline int mg_test_psd_bands(const mg_stats *s, const double *E, double allow_low,
                                    double allow_high, double *worst)
{
    const int nb = 15;
    const int64_t F = s->L.F;
    const double f_lo = 1.0, f_hi = 0.5 / (s->L.cfg.psd_bin_ms * 1e-3);
    int fails = 0;
    *worst = 0.0;
    for (int b = 0; b < nb; ++b) {
        const double e0 = f_lo * pow(f_hi / f_lo, (double)b / nb);
        const double e1 = f_lo * pow(f_hi / f_lo, (double)(b + 1) / nb);
        double sim = 0, ex = 0, se2 = 0;
        int cnt = 0;
        for (int64_t k = 0; k < F; ++k)
            if (s->freq[k] >= e0 - 1e-9 && (s->freq[k] < e1 - 1e-9 || (b == nb - 1 && k == F - 1))) {
                sim += s->psd[k];
                ex += E[k];
                se2 += s->psd_sem[k] * s->psd_sem[k];
                ++cnt;
            }
        if (cnt == 0)
            continue;
        sim /= cnt;
        ex /= cnt;
        const double sem = sqrt(se2) / cnt;
        const double allowance = e0 < 50.0 ? allow_low : allow_high;
        const int ok = fabs(sim - ex) <= 4.0 * sem + allowance * ex;
        fails += !ok;
        *worst = fmax(*worst, fabs(sim / ex - 1));
        printf("  %7.2f-%7.2f Hz (%3d): sim %.6f +- %.6f  theory %.6f  %+6.2f %% (+- %.2f %%, "
               "allowed %.1f %% + 4 sem)%s\n", e0, e1, cnt, sim, sem, ex, 100 * (sim / ex - 1),
               100 * sem / ex, 100 * allowance, ok ? "" : "  FAIL");
    }
    return fails;
}

#endif /* MESOGIF_TESTS_PSD_BANDS_H */
