/* test_jobq.c — the durable job queue on a real database file: a job's
 * lifecycle with its stored result and SHA-256, claim order, retries with
 * backoff, attempts running out, cancelling, recovering after a crash (a
 * child process that claims and dies without closing), validation, and the
 * read side (get, list, counts, find by key). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "db.h"
#include "jobq.h"
#include "util.h"

#define DEFAULT_TIMEOUT 7000
#define DEFAULT_ATTEMPTS 3

struct fix {
    char *dir;
    char *path;
    struct db *db;
    struct jobq *q;
};

static int rm_cb(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
    return remove(p);
}

static void fix_open(struct fix *f)
{
    char *err = NULL;
    assert_int_equal(db_open(f->path, &f->db, &err), 0);
    assert_int_equal(jobq_open(f->db, DEFAULT_TIMEOUT, DEFAULT_ATTEMPTS, &f->q), 0);
}

static void fix_close(struct fix *f)
{
    jobq_close(f->q);
    db_close(f->db);
    f->q = NULL;
    f->db = NULL;
}

static int setup(void **state)
{
    struct fix *f = xcalloc(1, sizeof *f);
    char tmpl[] = "/tmp/mcpdeck-jobq.XXXXXX";
    if (!mkdtemp(tmpl))
        return -1;
    f->dir = xstrdup(tmpl);
    f->path = xasprintf("%s/mcpdeck.db", f->dir);
    fix_open(f);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fix *f = *state;
    fix_close(f);
    nftw(f->dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
    free(f->dir);
    free(f->path);
    free(f);
    return 0;
}

/* === Helpers === */

static long long sql_int(struct fix *f, const char *fmt, ...) PRINTF_LIKE(2, 3);
static long long sql_int(struct fix *f, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *sql = xvasprintf(fmt, ap);
    va_end(ap);
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db_handle(f->db), sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    long long v = sqlite3_column_type(st, 0) == SQLITE_NULL ? -1 : sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    free(sql);
    return v;
}

/* The text of the first column, or NULL; caller frees. */
static char *sql_text(struct fix *f, const char *fmt, ...) PRINTF_LIKE(2, 3);
static char *sql_text(struct fix *f, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *sql = xvasprintf(fmt, ap);
    va_end(ap);
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db_handle(f->db), sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    char *s = xstrdup((const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    free(sql);
    return s;
}

static void assert_sql_text(struct fix *f, const char *want, const char *sql)
{
    char *got = sql_text(f, "%s", sql);
    if (want) {
        assert_non_null(got);
        assert_string_equal(got, want);
    } else {
        assert_null(got);
    }
    free(got);
}

static int64_t submit(struct fix *f, const char *key, const char *batch, int priority)
{
    struct jobq_spec s = {0};
    s.key = key;
    s.batch = batch;
    s.server = "fs";
    s.tool = "read_file";
    s.args_json = "{\"path\": \"README.md\"}";
    s.priority = priority;
    int64_t id = 0;
    char *err = NULL;
    assert_int_equal(jobq_submit(f->q, &s, &id, &err), 0);
    assert_null(err);
    assert_true(id > 0);
    return id;
}

static int64_t claim_id(struct fix *f)
{
    struct job j;
    int rc = jobq_claim(f->q, &j);
    assert_true(rc >= 0);
    int64_t id = rc ? j.id : 0;
    job_fini(&j);
    return id;
}

/* Make every delayed job ready now, as if its backoff had passed. */
static void make_ready(struct fix *f)
{
    assert_int_equal(db_exec(f->db, "UPDATE jobs SET run_at_ms = 0", NULL), 0);
}

/* === Tests === */

static void test_lifecycle_with_result(void **state)
{
    struct fix *f = *state;
    int64_t before = util_wall_ms();
    int64_t id = submit(f, "t1", "ci.yaml", 0);

    struct job j;
    assert_int_equal(jobq_get(f->q, id, &j), 0);
    assert_int_equal(j.id, id);
    assert_int_equal(j.status, JOB_QUEUED);
    assert_string_equal(j.key, "t1");
    assert_string_equal(j.batch, "ci.yaml");
    assert_string_equal(j.server, "fs");
    assert_string_equal(j.tool, "read_file");
    assert_string_equal(j.args_json, "{\"path\": \"README.md\"}");
    assert_int_equal(j.attempts, 0);
    assert_int_equal(j.max_attempts, DEFAULT_ATTEMPTS);
    assert_int_equal(j.timeout_ms, DEFAULT_TIMEOUT);
    assert_true(j.created_ms >= before && j.created_ms <= util_wall_ms());
    assert_int_equal(j.started_ms, 0);
    assert_int_equal(j.finished_ms, 0);
    assert_null(j.error);
    assert_int_equal(j.has_result, 0);
    assert_null(j.result);
    job_fini(&j);

    assert_int_equal(jobq_claim(f->q, &j), 1);
    assert_int_equal(j.id, id);
    assert_int_equal(j.status, JOB_RUNNING);
    assert_int_equal(j.attempts, 1);
    assert_true(j.started_ms >= before);
    assert_string_equal(j.args_json, "{\"path\": \"README.md\"}");
    assert_int_equal(j.has_result, 0);
    job_fini(&j);
    assert_sql_text(f, "running", "SELECT outcome FROM attempts WHERE n = 1");
    assert_int_equal(claim_id(f), 0);   /* the only job is taken */

    assert_int_equal(jobq_complete(f->q, id, "hello world", 11, "text/plain", 0), 0);
    assert_int_equal(jobq_get(f->q, id, &j), 0);
    assert_int_equal(j.status, JOB_SUCCEEDED);
    assert_true(j.finished_ms >= j.started_ms && j.finished_ms > 0);
    assert_int_equal(j.has_result, 1);
    assert_string_equal(j.result, "hello world");
    assert_int_equal(j.result_len, 11);
    assert_string_equal(j.result_mime, "text/plain");
    assert_int_equal(j.result_is_error, 0);
    assert_null(j.error);
    job_fini(&j);

    assert_sql_text(f, "b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9",
                    "SELECT sha256 FROM results");
    assert_sql_text(f, "inline", "SELECT kind FROM results");
    assert_int_equal(sql_int(f, "SELECT size FROM results WHERE job_id = %lld", (long long)id),
                     11);
    assert_sql_text(f, "succeeded", "SELECT outcome FROM attempts WHERE n = 1");
    assert_true(sql_int(f, "SELECT finished_ms FROM attempts WHERE n = 1") > 0);
    assert_int_equal(sql_int(f, "SELECT COUNT(*) FROM attempts"), 1);

    /* Finishing twice is refused and changes nothing. */
    assert_int_equal(jobq_complete(f->q, id, "again", 5, NULL, 0), -1);
    assert_int_equal(jobq_fail(f->q, id, "late", 1, NULL, 0, NULL, NULL), -1);
    assert_sql_text(f, "hello world", "SELECT CAST(body AS TEXT) FROM results");
    assert_sql_text(f, "succeeded", "SELECT status FROM jobs");
}

static void test_binary_and_empty_results(void **state)
{
    struct fix *f = *state;
    int64_t a = submit(f, NULL, NULL, 0);
    int64_t b = submit(f, NULL, NULL, 0);
    assert_int_equal(claim_id(f), a);
    assert_int_equal(claim_id(f), b);
    static const char bin[] = {'x', '\0', 'y'};
    assert_int_equal(jobq_complete(f->q, a, bin, sizeof bin, "application/octet-stream", 1), 0);
    assert_int_equal(jobq_complete(f->q, b, NULL, 0, NULL, 0), 0);

    struct job j;
    assert_int_equal(jobq_get(f->q, a, &j), 0);
    assert_int_equal(j.result_len, 3);
    assert_memory_equal(j.result, bin, 3);
    assert_int_equal(j.result[3], '\0');
    assert_int_equal(j.result_is_error, 1);
    assert_string_equal(j.result_mime, "application/octet-stream");
    assert_null(j.key);
    assert_null(j.batch);
    job_fini(&j);
    assert_int_equal(jobq_get(f->q, b, &j), 0);
    assert_int_equal(j.has_result, 1);
    assert_int_equal(j.result_len, 0);
    assert_string_equal(j.result, "");
    assert_string_equal(j.result_mime, "text/plain");
    job_fini(&j);
    assert_sql_text(f, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
                    "SELECT sha256 FROM results WHERE size = 0");
}

static void test_priority_then_fifo(void **state)
{
    struct fix *f = *state;
    int64_t a = submit(f, "a", NULL, 0);
    int64_t b = submit(f, "b", NULL, 5);
    int64_t c = submit(f, "c", NULL, 0);
    int64_t d = submit(f, "d", NULL, 5);
    int64_t e = submit(f, "e", NULL, -1);
    assert_int_equal(claim_id(f), b);
    assert_int_equal(claim_id(f), d);
    assert_int_equal(claim_id(f), a);
    assert_int_equal(claim_id(f), c);
    assert_int_equal(claim_id(f), e);
    assert_int_equal(claim_id(f), 0);
}

static void test_claim_empty(void **state)
{
    struct fix *f = *state;
    struct job j;
    memset(&j, 0x55, sizeof j);
    assert_int_equal(jobq_claim(f->q, &j), 0);
    assert_int_equal(j.id, 0);
    assert_null(j.server);
    assert_int_equal(sql_int(f, "SELECT COUNT(*) FROM attempts"), 0);
}

static void test_retry_backoff_and_exhaustion(void **state)
{
    struct fix *f = *state;
    int64_t id = submit(f, "flaky", NULL, 0);
    int requeued = -1;

    /* Attempt 1 fails: back in ~500 ms (+/-20 %). */
    assert_int_equal(claim_id(f), id);
    int64_t t0 = util_wall_ms();
    assert_int_equal(jobq_fail(f->q, id, "connection reset", 1, NULL, 0, NULL, &requeued), 0);
    int64_t t1 = util_wall_ms();
    assert_int_equal(requeued, 1);
    assert_sql_text(f, "queued", "SELECT status FROM jobs");
    assert_sql_text(f, "connection reset", "SELECT error FROM jobs");
    int64_t at = sql_int(f, "SELECT run_at_ms FROM jobs");
    assert_true(at >= t0 + 400 && at <= t1 + 600);
    assert_int_equal(sql_int(f, "SELECT finished_ms FROM jobs"), -1);   /* NULL */
    assert_int_equal(claim_id(f), 0);   /* not ready yet */
    assert_sql_text(f, "failed", "SELECT outcome FROM attempts WHERE n = 1");
    assert_sql_text(f, "connection reset", "SELECT error FROM attempts WHERE n = 1");

    /* Attempt 2 fails: ~1000 ms. */
    make_ready(f);
    struct job j;
    assert_int_equal(jobq_claim(f->q, &j), 1);
    assert_int_equal(j.attempts, 2);
    job_fini(&j);
    t0 = util_wall_ms();
    assert_int_equal(jobq_fail(f->q, id, "timeout", 1, NULL, 0, NULL, &requeued), 0);
    t1 = util_wall_ms();
    assert_int_equal(requeued, 1);
    at = sql_int(f, "SELECT run_at_ms FROM jobs");
    assert_true(at >= t0 + 800 && at <= t1 + 1200);
    assert_int_equal(claim_id(f), 0);

    /* Attempt 3 of 3 fails: no retry left; the tool's output is kept. */
    make_ready(f);
    assert_int_equal(claim_id(f), id);
    assert_int_equal(jobq_fail(f->q, id, "still broken", 1, "stack trace", 11, "text/plain",
                               &requeued), 0);
    assert_int_equal(requeued, 0);
    assert_int_equal(jobq_get(f->q, id, &j), 0);
    assert_int_equal(j.status, JOB_FAILED);
    assert_int_equal(j.attempts, 3);
    assert_string_equal(j.error, "still broken");
    assert_true(j.finished_ms > 0);
    assert_int_equal(j.has_result, 1);
    assert_string_equal(j.result, "stack trace");
    assert_int_equal(j.result_is_error, 1);
    job_fini(&j);
    assert_int_equal(sql_int(f, "SELECT COUNT(*) FROM attempts WHERE outcome = 'failed' "
                                "AND finished_ms IS NOT NULL"), 3);
    make_ready(f);
    assert_int_equal(claim_id(f), 0);
}

static void test_backoff_is_capped(void **state)
{
    struct fix *f = *state;
    struct jobq_spec s = {.server = "fs", .tool = "x", .max_attempts = 50};
    int64_t id;
    char *err = NULL;
    int64_t lo = INT64_MAX, hi = 0;
    assert_int_equal(jobq_submit(f->q, &s, &id, &err), 0);
    for (int i = 0; i < 12; i++) {
        make_ready(f);
        assert_int_equal(claim_id(f), id);
        int64_t t0 = util_wall_ms();
        int requeued = 0;
        assert_int_equal(jobq_fail(f->q, id, "no", 1, NULL, 0, NULL, &requeued), 0);
        assert_int_equal(requeued, 1);
        int64_t delay = sql_int(f, "SELECT run_at_ms FROM jobs") - t0;
        assert_true(delay <= 72000 + 5);
        if (i >= 8) {   /* 500 * 2^8 is far past the cap: only jitter remains */
            assert_true(delay >= 48000 - 5);
            lo = delay < lo ? delay : lo;
            hi = delay > hi ? delay : hi;
        }
    }
    /* Jitter: four draws over 24 s do not all land within 100 ms. */
    assert_true(hi - lo > 100);
}

static void test_fail_without_retry(void **state)
{
    struct fix *f = *state;
    int64_t id = submit(f, NULL, NULL, 0);
    assert_int_equal(jobq_fail(f->q, id, "not running yet", 0, NULL, 0, NULL, NULL), -1);
    assert_sql_text(f, "queued", "SELECT status FROM jobs");

    assert_int_equal(claim_id(f), id);
    int requeued = -1;
    assert_int_equal(jobq_fail(f->q, id, "no such file: README.md", 0, NULL, 0, NULL,
                               &requeued), 0);
    assert_int_equal(requeued, 0);
    struct job j;
    assert_int_equal(jobq_get(f->q, id, &j), 0);
    assert_int_equal(j.status, JOB_FAILED);
    assert_int_equal(j.attempts, 1);
    assert_string_equal(j.error, "no such file: README.md");
    assert_int_equal(j.has_result, 0);
    job_fini(&j);
    assert_int_equal(jobq_fail(f->q, 9999, "no such job", 1, NULL, 0, NULL, NULL), -1);
    assert_int_equal(jobq_complete(f->q, 9999, "x", 1, NULL, 0), -1);
}

static void test_cancel(void **state)
{
    struct fix *f = *state;
    int64_t queued = submit(f, "q", NULL, 0);
    int64_t running = submit(f, "r", NULL, 0);
    int64_t done = submit(f, "d", NULL, 0);

    assert_int_equal(jobq_cancel(f->q, queued), 0);
    assert_int_equal(jobq_cancel(f->q, queued), -1);   /* already cancelled */
    assert_int_equal(claim_id(f), running);             /* the cancelled one is skipped */
    assert_int_equal(claim_id(f), done);
    assert_int_equal(jobq_complete(f->q, done, "ok", 2, NULL, 0), 0);

    assert_int_equal(jobq_cancel(f->q, running), 0);
    assert_int_equal(jobq_cancel(f->q, done), -1);      /* finished: nothing to do */
    assert_int_equal(jobq_cancel(f->q, 12345), -1);

    struct job j;
    assert_int_equal(jobq_get(f->q, queued, &j), 0);
    assert_int_equal(j.status, JOB_CANCELLED);
    assert_int_equal(j.attempts, 0);
    assert_true(j.finished_ms > 0);
    job_fini(&j);
    assert_int_equal(jobq_get(f->q, running, &j), 0);
    assert_int_equal(j.status, JOB_CANCELLED);
    assert_true(j.finished_ms > 0);
    job_fini(&j);
    assert_int_equal(sql_int(f, "SELECT COUNT(*) FROM attempts WHERE job_id = %lld "
                                "AND outcome = 'cancelled' AND finished_ms IS NOT NULL",
                             (long long)running), 1);
    /* The worker's late answer does not resurrect it. */
    assert_int_equal(jobq_complete(f->q, running, "late", 4, NULL, 0), -1);
    assert_int_equal(jobq_fail(f->q, running, "late", 1, NULL, 0, NULL, NULL), -1);
    assert_sql_text(f, "cancelled", "SELECT status FROM jobs WHERE key = 'r'");
    assert_int_equal(sql_int(f, "SELECT COUNT(*) FROM results"), 1);
    assert_int_equal(claim_id(f), 0);
}

/* A child process claims a job and dies without closing anything. */
static void test_recover_after_crash(void **state)
{
    struct fix *f = *state;
    int64_t a = submit(f, "a", NULL, 0);
    int64_t b = submit(f, "b", NULL, 0);
    fix_close(f);

    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        struct db *db = NULL;
        struct jobq *q = NULL;
        char *err = NULL;
        struct job j;
        int ok = db_open(f->path, &db, &err) == 0 && jobq_open(db, 1000, 3, &q) == 0
                 && jobq_claim(q, &j) == 1 && j.id == a;
        _exit(ok ? 0 : 1);
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);

    fix_open(f);
    struct jobq_counts c;
    assert_int_equal(jobq_counts(f->q, &c), 0);
    assert_int_equal(c.n[JOB_RUNNING], 1);
    assert_int_equal(c.n[JOB_QUEUED], 1);

    int requeued = -1;
    assert_int_equal(jobq_recover(f->q, &requeued), 0);
    assert_int_equal(requeued, 1);
    assert_int_equal(jobq_counts(f->q, &c), 0);
    assert_int_equal(c.n[JOB_RUNNING], 0);
    assert_int_equal(c.n[JOB_QUEUED], 2);
    assert_sql_text(f, "interrupted", "SELECT outcome FROM attempts WHERE n = 1");
    assert_sql_text(f, "interrupted: mcpdeck stopped while the job was running",
                    "SELECT error FROM attempts WHERE n = 1");
    assert_true(sql_int(f, "SELECT finished_ms FROM attempts WHERE n = 1") > 0);

    /* The interrupted job keeps its place and counts a second attempt. */
    struct job j;
    assert_int_equal(jobq_claim(f->q, &j), 1);
    assert_int_equal(j.id, a);
    assert_int_equal(j.attempts, 2);
    job_fini(&j);
    assert_sql_text(f, "running", "SELECT outcome FROM attempts WHERE n = 2");
    assert_int_equal(claim_id(f), b);

    /* Nothing interrupted twice: recover with b running affects b only. */
    assert_int_equal(jobq_complete(f->q, a, "done", 4, NULL, 0), 0);
    assert_int_equal(jobq_recover(f->q, &requeued), 0);
    assert_int_equal(requeued, 1);
    assert_sql_text(f, "succeeded", "SELECT outcome FROM attempts WHERE job_id = 1 AND n = 2");
    assert_int_equal(jobq_recover(f->q, &requeued), 0);
    assert_int_equal(requeued, 0);
}

/* An interruption is not the job's fault: requeued even with no attempts
 * left; a real failure afterwards ends it. */
static void test_recover_past_max_attempts(void **state)
{
    struct fix *f = *state;
    struct jobq_spec s = {.server = "fs", .tool = "x", .max_attempts = 1};
    int64_t id;
    char *err = NULL;
    assert_int_equal(jobq_submit(f->q, &s, &id, &err), 0);
    assert_int_equal(claim_id(f), id);
    int requeued = 0;
    assert_int_equal(jobq_recover(f->q, &requeued), 0);
    assert_int_equal(requeued, 1);
    assert_sql_text(f, "queued", "SELECT status FROM jobs");

    struct job j;
    assert_int_equal(jobq_claim(f->q, &j), 1);
    assert_int_equal(j.attempts, 2);
    assert_int_equal(j.max_attempts, 1);
    job_fini(&j);
    assert_int_equal(jobq_fail(f->q, id, "boom", 1, NULL, 0, NULL, &requeued), 0);
    assert_int_equal(requeued, 0);
    assert_sql_text(f, "failed", "SELECT status FROM jobs");
}

static void test_submit_validation(void **state)
{
    struct fix *f = *state;
    int64_t id = 0;
    char *err = NULL;
    struct jobq_spec s = {.server = "fs", .tool = "read_file", .args_json = "[1, 2]"};
    assert_int_equal(jobq_submit(f->q, &s, &id, &err), -1);
    assert_non_null(strstr(err, "fs.read_file"));
    assert_non_null(strstr(err, "must be a JSON object"));
    free(err);
    err = NULL;

    s.args_json = "{\"path\": ";
    assert_int_equal(jobq_submit(f->q, &s, &id, &err), -1);
    assert_non_null(strstr(err, "not valid JSON"));
    free(err);
    err = NULL;

    s.args_json = "{} trailing";
    assert_int_equal(jobq_submit(f->q, &s, &id, &err), -1);
    free(err);
    err = NULL;

    s.args_json = "{}";
    s.server = "";
    assert_int_equal(jobq_submit(f->q, &s, &id, &err), -1);
    assert_non_null(strstr(err, "needs a server and a tool"));
    free(err);
    err = NULL;

    s.server = "fs";
    s.tool = NULL;
    assert_int_equal(jobq_submit(f->q, &s, &id, &err), -1);
    free(err);
    err = NULL;

    s.tool = "read_file";
    s.timeout_ms = -5;
    assert_int_equal(jobq_submit(f->q, &s, &id, &err), -1);
    assert_non_null(strstr(err, "negative"));
    free(err);
    err = NULL;
    assert_int_equal(sql_int(f, "SELECT COUNT(*) FROM jobs"), 0);

    /* NULL arguments mean {}; explicit limits beat the defaults. */
    s.timeout_ms = 1234;
    s.max_attempts = 9;
    s.args_json = NULL;
    assert_int_equal(jobq_submit(f->q, &s, &id, &err), 0);
    struct job j;
    assert_int_equal(jobq_get(f->q, id, &j), 0);
    assert_string_equal(j.args_json, "{}");
    assert_int_equal(j.timeout_ms, 1234);
    assert_int_equal(j.max_attempts, 9);
    job_fini(&j);
    assert_int_equal(jobq_get(f->q, id + 1, &j), -1);
    job_fini(&j);
}

static void test_counts(void **state)
{
    struct fix *f = *state;
    struct jobq_counts c;
    assert_int_equal(jobq_counts(f->q, &c), 0);
    for (int i = 0; i < JOB_STATUS_COUNT; i++)
        assert_int_equal(c.n[i], 0);

    int64_t ids[6];
    for (int i = 0; i < 6; i++)
        ids[i] = submit(f, NULL, NULL, 0);
    assert_int_equal(claim_id(f), ids[0]);
    assert_int_equal(claim_id(f), ids[1]);
    assert_int_equal(claim_id(f), ids[2]);
    assert_int_equal(jobq_complete(f->q, ids[0], "x", 1, NULL, 0), 0);
    assert_int_equal(jobq_fail(f->q, ids[1], "bad", 0, NULL, 0, NULL, NULL), 0);
    assert_int_equal(jobq_cancel(f->q, ids[3]), 0);
    assert_int_equal(jobq_counts(f->q, &c), 0);
    assert_int_equal(c.n[JOB_QUEUED], 2);
    assert_int_equal(c.n[JOB_RUNNING], 1);
    assert_int_equal(c.n[JOB_SUCCEEDED], 1);
    assert_int_equal(c.n[JOB_FAILED], 1);
    assert_int_equal(c.n[JOB_CANCELLED], 1);
}

static void test_list_newest_first(void **state)
{
    struct fix *f = *state;
    struct job *v = NULL;
    size_t n = 99;
    assert_int_equal(jobq_list(f->q, 10, &v, &n), 0);
    assert_int_equal(n, 0);
    assert_null(v);

    int64_t ids[5];
    char key[16];
    for (int i = 0; i < 5; i++) {
        snprintf(key, sizeof key, "k%d", i);
        ids[i] = submit(f, key, NULL, i == 2 ? 10 : 0);
    }
    assert_int_equal(claim_id(f), ids[2]);
    assert_int_equal(jobq_complete(f->q, ids[2], "r", 1, NULL, 0), 0);

    assert_int_equal(jobq_list(f->q, 3, &v, &n), 0);
    assert_int_equal(n, 3);
    assert_int_equal(v[0].id, ids[4]);
    assert_int_equal(v[1].id, ids[3]);
    assert_int_equal(v[2].id, ids[2]);
    assert_string_equal(v[0].key, "k4");
    assert_int_equal(v[2].status, JOB_SUCCEEDED);
    assert_int_equal(v[2].has_result, 0);   /* lists carry no results */
    assert_null(v[2].result);
    for (size_t i = 0; i < n; i++)
        job_fini(&v[i]);
    free(v);

    assert_int_equal(jobq_list(f->q, 0, &v, &n), 0);
    assert_int_equal(n, 5);
    assert_int_equal(v[4].id, ids[0]);
    for (size_t i = 0; i < n; i++)
        job_fini(&v[i]);
    free(v);
}

static void test_find_key(void **state)
{
    struct fix *f = *state;
    int64_t a1 = submit(f, "build", "a.yaml", 0);
    int64_t b1 = submit(f, "build", "b.yaml", 0);
    int64_t a2 = submit(f, "build", "a.yaml", 0);
    int64_t other = submit(f, "test", "a.yaml", 0);
    int64_t id = 0;
    assert_int_equal(jobq_find_key(f->q, "a.yaml", "build", &id), 0);
    assert_int_equal(id, a2);
    assert_true(id != a1);
    assert_int_equal(jobq_find_key(f->q, "b.yaml", "build", &id), 0);
    assert_int_equal(id, b1);
    assert_int_equal(jobq_find_key(f->q, "a.yaml", "test", &id), 0);
    assert_int_equal(id, other);
    assert_int_equal(jobq_find_key(f->q, NULL, "build", &id), 0);   /* any batch */
    assert_int_equal(id, a2);
    id = -7;
    assert_int_equal(jobq_find_key(f->q, "c.yaml", "build", &id), -1);
    assert_int_equal(jobq_find_key(f->q, "a.yaml", "deploy", &id), -1);
    assert_int_equal(jobq_find_key(f->q, NULL, "deploy", &id), -1);
    assert_int_equal(jobq_find_key(f->q, "a.yaml", NULL, &id), -1);
    assert_int_equal(id, -7);
}

static void test_status_names(void **state)
{
    static const char *const names[] = {"queued", "running", "succeeded", "failed",
                                        "cancelled"};
    assert_int_equal(ARRAY_LEN(names), JOB_STATUS_COUNT);
    for (int i = 0; i < JOB_STATUS_COUNT; i++) {
        enum job_status s;
        assert_string_equal(job_status_name((enum job_status)i), names[i]);
        assert_int_equal(job_status_parse(names[i], &s), 0);
        assert_int_equal(s, i);
    }
    enum job_status s = JOB_RUNNING;
    assert_int_equal(job_status_parse("QUEUED", &s), -1);
    assert_int_equal(job_status_parse("", &s), -1);
    assert_int_equal(job_status_parse(NULL, &s), -1);
    assert_int_equal(s, JOB_RUNNING);
    assert_string_equal(job_status_name(JOB_STATUS_COUNT), "unknown");
    job_fini(NULL);
}

/* The queue does not care which connection wrote a job: data survives a
 * clean close and reopen, ids keep increasing. */
static void test_durable_across_reopen(void **state)
{
    struct fix *f = *state;
    int64_t a = submit(f, "x", "b.yaml", 3);
    fix_close(f);
    fix_open(f);
    struct job j;
    assert_int_equal(jobq_get(f->q, a, &j), 0);
    assert_int_equal(j.priority, 3);
    assert_string_equal(j.key, "x");
    job_fini(&j);
    int64_t b = submit(f, "y", NULL, 0);
    assert_true(b > a);
    assert_int_equal(claim_id(f), a);
}

/* Calls inside the caller's transaction commit with it; a change that
 * fails in there undoes itself and nothing else. */
static void test_inside_caller_transaction(void **state)
{
    struct fix *f = *state;
    assert_int_equal(db_begin(f->db), 0);
    int64_t a = submit(f, "a", NULL, 0);
    int64_t b = submit(f, "b", NULL, 0);
    assert_int_equal(claim_id(f), a);
    assert_int_equal(jobq_complete(f->q, a, "ok", 2, NULL, 0), 0);
    assert_int_equal(jobq_complete(f->q, b, "not running", 11, NULL, 0), -1);
    assert_int_equal(jobq_cancel(f->q, a), -1);
    assert_int_equal(db_commit(f->db), 0);
    assert_sql_text(f, "succeeded", "SELECT status FROM jobs WHERE key = 'a'");
    assert_sql_text(f, "queued", "SELECT status FROM jobs WHERE key = 'b'");
    assert_int_equal(sql_int(f, "SELECT COUNT(*) FROM results"), 1);

    /* Rolled back by the caller: as if it never happened. */
    assert_int_equal(db_begin(f->db), 0);
    assert_int_equal(claim_id(f), b);
    submit(f, "c", NULL, 0);
    assert_int_equal(db_rollback(f->db), 0);
    assert_sql_text(f, "queued", "SELECT status FROM jobs WHERE key = 'b'");
    assert_int_equal(sql_int(f, "SELECT COUNT(*) FROM jobs"), 2);
    assert_int_equal(sql_int(f, "SELECT COUNT(*) FROM attempts WHERE job_id = %lld",
                             (long long)b), 0);

    /* And on their own again: committed at once. */
    assert_int_equal(claim_id(f), b);
    assert_int_equal(jobq_cancel(f->q, b), 0);
    assert_int_equal(sqlite3_get_autocommit(db_handle(f->db)), 1);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_lifecycle_with_result),
        T(test_binary_and_empty_results),
        T(test_priority_then_fifo),
        T(test_claim_empty),
        T(test_retry_backoff_and_exhaustion),
        T(test_backoff_is_capped),
        T(test_fail_without_retry),
        T(test_cancel),
        T(test_recover_after_crash),
        T(test_recover_past_max_attempts),
        T(test_submit_validation),
        T(test_counts),
        T(test_list_newest_first),
        T(test_find_key),
        T(test_status_names),
        T(test_durable_across_reopen),
        T(test_inside_caller_transaction),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
