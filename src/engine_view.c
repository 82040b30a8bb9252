/* engine_view.c — what the front ends read and change besides tasks and
 * servers: retry and priority of a job, its attempts and events, pages of
 * the job list (filtered, sorted, read from an anchor so deep pages cost
 * the same as the first), today's model usage, Qdrant's health, thin
 * wrappers over the memory store so the UI need not include memory.h, the
 * metrics table and the snapshots of servers and jobs. */
#include "engine_int.h"
#include "memory.h"
#include "qdrant.h"

#include <time.h>

/* === metrics === */

const struct metrics *engine_metrics(struct engine *e)
{
    struct jobq_counts c;
    if (jobq_counts(e->q, &c) == 0)
        metrics_set(e->metrics, MET_QUEUE_DEPTH, NULL, c.n[JOB_QUEUED]);
    metrics_set(e->metrics, MET_JOBS_RUNNING, NULL, e->running);
    /* the memory's figures cost table scans: at most once a second (the
     * Metrics pane reads this table on every redraw) */
    int64_t now_ms = util_now_ms();
    if (e->memory && (!e->memory_gauges_ms || now_ms - e->memory_gauges_ms >= 1000)) {
        e->memory_gauges_ms = now_ms;
        cJSON *st = memory_stats(e->memory);
        const cJSON *ns;
        cJSON_ArrayForEach(ns, cJSON_GetObjectItemCaseSensitive(st, "entries")) {
            const char *l[] = {ns->string};
            metrics_set(e->metrics, MET_MEMORY_ENTRIES, l, ns->valuedouble);
        }
        const cJSON *ob = cJSON_GetObjectItemCaseSensitive(st, "outbox");
        metrics_set(e->metrics, MET_OUTBOX_DEPTH, NULL, cJSON_IsNumber(ob) ? ob->valuedouble : 0);
        cJSON_Delete(st);
    }
    if (e->qdrant)
        metrics_set(e->metrics, MET_QDRANT_UP, NULL, qdrant_healthy(e->qdrant));
    int64_t now = util_now_ms();
    for (size_t i = 0; i < e->nservers; i++) {
        struct server *s = e->servers[i];
        const char *l[] = {s->name};
        metrics_set(e->metrics, MET_SERVER_HEALTH, l, s->health);
        breaker_poll(&s->breaker, now);
        metrics_set(e->metrics, MET_BREAKER_STATE, l, s->breaker.state);
    }
    return e->metrics;
}

static void metrics_tick(struct loop *l, uint64_t id, void *payload)
{
    struct engine *e = payload;
    char *err = NULL;
    if (metrics_write_file(engine_metrics(e), e->metrics_file, &err) < 0) {
        struct engine_event ev = {ENGINE_EV_LOG, 0, 0, NULL, err, 0, 0, NULL};
        engine_emit(e, &ev);
        free(err);
    }
    e->metrics_timer = loop_timer_add(e->loop, e->cfg->metrics_interval_ms, metrics_tick, e);
}

void engine_set_metrics_file(struct engine *e, const char *path)
{
    if (e->metrics_timer)
        loop_timer_del(e->loop, e->metrics_timer);
    e->metrics_timer = 0;
    free(e->metrics_file);
    e->metrics_file = path ? xstrdup(path) : NULL;
    if (path)
        e->metrics_timer = loop_timer_add(e->loop, 0, metrics_tick, e);
}

/* === snapshots === */

const char *server_state_name(enum server_state s)
{
    static const char *const names[] = {"stopped", "starting", "ready", "failed", "disabled"};
    return (unsigned)s < ARRAY_LEN(names) ? names[s] : "?";
}

size_t engine_servers(struct engine *e, struct engine_server_info *out, size_t max)
{
    size_t n = 0;
    for (size_t k = 0; k < e->nservers; k++) {
        struct server *s = e->servers[k];
        if (s->removed)
            continue;
        size_t i = n++;
        if (i >= max)
            continue;
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
        out[i].caps = (const char *const *)s->profile.caps;
        out[i].ncaps = s->profile.ncaps;
        out[i].caps_source = registry_source_name(s->profile.source);
        out[i].catalog_id = s->profile.catalog_id;
        out[i].task_types = (const char *const *)s->profile.task_types;
        out[i].ntask_types = s->profile.ntask_types;
        out[i].light = s->profile.light;
        out[i].heavy = s->profile.heavy;
        out[i].call_p50_ms = out[i].call_p95_ms = -1;   /* engine_servers_latency */
        out[i].health = s->health;
        out[i].health_reason = s->health_reason;
        out[i].checked_ms = s->checked_ms;
        out[i].latency_ms = s->latency_ms;
        breaker_poll(&s->breaker, util_now_ms());
        out[i].breaker = breaker_state_name(s->breaker.state);
        out[i].breaker_retry_ms =
            s->breaker.state == BREAKER_OPEN
                ? util_wall_ms() + (s->breaker.opened_at + s->breaker.cooldown_ms - util_now_ms())
                : 0;
    }
    return n;
}

void engine_servers_latency(struct engine *e, struct engine_server_info *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const char *ml[] = {v[i].name};
        double q50, q95;
        if (metrics_quantile(e->metrics, MET_TOOL_CALL_SECONDS, ml, 0.50, &q50) == 0 &&
            metrics_quantile(e->metrics, MET_TOOL_CALL_SECONDS, ml, 0.95, &q95) == 0) {
            v[i].call_p50_ms = q50 * 1000.0;
            v[i].call_p95_ms = q95 * 1000.0;
        } else {
            v[i].call_p50_ms = v[i].call_p95_ms = -1;
        }
    }
}

size_t engine_server_tools(struct engine *e, const char *server,
                           struct engine_tool_info *out, size_t max)
{
    struct server *s = engine_server_find(e, server);
    if (!s || !s->client)
        return 0;
    const struct mcp_tool *tools;
    size_t n = mcp_client_tools(s->client, &tools);
    for (size_t i = 0; i < n && i < max; i++) {
        out[i].name = tools[i].name;
        out[i].description = tools[i].description;
        out[i].input_schema = tools[i].input_schema;
        out[i].output_schema = tools[i].output_schema;
        out[i].annotations = tools[i].annotations;
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

/* === for the TUI: retry, priority, a job's history, pages of jobs === */

int engine_retry(struct engine *e, int64_t id, char **errmsg)
{
    engine_tx_flush(e);
    int restored = 0;
    if (jobq_retry(e->q, id, &restored, errmsg) < 0)
        return -1;
    log_write(LOG_LEVEL_INFO, &(struct log_ctx){id, NULL, 0}, "job retried");
    engine_emit_job(e, ENGINE_EV_JOB_QUEUED, id, JOB_QUEUED, NULL);
    return 0;
}

int engine_set_priority(struct engine *e, int64_t id, int priority, char **errmsg)
{
    engine_tx_flush(e);
    if (jobq_set_priority(e->q, id, priority) < 0) {
        *errmsg = xasprintf("job %lld is not queued", (long long)id);
        return -1;
    }
    engine_emit_job(e, ENGINE_EV_JOB_QUEUED, id, JOB_QUEUED, NULL);
    return 0;
}

int engine_job_attempts(struct engine *e, int64_t id, struct jobq_attempt **out, size_t *n)
{
    return jobq_attempts(e->q, id, out, n);
}

int engine_job_events(struct engine *e, int64_t id, struct jobq_event **out, size_t *n)
{
    return jobq_events(e->q, id, 0, 0, out, n);
}

static const char *const sort_names[ENGINE_SORT_COUNT] = {
    "id", "status", "priority", "target", "elapsed",
};

const char *engine_job_sort_name(enum engine_job_sort s)
{
    return (unsigned)s < ENGINE_SORT_COUNT ? sort_names[s] : NULL;
}

int engine_job_sort_parse(const char *name, enum engine_job_sort *out)
{
    for (int i = 0; i < ENGINE_SORT_COUNT; i++)
        if (strcmp(name, sort_names[i]) == 0) {
            *out = (enum engine_job_sort)i;
            return 0;
        }
    return -1;
}

/* The sort key of table alias a (?3 is now, for the elapsed time). */
static void page_key(struct buf *b, enum engine_job_sort s, const char *a)
{
    switch (s) {
    case ENGINE_SORT_STATUS: buf_printf(b, "%s.status", a); break;
    case ENGINE_SORT_PRIORITY: buf_printf(b, "%s.priority", a); break;
    case ENGINE_SORT_TARGET:
        buf_printf(b, "(COALESCE(%s.server, '') || '.' || %s.tool)", a, a);
        break;
    case ENGINE_SORT_ELAPSED:
        buf_printf(b, "(CASE WHEN %s.started_ms > 0 THEN COALESCE(NULLIF(%s.finished_ms, 0), ?3)"
                      " - %s.started_ms ELSE -1 END)", a, a, a);
        break;
    default: buf_printf(b, "%s.id", a); break;
    }
}

/* " AND ..." for q's status mask and text (?1) on alias a. */
static void page_where(struct buf *b, const struct engine_job_query *q, const char *a)
{
    unsigned mask = q->status_mask & ((1u << JOB_STATUS_COUNT) - 1);
    if (mask) {
        const char *sep = " AND (";
        for (int s = 0; s < JOB_STATUS_COUNT; s++)
            if (mask & (1u << s)) {
                buf_printf(b, "%s%s.status = '%s'", sep, a, job_status_name((enum job_status)s));
                sep = " OR ";
            }
        buf_puts(b, ")");
    } else if (q->status_mask) {
        buf_puts(b, " AND 0");
    }
    if (q->text && *q->text)
        buf_printf(b, " AND instr(lower(COALESCE(%s.server, '') || '.' || %s.tool), lower(?1)) > 0",
                   a, a);
}

static sqlite3_stmt *page_prepare(struct engine *e, struct buf *sql,
                                  const struct engine_job_query *q)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db_handle(e->db), sql->data, -1, &st, NULL) != SQLITE_OK)
        st = NULL;
    buf_fini(sql);
    if (st) {
        if (q->text && *q->text)
            sqlite3_bind_text(st, 1, q->text, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, util_wall_ms());
    }
    return st;
}

int engine_jobs_page(struct engine *e, const struct engine_job_query *q, int offset, int limit,
                     struct job **out, size_t *n, int64_t *total)
{
    *out = NULL;
    *n = 0;
    struct buf sql;
    if (total) {
        buf_init(&sql);
        buf_puts(&sql, "SELECT COUNT(*) FROM jobs j WHERE 1");
        page_where(&sql, q, "j");
        sqlite3_stmt *st = page_prepare(e, &sql, q);
        if (!st)
            return -1;
        *total = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
        sqlite3_finalize(st);
    }
    if (limit <= 0)
        return 0;
    /* ordered by id: start from the last page's first row when this page
     * is at or after it (the same query, nothing changed since) */
    int from_anchor = 0;
    struct page_anchor *an = &e->page_anchor;
    /* another process may have added jobs: a different count forgets it */
    if (total && an->total >= 0 && *total != an->total)
        an->valid = 0;
    if (q->sort == ENGINE_SORT_ID && an->valid && an->status_mask == q->status_mask &&
        an->ascending == q->ascending && offset >= an->offset &&
        !strcmp(an->text ? an->text : "", q->text ? q->text : ""))
        from_anchor = 1;
    buf_init(&sql);
    buf_puts(&sql, "SELECT j.id FROM jobs j WHERE 1");
    page_where(&sql, q, "j");
    if (from_anchor)
        buf_printf(&sql, " AND j.id %s ?6", q->ascending ? ">=" : "<=");
    const char *dir = q->ascending ? "ASC" : "DESC";
    buf_puts(&sql, " ORDER BY ");
    page_key(&sql, q->sort, "j");
    buf_printf(&sql, " %s, j.id %s LIMIT ?4 OFFSET ?5", dir, dir);
    sqlite3_stmt *st = page_prepare(e, &sql, q);
    if (!st)
        return -1;
    sqlite3_bind_int(st, 4, limit);
    sqlite3_bind_int(st, 5, from_anchor ? offset - an->offset : offset > 0 ? offset : 0);
    if (from_anchor)
        sqlite3_bind_int64(st, 6, an->id);
    struct job *v = xcalloc((size_t)limit, sizeof *v);
    size_t len = 0;
    int rc;
    while (len < (size_t)limit && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (jobq_get(e->q, sqlite3_column_int64(st, 0), &v[len]) < 0)
            continue;
        /* the list shows no result: drop it at once */
        free(v[len].result);
        v[len].result = NULL;
        v[len].result_len = 0;
        len++;
    }
    sqlite3_finalize(st);
    if (q->sort == ENGINE_SORT_ID && len > 0) {
        an->valid = 1;
        an->status_mask = q->status_mask;
        free(an->text);
        an->text = q->text ? xstrdup(q->text) : NULL;
        an->ascending = q->ascending;
        an->offset = offset > 0 ? offset : 0;
        an->id = v[0].id;
        an->total = total ? *total : -1;
    }
    *out = v;
    *n = len;
    return 0;
}

int64_t engine_jobs_index(struct engine *e, const struct engine_job_query *q, int64_t id)
{
    struct buf sql;
    buf_init(&sql);
    buf_puts(&sql, "SELECT COUNT(*) FROM jobs j, (SELECT ");
    page_key(&sql, q->sort, "x");
    buf_puts(&sql, " AS k, x.id AS i FROM jobs x WHERE x.id = ?2");
    page_where(&sql, q, "x");
    buf_puts(&sql, ") y WHERE 1");
    page_where(&sql, q, "j");
    const char *cmp = q->ascending ? "<" : ">";
    buf_puts(&sql, " AND (");
    page_key(&sql, q->sort, "j");
    buf_printf(&sql, " %s y.k OR (", cmp);
    page_key(&sql, q->sort, "j");
    buf_printf(&sql, " = y.k AND j.id %s y.i))", cmp);
    /* present at all? */
    buf_puts(&sql, " UNION ALL SELECT COUNT(*) FROM jobs x WHERE x.id = ?2");
    page_where(&sql, q, "x");
    sqlite3_stmt *st = page_prepare(e, &sql, q);
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 2, id);
    int64_t before = -1, present = 0;
    if (sqlite3_step(st) == SQLITE_ROW)
        before = sqlite3_column_int64(st, 0);
    if (sqlite3_step(st) == SQLITE_ROW)
        present = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return present ? before : -1;
}

int engine_usage_today(struct engine *e, int64_t *tokens, double *cost)
{
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
    tm.tm_isdst = -1;
    int64_t midnight = (int64_t)mktime(&tm) * 1000;
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db_handle(e->db),
                           "SELECT COALESCE(SUM(tokens_in + tokens_out), 0), COALESCE(SUM(cost), 0)"
                           " FROM usage WHERE ts_ms >= ?1", -1, &st, NULL) != SQLITE_OK)
        return -1;
    sqlite3_bind_int64(st, 1, midnight);
    int rc = -1;
    if (sqlite3_step(st) == SQLITE_ROW) {
        *tokens = sqlite3_column_int64(st, 0);
        *cost = sqlite3_column_double(st, 1);
        rc = 0;
    }
    sqlite3_finalize(st);
    return rc;
}

struct qping {
    int done;
    char *error;
};

static void qping_done(void *payload, const char *error)
{
    struct qping *p = payload;
    p->done = 1;
    p->error = error ? xstrdup(error) : NULL;
}

int engine_check_qdrant(struct engine *e, int timeout_ms, struct engine_qdrant_info *out)
{
    if (!e->qdrant)
        return 0;
    memset(out, 0, sizeof *out);
    out->url = e->cfg->memory.qdrant_url;
    struct qping *p = xcalloc(1, sizeof *p);
    int64_t start = util_now_ms(), end = start + timeout_ms;
    qdrant_ping(e->qdrant, qping_done, p);
    while (!p->done && util_now_ms() < end && !e->interrupted)
        loop_run_once(e->loop, (int)(end - util_now_ms()));
    out->latency_ms = util_now_ms() - start;
    if (!p->done) {
        /* the client's own timeout answers later; p stays for it */
        out->error = xasprintf("no answer within %d ms", timeout_ms);
    } else {
        out->healthy = !p->error;
        out->error = p->error;
        free(p);
    }
    out->breaker = qdrant_breaker_state(e->qdrant);
    char *err = NULL;
    out->outbox = qdrant_outbox_depth(e->db, &err);
    free(err);
    return 1;
}

static struct engine_memory_hit *memory_hits_copy(const struct memory_hit *h, size_t n)
{
    struct engine_memory_hit *v = xcalloc(n ? n : 1, sizeof *v);
    for (size_t i = 0; i < n; i++) {
        v[i].id = h[i].entry->id;
        v[i].ns = xstrdup(h[i].entry->ns);
        v[i].text = xstrdup(h[i].entry->text);
        v[i].score = h[i].score;
    }
    return v;
}

static void memory_query_init(struct memory_query *q, const char *text, const char **ns,
                              size_t k)
{
    memset(q, 0, sizeof *q);
    q->text = text;
    q->k = k;
    q->ns = ns;
    q->nns = *ns ? 1 : 0;
    q->mode = MEMORY_HYBRID;
}

int engine_memory_search(struct engine *e, const char *text, const char *ns, size_t k,
                         struct engine_memory_hit **out, size_t *n, char **errmsg)
{
    *out = NULL;
    *n = 0;
    if (!e->memory) {
        *errmsg = xstrdup("the memory store is not open");
        return -1;
    }
    const char *nsv[1] = {ns};
    struct memory_query q;
    memory_query_init(&q, text, nsv, k);
    struct memory_hit *h = NULL;
    size_t nh = 0;
    if (memory_search(e->memory, &q, &h, &nh, errmsg) < 0)
        return -1;
    *out = memory_hits_copy(h, nh);
    *n = nh;
    memory_hits_free(h, nh);
    return 0;
}

struct memory_search_req {
    engine_memory_search_cb cb;
    void *payload;
};

static void memory_search_done(void *payload, struct memory_hit *hits, size_t n,
                               const char *error)
{
    struct memory_search_req *r = payload;
    struct engine_memory_hit *v = error ? NULL : memory_hits_copy(hits, n);
    r->cb(r->payload, v, error ? 0 : n, error);
    free(r);
}

void engine_memory_search_async(struct engine *e, const char *text, const char *ns, size_t k,
                                engine_memory_search_cb cb, void *payload)
{
    if (!e->memory) {
        cb(payload, NULL, 0, "the memory store is not open");
        return;
    }
    struct memory_search_req *r = xcalloc(1, sizeof *r);
    r->cb = cb;
    r->payload = payload;
    const char *nsv[1] = {ns};
    struct memory_query q;
    memory_query_init(&q, text, nsv, k);
    memory_search_async(e->memory, &q, memory_search_done, r);
}

void engine_memory_hits_free(struct engine_memory_hit *h, size_t n)
{
    if (!h)
        return;
    for (size_t i = 0; i < n; i++) {
        free(h[i].ns);
        free(h[i].text);
    }
    free(h);
}

int engine_memory_add(struct engine *e, const char *ns, const char *text, int64_t *id,
                      char **errmsg)
{
    if (!e->memory) {
        *errmsg = xstrdup("the memory store is not open");
        return -1;
    }
    return memory_add(e->memory, ns, text, NULL, 0, id, errmsg);
}

int engine_memory_delete(struct engine *e, int64_t id, char **errmsg)
{
    if (!e->memory) {
        *errmsg = xstrdup("the memory store is not open");
        return -1;
    }
    return memory_delete(e->memory, id, errmsg);
}

const char *engine_memory_default_ns(struct engine *e)
{
    return e->memory ? memory_default_ns(e->memory) : "shared";
}

int engine_memory_counts(struct engine *e, int64_t *entries, int64_t *outbox)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db_handle(e->db),
                           "SELECT (SELECT COUNT(*) FROM memory), (SELECT COUNT(*) FROM outbox)",
                           -1, &st, NULL) != SQLITE_OK)
        return -1;
    int rc = -1;
    if (sqlite3_step(st) == SQLITE_ROW) {
        *entries = sqlite3_column_int64(st, 0);
        *outbox = sqlite3_column_int64(st, 1);
        rc = 0;
    }
    sqlite3_finalize(st);
    return rc;
}
