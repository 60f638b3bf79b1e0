"""The C declarations of libmesogif's public headers (include/mesogif/*.h) for cffi's ABI mode,
and the loaded library.

cffi's ABI mode reads these declarations at import time and calls the library through
``ffi.dlopen``: nothing is compiled when the package is installed or imported. The structs
must therefore match the headers field for field; python/tests/test_abi.py compiles a small C
program against the headers and checks every size and field offset used here against it.

The library is found in this order: the environment variable ``MESOGIF_LIBRARY`` (a path, what
``make python`` prints), ``_libpath.py`` written next to this file by ``make install``, the
build folder of the source tree this package sits in (``build/libmesogif.so.0``), and finally
the system's search path (``libmesogif.so.0``).
"""
import os

from cffi import FFI

CDEF = r"""
enum { MG_OK = 0, MG_EINVAL = 1, MG_ENOMEM = 2, MG_EIO = 3, MG_ECUDA = 4, MG_ENODEV = 5,
       MG_EINTR = 6, MG_ENUM = 7, MG_ESTOPPED = 8 };
typedef struct { char msg[1024]; } mg_err;
int mg_err_exit_code(int code);

typedef enum { MG_RULE_AUTO = 0, MG_RULE_ALL_TO_ALL = 1, MG_RULE_FIXED_INDEGREE = 2,
               MG_RULE_PAIRWISE_BERNOULLI = 3 } mg_rule;
typedef struct {
    char name[64];
    int64_t N;
    double tau_m, C_m, E_L, V_reset, V_T_star, Delta_V, lambda_0, t_ref, I_e;
    int n_sfa;
    double tau_sfa[8];
    double q_sfa[8];
    int64_t len_kernel;
    int n_steps;
    double *step_times;
    double *step_amps;
} mg_pop;
typedef struct {
    int source, target;
    double J, p, delay, tau_syn;
    mg_rule rule;
} mg_proj;
typedef struct { double dt, t_sim, t_warmup, record_bin, stats_bin; } mg_sim_defaults;
typedef struct {
    char name[64];
    int P;
    mg_pop *pops;
    int n_proj;
    mg_proj *proj;
    mg_sim_defaults sim;
    char switch_observable[256];
    char *json;
    char *source;
} mg_model;
int mg_model_parse(const char *json_text, const char *source, mg_model *m, mg_err *err);
int mg_model_load(const char *path, mg_model *m, mg_err *err);
int mg_model_default(mg_model *m, mg_err *err);
void mg_model_free(mg_model *m);

typedef struct {
    int P;
    double bin_ms;
    int64_t psd_n;
    double psd_bin_ms;
    int onesided;
    int hist_bins;
    double hist_max_hz;
    int obs_bins;
    double obs_max_hz;
    char observable[256];
    double sw_coef[64];
    int sw_window;
    double sw_lo, sw_hi;
    int dwell_bins;
    double dwell_min_s, dwell_max_s;
    int basic;
    int isi_bins;
    double isi_max_s;
} mg_stats_cfg;
typedef struct {
    mg_stats_cfg cfg;
    int P;
    int64_t F;
    int64_t i_count, i_nreal, i_psd_seg, i_psd_nreal, i_hist_A, i_hist_obs, i_sw_exits,
            i_sw_done, i_sw_cens, i_sw_hist, i_isi_hist, i_isi_n, n_i;
    int64_t d_s1, d_s2, d_m1, d_m2, d_v1, d_v2, d_psd, d_psd_m1, d_psd_m2, d_csd_re, d_csd_im,
            d_sw_expo, d_sw_d1, d_sw_d2, d_isi_s1, d_isi_s2, n_d;
} mg_stats_layout;
typedef struct {
    mg_stats_layout L;
    double bin_ms;
    int64_t *i;
    double *d;
    double *mean_A, *var_A, *cov_A, *mean_A_sem, *var_A_sem, *freq, *psd, *psd_sem;
    double *csd_re, *csd_im;
    double rate_hz[2], rate_ci_low[2], rate_ci_high[2];
    double mean_dwell_s[2], cv_dwell[2];
    double *dwell_edges_s, *hist_A_edges, *hist_obs_edges;
    double *isi_mean_s, *isi_cv, *isi_edges_s;
} mg_stats;
void mg_stats_free(mg_stats *s);

typedef enum { MG_LEVEL_MESO = 0, MG_LEVEL_MICRO = 1 } mg_level;
typedef enum { MG_NOISE_BINOMIAL = 0, MG_NOISE_POISSON = 1, MG_NOISE_DETERMINISTIC = 2 } mg_noise;
typedef enum { MG_BACKEND_AUTO = 0, MG_BACKEND_CPU = 1, MG_BACKEND_CUDA = 2 } mg_backend;
typedef enum { MG_CUDA_KERNEL_AUTO = 0, MG_CUDA_KERNEL_THREAD = 1, MG_CUDA_KERNEL_WARP = 2,
               MG_CUDA_KERNEL_WARP64 = 3 } mg_cuda_kernel;
typedef enum { MG_CONN_PER_REALIZATION = 0, MG_CONN_SHARED = 1 } mg_connectivity;
typedef struct {
    int64_t realizations_done, realizations_total;
    double sim_s_done, wall_s;
} mg_progress;
typedef void (*mg_progress_fn)(const mg_progress *p, void *user);
typedef struct {
    mg_level level;
    mg_noise noise;
    mg_backend backend;
    double dt_ms, t_sim_ms, t_warmup_ms, record_bin_ms, stats_bin_ms;
    int64_t realization_first, realization_count;
    int64_t shard_index, shard_count, realizations_total;
    int64_t record_realizations;
    uint32_t seed;
    int threads;
    int64_t batch;
    mg_connectivity connectivity;
    double psd_df_hz, psd_bin_ms;
    int onesided;
    char switch_observable[256];
    double switch_smooth_ms;
    double switch_lo, switch_hi;
    int stats_basic;
    double hist_max_hz;
    int hist_bins;
    int theory;
    const char *checkpoint_path;
    double checkpoint_every_s;
    const char *resume_path;
    const char *output_path;
    mg_progress_fn progress;
    void *progress_user;
    int *cancel;
    mg_cuda_kernel cuda_kernel;
} mg_run_opts;
void mg_run_opts_default(mg_run_opts *o);
typedef struct { char name[192]; double value; } mg_resolved;
typedef struct {
    int64_t n;
    double *t_ms;
    uint64_t *node_id;
    int64_t n_neurons;
} mg_spikes;
typedef struct {
    mg_run_opts opts;
    int P;
    char (*pop_names)[64];
    const char *backend_name;
    char device[128];
    int n_resolved;
    mg_resolved *resolved;
    int64_t trace_k, trace_T;
    double trace_bin_ms;
    float *A_N;
    float *A_bar;
    mg_spikes *spikes;
    mg_stats stats;
    double wall_s;
    double mem_bytes_per_realization;
    double device_bytes;
    int partial;
    char partial_reason[1024];
    char *run_key;
    char run_hash[17];
} mg_result;
int mg_run(const mg_model *m, const mg_run_opts *opts, mg_result *res, mg_err *err);
int mg_run_estimate(const mg_model *m, const mg_run_opts *opts, double *per_realization,
                    double *total, mg_err *err);
void mg_result_free(mg_result *res);
int mg_cuda_available(char *name, int len);

int mg_h5_write_result(const char *path, const mg_result *res, const mg_model *m,
                       const char *command_line, int force, mg_err *err);
int mg_h5_read_stats(const char *path, mg_stats *s, mg_err *err);

int mg_parse_duration_ms(const char *text, double *ms);
int mg_parse_frequency_hz(const char *text, double *hz);

typedef struct { double re, im; } mg_cplx;
typedef struct mg_renewal_priv mg_renewal_priv;
typedef struct {
    double h0_mV, A0_hz, mean_isi_ms, cv, gain_hz_per_mV, t_ref_ms, hazard_inf_hz;
    int adapting;
    int n;
    double *tau_ms, *survival, *hazard_hz, *isi_density_hz;
    mg_renewal_priv *priv;
} mg_renewal;
int mg_theory_stationary_pop(const mg_pop *p, double h0_mV, mg_renewal *out, mg_err *err);
void mg_renewal_free(mg_renewal *r);
void mg_theory_mu(const mg_model *m, double t_ms, double *mu_mV);
void mg_theory_coupling(const mg_model *m, double *w_mV_per_hz);
typedef struct {
    double A_hz[64], h_mV[64], gain_hz_per_mV[64], cv[64];
    double static_eig_re, static_eig_im;
    int static_stable, n_unstable, stable;
} mg_fixed_point;
typedef struct {
    int P, n;
    mg_fixed_point *fp;
    int complete;
} mg_fixed_points;
int mg_theory_fixed_points_at(const mg_model *m, double rate_max_hz, double t_ms,
                              mg_fixed_points *out, mg_err *err);
void mg_fixed_points_free(mg_fixed_points *fps);
int mg_theory_spectrum_at(const mg_model *m, double t_ms, const double *rates_hz,
                          const double *freq_hz, int F, double *S_out, mg_err *err);

/* GSL, a dependency of the library (found through its handle): the distributions that
 * `mesogif compare` uses */
double gsl_cdf_tdist_Q(double x, double nu);
double gsl_cdf_ugaussian_Qinv(double Q);
"""

ffi = FFI()
ffi.cdef(CDEF)

SONAME = "libmesogif.so.0"


def _candidates():
    env = os.environ.get("MESOGIF_LIBRARY")
    if env:
        yield env
        return
    try:
        from . import _libpath  # written by `make install`

        yield _libpath.LIBRARY
    except ImportError:
        pass
    tree = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "build", SONAME)
    if os.path.exists(tree):
        yield os.path.normpath(tree)
    yield SONAME


def _load():
    errors = []
    for path in _candidates():
        try:
            return ffi.dlopen(path), path
        except OSError as e:
            errors.append(f"{path}: {e}")
    raise ImportError("mesogif: cannot load libmesogif (" + "; ".join(errors) +
                      "); build it with `make` and set MESOGIF_LIBRARY as `make python` prints")


lib, LIBRARY_PATH = _load()


def err_msg(err) -> str:
    """The message of an mg_err."""
    return ffi.string(err.msg).decode("utf-8", "replace")


def cstr(s) -> str:
    return ffi.string(s).decode("utf-8", "replace")
