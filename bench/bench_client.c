/* bench_client.c — mcpdeck's MCP client under load, for bench/client.mjs.
 *
 * Spawns an MCP server over stdio (the command after "--") with the same
 * pieces the engine uses (loop.h, mcp_stdio_new, mcp_client.h), waits for
 * the session to be ready, then calls the server's `echo` tool (or the
 * one named by -t, e.g. everything__echo through mcpdeck serve):
 *   warmup  W calls one at a time (not reported)
 *   seq     N calls one at a time
 *   conc    N calls with K in flight
 * Each echo carries a distinct message and its answer is checked. For each
 * timed phase one JSON line goes to stdout: calls/s, p50/p95 latency and
 * the CPU seconds this process used (getrusage RUSAGE_SELF: the client
 * only, not the server it spawned).
 *
 * With --coldstart it prints "ready" on stdout as soon as the first
 * tools/list answer is in, then shuts down; bench/coldstart.c times that.
 *
 * Exit 0, or 1 when the server does not start or any call fails. */
#include "config.h"
#include "jsonmem.h"
#include "loop.h"
#include "mcp_client.h"
#include "mcp_transport.h"
#include "proc.h"
#include "util.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#define CALL_TIMEOUT_MS 30000
#define CONNECT_TIMEOUT_MS 30000

struct bench;

struct slot {
    struct bench *b;
    int idx;
    int64_t start_us;
};

struct bench {
    struct loop *loop;
    struct mcp_client *client;
    const char *tool;            /* the echo tool's name (-t; "echo") */
    int coldstart;
    int ready;               /* tools/list answered */
    int closed;              /* session failed or ended */
    char *error;             /* first failure, or NULL */
    /* the phase under way */
    struct slot *slots;
    int64_t *lat_us;
    int total, max_inflight;
    int issued, done, inflight;
};

/* === session events === */

static void on_state(void *payload, struct mcp_client *c, enum mcp_client_state s,
                     const char *error)
{
    struct bench *b = payload;
    if (s == MCP_CLIENT_CLOSED) {
        b->closed = 1;
        if (!b->error)
            b->error = xstrdup(error ? error : "session closed");
    }
}

static void on_tools(void *payload, struct mcp_client *c)
{
    struct bench *b = payload;
    if (b->ready)
        return;
    b->ready = 1;
    if (b->coldstart && write(STDOUT_FILENO, "ready\n", 6) != 6)
        b->closed = 1;
}

static const struct mcp_client_events events = {on_state, on_tools, NULL, NULL};

static void on_sigchld(struct loop *l, int signo, void *payload)
{
    proc_reap_all();
}

/* === calls === */

static void fail(struct bench *b, char *msg)
{
    if (!b->error)
        b->error = msg;
    else
        free(msg);
}

static void issue(struct bench *b);

static int check_echo(const cJSON *result, int idx)
{
    const cJSON *content = cJSON_GetObjectItemCaseSensitive(result, "content");
    const cJSON *first = cJSON_GetArrayItem(content, 0);
    const cJSON *text = cJSON_GetObjectItemCaseSensitive(first, "text");
    if (!cJSON_IsString(text) || strncmp(text->valuestring, "Echo: bench-", 12) != 0)
        return 0;
    char *end;
    long got = strtol(text->valuestring + 12, &end, 10);
    return *end == '\0' && got == idx && !mcp_result_is_error(result);
}

static void call_done(void *payload, const cJSON *result, const char *error)
{
    struct slot *s = payload;
    struct bench *b = s->b;
    b->lat_us[b->done++] = util_now_us() - s->start_us;
    b->inflight--;
    if (error)
        fail(b, xasprintf("call %d: %s", s->idx, error));
    else if (!check_echo(result, s->idx))
        fail(b, xasprintf("call %d: unexpected echo result", s->idx));
    if (!b->error)
        issue(b);
}

/* Keep max_inflight calls outstanding until total have been issued. */
static void issue(struct bench *b)
{
    while (b->issued < b->total && b->inflight < b->max_inflight && !b->error) {
        struct slot *s = &b->slots[b->issued];
        s->b = b;
        s->idx = b->issued++;
        char msg[32] = "bench-", digits[12];
        int nd = 0;
        for (unsigned v = (unsigned)s->idx; nd == 0 || v; v /= 10)
            digits[nd++] = (char)('0' + v % 10);
        for (int j = 0; j < nd; j++)
            msg[6 + j] = digits[nd - 1 - j];
        msg[6 + nd] = '\0';
        cJSON *args = cJSON_CreateObject();
        cJSON_AddStringToObject(args, "message", msg);
        struct mcp_call_opts o = {CALL_TIMEOUT_MS, 0, NULL};
        char *err = NULL;
        s->start_us = util_now_us();
        b->inflight++;
        if (mcp_client_call_tool(b->client, b->tool, args, &o, call_done, s, &err) < 0) {
            b->inflight--;
            fail(b, err);
        }
        cJSON_Delete(args);
    }
}

/* CPU seconds this process used so far: user in *user, system in *sys. */
static void cpu_seconds(double *user, double *sys)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    *user = (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6;
    *sys = (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static double percentile_ms(int64_t *sorted, int n, double p)
{
    int i = (int)(p * (n - 1) + 0.5);
    return sorted[i] / 1000.0;
}

/* Run one phase of n calls with k in flight; print its figures when name
 * is not NULL. 0, or -1 when a call failed (b->error says which). */
static int run_phase(struct bench *b, const char *name, int n, int k)
{
    b->slots = xcalloc((size_t)n, sizeof *b->slots);
    b->lat_us = xcalloc((size_t)n, sizeof *b->lat_us);
    b->total = n;
    b->max_inflight = k;
    b->issued = b->done = b->inflight = 0;
    double user0, sys0, user1, sys1;
    cpu_seconds(&user0, &sys0);
    int64_t t0 = util_now_us();
    issue(b);
    while (b->done < b->issued && !b->closed)
        loop_run_once(b->loop, -1);
    int64_t t1 = util_now_us();
    cpu_seconds(&user1, &sys1);
    double cpu = (user1 - user0) + (sys1 - sys0);
    int rc = b->error || b->done != n ? -1 : 0;
    if (rc == 0 && name) {
        double secs = (t1 - t0) / 1e6;
        qsort(b->lat_us, (size_t)n, sizeof *b->lat_us, cmp_i64);
        printf("{\"client\":\"mcpdeck\",\"phase\":\"%s\",\"calls\":%d,\"inflight\":%d,"
               "\"secs\":%.6f,\"calls_per_s\":%.1f,\"p50_ms\":%.4f,\"p95_ms\":%.4f,"
               "\"cpu_s\":%.6f,\"cpu_user_s\":%.6f,\"cpu_sys_s\":%.6f,\"cpu_us_per_call\":%.3f}\n",
               name, n, k, secs, n / secs, percentile_ms(b->lat_us, n, 0.50),
               percentile_ms(b->lat_us, n, 0.95), cpu, user1 - user0, sys1 - sys0,
               cpu * 1e6 / n);
        fflush(stdout);
    }
    if (rc < 0 && !b->error)
        b->error = xasprintf("%d of %d calls answered", b->done, n);
    free(b->slots);
    free(b->lat_us);
    b->slots = NULL;
    b->lat_us = NULL;
    return rc;
}

static void usage(void)
{
    fprintf(stderr, "usage: bench_client [-w WARMUP] [-n CALLS] [-c INFLIGHT] [-t TOOL] "
                    "[--coldstart] -- COMMAND [ARG...]\n");
}

int main(int argc, char **argv)
{
    int warmup = 200, calls = 2000, inflight = 16, coldstart = 0, i;
    const char *tool = "echo";
    for (i = 1; i < argc && strcmp(argv[i], "--") != 0; i++) {
        if (strcmp(argv[i], "--coldstart") == 0)
            coldstart = 1;
        else if (strcmp(argv[i], "-w") == 0 && i + 1 < argc)
            warmup = atoi(argv[++i]);
        else if (strcmp(argv[i], "-n") == 0 && i + 1 < argc)
            calls = atoi(argv[++i]);
        else if (strcmp(argv[i], "-c") == 0 && i + 1 < argc)
            inflight = atoi(argv[++i]);
        else if (strcmp(argv[i], "-t") == 0 && i + 1 < argc)
            tool = argv[++i];
        else {
            usage();
            return 2;
        }
    }
    if (i + 1 >= argc || calls < 1 || inflight < 1 || warmup < 0) {
        usage();
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    jsonmem_install();           /* cJSON's allocator, as mcpdeck's main installs it */

    struct config_server cfg = {0};
    cfg.name = "bench";
    cfg.kind = CONFIG_SERVER_STDIO;
    cfg.command = argv[i + 1];
    cfg.args = argv + i + 2;
    cfg.nargs = (size_t)(argc - i - 2);
    cfg.enabled = 1;
    cfg.timeout_ms = CALL_TIMEOUT_MS;
    cfg.startup_timeout_ms = CONNECT_TIMEOUT_MS;

    struct bench b = {0};
    b.coldstart = coldstart;
    b.loop = loop_new();
    if (!b.loop) {
        fprintf(stderr, "bench_client: cannot create the event loop\n");
        return 1;
    }
    loop_signal(b.loop, SIGCHLD, on_sigchld, NULL);
    char cwd[4096];
    const char *roots[2] = {getcwd(cwd, sizeof cwd) ? cwd : "/", NULL};
    struct mcp_transport *t = mcp_stdio_new(b.loop, &cfg, NULL, 0);
    b.client = mcp_client_new(b.loop, "bench", t, roots, NULL, &events, &b);
    char *err = NULL;
    int rc = 1;
    if (mcp_client_connect(b.client, CONNECT_TIMEOUT_MS, &err) < 0) {
        fail(&b, err);
        goto out;
    }
    /* Cold start ends at the first tools/list answer; the load test waits
     * for the whole handshake (every advertised list) before calling. */
    while (!b.closed && (coldstart ? !b.ready
                                   : mcp_client_state(b.client) != MCP_CLIENT_READY))
        loop_run_once(b.loop, -1);
    if (!b.closed && !b.ready)
        fail(&b, xstrdup("the server does not offer tools"));
    if (b.closed || !b.ready)
        goto out;
    if (coldstart) {
        rc = 0;
        goto out;
    }
    b.tool = tool;
    if (!mcp_client_find_tool(b.client, tool)) {
        fail(&b, xasprintf("the server has no tool named %s", tool));
        goto out;
    }
    if (run_phase(&b, NULL, warmup > 0 ? warmup : 1, 1) < 0 ||
        run_phase(&b, "seq", calls, 1) < 0 ||
        run_phase(&b, "conc", calls, inflight) < 0)
        goto out;
    rc = 0;
out:
    if (b.error)
        fprintf(stderr, "bench_client: %s\n", b.error);
    if (rc && !b.error && mcp_client_error(b.client))
        fprintf(stderr, "bench_client: %s\n", mcp_client_error(b.client));
    const char *log = rc ? t->ops->log(t) : "";
    if (*log)
        fprintf(stderr, "bench_client: the server's stderr:\n%s\n", log);
    mcp_client_free(b.client);
    loop_free(b.loop);
    free(b.error);
    return rc;
}
