/* form.c — the new-task form: a small modal window with two single-line
 * fields, "Tool (server.tool)" and "Args (JSON)" (default {}), edited in
 * place (Left/Right, Home/End, Backspace/Delete, Ctrl-U), Tab/Shift-Tab
 * between fields, Enter on the last field or Ctrl-S to submit, Esc to
 * cancel. A default value ({} for the arguments) is shown dimmed until
 * the field is edited; typing into it replaces it. tui.c submits the
 * texts and shows an error here when the engine refuses them. Text is
 * kept as wide characters so the cursor moves by character and scrolls
 * by display column. */
#include "ui.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>
#include <wctype.h>

enum { NFIELDS = 2, FORM_HEIGHT = 10, FORM_MAX_WIDTH = 76 };

struct field {
    const char *label;
    wchar_t *buf;                /* NUL-terminated */
    size_t len, cap;
    size_t cur;                  /* cursor: index into buf */
    size_t scroll;               /* first character shown */
    int pristine;                /* still the default: typing replaces it */
};

struct form {
    WINDOW *win;
    struct field f[NFIELDS];
    int focus;
    char *error;
};

static void field_set(struct field *fl, const wchar_t *s)
{
    fl->len = wcslen(s);
    if (fl->cap < fl->len + 1) {
        fl->cap = fl->len + 16;
        fl->buf = xrealloc(fl->buf, fl->cap * sizeof *fl->buf);
    }
    wmemcpy(fl->buf, s, fl->len + 1);
    fl->cur = fl->len;
    fl->scroll = 0;
}

static void field_insert(struct field *fl, wchar_t c)
{
    if (fl->len + 2 > fl->cap) {
        fl->cap = fl->cap * 2 + 16;
        fl->buf = xrealloc(fl->buf, fl->cap * sizeof *fl->buf);
    }
    wmemmove(fl->buf + fl->cur + 1, fl->buf + fl->cur, fl->len - fl->cur + 1);
    fl->buf[fl->cur++] = c;
    fl->len++;
}

static void field_delete(struct field *fl, size_t at)
{
    if (at >= fl->len)
        return;
    wmemmove(fl->buf + at, fl->buf + at + 1, fl->len - at);
    fl->len--;
    if (fl->cur > at)
        fl->cur--;
}

struct form *form_new(void)
{
    struct form *f = xcalloc(1, sizeof *f);
    f->f[0].label = "Tool (server.tool)";
    f->f[1].label = "Args (JSON)";
    field_set(&f->f[0], L"");
    field_set(&f->f[1], L"{}");
    f->f[1].pristine = 1;
    return f;
}

void form_free(struct form *f)
{
    if (!f)
        return;
    if (f->win)
        delwin(f->win);
    for (int i = 0; i < NFIELDS; i++)
        free(f->f[i].buf);
    free(f->error);
    free(f);
}

void form_set_error(struct form *f, char *err)
{
    free(f->error);
    f->error = err;
}

char *form_text(const struct form *f, int field)
{
    if (field < 0 || field >= NFIELDS)
        return xstrdup("");
    struct buf b;
    buf_init(&b);
    mbstate_t st;
    memset(&st, 0, sizeof st);
    for (size_t i = 0; i < f->f[field].len; i++) {
        char mb[MB_LEN_MAX];
        size_t k = wcrtomb(mb, f->f[field].buf[i], &st);
        if (k == (size_t)-1) {
            buf_putc(&b, '?');
            memset(&st, 0, sizeof st);
        } else {
            buf_append(&b, mb, k);
        }
    }
    return b.data ? buf_detach(&b) : xstrdup("");
}

enum form_action form_key(struct form *f, int key)
{
    struct field *fl = &f->f[f->focus];
    int was_pristine = fl->pristine;
    fl->pristine = 0;                          /* unless the key only moves focus */
    switch (key) {
    case 27:                                   /* Esc */
        return FORM_CANCEL;
    case '\t': case UK_DOWN:
        fl->pristine = was_pristine;
        f->focus = (f->focus + 1) % NFIELDS;
        return FORM_NONE;
    case UK_BTAB: case UK_UP:
        fl->pristine = was_pristine;
        f->focus = (f->focus + NFIELDS - 1) % NFIELDS;
        return FORM_NONE;
    case '\n': case '\r': case UK_ENTER:
        fl->pristine = was_pristine;
        if (f->focus < NFIELDS - 1) {
            f->focus++;
            return FORM_NONE;
        }
        return FORM_SUBMIT;
    case 19:                                   /* Ctrl-S */
        fl->pristine = was_pristine;
        return FORM_SUBMIT;
    case UK_LEFT:
        if (fl->cur > 0)
            fl->cur--;
        return FORM_NONE;
    case UK_RIGHT:
        if (fl->cur < fl->len)
            fl->cur++;
        return FORM_NONE;
    case UK_HOME: case 1:                      /* Ctrl-A */
        fl->cur = 0;
        return FORM_NONE;
    case UK_END: case 5:                       /* Ctrl-E */
        fl->cur = fl->len;
        return FORM_NONE;
    case UK_BACKSPACE: case 127: case 8:
        if (fl->cur > 0)
            field_delete(fl, fl->cur - 1);
        return FORM_NONE;
    case UK_DC: case 4:                        /* Delete, Ctrl-D */
        field_delete(fl, fl->cur);
        return FORM_NONE;
    case 21:                                   /* Ctrl-U: clear */
        field_set(fl, L"");
        return FORM_NONE;
    default:
        if (key >= 32 && key != 127 && iswprint((wint_t)key)) {
            if (was_pristine)
                field_set(fl, L"");
            field_insert(fl, (wchar_t)key);
        } else {
            fl->pristine = was_pristine;       /* an unbound key changes nothing */
        }
        return FORM_NONE;
    }
}

void form_layout(struct form *f, int rows, int cols)
{
    if (f->win)
        delwin(f->win);
    int w = cols - 4 < FORM_MAX_WIDTH ? cols - 4 : FORM_MAX_WIDTH;
    int h = FORM_HEIGHT;
    f->win = NULL;
    if (w < 20 || rows < h)
        return;
    f->win = newwin(h, w, (rows - h) / 2, (cols - w) / 2);
}

static int wc_cols(wchar_t c)
{
    int n = wcwidth(c);
    return n < 0 ? 1 : n;
}

/* Draw fl in width columns at (y, x), scrolled so the cursor shows;
 * returns the cursor's column. */
static int field_draw(WINDOW *w, struct field *fl, int y, int x, int width, attr_t attr)
{
    if (fl->scroll > fl->cur)
        fl->scroll = fl->cur;
    for (;;) {
        int used = 0;
        for (size_t i = fl->scroll; i < fl->cur; i++)
            used += wc_cols(fl->buf[i]);
        if (used < width || fl->scroll >= fl->cur)
            break;
        fl->scroll++;
    }
    wattrset(w, attr);
    mvwhline(w, y, x, ' ', width);
    wmove(w, y, x);
    int col = 0, curcol = 0;
    for (size_t i = fl->scroll; i <= fl->len; i++) {
        if (i == fl->cur)
            curcol = col;
        if (i == fl->len)
            break;
        wchar_t c = fl->buf[i];
        int cw = wc_cols(c);
        if (col + cw > width)
            break;
        if (wcwidth(c) < 0)
            waddch(w, '?');
        else
            waddnwstr(w, &c, 1);
        col += cw;
    }
    wattrset(w, A_NORMAL);
    return x + curcol;
}

void form_draw(struct form *f, const struct theme *th)
{
    WINDOW *w = f->win;
    if (!w)
        return;
    int width = getmaxx(w), inner = width - 4;
    werase(w);
    draw_frame(w, "New task", 1, th);
    int cury = 0, curx = 0;
    for (int i = 0; i < NFIELDS; i++) {
        int y = 1 + i * 2;
        wmove(w, y, 2);
        wattrset(w, i == f->focus ? th->attr[THEME_TITLE] : A_NORMAL);
        draw_str(w, f->f[i].label, inner);
        wattrset(w, A_NORMAL);
        attr_t a = i == f->focus ? th->attr[THEME_SELECTED] : A_UNDERLINE;
        if (f->f[i].pristine)
            a |= A_DIM;
        int cx = field_draw(w, &f->f[i], y + 1, 2, inner, a);
        if (i == f->focus) {
            cury = y + 1;
            curx = cx;
        }
    }
    if (f->error) {
        /* up to two lines of the error */
        wattrset(w, th->attr[THEME_ERROR]);
        const char *s = f->error;
        size_t n = strlen(s);
        for (int row = 6; row < 8 && n > 0; row++) {
            size_t k = draw_fit(s, n, inner, NULL);
            if (k == 0)
                k = 1;
            wmove(w, row, 2);
            draw_nstr(w, s, k, inner);
            s += k;
            n -= k;
            if (n && *s == '\n') {
                s++;
                n--;
            }
        }
        wattrset(w, A_NORMAL);
    }
    wattrset(w, th->attr[THEME_DIM]);
    wmove(w, 8, 2);
    draw_str(w, "Enter next/submit  Tab field  Ctrl-S submit  Esc cancel", inner);
    wattrset(w, A_NORMAL);
    wmove(w, cury, curx);
    wnoutrefresh(w);
}
