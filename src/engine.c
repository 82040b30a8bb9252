/* engine.c — owns the subsystems and runs tasks (see engine.h).
 *
 * A task's way: engine_submit() inserts the job (on disk before anything
 * runs it) → the scheduler, a before-sleep hook, claims ready jobs while
 * fewer than queue.concurrency run → the job's server is started if needed
 * (the job waits, "parked", until it is ready) → mcp_client_call_tool() →
 * the answer completes or fails the job; transport failures and timeouts
 * are retried with backoff up to the job's max attempts.
 *
 * Logs and secrets: engine_new opens the process's structured log (log.h;
 * one per process, shared by every engine in it) and registers the
 * secrets with the redactor (redact.h): every environment variable whose
 * name looks secret, and every variable the config names under
 * `secrets:` or expands into a server's env, headers, args or url. The
 * engine is where text from servers becomes stored or shown text, so it
 * redacts there, before the store (jobq stays a plain store): a job's
 * error, result body and progress events (engine_run_finish,
 * run_progress), route JSON (engine_route.c), a server's last error and
 * health reasons (server_set, engine_health.c), the answers of direct
 * calls and requests (engine_call.c) and a server's log
 * (engine_server_log). Log lines are redacted by log.c itself. What the
 * user submits (a job's arguments) is stored as given: the server needs
 * it. What front ends read (snapshots, metrics, pages of jobs, the memory
 * wrappers) is in engine_view.c. */
#include "engine_int.h"
#include "gitctx.h"
#include "http.h"
#include "llm.h"
#include "qdrant.h"

#include <stdarg.h>
#include <stdio.h>
#include <time.h>

/* === events === */

void engine_emit(struct engine *e, const struct engine_event *ev)
{
    if (ev->job_id)
        e->page_anchor.valid = 0;    /* a job changed: list positions may have moved */
    if (ev->kind == ENGINE_EV_SERVER_STATE || ev->kind == ENGINE_EV_SERVER_HEALTH)
        engine_route_changed(e);     /* cached routes are stale; waiting jobs may go */
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

void engine_emit_job(struct engine *e, enum engine_event_kind k, int64_t id,
                     enum job_status st, const char *text)
{
    struct engine_event ev = {k, id, st, NULL, text, 0, 0, NULL};
    engine_emit(e, &ev);
}

void engine_emit_server(struct engine *e, struct server *s)
{
    struct engine_event ev = {ENGINE_EV_SERVER_STATE, 0, 0, s->name, s->last_error, 0, 0, NULL};
    engine_emit(e, &ev);
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

/* === the log and secrets === */

static struct engine_overrides overrides;
static char *log_path;      /* the log this process has open ("-": stderr), or NULL */
static int log_users;       /* engines holding it: closed when the last one goes */

void engine_secrets_register(const struct config *c)
{
    for (size_t i = 0; i < c->nsecret_env; i++)
        redact_add_env(c->secret_env[i]);
}

/* Open the log for this engine: --log-file, else log.file, else
 * <data_dir>/logs/mcpdeck.log; kept when it is already open there. A log
 * that cannot be opened is a warning: mcpdeck works without one. */
static void log_start(struct engine *e, const char *data_dir)
{
    const struct config *c = e->cfg;
    enum log_level lv = LOG_LEVEL_INFO;
    char *err = NULL;
    const char *level = overrides.log_level ? overrides.log_level : c->log_level;
    if (level && log_level_parse(level, &lv, &err) < 0) {
        fprintf(stderr, "mcpdeck: warning: %s; logging at info\n", err);
        free(err);
        err = NULL;
    }
    log_set_level(lv);
    e->logging = 1;
    log_users++;
    char *path = overrides.log_file ? xstrdup(overrides.log_file)
                 : c->log_file      ? xstrdup(c->log_file)
                                    : xasprintf("%s/logs/mcpdeck.log", data_dir);
    if (log_path && strcmp(log_path, path) == 0) {
        free(path);
        return;
    }
    free(log_path);
    log_path = NULL;
    if (strcmp(path, "-") == 0) {
        log_open_stream(stderr);
    } else if (log_open(path, (size_t)c->log_max_bytes, c->log_keep, &err) < 0) {
        fprintf(stderr, "mcpdeck: warning: %s; continuing without a log\n", err);
        free(err);
        free(path);
        return;
    }
    log_path = path;
}

static void log_stop(struct engine *e)
{
    if (!e->logging)
        return;
    e->logging = 0;
    if (--log_users > 0)
        return;
    log_close();
    free(log_path);
    log_path = NULL;
}

void engine_log_run(enum log_level lv, const struct run *r, const char *fmt, ...)
{
    if (!log_enabled(lv))
        return;
    struct log_ctx ctx = {r->job_id, r->srv ? r->srv->name : NULL, r->reqid};
    va_list ap;
    va_start(ap, fmt);
    log_writev(lv, &ctx, fmt, ap);
    va_end(ap);
}

void engine_log_server(enum log_level lv, const struct server *s, const char *fmt, ...)
{
    if (!log_enabled(lv))
        return;
    struct log_ctx ctx = {0, s->name, 0};
    va_list ap;
    va_start(ap, fmt);
    log_writev(lv, &ctx, fmt, ap);
    va_end(ap);
}

/* === the Qdrant outbox === */

#define OUTBOX_PERIOD_MS 2000

static void outbox_drained(void *payload, int64_t sent, int64_t failed, int64_t remaining,
                           const char *error)
{
    struct engine *e = payload;
    e->draining = 0;
    if (error && !e->stopping)
        log_write(LOG_LEVEL_WARN, NULL, "qdrant: %s (%lld writes wait in the outbox)", error,
                  (long long)remaining);
    else if (sent)
        log_write(LOG_LEVEL_DEBUG, NULL, "qdrant: sent %lld writes, %lld left", (long long)sent,
                  (long long)remaining);
}

static void outbox_tick(struct loop *l, uint64_t id, void *payload)
{
    struct engine *e = payload;
    e->outbox_timer = loop_timer_add(e->loop, OUTBOX_PERIOD_MS, outbox_tick, e);
    if (e->draining)
        return;
    char *err = NULL;
    int64_t depth = qdrant_outbox_depth(e->db, &err);
    free(err);
    if (depth <= 0)
        return;
    engine_tx_flush(e);
    e->draining = 1;
    qdrant_drain(e->qdrant, e->db, 64, 0, outbox_drained, e);
}

/* === lifecycle === */

void engine_set_overrides(const struct engine_overrides *o)
{
    overrides = *o;
}

static void on_sigchld(struct loop *l, int signo, void *payload)
{
    proc_reap_all();
}

static void add_server(struct engine *e, const char *name, const char *kind,
                       const struct config_server *cfg, const struct builtin_server *b)
{
    /* pointers, not structs: sessions and timers hold a server's address,
     * which must not move when one is added at run time */
    e->servers = xrealloc(e->servers, (e->nservers + 1) * sizeof *e->servers);
    struct server *s = xcalloc(1, sizeof *s);
    e->servers[e->nservers++] = s;
    s->e = e;
    s->name = xstrdup(name);
    s->kind = kind;
    s->cfg = cfg;
    s->builtin = b;
    s->state = cfg && !cfg->enabled ? SERVER_DISABLED : SERVER_STOPPED;
    engine_health_init(s);
}

int engine_add_builtin(struct engine *e, const struct builtin_server *srv, char **errmsg)
{
    if (engine_server_find(e, srv->name)) {
        *errmsg = xasprintf("a server named %s exists already", srv->name);
        return -1;
    }
    add_server(e, srv->name, "builtin", NULL, srv);
    return 0;
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
    e->farewell = http_new(e->loop);
    if (config_load(opts ? opts->config_path : NULL, &e->cfg, errmsg) < 0)
        goto fail;
    redact_scan_environ();
    engine_secrets_register(e->cfg);
    char *dir = opts && opts->data_dir ? xstrdup(opts->data_dir)
                : e->cfg->data_dir ? xstrdup(e->cfg->data_dir) : default_data_dir();
    e->db_path = xasprintf("%s/mcpdeck.db", dir);
    log_start(e, dir);
    free(dir);
    if (db_open(e->db_path, &e->db, errmsg) < 0)
        goto fail;
    if (jobq_open(e->db, e->cfg->queue_timeout_ms, e->cfg->queue_retries, &e->q) < 0) {
        *errmsg = xasprintf("cannot prepare the job queue in %s", e->db_path);
        goto fail;
    }
    if (memory_open(e->db, e->cfg, &e->memory, errmsg) < 0)
        goto fail;
    memory_attach_loop(e->memory, e->loop);
    /* with memory.qdrant set, the outbox drains in the background (every
     * 2 s while it has rows; the client's backoff and breaker apply) */
    if ((e->qdrant = qdrant_from_config(e->loop, e->cfg))) {
        e->outbox_timer = loop_timer_add(e->loop, 0, outbox_tick, e);
        /* searches ask Qdrant first; its errors fall back to the local index */
        e->qsearch = qdrant_asearch_new(e->qdrant, e->cfg, e->db);
        memory_set_vector_search_async(e->memory, qdrant_asearch_fn, e->qsearch);
    }
    int requeued = 0;
    jobq_recover(e->q, &requeued);
    /* health history older than a week goes */
    char *sql = xasprintf("DELETE FROM servers_health WHERE ts_ms < %lld",
                          (long long)(util_wall_ms() - 7LL * 86400000));
    char *dberr = NULL;
    if (db_exec(e->db, sql, &dberr) < 0)
        free(dberr);
    free(sql);
    e->concurrency = opts && opts->concurrency > 0 ? opts->concurrency
                                                   : e->cfg->queue_concurrency;
    e->root = pathjail_workspace_root(NULL);
    e->roots[0] = e->root;
    e->roots[1] = NULL;
    if (registry_catalog_embedded(&e->catalog, errmsg) < 0)
        goto fail;
    e->rcache = router_cache_new();
    e->weights = (struct router_weights){e->cfg->weights.capability, e->cfg->weights.fit,
                                         e->cfg->weights.health, e->cfg->weights.preference};
    add_server(e, builtin_fs.name, "builtin", NULL, &builtin_fs);
    add_server(e, builtin_memory.name, "builtin", NULL, &builtin_memory);
    add_server(e, builtin_git.name, "builtin", NULL, &builtin_git);
    if (e->cfg->shell_enabled) {
        builtin_shell_configure(e->cfg->shell_allow, e->cfg->nshell_allow,
                                e->cfg->shell_timeout_ms, (size_t)e->cfg->shell_max_output,
                                e->cfg->secret_env, e->cfg->nsecret_env);
        add_server(e, builtin_shell.name, "builtin", NULL, &builtin_shell);
    }
    for (size_t i = 0; i < e->cfg->nservers; i++) {
        const struct config_server *c = &e->cfg->servers[i];
        add_server(e, c->name, c->kind == CONFIG_SERVER_HTTP ? "http" : "stdio", c, NULL);
    }
    /* profiles now: a capability the catalog does not know is a config error */
    for (size_t i = 0; i < e->nservers; i++) {
        char *perr = NULL;
        struct server *s = e->servers[i];
        if (engine_profile_resolve(s, &perr) < 0) {
            *errmsg = s->cfg ? xasprintf("%s:%d:%d: %s", e->cfg->source, s->cfg->line,
                                         s->cfg->col, perr)
                             : xstrdup(perr);
            free(perr);
            goto fail;
        }
    }
    engine_admin_load(e);
    loop_signal(e->loop, SIGCHLD, on_sigchld, e);
    jobq_set_claim_filter(e->q, engine_server_has_slot, e);
    loop_hook_add(e->loop, engine_schedule, e);
    e->metrics = metrics_new();
    e->llm = llm_new(e->loop, e->cfg, e->db, e->metrics);
    if (overrides.metrics_file || e->cfg->metrics_file)
        engine_set_metrics_file(e, overrides.metrics_file ? overrides.metrics_file
                                                          : e->cfg->metrics_file);
    if (log_enabled(LOG_LEVEL_INFO)) {
        struct log_kv kv[] = {LOG_INT("servers", (int64_t)e->nservers),
                              LOG_INT("concurrency", e->concurrency),
                              LOG_STR("db", e->db_path), LOG_STR("config", e->cfg->source)};
        log_write_kv(LOG_LEVEL_INFO, NULL, kv, ARRAY_LEN(kv), "engine started");
    }
    *out = e;
    return 0;
fail:
    engine_free(e);
    return -1;
}

int engine_add_server(struct engine *e, const struct config_server *cfg, char **errmsg)
{
    if (engine_server_find(e, cfg->name)) {
        *errmsg = xasprintf("a server named '%s' already exists", cfg->name);
        return -1;
    }
    add_server(e, cfg->name, cfg->kind == CONFIG_SERVER_HTTP ? "http" : "stdio", cfg, NULL);
    return 0;
}

const char *engine_server_log(struct engine *e, const char *server)
{
    struct server *s = engine_server_find(e, server);
    if (!s)
        return NULL;
    if (!s->client)
        return "";
    struct mcp_transport *t = mcp_client_transport(s->client);
    buf_consume(&s->logcopy, s->logcopy.len);
    buf_puts(&s->logcopy, t->ops->log(t));
    buf_puts(&s->logcopy, mcp_client_log(s->client));
    size_t n;
    char *clean = redact_text(s->logcopy.data, s->logcopy.len, &n);
    buf_consume(&s->logcopy, s->logcopy.len);
    buf_append(&s->logcopy, clean, n);
    free(clean);
    return s->logcopy.data ? s->logcopy.data : "";
}

void engine_start(struct engine *e)
{
    e->health_auto = 1;
    for (size_t i = 0; i < e->nservers; i++) {
        char *err = NULL;
        if (e->servers[i]->state != SERVER_DISABLED)
            engine_server_start(e->servers[i], &err);
        free(err);
    }
    e->scheduling = 1;
}

static void on_interrupt(struct loop *l, int signo, void *payload)
{
    struct engine *e = payload;
    (void)l;
    e->interrupted = signo;
}

void engine_catch_interrupts(struct engine *e)
{
    struct sigaction old;
    /* a SIGINT ignored from the start stays ignored: a shell runs a
     * background command so, and the terminal's ^C is not meant for it */
    if (sigaction(SIGINT, NULL, &old) < 0 || old.sa_handler != SIG_IGN)
        loop_signal(e->loop, SIGINT, on_interrupt, e);
    loop_signal(e->loop, SIGTERM, on_interrupt, e);
}

int engine_interrupted(const struct engine *e)
{
    return e->interrupted;
}

int engine_wait_servers(struct engine *e, int timeout_ms)
{
    int64_t end = util_now_ms() + timeout_ms;
    for (;;) {
        int starting = 0;
        for (size_t i = 0; i < e->nservers; i++)
            if (e->servers[i]->state == SERVER_STARTING)
                starting++;
        int64_t left = end - util_now_ms();
        if (!starting || left <= 0 || e->interrupted)
            return starting;
        loop_run_once(e->loop, left);
    }
}

void engine_free(struct engine *e)
{
    if (!e)
        return;
    /* the last figures, while everything they read is still there */
    if (e->metrics_file) {
        char *err = NULL;
        if (metrics_write_file(engine_metrics(e), e->metrics_file, &err) < 0)
            free(err);
        free(e->metrics_file);
        e->metrics_file = NULL;
    }
    /* writes to the memory still embedding on the worker pool finish first
     * (bounded: an embedding service that hangs does not hold the exit) */
    for (int i = 0; i < 1000 && memory_busy(e->memory); i++)
        loop_run_once(e->loop, 10);
    e->stopping = 1;                 /* checks cut short now are not failures */
    for (struct run *r = e->runs; r; r = r->next)
        if (r->agent)
            engine_agent_stop(r);    /* before the servers and the gateway go */
    e->health_auto = 0;
    /* Jobs still running go back to the queue: they were not finished. */
    for (struct run *r = e->runs; r; r = r->next)
        r->cancelled = 1;
    /* Stop every child at once (stdin closed, grace, TERM, KILL). */
    struct proc **procs = xcalloc(e->nservers + 1, sizeof *procs);
    int n = 0;
    for (size_t i = 0; i < e->nservers; i++) {
        struct server *s = e->servers[i];
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
        engine_elicit_free(q);
    }
    engine_claimed_drop(e, NULL);
    for (size_t i = 0; i < e->nservers; i++)   /* before any client goes: no new dispatch */
        while (e->servers[i]->waiting) {
            struct run *r = e->servers[i]->waiting;
            e->servers[i]->waiting = r->next;
            engine_run_free(r);
        }
    for (size_t i = 0; i < e->nservers; i++) {
        struct server *s = e->servers[i];
        if (s->restart_timer)
            loop_timer_del(e->loop, s->restart_timer);
        mcp_client_free(s->client);   /* fails calls in flight: runs are cancelled */
        s->client = NULL;
        while (s->parked) {
            struct run *r = s->parked;
            s->parked = r->next;
            engine_run_free(r);
        }

        engine_health_fini(s);
        registry_profile_fini(&s->profile);
        free(s->name);
        free(s->last_error);
        buf_fini(&s->logcopy);
        free(s);
    }
    e->nservers = 0;   /* gone: what follows (route, metrics) must not look at them */
    /* the HTTP sessions' DELETEs, all at once; each gives up after 1 s */
    for (int i = 0; i < 150 && http_busy(e->farewell); i++)
        loop_run_once(e->loop, 10);
    http_free(e->farewell);
    e->farewell = NULL;
    while (e->runs) {
        struct run *r = e->runs;
        e->runs = r->next;
        engine_run_free(r);
    }
    engine_provenance_flush(e);      /* before the store closes */
    engine_tx_flush(e);
    if (e->q && e->db) {
        int requeued;
        jobq_release(e->q, &requeued);   /* our running jobs → queued: nothing is lost */
    }
    if (e->metrics_timer)
        loop_timer_del(e->loop, e->metrics_timer);
    engine_route_fini(e);
    free(e->page_anchor.text);
    if (e->outbox_timer)
        loop_timer_del(e->loop, e->outbox_timer);
    if (e->memory)
        memory_set_vector_search_async(e->memory, NULL, NULL);
    qdrant_asearch_free(e->qsearch);     /* answers what still waits, then */
    qdrant_free(e->qdrant);              /* drops the requests */
    llm_free(e->llm);
    metrics_free(e->metrics);
    for (size_t i = 0; i < e->nextra; i++)
        config_free(e->extra[i]);
    free(e->extra);
    free(e->servers);
    free(e->subs);
    jobq_close(e->q);
    sqlite3_finalize(e->data_version);
    sqlite3_finalize(e->wake_stmt);
    free(e->prov_last);
    memory_free(e->memory);
    db_close(e->db);
    config_free(e->cfg);
    loop_free(e->loop);
    if (e->logging && log_enabled(LOG_LEVEL_INFO)) {
        struct log_kv kv[] = {LOG_INT("calls", e->calls), LOG_INT("errors", e->errors),
                              LOG_STR("db", e->db_path)};
        log_write_kv(LOG_LEVEL_INFO, NULL, kv, ARRAY_LEN(kv), "engine stopped");
    }
    log_stop(e);
    free(e->db_path);
    free(e->root);
    free(e);
}

/* === commands === */

/* A routed spec (no server, a route request) whose request is sound. */
static int routed_ok(struct engine *e, const struct jobq_spec *spec, char **errmsg)
{
    cJSON *j = cJSON_Parse(spec->route_json);
    const cJSON *r = cJSON_GetObjectItemCaseSensitive(j, "request");
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(r, "type");
    int rc = 0;
    const char *const *caps;
    size_t n;
    int heavy;
    if (!cJSON_IsObject(r)) {
        *errmsg = xasprintf("a routed task needs a route request {\"request\": {...}}");
        rc = -1;
    } else if (cJSON_IsString(t) &&
               registry_task_type(e->catalog, t->valuestring, &caps, &n, &heavy) < 0) {
        *errmsg = xasprintf("unknown task type '%s'", t->valuestring);
        rc = -1;
    }
    cJSON_Delete(j);
    return rc;
}

static void log_queued(int64_t id, const struct jobq_spec *spec)
{
    if (!log_enabled(LOG_LEVEL_DEBUG))
        return;
    struct log_ctx ctx = {id, spec->server, 0};
    struct log_kv kv[] = {LOG_STR("tool", spec->tool), LOG_STR("key", spec->key),
                          LOG_STR("batch", spec->batch)};
    log_write_kv(LOG_LEVEL_DEBUG, &ctx, kv, ARRAY_LEN(kv), "job queued%s",
                 spec->server && *spec->server ? "" : " (to be routed)");
}

/* A model task: a known type, a prompt, and a model to answer it. */
static int model_ok(struct engine *e, const struct jobq_spec *spec, char **errmsg)
{
    const char *const *caps;
    size_t n;
    int heavy;
    if (!spec->tool || registry_task_type(e->catalog, spec->tool, &caps, &n, &heavy) < 0) {
        *errmsg = xasprintf("unknown task type '%s'", spec->tool ? spec->tool : "");
        return -1;
    }
    const char *missing = llm_missing(e->llm);
    if (missing) {
        *errmsg = xasprintf("a '%s' task needs a model: %s", spec->tool, missing);
        return -1;
    }
    return 0;
}

int engine_submit(struct engine *e, const struct jobq_spec *spec, int64_t *id, char **errmsg)
{
    struct server *s = engine_server_find(e, spec->server ? spec->server : "");
    if (spec->kind && strcmp(spec->kind, "model") == 0) {
        if (model_ok(e, spec, errmsg) < 0)
            return -1;
        s = NULL;
    } else if (!s && spec->route_json && !(spec->server && *spec->server)) {
        if (routed_ok(e, spec, errmsg) < 0)
            return -1;
    } else if (!s) {
        *errmsg = xasprintf("unknown server '%s'", spec->server ? spec->server : "");
        return -1;
    }
    if (s && s->state == SERVER_READY && !mcp_client_find_tool(s->client, spec->tool)) {
        *errmsg = xasprintf("server %s has no tool '%s'", s->name, spec->tool);
        return -1;
    }
    engine_tx_flush(e);
    if (jobq_submit(e->q, spec, id, errmsg) < 0)
        return -1;
    log_queued(*id, spec);
    metrics_inc(e->metrics, MET_JOBS_SUBMITTED, NULL);
    engine_emit_job(e, ENGINE_EV_JOB_QUEUED, *id, JOB_QUEUED, NULL);
    return 0;
}

int engine_submit_group(struct engine *e, const struct jobq_spec *specs, size_t n, int64_t *ids,
                        char **errmsg)
{
    for (size_t i = 0; i < n; i++) {
        struct server *s = engine_server_find(e, specs[i].server ? specs[i].server : "");
        if (specs[i].kind && strcmp(specs[i].kind, "model") == 0) {
            if (model_ok(e, &specs[i], errmsg) < 0)
                return -1;
        } else if (!s && specs[i].route_json && !(specs[i].server && *specs[i].server)) {
            if (routed_ok(e, &specs[i], errmsg) < 0)
                return -1;
        } else if (!s) {
            *errmsg = xasprintf("unknown server '%s'", specs[i].server ? specs[i].server : "");
            return -1;
        }
    }
    engine_tx_flush(e);
    if (db_begin(e->db) < 0) {
        *errmsg = xasprintf("cannot start a transaction in %s", e->db_path);
        return -1;
    }
    for (size_t i = 0; i < n; i++)
        if (jobq_submit(e->q, &specs[i], &ids[i], errmsg) < 0) {
            db_rollback(e->db);
            return -1;
        }
    if (db_commit(e->db) < 0) {
        db_rollback(e->db);
        *errmsg = xasprintf("cannot commit the submitted tasks to %s", e->db_path);
        return -1;
    }
    metrics_add(e->metrics, MET_JOBS_SUBMITTED, NULL, (double)n);
    for (size_t i = 0; i < n; i++) {
        log_queued(ids[i], &specs[i]);
        engine_emit_job(e, ENGINE_EV_JOB_QUEUED, ids[i], JOB_QUEUED, NULL);
    }
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
    engine_tx_flush(e);
    if (jobq_cancel(e->q, id) < 0) {
        *errmsg = xasprintf("job %lld is not queued or running", (long long)id);
        return -1;
    }
    for (size_t i = 0; i < e->nservers; i++) {
        struct run **lists[2] = {&e->servers[i]->parked, &e->servers[i]->waiting};
        for (int k = 0; k < 2; k++)
            for (struct run *r = *lists[k]; r; r = r->next)
                if (r->job_id == id) {
                    engine_run_unlink(lists[k], r);
                    e->running--;
                    engine_run_free(r);
                    goto done;
                }
    }
    for (struct run *r = e->runs; r; r = r->next)
        if (r->job_id == id) {
            r->cancelled = 1;
            if (r->agent) {          /* stop the model stream and its tool calls */
                engine_agent_stop(r);
                engine_run_finish(r, NULL, "cancelled", 0);
                break;
            }
            if (r->approval) {       /* it was waiting for the user's yes */
                engine_run_finish(r, NULL, "cancelled", 0);
                break;
            }
            if (r->reqid > 0 && r->srv && r->srv->client)
                mcp_client_cancel(r->srv->client, r->reqid, "cancelled by the user");
            break;
        }
done:
    log_write(LOG_LEVEL_INFO, &(struct log_ctx){id, NULL, 0}, "job cancelled");
    engine_emit_job(e, ENGINE_EV_JOB_DONE, id, JOB_CANCELLED, "cancelled");
    return 0;
}

int engine_find_job(struct engine *e, const char *batch, const char *key, int64_t *id)
{
    return jobq_find_key(e->q, batch, key, id);
}

const cJSON *engine_server_list(struct engine *e, const char *server, const char *which)
{
    struct server *s = engine_server_find(e, server);
    if (!s || !s->client)
        return NULL;
    enum mcp_list w = strcmp(which, "resources") == 0   ? MCP_LIST_RESOURCES
                      : strcmp(which, "templates") == 0 ? MCP_LIST_TEMPLATES
                                                         : MCP_LIST_PROMPTS;
    return mcp_client_list(s->client, w);
}

int engine_apply_diff(struct engine *e, const char *diff, int check_only, char **errmsg)
{
    struct gitctx *g = NULL;
    if (gitctx_open(e->root ? e->root : ".", &g, errmsg) < 0)
        return -1;
    int rc = gitctx_apply_diff(g, diff, check_only, errmsg);
    gitctx_free(g);
    return rc;
}

const char *engine_llm_missing(struct engine *e)
{
    return llm_missing(e->llm);
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
