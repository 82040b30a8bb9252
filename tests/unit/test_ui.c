/* test_ui.c — theme parsing and text measuring in ui/ (no terminal needed). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <locale.h>
#include <stdlib.h>
#include <string.h>
#include "ui.h"
#include "embedded.h"

static int parse(struct theme *t, const char *text, char **err)
{
    *err = NULL;
    return theme_parse(t, "t.yaml", text, strlen(text), err);
}

static void test_theme_embedded_files_parse(void **state)
{
    const char *names[] = {"themes/dark.yaml", "themes/mono.yaml"};
    for (int i = 0; i < 2; i++) {
        const struct embedded_file *f = embedded_find(names[i]);
        assert_non_null(f);
        struct theme t;
        theme_defaults(&t);
        char *err = NULL;
        assert_int_equal(theme_parse(&t, names[i], (const char *)f->data, f->len, &err), 0);
        assert_null(err);
        if (i == 1)
            for (int el = 0; el < THEME_COUNT; el++) {
                assert_int_equal(t.style[el].fg, -1);
                assert_int_equal(t.style[el].bg, -1);
            }
    }
}

static void test_theme_values(void **state)
{
    struct theme t;
    theme_defaults(&t);
    char *err;
    assert_int_equal(parse(&t, "elements:\n  title: {fg: bright_red, bg: 17, attrs: [bold, underline]}\n"
                               "  dim: {attrs: reverse}\n", &err), 0);
    assert_int_equal(t.style[THEME_TITLE].fg, 9);
    assert_int_equal(t.style[THEME_TITLE].bg, 17);
    assert_true(t.attr[THEME_TITLE] == (A_BOLD | A_UNDERLINE));
    assert_true(t.attr[THEME_DIM] == A_REVERSE);
    assert_true(t.attr[THEME_SELECTED] == A_REVERSE);   /* untouched default */
}

static void test_theme_errors(void **state)
{
    struct theme t, before;
    theme_defaults(&t);
    before = t;
    char *err;
    assert_int_equal(parse(&t, "elements:\n  title: {fg: red}\n  nosuch: {fg: red}\n", &err), -1);
    assert_non_null(strstr(err, "t.yaml:3:3"));
    assert_non_null(strstr(err, "unknown theme element 'nosuch'"));
    free(err);
    assert_memory_equal(&t, &before, sizeof t);          /* unchanged on error */
    assert_int_equal(parse(&t, "elements:\n  title: {fg: purple}\n", &err), -1);
    assert_non_null(strstr(err, "t.yaml:2:15"));
    assert_non_null(strstr(err, "bad colour"));
    free(err);
    assert_int_equal(parse(&t, "elements:\n  title: {fg: 256}\n", &err), -1);
    free(err);
    assert_int_equal(parse(&t, "elements:\n  title: {attrs: [bold, sparkly]}\n", &err), -1);
    assert_non_null(strstr(err, "unknown attribute"));
    free(err);
    assert_int_equal(parse(&t, "elements:\n  title: {colour: red}\n", &err), -1);
    assert_non_null(strstr(err, "unknown key 'colour'"));
    free(err);
    assert_int_equal(parse(&t, "elements: [a, b]\n", &err), -1);
    assert_non_null(strstr(err, "'elements' must be a mapping"));
    free(err);
    assert_int_equal(parse(&t, "colours: {}\n", &err), -1);
    free(err);
    assert_int_equal(parse(&t, "", &err), -1);
    free(err);
    assert_int_equal(parse(&t, "elements: {title: [\n", &err), -1);   /* YAML syntax */
    free(err);
    assert_int_equal(parse(&t, "elements:\n  title: red\n", &err), -1);
    assert_non_null(strstr(err, "expected a mapping"));
    free(err);
}

static void test_draw_measure(void **state)
{
    const char *s = "caf\xc3\xa9 \xe4\xb8\xad\xe6\x96\x87!";   /* café 中文! */
    assert_int_equal(draw_width(s, strlen(s)), 10);
    int cols;
    assert_int_equal(draw_fit(s, strlen(s), 6, &cols), 6);    /* "café " and not half of 中 */
    assert_int_equal(cols, 5);
    assert_int_equal(draw_fit(s, strlen(s), 7, &cols), 9);
    assert_int_equal(cols, 7);
    assert_int_equal(draw_fit("ab\ncd", 5, 10, &cols), 2);      /* stops at a newline */
    assert_int_equal(draw_width("\xff\x01x", 3), 3);            /* invalid and control: 1 each */
    assert_int_equal(draw_fit("\xe4\xb8", 2, 5, &cols), 2);     /* truncated sequence */
    assert_int_equal(cols, 2);
}

static void test_draw_duration(void **state)
{
    char b[16];
    draw_duration(b, sizeof b, 250);
    assert_string_equal(b, "0.2s");
    draw_duration(b, sizeof b, 59999);
    assert_string_equal(b, "59.9s");
    draw_duration(b, sizeof b, 185000);
    assert_string_equal(b, "3m05s");
    draw_duration(b, sizeof b, 7380000);
    assert_string_equal(b, "2h03m");
    draw_duration(b, sizeof b, -1);
    assert_string_equal(b, "-");
}

static void test_glyph_fallback(void **state)
{
    assert_string_equal(draw_glyph(0, GLYPH_SRV_READY), "+");
    assert_string_equal(draw_glyph(0, GLYPH_SRV_STARTING), "~");
    assert_string_equal(draw_glyph(0, GLYPH_SRV_FAILED), "x");
    assert_string_equal(draw_glyph(0, GLYPH_SRV_STOPPED), "-");
    assert_string_equal(draw_glyph(1, GLYPH_SRV_READY), "\u25cf");
    assert_string_equal(draw_glyph(1, GLYPH_COUNT), "?");
}

static void test_form_editing(void **state)
{
    struct form *f = form_new();
    char *s = form_text(f, 1);
    assert_string_equal(s, "{}");                  /* the default */
    free(s);
    const char *tool = "fs.lisx";
    for (const char *p = tool; *p; p++)
        assert_int_equal(form_key(f, *p), FORM_NONE);
    form_key(f, UK_BACKSPACE);
    form_key(f, 't');
    form_key(f, UK_HOME);
    form_key(f, UK_DC);
    form_key(f, 'F');
    form_key(f, 0xe9);                             /* é */
    s = form_text(f, 0);
    assert_string_equal(s, "F\xc3\xa9s.list");
    free(s);
    assert_int_equal(form_key(f, '\r'), FORM_NONE); /* Enter on the first field: next */
    form_key(f, '{');                              /* typing replaces the default */
    form_key(f, '}');
    s = form_text(f, 1);
    assert_string_equal(s, "{}");
    free(s);
    form_key(f, UK_LEFT);
    form_key(f, 'x');
    s = form_text(f, 1);
    assert_string_equal(s, "{x}");
    free(s);
    assert_int_equal(form_key(f, '\r'), FORM_SUBMIT);
    assert_int_equal(form_key(f, 19), FORM_SUBMIT);
    assert_int_equal(form_key(f, UK_BTAB), FORM_NONE);
    form_key(f, 21);                               /* Ctrl-U clears the tool */
    s = form_text(f, 0);
    assert_string_equal(s, "");
    free(s);
    assert_int_equal(form_key(f, 27), FORM_CANCEL);
    form_set_error(f, xstrdup("bad"));
    form_free(f);
    form_free(NULL);
}

static void test_scroll(void **state)
{
    int top = 0;
    assert_int_equal(pane_scroll_key(&top, 100, 10, UK_NPAGE), 1);
    assert_int_equal(top, 9);
    pane_scroll_key(&top, 100, 10, UK_END);
    assert_int_equal(top, 90);
    pane_scroll_key(&top, 100, 10, UK_DOWN);
    assert_int_equal(top, 90);
    pane_scroll_key(&top, 100, 10, UK_HOME);
    assert_int_equal(top, 0);
    pane_scroll_key(&top, 100, 10, UK_UP);
    assert_int_equal(top, 0);
    assert_int_equal(pane_scroll_key(&top, 100, 10, 'x'), 0);
    top = 50;
    pane_scroll_clamp(&top, 5, 10);                /* fewer rows than fit */
    assert_int_equal(top, 0);
}

int main(void)
{
    setlocale(LC_ALL, "C.UTF-8");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_theme_embedded_files_parse),
        cmocka_unit_test(test_theme_values),
        cmocka_unit_test(test_theme_errors),
        cmocka_unit_test(test_draw_measure),
        cmocka_unit_test(test_draw_duration),
        cmocka_unit_test(test_glyph_fallback),
        cmocka_unit_test(test_form_editing),
        cmocka_unit_test(test_scroll),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
