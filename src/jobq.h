/* jobq.h — the durable job queue in SQLite.
 *
 * A task submitted is a row in `jobs` (committed, WAL) before anything runs
 * it. The engine claims ready jobs (highest priority first, FIFO within a
 * priority; not before run_at; only once every job it needs succeeded)
 * while fewer than queue.concurrency run, and completes or fails them;
 * results are stored in `results` with the job, inline or, above a size
 * limit, as a content-addressed blob file (blobs.h). When a job ends failed,
 * cancelled or skipped, every job that needs it (transitively) becomes
 * skipped in the same transaction. At start-up jobq_recover() puts jobs left
 * `running` by a crash back to `queued`, recording the interrupted attempt.
 *
 * Every change works on its own (one transaction) or inside a caller's
 * db_begin/db_commit (a savepoint of it), so the engine can commit a whole
 * loop turn at once. Loop thread only. */
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
    JOB_SKIPPED,            /* never ran: a job it needs did not succeed */
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
    /* result (loaded by jobq_get; jobq_claim and lists leave it empty) */
    int has_result;
    char *result;           /* NUL-terminated; NULL when result_blob */
    size_t result_len;      /* bytes in result (0 when result_blob) */
    char *result_mime;      /* e.g. "text/plain", "application/json" */
    int result_is_error;    /* the tool said isError */
    /* since 002 */
    int64_t run_at_ms;      /* not claimed before this (Unix ms; 0 = at once) */
    char *idempotency_key;  /* or NULL */
    int result_blob;        /* the body is in the blob store: read it with jobq_result */
    size_t result_size;     /* stored size of the body, inline or blob */
    char *result_sha256;    /* lowercase hex of the body, or NULL */
    /* routed tasks: {"request": {...}} before the first start, then also
     * "chosen" and "scores" (router.h); NULL for a task naming its server */
    char *route_json;
    char *kind;             /* "tool" or "model" */
};

void job_fini(struct job *j);                /* frees members; NULL-safe */

/* New members go at the end: callers fill the first eight positionally. */
struct jobq_spec {
    const char *key;        /* may be NULL */
    const char *batch;      /* may be NULL */
    const char *server;
    const char *tool;
    const char *args_json;  /* NULL = "{}" */
    int priority;
    int timeout_ms;         /* 0 = queue default given to jobq_open */
    int max_attempts;       /* 0 = queue default */
    int64_t run_at_ms;      /* Unix ms before which it is not claimed; 0 = now */
    int64_t delay_ms;       /* or (run_at_ms 0): not claimed before created_ms + this,
                             * the same clock reading as created_ms */
    /* Submitting a key that a job already has returns that job's id and
     * inserts nothing (the spec is otherwise ignored). NULL = none. */
    const char *idempotency_key;
    const int64_t *needs;   /* ids of existing jobs this one needs, or NULL */
    size_t nneeds;
    /* jobq_submit_many only: keys of other specs in the same group this
     * one needs (resolved to their ids inside the group). */
    const char *const *needs_keys;
    size_t nneeds_keys;
    /* A routed task: server NULL and this JSON object says what the
     * router must find ({"type": "review", "caps": [...], "heavy": true});
     * the engine picks the server when the job starts (jobq_set_route). */
    const char *route_json;
    /* "tool" (NULL, the default) or "model": a model task, whose tool is
     * the task type and whose args are {"prompt": "...", "model": ...} */
    const char *kind;
};

struct jobq_counts {
    int n[JOB_STATUS_COUNT];
};

/* defaults apply when a spec leaves timeout/attempts at 0. */
int jobq_open(struct db *db, int default_timeout_ms, int default_attempts, struct jobq **out);
void jobq_close(struct jobq *q);             /* NULL-safe */

#define JOBQ_INLINE_LIMIT_DEFAULT (64 * 1024)

/* Where results larger than inline_limit bytes go: dir (e.g.
 * "<data_dir>/blobs"; copied) and the limit (0 = 64 KiB). By default the
 * store is "blobs" next to the database file, limit 64 KiB; an in-memory
 * database has none (everything inline) until this is called. dir NULL
 * keeps the current directory and changes only the limit. */
void jobq_set_blob_store(struct jobq *q, const char *dir, size_t inline_limit);
/* The blob directory in use, or NULL (borrowed). */
const char *jobq_blob_dir(const struct jobq *q);

/* Told about jobs whose status changed as a consequence of another
 * change: JOB_SKIPPED for each job skipped because a job it needs ended
 * (by jobq_fail, jobq_cancel, or jobq_submit_many for a group job that
 * starts skipped), JOB_QUEUED for each dependent jobq_retry brought back.
 * Called after the change committed (inside a caller's transaction: after
 * its savepoint was released), once per job, never for a change that
 * failed. The callback may read the queue but not change it. NULL cb
 * stops the calls. */
typedef void (*jobq_change_cb)(void *payload, int64_t id, enum job_status status);
void jobq_set_change_cb(struct jobq *q, jobq_change_cb cb, void *payload);

/* Insert (committed before return, unless the caller holds a
 * transaction). Returns 0 and *id, or -1 and *errmsg. With an
 * idempotency_key already used, *id is that job's. With needs, see
 * jobq_submit_many; needs_keys are an error here. */
int jobq_submit(struct jobq *q, const struct jobq_spec *spec, int64_t *id, char **errmsg);
/* Insert n specs atomically (all or none). ids[i] gets specs[i]'s job id;
 * created[i] (when created is not NULL) 1 if it was inserted, 0 if an
 * existing job had its idempotency_key. needs_keys name other specs of
 * the group by key; needs give ids of existing jobs. A job whose needs
 * already include a failed, cancelled or skipped job is inserted skipped.
 * Errors (nothing inserted, *errmsg names the key): invalid spec, unknown
 * or ambiguous needs key, a cycle, a needed job id that does not exist. */
int jobq_submit_many(struct jobq *q, const struct jobq_spec *specs, size_t n, int64_t *ids,
                     int *created, char **errmsg);

/* Claim the best ready job: queued, run_at reached, every job it needs
 * succeeded. status -> running, attempts+1, started_ms set.
 * Returns 1 and fills *out (no result), 0 if nothing is ready, -1 on error. */
/* Claim only jobs whose server ok() accepts (e.g. servers below their own
 * concurrency limit); NULL accepts all. Called during jobq_claim. */
void jobq_set_claim_filter(struct jobq *q, int (*ok)(void *payload, const char *server),
                           void *payload);
int jobq_claim(struct jobq *q, struct job *out);

/* Finish a running job as succeeded with its result (stored in `results`;
 * as a blob above the inline limit). */
int jobq_complete(struct jobq *q, int64_t id, const char *result, size_t len,
                  const char *mime, int is_error);
/* A failed attempt: requeued when attempts < max_attempts and retry is
 * nonzero, else status failed (and its dependents skipped). The error is
 * kept either way. result may be NULL (no output) or the tool's error
 * output. Sets *requeued if non-NULL. */
int jobq_fail(struct jobq *q, int64_t id, const char *error, int retry,
              const char *result, size_t len, const char *mime, int *requeued);
/* A queued job becomes cancelled; a running one too (caller stops the
 * work). Its dependents become skipped. */
int jobq_cancel(struct jobq *q, int64_t id);

/* Run a failed, cancelled or skipped job again: queued, ready now, error
 * and result cleared, attempts kept (max_attempts raised to attempts + 1
 * when exhausted). Jobs skipped because of it go back to queued too,
 * transitively, unless another job they need still did not succeed.
 * *restored (if not NULL) gets how many dependents came back. 0, or -1
 * and *errmsg (no such job, wrong status, or a job it needs is itself
 * failed, cancelled or skipped). */
int jobq_retry(struct jobq *q, int64_t id, int *restored, char **errmsg);
/* Record where a routed job goes: its server (NULL: none could be
 * chosen) and the route JSON (the request, the choice and every
 * candidate's score). 0 or -1. */
int jobq_set_route(struct jobq *q, int64_t id, const char *server, const char *route_json);
/* Change a queued job's priority. 0, or -1 when it is not queued. */
int jobq_set_priority(struct jobq *q, int64_t id, int priority);

/* Load one job including an inline result (a blob result only by its
 * size and hash: result_blob set, result NULL). 0, or -1 if there is no
 * such job. */
int jobq_get(struct jobq *q, int64_t id, struct job *out);
/* The body of a job's result, inline or from the blob store, checked
 * against its SHA-256. 0 and *body (malloc'd, NUL-terminated) and *len;
 * 1 when the job has no result; -1 and *errmsg when there is no such job
 * or the body is missing or corrupt ("blob <sha> for job N is corrupt:
 * hash mismatch"). */
int jobq_result(struct jobq *q, int64_t id, char **body, size_t *len, char **errmsg);
/* Find by key (newest match). Returns 0 and *id, or -1. */
int jobq_find_key(struct jobq *q, const char *batch, const char *key, int64_t *id);
/* The newest `limit` jobs (no results), newest first; caller frees each
 * with job_fini and the array with free (jobq_jobs_free does both). */
int jobq_list(struct jobq *q, int limit, struct job **out, size_t *n);

struct jobq_filter {
    unsigned status_mask;   /* bits 1u << JOB_x; 0 = every status */
    const char *batch;      /* NULL = any */
    int limit;              /* <= 0 = all */
    int64_t before_id;      /* > 0: only ids below it (paging) */
};
/* Like jobq_list with a filter (e.g. the dead letters: 1u << JOB_FAILED). */
int jobq_list_filtered(struct jobq *q, const struct jobq_filter *f, struct job **out,
                       size_t *n);
void jobq_jobs_free(struct job *v, size_t n);  /* NULL-safe */
int jobq_counts(struct jobq *q, struct jobq_counts *out);
/* The ids of the jobs a job needs (*needs) or that need it (*needed_by),
 * ascending; malloc'd (NULL when none). 0 or -1. */
int jobq_deps(struct jobq *q, int64_t id, int64_t **needs, size_t *nneeds,
              int64_t **needed_by, size_t *nneeded_by);

/* One attempt of a job. */
struct jobq_attempt {
    int n;                  /* 1, 2, ... */
    int64_t started_ms;
    int64_t finished_ms;    /* 0 while running */
    char *outcome;          /* running, succeeded, failed, interrupted, cancelled */
    char *error;            /* or NULL */
};
/* Every attempt of a job, oldest first. 0 (*out NULL when none) or -1. */
int jobq_attempts(struct jobq *q, int64_t id, struct jobq_attempt **out, size_t *n);
void jobq_attempts_free(struct jobq_attempt *v, size_t n);   /* NULL-safe */

/* Events: what happened to a job besides its state (kind "progress",
 * "log", "route", "state", and for model tasks "model" (a turn) and "tool" (a
 * tool call), and "provenance" (the repository state a job started on); data
 * JSON text or NULL). */
struct jobq_event {
    int64_t id;
    int64_t job_id;
    int64_t ts_ms;
    char *kind;
    char *data_json;        /* or NULL */
};
/* Append an event. job_id 0 = not about one job. 0, or -1 for an unknown
 * kind, data that is not JSON, a job that does not exist. */
int jobq_event_add(struct jobq *q, int64_t job_id, const char *kind, const char *data_json);
/* A job's events with id > after_id, oldest first, at most limit (<= 0:
 * all). 0 (*out NULL when none) or -1. */
int jobq_events(struct jobq *q, int64_t job_id, int64_t after_id, int limit,
                struct jobq_event **out, size_t *n);
void jobq_events_free(struct jobq_event *v, size_t n);       /* NULL-safe */

/* Start-up: running -> queued (attempt recorded as interrupted).
 * *requeued gets how many. */
int jobq_recover(struct jobq *q, int *requeued);
/* Shutdown: the jobs this process was running go back to queued (their
 * attempt recorded as interrupted). Jobs other live mcpdeck processes run
 * are never touched, by either function. */
int jobq_release(struct jobq *q, int *requeued);

#endif
