/* serve_http_int.h — shared by serve_http.c, serve_http_guard.c and
 * serve_http_stream.c only: the guard's checks, and the transport's
 * state (sessions, streams, requests) with the stream functions. */
#ifndef MCPDECK_SERVE_HTTP_INT_H
#define MCPDECK_SERVE_HTTP_INT_H

#include "util.h"

#include <microhttpd.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct http_guard {
    char *host;                  /* the bound host as written, lowercase ("127.0.0.1", "[::1]") */
    int port;                    /* the bound port (0 until known when listening on port 0) */
    int loopback;                /* bound to a loopback address */
    int wildcard;                /* bound to 0.0.0.0 or [::]: no one Host to hold requests to */
    char *token;                 /* the bearer token required, or NULL */
    char **origins;              /* Origins allowed besides loopback (exact, case-insensitive) */
    size_t norigins;
};

/* Parses listen ("ADDR:PORT", "[v6]:PORT", "localhost:PORT") into *ss and
 * fills g's host, port, loopback and wildcard. 0, or -1 and *errmsg. */
int http_guard_listen(struct http_guard *g, const char *listen, struct sockaddr_storage *ss,
                      socklen_t *sslen, char **errmsg);
/* Each 1 when the request may go on. host/origin/auth are the header
 * values (NULL when absent: no Host is refused, no Origin is fine). */
int http_guard_host_ok(const struct http_guard *g, const char *host);
int http_guard_origin_ok(const struct http_guard *g, const char *origin);
int http_guard_token_ok(const struct http_guard *g, const char *auth);
/* MCP-Protocol-Version: absent (2025-03-26 assumed) or a version mcpdeck speaks. */
int http_guard_protocol_ok(const char *version);
/* Frees what g holds; g is zeroed. */
void http_guard_fini(struct http_guard *g);

/* === The transport's state (serve_http.c says how it fits) === */

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

/* An event queue: push a copy of json (NULL: the priming event) as seq;
 * drop the n oldest. */
void hevq_push(struct hevq *q, uint64_t seq, const char *json, size_t len);
void hevq_drop_front(struct hevq *q, size_t n);

/* The request's connection is resumed before the loop sleeps (when it is
 * suspended); hstream_wake does it for the stream's connection. */
void hreq_wake(struct hreq *r);
void hstream_wake(struct hstream *st);
/* A new stream of sess, first in h->streams; hstream_free unlinks it. */
struct hstream *hstream_new(struct serve_http *h, struct hsess *sess,
                            enum hstream_kind kind);
/* Queue an event (json NULL: the priming event) and wake the connection. */
void hstream_push(struct hstream *st, const char *json, size_t len);
void hstream_free(struct hstream *st);
/* Whether every event went out, the last one whole. */
int hstream_drained(const struct hstream *st);
/* Whether the stream holds only answers (no notification, no request). */
int hstream_only_responses(const struct hstream *st);

/* A session with a fresh random id, not registered (findable) yet. */
struct hsess *hsess_new(struct serve_http *h);
/* Ends the session: its calls are cancelled, its streams end. */
void hsess_free(struct hsess *sess);
/* The registered session with that id (its last use now), or NULL. */
struct hsess *hsess_find(struct serve_http *h, const char *id);

/* Answer r with its stream as SSE (events as they come). */
enum MHD_Result hreq_reply_sse(struct hreq *r);
/* Answer r with the answers on its stream as one JSON body; initialize
 * registers the session and sends its id. */
enum MHD_Result hreq_reply_json(struct hreq *r);
/* A plain response: body (NULL: empty) of type ctype, with the session
 * id header when sid is set (serve_http.c). */
enum MHD_Result serve_http_reply(struct MHD_Connection *c, unsigned int status, const char *ctype,
                                 const char *body, const char *sid);

#endif
