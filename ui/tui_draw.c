/* tui_draw.c — the TUI's before-sleep hook: what is dirty is drawn with
 * wnoutrefresh (the panes' frames and bodies, the status bar or the
 * prompt in it, then on top the overlay, the memory overlay, the form, an
 * elicitation form and an approval question, in that order), then one
 * doupdate() for the loop turn. Below 80x24 only a note saying so. Loop
 * thread only. */
#include "tui_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The status bar: global keys around the focused pane's own
 * (pane_class.hints); when a message would not fit, the short form. */
static const char hints_start[] = " ? help  : cmd  n new  Tab/1-4 focus  z zoom  ";
static const char hints_default[] = "";
static const char hints_end[] = "  q quit";
static const char hints_short[] = " ? help  : cmd  q quit";

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

void tui_redraw(struct loop *l, void *payload)
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
