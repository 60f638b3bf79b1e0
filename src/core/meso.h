/* src/core/meso.h: one time step of the mesoscopic population equations, for a block of
 * realizations side by side (MG_VL lanes: SIMD lanes on the host, one CUDA thread on the device).
 *
 * Algorithm: T. Schwalger, M. Deger, W. Gerstner, "Towards a theory of cortical columns: From
 * spiking neurons to interacting neural populations of finite size", PLoS Comput Biol 13(4):
 * e1005507 (2017), the UpdatePopulation procedure (their Fig. 12), in the canonical variant of
 * MODEL.md §2.2-2.5: cohort ring of K bins, refractory cohorts l > K-R-1, threshold kernel
 * theta(m dt) at age m, quasi-renewal threshold as an exclusive prefix sum over older cohorts,
 * trapezoidal hazard with the linear branch for q <= 0.01, finite-size correction P_Lambda, and an
 * exact binomial (or Poisson, or no) draw of the spike count. The comments "step n" refer to the
 * numbered steps of MODEL.md §2.4.
 *
 * Memory: the state of a realization is `rows` doubles (layout in mg_meso_pop), stored as a
 * row-major matrix state[row][lane] with leading dimension ld (lanes of the allocation), so that
 * lane j of row k is st.base[k * ld + j]. The host passes a block of MG_VL lanes with ld = MG_VL;
 * a CUDA thread passes base + r with ld = batch size (coalesced across the warp).
 *
 * Called by: src/backend_cpu.c (mg_cpu_* ) and kernels/backend_cuda.cu; derived by src/meso_derive.c. */
#ifndef MESOGIF_CORE_MESO_H
#define MESOGIF_CORE_MESO_H

#include "core/hd.h"
#include "core/input.h" /* mg_input_at */
#include "core/fmath.h"  /* mg_exp */
#include "core/rng.h"    /* mg_rng, MG_STREAM_MESO_COUNT */
#include "core/binom.h"  /* mg_binom, mg_poisson_count */

#define MG_MESO_SFA_MAX 8

/* Noise modes, as mg_noise in include/mesogif/run.h. */
#define MG_MESO_BINOMIAL 0
#define MG_MESO_POISSON 1
#define MG_MESO_DETERMINISTIC 2

/* Exponent cap of the hazard: c * exp(700) is finite, so the trapezoid never adds two
 * infinities; the firing probability is 1 to double precision long before (MODEL.md §2.7). */
#define MG_MESO_EXP_CAP 700.0

/* Derived constants of one population (MODEL.md §2.2), and where its state lives. */
typedef struct {
    double N;            /* neurons (as double) */
    double inv_N;        /* 1/N */
    double dt_s;         /* time step (s) */
    double inv_N_dt;     /* 1/(N dt): spike count -> activity (Hz) */
    double E_m;          /* exp(-dt/tau_m) */
    double mu_drive;     /* mu (1 - E_m) (mV): constant drive per step */
    double one_m_E_m;    /* 1 - E_m */
    double u_th;         /* V_T_star (mV) */
    double u_r;          /* V_reset (mV) */
    double c_hz;         /* lambda_0 (Hz) */
    double inv_Delta;    /* 1/Delta_V (1/mV) */
    double half_dt;      /* dt/2 (s), trapezoid weight */
    double theta_tilde0; /* theta_tilde of the oldest cohort (l = 0), for step 4 */
    int K;               /* cohorts in the history window */
    int R;               /* refractory steps, round(t_ref/dt) */
    int n_sfa;           /* adaptation kernels */
    int H;               /* depth of the spike-count history ring (max delay in steps) */
    double Q[MG_MESO_SFA_MAX];      /* exp(-dt/tau_sfa) */
    double Qtail[MG_MESO_SFA_MAX];  /* J_theta exp(-K dt / tau_sfa) (mV s): free-pool threshold */
    int64_t theta_off;   /* offset of theta[K] and theta_tilde[K] in mg_meso_model.kernels */
    /* state rows (see file comment); each array below starts at this row */
    int row_n, row_m, row_v, row_u, row_lam;   /* [K] each, by ring slot */
    int row_x, row_z, row_h, row_lamf, row_psi; /* scalars */
    int row_g;                                  /* [n_sfa] free-pool adaptation traces (Hz) */
    int row_y;                                  /* [P] filtered presynaptic activity y_{alpha,beta} (Hz) */
    int row_hist;                               /* [H] past spike counts, slot t mod H */
    int64_t N_int;       /* neurons (integer) */
} mg_meso_pop;

/* The whole derived model, passed by value to kernels (all pointers on the side that runs). */
typedef struct {
    int P;
    int rows;                   /* doubles of state per realization */
    int noise;                  /* MG_MESO_BINOMIAL, ... */
    uint32_t seed;
    const mg_meso_pop *pop;     /* [P] */
    const double *kernels;      /* theta and theta_tilde tables: pop[a].theta_off -> [2][K] */
    const double *pair_w;       /* [P][P] w_{a,b} = J p N_b tau_m (mV s); 0 = no projection */
    const double *pair_Es;      /* [P][P] exp(-dt/tau_s) (0 for tau_s = 0) */
    const double *pair_F;       /* [P][P] synaptic propagator F of MODEL.md §2.2 (dimensionless) */
    const int *pair_D;          /* [P][P] delay in steps (>= 1) */
    const int *inp_first;       /* [P] first entry of population p in the input tables */
    const int *inp_count;       /* [P] entries of population p */
    const int64_t *inp_step;    /* [*] step from which the value holds (ascending per population) */
    const double *inp_mV;       /* [*] extra input I_ext (mV) from that step on */
} mg_meso_model;

/* A block of lanes: lane j of state row k is base[k * ld + j]. */
typedef struct {
    double *base;
    int64_t ld;
} mg_lanes;

#define MG_AT(st, row, j) ((st).base[(int64_t)(row) * (st).ld + (j)])

/* External input (mV) of population p during step t: the piecewise-constant step current of
 * the model, converted with R = tau_m/C_m. Binary search; same for every lane. */
static inline MG_HD double mg_meso_input(const mg_meso_model *mm, int p, int64_t t)
{
    return mg_input_at(mm->inp_step, mm->inp_mV, mm->inp_first[p], mm->inp_count[p], t);
}

/* Initial state (MODEL.md §2.3): every neuron fired in the step before t = 0. */
static inline MG_HD void mg_meso_init(const mg_meso_model *mm, mg_lanes st)
{
    for (int a = 0; a < mm->P; ++a) {
        const mg_meso_pop *pp = &mm->pop[a];
        for (int k = 0; k < pp->K; ++k) {
            int newest = k == pp->K - 1;
            for (int j = 0; j < MG_VL; ++j) {
                MG_AT(st, pp->row_n + k, j) = newest ? pp->N : 0.0;
                MG_AT(st, pp->row_m + k, j) = newest ? pp->N : 0.0;
                MG_AT(st, pp->row_v + k, j) = 0.0;
                MG_AT(st, pp->row_u + k, j) = pp->u_r;
                MG_AT(st, pp->row_lam + k, j) = 0.0;
            }
        }
        for (int j = 0; j < MG_VL; ++j) {
            MG_AT(st, pp->row_x, j) = 0.0;
            MG_AT(st, pp->row_z, j) = 0.0;
            /* the free pool starts at the drive's resting value (S1's choice; empty anyway) */
            MG_AT(st, pp->row_h, j) = pp->mu_drive / pp->one_m_E_m;
            MG_AT(st, pp->row_lamf, j) = 0.0;
            MG_AT(st, pp->row_psi, j) = 0.0;
        }
        for (int r = 0; r < pp->n_sfa; ++r)
            for (int j = 0; j < MG_VL; ++j)
                MG_AT(st, pp->row_g + r, j) = 0.0;
        for (int b = 0; b < mm->P; ++b)
            for (int j = 0; j < MG_VL; ++j)
                MG_AT(st, pp->row_y + b, j) = 0.0;
        /* history: the count of step -1 (slot H-1) is N, older ones 0 */
        for (int k = 0; k < pp->H; ++k)
            for (int j = 0; j < MG_VL; ++j)
                MG_AT(st, pp->row_hist + k, j) = k == pp->H - 1 ? pp->N : 0.0;
    }
}

/* Phase I (MODEL.md §2.4): synaptic input of every population from the delayed counts, and the
 * per-step drive Psi (mV) stored in row_psi. Must run for all populations before Phase II. */
static inline MG_HD void mg_meso_inputs(const mg_meso_model *mm, mg_lanes st, int64_t t)
{
    const int P = mm->P;
    for (int a = 0; a < P; ++a) {
        const mg_meso_pop *pa = &mm->pop[a];
        double drive = pa->mu_drive + mg_meso_input(mm, a, t) * pa->one_m_E_m;
        for (int j = 0; j < MG_VL; ++j)
            MG_AT(st, pa->row_psi, j) = drive;
        for (int b = 0; b < P; ++b) {
            double w = mm->pair_w[a * P + b];
            if (w == 0.0)
                continue;
            const mg_meso_pop *pb = &mm->pop[b];
            double Es = mm->pair_Es[a * P + b], F = mm->pair_F[a * P + b];
            int64_t back = t - mm->pair_D[a * P + b];         /* >= -H */
            int slot = (int)(((back % pb->H) + pb->H) % pb->H);
            MG_SIMD
            for (int j = 0; j < MG_VL; ++j) {
                double A = MG_AT(st, pb->row_hist + slot, j) * pb->inv_N_dt;
                double y = MG_AT(st, pa->row_y + b, j);
                MG_AT(st, pa->row_psi, j) += w * (A * pa->one_m_E_m + (y - A) * F);
                MG_AT(st, pa->row_y + b, j) = A + (y - A) * Es;
            }
        }
    }
}

/* Step 5 for one cohort and lane, first half: advance its potential u by one step and return
 * its firing probability over the step (trapezoidal hazard; P = q for q <= 0.01 as NEST and
 * S1 v1.0, else 1 - exp(-q)); lam becomes the hazard at the end of the step. Both exps are
 * always evaluated so that the host lane loop stays branch-free. */
static inline MG_HD double mg_meso_cohort_P(double *u, double *lam, double th_eff, double Psi,
                                            double E_m, double inv_Delta, double c, double hdt)
{
    double un = *u * E_m + Psi;
    *u = un;
    /* hazard exponent in [-700, 700]: below, the hazard is < 1e-300 Hz and adds nothing to
     * any sum; above, P = 1 to double precision; in between mg_exp_mid is exact mg_exp */
    double arg = (un - th_eff) * inv_Delta;
    arg = arg > MG_MESO_EXP_CAP ? MG_MESO_EXP_CAP : arg;
    arg = arg < -MG_MESO_EXP_CAP ? -MG_MESO_EXP_CAP : arg;
    double lam_new = c * mg_exp_mid(arg);
    double q = (*lam + lam_new) * hdt;
    *lam = lam_new;
    double mq = q > 708.0 ? -708.0 : -q; /* q >= 0; beyond 708, 1 - e^-708 is 1 exactly */
    double e = mg_exp_mid(mq);
    return mg_select(q <= 0.01, q, 1.0 - e);
}

/* Step 5, second half: the cohort's survivors m and their variance v under firing probability
 * P, and its contributions to X (old m), W, Y, Z. */
static inline MG_HD void mg_meso_cohort_survive(double *m, double *v, double P, double *X,
                                                double *W, double *Y, double *Z)
{
    double m_old = *m, v_old = *v;
    *X += m_old;
    *W += P * m_old;
    *Y += P * v_old;
    *Z += v_old;
    double keep = 1.0 - P;
    *v = keep * keep * v_old + P * m_old;
    *m = keep * m_old;
}

/* Phase II, prologue (steps 1, 2 and 4 of MODEL.md §2.4) for population a: the free pool's
 * threshold and firing probability Pf, the drive Psi of the step, and Th, the quasi-renewal
 * threshold seen by the oldest cohort. Shared by the host's cohort loop (mg_meso_expect) and the
 * CUDA backend's warp-per-realization loop (kernels/backend_cuda.cu). */
static inline MG_HD void mg_meso_expect_begin(const mg_meso_model *mm, int a, mg_lanes st,
                                              int64_t t, double *MG_RESTRICT Th,
                                              double *MG_RESTRICT Pf, double *MG_RESTRICT Psi)
{
    const mg_meso_pop *pp = &mm->pop[a];
    const int k0 = (int)(t % pp->K); /* slot of the oldest cohort (ring pointer) */
    const double E_m = pp->E_m, c = pp->c_hz, inv_Delta = pp->inv_Delta, hdt = pp->half_dt;
    MG_SIMD
    for (int j = 0; j < MG_VL; ++j) {
        double A_leave = MG_AT(st, pp->row_n + k0, j) * pp->inv_N_dt;
        /* step 1: free-pool threshold from the adaptation traces of cohorts older than K */
        double th_free = pp->u_th;
        for (int r = 0; r < pp->n_sfa; ++r) {
            double g = MG_AT(st, pp->row_g + r, j) * pp->Q[r] + (1.0 - pp->Q[r]) * A_leave;
            MG_AT(st, pp->row_g + r, j) = g;
            th_free += pp->Qtail[r] * g;
        }
        /* step 2: free neurons */
        Psi[j] = MG_AT(st, pp->row_psi, j);
        double h = MG_AT(st, pp->row_h, j) * E_m + Psi[j];
        MG_AT(st, pp->row_h, j) = h;
        double arg = (h - th_free) * inv_Delta;
        arg = arg > MG_MESO_EXP_CAP ? MG_MESO_EXP_CAP : arg;
        double lam_new = c * mg_exp(arg);
        Pf[j] = 1.0 - mg_exp(-(MG_AT(st, pp->row_lamf, j) + lam_new) * hdt);
        MG_AT(st, pp->row_lamf, j) = lam_new;
        /* step 4: the oldest cohort's own spikes are in the free pool's trace; take them out */
        Th[j] = th_free - pp->theta_tilde0 * MG_AT(st, pp->row_n + k0, j) * pp->inv_N;
    }
}

/* Phase II, epilogue (steps 6, 7 and 9): from the cohort sums X (survivors, refractory ones
 * included), W (expected spikes), Y (P-weighted variance), Z (variance), the expected count
 * nbar; the oldest cohort (already advanced by step 5) joins the free pool. */
static inline MG_HD void mg_meso_expect_end(const mg_meso_model *mm, int a, mg_lanes st,
                                            int64_t t, const double *MG_RESTRICT X,
                                            const double *MG_RESTRICT W,
                                            const double *MG_RESTRICT Y,
                                            const double *MG_RESTRICT Z,
                                            const double *MG_RESTRICT Pf,
                                            double *MG_RESTRICT nbar)
{
    const mg_meso_pop *pp = &mm->pop[a];
    const int k0 = (int)(t % pp->K);
    const double N = pp->N;
    MG_SIMD
    for (int j = 0; j < MG_VL; ++j) {
        double x = MG_AT(st, pp->row_x, j), z = MG_AT(st, pp->row_z, j);
        /* step 6: firing probability of the neurons the cohorts do not account for */
        double denom = Z[j] + z;
        double P_Lambda = denom > 0.0 ? (Y[j] + Pf[j] * z) / denom : 0.0;
        /* step 7 */
        nbar[j] = W[j] + Pf[j] * x + P_Lambda * (N - X[j] - x);
        /* step 9: the oldest cohort (updated in step 5) joins the free pool */
        double keep = 1.0 - Pf[j];
        MG_AT(st, pp->row_z, j) = keep * keep * z + Pf[j] * x + MG_AT(st, pp->row_v + k0, j);
        MG_AT(st, pp->row_x, j) = keep * x + MG_AT(st, pp->row_m + k0, j);
    }
}

/* Phase II for population a (steps 1-7 of MODEL.md §2.4): advance the cohorts and the free pool
 * by one step and return the expected count n_bar in nbar[j]. Leaves the draw to the caller.
 * Step 5 adds the cohorts one after another, oldest first: the sums Th, X, W, Y, Z depend on
 * that order to the last bit, and the CUDA backend keeps it (kernels/backend_cuda.cu). */
static inline MG_HD void mg_meso_expect(const mg_meso_model *mm, int a, mg_lanes st, int64_t t,
                                        double *MG_RESTRICT nbar)
{
    const mg_meso_pop *pp = &mm->pop[a];
    const int K = pp->K;
    const int k0 = (int)(t % K);      /* slot of the oldest cohort (ring pointer) */
    const int n_active = K - pp->R;   /* cohorts l = 0 .. K-R-1 may fire */
    const double *theta = mm->kernels + pp->theta_off;
    const double *theta_tilde = theta + K;
    /* read once: the compiler cannot prove that state stores leave *pp alone, and a load of
     * pp->x inside the lane loop would stop it from vectorizing */
    const double E_m = pp->E_m, c = pp->c_hz, inv_Delta = pp->inv_Delta, hdt = pp->half_dt;
    const double inv_N = pp->inv_N;

    double Th[MG_VL], W[MG_VL], Y[MG_VL], Z[MG_VL], X[MG_VL], Pf[MG_VL], Psi[MG_VL];
    mg_meso_expect_begin(mm, a, st, t, Th, Pf, Psi);
    MG_SIMD
    for (int j = 0; j < MG_VL; ++j)
        W[j] = Y[j] = Z[j] = X[j] = 0.0;
    /* step 5 over the active cohorts, oldest first. Two cohorts per pass: their exp chains are
     * independent, which doubles the work in flight (the loop is latency-bound otherwise);
     * the accumulators still add cohort l before cohort l+1, so the sums are the same bits as
     * a one-at-a-time loop. */
    int l = 0;
    for (; l + 1 < n_active; l += 2) {
        int s0 = k0 + l, s1 = k0 + l + 1;
        s0 = s0 >= K ? s0 - K : s0;
        s1 = s1 >= K ? s1 - K : s1;
        const double th0 = theta[l], tt0 = theta_tilde[l];
        const double th1 = theta[l + 1], tt1 = theta_tilde[l + 1];
        MG_SIMD
        for (int j = 0; j < MG_VL; ++j) {
            double th_eff0 = th0 + Th[j];
            double Th1 = Th[j] + tt0 * MG_AT(st, pp->row_n + s0, j) * inv_N;
            double th_eff1 = th1 + Th1;
            Th[j] = Th1 + tt1 * MG_AT(st, pp->row_n + s1, j) * inv_N;
            double P0 = mg_meso_cohort_P(&MG_AT(st, pp->row_u + s0, j),
                                         &MG_AT(st, pp->row_lam + s0, j), th_eff0, Psi[j], E_m,
                                         inv_Delta, c, hdt);
            double P1 = mg_meso_cohort_P(&MG_AT(st, pp->row_u + s1, j),
                                         &MG_AT(st, pp->row_lam + s1, j), th_eff1, Psi[j], E_m,
                                         inv_Delta, c, hdt);
            mg_meso_cohort_survive(&MG_AT(st, pp->row_m + s0, j), &MG_AT(st, pp->row_v + s0, j),
                                   P0, &X[j], &W[j], &Y[j], &Z[j]);
            mg_meso_cohort_survive(&MG_AT(st, pp->row_m + s1, j), &MG_AT(st, pp->row_v + s1, j),
                                   P1, &X[j], &W[j], &Y[j], &Z[j]);
        }
    }
    for (; l < n_active; ++l) {
        int s0 = k0 + l;
        s0 = s0 >= K ? s0 - K : s0;
        const double th0 = theta[l], tt0 = theta_tilde[l];
        MG_SIMD
        for (int j = 0; j < MG_VL; ++j) {
            double th_eff0 = th0 + Th[j];
            Th[j] += tt0 * MG_AT(st, pp->row_n + s0, j) * inv_N;
            double P0 = mg_meso_cohort_P(&MG_AT(st, pp->row_u + s0, j),
                                         &MG_AT(st, pp->row_lam + s0, j), th_eff0, Psi[j], E_m,
                                         inv_Delta, c, hdt);
            mg_meso_cohort_survive(&MG_AT(st, pp->row_m + s0, j), &MG_AT(st, pp->row_v + s0, j),
                                   P0, &X[j], &W[j], &Y[j], &Z[j]);
        }
    }
    /* step 3, refractory cohorts: their survivors count in X but cannot fire */
    for (; l < K; ++l) {
        int s = k0 + l;
        s = s >= K ? s - K : s;
        const double *MG_RESTRICT m_s = &MG_AT(st, pp->row_m + s, 0);
        MG_SIMD
        for (int j = 0; j < MG_VL; ++j)
            X[j] += m_s[j];
    }
    mg_meso_expect_end(mm, a, st, t, X, W, Y, Z, Pf, nbar);
}

/* Step 8: draw the count of population a, realization `realization`, step t from n_bar
 * (clamped to [0, N], MODEL.md §2.5 and pitfall 10). Pure in its arguments. */
static inline MG_HD double mg_meso_draw(const mg_meso_model *mm, int a, int64_t t,
                                        uint32_t realization, double nbar)
{
    const mg_meso_pop *pp = &mm->pop[a];
    double nb = nbar < 0.0 ? 0.0 : (nbar > pp->N ? pp->N : nbar); /* NaN stays NaN */
    if (mm->noise == MG_MESO_DETERMINISTIC)
        return nb;
    mg_rng g;
    mg_rng_init(&g, mm->seed, MG_STREAM_MESO_COUNT, realization, (uint32_t)a, (uint32_t)t);
    if (mm->noise == MG_MESO_POISSON) /* NEST semantics: n_bar > N gives N exactly */
        return (double)mg_poisson_count(&g, nbar, pp->N_int);
    return (double)mg_binom(&g, pp->N_int, nb * pp->inv_N);
}

/* Steps 10-11: the new cohort of population a enters slot k0; the count enters the history. */
static inline MG_HD void mg_meso_commit(const mg_meso_model *mm, int a, mg_lanes st, int64_t t,
                                        const double *MG_RESTRICT n)
{
    const mg_meso_pop *pp = &mm->pop[a];
    const int k0 = (int)(t % pp->K);
    const int hs = (int)(t % pp->H);
    MG_SIMD
    for (int j = 0; j < MG_VL; ++j) {
        MG_AT(st, pp->row_n + k0, j) = n[j];
        MG_AT(st, pp->row_m + k0, j) = n[j];
        MG_AT(st, pp->row_v + k0, j) = 0.0;
        MG_AT(st, pp->row_u + k0, j) = pp->u_r;
        MG_AT(st, pp->row_lam + k0, j) = 0.0;
        MG_AT(st, pp->row_hist + hs, j) = n[j];
    }
}

/* One full step of every population for the MG_VL lanes whose realization indices are
 * real0 + j. Writes the counts n[a * MG_VL + j] and expectations nbar[a * MG_VL + j].
 * This is the function both backends call. */
static inline MG_HD void mg_meso_step(const mg_meso_model *mm, mg_lanes st, int64_t t,
                                      uint32_t real0, double *MG_RESTRICT n,
                                      double *MG_RESTRICT nbar)
{
    mg_meso_inputs(mm, st, t);
    for (int a = 0; a < mm->P; ++a) {
        mg_meso_expect(mm, a, st, t, nbar + a * MG_VL);
        for (int j = 0; j < MG_VL; ++j)
            n[a * MG_VL + j] = mg_meso_draw(mm, a, t, real0 + (uint32_t)j, nbar[a * MG_VL + j]);
        mg_meso_commit(mm, a, st, t, n + a * MG_VL);
    }
}

#endif /* MESOGIF_CORE_MESO_H */
