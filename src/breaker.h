/* breaker.h — a circuit breaker: one per server (and later one per model
 * endpoint). Pure state, no I/O: the caller supplies the clock.
 *
 *   closed    calls pass; `threshold` consecutive failures open it
 *   open      calls fail fast until `cooldown_ms` has passed since opening
 *   half-open one trial call passes; success closes, failure reopens
 *
 * What counts as a failure is the caller's choice: the engine counts
 * transport errors, timeouts, crashes and failed health checks, never a
 * tool's own isError result or a caller's invalid-params error. */
#ifndef MCPDECK_BREAKER_H
#define MCPDECK_BREAKER_H

#include <stdint.h>

enum breaker_state { BREAKER_CLOSED, BREAKER_HALF_OPEN, BREAKER_OPEN };

struct breaker {
    enum breaker_state state;
    int failures;                /* consecutive, while closed */
    int threshold;               /* failures that open it (>= 1) */
    int64_t cooldown_ms;         /* open → half-open */
    int64_t opened_at;           /* ms, when it last opened */
    int trial;                   /* half-open: the trial call is out */
    int64_t opens;               /* times it opened, for metrics */
};

void breaker_init(struct breaker *b, int threshold, int64_t cooldown_ms);
/* Whether a call may go now. 1: go (in half-open this takes the one
 * trial). 0: refused; *retry_at (may be NULL) is when a call may pass
 * again (ms; for a half-open breaker whose trial is out, now). */
int breaker_allow(struct breaker *b, int64_t now_ms, int64_t *retry_at);
/* The outcome of a call that breaker_allow let through. Returns 1 when
 * the state changed. */
int breaker_record(struct breaker *b, int ok, int64_t now_ms);
/* The state as of now: an open breaker past its cooldown reads
 * half-open (and becomes it). Returns 1 when it changed. */
int breaker_poll(struct breaker *b, int64_t now_ms);
/* Give up a trial that never produced an outcome (the call was
 * cancelled): another trial may go. */
void breaker_release(struct breaker *b);
const char *breaker_state_name(enum breaker_state s);   /* "closed", "half-open", "open" */

#endif
