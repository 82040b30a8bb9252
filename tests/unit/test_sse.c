/* test_sse.c — the event-stream parser against the WHATWG rules, fed at
 * every possible chunk boundary. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sse.h"

struct seen {
    char out[4096];
    int n;
};

static int collect(void *payload, const struct sse_event *ev)
{
    struct seen *s = payload;
    size_t used = strlen(s->out);
    snprintf(s->out + used, sizeof s->out - used, "[%s|%s|%s]", ev->type, ev->id, ev->data);
    s->n++;
    return 0;
}

/* Parse text fed in chunks of every size; all must give the same result. */
static void expect_events(const char *text, size_t len, const char *want, int nwant,
                          long want_retry)
{
    for (size_t chunk = 1; chunk <= len; chunk++) {
        struct sse_parser p;
        struct seen s = {{0}, 0};
        sse_init(&p, 1 << 20);
        for (size_t off = 0; off < len; off += chunk)
            sse_feed(&p, text + off, len - off < chunk ? len - off : chunk, collect, &s);
        assert_string_equal(s.out, want);
        assert_int_equal(s.n, nwant);
        assert_int_equal(p.retry_ms, want_retry);
        sse_fini(&p);
    }
}

static void test_basic_and_multiline(void **state)
{
    const char *t = "data: {\"a\":1}\n\n"
                    "event: ping\nid: 7\ndata: line1\ndata: line2\n\n";
    expect_events(t, strlen(t), "[message||{\"a\":1}][ping|7|line1\nline2]", 2, -1);
}

static void test_line_endings(void **state)
{
    const char *t = "data: crlf\r\n\r\ndata: cr\r\rdata: lf\n\n";
    expect_events(t, strlen(t), "[message||crlf][message||cr][message||lf]", 3, -1);
}

static void test_comments_retry_and_fields(void **state)
{
    const char *t = ": keep-alive comment\n"
                    "retry: 1500\n"
                    "retry: 12x\n"            /* not all digits: ignored */
                    "unknown: field\n"
                    "data:no-space\n"
                    "data:  two-spaces\n\n";
    expect_events(t, strlen(t), "[message||no-space\n two-spaces]", 1, 1500);
}

static void test_id_persists_and_empty_event(void **state)
{
    /* an id with no data dispatches nothing but is remembered */
    const char *t = "id: 42\n\n" "data: x\n\n" "id\ndata: y\n\n";
    expect_events(t, strlen(t), "[message|42|x][message||y]", 2, -1);
}

static void test_bom_and_no_trailing_blank(void **state)
{
    const char *t = "\xEF\xBB\xBF" "data: after bom\n\n" "data: unfinished\n";
    expect_events(t, strlen(t), "[message||after bom]", 1, -1);
}

static void test_empty_data_line(void **state)
{
    const char *t = "data\n\n" "data:\ndata:\n\n";
    expect_events(t, strlen(t), "[message||][message||\n]", 2, -1);
}

static void test_oversize_event_dropped(void **state)
{
    struct sse_parser p;
    struct seen s = {{0}, 0};
    sse_init(&p, 16);
    const char *t = "data: 0123456789abcdefghijklmnop\n\n" "data: small\n\n";
    sse_feed(&p, t, strlen(t), collect, &s);
    assert_int_equal(s.n, 1);
    assert_string_equal(s.out, "[message||small]");
    assert_int_equal(p.dropped, 1);              /* the reader can tell */
    const char *big = "data: 0123456789\ndata: abcdefghij\n\n";   /* too big only joined */
    sse_feed(&p, big, strlen(big), collect, &s);
    assert_int_equal(s.n, 1);
    assert_int_equal(p.dropped, 2);
    sse_fini(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_basic_and_multiline),
        cmocka_unit_test(test_line_endings),
        cmocka_unit_test(test_comments_retry_and_fields),
        cmocka_unit_test(test_id_persists_and_empty_event),
        cmocka_unit_test(test_bom_and_no_trailing_blank),
        cmocka_unit_test(test_empty_data_line),
        cmocka_unit_test(test_oversize_event_dropped),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
