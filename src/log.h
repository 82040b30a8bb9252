/* log.h — the structured log: JSON lines in a size-rotated file.
 *
 * One process-wide logger (like Redis's serverLog), opened once by main
 * (normally <data_dir>/logs/mcpdeck.log) and written from any thread. Each
 * call writes one line holding one JSON object:
 *
 *   {"ts":"2025-01-02T03:04:05.678Z","level":"info","msg":"...",
 *    "job":12,"server":"fs","req":7,"pid":4242, ...extra fields}
 *
 * ts is RFC 3339 UTC with milliseconds; job, server and req (the JSON-RPC
 * request id) are on every line, null when unknown. The message and every
 * extra string value pass through redact_text first; an extra field whose
 * key passes redact_key_is_secret is written as "[REDACTED]". Control
 * characters are escaped and invalid UTF-8 becomes U+FFFD, so a line is
 * always one valid JSON object. Messages longer than LOG_MSG_MAX bytes are
 * cut there and marked "...[truncated]".
 *
 * Rotation: when a line would take the file past max_bytes, the file is
 * renamed to .1 (.1 to .2, and so on; .keep is the last one kept, the
 * older dropped), a new file is opened and the line written there, whole.
 * A line longer than max_bytes gets a file of its own. The file is opened
 * O_APPEND|O_CLOEXEC with mode 0600 and its directory created (0700).
 * Several processes may share one file: each line is one write(), and a
 * process that finds the file already rotated by another follows it
 * instead of rotating again. */
#ifndef MCPDECK_LOG_H
#define MCPDECK_LOG_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "util.h"

enum log_level {
    LOG_LEVEL_DEBUG,
    LOG_LEVEL_INFO,
    LOG_LEVEL_WARN,
    LOG_LEVEL_ERROR,
};

#define LOG_DEFAULT_MAX_BYTES (10 * 1024 * 1024)
#define LOG_DEFAULT_KEEP 5
#define LOG_MSG_MAX (64 * 1024)

/* Correlation fields; 0 / NULL are written as null. A NULL ctx is all
 * null. */
struct log_ctx {
    int64_t job;
    const char *server;
    int64_t req;
};

/* One extra field. Build them with LOG_STR / LOG_INT. */
enum log_kv_type { LOG_KV_STR, LOG_KV_INT };

struct log_kv {
    const char *key;
    enum log_kv_type type;
    const char *str;   /* LOG_KV_STR; NULL is written as null */
    int64_t num;       /* LOG_KV_INT */
};

#define LOG_STR(k, v) ((struct log_kv){.key = (k), .type = LOG_KV_STR, .str = (v)})
#define LOG_INT(k, v) ((struct log_kv){.key = (k), .type = LOG_KV_INT, .num = (v)})

/* "debug", "info", "warn" (or "warning"), "error", any case. 0 and *out,
 * or -1 and a malloc'd *errmsg naming the accepted levels. */
int log_level_parse(const char *s, enum log_level *out, char **errmsg);

/* The level's name as written in the log ("warn"). */
const char *log_level_name(enum log_level level);

/* Open (or reopen) the log at path, creating its directory. max_bytes 0
 * means LOG_DEFAULT_MAX_BYTES, keep 0 means LOG_DEFAULT_KEEP (rotated
 * files kept besides the current one). Closes whatever was open before.
 * 0, or -1 and a malloc'd *errmsg (the log is then closed). */
int log_open(const char *path, size_t max_bytes, int keep, char **errmsg);

/* Write to fp instead of a file (stderr for "--log-file -", or a test's
 * tmpfile): no rotation; fp stays the caller's and must outlive the
 * logger or a log_close. Closes whatever was open before. */
void log_open_stream(FILE *fp);

/* Close the log; later writes are dropped until it is opened again. */
void log_close(void);

/* The threshold: lines below it are not written. Default info. */
void log_set_level(enum log_level level);
enum log_level log_get_level(void);

/* 1 when a line at level would be written (a log is open and level is at
 * or above the threshold). Cheap: callers use it to skip costly
 * formatting. Any thread. */
int log_enabled(enum log_level level);

/* Write one line (see the top of this file). ctx may be NULL. Does
 * nothing when !log_enabled(level). Any thread; lines never interleave. */
void log_write(enum log_level level, const struct log_ctx *ctx, const char *fmt, ...)
    PRINTF_LIKE(3, 4);
void log_writev(enum log_level level, const struct log_ctx *ctx, const char *fmt, va_list ap)
    PRINTF_LIKE(3, 0);

/* log_write with extra fields kv[0..nkv), written after the fixed ones in
 * order. A key equal to a fixed field's name is written with a leading
 * '_' ("_msg"). */
void log_write_kv(enum log_level level, const struct log_ctx *ctx, const struct log_kv *kv,
                  size_t nkv, const char *fmt, ...) PRINTF_LIKE(5, 6);

#endif
