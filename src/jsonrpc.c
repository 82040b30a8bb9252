/* jsonrpc.c — JSON-RPC 2.0 framing and peer (see jsonrpc.h). */
#include "jsonrpc.h"
#include "jsonr.h"
#include "jsonw.h"
#include "loop.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* === framing === */

void jsonrpc_lines_init(struct jsonrpc_lines *f, size_t max)
{
    buf_init(&f->in);
    f->max = max;
    f->discarding = 0;
    f->discarded = 0;
}

void jsonrpc_lines_fini(struct jsonrpc_lines *f)
{
    buf_fini(&f->in);
}

int jsonrpc_lines_feed(struct jsonrpc_lines *f, const char *data, size_t len,
                       jsonrpc_line_cb cb, void *payload)
{
    while (len > 0) {
        const char *nl = memchr(data, '\n', len);
        size_t chunk = nl ? (size_t)(nl - data) : len;
        if (f->discarding) {
            f->discarded += chunk;
        } else if (f->in.len + chunk > f->max) {
            /* Over the limit: drop what we hold and the rest of the line. */
            f->discarded = f->in.len + chunk;
            f->discarding = 1;
            buf_consume(&f->in, f->in.len);
            int rc = cb(payload, NULL, f->discarded);
            if (rc)
                return rc;
        } else {
            buf_append(&f->in, data, chunk);
        }
        if (!nl)
            return 0;
        data += chunk + 1;
        len -= chunk + 1;
        if (f->discarding) {
            f->discarding = 0;
            f->discarded = 0;
            continue;
        }
        size_t n = f->in.len;
        if (n && f->in.data[n - 1] == '\r')
            f->in.data[--n] = '\0';
        int rc = 0;
        size_t i = 0;
        while (i < n && (f->in.data[i] == ' ' || f->in.data[i] == '\t'))
            i++;
        if (i < n)
            rc = cb(payload, f->in.data, n);
        buf_consume(&f->in, f->in.len);
        if (rc)
            return rc;
    }
    return 0;
}

int jsonrpc_lines_finish(struct jsonrpc_lines *f, jsonrpc_line_cb cb, void *payload)
{
    return jsonrpc_lines_feed(f, "\n", 1, cb, payload);
}

/* === peer === */

struct pending {
    int64_t id;
    jsonrpc_response_cb cb;
    void *payload;
    uint64_t timer;
    int timeout_ms;
    struct jsonrpc_peer *peer;
};

struct jsonrpc_peer {
    struct loop *loop;
    const struct jsonrpc_peer_ops *ops;
    void *ctx;
    int64_t next_id;
    struct pending **pend;
    size_t npend, cappend;
    struct buf scratch;          /* the text of the message being sent */
};

struct jsonrpc_peer *jsonrpc_peer_new(struct loop *l, const struct jsonrpc_peer_ops *ops,
                                      void *ctx)
{
    struct jsonrpc_peer *p = xcalloc(1, sizeof *p);
    p->loop = l;
    p->ops = ops;
    p->ctx = ctx;
    p->next_id = 1;
    buf_init(&p->scratch);
    return p;
}

void jsonrpc_peer_free(struct jsonrpc_peer *p)
{
    if (!p)
        return;
    jsonrpc_fail_all(p, JSONRPC_ERR_CLOSED, "connection closed");
    free(p->pend);
    buf_fini(&p->scratch);
    free(p);
}

static size_t pending_find(struct jsonrpc_peer *p, int64_t id)
{
    for (size_t i = 0; i < p->npend; i++)
        if (p->pend[i]->id == id)
            return i;
    return (size_t)-1;
}

/* Remove entry i and return it (caller frees). */
static struct pending *pending_take(struct jsonrpc_peer *p, size_t i)
{
    struct pending *pe = p->pend[i];
    p->pend[i] = p->pend[--p->npend];
    if (pe->timer)
        loop_timer_del(p->loop, pe->timer);
    return pe;
}

static void finish(struct pending *pe, const cJSON *result, const struct jsonrpc_error *err)
{
    if (pe->cb)
        pe->cb(pe->payload, result, err);
    free(pe);
}

static void on_timeout(struct loop *l, uint64_t tid, void *payload)
{
    struct pending *pe = payload;
    struct jsonrpc_peer *p = pe->peer;
    size_t i = pending_find(p, pe->id);
    if (i == (size_t)-1)
        return;
    pe->timer = 0;
    pending_take(p, i);
    char msg[96];
    snprintf(msg, sizeof msg, "no answer within %d ms", pe->timeout_ms);
    struct jsonrpc_error err = {JSONRPC_ERR_TIMEOUT, msg, NULL};
    finish(pe, NULL, &err);
}

/* Every message goes out through here: the envelope is written directly
 * (an integer id printed as one) and the body by jsonw into the peer's
 * scratch buffer, so sending allocates nothing once the buffer has grown.
 * The scratch is reused at once: a transport's send copies what it needs
 * (none answers synchronously). */
static struct buf *scratch(struct jsonrpc_peer *p)
{
    buf_reuse(&p->scratch);
    return &p->scratch;
}

static int send_buf(struct jsonrpc_peer *p, struct buf *b, const char *method, int64_t id)
{
    struct jsonrpc_sent what = {method, id};
    buf_putc(b, '}');
    return p->ops->send(p->ctx, b->data, b->len, &what);
}

static void put_id(struct buf *b, const cJSON *id)
{
    BUF_LIT(b, ",\"id\":");
    if (jsonw_value(b, id) < 0)
        BUF_LIT(b, "null");
}

/* {"jsonrpc":"2.0"[,"id":ID],"method":METHOD[,"params":PARAMS]}; id < 0: a
 * notification. PARAMS as a tree, or (tree NULL) as text already printed,
 * or neither. Takes nothing. */
static int send_request(struct jsonrpc_peer *p, int64_t id, const char *method,
                        const cJSON *params, const char *text, size_t len)
{
    struct buf *b = scratch(p);
    BUF_LIT(b, "{\"jsonrpc\":\"2.0\"");
    if (id >= 0) {
        BUF_LIT(b, ",\"id\":");
        jsonw_int(b, id);
    }
    BUF_LIT(b, ",\"method\":");
    jsonw_string(b, method);
    if (params) {
        BUF_LIT(b, ",\"params\":");
        if (jsonw_value(b, params) < 0)
            return -1;
    } else if (text) {
        BUF_LIT(b, ",\"params\":");
        buf_append(b, text, len);
    }
    return send_buf(p, b, method, id);
}

static int64_t call(struct jsonrpc_peer *p, const char *method, cJSON *params,
                    const char *text, size_t len, int timeout_ms, jsonrpc_response_cb cb,
                    void *payload)
{
    int64_t id = p->next_id++;
    /* Register before sending: an in-process peer may answer at once. */
    struct pending *pe = xcalloc(1, sizeof *pe);
    pe->id = id;
    pe->cb = cb;
    pe->payload = payload;
    pe->peer = p;
    pe->timeout_ms = timeout_ms;
    if (p->npend == p->cappend) {
        p->cappend = p->cappend ? p->cappend * 2 : 8;
        p->pend = xrealloc(p->pend, p->cappend * sizeof *p->pend);
    }
    p->pend[p->npend++] = pe;
    if (timeout_ms > 0)
        pe->timer = loop_timer_add(p->loop, timeout_ms, on_timeout, pe);
    int rc = send_request(p, id, method, params, text, len);
    cJSON_Delete(params);
    if (rc < 0) {
        size_t i = pending_find(p, id);
        if (i != (size_t)-1)
            free(pending_take(p, i));
        return -1;
    }
    return id;
}

int64_t jsonrpc_call(struct jsonrpc_peer *p, const char *method, cJSON *params,
                     int timeout_ms, jsonrpc_response_cb cb, void *payload)
{
    return call(p, method, params, NULL, 0, timeout_ms, cb, payload);
}

int64_t jsonrpc_call_text(struct jsonrpc_peer *p, const char *method, const char *params,
                          size_t len, int timeout_ms, jsonrpc_response_cb cb, void *payload)
{
    return call(p, method, NULL, params, len, timeout_ms, cb, payload);
}

void jsonrpc_call_extend(struct jsonrpc_peer *p, int64_t id, int timeout_ms)
{
    size_t i = pending_find(p, id);
    if (i == (size_t)-1)
        return;
    struct pending *pe = p->pend[i];
    if (pe->timer)
        loop_timer_del(p->loop, pe->timer);
    pe->timer = 0;
    pe->timeout_ms = timeout_ms;
    if (timeout_ms > 0)
        pe->timer = loop_timer_add(p->loop, timeout_ms, on_timeout, pe);
}

void jsonrpc_call_abandon(struct jsonrpc_peer *p, int64_t id, const char *why)
{
    size_t i = pending_find(p, id);
    if (i == (size_t)-1)
        return;
    struct pending *pe = pending_take(p, i);
    struct jsonrpc_error err = {JSONRPC_ERR_CANCELLED, why ? why : "cancelled", NULL};
    finish(pe, NULL, &err);
}

int jsonrpc_notify(struct jsonrpc_peer *p, const char *method, cJSON *params)
{
    int rc = send_request(p, -1, method, params, NULL, 0);
    cJSON_Delete(params);
    return rc;
}

int jsonrpc_respond(struct jsonrpc_peer *p, const cJSON *id, cJSON *result)
{
    struct buf *b = scratch(p);
    BUF_LIT(b, "{\"jsonrpc\":\"2.0\"");
    put_id(b, id);
    BUF_LIT(b, ",\"result\":");
    int rc = result ? jsonw_value(b, result) : (BUF_LIT(b, "{}"), 0);
    cJSON_Delete(result);
    return rc < 0 ? -1 : send_buf(p, b, NULL, -1);
}

int jsonrpc_respond_error(struct jsonrpc_peer *p, const cJSON *id, int code,
                          const char *message)
{
    struct buf *b = scratch(p);
    BUF_LIT(b, "{\"jsonrpc\":\"2.0\"");
    put_id(b, id);
    BUF_LIT(b, ",\"error\":{\"code\":");
    jsonw_int(b, code);
    BUF_LIT(b, ",\"message\":");
    jsonw_string(b, message ? message : "");
    buf_putc(b, '}');
    return send_buf(p, b, NULL, -1);
}

static void garbage(struct jsonrpc_peer *p, const char *why, const char *detail)
{
    if (!p->ops->on_garbage)
        return;
    char *msg = xasprintf("%s%s", why, detail);
    p->ops->on_garbage(p->ctx, msg);
    free(msg);
}

/* The members of a message that matter, found in one pass over them
 * (first match wins, as cJSON_GetObjectItemCaseSensitive would). */
struct members {
    const cJSON *method, *id, *params, *result, *error;
};

static void members_of(const cJSON *msg, struct members *m)
{
    memset(m, 0, sizeof *m);
    for (const cJSON *c = msg->child; c; c = c->next) {
        const char *k = c->string;
        if (!k)
            continue;
        const cJSON **slot = NULL;
        switch (k[0]) {
        case 'm': slot = strcmp(k, "method") == 0 ? &m->method : NULL; break;
        case 'i': slot = strcmp(k, "id") == 0 ? &m->id : NULL; break;
        case 'p': slot = strcmp(k, "params") == 0 ? &m->params : NULL; break;
        case 'r': slot = strcmp(k, "result") == 0 ? &m->result : NULL; break;
        case 'e': slot = strcmp(k, "error") == 0 ? &m->error : NULL; break;
        }
        if (slot && !*slot)
            *slot = c;
    }
}

static void handle_response(struct jsonrpc_peer *p, const struct members *m)
{
    const cJSON *id = m->id;
    if (!cJSON_IsNumber(id)) {
        garbage(p, "response with a non-numeric id we never sent", "");
        return;
    }
    /* our ids are whole and positive: 1.5 must not answer request 1 */
    int64_t n;
    size_t i = util_whole_in(id->valuedouble, 1, INT64_MAX, &n) ? pending_find(p, n) : (size_t)-1;
    if (i == (size_t)-1) {
        char *t = cJSON_PrintUnformatted(id);
        garbage(p, "response for unknown id ", t ? t : "?");
        cJSON_free(t);
        return;
    }
    struct pending *pe = pending_take(p, i);
    const cJSON *err = m->error;
    if (err) {
        const cJSON *code = cJSON_GetObjectItemCaseSensitive(err, "code");
        const cJSON *msg = cJSON_GetObjectItemCaseSensitive(err, "message");
        struct jsonrpc_error e = {
            cJSON_IsNumber(code) ? code->valueint : JSONRPC_INTERNAL_ERROR,
            cJSON_IsString(msg) ? msg->valuestring : "error without a message",
            cJSON_GetObjectItemCaseSensitive(err, "data"),
        };
        finish(pe, NULL, &e);
        return;
    }
    if (!m->result) {
        struct jsonrpc_error e = {JSONRPC_INVALID_REQUEST,
                                  "response has neither result nor error", NULL};
        finish(pe, NULL, &e);
        return;
    }
    finish(pe, m->result, NULL);
}

static void handle_one(struct jsonrpc_peer *p, const cJSON *msg)
{
    if (!cJSON_IsObject(msg)) {
        garbage(p, "message is not a JSON object", "");
        return;
    }
    struct members m;
    members_of(msg, &m);
    if (cJSON_IsString(m.method)) {
        if (m.id && !cJSON_IsNull(m.id)) {
            if (p->ops->on_request)
                p->ops->on_request(p->ctx, m.method->valuestring, m.params, m.id);
            else
                jsonrpc_respond_error(p, m.id, JSONRPC_METHOD_NOT_FOUND, "method not found");
        } else if (p->ops->on_notification) {
            p->ops->on_notification(p->ctx, m.method->valuestring, m.params);
        }
        return;
    }
    if (m.id)
        handle_response(p, &m);
    else
        garbage(p, "message has neither method nor id", "");
}

/* A message's tree lives in an arena while it is handled (handlers get it
 * const and copy what they keep): an ordinary answer fits in the 2 KiB on
 * the stack, so reading it costs no malloc or free per node. */
void jsonrpc_receive(struct jsonrpc_peer *p, const char *json, size_t len)
{
    uint64_t space[256];
    struct jsonr_arena arena;
    jsonr_arena_init(&arena, space, sizeof space);
    cJSON *msg = jsonr_parse_in(&arena, json, len);
    if (!msg) {
        jsonr_arena_fini(&arena);
        char snippet[64];
        size_t n = len < sizeof snippet - 1 ? len : sizeof snippet - 1;
        memcpy(snippet, json, n);
        snippet[n] = '\0';
        garbage(p, "not JSON: ", snippet);
        return;
    }
    if (cJSON_IsArray(msg)) {
        const cJSON *it;
        cJSON_ArrayForEach(it, msg)
            handle_one(p, it);
    } else {
        handle_one(p, msg);
    }
    jsonr_arena_fini(&arena);
}

void jsonrpc_fail_all(struct jsonrpc_peer *p, int code, const char *message)
{
    struct jsonrpc_error err = {code, message, NULL};
    while (p->npend > 0) {
        struct pending *pe = pending_take(p, p->npend - 1);
        finish(pe, NULL, &err);
    }
}

int jsonrpc_pending(const struct jsonrpc_peer *p)
{
    return (int)p->npend;
}
