/* serve_http.c — the Streamable HTTP transport of mcpdeck's MCP server.
 *
 * libmicrohttpd (MHD) runs without threads of its own, in its external
 * epoll mode: its epoll fd is watched on the engine's loop, a loop timer
 * follows MHD_get_timeout, and a before-sleep hook resumes the
 * connections that have something to send and runs MHD once more.
 *
 * A session (struct hsess) is one serve_session plus its id. Each POST
 * that carries requests and each GET gets a stream (struct hstream): the
 * messages the session sends are queued on it as events — answers and
 * notifications about a request on that request's POST stream (found by
 * the send callback's related id), general messages on a GET stream; a
 * request to the client about a POST that gets a JSON answer (it cannot
 * carry one) goes to the GET stream too.
 * A stream outlives its connection until it is complete and delivered,
 * so a client that lost it can come back with Last-Event-ID (event ids
 * are "<stream>-<seq>"). A POST whose answers are all there by the time
 * the session returned is answered as plain JSON; otherwise the answer
 * comes as SSE when the client accepts it, or the connection is
 * suspended until the last answer arrives and then gets JSON.
 * initialize is always answered as JSON, so the session id can go in its
 * headers only once the session is ready. Who may talk at all (Host,
 * Origin, token) is decided in serve_http_guard.c. */
#include "serve_http.h"
#include "jsonw.h"
#include "serve_http_int.h"

#include "config.h"
#include "engine.h"
#include "log.h"
#include "loop.h"
#include "serve.h"
#include "util.h"

#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>

#define HTTP_PATH "/mcp"
#define HTTP_DEFAULT_LISTEN "127.0.0.1:8808"
#define HTTP_MAX_BODY (16u << 20)
#define HTTP_WAIT_MAX_MS 30000
#define HTTP_KEEP_EVENTS 64        /* delivered GET events kept for Last-Event-ID */
#define HTTP_MAX_BACKLOG 1024      /* general messages kept while no GET stream is open */
#define HTTP_KEEPALIVE_MS 20000    /* a comment on idle GET streams (finds dead peers) */
#define HTTP_RETRY_MS 1000         /* the SSE retry: field of the priming event */
#define HTTP_SESSION_IDLE_MS (60 * 60 * 1000)   /* a session nobody used for this long ends */
#define HTTP_KEEP_LOST 16          /* POST streams kept per session after their connection went */

struct hevent {
    uint64_t seq;
    char *json;                  /* NULL: the priming event (an id and empty data) */
    size_t len;
};

struct hevq {
    struct hevent *v;
    size_t n, cap;
};

enum hstream_kind { HSTREAM_POST, HSTREAM_GET };

struct hreq;
struct hsess;

struct hstream {
    struct serve_http *h;
    struct hsess *sess;          /* NULL once the session ended */
    uint64_t id;
    enum hstream_kind kind;
    char **want;                 /* POST: ids (JSON text) of requests not answered yet */
    size_t nwant;
    struct hevq q;               /* events, delivered or not */
    uint64_t seq;                /* last event number */
    size_t cur;                  /* q index of the next event for the connection */
    struct buf wire;             /* SSE bytes of the event being written */
    size_t wire_off;
    int ping;                    /* a keepalive comment is due */
    int done;                    /* no event will be added */
    struct hreq *req;            /* the connection it is attached to, or NULL */
    struct hstream *next;        /* in h->streams */
};

struct hsess {
    struct serve_http *h;
    char id[33];
    struct serve_session *ss;
    int registered;              /* initialize answered: findable by id */
    int64_t last_ms;             /* its last request */
    struct hevq backlog;         /* general messages waiting for a GET stream */
    uint64_t backlog_seq;
    struct hsess *next;
};

struct hreq {
    struct serve_http *h;
    struct MHD_Connection *conn;
    struct buf body;
    int too_large;
    int sse;                     /* the stream is answered as SSE (else JSON) */
    int init;                    /* this POST is an initialize */
    int batch;                   /* this POST is a batch: the JSON answer is an array */
    int suspended, wake;
    struct hstream *st;
    struct hsess *new_sess;      /* initialize: the session not registered yet */
    struct hreq *next;           /* in h->reqs */
};

struct serve_http {
    struct engine *e;
    struct loop *l;
    struct serve *s;
    struct MHD_Daemon *d;
    int epfd;
    struct http_guard g;         /* the bound address, token, allowed Origins */
    char *url;
    struct hsess *sessions;
    struct hstream *streams;
    struct hreq *reqs;           /* requests in progress */
    uint64_t next_stream;
    int nwake;                   /* connections to resume */
    int need_run;
    uint64_t timer;
    int64_t timer_at;
    uint64_t keepalive;
    int stop;
};

static void pump(struct loop *l, void *payload);

/* === Small helpers === */

static void hevq_push(struct hevq *q, uint64_t seq, const char *json, size_t len)
{
    if (q->n == q->cap) {
        q->cap = q->cap ? q->cap * 2 : 8;
        q->v = xrealloc(q->v, q->cap * sizeof *q->v);
    }
    q->v[q->n].seq = seq;
    q->v[q->n].json = json ? xstrndup(json, len) : NULL;
    q->v[q->n].len = json ? len : 0;
    q->n++;
}

static void hevq_drop_front(struct hevq *q, size_t n)
{
    if (n == 0)
        return;
    for (size_t i = 0; i < n; i++)
        free(q->v[i].json);
    memmove(q->v, q->v + n, (q->n - n) * sizeof *q->v);
    q->n -= n;
}

static void hevq_fini(struct hevq *q)
{
    hevq_drop_front(q, q->n);
    free(q->v);
    memset(q, 0, sizeof *q);
}

static int ci_has(const char *hay, const char *needle)
{
    return hay && strcasestr(hay, needle) != NULL;
}

static const char *header(struct MHD_Connection *c, const char *name)
{
    return MHD_lookup_connection_value(c, MHD_HEADER_KIND, name);
}

static enum MHD_Result reply(struct MHD_Connection *c, unsigned int status, const char *ctype,
                             const char *body, const char *sid)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(body ? strlen(body) : 0,
                                                             (void *)(body ? body : ""),
                                                             MHD_RESPMEM_MUST_COPY);
    if (!r)
        return MHD_NO;
    if (ctype)
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
    if (sid)
        MHD_add_response_header(r, "Mcp-Session-Id", sid);
    if (status == MHD_HTTP_UNAUTHORIZED)
        MHD_add_response_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer");
    if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
        MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, POST, DELETE");
    enum MHD_Result rc = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return rc;
}

/* An HTTP error with a JSON-RPC error body (what the SDKs expect). */
static enum MHD_Result reply_error(struct MHD_Connection *c, unsigned int status, int code,
                                   const char *msg)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "jsonrpc", "2.0");
    cJSON_AddNullToObject(o, "id");
    cJSON *err = cJSON_AddObjectToObject(o, "error");
    cJSON_AddNumberToObject(err, "code", code);
    cJSON_AddStringToObject(err, "message", msg);
    char *txt = jsonw_print(o);
    cJSON_Delete(o);
    enum MHD_Result rc = reply(c, status, "application/json", txt, NULL);
    cJSON_free(txt);
    return rc;
}

/* === Streams and sessions === */

static void req_wake(struct hreq *r)
{
    if (r && r->suspended && !r->wake) {
        r->wake = 1;
        r->h->nwake++;
    }
}

static void wake(struct hstream *st)
{
    req_wake(st->req);
}

static struct hstream *stream_new(struct serve_http *h, struct hsess *sess,
                                  enum hstream_kind kind)
{
    struct hstream *st = xcalloc(1, sizeof *st);
    st->h = h;
    st->sess = sess;
    st->id = ++h->next_stream;
    st->kind = kind;
    buf_init(&st->wire);
    st->next = h->streams;
    h->streams = st;
    return st;
}

static void stream_push(struct hstream *st, const char *json, size_t len)
{
    hevq_push(&st->q, ++st->seq, json, len);
    if (st->kind == HSTREAM_GET && st->q.n > HTTP_MAX_BACKLOG) {
        /* nobody reads it: the oldest go */
        size_t drop = st->q.n - HTTP_MAX_BACKLOG;
        hevq_drop_front(&st->q, drop);
        st->cur = st->cur > drop ? st->cur - drop : 0;
    }
    wake(st);
}

static void stream_free(struct hstream *st)
{
    struct serve_http *h = st->h;
    for (struct hstream **p = &h->streams; *p; p = &(*p)->next)
        if (*p == st) {
            *p = st->next;
            break;
        }
    for (size_t i = 0; i < st->nwant; i++)
        free(st->want[i]);
    free(st->want);
    hevq_fini(&st->q);
    buf_fini(&st->wire);
    free(st);
}

static int stream_drained(const struct hstream *st)
{
    return st->cur >= st->q.n && st->wire_off >= st->wire.len;
}

/* The GET stream a general message of sess goes to: one with a
 * connection first, else the newest still open; NULL = none. */
static struct hstream *general_stream(struct hsess *sess)
{
    struct hstream *detached = NULL;
    for (struct hstream *st = sess->h->streams; st; st = st->next) {
        if (st->sess != sess || st->kind != HSTREAM_GET || st->done)
            continue;
        if (st->req)
            return st;
        if (!detached)
            detached = st;
    }
    return detached;
}

enum msg_kind { MSG_RESPONSE, MSG_REQUEST, MSG_NOTIFICATION };

static enum msg_kind msg_kind(const char *json, size_t len)
{
    cJSON *m = cJSON_ParseWithLength(json, len);
    enum msg_kind k = MSG_NOTIFICATION;
    if (m && cJSON_IsObject(m) && cJSON_GetObjectItem(m, "id"))
        k = cJSON_GetObjectItem(m, "method") ? MSG_REQUEST : MSG_RESPONSE;
    cJSON_Delete(m);
    return k;
}

static int is_response(const char *json, size_t len)
{
    return msg_kind(json, len) == MSG_RESPONSE;
}

/* serve_send_fn: a message from the session to its client. */
static void on_send(void *payload, const char *json, size_t len, const char *related)
{
    struct hsess *sess = payload;
    struct hstream *st = NULL;
    size_t w = 0;
    for (struct hstream *s = related ? sess->h->streams : NULL; s && !st; s = s->next) {
        if (s->sess != sess || s->kind != HSTREAM_POST || s->done)
            continue;
        for (w = 0; w < s->nwant; w++)
            if (strcmp(s->want[w], related) == 0) {
                st = s;
                break;
            }
    }
    enum msg_kind kind = msg_kind(json, len);
    /* a request to the client (a relayed sampling or elicitation) about a
     * POST answered as JSON cannot go on it: the GET stream takes it */
    if (st && kind == MSG_REQUEST && st->req && !st->req->sse)
        st = NULL;
    else if (!st && related && kind != MSG_RESPONSE && kind != MSG_REQUEST)
        return;                  /* about a request already answered: too late to matter */
    if (st) {
        stream_push(st, json, len);
        if (kind == MSG_RESPONSE) {
            free(st->want[w]);
            st->want[w] = st->want[--st->nwant];
            if (st->nwant == 0)
                st->done = 1;
        }
        return;
    }
    if ((st = general_stream(sess))) {
        stream_push(st, json, len);
        return;
    }
    if (sess->backlog.n >= HTTP_MAX_BACKLOG)
        hevq_drop_front(&sess->backlog, 1);
    hevq_push(&sess->backlog, ++sess->backlog_seq, json, len);
}

static struct hsess *sess_new(struct serve_http *h)
{
    struct hsess *sess = xcalloc(1, sizeof *sess);
    sess->h = h;
    unsigned char rnd[16];
    if (getrandom(rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd) {
        /* no entropy source: still unique, just guessable */
        uint64_t t = (uint64_t)util_now_us() ^ ((uint64_t)(uintptr_t)sess << 16);
        memcpy(rnd, &t, sizeof t);
        memcpy(rnd + 8, &h->next_stream, sizeof h->next_stream);
    }
    for (size_t i = 0; i < sizeof rnd; i++)
        snprintf(sess->id + 2 * i, 3, "%02x", rnd[i]);
    sess->ss = serve_session_new(h->s, on_send, sess);
    sess->last_ms = util_now_ms();
    sess->next = h->sessions;
    h->sessions = sess;
    return sess;
}

/* Ends the session: its calls are cancelled, its streams end (those
 * without a connection go at once, the others when it closes). */
static void sess_free(struct hsess *sess)
{
    struct serve_http *h = sess->h;
    for (struct hsess **p = &h->sessions; *p; p = &(*p)->next)
        if (*p == sess) {
            *p = sess->next;
            break;
        }
    serve_session_free(sess->ss);
    for (struct hstream *st = h->streams, *nx; st; st = nx) {
        nx = st->next;
        if (st->sess != sess)
            continue;
        st->sess = NULL;
        st->done = 1;
        if (st->req)
            wake(st);
        else
            stream_free(st);
    }
    hevq_fini(&sess->backlog);
    free(sess);
}

static struct hsess *sess_find(struct serve_http *h, const char *id)
{
    for (struct hsess *s = h->sessions; s; s = s->next)
        if (s->registered && strcmp(s->id, id) == 0) {
            s->last_ms = util_now_ms();
            return s;
        }
    return NULL;
}

/* === SSE out === */

static void wire_event(struct hstream *st, const struct hevent *ev)
{
    buf_fini(&st->wire);
    buf_init(&st->wire);
    st->wire_off = 0;
    buf_printf(&st->wire, "id: %llu-%llu\n", (unsigned long long)st->id,
               (unsigned long long)ev->seq);
    if (!ev->json) {
        buf_printf(&st->wire, "retry: %d\ndata: \n\n", HTTP_RETRY_MS);
        return;
    }
    buf_puts(&st->wire, "event: message\n");
    const char *p = ev->json, *end = ev->json + ev->len;
    while (p < end) {            /* a newline in the JSON starts another data: line */
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        buf_puts(&st->wire, "data: ");
        buf_append(&st->wire, p, n);
        buf_putc(&st->wire, '\n');
        p += n + (nl ? 1 : 0);
    }
    buf_putc(&st->wire, '\n');
}

/* MHD content reader of an SSE response: what is queued, else suspend. */
static ssize_t sse_read(void *cls, uint64_t pos, char *out, size_t max)
{
    struct hreq *r = cls;
    struct hstream *st = r->st;
    (void)pos;
    if (!st)
        return MHD_CONTENT_READER_END_OF_STREAM;
    size_t n = 0;
    while (n < max) {
        if (st->wire_off >= st->wire.len) {
            if (st->cur < st->q.n) {
                wire_event(st, &st->q.v[st->cur++]);
            } else if (st->ping) {
                st->ping = 0;
                buf_fini(&st->wire);
                buf_init(&st->wire);
                st->wire_off = 0;
                buf_puts(&st->wire, ":\n\n");
            } else {
                break;
            }
        }
        size_t k = st->wire.len - st->wire_off;
        if (k > max - n)
            k = max - n;
        memcpy(out + n, st->wire.data + st->wire_off, k);
        st->wire_off += k;
        n += k;
    }
    if (st->kind == HSTREAM_GET && st->cur > HTTP_KEEP_EVENTS) {
        size_t drop = st->cur - HTTP_KEEP_EVENTS;
        hevq_drop_front(&st->q, drop);
        st->cur -= drop;
    }
    if (n)
        return (ssize_t)n;
    if (st->done)
        return MHD_CONTENT_READER_END_OF_STREAM;
    MHD_suspend_connection(r->conn);
    r->suspended = 1;
    return 0;
}

static enum MHD_Result reply_sse(struct hreq *r)
{
    struct MHD_Response *resp =
        MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16 * 1024, sse_read, r, NULL);
    if (!resp)
        return MHD_NO;
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "text/event-stream");
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
    if (r->st->sess)
        MHD_add_response_header(resp, "Mcp-Session-Id", r->st->sess->id);
    enum MHD_Result rc = MHD_queue_response(r->conn, MHD_HTTP_OK, resp);
    MHD_destroy_response(resp);
    return rc;
}

/* Whether the stream holds only answers (no notification, no request). */
static int only_responses(const struct hstream *st)
{
    for (size_t i = 0; i < st->q.n; i++)
        if (st->q.v[i].json && !is_response(st->q.v[i].json, st->q.v[i].len))
            return 0;
    return 1;
}

/* The answers of a finished POST as one JSON body: the answer itself, or
 * an array for a batch. Notifications about the requests are dropped
 * (the client did not take a stream). */
static enum MHD_Result reply_json(struct hreq *r)
{
    int batch = r->batch;
    struct hstream *st = r->st;
    struct buf b;
    buf_init(&b);
    size_t k = 0;
    if (batch)
        buf_putc(&b, '[');
    for (size_t i = 0; i < st->q.n; i++) {
        const struct hevent *ev = &st->q.v[i];
        if (!ev->json || !is_response(ev->json, ev->len))
            continue;
        if (k++)
            buf_putc(&b, ',');
        buf_append(&b, ev->json, ev->len);
    }
    if (batch)
        buf_putc(&b, ']');
    buf_putc(&b, 0);
    struct hsess *sess = st->sess;
    const char *sid = NULL;
    if (r->init && sess && r->new_sess == sess) {
        if (serve_session_ready(sess->ss)) {
            sess->registered = 1;
            sid = sess->id;
            r->new_sess = NULL;
        }
    }
    enum MHD_Result rc = reply(r->conn, MHD_HTTP_OK, "application/json", b.data, sid);
    buf_fini(&b);
    st->cur = st->q.n;
    return rc;
}

/* === Requests === */

struct post_scan {
    char **ids;                  /* request ids as JSON text */
    size_t nids;
    int init;
    int batch;
};

static void scan_message(const cJSON *m, struct post_scan *ps)
{
    const cJSON *method = cJSON_GetObjectItem(m, "method");
    const cJSON *id = cJSON_GetObjectItem(m, "id");
    if (!cJSON_IsString(method) || !id || cJSON_IsNull(id))
        return;
    if (strcmp(method->valuestring, "initialize") == 0)
        ps->init = 1;
    char *t = jsonw_print(id);
    ps->ids = xrealloc(ps->ids, (ps->nids + 1) * sizeof *ps->ids);
    ps->ids[ps->nids++] = xstrdup(t);
    cJSON_free(t);
}

static enum MHD_Result handle_post(struct hreq *r)
{
    struct serve_http *h = r->h;
    struct MHD_Connection *c = r->conn;
    if (r->too_large)
        return reply_error(c, MHD_HTTP_CONTENT_TOO_LARGE, -32600, "Request body too large");
    cJSON *doc = cJSON_ParseWithLength(r->body.data ? r->body.data : "", r->body.len);
    if (!doc || (!cJSON_IsObject(doc) && !cJSON_IsArray(doc))) {
        cJSON_Delete(doc);
        return reply_error(c, MHD_HTTP_BAD_REQUEST, -32700,
                           "Parse error: the body is not JSON-RPC");
    }
    struct post_scan ps = {NULL, 0, 0, cJSON_IsArray(doc)};
    if (ps.batch) {
        const cJSON *m;
        cJSON_ArrayForEach(m, doc) scan_message(m, &ps);
    } else {
        scan_message(doc, &ps);
    }
    cJSON_Delete(doc);
    const char *accept = header(c, MHD_HTTP_HEADER_ACCEPT);
    int sse_ok = ci_has(accept, "text/event-stream");
    enum MHD_Result rc;
    struct hsess *sess = NULL;
    if (ps.init) {
        sess = r->new_sess = sess_new(h);
    } else {
        const char *sid = header(c, "Mcp-Session-Id");
        if (!sid) {
            rc = reply_error(c, MHD_HTTP_BAD_REQUEST, -32000,
                             "Bad Request: Mcp-Session-Id header is required");
            goto done;
        }
        if (!(sess = sess_find(h, sid))) {
            rc = reply_error(c, MHD_HTTP_NOT_FOUND, -32001, "Session not found");
            goto done;
        }
        if (!http_guard_protocol_ok(header(c, "MCP-Protocol-Version"))) {
            rc = reply_error(c, MHD_HTTP_BAD_REQUEST, -32000,
                             "Bad Request: unsupported MCP-Protocol-Version");
            goto done;
        }
    }
    if (ps.nids == 0) {
        serve_session_receive(sess->ss, r->body.data, r->body.len);
        rc = reply(c, MHD_HTTP_ACCEPTED, NULL, NULL, NULL);
        goto done;
    }
    struct hstream *st = stream_new(h, sess, HSTREAM_POST);
    st->want = ps.ids;
    st->nwant = ps.nids;
    ps.ids = NULL;
    ps.nids = 0;
    st->req = r;
    r->st = st;
    r->init = ps.init;
    r->sse = 0;
    const char *proto = serve_session_protocol(sess->ss);
    int priming = sse_ok && !ps.init && proto && strcmp(proto, "2025-11-25") >= 0;
    if (priming)
        stream_push(st, NULL, 0);
    serve_session_receive(sess->ss, r->body.data, r->body.len);
    r->batch = ps.batch;
    if (st->done && (!sse_ok || ps.init || only_responses(st))) {
        /* everything answered at once, nothing else to say: plain JSON */
        rc = reply_json(r);
    } else if (sse_ok && !ps.init) {
        r->sse = 1;
        rc = reply_sse(r);
    } else {
        MHD_suspend_connection(c);   /* reply_json when the last answer is in */
        r->suspended = 1;
        rc = MHD_YES;
    }
    return rc;
done:
    for (size_t i = 0; i < ps.nids; i++)
        free(ps.ids[i]);
    free(ps.ids);
    if (r->new_sess) {
        sess_free(r->new_sess);
        r->new_sess = NULL;
    }
    return rc;
}

/* GET: a new general stream, or a stream resumed after Last-Event-ID. */
static enum MHD_Result handle_get(struct hreq *r)
{
    struct serve_http *h = r->h;
    struct MHD_Connection *c = r->conn;
    if (!ci_has(header(c, MHD_HTTP_HEADER_ACCEPT), "text/event-stream"))
        return reply_error(c, MHD_HTTP_NOT_ACCEPTABLE, -32000,
                           "Not Acceptable: GET needs Accept: text/event-stream");
    const char *sid = header(c, "Mcp-Session-Id");
    if (!sid)
        return reply_error(c, MHD_HTTP_BAD_REQUEST, -32000,
                           "Bad Request: Mcp-Session-Id header is required");
    struct hsess *sess = sess_find(h, sid);
    if (!sess)
        return reply_error(c, MHD_HTTP_NOT_FOUND, -32001, "Session not found");
    if (!http_guard_protocol_ok(header(c, "MCP-Protocol-Version")))
        return reply_error(c, MHD_HTTP_BAD_REQUEST, -32000,
                           "Bad Request: unsupported MCP-Protocol-Version");
    const char *last = header(c, "Last-Event-ID");
    unsigned long long sid_n, seq;
    if (last && sscanf(last, "%llu-%llu", &sid_n, &seq) == 2) {
        for (struct hstream *st = h->streams; st; st = st->next) {
            if (st->sess != sess || st->id != sid_n)
                continue;
            if (st->req) {
                /* the old connection is most likely dead (a suspended one
                 * cannot tell): it ends, this one takes the stream over */
                st->req->st = NULL;
                req_wake(st->req);
            }
            st->cur = 0;
            while (st->cur < st->q.n && st->q.v[st->cur].seq <= seq)
                st->cur++;
            buf_fini(&st->wire);
            buf_init(&st->wire);
            st->wire_off = 0;
            st->req = r;
            r->st = st;
            r->sse = 1;
            return reply_sse(r);
        }
    }
    struct hstream *st = stream_new(h, sess, HSTREAM_GET);
    st->req = r;
    r->st = st;
    r->sse = 1;
    const char *proto = serve_session_protocol(sess->ss);
    if (proto && strcmp(proto, "2025-11-25") >= 0)
        stream_push(st, NULL, 0);             /* priming: an id to come back with */
    /* what waited for a GET stream, and what went to streams that lost
     * their connection, goes out on this one */
    for (size_t i = 0; i < sess->backlog.n; i++)
        hevq_push(&st->q, ++st->seq, sess->backlog.v[i].json, sess->backlog.v[i].len);
    hevq_drop_front(&sess->backlog, sess->backlog.n);
    for (struct hstream *o = h->streams, *nx; o; o = nx) {
        nx = o->next;
        if (o == st || o->sess != sess || o->kind != HSTREAM_GET || o->req)
            continue;
        for (size_t i = o->cur; i < o->q.n; i++)
            if (o->q.v[i].json)
                hevq_push(&st->q, ++st->seq, o->q.v[i].json, o->q.v[i].len);
        stream_free(o);
    }
    return reply_sse(r);
}

static enum MHD_Result handle_delete(struct hreq *r)
{
    struct MHD_Connection *c = r->conn;
    const char *sid = header(c, "Mcp-Session-Id");
    if (!sid)
        return reply_error(c, MHD_HTTP_BAD_REQUEST, -32000,
                           "Bad Request: Mcp-Session-Id header is required");
    struct hsess *sess = sess_find(r->h, sid);
    if (!sess)
        return reply_error(c, MHD_HTTP_NOT_FOUND, -32001, "Session not found");
    sess_free(sess);
    return reply(c, MHD_HTTP_OK, NULL, NULL, NULL);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version,
                                  const char *upload, size_t *upload_size, void **con_cls)
{
    struct serve_http *h = cls;
    struct hreq *r = *con_cls;
    (void)version;
    if (!r) {
        r = xcalloc(1, sizeof *r);
        r->h = h;
        r->conn = c;
        buf_init(&r->body);
        r->next = h->reqs;
        h->reqs = r;
        *con_cls = r;
        if (!http_guard_host_ok(&h->g, header(c, MHD_HTTP_HEADER_HOST)))
            return reply_error(c, MHD_HTTP_FORBIDDEN, -32000, "Forbidden: Host not allowed");
        if (!http_guard_origin_ok(&h->g, header(c, "Origin")))
            return reply_error(c, MHD_HTTP_FORBIDDEN, -32000, "Forbidden: Origin not allowed");
        if (!http_guard_token_ok(&h->g, header(c, MHD_HTTP_HEADER_AUTHORIZATION)))
            return reply_error(c, MHD_HTTP_UNAUTHORIZED, -32000,
                               "Unauthorized: a bearer token is required");
        if (strcmp(url, HTTP_PATH) != 0)
            return reply_error(c, MHD_HTTP_NOT_FOUND, -32000, "Not Found: the endpoint is /mcp");
        return MHD_YES;
    }
    if (*upload_size) {
        if (r->body.len + *upload_size > HTTP_MAX_BODY)
            r->too_large = 1;
        else
            buf_append(&r->body, upload, *upload_size);
        *upload_size = 0;
        return MHD_YES;
    }
    if (r->st) {                 /* resumed: a JSON answer waiting for its requests */
        if (!r->st->done) {
            MHD_suspend_connection(c);
            r->suspended = 1;
            return MHD_YES;
        }
        return reply_json(r);
    }
    if (strcmp(method, MHD_HTTP_METHOD_POST) == 0)
        return handle_post(r);
    if (strcmp(method, MHD_HTTP_METHOD_GET) == 0)
        return handle_get(r);
    if (strcmp(method, MHD_HTTP_METHOD_DELETE) == 0)
        return handle_delete(r);
    return reply_error(c, MHD_HTTP_METHOD_NOT_ALLOWED, -32000, "Method Not Allowed");
}

/* At most HTTP_KEEP_LOST POST streams without a connection per session:
 * past that the oldest go (the list is newest first). */
static void trim_lost(struct hsess *sess)
{
    size_t n = 0;
    struct hstream *oldest = NULL;
    for (struct hstream *st = sess->h->streams; st; st = st->next)
        if (st->sess == sess && st->kind == HSTREAM_POST && !st->req) {
            n++;
            oldest = st;
        }
    if (n > HTTP_KEEP_LOST)
        stream_free(oldest);
}

/* MHD: the request is over (answered, or the client went away). */
static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    struct hreq *r = *con_cls;
    (void)cls;
    (void)c;
    (void)toe;
    if (!r)
        return;
    if (r->wake)
        r->h->nwake--;
    for (struct hreq **p = &r->h->reqs; *p; p = &(*p)->next)
        if (*p == r) {
            *p = r->next;
            break;
        }
    struct hstream *st = r->st;
    if (st) {
        st->req = NULL;
        /* kept for Last-Event-ID while it may still say something */
        if (!st->sess || !r->sse || (st->done && stream_drained(st)))
            stream_free(st);
        else if (st->kind == HSTREAM_POST)
            trim_lost(st->sess);
    }
    if (r->new_sess && !r->new_sess->registered)
        sess_free(r->new_sess);
    buf_fini(&r->body);
    free(r);
    *con_cls = NULL;
}

/* === Driving MHD from the loop === */

static void on_epoll(struct loop *l, int fd, int mask, void *payload)
{
    struct serve_http *h = payload;
    (void)l;
    (void)fd;
    (void)mask;
    MHD_run(h->d);
}

static void on_timer(struct loop *l, uint64_t id, void *payload)
{
    struct serve_http *h = payload;
    (void)l;
    (void)id;
    h->timer = 0;
    h->timer_at = -1;
    MHD_run(h->d);
}

/* Whether sess has a connection open or a request in flight. */
static int sess_busy(const struct hsess *sess)
{
    for (const struct hstream *st = sess->h->streams; st; st = st->next)
        if (st->sess == sess && st->req)
            return 1;
    return serve_session_pending(sess->ss) > 0;
}

/* Every HTTP_KEEPALIVE_MS: a comment on open GET streams (a dead peer
 * shows up as a failed write), and sessions idle too long end. */
static void on_keepalive(struct loop *l, uint64_t id, void *payload)
{
    struct serve_http *h = payload;
    (void)id;
    for (struct hstream *st = h->streams; st; st = st->next)
        if (st->kind == HSTREAM_GET && st->req && !st->done) {
            st->ping = 1;
            wake(st);
        }
    int64_t now = util_now_ms();
    for (struct hsess *sess = h->sessions, *nx; sess; sess = nx) {
        nx = sess->next;
        if (sess->registered && now - sess->last_ms > HTTP_SESSION_IDLE_MS && !sess_busy(sess)) {
            log_write(LOG_LEVEL_INFO, NULL, "serve: HTTP session %.8s... idle for an hour, ended",
                      sess->id);
            sess_free(sess);
        }
    }
    h->keepalive = loop_timer_add(l, HTTP_KEEPALIVE_MS, on_keepalive, h);
}

/* Before the loop sleeps: resume the connections that have something to
 * send, let MHD write it, and set the timer to MHD's next timeout. */
static void pump(struct loop *l, void *payload)
{
    struct serve_http *h = payload;
    for (int round = 0; round < 4 && h->nwake > 0; round++) {
        for (struct hreq *r = h->reqs; r; r = r->next)
            if (r->wake) {
                r->wake = 0;
                r->suspended = 0;
                h->nwake--;
                MHD_resume_connection(r->conn);
            }
        MHD_run(h->d);
    }
    MHD_UNSIGNED_LONG_LONG to;
    int64_t at = -1;
    if (MHD_get_timeout(h->d, &to) == MHD_YES)
        at = util_now_ms() + (int64_t)(to > 3600000 ? 3600000 : to);
    if (at != h->timer_at || (at >= 0 && !h->timer)) {
        if (h->timer)
            loop_timer_del(l, h->timer);
        h->timer = at >= 0 ? loop_timer_add(l, at - util_now_ms(), on_timer, h) : 0;
        h->timer_at = at;
    }
}

/* === Setup === */

int serve_http_open(struct engine *e, const char *listen, struct serve_http **out,
                    char **errmsg)
{
    const struct config *cfg = engine_config(e);
    const struct config_serve *cs = &cfg->serve;
    if (!listen)
        listen = cs->http_listen ? cs->http_listen : HTTP_DEFAULT_LISTEN;
    struct serve_http *h = xcalloc(1, sizeof *h);
    h->e = e;
    h->l = engine_loop(e);
    h->epfd = -1;
    h->timer_at = -1;
    struct sockaddr_storage ss;
    socklen_t sslen = 0;
    if (http_guard_listen(&h->g, listen, &ss, &sslen, errmsg) < 0)
        goto fail;
    if (cs->http_token_env) {
        const char *t = getenv(cs->http_token_env);
        if (!t || !*t) {
            *errmsg = xasprintf("serve.http.token_env names %s, but it is not set; export the "
                                "bearer token in it (or drop token_env)",
                                cs->http_token_env);
            goto fail;
        }
        h->g.token = xstrdup(t);
    }
    h->g.norigins = cs->nhttp_origins;
    h->g.origins = xcalloc(h->g.norigins + 1, sizeof *h->g.origins);
    for (size_t i = 0; i < h->g.norigins; i++)
        h->g.origins[i] = xstrdup(cs->http_origins[i]);
    if (!(h->s = serve_new(e, errmsg)))
        goto fail;
    unsigned int flags = MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME;
    if (ss.ss_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    h->d = MHD_start_daemon(flags, (uint16_t)h->g.port, NULL, NULL, on_request, h,
                            MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
                            MHD_OPTION_NOTIFY_COMPLETED, on_completed, h,
                            MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)300, MHD_OPTION_END);
    if (!h->d) {
        *errmsg = xasprintf("cannot listen on %s (address in use, or not this machine's?)",
                            listen);
        goto fail;
    }
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_EPOLL_FD);
    if (!di) {
        *errmsg = xstrdup("libmicrohttpd gave no epoll fd");
        goto fail;
    }
    h->epfd = di->epoll_fd;
    if (h->g.port == 0 && (di = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_BIND_PORT)))
        h->g.port = di->port;
    h->url = xasprintf("http://%s:%d%s", h->g.host, h->g.port, HTTP_PATH);
    loop_fd_add(h->l, h->epfd, LOOP_READ, on_epoll, h);
    loop_hook_add(h->l, pump, h);
    h->keepalive = loop_timer_add(h->l, HTTP_KEEPALIVE_MS, on_keepalive, h);
    if (!h->g.loopback && !h->g.token)
        log_write(LOG_LEVEL_WARN, NULL,
                  "serve: %s is not a loopback address and no serve.http.token_env is set: "
                  "anyone who reaches it can use every exposed tool", h->g.host);
    log_write(LOG_LEVEL_INFO, NULL, "serve: answering MCP on %s", h->url);
    *out = h;
    return 0;
fail:
    serve_http_free(h);
    return -1;
}

int serve_http_port(const struct serve_http *h)
{
    return h->g.port;
}

const char *serve_http_url(const struct serve_http *h)
{
    return h->url;
}

void serve_http_free(struct serve_http *h)
{
    if (!h)
        return;
    while (h->sessions)
        sess_free(h->sessions);
    if (h->d) {
        /* every stream is done now; suspended connections must be resumed
         * before MHD stops */
        pump(h->l, h);
        for (struct hreq *r = h->reqs; r; r = r->next)
            if (r->suspended) {
                r->suspended = 0;
                MHD_resume_connection(r->conn);
            }
        MHD_run(h->d);
        loop_fd_del(h->l, h->epfd);
        loop_hook_del(h->l, pump, h);
        MHD_stop_daemon(h->d);
    }
    while (h->streams)
        stream_free(h->streams);
    if (h->timer)
        loop_timer_del(h->l, h->timer);
    if (h->keepalive)
        loop_timer_del(h->l, h->keepalive);
    serve_free(h->s);
    http_guard_fini(&h->g);
    free(h->url);
    free(h);
}

/* === mcpdeck serve --http === */

static void on_signal(struct loop *l, int signo, void *payload)
{
    struct serve_http *h = payload;
    (void)signo;
    h->stop = 1;
    loop_wakeup(l);
}

int serve_http_run(struct engine *e, const char *listen, char **errmsg)
{
    struct loop *l = engine_loop(e);
    engine_set_sampling_relay(e, 1);     /* servers may sample: the clients answer */
    engine_start(e);
    engine_wait_servers(e, HTTP_WAIT_MAX_MS);
    struct serve_http *h = NULL;
    if (serve_http_open(e, listen, &h, errmsg) < 0)
        return -1;
    fprintf(stderr, "mcpdeck: serving MCP on %s\n", h->url);
    fflush(stderr);
    loop_signal(l, SIGINT, on_signal, h);
    loop_signal(l, SIGTERM, on_signal, h);
    while (!h->stop)
        loop_run_once(l, -1);
    loop_signal(l, SIGINT, NULL, NULL);
    loop_signal(l, SIGTERM, NULL, NULL);
    serve_http_free(h);
    return 0;
}
