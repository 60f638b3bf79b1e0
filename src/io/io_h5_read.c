/* src/io/io_h5_read.c: reading the statistics of a format-1 file back (for compare, merge, plots):
 * the configuration in the attributes of /stats/sums rebuilds the layout, /stats/sums/i and
 * /stats/sums/d hold the sums, and mg_stats_finalize recomputes every derived quantity. */
#include "mesogif/io.h"
#include "io/io_h5_internal.h" /* mg_h5_read_* */

#include <hdf5.h>
#include <stdlib.h>
#include <string.h>

/* The statistics configuration from the attributes of /stats/sums (g; may be < 0) into c,
 * checked for range. MG_OK, or MG_EIO with a message naming path. */
static int read_sums_cfg(hid_t g, const char *path, mg_stats_cfg *c, mg_err *err)
{
    int64_t P = 0, psd_n = 0, onesided = 0, hb = 0, ob = 0, sw = 0, db = 0, ver = 0, ib = 0;
    if (g < 0 || mg_h5_read_attr(g, "layout_version", H5T_NATIVE_INT64, &ver) || ver != 1 ||
        mg_h5_read_attr(g, "P", H5T_NATIVE_INT64, &P) || mg_h5_read_attr(g, "bin_ms", H5T_NATIVE_DOUBLE, &c->bin_ms) ||
        mg_h5_read_attr(g, "psd_n", H5T_NATIVE_INT64, &psd_n) ||
        mg_h5_read_attr(g, "psd_bin_ms", H5T_NATIVE_DOUBLE, &c->psd_bin_ms) ||
        mg_h5_read_attr(g, "onesided", H5T_NATIVE_INT64, &onesided) ||
        mg_h5_read_attr(g, "hist_bins", H5T_NATIVE_INT64, &hb) ||
        mg_h5_read_attr(g, "hist_max_hz", H5T_NATIVE_DOUBLE, &c->hist_max_hz) ||
        mg_h5_read_attr(g, "obs_bins", H5T_NATIVE_INT64, &ob) ||
        mg_h5_read_attr(g, "obs_max_hz", H5T_NATIVE_DOUBLE, &c->obs_max_hz) ||
        mg_h5_read_attr_str(g, "observable", c->observable, sizeof c->observable) ||
        mg_h5_read_attr(g, "sw_window", H5T_NATIVE_INT64, &sw) ||
        mg_h5_read_attr(g, "sw_lo", H5T_NATIVE_DOUBLE, &c->sw_lo) ||
        mg_h5_read_attr(g, "sw_hi", H5T_NATIVE_DOUBLE, &c->sw_hi) ||
        mg_h5_read_attr(g, "dwell_bins", H5T_NATIVE_INT64, &db) ||
        mg_h5_read_attr(g, "dwell_min_s", H5T_NATIVE_DOUBLE, &c->dwell_min_s) ||
        mg_h5_read_attr(g, "dwell_max_s", H5T_NATIVE_DOUBLE, &c->dwell_max_s) ||
        mg_h5_read_attr(g, "isi_bins", H5T_NATIVE_INT64, &ib) ||
        mg_h5_read_attr(g, "isi_max_s", H5T_NATIVE_DOUBLE, &c->isi_max_s))
        return mg_err_set(err, MG_EIO, "%s: /stats/sums is missing or incomplete (not a mesogif "
                          "format-1 result with statistics, or a damaged file)", path);
    if (P < 1 || P > MG_STATS_POP_MAX || psd_n < 0 || psd_n > (1 << 24) || hb < 1 ||
        hb > 100000 || ob < 1 || ob > 100000 || sw < 1 || sw > 100001 || db < 1 || db > 100000 ||
        ib < 1 || ib > 100000 || !(c->isi_max_s > 0))
        return mg_err_set(err, MG_EIO, "%s: /stats/sums: configuration out of range (P %lld, "
                          "psd_n %lld, bins %lld/%lld/%lld, window %lld)", path, (long long)P,
                          (long long)psd_n, (long long)hb, (long long)ob, (long long)db,
                          (long long)sw);
    c->P = (int)P;
    c->psd_n = psd_n;
    c->onesided = (int)onesided;
    c->hist_bins = (int)hb;
    c->obs_bins = (int)ob;
    c->sw_window = (int)sw;
    c->dwell_bins = (int)db;
    c->isi_bins = (int)ib;
    int64_t basic = 0;
    if (mg_h5_read_attr(g, "basic", H5T_NATIVE_INT64, &basic) == 0)
        c->basic = basic != 0;
    return MG_OK;
}

/* The time-resolved part of c from /stats/sums (g): present when both attributes are (files
 * without them have none). MG_OK, or MG_EIO naming path when it is out of range. */
static int read_sums_time_cfg(hid_t g, const char *path, mg_stats_cfg *c, mg_err *err)
{
    int64_t tb = 0;
    double tbin = 0.0;
    if (mg_h5_read_attr(g, "time_bins", H5T_NATIVE_INT64, &tb) == 0 &&
        mg_h5_read_attr(g, "time_bin_ms", H5T_NATIVE_DOUBLE, &tbin) == 0) {
        mg_err cerr;
        c->time_bins = tb;
        c->time_bin_ms = tbin;
        if (tb < 1 || mg_stats_cfg_check(c, &cerr) != MG_OK)
            return mg_err_set(err, MG_EIO, "%s: /stats/sums: time-resolved configuration out of "
                              "range (%lld bins of %g ms; damaged file)", path, (long long)tb, tbin);
    }
    return MG_OK;
}

/* The sums /stats/sums/i and /stats/sums/d of f into s, allocated for layout L after their
 * sizes were checked against it. MG_OK, or an error naming path (s then holds nothing). */
static int read_sums(hid_t f, const char *path, const mg_stats_layout *L, mg_stats *s, mg_err *err)
{
    /* the sums must have the size the configuration gives before that much is allocated (a
     * damaged configuration may ask for hundreds of GB) */
    if (mg_h5_npoints(f, "/stats/sums/i") != (hssize_t)L->n_i ||
        mg_h5_npoints(f, "/stats/sums/d") != (hssize_t)L->n_d)
        return mg_err_set(err, MG_EIO, "%s: /stats/sums/i or /stats/sums/d is missing or has the "
                          "wrong size for its configuration (%lld and %lld values expected; "
                          "damaged or truncated file)", path, (long long)L->n_i, (long long)L->n_d);
    int rc = mg_stats_alloc(s, L, err);
    if (rc != MG_OK)
        return rc;
    if (mg_h5_read_array(f, "/stats/sums/i", H5T_NATIVE_INT64, s->i, (hsize_t)L->n_i) ||
        mg_h5_read_array(f, "/stats/sums/d", H5T_NATIVE_DOUBLE, s->d, (hsize_t)L->n_d)) {
        mg_stats_free(s);
        return mg_err_set(err, MG_EIO, "%s: /stats/sums/i or /stats/sums/d is missing or has the "
                          "wrong size (damaged or truncated file)", path);
    }
    return MG_OK;
}

int mg_h5_read_stats(const char *path, mg_stats *s, mg_err *err)
{
    memset(s, 0, sizeof *s);
    if (mg_h5_check_readable(path, err) != MG_OK)
        return MG_EIO;
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f < 0)
        return mg_err_set(err, MG_EIO, "%s: cannot open", path);
    hid_t g = H5Gopen2(f, "/stats/sums", H5P_DEFAULT);
    mg_stats_cfg c;
    memset(&c, 0, sizeof c);
    int rc;
    const mg_h5_file_kind kind = g < 0 ? mg_h5_kind(f) : MG_H5_RUN_RESULT;
    if (kind != MG_H5_RUN_RESULT && kind != MG_H5_UNKNOWN) {
        rc = mg_err_set(err, MG_EIO, "%s: %s", path, mg_h5_kind_words(kind));
        goto out;
    }
    rc = read_sums_cfg(g, path, &c, err);
    if (rc == MG_OK)
        rc = read_sums_time_cfg(g, path, &c, err);
    if (rc != MG_OK)
        goto out;
    /* the observable's coefficients are not needed to merge or compare; parse for completeness */
    char observable[MG_OBSERVABLE_LEN]; /* the parser copies its text into c.observable */
    memcpy(observable, c.observable, sizeof observable);
    mg_stats_parse_observable(&c, observable, NULL);
    mg_stats_layout L;
    mg_stats_layout_init(&L, &c);
    rc = read_sums(f, path, &L, s, err);
    if (rc == MG_OK)
        rc = mg_stats_finalize(s, err);
out:
    if (g >= 0)
        H5Gclose(g);
    H5Fclose(f);
    return rc;
}
