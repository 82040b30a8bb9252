/* builtin.c — helpers shared by the built-in servers' tools (see builtin.h).
 *
 * A tool answers with an MCP CallToolResult holding one text block. Tool
 * text often comes straight from files, so it is made valid UTF-8 here
 * (each bad byte becomes U+FFFD) before it goes into JSON. */
#include "builtin.h"
#include "util.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* Length of the valid UTF-8 sequence at s (1..4), or 0 when invalid. */
static size_t utf8_seq_len(const unsigned char *s)
{
    unsigned char c = s[0];
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF)
        return (s[1] & 0xC0) == 0x80 ? 2 : 0;
    if (c >= 0xE0 && c <= 0xEF) {
        unsigned char lo = c == 0xE0 ? 0xA0 : 0x80;
        unsigned char hi = c == 0xED ? 0x9F : 0xBF;
        if (s[1] < lo || s[1] > hi || (s[2] & 0xC0) != 0x80)
            return 0;
        return 3;
    }
    if (c >= 0xF0 && c <= 0xF4) {
        unsigned char lo = c == 0xF0 ? 0x90 : 0x80;
        unsigned char hi = c == 0xF4 ? 0x8F : 0xBF;
        if (s[1] < lo || s[1] > hi || (s[2] & 0xC0) != 0x80 || (s[3] & 0xC0) != 0x80)
            return 0;
        return 4;
    }
    return 0;
}

/* Returns text unchanged when it is valid UTF-8, else a new string with
 * each invalid byte replaced by U+FFFD (text is freed). */
static char *utf8_sanitize(char *text)
{
    const unsigned char *s = (const unsigned char *)text;
    size_t i = 0;
    while (s[i]) {
        size_t n = utf8_seq_len(s + i);
        if (n == 0)
            break;
        i += n;
    }
    if (!s[i])
        return text;
    struct buf b;
    buf_init(&b);
    buf_append(&b, text, i);
    while (s[i]) {
        size_t n = utf8_seq_len(s + i);
        if (n == 0) {
            buf_puts(&b, "\xEF\xBF\xBD");
            i++;
        } else {
            buf_append(&b, s + i, n);
            i += n;
        }
    }
    free(text);
    return buf_detach(&b);
}

cJSON *builtin_result_take_text(int is_error, char *text)
{
    text = utf8_sanitize(text ? text : xstrdup(""));
    cJSON *r = cJSON_CreateObject();
    cJSON *content = cJSON_AddArrayToObject(r, "content");
    cJSON *block = cJSON_CreateObject();
    cJSON_AddStringToObject(block, "type", "text");
    cJSON_AddStringToObject(block, "text", text);
    cJSON_AddItemToArray(content, block);
    cJSON_AddBoolToObject(r, "isError", is_error ? 1 : 0);
    free(text);
    return r;
}

cJSON *builtin_result_text(int is_error, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *text = xvasprintf(fmt, ap);
    va_end(ap);
    return builtin_result_take_text(is_error, text);
}
