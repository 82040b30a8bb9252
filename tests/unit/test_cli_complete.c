/* test_cli_complete.c — `mcpdeck __complete` (cli_complete) on a config
 * file and a store in a temporary directory: each kind's candidates and
 * descriptions, prefixes, de-duplication, a missing database (nothing
 * offered, nothing created), and usage errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "cli_complete.h"
#include "db.h"
#include "util.h"

struct fix {
    char dir[64];
    char *config;
};

static int setup(void **state)
{
    struct fix *f = xcalloc(1, sizeof *f);
    strcpy(f->dir, "/tmp/mcpdeck-complete.XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    f->config = xasprintf("%s/mcpdeck.yaml", f->dir);
    FILE *c = fopen(f->config, "w");
    assert_non_null(c);
    fprintf(c, "data_dir: %s\n"
               "providers: {p: {type: openai, base_url: \"http://127.0.0.1:9/v1\"}}\n"
               "models: {m1: {provider: p, model: x-1}}\n"
               "aliases: {big: m1}\n"
               "memory: {namespaces: [notes, coding]}\n"
               "servers:\n"
               "  alpha: {command: /bin/false}\n"
               "  beta: {url: \"http://127.0.0.1:9/mcp\"}\n",
            f->dir);
    fclose(c);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fix *f = *state;
    char *cmd = xasprintf("rm -rf '%s'", f->dir);
    assert_int_equal(system(cmd), 0);
    free(cmd);
    free(f->config);
    free(f);
    return 0;
}

/* The store, made the way mcpdeck makes it, with sql run on it. */
static void store(struct fix *f, const char *sql)
{
    char *path = xasprintf("%s/mcpdeck.db", f->dir), *err = NULL;
    struct db *db = NULL;
    assert_int_equal(db_open(path, &db, &err), 0);
    assert_int_equal(db_exec(db, sql, &err), 0);
    db_close(db);
    free(path);
}

/* cli_complete(argv...) with its output; *rc gets the exit code. */
static char *run(struct fix *f, int *rc, const char *a0, const char *a1, const char *a2)
{
    char *argv[4] = {(char *)a0, (char *)a1, (char *)a2, NULL};
    int argc = 0;
    while (argc < 3 && argv[argc])
        argc++;
    struct cli_opts o = {f->config, NULL, 0};
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    assert_non_null(out);
    FILE *saved = stderr;
    stderr = fopen("/dev/null", "w");
    *rc = cli_complete(&o, argc, argv, out);
    fclose(stderr);
    stderr = saved;
    fclose(out);
    return text;
}

static void expect(struct fix *f, const char *a0, const char *a1, const char *a2,
                   const char *want)
{
    int rc;
    char *got = run(f, &rc, a0, a1, a2);
    assert_int_equal(rc, 0);
    assert_string_equal(got, want);
    free(got);
}

static void test_fixed(void **state)
{
    struct fix *f = *state;
    const struct { const char *what, *prefix, *want; } cases[] = {
        {"themes", NULL, "dark\tthe default\nlight\nhigh-contrast\nmono\tno colours\n"},
        {"themes", "h", "high-contrast\n"},
        {"log-levels", "e", "error\n"},
        {"statuses", "c", "cancelled\n"},
        {"modes", "k", "keyword\n"},
        {"formats", "j", "json\tbatch and jobs: one JSON document\n"
                         "jsonl\tbatch: one JSON object per task\n"
                         "junit\tbatch: JUnit XML for CI\n"},
        {"task-types", "d", "debug\ndocument\ndeploy\n"},
        {"capabilities", "code_", "code_analysis\ncode_search\n"},
        {"namespaces", NULL, "notes\ncoding\n"},
        {"models", NULL, "big\talias of m1\nm1\tp x-1\n"},
        {"themes", "zzz", ""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        expect(f, cases[i].what, cases[i].prefix, NULL, cases[i].want);
}

static void test_servers(void **state)
{
    struct fix *f = *state;
    /* no database yet: the config's and the built-ins, and no file made */
    expect(f, "servers", NULL, NULL,
           "alpha\tstdio /bin/false\nbeta\thttp http://127.0.0.1:9/mcp\n"
           "fs\tbuilt-in\ngit\tbuilt-in\nmemory\tbuilt-in\n");
    char *db = xasprintf("%s/mcpdeck.db", f->dir);
    assert_int_not_equal(access(db, F_OK), 0);
    free(db);
    /* run-time additions after them, overrides in the descriptions; a
     * row for a configured name is not a second candidate */
    store(f, "INSERT INTO servers_runtime (name, spec_json, enabled, updated_ms) VALUES "
             "('zeta', '{\"url\":\"http://x/\"}', 0, 0), "
             "('gamma', '{\"url\":\"http://y/\"}', NULL, 0),"
             "('alpha', NULL, 0, 0), ('beta', '{\"url\":\"http://z/\"}', NULL, 0)");
    expect(f, "servers", NULL, NULL,
           "alpha\tstdio (disabled) /bin/false\nbeta\thttp http://127.0.0.1:9/mcp\n"
           "fs\tbuilt-in\ngit\tbuilt-in\nmemory\tbuilt-in\n"
           "gamma\tadded at run time\nzeta\tadded at run time (disabled)\n");
    expect(f, "servers", "g", NULL, "git\tbuilt-in\ngamma\tadded at run time\n");
}

static void test_jobs_and_tools(void **state)
{
    struct fix *f = *state;
    expect(f, "jobs", NULL, NULL, "");
    store(f, "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 120) "
             "INSERT INTO jobs (server, tool, args_json, status, max_attempts, timeout_ms, "
             "created_ms) SELECT 'alpha', 'tool' || (x % 3), '{}', 'succeeded', 1, 1, 0 FROM c;"
             "INSERT INTO jobs (kind, tool, args_json, status, max_attempts, timeout_ms, "
             "created_ms) VALUES ('model', 'review', '{\"prompt\":\"a\\tb\\nc "
             "0123456789012345678901234567890123456789012345678901234567890123456789\"}', "
             "'queued', 1, 1, 0)");
    int rc;
    char *got = run(f, &rc, "jobs", NULL, NULL);
    assert_int_equal(rc, 0);
    size_t lines = 0;
    for (const char *p = got; *p; p++)
        lines += *p == '\n';
    assert_int_equal(lines, 50);
    /* newest first; control characters flattened, long text cut */
    assert_string_equal(strtok(got, "\n"),
                        "121\tqueued review: a b c 012345678901234567890123456789012345678...");
    assert_string_equal(strtok(NULL, "\n"), "120\tsucceeded alpha.tool0");
    free(got);
    /* the prefix is applied before the limit: old ids are reachable */
    got = run(f, &rc, "jobs", "7", NULL);
    assert_string_equal(got, "79\tsucceeded alpha.tool1\n78\tsucceeded alpha.tool0\n"
                             "77\tsucceeded alpha.tool2\n76\tsucceeded alpha.tool1\n"
                             "75\tsucceeded alpha.tool0\n74\tsucceeded alpha.tool2\n"
                             "73\tsucceeded alpha.tool1\n72\tsucceeded alpha.tool0\n"
                             "71\tsucceeded alpha.tool2\n70\tsucceeded alpha.tool1\n"
                             "7\tsucceeded alpha.tool1\n");
    free(got);
    /* LIKE wildcards in a prefix are literal */
    expect(f, "jobs", "%", NULL, "");
    expect(f, "jobs", "_", NULL, "");
    /* tools: from past jobs, newest first, once each */
    expect(f, "tools", "alpha", NULL,
           "tool0\tcalled before\ntool2\tcalled before\ntool1\tcalled before\n");
    expect(f, "tools", "alpha", "tool1", "tool1\tcalled before\n");
    expect(f, "tools", "beta", NULL, "");
    /* a built-in's from its table, first sentence of the description */
    expect(f, "tools", "memory", "memory_d", "memory_delete\tDelete a memory entry by id.\n");
}

static void test_errors(void **state)
{
    struct fix *f = *state;
    const struct { const char *a0, *a1, *a2; } bad[] = {
        {NULL, NULL, NULL},           /* no kind */
        {"bogus", NULL, NULL},        /* unknown kind */
        {"tools", NULL, NULL},        /* tools needs a server */
        {"themes", "a", "b"},         /* too many words */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc;
        char *got = run(f, &rc, bad[i].a0, bad[i].a1, bad[i].a2);
        assert_int_equal(rc, 2);
        assert_string_equal(got, "");
        free(got);
    }
    /* a config that does not load */
    FILE *c = fopen(f->config, "w");
    fputs("nonsense_key: 1\n", c);
    fclose(c);
    int rc;
    char *got = run(f, &rc, "servers", NULL, NULL);
    assert_int_equal(rc, 2);
    assert_string_equal(got, "");
    free(got);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_fixed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_servers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_jobs_and_tools, setup, teardown),
        cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
