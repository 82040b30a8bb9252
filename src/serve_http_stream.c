/* serve_http_stream.c — the sessions and streams of `mcpdeck serve --http`
 * (serve_http.c says how they fit together): the session table and its
 * ids, the routing of each message a session sends (to the POST stream of
 * the request it is about, else a GET stream, else the session's
 * backlog), and a stream written out as SSE events (ids "<stream>-<seq>",
 * kept for Last-Event-ID) or as one JSON body. */
#include "serve_http_int.h"

#include "jsonr.h"
#include "serve.h"
#include "util.h"

#include <cjson/cJSON.h>
#include <microhttpd.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#define HTTP_KEEP_EVENTS 64        /* delivered GET events kept for Last-Event-ID */
#define HTTP_MAX_BACKLOG 1024      /* general messages kept while no GET stream is open */
#define HTTP_RETRY_MS 1000         /* the SSE retry: field of the priming event */

/* === Event queues === */

void hevq_push(struct hevq *q, uint64_t seq, const char *json, size_t len)
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

void hevq_drop_front(struct hevq *q, size_t n)
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

/* === Streams and sessions === */

void hreq_wake(struct hreq *r)
{
    if (r && r->suspended && !r->wake) {
        r->wake = 1;
        r->h->nwake++;
    }
}

void hstream_wake(struct hstream *st)
{
    hreq_wake(st->req);
}

struct hstream *hstream_new(struct serve_http *h, struct hsess *sess,
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

void hstream_push(struct hstream *st, const char *json, size_t len)
{
    hevq_push(&st->q, ++st->seq, json, len);
    if (st->kind == HSTREAM_GET && st->q.n > HTTP_MAX_BACKLOG) {
        /* nobody reads it: the oldest go */
        size_t drop = st->q.n - HTTP_MAX_BACKLOG;
        hevq_drop_front(&st->q, drop);
        st->cur = st->cur > drop ? st->cur - drop : 0;
    }
    hstream_wake(st);
}

void hstream_free(struct hstream *st)
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

int hstream_drained(const struct hstream *st)
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
    cJSON *m = jsonr_parse(json, len);
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
        hstream_push(st, json, len);
        if (kind == MSG_RESPONSE) {
            free(st->want[w]);
            st->want[w] = st->want[--st->nwant];
            if (st->nwant == 0)
                st->done = 1;
        }
        return;
    }
    if ((st = general_stream(sess))) {
        hstream_push(st, json, len);
        return;
    }
    if (sess->backlog.n >= HTTP_MAX_BACKLOG)
        hevq_drop_front(&sess->backlog, 1);
    hevq_push(&sess->backlog, ++sess->backlog_seq, json, len);
}

struct hsess *hsess_new(struct serve_http *h)
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
void hsess_free(struct hsess *sess)
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
            hstream_wake(st);
        else
            hstream_free(st);
    }
    hevq_fini(&sess->backlog);
    free(sess);
}

struct hsess *hsess_find(struct serve_http *h, const char *id)
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

enum MHD_Result hreq_reply_sse(struct hreq *r)
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
int hstream_only_responses(const struct hstream *st)
{
    for (size_t i = 0; i < st->q.n; i++)
        if (st->q.v[i].json && !is_response(st->q.v[i].json, st->q.v[i].len))
            return 0;
    return 1;
}

/* The answers of a finished POST as one JSON body: the answer itself, or
 * an array for a batch. Notifications about the requests are dropped
 * (the client did not take a stream). */
enum MHD_Result hreq_reply_json(struct hreq *r)
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
    enum MHD_Result rc = serve_http_reply(r->conn, MHD_HTTP_OK, "application/json", b.data, sid);
    buf_fini(&b);
    st->cur = st->q.n;
    return rc;
}
