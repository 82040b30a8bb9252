/* tui.c — the terminal front end: curses set-up and tear-down, and the glue
 * between the engine's loop and the screen.
 *
 * Model tasks: their streamed answers are kept per running job (stream.c)
 * and shown in Results at most every STREAM_REFRESH_MS; questions about
 * destructive tool calls (the engine's approval handler) queue in a modal
 * box (approve.c) answered with y or n/Esc while everything else runs on.
 *
 * Keys go, in order, to: a question on screen, the form, the prompt (":"
 * commands, "/" the filter, the save path; drawn in the status bar), the
 * mouse (a click focuses a pane and selects a row), an overlay (help,
 * details, tools, log), the key table of cmd.c, then the focused pane.
 * $PAGER and $EDITOR run with the terminal handed over (tui_run_external).
 *
 * Every key passes paste.c first: a bracketed paste is text for the
 * focused field, never keys. Bracketed paste mode is on while the TUI has
 * the terminal (off on exit and while a child runs).
 *
 * Nothing here blocks the loop, except that child while it runs. The
 * terminal is an fd watcher (keys are read with wget_wch in no-delay mode
 * until ERR); SIGWINCH, SIGINT, SIGTERM and SIGHUP arrive through
 * loop_signal; a 1 s timer refreshes elapsed times and samples the
 * Metrics sparklines. Engine events and keys only mark panes dirty; a
 * before-sleep hook draws the dirty panes with wnoutrefresh and calls
 * doupdate() once per loop turn.
 *
 * The rest of the TUI's glue is in its own files (tui_int.h declares what
 * they share): tui_modal.c the approval and elicitation handlers,
 * tui_form.c the new-task form's hooks, templates, recall and submitting,
 * tui_mouse.c clicks, tui_draw.c the before-sleep hook and the status
 * bar. Here: the state changes, the memory overlay, the prompt, a child
 * on the terminal, the keys, signals and the tick, start and end. */
#include "tui.h"
#include "tui_int.h"
#include "config.h"
#include "engine.h"
#include "loop.h"
#include "metrics.h"

#include <errno.h>
#include <langinfo.h>
#include <locale.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

/* --theme and --ascii (tui_set_options). */
static const char *opt_theme;
static int opt_ascii;

void tui_set_options(const char *theme, int ascii)
{
    if (theme)
        opt_theme = theme;
    if (ascii >= 0)
        opt_ascii = ascii;
}

enum { STREAM_REFRESH_MS = 40 };

static const struct pane_class *const pane_classes[PANE_COUNT] = {
    [PANE_TASKS] = &pane_tasks_class,
    [PANE_RESULTS] = &pane_results_class,
    [PANE_REGISTRY] = &pane_registry_class,
    [PANE_METRICS] = &pane_metrics_class,
};

/* === state changes (they only mark things dirty) === */

void tui_dirty(struct tui *t, enum pane_id id)
{
    if ((unsigned)id < PANE_COUNT)
        t->panes[id].dirty = 1;
}

void tui_dirty_all(struct tui *t)
{
    for (int i = 0; i < PANE_COUNT; i++)
        t->panes[i].dirty = 1;
    t->status_dirty = 1;
    t->form_dirty = 1;
    t->approvals_dirty = 1;
    t->overlay_dirty = 1;
}

static void dirty_all(struct tui *t)
{
    tui_dirty_all(t);
}

void tui_message(struct tui *t, int is_error, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    free(t->message);
    t->message = xvasprintf(fmt, ap);
    va_end(ap);
    t->message_error = is_error;
    t->status_dirty = 1;
}

void tui_focus(struct tui *t, int id)
{
    if (id < 0 || id >= PANE_COUNT || id == t->focus)
        return;
    tui_dirty(t, t->focus);
    t->focus = id;
    tui_dirty(t, t->focus);
    t->status_dirty = 1;               /* the pane's own key hints */
    if (t->zoom) {
        layout_apply(t);               /* the zoomed pane follows the focus */
        clearok(curscr, TRUE);
    }
}

const struct engine_stats *tui_stats(struct tui *t)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    double now = ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
    if (!t->stats)
        t->stats = xcalloc(1, sizeof *t->stats);
    if (!t->stats_ms || now - t->stats_ms >= STATS_MS) {
        engine_stats(t->e, t->stats);
        t->have_mem = engine_memory_counts(t->e, &t->mem_entries, &t->outbox) == 0;
        t->have_usage = engine_usage_today(t->e, &t->tokens_today, &t->cost_today) == 0;
        t->stats_ms = now;
    }
    return t->stats;
}

void tui_jobs_changed(struct tui *t)
{
    t->tasks.sel_known = 0;            /* rows may have moved under the selection */
    t->tasks.total_known = 0;
    tui_dirty(t, PANE_TASKS);
}

void tui_zoom(struct tui *t)
{
    t->zoom = !t->zoom;
    layout_apply(t);
    clearok(curscr, TRUE);
}

int tui_set_theme(struct tui *t, const char *name)
{
    char *err = NULL;
    struct theme th;
    if (theme_setup(&th, name, &err) < 0) {
        tui_message(t, 1, "%s", err);
        free(err);
        err = NULL;
        theme_setup(&t->theme, t->theme_name, &err);   /* the colour pairs back */
        free(err);
        return -1;
    }
    t->theme = th;
    free(t->theme_name);
    t->theme_name = xstrdup(name);
    tui_dirty_all(t);
    if (theme_no_color() && strcmp(name, "mono") != 0)
        tui_message(t, 0, "NO_COLOR is set: theme %s without colours", name);
    else
        tui_message(t, 0, "theme %s", name);
    return 0;
}

void tui_select_job(struct tui *t, int64_t id)
{
    if (id == t->sel_job)
        return;
    t->tasks.sel_known = 0;
    t->sel_job = id;
    t->results.stale = 1;
    t->results.top = 0;
    tui_dirty(t, PANE_TASKS);
    tui_dirty(t, PANE_RESULTS);
}

static void on_stream_tick(struct loop *l, uint64_t id, void *payload)
{
    struct tui *t = payload;
    t->stream_timer = 0;
    t->results.stale = 1;
    tui_dirty(t, PANE_RESULTS);
}

/* More of job's answer arrived (or it restarts): refresh Results soon
 * when it shows that job; pieces arriving meanwhile share the redraw. */
static void stream_changed(struct tui *t, int64_t job)
{
    if (job != t->sel_job)
        return;
    if (!t->results.live)
        t->results.follow = 1;         /* it starts: follow it, even if it ends at once */
    if (t->stream_timer)
        return;
    t->stream_timer = loop_timer_add(t->loop, STREAM_REFRESH_MS, on_stream_tick, t);
}

/* The job stopped running: its streamed text and open questions go. */
static void job_stopped(struct tui *t, int64_t job)
{
    streams_drop(&t->streams, job);
    if (approvals_drop_job(&t->approvals, job)) {
        if (t->approvals.n)
            t->approvals_dirty = 1;
        else
            dirty_all(t);              /* repaint what was under the box */
    }
}

static void on_event(void *payload, const struct engine_event *ev)
{
    struct tui *t = payload;
    switch (ev->kind) {
    case ENGINE_EV_JOB_QUEUED:
    case ENGINE_EV_JOB_STARTED:
    case ENGINE_EV_JOB_DONE:
    case ENGINE_EV_JOB_RETRY:
        tui_jobs_changed(t);
        tui_dirty(t, PANE_METRICS);
        tui_dirty(t, PANE_REGISTRY);          /* calls/errors per server */
        if (ev->kind != ENGINE_EV_JOB_QUEUED)
            job_stopped(t, ev->job_id);       /* a start begins a fresh answer */
        if (ev->job_id == t->sel_job) {
            t->results.stale = 1;
            tui_dirty(t, PANE_RESULTS);
        }
        if (ev->kind == ENGINE_EV_JOB_DONE && ev->status == JOB_FAILED)
            tui_message(t, 1, "job %lld failed: %s", (long long)ev->job_id,
                        ev->text ? ev->text : "(no message)");
        break;
    case ENGINE_EV_JOB_PROGRESS:
        tui_dirty(t, PANE_TASKS);
        break;
    case ENGINE_EV_JOB_TOKENS:
        streams_add(&t->streams, ev->job_id, ev->text);
        stream_changed(t, ev->job_id);
        break;
    case ENGINE_EV_SERVER_STATE:
    case ENGINE_EV_SERVER_HEALTH:
        tui_dirty(t, PANE_REGISTRY);
        tui_dirty(t, PANE_METRICS);
        break;
    case ENGINE_EV_LOG:
        if (ev->text)
            tui_message(t, 0, "%s", ev->text);
        break;
    }
}

/* === the memory overlay === */

int tui_cmd_memory(struct tui *t, const char *arg)
{
    if (t->too_small)
        return 0;
    if (!t->memview) {
        t->memview = memview_new(t->e);
        memview_layout(t->memview, t->rows, t->cols);
    }
    if (arg) {                         /* `memory TEXT` searches at once */
        buf_consume(&t->memview->query.text, t->memview->query.text.len);
        buf_puts(&t->memview->query.text, arg);
        memview_search(t->memview);
        t->memview->focus = MEMVIEW_LIST;
    }
    t->memview->dirty = 1;
    return 0;
}

static void memview_close(struct tui *t)
{
    memview_free(t->memview);
    t->memview = NULL;
    dirty_all(t);                      /* repaint what was under it */
}

/* === keys === */

static void relayout(struct tui *t)
{
    layout_apply(t);
    clearok(curscr, TRUE);
}

/* === the prompt === */

void tui_prompt_open(struct tui *t, enum prompt_kind kind, const char *text)
{
    if (t->too_small)
        return;
    if (!t->prompt)
        t->prompt = xcalloc(1, sizeof *t->prompt);
    struct prompt *p = t->prompt;
    p->kind = kind;
    buf_consume(&p->text, p->text.len);
    if (text)
        buf_puts(&p->text, text);
    free(p->hint);
    p->hint = NULL;
    t->status_dirty = 1;
}

static void prompt_close(struct tui *t)
{
    if (!t->prompt)
        return;
    buf_fini(&t->prompt->text);
    free(t->prompt->hint);
    free(t->prompt);
    t->prompt = NULL;
    t->status_dirty = 1;
}

static void prompt_handle(struct tui *t, int key)
{
    struct prompt *p = t->prompt;
    enum prompt_action a = prompt_key(p, key);
    t->status_dirty = 1;
    if (a == PROMPT_CANCEL) {
        prompt_close(t);
        return;
    }
    char *text = xstrdup(p->text.data ? p->text.data : "");
    enum prompt_kind kind = p->kind;
    if (a == PROMPT_COMPLETE) {
        if (kind == PROMPT_COMMAND) {
            char *out = NULL, *hint = NULL;
            size_t hits = cmd_complete(t, text, &out, &hint);
            buf_consume(&p->text, p->text.len);
            buf_puts(&p->text, out);
            free(p->hint);
            p->hint = hits ? hint : xstrdup("(no completion)");
            if (hits && !hint)
                free(hint);
            free(out);
        }
        free(text);
        return;
    }
    if (a == PROMPT_DONE) {
        prompt_close(t);               /* first: the command may open another */
        if (kind == PROMPT_COMMAND)
            cmd_run(t, text);
        else if (kind == PROMPT_FILTER)
            tasks_cmd_filter(t, text);
        else if (kind == PROMPT_APPLY)
            results_cmd_apply(t, strcmp(text, "y") == 0 || strcmp(text, "yes") == 0 ? "yes"
                                                                                      : "no");
        else if (*text)
            results_cmd_save(t, text);
    } else if (kind == PROMPT_FILTER) {
        tasks_cmd_filter(t, text);     /* the list follows the typing */
    }
    free(text);
}

/* === a child on the terminal ($PAGER, $EDITOR) === */

int tui_run_external(struct tui *t, const char *prog, const char *path)
{
    def_prog_mode();
    endwin();
    paste_mode(0);                /* the child's own business */
    char *cmd = xasprintf("%s \"$1\"", prog);
    pid_t pid = fork();
    if (pid == 0) {
        /* its own process group in the foreground: Ctrl-C reaches it, not us */
        setpgid(0, 0);
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        static const int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGWINCH, SIGCHLD, SIGPIPE,
                                   SIGQUIT, SIGTSTP, SIGTTOU, SIGTTIN};
        for (size_t i = 0; i < ARRAY_LEN(sigs); i++)
            signal(sigs[i], SIG_DFL);
        execl("/bin/sh", "sh", "-c", cmd, "sh", path, (char *)NULL);
        _exit(127);
    }
    int rc = -1, status = 0;
    if (pid > 0) {
        setpgid(pid, pid);
        void (*old)(int) = signal(SIGTTOU, SIG_IGN);
        tcsetpgrp(STDIN_FILENO, pid);
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
            ;
        tcsetpgrp(STDIN_FILENO, getpgrp());
        signal(SIGTTOU, old);
        rc = WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
    }
    free(cmd);
    reset_prog_mode();
    paste_mode(1);
    refresh();
    /* the size may have changed meanwhile */
    struct winsize ws;
    if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0 && ws.ws_col > 0)
        resizeterm(ws.ws_row, ws.ws_col);
    layout_apply(t);
    clearok(curscr, TRUE);
    if (pid < 0)
        tui_message(t, 1, "cannot start %s: %s", prog, strerror(errno));
    else if (rc < 0)
        tui_message(t, 1, "%s exited with status %d", prog,
                    WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
    return rc;
}

/* === keys to their owners (clicks: tui_mouse.c) === */

static void handle_key(struct tui *t, int key)
{
    if (key == UK_RESIZE) {
        if (LINES != t->rows || COLS != t->cols)
            relayout(t);
        return;
    }
    if (key == ui_ctrl('l')) {
        clearok(curscr, TRUE);
        t->full = 1;
        dirty_all(t);
        return;
    }
    if (tui_approval_key(t, key))
        return;
    if (tui_elicit_handle_key(t, key))
        return;
    if (t->form) {
        enum form_action a = form_key(t->form, key);
        if (a == FORM_CANCEL)
            tui_form_close(t);
        else if (a == FORM_SUBMIT)
            tui_form_submit(t);
        else if (a == FORM_KIND)
            tui_form_kind_changed(t);
        else if (a == FORM_RECALL)
            tui_form_recall(t, key);
        else if (a == FORM_TEMPLATE)
            tui_form_template(t);
        t->form_dirty = 1;
        return;
    }
    if (t->prompt) {
        prompt_handle(t, key);
        return;
    }
    if (key == -KEY_MOUSE) {
        tui_mouse_event(t);
        return;
    }
    if (t->memview) {
        if (memview_key(t->memview, key))
            memview_close(t);
        return;
    }
    if (t->overlay) {
        overlay_key(t, key);
        return;
    }
    if (key == 'q') {                  /* quits even when the screen is too small */
        loop_stop(t->loop);
        return;
    }
    if (t->too_small)
        return;
    const char *cmd = cmd_for_key(key, t->focus);
    if (cmd) {
        cmd_run(t, cmd);
        return;
    }
    struct pane *p = &t->panes[t->focus];
    if (p->cls->key && p->cls->key(t, p, key))
        p->dirty = 1;
}

static void read_keys(struct tui *t)
{
    wint_t wc;
    int rc;
    while (!loop_stopped(t->loop) && (rc = wget_wch(stdscr, &wc)) != ERR) {
        int key = rc == KEY_CODE_YES ? -(int)wc : (int)wc;
        if (!paste_key(t, key, util_now_ms()))
            handle_key(t, key);
    }
}

static void on_stdin(struct loop *l, int fd, int mask, void *payload)
{
    struct tui *t = payload;
    read_keys(t);
    if (mask & LOOP_HUP) {             /* the terminal is gone */
        t->exit_code = 129;
        loop_stop(l);
    }
}

/* === signals and the tick === */

static void on_winch(struct loop *l, int signo, void *payload)
{
    struct tui *t = payload;
    struct winsize ws;
    if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0 && ws.ws_col > 0) {
        resizeterm(ws.ws_row, ws.ws_col);
    } else {
        endwin();
        refresh();
    }
    relayout(t);
    read_keys(t);                      /* the KEY_RESIZE curses queued, if any */
}

static void on_quit_signal(struct loop *l, int signo, void *payload)
{
    struct tui *t = payload;
    if (signo == SIGINT && t->elicits.n && t->elicits.win) {
        tui_elicit_handle_key(t, ui_ctrl('c'));   /* Ctrl-C cancels the form on screen */
        return;
    }
    t->exit_code = signo == SIGINT ? 0 : 128 + signo;
    loop_stop(l);
}

/* One sample a tick for the sparklines: jobs finished since the last
 * tick, the largest tool-call p95 (seconds) and the queue depth. */
static void lat_max(void *payload, const struct metric_series_view *s)
{
    double *m = payload;
    if (s->count && s->p95 == s->p95 && s->p95 > *m)
        *m = s->p95;
}

static void sample_metrics(struct tui *t)
{
    t->stats_ms = 0;                   /* count now */
    struct engine_stats st = *tui_stats(t);
    int64_t done = (int64_t)st.jobs.n[JOB_SUCCEEDED] + st.jobs.n[JOB_FAILED] +
                   st.jobs.n[JOB_CANCELLED] + st.jobs.n[JOB_SKIPPED];
    spark_push(&t->thru, t->last_done < 0 || done < t->last_done ? 0
                                                                 : (double)(done - t->last_done));
    t->last_done = done;
    double p95 = 0;
    /* engine_metrics refreshes the gauges (another count): once a tick */
    metrics_foreach_family(engine_metrics(t->e), MET_TOOL_CALL_SECONDS, lat_max, &p95);
    spark_push(&t->lat95, p95);
    spark_push(&t->depth, st.jobs.n[JOB_QUEUED]);
}

static void on_tick(struct loop *l, uint64_t id, void *payload)
{
    struct tui *t = payload;
    t->tick = loop_timer_add(l, 1000, on_tick, t);
    sample_metrics(t);
    tui_dirty(t, PANE_TASKS);
    tui_dirty(t, PANE_METRICS);
    tui_dirty(t, PANE_REGISTRY);       /* breaker countdowns, check ages */
}

/* === start and end === */

static int terminal_setup(void)
{
    cbreak();
    noecho();
    nonl();
    keypad(stdscr, TRUE);
    nodelay(stdscr, TRUE);
    set_escdelay(25);
    curs_set(0);
    /* Ctrl-S submits the form: take it from XON/XOFF flow control */
    struct termios tio;
    if (tcgetattr(STDIN_FILENO, &tio) == 0) {
        tio.c_iflag &= ~(tcflag_t)IXON;
        tcsetattr(STDIN_FILENO, TCSANOW, &tio);
    }
    /* clicks focus panes and select rows where the terminal reports them */
    int mouse = mousemask(BUTTON1_CLICKED | BUTTON1_PRESSED | BUTTON1_DOUBLE_CLICKED, NULL) != 0;
    mouseinterval(200);
    paste_define_keys();               /* the brackets of a paste as keys */
    paste_mode(1);
    def_prog_mode();
    return mouse;
}

static const int quit_signals[] = {SIGINT, SIGTERM, SIGHUP};

int tui_run(struct engine *e)
{
    if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
        fprintf(stderr, "mcpdeck: the terminal UI needs a terminal on stdin and stdout; "
                        "use --batch FILE or a subcommand (see --help)\n");
        return 2;
    }
    setlocale(LC_ALL, "");
    setlocale(LC_NUMERIC, "C");        /* the engine prints and parses numbers */
    /* keys: of the config; a binding to an unknown command stops here */
    const struct config *cfg = engine_config(e);
    for (size_t i = 0; cfg && i < cfg->nui_keys; i++) {
        char *err = NULL;
        if (cmd_bind(cfg->ui_keys[i].key, cfg->ui_keys[i].command, &err) < 0) {
            fprintf(stderr, "mcpdeck: %s:%d:%d: %s\n", cfg->source, cfg->ui_keys[i].line,
                    cfg->ui_keys[i].col, err);
            free(err);
            cmd_unbind_all();
            return 2;
        }
    }
    SCREEN *scr = newterm(NULL, stdout, stdin);
    if (!scr) {
        const char *term = getenv("TERM");
        fprintf(stderr, "mcpdeck: cannot start the terminal UI for TERM=%s; "
                        "set TERM to your terminal's type (e.g. xterm-256color)\n",
                term && *term ? term : "(unset)");
        cmd_unbind_all();
        return 2;
    }
    set_term(scr);
    char *cup = tigetstr("cup");
    if (!cup || cup == (char *)-1) {    /* e.g. TERM=dumb: no cursor addressing */
        endwin();
        delscreen(scr);
        fprintf(stderr, "mcpdeck: TERM=%s cannot move the cursor, so the terminal UI "
                        "cannot run; use --batch FILE or a subcommand\n",
                getenv("TERM") ? getenv("TERM") : "(unset)");
        cmd_unbind_all();
        return 2;
    }
    int mouse = terminal_setup();

    struct tui *t = xcalloc(1, sizeof *t);
    t->mouse = mouse;
    t->last_done = -1;
    t->e = e;
    t->loop = engine_loop(e);
    t->metrics_tab = engine_metrics(e);
    t->utf8 = strcmp(nl_langinfo(CODESET), "UTF-8") == 0 && !opt_ascii;
    t->ascii = !t->utf8;
    draw_set_ascii(t->ascii);
    t->theme_name = opt_theme ? xstrdup(opt_theme)
                    : cfg && cfg->ui_theme ? xstrdup(cfg->ui_theme) : NULL;
    t->focus = PANE_TASKS;
    streams_init(&t->streams, STREAM_LIMIT);
    for (int i = 0; i < PANE_COUNT; i++)
        t->panes[i].cls = pane_classes[i];
    char *err = NULL;
    if (theme_setup(&t->theme, t->theme_name, &err) < 0) {
        tui_message(t, 1, "%s", err);
        free(err);
    }
    layout_apply(t);

    engine_subscribe(e, on_event, t);
    engine_set_approval_handler(e, tui_on_approval, t);
    engine_set_elicit_handler(e, tui_on_elicit, t);
    loop_fd_add(t->loop, STDIN_FILENO, LOOP_READ, on_stdin, t);
    loop_hook_add(t->loop, tui_redraw, t);
    t->tick = loop_timer_add(t->loop, 1000, on_tick, t);
    loop_signal(t->loop, SIGWINCH, on_winch, t);
    for (size_t i = 0; i < ARRAY_LEN(quit_signals); i++)
        loop_signal(t->loop, quit_signals[i], on_quit_signal, t);

    read_keys(t);                      /* anything typed before we watched */
    loop_run(t->loop);

    for (size_t i = 0; i < ARRAY_LEN(quit_signals); i++)
        loop_signal(t->loop, quit_signals[i], NULL, NULL);
    loop_signal(t->loop, SIGWINCH, NULL, NULL);
    loop_timer_del(t->loop, t->tick);
    loop_hook_del(t->loop, tui_redraw, t);
    loop_fd_del(t->loop, STDIN_FILENO);
    engine_unsubscribe(e, on_event, t);
    engine_set_approval_handler(e, NULL, NULL);
    engine_set_elicit_handler(e, NULL, NULL);
    if (t->stream_timer)
        loop_timer_del(t->loop, t->stream_timer);
    /* nobody is left to ask: what was waiting is refused */
    struct approval_item it;
    while (approvals_pop(&t->approvals, &it)) {
        free(it.what);
        engine_approval_answer(e, it.q, 0);
    }
    for (size_t i = 0; i < t->elicits.n; i++) {
        engine_elicit_answer(e, elicit_form_req(t->elicits.v[i]), "decline", NULL);
        elicit_form_free(t->elicits.v[i]);
    }
    free(t->elicits.v);
    if (t->elicits.win)
        delwin(t->elicits.win);

    int rc = t->exit_code;
    form_free(t->form);
    tui_form_hist_fini(t);
    prompt_close(t);
    overlay_close(t);
    memview_free(t->memview);
    free(t->theme_name);
    free(t->stats);
    layout_free(t);
    pane_tasks_fini(t);
    pane_results_fini(t);
    pane_registry_fini(t);
    streams_fini(&t->streams);
    approvals_fini(&t->approvals);
    free(t->message);
    paste_fini(t);
    free(t);
    endwin();
    paste_mode(0);
    delscreen(scr);
    cmd_unbind_all();
    return rc;
}
