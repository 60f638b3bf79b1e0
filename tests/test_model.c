/* tests/test_model.c: the model file parser and validator (src/model/model.c) and the shipped
 * model files (data/models/<name>.json, MODEL.md §3).
 *
 * TCases: core (shipped files parse and carry MODEL.md's numbers, the embedded default equals
 * bistable_b1.json, defaults, NEST weight conversion), edges (step current semantics, free),
 * errors (every validation rule gives MG_EINVAL, the JSON Pointer of the offending value and
 * the telling words, and leaves the model zeroed). All tests are deterministic (no
 * randomness): false-failure probability 0. Paths are relative to the repository root, where
 * `make test` runs the tests. */
#include "mesogif/model.h"
#include "testutil.h"

#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* ------------------------------------------------------------------------------------------
 * helpers */

static int is_zeroed(const mg_model *m)
{
    static const mg_model zero; /* all bits zero: the parser memsets */
    return memcmp(m, &zero, sizeof zero) == 0;
}

static void load_ok(const char *path, mg_model *m)
{
    mg_err err = {{0}};
    int rc = mg_model_load(path, m, &err);
    ck_assert_msg(rc == MG_OK, "%s does not load: %s", path, err.msg);
}

/* data/models/<name>.json, which must have P populations and (n_proj >= 0) n_proj
 * projections. */
static void load_sized(const char *name, mg_model *m, int P, int n_proj)
{
    char path[256];
    snprintf(path, sizeof path, "data/models/%s.json", name);
    load_ok(path, m);
    ck_assert_int_eq(m->P, P);
    if (n_proj >= 0)
        ck_assert_int_eq(m->n_proj, n_proj);
}

/* A valid two-population model, to be broken one key at a time with jansson. */
static const char *base_text =
    "{\"name\": \"t\", \"description\": \"test\", \"comment\": \"c\","
    " \"simulation\": {\"dt\": 0.5, \"t_sim\": 1000, \"comment\": \"c\"},"
    " \"populations\": ["
    "  {\"name\": \"P1\", \"N\": 500, \"tau_m\": 20.0, \"C_m\": 250.0, \"E_L\": 0.0,"
    "   \"V_reset\": 0.0, \"V_T_star\": 15.0, \"Delta_V\": 2.0, \"lambda_0\": 10.0,"
    "   \"t_ref\": 4.0, \"I_e\": 250.0, \"tau_sfa\": [100.0], \"q_sfa\": [1.0],"
    "   \"len_kernel\": -1, \"comment\": \"c\","
    "   \"step_current\": {\"amplitude_times\": [10.0, 20.0], \"amplitude_values\": [5.0, 0.0],"
    "                     \"comment\": \"c\"}},"
    "  {\"name\": \"P2\", \"N\": 200, \"tau_m\": 10.0, \"C_m\": 200.0, \"V_reset\": 0.0,"
    "   \"V_T_star\": 15.0, \"Delta_V\": 2.0, \"lambda_0\": 10.0, \"t_ref\": 2.0}],"
    " \"projections\": ["
    "  {\"source\": \"P1\", \"target\": \"P2\", \"J\": -0.043, \"p\": 1.0, \"delay\": 1.0,"
    "   \"tau_syn\": 3.0, \"rule\": \"auto\", \"comment\": \"c\"},"
    "  {\"source\": \"P2\", \"target\": \"P1\", \"weight\": 25.0, \"p\": 0.5, \"delay\": 1.5,"
    "   \"tau_syn\": 3.0}]}";

static json_t *base(void)
{
    json_error_t e;
    json_t *b = json_loads(base_text, 0, &e);
    ck_assert_msg(b != NULL, "test base model is not JSON: %s", e.text);
    return b;
}

static json_t *pop(json_t *b, size_t i)
{
    return json_array_get(json_object_get(b, "populations"), i);
}

static json_t *proj(json_t *b, size_t i)
{
    return json_array_get(json_object_get(b, "projections"), i);
}

/* Parse text, which must be refused: MG_EINVAL and a zeroed model (what names it in
 * messages); the message in *err. */
static void parse_refused(const char *text, const char *what, mg_err *err)
{
    mg_model m;
    memset(&m, 0xab, sizeof m); /* the parser must not rely on a zeroed input */
    int rc = mg_model_parse(text, "test.json", &m, err);
    ck_assert_msg(rc == MG_EINVAL, "%s: expected MG_EINVAL, got %d (%s)", what, rc, err->msg);
    ck_assert_msg(is_zeroed(&m), "%s: model not zeroed after an error", what);
    mg_model_free(&m); /* zeroed: must be a no-op */
}

/* Each of the NULL-terminated words of ap is in the message msg (of what). */
static void assert_words(const char *msg, const char *what, va_list ap)
{
    for (const char *w = va_arg(ap, const char *); w; w = va_arg(ap, const char *))
        ck_assert_msg(strstr(msg, w) != NULL, "%s: message lacks \"%s\": %s", what, w, msg);
}

/* Parse text; require MG_EINVAL, a zeroed model, and each of the NULL-terminated words
 * (the first is usually the JSON Pointer) in the message. */
static void expect_text_error(const char *text, const char *what, ...)
{
    mg_err err = {{0}};
    parse_refused(text, what, &err);
    va_list ap;
    va_start(ap, what);
    assert_words(err.msg, what, ap);
    va_end(ap);
}

/* Same for a jansson document (consumed). The message must also start with the path. */
#define expect_error(doc, path, ...) expect_doc_error(doc, path, __VA_ARGS__, (const char *)NULL)
static void expect_doc_error(json_t *doc, const char *path, ...)
{
    char *text = json_dumps(doc, 0);
    json_decref(doc);
    mg_err err = {{0}};
    parse_refused(text, path, &err);
    size_t lp = strlen(path);
    ck_assert_msg(strncmp(err.msg, path, lp) == 0 && err.msg[lp] == ':',
                  "message does not start with \"%s:\": %s", path, err.msg);
    va_list ap;
    va_start(ap, path);
    assert_words(err.msg, path, ap);
    va_end(ap);
    free(text);
}

static void parse_doc_ok(json_t *doc, mg_model *m)
{
    char *text = json_dumps(doc, 0);
    json_decref(doc);
    mg_err err = {{0}};
    int rc = mg_model_parse(text, "dir/some_model.json", m, &err);
    ck_assert_msg(rc == MG_OK, "expected a valid model: %s\n%s", err.msg, text);
    free(text);
}

/* mean-field coupling w = J*p*N_source*tau_m(target) in mV/Hz (MODEL.md §2.2) */
static double w_mv_per_hz(const mg_model *m, int k)
{
    const mg_proj *q = &m->proj[k];
    return q->J * q->p * (double)m->pops[q->source].N * m->pops[q->target].tau_m * 1e-3;
}

#define EQ(a, b) ck_assert_double_eq_tol((a), (b), 1e-12 * (fabs(b) + 1.0))

/* ------------------------------------------------------------------------------------------
 * core */

static const char *const shipped[] = {
    "data/models/bistable_b1.json", "data/models/bistable_b2.json",
    "data/models/nest_brunel_ei.json", "data/models/ei_network.json",
    "data/models/uncoupled.json", "data/models/lif_adap.json",
    "data/models/nest_testcase.json"};

START_TEST(shipped_files_parse_and_are_documented)
{
    for (size_t i = 0; i < sizeof shipped / sizeof shipped[0]; i++) {
        mg_model m;
        load_ok(shipped[i], &m);
        ck_assert_msg(m.P >= 1 && m.json && m.source, "%s: empty model", shipped[i]);
        ck_assert_str_eq(m.source, shipped[i]);
        /* name key equals the file's base name */
        char expect[MG_NAME_MAX];
        const char *b = strrchr(shipped[i], '/') + 1;
        snprintf(expect, sizeof expect, "%.*s", (int)(strlen(b) - 5), b);
        ck_assert_str_eq(m.name, expect);
        /* description names the MODEL.md set; simulation block carries dt and bins */
        json_t *doc = json_loads(m.json, 0, NULL);
        const char *d = json_string_value(json_object_get(doc, "description"));
        ck_assert_msg(d && strstr(d, "MODEL.md 3("), "%s: description lacks the MODEL.md set",
                      shipped[i]);
        json_decref(doc);
        ck_assert_msg(m.sim.dt > 0 && m.sim.record_bin > 0 && m.sim.stats_bin > 0 &&
                      m.sim.t_sim > 0 && m.sim.t_warmup >= 0, "%s: simulation block incomplete",
                      shipped[i]);
        for (int a = 0; a < m.P; a++)
            EQ(m.pops[a].C_m, 250.0);
        mg_model_free(&m);
        ck_assert(is_zeroed(&m));
    }
}
END_TEST

START_TEST(b1_values)
{
    mg_model m;
    load_sized("bistable_b1", &m, 2, 2);
    for (int a = 0; a < 2; a++) {
        const mg_pop *p = &m.pops[a];
        ck_assert_int_eq(p->N, 500);
        EQ(mg_pop_mu(p), 20.0);
        EQ(p->I_e, 250.0);
        EQ(p->tau_m, 20.0);
        EQ(p->V_T_star, 15.0);
        EQ(p->V_reset, 0.0);
        EQ(p->Delta_V, 2.0);
        EQ(p->lambda_0, 10.0);
        EQ(p->t_ref, 4.0);
        ck_assert_int_eq(p->n_sfa, 0);
        ck_assert_int_eq(p->len_kernel, -1);
        ck_assert_int_eq(p->n_steps, 0);
    }
    ck_assert_int_eq(mg_model_find_pop(&m, "P1"), 0);
    ck_assert_int_eq(mg_model_find_pop(&m, "P2"), 1);
    for (int k = 0; k < 2; k++) {
        const mg_proj *q = &m.proj[k];
        ck_assert_int_eq(q->source, 1 - q->target); /* cross-inhibition only */
        ck_assert(q->J == -0.043);
        EQ(q->p, 1.0);
        EQ(q->delay, 1.0);
        EQ(q->tau_syn, 3.0);
        ck_assert_int_eq(q->rule, MG_RULE_AUTO);
        EQ(w_mv_per_hz(&m, k), -0.43); /* MODEL.md 3(a) */
    }
    EQ(m.sim.dt, 0.5);
    mg_model_free(&m);
}
END_TEST

START_TEST(b2_values)
{
    mg_model m;
    load_sized("bistable_b2", &m, 2, -1);
    for (int a = 0; a < 2; a++) {
        EQ(mg_pop_mu(&m.pops[a]), 22.0);
        ck_assert_int_eq(m.pops[a].n_sfa, 1);
        EQ(m.pops[a].tau_sfa[0], 1000.0);
        EQ(m.pops[a].q_sfa[0] * m.pops[a].tau_sfa[0] * 1e-3, 0.2); /* J_theta, mV*s */
    }
    for (int k = 0; k < m.n_proj; k++)
        ck_assert(m.proj[k].J == -0.08);
    mg_model_free(&m);
}
END_TEST

/* 3(b) and 3(c): h0 = mu - 0.24*A for both populations. */
static void check_ei(const mg_model *m, double delta_v)
{
    ck_assert_int_eq(m->P, 2);
    ck_assert_int_eq(m->pops[0].N, 800);
    ck_assert_int_eq(m->pops[1].N, 200);
    ck_assert_int_eq(m->n_proj, 4);
    for (int a = 0; a < 2; a++) {
        EQ(mg_pop_mu(&m->pops[a]), 24.0);
        EQ(m->pops[a].Delta_V, delta_v);
    }
    double w_sum[2] = {0, 0};
    for (int k = 0; k < m->n_proj; k++) {
        const mg_proj *q = &m->proj[k];
        int from_e = q->source == mg_model_find_pop(m, "E");
        EQ(q->J, from_e ? 0.3 : -1.5);
        EQ(q->tau_syn, from_e ? 3.0 : 6.0);
        EQ(q->p, 0.2);
        EQ(q->delay, 1.0);
        ck_assert_int_eq(q->rule, MG_RULE_FIXED_INDEGREE);
        w_sum[q->target] += w_mv_per_hz(m, k);
    }
    EQ(w_sum[0], -0.24);
    EQ(w_sum[1], -0.24);
}

START_TEST(nest_brunel_values)
{
    mg_model m;
    load_ok("data/models/nest_brunel_ei.json", &m);
    check_ei(&m, 2.5);
    for (int a = 0; a < 2; a++) {
        const mg_pop *p = &m.pops[a];
        ck_assert_int_eq(p->n_sfa, 2);
        EQ(p->tau_sfa[0], 100.0);
        EQ(p->tau_sfa[1], 1000.0);
        EQ(p->q_sfa[0] * p->tau_sfa[0], 1000.0); /* J_theta in mV*ms */
        EQ(p->q_sfa[1] * p->tau_sfa[1], 1000.0);
        /* +20 mV step of mu at 1500 ms */
        EQ(mg_pop_step_current(p, 1499.9), 0.0);
        EQ(mg_pop_step_current(p, 1500.0) * p->tau_m / p->C_m, 20.0);
    }
    /* NEST mesoscopic weights w_pop = J*p*C_m/tau_syn: 5.0 pA from E, -12.5 pA from I */
    for (int k = 0; k < m.n_proj; k++) {
        const mg_proj *q = &m.proj[k];
        EQ(q->J * q->p * m.pops[q->target].C_m / q->tau_syn, q->J > 0 ? 5.0 : -12.5);
    }
    mg_model_free(&m);
}
END_TEST

START_TEST(ei_network_values)
{
    mg_model m;
    load_ok("data/models/ei_network.json", &m);
    check_ei(&m, 2.5);
    for (int a = 0; a < 2; a++) {
        ck_assert_int_eq(m.pops[a].n_sfa, 0);
        ck_assert_int_eq(m.pops[a].n_steps, 0);
    }
    EQ(m.sim.dt, 0.2);
    mg_model_free(&m);
}
END_TEST

START_TEST(uncoupled_values)
{
    mg_model m;
    load_sized("uncoupled", &m, 1, 0);
    ck_assert_ptr_null(m.proj);
    ck_assert_int_eq(m.pops[0].N, 1000);
    EQ(mg_pop_mu(&m.pops[0]), 18.0);
    EQ(m.pops[0].V_T_star, 15.0);
    ck_assert_int_eq(m.pops[0].n_sfa, 0);
    mg_model_free(&m);
}
END_TEST

START_TEST(lif_adap_values)
{
    mg_model m;
    load_sized("lif_adap", &m, 1, 0);
    const mg_pop *p = &m.pops[0];
    ck_assert_int_eq(p->N, 500);
    EQ(mg_pop_mu(p), 12.0);
    EQ(mg_pop_mu(p) + mg_pop_step_current(p, 700.0) * p->tau_m / p->C_m, 27.0);
    EQ(mg_pop_step_current(p, 699.0), 0.0);
    EQ(p->V_T_star, 10.0);
    ck_assert_int_eq(p->n_sfa, 1);
    EQ(p->q_sfa[0] * p->tau_sfa[0] * 1e-3, 1.5); /* J_theta = 1.5 mV*s */
    EQ(p->tau_sfa[0], 1000.0);
    mg_model_free(&m);
}
END_TEST

START_TEST(nest_testcase_values)
{
    mg_model m;
    load_sized("nest_testcase", &m, 1, -1);
    const mg_pop *p = &m.pops[0];
    ck_assert_int_eq(p->N, 500);
    EQ(mg_pop_mu(p), 40.0);
    EQ(p->V_T_star, 10.0);
    ck_assert_int_eq(p->n_sfa, 1);
    EQ(p->tau_sfa[0], 500.0);
    EQ(p->q_sfa[0], 1.0);
    ck_assert_int_eq(m.n_proj, 1);
    const mg_proj *q = &m.proj[0];
    ck_assert_int_eq(q->source, 0);
    ck_assert_int_eq(q->target, 0);
    ck_assert_msg(q->J == -0.05, "J = %.17g, expected -6.25*2/250 = -0.05", q->J);
    EQ(q->p, 1.0);
    EQ(q->tau_syn, 2.0);
    ck_assert_int_eq(q->rule, MG_RULE_ALL_TO_ALL);
    EQ(w_mv_per_hz(&m, 0), -0.5); /* MODEL.md 3(e) */
    EQ(m.sim.dt, 0.5);
    mg_model_free(&m);
}
END_TEST

/* The complete example of docs/MODEL_FILE.md (its last ```json block) is a valid model. */
START_TEST(documented_example_parses)
{
    FILE *f = fopen("docs/MODEL_FILE.md", "rb");
    ck_assert_msg(f != NULL, "docs/MODEL_FILE.md not found (run from the repository root)");
    static char doc[1 << 16];
    size_t n = fread(doc, 1, sizeof doc - 1, f);
    fclose(f);
    doc[n] = '\0';
    char *start = NULL;
    for (char *p = strstr(doc, "```json\n"); p; p = strstr(p + 1, "```json\n"))
        start = p + 8;
    ck_assert_msg(start != NULL, "no ```json block in docs/MODEL_FILE.md");
    char *end = strstr(start, "```");
    ck_assert(end != NULL);
    *end = '\0';
    mg_model m;
    mg_err err = {{0}};
    ck_assert_msg(mg_model_parse(start, "MODEL_FILE.md", &m, &err) == MG_OK, "%s", err.msg);
    ck_assert_int_eq(m.P, 2);
    EQ(mg_pop_mu(&m.pops[1]), 16.0);                 /* numbers the text quotes */
    EQ(m.proj[1].J, -1.2);
    EQ(w_mv_per_hz(&m, 0), 0.32);
    EQ(w_mv_per_hz(&m, 1), -0.96);
    mg_model_free(&m);
}
END_TEST

START_TEST(default_is_b1)
{
    mg_model d, f;
    mg_err err = {{0}};
    memset(&d, 0xab, sizeof d);
    ck_assert_msg(mg_model_default(&d, &err) == MG_OK, "%s", err.msg);
    load_ok("data/models/bistable_b1.json", &f);
    ck_assert_str_eq(d.source, "<embedded B1>");
    ck_assert_str_eq(d.name, "bistable_b1");
    ck_assert_str_eq(d.json, f.json); /* the embedded text is the file, verbatim */
    ck_assert_int_eq(d.P, f.P);
    ck_assert_int_eq(d.n_proj, f.n_proj);
    for (int a = 0; a < d.P; a++) {
        mg_pop x = d.pops[a], y = f.pops[a];
        ck_assert(x.step_times == NULL && y.step_times == NULL);
        ck_assert_msg(memcmp(&x, &y, sizeof x) == 0, "population %d differs", a);
    }
    ck_assert_msg(memcmp(d.proj, f.proj, (size_t)d.n_proj * sizeof *d.proj) == 0,
                  "projections differ");
    ck_assert_msg(memcmp(&d.sim, &f.sim, sizeof d.sim) == 0, "simulation defaults differ");
    mg_model_free(&d);
    mg_model_free(&f);
}
END_TEST

START_TEST(base_model_values_and_defaults)
{
    mg_model m;
    mg_err err = {{0}};
    ck_assert_msg(mg_model_parse(base_text, "x/y/base.json", &m, &err) == MG_OK, "%s", err.msg);
    ck_assert_str_eq(m.json, base_text); /* verbatim */
    ck_assert_str_eq(m.source, "x/y/base.json");
    ck_assert_str_eq(m.name, "t");
    /* optional keys take their defaults */
    const mg_pop *p2 = &m.pops[1];
    EQ(p2->E_L, 0.0);
    EQ(p2->I_e, 0.0);
    ck_assert_int_eq(p2->n_sfa, 0);
    ck_assert_int_eq(p2->len_kernel, -1);
    ck_assert_int_eq(p2->n_steps, 0);
    ck_assert_ptr_null(p2->step_times);
    /* weight 25 pA, tau_syn 3 ms onto P1 (C_m 250 pF): J = 25*3/250 = 0.3 mV */
    EQ(m.proj[1].J, 0.3);
    EQ(m.proj[1].p, 0.5);
    ck_assert_int_eq(m.proj[1].rule, MG_RULE_AUTO);
    /* simulation: given values kept, absent ones are "not given" (< 0) */
    EQ(m.sim.dt, 0.5);
    EQ(m.sim.t_sim, 1000.0);
    ck_assert(m.sim.t_warmup < 0 && m.sim.record_bin < 0 && m.sim.stats_bin < 0);
    ck_assert_int_eq(mg_model_find_pop(&m, "P3"), -1);
    ck_assert_int_eq(mg_model_find_pop(&m, NULL), -1);
    ck_assert_int_eq(mg_model_find_pop(NULL, "P1"), -1);
    mg_model_free(&m);

    /* minimal file: no name (base name of the source), no simulation, no projections;
     * an explicit t_warmup of 0 stays 0 */
    json_t *b = base();
    json_object_del(b, "name");
    json_object_del(b, "projections");
    json_object_set_new(b, "simulation", json_pack("{s:f}", "t_warmup", 0.0));
    parse_doc_ok(b, &m);
    ck_assert_str_eq(m.name, "some_model");
    ck_assert_int_eq(m.n_proj, 0);
    ck_assert(m.sim.t_warmup == 0.0 && m.sim.dt < 0);
    mg_model_free(&m);

    /* every rule name; J with tau_syn 0 (delta synapse); p = 0; len_kernel >= 1 */
    const char *rules[] = {"auto", "all_to_all", "fixed_indegree", "pairwise_bernoulli"};
    for (int r = 0; r < 4; r++) {
        b = base();
        json_object_set_new(proj(b, 0), "rule", json_string(rules[r]));
        json_object_set_new(proj(b, 0), "tau_syn", json_real(0.0));
        json_object_set_new(proj(b, 1), "p", json_real(r == 1 ? 1.0 : 0.0));
        json_object_set_new(proj(b, 1), "rule", json_string(rules[r]));
        json_object_set_new(pop(b, 0), "len_kernel", json_integer(1));
        parse_doc_ok(b, &m);
        ck_assert_int_eq(m.proj[0].rule, r);
        ck_assert_int_eq(m.proj[1].rule, r);
        EQ(m.proj[0].tau_syn, 0.0);
        ck_assert_int_eq(m.pops[0].len_kernel, 1);
        mg_model_free(&m);
    }

    /* MG_POP_MAX populations are accepted; self and cross projections of all pairs */
    b = base();
    json_t *pops = json_object_get(b, "populations");
    json_t *projs = json_array();
    json_array_remove(pops, 1);
    for (int i = 1; i < MG_POP_MAX; i++) {
        json_t *c = json_deep_copy(json_array_get(pops, 0));
        char nm[16];
        snprintf(nm, sizeof nm, "Q%d", i);
        json_object_set_new(c, "name", json_string(nm));
        json_array_append_new(pops, c);
    }
    for (int i = 0; i < MG_POP_MAX; i++)
        for (int j = 0; j < MG_POP_MAX; j += 9) {
            json_t *o = json_pack("{s:s,s:s,s:f,s:f,s:f}", "source",
                                  json_string_value(json_object_get(json_array_get(pops, j), "name")),
                                  "target",
                                  json_string_value(json_object_get(json_array_get(pops, i), "name")),
                                  "J", 0.1, "delay", 1.0, "tau_syn", 3.0);
            json_array_append_new(projs, o);
        }
    json_object_set_new(b, "projections", projs);
    parse_doc_ok(b, &m);
    ck_assert_int_eq(m.P, MG_POP_MAX);
    ck_assert_int_eq(m.n_proj, MG_POP_MAX * 8);
    ck_assert_int_eq(mg_model_find_pop(&m, "Q63"), 63);
    mg_model_free(&m);
}
END_TEST

/* ------------------------------------------------------------------------------------------
 * edges */

START_TEST(step_current_is_piecewise_constant)
{
    double times[3] = {10.0, 20.0, 30.0}, amps[3] = {1.0, -2.0, 0.5};
    mg_pop p;
    memset(&p, 0, sizeof p);
    EQ(mg_pop_step_current(&p, 0.0), 0.0); /* no steps: no extra current */
    EQ(mg_pop_step_current(&p, 1e9), 0.0);
    p.n_steps = 3;
    p.step_times = times;
    p.step_amps = amps;
    const double t[] = {-5.0, 0.0, 9.999, 10.0, 15.0, 19.999999, 20.0, 29.0, 30.0, 1e12};
    const double want[] = {0.0, 0.0, 0.0, 1.0, 1.0, 1.0, -2.0, -2.0, 0.5, 0.5};
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        ck_assert_msg(mg_pop_step_current(&p, t[i]) == want[i], "I(%g) = %g, expected %g", t[i],
                      mg_pop_step_current(&p, t[i]), want[i]);
    ck_assert(mg_pop_step_current(&p, NAN) == 0.0);

    /* binary search equals a linear scan on a long waveform */
    enum { NS = 1001 };
    static double tt[NS], aa[NS];
    for (int i = 0; i < NS; i++) {
        tt[i] = 0.5 * i + 0.25 * (i % 3);
        aa[i] = i;
    }
    p.n_steps = NS;
    p.step_times = tt;
    p.step_amps = aa;
    for (double x = -1.0; x < 0.5 * NS + 2; x += 0.125) {
        double lin = 0.0;
        for (int i = 0; i < NS; i++)
            if (tt[i] <= x)
                lin = aa[i];
        ck_assert_msg(mg_pop_step_current(&p, x) == lin, "I(%g) = %g, linear scan %g", x,
                      mg_pop_step_current(&p, x), lin);
    }

    /* from a file: the base model's P1 */
    mg_model m;
    mg_err err = {{0}};
    ck_assert_msg(mg_model_parse(base_text, NULL, &m, &err) == MG_OK, "%s", err.msg);
    ck_assert_str_eq(m.source, "<string>");
    ck_assert_int_eq(m.pops[0].n_steps, 2);
    EQ(mg_pop_step_current(&m.pops[0], 9.0), 0.0);
    EQ(mg_pop_step_current(&m.pops[0], 10.0), 5.0);
    EQ(mg_pop_step_current(&m.pops[0], 20.0), 0.0);
    mg_model_free(&m);

    /* empty arrays: allowed, no current */
    json_t *b = base();
    json_object_set_new(pop(b, 0), "step_current",
                        json_pack("{s:[],s:[]}", "amplitude_times", "amplitude_values"));
    parse_doc_ok(b, &m);
    ck_assert_int_eq(m.pops[0].n_steps, 0);
    EQ(mg_pop_step_current(&m.pops[0], 50.0), 0.0);
    mg_model_free(&m);
}
END_TEST

START_TEST(free_is_safe)
{
    mg_model_free(NULL);
    mg_model m;
    memset(&m, 0, sizeof m);
    mg_model_free(&m);
    mg_model_free(&m);
    mg_err err = {{0}};
    ck_assert_int_eq(mg_model_default(&m, &err), MG_OK);
    mg_model_free(&m);
    ck_assert(is_zeroed(&m));
    mg_model_free(&m); /* double free of a freed (zeroed) model */
}
END_TEST

START_TEST(load_errors)
{
    mg_model m;
    mg_err err = {{0}};
    memset(&m, 0xab, sizeof m);
    ck_assert_int_eq(mg_model_load("data/models/no_such_file.json", &m, &err), MG_EIO);
    ck_assert(is_zeroed(&m));
    /* I/O messages name the file (parse messages do not: the caller prefixes the name) */
    ck_assert_msg(strstr(err.msg, "data/models/no_such_file.json: cannot open") == err.msg &&
                  strstr(err.msg, "No such file") != NULL, "%s", err.msg);
    memset(&m, 0xab, sizeof m);
    ck_assert_int_eq(mg_model_load("data/models", &m, &err), MG_EIO); /* a directory */
    ck_assert(is_zeroed(&m));
    memset(&m, 0xab, sizeof m);
    ck_assert_int_eq(mg_model_parse(NULL, "x", &m, &err), MG_EINVAL);
    ck_assert(is_zeroed(&m));
}
END_TEST

/* ------------------------------------------------------------------------------------------
 * errors */

START_TEST(malformed_json)
{
    expect_text_error("{\n  \"populations\": [\n    {\"name\": \"P1\",}\n  ]\n}", "trailing comma",
                      "line 3, column", NULL);
    expect_text_error("", "empty text", "line 1", NULL);
    expect_text_error("{\"populations\": []} x", "trailing garbage", "line 1", NULL);
    /* JSON has no NaN/Inf; an overflowing literal is rejected by the parser */
    expect_text_error("{\"populations\": [{\"tau_m\": 1e400}]}", "non-finite number",
                      "line 1", "overflow", NULL);
    expect_text_error("{\"populations\": [{\"tau_m\": NaN}]}", "NaN literal", "line 1", NULL);
    expect_text_error("{\"populations\": [{\"N\": 5, \"N\": 6}]}", "duplicate key",
                      "line 1", "duplicate", NULL);
    expect_error(json_array(), "/", "must be a JSON object", "an array");
}
END_TEST

START_TEST(unknown_keys)
{
    json_t *b = base();
    json_object_set_new(pop(b, 0), "tau_mem", json_real(20.0));
    expect_error(b, "/populations/0/tau_mem", "unknown key \"tau_mem\"",
                 "(did you mean \"tau_m\"?)", "allowed:", "lambda_0");

    b = base();
    json_object_set_new(b, "projection", json_array());
    expect_error(b, "/projection", "unknown key", "did you mean \"projections\"");

    b = base();
    json_object_set_new(pop(b, 1), "lambda0", json_real(10.0));
    expect_error(b, "/populations/1/lambda0", "did you mean \"lambda_0\"");

    b = base();
    json_object_set_new(proj(b, 1), "zzzzzz", json_true());
    expect_error(b, "/projections/1/zzzzzz", "unknown key \"zzzzzz\" (allowed:", "tau_syn");

    b = base();
    json_object_set_new(json_object_get(b, "simulation"), "dtt", json_real(0.1));
    expect_error(b, "/simulation/dtt", "did you mean \"dt\"");

    b = base();
    json_object_set_new(json_object_get(pop(b, 0), "step_current"), "amplitude_time",
                        json_array());
    expect_error(b, "/populations/0/step_current/amplitude_time", "did you mean");

    b = base(); /* NEST keeps tau_syn on the neuron: say where it goes here */
    json_object_set_new(pop(b, 0), "tau_syn_in", json_real(6.0));
    expect_error(b, "/populations/0/tau_syn_in", "projection", "negative");
    b = base();
    json_object_set_new(pop(b, 1), "tau_syn_ex", json_real(3.0));
    expect_error(b, "/populations/1/tau_syn_ex", "projection", "positive");

    b = base(); /* a key with '/' is escaped in the JSON Pointer (RFC 6901) */
    json_object_set_new(pop(b, 0), "a/b~c", json_true());
    expect_error(b, "/populations/0/a~1b~0c", "unknown key \"a/b~c\"");
}
END_TEST

START_TEST(wrong_types)
{
    json_t *b = base();
    json_object_set_new(pop(b, 0), "tau_m", json_string("20"));
    expect_error(b, "/populations/0/tau_m", "must be a number, not a string", "allowed: number > 0");

    b = base();
    json_object_set_new(pop(b, 1), "N", json_real(500.0));
    expect_error(b, "/populations/1/N", "must be an integer, not a real number",
                 "without a decimal point");

    b = base();
    json_object_set_new(pop(b, 0), "N", json_string("500"));
    expect_error(b, "/populations/0/N", "must be an integer, not a string");

    b = base();
    json_object_set_new(pop(b, 0), "len_kernel", json_real(100.0));
    expect_error(b, "/populations/0/len_kernel", "must be an integer");

    b = base();
    json_object_set_new(pop(b, 0), "tau_sfa", json_real(100.0));
    expect_error(b, "/populations/0/tau_sfa", "must be an array, not a real number");

    b = base();
    json_object_set_new(pop(b, 0), "q_sfa", json_pack("[s]", "1"));
    expect_error(b, "/populations/0/q_sfa/0", "must be a number, not a string");

    b = base();
    json_object_set_new(pop(b, 0), "name", json_integer(1));
    expect_error(b, "/populations/0/name", "must be a string, not an integer");

    b = base();
    json_object_set_new(b, "populations", json_object());
    expect_error(b, "/populations", "must be an array, not an object");

    b = base();
    json_array_set_new(json_object_get(b, "populations"), 1, json_integer(3));
    expect_error(b, "/populations/1", "must be an object, not an integer");

    b = base();
    json_object_set_new(proj(b, 0), "source", json_integer(0));
    expect_error(b, "/projections/0/source", "must be a string", "\"P1\", \"P2\"");

    b = base();
    json_object_set_new(proj(b, 0), "rule", json_null());
    expect_error(b, "/projections/0/rule", "must be a string, not null");

    b = base();
    json_object_set_new(b, "simulation", json_real(0.5));
    expect_error(b, "/simulation", "must be an object");

    b = base();
    json_object_set_new(pop(b, 0), "step_current", json_array());
    expect_error(b, "/populations/0/step_current", "must be an object");

    b = base();
    json_object_set_new(b, "description", json_false());
    expect_error(b, "/description", "must be a string, not false");

    b = base();
    json_object_set_new(proj(b, 0), "J", json_string("-0.043"));
    expect_error(b, "/projections/0/J", "must be a number");
}
END_TEST

START_TEST(missing_keys)
{
    static const char *const req[] = {"name", "N", "tau_m", "C_m", "V_reset", "V_T_star",
                                      "Delta_V", "lambda_0", "t_ref"};
    for (size_t i = 0; i < sizeof req / sizeof req[0]; i++) {
        json_t *b = base();
        json_object_del(pop(b, 1), req[i]);
        char word[64];
        snprintf(word, sizeof word, "missing required key \"%s\"", req[i]);
        expect_error(b, "/populations/1", word, "allowed:");
    }
    static const char *const preq[] = {"source", "target", "delay", "tau_syn"};
    for (size_t i = 0; i < sizeof preq / sizeof preq[0]; i++) {
        json_t *b = base();
        json_object_del(proj(b, 0), preq[i]);
        char word[64];
        snprintf(word, sizeof word, "missing required key \"%s\"", preq[i]);
        expect_error(b, "/projections/0", word);
    }
    json_t *b = base();
    json_object_del(proj(b, 0), "J");
    expect_error(b, "/projections/0", "missing required key \"J\" or \"weight\"");

    b = base();
    json_object_set_new(proj(b, 0), "weight", json_real(1.0));
    expect_error(b, "/projections/0", "both \"J\" and \"weight\"");

    b = base();
    json_object_del(b, "populations");
    expect_error(b, "/", "missing required key \"populations\"");

    b = base();
    json_object_set_new(b, "populations", json_array());
    expect_error(b, "/populations", "has 0 populations", "allowed: array of 1..64");

    b = base();
    json_object_del(json_object_get(pop(b, 0), "step_current"), "amplitude_values");
    expect_error(b, "/populations/0/step_current", "missing required key \"amplitude_values\"");
}
END_TEST

static void set_pop_num(size_t i, const char *key, double v, const char *path, const char *word)
{
    json_t *b = base();
    json_object_set_new(pop(b, i), key, json_real(v));
    expect_error(b, path, word, "allowed:");
}

static void set_proj_num(size_t i, const char *key, double v, const char *path, const char *word)
{
    json_t *b = base();
    json_object_set_new(proj(b, i), key, json_real(v));
    expect_error(b, path, word, "allowed:");
}

START_TEST(ranges)
{
    const long long bad_n[] = {0, -5, 1000000001LL};
    for (size_t i = 0; i < 3; i++) {
        json_t *b = base();
        json_object_set_new(pop(b, 1), "N", json_integer(bad_n[i]));
        expect_error(b, "/populations/1/N", "out of range", "1..1000000000");
    }
    json_t *b = base();
    json_object_set_new(pop(b, 1), "N", json_integer(1000000000LL));
    mg_model m;
    parse_doc_ok(b, &m); /* the upper end is allowed */
    mg_model_free(&m);

    set_pop_num(0, "tau_m", 0.0, "/populations/0/tau_m", "> 0");
    set_pop_num(0, "tau_m", -20.0, "/populations/0/tau_m", "out of range");
    set_pop_num(1, "C_m", -1.0, "/populations/1/C_m", "> 0, pF");
    set_pop_num(0, "Delta_V", 0.0, "/populations/0/Delta_V", "> 0, mV");
    set_pop_num(0, "lambda_0", 0.0, "/populations/0/lambda_0", "Hz");
    set_pop_num(0, "t_ref", -1.0, "/populations/0/t_ref", ">= 0");
    set_proj_num(0, "tau_syn", -1.0, "/projections/0/tau_syn", ">= 0");
    set_proj_num(1, "p", 1.5, "/projections/1/p", "[0, 1]");
    set_proj_num(1, "p", -0.1, "/projections/1/p", "[0, 1]");
    set_proj_num(0, "delay", 0.0, "/projections/0/delay", "> 0");
    set_proj_num(0, "delay", -1.0, "/projections/0/delay", "> 0");

    b = base();
    json_object_set_new(pop(b, 0), "tau_sfa", json_pack("[f,f]", 100.0, 0.0));
    json_object_set_new(pop(b, 0), "q_sfa", json_pack("[f,f]", 1.0, 1.0));
    expect_error(b, "/populations/0/tau_sfa/1", "out of range", "> 0");

    b = base();
    json_object_set_new(pop(b, 0), "len_kernel", json_integer(0));
    expect_error(b, "/populations/0/len_kernel", "-1 (automatic)");
    b = base();
    json_object_set_new(pop(b, 0), "len_kernel", json_integer(-2));
    expect_error(b, "/populations/0/len_kernel", "out of range");

    b = base();
    json_object_set_new(json_object_get(b, "simulation"), "dt", json_real(-0.1));
    expect_error(b, "/simulation/dt", "out of range", "> 0");

    b = base(); /* all_to_all needs p == 1 */
    json_object_set_new(proj(b, 1), "rule", json_string("all_to_all"));
    expect_error(b, "/projections/1/rule", "needs p = 1", "0.5");

    b = base();
    json_object_set_new(proj(b, 1), "rule", json_string("fixed_indegre"));
    expect_error(b, "/projections/1/rule", "unknown rule", "did you mean \"fixed_indegree\"",
                 "pairwise_bernoulli");

    b = base(); /* "weight" needs tau_syn > 0 for the conversion */
    json_object_set_new(proj(b, 1), "tau_syn", json_real(0.0));
    expect_error(b, "/projections/1/weight", "tau_syn", "J");
}
END_TEST

START_TEST(names_and_pairs)
{
    json_t *b = base();
    json_object_set_new(proj(b, 0), "source", json_string("P3"));
    expect_error(b, "/projections/0/source", "unknown population \"P3\"",
                 "(allowed: \"P1\", \"P2\")");

    b = base();
    json_object_set_new(proj(b, 1), "target", json_string("p1"));
    expect_error(b, "/projections/1/target", "unknown population \"p1\"", "\"P1\", \"P2\"");

    b = base();
    json_object_set_new(pop(b, 1), "name", json_string("P1"));
    expect_error(b, "/populations/1/name", "duplicate population name \"P1\"", "/populations/0");

    b = base();
    json_object_set_new(pop(b, 1), "name", json_string(""));
    expect_error(b, "/populations/1/name", "0 characters", "1..63");

    b = base();
    json_object_set_new(pop(b, 1), "name", json_string("a/b"));
    expect_error(b, "/populations/1/name", "'/'");

    char longname[MG_NAME_MAX + 1];
    memset(longname, 'x', MG_NAME_MAX);
    longname[MG_NAME_MAX] = '\0';
    b = base();
    json_object_set_new(pop(b, 1), "name", json_string(longname));
    expect_error(b, "/populations/1/name", "64 characters", "1..63");
    b = base();
    json_object_set_new(b, "name", json_string(longname));
    expect_error(b, "/name", "64 characters");

    b = base();
    json_array_append_new(json_object_get(b, "projections"),
                          json_pack("{s:s,s:s,s:f,s:f,s:f}", "source", "P1", "target", "P2",
                                    "J", 0.1, "delay", 1.0, "tau_syn", 3.0));
    expect_error(b, "/projections/2", "duplicate projection \"P1\" -> \"P2\"", "/projections/0");

    b = base(); /* too many populations */
    json_t *pops = json_object_get(b, "populations");
    for (int i = 2; i <= MG_POP_MAX; i++) {
        json_t *c = json_deep_copy(json_array_get(pops, 1));
        char nm[16];
        snprintf(nm, sizeof nm, "Q%d", i);
        json_object_set_new(c, "name", json_string(nm));
        json_array_append_new(pops, c);
    }
    expect_error(b, "/populations", "has 65 populations", "1..64");
}
END_TEST

START_TEST(adaptation_and_steps)
{
    json_t *b = base();
    json_object_set_new(pop(b, 0), "q_sfa", json_array());
    expect_error(b, "/populations/0/q_sfa", "has 0 entries but tau_sfa has 1");

    b = base();
    json_object_set_new(pop(b, 1), "tau_sfa", json_pack("[f,f]", 10.0, 100.0));
    expect_error(b, "/populations/1/q_sfa", "has 0 entries but tau_sfa has 2");

    b = base();
    json_t *t9 = json_array(), *q9 = json_array();
    for (int i = 0; i <= MG_SFA_MAX; i++) {
        json_array_append_new(t9, json_real(10.0 * (i + 1)));
        json_array_append_new(q9, json_real(1.0));
    }
    json_object_set_new(pop(b, 0), "tau_sfa", t9);
    json_object_set_new(pop(b, 0), "q_sfa", q9);
    expect_error(b, "/populations/0/tau_sfa", "9 entries, more than 8");

    b = base(); /* MG_SFA_MAX kernels are fine, negative (facilitating) jumps too */
    t9 = json_array();
    q9 = json_array();
    for (int i = 0; i < MG_SFA_MAX; i++) {
        json_array_append_new(t9, json_real(10.0 * (i + 1)));
        json_array_append_new(q9, json_real(-0.5));
    }
    json_object_set_new(pop(b, 0), "tau_sfa", t9);
    json_object_set_new(pop(b, 0), "q_sfa", q9);
    mg_model m;
    parse_doc_ok(b, &m);
    ck_assert_int_eq(m.pops[0].n_sfa, MG_SFA_MAX);
    EQ(m.pops[0].tau_sfa[MG_SFA_MAX - 1], 10.0 * MG_SFA_MAX);
    EQ(m.pops[0].q_sfa[3], -0.5);
    mg_model_free(&m);

    b = base();
    json_object_set_new(pop(b, 0), "step_current",
                        json_pack("{s:[f,f],s:[f,f]}", "amplitude_times", 100.0, 50.0,
                                  "amplitude_values", 1.0, 2.0));
    expect_error(b, "/populations/0/step_current/amplitude_times/1", "strictly increasing");

    b = base();
    json_object_set_new(pop(b, 0), "step_current",
                        json_pack("{s:[f,f],s:[f,f]}", "amplitude_times", 100.0, 100.0,
                                  "amplitude_values", 1.0, 2.0));
    expect_error(b, "/populations/0/step_current/amplitude_times/1", "strictly increasing");

    b = base();
    json_object_set_new(pop(b, 0), "step_current",
                        json_pack("{s:[f],s:[f]}", "amplitude_times", -1.0,
                                  "amplitude_values", 1.0));
    expect_error(b, "/populations/0/step_current/amplitude_times/0", "negative");

    b = base();
    json_object_set_new(pop(b, 0), "step_current",
                        json_pack("{s:[f,f],s:[f]}", "amplitude_times", 1.0, 2.0,
                                  "amplitude_values", 1.0));
    expect_error(b, "/populations/0/step_current/amplitude_values", "has 1 entries",
                 "amplitude_times has 2");

    b = base();
    json_object_set_new(pop(b, 0), "step_current",
                        json_pack("{s:[f],s:[s]}", "amplitude_times", 1.0,
                                  "amplitude_values", "x"));
    expect_error(b, "/populations/0/step_current/amplitude_values/0", "must be a number");
}
END_TEST

MG_TEST_SUITE(model,
              MG_TCASE("core", 0, shipped_files_parse_and_are_documented, b1_values, b2_values,
                       nest_brunel_values, ei_network_values, uncoupled_values, lif_adap_values,
                       nest_testcase_values, documented_example_parses, default_is_b1,
                       base_model_values_and_defaults),
              MG_TCASE("edges", 0, step_current_is_piecewise_constant, free_is_safe, load_errors),
              MG_TCASE("errors", 0, malformed_json, unknown_keys, wrong_types, missing_keys, ranges,
                       names_and_pairs, adaptation_and_steps))
