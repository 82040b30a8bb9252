/* jobq_fixture.h — the test fixture shared by test_jobq.c,
 * test_jobq_deps.c and test_blobs.c: a queue on a real database file in a
 * fresh temporary directory, SQL peeks, and the two transaction modes.
 *
 * Tests registered with TX() run inside an outer transaction, the way the
 * engine commits a whole loop turn at once: setup opens it, turn() commits
 * and opens the next (a loop turn ending), and teardown checks that no
 * queue function committed or rolled back the caller's transaction before
 * committing it. T() runs the same test with every call on its own. */
#ifndef MCPDECK_TEST_JOBQ_FIXTURE_H
#define MCPDECK_TEST_JOBQ_FIXTURE_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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
    int outer;              /* TX mode: an outer transaction is open */
};

static inline int rm_cb(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
    return remove(p);
}

static inline void fix_open(struct fix *f)
{
    char *err = NULL;
    assert_int_equal(db_open(f->path, &f->db, &err), 0);
    assert_int_equal(jobq_open(f->db, DEFAULT_TIMEOUT, DEFAULT_ATTEMPTS, &f->q), 0);
}

static inline void fix_close(struct fix *f)
{
    jobq_close(f->q);
    db_close(f->db);
    f->q = NULL;
    f->db = NULL;
}

static inline int setup(void **state)
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

static inline int setup_outer(void **state)
{
    if (setup(state) < 0)
        return -1;
    struct fix *f = *state;
    f->outer = 1;
    return db_begin(f->db);
}

static inline int teardown(void **state)
{
    struct fix *f = *state;
    int rc = 0;
    if (f->outer && f->db) {
        /* Still the caller's transaction: nothing inside ended it. */
        if (sqlite3_get_autocommit(db_handle(f->db)) || db_commit(f->db) < 0)
            rc = -1;
    }
    fix_close(f);
    nftw(f->dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
    free(f->dir);
    free(f->path);
    free(f);
    return rc;
}

/* A loop turn ends: in TX mode, commit what the turn did and begin the
 * next; otherwise every call has committed already. */
static inline void turn(struct fix *f)
{
    sqlite3 *h = db_handle(f->db);
    if (!f->outer) {
        assert_int_equal(sqlite3_get_autocommit(h), 1);
        return;
    }
    assert_int_equal(sqlite3_get_autocommit(h), 0);
    assert_int_equal(db_commit(f->db), 0);
    assert_int_equal(db_begin(f->db), 0);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
#define TX(fn) {"tx_" #fn, fn, setup_outer, teardown, NULL}

/* === Helpers === */

static inline long long sql_int(struct fix *f, const char *fmt, ...) PRINTF_LIKE(2, 3);
static inline long long sql_int(struct fix *f, const char *fmt, ...)
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
static inline char *sql_text(struct fix *f, const char *fmt, ...) PRINTF_LIKE(2, 3);
static inline char *sql_text(struct fix *f, const char *fmt, ...)
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

static inline void assert_sql_text(struct fix *f, const char *want, const char *sql)
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

/* A job's status and error as "status|error" (error "-" when NULL). */
static inline char *job_state(struct fix *f, int64_t id)
{
    return sql_text(f, "SELECT status || '|' || COALESCE(error, '-') FROM jobs WHERE id = %lld",
                    (long long)id);
}

static inline void assert_job_state(struct fix *f, int64_t id, const char *want)
{
    char *got = job_state(f, id);
    assert_string_equal(got, want);
    free(got);
}

static inline int64_t submit(struct fix *f, const char *key, const char *batch, int priority)
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

static inline int64_t claim_id(struct fix *f)
{
    struct job j;
    int rc = jobq_claim(f->q, &j);
    assert_true(rc >= 0);
    int64_t id = rc ? j.id : 0;
    job_fini(&j);
    return id;
}

/* Make every delayed job ready now, as if its backoff had passed. */
static inline void make_ready(struct fix *f)
{
    assert_int_equal(db_exec(f->db, "UPDATE jobs SET run_at_ms = 0", NULL), 0);
}

/* Claim the next job, which must be `id`, and finish it. */
static inline void run_ok(struct fix *f, int64_t id)
{
    assert_int_equal(claim_id(f), id);
    assert_int_equal(jobq_complete(f->q, id, "ok", 2, NULL, 0), 0);
}

static inline void run_fail(struct fix *f, int64_t id, const char *error)
{
    assert_int_equal(claim_id(f), id);
    assert_int_equal(jobq_fail(f->q, id, error, 0, NULL, 0, NULL, NULL), 0);
}

#endif
