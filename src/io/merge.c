/* src/io/merge.c: mg_merge (include/mesogif/io.h; `mesogif merge OUT.h5 IN.h5...`): the shards of
 * one run (issue 6) into one file. Inputs must carry the same run identity (/config/run_key, src/engine/run_key.c) and disjoint
 * realization ranges that tile the union (or --allow-gaps, recorded in the output). The
 * statistics are summed exactly in realization order (DESIGN.md property 4); recorded traces
 * are concatenated in realization order with their /traces/realization_index; /config and
 * /theory come from the first shard. Written as OUT.h5.partial and renamed when complete; any
 * bad input names the file and leaves no output. */
#include "io/io_h5_internal.h"
#include "mesogif/io.h"
#include "util/shard.h"

#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct {
    const char *path;
    hid_t f;
    int64_t first, count;
    /* the run it belongs to: shard shard_index of shard_count of [run_first, run_first +
     * run_total) (a file that is not a shard declares its own range) */
    int64_t shard_index, shard_count, run_first, run_total;
    int merged;               /* 1: itself a merge (root attribute merged_shards) */
    char missing[256];        /* a merge with gaps: its attribute missing_realizations */
    int has_switching;        /* /stats/switching present (an observable was declared) */
    char *run_key;
    char level[16];
    mg_stats stats;
    int64_t k, P, T;          /* traces [k][P][T] (k = 0: none) */
    int has_bar;
    int64_t *idx;             /* [k] realization index of each trace row */
} shard_in;

/* The run a file declares it belongs to, from its root attributes shard_index, shard_count and
 * realizations_total: its own range when they are missing or do not fit it. */
static void declared_run(shard_in *s)
{
    int64_t idx = 0, cnt = 1, total = s->count, m = 0;
    s->merged = mg_h5_read_attr(s->f, "merged_shards", H5T_NATIVE_INT64, &m) == 0;
    s->has_switching = mg_h5_has(s->f, "/stats/switching");
    if (mg_h5_read_attr(s->f, "shard_index", H5T_NATIVE_INT64, &idx) ||
        mg_h5_read_attr(s->f, "shard_count", H5T_NATIVE_INT64, &cnt) ||
        mg_h5_read_attr(s->f, "realizations_total", H5T_NATIVE_INT64, &total))
        idx = 0, cnt = 1, total = s->count;
    int64_t f0, n0;
    if (cnt < 1 || idx < 0 || idx >= cnt || total < 1 || total > 4294967296LL || cnt > total)
        idx = 0, cnt = 1, total = s->count;
    mg_shard_range(0, total, idx, cnt, &f0, &n0);
    if (n0 != s->count && !s->merged) /* does not describe this file: its own range */
        idx = 0, cnt = 1, total = s->count, f0 = 0;
    s->shard_index = idx;
    s->shard_count = cnt;
    s->run_total = total;
    s->run_first = s->first - f0;
    /* a merge records the run it came from (run_first; it may begin with a gap) */
    int64_t rf;
    if (s->merged && mg_h5_read_attr(s->f, "run_first", H5T_NATIVE_INT64, &rf) == 0 && rf >= 0 &&
        rf <= s->first && s->first + s->count <= rf + total)
        s->run_first = rf;
    else if (s->merged) /* an older merge: its own range */
        s->run_first = s->first, s->run_total = s->count;
    int64_t gaps = 0;
    s->missing[0] = '\0';
    if (s->merged && mg_h5_read_attr(s->f, "gaps", H5T_NATIVE_INT64, &gaps) == 0 && gaps &&
        (mg_h5_read_attr_str(s->f, "missing_realizations", s->missing, sizeof s->missing) ||
         !s->missing[0]))
        snprintf(s->missing, sizeof s->missing, "some");
}

/* The realization index of each trace row of s (s->k rows) into s->idx: from
 * /traces/realization_index, or first, first + 1, ... for files without it. MG_OK, or an
 * error naming the file. */
static int read_trace_index(shard_in *s, mg_err *err)
{
    s->idx = malloc((size_t)(s->k > 0 ? s->k : 1) * sizeof(int64_t));
    if (!s->idx)
        return mg_err_set(err, MG_ENOMEM, "out of memory");
    if (mg_h5_has(s->f, "/traces/realization_index")) {
        int64_t nk = -1;
        if (mg_h5_shape(s->f, "/traces/realization_index", 1, &nk, sizeof(int64_t)) ||
            nk != s->k)
            return mg_err_set(err, MG_EIO, "%s: /traces/realization_index does not have "
                              "the %lld entries of /traces/A_N", s->path, (long long)s->k);
        if (mg_h5_read_array(s->f, "/traces/realization_index", H5T_NATIVE_INT64, s->idx,
                             (hsize_t)s->k))
            return mg_err_set(err, MG_EIO, "%s: /traces/realization_index unreadable",
                              s->path);
    } else {
        for (int64_t k = 0; k < s->k; ++k)
            s->idx[k] = s->first + k;
    }
    return MG_OK;
}

/* The shape [k][P][T] of the traces of s (k = 0 when it has none), checked against its
 * statistics, /traces/A_bar and the realization index. MG_OK, or an error naming the file. */
static int read_trace_shape(shard_in *s, mg_err *err)
{
    int64_t d[3];
    if (!mg_h5_has(s->f, "/traces/A_N"))
        return MG_OK;
    if (mg_h5_shape(s->f, "/traces/A_N", 3, d, sizeof(float)))
        return mg_err_set(err, MG_EIO, "%s: /traces/A_N is not [k][P][T] with its values "
                          "in the file", s->path);
    s->k = d[0];
    s->P = d[1];
    s->T = d[2];
    /* the traces of k <= count realizations of the file's P populations */
    if (s->k > s->count || (s->k > 0 && s->P != s->stats.L.P))
        return mg_err_set(err, MG_EIO, "%s: /traces/A_N is [%lld][%lld][%lld] for %lld "
                          "realizations of %d populations (damaged?)", s->path,
                          (long long)s->k, (long long)s->P, (long long)s->T,
                          (long long)s->count, s->stats.L.P);
    s->has_bar = mg_h5_has(s->f, "/traces/A_bar");
    int64_t db[3];
    if (s->has_bar && (mg_h5_shape(s->f, "/traces/A_bar", 3, db, sizeof(float)) ||
                       db[0] != s->k || db[1] != s->P || db[2] != s->T))
        return mg_err_set(err, MG_EIO, "%s: /traces/A_bar is not of the shape of "
                          "/traces/A_N", s->path);
    return read_trace_index(s, err);
}

/* Open s->path and read what the merge needs of it: its realization range and run, run key,
 * statistics and the shape of its traces. MG_OK, or an error naming the file (close_shard
 * frees what was read either way). */
static int open_shard(shard_in *s, mg_err *err)
{
    int not_hdf5 = 0; /* told by mg_h5_check_readable already */
    if (mg_h5_check_readable(s->path, err) != MG_OK)
        return MG_EIO;
    s->f = mg_h5_open_read(s->path, &not_hdf5);
    if (s->f < 0)
        return mg_err_set(err, MG_EIO, "%s: cannot open (damaged or truncated?)", s->path);
    const mg_h5_file_kind kind = mg_h5_kind(s->f);
    if (kind != MG_H5_RUN_RESULT && kind != MG_H5_UNKNOWN)
        return mg_err_set(err, MG_EIO, "%s: %s; merge takes the shards of one `mesogif run`",
                          s->path, mg_h5_kind_words(kind));
    char fmt[32] = "";
    int64_t ver = 0;
    if (mg_h5_read_attr_str(s->f, "format", fmt, sizeof fmt) || strcmp(fmt, "mesogif") != 0 ||
        mg_h5_read_attr(s->f, "format_version", H5T_NATIVE_INT64, &ver) || ver != MG_FORMAT_VERSION)
        return mg_err_set(err, MG_EIO, "%s: not a mesogif file of format %d", s->path,
                          MG_FORMAT_VERSION);
    if (mg_h5_read_attr(s->f, "realization_first", H5T_NATIVE_INT64, &s->first) ||
        mg_h5_read_attr(s->f, "realization_count", H5T_NATIVE_INT64, &s->count) ||
        mg_h5_read_attr_str(s->f, "level", s->level, sizeof s->level))
        return mg_err_set(err, MG_EIO, "%s: root attributes realization_first/count or level "
                          "missing", s->path);
    declared_run(s);
    s->run_key = mg_h5_read_str(s->f, "/config/run_key");
    if (!s->run_key || !*s->run_key)
        return mg_err_set(err, MG_EIO, "%s: /config/run_key missing (written by an older "
                          "mesogif?)", s->path);
    int rc = mg_h5_read_stats(s->path, &s->stats, err);
    if (rc != MG_OK)
        return rc;
    return read_trace_shape(s, err);
}

static void close_shard(shard_in *s)
{
    mg_h5_close(s->f);
    free(s->run_key);
    free(s->idx);
    mg_stats_free(&s->stats);
}

/* Where two run keys first differ (a window of the first differing line), for the message. */
static void first_difference(const char *a, const char *b, char *out, size_t len)
{
    while (*a && *b) {
        const char *ea = strchr(a, '\n'), *eb = strchr(b, '\n');
        size_t na = ea ? (size_t)(ea - a) : strlen(a), nb = eb ? (size_t)(eb - b) : strlen(b);
        if (na != nb || strncmp(a, b, na) != 0) {
            /* from up to 40 characters before the first difference, at a word or JSON
             * boundary (so a "name value" key or "name":value shows its name): a long line
             * (the model's JSON) shows where it differs */
            size_t d = 0, from;
            while (d < na && d < nb && a[d] == b[d])
                ++d;
            from = d > 40 ? d - 40 : 0;
            for (size_t k = from; from > 0 && k < d; ++k)
                if (a[k] == ' ' || a[k] == ',' || a[k] == '{') {
                    from = k + 1;
                    break;
                }
            const char *dots = from > 0 ? "..." : "";
            na -= from, nb -= from;
            snprintf(out, len, "'%s%.*s' vs '%s%.*s'", dots, (int)(na > 100 ? 100 : na), a + from,
                     dots, (int)(nb > 100 ? 100 : nb), b + from);
            return;
        }
        a += na + (ea ? 1 : 0);
        b += nb + (eb ? 1 : 0);
    }
    snprintf(out, len, "(one key is a prefix of the other)");
}

static int by_first(const void *x, const void *y)
{
    const shard_in *a = (const shard_in *)x, *b = (const shard_in *)y;
    return (a->first > b->first) - (a->first < b->first);
}

/* Concatenate the inputs' traces (float32 [k][P][T]) of one name into the output. */
static int merge_traces(hid_t out, shard_in *in, int n, const char *name, int64_t P, int64_t T,
                        int64_t K)
{
    size_t row = (size_t)(P * T);
    float *buf = malloc((size_t)(K > 0 ? K : 1) * row * sizeof(float));
    if (!buf)
        return -1;
    int64_t at = 0;
    for (int i = 0; i < n; ++i) {
        if (in[i].k == 0)
            continue;
        if (mg_h5_read_array(in[i].f, name, H5T_NATIVE_FLOAT, buf + (size_t)at * row,
                             (hsize_t)in[i].k * row)) {
            free(buf);
            return -1;
        }
        at += in[i].k;
    }
    hsize_t dims[3] = {(hsize_t)K, (hsize_t)P, (hsize_t)T};
    int rc = mg_h5_dset(out, name, H5T_NATIVE_FLOAT, H5T_IEEE_F32LE, 3, dims, buf, 1);
    free(buf);
    if (rc)
        return rc;
    /* the attributes of the first shard's dataset (dt_ms, units, ...); best effort: they are
     * descriptive only */
    static const char *const skip[] = {"realization_first"};
    return mg_h5_copy_attrs(in[0].f, out, name, skip, 1, 1);
}

typedef struct {
    double t;
    uint64_t id;
} spike;

static int by_time_then_id(const void *x, const void *y)
{
    const spike *a = (const spike *)x, *b = (const spike *)y;
    if (a->t != b->t)
        return (a->t > b->t) - (a->t < b->t);
    return (a->id > b->id) - (a->id < b->id);
}

/* "<group>/<name>" in a static buffer (one use at a time). */
static const char *path_of(const char *group, const char *name)
{
    static char buf[160 + MG_NAME_MAX];
    snprintf(buf, sizeof buf, "%s/%s", group, name);
    return buf;
}

/* Append the spikes of the group path (/spikes/<population>) of shard s to *all (*total
 * entries; grown here), node ids renumbered to the merged trace rows: koff recorded
 * realizations come before s's. *N = the group's n_neurons. A shard without the group adds
 * nothing. Returns 0, or -1 when the group is damaged or memory runs out (*all stays valid
 * for free). */
static int append_shard_spikes(const shard_in *s, const char *path, int64_t koff, spike **all,
                               int64_t *total, int64_t *N)
{
    if (!mg_h5_has(s->f, path))
        return 0;
    int rc = 0;
    int64_t Ni = 0;
    if (mg_h5_read_attr_at(s->f, path, "n_neurons", H5T_NATIVE_INT64, &Ni) != 0)
        Ni = 0; /* refused below */
    /* both datasets hold m values with their bytes in the file (a damaged header must
     * not size the buffers: node ids are read into room for m) */
    int64_t m_t = -1, m_i = -1;
    hssize_t m = mg_h5_shape(s->f, path_of(path, "timestamps"), 1, &m_t, sizeof(double)) ||
                         mg_h5_shape(s->f, path_of(path, "node_ids"), 1, &m_i,
                                 sizeof(uint64_t)) || m_t != m_i
                     ? -1
                     : (hssize_t)m_t;
    double *t = malloc((size_t)(m > 0 ? m : 1) * sizeof *t);
    uint64_t *id = malloc((size_t)(m > 0 ? m : 1) * sizeof *id);
    spike *grown = realloc(*all, (size_t)(*total + (m > 0 ? m : 0) + 1) * sizeof **all);
    if (m < 0 || Ni <= 0 || !t || !id || !grown ||
        mg_h5_read_array(s->f, path_of(path, "timestamps"), H5T_NATIVE_DOUBLE, t,
                         (hsize_t)m) ||
        mg_h5_read_array(s->f, path_of(path, "node_ids"), H5T_NATIVE_UINT64, id,
                         (hsize_t)m))
        rc = -1;
    if (grown)
        *all = grown;
    for (hssize_t k = 0; rc == 0 && k < m; ++k) {
        spike *sp = &(*all)[*total];
        sp->t = t[k];
        /* unsigned: a damaged id wraps instead of overflowing a signed sum */
        sp->id = (id[k] / (uint64_t)Ni + (uint64_t)koff) * (uint64_t)Ni + id[k] % (uint64_t)Ni;
        ++*total;
    }
    *N = Ni;
    free(t);
    free(id);
    return rc;
}

/* One population of the merged result: the spikes all[total] (N neurons per realization)
 * sorted by time, then node id, into sp. Returns 0, or -1 when memory runs out (what was
 * allocated stays in sp for mg_spikes_free). */
static int store_spikes(mg_spikes *sp, spike *all, int64_t total, int64_t N)
{
    if (total > 0) /* all is NULL when no shard had the group */
        qsort(all, (size_t)total, sizeof *all, by_time_then_id);
    sp->n = total;
    sp->n_neurons = N;
    sp->t_ms = malloc((size_t)(total > 0 ? total : 1) * sizeof(double));
    sp->node_id = malloc((size_t)(total > 0 ? total : 1) * sizeof(uint64_t));
    if (!sp->t_ms || !sp->node_id)
        return -1;
    for (int64_t k = 0; k < total; ++k) {
        sp->t_ms[k] = all[k].t;
        sp->node_id[k] = all[k].id;
    }
    return 0;
}

/* /spikes of micro shards: node ids renumbered to the merged trace rows (k -> K_i + k for the
 * i-th input's recorded realizations), merged in time order. 0, or -1 on a failure. */
static int merge_spikes(hid_t out, shard_in *in, int n, char (*names)[MG_NAME_MAX], int P,
                        int64_t first, int64_t K)
{
    if (!mg_h5_has(in[0].f, "/spikes"))
        return 0;
    mg_result fake;
    memset(&fake, 0, sizeof fake);
    fake.P = P;
    fake.pop_names = names;
    fake.trace_k = K;
    fake.opts.realization_first = first;
    if (mg_h5_read_attr_at(in[0].f, "/spikes", "dt_ms", H5T_NATIVE_DOUBLE, &fake.opts.dt_ms))
        fake.opts.dt_ms = 0;
    fake.spikes = calloc((size_t)P, sizeof *fake.spikes);
    if (!fake.spikes)
        return -1;
    int rc = 0;
    for (int p = 0; p < P && rc == 0; ++p) {
        spike *all = NULL;
        int64_t total = 0, koff = 0, N = 0;
        char path[96 + MG_NAME_MAX];
        snprintf(path, sizeof path, "/spikes/%s", names[p]);
        for (int i = 0; i < n && rc == 0; koff += in[i].k, ++i)
            rc = append_shard_spikes(&in[i], path, koff, &all, &total, &N);
        if (rc == 0)
            rc = store_spikes(&fake.spikes[p], all, total, N);
        free(all);
    }
    if (rc == 0)
        rc = mg_h5_write_spikes(out, &fake);
    mg_spikes_free(fake.spikes, P);
    return rc;
}

/* What the merge wrote, for the root attributes. */
typedef struct {
    int64_t first, count;
    int gaps;
    int64_t run_first, run_total; /* the run the inputs declare (span of them all) */
    const char *missing;          /* the missing ranges as text ("" when none) */
} merge_info;

/* The root attributes of the merged file out: the first shard's, except those the merge
 * writes again from mi (range, gaps, run), the inputs' paths and command_line. Returns NULL,
 * or the part that failed ("root attributes"). */
static const char *write_merged_root(hid_t out, const shard_in *in, int n, const merge_info *mi,
                                     const char *command_line)
{
    static const char *const skip[] = {"realization_first", "realization_count", "shard_index",
                                       "shard_count", "wall_s", "command_line", "created",
                                       "merged_shards", "gaps", "merged_from",
                                       "realizations_total", "run_first",
                                       "missing_realizations"};
    const char *what = NULL;
    if (mg_h5_copy_attrs(in[0].f, out, "/", skip, (int)(sizeof skip / sizeof skip[0]), 0))
        what = "root attributes";
    char sources[8192] = "";
    size_t at = 0;
    for (int i = 0; i < n && at < sizeof sources - 2; ++i)
        at += (size_t)snprintf(sources + at, sizeof sources - at, "%s%s", i ? "\n" : "",
                               in[i].path);
    if (!what && (mg_h5_attr_i64(out, "realization_first", mi->first) ||
                  mg_h5_attr_i64(out, "realization_count", mi->count) ||
                  mg_h5_attr_i64(out, "shard_index", 0) ||
                  mg_h5_attr_i64(out, "shard_count", 1) ||
                  mg_h5_attr_i64(out, "merged_shards", n) ||
                  mg_h5_attr_i64(out, "gaps", mi->gaps) ||
                  mg_h5_attr_i64(out, "realizations_total", mi->run_total) ||
                  mg_h5_attr_i64(out, "run_first", mi->run_first) ||
                  mg_h5_attr_str(out, "missing_realizations", mi->missing) ||
                  mg_h5_attr_str(out, "merged_from", sources) ||
                  mg_h5_attr_str(out, "command_line", command_line)))
        what = "root attributes";
    return what;
}

/* Recorded trace rows of all inputs together. */
static int64_t traces_total(const shard_in *in, int n)
{
    int64_t K = 0;
    for (int i = 0; i < n; ++i)
        K += in[i].k;
    return K;
}

/* /stats of the merged file out from the summed statistics sum, and /spikes of micro shards;
 * names[sum->L.P]: room for the population names (read from the first shard). Returns NULL,
 * or the part that failed. */
static const char *write_merged_stats(hid_t out, shard_in *in, int n, const mg_stats *sum,
                                      char (*names)[MG_NAME_MAX], int64_t first)
{
    if (mg_h5_read_names(in[0].f, "/config/populations", names[0], MG_NAME_MAX, sum->L.P))
        return "/config/populations";
    int switching = 0; /* the analysis of an observable declared by the run */
    for (int i = 0; i < n; ++i)
        switching |= in[i].has_switching;
    if (mg_h5_write_stats(out, sum, names, switching))
        return "/stats";
    if (merge_spikes(out, in, n, names, sum->L.P, first, traces_total(in, n)))
        return "/spikes";
    return NULL;
}

/* /traces of the merged file out: the inputs' traces in their (realization) order with their
 * realization indices; nothing when no input recorded any. Returns NULL, or "/traces". */
static const char *write_merged_traces(hid_t out, shard_in *in, int n)
{
    const int64_t K = traces_total(in, n);
    if (K <= 0)
        return NULL;
    const char *what = NULL;
    int64_t *idx = malloc((size_t)K * sizeof(int64_t));
    int64_t k = 0;
    for (int i = 0; idx && i < n; ++i)
        for (int64_t j = 0; j < in[i].k; ++j)
            idx[k++] = in[i].idx[j];
    hsize_t nk = (hsize_t)K;
    if (!idx || merge_traces(out, in, n, "/traces/A_N", in[0].P, in[0].T, K) ||
        (in[0].has_bar && merge_traces(out, in, n, "/traces/A_bar", in[0].P, in[0].T, K)) ||
        mg_h5_dset_i64(out, "/traces/realization_index", 1, &nk, idx))
        what = "/traces";
    free(idx);
    return what;
}

/* The merged file at path (via path.partial, renamed into place when complete). */
static int write_merged(const char *path, int force, shard_in *in, int n, const mg_stats *sum,
                        const merge_info *mi, const char *command_line, mg_err *err)
{
    char partial[4096];
    hid_t out = mg_h5_partial_create(path, force, partial, sizeof partial, err);
    if (out < 0)
        return MG_EIO;
    const char *what = write_merged_root(out, in, n, mi, command_line);
    /* /config (and /theory) as they are in the first shard */
    if (!what && mg_h5_copy(in[0].f, out, "/config", 0))
        what = "/config";
    if (!what && mg_h5_copy(in[0].f, out, "/theory", 1))
        what = "/theory";
    /* population names for the histogram groups */
    char(*names)[MG_NAME_MAX] = calloc((size_t)sum->L.P, sizeof *names);
    if (!names)
        what = "memory";
    if (!what)
        what = write_merged_stats(out, in, n, sum, names, mi->first);
    free(names);
    if (!what)
        what = write_merged_traces(out, in, n);
    return mg_h5_partial_finish(out, partial, path, force, what, err);
}

/* An interval [a, b) of realization indices. */
typedef struct {
    int64_t a, b;
} span;

static int by_start(const void *x, const void *y)
{
    const span *p = (const span *)x, *q = (const span *)y;
    return (p->a > q->a) - (p->a < q->a);
}

/* The realizations no input holds (inputs sorted by first, disjoint): every run an input
 * declares (shard I of N of [F, F + T)) must be whole, and so must the hull of the inputs.
 * Appends "[a, b) (shard j/N of the run [F, F + T))"-style text to msg; returns the number of
 * missing realizations and sets *run_first, *run_end to the span of the declared runs. */
static int64_t missing_realizations(const shard_in *in, int n, char *msg, size_t len,
                                    int64_t *run_first, int64_t *run_end)
{
    span *need = malloc((size_t)(n + 1) * sizeof *need);
    if (!need)
        return 0;
    int m = 0;
    for (int i = 0; i < n; ++i)
        need[m++] = (span){in[i].run_first, in[i].run_first + in[i].run_total};
    need[m++] = (span){in[0].first, in[n - 1].first + in[n - 1].count};
    qsort(need, (size_t)m, sizeof *need, by_start);
    *run_first = need[0].a;
    *run_end = need[0].b;
    for (int k = 0; k < m; ++k)
        *run_end = need[k].b > *run_end ? need[k].b : *run_end;
    int64_t missing = 0;
    size_t at = strlen(msg);
    int shown = 0;
    int64_t at_r = need[0].a; /* everything below is decided */
    for (int k = 0; k < m; ++k) {
        int64_t a = need[k].a > at_r ? need[k].a : at_r, b = need[k].b;
        /* walk the inputs over [a, b) */
        for (int i = 0; i < n && a < b; ++i) {
            int64_t f = in[i].first, e = in[i].first + in[i].count;
            if (e <= a)
                continue;
            if (f > a) {
                int64_t g = f < b ? f : b;
                missing += g - a;
                if (shown++ < 3 && at < len)
                    at += (size_t)snprintf(msg + at, len - at, "%s[%lld, %lld)", shown > 1 ? ", " : "",
                                           (long long)a, (long long)g);
            }
            a = e > a ? e : a;
        }
        if (a < b) {
            missing += b - a;
            if (shown++ < 3 && at < len)
                at += (size_t)snprintf(msg + at, len - at, "%s[%lld, %lld)", shown > 1 ? ", " : "",
                                       (long long)a, (long long)b);
        }
        at_r = b > at_r ? b : at_r;
    }
    if (shown > 3 && at < len)
        snprintf(msg + at, len - at, " and %d more ranges", shown - 3);
    free(need);
    return missing;
}

/* Which shards of the declared runs are missing, as " (shard 3/4 missing)" text. */
static void missing_shards(const shard_in *in, int n, char *out, size_t len)
{
    out[0] = '\0';
    size_t at = 0;
    int shown = 0;
    for (int i = 0; i < n; ++i) {
        if (in[i].shard_count < 2)
            continue;
        int dup = 0; /* each declared run once */
        for (int k = 0; k < i && !dup; ++k)
            dup = in[k].run_first == in[i].run_first && in[k].run_total == in[i].run_total &&
                  in[k].shard_count == in[i].shard_count;
        if (dup)
            continue;
        for (int64_t j = 0; j < in[i].shard_count && shown < 8; ++j) {
            int64_t f, c, have = 0;
            mg_shard_range(in[i].run_first, in[i].run_total, j, in[i].shard_count, &f, &c);
            for (int k = 0; k < n; ++k)
                have |= in[k].first <= f && in[k].first + in[k].count >= f + c;
            if (!have && at < len)
                at += (size_t)snprintf(out + at, len - at, "%s%lld/%lld", shown++ ? ", " : "",
                                       (long long)j, (long long)in[i].shard_count);
        }
    }
}

/* Is path the same file as another (same device and inode)? */
static int same_file(const char *a, const char *b)
{
    struct stat sa, sb;
    return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
           sa.st_ino == sb.st_ino;
}

/* Every input of the same run (run key) as the first, with traces of its shape. */
static int same_run(const shard_in *in, int n, mg_err *err)
{
    for (int i = 1; i < n; ++i) {
        if (strcmp(in[i].run_key, in[0].run_key) != 0) {
            char diff[300];
            first_difference(in[0].run_key, in[i].run_key, diff, sizeof diff);
            return mg_err_set(err, MG_EINVAL, "%s: another run than %s (model, level, options, "
                              "seed or version differ: %s)", in[i].path, in[0].path, diff);
        }
        if (in[i].k > 0 && in[0].k > 0 && (in[i].P != in[0].P || in[i].T != in[0].T))
            return mg_err_set(err, MG_EINVAL, "%s: traces of another shape than %s", in[i].path,
                              in[0].path);
    }
    return MG_OK;
}

/* An existing OUT that is a shard or an unmerged result of this very run holds finished work
 * that no merge can give back: never overwritten (a mistaken argument order). */
static int refuse_own_result(const char *out_path, const char *run_key, const char *order,
                             mg_err *err)
{
    int not_hdf5 = 0;
    hid_t f = mg_h5_open_read(out_path, &not_hdf5);
    if (f < 0)
        return MG_OK;
    int rc = MG_OK;
    char *key = mg_h5_read_str(f, "/config/run_key");
    int64_t m = 0;
    int merged = mg_h5_read_attr(f, "merged_shards", H5T_NATIVE_INT64, &m) == 0;
    if (key && strcmp(key, run_key) == 0 && !merged)
        rc = mg_err_set(err, MG_EINVAL, "%s: is a result of this same run (a shard, not a "
                        "merge); not overwritten, even with --force (%s)", out_path, order);
    free(key);
    mg_h5_close(f);
    return rc;
}

/* The inputs in realization order (one with traces first among equals: traces of shards
 * without recorded realizations carry no shape), without overlaps; their first realization
 * and total count. */
static int order_inputs(shard_in *in, int n, int64_t *first, int64_t *count, mg_err *err)
{
    for (int i = 1; i < n; ++i)
        if (in[0].k == 0 && in[i].k > 0) {
            shard_in t = in[0];
            in[0] = in[i];
            in[i] = t;
        }
    qsort(in, (size_t)n, sizeof *in, by_first);
    *first = in[0].first;
    *count = 0;
    for (int i = 0; i < n; ++i) {
        *count += in[i].count;
        if (i > 0) {
            int64_t prev_end = in[i - 1].first + in[i - 1].count;
            if (in[i].first < prev_end)
                return mg_err_set(err, MG_EINVAL, "%s: realizations [%lld, %lld) overlap those "
                                  "of %s [%lld, %lld)", in[i].path, (long long)in[i].first,
                                  (long long)(in[i].first + in[i].count), in[i - 1].path,
                                  (long long)in[i - 1].first, (long long)prev_end);
        }
    }
    return MG_OK;
}

/* Do the inputs cover the run (every shard, no gap)? The gaps into *gaps, missing[len] and the
 * run's range; refused unless allow_gaps. */
static int check_coverage(const shard_in *in, int n, int allow_gaps, int *gaps, char *missing,
                          size_t len, int64_t *run_first, int64_t *run_end, mg_err *err)
{
    for (int i = 0; i < n; ++i)
        if (in[i].missing[0] && !allow_gaps)
            return mg_err_set(err, MG_EINVAL, "incomplete: %s is itself a merge with gaps "
                              "(realizations %s missing; add their shard files, or --allow-gaps "
                              "to merge anyway)", in[i].path, in[i].missing);
    int64_t lost = missing_realizations(in, n, missing, len, run_first, run_end);
    if (lost <= 0)
        return MG_OK;
    *gaps = 1;
    char shards[256];
    missing_shards(in, n, shards, sizeof shards);
    if (allow_gaps)
        return MG_OK;
    return mg_err_set(err, MG_EINVAL, "incomplete: %lld of the %lld realizations [%lld, %lld) "
                      "of the run are in no input: %s%s%s%s (add the missing shard files, or "
                      "--allow-gaps to merge anyway)", (long long)lost,
                      (long long)(*run_end - *run_first), (long long)*run_first,
                      (long long)*run_end, missing, shards[0] ? "; missing shard(s) " : "",
                      shards, shards[0] ? " of the run" : "");
}

/* Part of the messages about an output path that looks like an input. */
static const char *const merge_order = "the output comes first: mesogif merge OUT.h5 IN.h5...";

/* May out_path be written, before any input is opened: there are inputs, none of them is the
 * output, and an existing output only with force (then *out_exists = 1). MG_OK, or MG_EINVAL
 * with the message (info->output_exists set for an existing output without force). */
static int check_output(const char *out_path, const char *const *in_paths, int n, int force,
                        int *out_exists, mg_merge_info *info, mg_err *err)
{
    if (n < 1)
        return mg_err_set(err, MG_EINVAL, "no input to merge into %s", out_path);
    for (int i = 0; i < n; ++i)
        if (strcmp(in_paths[i], out_path) == 0 || same_file(in_paths[i], out_path))
            return mg_err_set(err, MG_EINVAL, "%s: is also an input; not overwritten, even with "
                              "--force (%s)", out_path, merge_order);
    *out_exists = access(out_path, F_OK) == 0;
    if (!force && *out_exists) {
        info->output_exists = 1;
        return mg_err_set(err, MG_EINVAL, "%s: exists (%s; --force overwrites an earlier merge)",
                          out_path, merge_order);
    }
    return MG_OK;
}

/* sum = the statistics of the n inputs added in their order (exact: integer and ordered
 * floating sums), with every derived quantity. MG_OK, or an error (sum then owns what was
 * allocated; mg_stats_free frees it). */
static int sum_stats(const shard_in *in, int n, mg_stats *sum, mg_err *err)
{
    int rc = mg_stats_alloc(sum, &in[0].stats.L, err);
    for (int i = 0; i < n && rc == MG_OK; ++i)
        rc = mg_stats_add(sum, &in[i].stats, err);
    if (rc == MG_OK)
        rc = mg_stats_finalize(sum, err);
    return rc;
}

int mg_merge(const char *out_path, const char *const *in_paths, int n, const mg_merge_opts *o,
             mg_merge_info *info, mg_err *err)
{
    memset(info, 0, sizeof *info);
    info->n = n;
    int out_exists = 0;
    int rc = check_output(out_path, in_paths, n, o->force, &out_exists, info, err);
    if (rc != MG_OK)
        return rc;
    shard_in *in = calloc((size_t)n, sizeof *in);
    if (!in) {
        info->writing = 1; /* not the inputs' fault */
        return mg_err_set(err, MG_ENOMEM, "out of memory");
    }
    for (int i = 0; i < n && rc == MG_OK; ++i) {
        in[i].path = in_paths[i];
        rc = open_shard(&in[i], err);
    }
    if (rc == MG_OK)
        rc = same_run(in, n, err);
    if (rc == MG_OK && out_exists)
        rc = refuse_own_result(out_path, in[0].run_key, merge_order, err);
    int gaps = 0;
    int64_t first = 0, count = 0, run_first = 0, run_end = 0;
    char missing[512] = "";
    mg_stats sum;
    memset(&sum, 0, sizeof sum);
    if (rc == MG_OK)
        rc = order_inputs(in, n, &first, &count, err);
    if (rc == MG_OK)
        rc = check_coverage(in, n, o->allow_gaps, &gaps, missing, sizeof missing, &run_first,
                            &run_end, err);
    if (rc == MG_OK)
        rc = sum_stats(in, n, &sum, err);
    if (rc == MG_OK) {
        merge_info mi = {first, count, gaps, run_first, run_end - run_first, missing};
        rc = write_merged(out_path, o->force, in, n, &sum, &mi,
                          o->command_line ? o->command_line : "", err);
        info->writing = rc != MG_OK;
    }
    if (rc == MG_OK) {
        info->first = first;
        info->end = in[n - 1].first + in[n - 1].count;
        info->gaps = gaps;
        info->run_first = run_first;
        info->run_end = run_end;
        snprintf(info->missing, sizeof info->missing, "%s", missing);
    }
    mg_stats_free(&sum);
    for (int i = 0; i < n; ++i)
        close_shard(&in[i]);
    free(in);
    return rc;
}
