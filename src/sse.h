/* sse.h — a Server-Sent Events parser (the WHATWG event-stream format),
 * fed bytes as they arrive, with chunk boundaries anywhere (even inside a
 * CRLF or a UTF-8 BOM). Used by the Streamable HTTP transport. */
#ifndef MCPDECK_SSE_H
#define MCPDECK_SSE_H

#include <stddef.h>

#include "util.h"

struct sse_event {
    const char *type;            /* "message" unless an event: field set it */
    const char *data;            /* data lines joined by "\n" */
    size_t data_len;
    const char *id;              /* the last event id seen so far (may be "") */
};

/* Return nonzero to stop parsing. */
typedef int (*sse_event_cb)(void *payload, const struct sse_event *ev);

struct sse_parser {
    struct buf line;             /* the line being read */
    struct buf data;             /* data of the event being built */
    struct buf type;
    struct buf last_id;
    long retry_ms;               /* last retry: value, -1 if none */
    int after_cr;                /* previous byte was CR (CRLF across chunks) */
    int started;                 /* past a possible BOM */
    int have_data;
    size_t max;                  /* maximum event size; larger events dropped */
    int oversize;
    size_t dropped;              /* events dropped for their size so far */
};

void sse_init(struct sse_parser *p, size_t max_event);
void sse_fini(struct sse_parser *p);
/* Feed bytes; calls cb for every complete event. Returns cb's nonzero
 * value if it stopped, else 0. */
int sse_feed(struct sse_parser *p, const char *bytes, size_t n, sse_event_cb cb, void *payload);

#endif
