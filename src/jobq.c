/* jobq.c — the durable job queue: jobs, their attempts and their results in
 * SQLite (schema in data/schema/001_init.sql).
 *
 * Every state change is one short transaction (BEGIN IMMEDIATE) on
 * statements prepared once in jobq_open, because a job's lifecycle (submit,
 * claim, complete) is the engine's hot path. A job row moves
 *
 *     queued -> running -> succeeded | failed | cancelled
 *                  \-> queued (retry after backoff, or jobq_recover)
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
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "db.h"
#include "util.h"

#define FALLBACK_TIMEOUT_MS 300000
#define FALLBACK_ATTEMPTS 3
#define BACKOFF_BASE_MS 500
#define BACKOFF_CAP_MS 60000
#define INTERRUPTED_MSG "interrupted: mcpdeck stopped while the job was running"

/* The columns fill_job reads, in its order. */
#define JOB_COLS "id, key, batch, server, tool, args_json, priority, status, attempts, " \
                 "max_attempts, timeout_ms, created_ms, started_ms, finished_ms, error"
#define JOB_NCOLS 15

struct jobq {
    struct db *db;
    sqlite3 *h;
    int default_timeout_ms;
    int default_attempts;
    uint64_t rng;              /* xorshift state for backoff jitter */
    int nested;                /* the current change runs in a savepoint */
    sqlite3_stmt *sp_begin, *sp_release, *sp_rollback;
    sqlite3_stmt *submit;
    sqlite3_stmt *claim;
    sqlite3_stmt *start;
    sqlite3_stmt *attempt_open;
    sqlite3_stmt *attempt_close;
    sqlite3_stmt *succeed;
    sqlite3_stmt *result_put;
    sqlite3_stmt *state;
    sqlite3_stmt *requeue;
    sqlite3_stmt *fail;
    sqlite3_stmt *cancel;
    sqlite3_stmt *get;
    sqlite3_stmt *find_key;
    sqlite3_stmt *find_key_any;
    sqlite3_stmt *list;
    sqlite3_stmt *counts;
    sqlite3_stmt *recover_attempts;
    sqlite3_stmt *recover_jobs;
};

/* === Statuses === */

static const char *const status_names[JOB_STATUS_COUNT] = {
    [JOB_QUEUED] = "queued",
    [JOB_RUNNING] = "running",
    [JOB_SUCCEEDED] = "succeeded",
    [JOB_FAILED] = "failed",
    [JOB_CANCELLED] = "cancelled",
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
    memset(j, 0, sizeof *j);
}

/* === Helpers === */

static char *col_text(sqlite3_stmt *st, int i)
{
    return xstrdup((const char *)sqlite3_column_text(st, i));
}

/* Fill *j from the JOB_COLS columns of the current row. */
static void fill_job(sqlite3_stmt *st, struct job *j)
{
    memset(j, 0, sizeof *j);
    j->id = sqlite3_column_int64(st, 0);
    j->key = col_text(st, 1);
    j->batch = col_text(st, 2);
    j->server = col_text(st, 3);
    j->tool = col_text(st, 4);
    j->args_json = col_text(st, 5);
    j->priority = sqlite3_column_int(st, 6);
    /* 'skipped' has no enum value yet: to a reader it is a job that ended
     * without running, which is what cancelled means. */
    if (job_status_parse((const char *)sqlite3_column_text(st, 7), &j->status) < 0)
        j->status = JOB_CANCELLED;
    j->attempts = sqlite3_column_int(st, 8);
    j->max_attempts = sqlite3_column_int(st, 9);
    j->timeout_ms = sqlite3_column_int(st, 10);
    j->created_ms = sqlite3_column_int64(st, 11);
    j->started_ms = sqlite3_column_int64(st, 12);     /* NULL reads as 0 */
    j->finished_ms = sqlite3_column_int64(st, 13);
    j->error = col_text(st, 14);
}

/* Step a statement that returns no rows, then reset it. 0 or -1. */
static int step_done(sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

static void bind_text_or_null(sqlite3_stmt *st, int i, const char *s)
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
 * 500 ms doubling per attempt, capped at 60 s, then +/-20 % jitter so jobs
 * that failed together do not come back together. The jitter is applied
 * after the cap (so 48..72 s there): clamping it would bunch every job at
 * the cap onto the same 60 s, which is when jitter matters most. */
static int64_t backoff_ms(struct jobq *q, int attempts)
{
    int64_t base = BACKOFF_BASE_MS;
    for (int i = 1; i < attempts && base < BACKOFF_CAP_MS; i++)
        base *= 2;
    if (base > BACKOFF_CAP_MS)
        base = BACKOFF_CAP_MS;
    double u = (double)(rng_next(q) >> 11) / (double)(1ULL << 53);   /* [0, 1) */
    return (int64_t)((double)base * (0.8 + 0.4 * u));
}

/* Lowercase hex SHA-256 of data into hex[65]. 0 or -1. */
static int sha256_hex(const void *data, size_t len, char hex[65])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    if (EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL) != 1 || mdlen != 32)
        return -1;
    static const char digits[] = "0123456789abcdef";
    for (unsigned int i = 0; i < mdlen; i++) {
        hex[2 * i] = digits[md[i] >> 4];
        hex[2 * i + 1] = digits[md[i] & 15];
    }
    hex[64] = '\0';
    return 0;
}

/* Store a job's output inline in `results` (replacing any earlier row). */
static int result_put(struct jobq *q, int64_t id, const char *data, size_t len,
                      const char *mime, int is_error)
{
    char hex[65];
    if (!data)
        data = "";
    sqlite3_stmt *st = q->result_put;
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_text(st, 2, mime ? mime : "text/plain", -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)len);
    if (sha256_hex(data, len, hex) == 0)
        sqlite3_bind_text(st, 4, hex, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(st, 4);
    sqlite3_bind_int(st, 5, is_error ? 1 : 0);
    sqlite3_bind_blob64(st, 6, data, (sqlite3_uint64)len, SQLITE_STATIC);
    return step_done(st);
}

/* Close the job's open attempt with an outcome. */
static int attempt_close(struct jobq *q, int64_t id, const char *outcome, int64_t now,
                         const char *error)
{
    sqlite3_stmt *st = q->attempt_close;
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_text(st, 2, outcome, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, now);
    bind_text_or_null(st, 4, error);
    return step_done(st);
}

/* Each change is one transaction of its own, or, when the caller already
 * holds one (db_begin ... db_commit around many calls, to commit a whole
 * loop turn at once), a savepoint inside it, so that a change that fails
 * still undoes only itself. */
static int tx_begin(struct jobq *q)
{
    q->nested = !sqlite3_get_autocommit(q->h);
    return q->nested ? step_done(q->sp_begin) : db_begin(q->db);
}

/* On failure the change is still open: call tx_rollback. */
static int tx_commit(struct jobq *q)
{
    return q->nested ? step_done(q->sp_release) : db_commit(q->db);
}

static void tx_rollback(struct jobq *q)
{
    if (!q->nested) {
        db_rollback(q->db);
    } else if (!sqlite3_get_autocommit(q->h)) {
        step_done(q->sp_rollback);
        step_done(q->sp_release);
    }
}

/* === Open and close === */

static int prepare(struct jobq *q, const char *sql, sqlite3_stmt **st)
{
    return sqlite3_prepare_v3(q->h, sql, -1, SQLITE_PREPARE_PERSISTENT, st, NULL) == SQLITE_OK
               ? 0 : -1;
}

/* Prepare the queue's statements on db (which must outlive the queue).
 * default_timeout_ms and default_attempts apply to specs that leave theirs
 * at 0; values <= 0 here fall back to 300 s and 3 attempts. Returns 0 and
 * an owned *out, or -1 (the schema is missing: see sqlite3_errmsg). */
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
    if (prepare(q, "SAVEPOINT jobq", &q->sp_begin) < 0
        || prepare(q, "RELEASE jobq", &q->sp_release) < 0
        || prepare(q, "ROLLBACK TO jobq", &q->sp_rollback) < 0
        || prepare(q, "INSERT INTO jobs (key, batch, server, tool, args_json, priority, status, "
                   "max_attempts, timeout_ms, run_at_ms, created_ms) "
                   "VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'queued', ?7, ?8, 0, ?9)", &q->submit) < 0
        /* Not UPDATE ... RETURNING: that builds a temporary table per call,
         * which costs more than a second statement. */
        || prepare(q, "SELECT " JOB_COLS " FROM jobs WHERE status = 'queued' "
                      "AND run_at_ms <= ?1 ORDER BY priority DESC, id LIMIT 1", &q->claim) < 0
        || prepare(q, "UPDATE jobs SET status = 'running', attempts = attempts + 1, "
                      "started_ms = ?2, finished_ms = NULL WHERE id = ?1", &q->start) < 0
        /* OR REPLACE: a stale row left by a hand-edited database must not
         * wedge the queue on one job forever. */
        || prepare(q, "INSERT OR REPLACE INTO attempts (job_id, n, started_ms, outcome) "
                      "VALUES (?1, ?2, ?3, 'running')", &q->attempt_open) < 0
        || prepare(q, "UPDATE attempts SET outcome = ?2, finished_ms = ?3, error = ?4 "
                      "WHERE job_id = ?1 AND outcome = 'running'", &q->attempt_close) < 0
        || prepare(q, "UPDATE jobs SET status = 'succeeded', finished_ms = ?2, error = NULL "
                      "WHERE id = ?1 AND status = 'running'", &q->succeed) < 0
        || prepare(q, "INSERT OR REPLACE INTO results (job_id, kind, mime, size, sha256, "
                      "is_error, body) VALUES (?1, 'inline', ?2, ?3, ?4, ?5, ?6)",
                   &q->result_put) < 0
        || prepare(q, "SELECT status, attempts, max_attempts FROM jobs WHERE id = ?1",
                   &q->state) < 0
        || prepare(q, "UPDATE jobs SET status = 'queued', run_at_ms = ?2, error = ?3, "
                      "finished_ms = NULL WHERE id = ?1", &q->requeue) < 0
        || prepare(q, "UPDATE jobs SET status = 'failed', finished_ms = ?2, error = ?3 "
                      "WHERE id = ?1", &q->fail) < 0
        || prepare(q, "UPDATE jobs SET status = 'cancelled', finished_ms = ?2 "
                      "WHERE id = ?1 AND status IN ('queued', 'running')", &q->cancel) < 0
        || prepare(q, "SELECT " JOB_COLS ", r.job_id IS NOT NULL, r.mime, r.is_error, r.body "
                      "FROM jobs LEFT JOIN results r ON r.job_id = jobs.id "
                      "WHERE jobs.id = ?1", &q->get) < 0
        || prepare(q, "SELECT id FROM jobs WHERE batch = ?1 AND key = ?2 "
                      "ORDER BY id DESC LIMIT 1", &q->find_key) < 0
        || prepare(q, "SELECT id FROM jobs WHERE key = ?1 ORDER BY id DESC LIMIT 1",
                   &q->find_key_any) < 0
        || prepare(q, "SELECT " JOB_COLS " FROM jobs ORDER BY id DESC LIMIT ?1", &q->list) < 0
        || prepare(q, "SELECT status, COUNT(*) FROM jobs GROUP BY status", &q->counts) < 0
        || prepare(q, "UPDATE attempts SET outcome = 'interrupted', error = ?1, "
                      "finished_ms = ?2 WHERE outcome = 'running' AND job_id IN "
                      "(SELECT id FROM jobs WHERE status = 'running')",
                   &q->recover_attempts) < 0
        || prepare(q, "UPDATE jobs SET status = 'queued', error = ?1, finished_ms = NULL "
                      "WHERE status = 'running'", &q->recover_jobs) < 0) {
        jobq_close(q);
        return -1;
    }
    *out = q;
    return 0;
}

void jobq_close(struct jobq *q)
{
    if (!q)
        return;
    sqlite3_stmt **all[] = {
        &q->submit, &q->claim, &q->start, &q->attempt_open, &q->attempt_close, &q->succeed,
        &q->result_put, &q->state, &q->requeue, &q->fail, &q->cancel, &q->get,
        &q->find_key, &q->find_key_any, &q->list, &q->counts, &q->recover_attempts,
        &q->recover_jobs, &q->sp_begin, &q->sp_release, &q->sp_rollback,
    };
    for (size_t i = 0; i < ARRAY_LEN(all); i++)
        sqlite3_finalize(*all[i]);
    free(q);
}

/* === Submit and claim === */

/* Check a spec; *errmsg says what is wrong with it. */
static int spec_check(const struct jobq_spec *spec, char **errmsg)
{
    if (!spec->server || !*spec->server || !spec->tool || !*spec->tool) {
        *errmsg = xasprintf("a tool task needs a server and a tool (got \"%s.%s\")",
                            spec->server ? spec->server : "", spec->tool ? spec->tool : "");
        return -1;
    }
    if (spec->timeout_ms < 0 || spec->max_attempts < 0) {
        *errmsg = xasprintf("%s.%s: timeout and attempts must not be negative", spec->server,
                            spec->tool);
        return -1;
    }
    if (!spec->args_json)
        return 0;
    const char *end = NULL;
    cJSON *args = cJSON_ParseWithOpts(spec->args_json, &end, 1);
    if (!args) {
        size_t off = end && end >= spec->args_json ? (size_t)(end - spec->args_json) : 0;
        *errmsg = xasprintf("%s.%s: arguments are not valid JSON (at offset %zu): %.60s",
                            spec->server, spec->tool, off, spec->args_json);
        return -1;
    }
    int is_object = cJSON_IsObject(args);
    cJSON_Delete(args);
    if (!is_object) {
        *errmsg = xasprintf("%s.%s: arguments must be a JSON object like {\"path\": \"x\"}, "
                            "got: %.60s", spec->server, spec->tool, spec->args_json);
        return -1;
    }
    return 0;
}

int jobq_submit(struct jobq *q, const struct jobq_spec *spec, int64_t *id, char **errmsg)
{
    if (spec_check(spec, errmsg) < 0)
        return -1;
    sqlite3_stmt *st = q->submit;
    bind_text_or_null(st, 1, spec->key);
    bind_text_or_null(st, 2, spec->batch);
    sqlite3_bind_text(st, 3, spec->server, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, spec->tool, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, spec->args_json ? spec->args_json : "{}", -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 6, spec->priority);
    sqlite3_bind_int(st, 7, spec->max_attempts ? spec->max_attempts : q->default_attempts);
    sqlite3_bind_int(st, 8, spec->timeout_ms ? spec->timeout_ms : q->default_timeout_ms);
    sqlite3_bind_int64(st, 9, util_wall_ms());
    if (step_done(st) < 0) {
        *errmsg = xasprintf("cannot queue %s.%s: %s", spec->server, spec->tool,
                            sqlite3_errmsg(q->h));
        return -1;
    }
    *id = sqlite3_last_insert_rowid(q->h);
    return 0;
}

/* *out is overwritten (not freed first). */
int jobq_claim(struct jobq *q, struct job *out)
{
    memset(out, 0, sizeof *out);
    int64_t now = util_wall_ms();
    if (tx_begin(q) < 0)
        return -1;
    sqlite3_stmt *st = q->claim;
    sqlite3_bind_int64(st, 1, now);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        fill_job(st, out);
    sqlite3_reset(st);
    if (rc == SQLITE_DONE) {
        tx_rollback(q);
        return 0;
    }
    if (rc != SQLITE_ROW)
        goto fail;
    sqlite3_bind_int64(q->start, 1, out->id);
    sqlite3_bind_int64(q->start, 2, now);
    if (step_done(q->start) < 0)
        goto fail;
    out->status = JOB_RUNNING;
    out->attempts++;
    out->started_ms = now;
    out->finished_ms = 0;
    sqlite3_bind_int64(q->attempt_open, 1, out->id);
    sqlite3_bind_int(q->attempt_open, 2, out->attempts);
    sqlite3_bind_int64(q->attempt_open, 3, now);
    if (step_done(q->attempt_open) < 0 || tx_commit(q) < 0)
        goto fail;
    return 1;
fail:
    tx_rollback(q);
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
    if (tx_begin(q) < 0)
        return -1;
    sqlite3_bind_int64(q->succeed, 1, id);
    sqlite3_bind_int64(q->succeed, 2, now);
    if (step_done(q->succeed) < 0 || sqlite3_changes(q->h) == 0)
        goto fail;
    if (attempt_close(q, id, "succeeded", now, NULL) < 0
        || result_put(q, id, result, len, mime, is_error) < 0 || tx_commit(q) < 0)
        goto fail;
    return 0;
fail:
    tx_rollback(q);
    return -1;
}

/* Returns 0, or -1 if the job is not running or the database failed.
 * A requeued job runs again after the backoff (see backoff_ms); a result
 * given with a retried attempt is dropped, one given with the final
 * attempt is stored marked is_error. */
int jobq_fail(struct jobq *q, int64_t id, const char *error, int retry,
              const char *result, size_t len, const char *mime, int *requeued)
{
    int64_t now = util_wall_ms();
    if (requeued)
        *requeued = 0;
    if (!error || !*error)
        error = "failed";
    if (tx_begin(q) < 0)
        return -1;
    sqlite3_stmt *st = q->state;
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
        st = q->requeue;
        sqlite3_bind_int64(st, 2, now + backoff_ms(q, attempts));
    } else {
        st = q->fail;
        sqlite3_bind_int64(st, 2, now);
    }
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_text(st, 3, error, -1, SQLITE_STATIC);
    if (step_done(st) < 0)
        goto fail;
    if (!again && result && result_put(q, id, result, len, mime, 1) < 0)
        goto fail;
    if (tx_commit(q) < 0)
        goto fail;
    if (requeued)
        *requeued = again;
    return 0;
fail:
    tx_rollback(q);
    return -1;
}

/* Returns 0 when the job was queued or running and is now cancelled (a
 * running attempt is closed as 'cancelled'), -1 when there is nothing to
 * cancel (no such job, or it already finished) or the database failed. */
int jobq_cancel(struct jobq *q, int64_t id)
{
    int64_t now = util_wall_ms();
    if (tx_begin(q) < 0)
        return -1;
    sqlite3_bind_int64(q->cancel, 1, id);
    sqlite3_bind_int64(q->cancel, 2, now);
    if (step_done(q->cancel) < 0 || sqlite3_changes(q->h) == 0)
        goto fail;
    if (attempt_close(q, id, "cancelled", now, "cancelled") < 0 || tx_commit(q) < 0)
        goto fail;
    return 0;
fail:
    tx_rollback(q);
    return -1;
}

/* === Reading === */

int jobq_get(struct jobq *q, int64_t id, struct job *out)
{
    memset(out, 0, sizeof *out);
    sqlite3_stmt *st = q->get;
    sqlite3_bind_int64(st, 1, id);
    if (sqlite3_step(st) != SQLITE_ROW) {
        sqlite3_reset(st);
        return -1;
    }
    fill_job(st, out);
    if (sqlite3_column_int(st, JOB_NCOLS)) {
        out->has_result = 1;
        out->result_mime = col_text(st, JOB_NCOLS + 1);
        out->result_is_error = sqlite3_column_int(st, JOB_NCOLS + 2);
        const void *body = sqlite3_column_blob(st, JOB_NCOLS + 3);
        size_t len = (size_t)sqlite3_column_bytes(st, JOB_NCOLS + 3);
        out->result = xmalloc(len + 1);
        if (len)
            memcpy(out->result, body, len);
        out->result[len] = '\0';
        out->result_len = len;
    }
    sqlite3_reset(st);
    return 0;
}

/* batch NULL matches a key in any batch. */
int jobq_find_key(struct jobq *q, const char *batch, const char *key, int64_t *id)
{
    if (!key)
        return -1;
    sqlite3_stmt *st = batch ? q->find_key : q->find_key_any;
    if (batch) {
        sqlite3_bind_text(st, 1, batch, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
    } else {
        sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    }
    int rc = -1;
    if (sqlite3_step(st) == SQLITE_ROW) {
        *id = sqlite3_column_int64(st, 0);
        rc = 0;
    }
    sqlite3_reset(st);
    return rc;
}

/* limit <= 0 lists every job. Returns 0 (*out NULL when there are none)
 * or -1. */
int jobq_list(struct jobq *q, int limit, struct job **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    sqlite3_stmt *st = q->list;
    sqlite3_bind_int(st, 1, limit > 0 ? limit : -1);
    struct job *v = NULL;
    size_t len = 0, cap = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (len == cap) {
            cap = cap ? cap * 2 : 16;
            v = xrealloc(v, cap * sizeof *v);
        }
        fill_job(st, &v[len++]);
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        for (size_t i = 0; i < len; i++)
            job_fini(&v[i]);
        free(v);
        return -1;
    }
    *out = v;
    *n = len;
    return 0;
}

/* Jobs per status; 'skipped' rows are not counted (no enum value). */
int jobq_counts(struct jobq *q, struct jobq_counts *out)
{
    memset(out, 0, sizeof *out);
    sqlite3_stmt *st = q->counts;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        enum job_status s;
        if (job_status_parse((const char *)sqlite3_column_text(st, 0), &s) == 0)
            out->n[s] = sqlite3_column_int(st, 1);
    }
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

/* === Recovery === */

/* Every running job goes back to queued, ready at once; its open attempt is
 * closed as 'interrupted'. attempts is not given back, so the next claim
 * counts a new attempt, but an interrupted job is requeued even when that
 * leaves it at or past max_attempts: the interruption was mcpdeck's doing,
 * not the job's (the next failure then ends it without retry). Returns 0 or
 * -1; *requeued gets the number of jobs requeued. */
int jobq_recover(struct jobq *q, int *requeued)
{
    int64_t now = util_wall_ms();
    if (requeued)
        *requeued = 0;
    if (tx_begin(q) < 0)
        return -1;
    sqlite3_bind_text(q->recover_attempts, 1, INTERRUPTED_MSG, -1, SQLITE_STATIC);
    sqlite3_bind_int64(q->recover_attempts, 2, now);
    if (step_done(q->recover_attempts) < 0)
        goto fail;
    sqlite3_bind_text(q->recover_jobs, 1, INTERRUPTED_MSG, -1, SQLITE_STATIC);
    if (step_done(q->recover_jobs) < 0)
        goto fail;
    int n = sqlite3_changes(q->h);
    if (tx_commit(q) < 0)
        goto fail;
    if (requeued)
        *requeued = n;
    return 0;
fail:
    tx_rollback(q);
    return -1;
}
