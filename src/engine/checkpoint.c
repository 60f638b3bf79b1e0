/* src/engine/checkpoint.c: checkpoint files of a run (issue 6), so that a preempted or timed-out run
 * resumes and ends bitwise as an uninterrupted one would.
 *
 * What is saved is everything a restart needs and nothing it can recompute: the model text,
 * the options, the run key (src/engine/run_key.c), the program version, the running sum of the
 * complete reduction groups at the head and how many they are, per group in flight (open) its
 * sums so far and the first realization whose record is missing, every realization parked
 * mid-run (its next step and the rows of its state), the traces recorded so far and the
 * progress counters. Realizations not begun start afresh after a resume: they depend only on
 * (model, options, seed, index). The file is written as PATH.partial and renamed over PATH, so
 * the previous checkpoint survives a full disk or a crash while writing. */
#include "engine/job.h"
#include "io/io_h5_internal.h"
#include "engine/run_key.h"

#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MG_CKPT_FORMAT "mesogif-checkpoint"
#define MG_CKPT_VERSION 2 /* 2: running sum + open groups (issue 17.4) */

/* The options as bytes, with every pointer cleared (they mean nothing in another process). */
static void opts_blob(const mg_run_opts *o, mg_run_opts *b)
{
    *b = *o;
    mg_run_opts_unhook(b);
}

/* The open groups as a checkpoint holds them: group index g[m], next realization next[m], sums
 * gi[m][ni] and gd[m][nd]. */
typedef struct {
    int64_t *g, *next, *gi;
    double *gd;
} open_rows;

/* 0, or -1 when out of memory (rows_free is still due). */
static int rows_alloc(open_rows *r, int64_t m, int64_t ni, int64_t nd)
{
    r->g = malloc((size_t)(m > 0 ? m : 1) * sizeof *r->g);
    r->next = malloc((size_t)(m > 0 ? m : 1) * sizeof *r->next);
    r->gi = malloc((size_t)(m * ni > 0 ? m * ni : 1) * sizeof *r->gi);
    r->gd = malloc((size_t)(m * nd > 0 ? m * nd : 1) * sizeof *r->gd);
    return r->g && r->next && r->gi && r->gd ? 0 : -1;
}

static void rows_free(open_rows *r)
{
    free(r->g);
    free(r->next);
    free(r->gi);
    free(r->gd);
}

/* The reduction state: groups done, their running sum, and the open groups in group order. */
static int write_groups(hid_t f, const mg_job *job)
{
    const int64_t ni = job->SL.n_i, nd = job->SL.n_d;
    hsize_t one = 1, si = (hsize_t)ni, sd = (hsize_t)nd;
    int rc = 0;
    rc |= mg_h5_dset_i64(f, "/groups_done", 1, &one, &job->g_done);
    rc |= mg_h5_dset_i64(f, "/sum_i", 1, &si, job->sum_i);
    rc |= mg_h5_dset_f64(f, "/sum_d", 1, &sd, job->sum_d);
    int64_t m = job->n_open, k = 0;
    open_rows r;
    if (rows_alloc(&r, m, ni, nd)) {
        rows_free(&r);
        return -1;
    }
    for (int64_t q = job->g_done; q < job->n_groups && k < m; ++q) {
        const mg_gslot *s = mg_job_group_peek(job, q);
        if (!s)
            continue;
        r.g[k] = q;
        r.next[k] = s->next;
        memcpy(r.gi + k * ni, s->i, (size_t)ni * sizeof *r.gi);
        memcpy(r.gd + k * nd, s->d, (size_t)nd * sizeof *r.gd);
        ++k;
    }
    hsize_t hm = (hsize_t)k, di[2] = {hm, (hsize_t)ni}, dd[2] = {hm, (hsize_t)nd};
    rc |= mg_h5_dset_i64(f, "/group_g", 1, &hm, r.g);
    rc |= mg_h5_dset_i64(f, "/group_next", 1, &hm, r.next);
    rc |= mg_h5_dset_i64(f, "/group_i", 2, di, r.gi);
    rc |= mg_h5_dset_f64(f, "/group_d", 2, dd, r.gd);
    rows_free(&r);
    return rc;
}

/* The root attributes (format, build, progress), the run key, the model, the output path and
 * the options of the checkpoint. 0, or nonzero when a write failed. */
static int write_header(hid_t f, const mg_job *job, const char *key)
{
    char hash[17], created[64];
    mg_run_hash_hex(key, hash);
    time_t now = time(NULL);
    struct tm tmv;
    gmtime_r(&now, &tmv);
    strftime(created, sizeof created, "%Y-%m-%dT%H:%M:%SZ", &tmv);
    int rc = 0;
    rc |= mg_h5_attr_str(f, "format", MG_CKPT_FORMAT);
    rc |= mg_h5_attr_i64(f, "format_version", MG_CKPT_VERSION);
    rc |= mg_h5_attr_str(f, "mesogif_version", MG_VERSION);
    rc |= mg_h5_attr_str(f, "git_commit", MG_GIT_COMMIT);
    rc |= mg_h5_attr_str(f, "run_hash", hash);
    rc |= mg_h5_attr_str(f, "created", created);
    rc |= mg_h5_attr_i64(f, "steps_done", job->steps_done);
    rc |= mg_h5_attr_i64(f, "realizations_done", job->real_done);
    rc |= mg_h5_attr_i64(f, "rows", job->rows);
    rc |= mg_h5_attr_i64(f, "opts_size", (int64_t)sizeof(mg_run_opts));
    rc |= mg_h5_dset_str(f, "/run_key", key);
    rc |= mg_h5_dset_str(f, "/model_json", job->model->json ? job->model->json : "");
    rc |= mg_h5_dset_str(f, "/model_source", job->model->source ? job->model->source : "");
    rc |= mg_h5_dset_str(f, "/output_path", job->opts.output_path ? job->opts.output_path : "");
    mg_run_opts blob;
    opts_blob(&job->opts, &blob);
    hsize_t nb = sizeof blob;
    rc |= mg_h5_dset(f, "/opts", H5T_NATIVE_UCHAR, H5T_STD_U8LE, 1, &nb, &blob, 0);
    return rc;
}

/* The parked realizations (index, next step, state rows) and the traces so far. 0, or nonzero
 * when out of memory or a write failed. */
static int write_parked(hid_t f, const mg_job *job)
{
    int rc = 0;
    hsize_t m = (hsize_t)job->n_inflight, ms[2] = {m, (hsize_t)job->rows};
    int64_t *r = malloc((m > 0 ? m : 1) * sizeof(int64_t));
    int64_t *t = malloc((m > 0 ? m : 1) * sizeof(int64_t));
    double *state = malloc((m > 0 ? m : 1) * (size_t)job->rows * sizeof(double));
    if (!r || !t || !state) {
        rc = -1;
    } else {
        for (hsize_t k = 0; k < m; ++k) {
            r[k] = job->inflight[k].r;
            t[k] = job->inflight[k].t;
            memcpy(state + k * (size_t)job->rows, job->inflight[k].state,
                   (size_t)job->rows * sizeof(double));
        }
        rc |= mg_h5_dset_i64(f, "/inflight_r", 1, &m, r);
        rc |= mg_h5_dset_i64(f, "/inflight_t", 1, &m, t);
        rc |= mg_h5_dset_f64(f, "/inflight_state", 2, ms, state);
    }
    free(r);
    free(t);
    free(state);
    hsize_t nt = (hsize_t)(job->trace_k * job->SL.P * job->trace_T);
    rc |= mg_h5_dset(f, "/trace_AN", H5T_NATIVE_FLOAT, H5T_IEEE_F32LE, 1, &nt, job->trace_AN, 1);
    rc |= mg_h5_dset(f, "/trace_Abar", H5T_NATIVE_FLOAT, H5T_IEEE_F32LE, 1, &nt,
                     job->trace_Abar, 1);
    return rc;
}

int mg_checkpoint_write(const mg_job *job, const char *path, mg_err *err)
{
    char partial[4096];
    if (snprintf(partial, sizeof partial, "%s.partial", path) >= (int)sizeof partial)
        return mg_err_set(err, MG_EIO, "%s: path too long", path);
    char *key = mg_run_key(job->model, &job->opts, &job->SL.cfg);
    if (!key)
        return mg_err_set(err, MG_ENOMEM, "out of memory for the checkpoint");
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    hid_t f = H5Fcreate(partial, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    if (f < 0) {
        free(key);
        return mg_err_set(err, MG_EIO, "%s: cannot create the checkpoint (folder not writable?); "
                          "the previous checkpoint, if any, is kept", partial);
    }
    int rc = write_header(f, job, key);
    free(key);
    rc |= write_groups(f, job);
    rc |= write_parked(f, job);
    if (H5Fclose(f) < 0)
        rc = -1;
    if (rc) {
        unlink(partial);
        return mg_err_set(err, MG_EIO, "%s: writing the checkpoint failed (disk full or not "
                          "writable?); the previous checkpoint, if any, is kept", path);
    }
    if (rename(partial, path) != 0) {
        unlink(partial);
        return mg_err_set(err, MG_EIO, "%s: cannot rename the new checkpoint into place; the "
                          "previous one, if any, is kept", path);
    }
    return MG_OK;
}

/* ---- reading -------------------------------------------------------------------------- */

/* Does the dataset at path exist with at least `bytes` bytes of storage in the file? */
static int stored(hid_t f, const char *path, double bytes)
{
    hid_t d = H5Dopen2(f, path, H5P_DEFAULT);
    if (d < 0)
        return 0;
    double have = (double)H5Dget_storage_size(d);
    H5Dclose(d);
    return have >= bytes;
}

/* Open a checkpoint and check that this program can continue it. */
static hid_t open_checked(const char *path, mg_err *err)
{
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    if (H5Fis_hdf5(path) <= 0) {
        mg_err_set(err, MG_EIO, "%s: not a checkpoint (not an HDF5 file, or unreadable)", path);
        return -1;
    }
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f < 0) {
        mg_err_set(err, MG_EIO, "%s: cannot open the checkpoint (damaged or truncated?)", path);
        return -1;
    }
    char fmt[64] = "", ver[64] = "", git[64] = "";
    int64_t fv = 0, osz = 0;
    if (mg_h5_read_attr_str(f, "format", fmt, sizeof fmt) || strcmp(fmt, MG_CKPT_FORMAT) != 0 ||
        mg_h5_read_attr(f, "format_version", H5T_NATIVE_INT64, &fv) || fv != MG_CKPT_VERSION) {
        const char *kind =
            strcmp(fmt, MG_CKPT_FORMAT) != 0 ? mg_h5_kind_words(mg_h5_kind(f)) : NULL;
        if (kind)
            mg_err_set(err, MG_EINVAL, "%s: %s, not a checkpoint of `mesogif run`", path, kind);
        else
            mg_err_set(err, MG_EINVAL, "%s: not a mesogif checkpoint of format %d", path,
                       MG_CKPT_VERSION);
        H5Fclose(f);
        return -1;
    }
    mg_h5_read_attr_str(f, "mesogif_version", ver, sizeof ver);
    mg_h5_read_attr_str(f, "git_commit", git, sizeof git);
    mg_h5_read_attr(f, "opts_size", H5T_NATIVE_INT64, &osz);
    if (strcmp(ver, MG_VERSION) != 0 || strcmp(git, MG_GIT_COMMIT) != 0 ||
        osz != (int64_t)sizeof(mg_run_opts)) {
        H5Fclose(f);
        mg_err_set(err, MG_EINVAL, "%s: written by mesogif %s (git %s), this is %s (git %s): a "
                   "checkpoint continues only with the program that wrote it (allowed: the "
                   "same build)", path, ver, git, MG_VERSION, MG_GIT_COMMIT);
        return -1;
    }
    return f;
}

/* mg_checkpoint_read_setup on the checkpoint f (of path) opened by open_checked. */
static int read_setup_open(hid_t f, const char *path, char **model_json, char **model_source,
                           mg_run_opts *opts, char **run_key, char **out_path, mg_err *err)
{
    int rc = MG_OK;
    *model_json = mg_h5_read_str(f, "/model_json");
    *model_source = mg_h5_read_str(f, "/model_source");
    *run_key = mg_h5_read_str(f, "/run_key");
    *out_path = mg_h5_read_str(f, "/output_path");
    mg_run_opts blob;
    int opts_ok = mg_h5_read_array(f, "/opts", H5T_NATIVE_UCHAR, &blob, sizeof blob) == 0;
    if (opts_ok) {
        /* the bytes of the file, but never its pointers (a damaged or hostile file would make
         * the run call or read anywhere), and strings are terminated; the values are checked
         * like any option set when the run is set up (mg_run_estimate, mg_run) */
        opts_blob(&blob, opts);
        opts->switch_observable[sizeof opts->switch_observable - 1] = '\0';
    }
    if (!*model_json || !*run_key || !opts_ok) {
        free(*model_json);
        free(*model_source);
        free(*run_key);
        free(*out_path);
        *model_json = *model_source = *run_key = *out_path = NULL;
        rc = mg_err_set(err, MG_EIO, "%s: checkpoint incomplete (damaged or truncated?)", path);
    }
    return rc;
}

/* The status of a checkpoint that open_checked refused. */
static int refused(const mg_err *err)
{
    return err && strstr(err->msg, "not a mesogif") ? MG_EINVAL : MG_EIO;
}

int mg_checkpoint_read_setup(const char *path, char **model_json, char **model_source,
                             mg_run_opts *opts, char **run_key, char **out_path, mg_err *err)
{
    hid_t f = open_checked(path, err);
    if (f < 0)
        return refused(err);
    int rc = read_setup_open(f, path, model_json, model_source, opts, run_key, out_path, err);
    H5Fclose(f);
    return rc;
}

/* Is the parked realization r at step t with state x[rows] one this run can continue? NULL if
 * so, else what is wrong. The observer's integer-valued rows become int64 counts and its
 * switching state an index (src/core/observe.h): they must hold what the observer can write. */
static const char *parked_invalid(const mg_job *job, int64_t r, int64_t t, const double *x)
{
    const int64_t first = job->opts.realization_first;
    if (r < first || r >= first + job->opts.realization_count)
        return "realization outside the run's range";
    if (t < 0 || t > job->n_steps)
        return "step outside the run";
    const mg_obs_cfg *oc = &job->oc;
    const mg_stats_cfg *c = &oc->L.cfg;
    const double sw = x[oc->row_sw];
    if (!(sw == -1.0 || sw == 0.0 || sw == 1.0))
        return "switching state not -1, 0 or 1";
    /* [first row, count) of every count */
    const int64_t counts[][2] = {{oc->row_cnt, 1},
                                 {oc->row_psd_nseg, 1},
                                 {oc->row_hist_A, (int64_t)oc->P * (c->hist_bins + 2)},
                                 {oc->row_hist_obs, c->obs_bins + 2},
                                 {oc->row_sw_acc, 3},
                                 {oc->row_sw_acc + 6, 3},
                                 {oc->row_sw_hist, 2 * (int64_t)(c->dwell_bins + 2)}};
    for (size_t i = 0; i < sizeof counts / sizeof counts[0]; ++i)
        for (int64_t k = 0; k < counts[i][1]; ++k) {
            const double v = x[counts[i][0] + k];
            if (!(v >= 0.0 && v <= 9007199254740992.0)) /* 2^53: exact in a double */
                return "a count of the statistics is negative, not a number or too large";
        }
    if (job->opts.level == MG_LEVEL_MICRO && job->mi)
        return mg_micro_state_invalid(job, x);
    return NULL;
}

/* The open groups of a checkpoint, checked (increasing, after the groups done, progress within
 * each group's range, so that the backends start no block outside the run: trace rows are
 * indexed by the realization) and restored into the ring. */
static int read_open_groups(hid_t f, mg_job *job, const char *path, mg_err *err)
{
    const int64_t ni = job->SL.n_i, nd = job->SL.n_d;
    hssize_t m = mg_h5_npoints(f, "/group_g");
    /* the sums are written uncompressed, so their bytes are in the file: this bounds what is
     * allocated below by the file size */
    if (m < 0 || m > job->n_groups - job->g_done ||
        !stored(f, "/group_d", (double)m * (double)nd * 8.0) ||
        !stored(f, "/group_i", (double)m * (double)ni * 8.0))
        return mg_err_set(err, MG_EIO, "%s: checkpoint's open reduction groups missing or too "
                          "many (damaged?)", path);
    open_rows r;
    int rc = MG_OK;
    if (rows_alloc(&r, m, ni, nd)) {
        rc = mg_err_set(err, MG_ENOMEM, "out of memory restoring the checkpoint");
        goto out;
    }
    if (mg_h5_read_array(f, "/group_g", H5T_NATIVE_INT64, r.g, (hsize_t)m) ||
        mg_h5_read_array(f, "/group_next", H5T_NATIVE_INT64, r.next, (hsize_t)m) ||
        mg_h5_read_array(f, "/group_i", H5T_NATIVE_INT64, r.gi, (hsize_t)(m * ni)) ||
        mg_h5_read_array(f, "/group_d", H5T_NATIVE_DOUBLE, r.gd, (hsize_t)(m * nd))) {
        rc = mg_err_set(err, MG_EIO, "%s: checkpoint's open reduction groups unreadable or of "
                        "the wrong size (damaged?)", path);
        goto out;
    }
    for (hssize_t k = 0; k < m; ++k) {
        int64_t lo = 0, hi = 0;
        const int in_order = r.g[k] >= job->g_done && r.g[k] < job->n_groups &&
                             (k == 0 || r.g[k] > r.g[k - 1]);
        if (in_order)
            mg_job_group_range(job, job->g_first + r.g[k], &lo, &hi);
        if (!in_order || r.next[k] < lo || r.next[k] > hi) {
            rc = mg_err_set(err, MG_EIO, "%s: checkpoint progress of group %lld is realization "
                            "%lld, outside its range [%lld, %lld] or out of order (damaged?)",
                            path, (long long)(job->g_first + r.g[k]), (long long)r.next[k],
                            (long long)lo, (long long)hi);
            goto out;
        }
        mg_gslot *s = mg_job_group_open(job, r.g[k]);
        if (!s) {
            rc = mg_err_set(err, MG_ENOMEM, "out of memory restoring the checkpoint");
            goto out;
        }
        memcpy(s->i, r.gi + k * ni, (size_t)ni * sizeof *r.gi);
        memcpy(s->d, r.gd + k * nd, (size_t)nd * sizeof *r.gd);
        s->next = r.next[k];
    }
    /* a damaged file could hold complete groups at the head: add them in order as a run would */
    if (mg_job_group_peek(job, job->g_done)) {
        mg_gslot *s = mg_job_group_open(job, job->g_done);
        mg_job_group_advance(job, s, s->next);
    }
out:
    rows_free(&r);
    return rc;
}

/* Is f a checkpoint of this run (the same run key)? Else MG_EINVAL naming the first line of
 * the keys that differs, or MG_EIO when f has no key. */
static int check_run_key(const mg_job *job, hid_t f, const char *path, mg_err *err)
{
    int rc = MG_OK;
    char *key = mg_run_key(job->model, &job->opts, &job->SL.cfg);
    char *saved = mg_h5_read_str(f, "/run_key");
    if (!key || !saved) {
        rc = mg_err_set(err, MG_EIO, "%s: checkpoint without a run key (damaged?)", path);
    } else if (strcmp(key, saved) != 0) {
        /* name the first line that differs */
        const char *a = saved, *b = key;
        while (*a && *a == *b) {
            ++a;
            ++b;
        }
        while (a > saved && a[-1] != '\n')
            --a;
        b = key + (a - saved);
        rc = mg_err_set(err, MG_EINVAL, "%s: checkpoint of another run (model, level, options or "
                        "seed differ; checkpoint: '%.*s', this run: '%.*s')", path,
                        (int)strcspn(a, "\n"), a, (int)strcspn(b, "\n"), b);
    }
    free(key);
    free(saved);
    return rc;
}

/* The progress counters (*rows, *steps, *reals), the running sum of the groups done and the
 * traces of the checkpoint into the job, checked to fit this run. */
static int read_sums(mg_job *job, hid_t f, const char *path, int64_t *rows, int64_t *steps,
                     int64_t *reals, mg_err *err)
{
    if (mg_h5_read_attr(f, "rows", H5T_NATIVE_INT64, rows) || *rows != job->rows ||
        mg_h5_read_attr(f, "steps_done", H5T_NATIVE_INT64, steps) ||
        mg_h5_read_attr(f, "realizations_done", H5T_NATIVE_INT64, reals))
        return mg_err_set(err, MG_EIO, "%s: checkpoint does not fit this run (state of %lld rows, "
                          "expected %d)", path, (long long)*rows, job->rows);
    hsize_t nt = (hsize_t)(job->trace_k * job->SL.P * job->trace_T);
    if (mg_h5_read_array(f, "/groups_done", H5T_NATIVE_INT64, &job->g_done, 1) ||
        mg_h5_read_array(f, "/sum_i", H5T_NATIVE_INT64, job->sum_i, (hsize_t)job->SL.n_i) ||
        mg_h5_read_array(f, "/sum_d", H5T_NATIVE_DOUBLE, job->sum_d, (hsize_t)job->SL.n_d) ||
        mg_h5_read_array(f, "/trace_AN", H5T_NATIVE_FLOAT, job->trace_AN, nt) ||
        mg_h5_read_array(f, "/trace_Abar", H5T_NATIVE_FLOAT, job->trace_Abar, nt))
        return mg_err_set(err, MG_EIO, "%s: checkpoint sums or traces missing or of the wrong size "
                          "(damaged, or of another realization range?)", path);
    if (job->g_done < 0 || job->g_done > job->n_groups)
        return mg_err_set(err, MG_EIO, "%s: checkpoint progress of groups: %lld groups done, "
                          "outside [0, %lld] (damaged?)", path, (long long)job->g_done,
                          (long long)job->n_groups);
    return MG_OK;
}

/* How many realizations the checkpoint parks (*m), checked against the run and against the
 * bytes stored for their states. */
static int parked_count(const mg_job *job, hid_t f, const char *path, int64_t rows,
                        hssize_t *m_out, mg_err *err)
{
    hssize_t m = mg_h5_npoints(f, "/inflight_r");
    if (m < 0)
        return mg_err_set(err, MG_EIO, "%s: checkpoint without its parked realizations", path);
    if (m > job->opts.realization_count || !stored(f, "/inflight_state", (double)m * rows * 8))
        /* each realization is parked at most once; the states are written uncompressed, so
         * their bytes are in the file (this bounds what is allocated below by the file size) */
        return mg_err_set(err, MG_EIO, "%s: checkpoint with %lld parked realizations of %lld "
                          "rows, the run has %lld realizations (damaged?)", path, (long long)m,
                          (long long)rows, (long long)job->opts.realization_count);
    *m_out = m;
    return MG_OK;
}

/* The m parked realizations of the checkpoint, each checked (parked_invalid) and parked in the
 * job for the backend to continue. */
static int restore_parked(mg_job *job, hid_t f, const char *path, hssize_t m, int64_t rows,
                          mg_err *err)
{
    int rc = MG_OK;
    int64_t *r = malloc((size_t)(m > 0 ? m : 1) * sizeof(int64_t));
    int64_t *t = malloc((size_t)(m > 0 ? m : 1) * sizeof(int64_t));
    double *state = malloc((size_t)(m > 0 ? m : 1) * (size_t)rows * sizeof(double));
    if (!r || !t || !state ||
        mg_h5_read_array(f, "/inflight_r", H5T_NATIVE_INT64, r, (hsize_t)m) ||
        mg_h5_read_array(f, "/inflight_t", H5T_NATIVE_INT64, t, (hsize_t)m) ||
        mg_h5_read_array(f, "/inflight_state", H5T_NATIVE_DOUBLE, state,
                         (hsize_t)m * (hsize_t)rows)) {
        rc = mg_err_set(err, MG_EIO, "%s: checkpoint's parked realizations unreadable", path);
    } else {
        for (hssize_t k = 0; k < m && rc == MG_OK; ++k) {
            const char *why = parked_invalid(job, r[k], t[k], state + k * rows);
            if (why)
                rc = mg_err_set(err, MG_EIO, "%s: parked realization %lld at step %lld: %s "
                                "(damaged checkpoint?)", path, (long long)r[k], (long long)t[k],
                                why);
            else if (mg_job_park(job, r[k], t[k], state + k * rows, 1) != MG_OK)
                rc = mg_err_set(err, MG_ENOMEM, "out of memory restoring the checkpoint");
        }
    }
    free(r);
    free(t);
    free(state);
    return rc;
}

/* mg_checkpoint_load on the checkpoint f (of path, for messages) opened by open_checked. */
static int load_open(mg_job *job, hid_t f, const char *path, mg_err *err)
{
    int64_t rows = 0, steps = 0, reals = 0;
    hssize_t m = 0;
    int rc = check_run_key(job, f, path, err);
    if (rc == MG_OK)
        rc = read_sums(job, f, path, &rows, &steps, &reals, err);
    if (rc == MG_OK)
        rc = read_open_groups(f, job, path, err);
    if (rc == MG_OK)
        rc = parked_count(job, f, path, rows, &m, err);
    if (rc != MG_OK)
        return rc;
    rc = restore_parked(job, f, path, m, rows, err);
    job->steps_done = steps;
    job->steps_base = steps;
    job->real_done = reals;
    return rc;
}

int mg_checkpoint_load(mg_job *job, const char *path, mg_err *err)
{
    hid_t f = open_checked(path, err);
    if (f < 0)
        return MG_EINVAL;
    int rc = load_open(job, f, path, err);
    H5Fclose(f);
    return rc;
}

int mg_run_checkpoint_read(const char *path, char **model_json, char **model_source,
                           mg_run_opts *opts, char **out_path, mg_err *err)
{
    char *key = NULL;
    int rc = mg_checkpoint_read_setup(path, model_json, model_source, opts, &key, out_path, err);
    free(key);
    return rc;
}

/* A checkpoint opened once for a resume (include/mesogif/run.h). */
struct mg_resume {
    hid_t f;
    char *path;
};

int mg_resume_alloc(const char *path, mg_resume **rs, char **model_json, char **model_source,
                    mg_run_opts *opts, char **out_path, mg_err *err)
{
    *rs = NULL;
    hid_t f = open_checked(path, err);
    if (f < 0)
        return refused(err);
    char *key = NULL;
    int rc = read_setup_open(f, path, model_json, model_source, opts, &key, out_path, err);
    free(key);
    mg_resume *r = rc == MG_OK ? calloc(1, sizeof *r) : NULL;
    if (r)
        r->path = strdup(path);
    if (rc == MG_OK && (!r || !r->path)) {
        free(r);
        r = NULL;
        free(*model_json);
        free(*model_source);
        free(*out_path);
        *model_json = *model_source = *out_path = NULL;
        rc = mg_err_set(err, MG_ENOMEM, "out of memory");
    }
    if (rc != MG_OK) {
        H5Fclose(f);
        return rc;
    }
    r->f = f;
    *rs = r;
    return MG_OK;
}

int mg_resume_load(mg_resume *rs, mg_job *job, mg_err *err)
{
    return load_open(job, rs->f, rs->path, err);
}

void mg_resume_free(mg_resume *rs)
{
    if (rs) {
        H5Fclose(rs->f);
        free(rs->path);
    }
    free(rs);
}
