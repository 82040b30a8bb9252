/* jobq_int.h — what the job queue's own files share (jobq.c: lifecycle,
 * jobq_deps.c: dependencies, retry, groups; jobq_read.c: reading, events;
 * jobq_results.c: results and the blob store). Not for other modules:
 * they use jobq.h. */
#ifndef MCPDECK_JOBQ_INT_H
#define MCPDECK_JOBQ_INT_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

#include "jobq.h"

/* The columns jobq_fill_job reads, in its order. */
#define JOB_COLS "id, key, batch, server, tool, args_json, priority, status, attempts, " \
                 "max_attempts, timeout_ms, created_ms, started_ms, finished_ms, error, "  \
                 "run_at_ms, idempotency_key, route_json, jobs.kind"
#define JOB_NCOLS 19

/* "skipped: needs <key or #id> which <status>" is built from this. */
#define JOBQ_LABEL_SQL "COALESCE(key, '#' || id)"

/* Every statement, prepared once in jobq_open (SQL in jobq.c). */
enum jobq_st {
    JQ_SP_BEGIN,
    JQ_SP_RELEASE,
    JQ_SP_ROLLBACK,
    JQ_SUBMIT,
    JQ_IDEM_FIND,
    JQ_CLAIM,
    JQ_START,
    JQ_ATTEMPT_OPEN,
    JQ_ATTEMPT_CLOSE,
    JQ_SUCCEED,
    JQ_RESULT_PUT,
    JQ_RESULT_DEL,
    JQ_RESULT_GET,
    JQ_STATE,
    JQ_REQUEUE,
    JQ_FAIL,
    JQ_CANCEL,
    JQ_GET,
    JQ_FIND_KEY,
    JQ_FIND_KEY_ANY,
    JQ_LIST,
    JQ_COUNTS,
    JQ_RECOVER_ATTEMPTS,
    JQ_RECOVER_JOBS,
    JQ_LABEL,
    JQ_DEP_ADD,
    JQ_BAD_NEED,
    JQ_DEPENDENTS,
    JQ_SKIP,
    JQ_UNSKIP,
    JQ_SET_ERROR,
    JQ_RETRY,
    JQ_SET_ROUTE,
    JQ_SET_PRIORITY,
    JQ_NEEDS,
    JQ_NEEDED_BY,
    JQ_ATTEMPTS,
    JQ_EVENT_ADD,
    JQ_EVENTS,
    JQ_ST_COUNT
};

/* A side effect waiting for its change to commit (see jobq_change_cb). */
struct jobq_fx {
    int64_t id;
    enum job_status status;
};

struct jobq {
    struct db *db;
    sqlite3 *h;
    int default_timeout_ms;
    int default_attempts;
    uint64_t rng;              /* xorshift state for backoff jitter */
    char owner[48];            /* this process: "pid:starttime" */
    int nested;                /* the current change runs in a savepoint */
    char *blob_dir;            /* NULL: every result inline */
    size_t inline_limit;       /* results longer than this go to blob_dir */
    sqlite3_stmt *st[JQ_ST_COUNT];
    jobq_change_cb change_cb;
    void *change_payload;
    int (*claim_ok)(void *payload, const char *server);
    void *claim_payload;
    struct jobq_fx *fx;        /* side effects of the change in progress */
    size_t nfx, capfx;
};

/* jobq.c */
char *jobq_col_text(sqlite3_stmt *st, int i);
void jobq_fill_job(sqlite3_stmt *st, struct job *j);
int jobq_step_done(sqlite3_stmt *st);
void jobq_bind_text_or_null(sqlite3_stmt *st, int i, const char *s);
int jobq_tx_begin(struct jobq *q);
/* Commit tells the change callback about the side effects noted; on
 * failure the change is still open: roll back (which forgets them). */
int jobq_tx_commit(struct jobq *q);
void jobq_tx_rollback(struct jobq *q);
void jobq_note_change(struct jobq *q, int64_t id, enum job_status status);
int jobq_spec_check(const struct jobq_spec *spec, char **errmsg);
/* Insert one spec's row (no needs), honouring its idempotency key.
 * *created 1 if inserted. 0 or -1 and *errmsg. */
int jobq_insert(struct jobq *q, const struct jobq_spec *spec, int64_t now, int64_t *id,
                int *created, char **errmsg);

/* jobq_deps.c: after job id ended failed, cancelled or skipped (inside the
 * change's transaction), skip every queued job that needs it,
 * transitively. 0 or -1. */
int jobq_skip_dependents(struct jobq *q, int64_t id, int64_t now);

/* jobq_results.c: store a job's output, inline or as a blob. 0 or -1. */
int jobq_result_put(struct jobq *q, int64_t id, const char *data, size_t len,
                    const char *mime, int is_error);
/* Default blob store next to the database file (none for :memory:). */
void jobq_blobs_init(struct jobq *q);

#endif
