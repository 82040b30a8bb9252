/* cli_jobs.h — `mcpdeck jobs`: look at and act on the durable job queue
 * straight from the database (no engine, no servers), so it works while
 * another mcpdeck process runs (SQLite WAL). */
#ifndef MCPDECK_CLI_JOBS_H
#define MCPDECK_CLI_JOBS_H

/* argv is what follows "jobs":
 *   [list] [--status S[,S...]] [--limit N]   newest first (default 50)
 *   show ID          the job, its result's metadata, needs, attempts, events
 *   cancel ID        a queued or running job (and skip what needs it)
 *   retry ID         a failed, cancelled or skipped job (and its skipped dependents)
 *   result ID        the result body, checked against its SHA-256, raw on stdout
 * ID is a number, optionally "#5". format is "text" (NULL: aligned
 * columns), "json" or "md" (Markdown), for everything but result; argv
 * may also carry --format. db_path is the database file; data_dir (or
 * NULL: the database's directory) holds blobs/. Prints to stdout, errors
 * to stderr. Returns the exit code: 0 done, 1 no such job / not possible
 * in its state / corrupt result, 2 usage or the database cannot be
 * opened. */
int cli_jobs(const char *db_path, const char *data_dir, int argc, char **argv,
             const char *format);

#endif
