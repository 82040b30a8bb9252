/* serve_http_int.h — shared by serve_http.c and serve_http_guard.c only. */
#ifndef MCPDECK_SERVE_HTTP_INT_H
#define MCPDECK_SERVE_HTTP_INT_H

#include <stddef.h>
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

#endif
