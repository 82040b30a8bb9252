/* fuzz_sse.c — the event-stream parser of the Streamable HTTP transport.
 * Any bytes, cut into chunks anywhere (the first input byte picks the
 * cuts), give exactly the events and retry value they give in one piece,
 * and no event is larger than the parser's limit. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "sse.h"

#define MAX_EVENT 256

struct seen {
    struct buf all;   /* every event, framed so two lists compare byte for byte */
    size_t n;
};

static int on_event(void *payload, const struct sse_event *ev)
{
    struct seen *s = payload;
    FUZZ_CHECK(ev->data_len <= MAX_EVENT, "an event of %zu bytes passed a %d-byte limit",
               ev->data_len, MAX_EVENT);
    FUZZ_CHECK(ev->type && ev->id && ev->data, "an event without type, id or data");
    char head[64];
    snprintf(head, sizeof head, "%zu:%zu:%zu:", strlen(ev->type), strlen(ev->id), ev->data_len);
    buf_append(&s->all, head, strlen(head));
    buf_append(&s->all, ev->type, strlen(ev->type));
    buf_append(&s->all, ev->id, strlen(ev->id));
    buf_append(&s->all, ev->data, ev->data_len);
    s->n++;
    return 0;
}

static void parse(const char *text, size_t len, unsigned cuts, struct seen *out, long *retry)
{
    struct sse_parser p;
    sse_init(&p, MAX_EVENT);
    memset(out, 0, sizeof *out);
    size_t at = 0, step = cuts ? cuts : len;
    while (at < len) {
        size_t n = len - at < step ? len - at : step;
        char *chunk = fuzz_copy(text + at, n, 0);
        sse_feed(&p, chunk, n, on_event, out);
        free(chunk);
        at += n;
        if (cuts)
            step = 1 + (step * 7 + at) % (cuts + 3);
    }
    *retry = p.retry_ms;
    sse_fini(&p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    unsigned cuts = data[0] % 9;  /* 0: one piece; else pieces of varying size */
    const char *text = (const char *)data + 1;
    size_t len = size - 1;
    struct seen whole, pieces;
    long r1, r2;
    parse(text, len, 0, &whole, &r1);
    parse(text, len, cuts ? cuts : 1, &pieces, &r2);
    FUZZ_CHECK(whole.n == pieces.n, "%zu events in one piece, %zu in pieces", whole.n,
               pieces.n);
    FUZZ_CHECK(whole.all.len == pieces.all.len &&
                   (whole.all.len == 0 ||
                    memcmp(whole.all.data, pieces.all.data, whole.all.len) == 0),
               "the events differ when cut into pieces");
    FUZZ_CHECK(r1 == r2, "retry %ld in one piece, %ld in pieces", r1, r2);
    buf_fini(&whole.all);
    buf_fini(&pieces.all);
    return 0;
}
