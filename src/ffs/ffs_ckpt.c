/* src/ffs/ffs_ckpt.c: checkpoints of `mesogif switch` (src/ffs/ffs_state.h).
 *
 * Written when a signal stops the estimate, at a point where the driver can continue: between
 * basin rounds (a basin call always completes) or between chunks of trials (a chunk cut by the
 * signal is dropped and runs again, with the same trial indices, after the resume). Everything
 * the driver decides on is in the file: the basin runs' states and tallies, every stored state
 * with its step, lambda and root, every stage's tallies and trial log, the interfaces and where
 * the driver is. The continued estimate is therefore the same bits as an uninterrupted one
 * (tests/test_ffs.sh, "resume_same_bits"). A checkpoint belongs to the build that wrote it (its
 * git commit and the size of the options are checked). Format: HDF5, root attribute format =
 * "mesogif-ffs-checkpoint"; written to PATH.partial and renamed. */
#include "ffs/ffs_state.h"
#include "util/free_all.h"
#include "io/ffs_h5.h"
#include "io/io_h5_internal.h"

#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CK_FORMAT "mesogif-ffs-checkpoint"
#define CK_NI 14
#define CK_ND (8 + 2 * (MG_FFS_IF_MAX + 1))

/* The options with every pointer cleared (they mean nothing in another process). */
static void opts_bytes(const mg_ffs_opts *o, mg_ffs_opts *c)
{
    memcpy(c, o, sizeof *c);
    c->log = NULL;
    c->log_user = NULL;
    c->cancel = NULL;
    c->checkpoint_path = NULL;
    c->resume_path = NULL;
    c->output_path = NULL;
}

/* The build, the output path, the model, the options and where the driver is (CK_NI integers,
 * CK_ND doubles; read_control reads them back). 0, or non-zero on a failed write. */
static int write_control(hid_t f, const run_ctx *X)
{
    const mg_ffs_job *J = &X->J;
    int rc = 0;
    rc |= mg_h5_attr_str(f, "format", CK_FORMAT);
    rc |= mg_h5_attr_str(f, "git_commit", MG_GIT_COMMIT);
    rc |= mg_h5_attr_str(f, "output_path", J->o.output_path ? J->o.output_path : "");
    rc |= mg_h5_dset_str(f, "/model_json", J->model->json ? J->model->json : "");
    rc |= mg_h5_dset_str(f, "/model_source", J->model->source ? J->model->source : "");
    mg_ffs_opts oc;
    memset(&oc, 0, sizeof oc);
    opts_bytes(&J->o, &oc);
    hsize_t ob = sizeof oc;
    rc |= mg_h5_dset(f, "/opts", H5T_NATIVE_UCHAR, H5T_STD_U8LE, 1, &ob, &oc, 0);
    int64_t ci[CK_NI] = {X->explored, X->basin_done, X->dir_state[0], X->dir_state[1],
                         X->refine_round[0], X->refine_round[1], X->plan[0], X->plan[1],
                         X->n_stages[0], X->n_stages[1], J->b_hist, J->b_count, X->nb, J->rows};
    rc |= mg_ffs_h5_i64(f, "/ctl_i", CK_NI, ci);
    double cd[CK_ND];
    int k = 0;
    cd[k++] = J->lam_A[0];
    cd[k++] = J->lam_A[1];
    cd[k++] = J->lam0[0];
    cd[k++] = J->lam0[1];
    cd[k++] = X->spent_s;
    cd[k++] = X->r->basin_s;
    cd[k++] = X->r->trial_s[0];
    cd[k++] = X->r->trial_s[1];
    for (int d = 0; d < 2; ++d)
        for (int i = 0; i <= MG_FFS_IF_MAX; ++i)
            cd[k++] = X->lam[d][i];
    rc |= mg_ffs_h5_f64(f, "/ctl_d", CK_ND, cd);
    return rc;
}

/* The basin runs' states, steps, crossings, exposures and histograms, one dataset each with the
 * runs in index order. 0, or non-zero. */
static int write_basins(hid_t f, const run_ctx *X)
{
    const int rows = X->J.rows, nb = X->nb;
    int rc = 0;
    double *bs = malloc((size_t)nb * rows * sizeof(double));
    int64_t *bt = malloc((size_t)nb * 3 * sizeof(int64_t));
    double *be = malloc((size_t)nb * 2 * sizeof(double));
    int64_t *bh = malloc((size_t)nb * 2 * (MG_FFS_HIST + 2) * sizeof(int64_t));
    if (!bs || !bt || !be || !bh)
        rc = -1;
    for (int i = 0; !rc && i < nb; ++i) {
        memcpy(bs + (int64_t)i * rows, X->br[i].state, (size_t)rows * sizeof(double));
        bt[3 * i] = X->br[i].t;
        bt[3 * i + 1] = X->br[i].crossings[0];
        bt[3 * i + 2] = X->br[i].crossings[1];
        be[2 * i] = X->br[i].exposure[0];
        be[2 * i + 1] = X->br[i].exposure[1];
        memcpy(bh + (int64_t)i * 2 * (MG_FFS_HIST + 2), X->br[i].hist,
               2 * (MG_FFS_HIST + 2) * sizeof(int64_t));
    }
    if (!rc) {
        rc |= mg_ffs_h5_f64(f, "/basin/state", (hsize_t)nb * rows, bs);
        rc |= mg_ffs_h5_i64(f, "/basin/t_crossings", (hsize_t)nb * 3, bt);
        rc |= mg_ffs_h5_f64(f, "/basin/exposure", (hsize_t)nb * 2, be);
        rc |= mg_ffs_h5_i64(f, "/basin/hist", (hsize_t)nb * 2 * (MG_FFS_HIST + 2), bh);
    }
    MG_FREE_ALL(bs, bt, be, bh);
    return rc;
}

/* The stored states of interface i of direction d: their number, then (when any) the states,
 * steps, lambdas and roots. 0, or non-zero. */
static int write_pool(hid_t f, const run_ctx *X, int d, int i)
{
    const pool *p = &X->pools[d][i];
    char path[96];
    int64_t n = p->n;
    snprintf(path, sizeof path, "/pool/%d_%d/n", d, i);
    int rc = mg_ffs_h5_i64(f, path, 1, &n);
    if (n == 0)
        return rc;
    snprintf(path, sizeof path, "/pool/%d_%d/states", d, i);
    rc |= mg_ffs_h5_f64(f, path, (hsize_t)n * X->J.rows, p->states);
    snprintf(path, sizeof path, "/pool/%d_%d/t", d, i);
    rc |= mg_ffs_h5_i64(f, path, (hsize_t)n, p->t);
    snprintf(path, sizeof path, "/pool/%d_%d/lam", d, i);
    rc |= mg_ffs_h5_f64(f, path, (hsize_t)n, p->lam);
    hsize_t hn = (hsize_t)n;
    snprintf(path, sizeof path, "/pool/%d_%d/root", d, i);
    rc |= mg_h5_dset(f, path, H5T_NATIVE_INT32, H5T_STD_I32LE, 1, &hn, p->root, 0);
    return rc;
}

/* The tallies of stage i of direction d (read_stage reads them back). 0, or non-zero. */
static int write_stage(hid_t f, const run_ctx *X, int d, int i)
{
    const stage *s = &X->st[d][i];
    char path[96];
    int64_t si[6] = {s->M, s->S, s->next, s->goal, s->cap_c, s->n_log};
    snprintf(path, sizeof path, "/stage/%d_%d/ints", d, i);
    int rc = mg_ffs_h5_i64(f, path, 6, si);
    snprintf(path, sizeof path, "/stage/%d_%d/lam_next", d, i);
    rc |= mg_ffs_h5_f64(f, path, 1, &s->lam_next);
    if (s->cap_c > 0) {
        snprintf(path, sizeof path, "/stage/%d_%d/m_c", d, i);
        rc |= mg_ffs_h5_i64(f, path, (hsize_t)s->cap_c, s->m_c);
        snprintf(path, sizeof path, "/stage/%d_%d/s_c", d, i);
        rc |= mg_ffs_h5_i64(f, path, (hsize_t)s->cap_c, s->s_c);
    }
    if (s->n_log > 0) {
        hsize_t hn = (hsize_t)s->n_log;
        snprintf(path, sizeof path, "/stage/%d_%d/log_root", d, i);
        rc |= mg_h5_dset(f, path, H5T_NATIVE_INT32, H5T_STD_I32LE, 1, &hn, s->log_root, 1);
        snprintf(path, sizeof path, "/stage/%d_%d/log_succ", d, i);
        rc |= mg_h5_dset(f, path, H5T_NATIVE_UCHAR, H5T_STD_U8LE, 1, &hn, s->log_succ, 1);
    }
    return rc;
}

/* Everything in X, in the order mg_ffs_ckpt_load reads it; the first failed write stops it.
 * 0, or -1. */
static int write_all(hid_t f, const run_ctx *X)
{
    if (write_control(f, X) || write_basins(f, X))
        return -1;
    for (int d = 0; d < 2; ++d) {
        for (int i = 0; i <= X->n_stages[d]; ++i)
            if (write_pool(f, X, d, i))
                return -1;
        for (int i = 0; i < X->n_stages[d]; ++i)
            if (write_stage(f, X, d, i))
                return -1;
    }
    return 0;
}

int mg_ffs_ckpt_write(const run_ctx *X, const char *path, mg_err *err)
{
    char partial[4200];
    if (snprintf(partial, sizeof partial, "%s.partial", path) >= (int)sizeof partial)
        return mg_err_set(err, MG_EIO, "%s: path too long", path);
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    hid_t f = H5Fcreate(partial, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    if (f < 0)
        return mg_err_set(err, MG_EIO, "%s: cannot create the checkpoint", partial);
    int bad = write_all(f, X);
    if (H5Fclose(f) < 0)
        bad = 1;
    if (bad || rename(partial, path) != 0) {
        unlink(partial);
        return mg_err_set(err, MG_EIO, "%s: writing the checkpoint failed (disk full or not "
                          "writable?)", path);
    }
    return MG_OK;
}

static hid_t open_ckpt(const char *path, mg_err *err)
{
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    if (access(path, R_OK) != 0 || H5Fis_hdf5(path) <= 0) {
        mg_err_set(err, MG_EIO, "%s: cannot read it as an HDF5 file", path);
        return -1;
    }
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    char fmt[64], commit[64];
    if (f < 0 || mg_h5_read_attr_str(f, "format", fmt, sizeof fmt) ||
        strcmp(fmt, CK_FORMAT) != 0) {
        const char *kind = f >= 0 ? mg_h5_kind_words(mg_h5_kind(f)) : NULL;
        if (kind)
            mg_err_set(err, MG_EINVAL, "%s: %s, not a checkpoint of `mesogif switch`", path, kind);
        else
            mg_err_set(err, MG_EINVAL, "%s: not a checkpoint of mesogif switch", path);
        if (f >= 0)
            H5Fclose(f);
        return -1;
    }
    if (mg_h5_read_attr_str(f, "git_commit", commit, sizeof commit) ||
        strcmp(commit, MG_GIT_COMMIT) != 0) {
        H5Fclose(f);
        mg_err_set(err, MG_EINVAL, "%s: written by mesogif %s, this is %s (allowed: the same "
                   "build)", path, commit, MG_GIT_COMMIT);
        return -1;
    }
    return f;
}

int mg_ffs_checkpoint_read(const char *path, mg_ffs_opts *o, char **model_json,
                           char **model_source, char **out_path, mg_err *err)
{
    *model_json = *model_source = *out_path = NULL;
    hid_t f = open_ckpt(path, err);
    if (f < 0)
        return err && strstr(err->msg, "HDF5") ? MG_EIO : MG_EINVAL;
    mg_ffs_opts oc;
    char outp[4096];
    int ok = mg_h5_read_array(f, "/opts", H5T_NATIVE_UCHAR, &oc, sizeof oc) == 0 &&
             mg_h5_read_attr_str(f, "output_path", outp, sizeof outp) == 0;
    if (ok) {
        *model_json = mg_h5_read_str(f, "/model_json");
        *model_source = mg_h5_read_str(f, "/model_source");
        *out_path = strdup(outp);
        ok = *model_json && *model_source && *out_path;
    }
    H5Fclose(f);
    if (!ok) {
        free(*model_json);
        free(*model_source);
        free(*out_path);
        *model_json = *model_source = *out_path = NULL;
        return mg_err_set(err, MG_EINVAL, "%s: damaged checkpoint (options or model missing)",
                          path);
    }
    opts_bytes(&oc, o);
    return MG_OK;
}

/* Where the driver was: its control integers and doubles (the layout of write_all). 0, or 1
 * when missing or when the checkpoint's basin runs, rows or stages do not fit X. */
static int read_control(hid_t f, run_ctx *X)
{
    mg_ffs_job *J = &X->J;
    int64_t ci[CK_NI];
    double cd[CK_ND];
    if (mg_h5_read_array(f, "/ctl_i", H5T_NATIVE_INT64, ci, CK_NI) ||
        mg_h5_read_array(f, "/ctl_d", H5T_NATIVE_DOUBLE, cd, CK_ND))
        return 1;
    if (ci[12] != X->nb || ci[13] != J->rows || ci[8] < 0 || ci[8] > MG_FFS_IF_MAX ||
        ci[9] < 0 || ci[9] > MG_FFS_IF_MAX)
        return 1;
    X->explored = (int)ci[0];
    X->basin_done = (int)ci[1];
    X->dir_state[0] = (int)ci[2];
    X->dir_state[1] = (int)ci[3];
    X->refine_round[0] = (int)ci[4];
    X->refine_round[1] = (int)ci[5];
    X->plan[0] = (int)ci[6];
    X->plan[1] = (int)ci[7];
    X->n_stages[0] = (int)ci[8];
    X->n_stages[1] = (int)ci[9];
    J->b_hist = ci[10];
    J->b_count = ci[11];
    int k = 0;
    J->lam_A[0] = cd[k++];
    J->lam_A[1] = cd[k++];
    J->lam0[0] = cd[k++];
    J->lam0[1] = cd[k++];
    X->spent_s = cd[k++];
    X->r->basin_s = cd[k++];
    X->r->trial_s[0] = cd[k++];
    X->r->trial_s[1] = cd[k++];
    for (int d = 0; d < 2; ++d)
        for (int i = 0; i <= MG_FFS_IF_MAX; ++i)
            X->lam[d][i] = cd[k++];
    return 0;
}

/* The basin runs' states, steps, crossings, exposures and histograms. 0, or 1. */
static int read_basins(hid_t f, run_ctx *X)
{
    const int rows = X->J.rows, nb = X->nb;
    double *bs = malloc((size_t)nb * rows * sizeof(double));
    int64_t *bt = malloc((size_t)nb * 3 * sizeof(int64_t));
    double *be = malloc((size_t)nb * 2 * sizeof(double));
    int64_t *bh = malloc((size_t)nb * 2 * (MG_FFS_HIST + 2) * sizeof(int64_t));
    int bad = !bs || !bt || !be || !bh ||
              mg_h5_read_array(f, "/basin/state", H5T_NATIVE_DOUBLE, bs, (hsize_t)nb * rows) ||
              mg_h5_read_array(f, "/basin/t_crossings", H5T_NATIVE_INT64, bt, (hsize_t)nb * 3) ||
              mg_h5_read_array(f, "/basin/exposure", H5T_NATIVE_DOUBLE, be, (hsize_t)nb * 2) ||
              mg_h5_read_array(f, "/basin/hist", H5T_NATIVE_INT64, bh,
                               (hsize_t)nb * 2 * (MG_FFS_HIST + 2));
    for (int i = 0; !bad && i < nb; ++i) {
        memcpy(X->br[i].state, bs + (int64_t)i * rows, (size_t)rows * sizeof(double));
        X->br[i].t = bt[3 * i];
        X->br[i].crossings[0] = bt[3 * i + 1];
        X->br[i].crossings[1] = bt[3 * i + 2];
        X->br[i].exposure[0] = be[2 * i];
        X->br[i].exposure[1] = be[2 * i + 1];
        memcpy(X->br[i].hist, bh + (int64_t)i * 2 * (MG_FFS_HIST + 2),
               2 * (MG_FFS_HIST + 2) * sizeof(int64_t));
    }
    MG_FREE_ALL(bs, bt, be, bh);
    return bad;
}

/* The stored states of interface i of direction d, added to its (empty) pool. 0, or 1. */
static int read_pool(hid_t f, run_ctx *X, int d, int i)
{
    const int rows = X->J.rows;
    pool *p = &X->pools[d][i];
    char path[96];
    int64_t n = 0;
    snprintf(path, sizeof path, "/pool/%d_%d/n", d, i);
    if (mg_h5_read_array(f, path, H5T_NATIVE_INT64, &n, 1) || n < 0 || n > X->J.o.pool_max)
        return 1;
    if (n == 0)
        return 0;
    double *st = malloc((size_t)n * rows * sizeof(double));
    int64_t *t = malloc((size_t)n * sizeof(int64_t));
    double *lam = malloc((size_t)n * sizeof(double));
    int32_t *root = malloc((size_t)n * sizeof(int32_t));
    int bad = !st || !t || !lam || !root;
    snprintf(path, sizeof path, "/pool/%d_%d/states", d, i);
    bad = bad || mg_h5_read_array(f, path, H5T_NATIVE_DOUBLE, st, (hsize_t)n * rows);
    snprintf(path, sizeof path, "/pool/%d_%d/t", d, i);
    bad = bad || mg_h5_read_array(f, path, H5T_NATIVE_INT64, t, (hsize_t)n);
    snprintf(path, sizeof path, "/pool/%d_%d/lam", d, i);
    bad = bad || mg_h5_read_array(f, path, H5T_NATIVE_DOUBLE, lam, (hsize_t)n);
    snprintf(path, sizeof path, "/pool/%d_%d/root", d, i);
    bad = bad || mg_h5_read_array(f, path, H5T_NATIVE_INT32, root, (hsize_t)n);
    for (int64_t k = 0; !bad && k < n; ++k)
        bad = root[k] < 0 || mg_ffs_pool_add(p, st + k * rows, t[k], lam[k], root[k]);
    MG_FREE_ALL(st, t, lam, root);
    return bad;
}

/* The trial log of a stage, n entries (root, success), replayed into s. 0, or 1. */
static int read_stage_log(hid_t f, stage *s, int d, int i, int64_t n)
{
    char path[96];
    int32_t *r = malloc((size_t)n * sizeof(int32_t));
    uint8_t *u = malloc((size_t)n);
    int bad = !r || !u;
    snprintf(path, sizeof path, "/stage/%d_%d/log_root", d, i);
    bad = bad || mg_h5_read_array(f, path, H5T_NATIVE_INT32, r, (hsize_t)n);
    snprintf(path, sizeof path, "/stage/%d_%d/log_succ", d, i);
    bad = bad || mg_h5_read_array(f, path, H5T_NATIVE_UCHAR, u, (hsize_t)n);
    for (int64_t k = 0; !bad && k < n; ++k)
        bad = r[k] < 0 || mg_ffs_stage_log(s, r[k], u[k] != 0);
    free(r);
    free(u);
    return bad;
}

/* The tallies of stage i of direction d: counts, the next interface, the per-state counts and
 * the trial log. 0, or 1. */
static int read_stage(hid_t f, run_ctx *X, int d, int i)
{
    stage *s = &X->st[d][i];
    char path[96];
    int64_t si[6]; /* M, S, next, goal, start states (cap_c), log entries (n_log) */
    snprintf(path, sizeof path, "/stage/%d_%d/ints", d, i);
    int bad = mg_h5_read_array(f, path, H5T_NATIVE_INT64, si, 6);
    snprintf(path, sizeof path, "/stage/%d_%d/lam_next", d, i);
    bad = bad || mg_h5_read_array(f, path, H5T_NATIVE_DOUBLE, &s->lam_next, 1);
    bad = bad || si[4] < 0 || si[4] > 10000000 || si[5] < 0 || si[5] > (1LL << 31);
    if (bad)
        return 1;
    s->M = si[0];
    s->S = si[1];
    s->next = si[2];
    s->goal = si[3];
    bad = mg_ffs_stage_grow(s, si[4]) != 0;
    if (!bad && si[4] > 0) {
        snprintf(path, sizeof path, "/stage/%d_%d/m_c", d, i);
        bad = mg_h5_read_array(f, path, H5T_NATIVE_INT64, s->m_c, (hsize_t)si[4]);
        snprintf(path, sizeof path, "/stage/%d_%d/s_c", d, i);
        bad = bad || mg_h5_read_array(f, path, H5T_NATIVE_INT64, s->s_c, (hsize_t)si[4]);
    }
    if (!bad && si[5] > 0)
        bad = read_stage_log(f, s, d, i, si[5]);
    return bad;
}

/* Direction d: the pools of its interfaces 0 .. n_stages, then its stages. 0, or 1. */
static int read_direction(hid_t f, run_ctx *X, int d)
{
    for (int i = 0; i <= X->n_stages[d]; ++i)
        if (read_pool(f, X, d, i))
            return 1;
    for (int i = 0; i < X->n_stages[d]; ++i)
        if (read_stage(f, X, d, i))
            return 1;
    return 0;
}

int mg_ffs_ckpt_load(run_ctx *X, const char *path, mg_err *err)
{
    hid_t f = open_ckpt(path, err);
    if (f < 0)
        return MG_EINVAL;
    int bad = read_control(f, X) || read_basins(f, X);
    for (int d = 0; !bad && d < 2; ++d)
        bad = read_direction(f, X, d);
    H5Fclose(f);
    if (bad)
        return mg_err_set(err, MG_EINVAL, "%s: damaged checkpoint, or one of other options "
                          "(a missing or mis-shaped dataset)", path);
    return MG_OK;
}
