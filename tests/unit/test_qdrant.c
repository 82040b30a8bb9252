/* test_qdrant.c — the Qdrant client against the stand-in
 * (tests/fixtures/qdrant_standin.cjs, which also validates every request
 * body against the OpenAPI spec and answers 400 when one does not):
 * collections, upsert/query/delete, the outbox sender's batching, backoff
 * and ordering, the breaker, timeouts, and freeing with requests out. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <curl/curl.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config.h"
#include "db.h"
#include "loop.h"
#include "memory.h"
#include "qdrant.h"
#include "util.h"

/* === The stand-in === */

struct standin {
    pid_t pid;
    int port;
    char base[64];
    char log[256];
};

static char tmpdir[] = "/tmp/mcpdeck-qdrant.XXXXXX";

/* Start the stand-in with extra arguments (NULL-terminated). */
static void standin_start(struct standin *s, const char *tag, const char *const *extra)
{
    const char *top = getenv("TOP");
    char *script = xasprintf("%s/tests/fixtures/qdrant_standin.cjs", top ? top : ".");
    snprintf(s->log, sizeof s->log, "%s/%s.log", tmpdir, tag);
    unlink(s->log);
    const char *argv[16] = {"node", script, "--port", "0", "--log", s->log};
    size_t n = 6;
    for (size_t i = 0; extra && extra[i] && n < 15; i++)
        argv[n++] = extra[i];
    argv[n] = NULL;
    int p[2];
    assert_int_equal(pipe(p), 0);
    s->pid = fork();
    assert_true(s->pid >= 0);
    if (s->pid == 0) {
        dup2(p[1], 1);
        close(p[0]);
        close(p[1]);
        execvp("node", (char *const *)argv);
        _exit(127);
    }
    close(p[1]);
    free(script);
    FILE *f = fdopen(p[0], "r");
    char line[128] = "";
    if (!fgets(line, sizeof line, f) || sscanf(line, "listening %d", &s->port) != 1)
        fail_msg("the stand-in did not start: '%s'", line);
    fclose(f);
    snprintf(s->base, sizeof s->base, "http://127.0.0.1:%d", s->port);
}

static void standin_stop(struct standin *s)
{
    if (s->pid > 0) {
        kill(s->pid, SIGTERM);
        waitpid(s->pid, NULL, 0);
        s->pid = 0;
    }
}

static size_t sink(char *p, size_t size, size_t n, void *userdata)
{
    buf_append(userdata, p, size * n);
    return size * n;
}

/* A blocking admin call (the tests' own side channel). Returns the JSON. */
static cJSON *admin(const struct standin *s, const char *method, const char *path,
                    const char *body)
{
    CURL *c = curl_easy_init();
    struct buf b;
    buf_init(&b);
    char *url = xasprintf("%s%s", s->base, path);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    if (body)
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
    CURLcode rc = curl_easy_perform(c);
    curl_easy_cleanup(c);
    free(url);
    assert_int_equal(rc, CURLE_OK);
    cJSON *j = cJSON_Parse(b.data);
    buf_fini(&b);
    assert_non_null(j);
    return j;
}

/* The stand-in's points of collection c as a JSON object {id: payload}. */
static cJSON *points_of(const struct standin *s, const char *c, cJSON **state)
{
    *state = admin(s, "GET", "/admin/state", NULL);
    cJSON *cs = cJSON_GetObjectItem(*state, "collections");
    return cJSON_GetObjectItem(cJSON_GetObjectItem(cs, c), "points");
}

static int count_requests(const struct standin *s, const char *method, const char *path)
{
    char *text = NULL;
    if (util_read_file(s->log, &text, NULL) != 0)
        return 0;
    int n = 0;
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        cJSON *j = cJSON_Parse(line);
        const char *m = cJSON_GetStringValue(cJSON_GetObjectItem(j, "method"));
        const char *p = cJSON_GetStringValue(cJSON_GetObjectItem(j, "path"));
        if (m && p && strcmp(m, method) == 0 && strcmp(p, path) == 0)
            n++;
        cJSON_Delete(j);
    }
    free(text);
    return n;
}

static int violations(const struct standin *s)
{
    cJSON *st = admin(s, "GET", "/admin/state", NULL);
    int v = cJSON_GetObjectItem(st, "violations")->valueint;
    cJSON_Delete(st);
    return v;
}

/* === Fixture: a loop, a db, a stand-in, a client === */

struct fx {
    struct loop *l;
    struct db *db;
    struct standin s;
    struct qdrant *q;
    /* the last callback's outcome */
    int done;
    char *error;
    int64_t sent, failed, remaining;
    size_t nhits;
    char hit_ids[8][40];
    double hit_scores[8];
    char hit_ns[8][32];
};

static int setup(void **state)
{
    struct fx *f = xcalloc(1, sizeof *f);
    f->l = loop_new();
    char *path = xasprintf("%s/db%d.sqlite", tmpdir, rand());
    char *err = NULL;
    if (db_open(path, &f->db, &err) != 0)
        fail_msg("db: %s", err);
    free(path);
    standin_start(&f->s, "main", NULL);
    f->q = qdrant_new(f->l, f->s.base, NULL, 2000);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    qdrant_free(f->q);
    standin_stop(&f->s);
    db_close(f->db);
    loop_free(f->l);
    free(f->error);
    free(f);
    return 0;
}

static void reset(struct fx *f)
{
    f->done = 0;
    free(f->error);
    f->error = NULL;
    f->nhits = 0;
}

static void wait_done(struct fx *f)
{
    int64_t end = util_now_ms() + 10000;
    while (!f->done && util_now_ms() < end)
        loop_run_once(f->l, 50);
    assert_true(f->done);
}

static void on_done(void *payload, const char *error)
{
    struct fx *f = payload;
    f->done++;
    free(f->error);
    f->error = xstrdup(error);
}

static void on_query(void *payload, const struct qdrant_hit *hits, size_t n, const char *error)
{
    struct fx *f = payload;
    f->done++;
    free(f->error);
    f->error = xstrdup(error);
    f->nhits = n;
    for (size_t i = 0; i < n && i < 8; i++) {
        snprintf(f->hit_ids[i], sizeof f->hit_ids[i], "%s", hits[i].id);
        f->hit_scores[i] = hits[i].score;
        const char *ns = cJSON_GetStringValue(cJSON_GetObjectItem(hits[i].payload, "namespace"));
        snprintf(f->hit_ns[i], sizeof f->hit_ns[i], "%s", ns ? ns : "");
    }
}

static void on_drain(void *payload, int64_t sent, int64_t failed, int64_t remaining,
                     const char *error)
{
    struct fx *f = payload;
    f->done++;
    free(f->error);
    f->error = xstrdup(error);
    f->sent = sent;
    f->failed = failed;
    f->remaining = remaining;
}

#define ID(n) "00000000-0000-4000-8000-00000000000" #n

/* === Tests === */

static void test_backoff_doubles_to_a_cap(void **state)
{
    static const int64_t want[] = {1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000, 60000};
    for (int i = 0; i < (int)ARRAY_LEN(want); i++)
        assert_int_equal(qdrant_backoff_ms(i), want[i]);
    assert_int_equal(qdrant_backoff_ms(1000), 60000);
}

static void test_ensure_creates_once_and_checks_dim(void **state)
{
    struct fx *f = *state;
    reset(f);
    qdrant_ensure_collection(f->q, "mcpdeck_coding", 3, on_done, f);
    assert_int_equal(f->done, 0);   /* never from inside the call */
    wait_done(f);
    assert_null(f->error);
    cJSON *st = admin(&f->s, "GET", "/admin/state", NULL);
    cJSON *c = cJSON_GetObjectItem(cJSON_GetObjectItem(st, "collections"), "mcpdeck_coding");
    assert_non_null(c);
    assert_int_equal(cJSON_GetObjectItem(c, "size")->valueint, 3);
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(c, "distance")), "Cosine");
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(
                            cJSON_GetObjectItem(c, "indexes"), "namespace")),
                        "keyword");
    cJSON_Delete(st);
    assert_int_equal(count_requests(&f->s, "PUT", "/collections/mcpdeck_coding"), 1);
    assert_int_equal(count_requests(&f->s, "PUT", "/collections/mcpdeck_coding/index"), 1);

    /* the same client remembers it: no request at all */
    reset(f);
    qdrant_ensure_collection(f->q, "mcpdeck_coding", 3, on_done, f);
    wait_done(f);
    assert_null(f->error);
    assert_int_equal(count_requests(&f->s, "GET", "/collections/mcpdeck_coding"), 1);

    /* a new client finds it with one GET and creates nothing */
    struct qdrant *q2 = qdrant_new(f->l, f->s.base, NULL, 2000);
    reset(f);
    qdrant_ensure_collection(q2, "mcpdeck_coding", 3, on_done, f);
    wait_done(f);
    assert_null(f->error);
    assert_int_equal(count_requests(&f->s, "GET", "/collections/mcpdeck_coding"), 2);
    assert_int_equal(count_requests(&f->s, "PUT", "/collections/mcpdeck_coding"), 1);
    /* ... and refuses another vector size */
    struct qdrant *q3 = qdrant_new(f->l, f->s.base, NULL, 2000);
    reset(f);
    qdrant_ensure_collection(q3, "mcpdeck_coding", 5, on_done, f);
    wait_done(f);
    assert_non_null(f->error);
    assert_non_null(strstr(f->error, "size 3, not 5"));
    reset(f);
    qdrant_ensure_collection(q2, "mcpdeck_coding", 4, on_done, f);
    wait_done(f);
    assert_non_null(f->error);
    qdrant_free(q2);
    qdrant_free(q3);
    assert_int_equal(violations(&f->s), 0);
}

static void test_upsert_query_delete(void **state)
{
    struct fx *f = *state;
    reset(f);
    qdrant_ensure_collection(f->q, "c1", 3, on_done, f);
    wait_done(f);
    assert_null(f->error);
    static const float v[4][3] = {{1, 0, 0}, {0.8f, 0.6f, 0}, {0, 1, 0}, {0, 0, 1}};
    struct qdrant_point pts[] = {
        {ID(1), v[0], 3, "{\"namespace\":\"coding\",\"lang\":\"c\",\"score\":3}"},
        {ID(2), v[1], 3, "{\"namespace\":\"coding\",\"lang\":\"go\",\"score\":7}"},
        {ID(3), v[2], 3, "{\"namespace\":\"testing\",\"lang\":\"c\",\"score\":9}"},
        {ID(4), v[3], 3, NULL},
    };
    reset(f);
    qdrant_upsert(f->q, "c1", pts, 4, on_done, f);
    wait_done(f);
    assert_null(f->error);

    static const float qv[3] = {1, 0.1f, 0};
    reset(f);
    qdrant_query(f->q, "c1", qv, 3, 3, NULL, -1, on_query, f);
    wait_done(f);
    assert_null(f->error);
    assert_int_equal(f->nhits, 3);
    assert_string_equal(f->hit_ids[0], ID(1));
    assert_string_equal(f->hit_ids[1], ID(2));
    assert_string_equal(f->hit_ids[2], ID(3));
    assert_true(fabs(f->hit_scores[0] - 1 / sqrt(1.01)) < 1e-4);
    assert_string_equal(f->hit_ns[0], "coding");

    /* a filter and a threshold */
    struct {
        const char *filter;
        double threshold;
        size_t n;
        const char *first;
    } cases[] = {
        {"{\"must\":[{\"key\":\"lang\",\"match\":{\"value\":\"c\"}}]}", -1, 2, ID(1)},
        {"{\"must\":[{\"key\":\"score\",\"range\":{\"gte\":5,\"lt\":9}}]}", -1, 1, ID(2)},
        {"{\"must\":[{\"key\":\"namespace\",\"match\":{\"value\":\"testing\"}}]}", -1, 1, ID(3)},
        {NULL, 0.5, 2, ID(1)},
        {"{\"must\":[{\"key\":\"lang\",\"match\":{\"value\":\"rust\"}}]}", -1, 0, NULL},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        reset(f);
        qdrant_query(f->q, "c1", qv, 3, 5, cases[i].filter, cases[i].threshold, on_query, f);
        wait_done(f);
        assert_null(f->error);
        assert_int_equal(f->nhits, cases[i].n);
        if (cases[i].first)
            assert_string_equal(f->hit_ids[0], cases[i].first);
    }

    /* a filter that is not JSON fails without a request */
    reset(f);
    qdrant_query(f->q, "c1", qv, 3, 5, "{must", -1, on_query, f);
    wait_done(f);
    assert_non_null(f->error);

    const char *del[] = {ID(1), ID(4)};
    reset(f);
    qdrant_delete(f->q, "c1", del, 2, on_done, f);
    wait_done(f);
    assert_null(f->error);
    cJSON *st;
    cJSON *p = points_of(&f->s, "c1", &st);
    assert_int_equal(cJSON_GetArraySize(p), 2);
    assert_non_null(cJSON_GetObjectItem(p, ID(2)));
    assert_null(cJSON_GetObjectItem(p, ID(1)));
    cJSON_Delete(st);

    /* a missing collection: no hits, and deleting there is fine */
    reset(f);
    qdrant_query(f->q, "nowhere", qv, 3, 5, NULL, -1, on_query, f);
    wait_done(f);
    assert_null(f->error);
    assert_int_equal(f->nhits, 0);
    reset(f);
    qdrant_delete(f->q, "nowhere", del, 1, on_done, f);
    wait_done(f);
    assert_null(f->error);

    /* a wrong dimension is the server's 400, passed on */
    reset(f);
    qdrant_query(f->q, "c1", qv, 2, 5, NULL, -1, on_query, f);
    wait_done(f);
    assert_non_null(f->error);
    assert_non_null(strstr(f->error, "dimension"));
    assert_int_equal(qdrant_healthy(f->q), 1);   /* a 4xx is not an outage */
    assert_int_equal(violations(&f->s), 0);
}

/* === The outbox === */

static void outbox_add(struct db *db, const char *op, const char *coll, const char *id,
                       const float *v, size_t dim, const char *payload)
{
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db_handle(db),
                                        "INSERT INTO outbox (op, collection, point_id, vector, "
                                        "payload, created_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                                        -1, &st, NULL),
                     SQLITE_OK);
    sqlite3_bind_text(st, 1, op, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, coll, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, id, -1, SQLITE_STATIC);
    if (v)
        sqlite3_bind_blob(st, 4, v, (int)(dim * sizeof *v), SQLITE_STATIC);
    if (payload)
        sqlite3_bind_text(st, 5, payload, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 6, util_wall_ms());
    assert_int_equal(sqlite3_step(st), SQLITE_DONE);
    sqlite3_finalize(st);
}

static int64_t scalar(struct db *db, const char *sql)
{
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db_handle(db), sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int64_t v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

static const float V1[3] = {1, 0, 0}, V2[3] = {0, 1, 0}, V3[3] = {0, 0, 1};
#define PL(ns) "{\"namespace\":\"" ns "\",\"text\":\"t\"}"

/* A: 3 upserts, a delete, an upsert; B: 2 upserts. */
static void outbox_fill(struct db *db)
{
    outbox_add(db, "upsert", "A", ID(1), V1, 3, PL("a"));
    outbox_add(db, "upsert", "A", ID(2), V2, 3, PL("a"));
    outbox_add(db, "upsert", "A", ID(3), V3, 3, PL("a"));
    outbox_add(db, "delete", "A", ID(1), NULL, 0, NULL);
    outbox_add(db, "upsert", "A", ID(4), V1, 3, PL("a"));
    outbox_add(db, "upsert", "B", ID(5), V2, 3, PL("b"));
    outbox_add(db, "upsert", "B", ID(6), V3, 3, PL("b"));
}

static void test_drain_batches_in_order(void **state)
{
    struct fx *f = *state;
    outbox_fill(f->db);
    assert_int_equal(qdrant_outbox_depth(f->db, NULL), 7);
    reset(f);
    qdrant_drain(f->q, f->db, 2, 0, on_drain, f);
    assert_int_equal(f->done, 0);
    wait_done(f);
    assert_null(f->error);
    assert_int_equal(f->sent, 7);
    assert_int_equal(f->failed, 0);
    assert_int_equal(f->remaining, 0);
    /* A: [1,2] [3] then delete [1] then [4]; B: [5,6] — batches of at most 2 */
    assert_int_equal(count_requests(&f->s, "PUT", "/collections/A/points"), 3);
    assert_int_equal(count_requests(&f->s, "POST", "/collections/A/points/delete"), 1);
    assert_int_equal(count_requests(&f->s, "PUT", "/collections/B/points"), 1);
    assert_int_equal(count_requests(&f->s, "PUT", "/collections/A"), 1);
    cJSON *st;
    cJSON *a = points_of(&f->s, "A", &st);
    assert_int_equal(cJSON_GetArraySize(a), 3);   /* 1 was deleted after it was sent */
    assert_null(cJSON_GetObjectItem(a, ID(1)));
    assert_string_equal(
        cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetObjectItem(a, ID(4)), "namespace")),
        "a");
    cJSON_Delete(st);
    a = points_of(&f->s, "B", &st);
    assert_int_equal(cJSON_GetArraySize(a), 2);
    cJSON_Delete(st);
    assert_int_equal(violations(&f->s), 0);

    /* an empty outbox: nothing to do, no request */
    int before = count_requests(&f->s, "PUT", "/collections/A/points");
    reset(f);
    qdrant_drain(f->q, f->db, 2, 0, on_drain, f);
    wait_done(f);
    assert_null(f->error);
    assert_int_equal(f->sent, 0);
    assert_int_equal(f->remaining, 0);
    assert_int_equal(count_requests(&f->s, "PUT", "/collections/A/points"), before);
}

static void test_drain_failure_keeps_rows_and_backs_off(void **state)
{
    struct fx *f = *state;
    outbox_fill(f->db);
    /* the first upsert to B answers 500: everything before it is sent */
    cJSON_Delete(admin(&f->s, "POST", "/admin/fault",
                       "{\"fail\":1,\"match\":\"PUT /collections/B/points\"}"));
    int64_t t0 = util_wall_ms();
    reset(f);
    qdrant_drain(f->q, f->db, 64, 0, on_drain, f);
    wait_done(f);
    assert_non_null(f->error);
    assert_non_null(strstr(f->error, "500"));
    assert_int_equal(f->sent, 5);
    assert_int_equal(f->failed, 2);
    assert_int_equal(f->remaining, 2);
    assert_int_equal(scalar(f->db, "SELECT COUNT(*) FROM outbox WHERE collection = 'B' AND "
                                   "attempts = 1 AND error LIKE '%500%'"),
                     2);
    int64_t next = scalar(f->db, "SELECT MIN(next_ms) FROM outbox");
    assert_true(next >= t0 + 1000 && next <= util_wall_ms() + 1000);
    assert_int_equal(qdrant_healthy(f->q), 0);
    assert_non_null(qdrant_last_error(f->q));

    /* still backing off: a plain drain sends nothing */
    reset(f);
    qdrant_drain(f->q, f->db, 64, 0, on_drain, f);
    wait_done(f);
    assert_null(f->error);
    assert_int_equal(f->sent, 0);
    assert_int_equal(f->remaining, 2);

    /* a second failure doubles the wait */
    cJSON_Delete(admin(&f->s, "POST", "/admin/fault",
                       "{\"fail\":1,\"match\":\"PUT /collections/B/points\"}"));
    t0 = util_wall_ms();
    reset(f);
    qdrant_drain(f->q, f->db, 64, QDRANT_DRAIN_FORCE, on_drain, f);
    wait_done(f);
    assert_non_null(f->error);
    assert_int_equal(scalar(f->db, "SELECT MIN(attempts) FROM outbox"), 2);
    next = scalar(f->db, "SELECT MIN(next_ms) FROM outbox");
    assert_true(next >= t0 + 2000 && next <= util_wall_ms() + 2000);

    /* forced, healthy again: the rest goes */
    reset(f);
    qdrant_drain(f->q, f->db, 64, QDRANT_DRAIN_FORCE, on_drain, f);
    wait_done(f);
    assert_null(f->error);
    assert_int_equal(f->sent, 2);
    assert_int_equal(f->remaining, 0);
    assert_int_equal(qdrant_healthy(f->q), 1);
    assert_null(qdrant_last_error(f->q));
    cJSON *st;
    assert_int_equal(cJSON_GetArraySize(points_of(&f->s, "B", &st)), 2);
    cJSON_Delete(st);
}

static void test_drain_bad_row_fails_alone(void **state)
{
    struct fx *f = *state;
    outbox_add(f->db, "upsert", "C", ID(1), V1, 3, PL("c"));
    outbox_add(f->db, "upsert", "C", ID(2), NULL, 0, PL("c"));   /* no vector */
    outbox_add(f->db, "upsert", "C", ID(3), V2, 3, PL("c"));
    reset(f);
    qdrant_drain(f->q, f->db, 64, 0, on_drain, f);
    wait_done(f);
    assert_non_null(f->error);
    assert_non_null(strstr(f->error, "vector"));
    assert_int_equal(f->sent, 1);
    assert_int_equal(f->failed, 1);
    assert_int_equal(f->remaining, 2);
    assert_int_equal(scalar(f->db, "SELECT attempts FROM outbox WHERE point_id = '" ID(2) "'"),
                     1);
    assert_int_equal(qdrant_healthy(f->q), 1);   /* our row, not the server */

    /* a second drain while one runs is refused */
    reset(f);
    qdrant_drain(f->q, f->db, 64, QDRANT_DRAIN_FORCE, on_drain, f);
    qdrant_drain(f->q, f->db, 64, QDRANT_DRAIN_FORCE, on_drain, f);
    while (f->done < 2)
        loop_run_once(f->l, 50);
    assert_non_null(f->error);
}

static void test_down_then_breaker_fails_fast(void **state)
{
    struct fx *f = *state;
    qdrant_set_breaker(f->q, 2, 60000);
    outbox_fill(f->db);
    kill(f->s.pid, SIGUSR2);   /* listener closed */
    usleep(200 * 1000);
    for (int i = 0; i < 2; i++) {
        reset(f);
        qdrant_drain(f->q, f->db, 64, QDRANT_DRAIN_FORCE, on_drain, f);
        wait_done(f);
        assert_non_null(f->error);
        assert_non_null(strstr(f->error, "unreachable"));
        assert_int_equal(f->sent, 0);
        assert_int_equal(f->remaining, 7);
    }
    assert_string_equal(qdrant_breaker_state(f->q), "open");
    assert_int_equal(qdrant_healthy(f->q), 0);
    /* open: no request goes out, the message says when it retries */
    int64_t t0 = util_now_ms();
    static const float qv[3] = {1, 0, 0};
    reset(f);
    qdrant_query(f->q, "A", qv, 3, 3, NULL, -1, on_query, f);
    assert_int_equal(f->done, 0);
    wait_done(f);
    assert_true(util_now_ms() - t0 < 500);
    assert_non_null(f->error);
    assert_non_null(strstr(f->error, "circuit open"));
    const char *when = strstr(f->error, "next try in ");
    assert_non_null(when);
    int secs = atoi(when + strlen("next try in "));
    assert_true(secs >= 59 && secs <= 60);   /* 59.x s */
    assert_int_equal(scalar(f->db, "SELECT COUNT(*) FROM outbox"), 7);
    assert_int_equal(scalar(f->db, "SELECT MIN(attempts) FROM outbox WHERE collection = 'A' "
                                   "AND id <= 3"),
                     2);

    /* up again, a new cooldown: the trial call closes the breaker */
    kill(f->s.pid, SIGHUP);
    usleep(200 * 1000);
    qdrant_set_breaker(f->q, 2, 0);
    reset(f);
    qdrant_drain(f->q, f->db, 64, QDRANT_DRAIN_FORCE, on_drain, f);
    wait_done(f);
    assert_null(f->error);
    assert_int_equal(f->sent, 7);
    assert_int_equal(f->remaining, 0);
    assert_string_equal(qdrant_breaker_state(f->q), "closed");
}

static void test_ping(void **state)
{
    struct fx *f = *state;
    qdrant_set_breaker(f->q, 1, 60000);
    reset(f);
    qdrant_ping(f->q, on_done, f);
    assert_int_equal(f->done, 0);            /* answers later, from the loop */
    wait_done(f);
    assert_null(f->error);
    assert_int_equal(count_requests(&f->s, "GET", "/collections"), 1);
    assert_int_equal(qdrant_healthy(f->q), 1);
    kill(f->s.pid, SIGUSR2);                 /* down */
    usleep(200 * 1000);
    reset(f);
    qdrant_ping(f->q, on_done, f);
    wait_done(f);
    assert_non_null(f->error);
    assert_non_null(strstr(f->error, "unreachable"));
    assert_string_equal(qdrant_breaker_state(f->q), "open");
    reset(f);
    qdrant_ping(f->q, on_done, f);           /* open: fails fast, says so */
    wait_done(f);
    assert_non_null(f->error);
    assert_non_null(strstr(f->error, "circuit open"));
    kill(f->s.pid, SIGHUP);
    usleep(200 * 1000);
}

static void tick(struct loop *l, uint64_t id, void *payload)
{
    (*(int *)payload)++;
}

static void test_slow_answers_time_out_without_blocking(void **state)
{
    struct fx *f = *state;
    struct qdrant *q = qdrant_new(f->l, f->s.base, NULL, 300);
    cJSON_Delete(admin(&f->s, "POST", "/admin/fault", "{\"delay_ms\":1500}"));
    int ticks = 0;
    loop_timer_add(f->l, 50, tick, &ticks);
    loop_timer_add(f->l, 100, tick, &ticks);
    int64_t t0 = util_now_ms();
    reset(f);
    qdrant_ensure_collection(q, "slow", 3, on_done, f);
    wait_done(f);
    int64_t took = util_now_ms() - t0;
    assert_non_null(f->error);
    assert_true(took >= 250 && took < 1400);
    assert_int_equal(ticks, 2);   /* the loop ran while the request waited */
    assert_int_equal(qdrant_healthy(q), 0);
    qdrant_free(q);
}

static void test_free_with_requests_out(void **state)
{
    struct fx *f = *state;
    cJSON_Delete(admin(&f->s, "POST", "/admin/fault", "{\"delay_ms\":300}"));
    outbox_fill(f->db);
    struct qdrant *q = qdrant_new(f->l, f->s.base, NULL, 2000);
    reset(f);
    static const float qv[3] = {1, 0, 0};
    qdrant_query(q, "A", qv, 3, 3, NULL, -1, on_query, f);
    qdrant_drain(q, f->db, 64, 0, on_drain, f);
    for (int i = 0; i < 3; i++)   /* both requests are out now */
        loop_run_once(f->l, 20);
    assert_int_equal(f->done, 0);
    qdrant_drain(q, f->db, 64, 0, on_drain, f);   /* refused, pending on a timer */
    qdrant_free(q);
    for (int i = 0; i < 5; i++)
        loop_run_once(f->l, 100);
    assert_int_equal(f->done, 0);   /* no callback after free */
    assert_int_equal(qdrant_outbox_depth(f->db, NULL), 7);
}

static void test_api_key(void **state)
{
    struct fx *f = *state;
    struct standin s;
    const char *extra[] = {"--api-key", "secret-1", NULL};
    standin_start(&s, "key", extra);
    struct qdrant *bad = qdrant_new(f->l, s.base, NULL, 2000);
    struct qdrant *good = qdrant_new(f->l, s.base, "secret-1", 2000);
    reset(f);
    qdrant_ensure_collection(bad, "k", 3, on_done, f);
    wait_done(f);
    assert_non_null(f->error);
    assert_non_null(strstr(f->error, "401"));
    reset(f);
    qdrant_ensure_collection(good, "k", 3, on_done, f);
    wait_done(f);
    assert_null(f->error);
    qdrant_free(bad);
    qdrant_free(good);
    standin_stop(&s);
}


/* === Through the memory store === */

static void test_memory_sync_and_search(void **state)
{
    struct fx *f = *state;
    char *yaml = xasprintf("memory:\n  qdrant: {url: \"%s\", prefix: t_, timeout: 2s}\n",
                           f->s.base);
    struct config *cfg = NULL;
    char *err = NULL;
    if (config_load_string("q.yaml", yaml, strlen(yaml), &cfg, &err) != 0)
        fail_msg("config: %s", err);
    free(yaml);
    struct memory *m = NULL;
    if (memory_open(f->db, cfg, &m, &err) != 0)
        fail_msg("memory: %s", err);
    static const char *const texts[] = {
        "the event loop owns every socket and timer",
        "sqlite runs in WAL mode with synchronous normal",
        "the circuit breaker opens after three failures",
        "vectors are quantised to int8 with a scale",
    };
    int64_t ids[4];
    for (int i = 0; i < 4; i++) {
        cJSON *meta = cJSON_CreateObject();
        cJSON_AddNumberToObject(meta, "n", i);
        assert_true(memory_add(m, i < 3 ? "coding" : "testing", texts[i], meta, 0, &ids[i],
                               &err) >= 0);
        cJSON_Delete(meta);
    }
    assert_int_equal(memory_delete(m, ids[1], &err), 0);
    assert_int_equal(qdrant_outbox_depth(f->db, NULL), 5);   /* 4 upserts, 1 delete */

    int64_t sent = -1, remaining = -1;
    if (qdrant_sync_blocking(cfg, f->db, 64, &sent, &remaining, &err) != 0)
        fail_msg("sync: %s", err);
    assert_int_equal(sent, 5);
    assert_int_equal(remaining, 0);
    cJSON *st;
    cJSON *pts = points_of(&f->s, "t_coding", &st);
    assert_int_equal(cJSON_GetArraySize(pts), 2);
    cJSON *p0 = pts->child;
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(p0, "namespace")), "coding");
    assert_non_null(cJSON_GetStringValue(cJSON_GetObjectItem(p0, "hash")));
    cJSON_Delete(st);

    /* vector search answered by Qdrant, mapped back to the entries */
    char *wtext = NULL;
    size_t wlen = 0;
    FILE *warn = open_memstream(&wtext, &wlen);
    struct qdrant_msearch *qs = qdrant_msearch_new(cfg, f->db, warn);
    assert_non_null(qs);
    memory_set_vector_search(m, qdrant_msearch_fn, qs);
    const char *ns[] = {"coding"};
    struct memory_query q = {.text = "circuit breaker failures", .k = 5, .ns = ns, .nns = 1,
                             .mode = MEMORY_VECTOR, .min_score = -1};
    struct memory_hit *hits = NULL;
    size_t n = 0;
    assert_int_equal(memory_search(m, &q, &hits, &n, &err), 0);
    assert_int_equal(n, 2);
    assert_int_equal(hits[0].entry->id, ids[2]);
    assert_int_equal(qdrant_msearch_used(qs), 1);
    assert_int_equal(count_requests(&f->s, "POST", "/collections/t_coding/points/query"), 1);
    memory_hits_free(hits, n);

    /* a metadata filter goes to Qdrant as a condition on metadata.n */
    cJSON *flt = cJSON_Parse("{\"n\": 0}");
    q.filter = flt;
    assert_int_equal(memory_search(m, &q, &hits, &n, &err), 0);
    assert_int_equal(n, 1);
    assert_int_equal(hits[0].entry->id, ids[0]);
    memory_hits_free(hits, n);
    q.filter = NULL;
    cJSON_Delete(flt);
    char *log = NULL;
    assert_int_equal(util_read_file(f->s.log, &log, NULL), 0);
    assert_non_null(strstr(log, "\"key\":\"metadata.n\",\"match\":{\"value\":0}"));
    free(log);

    assert_int_equal(violations(&f->s), 0);

    /* Qdrant down: the local index answers, and says so once */
    kill(f->s.pid, SIGUSR2);
    usleep(200 * 1000);
    qdrant_msearch_free(qs);
    qs = qdrant_msearch_new(cfg, f->db, warn);
    memory_set_vector_search(m, qdrant_msearch_fn, qs);
    const char *both[] = {"coding", "testing"};
    q.ns = both;
    q.nns = 2;
    assert_int_equal(memory_search(m, &q, &hits, &n, &err), 0);
    assert_int_equal(n, 3);
    assert_int_equal(hits[0].entry->id, ids[2]);
    assert_int_equal(qdrant_msearch_used(qs), 0);
    memory_hits_free(hits, n);
    fclose(warn);
    assert_non_null(strstr(wtext, "searching the local index instead"));
    assert_null(strstr(strstr(wtext, "instead") + 1, "instead"));   /* once */
    free(wtext);

    memory_set_vector_search(m, NULL, NULL);
    qdrant_msearch_free(qs);
    memory_free(m);
    config_free(cfg);
}

int main(void)
{
    if (!mkdtemp(tmpdir))
        return 1;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_backoff_doubles_to_a_cap),
        cmocka_unit_test_setup_teardown(test_ensure_creates_once_and_checks_dim, setup, teardown),
        cmocka_unit_test_setup_teardown(test_upsert_query_delete, setup, teardown),
        cmocka_unit_test_setup_teardown(test_drain_batches_in_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_drain_failure_keeps_rows_and_backs_off, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_drain_bad_row_fails_alone, setup, teardown),
        cmocka_unit_test_setup_teardown(test_down_then_breaker_fails_fast, setup, teardown),
        cmocka_unit_test_setup_teardown(test_slow_answers_time_out_without_blocking, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_free_with_requests_out, setup, teardown),
        cmocka_unit_test_setup_teardown(test_api_key, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ping, setup, teardown),
        cmocka_unit_test_setup_teardown(test_memory_sync_and_search, setup, teardown),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    char *cmd = xasprintf("rm -rf %s", tmpdir);
    if (system(cmd) != 0)
        rc = rc ? rc : 1;
    free(cmd);
    curl_global_cleanup();
    return rc;
}
