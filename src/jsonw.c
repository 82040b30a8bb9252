/* jsonw.c — compact JSON text of a cJSON tree (see jsonw.h). */
#include "jsonw.h"

#include <float.h>
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void jsonw_int(struct buf *b, long long v)
{
    char tmp[24];
    char *p = tmp + sizeof tmp;
    unsigned long long u = v < 0 ? 0ull - (unsigned long long)v : (unsigned long long)v;
    do {
        *--p = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        *--p = '-';
    buf_append(b, p, (size_t)(tmp + sizeof tmp - p));
}

/* As cJSON prints a number: integers below 1e15 exactly; anything else
 * with 15 significant digits when they read back as the same double, else
 * 17; NaN and infinities as null. */
static void write_number(struct buf *b, double d)
{
    if (isnan(d) || isinf(d)) {
        BUF_LIT(b, "null");
        return;
    }
    if (fabs(d) < 1e15 && d == (double)(long long)d && !(d == 0 && signbit(d))) {
        jsonw_int(b, (long long)d);
        return;
    }
    char tmp[32];
    int n = snprintf(tmp, sizeof tmp, "%1.15g", d);
    double back = strtod(tmp, NULL);
    double maxv = fabs(back) > fabs(d) ? fabs(back) : fabs(d);
    if (!(fabs(back - d) <= maxv * DBL_EPSILON))
        n = snprintf(tmp, sizeof tmp, "%1.17g", d);
    if (n < 0 || (size_t)n >= sizeof tmp) {
        BUF_LIT(b, "null");
        return;
    }
    const struct lconv *lc = localeconv();
    char point = lc && lc->decimal_point ? lc->decimal_point[0] : '.';
    if (point != '.')
        for (int i = 0; i < n; i++)
            if (tmp[i] == point)
                tmp[i] = '.';
    buf_append(b, tmp, (size_t)n);
}

/* Append n bytes; the caller has reserved them. */
static inline void put_reserved(struct buf *b, const char *p, size_t n)
{
    memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
}

static inline void put_char(struct buf *b, char c)
{
    if (b->len + 2 > b->cap)
        buf_reserve(b, 1);
    b->data[b->len++] = c;
    b->data[b->len] = '\0';
}

/* Characters a JSON string must escape: control characters, '"' and '\\'
 * (a table: one load per character on the path every message takes). */
static const unsigned char escape_table[256] = {
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0,
};

static inline int needs_escape(unsigned char c)
{
    return escape_table[c];
}

void jsonw_string(struct buf *b, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    const char *p = s;
    while (!needs_escape((unsigned char)*p))   /* NUL is in the table */
        p++;
    size_t n = (size_t)(p - s);
    buf_reserve(b, n + 2);
    b->data[b->len++] = '"';
    put_reserved(b, s, n);
    if (!*p) {                   /* the usual case: nothing to escape */
        put_char(b, '"');
        return;
    }
    const char *run = p;
    for (;; p++) {
        unsigned char c = (unsigned char)*p;
        if (c && !needs_escape(c))
            continue;
        if (p > run)
            buf_append(b, run, (size_t)(p - run));
        if (!c)
            break;
        char esc[6] = {'\\', 0, 0, 0, 0, 0};
        size_t en = 2;
        switch (c) {
        case '"': esc[1] = '"'; break;
        case '\\': esc[1] = '\\'; break;
        case '\b': esc[1] = 'b'; break;
        case '\f': esc[1] = 'f'; break;
        case '\n': esc[1] = 'n'; break;
        case '\r': esc[1] = 'r'; break;
        case '\t': esc[1] = 't'; break;
        default:
            esc[1] = 'u';
            esc[2] = '0';
            esc[3] = '0';
            esc[4] = hex[c >> 4];
            esc[5] = hex[c & 15];
            en = 6;
        }
        buf_append(b, esc, en);
        run = p + 1;
    }
    put_char(b, '"');
}

int jsonw_value(struct buf *b, const cJSON *item)
{
    if (!item)
        return -1;
    switch (item->type & 0xFF) {
    case cJSON_NULL:
        BUF_LIT(b, "null");
        return 0;
    case cJSON_False:
        BUF_LIT(b, "false");
        return 0;
    case cJSON_True:
        BUF_LIT(b, "true");
        return 0;
    case cJSON_Number:
        write_number(b, item->valuedouble);
        return 0;
    case cJSON_String:
        jsonw_string(b, item->valuestring ? item->valuestring : "");
        return 0;
    case cJSON_Raw:
        if (!item->valuestring)
            return -1;
        buf_puts(b, item->valuestring);
        return 0;
    case cJSON_Array:
    case cJSON_Object: {
        int obj = (item->type & 0xFF) == cJSON_Object;
        put_char(b, obj ? '{' : '[');
        for (const cJSON *c = item->child; c; c = c->next) {
            if (c != item->child)
                put_char(b, ',');
            if (obj) {
                if (!c->string)
                    return -1;
                jsonw_string(b, c->string);
                put_char(b, ':');
            }
            if (jsonw_value(b, c) < 0)
                return -1;
        }
        put_char(b, obj ? '}' : ']');
        return 0;
    }
    default:
        return -1;
    }
}

char *jsonw_print(const cJSON *item)
{
    struct buf b;
    buf_init(&b);
    buf_reserve(&b, 256);
    if (jsonw_value(&b, item) < 0) {
        buf_fini(&b);
        return NULL;
    }
    return buf_detach(&b);
}
