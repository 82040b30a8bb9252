/* prompt.c — the one-line prompt that takes over the status bar: ":"
 * commands, "/" the Tasks filter, and the path for saving a result. Only
 * the editing is here; tui_draw.c draws it and tui.c acts on what it
 * returns. */
#include "ui.h"

#include <string.h>

/* Drop the last UTF-8 character of b. */
static void drop_char(struct buf *b)
{
    while (b->len > 0) {
        unsigned char c = (unsigned char)b->data[--b->len];
        if ((c & 0xc0) != 0x80)
            break;
    }
    if (b->data)
        b->data[b->len] = 0;
}

enum prompt_action prompt_key(struct prompt *p, int key)
{
    switch (key) {
    case '\n': case '\r': case UK_ENTER:
        return PROMPT_DONE;
    case 27:
        return PROMPT_CANCEL;
    case '\t':
        return PROMPT_COMPLETE;
    case UK_BACKSPACE: case 127: case 8:
        if (!p->text.len)
            return PROMPT_CANCEL;      /* backspace on nothing leaves, as in vi */
        drop_char(&p->text);
        return PROMPT_NONE;
    }
    if (key == ui_ctrl('u')) {
        buf_consume(&p->text, p->text.len);
        return PROMPT_NONE;
    }
    if (key == ui_ctrl('w')) {
        while (p->text.len && p->text.data[p->text.len - 1] == ' ')
            drop_char(&p->text);
        while (p->text.len && p->text.data[p->text.len - 1] != ' ')
            drop_char(&p->text);
        return PROMPT_NONE;
    }
    if (key >= 32 && key != 127) {
        char u[8];
        int n = 0;
        unsigned c = (unsigned)key;
        if (c < 0x80) {
            u[n++] = (char)c;
        } else if (c < 0x800) {
            u[n++] = (char)(0xc0 | (c >> 6));
            u[n++] = (char)(0x80 | (c & 0x3f));
        } else if (c < 0x10000) {
            u[n++] = (char)(0xe0 | (c >> 12));
            u[n++] = (char)(0x80 | ((c >> 6) & 0x3f));
            u[n++] = (char)(0x80 | (c & 0x3f));
        } else if (c < 0x110000) {
            u[n++] = (char)(0xf0 | (c >> 18));
            u[n++] = (char)(0x80 | ((c >> 12) & 0x3f));
            u[n++] = (char)(0x80 | ((c >> 6) & 0x3f));
            u[n++] = (char)(0x80 | (c & 0x3f));
        }
        buf_append(&p->text, u, (size_t)n);
    }
    return PROMPT_NONE;
}
