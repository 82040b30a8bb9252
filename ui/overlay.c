/* overlay.c — one modal text box over the panes: the help (?), a job's
 * details (Enter in Tasks), a server's tools and its log (Enter and l in
 * Registry). It scrolls like Results; Esc or q closes it and the panes
 * under it are drawn again. */
#include "ui.h"

#include <stdlib.h>
#include <string.h>

void overlay_close(struct tui *t)
{
    struct overlay *o = t->overlay;
    if (!o)
        return;
    if (o->win)
        delwin(o->win);
    results_free(&o->rs);
    free(o->title);
    free(o);
    t->overlay = NULL;
    tui_dirty_all(t);
}

void overlay_layout(struct tui *t)
{
    struct overlay *o = t->overlay;
    if (!o)
        return;
    if (o->win)
        delwin(o->win);
    o->win = NULL;
    if (t->too_small)
        return;
    int h = t->rows - 3, w = t->cols - 6;
    if (w > 110)
        w = 110;
    if (h < 5 || w < 20)
        return;
    o->win = newwin(h, w, 1, (t->cols - w) / 2);
    if (o->win)
        leaveok(o->win, TRUE);
    o->rs.width = 0;                   /* wrap again */
}

void overlay_open(struct tui *t, const char *title, struct buf *b)
{
    if (t->overlay) {
        struct overlay *old = t->overlay;
        if (old->win)
            delwin(old->win);
        results_free(&old->rs);
        free(old->title);
        free(old);
    }
    struct overlay *o = xcalloc(1, sizeof *o);
    o->title = xstrdup(title);
    results_set_text(&o->rs, b->data ? b->data : "", b->len, THEME_COUNT);
    buf_fini(b);
    t->overlay = o;
    overlay_layout(t);
    tui_dirty_all(t);
}

void overlay_draw(struct tui *t)
{
    struct overlay *o = t->overlay;
    if (!o || !o->win)
        return;
    WINDOW *w = o->win;
    werase(w);
    draw_frame(w, o->title, 1, &t->theme);
    int h = getmaxy(w), width = getmaxx(w);
    WINDOW *in = derwin(w, h - 2, width - 4, 1, 2);
    if (in) {
        results_render(in, &t->theme, &o->rs);
        delwin(in);
    }
    char pos[64];
    int n = snprintf(pos, sizeof pos, " %d-%d/%zu  Esc closes ", o->rs.top + 1,
                     o->rs.top + o->rs.visible < (int)o->rs.nlines ? o->rs.top + o->rs.visible
                                                                   : (int)o->rs.nlines,
                     o->rs.nlines);
    if (n + 4 < width) {
        wattrset(w, t->theme.attr[THEME_DIM]);
        mvwaddstr(w, h - 1, width - n - 2, pos);
        wattrset(w, A_NORMAL);
    }
    wnoutrefresh(w);
}

int overlay_key(struct tui *t, int key)
{
    struct overlay *o = t->overlay;
    if (key == 27 || key == 'q' || (key == '?' && strcmp(o->title, "Help") == 0)) {
        overlay_close(t);
        return 1;
    }
    if (key == ' ')
        key = UK_NPAGE;
    if (pane_scroll_key(&o->rs.top, (int)o->rs.nlines, o->rs.visible, key))
        t->overlay_dirty = 1;
    return 0;
}
