/* test_config.c — the configuration: defaults and the embedded default
 * file, every key, ${VAR} expansion, exact file:line:col errors, reserved
 * and invalid server names, Claude .mcp.json and VS Code mcp.json import,
 * and the discovery order. Run from the repository root (fixtures are
 * under tests/fixtures/config/); every test returns to that directory. */
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
#include "embedded.h"
#include "util.h"

static char top_dir[PATH_MAX];

static struct config *load_named(const char *name, const char *text)
{
    struct config *c = NULL;
    char *err = NULL;
    if (config_load_string(name, text, strlen(text), &c, &err) != 0)
        fail_msg("unexpected error: %s", err);
    assert_non_null(c);
    return c;
}

static struct config *load_ok(const char *text)
{
    return load_named("t.yaml", text);
}

/* Loading text as name must fail with exactly want. */
static void expect_error_named(const char *name, const char *text, const char *want)
{
    struct config *c = NULL;
    char *err = NULL;
    assert_int_equal(config_load_string(name, text, strlen(text), &c, &err), -1);
    assert_null(c);
    assert_non_null(err);
    assert_string_equal(err, want);
    free(err);
}

static void expect_error(const char *text, const char *want)
{
    expect_error_named("t.yaml", text, want);
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    assert_int_equal(fclose(f), 0);
}

static int back_to_top(void **state)
{
    return chdir(top_dir);
}

/* === defaults === */

static void test_defaults(void **state)
{
    unsetenv("XDG_DATA_HOME");
    setenv("HOME", "/home/tester", 1);
    struct config *c = load_ok("");
    assert_string_equal(c->source, "t.yaml");
    assert_int_equal(c->queue_concurrency, 10);
    assert_int_equal(c->queue_timeout_ms, 300000);
    assert_int_equal(c->queue_retries, 3);
    assert_string_equal(c->data_dir, "/home/tester/.local/share/mcpdeck");
    assert_int_equal(c->nservers, 0);
    config_free(c);

    setenv("XDG_DATA_HOME", "/xdg/data", 1);
    c = load_ok("queue:\nservers:\n");   /* empty sections are the defaults */
    assert_string_equal(c->data_dir, "/xdg/data/mcpdeck");
    assert_int_equal(c->queue_concurrency, 10);
    assert_int_equal(c->nservers, 0);
    config_free(c);
    unsetenv("XDG_DATA_HOME");

    /* server defaults */
    c = load_ok("servers:\n  s:\n    command: x\n");
    const struct config_server *s = config_find_server(c, "s");
    assert_non_null(s);
    assert_string_equal(s->name, "s");
    assert_int_equal(s->kind, CONFIG_SERVER_STDIO);
    assert_int_equal(s->enabled, 1);
    assert_int_equal(s->timeout_ms, 60000);
    assert_int_equal(s->startup_timeout_ms, 30000);
    assert_int_equal(s->max_message, 16 << 20);
    assert_int_equal(c->llm.sampling_max_tokens, 1024);
    assert_int_equal(c->llm.sampling_concurrency, 4);
    assert_null(s->cwd);
    assert_null(s->log_level);
    assert_int_equal(s->nargs, 0);
    assert_int_equal(s->nenv, 0);
    assert_int_equal(s->line, 2);
    assert_int_equal(s->col, 3);
    config_free(c);
    config_free(NULL);
}

static void test_default_config_file(void **state)
{
    const struct embedded_file *f = embedded_find("data/config.default.yaml");
    assert_non_null(f);
    /* the embedded copy is the file in the repository */
    char *disk;
    size_t len;
    assert_int_equal(util_read_file("data/config.default.yaml", &disk, &len), 0);
    assert_int_equal(len, f->len);
    assert_memory_equal(disk, f->data, len);
    free(disk);

    unsetenv("XDG_DATA_HOME");
    setenv("HOME", "/home/tester", 1);
    struct config *c = NULL;
    char *err = NULL;
    if (config_load_file("data/config.default.yaml", &c, &err) != 0)
        fail_msg("default config: %s", err);
    assert_int_equal(c->queue_concurrency, 10);
    assert_int_equal(c->queue_timeout_ms, 300000);
    assert_int_equal(c->queue_retries, 3);
    assert_string_equal(c->data_dir, "/home/tester/.local/share/mcpdeck");
    assert_int_equal(c->nservers, 0);
    config_free(c);

    /* its commented example servers are valid too: uncomment and load them */
    const char *text = (const char *)f->data;
    const char *ex = strstr(text, "\n# servers:\n");
    assert_non_null(ex);
    const char *end = strstr(ex, "\nservers: {}");
    assert_non_null(end);
    struct buf b;
    buf_init(&b);
    for (const char *p = ex + 1; p < end;) {
        const char *nl = strchr(p, '\n');
        assert_true(p[0] == '#');
        buf_append(&b, p + 2, (size_t)(nl - p) - 2);
        buf_putc(&b, '\n');
        p = nl + 1;
    }
    setenv("EVERYTHING_KEY", "k1", 1);
    unsetenv("EVERYTHING_LOGS");
    setenv("REMOTE_TOKEN", "t2", 1);
    c = load_named("examples.yaml", b.data);
    assert_int_equal(c->nservers, 2);
    const struct config_server *s = config_find_server(c, "everything");
    assert_int_equal(s->kind, CONFIG_SERVER_STDIO);
    assert_string_equal(s->command, "npx");
    assert_int_equal(s->nenv, 2);
    assert_string_equal(s->env[0], "API_KEY=k1");
    assert_string_equal(s->env[1], "LOG_DIR=/tmp");
    assert_string_equal(s->log_level, "info");
    s = config_find_server(c, "remote");
    assert_int_equal(s->kind, CONFIG_SERVER_HTTP);
    assert_string_equal(s->headers[0], "Authorization: Bearer t2");
    assert_int_equal(s->enabled, 0);
    assert_int_equal(s->max_message, 16 << 20);
    config_free(c);
    buf_fini(&b);
}

/* === a full YAML config === */

static void test_full_yaml(void **state)
{
    setenv("MCPDECK_TEST_TOKEN", "s3cret", 1);
    struct config *c = NULL;
    char *err = NULL;
    if (config_load_file("tests/fixtures/config/full.yaml", &c, &err) != 0)
        fail_msg("full.yaml: %s", err);
    assert_string_equal(c->source, "tests/fixtures/config/full.yaml");
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
    assert_string_equal(s->args[0], "server.js");
    assert_string_equal(s->args[1], "stdio");
    assert_int_equal(s->nenv, 2);
    assert_string_equal(s->env[0], "API_KEY=s3cret");
    assert_string_equal(s->env[1], "LEVEL=3");
    assert_string_equal(s->cwd, "/tmp");
    assert_int_equal(s->timeout_ms, 1500);
    assert_int_equal(s->startup_timeout_ms, 10000);
    assert_int_equal(s->enabled, 1);
    assert_int_equal(s->line, 7);
    assert_int_equal(s->col, 3);
    assert_null(s->url);
    const struct config_server *w = config_find_server(c, "web");
    assert_non_null(w);
    assert_int_equal(w->kind, CONFIG_SERVER_HTTP);
    assert_string_equal(w->url, "http://127.0.0.1:8080/mcp");
    assert_int_equal(w->nheaders, 1);
    assert_string_equal(w->headers[0], "Authorization: Bearer s3cret");
    assert_int_equal(w->enabled, 0);
    assert_null(w->command);
    assert_null(config_find_server(c, "nope"));
    assert_null(config_find_server(c, "everything.x"));
    config_free(c);
}

static void test_values(void **state)
{
    setenv("HOME", "/home/tester", 1);
    struct config *c = load_ok("data_dir: ~/mcp/data\n");
    assert_string_equal(c->data_dir, "/home/tester/mcp/data");
    config_free(c);
    unsetenv("HOME");
    expect_error("data_dir: ~/x\n", "t.yaml:1:11: 'data_dir' starts with ~ but HOME is not set");
    setenv("HOME", "/home/tester", 1);
    c = load_ok("data_dir: ~\n"
                "queue: {concurrency: 1, timeout: 1h, retries: 1}\n"
                "servers:\n"
                "  a: {command: x, timeout: 250ms, startup_timeout: 2m,\n"
                "      log_level: debug, max_message: 64KiB, enabled: True}\n"
                "  b: {url: 'https://h/mcp', type: streamable-http,\n"
                "      max_message: 2MiB, timeout: 90}\n"
                "  c: {command: y, type: stdio, enabled: \"false\"}\n");
    assert_string_equal(c->data_dir, "/home/tester");
    assert_int_equal(c->queue_concurrency, 1);
    assert_int_equal(c->queue_timeout_ms, 3600000);
    assert_int_equal(c->queue_retries, 1);
    const struct config_server *a = config_find_server(c, "a");
    assert_int_equal(a->timeout_ms, 250);
    assert_int_equal(a->startup_timeout_ms, 120000);
    assert_string_equal(a->log_level, "debug");
    assert_int_equal(a->max_message, 64 * 1024);
    assert_int_equal(a->enabled, 1);
    const struct config_server *b = config_find_server(c, "b");
    assert_int_equal(b->kind, CONFIG_SERVER_HTTP);
    assert_int_equal(b->max_message, 2 << 20);
    assert_int_equal(b->timeout_ms, 90000);
    assert_int_equal(config_find_server(c, "c")->enabled, 0);
    assert_int_equal(c->nservers, 3);
    /* servers keep the file's order */
    assert_string_equal(c->servers[0].name, "a");
    assert_string_equal(c->servers[2].name, "c");
    config_free(c);
}

/* === ${VAR} expansion === */

static void expand_ok(const char *in, const char *want)
{
    char *out = NULL, *err = NULL;
    if (config_expand_env(in, &out, &err) != 0)
        fail_msg("'%s': %s", in, err);
    assert_string_equal(out, want);
    free(out);
}

static void expand_error(const char *in, const char *want)
{
    char *out = NULL, *err = NULL;
    assert_int_equal(config_expand_env(in, &out, &err), -1);
    assert_null(out);
    assert_string_equal(err, want);
    free(err);
}

static void test_expand_env(void **state)
{
    setenv("MCPDECK_A", "alpha", 1);
    setenv("MCPDECK_REC", "${MCPDECK_A}", 1);
    setenv("MCPDECK_EMPTY", "", 1);
    unsetenv("MCPDECK_MISSING");
    expand_ok("", "");
    expand_ok("plain text", "plain text");
    expand_ok("x-${MCPDECK_A}-y", "x-alpha-y");
    expand_ok("${MCPDECK_A}${MCPDECK_A}", "alphaalpha");
    expand_ok("${MCPDECK_MISSING:-dflt}", "dflt");
    expand_ok("${MCPDECK_MISSING:-}", "");
    expand_ok("${MCPDECK_A:-dflt}", "alpha");
    expand_ok("${MCPDECK_EMPTY:-dflt}", "dflt");   /* unset or empty, like sh */
    expand_ok("${MCPDECK_EMPTY}", "");
    expand_ok("${env:MCPDECK_A}", "alpha");        /* VS Code's spelling */
    /* single pass: what a variable or a default holds is not expanded */
    expand_ok("${MCPDECK_REC}", "${MCPDECK_A}");
    expand_ok("${MCPDECK_MISSING:-${MCPDECK_A}", "${MCPDECK_A");
    /* "$${" is a literal "${"; any other '$' stays */
    expand_ok("$${MCPDECK_A}", "${MCPDECK_A}");
    expand_ok("cost: $$5 and $HOME and $ and $", "cost: $$5 and $HOME and $ and $");
    expand_ok("$$${MCPDECK_A}", "$${MCPDECK_A}");

    expand_error("${MCPDECK_MISSING}", "environment variable 'MCPDECK_MISSING' is not set "
                                       "(use ${MCPDECK_MISSING:-default} for a default)");
    expand_error("a ${MCPDECK_A", "unterminated '${' in 'a ${MCPDECK_A' (close it with '}', or "
                                  "write '$${' for a literal '${')");
    expand_error("${1BAD}", "'${1BAD}' is not a valid variable reference (use ${NAME} or "
                            "${NAME:-default})");
    expand_error("${}", "'${}' is not a valid variable reference (use ${NAME} or "
                        "${NAME:-default})");
    expand_error("${A B}", "'${A B}' is not a valid variable reference (use ${NAME} or "
                           "${NAME:-default})");
    expand_error("${input:key}", "'${input:key}' is a VS Code input, which mcpdeck cannot ask "
                                 "for; use an environment variable, ${NAME}");
}

static void test_env_in_config(void **state)
{
    setenv("MCPDECK_A", "alpha", 1);
    setenv("MCPDECK_REC", "${MCPDECK_A}", 1);
    setenv("MCPDECK_BOOL", "false", 1);
    setenv("MCPDECK_N", "7", 1);
    setenv("MCPDECK_DUR", "2s", 1);
    unsetenv("MCPDECK_MISSING");
    struct config *c = load_ok("data_dir: /d/${MCPDECK_A}\n"
                               "queue: {concurrency: '${MCPDECK_N}', timeout: \"${MCPDECK_DUR}\"}\n"
                               "servers:\n"
                               "  s:\n"
                               "    command: ${MCPDECK_A}\n"
                               "    args: [\"--x=${MCPDECK_REC}\", '$${LITERAL}']\n"
                               "    env: {\"${KEY}\": '${MCPDECK_MISSING:-d}'}\n"
                               "    enabled: ${MCPDECK_BOOL:-true}\n");
    assert_string_equal(c->data_dir, "/d/alpha");
    assert_int_equal(c->queue_concurrency, 7);
    assert_int_equal(c->queue_timeout_ms, 2000);
    const struct config_server *s = config_find_server(c, "s");
    assert_string_equal(s->command, "alpha");
    assert_string_equal(s->args[0], "--x=${MCPDECK_A}");   /* single pass */
    assert_string_equal(s->args[1], "${LITERAL}");
    assert_string_equal(s->env[0], "${KEY}=d");             /* keys are not expanded */
    assert_int_equal(s->enabled, 0);
    config_free(c);

    expect_error("servers:\n  s:\n    command: x\n    args: [\"${MCPDECK_MISSING}\"]\n",
                 "t.yaml:4:12: environment variable 'MCPDECK_MISSING' is not set (use "
                 "${MCPDECK_MISSING:-default} for a default)");
    expect_error("servers:\n  s:\n    url: 'http://h/${MCPDECK_A'\n",
                 "t.yaml:3:10: unterminated '${' in 'http://h/${MCPDECK_A' (close it with "
                 "'}', or write '$${' for a literal '${')");
    expect_error("data_dir: ${MCPDECK_MISSING}\n",
                 "t.yaml:1:11: environment variable 'MCPDECK_MISSING' is not set (use "
                 "${MCPDECK_MISSING:-default} for a default)");
    setenv("MCPDECK_N", "many", 1);
    expect_error("queue: {retries: \"${MCPDECK_N}\"}\n",
                 "t.yaml:1:18: 'retries' must be a positive integer, got 'many'");
}

/* === errors with positions === */

static void test_unknown_keys(void **state)
{
    struct config *c = NULL;
    char *err = NULL;
    assert_int_equal(config_load_file("tests/fixtures/config/unknown_key.yaml", &c, &err), -1);
    assert_null(c);
    assert_string_equal(err, "tests/fixtures/config/unknown_key.yaml:6:3: unknown key "
                             "'retires' in queue; expected one of: concurrency, timeout, "
                             "retries");
    free(err);
    expect_error("queue:\n  concurrency: 2\n  foo: 3\n",
                 "t.yaml:3:3: unknown key 'foo' in queue; expected one of: concurrency, "
                 "timeout, retries");
    expect_error("data_dir: /x\nsevrers: {}\n",
                 "t.yaml:2:1: unknown key 'sevrers' in the configuration; expected one of: "
                 "servers, queue, data_dir, health, breaker, router, log, metrics, secrets, "
                 "providers, models, aliases, strategies, llm, agent, tools, sampling, memory, "
                 "shell, serve, theme, keys");
    expect_error("servers:\n  s:\n    command: x\n    envFile: .env\n",
                 "t.yaml:4:5: unknown key 'envFile' in a server; expected one of: command, "
                 "args, env, cwd, url, headers, enabled, timeout, startup_timeout, type, "
                 "log_level, max_message, concurrency, capabilities, task_types, weight, "
                 "preference, health_interval");
    /* mcpServers in a YAML file is the Claude format, which is lenient */
    c = load_ok("mcpServers:\n  s: {command: x, envFile: .env}\nother: 1\n");
    assert_int_equal(c->nservers, 1);
    config_free(c);
}

static void test_wrong_types(void **state)
{
    expect_error("queue: {concurrency: abc}\n",
                 "t.yaml:1:22: 'concurrency' must be a positive integer, got 'abc'");
    expect_error("queue: {concurrency: 0}\n",
                 "t.yaml:1:22: 'concurrency' must be a positive integer, got '0'");
    expect_error("queue: {retries: -1}\n",
                 "t.yaml:1:18: 'retries' must be a positive integer, got '-1'");
    expect_error("queue: {retries: 2.5}\n",
                 "t.yaml:1:18: 'retries' must be a positive integer, got '2.5'");
    expect_error("queue: {concurrency: [1]}\n",
                 "t.yaml:1:22: 'concurrency' must be a single value, not a sequence");
    expect_error("queue: {timeout: soon}\n",
                 "t.yaml:1:18: 'timeout' must be a duration such as 30 (seconds), 1500ms, "
                 "30s, 5m or 1h, got 'soon'");
    expect_error("queue: {timeout: 0}\n",
                 "t.yaml:1:18: 'timeout' must be a duration such as 30 (seconds), 1500ms, "
                 "30s, 5m or 1h, got '0'");
    expect_error("queue: [1]\n",
                 "t.yaml:1:8: 'queue' must be a mapping (concurrency, timeout, retries)");
    expect_error("data_dir: ''\n", "t.yaml:1:11: 'data_dir' is empty");
    expect_error("data_dir: {a: 1}\n",
                 "t.yaml:1:11: 'data_dir' must be a single value, not a mapping");
    expect_error("servers: [a, b]\n",
                 "t.yaml:1:10: 'servers' must be a mapping of server names to servers");
    expect_error("servers:\n  s: x\n",
                 "t.yaml:2:6: server 's' must be a mapping with 'command' or 'url'");
    expect_error("servers:\n  s:\n    command: x\n    args: notalist\n",
                 "t.yaml:4:11: 'args' must be a list, not a scalar");
    expect_error("servers:\n  s:\n    command: x\n    args: [a, {b: c}]\n",
                 "t.yaml:4:15: 'args' must be a single value, not a mapping");
    expect_error("servers:\n  s:\n    command: x\n    env: [A=1]\n",
                 "t.yaml:4:10: 'env' must be a mapping of names to values");
    expect_error("servers:\n  s:\n    command: x\n    env: {A: [1]}\n",
                 "t.yaml:4:14: 'env' must be a single value, not a sequence");
    expect_error("servers:\n  s:\n    url: 'http://h/'\n    headers: x\n",
                 "t.yaml:4:14: 'headers' must be a mapping of names to values");
    expect_error("servers:\n  s:\n    command: x\n    enabled: maybe\n",
                 "t.yaml:4:14: 'enabled' must be true or false, got 'maybe'");
    expect_error("servers:\n  s:\n    command: x\n    enabled: {}\n",
                 "t.yaml:4:14: 'enabled' must be true or false, not a mapping");
    expect_error("servers:\n  s:\n    command: x\n    timeout: 5 minutes\n",
                 "t.yaml:4:14: 'timeout' must be a duration such as 30 (seconds), 1500ms, 30s, "
                 "5m or 1h, got '5 minutes'");
    expect_error("servers:\n  s:\n    command: x\n    log_level: loud\n",
                 "t.yaml:4:16: 'log_level' must be one of: debug, info, notice, warning, "
                 "error, critical, alert, emergency; got 'loud'");
    expect_error("servers:\n  s:\n    command: x\n    max_message: 10\n",
                 "t.yaml:4:18: 'max_message' must be a size from 1KiB to 1024MiB, such as "
                 "16MiB or 65536");
    expect_error("servers:\n  s:\n    command: {a: b}\n",
                 "t.yaml:3:14: 'command' must be a single value, not a mapping");
    expect_error("servers:\n  s:\n    command: ''\n", "t.yaml:3:14: 'command' is empty");
    expect_error("- just\n- a list\n",
                 "t.yaml:1:1: the configuration must be a mapping, not a sequence");
    expect_error("just text\n", "t.yaml:1:1: the configuration must be a mapping, not a scalar");
    /* YAML errors come through with their positions */
    expect_error("queue:\n  concurrency: 1\n   retries: 2\n",
                 "t.yaml:3:11: mapping values are not allowed in this context");
    expect_error("servers:\n  a: {command: x}\n  a: {command: y}\n",
                 "t.yaml:3:3: duplicate key 'a' (first at line 2)");
}

static void test_server_refusals(void **state)
{
    expect_error("servers:\n  fs: {command: x}\n",
                 "t.yaml:2:3: server name 'fs' is reserved for the built-in server; choose "
                 "another name");
    expect_error("servers:\n  ok: {command: x}\n  git: {command: x}\n",
                 "t.yaml:3:3: server name 'git' is reserved for the built-in server; choose "
                 "another name");
    expect_error("servers:\n  memory: {url: 'http://h/'}\n",
                 "t.yaml:2:3: server name 'memory' is reserved for the built-in server; "
                 "choose another name");
    expect_error("servers:\n  a.b: {command: x}\n",
                 "t.yaml:2:3: server name 'a.b' may use only letters, digits, '_' and '-' "
                 "(tools are addressed server.tool)");
    expect_error("servers:\n  'a b': {command: x}\n",
                 "t.yaml:2:3: server name 'a b' may use only letters, digits, '_' and '-' "
                 "(tools are addressed server.tool)");
    expect_error("servers:\n  '': {command: x}\n",
                 "t.yaml:2:3: server name '' may use only letters, digits, '_' and '-' "
                 "(tools are addressed server.tool)");
    expect_error("servers:\n  s: {command: x, url: 'http://h/'}\n",
                 "t.yaml:2:6: server 's' has both 'command' and 'url'; give one");
    expect_error("servers:\n  s: {cwd: /tmp}\n",
                 "t.yaml:2:6: server 's' needs 'command' (stdio) or 'url' (Streamable HTTP)");
    expect_error("servers:\n  s:\n    enabled: false\n",
                 "t.yaml:3:5: server 's' needs 'command' (stdio) or 'url' (Streamable HTTP)");
    expect_error("servers:\n  s: {url: 'ftp://h/'}\n",
                 "t.yaml:2:12: 'url' must start with http:// or https://, got 'ftp://h/'");
    expect_error("servers:\n  s: {url: 'http://h/', type: sse}\n",
                 "t.yaml:2:31: the deprecated HTTP+SSE transport is not supported; use the "
                 "server's Streamable HTTP endpoint (type: http)");
    expect_error("servers:\n  s: {url: 'http://h/', type: ws}\n",
                 "t.yaml:2:31: unknown server type 'ws'; expected one of: stdio, http, "
                 "streamable-http");
    expect_error("servers:\n  s: {url: 'http://h/', type: stdio}\n",
                 "t.yaml:2:31: server 's' has type 'stdio' but no 'command'");
    expect_error("servers:\n  s: {command: x, type: http}\n",
                 "t.yaml:2:25: server 's' has type 'http' but no 'url'");
    expect_error("servers:\n  s: {command: x, env: {'A=B': 1}}\n",
                 "t.yaml:2:25: 'A=B' is not a valid environment variable name");
    expect_error("servers:\n  s: {url: 'http://h/', headers: {'Bad Name': 1}}\n",
                 "t.yaml:2:35: 'Bad Name' is not a valid HTTP header name");
    setenv("MCPDECK_NL", "x\r\nInjected: yes", 1);
    expect_error("servers:\n  s: {url: 'http://h/', headers: {X-A: \"${MCPDECK_NL}\"}}\n",
                 "t.yaml:2:40: header 'X-A' must not contain a line break");
    struct config *c = load_ok("servers:\n  ok-name_2: {command: x}\n  Z9: {url: 'https://h'}\n");
    assert_int_equal(c->nservers, 2);
    assert_non_null(config_find_server(c, "ok-name_2"));
    assert_int_equal(config_find_server(c, "Z9")->kind, CONFIG_SERVER_HTTP);
    config_free(c);
}

/* === other clients' JSON files === */

static void test_claude_mcp_json(void **state)
{
    unsetenv("MCPDECK_TEST_TOKEN");
    struct config *c = NULL;
    char *err = NULL;
    if (config_load_file("tests/fixtures/config/claude.mcp.json", &c, &err) != 0)
        fail_msg("claude.mcp.json: %s", err);
    assert_int_equal(c->nservers, 3);
    assert_int_equal(c->queue_concurrency, 10);   /* defaults for the rest */
    const struct config_server *s = config_find_server(c, "everything");
    assert_non_null(s);
    assert_int_equal(s->kind, CONFIG_SERVER_STDIO);
    assert_string_equal(s->command, "npx");
    assert_int_equal(s->nargs, 3);
    assert_string_equal(s->args[1], "@modelcontextprotocol/server-everything");
    assert_string_equal(s->args[2], "caf\xC3\xA9 \xF0\x9F\x98\x80");
    assert_int_equal(s->nenv, 3);
    assert_string_equal(s->env[0], "TOKEN=none");
    assert_string_equal(s->env[1], "PLAIN=a\"b\\c");
    assert_string_equal(s->env[2], "PORT=8080");
    assert_int_equal(s->timeout_ms, 30000);
    assert_int_equal(s->enabled, 1);
    assert_int_equal(s->line, 3);
    assert_int_equal(s->col, 3);   /* after two tabs */
    const struct config_server *r = config_find_server(c, "remote");
    assert_int_equal(r->kind, CONFIG_SERVER_HTTP);
    assert_string_equal(r->url, "https://example.com/mcp");
    assert_string_equal(r->headers[0], "Authorization: Bearer x");
    assert_int_equal(config_find_server(c, "off")->enabled, 0);
    config_free(c);

    /* the same file with the variable set */
    setenv("MCPDECK_TEST_TOKEN", "tok", 1);
    assert_int_equal(config_load_file("tests/fixtures/config/claude.mcp.json", &c, &err), 0);
    assert_string_equal(config_find_server(c, "everything")->env[0], "TOKEN=tok");
    assert_string_equal(config_find_server(c, "remote")->headers[0], "Authorization: Bearer tok");
    config_free(c);

    /* lenient about keys, strict about what we use */
    c = load_named(".mcp.json", "{\"mcpServers\": {}, \"inputs\": [], \"x\": 1}");
    assert_int_equal(c->nservers, 0);
    config_free(c);
    expect_error_named(".mcp.json", "{\"mcpServers\": {\"a\": {\"type\": \"sse\", \"url\": "
                                    "\"http://h/sse\"}}}",
                       ".mcp.json:1:31: the deprecated HTTP+SSE transport is not supported; "
                       "use the server's Streamable HTTP endpoint (type: http)");
    expect_error_named(".mcp.json", "{\"mcpServers\": {\"a\": {\"args\": [\"x\"]}}}",
                       ".mcp.json:1:22: server 'a' needs 'command' (stdio) or 'url' "
                       "(Streamable HTTP)");
    expect_error_named(".mcp.json", "{\"mcpServers\": {\"a\": {\"command\": \"x\", "
                                    "\"disabled\": \"no\"}}}",
                       ".mcp.json:1:51: 'disabled' must be true or false, got 'no'");
    expect_error_named(".mcp.json", "{\"mcpServers\": [1]}",
                       ".mcp.json:1:16: 'mcpServers' must be a mapping of server names to "
                       "servers");
    expect_error_named(".mcp.json", "{\"mcpServers\": {\"a\": {\"command\": \"x\",}}}",
                       ".mcp.json:1:38: invalid JSON: a trailing comma is not allowed");
}

static void test_vscode_mcp_json(void **state)
{
    setenv("HOME", "/home/tester", 1);
    struct config *c = NULL;
    char *err = NULL;
    if (config_load_file("tests/fixtures/config/vscode.mcp.json", &c, &err) != 0)
        fail_msg("vscode.mcp.json: %s", err);
    assert_int_equal(c->nservers, 3);
    const struct config_server *n = config_find_server(c, "notes");
    assert_int_equal(n->kind, CONFIG_SERVER_STDIO);
    assert_string_equal(n->command, "node");
    assert_string_equal(n->args[0], "server.js");
    assert_string_equal(n->env[0], "HOME_DIR=/home/tester");
    assert_int_equal(n->line, 4);
    assert_int_equal(n->col, 5);
    const struct config_server *w = config_find_server(c, "web");
    assert_int_equal(w->kind, CONFIG_SERVER_HTTP);
    assert_string_equal(w->url, "http://127.0.0.1:9/mcp");
    assert_string_equal(w->headers[0], "X-Key: k");
    const struct config_server *l = config_find_server(c, "later");
    assert_int_equal(l->enabled, 0);
    assert_int_equal(l->nargs, 0);
    config_free(c);

    /* "servers" in a .json file is VS Code's shape: unknown keys are ignored */
    c = load_named("mcp.json", "{\"servers\": {\"a\": {\"command\": \"x\", \"dev\": {}}}, "
                               "\"queue\": {\"bogus\": 1}}");
    assert_int_equal(c->nservers, 1);
    config_free(c);
    expect_error_named("mcp.json", "{\"servers\": {\"a\": {\"command\": \"x\", "
                                   "\"env\": {\"K\": \"${input:key}\"}}}}",
                       "mcp.json:1:49: '${input:key}' is a VS Code input, which mcpdeck "
                       "cannot ask for; use an environment variable, ${NAME}");
    expect_error_named("mcp.json", "{\"servers\": {\"git\": {\"command\": \"x\"}}}",
                       "mcp.json:1:14: server name 'git' is reserved for the built-in "
                       "server; choose another name");
}

/* === discovery === */

static void test_discovery_order(void **state)
{
    char tmpl[] = "/tmp/mcpdeck-disc-XXXXXX";
    assert_non_null(mkdtemp(tmpl));
    assert_int_equal(chdir(tmpl), 0);
    char *home = xasprintf("%s/home", tmpl);
    char *homecfg = xasprintf("%s/home/.config/mcpdeck", tmpl);
    char *homefile = xasprintf("%s/home/.config/mcpdeck/config.yaml", tmpl);
    char *xdg = xasprintf("%s/xdg", tmpl);
    char *xdgdir = xasprintf("%s/xdg/mcpdeck", tmpl);
    char *xdgfile = xasprintf("%s/xdg/mcpdeck/config.yaml", tmpl);
    assert_int_equal(util_mkdirs(homecfg, 0700), 0);
    assert_int_equal(util_mkdirs(xdgdir, 0700), 0);
    setenv("HOME", home, 1);
    unsetenv("XDG_CONFIG_HOME");
    struct config *c;
    char *err = NULL;

    /* nothing anywhere: the embedded default */
    assert_int_equal(config_load(NULL, &c, &err), 0);
    assert_string_equal(c->source, "<embedded default>");
    assert_int_equal(c->queue_concurrency, 10);
    assert_int_equal(c->nservers, 0);
    config_free(c);

    /* ~/.config when XDG_CONFIG_HOME is unset */
    write_file(homefile, "queue: {concurrency: 2}\n");
    assert_int_equal(config_load(NULL, &c, &err), 0);
    assert_string_equal(c->source, homefile);
    assert_int_equal(c->queue_concurrency, 2);
    config_free(c);

    /* $XDG_CONFIG_HOME wins over ~/.config; an empty directory is skipped */
    setenv("XDG_CONFIG_HOME", xdg, 1);
    assert_int_equal(config_load(NULL, &c, &err), 0);
    assert_string_equal(c->source, "<embedded default>");
    config_free(c);
    write_file(xdgfile, "queue: {concurrency: 3}\n");
    assert_int_equal(config_load(NULL, &c, &err), 0);
    assert_string_equal(c->source, xdgfile);
    assert_int_equal(c->queue_concurrency, 3);
    config_free(c);

    /* ./.mcp.json wins over the user config */
    write_file(".mcp.json", "{\"mcpServers\": {\"j\": {\"command\": \"x\"}}}");
    assert_int_equal(config_load(NULL, &c, &err), 0);
    assert_string_equal(c->source, ".mcp.json");
    assert_non_null(config_find_server(c, "j"));
    config_free(c);

    /* ./mcpdeck.yaml wins over ./.mcp.json */
    write_file("mcpdeck.yaml", "queue: {concurrency: 7}\n");
    assert_int_equal(config_load(NULL, &c, &err), 0);
    assert_string_equal(c->source, "mcpdeck.yaml");
    assert_int_equal(c->queue_concurrency, 7);
    config_free(c);

    /* an explicit path wins over everything */
    write_file("other.yaml", "queue: {concurrency: 9}\n");
    assert_int_equal(config_load("other.yaml", &c, &err), 0);
    assert_string_equal(c->source, "other.yaml");
    assert_int_equal(c->queue_concurrency, 9);
    config_free(c);

    /* a missing explicit path is an error naming it, not a fallback */
    c = NULL;
    assert_int_equal(config_load("missing.yaml", &c, &err), -1);
    assert_null(c);
    assert_string_equal(err, "cannot read config missing.yaml: No such file or directory");
    free(err);

    /* a broken discovered file is an error, not a fallback */
    write_file("mcpdeck.yaml", "queue: {concurrency: x}\n");
    assert_int_equal(config_load(NULL, &c, &err), -1);
    assert_string_equal(err, "mcpdeck.yaml:1:22: 'concurrency' must be a positive integer, "
                             "got 'x'");
    free(err);

    unlink("other.yaml");
    unlink("mcpdeck.yaml");
    unlink(".mcp.json");
    unlink(xdgfile);
    unlink(homefile);
    rmdir(xdgdir);
    rmdir(xdg);
    rmdir(homecfg);
    char *dotconfig = xasprintf("%s/home/.config", tmpl);
    rmdir(dotconfig);
    rmdir(home);
    free(dotconfig);
    free(home);
    free(homecfg);
    free(homefile);
    free(xdg);
    free(xdgdir);
    free(xdgfile);
    assert_int_equal(chdir(top_dir), 0);
    assert_int_equal(rmdir(tmpl), 0);
    unsetenv("XDG_CONFIG_HOME");
}

/* health, breaker, router, log, metrics, secrets and the routing keys of a
 * server; secrets are what server env/headers/args/url took from the
 * environment plus those listed. */
static void test_registry_sections(void **state)
{
    struct config *c = load_ok("servers: {}\n");
    assert_int_equal(c->health_interval_ms, 30000);
    assert_int_equal(c->breaker_failures, 5);
    assert_int_equal(c->breaker_cooldown_ms, 60000);
    assert_true(c->weights.capability == 0.4 && c->weights.preference == 0.1);
    assert_string_equal(c->log_level, "info");
    assert_null(c->metrics_file);
    assert_int_equal(c->nsecret_env, 0);
    config_free(c);

    setenv("MCPDECK_T_TOKEN", "tok-123456", 1);
    setenv("MCPDECK_T_DIR", "/tmp", 1);
    c = load_ok("health: {interval: 5s, slow: 250ms, window: 4}\n"
                "breaker: {failures: 2, cooldown: 1500ms}\n"
                "router: {weights: {capability: 0.5, fit: 0.2, health: 0.2, preference: 0.1}}\n"
                "log: {level: debug, file: /tmp/x.log, max_size: 64KiB, keep: 2}\n"
                "metrics: {file: /tmp/m.prom, interval: 2s}\n"
                "secrets: [OTHER_KEY]\n"
                "data_dir: ${MCPDECK_T_DIR}\n"
                "servers:\n"
                "  a:\n"
                "    command: x\n"
                "    env: {T: \"${MCPDECK_T_TOKEN}\"}\n"
                "    capabilities: [code_analysis, security_analysis]\n"
                "    task_types: [review]\n"
                "    weight: heavy\n"
                "    preference: 0.9\n"
                "    health_interval: 10s\n");
    assert_int_equal(c->health_interval_ms, 5000);
    assert_int_equal(c->health_slow_ms, 250);
    assert_int_equal(c->health_window, 4);
    assert_int_equal(c->breaker_failures, 2);
    assert_int_equal(c->breaker_cooldown_ms, 1500);
    assert_true(c->weights.capability == 0.5 && c->weights.fit == 0.2);
    assert_string_equal(c->log_level, "debug");
    assert_string_equal(c->log_file, "/tmp/x.log");
    assert_int_equal(c->log_max_bytes, 65536);
    assert_int_equal(c->log_keep, 2);
    assert_string_equal(c->metrics_file, "/tmp/m.prom");
    assert_int_equal(c->metrics_interval_ms, 2000);
    const struct config_server *a = config_find_server(c, "a");
    assert_int_equal(a->has_caps, 1);
    assert_int_equal(a->ncaps, 2);
    assert_string_equal(a->caps[1], "security_analysis");
    assert_int_equal(a->ntask_types, 1);
    assert_string_equal(a->weight, "heavy");
    assert_true(a->preference == 0.9);
    assert_int_equal(a->health_interval_ms, 10000);
    /* the token a server's env took is a secret; data_dir's is not */
    assert_int_equal(c->nsecret_env, 2);
    assert_string_equal(c->secret_env[0], "OTHER_KEY");
    assert_string_equal(c->secret_env[1], "MCPDECK_T_TOKEN");
    config_free(c);

    expect_error("breaker: {failures: 0}\n",
                 "t.yaml:1:21: 'failures' must be a positive integer, got '0'");
    expect_error("router: {weights: {fit: 2}}\n",
                 "t.yaml:1:25: 'fit' must be a number from 0 to 1, got '2'");
    expect_error("router: {weights: {capability: 0, fit: 0, health: 0, preference: 0}}\n",
                 "t.yaml:1:19: router weights must not all be 0");
    expect_error("log: {level: loud}\n",
                 "t.yaml:1:14: log 'level' must be debug, info, warn or error; got 'loud'");
    expect_error("health: 5\n", "t.yaml:1:9: 'health' must be a mapping");
    expect_error("metrics: {every: 1s}\n",
                 "t.yaml:1:11: unknown key 'every' in metrics; expected one of: file, interval");
    expect_error("secrets: [a-b]\n",
                 "t.yaml:1:11: 'a-b' in 'secrets' is not an environment variable name");
    expect_error("servers:\n  a:\n    command: x\n    weight: huge\n",
                 "t.yaml:4:13: 'weight' must be light, heavy or both; got 'huge'");
    expect_error("servers:\n  a:\n    command: x\n    capabilities: [Code Analysis]\n",
                 "t.yaml:4:20: 'Code Analysis' in 'capabilities' must be a lowercase word "
                 "such as code_analysis");
}

/* providers, models, aliases, strategies and the gateway's settings;
 * every cross-reference checked with a position. */
static void test_llm_sections(void **state)
{
    struct config *c = load_ok(
        "providers:\n"
        "  or: {type: openai, base_url: \"https://openrouter.ai/api/v1/\", api_key_env: OR_KEY}\n"
        "  an: {type: anthropic, base_url: https://api.anthropic.com, api_key_env: AN_KEY,\n"
        "       timeout: 30s}\n"
        "models:\n"
        "  sonnet: {provider: an, model: claude-sonnet-4-5, context: 200000, price_in: 3,\n"
        "           price_out: 15}\n"
        "  mini: {provider: or, model: openai/gpt-4o-mini, price_in: 0.15, price_out: 0.6,\n"
        "         max_tokens: 1000}\n"
        "aliases: {big: sonnet, small: mini}\n"
        "strategies: {cost: [small, big]}\n"
        "llm: {strategy: cost, retries: 1, max_price: 20, budget: {task: 0.5, day: 10},\n"
        "      cache: {enabled: true, ttl: 1h}, breaker: {failures: 2, cooldown: 5s}}\n"
        "agent: {max_steps: 4}\n"
        "tools: {deny: [\"fs.write_*\"], destructive: [\"*.delete*\"]}\n"
        "sampling: {allow: [everything], model: small, max_tokens: 200, concurrency: 2}\n");
    const struct config_llm *m = &c->llm;
    assert_int_equal(m->nproviders, 2);
    assert_string_equal(m->providers[0].base_url, "https://openrouter.ai/api/v1");
    assert_int_equal(m->providers[1].kind, CONFIG_PROVIDER_ANTHROPIC);
    assert_int_equal(m->providers[1].timeout_ms, 30000);
    assert_string_equal(config_find_model(c, "big")->model, "claude-sonnet-4-5");
    assert_true(config_find_model(c, "small")->price_out == 0.6);
    assert_int_equal(config_find_model(c, "mini")->max_tokens, 1000);
    assert_null(config_find_model(c, "huge"));
    assert_int_equal(m->nstrategies[CONFIG_STRATEGY_COST], 2);
    assert_string_equal(m->strategies[CONFIG_STRATEGY_COST][0], "mini");
    /* unset strategies list every model in file order */
    assert_string_equal(m->strategies[CONFIG_STRATEGY_QUALITY][0], "sonnet");
    assert_int_equal(m->strategy, CONFIG_STRATEGY_COST);
    assert_true(m->budget_task == 0.5 && m->budget_day == 10 && m->max_price == 20);
    assert_int_equal(m->cache, 1);
    assert_int_equal(m->cache_ttl_ms, 3600000);
    assert_int_equal(m->breaker_failures, 2);
    assert_int_equal(m->max_steps, 4);
    assert_string_equal(m->tools_deny[0], "fs.write_*");
    assert_string_equal(m->sampling_model, "mini");
    assert_int_equal(m->sampling_concurrency, 2);
    /* the key variables are secrets */
    int or_key = 0;
    for (size_t i = 0; i < c->nsecret_env; i++)
        or_key |= strcmp(c->secret_env[i], "OR_KEY") == 0;
    assert_true(or_key);
    config_free(c);

    expect_error("providers: {p: {type: gemini, base_url: http://x}}\n",
                 "t.yaml:1:23: provider 'type' must be openai or anthropic");
    expect_error("providers: {p: {type: openai, base_url: http://x, api_key_env: sk-123}}\n",
                 "t.yaml:1:64: 'api_key_env' names an environment variable (e.g. "
                 "OPENROUTER_API_KEY), not the key itself");
    expect_error("providers: {p: {type: openai, base_url: http://x}}\n"
                 "models: {m: {provider: q, model: x}}\n",
                 "t.yaml:2:24: unknown provider 'q' (providers: p)");
    expect_error("providers: {p: {type: openai, base_url: http://x}}\n"
                 "models: {m: {provider: p, model: x}}\n"
                 "aliases: {big: huge}\n",
                 "t.yaml:3:16: unknown model 'huge' in aliases (models: m)");
    expect_error("llm: {strategy: cheapest}\n",
                 "t.yaml:1:17: 'strategy' must be quality, speed or cost");
}

static void test_serve_section(void **state)
{
    (void)state;
    struct config *c = load_ok("");
    assert_int_equal(c->serve.nservers, 0);
    assert_int_equal(c->serve.ntools, 0);
    assert_int_equal(c->serve.hide_open_breakers, 0);
    assert_int_equal(c->serve.record_calls, 1);
    assert_int_equal(c->serve.task_tools, 1);
    assert_null(c->serve.http_listen);
    config_free(c);
    c = load_ok("serve:\n  expose: {servers: [fs, 'every*'], tools: '!*__write*'}\n"
                "  hide_open_breakers: true\n  record_calls: false\n  task_tools: false\n"
                "  http: {listen: '127.0.0.1:9000', token_env: SERVE_TOKEN}\n");
    assert_int_equal(c->serve.nservers, 2);
    assert_string_equal(c->serve.servers[1], "every*");
    assert_int_equal(c->serve.ntools, 1);
    assert_string_equal(c->serve.tools[0], "!*__write*");
    assert_int_equal(c->serve.hide_open_breakers, 1);
    assert_int_equal(c->serve.record_calls, 0);
    assert_int_equal(c->serve.task_tools, 0);
    assert_string_equal(c->serve.http_listen, "127.0.0.1:9000");
    assert_string_equal(c->serve.http_token_env, "SERVE_TOKEN");
    config_free(c);
    expect_error("serve:\n  expose: {server: [fs]}\n",
                 "t.yaml:2:12: unknown key 'server' in expose; expected one of: servers, tools");
    expect_error("serve:\n  hide_open_breakers: maybe\n",
                 "t.yaml:2:23: 'hide_open_breakers' must be true or false, got 'maybe'");
    expect_error("serve:\n  http: {token_env: 'a b'}\n",
                 "t.yaml:2:21: 'token_env' must name an environment variable, got 'a b'");
}

int main(void)
{
    if (!getcwd(top_dir, sizeof top_dir))
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_defaults, back_to_top),
        cmocka_unit_test_teardown(test_default_config_file, back_to_top),
        cmocka_unit_test_teardown(test_full_yaml, back_to_top),
        cmocka_unit_test_teardown(test_values, back_to_top),
        cmocka_unit_test_teardown(test_expand_env, back_to_top),
        cmocka_unit_test_teardown(test_env_in_config, back_to_top),
        cmocka_unit_test_teardown(test_unknown_keys, back_to_top),
        cmocka_unit_test_teardown(test_wrong_types, back_to_top),
        cmocka_unit_test_teardown(test_server_refusals, back_to_top),
        cmocka_unit_test_teardown(test_claude_mcp_json, back_to_top),
        cmocka_unit_test_teardown(test_vscode_mcp_json, back_to_top),
        cmocka_unit_test_teardown(test_discovery_order, back_to_top),
        cmocka_unit_test_teardown(test_registry_sections, back_to_top),
        cmocka_unit_test_teardown(test_llm_sections, back_to_top),
        cmocka_unit_test_teardown(test_serve_section, back_to_top),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
