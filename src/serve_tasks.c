/* serve_tasks.c — the task tools `mcpdeck serve` offers besides the
 * downstream servers' tools, so another agent can use mcpdeck's router,
 * queue and result store:
 *
 *   submit_task   a tool task (tool "server__tool" or "server.tool" with
 *                 arguments; a bare tool name is routed with type and caps)
 *                 or a model task (type and prompt; model optional)
 *   task_status   a job's status, attempts, error and progress
 *   task_result   its result (wait: seconds to wait for it to finish)
 *   cancel_task   cancel a queued or running job
 *
 * Answers carry the figures as structuredContent and a sentence as text. */
#include "serve_int.h"
#include "jsonw.h"

#include "config.h"
#include "engine.h"
#include "jsonrpc.h"
#include "loop.h"
#include "util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define WAIT_MAX_S 600

static const struct {
    const char *name;
    const char *description;
    const char *schema;
} task_tools[] = {
    {"submit_task",
     "Queue a task in mcpdeck's durable job queue and return its task_id. A tool task: "
     "tool is server__tool (or server.tool) with arguments; a bare tool name is routed to "
     "the best server offering it (type and caps guide the router). A model task: type "
     "(generate, refactor, debug, review, document, test, deploy) and prompt; mcpdeck's "
     "model router runs it with the routed servers' tools. Follow it with task_status and "
     "task_result.",
     "{\"type\":\"object\",\"properties\":{"
     "\"tool\":{\"type\":\"string\",\"description\":\"server__tool, server.tool, or a bare "
     "tool name to route\"},"
     "\"arguments\":{\"type\":\"object\",\"description\":\"the tool's arguments\"},"
     "\"type\":{\"type\":\"string\",\"description\":\"task type: generate, refactor, debug, "
     "review, document, test, deploy\"},"
     "\"prompt\":{\"type\":\"string\",\"description\":\"what a model task should do\"},"
     "\"caps\":{\"type\":\"array\",\"items\":{\"type\":\"string\"},\"description\":"
     "\"capabilities the routed server must have\"},"
     "\"model\":{\"type\":\"string\",\"description\":\"model or alias for a model task\"},"
     "\"priority\":{\"type\":\"integer\",\"minimum\":-1000000,\"maximum\":1000000,"
     "\"description\":\"higher runs first (default 0)\"}"
     "}}"},
    {"task_status", "The status of a task (queued, running, succeeded, failed, cancelled, "
                    "skipped) with its server, attempts, error and progress.",
     "{\"type\":\"object\",\"properties\":{\"task_id\":{\"type\":\"integer\"}},"
     "\"required\":[\"task_id\"]}"},
    {"task_result", "The result of a task. With wait (seconds), waits for a queued or "
                    "running task to finish first.",
     "{\"type\":\"object\",\"properties\":{\"task_id\":{\"type\":\"integer\"},"
     "\"wait\":{\"type\":\"number\",\"minimum\":0,\"description\":\"seconds to wait for the "
     "task to finish (at most 600)\"}},\"required\":[\"task_id\"]}"},
    {"cancel_task", "Cancel a queued or running task.",
     "{\"type\":\"object\",\"properties\":{\"task_id\":{\"type\":\"integer\"}},"
     "\"required\":[\"task_id\"]}"},
};

void serve_tasks_list(struct serve *s, cJSON *tools)
{
    (void)s;
    for (size_t i = 0; i < ARRAY_LEN(task_tools); i++) {
        cJSON *t = cJSON_CreateObject();
        cJSON_AddStringToObject(t, "name", task_tools[i].name);
        cJSON_AddStringToObject(t, "description", task_tools[i].description);
        cJSON_AddItemToObject(t, "inputSchema", cJSON_Parse(task_tools[i].schema));
        cJSON_AddItemToArray(tools, t);
    }
}

/* A CallToolResult: text, and obj (taken) as structuredContent. */
static cJSON *answer(cJSON *obj, int is_error, const char *text)
{
    cJSON *r = cJSON_CreateObject();
    cJSON *c = cJSON_AddArrayToObject(r, "content");
    cJSON *t = cJSON_CreateObject();
    cJSON_AddStringToObject(t, "type", "text");
    cJSON_AddStringToObject(t, "text", text);
    cJSON_AddItemToArray(c, t);
    cJSON_AddItemToObject(r, "structuredContent", obj);
    if (is_error)
        cJSON_AddBoolToObject(r, "isError", 1);
    return r;
}

static int task_id(const cJSON *args, int64_t *id)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(args, "task_id");
    if (cJSON_IsString(v)) {
        char *end;
        long long n = strtoll(v->valuestring, &end, 10);
        if (*v->valuestring && !*end && n > 0) {
            *id = n;
            return 0;
        }
        return -1;
    }
    return cJSON_IsNumber(v) && util_whole_in(v->valuedouble, 1, INT64_MAX, id) ? 0 : -1;
}

static const char *arg_str(const cJSON *args, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(args, key);
    return cJSON_IsString(v) && *v->valuestring ? v->valuestring : NULL;
}

/* Split "server__tool" or "server.tool" into a server that exists and is
 * exposed, and its tool. 0, 1 (no server part: a bare tool), -1 (*why). */
static int split_tool(struct serve *s, const char *full, char **server, const char **tool,
                      char **why)
{
    size_t n = engine_servers(s->e, NULL, 0);
    struct engine_server_info *info = xcalloc(n ? n : 1, sizeof *info);
    n = engine_servers(s->e, info, n);
    size_t best = 0;
    const char *rest = NULL, *sname = NULL;
    for (size_t i = 0; i < n; i++) {
        size_t l = strlen(info[i].name);
        if (l <= best || strncmp(full, info[i].name, l) != 0)
            continue;
        if (strncmp(full + l, "__", 2) == 0 && full[l + 2]) {
            best = l;
            rest = full + l + 2;
            sname = info[i].name;
        } else if (full[l] == '.' && full[l + 1]) {
            best = l;
            rest = full + l + 1;
            sname = info[i].name;
        }
    }
    int rc = 1;
    if (rest) {
        char *ns = xasprintf("%.*s__%s", (int)best, full, rest);
        if (!serve_glob_pass(s->cfg->servers, s->cfg->nservers, sname) ||
            !serve_glob_pass(s->cfg->tools, s->cfg->ntools, ns)) {
            *why = xasprintf("tool %s is not exposed by this mcpdeck (serve.expose)", full);
            rc = -1;
        } else {
            *server = xstrdup(sname);
            *tool = rest;
            rc = 0;
        }
        free(ns);
    }
    free(info);
    if (rc == 1 && strchr(full, '.')) {
        *why = xasprintf("no server named in tool %s", full);
        rc = -1;
    }
    return rc;
}

static cJSON *submit(struct serve *s, const cJSON *args)
{
    const char *tool = arg_str(args, "tool"), *type = arg_str(args, "type");
    const char *prompt = arg_str(args, "prompt"), *model = arg_str(args, "model");
    const cJSON *targs = cJSON_GetObjectItemCaseSensitive(args, "arguments");
    const cJSON *caps = cJSON_GetObjectItemCaseSensitive(args, "caps");
    const cJSON *prio = cJSON_GetObjectItemCaseSensitive(args, "priority");
    if (targs && !cJSON_IsObject(targs))
        return serve_tool_error("submit_task: arguments must be an object");
    char *server = NULL, *why = NULL, *a = NULL, *route = NULL;
    const char *caplist[32];
    size_t ncaps = 0;
    const cJSON *c;
    cJSON_ArrayForEach(c, caps) {
        if (!cJSON_IsString(c) || ncaps == ARRAY_LEN(caplist))
            return serve_tool_error("submit_task: caps must be a list of at most 32 strings");
        caplist[ncaps++] = c->valuestring;
    }
    int64_t pr = 0;
    if (prio && !cJSON_IsNull(prio) &&
        (!cJSON_IsNumber(prio) || !util_whole_in(prio->valuedouble, -1000000, 1000000, &pr)))
        return serve_tool_error("submit_task: priority must be an integer from -1000000 to "
                                "1000000");
    struct jobq_spec spec = {.batch = "serve"};
    spec.priority = (int)pr;
    cJSON *r = NULL;
    if (tool) {
        const char *bare = tool;
        int sp = split_tool(s, tool, &server, &bare, &why);
        if (sp < 0)
            goto fail;
        a = targs ? jsonw_print(targs) : NULL;
        spec.tool = bare;
        spec.args_json = targs ? a : NULL;
        if (sp == 1) {           /* routed: the router picks the server when it starts */
            struct engine_route_req req = {type, caplist, ncaps, NULL, bare, -1};
            route = engine_route_request_json(&req);
            spec.route_json = route;
        } else {
            spec.server = server;
        }
    } else if (type && prompt) {
        const char *missing = engine_llm_missing(s->e);
        if (missing) {
            why = xasprintf("model tasks cannot run here: %s", missing);
            goto fail;
        }
        cJSON *m = cJSON_CreateObject();
        cJSON_AddStringToObject(m, "prompt", prompt);
        if (model)
            cJSON_AddStringToObject(m, "model", model);
        a = jsonw_print(m);
        cJSON_Delete(m);
        spec.tool = type;
        spec.args_json = a;
        spec.kind = "model";
    } else {
        why = xstrdup("submit_task needs a tool (server__tool, with arguments) or a type and a "
                      "prompt (a model task)");
        goto fail;
    }
    int64_t id;
    if (engine_submit(s->e, &spec, &id, &why) < 0)
        goto fail;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "task_id", (double)id);
    cJSON_AddStringToObject(o, "status", "queued");
    char *text = xasprintf("task %lld queued", (long long)id);
    r = answer(o, 0, text);
    free(text);
    goto out;
fail:
    r = serve_tool_error("submit_task: %s", why);
out:
    free(why);
    free(server);
    cJSON_free(a);
    free(route);
    return r;
}

static int finished(enum job_status st)
{
    return st != JOB_QUEUED && st != JOB_RUNNING;
}

static cJSON *status_of(struct serve *s, const struct job *j)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "task_id", (double)j->id);
    cJSON_AddStringToObject(o, "status", job_status_name(j->status));
    cJSON_AddStringToObject(o, "kind", j->kind ? j->kind : "tool");
    if (j->server)
        cJSON_AddStringToObject(o, "server", j->server);
    if (j->tool)
        cJSON_AddStringToObject(o, "tool", j->tool);
    cJSON_AddNumberToObject(o, "attempts", j->attempts);
    cJSON_AddNumberToObject(o, "max_attempts", j->max_attempts);
    if (j->error)
        cJSON_AddStringToObject(o, "error", j->error);
    cJSON_AddNumberToObject(o, "created_ms", (double)j->created_ms);
    if (j->started_ms)
        cJSON_AddNumberToObject(o, "started_ms", (double)j->started_ms);
    if (j->finished_ms)
        cJSON_AddNumberToObject(o, "finished_ms", (double)j->finished_ms);
    double progress, total;
    if (j->status == JOB_RUNNING && engine_job_progress(s->e, j->id, &progress, &total) == 0) {
        cJSON_AddNumberToObject(o, "progress", progress);
        if (total >= 0)
            cJSON_AddNumberToObject(o, "total", total);
    }
    return o;
}

static cJSON *status(struct serve *s, int64_t id)
{
    struct job j;
    if (engine_job(s->e, id, &j) < 0)
        return serve_tool_error("no task %lld", (long long)id);
    cJSON *o = status_of(s, &j);
    char *text = xasprintf("task %lld: %s%s%s", (long long)id, job_status_name(j.status),
                           j.error ? ": " : "", j.error ? j.error : "");
    cJSON *r = answer(o, 0, text);
    free(text);
    job_fini(&j);
    return r;
}

/* The result of a job (or that it has none yet). */
static cJSON *result_of(struct serve *s, int64_t id)
{
    struct job j;
    if (engine_job(s->e, id, &j) < 0)
        return serve_tool_error("no task %lld", (long long)id);
    cJSON *o = status_of(s, &j);
    cJSON *r;
    if (!finished(j.status)) {
        cJSON_AddBoolToObject(o, "done", 0);
        char *text = xasprintf("task %lld is %s; no result yet", (long long)id,
                               job_status_name(j.status));
        r = answer(o, 0, text);
        free(text);
    } else {
        cJSON_AddBoolToObject(o, "done", 1);
        cJSON *st = engine_result_structured(&j);
        if (st)
            cJSON_AddItemToObject(o, "result", st);
        char *text = engine_result_text(&j);
        if (!*text) {
            free(text);
            text = xasprintf("task %lld %s%s%s", (long long)id, job_status_name(j.status),
                             j.error ? ": " : "", j.error ? j.error : "");
        }
        r = answer(o, j.status != JOB_SUCCEEDED || j.result_is_error, text);
        free(text);
    }
    job_fini(&j);
    return r;
}

static void wait_over(struct loop *l, uint64_t tid, void *payload)
{
    (void)l;
    (void)tid;
    struct serve_pending *p = payload;
    p->timer = 0;
    serve_pending_answer(p, result_of(p->s, p->job));
}

void serve_tasks_job_done(struct serve *s, int64_t job)
{
    for (;;) {
        struct serve_pending *p = s->pending;
        while (p && !(p->wait == SERVE_WAIT_TASK && p->job == job))
            p = p->next;
        if (!p)
            return;
        serve_pending_answer(p, result_of(s, job));
    }
}

int serve_tasks_call(struct serve_session *ss, const char *name, const cJSON *args,
                     const cJSON *id, const cJSON *params)
{
    struct serve *s = ss->s;
    size_t i;
    for (i = 0; i < ARRAY_LEN(task_tools); i++)
        if (strcmp(task_tools[i].name, name) == 0)
            break;
    if (i == ARRAY_LEN(task_tools))
        return 0;
    char *idt = jsonw_print(id);
    cJSON *r = NULL;
    int64_t tid = 0;
    if (i == 0) {
        r = submit(s, args);
    } else if (task_id(args, &tid) < 0) {
        r = serve_tool_error("%s needs task_id, a positive integer", name);
    } else if (i == 1) {
        r = status(s, tid);
    } else if (i == 2) {
        const cJSON *w = cJSON_GetObjectItemCaseSensitive(args, "wait");
        double wait = cJSON_IsNumber(w) ? w->valuedouble : 0;
        struct job j;
        int known = engine_job(s->e, tid, &j) == 0;
        int pending = known && !finished(j.status);
        if (known)
            job_fini(&j);
        if (pending && wait > 0) {
            if (wait > WAIT_MAX_S)
                wait = WAIT_MAX_S;
            struct serve_pending *p = serve_pending_new(ss, SERVE_WAIT_TASK, id, params);
            p->job = tid;
            p->timer = loop_timer_add(engine_loop(s->e), (int64_t)(wait * 1000), wait_over, p);
        } else {
            r = result_of(s, tid);
        }
    } else {
        char *err = NULL;
        if (engine_cancel(s->e, tid, &err) < 0) {
            r = serve_tool_error("cancel_task: %s", err);
            free(err);
        } else {
            cJSON *o = cJSON_CreateObject();
            cJSON_AddNumberToObject(o, "task_id", (double)tid);
            cJSON_AddStringToObject(o, "status", "cancelled");
            char *text = xasprintf("task %lld cancelled", (long long)tid);
            r = answer(o, 0, text);
            free(text);
        }
    }
    if (r)
        serve_respond(ss, id, idt, r);
    cJSON_free(idt);
    return 1;
}
