/* breaker.c — the circuit breaker state machine (see breaker.h). */
#include "breaker.h"

void breaker_init(struct breaker *b, int threshold, int64_t cooldown_ms)
{
    *b = (struct breaker){0};
    b->threshold = threshold > 0 ? threshold : 1;
    b->cooldown_ms = cooldown_ms > 0 ? cooldown_ms : 0;
}

static void open_now(struct breaker *b, int64_t now_ms)
{
    b->state = BREAKER_OPEN;
    b->opened_at = now_ms;
    b->trial = 0;
    b->failures = 0;
    b->opens++;
}

int breaker_poll(struct breaker *b, int64_t now_ms)
{
    if (b->state == BREAKER_OPEN && now_ms - b->opened_at >= b->cooldown_ms) {
        b->state = BREAKER_HALF_OPEN;
        b->trial = 0;
        return 1;
    }
    return 0;
}

int breaker_allow(struct breaker *b, int64_t now_ms, int64_t *retry_at)
{
    breaker_poll(b, now_ms);
    switch (b->state) {
    case BREAKER_CLOSED:
        return 1;
    case BREAKER_HALF_OPEN:
        if (!b->trial) {
            b->trial = 1;
            return 1;
        }
        if (retry_at)
            *retry_at = now_ms;
        return 0;
    case BREAKER_OPEN:
        break;
    }
    if (retry_at)
        *retry_at = b->opened_at + b->cooldown_ms;
    return 0;
}

int breaker_record(struct breaker *b, int ok, int64_t now_ms)
{
    enum breaker_state was = b->state;
    if (ok && b->state == BREAKER_OPEN) {
        return 0;   /* a call from before the opening: the cooldown still runs */
    } else if (ok) {
        b->failures = 0;
        b->trial = 0;
        b->state = BREAKER_CLOSED;
    } else if (b->state == BREAKER_HALF_OPEN) {
        open_now(b, now_ms);
    } else if (b->state == BREAKER_CLOSED && ++b->failures >= b->threshold) {
        open_now(b, now_ms);
    }
    /* a failure reported while open (a call that started before it
     * opened) changes nothing: the cooldown runs from the opening */
    return b->state != was;
}

void breaker_release(struct breaker *b)
{
    if (b->state == BREAKER_HALF_OPEN)
        b->trial = 0;
}

const char *breaker_state_name(enum breaker_state s)
{
    switch (s) {
    case BREAKER_CLOSED: return "closed";
    case BREAKER_HALF_OPEN: return "half-open";
    case BREAKER_OPEN: return "open";
    }
    return "?";
}
