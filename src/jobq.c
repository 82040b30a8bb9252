/* jobq.c — the durable job queue: a job's lifecycle in SQLite (schema in
 * data/schema/001_init.sql and 002_queue.sql). Dependencies, retry and
 * group submission are in jobq_deps.c, reading in jobq_read.c, results
 * and blobs in jobq_results.c; jobq_int.h is what they share.
 *
 * Every state change is one short transaction (BEGIN IMMEDIATE) on
 * statements prepared once in jobq_open, because a job's lifecycle (submit,
 * claim, complete) is the engine's hot path. A job row moves
 *
 *     queued -> running -> succeeded | failed | cancelled
 *        |         \-> queued (retry after backoff, or jobq_recover)
 *        \-> skipped (a job it needs ended failed, cancelled or skipped)
 *     failed | cancelled | skipped -> queued (jobq_retry, by hand)
 *
 * and each claim opens an `attempts` row (outcome 'running') that the next
 * change closes. An attempt row still 'running' while its job is running is
 * the mark of work in flight: after a crash jobq_recover finds exactly those.
 *
 * A caller that wants fewer commits (one per loop turn rather than three per
 * job) may wrap many calls in db_begin/db_commit: each change then runs in a
 * savepoint of that transaction and is durable only at the caller's commit.
 * Loop thread only. */
#include "jobq.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "db.h"
#include "jobq_int.h"
#include "util.h"

#define FALLBACK_TIMEOUT_MS 300000
#define FALLBACK_ATTEMPTS 3
#define BACKOFF_BASE_MS 500
#define BACKOFF_CAP_MS 60000
#define INTERRUPTED_MSG "interrupted: mcpdeck stopped while the job was running"

/* The statements behind enum jobq_st. Status tests are spelled as OR
 * chains, not IN lists (see the note in 001_init.sql). */
static const char *const st_sql[JQ_ST_COUNT] = {
    [JQ_SP_BEGIN] = "SAVEPOINT jobq",
    [JQ_SP_RELEASE] = "RELEASE jobq",
    [JQ_SP_ROLLBACK] = "ROLLBACK TO jobq",
    [JQ_SUBMIT] =
        "INSERT INTO jobs (key, batch, server, tool, args_json, priority, status, "
        "max_attempts, timeout_ms, run_at_ms, created_ms, idempotency_key, route_json, kind) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'queued', ?7, ?8, ?9, ?10, ?11, ?12, "
        "COALESCE(?13, 'tool'))",
    [JQ_IDEM_FIND] = "SELECT id FROM jobs WHERE idempotency_key = ?1",
    /* Not UPDATE ... RETURNING: that builds a temporary table per call,
     * which costs more than a second statement. The NOT EXISTS walks
     * job_deps' primary key (job_id, needs_id) and each need's row. */
    [JQ_CLAIM] =
        "SELECT " JOB_COLS " FROM jobs WHERE status = 'queued' AND run_at_ms <= ?1 "
        "AND NOT EXISTS (SELECT 1 FROM job_deps d JOIN jobs n ON n.id = d.needs_id "
        "WHERE d.job_id = jobs.id AND n.status <> 'succeeded') "
        "AND mcpdeck_claimable(server) "
        "ORDER BY priority DESC, id LIMIT 1",
    [JQ_START] = "UPDATE jobs SET status = 'running', attempts = attempts + 1, "
                 "started_ms = ?2, finished_ms = NULL, owner = ?3 WHERE id = ?1",
    /* OR REPLACE: a stale row left by a hand-edited database must not
     * wedge the queue on one job forever. */
    [JQ_ATTEMPT_OPEN] = "INSERT OR REPLACE INTO attempts (job_id, n, started_ms, outcome) "
                        "VALUES (?1, ?2, ?3, 'running')",
    [JQ_ATTEMPT_CLOSE] = "UPDATE attempts SET outcome = ?2, finished_ms = ?3, error = ?4 "
                         "WHERE job_id = ?1 AND outcome = 'running'",
    [JQ_SUCCEED] = "UPDATE jobs SET status = 'succeeded', finished_ms = ?2, error = NULL "
                   "WHERE id = ?1 AND status = 'running'",
    [JQ_RESULT_PUT] = "INSERT OR REPLACE INTO results (job_id, kind, mime, size, sha256, "
                      "is_error, body) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    [JQ_RESULT_DEL] = "DELETE FROM results WHERE job_id = ?1",
    [JQ_RESULT_GET] = "SELECT r.job_id IS NOT NULL, r.kind, r.sha256, r.body FROM jobs "
                      "LEFT JOIN results r ON r.job_id = jobs.id WHERE jobs.id = ?1",
    [JQ_STATE] = "SELECT status, attempts, max_attempts FROM jobs WHERE id = ?1",
    [JQ_REQUEUE] = "UPDATE jobs SET status = 'queued', run_at_ms = ?2, error = ?3, "
                   "finished_ms = NULL WHERE id = ?1",
    [JQ_FAIL] = "UPDATE jobs SET status = 'failed', finished_ms = ?2, error = ?3 WHERE id = ?1",
    [JQ_CANCEL] = "UPDATE jobs SET status = 'cancelled', finished_ms = ?2 "
                  "WHERE id = ?1 AND (status = 'queued' OR status = 'running')",
    [JQ_GET] = "SELECT " JOB_COLS ", r.job_id IS NOT NULL, r.mime, r.is_error, r.body, "
               "r.kind, r.size, r.sha256 FROM jobs LEFT JOIN results r ON r.job_id = jobs.id "
               "WHERE jobs.id = ?1",
    [JQ_FIND_KEY] = "SELECT id FROM jobs WHERE batch = ?1 AND key = ?2 "
                    "ORDER BY id DESC LIMIT 1",
    [JQ_FIND_KEY_ANY] = "SELECT id FROM jobs WHERE key = ?1 ORDER BY id DESC LIMIT 1",
    [JQ_LIST] = "SELECT " JOB_COLS " FROM jobs ORDER BY id DESC LIMIT ?1",
    [JQ_COUNTS] = "SELECT status, COUNT(*) FROM jobs GROUP BY status",
    /* ?3: 0 = jobs whose owner process is gone (start-up), 2 = our own
     * (shutdown); a job another live process runs (1) is never touched. */
    [JQ_RECOVER_ATTEMPTS] =
        "UPDATE attempts SET outcome = 'interrupted', error = ?1, finished_ms = ?2 "
        "WHERE outcome = 'running' AND job_id IN (SELECT id FROM jobs WHERE status = 'running' "
        "AND mcpdeck_owner_state(owner) = ?3)",
    [JQ_RECOVER_JOBS] = "UPDATE jobs SET status = 'queued', error = ?1, finished_ms = NULL, "
                        "owner = NULL WHERE status = 'running' "
                        "AND mcpdeck_owner_state(owner) = ?3",
    [JQ_LABEL] = "SELECT " JOBQ_LABEL_SQL ", status FROM jobs WHERE id = ?1",
    [JQ_DEP_ADD] = "INSERT OR IGNORE INTO job_deps (job_id, needs_id) VALUES (?1, ?2)",
    [JQ_BAD_NEED] = "SELECT COALESCE(n.key, '#' || n.id), n.status FROM job_deps d "
                    "JOIN jobs n ON n.id = d.needs_id WHERE d.job_id = ?1 "
                    "AND (n.status = 'failed' OR n.status = 'cancelled' "
                    "OR n.status = 'skipped') ORDER BY d.needs_id LIMIT 1",
    [JQ_DEPENDENTS] = "SELECT d.job_id FROM job_deps d JOIN jobs j ON j.id = d.job_id "
                      "WHERE d.needs_id = ?1 AND j.status = ?2",
    [JQ_SKIP] = "UPDATE jobs SET status = 'skipped', finished_ms = ?2, error = ?3 "
                "WHERE id = ?1 AND status = 'queued'",
    [JQ_UNSKIP] = "UPDATE jobs SET status = 'queued', finished_ms = NULL, error = NULL "
                  "WHERE id = ?1 AND status = 'skipped'",
    [JQ_SET_ERROR] = "UPDATE jobs SET error = ?2 WHERE id = ?1",
    [JQ_RETRY] = "UPDATE jobs SET status = 'queued', run_at_ms = 0, error = NULL, "
                 "finished_ms = NULL, max_attempts = MAX(max_attempts, attempts + 1) "
                 "WHERE id = ?1 AND (status = 'failed' OR status = 'cancelled' "
                 "OR status = 'skipped')",
    [JQ_SET_ROUTE] = "UPDATE jobs SET server = ?2, route_json = ?3 WHERE id = ?1",
    [JQ_SET_PRIORITY] = "UPDATE jobs SET priority = ?2 WHERE id = ?1 AND status = 'queued'",
    [JQ_NEEDS] = "SELECT needs_id FROM job_deps WHERE job_id = ?1 ORDER BY needs_id",
    [JQ_NEEDED_BY] = "SELECT job_id FROM job_deps WHERE needs_id = ?1 ORDER BY job_id",
    [JQ_ATTEMPTS] = "SELECT n, started_ms, finished_ms, outcome, error FROM attempts "
                    "WHERE job_id = ?1 ORDER BY n",
    [JQ_EVENT_ADD] = "INSERT INTO events (job_id, ts_ms, kind, data) VALUES (?1, ?2, ?3, ?4)",
    [JQ_EVENTS] = "SELECT id, job_id, ts_ms, kind, data FROM events "
                  "WHERE job_id = ?1 AND id > ?2 ORDER BY id LIMIT ?3",
};

/* === Statuses === */

static const char *const status_names[JOB_STATUS_COUNT] = {
    [JOB_QUEUED] = "queued",
    [JOB_RUNNING] = "running",
    [JOB_SUCCEEDED] = "succeeded",
    [JOB_FAILED] = "failed",
    [JOB_CANCELLED] = "cancelled",
    [JOB_SKIPPED] = "skipped",
};

const char *job_status_name(enum job_status s)
{
    if ((unsigned)s >= JOB_STATUS_COUNT)
        return "unknown";
    return status_names[s];
}

int job_status_parse(const char *s, enum job_status *out)
{
    for (int i = 0; s && i < JOB_STATUS_COUNT; i++)
        if (strcmp(s, status_names[i]) == 0) {
            *out = (enum job_status)i;
            return 0;
        }
    return -1;
}

void job_fini(struct job *j)
{
    if (!j)
        return;
    free(j->key);
    free(j->batch);
    free(j->server);
    free(j->tool);
    free(j->args_json);
    free(j->error);
    free(j->result);
    free(j->result_mime);
    free(j->idempotency_key);
    free(j->result_sha256);
    free(j->route_json);
    free(j->kind);
    memset(j, 0, sizeof *j);
}

/* === Helpers shared by the jobq files === */

char *jobq_col_text(sqlite3_stmt *st, int i)
{
    return xstrdup((const char *)sqlite3_column_text(st, i));
}

/* Fill *j from the JOB_COLS columns of the current row. */
void jobq_fill_job(sqlite3_stmt *st, struct job *j)
{
    memset(j, 0, sizeof *j);
    j->id = sqlite3_column_int64(st, 0);
    j->key = jobq_col_text(st, 1);
    j->batch = jobq_col_text(st, 2);
    j->server = jobq_col_text(st, 3);
    j->tool = jobq_col_text(st, 4);
    j->args_json = jobq_col_text(st, 5);
    j->priority = sqlite3_column_int(st, 6);
    /* The schema's CHECK admits only the names we know. */
    if (job_status_parse((const char *)sqlite3_column_text(st, 7), &j->status) < 0)
        j->status = JOB_CANCELLED;
    j->attempts = sqlite3_column_int(st, 8);
    j->max_attempts = sqlite3_column_int(st, 9);
    j->timeout_ms = sqlite3_column_int(st, 10);
    j->created_ms = sqlite3_column_int64(st, 11);
    j->started_ms = sqlite3_column_int64(st, 12);     /* NULL reads as 0 */
    j->finished_ms = sqlite3_column_int64(st, 13);
    j->error = jobq_col_text(st, 14);
    j->run_at_ms = sqlite3_column_int64(st, 15);
    j->idempotency_key = jobq_col_text(st, 16);
    j->route_json = jobq_col_text(st, 17);
    j->kind = jobq_col_text(st, 18);
}

/* Step a statement that returns no rows, then reset it. 0 or -1. */
int jobq_step_done(sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

void jobq_bind_text_or_null(sqlite3_stmt *st, int i, const char *s)
{
    if (s)
        sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, i);
}

static uint64_t rng_next(struct jobq *q)
{
    q->rng ^= q->rng >> 12;
    q->rng ^= q->rng << 25;
    q->rng ^= q->rng >> 27;
    return q->rng * 0x2545F4914F6CDD1DULL;
}

/* Delay before retry number `attempts` (attempts already made, >= 1):
 * 500 ms doubling per attempt, +/-20 % jitter so jobs that failed
 * together do not come back together, never more than 60 s. Past the cap a
 * draw above 60 s is reflected below it (so 48..60 s there): clamping it
 * would bunch every job at the cap onto the same 60 s, which is when
 * jitter matters most. */
static int64_t backoff_ms(struct jobq *q, int attempts)
{
    int64_t base = BACKOFF_BASE_MS;
    for (int i = 1; i < attempts && base < BACKOFF_CAP_MS; i++)
        base *= 2;
    if (base > BACKOFF_CAP_MS)
        base = BACKOFF_CAP_MS;
    double u = (double)(rng_next(q) >> 11) / (double)(1ULL << 53);   /* [0, 1) */
    int64_t d = (int64_t)((double)base * (0.8 + 0.4 * u));
    return d > BACKOFF_CAP_MS ? 2 * BACKOFF_CAP_MS - d : d;
}

/* Close the job's open attempt with an outcome. */
static int attempt_close(struct jobq *q, int64_t id, const char *outcome, int64_t now,
                         const char *error)
{
    sqlite3_stmt *st = q->st[JQ_ATTEMPT_CLOSE];
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_text(st, 2, outcome, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, now);
    jobq_bind_text_or_null(st, 4, error);
    return jobq_step_done(st);
}

/* Each change is one transaction of its own, or, when the caller already
 * holds one (db_begin ... db_commit around many calls, to commit a whole
 * loop turn at once), a savepoint inside it, so that a change that fails
 * still undoes only itself. */
int jobq_tx_begin(struct jobq *q)
{
    q->nested = !sqlite3_get_autocommit(q->h);
    return q->nested ? jobq_step_done(q->st[JQ_SP_BEGIN]) : db_begin(q->db);
}

void jobq_note_change(struct jobq *q, int64_t id, enum job_status status)
{
    if (!q->change_cb)
        return;
    if (q->nfx == q->capfx) {
        q->capfx = q->capfx ? q->capfx * 2 : 16;
        q->fx = xrealloc(q->fx, q->capfx * sizeof *q->fx);
    }
    q->fx[q->nfx++] = (struct jobq_fx){id, status};
}

int jobq_tx_commit(struct jobq *q)
{
    int rc = q->nested ? jobq_step_done(q->st[JQ_SP_RELEASE]) : db_commit(q->db);
    if (rc < 0 || q->nfx == 0)
        return rc;
    /* Taken first: a callback that reads the queue sees a clean state. */
    struct jobq_fx *fx = q->fx;
    size_t n = q->nfx;
    q->fx = NULL;
    q->nfx = q->capfx = 0;
    for (size_t i = 0; i < n; i++)
        if (q->change_cb)
            q->change_cb(q->change_payload, fx[i].id, fx[i].status);
    free(fx);
    return 0;
}

void jobq_tx_rollback(struct jobq *q)
{
    q->nfx = 0;
    if (!q->nested) {
        db_rollback(q->db);
    } else if (!sqlite3_get_autocommit(q->h)) {
        jobq_step_done(q->st[JQ_SP_ROLLBACK]);
        jobq_step_done(q->st[JQ_SP_RELEASE]);
    }
}

/* === Open and close === */

/* Prepare the queue's statements on db (which must outlive the queue).
 * default_timeout_ms and default_attempts apply to specs that leave theirs
 * at 0; values <= 0 here fall back to 300 s and 3 attempts. Results above
 * 64 KiB go to "blobs" beside the database file (jobq_set_blob_store
 * changes that). Returns 0 and an owned *out, or -1 (the schema is
 * missing: see sqlite3_errmsg). */
/* === Owners === */

/* A process's start time in clock ticks since boot (/proc/PID/stat field
 * 22), or 0 if it does not exist. With the pid it names a process for good:
 * a reused pid has another start time. */
static unsigned long long proc_start(long pid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%ld/stat", pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    char *p = strrchr(buf, ')');   /* the command name may hold spaces */
    if (!p)
        return 0;
    unsigned long long start = 0;
    /* after ") " come fields 3..; starttime is field 22 */
    if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d "
                      "%*d %*d %llu", &start) != 1)
        return 0;
    return start;
}

/* SQL mcpdeck_owner_state(owner): 0 the owner is gone (or none), 1 another
 * live process, 2 this process. */
static void owner_state(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    const char *o = (const char *)sqlite3_value_text(argv[0]);
    const char *me = sqlite3_user_data(ctx);
    long pid;
    unsigned long long start;
    if (!o || sscanf(o, "%ld:%llu", &pid, &start) != 2) {
        sqlite3_result_int(ctx, 0);
        return;
    }
    if (strcmp(o, me) == 0)
        sqlite3_result_int(ctx, 2);
    else
        sqlite3_result_int(ctx, pid > 0 && proc_start(pid) == start ? 1 : 0);
}

/* SQL mcpdeck_claimable(server): the owner's claim filter, or true. */
static void claimable(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    struct jobq *q = sqlite3_user_data(ctx);
    const char *server = (const char *)sqlite3_value_text(argv[0]);
    sqlite3_result_int(ctx, !q->claim_ok || !server || q->claim_ok(q->claim_payload, server));
}

void jobq_set_claim_filter(struct jobq *q, int (*ok)(void *payload, const char *server),
                           void *payload)
{
    q->claim_ok = ok;
    q->claim_payload = payload;
}

int jobq_open(struct db *db, int default_timeout_ms, int default_attempts, struct jobq **out)
{
    struct jobq *q = xcalloc(1, sizeof *q);
    q->db = db;
    q->h = db_handle(db);
    q->default_timeout_ms = default_timeout_ms > 0 ? default_timeout_ms : FALLBACK_TIMEOUT_MS;
    q->default_attempts = default_attempts > 0 ? default_attempts : FALLBACK_ATTEMPTS;
    q->rng = (uint64_t)util_now_us() ^ ((uint64_t)getpid() << 32) ^ (uint64_t)(uintptr_t)q;
    if (!q->rng)
        q->rng = 0x9E3779B97F4A7C15ULL;
    *out = NULL;
    snprintf(q->owner, sizeof q->owner, "%ld:%llu", (long)getpid(), proc_start(getpid()));
    if (sqlite3_create_function(q->h, "mcpdeck_owner_state", 1, SQLITE_UTF8, q->owner,
                                owner_state, NULL, NULL) != SQLITE_OK ||
        sqlite3_create_function(q->h, "mcpdeck_claimable", 1, SQLITE_UTF8, q, claimable, NULL,
                                NULL) != SQLITE_OK) {
        free(q);
        return -1;
    }
    for (int i = 0; i < JQ_ST_COUNT; i++)
        if (sqlite3_prepare_v3(q->h, st_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &q->st[i], NULL)
            != SQLITE_OK) {
            jobq_close(q);
            return -1;
        }
    jobq_blobs_init(q);
    *out = q;
    return 0;
}

void jobq_close(struct jobq *q)
{
    if (!q)
        return;
    for (int i = 0; i < JQ_ST_COUNT; i++)
        sqlite3_finalize(q->st[i]);
    free(q->fx);
    free(q->blob_dir);
    free(q);
}

void jobq_set_change_cb(struct jobq *q, jobq_change_cb cb, void *payload)
{
    q->change_cb = cb;
    q->change_payload = payload;
    q->nfx = 0;
}

/* === Submitting === */

int jobq_spec_check(const struct jobq_spec *spec, char **errmsg)
{
    int routed = (spec->route_json || (spec->kind && strcmp(spec->kind, "model") == 0)) &&
                 (!spec->server || !*spec->server);
    if ((!routed && (!spec->server || !*spec->server)) || !spec->tool || !*spec->tool) {
        *errmsg = xasprintf("a tool task needs a server and a tool (got \"%s.%s\")",
                            spec->server ? spec->server : "", spec->tool ? spec->tool : "");
        return -1;
    }
    const char *srv = routed ? "(routed)" : spec->server;
    if (routed && spec->route_json) {
        cJSON *r = cJSON_Parse(spec->route_json);
        int ok = cJSON_IsObject(r);
        cJSON_Delete(r);
        if (!ok) {
            *errmsg = xasprintf("(routed).%s: the route request must be a JSON object",
                                spec->tool);
            return -1;
        }
    }
    if (spec->timeout_ms < 0 || spec->max_attempts < 0 || spec->run_at_ms < 0 ||
        spec->delay_ms < 0) {
        *errmsg = xasprintf("%s.%s: timeout, attempts, run_at and delay must not be negative",
                            srv, spec->tool);
        return -1;
    }
    if ((spec->nneeds && !spec->needs) || (spec->nneeds_keys && !spec->needs_keys)) {
        *errmsg = xasprintf("%s.%s: needs counted but not given", srv, spec->tool);
        return -1;
    }
    if (spec->idempotency_key && !*spec->idempotency_key) {
        *errmsg = xasprintf("%s.%s: the idempotency key is empty", srv, spec->tool);
        return -1;
    }
    if (!spec->args_json)
        return 0;
    const char *end = NULL;
    cJSON *args = cJSON_ParseWithOpts(spec->args_json, &end, 1);
    if (!args) {
        size_t off = end && end >= spec->args_json ? (size_t)(end - spec->args_json) : 0;
        *errmsg = xasprintf("%s.%s: arguments are not valid JSON (at offset %zu): %.60s",
                            srv, spec->tool, off, spec->args_json);
        return -1;
    }
    int is_object = cJSON_IsObject(args);
    cJSON_Delete(args);
    if (!is_object) {
        *errmsg = xasprintf("%s.%s: arguments must be a JSON object like {\"path\": \"x\"}, "
                            "got: %.60s", srv, spec->tool, spec->args_json);
        return -1;
    }
    return 0;
}

int jobq_insert(struct jobq *q, const struct jobq_spec *spec, int64_t now, int64_t *id,
                int *created, char **errmsg)
{
    *created = 0;
    if (spec->idempotency_key) {
        sqlite3_stmt *st = q->st[JQ_IDEM_FIND];
        sqlite3_bind_text(st, 1, spec->idempotency_key, -1, SQLITE_STATIC);
        int rc = sqlite3_step(st);
        if (rc == SQLITE_ROW)
            *id = sqlite3_column_int64(st, 0);
        sqlite3_reset(st);
        if (rc == SQLITE_ROW)
            return 0;
        if (rc != SQLITE_DONE)
            goto fail;
    }
    sqlite3_stmt *st = q->st[JQ_SUBMIT];
    jobq_bind_text_or_null(st, 1, spec->key);
    jobq_bind_text_or_null(st, 2, spec->batch);
    jobq_bind_text_or_null(st, 3, spec->server && *spec->server ? spec->server : NULL);
    sqlite3_bind_text(st, 4, spec->tool, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, spec->args_json ? spec->args_json : "{}", -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 6, spec->priority);
    sqlite3_bind_int(st, 7, spec->max_attempts ? spec->max_attempts : q->default_attempts);
    sqlite3_bind_int(st, 8, spec->timeout_ms ? spec->timeout_ms : q->default_timeout_ms);
    sqlite3_bind_int64(st, 9, spec->run_at_ms ? spec->run_at_ms
                              : spec->delay_ms > 0 ? now + spec->delay_ms : 0);
    sqlite3_bind_int64(st, 10, now);
    jobq_bind_text_or_null(st, 11, spec->idempotency_key);
    jobq_bind_text_or_null(st, 12, spec->route_json);
    jobq_bind_text_or_null(st, 13, spec->kind);
    if (jobq_step_done(st) < 0)
        goto fail;
    *id = sqlite3_last_insert_rowid(q->h);
    *created = 1;
    return 0;
fail:
    *errmsg = xasprintf("cannot queue %s.%s: %s",
                        spec->server && *spec->server ? spec->server : "(routed)", spec->tool,
                        sqlite3_errmsg(q->h));
    return -1;
}

/* A plain spec (no needs, no idempotency key) is one INSERT, which needs
 * no transaction of its own; anything else goes through jobq_submit_many. */
int jobq_submit(struct jobq *q, const struct jobq_spec *spec, int64_t *id, char **errmsg)
{
    if (spec->idempotency_key || spec->nneeds || spec->nneeds_keys)
        return jobq_submit_many(q, spec, 1, id, NULL, errmsg);
    if (jobq_spec_check(spec, errmsg) < 0)
        return -1;
    int created;
    return jobq_insert(q, spec, util_wall_ms(), id, &created, errmsg);
}

/* === Claiming === */

/* *out is overwritten (not freed first). */
int jobq_claim(struct jobq *q, struct job *out)
{
    memset(out, 0, sizeof *out);
    int64_t now = util_wall_ms();
    if (jobq_tx_begin(q) < 0)
        return -1;
    sqlite3_stmt *st = q->st[JQ_CLAIM];
    sqlite3_bind_int64(st, 1, now);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        jobq_fill_job(st, out);
    sqlite3_reset(st);
    if (rc == SQLITE_DONE) {
        jobq_tx_rollback(q);
        return 0;
    }
    if (rc != SQLITE_ROW)
        goto fail;
    st = q->st[JQ_START];
    sqlite3_bind_int64(st, 1, out->id);
    sqlite3_bind_int64(st, 2, now);
    sqlite3_bind_text(st, 3, q->owner, -1, SQLITE_STATIC);
    if (jobq_step_done(st) < 0)
        goto fail;
    out->status = JOB_RUNNING;
    out->attempts++;
    out->started_ms = now;
    out->finished_ms = 0;
    st = q->st[JQ_ATTEMPT_OPEN];
    sqlite3_bind_int64(st, 1, out->id);
    sqlite3_bind_int(st, 2, out->attempts);
    sqlite3_bind_int64(st, 3, now);
    if (jobq_step_done(st) < 0 || jobq_tx_commit(q) < 0)
        goto fail;
    return 1;
fail:
    jobq_tx_rollback(q);
    job_fini(out);
    return -1;
}

/* === Finishing === */

/* Returns 0, or -1 if the job is not running (e.g. it was cancelled) or the
 * database failed. Clears the job's error: the attempts keep the history. */
int jobq_complete(struct jobq *q, int64_t id, const char *result, size_t len,
                  const char *mime, int is_error)
{
    int64_t now = util_wall_ms();
    if (jobq_tx_begin(q) < 0)
        return -1;
    sqlite3_stmt *st = q->st[JQ_SUCCEED];
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int64(st, 2, now);
    if (jobq_step_done(st) < 0 || sqlite3_changes(q->h) == 0)
        goto fail;
    if (attempt_close(q, id, "succeeded", now, NULL) < 0
        || jobq_result_put(q, id, result, len, mime, is_error) < 0 || jobq_tx_commit(q) < 0)
        goto fail;
    return 0;
fail:
    jobq_tx_rollback(q);
    return -1;
}

/* Returns 0, or -1 if the job is not running or the database failed.
 * A requeued job runs again after the backoff (see backoff_ms); a result
 * given with a retried attempt is dropped, one given with the final
 * attempt is stored marked is_error. A final failure skips the jobs that
 * need this one. */
int jobq_fail(struct jobq *q, int64_t id, const char *error, int retry,
              const char *result, size_t len, const char *mime, int *requeued)
{
    int64_t now = util_wall_ms();
    if (requeued)
        *requeued = 0;
    if (!error || !*error)
        error = "failed";
    if (jobq_tx_begin(q) < 0)
        return -1;
    sqlite3_stmt *st = q->st[JQ_STATE];
    sqlite3_bind_int64(st, 1, id);
    int running = 0, attempts = 0, max_attempts = 0;
    if (sqlite3_step(st) == SQLITE_ROW) {
        running = strcmp((const char *)sqlite3_column_text(st, 0), "running") == 0;
        attempts = sqlite3_column_int(st, 1);
        max_attempts = sqlite3_column_int(st, 2);
    }
    sqlite3_reset(st);
    if (!running || attempt_close(q, id, "failed", now, error) < 0)
        goto fail;
    int again = retry && attempts < max_attempts;
    if (again) {
        st = q->st[JQ_REQUEUE];
        sqlite3_bind_int64(st, 2, now + backoff_ms(q, attempts));
    } else {
        st = q->st[JQ_FAIL];
        sqlite3_bind_int64(st, 2, now);
    }
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_text(st, 3, error, -1, SQLITE_STATIC);
    if (jobq_step_done(st) < 0)
        goto fail;
    if (!again && result && jobq_result_put(q, id, result, len, mime, 1) < 0)
        goto fail;
    if (!again && jobq_skip_dependents(q, id, now) < 0)
        goto fail;
    if (jobq_tx_commit(q) < 0)
        goto fail;
    if (requeued)
        *requeued = again;
    return 0;
fail:
    jobq_tx_rollback(q);
    return -1;
}

/* Returns 0 when the job was queued or running and is now cancelled (a
 * running attempt is closed as 'cancelled'; the jobs that need it are
 * skipped), -1 when there is nothing to cancel (no such job, or it already
 * finished) or the database failed. */
int jobq_cancel(struct jobq *q, int64_t id)
{
    int64_t now = util_wall_ms();
    if (jobq_tx_begin(q) < 0)
        return -1;
    sqlite3_stmt *st = q->st[JQ_CANCEL];
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int64(st, 2, now);
    if (jobq_step_done(st) < 0 || sqlite3_changes(q->h) == 0)
        goto fail;
    if (attempt_close(q, id, "cancelled", now, "cancelled") < 0
        || jobq_skip_dependents(q, id, now) < 0 || jobq_tx_commit(q) < 0)
        goto fail;
    return 0;
fail:
    jobq_tx_rollback(q);
    return -1;
}

/* === Recovery === */

/* Every running job goes back to queued, ready at once; its open attempt is
 * closed as 'interrupted'. attempts is not given back, so the next claim
 * counts a new attempt, but an interrupted job is requeued even when that
 * leaves it at or past max_attempts: the interruption was mcpdeck's doing,
 * not the job's (the next failure then ends it without retry). Returns 0 or
 * -1; *requeued gets the number of jobs requeued. */
static int recover(struct jobq *q, int which, int *requeued)
{
    int64_t now = util_wall_ms();
    if (requeued)
        *requeued = 0;
    if (jobq_tx_begin(q) < 0)
        return -1;
    sqlite3_stmt *st = q->st[JQ_RECOVER_ATTEMPTS];
    sqlite3_bind_text(st, 1, INTERRUPTED_MSG, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, now);
    sqlite3_bind_int(st, 3, which);
    if (jobq_step_done(st) < 0)
        goto fail;
    st = q->st[JQ_RECOVER_JOBS];
    sqlite3_bind_text(st, 1, INTERRUPTED_MSG, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 3, which);
    if (jobq_step_done(st) < 0)
        goto fail;
    int n = sqlite3_changes(q->h);
    if (jobq_tx_commit(q) < 0)
        goto fail;
    if (requeued)
        *requeued = n;
    return 0;
fail:
    jobq_tx_rollback(q);
    return -1;
}

int jobq_recover(struct jobq *q, int *requeued)
{
    return recover(q, 0, requeued);
}

int jobq_release(struct jobq *q, int *requeued)
{
    return recover(q, 2, requeued);
}
