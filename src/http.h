/* http.h — HTTP requests on the event loop through libcurl's multi
 * interface (socket and timer callbacks), streamed: headers and body
 * chunks reach the caller as they arrive, so Server-Sent Events work.
 * TLS verification stays on. Loop thread only. */
#ifndef MCPDECK_HTTP_H
#define MCPDECK_HTTP_H

#include <stddef.h>

struct loop;
struct http;
struct http_req;

struct http_req_opts {
    const char *method;              /* "GET", "POST", "PUT", "DELETE" */
    const char *url;
    const char *const *headers;      /* "Name: value", NULL-terminated; may be NULL */
    const char *body;                /* request body (copied; sent for any method
                                      * but GET); may be NULL */
    size_t body_len;
    long timeout_ms;                 /* whole request; 0 = none */
    long connect_timeout_ms;         /* 0 = libcurl's default */
    /* A response header (name lower-cased). status is known by then. */
    void (*on_header)(void *payload, long status, const char *name, const char *value);
    /* A chunk of the body. Return nonzero to abort the request. */
    int (*on_data)(void *payload, long status, const char *data, size_t n);
    /* The end: error is NULL on a complete response (any status), else a
     * sentence ("cannot connect to http://...: Connection refused"). */
    void (*on_done)(void *payload, long status, const char *error);
    void *payload;
};

struct http *http_new(struct loop *l);
void http_free(struct http *h);      /* cancels requests without callbacks */

/* Start a request; returns a handle valid until on_done or http_cancel. */
struct http_req *http_start(struct http *h, const struct http_req_opts *o);
/* Abort a request; on_done is not called. */
void http_cancel(struct http *h, struct http_req *r);
/* Whether requests are still under way. */
int http_busy(const struct http *h);

#endif
