/* fuzz_lines.c — the stdio framing: any bytes, in one piece or cut
 * anywhere, give the same lines and the same dropped over-long lines; no
 * line handed on is longer than the limit or holds a newline. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "jsonrpc.h"

#define MAX_LINE 64

static int on_line(void *payload, const char *line, size_t len)
{
    struct buf *all = payload;
    if (!line) {
        FUZZ_CHECK(len > MAX_LINE, "a line of %zu bytes dropped under a %d-byte limit", len,
                   MAX_LINE);
        buf_append(all, "!", 1);
        return 0;
    }
    FUZZ_CHECK(len > 0 && len <= MAX_LINE, "a line of %zu bytes handed on", len);
    FUZZ_CHECK(line[len] == '\0', "line not NUL-terminated");
    FUZZ_CHECK(memchr(line, '\n', len) == NULL, "a newline inside a line");
    char head[32];
    snprintf(head, sizeof head, "%zu:", len);
    buf_append(all, head, strlen(head));
    buf_append(all, line, len);
    return 0;
}

static void frame(const char *text, size_t len, size_t step, struct buf *all)
{
    struct jsonrpc_lines f;
    jsonrpc_lines_init(&f, MAX_LINE);
    buf_init(all);
    for (size_t at = 0; at < len;) {
        size_t n = len - at < step ? len - at : step;
        char *chunk = fuzz_copy(text + at, n, 0);
        jsonrpc_lines_feed(&f, chunk, n, on_line, all);
        free(chunk);
        at += n;
    }
    jsonrpc_lines_finish(&f, on_line, all);
    jsonrpc_lines_fini(&f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t step = 1 + data[0] % 13;
    struct buf whole, pieces;
    frame((const char *)data + 1, size - 1, size, &whole);
    frame((const char *)data + 1, size - 1, step, &pieces);
    FUZZ_CHECK(whole.len == pieces.len &&
                   (whole.len == 0 || memcmp(whole.data, pieces.data, whole.len) == 0),
               "lines differ when cut into pieces of %zu bytes", step);
    buf_fini(&whole);
    buf_fini(&pieces);
    return 0;
}
