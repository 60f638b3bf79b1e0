/* src/core/meso.h: one time step of the mesoscopic population equations for one realization.
 *
 * Algorithm: T. Schwalger, M. Deger, W. Gerstner, "Towards a theory of cortical columns: From
 * spiking neurons to interacting neural populations of finite size", PLoS Comput Biol 13(4):
 * e1005507 (2017), the UpdatePopulation procedure (their Fig. 12), in the canonical variant of
 * MODEL.md §2.2-2.5: cohort ring of K bins, refractory cohorts l > K-R-1, threshold kernel
 * theta(m dt) at age m, quasi-renewal threshold as an exclusive prefix sum over older cohorts,
 * trapezoidal hazard with the linear branch for q <= 0.01, finite-size correction P_Lambda, and an
 * exact binomial (or Poisson, or no) draw of the spike count. The comments "step n" refer to the
 * numbered steps of MODEL.md §2.4. The sums over cohorts follow one fixed order, defined below
 * ("the canonical order of the sums over cohorts"): tiles of 8 cohorts with no serial chain
 * inside a tile, so the host vectorizes across the cohorts of one realization (AVX-512 or AVX2)
 * and a CUDA warp across its lanes, and both compute the same bits.
 *
 * Memory: the state of a realization is `rows` doubles (layout in mg_meso_pop), addressed as
 * lane 0 of an mg_lanes view (src/core/lanes.h): row k at base[k * ld]. The host runs each
 * realization with ld = 1; a CUDA thread with base + r and ld = batch size (coalesced across the
 * warp); the CUDA warp kernel with ld = 1.
 *
 * Called by: src/engine/backend_cpu.c and kernels/backend_cuda.cu; derived by src/meso_derive.c. */
#ifndef MESOGIF_CORE_MESO_H
#define MESOGIF_CORE_MESO_H

#include "core/hd.h"
#include "core/lanes.h" /* mg_lanes, MG_AT, mg_lane */
#include "core/input.h" /* mg_input_at */
#include "core/stim_ou.h" /* the OU current independent per realization */
#include "core/fmath.h"  /* mg_exp */
#include "core/rng.h"    /* mg_rng, MG_STREAM_MESO_COUNT */
#include "core/binom.h"  /* mg_binom, mg_poisson_count */

#define MG_MESO_SFA_MAX 8
#define MG_MESO_POP_MAX 64 /* = MG_POP_MAX of include/mesogif/model.h (checked in meso_derive.c) */

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
    int row_ou;          /* [1] deviation of the independent OU current, or -1 when none */
    mg_stim_ou ou;       /* that current (src/core/stim_ou.h), when row_ou >= 0 */
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

/* External input (mV) of population p during step t: the piecewise-constant step current of
 * the model, converted with R = tau_m/C_m. Binary search; same for every lane. */
static inline MG_HD double mg_meso_input(const mg_meso_model *mm, int p, int64_t t)
{
    return mg_input_at(mm->inp_step, mm->inp_mV, mm->inp_first[p], mm->inp_count[p], t);
}


/* ---- one realization ------------------------------------------------------------------------
 * Every function below advances ONE realization: lane 0 of st, its rows strided by st.ld. The
 * host calls them with ld = 1 (a realization's rows contiguous, so the cohort tiles below are
 * vector loads); a CUDA thread with ld = batch size; a CUDA warp with ld = 1. */

/* Initial state (MODEL.md §2.3): every neuron fired in the step before t = 0. */
static inline MG_HD void mg_meso_init1(const mg_meso_model *mm, mg_lanes st)
{
    for (int a = 0; a < mm->P; ++a) {
        const mg_meso_pop *pp = &mm->pop[a];
        for (int k = 0; k < pp->K; ++k) {
            int newest = k == pp->K - 1;
            MG_AT(st, pp->row_n + k, 0) = newest ? pp->N : 0.0;
            MG_AT(st, pp->row_m + k, 0) = newest ? pp->N : 0.0;
            MG_AT(st, pp->row_v + k, 0) = 0.0;
            MG_AT(st, pp->row_u + k, 0) = pp->u_r;
            MG_AT(st, pp->row_lam + k, 0) = 0.0;
        }
        MG_AT(st, pp->row_x, 0) = 0.0;
        MG_AT(st, pp->row_z, 0) = 0.0;
        /* the free pool starts at the drive's resting value (S1's choice; empty anyway) */
        MG_AT(st, pp->row_h, 0) = pp->mu_drive / pp->one_m_E_m;
        MG_AT(st, pp->row_lamf, 0) = 0.0;
        MG_AT(st, pp->row_psi, 0) = 0.0;
        for (int r = 0; r < pp->n_sfa; ++r)
            MG_AT(st, pp->row_g + r, 0) = 0.0;
        for (int b = 0; b < mm->P; ++b)
            MG_AT(st, pp->row_y + b, 0) = 0.0;
        /* history: the count of step -1 (slot H-1) is N, older ones 0 */
        for (int k = 0; k < pp->H; ++k)
            MG_AT(st, pp->row_hist + k, 0) = k == pp->H - 1 ? pp->N : 0.0;
        if (pp->row_ou >= 0)
            MG_AT(st, pp->row_ou, 0) = 0.0;
    }
}

/* External input (mV) of population a during step t in realization `realization`: the tables'
 * value, plus the independent OU current when the population has one (advancing its row). */
static inline MG_HD double mg_meso_input1(const mg_meso_model *mm, int a, mg_lanes st, int64_t t,
                                          uint32_t realization)
{
    const mg_meso_pop *pa = &mm->pop[a];
    double I = mg_meso_input(mm, a, t);
    if (pa->row_ou >= 0)
        I += mg_stim_ou_step(&pa->ou, mm->seed, realization, a, t, &MG_AT(st, pa->row_ou, 0));
    return I;
}

/* Phase I (MODEL.md §2.4): synaptic input of every population from the delayed counts, and the
 * per-step drive Psi (mV) stored in row_psi. Must run for all populations before Phase II. */
static inline MG_HD void mg_meso_inputs1(const mg_meso_model *mm, mg_lanes st, int64_t t,
                                         uint32_t realization)
{
    const int P = mm->P;
    for (int a = 0; a < P; ++a) {
        const mg_meso_pop *pa = &mm->pop[a];
        double psi = pa->mu_drive + mg_meso_input1(mm, a, st, t, realization) * pa->one_m_E_m;
        for (int b = 0; b < P; ++b) {
            double w = mm->pair_w[a * P + b];
            if (w == 0.0)
                continue;
            const mg_meso_pop *pb = &mm->pop[b];
            double Es = mm->pair_Es[a * P + b], F = mm->pair_F[a * P + b];
            int64_t back = t - mm->pair_D[a * P + b];         /* >= -H */
            int slot = (int)(((back % pb->H) + pb->H) % pb->H);
            double A = MG_AT(st, pb->row_hist + slot, 0) * pb->inv_N_dt;
            double y = MG_AT(st, pa->row_y + b, 0);
            psi += w * (A * pa->one_m_E_m + (y - A) * F);
            MG_AT(st, pa->row_y + b, 0) = A + (y - A) * Es;
        }
        MG_AT(st, pa->row_psi, 0) = psi;
    }
}

/* Step 5 for one cohort, first half: advance its potential u by one step and return its firing
 * probability over the step (trapezoidal hazard; P = q for q <= 0.01 as NEST and S1 v1.0, else
 * 1 - exp(-q)); lam becomes the hazard at the end of the step. The tile form, the CUDA group
 * kernel and (vectorized, loop by loop) the host's pass form compute exactly this. */
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

/* Step 5 for one cohort, second half: the cohort's survivors m and their variance v under firing
 * probability P, and its terms of X (old m), W, Y, Z added to the given sums. */
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
 * threshold seen by the oldest cohort. */
static inline MG_HD void mg_meso_expect_begin(const mg_meso_model *mm, int a, mg_lanes st,
                                              int64_t t, double *Th, double *Pf, double *Psi)
{
    const mg_meso_pop *pp = &mm->pop[a];
    const int k0 = (int)(t % pp->K); /* slot of the oldest cohort (ring pointer) */
    double A_leave = MG_AT(st, pp->row_n + k0, 0) * pp->inv_N_dt;
    /* step 1: free-pool threshold from the adaptation traces of cohorts older than K */
    double th_free = pp->u_th;
    for (int r = 0; r < pp->n_sfa; ++r) {
        double g = MG_AT(st, pp->row_g + r, 0) * pp->Q[r] + (1.0 - pp->Q[r]) * A_leave;
        MG_AT(st, pp->row_g + r, 0) = g;
        th_free += pp->Qtail[r] * g;
    }
    /* step 2: free neurons */
    *Psi = MG_AT(st, pp->row_psi, 0);
    double h = MG_AT(st, pp->row_h, 0) * pp->E_m + *Psi;
    MG_AT(st, pp->row_h, 0) = h;
    double arg = (h - th_free) * pp->inv_Delta;
    arg = arg > MG_MESO_EXP_CAP ? MG_MESO_EXP_CAP : arg;
    double lam_new = pp->c_hz * mg_exp(arg);
    *Pf = 1.0 - mg_exp(-(MG_AT(st, pp->row_lamf, 0) + lam_new) * pp->half_dt);
    MG_AT(st, pp->row_lamf, 0) = lam_new;
    /* step 4: the oldest cohort's own spikes are in the free pool's trace; take them out */
    *Th = th_free - pp->theta_tilde0 * MG_AT(st, pp->row_n + k0, 0) * pp->inv_N;
}

/* ---- the canonical order of the sums over cohorts -------------------------------------------
 * Step 5 sums over cohorts: the quasi-renewal threshold Th (a prefix sum in age order) and X,
 * W, Y, Z. Floating-point sums depend on their order to the last bit, so the order is part of
 * the model's definition here; every backend computes exactly this one (fixed forever: a change
 * changes the last bits of every result). Why this order: it lets a vector unit (8 doubles of
 * AVX-512) and a group of 8 CUDA lanes (shuffles) each take 8 cohorts at once with no serial
 * chain inside the group, so one realization alone is as fast as many, on both sides.
 *
 *  - Cohorts l = 0 (oldest) .. K-1 fall into tiles of MG_TILE = 8 consecutive ages:
 *    tile i = [8i, 8i + 8). Lane j of a tile is cohort 8i + j.
 *  - X, W, Y, Z: eight partial sums p_0..p_7, starting at +0; p_j adds the terms of cohorts
 *    l = j, j + 8, j + 16, ... in increasing l (X over all K cohorts, W, Y, Z over the active
 *    ones l < K - R; missing lanes add nothing). The total is the pairwise tree
 *    ((p0 + p1) + (p2 + p3)) + ((p4 + p5) + (p6 + p7)) (mg_meso_tree8).
 *  - Th: with c_j = theta_tilde_l n_l / N the terms of tile i (0 for missing lanes), cohort l
 *    sees Th_i + e_j, where e is the exclusive prefix sum of c in Hillis-Steele order
 *    (mg_meso_scan8: e = (0, c0, .., c6), then e_j += e_{j-1}, e_j += e_{j-2}, e_j += e_{j-4}
 *    for the lanes that have that neighbour, each round from the previous round's values),
 *    and Th_{i+1} = Th_i + (e_7 + c_7); Th_0 is the step-4 value. The cohort's threshold is
 *    theta_l + (Th_i + e_j).
 * All terms of X, W, Y, Z are >= +0, so "adds nothing" and "adds +0" are the same bits. */
#define MG_TILE 8

/* Sum of eight partial sums in the canonical tree. */
static inline MG_HD double mg_meso_tree8(const double *p)
{
    return ((p[0] + p[1]) + (p[2] + p[3])) + ((p[4] + p[5]) + (p[6] + p[7]));
}

/* Exclusive prefix sums e[j] = c[0] + .. + c[j-1] of a tile in the canonical (Hillis-Steele)
 * order; returns the tile's total e[7] + c[7]. */
static MG_FORCE_INLINE double mg_meso_scan8(const double *c, double *e)
{
    double a[MG_TILE], b[MG_TILE];
    a[0] = 0.0;
    for (int j = 1; j < MG_TILE; ++j)
        a[j] = c[j - 1];
    b[0] = a[0];
    for (int j = 1; j < MG_TILE; ++j)
        b[j] = a[j] + a[j - 1];
    a[0] = b[0];
    a[1] = b[1];
    for (int j = 2; j < MG_TILE; ++j)
        a[j] = b[j] + b[j - 2];
    for (int j = 0; j < 4; ++j)
        e[j] = a[j];
    for (int j = 4; j < MG_TILE; ++j)
        e[j] = a[j] + a[j - 4];
    return e[7] + c[7];
}

/* Constants of step 5 for one population, read once (a load of pp->x inside a lane loop would
 * keep the host compiler from vectorizing it: it cannot prove state stores leave *pp alone). */
typedef struct {
    double E_m, c, inv_Delta, hdt, inv_N, Psi;
} mg_meso_tile_k;

static inline MG_HD mg_meso_tile_k mg_meso_tile_consts(const mg_meso_pop *pp, double Psi)
{
    mg_meso_tile_k k;
    k.E_m = pp->E_m;
    k.c = pp->c_hz;
    k.inv_Delta = pp->inv_Delta;
    k.hdt = pp->half_dt;
    k.inv_N = pp->inv_N;
    k.Psi = Psi;
    return k;
}

/* Step 5 for one tile: cohorts l0 + j, j < 8, in ring slots s0 + j (mod K) of the rows u, lam,
 * m, v, n (element s at [s * cs]). Lanes j < na are active (may fire); lanes na <= j < nx are
 * refractory (counted in X only); lanes j >= nx do not exist. theta, tt: the kernel tables at
 * l0 (read only for active lanes). Th: the running threshold of the canonical order, advanced
 * past the tile; pX..pZ: the eight partial sums. One cohort after another, so that a CUDA
 * thread needs few registers; the host's fast path is the pass form below. */
static MG_FORCE_INLINE void mg_meso_tile(const mg_meso_tile_k *k, const double *theta,
                                         const double *tt, double *u, double *lam, double *m,
                                         double *v, const double *n, int s0, int K, int64_t cs,
                                         int na, int nx, double *Th, double *pX, double *pW,
                                         double *pY, double *pZ)
{
    double c[MG_TILE], e[MG_TILE];
    for (int j = 0; j < MG_TILE; ++j) {
        int s = s0 + j >= K ? s0 + j - K : s0 + j;
        c[j] = j < na ? tt[j] * n[s * cs] * k->inv_N : 0.0;
    }
    const double total = mg_meso_scan8(c, e);
    const double Th0 = *Th;
    for (int j = 0; j < nx; ++j) { /* lane j adds to partial sum j only */
        const int64_t o = (int64_t)(s0 + j >= K ? s0 + j - K : s0 + j) * cs;
        if (j < na) {
            double P = mg_meso_cohort_P(&u[o], &lam[o], theta[j] + (Th0 + e[j]), k->Psi,
                                        k->E_m, k->inv_Delta, k->c, k->hdt);
            mg_meso_cohort_survive(&m[o], &v[o], P, &pX[j], &pW[j], &pY[j], &pZ[j]);
        } else { /* refractory */
            pX[j] += m[o];
        }
    }
    *Th = Th0 + total;
}

/* Step 5 (with step 3) of population a in the canonical order: advance every active cohort and
 * return the sums X, W, Y, Z. cs: the stride of the state's rows (st.ld; a literal 1 on the
 * host, so that the tiles are vector loads). */
static MG_FORCE_INLINE void mg_meso_cohorts(const mg_meso_model *mm, int a, mg_lanes st,
                                            int64_t t, int64_t cs, double Th, double Psi,
                                            double *X, double *W, double *Y, double *Z)
{
    const mg_meso_pop *pp = &mm->pop[a];
    const int K = pp->K;
    const int k0 = (int)(t % K);    /* slot of the oldest cohort (ring pointer) */
    const int n_active = K - pp->R; /* cohorts l = 0 .. K-R-1 may fire */
    const double *theta = mm->kernels + pp->theta_off;
    const double *theta_tilde = theta + K;
    const mg_meso_tile_k k = mg_meso_tile_consts(pp, Psi);
    double *u = st.base + (int64_t)pp->row_u * cs, *lam = st.base + (int64_t)pp->row_lam * cs;
    double *m = st.base + (int64_t)pp->row_m * cs, *v = st.base + (int64_t)pp->row_v * cs;
    const double *n = st.base + (int64_t)pp->row_n * cs;
    double pX[MG_TILE], pW[MG_TILE], pY[MG_TILE], pZ[MG_TILE];
    for (int j = 0; j < MG_TILE; ++j)
        pX[j] = pW[j] = pY[j] = pZ[j] = 0.0;
    int l0 = 0;
    for (; l0 < n_active; l0 += MG_TILE) {
        const int s0 = k0 + l0 >= K ? k0 + l0 - K : k0 + l0;
        const int na = n_active - l0 < MG_TILE ? n_active - l0 : MG_TILE;
        const int nx = K - l0 < MG_TILE ? K - l0 : MG_TILE;
        mg_meso_tile(&k, theta + l0, theta_tilde + l0, u, lam, m, v, n, s0, K, cs, na, nx, &Th,
                     pX, pW, pY, pZ);
    }
    /* step 3: the refractory cohorts' survivors count in X (tiles past the active ones) */
    for (; l0 < K; l0 += MG_TILE) {
        int s0 = k0 + l0;
        s0 = s0 >= K ? s0 - K : s0;
        const int nx = K - l0 < MG_TILE ? K - l0 : MG_TILE;
        for (int j = 0; j < nx; ++j) {
            int s = s0 + j;
            s = s >= K ? s - K : s;
            pX[j] += m[(int64_t)s * cs];
        }
    }
    *X = mg_meso_tree8(pX);
    *W = mg_meso_tree8(pW);
    *Y = mg_meso_tree8(pY);
    *Z = mg_meso_tree8(pZ);
}

#if !defined(__CUDA_ARCH__)
/* ---- step 5 on the host: whole-population passes ---------------------------------------------
 * The same canonical order as mg_meso_cohorts, computed in three passes over the population
 * instead of tile by tile, so that the expensive per-cohort work (two exps) is one long loop with
 * no dependence between iterations, which the host vectorizes at full width and pipelines:
 *   0. the threshold of every active cohort, tile by tile (the prefix sum; skipped when the
 *      population has no adaptation: then every theta_l and theta_tilde_l is +0, and every
 *      cohort's threshold is Th itself, bit for bit);
 *   1. every active cohort's hazard, firing probability and survivors, in ring order, writing
 *      its terms of X, W, Y, Z to scratch by age l;
 *   2. the eight partial sums over the terms by age, and their tree.
 * tests/test_meso_order.c checks that it gives mg_meso_cohorts' bits. */

/* The host form's loops are long and branch-free: on AVX-512 machines use the full vector width
 * there (gcc's default preference is 256 bits); elsewhere this changes nothing. Results do not
 * depend on it (the same IEEE operations per element). */
#if defined(__AVX512F__) && defined(__GNUC__) && !defined(__clang__)
#  define MG_HOST_WIDE __attribute__((target("prefer-vector-width=512")))
#else
#  define MG_HOST_WIDE
#endif
/* gcc turns pass 1's copy of the old survivors (tX[i] = m[i]) into a call of memmove, a second
 * walk over the block; keep it in the loop. */
#if defined(__GNUC__) && !defined(__clang__)
#  define MG_HOST_NO_MEMCPY __attribute__((optimize("no-tree-loop-distribute-patterns")))
#else
#  define MG_HOST_NO_MEMCPY
#endif

/* Ages per block of the host form's passes: a block's state (5 rows) and scratch (5 arrays)
 * take 80 B per age, 20 KB for 256, within the L1 data cache of current x86 cores. */
#define MG_MESO_BLOCK 256

/* Doubles of scratch the host form needs (5 arrays of one block). */
static inline int64_t mg_meso_scratch_doubles(const mg_meso_model *mm)
{
    (void)mm;
    return 5 * MG_MESO_BLOCK;
}

/* Pass 1 over nc cohorts whose state starts at u, lam, m, v (contiguous) and whose thresholds
 * and terms start at th, tX..tZ (by age). uniform: every threshold is th0 (th unused). In three
 * loops: hazards and q (q parked in tW), firing probabilities P (in tW; the exp of 1 - e^-q only
 * for chunks of 8 where some q > 0.01 or is NaN: the same bits, since the select would discard
 * it, and most cohorts of a quiet population skip it), survivors and terms. */
static MG_HOST_WIDE MG_FORCE_INLINE void mg_meso_pass1(const mg_meso_tile_k *k, int uniform,
                                                       double th0, const double *MG_RESTRICT th,
                                                       double *MG_RESTRICT u,
                                                       double *MG_RESTRICT lam,
                                                       double *MG_RESTRICT m,
                                                       double *MG_RESTRICT v,
                                                       double *MG_RESTRICT tX,
                                                       double *MG_RESTRICT tW,
                                                       double *MG_RESTRICT tY,
                                                       double *MG_RESTRICT tZ, int nc)
{
    const double E_m = k->E_m, Psi = k->Psi, inv_Delta = k->inv_Delta, c = k->c, hdt = k->hdt;
    MG_SIMD
    for (int i = 0; i < nc; ++i) {
        double th_eff = uniform ? th0 : th[i];
        double un = u[i] * E_m + Psi;
        double arg = (un - th_eff) * inv_Delta;
        arg = arg > MG_MESO_EXP_CAP ? MG_MESO_EXP_CAP : arg;
        arg = arg < -MG_MESO_EXP_CAP ? -MG_MESO_EXP_CAP : arg;
        double ln = c * mg_exp_mid(arg);
        tW[i] = (lam[i] + ln) * hdt;
        u[i] = un;
        lam[i] = ln;
    }
    /* a chunk needs the exp when some q > 0.01 or is NaN: as bit patterns (q >= 0, and a NaN's
     * pattern is above every finite one), when the largest pattern is above 0.01's */
    const uint64_t small = mg_bits_of(0.01);
    for (int i0 = 0; i0 < nc; i0 += MG_TILE) {
        const int cnt = nc - i0 < MG_TILE ? nc - i0 : MG_TILE;
        double *q = tW + i0;
        uint64_t top = 0;
        if (cnt == MG_TILE) {
            MG_SIMD_MAXU(top)
            for (int j = 0; j < MG_TILE; ++j) {
                uint64_t b = mg_bits_of(q[j]);
                top = b > top ? b : top;
            }
        } else {
            for (int j = 0; j < cnt; ++j) {
                uint64_t b = mg_bits_of(q[j]);
                top = b > top ? b : top;
            }
        }
        if (top <= small)
            continue; /* P = q */
        MG_SIMD
        for (int j = 0; j < cnt; ++j) {
            double mq = q[j] > 708.0 ? -708.0 : -q[j];
            q[j] = mg_select(q[j] <= 0.01, q[j], 1.0 - mg_exp_mid(mq));
        }
    }
    MG_SIMD
    for (int i = 0; i < nc; ++i) {
        double p = tW[i], mo = m[i], vo = v[i];
        tX[i] = mo;
        tW[i] = p * mo;
        tY[i] = p * vo;
        tZ[i] = vo;
        double keep = 1.0 - p;
        v[i] = keep * keep * vo + p * mo;
        m[i] = keep * mo;
    }
}

/* One tile of pass 0, in place: c (8 terms) becomes the cohorts' thresholds theta_l + (Th +
 * e_l); returns Th advanced past the tile. With GCC's vector extensions the scan is three
 * shifts and adds of one vector: a shift fills with +0 where the scalar scan keeps the lane's
 * value, which is the same bits there (those lanes hold +0 or a sum that is not -0; see
 * mg_meso_scan8's rounds). Elsewhere mg_meso_scan8 itself. */
#if defined(__GNUC__) && !defined(__clang__)
typedef double mg_v8d __attribute__((vector_size(64)));
typedef long long mg_v8i __attribute__((vector_size(64)));
static MG_HOST_WIDE MG_FORCE_INLINE double mg_meso_scan8_tile(double *c, const double *theta,
                                                              double Th)
{
    mg_v8d cv, tv, z = {0};
    memcpy(&cv, c, sizeof cv);
    memcpy(&tv, theta, sizeof tv);
    mg_v8d a = __builtin_shuffle(cv, z, (mg_v8i){8, 0, 1, 2, 3, 4, 5, 6});
    a = a + __builtin_shuffle(a, z, (mg_v8i){8, 0, 1, 2, 3, 4, 5, 6});
    a = a + __builtin_shuffle(a, z, (mg_v8i){8, 9, 0, 1, 2, 3, 4, 5});
    a = a + __builtin_shuffle(a, z, (mg_v8i){8, 9, 10, 11, 0, 1, 2, 3});
    const double total = a[7] + cv[7];
    mg_v8d out = tv + (Th + a);
    memcpy(c, &out, sizeof out);
    return Th + total;
}
#else
static MG_FORCE_INLINE double mg_meso_scan8_tile(double *c, const double *theta, double Th)
{
    double e[MG_TILE];
    double total = mg_meso_scan8(c, e);
    for (int j = 0; j < MG_TILE; ++j)
        c[j] = theta[j] + (Th + e[j]);
    return Th + total;
}
#endif

/* Step 5 (with step 3) of population a on the host: the bits of mg_meso_cohorts, for a
 * realization whose rows are contiguous (st.ld == 1). scratch: mg_meso_scratch_doubles(mm). */
static MG_HOST_WIDE MG_HOST_NO_MEMCPY void mg_meso_cohorts_host(const mg_meso_model *mm, int a, mg_lanes st, int64_t t,
                                        double Th, double Psi, double *MG_RESTRICT scratch,
                                        double *X, double *W, double *Y, double *Z)
{
    const mg_meso_pop *pp = &mm->pop[a];
    const int K = pp->K;
    const int k0 = (int)(t % K);
    const int n_active = K - pp->R;
    const int Kp = (K + MG_TILE - 1) / MG_TILE * MG_TILE;
    const double *theta = mm->kernels + pp->theta_off;
    const double *theta_tilde = theta + K;
    const mg_meso_tile_k k = mg_meso_tile_consts(pp, Psi);
    double *u = st.base + pp->row_u, *lam = st.base + pp->row_lam;
    double *m = st.base + pp->row_m, *v = st.base + pp->row_v;
    const double *n = st.base + pp->row_n;
    const int B = MG_MESO_BLOCK;
    double *th = scratch, *tX = th + B, *tW = tX + B, *tY = tW + B, *tZ = tY + B;
    const int uniform = pp->n_sfa == 0;
    const double inv_N = k.inv_N;
    double pX[MG_TILE], pW[MG_TILE], pY[MG_TILE], pZ[MG_TILE];
    for (int j = 0; j < MG_TILE; ++j)
        pX[j] = pW[j] = pY[j] = pZ[j] = 0.0;
    /* the passes run block by block of B ages (B a multiple of 8, so tiles and partial sums
     * line up), so that a block's state and scratch stay in the L1 cache however long K is */
    for (int L0 = 0; L0 < Kp; L0 += B) {
        const int L1 = L0 + B < Kp ? L0 + B : Kp;
        const int na = (n_active < L1 ? n_active : L1) - L0; /* active ages in the block */
        /* slots of the block's ages: a run from s0, then (after the wrap) from slot 0 */
        const int s0 = k0 + L0 >= K ? k0 + L0 - K : k0 + L0;
        const int run = na > 0 ? (K - s0 < na ? K - s0 : na) : 0;
        if (na > 0 && !uniform) {
            /* pass 0: c_l = theta_tilde_l n_l / N (zero past the active cohorts, to the end of
             * their tile), then tile by tile the prefix sums, in place */
            MG_SIMD
            for (int i = 0; i < run; ++i)
                th[i] = theta_tilde[L0 + i] * n[s0 + i] * inv_N;
            MG_SIMD
            for (int i = run; i < na; ++i)
                th[i] = theta_tilde[L0 + i] * n[i - run] * inv_N;
            const int na8 = (na + MG_TILE - 1) / MG_TILE * MG_TILE;
            for (int i = na; i < na8; ++i)
                th[i] = 0.0;
            for (int i0 = 0; i0 < na; i0 += MG_TILE) {
                const int l0 = L0 + i0;
                if (l0 + MG_TILE <= K) { /* theta[l0 .. l0 + 7] exist (past n_active: unused) */
                    Th = mg_meso_scan8_tile(th + i0, theta + l0, Th);
                    continue;
                }
                double e[MG_TILE];
                double total = mg_meso_scan8(th + i0, e);
                for (int j = 0; j < MG_TILE; ++j)
                    th[i0 + j] = (l0 + j < n_active ? theta[l0 + j] : 0.0) + (Th + e[j]);
                Th = Th + total;
            }
        }
        /* pass 1: the block's active cohorts in ring order */
        if (na > 0) {
            if (uniform) { /* a literal, so that the loop has no select per cohort */
                mg_meso_pass1(&k, 1, Th, th, u + s0, lam + s0, m + s0, v + s0, tX, tW, tY, tZ,
                              run);
                if (run < na)
                    mg_meso_pass1(&k, 1, Th, th + run, u, lam, m, v, tX + run, tW + run,
                                  tY + run, tZ + run, na - run);
            } else {
                mg_meso_pass1(&k, 0, Th, th, u + s0, lam + s0, m + s0, v + s0, tX, tW, tY, tZ,
                              run);
                if (run < na)
                    mg_meso_pass1(&k, 0, Th, th + run, u, lam, m, v, tX + run, tW + run,
                                  tY + run, tZ + run, na - run);
            }
        }
        /* step 3: the refractory cohorts count in X only; ages past K add nothing */
        for (int i = na > 0 ? na : 0; i < L1 - L0; ++i) {
            const int l = L0 + i;
            int s = k0 + l;
            s = s >= K ? s - K : s;
            tX[i] = l < K ? m[s] : 0.0;
            tW[i] = tY[i] = tZ[i] = 0.0;
        }
        /* pass 2: the eight partial sums by age */
        for (int i0 = 0; i0 < L1 - L0; i0 += MG_TILE) {
            MG_SIMD
            for (int j = 0; j < MG_TILE; ++j) {
                pX[j] += tX[i0 + j];
                pW[j] += tW[i0 + j];
                pY[j] += tY[i0 + j];
                pZ[j] += tZ[i0 + j];
            }
        }
    }
    *X = mg_meso_tree8(pX);
    *W = mg_meso_tree8(pW);
    *Y = mg_meso_tree8(pY);
    *Z = mg_meso_tree8(pZ);
}
#endif /* !__CUDA_ARCH__ */

/* Phase II, epilogue (steps 6, 7 and 9): from the cohort sums X (survivors, refractory ones
 * included), W (expected spikes), Y (P-weighted variance), Z (variance), the expected count
 * nbar; the oldest cohort (already advanced by step 5) joins the free pool. */
static inline MG_HD double mg_meso_expect_end(const mg_meso_model *mm, int a, mg_lanes st,
                                              int64_t t, double X, double W, double Y, double Z,
                                              double Pf)
{
    const mg_meso_pop *pp = &mm->pop[a];
    const int k0 = (int)(t % pp->K);
    double x = MG_AT(st, pp->row_x, 0), z = MG_AT(st, pp->row_z, 0);
    /* step 6: firing probability of the neurons the cohorts do not account for */
    double denom = Z + z;
    double P_Lambda = denom > 0.0 ? (Y + Pf * z) / denom : 0.0;
    /* step 7 */
    double nbar = W + Pf * x + P_Lambda * (pp->N - X - x);
    /* step 9: the oldest cohort (updated in step 5) joins the free pool */
    double keep = 1.0 - Pf;
    MG_AT(st, pp->row_z, 0) = keep * keep * z + Pf * x + MG_AT(st, pp->row_v + k0, 0);
    MG_AT(st, pp->row_x, 0) = keep * x + MG_AT(st, pp->row_m + k0, 0);
    return nbar;
}

/* Phase II for population a (steps 1-7 and 9 of MODEL.md §2.4): advance the cohorts and the
 * free pool by one step and return the expected count n_bar. Leaves the draw to the caller.
 * scratch: NULL (tile by tile, any layout: the device, the host's lane blocks) or, on the host
 * with st.ld == 1, mg_meso_scratch_doubles(mm) doubles for the faster pass form. Same bits. */
static inline MG_HD double mg_meso_expect(const mg_meso_model *mm, int a, mg_lanes st, int64_t t,
                                          double *scratch)
{
    double Th, Pf, Psi, X, W, Y, Z;
    mg_meso_expect_begin(mm, a, st, t, &Th, &Pf, &Psi);
#if !defined(__CUDA_ARCH__)
    if (scratch && st.ld == 1)
        mg_meso_cohorts_host(mm, a, st, t, Th, Psi, scratch, &X, &W, &Y, &Z);
    else if (st.ld == 1) /* a literal stride */
        mg_meso_cohorts(mm, a, st, t, 1, Th, Psi, &X, &W, &Y, &Z);
    else
#endif
        mg_meso_cohorts(mm, a, st, t, st.ld, Th, Psi, &X, &W, &Y, &Z);
    return mg_meso_expect_end(mm, a, st, t, X, W, Y, Z, Pf);
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
                                        double n)
{
    const mg_meso_pop *pp = &mm->pop[a];
    const int k0 = (int)(t % pp->K);
    const int hs = (int)(t % pp->H);
    MG_AT(st, pp->row_n + k0, 0) = n;
    MG_AT(st, pp->row_m + k0, 0) = n;
    MG_AT(st, pp->row_v + k0, 0) = 0.0;
    MG_AT(st, pp->row_u + k0, 0) = pp->u_r;
    MG_AT(st, pp->row_lam + k0, 0) = 0.0;
    MG_AT(st, pp->row_hist + hs, 0) = n;
}

/* One full step of every population of one realization (index `realization`): the counts n[a]
 * and expectations nbar[a]. The function every backend calls, directly or through the lane
 * blocks below. scratch: as mg_meso_expect (NULL, or the host's pass-form scratch). */
static inline MG_HD void mg_meso_step1(const mg_meso_model *mm, mg_lanes st, int64_t t,
                                       uint32_t realization, double *MG_RESTRICT n,
                                       double *MG_RESTRICT nbar, double *scratch)
{
    mg_meso_inputs1(mm, st, t, realization);
#if !defined(__CUDA_ARCH__)
    /* Populations are independent within Phase II (each reads and writes its own rows only),
     * so the host runs each phase for all of them before the next: the scalar chains of the
     * free pool (two exps) and of the draws (a log, an exp, a search) of different populations
     * then overlap in the out-of-order core instead of waiting one for another. Same bits. */
    if (scratch && st.ld == 1) {
        double Th[MG_MESO_POP_MAX], Pf[MG_MESO_POP_MAX], Psi[MG_MESO_POP_MAX];
        for (int a = 0; a < mm->P; ++a)
            mg_meso_expect_begin(mm, a, st, t, &Th[a], &Pf[a], &Psi[a]);
        for (int a = 0; a < mm->P; ++a) {
            double X, W, Y, Z;
            mg_meso_cohorts_host(mm, a, st, t, Th[a], Psi[a], scratch, &X, &W, &Y, &Z);
            nbar[a] = mg_meso_expect_end(mm, a, st, t, X, W, Y, Z, Pf[a]);
        }
        for (int a = 0; a < mm->P; ++a)
            n[a] = mg_meso_draw(mm, a, t, realization, nbar[a]);
        for (int a = 0; a < mm->P; ++a)
            mg_meso_commit(mm, a, st, t, n[a]);
        return;
    }
#endif
    for (int a = 0; a < mm->P; ++a) {
        nbar[a] = mg_meso_expect(mm, a, st, t, scratch);
        n[a] = mg_meso_draw(mm, a, t, realization, nbar[a]);
        mg_meso_commit(mm, a, st, t, n[a]);
    }
}

/* ---- blocks of MG_VL lanes ------------------------------------------------------------------
 * The lane-block interface of the observer (src/core/observe.h): lane j of st is realization
 * real0 + j; counts and expectations are written to n[a * MG_VL + j], nbar[a * MG_VL + j]. Each
 * lane runs the one-realization step, so a lane's bits do not depend on the layout. (The host
 * backend keeps each realization's dynamics contiguous and calls mg_meso_step1 directly.) */
static inline MG_HD void mg_meso_init(const mg_meso_model *mm, mg_lanes st)
{
    for (int j = 0; j < MG_VL; ++j)
        mg_meso_init1(mm, mg_lane(st, j));
}

static inline MG_HD void mg_meso_step(const mg_meso_model *mm, mg_lanes st, int64_t t,
                                      uint32_t real0, double *MG_RESTRICT n,
                                      double *MG_RESTRICT nbar)
{
#if MG_VL == 1
    mg_meso_step1(mm, st, t, real0, n, nbar, NULL);
#else
    for (int j = 0; j < MG_VL; ++j) {
        double nj[MG_MESO_POP_MAX], nbj[MG_MESO_POP_MAX];
        mg_meso_step1(mm, mg_lane(st, j), t, real0 + (uint32_t)j, nj, nbj, NULL);
        for (int a = 0; a < mm->P; ++a) {
            n[a * MG_VL + j] = nj[a];
            nbar[a * MG_VL + j] = nbj[a];
        }
    }
#endif
}

#endif /* MESOGIF_CORE_MESO_H */
