/* bench_tui.c — how the TUI copes with a big store, for bench/run.sh.
 *
 *   bench_tui [-n JOBS] [-s SERVERS] [-i IDLE_SECONDS] [-b MCPDECK] [-f BADSERVER]
 *
 * (a) Full redraw: an engine on a fresh data dir with SERVERS (50)
 *     configured servers (never started) and JOBS (100,000) jobs in the
 *     store; curses on /dev/null at 200x60; the four panes drawn as the
 *     TUI draws them (frame, pane, wnoutrefresh, one doupdate) with the
 *     selection at the top, in the middle and at the end of the list, and
 *     with a text filter. Median and p95 of 30 redraws each; target
 *     <= 2 ms.
 * (b) The real binary on a pty (120x40) with 10 badserver servers:
 *     keystroke-to-screen latency (z zooms and unzooms; the time from
 *     writing the key until the pty shows the new title), idle CPU over
 *     IDLE_SECONDS (10) from /proc/PID/stat (target ~0), and the peak RSS
 *     (VmHWM; the servers are other processes; target <= 20 MB).
 * Prints a table and appends rows to $BENCH_SUMMARY when set. Slow
 * figures never fail; exit 1 only when something breaks (the store cannot
 * be filled, the binary does not start or does not answer keys). */
#include "ui.h"
#include "engine.h"

#include <errno.h>
#include <fcntl.h>
#include <locale.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* v sorted in place; the q-quantile (0..1). */
static double quantile(double *v, size_t n, double q)
{
    qsort(v, n, sizeof *v, cmp_double);
    size_t i = (size_t)(q * (double)(n - 1) + 0.5);
    return n ? v[i] : 0;
}

static void row(const char *label, double value, const char *unit, double target, int lower)
{
    char val[32], tgt[48];
    const char *verdict = "";
    snprintf(val, sizeof val, "%.3f", value);
    if (target > 0) {
        snprintf(tgt, sizeof tgt, "%s %g %s", lower ? "<=" : ">=", target, unit);
        verdict = (lower ? value <= target : value >= target) ? "met" : "MISSED";
    } else {
        snprintf(tgt, sizeof tgt, "-");
    }
    printf("%-52s %10s %-4s %s %s\n", label, val, unit, tgt, verdict);
    const char *summary = getenv("BENCH_SUMMARY");
    FILE *f = summary && *summary ? fopen(summary, "a") : NULL;
    if (f) {
        fprintf(f, "tui %s (%s)\t%s\t-\t-\t-\t%s\t%s\n", label, unit, val, tgt, verdict);
        fclose(f);
    }
}

/* === (a) full redraw in-process === */

static void draw_all(struct tui *t)
{
    for (int i = 0; i < PANE_COUNT; i++) {
        struct pane *p = &t->panes[i];
        if (!p->frame)
            continue;
        werase(p->frame);
        draw_frame(p->frame, p->cls->title, t->focus == i, &t->theme);
        werase(p->body);
        wmove(p->body, 0, 0);
        p->cls->draw(t, p);
        wnoutrefresh(p->frame);
        wnoutrefresh(p->body);
    }
    doupdate();
}

/* Median and p95 of rounds full redraws (after two to warm up). */
static void time_redraws(struct tui *t, int rounds, double *median, double *p95)
{
    double *v = xcalloc((size_t)rounds, sizeof *v);
    draw_all(t);
    draw_all(t);
    for (int i = 0; i < rounds; i++) {
        double t0 = now_ms();
        draw_all(t);
        v[i] = now_ms() - t0;
    }
    *median = quantile(v, (size_t)rounds, 0.5);
    *p95 = quantile(v, (size_t)rounds, 0.95);
    free(v);
}

static int bench_redraw(int njobs, int nservers)
{
    char dir[] = "/tmp/mcpdeck-bench-tui.XXXXXX";
    if (!mkdtemp(dir))
        return -1;
    char *cfg = xasprintf("%s/mcpdeck.yaml", dir);
    FILE *f = fopen(cfg, "w");
    if (!f)
        return -1;
    fputs("servers:\n", f);
    for (int i = 0; i < nservers; i++)
        fprintf(f, "  srv%02d: {command: /bin/false}\n", i);
    fclose(f);
    struct engine_opts eo = {cfg, dir, 0, NULL};
    struct engine *e = NULL;
    char *err = NULL;
    if (engine_new(&eo, &e, &err) < 0) {
        fprintf(stderr, "bench_tui: %s\n", err);
        return -1;
    }
    double t0 = now_ms();
    enum { GROUP = 10000 };
    struct jobq_spec *specs = xcalloc(GROUP, sizeof *specs);
    int64_t *ids = xcalloc(GROUP, sizeof *ids);
    static const char *const tools[] = {"list_directory", "read_file", "search_files"};
    for (int done = 0; done < njobs;) {
        int n = njobs - done < GROUP ? njobs - done : GROUP;
        for (int i = 0; i < n; i++) {
            specs[i] = (struct jobq_spec){.server = "fs", .tool = tools[(done + i) % 3],
                                          .args_json = "{\"path\":\".\"}",
                                          .priority = (done + i) % 5};
        }
        if (engine_submit_group(e, specs, (size_t)n, ids, &err) < 0) {
            fprintf(stderr, "bench_tui: submit: %s\n", err);
            return -1;
        }
        done += n;
    }
    free(specs);
    free(ids);
    printf("store: %d jobs, %d servers (filled in %.0f ms)\n", njobs, nservers, now_ms() - t0);

    FILE *out = fopen("/dev/null", "w"), *in = fopen("/dev/null", "r");
    SCREEN *scr = newterm("xterm-256color", out, in);
    if (!scr)
        return -1;
    set_term(scr);
    resizeterm(60, 200);
    struct tui *t = xcalloc(1, sizeof *t);
    t->e = e;
    t->loop = engine_loop(e);
    t->metrics_tab = engine_metrics(e);
    t->utf8 = 1;
    t->last_done = -1;
    const struct pane_class *cls[PANE_COUNT] = {&pane_tasks_class, &pane_results_class,
                                                &pane_registry_class, &pane_metrics_class};
    for (int i = 0; i < PANE_COUNT; i++)
        t->panes[i].cls = cls[i];
    streams_init(&t->streams, STREAM_LIMIT);
    if (theme_setup(&t->theme, NULL, &err) < 0) {
        free(err);
        err = NULL;
    }
    layout_apply(t);
    int rc = 0;
    double med, p95;
    time_redraws(t, 30, &med, &p95);
    if (t->tasks.total != njobs) {
        fprintf(stderr, "bench_tui: the list has %lld rows, not %d\n",
                (long long)t->tasks.total, njobs);
        rc = -1;
    }
    for (int i = 0; i < PANE_COUNT; i++) {
        struct pane *p = &t->panes[i];
        double pv[30];
        for (int k = 0; k < 30; k++) {
            double s0 = now_ms();
            werase(p->body);
            p->cls->draw(t, p);
            pv[k] = now_ms() - s0;
        }
        char pl[64];
        snprintf(pl, sizeof pl, "  draw %s alone (median)", p->cls->title);
        row(pl, quantile(pv, 30, 0.5), "ms", 0, 1);
    }
    char label[96];
    snprintf(label, sizeof label, "full redraw, %dk jobs, %d servers, top (median)",
             njobs / 1000, nservers);
    row(label, med, "ms", 2, 1);
    row("full redraw, top (p95)", p95, "ms", 0, 1);
    tasks_select_row(t, njobs / 2);
    time_redraws(t, 30, &med, &p95);
    row("full redraw, selection mid-list (median)", med, "ms", 2, 1);
    tasks_select_row(t, njobs - 1);
    time_redraws(t, 30, &med, &p95);
    row("full redraw, selection at the end (median)", med, "ms", 2, 1);
    free(t->tasks.text);
    t->tasks.text = xstrdup("read_file");
    t->tasks.sel_known = 0;
    t->tasks.total_known = 0;
    tasks_select_row(t, 0);
    draw_all(t);                           /* counted once, as after a filter change */
    time_redraws(t, 30, &med, &p95);
    row("full redraw, text filter, top (median)", med, "ms", 2, 1);
    tasks_select_row(t, (int)t->tasks.total - 1);
    time_redraws(t, 30, &med, &p95);
    row("full redraw, text filter, end of list (median)", med, "ms", 0, 1);
    tasks_select_row(t, 0);
    /* scrolling: one row down, Tasks redrawn, thirty times */
    double *v = xcalloc(30, sizeof *v);
    for (int i = 0; i < 30; i++) {
        double s0 = now_ms();
        tasks_select_row(t, t->tasks.sel + 1);
        struct pane *p = &t->panes[PANE_TASKS];
        werase(p->body);
        p->cls->draw(t, p);
        wnoutrefresh(p->body);
        doupdate();
        v[i] = now_ms() - s0;
    }
    row("scroll one row in Tasks (median)", quantile(v, 30, 0.5), "ms", 2, 1);
    free(v);

    layout_free(t);
    pane_tasks_fini(t);
    pane_results_fini(t);
    pane_registry_fini(t);
    streams_fini(&t->streams);
    free(t->message);
    free(t->stats);
    free(t);
    endwin();
    delscreen(scr);
    fclose(out);
    fclose(in);
    engine_free(e);
    char *rm = xasprintf("rm -rf '%s'", dir);
    if (system(rm) != 0)
        rc = -1;
    free(rm);
    free(cfg);
    return rc;
}

/* === (b) the real binary on a pty === */

struct child {
    pid_t pid;
    int fd;
    char tail[8192];               /* the last output, for finding a marker */
    size_t len;
};

/* Read what is there (waiting up to ms); returns bytes read, -1 at EOF. */
static int drain(struct child *c, int ms)
{
    struct pollfd p = {c->fd, POLLIN, 0};
    if (poll(&p, 1, ms) <= 0)
        return 0;
    char buf[4096];
    ssize_t n = read(c->fd, buf, sizeof buf);
    if (n <= 0)
        return -1;
    size_t k = (size_t)n;
    {
        if (c->len + k >= sizeof c->tail) {
            size_t drop = c->len + k - (sizeof c->tail - 1);
            memmove(c->tail, c->tail + drop, c->len - drop);
            c->len -= drop;
        }
        memcpy(c->tail + c->len, buf, k);
        c->len += k;
    }
    c->tail[c->len] = 0;
    return (int)n;
}

/* Drain until marker shows up (after the call) or ms pass; ms taken, or -1. */
static double wait_marker(struct child *c, const char *marker, int ms)
{
    c->len = 0;
    c->tail[0] = 0;
    double t0 = now_ms();
    while (now_ms() - t0 < ms) {
        if (drain(c, 20) < 0)
            return -1;
        if (memmem(c->tail, c->len, marker, strlen(marker)))
            return now_ms() - t0;
    }
    return -1;
}

static void drain_for(struct child *c, int ms)
{
    double t0 = now_ms();
    while (now_ms() - t0 < ms)
        if (drain(c, 50) < 0)
            return;
}

static long long cpu_ticks(pid_t pid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    const char *p = strrchr(buf, ')');      /* after the command name */
    if (!p)
        return -1;
    unsigned long long ut = 0, st = 0;
    /* fields 3.. after ")": state ppid pgrp session tty tpgid flags minflt
     * cminflt majflt cmajflt utime stime */
    if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
        return -1;
    return (long long)(ut + st);
}

static long vm_hwm_kb(pid_t pid)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    long kb = -1;
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "VmHWM: %ld kB", &kb) == 1)
            break;
    if (f)
        fclose(f);
    return kb;
}

static int bench_binary(const char *bin, const char *bad, int idle_s)
{
    char dir[] = "/tmp/mcpdeck-bench-tui.XXXXXX";
    if (!mkdtemp(dir))
        return -1;
    char *cfg = xasprintf("%s/mcpdeck.yaml", dir);
    FILE *f = fopen(cfg, "w");
    if (!f)
        return -1;
    int nsrv = bad && access(bad, X_OK) == 0 ? 10 : 0;
    fputs(nsrv ? "servers:\n" : "servers: {}\n", f);
    for (int i = 0; i < nsrv; i++)
        fprintf(f, "  bad%02d: {command: \"%s\", args: [good]}\n", i, bad);
    fclose(f);
    if (!nsrv)
        printf("(no badserver fixture: the binary runs with the built-in server only)\n");
    struct winsize ws = {.ws_row = 40, .ws_col = 120};
    struct child c = {0};
    c.pid = forkpty(&c.fd, NULL, NULL, &ws);
    if (c.pid < 0)
        return -1;
    if (c.pid == 0) {
        if (chdir(dir) != 0)
            _exit(127);
        setenv("XDG_DATA_HOME", dir, 1);
        setenv("XDG_CONFIG_HOME", dir, 1);
        setenv("TERM", "xterm-256color", 1);
        setenv("LC_ALL", "C.UTF-8", 1);
        unsetenv("NO_COLOR");
        int null = open("/dev/null", O_WRONLY);
        if (null >= 0)
            dup2(null, 2);
        execl(bin, bin, "-c", cfg, (char *)NULL);
        _exit(127);
    }
    int rc = 0;
    if (wait_marker(&c, "Metrics", 10000) < 0) {
        fprintf(stderr, "bench_tui: %s did not draw its panes\n", bin);
        rc = -1;
        goto done;
    }
    drain_for(&c, 3000);                   /* servers start, first checks */
    /* keystroke to screen: z zooms ("(zoom)" in the title), z unzooms */
    enum { ROUNDS = 40 };
    double lat[ROUNDS];
    int got = 0;
    for (int i = 0; i < ROUNDS; i++) {
        const char *marker = i % 2 ? "2 Results" : "(zoom)";
        drain_for(&c, 30);
        double t0 = now_ms();
        if (write(c.fd, "z", 1) != 1)
            break;
        c.len = 0;
        double ms = -1;
        while (now_ms() - t0 < 2000) {
            if (drain(&c, 20) < 0)
                break;
            if (memmem(c.tail, c.len, marker, strlen(marker))) {
                ms = now_ms() - t0;
                break;
            }
        }
        if (ms < 0) {
            fprintf(stderr, "bench_tui: no answer to key %d\n", i);
            rc = -1;
            break;
        }
        lat[got++] = ms;
    }
    if (got) {
        row("keystroke to screen on a pty (median)", quantile(lat, (size_t)got, 0.5), "ms", 0, 1);
        row("keystroke to screen on a pty (p95)", quantile(lat, (size_t)got, 0.95), "ms", 0, 1);
    }
    /* idle: nothing typed; the 1 s tick redraws some panes */
    drain_for(&c, 500);
    long long t0 = cpu_ticks(c.pid);
    double w0 = now_ms();
    drain_for(&c, idle_s * 1000);
    long long t1 = cpu_ticks(c.pid);
    double secs = (now_ms() - w0) / 1000.0;
    if (t0 >= 0 && t1 >= 0) {
        double pct = 100.0 * (double)(t1 - t0) / ((double)sysconf(_SC_CLK_TCK) * secs);
        char label[64];
        snprintf(label, sizeof label, "idle CPU over %d s", idle_s);
        row(label, pct, "%", 1, 1);
    }
    long kb = vm_hwm_kb(c.pid);
    if (kb > 0) {
        char label[64];
        snprintf(label, sizeof label, "peak RSS, %d servers connected", nsrv);
        row(label, (double)kb / 1024.0, "MB", 20, 1);
    }
done:
    if (write(c.fd, "q", 1) != 1)
        kill(c.pid, SIGTERM);
    for (int i = 0; i < 100; i++) {
        if (waitpid(c.pid, NULL, WNOHANG) == c.pid)
            goto reaped;
        drain(&c, 50);
    }
    kill(c.pid, SIGKILL);
    waitpid(c.pid, NULL, 0);
reaped:
    close(c.fd);
    char *rm = xasprintf("rm -rf '%s'", dir);
    if (system(rm) != 0)
        rc = -1;
    free(rm);
    free(cfg);
    return rc;
}

int main(int argc, char **argv)
{
    int njobs = 100000, nservers = 50, idle = 10, opt;
    const char *bin = "build/mcpdeck", *bad = "build/fixtures/badserver";
    while ((opt = getopt(argc, argv, "n:s:i:b:f:")) != -1) {
        switch (opt) {
        case 'n': njobs = atoi(optarg); break;
        case 's': nservers = atoi(optarg); break;
        case 'i': idle = atoi(optarg); break;
        case 'b': bin = optarg; break;
        case 'f': bad = optarg; break;
        default:
            fprintf(stderr, "usage: bench_tui [-n JOBS] [-s SERVERS] [-i IDLE_SECONDS] "
                            "[-b MCPDECK] [-f BADSERVER]\n");
            return 2;
        }
    }
    if (njobs < 1 || nservers < 0 || idle < 1)
        return 2;
    setlocale(LC_ALL, "C.UTF-8");
    signal(SIGPIPE, SIG_IGN);
    /* the binary runs in a temporary directory: absolute paths */
    char *abs_bin = realpath(bin, NULL), *abs_bad = realpath(bad, NULL);
    if (!abs_bin) {
        fprintf(stderr, "bench_tui: %s: %s\n", bin, strerror(errno));
        return 1;
    }
    int rc = 0;
    if (bench_redraw(njobs, nservers) < 0) {
        fprintf(stderr, "bench_tui: the redraw benchmark broke\n");
        rc = 1;
    }
    if (bench_binary(abs_bin, abs_bad, idle) < 0) {
        fprintf(stderr, "bench_tui: the pty benchmark broke\n");
        rc = 1;
    }
    free(abs_bin);
    free(abs_bad);
    return rc;
}
