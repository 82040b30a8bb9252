/* bench_llm.c — what the LLM gateway adds to a request, for bench/run.sh.
 *
 *   bench_llm -p PORT [-n REQUESTS] [-w WARMUP] [-S] [-D]
 *
 * PORT is a running tests/fixtures/llm_standin.cjs. The program builds,
 * in memory, a config with one OpenAI-compatible provider pointing at it
 * and one model (bench/ok: answers "ok from bench/ok" at once), a SQLite
 * database in a temporary directory (the gateway writes a usage row per
 * call), a metrics registry, a loop and llm_new(), as the engine does.
 * Then, on that one loop, it times two paths to the same stand-in:
 *   A (direct):  the request body the gateway would send (llm_wire_request,
 *                built once, outside the timing) with the same headers,
 *                POSTed with an http.c client of its own; done when the
 *                whole response has arrived;
 *   B (gateway): llm_call() with the same messages; done at on_done.
 * WARMUP pairs, then REQUESTS pairs, interleaved (A then B, then B then
 * A, ...) so both share the machine's noise and the upstream's own time
 * cancels out; the overhead of pair i is B_i - A_i. Done for a plain
 * answer and (unless -S) a streamed one. Prints median and p95 of A, B
 * and the overhead with the ratio of the median overhead to the 0.2 ms
 * target, CPU per request of each path (user + system, the process's CPU
 * clock across each request, one request in flight at a time) and the
 * process's peak RSS; appends rows to $BENCH_SUMMARY when set. -D runs
 * the gateway without a database (no usage rows) to show what they cost;
 * run.sh does not use it.
 *
 * Slow figures never fail. Exit 1 when an answer is wrong: a status other
 * than 200, a transport error, a gateway error or retry, an answer without
 * "ok from" (a stream without [DONE]), or a usage row count that does not
 * match the gateway calls made. */
#include "config.h"
#include "db.h"
#include "http.h"
#include "llm.h"
#include "loop.h"
#include "metrics.h"
#include "util.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#define TARGET_MS 0.2
#define MODEL "bench"
#define MODEL_ID "bench/ok"
#define KEY_ENV "MCPDECK_BENCH_LLM_KEY"

/* The one request in flight. */
struct pending {
    int done;
    long status;
    char *error;               /* transport or gateway error */
    struct buf body;           /* direct: the response; gateway: the answer text */
    double t_end;              /* µs, when the answer was complete */
    int attempts;              /* gateway: requests the call made */
    int64_t tokens_out;
};

struct bench {
    struct loop *loop;
    struct http *http;         /* path A's own client */
    struct llm *llm;
    cJSON *messages;
    char *url;
    char *body[2];             /* path A's bodies: [0] plain, [1] streamed */
    const char *hdr[2][5];     /* path A's headers, as llm.c sends them */
    char *auth;
    long timeout_ms;
};

struct figures {
    double *a, *b, *d;         /* ms per request: direct, gateway, gateway - direct */
    double cpu_a, cpu_b;       /* µs of process CPU, summed */
    struct rusage ru0, ru1;    /* around the timed pairs */
};

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static double cpu_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static double tv_us(struct timeval tv)
{
    return (double)tv.tv_sec * 1e6 + (double)tv.tv_usec;
}

static int dbl_cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* The q-quantile (nearest rank) of v[0..n); sorts v. */
static double quantile(double *v, long n, double q)
{
    qsort(v, (size_t)n, sizeof *v, dbl_cmp);
    long k = (long)ceil(q * (double)n) - 1;
    return v[k < 0 ? 0 : k >= n ? n - 1 : k];
}

static void pending_init(struct pending *p)
{
    memset(p, 0, sizeof *p);
    buf_init(&p->body);
}

static void pending_fini(struct pending *p)
{
    free(p->error);
    buf_fini(&p->body);
}

/* === path A: the direct request === */

static int direct_data(void *payload, long status, const char *data, size_t n)
{
    struct pending *p = payload;
    p->status = status;
    buf_append(&p->body, data, n);
    return 0;
}

static void direct_done(void *payload, long status, const char *error)
{
    struct pending *p = payload;
    p->t_end = now_us();
    p->status = status;
    p->error = error ? xstrdup(error) : NULL;
    p->done = 1;
}

/* One direct request; its wall ms to *ms and CPU µs added to *cpu.
 * 0, or -1 with a message on stderr. */
static int run_direct(struct bench *b, int stream, double *ms, double *cpu)
{
    struct pending p;
    pending_init(&p);
    double c0 = cpu_us(), t0 = now_us();
    struct http_req_opts ho = {"POST", b->url, b->hdr[stream], b->body[stream],
                               strlen(b->body[stream]), b->timeout_ms, 10000,
                               NULL, direct_data, direct_done, &p};
    http_start(b->http, &ho);
    while (!p.done)
        loop_run_once(b->loop, 1000);
    *cpu += cpu_us() - c0;
    *ms = (p.t_end - t0) / 1e3;
    buf_putc(&p.body, '\0');
    const char *want = stream ? "data: [DONE]" : "\"ok from " MODEL_ID "\"";
    int ok = !p.error && p.status == 200 && strstr(p.body.data, want);
    if (!ok)
        fprintf(stderr, "bench_llm: direct%s: %s (HTTP %ld): %.200s\n", stream ? ", streamed" : "",
                p.error ? p.error : "wrong answer", p.status, p.body.data);
    pending_fini(&p);
    return ok ? 0 : -1;
}

/* === path B: through the gateway === */

static void gw_delta(void *payload, const char *text, size_t len)
{
    struct pending *p = payload;
    if (!text)
        buf_consume(&p->body, p->body.len);   /* the attempt failed: forget it */
    else
        buf_append(&p->body, text, len);
}

static void gw_done(void *payload, const struct llm_result *r, const struct llm_usage_info *u,
                    const char *error)
{
    struct pending *p = payload;
    p->t_end = now_us();
    p->error = error ? xstrdup(error) : NULL;
    p->attempts = u->attempts;
    if (r) {
        p->tokens_out = r->tokens_out;
        if (!p->body.len)   /* not streamed: the answer is the text */
            buf_puts(&p->body, r->text);
    }
    p->done = 1;
}

static int run_gateway(struct bench *b, int stream, double *ms, double *cpu)
{
    struct pending p;
    pending_init(&p);
    double c0 = cpu_us(), t0 = now_us();
    struct llm_opts o = {
        .model = MODEL,
        .strategy = -1,
        .messages = b->messages,
        .temperature = -1,
        .stream = stream,
        .on_delta = stream ? gw_delta : NULL,
        .on_done = gw_done,
        .payload = &p,
    };
    char *err = NULL;
    if (!llm_call(b->llm, &o, &err)) {
        fprintf(stderr, "bench_llm: gateway refused the call: %s\n", err ? err : "?");
        free(err);
        pending_fini(&p);
        return -1;
    }
    while (!p.done)
        loop_run_once(b->loop, 1000);
    *cpu += cpu_us() - c0;
    *ms = (p.t_end - t0) / 1e3;
    buf_putc(&p.body, '\0');
    int ok = !p.error && p.attempts == 1 && p.tokens_out > 0 &&
             strcmp(p.body.data, "ok from " MODEL_ID) == 0;
    if (!ok)
        fprintf(stderr, "bench_llm: gateway%s: %s (attempts %d, tokens out %lld): %.200s\n",
                stream ? ", streamed" : "", p.error ? p.error : "wrong answer", p.attempts,
                (long long)p.tokens_out, p.body.data);
    pending_fini(&p);
    return ok ? 0 : -1;
}

/* === the runs === */

/* n interleaved pairs; when f is NULL (warm-up) nothing is kept. */
static int run_pairs(struct bench *b, int stream, long n, struct figures *f)
{
    double junk = 0;
    if (f)
        getrusage(RUSAGE_SELF, &f->ru0);
    for (long i = 0; i < n; i++) {
        double a, g;
        double *ca = f ? &f->cpu_a : &junk, *cb = f ? &f->cpu_b : &junk;
        int rc = i % 2 ? run_gateway(b, stream, &g, cb) || run_direct(b, stream, &a, ca)
                       : run_direct(b, stream, &a, ca) || run_gateway(b, stream, &g, cb);
        if (rc)
            return -1;
        if (f) {
            f->a[i] = a;
            f->b[i] = g;
            f->d[i] = g - a;
        }
    }
    if (f)
        getrusage(RUSAGE_SELF, &f->ru1);
    return 0;
}

static FILE *summary_open(void)
{
    const char *s = getenv("BENCH_SUMMARY");
    return s && *s ? fopen(s, "a") : NULL;
}

/* One line of output and a summary row: label, mcpdeck, peer, peer value,
 * ratio, target, verdict. */
static void row(const char *label, const char *mine, const char *peer, const char *theirs,
                const char *ratio, const char *target, const char *verdict)
{
    char line[256];
    int k = snprintf(line, sizeof line, "%-42s %10s %10s %8s  %s %s", label, theirs, mine, ratio,
                     target, verdict);
    while (k > 0 && (size_t)k < sizeof line && line[k - 1] == ' ')
        line[--k] = '\0';
    puts(line);
    FILE *f = summary_open();
    if (f) {
        fprintf(f, "llm %s\t%s\t%s\t%s\t%s\t%s\t%s\n", label, mine, peer, theirs, ratio, target,
                verdict);
        fclose(f);
    }
}

static void report(const char *what, int stream, struct figures *f, long n)
{
    double a50 = quantile(f->a, n, 0.5), a95 = quantile(f->a, n, 0.95);
    double b50 = quantile(f->b, n, 0.5), b95 = quantile(f->b, n, 0.95);
    double d50 = quantile(f->d, n, 0.5), d95 = quantile(f->d, n, 0.95);
    double dmin = f->d[0], dmax = f->d[n - 1];
    char v1[32], v2[32], r[32], label[96];
    const char *pfx = stream ? "streamed " : "";

    printf("\n%s: %ld pairs\n", what, n);
    printf("%-42s %10s %10s %8s  %s\n", "figure", "direct", "gateway", "ratio", "target");
    snprintf(label, sizeof label, "%srequest p50: ms", pfx);
    snprintf(v1, sizeof v1, "%.3f", b50);
    snprintf(v2, sizeof v2, "%.3f", a50);
    snprintf(r, sizeof r, "%.2fx", b50 / a50);
    row(label, v1, "direct", v2, r, "", "");
    snprintf(label, sizeof label, "%srequest p95: ms", pfx);
    snprintf(v1, sizeof v1, "%.3f", b95);
    snprintf(v2, sizeof v2, "%.3f", a95);
    snprintf(r, sizeof r, "%.2fx", b95 / a95);
    row(label, v1, "direct", v2, r, "", "");
    snprintf(label, sizeof label, "%soverhead p50 (gateway - direct): ms", pfx);
    snprintf(v1, sizeof v1, "%.3f", d50);
    snprintf(r, sizeof r, "%.2fx", d50 / TARGET_MS);
    row(label, v1, "-", "-", r, "<= 0.2 ms", d50 <= TARGET_MS ? "met" : "MISSED");
    snprintf(label, sizeof label, "%soverhead p95: ms", pfx);
    snprintf(v1, sizeof v1, "%.3f", d95);
    row(label, v1, "-", "-", "-", "", "");
    snprintf(label, sizeof label, "%sCPU per request: us", pfx);
    snprintf(v1, sizeof v1, "%.1f", f->cpu_b / (double)n);
    snprintf(v2, sizeof v2, "%.1f", f->cpu_a / (double)n);
    snprintf(r, sizeof r, "%.2fx", f->cpu_b / f->cpu_a);
    row(label, v1, "direct", v2, r, "", "");
    double user = tv_us(f->ru1.ru_utime) - tv_us(f->ru0.ru_utime);
    double sys = tv_us(f->ru1.ru_stime) - tv_us(f->ru0.ru_stime);
    printf("overhead min/max: %.3f / %.3f ms; p50(gateway) - p50(direct): %.3f ms; "
           "process CPU over the pairs (getrusage): user %.1f + sys %.1f us per pair\n",
           dmin, dmax, b50 - a50, user / (double)n, sys / (double)n);
}

static const char config_fmt[] =
    "providers:\n"
    "  standin: {type: openai, base_url: \"http://127.0.0.1:%d/v1\", api_key_env: " KEY_ENV "}\n"
    "models:\n"
    "  " MODEL ": {provider: standin, model: " MODEL_ID ", price_in: 2, price_out: 10}\n"
    "strategies: {quality: [" MODEL "]}\n"
    "llm: {cache: {enabled: false}}\n";

static int64_t usage_rows(struct db *db)
{
    sqlite3_stmt *st;
    int64_t n = -1;
    if (sqlite3_prepare_v2(db_handle(db), "SELECT count(*) FROM usage WHERE status = 'ok'", -1,
                           &st, NULL) != SQLITE_OK)
        return -1;
    if (sqlite3_step(st) == SQLITE_ROW)
        n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return n;
}

int main(int argc, char **argv)
{
    long n = 1000, warm = 50;
    int port = 0, streamed = 1, nodb = 0, opt;
    while ((opt = getopt(argc, argv, "p:n:w:SD")) != -1) {
        if (opt == 'p')
            port = atoi(optarg);
        else if (opt == 'n')
            n = atol(optarg);
        else if (opt == 'w')
            warm = atol(optarg);
        else if (opt == 'S')
            streamed = 0;
        else if (opt == 'D')
            nodb = 1;
        else
            port = -1;
    }
    if (port <= 0 || port > 65535 || n < 1 || warm < 0) {
        fprintf(stderr, "usage: bench_llm -p PORT [-n REQUESTS] [-w WARMUP] [-S] [-D]\n");
        return 2;
    }
    setenv(KEY_ENV, "sk-bench", 1);

    int status = 1;
    struct bench b;
    memset(&b, 0, sizeof b);
    struct config *cfg = NULL;
    struct db *db = NULL;
    struct metrics *met = NULL;
    struct figures f[2];
    memset(f, 0, sizeof f);
    char dir[] = "/tmp/mcpdeck-bench-llm.XXXXXX";
    int have_dir = mkdtemp(dir) != NULL;
    char *dbpath = NULL, *err = NULL;

    char *text = xasprintf(config_fmt, port);
    if (config_load_string("<bench>", text, strlen(text), &cfg, &err) < 0) {
        fprintf(stderr, "bench_llm: config: %s\n", err ? err : "?");
        goto out;
    }
    if (!have_dir) {
        perror("bench_llm: mkdtemp");
        goto out;
    }
    dbpath = xasprintf("%s/mcpdeck.db", dir);
    if (db_open(dbpath, &db, &err) < 0) {
        fprintf(stderr, "bench_llm: %s: %s\n", dbpath, err ? err : "?");
        goto out;
    }
    met = metrics_new();
    b.loop = loop_new();
    b.http = http_new(b.loop);
    b.llm = llm_new(b.loop, cfg, nodb ? NULL : db, met);
    const struct config_model *cm = config_find_model(cfg, MODEL);
    const struct config_provider *cp = config_find_provider(cfg, cm->provider);
    b.timeout_ms = cp->timeout_ms;

    /* the conversation, and path A's copy of what the gateway sends */
    b.messages = cJSON_Parse(
        "[{\"role\": \"system\", \"content\": \"You are a terse assistant. Answer in one line.\"},"
        " {\"role\": \"user\", \"content\": \"Summarise the build log of job 42 and say whether "
        "the failing test is flaky.\"}]");
    b.url = xasprintf("%s%s", cp->base_url, llm_wire_path(LLM_DIALECT_OPENAI));
    b.auth = xasprintf("Authorization: Bearer %s", getenv(KEY_ENV));
    for (int s = 0; s < 2; s++) {
        struct llm_wire_req wr = {cm->model, b.messages, NULL, cm->max_tokens, -1, s};
        if (!(b.body[s] = llm_wire_request(LLM_DIALECT_OPENAI, &wr, &err))) {
            fprintf(stderr, "bench_llm: request body: %s\n", err ? err : "?");
            goto out;
        }
        int k = 0;
        b.hdr[s][k++] = "Content-Type: application/json";
        if (s)
            b.hdr[s][k++] = "Accept: text/event-stream";
        b.hdr[s][k++] = b.auth;
        b.hdr[s][k] = NULL;
    }

    int modes = streamed ? 2 : 1;
    for (int s = 0; s < modes; s++) {
        f[s].a = xcalloc((size_t)n, sizeof(double));
        f[s].b = xcalloc((size_t)n, sizeof(double));
        f[s].d = xcalloc((size_t)n, sizeof(double));
        if (run_pairs(&b, s, warm, NULL) < 0 || run_pairs(&b, s, n, &f[s]) < 0)
            goto out;
    }
    int64_t rows = usage_rows(db), want = nodb ? 0 : (int64_t)modes * (warm + n);
    if (rows != want) {
        fprintf(stderr, "bench_llm: %lld usage rows for %lld gateway calls\n", (long long)rows,
                (long long)want);
        goto out;
    }

    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("\nLLM gateway overhead: llm_call vs a direct http.c request, same stand-in "
           "(127.0.0.1:%d, model %s), same loop\n"
           "%ld warm-up pairs, then %ld pairs interleaved (direct first, then gateway first, "
           "alternately); overhead = gateway_i - direct_i%s\n", port, MODEL_ID, warm, n,
           nodb ? "; gateway WITHOUT a database (-D: no usage rows)" : "");
    report("plain (stream: false)", 0, &f[0], n);
    if (streamed)
        report("streamed (stream: true, text to on_delta)", 1, &f[1], n);
    char v[32];
    snprintf(v, sizeof v, "%.1f", (double)ru.ru_maxrss / 1024.0);
    printf("\n");
    row("peak RSS of the bench process: MB", v, "-", "-", "-", "", "");
    printf("usage rows written: %lld\n", (long long)rows);
    printf("reference medians published by others against a mock upstream, NOT run here: "
           "LiteLLM 4.3 ms, Portkey 2.4 ms, Bifrost 0.44 ms\n");
    status = 0;

out:
    free(err);
    free(text);
    for (int s = 0; s < 2; s++) {
        free(f[s].a);
        free(f[s].b);
        free(f[s].d);
        cJSON_free(b.body[s]);
    }
    llm_free(b.llm);
    http_free(b.http);
    loop_free(b.loop);
    metrics_free(met);
    db_close(db);
    cJSON_Delete(b.messages);
    free(b.url);
    free(b.auth);
    config_free(cfg);
    if (dbpath) {
        const char *sfx[] = {"", "-wal", "-shm"};
        for (size_t i = 0; i < ARRAY_LEN(sfx); i++) {
            char *p = xasprintf("%s%s", dbpath, sfx[i]);
            unlink(p);
            free(p);
        }
        free(dbpath);
    }
    if (have_dir)
        rmdir(dir);
    return status;
}
