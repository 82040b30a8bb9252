/* bench_engine.c — durable job lifecycles per second through the whole
 * engine, with a no-op built-in tool, for bench/queue.mjs.
 *
 *   bench_engine [-n JOBS] [-w WARMUP] [-c CONCURRENCY] [-m single|group] DIR
 *
 * Where bench_queue.c times jobq.h alone, this runs what `mcpdeck --batch`
 * and the TUI run: engine_submit -> the scheduler's claim (before the loop
 * sleeps) -> dispatch over the in-process MCP transport (a tools/call
 * request and its CallToolResult, real JSON both ways) to a tool that
 * answers "ok" at once -> the outcome recorded, result stored, JOB_DONE
 * emitted, with queue.concurrency CONCURRENCY (10, the default; queue.mjs
 * passes the BullMQ worker's). Claims and completions of one loop turn
 * share one transaction (the engine's group commit); SQLite WAL,
 * synchronous=NORMAL. Two modes, each on a fresh database in DIR after
 * WARMUP lifecycles that are not timed, all JOBS submitted first (a
 * backlog, as the BullMQ side does):
 *   single  every engine_submit is its own transaction (a task is on disk
 *           when engine_submit returns)
 *   group   one engine_submit_group for all of them (as --batch submits)
 * The clock runs from the first submit until the last outcome is
 * committed. Prints one JSON line per mode. Exit 1 when a job fails or
 * the store does not end with exactly the jobs that succeeded. */
#include "builtin.h"
#include "engine.h"
#include "jobq.h"
#include "loop.h"
#include "util.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static void noop_start(const struct builtin_ctx *ctx, const cJSON *args, builtin_reply_fn reply,
                       void *token)
{
    (void)ctx;
    (void)args;
    reply(token, builtin_result_text(0, "ok"));
}

static const struct builtin_tool noop_tools[] = {
    {"noop", "Does nothing and answers ok.", "{\"type\":\"object\"}", NULL, BUILTIN_READ_ONLY,
     noop_start},
};
static const struct builtin_server noop_server = {"bench", "1", NULL, noop_tools, 1};

struct count {
    int done, failed;
};

static void on_event(void *payload, const struct engine_event *ev)
{
    struct count *c = payload;
    if (ev->kind != ENGINE_EV_JOB_DONE)
        return;
    c->done++;
    if (ev->status != JOB_SUCCEEDED)
        c->failed++;
}

/* A fresh engine on DIR/NAME with the no-op server started. */
static struct engine *engine_at(const char *dir, const char *name, int concurrency)
{
    char *sub = xasprintf("%s/%s", dir, name);
    mkdir(sub, 0700);
    char *cfg = xasprintf("%s/config.yaml", sub);
    FILE *fp = fopen(cfg, "w");
    if (!fp) {
        perror(cfg);
        exit(1);
    }
    fprintf(fp, "data_dir: %s/data\nlog: {level: warn}\nqueue: {concurrency: %d}\n", sub,
            concurrency);
    fclose(fp);
    struct engine_opts o = {cfg, NULL, 0, "bench"};
    struct engine *e = NULL;
    char *err = NULL;
    if (engine_new(&o, &e, &err) < 0 || engine_add_builtin(e, &noop_server, &err) < 0) {
        fprintf(stderr, "bench_engine: %s\n", err);
        exit(1);
    }
    engine_start(e);
    if (engine_wait_servers(e, 10000) < 0) {
        fprintf(stderr, "bench_engine: the no-op server did not start\n");
        exit(1);
    }
    free(cfg);
    free(sub);
    return e;
}

/* Submit n jobs (one by one, or as one group) and run the loop until all
 * are done. Returns the seconds from the first submit to the last done. */
static double run_jobs(struct engine *e, struct count *c, int n, int group)
{
    struct jobq_spec spec = {.server = "bench", .tool = "noop", .args_json = "{}"};
    char *err = NULL;
    int want = c->done + n;
    int64_t t0 = util_now_us();
    if (group) {
        struct jobq_spec *specs = xcalloc((size_t)n, sizeof *specs);
        int64_t *ids = xcalloc((size_t)n, sizeof *ids);
        for (int i = 0; i < n; i++)
            specs[i] = spec;
        if (engine_submit_group(e, specs, (size_t)n, ids, &err) < 0) {
            fprintf(stderr, "bench_engine: submit: %s\n", err);
            exit(1);
        }
        free(specs);
        free(ids);
    } else {
        for (int i = 0; i < n; i++) {
            int64_t id;
            if (engine_submit(e, &spec, &id, &err) < 0) {
                fprintf(stderr, "bench_engine: submit %d: %s\n", i, err);
                exit(1);
            }
        }
    }
    int64_t deadline = util_now_ms() + 120000;
    while (c->done < want && util_now_ms() < deadline)
        loop_run_once(engine_loop(e), 100);
    /* JOB_DONE comes as the outcome is written; the turn's transaction
     * commits before the loop next sleeps: one more turn, so the clock
     * stops with every lifecycle on disk */
    loop_run_once(engine_loop(e), 0);
    double secs = (util_now_us() - t0) / 1e6;
    if (c->done != want || c->failed) {
        fprintf(stderr, "bench_engine: %d of %d jobs done, %d failed\n", c->done, want, c->failed);
        exit(1);
    }
    return secs;
}

/* The store's own count of succeeded jobs, through a connection of its own. */
static int succeeded_in_store(struct engine *e)
{
    sqlite3 *h;
    sqlite3_stmt *st;
    int n = -1;
    if (sqlite3_open_v2(engine_db_path(e), &h, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
        sqlite3_prepare_v2(h, "SELECT count(*) FROM jobs WHERE status='succeeded'", -1, &st,
                           NULL) == SQLITE_OK) {
        if (sqlite3_step(st) == SQLITE_ROW)
            n = sqlite3_column_int(st, 0);
        sqlite3_finalize(st);
    }
    sqlite3_close(h);
    return n;
}

static void mode(const char *dir, const char *name, int group, int n, int warmup, int conc)
{
    struct engine *e = engine_at(dir, name, conc);
    struct count c = {0, 0};
    engine_subscribe(e, on_event, &c);
    if (warmup > 0)
        run_jobs(e, &c, warmup, group);
    double secs = run_jobs(e, &c, n, group);
    int stored = succeeded_in_store(e);
    if (stored != n + warmup) {
        fprintf(stderr, "bench_engine: %s: the store holds %d succeeded jobs, expected %d\n",
                name, stored, n + warmup);
        exit(1);
    }
    printf("{\"mode\":\"%s\",\"jobs\":%d,\"secs\":%.6f,\"lifecycles_per_s\":%.1f}\n", name, n,
           secs, n / secs);
    fflush(stdout);
    engine_unsubscribe(e, on_event, &c);
    engine_free(e);
}

int main(int argc, char **argv)
{
    int n = 20000, warmup = 1000, conc = 10, i;
    const char *only = NULL;
    for (i = 1; i < argc - 1; i++) {
        if (strcmp(argv[i], "-n") == 0)
            n = atoi(argv[++i]);
        else if (strcmp(argv[i], "-w") == 0)
            warmup = atoi(argv[++i]);
        else if (strcmp(argv[i], "-c") == 0)
            conc = atoi(argv[++i]);
        else if (strcmp(argv[i], "-m") == 0)
            only = argv[++i];
        else
            break;
    }
    if (i != argc - 1 || n < 1 || warmup < 0 || conc < 1) {
        fprintf(stderr, "usage: bench_engine [-n JOBS] [-w WARMUP] [-c CONCURRENCY] [-m single|group] DIR\n");
        return 2;
    }
    if (!only || strcmp(only, "single") == 0)
        mode(argv[i], "single", 0, n, warmup, conc);
    if (!only || strcmp(only, "group") == 0)
        mode(argv[i], "group", 1, n, warmup, conc);
    return 0;
}
