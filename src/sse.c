/* sse.c — Server-Sent Events parser (see sse.h). Follows the WHATWG
 * "interpreting an event stream" rules: lines end in CRLF, LF or CR;
 * ":" starts a comment; a field's value loses one leading space; data lines
 * are joined with "\n"; a blank line dispatches; an id with a NUL is
 * ignored; retry takes ASCII digits only. */
#include "sse.h"

#include <stdlib.h>
#include <string.h>

void sse_init(struct sse_parser *p, size_t max_event)
{
    memset(p, 0, sizeof *p);
    buf_init(&p->line);
    buf_init(&p->data);
    buf_init(&p->type);
    buf_init(&p->last_id);
    buf_puts(&p->last_id, "");
    p->retry_ms = -1;
    p->max = max_event;
}

void sse_fini(struct sse_parser *p)
{
    buf_fini(&p->line);
    buf_fini(&p->data);
    buf_fini(&p->type);
    buf_fini(&p->last_id);
}

static int dispatch(struct sse_parser *p, sse_event_cb cb, void *payload)
{
    int rc = 0;
    if (p->have_data && !p->oversize) {
        /* the data buffer ends with the "\n" of its last line */
        size_t n = p->data.len;
        if (n && p->data.data[n - 1] == '\n')
            p->data.data[--n] = '\0';
        struct sse_event ev = {
            p->type.len ? p->type.data : "message",
            p->data.data ? p->data.data : "",
            n,
            p->last_id.data ? p->last_id.data : "",
        };
        rc = cb(payload, &ev);
    } else if (p->have_data) {
        p->dropped++;            /* the reader may need to know what it missed */
    }
    buf_consume(&p->data, p->data.len);
    buf_consume(&p->type, p->type.len);
    p->have_data = 0;
    p->oversize = 0;
    return rc;
}

static void field(struct sse_parser *p, const char *line, size_t len)
{
    const char *colon = memchr(line, ':', len);
    size_t nlen = colon ? (size_t)(colon - line) : len;
    const char *val = colon ? colon + 1 : line + len;
    size_t vlen = colon ? len - nlen - 1 : 0;
    if (vlen && *val == ' ') {
        val++;
        vlen--;
    }
    if (nlen == 4 && memcmp(line, "data", 4) == 0) {
        if (p->data.len + vlen + 1 > p->max) {
            p->oversize = 1;
            buf_consume(&p->data, p->data.len);
        }
        if (!p->oversize) {
            buf_append(&p->data, val, vlen);
            buf_putc(&p->data, '\n');
        }
        p->have_data = 1;
    } else if (nlen == 5 && memcmp(line, "event", 5) == 0) {
        buf_consume(&p->type, p->type.len);
        buf_append(&p->type, val, vlen);
    } else if (nlen == 2 && memcmp(line, "id", 2) == 0) {
        if (!memchr(val, '\0', vlen)) {
            buf_consume(&p->last_id, p->last_id.len);
            buf_append(&p->last_id, val, vlen);
        }
    } else if (nlen == 5 && memcmp(line, "retry", 5) == 0) {
        long ms = 0;
        size_t i;
        for (i = 0; i < vlen && val[i] >= '0' && val[i] <= '9' && ms < 100000000; i++)
            ms = ms * 10 + (val[i] - '0');
        if (vlen && i == vlen)
            p->retry_ms = ms;
    }
    /* other field names are ignored, as the format requires */
}

static int end_line(struct sse_parser *p, sse_event_cb cb, void *payload)
{
    int rc = 0;
    if (p->line.len == 0)
        rc = dispatch(p, cb, payload);
    else if (p->line.data[0] != ':')
        field(p, p->line.data, p->line.len);
    buf_consume(&p->line, p->line.len);
    return rc;
}

int sse_feed(struct sse_parser *p, const char *bytes, size_t n, sse_event_cb cb, void *payload)
{
    size_t i = 0;
    while (!p->started && i < n) {
        /* skip a UTF-8 BOM at the very start, even split across chunks */
        static const unsigned char bom[3] = {0xEF, 0xBB, 0xBF};
        size_t have = p->line.len;
        if ((unsigned char)bytes[i] == bom[have]) {
            buf_putc(&p->line, bytes[i++]);
            if (p->line.len == 3) {
                buf_consume(&p->line, 3);
                p->started = 1;
            }
            continue;
        }
        p->started = 1;   /* not a BOM: what we held is ordinary text */
    }
    for (; i < n; i++) {
        char c = bytes[i];
        if (c == '\n' && p->after_cr) {
            p->after_cr = 0;      /* second half of a CRLF */
            continue;
        }
        p->after_cr = c == '\r';
        if (c == '\r' || c == '\n') {
            int rc = end_line(p, cb, payload);
            if (rc)
                return rc;
            continue;
        }
        if (p->line.len < p->max + 64)
            buf_putc(&p->line, c);
        else
            p->oversize = 1;
    }
    return 0;
}
