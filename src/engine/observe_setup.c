/* src/engine/observe_setup.c: lay out the observer's rows (src/core/observe.h) after the dynamics. */
#include "engine/job.h"

#include <math.h>
#include <string.h>

/* The rows of the observer in the state of a realization, from row0 on: traces, statistics,
 * switching analysis and spectra (the time-resolved ones follow, time_rows). Returns the row
 * after the last. */
static int64_t layout_rows(mg_obs_cfg *oc, const mg_stats_cfg *sc, int64_t F, int row0)
{
    const int P = oc->P;
    const int64_t C = (int64_t)P * (P - 1) / 2;
    int64_t row = row0;
    oc->row_rec_n = (int)row;
    row += P;
    oc->row_rec_nbar = (int)row;
    row += P;
    oc->row_st_n = (int)row;
    row += P;
    oc->row_cnt = (int)row++;
    oc->row_s1 = (int)row;
    row += P;
    oc->row_s2 = (int)row;
    row += (int64_t)P * P;
    oc->row_hist_A = (int)row;
    row += (int64_t)P * (sc->hist_bins + 2);
    oc->row_hist_obs = (int)row;
    row += sc->obs_bins + 2;
    oc->row_ma = (int)row;
    row += sc->sw_window;
    oc->row_sw = (int)row;
    row += 5;
    oc->row_sw_acc = (int)row;
    row += 12;
    oc->row_sw_hist = (int)row;
    row += 2 * (sc->dwell_bins + 2);
    oc->row_psd_n = (int)row;
    row += P;
    oc->row_seg = (int)row;
    row += (int64_t)P * sc->psd_n;
    oc->row_psd_nseg = (int)row++;
    oc->row_psd = (int)row;
    row += (int64_t)P * F;
    oc->row_csd = (int)row;
    row += 2 * C * F;
    return row;
}

/* The time-resolved statistics from row on (none when sc->time_bins is 0): bins of a whole
 * number of steps (stats_config checked that). Returns the row after the last. */
static int64_t time_rows(mg_obs_cfg *oc, const mg_stats_cfg *sc, const double *N, double dt_ms,
                         int64_t row)
{
    const int P = oc->P;
    if (sc->time_bins > 0) {
        oc->tm_L = llround(sc->time_bin_ms / dt_ms);
        oc->tm_B = sc->time_bins;
        for (int a = 0; a < P; ++a)
            oc->tm_scale[a] = 1.0 / (N[a] * (double)oc->tm_L * oc->dt_s);
        oc->row_tm_n = (int)row;
        row += P;
        oc->row_tm_A = (int)row;
        row += (int64_t)P * oc->tm_B;
    }
    return row;
}

int mg_obs_setup(mg_obs_cfg *oc, const mg_stats_layout *L, const double *N, double dt_ms,
                 int64_t n_steps, int64_t rec_L, int64_t st_L, int64_t psd_L,
                 double t_warmup_ms, int row0, mg_err *err)
{
    const int P = L->P;
    const mg_stats_cfg *sc = &L->cfg;
    const double dt_s = dt_ms * 1e-3;
    memset(oc, 0, sizeof *oc);
    oc->P = P;
    oc->L = *L;
    oc->dt_s = dt_s;
    oc->rec_L = rec_L;
    oc->rec_T = n_steps / rec_L;
    oc->st_L = st_L;
    /* statistics use the bins that start at or after the warm-up */
    oc->st_b0 = (int64_t)ceil(t_warmup_ms / (dt_ms * (double)st_L) - 1e-9);
    oc->psd_L = sc->psd_n > 0 ? psd_L : 0;
    if (oc->psd_L > 0)
        oc->psd_b0 = (int64_t)ceil(t_warmup_ms / (dt_ms * (double)psd_L) - 1e-9);
    for (int a = 0; a < P; ++a) {
        oc->rec_scale[a] = 1.0 / (N[a] * (double)rec_L * dt_s);
        oc->st_scale[a] = 1.0 / (N[a] * (double)st_L * dt_s);
        oc->psd_scale[a] = oc->psd_L > 0 ? 1.0 / (N[a] * (double)psd_L * dt_s) : 0.0;
    }
    int64_t row = layout_rows(oc, sc, L->F, row0);
    row = time_rows(oc, sc, N, dt_ms, row);
    if (row > 2000000000)
        return mg_err_set(err, MG_EINVAL, "the state of one realization would have %lld rows "
                          "(allowed: < 2e9; lower len_kernel, the spectral resolution or the "
                          "histogram bins)", (long long)row);
    oc->rows = (int)(row - oc->row_rec_n);
    return MG_OK;
}
