/* test_serve_http.c — the Streamable HTTP transport over a real engine with
 * only the built-in servers. The engine's loop runs on a thread of its own
 * (the only thread touching the engine while it runs); the test talks
 * plain HTTP/1.1 over sockets: Origin/Host/token checks, the session rules
 * (400/404/DELETE), JSON answers given at once, answers that come later as
 * SSE (priming event, event ids) or as JSON after a suspended wait, a
 * batch, 202 for notifications, list_changed on the GET stream and
 * Last-Event-ID after its connection was lost, and freeing the server with
 * a GET stream open. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "engine.h"
#include "engine_fixture.h"
#include "loop.h"
#include "serve_http.h"
#include "util.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

struct fix {
    char dir[64];
    struct engine *e;
    struct serve_http *h;
    int port;
    pthread_t thr;
    atomic_int stop;
};

static void *loop_thread(void *arg)
{
    struct fix *f = arg;
    while (!atomic_load(&f->stop))
        loop_run_once(engine_loop(f->e), 50);
    return NULL;
}

static void fix_open(struct fix *f, const char *extra)
{
    memset(f, 0, sizeof *f);
    f->e = fixture_engine(f->dir, sizeof f->dir, "test_serve_http", extra, 1);
    char *err = NULL;
    if (serve_http_open(f->e, "127.0.0.1:0", &f->h, &err) < 0)
        fail_msg("serve_http_open: %s", err);
    f->port = serve_http_port(f->h);
    assert_true(f->port > 0);
    char want[64];
    snprintf(want, sizeof want, "http://127.0.0.1:%d/mcp", f->port);
    assert_string_equal(serve_http_url(f->h), want);
    assert_int_equal(pthread_create(&f->thr, NULL, loop_thread, f), 0);
}

static void fix_stop(struct fix *f)
{
    atomic_store(&f->stop, 1);
    loop_wakeup(engine_loop(f->e));
    pthread_join(f->thr, NULL);
}

static void fix_close(struct fix *f)
{
    serve_http_free(f->h);
    fixture_engine_free(f->e, f->dir);
}

/* === A small HTTP/1.1 client === */

static int dial(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct timeval tv = {10, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    return fd;
}

/* Writes one request; Host is 127.0.0.1:port unless hdrs has one. */
static void send_req(int fd, int port, const char *method, const char *hdrs, const char *body)
{
    hdrs = hdrs ? hdrs : "";
    char host[64] = "";
    if (!strstr(hdrs, "Host:"))
        snprintf(host, sizeof host, "Host: 127.0.0.1:%d\r\n", port);
    char *req = xasprintf("%s /mcp HTTP/1.1\r\n%s%sContent-Type: application/json\r\n"
                          "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
                          method, host, hdrs, body ? strlen(body) : 0, body ? body : "");
    size_t n = strlen(req);
    assert_int_equal(write(fd, req, n), (ssize_t)n);
    free(req);
}

struct resp {
    int status;
    char *head;                  /* status line and headers */
    char *body;                  /* de-chunked */
};

static void resp_fini(struct resp *r)
{
    free(r->head);
    free(r->body);
}

static void parse_resp(struct buf *raw, struct resp *r)
{
    buf_putc(raw, 0);
    char *sep = strstr(raw->data, "\r\n\r\n");
    assert_non_null(sep);
    r->head = xstrndup(raw->data, (size_t)(sep - raw->data));
    assert_int_equal(sscanf(r->head, "HTTP/1.1 %d", &r->status), 1);
    const char *p = sep + 4;
    if (!strcasestr(r->head, "Transfer-Encoding: chunked")) {
        r->body = xstrdup(p);
        return;
    }
    struct buf b;
    buf_init(&b);
    for (;;) {
        char *end;
        unsigned long n = strtoul(p, &end, 16);
        if (end == p || n == 0)
            break;
        p = strstr(end, "\r\n") + 2;
        buf_append(&b, p, n);
        p += n + 2;
    }
    buf_putc(&b, 0);
    r->body = buf_detach(&b);
}

/* One request on a new connection; reads the whole answer (until close). */
static void http(struct fix *f, const char *method, const char *hdrs, const char *body,
                 struct resp *r)
{
    int fd = dial(f->port);
    send_req(fd, f->port, method, hdrs, body);
    struct buf raw;
    buf_init(&raw);
    char tmp[4096];
    ssize_t n;
    while ((n = read(fd, tmp, sizeof tmp)) > 0)
        buf_append(&raw, tmp, (size_t)n);
    close(fd);
    parse_resp(&raw, r);
    buf_fini(&raw);
}

/* Reads from fd until needle appears in what was read (or 10 s). */
static void read_until(int fd, struct buf *raw, const char *needle)
{
    char tmp[4096];
    for (;;) {
        buf_putc(raw, 0);
        raw->len--;
        if (strstr(raw->data, needle))
            return;
        ssize_t n = read(fd, tmp, sizeof tmp);
        if (n <= 0)
            fail_msg("connection ended before '%s': %s", needle, raw->data);
        buf_append(raw, tmp, (size_t)n);
    }
}

static char *session_of(const struct resp *r)
{
    const char *p = strcasestr(r->head, "Mcp-Session-Id: ");
    assert_non_null(p);
    p += 16;
    return xstrndup(p, strcspn(p, "\r\n"));
}

static const char INIT[] =
    "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{\"protocolVersion\":"
    "\"2025-11-25\",\"capabilities\":{},\"clientInfo\":{\"name\":\"t\",\"version\":\"1\"}}}";
static const char ACCEPT_BOTH[] = "Accept: application/json, text/event-stream\r\n";

static char *open_session(struct fix *f)
{
    struct resp r;
    http(f, "POST", ACCEPT_BOTH, INIT, &r);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "\"protocolVersion\":\"2025-11-25\""));
    char *sid = session_of(&r);
    assert_int_equal(strlen(sid), 32);
    resp_fini(&r);
    char *h = xasprintf("Mcp-Session-Id: %s\r\n", sid);
    http(f, "POST", h, "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}", &r);
    assert_int_equal(r.status, 202);
    resp_fini(&r);
    free(h);
    return sid;
}

/* === Tests === */

static void test_guards(void **state)
{
    (void)state;
    struct fix f;
    fix_open(&f, "serve:\n  http:\n    token_env: TEST_SERVE_HTTP_TOKEN\n"
                 "    origins: [\"https://app.example:8443\"]\n");
    char ok_host[64];
    snprintf(ok_host, sizeof ok_host, "Host: localhost:%d\r\n", f.port);
    const struct {
        const char *hdrs;
        int status;
    } cases[] = {
        {"Authorization: Bearer s3cret\r\nOrigin: http://evil.example\r\n", 403},
        {"Authorization: Bearer s3cret\r\nOrigin: null\r\n", 403},
        {"Authorization: Bearer s3cret\r\nHost: evil.example\r\n", 403},
        {"Authorization: Bearer s3cret\r\nHost: 127.0.0.1:1\r\n", 403},
        {"Origin: http://127.0.0.1\r\n", 401},
        {"Authorization: Bearer s3cre\r\n", 401},
        {"Authorization: Bearer s3cret!\r\n", 401},
        {"Authorization: Basic s3cret\r\n", 401},
        {"Authorization: Bearer s3cret\r\n", 200},
        {"Authorization: Bearer s3cret\r\nOrigin: http://localhost:5173\r\n", 200},
        {"Authorization: Bearer s3cret\r\nOrigin: http://[::1]:5173\r\n", 200},
        {"Authorization: Bearer s3cret\r\nOrigin: https://app.example:8443\r\n", 200},
        {"Authorization: Bearer s3cret\r\nOrigin: https://app.example\r\n", 403},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        struct resp r;
        char *h = xasprintf("%s%s", ACCEPT_BOTH, cases[i].hdrs);
        if (!strstr(cases[i].hdrs, "Host:") && strstr(cases[i].hdrs, "Origin: http://l"))
            h = (free(h), xasprintf("%s%s%s", ACCEPT_BOTH, ok_host, cases[i].hdrs));
        http(&f, "POST", h, INIT, &r);
        if (r.status != cases[i].status)
            fail_msg("case %zu (%s): got %d, want %d", i, cases[i].hdrs, r.status,
                     cases[i].status);
        if (r.status == 401)
            assert_non_null(strcasestr(r.head, "WWW-Authenticate: Bearer"));
        resp_fini(&r);
        free(h);
    }
    fix_stop(&f);
    fix_close(&f);
}

static void test_session_rules(void **state)
{
    (void)state;
    struct fix f;
    fix_open(&f, NULL);
    char *sid = open_session(&f);
    char *h = xasprintf("%sMcp-Session-Id: %s\r\n", ACCEPT_BOTH, sid);
    char *hv = xasprintf("%sMcp-Session-Id: %s\r\nMCP-Protocol-Version: 2020-01-01\r\n",
                         ACCEPT_BOTH, sid);
    const char *ping = "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"ping\"}";
    const struct {
        const char *method, *hdrs, *body;
        int status;
        const char *in_body;
    } cases[] = {
        {"POST", ACCEPT_BOTH, ping, 400, "Mcp-Session-Id header is required"},
        {"POST", "Mcp-Session-Id: feedface\r\n", ping, 404, "Session not found"},
        {"POST", hv, ping, 400, "MCP-Protocol-Version"},
        {"POST", h, "{not json", 400, "-32700"},
        {"POST", h, ping, 200, "{\"jsonrpc\":\"2.0\",\"id\":7,\"result\":{}}"},
        {"POST", h,
         "[{\"jsonrpc\":\"2.0\",\"id\":8,\"method\":\"ping\"},"
         "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\",\"params\":{}},"
         "{\"jsonrpc\":\"2.0\",\"id\":\"x\",\"method\":\"ping\"}]",
         200, "\"id\":\"x\""},
        {"PUT", h, "", 405, "Method Not Allowed"},
        {"GET", h + strlen(ACCEPT_BOTH), NULL, 406, "text/event-stream"},
        {"DELETE", h, NULL, 200, ""},
        {"POST", h, ping, 404, "Session not found"},
        {"DELETE", h, NULL, 404, "Session not found"},
    };
    /* a batch of 1,000 is answered whole; one more is refused unread */
    for (int n = 1000; n <= 1001; n++) {
        struct buf b;
        buf_init(&b);
        for (int i = 0; i < n; i++)
            buf_printf(&b, "%c{\"jsonrpc\":\"2.0\",\"id\":%d,\"method\":\"ping\"}",
                       i ? ',' : '[', 100 + i);
        buf_putc(&b, ']');
        struct resp r;
        http(&f, "POST", h, b.data, &r);
        if (n == 1000) {
            assert_int_equal(r.status, 200);
            int answers = 0;
            for (const char *p = r.body; (p = strstr(p, "\"result\":{}")); p++)
                answers++;
            assert_int_equal(answers, n);
            assert_non_null(strstr(r.body, "\"id\":1099,"));
        } else {
            assert_int_equal(r.status, 400);
            assert_non_null(strstr(r.body, "-32600"));
            assert_non_null(strstr(r.body, "a batch of 1001 messages (at most 1000)"));
        }
        resp_fini(&r);
        buf_fini(&b);
    }
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        struct resp r;
        http(&f, cases[i].method, cases[i].hdrs, cases[i].body, &r);
        if (r.status != cases[i].status || !strstr(r.body, cases[i].in_body))
            fail_msg("case %zu: got %d '%s'", i, r.status, r.body);
        if (i == 5) {             /* the batch: an array of both answers */
            assert_int_equal(r.body[0], '[');
            assert_non_null(strstr(r.body, "\"id\":8"));
        }
        resp_fini(&r);
    }
    free(h);
    free(hv);
    free(sid);
    fix_stop(&f);
    fix_close(&f);
}

static const char STORE[] =
    "{\"jsonrpc\":\"2.0\",\"id\":%d,\"method\":\"tools/call\",\"params\":{\"name\":"
    "\"memory__memory_store\",\"arguments\":{\"text\":\"%s\"}}}";

static void test_late_answers(void **state)
{
    (void)state;
    struct fix f;
    fix_open(&f, NULL);       /* record_calls: calls are jobs, answered later */
    char *sid = open_session(&f);
    struct resp r;
    /* SSE accepted: a stream with the priming event, then the answer */
    char *h = xasprintf("%sMcp-Session-Id: %s\r\n", ACCEPT_BOTH, sid);
    char *body = xasprintf(STORE, 11, "the heron nests by the weir");
    http(&f, "POST", h, body, &r);
    free(body);
    assert_int_equal(r.status, 200);
    assert_non_null(strcasestr(r.head, "Content-Type: text/event-stream"));
    const char *prime = strstr(r.body, "retry: 1000\ndata: \n\n");
    const char *ans = strstr(r.body, "event: message\ndata: {\"jsonrpc\":\"2.0\",\"id\":11,");
    assert_non_null(prime);
    assert_non_null(ans);
    assert_true(prime < ans);
    assert_true(strncmp(r.body, "id: ", 4) == 0);
    resp_fini(&r);
    free(h);
    /* JSON only: the connection waits, then gets the answer as JSON */
    h = xasprintf("Accept: application/json\r\nMcp-Session-Id: %s\r\n", sid);
    body = xasprintf(STORE, 12, "the otter holt is upstream");
    http(&f, "POST", h, body, &r);
    free(body);
    assert_int_equal(r.status, 200);
    assert_non_null(strcasestr(r.head, "Content-Type: application/json"));
    assert_non_null(strstr(r.body, "{\"jsonrpc\":\"2.0\",\"id\":12,\"result\":"));
    resp_fini(&r);
    free(h);
    free(sid);
    fix_stop(&f);
    fix_close(&f);
}

/* The SSE event id of the event whose data holds needle. */
static char *id_before(const char *text, const char *needle)
{
    const char *at = strstr(text, needle), *id = NULL;
    assert_non_null(at);
    for (const char *p = text; (p = strstr(p, "id: ")) && p < at; p++)
        id = p;
    assert_non_null(id);
    return xstrndup(id + 4, strcspn(id + 4, "\n"));
}

/* Runs fn on the engine while its loop thread is parked. */
static void with_loop_parked(struct fix *f, void (*fn)(struct fix *f))
{
    fix_stop(f);
    fn(f);
    atomic_store(&f->stop, 0);
    assert_int_equal(pthread_create(&f->thr, NULL, loop_thread, f), 0);
}

static void disable_git(struct fix *f)
{
    char *err = NULL;
    assert_int_equal(engine_server_enable(f->e, "git", 0, &err), 0);
}

static void enable_git(struct fix *f)
{
    char *err = NULL;
    assert_int_equal(engine_server_enable(f->e, "git", 1, &err), 0);
}

/* General messages (list_changed) come on the GET stream; a client that
 * lost it comes back with Last-Event-ID and gets what it missed, only that,
 * and the old connection is ended. */
static void test_get_stream_resume(void **state)
{
    (void)state;
    struct fix f;
    fix_open(&f, NULL);
    char *sid = open_session(&f);
    char *g = xasprintf("Accept: text/event-stream\r\nMcp-Session-Id: %s\r\n", sid);
    int a = dial(f.port);
    send_req(a, f.port, "GET", g, NULL);
    struct buf raw;
    buf_init(&raw);
    read_until(a, &raw, "\r\n\r\n");
    assert_non_null(strstr(raw.data, "HTTP/1.1 200"));
    with_loop_parked(&f, disable_git);
    read_until(a, &raw, "notifications/tools/list_changed");
    const char *prime = strstr(strstr(raw.data, "\r\n\r\n"), "id: ");
    assert_non_null(prime);                          /* the priming event comes first */
    assert_non_null(strstr(prime, "retry: 1000\ndata: \n\n"));
    char *last = id_before(raw.data, "notifications/tools/list_changed");
    buf_fini(&raw);
    /* A is not read any more (as if the network had dropped it) */
    with_loop_parked(&f, enable_git);
    char *gr = xasprintf("%sLast-Event-ID: %s\r\n", g, last);
    int b = dial(f.port);
    send_req(b, f.port, "GET", gr, NULL);
    buf_init(&raw);
    read_until(b, &raw, "notifications/tools/list_changed");
    const char *ev = strstr(raw.data, "\r\n\r\n");
    assert_null(strstr(ev, last));                   /* the event it had is not repeated */
    assert_null(strstr(ev, "retry:"));               /* nor the priming one */
    unsigned long long sn, seq;
    char *got = id_before(raw.data, "notifications/tools/list_changed");
    assert_int_equal(sscanf(got, "%llu-%llu", &sn, &seq), 2);
    free(got);
    char *want = xasprintf("%llu-%llu", sn, seq - 1);
    assert_string_equal(want, last);                 /* the next one on the same stream */
    free(want);
    /* the old connection was ended */
    char tmp[4096];
    ssize_t n;
    while ((n = read(a, tmp, sizeof tmp)) > 0)
        ;
    assert_int_equal(n, 0);
    close(a);
    close(b);
    buf_fini(&raw);
    free(gr);
    free(last);
    free(g);
    free(sid);
    fix_stop(&f);
    fix_close(&f);
}

/* Freeing the server with a GET stream open ends that stream. */
static void test_free_with_get_open(void **state)
{
    (void)state;
    struct fix f;
    fix_open(&f, NULL);
    char *sid = open_session(&f);
    char *g = xasprintf("Accept: text/event-stream\r\nMcp-Session-Id: %s\r\n", sid);
    int fd = dial(f.port);
    send_req(fd, f.port, "GET", g, NULL);
    struct buf raw;
    buf_init(&raw);
    read_until(fd, &raw, "\r\n\r\n");
    assert_non_null(strstr(raw.data, "HTTP/1.1 200"));
    fix_stop(&f);
    serve_http_free(f.h);
    f.h = NULL;
    char tmp[256];
    ssize_t n;
    while ((n = read(fd, tmp, sizeof tmp)) > 0)
        ;
    assert_int_equal(n, 0);       /* closed, not timed out */
    close(fd);
    buf_fini(&raw);
    free(g);
    free(sid);
    fix_close(&f);
}

static void test_open_errors(void **state)
{
    (void)state;
    struct fix f;
    fix_open(&f, NULL);
    fix_stop(&f);
    char busy[64];
    snprintf(busy, sizeof busy, "127.0.0.1:%d", f.port);
    const struct {
        const char *listen, *in_err;
    } cases[] = {
        {"127.0.0.1", "expected ADDR:PORT"},
        {"127.0.0.1:99999", "expected ADDR:PORT"},
        {"example.org:80", "not an IPv4 address"},
        {"[zz]:80", "not an IPv4 address"},
        {busy, "cannot listen"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        struct serve_http *h = NULL;
        char *err = NULL;
        assert_int_equal(serve_http_open(f.e, cases[i].listen, &h, &err), -1);
        assert_null(h);
        if (!strstr(err, cases[i].in_err))
            fail_msg("%s: %s", cases[i].listen, err);
        free(err);
    }
    fix_close(&f);
}

int main(void)
{
    setenv("TEST_SERVE_HTTP_TOKEN", "s3cret", 1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_guards),
        cmocka_unit_test(test_session_rules),
        cmocka_unit_test(test_late_answers),
        cmocka_unit_test(test_get_stream_resume),
        cmocka_unit_test(test_free_with_get_open),
        cmocka_unit_test(test_open_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
