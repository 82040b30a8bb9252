/* engine_agent.c — model tasks: the agent loop, and servers sampling
 * through the gateway.
 *
 * A model task (kind "model": type, prompt) is answered by a model that
 * may use MCP tools. Context: the type's instructions (data/prompts/,
 * compiled in) and the prompt; tools: those of the servers the router
 * finds eligible for the task, trimmed to the few most relevant to the
 * prompt when there are many (router_select_tools). Loop: ask the model
 * (streamed: ENGINE_EV_JOB_TOKENS events), run the tool calls it returns
 * in parallel through the MCP clients, feed the results back, repeat up
 * to agent.max_steps turns; the final text is the job's result (stored
 * as a CallToolResult with one text block, like any tool result). Every
 * model turn and tool call is a job event ("model", "tool").
 *
 * Tool policy (tools: in the config): a tool denied, or not allowed when
 * an allow list is given, is never offered. A destructive tool (its
 * destructiveHint, or tools.destructive) needs approval: the UI's
 * approval handler asks the user; without one (batch, CLI) only tools
 * matching tools.approve may run. A refused call is answered to the
 * model as an error saying so. */
#include "engine_int.h"

#include "embedded.h"
#include "llm.h"

#include <ctype.h>

#define TOOLS_OFFERED_MAX 16
#define TOOL_NAME_MAX 64

struct agent_tool {                      /* an offered tool */
    char *name;                          /* as the model sees it: server__tool */
    struct server *srv;
    char *tool;
    int destructive;
};

struct agent_call {                      /* one tool call of the current turn */
    struct agent *a;
    char *id;
    struct agent_tool *t;
    cJSON *args;
    int64_t reqid;
    int done;
    char *text;                          /* the result for the model */
    int is_error;
    struct engine_approval *approval;
};

struct agent {
    struct engine *e;
    struct run *r;                       /* NULL once the run is finished */
    char *type;
    char *model;                         /* asked for, or NULL */
    cJSON *messages;
    cJSON *tools;                        /* neutral, as offered */
    struct agent_tool *offered;
    size_t noffered;
    int step;
    double spent;
    struct llm_call *call;
    struct agent_call *calls;
    size_t ncalls, pending;
    uint64_t timer;                      /* the attempt's hard maximum */
    struct buf text;                     /* what the model streamed this turn */
    int finished;
};

struct engine_approval {
    struct engine *e;
    struct agent_call *k;                /* a model's tool call, or */
    struct run *r;                       /* a queued tool task */
    struct engine_approval *next;
};

/* === events === */

static void job_event(struct run *r, const char *kind, cJSON *data)
{
    redact_json(data);
    char *t = cJSON_PrintUnformatted(data);
    engine_tx_touch(r->e);
    jobq_event_add(r->e->q, r->job_id, kind, t);
    cJSON_free(t);
    cJSON_Delete(data);
}

static void emit_tokens(struct run *r, const char *text)
{
    struct engine_event ev = {ENGINE_EV_JOB_TOKENS, r->job_id, JOB_RUNNING, NULL, text, 0, 0,
                              NULL};
    engine_emit(r->e, &ev);
}

/* === lifecycle === */

static void agent_free(struct agent *a)
{
    if (!a)
        return;
    struct engine *e = a->e;
    a->finished = 1;                 /* answers to cancelled calls are ignored */
    if (a->call)
        llm_cancel(e->llm, a->call);
    if (a->timer)
        loop_timer_del(e->loop, a->timer);
    for (size_t i = 0; i < a->ncalls; i++) {
        struct agent_call *k = &a->calls[i];
        if (!k->done && k->reqid > 0 && k->t->srv->client)
            mcp_client_cancel(k->t->srv->client, k->reqid, "the task ended");
        if (k->approval) {
            for (struct engine_approval **pp = &e->approvals; *pp; pp = &(*pp)->next)
                if (*pp == k->approval) {
                    *pp = k->approval->next;
                    break;
                }
            free(k->approval);
        }
        free(k->id);
        cJSON_Delete(k->args);
        free(k->text);
    }
    free(a->calls);
    for (size_t i = 0; i < a->noffered; i++) {
        free(a->offered[i].name);
        free(a->offered[i].tool);
    }
    free(a->offered);
    free(a->type);
    free(a->model);
    cJSON_Delete(a->messages);
    cJSON_Delete(a->tools);
    buf_fini(&a->text);
    free(a);
}

void engine_agent_stop(struct run *r)
{
    struct agent *a = r->agent;
    r->agent = NULL;
    agent_free(a);
}

/* The task is over: a result text, or an error. */
static void agent_end(struct agent *a, const char *text, const char *error, int retry)
{
    struct run *r = a->r;
    a->finished = 1;
    r->agent = NULL;
    a->r = NULL;                     /* engine_run_finish frees the run */
    if (error) {
        engine_run_finish(r, NULL, error, retry);
    } else {
        cJSON *res = cJSON_CreateObject();
        cJSON *content = cJSON_AddArrayToObject(res, "content");
        cJSON *blk = cJSON_CreateObject();
        cJSON_AddStringToObject(blk, "type", "text");
        cJSON_AddStringToObject(blk, "text", text);
        cJSON_AddItemToArray(content, blk);
        memory_capture(a->e->memory, a->type, text, r->job_id);
        engine_run_finish(r, res, NULL, 0);
        cJSON_Delete(res);
    }
    agent_free(a);
}

static void ask_model(struct agent *a);

/* Every tool call of the turn answered: feed them back, next turn. */
static void turn_tools_done(struct agent *a)
{
    for (size_t i = 0; i < a->ncalls; i++) {
        struct agent_call *k = &a->calls[i];
        cJSON *m = cJSON_CreateObject();
        cJSON_AddStringToObject(m, "role", "tool");
        cJSON_AddStringToObject(m, "tool_call_id", k->id);
        cJSON_AddStringToObject(m, "content", k->text ? k->text : "");
        if (k->is_error)
            cJSON_AddBoolToObject(m, "is_error", 1);
        cJSON_AddItemToArray(a->messages, m);
        free(k->id);
        cJSON_Delete(k->args);
        free(k->text);
    }
    free(a->calls);
    a->calls = NULL;
    a->ncalls = 0;
    ask_model(a);
}

static void call_done(struct agent_call *k, const char *text, int is_error)
{
    struct agent *a = k->a;
    k->done = 1;
    k->reqid = 0;
    k->text = xstrdup(text);
    k->is_error = is_error;
    cJSON *d = cJSON_CreateObject();
    cJSON_AddNumberToObject(d, "step", a->step);
    cJSON_AddStringToObject(d, "server", k->t->srv->name);
    cJSON_AddStringToObject(d, "tool", k->t->tool);
    cJSON_AddItemToObject(d, "args", cJSON_Duplicate(k->args, 1));
    cJSON_AddBoolToObject(d, "is_error", is_error);
    size_t n = strlen(text);
    cJSON_AddStringToObject(d, "result", n > 200 ? "(long)" : text);
    job_event(a->r, "tool", d);
    if (--a->pending == 0)
        turn_tools_done(a);
}

static void tool_answer(void *payload, const cJSON *result, const char *error)
{
    struct agent_call *k = payload;
    if (k->a->finished || k->done)
        return;
    struct engine *e = k->a->r->e;
    engine_health_call(k->t->srv, error && engine_error_is_fault(error), 0);
    engine_metrics_call(k->t->srv, k->t->tool, error || mcp_result_is_error(result), 0);
    if (error) {
        char *m = redact_string(error);
        call_done(k, m, 1);
        free(m);
        return;
    }
    char *text = mcp_result_text(result);
    char *safe = redact_string(text);
    call_done(k, safe, mcp_result_is_error(result));
    free(text);
    free(safe);
    (void)e;
}

static void call_start(struct agent_call *k)
{
    struct server *s = k->t->srv;
    char *err = NULL;
    if (s->state != SERVER_READY) {
        err = xasprintf("server %s is not ready: %s", s->name,
                        s->last_error ? s->last_error : server_state_name(s->state));
    } else if (engine_breaker_allow(s, &err) == 0) {
        struct mcp_call_opts o = {engine_idle_timeout(s), k->a->r->timeout_ms, NULL};
        k->reqid = mcp_client_call_tool(s->client, k->t->tool, k->args, &o, tool_answer, k, &err);
        if (k->reqid > 0)
            return;
        breaker_release(&s->breaker);
    }
    call_done(k, err ? err : "the call could not be sent", 1);
    free(err);
}

static void refuse(struct agent_call *k, const char *why)
{
    char *m = xasprintf("refused: %s.%s %s", k->t->srv->name, k->t->tool, why);
    call_done(k, m, 1);
    free(m);
}

/* A destructive call: ask (UI), or the config decides (batch, CLI). */
static void call_gate(struct agent_call *k)
{
    struct engine *e = k->a->r->e;
    const struct config_llm *L = &e->cfg->llm;
    if (!k->t->destructive) {
        call_start(k);
        return;
    }
    char *full = xasprintf("%s.%s", k->t->srv->name, k->t->tool);
    int approved = engine_glob_any(L->tools_approve, L->ntools_approve, full);
    free(full);
    if (approved) {
        call_start(k);
        return;
    }
    if (!e->approval_cb) {
        refuse(k, "is destructive and needs approval: allow it with tools.approve in the "
                  "config for unattended runs");
        return;
    }
    struct engine_approval *q = xcalloc(1, sizeof *q);
    q->e = e;
    q->k = k;
    q->next = e->approvals;
    e->approvals = q;
    k->approval = q;
    e->approval_cb(e->approval_payload, q, k->a->r->job_id, k->t->srv->name, k->t->tool,
                   k->args);
}

void engine_approval_answer(struct engine *e, struct engine_approval *q, int allow)
{
    int found = 0;
    for (struct engine_approval **pp = &e->approvals; *pp; pp = &(*pp)->next)
        if (*pp == q) {
            *pp = q->next;
            found = 1;
            break;
        }
    if (!found)
        return;
    struct run *r = q->r;
    if (r) {                             /* a queued tool task */
        r->approval = NULL;
        free(q);
        if (allow) {
            r->approved = 1;
            engine_run_dispatch(r);
        } else {
            char *m = xasprintf("%s (the user said no)", r->refusal ? r->refusal : "refused");
            engine_run_finish(r, NULL, m, 0);
            free(m);
        }
        return;
    }
    struct agent_call *k = q->k;
    k->approval = NULL;
    free(q);
    if (allow)
        call_start(k);
    else
        refuse(k, "was refused by the user");
}

void engine_approval_ask_run(struct run *r, const char *refusal)
{
    struct engine *e = r->e;
    struct engine_approval *q = xcalloc(1, sizeof *q);
    q->e = e;
    q->r = r;
    q->next = e->approvals;
    e->approvals = q;
    r->approval = q;
    free(r->refusal);
    r->refusal = xstrdup(refusal);
    e->approval_cb(e->approval_payload, q, r->job_id, r->srv->name, r->tool, r->args);
}

void engine_approval_drop_run(struct run *r)
{
    free(r->refusal);
    r->refusal = NULL;
    struct engine_approval *q = r->approval;
    if (!q)
        return;
    for (struct engine_approval **pp = &r->e->approvals; *pp; pp = &(*pp)->next)
        if (*pp == q) {
            *pp = q->next;
            break;
        }
    free(q);
    r->approval = NULL;
}

void engine_set_approval_handler(struct engine *e, engine_approval_cb cb, void *payload)
{
    e->approval_cb = cb;
    e->approval_payload = payload;
}

/* === the model's turns === */

static struct agent_tool *offered_find(struct agent *a, const char *name)
{
    for (size_t i = 0; i < a->noffered; i++)
        if (strcmp(a->offered[i].name, name) == 0)
            return &a->offered[i];
    return NULL;
}

static void model_delta(void *payload, const char *text, size_t len)
{
    struct agent *a = payload;
    if (!text) {
        a->text.len = 0;
        emit_tokens(a->r, NULL);                 /* the attempt failed: start over */
        return;
    }
    buf_append(&a->text, text, len);
    char *piece = xstrndup(text, len);
    emit_tokens(a->r, piece);
    free(piece);
}

static void model_done(void *payload, const struct llm_result *res, const struct llm_usage_info *u,
                       const char *error)
{
    struct agent *a = payload;
    a->call = NULL;
    a->spent += u->cost;
    cJSON *d = cJSON_CreateObject();
    cJSON_AddNumberToObject(d, "step", a->step);
    if (u->model)
        cJSON_AddStringToObject(d, "model", u->model);
    cJSON_AddNumberToObject(d, "tokens_in", (double)u->tokens_in);
    cJSON_AddNumberToObject(d, "tokens_out", (double)u->tokens_out);
    cJSON_AddNumberToObject(d, "cost", u->cost);
    cJSON_AddBoolToObject(d, "cache_hit", u->cache_hit);
    cJSON_AddStringToObject(d, "chain", u->chain ? u->chain : "");
    if (res)
        cJSON_AddNumberToObject(d, "tool_calls", cJSON_GetArraySize(res->tool_calls));
    if (error)
        cJSON_AddStringToObject(d, "error", error);
    job_event(a->r, "model", d);
    if (error) {
        char *m = xasprintf("model: %s", error);
        agent_end(a, NULL, m, 0);
        free(m);
        return;
    }
    int n = cJSON_GetArraySize(res->tool_calls);
    if (n == 0) {
        agent_end(a, res->text ? res->text : "", NULL, 0);
        return;
    }
    /* the assistant's turn, then each call */
    cJSON *m = cJSON_CreateObject();
    cJSON_AddStringToObject(m, "role", "assistant");
    cJSON_AddStringToObject(m, "content", res->text ? res->text : "");
    cJSON_AddItemToObject(m, "tool_calls", cJSON_Duplicate(res->tool_calls, 1));
    cJSON_AddItemToArray(a->messages, m);
    a->calls = xcalloc((size_t)n, sizeof *a->calls);
    a->ncalls = (size_t)n;
    a->pending = (size_t)n;
    int i = 0;
    const cJSON *tc;
    cJSON_ArrayForEach(tc, res->tool_calls) {
        struct agent_call *k = &a->calls[i++];
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(tc, "id");
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(tc, "name");
        const cJSON *args = cJSON_GetObjectItemCaseSensitive(tc, "arguments");
        k->a = a;
        k->id = xstrdup(cJSON_IsString(id) ? id->valuestring : "call");
        k->args = cJSON_IsObject(args) ? cJSON_Duplicate(args, 1) : cJSON_CreateObject();
        k->t = cJSON_IsString(name) ? offered_find(a, name->valuestring) : NULL;
    }
    /* start them all (they run in parallel); one may finish at once */
    size_t total = a->ncalls;
    for (size_t k = 0; k < total && a->calls; k++) {
        struct agent_call *c = &a->calls[k];
        if (!c->t) {
            c->done = 1;
            c->text = xstrdup("no such tool was offered; use one of the tools listed");
            c->is_error = 1;
            if (--a->pending == 0) {
                turn_tools_done(a);
                return;
            }
            continue;
        }
        struct agent *keep = a;
        call_gate(c);
        if (keep->pending == 0)      /* the turn moved on (or the task ended) */
            return;
    }
}

static void ask_model(struct agent *a)
{
    struct engine *e = a->r->e;
    if (a->step >= e->cfg->llm.max_steps) {
        char *m = xasprintf("the model did not finish within agent.max_steps (%d) turns",
                            e->cfg->llm.max_steps);
        agent_end(a, NULL, m, 0);
        free(m);
        return;
    }
    a->step++;
    a->text.len = 0;
    struct llm_opts o = {0};
    o.model = a->model;
    o.strategy = -1;
    o.messages = a->messages;
    o.tools = a->noffered ? a->tools : NULL;
    o.temperature = -1;
    o.stream = 1;
    o.job_id = a->r->job_id;
    o.spent = a->spent;
    o.on_delta = model_delta;
    o.on_done = model_done;
    o.payload = a;
    char *err = NULL;
    a->call = llm_call(e->llm, &o, &err);
    if (!a->call) {
        agent_end(a, NULL, err, 0);
        free(err);
    }
}

/* === the start === */

static void timeout_cb(struct loop *l, uint64_t id, void *payload)
{
    struct agent *a = payload;
    a->timer = 0;
    char *m = xasprintf("the model task did not finish within %d ms", a->r->timeout_ms);
    agent_end(a, NULL, m, 1);
    free(m);
}

static char *prompt_text(const char *name)
{
    char *path = xasprintf("data/prompts/%s.md", name);
    const struct embedded_file *f = embedded_find(path);
    free(path);
    return f ? xstrndup((const char *)f->data, f->len) : xstrdup("");
}

/* Offer the tools of the servers eligible for the task (policy applied),
 * at most TOOLS_OFFERED_MAX, the most relevant to the prompt first. */
static void offer_tools(struct agent *a, const char *prompt, const cJSON *route)
{
    struct engine *e = a->r->e;
    const struct config_llm *L = &e->cfg->llm;
    const cJSON *servers = cJSON_GetObjectItemCaseSensitive(route, "servers");
    size_t cap = 0;
    const cJSON *s;
    cJSON_ArrayForEach(s, servers) {
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(s, "name");
        struct server *srv = cJSON_IsString(name) ? engine_server_find(e, name->valuestring) : NULL;
        if (srv && srv->client && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(s, "eligible"))) {
            const struct mcp_tool *t;
            cap += mcp_client_tools(srv->client, &t);
        }
    }
    struct agent_tool *all = xcalloc(cap + 1, sizeof *all);
    const struct mcp_tool **defs = xcalloc(cap + 1, sizeof *defs);
    struct router_tool *rt = xcalloc(cap + 1, sizeof *rt);
    size_t n = 0;
    cJSON_ArrayForEach(s, servers) {
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(s, "name");
        struct server *srv = cJSON_IsString(name) ? engine_server_find(e, name->valuestring) : NULL;
        if (!srv || !srv->client || !cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(s, "eligible")))
            continue;
        const struct mcp_tool *t;
        size_t m = mcp_client_tools(srv->client, &t);
        for (size_t i = 0; i < m; i++) {
            char *full = xasprintf("%s.%s", srv->name, t[i].name);
            if (engine_tool_offered(L, full)) {
                all[n].srv = srv;
                all[n].tool = xstrdup(t[i].name);
                all[n].destructive = engine_tool_destructive(L, full, &t[i]);
                char *nm = xasprintf("%s__%s", srv->name, t[i].name);
                for (char *p = nm; *p; p++)
                    if (!isalnum((unsigned char)*p) && *p != '_' && *p != '-')
                        *p = '_';
                if (strlen(nm) > TOOL_NAME_MAX)
                    nm[TOOL_NAME_MAX] = '\0';
                all[n].name = nm;
                defs[n] = &t[i];
                rt[n] = (struct router_tool){srv->name, t[i].name, t[i].description};
                n++;
            }
            free(full);
        }
    }
    size_t *pick = xcalloc(n + 1, sizeof *pick);
    size_t k = n;
    if (n > TOOLS_OFFERED_MAX) {
        k = router_select_tools(prompt, rt, n, TOOLS_OFFERED_MAX, pick);
        for (size_t i = k; i < TOOLS_OFFERED_MAX && i < n; i++) {
            /* fill up with the first servers' tools the prompt did not name */
            for (size_t j = 0; j < n; j++) {
                int used = 0;
                for (size_t u = 0; u < i; u++)
                    used |= pick[u] == j;
                if (!used) {
                    pick[i] = j;
                    k = i + 1;
                    break;
                }
            }
        }
    } else {
        for (size_t i = 0; i < n; i++)
            pick[i] = i;
    }
    a->tools = cJSON_CreateArray();
    a->offered = xcalloc(k + 1, sizeof *a->offered);
    for (size_t i = 0; i < k; i++) {
        struct agent_tool *t = &all[pick[i]];
        cJSON *j = cJSON_CreateObject();
        cJSON_AddStringToObject(j, "name", t->name);
        if (defs[pick[i]]->description)
            cJSON_AddStringToObject(j, "description", defs[pick[i]]->description);
        cJSON_AddItemToObject(j, "input_schema", defs[pick[i]]->input_schema
                                                     ? cJSON_Duplicate(defs[pick[i]]->input_schema, 1)
                                                     : cJSON_CreateObject());
        cJSON_AddItemToArray(a->tools, j);
        a->offered[a->noffered++] = *t;
        t->name = NULL;
        t->tool = NULL;
    }
    for (size_t i = 0; i < n; i++) {
        free(all[i].name);
        free(all[i].tool);
    }
    free(all);
    free(defs);
    free(rt);
    free(pick);
}

/* The task's namespace: memory.capture.<type> when set, else by type. */
static const char *task_namespace(const struct engine *e, const char *type)
{
    const struct config_memory *m = &e->cfg->memory;
    for (size_t i = 0; i < m->ncapture; i++)
        if (strcmp(m->capture_types[i], type) == 0)
            return m->capture_ns[i];
    if (!strcmp(type, "document"))
        return "documentation";
    if (!strcmp(type, "test"))
        return "testing";
    if (!strcmp(type, "deploy"))
        return "architecture";
    return "coding";
}

#define MEMORY_HITS 3
#define MEMORY_HIT_CHARS 600

/* The top memory hits for the prompt in the task's namespace (and
 * shared), as a section of the instructions; "" when there are none. */
static void memory_context(struct agent *a, const char *prompt, struct buf *out)
{
    struct engine *e = a->e;
    if (!e->memory || !*prompt)
        return;
    const char *ns[] = {task_namespace(e, a->type), "shared"};
    struct memory_query q = {prompt, MEMORY_HITS, ns, 2, NULL, 0, MEMORY_HYBRID, 0};
    struct memory_hit *hits = NULL;
    size_t n = 0;
    char *err = NULL;
    if (memory_search(e->memory, &q, &hits, &n, &err) < 0) {
        free(err);
        return;
    }
    if (n) {
        buf_puts(out, "\nNotes from the project's memory that may be relevant:\n");
        cJSON *ids = cJSON_CreateArray();
        for (size_t i = 0; i < n; i++) {
            const struct memory_entry *en = hits[i].entry;
            size_t len = strlen(en->text);
            buf_printf(out, "- [%s #%lld] %.*s%s\n", en->ns, (long long)en->id,
                       (int)(len > MEMORY_HIT_CHARS ? MEMORY_HIT_CHARS : len), en->text,
                       len > MEMORY_HIT_CHARS ? "..." : "");
            cJSON_AddItemToArray(ids, cJSON_CreateNumber((double)en->id));
        }
        cJSON *d = cJSON_CreateObject();
        cJSON_AddStringToObject(d, "namespace", ns[0]);
        cJSON_AddItemToObject(d, "memory_ids", ids);
        job_event(a->r, "model", d);
    }
    memory_hits_free(hits, n);
}

void engine_agent_start(struct run *r, const struct job *j)
{
    struct engine *e = r->e;
    const char *missing = llm_missing(e->llm);
    if (missing) {
        engine_run_finish(r, NULL, missing, 0);
        return;
    }
    cJSON *args = cJSON_Parse(j->args_json ? j->args_json : "{}");
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(args, "prompt");
    const cJSON *model = cJSON_GetObjectItemCaseSensitive(args, "model");
    struct agent *a = xcalloc(1, sizeof *a);
    a->e = e;
    a->r = r;
    r->agent = a;
    a->type = xstrdup(j->tool);
    a->model = cJSON_IsString(model) ? xstrdup(model->valuestring) : NULL;
    buf_init(&a->text);
    const char *prompt = cJSON_IsString(p) ? p->valuestring : "";
    /* the servers (and tools) for this task: as the router sees them now */
    struct engine_route_req req = {.type = a->type, .heavy = -1};
    cJSON *route = NULL;
    char *chosen = NULL, *err = NULL;
    engine_route(e, &req, &chosen, NULL, &route, &err);
    if (route) {
        char *t = cJSON_PrintUnformatted(route);
        engine_tx_touch(e);
        jobq_set_route(e->q, r->job_id, chosen, t);
        jobq_event_add(e->q, r->job_id, "route", t);
        cJSON_free(t);
    }
    offer_tools(a, prompt, route);
    cJSON_Delete(route);
    free(chosen);
    free(err);
    /* the conversation: instructions, then the task */
    char *common = prompt_text("common");
    char *typed = prompt_text(a->type);
    struct buf sys;
    buf_init(&sys);
    const char *root = e->root ? e->root : ".";
    for (const char *c = common; *c; c++) {
        if (strncmp(c, "{{root}}", 8) == 0) {
            buf_puts(&sys, root);
            c += 7;
        } else {
            buf_putc(&sys, *c);
        }
    }
    buf_printf(&sys, "\n%s", typed);
    memory_context(a, prompt, &sys);
    free(common);
    free(typed);
    a->messages = cJSON_CreateArray();
    cJSON *m = cJSON_CreateObject();
    cJSON_AddStringToObject(m, "role", "system");
    cJSON_AddStringToObject(m, "content", sys.data ? sys.data : "");
    cJSON_AddItemToArray(a->messages, m);
    buf_fini(&sys);
    m = cJSON_CreateObject();
    cJSON_AddStringToObject(m, "role", "user");
    cJSON_AddStringToObject(m, "content", prompt);
    cJSON_AddItemToArray(a->messages, m);
    cJSON_Delete(args);
    if (r->timeout_ms > 0)
        a->timer = loop_timer_add(e->loop, r->timeout_ms, timeout_cb, a);
    ask_model(a);
}

/* === sampling/createMessage === */

struct sampling {
    struct server *srv;
    struct mcp_client *client;
    cJSON *id;
};

static void sampling_done(void *payload, const struct llm_result *res,
                          const struct llm_usage_info *u, const char *error)
{
    struct sampling *s = payload;
    s->srv->sampling--;
    if (s->srv->client == s->client && s->srv->state == SERVER_READY) {
        if (error) {
            char *m = xasprintf("mcpdeck could not sample: %s", error);
            mcp_client_reply_error(s->client, s->id, JSONRPC_INTERNAL_ERROR, m);
            free(m);
        } else {
            cJSON *r = cJSON_CreateObject();
            cJSON_AddStringToObject(r, "role", "assistant");
            cJSON *c = cJSON_AddObjectToObject(r, "content");
            cJSON_AddStringToObject(c, "type", "text");
            cJSON_AddStringToObject(c, "text", res->text ? res->text : "");
            cJSON_AddStringToObject(r, "model", u->model ? u->model : "?");
            cJSON_AddStringToObject(r, "stopReason", res->stop == LLM_STOP_MAX_TOKENS ? "maxTokens"
                                                                                      : "endTurn");
            mcp_client_reply(s->client, s->id, r);
        }
    }
    cJSON_Delete(s->id);
    free(s);
}

/* MCP sampling content: a text block, or an array of blocks. */
static void content_text(const cJSON *content, struct buf *out)
{
    const cJSON *blk;
    if (cJSON_IsObject(content)) {
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(content, "text");
        if (cJSON_IsString(t))
            buf_puts(out, t->valuestring);
        return;
    }
    cJSON_ArrayForEach(blk, content) content_text(blk, out);
}

void engine_sampling(struct server *srv, struct mcp_client *c, const cJSON *params,
                     const cJSON *id)
{
    struct engine *e = srv->e;
    const struct config_llm *L = &e->cfg->llm;
    const char *missing = llm_missing(e->llm);
    if (missing) {
        char *m = xasprintf("mcpdeck cannot sample: %s", missing);
        mcp_client_reply_error(c, id, JSONRPC_INVALID_REQUEST, m);
        free(m);
        return;
    }
    if (!engine_glob_any(L->sampling_allow, L->nsampling_allow, srv->name)) {
        char *m = xasprintf("server %s may not sample: add it to sampling.allow in the config",
                            srv->name);
        mcp_client_reply_error(c, id, JSONRPC_INVALID_REQUEST, m);
        free(m);
        return;
    }
    if (srv->sampling >= L->sampling_concurrency) {
        /* each is a paid model call: a server asking without end is held
         * to a few at a time */
        char *m = xasprintf("server %s already has %d sampling requests at the model "
                            "(sampling.concurrency); ask again when one is answered",
                            srv->name, srv->sampling);
        engine_log_server(LOG_LEVEL_WARN, srv, "%s", m);
        mcp_client_reply_error(c, id, JSONRPC_INTERNAL_ERROR, m);
        free(m);
        return;
    }
    cJSON *msgs = cJSON_CreateArray();
    const cJSON *sys = cJSON_GetObjectItemCaseSensitive(params, "systemPrompt");
    if (cJSON_IsString(sys) && *sys->valuestring) {
        cJSON *m = cJSON_CreateObject();
        cJSON_AddStringToObject(m, "role", "system");
        cJSON_AddStringToObject(m, "content", sys->valuestring);
        cJSON_AddItemToArray(msgs, m);
    }
    const cJSON *it;
    cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(params, "messages")) {
        const cJSON *role = cJSON_GetObjectItemCaseSensitive(it, "role");
        struct buf b;
        buf_init(&b);
        content_text(cJSON_GetObjectItemCaseSensitive(it, "content"), &b);
        cJSON *m = cJSON_CreateObject();
        cJSON_AddStringToObject(m, "role", cJSON_IsString(role) &&
                                               !strcmp(role->valuestring, "assistant")
                                           ? "assistant" : "user");
        cJSON_AddStringToObject(m, "content", b.data ? b.data : "");
        buf_fini(&b);
        cJSON_AddItemToArray(msgs, m);
    }
    const cJSON *mt = cJSON_GetObjectItemCaseSensitive(params, "maxTokens");
    int max = L->sampling_max_tokens;
    if (cJSON_IsNumber(mt) && mt->valueint > 0 && mt->valueint < max)
        max = mt->valueint;
    struct sampling *s = xcalloc(1, sizeof *s);
    s->srv = srv;
    s->client = c;
    s->id = cJSON_Duplicate(id, 1);
    struct llm_opts o = {0};
    o.model = L->sampling_model;
    o.strategy = -1;
    o.messages = msgs;
    o.max_tokens = max;
    o.temperature = -1;
    o.on_done = sampling_done;
    o.payload = s;
    char *err = NULL;
    srv->sampling++;
    if (!llm_call(e->llm, &o, &err)) {
        srv->sampling--;
        char *m = xasprintf("mcpdeck could not sample: %s", err);
        mcp_client_reply_error(c, id, JSONRPC_INTERNAL_ERROR, m);
        free(m);
        free(err);
        cJSON_Delete(s->id);
        free(s);
    }
    cJSON_Delete(msgs);
}
