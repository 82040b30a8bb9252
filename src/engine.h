/* engine.h — the one interface the front ends (ui/, batch.c, cli.c, later
 * serve.c) use. The engine owns the loop, the config, the store, the job
 * queue and the servers. Front ends call commands, read snapshots and
 * subscribe to events; they never reach into the subsystems' state.
 * Loop thread only. */
#ifndef MCPDECK_ENGINE_H
#define MCPDECK_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#include "jobq.h"

struct engine;
struct loop;
struct config;
struct config_server;
struct cJSON;

struct engine_opts {
    const char *config_path;     /* --config, or NULL to discover */
    const char *data_dir;        /* overrides config data_dir when set */
    int concurrency;             /* overrides queue.concurrency when > 0 */
    const char *only_servers;    /* comma list: start only these (NULL = all) */
};

/* Process-wide command-line overrides of the config (--metrics-file,
 * --log-level, --log-file), set once by main before any engine_new; the
 * strings must outlive the engines. NULL fields keep the config's. */
struct engine_overrides {
    const char *metrics_file;
    const char *log_level;
    const char *log_file;
};
void engine_set_overrides(const struct engine_overrides *o);

/* Load config, open the store (recovering interrupted jobs), register the
 * built-in and configured servers. Nothing is started yet. */
int engine_new(const struct engine_opts *opts, struct engine **out, char **errmsg);
/* Stop servers (stdin closed, brief wait, process group signalled) and free. */
void engine_free(struct engine *e);           /* NULL-safe */

struct loop *engine_loop(struct engine *e);
const struct config *engine_config(struct engine *e);
const char *engine_workspace_root(struct engine *e);
const char *engine_db_path(struct engine *e);

/* Register one more server at run time (cfg is borrowed: it must outlive
 * the engine). Fails if the name is taken. */
int engine_add_server(struct engine *e, const struct config_server *cfg, char **errmsg);
/* Register an in-process server (builtin.h) beside fs, memory and git,
 * before engine_start: for programs that embed the engine (the benchmarks
 * add a no-op tool this way). The name must be free; srv must outlive e. */
struct builtin_server;
int engine_add_builtin(struct engine *e, const struct builtin_server *srv, char **errmsg);

/* Run-time registry changes, kept in the store for the next start.
 * add: spec_json is a server definition in the config's keys as JSON
 * ({"command": "node", "args": ["x.js"]} or {"url": "https://..."});
 * checked like the config (errors name what is wrong). remove: only a
 * server added this way. enable/disable: any server; a disabled one is
 * stopped and its waiting jobs fail. restart: stop and start again. */
int engine_server_add(struct engine *e, const char *name, const char *spec_json, char **errmsg);
int engine_server_remove(struct engine *e, const char *name, char **errmsg);
int engine_server_enable(struct engine *e, const char *name, int on, char **errmsg);
int engine_server_restart(struct engine *e, const char *name, char **errmsg);

/* The server's captured stderr (stdio) or log lines, most recent last;
 * NULL for an unknown server. Valid until the next loop turn. */
const char *engine_server_log(struct engine *e, const char *server);

/* Start every enabled server (asynchronously) and the scheduler. */
void engine_start(struct engine *e);
/* Start one server now if it is not running; used by `call`. */
int engine_start_server(struct engine *e, const char *name, char **errmsg);
/* For one-shot commands (call, servers, batch, serve): SIGINT and
 * SIGTERM no longer end the program where it stands (the servers it
 * started, in their own process groups, would outlive it); they are noted
 * instead, the waits here (servers starting, health checks) end early,
 * and the caller stops and returns ENGINE_EXIT_INTERRUPTED (engine_free
 * stops the servers). A SIGINT ignored when this is called (a shell's
 * background command) stays ignored. Replaced by a later loop_signal for
 * either. */
void engine_catch_interrupts(struct engine *e);
/* The signal caught since engine_catch_interrupts, or 0. */
int engine_interrupted(const struct engine *e);
#define ENGINE_EXIT_INTERRUPTED 130      /* the exit code of an interrupted command */

/* Run the loop until every started server is ready or failed, or
 * timeout_ms passes (or an interrupt is caught). Returns the number still
 * starting. */
int engine_wait_servers(struct engine *e, int timeout_ms);
/* One round of health checks: every enabled server is started if it is
 * not running and checked (ping, or tools/list where ping is not
 * answered); returns when every check answered or timeout_ms passed.
 * Returns the number of checks still out. */
int engine_check_servers(struct engine *e, int timeout_ms);
/* Periodic health checks on (engine_start turns them on) or off. */
void engine_set_health_checks(struct engine *e, int on);
/* Check one server now without waiting: the outcome arrives as its
 * health (ENGINE_EV_SERVER_HEALTH when it changes). A stopped server is
 * started (and checked once ready when periodic checks run). 0, or -1
 * and *errmsg: unknown, disabled, still starting, or its breaker is open. */
int engine_check_server(struct engine *e, const char *name, char **errmsg);
/* Whether the scheduler may claim queued jobs (default 1 after start). */
void engine_set_scheduling(struct engine *e, int on);

/* === events === */

enum engine_event_kind {
    ENGINE_EV_JOB_QUEUED,
    ENGINE_EV_JOB_STARTED,
    ENGINE_EV_JOB_DONE,          /* succeeded, failed or cancelled (see job) */
    ENGINE_EV_JOB_RETRY,         /* an attempt failed, requeued */
    ENGINE_EV_JOB_PROGRESS,      /* progress notification (progress, total, text) */
    ENGINE_EV_SERVER_STATE,      /* a server changed state or its tools; or (text a method,
                                    "notifications/...", and result its params) a
                                    notification it sent (notifications/message,
                                    notifications/resources/updated) */
    ENGINE_EV_LOG,               /* a message for the user (text) */
    ENGINE_EV_SERVER_HEALTH,     /* a server's health or breaker changed (text: why) */
    ENGINE_EV_JOB_TOKENS,        /* a model task's answer as it streams (text: the new
                                    piece; NULL: forget the text so far, a retry starts) */
};

struct engine_event {
    enum engine_event_kind kind;
    int64_t job_id;              /* job events */
    enum job_status status;      /* JOB_DONE: final status */
    const char *server;          /* server events */
    const char *text;            /* LOG; JOB_DONE/RETRY: error if any; PROGRESS: message */
    double progress, total;      /* JOB_PROGRESS; total < 0 when unknown */
    const struct cJSON *result;  /* JOB_DONE: the tool's CallToolResult, if there was one;
                                    SERVER_STATE for a notification: its params (or NULL) */
};

typedef void (*engine_event_cb)(void *payload, const struct engine_event *ev);
void engine_subscribe(struct engine *e, engine_event_cb cb, void *payload);
void engine_unsubscribe(struct engine *e, engine_event_cb cb, void *payload);

/* === commands === */

/* Queue a tool task (server + tool + JSON args). The job is on disk when
 * this returns. Unknown server is an error. */
int engine_submit(struct engine *e, const struct jobq_spec *spec, int64_t *id, char **errmsg);
/* Queue several tasks in one transaction: all or none are on disk when
 * this returns (a batch of 10,000 costs one commit, not 10,000). */
int engine_submit_group(struct engine *e, const struct jobq_spec *specs, size_t n, int64_t *ids,
                        char **errmsg);
/* === routing === */

/* What a routed task asks of the router. */
struct engine_route_req {
    const char *type;            /* generate, refactor, debug, review, document, test,
                                    deploy; or NULL */
    const char *const *caps;     /* required capabilities besides the type's */
    size_t ncaps;
    const char *server;          /* the task names its server: only that one */
    const char *tool;            /* a tool task: only servers that have this tool */
    int heavy;                   /* 1 heavy, 0 light, -1 the type's default */
};
/* Route now, as a job starting now would be routed. Returns 0 and
 * *chosen (malloc'd), or -1 with *errmsg (a bad request, or no server
 * fits: the message lists the required capabilities and what each
 * server lacked). *explain (a text table of every candidate's scores) and
 * *json (what is stored with a job) are filled in both cases when not
 * NULL. */
int engine_route(struct engine *e, const struct engine_route_req *req, char **chosen,
                 char **explain, struct cJSON **json, char **errmsg);
/* For a model task over a large catalog: the k tools of available servers
 * most relevant to text ("server.tool", best first; *out malloc'd, each
 * entry too). Returns how many. */
size_t engine_route_tools(struct engine *e, const char *text, size_t k, char ***out);
/* The route_json a jobq_spec needs for req (malloc'd). */
char *engine_route_request_json(const struct engine_route_req *req);

/* Parse "server.tool" and JSON args text, then engine_submit. */
int engine_submit_text(struct engine *e, const char *target, const char *args_json,
                       int64_t *id, char **errmsg);
int engine_cancel(struct engine *e, int64_t id, char **errmsg);
/* The newest job filed under (batch, key). 0 and *id, or -1. */
int engine_find_job(struct engine *e, const char *batch, const char *key, int64_t *id);
/* Check args against the tool's inputSchema (the server must be ready).
 * 0, or -1 with *errmsg saying where and what ("args.x: expected ..."). */
int engine_check_args(struct engine *e, const char *server, const char *tool,
                      const struct cJSON *args, char **errmsg);

/* A direct tool call outside the queue (CLI `call`). cb gets the MCP
 * CallToolResult (borrowed) or an error text. */
typedef void (*engine_call_cb)(void *payload, const struct cJSON *result, const char *error);
int engine_call(struct engine *e, const char *server, const char *tool,
                const struct cJSON *args, engine_call_cb cb, void *payload, char **errmsg);
/* Progress of a direct call: total < 0 when unknown, message may be NULL. */
typedef void (*engine_progress_cb)(void *payload, double progress, double total,
                                   const char *message);
/* engine_call without running the loop: the tool must be in the server's
 * list now (a front end that is itself driven by the loop, serve.c, must
 * not nest it). progress may be NULL. *handle (when handle is not NULL)
 * names the call for engine_call_cancel. cb runs exactly once when this
 * returns 0 — possibly before it returns (a built-in answering at once). */
int engine_call_ex(struct engine *e, const char *server, const char *tool,
                   const struct cJSON *args, engine_progress_cb progress, engine_call_cb cb,
                   void *payload, uint64_t *handle, char **errmsg);
/* Cancel a direct call still in flight: notifications/cancelled goes to
 * the server and its cb runs now with an error naming reason. A finished
 * or unknown handle is ignored. */
void engine_call_cancel(struct engine *e, uint64_t handle, const char *reason);

/* === approvals: destructive tool calls of model tasks === */

struct engine_approval;          /* one pending question */
/* Asked for each destructive tool call (tools.destructive or the tool's
 * destructiveHint) that tools.approve does not cover: a model's tool call,
 * or a queued tool task about to be sent. Answer with
 * engine_approval_answer(). Without a handler (batch, CLI) such calls are
 * refused (a model is told why; a task fails naming the setting). args
 * borrowed for the call. */
typedef void (*engine_approval_cb)(void *payload, struct engine_approval *q, int64_t job,
                                   const char *server, const char *tool,
                                   const struct cJSON *args);
void engine_set_approval_handler(struct engine *e, engine_approval_cb cb, void *payload);
void engine_approval_answer(struct engine *e, struct engine_approval *q, int allow);

/* What model tasks need that is missing (a sentence naming the config
 * keys), or NULL when a model can be called. */
const char *engine_llm_missing(struct engine *e);

/* === elicitation: servers asking the user for input === */

struct engine_elicit;            /* one pending elicitation/create request */

/* Called for each elicitation request; answer it (now or later) with
 * engine_elicit_answer(). jobs are the jobs running on that server (a
 * stdio message does not say which call it belongs to). message and
 * schema are borrowed until answered; jobs only for the call. */
typedef void (*engine_elicit_cb)(void *payload, struct engine_elicit *req, const char *server,
                                 const int64_t *jobs, size_t njobs, const char *message,
                                 const struct cJSON *schema);
/* Without a handler every request is declined. */
void engine_set_elicit_handler(struct engine *e, engine_elicit_cb cb, void *payload);
/* action "accept" (content taken; the schema's defaults fill what it
 * lacks), "decline" or "cancel" (content NULL). */
void engine_elicit_answer(struct engine *e, struct engine_elicit *req, const char *action,
                          struct cJSON *content);

/* === server requests a front end relays (serve) === */

/* A request a server sent (sampling/createMessage, or elicitation/create
 * the engine would accept), offered to the claim hook before the engine
 * handles it. The message does not say which call it belongs to (stdio
 * has no such link), so the calls in flight on that server are listed.
 * Everything is borrowed for the hook's call. */
struct engine_server_request {
    uint64_t handle;             /* engine_server_request_reply's name for it */
    const char *server;
    const char *method;
    const struct cJSON *params;
    const struct cJSON *id;      /* the server's id (its notifications/cancelled names it) */
    const int64_t *jobs;         /* tool tasks whose call is in flight on that server */
    size_t njobs;
    const uint64_t *calls;       /* engine_call_ex handles in flight on it */
    size_t ncalls;
    int model_tasks;             /* model tasks running anywhere (their calls are not listed) */
};
/* 1: taken (answer it with engine_server_request_reply, now or later);
 * 0: the engine handles it (sampling by the configured model, elicitation
 * by the elicit handler). */
typedef int (*engine_request_claim_cb)(void *payload, const struct engine_server_request *q);
/* One hook at a time; cb NULL removes it. */
void engine_set_request_claim(struct engine *e, engine_request_claim_cb cb, void *payload);
/* Answer a claimed request with result (taken), or when result is NULL
 * with the error code and message; code 0 without a result forgets it
 * unanswered (the server cancelled it). 0, or -1 when the server session
 * that asked is gone (nothing is sent). */
int engine_server_request_reply(struct engine *e, uint64_t handle, struct cJSON *result,
                                int code, const char *message);
/* Servers started from now on declare the sampling capability even when
 * no model is configured, because a front end relays sampling to its own
 * clients (serve). Call before engine_start. Without it, sampling is
 * declared only when a model can answer. */
void engine_set_sampling_relay(struct engine *e, int on);
/* A server's capabilities from its initialize answer (borrowed until the
 * next loop turn), or NULL when it is unknown or not connected. */
const struct cJSON *engine_server_capabilities(struct engine *e, const char *server);

/* Any other MCP request to a ready server (resources/read,
 * resources/subscribe, prompts/get, completion/complete). params taken. */
int engine_request(struct engine *e, const char *server, const char *method,
                   struct cJSON *params, engine_call_cb cb, void *payload, char **errmsg);

/* Run the loop until server has tool (its list may still be refreshing
 * after list_changed) or timeout_ms passes. Returns 1 if it has it. */
int engine_wait_tool(struct engine *e, const char *server, const char *tool, int timeout_ms);

/* === snapshots (valid until the next loop turn) === */

enum server_state {
    SERVER_STOPPED,
    SERVER_STARTING,
    SERVER_READY,
    SERVER_FAILED,
    SERVER_DISABLED,
};
const char *server_state_name(enum server_state s);

enum server_health {
    SERVER_HEALTH_UNKNOWN,       /* never checked */
    SERVER_HEALTH_HEALTHY,
    SERVER_HEALTH_WARNING,       /* slow beyond health.slow, or faults in the recent window */
    SERVER_HEALTH_UNHEALTHY,     /* the last check failed, or it is down */
};
const char *server_health_name(enum server_health h);

struct engine_server_info {
    const char *name;
    const char *kind;            /* "stdio", "http", "builtin" */
    enum server_state state;
    int ntools;
    int64_t calls, errors;
    int inflight;
    int restarts;
    const char *last_error;      /* or NULL */
    enum server_health health;
    const char *health_reason;   /* why it has that health, or NULL */
    int64_t checked_ms;          /* Unix ms of the last check; 0 = never */
    int64_t latency_ms;          /* of the last check; -1 = none */
    const char *breaker;         /* "closed", "half-open", "open" */
    /* profile (registry.h): what the router knows of it */
    const char *const *caps;
    size_t ncaps;
    const char *caps_source;     /* "catalog", "derived", "config" */
    const char *catalog_id;      /* matched catalog entry, or NULL */
    const char *const *task_types;
    size_t ntask_types;
    int light, heavy;
    int64_t breaker_retry_ms;    /* open: Unix ms when a trial may go; else 0 */
    double call_p50_ms, call_p95_ms;   /* tool calls' latency since start; -1 none
                                          (filled by engine_servers_latency only) */
};

/* Number of servers; fills up to max entries of out. */
size_t engine_servers(struct engine *e, struct engine_server_info *out, size_t max);
/* Fill the call_p50_ms/call_p95_ms of n snapshots from the metrics table.
 * Apart from engine_servers, so the callers on a call's path (serve looks
 * servers up per call) do not compute quantiles they do not show. */
void engine_servers_latency(struct engine *e, struct engine_server_info *v, size_t n);

struct engine_tool_info {
    const char *name;
    const char *description;
    const struct cJSON *input_schema;
    const struct cJSON *output_schema;   /* NULL when the tool declares none */
    const struct cJSON *annotations;     /* NULL when none */
};
/* Tools of a server; returns count, fills up to max. */
size_t engine_server_tools(struct engine *e, const char *server,
                           struct engine_tool_info *out, size_t max);

/* A server's cached resources, resource templates or prompts as a JSON
 * array (which: "resources", "templates", "prompts"); NULL when the
 * server does not offer them or is unknown. */
const struct cJSON *engine_server_list(struct engine *e, const char *server, const char *which);

struct engine_stats {
    struct jobq_counts jobs;     /* by status, from the store */
    int running;                 /* in this process */
    int64_t calls, errors;       /* tool calls since start, all servers */
};
void engine_stats(struct engine *e, struct engine_stats *out);

/* The metrics table (metrics.h), its gauges refreshed now (queue depth,
 * running jobs, health and breaker states). */
const struct metrics *engine_metrics(struct engine *e);
/* Rewrite PATH atomically with the Prometheus text every interval (the
 * config's metrics.interval) and once more at engine_free. NULL stops. */
void engine_set_metrics_file(struct engine *e, const char *path);

/* Apply a unified diff (e.g. one a model answered with) to the workspace's
 * git work tree, as `git apply` would; check_only says whether it would
 * apply without writing. 0, or -1 with *errmsg. Blocking (libgit2, small
 * diffs): the UI calls it on a user's explicit confirmation only. */
int engine_apply_diff(struct engine *e, const char *diff, int check_only, char **errmsg);

/* Progress of a running job: 0 and the figures, or -1 if none seen. */
int engine_job_progress(struct engine *e, int64_t id, double *progress, double *total);

/* A job's result for people: the text content of a tool result (other
 * content summarised), then its structured content pretty-printed; other
 * results as stored. malloc'd; "" when there is none. */
char *engine_result_text(const struct job *j);
/* The structuredContent of a job's tool result (new object), or NULL. */
struct cJSON *engine_result_structured(const struct job *j);

/* === for the TUI: changes and views of single jobs and pages of jobs === */

/* Run a failed, cancelled or skipped job again (jobq_retry; an event
 * JOB_QUEUED follows). 0, or -1 and *errmsg. */
int engine_retry(struct engine *e, int64_t id, char **errmsg);
/* Change a queued job's priority. 0, or -1 and *errmsg (not queued). */
int engine_set_priority(struct engine *e, int64_t id, int priority, char **errmsg);
/* A job's attempts and events, oldest first (see jobq_attempts,
 * jobq_events; free with jobq_attempts_free, jobq_events_free). 0 or -1. */
int engine_job_attempts(struct engine *e, int64_t id, struct jobq_attempt **out, size_t *n);
int engine_job_events(struct engine *e, int64_t id, struct jobq_event **out, size_t *n);

/* Which jobs a page shows and in what order. */
enum engine_job_sort { ENGINE_SORT_ID, ENGINE_SORT_STATUS, ENGINE_SORT_PRIORITY,
                       ENGINE_SORT_TARGET, ENGINE_SORT_ELAPSED, ENGINE_SORT_COUNT };
struct engine_job_query {
    unsigned status_mask;        /* bits 1u << JOB_x; 0 = every status */
    const char *text;            /* substring of server.tool (or the task type); NULL = any */
    enum engine_job_sort sort;   /* ties by id */
    int ascending;               /* 0: largest first (newest for ENGINE_SORT_ID) */
};
/* "id", "status", ...; NULL out of range. engine_job_sort_parse: 0 or -1. */
const char *engine_job_sort_name(enum engine_job_sort s);
int engine_job_sort_parse(const char *name, enum engine_job_sort *out);
/* Rows [offset, offset + limit) of the jobs q selects (no results); caller
 * frees with jobq_jobs_free. *total (may be NULL) gets how many q selects.
 * Reads only that window from the store. 0 or -1. */
int engine_jobs_page(struct engine *e, const struct engine_job_query *q, int offset, int limit,
                     struct job **out, size_t *n, int64_t *total);
/* The row of job id among the jobs q selects, or -1 when q leaves it out. */
int64_t engine_jobs_index(struct engine *e, const struct engine_job_query *q, int64_t id);
/* Memory entries stored and writes waiting in the Qdrant outbox; -1 when
 * the store has no such tables. */
int engine_memory_counts(struct engine *e, int64_t *entries, int64_t *outbox);
/* Qdrant as `servers check` shows it (engine_check_qdrant). */
struct engine_qdrant_info {
    const char *url;             /* borrowed from the config */
    int healthy;                 /* the probe answered */
    int64_t latency_ms;          /* of the probe */
    const char *breaker;         /* "closed", "half-open" or "open" */
    char *error;                 /* why it is unhealthy (owned; NULL when healthy) */
    int64_t outbox;              /* writes waiting; -1 when unknown */
};
/* Probe Qdrant now (GET /collections through the client's breaker,
 * waiting at most timeout_ms on the loop) and fill *out. 0 when
 * memory.qdrant is not configured (nothing filled), 1 when *out is set;
 * free out->error. */
int engine_check_qdrant(struct engine *e, int timeout_ms, struct engine_qdrant_info *out);

/* The memory store, for the TUI (thin wrappers over memory.h). */
struct engine_memory_hit {
    int64_t id;
    char *ns;                    /* owned */
    char *text;                  /* owned: the whole text */
    double score;                /* hybrid: fused RRF */
};
/* Hybrid search for text in ns (NULL: every namespace), at most k hits
 * (0: 10), best first; *out has *n hits, free with engine_memory_hits_free.
 * 0, or -1 and *errmsg. Blocking (embeds the query). */
int engine_memory_search(struct engine *e, const char *text, const char *ns, size_t k,
                         struct engine_memory_hit **out, size_t *n, char **errmsg);
/* The same on the worker pool: cb runs once on the loop thread (possibly
 * before the call returns) with hits it owns (error NULL on success). */
typedef void (*engine_memory_search_cb)(void *payload, struct engine_memory_hit *hits, size_t n,
                                        const char *error);
void engine_memory_search_async(struct engine *e, const char *text, const char *ns, size_t k,
                                engine_memory_search_cb cb, void *payload);
void engine_memory_hits_free(struct engine_memory_hit *h, size_t n);
/* Add text to ns (NULL: the default namespace): 0 new, 1 already there
 * (*id set either way), -1 and *errmsg. Blocking (embeds). */
int engine_memory_add(struct engine *e, const char *ns, const char *text, int64_t *id,
                      char **errmsg);
/* 0 deleted, 1 no such entry, -1 and *errmsg. */
int engine_memory_delete(struct engine *e, int64_t id, char **errmsg);
/* The namespace used when none is given (memory.namespaces); borrowed. */
const char *engine_memory_default_ns(struct engine *e);
/* Model tokens (in + out) and cost (USD) used since local midnight. 0 or -1. */
int engine_usage_today(struct engine *e, int64_t *tokens, double *cost);

/* Newest jobs first (see jobq_list) and one job with its result. */
int engine_jobs(struct engine *e, int limit, struct job **out, size_t *n);
int engine_job(struct engine *e, int64_t id, struct job *out);

#endif
