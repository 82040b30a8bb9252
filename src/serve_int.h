/* serve_int.h — what serve.c (sessions, the protocol, the aggregate
 * lists and downstream calls) and serve_tasks.c (the task tools) share.
 * Nothing else includes it. */
#ifndef MCPDECK_SERVE_INT_H
#define MCPDECK_SERVE_INT_H

#include "serve.h"

#include <cjson/cJSON.h>
#include <stdint.h>

struct config_serve;

/* What an outer request waits for. */
enum serve_wait {
    SERVE_WAIT_CALL,             /* a direct downstream call (engine_call_ex) */
    SERVE_WAIT_JOB,              /* a tool call run as a job: its JOB_DONE */
    SERVE_WAIT_TASK,             /* task_result with wait: the task's JOB_DONE */
    SERVE_WAIT_REQUEST,          /* resources/read, prompts/get, completion/complete */
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
};

struct serve_session {
    struct serve *s;
    serve_send_fn send;
    void *tpayload;
    int ready;                   /* initialize answered */
    char *protocol;
    int log_level;               /* index in the syslog levels; notifications below are dropped */
    size_t npending;
    struct serve_session *next;
};

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
