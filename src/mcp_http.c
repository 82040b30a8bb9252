/* mcp_http.c — MCP over Streamable HTTP (protocol 2025-11-25 §transports).
 *
 * Every outgoing message is a POST to the server's URL with
 * `Accept: application/json, text/event-stream`. The answer is either one
 * JSON message, an SSE stream of messages (ending with the response), or
 * 202 for notifications and responses. The session id the server gives
 * in `Mcp-Session-Id` and the negotiated `MCP-Protocol-Version` go on every
 * later request. After initialization a GET stream is opened for messages
 * the server starts on its own (405 means it has none). A stream that ends
 * before its response arrived is resumed with GET and `Last-Event-ID`
 * after the server's `retry:` delay. HTTP failures of a request become a
 * JSON-RPC error for that request id, so the caller sees which call failed
 * and why. DELETE ends the session on close. */
#include "config.h"
#include "http.h"
#include "jsonr.h"
#include "jsonrpc.h"
#include "log.h"
#include "loop.h"
#include "mcp_transport.h"
#include "sse.h"
#include "util.h"

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct stream;

struct http_t {
    struct mcp_transport base;
    const struct config_server *cfg;
    struct http *http;
    struct http *farewell;        /* for the DELETE at the end (not ours) */
    char *session;
    char *protocol;
    int alive;
    int get_unsupported;          /* GET answered 405 */
    int get_failures;
    struct stream *streams;       /* POSTs and GETs under way */
    uint64_t resume_timer;
    char *resume_id;              /* Last-Event-ID to resume with */
    long retry_ms;                /* server's last retry: value */
    int closing;
    /* Messages wait here for the next loop turn: they arrive inside
     * libcurl callbacks, where starting another request is not allowed. */
    struct buf inbox;             /* messages, each followed by a NUL */
    uint64_t inbox_timer;
    /* After notifications/initialized, later POSTs wait until the GET
     * stream is open (or refused): a server that sends requests on it
     * must not answer a tools/call before it can reach us. */
    int holding;
    struct buf held;              /* POST bodies, each after its request id (an
                                     int64_t, -1: none) and before a NUL */
    uint64_t release_timer;
    struct stream *first_get;
    /* Requests whose POST stream ended before the answer: it is expected
     * on the GET stream resumed with Last-Event-ID. */
    double *resuming;
    size_t nresuming, cap_resuming;
    struct buf log;               /* what happened on the wire, for ops->log */
};

struct stream {
    struct http_t *t;
    struct http_req *req;
    int is_get;
    double id;                    /* request id the POST carried; -1 none */
    int has_id;
    int is_initialize;
    int answered;                 /* the response to id was seen */
    int sse;
    char ctype[64];               /* Content-Type, for error messages */
    char *location;               /* a redirect's Location, for its error */
    int oversize;                 /* the body passed the size limit */
    long status;
    struct buf body;              /* JSON body, or error text */
    struct sse_parser parser;
    char *last_id;                /* last SSE event id on this stream */
    uint64_t linger_timer;        /* answered, but the stream is still open */
    struct stream *next;
};

/* How long a request's SSE stream may stay open after its answer. The
 * answer is the last thing it has to carry, and a server that keeps it
 * open would hold a connection per call; but one that ends it a moment
 * later keeps its connection for the next request (no new handshake). */
#define LINGER_MS 1000
/* The shortest wait before reopening a stream, whatever retry: says. */
#define RETRY_MIN_MS 100

#define HTTP_LOG_MAX (64 * 1024)

/* A line in the transport's log (`servers log NAME`, the UI's server
 * details): what the HTTP side did that a call's error alone won't show. */
static void note(struct http_t *t, const char *fmt, ...) PRINTF_LIKE(2, 3);
static void note(struct http_t *t, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *line = xvasprintf(fmt, ap);
    va_end(ap);
    buf_printf(&t->log, "[http] %s\n", line);
    free(line);
    buf_keep_lines(&t->log, HTTP_LOG_MAX);
}

/* === delivering === */

static void flush_inbox(struct loop *l, uint64_t id, void *payload)
{
    struct http_t *t = payload;
    t->inbox_timer = 0;
    struct buf msgs = t->inbox;
    buf_init(&t->inbox);
    for (size_t off = 0; off < msgs.len && t->alive && t->base.up;) {
        size_t n = strlen(msgs.data + off);
        t->base.up->on_message(t->base.owner, msgs.data + off, n);
        off += n + 1;
    }
    buf_fini(&msgs);
}

static void post_up(struct http_t *t, const char *json, size_t len)
{
    buf_append(&t->inbox, json, len);
    buf_putc(&t->inbox, '\0');
    if (!t->inbox_timer)
        t->inbox_timer = loop_timer_add(t->base.loop, 0, flush_inbox, t);
}

/* Request id no longer waits for a resumed stream. */
static void resuming_drop(struct http_t *t, double id)
{
    for (size_t i = 0; i < t->nresuming; i++)
        if (t->resuming[i] == id) {
            t->resuming[i] = t->resuming[--t->nresuming];
            return;
        }
}

/* An answer on a resumed GET stream: that request waits no more. */
static void resumed_answer(struct http_t *t, const char *json, size_t len)
{
    cJSON *m = jsonr_parse(json, len);
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(m, "id");
    if (cJSON_IsNumber(id) && !cJSON_GetObjectItemCaseSensitive(m, "method"))
        resuming_drop(t, id->valuedouble);
    cJSON_Delete(m);
}

static void deliver(struct http_t *t, struct stream *s, const char *json, size_t len)
{
    if (!t->alive || !t->base.up)
        return;
    if (s && s->is_get && t->nresuming) {
        resumed_answer(t, json, len);
    } else if (s && s->has_id && !s->answered) {
        cJSON *m = jsonr_parse(json, len);
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(m, "id");
        if (cJSON_IsNumber(id) && id->valuedouble == s->id &&
            !cJSON_GetObjectItemCaseSensitive(m, "method")) {
            s->answered = 1;
            const cJSON *pv = cJSON_GetObjectItemCaseSensitive(
                cJSON_GetObjectItemCaseSensitive(m, "result"), "protocolVersion");
            if (s->is_initialize && cJSON_IsString(pv)) {
                free(t->protocol);
                t->protocol = xstrdup(pv->valuestring);
            }
        }
        cJSON_Delete(m);
    }
    post_up(t, json, len);
}

/* Tell the caller request id failed (a JSON-RPC error for that id). */
static void fail_id(struct http_t *t, double id, int code, const char *msg)
{
    note(t, "request %.0f failed: %s", id, msg);
    cJSON *m = cJSON_CreateObject();
    cJSON_AddStringToObject(m, "jsonrpc", "2.0");
    cJSON_AddNumberToObject(m, "id", id);
    cJSON *e = cJSON_AddObjectToObject(m, "error");
    cJSON_AddNumberToObject(e, "code", code);
    cJSON_AddStringToObject(e, "message", msg);
    char *txt = cJSON_PrintUnformatted(m);
    cJSON_Delete(m);
    post_up(t, txt, strlen(txt));
    cJSON_free(txt);
}

static void fail_request(struct http_t *t, struct stream *s, int code, const char *msg)
{
    if (!s->has_id || s->answered)
        return;
    s->answered = 1;
    fail_id(t, s->id, code, msg);
}

/* The requests waiting for a resumed stream fail: it cannot come back,
 * or what came on it was dropped. */
static void fail_resuming(struct http_t *t, int code, const char *msg)
{
    for (size_t i = 0; i < t->nresuming; i++)
        fail_id(t, t->resuming[i], code, msg);
    t->nresuming = 0;
}

static char *too_big_text(struct http_t *t)
{
    return xasprintf("server %s sent a message of over %zu bytes (limit %zu); dropped",
                     t->cfg->name, t->base.max_message, t->base.max_message);
}

static void fail_too_big(struct http_t *t, struct stream *s)
{
    char *m = too_big_text(t);
    fail_request(t, s, JSONRPC_ERR_TOO_BIG, m);
    free(m);
}

/* An event over the limit on the GET stream: it cannot be tied to one
 * request. Any request whose answer is expected there fails; anything
 * else it was (a notification, a request from the server) is logged. */
static void get_too_big(struct http_t *t)
{
    char *m = too_big_text(t);
    char *where = xasprintf("%s (on the GET stream)", m);
    log_write(LOG_LEVEL_WARN, &(struct log_ctx){0, t->cfg->name, 0}, "%s", where);
    note(t, "%s", where);
    free(where);
    fail_resuming(t, JSONRPC_ERR_TOO_BIG, m);
    free(m);
}

static void stream_free(struct stream *s)
{
    if (s->linger_timer)
        loop_timer_del(s->t->base.loop, s->linger_timer);
    buf_fini(&s->body);
    sse_fini(&s->parser);
    free(s->last_id);
    free(s->location);
    free(s);
}

static void stream_unlink(struct http_t *t, struct stream *s)
{
    for (struct stream **pp = &t->streams; *pp; pp = &(*pp)->next)
        if (*pp == s) {
            *pp = s->next;
            return;
        }
}

/* === requests === */

static struct stream *start(struct http_t *t, const char *method, const char *body,
                            size_t len, int64_t id, int initialize, const char *last_event_id);

static void release_cb(struct loop *l, uint64_t id, void *payload)
{
    struct http_t *t = payload;
    t->release_timer = 0;
    t->holding = 0;
    t->first_get = NULL;
    struct buf held = t->held;
    buf_init(&t->held);
    for (size_t off = 0; off + sizeof(int64_t) < held.len && t->alive;) {
        int64_t req;
        memcpy(&req, held.data + off, sizeof req);
        off += sizeof req;
        size_t n = strlen(held.data + off);
        start(t, "POST", held.data + off, n, req, 0, NULL);
        off += n + 1;
    }
    buf_fini(&held);
}

/* The first GET answered (or failed): send what waited for it, at the
 * next loop turn (never from inside a libcurl callback). */
static void release_held(struct http_t *t, struct stream *s)
{
    if (!t->holding || s != t->first_get)
        return;
    t->first_get = NULL;
    if (t->release_timer)
        loop_timer_del(t->base.loop, t->release_timer);   /* the 2 s safety net */
    t->release_timer = loop_timer_add(t->base.loop, 0, release_cb, t);
}

static void resume_cb(struct loop *l, uint64_t id, void *payload)
{
    struct http_t *t = payload;
    t->resume_timer = 0;
    if (!t->alive || t->get_unsupported)
        return;
    char *lei = t->resume_id;
    t->resume_id = NULL;
    start(t, "GET", NULL, 0, -1, 0, lei);
    free(lei);
}

/* Open (or reopen) the GET stream after delay_ms. */
static void schedule_get(struct http_t *t, long delay_ms, const char *last_event_id)
{
    if (!t->alive || t->get_unsupported || t->closing)
        return;
    if (last_event_id) {
        free(t->resume_id);
        t->resume_id = xstrdup(last_event_id);
    }
    if (t->resume_timer)
        loop_timer_del(t->base.loop, t->resume_timer);
    t->resume_timer = loop_timer_add(t->base.loop, delay_ms, resume_cb, t);
}

static int on_event(void *payload, const struct sse_event *ev)
{
    struct stream *s = payload;
    if (ev->id[0]) {
        free(s->last_id);
        s->last_id = xstrdup(ev->id);
    }
    if (ev->data_len == 0 || strcmp(ev->type, "message") != 0)
        return 0;   /* a priming event, or an event type that is not ours */
    deliver(s->t, s, ev->data, ev->data_len);
    return 0;
}

static void on_header(void *payload, long status, const char *name, const char *value)
{
    struct stream *s = payload;
    struct http_t *t = s->t;
    s->status = status;
    if (s->is_get)
        release_held(t, s);
    if (strcmp(name, "location") == 0 && status >= 300 && status < 400 && !s->location)
        s->location = xstrdup(value);
    if (strcmp(name, "content-type") == 0) {
        s->sse = strncmp(value, "text/event-stream", 17) == 0;
        snprintf(s->ctype, sizeof s->ctype, "%s", value);
        if (s->is_get && s->sse && status >= 200 && status < 300)
            note(t, "GET stream open%s", t->nresuming ? " (resuming)" : "");
    }
    else if (strcmp(name, "mcp-session-id") == 0 && status >= 200 && status < 300 &&
             (!t->session || strcmp(t->session, value) != 0)) {
        free(t->session);
        t->session = xstrdup(value);
    }
}

static void linger_cb(struct loop *l, uint64_t id, void *payload)
{
    struct stream *s = payload;
    s->linger_timer = 0;
    stream_unlink(s->t, s);
    http_cancel(s->t->http, s->req);
    stream_free(s);
}

static int on_data(void *payload, long status, const char *data, size_t n)
{
    struct stream *s = payload;
    struct http_t *t = s->t;
    s->status = status;
    if (status >= 200 && status < 300 && s->sse) {
        size_t dropped = s->parser.dropped;
        sse_feed(&s->parser, data, n, on_event, s);
        if (s->parser.dropped != dropped && s->is_get)
            get_too_big(t);
        else if (s->parser.dropped != dropped)
            fail_too_big(t, s);   /* most likely this POST's answer: fail it now,
                                   * not at its timeout */
        if (s->parser.retry_ms >= 0)   /* a floor: retry: 0 would spin */
            t->retry_ms = s->parser.retry_ms > RETRY_MIN_MS ? s->parser.retry_ms : RETRY_MIN_MS;
        if (!s->is_get && s->has_id && s->answered && !s->linger_timer)
            s->linger_timer = loop_timer_add(t->base.loop, LINGER_MS, linger_cb, s);
        return 0;
    }
    if (s->body.len + n > t->base.max_message) {
        s->oversize = 1;
        return 1;   /* abort; on_done reports it */
    }
    buf_append(&s->body, data, n);
    return 0;
}

static void on_done(void *payload, long status, const char *error)
{
    struct stream *s = payload;
    struct http_t *t = s->t;
    stream_unlink(t, s);
    if (!t->alive)
        goto out;
    if (s->is_get) {
        release_held(t, s);
        if (status == 405 || status == 404 || (!error && status < 300 && !s->sse)) {
            char *m = xasprintf("cannot resume the response stream: HTTP %ld from %s%s%s",
                                status, t->cfg->url, s->sse ? "" : " with Content-Type ",
                                s->sse ? "" : s->ctype);
            fail_resuming(t, JSONRPC_ERR_TRANSPORT, m);
            free(m);
        }
        if (status == 405) {
            t->get_unsupported = 1;
            note(t, "GET stream: the server offers none (HTTP 405)");
        } else if (error || status >= 400) {
            /* keep trying, slower each time, while the session lives */
            long delay = 1000L << (t->get_failures < 5 ? t->get_failures : 5);
            t->get_failures++;
            if (status == 404) {
                t->get_unsupported = 1;   /* session gone: no stream to keep */
                note(t, "GET stream: HTTP 404 (session gone)");
            } else {
                if (error)
                    note(t, "GET stream: %s; again in %ld ms", error, delay);
                else
                    note(t, "GET stream: HTTP %ld; again in %ld ms", status, delay);
                schedule_get(t, delay, s->last_id);
            }
        } else if (!s->sse) {
            /* a page, not an event stream: there is no stream to keep */
            t->get_unsupported = 1;
            note(t, "GET stream: the server answered with Content-Type '%s', not an event "
                 "stream; not asked for again", s->ctype);
        } else {
            t->get_failures = 0;
            /* a stream closed by the server is resumed after retry: */
            long delay = t->retry_ms >= 0 ? t->retry_ms : 1000;
            if (!t->resume_timer) {
                note(t, "GET stream closed by the server; reopened in %ld ms", delay);
                schedule_get(t, delay, s->last_id);
            }
        }
        goto out;
    }
    if (s->oversize) {
        fail_too_big(t, s);
        goto out;
    }
    if (error) {
        char *m = xasprintf("cannot reach %s: %s", t->cfg->url, error);
        fail_request(t, s, JSONRPC_ERR_CLOSED, m);
        free(m);
        goto out;
    }
    if (status == 202 || status == 204) {
        /* right for a notification or a response; a request must be
         * answered with JSON or an event stream */
        char *m = xasprintf("HTTP %ld from %s: the server sent no answer to the request",
                            status, t->cfg->url);
        fail_request(t, s, JSONRPC_ERR_TRANSPORT, m);
        free(m);
        goto out;
    }
    if (status >= 200 && status < 300) {
        if (!s->sse) {
            if (s->body.len)
                deliver(t, s, s->body.data, s->body.len);
            if (s->has_id && !s->answered) {
                /* the body was the only place its answer could be */
                char *m;
                if (strncmp(s->ctype, "application/json", 16) != 0)
                    m = xasprintf("HTTP %ld from %s: expected JSON or an event stream, got "
                                  "Content-Type '%s'", status, t->cfg->url, s->ctype);
                else
                    m = xasprintf("HTTP %ld from %s: the body is not the answer to the "
                                  "request: %.200s", status, t->cfg->url,
                                  s->body.data ? s->body.data : "(empty)");
                fail_request(t, s, JSONRPC_ERR_TRANSPORT, m);
                free(m);
            }
        } else if (s->has_id && !s->answered) {
            if (s->last_id && !t->get_unsupported) {
                /* the stream ended early: resume it where it stopped, and
                 * expect the answer there */
                if (t->nresuming == t->cap_resuming) {
                    t->cap_resuming = t->cap_resuming ? 2 * t->cap_resuming : 4;
                    t->resuming = xrealloc(t->resuming, t->cap_resuming * sizeof *t->resuming);
                }
                t->resuming[t->nresuming++] = s->id;
                long delay = t->retry_ms >= 0 ? t->retry_ms : 1000;
                note(t, "the stream of request %.0f ended before its answer; resumed "
                     "from event %.100s in %ld ms", s->id, s->last_id, delay);
                schedule_get(t, delay, s->last_id);
            } else {
                fail_request(t, s, JSONRPC_ERR_CLOSED,
                             "the server closed the response stream without answering");
            }
        }
        goto out;
    }
    char *m;
    if (status == 401 || status == 403)
        m = xasprintf("HTTP %ld from %s: the server requires authorization; OAuth is not "
                      "supported yet, so set an Authorization header under the server's "
                      "headers: in the config (e.g. \"Bearer ${TOKEN}\")", status, t->cfg->url);
    else if (status == 404 && t->session)
        m = xasprintf("HTTP 404 from %s: the MCP session expired", t->cfg->url);
    else if (s->location)
        /* not followed: the config's headers: (tokens) would go along */
        m = xasprintf("HTTP %ld from %s: it redirects to %.300s; mcpdeck does not follow "
                      "redirects, so set the server's url: to where it points", status,
                      t->cfg->url, s->location);
    else
        m = xasprintf("HTTP %ld from %s: %.200s", status, t->cfg->url,
                      s->body.data ? s->body.data : "");
    fail_request(t, s, JSONRPC_ERR_TRANSPORT, m);
    free(m);
    if (status == 404 && t->session && t->base.up && t->base.up->on_closed) {
        t->alive = 0;
        t->base.up->on_closed(t->base.owner, "the MCP session expired (HTTP 404)");
    }
out:
    stream_free(s);
}

/* A POST of body, the request id (-1: none, a notification or response)
 * and whether it is initialize as the client said; or a GET. */
static struct stream *start(struct http_t *t, const char *method, const char *body,
                            size_t len, int64_t id, int initialize, const char *last_event_id)
{
    struct stream *s = xcalloc(1, sizeof *s);
    s->t = t;
    s->is_get = strcmp(method, "GET") == 0;
    s->id = -1;
    buf_init(&s->body);
    sse_init(&s->parser, t->base.max_message);
    if (body && id >= 0) {
        s->has_id = 1;
        s->id = (double)id;
        s->is_initialize = initialize;
    }
    const char *hdr[64];
    char *own[8];
    int n = 0, no = 0;
    if (s->is_get) {
        hdr[n++] = "Accept: text/event-stream";
    } else {
        hdr[n++] = "Content-Type: application/json";
        hdr[n++] = "Accept: application/json, text/event-stream";
    }
    if (t->session)
        hdr[n++] = own[no++] = xasprintf("Mcp-Session-Id: %s", t->session);
    if (t->protocol && strcmp(t->protocol, "2025-06-18") >= 0)   /* the header came then */
        hdr[n++] = own[no++] = xasprintf("MCP-Protocol-Version: %s", t->protocol);
    if (last_event_id)
        hdr[n++] = own[no++] = xasprintf("Last-Event-ID: %s", last_event_id);
    for (size_t i = 0; i < t->cfg->nheaders && n < 63; i++)
        hdr[n++] = t->cfg->headers[i];
    hdr[n] = NULL;
    struct http_req_opts o = {
        .method = method,
        .url = t->cfg->url,
        .headers = hdr,
        .body = body,
        .body_len = len,
        .connect_timeout_ms = 10000,
        .on_header = on_header,
        .on_data = on_data,
        .on_done = on_done,
        .payload = s,
    };
    s->next = t->streams;
    t->streams = s;
    s->req = http_start(t->http, &o);
    for (int i = 0; i < no; i++)
        free(own[i]);
    return s;
}

/* === transport ops === */

static int http_t_start(struct mcp_transport *base, char **errmsg)
{
    struct http_t *t = (struct http_t *)base;
    if (!t->cfg->url || (strncmp(t->cfg->url, "http://", 7) != 0 &&
                         strncmp(t->cfg->url, "https://", 8) != 0)) {
        *errmsg = xasprintf("server %s: url must start with http:// or https://, got '%s'",
                            t->cfg->name, t->cfg->url ? t->cfg->url : "");
        return -1;
    }
    t->alive = 1;
    return 0;
}

static int http_t_send(struct mcp_transport *base, const char *json, size_t len,
                       const struct jsonrpc_sent *what)
{
    struct http_t *t = (struct http_t *)base;
    if (!t->alive)
        return -1;
    int64_t id = what && what->method ? what->id : -1;
    if (t->holding) {
        /* each held: its request id, the body, a NUL */
        buf_append(&t->held, &id, sizeof id);
        buf_append(&t->held, json, len);
        buf_putc(&t->held, '\0');
        return 0;
    }
    const char *method = what ? what->method : NULL;
    start(t, "POST", json, len, id, method && strcmp(method, "initialize") == 0, NULL);
    /* once initialized, listen for what the server starts on its own */
    if (method && strcmp(method, "notifications/initialized") == 0 && !t->get_unsupported) {
        t->first_get = start(t, "GET", NULL, 0, -1, 0, NULL);
        t->holding = 1;
        /* a server that never answers the GET must not stall us */
        t->release_timer = loop_timer_add(t->base.loop, 2000, release_cb, t);
    }
    return 0;
}

/* The client cancelled request id: its response stream is closed, not
 * left open until the server ends it (a server that hangs would keep a
 * connection per cancelled call), and its answer is no longer awaited on
 * a resumed stream. */
static void http_t_cancelled(struct mcp_transport *base, int64_t id)
{
    struct http_t *t = (struct http_t *)base;
    for (struct stream *s = t->streams; s; s = s->next)
        if (!s->is_get && s->has_id && s->id == (double)id) {
            stream_unlink(t, s);
            http_cancel(t->http, s->req);
            stream_free(s);
            break;
        }
    resuming_drop(t, (double)id);
}

static const char *http_t_log(struct mcp_transport *base)
{
    struct http_t *t = (struct http_t *)base;
    return t->log.data ? t->log.data : "";
}

/* End the session (DELETE), without waiting for the answer: the request
 * goes on the farewell client, which outlives this transport. */
static void send_delete(struct http_t *t)
{
    const char *hdr[64];
    char *own[2];
    int n = 0, no = 0;
    hdr[n++] = own[no++] = xasprintf("Mcp-Session-Id: %s", t->session);
    if (t->protocol && strcmp(t->protocol, "2025-06-18") >= 0)
        hdr[n++] = own[no++] = xasprintf("MCP-Protocol-Version: %s", t->protocol);
    for (size_t i = 0; i < t->cfg->nheaders && n < 63; i++)
        hdr[n++] = t->cfg->headers[i];
    hdr[n] = NULL;
    struct http_req_opts o = {
        .method = "DELETE",
        .url = t->cfg->url,
        .headers = hdr,
        .timeout_ms = 1000,   /* best effort: the session ends either way */
    };
    http_start(t->farewell, &o);
    for (int i = 0; i < no; i++)
        free(own[i]);
}

static void http_t_free(struct mcp_transport *base)
{
    struct http_t *t = (struct http_t *)base;
    if (!t)
        return;
    t->alive = 0;
    t->closing = 1;
    if (t->resume_timer)
        loop_timer_del(base->loop, t->resume_timer);
    if (t->inbox_timer)
        loop_timer_del(base->loop, t->inbox_timer);
    if (t->release_timer)
        loop_timer_del(base->loop, t->release_timer);
    buf_fini(&t->inbox);
    buf_fini(&t->held);
    http_free(t->http);   /* cancels every request without callbacks */
    while (t->streams) {
        struct stream *s = t->streams;
        t->streams = s->next;
        stream_free(s);
    }
    if (t->session && t->farewell)
        send_delete(t);
    free(t->session);
    free(t->protocol);
    free(t->resume_id);
    free(t->resuming);
    buf_fini(&t->log);
    free(t);
}

static const struct mcp_transport_ops http_ops = {
    "http", http_t_start, http_t_send, http_t_log, http_t_free, http_t_cancelled,
};

struct mcp_transport *mcp_http_new(struct loop *l, const struct config_server *cfg,
                                   struct http *farewell)
{
    struct http_t *t = xcalloc(1, sizeof *t);
    t->base.ops = &http_ops;
    t->base.loop = l;
    t->base.max_message = cfg->max_message > 0 ? (size_t)cfg->max_message : 16u << 20;
    t->cfg = cfg;
    t->http = http_new(l);
    t->farewell = farewell;
    t->retry_ms = -1;
    buf_init(&t->log);
    return &t->base;
}
