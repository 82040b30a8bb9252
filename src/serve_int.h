/* serve_int.h — what the files of the aggregate server share: serve.c
 * (sessions, the protocol, downstream calls), serve_lists.c (the
 * aggregate lists, their pages, who owns a name), serve_tasks.c (the
 * task tools), serve_relay.c (server requests relayed to outer clients)
 * and serve_subs.c (resource subscriptions). Nothing else includes it but
 * tests/unit/test_serve.c (the relay rules). */
#ifndef MCPDECK_SERVE_INT_H
#define MCPDECK_SERVE_INT_H

#include "serve.h"
#include "util.h"

#include <cjson/cJSON.h>
#include <stdint.h>

struct config_serve;
struct engine_server_info;
struct engine_server_request;
struct serve_relay;
struct serve_sub;

#define SERVE_SEP "__"

/* What an outer request waits for. */
enum serve_wait {
    SERVE_WAIT_CALL,             /* a direct downstream call (engine_call_ex) */
    SERVE_WAIT_JOB,              /* a tool call run as a job: its JOB_DONE */
    SERVE_WAIT_TASK,             /* task_result with wait: the task's JOB_DONE */
    SERVE_WAIT_REQUEST,          /* resources/read, prompts/get, completion/complete */
    SERVE_WAIT_SUBSCRIBE,        /* resources/subscribe or unsubscribe sent downstream */
};

/* One outer request in flight. Lives in s->pending until answered or
 * dropped; ss is NULL once its session is gone (the answer is dropped). */
struct serve_pending {
    struct serve *s;
    struct serve_session *ss;
    enum serve_wait wait;
    cJSON *id;                   /* the client's request id */
    char *id_text;               /* its JSON text (the send callback's related) */
    cJSON *progress_token;       /* _meta.progressToken, or NULL */
    uint64_t handle;             /* CALL: engine_call_cancel's */
    int64_t job;                 /* JOB, TASK */
    char *server;                /* CALL, JOB, SUBSCRIBE: the downstream server */
    char *uri;                   /* SUBSCRIBE: the resource */
    int subscribe;               /* SUBSCRIBE: 1 subscribe, 0 unsubscribe */
    uint64_t timer;              /* TASK: when the wait ends */
    int cancelled;               /* the client cancelled it: answer nothing */
    int answered;                /* CALL: the callback ran already */
    struct serve_pending *prev, *next;
};

struct serve {
    struct engine *e;
    const struct config_serve *cfg;
    struct serve_session *sessions;
    struct serve_pending *pending;
    int dirty;                   /* lists may have changed: compare in the hook */
    uint64_t sig_tools, sig_resources, sig_prompts;
    char *down_level;            /* the logging level last forwarded downstream */
    struct serve_relay *relays;  /* server requests waiting for an outer client's answer */
    int64_t next_relay;          /* the ids they carry to outer clients */
    struct serve_sub *subs;      /* resource subscriptions */
};

struct serve_session {
    struct serve *s;
    serve_send_fn send;
    void *tpayload;
    int ready;                   /* initialize answered */
    char *protocol;
    int log_level;               /* index in the syslog levels; notifications below are dropped */
    size_t npending;
    int can_sample;              /* declared sampling in initialize */
    int can_elicit;              /* declared elicitation (form mode) */
    struct buf out;              /* the text of the message being sent (serve_send_json) */
    struct serve_session *next;
};

static inline const char *serve_str(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* serve.c */
void serve_send_json(struct serve_session *ss, const cJSON *msg, const char *related);
void serve_respond(struct serve_session *ss, const cJSON *id, const char *related, cJSON *result);
void serve_respond_error(struct serve_session *ss, const cJSON *id, const char *related, int code,
                         const char *message);
/* A CallToolResult with one text content and isError set (new object). */
cJSON *serve_tool_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
struct serve_pending *serve_pending_new(struct serve_session *ss, enum serve_wait w,
                                        const cJSON *id, const cJSON *params);
void serve_pending_free(struct serve_pending *p);
/* Answer a pending request (result taken) unless it was cancelled or its
 * session is gone; frees p. */
void serve_pending_answer(struct serve_pending *p, cJSON *result);
/* Whether name passes the globs (a leading '!' excludes; the last match
 * wins; no globs: everything). */
int serve_glob_pass(char *const *globs, size_t n, const char *name);

void serve_notify(struct serve_session *ss, const char *method, cJSON *params,
                  const char *related);

/* serve_lists.c */
struct serve_exposed {           /* the servers serve.expose lets through, not disabled */
    struct engine_server_info *info;
    size_t n;
};
void serve_exposed_get(struct serve *s, struct serve_exposed *x);   /* free x->info */
int serve_breaker_open(const struct engine_server_info *si);
/* The exposed server that owns a namespaced name (the longest server
 * name that is a prefix followed by "__"); *rest points past the
 * separator. NULL when none. */
const struct engine_server_info *serve_owner_of(const struct serve_exposed *x,
                                                const char *full, const char **rest);
/* Every exposed tool (into out when not NULL); returns the signature. */
uint64_t serve_tools_collect(struct serve *s, cJSON *out);
/* Resources, templates or prompts ("resources", "templates", "prompts")
 * of every exposed server into out (when not NULL); the signature. */
uint64_t serve_list_collect(struct serve *s, const char *which, cJSON *out);
/* The ready exposed server a resource URI belongs to: one that lists it,
 * else the template whose text before '{' is the longest prefix of uri
 * (template_only: a template written exactly so). malloc'd, or NULL. */
char *serve_resource_owner(struct serve *s, const char *uri, int template_only);
/* A namespaced prompt's ready server (malloc'd) and its name there. */
char *serve_prompt_owner(struct serve *s, const char *full, const char **name);
/* Answer tools/list, resources/list, resources/templates/list or
 * prompts/list (which: "tools", "resources", "templates", "prompts") with
 * the page params' cursor names. */
void serve_lists_answer(struct serve_session *ss, const cJSON *id, const char *idt,
                        const cJSON *params, const char *which);

/* serve_relay.c: sampling/createMessage and elicitation/create from
 * downstream servers, relayed to the outer session whose call caused them */
/* The engine's claim hook (engine_set_request_claim; payload the serve). */
int serve_relay_claim(void *payload, const struct engine_server_request *q);
/* An outer client's response (id, and result or error) to a relayed
 * request; 1 if it was one. */
int serve_relay_response(struct serve_session *ss, const cJSON *msg);
/* A server cancelled one of its requests (its notifications/cancelled). */
void serve_relay_server_cancelled(struct serve *s, const char *server, const cJSON *params);
/* p ends: the relays that belong to it end too (answered with an error
 * downstream, cancelled towards the outer client). */
void serve_relay_pending_gone(struct serve_pending *p);
/* ss ends (NULL: every session, the serve is going): its relays are
 * answered with an error downstream. */
void serve_relay_session_gone(struct serve *s, struct serve_session *ss);

/* serve_subs.c: resources/subscribe and unsubscribe passed through */
/* Whether some exposed ready server supports subscriptions. */
int serve_subs_available(struct serve *s);
void serve_subs_request(struct serve_session *ss, const cJSON *id, const char *idt,
                        const cJSON *params, int subscribe);
/* notifications/resources/updated from server: to the sessions subscribed. */
void serve_subs_updated(struct serve *s, const char *server, const cJSON *params);
/* server changed state: resubscribe after a restart. */
void serve_subs_server_state(struct serve *s, const char *server);
/* ss ends (NULL: all): its subscriptions go, unsubscribed downstream
 * when nobody else holds them. */
void serve_subs_session_gone(struct serve *s, struct serve_session *ss);

/* serve_tasks.c: submit_task, task_status, task_result, cancel_task */
/* Append the task tools' definitions to the tools array. */
void serve_tasks_list(struct serve *s, cJSON *tools);
/* 1 if name is a task tool (the call is handled: answered now or pending),
 * else 0. */
int serve_tasks_call(struct serve_session *ss, const char *name, const cJSON *args,
                     const cJSON *id, const cJSON *params);
/* A job finished: answer task_result waits for it. */
void serve_tasks_job_done(struct serve *s, int64_t job);

#endif
