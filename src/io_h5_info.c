/* src/io_h5_info.c: `mesogif info FILE.h5`: what a result file holds, read back through HDF5. */
#include "cli.h"
#include "mesogif/io.h"

#include <errno.h>
#include <hdf5.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Print a scalar attribute (string, integer or float) as "  name = value". */
static herr_t print_attr(hid_t loc, const char *name, const H5A_info_t *info, void *op)
{
    FILE *out = (FILE *)op;
    (void)info;
    hid_t a = H5Aopen(loc, name, H5P_DEFAULT);
    if (a < 0)
        return 0;
    hid_t t = H5Aget_type(a);
    H5T_class_t cls = H5Tget_class(t);
    if (cls == H5T_STRING) {
        if (H5Tis_variable_str(t) > 0) {
            char *s = NULL;
            hid_t mt = H5Tcopy(H5T_C_S1);
            H5Tset_size(mt, H5T_VARIABLE);
            H5Tset_cset(mt, H5Tget_cset(t)); /* HDF5 does not convert ASCII <-> UTF-8 */
            if (H5Aread(a, mt, &s) >= 0 && s) {
                fprintf(out, "  %-20s %s\n", name, s);
                H5free_memory(s);
            }
            H5Tclose(mt);
        }
    } else if (cls == H5T_INTEGER) {
        long long v = 0;
        if (H5Aread(a, H5T_NATIVE_LLONG, &v) >= 0)
            fprintf(out, "  %-20s %lld\n", name, v);
    } else if (cls == H5T_FLOAT) {
        double v = 0;
        if (H5Aread(a, H5T_NATIVE_DOUBLE, &v) >= 0)
            fprintf(out, "  %-20s %g\n", name, v);
    }
    H5Tclose(t);
    H5Aclose(a);
    return 0;
}

/* Every dataset with its shape (skipping the many scalars of /config/resolved). */
static herr_t print_object(hid_t loc, const char *name, const H5O_info_t *info, void *op)
{
    FILE *out = (FILE *)op;
    if (info->type != H5O_TYPE_DATASET || strncmp(name, "config/resolved", 15) == 0)
        return 0;
    hid_t d = H5Dopen2(loc, name, H5P_DEFAULT);
    if (d < 0)
        return 0;
    hid_t s = H5Dget_space(d);
    int rank = H5Sget_simple_extent_ndims(s);
    hsize_t dims[8] = {0};
    if (rank > 0 && rank <= 8)
        H5Sget_simple_extent_dims(s, dims, NULL);
    fprintf(out, "  /%-34s", name);
    if (rank == 0)
        fprintf(out, " scalar");
    for (int i = 0; i < rank && i < 8; ++i)
        fprintf(out, "%s%llu", i ? " x " : " ", (unsigned long long)dims[i]);
    fputc('\n', out);
    H5Sclose(s);
    H5Dclose(d);
    return 0;
}

static int read_f64(hid_t f, const char *path, double *v, hsize_t n)
{
    hid_t d = H5Dopen2(f, path, H5P_DEFAULT);
    if (d < 0)
        return -1;
    hid_t s = H5Dget_space(d);
    hssize_t have = H5Sget_simple_extent_npoints(s);
    int ok = have == (hssize_t)n && H5Dread(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT,
                                            v) >= 0;
    H5Sclose(s);
    H5Dclose(d);
    return ok ? 0 : -1;
}

static int read_names(hid_t f, char ***names, int *P)
{
    hid_t d = H5Dopen2(f, "/config/populations", H5P_DEFAULT);
    if (d < 0)
        return -1;
    hid_t s = H5Dget_space(d);
    hssize_t n = H5Sget_simple_extent_npoints(s);
    hid_t mt = H5Tcopy(H5T_C_S1), ft = H5Dget_type(d);
    H5Tset_size(mt, H5T_VARIABLE);
    H5Tset_cset(mt, H5Tget_cset(ft)); /* HDF5 does not convert ASCII <-> UTF-8 */
    H5Tclose(ft);
    char **v = calloc((size_t)(n > 0 ? n : 1), sizeof *v);
    int ok = v && n > 0 && n <= 4096 &&
             H5Dread(d, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) >= 0;
    H5Tclose(mt);
    H5Sclose(s);
    H5Dclose(d);
    if (!ok) {
        free(v);
        return -1;
    }
    *names = v;
    *P = (int)n;
    return 0;
}

int mg_h5_info(const char *path, FILE *out, mg_err *err)
{
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    if (access(path, R_OK) != 0)
        return mg_err_set(err, MG_EIO, "%s: cannot read: %s", path, strerror(errno));
    if (H5Fis_hdf5(path) <= 0)
        return mg_err_set(err, MG_EIO, "%s: not an HDF5 file (or cannot be read)", path);
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f < 0)
        return mg_err_set(err, MG_EIO, "%s: cannot open", path);
    if (H5Aexists(f, "format") <= 0 || H5Aexists(f, "format_version") <= 0) {
        H5Fclose(f);
        return mg_err_set(err, MG_EIO, "%s: not a mesogif result (no format attribute)", path);
    }
    fprintf(out, "%s\n", path);
    hsize_t idx = 0;
    H5Aiterate2(f, H5_INDEX_NAME, H5_ITER_INC, &idx, print_attr, out);
    char **names = NULL;
    int P = 0;
    if (read_names(f, &names, &P) == 0) {
        double *mean = malloc((size_t)P * sizeof *mean), *var = malloc((size_t)P * sizeof *var);
        double *sem = malloc((size_t)P * sizeof *sem), bin = NAN;
        read_f64(f, "/stats/bin_ms", &bin, 1);
        if (mean && var && sem && read_f64(f, "/stats/mean_A", mean, (hsize_t)P) == 0 &&
            read_f64(f, "/stats/var_A", var, (hsize_t)P) == 0 &&
            read_f64(f, "/stats/mean_A_sem", sem, (hsize_t)P) == 0) {
            fprintf(out, "statistics (A in %g ms bins):\n", bin);
            fprintf(out, "  %-16s %12s %12s %12s\n", "population", "mean A (Hz)", "+- sem",
                    "std A (Hz)");
            for (int a = 0; a < P; ++a)
                fprintf(out, "  %-16s %12.4f %12.4f %12.4f\n", names[a], mean[a], sem[a],
                        sqrt(var[a]));
        }
        free(mean);
        free(var);
        free(sem);
        for (int a = 0; a < P; ++a)
            H5free_memory(names[a]);
        free(names);
    }
    fprintf(out, "datasets:\n");
    H5Ovisit(f, H5_INDEX_NAME, H5_ITER_INC, print_object, out);
    H5Fclose(f);
    return MG_OK;
}

int mg_cli_info(int argc, char **argv)
{
    if (argc != 2 || strcmp(argv[1], "--help") == 0) {
        fputs("usage: mesogif info FILE.h5\n", argc == 2 ? stdout : stderr);
        return argc == 2 ? 0 : 2;
    }
    mg_err err = {{0}};
    int rc = mg_h5_info(argv[1], stdout, &err);
    if (rc != MG_OK) {
        mg_cli_error("%s", err.msg);
        return 2;
    }
    return 0;
}
