/* jsonschema_values.c — comparing and rendering JSON values for the
 * validator: equality as JSON Schema defines it, string length in code
 * points, and short, quoted renderings for error messages. Thread-safe. */
#include "jsonschema_int.h"
#include "util.h"

#include <ctype.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool jsonschema_key_is_plain(const char *k)
{
    if (!*k)
        return false;
    for (const unsigned char *p = (const unsigned char *)k; *p; p++) {
        if (!(isalnum(*p) || *p == '_' || *p == '-' || *p == '$' || *p == '@' || *p >= 0x80))
            return false;
    }
    return true;
}

void jsonschema_put_json_string(struct buf *b, const char *s)
{
    buf_putc(b, '"');
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            buf_printf(b, "\\%c", *p);
        else if (*p < 0x20)
            buf_printf(b, "\\u%04x", *p);
        else
            buf_putc(b, (char)*p);
    }
    buf_putc(b, '"');
}

const char *jsonschema_value_type_name(const cJSON *v)
{
    if (cJSON_IsObject(v))
        return "object";
    if (cJSON_IsArray(v))
        return "array";
    if (cJSON_IsString(v))
        return "string";
    if (cJSON_IsNumber(v))
        return "number";
    if (cJSON_IsBool(v))
        return "boolean";
    if (cJSON_IsNull(v))
        return "null";
    return "unknown value";
}

/* Numbers in their shortest exact form ("0.1", "3", "1e+300"). */
void jsonschema_fmt_num(char out[32], double d)
{
    snprintf(out, 32, "%.15g", d);
    if (strtod(out, NULL) != d)
        snprintf(out, 32, "%.17g", d);
}

/* Cut s to at most max bytes on a UTF-8 boundary, adding "…" if cut. */
void jsonschema_put_clipped(struct buf *b, const char *s, size_t max)
{
    size_t n = strlen(s);

    if (n <= max) {
        buf_puts(b, s);
        return;
    }
    while (max > 0 && ((unsigned char)s[max] & 0xC0) == 0x80)
        max--;
    buf_append(b, s, max);
    buf_puts(b, "\xe2\x80\xa6");
}

/* A value as a message shows it: 'text' for strings, JSON otherwise. */
char *jsonschema_render_value(const cJSON *v)
{
    struct buf b;

    buf_init(&b);
    if (cJSON_IsString(v)) {
        buf_putc(&b, '\'');
        jsonschema_put_clipped(&b, v->valuestring, 60);
        buf_putc(&b, '\'');
    } else {
        char *j = cJSON_PrintUnformatted(v);
        jsonschema_put_clipped(&b, j ? j : "?", 60);
        cJSON_free(j);
    }
    if (!b.data)
        buf_puts(&b, "");
    return buf_detach(&b);
}

char *jsonschema_render_json(const cJSON *v)
{
    struct buf b;
    char *j = cJSON_PrintUnformatted(v);

    buf_init(&b);
    jsonschema_put_clipped(&b, j ? j : "?", 60);
    cJSON_free(j);
    return buf_detach(&b);
}

bool jsonschema_is_integral(double d)
{
    return isfinite(d) && floor(d) == d;
}

bool jsonschema_json_equal(const cJSON *a, const cJSON *b)
{
    if (cJSON_IsNumber(a) && cJSON_IsNumber(b))
        return a->valuedouble == b->valuedouble;
    if ((a->type & 0xFF) != (b->type & 0xFF))
        return false;
    if (cJSON_IsString(a) || cJSON_IsRaw(a))
        return strcmp(a->valuestring, b->valuestring) == 0;
    if (cJSON_IsArray(a)) {
        const cJSON *x = a->child, *y = b->child;
        for (; x && y; x = x->next, y = y->next) {
            if (!jsonschema_json_equal(x, y))
                return false;
        }
        return !x && !y;
    }
    if (cJSON_IsObject(a)) {
        if (cJSON_GetArraySize(a) != cJSON_GetArraySize(b))
            return false;
        for (const cJSON *x = a->child; x; x = x->next) {
            const cJSON *y = cJSON_GetObjectItemCaseSensitive(b, x->string);
            if (!y || !jsonschema_json_equal(x, y))
                return false;
        }
        return true;
    }
    return true;   /* null, true, false */
}

size_t jsonschema_utf8_length(const char *s)
{
    size_t n = 0;

    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        n += (*p & 0xC0) != 0x80;
    return n;
}
