/* test_serve.c — the aggregate MCP server over a real engine with only the
 * built-in servers (fs, git, memory): initialize and version negotiation,
 * the tool list and its expose filters, calls as jobs and direct, the task
 * tools, JSON-RPC errors, batches, cancellation, and a session freed with a
 * call in flight. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "engine.h"
#include "engine_fixture.h"
#include "loop.h"
#include "serve.h"
#include "util.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct fix {
    char dir[64];
    struct engine *e;
    struct serve *s;
    struct serve_session *ss;
    cJSON *msgs;                 /* everything sent to the client */
    int last_related_ok;         /* each answer's related was its id */
};

static void capture(void *payload, const char *json, size_t len, const char *related)
{
    struct fix *f = payload;
    cJSON *m = cJSON_ParseWithLength(json, len);
    assert_non_null(m);
    const cJSON *id = cJSON_GetObjectItem(m, "id");
    if (id && !cJSON_IsNull(id) && !cJSON_GetObjectItem(m, "method")) {
        char *t = cJSON_PrintUnformatted(id);
        f->last_related_ok = related && strcmp(t, related) == 0;
        cJSON_free(t);
    }
    cJSON_AddItemToArray(f->msgs, m);
}

static void fix_open(struct fix *f, const char *extra)
{
    memset(f, 0, sizeof *f);
    f->e = fixture_engine(f->dir, sizeof f->dir, "test_serve", extra, 1);
    char *err = NULL;
    f->s = serve_new(f->e, &err);
    assert_non_null(f->s);
    f->msgs = cJSON_CreateArray();
    f->ss = serve_session_new(f->s, capture, f);
}

static void fix_close(struct fix *f)
{
    serve_session_free(f->ss);
    serve_free(f->s);
    engine_free(f->e);
    cJSON_Delete(f->msgs);
    char *cmd = xasprintf("rm -rf %s", f->dir);
    assert_int_equal(system(cmd), 0);
    free(cmd);
}

static void put(struct fix *f, const char *json)
{
    serve_session_receive(f->ss, json, strlen(json));
}

/* The message answering id (a number), running the loop up to 10 s. */
static const cJSON *answer(struct fix *f, int id)
{
    int64_t end = util_now_ms() + 10000;
    for (;;) {
        const cJSON *m;
        cJSON_ArrayForEach(m, f->msgs) {
            const cJSON *i = cJSON_GetObjectItem(m, "id");
            if (cJSON_IsNumber(i) && i->valueint == id && !cJSON_GetObjectItem(m, "method"))
                return m;
        }
        if (util_now_ms() > end)
            fail_msg("no answer to request %d", id);
        loop_run_once(engine_loop(f->e), 50);
    }
}

static const char *result_text(const cJSON *m)
{
    const cJSON *c = cJSON_GetObjectItem(cJSON_GetObjectItem(m, "result"), "content");
    const cJSON *t = cJSON_GetObjectItem(cJSON_GetArrayItem(c, 0), "text");
    return cJSON_IsString(t) ? t->valuestring : "";
}

static int is_error(const cJSON *m)
{
    return cJSON_IsTrue(cJSON_GetObjectItem(cJSON_GetObjectItem(m, "result"), "isError"));
}

static int has_tool(const cJSON *m, const char *name)
{
    const cJSON *t;
    cJSON_ArrayForEach(t, cJSON_GetObjectItem(cJSON_GetObjectItem(m, "result"), "tools")) {
        if (strcmp(cJSON_GetObjectItem(t, "name")->valuestring, name) == 0)
            return 1;
    }
    return 0;
}

static void init(struct fix *f, int id, const char *version)
{
    char *m = xasprintf("{\"jsonrpc\":\"2.0\",\"id\":%d,\"method\":\"initialize\",\"params\":"
                        "{\"protocolVersion\":\"%s\",\"capabilities\":{},\"clientInfo\":"
                        "{\"name\":\"t\",\"version\":\"1\"}}}", id, version);
    put(f, m);
    free(m);
}

static void test_initialize_versions(void **state)
{
    (void)state;
    static const struct {
        const char *asked, *got;
    } cases[] = {
        {"2025-11-25", "2025-11-25"}, {"2025-06-18", "2025-06-18"},
        {"2025-03-26", "2025-03-26"}, {"2024-11-05", "2024-11-05"},
        {"2099-01-01", "2025-11-25"},
    };
    struct fix f;
    fix_open(&f, NULL);
    assert_false(serve_session_ready(f.ss));
    assert_null(serve_session_protocol(f.ss));
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        init(&f, (int)i + 1, cases[i].asked);
        const cJSON *r = cJSON_GetObjectItem(answer(&f, (int)i + 1), "result");
        assert_string_equal(cJSON_GetObjectItem(r, "protocolVersion")->valuestring,
                            cases[i].got);
        assert_string_equal(serve_session_protocol(f.ss), cases[i].got);
        const cJSON *caps = cJSON_GetObjectItem(r, "capabilities");
        assert_true(cJSON_IsTrue(
            cJSON_GetObjectItem(cJSON_GetObjectItem(caps, "tools"), "listChanged")));
        assert_non_null(cJSON_GetObjectItem(caps, "logging"));
        assert_true(f.last_related_ok);
    }
    assert_true(serve_session_ready(f.ss));
    fix_close(&f);
}

static void test_tools_list_and_filters(void **state)
{
    (void)state;
    struct fix f;
    fix_open(&f, NULL);
    init(&f, 1, "2025-06-18");
    put(&f, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/list\"}");
    const cJSON *m = answer(&f, 2);
    const char *want[] = {"fs__read_text_file", "fs__get_file_info", "git__status",
                          "memory__memory_store", "memory__memory_search", "submit_task",
                          "task_status", "task_result", "cancel_task"};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        assert_true(has_tool(m, want[i]));
    fix_close(&f);

    fix_open(&f, "serve:\n  expose: {servers: ['fs', memory], tools: ['!*__write_file']}\n"
                 "  task_tools: false\n");
    put(&f, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\",\"params\":{}}");
    m = answer(&f, 1);
    assert_true(has_tool(m, "fs__read_text_file"));
    assert_true(has_tool(m, "memory__memory_search"));
    assert_false(has_tool(m, "fs__write_file"));
    assert_false(has_tool(m, "git__status"));
    assert_false(has_tool(m, "submit_task"));
    /* what is not listed cannot be called */
    put(&f, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/call\",\"params\":"
            "{\"name\":\"git__status\",\"arguments\":{}}}");
    m = answer(&f, 2);
    assert_int_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(m, "error"), "code")->valueint,
                     -32602);
    put(&f, "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"tools/call\",\"params\":"
            "{\"name\":\"submit_task\",\"arguments\":{}}}");
    assert_non_null(cJSON_GetObjectItem(answer(&f, 3), "error"));
    fix_close(&f);
}

static void test_calls(void **state)
{
    (void)state;
    static const char *const configs[] = {NULL, "serve: {record_calls: false}\n"};
    for (size_t c = 0; c < 2; c++) {
        struct fix f;
        fix_open(&f, configs[c]);
        put(&f, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":"
                "{\"name\":\"memory__memory_store\",\"arguments\":"
                "{\"text\":\"the unit test remembers aardvarks\"}}}");
        const cJSON *m = answer(&f, 1);
        assert_false(is_error(m));
        assert_true(f.last_related_ok);
        put(&f, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/call\",\"params\":"
                "{\"name\":\"memory__memory_search\",\"arguments\":{\"query\":\"aardvarks\"}}}");
        m = answer(&f, 2);
        assert_false(is_error(m));
        assert_non_null(strstr(result_text(m), "aardvarks"));
        /* a tool's own error is a result with isError */
        put(&f, "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"tools/call\",\"params\":"
                "{\"name\":\"fs__read_text_file\",\"arguments\":{\"path\":\"/etc/passwd\"}}}");
        assert_true(is_error(answer(&f, 3)));
        struct engine_stats st;
        engine_stats(f.e, &st);
        /* recorded calls are jobs; direct calls are not */
        assert_int_equal(st.jobs.n[JOB_SUCCEEDED] + st.jobs.n[JOB_FAILED], c == 0 ? 3 : 0);
        assert_int_equal(serve_session_pending(f.ss), 0);
        fix_close(&f);
    }
}

static void test_task_tools(void **state)
{
    (void)state;
    struct fix f;
    fix_open(&f, NULL);
    put(&f, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":"
            "{\"name\":\"submit_task\",\"arguments\":{\"tool\":\"fs.get_file_info\","
            "\"arguments\":{\"path\":\".\"}}}}");
    const cJSON *m = answer(&f, 1);
    assert_false(is_error(m));
    const cJSON *sc = cJSON_GetObjectItem(cJSON_GetObjectItem(m, "result"), "structuredContent");
    int id = cJSON_GetObjectItem(sc, "task_id")->valueint;
    assert_true(id > 0);
    char *q = xasprintf("{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/call\",\"params\":"
                        "{\"name\":\"task_result\",\"arguments\":{\"task_id\":%d,\"wait\":5}}}",
                        id);
    put(&f, q);
    free(q);
    m = answer(&f, 2);
    sc = cJSON_GetObjectItem(cJSON_GetObjectItem(m, "result"), "structuredContent");
    assert_string_equal(cJSON_GetObjectItem(sc, "status")->valuestring, "succeeded");
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(sc, "done")));
    assert_false(is_error(m));
    q = xasprintf("{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"tools/call\",\"params\":"
                  "{\"name\":\"task_status\",\"arguments\":{\"task_id\":%d}}}", id);
    put(&f, q);
    free(q);
    sc = cJSON_GetObjectItem(cJSON_GetObjectItem(answer(&f, 3), "result"), "structuredContent");
    assert_string_equal(cJSON_GetObjectItem(sc, "server")->valuestring, "fs");
    assert_string_equal(cJSON_GetObjectItem(sc, "tool")->valuestring, "get_file_info");
    /* refusals say what is wrong */
    static const struct {
        const char *args, *want;
    } bad[] = {
        {"{}", "needs a tool"},
        {"{\"tool\":\"nosuch.tool\"}", "no server named"},
        {"{\"tool\":\"fs__read_text_file\",\"arguments\":[]}", "must be an object"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        q = xasprintf("{\"jsonrpc\":\"2.0\",\"id\":%d,\"method\":\"tools/call\",\"params\":"
                      "{\"name\":\"submit_task\",\"arguments\":%s}}", 10 + (int)i, bad[i].args);
        put(&f, q);
        free(q);
        m = answer(&f, 10 + (int)i);
        assert_true(is_error(m));
        if (!strstr(result_text(m), bad[i].want))
            fail_msg("'%s' does not say '%s'", result_text(m), bad[i].want);
    }
    put(&f, "{\"jsonrpc\":\"2.0\",\"id\":20,\"method\":\"tools/call\",\"params\":"
            "{\"name\":\"task_status\",\"arguments\":{\"task_id\":\"x\"}}}");
    assert_true(is_error(answer(&f, 20)));
    put(&f, "{\"jsonrpc\":\"2.0\",\"id\":21,\"method\":\"tools/call\",\"params\":"
            "{\"name\":\"cancel_task\",\"arguments\":{\"task_id\":999999}}}");
    assert_true(is_error(answer(&f, 21)));
    fix_close(&f);
}

static void test_protocol_errors(void **state)
{
    (void)state;
    struct fix f;
    fix_open(&f, NULL);
    static const struct {
        const char *in;
        int code;
    } cases[] = {
        {"{not json", -32700},
        {"[]", -32600},
        {"42", -32600},
        {"{\"jsonrpc\":\"2.0\",\"id\":{},\"method\":\"ping\"}", -32600},
        {"{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"nosuch/method\"}", -32601},
        {"{\"jsonrpc\":\"2.0\",\"id\":8,\"method\":\"tools/call\",\"params\":[1]}", -32602},
        {"{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":\"tools/call\",\"params\":{}}", -32602},
        {"{\"jsonrpc\":\"2.0\",\"id\":10,\"method\":\"prompts/get\",\"params\":"
         "{\"name\":\"x__y\"}}", -32602},
        {"{\"jsonrpc\":\"2.0\",\"id\":11,\"method\":\"resources/read\",\"params\":"
         "{\"uri\":\"file:///nowhere\"}}", -32002},
        {"{\"jsonrpc\":\"2.0\",\"id\":12,\"method\":\"logging/setLevel\",\"params\":"
         "{\"level\":\"loud\"}}", -32602},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int n = cJSON_GetArraySize(f.msgs);
        put(&f, cases[i].in);
        assert_int_equal(cJSON_GetArraySize(f.msgs), n + 1);
        const cJSON *e = cJSON_GetObjectItem(cJSON_GetArrayItem(f.msgs, n), "error");
        if (!e || cJSON_GetObjectItem(e, "code")->valueint != cases[i].code)
            fail_msg("case %zu: expected error %d", i, cases[i].code);
    }
    /* notifications and responses get no answer */
    int n = cJSON_GetArraySize(f.msgs);
    put(&f, "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}");
    put(&f, "{\"jsonrpc\":\"2.0\",\"id\":5,\"result\":{}}");
    assert_int_equal(cJSON_GetArraySize(f.msgs), n);
    /* a batch gets every answer */
    put(&f, "[{\"jsonrpc\":\"2.0\",\"id\":30,\"method\":\"ping\"},"
            "{\"jsonrpc\":\"2.0\",\"id\":31,\"method\":\"resources/list\"},"
            "{\"jsonrpc\":\"2.0\",\"id\":32,\"method\":\"prompts/list\"},"
            "{\"jsonrpc\":\"2.0\",\"id\":33,\"method\":\"logging/setLevel\","
            "\"params\":{\"level\":\"debug\"}}]");
    assert_non_null(cJSON_GetObjectItem(answer(&f, 30), "result"));
    assert_true(cJSON_IsArray(
        cJSON_GetObjectItem(cJSON_GetObjectItem(answer(&f, 31), "result"), "resources")));
    assert_true(cJSON_IsArray(
        cJSON_GetObjectItem(cJSON_GetObjectItem(answer(&f, 32), "result"), "prompts")));
    assert_non_null(cJSON_GetObjectItem(answer(&f, 33), "result"));
    fix_close(&f);
}

/* A cancelled call is not answered; a session freed with calls in flight
 * leaves nothing behind (ASan checks). */
static void test_cancel_and_free(void **state)
{
    (void)state;
    for (int direct = 0; direct < 2; direct++) {
        struct fix f;
        fix_open(&f, direct ? "serve: {record_calls: false}\n" : NULL);
        put(&f, "{\"jsonrpc\":\"2.0\",\"id\":\"a\",\"method\":\"tools/call\",\"params\":"
                "{\"name\":\"fs__grep\",\"arguments\":{\"pattern\":\"x\",\"path\":\".\"}}}");
        assert_int_equal(serve_session_pending(f.ss), 1);
        put(&f, "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/cancelled\",\"params\":"
                "{\"requestId\":\"a\",\"reason\":\"test\"}}");
        for (int i = 0; i < 20; i++)
            loop_run_once(engine_loop(f.e), 20);
        const cJSON *m;
        cJSON_ArrayForEach(m, f.msgs) {
            const cJSON *id = cJSON_GetObjectItem(m, "id");
            assert_false(cJSON_IsString(id) && strcmp(id->valuestring, "a") == 0);
        }
        assert_int_equal(serve_session_pending(f.ss), 0);
        /* one left in flight when the session goes */
        put(&f, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/call\",\"params\":"
                "{\"name\":\"fs__grep\",\"arguments\":{\"pattern\":\"x\",\"path\":\".\"}}}");
        serve_session_free(f.ss);
        f.ss = serve_session_new(f.s, capture, &f);
        for (int i = 0; i < 20; i++)
            loop_run_once(engine_loop(f.e), 20);
        assert_int_equal(cJSON_GetArraySize(f.msgs), 0);
        fix_close(&f);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_initialize_versions),
        cmocka_unit_test(test_tools_list_and_filters),
        cmocka_unit_test(test_calls),
        cmocka_unit_test(test_task_tools),
        cmocka_unit_test(test_protocol_errors),
        cmocka_unit_test(test_cancel_and_free),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
