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
 * doupdate() once per loop turn. */
#include "tui.h"
#include "ui.h"
#include "config.h"
#include "embedded.h"
#include "engine.h"
#include "loop.h"
#include "metrics.h"
#include "ydoc.h"

#include <cjson/cJSON.h>
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

/* The status bar: global keys around the focused pane's own
 * (pane_class.hints); when a message would not fit, the short form. */
static const char hints_start[] = " ? help  : cmd  n new  Tab/1-4 focus  z zoom  ";
static const char hints_default[] = "";
static const char hints_end[] = "  q quit";
static const char hints_short[] = " ? help  : cmd  q quit";

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

/* === elicitation === */

static void on_elicit(void *payload, struct engine_elicit *req, const char *server,
                      const int64_t *jobs, size_t njobs, const char *message,
                      const cJSON *schema)
{
    struct tui *t = payload;
    struct elicits *q = &t->elicits;
    if (q->n == q->cap) {
        q->cap = q->cap ? q->cap * 2 : 4;
        q->v = xrealloc(q->v, q->cap * sizeof *q->v);
    }
    q->v[q->n++] = elicit_form_new(req, server, jobs, njobs, message, schema);
    if (q->n == 1) {
        q->win = elicit_layout(q->win, q->v[0], t->rows, t->cols);
        curs_set(1);
    }
    q->dirty = 1;
    tui_message(t, 0, "%s asks for input: Enter accepts, Esc declines, ^C cancels",
                server ? server : "a server");
}

/* Answer the form on screen with action ("accept" takes content). */
static void elicit_answer(struct tui *t, const char *action, cJSON *content)
{
    struct elicits *q = &t->elicits;
    if (!q->n)
        return;
    struct elicit_form *f = q->v[0];
    memmove(q->v, q->v + 1, (q->n - 1) * sizeof *q->v);
    q->n--;
    struct engine_elicit *req = elicit_form_req(f);
    elicit_form_free(f);
    tui_message(t, 0, "elicitation: %s", strcmp(action, "accept") == 0 ? "accepted"
                                         : strcmp(action, "decline") == 0 ? "declined"
                                                                          : "cancelled");
    if (q->n) {
        q->win = elicit_layout(q->win, q->v[0], t->rows, t->cols);
        q->dirty = 1;
    } else {
        if (q->win)
            delwin(q->win);
        q->win = NULL;
        curs_set(t->form ? 1 : 0);
        dirty_all(t);                  /* repaint what was under it */
    }
    engine_elicit_answer(t->e, req, action, content);
}

/* While a form is on screen every key goes to it. */
static int elicit_handle_key(struct tui *t, int key)
{
    struct elicits *q = &t->elicits;
    if (!q->n || !q->win || t->too_small)
        return 0;
    q->dirty = 1;
    switch (elicit_key(q->v[0], key)) {
    case ELICIT_ACCEPT: {
        cJSON *c = elicit_form_content(q->v[0]);
        if (c)
            elicit_answer(t, "accept", c);
        break;
    }
    case ELICIT_DECLINE:
        elicit_answer(t, "decline", NULL);
        break;
    case ELICIT_CANCEL:
        elicit_answer(t, "cancel", NULL);
        break;
    case ELICIT_NONE:
        break;
    }
    return 1;
}

/* === the form === */

/* The form's check hook: args against the tool's inputSchema when the
 * tool is known (an unknown one is the engine's to refuse at submit). */
static int form_check_args(void *payload, const char *target, const cJSON *args, char **err)
{
    struct tui *t = payload;
    const char *dot = strchr(target, '.');
    char *server = xstrndup(target, (size_t)(dot - target));
    const char *tool = dot + 1;
    int rc = 0;
    size_t n = engine_server_tools(t->e, server, NULL, 0);
    struct engine_tool_info *v = n ? xcalloc(n, sizeof *v) : NULL;
    n = engine_server_tools(t->e, server, v, n);
    for (size_t i = 0; i < n; i++) {
        if (strcmp(v[i].name, tool) != 0)
            continue;
        char *why = NULL;
        if (engine_check_args(t->e, server, tool, args, &why) < 0) {
            /* the part after "... do not match its input schema: " */
            const char *at = why ? strstr(why, "input schema: ") : NULL;
            *err = at ? xstrdup(at + strlen("input schema: ")) : why;
            if (at)
                free(why);
            rc = -1;
        }
        break;
    }
    free(v);
    free(server);
    return rc;
}

/* The form's targets hook: every "server.tool" of the registry. */
static size_t form_targets(void *payload, char ***out)
{
    struct tui *t = payload;
    size_t ns = engine_servers(t->e, NULL, 0);
    struct engine_server_info *sv = ns ? xcalloc(ns, sizeof *sv) : NULL;
    ns = engine_servers(t->e, sv, ns);
    char **v = NULL;
    size_t n = 0, cap = 0;
    for (size_t i = 0; i < ns; i++) {
        size_t nt = engine_server_tools(t->e, sv[i].name, NULL, 0);
        struct engine_tool_info *tv = nt ? xcalloc(nt, sizeof *tv) : NULL;
        nt = engine_server_tools(t->e, sv[i].name, tv, nt);
        for (size_t k = 0; k < nt; k++) {
            if (n == cap) {
                cap = cap * 2 + 16;
                v = xrealloc(v, cap * sizeof *v);
            }
            v[n++] = xasprintf("%s.%s", sv[i].name, tv[k].name);
        }
        free(tv);
    }
    free(sv);
    *out = v;
    return n;
}

static void form_kind_changed(struct tui *t);

/* === templates (data/templates.yaml) === */

static void templates_load(struct tui *t)
{
    const struct embedded_file *f = embedded_find("data/templates.yaml");
    struct ydoc *d = NULL;
    char *err = NULL;
    if (!f || ydoc_load_string("data/templates.yaml", (const char *)f->data, f->len, &d,
                               &err) < 0) {
        free(err);
        return;
    }
    const struct ydoc_node *list = d->root ? ydoc_map_get(d->root, "templates") : NULL;
    for (size_t i = 0; list && list->kind == YDOC_SEQ && i < list->nitems; i++) {
        const struct ydoc_node *n = list->items[i], *v;
        if (n->kind != YDOC_MAP)
            continue;
        t->templates = xrealloc(t->templates, (t->ntemplates + 1) * sizeof *t->templates);
        struct form_template *tp = &t->templates[t->ntemplates++];
        memset(tp, 0, sizeof *tp);
        tp->name = xstrdup((v = ydoc_map_get(n, "name")) && v->str ? v->str : "?");
        if ((v = ydoc_map_get(n, "type")) && v->str)
            tp->type = xstrdup(v->str);
        if ((v = ydoc_map_get(n, "tool")) && v->str)
            tp->tool = xstrdup(v->str);
        if ((v = ydoc_map_get(n, "prompt")) && v->str)
            tp->prompt = xstrdup(v->str);
        if ((v = ydoc_map_get(n, "args"))) {
            cJSON *j = ydoc_to_json(v);
            char *txt = cJSON_PrintUnformatted(j);
            tp->args = xstrdup(txt);
            cJSON_free(txt);
            cJSON_Delete(j);
        }
    }
    ydoc_free(d);
}

static void templates_free(struct tui *t)
{
    for (size_t i = 0; i < t->ntemplates; i++) {
        free(t->templates[i].name);
        free(t->templates[i].type);
        free(t->templates[i].tool);
        free(t->templates[i].args);
        free(t->templates[i].prompt);
    }
    free(t->templates);
    t->templates = NULL;
    t->ntemplates = 0;
}

/* Ctrl-O: the next template in the form. */
static void form_template(struct tui *t)
{
    if (!t->templates)
        templates_load(t);
    if (!t->ntemplates) {
        tui_message(t, 1, "no templates (data/templates.yaml)");
        return;
    }
    size_t i = t->template_next++ % t->ntemplates;
    const struct form_template *tp = &t->templates[i];
    struct form_saved sv;
    memset(&sv, 0, sizeof sv);
    sv.kind = 0;
    sv.text[FORM_TOOL] = tp->tool ? xstrdup(tp->tool) : NULL;
    sv.text[FORM_ARGS] = tp->args ? xstrdup(tp->args) : NULL;
    sv.text[FORM_PROMPT] = tp->prompt ? xstrdup(tp->prompt) : NULL;
    form_restore(t->form, &sv);
    form_saved_fini(&sv);
    if (tp->type)
        form_set_kind(t->form, tp->type);
    form_kind_changed(t);
    tui_message(t, 0, "template %zu/%zu: %s (Ctrl-O: next)", i + 1, t->ntemplates, tp->name);
}

/* Keep the form's texts as the newest submission of the session. */
static void form_remember(struct tui *t)
{
    int slot;
    if (t->form_hist_n < FORM_HIST) {
        slot = (t->form_hist_head + t->form_hist_n++) % FORM_HIST;
    } else {                           /* full: the oldest goes */
        slot = t->form_hist_head;
        form_saved_fini(&t->form_hist[slot]);
        t->form_hist_head = (t->form_hist_head + 1) % FORM_HIST;
    }
    form_save(t->form, &t->form_hist[slot]);
}

/* Up on an untouched form or Ctrl-P: the submission before the one
 * shown. 0 when there is none (Up then moves up a row, as in a form with
 * nothing to recall), 1 when the form shows it. */
static int form_recall(struct tui *t, int key)
{
    if (t->form_hist_pos >= t->form_hist_n) {
        if (key == UK_UP)
            form_key(t->form, UK_BTAB);
        else
            tui_message(t, 0, t->form_hist_n ? "no older submission" : "nothing submitted yet");
        return 0;
    }
    t->form_hist_pos++;
    int slot = (t->form_hist_head + t->form_hist_n - t->form_hist_pos) % FORM_HIST;
    form_restore(t->form, &t->form_hist[slot]);
    /* a model task says at once when no model is set (as a kind change does) */
    const char *missing = form_task_type(t->form) ? engine_llm_missing(t->e) : NULL;
    form_set_error(t->form, missing ? xstrdup(missing) : NULL);
    return 1;
}

static void form_hist_fini(struct tui *t)
{
    for (int i = 0; i < FORM_HIST; i++)
        form_saved_fini(&t->form_hist[i]);
    t->form_hist_n = t->form_hist_head = 0;
    templates_free(t);
}

void tui_form_open(struct tui *t)
{
    if (t->form || t->too_small)
        return;
    t->form = form_new();
    t->form_hist_pos = 0;
    struct form_hooks h = {.payload = t, .check = form_check_args, .targets = form_targets};
    form_set_hooks(t->form, &h);
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
    if (!prompt[strspn(prompt, " \n")]) {
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
        if (form_priority(t->form, &spec.priority) < 0 ||
            form_timeout_ms(t->form, &spec.timeout_ms) < 0)
            *err = xstrdup("fix the priority or timeout first");
        else
            rc = engine_submit(t->e, &spec, id, err);
        cJSON_free(args);
    }
    free(prompt);
    free(model);
    return rc;
}

/* The form's tool call: "server.tool", JSON args, priority, timeout. */
static int submit_tool(struct tui *t, const char *target, const char *args_text, int64_t *id,
                       char **err)
{
    const char *dot = strchr(target, '.');
    if (!dot || dot == target || !dot[1]) {
        *err = xasprintf("expected server.tool, got '%s'", target);
        return -1;
    }
    const char *args = *args_text ? args_text : "{}";
    cJSON *parsed = cJSON_ParseWithOpts(args, NULL, 1);
    int ok = cJSON_IsObject(parsed);
    cJSON_Delete(parsed);
    if (!ok) {
        *err = xasprintf("arguments must be a JSON object, got: %s", args);
        return -1;
    }
    struct jobq_spec spec = {0};
    if (form_priority(t->form, &spec.priority) < 0 ||
        form_timeout_ms(t->form, &spec.timeout_ms) < 0) {
        *err = xstrdup("fix the priority or timeout first");
        return -1;
    }
    char *server = xstrndup(target, (size_t)(dot - target));
    spec.server = server;
    spec.tool = dot + 1;
    spec.args_json = args;
    int rc = engine_submit(t->e, &spec, id, err);
    free(server);
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
        form_remember(t);
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
    if (submit_tool(t, s, args, &id, &err) < 0) {
        form_set_error(t->form, err ? err : xstrdup("the task was not accepted"));
    } else {
        form_remember(t);
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

/* === the mouse === */

static void mouse_event(struct tui *t)
{
    MEVENT me;
    if (getmouse(&me) != OK || t->too_small)
        return;
    if (!(me.bstate & (BUTTON1_CLICKED | BUTTON1_PRESSED | BUTTON1_RELEASED |
                       BUTTON1_DOUBLE_CLICKED)))
        return;
    int id = layout_pane_at(t, me.y, me.x);
    if (id < 0)
        return;
    tui_focus(t, id);
    struct pane *p = &t->panes[id];
    int y = me.y, x = me.x;
    if (!p->body || !wmouse_trafo(p->body, &y, &x, FALSE))
        return;
    if (id == PANE_TASKS && y >= 1)
        tasks_select_row(t, t->tasks.top + y - 1);
    else if (id == PANE_REGISTRY && y >= 1 && y - 1 < t->registry.visible) {
        size_t n = engine_servers(t->e, NULL, 0);
        struct engine_server_info *v = xcalloc(n ? n : 1, sizeof *v);
        n = engine_servers(t->e, v, n);
        size_t i = (size_t)(t->registry.top + y - 1);
        if (i < n) {
            free(t->registry.sel);
            t->registry.sel = xstrdup(v[i].name);
            tui_dirty(t, PANE_REGISTRY);
        }
        free(v);
    }
    if (me.bstate & BUTTON1_DOUBLE_CLICKED) {
        const char *c = cmd_for_key('\r', id);
        if (c)
            cmd_run(t, c);
    }
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
    if (elicit_handle_key(t, key))
        return;
    if (t->form) {
        enum form_action a = form_key(t->form, key);
        if (a == FORM_CANCEL)
            form_close(t);
        else if (a == FORM_SUBMIT)
            form_submit(t);
        else if (a == FORM_KIND)
            form_kind_changed(t);
        else if (a == FORM_RECALL)
            form_recall(t, key);
        else if (a == FORM_TEMPLATE)
            form_template(t);
        t->form_dirty = 1;
        return;
    }
    if (t->prompt) {
        prompt_handle(t, key);
        return;
    }
    if (key == -KEY_MOUSE) {
        mouse_event(t);
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
        elicit_handle_key(t, ui_ctrl('c'));   /* Ctrl-C cancels the form on screen */
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

/* === drawing (the before-sleep hook) === */

static void draw_prompt(struct tui *t, WINDOW *w, int width)
{
    static const char *const labels[] = {":", "/", "save to: ",
                                         "apply the diff to the work tree? y/n: "};
    struct prompt *p = t->prompt;
    wattrset(w, A_NORMAL);
    mvwhline(w, 0, 0, ' ', getmaxx(w));
    wmove(w, 0, 0);
    draw_str(w, labels[p->kind], width);
    const char *text = p->text.data ? p->text.data : "";
    /* the end of a long line stays in view */
    int room = width - getcurx(w) - 1;
    size_t len = strlen(text), from = 0;
    while (from < len && draw_width(text + from, len - from) > room)
        from++;
    while (from < len && ((unsigned char)text[from] & 0xc0) == 0x80)
        from++;
    draw_str(w, text + from, room);
    wattrset(w, A_REVERSE);
    waddch(w, ' ');                    /* the cursor */
    wattrset(w, t->theme.attr[THEME_DIM]);
    if (p->hint && getcurx(w) + 3 < width) {
        draw_str(w, "  ", width - getcurx(w));
        draw_str(w, p->hint, width - getcurx(w));
    } else if (p->kind == PROMPT_FILTER && !len) {
        draw_str(w, "  status words (failed running ...) and text; Enter keeps, empty shows all",
                 width - getcurx(w));
    }
    wattrset(w, A_NORMAL);
    wnoutrefresh(w);
}

static void draw_status(struct tui *t)
{
    WINDOW *w = t->status;
    int width = getmaxx(w) - 1;        /* keep off the screen's last cell */
    werase(w);
    if (t->prompt) {
        draw_prompt(t, w, width);
        return;
    }
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
              (t->approvals.n && t->approvals_dirty) || (t->overlay && t->overlay_dirty) ||
              (t->memview && t->memview->dirty) || (t->elicits.n && t->elicits.dirty);
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
        t->status_dirty = t->form_dirty = t->approvals_dirty = t->overlay_dirty = 0;
        if (t->memview)
            t->memview->dirty = 0;
        t->elicits.dirty = 0;
        doupdate();
        return;
    }
    int drew = 0;
    for (int i = 0; i < PANE_COUNT; i++) {
        struct pane *p = &t->panes[i];
        if (!p->dirty)
            continue;
        p->dirty = 0;
        if (!p->frame)
            continue;                  /* not on screen (another pane is zoomed) */
        werase(p->frame);
        char title[48];
        snprintf(title, sizeof title, "%d %s%s", i + 1, p->cls->title, t->zoom ? " (zoom)" : "");
        draw_frame(p->frame, title, t->focus == i, &t->theme);
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
    if (t->overlay && (drew || t->overlay_dirty)) {
        overlay_draw(t);
        drew = 1;
    }
    t->overlay_dirty = 0;
    if (t->memview && (drew || t->memview->dirty)) {
        memview_draw(t->memview, &t->theme);
        drew = 1;
    }
    if (t->form && (drew || t->form_dirty)) {
        form_draw(t->form, &t->theme);   /* last, so the cursor is in it */
        t->form_dirty = 0;
        drew = 1;
    }
    if (t->elicits.n && (drew || t->elicits.dirty)) {
        elicit_draw(t->elicits.win, &t->theme, t->elicits.v[0], t->elicits.n);
        drew = 1;
    }
    t->elicits.dirty = 0;
    if (t->approvals.n && (drew || t->approvals_dirty))
        approvals_render(t->approvals.win, &t->theme, &t->approvals);   /* above all */
    t->approvals_dirty = 0;
    doupdate();
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
    engine_set_approval_handler(e, on_approval, t);
    engine_set_elicit_handler(e, on_elicit, t);
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
    form_hist_fini(t);
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
