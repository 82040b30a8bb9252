/* test_config.c — the YAML/JSON loader (positions, typing, refusals) and
 * the configuration: defaults, every key, env expansion, error positions,
 * .mcp.json and VS Code mcp.json import, discovery order. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "util.h"
#include "ydoc.h"

static struct config *load_ok(const char *text)
{
    struct config *c = NULL;
    char *err = NULL;
    int rc = config_load_string("t.yaml", text, strlen(text), &c, &err);
    if (rc != 0)
        fail_msg("unexpected error: %s", err);
    return c;
}

static void expect_error(const char *text, const char *want)
{
    struct config *c = NULL;
    char *err = NULL;
    assert_int_equal(config_load_string("t.yaml", text, strlen(text), &c, &err), -1);
    assert_null(c);
    assert_non_null(err);
    if (!strstr(err, want))
        fail_msg("error '%s' does not contain '%s'", err, want);
    free(err);
}

/* === ydoc === */

static void test_ydoc_positions_and_types(void **state)
{
    const char *y = "a: 1\nb:\n  - x\n  - 'q'\n  - 2.5\nc: {d: true, e: ~}\n";
    struct ydoc *d;
    char *err = NULL;
    assert_int_equal(ydoc_load_string("p.yaml", y, strlen(y), &d, &err), 0);
    const struct ydoc_node *b = ydoc_map_get(d->root, "b");
    assert_int_equal(b->kind, YDOC_SEQ);
    assert_int_equal(b->items[1]->line, 4);
    assert_int_equal(b->items[1]->col, 5);
    assert_int_equal(ydoc_scalar_type(ydoc_map_get(d->root, "a")), YDOC_T_INT);
    assert_int_equal(ydoc_scalar_type(b->items[0]), YDOC_T_STRING);
    assert_int_equal(ydoc_scalar_type(b->items[1]), YDOC_T_STRING);   /* quoted */
    assert_int_equal(ydoc_scalar_type(b->items[2]), YDOC_T_FLOAT);
    const struct ydoc_node *c = ydoc_map_get(d->root, "c");
    assert_int_equal(ydoc_scalar_type(ydoc_map_get(c, "d")), YDOC_T_BOOL);
    assert_int_equal(ydoc_scalar_type(ydoc_map_get(c, "e")), YDOC_T_NULL);
    cJSON *j = ydoc_to_json(d->root);
    char *txt = cJSON_PrintUnformatted(j);
    assert_string_equal(txt, "{\"a\":1,\"b\":[\"x\",\"q\",2.5],\"c\":{\"d\":true,\"e\":null}}");
    cJSON_free(txt);
    cJSON_Delete(j);
    char *msg = ydoc_errorf(d, b->items[2], "bad %s", "thing");
    assert_string_equal(msg, "p.yaml:5:5: bad thing");
    free(msg);
    ydoc_free(d);
}

static void test_ydoc_json_with_tabs_and_escapes(void **state)
{
    const char *j = "{\n\t\"k\": \"tab\\there \\\"q\\\"\",\n\t\"n\": [1, -2, 3e2]\n}";
    struct ydoc *d;
    char *err = NULL;
    assert_int_equal(ydoc_load_string("x.json", j, strlen(j), &d, &err), 0);
    const struct ydoc_node *k = ydoc_map_get(d->root, "k");
    assert_string_equal(k->str, "tab\there \"q\"");
    assert_int_equal(k->line, 2);
    cJSON *js = ydoc_to_json(ydoc_map_get(d->root, "n"));
    assert_true(cJSON_GetArrayItem(js, 2)->valuedouble == 300);
    cJSON_Delete(js);
    ydoc_free(d);
}

static void test_ydoc_refusals(void **state)
{
    struct {
        const char *text, *want;
    } cases[] = {
        {"a: 1\na: 2\n", "y:2:1: duplicate key 'a' (first at line 1)"},
        {"a: &x 1\nb: *x\n", "y:1:4: anchors (&x) are not supported"},
        {"a: [1, 2\n", "y:2:1: did not find expected ',' or ']'"},
        {"a: 1\n---\nb: 2\n", "only one YAML document"},
        {"? [a, b]\n: 1\n", "a mapping key must be a plain value"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct ydoc *d = NULL;
        char *err = NULL;
        assert_int_equal(ydoc_load_string("y", cases[i].text, strlen(cases[i].text), &d, &err),
                         -1);
        if (!strstr(err, cases[i].want))
            fail_msg("case %zu: '%s' lacks '%s'", i, err, cases[i].want);
        free(err);
    }
}

/* === config === */

static void test_defaults_and_embedded(void **state)
{
    unsetenv("XDG_DATA_HOME");
    setenv("HOME", "/home/tester", 1);
    struct config *c = load_ok("");
    assert_int_equal(c->queue_concurrency, 10);
    assert_int_equal(c->queue_timeout_ms, 300000);
    assert_int_equal(c->queue_retries, 3);
    assert_string_equal(c->data_dir, "/home/tester/.local/share/mcpdeck");
    assert_int_equal(c->nservers, 0);
    config_free(c);
    /* the embedded default loads and documents the same defaults */
    char cwd[PATH_MAX];
    assert_non_null(getcwd(cwd, sizeof cwd));
    char tmpl[] = "/tmp/mcpdeck-cfg-XXXXXX";
    assert_non_null(mkdtemp(tmpl));
    assert_int_equal(chdir(tmpl), 0);
    setenv("XDG_CONFIG_HOME", tmpl, 1);
    char *err = NULL;
    assert_int_equal(config_load(NULL, &c, &err), 0);
    assert_string_equal(c->source, "<embedded default>");
    assert_int_equal(c->queue_concurrency, 10);
    config_free(c);
    assert_int_equal(chdir(cwd), 0);
    rmdir(tmpl);
}

static void test_full_yaml(void **state)
{
    setenv("MCPDECK_TEST_TOKEN", "s3cret", 1);
    struct config *c = NULL;
    char *err = NULL;
    assert_int_equal(config_load_file("tests/fixtures/config/full.yaml", &c, &err), 0);
    assert_string_equal(c->data_dir, "/tmp/mcpdeck-test-data");
    assert_int_equal(c->queue_concurrency, 4);
    assert_int_equal(c->queue_timeout_ms, 300000);
    assert_int_equal(c->queue_retries, 2);
    assert_int_equal(c->nservers, 2);
    const struct config_server *s = config_find_server(c, "everything");
    assert_non_null(s);
    assert_int_equal(s->kind, CONFIG_SERVER_STDIO);
    assert_string_equal(s->command, "node");
    assert_int_equal(s->nargs, 2);
    assert_string_equal(s->args[1], "stdio");
    assert_int_equal(s->nenv, 2);
    assert_string_equal(s->env[0], "API_KEY=s3cret");
    assert_string_equal(s->env[1], "LEVEL=3");
    assert_string_equal(s->cwd, "/tmp");
    assert_int_equal(s->timeout_ms, 1500);
    assert_int_equal(s->startup_timeout_ms, 10000);
    assert_int_equal(s->enabled, 1);
    assert_int_equal(s->line, 7);
    const struct config_server *w = config_find_server(c, "web");
    assert_int_equal(w->kind, CONFIG_SERVER_HTTP);
    assert_string_equal(w->url, "http://127.0.0.1:8080/mcp");
    assert_string_equal(w->headers[0], "Authorization: Bearer s3cret");
    assert_int_equal(w->enabled, 0);
    assert_null(config_find_server(c, "nope"));
    config_free(c);
}

static void test_env_expansion(void **state)
{
    setenv("MCPDECK_A", "alpha", 1);
    setenv("MCPDECK_REC", "${MCPDECK_A}", 1);
    setenv("MCPDECK_EMPTY", "", 1);
    unsetenv("MCPDECK_MISSING");
    char *out = NULL, *err = NULL;
    assert_int_equal(config_expand_env("x-${MCPDECK_A}-y", &out, &err), 0);
    assert_string_equal(out, "x-alpha-y");
    free(out);
    assert_int_equal(config_expand_env("${MCPDECK_MISSING:-dflt}", &out, &err), 0);
    assert_string_equal(out, "dflt");
    free(out);
    assert_int_equal(config_expand_env("${MCPDECK_EMPTY:-dflt}", &out, &err), 0);
    assert_string_equal(out, "dflt");
    free(out);
    /* single pass: a value that looks like a reference stays literal */
    assert_int_equal(config_expand_env("${MCPDECK_REC}", &out, &err), 0);
    assert_string_equal(out, "${MCPDECK_A}");
    free(out);
    assert_int_equal(config_expand_env("$HOME and $ alone", &out, &err), 0);
    assert_string_equal(out, "$HOME and $ alone");
    free(out);
    assert_int_equal(config_expand_env("${MCPDECK_MISSING}", &out, &err), -1);
    assert_string_equal(err, "environment variable 'MCPDECK_MISSING' is not set (use "
                             "${MCPDECK_MISSING:-default} for a default)");
    free(err);
    assert_int_equal(config_expand_env("a ${MCPDECK_A", &out, &err), -1);
    assert_non_null(strstr(err, "unterminated"));
    free(err);
    assert_int_equal(config_expand_env("${1BAD}", &out, &err), -1);
    free(err);
    /* with a position in a file */
    expect_error("servers:\n  s:\n    command: x\n    args: [\"${MCPDECK_MISSING}\"]\n",
                 "t.yaml:4:12: environment variable 'MCPDECK_MISSING' is not set");
}

static void test_error_positions(void **state)
{
    expect_error("queue:\n  concurrency: 2\n  retires: 3\n",
                 "t.yaml:3:3: unknown key 'retires' in queue; expected one of: concurrency, "
                 "timeout, retries");
    expect_error("sevrers: {}\n", "t.yaml:1:1: unknown key 'sevrers' in the configuration");
    expect_error("queue: {concurrency: abc}\n",
                 "t.yaml:1:22: 'concurrency' must be a positive integer, got 'abc'");
    expect_error("queue: {concurrency: 0}\n", "must be a positive integer, got '0'");
    expect_error("queue: {timeout: soon}\n", "t.yaml:1:18: 'timeout' must be a duration");
    expect_error("queue: [1]\n", "t.yaml:1:8: 'queue' must be a mapping");
    expect_error("servers:\n  s:\n    command: x\n    argz: []\n",
                 "t.yaml:4:5: unknown key 'argz' in a server");
    expect_error("servers:\n  s:\n    command: x\n    args: notalist\n",
                 "t.yaml:4:11: 'args' must be a list");
    expect_error("servers:\n  s:\n    command: x\n    enabled: maybe\n",
                 "t.yaml:4:14: 'enabled' must be true or false");
    expect_error("- just\n- a list\n", "t.yaml:1:1: the configuration must be a mapping");
}

static void test_server_refusals(void **state)
{
    expect_error("servers:\n  fs: {command: x}\n", "t.yaml:2:3: server name 'fs' is reserved");
    expect_error("servers:\n  a.b: {command: x}\n", "server name 'a.b' may use only letters");
    expect_error("servers:\n  s: {command: x, url: 'http://h/'}\n", "both 'command' and 'url'");
    expect_error("servers:\n  s: {cwd: /tmp}\n",
                 "t.yaml:2:6: server 's' needs 'command' (stdio) or 'url' (Streamable HTTP)");
    expect_error("servers:\n  s: {url: 'ftp://h/'}\n", "must start with http:// or https://");
    expect_error("servers:\n  s: {url: 'http://h/', type: sse}\n", "deprecated HTTP+SSE");
    struct config *c = load_ok("servers:\n  ok-name_2: {command: x}\n");
    assert_int_equal(c->nservers, 1);
    config_free(c);
}

static void test_claude_mcp_json(void **state)
{
    unsetenv("MCPDECK_TEST_TOKEN");
    struct config *c = NULL;
    char *err = NULL;
    assert_int_equal(config_load_file("tests/fixtures/config/claude.mcp.json", &c, &err), 0);
    assert_int_equal(c->nservers, 3);
    const struct config_server *s = config_find_server(c, "everything");
    assert_string_equal(s->command, "npx");
    assert_int_equal(s->nargs, 2);
    assert_string_equal(s->env[0], "TOKEN=none");
    assert_string_equal(s->env[1], "PLAIN=a\"b");
    assert_int_equal(s->line, 3);
    const struct config_server *r = config_find_server(c, "remote");
    assert_int_equal(r->kind, CONFIG_SERVER_HTTP);
    assert_string_equal(r->headers[0], "Authorization: Bearer x");
    assert_int_equal(config_find_server(c, "off")->enabled, 0);
    config_free(c);
}

static void test_vscode_mcp_json(void **state)
{
    struct config *c = NULL;
    char *err = NULL;
    assert_int_equal(config_load_file("tests/fixtures/config/vscode.mcp.json", &c, &err), 0);
    assert_int_equal(c->nservers, 2);
    assert_string_equal(config_find_server(c, "notes")->args[0], "server.js");
    assert_string_equal(config_find_server(c, "web")->url, "http://127.0.0.1:9/mcp");
    config_free(c);
    /* JSON errors have positions too */
    const char *bad = "{\"mcpServers\": {\"x\": {\"command\": \"a\",}}";
    assert_int_equal(config_load_string("bad.json", bad, strlen(bad), &c, &err), -1);
    assert_non_null(strstr(err, "bad.json:1:"));
    free(err);
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void test_discovery_order(void **state)
{
    char cwd[PATH_MAX];
    assert_non_null(getcwd(cwd, sizeof cwd));
    char tmpl[] = "/tmp/mcpdeck-disc-XXXXXX";
    assert_non_null(mkdtemp(tmpl));
    assert_int_equal(chdir(tmpl), 0);
    char *xdg = xasprintf("%s/xdg", tmpl);
    char *xdgdir = xasprintf("%s/xdg/mcpdeck", tmpl);
    char *xdgfile = xasprintf("%s/xdg/mcpdeck/config.yaml", tmpl);
    assert_int_equal(util_mkdirs(xdgdir, 0700), 0);
    setenv("XDG_CONFIG_HOME", xdg, 1);
    struct config *c;
    char *err = NULL;

    write_file(xdgfile, "queue: {concurrency: 3}\n");
    assert_int_equal(config_load(NULL, &c, &err), 0);
    assert_int_equal(c->queue_concurrency, 3);
    config_free(c);

    write_file(".mcp.json", "{\"mcpServers\": {\"j\": {\"command\": \"x\"}}}");
    assert_int_equal(config_load(NULL, &c, &err), 0);
    assert_string_equal(c->source, ".mcp.json");
    config_free(c);

    write_file("mcpdeck.yaml", "queue: {concurrency: 7}\n");
    assert_int_equal(config_load(NULL, &c, &err), 0);
    assert_int_equal(c->queue_concurrency, 7);
    config_free(c);

    write_file("other.yaml", "queue: {concurrency: 9}\n");
    assert_int_equal(config_load("other.yaml", &c, &err), 0);
    assert_int_equal(c->queue_concurrency, 9);
    config_free(c);

    assert_int_equal(config_load("missing.yaml", &c, &err), -1);
    assert_non_null(strstr(err, "cannot read config missing.yaml"));
    free(err);

    unlink("other.yaml");
    unlink("mcpdeck.yaml");
    unlink(".mcp.json");
    unlink(xdgfile);
    rmdir(xdgdir);
    rmdir(xdg);
    free(xdg);
    free(xdgdir);
    free(xdgfile);
    assert_int_equal(chdir(cwd), 0);
    rmdir(tmpl);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ydoc_positions_and_types),
        cmocka_unit_test(test_ydoc_json_with_tabs_and_escapes),
        cmocka_unit_test(test_ydoc_refusals),
        cmocka_unit_test(test_defaults_and_embedded),
        cmocka_unit_test(test_full_yaml),
        cmocka_unit_test(test_env_expansion),
        cmocka_unit_test(test_error_positions),
        cmocka_unit_test(test_server_refusals),
        cmocka_unit_test(test_claude_mcp_json),
        cmocka_unit_test(test_vscode_mcp_json),
        cmocka_unit_test(test_discovery_order),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
