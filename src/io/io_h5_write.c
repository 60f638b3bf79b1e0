/* src/io/io_h5_write.c: writing a run to an HDF5 file of format 1 (DESIGN.md "HDF5 file - format 1").
 * Every path written here is part of a contract with users' scripts: add, never rename. */
#include "mesogif/io.h"
#include "io/io_h5_internal.h"

#include <hdf5.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* What mg_h5_write_file hands to write_body. */
typedef struct {
    const mg_result *res;
    const mg_model *m;
} run_file;

/* ---- the file ------------------------------------------------------------------------------ */

/* The root attributes of a run beyond those every result file has (mg_h5_attr_root). */
static int write_root(hid_t f, const mg_result *res)
{
    const mg_run_opts *o = &res->opts;
    int rc = mg_h5_attr_i64(f, "realization_first", o->realization_first);
    rc |= mg_h5_attr_i64(f, "realization_count", o->realization_count);
    rc |= mg_h5_attr_f64(f, "t_sim_ms", o->t_sim_ms);
    rc |= mg_h5_attr_str(f, "run_hash", res->run_hash);
    if (res->partial)
        rc |= mg_h5_attr_str(f, "partial_reason", res->partial_reason);
    rc |= mg_h5_attr_i64(f, "shard_index", o->shard_index);
    rc |= mg_h5_attr_i64(f, "shard_count", o->shard_count > 0 ? o->shard_count : 1);
    rc |= mg_h5_attr_i64(f, "realizations_total",
                   o->realizations_total > 0 ? o->realizations_total : o->realization_count);
    return rc;
}

static int write_config(hid_t f, const mg_result *res, const mg_model *m)
{
    int rc = 0;
    rc |= mg_h5_dset_str(f, "/config/model_json", m->json ? m->json : "");
    rc |= mg_h5_dset_str(f, "/config/model_source", m->source ? m->source : "");
    rc |= mg_h5_dset_str(f, "/config/run_key", res->run_key ? res->run_key : "");
    /* population names as a 1-D array of variable-length strings */
    hid_t t = mg_h5_str_type();
    hsize_t P = (hsize_t)res->P;
    const char **names = malloc(P * sizeof *names);
    if (!names) {
        H5Tclose(t);
        return -1;
    }
    for (hsize_t a = 0; a < P; ++a)
        names[a] = res->pop_names[a];
    rc |= mg_h5_dset(f, "/config/populations", t, t, 1, &P, names, 0);
    free(names);
    H5Tclose(t);
    hid_t g = mg_h5_group(f, "/config/resolved");
    if (g < 0)
        return -1;
    for (int i = 0; i < res->n_resolved; ++i)
        rc |= mg_h5_dset_f64(g, res->resolved[i].name, 0, NULL, &res->resolved[i].value);
    H5Gclose(g);
    const mg_run_opts *o = &res->opts;
    hid_t og = mg_h5_group(f, "/config/options");
    if (og < 0)
        return -1;
    rc |= mg_h5_attr_f64(og, "record_bin_ms", o->record_bin_ms);
    rc |= mg_h5_attr_f64(og, "stats_bin_ms", o->stats_bin_ms);
    rc |= mg_h5_attr_i64(og, "record_realizations", res->trace_k);
    rc |= mg_h5_attr_str(og, "noise", mg_noise_name(o->noise));
    rc |= mg_h5_attr_str(og, "level", mg_level_name(o->level));
    rc |= mg_h5_attr_f64(og, "memory_per_realization_bytes", res->mem_bytes_per_realization);
    H5Gclose(og);
    return rc;
}

/* The statistics configuration as attributes of /stats/sums (enough to rebuild the layout). */
static int write_stats_cfg(hid_t g, const mg_stats_cfg *c)
{
    int rc = 0;
    rc |= mg_h5_attr_i64(g, "P", c->P);
    rc |= mg_h5_attr_f64(g, "bin_ms", c->bin_ms);
    rc |= mg_h5_attr_i64(g, "psd_n", c->psd_n);
    rc |= mg_h5_attr_f64(g, "psd_bin_ms", c->psd_bin_ms);
    rc |= mg_h5_attr_i64(g, "onesided", c->onesided);
    rc |= mg_h5_attr_i64(g, "hist_bins", c->hist_bins);
    rc |= mg_h5_attr_f64(g, "hist_max_hz", c->hist_max_hz);
    rc |= mg_h5_attr_i64(g, "obs_bins", c->obs_bins);
    rc |= mg_h5_attr_f64(g, "obs_max_hz", c->obs_max_hz);
    rc |= mg_h5_attr_str(g, "observable", c->observable);
    rc |= mg_h5_attr_i64(g, "sw_window", c->sw_window);
    rc |= mg_h5_attr_f64(g, "sw_lo", c->sw_lo);
    rc |= mg_h5_attr_f64(g, "sw_hi", c->sw_hi);
    rc |= mg_h5_attr_i64(g, "dwell_bins", c->dwell_bins);
    rc |= mg_h5_attr_f64(g, "dwell_min_s", c->dwell_min_s);
    rc |= mg_h5_attr_f64(g, "dwell_max_s", c->dwell_max_s);
    rc |= mg_h5_attr_i64(g, "isi_bins", c->isi_bins);
    rc |= mg_h5_attr_f64(g, "isi_max_s", c->isi_max_s);
    rc |= mg_h5_attr_i64(g, "basic", c->basic);
    if (c->time_bins > 0) { /* absent: no time-resolved sums (files without them stay as they were) */
        rc |= mg_h5_attr_f64(g, "time_bin_ms", c->time_bin_ms);
        rc |= mg_h5_attr_i64(g, "time_bins", c->time_bins);
    }
    return rc;
}

/* /stats/time: the time-resolved moments across realizations, and their sums under
 * /stats/sums/time (also inside /stats/sums/d, which is what merging uses). */
static int write_stats_time(hid_t f, const mg_stats *s)
{
    const mg_stats_layout *L = &s->L;
    const int64_t B = L->cfg.time_bins;
    if (B <= 0)
        return 0;
    hsize_t P = (hsize_t)L->P, nb = (hsize_t)B, PB[2] = {P, nb}, PPB[3] = {P, P, nb};
    int rc = 0;
    rc |= mg_h5_dset_f64(f, "/stats/time/t_s", 1, &nb, s->tm_t_s);
    rc |= mg_h5_dset_f64(f, "/stats/time/mean_A", 2, PB, s->tm_mean_A);
    rc |= mg_h5_dset_f64(f, "/stats/time/mean_A_sem", 2, PB, s->tm_mean_A_sem);
    rc |= mg_h5_dset_f64(f, "/stats/time/var_A", 2, PB, s->tm_var_A);
    rc |= mg_h5_dset_f64(f, "/stats/time/cov_A", 3, PPB, s->tm_cov_A);
    rc |= mg_h5_dset_i64(f, "/stats/time/n_realizations", 0, NULL, &s->i[L->i_tm_nreal]);
    rc |= mg_h5_dset_f64(f, "/stats/sums/time/sum_A", 2, PB, s->d + L->d_tm_s1);
    rc |= mg_h5_dset_f64(f, "/stats/sums/time/sum_AA", 3, PPB, s->d + L->d_tm_s2);
    hid_t g = H5Gopen2(f, "/stats/time", H5P_DEFAULT);
    if (g < 0)
        return -1;
    rc |= mg_h5_attr_f64(g, "bin_ms", L->cfg.time_bin_ms);
    rc |= mg_h5_attr_str(g, "description", "across realizations, per population and bin of bin_ms "
                   "from the start of the run (warm-up included); t_s: start of the bin (s); "
                   "mean_A, var_A [P][bins] (Hz, Hz^2, var unbiased), cov_A [P][P][bins], "
                   "mean_A_sem = sqrt(var_A / n_realizations)");
    H5Gclose(g);
    return rc;
}

/* complex128 as h5py and numpy read it: a compound of two float64 named r and i */
static int dset_complex(hid_t loc, const char *path, int rank, const hsize_t *dims,
                        const double *re, const double *im)
{
    hsize_t n = 1;
    for (int k = 0; k < rank; ++k)
        n *= dims[k];
    double *buf = malloc((size_t)(n > 0 ? n : 1) * 2 * sizeof(double));
    if (!buf)
        return -1;
    for (hsize_t k = 0; k < n; ++k) {
        buf[2 * k] = re[k];
        buf[2 * k + 1] = im[k];
    }
    hid_t t = H5Tcreate(H5T_COMPOUND, 2 * sizeof(double));
    H5Tinsert(t, "r", 0, H5T_NATIVE_DOUBLE);
    H5Tinsert(t, "i", sizeof(double), H5T_NATIVE_DOUBLE);
    int rc = mg_h5_dset(loc, path, t, t, rank, dims, buf, 0);
    H5Tclose(t);
    free(buf);
    return rc;
}

static int write_hist(hid_t f, const char *group, const double *edges, int nb,
                      const int64_t *counts_full)
{
    char path[256];
    hsize_t ne = (hsize_t)nb + 1, nc = (hsize_t)nb;
    int rc = 0;
    snprintf(path, sizeof path, "%s/edges", group);
    rc |= mg_h5_dset_f64(f, path, 1, &ne, edges);
    snprintf(path, sizeof path, "%s/counts", group);
    rc |= mg_h5_dset_i64(f, path, 1, &nc, counts_full + 1);
    hid_t d = H5Dopen2(f, path, H5P_DEFAULT);
    if (d < 0)
        return -1;
    rc |= mg_h5_attr_i64(d, "underflow", counts_full[0]);
    rc |= mg_h5_attr_i64(d, "overflow", counts_full[nb + 1]);
    H5Dclose(d);
    return rc;
}

static int write_spectra(hid_t f, const mg_stats *s)
{
    const mg_stats_layout *L = &s->L;
    /* no segment fitted after the warm-up: the estimates would be 0/0; left out */
    if (L->F == 0 || s->i[L->i_psd_seg] == 0)
        return 0;
    const mg_stats_cfg *c = &L->cfg;
    hsize_t F = (hsize_t)L->F, PF[2] = {(hsize_t)L->P, F};
    int rc = 0;
    rc |= mg_h5_dset_f64(f, "/stats/freq", 1, &F, s->freq);
    rc |= mg_h5_dset_f64(f, "/stats/psd", 2, PF, s->psd);
    rc |= mg_h5_dset_f64(f, "/stats/psd_sem", 2, PF, s->psd_sem);
    hid_t d = H5Dopen2(f, "/stats/psd", H5P_DEFAULT);
    if (d < 0)
        return -1;
    rc |= mg_h5_attr_i64(d, "onesided", c->onesided);
    rc |= mg_h5_attr_str(d, "window", "rectangular");
    rc |= mg_h5_attr_str(d, "detrend", "none (the f = 0 term is dropped)");
    rc |= mg_h5_attr_f64(d, "df", F > 0 ? s->freq[0] : 0.0);
    rc |= mg_h5_attr_i64(d, "segments", s->i[L->i_psd_seg]);
    rc |= mg_h5_attr_i64(d, "segment_samples", c->psd_n);
    rc |= mg_h5_attr_f64(d, "sample_bin_ms", c->psd_bin_ms);
    rc |= mg_h5_attr_str(d, "units", "Hz (spectral density of A in Hz^2/Hz)");
    rc |= mg_h5_attr_str(d, "convention", "S(f_k) = <|dt sum_j A_j exp(-2 pi i k j / n)|^2> / (n dt), "
                   "k = 1..n/2; two-sided unless onesided = 1 (then doubled below Nyquist)");
    H5Dclose(d);
    const int P = L->P;
    hsize_t C = (hsize_t)P * (P - 1) / 2;
    if (C > 0) {
        hsize_t CF[2] = {C, F};
        rc |= dset_complex(f, "/stats/csd", 2, CF, s->csd_re, s->csd_im);
        char pairs[4096] = "";
        size_t at = 0;
        for (int a = 0; a < P; ++a)
            for (int b = a + 1; b < P && at < sizeof pairs - 8; ++b)
                at += (size_t)snprintf(pairs + at, sizeof pairs - at, "%s%d-%d",
                                       at ? "," : "", a, b);
        hid_t dc = H5Dopen2(f, "/stats/csd", H5P_DEFAULT);
        if (dc < 0)
            return -1;
        rc |= mg_h5_attr_str(dc, "pairs", pairs);
        rc |= mg_h5_attr_str(dc, "definition", "<X_a conj(X_b)> dt / n for the pairs a < b (0-based)");
        H5Dclose(dc);
    }
    return rc;
}

static int write_switching(hid_t f, const mg_stats *s)
{
    const mg_stats_layout *L = &s->L;
    const mg_stats_cfg *c = &L->cfg;
    hsize_t two = 2, ND = (hsize_t)c->dwell_bins, NE = ND + 1, DH[2] = {2, ND};
    double thr[2] = {c->sw_lo, c->sw_hi}, smooth = c->sw_window * c->bin_ms;
    int rc = 0;
    rc |= mg_h5_dset_str(f, "/stats/switching/observable", c->observable);
    rc |= mg_h5_dset_f64(f, "/stats/switching/thresholds", 1, &two, thr);
    rc |= mg_h5_dset_f64(f, "/stats/switching/smoothing_ms", 0, NULL, &smooth);
    rc |= mg_h5_dset_i64(f, "/stats/switching/n_exits", 1, &two, s->i + L->i_sw_exits);
    rc |= mg_h5_dset_i64(f, "/stats/switching/n_complete", 1, &two, s->i + L->i_sw_done);
    rc |= mg_h5_dset_i64(f, "/stats/switching/n_censored", 1, &two, s->i + L->i_sw_cens);
    rc |= mg_h5_dset_f64(f, "/stats/switching/exposure_s", 1, &two, s->d + L->d_sw_expo);
    rc |= mg_h5_dset_f64(f, "/stats/switching/rate_hz", 1, &two, s->rate_hz);
    rc |= mg_h5_dset_f64(f, "/stats/switching/rate_ci_low", 1, &two, s->rate_ci_low);
    rc |= mg_h5_dset_f64(f, "/stats/switching/rate_ci_high", 1, &two, s->rate_ci_high);
    rc |= mg_h5_dset_f64(f, "/stats/switching/mean_dwell_s", 1, &two, s->mean_dwell_s);
    rc |= mg_h5_dset_f64(f, "/stats/switching/cv_dwell", 1, &two, s->cv_dwell);
    rc |= mg_h5_dset_f64(f, "/stats/switching/dwell_hist_edges_s", 1, &NE, s->dwell_edges_s);
    int64_t *counts = malloc((size_t)(2 * ND + 1) * sizeof(int64_t));
    if (!counts)
        return -1;
    for (int st = 0; st < 2; ++st)
        for (hsize_t k = 0; k < ND; ++k)
            counts[st * ND + k] = s->i[L->i_sw_hist + st * (ND + 2) + 1 + k];
    rc |= mg_h5_dset_i64(f, "/stats/switching/dwell_hist_counts", 2, DH, counts);
    free(counts);
    hid_t g = H5Gopen2(f, "/stats/switching", H5P_DEFAULT);
    if (g < 0)
        return -1;
    rc |= mg_h5_attr_str(g, "states", "0 = low (entered when the smoothed observable < thresholds[0]), "
                   "1 = high (entered when > thresholds[1])");
    rc |= mg_h5_attr_str(g, "rates", "rate = exits / exposure; exposure includes censored dwells; exact "
                   "Poisson 95 % limits chi2(0.025; 2n)/2T, chi2(0.975; 2n+2)/2T");
    rc |= mg_h5_attr_str(g, "dwells", "complete dwells only (flip in to flip out); the first and last "
                   "dwell of each realization are censored");
    H5Gclose(g);
    return rc;
}

static int write_stats(hid_t f, const mg_result *res)
{
    /* the switching analysis is the run's when an observable was declared (option or model
     * file: the command line puts either into opts) and statistics are full */
    return mg_h5_write_stats(f, &res->stats, res->pop_names,
                             res->opts.switch_observable[0] != '\0');
}

/* /stats/isi/ of a micro run: the interval histogram of each population, mean, CV and count
 * (a meso run has no intervals at all: left out rather than written as zero counts and NaN
 * means). rc: the failures so far; as for the histograms of A, no further histogram is written
 * after one. Returns rc with the failures here or'ed in. */
static int write_isi(hid_t f, const mg_stats *s, char (*pop_names)[MG_NAME_MAX], int rc)
{
    const mg_stats_layout *L = &s->L;
    const mg_stats_cfg *c = &L->cfg;
    hsize_t P = (hsize_t)L->P;
    int64_t n_isi = 0;
    for (int a = 0; a < L->P; ++a)
        n_isi += s->i[L->i_isi_n + a];
    for (int a = 0; a < L->P && rc == 0 && n_isi > 0; ++a) {
        char g[64 + MG_NAME_MAX];
        snprintf(g, sizeof g, "/stats/isi/%s", pop_names[a]);
        rc |= write_hist(f, g, s->isi_edges_s, c->isi_bins,
                         s->i + L->i_isi_hist + (int64_t)a * (c->isi_bins + 2));
    }
    if (n_isi > 0) {
        rc |= mg_h5_dset_f64(f, "/stats/isi/mean_s", 1, &P, s->isi_mean_s);
        rc |= mg_h5_dset_f64(f, "/stats/isi/cv", 1, &P, s->isi_cv);
        rc |= mg_h5_dset_i64(f, "/stats/isi/count", 1, &P, s->i + L->i_isi_n);
    }
    return rc;
}

/* The d_fields attribute of /stats/sums into fields[len]: where each field of d lives, "name
 * offset length" per line, for readers that merge or compare the raw sums. */
static void sums_d_fields(const mg_stats_layout *L, char *fields, size_t len)
{
    const struct { const char *name; int64_t off, end; } fd[] = {
        {"sum_A", L->d_s1, L->d_s2}, {"sum_AA", L->d_s2, L->d_m1},
        {"sum_realization_mean", L->d_m1, L->d_m2}, {"sum_realization_mean_sq", L->d_m2, L->d_v1},
        {"sum_realization_var", L->d_v1, L->d_v2}, {"sum_realization_var_sq", L->d_v2, L->d_psd},
        {"psd_sum", L->d_psd, L->d_psd_m1}, {"psd_realization_mean_sum", L->d_psd_m1, L->d_psd_m2},
        {"psd_realization_mean_sq_sum", L->d_psd_m2, L->d_csd_re},
        {"csd_re_sum", L->d_csd_re, L->d_csd_im}, {"csd_im_sum", L->d_csd_im, L->d_sw_expo},
        {"switch_exposure_s", L->d_sw_expo, L->d_sw_d1}, {"switch_dwell_sum_s", L->d_sw_d1, L->d_sw_d2},
        {"switch_dwell_sq_sum", L->d_sw_d2, L->d_isi_s1}, {"isi_sum_s", L->d_isi_s1, L->d_isi_s2},
        {"isi_sq_sum", L->d_isi_s2, L->d_isi_s2 + L->P},
        {"time_sum_A", L->d_tm_s1, L->d_tm_s2}, {"time_sum_AA", L->d_tm_s2, L->n_d}};
    fields[0] = '\0';
    size_t at = 0;
    const size_t nfd = sizeof fd / sizeof fd[0] - (L->cfg.time_bins > 0 ? 0 : 2);
    for (size_t k = 0; k < nfd; ++k)
        at += (size_t)snprintf(fields + at, len - at, "%s %lld %lld\n", fd[k].name,
                               (long long)fd[k].off, (long long)(fd[k].end - fd[k].off));
}

/* /stats/sums: the sufficient statistics themselves, so that files merge exactly: the raw
 * arrays (with the configuration that fixes their layout in the group's attributes) and the
 * main ones by name. Returns 0, or nonzero when something could not be written. */
static int write_sums(hid_t f, const mg_stats *s)
{
    const mg_stats_layout *L = &s->L;
    hsize_t P = (hsize_t)L->P, PP[2] = {P, P};
    hsize_t ni = (hsize_t)L->n_i, nd = (hsize_t)L->n_d;
    int rc = 0;
    rc |= mg_h5_dset_i64(f, "/stats/sums/i", 1, &ni, s->i);
    rc |= mg_h5_dset_f64(f, "/stats/sums/d", 1, &nd, s->d);
    rc |= mg_h5_dset_i64(f, "/stats/sums/n_realizations", 0, NULL, &s->i[L->i_nreal]);
    rc |= mg_h5_dset_f64(f, "/stats/sums/sum_A", 1, &P, s->d + L->d_s1);
    rc |= mg_h5_dset_f64(f, "/stats/sums/sum_AA", 2, PP, s->d + L->d_s2);
    rc |= mg_h5_dset_f64(f, "/stats/sums/sum_realization_mean", 1, &P, s->d + L->d_m1);
    rc |= mg_h5_dset_f64(f, "/stats/sums/sum_realization_mean_sq", 1, &P, s->d + L->d_m2);
    hid_t g = H5Gopen2(f, "/stats/sums", H5P_DEFAULT);
    if (g < 0)
        return -1;
    rc |= write_stats_cfg(g, &L->cfg);
    rc |= mg_h5_attr_i64(g, "layout_version", 1);
    char fields[2048];
    sums_d_fields(L, fields, sizeof fields);
    rc |= mg_h5_attr_str(g, "d_fields", fields);
    H5Gclose(g);
    return rc;
}

int mg_h5_write_stats(hid_t f, const mg_stats *s, char (*pop_names)[MG_NAME_MAX], int switching)
{
    const mg_stats_layout *L = &s->L;
    const mg_stats_cfg *c = &L->cfg;
    hsize_t P = (hsize_t)L->P, PP[2] = {P, P};
    int rc = 0;
    rc |= mg_h5_dset_i64(f, "/stats/count", 0, NULL, &s->i[L->i_count]);
    rc |= mg_h5_dset_f64(f, "/stats/bin_ms", 0, NULL, &s->bin_ms);
    rc |= mg_h5_dset_f64(f, "/stats/mean_A", 1, &P, s->mean_A);
    rc |= mg_h5_dset_f64(f, "/stats/var_A", 1, &P, s->var_A);
    rc |= mg_h5_dset_f64(f, "/stats/cov_A", 2, PP, s->cov_A);
    rc |= mg_h5_dset_f64(f, "/stats/mean_A_sem", 1, &P, s->mean_A_sem);
    rc |= mg_h5_dset_f64(f, "/stats/var_A_sem", 1, &P, s->var_A_sem);
    rc |= write_spectra(f, s);
    rc |= write_stats_time(f, s);
    /* --stats basic counts no histogram: none is written (zeros would read as data) */
    for (int a = 0; a < L->P && rc == 0 && !c->basic; ++a) {
        char g[64 + MG_NAME_MAX];
        snprintf(g, sizeof g, "/stats/hist/%s", pop_names[a]);
        rc |= write_hist(f, g, s->hist_A_edges, c->hist_bins,
                         s->i + L->i_hist_A + (int64_t)a * (c->hist_bins + 2));
    }
    if (switching && !c->basic) {
        rc |= write_hist(f, "/stats/hist/observable", s->hist_obs_edges, c->obs_bins,
                         s->i + L->i_hist_obs);
        rc |= write_switching(f, s);
    }
    rc = write_isi(f, s, pop_names, rc);
    return rc | write_sums(f, s);
}

static int write_traces(hid_t f, const mg_result *res)
{
    if (res->trace_k <= 0 || res->trace_T <= 0)
        return 0;
    hsize_t dims[3] = {(hsize_t)res->trace_k, (hsize_t)res->P, (hsize_t)res->trace_T};
    int rc = 0;
    rc |= mg_h5_dset(f, "/traces/A_N", H5T_NATIVE_FLOAT, H5T_IEEE_F32LE, 3, dims, res->A_N, 1);
    if (res->A_bar)
        rc |= mg_h5_dset(f, "/traces/A_bar", H5T_NATIVE_FLOAT, H5T_IEEE_F32LE, 3, dims, res->A_bar, 1);
    int64_t *idx = malloc((size_t)res->trace_k * sizeof(int64_t));
    if (!idx)
        return -1;
    for (int64_t k = 0; k < res->trace_k; ++k)
        idx[k] = res->opts.realization_first + k;
    hsize_t nk = (hsize_t)res->trace_k;
    rc |= mg_h5_dset_i64(f, "/traces/realization_index", 1, &nk, idx);
    free(idx);
    if (rc)
        return rc;
    const char *names[2] = {"/traces/A_N", "/traces/A_bar"};
    for (int i = 0; i < (res->A_bar ? 2 : 1); ++i) {
        hid_t d = H5Dopen2(f, names[i], H5P_DEFAULT);
        if (d < 0)
            return -1;
        rc |= mg_h5_attr_f64(d, "dt_ms", res->trace_bin_ms);
        rc |= mg_h5_attr_f64(d, "t0_ms", 0.0);
        rc |= mg_h5_attr_str(d, "units", "Hz");
        rc |= mg_h5_attr_str(d, "dims", "realization, population, time bin");
        rc |= mg_h5_attr_i64(d, "realization_first", res->opts.realization_first);
        H5Dclose(d);
    }
    return rc;
}

/* After the root attributes every result file has (mg_h5_write_file): the rest of a run. */
static const char *write_body(hid_t f, const void *ctx)
{
    const mg_result *res = ((const run_file *)ctx)->res;
    const mg_model *m = ((const run_file *)ctx)->m;
    const char *what = NULL;
    if (write_root(f, res))
        what = "root attributes";
    else if (write_config(f, res, m))
        what = "/config";
    else if (write_stats(f, res))
        what = "/stats";
    else if (write_traces(f, res))
        what = "/traces";
    else if (mg_h5_write_spikes(f, res))
        what = "/spikes";
    if (!what && res->opts.theory)
        mg_h5_write_theory(f, res, m); /* never fails the run (src/io/io_h5_theory.c) */
    return what;
}

int mg_h5_write_result(const char *path, const mg_result *res, const mg_model *m,
                       const char *command_line, int force, mg_err *err)
{
    const mg_run_opts *o = &res->opts;
    const mg_h5_root root = {.backend = res->backend_name, .device = res->device,
                             .level = o->level, .noise = o->noise, .seed = o->seed,
                             .dt_ms = o->dt_ms, .t_warmup_ms = o->t_warmup_ms,
                             .wall_s = res->wall_s, .device_bytes = res->device_bytes,
                             .partial = res->partial};
    const run_file ctx = {res, m};
    return mg_h5_write_file(path, force, command_line, &root, write_body, &ctx, err);
}
