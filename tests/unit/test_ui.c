/* test_ui.c — theme parsing, text measuring, the new-task form, the
 * Registry pane's cells and layout, streamed answers of model tasks, the
 * Results text built from them and the approval questions in ui/; the key
 * and command tables, help, completion, the prompt, sparklines, result
 * line styles, the Tasks filter, and the engine's job pages (curses
 * draws into windows of a screen on /dev/null; no terminal needed). */
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
#include "embedded.h"
#include "config.h"
#include "engine.h"
#include "loop.h"
#include <cjson/cJSON.h>

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
    assert_non_null(form_field_error(f, FORM_ARGS));   /* not JSON: refused */
    assert_int_equal(form_key(f, '\r'), FORM_NONE);    /* incomplete: a new line */
    s = form_text(f, 1);
    assert_string_equal(s, "{x\n}");
    free(s);
    form_key(f, UK_BACKSPACE);
    form_key(f, UK_BACKSPACE);
    assert_null(form_field_error(f, FORM_ARGS));
    assert_int_equal(form_key(f, '\r'), FORM_SUBMIT);
    assert_int_equal(form_key(f, 19), FORM_SUBMIT);
    assert_int_equal(form_key(f, UK_BTAB), FORM_NONE);
    form_key(f, 21);                               /* Ctrl-U: up to the cursor (after é) */
    s = form_text(f, 0);
    assert_string_equal(s, "s.list");
    free(s);
    form_key(f, 11);                               /* Ctrl-K: the rest */
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
        .caps_source = "catalog", .task_types = types_fs, .ntask_types = 2,
        .call_p50_ms = 1.2, .call_p95_ms = 7.0};
    v[1] = (struct engine_server_info){
        .name = "badserver", .kind = "stdio", .state = SERVER_DISABLED,
        .health = SERVER_HEALTH_UNKNOWN, .latency_ms = -1, .breaker = "half-open",
        .caps = caps_bad, .ncaps = 1, .caps_source = "derived", .restarts = 2,
        .call_p50_ms = -1, .call_p95_ms = -1};
    v[2] = (struct engine_server_info){
        .name = "flaky", .kind = "stdio", .state = SERVER_READY, .ntools = 4,
        .health = SERVER_HEALTH_UNHEALTHY, .health_reason = "check failed: boom",
        .checked_ms = NOW - 1000, .latency_ms = 2500, .breaker = "open",
        .breaker_retry_ms = NOW + 41200, .last_error = "flaky: failure 3",
        .caps_source = "config", .call_p50_ms = -1, .call_p95_ms = -1};
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
        {2, RCOL_CAPS, "-"},           {0, RCOL_LATENCY, "1ms/7ms"},
        {1, RCOL_LATENCY, "-"},
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

/* Line y of w without its trailing blanks, in a static buffer. */
static const char *line_of(WINDOW *w, int y)
{
    return line_at(w, y, 0, 255);
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
    SCREEN *scr = screen_open(&out, &in, 0, 0);
    struct engine_server_info v[3];
    servers(v);
    static const struct {
        int width;
        const char *last;            /* the rightmost column title shown */
        const char *gone;            /* the one after it, dropped */
    } cases[] = {
        {132, "CAPS (*derived)", NULL},
        {92, "CAPS", "(*derived)"},   /* too narrow for the legend */
        {82, "KIND", "CAPS"},
        {70, "TOOLS", "CALLS/ERR"},
        {58, "P50/P95", "TOOLS"},
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
        if (cases[i].width >= 92) {
            assert_non_null(strstr(line_of(w, 1), "12/1"));
            assert_true(strlen(line_of(w, 2)) > 9);
            assert_non_null(strstr(line_of(w, 2), "mcp_echo*"));
            if (cases[i].width == 132) {
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
    SCREEN *scr = screen_open(&out, &in, 0, 0);
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

/* === model tasks: the form's kinds === */

static void type_str(struct form *f, const char *s)
{
    for (; *s; s++)
        form_key(f, (unsigned char)*s);
}

static void test_form_kinds(void **state)
{
    struct form *f = form_new();
    assert_null(form_task_type(f));                /* a tool call by default */
    type_str(f, "fs.list");                        /* the first text field has focus */
    assert_int_equal(form_key(f, UK_UP), FORM_NONE);   /* to the Kind row */
    static const struct {
        int key;
        enum form_action want;
        const char *type;                          /* NULL = tool call */
    } steps[] = {
        {'r', FORM_KIND, "refactor"}, {'r', FORM_KIND, "review"},
        {'r', FORM_KIND, "refactor"},              /* the next one with that letter */
        {'d', FORM_KIND, "debug"},    {'d', FORM_KIND, "document"},
        {'d', FORM_KIND, "deploy"},   {'x', FORM_NONE, "deploy"},   /* no such kind */
        {UK_RIGHT, FORM_KIND, NULL},  {UK_LEFT, FORM_KIND, "deploy"},
        {' ', FORM_KIND, NULL},       {'g', FORM_KIND, "generate"},
        {20, FORM_KIND, "refactor"},               /* Ctrl-T */
        {'t', FORM_KIND, "test"},     {'t', FORM_KIND, NULL},       /* test, then tool */
    };
    for (size_t i = 0; i < ARRAY_LEN(steps); i++) {
        assert_int_equal(form_key(f, steps[i].key), steps[i].want);
        if (steps[i].type)
            assert_string_equal(form_task_type(f), steps[i].type);
        else
            assert_null(form_task_type(f));
    }
    assert_int_equal(form_set_kind(f, "review"), 0);
    assert_int_equal(form_set_kind(f, "nosuch"), -1);
    assert_string_equal(form_task_type(f), "review");
    /* the model kind has its own fields: prompt, then model */
    form_key(f, '\t');
    type_str(f, "check the diff");
    assert_int_equal(form_key(f, '\t'), FORM_NONE);   /* Enter would start a line */
    type_str(f, "big");
    assert_int_equal(form_key(f, '\r'), FORM_SUBMIT);
    char *p = form_text(f, FORM_PROMPT), *m = form_text(f, FORM_MODEL);
    char *tool = form_text(f, FORM_TOOL), *args = form_text(f, FORM_ARGS);
    assert_string_equal(p, "check the diff");
    assert_string_equal(m, "big");
    assert_string_equal(tool, "fs.list");          /* kept for the tool kind */
    assert_string_equal(args, "{}");
    free(p);
    free(m);
    free(tool);
    free(args);
    assert_int_equal(form_key(f, 20), FORM_KIND);  /* Ctrl-T from a text field */
    assert_string_equal(form_task_type(f), "document");
    char *bad = form_text(f, 9);
    assert_string_equal(bad, "");
    free(bad);
    form_free(f);
}

/* === the form: priority, timeout, live checks, completion, recall === */

static void test_form_priority_timeout(void **state)
{
    (void)state;
    static const struct {
        const char *prio, *timeout;
        int prio_ok, prio_want, timeout_ok, timeout_want;
    } cases[] = {
        {"", "", 1, 0, 1, 0},
        {"5", "30s", 1, 5, 1, 30000},
        {" -3 ", "1500ms", 1, -3, 1, 1500},
        {"1000000", "5m", 1, 1000000, 1, 300000},
        {"1000001", "0", 0, 0, 0, 0},
        {"x", "30q", 0, 0, 0, 0},
        {"4.5", "-1s", 0, 0, 0, 0},
        {"7", "45", 1, 7, 1, 45000},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        struct form *f = form_new();
        type_str(f, "fs.list_directory");
        form_key(f, '\t');                         /* args */
        form_key(f, '\t');                         /* priority */
        type_str(f, cases[i].prio);
        form_key(f, '\t');                         /* timeout */
        type_str(f, cases[i].timeout);
        int p = -99, ms = -99;
        assert_int_equal(form_priority(f, &p), cases[i].prio_ok ? 0 : -1);
        assert_int_equal(form_timeout_ms(f, &ms), cases[i].timeout_ok ? 0 : -1);
        if (cases[i].prio_ok) {
            assert_int_equal(p, cases[i].prio_want);
            assert_null(form_field_error(f, FORM_PRIORITY));
        } else {
            assert_non_null(form_field_error(f, FORM_PRIORITY));
        }
        if (cases[i].timeout_ok) {
            assert_int_equal(ms, cases[i].timeout_want);
            assert_null(form_field_error(f, FORM_TIMEOUT));
        } else {
            assert_non_null(form_field_error(f, FORM_TIMEOUT));
        }
        /* Ctrl-S submits only when both are valid; refused: focus on the bad one */
        int ok = cases[i].prio_ok && cases[i].timeout_ok;
        assert_int_equal(form_key(f, 19), ok ? FORM_SUBMIT : FORM_NONE);
        if (!ok) {
            form_key(f, 21);                       /* Ctrl-U clears the focused field */
            form_key(f, UK_DOWN);
            form_key(f, 21);
            assert_null(form_field_error(f, FORM_PRIORITY));
            assert_null(form_field_error(f, FORM_TIMEOUT));
            assert_int_equal(form_key(f, 19), FORM_SUBMIT);
        }
        form_free(f);
    }
}

static int check_calls;

/* A check hook: fs.read wants {"path": string}. */
static int fake_check(void *payload, const char *target, const cJSON *args, char **err)
{
    (void)payload;
    check_calls++;
    if (strcmp(target, "fs.read") != 0)
        return 0;
    if (!cJSON_IsString(cJSON_GetObjectItemCaseSensitive(args, "path"))) {
        *err = xstrdup("args.path: expected string");
        return -1;
    }
    return 0;
}

static size_t fake_targets(void *payload, char ***out)
{
    (void)payload;
    static const char *const names[] = {"fs.read_text_file", "fs.read_media_file",
                                        "fs.list_directory", "git.status", "fs.read"};
    char **v = xcalloc(ARRAY_LEN(names), sizeof *v);
    for (size_t i = 0; i < ARRAY_LEN(names); i++)
        v[i] = xstrdup(names[i]);
    *out = v;
    return ARRAY_LEN(names);
}

static void test_form_live_check(void **state)
{
    (void)state;
    struct form *f = form_new();
    struct form_hooks h = {.check = fake_check};
    form_set_hooks(f, &h);
    type_str(f, "fs.read");
    /* the default {} already fails the tool's schema */
    assert_non_null(form_field_error(f, FORM_ARGS));
    assert_string_equal(form_field_error(f, FORM_ARGS), "args.path: expected string");
    form_key(f, '\t');
    static const struct {
        const char *typed;
        const char *err;                           /* NULL = fine */
    } steps[] = {
        {"{\"path\":", "args: not valid JSON"},
        {"1}", "args.path: expected string"},
        {NULL, NULL},                              /* NULL: Ctrl-U */
        {"[]", "args: expected a JSON object"},
        {NULL, NULL},
        {"{\"path\":\"a\"}", NULL},
    };
    for (size_t i = 0; i < ARRAY_LEN(steps); i++) {
        if (steps[i].typed)
            type_str(f, steps[i].typed);
        else
            form_key(f, 21);
        if (!steps[i].typed)
            continue;
        if (steps[i].err) {
            assert_non_null(form_field_error(f, FORM_ARGS));
            assert_string_equal(form_field_error(f, FORM_ARGS), steps[i].err);
            assert_int_equal(form_key(f, 19), FORM_NONE);   /* refused */
        } else {
            assert_null(form_field_error(f, FORM_ARGS));
        }
    }
    assert_int_equal(form_key(f, 19), FORM_SUBMIT);
    /* another tool: the hook accepts anything */
    form_key(f, UK_UP);
    form_key(f, 21);
    type_str(f, "fs.other");
    form_key(f, UK_DOWN);
    form_key(f, 21);
    type_str(f, "{}");
    assert_null(form_field_error(f, FORM_ARGS));
    /* a model task has no arguments to check */
    check_calls = 0;
    form_key(f, 20);
    assert_null(form_field_error(f, FORM_ARGS));
    assert_int_equal(check_calls, 0);
    form_free(f);
}

static void test_form_complete(void **state)
{
    (void)state;
    struct form *f = form_new();
    struct form_hooks h = {.targets = fake_targets};
    form_set_hooks(f, &h);
    static const struct {
        const char *typed;                         /* typed after Ctrl-U */
        const char *after_tab;                     /* the tool text after one Tab */
        int moved;                                 /* that Tab left the field */
    } cases[] = {
        {"fs.read_t", "fs.read_text_file", 0},     /* unique */
        {"fs.re", "fs.read", 0},                   /* the common prefix */
        {"fs.read_text_file", "fs.read_text_file", 1},   /* complete: Tab moves on */
        {"zz", "zz", 1},                           /* nothing matches */
        {"", "", 1},                               /* empty: no completion */
        {"g", "git.status", 0},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        form_key(f, 21);
        type_str(f, cases[i].typed);
        assert_int_equal(form_key(f, '\t'), FORM_NONE);
        char *s = form_text(f, FORM_TOOL);
        assert_string_equal(s, cases[i].after_tab);
        free(s);
        if (cases[i].moved) {
            form_key(f, UK_BTAB);                  /* back to the tool */
        }
        /* typing goes to the tool field when the Tab stayed */
        form_key(f, 'Q');
        s = form_text(f, FORM_TOOL);
        char *want = xasprintf("%sQ", cases[i].after_tab);
        assert_string_equal(s, want);
        free(want);
        free(s);
    }
    /* "fs.read" is a target and a prefix of others: Tab lists them once,
     * then moves on */
    form_key(f, 21);
    type_str(f, "fs.read_");
    assert_int_equal(form_key(f, '\t'), FORM_NONE);   /* listed */
    form_key(f, '\t');                                /* moves on to Args */
    form_key(f, 21);
    type_str(f, "{}");
    char *a = form_text(f, FORM_ARGS), *tool = form_text(f, FORM_TOOL);
    assert_string_equal(a, "{}");
    assert_string_equal(tool, "fs.read_");
    free(a);
    free(tool);
    form_free(f);
}

static void test_form_recall(void **state)
{
    (void)state;
    struct form *f = form_new();
    assert_int_equal(form_key(f, UK_UP), FORM_RECALL);   /* untouched */
    type_str(f, "fs.read");
    form_key(f, '\t');
    type_str(f, "{\"path\":\"x\"}");
    form_key(f, '\t');
    type_str(f, "9");
    struct form_saved sv;
    form_save(f, &sv);
    assert_int_equal(form_key(f, UK_UP), FORM_NONE);      /* touched: Up moves */
    assert_int_equal(form_key(f, 16), FORM_RECALL);       /* Ctrl-P always */
    form_free(f);

    f = form_new();
    form_restore(f, &sv);
    form_saved_fini(&sv);
    char *t = form_text(f, FORM_TOOL), *a = form_text(f, FORM_ARGS);
    assert_string_equal(t, "fs.read");
    assert_string_equal(a, "{\"path\":\"x\"}");
    free(t);
    free(a);
    int p = 0;
    assert_int_equal(form_priority(f, &p), 0);
    assert_int_equal(p, 9);
    assert_null(form_task_type(f));
    /* restored counts as untouched: Up asks for the one before */
    assert_int_equal(form_key(f, UK_UP), FORM_RECALL);
    form_key(f, 'x');
    assert_int_equal(form_key(f, UK_UP), FORM_NONE);
    /* a model kind survives the round trip */
    form_set_kind(f, "review");
    form_save(f, &sv);
    form_free(f);
    f = form_new();
    form_restore(f, &sv);
    form_saved_fini(&sv);
    assert_string_equal(form_task_type(f), "review");
    form_free(f);
}

/* === streamed answers === */

static void test_streams(void **state)
{
    struct streams s;
    streams_init(&s, 64);
    assert_null(streams_find(&s, 7));
    streams_add(&s, 7, "hello ");
    streams_add(&s, 8, "other");
    struct ui_stream *st = streams_add(&s, 7, "world");
    assert_string_equal(st->text.data, "hello world");
    assert_int_equal(st->restarts, 0);
    /* NULL: forget it, count the restart */
    st = streams_add(&s, 7, NULL);
    assert_int_equal(st->text.len, 0);
    assert_int_equal(st->restarts, 1);
    streams_add(&s, 7, "again");
    assert_string_equal(streams_find(&s, 7)->text.data, "again");
    assert_string_equal(streams_find(&s, 8)->text.data, "other");

    /* the cap keeps the tail, cut on a character boundary */
    for (int i = 0; i < 30; i++)
        st = streams_add(&s, 9, "\xc3\xa9");       /* é, 2 bytes: 60 bytes */
    assert_int_equal(st->text.len, 60);
    assert_int_equal(st->dropped, 0);
    st = streams_add(&s, 9, "abcdefg");           /* 67 > 64: the front goes */
    assert_true(st->text.len <= 64);
    assert_int_equal(st->dropped + st->text.len, 67);
    assert_true(((unsigned char)st->text.data[0] & 0xC0) != 0x80);
    assert_int_equal(strcmp(st->text.data + st->text.len - 7, "abcdefg"), 0);
    assert_int_equal((st->text.len - 7) % 2, 0);   /* only whole é before it */
    assert_int_equal(draw_width(st->text.data, st->text.len), (int)(st->text.len - 7) / 2 + 7);
    /* one piece bigger than the cap: its tail */
    char big[200];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = 0;
    big[sizeof big - 2] = 'Z';
    st = streams_add(&s, 9, big);
    assert_int_equal(st->text.len, 64);
    assert_int_equal(st->text.data[63], 'Z');
    assert_true(st->dropped >= 67 + 199 - 64 - 1);

    assert_int_equal(streams_drop(&s, 7), 1);
    assert_int_equal(streams_drop(&s, 7), 0);
    assert_null(streams_find(&s, 7));
    assert_string_equal(streams_find(&s, 8)->text.data, "other");   /* the others stay */
    assert_non_null(streams_find(&s, 9));
    streams_fini(&s);
    streams_fini(&s);                             /* twice is harmless */
}

/* === the Results text for model tasks === */

static const char *para_text(const struct results_state *rs, size_t i)
{
    static char b[256];
    size_t n = rs->para[i].len < sizeof b - 1 ? rs->para[i].len : sizeof b - 1;
    memcpy(b, rs->text + rs->para[i].off, n);
    b[n] = 0;
    return b;
}

static int para_find(const struct results_state *rs, const char *text, enum theme_el el)
{
    for (size_t i = 0; i < rs->npara; i++)
        if (strstr(para_text(rs, i), text) && (el == THEME_COUNT || rs->para[i].el == el))
            return (int)i;
    return -1;
}

static void test_results_model(void **state)
{
    struct results_state rs;
    memset(&rs, 0, sizeof rs);
    struct job j;
    memset(&j, 0, sizeof j);
    j.id = 12;
    j.kind = "model";
    j.tool = "review";
    j.server = "everything";
    j.args_json = "{\"prompt\":\"look\"}";
    j.status = JOB_RUNNING;
    j.attempts = 1;
    j.max_attempts = 3;

    /* running, nothing streamed yet */
    assert_int_equal(pane_results_build(&rs, &j, NULL), 0);
    assert_true(para_find(&rs, "job 12  review (model task) via everything  running",
                          THEME_STATUS_RUN) == 0);
    assert_true(para_find(&rs, "(no result yet)", THEME_DIM) > 0);

    /* streaming, after a restart, with the start dropped */
    struct streams s;
    streams_init(&s, 1024);
    streams_add(&s, 12, "lost");
    streams_add(&s, 12, NULL);
    struct ui_stream *st = streams_add(&s, 12, "first line\nsecond\tline");
    st->dropped = 2048;
    assert_int_equal(pane_results_build(&rs, &j, st), 1);
    assert_int_equal(rs.live, 1);
    int r = para_find(&rs, "(the model's answer restarts)", THEME_DIM);
    int d = para_find(&rs, "(2 KiB from the start not kept)", THEME_DIM);
    int a = para_find(&rs, "first line", THEME_COUNT);
    assert_true(r > 0 && d > r && a > d);
    assert_string_equal(para_text(&rs, (size_t)a + 1), "second  line");   /* tab expanded */
    assert_int_equal(para_find(&rs, "lost", THEME_COUNT), -1);
    assert_int_equal(para_find(&rs, "(no result yet)", THEME_COUNT), -1);
    pane_results_wrap(&rs, 8);                     /* wraps, every line fits */
    assert_true(rs.nlines > rs.npara);
    for (size_t i = 0; i < rs.nlines; i++)
        assert_true(draw_width(rs.text + rs.lines[i].off, rs.lines[i].len) <= 8);

    /* done: the stored result replaces the stream */
    j.status = JOB_SUCCEEDED;
    j.has_result = 1;
    j.result = "{\"content\":[{\"type\":\"text\",\"text\":\"the final answer\"}]}";
    j.result_len = strlen(j.result);
    j.result_mime = "application/vnd.mcpdeck.tool-result+json";
    assert_int_equal(pane_results_build(&rs, &j, st), 0);
    assert_int_equal(rs.live, 0);
    assert_true(para_find(&rs, "the final answer", THEME_COUNT) > 0);
    assert_int_equal(para_find(&rs, "first line", THEME_COUNT), -1);
    assert_int_equal(para_find(&rs, "restarts", THEME_COUNT), -1);

    /* a tool task's header is as before */
    j.kind = "tool";
    j.tool = "echo";
    j.status = JOB_QUEUED;
    j.has_result = 0;
    pane_results_build(&rs, &j, NULL);
    assert_true(para_find(&rs, "job 12  everything.echo  queued", THEME_COUNT) == 0);
    streams_fini(&s);
    free(rs.text);
    free(rs.para);
    free(rs.lines);
}

/* === approvals === */

static void test_approvals(void **state)
{
    cJSON *args = cJSON_Parse("{\"message\":\"hello from the model\"}");
    char *what = approve_describe("everything", "echo", args);
    assert_string_equal(what, "everything.echo {\"message\":\"hello from the model\"}");
    cJSON_Delete(args);
    char *none = approve_describe("fs", "rm", NULL);
    assert_string_equal(none, "fs.rm {}");
    free(none);
    /* long arguments are cut, not inside a character, with an ellipsis */
    struct buf b;
    buf_init(&b);
    buf_puts(&b, "{\"s\":\"");
    for (int i = 0; i < 400; i++)
        buf_puts(&b, "\xc3\xa9");
    buf_puts(&b, "\"}");
    args = cJSON_Parse(b.data);
    buf_fini(&b);
    char *cut = approve_describe("s", "t", args);
    cJSON_Delete(args);
    assert_true(strlen(cut) < 320);
    size_t n = strlen(cut);
    assert_string_equal(cut + n - 3, "\xe2\x80\xa6");
    /* every character whole: as many columns as code points */
    assert_int_equal(draw_width(cut, n), (int)(n - 3 - strlen("s.t {\"s\":\"")) / 2 +
                                             (int)strlen("s.t {\"s\":\"") + 1);
    free(cut);

    /* the queue: oldest first; a job's questions go when it ends */
    struct approvals q;
    memset(&q, 0, sizeof q);
    struct engine_approval *q1 = (struct engine_approval *)(uintptr_t)0x10;
    struct engine_approval *q2 = (struct engine_approval *)(uintptr_t)0x20;
    struct engine_approval *q3 = (struct engine_approval *)(uintptr_t)0x30;
    approvals_push(&q, q1, 5, what);
    approvals_push(&q, q2, 6, xstrdup("fs.write_file {\"path\":\"a\"}"));
    approvals_push(&q, q3, 5, xstrdup("fs.rm {}"));
    assert_int_equal(q.n, 3);

    FILE *out, *in;
    SCREEN *scr = screen_open(&out, &in, 0, 0);
    struct theme th;
    theme_defaults(&th);
    approvals_layout(&q, 40, 120);
    assert_non_null(q.win);
    approvals_render(q.win, &th, &q);
    assert_true(screen_has(q.win, "Approve? (1 of 3)"));
    assert_true(screen_has(q.win, "job 5: model wants everything.echo"));
    assert_true(screen_has(q.win, "allow? y/n"));
    assert_true(screen_has(q.win, "y allow  n/Esc refuse"));
    approvals_layout(&q, 6, 120);                  /* too low for the box */
    assert_null(q.win);
    approvals_render(q.win, &th, &q);              /* nothing to draw into: no crash */
    approvals_layout(&q, 24, 30);                  /* narrow: the question wraps */
    assert_non_null(q.win);
    approvals_render(q.win, &th, &q);
    assert_true(screen_has(q.win, "allow? y/n"));

    assert_int_equal(approvals_drop_job(&q, 5), 2);
    assert_int_equal(approvals_drop_job(&q, 5), 0);
    assert_int_equal(q.n, 1);
    approvals_layout(&q, 40, 120);
    approvals_render(q.win, &th, &q);
    assert_true(screen_has(q.win, "Approve?"));
    assert_false(screen_has(q.win, "1 of"));
    struct approval_item it;
    assert_int_equal(approvals_pop(&q, &it), 1);
    assert_ptr_equal(it.q, q2);
    assert_int_equal(it.job, 6);
    assert_string_equal(it.what, "fs.write_file {\"path\":\"a\"}");
    free(it.what);
    assert_int_equal(approvals_pop(&q, &it), 0);
    approvals_push(&q, q1, 7, xstrdup("x.y {}"));  /* left over: freed by fini */
    approvals_fini(&q);
    assert_null(q.win);
    assert_int_equal(q.n, 0);
    screen_close(scr, out, in);
}

/* === keys, commands, prompt, sparklines, result styles, job pages === */

static void test_theme_files_complete(void **state)
{
    /* every compiled-in theme parses and styles every element */
    const char *const *names = theme_names();
    int n = 0;
    for (; names[n]; n++) {
        char path[64];
        snprintf(path, sizeof path, "themes/%s.yaml", names[n]);
        const struct embedded_file *f = embedded_find(path);
        assert_non_null(f);
        struct theme t;
        theme_defaults(&t);
        char *err = NULL;
        assert_int_equal(theme_parse(&t, path, (const char *)f->data, f->len, &err), 0);
        char *text = xstrndup((const char *)f->data, f->len);
        for (int el = 0; el < THEME_COUNT; el++) {
            char key[48];
            snprintf(key, sizeof key, "\n  %s:", theme_el_name(el));
            if (!strstr(text, key))
                fail_msg("%s does not style %s", path, theme_el_name(el));
        }
        free(text);
    }
    assert_int_equal(n, 4);
    assert_string_equal(theme_el_name(THEME_DIFF_ADD), "diff_add");
    assert_string_equal(theme_el_name(THEME_SPARK), "spark");
}

static void test_spark(void **state)
{
    struct spark s;
    memset(&s, 0, sizeof s);
    char out[SPARK_N * 3 + 1];
    assert_int_equal(spark_render(&s, 4, 0, out, sizeof out), 4);
    assert_string_equal(out, "    ");                 /* no samples: blank */
    assert_true(spark_last(&s) == 0);
    spark_push(&s, 0);
    spark_push(&s, 7);
    spark_push(&s, 1);
    spark_push(&s, -5);                                /* negative counts as 0 */
    assert_true(spark_last(&s) == 0);
    assert_true(spark_max(&s, 4) == 7);
    assert_true(spark_max(&s, 2) == 1);                /* only the last two */
    spark_render(&s, 6, 0, out, sizeof out);
    assert_string_equal(out, "   #. ");                /* 2 pads, then 0 7 1 0 (1/7: a dot) */
    spark_render(&s, 6, 0, out, sizeof out);
    assert_int_equal(strlen(out), 6);
    spark_render(&s, 2, 1, out, sizeof out);
    assert_string_equal(out, "\u2588\u2581");          /* 1 of max 1, then 0 */
    /* the ring wraps: only the last SPARK_N are kept */
    for (int i = 0; i < SPARK_N + 10; i++)
        spark_push(&s, i);
    assert_int_equal(s.n, SPARK_N);
    assert_true(spark_last(&s) == SPARK_N + 9);
    assert_true(spark_max(&s, SPARK_N) == SPARK_N + 9);
    /* a small buffer is never overrun and stays terminated */
    char tiny[5];
    assert_int_equal(spark_render(&s, 10, 1, tiny, sizeof tiny), 1);
    assert_int_equal(strlen(tiny), 3);
}

static void test_prompt_editing(void **state)
{
    struct prompt p;
    memset(&p, 0, sizeof p);
    buf_init(&p.text);
    assert_int_equal(prompt_key(&p, UK_BACKSPACE), PROMPT_CANCEL);   /* empty: leave */
    const int keys[] = {'s', 'o', 'r', 't', ' ', 0xe9, 0x1f600};
    for (size_t i = 0; i < ARRAY_LEN(keys); i++)
        assert_int_equal(prompt_key(&p, keys[i]), PROMPT_NONE);
    assert_string_equal(p.text.data, "sort \xc3\xa9\xf0\x9f\x98\x80");
    assert_int_equal(prompt_key(&p, UK_BACKSPACE), PROMPT_NONE);     /* a whole character */
    assert_string_equal(p.text.data, "sort \xc3\xa9");
    assert_int_equal(prompt_key(&p, 127), PROMPT_NONE);
    assert_string_equal(p.text.data, "sort ");
    prompt_key(&p, 'x');
    assert_int_equal(prompt_key(&p, ui_ctrl('w')), PROMPT_NONE);     /* the last word */
    assert_string_equal(p.text.data, "sort ");
    assert_int_equal(prompt_key(&p, ui_ctrl('w')), PROMPT_NONE);
    assert_string_equal(p.text.data, "");
    prompt_key(&p, 'a');
    assert_int_equal(prompt_key(&p, ui_ctrl('u')), PROMPT_NONE);
    assert_int_equal(p.text.len, 0);
    assert_int_equal(prompt_key(&p, '\t'), PROMPT_COMPLETE);
    assert_int_equal(prompt_key(&p, '\r'), PROMPT_DONE);
    assert_int_equal(prompt_key(&p, UK_ENTER), PROMPT_DONE);
    assert_int_equal(prompt_key(&p, 27), PROMPT_CANCEL);
    assert_int_equal(prompt_key(&p, 3), PROMPT_NONE);               /* other controls ignored */
    assert_int_equal(p.text.len, 0);
    buf_fini(&p.text);
}

static void test_complete_word(void **state)
{
    static const char *const names[] = {"cancel", "check", "retry", "restart", "theme"};
    static const struct {
        const char *line, *want;
        size_t hits;
    } cases[] = {
        {"th", "theme ", 1},
        {"c", "c", 2},                 /* cancel, check: common prefix "c" */
        {"ch", "check ", 1},
        {"re", "re", 2},
        {"rest", "restart ", 1},
        {"x", "x", 0},
        {"", "", 5},
        {"focus ret", "focus retry ", 1},   /* only the last word */
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        char *out = NULL;
        assert_int_equal(cmd_complete_word(cases[i].line, names, ARRAY_LEN(names), &out),
                         cases[i].hits);
        assert_string_equal(out, cases[i].want);
        free(out);
    }
}

/* The first word of a command string. */
static int command_exists(const char *cmd)
{
    size_t n = strcspn(cmd, " ");
    for (size_t i = 0; i < ui_ncommands; i++)
        if (strlen(ui_commands[i].name) == n && strncmp(ui_commands[i].name, cmd, n) == 0)
            return 1;
    return 0;
}

static void test_key_table(void **state)
{
    for (size_t i = 0; i < ui_nbindings; i++) {
        const struct ui_binding *b = &ui_bindings[i];
        if (!command_exists(b->command))
            fail_msg("key %d runs '%s', which is no command", b->key, b->command);
        assert_true(b->help && *b->help);
        for (size_t k = i + 1; k < ui_nbindings; k++)
            if (ui_bindings[k].key == b->key && ui_bindings[k].pane == b->pane)
                fail_msg("key %d is bound twice in pane %d", b->key, b->pane);
    }
    for (size_t i = 0; i < ui_ncommands; i++)
        assert_non_null(ui_commands[i].run);
    static const struct {
        int key, pane;
        const char *want;
    } cases[] = {
        {'e', PANE_RESULTS, "editor"},
        {'e', PANE_REGISTRY, "enable"},
        {'e', PANE_TASKS, NULL},
        {'s', PANE_TASKS, "sort next"},
        {'s', PANE_RESULTS, "save"},
        {'c', PANE_METRICS, "cancel"},      /* everywhere */
        {'\r', PANE_TASKS, "details"},
        {'\n', PANE_TASKS, "details"},
        {UK_ENTER, PANE_REGISTRY, "tools"},
        {'\r', PANE_METRICS, NULL},
        {'+', PANE_TASKS, "priority +1"},
        {'\t', PANE_RESULTS, "focus next"},
        {UK_BTAB, PANE_TASKS, "focus prev"},
        {'3', PANE_TASKS, "focus registry"},
        {'?', PANE_REGISTRY, "help"},
        {':', PANE_TASKS, "prompt"},
        {'x', PANE_TASKS, NULL},
        {'j', PANE_TASKS, NULL},            /* movement stays with the pane */
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        const char *got = cmd_for_key(cases[i].key, cases[i].pane);
        if (!cases[i].want)
            assert_null(got);
        else
            assert_string_equal(got, cases[i].want);
    }
    char name[16];
    cmd_key_name('\t', name, sizeof name);
    assert_string_equal(name, "Tab");
    cmd_key_name(UK_BTAB, name, sizeof name);
    assert_string_equal(name, "S-Tab");
    cmd_key_name(0x0c, name, sizeof name);
    assert_string_equal(name, "^L");
    cmd_key_name('+', name, sizeof name);
    assert_string_equal(name, "+");
}

static void test_help_from_tables(void **state)
{
    struct buf b;
    buf_init(&b);
    cmd_help(&b);
    for (size_t i = 0; i < ui_nbindings; i++) {
        if (!strstr(b.data, ui_bindings[i].command) || !strstr(b.data, ui_bindings[i].help))
            fail_msg("help lacks the binding '%s'", ui_bindings[i].command);
    }
    for (size_t i = 0; i < ui_ncommands; i++) {
        char line[64];
        snprintf(line, sizeof line, "\n  %s", ui_commands[i].name);
        if (!strstr(b.data, line) || !strstr(b.data, ui_commands[i].help))
            fail_msg("help lacks the command '%s'", ui_commands[i].name);
    }
    assert_non_null(strstr(b.data, "## Registry\n"));
    assert_non_null(strstr(b.data, "  Enter  tools"));
    assert_non_null(strstr(b.data, "## In the new-task form (n)\n"));
    buf_fini(&b);
}

static void test_result_styles(void **state)
{
    const char *diff = "--- a/x.c\n+++ b/x.c\n@@ -1,2 +1,2 @@\n-old\n+new\n same\n";
    assert_true(results_is_diff(diff, strlen(diff)));
    assert_true(results_is_diff("diff --git a/x b/x\n", 19));
    const char *notdiff = "- a list item\n+ another\n@@ not a hunk\n";
    assert_false(results_is_diff(notdiff, strlen(notdiff)));
    static const struct {
        const char *line;
        int diff;
        enum theme_el want;
    } cases[] = {
        {"@@ -1 +1 @@", 1, THEME_DIFF_HUNK},
        {"--- a/x.c", 1, THEME_DIFF_HUNK},
        {"+++ b/x.c", 1, THEME_DIFF_HUNK},
        {"+added", 1, THEME_DIFF_ADD},
        {"-removed", 1, THEME_DIFF_DEL},
        {" context", 1, THEME_COUNT},
        {"+not a diff", 0, THEME_COUNT},
        {"# Title", 0, THEME_HEADING},
        {"### Third", 0, THEME_HEADING},
        {"  ## indented", 0, THEME_HEADING},
        {"#include <x.h>", 0, THEME_COUNT},
        {"####### seven", 0, THEME_COUNT},
        {"plain", 0, THEME_COUNT},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        int fence = 0;
        assert_int_equal(results_line_style(cases[i].line, strlen(cases[i].line), cases[i].diff,
                                            &fence), cases[i].want);
        assert_int_equal(fence, 0);
    }
    /* a fence and what is inside it, then out again */
    const char *md[] = {"text", "```c", "# not a heading", "+x", "```", "# Heading"};
    enum theme_el want[] = {THEME_COUNT, THEME_CODE, THEME_CODE, THEME_CODE, THEME_CODE,
                            THEME_HEADING};
    int fence = 0;
    for (size_t i = 0; i < ARRAY_LEN(md); i++)
        assert_int_equal(results_line_style(md[i], strlen(md[i]), 0, &fence), want[i]);
    assert_int_equal(fence, 0);

    /* the styles reach the lines of a built result */
    struct results_state rs;
    memset(&rs, 0, sizeof rs);
    results_set_text(&rs, diff, strlen(diff), THEME_COUNT);
    assert_int_equal(rs.npara, 6);                     /* no line after the final newline */
    assert_int_equal(rs.para[0].el, THEME_DIFF_HUNK);
    assert_int_equal(rs.para[3].el, THEME_DIFF_DEL);
    assert_int_equal(rs.para[4].el, THEME_DIFF_ADD);
    assert_int_equal(rs.para[5].el, THEME_COUNT);
    results_set_text(&rs, "x\ny", 3, THEME_ERROR);    /* a base style wins */
    assert_int_equal(rs.npara, 2);
    assert_int_equal(rs.para[1].el, THEME_ERROR);
    results_free(&rs);
}

static void test_filter_parse(void **state)
{
    static const struct {
        const char *in;
        unsigned mask;
        const char *text;
    } cases[] = {
        {"", 0, NULL},
        {"failed", 1u << JOB_FAILED, NULL},
        {"failed running fs.read", (1u << JOB_FAILED) | (1u << JOB_RUNNING), "fs.read"},
        {"  fs.  queued  ", 1u << JOB_QUEUED, "fs."},
        {"done", 1u << JOB_SUCCEEDED, NULL},
        {"git status", 0, "git status"},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        unsigned mask = 99;
        char *text = (char *)"unset";
        tasks_filter_parse(cases[i].in, &mask, &text);
        assert_int_equal(mask, cases[i].mask);
        if (cases[i].text)
            assert_string_equal(text, cases[i].text);
        else
            assert_null(text);
        free(text);
    }
}

/* An engine on a fresh data dir with no configured servers (the built-in
 * fs is there); nothing is started, so submitted jobs stay queued. */
static struct engine *page_engine(char *dir)
{
    assert_non_null(mkdtemp(dir));
    char *cfg = xasprintf("%s/mcpdeck.yaml", dir);
    FILE *f = fopen(cfg, "w");
    assert_non_null(f);
    fputs("servers: {}\n", f);
    fclose(f);
    struct engine_opts eo = {cfg, dir, 0, NULL};
    struct engine *e = NULL;
    char *err = NULL;
    if (engine_new(&eo, &e, &err) < 0)
        fail_msg("engine_new: %s", err);
    free(cfg);
    return e;
}

static void test_jobs_page(void **state)
{
    char dir[] = "/tmp/mcpdeck-test-ui.XXXXXX";
    struct engine *e = page_engine(dir);
    /* 30 jobs: tools alternate read_file / list_directory, priorities 0..2 */
    for (int i = 0; i < 30; i++) {
        struct jobq_spec spec = {.server = "fs",
                                 .tool = i % 2 ? "list_directory" : "read_file",
                                 .args_json = "{\"path\":\".\"}",
                                 .priority = i % 3};
        int64_t id;
        char *err = NULL;
        if (engine_submit(e, &spec, &id, &err) < 0)
            fail_msg("submit: %s", err);
        assert_int_equal(id, i + 1);
    }
    struct engine_job_query q = {0};
    struct job *v = NULL;
    size_t n = 0;
    int64_t total = -1;
    /* newest first, a window in the middle */
    assert_int_equal(engine_jobs_page(e, &q, 10, 5, &v, &n, &total), 0);
    assert_int_equal(total, 30);
    assert_int_equal(n, 5);
    assert_int_equal(v[0].id, 20);
    assert_int_equal(v[4].id, 16);
    assert_null(v[0].result);
    jobq_jobs_free(v, n);
    assert_int_equal(engine_jobs_index(e, &q, 30), 0);
    assert_int_equal(engine_jobs_index(e, &q, 1), 29);
    assert_int_equal(engine_jobs_index(e, &q, 99), -1);
    /* past the end: nothing, the total still right */
    assert_int_equal(engine_jobs_page(e, &q, 40, 5, &v, &n, &total), 0);
    assert_int_equal(n, 0);
    assert_int_equal(total, 30);
    jobq_jobs_free(v, n);
    /* text filter (case-insensitive substring of server.tool) */
    q.text = "FS.LIST";
    assert_int_equal(engine_jobs_page(e, &q, 0, 100, &v, &n, &total), 0);
    assert_int_equal(total, 15);
    for (size_t i = 0; i < n; i++)
        assert_string_equal(v[i].tool, "list_directory");
    jobq_jobs_free(v, n);
    assert_int_equal(engine_jobs_index(e, &q, 29), -1);   /* a read_file job */
    assert_int_equal(engine_jobs_index(e, &q, 30), 0);
    /* status filter */
    q.text = NULL;
    q.status_mask = 1u << JOB_FAILED;
    assert_int_equal(engine_jobs_page(e, &q, 0, 10, &v, &n, &total), 0);
    assert_int_equal(total, 0);
    jobq_jobs_free(v, n);
    q.status_mask = 1u << JOB_QUEUED;
    assert_int_equal(engine_jobs_page(e, &q, 0, 0, &v, &n, &total), 0);
    assert_int_equal(total, 30);
    jobq_jobs_free(v, n);
    /* by priority, highest first, ties newest first; the index agrees */
    q.status_mask = 0;
    q.sort = ENGINE_SORT_PRIORITY;
    assert_int_equal(engine_jobs_page(e, &q, 0, 30, &v, &n, &total), 0);
    assert_int_equal(n, 30);
    for (size_t i = 1; i < n; i++) {
        assert_true(v[i - 1].priority >= v[i].priority);
        if (v[i - 1].priority == v[i].priority)
            assert_true(v[i - 1].id > v[i].id);
    }
    for (size_t i = 0; i < n; i++)
        assert_int_equal(engine_jobs_index(e, &q, v[i].id), (int64_t)i);
    jobq_jobs_free(v, n);
    /* by target, ascending */
    q.sort = ENGINE_SORT_TARGET;
    q.ascending = 1;
    assert_int_equal(engine_jobs_page(e, &q, 14, 2, &v, &n, &total), 0);
    assert_int_equal(n, 2);
    assert_string_equal(v[0].tool, "list_directory");  /* the last of 15 */
    assert_string_equal(v[1].tool, "read_file");
    assert_true(v[0].id > v[1].id - 30);
    jobq_jobs_free(v, n);
    /* retry and priority through the engine */
    char *err = NULL;
    assert_int_equal(engine_set_priority(e, 5, 9, &err), 0);
    struct job j;
    assert_int_equal(engine_job(e, 5, &j), 0);
    assert_int_equal(j.priority, 9);
    job_fini(&j);
    assert_int_equal(engine_retry(e, 5, &err), -1);    /* queued: nothing to retry */
    assert_non_null(err);
    free(err);
    err = NULL;
    assert_int_equal(engine_cancel(e, 5, &err), 0);
    assert_int_equal(engine_set_priority(e, 5, 1, &err), -1);   /* not queued */
    free(err);
    err = NULL;
    assert_int_equal(engine_retry(e, 5, &err), 0);
    assert_int_equal(engine_job(e, 5, &j), 0);
    assert_int_equal(j.status, JOB_QUEUED);
    job_fini(&j);
    struct jobq_event *ev = NULL;
    size_t nev = 0;
    assert_int_equal(engine_job_events(e, 5, &ev, &nev), 0);
    jobq_events_free(ev, nev);
    int64_t tokens = -1, mem = -1, outbox = -1;
    double cost = -1;
    assert_int_equal(engine_usage_today(e, &tokens, &cost), 0);
    assert_int_equal(tokens, 0);
    assert_true(cost == 0);
    assert_int_equal(engine_memory_counts(e, &mem, &outbox), 0);
    assert_int_equal(mem, 0);
    assert_int_equal(outbox, 0);
    engine_free(e);
    char *cmd = xasprintf("rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
    free(cmd);
}

static void type_keys(struct memview *mv, const char *s)
{
    for (; *s; s++)
        assert_int_equal(memview_key(mv, (unsigned char)*s), 0);
}

/* Run the loop until the overlay's search answered. */
static void memview_wait(struct engine *e, struct memview *mv)
{
    for (int i = 0; i < 500 && memview_busy(mv); i++)
        loop_run_once(engine_loop(e), 10);
    assert_false(memview_busy(mv));
}

static void test_memview(void **state)
{
    char dir[] = "/tmp/mcpdeck-test-ui.XXXXXX";
    struct engine *e = page_engine(dir);
    /* the engine's thin wrappers */
    int64_t id1 = 0, id2 = 0, again = 0;
    char *err = NULL;
    assert_int_equal(engine_memory_add(e, NULL, "the deploy key rotates monthly", &id1, &err), 0);
    assert_int_equal(engine_memory_add(e, NULL, "lunch is at noon\nsecond line", &id2, &err), 0);
    assert_int_equal(engine_memory_add(e, NULL, "lunch is at noon\nsecond line", &again, &err), 1);
    assert_int_equal(again, id2);
    assert_int_equal(engine_memory_add(e, "nope", "x", &again, &err), -1);
    assert_non_null(err);
    free(err);
    err = NULL;
    struct engine_memory_hit *h = NULL;
    size_t n = 0;
    assert_int_equal(engine_memory_search(e, "deploy key", NULL, 5, &h, &n, &err), 0);
    assert_true(n >= 1);
    assert_int_equal(h[0].id, id1);
    assert_string_equal(h[0].ns, engine_memory_default_ns(e));
    assert_true(h[0].score > 0);
    engine_memory_hits_free(h, n);

    /* the overlay: type, Enter searches, the hit shows */
    FILE *out, *in;
    SCREEN *scr = screen_open(&out, &in, 0, 0);
    struct memview *mv = memview_new(e);
    assert_int_equal(mv->focus, MEMVIEW_BOX);
    assert_string_equal(mv->ns.text.data, engine_memory_default_ns(e));
    type_keys(mv, "lunch");
    assert_int_equal(memview_key(mv, '\r'), 0);
    assert_int_equal(mv->focus, MEMVIEW_LIST);
    memview_wait(e, mv);
    assert_true(mv->n >= 1);
    assert_int_equal(mv->hits[0].id, id2);
    assert_string_equal(memview_selected_text(mv), "lunch is at noon\nsecond line");
    assert_non_null(strstr(mv->status, "for \"lunch\""));
    memview_layout(mv, 24, 80);
    assert_non_null(mv->win);
    memview_draw(mv, &(struct theme){0});
    /* the row: score, namespace, id, first line only */
    char row[81] = {0};
    mvwinnstr(mv->win, 4, 2, row, 76);
    assert_non_null(strstr(row, "shared"));
    assert_non_null(strstr(row, "lunch is at noon"));
    assert_null(strstr(row, "second"));
    /* d asks; n keeps; d y deletes */
    size_t before = mv->n;
    assert_int_equal(memview_key(mv, 'd'), 0);
    assert_int_equal(mv->focus, MEMVIEW_CONFIRM);
    assert_int_equal(memview_key(mv, 'n'), 0);
    assert_int_equal(mv->n, before);
    assert_int_equal(memview_key(mv, 'd'), 0);
    assert_int_equal(memview_key(mv, 'y'), 0);
    assert_int_equal(mv->n, before - 1);
    assert_non_null(strstr(mv->status, "deleted entry"));
    assert_int_equal(engine_memory_delete(e, id2, &err), 1);   /* gone from the store */
    /* a adds (Tab edits the namespace), the search runs again */
    assert_int_equal(memview_key(mv, 'a'), 0);
    assert_int_equal(mv->focus, MEMVIEW_ADD);
    type_keys(mv, "lunch moved to one");
    assert_int_equal(memview_key(mv, '\t'), 0);
    assert_int_equal(mv->focus, MEMVIEW_ADD_NS);
    assert_int_equal(memview_key(mv, '\t'), 0);
    assert_int_equal(memview_key(mv, '\r'), 0);
    assert_int_equal(mv->focus, MEMVIEW_LIST);
    memview_wait(e, mv);
    assert_true(mv->n >= 1);
    assert_string_equal(mv->hits[0].text, "lunch moved to one");
    assert_non_null(strstr(mv->status, "added entry"));      /* said before the count */
    assert_non_null(strstr(mv->status, "for \"lunch\""));
    /* a bad namespace: an error, the text kept */
    assert_int_equal(memview_key(mv, 'a'), 0);
    type_keys(mv, "zzz");
    assert_int_equal(memview_key(mv, '\t'), 0);
    assert_int_equal(memview_key(mv, ui_ctrl('u')), 0);
    type_keys(mv, "nosuchns");
    assert_int_equal(memview_key(mv, '\r'), 0);
    assert_int_equal(mv->status_error, 1);
    assert_int_equal(memview_key(mv, 27), 0);                /* Esc leaves the add line */
    assert_int_equal(mv->focus, MEMVIEW_LIST);
    /* a search in flight when it closes is dropped safely */
    assert_int_equal(memview_key(mv, '/'), 0);
    assert_int_equal(mv->focus, MEMVIEW_BOX);
    assert_int_equal(memview_key(mv, '\r'), 0);
    assert_int_equal(memview_key(mv, 27), 1);                /* Esc closes */
    memview_free(mv);
    for (int i = 0; i < 50; i++)
        loop_run_once(engine_loop(e), 5);
    screen_close(scr, out, in);
    engine_free(e);
    char *cmd = xasprintf("rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
    free(cmd);
}

static void test_elicit_form(void **state)
{
    const char *schema_text =
        "{\"type\":\"object\",\"required\":[\"name\",\"pet\"],\"properties\":{"
        "\"name\":{\"type\":\"string\",\"title\":\"Name\",\"description\":\"your name\"},"
        "\"check\":{\"type\":\"boolean\",\"title\":\"Agree\"},"
        "\"first\":{\"type\":\"string\",\"default\":\"It was\"},"
        "\"email\":{\"type\":\"string\",\"format\":\"email\"},"
        "\"integer\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":100,\"default\":42},"
        "\"number\":{\"type\":\"number\",\"default\":3.14},"
        "\"pet\":{\"type\":\"string\",\"enum\":[\"p1\",\"p2\"],\"enumNames\":[\"Cats\",\"Dogs\"]},"
        "\"hero\":{\"type\":\"string\",\"oneOf\":[{\"const\":\"h1\",\"title\":\"Superman\"},"
        "{\"const\":\"h2\",\"title\":\"Wonder Woman\"}],\"default\":\"h1\"},"
        "\"many\":{\"type\":\"array\",\"items\":{\"type\":\"string\"},\"default\":[\"a\"]}}}";
    cJSON *schema = cJSON_Parse(schema_text);
    assert_non_null(schema);
    int64_t job = 7;
    struct elicit_form *f = elicit_form_new(NULL, "everything", &job, 1, "Please fill", schema);
    cJSON_Delete(schema);                      /* the form keeps its own copy */
    /* the required name is empty: Enter does not accept yet */
    assert_int_equal(elicit_key(f, '\r'), ELICIT_ACCEPT);
    assert_null(elicit_form_content(f));
    assert_string_equal(elicit_form_error(f), "Name is required");
    assert_int_equal(elicit_form_focus(f), 0);
    elicit_key(f, UK_DOWN);
    assert_int_equal(elicit_form_focus(f), 1);
    elicit_key(f, UK_UP);
    for (const char *s = "Ada"; *s; s++)
        assert_int_equal(elicit_key(f, *s), ELICIT_NONE);
    assert_int_equal(elicit_key(f, '\t'), ELICIT_NONE);       /* check */
    assert_int_equal(elicit_key(f, ' '), ELICIT_NONE);        /* on */
    /* integer out of range: the schema's error, the focus on it */
    for (int i = 0; i < 3; i++)
        elicit_key(f, '\t');                                  /* first, email, integer */
    elicit_key(f, ui_ctrl('u'));
    elicit_key(f, '5');
    elicit_key(f, '0');
    elicit_key(f, '0');
    assert_null(elicit_form_content(f));
    assert_non_null(strstr(elicit_form_error(f), "integer"));
    assert_int_equal(elicit_form_focus(f), 4);
    elicit_key(f, UK_BACKSPACE);                              /* 50 */
    /* not a number */
    elicit_key(f, '\t');
    elicit_key(f, 'x');
    assert_null(elicit_form_content(f));
    assert_non_null(strstr(elicit_form_error(f), "not a number"));
    elicit_key(f, UK_BACKSPACE);
    /* the enum: required, first option preselected; Space moves on */
    elicit_key(f, '\t');
    elicit_key(f, ' ');
    cJSON *c = elicit_form_content(f);
    assert_non_null(c);
    assert_null(elicit_form_error(f));
    char *got = cJSON_PrintUnformatted(c);
    assert_string_equal(got, "{\"name\":\"Ada\",\"check\":true,\"first\":\"It was\","
                             "\"integer\":50,\"number\":3.14,\"pet\":\"p2\",\"hero\":\"h1\"}");
    free(got);
    cJSON_Delete(c);
    /* an optional enum can go back to none; a bad email is caught */
    elicit_key(f, '\t');                                      /* hero */
    elicit_key(f, UK_LEFT);
    elicit_key(f, UK_UP);
    elicit_key(f, UK_UP);
    elicit_key(f, UK_UP);
    elicit_key(f, UK_UP);                                     /* email */
    for (const char *s = "nope"; *s; s++)
        elicit_key(f, *s);
    assert_null(elicit_form_content(f));
    assert_string_equal(elicit_form_error(f), "email: 'nope' is not a valid email");
    assert_int_equal(elicit_form_focus(f), 3);
    for (const char *s = "@x.org"; *s; s++)
        elicit_key(f, *s);
    c = elicit_form_content(f);
    assert_non_null(c);
    assert_string_equal(cJSON_GetObjectItem(c, "email")->valuestring, "nope@x.org");
    assert_null(cJSON_GetObjectItem(c, "hero"));              /* none chosen: left out */
    cJSON_Delete(c);
    /* drawn into a window: title names the job, required marked */
    FILE *out, *in;
    SCREEN *scr = screen_open(&out, &in, 0, 0);
    WINDOW *w = elicit_layout(NULL, f, 24, 80);
    assert_non_null(w);
    elicit_draw(w, &(struct theme){0}, f, 2);
    char row[81] = {0};
    mvwinnstr(w, 0, 0, row, 78);
    assert_non_null(strstr(row, "everything asks (job 7) +more"));
    mvwinnstr(w, 4, 2, row, 70);
    assert_non_null(strstr(row, "Name*"));
    assert_non_null(strstr(row, "Ada"));
    delwin(w);
    screen_close(scr, out, in);
    assert_int_equal(elicit_key(f, 27), ELICIT_DECLINE);
    assert_int_equal(elicit_key(f, ui_ctrl('c')), ELICIT_CANCEL);
    elicit_form_free(f);
}

/* A form with one field (the most common question) gets a window, down to
 * the smallest terminal that can hold it; keys reach it either way. */
static void test_elicit_one_field(void **state)
{
    cJSON *schema = cJSON_Parse("{\"type\":\"object\",\"properties\":"
                                "{\"answer\":{\"type\":\"string\"}}}");
    struct elicit_form *f = elicit_form_new(NULL, "asker", NULL, 0, "question 1", schema);
    cJSON_Delete(schema);
    FILE *out, *in;
    SCREEN *scr = screen_open(&out, &in, 0, 0);
    WINDOW *w = elicit_layout(NULL, f, 24, 80);
    assert_non_null(w);
    elicit_draw(w, &(struct theme){0}, f, 1);
    char row[81] = {0};
    mvwinnstr(w, 0, 0, row, 78);
    assert_non_null(strstr(row, "asker asks"));
    mvwinnstr(w, 1, 2, row, 70);
    assert_non_null(strstr(row, "question 1"));
    mvwinnstr(w, 4, 2, row, 70);
    assert_non_null(strstr(row, "answer"));
    delwin(w);
    w = elicit_layout(NULL, f, 11, 80);   /* 9 rows: frame, message, field, keys */
    assert_non_null(w);
    assert_int_equal(getmaxy(w), 9);
    delwin(w);
    assert_null(elicit_layout(NULL, f, 10, 80));
    screen_close(scr, out, in);
    elicit_form_free(f);
}

/* theme: and keys: of the config, and binding them in the key table. */
static void test_config_keys(void **state)
{
    const char *text = "theme: mono\nkeys:\n  \"x\": \"memory\"\n  \"^E\": \"pri +1\"\n"
                       "  F5: redraw\n  c: retry\n";
    struct config *c = NULL;
    char *err = NULL;
    assert_int_equal(config_load_string("k.yaml", text, strlen(text), &c, &err), 0);
    assert_string_equal(c->ui_theme, "mono");
    assert_int_equal(c->nui_keys, 4);
    assert_string_equal(c->ui_keys[0].key, "x");
    assert_string_equal(c->ui_keys[0].command, "memory");
    assert_int_equal(c->ui_keys[0].line, 3);
    assert_string_equal(c->ui_keys[1].key, "^E");
    config_free(c);
    static const struct {
        const char *text, *want;
    } bad[] = {
        {"keys:\n  Ctrl-X: quit\n", "k.yaml:2:3: unknown key name 'Ctrl-X'"},
        {"keys: [x]\n", "k.yaml:1:7: 'keys' must be a mapping"},
        {"keys: {x: ''}\n", "k.yaml:1:11: the command for key 'x' is empty"},
        {"theme: ''\n", "k.yaml:1:8: 'theme' is empty"},
    };
    for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
        c = NULL;
        err = NULL;
        assert_int_equal(config_load_string("k.yaml", bad[i].text, strlen(bad[i].text), &c, &err),
                         -1);
        if (strncmp(err, bad[i].want, strlen(bad[i].want)) != 0)
            fail_msg("case %zu: got %s", i, err);
        free(err);
    }
    /* key names */
    static const struct {
        const char *name;
        int key;
    } names[] = {{"x", 'x'}, {"^E", 5}, {"^e", 5}, {"Enter", '\r'}, {"S-Tab", UK_BTAB},
                 {"F5", -KEY_F(5)}, {"PgDn", UK_NPAGE}, {"\xc3\xa9", 0xe9}, {"xy", 0},
                 {"F13", 0}, {"", 0}, {" ", 0}};
    for (size_t i = 0; i < ARRAY_LEN(names); i++) {
        assert_int_equal(cmd_key_parse(names[i].name), names[i].key);
        assert_int_equal(config_key_name_ok(names[i].name), names[i].key != 0);
    }
    /* bindings come before the table, in every pane */
    assert_string_equal(cmd_for_key('c', PANE_TASKS), "cancel");
    assert_null(cmd_for_key('x', PANE_TASKS));
    assert_int_equal(cmd_bind("x", "memory", &err), 0);
    assert_int_equal(cmd_bind("c", "retry", &err), 0);
    assert_int_equal(cmd_bind("^E", "pri +1", &err), 0);     /* a unique prefix is fine */
    assert_string_equal(cmd_for_key('x', PANE_RESULTS), "memory");
    assert_string_equal(cmd_for_key('c', PANE_TASKS), "retry");
    assert_string_equal(cmd_for_key(5, PANE_TASKS), "pri +1");
    assert_int_equal(cmd_bind("c", "cancel", &err), 0);      /* again: replaced */
    assert_string_equal(cmd_for_key('c', PANE_TASKS), "cancel");
    assert_int_equal(cmd_bind("y", "frobnicate now", &err), -1);
    assert_string_equal(err, "key 'y': unknown command 'frobnicate' (the : prompt lists them "
                             "with Tab)");
    free(err);
    assert_int_equal(cmd_bind("re", "redraw", &err), -1);    /* not a key */
    free(err);
    struct buf b;
    buf_init(&b);
    cmd_help(&b);
    assert_non_null(strstr(b.data, "From the config"));
    assert_non_null(strstr(b.data, "x      memory"));
    buf_fini(&b);
    cmd_unbind_all();
    assert_null(cmd_for_key('x', PANE_TASKS));
    assert_string_equal(cmd_for_key('m', PANE_TASKS), "memory");
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
        cmocka_unit_test(test_form_kinds),
        cmocka_unit_test(test_form_priority_timeout),
        cmocka_unit_test(test_form_live_check),
        cmocka_unit_test(test_form_complete),
        cmocka_unit_test(test_form_recall),
        cmocka_unit_test(test_streams),
        cmocka_unit_test(test_results_model),
        cmocka_unit_test(test_approvals),
        cmocka_unit_test(test_theme_files_complete),
        cmocka_unit_test(test_spark),
        cmocka_unit_test(test_prompt_editing),
        cmocka_unit_test(test_complete_word),
        cmocka_unit_test(test_key_table),
        cmocka_unit_test(test_help_from_tables),
        cmocka_unit_test(test_result_styles),
        cmocka_unit_test(test_filter_parse),
        cmocka_unit_test(test_jobs_page),
        cmocka_unit_test(test_memview),
        cmocka_unit_test(test_elicit_form),
        cmocka_unit_test(test_elicit_one_field),
        cmocka_unit_test(test_config_keys),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
