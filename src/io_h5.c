/* src/io_h5.c: writing a run to an HDF5 file of format 1 (DESIGN.md "HDF5 file - format 1").
 * Every path written here is part of a contract with users' scripts: add, never rename. */
#include "mesogif/io.h"
#include "io_h5_internal.h"

#include <hdf5.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* ---- small writers; each returns 0 on success, -1 on an HDF5 failure ---------------------- */

static hid_t str_type(void)
{
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, H5T_VARIABLE);
    H5Tset_cset(t, H5T_CSET_UTF8);
    return t;
}

static int attr_str(hid_t obj, const char *name, const char *value)
{
    hid_t t = str_type(), s = H5Screate(H5S_SCALAR);
    hid_t a = H5Acreate2(obj, name, t, s, H5P_DEFAULT, H5P_DEFAULT);
    int ok = a >= 0 && H5Awrite(a, t, &value) >= 0;
    if (a >= 0)
        H5Aclose(a);
    H5Sclose(s);
    H5Tclose(t);
    return ok ? 0 : -1;
}

static int attr_num(hid_t obj, const char *name, hid_t type, const void *value)
{
    hid_t s = H5Screate(H5S_SCALAR);
    hid_t a = H5Acreate2(obj, name, type, s, H5P_DEFAULT, H5P_DEFAULT);
    int ok = a >= 0 && H5Awrite(a, type, value) >= 0;
    if (a >= 0)
        H5Aclose(a);
    H5Sclose(s);
    return ok ? 0 : -1;
}

static int attr_f64(hid_t obj, const char *name, double v)
{
    return attr_num(obj, name, H5T_NATIVE_DOUBLE, &v);
}

static int attr_i64(hid_t obj, const char *name, int64_t v)
{
    return attr_num(obj, name, H5T_NATIVE_INT64, &v);
}

/* Dataset of rank 0..3 (dims NULL for a scalar); intermediate groups are created. Chunked and
 * deflated when `compress` and the data are large enough to matter. */
static int dset(hid_t loc, const char *path, hid_t mem_type, hid_t file_type, int rank,
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

static int dset_f64(hid_t loc, const char *path, int rank, const hsize_t *dims, const double *v)
{
    return dset(loc, path, H5T_NATIVE_DOUBLE, H5T_IEEE_F64LE, rank, dims, v, 0);
}

static int dset_i64(hid_t loc, const char *path, int rank, const hsize_t *dims, const int64_t *v)
{
    return dset(loc, path, H5T_NATIVE_INT64, H5T_STD_I64LE, rank, dims, v, 0);
}

static int dset_str(hid_t loc, const char *path, const char *v)
{
    hid_t t = str_type();
    int rc = dset(loc, path, t, t, 0, NULL, &v, 0);
    H5Tclose(t);
    return rc;
}

static hid_t group(hid_t loc, const char *name)
{
    hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
    H5Pset_create_intermediate_group(lcpl, 1);
    hid_t g = H5Gcreate2(loc, name, lcpl, H5P_DEFAULT, H5P_DEFAULT);
    H5Pclose(lcpl);
    return g;
}

/* ---- the file ------------------------------------------------------------------------------ */

static int write_root(hid_t f, const mg_result *res, const char *command_line)
{
    char created[64];
    time_t now = time(NULL);
    struct tm tmv;
    gmtime_r(&now, &tmv);
    strftime(created, sizeof created, "%Y-%m-%dT%H:%M:%SZ", &tmv);
    const mg_run_opts *o = &res->opts;
    int rc = 0;
    rc |= attr_str(f, "format", "mesogif");
    rc |= attr_i64(f, "format_version", MG_FORMAT_VERSION);
    rc |= attr_str(f, "mesogif_version", MG_VERSION);
    rc |= attr_str(f, "git_commit", MG_GIT_COMMIT);
    rc |= attr_str(f, "created", created);
    rc |= attr_str(f, "command_line", command_line ? command_line : "");
    rc |= attr_str(f, "level", mg_level_name(o->level));
    rc |= attr_str(f, "backend", res->backend_name ? res->backend_name : "cpu");
    rc |= attr_str(f, "device", res->device);
    rc |= attr_i64(f, "seed", (int64_t)o->seed);
    rc |= attr_i64(f, "realization_first", o->realization_first);
    rc |= attr_i64(f, "realization_count", o->realization_count);
    rc |= attr_f64(f, "dt_ms", o->dt_ms);
    rc |= attr_f64(f, "t_sim_ms", o->t_sim_ms);
    rc |= attr_f64(f, "t_warmup_ms", o->t_warmup_ms);
    rc |= attr_str(f, "noise", mg_noise_name(o->noise));
    rc |= attr_f64(f, "wall_s", res->wall_s);
    rc |= attr_f64(f, "device_memory_bytes", res->device_bytes);
    return rc;
}

static int write_config(hid_t f, const mg_result *res, const mg_model *m)
{
    int rc = 0;
    rc |= dset_str(f, "/config/model_json", m->json ? m->json : "");
    rc |= dset_str(f, "/config/model_source", m->source ? m->source : "");
    /* population names as a 1-D array of variable-length strings */
    hid_t t = str_type();
    hsize_t P = (hsize_t)res->P;
    const char **names = malloc(P * sizeof *names);
    if (!names) {
        H5Tclose(t);
        return -1;
    }
    for (hsize_t a = 0; a < P; ++a)
        names[a] = res->pop_names[a];
    rc |= dset(f, "/config/populations", t, t, 1, &P, names, 0);
    free(names);
    H5Tclose(t);
    hid_t g = group(f, "/config/resolved");
    if (g < 0)
        return -1;
    for (int i = 0; i < res->n_resolved; ++i)
        rc |= dset_f64(g, res->resolved[i].name, 0, NULL, &res->resolved[i].value);
    H5Gclose(g);
    const mg_run_opts *o = &res->opts;
    hid_t og = group(f, "/config/options");
    if (og < 0)
        return -1;
    rc |= attr_f64(og, "record_bin_ms", o->record_bin_ms);
    rc |= attr_f64(og, "stats_bin_ms", o->stats_bin_ms);
    rc |= attr_i64(og, "record_realizations", res->trace_k);
    rc |= attr_str(og, "noise", mg_noise_name(o->noise));
    rc |= attr_str(og, "level", mg_level_name(o->level));
    rc |= attr_f64(og, "memory_per_realization_bytes", res->mem_bytes_per_realization);
    H5Gclose(og);
    return rc;
}

static int write_stats(hid_t f, const mg_result *res)
{
    const mg_stats *s = &res->stats;
    const mg_stats_layout *L = &s->L;
    hsize_t P = (hsize_t)L->P, PP[2] = {P, P};
    int rc = 0;
    rc |= dset_i64(f, "/stats/count", 0, NULL, &s->i[L->i_count]);
    rc |= dset_f64(f, "/stats/bin_ms", 0, NULL, &s->bin_ms);
    rc |= dset_f64(f, "/stats/mean_A", 1, &P, s->mean_A);
    rc |= dset_f64(f, "/stats/var_A", 1, &P, s->var_A);
    rc |= dset_f64(f, "/stats/cov_A", 2, PP, s->cov_A);
    rc |= dset_f64(f, "/stats/mean_A_sem", 1, &P, s->mean_A_sem);
    /* the sufficient statistics themselves, so that files merge exactly */
    rc |= dset_i64(f, "/stats/sums/n_realizations", 0, NULL, &s->i[L->i_nreal]);
    rc |= dset_f64(f, "/stats/sums/sum_A", 1, &P, s->d + L->d_s1);
    rc |= dset_f64(f, "/stats/sums/sum_AA", 2, PP, s->d + L->d_s2);
    rc |= dset_f64(f, "/stats/sums/sum_realization_mean", 1, &P, s->d + L->d_m1);
    rc |= dset_f64(f, "/stats/sums/sum_realization_mean_sq", 1, &P, s->d + L->d_m2);
    return rc;
}

static int write_traces(hid_t f, const mg_result *res)
{
    if (res->trace_k <= 0 || res->trace_T <= 0)
        return 0;
    hsize_t dims[3] = {(hsize_t)res->trace_k, (hsize_t)res->P, (hsize_t)res->trace_T};
    int rc = 0;
    rc |= dset(f, "/traces/A_N", H5T_NATIVE_FLOAT, H5T_IEEE_F32LE, 3, dims, res->A_N, 1);
    if (res->A_bar)
        rc |= dset(f, "/traces/A_bar", H5T_NATIVE_FLOAT, H5T_IEEE_F32LE, 3, dims, res->A_bar, 1);
    if (rc)
        return rc;
    const char *names[2] = {"/traces/A_N", "/traces/A_bar"};
    for (int i = 0; i < (res->A_bar ? 2 : 1); ++i) {
        hid_t d = H5Dopen2(f, names[i], H5P_DEFAULT);
        if (d < 0)
            return -1;
        rc |= attr_f64(d, "dt_ms", res->trace_bin_ms);
        rc |= attr_f64(d, "t0_ms", 0.0);
        rc |= attr_str(d, "units", "Hz");
        rc |= attr_str(d, "dims", "realization, population, time bin");
        rc |= attr_i64(d, "realization_first", res->opts.realization_first);
        H5Dclose(d);
    }
    return rc;
}

int mg_h5_write_result(const char *path, const mg_result *res, const mg_model *m,
                       const char *command_line, int force, mg_err *err)
{
    if (!force && access(path, F_OK) == 0)
        return mg_err_set(err, MG_EIO, "%s: exists (use --force to overwrite)", path);
    char partial[4096];
    if (snprintf(partial, sizeof partial, "%s.partial", path) >= (int)sizeof partial)
        return mg_err_set(err, MG_EIO, "%s: path too long", path);
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    hid_t f = H5Fcreate(partial, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    if (f < 0)
        return mg_err_set(err, MG_EIO, "%s: cannot create the file (is the folder writable?)",
                          partial);
    const char *what = NULL;
    if (write_root(f, res, command_line))
        what = "root attributes";
    else if (write_config(f, res, m))
        what = "/config";
    else if (write_stats(f, res))
        what = "/stats";
    else if (write_traces(f, res))
        what = "/traces";
    else if (mg_h5_write_spikes(f, res))
        what = "/spikes";
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
