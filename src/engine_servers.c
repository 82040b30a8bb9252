/* engine_servers.c — the engine's MCP sessions: starting a server,
 * following its client's state (ready, closed), restarting a crashed one
 * with backoff, and answering what servers ask of the user
 * (elicitation). Requests a server sends (sampling, elicitation) are
 * offered first to a claim hook (serve relays them to its own clients)
 * with the calls in flight on that server. A server's last error is
 * redacted when it is set: it is shown, stored with the jobs it fails,
 * and logged. */
#include "engine_int.h"
#include "llm.h"

/* === servers === */

static void server_set(struct server *s, enum server_state st, const char *error)
{
    if (error) {
        free(s->last_error);
        s->last_error = redact_string(error);
    }
    s->state = st;
    engine_schedule_poke(s->e);  /* a per-server limit may let a job through */
    engine_emit_server(s->e, s);
}

void engine_server_release_parked(struct server *s)
{
    while (s->parked) {
        struct run *r = s->parked;
        s->parked = r->next;
        r->next = s->e->runs;
        s->e->runs = r;
        if (s->state == SERVER_READY) {
            engine_run_dispatch(r);
        } else {
            char *m = xasprintf("server %s is not available: %s", s->name,
                                s->last_error ? s->last_error : server_state_name(s->state));
            engine_run_finish(r, NULL, m, 1);
            free(m);
        }
    }
}


static void restart_cb(struct loop *l, uint64_t id, void *payload)
{
    struct server *s = payload;
    s->restart_timer = 0;
    char *err = NULL;
    if (s->state == SERVER_FAILED && engine_server_start(s, &err) < 0)
        free(err);
}

static void client_state(void *payload, struct mcp_client *c, enum mcp_client_state st,
                         const char *error)
{
    struct server *s = payload;
    if (st == MCP_CLIENT_READY) {
        s->ready_since = util_now_ms();
        char *perr = NULL;
        if (engine_profile_resolve(s, &perr) < 0)
            free(perr);                  /* the config was checked at start-up */
        if (log_enabled(LOG_LEVEL_INFO)) {
            const struct mcp_tool *tools;
            struct log_ctx ctx = {0, s->name, 0};
            struct log_kv kv[] = {LOG_STR("protocol", mcp_client_protocol(c)),
                                  LOG_INT("tools", (int64_t)mcp_client_tools(c, &tools)),
                                  LOG_INT("restarts", s->restarts)};
            log_write_kv(LOG_LEVEL_INFO, &ctx, kv, ARRAY_LEN(kv), "server ready");
        }
        server_set(s, SERVER_READY, NULL);
        engine_health_ready(s);
        engine_server_release_parked(s);
    } else if (st == MCP_CLIENT_CLOSED) {
        int was_ready = s->state == SERVER_READY;
        server_set(s, SERVER_FAILED, error);
        engine_log_server(LOG_LEVEL_WARN, s, "server %s: %s", was_ready ? "went down" : "failed",
                          s->last_error ? s->last_error : "the session closed");
        engine_health_down(s, error);
        /* A server that dies after working is restarted with exponential
         * backoff (1 s, 2 s, ... 60 s); a minute of good health resets it.
         * One that never came up waits for the next job to try again. */
        if (was_ready && !s->builtin && !s->restart_timer) {
            if (util_now_ms() - s->ready_since > 60000)
                s->crashes = 0;
            int64_t delay = 1000LL << (s->crashes < 6 ? s->crashes : 6);
            if (delay > 60000)
                delay = 60000;
            s->crashes++;
            s->restart_timer = loop_timer_add(s->e->loop, delay, restart_cb, s);
            engine_log_server(LOG_LEVEL_INFO, s, "server will be restarted in %lld ms",
                              (long long)delay);
        }
        if (!s->restart_timer)
            engine_server_release_parked(s);
    }
}

void engine_elicit_free(struct engine_elicit *q)
{
    cJSON_Delete(q->id);
    cJSON_Delete(q->schema);
    free(q);
}

/* === server requests a front end may claim (serve) === */

void engine_set_request_claim(struct engine *e, engine_request_claim_cb cb, void *payload)
{
    e->claim_cb = cb;
    e->claim_payload = payload;
}

void engine_set_sampling_relay(struct engine *e, int on)
{
    e->sampling_relay = on;
}

const cJSON *engine_server_capabilities(struct engine *e, const char *server)
{
    struct server *s = engine_server_find(e, server);
    return s && s->client && s->state == SERVER_READY ? mcp_client_capabilities(s->client) : NULL;
}

static void claimed_free(struct engine_claimed *q)
{
    cJSON_Delete(q->id);
    free(q);
}

void engine_claimed_drop(struct engine *e, const struct mcp_client *client)
{
    for (struct engine_claimed **pp = &e->claimed; *pp;) {
        struct engine_claimed *q = *pp;
        if (!client || q->client == client) {
            *pp = q->next;
            claimed_free(q);
        } else {
            pp = &q->next;
        }
    }
}

int engine_server_request_reply(struct engine *e, uint64_t handle, cJSON *result, int code,
                                const char *message)
{
    struct engine_claimed *q = NULL;
    for (struct engine_claimed **pp = &e->claimed; *pp; pp = &(*pp)->next)
        if ((*pp)->handle == handle) {
            q = *pp;
            *pp = q->next;
            break;
        }
    int rc = -1;
    if (q && q->srv->client == q->client && q->srv->state == SERVER_READY) {
        rc = 0;
        if (result)
            mcp_client_reply(q->client, q->id, result);
        else if (code)
            mcp_client_reply_error(q->client, q->id, code, message ? message : "failed");
        result = NULL;
    }
    cJSON_Delete(result);
    if (q)
        claimed_free(q);
    return rc;
}

/* Offer a server's request to the claim hook with the calls in flight on
 * that server. 1 when it took it. */
static int offer_claim(struct server *s, struct mcp_client *c, const char *method,
                       const cJSON *params, const cJSON *id)
{
    struct engine *e = s->e;
    if (!e->claim_cb)
        return 0;
    size_t nj = 0, nc = 0;
    int models = 0;
    for (struct run *r = e->runs; r; r = r->next) {
        nj += r->srv == s && r->dispatched && !r->agent;
        models += r->agent != NULL;
    }
    for (struct direct_call *d = e->directs; d; d = d->next)
        nc += d->srv == s;
    int64_t *jobs = xcalloc(nj ? nj : 1, sizeof *jobs);
    uint64_t *calls = xcalloc(nc ? nc : 1, sizeof *calls);
    nj = nc = 0;
    for (struct run *r = e->runs; r; r = r->next)
        if (r->srv == s && r->dispatched && !r->agent)
            jobs[nj++] = r->job_id;
    for (struct direct_call *d = e->directs; d; d = d->next)
        if (d->srv == s)
            calls[nc++] = d->handle;
    struct engine_server_request q = {++e->next_handle, s->name, method, params, id,
                                      jobs, nj, calls, nc, models};
    /* registered first: the hook may answer before it returns */
    struct engine_claimed *k = xcalloc(1, sizeof *k);
    k->handle = q.handle;
    k->srv = s;
    k->client = c;
    k->id = cJSON_Duplicate(id, 1);
    k->next = e->claimed;
    e->claimed = k;
    int taken = e->claim_cb(e->claim_payload, &q);
    if (!taken)
        engine_server_request_reply(e, q.handle, NULL, 0, NULL);
    free(jobs);
    free(calls);
    return taken;
}

static void client_request(void *payload, struct mcp_client *c, const char *method,
                           const cJSON *params, const cJSON *id)
{
    struct server *s = payload;
    struct engine *e = s->e;
    if (strcmp(method, "sampling/createMessage") == 0) {
        if (!offer_claim(s, c, method, params, id))
            engine_sampling(s, c, params, id);
        return;
    }
    if (strcmp(method, "elicitation/create") == 0 && !mcp_client_version_at_least(c, "2025-06-18")) {
        char *m = xasprintf("elicitation is not part of protocol %s (it came with 2025-06-18)",
                            mcp_client_protocol(c));
        mcp_client_reply_error(c, id, JSONRPC_METHOD_NOT_FOUND, m);
        free(m);
        return;
    }
    if (strcmp(method, "elicitation/create") != 0) {
        mcp_client_reply_error(c, id, JSONRPC_METHOD_NOT_FOUND, "mcpdeck does not support this");
        return;
    }
    const cJSON *mode = cJSON_GetObjectItemCaseSensitive(params, "mode");
    if (cJSON_IsString(mode) && strcmp(mode->valuestring, "form") != 0) {
        mcp_client_reply_error(c, id, JSONRPC_INVALID_PARAMS,
                               "mcpdeck supports form elicitation only");
        return;
    }
    if (offer_claim(s, c, method, params, id))
        return;
    int waiting = 0;
    for (struct engine_elicit *w = e->elicits; w; w = w->next)
        waiting += w->srv == s;
    if (waiting >= ELICIT_WAITING_MAX) {
        /* each is a form the user must answer: a server asking without
         * end does not get to pile them up */
        char *m = xasprintf("server %s already has %d questions waiting for the user; ask "
                            "again when one is answered", s->name, waiting);
        engine_log_server(LOG_LEVEL_WARN, s, "%s", m);
        mcp_client_reply_error(c, id, JSONRPC_INTERNAL_ERROR, m);
        free(m);
        return;
    }
    struct engine_elicit *q = xcalloc(1, sizeof *q);
    q->e = e;
    q->srv = s;
    q->client = c;
    q->id = cJSON_Duplicate(id, 1);
    const cJSON *schema = cJSON_GetObjectItemCaseSensitive(params, "requestedSchema");
    q->schema = schema ? cJSON_Duplicate(schema, 1) : cJSON_CreateObject();
    q->next = e->elicits;
    e->elicits = q;
    size_t n = 0;
    for (struct run *r = e->runs; r; r = r->next)
        n += r->srv == s;
    int64_t *jobs = xcalloc(n ? n : 1, sizeof *jobs);
    n = 0;
    for (struct run *r = e->runs; r; r = r->next)
        if (r->srv == s)
            jobs[n++] = r->job_id;
    const cJSON *msg = cJSON_GetObjectItemCaseSensitive(params, "message");
    if (e->elicit_cb)
        e->elicit_cb(e->elicit_payload, q, s->name, jobs, n,
                     cJSON_IsString(msg) ? msg->valuestring : "", q->schema);
    else
        engine_elicit_answer(e, q, "decline", NULL);
    free(jobs);
}

void engine_set_elicit_handler(struct engine *e, engine_elicit_cb cb, void *payload)
{
    e->elicit_cb = cb;
    e->elicit_payload = payload;
}

void engine_elicit_answer(struct engine *e, struct engine_elicit *req, const char *action,
                          cJSON *content)
{
    int found = 0;
    for (struct engine_elicit **pp = &e->elicits; *pp; pp = &(*pp)->next)
        if (*pp == req) {
            *pp = req->next;
            found = 1;
            break;
        }
    if (!found) {
        cJSON_Delete(content);
        return;
    }
    if (req->srv->client == req->client && req->srv->state == SERVER_READY) {
        cJSON *r = cJSON_CreateObject();
        cJSON_AddStringToObject(r, "action", action);
        if (strcmp(action, "accept") == 0) {
            if (!content)
                content = cJSON_CreateObject();
            jsonschema_apply_defaults(req->schema, content);
            cJSON_AddItemToObject(r, "content", content);
            content = NULL;
        }
        mcp_client_reply(req->client, req->id, r);
    }
    cJSON_Delete(content);
    engine_elicit_free(req);
}

static void client_notify(void *payload, struct mcp_client *c, const char *method,
                          const cJSON *params)
{
    struct server *s = payload;
    struct engine_event ev = {ENGINE_EV_SERVER_STATE, 0, 0, s->name, method, 0, 0, params};
    engine_emit(s->e, &ev);
}

static void client_tools(void *payload, struct mcp_client *c)
{
    struct server *s = payload;
    char *perr = NULL;
    if (engine_profile_resolve(s, &perr) < 0)
        free(perr);
    engine_emit_server(s->e, s);
}

static const struct mcp_client_events client_events = {client_state, client_tools,
                                                        client_request, client_notify};

void engine_server_reset_client(struct server *s)
{
    if (!s->client)
        return;
    /* elicitation requests of the old session can no longer be answered */
    for (struct engine_elicit **pp = &s->e->elicits; *pp;) {
        struct engine_elicit *q = *pp;
        if (q->client == s->client) {
            *pp = q->next;
            engine_elicit_free(q);
        } else {
            pp = &q->next;
        }
    }
    engine_claimed_drop(s->e, s->client);
    mcp_client_free(s->client);
    s->client = NULL;
}

/* Start (or restart) a server's session; the outcome comes via events. */
int engine_server_start(struct server *s, char **errmsg)
{
    struct engine *e = s->e;
    if (s->state == SERVER_STARTING || s->state == SERVER_READY)
        return 0;
    if (s->state == SERVER_DISABLED) {
        *errmsg = xasprintf("server %s is disabled (in the config or by `mcpdeck servers "
                            "disable`)", s->name);
        engine_log_server(LOG_LEVEL_INFO, s, "server not started: it is disabled");
        return -1;
    }
    if (s->started) {
        s->restarts++;
        const char *l[] = {s->name};
        metrics_inc(e->metrics, MET_SERVER_RESTARTS, l);
    }
    s->started = 1;
    engine_server_reset_client(s);
    struct mcp_transport *t;
    int timeout = 30000;   /* built-ins answer at once; this only bounds a bug */
    if (s->builtin) {
        t = mcp_inproc_new(e->loop, s->builtin, e->root, e->memory);
    } else if (s->cfg->kind == CONFIG_SERVER_STDIO) {
        t = mcp_stdio_new(e->loop, s->cfg, e->cfg->secret_env, e->cfg->nsecret_env);
        timeout = s->cfg->startup_timeout_ms;
    } else {
        t = mcp_http_new(e->loop, s->cfg, e->farewell);
        timeout = s->cfg->startup_timeout_ms;
    }
    /* elicitation yes; sampling only when a model can answer, or when a
     * front end relays it to its own clients (engine_set_sampling_relay) */
    struct mcp_client_caps caps = {1, llm_missing(e->llm) == NULL || e->sampling_relay};
    s->client = mcp_client_new(e->loop, s->name, t, e->roots, &caps, &client_events, s);
    if (s->cfg && s->cfg->log_level)
        mcp_client_set_log_level(s->client, s->cfg->log_level);
    engine_log_server(LOG_LEVEL_INFO, s, "server %s (%s)", s->restarts ? "restarting" : "starting",
                      s->kind);
    server_set(s, SERVER_STARTING, NULL);
    if (mcp_client_connect(s->client, timeout, errmsg) < 0) {
        server_set(s, SERVER_FAILED, *errmsg);
        engine_log_server(LOG_LEVEL_WARN, s, "server failed to start: %s", s->last_error);
        return -1;
    }
    return 0;
}

struct server *engine_server_find(struct engine *e, const char *name)
{
    for (size_t i = 0; i < e->nservers; i++)
        if (strcmp(e->servers[i]->name, name) == 0)
            return e->servers[i];
    return NULL;
}

int engine_start_server(struct engine *e, const char *name, char **errmsg)
{
    struct server *s = engine_server_find(e, name);
    if (!s) {
        *errmsg = xasprintf("unknown server '%s'", name);
        return -1;
    }
    return engine_server_start(s, errmsg);
}
