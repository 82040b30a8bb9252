/* test_ui.c — theme parsing, text measuring and the Registry pane's cells
 * and layout in ui/ (curses draws into windows of a screen on /dev/null;
 * no terminal needed). */
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
#include "engine.h"

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
        else {   /* dark colours health: green, yellow, red */
            assert_int_equal(t.style[THEME_HEALTH_OK].fg, 2);
            assert_int_equal(t.style[THEME_HEALTH_WARN].fg, 3);
            assert_int_equal(t.style[THEME_HEALTH_BAD].fg, 1);
        }
    }
    assert_string_equal(theme_el_name(THEME_HEALTH_OK), "health_ok");
    assert_string_equal(theme_el_name(THEME_HEALTH_WARN), "health_warn");
    assert_string_equal(theme_el_name(THEME_HEALTH_BAD), "health_bad");
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

/* === the Registry pane === */

static const char *const caps_fs[] = {"files", "search"};
static const char *const caps_bad[] = {"mcp_echo"};
static const char *const types_fs[] = {"review", "test"};
#define NOW 1700000000000LL

static void servers(struct engine_server_info v[3])
{
    memset(v, 0, 3 * sizeof *v);
    v[0] = (struct engine_server_info){
        .name = "fs", .kind = "builtin", .state = SERVER_READY, .ntools = 3,
        .calls = 12, .errors = 1, .health = SERVER_HEALTH_HEALTHY,
        .health_reason = "ping answered in 0 ms", .checked_ms = NOW - 5000,
        .latency_ms = 0, .breaker = "closed", .caps = caps_fs, .ncaps = 2,
        .caps_source = "catalog", .task_types = types_fs, .ntask_types = 2};
    v[1] = (struct engine_server_info){
        .name = "badserver", .kind = "stdio", .state = SERVER_DISABLED,
        .health = SERVER_HEALTH_UNKNOWN, .latency_ms = -1, .breaker = "half-open",
        .caps = caps_bad, .ncaps = 1, .caps_source = "derived", .restarts = 2};
    v[2] = (struct engine_server_info){
        .name = "flaky", .kind = "stdio", .state = SERVER_READY, .ntools = 4,
        .health = SERVER_HEALTH_UNHEALTHY, .health_reason = "check failed: boom",
        .checked_ms = NOW - 1000, .latency_ms = 2500, .breaker = "open",
        .breaker_retry_ms = NOW + 41200, .last_error = "flaky: failure 3",
        .caps_source = "config"};
}

static void test_registry_cells(void **state)
{
    struct engine_server_info v[3];
    servers(v);
    static const struct {
        int server;
        enum registry_col col;
        const char *want;
    } cases[] = {
        {0, RCOL_STATE, "ready"},      {1, RCOL_STATE, "disabled"},
        {0, RCOL_HEALTH, "healthy"},   {1, RCOL_HEALTH, "unknown"},
        {2, RCOL_HEALTH, "unhealthy"}, {0, RCOL_BREAKER, "closed"},
        {1, RCOL_BREAKER, "half-open"}, {2, RCOL_BREAKER, "open 42s"},
        {0, RCOL_CHECK, "0ms"},        {1, RCOL_CHECK, "-"},
        {2, RCOL_CHECK, "2s"},         {0, RCOL_TOOLS, "3"},
        {0, RCOL_CALLS, "12/1"},       {0, RCOL_KIND, "builtin"},
        {0, RCOL_CAPS, "files,search"}, {1, RCOL_CAPS, "mcp_echo*"},
        {2, RCOL_CAPS, "-"},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        char out[64];
        pane_registry_cell(out, sizeof out, &v[cases[i].server], cases[i].col, NOW);
        assert_string_equal(out, cases[i].want);
    }
    char small[6];                                 /* cut short, still terminated */
    pane_registry_cell(small, sizeof small, &v[0], RCOL_CAPS, NOW);
    assert_true(strlen(small) < sizeof small);
    v[2].breaker_retry_ms = NOW - 10;              /* due: the trial may go */
    char out[32];
    pane_registry_cell(out, sizeof out, &v[2], RCOL_BREAKER, NOW);
    assert_string_equal(out, "open 0s");
}

static SCREEN *screen_open(FILE **out, FILE **in)
{
    *out = fopen("/dev/null", "w");
    *in = fopen("/dev/null", "r");
    assert_non_null(*out);
    assert_non_null(*in);
    SCREEN *scr = newterm("xterm", *out, *in);
    assert_non_null(scr);
    set_term(scr);
    return scr;
}

static void screen_close(SCREEN *scr, FILE *out, FILE *in)
{
    endwin();
    delscreen(scr);
    fclose(out);
    fclose(in);
}

/* Line y of w without its trailing blanks, in a static buffer. */
static const char *line_of(WINDOW *w, int y)
{
    static char buf[256];
    int n = mvwinnstr(w, y, 0, buf, (int)sizeof buf - 1);
    if (n < 0)
        n = 0;
    buf[n] = 0;
    while (n > 0 && buf[n - 1] == ' ')
        buf[--n] = 0;
    return buf;
}

static int screen_has(WINDOW *w, const char *text)
{
    for (int y = 0; y < getmaxy(w); y++)
        if (strstr(line_of(w, y), text))
            return 1;
    return 0;
}

static void render(WINDOW *w, const struct engine_server_info *v, size_t n,
                   struct registry_state *rs)
{
    struct theme th;
    theme_defaults(&th);
    werase(w);
    pane_registry_render(w, &th, 0, v, n, rs, NOW);
}

static void test_registry_columns(void **state)
{
    FILE *out, *in;
    SCREEN *scr = screen_open(&out, &in);
    struct engine_server_info v[3];
    servers(v);
    static const struct {
        int width;
        const char *last;            /* the rightmost column title shown */
        const char *gone;            /* the one after it, dropped */
    } cases[] = {
        {120, "CAPS (*derived)", NULL},
        {80, "CAPS", "(*derived)"},   /* too narrow for the legend */
        {70, "KIND", "CAPS"},
        {58, "TOOLS", "CALLS/ERR"},
        {40, "BREAKER", "CHECK"},
        {24, "STATE", "HEALTH"},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        WINDOW *w = newwin(12, cases[i].width, 0, 0);
        assert_non_null(w);
        struct registry_state rs = {0};
        render(w, v, 3, &rs);
        const char *header = line_of(w, 0);
        assert_non_null(strstr(header, cases[i].last));
        size_t len = strlen(header), tl = strlen(cases[i].last);
        assert_true(len >= tl && strcmp(header + len - tl, cases[i].last) == 0);
        if (cases[i].gone)
            assert_null(strstr(header, cases[i].gone));
        /* rows: glyph, name, state; the rest as far as shown */
        assert_non_null(strstr(line_of(w, 1), "+ fs"));
        assert_non_null(strstr(line_of(w, 2), "- badserver disabled"));
        if (cases[i].width >= 40)
            assert_non_null(strstr(line_of(w, 3), "unhealthy open 42s"));
        if (cases[i].width >= 80) {
            assert_non_null(strstr(line_of(w, 1), "12/1"));
            assert_true(strlen(line_of(w, 2)) > 9);
            assert_non_null(strstr(line_of(w, 2), "mcp_echo*"));
            if (cases[i].width == 120) {
                assert_non_null(strstr(line_of(w, 1), "files,search"));
                assert_null(strstr(line_of(w, 1), "files,search*"));
            } else {                                      /* cut to the column */
                assert_non_null(strstr(line_of(w, 1), "files,sea"));
            }
            /* fs is selected: its caps are in the column, not the footer */
            assert_false(screen_has(w, "  caps "));
        } else {
            /* no CAPS column: the footer names the selection's caps */
            assert_true(cases[i].width < 58 || screen_has(w, "caps files,search"));
        }
        /* the footer: the first server is selected */
        assert_string_equal(rs.sel, "fs");
        assert_true(screen_has(w, cases[i].width < 40 ? "fs: healthy, ping"
                                                      : "fs: healthy, ping answered in 0 ms"));
        assert_true(cases[i].width < 30 || screen_has(w, "task types: review, test"));
        assert_true(cases[i].width < 40 || screen_has(w, "restarts 0  checked 5s ago"));
        free(rs.sel);
        delwin(w);
    }
    screen_close(scr, out, in);
}

static void test_registry_selection(void **state)
{
    FILE *out, *in;
    SCREEN *scr = screen_open(&out, &in);
    struct engine_server_info v[3];
    servers(v);
    struct registry_state rs = {0};
    rs.sel = xstrdup("flaky");
    WINDOW *w = newwin(10, 80, 0, 0);
    render(w, v, 3, &rs);
    /* 9 rows under the header: the footer takes 4 (there is an error) */
    assert_int_equal(rs.visible, 5);
    assert_string_equal(line_of(w, 6), "flaky: unhealthy, check failed: boom");
    assert_string_equal(line_of(w, 7), "task types: -");
    assert_non_null(strstr(line_of(w, 8), "restarts 0  checked 1s ago"));
    assert_string_equal(line_of(w, 9), "error: flaky: failure 3");

    /* a short pane scrolls to keep the selection in view */
    delwin(w);
    w = newwin(6, 80, 0, 0);
    render(w, v, 3, &rs);
    assert_int_equal(rs.visible, 1);
    assert_int_equal(rs.top, 2);
    assert_non_null(strstr(line_of(w, 1), "+ flaky"));
    assert_true(screen_has(w, "flaky: unhealthy"));

    /* a selection that is gone falls back to the first server */
    free(rs.sel);
    rs.sel = xstrdup("removed");
    render(w, v, 3, &rs);
    assert_string_equal(rs.sel, "fs");
    assert_int_equal(rs.top, 0);

    /* tiny and empty panes */
    delwin(w);
    w = newwin(1, 10, 0, 0);
    render(w, v, 3, &rs);
    assert_int_equal(rs.visible, 0);
    render(w, v, 0, &rs);
    assert_string_equal(line_of(w, 0), "no servers");
    delwin(w);
    free(rs.sel);
    screen_close(scr, out, in);
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
        cmocka_unit_test(test_registry_cells),
        cmocka_unit_test(test_registry_columns),
        cmocka_unit_test(test_registry_selection),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
