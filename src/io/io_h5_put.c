/* src/io/io_h5_put.c: the small HDF5 writers every format writer shares (results, merge, theory,
 * spikes, FFS results, checkpoints; declared in src/io/io_h5_internal.h). Each returns 0 on
 * success, -1 on an HDF5 failure. */
#include "io/io_h5_internal.h"
#include "mesogif/io.h" /* MG_FORMAT_VERSION */

#include <stdlib.h>
#include <string.h>
#include <time.h>

hid_t mg_h5_str_type(void)
{
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, H5T_VARIABLE);
    H5Tset_cset(t, H5T_CSET_UTF8);
    return t;
}

int mg_h5_attr_str(hid_t obj, const char *name, const char *value)
{
    hid_t t = mg_h5_str_type(), s = H5Screate(H5S_SCALAR);
    hid_t a = H5Acreate2(obj, name, t, s, H5P_DEFAULT, H5P_DEFAULT);
    int ok = a >= 0 && H5Awrite(a, t, &value) >= 0;
    if (a >= 0)
        H5Aclose(a);
    H5Sclose(s);
    H5Tclose(t);
    return ok ? 0 : -1;
}

int mg_h5_attr(hid_t obj, const char *name, hid_t type, const void *value)
{
    hid_t s = H5Screate(H5S_SCALAR);
    hid_t a = H5Acreate2(obj, name, type, s, H5P_DEFAULT, H5P_DEFAULT);
    int ok = a >= 0 && H5Awrite(a, type, value) >= 0;
    if (a >= 0)
        H5Aclose(a);
    H5Sclose(s);
    return ok ? 0 : -1;
}

int mg_h5_attr_f64(hid_t obj, const char *name, double v)
{
    return mg_h5_attr(obj, name, H5T_NATIVE_DOUBLE, &v);
}

int mg_h5_attr_i64(hid_t obj, const char *name, int64_t v)
{
    return mg_h5_attr(obj, name, H5T_NATIVE_INT64, &v);
}

/* Dataset of rank 0..3 (dims NULL for a scalar); intermediate groups are created. Chunked and
 * deflated when `compress` and the data are large enough to matter. */
int mg_h5_dset(hid_t loc, const char *path, hid_t mem_type, hid_t file_type, int rank,
                const hsize_t *dims, const void *data, int compress)
{
    hid_t s = rank == 0 ? H5Screate(H5S_SCALAR) : H5Screate_simple(rank, dims, NULL);
    hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
    H5Pset_create_intermediate_group(lcpl, 1);
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    hsize_t n = 1;
    for (int i = 0; i < rank; ++i)
        n *= dims[i];
    if (compress && rank > 0 && n > 0) {
        /* chunks of one realization x one population x up to 64 Ki bins: a trace reads fast */
        hsize_t chunk[3];
        for (int i = 0; i < rank; ++i)
            chunk[i] = i == rank - 1 ? (dims[i] < 65536 ? dims[i] : 65536) : 1;
        H5Pset_chunk(dcpl, rank, chunk);
        H5Pset_shuffle(dcpl);
        H5Pset_deflate(dcpl, 4);
    }
    hid_t d = H5Dcreate2(loc, path, file_type, s, lcpl, dcpl, H5P_DEFAULT);
    int ok = d >= 0 && (n == 0 || H5Dwrite(d, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) >= 0);
    if (d >= 0)
        H5Dclose(d);
    H5Pclose(dcpl);
    H5Pclose(lcpl);
    H5Sclose(s);
    return ok ? 0 : -1;
}

int mg_h5_dset_f64(hid_t loc, const char *path, int rank, const hsize_t *dims, const double *v)
{
    return mg_h5_dset(loc, path, H5T_NATIVE_DOUBLE, H5T_IEEE_F64LE, rank, dims, v, 0);
}

int mg_h5_dset_i64(hid_t loc, const char *path, int rank, const hsize_t *dims, const int64_t *v)
{
    return mg_h5_dset(loc, path, H5T_NATIVE_INT64, H5T_STD_I64LE, rank, dims, v, 0);
}

int mg_h5_dset_str(hid_t loc, const char *path, const char *v)
{
    hid_t t = mg_h5_str_type();
    int rc = mg_h5_dset(loc, path, t, t, 0, NULL, &v, 0);
    H5Tclose(t);
    return rc;
}

hid_t mg_h5_group(hid_t loc, const char *name)
{
    hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
    H5Pset_create_intermediate_group(lcpl, 1);
    hid_t g = H5Gcreate2(loc, name, lcpl, H5P_DEFAULT, H5P_DEFAULT);
    H5Pclose(lcpl);
    return g;
}

int mg_h5_attr_header(hid_t f, const char *command_line)
{
    char created[64];
    time_t now = time(NULL);
    struct tm tmv;
    gmtime_r(&now, &tmv);
    strftime(created, sizeof created, "%Y-%m-%dT%H:%M:%SZ", &tmv);
    int rc = 0;
    rc |= mg_h5_attr_str(f, "format", "mesogif");
    rc |= mg_h5_attr_i64(f, "format_version", MG_FORMAT_VERSION);
    rc |= mg_h5_attr_str(f, "mesogif_version", MG_VERSION);
    rc |= mg_h5_attr_str(f, "git_commit", MG_GIT_COMMIT);
    rc |= mg_h5_attr_str(f, "created", created);
    rc |= mg_h5_attr_str(f, "command_line", command_line ? command_line : "");
    return rc ? -1 : 0;
}

int mg_h5_attr_root(hid_t f, const char *command_line, const mg_h5_root *r)
{
    int rc = mg_h5_attr_header(f, command_line);
    if (r->kind)
        rc |= mg_h5_attr_str(f, "kind", r->kind);
    rc |= mg_h5_attr_str(f, "level", mg_level_name(r->level));
    rc |= mg_h5_attr_str(f, "backend", r->backend ? r->backend : "cpu");
    rc |= mg_h5_attr_str(f, "device", r->device);
    rc |= mg_h5_attr_i64(f, "seed", (int64_t)r->seed);
    rc |= mg_h5_attr_f64(f, "dt_ms", r->dt_ms);
    rc |= mg_h5_attr_f64(f, "t_warmup_ms", r->t_warmup_ms);
    rc |= mg_h5_attr_str(f, "noise", mg_noise_name(r->noise));
    rc |= mg_h5_attr_f64(f, "wall_s", r->wall_s);
    rc |= mg_h5_attr_f64(f, "device_memory_bytes", r->device_bytes);
    rc |= mg_h5_attr_i64(f, "partial", r->partial);
    return rc ? -1 : 0;
}

int mg_h5_write_file(const char *path, int force, const char *command_line, const mg_h5_root *root,
                     const char *(*body)(hid_t f, const void *ctx), const void *ctx, mg_err *err)
{
    char partial[4096];
    hid_t f = mg_h5_partial_create(path, force, partial, sizeof partial, err);
    if (f < 0)
        return MG_EIO;
    const char *what = mg_h5_attr_root(f, command_line, root) ? "root attributes" : body(f, ctx);
    return mg_h5_partial_finish(f, partial, path, force, what, err);
}

/* Attribute a (named an) onto dst, whatever its type and shape; 0 or -1. Values that hold
 * memory of their own (variable-length strings and sequences) are reclaimed after the write. */
static int copy_attr(hid_t a, const char *an, hid_t dst)
{
    hid_t t = H5Aget_type(a), sp = H5Aget_space(a);
    hssize_t np = sp >= 0 ? H5Sget_simple_extent_npoints(sp) : -1;
    size_t tsz = t >= 0 ? H5Tget_size(t) : 0;
    int ok = t >= 0 && sp >= 0 && np >= 0 && tsz > 0 &&
             (double)tsz * (double)np < 64.0 * 1024 * 1024; /* attributes are small */
    void *v = ok ? calloc((size_t)(np > 0 ? np : 1), tsz) : NULL;
    ok = ok && v && H5Aread(a, t, v) >= 0;
    if (ok) {
        hid_t b = H5Acreate2(dst, an, t, sp, H5P_DEFAULT, H5P_DEFAULT);
        ok = b >= 0 && H5Awrite(b, t, v) >= 0;
        if (b >= 0)
            H5Aclose(b);
        if (H5Tdetect_class(t, H5T_VLEN) > 0 || H5Tis_variable_str(t) > 0)
            H5Dvlen_reclaim(t, sp, H5P_DEFAULT, v);
    }
    free(v);
    if (sp >= 0)
        H5Sclose(sp);
    if (t >= 0)
        H5Tclose(t);
    return ok ? 0 : -1;
}

int mg_h5_copy_attrs(hid_t src, hid_t dst, const char *path, const char *const *skip, int n_skip,
                     int best_effort)
{
    /* by the object's own identifier: H5Aget_num_attrs() takes no file identifier (it returned
     * -1, and merged files once had no root attributes, "format" included) */
    hid_t s = H5Oopen(src, path, H5P_DEFAULT), d = H5Oopen(dst, path, H5P_DEFAULT);
    H5O_info_t oi;
    memset(&oi, 0, sizeof oi);
    int ok = s >= 0 && d >= 0 && H5Oget_info(s, &oi) >= 0;
    for (hsize_t k = 0; ok && k < oi.num_attrs; ++k) {
        hid_t a = H5Aopen_by_idx(s, ".", H5_INDEX_NAME, H5_ITER_INC, k, H5P_DEFAULT, H5P_DEFAULT);
        if (a < 0) {
            ok = best_effort;
            continue;
        }
        char an[256] = "";
        int keep = H5Aget_name(a, sizeof an, an) >= 0;
        for (int i = 0; i < n_skip; ++i)
            keep &= strcmp(an, skip[i]) != 0;
        ok = !keep || copy_attr(a, an, d) == 0 || best_effort;
        H5Aclose(a);
    }
    if (s >= 0)
        H5Oclose(s);
    if (d >= 0)
        H5Oclose(d);
    return ok || best_effort ? 0 : -1;
}

int mg_h5_copy(hid_t src, hid_t dst, const char *path, int optional)
{
    if (optional && !mg_h5_has(src, path))
        return 0;
    return H5Ocopy(src, path, dst, path, H5P_DEFAULT, H5P_DEFAULT) < 0 ? -1 : 0;
}
