/* serve.c — the aggregate MCP server over the engine (see serve.h).
 *
 * A session takes JSON-RPC messages from its transport and answers them
 * through the transport's send function. Lists (tools, resources,
 * templates, prompts) are built on request from the engine's snapshots of
 * the exposed servers, names namespaced "server__name". A tool call is
 * either run as a queue job (serve.record_calls, the default: durable and
 * visible in the Tasks and Metrics panes; its JOB_PROGRESS and JOB_DONE
 * events answer it) or sent straight to the server (engine_call_ex). Other
 * requests go to the owning server with engine_request.
 *
 * Every outer request that waits is a struct serve_pending in s->pending;
 * the client's notifications/cancelled finds it by id and cancels the
 * downstream call or job, and then nothing is answered (as MCP asks).
 * Changes of the servers' lists or states mark the serve dirty; a
 * before-sleep hook compares cheap signatures of what would be listed and
 * sends list_changed to every ready session when they differ. */
#include "serve_int.h"

#include "config.h"
#include "engine.h"
#include "jsonrpc.h"
#include "log.h"
#include "loop.h"
#include "util.h"
#include "version.h"

#include <fnmatch.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const versions[] = {"2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05"};
static const char *const log_levels[] = {"debug",    "info",  "notice", "warning",
                                         "error", "critical", "alert",  "emergency"};
#define SERVE_SEP "__"
#define RESOURCE_NOT_FOUND (-32002)

/* === helpers === */

int serve_glob_pass(char *const *globs, size_t n, const char *name)
{
    if (n == 0)
        return 1;
    int pass = 1;
    for (size_t i = 0; i < n; i++)
        if (globs[i][0] != '!')
            pass = 0;            /* some pattern includes: only what matches passes */
    for (size_t i = 0; i < n; i++) {
        int neg = globs[i][0] == '!';
        if (fnmatch(globs[i] + neg, name, 0) == 0)
            pass = !neg;
    }
    return pass;
}

static int level_index(const char *name)
{
    for (size_t i = 0; i < ARRAY_LEN(log_levels); i++)
        if (strcmp(name, log_levels[i]) == 0)
            return (int)i;
    return -1;
}

static uint64_t fnv(uint64_t h, const char *s)
{
    for (; s && *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return (h ^ 0xff) * 1099511628211ULL;   /* a separator, so "ab","c" != "a","bc" */
}

static const char *str_item(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

cJSON *serve_tool_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *text = xvasprintf(fmt, ap);
    va_end(ap);
    cJSON *r = cJSON_CreateObject();
    cJSON *c = cJSON_AddArrayToObject(r, "content");
    cJSON *t = cJSON_CreateObject();
    cJSON_AddStringToObject(t, "type", "text");
    cJSON_AddStringToObject(t, "text", text);
    cJSON_AddItemToArray(c, t);
    cJSON_AddBoolToObject(r, "isError", 1);
    free(text);
    return r;
}

/* === sending === */

void serve_send_json(struct serve_session *ss, const cJSON *msg, const char *related)
{
    char *txt = cJSON_PrintUnformatted(msg);
    if (txt) {
        ss->send(ss->tpayload, txt, strlen(txt), related);
        cJSON_free(txt);
    }
}

void serve_respond(struct serve_session *ss, const cJSON *id, const char *related, cJSON *result)
{
    cJSON *m = cJSON_CreateObject();
    cJSON_AddStringToObject(m, "jsonrpc", "2.0");
    cJSON_AddItemToObject(m, "id", id ? cJSON_Duplicate(id, 1) : cJSON_CreateNull());
    cJSON_AddItemToObject(m, "result", result ? result : cJSON_CreateObject());
    serve_send_json(ss, m, related);
    cJSON_Delete(m);
}

void serve_respond_error(struct serve_session *ss, const cJSON *id, const char *related, int code,
                         const char *message)
{
    cJSON *m = cJSON_CreateObject();
    cJSON_AddStringToObject(m, "jsonrpc", "2.0");
    cJSON_AddItemToObject(m, "id", id ? cJSON_Duplicate(id, 1) : cJSON_CreateNull());
    cJSON *e = cJSON_AddObjectToObject(m, "error");
    cJSON_AddNumberToObject(e, "code", code);
    cJSON_AddStringToObject(e, "message", message);
    serve_send_json(ss, m, related);
    cJSON_Delete(m);
}

static void notify_all(struct serve *s, const char *method, cJSON *params)
{
    cJSON *m = cJSON_CreateObject();
    cJSON_AddStringToObject(m, "jsonrpc", "2.0");
    cJSON_AddStringToObject(m, "method", method);
    if (params)
        cJSON_AddItemToObject(m, "params", params);
    for (struct serve_session *ss = s->sessions; ss; ss = ss->next)
        if (ss->ready)
            serve_send_json(ss, m, NULL);
    cJSON_Delete(m);
}

/* === pending requests === */

struct serve_pending *serve_pending_new(struct serve_session *ss, enum serve_wait w,
                                        const cJSON *id, const cJSON *params)
{
    struct serve *s = ss->s;
    struct serve_pending *p = xcalloc(1, sizeof *p);
    p->s = s;
    p->ss = ss;
    p->wait = w;
    p->id = cJSON_Duplicate(id, 1);
    p->id_text = cJSON_PrintUnformatted(id);
    const cJSON *meta = cJSON_GetObjectItemCaseSensitive(params, "_meta");
    const cJSON *tok = cJSON_GetObjectItemCaseSensitive(meta, "progressToken");
    if (cJSON_IsString(tok) || cJSON_IsNumber(tok))
        p->progress_token = cJSON_Duplicate(tok, 1);
    p->next = s->pending;
    if (s->pending)
        s->pending->prev = p;
    s->pending = p;
    ss->npending++;
    return p;
}

/* Take p out of s->pending (it stays alive for a callback still to come). */
static void pending_detach(struct serve_pending *p)
{
    struct serve *s = p->s;
    if (!s)
        return;
    if (p->prev)
        p->prev->next = p->next;
    else
        s->pending = p->next;
    if (p->next)
        p->next->prev = p->prev;
    p->prev = p->next = NULL;
    if (p->timer)
        loop_timer_del(engine_loop(s->e), p->timer);
    p->timer = 0;
    if (p->ss)
        p->ss->npending--;
    p->ss = NULL;
    p->s = NULL;
}

void serve_pending_free(struct serve_pending *p)
{
    pending_detach(p);
    cJSON_Delete(p->id);
    cJSON_free(p->id_text);
    cJSON_Delete(p->progress_token);
    free(p);
}

void serve_pending_answer(struct serve_pending *p, cJSON *result)
{
    if (p->s && p->ss && !p->cancelled)
        serve_respond(p->ss, p->id, p->id_text, result);
    else
        cJSON_Delete(result);
    serve_pending_free(p);
}

static void pending_progress(struct serve_pending *p, double progress, double total,
                             const char *message)
{
    if (!p->s || !p->ss || p->cancelled || !p->progress_token)
        return;
    cJSON *params = cJSON_CreateObject();
    cJSON_AddItemToObject(params, "progressToken", cJSON_Duplicate(p->progress_token, 1));
    cJSON_AddNumberToObject(params, "progress", progress);
    if (total >= 0)
        cJSON_AddNumberToObject(params, "total", total);
    if (message)
        cJSON_AddStringToObject(params, "message", message);
    cJSON *m = cJSON_CreateObject();
    cJSON_AddStringToObject(m, "jsonrpc", "2.0");
    cJSON_AddStringToObject(m, "method", "notifications/progress");
    cJSON_AddItemToObject(m, "params", params);
    serve_send_json(p->ss, m, p->id_text);
    cJSON_Delete(m);
}

/* Cancel what p waits for downstream; p may be freed by the time this
 * returns (a direct call's callback runs at once). */
static void pending_cancel_downstream(struct serve_pending *p, const char *why)
{
    struct engine *e = p->s ? p->s->e : NULL;
    p->cancelled = 1;
    if (!e)
        return;
    char *err = NULL;
    switch (p->wait) {
    case SERVE_WAIT_CALL:
        engine_call_cancel(e, p->handle, why);
        break;
    case SERVE_WAIT_JOB:
        if (engine_cancel(e, p->job, &err) < 0)
            free(err);
        break;
    case SERVE_WAIT_TASK:
        serve_pending_free(p);
        break;
    case SERVE_WAIT_REQUEST:     /* cannot be stopped: its answer is dropped */
        break;
    }
}

/* === the servers exposed === */

struct exposed {
    struct engine_server_info *info;
    size_t n;
};

static void exposed_get(struct serve *s, struct exposed *x)
{
    size_t n = engine_servers(s->e, NULL, 0);
    x->info = xcalloc(n ? n : 1, sizeof *x->info);
    n = engine_servers(s->e, x->info, n);
    x->n = 0;
    for (size_t i = 0; i < n; i++)
        if (x->info[i].state != SERVER_DISABLED &&
            serve_glob_pass(s->cfg->servers, s->cfg->nservers, x->info[i].name))
            x->info[x->n++] = x->info[i];
}

static int breaker_open(const struct engine_server_info *si)
{
    return si->breaker && strcmp(si->breaker, "open") == 0;
}

/* The exposed server that owns a namespaced name (the longest server name
 * that is a prefix followed by "__"); *rest points past the separator. */
static const struct engine_server_info *owner_of(const struct exposed *x, const char *full,
                                                 const char **rest)
{
    const struct engine_server_info *best = NULL;
    size_t blen = 0;
    for (size_t i = 0; i < x->n; i++) {
        size_t l = strlen(x->info[i].name);
        if (l > blen && strncmp(full, x->info[i].name, l) == 0 &&
            strncmp(full + l, SERVE_SEP, 2) == 0 && full[l + 2]) {
            best = &x->info[i];
            blen = l;
        }
    }
    if (best)
        *rest = full + blen + 2;
    return best;
}

/* Every exposed tool (into out when not NULL); returns the signature. */
static uint64_t tools_collect(struct serve *s, cJSON *out)
{
    struct exposed x;
    exposed_get(s, &x);
    uint64_t h = 1469598103934665603ULL;
    struct engine_tool_info *ti = NULL;
    size_t cap = 0;
    for (size_t i = 0; i < x.n; i++) {
        const struct engine_server_info *si = &x.info[i];
        if (si->state != SERVER_READY || (s->cfg->hide_open_breakers && breaker_open(si)))
            continue;
        size_t n = engine_server_tools(s->e, si->name, NULL, 0);
        if (n > cap) {
            cap = n;
            ti = xrealloc(ti, cap * sizeof *ti);
        }
        n = engine_server_tools(s->e, si->name, ti, n);
        for (size_t k = 0; k < n; k++) {
            char *full = xasprintf("%s" SERVE_SEP "%s", si->name, ti[k].name);
            if (!serve_glob_pass(s->cfg->tools, s->cfg->ntools, full)) {
                free(full);
                continue;
            }
            h = fnv(fnv(h, full), ti[k].description);
            if (out) {
                cJSON *t = cJSON_CreateObject();
                cJSON_AddStringToObject(t, "name", full);
                if (ti[k].description)
                    cJSON_AddStringToObject(t, "description", ti[k].description);
                cJSON_AddItemToObject(t, "inputSchema",
                                      ti[k].input_schema
                                          ? cJSON_Duplicate(ti[k].input_schema, 1)
                                          : cJSON_Parse("{\"type\":\"object\"}"));
                if (ti[k].output_schema)
                    cJSON_AddItemToObject(t, "outputSchema",
                                          cJSON_Duplicate(ti[k].output_schema, 1));
                if (ti[k].annotations)
                    cJSON_AddItemToObject(t, "annotations",
                                          cJSON_Duplicate(ti[k].annotations, 1));
                cJSON_AddItemToArray(out, t);
            }
            free(full);
        }
    }
    free(ti);
    free(x.info);
    if (s->cfg->task_tools) {
        cJSON *tasks = cJSON_CreateArray();
        serve_tasks_list(s, tasks);
        cJSON *t;
        for (t = tasks->child; t;) {
            cJSON *next = t->next;
            const char *name = str_item(t, "name");
            if (serve_glob_pass(s->cfg->tools, s->cfg->ntools, name)) {
                h = fnv(h, name);
                if (out)
                    cJSON_AddItemToArray(out, cJSON_DetachItemViaPointer(tasks, t));
            }
            t = next;
        }
        cJSON_Delete(tasks);
    }
    return h;
}

/* Resources, templates or prompts of every exposed server; names
 * namespaced (resource URIs kept). Returns the signature. */
static uint64_t list_collect(struct serve *s, const char *which, cJSON *out)
{
    struct exposed x;
    exposed_get(s, &x);
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < x.n; i++) {
        if (x.info[i].state != SERVER_READY)
            continue;
        const cJSON *arr = engine_server_list(s->e, x.info[i].name, which);
        const cJSON *it;
        cJSON_ArrayForEach(it, arr) {
            const char *name = str_item(it, "name");
            const char *key = str_item(it, strcmp(which, "resources") == 0   ? "uri"
                                           : strcmp(which, "templates") == 0 ? "uriTemplate"
                                                                              : "name");
            h = fnv(fnv(h, x.info[i].name), key);
            if (!out)
                continue;
            cJSON *d = cJSON_Duplicate(it, 1);
            char *full = xasprintf("%s" SERVE_SEP "%s", x.info[i].name, name ? name : "");
            cJSON_DeleteItemFromObjectCaseSensitive(d, "name");
            cJSON_AddStringToObject(d, "name", full);
            free(full);
            cJSON_AddItemToArray(out, d);
        }
    }
    free(x.info);
    return h;
}

/* The exposed server a resource URI (or, templates, a URI template)
 * belongs to: an exact URI in its resources, else the template whose text
 * before the first '{' is the longest prefix of uri. malloc'd, or NULL. */
static char *resource_owner(struct serve *s, const char *uri, int template_only)
{
    struct exposed x;
    exposed_get(s, &x);
    char *best = NULL;
    size_t blen = 0;
    for (size_t i = 0; i < x.n && !best; i++) {
        if (x.info[i].state != SERVER_READY || template_only)
            continue;
        const cJSON *it;
        cJSON_ArrayForEach(it, engine_server_list(s->e, x.info[i].name, "resources")) {
            const char *u = str_item(it, "uri");
            if (u && strcmp(u, uri) == 0) {
                best = xstrdup(x.info[i].name);
                break;
            }
        }
    }
    for (size_t i = 0; i < x.n && !best; i++) {
        if (x.info[i].state != SERVER_READY)
            continue;
        const cJSON *it;
        cJSON_ArrayForEach(it, engine_server_list(s->e, x.info[i].name, "templates")) {
            const char *t = str_item(it, "uriTemplate");
            if (!t)
                continue;
            if (template_only) {
                if (strcmp(t, uri) == 0) {
                    best = xstrdup(x.info[i].name);
                    break;
                }
                continue;
            }
            size_t l = strcspn(t, "{");
            if (l > blen && strncmp(uri, t, l) == 0) {
                blen = l;
                free(best);
                best = xstrdup(x.info[i].name);
            }
        }
    }
    free(x.info);
    return best;
}

/* === list_changed === */

static void lists_hook(struct loop *l, void *payload)
{
    (void)l;
    struct serve *s = payload;
    if (!s->dirty)
        return;
    s->dirty = 0;
    uint64_t t = tools_collect(s, NULL);
    uint64_t r = list_collect(s, "resources", NULL) ^ (list_collect(s, "templates", NULL) * 31);
    uint64_t p = list_collect(s, "prompts", NULL);
    if (t != s->sig_tools)
        notify_all(s, "notifications/tools/list_changed", NULL);
    if (r != s->sig_resources)
        notify_all(s, "notifications/resources/list_changed", NULL);
    if (p != s->sig_prompts)
        notify_all(s, "notifications/prompts/list_changed", NULL);
    s->sig_tools = t;
    s->sig_resources = r;
    s->sig_prompts = p;
}

/* === engine events === */

static struct serve_pending *pending_for_job(struct serve *s, int64_t job, enum serve_wait w)
{
    for (struct serve_pending *p = s->pending; p; p = p->next)
        if (p->wait == w && p->job == job)
            return p;
    return NULL;
}

static void relay_log(struct serve *s, const char *server, const cJSON *params)
{
    const char *level = str_item(params, "level");
    int li = level ? level_index(level) : -1;
    if (li < 0)
        return;
    cJSON *m = cJSON_CreateObject();
    cJSON_AddStringToObject(m, "jsonrpc", "2.0");
    cJSON_AddStringToObject(m, "method", "notifications/message");
    cJSON *pp = cJSON_Duplicate(params, 1);
    const char *logger = str_item(params, "logger");
    char *lg = logger ? xasprintf("%s/%s", server, logger) : xstrdup(server);
    cJSON_DeleteItemFromObjectCaseSensitive(pp, "logger");
    cJSON_AddStringToObject(pp, "logger", lg);
    free(lg);
    cJSON_AddItemToObject(m, "params", pp);
    for (struct serve_session *ss = s->sessions; ss; ss = ss->next)
        if (ss->ready && li >= ss->log_level)
            serve_send_json(ss, m, NULL);
    cJSON_Delete(m);
}

static void on_event(void *payload, const struct engine_event *ev)
{
    struct serve *s = payload;
    struct serve_pending *p;
    switch (ev->kind) {
    case ENGINE_EV_JOB_PROGRESS:
        if ((p = pending_for_job(s, ev->job_id, SERVE_WAIT_JOB)))
            pending_progress(p, ev->progress, ev->total, ev->text);
        break;
    case ENGINE_EV_JOB_DONE:
        if ((p = pending_for_job(s, ev->job_id, SERVE_WAIT_JOB))) {
            cJSON *r;
            if (ev->result)      /* the tool's own answer, isError or not */
                r = cJSON_Duplicate(ev->result, 1);
            else
                r = serve_tool_error("%s", ev->text ? ev->text : job_status_name(ev->status));
            serve_pending_answer(p, r);
        }
        serve_tasks_job_done(s, ev->job_id);
        break;
    case ENGINE_EV_SERVER_STATE:
        if (ev->text && strncmp(ev->text, "notifications/", 14) == 0) {
            if (strcmp(ev->text, "notifications/message") == 0 && ev->server && ev->result)
                relay_log(s, ev->server, ev->result);
            break;
        }
        s->dirty = 1;
        break;
    case ENGINE_EV_SERVER_HEALTH:
        if (s->cfg->hide_open_breakers)
            s->dirty = 1;
        break;
    default:
        break;
    }
}

/* === methods === */

typedef void (*method_fn)(struct serve_session *ss, const cJSON *id, const char *idt,
                          const cJSON *params);

static void m_initialize(struct serve_session *ss, const cJSON *id, const char *idt,
                         const cJSON *params)
{
    const char *want = str_item(params, "protocolVersion");
    const char *v = versions[0];
    for (size_t i = 0; want && i < ARRAY_LEN(versions); i++)
        if (strcmp(want, versions[i]) == 0)
            v = versions[i];
    free(ss->protocol);
    ss->protocol = xstrdup(v);
    cJSON *r = cJSON_CreateObject();
    cJSON_AddStringToObject(r, "protocolVersion", v);
    cJSON *caps = cJSON_AddObjectToObject(r, "capabilities");
    cJSON_AddBoolToObject(cJSON_AddObjectToObject(caps, "tools"), "listChanged", 1);
    cJSON_AddBoolToObject(cJSON_AddObjectToObject(caps, "resources"), "listChanged", 1);
    cJSON_AddBoolToObject(cJSON_AddObjectToObject(caps, "prompts"), "listChanged", 1);
    cJSON_AddObjectToObject(caps, "logging");
    if (strcmp(v, "2024-11-05") != 0)
        cJSON_AddObjectToObject(caps, "completions");
    cJSON *info = cJSON_AddObjectToObject(r, "serverInfo");
    cJSON_AddStringToObject(info, "name", "mcpdeck");
    cJSON_AddStringToObject(info, "version", MCPDECK_VERSION);
    cJSON_AddStringToObject(r, "instructions",
                            "mcpdeck aggregates MCP servers: tools are named server__tool. "
                            "submit_task queues a tool or model task on mcpdeck's router and "
                            "queue; task_status, task_result and cancel_task follow it.");
    serve_respond(ss, id, idt, r);
    ss->ready = 1;
}

static void m_ping(struct serve_session *ss, const cJSON *id, const char *idt,
                   const cJSON *params)
{
    (void)params;
    serve_respond(ss, id, idt, cJSON_CreateObject());
}

static void m_tools_list(struct serve_session *ss, const cJSON *id, const char *idt,
                         const cJSON *params)
{
    (void)params;
    cJSON *r = cJSON_CreateObject();
    tools_collect(ss->s, cJSON_AddArrayToObject(r, "tools"));
    serve_respond(ss, id, idt, r);
}

static void call_progress(void *payload, double progress, double total, const char *message)
{
    pending_progress(payload, progress, total, message);
}

static void call_done(void *payload, const cJSON *result, const char *error)
{
    struct serve_pending *p = payload;
    serve_pending_answer(p, error ? serve_tool_error("%s", error) : cJSON_Duplicate(result, 1));
}

/* A downstream tool call: as a job, or straight to the server. */
static void call_downstream(struct serve_session *ss, const cJSON *id, const char *idt,
                            const cJSON *params, const struct engine_server_info *si,
                            const char *tool, const cJSON *args)
{
    struct serve *s = ss->s;
    if (breaker_open(si)) {
        char when[64] = "";
        if (si->breaker_retry_ms > 0) {
            int64_t left = si->breaker_retry_ms - util_wall_ms();
            snprintf(when, sizeof when, "; the next trial is in %lld s",
                     (long long)(left > 0 ? (left + 999) / 1000 : 0));
        }
        serve_respond(ss, id, idt,
                      serve_tool_error("server %s is unavailable: its circuit breaker is open "
                                       "after repeated failures (%s)%s",
                                       si->name, si->last_error ? si->last_error
                                                 : si->health_reason ? si->health_reason
                                                                     : "no detail",
                                       when));
        return;
    }
    if (si->state != SERVER_READY && si->state != SERVER_STARTING &&
        !(s->cfg->record_calls && si->state == SERVER_STOPPED)) {
        serve_respond(ss, id, idt,
                      serve_tool_error("server %s is %s: %s", si->name,
                                       server_state_name(si->state),
                                       si->last_error ? si->last_error : "not running"));
        return;
    }
    char *err = NULL;
    if (s->cfg->record_calls) {
        char *a = args ? cJSON_PrintUnformatted(args) : NULL;
        struct jobq_spec spec = {.batch = "serve", .server = si->name, .tool = tool,
                                 .args_json = a, .max_attempts = 1};
        int64_t job;
        int rc = engine_submit(s->e, &spec, &job, &err);
        cJSON_free(a);
        if (rc < 0) {
            serve_respond(ss, id, idt, serve_tool_error("%s", err));
            free(err);
            return;
        }
        struct serve_pending *p = serve_pending_new(ss, SERVE_WAIT_JOB, id, params);
        p->job = job;
        return;
    }
    struct serve_pending *p = serve_pending_new(ss, SERVE_WAIT_CALL, id, params);
    if (engine_call_ex(s->e, si->name, tool, args, call_progress, call_done, p, &p->handle,
                       &err) < 0) {
        serve_pending_answer(p, serve_tool_error("%s", err));
        free(err);
    }
}

static void m_tools_call(struct serve_session *ss, const cJSON *id, const char *idt,
                         const cJSON *params)
{
    struct serve *s = ss->s;
    const char *name = str_item(params, "name");
    const cJSON *args = cJSON_GetObjectItemCaseSensitive(params, "arguments");
    if (!name) {
        serve_respond_error(ss, id, idt, JSONRPC_INVALID_PARAMS, "tools/call needs a name");
        return;
    }
    if (args && !cJSON_IsObject(args) && !cJSON_IsNull(args)) {
        serve_respond_error(ss, id, idt, JSONRPC_INVALID_PARAMS, "arguments must be an object");
        return;
    }
    if (cJSON_IsNull(args))
        args = NULL;
    if (s->cfg->task_tools && serve_glob_pass(s->cfg->tools, s->cfg->ntools, name) &&
        serve_tasks_call(ss, name, args, id, params))
        return;
    struct exposed x;
    exposed_get(s, &x);
    const char *tool = NULL;
    const struct engine_server_info *si = owner_of(&x, name, &tool);
    if (!si || !serve_glob_pass(s->cfg->tools, s->cfg->ntools, name)) {
        char *m = xasprintf("Unknown tool: %s", name);
        serve_respond_error(ss, id, idt, JSONRPC_INVALID_PARAMS, m);
        free(m);
    } else {
        call_downstream(ss, id, idt, params, si, tool, args);
    }
    free(x.info);
}

static void m_list(struct serve_session *ss, const cJSON *id, const char *idt,
                   const char *which, const char *key)
{
    cJSON *r = cJSON_CreateObject();
    list_collect(ss->s, which, cJSON_AddArrayToObject(r, key));
    serve_respond(ss, id, idt, r);
}

static void m_resources_list(struct serve_session *ss, const cJSON *id, const char *idt,
                             const cJSON *params)
{
    (void)params;
    m_list(ss, id, idt, "resources", "resources");
}

static void m_templates_list(struct serve_session *ss, const cJSON *id, const char *idt,
                             const cJSON *params)
{
    (void)params;
    m_list(ss, id, idt, "templates", "resourceTemplates");
}

static void m_prompts_list(struct serve_session *ss, const cJSON *id, const char *idt,
                           const cJSON *params)
{
    (void)params;
    m_list(ss, id, idt, "prompts", "prompts");
}

static void request_done(void *payload, const cJSON *result, const char *error)
{
    struct serve_pending *p = payload;
    if (error) {
        if (p->s && p->ss && !p->cancelled)
            serve_respond_error(p->ss, p->id, p->id_text, JSONRPC_INTERNAL_ERROR, error);
        serve_pending_free(p);
        return;
    }
    serve_pending_answer(p, cJSON_Duplicate(result, 1));
}

/* Send method with params (taken) to server for the request id. */
static void forward(struct serve_session *ss, const cJSON *id, const char *idt,
                    const cJSON *orig, const char *server, const char *method, cJSON *params)
{
    char *err = NULL;
    struct serve_pending *p = serve_pending_new(ss, SERVE_WAIT_REQUEST, id, orig);
    if (engine_request(ss->s->e, server, method, params, request_done, p, &err) < 0) {
        serve_pending_free(p);
        serve_respond_error(ss, id, idt, JSONRPC_INTERNAL_ERROR, err);
        free(err);
    }
}

static void m_resources_read(struct serve_session *ss, const cJSON *id, const char *idt,
                             const cJSON *params)
{
    const char *uri = str_item(params, "uri");
    if (!uri) {
        serve_respond_error(ss, id, idt, JSONRPC_INVALID_PARAMS, "resources/read needs a uri");
        return;
    }
    char *server = resource_owner(ss->s, uri, 0);
    if (!server) {
        char *m = xasprintf("Resource not found: %s (no exposed server lists it)", uri);
        serve_respond_error(ss, id, idt, RESOURCE_NOT_FOUND, m);
        free(m);
        return;
    }
    forward(ss, id, idt, params, server, "resources/read", cJSON_Duplicate(params, 1));
    free(server);
}

/* A namespaced prompt name: its server (malloc'd) and the name there. */
static char *prompt_owner(struct serve *s, const char *full, const char **name)
{
    struct exposed x;
    exposed_get(s, &x);
    const struct engine_server_info *si = owner_of(&x, full, name);
    char *server = si && si->state == SERVER_READY ? xstrdup(si->name) : NULL;
    free(x.info);
    return server;
}

static void m_prompts_get(struct serve_session *ss, const cJSON *id, const char *idt,
                          const cJSON *params)
{
    const char *full = str_item(params, "name"), *name = NULL;
    char *server = full ? prompt_owner(ss->s, full, &name) : NULL;
    if (!server) {
        char *m = xasprintf("Unknown prompt: %s", full ? full : "(no name)");
        serve_respond_error(ss, id, idt, JSONRPC_INVALID_PARAMS, m);
        free(m);
        return;
    }
    cJSON *p = cJSON_Duplicate(params, 1);
    cJSON_ReplaceItemInObjectCaseSensitive(p, "name", cJSON_CreateString(name));
    forward(ss, id, idt, params, server, "prompts/get", p);
    free(server);
}

static void m_complete(struct serve_session *ss, const cJSON *id, const char *idt,
                       const cJSON *params)
{
    const cJSON *ref = cJSON_GetObjectItemCaseSensitive(params, "ref");
    const char *type = str_item(ref, "type");
    char *server = NULL;
    cJSON *p = cJSON_Duplicate(params, 1);
    if (type && strcmp(type, "ref/prompt") == 0 && str_item(ref, "name")) {
        const char *name = NULL;
        server = prompt_owner(ss->s, str_item(ref, "name"), &name);
        if (server)
            cJSON_ReplaceItemInObjectCaseSensitive(cJSON_GetObjectItemCaseSensitive(p, "ref"),
                                                   "name", cJSON_CreateString(name));
    } else if (type && strcmp(type, "ref/resource") == 0 && str_item(ref, "uri")) {
        server = resource_owner(ss->s, str_item(ref, "uri"), 1);
    }
    if (!server) {
        cJSON_Delete(p);
        serve_respond_error(ss, id, idt, JSONRPC_INVALID_PARAMS,
                            "completion/complete: the ref names no exposed prompt or "
                            "resource template");
        return;
    }
    forward(ss, id, idt, params, server, "completion/complete", p);
    free(server);
}

static void level_done(void *payload, const cJSON *result, const char *error)
{
    (void)payload;
    (void)result;
    (void)error;
}

static void m_set_level(struct serve_session *ss, const cJSON *id, const char *idt,
                        const cJSON *params)
{
    struct serve *s = ss->s;
    const char *level = str_item(params, "level");
    int li = level ? level_index(level) : -1;
    if (li < 0) {
        serve_respond_error(ss, id, idt, JSONRPC_INVALID_PARAMS,
                            "level must be one of debug, info, notice, warning, error, "
                            "critical, alert, emergency");
        return;
    }
    ss->log_level = li;
    free(s->down_level);
    s->down_level = xstrdup(level);
    struct exposed x;
    exposed_get(s, &x);
    for (size_t i = 0; i < x.n; i++) {
        if (x.info[i].state != SERVER_READY)
            continue;
        cJSON *p = cJSON_CreateObject();
        cJSON_AddStringToObject(p, "level", level);
        char *err = NULL;
        /* servers without the logging capability refuse: nothing to set */
        if (engine_request(s->e, x.info[i].name, "logging/setLevel", p, level_done, NULL,
                           &err) < 0)
            free(err);
    }
    free(x.info);
    serve_respond(ss, id, idt, cJSON_CreateObject());
}

static const struct {
    const char *method;
    method_fn fn;
} methods[] = {
    {"initialize", m_initialize},
    {"ping", m_ping},
    {"tools/list", m_tools_list},
    {"tools/call", m_tools_call},
    {"resources/list", m_resources_list},
    {"resources/templates/list", m_templates_list},
    {"resources/read", m_resources_read},
    {"prompts/list", m_prompts_list},
    {"prompts/get", m_prompts_get},
    {"completion/complete", m_complete},
    {"logging/setLevel", m_set_level},
};

/* === incoming messages === */

static void on_notification(struct serve_session *ss, const char *method, const cJSON *params)
{
    if (strcmp(method, "notifications/cancelled") != 0)
        return;              /* initialized, progress, roots/list_changed: nothing to do */
    const cJSON *rid = cJSON_GetObjectItemCaseSensitive(params, "requestId");
    if (!rid)
        return;
    char *t = cJSON_PrintUnformatted(rid);
    for (struct serve_pending *p = ss->s->pending; p; p = p->next)
        if (p->ss == ss && !p->cancelled && strcmp(p->id_text, t) == 0) {
            const char *why = str_item(params, "reason");
            pending_cancel_downstream(p, why ? why : "cancelled by the client");
            break;
        }
    cJSON_free(t);
}

static void handle_one(struct serve_session *ss, const cJSON *m)
{
    if (!cJSON_IsObject(m)) {
        serve_respond_error(ss, NULL, NULL, JSONRPC_INVALID_REQUEST,
                            "a JSON-RPC message must be an object");
        return;
    }
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(m, "id");
    const cJSON *method = cJSON_GetObjectItemCaseSensitive(m, "method");
    const cJSON *params = cJSON_GetObjectItemCaseSensitive(m, "params");
    if (!method) {
        if (!cJSON_GetObjectItemCaseSensitive(m, "result") &&
            !cJSON_GetObjectItemCaseSensitive(m, "error") && id)
            serve_respond_error(ss, id, NULL, JSONRPC_INVALID_REQUEST, "no method");
        return;              /* a response: mcpdeck sends no requests to clients */
    }
    if (!cJSON_IsString(method)) {
        serve_respond_error(ss, id, NULL, JSONRPC_INVALID_REQUEST, "method must be a string");
        return;
    }
    if (!id) {
        on_notification(ss, method->valuestring, params);
        return;
    }
    if (!cJSON_IsString(id) && !cJSON_IsNumber(id)) {
        serve_respond_error(ss, NULL, NULL, JSONRPC_INVALID_REQUEST,
                            "id must be a string or a number");
        return;
    }
    char *idt = cJSON_PrintUnformatted(id);
    size_t i;
    for (i = 0; i < ARRAY_LEN(methods); i++)
        if (strcmp(methods[i].method, method->valuestring) == 0)
            break;
    if (i == ARRAY_LEN(methods)) {
        char *msg = xasprintf("Method not found: %s", method->valuestring);
        serve_respond_error(ss, id, idt, JSONRPC_METHOD_NOT_FOUND, msg);
        free(msg);
    } else if (params && !cJSON_IsObject(params)) {
        serve_respond_error(ss, id, idt, JSONRPC_INVALID_PARAMS, "params must be an object");
    } else {
        methods[i].fn(ss, id, idt, params);
    }
    cJSON_free(idt);
}

void serve_session_receive(struct serve_session *ss, const char *json, size_t len)
{
    cJSON *m = cJSON_ParseWithLength(json, len);
    if (!m) {
        serve_respond_error(ss, NULL, NULL, JSONRPC_PARSE_ERROR, "Parse error");
        return;
    }
    if (cJSON_IsArray(m)) {
        if (!m->child)
            serve_respond_error(ss, NULL, NULL, JSONRPC_INVALID_REQUEST, "empty batch");
        const cJSON *it;
        cJSON_ArrayForEach(it, m) handle_one(ss, it);
    } else {
        handle_one(ss, m);
    }
    cJSON_Delete(m);
}

/* === lifecycle === */

struct serve *serve_new(struct engine *e, char **errmsg)
{
    (void)errmsg;                /* the config was checked when it was loaded */
    struct serve *s = xcalloc(1, sizeof *s);
    s->e = e;
    s->cfg = &engine_config(e)->serve;
    s->sig_tools = tools_collect(s, NULL);
    s->sig_resources = list_collect(s, "resources", NULL) ^
                       (list_collect(s, "templates", NULL) * 31);
    s->sig_prompts = list_collect(s, "prompts", NULL);
    engine_subscribe(e, on_event, s);
    loop_hook_add(engine_loop(e), lists_hook, s);
    return s;
}

void serve_free(struct serve *s)
{
    if (!s)
        return;
    while (s->sessions)
        serve_session_free(s->sessions);
    engine_unsubscribe(s->e, on_event, s);
    loop_hook_del(engine_loop(s->e), lists_hook, s);
    /* what is still pending belongs to no session: jobs and waits end
     * here; a request's callback may still come and frees its own */
    while (s->pending) {
        struct serve_pending *p = s->pending;
        if (p->wait == SERVE_WAIT_REQUEST || p->wait == SERVE_WAIT_CALL)
            pending_detach(p);
        else
            serve_pending_free(p);
    }
    free(s->down_level);
    free(s);
}

struct serve_session *serve_session_new(struct serve *s, serve_send_fn send, void *tpayload)
{
    struct serve_session *ss = xcalloc(1, sizeof *ss);
    ss->s = s;
    ss->send = send;
    ss->tpayload = tpayload;
    ss->log_level = 1;           /* info and above until logging/setLevel */
    ss->next = s->sessions;
    s->sessions = ss;
    return ss;
}

void serve_session_free(struct serve_session *ss)
{
    if (!ss)
        return;
    struct serve *s = ss->s;
    for (struct serve_session **pp = &s->sessions; *pp; pp = &(*pp)->next)
        if (*pp == ss) {
            *pp = ss->next;
            break;
        }
    /* cancel its requests downstream; each step may free pending entries,
     * so look again from the start after each */
    for (;;) {
        struct serve_pending *p = s->pending;
        while (p && (p->ss != ss || p->cancelled))
            p = p->next;
        if (!p)
            break;
        pending_cancel_downstream(p, "the client went away");
    }
    for (struct serve_pending *p = s->pending; p; p = p->next)
        if (p->ss == ss)
            p->ss = NULL;        /* their answers are dropped */
    free(ss->protocol);
    free(ss);
}

int serve_session_ready(const struct serve_session *ss)
{
    return ss->ready;
}

const char *serve_session_protocol(const struct serve_session *ss)
{
    return ss->protocol;
}

size_t serve_session_pending(const struct serve_session *ss)
{
    return ss->npending;
}
