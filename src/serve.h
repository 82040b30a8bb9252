/* serve.h — mcpdeck as an MCP server for other clients.
 *
 * One struct serve per process sits over the engine and aggregates what
 * it holds into one MCP server: every exposed server's tools namespaced
 * "server__tool" (the built-ins fs, git and memory are servers like any
 * other), the task tools submit_task, task_status, task_result and
 * cancel_task (the engine's router and queue), and the downstream
 * resources and prompts (prompts "server__prompt"; resources keep their
 * URIs). Requests are routed to the server that owns the name; the lists
 * come in pages (cursor, nextCursor; serve_lists.c). Resource
 * subscriptions are passed to the owning server and its updates back to
 * the sessions that subscribed (serve_subs.c). A downstream server's
 * sampling or elicitation request made while it works on an outer call
 * goes to the session that made the call, and its answer back down
 * (serve_relay.c, through the engine's claim hook).
 *
 * A struct serve_session is one outer client. The transport (stdio in
 * serve_stdio.c, Streamable HTTP in serve_http.c) feeds it the client's
 * messages and gets the answers back through its send function. Progress
 * (the client's progressToken), cancellation, logging and list_changed
 * are passed through both ways.
 *
 * Config (the serve: section, struct config_serve in config.h):
 *   expose: {servers: [globs], tools: [globs]}   what is listed and callable
 *   hide_open_breakers: bool    tools of a server whose breaker is open are
 *                               left out of tools/list (calls error anyway)
 *   record_calls: bool          tool calls go through the queue as jobs
 *                               (default true; visible in Tasks and Metrics)
 *   task_tools: bool            offer the task tools (default true)
 *   page_size: int              items per page of the lists (default 200)
 *   relay_timeout: duration     a relayed server request waits this long for
 *                               the outer client (default 10 min)
 *   http: {listen, token_env}   for serve_http.c
 *
 * Loop thread only, like the engine. */
#ifndef MCPDECK_SERVE_H
#define MCPDECK_SERVE_H

#include <stddef.h>

struct engine;
struct serve;                    /* one per process: the aggregate server over the engine */
struct serve_session;            /* one outer client (a stdio peer, or an HTTP session) */

/* Create the aggregate server over e (borrowed; must outlive it); reads
 * the serve: config, subscribes to the engine's events and takes its
 * server requests (engine_set_request_claim). The engine should be
 * started (engine_start) by the caller, after engine_set_sampling_relay
 * so that its servers know they may sample. NULL and *errmsg on a bad
 * config. */
struct serve *serve_new(struct engine *e, char **errmsg);
/* Frees every session still open (cancelling their calls) and the server.
 * NULL-safe. */
void serve_free(struct serve *s);

/* Messages out to the client. json is one complete JSON-RPC message
 * (never a batch), not NUL-terminated necessarily, borrowed for the call.
 * related: the id (JSON text, e.g. "3" or "\"abc\"", or NULL) of the
 * client request this message belongs to (its response, or a progress/log
 * notification about it) — HTTP uses it to route the message to that
 * request's SSE stream; NULL = a general message (the GET stream). */
typedef void (*serve_send_fn)(void *tpayload, const char *json, size_t len, const char *related);

/* A new outer client; send is called (on the loop thread) for each message
 * to it, possibly from inside serve_session_receive. */
struct serve_session *serve_session_new(struct serve *s, serve_send_fn send, void *tpayload);
/* Cancels its requests in flight downstream (their answers are dropped);
 * send is never called again. NULL-safe. Must not be called from within
 * the session's own send callback. */
void serve_session_free(struct serve_session *ss);

/* One message from the client (a request, notification, response, or a
 * batch array). Unparsable input gets a JSON-RPC parse error (-32700). */
void serve_session_receive(struct serve_session *ss, const char *json, size_t len);

/* Whether the session finished initialize (the initialize request was
 * answered; HTTP needs it to hand out session ids), and its negotiated
 * protocol version (NULL before initialize). */
int serve_session_ready(const struct serve_session *ss);
const char *serve_session_protocol(const struct serve_session *ss);
/* Requests of this session still waiting for an answer (for HTTP: whether
 * a POST stream may close). */
size_t serve_session_pending(const struct serve_session *ss);

/* `mcpdeck serve`: newline-delimited JSON-RPC on stdin/stdout until stdin
 * closes (or SIGINT/SIGTERM). Logs go to the log file and stderr, never
 * stdout. Starts the engine. Returns 0, or -1 and *errmsg. */
int serve_stdio_run(struct engine *e, char **errmsg);

#endif
