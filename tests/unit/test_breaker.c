/* test_breaker.c — the circuit breaker's state machine, table-driven:
 * each row is one step (what happens at which time) and what must follow. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "breaker.h"

enum op { ALLOW, OK, FAIL, POLL, RELEASE };

struct step {
    enum op op;
    int64_t t;                   /* ms */
    int ret;                     /* what the call returns */
    enum breaker_state after;
    int64_t retry_at;            /* ALLOW refused: expected *retry_at (-1: do not check) */
};

#define C BREAKER_CLOSED
#define H BREAKER_HALF_OPEN
#define O BREAKER_OPEN

struct scenario {
    const char *name;
    int threshold;
    int64_t cooldown;
    struct step steps[24];
    size_t nsteps;
};

static const struct scenario scenarios[] = {
    {"opens after threshold consecutive failures", 3, 1000,
     {{ALLOW, 0, 1, C, -1}, {FAIL, 1, 0, C, -1}, {FAIL, 2, 0, C, -1},
      {ALLOW, 3, 1, C, -1}, {FAIL, 4, 1, O, -1}, {ALLOW, 5, 0, O, 1004}},
     6},
    {"a success resets the count", 3, 1000,
     {{FAIL, 0, 0, C, -1}, {FAIL, 1, 0, C, -1}, {OK, 2, 0, C, -1},
      {FAIL, 3, 0, C, -1}, {FAIL, 4, 0, C, -1}, {FAIL, 5, 1, O, -1}},
     6},
    {"half-open after the cooldown lets one trial through", 1, 500,
     {{FAIL, 100, 1, O, -1}, {ALLOW, 599, 0, O, 600}, {POLL, 600, 1, H, -1},
      {ALLOW, 601, 1, H, -1}, {ALLOW, 602, 0, H, 602}, {OK, 700, 1, C, -1},
      {ALLOW, 701, 1, C, -1}},
     7},
    {"a failed trial opens it again with a new cooldown", 2, 500,
     {{FAIL, 0, 0, C, -1}, {FAIL, 10, 1, O, -1}, {ALLOW, 510, 1, H, -1},
      {FAIL, 520, 1, O, -1}, {ALLOW, 1019, 0, O, 1020}, {ALLOW, 1020, 1, H, -1}},
     6},
    {"allow moves open to half-open by itself", 1, 50,
     {{FAIL, 0, 1, O, -1}, {ALLOW, 49, 0, O, 50}, {ALLOW, 50, 1, H, -1}},
     3},
    {"a released trial lets the next one go", 1, 10,
     {{FAIL, 0, 1, O, -1}, {ALLOW, 10, 1, H, -1}, {ALLOW, 11, 0, H, 11},
      {RELEASE, 12, 0, H, -1}, {ALLOW, 13, 1, H, -1}},
     5},
    {"late outcomes while open change nothing", 1, 1000,
     {{FAIL, 0, 1, O, -1}, {OK, 10, 0, O, -1}, {FAIL, 20, 0, O, -1},
      {ALLOW, 999, 0, O, 1000}, {POLL, 1000, 1, H, -1}, {POLL, 1001, 0, H, -1}},
     6},
    {"threshold 5 (the default)", 5, 60000,
     {{FAIL, 0, 0, C, -1}, {FAIL, 0, 0, C, -1}, {FAIL, 0, 0, C, -1},
      {FAIL, 0, 0, C, -1}, {FAIL, 0, 1, O, -1}, {ALLOW, 59999, 0, O, 60000},
      {ALLOW, 60000, 1, H, -1}},
     7},
};

static void test_scenarios(void **state)
{
    for (size_t i = 0; i < sizeof scenarios / sizeof *scenarios; i++) {
        const struct scenario *sc = &scenarios[i];
        struct breaker b;
        breaker_init(&b, sc->threshold, sc->cooldown);
        assert_int_equal(b.state, BREAKER_CLOSED);
        for (size_t k = 0; k < sc->nsteps; k++) {
            const struct step *st = &sc->steps[k];
            int64_t retry = -1;
            int ret = 0;
            switch (st->op) {
            case ALLOW: ret = breaker_allow(&b, st->t, &retry); break;
            case OK: ret = breaker_record(&b, 1, st->t); break;
            case FAIL: ret = breaker_record(&b, 0, st->t); break;
            case POLL: ret = breaker_poll(&b, st->t); break;
            case RELEASE: breaker_release(&b); break;
            }
            if (ret != st->ret || b.state != st->after ||
                (st->op == ALLOW && !ret && st->retry_at >= 0 && retry != st->retry_at))
                fail_msg("%s, step %zu: returned %d (want %d), state %s (want %s), retry_at %lld",
                         sc->name, k, ret, st->ret, breaker_state_name(b.state),
                         breaker_state_name(st->after), (long long)retry);
        }
    }
}

static void test_names_and_counts(void **state)
{
    assert_string_equal(breaker_state_name(BREAKER_CLOSED), "closed");
    assert_string_equal(breaker_state_name(BREAKER_HALF_OPEN), "half-open");
    assert_string_equal(breaker_state_name(BREAKER_OPEN), "open");
    struct breaker b;
    breaker_init(&b, 0, -5);     /* nonsense clamps to 1 failure, no cooldown */
    assert_int_equal(b.threshold, 1);
    assert_int_equal(breaker_record(&b, 0, 7), 1);
    assert_int_equal(b.opens, 1);
    assert_int_equal(breaker_allow(&b, 7, NULL), 1);
    assert_int_equal(b.state, BREAKER_HALF_OPEN);
    assert_int_equal(breaker_record(&b, 0, 8), 1);
    assert_int_equal(b.opens, 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scenarios),
        cmocka_unit_test(test_names_and_counts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
