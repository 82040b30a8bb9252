/* mcp_client.h — one MCP session with one server, over any transport.
 *
 * connect: initialize (protocol 2025-11-25, accepting a server's
 * 2025-06-18, 2025-03-26 or 2024-11-05), notifications/initialized, then
 * the lists the server advertises (tools, resources, resource templates,
 * prompts) with cursor pagination; ready when they are in. list_changed
 * notifications refresh the cached lists. Only what the server advertised
 * is ever called. Tool calls carry a progress token: each progress
 * notification resets the call's idle timeout (a hard maximum still
 * applies); a timeout or cancel sends notifications/cancelled. Requests
 * from the server: ping and roots/list are answered here; sampling and
 * elicitation go to the owner (on_request). Loop thread only. */
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
    cJSON *output_schema;    /* owned; NULL when the tool declares none */
    cJSON *annotations;      /* owned; may be NULL */
};

enum mcp_list {
    MCP_LIST_RESOURCES,
    MCP_LIST_TEMPLATES,
    MCP_LIST_PROMPTS,
    MCP_LIST_COUNT
};

struct mcp_client_events {
    /* State changed (error set when CLOSED). */
    void (*on_state)(void *payload, struct mcp_client *c, enum mcp_client_state s,
                     const char *error);
    /* A cached list (tools, resources, templates or prompts) changed. */
    void (*on_tools)(void *payload, struct mcp_client *c);
    /* A request from the server the client does not answer itself
     * (sampling/createMessage, elicitation/create). Answer, now or later,
     * with mcp_client_reply() or mcp_client_reply_error(); id is borrowed
     * for the call only (copy it to answer later). NULL: answered with an
     * error saying mcpdeck does not support it. */
    void (*on_request)(void *payload, struct mcp_client *c, const char *method,
                       const cJSON *params, const cJSON *id);
    /* Any other notification worth showing (notifications/message,
     * notifications/resources/updated). */
    void (*on_notify)(void *payload, struct mcp_client *c, const char *method,
                      const cJSON *params);
};

/* What the client declares in initialize. */
struct mcp_client_caps {
    int elicitation;           /* form mode, with applyDefaults */
    int sampling;              /* only when a model can answer */
};

/* The client takes the transport. roots: workspace root(s) reported to
 * roots/list (NULL-terminated array, borrowed). caps may be NULL. */
struct mcp_client *mcp_client_new(struct loop *l, const char *name, struct mcp_transport *t,
                                  const char *const *roots, const struct mcp_client_caps *caps,
                                  const struct mcp_client_events *ev, void *payload);
/* logging/setLevel after initialization when the server has logging. */
void mcp_client_set_log_level(struct mcp_client *c, const char *level);
/* Frees the transport too (a stdio child is stopped). NULL-safe. */
void mcp_client_free(struct mcp_client *c);

/* Start the transport and the handshake; the outcome arrives via on_state.
 * Returns -1 with *errmsg if the transport cannot start at all. */
int mcp_client_connect(struct mcp_client *c, int timeout_ms, char **errmsg);

enum mcp_client_state mcp_client_state(const struct mcp_client *c);
const char *mcp_client_error(const struct mcp_client *c);     /* or NULL */
const char *mcp_client_protocol(const struct mcp_client *c);  /* negotiated */
/* Whether the negotiated version is v or later (versions are dates, so
 * they compare as strings). What changes with the version:
 *   2025-03-26  completions capability (before: completion/complete is
 *               allowed with prompts or resources), tool annotations,
 *               audio content
 *   2025-06-18  structured tool output (outputSchema is checked only from
 *               here), elicitation (refused before), resource links, and
 *               the MCP-Protocol-Version HTTP header (not sent before) */
int mcp_client_version_at_least(const struct mcp_client *c, const char *v);
const cJSON *mcp_client_server_info(const struct mcp_client *c);
struct mcp_transport *mcp_client_transport(struct mcp_client *c);
size_t mcp_client_tools(const struct mcp_client *c, const struct mcp_tool **out);
/* A cached list as a JSON array (borrowed), or NULL if the server does
 * not advertise it. */
const cJSON *mcp_client_list(const struct mcp_client *c, enum mcp_list which);
const cJSON *mcp_client_capabilities(const struct mcp_client *c);
/* Messages the server logged (notifications/message), most recent last. */
const char *mcp_client_log(const struct mcp_client *c);
const struct mcp_tool *mcp_client_find_tool(const struct mcp_client *c, const char *name);

/* The outcome of a tool call: exactly one of result (an MCP
 * CallToolResult; its isError may be true) and error is set. Borrowed. */
typedef void (*mcp_call_cb)(void *payload, const cJSON *result, const char *error);

typedef void (*mcp_progress_cb)(void *payload, double progress, double total,
                                const char *message);

struct mcp_call_opts {
    int timeout_ms;            /* idle: reset by every progress notification; 0 none */
    int max_ms;                /* hard maximum whatever the progress; 0 none */
    mcp_progress_cb on_progress;   /* may be NULL; total < 0 when unknown */
};

/* Call a tool. args is borrowed (NULL = {}). Returns the request id
 * (> 0) or -1 (cb not called; *errmsg set). */
int64_t mcp_client_call_tool(struct mcp_client *c, const char *tool, const cJSON *args,
                             const struct mcp_call_opts *o, mcp_call_cb cb, void *payload,
                             char **errmsg);

/* Any other request (resources/read, resources/subscribe, prompts/get,
 * completion/complete, ping...). params is taken. Refused with *errmsg when
 * the server did not advertise the capability the method needs. cb gets
 * the result object or an error text. */
int64_t mcp_client_request(struct mcp_client *c, const char *method, cJSON *params,
                           int timeout_ms, mcp_call_cb cb, void *payload, char **errmsg);

/* Answer a request the server sent (see on_request). result is taken. */
int mcp_client_reply(struct mcp_client *c, const cJSON *id, cJSON *result);
int mcp_client_reply_error(struct mcp_client *c, const cJSON *id, int code, const char *message);
/* Stop waiting for a call: notifications/cancelled is sent to the server
 * and cb runs now with an error saying why. */
void mcp_client_cancel(struct mcp_client *c, int64_t id, const char *reason);
int mcp_client_inflight(const struct mcp_client *c);

/* The mime type results of tool calls are stored under: the whole
 * CallToolResult as JSON (content of every type, structuredContent). */
#define MCP_RESULT_MIME "application/vnd.mcp.tool-result+json"

/* Text content of a CallToolResult joined by newlines (malloc'd); other
 * content types are summarised ("[image image/png, 1234 bytes]"). */
char *mcp_result_text(const cJSON *result);
int mcp_result_is_error(const cJSON *result);

#endif
