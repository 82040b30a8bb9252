/* layout.c — where the windows go: four boxed panes in a 2x2 grid (Tasks
 * top left, Results top right, Registry bottom left, Metrics bottom right)
 * over a one-line status bar; zoomed, the focused pane alone fills the
 * space above the status bar (the others have no windows and are not
 * drawn). Recomputed from scratch on every resize, zoom and focus change
 * while zoomed; below 80x24 no pane windows exist and tui.c shows a
 * notice instead. */
#include "ui.h"

void layout_free(struct tui *t)
{
    for (int i = 0; i < PANE_COUNT; i++) {
        struct pane *p = &t->panes[i];
        if (p->body)
            delwin(p->body);
        if (p->frame)
            delwin(p->frame);
        p->body = p->frame = NULL;
    }
    if (t->status)
        delwin(t->status);
    t->status = NULL;
}

static void place(struct pane *p, int y, int x, int h, int w)
{
    p->frame = newwin(h, w, y, x);
    p->body = p->frame ? derwin(p->frame, h - 2, w - 2, 1, 1) : NULL;
    if (!p->body) {          /* out of memory in curses: treat as too small */
        if (p->frame)
            delwin(p->frame);
        p->frame = NULL;
        return;
    }
    leaveok(p->frame, TRUE);
    leaveok(p->body, TRUE);
}

void layout_apply(struct tui *t)
{
    layout_free(t);
    t->rows = LINES;
    t->cols = COLS;
    t->full = 1;
    t->status_dirty = 1;
    for (int i = 0; i < PANE_COUNT; i++)
        t->panes[i].dirty = 1;
    t->too_small = t->rows < LAYOUT_MIN_ROWS || t->cols < LAYOUT_MIN_COLS;
    if (t->too_small)
        return;
    int h = t->rows - 1;               /* the last line is the status bar */
    int top = h / 2, bottom = h - top;
    int left = t->cols / 2, right = t->cols - left;
    if (t->zoom) {
        place(&t->panes[t->focus], 0, 0, h, t->cols);
    } else {
        place(&t->panes[PANE_TASKS], 0, 0, top, left);
        place(&t->panes[PANE_RESULTS], 0, left, top, right);
        place(&t->panes[PANE_REGISTRY], top, 0, bottom, left);
        place(&t->panes[PANE_METRICS], top, left, bottom, right);
    }
    t->status = newwin(1, t->cols, t->rows - 1, 0);
    for (int i = 0; i < PANE_COUNT; i++)
        if (!t->panes[i].frame && (!t->zoom || i == t->focus))
            t->too_small = 1;
    if (!t->status)
        t->too_small = 1;
    else
        leaveok(t->status, TRUE);
    if (t->form)
        form_layout(t->form, t->rows, t->cols);
    if (t->approvals.n)
        approvals_layout(&t->approvals, t->rows, t->cols);
    overlay_layout(t);
    if (t->memview)
        memview_layout(t->memview, t->rows, t->cols);
    if (t->elicits.n)
        t->elicits.win = elicit_layout(t->elicits.win, t->elicits.v[0], t->rows, t->cols);
}

int layout_pane_at(const struct tui *t, int y, int x)
{
    for (int i = 0; i < PANE_COUNT; i++) {
        WINDOW *f = t->panes[i].frame;
        if (f && wenclose(f, y, x))
            return i;
    }
    return -1;
}
