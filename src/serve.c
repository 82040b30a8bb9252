/* serve.c — the aggregate MCP server over the engine (see serve.h).
 *
 * A session takes JSON-RPC messages from its transport and answers them
 * through the transport's send function; the responses it gets are its
 * answers to relayed server requests (serve_relay.c). Lists (tools,
 * resources, templates, prompts) are built on request from the engine's
 * snapshots of the exposed servers, names namespaced "server__name", and
 * answered a page at a time (serve_lists.c). A tool call is
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
#include "jsonw.h"

#include "config.h"
#include "engine.h"
#include "jsonr.h"
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
    struct buf *b = &ss->out;    /* reused: the transport's send copies the text */
    buf_reuse(b);
    if (jsonw_value(b, msg) == 0)
        ss->send(ss->tpayload, b->data, b->len, related);
}

/* result is taken; with ref set it is only lent (printed, not freed). */
static void respond(struct serve_session *ss, const cJSON *id, const char *related,
                    cJSON *result, int ref)
{
    cJSON *m = cJSON_CreateObject();
    cJSON_AddStringToObject(m, "jsonrpc", "2.0");
    if (id)
        cJSON_AddItemReferenceToObject(m, "id", (cJSON *)id);
    else
        cJSON_AddNullToObject(m, "id");
    if (result && ref)
        cJSON_AddItemReferenceToObject(m, "result", result);
    else
        cJSON_AddItemToObject(m, "result", result ? result : cJSON_CreateObject());
    serve_send_json(ss, m, related);
    cJSON_Delete(m);
}

void serve_respond(struct serve_session *ss, const cJSON *id, const char *related, cJSON *result)
{
    respond(ss, id, related, result, 0);
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

void serve_notify(struct serve_session *ss, const char *method, cJSON *params,
                  const char *related)
{
    cJSON *m = cJSON_CreateObject();
    cJSON_AddStringToObject(m, "jsonrpc", "2.0");
    cJSON_AddStringToObject(m, "method", method);
    if (params)
        cJSON_AddItemToObject(m, "params", params);
    serve_send_json(ss, m, related);
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
    p->id_text = jsonw_print(id);
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
    if (p->s)
        serve_relay_pending_gone(p);
    pending_detach(p);
    free(p->server);
    free(p->uri);
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

/* The same with a result that stays its owner's (a downstream answer is
 * printed from the engine's tree, not from a copy). */
static void pending_answer_lent(struct serve_pending *p, const cJSON *result)
{
    if (p->s && p->ss && !p->cancelled)
        respond(p->ss, p->id, p->id_text, (cJSON *)result, result != NULL);
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
    case SERVE_WAIT_SUBSCRIBE:
        break;
    }
}

/* === list_changed === */

static void lists_hook(struct loop *l, void *payload)
{
    (void)l;
    struct serve *s = payload;
    if (!s->dirty)
        return;
    s->dirty = 0;
    uint64_t t = serve_tools_collect(s, NULL);
    uint64_t r = serve_list_collect(s, "resources", NULL) ^ (serve_list_collect(s, "templates", NULL) * 31);
    uint64_t p = serve_list_collect(s, "prompts", NULL);
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
    const char *level = serve_str(params, "level");
    int li = level ? level_index(level) : -1;
    if (li < 0)
        return;
    cJSON *m = cJSON_CreateObject();
    cJSON_AddStringToObject(m, "jsonrpc", "2.0");
    cJSON_AddStringToObject(m, "method", "notifications/message");
    cJSON *pp = cJSON_Duplicate(params, 1);
    const char *logger = serve_str(params, "logger");
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
            if (!ev->server || !ev->result)
                break;
            if (strcmp(ev->text, "notifications/message") == 0)
                relay_log(s, ev->server, ev->result);
            else if (strcmp(ev->text, "notifications/resources/updated") == 0)
                serve_subs_updated(s, ev->server, ev->result);
            else if (strcmp(ev->text, "notifications/cancelled") == 0)
                serve_relay_server_cancelled(s, ev->server, ev->result);
            break;
        }
        if (ev->server)
            serve_subs_server_state(s, ev->server);
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
    const char *want = serve_str(params, "protocolVersion");
    const char *v = versions[0];
    for (size_t i = 0; want && i < ARRAY_LEN(versions); i++)
        if (strcmp(want, versions[i]) == 0)
            v = versions[i];
    free(ss->protocol);
    ss->protocol = xstrdup(v);
    /* what server requests may be relayed to it (serve_relay.c): sampling,
     * and elicitation in form mode (an empty elicitation object means form) */
    const cJSON *ccaps = cJSON_GetObjectItemCaseSensitive(params, "capabilities");
    const cJSON *el = cJSON_GetObjectItemCaseSensitive(ccaps, "elicitation");
    ss->can_sample = cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(ccaps, "sampling"));
    ss->can_elicit = cJSON_IsObject(el) && strcmp(v, "2025-06-18") >= 0 &&
                     (cJSON_GetObjectItemCaseSensitive(el, "form") ||
                      !cJSON_GetObjectItemCaseSensitive(el, "url"));
    cJSON *r = cJSON_CreateObject();
    cJSON_AddStringToObject(r, "protocolVersion", v);
    cJSON *caps = cJSON_AddObjectToObject(r, "capabilities");
    cJSON_AddBoolToObject(cJSON_AddObjectToObject(caps, "tools"), "listChanged", 1);
    cJSON *res = cJSON_AddObjectToObject(caps, "resources");
    if (serve_subs_available(ss->s))
        cJSON_AddBoolToObject(res, "subscribe", 1);
    cJSON_AddBoolToObject(res, "listChanged", 1);
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

static void call_progress(void *payload, double progress, double total, const char *message)
{
    pending_progress(payload, progress, total, message);
}

static void call_done(void *payload, const cJSON *result, const char *error)
{
    struct serve_pending *p = payload;
    if (error)
        serve_pending_answer(p, serve_tool_error("%s", error));
    else
        pending_answer_lent(p, result);
}

/* A downstream tool call: as a job, or straight to the server. */
static void call_downstream(struct serve_session *ss, const cJSON *id, const char *idt,
                            const cJSON *params, const struct engine_server_info *si,
                            const char *tool, const cJSON *args)
{
    struct serve *s = ss->s;
    if (serve_breaker_open(si)) {
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
        char *a = args ? jsonw_print(args) : NULL;
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
        p->server = xstrdup(si->name);
        return;
    }
    struct serve_pending *p = serve_pending_new(ss, SERVE_WAIT_CALL, id, params);
    p->server = xstrdup(si->name);
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
    const char *name = serve_str(params, "name");
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
    struct serve_exposed x;
    serve_exposed_get(s, &x);
    const char *tool = NULL;
    const struct engine_server_info *si = serve_owner_of(&x, name, &tool);
    if (!si || !serve_glob_pass(s->cfg->tools, s->cfg->ntools, name)) {
        char *m = xasprintf("Unknown tool: %s", name);
        serve_respond_error(ss, id, idt, JSONRPC_INVALID_PARAMS, m);
        free(m);
    } else {
        call_downstream(ss, id, idt, params, si, tool, args);
    }
    free(x.info);
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
    pending_answer_lent(p, result);
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
    const char *uri = serve_str(params, "uri");
    if (!uri) {
        serve_respond_error(ss, id, idt, JSONRPC_INVALID_PARAMS, "resources/read needs a uri");
        return;
    }
    char *server = serve_resource_owner(ss->s, uri, 0);
    if (!server) {
        char *m = xasprintf("Resource not found: %s (no exposed server lists it)", uri);
        serve_respond_error(ss, id, idt, RESOURCE_NOT_FOUND, m);
        free(m);
        return;
    }
    forward(ss, id, idt, params, server, "resources/read", cJSON_Duplicate(params, 1));
    free(server);
}

static void m_prompts_get(struct serve_session *ss, const cJSON *id, const char *idt,
                          const cJSON *params)
{
    const char *full = serve_str(params, "name"), *name = NULL;
    char *server = full ? serve_prompt_owner(ss->s, full, &name) : NULL;
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
    const char *type = serve_str(ref, "type");
    char *server = NULL;
    cJSON *p = cJSON_Duplicate(params, 1);
    if (type && strcmp(type, "ref/prompt") == 0 && serve_str(ref, "name")) {
        const char *name = NULL;
        server = serve_prompt_owner(ss->s, serve_str(ref, "name"), &name);
        if (server)
            cJSON_ReplaceItemInObjectCaseSensitive(cJSON_GetObjectItemCaseSensitive(p, "ref"),
                                                   "name", cJSON_CreateString(name));
    } else if (type && strcmp(type, "ref/resource") == 0 && serve_str(ref, "uri")) {
        server = serve_resource_owner(ss->s, serve_str(ref, "uri"), 1);
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
    const char *level = serve_str(params, "level");
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
    struct serve_exposed x;
    serve_exposed_get(s, &x);
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

static void m_tools_list(struct serve_session *ss, const cJSON *id, const char *idt,
                         const cJSON *params)
{
    serve_lists_answer(ss, id, idt, params, "tools");
}

static void m_resources_list(struct serve_session *ss, const cJSON *id, const char *idt,
                             const cJSON *params)
{
    serve_lists_answer(ss, id, idt, params, "resources");
}

static void m_templates_list(struct serve_session *ss, const cJSON *id, const char *idt,
                             const cJSON *params)
{
    serve_lists_answer(ss, id, idt, params, "templates");
}

static void m_prompts_list(struct serve_session *ss, const cJSON *id, const char *idt,
                           const cJSON *params)
{
    serve_lists_answer(ss, id, idt, params, "prompts");
}

static void m_subscribe(struct serve_session *ss, const cJSON *id, const char *idt,
                        const cJSON *params)
{
    serve_subs_request(ss, id, idt, params, 1);
}

static void m_unsubscribe(struct serve_session *ss, const cJSON *id, const char *idt,
                          const cJSON *params)
{
    serve_subs_request(ss, id, idt, params, 0);
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
    {"resources/subscribe", m_subscribe},
    {"resources/unsubscribe", m_unsubscribe},
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
    char *t = jsonw_print(rid);
    for (struct serve_pending *p = ss->s->pending; p; p = p->next)
        if (p->ss == ss && !p->cancelled && strcmp(p->id_text, t) == 0) {
            const char *why = serve_str(params, "reason");
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
        else
            serve_relay_response(ss, m);   /* one we do not know is ignored */
        return;
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
    char *idt = jsonw_print(id);
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
    cJSON *m = jsonr_parse(json, len);
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
    s->sig_tools = serve_tools_collect(s, NULL);
    s->sig_resources = serve_list_collect(s, "resources", NULL) ^
                       (serve_list_collect(s, "templates", NULL) * 31);
    s->sig_prompts = serve_list_collect(s, "prompts", NULL);
    engine_subscribe(e, on_event, s);
    engine_set_request_claim(e, serve_relay_claim, s);
    loop_hook_add(engine_loop(e), lists_hook, s);
    return s;
}

void serve_free(struct serve *s)
{
    if (!s)
        return;
    while (s->sessions)
        serve_session_free(s->sessions);
    serve_relay_session_gone(s, NULL);
    serve_subs_session_gone(s, NULL);
    engine_set_request_claim(s->e, NULL, NULL);
    engine_unsubscribe(s->e, on_event, s);
    loop_hook_del(engine_loop(s->e), lists_hook, s);
    /* what is still pending belongs to no session: jobs and waits end
     * here; a request's callback may still come and frees its own */
    while (s->pending) {
        struct serve_pending *p = s->pending;
        if (p->wait == SERVE_WAIT_REQUEST || p->wait == SERVE_WAIT_CALL ||
            p->wait == SERVE_WAIT_SUBSCRIBE)
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
    buf_init(&ss->out);
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
    serve_relay_session_gone(s, ss);
    serve_subs_session_gone(s, ss);
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
    buf_fini(&ss->out);
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
