/* form.c — the new-task form: a small modal window with a Kind row and
 * two single-line fields. The kind is a tool call (fields "Tool
 * (server.tool)" and "Args (JSON)", default {}) or a model task type,
 * generate ... deploy (fields "Prompt" and "Model", empty = the type's
 * default). On the Kind row Left/Right/Space or a type's first letter
 * change it; Ctrl-T changes it from any row. Text fields are edited in
 * place (Left/Right, Home/End, Backspace/Delete, Ctrl-U); Tab/Shift-Tab
 * move between rows, Enter on the last field or Ctrl-S submits, Esc
 * cancels. The form opens on the first text field. A default value ({}
 * for the arguments) is shown dimmed until the field is edited; typing
 * into it replaces it. tui.c submits the texts and shows an error here
 * when the engine refuses them. Text is kept as wide characters so the
 * cursor moves by character and scrolls by display column. */
#include "ui.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>
#include <wctype.h>

enum { NROWS = 3, FORM_HEIGHT = 11, FORM_MAX_WIDTH = 76, ERROR_ROWS = 3 };

/* kinds[0] is a tool call; the rest are the model task types */
static const char *const kinds[] = {"tool", "generate", "refactor", "debug",
                                    "review", "document", "test", "deploy"};
enum { NKINDS = (int)ARRAY_LEN(kinds) };

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
    struct field f[FORM_NFIELDS];
    int kind;                    /* index into kinds */
    int focus;                   /* row: 0 the kind, 1 and 2 the fields */
    char *error;
};

/* The field on row 1 or 2 for the current kind. */
static struct field *row_field(struct form *f, int row)
{
    if (f->kind == 0)
        return &f->f[row == 1 ? FORM_TOOL : FORM_ARGS];
    return &f->f[row == 1 ? FORM_PROMPT : FORM_MODEL];
}

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
    f->f[FORM_TOOL].label = "Tool (server.tool)";
    f->f[FORM_ARGS].label = "Args (JSON)";
    f->f[FORM_PROMPT].label = "Prompt";
    f->f[FORM_MODEL].label = "Model (alias or name; empty: the type's default)";
    for (int i = 0; i < FORM_NFIELDS; i++)
        field_set(&f->f[i], L"");
    field_set(&f->f[FORM_ARGS], L"{}");
    f->f[FORM_ARGS].pristine = 1;
    f->focus = 1;
    return f;
}

void form_free(struct form *f)
{
    if (!f)
        return;
    if (f->win)
        delwin(f->win);
    for (int i = 0; i < FORM_NFIELDS; i++)
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
    if (field < 0 || field >= FORM_NFIELDS)
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

const char *form_task_type(const struct form *f)
{
    return f->kind ? kinds[f->kind] : NULL;
}

int form_set_kind(struct form *f, const char *name)
{
    for (int i = 0; i < NKINDS; i++)
        if (strcmp(kinds[i], name) == 0) {
            f->kind = i;
            return 0;
        }
    return -1;
}

/* A key on the Kind row. */
static enum form_action kind_key(struct form *f, int key)
{
    int was = f->kind;
    switch (key) {
    case UK_LEFT:
        f->kind = (f->kind + NKINDS - 1) % NKINDS;
        break;
    case UK_RIGHT: case ' ':
        f->kind = (f->kind + 1) % NKINDS;
        break;
    default:
        /* a first letter: the next kind after this one that starts with it */
        if (key > 0 && key < 128)
            for (int i = 1; i <= NKINDS; i++) {
                int k = (f->kind + i) % NKINDS;
                if (kinds[k][0] == (char)key) {
                    f->kind = k;
                    break;
                }
            }
        break;
    }
    return f->kind != was ? FORM_KIND : FORM_NONE;
}

enum form_action form_key(struct form *f, int key)
{
    switch (key) {                             /* keys for every row */
    case 27:                                   /* Esc */
        return FORM_CANCEL;
    case '\t': case UK_DOWN:
        f->focus = (f->focus + 1) % NROWS;
        return FORM_NONE;
    case UK_BTAB: case UK_UP:
        f->focus = (f->focus + NROWS - 1) % NROWS;
        return FORM_NONE;
    case '\n': case '\r': case UK_ENTER:
        if (f->focus < NROWS - 1) {
            f->focus++;
            return FORM_NONE;
        }
        return FORM_SUBMIT;
    case 19:                                   /* Ctrl-S */
        return FORM_SUBMIT;
    case 20:                                   /* Ctrl-T: the next kind */
        f->kind = (f->kind + 1) % NKINDS;
        return FORM_KIND;
    }
    if (f->focus == 0)
        return kind_key(f, key);
    struct field *fl = row_field(f, f->focus);
    int was_pristine = fl->pristine;
    fl->pristine = 0;
    switch (key) {
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
    int cury = 1, curx = 2;
    /* row 1: the kind */
    wmove(w, 1, 2);
    wattrset(w, f->focus == 0 ? th->attr[THEME_TITLE] : A_NORMAL);
    draw_str(w, "Kind ", inner);
    wattrset(w, f->focus == 0 ? th->attr[THEME_SELECTED] : A_UNDERLINE);
    char *k = f->kind ? xasprintf("< %s (model task) >", kinds[f->kind])
                      : xstrdup("< tool call >");
    curx = getcurx(w);
    draw_str(w, k, inner - 5);
    free(k);
    wattrset(w, th->attr[THEME_DIM]);
    draw_str(w, f->focus == 0 ? "  Left/Right change" : "  Ctrl-T change", inner - getcurx(w) + 2);
    wattrset(w, A_NORMAL);
    for (int row = 1; row < NROWS; row++) {
        struct field *fl = row_field(f, row);
        int y = row * 2;
        wmove(w, y, 2);
        wattrset(w, row == f->focus ? th->attr[THEME_TITLE] : A_NORMAL);
        draw_str(w, fl->label, inner);
        wattrset(w, A_NORMAL);
        attr_t a = row == f->focus ? th->attr[THEME_SELECTED] : A_UNDERLINE;
        if (fl->pristine)
            a |= A_DIM;
        int cx = field_draw(w, fl, y + 1, 2, inner, a);
        if (row == f->focus) {
            cury = y + 1;
            curx = cx;
        }
    }
    if (f->error) {
        /* up to ERROR_ROWS lines of the error */
        wattrset(w, th->attr[THEME_ERROR]);
        const char *s = f->error;
        size_t n = strlen(s);
        for (int row = 6; row < 6 + ERROR_ROWS && n > 0; row++) {
            size_t kk = draw_fit(s, n, inner, NULL);
            if (kk == 0)
                kk = 1;
            if (kk < n) {              /* break after a space when there is one */
                size_t sp = kk;
                while (sp > 0 && s[sp - 1] != ' ')
                    sp--;
                if (sp > 1)
                    kk = sp;
            }
            wmove(w, row, 2);
            draw_nstr(w, s, kk, inner);
            s += kk;
            n -= kk;
            if (n && *s == '\n') {
                s++;
                n--;
            }
        }
        wattrset(w, A_NORMAL);
    }
    wattrset(w, th->attr[THEME_DIM]);
    wmove(w, 6 + ERROR_ROWS, 2);
    draw_str(w, "Enter next/submit  Tab field  Ctrl-S submit  Esc cancel", inner);
    wattrset(w, A_NORMAL);
    wmove(w, cury, curx);
    wnoutrefresh(w);
}
