/* serve_http.h — mcpdeck's aggregate MCP server over Streamable HTTP.
 *
 * `mcpdeck serve --http ADDR:PORT` and `mcpdeck --serve-http ADDR:PORT`
 * (the TUI with the server on the side). One endpoint, /mcp:
 *   POST    JSON-RPC messages; requests are answered as application/json
 *           when every answer is ready at once, else on an SSE stream
 *           (progress and log notifications about the request come on it
 *           too, and the server requests relayed while it runs);
 *           notifications and responses alone get 202.
 *   GET     the SSE stream for general messages (list_changed, server
 *           requests not tied to a client request); Last-Event-ID resumes
 *           any stream of the session where it broke off.
 *   DELETE  ends the session.
 * Mcp-Session-Id is handed out with the initialize answer and required
 * afterwards (400 without, 404 unknown); MCP-Protocol-Version, when sent,
 * must be a version mcpdeck speaks (400). Against DNS rebinding, a request
 * whose Origin is not loopback (or in serve.http.origins) or whose Host is
 * not the bound address gets 403; with serve.http.token_env set, requests
 * without "Authorization: Bearer <token>" get 401.
 *
 * libmicrohttpd runs in its external epoll mode on the engine's loop (one
 * fd watcher and a timer); SSE streams are callback responses that
 * suspend their connection when nothing is queued and are resumed when
 * the session sends. Loop thread only. */
#ifndef MCPDECK_SERVE_HTTP_H
#define MCPDECK_SERVE_HTTP_H

struct engine;
struct serve_http;

/* Serve e's aggregate MCP server on listen ("127.0.0.1:8808", "[::1]:0",
 * "localhost:PORT"; port 0 picks a free one; NULL = the config's
 * serve.http.listen, else 127.0.0.1:8808). The engine must be started
 * (engine_start); requests are handled as the engine's loop runs. Reads
 * the bearer token from the variable serve.http.token_env names (an
 * error when that variable is unset or empty). 0 and *out, or -1 and
 * *errmsg (bad address, port in use, bad serve config). */
int serve_http_open(struct engine *e, const char *listen, struct serve_http **out,
                    char **errmsg);
/* The port actually bound (useful with port 0). */
int serve_http_port(const struct serve_http *h);
/* The endpoint's URL, e.g. "http://127.0.0.1:8808/mcp"; borrowed. */
const char *serve_http_url(const struct serve_http *h);
/* Ends every session (cancelling its calls) and every stream, stops
 * listening. NULL-safe. */
void serve_http_free(struct serve_http *h);

/* `mcpdeck serve --http ADDR:PORT`: starts the engine, waits for the
 * servers, serves until SIGINT/SIGTERM; prints the URL on stderr. Returns
 * 0, or -1 and *errmsg. */
int serve_http_run(struct engine *e, const char *listen, char **errmsg);

#endif
