/* test_util.c — helpers that other modules' tests only reach indirectly:
 * buf_keep_lines (the bounded logs of servers and transports), the arena
 * (JSON and YAML trees), util_whole_in (numbers from JSON to integers)
 * and util_parse_duration_ms. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
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

/* Numbers read from JSON become integers only when whole and in range:
 * outside it the C conversion is undefined (UBSan stops the ASan build). */
static void test_whole_in(void **state)
{
    (void)state;
    int64_t v = 7;
    assert_int_equal(util_whole_in(42.0, 0, 100, &v), 1);
    assert_int_equal(v, 42);
    assert_int_equal(util_whole_in(-3.0, -5, 5, &v), 1);
    assert_int_equal(v, -3);
    v = 7;
    assert_int_equal(util_whole_in(1.5, 0, 100, &v), 0);
    assert_int_equal(util_whole_in(101.0, 0, 100, &v), 0);
    assert_int_equal(util_whole_in(-1.0, 0, 100, &v), 0);
    assert_int_equal(util_whole_in(1e30, 0, INT64_MAX, &v), 0);
    assert_int_equal(util_whole_in(-1e30, INT64_MIN, INT64_MAX, &v), 0);
    assert_int_equal(util_whole_in(NAN, INT64_MIN, INT64_MAX, &v), 0);
    assert_int_equal(util_whole_in(INFINITY, 0, INT64_MAX, &v), 0);
    assert_int_equal(v, 7);   /* untouched when refused */
    /* the edges of int64_t: 2^63 is not representable, -2^63 is */
    assert_int_equal(util_whole_in(-9223372036854775808.0, INT64_MIN, INT64_MAX, &v), 1);
    assert_true(v == INT64_MIN);
    assert_int_equal(util_whole_in(9223372036854775808.0, INT64_MIN, INT64_MAX, &v), 0);
    assert_int_equal(util_whole_in(9007199254740992.0, 0, INT64_C(1) << 53, &v), 1);
    assert_true(v == INT64_C(1) << 53);
}

/* Durations from config and batch files ("30s", "2m"); strtod also
 * reads "nan" and "inf", which are no durations. */
static void test_parse_duration(void **state)
{
    (void)state;
    int64_t ms = -7;
    assert_int_equal(util_parse_duration_ms("30s", &ms), 0);
    assert_true(ms == 30000);
    assert_int_equal(util_parse_duration_ms("1.5m", &ms), 0);
    assert_true(ms == 90000);
    assert_int_equal(util_parse_duration_ms("250ms", &ms), 0);
    assert_true(ms == 250);
    assert_int_equal(util_parse_duration_ms("2", &ms), 0);
    assert_true(ms == 2000);
    ms = -7;
    static const char *const bad[] = {"", "-1s", "5x", "NAN", "nan", "nanms", "inf", "INFINITY",
                                      "1e300h", "s"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        if (util_parse_duration_ms(bad[i], &ms) != -1)
            fail_msg("'%s' read as a duration", bad[i]);
    assert_true(ms == -7);
}

/* Pieces are aligned, distinct and kept until fini: first from the space
 * given (whatever its alignment), then from heap blocks; a piece bigger
 * than any block gets a block of its own; a size no block can hold is
 * NULL and leaves the arena usable. */
static void test_arena(void **state)
{
    (void)state;
    static unsigned char space[101];
    struct arena a;
    arena_init(&a, space + 1, 100);
    enum { N = 5000 };
    unsigned char *p[N];
    size_t size[N];
    for (int i = 0; i < N; i++) {
        size[i] = i == 2000 ? (size_t)1 << 20 : (size_t)(i % 37) + 1;
        p[i] = arena_alloc(&a, size[i]);
        assert_non_null(p[i]);
        assert_int_equal((uintptr_t)p[i] % 8, 0);
        memset(p[i], i & 0xff, size[i]);
        if (i == 0)
            assert_true(p[i] > space && p[i] < space + sizeof space);
        if (i == 100)   /* 100 bytes hold a few pieces, not a hundred */
            assert_non_null(a.blocks);
    }
    assert_null(arena_alloc(&a, SIZE_MAX));
    assert_null(arena_alloc(&a, SIZE_MAX - 3));
    assert_non_null(arena_xalloc(&a, 8));
    for (int i = 0; i < N; i++)
        for (size_t k = 0; k < size[i]; k++)
            if (p[i][k] != (i & 0xff))
                fail_msg("piece %d byte %zu was overwritten", i, k);
    arena_fini(&a);
    assert_null(a.blocks);
    /* no space given: the first piece takes a block */
    arena_init(&a, NULL, 0);
    assert_non_null(arena_alloc(&a, 1));
    assert_non_null(a.blocks);
    arena_fini(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_keep_lines_under),
        cmocka_unit_test(test_keep_lines_cuts_at_line),
        cmocka_unit_test(test_keep_lines_no_newline),
        cmocka_unit_test(test_arena),
        cmocka_unit_test(test_whole_in),
        cmocka_unit_test(test_parse_duration),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
