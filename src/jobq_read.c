/* jobq_read.c — the read side of the job queue (one job, lists with
 * filters, counts, attempts history) and job events (progress, log, route
 * and state records in the `events` table). Nothing here needs a
 * transaction: each read is one statement. Loop thread only. */
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "jobq.h"
#include "jobq_int.h"
#include "util.h"

/* === One job === */

int jobq_get(struct jobq *q, int64_t id, struct job *out)
{
    memset(out, 0, sizeof *out);
    sqlite3_stmt *st = q->st[JQ_GET];
    sqlite3_bind_int64(st, 1, id);
    if (sqlite3_step(st) != SQLITE_ROW) {
        sqlite3_reset(st);
        return -1;
    }
    jobq_fill_job(st, out);
    int c = JOB_NCOLS;
    if (sqlite3_column_int(st, c)) {
        out->has_result = 1;
        out->result_mime = jobq_col_text(st, c + 1);
        out->result_is_error = sqlite3_column_int(st, c + 2);
        out->result_blob = strcmp((const char *)sqlite3_column_text(st, c + 4), "blob") == 0;
        out->result_size = (size_t)sqlite3_column_int64(st, c + 5);
        out->result_sha256 = jobq_col_text(st, c + 6);
        if (!out->result_blob) {
            const void *body = sqlite3_column_blob(st, c + 3);
            size_t len = (size_t)sqlite3_column_bytes(st, c + 3);
            out->result = xmalloc(len + 1);
            if (len)
                memcpy(out->result, body, len);
            out->result[len] = '\0';
            out->result_len = len;
        }
    }
    sqlite3_reset(st);
    return 0;
}

/* batch NULL matches a key in any batch. */
int jobq_find_key(struct jobq *q, const char *batch, const char *key, int64_t *id)
{
    if (!key)
        return -1;
    sqlite3_stmt *st = q->st[batch ? JQ_FIND_KEY : JQ_FIND_KEY_ANY];
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

/* === Lists === */

void jobq_jobs_free(struct job *v, size_t n)
{
    for (size_t i = 0; v && i < n; i++)
        job_fini(&v[i]);
    free(v);
}

/* Step st (bound, reset here) into a job array. 0 or -1. */
static int collect_jobs(sqlite3_stmt *st, struct job **out, size_t *n)
{
    struct job *v = NULL;
    size_t len = 0, cap = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (len == cap) {
            cap = cap ? cap * 2 : 16;
            v = xrealloc(v, cap * sizeof *v);
        }
        jobq_fill_job(st, &v[len++]);
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        jobq_jobs_free(v, len);
        return -1;
    }
    *out = v;
    *n = len;
    return 0;
}

/* limit <= 0 lists every job. Returns 0 (*out NULL when there are none)
 * or -1. */
int jobq_list(struct jobq *q, int limit, struct job **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    sqlite3_stmt *st = q->st[JQ_LIST];
    sqlite3_bind_int(st, 1, limit > 0 ? limit : -1);
    return collect_jobs(st, out, n);
}

/* Built per call (lists are not the hot path): the status names come from
 * the fixed table, everything else is bound. */
int jobq_list_filtered(struct jobq *q, const struct jobq_filter *f, struct job **out,
                       size_t *n)
{
    *out = NULL;
    *n = 0;
    struct buf sql;
    buf_init(&sql);
    buf_puts(&sql, "SELECT " JOB_COLS " FROM jobs WHERE 1");
    unsigned mask = f->status_mask & ((1u << JOB_STATUS_COUNT) - 1);
    if (mask) {
        const char *sep = " AND (";
        for (int s = 0; s < JOB_STATUS_COUNT; s++)
            if (mask & (1u << s)) {
                buf_printf(&sql, "%sstatus = '%s'", sep, job_status_name((enum job_status)s));
                sep = " OR ";
            }
        buf_puts(&sql, ")");
    } else if (f->status_mask) {
        buf_puts(&sql, " AND 0");   /* only bits for statuses that do not exist */
    }
    if (f->batch)
        buf_puts(&sql, " AND batch = ?1");
    if (f->before_id > 0)
        buf_puts(&sql, " AND id < ?2");
    buf_puts(&sql, " ORDER BY id DESC LIMIT ?3");
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(q->h, sql.data, -1, &st, NULL) == SQLITE_OK ? 0 : -1;
    buf_fini(&sql);
    if (rc < 0)
        return -1;
    if (f->batch)
        sqlite3_bind_text(st, 1, f->batch, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, f->before_id);
    sqlite3_bind_int(st, 3, f->limit > 0 ? f->limit : -1);
    rc = collect_jobs(st, out, n);
    sqlite3_finalize(st);
    return rc;
}

int jobq_counts(struct jobq *q, struct jobq_counts *out)
{
    memset(out, 0, sizeof *out);
    sqlite3_stmt *st = q->st[JQ_COUNTS];
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        enum job_status s;
        if (job_status_parse((const char *)sqlite3_column_text(st, 0), &s) == 0)
            out->n[s] = sqlite3_column_int(st, 1);
    }
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

/* === Attempts === */

void jobq_attempts_free(struct jobq_attempt *v, size_t n)
{
    for (size_t i = 0; v && i < n; i++) {
        free(v[i].outcome);
        free(v[i].error);
    }
    free(v);
}

int jobq_attempts(struct jobq *q, int64_t id, struct jobq_attempt **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    sqlite3_stmt *st = q->st[JQ_ATTEMPTS];
    sqlite3_bind_int64(st, 1, id);
    struct jobq_attempt *v = NULL;
    size_t len = 0, cap = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (len == cap) {
            cap = cap ? cap * 2 : 4;
            v = xrealloc(v, cap * sizeof *v);
        }
        struct jobq_attempt *a = &v[len++];
        a->n = sqlite3_column_int(st, 0);
        a->started_ms = sqlite3_column_int64(st, 1);
        a->finished_ms = sqlite3_column_int64(st, 2);
        a->outcome = jobq_col_text(st, 3);
        a->error = jobq_col_text(st, 4);
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        jobq_attempts_free(v, len);
        return -1;
    }
    *out = v;
    *n = len;
    return 0;
}

/* === Events === */

static const char *const event_kinds[] = {"progress", "log",   "route", "state",
                                          "model",    "tool",  "provenance"};

/* One INSERT: atomic alone or inside a caller's transaction. A job_id
 * that does not exist fails on the foreign key. */
int jobq_event_add(struct jobq *q, int64_t job_id, const char *kind, const char *data_json)
{
    int known = 0;
    for (size_t i = 0; kind && i < ARRAY_LEN(event_kinds); i++)
        known |= strcmp(kind, event_kinds[i]) == 0;
    if (!known)
        return -1;
    if (data_json) {
        cJSON *v = cJSON_ParseWithOpts(data_json, NULL, 1);
        if (!v)
            return -1;
        cJSON_Delete(v);
    }
    sqlite3_stmt *st = q->st[JQ_EVENT_ADD];
    if (job_id > 0)
        sqlite3_bind_int64(st, 1, job_id);
    else
        sqlite3_bind_null(st, 1);
    sqlite3_bind_int64(st, 2, util_wall_ms());
    sqlite3_bind_text(st, 3, kind, -1, SQLITE_STATIC);
    jobq_bind_text_or_null(st, 4, data_json);
    return jobq_step_done(st);
}

void jobq_events_free(struct jobq_event *v, size_t n)
{
    for (size_t i = 0; v && i < n; i++) {
        free(v[i].kind);
        free(v[i].data_json);
    }
    free(v);
}

int jobq_events(struct jobq *q, int64_t job_id, int64_t after_id, int limit,
                struct jobq_event **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    sqlite3_stmt *st = q->st[JQ_EVENTS];
    sqlite3_bind_int64(st, 1, job_id);
    sqlite3_bind_int64(st, 2, after_id);
    sqlite3_bind_int(st, 3, limit > 0 ? limit : -1);
    struct jobq_event *v = NULL;
    size_t len = 0, cap = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (len == cap) {
            cap = cap ? cap * 2 : 8;
            v = xrealloc(v, cap * sizeof *v);
        }
        struct jobq_event *e = &v[len++];
        e->id = sqlite3_column_int64(st, 0);
        e->job_id = sqlite3_column_int64(st, 1);
        e->ts_ms = sqlite3_column_int64(st, 2);
        e->kind = jobq_col_text(st, 3);
        e->data_json = jobq_col_text(st, 4);
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        jobq_events_free(v, len);
        return -1;
    }
    *out = v;
    *n = len;
    return 0;
}
