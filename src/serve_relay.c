/* serve_relay.c — requests a downstream server sends while it works on a
 * call an outer client made through serve (sampling/createMessage,
 * elicitation/create) go to that outer client, and its answer goes back
 * down.
 *
 * The engine offers every such request to serve_relay_claim (its claim
 * hook) with the calls in flight on that server: the tool tasks (jobs)
 * and the direct calls. A stdio message carries no link to the call that
 * caused it, so the request is relayed only when every call in flight
 * on that server is a pending outer call of one and the same session,
 * no model task is running (its tool calls are not listed), and that
 * session declared the capability in its initialize (sampling; or
 * elicitation in form mode, from protocol 2025-06-18). Anything else is
 * left to the engine: sampling by the configured model (sampling.allow),
 * elicitation by the TUI's or the batch's handler.
 *
 * The request goes to the outer client with an id of serve's own and the
 * related id of the outer call when it is the only one (HTTP sends it on
 * that POST's stream), else as a general message. The client's response
 * is passed down as it is; an accepted elicitation gets the schema's
 * defaults filled in first (mcpdeck declared applyDefaults downstream).
 * A relay ends with an error downstream when the outer session closes,
 * when the outer call it came from ends, or after serve.relay_timeout
 * (the outer client is told with notifications/cancelled); a server's
 * notifications/cancelled for it is passed up the same way. */
#include "serve_int.h"
#include "jsonw.h"

#include "config.h"
#include "engine.h"
#include "jsonrpc.h"
#include "jsonschema.h"
#include "log.h"
#include "loop.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

struct serve_relay {
    struct serve *s;
    struct serve_session *ss;
    struct serve_pending *p;     /* the outer call it came from, when it was the only one */
    uint64_t handle;             /* the engine's, to answer downstream */
    int64_t out_id;              /* the id the outer client sees */
    char *server;
    char *method;
    char *down_id;               /* the server's request id (JSON text) */
    cJSON *schema;               /* elicitation: requestedSchema */
    uint64_t timer;
    struct serve_relay *next;
};

static void relay_free(struct serve_relay *r)
{
    struct serve *s = r->s;
    for (struct serve_relay **pp = &s->relays; *pp; pp = &(*pp)->next)
        if (*pp == r) {
            *pp = r->next;
            break;
        }
    if (r->timer)
        loop_timer_del(engine_loop(s->e), r->timer);
    free(r->server);
    free(r->method);
    cJSON_free(r->down_id);
    cJSON_Delete(r->schema);
    free(r);
}

/* Tell the outer client to stop (notifications/cancelled), answer the
 * server with an error (code 0: not at all), and forget r. */
static void relay_end(struct serve_relay *r, const char *why, int code)
{
    struct serve *s = r->s;
    if (r->ss) {
        cJSON *params = cJSON_CreateObject();
        cJSON_AddNumberToObject(params, "requestId", (double)r->out_id);
        cJSON_AddStringToObject(params, "reason", why);
        serve_notify(r->ss, "notifications/cancelled", params, r->p ? r->p->id_text : NULL);
    }
    char *m = code ? xasprintf("%s relayed to mcpdeck's client: %s", r->method, why) : NULL;
    engine_server_request_reply(s->e, r->handle, NULL, code, m);
    free(m);
    struct log_ctx ctx = {0, r->server, 0};
    log_write(LOG_LEVEL_INFO, &ctx, "serve: relayed %s ended: %s", r->method, why);
    relay_free(r);
}

static void relay_timeout(struct loop *l, uint64_t id, void *payload)
{
    (void)l;
    (void)id;
    struct serve_relay *r = payload;
    r->timer = 0;
    char *why = xasprintf("the client did not answer within %d s (serve.relay_timeout)",
                          r->s->cfg->relay_timeout_ms / 1000);
    relay_end(r, why, JSONRPC_INTERNAL_ERROR);
    free(why);
}

/* The pending outer call waiting for job (or, job 0, the direct call
 * handle); NULL when none. */
static struct serve_pending *pending_of(struct serve *s, int64_t job, uint64_t handle)
{
    for (struct serve_pending *p = s->pending; p; p = p->next)
        if (job ? p->wait == SERVE_WAIT_JOB && p->job == job
                : p->wait == SERVE_WAIT_CALL && p->handle == handle)
            return p;
    return NULL;
}

/* The one outer session every call of q belongs to (*only: the call,
 * when there is one), or NULL. */
static struct serve_session *session_of(struct serve *s, const struct engine_server_request *q,
                                        struct serve_pending **only)
{
    struct serve_session *ss = NULL;
    size_t n = q->njobs + q->ncalls;
    if (q->model_tasks || n == 0)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        struct serve_pending *p = i < q->njobs ? pending_of(s, q->jobs[i], 0)
                                               : pending_of(s, 0, q->calls[i - q->njobs]);
        if (!p || !p->ss || p->cancelled || (ss && p->ss != ss))
            return NULL;
        ss = p->ss;
        *only = p;
    }
    if (n > 1)
        *only = NULL;
    return ss;
}

int serve_relay_claim(void *payload, const struct engine_server_request *q)
{
    struct serve *s = payload;
    int sampling = strcmp(q->method, "sampling/createMessage") == 0;
    if (!sampling && strcmp(q->method, "elicitation/create") != 0)
        return 0;
    struct serve_pending *only = NULL;
    struct serve_session *ss = session_of(s, q, &only);
    if (!ss || !ss->ready || !(sampling ? ss->can_sample : ss->can_elicit))
        return 0;
    struct serve_relay *r = xcalloc(1, sizeof *r);
    r->s = s;
    r->ss = ss;
    r->p = only;
    r->handle = q->handle;
    r->out_id = ++s->next_relay;
    r->server = xstrdup(q->server);
    r->method = xstrdup(q->method);
    r->down_id = jsonw_print(q->id);
    if (!sampling) {
        const cJSON *schema = cJSON_GetObjectItemCaseSensitive(q->params, "requestedSchema");
        r->schema = schema ? cJSON_Duplicate(schema, 1) : NULL;
    }
    r->next = s->relays;
    s->relays = r;
    r->timer = loop_timer_add(engine_loop(s->e), s->cfg->relay_timeout_ms, relay_timeout, r);
    struct log_ctx ctx = {0, q->server, 0};
    log_write(LOG_LEVEL_INFO, &ctx, "serve: %s relayed to the outer client (request %lld)",
              q->method, (long long)r->out_id);
    cJSON *m = cJSON_CreateObject();
    cJSON_AddStringToObject(m, "jsonrpc", "2.0");
    cJSON_AddNumberToObject(m, "id", (double)r->out_id);
    cJSON_AddStringToObject(m, "method", q->method);
    cJSON_AddItemToObject(m, "params",
                          q->params ? cJSON_Duplicate(q->params, 1) : cJSON_CreateObject());
    serve_send_json(ss, m, only ? only->id_text : NULL);
    cJSON_Delete(m);
    return 1;
}

int serve_relay_response(struct serve_session *ss, const cJSON *msg)
{
    struct serve *s = ss->s;
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(msg, "id");
    if (!cJSON_IsNumber(id))
        return 0;
    struct serve_relay *r = s->relays;
    while (r && !(r->ss == ss && (double)r->out_id == id->valuedouble))
        r = r->next;
    if (!r)
        return 0;
    const cJSON *result = cJSON_GetObjectItemCaseSensitive(msg, "result");
    const cJSON *error = cJSON_GetObjectItemCaseSensitive(msg, "error");
    if (cJSON_IsObject(result)) {
        cJSON *res = cJSON_Duplicate(result, 1);
        const cJSON *action = cJSON_GetObjectItemCaseSensitive(res, "action");
        cJSON *content = cJSON_GetObjectItemCaseSensitive(res, "content");
        if (r->schema && cJSON_IsString(action) && strcmp(action->valuestring, "accept") == 0 &&
            cJSON_IsObject(content))
            jsonschema_apply_defaults(r->schema, content);
        engine_server_request_reply(s->e, r->handle, res, 0, NULL);
    } else {
        const cJSON *code = cJSON_GetObjectItemCaseSensitive(error, "code");
        const cJSON *message = cJSON_GetObjectItemCaseSensitive(error, "message");
        engine_server_request_reply(s->e, r->handle, NULL,
                                    cJSON_IsNumber(code) && code->valueint ? code->valueint
                                                                           : JSONRPC_INTERNAL_ERROR,
                                    cJSON_IsString(message) ? message->valuestring
                                                            : "the client answered with an error");
    }
    relay_free(r);
    return 1;
}

void serve_relay_server_cancelled(struct serve *s, const char *server, const cJSON *params)
{
    const cJSON *rid = cJSON_GetObjectItemCaseSensitive(params, "requestId");
    if (!rid)
        return;
    char *t = jsonw_print(rid);
    struct serve_relay *r = s->relays;
    while (r && !(strcmp(r->server, server) == 0 && strcmp(r->down_id, t) == 0))
        r = r->next;
    cJSON_free(t);
    if (r) {
        const char *why = serve_str(params, "reason");
        relay_end(r, why ? why : "the server cancelled it", 0);
    }
}

void serve_relay_pending_gone(struct serve_pending *p)
{
    struct serve *s = p->s;
    for (;;) {
        struct serve_relay *r = s->relays;
        while (r && r->p != p)
            r = r->next;
        if (!r)
            return;
        r->p = NULL;             /* its stream is over: the cancel goes out as a general message */
        relay_end(r, "the call it came from is over", JSONRPC_INTERNAL_ERROR);
    }
}

void serve_relay_session_gone(struct serve *s, struct serve_session *ss)
{
    for (;;) {
        struct serve_relay *r = s->relays;
        while (r && ss && r->ss != ss)
            r = r->next;
        if (!r)
            return;
        r->ss = NULL;            /* nothing more goes to it */
        relay_end(r, "the client that was asked went away", JSONRPC_INTERNAL_ERROR);
    }
}
