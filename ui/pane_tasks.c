/* pane_tasks.c — the Tasks pane: jobs (id, status glyph and a progress
 * bar while running, target, attempts, elapsed time) newest first or in
 * another order (s, :sort), filtered by status and text (/), with a
 * selection that the Results pane follows. The list is virtual: each draw
 * reads from the store only the rows on screen (engine_jobs_page), so a
 * store of 100,000 jobs scrolls like one of ten. The selection is kept by
 * job id and its row found again when the list changed under it. Also
 * here: retry, priority and the details overlay of the selected job. */
#include "ui.h"
#include "engine.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void tasks_clear(struct tasks_state *ts)
{
    for (size_t i = 0; i < ts->njobs; i++)
        job_fini(&ts->jobs[i]);
    free(ts->jobs);
    ts->jobs = NULL;
    ts->njobs = 0;
}

void pane_tasks_fini(struct tui *t)
{
    tasks_clear(&t->tasks);
    free(t->tasks.text);
    t->tasks.text = NULL;
}

static void tasks_query(const struct tasks_state *ts, struct engine_job_query *q)
{
    q->status_mask = ts->status_mask;
    q->text = ts->text;
    q->sort = (enum engine_job_sort)ts->sort;
    q->ascending = ts->ascending;
}

static enum ui_glyph job_glyph(enum job_status s)
{
    switch (s) {
    case JOB_RUNNING: return GLYPH_JOB_RUNNING;
    case JOB_SUCCEEDED: return GLYPH_JOB_SUCCEEDED;
    case JOB_FAILED: return GLYPH_JOB_FAILED;
    case JOB_CANCELLED: return GLYPH_JOB_CANCELLED;
    default: return GLYPH_JOB_QUEUED;
    }
}

static enum theme_el job_el(enum job_status s)
{
    switch (s) {
    case JOB_RUNNING: return THEME_STATUS_RUN;
    case JOB_SUCCEEDED: return THEME_STATUS_OK;
    case JOB_FAILED: return THEME_STATUS_FAIL;
    default: return THEME_DIM;
    }
}

int tasks_select_row(struct tui *t, int idx)
{
    struct tasks_state *ts = &t->tasks;
    if (ts->total <= 0)
        return 0;
    if (idx < 0)
        idx = 0;
    if (idx >= ts->total)
        idx = (int)ts->total - 1;
    int64_t id = 0;
    if (idx >= ts->top && idx < ts->top + (int)ts->njobs) {
        id = ts->jobs[idx - ts->top].id;
    } else {
        struct engine_job_query q;
        tasks_query(ts, &q);
        struct job *v = NULL;
        size_t n = 0;
        if (engine_jobs_page(t->e, &q, idx, 1, &v, &n, NULL) == 0 && n)
            id = v[0].id;
        jobq_jobs_free(v, n);
    }
    if (!id)
        return 0;
    tui_select_job(t, id);
    ts->sel = idx;
    ts->sel_known = 1;
    tui_dirty(t, PANE_TASKS);
    return 1;
}

/* Wall-clock time the job has taken so far, or -1 when it has not run. */
static int64_t job_elapsed(const struct job *j, int64_t now)
{
    if (j->started_ms <= 0)
        return -1;
    if (j->status == JOB_RUNNING)
        return now - j->started_ms;
    if (j->status == JOB_QUEUED || j->finished_ms <= 0)
        return -1;
    return j->finished_ms - j->started_ms;
}

/* Column widths for a body w columns wide. */
struct cols {
    int id, status, task, attempts, time;
};

static struct cols tasks_cols(const struct tasks_state *ts, int w)
{
    struct cols c = {4, 12, 0, 3, 6};
    for (size_t i = 0; i < ts->njobs; i++) {
        char tmp[24];
        int n = snprintf(tmp, sizeof tmp, "%lld", (long long)ts->jobs[i].id);
        if (n > c.id)
            c.id = n;
    }
    if (w < 50)
        c.attempts = 0;                /* narrow: drop the attempts column */
    c.task = w - c.id - 1 - c.status - 1 - (c.attempts ? c.attempts + 1 : 0) - 1 - c.time;
    if (c.task < 1)
        c.task = 1;
    return c;
}

static void draw_row(struct tui *t, WINDOW *w, int y, const struct job *j,
                     const struct cols *c, int selected, int64_t now)
{
    const struct theme *th = &t->theme;
    attr_t base = selected ? th->attr[THEME_SELECTED] : A_NORMAL;
    wmove(w, y, 0);
    if (selected)
        draw_fill_line(w, base);
    wattrset(w, base);
    draw_printf(w, c->id, "%*lld", c->id, (long long)j->id);
    waddch(w, ' ');
    wattrset(w, selected ? base : th->attr[job_el(j->status)]);
    draw_str(w, draw_glyph(t->utf8, job_glyph(j->status)), 1);
    waddch(w, ' ');
    char st[32];
    double pr, tot;
    if (j->status == JOB_RUNNING && engine_job_progress(t->e, j->id, &pr, &tot) == 0) {
        if (tot > 0) {
            /* a bar of 5 cells and the percentage: "###  42%" */
            double f = pr / tot;
            if (f < 0)
                f = 0;
            if (f > 1)
                f = 1;
            int cells = (int)(f * 5 + 0.5);
            const char *full = t->utf8 ? "\u2588" : "#", *empty = t->utf8 ? "\u2591" : ".";
            size_t o = 0;
            for (int k = 0; k < 5; k++)
                o += (size_t)snprintf(st + o, sizeof st - o, "%s", k < cells ? full : empty);
            snprintf(st + o, sizeof st - o, "%3.0f%%", 100.0 * f);
        } else

            snprintf(st, sizeof st, "run %.0f", pr);
    } else {
        snprintf(st, sizeof st, "%s", job_status_name(j->status));
    }
    draw_cell(w, st, c->status - 2);
    wattrset(w, base);
    waddch(w, ' ');
    char *target = j->kind && strcmp(j->kind, "model") == 0
                       ? xasprintf("%s (model)", j->tool ? j->tool : "?")
                       : xasprintf("%s.%s", j->server ? j->server : "?", j->tool ? j->tool : "?");
    draw_cell(w, target, c->task);
    free(target);
    if (c->attempts)
        draw_printf(w, c->attempts + 1, " %*d", c->attempts, j->attempts);
    char dur[24];
    draw_duration(dur, sizeof dur, job_elapsed(j, now));
    draw_printf(w, c->time + 1, " %*s", c->time, dur);
    wattrset(w, A_NORMAL);
}

/* "3 of 100 · failed running · 'fs.' · by priority" on the header line. */
static void draw_header(struct tui *t, WINDOW *w, const struct cols *c, int width)
{
    struct tasks_state *ts = &t->tasks;
    wattrset(w, t->theme.attr[THEME_DIM]);
    wmove(w, 0, 0);
    draw_printf(w, width, "%*s %-*s %-*s", c->id, "ID", c->status, "STATUS", c->task, "TASK");
    if (c->attempts)
        draw_printf(w, width, " %*s", c->attempts, "TRY");
    draw_printf(w, width, " %*s", c->time, "TIME");
    wattrset(w, A_NORMAL);
    /* the filter and order, over the TASK heading's free space */
    struct buf b;
    buf_init(&b);
    for (int s = 0; s < JOB_STATUS_COUNT; s++)
        if (ts->status_mask & (1u << s))
            buf_printf(&b, "%s%s", b.len ? "," : "", job_status_name((enum job_status)s));
    if (ts->text && *ts->text)
        buf_printf(&b, "%s'%s'", b.len ? " " : "", ts->text);
    if (ts->sort != ENGINE_SORT_ID || ts->ascending)
        buf_printf(&b, "%sby %s%s", b.len ? " " : "",
                   engine_job_sort_name((enum engine_job_sort)ts->sort),
                   ts->ascending ? "" : " desc");
    if (b.len || ts->total > ts->visible)
        buf_printf(&b, "%s%d/%lld", b.len ? " " : "", ts->sel + 1, (long long)ts->total);
    int x = c->id + 1 + c->status + 1 + 5;
    if (b.len && x < width) {
        wmove(w, 0, x);
        wattrset(w, t->theme.attr[THEME_TITLE]);
        draw_str(w, b.data, c->task - 5 > 0 ? c->task - 5 : 0);
        wattrset(w, A_NORMAL);
    }
    buf_fini(&b);
}

static void tasks_draw(struct tui *t, struct pane *p)
{
    struct tasks_state *ts = &t->tasks;
    WINDOW *w = p->body;
    int h = getmaxy(w), width = getmaxx(w);
    ts->visible = h - 1 > 0 ? h - 1 : 0;
    struct engine_job_query q;
    tasks_query(ts, &q);
    /* where the selection is now: found again by id when the list moved */
    if (t->sel_job && !ts->sel_known) {
        int64_t idx = engine_jobs_index(t->e, &q, t->sel_job);
        if (idx >= 0)
            ts->sel = (int)idx;
        ts->sel_known = 1;
    }
    tasks_clear(ts);
    if (!ts->total_known) {
        /* counting is a scan: only when the list changed, not every tick or key */
        int64_t total = 0;
        if (engine_jobs_page(t->e, &q, 0, 0, &ts->jobs, &ts->njobs, &total) < 0) {
            wattrset(w, t->theme.attr[THEME_ERROR]);
            draw_str(w, "cannot read the job list", width);
            wattrset(w, A_NORMAL);
            return;
        }
        ts->total = total;
        ts->total_known = 1;
    }
    int64_t total = ts->total;
    if (total == 0) {
        wattrset(w, t->theme.attr[THEME_DIM]);
        draw_str(w, ts->status_mask || ts->text ? "no tasks match the filter (/ changes it)"
                                                : "no tasks yet: press n for a new one",
                 width);
        wattrset(w, A_NORMAL);
        return;
    }
    if (ts->sel >= total)
        ts->sel = (int)total - 1;
    if (ts->sel < 0)
        ts->sel = 0;
    if (ts->sel < ts->top)
        ts->top = ts->sel;
    if (ts->sel >= ts->top + ts->visible)
        ts->top = ts->sel - ts->visible + 1;
    pane_scroll_clamp(&ts->top, (int)total, ts->visible);
    if (engine_jobs_page(t->e, &q, ts->top, ts->visible, &ts->jobs, &ts->njobs, NULL) < 0)
        return;
    /* the selected job left the list (filtered out): select its row's job */
    int in = ts->sel - ts->top;
    if (in >= 0 && in < (int)ts->njobs && ts->jobs[in].id != t->sel_job) {
        tui_select_job(t, ts->jobs[in].id);
        ts->sel_known = 1;
    }

    struct cols c = tasks_cols(ts, width);
    draw_header(t, w, &c, width);
    int64_t now = util_wall_ms();
    for (int row = 0; row < (int)ts->njobs; row++)
        draw_row(t, w, row + 1, &ts->jobs[row], &c, ts->top + row == ts->sel, now);
}

static int tasks_key(struct tui *t, struct pane *p, int key)
{
    struct tasks_state *ts = &t->tasks;
    (void)p;
    if (!ts->total)
        return 0;
    int idx = ts->sel;
    int page = ts->visible > 1 ? ts->visible - 1 : 1;
    switch (key) {
    case UK_UP: case 'k': idx--; break;
    case UK_DOWN: case 'j': idx++; break;
    case UK_PPAGE: idx -= page; break;
    case UK_NPAGE: idx += page; break;
    case UK_HOME: case 'g': idx = 0; break;
    case UK_END: case 'G': idx = (int)ts->total - 1; break;
    default: return 0;
    }
    tasks_select_row(t, idx);
    return 1;
}

/* === filter and sort === */

void tasks_filter_parse(const char *s, unsigned *mask, char **text)
{
    *mask = 0;
    *text = NULL;
    struct buf b;
    buf_init(&b);
    while (s && *s) {
        while (*s == ' ')
            s++;
        size_t n = strcspn(s, " ");
        if (!n)
            break;
        char *word = xstrndup(s, n);
        enum job_status st;
        if (job_status_parse(word, &st) == 0) {
            *mask |= 1u << st;
        } else if (strcmp(word, "done") == 0) {
            *mask |= 1u << JOB_SUCCEEDED;
        } else {
            if (b.len)
                buf_putc(&b, ' ');
            buf_puts(&b, word);
        }
        free(word);
        s += n;
    }
    *text = b.len ? buf_detach(&b) : NULL;
    buf_fini(&b);
}

int tasks_cmd_filter(struct tui *t, const char *arg)
{
    struct tasks_state *ts = &t->tasks;
    if (!arg) {
        /* the key: the prompt, with the filter in force to edit */
        struct buf b;
        buf_init(&b);
        for (int s = 0; s < JOB_STATUS_COUNT; s++)
            if (ts->status_mask & (1u << s))
                buf_printf(&b, "%s ", job_status_name((enum job_status)s));
        if (ts->text)
            buf_puts(&b, ts->text);
        tui_prompt_open(t, PROMPT_FILTER, b.data);
        buf_fini(&b);
        return 0;
    }
    free(ts->text);
    tasks_filter_parse(arg, &ts->status_mask, &ts->text);
    ts->sel_known = 0;
    ts->total_known = 0;
    ts->top = 0;
    tui_dirty(t, PANE_TASKS);
    if (!ts->status_mask && !ts->text)
        tui_message(t, 0, "showing every task");
    return 0;
}

int tasks_cmd_sort(struct tui *t, const char *arg)
{
    struct tasks_state *ts = &t->tasks;
    char field[32] = "next", dir[32] = "";
    if (arg)
        sscanf(arg, "%31s %31s", field, dir);
    if (strcmp(field, "asc") == 0 || strcmp(field, "desc") == 0) {
        snprintf(dir, sizeof dir, "%s", field);
        snprintf(field, sizeof field, "%s",
                 engine_job_sort_name((enum engine_job_sort)ts->sort));
    }
    enum engine_job_sort s;
    if (strcmp(field, "next") == 0) {
        s = (enum engine_job_sort)((ts->sort + 1) % ENGINE_SORT_COUNT);
    } else if (engine_job_sort_parse(field, &s) < 0) {
        tui_message(t, 1, "sort: no field '%s' (id, status, priority, target, elapsed)", field);
        return -1;
    }
    ts->sort = (int)s;
    ts->total_known = 0;
    ts->ascending = strcmp(dir, "asc") == 0 ||
                    (!*dir && (s == ENGINE_SORT_TARGET || s == ENGINE_SORT_STATUS));
    ts->sel_known = 0;
    tui_dirty(t, PANE_TASKS);
    tui_message(t, 0, "tasks by %s, %s", engine_job_sort_name(s),
                ts->ascending ? "ascending" : "descending");
    return 0;
}

/* === retry, priority === */

static int64_t arg_job(struct tui *t, const char **arg)
{
    const char *a = *arg;
    while (a && *a == ' ')
        a++;
    if (a && *a == '#') {
        char *end;
        long long v = strtoll(a + 1, &end, 10);
        *arg = end;
        return v;
    }
    return t->sel_job;
}

int tasks_cmd_retry(struct tui *t, const char *arg)
{
    int64_t id = arg ? strtoll(arg[0] == '#' ? arg + 1 : arg, NULL, 10) : t->sel_job;
    if (id <= 0) {
        tui_message(t, 1, "no task selected");
        return -1;
    }
    char *err = NULL;
    if (engine_retry(t->e, id, &err) < 0) {
        tui_message(t, 1, "%s", err ? err : "cannot retry");
        free(err);
        return -1;
    }
    tui_message(t, 0, "job %lld queued again", (long long)id);
    t->results.stale = 1;
    tui_dirty(t, PANE_RESULTS);
    return 0;
}

int tasks_cmd_priority(struct tui *t, const char *arg)
{
    int64_t id = arg_job(t, &arg);
    while (arg && *arg == ' ')
        arg++;
    if (id <= 0) {
        tui_message(t, 1, "no task selected");
        return -1;
    }
    if (!arg || !*arg) {
        tui_message(t, 1, "priority: +N, -N or N");
        return -1;
    }
    char *end;
    long v = strtol(arg, &end, 10);
    if (end == arg || *end) {
        tui_message(t, 1, "priority: '%s' is not +N, -N or N", arg);
        return -1;
    }
    struct job j;
    memset(&j, 0, sizeof j);
    if (engine_job(t->e, id, &j) < 0) {
        tui_message(t, 1, "no job %lld", (long long)id);
        return -1;
    }
    long prio = arg[0] == '+' || arg[0] == '-' ? j.priority + v : v;
    job_fini(&j);
    if (prio > 1000000 || prio < -1000000) {
        tui_message(t, 1, "priority %ld is out of range", prio);
        return -1;
    }
    char *err = NULL;
    if (engine_set_priority(t->e, id, (int)prio, &err) < 0) {
        tui_message(t, 1, "%s", err ? err : "cannot change the priority");
        free(err);
        return -1;
    }
    tui_message(t, 0, "job %lld priority %ld", (long long)id, prio);
    tui_jobs_changed(t);
    return 0;
}

/* === details === */

static void fmt_time(char *out, size_t n, int64_t ms)
{
    if (ms <= 0) {
        snprintf(out, n, "-");
        return;
    }
    time_t s = (time_t)(ms / 1000);
    struct tm tm;
    localtime_r(&s, &tm);
    strftime(out, n, "%H:%M:%S", &tm);
}

/* The route explanation of a routed job from its route_json. */
static void add_route(struct buf *b, const char *route_json)
{
    cJSON *r = route_json ? cJSON_Parse(route_json) : NULL;
    if (!r) {
        buf_puts(b, "  (the task names its server: no routing)\n");
        return;
    }
    const cJSON *req = cJSON_GetObjectItemCaseSensitive(r, "request");
    const cJSON *chosen = cJSON_GetObjectItemCaseSensitive(r, "chosen");
    char *rq = req ? cJSON_PrintUnformatted(req) : NULL;
    buf_printf(b, "  request %s\n", rq ? rq : "-");
    cJSON_free(rq);
    if (cJSON_IsString(chosen))
        buf_printf(b, "  chosen  %s\n", chosen->valuestring);
    else
        buf_puts(b, "  chosen  (not yet: routed when it starts)\n");
    const cJSON *scores = cJSON_GetObjectItemCaseSensitive(r, "scores");
    const cJSON *s;
    cJSON_ArrayForEach(s, scores) {
        char *line = cJSON_PrintUnformatted(s);
        buf_printf(b, "    %s\n", line ? line : "?");
        cJSON_free(line);
    }
    cJSON_Delete(r);
}

int tasks_cmd_details(struct tui *t, const char *arg)
{
    int64_t id = arg ? strtoll(arg[0] == '#' ? arg + 1 : arg, NULL, 10) : t->sel_job;
    struct job j;
    memset(&j, 0, sizeof j);
    if (id <= 0 || engine_job(t->e, id, &j) < 0) {
        tui_message(t, 1, id > 0 ? "no job %lld" : "no task selected", (long long)id);
        return -1;
    }
    struct buf b;
    buf_init(&b);
    char c[16], st[16], fi[16];
    fmt_time(c, sizeof c, j.created_ms);
    fmt_time(st, sizeof st, j.started_ms);
    fmt_time(fi, sizeof fi, j.finished_ms);
    buf_printf(&b, "# job %lld  %s\n\n", (long long)j.id, job_status_name(j.status));
    if (j.kind && strcmp(j.kind, "model") == 0)
        buf_printf(&b, "  task     %s (model task)\n", j.tool ? j.tool : "?");
    else
        buf_printf(&b, "  task     %s.%s\n", j.server ? j.server : "?", j.tool ? j.tool : "?");
    buf_printf(&b, "  args     %s\n", j.args_json ? j.args_json : "{}");
    buf_printf(&b, "  priority %d   attempts %d/%d   timeout %dms\n", j.priority, j.attempts,
               j.max_attempts, j.timeout_ms);
    buf_printf(&b, "  created  %s   started %s   finished %s\n", c, st, fi);
    if (j.batch || j.key)
        buf_printf(&b, "  batch    %s  key %s\n", j.batch ? j.batch : "-", j.key ? j.key : "-");
    if (j.error)
        buf_printf(&b, "  error    %s\n", j.error);
    buf_puts(&b, "\n## Route\n");
    add_route(&b, j.route_json);

    buf_puts(&b, "\n## Attempts\n");
    struct jobq_attempt *att = NULL;
    size_t natt = 0;
    if (engine_job_attempts(t->e, id, &att, &natt) == 0 && natt) {
        for (size_t i = 0; i < natt; i++) {
            char a[16], dur[24];
            fmt_time(a, sizeof a, att[i].started_ms);
            draw_duration(dur, sizeof dur, att[i].finished_ms > 0
                                               ? att[i].finished_ms - att[i].started_ms : -1);
            buf_printf(&b, "  %d  %s  %-11s %6s  %s\n", att[i].n, a,
                       att[i].outcome ? att[i].outcome : "?", dur,
                       att[i].error ? att[i].error : "");
        }
    } else {
        buf_puts(&b, "  (none yet)\n");
    }
    jobq_attempts_free(att, natt);

    buf_puts(&b, "\n## Events\n");
    struct jobq_event *ev = NULL;
    size_t nev = 0;
    if (engine_job_events(t->e, id, &ev, &nev) == 0 && nev) {
        size_t from = nev > 200 ? nev - 200 : 0;   /* the last 200 */
        if (from)
            buf_printf(&b, "  (%zu earlier events not shown)\n", from);
        for (size_t i = from; i < nev; i++) {
            char a[16];
            fmt_time(a, sizeof a, ev[i].ts_ms);
            buf_printf(&b, "  %s  %-8s %s\n", a, ev[i].kind ? ev[i].kind : "?",
                       ev[i].data_json ? ev[i].data_json : "");
        }
    } else {
        buf_puts(&b, "  (none)\n");
    }
    jobq_events_free(ev, nev);
    job_fini(&j);
    char title[48];
    snprintf(title, sizeof title, "Job %lld", (long long)id);
    overlay_open(t, title, &b);
    return 0;
}

const struct pane_class pane_tasks_class = {
    "Tasks", tasks_draw, tasks_key, "Enter details  c cancel  r retry  +/- prio  / filter  s sort",
};
