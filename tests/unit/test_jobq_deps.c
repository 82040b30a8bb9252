/* test_jobq_deps.c — jobs that need other jobs: claim holds a job back
 * until every job it needs succeeded; groups submitted atomically with
 * needs by key (unknown and ambiguous keys, cycles, missing ids refused
 * with nothing written); a failure, cancel or skip skipping the
 * dependents transitively with a message naming the need; retry by hand
 * bringing them back; the dependency lists; the change callback. Each
 * test runs with every call on its own (T) and inside a caller's
 * transaction (TX). */
#include "jobq_fixture.h"

static struct jobq_spec spec(const char *key)
{
    struct jobq_spec s = {0};
    s.key = key;
    s.batch = "deps.yaml";
    s.server = "fs";
    s.tool = "list_directory";
    return s;
}

/* Submit one job needing the given ids. */
static int64_t submit_needing(struct fix *f, const char *key, const int64_t *needs, size_t n)
{
    struct jobq_spec s = spec(key);
    s.needs = needs;
    s.nneeds = n;
    int64_t id = 0;
    char *err = NULL;
    assert_int_equal(jobq_submit(f->q, &s, &id, &err), 0);
    assert_null(err);
    return id;
}

/* Submit the chain a <- b <- c (c needs b needs a) as one group. */
static void submit_chain(struct fix *f, int64_t ids[3])
{
    static const char *const na[] = {"a"}, *const nb[] = {"b"};
    struct jobq_spec g[3] = {spec("a"), spec("b"), spec("c")};
    g[1].needs_keys = na;
    g[1].nneeds_keys = 1;
    g[2].needs_keys = nb;
    g[2].nneeds_keys = 1;
    char *err = NULL;
    int created[3] = {0};
    assert_int_equal(jobq_submit_many(f->q, g, 3, ids, created, &err), 0);
    assert_null(err);
    assert_true(ids[0] < ids[1] && ids[1] < ids[2]);
    assert_true(created[0] && created[1] && created[2]);
}

static void expect_submit_error(struct fix *f, const struct jobq_spec *g, size_t n,
                                const char *want)
{
    long long before = sql_int(f, "SELECT COUNT(*) FROM jobs");
    long long deps = sql_int(f, "SELECT COUNT(*) FROM job_deps");
    int64_t ids[8];
    char *err = NULL;
    assert_int_equal(jobq_submit_many(f->q, g, n, ids, NULL, &err), -1);
    assert_non_null(err);
    if (!strstr(err, want))
        fail_msg("expected \"%s\" in \"%s\"", want, err);
    free(err);
    assert_int_equal(sql_int(f, "SELECT COUNT(*) FROM jobs"), before);
    assert_int_equal(sql_int(f, "SELECT COUNT(*) FROM job_deps"), deps);
}

/* === Tests === */

static void test_needs_hold_claim(void **state)
{
    struct fix *f = *state;
    int64_t a = submit(f, "a", NULL, 0);
    int64_t x = submit(f, "x", NULL, 0);
    int64_t b = submit_needing(f, "b", (int64_t[]){a, x}, 2);
    assert_int_equal(jobq_set_priority(f->q, b, 100), 0);   /* priority does not jump needs */
    turn(f);
    assert_int_equal(claim_id(f), a);
    assert_int_equal(claim_id(f), x);
    assert_int_equal(claim_id(f), 0);
    assert_int_equal(jobq_complete(f->q, a, "ok", 2, NULL, 0), 0);
    assert_int_equal(claim_id(f), 0);      /* x still running */
    turn(f);
    assert_int_equal(jobq_complete(f->q, x, "ok", 2, NULL, 0), 0);
    assert_int_equal(claim_id(f), b);

    /* A retried need (queued again after a failed attempt) holds too. */
    int64_t c = submit(f, "c", NULL, 0);
    int64_t d = submit_needing(f, "d", &c, 1);
    assert_int_equal(claim_id(f), c);
    int requeued = 0;
    assert_int_equal(jobq_fail(f->q, c, "flaky", 1, NULL, 0, NULL, &requeued), 0);
    assert_int_equal(requeued, 1);
    assert_job_state(f, d, "queued|-");
    make_ready(f);
    assert_int_equal(claim_id(f), c);
    assert_int_equal(claim_id(f), 0);
}

static void test_group_with_needs_keys(void **state)
{
    struct fix *f = *state;
    int64_t ids[3];
    submit_chain(f, ids);
    turn(f);
    assert_int_equal(sql_int(f, "SELECT COUNT(*) FROM job_deps"), 2);
    assert_int_equal(sql_int(f, "SELECT needs_id FROM job_deps WHERE job_id = %lld",
                             (long long)ids[2]), ids[1]);
    run_ok(f, ids[0]);
    assert_int_equal(claim_id(f), ids[1]);
    assert_int_equal(claim_id(f), 0);
    turn(f);
    assert_int_equal(jobq_complete(f->q, ids[1], "ok", 2, NULL, 0), 0);
    run_ok(f, ids[2]);
    assert_int_equal(claim_id(f), 0);
}

static void test_fail_skips_chain(void **state)
{
    struct fix *f = *state;
    int64_t ids[3];
    submit_chain(f, ids);
    int64_t other = submit(f, "other", NULL, 0);
    turn(f);
    assert_int_equal(claim_id(f), ids[0]);
    int requeued = -1;
    /* A retried failure skips nothing yet. */
    assert_int_equal(jobq_fail(f->q, ids[0], "boom", 1, NULL, 0, NULL, &requeued), 0);
    assert_int_equal(requeued, 1);
    assert_job_state(f, ids[1], "queued|-");
    make_ready(f);
    assert_int_equal(claim_id(f), ids[0]);
    assert_int_equal(jobq_fail(f->q, ids[0], "boom", 0, NULL, 0, NULL, &requeued), 0);

    assert_job_state(f, ids[0], "failed|boom");
    assert_job_state(f, ids[1], "skipped|skipped: needs a which failed");
    assert_job_state(f, ids[2], "skipped|skipped: needs b which skipped");
    assert_true(sql_int(f, "SELECT finished_ms FROM jobs WHERE id = %lld",
                        (long long)ids[2]) > 0);
    assert_int_equal(sql_int(f, "SELECT COUNT(*) FROM attempts WHERE job_id <> %lld",
                             (long long)ids[0]), 0);
    struct jobq_counts c;
    assert_int_equal(jobq_counts(f->q, &c), 0);
    assert_int_equal(c.n[JOB_SKIPPED], 2);
    assert_int_equal(c.n[JOB_FAILED], 1);
    assert_int_equal(c.n[JOB_QUEUED], 1);
    assert_int_equal(claim_id(f), other);
    assert_int_equal(claim_id(f), 0);
    struct job j;
    assert_int_equal(jobq_get(f->q, ids[2], &j), 0);
    assert_int_equal(j.status, JOB_SKIPPED);
    job_fini(&j);
}

/* Needs without keys are named by #id; cancel (queued or running) skips. */
static void test_cancel_skips_dependents(void **state)
{
    struct fix *f = *state;
    struct jobq_spec s = spec(NULL);
    int64_t a, b;
    char *err = NULL;
    assert_int_equal(jobq_submit(f->q, &s, &a, &err), 0);
    b = submit_needing(f, "b", &a, 1);
    assert_int_equal(jobq_cancel(f->q, a), 0);
    char *want = xasprintf("skipped|skipped: needs #%lld which cancelled", (long long)a);
    assert_job_state(f, b, want);
    free(want);
    turn(f);

    int64_t r = submit(f, "r", NULL, 0);
    int64_t d = submit_needing(f, "d", &r, 1);
    assert_int_equal(claim_id(f), r);
    assert_int_equal(jobq_cancel(f->q, r), 0);
    assert_job_state(f, d, "skipped|skipped: needs r which cancelled");
    assert_int_equal(jobq_cancel(f->q, d), -1);   /* skipped is an end state */
}

/* A need that already ended badly: the new job (and its group
 * dependents) start skipped; a need that succeeded does not hold. */
static void test_submit_after_need_ended(void **state)
{
    struct fix *f = *state;
    int64_t bad = submit(f, "bad", NULL, 0);
    int64_t good = submit(f, "good", NULL, 0);
    run_fail(f, bad, "no");
    run_ok(f, good);
    turn(f);

    static const char *const nx[] = {"x"};
    struct jobq_spec g[2] = {spec("x"), spec("y")};
    g[0].needs = (int64_t[]){good, bad};
    g[0].nneeds = 2;
    g[1].needs_keys = nx;
    g[1].nneeds_keys = 1;
    int64_t ids[2];
    char *err = NULL;
    assert_int_equal(jobq_submit_many(f->q, g, 2, ids, NULL, &err), 0);
    assert_job_state(f, ids[0], "skipped|skipped: needs bad which failed");
    assert_job_state(f, ids[1], "skipped|skipped: needs x which skipped");

    int64_t z = submit_needing(f, "z", &good, 1);
    assert_int_equal(claim_id(f), z);
}

static void test_submit_errors(void **state)
{
    struct fix *f = *state;
    int64_t keep = submit(f, "keep", NULL, 0);
    static const char *const nz[] = {"zz"}, *const na[] = {"a"}, *const nb[] = {"b"},
                             *const nc[] = {"c"}, *const ndup[] = {"dup"};
    struct jobq_spec g[4] = {spec("a"), spec("b"), spec("c"), spec("d")};

    g[1].needs_keys = nz;
    g[1].nneeds_keys = 1;
    expect_submit_error(f, g, 2, "'b' needs 'zz', which is not a task of this group");

    /* a needs c, c needs b, b needs a */
    g[0].needs_keys = nc;
    g[0].nneeds_keys = 1;
    g[1].needs_keys = na;
    g[2].needs_keys = nb;
    g[2].nneeds_keys = 1;
    expect_submit_error(f, g, 3, "needs form a cycle: ");
    int64_t ids[4];
    char *err = NULL;
    assert_int_equal(jobq_submit_many(f->q, g, 3, ids, NULL, &err), -1);
    assert_non_null(strstr(err, "a -> c -> b -> a"));
    free(err);
    err = NULL;

    /* Needing itself. */
    struct jobq_spec self = spec("me");
    static const char *const nme[] = {"me"};
    self.needs_keys = nme;
    self.nneeds_keys = 1;
    expect_submit_error(f, &self, 1, "cycle: me -> me");

    /* Two tasks with the key that is needed. */
    struct jobq_spec dup[3] = {spec("dup"), spec("dup"), spec("e")};
    dup[2].needs_keys = ndup;
    dup[2].nneeds_keys = 1;
    expect_submit_error(f, dup, 3, "more than one task of this group has that key");
    dup[2].nneeds_keys = 0;   /* not needed: duplicates are fine */
    assert_int_equal(jobq_submit_many(f->q, dup, 3, ids, NULL, &err), 0);

    /* A needed id that does not exist: undone after the inserts. */
    struct jobq_spec gone[2] = {spec("p"), spec("q")};
    gone[1].needs = (int64_t[]){keep, 987654};
    gone[1].nneeds = 2;
    expect_submit_error(f, gone, 2, "'q' needs job #987654, which does not exist");

    /* Needs by key in a single submit, and an invalid spec in a group. */
    expect_submit_error(f, &g[1], 1, "which is not a task of this group");
    struct jobq_spec bad[2] = {spec("ok"), spec("bad")};
    bad[1].args_json = "[1]";
    expect_submit_error(f, bad, 2, "must be a JSON object");
    bad[1] = spec("bad");
    bad[1].nneeds = 1;   /* counted, not given */
    expect_submit_error(f, bad, 2, "needs counted but not given");

    /* Two specs that are one job by idempotency key: the new one cannot
     * need the other (itself). */
    struct jobq_spec same[2] = {spec("s1"), spec("s2")};
    static const char *const ns2[] = {"s2"};
    same[0].idempotency_key = same[1].idempotency_key = "one";
    same[0].needs_keys = ns2;
    same[0].nneeds_keys = 1;
    expect_submit_error(f, same, 2, "which is the same job");

    assert_int_equal(jobq_submit_many(f->q, NULL, 0, ids, NULL, &err), 0);   /* empty */
    turn(f);
    assert_int_equal(sql_int(f, "SELECT COUNT(*) FROM jobs"), 4);   /* keep + dup, dup, e */
}

/* A long chain: no recursion limits in the cycle check or the skipping. */
static void test_long_chain(void **state)
{
    struct fix *f = *state;
    enum { N = 3000 };
    struct jobq_spec *g = xcalloc(N, sizeof *g);
    char (*keys)[16] = xcalloc(N, sizeof *keys);
    const char **needs = xcalloc(N, sizeof *needs);
    for (int i = 0; i < N; i++) {
        snprintf(keys[i], sizeof keys[i], "k%d", i);
        g[i] = spec(keys[i]);
        if (i > 0) {
            needs[i] = keys[i - 1];
            g[i].needs_keys = &needs[i];
            g[i].nneeds_keys = 1;
        }
    }
    int64_t *ids = xcalloc(N, sizeof *ids);
    char *err = NULL;
    assert_int_equal(jobq_submit_many(f->q, g, N, ids, NULL, &err), 0);
    turn(f);
    assert_int_equal(claim_id(f), ids[0]);
    assert_int_equal(claim_id(f), 0);
    assert_int_equal(jobq_fail(f->q, ids[0], "first link broke", 0, NULL, 0, NULL, NULL), 0);
    assert_int_equal(sql_int(f, "SELECT COUNT(*) FROM jobs WHERE status = 'skipped'"), N - 1);
    turn(f);
    int restored = 0;
    assert_int_equal(jobq_retry(f->q, ids[0], &restored, &err), 0);
    assert_int_equal(restored, N - 1);

    /* Close the loop: k0 needs the last one. */
    needs[0] = keys[N - 1];
    g[0].needs_keys = &needs[0];
    g[0].nneeds_keys = 1;
    assert_int_equal(jobq_submit_many(f->q, g, N, ids, NULL, &err), -1);
    assert_non_null(strstr(err, "needs form a cycle: k0 -> k2999 -> k2998 -> "));
    assert_non_null(strstr(err, " -> ... (2993 more) -> k2 -> k1 -> k0"));
    assert_true(strlen(err) < 200);
    free(err);
    free(g);
    free(keys);
    free(needs);
    free(ids);
}

static void test_retry_restores_dependents(void **state)
{
    struct fix *f = *state;
    int64_t ids[3];
    submit_chain(f, ids);
    struct jobq_spec s = spec("solo");
    s.max_attempts = 1;
    int64_t solo;
    char *err = NULL;
    assert_int_equal(jobq_submit(f->q, &s, &solo, &err), 0);
    assert_int_equal(claim_id(f), ids[0]);
    assert_int_equal(jobq_fail(f->q, ids[0], "boom", 0, "trace", 5, "text/plain", NULL), 0);
    run_fail(f, solo, "once");
    turn(f);

    int restored = -1;
    assert_int_equal(jobq_retry(f->q, ids[0], &restored, &err), 0);
    assert_null(err);
    assert_int_equal(restored, 2);
    assert_job_state(f, ids[0], "queued|-");
    assert_job_state(f, ids[1], "queued|-");
    assert_job_state(f, ids[2], "queued|-");
    struct job j;
    assert_int_equal(jobq_get(f->q, ids[0], &j), 0);
    assert_int_equal(j.attempts, 1);                   /* kept */
    assert_int_equal(j.max_attempts, DEFAULT_ATTEMPTS);   /* not exhausted: unchanged */
    assert_int_equal(j.finished_ms, 0);
    assert_int_equal(j.has_result, 0);                 /* the failed output is gone */
    job_fini(&j);
    assert_int_equal(sql_int(f, "SELECT COUNT(*) FROM attempts WHERE job_id = %lld",
                             (long long)ids[0]), 1);   /* history kept */

    /* Exhausted: one more attempt allowed, counting on. */
    assert_int_equal(jobq_retry(f->q, solo, NULL, &err), 0);
    assert_int_equal(jobq_get(f->q, solo, &j), 0);
    assert_int_equal(j.max_attempts, 2);
    job_fini(&j);
    turn(f);
    run_ok(f, ids[0]);
    struct job c;
    assert_int_equal(jobq_claim(f->q, &c), 1);
    assert_int_equal(c.id, ids[1]);
    job_fini(&c);
    assert_int_equal(jobq_claim(f->q, &c), 1);
    assert_int_equal(c.id, solo);
    assert_int_equal(c.attempts, 2);
    job_fini(&c);

    /* Retrying a skipped job directly: its own dependents come back. */
    int64_t more[3];
    struct jobq_spec g[3] = {spec("m0"), spec("m1"), spec("m2")};
    static const char *const n0[] = {"m0"}, *const n1[] = {"m1"};
    g[1].needs_keys = n0;
    g[1].nneeds_keys = 1;
    g[2].needs_keys = n1;
    g[2].nneeds_keys = 1;
    assert_int_equal(jobq_submit_many(f->q, g, 3, more, NULL, &err), 0);
    assert_int_equal(jobq_cancel(f->q, more[0]), 0);
    assert_job_state(f, more[2], "skipped|skipped: needs m1 which skipped");
    assert_int_equal(jobq_retry(f->q, more[1], NULL, &err), -1);   /* m0 still cancelled */
    char *want = xasprintf("job %lld needs m0 which cancelled: retry that first",
                           (long long)more[1]);
    assert_string_equal(err, want);
    free(want);
    free(err);
    err = NULL;
    assert_int_equal(jobq_retry(f->q, more[0], &restored, &err), 0);
    assert_int_equal(restored, 2);
    assert_job_state(f, more[2], "queued|-");
}

/* d needs a and x; both failed. Retrying a leaves d skipped (naming x
 * now); retrying x brings it back. A diamond comes back whole. */
static void test_retry_with_other_bad_need(void **state)
{
    struct fix *f = *state;
    int64_t a = submit(f, "a", NULL, 0);
    int64_t x = submit(f, "x", NULL, 0);
    int64_t d = submit_needing(f, "d", (int64_t[]){a, x}, 2);
    run_fail(f, a, "a broke");
    run_fail(f, x, "x broke");
    assert_job_state(f, d, "skipped|skipped: needs a which failed");
    turn(f);
    int restored = -1;
    char *err = NULL;
    assert_int_equal(jobq_retry(f->q, a, &restored, &err), 0);
    assert_int_equal(restored, 0);
    assert_job_state(f, d, "skipped|skipped: needs x which failed");
    assert_int_equal(jobq_retry(f->q, x, &restored, &err), 0);
    assert_int_equal(restored, 1);
    assert_job_state(f, d, "queued|-");
    run_ok(f, a);
    run_ok(f, x);
    run_ok(f, d);
    turn(f);

    /* top <- l, r <- bottom (bottom needs both). */
    int64_t top = submit(f, "top", NULL, 0);
    int64_t l = submit_needing(f, "l", &top, 1);
    int64_t r = submit_needing(f, "r", &top, 1);
    int64_t bottom = submit_needing(f, "bottom", (int64_t[]){l, r}, 2);
    run_fail(f, top, "no");
    assert_job_state(f, bottom, "skipped|skipped: needs l which skipped");
    assert_int_equal(jobq_retry(f->q, top, &restored, &err), 0);
    assert_int_equal(restored, 3);
    assert_job_state(f, bottom, "queued|-");
}

static void test_retry_refused(void **state)
{
    struct fix *f = *state;
    int64_t q = submit(f, "q", NULL, 0);
    int64_t r = submit(f, "r", NULL, 0);
    int64_t s = submit(f, "s", NULL, 0);
    assert_int_equal(claim_id(f), q);
    assert_int_equal(claim_id(f), r);
    assert_int_equal(jobq_complete(f->q, r, "ok", 2, NULL, 0), 0);
    char *err = NULL;
    assert_int_equal(jobq_retry(f->q, q, NULL, &err), -1);
    assert_string_equal(err, "job 1 is running: only failed, cancelled or skipped jobs can be "
                             "retried");
    free(err);
    err = NULL;
    assert_int_equal(jobq_retry(f->q, r, NULL, &err), -1);
    assert_non_null(strstr(err, "is succeeded"));
    free(err);
    err = NULL;
    assert_int_equal(jobq_retry(f->q, s, NULL, &err), -1);
    assert_non_null(strstr(err, "is queued"));
    free(err);
    err = NULL;
    int restored = 7;
    assert_int_equal(jobq_retry(f->q, 4040, &restored, &err), -1);
    assert_string_equal(err, "no job 4040");
    assert_int_equal(restored, 0);
    free(err);
    assert_job_state(f, q, "running|-");
    assert_job_state(f, r, "succeeded|-");
}

static void test_deps_lists(void **state)
{
    struct fix *f = *state;
    int64_t ids[3];
    submit_chain(f, ids);
    int64_t e = submit_needing(f, "e", (int64_t[]){ids[1], ids[0]}, 2);
    int64_t *needs = NULL, *by = NULL;
    size_t nn = 9, nb = 9;
    assert_int_equal(jobq_deps(f->q, ids[1], &needs, &nn, &by, &nb), 0);
    assert_int_equal(nn, 1);
    assert_int_equal(needs[0], ids[0]);
    assert_int_equal(nb, 2);
    assert_int_equal(by[0], ids[2]);
    assert_int_equal(by[1], e);
    free(needs);
    free(by);
    assert_int_equal(jobq_deps(f->q, e, &needs, &nn, &by, &nb), 0);
    assert_int_equal(nn, 2);
    assert_int_equal(needs[0], ids[0]);   /* ascending */
    assert_int_equal(needs[1], ids[1]);
    assert_int_equal(nb, 0);
    assert_null(by);
    free(needs);
    assert_int_equal(jobq_deps(f->q, 31337, &needs, &nn, &by, &nb), 0);
    assert_int_equal(nn + nb, 0);
}

/* A submission resent whole (same idempotency keys) adds nothing. */
static void test_group_resubmitted(void **state)
{
    struct fix *f = *state;
    static const char *const na[] = {"a"};
    struct jobq_spec g[2] = {spec("a"), spec("b")};
    g[0].idempotency_key = "run-7/a";
    g[1].idempotency_key = "run-7/b";
    g[1].needs_keys = na;
    g[1].nneeds_keys = 1;
    int64_t ids[2], again[2];
    int created[2];
    char *err = NULL;
    assert_int_equal(jobq_submit_many(f->q, g, 2, ids, created, &err), 0);
    assert_true(created[0] && created[1]);
    turn(f);
    assert_int_equal(jobq_submit_many(f->q, g, 2, again, created, &err), 0);
    assert_false(created[0] || created[1]);
    assert_memory_equal(ids, again, sizeof ids);
    assert_int_equal(sql_int(f, "SELECT COUNT(*) FROM jobs"), 2);
    assert_int_equal(sql_int(f, "SELECT COUNT(*) FROM job_deps"), 1);
}

/* Inside the caller's transaction a refused group undoes itself only. */
static void test_refused_group_keeps_the_rest(void **state)
{
    struct fix *f = *state;
    int64_t before = submit(f, "before", NULL, 0);
    struct jobq_spec g[2] = {spec("p"), spec("q")};
    g[1].needs = (int64_t[]){before, 555};
    g[1].nneeds = 2;
    expect_submit_error(f, g, 2, "does not exist");
    assert_int_equal(sql_int(f, "SELECT COUNT(*) FROM jobs WHERE key = 'before'"), 1);
    int64_t after = submit(f, "after", NULL, 0);
    turn(f);
    assert_int_equal(claim_id(f), before);
    assert_int_equal(claim_id(f), after);
}

struct seen {
    int64_t id[16];
    enum job_status status[16];
    int n;
    struct fix *f;
};

static void on_change(void *payload, int64_t id, enum job_status status)
{
    struct seen *s = payload;
    assert_true(s->n < 16);
    /* Called after the change: the row already says so. */
    struct job j;
    assert_int_equal(jobq_get(s->f->q, id, &j), 0);
    assert_int_equal(j.status, status);
    job_fini(&j);
    s->id[s->n] = id;
    s->status[s->n++] = status;
}

/* The change callback hears of every side effect, after it is written,
 * and of nothing from a change that failed. */
static void test_change_callback(void **state)
{
    struct fix *f = *state;
    struct seen s = {.f = f};
    jobq_set_change_cb(f->q, on_change, &s);
    int64_t ids[3];
    submit_chain(f, ids);
    assert_int_equal(s.n, 0);
    run_fail(f, ids[0], "boom");
    assert_int_equal(s.n, 2);
    assert_int_equal(s.id[0], ids[1]);
    assert_int_equal(s.status[0], JOB_SKIPPED);
    assert_int_equal(s.id[1], ids[2]);
    assert_int_equal(s.status[1], JOB_SKIPPED);
    turn(f);
    char *err = NULL;
    assert_int_equal(jobq_retry(f->q, ids[0], NULL, &err), 0);
    assert_int_equal(s.n, 4);
    assert_int_equal(s.id[2], ids[1]);
    assert_int_equal(s.status[2], JOB_QUEUED);
    assert_int_equal(s.status[3], JOB_QUEUED);

    /* A group that would start skipped, refused for a missing need: the
     * skip was rolled back and is not reported. */
    int64_t dead = submit(f, "dead", NULL, 0);
    assert_int_equal(jobq_cancel(f->q, dead), 0);
    struct jobq_spec g[2] = {spec("x"), spec("y")};
    g[0].needs = &dead;
    g[0].nneeds = 1;
    g[1].needs = (int64_t[]){424242};
    g[1].nneeds = 1;
    expect_submit_error(f, g, 2, "does not exist");
    assert_int_equal(s.n, 4);
    g[1].nneeds = 0;
    int64_t got[2];
    assert_int_equal(jobq_submit_many(f->q, g, 2, got, NULL, &err), 0);
    assert_int_equal(s.n, 5);
    assert_int_equal(s.id[4], got[0]);
    assert_int_equal(s.status[4], JOB_SKIPPED);

    jobq_set_change_cb(f->q, NULL, NULL);
    assert_int_equal(jobq_retry(f->q, dead, NULL, &err), 0);
    assert_int_equal(s.n, 5);
    assert_job_state(f, got[0], "queued|-");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_needs_hold_claim),
        T(test_group_with_needs_keys),
        T(test_fail_skips_chain),
        T(test_cancel_skips_dependents),
        T(test_submit_after_need_ended),
        T(test_submit_errors),
        T(test_long_chain),
        T(test_retry_restores_dependents),
        T(test_retry_with_other_bad_need),
        T(test_retry_refused),
        T(test_deps_lists),
        T(test_group_resubmitted),
        T(test_refused_group_keeps_the_rest),
        T(test_change_callback),
        TX(test_needs_hold_claim),
        TX(test_group_with_needs_keys),
        TX(test_fail_skips_chain),
        TX(test_cancel_skips_dependents),
        TX(test_submit_after_need_ended),
        TX(test_submit_errors),
        TX(test_long_chain),
        TX(test_retry_restores_dependents),
        TX(test_retry_with_other_bad_need),
        TX(test_retry_refused),
        TX(test_deps_lists),
        TX(test_group_resubmitted),
        TX(test_refused_group_keeps_the_rest),
        TX(test_change_callback),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
