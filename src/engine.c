/* engine.c — owns the subsystems and runs tasks (see engine.h).
 *
 * A task's way: engine_submit() inserts the job (on disk before anything
 * runs it) → the scheduler, a before-sleep hook, claims ready jobs while
 * fewer than queue.concurrency run → the job's server is started if needed
 * (the job waits, "parked", until it is ready) → mcp_client_call_tool() →
 * the answer completes or fails the job; transport failures and timeouts
 * are retried with backoff up to the job's max attempts. */
#include "engine.h"
#include "builtin.h"
#include "config.h"
#include "db.h"
#include "jobq.h"
#include "jsonrpc.h"
#include "jsonschema.h"
#include "loop.h"
#include "mcp_client.h"
#include "mcp_transport.h"
#include "pathjail.h"
#include "proc.h"
#include "util.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>

struct run;

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
    struct buf logcopy;                  /* engine_server_log's answer */
    uint64_t restart_timer;              /* a crashed server comes back after backoff */
    int crashes;                         /* consecutive, for the backoff */
    int64_t ready_since;
};

struct run {                             /* a job being worked on */
    struct engine *e;
    int64_t job_id;
    struct server *srv;
    char *tool;
    cJSON *args;
    int timeout_ms;
    int64_t reqid;
    int cancelled;
    double progress, total;              /* last progress notification */
    int has_progress;
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

struct sub {
    engine_event_cb cb;
    void *payload;
};

struct direct_call {
    struct server *srv;
    engine_call_cb cb;
    void *payload;
};

struct engine {
    struct loop *loop;
    struct config *cfg;
    struct db *db;
    struct jobq *q;
    char *db_path;
    char *root;
    const char *roots[2];
    struct server *servers;
    size_t nservers;
    struct sub *subs;
    size_t nsubs;
    struct run *runs;                    /* dispatched or parked, for cancel */
    int running;
    int concurrency;
    int scheduling;
    int64_t calls, errors;
    uint64_t wake_timer;
    int64_t wake_at;
    int in_tx;                           /* a group transaction is open (see tx_touch) */
    engine_elicit_cb elicit_cb;
    void *elicit_payload;
    struct engine_elicit *elicits;       /* pending elicitation requests */
};

/* === events === */

static void emit(struct engine *e, const struct engine_event *ev)
{
    /* Subscribers may unsubscribe from their callback: iterate a copy. */
    size_t n = e->nsubs;
    if (n == 0)
        return;
    struct sub *copy = xmalloc(n * sizeof *copy);
    memcpy(copy, e->subs, n * sizeof *copy);
    for (size_t i = 0; i < n; i++)
        copy[i].cb(copy[i].payload, ev);
    free(copy);
}

static void emit_job(struct engine *e, enum engine_event_kind k, int64_t id,
                     enum job_status st, const char *text)
{
    struct engine_event ev = {k, id, st, NULL, text, 0, 0, NULL};
    emit(e, &ev);
}

static void emit_server(struct engine *e, struct server *s)
{
    struct engine_event ev = {ENGINE_EV_SERVER_STATE, 0, 0, s->name, s->last_error, 0, 0, NULL};
    emit(e, &ev);
}

void engine_subscribe(struct engine *e, engine_event_cb cb, void *payload)
{
    e->subs = xrealloc(e->subs, (e->nsubs + 1) * sizeof *e->subs);
    e->subs[e->nsubs].cb = cb;
    e->subs[e->nsubs].payload = payload;
    e->nsubs++;
}

void engine_unsubscribe(struct engine *e, engine_event_cb cb, void *payload)
{
    for (size_t i = 0; i < e->nsubs; i++)
        if (e->subs[i].cb == cb && e->subs[i].payload == payload) {
            memmove(&e->subs[i], &e->subs[i + 1], (e->nsubs - i - 1) * sizeof *e->subs);
            e->nsubs--;
            return;
        }
}

/* === group commit ===
 * Claims, completions and failures of one loop turn share one SQLite
 * transaction, committed before the loop sleeps (or before anything is
 * submitted). A crash can only undo the claims and completions of the
 * current turn: those jobs run again (at least once, as after any crash).
 * Submissions are never grouped: a task is on disk when engine_submit
 * returns. */

static void tx_touch(struct engine *e)
{
    if (!e->in_tx && db_begin(e->db) == 0)
        e->in_tx = 1;
}

static void tx_flush(struct engine *e)
{
    if (e->in_tx) {
        db_commit(e->db);
        e->in_tx = 0;
    }
}

/* === runs === */

static void run_free(struct run *r)
{
    free(r->tool);
    cJSON_Delete(r->args);
    free(r);
}

static void run_unlink(struct run **list, struct run *r)
{
    for (struct run **pp = list; *pp; pp = &(*pp)->next)
        if (*pp == r) {
            *pp = r->next;
            return;
        }
}

static void wake_cb(struct loop *l, uint64_t id, void *payload)
{
    struct engine *e = payload;
    e->wake_timer = 0;
    e->wake_at = 0;
}

/* Make sure the loop wakes when the earliest delayed (retrying) job is due. */
static void arm_wake(struct engine *e)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db_handle(e->db),
                           "SELECT MIN(run_at_ms) FROM jobs WHERE status='queued'", -1, &st,
                           NULL) != SQLITE_OK)
        return;
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL) {
        int64_t at = sqlite3_column_int64(st, 0);
        int64_t delay = at - util_wall_ms();
        if (delay > 0 && (!e->wake_timer || at < e->wake_at)) {
            if (e->wake_timer)
                loop_timer_del(e->loop, e->wake_timer);
            e->wake_at = at;
            e->wake_timer = loop_timer_add(e->loop, delay + 1, wake_cb, e);
        }
    }
    sqlite3_finalize(st);
}

static void server_slot_free(struct server *s);

/* The attempt is over: record it and tell subscribers. result is the
 * tool's CallToolResult (stored whole) or NULL with error set. */
static void run_finish(struct run *r, const cJSON *result, const char *error, int retry)
{
    struct engine *e = r->e;
    run_unlink(&e->runs, r);
    e->running--;
    if (r->dispatched && r->srv) {
        r->srv->busy--;
        r->dispatched = 0;
        server_slot_free(r->srv);
    }
    if (r->cancelled) {
        run_free(r);
        return;
    }
    struct engine_event ev = {ENGINE_EV_JOB_DONE, r->job_id, JOB_FAILED, NULL, error, 0, 0,
                              result};
    if (error) {
        int requeued = 0;
        tx_touch(e);
        jobq_fail(e->q, r->job_id, error, retry, NULL, 0, NULL, &requeued);
        if (requeued) {
            ev.kind = ENGINE_EV_JOB_RETRY;
            ev.status = JOB_QUEUED;
            arm_wake(e);
        }
        emit(e, &ev);
        run_free(r);
        return;
    }
    char *body = cJSON_PrintUnformatted(result);
    size_t len = body ? strlen(body) : 0;
    if (mcp_result_is_error(result)) {
        char *text = mcp_result_text(result);
        const char *msg = *text ? text : "the tool reported an error";
        tx_touch(e);
        jobq_fail(e->q, r->job_id, msg, 0, body, len, MCP_RESULT_MIME, NULL);
        ev.text = msg;
        emit(e, &ev);
        free(text);
    } else {
        tx_touch(e);
        jobq_complete(e->q, r->job_id, body, len, MCP_RESULT_MIME, 0);
        ev.status = JOB_SUCCEEDED;
        emit(e, &ev);
    }
    cJSON_free(body);
    run_free(r);
}

static void run_answer(void *payload, const cJSON *result, const char *error)
{
    struct run *r = payload;
    struct engine *e = r->e;
    r->srv->calls++;
    e->calls++;
    if (error || mcp_result_is_error(result)) {
        r->srv->errors++;
        e->errors++;
    }
    if (error) {
        /* A JSON-RPC error from the server is its final word; transport
         * failures and timeouts are worth another attempt. */
        int retry = strstr(error, "answered error") == NULL;
        run_finish(r, NULL, error, retry);
        return;
    }
    /* A tool that declares an outputSchema must answer with structured
     * content that matches it (unless the result is an error). */
    const struct mcp_tool *t = r->srv->client ? mcp_client_find_tool(r->srv->client, r->tool)
                                              : NULL;
    if (t && t->output_schema && !mcp_result_is_error(result)) {
        const cJSON *sc = cJSON_GetObjectItemCaseSensitive(result, "structuredContent");
        char *why = NULL;
        if (!sc)
            why = xstrdup("the result has no structuredContent");
        else if (jsonschema_validate(t->output_schema, sc, "structuredContent", &why) == 0)
            why = NULL;
        if (why) {
            char *m = xasprintf("%s.%s answered output that does not match its outputSchema: %s",
                                r->srv->name, r->tool, why);
            free(why);
            run_finish(r, NULL, m, 0);
            free(m);
            return;
        }
    }
    run_finish(r, result, NULL, 0);
}

static void run_progress(void *payload, double progress, double total, const char *message)
{
    struct run *r = payload;
    r->progress = progress;
    r->total = total;
    r->has_progress = 1;
    cJSON *d = cJSON_CreateObject();
    cJSON_AddNumberToObject(d, "progress", progress);
    if (total >= 0)
        cJSON_AddNumberToObject(d, "total", total);
    if (message)
        cJSON_AddStringToObject(d, "message", message);
    char *txt = cJSON_PrintUnformatted(d);
    tx_touch(r->e);
    jobq_event_add(r->e->q, r->job_id, "progress", txt);
    cJSON_free(txt);
    cJSON_Delete(d);
    struct engine_event ev = {ENGINE_EV_JOB_PROGRESS, r->job_id, JOB_RUNNING, NULL, message,
                              progress, total, NULL};
    emit(r->e, &ev);
}

static int idle_timeout(const struct server *s)
{
    return s->cfg && s->cfg->timeout_ms > 0 ? s->cfg->timeout_ms : 60000;
}

static void run_dispatch(struct run *r);

/* A slot on a server with a concurrency limit is free: start a waiter. */
static void server_slot_free(struct server *s)
{
    if (!s->waiting || (s->cfg && s->cfg->concurrency > 0 && s->busy >= s->cfg->concurrency))
        return;
    struct run *r = s->waiting;
    s->waiting = r->next;
    r->next = s->e->runs;
    s->e->runs = r;
    run_dispatch(r);
}

static void run_dispatch(struct run *r)
{
    struct server *s = r->srv;
    char *err = NULL;
    if (s->cfg && s->cfg->concurrency > 0 && s->busy >= s->cfg->concurrency) {
        run_unlink(&s->e->runs, r);      /* wait for a slot, in claim order */
        struct run **pp = &s->waiting;
        while (*pp)
            pp = &(*pp)->next;
        r->next = NULL;
        *pp = r;
        return;
    }
    s->busy++;
    r->dispatched = 1;
    /* The server's timeout is an idle timeout that progress resets; the
     * job's timeout is the hard maximum of the attempt. */
    struct mcp_call_opts o = {idle_timeout(s), r->timeout_ms, run_progress};
    if (o.timeout_ms > o.max_ms)
        o.timeout_ms = o.max_ms;
    int64_t id = mcp_client_call_tool(s->client, r->tool, r->args, &o, run_answer, r, &err);
    if (id < 0) {
        run_finish(r, NULL, err, 1);
        free(err);
        return;
    }
    r->reqid = id;
}

/* === servers === */

static void server_set(struct server *s, enum server_state st, const char *error)
{
    if (error) {
        free(s->last_error);
        s->last_error = xstrdup(error);
    }
    s->state = st;
    emit_server(s->e, s);
}

static void server_release_parked(struct server *s)
{
    while (s->parked) {
        struct run *r = s->parked;
        s->parked = r->next;
        r->next = s->e->runs;
        s->e->runs = r;
        if (s->state == SERVER_READY) {
            run_dispatch(r);
        } else {
            char *m = xasprintf("server %s is not available: %s", s->name,
                                s->last_error ? s->last_error : server_state_name(s->state));
            run_finish(r, NULL, m, 1);
            free(m);
        }
    }
}

static int server_start(struct server *s, char **errmsg);

static void restart_cb(struct loop *l, uint64_t id, void *payload)
{
    struct server *s = payload;
    s->restart_timer = 0;
    char *err = NULL;
    if (s->state == SERVER_FAILED && server_start(s, &err) < 0)
        free(err);
}

static void client_state(void *payload, struct mcp_client *c, enum mcp_client_state st,
                         const char *error)
{
    struct server *s = payload;
    if (st == MCP_CLIENT_READY) {
        s->ready_since = util_now_ms();
        server_set(s, SERVER_READY, NULL);
        server_release_parked(s);
    } else if (st == MCP_CLIENT_CLOSED) {
        int was_ready = s->state == SERVER_READY;
        server_set(s, SERVER_FAILED, error);
        /* A server that dies after working is restarted with exponential
         * backoff (1 s, 2 s, ... 60 s); a minute of good health resets it.
         * One that never came up waits for the next job to try again. */
        if (was_ready && !s->builtin && !s->restart_timer) {
            if (util_now_ms() - s->ready_since > 60000)
                s->crashes = 0;
            int64_t delay = 1000LL << (s->crashes < 6 ? s->crashes : 6);
            if (delay > 60000)
                delay = 60000;
            s->crashes++;
            s->restart_timer = loop_timer_add(s->e->loop, delay, restart_cb, s);
        }
        if (!s->restart_timer)
            server_release_parked(s);
    }
}

static void elicit_free(struct engine_elicit *q)
{
    cJSON_Delete(q->id);
    cJSON_Delete(q->schema);
    free(q);
}

static void client_request(void *payload, struct mcp_client *c, const char *method,
                           const cJSON *params, const cJSON *id)
{
    struct server *s = payload;
    struct engine *e = s->e;
    if (strcmp(method, "elicitation/create") != 0) {
        mcp_client_reply_error(c, id, JSONRPC_INVALID_REQUEST,
                               "mcpdeck cannot sample: no model is configured");
        return;
    }
    const cJSON *mode = cJSON_GetObjectItemCaseSensitive(params, "mode");
    if (cJSON_IsString(mode) && strcmp(mode->valuestring, "form") != 0) {
        mcp_client_reply_error(c, id, JSONRPC_INVALID_PARAMS,
                               "mcpdeck supports form elicitation only");
        return;
    }
    struct engine_elicit *q = xcalloc(1, sizeof *q);
    q->e = e;
    q->srv = s;
    q->client = c;
    q->id = cJSON_Duplicate(id, 1);
    const cJSON *schema = cJSON_GetObjectItemCaseSensitive(params, "requestedSchema");
    q->schema = schema ? cJSON_Duplicate(schema, 1) : cJSON_CreateObject();
    q->next = e->elicits;
    e->elicits = q;
    size_t n = 0;
    for (struct run *r = e->runs; r; r = r->next)
        n += r->srv == s;
    int64_t *jobs = xcalloc(n ? n : 1, sizeof *jobs);
    n = 0;
    for (struct run *r = e->runs; r; r = r->next)
        if (r->srv == s)
            jobs[n++] = r->job_id;
    const cJSON *msg = cJSON_GetObjectItemCaseSensitive(params, "message");
    if (e->elicit_cb)
        e->elicit_cb(e->elicit_payload, q, s->name, jobs, n,
                     cJSON_IsString(msg) ? msg->valuestring : "", q->schema);
    else
        engine_elicit_answer(e, q, "decline", NULL);
    free(jobs);
}

void engine_set_elicit_handler(struct engine *e, engine_elicit_cb cb, void *payload)
{
    e->elicit_cb = cb;
    e->elicit_payload = payload;
}

void engine_elicit_answer(struct engine *e, struct engine_elicit *req, const char *action,
                          cJSON *content)
{
    int found = 0;
    for (struct engine_elicit **pp = &e->elicits; *pp; pp = &(*pp)->next)
        if (*pp == req) {
            *pp = req->next;
            found = 1;
            break;
        }
    if (!found) {
        cJSON_Delete(content);
        return;
    }
    if (req->srv->client == req->client && req->srv->state == SERVER_READY) {
        cJSON *r = cJSON_CreateObject();
        cJSON_AddStringToObject(r, "action", action);
        if (strcmp(action, "accept") == 0) {
            if (!content)
                content = cJSON_CreateObject();
            jsonschema_apply_defaults(req->schema, content);
            cJSON_AddItemToObject(r, "content", content);
            content = NULL;
        }
        mcp_client_reply(req->client, req->id, r);
    }
    cJSON_Delete(content);
    elicit_free(req);
}

static void client_notify(void *payload, struct mcp_client *c, const char *method,
                          const cJSON *params)
{
    struct server *s = payload;
    struct engine_event ev = {ENGINE_EV_SERVER_STATE, 0, 0, s->name, method, 0, 0, NULL};
    emit(s->e, &ev);
}

static void client_tools(void *payload, struct mcp_client *c)
{
    struct server *s = payload;
    emit_server(s->e, s);
}

static const struct mcp_client_events client_events = {client_state, client_tools,
                                                        client_request, client_notify};

static void server_reset_client(struct server *s)
{
    if (!s->client)
        return;
    /* elicitation requests of the old session can no longer be answered */
    for (struct engine_elicit **pp = &s->e->elicits; *pp;) {
        struct engine_elicit *q = *pp;
        if (q->client == s->client) {
            *pp = q->next;
            elicit_free(q);
        } else {
            pp = &q->next;
        }
    }
    mcp_client_free(s->client);
    s->client = NULL;
}

/* Start (or restart) a server's session; the outcome comes via events. */
static int server_start(struct server *s, char **errmsg)
{
    struct engine *e = s->e;
    if (s->state == SERVER_STARTING || s->state == SERVER_READY)
        return 0;
    if (s->state == SERVER_DISABLED) {
        *errmsg = xasprintf("server %s is disabled in the config", s->name);
        return -1;
    }
    if (s->started)
        s->restarts++;
    s->started = 1;
    server_reset_client(s);
    struct mcp_transport *t;
    int timeout = 30000;   /* built-ins answer at once; this only bounds a bug */
    if (s->builtin) {
        t = mcp_inproc_new(e->loop, s->builtin, e->root);
    } else if (s->cfg->kind == CONFIG_SERVER_STDIO) {
        t = mcp_stdio_new(e->loop, s->cfg);
        timeout = s->cfg->startup_timeout_ms;
    } else {
        t = mcp_http_new(e->loop, s->cfg);
        timeout = s->cfg->startup_timeout_ms;
    }
    struct mcp_client_caps caps = {1, 0};   /* elicitation yes; sampling needs a model */
    s->client = mcp_client_new(e->loop, s->name, t, e->roots, &caps, &client_events, s);
    if (s->cfg && s->cfg->log_level)
        mcp_client_set_log_level(s->client, s->cfg->log_level);
    server_set(s, SERVER_STARTING, NULL);
    if (mcp_client_connect(s->client, timeout, errmsg) < 0) {
        server_set(s, SERVER_FAILED, *errmsg);
        return -1;
    }
    return 0;
}

static struct server *server_find(struct engine *e, const char *name)
{
    for (size_t i = 0; i < e->nservers; i++)
        if (strcmp(e->servers[i].name, name) == 0)
            return &e->servers[i];
    return NULL;
}

int engine_start_server(struct engine *e, const char *name, char **errmsg)
{
    struct server *s = server_find(e, name);
    if (!s) {
        *errmsg = xasprintf("unknown server '%s'", name);
        return -1;
    }
    return server_start(s, errmsg);
}

/* === scheduler === */

static void start_job(struct engine *e, struct job *j)
{
    struct run *r = xcalloc(1, sizeof *r);
    r->e = e;
    r->job_id = j->id;
    r->tool = xstrdup(j->tool);
    r->args = cJSON_Parse(j->args_json ? j->args_json : "{}");
    r->timeout_ms = j->timeout_ms;
    e->running++;
    r->next = e->runs;
    e->runs = r;
    emit_job(e, ENGINE_EV_JOB_STARTED, j->id, JOB_RUNNING, NULL);

    struct server *s = server_find(e, j->server);
    if (!s) {
        char *m = xasprintf("unknown server '%s'", j->server);
        run_finish(r, NULL, m, 0);
        free(m);
        return;
    }
    r->srv = s;
    if (s->state == SERVER_READY) {
        run_dispatch(r);
        return;
    }
    run_unlink(&e->runs, r);
    r->next = s->parked;
    s->parked = r;
    if (s->state != SERVER_STARTING && !s->restart_timer) {
        char *err = NULL;
        if (server_start(s, &err) < 0) {
            /* server_set already released nothing: do it now */
            server_release_parked(s);
            free(err);
        }
    }
}

/* The claim filter: a server with its own limit takes no more jobs than
 * it has slots (jobs waiting for it to start count too). */
static int server_has_slot(void *payload, const char *name)
{
    struct engine *e = payload;
    struct server *s = server_find(e, name);
    if (!s || !s->cfg || s->cfg->concurrency <= 0)
        return 1;
    int n = s->busy;
    for (struct run *r = s->parked; r; r = r->next)
        n++;
    for (struct run *r = s->waiting; r; r = r->next)
        n++;
    return n < s->cfg->concurrency;
}

/* Before the loop sleeps: claim what may run, then commit the turn. */
static void schedule(struct loop *l, void *payload)
{
    struct engine *e = payload;
    while (e->scheduling && e->running < e->concurrency) {
        struct job j;
        memset(&j, 0, sizeof j);
        tx_touch(e);
        int rc = jobq_claim(e->q, &j);
        if (rc <= 0) {
            if (rc == 0 && !e->wake_timer)
                arm_wake(e);
            break;
        }
        start_job(e, &j);
        job_fini(&j);
    }
    tx_flush(e);
}

void engine_set_scheduling(struct engine *e, int on)
{
    e->scheduling = on;
}

/* === lifecycle === */

static void on_sigchld(struct loop *l, int signo, void *payload)
{
    proc_reap_all();
}

static void add_server(struct engine *e, const char *name, const char *kind,
                       const struct config_server *cfg, const struct builtin_server *b)
{
    e->servers = xrealloc(e->servers, (e->nservers + 1) * sizeof *e->servers);
    struct server *s = &e->servers[e->nservers++];
    memset(s, 0, sizeof *s);
    s->e = e;
    s->name = xstrdup(name);
    s->kind = kind;
    s->cfg = cfg;
    s->builtin = b;
    s->state = cfg && !cfg->enabled ? SERVER_DISABLED : SERVER_STOPPED;
}

static char *default_data_dir(void)
{
    const char *x = getenv("XDG_DATA_HOME");
    if (x && *x)
        return xasprintf("%s/mcpdeck", x);
    const char *h = getenv("HOME");
    return xasprintf("%s/.local/share/mcpdeck", h ? h : ".");
}

int engine_new(const struct engine_opts *opts, struct engine **out, char **errmsg)
{
    struct engine *e = xcalloc(1, sizeof *e);
    e->loop = loop_new();
    if (!e->loop) {
        *errmsg = xasprintf("cannot create the event loop");
        free(e);
        return -1;
    }
    if (config_load(opts ? opts->config_path : NULL, &e->cfg, errmsg) < 0)
        goto fail;
    char *dir = opts && opts->data_dir ? xstrdup(opts->data_dir)
                : e->cfg->data_dir ? xstrdup(e->cfg->data_dir) : default_data_dir();
    e->db_path = xasprintf("%s/mcpdeck.db", dir);
    free(dir);
    if (db_open(e->db_path, &e->db, errmsg) < 0)
        goto fail;
    if (jobq_open(e->db, e->cfg->queue_timeout_ms, e->cfg->queue_retries, &e->q) < 0) {
        *errmsg = xasprintf("cannot prepare the job queue in %s", e->db_path);
        goto fail;
    }
    int requeued = 0;
    jobq_recover(e->q, &requeued);
    e->concurrency = opts && opts->concurrency > 0 ? opts->concurrency
                                                   : e->cfg->queue_concurrency;
    e->root = pathjail_workspace_root(NULL);
    e->roots[0] = e->root;
    e->roots[1] = NULL;
    add_server(e, builtin_fs.name, "builtin", NULL, &builtin_fs);
    for (size_t i = 0; i < e->cfg->nservers; i++) {
        const struct config_server *c = &e->cfg->servers[i];
        add_server(e, c->name, c->kind == CONFIG_SERVER_HTTP ? "http" : "stdio", c, NULL);
    }
    loop_signal(e->loop, SIGCHLD, on_sigchld, e);
    jobq_set_claim_filter(e->q, server_has_slot, e);
    loop_hook_add(e->loop, schedule, e);
    *out = e;
    return 0;
fail:
    engine_free(e);
    return -1;
}

int engine_add_server(struct engine *e, const struct config_server *cfg, char **errmsg)
{
    if (server_find(e, cfg->name)) {
        *errmsg = xasprintf("a server named '%s' already exists", cfg->name);
        return -1;
    }
    add_server(e, cfg->name, cfg->kind == CONFIG_SERVER_HTTP ? "http" : "stdio", cfg, NULL);
    return 0;
}

const char *engine_server_log(struct engine *e, const char *server)
{
    struct server *s = server_find(e, server);
    if (!s)
        return NULL;
    if (!s->client)
        return "";
    struct mcp_transport *t = mcp_client_transport(s->client);
    buf_consume(&s->logcopy, s->logcopy.len);
    buf_puts(&s->logcopy, t->ops->log(t));
    buf_puts(&s->logcopy, mcp_client_log(s->client));
    return s->logcopy.data;
}

void engine_start(struct engine *e)
{
    for (size_t i = 0; i < e->nservers; i++) {
        char *err = NULL;
        if (e->servers[i].state != SERVER_DISABLED)
            server_start(&e->servers[i], &err);
        free(err);
    }
    e->scheduling = 1;
}

int engine_wait_servers(struct engine *e, int timeout_ms)
{
    int64_t end = util_now_ms() + timeout_ms;
    for (;;) {
        int starting = 0;
        for (size_t i = 0; i < e->nservers; i++)
            if (e->servers[i].state == SERVER_STARTING)
                starting++;
        int64_t left = end - util_now_ms();
        if (!starting || left <= 0)
            return starting;
        loop_run_once(e->loop, left);
    }
}

void engine_free(struct engine *e)
{
    if (!e)
        return;
    /* Jobs still running go back to the queue: they were not finished. */
    for (struct run *r = e->runs; r; r = r->next)
        r->cancelled = 1;
    /* Stop every child at once (stdin closed, grace, TERM, KILL). */
    struct proc **procs = xcalloc(e->nservers + 1, sizeof *procs);
    int n = 0;
    for (size_t i = 0; i < e->nservers; i++) {
        struct server *s = &e->servers[i];
        struct proc *p = s->client ? mcp_stdio_proc(mcp_client_transport(s->client)) : NULL;
        if (p && p->pid > 0)
            procs[n++] = p;
    }
    if (n)
        proc_stop_all(procs, n, 2000);
    free(procs);
    while (e->elicits) {
        struct engine_elicit *q = e->elicits;
        e->elicits = q->next;
        elicit_free(q);
    }
    for (size_t i = 0; i < e->nservers; i++)   /* before any client goes: no new dispatch */
        while (e->servers[i].waiting) {
            struct run *r = e->servers[i].waiting;
            e->servers[i].waiting = r->next;
            run_free(r);
        }
    for (size_t i = 0; i < e->nservers; i++) {
        struct server *s = &e->servers[i];
        if (s->restart_timer)
            loop_timer_del(e->loop, s->restart_timer);
        mcp_client_free(s->client);   /* fails calls in flight: runs are cancelled */
        s->client = NULL;
        while (s->parked) {
            struct run *r = s->parked;
            s->parked = r->next;
            run_free(r);
        }

        free(s->name);
        free(s->last_error);
        buf_fini(&s->logcopy);
    }
    while (e->runs) {
        struct run *r = e->runs;
        e->runs = r->next;
        run_free(r);
    }
    tx_flush(e);
    if (e->q && e->db) {
        int requeued;
        jobq_release(e->q, &requeued);   /* our running jobs → queued: nothing is lost */
    }
    free(e->servers);
    free(e->subs);
    jobq_close(e->q);
    db_close(e->db);
    config_free(e->cfg);
    loop_free(e->loop);
    free(e->db_path);
    free(e->root);
    free(e);
}

/* === commands === */

int engine_submit(struct engine *e, const struct jobq_spec *spec, int64_t *id, char **errmsg)
{
    struct server *s = server_find(e, spec->server ? spec->server : "");
    if (!s) {
        *errmsg = xasprintf("unknown server '%s'", spec->server ? spec->server : "");
        return -1;
    }
    if (s->state == SERVER_READY && !mcp_client_find_tool(s->client, spec->tool)) {
        *errmsg = xasprintf("server %s has no tool '%s'", s->name, spec->tool);
        return -1;
    }
    tx_flush(e);
    if (jobq_submit(e->q, spec, id, errmsg) < 0)
        return -1;
    emit_job(e, ENGINE_EV_JOB_QUEUED, *id, JOB_QUEUED, NULL);
    return 0;
}

int engine_submit_text(struct engine *e, const char *target, const char *args_json,
                       int64_t *id, char **errmsg)
{
    const char *dot = target ? strchr(target, '.') : NULL;
    if (!dot || dot == target || !dot[1]) {
        *errmsg = xasprintf("expected server.tool, got '%s'", target ? target : "");
        return -1;
    }
    const char *args = args_json && *args_json ? args_json : "{}";
    cJSON *parsed = cJSON_ParseWithOpts(args, NULL, 1);   /* no trailing garbage */
    if (!cJSON_IsObject(parsed)) {
        cJSON_Delete(parsed);
        *errmsg = xasprintf("arguments must be a JSON object, got: %s", args);
        return -1;
    }
    cJSON_Delete(parsed);
    char *server = xstrndup(target, (size_t)(dot - target));
    struct jobq_spec spec = {0};
    spec.server = server;
    spec.tool = dot + 1;
    spec.args_json = args;
    int rc = engine_submit(e, &spec, id, errmsg);
    free(server);
    return rc;
}

int engine_cancel(struct engine *e, int64_t id, char **errmsg)
{
    tx_flush(e);
    if (jobq_cancel(e->q, id) < 0) {
        *errmsg = xasprintf("job %lld is not queued or running", (long long)id);
        return -1;
    }
    for (size_t i = 0; i < e->nservers; i++) {
        struct run **lists[2] = {&e->servers[i].parked, &e->servers[i].waiting};
        for (int k = 0; k < 2; k++)
            for (struct run *r = *lists[k]; r; r = r->next)
                if (r->job_id == id) {
                    run_unlink(lists[k], r);
                    e->running--;
                    run_free(r);
                    goto done;
                }
    }
    for (struct run *r = e->runs; r; r = r->next)
        if (r->job_id == id) {
            r->cancelled = 1;
            if (r->reqid > 0 && r->srv && r->srv->client)
                mcp_client_cancel(r->srv->client, r->reqid, "cancelled by the user");
            break;
        }
done:
    emit_job(e, ENGINE_EV_JOB_DONE, id, JOB_CANCELLED, "cancelled");
    return 0;
}

int engine_find_job(struct engine *e, const char *batch, const char *key, int64_t *id)
{
    return jobq_find_key(e->q, batch, key, id);
}

int engine_check_args(struct engine *e, const char *server, const char *tool,
                      const cJSON *args, char **errmsg)
{
    struct server *s = server_find(e, server);
    const struct mcp_tool *t = s && s->client ? mcp_client_find_tool(s->client, tool) : NULL;
    if (!t) {
        *errmsg = xasprintf("server %s has no tool '%s'", server, tool);
        return -1;
    }
    if (!t->input_schema)
        return 0;
    char *why = NULL;
    if (jsonschema_validate(t->input_schema, args, "args", &why) == 0)
        return 0;
    *errmsg = xasprintf("arguments for %s.%s do not match its input schema: %s", server, tool,
                        why);
    free(why);
    return -1;
}

static void direct_answer(void *payload, const cJSON *result, const char *error)
{
    struct direct_call *d = payload;
    d->srv->calls++;
    d->srv->e->calls++;
    if (error || mcp_result_is_error(result)) {
        d->srv->errors++;
        d->srv->e->errors++;
    }
    d->cb(d->payload, result, error);
    free(d);
}

int engine_call(struct engine *e, const char *server, const char *tool, const cJSON *args,
                engine_call_cb cb, void *payload, char **errmsg)
{
    struct server *s = server_find(e, server);
    if (!s) {
        *errmsg = xasprintf("unknown server '%s'", server);
        return -1;
    }
    if (s->state != SERVER_READY) {
        *errmsg = xasprintf("server %s is not ready: %s", server,
                            s->last_error ? s->last_error : server_state_name(s->state));
        return -1;
    }
    if (!engine_wait_tool(e, server, tool, 1500)) {
        *errmsg = xasprintf("server %s has no tool '%s'", server, tool);
        return -1;
    }
    struct direct_call *d = xcalloc(1, sizeof *d);
    d->srv = s;
    d->cb = cb;
    d->payload = payload;
    struct mcp_call_opts o = {idle_timeout(s), e->cfg->queue_timeout_ms, NULL};
    if (mcp_client_call_tool(s->client, tool, args, &o, direct_answer, d, errmsg) < 0) {
        free(d);
        return -1;
    }
    return 0;
}

int engine_request(struct engine *e, const char *server, const char *method, cJSON *params,
                   engine_call_cb cb, void *payload, char **errmsg)
{
    struct server *s = server_find(e, server);
    if (!s || s->state != SERVER_READY) {
        cJSON_Delete(params);
        *errmsg = s ? xasprintf("server %s is not ready: %s", server,
                                s->last_error ? s->last_error : server_state_name(s->state))
                    : xasprintf("unknown server '%s'", server);
        return -1;
    }
    return mcp_client_request(s->client, method, params, idle_timeout(s), cb, payload,
                              errmsg) < 0 ? -1 : 0;
}

int engine_wait_tool(struct engine *e, const char *server, const char *tool, int timeout_ms)
{
    int64_t end = util_now_ms() + timeout_ms;
    for (;;) {
        struct server *s = server_find(e, server);
        if (!s || !s->client)
            return 0;
        if (mcp_client_find_tool(s->client, tool))
            return 1;
        int64_t left = end - util_now_ms();
        if (left <= 0 || s->state != SERVER_READY)
            return 0;
        loop_run_once(e->loop, left < 50 ? left : 50);
    }
}

const cJSON *engine_server_list(struct engine *e, const char *server, const char *which)
{
    struct server *s = server_find(e, server);
    if (!s || !s->client)
        return NULL;
    enum mcp_list w = strcmp(which, "resources") == 0   ? MCP_LIST_RESOURCES
                      : strcmp(which, "templates") == 0 ? MCP_LIST_TEMPLATES
                                                         : MCP_LIST_PROMPTS;
    return mcp_client_list(s->client, w);
}

/* === snapshots === */

const char *server_state_name(enum server_state s)
{
    static const char *const names[] = {"stopped", "starting", "ready", "failed", "disabled"};
    return (unsigned)s < ARRAY_LEN(names) ? names[s] : "?";
}

size_t engine_servers(struct engine *e, struct engine_server_info *out, size_t max)
{
    for (size_t i = 0; i < e->nservers && i < max; i++) {
        struct server *s = &e->servers[i];
        const struct mcp_tool *tools;
        out[i].name = s->name;
        out[i].kind = s->kind;
        out[i].state = s->state;
        out[i].ntools = s->client ? (int)mcp_client_tools(s->client, &tools) : 0;
        out[i].calls = s->calls;
        out[i].errors = s->errors;
        out[i].inflight = s->client ? mcp_client_inflight(s->client) : 0;
        out[i].restarts = s->restarts;
        out[i].last_error = s->last_error;
    }
    return e->nservers;
}

size_t engine_server_tools(struct engine *e, const char *server,
                           struct engine_tool_info *out, size_t max)
{
    struct server *s = server_find(e, server);
    if (!s || !s->client)
        return 0;
    const struct mcp_tool *tools;
    size_t n = mcp_client_tools(s->client, &tools);
    for (size_t i = 0; i < n && i < max; i++) {
        out[i].name = tools[i].name;
        out[i].description = tools[i].description;
        out[i].input_schema = tools[i].input_schema;
    }
    return n;
}

void engine_stats(struct engine *e, struct engine_stats *out)
{
    memset(out, 0, sizeof *out);
    jobq_counts(e->q, &out->jobs);
    out->running = e->running;
    out->calls = e->calls;
    out->errors = e->errors;
}

int engine_job_progress(struct engine *e, int64_t id, double *progress, double *total)
{
    for (struct run *r = e->runs; r; r = r->next)
        if (r->job_id == id && r->has_progress) {
            *progress = r->progress;
            *total = r->total;
            return 0;
        }
    return -1;
}

static cJSON *parse_result(const struct job *j)
{
    if (!j->has_result || !j->result_mime || strcmp(j->result_mime, MCP_RESULT_MIME) != 0)
        return NULL;
    return cJSON_ParseWithLength(j->result, j->result_len);
}

char *engine_result_text(const struct job *j)
{
    cJSON *r = parse_result(j);
    if (!r)
        return xstrndup(j->has_result && j->result ? j->result : "",
                        j->has_result && j->result ? j->result_len : 0);
    struct buf b;
    buf_init(&b);
    char *text = mcp_result_text(r);
    buf_puts(&b, text);
    free(text);
    const cJSON *sc = cJSON_GetObjectItemCaseSensitive(r, "structuredContent");
    if (sc) {
        char *p = cJSON_Print(sc);
        buf_printf(&b, "%sstructured content:\n%s", b.len ? "\n\n" : "", p);
        cJSON_free(p);
    }
    cJSON_Delete(r);
    return buf_detach(&b);
}

cJSON *engine_result_structured(const struct job *j)
{
    cJSON *r = parse_result(j);
    cJSON *sc = r ? cJSON_DetachItemFromObjectCaseSensitive(r, "structuredContent") : NULL;
    cJSON_Delete(r);
    return sc;
}

int engine_jobs(struct engine *e, int limit, struct job **out, size_t *n)
{
    return jobq_list(e->q, limit, out, n);
}

int engine_job(struct engine *e, int64_t id, struct job *out)
{
    if (jobq_get(e->q, id, out) < 0)
        return -1;
    if (out->result_blob && !out->result) {
        /* a large result lives in the blob store: load it (hash verified) */
        char *err = NULL;
        if (jobq_result(e->q, id, &out->result, &out->result_len, &err) < 0) {
            out->result = err ? err : xstrdup("(the result could not be read)");
            out->result_len = strlen(out->result);
            out->result_is_error = 1;
            free(out->result_mime);
            out->result_mime = xstrdup("text/plain");
        }
    }
    return 0;
}

struct loop *engine_loop(struct engine *e)
{
    return e->loop;
}

const struct config *engine_config(struct engine *e)
{
    return e->cfg;
}

const char *engine_workspace_root(struct engine *e)
{
    return e->root;
}

const char *engine_db_path(struct engine *e)
{
    return e->db_path;
}
