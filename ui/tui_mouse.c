/* tui_mouse.c — clicks, where the terminal reports them (tui.c turns the
 * mouse on): a click focuses the pane under it and selects the row in
 * Tasks or Registry; a double click runs what Enter runs there. Loop
 * thread only. */
#include "tui_int.h"
#include "engine.h"

#include <stdlib.h>

void tui_mouse_event(struct tui *t)
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
