/* test_util.c — buffer helpers that other modules' tests only reach
 * indirectly: buf_keep_lines (the bounded logs of servers and transports). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "util.h"

/* Under the limit nothing moves. */
static void test_keep_lines_under(void **state)
{
    struct buf b;
    buf_init(&b);
    buf_puts(&b, "one\ntwo\n");
    buf_keep_lines(&b, 8);
    assert_string_equal(b.data, "one\ntwo\n");
    buf_fini(&b);
}

/* Past it, the oldest lines go, the rest starts at a line and is within
 * the limit, and the newest line is always kept whole. */
static void test_keep_lines_cuts_at_line(void **state)
{
    struct buf b;
    buf_init(&b);
    for (int i = 0; i < 1000; i++) {
        buf_printf(&b, "line %d\n", i);
        buf_keep_lines(&b, 100);
        assert_true(b.len <= 100);
        char last[32];
        int n = snprintf(last, sizeof last, "line %d\n", i);
        assert_true(b.len >= (size_t)n);
        assert_memory_equal(b.data + b.len - n, last, n);
        assert_true(strncmp(b.data, "line ", 5) == 0);   /* starts at a line */
        assert_int_equal(b.data[b.len], '\0');
    }
    assert_true(b.len >= 40);   /* about half is kept, not a line or two */
    buf_fini(&b);
}

/* One line longer than half the limit: its tail half is kept (no line
 * start to cut at), so the buffer still shrinks under the limit. */
static void test_keep_lines_no_newline(void **state)
{
    struct buf b;
    buf_init(&b);
    char big[300];
    memset(big, 'a', sizeof big);
    buf_append(&b, big, sizeof big);
    buf_keep_lines(&b, 100);
    assert_int_equal(b.len, 50);
    assert_int_equal(b.data[b.len], '\0');
    buf_fini(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_keep_lines_under),
        cmocka_unit_test(test_keep_lines_cuts_at_line),
        cmocka_unit_test(test_keep_lines_no_newline),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
