/* jsonschema_values.c — comparing and rendering JSON values for the
 * validator: equality as JSON Schema defines it, repeated items of an
 * array, string length in code points, and short, quoted renderings for
 * error messages. Thread-safe. */
#include "jsonschema_int.h"
#include "util.h"

#include <ctype.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
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

/* Objects of more members than this are compared sorted by key, and
 * arrays of more items than this are checked for repeats through hashes:
 * a server's answer may hold millions of either. */
enum { SMALL = 16 };

struct member {
    const cJSON *v;
    int at;
};

static int by_key(const void *pa, const void *pb)
{
    const struct member *a = pa, *b = pb;
    int c = strcmp(a->v->string, b->v->string);
    return c ? c : (a->at > b->at) - (a->at < b->at);
}

static struct member *members_by_key(const cJSON *o, int n)
{
    struct member *m = xmalloc((size_t)n * sizeof *m);
    int i = 0;
    for (const cJSON *x = o->child; x && i < n; x = x->next, i++)
        m[i] = (struct member){x, i};
    qsort(m, (size_t)n, sizeof *m, by_key);
    return m;
}

/* Two objects of n members each (more than SMALL): the same keys with
 * equal values, a key written twice matched in the order written. */
static bool objects_equal_sorted(const cJSON *a, const cJSON *b, int n)
{
    struct member *ma = members_by_key(a, n), *mb = members_by_key(b, n);
    bool eq = true;
    for (int i = 0; i < n && eq; i++)
        eq = strcmp(ma[i].v->string, mb[i].v->string) == 0 &&
             jsonschema_json_equal(ma[i].v, mb[i].v);
    free(ma);
    free(mb);
    return eq;
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
        int n = cJSON_GetArraySize(a);
        if (n != cJSON_GetArraySize(b))
            return false;
        if (n > SMALL)
            return objects_equal_sorted(a, b, n);
        for (const cJSON *x = a->child; x; x = x->next) {
            const cJSON *y = cJSON_GetObjectItemCaseSensitive(b, x->string);
            if (!y || !jsonschema_json_equal(x, y))
                return false;
        }
        return true;
    }
    return true;   /* null, true, false */
}

static uint64_t mix(uint64_t h)
{
    h ^= h >> 30;
    h *= 0xbf58476d1ce4e5b9u;
    h ^= h >> 27;
    h *= 0x94d049bb133111ebu;
    return h ^ (h >> 31);
}

/* Equal values (as above) hash alike: numbers by value (-0 as 0), objects
 * whatever the order of their members. (Objects that write a key twice
 * are the exception: equality there is not what JSON defines anyway.) */
static uint64_t json_hash(const cJSON *v)
{
    if (cJSON_IsNumber(v)) {
        double d = v->valuedouble == 0 ? 0.0 : v->valuedouble;
        uint64_t bits;
        memcpy(&bits, &d, sizeof bits);
        return mix(bits);
    }
    uint64_t h = (uint64_t)(v->type & 0xFF);
    if (cJSON_IsString(v) || cJSON_IsRaw(v))
        return mix(h ^ util_hash_str(v->valuestring));
    if (cJSON_IsArray(v)) {
        for (const cJSON *x = v->child; x; x = x->next)
            h = mix(h + json_hash(x));
        return h;
    }
    if (cJSON_IsObject(v)) {
        uint64_t sum = 0;
        for (const cJSON *x = v->child; x; x = x->next)
            sum += mix(util_hash_str(x->string) ^ json_hash(x));
        return mix(h ^ sum);
    }
    return h;
}

struct hashed {
    uint64_t h;
    int at;
    const cJSON *v;
};

static int by_hash(const void *pa, const void *pb)
{
    const struct hashed *a = pa, *b = pb;
    if (a->h != b->h)
        return a->h < b->h ? -1 : 1;
    return (a->at > b->at) - (a->at < b->at);
}

bool jsonschema_first_repeat(const cJSON *arr, int *pi, int *pj)
{
    int n = cJSON_GetArraySize(arr);
    if (n <= SMALL) {
        int i = 0;
        for (const cJSON *x = arr->child; x; x = x->next, i++) {
            int j = i + 1;
            for (const cJSON *y = x->next; y; y = y->next, j++)
                if (jsonschema_json_equal(x, y)) {
                    *pi = i;
                    *pj = j;
                    return true;
                }
        }
        return false;
    }
    struct hashed *t = xmalloc((size_t)n * sizeof *t);
    int k = 0;
    for (const cJSON *x = arr->child; x && k < n; x = x->next, k++)
        t[k] = (struct hashed){json_hash(x), k, x};
    qsort(t, (size_t)n, sizeof *t, by_hash);
    int bi = n, bj = n;
    for (int s = 0, e; s < n; s = e) {
        for (e = s + 1; e < n && t[e].h == t[s].h; e++)
            ;
        /* within a run, by position: the first item with an equal later
         * one is the run's smallest i, and its first equal one its j */
        for (int x = s; x < e && t[x].at < bi; x++) {
            int y = x + 1;
            while (y < e && !jsonschema_json_equal(t[x].v, t[y].v))
                y++;
            if (y < e) {
                bi = t[x].at;
                bj = t[y].at;
                break;
            }
        }
    }
    free(t);
    if (bi == n)
        return false;
    *pi = bi;
    *pj = bj;
    return true;
}

size_t jsonschema_utf8_length(const char *s)
{
    size_t n = 0;

    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        n += (*p & 0xC0) != 0x80;
    return n;
}
