/* db.c — the SQLite store: open one database file in WAL mode and bring its
 * schema up to date from the numbered migrations compiled into the binary
 * (data/schema/NNN_name.sql, see embedded.h). Each migration runs inside its
 * own BEGIN IMMEDIATE transaction and is recorded in schema_version, so a
 * crash mid-migration leaves the previous version intact, and two processes
 * opening the same file at once apply each migration exactly once.
 *
 * The transaction statements are prepared once: the job queue begins and
 * commits several transactions per job. Loop thread only. */
#include "db.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "embedded.h"
#include "util.h"

#define SCHEMA_PREFIX "data/schema/"

struct db {
    sqlite3 *h;
    char *path;
    sqlite3_stmt *begin, *commit, *rollback;
};

struct migration {
    int version;
    const struct embedded_file *file;
};

/* === Migrations === */

/* If name is "data/schema/NNN_something.sql", return NNN (> 0), else 0. */
static int migration_version(const char *name)
{
    size_t plen = strlen(SCHEMA_PREFIX);
    if (strncmp(name, SCHEMA_PREFIX, plen) != 0)
        return 0;
    const char *p = name + plen;
    int v = 0;
    const char *d = p;
    while (*d >= '0' && *d <= '9' && d - p < 9)
        v = v * 10 + (*d++ - '0');
    if (d == p || *d != '_' || strchr(d, '/'))
        return 0;
    size_t n = strlen(d);
    if (n < 5 || strcmp(d + n - 4, ".sql") != 0)
        return 0;
    return v;
}

static int migration_cmp(const void *a, const void *b)
{
    const struct migration *x = a, *y = b;
    return (x->version > y->version) - (x->version < y->version);
}

/* The embedded migrations sorted by version; *n gets the count. Two files
 * with the same number are a build mistake, reported in *errmsg. */
static int migrations_collect(struct migration **out, size_t *n, char **errmsg)
{
    size_t count = 0;
    for (const struct embedded_file *f = embedded_files; f->name; f++)
        if (migration_version(f->name) > 0)
            count++;
    struct migration *m = xcalloc(count ? count : 1, sizeof *m);
    size_t i = 0;
    for (const struct embedded_file *f = embedded_files; f->name; f++) {
        int v = migration_version(f->name);
        if (v > 0) {
            m[i].version = v;
            m[i].file = f;
            i++;
        }
    }
    qsort(m, count, sizeof *m, migration_cmp);
    for (i = 1; i < count; i++)
        if (m[i].version == m[i - 1].version) {
            *errmsg = xasprintf("migrations %s and %s have the same number %d",
                                m[i - 1].file->name, m[i].file->name, m[i].version);
            free(m);
            return -1;
        }
    *out = m;
    *n = count;
    return 0;
}

static int read_version(sqlite3 *h, int *out)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(h, "SELECT COALESCE(MAX(version), 0) FROM schema_version", -1, &st,
                           NULL) != SQLITE_OK)
        return -1;
    int rc = -1;
    if (sqlite3_step(st) == SQLITE_ROW) {
        *out = sqlite3_column_int(st, 0);
        rc = 0;
    }
    sqlite3_finalize(st);
    return rc;
}

static int record_version(sqlite3 *h, const struct migration *m)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(h, "INSERT INTO schema_version (version, name, applied_ms) "
                              "VALUES (?1, ?2, ?3)", -1, &st, NULL) != SQLITE_OK)
        return -1;
    const char *base = strrchr(m->file->name, '/') + 1;
    sqlite3_bind_int(st, 1, m->version);
    sqlite3_bind_text(st, 2, base, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, util_wall_ms());
    int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
    sqlite3_finalize(st);
    return rc;
}

/* Apply one migration unless another process already did (the version is
 * read again under the write lock). */
static int migration_apply(struct db *db, const struct migration *m, char **errmsg)
{
    int have = 0;
    char *msg = NULL;
    if (sqlite3_exec(db->h, "BEGIN IMMEDIATE", NULL, NULL, &msg) != SQLITE_OK)
        goto fail;
    if (read_version(db->h, &have) < 0)
        goto fail;
    if (have < m->version) {
        if (sqlite3_exec(db->h, (const char *)m->file->data, NULL, NULL, &msg) != SQLITE_OK)
            goto fail;
        if (record_version(db->h, m) < 0)
            goto fail;
    }
    if (sqlite3_exec(db->h, "COMMIT", NULL, NULL, &msg) != SQLITE_OK)
        goto fail;
    return 0;
fail:
    *errmsg = xasprintf("cannot apply migration %s to %s: %s", m->file->name, db->path,
                        msg ? msg : sqlite3_errmsg(db->h));
    sqlite3_free(msg);
    if (!sqlite3_get_autocommit(db->h))
        sqlite3_exec(db->h, "ROLLBACK", NULL, NULL, NULL);
    return -1;
}

static int db_migrate(struct db *db, char **errmsg)
{
    struct migration *m = NULL;
    size_t n = 0;
    char *msg = NULL;
    if (sqlite3_exec(db->h,
                     "CREATE TABLE IF NOT EXISTS schema_version ("
                     "version INTEGER PRIMARY KEY, name TEXT, applied_ms INTEGER)",
                     NULL, NULL, &msg) != SQLITE_OK) {
        *errmsg = xasprintf("cannot create schema_version in %s: %s", db->path, msg);
        sqlite3_free(msg);
        return -1;
    }
    if (migrations_collect(&m, &n, errmsg) < 0)
        return -1;
    int newest = n ? m[n - 1].version : 0;
    int have = 0;
    if (read_version(db->h, &have) < 0) {
        *errmsg = xasprintf("cannot read the schema version of %s: %s", db->path,
                            sqlite3_errmsg(db->h));
        goto fail;
    }
    if (have > newest) {
        *errmsg = xasprintf("%s: database schema version %d is newer than this mcpdeck (%d); "
                            "upgrade mcpdeck", db->path, have, newest);
        goto fail;
    }
    for (size_t i = 0; i < n; i++)
        if (m[i].version > have && migration_apply(db, &m[i], errmsg) < 0)
            goto fail;
    free(m);
    return 0;
fail:
    free(m);
    return -1;
}

/* === Open and close === */

static int make_parent_dirs(const char *path, char **errmsg)
{
    const char *slash = strrchr(path, '/');
    if (!slash || slash == path)
        return 0;
    char *dir = xstrndup(path, (size_t)(slash - path));
    int rc = util_mkdirs(dir, 0700);
    if (rc < 0)
        *errmsg = xasprintf("cannot create directory %s for the database: %s", dir,
                            strerror(-rc));
    free(dir);
    return rc < 0 ? -1 : 0;
}

static int prepare(struct db *db, const char *sql, sqlite3_stmt **st)
{
    return sqlite3_prepare_v3(db->h, sql, -1, SQLITE_PREPARE_PERSISTENT, st, NULL) == SQLITE_OK
               ? 0 : -1;
}

/* Open (creating parent directories) and migrate. path ":memory:" works.
 * Returns 0 and an owned *out, or -1 and *errmsg naming the file. */
int db_open(const char *path, struct db **out, char **errmsg)
{
    *out = NULL;
    int is_memory = strcmp(path, ":memory:") == 0;
    if (!is_memory && make_parent_dirs(path, errmsg) < 0)
        return -1;
    struct db *db = xcalloc(1, sizeof *db);
    db->path = xstrdup(path);
    char *msg = NULL;
    if (sqlite3_open_v2(path, &db->h, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL)
        != SQLITE_OK) {
        *errmsg = xasprintf("cannot open database %s: %s", path,
                            db->h ? sqlite3_errmsg(db->h) : "out of memory");
        goto fail;
    }
    sqlite3_extended_result_codes(db->h, 1);
    sqlite3_busy_timeout(db->h, 5000);
    /* journal_mode answers with a row; on ":memory:" it stays "memory". */
    if (sqlite3_exec(db->h, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
                            "PRAGMA foreign_keys=ON", NULL, NULL, &msg) != SQLITE_OK) {
        *errmsg = xasprintf("cannot open database %s: %s", path, msg);
        sqlite3_free(msg);
        goto fail;
    }
    if (db_migrate(db, errmsg) < 0)
        goto fail;
    if (prepare(db, "BEGIN IMMEDIATE", &db->begin) < 0 || prepare(db, "COMMIT", &db->commit) < 0
        || prepare(db, "ROLLBACK", &db->rollback) < 0) {
        *errmsg = xasprintf("cannot open database %s: %s", path, sqlite3_errmsg(db->h));
        goto fail;
    }
    *out = db;
    return 0;
fail:
    db_close(db);
    return -1;
}

void db_close(struct db *db)
{
    if (!db)
        return;
    sqlite3_finalize(db->begin);
    sqlite3_finalize(db->commit);
    sqlite3_finalize(db->rollback);
    /* _v2: statements someone forgot to finalize keep the connection alive
     * (and show up as leaks) instead of making the close fail. */
    sqlite3_close_v2(db->h);
    free(db->path);
    free(db);
}

sqlite3 *db_handle(struct db *db)
{
    return db->h;
}

/* === Statements and transactions === */

int db_exec(struct db *db, const char *sql, char **errmsg)
{
    char *msg = NULL;
    if (sqlite3_exec(db->h, sql, NULL, NULL, &msg) == SQLITE_OK)
        return 0;
    if (errmsg)
        *errmsg = xstrdup(msg ? msg : sqlite3_errmsg(db->h));
    sqlite3_free(msg);
    return -1;
}

/* The highest migration applied, 0 for none, -1 if it cannot be read. */
int db_schema_version(struct db *db)
{
    int v = 0;
    return read_version(db->h, &v) < 0 ? -1 : v;
}

static int run_stmt(sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

/* BEGIN IMMEDIATE: take the write lock now (waiting up to the busy
 * timeout), so the transaction cannot fail later for lack of it. */
int db_begin(struct db *db)
{
    return run_stmt(db->begin);
}

/* On failure the transaction is still open: call db_rollback. */
int db_commit(struct db *db)
{
    return run_stmt(db->commit);
}

int db_rollback(struct db *db)
{
    if (sqlite3_get_autocommit(db->h))
        return 0;   /* SQLite already rolled back (or nothing was begun) */
    return run_stmt(db->rollback);
}
