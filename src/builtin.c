/* builtin.c — helpers shared by the built-in servers' tools (see builtin.h).
 *
 * A tool answers with an MCP CallToolResult holding one text block. Tool
 * text often comes straight from files, so it is made valid UTF-8 here
 * (each bad byte becomes U+FFFD) before it goes into JSON. */
#include "builtin.h"
#include "util.h"

#include <math.h>
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

/* === Arguments === */

/* Refuse arguments the schema does not list. allowed is NULL-terminated.
 * Returns an error result or NULL. */
cJSON *builtin_args_check(const cJSON *args, const char *const *allowed)
{
    if (args && !cJSON_IsObject(args))
        return builtin_result_text(1, "arguments must be a JSON object");
    const cJSON *it;
    cJSON_ArrayForEach(it, args) {
        int ok = 0;
        for (size_t i = 0; allowed[i]; i++)
            if (strcmp(it->string, allowed[i]) == 0)
                ok = 1;
        if (!ok) {
            struct buf b;
            buf_init(&b);
            for (size_t i = 0; allowed[i]; i++)
                buf_printf(&b, "%s%s", i ? ", " : "", allowed[i]);
            cJSON *r = builtin_result_text(1, "unknown argument '%s' (expected: %s)",
                                           it->string, b.data);
            buf_fini(&b);
            return r;
        }
    }
    return NULL;
}

/* A string argument. Returns 0 with *out (borrowed; NULL when absent and
 * optional) or -1 with an error result in *err. */
int builtin_arg_string(const cJSON *args, const char *name, int required, const char **out,
                       cJSON **err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(args, name);
    *out = NULL;
    if (!v || cJSON_IsNull(v)) {
        if (!required)
            return 0;
        *err = builtin_result_text(1, "argument '%s' is required (string)", name);
        return -1;
    }
    if (!cJSON_IsString(v) || !v->valuestring) {
        *err = builtin_result_text(1, required ? "argument '%s' is required (string)"
                                               : "argument '%s' must be a string", name);
        return -1;
    }
    *out = v->valuestring;
    return 0;
}

/* An optional integer argument in [min, max]. *out keeps its value when
 * the argument is absent. Returns 0 or -1 with an error result in *err. */
int builtin_arg_int(const cJSON *args, const char *name, long min, long max, long *out,
                    cJSON **err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(args, name);
    if (!v || cJSON_IsNull(v))
        return 0;
    double d = cJSON_IsNumber(v) ? v->valuedouble : NAN;
    if (!cJSON_IsNumber(v) || d != floor(d) || d < (double)min || d > (double)max) {
        *err = builtin_result_text(1, "argument '%s' must be an integer from %ld to %ld",
                                   name, min, max);
        return -1;
    }
    *out = (long)d;
    return 0;
}

/* An optional boolean argument. */
int builtin_arg_bool(const cJSON *args, const char *name, int *out, cJSON **err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(args, name);
    if (!v || cJSON_IsNull(v))
        return 0;
    if (!cJSON_IsBool(v)) {
        *err = builtin_result_text(1, "argument '%s' must be a boolean", name);
        return -1;
    }
    *out = cJSON_IsTrue(v);
    return 0;
}
