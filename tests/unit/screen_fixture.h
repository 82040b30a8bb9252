/* screen_fixture.h — a curses screen for the unit tests that draw
 * (test_ui.c, test_textedit.c): output to /dev/null, input from /dev/null,
 * optionally a fixed size (through LINES/COLUMNS, set back afterwards),
 * and the text drawn on a row. */
#ifndef MCPDECK_TEST_SCREEN_FIXTURE_H
#define MCPDECK_TEST_SCREEN_FIXTURE_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <curses.h>
#include <stdio.h>
#include <stdlib.h>

static int screen_sized;   /* the open screen set LINES/COLUMNS */

/* rows or cols <= 0: the terminal's own size. */
static inline SCREEN *screen_open(FILE **out, FILE **in, int rows, int cols)
{
    *out = fopen("/dev/null", "w");
    *in = fopen("/dev/null", "r");
    assert_non_null(*out);
    assert_non_null(*in);
    screen_sized = rows > 0 && cols > 0;
    if (screen_sized) {
        char lines[16], columns[16];
        snprintf(lines, sizeof lines, "%d", rows);
        snprintf(columns, sizeof columns, "%d", cols);
        setenv("LINES", lines, 1);
        setenv("COLUMNS", columns, 1);
    }
    SCREEN *scr = newterm("xterm", *out, *in);
    assert_non_null(scr);
    set_term(scr);
    return scr;
}

static inline void screen_close(SCREEN *scr, FILE *out, FILE *in)
{
    endwin();
    delscreen(scr);
    fclose(out);
    fclose(in);
    if (screen_sized) {
        unsetenv("LINES");
        unsetenv("COLUMNS");
        screen_sized = 0;
    }
}

/* Row y of w from column x, at most width cells, trailing blanks cut (a
 * static buffer: use before the next call). */
static inline const char *line_at(WINDOW *w, int y, int x, int width)
{
    static char buf[256];
    int n = mvwinnstr(w, y, x, buf, width < (int)sizeof buf ? width : (int)sizeof buf - 1);
    if (n < 0)
        n = 0;
    buf[n] = 0;
    while (n > 0 && buf[n - 1] == ' ')
        buf[--n] = 0;
    return buf;
}

#endif
