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

int mg_ffs_h5_f64(hid_t loc, const char *path, hsize_t n, const double *v)
{
    return mg_h5_dset(loc, path, H5T_NATIVE_DOUBLE, H5T_IEEE_F64LE, 1, &n, v, n > 4096);
}

int mg_ffs_h5_i64(hid_t loc, const char *path, hsize_t n, const int64_t *v)
{
    return mg_h5_dset(loc, path, H5T_NATIVE_INT64, H5T_STD_I64LE, 1, &n, v, n > 4096);
}

static int write_root(hid_t f, const mg_ffs_result *r, const char *command_line)
{
    const mg_ffs_opts *o = &r->opts;
    int rc = mg_h5_attr_header(f, command_line);
    rc |= mg_h5_attr_str(f, "kind", "switch");
    rc |= mg_h5_attr_str(f, "level", mg_level_name(o->level));
    rc |= mg_h5_attr_str(f, "backend", r->backend_name ? r->backend_name : "cpu");
    rc |= mg_h5_attr_str(f, "device", r->device);
    rc |= mg_h5_attr_i64(f, "seed", (int64_t)o->seed);
    rc |= mg_h5_attr_f64(f, "dt_ms", o->dt_ms);
    rc |= mg_h5_attr_f64(f, "t_warmup_ms", o->t_warmup_ms);
    rc |= mg_h5_attr_str(f, "noise", mg_noise_name(o->noise));
    rc |= mg_h5_attr_f64(f, "wall_s", r->wall_s);
    rc |= mg_h5_attr_f64(f, "device_memory_bytes", 0.0);
    rc |= mg_h5_attr_i64(f, "partial", 0);
    return rc;
}

static int write_direction(hid_t f, const mg_ffs_result *r, int d)
{
    char path[128];
    const char *name = d == 0 ? "from_low" : "from_high";
    const hsize_t n = (hsize_t)r->n_stages[d];
    int rc = 0;
#define P(x) (snprintf(path, sizeof path, "/switching/ffs/%s/%s", name, x), path)
    rc |= mg_ffs_h5_f64(f, P("interfaces"), n + 1, r->interfaces[d]);
    rc |= mg_ffs_h5_i64(f, P("trials"), n, r->trials[d]);
    rc |= mg_ffs_h5_i64(f, P("successes"), n, r->successes[d]);
    rc |= mg_ffs_h5_f64(f, P("p"), n, r->p[d]);
    rc |= mg_ffs_h5_f64(f, P("p_rel_se"), n, r->p_rel_se[d]);
    rc |= mg_ffs_h5_i64(f, P("start_states"), n, r->start_states[d]);
#undef P
    return rc;
}

static int write_ffs(hid_t f, const mg_ffs_result *r)
{
    const hsize_t two = 2;
    double thr[2] = {r->lo, r->hi};
    int64_t reached[2] = {r->reached[0], r->reached[1]};
    int rc = 0;
    rc |= mg_ffs_h5_f64(f, "/switching/ffs/rate_hz", two, r->rate_hz);
    rc |= mg_ffs_h5_f64(f, "/switching/ffs/rate_ci_low", two, r->rate_ci_low);
    rc |= mg_ffs_h5_f64(f, "/switching/ffs/rate_ci_high", two, r->rate_ci_high);
    rc |= mg_ffs_h5_f64(f, "/switching/ffs/rate_rel_se", two, r->rate_rel_se);
    rc |= mg_ffs_h5_f64(f, "/switching/ffs/rate_rel_se_stages", two, r->rate_rel_se_stages);
    rc |= mg_ffs_h5_f64(f, "/switching/ffs/rate_rel_se_tree", two, r->rate_rel_se_tree);
    rc |= mg_ffs_h5_i64(f, "/switching/ffs/rel_err_reached", two, reached);
    rc |= mg_ffs_h5_f64(f, "/switching/ffs/flux_hz", two, r->flux_hz);
    rc |= mg_ffs_h5_f64(f, "/switching/ffs/flux_rel_se", two, r->flux_rel_se);
    rc |= mg_ffs_h5_i64(f, "/switching/ffs/flux_crossings", two, r->flux_crossings);
    rc |= mg_ffs_h5_f64(f, "/switching/ffs/basin_exposure_s", two, r->exposure_s);
    rc |= mg_ffs_h5_f64(f, "/switching/ffs/basin_core", two, r->basin_core);
    rc |= mg_ffs_h5_f64(f, "/switching/ffs/trial_realization_s", two, r->trial_s);
    rc |= mg_ffs_h5_f64(f, "/switching/ffs/basin_realization_s", 1, &r->basin_s);
    rc |= mg_h5_dset_str(f, "/switching/ffs/observable", r->observable);
    rc |= mg_ffs_h5_f64(f, "/switching/ffs/thresholds", two, thr);
    rc |= mg_ffs_h5_f64(f, "/switching/ffs/smoothing_ms", 1, &r->smooth_ms);
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

int mg_ffs_write_h5(const char *path, const mg_ffs_result *r, const mg_model *m,
                    const char *command_line, int force, mg_err *err)
{
    char partial[4096];
    hid_t f = mg_h5_partial_create(path, force, partial, sizeof partial, err);
    if (f < 0)
        return MG_EIO;
    const char *what = NULL;
    if (write_root(f, r, command_line))
        what = "root attributes";
    else if (mg_h5_dset_str(f, "/config/model_json", m->json ? m->json : "") ||
             mg_h5_dset_str(f, "/config/model_source", m->source ? m->source : ""))
        what = "/config";
    else if (write_ffs(f, r))
        what = "/switching/ffs";
    return mg_h5_partial_finish(f, partial, path, force, what, err);
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
