/* batch.c — `mcpdeck --batch FILE` (see batch.h; the file format is in
 * batch_file.c, the output in batch_report.c).
 *
 * Everything is checked before anything runs: the file (keys, types, ids,
 * needs), then the servers and tools it names. Tasks are submitted to the
 * durable queue as their needs succeed (a task whose need failed is
 * skipped); each is keyed by the batch file's path and the task id, so
 * --resume after a crash reuses the jobs of the interrupted run: finished
 * ones are not run again, interrupted ones are requeued. */
#include "batch.h"
#include "batch_file.h"
#include "batch_report.h"
#include "engine.h"
#include "loop.h"
#include "util.h"

#include <cjson/cJSON.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct bstate {
    const struct batch_opts *o;
    struct engine *e;
    struct bfile f;
    char *batch;                 /* the key jobs are filed under */
    size_t ndone;
    int interrupted;
    int stream;                  /* --stream: model answers to stderr as they come */
    struct btask *streaming;     /* whose answer is being printed */
    int timed_out;
    int failed_fast;
    int tty;
    int64_t started;
    int64_t last_draw;
    int settled;                 /* nothing finished since submit_ready last ran */
    size_t nwaiting;             /* tasks not yet submitted (their needs unmet) */
    /* job id -> task, open addressing (events name jobs; a batch may hold
     * tens of thousands of tasks) */
    int64_t *map_ids;
    struct btask **map_tasks;
    size_t map_cap, map_n;
};

static size_t map_slot(int64_t id, size_t cap)
{
    uint64_t h = (uint64_t)id * 0x9E3779B97F4A7C15ull;
    return (size_t)(h >> 17) & (cap - 1);
}

static void map_put(struct bstate *b, int64_t id, struct btask *t)
{
    if ((b->map_n + 1) * 2 > b->map_cap) {
        size_t cap = b->map_cap ? b->map_cap * 2 : 64;
        int64_t *ids = xcalloc(cap, sizeof *ids);
        struct btask **tasks = xcalloc(cap, sizeof *tasks);
        for (size_t i = 0; i < b->map_cap; i++)
            if (b->map_tasks[i]) {
                size_t k = map_slot(b->map_ids[i], cap);
                while (tasks[k])
                    k = (k + 1) & (cap - 1);
                ids[k] = b->map_ids[i];
                tasks[k] = b->map_tasks[i];
            }
        free(b->map_ids);
        free(b->map_tasks);
        b->map_ids = ids;
        b->map_tasks = tasks;
        b->map_cap = cap;
    }
    size_t k = map_slot(id, b->map_cap);
    while (b->map_tasks[k] && b->map_ids[k] != id)
        k = (k + 1) & (b->map_cap - 1);
    if (!b->map_tasks[k])
        b->map_n++;
    b->map_ids[k] = id;
    b->map_tasks[k] = t;
}

/* Give task t its job (and find it by that job from now on). */
static void set_job(struct bstate *b, struct btask *t, int64_t id)
{
    t->job_id = id;
    map_put(b, id, t);
}

static struct btask *task_by_job(struct bstate *b, int64_t id)
{
    if (!b->map_cap)
        return NULL;
    for (size_t k = map_slot(id, b->map_cap); b->map_tasks[k]; k = (k + 1) & (b->map_cap - 1))
        if (b->map_ids[k] == id)
            return b->map_tasks[k];
    return NULL;
}

/* What a task runs: server.tool, a model task's type, or for a routed
 * task the route and (once known) the server it went to. */
static char *target(const struct btask *t, const char *routed_to)
{
    if (t->type)
        return xasprintf("%s (model task)", t->type);
    if (!t->routed)
        return xasprintf("%s.%s", t->server, t->tool);
    struct buf b;
    buf_init(&b);
    buf_printf(&b, "%s.%s (routed:", routed_to ? routed_to : "?", t->tool);
    if (t->route_type)
        buf_printf(&b, " %s", t->route_type);
    for (size_t i = 0; i < t->ncaps; i++)
        buf_printf(&b, " %s", t->caps[i]);
    buf_puts(&b, ")");
    return buf_detach(&b);
}

static void route_req(const struct btask *t, struct engine_route_req *req)
{
    memset(req, 0, sizeof *req);
    req->type = t->route_type;
    req->caps = (const char *const *)t->caps;
    req->ncaps = t->ncaps;
    req->tool = t->tool;
    req->heavy = t->heavy;
}

/* === progress on stderr === */

static void progress_line(struct bstate *b, int force)
{
    if (!b->tty)
        return;
    int64_t now = util_now_ms();
    if (!force && now - b->last_draw < 100)
        return;
    b->last_draw = now;
    size_t running = 0, failed = 0;
    for (size_t i = 0; i < b->f.n; i++) {
        struct btask *t = &b->f.tasks[i];
        running += t->job_id && !t->done;
        failed += t->done && t->expect_failure;
    }
    size_t width = 30, filled = b->f.n ? b->ndone * width / b->f.n : 0;
    char bar[64];
    for (size_t i = 0; i < width; i++)
        bar[i] = i < filled ? '#' : '.';
    bar[width] = '\0';
    fprintf(stderr, "\r\033[K[%s] %zu/%zu done, %zu running, %zu failed, %.1fs", bar, b->ndone,
            b->f.n, running, failed, (double)(now - b->started) / 1000.0);
}

/* One line per task event: "  <what> <id>: <detail>". */
static void say(struct bstate *b, const char *what, const char *id, const char *detail)
{
    if (b->tty)
        fputs("\r\033[K", stderr);
    fprintf(stderr, "  %-6s %s%s%s\n", what, id, detail && *detail ? ": " : "",
            detail ? detail : "");
    progress_line(b, 1);
}

/* === finishing tasks === */

static void cancel_rest(struct bstate *b)
{
    for (size_t i = 0; i < b->f.n; i++) {
        struct btask *t = &b->f.tasks[i];
        if (t->done)
            continue;
        char *err = NULL;
        if (t->job_id && engine_cancel(b->e, t->job_id, &err) < 0)
            free(err);
        if (!t->job_id) {
            t->done = 1;
            b->ndone++;
            t->expect_failure = xstrdup("not run: the batch stopped");
        }
    }
}

/* A task ended: check its expectations; a failed need skips dependents. */
static void task_done(struct bstate *b, struct btask *t, enum job_status st,
                      const cJSON *structured_live)
{
    if (t->done)
        return;
    t->done = 1;
    b->ndone++;
    if (b->nwaiting)
        b->settled = 0;   /* its dependents may be ready now */
    struct job j;
    memset(&j, 0, sizeof j);
    int have = engine_job(b->e, t->job_id, &j) == 0;
    int64_t dur = have && j.finished_ms && j.started_ms ? j.finished_ms - j.started_ms : 0;
    char *text = have ? engine_result_text(&j) : xstrdup("");
    cJSON *structured = structured_live ? cJSON_Duplicate(structured_live, 1)
                        : have          ? engine_result_structured(&j)
                                        : NULL;
    if (t->has_expect)
        t->expect_failure = bexpect_check(&t->expect, st == JOB_SUCCEEDED,
                                          have && j.result_is_error, text, structured, dur);
    else if (st != JOB_SUCCEEDED)
        t->expect_failure = xstrdup(have && j.error ? j.error : job_status_name(st));
    cJSON_Delete(structured);
    free(text);
    if (have)
        job_fini(&j);
    say(b, t->expect_failure ? "FAIL" : "ok", t->id, t->expect_failure);
    if (t->expect_failure && b->o->fail_fast && !b->failed_fast) {
        b->failed_fast = 1;
        cancel_rest(b);
    }
}

static void on_event(void *payload, const struct engine_event *ev)
{
    struct bstate *b = payload;
    struct btask *t = ev->job_id ? task_by_job(b, ev->job_id) : NULL;
    if (!t || t->done)
        return;
    switch (ev->kind) {
    case ENGINE_EV_JOB_PROGRESS:
        t->progress_events++;
        t->progress = ev->progress;
        t->total = ev->total;
        break;
    case ENGINE_EV_JOB_RETRY:
        say(b, "retry", t->id, ev->text);
        break;
    case ENGINE_EV_JOB_TOKENS:           /* --stream: the answer as it comes */
        if (b->stream) {
            if (b->streaming != t) {
                fprintf(stderr, "%s[%s] ", b->streaming ? "\n" : "", t->id);
                b->streaming = t;
            }
            if (ev->text)
                fputs(ev->text, stderr);
            else
                fputs(" [the model's answer restarts] ", stderr);
            fflush(stderr);
        }
        break;
    case ENGINE_EV_JOB_DONE: {
        const cJSON *sc = ev->result ? cJSON_GetObjectItemCaseSensitive(ev->result,
                                                                         "structuredContent")
                                     : NULL;
        task_done(b, t, ev->status, sc);
        break;
    }
    default:
        break;
    }
}

/* Submit the tasks whose needs have all succeeded (together, in one
 * transaction); skip those whose need did not. Returns -1 on a store
 * error. */
static int submit_ready(struct bstate *b)
{
    if (b->settled)
        return 0;
    b->settled = 1;
    int changed;
    do {
        changed = 0;
        for (size_t i = 0; i < b->f.n; i++) {
            struct btask *t = &b->f.tasks[i];
            if (t->job_id || t->done)
                continue;
            for (size_t k = 0; k < t->nneeds; k++) {
                struct btask *n = &b->f.tasks[t->need_at[k]];
                if (n->done && n->expect_failure) {
                    t->done = 1;
                    b->ndone++;
                    t->expect_failure = xasprintf("skipped: needs '%s', which did not pass",
                                                  n->id);
                    say(b, "skip", t->id, t->expect_failure);
                    changed = 1;
                    break;
                }
            }
        }
    } while (changed);
    struct jobq_spec *specs = xcalloc(b->f.n, sizeof *specs);
    struct btask **who = xcalloc(b->f.n, sizeof *who);
    char **args = xcalloc(b->f.n, sizeof *args);
    char **routes = xcalloc(b->f.n, sizeof *routes);
    int64_t *ids = xcalloc(b->f.n, sizeof *ids);
    size_t n = 0;
    for (size_t i = 0; i < b->f.n; i++) {
        struct btask *t = &b->f.tasks[i];
        if (t->job_id || t->done)
            continue;
        int ready = 1;
        for (size_t k = 0; k < t->nneeds && ready; k++)
            ready = b->f.tasks[t->need_at[k]].done;
        if (!ready)
            continue;
        if (t->type) {               /* a model task: the prompt (and model) are its args */
            cJSON *a = cJSON_CreateObject();
            cJSON_AddStringToObject(a, "prompt", t->prompt ? t->prompt : "");
            if (t->model)
                cJSON_AddStringToObject(a, "model", t->model);
            args[n] = cJSON_PrintUnformatted(a);
            cJSON_Delete(a);
        } else {
            args[n] = cJSON_PrintUnformatted(t->args);
        }
        routes[n] = NULL;
        if (t->routed) {
            struct engine_route_req req;
            route_req(t, &req);
            routes[n] = engine_route_request_json(&req);
        }
        specs[n] = (struct jobq_spec){.key = t->id, .batch = b->batch, .server = t->server,
                                      .tool = t->type ? t->type : t->tool, .args_json = args[n],
                                      .kind = t->type ? "model" : NULL,
                                      .priority = t->priority, .timeout_ms = t->timeout_ms,
                                      .max_attempts = t->attempts, .route_json = routes[n],
                                      .idempotency_key = t->idempotency_key,
                                      .delay_ms = t->delay_ms};
        who[n++] = t;
    }
    int rc = 0;
    char *err = NULL;
    if (n && engine_submit_group(b->e, specs, n, ids, &err) < 0) {
        fprintf(stderr, "mcpdeck: %s\n", err);
        free(err);
        rc = -1;
    }
    for (size_t i = 0; i < n; i++) {
        if (rc == 0)
            set_job(b, who[i], ids[i]);
        /* an idempotency key may name a job an earlier run already finished */
        struct job j;
        memset(&j, 0, sizeof j);
        if (rc == 0 && who[i]->idempotency_key && engine_job(b->e, ids[i], &j) == 0 &&
            j.status != JOB_QUEUED && j.status != JOB_RUNNING) {
            say(b, "reuse", who[i]->id, "its idempotency key names a finished job");
            task_done(b, who[i], j.status, NULL);
        }
        job_fini(&j);
        cJSON_free(args[i]);
        free(routes[i]);
    }
    free(routes);
    free(specs);
    free(who);
    free(args);
    free(ids);
    b->nwaiting = 0;
    for (size_t i = 0; i < b->f.n; i++)
        b->nwaiting += !b->f.tasks[i].job_id && !b->f.tasks[i].done;
    return rc;
}

/* --resume: pick up this file's jobs from the interrupted run. */
static void adopt_previous(struct bstate *b)
{
    for (size_t i = 0; i < b->f.n; i++) {
        struct btask *t = &b->f.tasks[i];
        int64_t id;
        if (engine_find_job(b->e, b->batch, t->id, &id) < 0)
            continue;
        set_job(b, t, id);
        struct job j;
        memset(&j, 0, sizeof j);
        if (engine_job(b->e, id, &j) == 0) {
            if (j.status != JOB_QUEUED && j.status != JOB_RUNNING)
                task_done(b, t, j.status, NULL);
            job_fini(&j);
        }
    }
}

static void on_elicit(void *payload, struct engine_elicit *req, const char *server,
                      const int64_t *jobs, size_t njobs, const char *message,
                      const cJSON *schema)
{
    /* The task is the one running on that server, or, when several run,
     * the one of them that has elicit: answers. */
    struct bstate *b = payload;
    struct btask *t = njobs == 1 ? task_by_job(b, jobs[0]) : NULL;
    for (size_t i = 0; !t && i < njobs; i++) {
        struct btask *c = task_by_job(b, jobs[i]);
        if (c && c->elicit) {
            if (t && t->elicit) {
                t = NULL;
                break;
            }
            t = c;
        }
    }
    if (t && t->elicit) {
        char *m = xasprintf("answered from the batch file (%s)", message);
        say(b, "elicit", t->id, m);
        free(m);
        engine_elicit_answer(b->e, req, "accept", cJSON_Duplicate(t->elicit, 1));
    } else {
        char *m = xasprintf("declined, no elicit: answers (%s)", message);
        say(b, "elicit", t ? t->id : server, m);
        free(m);
        engine_elicit_answer(b->e, req, "decline", NULL);
    }
}

static void on_sigint(struct loop *l, int signo, void *payload)
{
    struct bstate *b = payload;
    b->interrupted = 1;
}

/* === checks before anything runs === */

static int check_servers(struct bstate *b)
{
    struct engine_server_info info[256];
    size_t ns = engine_servers(b->e, info, ARRAY_LEN(info));
    for (size_t i = 0; i < b->f.n; i++) {
        struct btask *t = &b->f.tasks[i];
        if (t->type) {
            const char *missing = engine_llm_missing(b->e);
            if (missing) {
                char *m = ydoc_errorf(b->f.doc, t->tool_node, "a '%s' task needs a model: %s",
                                      t->type, missing);
                fprintf(stderr, "mcpdeck: %s\n", m);
                free(m);
                return 2;
            }
            /* its tools come from the servers the router picks: start them all */
            for (size_t k = 0; k < ns && k < ARRAY_LEN(info); k++) {
                char *err = NULL;
                if (info[k].state != SERVER_DISABLED &&
                    engine_start_server(b->e, info[k].name, &err) < 0)
                    free(err);
            }
            continue;
        }
        if (t->routed) {              /* the router may pick any server: start them all */
            for (size_t k = 0; k < ns && k < ARRAY_LEN(info); k++) {
                char *err = NULL;
                if (info[k].state != SERVER_DISABLED &&
                    engine_start_server(b->e, info[k].name, &err) < 0)
                    free(err);
            }
            continue;
        }
        int found = 0;
        for (size_t k = 0; k < ns && k < ARRAY_LEN(info); k++)
            found |= strcmp(info[k].name, t->server) == 0;
        if (!found) {
            struct buf names;
            buf_init(&names);
            for (size_t k = 0; k < ns && k < ARRAY_LEN(info); k++)
                buf_printf(&names, "%s%s", k ? ", " : "", info[k].name);
            char *m = ydoc_errorf(b->f.doc, t->tool_node, "unknown server '%s' (configured: %s)",
                                  t->server, names.data ? names.data : "none");
            fprintf(stderr, "mcpdeck: %s\n", m);
            free(m);
            buf_fini(&names);
            return 2;
        }
        char *err = NULL;
        if (engine_start_server(b->e, t->server, &err) < 0) {
            fprintf(stderr, "mcpdeck: %s\n", err);
            free(err);
            return 3;
        }
    }
    engine_wait_servers(b->e, 60000);
    ns = engine_servers(b->e, info, ARRAY_LEN(info));
    for (size_t i = 0; i < b->f.n; i++) {
        struct btask *t = &b->f.tasks[i];
        if (t->type)
            continue;
        if (t->routed) {
            /* some server must fit now; the args are checked against its schema */
            struct engine_route_req req;
            route_req(t, &req);
            char *chosen = NULL, *why = NULL;
            if (engine_route(b->e, &req, &chosen, NULL, NULL, &why) < 0) {
                char *m = ydoc_errorf(b->f.doc, t->tool_node, "%s", why);
                fprintf(stderr, "mcpdeck: %s\n", m);
                free(m);
                free(why);
                return 2;
            }
            if (engine_check_args(b->e, chosen, t->tool, t->args, &why) < 0) {
                const struct ydoc_node *at = ydoc_map_get(t->node, "args");
                char *m = ydoc_errorf(b->f.doc, at ? at : t->tool_node, "%s", why);
                fprintf(stderr, "mcpdeck: %s\n", m);
                free(m);
                free(why);
                free(chosen);
                return 2;
            }
            free(chosen);
            continue;
        }
        for (size_t k = 0; k < ns && k < ARRAY_LEN(info); k++) {
            if (strcmp(info[k].name, t->server) != 0)
                continue;
            if (info[k].state != SERVER_READY) {
                fprintf(stderr, "mcpdeck: server %s never became ready: %s\n", info[k].name,
                        info[k].last_error ? info[k].last_error
                                           : server_state_name(info[k].state));
                return 3;
            }
            if (!engine_wait_tool(b->e, t->server, t->tool, 1500)) {
                char *m = ydoc_errorf(b->f.doc, t->tool_node, "server %s has no tool '%s'",
                                      t->server, t->tool);
                fprintf(stderr, "mcpdeck: %s\n", m);
                free(m);
                return 2;
            }
            char *why = NULL;
            if (engine_check_args(b->e, t->server, t->tool, t->args, &why) < 0) {
                const struct ydoc_node *at = ydoc_map_get(t->node, "args");
                char *m = ydoc_errorf(b->f.doc, at ? at : t->tool_node, "%s", why);
                fprintf(stderr, "mcpdeck: %s\n", m);
                free(m);
                free(why);
                return 2;
            }
        }
    }
    return 0;
}

static void print_plan(struct bstate *b)
{
    printf("plan for %s: %zu tasks\n", b->f.name, b->f.n);
    /* levels: a task runs after everything it needs (f.order has the
     * needs of each task before it) */
    size_t n = b->f.n;
    size_t *level = xcalloc(n, sizeof *level);
    for (size_t o = 0; o < n; o++) {
        size_t i = b->f.order[o];
        for (size_t k = 0; k < b->f.tasks[i].nneeds; k++) {
            size_t l = level[b->f.tasks[i].need_at[k]] + 1;
            if (l > level[i])
                level[i] = l;
        }
    }
    /* stage by stage, in file order within one (a counting sort: a long
     * chain of needs has as many stages as tasks) */
    size_t *at = xcalloc(n + 1, sizeof *at), *by = xcalloc(n ? n : 1, sizeof *by);
    for (size_t i = 0; i < n; i++)
        at[level[i] + 1]++;
    for (size_t l = 0; l < n; l++)
        at[l + 1] += at[l];
    for (size_t i = 0; i < n; i++)
        by[at[level[i]]++] = i;
    for (size_t o = 0; o < n; o++) {
        size_t i = by[o];
        struct btask *t = &b->f.tasks[i];
        char *tg = target(t, NULL);
        printf("  stage %zu  %-24s %s  priority %d%s", level[i] + 1, t->id, tg, t->priority,
               t->nneeds ? "  after" : "");
        for (size_t k = 0; k < t->nneeds; k++)
            printf(" %s", t->needs[k]);
        printf("\n");
        free(tg);
        if (t->routed) {         /* the route it would take now, and why */
            struct engine_route_req req;
            route_req(t, &req);
            char *explain = NULL, *why = NULL;
            engine_route(b->e, &req, NULL, &explain, NULL, &why);
            for (char *line = explain ? strtok(explain, "\n") : NULL; line;
                 line = strtok(NULL, "\n"))
                printf("      %s\n", line);
            free(explain);
            free(why);
        }
    }
    free(by);
    free(at);
    free(level);
}

/* === the run === */

/* Fill one report row from the task and its job (loaded into *j, which
 * the caller frees with job_fini; *text, *tg, *sc likewise). */
static void make_row(struct bstate *b, struct btask *t, struct brow *r, struct job *j,
                     char **text, char **tg, cJSON **sc)
{
    memset(r, 0, sizeof *r);
    memset(j, 0, sizeof *j);
    int have = t->job_id && engine_job(b->e, t->job_id, j) == 0;
    *tg = target(t, have ? j->server : NULL);
    *text = NULL;
    *sc = NULL;
    r->id = t->id;
    r->target = *tg;
    r->job_id = t->job_id;
    r->line = t->line;
    r->col = t->col;
    r->status = have ? job_status_name(j->status) : t->done ? "skipped" : "not run";
    if (have) {
        r->attempts = j->attempts;
        if (j->finished_ms && j->started_ms)
            r->duration_ms = j->finished_ms - j->started_ms;
        r->is_error = j->result_is_error;
        if (j->has_result) {
            *text = engine_result_text(j);
            r->result = *text;
            *sc = engine_result_structured(j);
            r->structured = *sc;
        }
    }
    r->passed = t->done && !t->expect_failure;
    r->error = t->expect_failure ? t->expect_failure : !t->done ? "not finished" : NULL;
    r->progress_events = t->progress_events;
    r->progress = t->progress;
    r->total = t->total;
}

/* Stream the report: totals first (from what we know), then one row at a
 * time, each loaded from the store and freed before the next. */
static int write_report(struct bstate *b)
{
    struct breport_totals tot = {b->f.n, 0, 0, 0, 0, 0, util_now_ms() - b->started};
    for (size_t i = 0; i < b->f.n; i++) {
        struct btask *t = &b->f.tasks[i];
        int passed = t->done && !t->expect_failure;
        tot.passed += passed;
        tot.failed += !passed;
        tot.unfinished += !t->done;
        tot.skipped += t->done && !t->job_id;
    }
    tot.succeeded = tot.passed;   /* refined below: an expected failure passes too */
    if (b->tty)
        fputs("\r\033[K", stderr);
    fprintf(stderr, "%zu tasks: %zu passed, %zu failed in %.2fs\n", tot.total, tot.passed,
            tot.failed, (double)tot.wall_ms / 1000.0);
    const char *fmt = b->o->format ? b->o->format : "text";
    FILE *out = strcmp(fmt, "text") == 0 && !b->o->output ? stderr : stdout;
    int rc = 0;
    if (b->o->output && !(out = fopen(b->o->output, "w"))) {
        fprintf(stderr, "mcpdeck: cannot write %s\n", b->o->output);
        return 2;
    }
    const char *gh = getenv("GITHUB_ACTIONS");
    int annotate = gh && strcmp(gh, "true") == 0;
    batch_report_begin(out, fmt, b->f.name, &tot);
    for (size_t i = 0; i < b->f.n; i++) {
        struct brow r;
        struct job j;
        char *text, *tg;
        cJSON *sc;
        make_row(b, &b->f.tasks[i], &r, &j, &text, &tg, &sc);
        batch_report_row(out, fmt, &r, i);
        if (!r.passed && annotate && out != stdout)
            batch_report_annotation(stdout, b->f.name, &r);
        job_fini(&j);
        free(text);
        free(tg);
        cJSON_Delete(sc);
    }
    if (batch_report_end(out, fmt, &tot) < 0)
        rc = -1;
    if (annotate && out == stdout)
        for (size_t i = 0; i < b->f.n; i++) {
            struct btask *t = &b->f.tasks[i];
            if (t->done && !t->expect_failure)
                continue;
            struct brow r = {.id = t->id, .line = t->line, .col = t->col,
                             .error = t->expect_failure ? t->expect_failure : "not finished"};
            batch_report_annotation(stdout, b->f.name, &r);
        }
    if (out != stdout && out != stderr && fclose(out) != 0)
        rc = -1;
    fflush(stdout);
    return rc < 0 ? 2 : tot.failed ? 1 : 0;
}

int batch_run(const struct batch_opts *o)
{
    struct bstate b;
    memset(&b, 0, sizeof b);
    b.o = o;
    b.started = util_now_ms();
    b.tty = isatty(2);
    char *err = NULL;
    int rc = 2;
    static const char *const formats[] = {"text", "json", "jsonl", "junit"};
    int fmt_ok = !o->format;
    for (size_t i = 0; i < ARRAY_LEN(formats); i++)
        fmt_ok |= o->format && strcmp(o->format, formats[i]) == 0;
    if (!fmt_ok) {
        fprintf(stderr, "mcpdeck: unknown --format '%s' (expected text, json, jsonl or junit)\n",
                o->format);
        return 2;
    }
    if (bfile_load(o->file, &b.f, &err) < 0) {
        fprintf(stderr, "mcpdeck: %s\n", err);
        free(err);
        return 2;
    }
    char real[PATH_MAX];
    b.batch = strcmp(o->file, "-") == 0 ? xstrdup("<stdin>")
              : realpath(o->file, real) ? xstrdup(real)
                                        : xstrdup(o->file);
    struct engine_opts eo = {o->config_path, o->data_dir, o->concurrency, NULL};
    if (engine_new(&eo, &b.e, &err) < 0) {
        fprintf(stderr, "mcpdeck: %s\n", err);
        free(err);
        goto out;
    }
    engine_catch_interrupts(b.e);    /* servers start in check_servers */
    rc = check_servers(&b);
    if (engine_interrupted(b.e)) {
        fprintf(stderr, "mcpdeck: interrupted while the servers started; nothing ran\n");
        rc = ENGINE_EXIT_INTERRUPTED;
    }
    if (rc != 0)
        goto out;
    if (o->dry_run) {
        print_plan(&b);
        rc = 0;
        goto out;
    }
    bfile_drop_doc(&b.f);   /* every positioned check is done */
    engine_set_health_checks(b.e, 1);
    b.stream = o->stream;
    engine_subscribe(b.e, on_event, &b);
    engine_set_elicit_handler(b.e, on_elicit, &b);
    loop_signal(engine_loop(b.e), SIGINT, on_sigint, &b);
    loop_signal(engine_loop(b.e), SIGTERM, on_sigint, &b);
    if (o->resume)
        adopt_previous(&b);
    if (submit_ready(&b) < 0) {
        rc = 2;
        goto out;
    }
    engine_set_scheduling(b.e, 1);
    progress_line(&b, 1);
    while (b.ndone < b.f.n && !b.interrupted) {
        loop_run_once(engine_loop(b.e), 200);
        if (submit_ready(&b) < 0)
            break;
        progress_line(&b, 0);
        if (o->timeout_ms && util_now_ms() - b.started > o->timeout_ms && !b.timed_out) {
            b.timed_out = 1;
            fprintf(stderr, "\nmcpdeck: the batch ran past --timeout; cancelling the rest\n");
            cancel_rest(&b);
        }
    }
    if (b.interrupted) {
        cancel_rest(&b);
        fprintf(stderr, "\nmcpdeck: interrupted; unfinished tasks cancelled\n");
        /* let the cancellations reach the servers */
        for (int i = 0; i < 5; i++)
            loop_run_once(engine_loop(b.e), 20);
    }
    rc = write_report(&b);
    if (b.interrupted)
        rc = ENGINE_EXIT_INTERRUPTED;
out:
    engine_free(b.e);
    bfile_fini(&b.f);
    free(b.map_ids);
    free(b.map_tasks);
    free(b.batch);
    return rc;
}
