/* serve_http_guard.c — who may talk to `mcpdeck serve --http`: the listen
 * address parsed into a socket address and remembered, and the checks
 * every request passes before anything else (Host against the bound
 * address, Origin against loopback and serve.http.origins, the bearer
 * token, MCP-Protocol-Version). Pure functions over struct http_guard, so
 * the rules are easy to read in one place. */
#include "serve_http_int.h"

#include "util.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const protocol_versions[] = {"2025-11-25", "2025-06-18", "2025-03-26",
                                                "2024-11-05"};

/* Splits "host[:port]" / "[v6][:port]"; host is copied lowercase into out. */
static int split_hostport(const char *s, char *out, size_t cap, int *port)
{
    const char *end;
    *port = -1;
    if (s[0] == '[') {
        const char *rb = strchr(s, ']');
        if (!rb)
            return -1;
        end = rb + 1;
    } else {
        end = strchr(s, ':');
        if (!end)
            end = s + strlen(s);
    }
    size_t n = (size_t)(end - s);
    if (n == 0 || n >= cap)
        return -1;
    for (size_t i = 0; i < n; i++)
        out[i] = (char)(s[i] >= 'A' && s[i] <= 'Z' ? s[i] + 32 : s[i]);
    out[n] = 0;
    if (*end == ':') {
        char *e2;
        long p = strtol(end + 1, &e2, 10);
        if (e2 == end + 1 || *e2 || p < 0 || p > 65535)
            return -1;
        *port = (int)p;
    } else if (*end) {
        return -1;
    }
    return 0;
}

static int is_loopback_name(const char *host)
{
    return strcmp(host, "localhost") == 0 || strcmp(host, "127.0.0.1") == 0 ||
           strcmp(host, "[::1]") == 0;
}

int http_guard_host_ok(const struct http_guard *g, const char *hosthdr)
{
    if (g->wildcard)
        return 1;                /* bound everywhere: no one name to hold it to */
    char host[256];
    int port;
    if (!hosthdr || split_hostport(hosthdr, host, sizeof host, &port) < 0)
        return 0;
    if (port >= 0 && port != g->port)
        return 0;
    if (strcmp(host, g->host) == 0)
        return 1;
    return g->loopback && is_loopback_name(host);
}

int http_guard_origin_ok(const struct http_guard *g, const char *origin)
{
    if (!origin)
        return 1;                /* not a browser */
    for (size_t i = 0; i < g->norigins; i++)
        if (strcasecmp(origin, g->origins[i]) == 0)
            return 1;
    const char *p = strstr(origin, "://");
    if (!p || (strncasecmp(origin, "http://", 7) != 0 && strncasecmp(origin, "https://", 8) != 0))
        return 0;
    char host[256];
    int port;
    if (split_hostport(p + 3, host, sizeof host, &port) < 0)
        return 0;
    return is_loopback_name(host) || (!g->wildcard && strcmp(host, g->host) == 0);
}

int http_guard_token_ok(const struct http_guard *g, const char *auth)
{
    if (!g->token)
        return 1;
    if (!auth || strncasecmp(auth, "Bearer ", 7) != 0)
        return 0;
    const char *t = auth + 7;
    size_t n = strlen(t), m = strlen(g->token);
    unsigned char diff = (unsigned char)(n != m);
    for (size_t i = 0; i < n; i++)
        diff |= (unsigned char)(t[i] ^ g->token[i < m ? i : 0]);
    return diff == 0;
}

int http_guard_protocol_ok(const char *v)
{
    if (!v)
        return 1;                /* absent: 2025-03-26 is assumed */
    for (size_t i = 0; i < sizeof protocol_versions / sizeof *protocol_versions; i++)
        if (strcmp(v, protocol_versions[i]) == 0)
            return 1;
    return 0;
}

int http_guard_listen(struct http_guard *g, const char *listen, struct sockaddr_storage *ss,
                        socklen_t *sslen, char **errmsg)
{
    char host[256];
    int port;
    if (split_hostport(listen, host, sizeof host, &port) < 0 || port < 0) {
        *errmsg = xasprintf("bad listen address '%s'; expected ADDR:PORT, e.g. 127.0.0.1:8808 "
                            "or [::1]:8808",
                            listen);
        return -1;
    }
    memset(ss, 0, sizeof *ss);
    struct sockaddr_in *v4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)ss;
    const char *lit = strcmp(host, "localhost") == 0 ? "127.0.0.1" : host;
    if (lit[0] == '[') {
        char in6[256];
        snprintf(in6, sizeof in6, "%.*s", (int)strlen(lit) - 2, lit + 1);
        if (inet_pton(AF_INET6, in6, &v6->sin6_addr) != 1)
            goto bad;
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons((uint16_t)port);
        *sslen = sizeof *v6;
        g->loopback = IN6_IS_ADDR_LOOPBACK(&v6->sin6_addr);
        g->wildcard = IN6_IS_ADDR_UNSPECIFIED(&v6->sin6_addr);
    } else {
        if (inet_pton(AF_INET, lit, &v4->sin_addr) != 1)
            goto bad;
        v4->sin_family = AF_INET;
        v4->sin_port = htons((uint16_t)port);
        *sslen = sizeof *v4;
        g->loopback = (ntohl(v4->sin_addr.s_addr) >> 24) == 127;
        g->wildcard = v4->sin_addr.s_addr == htonl(INADDR_ANY);
    }
    g->host = xstrdup(host);
    g->port = port;
    return 0;
bad:
    *errmsg = xasprintf("bad listen address '%s': '%s' is not an IPv4 address, [IPv6] "
                        "address or localhost",
                        listen, host);
    return -1;
}

void http_guard_fini(struct http_guard *g)
{
    for (size_t i = 0; i < g->norigins; i++)
        free(g->origins[i]);
    free(g->origins);
    free(g->token);
    free(g->host);
    memset(g, 0, sizeof *g);
}
