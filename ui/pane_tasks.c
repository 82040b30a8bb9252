/* pane_tasks.c — the Tasks pane: the newest jobs first (id, status with a
 * glyph, server.tool, attempts, elapsed time) with a selection that the
 * Results pane follows. The list is re-read from the engine each time the
 * pane is drawn; the selection is kept by job id, not by row. */
#include "ui.h"
#include "engine.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { TASKS_LIMIT = 500 };

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

static int sel_index(const struct tui *t)
{
    for (size_t i = 0; i < t->tasks.njobs; i++)
        if (t->tasks.jobs[i].id == t->sel_job)
            return (int)i;
    return -1;
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
    struct cols c = {4, 11, 0, 3, 6};
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
        if (tot > 0)
            snprintf(st, sizeof st, "%3.0f%%", 100.0 * pr / tot);   /* progress of a long call */
        else
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

static void tasks_draw(struct tui *t, struct pane *p)
{
    struct tasks_state *ts = &t->tasks;
    WINDOW *w = p->body;
    int h = getmaxy(w), width = getmaxx(w);
    tasks_clear(ts);
    if (engine_jobs(t->e, TASKS_LIMIT, &ts->jobs, &ts->njobs) < 0) {
        ts->jobs = NULL;
        ts->njobs = 0;
        wattrset(w, t->theme.attr[THEME_ERROR]);
        draw_str(w, "cannot read the job list", width);
        wattrset(w, A_NORMAL);
        return;
    }
    ts->visible = h - 1 > 0 ? h - 1 : 0;
    if (ts->njobs == 0) {
        wattrset(w, t->theme.attr[THEME_DIM]);
        draw_str(w, "no tasks yet: press n for a new one", width);
        wattrset(w, A_NORMAL);
        return;
    }
    int sel = sel_index(t);
    if (sel < 0) {
        sel = 0;
        tui_select_job(t, ts->jobs[0].id);
    }
    if (sel < ts->top)
        ts->top = sel;
    if (sel >= ts->top + ts->visible)
        ts->top = sel - ts->visible + 1;
    pane_scroll_clamp(&ts->top, (int)ts->njobs, ts->visible);

    struct cols c = tasks_cols(ts, width);
    wattrset(w, t->theme.attr[THEME_DIM]);
    draw_printf(w, width, "%*s %-*s %-*s", c.id, "ID", c.status, "STATUS", c.task, "TASK");
    if (c.attempts)
        draw_printf(w, width, " %*s", c.attempts, "TRY");
    draw_printf(w, width, " %*s", c.time, "TIME");
    wattrset(w, A_NORMAL);
    int64_t now = util_wall_ms();
    for (int row = 0; row < ts->visible && ts->top + row < (int)ts->njobs; row++) {
        int i = ts->top + row;
        draw_row(t, w, row + 1, &ts->jobs[i], &c, i == sel, now);
    }
}

static int tasks_key(struct tui *t, struct pane *p, int key)
{
    struct tasks_state *ts = &t->tasks;
    if (key == '\n' || key == '\r' || key == UK_ENTER) {
        if (t->sel_job)
            tui_focus(t, PANE_RESULTS);
        return 1;
    }
    if (!ts->njobs)
        return 0;
    int idx = sel_index(t);
    if (idx < 0)
        idx = 0;
    int page = ts->visible > 1 ? ts->visible - 1 : 1;
    switch (key) {
    case UK_UP: case 'k': idx--; break;
    case UK_DOWN: case 'j': idx++; break;
    case UK_PPAGE: idx -= page; break;
    case UK_NPAGE: idx += page; break;
    case UK_HOME: case 'g': idx = 0; break;
    case UK_END: case 'G': idx = (int)ts->njobs - 1; break;
    default: return 0;
    }
    if (idx < 0)
        idx = 0;
    if (idx >= (int)ts->njobs)
        idx = (int)ts->njobs - 1;
    tui_select_job(t, ts->jobs[idx].id);
    return 1;
}

const struct pane_class pane_tasks_class = {"Tasks", tasks_draw, tasks_key, NULL};
