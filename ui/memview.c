/* memview.c — the memory overlay (m): a search box over the engine's
 * memory store, the hits (score, namespace, id, the text's first line),
 * adding an entry and deleting the selected one.
 *
 * Focus is on the search box when it opens: typing edits the query and
 * Enter runs a hybrid search on the worker pool ("searching…" meanwhile;
 * the loop never waits), then the focus moves to the list. In the list
 * Up/Down (j/k) select, a adds (a line for the text; Tab switches to the
 * namespace, prefilled with the store's default), d deletes the selected
 * entry after a y, / or Tab goes back to the box; Esc closes (or leaves
 * the add line or the question). A search still running when the overlay
 * closes is let go: its answer is dropped. */
#include "ui.h"
#include "engine.h"

#include <stdlib.h>
#include <string.h>

/* One search in flight; mv is cleared when the overlay goes first. */
struct memview_req {
    struct memview *mv;
};

static void hits_clear(struct memview *mv)
{
    engine_memory_hits_free(mv->hits, mv->n);
    mv->hits = NULL;
    mv->n = 0;
    mv->sel = 0;
    mv->top = 0;
}

static void set_status(struct memview *mv, int is_error, char *msg)
{
    free(mv->status);
    mv->status = msg;
    mv->status_error = is_error;
}

struct memview *memview_new(struct engine *e)
{
    struct memview *mv = xcalloc(1, sizeof *mv);
    mv->e = e;
    mv->focus = MEMVIEW_BOX;
    buf_puts(&mv->ns.text, engine_memory_default_ns(e));
    return mv;
}

void memview_free(struct memview *mv)
{
    if (!mv)
        return;
    if (mv->pending)
        mv->pending->mv = NULL;        /* its answer is dropped */
    if (mv->win)
        delwin(mv->win);
    hits_clear(mv);
    buf_fini(&mv->query.text);
    buf_fini(&mv->input.text);
    buf_fini(&mv->ns.text);
    free(mv->status);
    free(mv->note);
    free(mv);
}

static void search_done(void *payload, struct engine_memory_hit *hits, size_t n,
                        const char *error)
{
    struct memview_req *r = payload;
    struct memview *mv = r->mv;
    free(r);
    if (!mv) {
        engine_memory_hits_free(hits, n);
        return;
    }
    mv->pending = NULL;
    mv->dirty = 1;
    hits_clear(mv);
    if (error) {
        set_status(mv, 1, xasprintf("search failed: %s", error));
        engine_memory_hits_free(hits, n);
        return;
    }
    mv->hits = hits;
    mv->n = n;
    set_status(mv, 0, xasprintf("%s%s%zu hit%s for \"%s\"", mv->note ? mv->note : "",
                                mv->note ? "; " : "", n, n == 1 ? "" : "s",
                                mv->query.text.data ? mv->query.text.data : ""));
    free(mv->note);
    mv->note = NULL;
}

void memview_search(struct memview *mv)
{
    const char *q = mv->query.text.data ? mv->query.text.data : "";
    if (mv->pending)
        mv->pending->mv = NULL;        /* a newer search replaces it */
    struct memview_req *r = xcalloc(1, sizeof *r);
    r->mv = mv;
    mv->pending = r;
    set_status(mv, 0, xstrdup("searching…"));
    mv->dirty = 1;
    engine_memory_search_async(mv->e, q, NULL, MEMVIEW_K, search_done, r);   /* may answer now */
}

int memview_busy(const struct memview *mv)
{
    return mv->pending != NULL;
}

/* Delete the selected entry (after the y). */
static void delete_selected(struct memview *mv)
{
    if (mv->sel < 0 || (size_t)mv->sel >= mv->n)
        return;
    int64_t id = mv->hits[mv->sel].id;
    char *err = NULL;
    int rc = engine_memory_delete(mv->e, id, &err);
    if (rc < 0) {
        set_status(mv, 1, xasprintf("delete %lld: %s", (long long)id, err ? err : "failed"));
        free(err);
        return;
    }
    /* it goes from the list at once */
    struct engine_memory_hit *h = &mv->hits[mv->sel];
    free(h->ns);
    free(h->text);
    memmove(h, h + 1, (mv->n - (size_t)mv->sel - 1) * sizeof *h);
    mv->n--;
    if (mv->sel >= (int)mv->n && mv->sel > 0)
        mv->sel--;
    set_status(mv, 0, rc == 1 ? xasprintf("entry %lld was already gone", (long long)id)
                              : xasprintf("deleted entry %lld", (long long)id));
}

static void add_entry(struct memview *mv)
{
    const char *text = mv->input.text.data ? mv->input.text.data : "";
    const char *ns = mv->ns.text.data && *mv->ns.text.data ? mv->ns.text.data : NULL;
    if (!*text) {
        set_status(mv, 1, xstrdup("nothing to add: the text is empty"));
        return;
    }
    int64_t id = 0;
    char *err = NULL;
    int rc = engine_memory_add(mv->e, ns, text, &id, &err);
    if (rc < 0) {
        set_status(mv, 1, xasprintf("add: %s", err ? err : "failed"));
        free(err);
        return;
    }
    set_status(mv, 0, xasprintf("%s entry %lld in %s", rc == 1 ? "already there:" : "added",
                                (long long)id, ns ? ns : engine_memory_default_ns(mv->e)));
    buf_consume(&mv->input.text, mv->input.text.len);
    mv->focus = MEMVIEW_LIST;
    if (mv->query.text.len) {
        free(mv->note);
        mv->note = xstrdup(mv->status);   /* kept in front of the hit count */
        memview_search(mv);            /* show it if it matches */
    }
}

/* Keys on a text line (the box, the add text or namespace): Esc and
 * Backspace on nothing are handled by the caller. */
static enum prompt_action line_key(struct prompt *p, int key)
{
    if ((key == UK_BACKSPACE || key == 127 || key == 8) && !p->text.len)
        return PROMPT_NONE;
    return prompt_key(p, key);
}

int memview_key(struct memview *mv, int key)
{
    mv->dirty = 1;
    switch (mv->focus) {
    case MEMVIEW_BOX:
        if (key == 27)
            return 1;
        if (key == UK_DOWN || key == '\t') {
            mv->focus = MEMVIEW_LIST;
            return 0;
        }
        if (line_key(&mv->query, key) == PROMPT_DONE) {
            memview_search(mv);
            mv->focus = MEMVIEW_LIST;
        }
        return 0;
    case MEMVIEW_ADD:
    case MEMVIEW_ADD_NS: {
        if (key == 27) {
            mv->focus = MEMVIEW_LIST;
            set_status(mv, 0, NULL);
            return 0;
        }
        struct prompt *p = mv->focus == MEMVIEW_ADD ? &mv->input : &mv->ns;
        enum prompt_action a = line_key(p, key);
        if (a == PROMPT_COMPLETE)
            mv->focus = mv->focus == MEMVIEW_ADD ? MEMVIEW_ADD_NS : MEMVIEW_ADD;
        else if (a == PROMPT_DONE)
            add_entry(mv);
        return 0;
    }
    case MEMVIEW_CONFIRM:
        if (key == 'y' || key == 'Y')
            delete_selected(mv);
        else
            set_status(mv, 0, xstrdup("kept"));
        mv->focus = MEMVIEW_LIST;
        return 0;
    case MEMVIEW_LIST:
        break;
    }
    switch (key) {
    case 27: case 'q':
        return 1;
    case '/': case '\t': case UK_BTAB:
        mv->focus = MEMVIEW_BOX;
        return 0;
    case 'a':
        mv->focus = MEMVIEW_ADD;
        set_status(mv, 0, NULL);
        return 0;
    case 'd':
        if (mv->n && mv->sel >= 0 && (size_t)mv->sel < mv->n) {
            mv->focus = MEMVIEW_CONFIRM;
            set_status(mv, 0, xasprintf("delete entry %lld? y/n", (long long)mv->hits[mv->sel].id));
        }
        return 0;
    case UK_UP: case 'k':
        if (mv->sel > 0)
            mv->sel--;
        else if (mv->sel == 0)
            mv->focus = MEMVIEW_BOX;
        return 0;
    case UK_DOWN: case 'j':
        if ((size_t)mv->sel + 1 < mv->n)
            mv->sel++;
        return 0;
    case UK_HOME: case 'g':
        mv->sel = 0;
        return 0;
    case UK_END: case 'G':
        mv->sel = mv->n ? (int)mv->n - 1 : 0;
        return 0;
    }
    mv->dirty = 0;
    return 0;
}

const char *memview_selected_text(const struct memview *mv)
{
    if (mv->sel < 0 || (size_t)mv->sel >= mv->n)
        return NULL;
    return mv->hits[mv->sel].text;
}

void memview_layout(struct memview *mv, int rows, int cols)
{
    if (mv->win)
        delwin(mv->win);
    mv->win = NULL;
    int h = rows - 3, w = cols - 6;
    if (w > 110)
        w = 110;
    if (h < 10 || w < 40)
        return;
    mv->win = newwin(h, w, 1, (cols - w) / 2);
}

/* "label text_" on row y: the text's end in view, the cursor shown when
 * the line has the focus. */
static void draw_line(WINDOW *w, int y, const char *label, const struct prompt *p, int focused,
                      const struct theme *th, int inner)
{
    wmove(w, y, 2);
    wattrset(w, focused ? th->attr[THEME_TITLE] : A_NORMAL);
    draw_str(w, label, inner);
    wattrset(w, focused ? th->attr[THEME_SELECTED] : A_UNDERLINE);
    int room = inner - (getcurx(w) - 2) - 1;
    const char *text = p->text.data ? p->text.data : "";
    size_t len = strlen(text), from = 0;
    while (from < len && draw_width(text + from, len - from) > room)
        from++;
    while (from < len && ((unsigned char)text[from] & 0xc0) == 0x80)
        from++;
    int used = draw_str(w, text + from, room);
    if (focused) {
        wattrset(w, A_REVERSE);
        waddch(w, ' ');
        used++;
    }
    wattrset(w, focused ? th->attr[THEME_SELECTED] : A_UNDERLINE);
    for (; used < room + 1 && getcurx(w) < 2 + inner; used++)
        waddch(w, ' ');
    wattrset(w, A_NORMAL);
}

void memview_draw(struct memview *mv, const struct theme *th)
{
    WINDOW *w = mv->win;
    if (!w)
        return;
    int h = getmaxy(w), width = getmaxx(w), inner = width - 4;
    werase(w);
    draw_frame(w, "Memory", 1, th);
    draw_line(w, 1, "Search: ", &mv->query, mv->focus == MEMVIEW_BOX, th, inner);
    wmove(w, 2, 2);
    wattrset(w, th->attr[THEME_DIM]);
    draw_str(w, mv->focus == MEMVIEW_BOX
                    ? "Enter searches (hybrid)  Down/Tab the list  Esc closes"
                    : "Up/Down select  a add  d delete  / search  Esc closes",
             inner);
    wmove(w, 3, 2);
    wattrset(w, th->attr[THEME_HEADING]);
    draw_printf(w, inner, "%-8s %-12s %6s  %s", "score", "namespace", "id", "text");
    wattrset(w, A_NORMAL);
    /* the hits: rows 4 .. h-4; the last rows are the add line and status */
    int first = 4, last = h - 4, visible = last - first + 1;
    if (visible < 1)
        visible = 1;
    if (mv->sel < mv->top)
        mv->top = mv->sel;
    if (mv->sel >= mv->top + visible)
        mv->top = mv->sel - visible + 1;
    for (int r = 0; r < visible && (size_t)(mv->top + r) < mv->n; r++) {
        const struct engine_memory_hit *hit = &mv->hits[mv->top + r];
        int selected = mv->top + r == mv->sel && mv->focus != MEMVIEW_BOX;
        wmove(w, first + r, 2);
        wattrset(w, selected ? th->attr[THEME_SELECTED] : A_NORMAL);
        char head[64];
        snprintf(head, sizeof head, "%-8.4f %-12.12s %6lld  ", hit->score, hit->ns,
                 (long long)hit->id);
        draw_str(w, head, inner);
        size_t n = strcspn(hit->text, "\n");
        draw_nstr(w, hit->text, n, inner - (getcurx(w) - 2));
        if (selected)
            while (getcurx(w) < 2 + inner)
                waddch(w, ' ');
        wattrset(w, A_NORMAL);
    }
    if (!mv->n && !mv->pending) {
        wmove(w, first, 2);
        wattrset(w, th->attr[THEME_DIM]);
        draw_str(w, mv->query.text.len ? "(no hits)" : "(type a query and press Enter)", inner);
        wattrset(w, A_NORMAL);
    }
    if (mv->focus == MEMVIEW_ADD || mv->focus == MEMVIEW_ADD_NS) {
        draw_line(w, h - 3, "Namespace: ", &mv->ns, mv->focus == MEMVIEW_ADD_NS, th, inner);
        draw_line(w, h - 2, "Add: ", &mv->input, mv->focus == MEMVIEW_ADD, th, inner);
    } else if (mv->status) {
        wmove(w, h - 2, 2);
        wattrset(w, mv->status_error ? th->attr[THEME_ERROR] : A_NORMAL);
        draw_str(w, mv->status, inner);
        wattrset(w, A_NORMAL);
    }
    mv->dirty = 0;
    wnoutrefresh(w);
}
