/* src/io/io_h5_util.c: the small HDF5 readers every format reader shares (results, merge, compare,
 * checkpoints, theory). They read only what has exactly the expected shape: a foreign or
 * damaged file may hold an array where a scalar belongs, and H5Aread/H5Dread would write all of
 * it into room for one value. */
#include "io/io_h5_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h> /* access, unlink */

/* Elements of a dataspace (closed here), or -1. */
static hssize_t n_values(hid_t space)
{
    if (space < 0)
        return -1;
    hssize_t n = H5Sget_simple_extent_npoints(space);
    H5Sclose(space);
    return n;
}

int mg_h5_read_attr(hid_t obj, const char *name, hid_t type, void *v)
{
    if (H5Aexists(obj, name) <= 0)
        return -1;
    hid_t a = H5Aopen(obj, name, H5P_DEFAULT);
    if (a < 0)
        return -1;
    int ok = n_values(H5Aget_space(a)) == 1 && H5Aread(a, type, v) >= 0;
    H5Aclose(a);
    return ok ? 0 : -1;
}

int mg_h5_read_attr_str(hid_t obj, const char *name, char *buf, size_t len)
{
    buf[0] = '\0';
    if (H5Aexists(obj, name) <= 0)
        return -1;
    hid_t a = H5Aopen(obj, name, H5P_DEFAULT);
    if (a < 0)
        return -1;
    hid_t ft = H5Aget_type(a);
    hid_t mt = H5Tcopy(H5T_C_S1);
    H5Tset_size(mt, H5T_VARIABLE);
    H5Tset_cset(mt, H5Tget_cset(ft));
    char *s = NULL;
    int ok = H5Tis_variable_str(ft) > 0 && n_values(H5Aget_space(a)) == 1 &&
             H5Aread(a, mt, &s) >= 0 && s;
    if (ok)
        snprintf(buf, len, "%s", s);
    if (s)
        H5free_memory(s);
    H5Tclose(mt);
    H5Tclose(ft);
    H5Aclose(a);
    return ok ? 0 : -1;
}

char *mg_h5_read_str(hid_t loc, const char *path)
{
    if (H5Lexists(loc, path, H5P_DEFAULT) <= 0)
        return NULL;
    hid_t d = H5Dopen2(loc, path, H5P_DEFAULT);
    if (d < 0)
        return NULL;
    hid_t ft = H5Dget_type(d);
    hid_t mt = H5Tcopy(H5T_C_S1);
    H5Tset_size(mt, H5T_VARIABLE);
    H5Tset_cset(mt, H5Tget_cset(ft));
    char *s = NULL, *out = NULL;
    if (H5Tis_variable_str(ft) > 0 && n_values(H5Dget_space(d)) == 1 &&
        H5Dread(d, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, &s) >= 0 && s)
        out = strdup(s);
    if (s)
        H5free_memory(s);
    H5Tclose(mt);
    H5Tclose(ft);
    H5Dclose(d);
    return out;
}

hssize_t mg_h5_npoints(hid_t loc, const char *path)
{
    if (H5Lexists(loc, path, H5P_DEFAULT) <= 0)
        return -1;
    hid_t d = H5Dopen2(loc, path, H5P_DEFAULT);
    if (d < 0)
        return -1;
    hssize_t n = n_values(H5Dget_space(d));
    H5Dclose(d);
    return n;
}

int mg_h5_read_array(hid_t loc, const char *path, hid_t type, void *v, hsize_t n)
{
    if (H5Lexists(loc, path, H5P_DEFAULT) <= 0)
        return -1;
    hid_t d = H5Dopen2(loc, path, H5P_DEFAULT);
    if (d < 0)
        return -1;
    int ok = n_values(H5Dget_space(d)) == (hssize_t)n &&
             (n == 0 || H5Dread(d, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) >= 0);
    H5Dclose(d);
    return ok ? 0 : -1;
}

hid_t mg_h5_open_read(const char *path, int *not_hdf5)
{
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    *not_hdf5 = H5Fis_hdf5(path) <= 0;
    if (*not_hdf5)
        return -1;
    return H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
}

void mg_h5_close(hid_t f)
{
    if (f > 0)
        H5Fclose(f);
}

int mg_h5_has(hid_t loc, const char *path)
{
    /* H5Lexists of "/a/b" fails (rather than saying no) when "/a" is missing: each link in turn */
    char buf[1024];
    if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf)
        return 0;
    for (char *slash = strchr(buf + 1, '/');; slash = strchr(slash + 1, '/')) {
        if (slash)
            *slash = '\0';
        if (H5Lexists(loc, buf, H5P_DEFAULT) <= 0)
            return 0;
        if (!slash)
            return 1;
        *slash = '/';
    }
}

int mg_h5_read_attr_at(hid_t loc, const char *obj, const char *name, hid_t type, void *v)
{
    hid_t o = H5Oopen(loc, obj, H5P_DEFAULT);
    if (o < 0)
        return -1;
    int rc = mg_h5_read_attr(o, name, type, v);
    H5Oclose(o);
    return rc;
}

int mg_h5_shape(hid_t loc, const char *path, int rank, int64_t *d, size_t elem)
{
    hid_t ds = H5Dopen2(loc, path, H5P_DEFAULT);
    if (ds < 0)
        return -1;
    hid_t sp = H5Dget_space(ds);
    hsize_t h[3] = {0, 0, 0};
    int ok = rank >= 1 && rank <= 3 && sp >= 0 && H5Sget_simple_extent_ndims(sp) == rank &&
             H5Sget_simple_extent_dims(sp, h, NULL) == rank;
    double bytes = (double)elem;
    for (int k = 0; ok && k < rank; ++k) {
        ok = h[k] <= (hsize_t)INT64_MAX;
        bytes *= (double)h[k];
    }
    /* deflate compresses at most 1032:1 */
    ok = ok && bytes <= 1100.0 * (double)H5Dget_storage_size(ds) + 4096.0;
    if (sp >= 0)
        H5Sclose(sp);
    H5Dclose(ds);
    if (!ok)
        return -1;
    for (int k = 0; k < rank; ++k)
        d[k] = (int64_t)h[k];
    return 0;
}

int mg_h5_read_names(hid_t loc, const char *path, char *names, size_t width, int n)
{
    hid_t ds = H5Dopen2(loc, path, H5P_DEFAULT);
    if (ds < 0)
        return -1;
    hid_t mt = H5Tcopy(H5T_C_S1);
    H5Tset_size(mt, H5T_VARIABLE);
    H5Tset_cset(mt, H5T_CSET_UTF8);
    char **v = calloc((size_t)(n > 0 ? n : 1), sizeof *v);
    int ok = v && n_values(H5Dget_space(ds)) == n && /* room for n */
             H5Dread(ds, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) >= 0;
    for (int a = 0; ok && a < n; ++a) {
        snprintf(names + (size_t)a * width, width, "%s", v[a] ? v[a] : "?");
        H5free_memory(v[a]);
    }
    free(v);
    H5Tclose(mt);
    H5Dclose(ds);
    return ok ? 0 : -1;
}

hid_t mg_h5_partial_create(const char *path, int force, char *partial, size_t len, mg_err *err)
{
    if (!force && access(path, F_OK) == 0) {
        mg_err_set(err, MG_EIO, "%s: exists (use --force to overwrite)", path);
        return -1;
    }
    if (snprintf(partial, len, "%s.partial", path) >= (int)len) {
        mg_err_set(err, MG_EIO, "%s: path too long", path);
        return -1;
    }
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    hid_t f = H5Fcreate(partial, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    if (f < 0)
        mg_err_set(err, MG_EIO, "%s: cannot create the file (is the folder writable?)", partial);
    return f;
}

int mg_h5_partial_finish(hid_t f, const char *partial, const char *path, int force,
                         const char *what, mg_err *err)
{
    if (H5Fclose(f) < 0 && !what)
        what = "closing the file";
    if (what) {
        unlink(partial);
        return mg_err_set(err, MG_EIO, "%s: writing %s failed (disk full or not writable?)",
                          partial, what);
    }
    if (!force && access(path, F_OK) == 0) {
        unlink(partial);
        return mg_err_set(err, MG_EIO, "%s: appeared during the run (use --force to overwrite)",
                          path);
    }
    if (rename(partial, path) != 0) {
        unlink(partial);
        return mg_err_set(err, MG_EIO, "%s: cannot rename %s into place", path, partial);
    }
    return MG_OK;
}

mg_h5_file_kind mg_h5_kind(hid_t f)
{
    char fmt[64] = "";
    mg_h5_read_attr_str(f, "format", fmt, sizeof fmt);
    if (strcmp(fmt, "mesogif-checkpoint") == 0)
        return MG_H5_RUN_CHECKPOINT;
    if (strcmp(fmt, "mesogif-ffs-checkpoint") == 0)
        return MG_H5_SWITCH_CHECKPOINT;
    if (strcmp(fmt, "mesogif") != 0)
        return MG_H5_UNKNOWN;
    if (mg_h5_has(f, "/switching/ffs"))
        return MG_H5_SWITCH_RESULT;
    return mg_h5_has(f, "/stats/sums") ? MG_H5_RUN_RESULT : MG_H5_UNKNOWN;
}

const char *mg_h5_kind_words(mg_h5_file_kind k)
{
    switch (k) {
    case MG_H5_RUN_RESULT:
        return "the result of a finished `mesogif run`";
    case MG_H5_SWITCH_RESULT:
        return "a `mesogif switch` result (/switching/ffs: switching rates, which `mesogif info` "
               "shows)";
    case MG_H5_RUN_CHECKPOINT:
        return "a checkpoint of an unfinished `mesogif run` (finish it with `mesogif run "
               "--resume` on it)";
    case MG_H5_SWITCH_CHECKPOINT:
        return "a checkpoint of an unfinished `mesogif switch` (finish it with `mesogif switch "
               "--resume` on it)";
    default:
        return NULL;
    }
}

int mg_h5_check_readable(const char *path, mg_err *err)
{
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    if (access(path, R_OK) != 0)
        return mg_err_set(err, MG_EIO, "%s: cannot read: %s", path, strerror(errno));
    if (H5Fis_hdf5(path) <= 0)
        return mg_err_set(err, MG_EIO, "%s: not an HDF5 file (or cannot be read)", path);
    return MG_OK;
}
