/* textedit.c — the text fields of the new-task form: a buffer of wide
 * characters with a cursor, either one line (scrolled sideways so the
 * cursor shows) or several lines (soft-wrapped at word boundaries to the
 * box's width and scrolled by rows). The cursor moves by character; its
 * screen column comes from wcwidth, so wide and combining characters
 * line up.
 *
 * Keys (textedit_key): Left/Right; Up/Down by wrapped row, aiming for the
 * column the cursor started from; Home/End and Ctrl-A/Ctrl-E the start and
 * end of the line; Backspace, Delete and Ctrl-D, joining lines at a line
 * break; Ctrl-U deletes to the start of the line, Ctrl-K to its end (at
 * the end: the line break), Ctrl-W the word before the cursor; Enter and
 * Ctrl-J insert a line break in a multi-line text. Keys it does not use
 * (Tab, Up on the first row, ...) are the owner's. Pasted text comes in
 * through textedit_insert. Only form.c uses it: labels, focus and checks
 * are the form's. */
#include "ui.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>
#include <wctype.h>

enum { TAB_SPACES = 4, NO_WRAP = INT_MAX / 2 };

void textedit_init(struct textedit *te, int multiline)
{
    memset(te, 0, sizeof *te);
    te->multiline = multiline;
    te->goal = -1;
    te->cap = 16;
    te->buf = xcalloc(te->cap, sizeof *te->buf);
}

void textedit_fini(struct textedit *te)
{
    free(te->buf);
    te->buf = NULL;
    te->len = te->cap = te->cur = te->top = 0;
}

static void reserve(struct textedit *te, size_t extra)
{
    if (te->len + extra + 1 <= te->cap)
        return;
    size_t cap = te->cap * 2 + 16;
    if (cap < te->len + extra + 1)
        cap = te->len + extra + 1;
    te->buf = xrealloc(te->buf, cap * sizeof *te->buf);
    te->cap = cap;
}

/* n characters at the cursor, which ends after them. */
static void insert_n(struct textedit *te, const wchar_t *s, size_t n)
{
    reserve(te, n);
    wmemmove(te->buf + te->cur + n, te->buf + te->cur, te->len - te->cur + 1);
    wmemcpy(te->buf + te->cur, s, n);
    te->cur += n;
    te->len += n;
}

/* Delete the characters [from, to); the cursor stays on what follows. */
static void delete_range(struct textedit *te, size_t from, size_t to)
{
    if (to > te->len)
        to = te->len;
    if (from >= to)
        return;
    wmemmove(te->buf + from, te->buf + to, te->len - to + 1);
    te->len -= to - from;
    if (te->cur >= to)
        te->cur -= to - from;
    else if (te->cur > from)
        te->cur = from;
}

/* UTF-8 text as characters to insert (invalid bytes become '?'): CR LF
 * and CR become a line break, which a single line turns into a space; a
 * tab becomes TAB_SPACES spaces; other control characters are dropped.
 * Returns a malloc'd array of *n characters. */
static wchar_t *decode(const char *text, int multiline, size_t *n)
{
    size_t len = strlen(text), k = 0;
    wchar_t *w = xmalloc((len * TAB_SPACES + 1) * sizeof *w);
    mbstate_t st;
    memset(&st, 0, sizeof st);
    const char *p = text, *end = text + len;
    while (p < end) {
        wchar_t c;
        size_t r = mbrtowc(&c, p, (size_t)(end - p), &st);
        if (r == (size_t)-1 || r == (size_t)-2 || r == 0) {
            c = L'?';
            r = 1;
            memset(&st, 0, sizeof st);
        }
        p += r;
        if (c == L'\r') {
            if (p < end && *p == '\n')
                p++;
            c = L'\n';
        }
        if (c == L'\n') {
            w[k++] = multiline ? L'\n' : L' ';
        } else if (c == L'\t') {
            for (int i = 0; i < TAB_SPACES; i++)
                w[k++] = L' ';
        } else if (c >= 32 && c != 127 && !(c >= 0x80 && c < 0xa0)) {
            w[k++] = c;
        }
    }
    *n = k;
    return w;
}

void textedit_insert(struct textedit *te, const char *text)
{
    size_t n;
    wchar_t *w = decode(text, te->multiline, &n);
    insert_n(te, w, n);
    free(w);
    te->goal = -1;
}

void textedit_set(struct textedit *te, const char *text)
{
    te->len = te->cur = te->top = 0;
    te->buf[0] = 0;
    textedit_insert(te, text);
}

char *textedit_text(const struct textedit *te)
{
    struct buf b;
    buf_init(&b);
    mbstate_t st;
    memset(&st, 0, sizeof st);
    for (size_t i = 0; i < te->len; i++) {
        char mb[MB_LEN_MAX];
        size_t k = wcrtomb(mb, te->buf[i], &st);
        if (k == (size_t)-1) {
            buf_putc(&b, '?');
            memset(&st, 0, sizeof st);
        } else {
            buf_append(&b, mb, k);
        }
    }
    return b.data ? buf_detach(&b) : xstrdup("");
}

/* === layout: the rows a multi-line text takes at a width === */

static int wc_cols(wchar_t c)
{
    int n = wcwidth(c);
    return n < 0 ? 1 : n;
}

/* A row shows the characters [start, end). The last row of a line ends at
 * its line break (or the end of the text) and may hold the cursor at its
 * end; a wrapped row's end is where the next row starts. */
struct te_row {
    size_t start, end;
    int last;
};

static void push_row(struct te_row **v, size_t *n, size_t *cap, size_t start, size_t end,
                     int last)
{
    if (*n == *cap) {
        *cap = *cap * 2 + 8;
        *v = xrealloc(*v, *cap * sizeof **v);
    }
    (*v)[(*n)++] = (struct te_row){start, end, last};
}

/* The rows of te at width columns (at least one); *out malloc'd. A line
 * longer than the width breaks after its last space that fits, else where
 * the width ends; a line that fills the width exactly gets an empty row
 * after it, where the cursor can stand at its end. */
static size_t layout(const struct textedit *te, int width, struct te_row **out)
{
    struct te_row *v = NULL;
    size_t n = 0, cap = 0, i = 0;
    if (width < 1)
        width = 1;
    for (;;) {
        size_t start = i, brk = 0;
        int col = 0;
        while (i < te->len && te->buf[i] != L'\n') {
            int cw = wc_cols(te->buf[i]);
            if (col + cw > width && i > start)
                break;
            col += cw;
            if (te->buf[i++] == L' ')
                brk = i;
        }
        if (i < te->len && te->buf[i] != L'\n') {          /* wrapped */
            if (brk > start && brk < i)
                i = brk;
            push_row(&v, &n, &cap, start, i, 0);
            continue;
        }
        if (col >= width) {
            push_row(&v, &n, &cap, start, i, 0);
            push_row(&v, &n, &cap, i, i, 1);
        } else {
            push_row(&v, &n, &cap, start, i, 1);
        }
        if (i >= te->len)
            break;
        i++;                                                /* the line break */
    }
    *out = v;
    return n;
}

static size_t row_of(const struct te_row *r, size_t n, size_t cur)
{
    for (size_t i = 0; i < n; i++)
        if (cur >= r[i].start && (cur < r[i].end || (cur == r[i].end && r[i].last)))
            return i;
    return n - 1;
}

static int cols_between(const struct textedit *te, size_t from, size_t to)
{
    int col = 0;
    for (size_t i = from; i < to; i++)
        col += wc_cols(te->buf[i]);
    return col;
}

/* The position in row r nearest to column goal, not past it. */
static size_t index_at(const struct textedit *te, const struct te_row *r, int goal)
{
    size_t i = r->start, max = r->last ? r->end : r->end - 1;
    int col = 0;
    while (i < max) {
        int cw = wc_cols(te->buf[i]);
        if (col + cw > goal)
            break;
        col += cw;
        i++;
    }
    return i;
}

static int layout_width(const struct textedit *te)
{
    return te->multiline && te->width > 0 ? te->width : NO_WRAP;
}

int textedit_rows(const struct textedit *te, int width)
{
    struct te_row *r;
    size_t n = layout(te, te->multiline ? width : NO_WRAP, &r);
    free(r);
    return n > INT_MAX ? INT_MAX : (int)n;
}

/* === keys === */

static enum textedit_result vertical(struct textedit *te, int dir, int goal)
{
    struct te_row *r;
    size_t n = layout(te, layout_width(te), &r);
    size_t i = row_of(r, n, te->cur);
    enum textedit_result res = TEXTEDIT_UNUSED;
    if ((dir < 0 && i > 0) || (dir > 0 && i + 1 < n)) {
        if (goal < 0)
            goal = cols_between(te, r[i].start, te->cur);
        te->cur = index_at(te, &r[dir < 0 ? i - 1 : i + 1], goal);
        te->goal = goal;
        res = TEXTEDIT_MOVED;
    }
    free(r);
    return res;
}

static size_t line_start(const struct textedit *te, size_t at)
{
    while (at > 0 && te->buf[at - 1] != L'\n')
        at--;
    return at;
}

static size_t line_end(const struct textedit *te, size_t at)
{
    while (at < te->len && te->buf[at] != L'\n')
        at++;
    return at;
}

enum textedit_result textedit_key(struct textedit *te, int key)
{
    int goal = te->goal;
    te->goal = -1;
    size_t at;
    switch (key) {
    case UK_LEFT:
        if (te->cur > 0)
            te->cur--;
        return TEXTEDIT_MOVED;
    case UK_RIGHT:
        if (te->cur < te->len)
            te->cur++;
        return TEXTEDIT_MOVED;
    case UK_UP: case UK_DOWN:
        return te->multiline ? vertical(te, key == UK_UP ? -1 : 1, goal) : TEXTEDIT_UNUSED;
    case UK_HOME: case 1:                      /* Ctrl-A */
        te->cur = line_start(te, te->cur);
        return TEXTEDIT_MOVED;
    case UK_END: case 5:                       /* Ctrl-E */
        te->cur = line_end(te, te->cur);
        return TEXTEDIT_MOVED;
    case UK_BACKSPACE: case 127: case 8:
        if (te->cur == 0)
            return TEXTEDIT_MOVED;
        delete_range(te, te->cur - 1, te->cur);
        return TEXTEDIT_CHANGED;
    case UK_DC: case 4:                        /* Delete, Ctrl-D */
        if (te->cur >= te->len)
            return TEXTEDIT_MOVED;
        delete_range(te, te->cur, te->cur + 1);
        return TEXTEDIT_CHANGED;
    case 21:                                   /* Ctrl-U: to the start of the line */
        delete_range(te, line_start(te, te->cur), te->cur);
        return TEXTEDIT_CHANGED;
    case 11:                                   /* Ctrl-K: to its end, or the break */
        at = line_end(te, te->cur);
        delete_range(te, te->cur, at == te->cur && at < te->len ? at + 1 : at);
        return TEXTEDIT_CHANGED;
    case 23:                                   /* Ctrl-W: the word before */
        at = te->cur;
        if (at > 0 && te->buf[at - 1] == L'\n') {
            at--;
        } else {
            while (at > 0 && te->buf[at - 1] == L' ')
                at--;
            while (at > 0 && te->buf[at - 1] != L' ' && te->buf[at - 1] != L'\n')
                at--;
        }
        delete_range(te, at, te->cur);
        return TEXTEDIT_CHANGED;
    case '\r': case '\n': case UK_ENTER:
        if (!te->multiline)
            return TEXTEDIT_UNUSED;
        insert_n(te, L"\n", 1);
        return TEXTEDIT_CHANGED;
    default:
        if (key >= 32 && key != 127 && iswprint((wint_t)key)) {
            wchar_t c = (wchar_t)key;
            insert_n(te, &c, 1);
            return TEXTEDIT_CHANGED;
        }
        te->goal = goal;                       /* an unused key changes nothing */
        return TEXTEDIT_UNUSED;
    }
}

/* === drawing === */

static void put_char(WINDOW *w, wchar_t c)
{
    if (wcwidth(c) < 0)
        waddch(w, '?');
    else
        waddnwstr(w, &c, 1);
}

/* One line in width columns, scrolled sideways (te->top is the first
 * character shown) so the cursor shows; returns the cursor's column. */
static int draw_line(WINDOW *w, struct textedit *te, int y, int x, int width, attr_t attr)
{
    if (te->top > te->cur)
        te->top = te->cur;
    size_t from = te->cur;                     /* the first shown: as early as fits */
    int used = 0;
    while (from > te->top) {
        int cw = wc_cols(te->buf[from - 1]);
        if (used + cw >= width)
            break;
        used += cw;
        from--;
    }
    te->top = from;
    wattrset(w, attr);
    mvwhline(w, y, x, ' ', width);
    wmove(w, y, x);
    int col = 0, curcol = 0;
    for (size_t i = te->top; i <= te->len; i++) {
        if (i == te->cur)
            curcol = col;
        if (i == te->len)
            break;
        int cw = wc_cols(te->buf[i]);
        if (col + cw > width)
            break;
        put_char(w, te->buf[i]);
        col += cw;
    }
    wattrset(w, A_NORMAL);
    return curcol;
}

void textedit_draw(WINDOW *w, struct textedit *te, int y, int x, int height, int width,
                   attr_t attr, int *cy, int *cx)
{
    if (width < 1 || height < 1)
        return;
    if (!te->multiline) {
        *cx = x + draw_line(w, te, y, x, width, attr);
        *cy = y;
        return;
    }
    te->width = width;
    struct te_row *r;
    size_t n = layout(te, width, &r);
    size_t ci = row_of(r, n, te->cur), h = (size_t)height;
    /* te->top is the first row shown: the cursor's row in view, no
     * blank rows below the text while it is taller than the box */
    if (te->top > ci)
        te->top = ci;
    if (ci >= te->top + h)
        te->top = ci - h + 1;
    if (te->top + h > n)
        te->top = n > h ? n - h : 0;
    wattrset(w, attr);
    for (size_t k = 0; k < h; k++) {
        mvwhline(w, y + (int)k, x, ' ', width);
        size_t ri = te->top + k;
        if (ri >= n)
            continue;
        wmove(w, y + (int)k, x);
        for (size_t i = r[ri].start; i < r[ri].end; i++)
            put_char(w, te->buf[i]);
    }
    wattrset(w, A_NORMAL);
    *cy = y + (int)(ci - te->top);
    /* a cursor between a character and its combining mark on a full row
     * would be past the edge: on the character's cell instead */
    int col = cols_between(te, r[ci].start, te->cur);
    *cx = x + (col < width ? col : width - 1);
    free(r);
}
