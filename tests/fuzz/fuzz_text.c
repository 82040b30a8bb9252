/* fuzz_text.c — text a server or a user supplies, on screen: the UTF-8
 * drawing helpers and the TUI's text fields. Byte 0 sets the columns, byte
 * 1 the field's kind and height; the rest is split at its first NUL: a
 * paste, then keys (one per byte; 0x80..0x8b are the arrow, Home, End,
 * Backspace, Delete, Enter, Page keys). Checked for any input:
 * draw_fit never splits a character or passes a line break and agrees with
 * draw_width; drawing stays on its line and inside the room left; a text
 * field's cursor stays in its text, a one-line field holds no line break,
 * none holds a control character, its text reads back the same through
 * textedit_set, and its drawn cursor is inside the box. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wctype.h>

#include "ui.h"   /* curses first: fuzz.h then has fuzz_screen */
#include "fuzz.h"

static const int special[] = {UK_UP,   UK_DOWN,      UK_LEFT, UK_RIGHT, UK_HOME,  UK_END,
                              UK_BACKSPACE, UK_DC,   UK_ENTER, UK_PPAGE, UK_NPAGE, UK_BTAB};

static void check_field(const struct textedit *te)
{
    FUZZ_CHECK(te->cur <= te->len && te->buf[te->len] == L'\0', "cursor %zu past text %zu",
               te->cur, te->len);
    for (size_t i = 0; i < te->len; i++) {
        wchar_t c = te->buf[i];
        FUZZ_CHECK(c != L'\0' && (c == L'\n' ? te->multiline : (c >= 32 && c != 127)),
                   "character %#x at %zu of a %s field", (unsigned)c, i,
                   te->multiline ? "multi-line" : "one-line");
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_screen("40", "160");
    if (size < 2)
        return 0;
    int cols = data[0] % 130;
    int multiline = data[1] & 1, height = 1 + (data[1] >> 1) % 8;
    const char *rest = (const char *)data + 2;
    size_t n = size - 2;
    const char *nul = memchr(rest, '\0', n);
    size_t tlen = nul ? (size_t)(nul - rest) : n;
    char *text = fuzz_copy(rest, tlen, 1);

    /* the drawing helpers */
    int w = 0;
    size_t fit = draw_fit(text, tlen, cols, &w);
    FUZZ_CHECK(fit <= tlen && w <= cols, "fit %zu of %zu bytes in %d of %d columns", fit, tlen,
               w, cols);
    FUZZ_CHECK(memchr(text, '\n', fit) == NULL, "a line break inside what fits");
    FUZZ_CHECK(draw_width(text, fit) == w, "draw_width %d, draw_fit %d", draw_width(text, fit), w);
    WINDOW *win = newwin(3, 1 + cols, 0, 0);
    if (win) {
        wmove(win, 1, cols / 3);
        int room = draw_room(win);
        int wrote = draw_nstr(win, text, tlen, cols);
        /* (the cursor may wrap after the last column; the text may not) */
        for (int y = 0; y < 3; y += 2)
            for (int x = 0; x <= cols; x++)
                FUZZ_CHECK((mvwinch(win, y, x) & A_CHARTEXT) == ' ',
                           "drawing reached row %d column %d", y, x);
        FUZZ_CHECK(wrote >= 0 && wrote <= cols && wrote <= room, "wrote %d columns, room %d",
                   wrote, room);
        delwin(win);
    }

    /* a text field: the paste, then keys */
    struct textedit te;
    textedit_init(&te, multiline);
    textedit_insert(&te, text);
    check_field(&te);
    if (nul) {
        for (const unsigned char *k = (const unsigned char *)nul + 1;
             k < (const unsigned char *)rest + n; k++) {
            int key = *k >= 0x80 && *k < 0x8c ? special[*k - 0x80] : *k;
            textedit_key(&te, key);
            check_field(&te);
        }
    }
    char *out = textedit_text(&te);
    struct textedit again;
    textedit_init(&again, multiline);
    textedit_set(&again, out);
    FUZZ_CHECK(again.len == te.len && wmemcmp(again.buf, te.buf, te.len) == 0,
               "the field's text does not read back the same: %s", out);
    textedit_fini(&again);
    free(out);
    int width = 1 + cols;
    win = newwin(height + 2, width + 2, 0, 0);
    if (win) {
        int cy = -1, cx = -1;
        textedit_draw(win, &te, 1, 1, height, width, A_NORMAL, &cy, &cx);
        FUZZ_CHECK(cy >= 1 && cy < 1 + height && cx >= 1 && cx <= width,
                   "cursor drawn at %d,%d outside the %dx%d box at 1,1", cy, cx, height, width);
        delwin(win);
    }
    textedit_fini(&te);
    free(text);
    return 0;
}
