/* mcp_client.h — one MCP session with one server, over any transport.
 *
 * connect: initialize (protocol 2025-11-25, negotiating down to the
 * versions we know), notifications/initialized, then tools/list with
 * cursor pagination; ready when the tool list is in. Tool calls are
 * JSON-RPC requests with a timeout; several may be in flight. Requests
 * from the server (ping, roots/list) are answered; tools/list_changed
 * refreshes the cached list. Loop thread only. */
#ifndef MCPDECK_MCP_CLIENT_H
#define MCPDECK_MCP_CLIENT_H

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>

struct loop;
struct mcp_transport;
struct mcp_client;

#define MCP_PROTOCOL_VERSION "2025-11-25"

enum mcp_client_state {
    MCP_CLIENT_IDLE,
    MCP_CLIENT_CONNECTING,
    MCP_CLIENT_READY,
    MCP_CLIENT_CLOSED,       /* transport gone or connect failed; see error */
};

struct mcp_tool {
    char *name;
    char *description;       /* may be NULL */
    cJSON *input_schema;     /* owned; may be NULL */
    cJSON *annotations;      /* owned; may be NULL */
};

struct mcp_client_events {
    /* State changed (error set when CLOSED). */
    void (*on_state)(void *payload, struct mcp_client *c, enum mcp_client_state s,
                     const char *error);
    /* The cached tool list changed. */
    void (*on_tools)(void *payload, struct mcp_client *c);
};

/* The client takes the transport. roots: workspace root(s) reported to
 * roots/list (NULL-terminated array, borrowed). */
struct mcp_client *mcp_client_new(struct loop *l, const char *name, struct mcp_transport *t,
                                  const char *const *roots,
                                  const struct mcp_client_events *ev, void *payload);
/* Frees the transport too (a stdio child is stopped). NULL-safe. */
void mcp_client_free(struct mcp_client *c);

/* Start the transport and the handshake; the outcome arrives via on_state.
 * Returns -1 with *errmsg if the transport cannot start at all. */
int mcp_client_connect(struct mcp_client *c, int timeout_ms, char **errmsg);

enum mcp_client_state mcp_client_state(const struct mcp_client *c);
const char *mcp_client_error(const struct mcp_client *c);     /* or NULL */
const char *mcp_client_protocol(const struct mcp_client *c);  /* negotiated */
const cJSON *mcp_client_server_info(const struct mcp_client *c);
struct mcp_transport *mcp_client_transport(struct mcp_client *c);
size_t mcp_client_tools(const struct mcp_client *c, const struct mcp_tool **out);
const struct mcp_tool *mcp_client_find_tool(const struct mcp_client *c, const char *name);

/* The outcome of a tool call: exactly one of result (an MCP
 * CallToolResult; its isError may be true) and error is set. Borrowed. */
typedef void (*mcp_call_cb)(void *payload, const cJSON *result, const char *error);

/* Call a tool. args is borrowed (NULL = {}). Returns the request id
 * (> 0) or -1 (cb not called; *errmsg set). */
int64_t mcp_client_call_tool(struct mcp_client *c, const char *tool, const cJSON *args,
                             int timeout_ms, mcp_call_cb cb, void *payload, char **errmsg);
/* Stop waiting for a call: notifications/cancelled is sent to the server
 * and cb runs now with an error saying why. */
void mcp_client_cancel(struct mcp_client *c, int64_t id, const char *reason);
int mcp_client_inflight(const struct mcp_client *c);

/* Text content of a CallToolResult joined by newlines (malloc'd); other
 * content types are summarised ("[image image/png, 1234 bytes]"). */
char *mcp_result_text(const cJSON *result);
int mcp_result_is_error(const cJSON *result);

#endif
