/* src/io/io_h5_put.c: the small HDF5 writers every format writer shares (results, merge, theory,
 * spikes, FFS results, checkpoints; declared in src/io/io_h5_internal.h). Each returns 0 on
 * success, -1 on an HDF5 failure. */
#include "io/io_h5_internal.h"
#include "mesogif/io.h" /* MG_FORMAT_VERSION */

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
