/* db.h — the SQLite store: one file in data_dir, WAL, synchronous=NORMAL,
 * foreign keys on, busy timeout, and numbered migrations embedded from
 * data/schema/NNN_name.sql applied in order inside transactions
 * (schema_version records what ran). Loop thread only. */
#ifndef MCPDECK_DB_H
#define MCPDECK_DB_H

#include <sqlite3.h>

struct db;

/* Open (creating parent directories) and migrate. path ":memory:" works. */
int db_open(const char *path, struct db **out, char **errmsg);
void db_close(struct db *db);                  /* NULL-safe */
sqlite3 *db_handle(struct db *db);
/* Run SQL without results. Returns 0 or -1 with *errmsg (may be NULL). */
int db_exec(struct db *db, const char *sql, char **errmsg);
int db_schema_version(struct db *db);          /* highest applied migration */
/* Begin/commit a transaction (BEGIN IMMEDIATE). */
int db_begin(struct db *db);
int db_commit(struct db *db);
int db_rollback(struct db *db);

#endif
