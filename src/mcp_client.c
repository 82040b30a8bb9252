/* mcp_client.c — an MCP session over a transport (see mcp_client.h). */
#include "mcp_client.h"
#include "jsonrpc.h"
#include "jsonw.h"
#include "log.h"
#include "loop.h"
#include "mcp_transport.h"
#include "util.h"
#include "version.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const known_versions[] = {
    "2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05",
};

struct call {
    struct mcp_client *c;
    int64_t id;
    mcp_call_cb cb;
    void *payload;
    int is_tool;                      /* a tools/call (validated result) */
    char token[32];                   /* progressToken */
    int idle_ms;
    uint64_t max_timer;               /* hard maximum */
    int max_ms;
    mcp_progress_cb on_progress;
    struct call *next;
};

static const struct {
    const char *method, *field, *cap, *changed;
} list_kinds[MCP_LIST_COUNT] = {
    {"resources/list", "resources", "resources", "notifications/resources/list_changed"},
    {"resources/templates/list", "resourceTemplates", "resources",
     "notifications/resources/list_changed"},
    {"prompts/list", "prompts", "prompts", "notifications/prompts/list_changed"},
};

#define CLIENT_LOG_MAX (64 * 1024)
/* A paginated list ends here even if the server offers more pages. */
#define LIST_MAX_PAGES 1000

/* Where a paginated list is while its pages come in. */
struct paging {
    int pages;                        /* fetched so far */
    char *cursor;                     /* the last nextCursor followed */
};

struct mcp_client {
    struct loop *loop;
    char *name;
    struct mcp_transport *t;
    struct jsonrpc_peer *peer;
    const char *const *roots;
    const struct mcp_client_events *ev;
    void *payload;
    enum mcp_client_state state;
    char *error;
    char *protocol;
    cJSON *server_info;
    cJSON *capabilities;
    struct mcp_tool *tools;
    size_t ntools;
    struct mcp_tool *next_tools;      /* list being fetched (pagination) */
    size_t nnext;
    int listing;                      /* a tools/list is under way */
    int relist;                       /* list_changed arrived meanwhile */
    struct paging tools_paging;
    int timeout_ms;
    uint64_t connect_timer;
    struct call *calls;               /* requests in flight */
    struct mcp_client_caps caps;
    cJSON *lists[MCP_LIST_COUNT];     /* cached arrays; NULL = not advertised */
    cJSON *next_list[MCP_LIST_COUNT]; /* being fetched */
    int list_busy[MCP_LIST_COUNT];
    int list_again[MCP_LIST_COUNT];
    struct paging list_paging[MCP_LIST_COUNT];
    int pending_lists;                /* lists still loading before READY */
    char *log_level;
    struct buf log;                   /* notifications/message */
    struct buf params;                /* a tools/call's params, printed */
    unsigned next_token;
};

static void tools_free(struct mcp_tool *t, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(t[i].name);
        free(t[i].description);
        cJSON_Delete(t[i].input_schema);
        cJSON_Delete(t[i].output_schema);
        cJSON_Delete(t[i].annotations);
    }
    free(t);
}

static void set_state(struct mcp_client *c, enum mcp_client_state s, const char *error)
{
    if (error) {
        free(c->error);
        c->error = xstrdup(error);
    }
    if (c->state == s && !error)
        return;
    c->state = s;
    if (c->connect_timer && s != MCP_CLIENT_CONNECTING) {
        loop_timer_del(c->loop, c->connect_timer);
        c->connect_timer = 0;
    }
    if (c->ev && c->ev->on_state)
        c->ev->on_state(c->payload, c, s, error);
}

static void fail_closed(struct mcp_client *c, const char *why)
{
    if (c->state == MCP_CLIENT_CLOSED)
        return;
    char *msg = xasprintf("server %s: %s", c->name, why);
    c->state = MCP_CLIENT_CLOSED;   /* before failing calls: no new sends */
    jsonrpc_fail_all(c->peer, JSONRPC_ERR_CLOSED, msg);
    c->state = MCP_CLIENT_CONNECTING;  /* let set_state report the change */
    set_state(c, MCP_CLIENT_CLOSED, msg);
    free(msg);
}

/* === transport upcalls === */

static void up_message(void *owner, const char *json, size_t len)
{
    struct mcp_client *c = owner;
    jsonrpc_receive(c->peer, json, len);
}

static void up_oversize(void *owner, size_t size)
{
    struct mcp_client *c = owner;
    /* We cannot tell which call it answered: fail the calls in flight. */
    char *msg = xasprintf("server %s sent a message of over %zu bytes (limit %zu); dropped",
                          c->name, size, c->t->max_message);
    jsonrpc_fail_all(c->peer, JSONRPC_ERR_TOO_BIG, msg);
    free(msg);
}

static void up_closed(void *owner, const char *reason)
{
    fail_closed(owner, reason);
}

static const struct mcp_transport_upcalls upcalls = {up_message, up_oversize, up_closed};

/* === JSON-RPC peer callbacks === */

static int peer_send(void *ctx, const char *json, size_t len, const struct jsonrpc_sent *what)
{
    struct mcp_client *c = ctx;
    return c->t->ops->send(c->t, json, len, what);
}

static void peer_request(void *ctx, const char *method, const cJSON *params, const cJSON *id)
{
    struct mcp_client *c = ctx;
    if (strcmp(method, "ping") == 0) {
        jsonrpc_respond(c->peer, id, cJSON_CreateObject());
    } else if (strcmp(method, "roots/list") == 0) {
        cJSON *r = cJSON_CreateObject();
        cJSON *arr = cJSON_AddArrayToObject(r, "roots");
        for (size_t i = 0; c->roots && c->roots[i]; i++) {
            cJSON *o = cJSON_CreateObject();
            char *uri = xasprintf("file://%s", c->roots[i]);
            cJSON_AddStringToObject(o, "uri", uri);
            const char *base = strrchr(c->roots[i], '/');
            cJSON_AddStringToObject(o, "name", base && base[1] ? base + 1 : c->roots[i]);
            free(uri);
            cJSON_AddItemToArray(arr, o);
        }
        jsonrpc_respond(c->peer, id, r);
    } else if ((strcmp(method, "sampling/createMessage") == 0 ||
                strcmp(method, "elicitation/create") == 0) && c->ev && c->ev->on_request) {
        c->ev->on_request(c->payload, c, method, params, id);
    } else if (strcmp(method, "sampling/createMessage") == 0) {
        jsonrpc_respond_error(c->peer, id, JSONRPC_INVALID_REQUEST,
                              "mcpdeck cannot sample: no model is configured (the client did "
                              "not declare the sampling capability)");
    } else {
        char *m = xasprintf("mcpdeck does not support %s", method);
        jsonrpc_respond_error(c->peer, id, JSONRPC_METHOD_NOT_FOUND, m);
        free(m);
    }
}

int mcp_client_reply(struct mcp_client *c, const cJSON *id, cJSON *result)
{
    if (c->state == MCP_CLIENT_CLOSED) {
        cJSON_Delete(result);
        return -1;
    }
    return jsonrpc_respond(c->peer, id, result);
}

int mcp_client_reply_error(struct mcp_client *c, const cJSON *id, int code, const char *message)
{
    if (c->state == MCP_CLIENT_CLOSED)
        return -1;
    return jsonrpc_respond_error(c->peer, id, code, message);
}

static void list_tools(struct mcp_client *c, const char *cursor);
static void list_fetch(struct mcp_client *c, enum mcp_list which, const char *cursor);

static void log_append(struct mcp_client *c, const cJSON *params)
{
    const cJSON *lv = cJSON_GetObjectItemCaseSensitive(params, "level");
    const cJSON *lg = cJSON_GetObjectItemCaseSensitive(params, "logger");
    const cJSON *data = cJSON_GetObjectItemCaseSensitive(params, "data");
    char *d = cJSON_IsString(data) ? xstrdup(data->valuestring) : cJSON_PrintUnformatted(data);
    buf_printf(&c->log, "[%s]%s%s %s\n", cJSON_IsString(lv) ? lv->valuestring : "info",
               cJSON_IsString(lg) ? " " : "", cJSON_IsString(lg) ? lg->valuestring : "",
               d ? d : "");
    free(d);
    buf_keep_lines(&c->log, CLIENT_LOG_MAX);
}

static struct call *call_by_token(struct mcp_client *c, const cJSON *token)
{
    char buf[32];
    const char *t = NULL;
    if (cJSON_IsString(token))
        t = token->valuestring;
    else if (cJSON_IsNumber(token)) {
        snprintf(buf, sizeof buf, "%.0f", token->valuedouble);
        t = buf;
    }
    for (struct call *k = c->calls; t && k; k = k->next)
        if (k->token[0] && strcmp(k->token, t) == 0)
            return k;
    return NULL;
}

static void peer_notification(void *ctx, const char *method, const cJSON *params)
{
    struct mcp_client *c = ctx;
    if (strcmp(method, "notifications/tools/list_changed") == 0) {
        if (c->state != MCP_CLIENT_READY)
            return;   /* the initial list is fetched anyway */
        if (c->listing)
            c->relist = 1;
        else
            list_tools(c, NULL);
        return;
    }
    int matched = 0;
    for (int i = 0; i < MCP_LIST_COUNT; i++)
        if (strcmp(method, list_kinds[i].changed) == 0) {
            matched = 1;
            if (c->state == MCP_CLIENT_READY && c->lists[i])
                list_fetch(c, (enum mcp_list)i, NULL);
        }
    if (matched)
        return;
    if (strcmp(method, "notifications/progress") == 0) {
        struct call *k = call_by_token(c, cJSON_GetObjectItemCaseSensitive(params,
                                                                           "progressToken"));
        if (!k)
            return;
        if (k->idle_ms > 0)
            jsonrpc_call_extend(c->peer, k->id, k->idle_ms);
        if (k->on_progress) {
            const cJSON *p = cJSON_GetObjectItemCaseSensitive(params, "progress");
            const cJSON *t = cJSON_GetObjectItemCaseSensitive(params, "total");
            const cJSON *m = cJSON_GetObjectItemCaseSensitive(params, "message");
            k->on_progress(k->payload, cJSON_IsNumber(p) ? p->valuedouble : 0,
                           cJSON_IsNumber(t) ? t->valuedouble : -1,
                           cJSON_IsString(m) ? m->valuestring : NULL);
        }
        return;
    }
    if (strcmp(method, "notifications/message") == 0)
        log_append(c, params);
    if (c->ev && c->ev->on_notify)
        c->ev->on_notify(c->payload, c, method, params);
}

static void peer_garbage(void *ctx, const char *why)
{
    /* a stray line is ignored, as the spec's stdio rules allow; logged */
    struct mcp_client *c = ctx;
    log_write(LOG_LEVEL_WARN, &(struct log_ctx){0, c->name, 0},
              "protocol error: ignored a message from the server: %s", why);
}

static const struct jsonrpc_peer_ops peer_ops = {
    peer_send, peer_request, peer_notification, peer_garbage,
};

/* === handshake and lists === */

static void paging_reset(struct paging *p)
{
    p->pages = 0;
    free(p->cursor);
    p->cursor = NULL;
}

/* Whether to fetch the page at `next` (NULL: the list is complete). A
 * list that never ends is stopped at LIST_MAX_PAGES pages (each is
 * bounded by max_message), one that repeats its cursor at once: what came
 * is kept, and the log (and the server's log) says why. */
static int paging_next(struct mcp_client *c, struct paging *p, const char *method, size_t items,
                       const char *next)
{
    char why[64] = "";
    if (next && p->cursor && strcmp(p->cursor, next) == 0)
        snprintf(why, sizeof why, "repeated its last nextCursor");
    else if (next && ++p->pages >= LIST_MAX_PAGES)
        snprintf(why, sizeof why, "went on past %d pages", LIST_MAX_PAGES);
    if (!next || why[0]) {
        if (why[0]) {
            char *m = xasprintf("%s %s; stopped there, keeping %zu items", method, why, items);
            log_write(LOG_LEVEL_WARN, &(struct log_ctx){0, c->name, 0}, "%s", m);
            buf_printf(&c->log, "[mcpdeck] %s\n", m);
            buf_keep_lines(&c->log, CLIENT_LOG_MAX);
            free(m);
        }
        paging_reset(p);
        return 0;
    }
    free(p->cursor);
    p->cursor = xstrdup(next);
    return 1;
}

static void tools_page(void *payload, const cJSON *result, const struct jsonrpc_error *err)
{
    struct mcp_client *c = payload;
    if (err) {
        c->listing = 0;
        paging_reset(&c->tools_paging);
        tools_free(c->next_tools, c->nnext);
        c->next_tools = NULL;
        c->nnext = 0;
        char *m = xasprintf("tools/list failed: %s", err->message);
        if (c->state == MCP_CLIENT_CONNECTING)
            set_state(c, MCP_CLIENT_CLOSED, m);
        free(m);
        return;
    }
    const cJSON *tools = cJSON_GetObjectItemCaseSensitive(result, "tools");
    const cJSON *t;
    cJSON_ArrayForEach(t, tools) {
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(t, "name");
        if (!cJSON_IsString(name))
            continue;
        c->next_tools = xrealloc(c->next_tools, (c->nnext + 1) * sizeof *c->next_tools);
        struct mcp_tool *mt = &c->next_tools[c->nnext++];
        mt->name = xstrdup(name->valuestring);
        const cJSON *d = cJSON_GetObjectItemCaseSensitive(t, "description");
        mt->description = cJSON_IsString(d) ? xstrdup(d->valuestring) : NULL;
        const cJSON *s = cJSON_GetObjectItemCaseSensitive(t, "inputSchema");
        mt->input_schema = s ? cJSON_Duplicate(s, 1) : NULL;
        const cJSON *os = cJSON_GetObjectItemCaseSensitive(t, "outputSchema");
        mt->output_schema = cJSON_IsObject(os) ? cJSON_Duplicate(os, 1) : NULL;
        const cJSON *a = cJSON_GetObjectItemCaseSensitive(t, "annotations");
        mt->annotations = a ? cJSON_Duplicate(a, 1) : NULL;
    }
    const cJSON *next = cJSON_GetObjectItemCaseSensitive(result, "nextCursor");
    if (paging_next(c, &c->tools_paging, "tools/list", c->nnext,
                    cJSON_IsString(next) && next->valuestring[0] ? next->valuestring : NULL)) {
        list_tools(c, next->valuestring);
        return;
    }
    tools_free(c->tools, c->ntools);
    c->tools = c->next_tools;
    c->ntools = c->nnext;
    c->next_tools = NULL;
    c->nnext = 0;
    c->listing = 0;
    if (c->state == MCP_CLIENT_CONNECTING && --c->pending_lists == 0)
        set_state(c, MCP_CLIENT_READY, NULL);
    if (c->ev && c->ev->on_tools)
        c->ev->on_tools(c->payload, c);
    if (c->relist) {
        c->relist = 0;
        list_tools(c, NULL);
    }
}

static int has_cap(const struct mcp_client *c, const char *cap)
{
    return cJSON_GetObjectItemCaseSensitive(c->capabilities, cap) != NULL;
}

struct list_req {
    struct mcp_client *c;
    enum mcp_list which;
};

static void list_page(void *payload, const cJSON *result, const struct jsonrpc_error *err)
{
    struct list_req *lr = payload;
    struct mcp_client *c = lr->c;
    enum mcp_list w = lr->which;
    free(lr);
    if (err) {
        /* A list that fails does not stop the session: keep the old one. */
        paging_reset(&c->list_paging[w]);
        cJSON_Delete(c->next_list[w]);
        c->next_list[w] = NULL;
        c->list_busy[w] = 0;
        if (c->state == MCP_CLIENT_CONNECTING && --c->pending_lists == 0)
            set_state(c, MCP_CLIENT_READY, NULL);
        return;
    }
    if (!c->next_list[w])
        c->next_list[w] = cJSON_CreateArray();
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(result, list_kinds[w].field);
    const cJSON *it;
    cJSON_ArrayForEach(it, arr)
        cJSON_AddItemToArray(c->next_list[w], cJSON_Duplicate(it, 1));
    const cJSON *next = cJSON_GetObjectItemCaseSensitive(result, "nextCursor");
    if (paging_next(c, &c->list_paging[w], list_kinds[w].method,
                    (size_t)cJSON_GetArraySize(c->next_list[w]),
                    cJSON_IsString(next) && next->valuestring[0] ? next->valuestring : NULL)) {
        list_fetch(c, w, next->valuestring);
        return;
    }
    cJSON_Delete(c->lists[w]);
    c->lists[w] = c->next_list[w];
    c->next_list[w] = NULL;
    c->list_busy[w] = 0;
    if (c->state == MCP_CLIENT_CONNECTING && --c->pending_lists == 0)
        set_state(c, MCP_CLIENT_READY, NULL);
    else if (c->ev && c->ev->on_tools)
        c->ev->on_tools(c->payload, c);
    if (c->list_again[w]) {
        c->list_again[w] = 0;
        list_fetch(c, w, NULL);
    }
}

static void list_fetch(struct mcp_client *c, enum mcp_list w, const char *cursor)
{
    if (!cursor && c->list_busy[w]) {
        c->list_again[w] = 1;
        return;
    }
    c->list_busy[w] = 1;
    cJSON *params = NULL;
    if (cursor) {
        params = cJSON_CreateObject();
        cJSON_AddStringToObject(params, "cursor", cursor);
    }
    struct list_req *lr = xmalloc(sizeof *lr);
    lr->c = c;
    lr->which = w;
    if (jsonrpc_call(c->peer, list_kinds[w].method, params, c->timeout_ms, list_page, lr) < 0) {
        free(lr);
        c->list_busy[w] = 0;
    }
}

static void list_tools(struct mcp_client *c, const char *cursor)
{
    cJSON *params = NULL;
    if (cursor) {
        params = cJSON_CreateObject();
        cJSON_AddStringToObject(params, "cursor", cursor);
    }
    c->listing = 1;
    if (jsonrpc_call(c->peer, "tools/list", params, c->timeout_ms, tools_page, c) < 0) {
        c->listing = 0;
        fail_closed(c, "cannot send tools/list");
    }
}

static void initialized(void *payload, const cJSON *result, const struct jsonrpc_error *err)
{
    struct mcp_client *c = payload;
    if (err) {
        char *m = xasprintf("initialize failed: %s", err->message);
        set_state(c, MCP_CLIENT_CLOSED, m);
        free(m);
        return;
    }
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(result, "protocolVersion");
    int known = 0;
    for (size_t i = 0; cJSON_IsString(v) && i < ARRAY_LEN(known_versions); i++)
        if (strcmp(v->valuestring, known_versions[i]) == 0)
            known = 1;
    if (!known) {
        char *m = xasprintf("server answered protocol version %s; mcpdeck speaks %s "
                            "(and 2025-06-18, 2025-03-26, 2024-11-05)",
                            cJSON_IsString(v) ? v->valuestring : "(none)",
                            MCP_PROTOCOL_VERSION);
        set_state(c, MCP_CLIENT_CLOSED, m);
        free(m);
        return;
    }
    free(c->protocol);
    c->protocol = xstrdup(v->valuestring);
    cJSON_Delete(c->server_info);
    const cJSON *si = cJSON_GetObjectItemCaseSensitive(result, "serverInfo");
    c->server_info = si ? cJSON_Duplicate(si, 1) : NULL;
    cJSON_Delete(c->capabilities);
    const cJSON *caps = cJSON_GetObjectItemCaseSensitive(result, "capabilities");
    c->capabilities = caps ? cJSON_Duplicate(caps, 1) : cJSON_CreateObject();
    jsonrpc_notify(c->peer, "notifications/initialized", NULL);
    if (c->log_level && has_cap(c, "logging")) {
        cJSON *p = cJSON_CreateObject();
        cJSON_AddStringToObject(p, "level", c->log_level);
        jsonrpc_call(c->peer, "logging/setLevel", p, c->timeout_ms, NULL, NULL);
    }
    /* READY once every advertised list is in; +1 guards the loop below. */
    c->pending_lists = 1;
    if (has_cap(c, "tools")) {
        c->pending_lists++;
        list_tools(c, NULL);
    }
    for (int i = 0; i < MCP_LIST_COUNT && c->state == MCP_CLIENT_CONNECTING; i++)
        if (has_cap(c, list_kinds[i].cap)) {
            c->pending_lists++;
            list_fetch(c, (enum mcp_list)i, NULL);
        }
    if (c->state == MCP_CLIENT_CONNECTING && --c->pending_lists == 0)
        set_state(c, MCP_CLIENT_READY, NULL);
}

void mcp_client_set_log_level(struct mcp_client *c, const char *level)
{
    free(c->log_level);
    c->log_level = xstrdup(level);
    if (c->state == MCP_CLIENT_READY && has_cap(c, "logging")) {
        cJSON *p = cJSON_CreateObject();
        cJSON_AddStringToObject(p, "level", level);
        jsonrpc_call(c->peer, "logging/setLevel", p, c->timeout_ms, NULL, NULL);
    }
}

static void connect_timeout(struct loop *l, uint64_t id, void *payload)
{
    struct mcp_client *c = payload;
    c->connect_timer = 0;
    if (c->state != MCP_CLIENT_CONNECTING)
        return;
    char *m = xasprintf("did not become ready within %d ms", c->timeout_ms);
    fail_closed(c, m);
    free(m);
}

int mcp_client_connect(struct mcp_client *c, int timeout_ms, char **errmsg)
{
    c->timeout_ms = timeout_ms;
    if (c->t->ops->start(c->t, errmsg) < 0) {
        set_state(c, MCP_CLIENT_CLOSED, *errmsg);
        return -1;
    }
    set_state(c, MCP_CLIENT_CONNECTING, NULL);
    c->connect_timer = loop_timer_add(c->loop, timeout_ms, connect_timeout, c);
    cJSON *params = cJSON_CreateObject();
    cJSON_AddStringToObject(params, "protocolVersion", MCP_PROTOCOL_VERSION);
    cJSON *caps = cJSON_AddObjectToObject(params, "capabilities");
    cJSON *roots = cJSON_AddObjectToObject(caps, "roots");
    cJSON_AddFalseToObject(roots, "listChanged");
    if (c->caps.elicitation) {
        cJSON *el = cJSON_AddObjectToObject(caps, "elicitation");
        cJSON *form = cJSON_AddObjectToObject(el, "form");
        cJSON_AddTrueToObject(form, "applyDefaults");
    }
    if (c->caps.sampling)
        cJSON_AddObjectToObject(caps, "sampling");
    cJSON *info = cJSON_AddObjectToObject(params, "clientInfo");
    cJSON_AddStringToObject(info, "name", "mcpdeck");
    cJSON_AddStringToObject(info, "version", MCPDECK_VERSION);
    if (jsonrpc_call(c->peer, "initialize", params, timeout_ms, initialized, c) < 0) {
        *errmsg = xasprintf("server %s: cannot send initialize", c->name);
        fail_closed(c, "cannot send initialize");
        return -1;
    }
    return 0;
}

/* === calls === */

static void call_unlink(struct mcp_client *c, struct call *k)
{
    for (struct call **pp = &c->calls; *pp; pp = &(*pp)->next)
        if (*pp == k) {
            *pp = k->next;
            break;
        }
    if (k->max_timer)
        loop_timer_del(c->loop, k->max_timer);
    k->max_timer = 0;
}

static void send_cancelled(struct mcp_client *c, int64_t id, const char *reason)
{
    if (c->state == MCP_CLIENT_CLOSED)
        return;
    cJSON *params = cJSON_CreateObject();
    cJSON_AddNumberToObject(params, "requestId", (double)id);
    if (reason)
        cJSON_AddStringToObject(params, "reason", reason);
    jsonrpc_notify(c->peer, "notifications/cancelled", params);
    if (c->t->ops->cancelled)
        c->t->ops->cancelled(c->t, id);
}

static void call_answer(void *payload, const cJSON *result, const struct jsonrpc_error *err)
{
    struct call *k = payload;
    struct mcp_client *c = k->c;
    call_unlink(c, k);
    if (err) {
        char *m;
        if (err->code == JSONRPC_ERR_TIMEOUT) {
            send_cancelled(c, k->id, "timeout");
            m = xasprintf("server %s: %s (request cancelled)", c->name, err->message);
        } else if (err->code == JSONRPC_ERR_CLOSED || err->code == JSONRPC_ERR_TOO_BIG ||
                   err->code == JSONRPC_ERR_CANCELLED || err->code == JSONRPC_ERR_TRANSPORT) {
            m = xasprintf("%s", err->message);
        } else {
            m = xasprintf("server %s answered error %d: %s", c->name, err->code, err->message);
        }
        k->cb(k->payload, NULL, m);
        free(m);
    } else if (k->is_tool && (!cJSON_IsObject(result) ||
                              !cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(result, "content")))) {
        char *m = xasprintf("server %s sent a tools/call result without a content array",
                            c->name);
        k->cb(k->payload, NULL, m);
        free(m);
    } else {
        k->cb(k->payload, result, NULL);
    }
    free(k);
}

static void call_max(struct loop *l, uint64_t id, void *payload)
{
    struct call *k = payload;
    k->max_timer = 0;
    char *why = xasprintf("server %s: no result within the maximum of %d ms (request cancelled)",
                          k->c->name, k->max_ms);
    mcp_client_cancel(k->c, k->id, why);
    free(why);
}

/* "mcpdeck-N" into out (at least 20 bytes): a progress token per call,
 * written without printf (this is on every call's path). */
static void token_text(char *out, size_t size, unsigned n)
{
    char digits[12];
    size_t nd = 0;
    do {
        digits[nd++] = (char)('0' + n % 10);
        n /= 10;
    } while (n);
    size_t i = 0;
    memcpy(out, "mcpdeck-", 8);
    i = 8;
    while (nd && i + 1 < size)
        out[i++] = digits[--nd];
    out[i] = '\0';
}

static struct call *call_new(struct mcp_client *c, mcp_call_cb cb, void *payload)
{
    struct call *k = xcalloc(1, sizeof *k);
    k->c = c;
    k->cb = cb;
    k->payload = payload;
    k->next = c->calls;
    c->calls = k;
    return k;
}

int64_t mcp_client_call_tool(struct mcp_client *c, const char *tool, const cJSON *args,
                             const struct mcp_call_opts *o, mcp_call_cb cb, void *payload,
                             char **errmsg)
{
    if (c->state != MCP_CLIENT_READY) {
        *errmsg = xasprintf("server %s is not ready (%s)", c->name,
                            c->error ? c->error : "not connected");
        return -1;
    }
    struct call *k = call_new(c, cb, payload);
    k->is_tool = 1;
    token_text(k->token, sizeof k->token, ++c->next_token);
    k->idle_ms = o ? o->timeout_ms : 0;
    k->max_ms = o ? o->max_ms : 0;
    k->on_progress = o ? o->on_progress : NULL;
    /* printed straight away: a tree built only to be printed would cost
     * more than the rest of the call's own work */
    struct buf *b = &c->params;
    buf_reuse(b);
    BUF_LIT(b, "{\"name\":");
    jsonw_string(b, tool);
    BUF_LIT(b, ",\"arguments\":");
    int ok = 1;
    if (args)
        ok = jsonw_value(b, args) == 0;
    else
        BUF_LIT(b, "{}");
    BUF_LIT(b, ",\"_meta\":{\"progressToken\":");
    jsonw_string(b, k->token);
    BUF_LIT(b, "}}");
    int64_t id = ok ? jsonrpc_call_text(c->peer, "tools/call", b->data, b->len, k->idle_ms,
                                        call_answer, k)
                    : -1;
    if (id < 0) {
        call_unlink(c, k);
        free(k);
        *errmsg = xasprintf("server %s: cannot send the request", c->name);
        return -1;
    }
    k->id = id;
    if (k->max_ms > 0)
        k->max_timer = loop_timer_add(c->loop, k->max_ms, call_max, k);
    return id;
}

/* The capability a method needs, or NULL. */
static const char *method_cap(const char *m, const char **sub)
{
    *sub = NULL;
    if (strcmp(m, "resources/subscribe") == 0 || strcmp(m, "resources/unsubscribe") == 0) {
        *sub = "subscribe";
        return "resources";
    }
    if (strncmp(m, "resources/", 10) == 0)
        return "resources";
    if (strncmp(m, "prompts/", 8) == 0)
        return "prompts";
    if (strncmp(m, "tools/", 6) == 0)
        return "tools";
    if (strcmp(m, "completion/complete") == 0)
        return "completions";
    if (strcmp(m, "logging/setLevel") == 0)
        return "logging";
    return NULL;
}

int64_t mcp_client_request(struct mcp_client *c, const char *method, cJSON *params,
                           int timeout_ms, mcp_call_cb cb, void *payload, char **errmsg)
{
    if (c->state != MCP_CLIENT_READY) {
        cJSON_Delete(params);
        *errmsg = xasprintf("server %s is not ready (%s)", c->name,
                            c->error ? c->error : "not connected");
        return -1;
    }
    const char *sub;
    const char *cap = method_cap(method, &sub);
    /* before 2025-03-26 there was no completions capability: completion
     * went with prompts or resources */
    if (cap && !strcmp(cap, "completions") && !mcp_client_version_at_least(c, "2025-03-26"))
        cap = cJSON_GetObjectItemCaseSensitive(c->capabilities, "prompts") ? "prompts"
                                                                           : "resources";
    const cJSON *cv = cap ? cJSON_GetObjectItemCaseSensitive(c->capabilities, cap) : NULL;
    if (cap && (!cv || (sub && !cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(cv, sub))))) {
        cJSON_Delete(params);
        *errmsg = xasprintf("server %s does not advertise the '%s%s%s' capability needed for "
                            "%s", c->name, cap, sub ? "." : "", sub ? sub : "", method);
        return -1;
    }
    struct call *k = call_new(c, cb, payload);
    int64_t id = jsonrpc_call(c->peer, method, params, timeout_ms, call_answer, k);
    if (id < 0) {
        call_unlink(c, k);
        free(k);
        *errmsg = xasprintf("server %s: cannot send the request", c->name);
        return -1;
    }
    k->id = id;
    return id;
}

void mcp_client_cancel(struct mcp_client *c, int64_t id, const char *reason)
{
    for (struct call *k = c->calls; k; k = k->next)
        if (k->id == id) {
            send_cancelled(c, id, reason);
            jsonrpc_call_abandon(c->peer, id, reason);
            return;
        }
}

int mcp_client_inflight(const struct mcp_client *c)
{
    int n = 0;
    for (const struct call *k = c->calls; k; k = k->next)
        n++;
    return n;
}

/* === lifecycle and accessors === */

struct mcp_client *mcp_client_new(struct loop *l, const char *name, struct mcp_transport *t,
                                  const char *const *roots, const struct mcp_client_caps *caps,
                                  const struct mcp_client_events *ev, void *payload)
{
    struct mcp_client *c = xcalloc(1, sizeof *c);
    if (caps)
        c->caps = *caps;
    buf_init(&c->log);
    buf_init(&c->params);
    c->loop = l;
    c->name = xstrdup(name);
    c->t = t;
    c->roots = roots;
    c->ev = ev;
    c->payload = payload;
    c->timeout_ms = 30000;
    t->up = &upcalls;
    t->owner = c;
    c->peer = jsonrpc_peer_new(l, &peer_ops, c);
    return c;
}

void mcp_client_free(struct mcp_client *c)
{
    if (!c)
        return;
    c->ev = NULL;                       /* no upcalls while tearing down */
    c->state = MCP_CLIENT_CLOSED;
    if (c->connect_timer)
        loop_timer_del(c->loop, c->connect_timer);
    jsonrpc_peer_free(c->peer);         /* fails calls still in flight */
    c->peer = NULL;
    c->t->up = NULL;
    c->t->ops->free(c->t);
    tools_free(c->tools, c->ntools);
    tools_free(c->next_tools, c->nnext);
    for (int i = 0; i < MCP_LIST_COUNT; i++) {
        cJSON_Delete(c->lists[i]);
        cJSON_Delete(c->next_list[i]);
        paging_reset(&c->list_paging[i]);
    }
    paging_reset(&c->tools_paging);
    buf_fini(&c->log);
    buf_fini(&c->params);
    free(c->log_level);
    cJSON_Delete(c->server_info);
    cJSON_Delete(c->capabilities);
    free(c->protocol);
    free(c->error);
    free(c->name);
    free(c);
}

enum mcp_client_state mcp_client_state(const struct mcp_client *c)
{
    return c->state;
}

const char *mcp_client_error(const struct mcp_client *c)
{
    return c->error;
}

int mcp_client_version_at_least(const struct mcp_client *c, const char *v)
{
    return c->protocol && strcmp(c->protocol, v) >= 0;
}

const char *mcp_client_protocol(const struct mcp_client *c)
{
    return c->protocol;
}

const cJSON *mcp_client_server_info(const struct mcp_client *c)
{
    return c->server_info;
}

struct mcp_transport *mcp_client_transport(struct mcp_client *c)
{
    return c->t;
}

size_t mcp_client_tools(const struct mcp_client *c, const struct mcp_tool **out)
{
    *out = c->tools;
    return c->ntools;
}

const cJSON *mcp_client_list(const struct mcp_client *c, enum mcp_list which)
{
    return (unsigned)which < MCP_LIST_COUNT ? c->lists[which] : NULL;
}

const cJSON *mcp_client_capabilities(const struct mcp_client *c)
{
    return c->capabilities;
}

const char *mcp_client_log(const struct mcp_client *c)
{
    return c->log.data ? c->log.data : "";
}

const struct mcp_tool *mcp_client_find_tool(const struct mcp_client *c, const char *name)
{
    for (size_t i = 0; i < c->ntools; i++)
        if (strcmp(c->tools[i].name, name) == 0)
            return &c->tools[i];
    return NULL;
}

/* === results === */

char *mcp_result_text(const cJSON *result)
{
    struct buf b;
    buf_init(&b);
    const cJSON *content = cJSON_GetObjectItemCaseSensitive(result, "content");
    const cJSON *item;
    cJSON_ArrayForEach(item, content) {
        const cJSON *type = cJSON_GetObjectItemCaseSensitive(item, "type");
        const char *ty = cJSON_IsString(type) ? type->valuestring : "?";
        if (b.len)
            buf_putc(&b, '\n');
        if (strcmp(ty, "text") == 0) {
            const cJSON *t = cJSON_GetObjectItemCaseSensitive(item, "text");
            if (cJSON_IsString(t))
                buf_puts(&b, t->valuestring);
        } else if (strcmp(ty, "image") == 0 || strcmp(ty, "audio") == 0) {
            const cJSON *m = cJSON_GetObjectItemCaseSensitive(item, "mimeType");
            const cJSON *d = cJSON_GetObjectItemCaseSensitive(item, "data");
            size_t n = cJSON_IsString(d) ? strlen(d->valuestring) / 4 * 3 : 0;
            buf_printf(&b, "[%s %s, ~%zu bytes]", ty, cJSON_IsString(m) ? m->valuestring : "?",
                       n);
        } else if (strcmp(ty, "resource_link") == 0) {
            const cJSON *u = cJSON_GetObjectItemCaseSensitive(item, "uri");
            buf_printf(&b, "[resource link %s]", cJSON_IsString(u) ? u->valuestring : "?");
        } else if (strcmp(ty, "resource") == 0) {
            const cJSON *r = cJSON_GetObjectItemCaseSensitive(item, "resource");
            const cJSON *u = cJSON_GetObjectItemCaseSensitive(r, "uri");
            const cJSON *t = cJSON_GetObjectItemCaseSensitive(r, "text");
            if (cJSON_IsString(t))
                buf_puts(&b, t->valuestring);
            else
                buf_printf(&b, "[resource %s]", cJSON_IsString(u) ? u->valuestring : "?");
        } else {
            buf_printf(&b, "[%s content]", ty);
        }
    }
    return buf_detach(&b);
}

int mcp_result_is_error(const cJSON *result)
{
    return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(result, "isError"));
}
