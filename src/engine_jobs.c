/* engine_jobs.c — running jobs: claiming them before the loop sleeps
 * (the scheduler), dispatching each to its server (waiting for it to be
 * ready, or for a slot under a per-server limit), and recording the
 * outcome — completed, failed, or requeued with backoff — in one group
 * transaction per loop turn. What is stored is redacted first (redact.h):
 * the error, the result body and progress messages. */
#include "engine_int.h"
#include "jsonw.h"

/* === group commit ===
 * Claims, completions and failures of one loop turn share one SQLite
 * transaction, committed before the loop sleeps (or before anything is
 * submitted). A crash can only undo the claims and completions of the
 * current turn: those jobs run again (at least once, as after any crash).
 * Submissions are never grouped: a task is on disk when engine_submit
 * returns. */

void engine_tx_touch(struct engine *e)
{
    if (!e->in_tx && db_begin(e->db) == 0)
        e->in_tx = 1;
}

void engine_tx_flush(struct engine *e)
{
    if (e->in_tx) {
        db_commit(e->db);
        e->in_tx = 0;
    }
}

/* === runs === */

void engine_run_free(struct run *r)
{
    engine_schedule_poke(r->e);  /* a slot is free */
    if (r->progress_timer)
        loop_timer_del(r->e->loop, r->progress_timer);
    cJSON_free(r->progress_pending);
    engine_approval_drop_run(r);
    free(r->route_type);
    free(r->route_json);
    free(r->tool);
    cJSON_Delete(r->args);
    free(r);
}

void engine_run_unlink(struct run **list, struct run *r)
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
    engine_schedule_poke(e);
}

/* Make sure the loop wakes when the earliest delayed (retrying) job is due. */
void engine_arm_wake(struct engine *e)
{
    /* prepared once: this runs whenever a claim finds nothing */
    if (!e->wake_stmt &&
        sqlite3_prepare_v3(db_handle(e->db), "SELECT MIN(run_at_ms) FROM jobs WHERE status='queued'",
                           -1, SQLITE_PREPARE_PERSISTENT, &e->wake_stmt, NULL) != SQLITE_OK)
        return;
    sqlite3_stmt *st = e->wake_stmt;
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
    sqlite3_reset(st);
}


/* Jobs finished (by status, with the attempt's duration) and retries. */
static void job_metrics(struct run *r, enum job_status st, int requeued)
{
    struct metrics *m = r->e->metrics;
    if (r->route_type && r->srv && (st == JOB_SUCCEEDED || st == JOB_FAILED))
        engine_route_outcome(r->e, r->srv->name, r->route_type, st == JOB_SUCCEEDED);
    if (requeued) {
        metrics_inc(m, MET_JOB_RETRIES, NULL);
        return;
    }
    const char *l[] = {job_status_name(st)};
    metrics_inc(m, MET_JOBS, l);
    if (r->started_ms)
        metrics_observe(m, MET_JOB_DURATION_SECONDS, l,
                        (double)(util_wall_ms() - r->started_ms) / 1000.0);
}

/* The newest progress not yet stored becomes a job event now. */
static void progress_store(struct run *r)
{
    if (r->progress_timer) {
        loop_timer_del(r->e->loop, r->progress_timer);
        r->progress_timer = 0;
    }
    if (!r->progress_pending)
        return;
    engine_tx_touch(r->e);
    jobq_event_add(r->e->q, r->job_id, "progress", r->progress_pending);
    cJSON_free(r->progress_pending);
    r->progress_pending = NULL;
    r->progress_saved_ms = util_now_ms();
}

/* The attempt is over: record it and tell subscribers. result is the
 * tool's CallToolResult (stored whole) or NULL with error set; both are
 * redacted before they are stored or announced. */
void engine_run_finish(struct run *r, const cJSON *result, const char *error, int retry)
{
    struct engine *e = r->e;
    progress_store(r);   /* the last progress is on record before the outcome */
    char *clean_error = error ? redact_string(error) : NULL;
    cJSON *clean = result ? cJSON_Duplicate(result, 1) : NULL;
    redact_json(clean);
    error = clean_error;
    result = clean;
    engine_run_unlink(&e->runs, r);
    e->running--;
    if (r->dispatched && r->srv) {
        r->srv->busy--;
        r->dispatched = 0;
        engine_server_slot_free(r->srv);
    }
    if (r->cancelled) {
        engine_log_run(LOG_LEVEL_DEBUG, r, "job's call ended after it was cancelled");
        engine_run_free(r);
        goto out;
    }
    struct engine_event ev = {ENGINE_EV_JOB_DONE, r->job_id, JOB_FAILED, NULL, error, 0, 0,
                              result};
    if (error) {
        int requeued = 0;
        engine_tx_touch(e);
        jobq_fail(e->q, r->job_id, error, retry, NULL, 0, NULL, &requeued);
        job_metrics(r, JOB_FAILED, requeued);
        if (requeued) {
            ev.kind = ENGINE_EV_JOB_RETRY;
            ev.status = JOB_QUEUED;
            engine_arm_wake(e);
            engine_log_run(LOG_LEVEL_WARN, r, "job attempt failed, will retry: %s", error);
        } else {
            engine_log_run(LOG_LEVEL_WARN, r, "job failed: %s", error);
        }
        engine_emit(e, &ev);
        engine_run_free(r);
        goto out;
    }
    char *body = jsonw_print(result);
    size_t len = body ? strlen(body) : 0;
    if (mcp_result_is_error(result)) {
        char *text = mcp_result_text(result);
        const char *msg = *text ? text : "the tool reported an error";
        engine_tx_touch(e);
        jobq_fail(e->q, r->job_id, msg, 0, body, len, MCP_RESULT_MIME, NULL);
        job_metrics(r, JOB_FAILED, 0);
        engine_log_run(LOG_LEVEL_WARN, r, "job failed: the tool reported an error: %s", msg);
        ev.text = msg;
        engine_emit(e, &ev);
        free(text);
    } else {
        engine_tx_touch(e);
        jobq_complete(e->q, r->job_id, body, len, MCP_RESULT_MIME, 0);
        job_metrics(r, JOB_SUCCEEDED, 0);
        if (log_enabled(LOG_LEVEL_INFO)) {
            struct log_ctx ctx = {r->job_id, r->srv ? r->srv->name : NULL, r->reqid};
            struct log_kv kv[] = {LOG_STR("tool", r->tool), LOG_INT("bytes", (int64_t)len),
                                  LOG_INT("ms", r->started_ms ? util_wall_ms() - r->started_ms
                                                              : 0)};
            log_write_kv(LOG_LEVEL_INFO, &ctx, kv, ARRAY_LEN(kv), "job succeeded");
        }
        ev.status = JOB_SUCCEEDED;
        engine_emit(e, &ev);
    }
    cJSON_free(body);
    engine_run_free(r);
out:
    cJSON_Delete(clean);
    free(clean_error);
}

static void run_answer(void *payload, const cJSON *result, const char *error)
{
    struct run *r = payload;
    struct engine *e = r->e;
    if (r->cancelled)
        breaker_release(&r->srv->breaker);     /* no outcome: the user stopped it */
    else
        engine_health_call(r->srv, error && engine_error_is_fault(error),
                           util_now_ms() - r->sent_ms);
    engine_metrics_call(r->srv, r->tool, error || mcp_result_is_error(result),
                        util_now_ms() - r->sent_ms);
    r->srv->calls++;
    e->calls++;
    if (error || mcp_result_is_error(result)) {
        r->srv->errors++;
        e->errors++;
    }
    if (error) {
        /* Transport failures, timeouts and the server's own failures
         * (internal error) are worth another attempt; a JSON-RPC error
         * that says the request was wrong (invalid params, unknown
         * method) is final. */
        int retry = engine_error_is_fault(error);
        engine_run_finish(r, NULL, error, retry);
        return;
    }
    /* A tool that declares an outputSchema must answer with structured
     * content that matches it (unless the result is an error). */
    const struct mcp_tool *t = r->srv->client ? mcp_client_find_tool(r->srv->client, r->tool)
                                              : NULL;
    if (t && t->output_schema && !mcp_result_is_error(result) && r->srv->client &&
        mcp_client_version_at_least(r->srv->client, "2025-06-18")) {
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
            engine_run_finish(r, NULL, m, 0);
            free(m);
            return;
        }
    }
    engine_run_finish(r, result, NULL, 0);
}

static void progress_due(struct loop *l, uint64_t id, void *payload)
{
    struct run *r = payload;
    r->progress_timer = 0;
    progress_store(r);
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
    redact_json(d);
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(d, "message");
    message = cJSON_IsString(m) ? m->valuestring : NULL;
    cJSON_free(r->progress_pending);
    r->progress_pending = jsonw_print(d);
    int64_t wait = r->progress_saved_ms + PROGRESS_SAVE_MS - util_now_ms();
    if (!r->progress_saved_ms || wait <= 0)
        progress_store(r);
    else if (!r->progress_timer)
        r->progress_timer = loop_timer_add(r->e->loop, wait, progress_due, r);
    struct engine_event ev = {ENGINE_EV_JOB_PROGRESS, r->job_id, JOB_RUNNING, NULL, message,
                              progress, total, NULL};
    engine_emit(r->e, &ev);
    cJSON_Delete(d);
}

int engine_idle_timeout(const struct server *s)
{
    return s->cfg && s->cfg->timeout_ms > 0 ? s->cfg->timeout_ms : 60000;
}


/* A slot on a server with a concurrency limit is free: start a waiter. */
void engine_server_slot_free(struct server *s)
{
    if (!s->waiting || (s->cfg && s->cfg->concurrency > 0 && s->busy >= s->cfg->concurrency))
        return;
    struct run *r = s->waiting;
    s->waiting = r->next;
    r->next = s->e->runs;
    s->e->runs = r;
    engine_run_dispatch(r);
}

void engine_run_dispatch(struct run *r)
{
    struct server *s = r->srv;
    char *err = NULL;
    if (s->cfg && s->cfg->concurrency > 0 && s->busy >= s->cfg->concurrency) {
        engine_run_unlink(&s->e->runs, r);      /* wait for a slot, in claim order */
        struct run **pp = &s->waiting;
        while (*pp)
            pp = &(*pp)->next;
        r->next = NULL;
        *pp = r;
        return;
    }
    int pol = r->approved ? 0 : engine_policy_check(s->e, s->name, r->tool, &err);
    if (pol == 1 && s->e->approval_cb) {
        engine_approval_ask_run(r, err);        /* the answer comes back here */
        free(err);
        return;
    }
    if (pol != 0) {
        engine_run_finish(r, NULL, err, 0);     /* final: another attempt is refused too */
        free(err);
        return;
    }
    if (engine_breaker_allow(s, &err) < 0) {
        engine_run_finish(r, NULL, err, 1);
        free(err);
        return;
    }
    s->busy++;
    r->dispatched = 1;
    r->sent_ms = util_now_ms();
    /* The server's timeout is an idle timeout that progress resets; the
     * job's timeout is the hard maximum of the attempt. */
    struct mcp_call_opts o = {engine_idle_timeout(s), r->timeout_ms, run_progress};
    if (o.timeout_ms > o.max_ms)
        o.timeout_ms = o.max_ms;
    int64_t id = mcp_client_call_tool(s->client, r->tool, r->args, &o, run_answer, r, &err);
    if (id < 0) {
        breaker_release(&s->breaker);
        engine_run_finish(r, NULL, err, 1);
        free(err);
        return;
    }
    r->reqid = id;
    engine_log_run(LOG_LEVEL_DEBUG, r, "job's call %s sent", r->tool);
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
    r->started_ms = j->started_ms ? j->started_ms : util_wall_ms();
    /* waited from when it was queued (or due) until this attempt began */
    int64_t since = j->run_at_ms > j->created_ms ? j->run_at_ms : j->created_ms;
    if (r->started_ms >= since && j->attempts <= 1)
        metrics_observe(e->metrics, MET_QUEUE_WAIT_SECONDS, NULL,
                        (double)(r->started_ms - since) / 1000.0);
    e->running++;
    r->next = e->runs;
    e->runs = r;
    if (log_enabled(LOG_LEVEL_DEBUG)) {
        struct log_ctx ctx = {j->id, j->server, 0};
        struct log_kv kv[] = {LOG_STR("tool", j->tool), LOG_INT("attempt", j->attempts)};
        log_write_kv(LOG_LEVEL_DEBUG, &ctx, kv, ARRAY_LEN(kv), "job started");
    }
    engine_emit_job(e, ENGINE_EV_JOB_STARTED, j->id, JOB_RUNNING, NULL);
    engine_provenance_record(e, j->id);

    if (j->kind && strcmp(j->kind, "model") == 0) {
        engine_agent_start(r, j);    /* a model answers, using the routed servers' tools */
        return;
    }
    if (j->route_json) {             /* routed: again on every attempt */
        engine_route_run(r, j);
        return;
    }
    struct server *s = engine_server_find(e, j->server);
    if (!s) {
        char *m = xasprintf("unknown server '%s'", j->server);
        engine_run_finish(r, NULL, m, 0);
        free(m);
        return;
    }
    engine_run_on(r, s);
}

void engine_run_on(struct run *r, struct server *s)
{
    struct engine *e = r->e;
    r->srv = s;
    if (s->state == SERVER_READY) {
        engine_run_dispatch(r);
        return;
    }
    engine_run_unlink(&e->runs, r);
    r->next = s->parked;
    s->parked = r;
    if (s->state != SERVER_STARTING && !s->restart_timer) {
        char *err = NULL;
        if (engine_server_start(s, &err) < 0) {
            /* server_set already released nothing: do it now */
            engine_server_release_parked(s);
            free(err);
        }
    }
}

/* The claim filter: a server with its own limit takes no more jobs than
 * it has slots (jobs waiting for it to start count too). */
int engine_server_has_slot(void *payload, const char *name)
{
    struct engine *e = payload;
    struct server *s = engine_server_find(e, name);
    if (!s || !s->cfg || s->cfg->concurrency <= 0)
        return 1;
    int n = s->busy;
    for (struct run *r = s->parked; r; r = r->next)
        n++;
    for (struct run *r = s->waiting; r; r = r->next)
        n++;
    return n < s->cfg->concurrency;
}

/* === the claim gate ===
 * A claim costs a transaction and a query, and engine_schedule runs on
 * every loop turn, so it is skipped while nothing can have made a job
 * claimable since a claim last found none: no row written on our
 * connection (a submit, retry, priority change, finished job, server
 * admin change: sqlite3_total_changes64), no commit by another process
 * (PRAGMA data_version, read at most every 20 ms, e.g. `mcpdeck jobs
 * retry` beside the TUI), no
 * poke (the wake timer for a delayed job, a run ending, a server changing
 * state, scheduling turned on), and less than a second since. The second
 * is a safety net, not the mechanism. */
enum { CLAIM_RECHECK_MS = 1000, CLAIM_VERSION_MS = 20 };

void engine_schedule_poke(struct engine *e)
{
    e->claim_idle = 0;
}

static int64_t data_version(struct engine *e)
{
    if (!e->data_version &&
        sqlite3_prepare_v3(db_handle(e->db), "PRAGMA data_version", -1, SQLITE_PREPARE_PERSISTENT,
                           &e->data_version, NULL) != SQLITE_OK)
        return -1;
    int64_t v = -1;
    if (sqlite3_step(e->data_version) == SQLITE_ROW)
        v = sqlite3_column_int64(e->data_version, 0);
    sqlite3_reset(e->data_version);
    return v;
}

static int claim_may_find(struct engine *e)
{
    if (!e->claim_idle)
        return 1;
    if (sqlite3_total_changes64(db_handle(e->db)) != e->claim_changes)
        return 1;
    int64_t now = util_now_ms();
    if (now - e->claim_ms >= CLAIM_RECHECK_MS)
        return 1;
    /* data_version takes a read lock (fcntl): at most every few ms */
    if (now - e->claim_version_ms < CLAIM_VERSION_MS)
        return 0;
    e->claim_version_ms = now;
    int64_t v = data_version(e);
    return v < 0 || v != e->claim_version;
}

static void claim_found_nothing(struct engine *e)
{
    e->claim_idle = 1;
    e->claim_changes = sqlite3_total_changes64(db_handle(e->db));
    e->claim_version = data_version(e);
    e->claim_ms = e->claim_version_ms = util_now_ms();
}

/* Before the loop sleeps: claim what may run, then commit the turn. */
void engine_schedule(struct loop *l, void *payload)
{
    struct engine *e = payload;
    while (e->scheduling && e->running < e->concurrency && claim_may_find(e)) {
        struct job j;
        memset(&j, 0, sizeof j);
        engine_tx_touch(e);
        int rc = jobq_claim(e->q, &j);
        if (rc <= 0) {
            if (rc == 0 && !e->wake_timer)
                engine_arm_wake(e);
            engine_tx_flush(e);  /* the snapshot must follow our own commit */
            if (rc == 0)
                claim_found_nothing(e);
            break;
        }
        e->claim_idle = 0;
        start_job(e, &j);
        job_fini(&j);
    }
    engine_tx_flush(e);
}

void engine_set_scheduling(struct engine *e, int on)
{
    e->scheduling = on;
    engine_schedule_poke(e);
}
