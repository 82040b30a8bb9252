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
 * Origin, token) is decided in serve_http_guard.c; sessions, streams and
 * their SSE or JSON output are in serve_http_stream.c. This file holds the
 * requests (POST, GET with Last-Event-ID, DELETE), the loop glue and
 * setup. */
#include "serve_http.h"
#include "jsonw.h"
#include "serve_http_int.h"

#include "config.h"
#include "engine.h"
#include "jsonr.h"
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
#include <sys/socket.h>

#define HTTP_PATH "/mcp"
#define HTTP_DEFAULT_LISTEN "127.0.0.1:8808"
#define HTTP_MAX_BODY (16u << 20)
/* Messages in one JSON-RPC batch (2025-03-26 clients send batches): each
 * answer is matched to its POST by id, and a 16 MiB body holds hundreds
 * of thousands of pings. */
#define SERVE_HTTP_MAX_BATCH 1000
#define HTTP_WAIT_MAX_MS 30000
#define HTTP_KEEPALIVE_MS 20000    /* a comment on idle GET streams (finds dead peers) */
#define HTTP_SESSION_IDLE_MS (60 * 60 * 1000)   /* a session nobody used for this long ends */
#define HTTP_KEEP_LOST 16          /* POST streams kept per session after their connection went */

static void pump(struct loop *l, void *payload);

/* === Small helpers === */

static int ci_has(const char *hay, const char *needle)
{
    return hay && strcasestr(hay, needle) != NULL;
}

static const char *header(struct MHD_Connection *c, const char *name)
{
    return MHD_lookup_connection_value(c, MHD_HEADER_KIND, name);
}

enum MHD_Result serve_http_reply(struct MHD_Connection *c, unsigned int status, const char *ctype,
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
    enum MHD_Result rc = serve_http_reply(c, status, "application/json", txt, NULL);
    cJSON_free(txt);
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
    cJSON *doc = jsonr_parse(r->body.data ? r->body.data : "", r->body.len);
    if (!doc || (!cJSON_IsObject(doc) && !cJSON_IsArray(doc))) {
        cJSON_Delete(doc);
        return reply_error(c, MHD_HTTP_BAD_REQUEST, -32700,
                           "Parse error: the body is not JSON-RPC");
    }
    int size = cJSON_IsArray(doc) ? cJSON_GetArraySize(doc) : 1;
    if (size > SERVE_HTTP_MAX_BATCH) {
        cJSON_Delete(doc);
        char *msg = xasprintf("Invalid Request: a batch of %d messages (at most %d)", size,
                              SERVE_HTTP_MAX_BATCH);
        enum MHD_Result rc = reply_error(c, MHD_HTTP_BAD_REQUEST, -32600, msg);
        free(msg);
        return rc;
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
        sess = r->new_sess = hsess_new(h);
    } else {
        const char *sid = header(c, "Mcp-Session-Id");
        if (!sid) {
            rc = reply_error(c, MHD_HTTP_BAD_REQUEST, -32000,
                             "Bad Request: Mcp-Session-Id header is required");
            goto done;
        }
        if (!(sess = hsess_find(h, sid))) {
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
        rc = serve_http_reply(c, MHD_HTTP_ACCEPTED, NULL, NULL, NULL);
        goto done;
    }
    struct hstream *st = hstream_new(h, sess, HSTREAM_POST);
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
        hstream_push(st, NULL, 0);
    serve_session_receive(sess->ss, r->body.data, r->body.len);
    r->batch = ps.batch;
    if (st->done && (!sse_ok || ps.init || hstream_only_responses(st))) {
        /* everything answered at once, nothing else to say: plain JSON */
        rc = hreq_reply_json(r);
    } else if (sse_ok && !ps.init) {
        r->sse = 1;
        rc = hreq_reply_sse(r);
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
        hsess_free(r->new_sess);
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
    struct hsess *sess = hsess_find(h, sid);
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
                hreq_wake(st->req);
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
            return hreq_reply_sse(r);
        }
    }
    struct hstream *st = hstream_new(h, sess, HSTREAM_GET);
    st->req = r;
    r->st = st;
    r->sse = 1;
    const char *proto = serve_session_protocol(sess->ss);
    if (proto && strcmp(proto, "2025-11-25") >= 0)
        hstream_push(st, NULL, 0);            /* priming: an id to come back with */
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
        hstream_free(o);
    }
    return hreq_reply_sse(r);
}

static enum MHD_Result handle_delete(struct hreq *r)
{
    struct MHD_Connection *c = r->conn;
    const char *sid = header(c, "Mcp-Session-Id");
    if (!sid)
        return reply_error(c, MHD_HTTP_BAD_REQUEST, -32000,
                           "Bad Request: Mcp-Session-Id header is required");
    struct hsess *sess = hsess_find(r->h, sid);
    if (!sess)
        return reply_error(c, MHD_HTTP_NOT_FOUND, -32001, "Session not found");
    hsess_free(sess);
    return serve_http_reply(c, MHD_HTTP_OK, NULL, NULL, NULL);
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
        return hreq_reply_json(r);
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
        hstream_free(oldest);
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
        if (!st->sess || !r->sse || (st->done && hstream_drained(st)))
            hstream_free(st);
        else if (st->kind == HSTREAM_POST)
            trim_lost(st->sess);
    }
    if (r->new_sess && !r->new_sess->registered)
        hsess_free(r->new_sess);
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
            hstream_wake(st);
        }
    int64_t now = util_now_ms();
    for (struct hsess *sess = h->sessions, *nx; sess; sess = nx) {
        nx = sess->next;
        if (sess->registered && now - sess->last_ms > HTTP_SESSION_IDLE_MS && !sess_busy(sess)) {
            log_write(LOG_LEVEL_INFO, NULL, "serve: HTTP session %.8s... idle for an hour, ended",
                      sess->id);
            hsess_free(sess);
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
        hsess_free(h->sessions);
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
        hstream_free(h->streams);
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
    engine_catch_interrupts(e);          /* a stop while they start still stops them */
    engine_start(e);
    engine_wait_servers(e, HTTP_WAIT_MAX_MS);
    if (engine_interrupted(e))
        return 0;
    struct serve_http *h = NULL;
    if (serve_http_open(e, listen, &h, errmsg) < 0)
        return -1;
    fprintf(stderr, "mcpdeck: serving MCP on %s\n", h->url);
    fflush(stderr);
    loop_signal(l, SIGINT, on_signal, h);
    loop_signal(l, SIGTERM, on_signal, h);
    while (!h->stop)
        loop_run_once(l, -1);
    engine_catch_interrupts(e);   /* not the default: the servers are still to stop */
    serve_http_free(h);
    return 0;
}
