/* paste.c — bracketed paste. While the TUI has the terminal, bracketed
 * paste mode is on (ESC[?2004h; tui.c turns it off on exit and while
 * $PAGER or $EDITOR runs): the terminal wraps a paste in ESC[200~ ...
 * ESC[201~, which curses returns as the keys UK_PASTE_BEGIN and
 * UK_PASTE_END (paste_define_keys). Every key read goes through
 * paste_key first: between the brackets the characters are collected as
 * UTF-8 text, and at the end the whole text goes to the focused text
 * field — the form's field (form_paste), the status-bar prompt, the
 * memory overlay's boxes. A paste therefore never submits, cancels or
 * runs a key binding; with no text field focused (or a question on
 * screen) it is dropped with a note in the status bar. */
#include "ui.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <wchar.h>

void paste_mode(int on)
{
    static const char seq_on[] = "\033[?2004h", seq_off[] = "\033[?2004l";
    fflush(stdout);
    ssize_t n = write(STDOUT_FILENO, on ? seq_on : seq_off, sizeof seq_on - 1);
    (void)n;                           /* nothing to do about a terminal gone */
}

void paste_define_keys(void)
{
    define_key("\033[200~", UI_KEY_PASTE_BEGIN);
    define_key("\033[201~", UI_KEY_PASTE_END);
}

/* Pasted text into a one-line prompt: line breaks and tabs as spaces,
 * other control characters dropped. */
static void prompt_paste(struct prompt *p, const char *text)
{
    for (const char *s = text; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '\r' && s[1] == '\n')
            continue;
        if (c == '\n' || c == '\r' || c == '\t')
            buf_putc(&p->text, ' ');
        else if (c >= 32 && c != 127)
            buf_putc(&p->text, (char)c);
    }
}

/* The text of the paste to the text field with the focus, in the order
 * tui.c hands keys on. */
static void deliver(struct tui *t, const char *text)
{
    int taken = 0;
    if ((t->approvals.n && t->approvals.win) || (t->elicits.n && t->elicits.win)) {
        taken = 0;                     /* a question on screen takes no text */
    } else if (t->form) {
        taken = form_paste(t->form, text);
        t->form_dirty = 1;
    } else if (t->prompt) {
        prompt_paste(t->prompt, text);
        t->status_dirty = 1;
        if (t->prompt->kind == PROMPT_FILTER)
            tasks_cmd_filter(t, t->prompt->text.data);   /* the list follows */
        taken = 1;
    } else if (t->memview && t->memview->focus != MEMVIEW_LIST &&
               t->memview->focus != MEMVIEW_CONFIRM) {
        struct memview *mv = t->memview;
        prompt_paste(mv->focus == MEMVIEW_BOX ? &mv->query
                     : mv->focus == MEMVIEW_ADD ? &mv->input : &mv->ns, text);
        mv->dirty = 1;
        taken = 1;
    }
    if (!taken)
        tui_message(t, 0, "paste ignored: no text field has the focus");
}

static void paste_end(struct tui *t)
{
    struct paste *p = &t->paste;
    p->open = 0;
    if (p->text.len)
        deliver(t, p->text.data);
    buf_consume(&p->text, p->text.len);
}

int paste_key(struct tui *t, int key, int64_t now_ms)
{
    struct paste *p = &t->paste;
    if (p->open && key != UK_PASTE_END && now_ms - p->last_ms > PASTE_IDLE_MS)
        paste_end(t);                  /* its end never came */
    p->last_ms = now_ms;
    if (key == UK_PASTE_BEGIN) {
        if (p->open)
            paste_end(t);
        p->open = 1;
        return 1;
    }
    if (key == UK_PASTE_END) {
        if (p->open)
            paste_end(t);
        return 1;                      /* a stray end is dropped too */
    }
    if (!p->open || key == UK_RESIZE)
        return 0;
    if (key > 0 && p->text.len < PASTE_MAX) {
        char mb[MB_LEN_MAX];
        mbstate_t st;
        memset(&st, 0, sizeof st);
        size_t n = wcrtomb(mb, (wchar_t)key, &st);
        if (n != (size_t)-1)
            buf_append(&p->text, mb, n);
    }
    return 1;
}

void paste_fini(struct tui *t)
{
    buf_fini(&t->paste.text);
    t->paste.open = 0;
}
