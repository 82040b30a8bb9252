/* log.c — the structured log (see log.h).
 *
 * A line is formatted and redacted outside the lock, then written with one
 * write() under it, so threads never interleave and the file never holds
 * half a line from us. The size is tracked from our own writes; near the
 * limit it is checked against the file itself, and when another process
 * sharing the file has rotated it (the path no longer names our file) we
 * reopen instead of rotating again. Write errors drop the line: there is
 * nowhere left to report them. */
#include "log.h"
#include "redact.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const char *const level_names[] = {"debug", "info", "warn", "error"};

static const char *const fixed_fields[] = {"ts", "level", "msg", "job", "server", "req", "pid"};

/* Readable without the lock (log_enabled); written under it. */
static atomic_int log_threshold = LOG_LEVEL_INFO;
static atomic_int log_active;

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
    char *path;          /* file sink, or NULL */
    int fd;              /* -1 while closed or after a failed reopen */
    FILE *fp;            /* stream sink, or NULL */
    size_t max_bytes;
    int keep;
    size_t size;         /* bytes in the current file */
} sink = {.fd = -1};

/* === Levels === */

int log_level_parse(const char *s, enum log_level *out, char **errmsg)
{
    for (size_t i = 0; s && i < ARRAY_LEN(level_names); i++) {
        if (strcasecmp(s, level_names[i]) == 0) {
            *out = (enum log_level)i;
            return 0;
        }
    }
    if (s && strcasecmp(s, "warning") == 0) {
        *out = LOG_LEVEL_WARN;
        return 0;
    }
    if (errmsg)
        *errmsg = xasprintf("unknown log level \"%s\" (expected debug, info, warn or error)",
                            s ? s : "");
    return -1;
}

const char *log_level_name(enum log_level level)
{
    if ((int)level < 0 || (size_t)level >= ARRAY_LEN(level_names))
        return "error";
    return level_names[level];
}

void log_set_level(enum log_level level)
{
    atomic_store_explicit(&log_threshold, (int)level, memory_order_relaxed);
}

enum log_level log_get_level(void)
{
    return (enum log_level)atomic_load_explicit(&log_threshold, memory_order_relaxed);
}

int log_enabled(enum log_level level)
{
    return atomic_load_explicit(&log_active, memory_order_relaxed) &&
           (int)level >= atomic_load_explicit(&log_threshold, memory_order_relaxed);
}

/* === The sink (called with log_lock held) === */

static void sink_close_locked(void)
{
    if (sink.fd >= 0)
        close(sink.fd);
    free(sink.path);
    sink.path = NULL;
    sink.fd = -1;
    sink.fp = NULL;
    sink.size = 0;
    atomic_store_explicit(&log_active, 0, memory_order_relaxed);
}

/* Open sink.path again (after a rotation, or to follow another process's
 * rotation). Returns 0 or -errno; sink.fd is -1 on failure. */
static int sink_reopen_locked(void)
{
    if (sink.fd >= 0)
        close(sink.fd);
    sink.fd = open(sink.path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (sink.fd < 0)
        return -errno;
    struct stat st;
    sink.size = fstat(sink.fd, &st) == 0 ? (size_t)st.st_size : 0;
    return 0;
}

/* Refresh sink.size from the file; reopen when the path now names another
 * file (rotated or removed by someone else). */
static void sink_refresh_locked(void)
{
    struct stat ours, named;
    if (fstat(sink.fd, &ours) < 0)
        return;
    if (stat(sink.path, &named) < 0 || named.st_ino != ours.st_ino ||
        named.st_dev != ours.st_dev) {
        sink_reopen_locked();
        return;
    }
    sink.size = (size_t)ours.st_size;
}

/* path.N-1 -> path.N, ..., path -> path.1 (path.keep is overwritten, so
 * the oldest is dropped), then a fresh path. */
static void sink_rotate_locked(void)
{
    close(sink.fd);
    sink.fd = -1;
    for (int i = sink.keep - 1; i >= 1; i--) {
        char *from = xasprintf("%s.%d", sink.path, i);
        char *to = xasprintf("%s.%d", sink.path, i + 1);
        rename(from, to);
        free(from);
        free(to);
    }
    char *first = xasprintf("%s.1", sink.path);
    rename(sink.path, first);
    free(first);
    sink_reopen_locked();
}

static void sink_write_locked(const char *line, size_t len)
{
    if (sink.fp) {
        fwrite(line, 1, len, sink.fp);
        fflush(sink.fp);
        return;
    }
    if (!sink.path)
        return;
    if (sink.fd < 0 && sink_reopen_locked() < 0)
        return;
    if (sink.size > 0 && sink.size + len > sink.max_bytes) {
        sink_refresh_locked();
        if (sink.fd >= 0 && sink.size > 0 && sink.size + len > sink.max_bytes)
            sink_rotate_locked();
        if (sink.fd < 0)
            return;
    }
    size_t off = 0;
    while (off < len) {
        ssize_t w = write(sink.fd, line + off, len - off);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        off += (size_t)w;
    }
    sink.size += off;
}

/* === Opening and closing === */

int log_open(const char *path, size_t max_bytes, int keep, char **errmsg)
{
    pthread_mutex_lock(&log_lock);
    sink_close_locked();
    const char *slash = strrchr(path, '/');
    if (slash && slash != path) {
        char *dir = xstrndup(path, (size_t)(slash - path));
        int rc = util_mkdirs(dir, 0700);
        if (rc < 0) {
            if (errmsg)
                *errmsg = xasprintf("cannot create log directory %s: %s", dir, strerror(-rc));
            free(dir);
            pthread_mutex_unlock(&log_lock);
            return -1;
        }
        free(dir);
    }
    sink.path = xstrdup(path);
    sink.max_bytes = max_bytes ? max_bytes : LOG_DEFAULT_MAX_BYTES;
    sink.keep = keep > 0 ? keep : LOG_DEFAULT_KEEP;
    int rc = sink_reopen_locked();
    if (rc < 0) {
        if (errmsg)
            *errmsg = xasprintf("cannot open log file %s: %s", path, strerror(-rc));
        sink_close_locked();
        pthread_mutex_unlock(&log_lock);
        return -1;
    }
    atomic_store_explicit(&log_active, 1, memory_order_relaxed);
    pthread_mutex_unlock(&log_lock);
    return 0;
}

void log_open_stream(FILE *fp)
{
    pthread_mutex_lock(&log_lock);
    sink_close_locked();
    sink.fp = fp;
    atomic_store_explicit(&log_active, fp != NULL, memory_order_relaxed);
    pthread_mutex_unlock(&log_lock);
}

void log_close(void)
{
    pthread_mutex_lock(&log_lock);
    sink_close_locked();
    pthread_mutex_unlock(&log_lock);
}

/* === Formatting === */

/* Length of the valid UTF-8 sequence at s (2 to 4 bytes), or 0. */
static size_t utf8_seq_len(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    size_t len;
    unsigned char lo = 0x80, hi = 0xBF;   /* range of the second byte */
    if (c >= 0xC2 && c <= 0xDF)
        len = 2;
    else if (c >= 0xE0 && c <= 0xEF)
        len = 3;
    else if (c >= 0xF0 && c <= 0xF4)
        len = 4;
    else
        return 0;
    if (c == 0xE0)
        lo = 0xA0;          /* overlong */
    else if (c == 0xED)
        hi = 0x9F;          /* surrogates */
    else if (c == 0xF0)
        lo = 0x90;          /* overlong */
    else if (c == 0xF4)
        hi = 0x8F;          /* past U+10FFFF */
    if (n < len || s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < len; i++)
        if (s[i] < 0x80 || s[i] > 0xBF)
            return 0;
    return len;
}

/* s[0..n) as a JSON string: quotes, backslashes and control characters
 * escaped, invalid UTF-8 bytes replaced by U+FFFD. */
static void json_put_string(struct buf *b, const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    buf_putc(b, '"');
    size_t run = 0, i = 0;
    while (i < n) {
        unsigned char c = u[i];
        if (c >= 0x20 && c < 0x7F && c != '"' && c != '\\') {
            i++;
            continue;
        }
        buf_append(b, s + run, i - run);
        if (c >= 0x80) {
            size_t len = utf8_seq_len(u + i, n - i);
            if (len) {
                buf_append(b, s + i, len);
                i += len;
            } else {
                buf_puts(b, "\\ufffd");
                i++;
            }
        } else {
            switch (c) {
            case '"': buf_puts(b, "\\\""); break;
            case '\\': buf_puts(b, "\\\\"); break;
            case '\n': buf_puts(b, "\\n"); break;
            case '\r': buf_puts(b, "\\r"); break;
            case '\t': buf_puts(b, "\\t"); break;
            case '\b': buf_puts(b, "\\b"); break;
            case '\f': buf_puts(b, "\\f"); break;
            default: buf_printf(b, "\\u%04x", c); break;
            }
            i++;
        }
        run = i;
    }
    buf_append(b, s + run, n - run);
    buf_putc(b, '"');
}

static void json_put_cstr(struct buf *b, const char *s)
{
    json_put_string(b, s, strlen(s));
}

/* A redacted copy of s written as a JSON string. */
static void json_put_redacted(struct buf *b, const char *s, size_t n, size_t max)
{
    size_t rlen;
    char *r = redact_text(s, n, &rlen);
    if (rlen > max) {
        json_put_string(b, r, max);
        b->len--;                          /* reopen the string */
        buf_puts(b, "...[truncated]\"");
    } else {
        json_put_string(b, r, rlen);
    }
    free(r);
}

static void put_timestamp(struct buf *b)
{
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    buf_printf(b, "\"%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ\"", tm.tm_year + 1900, tm.tm_mon + 1,
               tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000);
}

static void put_id(struct buf *b, int64_t v)
{
    if (v)
        buf_printf(b, "%" PRId64, v);
    else
        buf_puts(b, "null");
}

static int is_fixed_field(const char *key)
{
    for (size_t i = 0; i < ARRAY_LEN(fixed_fields); i++)
        if (strcmp(key, fixed_fields[i]) == 0)
            return 1;
    return 0;
}

static void put_extra(struct buf *b, const struct log_kv *kv)
{
    const char *key = kv->key ? kv->key : "";
    buf_putc(b, ',');
    if (is_fixed_field(key)) {
        char *k = xasprintf("_%s", key);
        json_put_cstr(b, k);
        free(k);
    } else {
        json_put_cstr(b, key);
    }
    buf_putc(b, ':');
    if (kv->type == LOG_KV_INT)
        buf_printf(b, "%" PRId64, kv->num);
    else if (!kv->str)
        buf_puts(b, "null");
    else if (redact_key_is_secret(key))
        json_put_cstr(b, REDACT_MARK);
    else
        json_put_redacted(b, kv->str, strlen(kv->str), LOG_MSG_MAX);
}

static void log_emit(enum log_level level, const struct log_ctx *ctx, const struct log_kv *kv,
                     size_t nkv, const char *fmt, va_list ap)
{
    char *msg = xvasprintf(fmt, ap);
    struct buf b;
    buf_init(&b);
    buf_puts(&b, "{\"ts\":");
    put_timestamp(&b);
    buf_printf(&b, ",\"level\":\"%s\",\"msg\":", log_level_name(level));
    json_put_redacted(&b, msg, strlen(msg), LOG_MSG_MAX);
    free(msg);
    buf_puts(&b, ",\"job\":");
    put_id(&b, ctx ? ctx->job : 0);
    buf_puts(&b, ",\"server\":");
    if (ctx && ctx->server)
        json_put_cstr(&b, ctx->server);
    else
        buf_puts(&b, "null");
    buf_puts(&b, ",\"req\":");
    put_id(&b, ctx ? ctx->req : 0);
    buf_printf(&b, ",\"pid\":%ld", (long)getpid());
    for (size_t i = 0; i < nkv; i++)
        put_extra(&b, &kv[i]);
    buf_puts(&b, "}\n");

    pthread_mutex_lock(&log_lock);
    sink_write_locked(b.data, b.len);
    pthread_mutex_unlock(&log_lock);
    buf_fini(&b);
}

/* === Writing === */

void log_writev(enum log_level level, const struct log_ctx *ctx, const char *fmt, va_list ap)
{
    if (log_enabled(level))
        log_emit(level, ctx, NULL, 0, fmt, ap);
}

void log_write(enum log_level level, const struct log_ctx *ctx, const char *fmt, ...)
{
    if (!log_enabled(level))
        return;
    va_list ap;
    va_start(ap, fmt);
    log_emit(level, ctx, NULL, 0, fmt, ap);
    va_end(ap);
}

void log_write_kv(enum log_level level, const struct log_ctx *ctx, const struct log_kv *kv,
                  size_t nkv, const char *fmt, ...)
{
    if (!log_enabled(level))
        return;
    va_list ap;
    va_start(ap, fmt);
    log_emit(level, ctx, kv, nkv, fmt, ap);
    va_end(ap);
}
