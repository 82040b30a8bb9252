/* test_metrics.c — the metrics table and registry: counters, gauges and
 * histograms per label set, quantile accuracy against sorted samples, the
 * Prometheus text (escaping, order, empty families, checked by promtool),
 * the series cap, the walkers and the atomic textfile. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "metrics.h"
#include "util.h"
#include "version.h"

#define L(...) ((const char *const[]){__VA_ARGS__})

/* The documented quantile bound: a factor 2^(1/16) either way. */
static const double quantile_bound = 0.0443;

static char *prom_text(const struct metrics *m)
{
    struct buf b;
    buf_init(&b);
    metrics_prometheus(m, &b);
    return buf_detach(&b);
}

static int contains_line(const char *text, const char *line)
{
    size_t n = strlen(line);
    for (const char *p = text; (p = strstr(p, line)); p++)
        if ((p == text || p[-1] == '\n') && p[n] == '\n')
            return 1;
    return 0;
}

static void assert_line(const char *text, const char *line)
{
    if (!contains_line(text, line))
        fail_msg("line not found: %s\n--- text:\n%s", line, text);
}

static size_t count_of(const char *text, const char *needle)
{
    size_t n = 0;
    for (const char *p = text; (p = strstr(p, needle)); p += strlen(needle))
        n++;
    return n;
}

static void assert_near(double got, double want, double rel)
{
    if (fabs(got - want) > rel * want)
        fail_msg("got %.9g, want %.9g within %.2f%%", got, want, rel * 100);
}

/* === The table === */

static void test_table(void **state)
{
    for (int id = 0; id < MET__COUNT; id++) {
        const struct metric_def *d = metrics_def((enum metric_id)id);
        assert_non_null(d);
        assert_int_equal(strncmp(d->name, "mcpdeck_", 8), 0);
        assert_true(d->help && *d->help);
        assert_true(d->nlabels <= 3);
        for (size_t i = 0; i < d->nlabels; i++)
            assert_non_null(d->labels[i]);
        size_t n = strlen(d->name);
        int total = n > 6 && strcmp(d->name + n - 6, "_total") == 0;
        assert_int_equal(total, d->kind == METRIC_COUNTER);
        if (d->kind == METRIC_HISTOGRAM) {
            assert_true(d->nbuckets > 0);
            for (size_t b = 1; b < d->nbuckets; b++)
                assert_true(d->buckets[b - 1] < d->buckets[b]);
        } else {
            assert_int_equal(d->nbuckets, 0);
        }
        for (int j = 0; j < id; j++)
            assert_string_not_equal(metrics_def((enum metric_id)j)->name, d->name);
    }
    assert_null(metrics_def(MET__COUNT));
    assert_string_equal(metrics_def(MET_TOOL_CALLS)->name, "mcpdeck_tool_calls_total");
    assert_string_equal(metrics_def(MET_TOKENS)->labels[1], "direction");
}

/* === Counters and gauges === */

static void test_counters(void **state)
{
    struct metrics *m = metrics_new();
    metrics_inc(m, MET_TOOL_CALLS, L("fs", "read"));
    metrics_inc(m, MET_TOOL_CALLS, L("fs", "read"));
    metrics_add(m, MET_TOOL_CALLS, L("fs", "write"), 3);
    metrics_inc(m, MET_TOOL_CALLS, L("git", "read"));
    metrics_add(m, MET_TOOL_CALLS, L("fs", "read"), -5);   /* ignored */
    metrics_add(m, MET_TOOL_CALLS, L("fs", "read"), NAN);  /* ignored */
    metrics_set(m, MET_TOOL_CALLS, L("fs", "read"), 100);  /* not a gauge */
    metrics_observe(m, MET_TOOL_CALLS, L("fs", "read"), 1); /* not a histogram */
    metrics_add(m, MET_COST_USD, L("m1"), 0.25);
    metrics_add(m, MET_COST_USD, L("m1"), 0.5);
    metrics_add(m, MET_JOBS_SUBMITTED, NULL, 2);

    assert_true(metrics_get(m, MET_TOOL_CALLS, L("fs", "read")) == 2);
    assert_true(metrics_get(m, MET_TOOL_CALLS, L("fs", "write")) == 3);
    assert_true(metrics_get(m, MET_TOOL_CALLS, L("git", "read")) == 1);
    assert_true(metrics_get(m, MET_TOOL_CALLS, L("git", "write")) == 0);
    assert_true(metrics_get(m, MET_COST_USD, L("m1")) == 0.75);
    assert_true(metrics_get(m, MET_JOBS_SUBMITTED, NULL) == 2);
    /* metrics_get does not create series. */
    assert_int_equal(metrics_series_count(m, MET_TOOL_CALLS), 3);

    /* A NULL value is "". */
    metrics_inc(m, MET_TOOL_CALLS, L("fs", NULL));
    assert_true(metrics_get(m, MET_TOOL_CALLS, L("fs", "")) == 1);

    char *t = prom_text(m);
    assert_line(t, "mcpdeck_tool_calls_total{server=\"fs\",tool=\"read\"} 2");
    assert_line(t, "mcpdeck_tool_calls_total{server=\"fs\",tool=\"\"} 1");
    assert_line(t, "mcpdeck_cost_usd_total{model=\"m1\"} 0.75");
    assert_line(t, "mcpdeck_jobs_submitted_total 2");
    free(t);
    metrics_free(m);
}

static void test_gauges(void **state)
{
    struct metrics *m = metrics_new();
    metrics_set(m, MET_QUEUE_DEPTH, NULL, 7);
    metrics_set(m, MET_QUEUE_DEPTH, NULL, 3);
    metrics_add(m, MET_JOBS_RUNNING, NULL, 2);
    metrics_add(m, MET_JOBS_RUNNING, NULL, -1);
    metrics_set(m, MET_BREAKER_STATE, L("fs"), 2);
    metrics_set(m, MET_BREAKER_STATE, L("fs"), 1);
    metrics_set(m, MET_SERVER_HEALTH, L("git"), 3);
    metrics_set(m, MET_START_TIME, NULL, 1700000000.5);

    assert_true(metrics_get(m, MET_QUEUE_DEPTH, NULL) == 3);
    assert_true(metrics_get(m, MET_JOBS_RUNNING, NULL) == 1);
    assert_true(metrics_get(m, MET_BREAKER_STATE, L("fs")) == 1);
    assert_true(metrics_get(m, MET_UP, NULL) == 1);

    char *t = prom_text(m);
    assert_line(t, "mcpdeck_queue_depth 3");
    assert_line(t, "mcpdeck_breaker_state{target=\"fs\"} 1");
    assert_line(t, "mcpdeck_server_health{server=\"git\"} 3");
    assert_line(t, "mcpdeck_start_time_seconds 1700000000.5");
    assert_line(t, "mcpdeck_up 1");
    assert_line(t, "mcpdeck_build_info{version=\"" MCPDECK_VERSION "\"} 1");
    free(t);
    metrics_free(m);
}

/* === Histograms === */

static void test_histogram_exposition(void **state)
{
    struct metrics *m = metrics_new();
    /* Buckets are le (inclusive): 0.005 lands in le="0.005". */
    const double obs[] = {0.003, 0.005, 0.02, 0.7, 0.7, 400};
    double sum = 0;
    for (size_t i = 0; i < ARRAY_LEN(obs); i++) {
        metrics_observe(m, MET_TOOL_CALL_SECONDS, L("fs"), obs[i]);
        sum += obs[i];
    }
    metrics_observe(m, MET_TOOL_CALL_SECONDS, L("fs"), NAN); /* ignored */
    metrics_observe(m, MET_TOOL_CALL_SECONDS, L("git"), 0.1);
    metrics_add(m, MET_TOOL_CALL_SECONDS, L("fs"), 1);        /* not a counter */

    static const struct {
        const char *le;
        int cum;
    } want[] = {
        {"0.005", 2}, {"0.01", 2}, {"0.025", 3}, {"0.05", 3}, {"0.1", 3},
        {"0.25", 3},  {"0.5", 3},  {"1", 5},     {"2.5", 5},  {"5", 5},
        {"10", 5},    {"30", 5},   {"60", 5},    {"120", 5},  {"300", 5},
        {"+Inf", 6},
    };
    char *t = prom_text(m);
    const struct metric_def *d = metrics_def(MET_TOOL_CALL_SECONDS);
    assert_int_equal(d->nbuckets + 1, ARRAY_LEN(want));
    for (size_t i = 0; i < ARRAY_LEN(want); i++) {
        char *line = xasprintf("mcpdeck_tool_call_seconds_bucket{server=\"fs\",le=\"%s\"} %d",
                               want[i].le, want[i].cum);
        assert_line(t, line);
        free(line);
    }
    char *line = xasprintf("mcpdeck_tool_call_seconds_sum{server=\"fs\"} %.15g", sum);
    assert_line(t, line);
    free(line);
    assert_line(t, "mcpdeck_tool_call_seconds_count{server=\"fs\"} 6");
    assert_line(t, "mcpdeck_tool_call_seconds_bucket{server=\"git\",le=\"0.05\"} 0");
    assert_line(t, "mcpdeck_tool_call_seconds_bucket{server=\"git\",le=\"0.1\"} 1");
    assert_line(t, "mcpdeck_tool_call_seconds_count{server=\"git\"} 1");
    assert_true(metrics_get(m, MET_TOOL_CALL_SECONDS, L("fs")) == 6);

    /* A histogram without labels. */
    metrics_observe(m, MET_QUEUE_WAIT_SECONDS, NULL, 2);
    free(t);
    t = prom_text(m);
    assert_line(t, "mcpdeck_queue_wait_seconds_bucket{le=\"1\"} 0");
    assert_line(t, "mcpdeck_queue_wait_seconds_bucket{le=\"5\"} 1");
    assert_line(t, "mcpdeck_queue_wait_seconds_sum 2");
    assert_line(t, "mcpdeck_queue_wait_seconds_count 1");
    free(t);
    metrics_free(m);
}

static void test_quantiles_uniform(void **state)
{
    struct metrics *m = metrics_new();
    for (int ms = 1; ms <= 1000; ms++)
        metrics_observe(m, MET_TOOL_CALL_SECONDS, L("fs"), ms / 1000.0);
    static const struct {
        double q, want;
    } cases[] = {
        {0.50, 0.500}, {0.95, 0.950}, {0.99, 0.990}, {0.10, 0.100}, {0.001, 0.001},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        double got = -1;
        assert_int_equal(metrics_quantile(m, MET_TOOL_CALL_SECONDS, L("fs"), cases[i].q, &got),
                         0);
        assert_near(got, cases[i].want, quantile_bound);
    }
    /* The extremes are the smallest and largest samples. */
    double got;
    assert_int_equal(metrics_quantile(m, MET_TOOL_CALL_SECONDS, L("fs"), 0, &got), 0);
    assert_true(got == 0.001);
    assert_int_equal(metrics_quantile(m, MET_TOOL_CALL_SECONDS, L("fs"), 1, &got), 0);
    assert_true(got == 1.0);

    /* No samples, no series, not a histogram. */
    assert_int_equal(metrics_quantile(m, MET_TOOL_CALL_SECONDS, L("git"), 0.5, &got), -1);
    assert_int_equal(metrics_quantile(m, MET_QUEUE_WAIT_SECONDS, NULL, 0.5, &got), -1);
    metrics_inc(m, MET_TOOL_CALLS, L("fs", "x"));
    assert_int_equal(metrics_quantile(m, MET_TOOL_CALLS, L("fs", "x"), 0.5, &got), -1);
    metrics_free(m);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Log-uniform samples over 10 µs .. 1000 s against the sorted samples. */
static void test_quantiles_against_samples(void **state)
{
    enum { N = 5000 };
    static double s[N];
    struct metrics *m = metrics_new();
    uint64_t x = 88172645463325252ull;
    for (size_t i = 0; i < N; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        double u = (double)(x >> 11) / 9007199254740992.0;
        s[i] = 1e-5 * pow(10, 8 * u);
        metrics_observe(m, MET_JOB_DURATION_SECONDS, L("done"), s[i]);
    }
    qsort(s, N, sizeof s[0], cmp_double);
    for (double q = 0.01; q < 1; q += 0.01) {
        size_t rank = (size_t)ceil(q * N);
        double got;
        assert_int_equal(metrics_quantile(m, MET_JOB_DURATION_SECONDS, L("done"), q, &got), 0);
        assert_near(got, s[rank - 1], quantile_bound);
    }
    /* Outside the fine range: the smallest and largest samples. */
    metrics_observe(m, MET_JOB_DURATION_SECONDS, L("tiny"), 1e-9);
    metrics_observe(m, MET_JOB_DURATION_SECONDS, L("tiny"), 2e-9);
    metrics_observe(m, MET_JOB_DURATION_SECONDS, L("huge"), 9000);
    metrics_observe(m, MET_JOB_DURATION_SECONDS, L("huge"), 20000);
    double got;
    assert_int_equal(metrics_quantile(m, MET_JOB_DURATION_SECONDS, L("tiny"), 0.5, &got), 0);
    assert_true(got == 1e-9);
    assert_int_equal(metrics_quantile(m, MET_JOB_DURATION_SECONDS, L("huge"), 0.99, &got), 0);
    assert_true(got == 20000);
    /* Negative observations count as 0. */
    metrics_observe(m, MET_JOB_DURATION_SECONDS, L("neg"), -3);
    assert_int_equal(metrics_quantile(m, MET_JOB_DURATION_SECONDS, L("neg"), 0.5, &got), 0);
    assert_true(got == 0);
    metrics_free(m);
}

/* === Labels === */

static void test_escaping(void **state)
{
    struct metrics *m = metrics_new();
    metrics_inc(m, MET_TOOL_CALLS, L("a\\b\"c\nd", "t"));
    metrics_observe(m, MET_TOOL_CALL_SECONDS, L("q\"uote"), 0.2);
    char *t = prom_text(m);
    assert_line(t, "mcpdeck_tool_calls_total{server=\"a\\\\b\\\"c\\nd\",tool=\"t\"} 1");
    assert_line(t, "mcpdeck_tool_call_seconds_count{server=\"q\\\"uote\"} 1");
    assert_line(t, "mcpdeck_tool_call_seconds_bucket{server=\"q\\\"uote\",le=\"+Inf\"} 1");
    free(t);
    metrics_free(m);
}

static void test_label_repair(void **state)
{
    struct metrics *m = metrics_new();
    /* Invalid UTF-8 becomes U+FFFD; the raw value finds the same series. */
    metrics_inc(m, MET_MODEL_CALLS, L("bad\xff" "end"));
    metrics_inc(m, MET_MODEL_CALLS, L("bad\xff" "end"));
    metrics_inc(m, MET_MODEL_CALLS, L("caf\xc3\xa9"));
    assert_int_equal(metrics_series_count(m, MET_MODEL_CALLS), 2);
    assert_true(metrics_get(m, MET_MODEL_CALLS, L("bad\xff" "end")) == 2);
    assert_true(metrics_get(m, MET_MODEL_CALLS, L("bad\xef\xbf\xbd" "end")) == 2);

    /* Long values are cut on a character boundary. */
    char longv[600];
    memset(longv, 'x', 255);
    strcpy(longv + 255, "\xc3\xa9 and more");
    metrics_inc(m, MET_MODEL_CALLS, L(longv));
    char *t = prom_text(m);
    assert_line(t, "mcpdeck_model_calls_total{model=\"bad\xef\xbf\xbd" "end\"} 2");
    assert_line(t, "mcpdeck_model_calls_total{model=\"caf\xc3\xa9\"} 1");
    longv[255] = '\0';
    char *line = xasprintf("mcpdeck_model_calls_total{model=\"%s\"} 1", longv);
    assert_line(t, line);
    free(line);
    free(t);
    metrics_free(m);
}

static void test_series_cap(void **state)
{
    struct metrics *m = metrics_new();
    char name[32];
    for (int i = 0; i < METRICS_SERIES_MAX + 5; i++) {
        snprintf(name, sizeof name, "tool%04d", i);
        metrics_inc(m, MET_TOOL_CALLS, L("fs", name));
    }
    assert_int_equal(metrics_series_count(m, MET_TOOL_CALLS), METRICS_SERIES_MAX + 1);
    assert_true(metrics_get(m, MET_TOOL_CALLS, L("_other", "_other")) == 5);
    /* Overflowed label sets were never created; existing ones still count. */
    snprintf(name, sizeof name, "tool%04d", METRICS_SERIES_MAX + 2);
    assert_true(metrics_get(m, MET_TOOL_CALLS, L("fs", name)) == 0);
    metrics_add(m, MET_TOOL_CALLS, L("fs", "tool0007"), 4);
    assert_true(metrics_get(m, MET_TOOL_CALLS, L("fs", "tool0007")) == 5);
    metrics_inc(m, MET_TOOL_CALLS, L("new", "one"));
    assert_true(metrics_get(m, MET_TOOL_CALLS, L("_other", "_other")) == 6);
    assert_int_equal(metrics_series_count(m, MET_TOOL_CALLS), METRICS_SERIES_MAX + 1);

    /* Histograms overflow the same way; other families are not affected. */
    for (int i = 0; i < METRICS_SERIES_MAX + 2; i++) {
        snprintf(name, sizeof name, "s%d", i);
        metrics_observe(m, MET_HEALTH_CHECK_SECONDS, L(name), 0.01);
    }
    metrics_inc(m, MET_TOOL_ERRORS, L("fs", "x"));
    assert_int_equal(metrics_series_count(m, MET_TOOL_ERRORS), 1);

    char *t = prom_text(m);
    assert_line(t, "mcpdeck_tool_calls_total{server=\"_other\",tool=\"_other\"} 6");
    assert_line(t, "mcpdeck_health_check_seconds_count{server=\"_other\"} 2");
    assert_int_equal(count_of(t, "mcpdeck_tool_calls_total{"), METRICS_SERIES_MAX + 1);
    free(t);
    metrics_free(m);
}

/* === Order and empty families === */

static void feed(struct metrics *m, const int *order, size_t n)
{
    static const char *const servers[] = {"charlie", "alpha", "bravo", "Zulu", "alpha2"};
    for (size_t i = 0; i < n; i++) {
        const char *s = servers[order[i]];
        metrics_inc(m, MET_TOOL_CALLS, L(s, "t2"));
        metrics_inc(m, MET_TOOL_CALLS, L(s, "t1"));
        metrics_observe(m, MET_TOOL_CALL_SECONDS, L(s), 0.01 * (order[i] + 1));
        metrics_set(m, MET_SERVER_HEALTH, L(s), 1);
    }
    metrics_set(m, MET_START_TIME, NULL, 1234);
}

static void test_deterministic_order(void **state)
{
    const int a[] = {0, 1, 2, 3, 4}, b[] = {4, 3, 2, 1, 0}, c[] = {2, 0, 4, 1, 3};
    struct metrics *ma = metrics_new(), *mb = metrics_new(), *mc = metrics_new();
    feed(ma, a, 5);
    feed(mb, b, 5);
    feed(mc, c, 5);
    char *ta = prom_text(ma), *tb = prom_text(mb), *tc = prom_text(mc);
    assert_string_equal(ta, tb);
    assert_string_equal(ta, tc);

    /* Sorted by label values (bytewise), then the second label. */
    const char *want[] = {
        "{server=\"Zulu\",tool=\"t1\"}",    "{server=\"Zulu\",tool=\"t2\"}",
        "{server=\"alpha\",tool=\"t1\"}",   "{server=\"alpha\",tool=\"t2\"}",
        "{server=\"alpha2\",tool=\"t1\"}",  "{server=\"bravo\",tool=\"t1\"}",
        "{server=\"charlie\",tool=\"t2\"}",
    };
    const char *prev = ta;
    for (size_t i = 0; i < ARRAY_LEN(want); i++) {
        const char *p = strstr(ta, want[i]);
        assert_non_null(p);
        assert_true(p > prev);
        prev = p;
    }
    /* Families in table order. */
    prev = ta;
    for (int id = 0; id < MET__COUNT; id++) {
        char *help = xasprintf("# HELP %s ", metrics_def((enum metric_id)id)->name);
        const char *p = strstr(ta, help);
        assert_non_null(p);
        assert_true(p >= prev);
        prev = p;
        free(help);
    }
    free(ta);
    free(tb);
    free(tc);
    metrics_free(ma);
    metrics_free(mb);
    metrics_free(mc);
}

static void test_empty_families(void **state)
{
    struct metrics *m = metrics_new();
    char *t = prom_text(m);
    for (int id = 0; id < MET__COUNT; id++) {
        const struct metric_def *d = metrics_def((enum metric_id)id);
        char *help = xasprintf("# HELP %s ", d->name);
        char *type = xasprintf("# TYPE %s ", d->name);
        assert_int_equal(count_of(t, help), 1);
        assert_int_equal(count_of(t, type), 1);
        free(help);
        free(type);
    }
    assert_line(t, "# TYPE mcpdeck_tool_calls_total counter");
    assert_line(t, "# TYPE mcpdeck_queue_depth gauge");
    assert_line(t, "# TYPE mcpdeck_tool_call_seconds histogram");
    assert_line(t, "mcpdeck_queue_depth 0");
    assert_line(t, "mcpdeck_jobs_running 0");
    assert_line(t, "mcpdeck_jobs_submitted_total 0");
    assert_line(t, "mcpdeck_queue_wait_seconds_bucket{le=\"+Inf\"} 0");
    assert_line(t, "mcpdeck_queue_wait_seconds_count 0");
    assert_null(strstr(t, "mcpdeck_tool_calls_total{"));
    assert_null(strstr(t, "mcpdeck_tool_call_seconds_"));
    free(t);
    metrics_free(m);
}

/* === promtool === */

/* Run promtool check metrics on text; returns its exit status and the
 * number of lines it printed in *lines (its output in *output). */
static int promtool_check(const char *text, int *lines, char **output)
{
    char path[] = "/tmp/mcpdeck-metrics-prom.XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    size_t n = strlen(text);
    assert_int_equal(write(fd, text, n), (ssize_t)n);
    close(fd);
    char *cmd = xasprintf("promtool check metrics < %s 2>&1", path);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    struct buf out;
    buf_init(&out);
    buf_puts(&out, "");
    char chunk[512];
    size_t got;
    while ((got = fread(chunk, 1, sizeof chunk, p)) > 0)
        buf_append(&out, chunk, got);
    int st = pclose(p);
    unlink(path);
    free(cmd);
    assert_true(WIFEXITED(st));
    *lines = (int)count_of(out.data, "\n") + (out.len && out.data[out.len - 1] != '\n');
    *output = buf_detach(&out);
    return WEXITSTATUS(st);
}

static void test_promtool(void **state)
{
    assert_int_equal(system("command -v promtool >/dev/null 2>&1"), 0);
    struct metrics *m = metrics_new();
    int order[] = {0, 1, 2, 3, 4};
    feed(m, order, 5);
    metrics_inc(m, MET_TOOL_CALLS, L("a\\b\"c\nd", "t"));
    metrics_inc(m, MET_TOOL_ERRORS, L("fs", "read"));
    metrics_observe(m, MET_TOOL_CALL_SECONDS, L("q\"s"), 1e-7);
    metrics_add(m, MET_JOBS_SUBMITTED, NULL, 4);
    metrics_inc(m, MET_JOBS, L("done"));
    metrics_inc(m, MET_JOBS, L("failed"));
    metrics_inc(m, MET_JOB_RETRIES, NULL);
    metrics_observe(m, MET_JOB_DURATION_SECONDS, L("done"), 12.5);
    metrics_observe(m, MET_QUEUE_WAIT_SECONDS, NULL, 0.3);
    metrics_set(m, MET_QUEUE_DEPTH, NULL, 2);
    metrics_set(m, MET_JOBS_RUNNING, NULL, 1);
    metrics_observe(m, MET_HEALTH_CHECK_SECONDS, L("fs"), 0.002);
    metrics_inc(m, MET_SERVER_RESTARTS, L("fs"));
    metrics_set(m, MET_BREAKER_STATE, L("fs"), 2);
    metrics_inc(m, MET_MODEL_CALLS, L("claude"));
    metrics_inc(m, MET_MODEL_ERRORS, L("claude"));
    metrics_observe(m, MET_MODEL_CALL_SECONDS, L("claude"), 3.2);
    metrics_add(m, MET_TOKENS, L("claude", "input"), 1200);
    metrics_add(m, MET_TOKENS, L("claude", "output"), 300);
    metrics_add(m, MET_COST_USD, L("claude"), 0.0123);
    metrics_inc(m, MET_MODEL_CALLS, L("bad\xfe"));
    char name[32];
    for (int i = 0; i < METRICS_SERIES_MAX + 3; i++) {
        snprintf(name, sizeof name, "r%d", i);
        metrics_inc(m, MET_SERVER_RESTARTS, L(name));
    }
    char *t = prom_text(m);
    char *out = NULL;
    int lines = -1;
    int rc = promtool_check(t, &lines, &out);
    if (rc != 0 || lines != 0)
        fail_msg("promtool: status %d, output:\n%s", rc, out);
    free(out);

    /* The check is real: a counter without _total and HELP is reported,
     * and a second HELP line for a family is an error. */
    rc = promtool_check("# TYPE calls counter\ncalls 1\n", &lines, &out);
    assert_true(rc != 0 && lines > 0);
    free(out);
    char *twice = xasprintf("%s# HELP mcpdeck_up again\n", t);
    rc = promtool_check(twice, &lines, &out);
    assert_true(rc != 0 && lines > 0);
    free(out);
    free(twice);
    free(t);

    /* A fresh registry passes too. */
    metrics_free(m);
    m = metrics_new();
    t = prom_text(m);
    rc = promtool_check(t, &lines, &out);
    if (rc != 0 || lines != 0)
        fail_msg("promtool (empty): status %d, output:\n%s", rc, out);
    free(out);
    free(t);
    metrics_free(m);
}

/* === Walkers and summary === */

struct walk {
    struct buf log;
    int histograms;
};

static void walk_cb(void *payload, const struct metric_series_view *v)
{
    struct walk *w = payload;
    buf_printf(&w->log, "%s", v->def->name);
    for (size_t i = 0; i < v->def->nlabels; i++)
        buf_printf(&w->log, " %s", v->labels[i]);
    if (v->def->kind == METRIC_HISTOGRAM) {
        w->histograms++;
        buf_printf(&w->log, " n=%llu", (unsigned long long)v->count);
        if (v->count) {
            assert_near(v->sum, v->value, 1e-12);
            assert_true(v->p50 <= v->p95 && v->p95 <= v->p99);
        } else {
            assert_true(isnan(v->p50) && isnan(v->p99));
        }
    } else {
        buf_printf(&w->log, " =%g", v->value);
        assert_int_equal(v->count, 0);
        assert_true(isnan(v->p50) && isnan(v->p95) && isnan(v->p99));
    }
    buf_putc(&w->log, '\n');
}

static void grab(void *payload, const struct metric_series_view *v)
{
    *(struct metric_series_view *)payload = *v;
}

static void test_foreach(void **state)
{
    struct metrics *m = metrics_new();
    metrics_set(m, MET_START_TIME, NULL, 5);
    metrics_inc(m, MET_TOOL_CALLS, L("b", "x"));
    metrics_inc(m, MET_TOOL_CALLS, L("a", "y"));
    for (int ms = 1; ms <= 100; ms++)
        metrics_observe(m, MET_TOOL_CALL_SECONDS, L("a"), ms / 1000.0);

    struct walk w = {0};
    buf_init(&w.log);
    metrics_foreach_family(m, MET_TOOL_CALLS, walk_cb, &w);
    assert_string_equal(w.log.data, "mcpdeck_tool_calls_total a y =1\n"
                                    "mcpdeck_tool_calls_total b x =1\n");
    buf_fini(&w.log);

    /* The pane's numbers for one histogram series. */
    struct metric_series_view got = {0};
    metrics_foreach_family(m, MET_TOOL_CALL_SECONDS, grab, &got);
    assert_int_equal(got.count, 100);
    assert_near(got.sum, 5.05, 1e-9);
    assert_near(got.p50, 0.050, quantile_bound);
    assert_near(got.p95, 0.095, quantile_bound);
    assert_near(got.p99, 0.099, quantile_bound);

    buf_init(&w.log);
    metrics_foreach(m, walk_cb, &w);
    assert_string_equal(w.log.data,
                        "mcpdeck_up =1\n"
                        "mcpdeck_build_info " MCPDECK_VERSION " =1\n"
                        "mcpdeck_start_time_seconds =5\n"
                        "mcpdeck_tool_calls_total a y =1\n"
                        "mcpdeck_tool_calls_total b x =1\n"
                        "mcpdeck_tool_call_seconds a n=100\n"
                        "mcpdeck_jobs_submitted_total =0\n"
                        "mcpdeck_job_retries_total =0\n"
                        "mcpdeck_queue_wait_seconds n=0\n"
                        "mcpdeck_queue_depth =0\n"
                        "mcpdeck_jobs_running =0\n"
                        "mcpdeck_outbox_depth =0\n"
                        "mcpdeck_qdrant_up =0\n");
    assert_int_equal(w.histograms, 2);
    buf_fini(&w.log);
    metrics_free(m);
}

static void test_summary(void **state)
{
    struct metrics *m = metrics_new();
    metrics_add(m, MET_TOKENS, L("m", "input"), 42);
    for (int ms = 1; ms <= 1000; ms++)
        metrics_observe(m, MET_TOOL_CALL_SECONDS, L("fs"), ms / 1000.0);
    struct buf b;
    buf_init(&b);
    metrics_summary(m, &b);
    assert_non_null(strstr(b.data, "\nmcpdeck_tokens_total{model=\"m\",direction=\"input\"} 42\n"));
    const char *h = strstr(b.data, "\nmcpdeck_tool_call_seconds{server=\"fs\"} count=1000 p50=");
    assert_non_null(h);
    assert_non_null(strstr(h, " mean=500.5ms\n"));
    assert_non_null(strstr(b.data, "\nmcpdeck_queue_wait_seconds count=0 p50=- p95=- p99=- "
                                   "mean=-\n"));
    buf_fini(&b);
    metrics_free(m);
}

/* === The textfile === */

static char *temp_dir(void)
{
    char tmpl[] = "/tmp/mcpdeck-metrics.XXXXXX";
    assert_non_null(mkdtemp(tmpl));
    return xstrdup(tmpl);
}

static char *read_all(const char *path)
{
    char *data = NULL;
    size_t n = 0;
    if (util_read_file(path, &data, &n) < 0)
        return NULL;
    return data;
}

static size_t dir_entries(const char *dir)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
            n++;
    closedir(d);
    return n;
}

static void test_write_file(void **state)
{
    char *dir = temp_dir();
    char *path = xasprintf("%s/mcpdeck.prom", dir);
    struct metrics *a = metrics_new(), *b = metrics_new();
    metrics_set(a, MET_START_TIME, NULL, 1);
    metrics_set(b, MET_START_TIME, NULL, 2);
    for (int i = 0; i < 300; i++) {
        char name[16];
        snprintf(name, sizeof name, "s%d", i);
        metrics_observe(b, MET_TOOL_CALL_SECONDS, L(name), 0.1);
    }
    char *ta = prom_text(a), *tb = prom_text(b);
    char *err = NULL;

    assert_int_equal(metrics_write_file(a, path, &err), 0);
    assert_null(err);
    char *got = read_all(path);
    assert_string_equal(got, ta);
    free(got);

    /* The old file is replaced, not rewritten in place: a reader that
     * opened it before still sees the whole old text. */
    FILE *old = fopen(path, "r");
    assert_non_null(old);
    assert_int_equal(metrics_write_file(b, path, &err), 0);
    struct buf seen;
    buf_init(&seen);
    buf_puts(&seen, "");
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, old)) > 0)
        buf_append(&seen, chunk, n);
    fclose(old);
    assert_string_equal(seen.data, ta);
    buf_fini(&seen);
    got = read_all(path);
    assert_string_equal(got, tb);
    free(got);
    assert_int_equal(dir_entries(dir), 1);

    /* A reader racing the writer only ever sees one whole text. */
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int bad = 0;
        for (int i = 0; i < 2000 && !bad; i++) {
            char *t = read_all(path);
            bad = !t || (strcmp(t, ta) != 0 && strcmp(t, tb) != 0);
            free(t);
        }
        _exit(bad);
    }
    for (int i = 0; i < 200; i++) {
        assert_int_equal(metrics_write_file(i % 2 ? a : b, path, &err), 0);
    }
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
    assert_int_equal(dir_entries(dir), 1);

    /* A directory that does not exist: the message names the path. */
    char *missing = xasprintf("%s/nope/mcpdeck.prom", dir);
    assert_int_equal(metrics_write_file(a, missing, &err), -1);
    assert_non_null(err);
    assert_non_null(strstr(err, missing));
    assert_non_null(strstr(err, "No such file or directory"));
    free(err);
    err = NULL;

    /* A directory in the way of the rename: no temporary file is left. */
    char *blocked = xasprintf("%s/sub", dir);
    assert_int_equal(mkdir(blocked, 0755), 0);
    char *inner = xasprintf("%s/x", blocked);
    FILE *f = fopen(inner, "w");
    assert_non_null(f);
    fclose(f);
    assert_int_equal(metrics_write_file(a, blocked, &err), -1);
    assert_non_null(strstr(err, blocked));
    assert_non_null(strstr(err, "rename"));
    free(err);
    assert_int_equal(dir_entries(dir), 2);
    unlink(inner);
    rmdir(blocked);
    free(inner);
    free(blocked);

    unlink(path);
    rmdir(dir);
    free(missing);
    free(ta);
    free(tb);
    metrics_free(a);
    metrics_free(b);
    free(path);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_counters),
        cmocka_unit_test(test_gauges),
        cmocka_unit_test(test_histogram_exposition),
        cmocka_unit_test(test_quantiles_uniform),
        cmocka_unit_test(test_quantiles_against_samples),
        cmocka_unit_test(test_escaping),
        cmocka_unit_test(test_label_repair),
        cmocka_unit_test(test_series_cap),
        cmocka_unit_test(test_deterministic_order),
        cmocka_unit_test(test_empty_families),
        cmocka_unit_test(test_promtool),
        cmocka_unit_test(test_foreach),
        cmocka_unit_test(test_summary),
        cmocka_unit_test(test_write_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
