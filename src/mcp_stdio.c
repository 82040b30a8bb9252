/* mcp_stdio.c — MCP over a child's stdin/stdout, newline-delimited JSON.
 * stderr goes to a ring buffer (never to our terminal) so the UI and
 * `servers log` can show it, and to the log at debug, a line each. */
#include "config.h"
#include "jsonrpc.h"
#include "log.h"
#include "loop.h"
#include "mcp_transport.h"
#include "proc.h"
#include "redact.h"
#include "util.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define STDERR_RING (64 * 1024)

struct stdio_t {
    struct mcp_transport base;
    const struct config_server *cfg;
    struct proc proc;
    int running;
    struct jsonrpc_lines lines;
    struct buf out;               /* pending writes to the child's stdin */
    char *ring;                   /* stderr ring buffer */
    size_t ring_len, ring_pos;    /* bytes held, next write position */
    char *log_copy;               /* linearised ring for ops->log */
    int closed;                   /* on_closed was called */
    int exited;
    int stdin_gone;               /* writing to it failed: it stopped reading */
    int deaf;                     /* more than backlog_max waits for it to read */
    char *const *hide;            /* environment variables not passed on */
    size_t nhide;
    size_t backlog_max;
    int status;
    uint64_t eof_timer;           /* stdout or stdin closed: waiting to see if it exits */
};

static void report_closed(struct stdio_t *s, const char *reason)
{
    if (s->closed)
        return;
    s->closed = 1;
    if (s->base.up && s->base.up->on_closed)
        s->base.up->on_closed(s->base.owner, reason);
}

static void ring_put(struct stdio_t *s, const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        s->ring[s->ring_pos] = p[i];
        s->ring_pos = (s->ring_pos + 1) % STDERR_RING;
        if (s->ring_len < STDERR_RING)
            s->ring_len++;
    }
}

/* The child's stderr, one debug line per line (a line split across reads
 * comes out as two). */
static void log_stderr(const struct stdio_t *s, const char *p, size_t n)
{
    if (!log_enabled(LOG_LEVEL_DEBUG))
        return;
    struct log_ctx ctx = {0, s->cfg->name, 0};
    while (n) {
        const char *nl = memchr(p, '\n', n);
        size_t len = nl ? (size_t)(nl - p) : n;
        if (len && !(len == 1 && p[0] == '\r'))
            log_write(LOG_LEVEL_DEBUG, &ctx, "server stderr: %.*s", (int)len, p);
        len += nl != NULL;
        p += len;
        n -= len;
    }
}

static int on_line(void *payload, const char *line, size_t len)
{
    struct stdio_t *s = payload;
    if (!line) {
        if (s->base.up->on_oversize)
            s->base.up->on_oversize(s->base.owner, len);
        return 0;
    }
    s->base.up->on_message(s->base.owner, line, len);
    return s->closed;   /* stop feeding if the owner closed us */
}

static void child_gone(struct stdio_t *s)
{
    char why[160], st[96];
    if (s->exited)
        snprintf(why, sizeof why, "server process %s",
                 proc_status_str(s->status, st, sizeof st));
    else if (s->deaf)
        snprintf(why, sizeof why, "server stopped reading its stdin: over %zu bytes waited "
                 "for it; the session was ended", s->backlog_max);
    else if (s->stdin_gone)
        snprintf(why, sizeof why, "server closed its stdin");
    else
        snprintf(why, sizeof why, "server closed its stdout");
    report_closed(s, why);
}

/* stdout or stdin closed but the process has not been reaped yet: give it
 * a moment, so a crash is reported with its exit status rather than as
 * "closed". */
static void eof_timeout(struct loop *l, uint64_t id, void *payload)
{
    struct stdio_t *s = payload;
    s->eof_timer = 0;
    child_gone(s);
}

/* Read the child's stdout: up to `reads` reads of 64 KiB, or until it is
 * drained or closed. */
static void read_stdout(struct stdio_t *s, struct loop *l, int fd, int reads)
{
    char tmp[65536];
    for (int i = 0; i < reads; i++) {
        ssize_t n = read(fd, tmp, sizeof tmp);
        if (n > 0) {
            jsonrpc_lines_feed(&s->lines, tmp, (size_t)n, on_line, s);
            if (s->closed || (size_t)n < sizeof tmp)
                return;   /* drained (the loop is level-triggered: more wakes us) */
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
            return;
        loop_fd_del(l, fd);
        close(fd);
        s->proc.out_fd = -1;
        jsonrpc_lines_finish(&s->lines, on_line, s);   /* a last message without its \n */
        if (s->exited)
            child_gone(s);
        else if (!s->eof_timer)
            s->eof_timer = loop_timer_add(l, 250, eof_timeout, s);
        return;
    }
}

static void on_stdout(struct loop *l, int fd, int mask, void *payload)
{
    /* at most 1 MiB a turn: a server that writes faster than we read must
     * not keep the loop (timers, the UI, other servers) from turning */
    read_stdout(payload, l, fd, 16);
}

static void on_stderr(struct loop *l, int fd, int mask, void *payload)
{
    struct stdio_t *s = payload;
    char tmp[8192];
    for (;;) {
        ssize_t n = read(fd, tmp, sizeof tmp);
        if (n > 0) {
            ring_put(s, tmp, (size_t)n);
            log_stderr(s, tmp, (size_t)n);
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
            return;
        loop_fd_del(l, fd);
        close(fd);
        s->proc.err_fd = -1;
        return;
    }
}

static void on_stdin_writable(struct loop *l, int fd, int mask, void *payload);

/* Write what is queued; what the pipe cannot take now waits for it to be
 * writable again (a message larger than the pipe takes several turns). */
static void flush_out(struct stdio_t *s)
{
    while (s->out.len > 0 && s->proc.in_fd >= 0) {
        ssize_t n = write(s->proc.in_fd, s->out.data, s->out.len);
        if (n > 0) {
            buf_consume(&s->out, (size_t)n);
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN) {
            loop_fd_add(s->base.loop, s->proc.in_fd, LOOP_WRITE, on_stdin_writable, s);
            return;
        }
        /* EPIPE: the child stopped reading. No request can reach it now:
         * the session ends (from a timer: we may be inside a send) rather
         * than every call waiting for its timeout. */
        loop_fd_del(s->base.loop, s->proc.in_fd);
        close(s->proc.in_fd);
        s->proc.in_fd = -1;
        buf_consume(&s->out, s->out.len);
        s->stdin_gone = 1;
        if (!s->exited && !s->eof_timer)
            s->eof_timer = loop_timer_add(s->base.loop, 250, eof_timeout, s);
        return;
    }
    if (s->proc.in_fd >= 0)
        loop_fd_del(s->base.loop, s->proc.in_fd);
}

static void on_stdin_writable(struct loop *l, int fd, int mask, void *payload)
{
    flush_out(payload);
}

static void on_exit_cb(void *payload, pid_t pid, int status)
{
    struct stdio_t *s = payload;
    s->exited = 1;
    s->status = status;
    s->running = 0;
    /* Drain what it wrote before dying (all of it), then report. */
    if (s->proc.out_fd >= 0)
        read_stdout(s, s->base.loop, s->proc.out_fd, INT_MAX);
    if (s->eof_timer) {
        loop_timer_del(s->base.loop, s->eof_timer);
        s->eof_timer = 0;
    }
    child_gone(s);
}

static int stdio_start(struct mcp_transport *t, char **errmsg)
{
    struct stdio_t *s = (struct stdio_t *)t;
    const struct config_server *c = s->cfg;
    char **argv = xcalloc(c->nargs + 2, sizeof *argv);
    argv[0] = c->command;
    for (size_t i = 0; i < c->nargs; i++)
        argv[i + 1] = c->args[i];
    /* a server gets a secret only when its config gives it one */
    struct buf hidden;
    buf_init(&hidden);
    char **env = redact_child_env(s->hide, s->nhide, c->env, c->nenv, &hidden);
    int rc = proc_spawn(argv, env, c->cwd, on_exit_cb, s, &s->proc, errmsg);
    free(argv);
    free(env);
    if (hidden.len && rc == 0) {
        /* where one looks when a server says a variable is missing */
        char *line = xasprintf("[mcpdeck] not passed on, as secrets: %s (give one to this "
                               "server with env: {NAME: \"${NAME}\"})\n", hidden.data);
        ring_put(s, line, strlen(line));
        free(line);
    }
    buf_fini(&hidden);
    if (rc < 0)
        return -1;
    s->running = 1;
    s->closed = 0;
    s->exited = 0;
    loop_fd_add(t->loop, s->proc.out_fd, LOOP_READ, on_stdout, s);
    loop_fd_add(t->loop, s->proc.err_fd, LOOP_READ, on_stderr, s);
    return 0;
}

static int stdio_send(struct mcp_transport *t, const char *json, size_t len,
                      const struct jsonrpc_sent *what)
{
    struct stdio_t *s = (struct stdio_t *)t;
    if (s->closed)
        return -1;
    if (s->proc.in_fd < 0)
        return 0;   /* the child stopped reading: it is going away, and
                     * on_closed will fail the call with the reason */
    if (s->deaf)
        return 0;   /* the session is ending (see below) */
    if (s->out.len && s->out.len + len > s->backlog_max) {
        /* A server that reads nothing while this much waits is stuck (a
         * busy one still reads its stdin a pipe at a time): end the session,
         * from a timer as we may be inside a send, rather than queue without
         * bound and let every call wait for its timeout. */
        s->deaf = 1;
        if (!s->eof_timer)
            s->eof_timer = loop_timer_add(s->base.loop, 0, eof_timeout, s);
        return 0;
    }
    int was_empty = s->out.len == 0;
    buf_append(&s->out, json, len);
    buf_putc(&s->out, '\n');
    if (was_empty)
        flush_out(s);
    return 0;
}

static const char *stdio_log(struct mcp_transport *t)
{
    struct stdio_t *s = (struct stdio_t *)t;
    free(s->log_copy);
    s->log_copy = xmalloc(s->ring_len + 1);
    size_t start = (s->ring_pos + STDERR_RING - s->ring_len) % STDERR_RING;
    for (size_t i = 0; i < s->ring_len; i++)
        s->log_copy[i] = s->ring[(start + i) % STDERR_RING];
    s->log_copy[s->ring_len] = '\0';
    return s->log_copy;
}

static void stdio_free(struct mcp_transport *t)
{
    struct stdio_t *s = (struct stdio_t *)t;
    if (!s)
        return;
    s->closed = 1;
    if (s->eof_timer)
        loop_timer_del(t->loop, s->eof_timer);
    if (s->proc.pid > 0 && s->running) {
        struct proc *pp = &s->proc;
        if (s->proc.in_fd >= 0)
            loop_fd_del(t->loop, s->proc.in_fd);
        proc_stop_all(&pp, 1, 500);
        s->proc.in_fd = -1;
    }
    if (s->proc.pid > 0)
        proc_forget(s->proc.pid);
    if (s->proc.in_fd >= 0) {
        loop_fd_del(t->loop, s->proc.in_fd);
        close(s->proc.in_fd);
    }
    if (s->proc.out_fd >= 0) {
        loop_fd_del(t->loop, s->proc.out_fd);
        close(s->proc.out_fd);
    }
    if (s->proc.err_fd >= 0) {
        loop_fd_del(t->loop, s->proc.err_fd);
        close(s->proc.err_fd);
    }
    jsonrpc_lines_fini(&s->lines);
    buf_fini(&s->out);
    free(s->ring);
    free(s->log_copy);
    free(s);
}

static const struct mcp_transport_ops stdio_ops = {
    "stdio", stdio_start, stdio_send, stdio_log, stdio_free, NULL,
};

struct mcp_transport *mcp_stdio_new(struct loop *l, const struct config_server *cfg,
                                    char *const *hide, size_t nhide)
{
    struct stdio_t *s = xcalloc(1, sizeof *s);
    s->base.ops = &stdio_ops;
    s->base.loop = l;
    s->base.max_message = cfg->max_message > 0 ? (size_t)cfg->max_message : 16u << 20;
    s->cfg = cfg;
    s->hide = hide;
    s->nhide = nhide;
    s->proc.pid = -1;
    s->proc.in_fd = s->proc.out_fd = s->proc.err_fd = -1;
    jsonrpc_lines_init(&s->lines, s->base.max_message);
    /* what may wait for the child to read: four of its largest messages,
     * and never less than 1 MiB */
    s->backlog_max = 4 * s->base.max_message > (1u << 20) ? 4 * s->base.max_message : 1u << 20;
    buf_init(&s->out);
    s->ring = xmalloc(STDERR_RING);
    return &s->base;
}

struct proc *mcp_stdio_proc(struct mcp_transport *t)
{
    if (!t || t->ops != &stdio_ops)
        return NULL;
    return &((struct stdio_t *)t)->proc;
}
