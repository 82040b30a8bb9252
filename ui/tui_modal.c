/* tui_modal.c — what model tasks and servers ask while the TUI runs: the
 * engine's approval handler (a destructive tool call waits in approve.c's
 * box for y, or n/Esc) and its elicitation handler (a server's form,
 * elicit.c: Enter accepts, Esc declines, Ctrl-C cancels). Both queue and
 * show the oldest; while one is on screen it takes the keys first (tui.c
 * asks here before anything else). Nothing waits: the loop runs on. Loop
 * thread only. */
#include "tui_int.h"
#include "engine.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

/* === approvals === */

void tui_on_approval(void *payload, struct engine_approval *q, int64_t job,
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
        tui_dirty_all(t);              /* repaint what was under the box */
        if (t->form)
            curs_set(1);
    }
    engine_approval_answer(t->e, it.q, allow);
}

/* While a question is on screen, y and n/Esc answer it; other keys wait.
 * Returns 1 if the key went to the question. */
int tui_approval_key(struct tui *t, int key)
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

void tui_on_elicit(void *payload, struct engine_elicit *req, const char *server,
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
        tui_dirty_all(t);              /* repaint what was under it */
    }
    engine_elicit_answer(t->e, req, action, content);
}

/* While a form is on screen every key goes to it. */
int tui_elicit_handle_key(struct tui *t, int key)
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
