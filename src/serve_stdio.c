/* serve_stdio.c — `mcpdeck serve`: one MCP session over stdin/stdout.
 *
 * Newline-delimited JSON-RPC (the MCP stdio transport): stdin is read on
 * the loop and split into lines (jsonrpc_lines), each line goes to the
 * session; every message out is one line on stdout, written at once and
 * buffered only when the pipe is full. A client that sends faster than it
 * reads is paused: while more than STDIO_OUT_HIGH bytes of answers wait
 * for it, stdin is not read (an answer can be far larger than its request,
 * so reading on would grow the buffer without bound). Nothing else is
 * ever written to stdout: the log goes to its file. The servers are
 * started and waited for (up to their startup timeout) before stdin is
 * read, so a client's first tools/list sees them; later changes are
 * announced with list_changed. When stdin closes, answers still due get
 * a moment (STDIO_DRAIN_MS) to go out, then what is in flight is
 * cancelled; SIGINT and SIGTERM stop at once. Whatever is still queued
 * for the client then gets STDIO_FLUSH_MS to go out: a client that
 * neither reads stdout nor closes it must not keep serve (and so the
 * servers it started) alive. */
#include "serve.h"

#include "config.h"
#include "engine.h"
#include "jsonrpc.h"
#include "log.h"
#include "loop.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define STDIO_MAX_MESSAGE (64 << 20)
#define STDIO_WAIT_MAX_MS 30000
#define STDIO_DRAIN_MS 2000      /* after stdin closes, answers still due may go out */
#define STDIO_OUT_HIGH (1 << 20) /* answers queued for the client: stop reading requests */
#define STDIO_FLUSH_MS 2000      /* at exit, what is queued may go out; then it is dropped */

struct stdio_serve {
    struct loop *l;
    struct serve_session *ss;
    struct jsonrpc_lines lines;
    struct buf out;
    int watching_out;
    int out_broken;              /* stdout closed: stop */
    int stop;
    int eof;                     /* stdin closed: drain, then stop */
    int paused;                  /* stdin not read until the answers drain */
    int64_t drain_until;
};

static void flush_out(struct stdio_serve *st);

static void on_writable(struct loop *l, int fd, int mask, void *payload)
{
    (void)l;
    (void)fd;
    (void)mask;
    flush_out(payload);
}

/* Write what is queued until it is all out (1), the pipe is full (0) or
 * the client is gone (-1: EPIPE; what was queued is dropped). */
static int write_out(struct stdio_serve *st)
{
    while (st->out.len > 0) {
        ssize_t n = write(STDOUT_FILENO, st->out.data, st->out.len);
        if (n > 0) {
            buf_consume(&st->out, (size_t)n);
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return 0;
        st->out_broken = 1;
        st->out.len = 0;
        return -1;
    }
    return 1;
}

static void flush_out(struct stdio_serve *st)
{
    int rc = write_out(st);
    if (rc == 0) {
        if (!st->watching_out) {
            loop_fd_add(st->l, STDOUT_FILENO, LOOP_WRITE, on_writable, st);
            st->watching_out = 1;
        }
        return;
    }
    if (rc < 0)
        st->stop = 1;            /* the client is gone */
    if (st->watching_out) {
        loop_fd_del(st->l, STDOUT_FILENO);
        st->watching_out = 0;
    }
    if (st->paused) {
        loop_fd_mask(st->l, STDIN_FILENO, LOOP_READ);   /* no-op after EOF */
        st->paused = 0;
    }
}

static void send_line(void *tpayload, const char *json, size_t len, const char *related)
{
    (void)related;
    struct stdio_serve *st = tpayload;
    if (st->out_broken)
        return;
    int was_empty = st->out.len == 0;
    buf_reserve(&st->out, len + 1);
    buf_append(&st->out, json, len);
    buf_putc(&st->out, '\n');
    if (was_empty)               /* else the write watch drains it in order */
        flush_out(st);
    if (st->out.len > STDIO_OUT_HIGH && !st->paused) {
        loop_fd_mask(st->l, STDIN_FILENO, 0);
        st->paused = 1;
    }
}

static int on_line(void *payload, const char *line, size_t len)
{
    struct stdio_serve *st = payload;
    if (!line) {
        struct log_ctx ctx = {0, NULL, 0};
        log_write(LOG_LEVEL_WARN, &ctx, "serve: dropped a message of more than %d bytes",
                  STDIO_MAX_MESSAGE);
        return 0;
    }
    serve_session_receive(st->ss, line, len);
    return st->stop;
}

static void on_readable(struct loop *l, int fd, int mask, void *payload)
{
    (void)mask;
    struct stdio_serve *st = payload;
    char chunk[65536];
    for (;;) {
        ssize_t n = read(fd, chunk, sizeof chunk);
        if (n > 0) {
            if (jsonrpc_lines_feed(&st->lines, chunk, (size_t)n, on_line, st))
                return;
            if ((size_t)n < sizeof chunk || st->paused)
                return;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        loop_fd_del(l, fd);      /* EOF or an error: the client is done sending */
        jsonrpc_lines_finish(&st->lines, on_line, st);   /* a last line without its \n */
        st->eof = 1;
        st->drain_until = util_now_ms() + STDIO_DRAIN_MS;
        return;
    }
}

static void on_signal(struct loop *l, int signo, void *payload)
{
    (void)l;
    (void)signo;
    struct stdio_serve *st = payload;
    st->stop = 1;
}

/* What is still queued for the client goes out before serve returns, but
 * within STDIO_FLUSH_MS: stdout stays non-blocking, so a client that
 * neither reads nor closes it cannot hold the exit. What is left is
 * dropped, and the log says so. */
static void flush_final(struct stdio_serve *st)
{
    int64_t end = util_now_ms() + STDIO_FLUSH_MS;
    while (write_out(st) == 0) {
        int64_t left = end - util_now_ms();
        if (left <= 0)
            break;
        struct pollfd pfd = {STDOUT_FILENO, POLLOUT, 0};
        poll(&pfd, 1, (int)left);
    }
    if (st->out.len > 0) {
        struct log_ctx ctx = {0, NULL, 0};
        log_write(LOG_LEVEL_WARN, &ctx,
                  "serve: the client read none of its last %zu bytes of answers within "
                  "%d ms; exiting without them", st->out.len, STDIO_FLUSH_MS);
    }
}

int serve_stdio_run(struct engine *e, char **errmsg)
{
    struct loop *l = engine_loop(e);
    engine_set_sampling_relay(e, 1);     /* servers may sample: the client answers */
    engine_catch_interrupts(e);          /* a stop while they start still stops them */
    engine_start(e);
    engine_wait_servers(e, STDIO_WAIT_MAX_MS);
    if (engine_interrupted(e)) {
        struct log_ctx ctx = {0, NULL, 0};
        log_write(LOG_LEVEL_INFO, &ctx, "serve: stopped while the servers started");
        return 0;
    }
    struct serve *s = serve_new(e, errmsg);
    if (!s)
        return -1;
    struct stdio_serve st;
    memset(&st, 0, sizeof st);
    st.l = l;
    jsonrpc_lines_init(&st.lines, STDIO_MAX_MESSAGE);
    buf_init(&st.out);
    int in_flags = fcntl(STDIN_FILENO, F_GETFL);
    int out_flags = fcntl(STDOUT_FILENO, F_GETFL);
    if (in_flags >= 0)
        fcntl(STDIN_FILENO, F_SETFL, in_flags | O_NONBLOCK);
    if (out_flags >= 0)
        fcntl(STDOUT_FILENO, F_SETFL, out_flags | O_NONBLOCK);
    st.ss = serve_session_new(s, send_line, &st);
    loop_signal(l, SIGINT, on_signal, &st);
    loop_signal(l, SIGTERM, on_signal, &st);
    loop_fd_add(l, STDIN_FILENO, LOOP_READ, on_readable, &st);
    struct log_ctx ctx = {0, NULL, 0};
    log_write(LOG_LEVEL_INFO, &ctx, "serve: answering MCP on stdin/stdout");
    while (!st.stop) {
        if (st.eof) {
            int64_t left = st.drain_until - util_now_ms();
            if (left <= 0 || serve_session_pending(st.ss) == 0)
                break;
            loop_run_once(l, left);
        } else {
            loop_run_once(l, -1);
        }
    }
    if (!st.eof)
        loop_fd_del(l, STDIN_FILENO);
    /* back to the engine's handlers, not the default action: another
     * SIGTERM during the last flush must not kill us before the servers
     * are stopped (the flush is bounded anyway) */
    engine_catch_interrupts(e);
    serve_session_free(st.ss);
    serve_free(s);
    if (st.watching_out)
        loop_fd_del(l, STDOUT_FILENO);
    flush_final(&st);
    if (out_flags >= 0)
        fcntl(STDOUT_FILENO, F_SETFL, out_flags);
    if (in_flags >= 0)
        fcntl(STDIN_FILENO, F_SETFL, in_flags);
    buf_fini(&st.out);
    jsonrpc_lines_fini(&st.lines);
    log_write(LOG_LEVEL_INFO, &ctx, "serve: the client closed the session");
    return 0;
}
