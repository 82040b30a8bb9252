/* engine_call.c — calls outside the job queue: a tool call made directly
 * (engine_call, engine_call_ex: `mcpdeck call`, serve), any other request
 * to a server (engine_request: resources/read, prompts/get, completion,
 * subscribe), and the checks and waits that go with them (a tool's
 * arguments against its input schema, a tool that appears after
 * list_changed). Answers are redacted before the caller sees them, as
 * stored results are (engine.c). */
#include "engine_int.h"
#include "jsonschema.h"

#include <stdlib.h>
#include <string.h>

int engine_check_args(struct engine *e, const char *server, const char *tool,
                      const cJSON *args, char **errmsg)
{
    struct server *s = engine_server_find(e, server);
    const struct mcp_tool *t = s && s->client ? mcp_client_find_tool(s->client, tool) : NULL;
    if (!t) {
        *errmsg = xasprintf("server %s has no tool '%s'", server, tool);
        return -1;
    }
    if (!t->input_schema)
        return 0;
    char *why = NULL;
    if (jsonschema_validate(t->input_schema, args, "args", &why) == 0)
        return 0;
    *errmsg = xasprintf("arguments for %s.%s do not match its input schema: %s", server, tool,
                        why);
    free(why);
    return -1;
}

/* Hand cb what a server answered as callers may show it: secrets
 * redacted, in a copy only when there is something to redact. */
static void answer_redacted(engine_call_cb cb, void *payload, const cJSON *result,
                            const char *error)
{
    char *err = error ? redact_string(error) : NULL;
    cJSON *copy = NULL;
    if (result && redact_json_needed(result)) {
        copy = cJSON_Duplicate(result, 1);
        redact_json(copy);
    }
    cb(payload, copy ? copy : result, err);
    cJSON_Delete(copy);
    free(err);
}

static void direct_progress(void *payload, double progress, double total, const char *message)
{
    struct direct_call *d = payload;
    if (!d->progress)
        return;
    char *clean = message ? redact_string(message) : NULL;
    d->progress(d->payload, progress, total, clean);
    free(clean);
}

static void direct_answer(void *payload, const cJSON *result, const char *error)
{
    struct direct_call *d = payload;
    struct engine *e = d->srv->e;
    for (struct direct_call **pp = &e->directs; *pp; pp = &(*pp)->next)
        if (*pp == d) {
            *pp = d->next;
            break;
        }
    struct log_ctx ctx = {0, d->srv->name, 0};
    if (error)
        log_write(LOG_LEVEL_WARN, &ctx, "call %s failed: %s", d->tool, error);
    else
        log_write(LOG_LEVEL_DEBUG, &ctx, "call %s answered%s", d->tool,
                  mcp_result_is_error(result) ? " with isError" : "");
    engine_health_call(d->srv, error && engine_error_is_fault(error),
                       util_now_ms() - d->sent_ms);
    engine_metrics_call(d->srv, d->tool, error || mcp_result_is_error(result),
                        util_now_ms() - d->sent_ms);
    free(d->tool);
    d->srv->calls++;
    e->calls++;
    if (error || mcp_result_is_error(result)) {
        d->srv->errors++;
        e->errors++;
    }
    answer_redacted(d->cb, d->payload, result, error);
    free(d);
}

int engine_call_ex(struct engine *e, const char *server, const char *tool, const cJSON *args,
                   engine_progress_cb progress, engine_call_cb cb, void *payload,
                   uint64_t *handle, char **errmsg)
{
    struct server *s = engine_server_find(e, server);
    if (!s) {
        *errmsg = xasprintf("unknown server '%s'", server);
        return -1;
    }
    if (s->state != SERVER_READY || !s->client) {
        *errmsg = xasprintf("server %s is not ready: %s", server,
                            s->last_error ? s->last_error : server_state_name(s->state));
        return -1;
    }
    if (!mcp_client_find_tool(s->client, tool)) {
        *errmsg = xasprintf("server %s has no tool '%s'", server, tool);
        return -1;
    }
    if (engine_policy_check(e, server, tool, errmsg) != 0)
        return -1;
    if (engine_breaker_allow(s, errmsg) < 0)
        return -1;
    struct direct_call *d = xcalloc(1, sizeof *d);
    d->srv = s;
    d->tool = xstrdup(tool);
    d->sent_ms = util_now_ms();
    d->cb = cb;
    d->progress = progress;
    d->payload = payload;
    d->handle = ++e->next_handle;
    d->next = e->directs;
    e->directs = d;
    if (handle)
        *handle = d->handle;
    uint64_t h = d->handle;
    struct mcp_call_opts o = {engine_idle_timeout(s), e->cfg->queue_timeout_ms, direct_progress};
    if (o.timeout_ms > o.max_ms && o.max_ms > 0)
        o.timeout_ms = o.max_ms;
    int64_t id = mcp_client_call_tool(s->client, tool, args, &o, direct_answer, d, errmsg);
    if (id < 0) {
        breaker_release(&s->breaker);
        e->directs = d->next;        /* still first: nothing ran in between */
        free(d->tool);
        free(d);
        return -1;
    }
    /* d may already be answered and freed (a built-in answering at once) */
    for (struct direct_call *k = e->directs; k; k = k->next)
        if (k->handle == h) {
            k->reqid = id;
            break;
        }
    return 0;
}

void engine_call_cancel(struct engine *e, uint64_t handle, const char *reason)
{
    for (struct direct_call *d = e->directs; d; d = d->next)
        if (d->handle == handle) {
            if (d->reqid > 0 && d->srv->client)
                mcp_client_cancel(d->srv->client, d->reqid, reason);
            return;
        }
}

int engine_call(struct engine *e, const char *server, const char *tool, const cJSON *args,
                engine_call_cb cb, void *payload, char **errmsg)
{
    struct server *s = engine_server_find(e, server);
    if (!s) {
        *errmsg = xasprintf("unknown server '%s'", server);
        return -1;
    }
    if (s->state != SERVER_READY) {
        *errmsg = xasprintf("server %s is not ready: %s", server,
                            s->last_error ? s->last_error : server_state_name(s->state));
        return -1;
    }
    if (!engine_wait_tool(e, server, tool, 1500)) {
        *errmsg = xasprintf("server %s has no tool '%s'", server, tool);
        return -1;
    }
    return engine_call_ex(e, server, tool, args, NULL, cb, payload, NULL, errmsg);
}

struct request_call {
    engine_call_cb cb;
    void *payload;
};

static void request_answer(void *payload, const cJSON *result, const char *error)
{
    struct request_call *q = payload;
    answer_redacted(q->cb, q->payload, result, error);
    free(q);
}

int engine_request(struct engine *e, const char *server, const char *method, cJSON *params,
                   engine_call_cb cb, void *payload, char **errmsg)
{
    struct server *s = engine_server_find(e, server);
    if (!s || s->state != SERVER_READY) {
        cJSON_Delete(params);
        *errmsg = s ? xasprintf("server %s is not ready: %s", server,
                                s->last_error ? s->last_error : server_state_name(s->state))
                    : xasprintf("unknown server '%s'", server);
        return -1;
    }
    struct request_call *q = xmalloc(sizeof *q);
    q->cb = cb;
    q->payload = payload;
    if (mcp_client_request(s->client, method, params, engine_idle_timeout(s), request_answer, q,
                           errmsg) < 0) {
        free(q);
        return -1;
    }
    return 0;
}

int engine_wait_tool(struct engine *e, const char *server, const char *tool, int timeout_ms)
{
    int64_t end = util_now_ms() + timeout_ms;
    for (;;) {
        struct server *s = engine_server_find(e, server);
        if (!s || !s->client)
            return 0;
        if (mcp_client_find_tool(s->client, tool))
            return 1;
        int64_t left = end - util_now_ms();
        if (left <= 0 || s->state != SERVER_READY || e->interrupted)
            return 0;
        loop_run_once(e->loop, left < 50 ? left : 50);
    }
}
