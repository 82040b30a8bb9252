/* test_serve.c — the aggregate MCP server over a real engine with only the
 * built-in servers (fs, git, memory): initialize and version negotiation,
 * the tool list and its expose filters, calls as jobs and direct, the task
 * tools, JSON-RPC errors, batches, cancellation, a session freed with a
 * call in flight, the list methods' pages and cursors, subscriptions where
 * no server supports them, and which outer session a server's request is
 * relayed to (serve_relay_claim, through the internal header), and the
 * serve.page_size and serve.relay_timeout keys. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "config.h"
#include "engine.h"
#include "engine_fixture.h"
#include "loop.h"
#include "serve.h"
#include "serve_int.h"
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
    char related[64];            /* the related of the last request to the client */
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
    if (id && cJSON_GetObjectItem(m, "method"))
        snprintf(f->related, sizeof f->related, "%s", related ? related : "(none)");
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
    fixture_engine_free(f->e, f->dir);
    cJSON_Delete(f->msgs);
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
        /* a double outside int's range made the conversion undefined */
        {"{\"tool\":\"fs.get_file_info\",\"priority\":1e30}", "priority must be an integer"},
        {"{\"tool\":\"fs.get_file_info\",\"priority\":2.5}", "priority must be an integer"},
        {"{\"tool\":\"fs.get_file_info\",\"priority\":\"high\"}", "priority must be"},
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
    put(&f, "{\"jsonrpc\":\"2.0\",\"id\":22,\"method\":\"tools/call\",\"params\":"
            "{\"name\":\"task_status\",\"arguments\":{\"task_id\":1e300}}}");
    assert_true(is_error(answer(&f, 22)));
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

/* The names of a tools/list answer's page, appended to out (a string
 * array); its nextCursor or NULL (borrowed from the message). */
static const char *page_names(const cJSON *m, cJSON *out, int *n)
{
    const cJSON *r = cJSON_GetObjectItem(m, "result"), *t;
    *n = 0;
    cJSON_ArrayForEach(t, cJSON_GetObjectItem(r, "tools")) {
        cJSON_AddItemToArray(out, cJSON_CreateString(cJSON_GetObjectItem(t, "name")->valuestring));
        (*n)++;
    }
    const cJSON *c = cJSON_GetObjectItem(r, "nextCursor");
    return cJSON_IsString(c) ? c->valuestring : NULL;
}

static int error_code(const cJSON *m, const char **message)
{
    const cJSON *e = cJSON_GetObjectItem(m, "error");
    if (message)
        *message = e ? cJSON_GetObjectItem(e, "message")->valuestring : "";
    return e ? cJSON_GetObjectItem(e, "code")->valueint : 0;
}

static void test_pages(void **state)
{
    (void)state;
    /* the whole list in one page (the default page size is larger) */
    struct fix f;
    fix_open(&f, NULL);
    put(&f, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\"}");
    cJSON *whole = cJSON_CreateArray();
    int n;
    assert_null(page_names(answer(&f, 1), whole, &n));
    assert_true(n > 7);
    fix_close(&f);

    fix_open(&f, "serve: {page_size: 3}\n");
    cJSON *paged = cJSON_CreateArray();
    char *cursor = NULL;
    int id = 1, pages = 0;
    do {
        char *q = cursor ? xasprintf("{\"jsonrpc\":\"2.0\",\"id\":%d,\"method\":\"tools/list\","
                                     "\"params\":{\"cursor\":\"%s\"}}", id, cursor)
                         : xasprintf("{\"jsonrpc\":\"2.0\",\"id\":%d,\"method\":\"tools/list\"}",
                                     id);
        put(&f, q);
        free(q);
        const char *next = page_names(answer(&f, id++), paged, &n);
        free(cursor);
        cursor = next ? xstrdup(next) : NULL;
        pages++;
        if (cursor)
            assert_int_equal(n, 3);
        else
            assert_true(n >= 1 && n <= 3);
    } while (cursor && pages < 100);
    /* the pages hold the whole list, in its order */
    assert_int_equal(pages, (cJSON_GetArraySize(whole) + 2) / 3);
    char *a = cJSON_PrintUnformatted(whole), *b = cJSON_PrintUnformatted(paged);
    assert_string_equal(a, b);
    cJSON_free(a);
    cJSON_free(b);
    /* cursors this server did not give */
    static const struct {
        const char *method, *cursor, *says;
    } bad[] = {
        {"tools/list", "\"tools:0\"", "not a cursor"},
        {"tools/list", "\"resources:3\"", "not a cursor of this tools list"},
        {"tools/list", "\"tools:3x\"", "not a cursor"},
        {"tools/list", "42", "must be a string"},
        {"tools/list", "\"tools:9999\"", "past the end"},
        {"prompts/list", "\"prompts:1\"", "past the end"},
        {"resources/templates/list", "\"tools:3\"", "not a cursor of this templates list"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char *q = xasprintf("{\"jsonrpc\":\"2.0\",\"id\":%d,\"method\":\"%s\",\"params\":"
                            "{\"cursor\":%s}}", 100 + (int)i, bad[i].method, bad[i].cursor);
        put(&f, q);
        free(q);
        const char *msg;
        assert_int_equal(error_code(answer(&f, 100 + (int)i), &msg), -32602);
        if (!strstr(msg, bad[i].says))
            fail_msg("cursor %s: '%s' does not say '%s'", bad[i].cursor, msg, bad[i].says);
    }
    cJSON_Delete(whole);
    cJSON_Delete(paged);
    fix_close(&f);
}

/* serve.page_size and serve.relay_timeout: defaults, and errors that
 * name the key and where. */
static void test_config_keys(void **state)
{
    (void)state;
    struct config *c = NULL;
    char *err = NULL;
    const char *ok = "serve: {}\n";
    assert_int_equal(config_load_string("t.yaml", ok, strlen(ok), &c, &err), 0);
    assert_int_equal(c->serve.page_size, 200);
    assert_int_equal(c->serve.relay_timeout_ms, 600000);
    config_free(c);
    const char *set = "serve: {page_size: 7, relay_timeout: 90s}\n";
    assert_int_equal(config_load_string("t.yaml", set, strlen(set), &c, &err), 0);
    assert_int_equal(c->serve.page_size, 7);
    assert_int_equal(c->serve.relay_timeout_ms, 90000);
    config_free(c);
    static const struct {
        const char *yaml, *says;
    } bad[] = {
        {"serve: {page_size: 0}\n", "t.yaml:1:20"},
        {"serve: {page_size: many}\n", "page_size"},
        {"serve: {relay_timeout: soon}\n", "relay_timeout"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        c = NULL;
        err = NULL;
        assert_int_equal(config_load_string("t.yaml", bad[i].yaml, strlen(bad[i].yaml), &c, &err),
                         -1);
        if (!err || !strstr(err, bad[i].says))
            fail_msg("'%s': '%s' does not say '%s'", bad[i].yaml, err ? err : "", bad[i].says);
        free(err);
        config_free(c);
    }
}

/* With only the built-ins nothing supports subscriptions: serve does not
 * advertise them, and says why a subscription cannot be made. */
static void test_subscribe_unsupported(void **state)
{
    (void)state;
    struct fix f;
    fix_open(&f, NULL);
    init(&f, 1, "2025-11-25");
    const cJSON *caps = cJSON_GetObjectItem(cJSON_GetObjectItem(answer(&f, 1), "result"),
                                            "capabilities");
    const cJSON *res = cJSON_GetObjectItem(caps, "resources");
    assert_non_null(res);
    assert_null(cJSON_GetObjectItem(res, "subscribe"));
    put(&f, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"resources/subscribe\",\"params\":"
            "{\"uri\":\"file:///nowhere\"}}");
    assert_int_equal(error_code(answer(&f, 2), NULL), -32002);
    put(&f, "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"resources/subscribe\",\"params\":{}}");
    assert_int_equal(error_code(answer(&f, 3), NULL), -32602);
    /* unsubscribing from what is not held is fine */
    put(&f, "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"resources/unsubscribe\",\"params\":"
            "{\"uri\":\"file:///nowhere\"}}");
    assert_non_null(cJSON_GetObjectItem(answer(&f, 4), "result"));
    fix_close(&f);
}

/* The newest job's id. */
static int64_t newest_job(struct fix *f)
{
    struct job *jobs = NULL;
    size_t n = 0;
    assert_int_equal(engine_jobs(f->e, 1, &jobs, &n), 0);
    assert_int_equal(n, 1);
    int64_t id = jobs[0].id;
    jobq_jobs_free(jobs, n);
    return id;
}

/* The last message to the client with this method, or NULL. */
static const cJSON *last_method(struct fix *f, const char *method)
{
    const cJSON *m, *found = NULL;
    cJSON_ArrayForEach(m, f->msgs) {
        const cJSON *x = cJSON_GetObjectItem(m, "method");
        if (cJSON_IsString(x) && strcmp(x->valuestring, method) == 0)
            found = m;
    }
    return found;
}

static void init_caps(struct fix *f, struct serve_session *ss, int id, const char *version,
                      const char *caps)
{
    char *m = xasprintf("{\"jsonrpc\":\"2.0\",\"id\":%d,\"method\":\"initialize\",\"params\":"
                        "{\"protocolVersion\":\"%s\",\"capabilities\":%s,\"clientInfo\":"
                        "{\"name\":\"t\",\"version\":\"1\"}}}", id, version, caps);
    serve_session_receive(ss, m, strlen(m));
    free(m);
    answer(f, id);
}

/* A call pending as a job (fs__grep; it runs when scheduling is on); its job. */
static int64_t pending_call(struct fix *f, struct serve_session *ss, const char *id)
{
    char *m = xasprintf("{\"jsonrpc\":\"2.0\",\"id\":%s,\"method\":\"tools/call\",\"params\":"
                        "{\"name\":\"fs__grep\",\"arguments\":{\"pattern\":\"x\",\"path\":\".\"}}}",
                        id);
    serve_session_receive(ss, m, strlen(m));
    free(m);
    return newest_job(f);
}

static int claim(struct fix *f, const char *method, const int64_t *jobs, size_t njobs,
                 int models)
{
    cJSON *id = cJSON_CreateNumber(77);
    cJSON *params = cJSON_Parse("{\"messages\":[],\"maxTokens\":5}");
    struct engine_server_request q = {4242, "fs", method, params, id, jobs, njobs, NULL, 0,
                                      models};
    int taken = serve_relay_claim(f->s, &q);
    cJSON_Delete(id);
    cJSON_Delete(params);
    return taken;
}

static void test_relay_claim(void **state)
{
    (void)state;
    struct fix f;
    fix_open(&f, "serve: {relay_timeout: 300ms}\n");
    engine_set_scheduling(f.e, 0);       /* the calls stay pending until we let them run */
    init_caps(&f, f.ss, 1, "2025-11-25", "{\"sampling\":{},\"elicitation\":{}}");
    int64_t unknown = 999999;
    /* no call of a session in flight: left to the engine */
    assert_false(claim(&f, "sampling/createMessage", &unknown, 1, 0));
    assert_false(claim(&f, "sampling/createMessage", NULL, 0, 0));
    int64_t job = pending_call(&f, f.ss, "\"a\"");
    /* a model task might be the caller; another method is not relayed */
    assert_false(claim(&f, "sampling/createMessage", &job, 1, 1));
    assert_false(claim(&f, "roots/list", &job, 1, 0));
    int64_t both[2] = {job, unknown};
    assert_false(claim(&f, "sampling/createMessage", both, 2, 0));
    /* the one call in flight is this session's: relayed on its stream */
    assert_true(claim(&f, "sampling/createMessage", &job, 1, 0));
    const cJSON *rq = last_method(&f, "sampling/createMessage");
    assert_non_null(rq);
    assert_string_equal(f.related, "\"a\"");
    assert_int_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(rq, "params"), "maxTokens")->valueint,
                     5);
    /* the client's answer is taken once */
    char *resp = xasprintf("{\"jsonrpc\":\"2.0\",\"id\":%d,\"result\":{\"role\":\"assistant\","
                           "\"content\":{\"type\":\"text\",\"text\":\"hi\"},\"model\":\"m\"}}",
                           cJSON_GetObjectItem(rq, "id")->valueint);
    int n = cJSON_GetArraySize(f.msgs);
    put(&f, resp);
    assert_int_equal(cJSON_GetArraySize(f.msgs), n);
    cJSON *rm = cJSON_Parse(resp);
    assert_false(serve_relay_response(f.ss, rm));
    cJSON_Delete(rm);
    free(resp);
    /* the server cancels it (its id was 77): the client is told */
    assert_true(claim(&f, "sampling/createMessage", &job, 1, 0));
    int sid = cJSON_GetObjectItem(last_method(&f, "sampling/createMessage"), "id")->valueint;
    cJSON *why = cJSON_Parse("{\"requestId\":77,\"reason\":\"the server gave up\"}");
    serve_relay_server_cancelled(f.s, "git", why);       /* another server's: not this one */
    assert_null(last_method(&f, "notifications/cancelled"));
    serve_relay_server_cancelled(f.s, "fs", why);
    cJSON_Delete(why);
    const cJSON *sc = cJSON_GetObjectItem(last_method(&f, "notifications/cancelled"), "params");
    assert_int_equal(cJSON_GetObjectItem(sc, "requestId")->valueint, sid);
    assert_string_equal(cJSON_GetObjectItem(sc, "reason")->valuestring, "the server gave up");
    /* not answered: after serve.relay_timeout the client is told it is over */
    assert_true(claim(&f, "elicitation/create", &job, 1, 0));
    int rid = cJSON_GetObjectItem(last_method(&f, "elicitation/create"), "id")->valueint;
    int64_t end = util_now_ms() + 5000;
    const cJSON *c = NULL, *cp = NULL;
    while (util_now_ms() < end) {
        loop_run_once(engine_loop(f.e), 50);
        c = last_method(&f, "notifications/cancelled");
        cp = cJSON_GetObjectItem(c, "params");
        if (cJSON_GetObjectItem(cp, "requestId")->valueint == rid)
            break;
    }
    assert_int_equal(cJSON_GetObjectItem(cp, "requestId")->valueint, rid);
    assert_non_null(strstr(cJSON_GetObjectItem(cp, "reason")->valuestring, "did not answer"));
    /* elicitation came with 2025-06-18 */
    struct serve_session *old = serve_session_new(f.s, capture, &f);
    init_caps(&f, old, 3, "2025-03-26", "{\"elicitation\":{}}");
    int64_t job3 = pending_call(&f, old, "\"c\"");
    assert_false(claim(&f, "elicitation/create", &job3, 1, 0));
    serve_session_free(old);
    /* two sessions with calls in flight on the server: whose is it? */
    struct serve_session *other = serve_session_new(f.s, capture, &f);
    init_caps(&f, other, 2, "2025-11-25", "{\"sampling\":{}}");
    int64_t job2 = pending_call(&f, other, "\"b\"");
    int64_t two[2] = {job, job2};
    assert_false(claim(&f, "sampling/createMessage", two, 2, 0));
    /* it declared sampling only */
    assert_false(claim(&f, "elicitation/create", &job2, 1, 0));
    assert_true(claim(&f, "sampling/createMessage", &job2, 1, 0));
    assert_string_equal(f.related, "\"b\"");
    rid = cJSON_GetObjectItem(last_method(&f, "sampling/createMessage"), "id")->valueint;
    /* the call ends (it runs now): its relay is cancelled at the client */
    engine_set_scheduling(f.e, 1);
    end = util_now_ms() + 10000;
    int over = 0;
    while (!over && util_now_ms() < end) {
        loop_run_once(engine_loop(f.e), 50);
        c = last_method(&f, "notifications/cancelled");
        cp = cJSON_GetObjectItem(c, "params");
        over = cJSON_GetObjectItem(cp, "requestId")->valueint == rid;
    }
    assert_true(over);
    assert_non_null(strstr(cJSON_GetObjectItem(cp, "reason")->valuestring, "is over"));
    assert_int_equal(serve_session_pending(other), 0);
    serve_session_free(other);
    fix_close(&f);
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
        cmocka_unit_test(test_pages),
        cmocka_unit_test(test_config_keys),
        cmocka_unit_test(test_subscribe_unsupported),
        cmocka_unit_test(test_relay_claim),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
