/* src/ffs/ffs.c: the forward-flux-sampling driver (include/mesogif/ffs.h, docs/SWITCHING.md).
 *
 * 1. Basin runs: R realizations from the model's initial state (the realizations `mesogif run`
 *    would simulate with the same seed), a warm-up, then an exploration round that places the
 *    first interface lambda_0 of each direction (auto: the value the smoothed observable
 *    exceeds in 5 % of the bins spent in state A), then counting rounds: exposure (time in
 *    state A once A has been entered) and first crossings of lambda_0 after A, whose states are
 *    stored, until the flux is known to rel_err / 2 (or the basin budget is spent).
 * 2. Per direction, stage by stage: trials start from stored states of interface i and run
 *    until lambda > lambda_{i+1} (success: the state is stored for stage i+1) or lambda <
 *    lambda_A (failure). With auto placement a pilot of trials run to A or B first, and
 *    lambda_{i+1} is put where a fraction p_target of the pilots' largest lambda lay above it.
 * 3. Refinement: while the relative standard error of k = flux * prod p_i exceeds rel_err,
 *    stages get more trials in proportion to their share of the variance.
 * Every decision depends only on results gathered in a fixed order (basin runs and trials in
 * index order), so the estimate does not depend on threads or on the chunk size. */
#include "ffs/ffs_state.h"
#include "engine/job.h" /* mg_cpu_device_name */
#include "mesogif/stats.h"

#include <math.h>
#include <omp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static void logf_(const mg_ffs_opts *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void logf_(const mg_ffs_opts *o, const char *fmt, ...)
{
    if (!o->log)
        return;
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    o->log(line, o->log_user);
}


/* ---- the run ------------------------------------------------------------------------------ */


static const char *dir_name(int d)
{
    return d == 0 ? "low" : "high";
}

/* Observable value (Hz) of lambda in direction d. */
static double obs_of(int d, double lam)
{
    return d == 0 ? lam : -lam;
}

/* Move the crossings the basin runs recorded in their last call into the interface-0 pools,
 * in realization order then time order. */
static int collect_crossings(run_ctx *X, mg_err *err)
{
    for (int i = 0; i < X->nb; ++i) {
        mg_ffs_basin *b = &X->br[i];
        for (int k = 0; k < b->n_cross; ++k) {
            mg_ffs_crossing *x = &b->cross[k];
            pool *p = &X->pools[x->d][0];
            if (p->n < X->J.o.pool_max && mg_ffs_pool_add(p, x->state, x->t, x->lam, (int32_t)p->n))
                return mg_err_set(err, MG_ENOMEM, "out of memory for the crossing states");
            free(x->state);
        }
        b->n_cross = 0;
    }
    return MG_OK;
}

/* Advance every basin run to step t_end. */
static int basin_to(run_ctx *X, int64_t t_end, mg_err *err)
{
    int64_t t0 = X->br[0].t;
    int rc = X->eng->basin(&X->J, X->br, X->nb, t_end, err);
    if (rc != MG_OK)
        return rc;
    double s = (double)(t_end - t0) * X->nb * X->J.o.dt_ms * 1e-3;
    X->spent_s += s;
    X->r->basin_s += s;
    return collect_crossings(X, err);
}

/* The value of lambda exceeded in a fraction q of the bins of direction d's histogram. */
static double hist_quantile(const run_ctx *X, int d, double q)
{
    int64_t h[MG_FFS_HIST + 2];
    int64_t tot = 0;
    for (int k = 0; k < MG_FFS_HIST + 2; ++k) {
        h[k] = 0;
        for (int i = 0; i < X->nb; ++i)
            h[k] += X->br[i].hist[d * (MG_FFS_HIST + 2) + k];
        tot += h[k];
    }
    if (tot == 0)
        return NAN;
    const double hi = X->J.lam_B[d], lo = X->J.lam_thr[d] - (hi - X->J.lam_thr[d]);
    double want = q * (double)tot, cum = 0.0;
    for (int k = MG_FFS_HIST + 1; k >= 1; --k) {
        cum += (double)h[k];
        if (cum >= want)
            return k == MG_FFS_HIST + 1 ? hi : lo + (hi - lo) * (double)(k - 1) / MG_FFS_HIST;
    }
    return lo;
}

/* Steps of one basin round (FFS_ROUND_S simulated), a whole number of stats bins so that the
 * histogram and the count stay bin-aligned. */
static int64_t round_steps(const mg_ffs_job *J)
{
    const int64_t st_L = J->lc.st_L;
    const double step_s = J->o.dt_ms * 1e-3;
    return (int64_t)ceil(FFS_ROUND_S / step_s / (double)st_L) * st_L;
}

/* Steps of the warm-up, rounded up to whole stats bins (the 1e-9 keeps an exact multiple
 * from gaining a bin through rounding). */
static int64_t warmup_steps(const mg_ffs_job *J)
{
    const int64_t st_L = J->lc.st_L;
    return (int64_t)ceil(J->o.t_warmup_ms / J->o.dt_ms / (double)st_L - 1e-9) * st_L;
}

/* Auto lambda_0 of direction d from the exploration histogram (FFS_Q0 quantile). */
static int auto_first_interface(run_ctx *X, int d, double delta, int64_t t_explore,
                                mg_err *err)
{
    mg_ffs_job *J = &X->J;
    const mg_ffs_opts *o = &J->o;
    double q = hist_quantile(X, d, FFS_Q0);
    if (isnan(q))
        return mg_err_set(err, MG_EINVAL, "no basin realization was in state %s after "
                          "the warm-up (%lld realizations, %g s each): the model may "
                          "have no %s state with these --switch-thresholds (%g,%g Hz)",
                          dir_name(d), (long long)o->basin_realizations,
                          (double)t_explore * (o->dt_ms * 1e-3), dir_name(d), J->lc.lo,
                          J->lc.hi);
    if (q > J->lam_thr[d] + delta) {
        /* the basin reaches past its threshold often: A is the threshold's, exactly the
         * state of `run` */
        J->lam0[d] = q < J->lam_B[d] - delta ? q : J->lam_B[d] - delta;
        return MG_OK;
    }
    /* the basin lies deep inside the threshold: A becomes its core, the median of lambda in
     * state A (docs/SWITCHING.md, "Basin core") */
    double core = hist_quantile(X, d, 0.5);
    J->lam_A[d] = core < J->lam_thr[d] ? core : J->lam_thr[d];
    J->lam0[d] = q > J->lam_A[d] + delta ? q : J->lam_A[d] + delta;
    logf_(o, "from %s: basin core at %g Hz (the threshold %g Hz is rarely reached)",
          dir_name(d), obs_of(d, J->lam_A[d]), obs_of(d, J->lam_thr[d]));
    return MG_OK;
}

/* lambda_0 of direction d: the first of --interfaces when given, else auto. */
static int place_first_interface(run_ctx *X, int d, int64_t t_explore, mg_err *err)
{
    mg_ffs_job *J = &X->J;
    const mg_ffs_opts *o = &J->o;
    /* taken before auto placement may move lam_A to the basin core */
    const double delta = (J->lam_B[d] - J->lam_A[d]) / 200.0;
    if (o->n_interfaces > 0) {
        J->lam0[d] = d == 0 ? o->interfaces[0] : -o->interfaces[o->n_interfaces - 1];
    } else {
        int rc = auto_first_interface(X, d, delta, t_explore, err);
        if (rc != MG_OK)
            return rc;
    }
    logf_(o, "from %s: first interface at %g Hz", dir_name(d), obs_of(d, J->lam0[d]));
    return MG_OK;
}

/* Warm-up and exploration round, then lambda_0 of both directions. */
static int explore_basins(run_ctx *X, int64_t warm, int64_t t_explore, mg_err *err)
{
    mg_ffs_job *J = &X->J;
    const int64_t st_L = J->lc.st_L;
    /* the histogram starts after the warm-up, the count after the exploration round */
    J->b_hist = warm / st_L;
    J->b_count = INT64_MAX;
    J->lam0[0] = J->lam0[1] = INFINITY;
    int rc = basin_to(X, t_explore, err);
    if (rc != MG_OK)
        return rc;
    for (int d = 0; d < 2; ++d) {
        rc = place_first_interface(X, d, t_explore, err);
        if (rc != MG_OK)
            return rc;
    }
    J->b_count = t_explore / st_L;
    X->explored = 1;
    return MG_OK;
}

/* Whether both fluxes are known well enough: FFS_MIN_CROSS crossings each and a relative
 * variance within (rel_err / 2)^2, half the rate's error budget. */
static int fluxes_known(const run_ctx *X)
{
    const mg_ffs_opts *o = &X->J.o;
    int done = 1;
    for (int d = 0; d < 2; ++d) {
        double flux, rv, T;
        int64_t C;
        mg_ffs_flux(X, d, &flux, &rv, &C, &T);
        if (C < FFS_MIN_CROSS || rv > o->rel_err * o->rel_err / 4.0)
            done = 0;
    }
    return done;
}

/* Counting rounds of the basin runs until the fluxes are known or the basin budget is spent. */
static int count_crossings(run_ctx *X, int64_t round, mg_err *err)
{
    const mg_ffs_opts *o = &X->J.o;
    for (;;) {
        if (fluxes_known(X) || X->r->basin_s >= o->basin_budget_s)
            return MG_OK;
        if (o->cancel && *o->cancel)
            return mg_err_set(err, MG_EINTR, "interrupted");
        int rc = basin_to(X, X->br[0].t + round, err);
        if (rc != MG_OK)
            return rc;
        double f0, r0, T0, f1, r1, T1;
        int64_t C0, C1;
        mg_ffs_flux(X, 0, &f0, &r0, &C0, &T0);
        mg_ffs_flux(X, 1, &f1, &r1, &C1, &T1);
        logf_(o, "basin runs: %.4g s simulated; crossings from low %lld in %.4g s, from high "
              "%lld in %.4g s", X->r->basin_s, (long long)C0, T0, (long long)C1, T1);
    }
}

/* After counting: a direction without a single crossing has no flux (an error); one whose
 * flux missed its error budget is reported but kept. */
static int check_fluxes(const run_ctx *X, mg_err *err)
{
    const mg_ffs_job *J = &X->J;
    const mg_ffs_opts *o = &J->o;
    for (int d = 0; d < 2; ++d) {
        double flux, rv, T;
        int64_t C;
        mg_ffs_flux(X, d, &flux, &rv, &C, &T);
        if (C == 0)
            return mg_err_set(err, MG_EINVAL, "the basin runs never left the %s state past the "
                              "first interface (%g Hz) within the basin budget of %g simulated "
                              "s (%.4g s spent in state %s): raise --basin-budget or move the "
                              "first interface towards the basin (--interfaces)",
                              dir_name(d), obs_of(d, J->lam0[d]), o->basin_budget_s, T,
                              dir_name(d));
        if (sqrt(rv) > o->rel_err / 2.0)
            logf_(o, "warning: from %s: the flux is known to %.3g only (basin budget %g s "
                  "spent)", dir_name(d), sqrt(rv), o->basin_budget_s);
    }
    return MG_OK;
}

/* Phase 1 (file comment). A resumed run skips the parts its checkpoint says are done. */
static int basin_phase(run_ctx *X, mg_err *err)
{
    const int64_t round = round_steps(&X->J);
    int rc;
    if (!X->explored) {
        const int64_t warm = warmup_steps(&X->J);
        rc = explore_basins(X, warm, warm + round, err);
        if (rc != MG_OK)
            return rc;
    }
    if (X->basin_done)
        return MG_OK;
    rc = count_crossings(X, round, err);
    if (rc != MG_OK)
        return rc;
    rc = check_fluxes(X, err);
    if (rc != MG_OK)
        return rc;
    X->basin_done = 1;
    return MG_OK;
}

/* Refuse a batch that cannot run: no start state at interface i, or a stage past
 * FFS_TRIALS_MAX; grow the stage's per-state counts to the pool. */
static int check_trial_batch(run_ctx *X, int d, int i, int64_t n, int pilot, mg_err *err)
{
    const pool *from = &X->pools[d][i];
    stage *s = &X->st[d][i];
    if (from->n == 0)
        return mg_err_set(err, MG_EINVAL, "from %s: no stored state at interface %d", dir_name(d),
                          i);
    int64_t k0 = pilot ? 0 : s->next;
    if (k0 + n > FFS_TRIALS_MAX)
        return mg_err_set(err, MG_EINVAL, "from %s: stage %d would need more than %d trials "
                          "(p = %lld/%lld so far): the interfaces are too far apart (set them "
                          "closer with --interfaces, or use auto)", dir_name(d), i,
                          FFS_TRIALS_MAX, (long long)s->S, (long long)s->M);
    if (!pilot && mg_ffs_stage_grow(s, from->n))
        return mg_err_set(err, MG_ENOMEM, "out of memory");
    return MG_OK;
}

/* Set up X->tr[0..m) for trials k_first.. of a batch of n from interface i. */
static void prepare_trials(run_ctx *X, int d, int i, int64_t k_first, int m, int64_t n,
                           int pilot, double lam_next)
{
    const pool *from = &X->pools[d][i];
    const int rows = X->J.rows;
    for (int b = 0; b < m; ++b) {
        int64_t k = k_first + b;
        /* pilots spread over the pool; stage trials go round it */
        int64_t c = pilot ? (k * (from->n > n ? from->n / n : 1)) % from->n : k % from->n;
        mg_ffs_trial *tr = &X->tr[b];
        memset(tr, 0, sizeof *tr);
        tr->start = from->states + c * rows;
        tr->t0 = from->t[c];
        tr->real = mg_ffs_trial_id(d, pilot, i, k);
        tr->cfg = c;
        tr->end_state = pilot ? NULL : X->end_buf + (int64_t)b * rows;
        if (from->lam[c] > lam_next) {
            /* this state already lies past the next interface (a jump over it within one
             * bin): the trial succeeds at once, at this state */
            tr->skip = 1;
            tr->outcome = 1;
            tr->max_lam = tr->end_lam = from->lam[c];
            tr->end_t = from->t[c];
            if (tr->end_state)
                memcpy(tr->end_state, tr->start, (size_t)rows * sizeof(double));
        }
    }
}

/* Count one finished stage trial for its start state and its tree root; a success's end
 * state joins the pool of interface i + 1 (while the pool has room). */
static int book_stage_trial(run_ctx *X, int d, int i, const mg_ffs_trial *tr, mg_err *err)
{
    const pool *from = &X->pools[d][i];
    pool *to = &X->pools[d][i + 1];
    stage *s = &X->st[d][i];
    int64_t c = tr->cfg;
    s->M += 1;
    s->m_c[c] += 1;
    if (mg_ffs_stage_log(s, from->root[c], tr->outcome == 1))
        return mg_err_set(err, MG_ENOMEM, "out of memory");
    if (tr->outcome == 1) {
        s->S += 1;
        s->s_c[c] += 1;
        if (to->n < X->J.o.pool_max &&
            mg_ffs_pool_add(to, tr->end_state, tr->end_t, tr->end_lam, from->root[c]))
            return mg_err_set(err, MG_ENOMEM, "out of memory for the crossing states");
    }
    return MG_OK;
}

/* Account the simulated time of X->tr[0..m) and book them (pilots: their largest lambda, into
 * max_out[c0..]). A trial that hit --trial-max stops the run. */
static int book_trials(run_ctx *X, int d, int i, int64_t c0, int m, int pilot, double lam_next,
                       double *max_out, mg_err *err)
{
    const mg_ffs_opts *o = &X->J.o;
    const pool *from = &X->pools[d][i];
    for (int b = 0; b < m; ++b) {
        mg_ffs_trial *tr = &X->tr[b];
        double s_sim = (double)(tr->end_t - tr->t0) * o->dt_ms * 1e-3;
        X->spent_s += s_sim;
        X->r->trial_s[d] += s_sim;
        if (tr->outcome < 0)
            return mg_err_set(err, MG_EINVAL, "from %s: a trial of stage %d ran for "
                              "--trial-max = %g s without reaching %g Hz or falling back "
                              "past %g Hz (raise --trial-max)", dir_name(d), i,
                              o->trial_max_s, obs_of(d, lam_next), obs_of(d, X->J.lam_A[d]));
        if (pilot) {
            int64_t c = tr->cfg;
            max_out[c0 + b] = tr->max_lam > from->lam[c] ? tr->max_lam : from->lam[c];
            continue;
        }
        int rc = book_stage_trial(X, d, i, tr, err);
        if (rc != MG_OK)
            return rc;
    }
    return MG_OK;
}

/* Run `n` more trials of stage i of direction d (pilot: no stage bookkeeping; the largest
 * lambdas go to max_out[n]), in chunks of X->chunk, in trial order. */
static int run_trials(run_ctx *X, int d, int i, int64_t n, int pilot, double lam_next,
                      double *max_out, mg_err *err)
{
    mg_ffs_job *J = &X->J;
    stage *s = &X->st[d][i];
    int rc = check_trial_batch(X, d, i, n, pilot, err);
    if (rc != MG_OK)
        return rc;
    const int64_t k0 = pilot ? 0 : s->next;
    for (int64_t c0 = 0; c0 < n; c0 += X->chunk) {
        if (J->o.cancel && *J->o.cancel)
            return mg_err_set(err, MG_EINTR, "interrupted");
        int m = (int)(n - c0 < X->chunk ? n - c0 : X->chunk);
        prepare_trials(X, d, i, k0 + c0, m, n, pilot, lam_next);
        rc = X->eng->trials(J, X->tr, m, d, J->lam_A[d], lam_next, err);
        if (rc != MG_OK)
            return rc;
        rc = book_trials(X, d, i, c0, m, pilot, lam_next, max_out, err);
        if (rc != MG_OK)
            return rc;
        if (!pilot)
            s->next += m;
    }
    return MG_OK;
}

static int cmp_desc(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? 1 : (x > y ? -1 : 0);
}

/* Auto placement of lambda_{i+1}: pilots from interface i to A or B; the interface goes
 * half-way between the k-th and (k+1)-th largest of their largest lambdas, k = p_target *
 * pilots, so that about p_target of them would have succeeded; the last interface (B's
 * threshold) when at least k pilots reached B. Never closer than delta to lambda_i. */
static int place_next(run_ctx *X, int d, int i, double *lam_next, mg_err *err)
{
    mg_ffs_job *J = &X->J;
    const double lamB = J->lam_B[d];
    const double delta = (J->lam_B[d] - J->lam_A[d]) / 200.0;
    if (i + 1 >= MG_FFS_IF_MAX) {
        *lam_next = lamB;
        return MG_OK;
    }
    int64_t n = J->o.pilot_trials;
    double *mx = malloc((size_t)n * sizeof(double));
    if (!mx)
        return mg_err_set(err, MG_ENOMEM, "out of memory");
    int rc = run_trials(X, d, i, n, 1, lamB, mx, err);
    if (rc != MG_OK) {
        free(mx);
        return rc;
    }
    qsort(mx, (size_t)n, sizeof(double), cmp_desc);
    int64_t k = llround(J->o.p_target * (double)n);
    k = k < 1 ? 1 : (k > n - 1 ? n - 1 : k);
    double v = 0.5 * (mx[k - 1] + mx[k]);
    if (mx[k - 1] > lamB || v >= lamB - delta)
        v = lamB;
    double floor_v = X->lam[d][i] + delta;
    if (v < floor_v)
        v = floor_v < lamB ? floor_v : lamB;
    free(mx);
    *lam_next = v;
    return MG_OK;
}

/* First pass of direction d: stages until B, each with trials_first trials (more while no
 * trial succeeds, up to the limit). */
static int build_direction(run_ctx *X, int d, mg_err *err)
{
    mg_ffs_job *J = &X->J;
    const mg_ffs_opts *o = &J->o;
    if (X->dir_state[d] != 0)
        return MG_OK;
    X->lam[d][0] = J->lam0[d];
    int nu = o->n_interfaces;
    /* after a resume: continue the last stage begun */
    for (int i = X->n_stages[d] > 0 ? X->n_stages[d] - 1 : 0;; ++i) {
        stage *s = &X->st[d][i];
        if (i >= X->n_stages[d]) {
            double lam_next = J->lam_B[d];
            if (nu > 0) {
                if (i + 1 < nu)
                    lam_next = d == 0 ? o->interfaces[i + 1] : -o->interfaces[nu - 2 - i];
            } else {
                int rc = place_next(X, d, i, &lam_next, err);
                if (rc != MG_OK)
                    return rc;
            }
            X->lam[d][i + 1] = lam_next;
            s->lam_next = lam_next;
            s->goal = o->trials_first;
            X->n_stages[d] = i + 1;
        }
        for (;;) {
            if (s->next < s->goal) {
                int rc = run_trials(X, d, i, s->goal - s->next, 0, s->lam_next, NULL, err);
                if (rc != MG_OK)
                    return rc;
            }
            if (s->S > 0)
                break;
            s->goal = 2 * s->next; /* double the trials while none succeeds */
        }
        double p, var;
        int64_t ncfg;
        mg_ffs_stage_p(s, &p, &var, &ncfg);
        logf_(o, "from %s: stage %d: interface %g Hz -> %g Hz, p = %lld/%lld = %.4g (%lld "
              "start states)", dir_name(d), i, obs_of(d, X->lam[d][i]), obs_of(d, s->lam_next),
              (long long)s->S, (long long)s->M, p, (long long)ncfg);
        if (s->lam_next >= J->lam_B[d])
            break;
    }
    X->dir_state[d] = 1;
    return MG_OK;
}

/* Log the rate of direction d and its error, and say whether refining stops: the error is
 * within rel_err, the budget is spent, or the flux alone uses up the error. Otherwise
 * *target is the relative variance each stage may keep. */
static int refine_should_stop(const run_ctx *X, int d, double *target)
{
    const mg_ffs_opts *o = &X->J.o;
    double k, sum, bv;
    double rv = mg_ffs_rate_relvar(X, d, &k, &sum, &bv);
    logf_(o, "from %s: rate %.4g Hz, relative error %.3g (stages %.3g, tree bootstrap "
          "%.3g; round %d)", dir_name(d), k, sqrt(rv), sqrt(sum), sqrt(bv),
          X->refine_round[d]);
    if (sqrt(rv) <= o->rel_err)
        return 1;
    if (X->spent_s >= o->budget_s) {
        logf_(o, "warning: from %s: the budget of %g simulated s is spent", dir_name(d),
              o->budget_s);
        return 1;
    }
    double flux, frv, T;
    int64_t C;
    mg_ffs_flux(X, d, &flux, &frv, &C, &T);
    /* stages share what the flux leaves, with 10 % to spare */
    double left = 0.9 * o->rel_err * o->rel_err - frv;
    if (left <= 0) {
        logf_(o, "warning: from %s: the flux alone has relative error %.3g > --rel-err",
              dir_name(d), sqrt(frv));
        return 1;
    }
    /* the per-stage formula drives the allocation; when the tree bootstrap finds more
     * variance, every stage is asked for that much less */
    double infl = bv > sum && sum > 0 ? bv / sum : 1.0;
    *target = left / X->n_stages[d] / infl;
    return 0;
}

/* Set each stage's goal: enough more trials (at least 8, within FFS_TRIALS_MAX) to bring its
 * relative variance var/p^2 down to target, assuming it falls as 1/trials. */
static void plan_refinement(run_ctx *X, int d, double target)
{
    for (int i = 0; i < X->n_stages[d]; ++i) {
        stage *s = &X->st[d][i];
        double p, var;
        int64_t nc;
        mg_ffs_stage_p(s, &p, &var, &nc);
        double v = var / (p * p);
        int64_t more = 0;
        if (v > target) {
            more = (int64_t)ceil((double)s->M * (v / target - 1.0));
            more = more < 8 ? 8 : more;
            if (s->next + more > FFS_TRIALS_MAX)
                more = FFS_TRIALS_MAX - s->next;
        }
        s->goal = s->next + (more > 0 ? more : 0);
    }
}

/* Run the planned trials of direction d, stage by stage (after a resume: those left). */
static int run_refinement(run_ctx *X, int d, mg_err *err)
{
    const mg_ffs_opts *o = &X->J.o;
    for (int i = 0; i < X->n_stages[d]; ++i) {
        stage *s = &X->st[d][i];
        if (s->next >= s->goal)
            continue;
        int rc = run_trials(X, d, i, s->goal - s->next, 0, s->lam_next, NULL, err);
        if (rc != MG_OK)
            return rc;
        double p, var;
        int64_t nc;
        mg_ffs_stage_p(s, &p, &var, &nc);
        logf_(o, "from %s: stage %d: %lld trials, p = %.4g +- %.2g rel (%lld start states)",
              dir_name(d), i, (long long)s->M, p, sqrt(var) / p, (long long)nc);
    }
    return MG_OK;
}

/* More trials where the variance is, until the rate's relative error is below rel_err.
 * X->plan[d] marks a round whose goals are set, so a resumed run finishes that round's plan
 * rather than making a new one. */
static int refine_direction(run_ctx *X, int d, mg_err *err)
{
    if (X->dir_state[d] == 2)
        return MG_OK;
    for (; X->refine_round[d] < FFS_REFINE_ROUNDS; ++X->refine_round[d]) {
        if (!X->plan[d]) {
            double target = 0.0;
            if (refine_should_stop(X, d, &target))
                break;
            plan_refinement(X, d, target);
            X->plan[d] = 1;
        }
        int rc = run_refinement(X, d, err);
        if (rc != MG_OK)
            return rc;
        X->plan[d] = 0;
    }
    X->dir_state[d] = 2;
    return MG_OK;
}

static double wall_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* The engine of (level, backend) (src/ffs/ffs_internal.h). Here, in the driver above the
 * engines, since the engines call the shared bookkeeping of src/ffs/ffs_engine.c: with the table
 * there the two would call each other. */
const mg_ffs_engine *mg_ffs_engine_for(mg_level level, mg_backend backend)
{
    const int micro = level == MG_LEVEL_MICRO;
#ifdef MG_HAVE_CUDA
    /* auto: the device when one answers, for the meso level; the micro level stays on the CPU
     * under auto until its CUDA engine has been checked on a device (as `run`'s micro backend) */
    char name[160];
    if (backend == MG_BACKEND_CUDA ||
        (backend == MG_BACKEND_AUTO && !micro && mg_cuda_available(name, sizeof name)))
        return micro ? &mg_ffs_engine_micro_cuda : &mg_ffs_engine_meso_cuda;
#else
    if (backend == MG_BACKEND_CUDA)
        return NULL;
#endif
    return micro ? &mg_ffs_engine_micro_cpu : &mg_ffs_engine_meso_cpu;
}

/* The job of the estimate: its engine, the options as run, the observer rows after the
 * engine's and the basin thresholds of both directions (direction 1 runs on -D, so that both
 * cross their interfaces upwards). */
static int setup_job(run_ctx *X, const mg_model *m, const mg_ffs_opts *o, const mg_stats_cfg *c,
                     int64_t st_L, mg_err *err)
{
    X->eng = mg_ffs_engine_for(o->level, o->backend);
    mg_ffs_job *J = &X->J;
    J->model = m;
    J->o = *o;
    J->o.pool_max = mg_ffs_pool_max(o);
    J->threads = o->threads > 0 ? o->threads : omp_get_max_threads();
    if (!X->eng)
        return mg_err_set(err, MG_EINVAL, "--backend: no %s engine for switch on this backend "
                          "(allowed: auto, cpu)", mg_level_name(o->level));
    int rc = X->eng->setup(J, err);
    if (rc != MG_OK)
        return rc;
    mg_ffs_lane_layout(&J->lc, m, c, st_L, o->dt_ms, J->dyn_rows);
    J->rows = J->dyn_rows + J->lc.rows;
    J->lam_thr[0] = J->lam_A[0] = c->sw_lo;
    J->lam_B[0] = c->sw_hi;
    J->lam_thr[1] = J->lam_A[1] = -c->sw_hi;
    J->lam_B[1] = -c->sw_lo;
    J->trial_cap_steps = (int64_t)ceil(o->trial_max_s * 1e3 / o->dt_ms);
    for (int d = 0; d < 2; ++d)
        for (int i = 0; i <= MG_FFS_IF_MAX; ++i)
            X->pools[d][i].rows = J->rows;
    return MG_OK;
}

/* The basin runs, realizations 0 .. R-1 in the model's initial state with a fresh observer,
 * and the buffers of one engine call of trials. MG_ENOMEM; what was allocated is freed by
 * free_ctx. */
static int alloc_basins(run_ctx *X, mg_err *err)
{
    const mg_ffs_job *J = &X->J;
    X->nb = (int)J->o.basin_realizations;
    X->br = calloc((size_t)X->nb, sizeof *X->br);
    X->chunk = mg_ffs_chunk(&J->o, J->rows);
    X->tr = calloc((size_t)X->chunk, sizeof *X->tr);
    X->end_buf = malloc((size_t)X->chunk * J->rows * sizeof(double));
    if (!X->br || !X->tr || !X->end_buf)
        return mg_err_set(err, MG_ENOMEM, "out of memory");
    for (int i = 0; i < X->nb; ++i) {
        mg_ffs_basin *b = &X->br[i];
        b->state = malloc((size_t)J->rows * sizeof(double));
        b->hist = calloc(2 * (MG_FFS_HIST + 2), sizeof(int64_t));
        if (!b->state || !b->hist)
            return mg_err_set(err, MG_ENOMEM, "out of memory");
        b->real = (uint32_t)i;
        mg_lanes st = {b->state, 1};
        if (X->eng->init(J, b->state, b->real))
            return mg_err_set(err, MG_ENOMEM, "out of memory");
        mg_ffs_obs_init(&J->lc, st);
    }
    return MG_OK;
}

/* The three phases (from the checkpoint o->resume_path when given). A stop by the cancel flag
 * writes the checkpoint o->checkpoint_path when given and returns MG_ESTOPPED. */
static int estimate(run_ctx *X, const mg_ffs_opts *o, mg_err *err)
{
    int rc;
    if (o->resume_path) {
        rc = mg_ffs_ckpt_load(X, o->resume_path, err);
        if (rc != MG_OK)
            return rc;
        logf_(o, "continuing from %s", o->resume_path);
    }
    rc = basin_phase(X, err);
    for (int d = 0; d < 2 && rc == MG_OK; ++d) {
        rc = build_direction(X, d, err);
        if (rc == MG_OK)
            rc = refine_direction(X, d, err);
    }
    if (rc == MG_EINTR && o->checkpoint_path) {
        /* stopped between engine calls (a trial chunk cut short is dropped): the state is one
         * the driver continues from */
        rc = mg_ffs_ckpt_write(X, o->checkpoint_path, err);
        if (rc == MG_OK)
            rc = mg_err_set(err, MG_ESTOPPED, "stopped by a signal; checkpoint written to %s",
                            o->checkpoint_path);
    }
    return rc;
}

/* Direction d of the result: the rate with its log-normal 95 % interval, the flux, the stages. */
static void fill_direction(mg_ffs_result *r, const run_ctx *X, int d, double rel_err)
{
    double k, sum, bv, rv = mg_ffs_rate_relvar(X, d, &k, &sum, &bv);
    double se = sqrt(rv);
    r->rate_rel_se_stages[d] = sqrt(sum);
    r->rate_rel_se_tree[d] = sqrt(bv);
    r->rate_hz[d] = k;
    r->rate_rel_se[d] = se;
    r->reached[d] = se <= rel_err;
    /* log-normal interval: ln k is a sum of independent stage terms (delta method) */
    r->rate_ci_low[d] = k * exp(-1.959963984540054 * se);
    r->rate_ci_high[d] = k * exp(1.959963984540054 * se);
    double frv;
    mg_ffs_flux(X, d, &r->flux_hz[d], &frv, &r->flux_crossings[d], &r->exposure_s[d]);
    r->flux_rel_se[d] = sqrt(frv);
    r->basin_core[d] = obs_of(d, X->J.lam_A[d]);
    r->n_stages[d] = X->n_stages[d];
    for (int i = 0; i <= X->n_stages[d]; ++i)
        r->interfaces[d][i] = obs_of(d, X->lam[d][i]);
    for (int i = 0; i < X->n_stages[d]; ++i) {
        double p, var;
        int64_t nc;
        mg_ffs_stage_p(&X->st[d][i], &p, &var, &nc);
        r->trials[d][i] = X->st[d][i].M;
        r->successes[d][i] = X->st[d][i].S;
        r->start_states[d][i] = nc;
        r->p[d][i] = p;
        r->p_rel_se[d][i] = p > 0 ? sqrt(var) / p : NAN;
    }
}

/* The result of a finished estimate: the options as run (pointers cleared: they belong to the
 * caller), the switching analysis, the machine, both directions. */
static void fill_result(mg_ffs_result *r, const run_ctx *X, const mg_ffs_opts *o,
                        const mg_stats_cfg *c, double state_bytes)
{
    r->opts = *o;
    r->opts.pool_max = X->J.o.pool_max;
    r->opts.log = NULL;
    r->opts.log_user = NULL;
    r->opts.cancel = NULL;
    r->opts.checkpoint_path = r->opts.resume_path = r->opts.output_path = NULL;
    snprintf(r->observable, sizeof r->observable, "%s", c->observable);
    r->lo = c->sw_lo;
    r->hi = c->sw_hi;
    r->smooth_ms = c->sw_window * c->bin_ms;
    r->state_bytes = state_bytes;
    r->backend_name = X->eng->name;
    if (strcmp(X->eng->name, "cuda") != 0 || !mg_cuda_available(r->device, sizeof r->device))
        mg_cpu_device_name(r->device, sizeof r->device, X->J.threads);
    for (int d = 0; d < 2; ++d)
        fill_direction(r, X, d, o->rel_err);
}

/* Everything X owns, X included; the engine's part when it has one. */
static void free_ctx(run_ctx *X)
{
    if (X->br)
        for (int i = 0; i < X->nb; ++i) {
            free(X->br[i].state);
            free(X->br[i].hist);
            for (int k = 0; k < X->br[i].n_cross; ++k)
                free(X->br[i].cross[k].state);
            free(X->br[i].cross);
        }
    free(X->br);
    free(X->tr);
    free(X->end_buf);
    for (int d = 0; d < 2; ++d) {
        for (int i = 0; i <= MG_FFS_IF_MAX; ++i)
            mg_ffs_pool_free(&X->pools[d][i]);
        for (int i = 0; i < MG_FFS_IF_MAX; ++i) {
            free(X->st[d][i].m_c);
            free(X->st[d][i].s_c);
            free(X->st[d][i].log_root);
            free(X->st[d][i].log_succ);
        }
    }
    if (X->eng)
        X->eng->release(&X->J);
    free(X);
}

int mg_ffs_run(const mg_model *m, const mg_ffs_opts *o, mg_ffs_result *r, mg_err *err)
{
    memset(r, 0, sizeof *r);
    double per, total;
    int rc = mg_ffs_estimate(m, o, &per, &total, err);
    if (rc != MG_OK)
        return rc;
    mg_stats_cfg c;
    int64_t st_L;
    mg_ffs_check_opts(m, o, &c, &st_L, err); /* passed in mg_ffs_estimate: c and st_L only */
    run_ctx *X = calloc(1, sizeof *X);
    if (!X)
        return mg_err_set(err, MG_ENOMEM, "out of memory");
    double t_start = wall_now();
    X->r = r;
    rc = setup_job(X, m, o, &c, st_L, err);
    if (rc == MG_OK)
        rc = alloc_basins(X, err);
    if (rc == MG_OK)
        rc = estimate(X, o, err);
    if (rc == MG_OK) {
        fill_result(r, X, o, &c, per);
        r->wall_s = wall_now() - t_start;
    }
    free_ctx(X);
    return rc;
}
