/* tui.c — the terminal front end: curses set-up and tear-down, and the glue
 * between the engine's loop and the screen.
 *
 * Model tasks: their streamed answers are kept per running job (stream.c)
 * and shown in Results at most every STREAM_REFRESH_MS; questions about
 * destructive tool calls (the engine's approval handler) queue in a modal
 * box (approve.c) answered with y or n/Esc while everything else runs on.
 *
 * Nothing here blocks the loop. The terminal is an fd watcher (keys are
 * read with wget_wch in no-delay mode until ERR); SIGWINCH, SIGINT, SIGTERM
 * and SIGHUP arrive through loop_signal; a 1 s timer refreshes elapsed
 * times. Engine events and keys only mark panes dirty; a before-sleep hook
 * draws the dirty panes with wnoutrefresh and calls doupdate() once per
 * loop turn. */
#include "tui.h"
#include "ui.h"
#include "engine.h"
#include "loop.h"

#include <cjson/cJSON.h>
#include <langinfo.h>
#include <locale.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

/* The status bar: global keys around the focused pane's own
 * (pane_class.hints); when a message would not fit, the short form. */
static const char hints_start[] = " n new  Tab focus  ";
static const char hints_default[] = "Enter select  c cancel";
static const char hints_end[] = "  q quit";
static const char hints_short[] = " n new  Tab focus  q quit";

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

static void dirty_all(struct tui *t)
{
    for (int i = 0; i < PANE_COUNT; i++)
        t->panes[i].dirty = 1;
    t->status_dirty = 1;
    t->form_dirty = 1;
    t->approvals_dirty = 1;
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
}

void tui_select_job(struct tui *t, int64_t id)
{
    if (id == t->sel_job)
        return;
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
        tui_dirty(t, PANE_TASKS);
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

/* === approvals === */

static void on_approval(void *payload, struct engine_approval *q, int64_t job,
                        const char *server, const char *tool, const struct cJSON *args)
{
    struct tui *t = payload;
    approvals_push(&t->approvals, q, job, approve_describe(server, tool, args));
    if (t->approvals.n == 1) {
        approvals_layout(&t->approvals, t->rows, t->cols);
        curs_set(0);
    }
    t->approvals_dirty = 1;
    tui_message(t, 0, "job %lld asks to call %s.%s: y allows, n refuses", (long long)job,
                server ? server : "?", tool ? tool : "?");
}

/* Answer the question on screen. */
static void approval_answer(struct tui *t, int allow)
{
    struct approval_item it;
    if (!approvals_pop(&t->approvals, &it))
        return;
    /* tell the user first: answering may end the job (and its events) */
    char *what = it.what;
    char *sp = strchr(what, ' ');
    if (sp)
        *sp = 0;                       /* "server.tool" */
    tui_message(t, 0, "%s %s for job %lld", allow ? "allowed" : "refused", what,
                (long long)it.job);
    free(it.what);
    if (t->approvals.n) {
        t->approvals_dirty = 1;
    } else {
        dirty_all(t);                  /* repaint what was under the box */
        if (t->form)
            curs_set(1);
    }
    engine_approval_answer(t->e, it.q, allow);
}

/* While a question is on screen, y and n/Esc answer it; other keys wait.
 * Returns 1 if the key went to the question. */
static int approval_key(struct tui *t, int key)
{
    if (!t->approvals.n || !t->approvals.win || t->too_small)
        return 0;
    if (key == 'y' || key == 'Y')
        approval_answer(t, 1);
    else if (key == 'n' || key == 'N' || key == 27)
        approval_answer(t, 0);
    return 1;
}

/* === the form === */

static void form_open(struct tui *t)
{
    if (t->form || t->too_small)
        return;
    t->form = form_new();
    form_layout(t->form, t->rows, t->cols);
    t->form_dirty = 1;
    curs_set(1);
}

static void form_close(struct tui *t)
{
    form_free(t->form);
    t->form = NULL;
    curs_set(0);
    dirty_all(t);                      /* repaint what was under it */
}

/* The form's model task: type, prompt, optional model. */
static int submit_model(struct tui *t, const char *type, int64_t *id, char **err)
{
    const char *missing = engine_llm_missing(t->e);
    if (missing) {
        *err = xstrdup(missing);
        return -1;
    }
    char *prompt = form_text(t->form, FORM_PROMPT), *model = form_text(t->form, FORM_MODEL);
    int rc = -1;
    const char *m = model;
    while (*m == ' ')
        m++;
    size_t mn = strlen(m);
    while (mn && m[mn - 1] == ' ')
        mn--;
    if (!*prompt) {
        *err = xasprintf("a '%s' task needs a prompt", type);
    } else {
        cJSON *a = cJSON_CreateObject();
        cJSON_AddStringToObject(a, "prompt", prompt);
        if (mn) {
            char *mm = xstrndup(m, mn);
            cJSON_AddStringToObject(a, "model", mm);
            free(mm);
        }
        char *args = cJSON_PrintUnformatted(a);
        cJSON_Delete(a);
        struct jobq_spec spec = {.tool = type, .args_json = args, .kind = "model"};
        rc = engine_submit(t->e, &spec, id, err);
        cJSON_free(args);
    }
    free(prompt);
    free(model);
    return rc;
}

static void form_submit(struct tui *t)
{
    const char *type = form_task_type(t->form);
    int64_t id = 0;
    char *err = NULL;
    if (type) {
        if (submit_model(t, type, &id, &err) < 0) {
            form_set_error(t->form, err ? err : xstrdup("the task was not accepted"));
            return;
        }
        form_close(t);
        tui_select_job(t, id);
        tui_focus(t, PANE_RESULTS);    /* the answer streams there */
        tui_message(t, 0, "queued job %lld: %s (model task)", (long long)id, type);
        return;
    }
    char *target = form_text(t->form, FORM_TOOL), *args = form_text(t->form, FORM_ARGS);
    /* surrounding blanks in the tool name are a typing accident */
    char *s = target;
    while (*s == ' ')
        s++;
    size_t n = strlen(s);
    while (n && s[n - 1] == ' ')
        s[--n] = 0;
    if (engine_submit_text(t->e, s, args, &id, &err) < 0) {
        form_set_error(t->form, err ? err : xstrdup("the task was not accepted"));
    } else {
        form_close(t);
        tui_select_job(t, id);
        tui_message(t, 0, "queued job %lld: %s", (long long)id, s);
    }
    free(target);
    free(args);
}

/* The kind changed: a model task type says at once when no model is set. */
static void form_kind_changed(struct tui *t)
{
    const char *missing = form_task_type(t->form) ? engine_llm_missing(t->e) : NULL;
    form_set_error(t->form, missing ? xstrdup(missing) : NULL);
}

/* === keys === */

static void relayout(struct tui *t)
{
    layout_apply(t);
    clearok(curscr, TRUE);
}

static void cancel_selected(struct tui *t)
{
    if (!t->sel_job) {
        tui_message(t, 1, "no task selected");
        return;
    }
    char *err = NULL;
    if (engine_cancel(t->e, t->sel_job, &err) < 0) {
        tui_message(t, 1, "%s", err ? err : "cannot cancel");
        free(err);
        return;
    }
    tui_message(t, 0, "cancelled job %lld", (long long)t->sel_job);
}

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
    if (approval_key(t, key))
        return;
    if (t->form) {
        enum form_action a = form_key(t->form, key);
        if (a == FORM_CANCEL)
            form_close(t);
        else if (a == FORM_SUBMIT)
            form_submit(t);
        else if (a == FORM_KIND)
            form_kind_changed(t);
        t->form_dirty = 1;
        return;
    }
    switch (key) {
    case 'q':
        loop_stop(t->loop);
        return;
    case '\t':
        tui_focus(t, (t->focus + 1) % PANE_COUNT);
        return;
    case UK_BTAB:
        tui_focus(t, (t->focus + PANE_COUNT - 1) % PANE_COUNT);
        return;
    case 'n':
        form_open(t);
        return;
    case 'c':
        cancel_selected(t);
        return;
    }
    if (t->too_small)
        return;
    struct pane *p = &t->panes[t->focus];
    if (p->cls->key && p->cls->key(t, p, key))
        p->dirty = 1;
}

static void read_keys(struct tui *t)
{
    wint_t wc;
    int rc;
    while (!loop_stopped(t->loop) && (rc = wget_wch(stdscr, &wc)) != ERR)
        handle_key(t, rc == KEY_CODE_YES ? -(int)wc : (int)wc);
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
    t->exit_code = signo == SIGINT ? 0 : 128 + signo;
    loop_stop(l);
}

static void on_tick(struct loop *l, uint64_t id, void *payload)
{
    struct tui *t = payload;
    t->tick = loop_timer_add(l, 1000, on_tick, t);
    tui_dirty(t, PANE_TASKS);
    tui_dirty(t, PANE_METRICS);
    tui_dirty(t, PANE_REGISTRY);       /* breaker countdowns, check ages */
}

/* === drawing (the before-sleep hook) === */

static void draw_status(struct tui *t)
{
    WINDOW *w = t->status;
    int width = getmaxx(w) - 1;        /* keep off the screen's last cell */
    werase(w);
    wattrset(w, t->theme.attr[THEME_STATUSBAR]);
    mvwhline(w, 0, 0, ' ', getmaxx(w));
    wmove(w, 0, 0);
    const char *mine = t->panes[t->focus].cls->hints;
    char *hints = xasprintf("%s%s%s", hints_start, mine ? mine : hints_default, hints_end);
    if (t->message && draw_width(hints, strlen(hints)) + 4 +
                              draw_width(t->message, strlen(t->message)) > width)
        draw_str(w, hints_short, width);
    else
        draw_str(w, hints, width);
    free(hints);
    if (t->message) {
        draw_str(w, "  | ", width - getcurx(w));
        if (t->message_error)
            wattrset(w, t->theme.attr[THEME_ERROR] | A_REVERSE);
        draw_str(w, t->message, width - getcurx(w));
    }
    wattrset(w, A_NORMAL);
    wnoutrefresh(w);
}

static void draw_too_small(struct tui *t)
{
    static const char msg[] = "terminal too small (need 80x24)";
    werase(stdscr);
    int y = LINES / 2, x = (COLS - (int)strlen(msg)) / 2;
    wmove(stdscr, y > 0 ? y - 1 : 0, x > 0 ? x : 0);
    draw_str(stdscr, msg, COLS);
    if (LINES > 2) {
        char have[64];
        snprintf(have, sizeof have, "now %dx%d; q quits", COLS, LINES);
        x = (COLS - (int)strlen(have)) / 2;
        wmove(stdscr, y, x > 0 ? x : 0);
        draw_str(stdscr, have, COLS);
    }
    wnoutrefresh(stdscr);
}

static void redraw(struct loop *l, void *payload)
{
    struct tui *t = payload;
    int any = t->full || t->status_dirty || (t->form && t->form_dirty) ||
              (t->approvals.n && t->approvals_dirty);
    for (int i = 0; i < PANE_COUNT; i++)
        any |= t->panes[i].dirty;
    if (!any)
        return;
    if (t->full || t->too_small) {
        /* stdscr is only the backdrop; refreshing it here also keeps
         * wget_wch(stdscr) from repainting it over the panes */
        werase(stdscr);
        wnoutrefresh(stdscr);
        t->full = 0;
    }
    if (t->too_small) {
        draw_too_small(t);
        for (int i = 0; i < PANE_COUNT; i++)
            t->panes[i].dirty = 0;
        t->status_dirty = t->form_dirty = t->approvals_dirty = 0;
        doupdate();
        return;
    }
    int drew = 0;
    for (int i = 0; i < PANE_COUNT; i++) {
        struct pane *p = &t->panes[i];
        if (!p->dirty)
            continue;
        p->dirty = 0;
        werase(p->frame);
        draw_frame(p->frame, p->cls->title, t->focus == i, &t->theme);
        werase(p->body);
        wmove(p->body, 0, 0);
        p->cls->draw(t, p);
        wattrset(p->body, A_NORMAL);
        wnoutrefresh(p->frame);
        wnoutrefresh(p->body);
        drew = 1;
    }
    if (t->status_dirty) {
        t->status_dirty = 0;
        draw_status(t);
        drew = 1;
    }
    if (t->form && (drew || t->form_dirty)) {
        form_draw(t->form, &t->theme);   /* last, so the cursor is in it */
        t->form_dirty = 0;
        drew = 1;
    }
    if (t->approvals.n && (drew || t->approvals_dirty))
        approvals_render(t->approvals.win, &t->theme, &t->approvals);   /* above all */
    t->approvals_dirty = 0;
    doupdate();
}

/* === start and end === */

static void terminal_setup(void)
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
    def_prog_mode();
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
    SCREEN *scr = newterm(NULL, stdout, stdin);
    if (!scr) {
        const char *term = getenv("TERM");
        fprintf(stderr, "mcpdeck: cannot start the terminal UI for TERM=%s; "
                        "set TERM to your terminal's type (e.g. xterm-256color)\n",
                term && *term ? term : "(unset)");
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
        return 2;
    }
    terminal_setup();

    struct tui *t = xcalloc(1, sizeof *t);
    t->e = e;
    t->loop = engine_loop(e);
    t->utf8 = strcmp(nl_langinfo(CODESET), "UTF-8") == 0;
    t->focus = PANE_TASKS;
    streams_init(&t->streams, STREAM_LIMIT);
    for (int i = 0; i < PANE_COUNT; i++)
        t->panes[i].cls = pane_classes[i];
    char *err = NULL;
    if (theme_setup(&t->theme, &err) < 0) {
        tui_message(t, 1, "%s", err);
        free(err);
    }
    layout_apply(t);

    engine_subscribe(e, on_event, t);
    engine_set_approval_handler(e, on_approval, t);
    loop_fd_add(t->loop, STDIN_FILENO, LOOP_READ, on_stdin, t);
    loop_hook_add(t->loop, redraw, t);
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
    loop_hook_del(t->loop, redraw, t);
    loop_fd_del(t->loop, STDIN_FILENO);
    engine_unsubscribe(e, on_event, t);
    engine_set_approval_handler(e, NULL, NULL);
    if (t->stream_timer)
        loop_timer_del(t->loop, t->stream_timer);
    /* nobody is left to ask: what was waiting is refused */
    struct approval_item it;
    while (approvals_pop(&t->approvals, &it)) {
        free(it.what);
        engine_approval_answer(e, it.q, 0);
    }

    int rc = t->exit_code;
    form_free(t->form);
    layout_free(t);
    pane_tasks_fini(t);
    pane_results_fini(t);
    pane_registry_fini(t);
    streams_fini(&t->streams);
    approvals_fini(&t->approvals);
    free(t->message);
    free(t);
    endwin();
    delscreen(scr);
    return rc;
}
