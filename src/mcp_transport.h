/* mcp_transport.h — the one interface every kind of MCP server sits
 * behind: a child process over stdio (mcp_stdio.c), a URL over Streamable
 * HTTP (later), or a built-in in-process server (mcp_inproc.c). The client
 * (mcp_client.c) sends whole JSON-RPC messages and receives whole messages
 * through the upcalls; it never asks which kind it holds. Loop thread only. */
#ifndef MCPDECK_MCP_TRANSPORT_H
#define MCPDECK_MCP_TRANSPORT_H

#include <stddef.h>
#include <stdint.h>

struct loop;
struct mcp_transport;
struct jsonrpc_sent;
struct config_server;
struct builtin_server;
struct memory;

struct mcp_transport_upcalls {
    /* One complete incoming message (not NUL-terminated beyond len). */
    void (*on_message)(void *owner, const char *json, size_t len);
    /* A message over the size limit was dropped. */
    void (*on_oversize)(void *owner, size_t size);
    /* The transport is gone (process exited, stdout closed...). Called once. */
    void (*on_closed)(void *owner, const char *reason);
};

struct mcp_transport_ops {
    const char *kind;                         /* "stdio", "http", "builtin" */
    int (*start)(struct mcp_transport *t, char **errmsg);
    /* what: the message's method and request id (see jsonrpc.h). */
    int (*send)(struct mcp_transport *t, const char *json, size_t len,
                const struct jsonrpc_sent *what);
    /* The server's captured stderr/log (most recent bytes), or "". */
    const char *(*log)(struct mcp_transport *t);
    void (*free)(struct mcp_transport *t);    /* closes; no upcalls after */
    /* The client cancelled request id (its notifications/cancelled has
     * gone out): drop what is held for it. May be NULL. */
    void (*cancelled)(struct mcp_transport *t, int64_t id);
};

struct mcp_transport {
    const struct mcp_transport_ops *ops;
    struct loop *loop;
    const struct mcp_transport_upcalls *up;
    void *owner;
    size_t max_message;                       /* bytes */
};

/* Constructors; the config/server tables are borrowed and must outlive t. */
/* hide: names of environment variables the child must not inherit (the
 * config's secrets), besides those whose names look secret; the server's
 * own env: still gives it what it names. Borrowed. */
struct mcp_transport *mcp_stdio_new(struct loop *l, const struct config_server *cfg,
                                    char *const *hide, size_t nhide);
/* farewell: where requests that outlive the transport go (the DELETE that
 * ends its session); its owner runs the loop a moment for them at exit. */
struct http;
struct mcp_transport *mcp_http_new(struct loop *l, const struct config_server *cfg,
                                   struct http *farewell);
/* memory: the engine's store for the memory server's tools (may be NULL). */
struct mcp_transport *mcp_inproc_new(struct loop *l, const struct builtin_server *srv,
                                     const char *root, struct memory *memory);

/* For the engine's shutdown: the stdio child's process, or NULL. */
struct proc *mcp_stdio_proc(struct mcp_transport *t);

#endif
