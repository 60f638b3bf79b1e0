/* src/core/micro.h: one time step of the microscopic GIF network, for a block of realizations
 * side by side (MG_VL lanes: SIMD lanes on the host, one CUDA thread on the device).
 *
 * Model: populations of generalized integrate-and-fire neurons with escape noise, exponential
 * current synapses with delays and spike-triggered threshold adaptation, as simulated by
 * T. Schwalger, M. Deger, W. Gerstner, "Towards a theory of cortical columns: From spiking neurons
 * to interacting neural populations of finite size", PLoS Comput Biol 13(4): e1005507 (2017),
 * in the canonical discrete-time form of MODEL.md §1.3: exact integration of membrane and synaptic
 * current over a step, integer refractory counters (R = round(t_ref/dt) silent steps after the
 * spike step), threshold kernel theta(m dt) at m steps after a spike, delays of D >= 1 whole
 * steps, firing probability P = -expm1(-lambda dt) per step, and the initial condition of §1.5
 * (every neuron fired in step -1). The comments "phase 1/2" and "step 2a-2f" refer to §1.3.
 *
 * Layout. The state of a realization is `rows` doubles in the lane matrix of core/lanes.h
 * (lane j of row k is st.base[k * st.ld + j]), [variable][neuron][lane]:
 *   per population a:   u[N], ref[N], th[n_sfa][N], hist[H], psi[1]
 *   per projection k:   list rule: s[N_target] (per-neuron trace), all-to-all: S[1], gS[1]
 *   per population a:   park[H][N] (a copy of the spike lists, only for checkpoints)
 * u is the potential (mV); ref the last step of the current refractory period (the integer
 * refractory counter in absolute form: the neuron is silent in step t iff t <= ref, so a spike
 * in step s gives ref = s + R); th[r] the adaptation traces (mV); hist[h] the spike count of the
 * step t with t mod H = h (H = the longest delay out of the population); s and S the synaptic
 * traces in spike units (sum over received spikes of exp(-age/tau_s); 1 per arriving spike).
 * Outside the matrix (mg_micro_buf): the indices of the neurons that fired in each of the last H
 * steps (uint32, per lane), and for every projection with an explicit connection list the CSR
 * out-lists of each lane's network.
 *
 * Connectivity (MODEL.md §1.2). All-to-all projections (p = 1, autapses included) use the fast
 * path: every target neuron of population a receives every spike of b, so they all carry the
 * same trace, kept once per lane (S); a step costs O(1) per projection instead of O(N_a N_b).
 * Other projections deliver each spike along the out-list of its neuron (O(spikes x out-degree)).
 * Both add 1.0 per arriving spike to the trace, so a fast-path projection and the explicit list
 * of all pairs give the same bits (tests/test_micro.c checks it).
 *
 * Randomness. One uniform per neuron and step: Philox4x32-10 with key (seed,
 * MG_STREAM_MICRO_SPIKE) and counter (realization, block of 4 neurons, step, 0); the 4 words of
 * the block are the uniforms of the 4 neurons of the block, U = (w + 0.5) 2^-32. (32-bit
 * resolution: the probability that U < P is P rounded to a multiple of 2^-32, a rate error below
 * 2^-33/dt, 2e-7 Hz at dt = 0.5 ms.) Populations start at a new block, so block b of population
 * a is the global block blk0_a + b. The host computes the blocks of 8 lanes at once on 64-bit
 * containers (mg_micro_philox), the device with Random123's code; both are the same function.
 *
 * Firing test, exact but cheap. A neuron fires iff U < P = -expm1(-q), q = lambda dt. Since
 * P <= q <= 1.5 c_dt 2^k, where 2^k is the power of two of exp(arg) (one fma and a shift, no
 * polynomial), the lanes with U above that bound cannot fire; only for the others (about 1.5 P
 * of the neuron-steps) are q and then P computed. The decision is the one the full computation
 * gives, bit for bit.
 *
 * Called by: src/engine/backend_cpu_micro.c (host, 8 lanes: mg_micro_step) and
 * kernels/backend_cuda_micro.cu (a CUDA block per realization: the mg_micro_part_* functions at
 * the end); derived by src/micro_derive.c. */
#ifndef MESOGIF_CORE_MICRO_H
#define MESOGIF_CORE_MICRO_H

#include "core/hd.h"
#include "core/input.h" /* mg_input_at */
#include "core/stim_ou.h" /* the OU current independent per realization */
#include "core/fmath.h" /* mg_exp, mg_exp_mid */
#include "core/rng.h"   /* mg_philox_block, mg_rng, MG_STREAM_MICRO_SPIKE, MG_STREAM_CONNECT */
#include "core/lanes.h" /* mg_lanes, MG_AT */
#include "mesogif/stats.h" /* mg_stats_layout: the record of interspike intervals */

#define MG_MICRO_SFA_MAX 8

/* The neuron loop is instantiated for a few constant input and kernel counts (see
 * mg_micro_neurons); make sure each instance is compiled with its constants. */
#if defined(__CUDACC__)
#  define MG_MICRO_FORCE_INLINE __forceinline__ MG_HD
#else
#  define MG_MICRO_FORCE_INLINE inline __attribute__((always_inline)) MG_HD
#endif

/* Hazard exponent cap (as MG_MESO_EXP_CAP): within [-700, 700] mg_exp_mid is exact mg_exp; at
 * 700 the firing probability is 1 to double precision for any lambda_0 dt > 1e-300. */
#define MG_MICRO_EXP_CAP 700.0

/* Projection kinds. */
#define MG_MICRO_A2A 0   /* all-to-all fast path: one shared trace per lane */
#define MG_MICRO_LIST 1  /* explicit out-lists (fixed in-degree, Bernoulli, or forced lists) */

/* Derived constants of one population, and where its state lives. */
typedef struct {
    int64_t N;           /* neurons */
    int64_t blk0;        /* first Philox block (4 neurons per block) of the population */
    int64_t spk_off;     /* its spike lists start at buf.spk + spk_off * MG_VL: [H][MG_VL][N] */
    double E_m;          /* exp(-dt/tau_m) */
    double one_m_E_m;    /* 1 - E_m */
    double mu_drive;     /* mu (1 - E_m) (mV) */
    double u_r;          /* V_reset (mV) */
    double u_th;         /* V_T_star (mV) */
    double inv_Delta;    /* 1/Delta_V (1/mV) */
    double c_dt;         /* lambda_0 dt: q = c_dt exp((u - theta)/Delta_V) */
    double R;            /* refractory steps round(t_ref/dt), as a double */
    int n_sfa;           /* adaptation kernels */
    int H;               /* slots of the spike history (longest outgoing delay, >= 1) */
    double E_th[MG_MICRO_SFA_MAX];  /* exp(-dt/tau_sfa) */
    double jump[MG_MICRO_SFA_MAX];  /* q_sfa (mV): threshold jump per spike, J_theta/tau_theta */
    int in_first;        /* incoming projections: mm->in[in_first .. in_first + in_count) */
    int in_count;
    int n_list_in;       /* how many of them are explicit lists (0: the all-to-all fast path) */
    int row_u, row_ref, row_th, row_hist, row_psi;
    int row_isi;         /* [NI+2] interval histogram (under, bins, over), then n, s1, s2 */
    int row_park;        /* [H][N] the spike lists as doubles, written only to park a realization
                          * at a checkpoint (src/engine/backend_cpu_micro.c); cold otherwise */
    int row_ou;          /* [1] deviation of the independent OU current, or -1 when none */
    mg_stim_ou ou;       /* that current (src/core/stim_ou.h), when row_ou >= 0 */
} mg_micro_pop;

/* One projection b -> a (source -> target). */
typedef struct {
    int src, tgt;
    int D;               /* delay in steps, >= 1 */
    int kind;            /* MG_MICRO_A2A or MG_MICRO_LIST */
    int conn;            /* list projections: index into buf.csr (conn * MG_VL + lane) */
    double G;            /* mV per unit of trace: J F / tau_s (MODEL.md §1.3 step 2a) */
    double E_s;          /* exp(-dt/tau_s) (0 for tau_s = 0) */
    int row_s;           /* list: s[N_tgt]; all-to-all: S[1] */
    int row_g;           /* all-to-all: gS[1] = G S of this step; list: unused (-1) */
} mg_micro_proj;

/* One incoming input of a population, in source order: the term G' x of the synaptic sum,
 * where x is row `row` + neuron * stride (stride 1: a list trace; stride 0: the all-to-all gS
 * row with G' = 1, E' = 1, so that it reads gS unchanged and writes it back unchanged). */
typedef struct {
    int row;
    int stride;
    double G;
    double E;
} mg_micro_in;

/* The whole derived network, passed by value to kernels (pointers on the side that runs). */
typedef struct {
    int P;
    int n_proj;
    int n_list;                 /* projections with explicit lists */
    int rows;                   /* doubles of state per realization */
    uint32_t seed;
    const mg_micro_pop *pop;    /* [P] */
    const mg_micro_proj *proj;  /* [n_proj] */
    const mg_micro_in *in;      /* grouped by target population, source order inside */
    const int *inp_first;       /* [P] external input tables, as in mg_meso_model */
    const int *inp_count;
    const int64_t *inp_step;
    const double *inp_mV;
    /* interspike intervals (MODEL.md §5, S2's get_isih): counted for spikes at steps >= isi_t0
     * (the warm-up) whose previous spike was a real one (not the initial condition) */
    int isi_bins;
    double isi_bin_s;           /* histogram bin (s) */
    double dt_s;
    double isi_t0;              /* first counted step, as a double */
} mg_micro_model;

/* Out-lists of one projection in one lane: the targets of source neuron q are
 * tgt[off[q] .. off[q+1]), ascending. */
typedef struct {
    const int64_t *off;         /* [N_src + 1] */
    const uint32_t *tgt;
} mg_micro_csr;

/* Per-block buffers outside the lane matrix. */
typedef struct {
    uint32_t *spk;              /* spike lists, see mg_micro_pop.spk_off */
    const mg_micro_csr *csr;    /* [n_list][MG_VL] */
} mg_micro_buf;

/* The spike list of population pp, history slot h, lane j (capacity N). */
static inline MG_HD uint32_t *mg_micro_spikes(const mg_micro_buf *buf, const mg_micro_pop *pp,
                                              int h, int j)
{
    return buf->spk + (pp->spk_off + (int64_t)h * pp->N) * MG_VL + (int64_t)j * pp->N;
}

/* External input (mV) of population p during step t (as mg_meso_input). */
static inline MG_HD double mg_micro_input(const mg_micro_model *mm, int p, int64_t t)
{
    return mg_input_at(mm->inp_step, mm->inp_mV, mm->inp_first[p], mm->inp_count[p], t);
}

/* Firing probability over a step at hazard integral q = lambda dt >= 0: -expm1(-q) (MODEL.md
 * §1.3 step 2e), accurate for small q: Taylor series to q^8 for q < 0.01 (truncation below
 * 1e-21 relative), 1 - exp(-q) above (relative error < 1e-14). Pure. */
static inline MG_HD double mg_micro_pfire(double q)
{
    if (q < 0.01)
        return q * (1.0 - q / 2.0 * (1.0 - q / 3.0 * (1.0 - q / 4.0 * (1.0 - q / 5.0 *
               (1.0 - q / 6.0 * (1.0 - q / 7.0 * (1.0 - q / 8.0)))))));
    return 1.0 - mg_exp(-q);
}

/* Philox4x32-10 (Salmon et al., SC'11) written on 64-bit containers, for the host's lane loops:
 * a 32-bit word lives in the low half of a uint64_t, and a 32x32 -> 64 product is one
 * vpmuludq across 8 lanes (Random123's generic code, vectorized by gcc, shuffles 32-bit halves
 * instead and costs about twice as much). Only the low halves are meaningful: the multiplies
 * read only the low halves and the high halves of the outputs are discarded. The same function
 * as mg_philox_block (core/rng.h), word for word; tests/test_micro.c checks it. ks0/ks1: the key
 * schedule, ks[r] = key + r W (mod 2^32), from mg_micro_philox_keys. */
static inline MG_HD void mg_micro_philox_keys(uint32_t seed, uint32_t stream, uint64_t ks0[10],
                                              uint64_t ks1[10])
{
    uint32_t k0 = seed, k1 = stream;
    for (int r = 0; r < 10; ++r) {
        ks0[r] = k0;
        ks1[r] = k1;
        k0 += 0x9E3779B9u;
        k1 += 0xBB67AE85u;
    }
}

#define MG_MICRO_PHILOX_ROUND(r)                                                               \
    do {                                                                                       \
        uint64_t p0_ = (x0 & 0xffffffffu) * 0xD2511F53u;                                       \
        uint64_t p1_ = (x2 & 0xffffffffu) * 0xCD9E8D57u;                                       \
        x0 = (p1_ >> 32) ^ x1 ^ ks0[r];                                                        \
        x1 = p1_;                                                                              \
        x2 = (p0_ >> 32) ^ x3 ^ ks1[r];                                                        \
        x3 = p0_;                                                                              \
    } while (0)

/* The 10 rounds on the counter words x0..x3 (uint64_t variables in scope, with ks0, ks1). */
#define MG_MICRO_PHILOX10()                                                                    \
    do {                                                                                       \
        MG_MICRO_PHILOX_ROUND(0);                                                              \
        MG_MICRO_PHILOX_ROUND(1);                                                              \
        MG_MICRO_PHILOX_ROUND(2);                                                              \
        MG_MICRO_PHILOX_ROUND(3);                                                              \
        MG_MICRO_PHILOX_ROUND(4);                                                              \
        MG_MICRO_PHILOX_ROUND(5);                                                              \
        MG_MICRO_PHILOX_ROUND(6);                                                              \
        MG_MICRO_PHILOX_ROUND(7);                                                              \
        MG_MICRO_PHILOX_ROUND(8);                                                              \
        MG_MICRO_PHILOX_ROUND(9);                                                              \
    } while (0)

/* One block, scalar (tests compare it with mg_philox_block). */
static inline MG_HD void mg_micro_philox(const uint64_t *MG_RESTRICT ks0,
                                         const uint64_t *MG_RESTRICT ks1, uint32_t c0,
                                         uint32_t c1, uint32_t c2, uint32_t c3, uint32_t out[4])
{
    uint64_t x0 = c0, x1 = c1, x2 = c2, x3 = c3;
    MG_MICRO_PHILOX10();
    out[0] = (uint32_t)x0;
    out[1] = (uint32_t)x1;
    out[2] = (uint32_t)x2;
    out[3] = (uint32_t)x3;
}

/* Uniform integer in [0, s), s >= 1, from g, exactly uniform: D. Lemire, "Fast random integer
 * generation in an interval", ACM Trans. Model. Comput. Simul. 29(1), 3 (2019) (multiply, and
 * reject the few low products that would bias the result). */
static inline MG_HD uint32_t mg_micro_below(mg_rng *g, uint32_t s)
{
    uint64_t m = (uint64_t)mg_rng_u32(g) * s;
    uint32_t l = (uint32_t)m;
    if (l < s) {
        uint32_t thr = (uint32_t)(0u - s) % s; /* 2^32 mod s */
        while (l < thr) {
            m = (uint64_t)mg_rng_u32(g) * s;
            l = (uint32_t)m;
        }
    }
    return (uint32_t)(m >> 32);
}

/* Connectivity counters (stream MG_STREAM_CONNECT): per-realization networks use counter
 * (realization, projection, target neuron, draw); a network shared by the ensemble uses
 * (0, MG_MICRO_SHARED | projection, target neuron, draw), which no realization's counter
 * reaches (projection indices are < 2^31). */
#define MG_MICRO_SHARED 0x80000000u

/* Fixed in-degree without replacement (MODEL.md §1.2, S2's construct_random_connectivity):
 * the C distinct presynaptic partners of target neuron `post` among N_src, written to out[C]
 * (in draw order). Floyd's algorithm (J. Bentley with R. Floyd, "Programming pearls: a sample
 * of brilliance", Commun. ACM 30(9): 754-757, 1987): C bounded draws, whatever C/N_src is.
 * mark is a zeroed bitmap of N_src bits; it is zero again on return. c0, c1: counter words
 * (see MG_MICRO_SHARED). */
static inline MG_HD void mg_micro_draw_indegree(uint32_t seed, uint32_t c0, uint32_t c1,
                                                uint32_t post, uint32_t N_src, uint32_t C,
                                                uint32_t *out, uint64_t *mark)
{
    mg_rng g;
    mg_rng_init(&g, seed, MG_STREAM_CONNECT, c0, c1, post);
    for (uint32_t k = 0; k < C; ++k) {
        uint32_t jj = N_src - C + k;
        uint32_t x = mg_micro_below(&g, jj + 1);
        if (mark[x >> 6] >> (x & 63) & 1u) /* x taken: jj is free (all draws so far are < jj) */
            x = jj;
        mark[x >> 6] |= (uint64_t)1 << (x & 63);
        out[k] = x;
    }
    for (uint32_t k = 0; k < C; ++k)
        mark[out[k] >> 6] = 0;
}

/* Pairwise Bernoulli: source neuron k connects to `post` iff its 32-bit word is below thr
 * (thr = round(p 2^32), so the probability is p to 2^-33). Writes the partners in ascending
 * order to out (capacity N_src) and returns their number. */
static inline MG_HD uint32_t mg_micro_draw_bernoulli(uint32_t seed, uint32_t c0, uint32_t c1,
                                                     uint32_t post, uint32_t N_src, uint64_t thr,
                                                     uint32_t *out)
{
    mg_rng g;
    mg_rng_init(&g, seed, MG_STREAM_CONNECT, c0, c1, post);
    uint32_t n = 0;
    for (uint32_t k = 0; k < N_src; ++k)
        if ((uint64_t)mg_rng_u32(&g) < thr)
            out[n++] = k;
    return n;
}

/* The interval (s) that ends with a spike at step td of a neuron whose refractory row held
 * ref_old (= its previous spike step + R) before the spike, or -1 when it is not counted
 * (warm-up, the initial condition's spike, no histogram). */
static inline MG_HD double mg_micro_isi_of(const mg_micro_model *mm, const mg_micro_pop *pp,
                                           double ref_old, double td)
{
    const double prev = ref_old - pp->R;
    if (td < mm->isi_t0 || prev < 0.0 || mm->isi_bins == 0)
        return -1.0;
    return (td - prev) * mm->dt_s;
}

/* Add interval isi (from mg_micro_isi_of; < 0: nothing) to lane j's accumulators of pp. The
 * sums s1, s2 depend on the order of the calls: every backend adds a step's intervals in
 * neuron order. */
static inline MG_HD void mg_micro_isi_add(const mg_micro_model *mm, const mg_micro_pop *pp,
                                          mg_lanes st, int j, double isi)
{
    if (isi < 0.0)
        return;
    const int NI = mm->isi_bins;
    const double b = isi / mm->isi_bin_s;
    const int slot = b < (double)NI ? 1 + (int)b : NI + 1;
    MG_AT(st, pp->row_isi + slot, j) += 1.0;
    MG_AT(st, pp->row_isi + NI + 2, j) += 1.0;
    MG_AT(st, pp->row_isi + NI + 3, j) += isi;
    MG_AT(st, pp->row_isi + NI + 4, j) += isi * isi;
}

/* The interval that ends with neuron i's spike at step td (before row_ref is overwritten).
 * Kept out of line on the host: inlined, this rare path slows the neuron loop by ~2 %. */
#if defined(__CUDACC__)
#  define MG_MICRO_OUTLINE static inline MG_HD
#else
#  define MG_MICRO_OUTLINE static __attribute__((noinline, unused))
#endif
MG_MICRO_OUTLINE void mg_micro_isi(const mg_micro_model *mm, const mg_micro_pop *pp, mg_lanes st,
                                    int64_t i, int j, double td)
{
    mg_micro_isi_add(mm, pp, st, j, mg_micro_isi_of(mm, pp, MG_AT(st, pp->row_ref + i, j), td));
}

/* Lane j's interval statistics into its record (layout L; see mg_obs_record). */
static inline MG_HD void mg_micro_isi_record(const mg_micro_model *mm, const mg_stats_layout *L,
                                             mg_lanes st, int j, int64_t *ri, double *rd)
{
    const int NI = mm->isi_bins;
    for (int a = 0; a < mm->P; ++a) {
        const mg_micro_pop *pp = &mm->pop[a];
        for (int k = 0; k < NI + 2; ++k)
            ri[L->i_isi_hist + (int64_t)a * (NI + 2) + k] =
                (int64_t)MG_AT(st, pp->row_isi + k, j);
        ri[L->i_isi_n + a] = (int64_t)MG_AT(st, pp->row_isi + NI + 2, j);
        rd[L->d_isi_s1 + a] = MG_AT(st, pp->row_isi + NI + 3, j);
        rd[L->d_isi_s2 + a] = MG_AT(st, pp->row_isi + NI + 4, j);
    }
}

/* Initial state (MODEL.md §1.5): every neuron fired in step -1: u = u_r, refractory through step
 * R - 1, threshold traces at their jump (they decay once in step 0), synaptic traces 0, and the
 * spike of every neuron in flight (history slot H - 1 = step -1 holds all N). */
static inline MG_HD void mg_micro_init(const mg_micro_model *mm, mg_lanes st,
                                       const mg_micro_buf *buf)
{
    for (int a = 0; a < mm->P; ++a) {
        const mg_micro_pop *pp = &mm->pop[a];
        const int64_t N = pp->N;
        for (int64_t i = 0; i < N; ++i) {
            for (int j = 0; j < MG_VL; ++j) {
                MG_AT(st, pp->row_u + i, j) = pp->u_r;
                MG_AT(st, pp->row_ref + i, j) = pp->R - 1.0;
            }
            for (int r = 0; r < pp->n_sfa; ++r)
                for (int j = 0; j < MG_VL; ++j)
                    MG_AT(st, pp->row_th + r * N + i, j) = pp->jump[r];
        }
        for (int h = 0; h < pp->H; ++h)
            for (int j = 0; j < MG_VL; ++j)
                MG_AT(st, pp->row_hist + h, j) = h == pp->H - 1 ? (double)N : 0.0;
        for (int k = 0; k < mm->isi_bins + 5; ++k)
            for (int j = 0; j < MG_VL; ++j)
                MG_AT(st, pp->row_isi + k, j) = 0.0;
        /* defined contents for the park rows too (a checkpoint copies every row) */
        for (int64_t k = 0; k < (int64_t)pp->H * N; ++k)
            for (int j = 0; j < MG_VL; ++j)
                MG_AT(st, pp->row_park + k, j) = 0.0;
        for (int j = 0; j < MG_VL; ++j) {
            MG_AT(st, pp->row_psi, j) = 0.0;
            if (pp->row_ou >= 0)
                MG_AT(st, pp->row_ou, j) = 0.0;
            uint32_t *l = mg_micro_spikes(buf, pp, pp->H - 1, j);
            for (int64_t i = 0; i < N; ++i)
                l[i] = (uint32_t)i;
        }
    }
    for (int k = 0; k < mm->n_proj; ++k) {
        const mg_micro_proj *pj = &mm->proj[k];
        int64_t n = pj->kind == MG_MICRO_A2A ? 1 : mm->pop[pj->tgt].N;
        for (int64_t i = 0; i < n; ++i)
            for (int j = 0; j < MG_VL; ++j)
                MG_AT(st, pj->row_s + i, j) = 0.0;
        if (pj->kind == MG_MICRO_A2A)
            for (int j = 0; j < MG_VL; ++j)
                MG_AT(st, pj->row_g, j) = 0.0;
    }
}

/* Add one arriving spike (1.0) to a synaptic trace. On the device several threads deliver to
 * the same trace at once: atomic, and still bitwise what a sequential delivery gives, because
 * every addend is the same 1.0 (the sequence of partial sums s, s+1, (s+1)+1, ... does not
 * depend on which spike is added first). */
#if defined(__CUDA_ARCH__)
#  define MG_MICRO_ADD1(p) atomicAdd((p), 1.0)
#else
#  define MG_MICRO_ADD1(p) (*(p) += 1.0)
#endif

/* The history slot of pj's source population that holds the spikes arriving at step t (emitted
 * D steps earlier; t - D >= -H). */
static inline MG_HD int mg_micro_arrival_slot(const mg_micro_model *mm, const mg_micro_proj *pj,
                                              int64_t t)
{
    const mg_micro_pop *pb = &mm->pop[pj->src];
    const int64_t back = t - pj->D;
    return (int)(((back % pb->H) + pb->H) % pb->H);
}

/* Phase 1 for an all-to-all projection: the shared trace gets the n sequential additions each
 * target would get (n ~ N p_fire per step: cheap, and bitwise what a list delivers). The
 * device's; mg_micro_deliver below writes it out again for the host, a deliberate twin. */
static inline MG_HD void mg_micro_deliver_a2a(const mg_micro_model *mm, const mg_micro_proj *pj,
                                              mg_lanes st, int64_t t)
{
    const int hrow = mm->pop[pj->src].row_hist + mg_micro_arrival_slot(mm, pj, t);
    double nmax = 0.0;
    MG_SIMD_MAX(nmax)
    for (int j = 0; j < MG_VL; ++j)
        nmax = MG_AT(st, hrow, j) > nmax ? MG_AT(st, hrow, j) : nmax;
    for (double m = 0.0; m < nmax; m += 1.0) {
        MG_SIMD
        for (int j = 0; j < MG_VL; ++j)
            MG_AT(st, pj->row_s, j) += m < MG_AT(st, hrow, j) ? 1.0 : 0.0;
    }
}

/* Phase 1 for a list projection in lane j, or a share of it: the arriving spikes q = q0, q0 +
 * dq, ... of the list in history slot `slot` (mg_micro_arrival_slot), and of each the out-edges
 * off[src] + e0, + e0 + de, ... (a CUDA block spreads spikes over warps and edges over a warp's
 * threads; mg_micro_deliver has the whole loop, 0, 1, 0, 1, written out). */
static MG_MICRO_FORCE_INLINE void mg_micro_deliver_list(const mg_micro_model *mm,
                                                        const mg_micro_proj *pj, mg_lanes st,
                                                        const mg_micro_buf *buf, int slot,
                                                        int j, int64_t q0, int64_t dq,
                                                        int64_t e0, int64_t de)
{
    const mg_micro_pop *pb = &mm->pop[pj->src];
    const mg_micro_csr cs = buf->csr[pj->conn * MG_VL + j];
    const uint32_t *list = mg_micro_spikes(buf, pb, slot, j);
    const int64_t cnt = (int64_t)MG_AT(st, pb->row_hist + slot, j);
    double *MG_RESTRICT s = &MG_AT(st, pj->row_s, j);
    const int64_t ld = st.ld;
    for (int64_t q = q0; q < cnt; q += dq) {
        const uint32_t src = list[q];
        for (int64_t e = cs.off[src] + e0; e < cs.off[src + 1]; e += de)
            MG_MICRO_ADD1(&s[(int64_t)cs.tgt[e] * ld]);
    }
}

/* Phase 1 (MODEL.md §1.3 step 1): the spikes emitted D steps ago arrive; each adds 1 to the
 * trace of each of its targets. Lanes j >= n_lanes are skipped for list projections (padding
 * lanes whose result is discarded; pass MG_VL to deliver everywhere). A deliberate twin of
 * mg_micro_deliver_a2a and mg_micro_deliver_list, written out in one loop for the host (the same
 * operations; calling them costs the host ~3 % on E/I 3(c), registers); tests/test_micro_split.c
 * checks that both give the same bits. */
static inline MG_HD void mg_micro_deliver(const mg_micro_model *mm, mg_lanes st,
                                          const mg_micro_buf *buf, int64_t t, int n_lanes)
{
    for (int k = 0; k < mm->n_proj; ++k) {
        const mg_micro_proj *pj = &mm->proj[k];
        const mg_micro_pop *pb = &mm->pop[pj->src];
        const int64_t back = t - pj->D; /* >= -H */
        const int slot = (int)(((back % pb->H) + pb->H) % pb->H);
        const int hrow = pb->row_hist + slot;
        if (pj->kind == MG_MICRO_A2A) {
            /* all-to-all: the shared trace gets the n sequential additions each target would
             * get (n ~ N p_fire per step: cheap, and bitwise what a list delivers) */
            double nmax = 0.0;
            MG_SIMD_MAX(nmax)
            for (int j = 0; j < MG_VL; ++j)
                nmax = MG_AT(st, hrow, j) > nmax ? MG_AT(st, hrow, j) : nmax;
            for (double m = 0.0; m < nmax; m += 1.0) {
                MG_SIMD
                for (int j = 0; j < MG_VL; ++j)
                    MG_AT(st, pj->row_s, j) += m < MG_AT(st, hrow, j) ? 1.0 : 0.0;
            }
        } else {
            for (int j = 0; j < n_lanes && j < MG_VL; ++j) {
                const mg_micro_csr cs = buf->csr[pj->conn * MG_VL + j];
                const uint32_t *list = mg_micro_spikes(buf, pb, slot, j);
                const int64_t cnt = (int64_t)MG_AT(st, hrow, j);
                double *MG_RESTRICT s = &MG_AT(st, pj->row_s, j);
                const int64_t ld = st.ld;
                for (int64_t q = 0; q < cnt; ++q) {
                    const uint32_t src = list[q];
                    for (int64_t e = cs.off[src]; e < cs.off[src + 1]; ++e)
                        s[(int64_t)cs.tgt[e] * ld] += 1.0;
                }
            }
        }
    }
}

/* Where the spikes found by mg_micro_neurons_range go when they cannot be written straight into
 * the step's spike list (a CUDA thread handles one Philox block of 4 neurons and does not know
 * how many spikes the neurons before its own had): per lane, the neurons that fired in neuron
 * order and their intervals (mg_micro_isi_of, not yet added). mg_micro_sink_flush puts them at
 * their place in the list once the counts before them are known (a prefix sum), and
 * mg_micro_finish adds the intervals in list order: the same list, counts and sums as the
 * direct path. */
typedef struct {
    int n[MG_VL];
    uint32_t idx[MG_VL][4];
    double isi[MG_VL][4];
} mg_micro_sink;

/* Phase 2 for the neurons [i_lo, i_hi) of population a (MODEL.md §1.3 steps 2a-2f; i_lo a
 * multiple of 4, i_hi <= N). per_neuron != 0:
 * the synaptic sum is formed per neuron from the n_in inputs mm->in[in_first..] (some input is a
 * list); 0: every neuron gets the same drive psi of its lane (all inputs all-to-all), computed in
 * the same order, so the two give the same bits. n_in and n_sfa are the population's counts,
 * passed as literal constants by mg_micro_update for the common small values, so that the
 * compiler unrolls the loops over them (a runtime trip count costs ~20 % of the host loop).
 * sk == NULL (the host): spikes are appended to history slot t mod H of each lane at cnt[j]
 * (then incremented) and their intervals added at once; else (i_hi - i_lo <= 4) they go to sk,
 * whose counts the caller has zeroed. */
static MG_MICRO_FORCE_INLINE void mg_micro_neurons_range(const mg_micro_model *mm, int a,
                                                         mg_lanes st, const mg_micro_buf *buf,
                                                         int64_t t, uint32_t real0,
                                                         int64_t i_lo, int64_t i_hi,
                                                         int *MG_RESTRICT cnt,
                                                         mg_micro_sink *MG_RESTRICT sk,
                                                         const int per_neuron, const int n_in,
                                                         const int n_sfa)
{
    const mg_micro_pop *pp = &mm->pop[a];
    const int64_t N = pp->N;
    const int hs = (int)(t % pp->H);
    const double td = (double)t;
    /* read once: state stores might alias *pp as far as the compiler knows */
    const double E_m = pp->E_m, u_r = pp->u_r, u_th = pp->u_th, inv_Delta = pp->inv_Delta;
    const double c_dt = pp->c_dt, c15 = 1.5 * pp->c_dt, R = pp->R;
    const int row_u = pp->row_u, row_ref = pp->row_ref;
    const int row_th = pp->row_th, row_psi = pp->row_psi;
    const int in_first = pp->in_first;
    /* the lane's drive (mg_micro_update_pre left it in row_psi when per_neuron) */
    double drive[MG_VL];
    for (int j = 0; j < MG_VL; ++j)
        drive[j] = per_neuron ? MG_AT(st, row_psi, j) : 0.0;
    uint64_t ks0[10], ks1[10], lane_ctr[MG_VL];
    mg_micro_philox_keys(mm->seed, MG_STREAM_MICRO_SPIKE, ks0, ks1);
    for (int j = 0; j < MG_VL; ++j)
        lane_ctr[j] = (uint32_t)(real0 + (uint32_t)j); /* counter word 0: the realization */
    const uint64_t step_ctr = (uint32_t)t;
    for (int64_t i0 = i_lo; i0 < i_hi; i0 += 4) {
        /* the uniforms of neurons i0 .. i0+3 in every lane: one Philox block each */
        double Uk[4][MG_VL];
        const uint64_t blk = (uint64_t)(pp->blk0 + i0 / 4);
        MG_SIMD
        for (int j = 0; j < MG_VL; ++j) {
#if defined(__CUDA_ARCH__)
            /* the device multiplies 32-bit words natively (mulhi) */
            philox4x32_ctr_t o = mg_philox_block(mm->seed, MG_STREAM_MICRO_SPIKE,
                                                 (uint32_t)lane_ctr[j], (uint32_t)blk,
                                                 (uint32_t)step_ctr, 0u);
            uint64_t x0 = o.v[0], x1 = o.v[1], x2 = o.v[2], x3 = o.v[3];
#else
            /* 64-bit types only: a 32-bit one makes gcc split the loop into 4-lane halves */
            uint64_t x0 = lane_ctr[j], x1 = blk, x2 = step_ctr, x3 = 0;
            MG_MICRO_PHILOX10();
#endif
            Uk[0][j] = ((double)(int64_t)(x0 & 0xffffffffu) + 0.5) * (1.0 / 4294967296.0);
            Uk[1][j] = ((double)(int64_t)(x1 & 0xffffffffu) + 0.5) * (1.0 / 4294967296.0);
            Uk[2][j] = ((double)(int64_t)(x2 & 0xffffffffu) + 0.5) * (1.0 / 4294967296.0);
            Uk[3][j] = ((double)(int64_t)(x3 & 0xffffffffu) + 0.5) * (1.0 / 4294967296.0);
        }
        const int kn = i_hi - i0 < 4 ? (int)(i_hi - i0) : 4;
        /* firing candidates of the 4 neurons, tested once for the group (a horizontal
         * reduction per neuron costs more than the rest of the lane loop) */
        double arg[4][MG_VL], cand[4][MG_VL], anyv[MG_VL];
        MG_SIMD
        for (int j = 0; j < MG_VL; ++j)
            anyv[j] = 0.0;
        for (int k = 0; k < kn; ++k) {
            const int64_t i = i0 + k;
            /* lane loops innermost: gcc vectorizes a lane loop only without inner loops */
            double psi[MG_VL], theta[MG_VL];
            const double *U = Uk[k];
            /* 2a: synaptic increment over the step, in source order; traces decay */
            if (per_neuron) {
                MG_SIMD
                for (int j = 0; j < MG_VL; ++j)
                    psi[j] = 0.0;
                for (int c = 0; c < n_in; ++c) {
                    const mg_micro_in *in = &mm->in[in_first + c];
                    const double G = in->G, E = in->E;
                    double *MG_RESTRICT x = &MG_AT(st, in->row + i * in->stride, 0);
                    MG_SIMD
                    for (int j = 0; j < MG_VL; ++j) {
                        double s = x[j];
                        psi[j] += G * s;
                        x[j] = s * E;
                    }
                }
                MG_SIMD
                for (int j = 0; j < MG_VL; ++j)
                    psi[j] = drive[j] + psi[j];
            } else {
                MG_SIMD
                for (int j = 0; j < MG_VL; ++j)
                    psi[j] = MG_AT(st, row_psi, j);
            }
            /* 2b: threshold traces decay (also while refractory) */
            MG_SIMD
            for (int j = 0; j < MG_VL; ++j)
                theta[j] = u_th;
            for (int r = 0; r < n_sfa; ++r) {
                const double E_th = pp->E_th[r];
                double *MG_RESTRICT th = &MG_AT(st, row_th + r * N + i, 0);
                MG_SIMD
                for (int j = 0; j < MG_VL; ++j) {
                    double x = th[j] * E_th;
                    th[j] = x;
                    theta[j] += x;
                }
            }
            MG_SIMD
            for (int j = 0; j < MG_VL; ++j) {
                /* 2c, 2d: clamped at u_r while refractory (input lost), else integrate
                 * (no int temporaries: a 32-bit type in the loop makes gcc pick 16 lanes) */
                const double u = MG_AT(st, row_u + i, j);
                const double ref = MG_AT(st, row_ref + i, j);
                const double un = td <= ref ? u : u * E_m + psi[j];
                MG_AT(st, row_u + i, j) = un;
                /* 2e: exponent of the hazard, lambda dt = c_dt exp(arg) */
                double x = (un - theta[j]) * inv_Delta;
                x = x > MG_MICRO_EXP_CAP ? MG_MICRO_EXP_CAP : x;
                x = x < -MG_MICRO_EXP_CAP ? -MG_MICRO_EXP_CAP : x;
                arg[k][j] = x;
                /* 2f, filter: mg_exp_mid(x) = e^r 2^k with the k below and e^r < 1.5
                 * (|r| <= ln2/2), so q <= 1.5 c_dt 2^k; U >= that bound means U >= q >= P:
                 * no spike, decided without the exp (the same decision the exp gives) */
                const double tk = fma(x, 1.4426950408889634074, 6755399441055744.0);
                const int64_t kk = (int64_t)(mg_bits_of(tk) - mg_bits_of(6755399441055744.0));
                const double bound = c15 * mg_double_of((uint64_t)(kk + 1023) << 52);
                const double cd = (td > ref && U[j] < bound) ? 1.0 : 0.0;
                cand[k][j] = cd;
                anyv[j] = cd > anyv[j] ? cd : anyv[j];
            }
        }
        double any = 0.0;
        MG_SIMD_MAX(any)
        for (int j = 0; j < MG_VL; ++j)
            any = anyv[j] > any ? anyv[j] : any;
        if (any > 0.0) {
            for (int k = 0; k < kn; ++k) {
                const int64_t i = i0 + k;
                for (int j = 0; j < MG_VL; ++j) {
                    if (cand[k][j] == 0.0)
                        continue;
                    /* 2e, 2f exactly: q = lambda dt, P = -expm1(-q) <= q, spike iff U < P */
                    const double qq = c_dt * mg_exp_mid(arg[k][j]);
                    const double uu = Uk[k][j];
                    if (uu < qq && uu < mg_micro_pfire(qq)) {
                        /* spike: reset, refractory through step t + R, threshold jumps */
                        if (sk) {
                            const int m = sk->n[j]++;
                            sk->idx[j][m] = (uint32_t)i;
                            sk->isi[j][m] = mg_micro_isi_of(mm, pp, MG_AT(st, row_ref + i, j),
                                                            td);
                        } else {
                            mg_micro_isi(mm, pp, st, i, j, td);
                            mg_micro_spikes(buf, pp, hs, j)[cnt[j]++] = (uint32_t)i;
                        }
                        MG_AT(st, row_u + i, j) = u_r;
                        MG_AT(st, row_ref + i, j) = td + R;
                        for (int r = 0; r < n_sfa; ++r)
                            MG_AT(st, row_th + r * N + i, j) += pp->jump[r];
                    }
                }
            }
        }
    }
}

/* Phase 2 for all neurons of population a, straight into the spike lists; the spike count of
 * each lane goes to n[j] and history slot t mod H (step 3). */
static MG_MICRO_FORCE_INLINE void mg_micro_neurons(const mg_micro_model *mm, int a,
                                                   mg_lanes st, const mg_micro_buf *buf,
                                                   int64_t t, uint32_t real0,
                                                   double *MG_RESTRICT n, const int per_neuron,
                                                   const int n_in, const int n_sfa)
{
    const mg_micro_pop *pp = &mm->pop[a];
    const int hs = (int)(t % pp->H);
    int cnt[MG_VL];
    for (int j = 0; j < MG_VL; ++j)
        cnt[j] = 0;
    mg_micro_neurons_range(mm, a, st, buf, t, real0, 0, pp->N, cnt, (mg_micro_sink *)0,
                           per_neuron, n_in, n_sfa);
    /* 3: the count of the step */
    for (int j = 0; j < MG_VL; ++j) {
        n[j] = (double)cnt[j];
        MG_AT(st, pp->row_hist + hs, j) = (double)cnt[j];
    }
}

/* Phase 2 for population a, the part that is one value per lane: the all-to-all traces (G S,
 * then decay), the lane's drive (input tables, plus the independent OU current of realization
 * real0 + j when the population has one) and, when every input is all-to-all, the drive psi
 * shared by all its neurons (same order and operations as the per-neuron sum: 0 + 1 gS_0 +
 * 1 gS_1 ...); with a list input, row_psi holds the drive alone, to which each neuron adds its
 * own sum. */
static inline MG_HD void mg_micro_update_pre(const mg_micro_model *mm, int a, mg_lanes st,
                                             int64_t t, uint32_t real0)
{
    const mg_micro_pop *pp = &mm->pop[a];
    for (int k = 0; k < mm->n_proj; ++k) {
        const mg_micro_proj *pj = &mm->proj[k];
        if (pj->tgt != a || pj->kind != MG_MICRO_A2A)
            continue;
        const double G = pj->G, E_s = pj->E_s;
        MG_SIMD
        for (int j = 0; j < MG_VL; ++j) {
            double s = MG_AT(st, pj->row_s, j);
            MG_AT(st, pj->row_g, j) = G * s;
            MG_AT(st, pj->row_s, j) = s * E_s;
        }
    }
    const double I_tab = mg_micro_input(mm, a, t);
    for (int j = 0; j < MG_VL; ++j) {
        double I = I_tab;
        if (pp->row_ou >= 0)
            I += mg_stim_ou_step(&pp->ou, mm->seed, real0 + (uint32_t)j, a, t,
                                 &MG_AT(st, pp->row_ou, j));
        const double drive = pp->mu_drive + I * pp->one_m_E_m;
        if (pp->n_list_in > 0) { /* the neurons add their own synaptic sums to it */
            MG_AT(st, pp->row_psi, j) = drive;
            continue;
        }
        double dv = 0.0;
        for (int c = 0; c < pp->in_count; ++c) {
            const mg_micro_in *in = &mm->in[pp->in_first + c];
            dv += in->G * MG_AT(st, in->row, j);
        }
        MG_AT(st, pp->row_psi, j) = drive + dv;
    }
}

/* Phase 2 for population a: the per-lane part, then the neurons. */
static inline MG_HD void mg_micro_update(const mg_micro_model *mm, int a, mg_lanes st,
                                         const mg_micro_buf *buf, int64_t t, uint32_t real0,
                                         double *MG_RESTRICT n)
{
    const mg_micro_pop *pp = &mm->pop[a];
    mg_micro_update_pre(mm, a, st, t, real0);
#if defined(__CUDA_ARCH__)
    /* one thread per realization: no lane loops to unroll, one instance keeps the kernel small */
    mg_micro_neurons(mm, a, st, buf, t, real0, n, pp->n_list_in > 0, pp->in_count, pp->n_sfa);
#else
#define MG_MICRO_NEURONS_SFA(PN, NI)                                                           \
    do {                                                                                       \
        switch (pp->n_sfa) {                                                                   \
        case 0: mg_micro_neurons(mm, a, st, buf, t, real0, n, PN, NI, 0); break;              \
        case 1: mg_micro_neurons(mm, a, st, buf, t, real0, n, PN, NI, 1); break;              \
        case 2: mg_micro_neurons(mm, a, st, buf, t, real0, n, PN, NI, 2); break;              \
        default: mg_micro_neurons(mm, a, st, buf, t, real0, n, PN, NI, pp->n_sfa); break;     \
        }                                                                                      \
    } while (0)
    if (pp->n_list_in > 0) {
        switch (pp->in_count) {
        case 1: MG_MICRO_NEURONS_SFA(1, 1); break;
        case 2: MG_MICRO_NEURONS_SFA(1, 2); break;
        case 3: MG_MICRO_NEURONS_SFA(1, 3); break;
        default: MG_MICRO_NEURONS_SFA(1, pp->in_count); break;
        }
    } else {
        MG_MICRO_NEURONS_SFA(0, 0);
    }
#undef MG_MICRO_NEURONS_SFA
#endif
}

/* One full step of the network for the MG_VL lanes whose realization indices are real0 + j:
 * delivery for every projection, then every population. Writes the spike counts
 * n[a * MG_VL + j] and the spike lists of step t (history slot t mod H of each population).
 * n_lanes: lanes whose list deliveries matter (MG_VL, or fewer for a block's padding lanes).
 * This is the function both backends call. */
static inline MG_HD void mg_micro_step(const mg_micro_model *mm, mg_lanes st,
                                       const mg_micro_buf *buf, int64_t t, uint32_t real0,
                                       int n_lanes, double *MG_RESTRICT n)
{
    mg_micro_deliver(mm, st, buf, t, n_lanes);
    for (int a = 0; a < mm->P; ++a)
        mg_micro_update(mm, a, st, buf, t, real0, n + a * MG_VL);
}

/* ---- The step decomposed over the T threads of a CUDA block (kernels/backend_cuda_micro.cu:
 * one block per realization, T a multiple of MG_MICRO_WARP). tests/test_micro_split.c runs the
 * same calls serially on the host, threads in a scrambled order, and checks them bitwise
 * against mg_micro_step. A step is, with a barrier after each phase:
 *   A. every thread: mg_micro_part_deliver(tid, T) (list spikes over warps, their out-edges over
 *      a warp's threads; all-to-all projections on thread 0);
 *   B. thread 0: mg_micro_update_pre for every population;
 *   C. per population a, rounds of T Philox blocks (4 neurons each): thread tid runs block
 *      round T + tid into its sink (mg_micro_part_neurons); an exclusive prefix sum of the sink
 *      counts (threads in order = neurons in order) gives each thread its place in the spike
 *      list, after the spikes of the earlier rounds (mg_micro_sink_flush);
 *   D. per population, one thread: mg_micro_finish (count of the step, intervals in order). */
#define MG_MICRO_WARP 32

static inline MG_HD void mg_micro_part_deliver(const mg_micro_model *mm, mg_lanes st,
                                               const mg_micro_buf *buf, int64_t t, int n_lanes,
                                               int tid, int T)
{
    const int w = tid / MG_MICRO_WARP, l = tid % MG_MICRO_WARP, nw = T / MG_MICRO_WARP;
    for (int k = 0; k < mm->n_proj; ++k) {
        const mg_micro_proj *pj = &mm->proj[k];
        if (pj->kind == MG_MICRO_A2A) {
            if (tid == 0)
                mg_micro_deliver_a2a(mm, pj, st, t);
        } else {
            const int slot = mg_micro_arrival_slot(mm, pj, t);
            for (int j = 0; j < n_lanes && j < MG_VL; ++j)
                mg_micro_deliver_list(mm, pj, st, buf, slot, j, w, nw, l, MG_MICRO_WARP);
        }
    }
}

/* Philox blocks of population a (4 neurons each, the last one maybe short). */
static inline MG_HD int64_t mg_micro_blocks(const mg_micro_pop *pp)
{
    return (pp->N + 3) / 4;
}

/* Phase C for Philox block b of population a (nothing if b is past the end): its spikes go to
 * sk. */
static inline MG_HD void mg_micro_part_neurons(const mg_micro_model *mm, int a, mg_lanes st,
                                               const mg_micro_buf *buf, int64_t t,
                                               uint32_t real0, int64_t b, mg_micro_sink *sk)
{
    const mg_micro_pop *pp = &mm->pop[a];
    for (int j = 0; j < MG_VL; ++j)
        sk->n[j] = 0;
    const int64_t i_lo = 4 * b;
    if (i_lo >= pp->N)
        return;
    const int64_t i_hi = i_lo + 4 < pp->N ? i_lo + 4 : pp->N;
    mg_micro_neurons_range(mm, a, st, buf, t, real0, i_lo, i_hi, (int *)0, sk,
                           pp->n_list_in > 0, pp->in_count, pp->n_sfa);
}

/* Lane j's spikes in sk to the spike list of step t at positions off, off + 1, ..., and their
 * intervals to isi_buf[off ...] (isi_buf: N_a entries for lane j). */
static inline MG_HD void mg_micro_sink_flush(const mg_micro_model *mm, int a,
                                             const mg_micro_buf *buf, int64_t t, int j,
                                             const mg_micro_sink *sk, int64_t off,
                                             double *isi_buf)
{
    const mg_micro_pop *pp = &mm->pop[a];
    uint32_t *l = mg_micro_spikes(buf, pp, (int)(t % pp->H), j);
    for (int m = 0; m < sk->n[j]; ++m) {
        l[off + m] = sk->idx[j][m];
        isi_buf[off + m] = sk->isi[j][m];
    }
}

/* Phase D for population a, lane j: cnt spikes in step t (step 3: the count to *n and history
 * slot t mod H), and their intervals added in list (= neuron) order, as the direct path adds
 * them. */
static inline MG_HD void mg_micro_finish(const mg_micro_model *mm, int a, mg_lanes st, int64_t t,
                                         int j, int64_t cnt, const double *isi_buf, double *n)
{
    const mg_micro_pop *pp = &mm->pop[a];
    *n = (double)cnt;
    MG_AT(st, pp->row_hist + (int)(t % pp->H), j) = (double)cnt;
    for (int64_t q = 0; q < cnt; ++q)
        mg_micro_isi_add(mm, pp, st, j, isi_buf[q]);
}

#endif /* MESOGIF_CORE_MICRO_H */
