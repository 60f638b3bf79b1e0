/* src/model/stimulus_file.c: read a stimulus time series (time ms, current pA) from a CSV file or an
 * HDF5 dataset (contract in src/model/stimulus.h). Order and ranges are checked by the caller. */
#include "model/stimulus.h"

#include <errno.h>
#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SERIES_MAX 100000000 /* samples: far above any use, keeps the buffers below 2 GB */

static int grow(double **t, double **a, int *cap)
{
    int nc = *cap ? *cap * 2 : 1024;
    double *nt = realloc(*t, (size_t)nc * sizeof **t);
    if (nt)
        *t = nt;
    double *na = nt ? realloc(*a, (size_t)nc * sizeof **a) : NULL;
    if (na)
        *a = na;
    if (!nt || !na)
        return -1;
    *cap = nc;
    return 0;
}

static int read_csv(const char *file, const char *where, double **times, double **amps, int *n,
                    mg_err *err)
{
    FILE *f = fopen(file, "r");
    if (!f)
        return mg_err_set(err, MG_EINVAL, "%s: cannot open \"%s\": %s (allowed: a CSV file of "
                          "time (ms), current (pA) lines)", where, file, strerror(errno));
    char line[1024];
    double *t = NULL, *a = NULL;
    int k = 0, cap = 0, lineno = 0, rc = MG_OK, seen_data = 0;
    while (rc == MG_OK && fgets(line, sizeof line, f)) {
        lineno++;
        char *hash = strchr(line, '#');
        if (hash)
            *hash = '\0';
        char *c = line;
        while (*c == ' ' || *c == '\t' || *c == '\r' || *c == '\n')
            c++;
        if (!*c)
            continue;
        double x, y = 0.0;
        char extra;
        /* "time,current" or "time current"; anything after the two numbers but blanks is an
         * error */
        char *end;
        x = strtod(c, &end);
        int ok = end != c;
        if (ok) {
            c = end;
            while (*c == ' ' || *c == '\t')
                c++;
            if (*c == ',' || *c == ';')
                c++;
            y = strtod(c, &end);
            ok = end != c && sscanf(end, " %c", &extra) != 1;
        }
        if (!ok) {
            /* the first non-empty line may be a header: words, not a broken number line */
            const char *h = line;
            while (*h == ' ' || *h == '\t' || *h == '\r')
                h++;
            if (!seen_data && k == 0 && !strchr("0123456789+-.", *h)) {
                seen_data = 1;
                continue;
            }
            rc = mg_err_set(err, MG_EINVAL, "%s: \"%s\" line %d is not two numbers (allowed: "
                            "time (ms), current (pA); an optional header line; '#' comments)",
                            where, file, lineno);
            break;
        }
        seen_data = 1;
        if (k == SERIES_MAX) {
            rc = mg_err_set(err, MG_EINVAL, "%s: \"%s\" has more than %d samples (allowed: at "
                            "most %d)", where, file, SERIES_MAX, SERIES_MAX);
            break;
        }
        if (k == cap && grow(&t, &a, &cap) != 0) {
            rc = mg_err_set(err, MG_ENOMEM, "%s: out of memory reading \"%s\"", where, file);
            break;
        }
        t[k] = x;
        a[k] = y;
        k++;
    }
    if (rc == MG_OK && ferror(f))
        rc = mg_err_set(err, MG_EIO, "%s: cannot read \"%s\"", where, file);
    fclose(f);
    if (rc != MG_OK) {
        free(t);
        free(a);
        return rc;
    }
    *times = t;
    *amps = a;
    *n = k;
    return MG_OK;
}

static int read_h5(const char *file, const char *dataset, const char *where, double **times,
                   double **amps, int *n, mg_err *err)
{
    const char *allowed = "a dataset of shape [n][2], columns time (ms) and current (pA)";
    H5E_auto2_t func;
    void *data;
    H5Eget_auto2(H5E_DEFAULT, &func, &data);
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL); /* our message, not HDF5's stack */
    int rc = MG_OK;
    hid_t fid = H5Fopen(file, H5F_ACC_RDONLY, H5P_DEFAULT), did = -1, sid = -1;
    double *buf = NULL, *t = NULL, *a = NULL;
    hsize_t dims[2] = {0, 0};
    if (fid < 0) {
        rc = mg_err_set(err, MG_EINVAL, "%s: cannot open \"%s\" as an HDF5 file (allowed: an "
                        "HDF5 file with %s)", where, file, allowed);
        goto out;
    }
    did = H5Lexists(fid, dataset, H5P_DEFAULT) > 0 ? H5Dopen2(fid, dataset, H5P_DEFAULT) : -1;
    if (did < 0) {
        rc = mg_err_set(err, MG_EINVAL, "%s: \"%s\" has no dataset \"%s\" (allowed: %s)", where,
                        file, dataset, allowed);
        goto out;
    }
    sid = H5Dget_space(did);
    if (sid < 0 || H5Sget_simple_extent_ndims(sid) != 2 ||
        H5Sget_simple_extent_dims(sid, dims, NULL) != 2 || dims[1] != 2 ||
        dims[0] > SERIES_MAX) {
        rc = mg_err_set(err, MG_EINVAL, "%s: dataset \"%s\" of \"%s\" has shape [%llu][%llu] "
                        "(allowed: %s, n <= %d)", where, dataset, file,
                        (unsigned long long)dims[0], (unsigned long long)dims[1], allowed,
                        SERIES_MAX);
        goto out;
    }
    size_t k = (size_t)dims[0];
    buf = malloc((k > 0 ? k : 1) * 2 * sizeof *buf);
    t = malloc((k > 0 ? k : 1) * sizeof *t);
    a = malloc((k > 0 ? k : 1) * sizeof *a);
    if (!buf || !t || !a) {
        rc = mg_err_set(err, MG_ENOMEM, "%s: out of memory reading \"%s\"", where, file);
        goto out;
    }
    if (k > 0 && H5Dread(did, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0) {
        rc = mg_err_set(err, MG_EIO, "%s: cannot read dataset \"%s\" of \"%s\" as numbers "
                        "(allowed: %s)", where, dataset, file, allowed);
        goto out;
    }
    for (size_t i = 0; i < k; i++) {
        t[i] = buf[2 * i];
        a[i] = buf[2 * i + 1];
    }
    *times = t;
    *amps = a;
    *n = (int)k;
    t = a = NULL;
out:
    free(buf);
    free(t);
    free(a);
    if (sid >= 0)
        H5Sclose(sid);
    if (did >= 0)
        H5Dclose(did);
    if (fid >= 0)
        H5Fclose(fid);
    H5Eset_auto2(H5E_DEFAULT, func, data);
    return rc;
}

int mg_stim_read_series(const char *file, const char *dataset, const char *where,
                        double **times, double **amps, int *n, mg_err *err)
{
    *times = *amps = NULL;
    *n = 0;
    return dataset ? read_h5(file, dataset, where, times, amps, n, err)
                   : read_csv(file, where, times, amps, n, err);
}
