/* tests/test_meso_order.c: the canonical order of the meso step's sums over cohorts
 * (src/core/meso.h) is computed to the same bits by every form that runs it:
 *  - the host's pass form (mg_meso_cohorts_host, what the CPU backend runs) and the tile form
 *    (mg_meso_cohorts, what a CUDA thread and the host's lane blocks run);
 *  - any layout: a realization alone (ld = 1) or lane j of a block of MG_VL (ld = MG_VL);
 *  - the CUDA group kernel (kernels/backend_cuda.cu, mg_group_expect): emulated here lane by
 *    lane, with its shuffles as array moves (shfl_up keeps the caller's own value below the
 *    offset, shfl_xor exchanges within the group), so a change of order in the kernel that is not
 *    made here too, or vice versa, fails on the host in every `make test`;
 * and a negative control: the same emulation with the partial sums added in a chain instead of
 * the tree differs, so the comparisons can fail. Deterministic: no tolerance, every bit. */
#include "testutil.h"
#include "engine/meso_derive.h"

#include <stdio.h>

#define STEPS_SMALL 3000 /* steps for models with K in the hundreds (the ring wraps 10+ times) */
#define STEPS_LARGE 800  /* for NEST E/I (K = 2772) */

typedef struct {
    mg_model m;
    mg_meso_derived d;
} fixture;

static void fixture_open(fixture *f, const char *path, int noise)
{
    mg_test_model(path, &f->m);
    mg_err err = {{0}};
    ck_assert_msg(mg_meso_derive(&f->m, 0.5, noise, 7, &f->d, &err) == MG_OK, "%s", err.msg);
}

static void fixture_close(fixture *f)
{
    mg_meso_derived_free(&f->d);
    mg_model_free(&f->m);
}

static double *state_new(const mg_meso_model *mm, int lanes)
{
    double *s = calloc((size_t)mm->rows * (size_t)lanes, sizeof(double));
    ck_assert_ptr_nonnull(s);
    return s;
}

/* ---- the host emulation of kernels/backend_cuda.cu: mg_group_expect ----------------------- */
/* A deliberate twin of the kernel, line for line (lane loops for the lanes, arrays for the
 * shuffles): it exists to fail when the two drift apart. */
enum { G = 8 };

/* chain: the negative control (partial sums added one after another instead of the tree). */
static double emu_group_expect(const mg_meso_model *mm, int a, mg_lanes st, int64_t t, int chain)
{
    const mg_meso_pop *pp = &mm->pop[a];
    const int K = pp->K, k0 = (int)(t % K), n_active = K - pp->R;
    const double *theta = mm->kernels + pp->theta_off;
    const double *theta_tilde = theta + K;
    const double E_m = pp->E_m, c = pp->c_hz, inv_Delta = pp->inv_Delta, hdt = pp->half_dt;
    const double inv_N = pp->inv_N;
    double Th0, Pf, Psi0;
    mg_meso_expect_begin(mm, a, st, t, &Th0, &Pf, &Psi0); /* lane 0 */
    double Th[G], Psi[G], pX[G], pW[G], pY[G], pZ[G];
    for (int gl = 0; gl < G; ++gl) { /* the broadcasts from lane 0 */
        Th[gl] = Th0;
        Psi[gl] = Psi0;
        pX[gl] = pW[gl] = pY[gl] = pZ[gl] = 0.0;
    }
    int l0 = 0;
    for (; l0 < n_active; l0 += G) {
        int s[G], active[G], exists[G];
        double cl[G], e[G], o[G];
        for (int gl = 0; gl < G; ++gl) {
            int l = l0 + gl;
            active[gl] = l < n_active;
            exists[gl] = l < K;
            s[gl] = k0 + l >= K ? k0 + l - K : k0 + l;
            double nl = exists[gl] ? MG_AT(st, pp->row_n + s[gl], 0) : 0.0;
            cl[gl] = active[gl] ? theta_tilde[l] * nl * inv_N : 0.0;
        }
        for (int gl = 0; gl < G; ++gl) /* e = shfl_up(cl, 1); lane 0 takes 0 */
            e[gl] = gl >= 1 ? cl[gl - 1] : 0.0;
        for (int d = 1; d < G; d <<= 1) {
            for (int gl = 0; gl < G; ++gl) /* o = shfl_up(e, d): own value below d */
                o[gl] = gl >= d ? e[gl - d] : e[gl];
            for (int gl = 0; gl < G; ++gl)
                e[gl] = gl >= d ? e[gl] + o[gl] : e[gl];
        }
        double total = e[G - 1] + cl[G - 1]; /* shfl from lane 7 */
        for (int gl = 0; gl < G; ++gl) {
            int l = l0 + gl;
            if (active[gl])
                mg_meso_cohort_survive(&MG_AT(st, pp->row_m + s[gl], 0),
                                       &MG_AT(st, pp->row_v + s[gl], 0),
                                       mg_meso_cohort_P(&MG_AT(st, pp->row_u + s[gl], 0),
                                                        &MG_AT(st, pp->row_lam + s[gl], 0),
                                                        theta[l] + (Th[gl] + e[gl]), Psi[gl],
                                                        E_m, inv_Delta, c, hdt),
                                       &pX[gl], &pW[gl], &pY[gl], &pZ[gl]);
            else if (exists[gl])
                pX[gl] += MG_AT(st, pp->row_m + s[gl], 0);
            Th[gl] = Th[gl] + total;
        }
    }
    for (; l0 < K; l0 += G) {
        for (int gl = 0; gl < G; ++gl) {
            int l = l0 + gl, s = k0 + l >= K ? k0 + l - K : k0 + l;
            pX[gl] += l < K ? MG_AT(st, pp->row_m + s, 0) : 0.0;
        }
    }
    double X, W, Y, Z;
    if (chain) {
        X = W = Y = Z = 0.0;
        for (int gl = 0; gl < G; ++gl) {
            X += pX[gl];
            W += pW[gl];
            Y += pY[gl];
            Z += pZ[gl];
        }
    } else {
        for (int d = 1; d < G; d <<= 1) { /* shfl_xor(d): every lane adds its partner's value */
            double tX[G], tW[G], tY[G], tZ[G];
            for (int gl = 0; gl < G; ++gl) {
                tX[gl] = pX[gl ^ d];
                tW[gl] = pW[gl ^ d];
                tY[gl] = pY[gl ^ d];
                tZ[gl] = pZ[gl ^ d];
            }
            for (int gl = 0; gl < G; ++gl) {
                pX[gl] += tX[gl];
                pW[gl] += tW[gl];
                pY[gl] += tY[gl];
                pZ[gl] += tZ[gl];
            }
        }
        X = pX[0];
        W = pW[0];
        Y = pY[0];
        Z = pZ[0];
    }
    return mg_meso_expect_end(mm, a, st, t, X, W, Y, Z, Pf);
}

/* The group kernel's step (mg_meso_warp_kernel's loop body for one realization). */
static void emu_step(const mg_meso_model *mm, mg_lanes st, int64_t t, uint32_t r, double *n,
                     double *nbar, int chain)
{
    mg_meso_inputs1(mm, st, t, r);
    for (int a = 0; a < mm->P; ++a) {
        nbar[a] = emu_group_expect(mm, a, st, t, chain);
        n[a] = mg_meso_draw(mm, a, t, r, nbar[a]);
        mg_meso_commit(mm, a, st, t, n[a]);
    }
}

/* ---- the comparisons ------------------------------------------------------------------------ */
typedef enum { FORM_TILES, FORM_GROUP, FORM_GROUP_CHAIN, FORM_LANE_BLOCK } form;

/* Run realization r for `steps` steps in the host's pass form and in form f side by side;
 * returns the number of steps at which an expected count, a count or (at the end) the state
 * differs in any bit. */
static long compare_forms(const char *path, int noise, form f, int64_t steps, uint32_t r)
{
    fixture fx;
    fixture_open(&fx, path, noise);
    const mg_meso_model *mm = &fx.d.mm;
    const int P = mm->P;
    double *ref = state_new(mm, 1), *alt = state_new(mm, MG_VL);
    double *scratch = malloc((size_t)mg_meso_scratch_doubles(mm) * sizeof(double));
    ck_assert_ptr_nonnull(scratch);
    mg_lanes sr = {ref, 1};
    /* the lane-block form keeps the realization in lane 3 of a block of MG_VL */
    const int lane = f == FORM_LANE_BLOCK ? (MG_VL > 3 ? 3 : 0) : 0;
    mg_lanes sa = f == FORM_LANE_BLOCK ? (mg_lanes){alt, MG_VL} : (mg_lanes){alt, 1};
    mg_meso_init1(mm, sr);
    if (f == FORM_LANE_BLOCK)
        mg_meso_init(mm, sa);
    else
        mg_meso_init1(mm, sa);
    double n1[MG_POP_MAX], nb1[MG_POP_MAX], n2[MG_POP_MAX * MG_VL], nb2[MG_POP_MAX * MG_VL];
    long bad = 0;
    for (int64_t t = 0; t < steps; ++t) {
        mg_meso_step1(mm, sr, t, r, n1, nb1, scratch);
        int stride = 1, off = 0;
        switch (f) {
        case FORM_TILES:
            mg_meso_step1(mm, sa, t, r, n2, nb2, NULL);
            break;
        case FORM_GROUP:
        case FORM_GROUP_CHAIN:
            emu_step(mm, sa, t, r, n2, nb2, f == FORM_GROUP_CHAIN);
            break;
        case FORM_LANE_BLOCK:
            mg_meso_step(mm, sa, t, r - (uint32_t)lane, n2, nb2);
            stride = MG_VL;
            off = lane;
            break;
        }
        int differs = 0;
        for (int a = 0; a < P; ++a)
            differs |= memcmp(&nb1[a], &nb2[a * stride + off], sizeof(double)) != 0 ||
                       n1[a] != n2[a * stride + off];
        bad += differs;
    }
    for (int64_t k = 0; k < mm->rows; ++k) /* the whole state at the end */
        if (memcmp(&ref[k], &MG_AT(sa, k, lane), sizeof(double)) != 0) {
            ++bad;
            break;
        }
    free(scratch);
    free(ref);
    free(alt);
    fixture_close(&fx);
    return bad;
}

static const char *const models[] = {
    NULL, /* B1 */
    "data/models/bistable_b2.json",   "data/models/lif_adap.json",
    "data/models/uncoupled.json",     "data/models/nest_testcase.json",
    "data/models/ei_network.json",    "data/models/nest_brunel_ei.json",
};
#define N_MODELS (int)(sizeof models / sizeof models[0])

static int64_t steps_for(const char *path)
{
    return path && strstr(path, "nest_brunel_ei") ? STEPS_LARGE : STEPS_SMALL;
}

START_TEST(host_pass_form_equals_tile_form)
{
    for (int i = 0; i < N_MODELS; ++i) {
        long bad = compare_forms(models[i], MG_MESO_BINOMIAL, FORM_TILES, steps_for(models[i]), 5);
        ck_assert_msg(bad == 0, "%s: %ld steps differ", models[i] ? models[i] : "B1", bad);
    }
    /* the deterministic limit exercises non-integer counts and the Poisson mode its own draws */
    ck_assert_int_eq(compare_forms(NULL, MG_MESO_DETERMINISTIC, FORM_TILES, STEPS_SMALL, 0), 0);
    ck_assert_int_eq(compare_forms("data/models/nest_testcase.json", MG_MESO_POISSON, FORM_TILES,
                                   STEPS_SMALL, 2), 0);
}
END_TEST

START_TEST(lane_of_a_block_equals_realization_alone)
{
    for (int i = 0; i < N_MODELS; ++i) {
        long bad = compare_forms(models[i], MG_MESO_BINOMIAL, FORM_LANE_BLOCK,
                                 steps_for(models[i]) / 2, 11);
        ck_assert_msg(bad == 0, "%s: %ld steps differ", models[i] ? models[i] : "B1", bad);
    }
}
END_TEST

START_TEST(cuda_group_kernel_emulation_equals_core)
{
    for (int i = 0; i < N_MODELS; ++i) {
        long bad = compare_forms(models[i], MG_MESO_BINOMIAL, FORM_GROUP, steps_for(models[i]), 9);
        ck_assert_msg(bad == 0, "%s: %ld steps differ", models[i] ? models[i] : "B1", bad);
    }
}
END_TEST

/* Negative control: a different order of the same sums must be seen. */
START_TEST(a_different_order_is_detected)
{
    long bad = compare_forms(NULL, MG_MESO_BINOMIAL, FORM_GROUP_CHAIN, STEPS_SMALL, 9);
    ck_assert_msg(bad > 100, "a chained sum went unnoticed (%ld steps differ)", bad);
    bad = compare_forms("data/models/nest_brunel_ei.json", MG_MESO_BINOMIAL, FORM_GROUP_CHAIN,
                        STEPS_LARGE, 9);
    ck_assert_msg(bad > 100, "a chained sum went unnoticed on NEST E/I (%ld steps differ)", bad);
}
END_TEST

/* The documented definition itself, on a hand-made tile: the scan's lanes and the tree. */
START_TEST(scan_and_tree_follow_the_documented_order)
{
    /* terms whose sums round differently in different orders */
    const double c[8] = {1.0, 1e-16, 1e-16, 1e-16, 1e-16, 1e-16, 1e-16, 1e-16};
    double e[8];
    double total = mg_meso_scan8(c, e);
    double a1[8], a2[8], a3[8];
    a1[0] = 0.0;
    for (int j = 1; j < 8; ++j)
        a1[j] = c[j - 1];
    for (int j = 0; j < 8; ++j)
        a2[j] = j >= 1 ? a1[j] + a1[j - 1] : a1[j];
    for (int j = 0; j < 8; ++j)
        a3[j] = j >= 2 ? a2[j] + a2[j - 2] : a2[j];
    for (int j = 0; j < 8; ++j) {
        double want = j >= 4 ? a3[j] + a3[j - 4] : a3[j];
        ck_assert_msg(memcmp(&want, &e[j], sizeof want) == 0, "lane %d: %.17g vs %.17g", j,
                      e[j], want);
    }
    double want_total = e[7] + c[7];
    ck_assert(memcmp(&want_total, &total, sizeof total) == 0);
    double tree = ((c[0] + c[1]) + (c[2] + c[3])) + ((c[4] + c[5]) + (c[6] + c[7]));
    double got = mg_meso_tree8(c);
    ck_assert(memcmp(&tree, &got, sizeof got) == 0);
    /* and these terms do tell the orders apart */
    double chain = 0.0;
    for (int j = 0; j < 8; ++j)
        chain += c[j];
    ck_assert_msg(chain != tree, "the test terms do not distinguish the orders");
}
END_TEST

MG_TEST_SUITE(meso_order,
              MG_TCASE("order", 600, scan_and_tree_follow_the_documented_order,
                       host_pass_form_equals_tile_form, lane_of_a_block_equals_realization_alone,
                       cuda_group_kernel_emulation_equals_core, a_different_order_is_detected))
