/* test_jobq.c — the durable job queue on a real database file: a job's
 * lifecycle with its stored result and SHA-256, claim order, retries with
 * backoff, attempts running out, cancelling, recovering after a crash (a
 * child process that claims and dies without closing), validation, the
 * read side (get, list, filtered lists, counts, find by key, attempts),
 * delayed jobs, idempotency keys, priorities, events, and every change
 * inside and outside a caller's transaction (TX). Dependencies and retry
 * by hand are in test_jobq_deps.c, blobs in test_blobs.c. */
#include "jobq_fixture.h"

#include <signal.h>
#include <sys/wait.h>

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
        assert_true(delay <= 60000 + 5);
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

    /* Start-up recovery never takes a live process's jobs (b is ours);
     * release gives back only our own, and nothing twice. */
    assert_int_equal(jobq_complete(f->q, a, "done", 4, NULL, 0), 0);
    assert_int_equal(jobq_recover(f->q, &requeued), 0);
    assert_int_equal(requeued, 0);
    assert_int_equal(jobq_release(f->q, &requeued), 0);
    assert_int_equal(requeued, 1);
    assert_sql_text(f, "succeeded", "SELECT outcome FROM attempts WHERE job_id = 1 AND n = 2");
    assert_int_equal(jobq_release(f->q, &requeued), 0);
    assert_int_equal(requeued, 0);
}

/* A job another live mcpdeck process is running is left alone by
 * start-up recovery; once that process is gone it is requeued. */
static void test_recover_spares_live_owner(void **state)
{
    struct fix *f = *state;
    struct jobq_spec s = {.server = "fs", .tool = "x"};
    int64_t id;
    char *err = NULL;
    assert_int_equal(jobq_submit(f->q, &s, &id, &err), 0);
    int ready[2];
    assert_int_equal(pipe(ready), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        struct db *db = NULL;
        struct jobq *q = NULL;
        struct job j;
        int ok = db_open(f->path, &db, &err) == 0 && jobq_open(db, 1000, 3, &q) == 0 &&
                 jobq_claim(q, &j) == 1;
        if (write(ready[1], ok ? "y" : "n", 1) != 1)
            _exit(1);
        pause();   /* alive, holding the job, until killed */
        _exit(0);
    }
    char c = 0;
    assert_int_equal(read(ready[0], &c, 1), 1);
    assert_int_equal(c, 'y');
    int requeued = -1;
    assert_int_equal(jobq_recover(f->q, &requeued), 0);
    assert_int_equal(requeued, 0);
    assert_sql_text(f, "running", "SELECT status FROM jobs");
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    assert_int_equal(jobq_recover(f->q, &requeued), 0);
    assert_int_equal(requeued, 1);
    assert_sql_text(f, "queued", "SELECT status FROM jobs");
    close(ready[0]);
    close(ready[1]);
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
    assert_int_equal(jobq_release(f->q, &requeued), 0);
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
                                        "cancelled", "skipped"};
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

/* A job with run_at in the future waits even when it has the highest
 * priority; others run meanwhile. */
static void test_run_at_delays_claim(void **state)
{
    struct fix *f = *state;
    int64_t now = util_wall_ms();
    struct jobq_spec s = {.key = "later", .server = "fs", .tool = "x", .priority = 9,
                          .run_at_ms = now + 60000};
    int64_t later, past, id;
    char *err = NULL;
    assert_int_equal(jobq_submit(f->q, &s, &later, &err), 0);
    s.key = "past";
    s.priority = 0;
    s.run_at_ms = now - 1000;
    assert_int_equal(jobq_submit(f->q, &s, &past, &err), 0);
    int64_t plain = submit(f, "plain", NULL, 0);
    turn(f);

    struct job j;
    assert_int_equal(jobq_get(f->q, later, &j), 0);
    assert_int_equal(j.run_at_ms, now + 60000);
    job_fini(&j);
    assert_int_equal(claim_id(f), past);
    assert_int_equal(claim_id(f), plain);
    assert_int_equal(claim_id(f), 0);
    turn(f);
    assert_int_equal(db_exec(f->db, "UPDATE jobs SET run_at_ms = 1 WHERE key = 'later'", NULL),
                     0);
    assert_int_equal(claim_id(f), later);

    s.run_at_ms = -5;
    assert_int_equal(jobq_submit(f->q, &s, &id, &err), -1);
    assert_non_null(strstr(err, "must not be negative"));
    free(err);

    /* a delay counts from the job's own creation time, not the caller's */
    struct jobq_spec d = {.key = "delayed", .server = "fs", .tool = "x", .delay_ms = 1200};
    int64_t did;
    assert_int_equal(jobq_submit(f->q, &d, &did, &err), 0);
    assert_int_equal(jobq_get(f->q, did, &j), 0);
    assert_int_equal(j.run_at_ms - j.created_ms, 1200);
    job_fini(&j);
    d.delay_ms = -1;
    assert_int_equal(jobq_submit(f->q, &d, &did, &err), -1);
    assert_non_null(strstr(err, "delay must not be negative"));
    free(err);
}

static void test_idempotency_key(void **state)
{
    struct fix *f = *state;
    struct jobq_spec s = {.key = "a", .server = "fs", .tool = "x",
                          .idempotency_key = "deploy-42"};
    int64_t first = 0, again = 0;
    char *err = NULL;
    assert_int_equal(jobq_submit(f->q, &s, &first, &err), 0);
    s.args_json = "{\"different\": true}";   /* ignored: the key decides */
    s.key = "b";
    assert_int_equal(jobq_submit(f->q, &s, &again, &err), 0);
    assert_int_equal(again, first);
    assert_int_equal(sql_int(f, "SELECT COUNT(*) FROM jobs"), 1);
    assert_sql_text(f, "{}", "SELECT args_json FROM jobs");
    turn(f);

    struct jobq_spec g[3] = {
        {.server = "fs", .tool = "x", .idempotency_key = "deploy-42"},
        {.server = "fs", .tool = "y", .idempotency_key = "other"},
        {.server = "fs", .tool = "z", .idempotency_key = "other"},
    };
    int64_t ids[3];
    int created[3] = {-1, -1, -1};
    assert_int_equal(jobq_submit_many(f->q, g, 3, ids, created, &err), 0);
    assert_int_equal(ids[0], first);
    assert_int_equal(created[0], 0);
    assert_int_equal(created[1], 1);
    assert_int_equal(created[2], 0);
    assert_int_equal(ids[2], ids[1]);
    assert_int_equal(sql_int(f, "SELECT COUNT(*) FROM jobs"), 2);

    /* Finished jobs keep their key: resubmitting does not run it again. */
    run_ok(f, first);
    turn(f);
    assert_int_equal(jobq_submit_many(f->q, &g[0], 1, ids, created, &err), 0);
    assert_int_equal(ids[0], first);
    assert_int_equal(created[0], 0);
    struct job j;
    assert_int_equal(jobq_get(f->q, first, &j), 0);
    assert_int_equal(j.status, JOB_SUCCEEDED);
    assert_string_equal(j.idempotency_key, "deploy-42");
    job_fini(&j);
    assert_int_equal(jobq_get(f->q, submit(f, "plain", NULL, 0), &j), 0);
    assert_null(j.idempotency_key);
    job_fini(&j);

    /* The unique index holds even against a writer that skips the check. */
    assert_int_equal(db_exec(f->db, "INSERT INTO jobs (server, tool, status, max_attempts, "
                                    "timeout_ms, created_ms, idempotency_key) VALUES "
                                    "('fs', 'x', 'queued', 1, 1, 1, 'other')", NULL), -1);
    s.idempotency_key = "";
    assert_int_equal(jobq_submit(f->q, &s, &again, &err), -1);
    assert_non_null(strstr(err, "idempotency key is empty"));
    free(err);
}

static void test_set_priority(void **state)
{
    struct fix *f = *state;
    int64_t a = submit(f, "a", NULL, 0);
    int64_t b = submit(f, "b", NULL, 0);
    int64_t c = submit(f, "c", NULL, 0);
    assert_int_equal(jobq_set_priority(f->q, c, 10), 0);
    assert_int_equal(jobq_set_priority(f->q, b, -5), 0);
    turn(f);
    assert_int_equal(claim_id(f), c);
    assert_int_equal(jobq_set_priority(f->q, c, 1), -1);      /* running */
    assert_int_equal(jobq_set_priority(f->q, 9999, 1), -1);   /* no such job */
    assert_int_equal(claim_id(f), a);
    assert_int_equal(claim_id(f), b);
    struct job j;
    assert_int_equal(jobq_get(f->q, b, &j), 0);
    assert_int_equal(j.priority, -5);
    job_fini(&j);
    assert_int_equal(sql_int(f, "SELECT priority FROM jobs WHERE id = %lld", (long long)c), 10);
}

static void assert_ids(struct job *v, size_t n, const int64_t *want, size_t nwant)
{
    assert_int_equal(n, nwant);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(v[i].id, want[i]);
    jobq_jobs_free(v, n);
}

static void test_list_filtered(void **state)
{
    struct fix *f = *state;
    int64_t a = submit(f, "a", NULL, 0);
    int64_t b = submit(f, "b", NULL, 0);
    int64_t c = submit(f, "c", NULL, 0);
    int64_t d = submit(f, "d", NULL, 0);
    int64_t e = submit(f, "e", "x.yaml", 0);
    run_ok(f, a);
    run_fail(f, b, "broken");
    assert_int_equal(jobq_cancel(f->q, c), 0);
    assert_int_equal(jobq_set_priority(f->q, d, -1), 0);
    run_fail(f, e, "also broken");
    turn(f);

    struct job *v = NULL;
    size_t n = 0;
    struct jobq_filter flt = {.status_mask = 1u << JOB_FAILED};
    assert_int_equal(jobq_list_filtered(f->q, &flt, &v, &n), 0);
    assert_string_equal(v[0].error, "also broken");
    assert_int_equal(v[1].status, JOB_FAILED);
    assert_ids(v, n, (int64_t[]){e, b}, 2);

    flt.status_mask = 1u << JOB_FAILED | 1u << JOB_CANCELLED | 1u << JOB_QUEUED;
    assert_int_equal(jobq_list_filtered(f->q, &flt, &v, &n), 0);
    assert_ids(v, n, (int64_t[]){e, d, c, b}, 4);

    flt.batch = "x.yaml";
    assert_int_equal(jobq_list_filtered(f->q, &flt, &v, &n), 0);
    assert_ids(v, n, (int64_t[]){e}, 1);

    flt = (struct jobq_filter){.limit = 2};
    assert_int_equal(jobq_list_filtered(f->q, &flt, &v, &n), 0);
    assert_ids(v, n, (int64_t[]){e, d}, 2);
    flt.before_id = d;   /* the next page */
    assert_int_equal(jobq_list_filtered(f->q, &flt, &v, &n), 0);
    assert_ids(v, n, (int64_t[]){c, b}, 2);

    flt = (struct jobq_filter){.status_mask = 1u << JOB_SKIPPED};
    v = (struct job *)&flt;   /* must be overwritten */
    assert_int_equal(jobq_list_filtered(f->q, &flt, &v, &n), 0);
    assert_null(v);
    assert_int_equal(n, 0);
    flt.status_mask = 1u << 20;   /* no such status */
    assert_int_equal(jobq_list_filtered(f->q, &flt, &v, &n), 0);
    assert_int_equal(n, 0);
    flt.status_mask = 0;
    assert_int_equal(jobq_list_filtered(f->q, &flt, &v, &n), 0);
    assert_ids(v, n, (int64_t[]){e, d, c, b, a}, 5);
    jobq_jobs_free(NULL, 0);
}

static void test_attempts_history(void **state)
{
    struct fix *f = *state;
    int64_t id = submit(f, "flaky", NULL, 0);
    int64_t t0 = util_wall_ms();
    assert_int_equal(claim_id(f), id);
    assert_int_equal(jobq_fail(f->q, id, "e1", 1, NULL, 0, NULL, NULL), 0);
    make_ready(f);
    turn(f);
    assert_int_equal(claim_id(f), id);
    assert_int_equal(jobq_fail(f->q, id, "e2", 1, NULL, 0, NULL, NULL), 0);
    make_ready(f);
    assert_int_equal(claim_id(f), id);

    struct jobq_attempt *a = NULL;
    size_t n = 0;
    assert_int_equal(jobq_attempts(f->q, id, &a, &n), 0);
    assert_int_equal(n, 3);
    assert_int_equal(a[0].n, 1);
    assert_string_equal(a[0].outcome, "failed");
    assert_string_equal(a[0].error, "e1");
    assert_true(a[0].started_ms >= t0 && a[0].finished_ms >= a[0].started_ms);
    assert_string_equal(a[1].outcome, "failed");
    assert_string_equal(a[1].error, "e2");
    assert_int_equal(a[2].n, 3);
    assert_string_equal(a[2].outcome, "running");
    assert_int_equal(a[2].finished_ms, 0);
    assert_null(a[2].error);
    jobq_attempts_free(a, n);

    turn(f);
    assert_int_equal(jobq_complete(f->q, id, "done", 4, NULL, 0), 0);
    assert_int_equal(jobq_attempts(f->q, id, &a, &n), 0);
    assert_int_equal(n, 3);
    assert_string_equal(a[2].outcome, "succeeded");
    assert_true(a[2].finished_ms > 0);
    jobq_attempts_free(a, n);

    assert_int_equal(jobq_attempts(f->q, 4242, &a, &n), 0);
    assert_int_equal(n, 0);
    assert_null(a);
    jobq_attempts_free(NULL, 0);
}

static void test_events(void **state)
{
    struct fix *f = *state;
    int64_t id = submit(f, "a", NULL, 0);
    int64_t other = submit(f, "b", NULL, 0);
    int64_t t0 = util_wall_ms();
    assert_int_equal(jobq_event_add(f->q, id, "progress", "{\"progress\": 1, \"total\": 4}"), 0);
    assert_int_equal(jobq_event_add(f->q, other, "log", "\"other job\""), 0);
    assert_int_equal(jobq_event_add(f->q, id, "log", "\"hello\""), 0);
    assert_int_equal(jobq_event_add(f->q, id, "route", "{\"server\": \"fs\"}"), 0);
    assert_int_equal(jobq_event_add(f->q, id, "state", NULL), 0);
    assert_int_equal(jobq_event_add(f->q, 0, "log", "\"not about a job\""), 0);
    turn(f);
    /* Refused: unknown kind, no kind, data that is not JSON, no such job. */
    assert_int_equal(jobq_event_add(f->q, id, "bogus", NULL), -1);
    assert_int_equal(jobq_event_add(f->q, id, NULL, NULL), -1);
    assert_int_equal(jobq_event_add(f->q, id, "log", "{broken"), -1);
    assert_int_equal(jobq_event_add(f->q, id, "log", "1 2"), -1);
    assert_int_equal(jobq_event_add(f->q, 9999, "log", "\"x\""), -1);
    assert_int_equal(sql_int(f, "SELECT COUNT(*) FROM events"), 6);

    struct jobq_event *ev = NULL;
    size_t n = 0;
    assert_int_equal(jobq_events(f->q, id, 0, 0, &ev, &n), 0);
    assert_int_equal(n, 4);
    static const char *const kinds[] = {"progress", "log", "route", "state"};
    for (size_t i = 0; i < n; i++) {
        assert_string_equal(ev[i].kind, kinds[i]);
        assert_int_equal(ev[i].job_id, id);
        assert_true(ev[i].ts_ms >= t0);
        assert_true(i == 0 || ev[i].id > ev[i - 1].id);
    }
    assert_string_equal(ev[0].data_json, "{\"progress\": 1, \"total\": 4}");
    assert_string_equal(ev[1].data_json, "\"hello\"");
    assert_null(ev[3].data_json);
    int64_t after = ev[1].id;
    jobq_events_free(ev, n);

    assert_int_equal(jobq_events(f->q, id, after, 0, &ev, &n), 0);
    assert_int_equal(n, 2);
    assert_string_equal(ev[0].kind, "route");
    jobq_events_free(ev, n);
    assert_int_equal(jobq_events(f->q, id, 0, 1, &ev, &n), 0);
    assert_int_equal(n, 1);
    assert_string_equal(ev[0].kind, "progress");
    jobq_events_free(ev, n);
    assert_int_equal(jobq_events(f->q, 777, 0, 0, &ev, &n), 0);
    assert_int_equal(n, 0);
    assert_null(ev);
    jobq_events_free(NULL, 0);
}

/* Before 002 a skipped row read as cancelled; now it is its own status. */
static void test_skipped_counted_and_read(void **state)
{
    struct fix *f = *state;
    int64_t a = submit(f, "a", NULL, 0);
    submit(f, "b", NULL, 0);
    assert_int_equal(db_exec(f->db, "UPDATE jobs SET status = 'skipped' WHERE key = 'a'", NULL),
                     0);
    struct jobq_counts c;
    assert_int_equal(jobq_counts(f->q, &c), 0);
    assert_int_equal(c.n[JOB_SKIPPED], 1);
    assert_int_equal(c.n[JOB_QUEUED], 1);
    assert_int_equal(c.n[JOB_CANCELLED], 0);
    struct job j;
    assert_int_equal(jobq_get(f->q, a, &j), 0);
    assert_int_equal(j.status, JOB_SKIPPED);
    job_fini(&j);
    assert_int_equal(jobq_cancel(f->q, a), -1);   /* already ended */
}

/* A routed task has no server until the engine routes it; the request and
 * then the route are kept with the job. */
static void test_routed_job(void **state)
{
    struct fix *f = *state;
    char *err = NULL;
    int64_t id = 0;
    struct jobq_spec spec = {.tool = "echo", .args_json = "{}",
                             .route_json = "{\"request\":{\"type\":\"review\"}}"};
    assert_int_equal(jobq_submit(f->q, &spec, &id, &err), 0);
    turn(f);
    struct job j;
    assert_int_equal(jobq_claim(f->q, &j), 1);
    assert_int_equal(j.id, id);
    assert_null(j.server);
    assert_string_equal(j.route_json, "{\"request\":{\"type\":\"review\"}}");
    job_fini(&j);
    assert_int_equal(jobq_set_route(f->q, id, "a", "{\"chosen\":\"a\"}"), 0);
    assert_int_equal(jobq_set_route(f->q, id + 100, "a", "{}"), -1);
    turn(f);
    assert_int_equal(jobq_get(f->q, id, &j), 0);
    assert_string_equal(j.server, "a");
    assert_string_equal(j.route_json, "{\"chosen\":\"a\"}");
    job_fini(&j);

    /* no server and no route request, or a request that is not an object */
    spec.route_json = NULL;
    assert_int_equal(jobq_submit(f->q, &spec, &id, &err), -1);
    assert_non_null(strstr(err, "needs a server"));
    free(err);
    spec.route_json = "[1]";
    assert_int_equal(jobq_submit(f->q, &spec, &id, &err), -1);
    assert_string_equal(err, "(routed).echo: the route request must be a JSON object");
    free(err);
    /* a task naming its server keeps no route */
    spec = (struct jobq_spec){.server = "s", .tool = "t"};
    assert_int_equal(jobq_submit(f->q, &spec, &id, &err), 0);
    assert_int_equal(jobq_get(f->q, id, &j), 0);
    assert_null(j.route_json);
    job_fini(&j);
}

int main(void)
{
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
        T(test_recover_spares_live_owner),
        T(test_submit_validation),
        T(test_counts),
        T(test_list_newest_first),
        T(test_find_key),
        T(test_status_names),
        T(test_durable_across_reopen),
        T(test_inside_caller_transaction),
        T(test_run_at_delays_claim),
        T(test_idempotency_key),
        T(test_set_priority),
        T(test_list_filtered),
        T(test_attempts_history),
        T(test_events),
        T(test_skipped_counted_and_read),
        /* The same again inside a caller's transaction (TX mode). */
        TX(test_lifecycle_with_result),
        TX(test_binary_and_empty_results),
        TX(test_priority_then_fifo),
        TX(test_claim_empty),
        TX(test_retry_backoff_and_exhaustion),
        TX(test_backoff_is_capped),
        TX(test_fail_without_retry),
        TX(test_cancel),
        TX(test_recover_past_max_attempts),
        TX(test_submit_validation),
        TX(test_counts),
        TX(test_list_newest_first),
        TX(test_find_key),
        TX(test_run_at_delays_claim),
        TX(test_idempotency_key),
        TX(test_set_priority),
        TX(test_list_filtered),
        TX(test_attempts_history),
        TX(test_events),
        TX(test_skipped_counted_and_read),
        T(test_routed_job),
        TX(test_routed_job),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
