/* test_db.c — the SQLite store on real files in a temporary directory:
 * pragmas, migrations applied once and recorded, reopening, refusing a
 * database from a newer mcpdeck, a migration that fails rolling back, and
 * the error messages for paths that cannot be opened. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "db.h"
#include "embedded.h"
#include "util.h"

struct fix {
    char *dir;
    char *path;      /* dir/nested/deeper/test.db: parents do not exist yet */
};

static int rm_cb(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
    return remove(p);
}

static int setup(void **state)
{
    struct fix *f = xcalloc(1, sizeof *f);
    char tmpl[] = "/tmp/mcpdeck-db.XXXXXX";
    if (!mkdtemp(tmpl))
        return -1;
    f->dir = xstrdup(tmpl);
    f->path = xasprintf("%s/nested/deeper/test.db", f->dir);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fix *f = *state;
    nftw(f->dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
    free(f->dir);
    free(f->path);
    free(f);
    return 0;
}

/* The migrations this binary carries, counted independently of db.c. */
static int count_migrations(void)
{
    int n = 0;
    for (const struct embedded_file *e = embedded_files; e->name; e++) {
        size_t len = strlen(e->name);
        if (strncmp(e->name, "data/schema/", 12) == 0 && len > 4
            && strcmp(e->name + len - 4, ".sql") == 0)
            n++;
    }
    return n;
}

static char *query_text(struct db *db, const char *sql)
{
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db_handle(db), sql, -1, &st, NULL), SQLITE_OK);
    char *s = NULL;
    if (sqlite3_step(st) == SQLITE_ROW)
        s = xstrdup((const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    return s;
}

static long long query_int(struct db *db, const char *sql)
{
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db_handle(db), sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    long long v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

static void test_open_sets_pragmas_and_migrates(void **state)
{
    struct fix *f = *state;
    struct db *db = NULL;
    char *err = NULL;
    assert_int_equal(db_open(f->path, &db, &err), 0);
    assert_null(err);
    assert_int_equal(access(f->path, F_OK), 0);

    char *mode = query_text(db, "PRAGMA journal_mode");
    assert_string_equal(mode, "wal");
    free(mode);
    assert_int_equal(query_int(db, "PRAGMA synchronous"), 1);   /* NORMAL */
    assert_int_equal(query_int(db, "PRAGMA foreign_keys"), 1);
    assert_int_equal(query_int(db, "PRAGMA busy_timeout"), 5000);

    int n = count_migrations();
    assert_true(n >= 1);
    assert_int_equal(db_schema_version(db), n);
    assert_int_equal(query_int(db, "SELECT COUNT(*) FROM schema_version"), n);
    char *name = query_text(db, "SELECT name FROM schema_version WHERE version = 1");
    assert_string_equal(name, "001_init.sql");
    free(name);
    assert_true(query_int(db, "SELECT applied_ms FROM schema_version WHERE version = 1") > 0);
    assert_int_equal(query_int(db, "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' "
                                   "AND name IN ('jobs', 'attempts', 'results', 'events', "
                                   "'servers_health')"), 5);
    db_close(db);
}

static void test_reopen_is_idempotent(void **state)
{
    struct fix *f = *state;
    struct db *db = NULL;
    char *err = NULL;
    assert_int_equal(db_open(f->path, &db, &err), 0);
    assert_int_equal(db_exec(db, "INSERT INTO events (ts_ms, kind, data) "
                                 "VALUES (1, 'log', 'kept')", &err), 0);
    db_close(db);

    assert_int_equal(db_open(f->path, &db, &err), 0);
    assert_null(err);
    assert_int_equal(db_schema_version(db), count_migrations());
    assert_int_equal(query_int(db, "SELECT COUNT(*) FROM schema_version"), count_migrations());
    char *data = query_text(db, "SELECT data FROM events");
    assert_string_equal(data, "kept");
    free(data);
    db_close(db);
}

static void test_newer_schema_is_refused(void **state)
{
    struct fix *f = *state;
    struct db *db = NULL;
    char *err = NULL;
    assert_int_equal(db_open(f->path, &db, &err), 0);
    assert_int_equal(db_exec(db, "INSERT INTO schema_version VALUES (999, '999_future.sql', 0)",
                             NULL), 0);
    db_close(db);

    db = NULL;
    assert_int_equal(db_open(f->path, &db, &err), -1);
    assert_null(db);
    assert_non_null(err);
    char *want = xasprintf("%s: database schema version 999 is newer than this mcpdeck (%d); "
                           "upgrade mcpdeck", f->path, count_migrations());
    assert_string_equal(err, want);
    free(want);
    free(err);
}

/* A migration that fails leaves nothing behind and names itself. */
static void test_failing_migration_rolls_back(void **state)
{
    struct fix *f = *state;
    sqlite3 *h = NULL;
    assert_int_equal(util_mkdirs(f->dir, 0700), 0);
    char *path = xasprintf("%s/broken.db", f->dir);
    assert_int_equal(sqlite3_open(path, &h), SQLITE_OK);
    /* A table in the way: 001_init.sql's CREATE TABLE jobs fails. */
    assert_int_equal(sqlite3_exec(h, "CREATE TABLE jobs (x)", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(h);

    struct db *db = NULL;
    char *err = NULL;
    assert_int_equal(db_open(path, &db, &err), -1);
    assert_non_null(err);
    assert_non_null(strstr(err, "data/schema/001_init.sql"));
    assert_non_null(strstr(err, path));
    assert_non_null(strstr(err, "already exists"));
    free(err);

    assert_int_equal(sqlite3_open(path, &h), SQLITE_OK);
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(h, "SELECT (SELECT COUNT(*) FROM schema_version), "
                                           "(SELECT COUNT(*) FROM sqlite_master "
                                           "WHERE name IN ('attempts', 'jobs_claim'))",
                                        -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(st, 0), 0);
    assert_int_equal(sqlite3_column_int(st, 1), 0);
    sqlite3_finalize(st);
    sqlite3_close(h);
    free(path);
}

static void test_open_errors_name_the_path(void **state)
{
    struct fix *f = *state;
    struct db *db = NULL;
    char *err = NULL;

    /* Not a database. */
    char *junk = xasprintf("%s/junk.db", f->dir);
    FILE *fp = fopen(junk, "w");
    assert_non_null(fp);
    for (int i = 0; i < 200; i++)
        fputs("this is not an SQLite file ", fp);
    fclose(fp);
    assert_int_equal(db_open(junk, &db, &err), -1);
    assert_null(db);
    char *want = xasprintf("cannot open database %s: ", junk);
    assert_non_null(err);
    assert_memory_equal(err, want, strlen(want));
    assert_non_null(strstr(err, "not a database"));
    free(want);
    free(err);
    err = NULL;

    /* A parent that is a file. */
    char *under = xasprintf("%s/sub/x.db", junk);
    assert_int_equal(db_open(under, &db, &err), -1);
    assert_non_null(err);
    assert_non_null(strstr(err, "cannot create directory"));
    assert_non_null(strstr(err, junk));
    free(err);
    free(under);
    free(junk);
}

static void test_memory_exec_and_transactions(void **state)
{
    struct db *db = NULL;
    char *err = NULL;
    assert_int_equal(db_open(":memory:", &db, &err), 0);
    assert_int_equal(db_schema_version(db), count_migrations());

    assert_int_equal(db_exec(db, "SELEKT nonsense", &err), -1);
    assert_non_null(err);
    assert_non_null(strstr(err, "syntax error"));
    free(err);
    err = NULL;
    assert_int_equal(db_exec(db, "SELEKT nonsense", NULL), -1);

    assert_int_equal(db_exec(db, "CREATE TABLE t (x)", NULL), 0);
    assert_int_equal(db_begin(db), 0);
    assert_int_equal(db_exec(db, "INSERT INTO t VALUES (1)", NULL), 0);
    assert_int_equal(db_rollback(db), 0);
    assert_int_equal(query_int(db, "SELECT COUNT(*) FROM t"), 0);

    assert_int_equal(db_begin(db), 0);
    assert_int_equal(db_begin(db), -1);   /* no nesting */
    assert_int_equal(db_exec(db, "INSERT INTO t VALUES (2)", NULL), 0);
    assert_int_equal(db_commit(db), 0);
    assert_int_equal(query_int(db, "SELECT x FROM t"), 2);
    assert_int_equal(db_commit(db), -1);   /* nothing to commit */
    assert_int_equal(db_rollback(db), 0);  /* harmless */

    /* Foreign keys are enforced. */
    assert_int_equal(db_exec(db, "INSERT INTO attempts (job_id, n, started_ms, outcome) "
                                 "VALUES (42, 1, 0, 'running')", &err), -1);
    assert_non_null(strstr(err, "FOREIGN KEY"));
    free(err);
    db_close(db);
    db_close(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_open_sets_pragmas_and_migrates, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reopen_is_idempotent, setup, teardown),
        cmocka_unit_test_setup_teardown(test_newer_schema_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failing_migration_rolls_back, setup, teardown),
        cmocka_unit_test_setup_teardown(test_open_errors_name_the_path, setup, teardown),
        cmocka_unit_test(test_memory_exec_and_transactions),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
