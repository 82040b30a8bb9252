/* engine_int.h — the engine's own state, shared by engine.c (lifecycle,
 * events, commands, snapshots), engine_jobs.c (runs, group commit, the
 * scheduler) and engine_servers.c (server sessions, restarts,
 * elicitation). Nothing outside those files includes it. */
#ifndef MCPDECK_ENGINE_INT_H
#define MCPDECK_ENGINE_INT_H

#include "engine.h"
#include "breaker.h"
#include "builtin.h"
#include "config.h"
#include "db.h"
#include "jobq.h"
#include "jsonrpc.h"
#include "jsonschema.h"
#include "log.h"
#include "loop.h"
#include "memory.h"
#include "mcp_client.h"
#include "mcp_transport.h"
#include "metrics.h"
#include "pathjail.h"
#include "registry.h"
#include "router.h"
#include "proc.h"
#include "redact.h"
#include "util.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>

struct run;
struct agent;
struct llm;
struct qdrant;

struct server {
    struct engine *e;
    char *name;
    const char *kind;
    const struct config_server *cfg;     /* NULL for built-ins */
    const struct builtin_server *builtin;
    struct mcp_client *client;
    enum server_state state;
    char *last_error;
    int64_t calls, errors;
    int restarts;
    int started;                         /* start was requested at least once */
    struct run *parked;                  /* jobs waiting for the server to be ready */
    struct run *waiting;                 /* jobs waiting for a slot (per-server limit) */
    int busy;                            /* jobs dispatched to it now */
    int sampling;                        /* its sampling requests at the model now */
    struct buf logcopy;                  /* engine_server_log's answer */
    uint64_t restart_timer;              /* a crashed server comes back after backoff */
    int crashes;                         /* consecutive, for the backoff */
    int64_t ready_since;
    /* health and the breaker (engine_health.c) */
    struct breaker breaker;
    enum server_health health;
    char *health_reason;
    struct health_basis {        /* what evaluate() last decided on (engine_health.c) */
        int check_ok, ping_unsupported, faults, wlen;
        int64_t latency_ms;
    } eval;
    int eval_valid;
    int64_t checked_ms;                  /* wall clock of the last check; 0 = never */
    int64_t latency_ms;                  /* of the last check; -1 = none */
    int check_ok;                        /* the last check's outcome */
    int check_inflight;
    int64_t check_started;               /* monotonic */
    int ping_unsupported;                /* ping answered "method not found": tools/list */
    uint64_t health_timer;
    unsigned char window[64];            /* recent call outcomes, 1 = a server fault */
    int wlen, wpos;
    int removed;                         /* `servers remove`d: hidden, never started */
    struct registry_profile profile;     /* what it is good for (engine_route.c) */
};

#define PROGRESS_SAVE_MS 250
/* Elicitation forms one server may have waiting for the user at once. */
#define ELICIT_WAITING_MAX 4

struct run {                             /* a job being worked on */
    struct engine *e;
    int64_t job_id;
    struct server *srv;
    char *tool;
    cJSON *args;
    int timeout_ms;
    int64_t reqid;
    int64_t sent_ms;                     /* monotonic, when the call went */
    int64_t started_ms;                  /* wall clock, when the attempt began */
    char *route_type;                    /* routed: the task type (for success rates) */
    char *route_json;                    /* routed: the request, until routed */
    struct agent *agent;                 /* a model task's loop (engine_agent.c) */
    struct engine_approval *approval;    /* a destructive tool task asking the user */
    int approved;                        /* the user said yes */
    char *refusal;                       /* what to say if the user says no */
    int cancelled;
    double progress, total;              /* last progress notification */
    int has_progress;
    /* Progress is stored as job events at most every PROGRESS_SAVE_MS:
     * the newest one in between waits here (a server may send thousands
     * a second; the UI still sees every one). */
    int64_t progress_saved_ms;           /* monotonic; 0: none stored yet */
    char *progress_pending;              /* event data (JSON), not stored yet */
    uint64_t progress_timer;
    int dispatched;                      /* holds a slot on srv (busy) */
    struct run *next;                    /* in e->runs or srv->parked */
};

struct engine_elicit {
    struct engine *e;
    struct server *srv;
    struct mcp_client *client;           /* to check it is still the same session */
    cJSON *id;
    cJSON *schema;
    struct engine_elicit *next;
};

/* A server request taken by the claim hook, until it is answered. */
struct engine_claimed {
    uint64_t handle;
    struct server *srv;
    struct mcp_client *client;           /* to check it is still the same session */
    cJSON *id;
    struct engine_claimed *next;
};

struct sub {
    engine_event_cb cb;
    void *payload;
};

struct direct_call {
    struct server *srv;
    char *tool;
    int64_t sent_ms;
    engine_call_cb cb;
    engine_progress_cb progress;
    void *payload;
    uint64_t handle;                     /* engine_call_cancel's name for it */
    int64_t reqid;                       /* the request on srv->client, once sent */
    struct direct_call *next;            /* in e->directs */
};

struct engine {
    struct loop *loop;
    struct http *farewell;               /* HTTP sessions' closing DELETEs */
    struct config *cfg;
    struct db *db;
    struct jobq *q;
    char *db_path;
    char *root;
    const char *roots[2];
    struct server **servers;
    size_t nservers;
    struct sub *subs;
    size_t nsubs;
    struct run *runs;                    /* dispatched or parked, for cancel */
    int interrupted;                     /* SIGINT or SIGTERM caught (engine_catch_interrupts) */
    int running;
    int concurrency;
    int scheduling;
    int64_t calls, errors;
    uint64_t wake_timer;
    int64_t wake_at;
    /* the claim gate (engine_schedule): when the last claim found nothing,
     * what the database looked like then */
    int claim_idle;
    int64_t claim_changes;               /* sqlite3_total_changes64 of our connection */
    int64_t claim_version;               /* PRAGMA data_version: commits by others */
    int64_t claim_ms;
    int64_t claim_version_ms;            /* when data_version was last read */
    sqlite3_stmt *data_version;
    sqlite3_stmt *wake_stmt;             /* engine_arm_wake's query */
    int in_tx;                           /* a group transaction is open (see engine_tx_touch) */
    struct engine_prov *prov;            /* provenance being computed (engine_prov.c) */
    char *prov_last;                     /* the last scan's event text, shared for a while */
    int64_t prov_last_ms;                /* when that scan began (monotonic) */
    engine_elicit_cb elicit_cb;
    void *elicit_payload;
    struct engine_elicit *elicits;       /* pending elicitation requests */
    engine_request_claim_cb claim_cb;    /* serve relays server requests */
    void *claim_payload;
    struct engine_claimed *claimed;      /* taken by claim_cb, not answered yet */
    int sampling_relay;                  /* declare sampling without a model */
    int health_auto;                     /* periodic checks armed (engine_start) */
    int stopping;                        /* engine_free is under way */
    struct metrics *metrics;
    struct llm *llm;                     /* the model gateway (llm.h) */
    struct qdrant *qdrant;               /* memory.qdrant, or NULL */
    struct qdrant_asearch *qsearch;      /* the memory's searches through it */
    uint64_t outbox_timer;               /* drains the outbox into Qdrant */
    int draining;
    int64_t memory_gauges_ms;            /* engine_metrics refreshed the memory's gauges */
    /* engine_jobs_page: where the last id-ordered page began, so the next
     * one nearby reads from there instead of skipping OFFSET rows (any
     * job event forgets it: rows may have moved) */
    struct page_anchor {
        int valid;
        unsigned status_mask;
        char *text;
        int ascending;
        int offset;
        int64_t id;
        int64_t total;               /* rows the query selected then (-1: unknown) */
    } page_anchor;
    struct memory *memory;               /* the memory store (memory.h) */
    engine_approval_cb approval_cb;      /* asks the user about destructive tool calls */
    void *approval_payload;
    struct engine_approval *approvals;   /* pending */
    struct registry_catalog *catalog;
    struct router_cache *rcache;
    struct router_weights weights;
    struct run *route_wait;              /* routed jobs waiting for servers to start */
    int routing;                         /* engine_route_changed is routing them */
    struct success *success;             /* per (server, task type), engine_route.c */
    size_t nsuccess;
    struct config **extra;               /* definitions of servers added at run time */
    size_t nextra;
    uint64_t metrics_timer;
    char *metrics_file;                  /* rewritten every metrics interval, or NULL */
    int checks_inflight;
    int logging;                         /* holds a use of the process's log (engine.c) */
    struct direct_call *directs;         /* direct calls in flight (engine_call_ex) */
    uint64_t next_handle;
};

/* === shared between engine.c, engine_jobs.c and engine_servers.c === */

/* events (engine.c) */
void engine_emit(struct engine *e, const struct engine_event *ev);
void engine_emit_job(struct engine *e, enum engine_event_kind k, int64_t id,
                     enum job_status st, const char *text);
void engine_emit_server(struct engine *e, struct server *s);

/* the log and secrets (engine.c): lines about a job (its id, server and
 * request id) or a server; the text is redacted by log.c */
void engine_log_run(enum log_level lv, const struct run *r, const char *fmt, ...)
    PRINTF_LIKE(3, 4);
void engine_log_server(enum log_level lv, const struct server *s, const char *fmt, ...)
    PRINTF_LIKE(3, 4);
/* Register the secrets a config names (its secret_env) with the redactor. */
void engine_secrets_register(const struct config *c);

/* runs and the scheduler (engine_jobs.c) */
void engine_tx_touch(struct engine *e);
void engine_tx_flush(struct engine *e);
void engine_run_free(struct run *r);
void engine_run_unlink(struct run **list, struct run *r);
void engine_arm_wake(struct engine *e);
void engine_run_finish(struct run *r, const cJSON *result, const char *error, int retry);
void engine_run_dispatch(struct run *r);
/* Send a run (in e->runs) to server s: now if ready, else once it is. */
void engine_run_on(struct run *r, struct server *s);
int engine_idle_timeout(const struct server *s);
void engine_server_slot_free(struct server *s);
int engine_server_has_slot(void *payload, const char *name);
void engine_schedule(struct loop *l, void *payload);
/* Something may have made a job claimable: claim on the next turn. */
void engine_schedule_poke(struct engine *e);

/* servers (engine_servers.c) */
struct server *engine_server_find(struct engine *e, const char *name);
int engine_server_start(struct server *s, char **errmsg);
void engine_server_release_parked(struct server *s);
void engine_server_reset_client(struct server *s);
void engine_elicit_free(struct engine_elicit *q);
/* Forget the claimed requests of client (NULL: all). */
void engine_claimed_drop(struct engine *e, const struct mcp_client *client);

/* profiles and routing (engine_route.c) */
/* (Re)resolve a server's profile from the catalog, its tools and config. */
int engine_profile_resolve(struct server *s, char **errmsg);
/* Route a job that names no server: sets r->srv, or finishes the run. */
void engine_route_run(struct run *r, const struct job *j);
/* Something routing depends on changed: drop cached decisions, and try
 * the routed jobs that waited for servers to start. */
void engine_route_changed(struct engine *e);
/* A routed job ended: its server's success rate for the task type. */
void engine_route_outcome(struct engine *e, const char *server, const char *type, int ok);
void engine_route_fini(struct engine *e);

/* Ask the UI about a destructive tool task; the answer dispatches it or
 * finishes it refused (engine_agent.c). */
void engine_approval_ask_run(struct run *r, const char *refusal);
void engine_approval_drop_run(struct run *r);

/* model tasks and sampling (engine_agent.c) */
void engine_agent_start(struct run *r, const struct job *j);
void engine_agent_stop(struct run *r);
void engine_sampling(struct server *srv, struct mcp_client *c, const cJSON *params,
                     const cJSON *id);

/* tool policy (engine_policy.c): tools.allow/deny/destructive/approve */
int engine_glob_any(char *const *globs, size_t n, const char *name);
/* Offered to a model: in tools.allow (when given) and not in tools.deny. */
int engine_tool_offered(const struct config_llm *L, const char *full);
/* Its destructiveHint (and not readOnlyHint), or in tools.destructive. */
int engine_tool_destructive(const struct config_llm *L, const char *full,
                            const struct mcp_tool *t);
/* May a direct tool call (a tool task, `call`) of server.tool go? 0; -1
 * with *why (malloc'd) naming the setting (denied by tools.deny, not in
 * tools.allow); 1 with *why when it is destructive without a
 * tools.approve entry: refused unless the user approves it (a queued
 * task in the TUI, see engine_approval). */
int engine_policy_check(struct engine *e, const char *server, const char *tool, char **why);

/* job provenance (engine_prov.c): a "provenance" event for the job (the
 * repository root, HEAD, dirty), computed on a worker. */
void engine_provenance_record(struct engine *e, int64_t job_id);
/* Engine stopping: wait for a scan in flight and write its events now. */
void engine_provenance_flush(struct engine *e);

/* run-time registry changes (engine_admin.c) */
void engine_admin_load(struct engine *e);

/* health and breakers (engine_health.c) */
void engine_health_init(struct server *s);
void engine_health_fini(struct server *s);
/* The server became ready, or went down (error). */
void engine_health_ready(struct server *s);
void engine_health_down(struct server *s, const char *error);
/* A call's outcome: fault is a failure of the server (transport, timeout,
 * crash, internal error), not a tool's isError nor a caller's mistake. */
void engine_health_call(struct server *s, int fault, int64_t latency_ms);
/* Whether a failure text is the server's fault (see engine_health_call). */
int engine_error_is_fault(const char *error);
/* 0 when the breaker lets a call through now; else -1 and *why (when not
 * NULL) says so and when it will be retried. */
int engine_breaker_allow(struct server *s, char **why);
void engine_health_arm(struct server *s, int64_t delay_ms);
/* "HH:MM:SS", local time, of a monotonic instant (when a breaker retries). */
void engine_clock_text(int64_t mono_ms, char out[16]);
/* A tool call ended: calls, errors and latency per server and tool. */
void engine_metrics_call(struct server *s, const char *tool, int error, int64_t latency_ms);

#endif
