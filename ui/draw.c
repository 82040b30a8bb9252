/* draw.c — small drawing helpers for the panes: UTF-8 text clipped to a
 * number of display columns (never past a window's edge, control
 * characters and invalid bytes shown as '?'), frames with titles, glyphs
 * with an ASCII fallback, and durations. */
#include "ui.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

static const char *const glyphs_utf8[GLYPH_COUNT] = {
    [GLYPH_SRV_READY] = "\u25cf",       /* ● */
    [GLYPH_SRV_STARTING] = "\u25d0",    /* ◐ */
    [GLYPH_SRV_FAILED] = "\u2716",      /* ✖ */
    [GLYPH_SRV_STOPPED] = "\u25cb",     /* ○ */
    [GLYPH_JOB_QUEUED] = "\u00b7",      /* · */
    [GLYPH_JOB_RUNNING] = "\u25b6",     /* ▶ */
    [GLYPH_JOB_SUCCEEDED] = "\u2713",   /* ✓ */
    [GLYPH_JOB_FAILED] = "\u2716",      /* ✖ */
    [GLYPH_JOB_CANCELLED] = "\u2298",   /* ⊘ */
};

static const char *const glyphs_ascii[GLYPH_COUNT] = {
    [GLYPH_SRV_READY] = "+",   [GLYPH_SRV_STARTING] = "~", [GLYPH_SRV_FAILED] = "x",
    [GLYPH_SRV_STOPPED] = "-", [GLYPH_JOB_QUEUED] = ".",   [GLYPH_JOB_RUNNING] = ">",
    [GLYPH_JOB_SUCCEEDED] = "+", [GLYPH_JOB_FAILED] = "x", [GLYPH_JOB_CANCELLED] = "-",
};

const char *draw_glyph(int utf8, enum ui_glyph g)
{
    if ((unsigned)g >= GLYPH_COUNT)
        return "?";
    return utf8 ? glyphs_utf8[g] : glyphs_ascii[g];
}

/* One character of s: its byte length (>= 1) and display width; *ok is 0
 * for bytes shown as '?' (control, invalid, unprintable). */
static size_t char_at(const char *s, size_t n, mbstate_t *ps, int *width, int *ok)
{
    unsigned char c = (unsigned char)s[0];
    if (c < 0x80) {
        *ok = c >= 0x20 && c != 0x7f;
        *width = 1;
        return 1;
    }
    wchar_t wc;
    size_t k = mbrtowc(&wc, s, n, ps);
    if (k == (size_t)-1 || k == (size_t)-2 || k == 0) {
        memset(ps, 0, sizeof *ps);
        *ok = 0;
        *width = 1;
        return 1;
    }
    int wd = wcwidth(wc);
    if (wd < 0) {
        *ok = 0;
        *width = 1;
    } else {
        *ok = 1;
        *width = wd;
    }
    return k;
}

int draw_width(const char *s, size_t n)
{
    mbstate_t st;
    memset(&st, 0, sizeof st);
    int cols = 0;
    for (size_t i = 0; i < n;) {
        int w, ok;
        i += char_at(s + i, n - i, &st, &w, &ok);
        cols += w;
    }
    return cols;
}

size_t draw_fit(const char *s, size_t n, int maxcols, int *cols)
{
    mbstate_t st;
    memset(&st, 0, sizeof st);
    size_t i = 0;
    int used = 0;
    while (i < n && s[i] != '\n') {
        int w, ok;
        mbstate_t save = st;
        size_t k = char_at(s + i, n - i, &st, &w, &ok);
        if (used + w > maxcols) {
            st = save;
            break;
        }
        used += w;
        i += k;
    }
    if (cols)
        *cols = used;
    return i;
}

int draw_room(WINDOW *w)
{
    int room = getmaxx(w) - getcurx(w);
    return room > 0 ? room : 0;
}

int draw_nstr(WINDOW *w, const char *s, size_t n, int maxcols)
{
    int room = draw_room(w);
    if (maxcols > room)
        maxcols = room;
    mbstate_t st;
    memset(&st, 0, sizeof st);
    int used = 0;
    for (size_t i = 0; i < n && s[i];) {
        int wd, ok;
        size_t k = char_at(s + i, n - i, &st, &wd, &ok);
        if (used + wd > maxcols)
            break;
        if (!ok)
            waddch(w, '?');
        else if (wd > 0 || used > 0)   /* a combining mark needs a base */
            waddnstr(w, s + i, (int)k);
        used += wd;
        i += k;
    }
    return used;
}

int draw_str(WINDOW *w, const char *s, int maxcols)
{
    return s ? draw_nstr(w, s, strlen(s), maxcols) : 0;
}

int draw_cell(WINDOW *w, const char *s, int width)
{
    int room = draw_room(w);
    if (width > room)
        width = room;
    int used = draw_str(w, s, width);
    for (; used < width; used++)
        waddch(w, ' ');
    return used;
}

int draw_printf(WINDOW *w, int maxcols, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = xvasprintf(fmt, ap);
    va_end(ap);
    int used = draw_str(w, s, maxcols);
    free(s);
    return used;
}

void draw_fill_line(WINDOW *w, attr_t attr)
{
    int y = getcury(w), x = getcurx(w);
    int room = draw_room(w);
    attr_t old;
    short pair;
    wattr_get(w, &old, &pair, NULL);
    wattrset(w, attr);
    mvwhline(w, y, x, ' ', room);
    wattrset(w, old);
    wmove(w, y, x);
}

static int ascii_boxes;

void draw_set_ascii(int on)
{
    ascii_boxes = on;
}

void draw_box(WINDOW *w)
{
    if (ascii_boxes)
        wborder(w, '|', '|', '-', '-', '+', '+', '+', '+');
    else
        box(w, 0, 0);
}

void draw_frame(WINDOW *w, const char *title, int focused, const struct theme *th)
{
    /* The focused pane's border takes the title's style, its title the
     * focus style. */
    wattrset(w, th->attr[focused ? THEME_TITLE : THEME_BORDER]);
    draw_box(w);
    wattrset(w, th->attr[focused ? THEME_TITLE_FOCUS : THEME_TITLE]);
    int room = getmaxx(w) - 4;
    if (room > 2) {
        wmove(w, 0, 2);
        waddch(w, ' ');
        draw_str(w, title, room - 2);
        waddch(w, ' ');
    }
    wattrset(w, A_NORMAL);
}

void draw_duration(char *out, size_t n, int64_t ms)
{
    if (ms < 0)
        snprintf(out, n, "-");
    else if (ms < 60000)
        snprintf(out, n, "%lld.%llds", (long long)(ms / 1000), (long long)(ms % 1000 / 100));
    else if (ms < 3600000)
        snprintf(out, n, "%lldm%02llds", (long long)(ms / 60000),
                 (long long)(ms % 60000 / 1000));
    else
        snprintf(out, n, "%lldh%02lldm", (long long)(ms / 3600000),
                 (long long)(ms % 3600000 / 60000));
}
