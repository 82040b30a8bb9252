/* test_jsonrpc.c — framing (lines, limits, chunk boundaries) and the peer
 * (ids, matching, errors, timeouts, requests and notifications). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonrpc.h"
#include "loop.h"
#include "util.h"

/* === framing === */

struct lines_seen {
    char *got[16];
    size_t n;
    size_t oversize[4];
    size_t noversize;
};

static int collect(void *payload, const char *line, size_t len)
{
    struct lines_seen *s = payload;
    if (!line) {
        s->oversize[s->noversize++] = len;
        return 0;
    }
    assert_int_equal(strlen(line), len);
    s->got[s->n++] = xstrdup(line);
    return 0;
}

static void seen_free(struct lines_seen *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->got[i]);
}

static void test_lines_split_any_boundary(void **state)
{
    const char *input = "{\"a\":1}\n{\"b\":2}\r\n\n   \n{\"c\":3}\n";
    size_t n = strlen(input);
    /* every chunk size, including one byte at a time */
    for (size_t chunk = 1; chunk <= n; chunk++) {
        struct jsonrpc_lines f;
        struct lines_seen s = {0};
        jsonrpc_lines_init(&f, 1024);
        for (size_t off = 0; off < n; off += chunk) {
            size_t k = n - off < chunk ? n - off : chunk;
            jsonrpc_lines_feed(&f, input + off, k, collect, &s);
        }
        assert_int_equal(s.n, 3);
        assert_string_equal(s.got[0], "{\"a\":1}");
        assert_string_equal(s.got[1], "{\"b\":2}");   /* \r stripped */
        assert_string_equal(s.got[2], "{\"c\":3}");
        seen_free(&s);
        jsonrpc_lines_fini(&f);
    }
}

static void test_lines_partial_kept(void **state)
{
    struct jsonrpc_lines f;
    struct lines_seen s = {0};
    jsonrpc_lines_init(&f, 1024);
    jsonrpc_lines_feed(&f, "{\"x\":", 5, collect, &s);
    assert_int_equal(s.n, 0);
    jsonrpc_lines_feed(&f, "1}\n{\"y", 6, collect, &s);
    assert_int_equal(s.n, 1);
    assert_string_equal(s.got[0], "{\"x\":1}");
    seen_free(&s);
    jsonrpc_lines_fini(&f);
}

static void test_lines_oversize_dropped(void **state)
{
    struct jsonrpc_lines f;
    struct lines_seen s = {0};
    jsonrpc_lines_init(&f, 16);
    char big[100];
    memset(big, 'x', sizeof big);
    jsonrpc_lines_feed(&f, "{\"ok\":1}\n", 9, collect, &s);
    jsonrpc_lines_feed(&f, big, 40, collect, &s);    /* crosses the limit */
    jsonrpc_lines_feed(&f, big, 60, collect, &s);    /* still the same line */
    jsonrpc_lines_feed(&f, "tail\n{\"ok\":2}\n", 14, collect, &s);
    assert_int_equal(s.noversize, 1);                /* reported once */
    assert_true(s.oversize[0] > 16);
    assert_int_equal(s.n, 2);
    assert_string_equal(s.got[1], "{\"ok\":2}");     /* the stream recovers */
    assert_true(f.in.len == 0);                      /* memory not kept */
    seen_free(&s);
    jsonrpc_lines_fini(&f);
}

/* The stream ends: a last line without its newline is still a line; an
 * over-long one is not, and nothing is left over either way. */
static void test_lines_finish(void **state)
{
    struct jsonrpc_lines f;
    struct lines_seen s = {0};
    jsonrpc_lines_init(&f, 16);
    jsonrpc_lines_feed(&f, "{\"a\":1}\n{\"b\":2}", 15, collect, &s);
    assert_int_equal(s.n, 1);
    jsonrpc_lines_finish(&f, collect, &s);
    assert_int_equal(s.n, 2);
    assert_string_equal(s.got[1], "{\"b\":2}");
    jsonrpc_lines_finish(&f, collect, &s);          /* nothing held: nothing more */
    jsonrpc_lines_feed(&f, "  \t", 3, collect, &s);
    jsonrpc_lines_finish(&f, collect, &s);          /* blank: skipped */
    assert_int_equal(s.n, 2);
    char big[40];
    memset(big, 'x', sizeof big);
    jsonrpc_lines_feed(&f, big, sizeof big, collect, &s);
    jsonrpc_lines_finish(&f, collect, &s);
    assert_int_equal(s.n, 2);
    assert_int_equal(s.noversize, 1);
    assert_true(f.in.len == 0 && !f.discarding);
    seen_free(&s);
    jsonrpc_lines_fini(&f);
}

/* === peer: a pair of peers wired back to back through a queue === */

struct wire {
    struct jsonrpc_peer *self;
    struct wire *other;
    char *sent[32];
    size_t nsent;
    int fail_send;
    char last_method[64];
    int notifications;
    char garbage[256];
};

static int w_send(void *ctx, const char *json, size_t len, const struct jsonrpc_sent *what)
{
    struct wire *w = ctx;
    /* what says what the message is: its method and request id */
    cJSON *m = cJSON_ParseWithLength(json, len);
    assert_non_null(m);
    const cJSON *method = cJSON_GetObjectItem(m, "method"), *id = cJSON_GetObjectItem(m, "id");
    assert_non_null(what);
    if (method) {
        assert_non_null(what->method);
        assert_string_equal(what->method, method->valuestring);
        assert_true(what->id == (id ? (int64_t)id->valuedouble : -1));
    } else {
        assert_null(what->method);
        assert_true(what->id == -1);
    }
    cJSON_Delete(m);
    if (w->fail_send)
        return -1;
    w->sent[w->nsent++] = xstrndup(json, len);
    return 0;
}

static void w_request(void *ctx, const char *method, const cJSON *params, const cJSON *id)
{
    struct wire *w = ctx;
    snprintf(w->last_method, sizeof w->last_method, "%s", method);
    if (strcmp(method, "add") == 0) {
        const cJSON *a = cJSON_GetObjectItem(params, "a"), *b = cJSON_GetObjectItem(params, "b");
        cJSON *r = cJSON_CreateObject();
        cJSON_AddNumberToObject(r, "sum", a->valuedouble + b->valuedouble);
        jsonrpc_respond(w->self, id, r);
    } else if (strcmp(method, "hang") == 0) {
        /* never answer */
    } else {
        jsonrpc_respond_error(w->self, id, JSONRPC_METHOD_NOT_FOUND, "no such method");
    }
}

static void w_notification(void *ctx, const char *method, const cJSON *params)
{
    struct wire *w = ctx;
    w->notifications++;
    snprintf(w->last_method, sizeof w->last_method, "%s", method);
}

static void w_garbage(void *ctx, const char *why)
{
    struct wire *w = ctx;
    snprintf(w->garbage, sizeof w->garbage, "%s", why);
}

static const struct jsonrpc_peer_ops wops = {w_send, w_request, w_notification, w_garbage};

/* Deliver everything a side sent to the other side. */
static void pump(struct wire *a, struct wire *b)
{
    for (int round = 0; round < 8; round++) {
        struct wire *sides[2] = {a, b};
        for (int s = 0; s < 2; s++) {
            struct wire *w = sides[s];
            size_t n = w->nsent;
            w->nsent = 0;
            for (size_t i = 0; i < n; i++) {
                jsonrpc_receive(w->other->self, w->sent[i], strlen(w->sent[i]));
                free(w->sent[i]);
            }
        }
    }
}

struct answer {
    int called;
    int code;
    double sum;
    char msg[128];
};

static void on_answer(void *payload, const cJSON *result, const struct jsonrpc_error *err)
{
    struct answer *a = payload;
    a->called++;
    if (err) {
        a->code = err->code;
        snprintf(a->msg, sizeof a->msg, "%s", err->message);
    } else {
        a->sum = cJSON_GetObjectItem(result, "sum")->valuedouble;
    }
}

struct pair {
    struct loop *l;
    struct wire a, b;
};

static int pair_setup(void **state)
{
    struct pair *p = xcalloc(1, sizeof *p);
    p->l = loop_new();
    p->a.self = jsonrpc_peer_new(p->l, &wops, &p->a);
    p->b.self = jsonrpc_peer_new(p->l, &wops, &p->b);
    p->a.other = &p->b;
    p->b.other = &p->a;
    *state = p;
    return 0;
}

static int pair_teardown(void **state)
{
    struct pair *p = *state;
    jsonrpc_peer_free(p->a.self);
    jsonrpc_peer_free(p->b.self);
    for (size_t i = 0; i < p->a.nsent; i++)
        free(p->a.sent[i]);
    for (size_t i = 0; i < p->b.nsent; i++)
        free(p->b.sent[i]);
    loop_free(p->l);
    free(p);
    return 0;
}

static void test_peer_call_and_answer(void **state)
{
    struct pair *p = *state;
    struct answer x = {0}, y = {0};
    cJSON *params = cJSON_Parse("{\"a\":2,\"b\":3}");
    int64_t id1 = jsonrpc_call(p->a.self, "add", params, 0, on_answer, &x);
    int64_t id2 = jsonrpc_call(p->a.self, "add", cJSON_Parse("{\"a\":10,\"b\":-4}"), 0,
                               on_answer, &y);
    assert_true(id1 > 0 && id2 > id1);
    assert_int_equal(jsonrpc_pending(p->a.self), 2);
    /* the wire format is JSON-RPC 2.0 */
    cJSON *m = cJSON_Parse(p->a.sent[0]);
    assert_string_equal(cJSON_GetObjectItem(m, "jsonrpc")->valuestring, "2.0");
    assert_string_equal(cJSON_GetObjectItem(m, "method")->valuestring, "add");
    assert_int_equal(cJSON_GetObjectItem(m, "id")->valueint, id1);
    cJSON_Delete(m);
    pump(&p->a, &p->b);
    assert_int_equal(x.called, 1);
    assert_int_equal(y.called, 1);
    assert_true(x.sum == 5 && y.sum == 6);
    assert_int_equal(jsonrpc_pending(p->a.self), 0);
}

static void test_peer_error_and_unknown_id(void **state)
{
    struct pair *p = *state;
    struct answer x = {0};
    jsonrpc_call(p->a.self, "nope", NULL, 0, on_answer, &x);
    pump(&p->a, &p->b);
    assert_int_equal(x.called, 1);
    assert_int_equal(x.code, JSONRPC_METHOD_NOT_FOUND);
    assert_string_equal(x.msg, "no such method");
    /* an answer nobody asked for is garbage, not a crash */
    const char *stray = "{\"jsonrpc\":\"2.0\",\"id\":999,\"result\":{}}";
    jsonrpc_receive(p->a.self, stray, strlen(stray));
    assert_non_null(strstr(p->a.garbage, "unknown id 999"));
    jsonrpc_receive(p->a.self, "not json at all", 15);
    assert_non_null(strstr(p->a.garbage, "not JSON"));
    /* ids that are no whole number we sent answer nothing: 1.5 is not
     * request 1, and 5e23 fits no integer (converting it was undefined) */
    struct answer w = {0};
    int64_t iw = jsonrpc_call(p->a.self, "add", cJSON_Parse("{\"a\":1,\"b\":2}"), 0, on_answer, &w);
    char m[128];
    snprintf(m, sizeof m, "{\"jsonrpc\":\"2.0\",\"id\":%lld.5,\"result\":{}}", (long long)iw);
    jsonrpc_receive(p->a.self, m, strlen(m));
    assert_int_equal(w.called, 0);
    assert_non_null(strstr(p->a.garbage, "unknown id"));
    const char *huge = "{\"jsonrpc\":\"2.0\",\"id\":5e23,\"result\":{}}";
    jsonrpc_receive(p->a.self, huge, strlen(huge));
    assert_int_equal(w.called, 0);
    assert_int_equal(jsonrpc_pending(p->a.self), 1);
    pump(&p->a, &p->b);
    assert_int_equal(w.called, 1);
    assert_true(w.sum == 3);
}

/* How a received message's members are read: in any order, the first of
 * a repeated key wins (as cJSON's lookup does), an error beats a result,
 * a response with neither fails its call, a null id is a notification,
 * and trailing text makes the whole line garbage. */
static void test_peer_message_shapes(void **state)
{
    struct pair *p = *state;
    struct answer x = {0}, y = {0}, z = {0};
    int64_t ix = jsonrpc_call(p->a.self, "add", NULL, 0, on_answer, &x);
    int64_t iy = jsonrpc_call(p->a.self, "add", NULL, 0, on_answer, &y);
    int64_t iz = jsonrpc_call(p->a.self, "add", NULL, 0, on_answer, &z);
    char m[256];
    /* id last, key order shuffled, "result" twice: the first one counts */
    snprintf(m, sizeof m, "{\"result\":{\"sum\":7},\"jsonrpc\":\"2.0\",\"result\":"
             "{\"sum\":8},\"id\":%lld}", (long long)ix);
    jsonrpc_receive(p->a.self, m, strlen(m));
    assert_int_equal(x.called, 1);
    assert_true(x.sum == 7);
    /* an error and a result: the error */
    snprintf(m, sizeof m, "{\"id\":%lld,\"result\":{\"sum\":1},\"error\":"
             "{\"code\":-32001,\"message\":\"boom\"}}", (long long)iy);
    jsonrpc_receive(p->a.self, m, strlen(m));
    assert_int_equal(y.code, -32001);
    assert_string_equal(y.msg, "boom");
    /* neither */
    snprintf(m, sizeof m, "{\"jsonrpc\":\"2.0\",\"id\":%lld}", (long long)iz);
    jsonrpc_receive(p->a.self, m, strlen(m));
    assert_int_equal(z.code, JSONRPC_INVALID_REQUEST);
    assert_int_equal(jsonrpc_pending(p->a.self), 0);
    /* a method with a null id: a notification, params found after it */
    int before = p->b.notifications;
    const char *n = "{\"id\":null,\"method\":\"tick\",\"params\":{}}";
    jsonrpc_receive(p->b.self, n, strlen(n));
    assert_int_equal(p->b.notifications, before + 1);
    assert_string_equal(p->b.last_method, "tick");
    /* one message and then more text on the same line: refused whole */
    const char *two = "{\"jsonrpc\":\"2.0\",\"method\":\"tock\"} {\"x\":1}";
    jsonrpc_receive(p->b.self, two, strlen(two));
    assert_int_equal(p->b.notifications, before + 1);
    assert_non_null(strstr(p->b.garbage, "not JSON"));
}

static void test_peer_notification_and_batch(void **state)
{
    struct pair *p = *state;
    jsonrpc_notify(p->a.self, "notifications/initialized", NULL);
    pump(&p->a, &p->b);
    assert_int_equal(p->b.notifications, 1);
    assert_string_equal(p->b.last_method, "notifications/initialized");
    const char *batch = "[{\"jsonrpc\":\"2.0\",\"method\":\"n1\"},"
                        "{\"jsonrpc\":\"2.0\",\"method\":\"n2\"}]";
    jsonrpc_receive(p->b.self, batch, strlen(batch));
    assert_int_equal(p->b.notifications, 3);
}

static void test_peer_timeout(void **state)
{
    struct pair *p = *state;
    struct answer x = {0};
    jsonrpc_call(p->a.self, "hang", NULL, 50, on_answer, &x);
    pump(&p->a, &p->b);
    int64_t end = util_now_ms() + 2000;
    while (!x.called && util_now_ms() < end)
        loop_run_once(p->l, 100);
    assert_int_equal(x.called, 1);
    assert_int_equal(x.code, JSONRPC_ERR_TIMEOUT);
    assert_int_equal(jsonrpc_pending(p->a.self), 0);
}

static void test_peer_fail_all_and_send_failure(void **state)
{
    struct pair *p = *state;
    struct answer x = {0}, y = {0};
    jsonrpc_call(p->a.self, "hang", NULL, 0, on_answer, &x);
    jsonrpc_call(p->a.self, "hang", NULL, 0, on_answer, &y);
    jsonrpc_fail_all(p->a.self, JSONRPC_ERR_CLOSED, "server died");
    assert_int_equal(x.called + y.called, 2);
    assert_int_equal(x.code, JSONRPC_ERR_CLOSED);
    assert_string_equal(y.msg, "server died");
    p->a.fail_send = 1;
    struct answer z = {0};
    assert_true(jsonrpc_call(p->a.self, "add", NULL, 0, on_answer, &z) < 0);
    assert_int_equal(z.called, 0);
    assert_int_equal(jsonrpc_pending(p->a.self), 0);
}

static void test_peer_abandon(void **state)
{
    struct pair *p = *state;
    struct answer x = {0};
    int64_t id = jsonrpc_call(p->a.self, "hang", NULL, 1000, on_answer, &x);
    jsonrpc_call_abandon(p->a.self, id, "user cancelled");
    assert_int_equal(x.called, 1);
    assert_int_equal(x.code, JSONRPC_ERR_CANCELLED);
    pump(&p->a, &p->b);
    assert_int_equal(x.called, 1);   /* no second callback */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lines_split_any_boundary),
        cmocka_unit_test(test_lines_partial_kept),
        cmocka_unit_test(test_lines_oversize_dropped),
        cmocka_unit_test(test_lines_finish),
        cmocka_unit_test_setup_teardown(test_peer_call_and_answer, pair_setup, pair_teardown),
        cmocka_unit_test_setup_teardown(test_peer_error_and_unknown_id, pair_setup, pair_teardown),
        cmocka_unit_test_setup_teardown(test_peer_notification_and_batch, pair_setup,
                                        pair_teardown),
        cmocka_unit_test_setup_teardown(test_peer_message_shapes, pair_setup, pair_teardown),
        cmocka_unit_test_setup_teardown(test_peer_timeout, pair_setup, pair_teardown),
        cmocka_unit_test_setup_teardown(test_peer_fail_all_and_send_failure, pair_setup,
                                        pair_teardown),
        cmocka_unit_test_setup_teardown(test_peer_abandon, pair_setup, pair_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
