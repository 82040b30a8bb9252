/* jsonrpc.h — JSON-RPC 2.0 over a message transport.
 *
 * Two layers. jsonrpc_lines splits a byte stream into newline-delimited
 * messages (the MCP stdio framing) with a maximum message size, so a
 * server that sends a 50 MiB line costs us nothing but the discard.
 * jsonrpc_peer is one side of a conversation: outgoing requests get ids and
 * a pending entry with a timeout timer; incoming responses are matched by
 * id; incoming requests and notifications go to the owner's callbacks.
 * Loop thread only. */
#ifndef MCPDECK_JSONRPC_H
#define MCPDECK_JSONRPC_H

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"

struct loop;

/* === framing === */

struct jsonrpc_lines {
    struct buf in;
    size_t max;              /* maximum message size in bytes */
    int discarding;          /* inside an over-long line */
    size_t discarded;        /* bytes dropped of the current long line */
};

void jsonrpc_lines_init(struct jsonrpc_lines *f, size_t max);
void jsonrpc_lines_fini(struct jsonrpc_lines *f);

/* Called once per complete line (without the newline, NUL-terminated) or,
 * with line == NULL, once per over-long line that was dropped (len = its
 * size so far when the limit was crossed). Return nonzero to stop. */
typedef int (*jsonrpc_line_cb)(void *payload, const char *line, size_t len);

/* Feed bytes; calls cb for each complete line. Returns what cb returned
 * when it stopped early, else 0. Blank lines are skipped. */
int jsonrpc_lines_feed(struct jsonrpc_lines *f, const char *data, size_t len,
                       jsonrpc_line_cb cb, void *payload);
/* The stream ended: what is held is its last line, though no newline
 * ended it (a peer that writes its last message and closes may leave it
 * off). Calls cb for it as jsonrpc_lines_feed would; returns the same. */
int jsonrpc_lines_finish(struct jsonrpc_lines *f, jsonrpc_line_cb cb, void *payload);

/* === peer === */

/* Error codes for failures that never reached the other side. */
enum {
    JSONRPC_ERR_TIMEOUT = -32801,    /* no answer within the timeout */
    JSONRPC_ERR_CLOSED = -32802,     /* transport closed / peer died */
    JSONRPC_ERR_TOO_BIG = -32803,    /* answer above the size limit */
    JSONRPC_ERR_CANCELLED = -32804,  /* we cancelled it */
    JSONRPC_ERR_TRANSPORT = -32805,  /* the transport refused it (HTTP status) */
    JSONRPC_PARSE_ERROR = -32700,
    JSONRPC_INVALID_REQUEST = -32600,
    JSONRPC_METHOD_NOT_FOUND = -32601,
    JSONRPC_INVALID_PARAMS = -32602,
    JSONRPC_INTERNAL_ERROR = -32603,
};

struct jsonrpc_error {
    int code;
    const char *message;
    const cJSON *data;           /* may be NULL */
};

struct jsonrpc_peer;

/* result (success) or err (failure) is set, never both; both borrowed. */
typedef void (*jsonrpc_response_cb)(void *payload, const cJSON *result,
                                    const struct jsonrpc_error *err);

/* What a message being sent is, so a transport that needs to know (HTTP
 * ties a request to its response stream) does not parse it again. */
struct jsonrpc_sent {
    const char *method;      /* a request's or notification's; NULL for a response */
    int64_t id;              /* a request's id; -1 for notifications and responses */
};

struct jsonrpc_peer_ops {
    /* Send one complete JSON message (no trailing newline). 0 or -1. */
    int (*send)(void *ctx, const char *json, size_t len, const struct jsonrpc_sent *what);
    /* An incoming request; answer later with jsonrpc_respond*(id). */
    void (*on_request)(void *ctx, const char *method, const cJSON *params, const cJSON *id);
    /* An incoming notification. */
    void (*on_notification)(void *ctx, const char *method, const cJSON *params);
    /* A message that could not be understood (for the server's log). */
    void (*on_garbage)(void *ctx, const char *why);
};

struct jsonrpc_peer *jsonrpc_peer_new(struct loop *l, const struct jsonrpc_peer_ops *ops,
                                      void *ctx);
/* Fails every pending call with JSONRPC_ERR_CLOSED first. NULL-safe. */
void jsonrpc_peer_free(struct jsonrpc_peer *p);

/* Send a request. params is taken (may be NULL). timeout_ms <= 0: none.
 * Returns the request id (> 0), or -1 if sending failed (cb not called). */
int64_t jsonrpc_call(struct jsonrpc_peer *p, const char *method, cJSON *params,
                     int timeout_ms, jsonrpc_response_cb cb, void *payload);
/* The same with params already printed: len bytes of one JSON object (the
 * hot path builds no tree only to print it). */
int64_t jsonrpc_call_text(struct jsonrpc_peer *p, const char *method, const char *params,
                          size_t len, int timeout_ms, jsonrpc_response_cb cb, void *payload);
/* Reset a pending call's timeout (e.g. on progress). */
void jsonrpc_call_extend(struct jsonrpc_peer *p, int64_t id, int timeout_ms);
/* Forget a pending call: cb runs now with JSONRPC_ERR_CANCELLED. */
void jsonrpc_call_abandon(struct jsonrpc_peer *p, int64_t id, const char *why);
int jsonrpc_notify(struct jsonrpc_peer *p, const char *method, cJSON *params);
int jsonrpc_respond(struct jsonrpc_peer *p, const cJSON *id, cJSON *result);
int jsonrpc_respond_error(struct jsonrpc_peer *p, const cJSON *id, int code,
                          const char *message);

/* Handle one incoming message (text of one JSON value, or a batch array). */
void jsonrpc_receive(struct jsonrpc_peer *p, const char *json, size_t len);
/* Fail every pending call with code and message (transport died). */
void jsonrpc_fail_all(struct jsonrpc_peer *p, int code, const char *message);
int jsonrpc_pending(const struct jsonrpc_peer *p);

#endif
