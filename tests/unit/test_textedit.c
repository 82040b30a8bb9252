/* test_textedit.c — the text fields of the new-task form (ui/textedit.c):
 * editing across line breaks, Up/Down by wrapped rows, word wrapping with
 * wide characters, what a paste keeps, drawing and scrolling; the form's
 * multi-line Prompt and Args boxes (Enter, Ctrl-S, Up/Down between rows,
 * pastes, recall, the box growing); and bracketed pastes (ui/paste.c):
 * the keys between the brackets become text for the focused field. Curses
 * draws into windows of a screen on /dev/null; no terminal needed. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "screen_fixture.h"
#include "ui.h"

/* === helpers === */

static void type(struct textedit *te, const char *s)
{
    for (; *s; s++)
        textedit_key(te, (unsigned char)*s);
}

static void assert_text(const struct textedit *te, const char *want)
{
    char *s = textedit_text(te);
    assert_string_equal(s, want);
    free(s);
}

static void form_type(struct form *f, const char *s)
{
    for (; *s; s++)
        form_key(f, (unsigned char)*s);
}

static void assert_field(const struct form *f, int field, const char *want)
{
    char *s = form_text(f, field);
    assert_string_equal(s, want);
    free(s);
}

/* Line y of w from column x, at most width columns, trailing blanks cut,
 * in a static buffer. */
/* The row of w whose width columns from column x are exactly want (and
 * blanks); -1 if none. */
static int row_with(WINDOW *w, int x, int width, const char *want)
{
    for (int y = 0; y < getmaxy(w); y++)
        if (strcmp(line_at(w, y, x, width), want) == 0)
            return y;
    return -1;
}

/* === editing === */

static void test_edit_across_lines(void **state)
{
    (void)state;
    struct textedit te;
    textedit_init(&te, 1);
    textedit_set(&te, "h\xc3\xa9llo\nworld");
    assert_int_equal(te.cur, te.len);              /* the cursor at the end */
    assert_int_equal(te.len, 11);                  /* characters, not bytes */
    assert_text(&te, "h\xc3\xa9llo\nworld");

    assert_int_equal(textedit_key(&te, UK_HOME), TEXTEDIT_MOVED);
    assert_int_equal(te.cur, 6);                   /* the start of "world" */
    assert_int_equal(textedit_key(&te, UK_BACKSPACE), TEXTEDIT_CHANGED);
    assert_text(&te, "h\xc3\xa9lloworld");         /* joined */
    assert_int_equal(textedit_key(&te, '\r'), TEXTEDIT_CHANGED);
    assert_text(&te, "h\xc3\xa9llo\nworld");       /* split again */
    textedit_key(&te, UK_LEFT);                    /* back over the break */
    assert_int_equal(te.cur, 5);
    assert_int_equal(textedit_key(&te, UK_DC), TEXTEDIT_CHANGED);
    assert_text(&te, "h\xc3\xa9lloworld");         /* Delete joins too */
    textedit_key(&te, '\n');                       /* Ctrl-J: a line break as well */
    textedit_key(&te, UK_LEFT);
    assert_int_equal(textedit_key(&te, 11), TEXTEDIT_CHANGED);   /* Ctrl-K at the end */
    assert_text(&te, "h\xc3\xa9lloworld");         /* takes the break */
    textedit_key(&te, 11);                         /* Ctrl-K mid-line: the rest */
    assert_text(&te, "h\xc3\xa9llo");
    type(&te, " big world");
    textedit_key(&te, 23);                         /* Ctrl-W: the word before */
    assert_text(&te, "h\xc3\xa9llo big ");
    textedit_key(&te, 23);
    assert_text(&te, "h\xc3\xa9llo ");
    textedit_key(&te, '\r');
    type(&te, "two");
    textedit_key(&te, UK_LEFT);
    textedit_key(&te, 21);                         /* Ctrl-U: to the line's start */
    assert_text(&te, "h\xc3\xa9llo \no");
    textedit_key(&te, UK_HOME);
    textedit_key(&te, 23);                         /* Ctrl-W at a line's start: the break */
    assert_text(&te, "h\xc3\xa9llo o");
    textedit_key(&te, 1);                          /* Ctrl-A, Ctrl-E */
    assert_int_equal(te.cur, 0);
    assert_int_equal(textedit_key(&te, UK_BACKSPACE), TEXTEDIT_MOVED);   /* nothing before */
    textedit_key(&te, 5);
    assert_int_equal(te.cur, te.len);
    assert_int_equal(textedit_key(&te, UK_DC), TEXTEDIT_MOVED);          /* nothing after */
    assert_int_equal(textedit_key(&te, '\t'), TEXTEDIT_UNUSED);          /* the owner's */
    assert_int_equal(textedit_key(&te, UK_BTAB), TEXTEDIT_UNUSED);
    textedit_fini(&te);

    /* one line: Enter and Up/Down are the owner's */
    textedit_init(&te, 0);
    type(&te, "abc");
    assert_int_equal(textedit_key(&te, '\r'), TEXTEDIT_UNUSED);
    assert_int_equal(textedit_key(&te, UK_UP), TEXTEDIT_UNUSED);
    assert_int_equal(textedit_key(&te, UK_DOWN), TEXTEDIT_UNUSED);
    assert_text(&te, "abc");
    textedit_fini(&te);
}

static void test_up_down(void **state)
{
    (void)state;
    struct textedit te;
    textedit_init(&te, 1);
    textedit_set(&te, "abcdef\nab\nabcd");        /* never drawn: rows are lines */
    assert_int_equal(textedit_rows(&te, 1000), 3);
    assert_int_equal(textedit_key(&te, UK_DOWN), TEXTEDIT_UNUSED);   /* the last row */
    assert_int_equal(textedit_key(&te, UK_UP), TEXTEDIT_MOVED);
    assert_int_equal(te.cur, 9);                   /* "ab": its end, column 2 */
    assert_int_equal(textedit_key(&te, UK_UP), TEXTEDIT_MOVED);
    assert_int_equal(te.cur, 4);                   /* column 4 again: the goal kept */
    assert_int_equal(textedit_key(&te, UK_UP), TEXTEDIT_UNUSED);     /* the first row */
    assert_int_equal(textedit_key(&te, UK_DOWN), TEXTEDIT_MOVED);
    assert_int_equal(textedit_key(&te, UK_DOWN), TEXTEDIT_MOVED);
    assert_int_equal(te.cur, 14);                  /* "abcd" column 4 */
    textedit_key(&te, UK_HOME);
    textedit_key(&te, UK_RIGHT);                   /* column 1: a new goal */
    textedit_key(&te, UK_UP);
    textedit_key(&te, UK_UP);
    assert_int_equal(te.cur, 1);
    textedit_fini(&te);
}

static void test_wrap(void **state)
{
    (void)state;
    struct textedit te;
    textedit_init(&te, 1);
    static const struct {
        const char *text;
        int width, rows;
    } cases[] = {
        {"", 10, 1},
        {"the quick brown fox jumps", 10, 3},      /* "the quick |brown fox |jumps" */
        {"abcdefghijklmnop", 10, 2},               /* no space: cut at the width */
        {"abcdefghij", 10, 2},                     /* fills it: a row for the cursor */
        {"abcdefghi", 10, 1},
        {"a\n\nb", 10, 3},
        {"\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e", 5, 2},   /* 日本語: 2 columns each */
        {"\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e", 6, 2},   /* 6 exactly: the cursor's row */
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        textedit_set(&te, cases[i].text);
        assert_int_equal(textedit_rows(&te, cases[i].width), cases[i].rows);
    }
    /* Up/Down go by the rows of the last draw's width */
    textedit_set(&te, "the quick brown fox jumps");
    te.width = 10;
    assert_int_equal(textedit_key(&te, UK_UP), TEXTEDIT_MOVED);
    assert_int_equal(te.cur, 15);                  /* after "brown": column 5 */
    assert_int_equal(textedit_key(&te, UK_UP), TEXTEDIT_MOVED);
    assert_int_equal(te.cur, 5);                   /* "the q|uick" */
    assert_int_equal(textedit_key(&te, UK_UP), TEXTEDIT_UNUSED);
    textedit_key(&te, UK_END);                     /* the end of the line: the text's end */
    assert_int_equal(te.cur, te.len);
    textedit_fini(&te);
}

static void test_insert_filters(void **state)
{
    (void)state;
    struct textedit te;
    textedit_init(&te, 1);
    textedit_insert(&te, "a\r\nb\rc\td\x01" "e\x1b[Af\xff");
    assert_text(&te, "a\nb\nc    de[Af?");        /* CR LF, CR: breaks; tab: spaces */
    textedit_key(&te, UK_HOME);
    textedit_insert(&te, "x\ny");                  /* at the cursor */
    assert_text(&te, "a\nb\nx\nyc    de[Af?");
    assert_int_equal(te.cur, 7);
    textedit_fini(&te);

    textedit_init(&te, 0);                         /* one line: breaks are spaces */
    textedit_insert(&te, "fs.read\r\nmore\n");
    assert_text(&te, "fs.read more ");
    textedit_set(&te, "one\ntwo");
    assert_text(&te, "one two");
    textedit_fini(&te);
}

static void test_draw(void **state)
{
    (void)state;
    FILE *out, *in;
    SCREEN *scr = screen_open(&out, &in, 24, 80);
    WINDOW *w = newwin(10, 30, 0, 0);
    struct textedit te;
    textedit_init(&te, 1);
    textedit_set(&te, "one\ntwo\nthree\nfour\nfive");
    int cy = -1, cx = -1;
    textedit_draw(w, &te, 1, 2, 3, 10, A_NORMAL, &cy, &cx);
    /* the cursor's row (the last) in view: rows 2-4 shown */
    assert_int_equal(te.top, 2);
    assert_string_equal(line_at(w, 1, 2, 10), "three");
    assert_string_equal(line_at(w, 3, 2, 10), "five");
    assert_int_equal(cy, 3);
    assert_int_equal(cx, 6);
    for (int i = 0; i < 4; i++)
        textedit_key(&te, UK_UP);
    textedit_draw(w, &te, 1, 2, 3, 10, A_NORMAL, &cy, &cx);
    assert_int_equal(te.top, 0);                   /* scrolled back up */
    assert_string_equal(line_at(w, 1, 2, 10), "one");
    assert_int_equal(cy, 1);
    assert_int_equal(cx, 5);                       /* "one" is shorter than column 4 */
    /* a long line wraps at a space to the width drawn */
    textedit_set(&te, "alpha beta gamma");
    textedit_draw(w, &te, 1, 2, 3, 10, A_NORMAL, &cy, &cx);
    assert_string_equal(line_at(w, 1, 2, 10), "alpha");
    assert_string_equal(line_at(w, 2, 2, 10), "beta gamma");
    assert_string_equal(line_at(w, 3, 2, 10), "");
    assert_int_equal(cy, 3);                       /* it fills the row: the next one */
    assert_int_equal(cx, 2);
    /* the cursor between a character and its combining mark, on a row the
     * pair fills: inside the box, on the character's cell */
    textedit_set(&te, "\xc3\xbf\xdc\x91");           /* U+00FF U+0711 */
    textedit_key(&te, UK_LEFT);
    assert_int_equal(te.cur, 1);
    textedit_draw(w, &te, 1, 2, 3, 1, A_NORMAL, &cy, &cx);
    assert_int_equal(cy, 1);
    assert_int_equal(cx, 2);
    textedit_fini(&te);

    /* one line scrolls sideways: the end stays in view */
    textedit_init(&te, 0);
    textedit_set(&te, "0123456789abcdef");
    textedit_draw(w, &te, 5, 0, 1, 8, A_NORMAL, &cy, &cx);
    assert_string_equal(line_at(w, 5, 0, 8), "9abcdef");
    assert_int_equal(cy, 5);
    assert_int_equal(cx, 7);
    textedit_key(&te, UK_HOME);
    textedit_draw(w, &te, 5, 0, 1, 8, A_NORMAL, &cy, &cx);
    assert_string_equal(line_at(w, 5, 0, 8), "01234567");
    assert_int_equal(cx, 0);
    textedit_fini(&te);
    delwin(w);
    screen_close(scr, out, in);
}

/* === the form's boxes === */

static void test_form_prompt_box(void **state)
{
    (void)state;
    struct form *f = form_new();
    assert_int_equal(form_set_kind(f, "generate"), 0);
    form_type(f, "line one");                      /* the form opens on the Prompt */
    assert_int_equal(form_key(f, '\r'), FORM_NONE);    /* Enter: a new line */
    form_type(f, "line two");
    assert_field(f, FORM_PROMPT, "line one\nline two");
    /* Up moves in the text, not out of the box */
    assert_int_equal(form_key(f, UK_UP), FORM_NONE);
    form_key(f, UK_END);
    form_type(f, "!");
    assert_field(f, FORM_PROMPT, "line one!\nline two");
    /* Up on the first row: the Kind row, where letters choose the kind */
    assert_int_equal(form_key(f, UK_UP), FORM_NONE);
    assert_int_equal(form_key(f, 'r'), FORM_KIND);
    assert_string_equal(form_task_type(f), "refactor");
    assert_field(f, FORM_PROMPT, "line one!\nline two");
    /* a paste on the Kind row is not taken */
    assert_int_equal(form_paste(f, "nothing"), 0);
    form_key(f, '\t');                             /* into the box: its cursor kept */
    assert_int_equal(form_paste(f, "\npasted\r\nlines"), 1);
    assert_field(f, FORM_PROMPT, "line one!\npasted\nlines\nline two");
    /* Down through the box (the cursor after "lines"), then out of it */
    assert_int_equal(form_key(f, UK_DOWN), FORM_NONE);
    form_type(f, "_");
    assert_field(f, FORM_PROMPT, "line one!\npasted\nlines\nline _two");
    assert_int_equal(form_key(f, UK_DOWN), FORM_NONE);
    form_type(f, "m");
    assert_field(f, FORM_MODEL, "m");
    assert_int_equal(form_paste(f, "big\nmodel"), 1);  /* one line: the break a space */
    assert_field(f, FORM_MODEL, "mbig model");
    /* Ctrl-S submits from anywhere; the prompt keeps its lines */
    assert_int_equal(form_key(f, 19), FORM_SUBMIT);
    assert_int_equal(form_key(f, UK_BTAB), FORM_NONE);
    assert_int_equal(form_key(f, 19), FORM_SUBMIT);
    form_key(f, UK_END);
    assert_int_equal(form_key(f, '\r'), FORM_NONE);    /* Enter in the box: no submit */
    assert_field(f, FORM_PROMPT, "line one!\npasted\nlines\nline _two\n");
    form_free(f);
}

static void test_form_args_box(void **state)
{
    (void)state;
    struct form *f = form_new();
    form_type(f, "fs.read");
    form_key(f, '\t');
    /* a paste replaces the default {} and keeps its lines */
    form_paste(f, "{\n  \"path\": \"a\"\n}");
    assert_field(f, FORM_ARGS, "{\n  \"path\": \"a\"\n}");
    assert_null(form_field_error(f, FORM_ARGS));
    assert_int_equal(form_key(f, '\n'), FORM_NONE);    /* Ctrl-J: always a new line */
    assert_field(f, FORM_ARGS, "{\n  \"path\": \"a\"\n}\n");
    assert_int_equal(form_key(f, '\r'), FORM_SUBMIT);  /* complete JSON: Enter submits */
    /* typed: Enter starts new lines until the JSON is complete */
    for (int i = 0; i < 3; i++)
        form_key(f, UK_UP);                        /* up the four rows */
    assert_int_equal(form_key(f, UK_UP), FORM_NONE);   /* the first row: to the Tool */
    form_type(f, "_x");
    assert_field(f, FORM_TOOL, "fs.read_x");
    form_key(f, '\t');
    form_key(f, 1);
    for (int i = 0; i < 6; i++)
        form_key(f, 11);                           /* Ctrl-K: each line, then its break */
    assert_field(f, FORM_ARGS, "");
    form_type(f, "{");
    assert_int_equal(form_key(f, '\r'), FORM_NONE);
    form_type(f, "\"path\": \"b\"");
    assert_int_equal(form_key(f, '\r'), FORM_NONE);
    assert_non_null(form_field_error(f, FORM_ARGS));
    form_type(f, "}");
    assert_null(form_field_error(f, FORM_ARGS));
    assert_int_equal(form_key(f, '\r'), FORM_SUBMIT);
    assert_field(f, FORM_ARGS, "{\n\"path\": \"b\"\n}");
    form_free(f);
}

static void test_form_recall_lines(void **state)
{
    (void)state;
    struct form *f = form_new();
    form_set_kind(f, "review");
    form_type(f, "first");
    form_key(f, '\r');
    form_type(f, "second");
    struct form_saved sv;
    form_save(f, &sv);
    assert_string_equal(sv.text[FORM_PROMPT], "first\nsecond");
    form_free(f);

    f = form_new();
    assert_int_equal(form_key(f, UK_UP), FORM_RECALL);  /* fresh: Up recalls */
    form_restore(f, &sv);
    form_saved_fini(&sv);
    assert_string_equal(form_task_type(f), "review");
    assert_field(f, FORM_PROMPT, "first\nsecond");
    /* restored, the cursor at the end: Up goes up the text first, then
     * (untouched) asks for the submission before */
    assert_int_equal(form_key(f, UK_UP), FORM_NONE);
    assert_int_equal(form_key(f, UK_UP), FORM_RECALL);
    form_free(f);
}

/* The form's text starts at screen column 4 (the window at 2 on an
 * 80-column screen, its fields 2 in) and is INNER wide; curscr is what
 * was drawn. */
enum { FORM_X = 4, INNER = 72 };

static void test_form_box_grows(void **state)
{
    (void)state;
    FILE *out, *in;
    SCREEN *scr = screen_open(&out, &in, 24, 80);
    struct theme th;
    theme_defaults(&th);
    struct form *f = form_new();
    form_set_kind(f, "debug");
    form_layout(f, 24, 80);
    form_type(f, "alpha");
    form_key(f, '\r');
    form_type(f, "beta");
    form_draw(f, &th);
    doupdate();
    /* at 80x24 it fits above the status bar with a box of six rows */
    int top = row_with(curscr, FORM_X, INNER, "Kind < debug (model task) >  Ctrl-T change");
    assert_true(top >= 0);
    int a = row_with(curscr, FORM_X, INNER, "alpha"), b = row_with(curscr, FORM_X, INNER, "beta");
    assert_int_equal(a, top + 2);                  /* under the "Prompt" label */
    assert_int_equal(b, a + 1);
    int model = row_with(curscr, FORM_X, INNER, "Model (alias or name; empty: the type's default)");
    assert_int_equal(model, a + 6 + 1);            /* six rows of box, the error line */
    int keys = row_with(curscr, FORM_X, INNER, "Enter new line  ^S submit  Tab next  ^P previous  "
                                        "^O template  Esc");
    assert_true(keys > model);
    assert_true(keys + 1 < 23);                    /* its border above the status bar */

    /* twelve lines: the box grows to what the screen allows (8 rows) and
     * shows the cursor's end of the text, saying which rows */
    for (int i = 3; i <= 12; i++) {
        char line[24];
        snprintf(line, sizeof line, "\nline %d", i);
        form_paste(f, line);
    }
    form_draw(f, &th);
    doupdate();
    assert_int_equal(row_with(curscr, FORM_X, INNER, "alpha"), -1);
    int first = row_with(curscr, FORM_X, INNER, "line 5"), last = row_with(curscr, FORM_X, INNER, "line 12");
    assert_true(first >= 0);
    assert_int_equal(last, first + 7);
    assert_non_null(strstr(line_at(curscr, first - 1, FORM_X, INNER), "rows 5-12/12"));
    assert_int_equal(row_with(curscr, FORM_X, INNER, "Model (alias or name; empty: the type's default)"),
                     last + 2);
    form_free(f);
    screen_close(scr, out, in);
}

/* === bracketed paste === */

/* Keys at now_ms through paste_key; returns how many it did not take. */
static int feed(struct tui *t, const int *keys, size_t n, int64_t now_ms)
{
    int passed = 0;
    for (size_t i = 0; i < n; i++)
        passed += !paste_key(t, keys[i], now_ms);
    return passed;
}

static void test_paste_keys(void **state)
{
    (void)state;
    struct tui *t = xcalloc(1, sizeof *t);
    t->form = form_new();
    form_set_kind(t->form, "generate");
    /* outside a paste keys are tui.c's; a stray end is dropped */
    assert_int_equal(paste_key(t, 'x', 0), 0);
    assert_int_equal(paste_key(t, UK_PASTE_END, 0), 1);
    /* inside: characters are text (CR a line break, control characters
     * dropped), function keys are dropped, a resize still passes */
    static const int keys[] = {UK_PASTE_BEGIN, 'a', '\r', 'b', UK_UP, 19, 27, 0xe9,
                               UK_RESIZE, 'c', UK_PASTE_END};
    assert_int_equal(feed(t, keys, ARRAY_LEN(keys), 10), 1);   /* the resize */
    assert_field(t->form, FORM_PROMPT, "a\nb\xc3\xa9" "c");
    assert_false(t->paste.open);
    assert_null(t->message);
    assert_int_equal(form_key(t->form, 19), FORM_SUBMIT);   /* nothing submitted it */

    /* an end that never comes: the first key PASTE_IDLE_MS later ends it,
     * and is an ordinary key again */
    static const int open_keys[] = {UK_PASTE_BEGIN, 'z'};
    assert_int_equal(feed(t, open_keys, 2, 1000), 0);
    assert_field(t->form, FORM_PROMPT, "a\nb\xc3\xa9" "c");  /* not yet */
    assert_int_equal(paste_key(t, 'q', 1000 + PASTE_IDLE_MS / 2), 1);
    assert_int_equal(paste_key(t, 'q', 1000 + 2 * PASTE_IDLE_MS), 0);
    assert_field(t->form, FORM_PROMPT, "a\nb\xc3\xa9" "czq");

    /* the Kind row takes no text: dropped, with a note */
    form_key(t->form, UK_BTAB);
    static const int kind_keys[] = {UK_PASTE_BEGIN, 'r', UK_PASTE_END};
    assert_int_equal(feed(t, kind_keys, 3, 5000), 0);
    assert_string_equal(form_task_type(t->form), "generate");  /* no 'r' for refactor */
    assert_non_null(t->message);
    assert_string_equal(t->message, "paste ignored: no text field has the focus");
    form_free(t->form);
    t->form = NULL;
    free(t->message);
    t->message = NULL;

    /* the : prompt: one line, breaks and tabs as spaces */
    t->prompt = xcalloc(1, sizeof *t->prompt);
    t->prompt->kind = PROMPT_COMMAND;
    static const int prompt_keys[] = {UK_PASTE_BEGIN, 't', 'h', '\r', '\t', 'e', '\r',
                                      UK_PASTE_END};
    assert_int_equal(feed(t, prompt_keys, ARRAY_LEN(prompt_keys), 6000), 0);
    assert_string_equal(t->prompt->text.data, "th  e ");
    assert_null(t->message);
    buf_fini(&t->prompt->text);
    free(t->prompt);
    t->prompt = NULL;

    /* nothing to paste into: a note, no key run */
    static const int q_keys[] = {UK_PASTE_BEGIN, 'q', UK_PASTE_END};
    assert_int_equal(feed(t, q_keys, 3, 7000), 0);
    assert_string_equal(t->message, "paste ignored: no text field has the focus");
    free(t->message);
    paste_fini(t);
    free(t);
}

int main(void)
{
    setlocale(LC_ALL, "C.UTF-8");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_edit_across_lines),
        cmocka_unit_test(test_up_down),
        cmocka_unit_test(test_wrap),
        cmocka_unit_test(test_insert_filters),
        cmocka_unit_test(test_draw),
        cmocka_unit_test(test_form_prompt_box),
        cmocka_unit_test(test_form_args_box),
        cmocka_unit_test(test_form_recall_lines),
        cmocka_unit_test(test_form_box_grows),
        cmocka_unit_test(test_paste_keys),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
