/* jsonr.c — JSON text to cJSON tree, as cJSON_ParseWithLength builds it,
 * in fewer instructions (see jsonr.h for why and for the one difference).
 *
 * The shape follows cJSON's parser so the trees agree: a node is made
 * before its value is read, an object member's key goes in ->string of
 * the node that then receives the value, siblings are linked with
 * ->next/->prev and the first child's ->prev points at the last. The
 * savings: strings are searched and copied eight bytes at a time, short
 * ones without a call; literals are compared as words; numbers a double
 * holds exactly are computed instead of going through strtod; only arrays
 * and objects recurse, scalars are read in the loop of their container,
 * and the read position stays in a register (functions take and return
 * it; NULL means the text is refused). Where cJSON is lenient (see
 * jsonr.h) the grammar here is lenient the same way;
 * tests/unit/test_jsonr.c checks that against the installed cJSON. */
#include "jsonr.h"

#include <limits.h>
#include <locale.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sanitize.h"

/* Word-at-a-time byte search needs a little-endian machine and ctz. */
#if defined(__GNUC__) && defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define JSONR_SWAR 1
#else
#define JSONR_SWAR 0
#endif

static const uint64_t ONES = 0x0101010101010101u, HIGHS = 0x8080808080808080u;

/* === Where the tree's memory comes from === */

/* The arena the parse in progress on this thread allocates from; NULL:
 * cJSON's allocator, block by block. */
static __thread struct jsonr_arena *arena;

static inline void *take(size_t n)
{
    struct jsonr_arena *a = arena;
    return a ? arena_alloc(&a->mem, n) : cJSON_malloc(n);
}

/* Give back what a refused text had built: nothing to do in an arena,
 * whose blocks go at jsonr_arena_fini. */
static inline void give_back_tree(cJSON *t)
{
    if (!arena)
        cJSON_Delete(t);
}

static inline void give_back(void *p)
{
    if (!arena)
        cJSON_free(p);
}

/* A zeroed node, as cJSON_New_Item makes. */
static inline cJSON *new_item(void)
{
    cJSON *it = take(sizeof *it);
    if (it)
        memset(it, 0, sizeof *it);
    return it;
}

/* cJSON counts every byte up to 0x20 as whitespace, NUL and control
 * bytes included. */
static inline const unsigned char *skip_ws(const unsigned char *p, const unsigned char *end)
{
    while (p < end && *p <= ' ')
        p++;
    return p;
}

/* === Strings === */

static inline uint64_t load8(const unsigned char *p)
{
    uint64_t w;
    memcpy(&w, p, sizeof w);
    return w;
}

/* The high bit set in each byte of w that equals c. Borrows can flag a
 * byte above a match too, so only the lowest flag is exact — the one we
 * use. */
static inline uint64_t bytes_equal(uint64_t w, unsigned char c)
{
    uint64_t x = w ^ (ONES * c);
    return (x - ONES) & ~x & HIGHS;
}

/* The first '"' or '\\' at or after p, or end. */
static inline const unsigned char *scan_special(const unsigned char *p,
                                                const unsigned char *end)
{
#if JSONR_SWAR
    for (; end - p >= 8; p += 8) {
        uint64_t w = load8(p);
        uint64_t hit = bytes_equal(w, '"') | bytes_equal(w, '\\');
        if (hit)
            return p + (__builtin_ctzll(hit) >> 3);
    }
#endif
    while (p < end && *p != '"' && *p != '\\')
        p++;
    return p;
}

/* n bytes from src to dst; keys and short values without a call. */
static inline void copy_bytes(unsigned char *dst, const unsigned char *src, size_t n)
{
    if (n >= 16) {
        memcpy(dst, src, n);
    } else if (n >= 8) {
        uint64_t a = load8(src), b = load8(src + n - 8);
        memcpy(dst, &a, 8);
        memcpy(dst + n - 8, &b, 8);
    } else if (n >= 4) {
        uint32_t a, b;
        memcpy(&a, src, 4);
        memcpy(&b, src + n - 4, 4);
        memcpy(dst, &a, 4);
        memcpy(dst + n - 4, &b, 4);
    } else {
        for (size_t i = 0; i < n; i++)
            dst[i] = src[i];
    }
}

/* Hex digit values plus one; 0 for bytes that are not hex digits. */
static const unsigned char hex_plus1[256] = {
    ['0'] = 1, ['1'] = 2, ['2'] = 3, ['3'] = 4, ['4'] = 5,
    ['5'] = 6, ['6'] = 7, ['7'] = 8, ['8'] = 9, ['9'] = 10,
    ['a'] = 11, ['b'] = 12, ['c'] = 13, ['d'] = 14, ['e'] = 15, ['f'] = 16,
    ['A'] = 11, ['B'] = 12, ['C'] = 13, ['D'] = 14, ['E'] = 15, ['F'] = 16,
};

/* Four hex digits; 0 when any is not one. cJSON reads a bad digit the
 * same way (U+0000, not an error), and we must accept what it accepts. */
static unsigned hex4(const unsigned char *h)
{
    unsigned a = hex_plus1[h[0]], b = hex_plus1[h[1]], c = hex_plus1[h[2]], d = hex_plus1[h[3]];
    if (!a || !b || !c || !d)
        return 0;
    return (a - 1) << 12 | (b - 1) << 8 | (c - 1) << 4 | (d - 1);
}

/* The \u escape at in (before close, the closing quote) as UTF-8 at *out.
 * Returns the escape's length (6, or 12 for a surrogate pair), 0 when cJSON
 * refuses it: too short, a lone low surrogate, a high one not followed by
 * a \u low one. */
static size_t utf16_to_utf8(const unsigned char *in, const unsigned char *close,
                            unsigned char **out)
{
    if (close - in < 6)
        return 0;
    unsigned long cp = hex4(in + 2);
    size_t used = 6;
    if (cp >= 0xDC00 && cp <= 0xDFFF)
        return 0;
    if (cp >= 0xD800 && cp <= 0xDBFF) {
        const unsigned char *lo = in + 6;
        if (close - lo < 6 || lo[0] != '\\' || lo[1] != 'u')
            return 0;
        unsigned low = hex4(lo + 2);
        if (low < 0xDC00 || low > 0xDFFF)
            return 0;
        cp = 0x10000 + (((cp & 0x3FF) << 10) | (low & 0x3FF));
        used = 12;
    }
    unsigned char *o = *out;
    if (cp < 0x80) {
        *o++ = (unsigned char)cp;
    } else if (cp < 0x800) {
        *o++ = (unsigned char)(0xC0 | cp >> 6);
        *o++ = (unsigned char)(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        *o++ = (unsigned char)(0xE0 | cp >> 12);
        *o++ = (unsigned char)(0x80 | (cp >> 6 & 0x3F));
        *o++ = (unsigned char)(0x80 | (cp & 0x3F));
    } else {
        *o++ = (unsigned char)(0xF0 | cp >> 18);
        *o++ = (unsigned char)(0x80 | (cp >> 12 & 0x3F));
        *o++ = (unsigned char)(0x80 | (cp >> 6 & 0x3F));
        *o++ = (unsigned char)(0x80 | (cp & 0x3F));
    }
    *out = o;
    return used;
}

/* Decode in..close (the body of a string with escapes) into o. Returns
 * the end of the output, NULL on an escape cJSON refuses. As in cJSON, a
 * \u takes the next four bytes whatever they are, and a backslash just
 * before the closing quote escapes it (the quote was found by skipping
 * the byte after each backslash, which can disagree with this walk).
 * Plain runs move eight bytes at a time, stored before looking: the
 * output never runs ahead of the input, so the block (as long as the
 * input) has room. */
static unsigned char *decode_escapes(unsigned char *o, const unsigned char *in,
                                     const unsigned char *close)
{
    while (in < close) {
#if JSONR_SWAR
        if (close - in >= 8) {
            uint64_t w = load8(in);
            memcpy(o, &w, 8);
            uint64_t hit = bytes_equal(w, '\\');
            if (!hit) {
                in += 8;
                o += 8;
                continue;
            }
            size_t k = (size_t)__builtin_ctzll(hit) >> 3;
            in += k;
            o += k;
        }
#endif
        if (*in != '\\') {
            *o++ = *in++;
            continue;
        }
        switch (in[1]) {
        case 'b': *o++ = '\b'; break;
        case 'f': *o++ = '\f'; break;
        case 'n': *o++ = '\n'; break;
        case 'r': *o++ = '\r'; break;
        case 't': *o++ = '\t'; break;
        case '"':
        case '\\':
        case '/': *o++ = in[1]; break;
        case 'u': {
            size_t used = utf16_to_utf8(in, close, &o);
            if (!used)
                return NULL;
            in += used;
            continue;
        }
        default:
            return NULL;
        }
        in += 2;
    }
    return o;
}

/* The rest of parse_string for a string with a backslash at bs. */
static const unsigned char *parse_escaped(const unsigned char *start, const unsigned char *bs,
                                          const unsigned char *end, char **out)
{
    /* Find the closing quote as cJSON does, stepping over the byte after
     * each backslash; a backslash may not be the last byte. */
    const unsigned char *q = bs;
    do {
        if (end - q < 2)
            return NULL;
        q = scan_special(q + 2, end);
        if (q == end)
            return NULL;
    } while (*q != '"');
    unsigned char *s = take((size_t)(q - start) + 1);
    if (!s)
        return NULL;
    unsigned char *o = decode_escapes(s, start, q);
    if (!o) {
        give_back(s);
        return NULL;
    }
    *o = '\0';
    *out = (char *)s;
    return q + 1;
}

/* The string whose opening quote is at p, decoded into a block from
 * cJSON's allocator (or the arena) at *out. Returns the byte after the
 * closing quote; NULL (and *out untouched) when it is unterminated, has
 * an escape cJSON refuses, or memory ran out. Raw control bytes are kept,
 * as cJSON keeps them. Always inlined into its two callers (keys and
 * values): the call itself was a tenth of a message's parse. */
static inline __attribute__((always_inline)) const unsigned char *
parse_string(const unsigned char *p, const unsigned char *end, char **out)
{
    const unsigned char *start = p + 1;
    const unsigned char *q = scan_special(start, end);
    if (q == end)
        return NULL;
    if (*q != '"')
        return parse_escaped(start, q, end, out);
    size_t n = (size_t)(q - start);
    unsigned char *s = take(n + 1);
    if (!s)
        return NULL;
    copy_bytes(s, start, n);
    s[n] = '\0';
    *out = (char *)s;
    return q + 1;
}

/* === Numbers === */

/* Powers of ten a double holds exactly. */
static const double exact_pow10[] = {
    1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
    1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
};

static inline int is_digit(unsigned char c)
{
    return (unsigned)(c - '0') < 10;
}

/* strtod on the n bytes at s, with '.' replaced by the locale's decimal
 * point as cJSON does. For numbers the fast path cannot do exactly. */
static int slow_number(const unsigned char *s, size_t n, double *out)
{
    char stack[64];
    char *buf = n < sizeof stack ? stack : malloc(n + 1);
    if (!buf)
        return -1;
    char point = localeconv()->decimal_point[0];
    for (size_t i = 0; i < n; i++)
        buf[i] = s[i] == '.' ? point : (char)s[i];
    buf[n] = '\0';
    char *after = NULL;
    *out = strtod(buf, &after);
    int ok = after == buf + n;
    if (buf != stack)
        free(buf);
    return ok ? 0 : -1;
}

/* The number at p into item; returns the byte after it, or NULL.
 *
 * cJSON copies the longest run of bytes from [0-9+-eE.] and takes what
 * strtod reads of it: -?(D+.?D*|.D+)([eE][+-]?D+)?, leading zeros allowed.
 * What strtod leaves of the run is never valid after a value (the callers
 * want whitespace, ',', ']', '}' or the end), so reading that grammar and
 * leaving the rest to the callers accepts what cJSON accepts. The value is
 * strtod's: a mantissa of at most 19 digits scaled by an exact power of
 * ten is one correctly rounded operation, as strtod's result is; the rest
 * goes to strtod. valueint saturates and truncates as cJSON's does. */
static const unsigned char *parse_number(const unsigned char *p, const unsigned char *end,
                                         cJSON *item)
{
    const unsigned char *start = p;
    int neg = *p == '-';
    p += neg;
    /* Digits wrap mant past 19 of them; then exact is false and strtod
     * decides. */
    uint64_t mant = 0;
    const unsigned char *d0 = p;
    for (; p < end && is_digit(*p); p++)
        mant = mant * 10 + (unsigned)(*p - '0');
    size_t ndig = (size_t)(p - d0);
    long frac = 0;
    if (p < end && *p == '.') {
        const unsigned char *f0 = ++p;
        for (; p < end && is_digit(*p); p++)
            mant = mant * 10 + (unsigned)(*p - '0');
        frac = p - f0;
        ndig += (size_t)frac;
    }
    int seen = ndig > 0, exact = ndig <= 19;
    if (!seen)
        return NULL;
    long e = 0;
    if (p < end && (*p | 0x20) == 'e') {
        const unsigned char *q = p + 1;
        int eneg = 0;
        if (q < end && (*q == '+' || *q == '-'))
            eneg = *q++ == '-';
        if (q < end && is_digit(*q)) {
            for (; q < end && is_digit(*q); q++)
                if (e < 100000)
                    e = e * 10 + (*q - '0');
            e = eneg ? -e : e;
            p = q;
        }
    }

    double v;
    long e10 = e - frac;
    if (exact && mant <= (UINT64_C(1) << 53) && e10 >= -22 && e10 <= 22) {
        v = (double)mant;
        if (e10 > 0)
            v *= exact_pow10[e10];
        else if (e10 < 0)
            v /= exact_pow10[-e10];
        v = neg ? -v : v;
    } else if (exact && e10 == 0) {
        v = (double)mant;
        v = neg ? -v : v;
    } else if (slow_number(start, (size_t)(p - start), &v)) {
        return NULL;
    }

    item->valuedouble = v;
    if (v >= INT_MAX)
        item->valueint = INT_MAX;
    else if (v <= (double)INT_MIN)
        item->valueint = INT_MIN;
    else
        item->valueint = (int)v;
    item->type = cJSON_Number;
    return p;
}

/* === Values === */

/* A string, number or literal at p (p < end) into item. */
static inline const unsigned char *parse_scalar(const unsigned char *p, const unsigned char *end,
                                                cJSON *item)
{
    size_t left = (size_t)(end - p);
    switch (*p) {
    case '"':
        p = parse_string(p, end, &item->valuestring);
        if (p)
            item->type = cJSON_String;
        return p;
    case 'n':
        if (left < 4 || memcmp(p, "null", 4) != 0)
            return NULL;
        item->type = cJSON_NULL;
        return p + 4;
    case 't':
        if (left < 4 || memcmp(p, "true", 4) != 0)
            return NULL;
        item->type = cJSON_True;
        item->valueint = 1;     /* cJSON sets it for true */
        return p + 4;
    case 'f':
        if (left < 5 || memcmp(p, "false", 5) != 0)
            return NULL;
        item->type = cJSON_False;
        return p + 5;
    case '-':
    case '0': case '1': case '2': case '3': case '4':
    case '5': case '6': case '7': case '8': case '9':
        return parse_number(p, end, item);
    default:
        return NULL;
    }
}

static const unsigned char *parse_container(const unsigned char *p, const unsigned char *end,
                                            int depth, cJSON *item);

/* Any value at p into item. depth counts the arrays and objects around
 * it, as cJSON counts them against CJSON_NESTING_LIMIT. */
static inline const unsigned char *parse_value(const unsigned char *p, const unsigned char *end,
                                               int depth, cJSON *item)
{
    if (p == end)
        return NULL;
    if (*p == '{' || *p == '[')
        return parse_container(p, end, depth, item);
    return parse_scalar(p, end, item);
}

/* Link a fresh node after *last (or as *head); NULL when memory ran out. */
static inline cJSON *append_item(cJSON **head, cJSON **last)
{
    cJSON *it = new_item();
    if (!it)
        return NULL;
    if (*last) {
        (*last)->next = it;
        it->prev = *last;
    } else {
        *head = it;
    }
    *last = it;
    return it;
}

/* Make item the container of head..last; returns the byte after the
 * closing one at p. */
static inline const unsigned char *close_container(const unsigned char *p, cJSON *item,
                                                   int type, cJSON *head, cJSON *last)
{
    if (head)
        head->prev = last;
    item->child = head;
    item->type = type;
    return p + 1;
}

/* The array or object at p (its opening '[' or '{') into item; an
 * object's members each start with a key and ':'. */
static const unsigned char *parse_container(const unsigned char *p, const unsigned char *end,
                                            int depth, cJSON *item)
{
    if (depth >= CJSON_NESTING_LIMIT)
        return NULL;
    int object = *p == '{';
    unsigned char close = object ? '}' : ']';
    int type = object ? cJSON_Object : cJSON_Array;
    p = skip_ws(p + 1, end);
    cJSON *head = NULL, *last = NULL;
    if (p < end && *p == close)
        return close_container(p, item, type, head, last);
    for (;;) {
        cJSON *it = append_item(&head, &last);
        if (!it)
            break;
        if (object) {
            if (p == end || *p != '"' || !(p = parse_string(p, end, &it->string)))
                break;
            p = skip_ws(p, end);
            if (p == end || *p != ':')
                break;
            p = skip_ws(p + 1, end);
        }
        if (!(p = parse_value(p, end, depth + 1, it)))
            break;
        p = skip_ws(p, end);
        if (p == end)
            break;
        if (*p == close)
            return close_container(p, item, type, head, last);
        if (*p != ',')
            break;
        p = skip_ws(p + 1, end);
    }
    give_back_tree(head);
    return NULL;
}

cJSON *jsonr_parse(const char *s, size_t len)
{
    if (!s || !len)
        return NULL;
    const unsigned char *p = (const unsigned char *)s, *end = p + len;
    /* cJSON skips a byte order mark only when a byte follows it and one
     * more (its bounds check asks for index 4). */
    if (len >= 5 && memcmp(p, "\xEF\xBB\xBF", 3) == 0)
        p += 3;
    cJSON *root = new_item();
    if (!root)
        return NULL;
    p = parse_value(skip_ws(p, end), end, 0, root);
    if (p && skip_ws(p, end) == end)
        return root;
    give_back_tree(root);
    return NULL;
}

void jsonr_arena_init(struct jsonr_arena *a, void *space, size_t size)
{
    arena_init(&a->mem, space, size);
    a->heap_tree = NULL;
}

cJSON *jsonr_parse_in(struct jsonr_arena *a, const char *s, size_t len)
{
    if (MCPDECK_ASAN) {
        /* node by node on the heap, so a tree used after its arena's end
         * shows as a use after free */
        cJSON_Delete(a->heap_tree);
        return a->heap_tree = jsonr_parse(s, len);
    }
    struct jsonr_arena *outer = arena;
    arena = a;
    cJSON *t = jsonr_parse(s, len);
    arena = outer;
    return t;
}

void jsonr_arena_fini(struct jsonr_arena *a)
{
    arena_fini(&a->mem);
    cJSON_Delete(a->heap_tree);
    a->heap_tree = NULL;
}
