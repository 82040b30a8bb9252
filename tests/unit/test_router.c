/* test_router.c — the task router: hand-computed scores, tie-breaks that do
 * not depend on input order, exclusion, explicit servers, the no-candidate
 * message, the JSON and text explanations, the route cache, and tool
 * selection over a small catalog. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "router.h"
#include "util.h"

#define MAXC 4
#define DEFAULTS {0, 0, 0, 0}   /* in a score row: the default weights */

static size_t count(const char *const *v)
{
    size_t n = 0;
    while (n < MAXC && v[n])
        n++;
    return n;
}

static void assert_near(double got, double want, const char *what, const char *label)
{
    if (fabs(got - want) > 1e-9)
        fail_msg("%s: %s is %.6f, want %.6f", label, what, got, want);
}

/* === Scoring, one server per row === */

struct score_row {
    const char *label;
    /* the task */
    const char *type;
    const char *need[MAXC];
    int heavy;
    /* weights: all zero means the defaults */
    struct router_weights w;
    /* the server */
    const char *caps[MAXC];
    const char *types[MAXC];
    int light, heavy_ok;
    enum router_health health;
    double config_pref, success_rate;
    /* expected */
    double capability, fit, health_v, preference, total;
    int candidate;
    const char *note;
};

static const struct score_row score_rows[] = {
    {"all caps, light, healthy, no preference", NULL, {"a", "b"}, 0, DEFAULTS,
     {"a", "b"}, {NULL}, 1, 0, ROUTER_HEALTH_HEALTHY, -1, -1,
     1.0, 1.0, 1.0, 0.5, 0.4 + 0.3 + 0.2 + 0.05, 1, NULL},
    {"half the caps, warning, config 0.8", NULL, {"a", "b"}, 0, DEFAULTS,
     {"a"}, {NULL}, 1, 1, ROUTER_HEALTH_WARNING, 0.8, -1,
     0.5, 1.0, 0.7, 0.8, 0.2 + 0.3 + 0.14 + 0.08, 1, "lacks b"},
    {"light task on heavy-only, unhealthy, history only", NULL, {"a", "b"}, 0, DEFAULTS,
     {"c", "b", "a"}, {NULL}, 0, 1, ROUTER_HEALTH_UNHEALTHY, -1, 0.2,
     1.0, 0.6, 0.3, 0.2, 0.4 + 0.18 + 0.06 + 0.02, 1, NULL},
    {"heavy task on light-only, unknown health, both prefs", "review", {"a", "b"}, 1, DEFAULTS,
     {"b"}, {NULL}, 1, 0, ROUTER_HEALTH_UNKNOWN, 1.0, 0.0,
     0.5, 0.4, 0.5, 0.5, 0.2 + 0.12 + 0.1 + 0.05, 1, "lacks a"},
    {"heavy task on heavy, prefs 0.9 and 0.7", NULL, {"a", "b"}, 1, DEFAULTS,
     {"a", "b"}, {NULL}, 0, 1, ROUTER_HEALTH_HEALTHY, 0.9, 0.7,
     1.0, 1.0, 1.0, 0.8, 0.4 + 0.3 + 0.2 + 0.08, 1, NULL},
    {"no caps needed, type listed", "review", {NULL}, 0, DEFAULTS,
     {"x"}, {"build", "review"}, 1, 0, ROUTER_HEALTH_HEALTHY, -1, -1,
     1.0, 1.0, 1.0, 0.5, 0.95, 1, NULL},
    {"no caps needed, type not listed", "review", {NULL}, 0, DEFAULTS,
     {"x"}, {"build"}, 1, 0, ROUTER_HEALTH_HEALTHY, -1, -1,
     0.0, 1.0, 1.0, 0.5, 0.55, 0, "does not take 'review' tasks"},
    {"type listed but caps lacking", "review", {"a", "b"}, 0, DEFAULTS,
     {"x"}, {"review"}, 1, 0, ROUTER_HEALTH_HEALTHY, -1, -1,
     0.0, 1.0, 1.0, 0.5, 0.55, 1, "lacks a, b"},
    {"declares neither light nor heavy", NULL, {"a", "b"}, 0, DEFAULTS,
     {"a", "b"}, {NULL}, 0, 0, ROUTER_HEALTH_HEALTHY, -1, -1,
     1.0, 0.5, 1.0, 0.5, 0.4 + 0.15 + 0.2 + 0.05, 1, NULL},
    {"matches nothing", "review", {"a", "b"}, 0, DEFAULTS,
     {"z"}, {NULL}, 1, 0, ROUTER_HEALTH_HEALTHY, -1, -1,
     0.0, 1.0, 1.0, 0.5, 0.55, 0, "lacks a, b"},
    {"preferences clamped to 0..1", NULL, {"a"}, 0, DEFAULTS,
     {"a"}, {NULL}, 1, 0, ROUTER_HEALTH_HEALTHY, 1.5, 2.0,
     1.0, 1.0, 1.0, 1.0, 1.0, 1, NULL},
    {"capability weight only", NULL, {"a", "b"}, 0, {1, 0, 0, 0},
     {"a"}, {NULL}, 1, 0, ROUTER_HEALTH_HEALTHY, -1, -1,
     0.5, 1.0, 1.0, 0.5, 0.5, 1, "lacks b"},
    {"reversed weights", NULL, {"a", "b"}, 0, {0.1, 0.2, 0.3, 0.4},
     {"a", "b"}, {NULL}, 1, 0, ROUTER_HEALTH_WARNING, 0.25, -1,
     1.0, 1.0, 0.7, 0.25, 0.1 + 0.2 + 0.21 + 0.1, 1, NULL},
    {"repeated caps count once", NULL, {"a", "a", "b"}, 0, DEFAULTS,
     {"b", "b"}, {NULL}, 1, 0, ROUTER_HEALTH_HEALTHY, -1, -1,
     0.5, 1.0, 1.0, 0.5, 0.2 + 0.3 + 0.2 + 0.05, 1, "lacks a"},
};

static void test_scores(void **state)
{
    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(score_rows); i++) {
        const struct score_row *r = &score_rows[i];
        struct router_server s = {
            .name = "s", .caps = r->caps, .ncaps = count(r->caps), .task_types = r->types,
            .ntask_types = count(r->types), .light = r->light, .heavy = r->heavy_ok,
            .health = r->health, .available = 1, .config_pref = r->config_pref,
            .success_rate = r->success_rate,
        };
        struct router_task t = {r->type, r->need, count(r->need), NULL, r->heavy};
        int defaults = !r->w.capability && !r->w.fit && !r->w.health && !r->w.preference;
        struct router_decision d;
        char *err = NULL;
        int rc = router_route(defaults ? NULL : &r->w, &t, &s, 1, &d, &err);
        assert_int_equal(d.nscores, 1);
        const struct router_score *sc = &d.scores[0];
        assert_near(sc->capability, r->capability, "capability", r->label);
        assert_near(sc->fit, r->fit, "fit", r->label);
        assert_near(sc->health, r->health_v, "health", r->label);
        assert_near(sc->preference, r->preference, "preference", r->label);
        assert_near(sc->total, r->total, "total", r->label);
        if (sc->candidate != r->candidate)
            fail_msg("%s: candidate %d", r->label, sc->candidate);
        if (r->candidate) {
            assert_int_equal(rc, 0);
            assert_null(err);
            assert_string_equal(d.chosen, "s");
        } else {
            assert_int_equal(rc, -1);
            assert_non_null(err);
            assert_null(d.chosen);
        }
        if (r->note)
            assert_string_equal(sc->note, r->note);
        else
            assert_null(sc->note);
        free(err);
        router_decision_fini(&d);
    }
}

static void test_health_names(void **state)
{
    (void)state;
    assert_string_equal(router_health_name(ROUTER_HEALTH_UNKNOWN), "unknown");
    assert_string_equal(router_health_name(ROUTER_HEALTH_HEALTHY), "healthy");
    assert_string_equal(router_health_name(ROUTER_HEALTH_WARNING), "warning");
    assert_string_equal(router_health_name(ROUTER_HEALTH_UNHEALTHY), "unhealthy");
    struct router_weights w;
    router_weights_default(&w);
    assert_near(w.capability, 0.4, "capability", "defaults");
    assert_near(w.fit, 0.3, "fit", "defaults");
    assert_near(w.health, 0.2, "health", "defaults");
    assert_near(w.preference, 0.1, "preference", "defaults");
}

/* === Order and choice === */

static const char *const cap_ab[] = {"a", "b"};
static const char *const cap_a[] = {"a"};
static const char *const cap_b[] = {"b"};

static struct router_server server(const char *name, const char *const *caps, size_t ncaps,
                                   enum router_health h)
{
    struct router_server s = {
        .name = name, .caps = caps, .ncaps = ncaps, .light = 1, .health = h,
        .available = 1, .config_pref = -1, .success_rate = -1,
    };
    return s;
}

static uint32_t lcg(uint32_t *x)
{
    *x = *x * 1664525u + 1013904223u;
    return *x >> 8;
}

static void shuffle(struct router_server *s, size_t n, uint32_t *seed)
{
    for (size_t i = n - 1; i > 0; i--) {
        size_t j = lcg(seed) % (i + 1);
        struct router_server tmp = s[i];
        s[i] = s[j];
        s[j] = tmp;
    }
}

static void expect_order(const struct router_decision *d, const char *const *names, size_t n)
{
    assert_int_equal(d->nscores, n);
    for (size_t i = 0; i < n; i++)
        assert_string_equal(d->scores[i].name, names[i]);
}

/* Totals tie exactly under these weights; capability, then health, then the
 * name decide, whatever the input order. */
static void test_tie_break(void **state)
{
    (void)state;
    struct router_weights w = {1, 0, 1, 0};
    struct router_task t = {NULL, cap_ab, 2, NULL, 0};
    struct router_server base[] = {
        server("y", cap_a, 1, ROUTER_HEALTH_HEALTHY),      /* 0.5 + 1.0 */
        server("x", cap_ab, 2, ROUTER_HEALTH_UNKNOWN),     /* 1.0 + 0.5 */
        server("aaa", cap_ab, 2, ROUTER_HEALTH_UNKNOWN),   /* 1.0 + 0.5 */
        server("b2", cap_b, 1, ROUTER_HEALTH_HEALTHY),     /* 0.5 + 1.0 */
        server("down", cap_ab, 2, ROUTER_HEALTH_HEALTHY),  /* best, but excluded */
        server("none", NULL, 0, ROUTER_HEALTH_HEALTHY),    /* matches nothing */
        server("b1", cap_b, 1, ROUTER_HEALTH_HEALTHY),     /* 0.5 + 1.0 */
    };
    base[4].available = 0;
    base[4].why = "disabled";
    static const char *const want[] = {"aaa", "x", "b1", "b2", "y", "down", "none"};
    uint32_t seed = 7;
    for (int round = 0; round < 50; round++) {
        struct router_server s[ARRAY_LEN(base)];
        memcpy(s, base, sizeof s);
        if (round)
            shuffle(s, ARRAY_LEN(s), &seed);
        struct router_decision d;
        assert_int_equal(router_route(&w, &t, s, ARRAY_LEN(s), &d, NULL), 0);
        assert_string_equal(d.chosen, "aaa");
        expect_order(&d, want, ARRAY_LEN(want));
        assert_true(d.scores[4].eligible);
        assert_false(d.scores[5].eligible);
        assert_true(d.scores[5].candidate);
        assert_false(d.scores[6].candidate);
        router_decision_fini(&d);
    }
}

/* The best-scoring server is excluded: the next one is chosen and the
 * excluded one stays in the breakdown with the caller's reason. */
static void test_exclusion(void **state)
{
    (void)state;
    struct router_task t = {"review", cap_ab, 2, NULL, 0};
    struct router_server s[] = {
        server("semgrep", cap_ab, 2, ROUTER_HEALTH_HEALTHY),
        server("lint", cap_a, 1, ROUTER_HEALTH_WARNING),
    };
    s[0].available = 0;
    s[0].why = "breaker open, retry at 12:00:03";
    struct router_decision d;
    char *err = NULL;
    assert_int_equal(router_route(NULL, &t, s, 2, &d, &err), 0);
    assert_null(err);
    assert_string_equal(d.chosen, "lint");
    assert_string_equal(d.scores[0].name, "lint");
    assert_true(d.scores[0].eligible);
    assert_string_equal(d.scores[0].note, "lacks b");
    assert_string_equal(d.scores[1].name, "semgrep");
    assert_true(d.scores[1].candidate);
    assert_false(d.scores[1].available);
    assert_false(d.scores[1].eligible);
    assert_string_equal(d.scores[1].note, "breaker open, retry at 12:00:03");
    assert_true(d.scores[1].total > d.scores[0].total);
    router_decision_fini(&d);

    /* without a reason */
    s[0].why = NULL;
    s[1].available = 0;
    assert_int_equal(router_route(NULL, &t, s, 2, &d, &err), -1);
    assert_string_equal(err, "no server can route a 'review' task: it needs a, b; "
                             "lint is excluded (unavailable); semgrep is excluded (unavailable)");
    free(err);
    router_decision_fini(&d);
}

/* === Explicit server === */

static void test_explicit_server(void **state)
{
    (void)state;
    struct router_server s[] = {
        server("sem", cap_ab, 2, ROUTER_HEALTH_HEALTHY),
        server("fs", cap_b, 1, ROUTER_HEALTH_HEALTHY),
    };
    struct router_decision d;
    char *err = NULL;

    /* named: chosen even though it lacks a, and the only one scored */
    struct router_task t = {"review", cap_ab, 2, "fs", 0};
    assert_int_equal(router_route(NULL, &t, s, 2, &d, &err), 0);
    assert_null(err);
    assert_string_equal(d.chosen, "fs");
    assert_int_equal(d.nscores, 1);
    assert_true(d.scores[0].eligible);
    assert_string_equal(d.scores[0].note, "lacks a");
    router_decision_fini(&d);

    /* named server that matches nothing at all is still taken */
    struct router_task t2 = {"deploy", NULL, 0, "fs", 1};
    assert_int_equal(router_route(NULL, &t2, s, 2, &d, &err), 0);
    assert_string_equal(d.chosen, "fs");
    assert_near(d.scores[0].capability, 0, "capability", "explicit, no match");
    assert_near(d.scores[0].fit, 0.4, "fit", "explicit, no match");
    router_decision_fini(&d);

    /* unknown */
    t.server = "nope";
    assert_int_equal(router_route(NULL, &t, s, 2, &d, &err), -1);
    assert_null(d.chosen);
    assert_int_equal(d.nscores, 0);
    assert_string_equal(err, "the task names server 'nope', but no server of that name is "
                             "configured");
    free(err);
    router_decision_fini(&d);

    /* unavailable */
    t.server = "sem";
    s[0].available = 0;
    s[0].why = "breaker open";
    assert_int_equal(router_route(NULL, &t, s, 2, &d, &err), -1);
    assert_null(d.chosen);
    assert_int_equal(d.nscores, 1);
    assert_false(d.scores[0].eligible);
    assert_string_equal(err, "the task names server 'sem', which is excluded (breaker open)");
    free(err);
    router_decision_fini(&d);
}

/* === Errors === */

static void test_no_candidate(void **state)
{
    (void)state;
    static const char *const need[] = {"code_analysis", "security_analysis"};
    static const char *const fs_caps[] = {"read_file", "write_file"};
    struct router_task t = {"review", need, 2, NULL, 0};
    struct router_server s[] = {
        server("semgrep", need, 2, ROUTER_HEALTH_HEALTHY),
        server("fs", fs_caps, 2, ROUTER_HEALTH_HEALTHY),
    };
    s[0].available = 0;
    s[0].why = "breaker open, retry at 12:00:03";
    struct router_decision d;
    char *err = NULL;
    assert_int_equal(router_route(NULL, &t, s, 2, &d, &err), -1);
    assert_null(d.chosen);
    assert_int_equal(d.nscores, 2);
    static const char want[] =
        "no server can route a 'review' task: it needs code_analysis, security_analysis; "
        "fs lacks code_analysis, security_analysis; "
        "semgrep is excluded (breaker open, retry at 12:00:03)";
    assert_string_equal(err, want);
    /* the same message from the decision alone (a cached one) */
    char *again = router_decision_error(&d, &t);
    assert_string_equal(again, want);
    free(again);
    free(err);
    router_decision_fini(&d);

    /* by type only */
    static const char *const types[] = {"build"};
    s[1].task_types = types;
    s[1].ntask_types = 1;
    struct router_task by_type = {"review", NULL, 0, NULL, 0};
    assert_int_equal(router_route(NULL, &by_type, s, 2, &d, &err), -1);
    assert_string_equal(err, "no server can route a 'review' task: no available server takes "
                             "'review' tasks");
    free(err);
    router_decision_fini(&d);

    /* nothing to route by */
    struct router_task empty = {NULL, NULL, 0, NULL, 0};
    assert_int_equal(router_route(NULL, &empty, s, 2, &d, &err), -1);
    assert_string_equal(err, "the task names no type, capability or server, so no server can "
                             "take it");
    free(err);
    router_decision_fini(&d);

    /* no servers */
    assert_int_equal(router_route(NULL, &t, NULL, 0, &d, &err), -1);
    assert_string_equal(err, "no server can route a 'review' task: no servers are configured");
    assert_int_equal(d.nscores, 0);
    free(err);
    router_decision_fini(&d);

    /* too many capabilities */
    char names[65][16];
    const char *many[65];
    for (int i = 0; i < 65; i++) {
        snprintf(names[i], sizeof names[i], "c%d", i);
        many[i] = names[i];
    }
    struct router_task big = {"x", many, 65, NULL, 0};
    assert_int_equal(router_route(NULL, &big, s, 2, &d, &err), -1);
    assert_non_null(strstr(err, "at most 64"));
    free(err);
    router_decision_fini(&d);
    /* exactly 64 is fine */
    big.ncaps = 64;
    struct router_server all = server("all", many, 64, ROUTER_HEALTH_HEALTHY);
    assert_int_equal(router_route(NULL, &big, &all, 1, &d, NULL), 0);
    assert_near(d.scores[0].capability, 1.0, "capability", "64 caps");
    router_decision_fini(&d);
}

/* === Explanations === */

static void route_sample(struct router_decision *d, const struct router_task *t)
{
    static struct router_server s[4];
    s[0] = server("semgrep", cap_ab, 2, ROUTER_HEALTH_HEALTHY);
    s[1] = server("lint", cap_a, 1, ROUTER_HEALTH_WARNING);
    s[2] = server("scanner", cap_ab, 2, ROUTER_HEALTH_HEALTHY);
    s[3] = server("fs", NULL, 0, ROUTER_HEALTH_HEALTHY);
    s[2].available = 0;
    s[2].why = "breaker open";
    assert_int_equal(router_route(NULL, t, s, 4, d, NULL), 0);
}

static void test_json(void **state)
{
    (void)state;
    struct router_task t = {"review", cap_ab, 2, NULL, 1};
    struct router_decision d;
    route_sample(&d, &t);
    cJSON *j = router_decision_json(&d, &t, NULL);
    char *text = cJSON_PrintUnformatted(j);
    cJSON_Delete(j);
    j = cJSON_Parse(text);
    free(text);
    assert_non_null(j);

    const cJSON *task = cJSON_GetObjectItemCaseSensitive(j, "task");
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(task, "type")->valuestring, "review");
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(task, "caps")), 2);
    assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(task, "server")));
    assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(task, "heavy")));
    const cJSON *w = cJSON_GetObjectItemCaseSensitive(j, "weights");
    assert_near(cJSON_GetObjectItemCaseSensitive(w, "capability")->valuedouble, 0.4, "w",
                "json");
    assert_near(cJSON_GetObjectItemCaseSensitive(w, "preference")->valuedouble, 0.1, "w",
                "json");
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(j, "chosen")->valuestring, "semgrep");

    const cJSON *servers = cJSON_GetObjectItemCaseSensitive(j, "servers");
    assert_int_equal(cJSON_GetArraySize(servers), 4);
    static const char *const order[] = {"semgrep", "lint", "scanner", "fs"};
    static const char *const keys[] = {"total", "capability", "fit", "health", "preference"};
    for (int i = 0; i < 4; i++) {
        const cJSON *s = cJSON_GetArrayItem(servers, i);
        assert_string_equal(cJSON_GetObjectItemCaseSensitive(s, "name")->valuestring, order[i]);
        for (size_t k = 0; k < ARRAY_LEN(keys); k++)
            assert_true(cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(s, keys[k])));
        assert_true(cJSON_IsBool(cJSON_GetObjectItemCaseSensitive(s, "candidate")));
        assert_true(cJSON_IsBool(cJSON_GetObjectItemCaseSensitive(s, "available")));
        assert_true(cJSON_IsBool(cJSON_GetObjectItemCaseSensitive(s, "eligible")));
    }
    const cJSON *first = cJSON_GetArrayItem(servers, 0);
    /* heavy task on light-only servers: 0.4 + 0.12 + 0.2 + 0.05 */
    assert_near(cJSON_GetObjectItemCaseSensitive(first, "total")->valuedouble, 0.77, "total",
                "json");
    assert_null(cJSON_GetObjectItemCaseSensitive(first, "note"));
    const cJSON *excl = cJSON_GetArrayItem(servers, 2);
    assert_true(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(excl, "eligible")));
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(excl, "note")->valuestring,
                        "breaker open");
    const cJSON *none = cJSON_GetArrayItem(servers, 3);
    assert_true(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(none, "candidate")));
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(none, "note")->valuestring,
                        "lacks a, b");
    cJSON_Delete(j);

    /* without a task, and with a failed decision */
    struct router_decision empty = {0};
    j = router_decision_json(&empty, NULL, NULL);
    assert_null(cJSON_GetObjectItemCaseSensitive(j, "task"));
    assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(j, "chosen")));
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(j, "servers")), 0);
    cJSON_Delete(j);
    router_decision_fini(&d);
}

static void test_explain(void **state)
{
    (void)state;
    struct router_task t = {"review", cap_ab, 2, NULL, 0};
    struct router_decision d;
    route_sample(&d, &t);
    char *text = router_explain(&d, &t);
    /* eligible first: lint before the excluded scanner */
    static const char want_order[] =
        "routing a light 'review' task needing a, b: semgrep\n"
        "  server  total   cap   fit health  pref  note\n"
        "* semgrep 0.950  1.00  1.00   1.00  0.50\n"
        "  lint    0.690  0.50  1.00   0.70  0.50  lacks b\n"
        "x scanner 0.950  1.00  1.00   1.00  0.50  excluded: breaker open\n"
        "  (1 other server matches nothing)\n";
    assert_string_equal(text, want_order);
    free(text);
    router_decision_fini(&d);

    /* nothing chosen, no candidates */
    struct router_task odd = {"odd", NULL, 0, NULL, 1};
    struct router_server s = server("fs", NULL, 0, ROUTER_HEALTH_HEALTHY);
    assert_int_equal(router_route(NULL, &odd, &s, 1, &d, NULL), -1);
    text = router_explain(&d, &odd);
    assert_string_equal(text, "routing a heavy 'odd' task: no server\n"
                              "  (1 server matches nothing)\n");
    free(text);
    router_decision_fini(&d);
}

/* === Route cache === */

static void test_cache(void **state)
{
    (void)state;
    struct router_cache *c = router_cache_new();
    /* names and notes live in heap strings freed before the cache is read */
    char *name = xstrdup("semgrep"), *why = xstrdup("disabled by config");
    static const char *const need[] = {"b", "a", "a"};
    struct router_server s[] = {
        server(name, cap_ab, 2, ROUTER_HEALTH_HEALTHY),
        server("off", cap_ab, 2, ROUTER_HEALTH_HEALTHY),
    };
    s[1].available = 0;
    s[1].why = why;
    struct router_task t = {"review", need, 3, NULL, 0};
    struct router_decision d;
    assert_null(router_cache_get(c, &t));
    assert_int_equal(router_route(NULL, &t, s, 2, &d, NULL), 0);
    router_cache_put(c, &t, &d);
    router_decision_fini(&d);
    free(name);
    free(why);

    /* the same key: caps as a set, in any order */
    struct router_task same = {"review", cap_ab, 2, NULL, 0};
    const struct router_decision *hit = router_cache_get(c, &same);
    assert_non_null(hit);
    assert_string_equal(hit->chosen, "semgrep");
    assert_int_equal(hit->nscores, 2);
    assert_string_equal(hit->scores[0].name, "semgrep");
    assert_string_equal(hit->scores[1].note, "disabled by config");
    assert_near(hit->scores[0].total, 0.95, "total", "cached");

    /* every part of the key matters */
    struct router_task other[] = {
        {"review", cap_ab, 2, NULL, 1},
        {"build", cap_ab, 2, NULL, 0},
        {NULL, cap_ab, 2, NULL, 0},
        {"review", cap_a, 1, NULL, 0},
        {"review", cap_ab, 2, "semgrep", 0},
    };
    for (size_t i = 0; i < ARRAY_LEN(other); i++)
        assert_null(router_cache_get(c, &other[i]));
    uint64_t hits, misses;
    size_t entries;
    router_cache_stats(c, &hits, &misses, &entries);
    assert_int_equal(hits, 1);
    assert_int_equal(misses, 1 + ARRAY_LEN(other));
    assert_int_equal(entries, 1);

    /* a new generation: gone */
    router_cache_invalidate(c);
    assert_null(router_cache_get(c, &same));
    router_cache_stats(c, NULL, NULL, &entries);
    assert_int_equal(entries, 0);

    /* put again (a failed decision), replace it, read it back with its error */
    struct router_server lone = server("lint", cap_a, 1, ROUTER_HEALTH_HEALTHY);
    lone.available = 0;
    lone.why = "not running";
    assert_int_equal(router_route(NULL, &same, &lone, 1, &d, NULL), -1);
    router_cache_put(c, &same, &d);
    router_cache_put(c, &same, &d);
    router_decision_fini(&d);
    hit = router_cache_get(c, &same);
    assert_non_null(hit);
    assert_null(hit->chosen);
    char *err = router_decision_error(hit, &same);
    assert_string_equal(err, "no server can route a 'review' task: it needs a, b; "
                             "lint is excluded (not running)");
    free(err);
    router_cache_stats(c, NULL, NULL, &entries);
    assert_int_equal(entries, 1);

    /* bounded: past 1024 entries it starts afresh and keeps working */
    char types[1100][16];
    for (int i = 0; i < 1100; i++) {
        snprintf(types[i], sizeof types[i], "t%d", i);
        struct router_task k = {types[i], cap_ab, 2, NULL, 0};
        struct router_decision e = {0};
        router_cache_put(c, &k, &e);
    }
    router_cache_stats(c, NULL, NULL, &entries);
    assert_true(entries <= 1024);
    struct router_task last = {types[1099], cap_ab, 2, NULL, 0};
    assert_non_null(router_cache_get(c, &last));
    router_cache_free(c);
    router_cache_free(NULL);
}

static void test_decision_copy(void **state)
{
    (void)state;
    struct router_task t = {"review", cap_ab, 2, NULL, 0};
    struct router_decision d, copy;
    route_sample(&d, &t);
    router_decision_copy(&copy, &d);
    assert_int_equal(copy.nscores, d.nscores);
    assert_string_equal(copy.chosen, "semgrep");
    assert_ptr_not_equal(copy.chosen, d.chosen);
    for (size_t i = 0; i < d.nscores; i++) {
        assert_string_equal(copy.scores[i].name, d.scores[i].name);
        assert_ptr_not_equal(copy.scores[i].name, d.scores[i].name);
        if (d.scores[i].note)
            assert_string_equal(copy.scores[i].note, d.scores[i].note);
        else
            assert_null(copy.scores[i].note);
    }
    router_decision_fini(&d);
    router_decision_fini(&copy);
    router_decision_fini(&copy);
    router_decision_fini(NULL);
}

/* === Tool selection === */

static const struct router_tool catalog[] = {
    {"fs", "read_file", "Read the complete contents of a file from the file system"},
    {"fs", "write_file", "Create a new file or overwrite an existing file with new content"},
    {"fs", "list_directory", "List the files and directories in a path"},
    {"git", "git_diff", "Show the diff of staged or unstaged changes"},
    {"git", "git_log", "Show the commit logs"},
    {"github", "search_issues", "Search issues and pull requests in GitHub repositories"},
    {"github", "create_pull_request", "Create a new pull request"},
    {"semgrep", "scan", "Run a security scan over source code for vulnerabilities"},
    {"web", "fetch", "Fetch a URL from the internet and return its content"},
    {"memory", "searchMemory", "Find notes saved earlier"},
    {"web", "download", "Fetch a page and save it"},
    {"time", "now", NULL},
    {"fs", "list_directory", "List the files and directories in a path"},
    {"misc", "notes", "Keep a ledger"},
    {"misc", "ledger", "Show entries"},
};

struct select_row {
    const char *text;
    size_t k;
    size_t want[4];
    size_t nwant;        /* leading entries of want that must match, in order */
    size_t count;        /* how many are returned */
};

static const struct select_row select_rows[] = {
    {"search the GitHub issues about crashes", 3, {5}, 1, 3},
    {"list the files in the src directory", 2, {2, 12}, 2, 2},
    {"Review the staged diff", 5, {3}, 1, 1},
    {"scan for security vulnerabilities", 1, {7}, 1, 1},
    {"search memory for what I saved", 2, {9, 5}, 2, 2},
    {"fetch https://example.com", 2, {8, 10}, 2, 2},
    /* the same word, once in a name and once in a description */
    {"ledger", 5, {14, 13}, 2, 2},
    {"zzz qqq", 5, {0}, 0, 0},
    {"the and of", 5, {0}, 0, 0},
    {"", 5, {0}, 0, 0},
    {"open a pull request", 0, {0}, 0, 0},
};

static void test_select_tools(void **state)
{
    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(select_rows); i++) {
        const struct select_row *r = &select_rows[i];
        size_t out[8], again[8];
        size_t n = router_select_tools(r->text, catalog, ARRAY_LEN(catalog), r->k, out);
        if (n != r->count)
            fail_msg("'%s': %zu tools, want %zu", r->text, n, r->count);
        for (size_t j = 0; j < r->nwant; j++)
            if (out[j] != r->want[j])
                fail_msg("'%s': tool %zu is %zu (%s), want %zu", r->text, j, out[j],
                         catalog[out[j]].name, r->want[j]);
        assert_int_equal(router_select_tools(r->text, catalog, ARRAY_LEN(catalog), r->k, again),
                         n);
        assert_memory_equal(out, again, n * sizeof *out);
    }
    size_t one;
    assert_int_equal(router_select_tools("read a file", catalog, 0, 1, &one), 0);
    assert_int_equal(router_select_tools(NULL, catalog, ARRAY_LEN(catalog), 1, &one), 0);
    assert_int_equal(router_select_tools("read a file", catalog, ARRAY_LEN(catalog), 1, &one), 1);
    assert_int_equal(one, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scores),
        cmocka_unit_test(test_health_names),
        cmocka_unit_test(test_tie_break),
        cmocka_unit_test(test_exclusion),
        cmocka_unit_test(test_explicit_server),
        cmocka_unit_test(test_no_candidate),
        cmocka_unit_test(test_json),
        cmocka_unit_test(test_explain),
        cmocka_unit_test(test_cache),
        cmocka_unit_test(test_decision_copy),
        cmocka_unit_test(test_select_tools),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
