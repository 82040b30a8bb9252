/* pane_registry.c — the Registry pane: one line per server with a state
 * glyph, name, kind, state, tool count, calls/errors and the last error
 * (on a line of its own below the server when there is room).
 * Read from engine_servers() at every draw; scrolls when focused. */
#include "ui.h"
#include "engine.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static enum ui_glyph state_glyph(enum server_state s)
{
    switch (s) {
    case SERVER_READY: return GLYPH_SRV_READY;
    case SERVER_STARTING: return GLYPH_SRV_STARTING;
    case SERVER_FAILED: return GLYPH_SRV_FAILED;
    default: return GLYPH_SRV_STOPPED;
    }
}

static enum theme_el state_el(enum server_state s)
{
    switch (s) {
    case SERVER_READY: return THEME_STATUS_OK;
    case SERVER_STARTING: return THEME_STATUS_RUN;
    case SERVER_FAILED: return THEME_STATUS_FAIL;
    default: return THEME_DIM;
    }
}

static void registry_draw(struct tui *t, struct pane *p)
{
    WINDOW *w = p->body;
    const struct theme *th = &t->theme;
    int h = getmaxy(w), width = getmaxx(w);
    size_t n = engine_servers(t->e, NULL, 0);
    struct engine_server_info *v = xcalloc(n ? n : 1, sizeof *v);
    n = engine_servers(t->e, v, n);
    int namew = 4;
    for (size_t i = 0; i < n; i++) {
        int nw = draw_width(v[i].name, strlen(v[i].name));
        if (nw > namew)
            namew = nw;
    }
    int kindw = width >= 49 ? 8 : 0;   /* narrow: no kind column */
    int maxw = width - (2 + 1 + kindw + 9 + 6 + 10);
    if (namew > 16)
        namew = 16;
    if (namew > maxw)
        namew = maxw > 4 ? maxw : 4;

    /* The last error goes on a line of its own under its server when
     * every such line fits; else it is the last column, cut short. */
    int nerr = 0;
    for (size_t i = 0; i < n; i++)
        nerr += v[i].last_error != NULL;
    struct scroll_state *sc = &t->registry;
    sc->visible = h - 1 > 0 ? h - 1 : 0;
    int below = nerr > 0 && (int)n + nerr <= sc->visible;
    sc->total = (int)n + (below ? nerr : 0);
    pane_scroll_clamp(&sc->top, sc->total, sc->visible);

    wattrset(w, th->attr[THEME_DIM]);
    waddstr(w, "  ");
    draw_cell(w, "NAME", namew + 1);
    if (kindw)
        draw_cell(w, "KIND", kindw);
    draw_cell(w, "STATE", 9);
    draw_cell(w, "TOOLS", 6);
    draw_cell(w, "CALLS/ERR", 11);
    if (!below)
        draw_str(w, "LAST ERROR", width);

    int vrow = 0;                      /* row as if the pane were endless */
    for (size_t i = 0; i < n; i++) {
        const struct engine_server_info *s = &v[i];
        int row = vrow++ - sc->top;
        if (row >= 0 && row < sc->visible) {
            char num[48];
            wmove(w, row + 1, 0);
            wattrset(w, th->attr[state_el(s->state)]);
            draw_str(w, draw_glyph(t->utf8, state_glyph(s->state)), 1);
            wattrset(w, A_NORMAL);
            waddch(w, ' ');
            draw_cell(w, s->name, namew);
            waddch(w, ' ');
            if (kindw)
                draw_cell(w, s->kind ? s->kind : "?", kindw);
            wattrset(w, th->attr[state_el(s->state)]);
            draw_cell(w, server_state_name(s->state), 9);
            wattrset(w, A_NORMAL);
            snprintf(num, sizeof num, "%5d", s->ntools);
            draw_cell(w, num, 6);
            snprintf(num, sizeof num, "%lld/%lld", (long long)s->calls,
                     (long long)s->errors);
            draw_cell(w, num, 11);
            if (s->last_error && !below) {
                wattrset(w, th->attr[THEME_ERROR]);
                draw_str(w, s->last_error, width);
            }
        }
        if (s->last_error && below) {
            row = vrow++ - sc->top;
            if (row >= 0 && row < sc->visible) {
                wmove(w, row + 1, 4);
                wattrset(w, th->attr[THEME_ERROR]);
                draw_str(w, s->last_error, width);
            }
        }
        wattrset(w, A_NORMAL);
    }
    wattrset(w, A_NORMAL);
    free(v);
}

static int registry_key(struct tui *t, struct pane *p, int key)
{
    struct scroll_state *sc = &t->registry;
    return pane_scroll_key(&sc->top, sc->total, sc->visible, key);
}

const struct pane_class pane_registry_class = {"Registry", registry_draw, registry_key};
