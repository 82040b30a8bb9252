/* jobq_results.c — where a job's output is kept: a `results` row with the
 * bytes inline, or, above the inline limit (64 KiB unless set), a row of
 * kind 'blob' naming a content-addressed file in the blob store (blobs.h)
 * by its SHA-256. Reading the body back (jobq_result) checks the hash
 * either way. Loop thread only. */
#include <stdlib.h>
#include <string.h>

#include "blobs.h"
#include "jobq.h"
#include "jobq_int.h"
#include "util.h"

void jobq_blobs_init(struct jobq *q)
{
    q->inline_limit = JOBQ_INLINE_LIMIT_DEFAULT;
    const char *file = sqlite3_db_filename(q->h, "main");
    const char *slash = file ? strrchr(file, '/') : NULL;
    if (slash)   /* "" (in-memory or temporary database) has no directory */
        q->blob_dir = xasprintf("%.*s/blobs", (int)(slash - file), file);
}

void jobq_set_blob_store(struct jobq *q, const char *dir, size_t inline_limit)
{
    if (dir) {
        free(q->blob_dir);
        q->blob_dir = xstrdup(dir);
    }
    q->inline_limit = inline_limit ? inline_limit : JOBQ_INLINE_LIMIT_DEFAULT;
}

const char *jobq_blob_dir(const struct jobq *q)
{
    return q->blob_dir;
}

/* Replaces any earlier row. The blob file is written (and fsynced) before
 * the row that names it, so a committed row always has its file; a row
 * rolled back leaves an unreferenced file, which is harmless. When the
 * blob cannot be written (disk full, permissions), the output is kept
 * inline instead: a result is never dropped for want of a file. */
int jobq_result_put(struct jobq *q, int64_t id, const char *data, size_t len,
                    const char *mime, int is_error)
{
    char hex[BLOBS_HEX_LEN + 1];
    int blob = 0, have_hex = 0;
    if (!data)
        data = "";
    if (q->blob_dir && len > q->inline_limit) {
        char *err = NULL;
        blob = blobs_put(q->blob_dir, data, len, hex, &err) == 0;
        free(err);
        have_hex = blob;
    }
    if (!have_hex)
        have_hex = blobs_sha256_hex(data, len, hex) == 0;
    sqlite3_stmt *st = q->st[JQ_RESULT_PUT];
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_text(st, 2, blob ? "blob" : "inline", -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, mime ? mime : "text/plain", -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, (sqlite3_int64)len);
    if (have_hex)
        sqlite3_bind_text(st, 5, hex, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(st, 5);
    sqlite3_bind_int(st, 6, is_error ? 1 : 0);
    if (blob)
        sqlite3_bind_null(st, 7);
    else
        sqlite3_bind_blob64(st, 7, data, (sqlite3_uint64)len, SQLITE_STATIC);
    return jobq_step_done(st);
}

int jobq_result(struct jobq *q, int64_t id, char **body, size_t *len, char **errmsg)
{
    *body = NULL;
    *len = 0;
    sqlite3_stmt *st = q->st[JQ_RESULT_GET];
    sqlite3_bind_int64(st, 1, id);
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        *errmsg = rc == SQLITE_DONE ? xasprintf("no job %lld", (long long)id)
                                    : xasprintf("cannot read job %lld: %s", (long long)id,
                                                sqlite3_errmsg(q->h));
        sqlite3_reset(st);
        return -1;
    }
    if (!sqlite3_column_int(st, 0)) {
        sqlite3_reset(st);
        return 1;
    }
    int is_blob = strcmp((const char *)sqlite3_column_text(st, 1), "blob") == 0;
    char *sha = jobq_col_text(st, 2);
    char *data = NULL;
    size_t n = 0;
    if (!is_blob) {
        n = (size_t)sqlite3_column_bytes(st, 3);
        data = xmalloc(n + 1);
        if (n)
            memcpy(data, sqlite3_column_blob(st, 3), n);
        data[n] = '\0';
    }
    sqlite3_reset(st);
    rc = 0;
    if (is_blob && !sha) {
        *errmsg = xasprintf("the result of job %lld is a blob without a name", (long long)id);
        rc = -1;
    } else if (is_blob && !q->blob_dir) {
        *errmsg = xasprintf("the result of job %lld is blob %s, but this queue has no blob "
                            "store", (long long)id, sha);
        rc = -1;
    } else if (is_blob) {
        char *err = NULL;
        int got = blobs_get(q->blob_dir, sha, &data, &n, &err);
        if (got == BLOBS_CORRUPT)
            *errmsg = xasprintf("blob %s for job %lld is corrupt: hash mismatch", sha,
                                (long long)id);
        else if (got < 0)
            *errmsg = xasprintf("blob %s for job %lld is missing or unreadable: %s", sha,
                                (long long)id, err);
        free(err);
        rc = got < 0 ? -1 : 0;
    } else if (sha) {
        char hex[BLOBS_HEX_LEN + 1];
        if (blobs_sha256_hex(data, n, hex) < 0 || strcmp(hex, sha) != 0) {
            *errmsg = xasprintf("the result of job %lld is corrupt: hash mismatch "
                                "(expected %s)", (long long)id, sha);
            rc = -1;
        }
    }
    free(sha);
    if (rc < 0) {
        free(data);
        return -1;
    }
    *body = data;
    *len = n;
    return 0;
}
