/* approve.c — the questions a model task asks before a destructive tool
 * call ("model wants server.tool {args}: allow? y/n"), queued in arrival
 * order and shown one at a time in a small modal box above the panes.
 *
 * tui_modal.c is the engine's approval handler: it pushes each question
 * here and answers the front one on y / n / Esc with
 * engine_approval_answer(); tui.c drops a job's questions when the job
 * ends (the engine forgets them then). Nothing here waits: the loop
 * keeps running while a question is open. Loop thread only. */
#include "ui.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

enum { APPROVE_HEIGHT = 8, APPROVE_MAX_WIDTH = 76, APPROVE_ARGS_MAX = 300 };

char *approve_describe(const char *server, const char *tool, const struct cJSON *args)
{
    char *a = args ? cJSON_PrintUnformatted(args) : NULL;
    struct buf b;
    buf_init(&b);
    buf_printf(&b, "%s.%s ", server ? server : "?", tool ? tool : "?");
    const char *s = a ? a : "{}";
    size_t n = strlen(s);
    if (n > APPROVE_ARGS_MAX) {
        n = APPROVE_ARGS_MAX;
        while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
            n--;                       /* not inside a character */
        buf_append(&b, s, n);
        buf_puts(&b, "\xe2\x80\xa6");  /* … */
    } else {
        buf_append(&b, s, n);
    }
    if (a)
        cJSON_free(a);
    return buf_detach(&b);
}

void approvals_push(struct approvals *a, struct engine_approval *q, int64_t job, char *what)
{
    if (a->n == a->cap) {
        a->cap = a->cap ? a->cap * 2 : 4;
        a->v = xrealloc(a->v, a->cap * sizeof *a->v);
    }
    a->v[a->n++] = (struct approval_item){q, job, what};
}

int approvals_pop(struct approvals *a, struct approval_item *out)
{
    if (!a->n)
        return 0;
    *out = a->v[0];
    memmove(&a->v[0], &a->v[1], (a->n - 1) * sizeof *a->v);
    a->n--;
    return 1;
}

size_t approvals_drop_job(struct approvals *a, int64_t job)
{
    size_t kept = 0, dropped = 0;
    for (size_t i = 0; i < a->n; i++) {
        if (a->v[i].job == job) {
            free(a->v[i].what);
            dropped++;
        } else {
            a->v[kept++] = a->v[i];
        }
    }
    a->n = kept;
    return dropped;
}

void approvals_fini(struct approvals *a)
{
    for (size_t i = 0; i < a->n; i++)
        free(a->v[i].what);
    free(a->v);
    if (a->win)
        delwin(a->win);
    memset(a, 0, sizeof *a);
}

void approvals_layout(struct approvals *a, int rows, int cols)
{
    if (a->win)
        delwin(a->win);
    a->win = NULL;
    int w = cols - 4 < APPROVE_MAX_WIDTH ? cols - 4 : APPROVE_MAX_WIDTH;
    if (w < 20 || rows < APPROVE_HEIGHT)
        return;
    a->win = newwin(APPROVE_HEIGHT, w, (rows - APPROVE_HEIGHT) / 2, (cols - w) / 2);
    if (a->win)
        leaveok(a->win, TRUE);
}

void approvals_render(WINDOW *w, const struct theme *th, const struct approvals *a)
{
    if (!w || !a->n)
        return;
    int width = getmaxx(w), inner = width - 4, h = getmaxy(w);
    werase(w);
    char title[48];
    if (a->n > 1)
        snprintf(title, sizeof title, "Approve? (1 of %zu)", a->n);
    else
        snprintf(title, sizeof title, "Approve?");
    draw_frame(w, title, 1, th);
    const struct approval_item *it = &a->v[0];
    char *line = xasprintf("job %lld: model wants %s: allow? y/n", (long long)it->job, it->what);
    /* wrapped over the rows between the border and the key line */
    const char *s = line;
    size_t n = strlen(s);
    for (int row = 1; row < h - 2 && n > 0; row++) {
        size_t k = draw_fit(s, n, inner, NULL);
        if (k == 0)
            k = 1;
        if (row == h - 3 && k < n) {   /* the last row: end on the question */
            static const char tail[] = "\xe2\x80\xa6: allow? y/n";
            int tw = draw_width(tail, strlen(tail));
            k = draw_fit(s, n, inner - tw, NULL);
            wmove(w, row, 2);
            draw_nstr(w, s, k, inner);
            draw_str(w, tail, inner);
            break;
        }
        if (k < n) {                   /* break after a space when there is one */
            size_t sp = k;
            while (sp > 0 && s[sp - 1] != ' ')
                sp--;
            if (sp > 1)
                k = sp;
        }
        wmove(w, row, 2);
        draw_nstr(w, s, k, inner);
        s += k;
        n -= k;
    }
    free(line);
    wattrset(w, th->attr[THEME_DIM]);
    wmove(w, h - 2, 2);
    draw_str(w, "y allow  n/Esc refuse", inner);
    wattrset(w, A_NORMAL);
    wnoutrefresh(w);
}
