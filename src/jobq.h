/* jobq.h — the durable job queue in SQLite.
 *
 * A task submitted is a row in `jobs` (committed, WAL) before anything runs
 * it. The engine claims ready jobs (highest priority first, FIFO within a
 * priority) while fewer than queue.concurrency run, and completes or fails
 * them; results are stored in `results` with the job. At start-up
 * jobq_recover() puts jobs left `running` by a crash back to `queued`,
 * recording the interrupted attempt. Loop thread only. */
#ifndef MCPDECK_JOBQ_H
#define MCPDECK_JOBQ_H

#include <stddef.h>
#include <stdint.h>

struct db;
struct jobq;

enum job_status {
    JOB_QUEUED,
    JOB_RUNNING,
    JOB_SUCCEEDED,
    JOB_FAILED,
    JOB_CANCELLED,
    JOB_STATUS_COUNT
};

const char *job_status_name(enum job_status s);       /* "queued", ... */
int job_status_parse(const char *s, enum job_status *out);   /* 0 or -1 */

struct job {
    int64_t id;
    char *key;              /* the task's id from a batch file, or NULL */
    char *batch;            /* batch name/path it came from, or NULL */
    char *server;
    char *tool;
    char *args_json;        /* JSON object text */
    int priority;           /* higher runs first */
    enum job_status status;
    int attempts;           /* attempts started so far */
    int max_attempts;
    int timeout_ms;
    int64_t created_ms, started_ms, finished_ms;   /* Unix ms; 0 = not yet */
    char *error;            /* last error, or NULL */
    /* result (loaded by jobq_get / jobq_claim is without) */
    int has_result;
    char *result;           /* NUL-terminated */
    size_t result_len;
    char *result_mime;      /* e.g. "text/plain", "application/json" */
    int result_is_error;    /* the tool said isError */
};

void job_fini(struct job *j);                /* frees members; NULL-safe */

struct jobq_spec {
    const char *key;        /* may be NULL */
    const char *batch;      /* may be NULL */
    const char *server;
    const char *tool;
    const char *args_json;  /* NULL = "{}" */
    int priority;
    int timeout_ms;         /* 0 = queue default given to jobq_open */
    int max_attempts;       /* 0 = queue default */
};

struct jobq_counts {
    int n[JOB_STATUS_COUNT];
};

/* defaults apply when a spec leaves timeout/attempts at 0. */
int jobq_open(struct db *db, int default_timeout_ms, int default_attempts, struct jobq **out);
void jobq_close(struct jobq *q);             /* NULL-safe */

/* Insert (committed before return). Returns 0 and *id, or -1 and *errmsg. */
int jobq_submit(struct jobq *q, const struct jobq_spec *spec, int64_t *id, char **errmsg);

/* Claim the best ready job: status -> running, attempts+1, started_ms set.
 * Returns 1 and fills *out (no result), 0 if nothing is queued, -1 on error. */
int jobq_claim(struct jobq *q, struct job *out);

/* Finish a running job as succeeded with its result (stored in `results`). */
int jobq_complete(struct jobq *q, int64_t id, const char *result, size_t len,
                  const char *mime, int is_error);
/* A failed attempt: requeued when attempts < max_attempts and retry is
 * nonzero, else status failed. The error is kept either way. result may be
 * NULL (no output) or the tool's error output. Sets *requeued if non-NULL. */
int jobq_fail(struct jobq *q, int64_t id, const char *error, int retry,
              const char *result, size_t len, const char *mime, int *requeued);
/* A queued job becomes cancelled; a running one too (caller stops the work). */
int jobq_cancel(struct jobq *q, int64_t id);

/* Load one job including its result. Returns 0, or -1 if there is no such job. */
int jobq_get(struct jobq *q, int64_t id, struct job *out);
/* Find by key (newest match). Returns 0 and *id, or -1. */
int jobq_find_key(struct jobq *q, const char *batch, const char *key, int64_t *id);
/* The newest `limit` jobs (no results), newest first; caller frees each
 * with job_fini and the array with free. */
int jobq_list(struct jobq *q, int limit, struct job **out, size_t *n);
int jobq_counts(struct jobq *q, struct jobq_counts *out);
/* Start-up: running -> queued (attempt recorded as interrupted).
 * *requeued gets how many. */
int jobq_recover(struct jobq *q, int *requeued);

#endif
