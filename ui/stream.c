/* stream.c — the answers of running model tasks as they stream, kept per
 * job from the engine's ENGINE_EV_JOB_TOKENS events so the Results pane can
 * show them before the stored result exists.
 *
 * Memory stays bounded: each text is capped (the oldest part is dropped
 * and counted, the tail is what the pane shows); tui.c drops a job's text
 * when the job stops running (done or retried), so only running jobs keep
 * one. Loop thread only. */
#include "ui.h"

#include <stdlib.h>
#include <string.h>

void streams_init(struct streams *s, size_t limit)
{
    memset(s, 0, sizeof *s);
    s->limit = limit > 16 ? limit : 16;
}

void streams_fini(struct streams *s)
{
    for (size_t i = 0; i < s->n; i++)
        buf_fini(&s->v[i].text);
    free(s->v);
    s->v = NULL;
    s->n = s->cap = 0;
}

struct ui_stream *streams_find(struct streams *s, int64_t job)
{
    for (size_t i = 0; i < s->n; i++)
        if (s->v[i].job == job)
            return &s->v[i];
    return NULL;
}

/* Drop bytes from the front of st's text so that n more fit under limit;
 * the cut lands on a character boundary. */
static void stream_make_room(struct ui_stream *st, size_t n, size_t limit)
{
    if (st->text.len + n <= limit)
        return;
    /* down to three quarters, so a full text is not moved for every piece */
    size_t keep = limit - limit / 4;
    keep = n >= keep ? 0 : keep - n;
    size_t cut = st->text.len > keep ? st->text.len - keep : 0;
    while (cut < st->text.len && ((unsigned char)st->text.data[cut] & 0xC0) == 0x80)
        cut++;
    buf_consume(&st->text, cut);
    st->dropped += cut;
}

struct ui_stream *streams_add(struct streams *s, int64_t job, const char *text)
{
    struct ui_stream *st = streams_find(s, job);
    if (!st) {
        if (s->n == s->cap) {
            s->cap = s->cap ? s->cap * 2 : 4;
            s->v = xrealloc(s->v, s->cap * sizeof *s->v);
        }
        st = &s->v[s->n++];
        memset(st, 0, sizeof *st);
        st->job = job;
        buf_init(&st->text);
    }
    if (!text) {                       /* the answer starts over */
        buf_consume(&st->text, st->text.len);
        st->dropped = 0;
        st->restarts++;
        return st;
    }
    size_t n = strlen(text);
    if (n > s->limit) {                /* one piece bigger than the cap: its tail */
        size_t skip = n - s->limit;
        while (skip < n && ((unsigned char)text[skip] & 0xC0) == 0x80)
            skip++;
        st->dropped += st->text.len + skip;
        buf_consume(&st->text, st->text.len);
        text += skip;
        n -= skip;
    }
    stream_make_room(st, n, s->limit);
    buf_append(&st->text, text, n);
    return st;
}

int streams_drop(struct streams *s, int64_t job)
{
    struct ui_stream *st = streams_find(s, job);
    if (!st)
        return 0;
    buf_fini(&st->text);
    size_t i = (size_t)(st - s->v);
    memmove(&s->v[i], &s->v[i + 1], (s->n - i - 1) * sizeof *s->v);
    s->n--;
    return 1;
}
