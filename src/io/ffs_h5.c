/* src/io/ffs_h5.c: the file of `mesogif switch` (docs/FILE_FORMAT.md, "/switching/ffs"): the root
 * attributes of a run file, /config/model_json and /config/model_source, and /switching/ffs.
 * Written to PATH.partial and renamed into place, so that a failure leaves no half file. */
#include "io/ffs_h5.h"
#include "io/io_h5_internal.h"
#include "mesogif/ffs.h"
#include "mesogif/io.h"

#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* What mg_h5_write_file hands to write_body. */
typedef struct {
    const mg_ffs_result *r;
    const mg_model *m;
} ffs_file;

int mg_ffs_h5_f64(hid_t loc, const char *path, hsize_t n, const double *v)
{
    return mg_h5_dset(loc, path, H5T_NATIVE_DOUBLE, H5T_IEEE_F64LE, 1, &n, v, n > 4096);
}

int mg_ffs_h5_i64(hid_t loc, const char *path, hsize_t n, const int64_t *v)
{
    return mg_h5_dset(loc, path, H5T_NATIVE_INT64, H5T_STD_I64LE, 1, &n, v, n > 4096);
}

/* A dataset of /switching/ffs: n float64 values v, or (v NULL) n int64 values iv. */
typedef struct {
    const char *name;
    hsize_t n;
    const double *v;
    const int64_t *iv;
} ffs_col;

static int write_cols(hid_t f, const char *group, const ffs_col *c, int n)
{
    char path[128];
    int rc = 0;
    for (int k = 0; k < n; ++k) {
        snprintf(path, sizeof path, "%s/%s", group, c[k].name);
        rc |= c[k].v ? mg_ffs_h5_f64(f, path, c[k].n, c[k].v)
                     : mg_ffs_h5_i64(f, path, c[k].n, c[k].iv);
    }
    return rc;
}

static int write_direction(hid_t f, const mg_ffs_result *r, int d)
{
    const hsize_t n = (hsize_t)r->n_stages[d];
    const ffs_col c[] = {
        {"interfaces", n + 1, r->interfaces[d], NULL}, {"trials", n, NULL, r->trials[d]},
        {"successes", n, NULL, r->successes[d]},       {"p", n, r->p[d], NULL},
        {"p_rel_se", n, r->p_rel_se[d], NULL},         {"start_states", n, NULL, r->start_states[d]},
    };
    return write_cols(f, d == 0 ? "/switching/ffs/from_low" : "/switching/ffs/from_high", c,
                      (int)(sizeof c / sizeof c[0]));
}

static int write_ffs(hid_t f, const mg_ffs_result *r)
{
    double thr[2] = {r->lo, r->hi};
    int64_t reached[2] = {r->reached[0], r->reached[1]};
    const ffs_col c[] = {
        {"rate_hz", 2, r->rate_hz, NULL},
        {"rate_ci_low", 2, r->rate_ci_low, NULL},
        {"rate_ci_high", 2, r->rate_ci_high, NULL},
        {"rate_rel_se", 2, r->rate_rel_se, NULL},
        {"rate_rel_se_stages", 2, r->rate_rel_se_stages, NULL},
        {"rate_rel_se_tree", 2, r->rate_rel_se_tree, NULL},
        {"rel_err_reached", 2, NULL, reached},
        {"flux_hz", 2, r->flux_hz, NULL},
        {"flux_rel_se", 2, r->flux_rel_se, NULL},
        {"flux_crossings", 2, NULL, r->flux_crossings},
        {"basin_exposure_s", 2, r->exposure_s, NULL},
        {"basin_core", 2, r->basin_core, NULL},
        {"trial_realization_s", 2, r->trial_s, NULL},
        {"basin_realization_s", 1, &r->basin_s, NULL},
        {"thresholds", 2, thr, NULL},
        {"smoothing_ms", 1, &r->smooth_ms, NULL},
    };
    int rc = write_cols(f, "/switching/ffs", c, (int)(sizeof c / sizeof c[0]));
    rc |= mg_h5_dset_str(f, "/switching/ffs/observable", r->observable);
    for (int d = 0; d < 2; ++d)
        rc |= write_direction(f, r, d);
    if (rc)
        return -1;
    hid_t g = H5Gopen2(f, "/switching/ffs", H5P_DEFAULT);
    if (g < 0)
        return -1;
    const mg_ffs_opts *o = &r->opts;
    rc |= mg_h5_attr_str(g, "method", "direct forward flux sampling (Allen, Warren & ten Wolde "
                         "2005); rate = flux_hz * prod(p); index 0 = from low, 1 = from high");
    rc |= mg_h5_attr_str(g, "ci_method", "log-normal: rate * exp(+-1.96 rate_rel_se); "
                         "rate_rel_se^2 = flux_rel_se^2 + max(rate_rel_se_stages^2, "
                         "rate_rel_se_tree^2); stages: sum of p_rel_se^2, each from the larger "
                         "of the binomial variance and the variance across start states; tree: "
                         "bootstrap of ln prod p over the basin crossings the trials descend "
                         "from (docs/SWITCHING.md)");
    rc |= mg_h5_attr_f64(g, "rel_err_target", o->rel_err);
    rc |= mg_h5_attr_str(g, "interfaces_placement", o->n_interfaces > 0 ? "given" : "auto");
    rc |= mg_h5_attr_f64(g, "p_target", o->p_target);
    rc |= mg_h5_attr_f64(g, "stats_bin_ms", o->stats_bin_ms);
    rc |= mg_h5_attr_i64(g, "basin_realizations", o->basin_realizations);
    rc |= mg_h5_attr_f64(g, "state_bytes", r->state_bytes);
    H5Gclose(g);
    return rc;
}

/* After the root attributes (mg_h5_write_file): /config and /switching/ffs. */
static const char *write_body(hid_t f, const void *ctx)
{
    const ffs_file *c = ctx;
    if (mg_h5_dset_str(f, "/config/model_json", c->m->json ? c->m->json : "") ||
        mg_h5_dset_str(f, "/config/model_source", c->m->source ? c->m->source : ""))
        return "/config";
    return write_ffs(f, c->r) ? "/switching/ffs" : NULL;
}

int mg_ffs_write_h5(const char *path, const mg_ffs_result *r, const mg_model *m,
                    const char *command_line, int force, mg_err *err)
{
    const mg_ffs_opts *o = &r->opts;
    const mg_h5_root root = {.kind = "switch", .backend = r->backend_name, .device = r->device,
                             .level = o->level, .noise = o->noise, .seed = o->seed,
                             .dt_ms = o->dt_ms, .t_warmup_ms = o->t_warmup_ms,
                             .wall_s = r->wall_s, .device_bytes = 0.0, .partial = 0};
    const ffs_file ctx = {r, m};
    return mg_h5_write_file(path, force, command_line, &root, write_body, &ctx, err);
}

/* The rates of a `mesogif switch` file, for `mesogif info` (src/io/io_h5_info.c): nothing when f has
 * no /switching/ffs. Reads only what has the expected shape. */
void mg_ffs_h5_print(hid_t f, FILE *out)
{
    if (H5Lexists(f, "/switching", H5P_DEFAULT) <= 0 ||
        H5Lexists(f, "/switching/ffs", H5P_DEFAULT) <= 0)
        return;
    double k[2], lo[2], hi[2], se[2], flux[2];
    if (mg_h5_read_array(f, "/switching/ffs/rate_hz", H5T_NATIVE_DOUBLE, k, 2) ||
        mg_h5_read_array(f, "/switching/ffs/rate_ci_low", H5T_NATIVE_DOUBLE, lo, 2) ||
        mg_h5_read_array(f, "/switching/ffs/rate_ci_high", H5T_NATIVE_DOUBLE, hi, 2))
        return;
    if (mg_h5_read_array(f, "/switching/ffs/rate_rel_se", H5T_NATIVE_DOUBLE, se, 2))
        se[0] = se[1] = NAN;
    if (mg_h5_read_array(f, "/switching/ffs/flux_hz", H5T_NATIVE_DOUBLE, flux, 2))
        flux[0] = flux[1] = NAN;
    fprintf(out, "switching rates by forward flux sampling (/switching/ffs):\n");
    for (int d = 0; d < 2; ++d) {
        const char *name = d == 0 ? "low" : "high";
        char path[64];
        snprintf(path, sizeof path, "/switching/ffs/from_%s/p", name);
        hssize_t n = mg_h5_npoints(f, path);
        fprintf(out, "  from %-5s %12.6g Hz  [%.6g, %.6g] (95 %%)  rel. error %.3g, flux %.5g Hz, "
                "%lld stages\n", name, k[d], lo[d], hi[d], se[d], flux[d], (long long)n);
    }
}
