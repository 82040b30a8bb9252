/* metrics.c — see metrics.h.
 *
 * A family keeps its series in an array sorted by label values: lookups
 * are a binary search, exposition needs no sort, and insertion (a memmove)
 * happens once per label set. A histogram series holds its Prometheus
 * bucket counts (not cumulative; cumulated on output) and a log-scale
 * array for quantiles, allocated together when the series is created. */
#include "metrics.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util.h"
#include "version.h"

/* === The table === */

static const double tool_call_buckets[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1,
                                           2.5,   5,    10,    30,   60,  120,  300};
static const double queue_wait_buckets[] = {0.001, 0.01, 0.1, 0.5, 1,   5,
                                            10,    30,   60,  300, 900, 3600};
static const double job_duration_buckets[] = {0.01, 0.1, 0.5, 1,   5,   10,
                                              30,   60,  300, 900, 3600};
static const double health_check_buckets[] = {0.001, 0.005, 0.01, 0.025, 0.05, 0.1,
                                              0.25,  0.5,   1,    2.5,   5,    10};
static const double model_call_buckets[] = {0.1, 0.25, 0.5, 1,  2.5, 5,
                                            10,  20,   30,  60, 120, 300};

#define HIST(b) .buckets = (b), .nbuckets = ARRAY_LEN(b)

static const struct metric_def metrics_table[] = {
    [MET_UP] = {"mcpdeck_up", METRIC_GAUGE, "1 while mcpdeck is running.", {0}, 0},
    [MET_BUILD_INFO] = {"mcpdeck_build_info", METRIC_GAUGE,
                        "Always 1; the version label names the running build.", {"version"}, 1},
    [MET_START_TIME] = {"mcpdeck_start_time_seconds", METRIC_GAUGE,
                        "Start time of the process since the Unix epoch, in seconds.", {0}, 0},
    [MET_TOOL_CALLS] = {"mcpdeck_tool_calls_total", METRIC_COUNTER,
                        "MCP tool calls made, per server and tool.", {"server", "tool"}, 2},
    [MET_TOOL_ERRORS] = {"mcpdeck_tool_errors_total", METRIC_COUNTER,
                         "MCP tool calls that failed or returned isError, per server and tool.",
                         {"server", "tool"}, 2},
    [MET_TOOL_CALL_SECONDS] = {"mcpdeck_tool_call_seconds", METRIC_HISTOGRAM,
                               "Latency of MCP tool calls, per server.", {"server"}, 1,
                               HIST(tool_call_buckets)},
    [MET_JOBS_SUBMITTED] = {"mcpdeck_jobs_submitted_total", METRIC_COUNTER,
                            "Jobs put into the queue.", {0}, 0},
    [MET_JOBS] = {"mcpdeck_jobs_total", METRIC_COUNTER,
                  "Jobs finished, by final status (done, failed, canceled).", {"status"}, 1},
    [MET_JOB_RETRIES] = {"mcpdeck_job_retries_total", METRIC_COUNTER,
                         "Job attempts that failed and were scheduled again.", {0}, 0},
    [MET_JOB_DURATION_SECONDS] = {"mcpdeck_job_duration_seconds", METRIC_HISTOGRAM,
                                  "Run time of finished jobs, by final status.", {"status"}, 1,
                                  HIST(job_duration_buckets)},
    [MET_QUEUE_WAIT_SECONDS] = {"mcpdeck_queue_wait_seconds", METRIC_HISTOGRAM,
                                "Time jobs waited in the queue before they started.", {0}, 0,
                                HIST(queue_wait_buckets)},
    [MET_QUEUE_DEPTH] = {"mcpdeck_queue_depth", METRIC_GAUGE,
                         "Jobs waiting in the queue.", {0}, 0},
    [MET_JOBS_RUNNING] = {"mcpdeck_jobs_running", METRIC_GAUGE, "Jobs running now.", {0}, 0},
    [MET_SERVER_HEALTH] = {"mcpdeck_server_health", METRIC_GAUGE,
                           "Server health: 0 unknown, 1 healthy, 2 warning, 3 unhealthy.",
                           {"server"}, 1},
    [MET_HEALTH_CHECK_SECONDS] = {"mcpdeck_health_check_seconds", METRIC_HISTOGRAM,
                                  "Latency of server health checks, per server.", {"server"}, 1,
                                  HIST(health_check_buckets)},
    [MET_SERVER_RESTARTS] = {"mcpdeck_server_restarts_total", METRIC_COUNTER,
                             "Server processes restarted, per server.", {"server"}, 1},
    [MET_BREAKER_STATE] = {"mcpdeck_breaker_state", METRIC_GAUGE,
                           "Circuit breaker state: 0 closed, 1 half-open, 2 open.", {"target"}, 1},
    [MET_MODEL_CALLS] = {"mcpdeck_model_calls_total", METRIC_COUNTER,
                         "Model (LLM) requests made, per model.", {"model"}, 1},
    [MET_MODEL_ERRORS] = {"mcpdeck_model_errors_total", METRIC_COUNTER,
                          "Model (LLM) requests that failed, per model.", {"model"}, 1},
    [MET_MODEL_CALL_SECONDS] = {"mcpdeck_model_call_seconds", METRIC_HISTOGRAM,
                                "Latency of model (LLM) requests, per model.", {"model"}, 1,
                                HIST(model_call_buckets)},
    [MET_TOKENS] = {"mcpdeck_tokens_total", METRIC_COUNTER,
                    "Model tokens, per model and direction (input, output).",
                    {"model", "direction"}, 2},
    [MET_COST_USD] = {"mcpdeck_cost_usd_total", METRIC_COUNTER,
                      "Estimated model cost in US dollars, per model.", {"model"}, 1},
    [MET_MEMORY_ENTRIES] = {"mcpdeck_memory_entries", METRIC_GAUGE,
                            "Memory entries, per namespace.", {"namespace"}, 1},
    [MET_OUTBOX_DEPTH] = {"mcpdeck_outbox_depth", METRIC_GAUGE,
                          "Memory writes waiting in the outbox for Qdrant.", {0}, 0},
    [MET_QDRANT_UP] = {"mcpdeck_qdrant_up", METRIC_GAUGE,
                       "Whether Qdrant answered the last request (1) or not (0).", {0}, 0},
};

_Static_assert(ARRAY_LEN(metrics_table) == MET__COUNT, "one table row per metric_id");

const struct metric_def *metrics_def(enum metric_id id)
{
    return (unsigned)id < MET__COUNT ? &metrics_table[id] : NULL;
}

/* === Storage === */

/* Quantile buckets: FINE_PER_OCTAVE per power of two from FINE_LO, plus
 * one below (index 0) and one above (the last). */
#define FINE_PER_OCTAVE 8
#define FINE_OCTAVES 32
#define FINE_LO 1e-6
#define FINE_N (FINE_PER_OCTAVE * FINE_OCTAVES + 2)

static const char *const other_labels[3] = {"_other", "_other", "_other"};

struct series {
    char *labels[3];
    double value;      /* counter, gauge; histogram: sum */
    uint64_t count;    /* histogram observations */
    double min, max;
    uint64_t *bucket;  /* histogram: nbuckets + 1 (+Inf), not cumulative */
    uint64_t *fine;    /* histogram: FINE_N */
};

struct family {
    struct series **s;   /* sorted by label values */
    size_t n, cap;
    int has_other;
};

struct metrics {
    struct family fam[MET__COUNT];
};

static int labels_cmp(const char *const *a, const char *const *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        int c = strcmp(a[i], b[i]);
        if (c)
            return c;
    }
    return 0;
}

/* Binary search; returns the index of the series with these labels, or -1
 * and in *at where it would go. */
static long family_find(const struct family *f, size_t nlabels, const char *const *key,
                        size_t *at)
{
    size_t lo = 0, hi = f->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = labels_cmp((const char *const *)f->s[mid]->labels, key, nlabels);
        if (c == 0)
            return (long)mid;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (at)
        *at = lo;
    return -1;
}

static struct series *family_insert(struct family *f, const struct metric_def *d,
                                    const char *const *key, size_t at)
{
    struct series *s = xcalloc(1, sizeof *s);
    for (size_t i = 0; i < d->nlabels; i++)
        s->labels[i] = xstrdup(key[i]);
    if (d->kind == METRIC_HISTOGRAM) {
        s->bucket = xcalloc(d->nbuckets + 1 + FINE_N, sizeof *s->bucket);
        s->fine = s->bucket + d->nbuckets + 1;
    }
    if (f->n == f->cap) {
        f->cap = f->cap ? f->cap * 2 : 8;
        f->s = xrealloc(f->s, f->cap * sizeof *f->s);
    }
    memmove(f->s + at + 1, f->s + at, (f->n - at) * sizeof *f->s);
    f->s[at] = s;
    f->n++;
    return s;
}

static void series_free(struct series *s)
{
    for (size_t i = 0; i < 3; i++)
        free(s->labels[i]);
    free(s->bucket);
    free(s);
}

/* Length of the valid UTF-8 sequence at p (at most n bytes), 0 if invalid. */
static size_t utf8_len(const unsigned char *p, size_t n)
{
    unsigned c = p[0];
    size_t len;
    unsigned lo = 0x80, hi = 0xBF;
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF)
        len = 2;
    else if (c >= 0xE0 && c <= 0xEF) {
        len = 3;
        if (c == 0xE0)
            lo = 0xA0;
        else if (c == 0xED)
            hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        if (c == 0xF0)
            lo = 0x90;
        else if (c == 0xF4)
            hi = 0x8F;
    } else
        return 0;
    if (n < len || p[1] < lo || p[1] > hi)
        return 0;
    for (size_t i = 2; i < len; i++)
        if ((p[i] & 0xC0) != 0x80)
            return 0;
    return len;
}

/* A label value as stored: invalid bytes become U+FFFD, cut to at most
 * METRICS_LABEL_MAX bytes on a character boundary. malloc'd. */
static char *label_clean(const char *v)
{
    const unsigned char *p = (const unsigned char *)v;
    size_t n = strlen(v);
    struct buf b;
    buf_init(&b);
    buf_puts(&b, "");
    for (size_t i = 0; i < n;) {
        size_t len = utf8_len(p + i, n - i);
        const char *piece = len ? v + i : "\xEF\xBF\xBD";
        size_t plen = len ? len : 3;
        if (b.len + plen > METRICS_LABEL_MAX)
            break;
        buf_append(&b, piece, plen);
        i += len ? len : 1;
    }
    return buf_detach(&b);
}

/* Find the series for labels (NULL values count as ""), first as given,
 * then as label_clean() would store them. Returns its index, or -1 with
 * *at where the cleaned key (in key) goes. clean[] holds what the caller
 * frees. */
static long family_search(const struct family *f, const struct metric_def *d,
                          const char *const *labels, const char *key[3], char *clean[3],
                          size_t *at)
{
    for (size_t k = 0; k < 3; k++) {
        key[k] = k < d->nlabels && labels && labels[k] ? labels[k] : "";
        clean[k] = NULL;
    }
    long i = family_find(f, d->nlabels, key, NULL);
    if (i >= 0)
        return i;
    for (size_t k = 0; k < d->nlabels; k++)
        key[k] = clean[k] = label_clean(key[k]);
    return family_find(f, d->nlabels, key, at);
}

/* The series for these labels, created on first use (or the family's
 * "_other" series once it is full). Never NULL. */
static struct series *series_get(struct metrics *m, enum metric_id id, const char *const *labels)
{
    const struct metric_def *d = &metrics_table[id];
    struct family *f = &m->fam[id];
    const char *key[3];
    char *clean[3];
    size_t at = 0;
    long i = family_search(f, d, labels, key, clean, &at);
    struct series *s;
    if (i >= 0) {
        s = f->s[i];
    } else if (f->n - (size_t)f->has_other < METRICS_SERIES_MAX) {
        s = family_insert(f, d, key, at);
    } else if ((i = family_find(f, d->nlabels, other_labels, &at)) >= 0) {
        s = f->s[i];
    } else {
        s = family_insert(f, d, other_labels, at);
        f->has_other = 1;
    }
    for (size_t k = 0; k < 3; k++)
        free(clean[k]);
    return s;
}

/* The existing series for these labels, or NULL. */
static const struct series *series_lookup(const struct metrics *m, enum metric_id id,
                                          const char *const *labels)
{
    if ((unsigned)id >= MET__COUNT)
        return NULL;
    const struct family *f = &m->fam[id];
    const char *key[3];
    char *clean[3];
    long i = family_search(f, &metrics_table[id], labels, key, clean, NULL);
    for (size_t k = 0; k < 3; k++)
        free(clean[k]);
    return i >= 0 ? f->s[i] : NULL;
}

/* === Lifecycle === */

struct metrics *metrics_new(void)
{
    struct metrics *m = xcalloc(1, sizeof *m);
    for (size_t id = 0; id < MET__COUNT; id++)
        if (metrics_table[id].nlabels == 0)
            series_get(m, (enum metric_id)id, NULL);
    metrics_set(m, MET_UP, NULL, 1);
    metrics_set(m, MET_BUILD_INFO, (const char *[]){MCPDECK_VERSION}, 1);
    metrics_set(m, MET_START_TIME, NULL, (double)util_wall_ms() / 1000.0);
    return m;
}

void metrics_free(struct metrics *m)
{
    if (!m)
        return;
    for (size_t id = 0; id < MET__COUNT; id++) {
        for (size_t i = 0; i < m->fam[id].n; i++)
            series_free(m->fam[id].s[i]);
        free(m->fam[id].s);
    }
    free(m);
}

/* === Recording === */

void metrics_add(struct metrics *m, enum metric_id id, const char *const *labels, double v)
{
    if ((unsigned)id >= MET__COUNT || isnan(v))
        return;
    enum metric_kind k = metrics_table[id].kind;
    if (k == METRIC_HISTOGRAM || (k == METRIC_COUNTER && v < 0))
        return;
    series_get(m, id, labels)->value += v;
}

void metrics_set(struct metrics *m, enum metric_id id, const char *const *labels, double v)
{
    if ((unsigned)id >= MET__COUNT || metrics_table[id].kind != METRIC_GAUGE)
        return;
    series_get(m, id, labels)->value = v;
}

static size_t fine_index(double v)
{
    if (v < FINE_LO)
        return 0;
    double k = floor(log2(v / FINE_LO) * FINE_PER_OCTAVE);
    if (k >= FINE_PER_OCTAVE * FINE_OCTAVES)
        return FINE_N - 1;
    return (size_t)k + 1;
}

void metrics_observe(struct metrics *m, enum metric_id id, const char *const *labels, double v)
{
    if ((unsigned)id >= MET__COUNT || metrics_table[id].kind != METRIC_HISTOGRAM || isnan(v))
        return;
    const struct metric_def *d = &metrics_table[id];
    struct series *s = series_get(m, id, labels);
    if (v < 0)
        v = 0;
    if (s->count == 0 || v < s->min)
        s->min = v;
    if (s->count == 0 || v > s->max)
        s->max = v;
    s->count++;
    s->value += v;
    size_t b = 0;
    while (b < d->nbuckets && v > d->buckets[b])
        b++;
    s->bucket[b]++;
    s->fine[fine_index(v)]++;
}

/* === Reading === */

double metrics_get(const struct metrics *m, enum metric_id id, const char *const *labels)
{
    const struct series *s = series_lookup(m, id, labels);
    if (!s)
        return 0;
    return metrics_table[id].kind == METRIC_HISTOGRAM ? (double)s->count : s->value;
}

static double series_quantile(const struct series *s, double q)
{
    if (q < 0)
        q = 0;
    if (q > 1)
        q = 1;
    uint64_t rank = (uint64_t)ceil(q * (double)s->count);
    if (rank < 1)
        rank = 1;
    if (rank > s->count)
        rank = s->count;
    uint64_t seen = 0;
    size_t i = 0;
    for (; i < FINE_N; i++) {
        seen += s->fine[i];
        if (seen >= rank)
            break;
    }
    if (i == 0)
        return s->min;
    if (i >= FINE_N - 1)
        return s->max;
    /* The geometric middle of the bucket. */
    double est = FINE_LO * exp2(((double)(i - 1) + 0.5) / FINE_PER_OCTAVE);
    if (est < s->min)
        est = s->min;
    if (est > s->max)
        est = s->max;
    return est;
}

int metrics_quantile(const struct metrics *m, enum metric_id id, const char *const *labels,
                     double q, double *out)
{
    const struct series *s = series_lookup(m, id, labels);
    if (!s || metrics_table[id].kind != METRIC_HISTOGRAM || s->count == 0 || isnan(q))
        return -1;
    *out = series_quantile(s, q);
    return 0;
}

size_t metrics_series_count(const struct metrics *m, enum metric_id id)
{
    return (unsigned)id < MET__COUNT ? m->fam[id].n : 0;
}

static void series_view(enum metric_id id, const struct series *s, struct metric_series_view *v)
{
    const struct metric_def *d = &metrics_table[id];
    v->id = id;
    v->def = d;
    v->labels = (const char *const *)s->labels;
    v->value = s->value;
    v->count = d->kind == METRIC_HISTOGRAM ? s->count : 0;
    v->sum = s->value;
    v->p50 = v->p95 = v->p99 = NAN;
    if (v->count) {
        v->p50 = series_quantile(s, 0.50);
        v->p95 = series_quantile(s, 0.95);
        v->p99 = series_quantile(s, 0.99);
    }
}

void metrics_foreach_family(const struct metrics *m, enum metric_id id, metrics_series_cb cb,
                            void *payload)
{
    if ((unsigned)id >= MET__COUNT)
        return;
    for (size_t i = 0; i < m->fam[id].n; i++) {
        struct metric_series_view v;
        series_view(id, m->fam[id].s[i], &v);
        cb(payload, &v);
    }
}

void metrics_foreach(const struct metrics *m, metrics_series_cb cb, void *payload)
{
    for (size_t id = 0; id < MET__COUNT; id++)
        metrics_foreach_family(m, (enum metric_id)id, cb, payload);
}

/* === Prometheus text === */

/* Shortest of %.15g / %.17g that reads back as v; NaN and ±Inf spelled
 * the Prometheus way. */
static void format_number(char tmp[40], double v)
{
    if (isnan(v))
        strcpy(tmp, "NaN");
    else if (isinf(v))
        strcpy(tmp, v > 0 ? "+Inf" : "-Inf");
    else {
        snprintf(tmp, 40, "%.15g", v);
        if (strtod(tmp, NULL) != v)
            snprintf(tmp, 40, "%.17g", v);
    }
}

static void put_number(struct buf *out, double v)
{
    char tmp[40];
    format_number(tmp, v);
    buf_puts(out, tmp);
}

/* Escape for a label value (quote 1) or a HELP line (quote 0). */
static void put_escaped(struct buf *out, const char *s, int quote)
{
    for (; *s; s++) {
        if (*s == '\\')
            buf_puts(out, "\\\\");
        else if (*s == '\n')
            buf_puts(out, "\\n");
        else if (*s == '"' && quote)
            buf_puts(out, "\\\"");
        else
            buf_putc(out, *s);
    }
}

/* name+suffix{labels,le="..."} — le may be NULL. */
static void put_series_name(struct buf *out, const struct metric_def *d, const char *suffix,
                            const struct series *s, const char *le)
{
    buf_puts(out, d->name);
    buf_puts(out, suffix);
    if (d->nlabels == 0 && !le)
        return;
    buf_putc(out, '{');
    for (size_t i = 0; i < d->nlabels; i++) {
        if (i)
            buf_putc(out, ',');
        buf_printf(out, "%s=\"", d->labels[i]);
        put_escaped(out, s->labels[i], 1);
        buf_putc(out, '"');
    }
    if (le)
        buf_printf(out, "%sle=\"%s\"", d->nlabels ? "," : "", le);
    buf_putc(out, '}');
}

static void put_histogram(struct buf *out, const struct metric_def *d, const struct series *s)
{
    uint64_t cum = 0;
    char le[40];
    for (size_t b = 0; b <= d->nbuckets; b++) {
        cum += s->bucket[b];
        format_number(le, b < d->nbuckets ? d->buckets[b] : INFINITY);
        put_series_name(out, d, "_bucket", s, le);
        buf_printf(out, " %llu\n", (unsigned long long)cum);
    }
    put_series_name(out, d, "_sum", s, NULL);
    buf_putc(out, ' ');
    put_number(out, s->value);
    buf_putc(out, '\n');
    put_series_name(out, d, "_count", s, NULL);
    buf_printf(out, " %llu\n", (unsigned long long)s->count);
}

static const char *kind_name(enum metric_kind k)
{
    switch (k) {
    case METRIC_COUNTER:
        return "counter";
    case METRIC_GAUGE:
        return "gauge";
    case METRIC_HISTOGRAM:
        return "histogram";
    }
    return "untyped";
}

void metrics_prometheus(const struct metrics *m, struct buf *out)
{
    for (size_t id = 0; id < MET__COUNT; id++) {
        const struct metric_def *d = &metrics_table[id];
        const struct family *f = &m->fam[id];
        buf_printf(out, "# HELP %s ", d->name);
        put_escaped(out, d->help, 0);
        buf_printf(out, "\n# TYPE %s %s\n", d->name, kind_name(d->kind));
        for (size_t i = 0; i < f->n; i++) {
            if (d->kind == METRIC_HISTOGRAM) {
                put_histogram(out, d, f->s[i]);
                continue;
            }
            put_series_name(out, d, "", f->s[i], NULL);
            buf_putc(out, ' ');
            put_number(out, f->s[i]->value);
            buf_putc(out, '\n');
        }
    }
}

/* === Human summary === */

static void put_seconds(struct buf *out, double s)
{
    if (isnan(s))
        buf_puts(out, "-");
    else if (s < 1e-3)
        buf_printf(out, "%.0fus", s * 1e6);
    else if (s < 1)
        buf_printf(out, "%.1fms", s * 1e3);
    else
        buf_printf(out, "%.2fs", s);
}

static void summary_line(void *payload, const struct metric_series_view *v)
{
    struct buf *out = payload;
    buf_puts(out, v->def->name);
    if (v->def->nlabels) {
        buf_putc(out, '{');
        for (size_t i = 0; i < v->def->nlabels; i++) {
            buf_printf(out, "%s%s=\"", i ? "," : "", v->def->labels[i]);
            put_escaped(out, v->labels[i], 1);
            buf_putc(out, '"');
        }
        buf_putc(out, '}');
    }
    if (v->def->kind != METRIC_HISTOGRAM) {
        buf_putc(out, ' ');
        put_number(out, v->value);
        buf_putc(out, '\n');
        return;
    }
    buf_printf(out, " count=%llu", (unsigned long long)v->count);
    const char *name[] = {" p50=", " p95=", " p99=", " mean="};
    double val[] = {v->p50, v->p95, v->p99, v->count ? v->sum / (double)v->count : NAN};
    for (size_t i = 0; i < ARRAY_LEN(name); i++) {
        buf_puts(out, name[i]);
        put_seconds(out, val[i]);
    }
    buf_putc(out, '\n');
}

void metrics_summary(const struct metrics *m, struct buf *out)
{
    metrics_foreach(m, summary_line, out);
}

/* === The textfile === */

int metrics_write_file(const struct metrics *m, const char *path, char **errmsg)
{
    struct buf text;
    buf_init(&text);
    metrics_prometheus(m, &text);
    const char *what = "";
    int rc = util_write_atomic(path, text.data ? text.data : "", text.len, 0644, &what,
                               NULL);
    buf_fini(&text);
    if (rc < 0) {
        *errmsg = xasprintf("cannot write metrics file %s: %s %s: %s", path, what, path,
                            strerror(-rc));
        return -1;
    }
    return 0;
}
