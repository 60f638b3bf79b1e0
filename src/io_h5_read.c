/* src/io_h5_read.c: reading the statistics of a format-1 file back (for compare, merge, plots):
 * the configuration in the attributes of /stats/sums rebuilds the layout, /stats/sums/i and
 * /stats/sums/d hold the sums, and mg_stats_finalize recomputes every derived quantity. */
#include "mesogif/io.h"

#include <hdf5.h>
#include <stdlib.h>
#include <string.h>

/* 1 when attribute a holds exactly one value: H5Aread writes every value of the attribute, and
 * the readers here have room for one (a damaged or foreign file may hold an array). */
static int one_value(hid_t a)
{
    hid_t sp = H5Aget_space(a);
    if (sp < 0)
        return 0;
    int ok = H5Sget_simple_extent_npoints(sp) == 1;
    H5Sclose(sp);
    return ok;
}

static int rd_attr(hid_t g, const char *name, hid_t type, void *v)
{
    if (H5Aexists(g, name) <= 0)
        return -1;
    hid_t a = H5Aopen(g, name, H5P_DEFAULT);
    if (a < 0)
        return -1;
    int ok = one_value(a) && H5Aread(a, type, v) >= 0;
    H5Aclose(a);
    return ok ? 0 : -1;
}

static int rd_attr_str(hid_t g, const char *name, char *buf, size_t len)
{
    if (H5Aexists(g, name) <= 0)
        return -1;
    hid_t a = H5Aopen(g, name, H5P_DEFAULT);
    if (a < 0)
        return -1;
    hid_t ft = H5Aget_type(a);
    hid_t mt = H5Tcopy(H5T_C_S1);
    H5Tset_size(mt, H5T_VARIABLE);
    H5Tset_cset(mt, H5Tget_cset(ft));
    char *s = NULL;
    int ok = H5Tis_variable_str(ft) > 0 && one_value(a) && H5Aread(a, mt, &s) >= 0 && s;
    if (ok)
        snprintf(buf, len, "%s", s);
    if (s)
        H5free_memory(s);
    H5Tclose(mt);
    H5Tclose(ft);
    H5Aclose(a);
    return ok ? 0 : -1;
}

/* Number of elements of the dataset at path, or -1. */
static hssize_t npoints(hid_t f, const char *path)
{
    hid_t d = H5Dopen2(f, path, H5P_DEFAULT);
    if (d < 0)
        return -1;
    hid_t s = H5Dget_space(d);
    hssize_t n = s >= 0 ? H5Sget_simple_extent_npoints(s) : -1;
    if (s >= 0)
        H5Sclose(s);
    H5Dclose(d);
    return n;
}

static int rd_array(hid_t f, const char *path, hid_t type, void *v, hsize_t n)
{
    hid_t d = H5Dopen2(f, path, H5P_DEFAULT);
    if (d < 0)
        return -1;
    hid_t s = H5Dget_space(d);
    int ok = H5Sget_simple_extent_npoints(s) == (hssize_t)n &&
             H5Dread(d, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) >= 0;
    H5Sclose(s);
    H5Dclose(d);
    return ok ? 0 : -1;
}

int mg_h5_read_stats(const char *path, mg_stats *s, mg_err *err)
{
    memset(s, 0, sizeof *s);
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    if (H5Fis_hdf5(path) <= 0)
        return mg_err_set(err, MG_EIO, "%s: not an HDF5 file (or cannot be read)", path);
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f < 0)
        return mg_err_set(err, MG_EIO, "%s: cannot open", path);
    int rc = MG_OK;
    hid_t g = H5Gopen2(f, "/stats/sums", H5P_DEFAULT);
    mg_stats_cfg c;
    memset(&c, 0, sizeof c);
    int64_t P = 0, psd_n = 0, onesided = 0, hb = 0, ob = 0, sw = 0, db = 0, ver = 0, ib = 0;
    if (g < 0 || rd_attr(g, "layout_version", H5T_NATIVE_INT64, &ver) || ver != 1 ||
        rd_attr(g, "P", H5T_NATIVE_INT64, &P) || rd_attr(g, "bin_ms", H5T_NATIVE_DOUBLE, &c.bin_ms) ||
        rd_attr(g, "psd_n", H5T_NATIVE_INT64, &psd_n) ||
        rd_attr(g, "psd_bin_ms", H5T_NATIVE_DOUBLE, &c.psd_bin_ms) ||
        rd_attr(g, "onesided", H5T_NATIVE_INT64, &onesided) ||
        rd_attr(g, "hist_bins", H5T_NATIVE_INT64, &hb) ||
        rd_attr(g, "hist_max_hz", H5T_NATIVE_DOUBLE, &c.hist_max_hz) ||
        rd_attr(g, "obs_bins", H5T_NATIVE_INT64, &ob) ||
        rd_attr(g, "obs_max_hz", H5T_NATIVE_DOUBLE, &c.obs_max_hz) ||
        rd_attr_str(g, "observable", c.observable, sizeof c.observable) ||
        rd_attr(g, "sw_window", H5T_NATIVE_INT64, &sw) ||
        rd_attr(g, "sw_lo", H5T_NATIVE_DOUBLE, &c.sw_lo) ||
        rd_attr(g, "sw_hi", H5T_NATIVE_DOUBLE, &c.sw_hi) ||
        rd_attr(g, "dwell_bins", H5T_NATIVE_INT64, &db) ||
        rd_attr(g, "dwell_min_s", H5T_NATIVE_DOUBLE, &c.dwell_min_s) ||
        rd_attr(g, "dwell_max_s", H5T_NATIVE_DOUBLE, &c.dwell_max_s) ||
        rd_attr(g, "isi_bins", H5T_NATIVE_INT64, &ib) ||
        rd_attr(g, "isi_max_s", H5T_NATIVE_DOUBLE, &c.isi_max_s)) {
        rc = mg_err_set(err, MG_EIO, "%s: /stats/sums is missing or incomplete (not a mesogif "
                        "format-1 result with statistics, or a damaged file)", path);
        goto out;
    }
    if (P < 1 || P > MG_STATS_POP_MAX || psd_n < 0 || psd_n > (1 << 24) || hb < 1 ||
        hb > 100000 || ob < 1 || ob > 100000 || sw < 1 || sw > 100001 || db < 1 || db > 100000 ||
        ib < 1 || ib > 100000 || !(c.isi_max_s > 0)) {
        rc = mg_err_set(err, MG_EIO, "%s: /stats/sums: configuration out of range (P %lld, "
                        "psd_n %lld, bins %lld/%lld/%lld, window %lld)", path, (long long)P,
                        (long long)psd_n, (long long)hb, (long long)ob, (long long)db,
                        (long long)sw);
        goto out;
    }
    c.P = (int)P;
    c.psd_n = psd_n;
    c.onesided = (int)onesided;
    c.hist_bins = (int)hb;
    c.obs_bins = (int)ob;
    c.sw_window = (int)sw;
    c.dwell_bins = (int)db;
    c.isi_bins = (int)ib;
    int64_t basic = 0;
    if (rd_attr(g, "basic", H5T_NATIVE_INT64, &basic) == 0)
        c.basic = basic != 0;
    /* the observable's coefficients are not needed to merge or compare; parse for completeness */
    char observable[MG_OBSERVABLE_LEN]; /* the parser copies its text into c.observable */
    memcpy(observable, c.observable, sizeof observable);
    mg_stats_parse_observable(&c, observable, NULL);
    mg_stats_layout L;
    mg_stats_layout_init(&L, &c);
    /* the sums must have the size the configuration gives before that much is allocated (a
     * damaged configuration may ask for hundreds of GB) */
    if (npoints(f, "/stats/sums/i") != (hssize_t)L.n_i ||
        npoints(f, "/stats/sums/d") != (hssize_t)L.n_d) {
        rc = mg_err_set(err, MG_EIO, "%s: /stats/sums/i or /stats/sums/d is missing or has the "
                        "wrong size for its configuration (%lld and %lld values expected; "
                        "damaged or truncated file)", path, (long long)L.n_i, (long long)L.n_d);
        goto out;
    }
    rc = mg_stats_alloc(s, &L, err);
    if (rc != MG_OK)
        goto out;
    if (rd_array(f, "/stats/sums/i", H5T_NATIVE_INT64, s->i, (hsize_t)L.n_i) ||
        rd_array(f, "/stats/sums/d", H5T_NATIVE_DOUBLE, s->d, (hsize_t)L.n_d)) {
        mg_stats_free(s);
        rc = mg_err_set(err, MG_EIO, "%s: /stats/sums/i or /stats/sums/d is missing or has the "
                        "wrong size (damaged or truncated file)", path);
        goto out;
    }
    rc = mg_stats_finalize(s, err);
out:
    if (g >= 0)
        H5Gclose(g);
    H5Fclose(f);
    return rc;
}
