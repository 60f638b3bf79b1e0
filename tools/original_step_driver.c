/* tools/original_step_driver.c: a driver for the authors' own implementation of the model
 * (github schwalger/mesopopdyn_gif: glm_popdyn_1.1.c, mesoscopic; glm_netw_sim_0.8.c,
 * microscopic), used only by tests/validate/original_code.sh to compare mesogif with it. It is
 * built outside this repository against a clone of that code (nothing of it is copied here):
 *     cc -DORIG_SOURCE='"CLONE/glm_popdyn_1.1.c"' -DORIG_MESO tools/original_step_driver.c ...
 * One uncoupled population of NEST's E/I example (MODEL.md 3(b): N = 800, tau_m 20 ms,
 * t_ref 4 ms, mu 24 mV, u_th 15 mV, u_r 0, Delta_u 2.5 mV, c 10 Hz, adaptation kernels
 * J_theta = 1 mV s at 100 ms and 1 s) with a step of the input at t_step, dt = 0.5 ms, in the
 * GLIF mode of that code. Prints, to stderr, one line per 20 ms bin: start (s), the mean of A
 * over the trials (Hz) and its standard error.
 * Usage: driver TRIALS T_SIM_S T_STEP_S STEP_MV */
#include ORIG_SOURCE

#define BIN_S 0.02

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: %s TRIALS T_SIM_S T_STEP_S STEP_MV\n", argv[0]);
        return 2;
    }
    const int trials = atoi(argv[1]);
    const double t_sim = atof(argv[2]), t_step = atof(argv[3]), step_mV = atof(argv[4]);
    DT = 0.0005; /* the original code's globals: time step and recording bin, one step each */
    DTBIN = DT;
    const int n_steps = (int)(t_sim / DT + 0.5), per_bin = (int)(BIN_S / DT + 0.5);
    const int n_bins = n_steps / per_bin;
    /* its parameter list, one population: seconds, mV, Hz */
    double t_ref[1] = {0.004}, tau_m[1] = {0.02}, mu[1] = {24.0}, c[1] = {10.0};
    double delta_u[1] = {2.5}, delay[1] = {0.001}, u_th[1] = {15.0}, u_r[1] = {0.0};
    double zero[1][1] = {{0.0}}, one[1][1] = {{1.0}}, J_ref[1] = {0.0}, sigma[1] = {0.0};
    int N[1] = {800}, n_theta[1] = {2};
    double J_theta[2] = {1.0, 1.0}, tau_theta[2] = {0.1, 1.0};
    double *J_theta_p[1] = {J_theta}, *tau_theta_p[1] = {tau_theta};
    double **input = dmatrix(1, n_steps), **A = dmatrix(1, n_steps);
    for (int k = 0; k < n_steps; ++k) /* mV, added to mu; indexed by recording bin = step */
        input[0][k] = k * DT >= t_step - 1e-12 ? step_mV : 0.0;
    double *s1 = calloc((size_t)n_bins, sizeof(double)), *s2 = calloc((size_t)n_bins, sizeof(double));
#ifdef ORIG_MESO
    double **rate = dmatrix(1, n_steps);
#endif
    for (int r = 0; r < trials; ++r) {
#ifdef ORIG_MESO
        get_trajectory_with_fullparameterlist(A, rate, n_steps, 1, t_ref, tau_m, zero, zero, zero,
                                              zero, one, zero, mu, c, delta_u, delay, u_th, u_r,
                                              N, zero, zero, input, n_theta, J_ref, J_theta_p,
                                              tau_theta_p, sigma, DT, DTBIN, GLIF, 1000 + r);
#else
        get_trajectory_with_fullparameterlist(A, n_steps, 1, t_ref, tau_m, zero, zero, zero, zero,
                                              one, zero, mu, c, delta_u, delay, u_th, u_r, N,
                                              zero, zero, input, n_theta, J_ref, J_theta_p,
                                              tau_theta_p, sigma, DT, DTBIN, GLIF, 5000 + r,
                                              5000 + r);
#endif
        for (int b = 0; b < n_bins; ++b) {
            double a = 0.0;
            for (int l = 0; l < per_bin; ++l)
                a += A[0][b * per_bin + l];
            a /= per_bin;
            s1[b] += a;
            s2[b] += a * a;
        }
    }
    for (int b = 0; b < n_bins; ++b) {
        const double m = s1[b] / trials;
        const double var = (s2[b] / trials - m * m) * trials / (trials - 1.0);
        fprintf(stderr, "%.3f %.6f %.6f\n", b * BIN_S, m, sqrt(var > 0 ? var / trials : 0.0));
    }
    return 0;
}
