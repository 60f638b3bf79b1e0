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

/* One line of a CSV series, its '#' comment cut off (in place): 0 when blank, 1 with the two
 * numbers in *x, *y ("time,current", "time;current" or "time current"; anything after the two
 * numbers but blanks is an error), -1 when it is not two numbers. */
static int parse_line(char *line, double *x, double *y)
{
    char *hash = strchr(line, '#');
    if (hash)
        *hash = '\0';
    char *c = line;
    while (*c == ' ' || *c == '\t' || *c == '\r' || *c == '\n')
        c++;
    if (!*c)
        return 0;
    char extra;
    char *end;
    *x = strtod(c, &end);
    int ok = end != c;
    if (ok) {
        c = end;
        while (*c == ' ' || *c == '\t')
            c++;
        if (*c == ',' || *c == ';')
            c++;
        *y = strtod(c, &end);
        ok = end != c && sscanf(end, " %c", &extra) != 1;
    }
    return ok ? 1 : -1;
}

/* Does a line that is not two numbers start like a header (words, not a broken number)? */
static int header_like(const char *line)
{
    const char *h = line;
    while (*h == ' ' || *h == '\t' || *h == '\r')
        h++;
    return !strchr("0123456789+-.", *h);
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
        double x, y = 0.0;
        int got = parse_line(line, &x, &y);
        if (got == 0)
            continue;
        if (got < 0) {
            /* the first non-empty line may be a header: words, not a broken number line */
            if (!seen_data && k == 0 && header_like(line)) {
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

#define H5_ALLOWED "a dataset of shape [n][2], columns time (ms) and current (pA)"

/* A series dataset being read: where it is (for messages), its handles (-1 when not open) and
 * its shape. */
typedef struct {
    const char *file, *dataset, *where;
    hid_t fid, did, sid;
    hsize_t dims[2];
} h5_series;

/* Open the file and the dataset of s and check its shape ([n][2], n <= SERIES_MAX). */
static int series_open(h5_series *s, mg_err *err)
{
    const char *allowed = H5_ALLOWED;
    s->fid = H5Fopen(s->file, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (s->fid < 0)
        return mg_err_set(err, MG_EINVAL, "%s: cannot open \"%s\" as an HDF5 file (allowed: an "
                          "HDF5 file with %s)", s->where, s->file, allowed);
    s->did = H5Lexists(s->fid, s->dataset, H5P_DEFAULT) > 0
                 ? H5Dopen2(s->fid, s->dataset, H5P_DEFAULT) : -1;
    if (s->did < 0)
        return mg_err_set(err, MG_EINVAL, "%s: \"%s\" has no dataset \"%s\" (allowed: %s)",
                          s->where, s->file, s->dataset, allowed);
    s->sid = H5Dget_space(s->did);
    if (s->sid < 0 || H5Sget_simple_extent_ndims(s->sid) != 2 ||
        H5Sget_simple_extent_dims(s->sid, s->dims, NULL) != 2 || s->dims[1] != 2 ||
        s->dims[0] > SERIES_MAX)
        return mg_err_set(err, MG_EINVAL, "%s: dataset \"%s\" of \"%s\" has shape [%llu][%llu] "
                          "(allowed: %s, n <= %d)", s->where, s->dataset, s->file,
                          (unsigned long long)s->dims[0], (unsigned long long)s->dims[1],
                          allowed, SERIES_MAX);
    return MG_OK;
}

/* Read the opened series s into *times, *amps (allocated), *n. */
static int series_read(const h5_series *s, double **times, double **amps, int *n, mg_err *err)
{
    int rc = MG_OK;
    size_t k = (size_t)s->dims[0];
    double *buf = malloc((k > 0 ? k : 1) * 2 * sizeof *buf);
    double *t = malloc((k > 0 ? k : 1) * sizeof *t);
    double *a = malloc((k > 0 ? k : 1) * sizeof *a);
    if (!buf || !t || !a) {
        rc = mg_err_set(err, MG_ENOMEM, "%s: out of memory reading \"%s\"", s->where, s->file);
    } else if (k > 0 && H5Dread(s->did, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT,
                                buf) < 0) {
        rc = mg_err_set(err, MG_EIO, "%s: cannot read dataset \"%s\" of \"%s\" as numbers "
                        "(allowed: %s)", s->where, s->dataset, s->file, H5_ALLOWED);
    } else {
        for (size_t i = 0; i < k; i++) {
            t[i] = buf[2 * i];
            a[i] = buf[2 * i + 1];
        }
        *times = t;
        *amps = a;
        *n = (int)k;
        t = a = NULL;
    }
    free(buf);
    free(t);
    free(a);
    return rc;
}

static int read_h5(const char *file, const char *dataset, const char *where, double **times,
                   double **amps, int *n, mg_err *err)
{
    H5E_auto2_t func;
    void *data;
    H5Eget_auto2(H5E_DEFAULT, &func, &data);
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL); /* our message, not HDF5's stack */
    h5_series s = {file, dataset, where, -1, -1, -1, {0, 0}};
    int rc = series_open(&s, err);
    if (rc == MG_OK)
        rc = series_read(&s, times, amps, n, err);
    if (s.sid >= 0)
        H5Sclose(s.sid);
    if (s.did >= 0)
        H5Dclose(s.did);
    if (s.fid >= 0)
        H5Fclose(s.fid);
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
