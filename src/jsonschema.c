/* jsonschema.c — JSON Schema validation for MCP tool input and output
 * schemas (see jsonschema.h for what is supported).
 *
 * The validator walks schema and instance together and stops at the first
 * error. Paths (instance and schema) are linked lists of stack frames, so
 * nothing is built unless an error is reported. anyOf/oneOf/not run their
 * branches "quietly" (no message, only where and how the branch failed);
 * when no branch matches, the closest one is run again to get its message. */
#include "jsonschema.h"
#include "jsonschema_int.h"

#include <ctype.h>
#include <math.h>
#include <regex.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

enum {
    MAX_DEPTH = 64,      /* instance nesting */
    MAX_FRAMES = 512,    /* schema nesting, whatever the cause */
    MAX_STEPS = 500000,  /* schemas visited: {"anyOf":[{"$ref":"#"},{"$ref":"#"}]} */
    RE_CACHE = 16,       /* compiled patterns kept per validation */
    REGCOMP_WORK = 1000, /* a pattern compiled again: the cache was full */
    LIST_MAX = 200,      /* characters of a value list in a message */
};

/* Type bits: what an instance is, or what a "type" keyword allows. */
enum {
    T_OBJECT = 1 << 0,
    T_ARRAY = 1 << 1,
    T_STRING = 1 << 2,
    T_NUMBER = 1 << 3,
    T_INTEGER = 1 << 4,
    T_BOOLEAN = 1 << 5,
    T_NULL = 1 << 6,
};

static const char *const type_names[] = {
    "object", "array", "string", "number", "integer", "boolean", "null",
};

/* One step of a path: a property name or keyword (key), else an index.
 * A schema path starts at a frame with abs set: key is then a whole
 * location ("#" for the root, or the text of a $ref). */
struct seg {
    const struct seg *up;
    const char *key;
    int idx;
    int depth;
    bool abs;
};

struct re_entry {
    const cJSON *node;
    int ok;              /* 1 compiled, 0 unsupported */
    regex_t re;
};

struct ctx {
    const cJSON *root;
    int quiet;           /* > 0: inside anyOf/oneOf/not, no messages */
    char *msg;           /* the error, once one is reported loudly */
    size_t leaf;         /* where in msg its innermost error starts */
    /* how the last failure happened (set in quiet mode too) */
    int fail_depth;
    unsigned fail_types; /* the types wanted, when it was a type error */
    bool fail_schema;    /* the schema itself is broken */
    int frames;
    int refs;
    long steps;
    long long work;
    int nre;
    struct re_entry re[RE_CACHE];
};

static int check(struct ctx *c, const cJSON *s, const cJSON *v, const struct seg *ip,
                 const struct seg *sp);

static struct seg seg_key(const struct seg *up, const char *key)
{
    return (struct seg){.up = up, .key = key, .depth = up->depth + 1};
}

static struct seg seg_idx(const struct seg *up, int idx)
{
    return (struct seg){.up = up, .idx = idx, .depth = up->depth + 1};
}

/* === Messages === */



static void put_ipath(struct buf *b, const struct seg *s)
{
    if (!s->up) {
        buf_puts(b, s->key);
        return;
    }
    put_ipath(b, s->up);
    if (!s->key) {
        buf_printf(b, "[%d]", s->idx);
    } else if (jsonschema_key_is_plain(s->key)) {
        buf_printf(b, ".%s", s->key);
    } else {
        buf_putc(b, '[');
        jsonschema_put_json_string(b, s->key);
        buf_putc(b, ']');
    }
}

static void put_spath(struct buf *b, const struct seg *s)
{
    if (s->abs) {
        buf_puts(b, s->key);
        return;
    }
    put_spath(b, s->up);
    buf_putc(b, '/');
    if (!s->key) {
        buf_printf(b, "%d", s->idx);
        return;
    }
    for (const char *p = s->key; *p; p++) {
        if (*p == '~')
            buf_puts(b, "~0");
        else if (*p == '/')
            buf_puts(b, "~1");
        else
            buf_putc(b, *p);
    }
}

/* Record how the current check failed; returns -1 for tail calls. */
static int note(struct ctx *c, const struct seg *ip, unsigned types, bool schema)
{
    c->fail_depth = ip->depth;
    c->fail_types = types;
    c->fail_schema = schema;
    return -1;
}

static void set_msg(struct ctx *c, const struct seg *ip, const struct seg *sp, const char *fmt,
                    va_list ap) PRINTF_LIKE(4, 0);

static void set_msg(struct ctx *c, const struct seg *ip, const struct seg *sp, const char *fmt,
                    va_list ap)
{
    struct buf b;

    if (c->quiet || c->msg)
        return;
    buf_init(&b);
    put_ipath(&b, ip);
    buf_puts(&b, ": ");
    if (sp) {
        buf_puts(&b, "invalid schema at ");
        put_spath(&b, sp);
        buf_puts(&b, ": ");
    }
    char *what = xvasprintf(fmt, ap);
    buf_puts(&b, what);
    free(what);
    c->msg = buf_detach(&b);
}

/* The instance at ip is invalid: fmt says why. */
static int fail(struct ctx *c, const struct seg *ip, const char *fmt, ...) PRINTF_LIKE(3, 4);

static int fail(struct ctx *c, const struct seg *ip, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    set_msg(c, ip, NULL, fmt, ap);
    va_end(ap);
    return note(c, ip, 0, false);
}

/* The schema at sp is broken. */
static int schema_fail(struct ctx *c, const struct seg *ip, const struct seg *sp, const char *fmt,
                       ...) PRINTF_LIKE(4, 5);

static int schema_fail(struct ctx *c, const struct seg *ip, const struct seg *sp, const char *fmt,
                       ...)
{
    va_list ap;

    va_start(ap, fmt);
    set_msg(c, ip, sp, fmt, ap);
    va_end(ap);
    return note(c, ip, 0, true);
}






/* "a, b or c" for a set of type bits. */
static void put_types(struct buf *b, unsigned types)
{
    int n = 0, total = 0;

    if ((types & T_NUMBER) && (types & T_INTEGER))
        types &= ~(unsigned)T_INTEGER;
    for (size_t i = 0; i < ARRAY_LEN(type_names); i++)
        total += (types >> i) & 1;
    for (size_t i = 0; i < ARRAY_LEN(type_names); i++) {
        if (!((types >> i) & 1))
            continue;
        if (n > 0)
            buf_puts(b, n == total - 1 ? " or " : ", ");
        buf_puts(b, type_names[i]);
        n++;
    }
}

static int type_fail(struct ctx *c, const cJSON *v, const struct seg *ip, unsigned types)
{
    if (!c->quiet && !c->msg) {
        struct buf b;
        char num[32];

        buf_init(&b);
        put_types(&b, types);
        if (cJSON_IsNumber(v) && (types & T_INTEGER) && !(types & T_NUMBER)) {
            jsonschema_fmt_num(num, v->valuedouble);
            fail(c, ip, "expected %s, got number %s", b.data, num);
        } else {
            fail(c, ip, "expected %s, got %s", b.data, jsonschema_value_type_name(v));
        }
        buf_fini(&b);
    }
    return note(c, ip, types, false);
}

/* === Values === */




/* === Patterns (translated in jsonschema_pattern.c) === */

static int pattern_match(struct ctx *c, const cJSON *node, const char *pattern, const char *s)
{
    struct re_entry *e = NULL;
    regex_t tmp;
    int rc;

    for (int i = 0; i < c->nre; i++) {
        if (c->re[i].node == node) {
            e = &c->re[i];
            break;
        }
    }
    if (!e && c->nre < RE_CACHE) {
        e = &c->re[c->nre++];
        e->node = node;
        e->ok = jsonschema_pattern_compile(pattern, &e->re);
    }
    c->work++;
    if (e) {
        if (!e->ok)
            return -1;
        return regexec(&e->re, s, 0, NULL, 0) == 0;
    }
    c->work += REGCOMP_WORK;
    if (!jsonschema_pattern_compile(pattern, &tmp))
        return -1;
    rc = regexec(&tmp, s, 0, NULL, 0) == 0;
    regfree(&tmp);
    return rc;
}

/* === $ref (resolved in jsonschema_ref.c) === */

/* === Keywords === */

struct kw {
    const cJSON *ref, *type, *enm, *cnst;
    const cJSON *minimum, *maximum, *xmin, *xmax, *multiple;
    const cJSON *min_len, *max_len, *pattern;
    const cJSON *items, *prefix, *add_items, *min_items, *max_items, *unique;
    const cJSON *props, *pattern_props, *add_props, *required, *min_props, *max_props;
    const cJSON *all, *any, *one, *not_;
};

static const struct {
    const char *name;
    size_t off;
} kw_table[] = {
    {"$ref", offsetof(struct kw, ref)},
    {"type", offsetof(struct kw, type)},
    {"enum", offsetof(struct kw, enm)},
    {"const", offsetof(struct kw, cnst)},
    {"minimum", offsetof(struct kw, minimum)},
    {"maximum", offsetof(struct kw, maximum)},
    {"exclusiveMinimum", offsetof(struct kw, xmin)},
    {"exclusiveMaximum", offsetof(struct kw, xmax)},
    {"multipleOf", offsetof(struct kw, multiple)},
    {"minLength", offsetof(struct kw, min_len)},
    {"maxLength", offsetof(struct kw, max_len)},
    {"pattern", offsetof(struct kw, pattern)},
    {"items", offsetof(struct kw, items)},
    {"prefixItems", offsetof(struct kw, prefix)},
    {"additionalItems", offsetof(struct kw, add_items)},
    {"minItems", offsetof(struct kw, min_items)},
    {"maxItems", offsetof(struct kw, max_items)},
    {"uniqueItems", offsetof(struct kw, unique)},
    {"properties", offsetof(struct kw, props)},
    {"patternProperties", offsetof(struct kw, pattern_props)},
    {"additionalProperties", offsetof(struct kw, add_props)},
    {"required", offsetof(struct kw, required)},
    {"minProperties", offsetof(struct kw, min_props)},
    {"maxProperties", offsetof(struct kw, max_props)},
    {"allOf", offsetof(struct kw, all)},
    {"anyOf", offsetof(struct kw, any)},
    {"oneOf", offsetof(struct kw, one)},
    {"not", offsetof(struct kw, not_)},
};

static void kw_collect(const cJSON *s, struct kw *k)
{
    memset(k, 0, sizeof *k);
    for (const cJSON *e = s->child; e; e = e->next) {
        if (!e->string)
            continue;
        for (size_t i = 0; i < ARRAY_LEN(kw_table); i++) {
            if (strcmp(e->string, kw_table[i].name) == 0) {
                const cJSON **slot = (const cJSON **)((char *)k + kw_table[i].off);
                if (!*slot)
                    *slot = e;
                break;
            }
        }
    }
}

/* Read a numeric keyword: 1 and *out if present, 0 if absent, -1 (failure
 * recorded) if it is not a number (or, with count, not a count). */
static int kw_number(struct ctx *c, const cJSON *k, bool count, const struct seg *ip,
                     const struct seg *sp, double *out)
{
    if (!k)
        return 0;
    if (!cJSON_IsNumber(k) || (count && (k->valuedouble < 0 || !jsonschema_is_integral(k->valuedouble))))
        return schema_fail(c, ip, sp, "'%s' must be %s", k->string,
                           count ? "a non-negative integer" : "a number");
    *out = k->valuedouble;
    return 1;
}

/* Run the child schema s on v, one level down the instance. */
static int check_child(struct ctx *c, const cJSON *s, const cJSON *v, const struct seg *ip,
                       const struct seg *sp)
{
    int saved = c->refs, rc;

    if (ip->depth > MAX_DEPTH)
        return fail(c, ip, "nested deeper than %d levels", MAX_DEPTH);
    c->refs = 0;
    rc = check(c, s, v, ip, sp);
    c->refs = saved;
    return rc;
}

static int check_type(struct ctx *c, const cJSON *t, const cJSON *v, const struct seg *ip,
                      const struct seg *sp)
{
    unsigned want = 0, have;
    const cJSON *one = t;

    if (cJSON_IsArray(t))
        one = t->child;
    for (; one; one = cJSON_IsArray(t) ? one->next : NULL) {
        size_t i;
        if (!cJSON_IsString(one))
            return schema_fail(c, ip, sp, "'type' must be a type name or an array of them");
        for (i = 0; i < ARRAY_LEN(type_names); i++) {
            if (strcmp(one->valuestring, type_names[i]) == 0)
                break;
        }
        if (i == ARRAY_LEN(type_names))
            return schema_fail(c, ip, sp, "unknown type '%s'", one->valuestring);
        want |= 1u << i;
    }
    if (want == 0)
        return schema_fail(c, ip, sp, "'type' is an empty array");
    if (cJSON_IsObject(v))
        have = T_OBJECT;
    else if (cJSON_IsArray(v))
        have = T_ARRAY;
    else if (cJSON_IsString(v))
        have = T_STRING;
    else if (cJSON_IsNumber(v))
        have = T_NUMBER | (jsonschema_is_integral(v->valuedouble) ? T_INTEGER : 0);
    else if (cJSON_IsBool(v))
        have = T_BOOLEAN;
    else if (cJSON_IsNull(v))
        have = T_NULL;
    else
        have = 0;
    return (want & have) ? 0 : type_fail(c, v, ip, want);
}

/* Fails the validation once its work is past MAX_WORK. */
static int over_budget(struct ctx *c, const struct seg *ip, const struct seg *sp)
{
    if (c->work <= MAX_WORK)
        return 0;
    return schema_fail(c, ip, sp, "validation needs more than %d lookups and comparisons "
                       "(a schema and a value both this big?)", MAX_WORK);
}

/* Add units to the work done, then over_budget. */
static int spend(struct ctx *c, long long units, const struct seg *ip, const struct seg *sp)
{
    c->work += units;
    return over_budget(c, ip, sp);
}

static int check_enum(struct ctx *c, const cJSON *e, const cJSON *v, const struct seg *ip,
                      const struct seg *sp)
{
    struct buf list;
    char *shown;

    if (!cJSON_IsArray(e))
        return schema_fail(c, ip, sp, "'enum' must be an array");
    if (spend(c, cJSON_GetArraySize(e), ip, sp) < 0)
        return -1;
    for (const cJSON *x = e->child; x; x = x->next) {
        if (jsonschema_json_equal(x, v))
            return 0;
    }
    if (c->quiet)
        return note(c, ip, 0, false);
    buf_init(&list);
    for (const cJSON *x = e->child; x; x = x->next) {
        if (list.len > LIST_MAX) {
            buf_puts(&list, ", \xe2\x80\xa6");
            break;
        }
        char *j = jsonschema_render_json(x);
        if (x != e->child)
            buf_puts(&list, ", ");
        buf_puts(&list, j);
        free(j);
    }
    shown = jsonschema_render_value(v);
    fail(c, ip, "%s is not one of: %s", shown, list.data ? list.data : "(nothing)");
    free(shown);
    buf_fini(&list);
    return -1;
}

static int check_number(struct ctx *c, const struct kw *k, const cJSON *v, const struct seg *ip,
                        const struct seg *sp)
{
    double d = v->valuedouble, lim = 0;
    char a[32], b[32];
    bool xmin_flag = cJSON_IsTrue(k->xmin), xmax_flag = cJSON_IsTrue(k->xmax);
    int r;

    jsonschema_fmt_num(a, d);
    if ((r = kw_number(c, k->minimum, false, ip, sp, &lim)) < 0)
        return -1;
    if (r > 0 && (xmin_flag ? d <= lim : d < lim)) {
        jsonschema_fmt_num(b, lim);
        return xmin_flag ? fail(c, ip, "%s must be greater than %s", a, b)
                         : fail(c, ip, "%s is less than the minimum %s", a, b);
    }
    if ((r = kw_number(c, k->maximum, false, ip, sp, &lim)) < 0)
        return -1;
    if (r > 0 && (xmax_flag ? d >= lim : d > lim)) {
        jsonschema_fmt_num(b, lim);
        return xmax_flag ? fail(c, ip, "%s must be less than %s", a, b)
                         : fail(c, ip, "%s is greater than the maximum %s", a, b);
    }
    if (!cJSON_IsBool(k->xmin)) {
        if ((r = kw_number(c, k->xmin, false, ip, sp, &lim)) < 0)
            return -1;
        if (r > 0 && d <= lim) {
            jsonschema_fmt_num(b, lim);
            return fail(c, ip, "%s must be greater than %s", a, b);
        }
    }
    if (!cJSON_IsBool(k->xmax)) {
        if ((r = kw_number(c, k->xmax, false, ip, sp, &lim)) < 0)
            return -1;
        if (r > 0 && d >= lim) {
            jsonschema_fmt_num(b, lim);
            return fail(c, ip, "%s must be less than %s", a, b);
        }
    }
    if ((r = kw_number(c, k->multiple, false, ip, sp, &lim)) < 0)
        return -1;
    if (r > 0) {
        if (lim <= 0)
            return schema_fail(c, ip, sp, "'multipleOf' must be greater than 0");
        double q = d / lim;
        if (!isfinite(q) || fabs(q - round(q)) > 1e-9 * fmax(1.0, fabs(q))) {
            jsonschema_fmt_num(b, lim);
            return fail(c, ip, "%s is not a multiple of %s", a, b);
        }
    }
    return 0;
}

static int check_string(struct ctx *c, const struct kw *k, const cJSON *v, const struct seg *ip,
                        const struct seg *sp)
{
    double lim = 0;
    int r;

    if (k->min_len || k->max_len) {
        size_t n = jsonschema_utf8_length(v->valuestring);
        if ((r = kw_number(c, k->min_len, true, ip, sp, &lim)) < 0)
            return -1;
        if (r > 0 && (double)n < lim)
            return fail(c, ip, "string is too short (%zu character%s, minimum %.0f)", n,
                        n == 1 ? "" : "s", lim);
        if ((r = kw_number(c, k->max_len, true, ip, sp, &lim)) < 0)
            return -1;
        if (r > 0 && (double)n > lim)
            return fail(c, ip, "string is too long (%zu character%s, maximum %.0f)", n,
                        n == 1 ? "" : "s", lim);
    }
    if (k->pattern) {
        if (!cJSON_IsString(k->pattern))
            return schema_fail(c, ip, sp, "'pattern' must be a string");
        int hit = pattern_match(c, k->pattern, k->pattern->valuestring, v->valuestring);
        if (over_budget(c, ip, sp) < 0)
            return -1;
        if (hit == 0) {
            if (c->quiet)
                return note(c, ip, 0, false);
            char *shown = jsonschema_render_value(v);
            fail(c, ip, "%s does not match the pattern '%s'", shown, k->pattern->valuestring);
            free(shown);
            return -1;
        }
    }
    return 0;
}

static int check_array(struct ctx *c, const struct kw *k, const cJSON *v, const struct seg *ip,
                       const struct seg *sp)
{
    int n = cJSON_GetArraySize(v), r, i;
    double lim = 0;
    const cJSON *tuple = NULL, *rest, *t;
    const char *tuple_kw, *rest_kw;

    if ((r = kw_number(c, k->min_items, true, ip, sp, &lim)) < 0)
        return -1;
    if (r > 0 && n < lim)
        return fail(c, ip, "array is too short (%d item%s, minimum %.0f)", n, n == 1 ? "" : "s",
                    lim);
    if ((r = kw_number(c, k->max_items, true, ip, sp, &lim)) < 0)
        return -1;
    if (r > 0 && n > lim)
        return fail(c, ip, "array is too long (%d item%s, maximum %.0f)", n, n == 1 ? "" : "s",
                    lim);

    if (k->prefix) {
        if (!cJSON_IsArray(k->prefix))
            return schema_fail(c, ip, sp, "'prefixItems' must be an array");
        tuple = k->prefix;
        tuple_kw = "prefixItems";
        rest = k->items;
        rest_kw = "items";
    } else if (cJSON_IsArray(k->items)) {
        tuple = k->items;
        tuple_kw = "items";
        rest = k->add_items;
        rest_kw = "additionalItems";
    } else {
        tuple_kw = "items";
        rest = k->items;
        rest_kw = "items";
    }
    struct seg tseg = seg_key(sp, tuple_kw), rseg = seg_key(sp, rest_kw);
    t = tuple ? tuple->child : NULL;
    i = 0;
    for (const cJSON *e = v->child; e; e = e->next, i++) {
        struct seg is = seg_idx(ip, i);
        if (t) {
            struct seg ts = seg_idx(&tseg, i);
            if (check_child(c, t, e, &is, &ts) < 0)
                return -1;
            t = t->next;
        } else if (cJSON_IsFalse(rest)) {
            return fail(c, ip, "array is too long (%d item%s, maximum %d)", n, n == 1 ? "" : "s",
                        i);
        } else if (rest && check_child(c, rest, e, &is, &rseg) < 0) {
            return -1;
        }
    }

    int j;
    if (cJSON_IsTrue(k->unique) && jsonschema_first_repeat(v, &i, &j))
        return fail(c, ip, "items %d and %d are equal, expected unique items", i, j);
    return 0;
}

/* Is key declared by properties, or matched by a patternProperties key
 * (an unsupported pattern counts as a match)? */
static bool key_declared(struct ctx *c, const struct kw *k, const char *key)
{
    if (cJSON_IsObject(k->props) && cJSON_GetObjectItemCaseSensitive(k->props, key))
        return true;
    if (cJSON_IsObject(k->pattern_props)) {
        for (const cJSON *p = k->pattern_props->child; p; p = p->next) {
            if (pattern_match(c, p, p->string, key) != 0)
                return true;
        }
    }
    return false;
}

static int unknown_property(struct ctx *c, const struct kw *k, const char *key,
                            const struct seg *ip)
{
    struct buf allowed;
    int n = 0;

    if (c->quiet)
        return note(c, ip, 0, false);
    buf_init(&allowed);
    if (cJSON_IsObject(k->props)) {
        for (const cJSON *p = k->props->child; p; p = p->next) {
            if (allowed.len > LIST_MAX) {
                buf_puts(&allowed, ", \xe2\x80\xa6");
                break;
            }
            buf_printf(&allowed, "%s%s", n++ ? ", " : "", p->string);
        }
    }
    if (cJSON_IsObject(k->pattern_props)) {
        for (const cJSON *p = k->pattern_props->child; p; p = p->next) {
            buf_printf(&allowed, "%snames matching '%s'", n++ ? ", " : "", p->string);
        }
    }
    if (n)
        fail(c, ip, "unknown property '%s' (allowed: %s)", key, allowed.data ? allowed.data : "");
    else
        fail(c, ip, "unknown property '%s' (no properties are allowed)", key);
    buf_fini(&allowed);
    return -1;
}

static int check_object(struct ctx *c, const struct kw *k, const cJSON *v, const struct seg *ip,
                        const struct seg *sp)
{
    int n = cJSON_GetArraySize(v), r;
    double lim = 0;

    if (k->props && !cJSON_IsObject(k->props))
        return schema_fail(c, ip, sp, "'properties' must be an object");
    if (k->pattern_props && !cJSON_IsObject(k->pattern_props))
        return schema_fail(c, ip, sp, "'patternProperties' must be an object");
    /* each lookup by name scans the object it looks in */
    long long props = k->props ? cJSON_GetArraySize(k->props) : 0;
    long long req = cJSON_IsArray(k->required) ? cJSON_GetArraySize(k->required) : 0;
    if (spend(c, (k->add_props ? (long long)n * props : 0) + (req + props) * n, ip, sp) < 0)
        return -1;
    if (k->add_props) {
        struct seg as = seg_key(sp, "additionalProperties");
        for (const cJSON *m = v->child; m; m = m->next) {
            bool declared = key_declared(c, k, m->string);
            if (over_budget(c, ip, sp) < 0)   /* after the patterns key_declared tried */
                return -1;
            if (declared)
                continue;
            if (cJSON_IsFalse(k->add_props))
                return unknown_property(c, k, m->string, ip);
            struct seg ms = seg_key(ip, m->string);
            if (check_child(c, k->add_props, m, &ms, &as) < 0)
                return -1;
        }
    }
    if (k->required) {
        if (!cJSON_IsArray(k->required))
            return schema_fail(c, ip, sp, "'required' must be an array");
        for (const cJSON *q = k->required->child; q; q = q->next) {
            if (!cJSON_IsString(q))
                return schema_fail(c, ip, sp, "'required' must hold property names");
            if (!cJSON_GetObjectItemCaseSensitive(v, q->valuestring))
                return fail(c, ip, "missing required property '%s'", q->valuestring);
        }
    }
    if (k->props) {
        struct seg ps = seg_key(sp, "properties");
        for (const cJSON *p = k->props->child; p; p = p->next) {
            const cJSON *m = cJSON_GetObjectItemCaseSensitive(v, p->string);
            if (!m)
                continue;
            struct seg ms = seg_key(ip, p->string), pss = seg_key(&ps, p->string);
            if (check_child(c, p, m, &ms, &pss) < 0)
                return -1;
        }
    }
    if (k->pattern_props) {
        struct seg pps = seg_key(sp, "patternProperties");
        for (const cJSON *m = v->child; m; m = m->next) {
            for (const cJSON *p = k->pattern_props->child; p; p = p->next) {
                struct seg ms = seg_key(ip, m->string), pss = seg_key(&pps, p->string);
                int hit = pattern_match(c, p, p->string, m->string);
                if (over_budget(c, ip, sp) < 0)
                    return -1;
                if (hit != 1)
                    continue;
                if (check_child(c, p, m, &ms, &pss) < 0)
                    return -1;
            }
        }
    }
    if ((r = kw_number(c, k->min_props, true, ip, sp, &lim)) < 0)
        return -1;
    if (r > 0 && n < lim)
        return fail(c, ip, "object has too few properties (%d, minimum %.0f)", n, lim);
    if ((r = kw_number(c, k->max_props, true, ip, sp, &lim)) < 0)
        return -1;
    if (r > 0 && n > lim)
        return fail(c, ip, "object has too many properties (%d, maximum %.0f)", n, lim);
    return 0;
}

/* === Combinators === */

struct outcome {
    int depth;
    unsigned types;
    bool schema;
};

/* Is a closer to matching than b? The failure deepest in the instance,
 * then a failure that got past the type check. */
static bool closer(const struct outcome *a, const struct outcome *b)
{
    if (a->depth != b->depth)
        return a->depth > b->depth;
    return !a->types && b->types;
}

static int check_branches(struct ctx *c, const cJSON *arr, const char *kwname, bool one,
                          const cJSON *v, const struct seg *ip, const struct seg *sp)
{
    struct seg ks = seg_key(sp, kwname), bs;
    struct outcome best_o = {0};
    int n = 0, matched = 0, first = -1, second = -1, best = -1;
    unsigned all_types = 0;
    bool all_type_here = true, broken = false;
    const cJSON *b, *best_b = NULL;

    if (!cJSON_IsArray(arr) || !arr->child)
        return schema_fail(c, ip, sp, "'%s' must be a non-empty array", kwname);
    c->quiet++;
    for (b = arr->child; b; b = b->next, n++) {
        bs = seg_idx(&ks, n);
        if (check(c, b, v, ip, &bs) == 0) {
            if (matched++ == 0)
                first = n;
            else
                second = n;
            if (!one || matched > 1)
                break;
            continue;
        }
        struct outcome o = {c->fail_depth, c->fail_types, c->fail_schema};
        if (!o.types || o.schema || o.depth != ip->depth)
            all_type_here = false;
        all_types |= o.types;
        if (o.schema || best < 0 || closer(&o, &best_o)) {
            best = n;
            best_o = o;
            best_b = b;
        }
        if (o.schema) {
            broken = true;   /* a broken schema is reported once reached */
            break;
        }
    }
    c->quiet--;
    if (!broken && (matched == 1 || (matched > 1 && !one)))
        return 0;
    n = cJSON_GetArraySize(arr);
    if (!broken && matched > 1)
        return fail(c, ip, "matches more than one of the %d allowed schemas (#%d and #%d), "
                    "expected exactly one", n, first + 1, second + 1);
    if (all_type_here)
        return type_fail(c, v, ip, all_types);
    if (!c->quiet && !c->msg) {
        /* Run the closest branch again, loudly, for its message. */
        bs = seg_idx(&ks, best);
        check(c, best_b, v, ip, &bs);
        if (n > 1 && !best_o.schema && c->msg) {
            /* Nested anyOfs keep only the innermost error. */
            char *sub = c->msg;
            const char *inner = sub + c->leaf;
            c->msg = NULL;
            fail(c, ip, "does not match any of the %d allowed schemas; closest is #%d: %s", n,
                 best + 1, inner);
            c->leaf = strlen(c->msg) - strlen(inner);
            free(sub);
        }
    }
    c->fail_depth = best_o.depth;
    c->fail_types = best_o.types;
    c->fail_schema = best_o.schema;
    return -1;
}

static int check_ref(struct ctx *c, const cJSON *ref, const cJSON *v, const struct seg *ip,
                     const struct seg *sp)
{
    const cJSON *target;
    struct seg rs;
    int rc;

    if (!cJSON_IsString(ref))
        return schema_fail(c, ip, sp, "'$ref' must be a string");
    if (c->refs >= MAX_REFS)
        return schema_fail(c, ip, sp, "more than %d nested $refs without progress "
                           "(a $ref loop at '%s'?)", MAX_REFS, ref->valuestring);
    long long work = 0;
    target = jsonschema_ref_resolve(c->root, ref->valuestring, &work);
    if (spend(c, work, ip, sp) < 0)
        return -1;
    if (!target)
        return schema_fail(c, ip, sp, "cannot resolve $ref '%s'", ref->valuestring);
    rs = (struct seg){.key = ref->valuestring, .abs = true};
    c->refs++;
    rc = check(c, target, v, ip, &rs);
    c->refs--;
    return rc;
}

static int check_keywords(struct ctx *c, const cJSON *s, const cJSON *v, const struct seg *ip,
                          const struct seg *sp)
{
    struct kw k;

    kw_collect(s, &k);
    if (k.ref && check_ref(c, k.ref, v, ip, sp) < 0)
        return -1;
    if (k.type && check_type(c, k.type, v, ip, sp) < 0)
        return -1;
    if (k.cnst && !jsonschema_json_equal(k.cnst, v)) {
        if (c->quiet)
            return note(c, ip, 0, false);
        char *want = jsonschema_render_json(k.cnst), *got = jsonschema_render_value(v);
        fail(c, ip, "must be %s, got %s", want, got);
        free(want);
        free(got);
        return -1;
    }
    if (k.enm && check_enum(c, k.enm, v, ip, sp) < 0)
        return -1;
    if (cJSON_IsNumber(v) && check_number(c, &k, v, ip, sp) < 0)
        return -1;
    if (cJSON_IsString(v) && check_string(c, &k, v, ip, sp) < 0)
        return -1;
    if (cJSON_IsArray(v) && check_array(c, &k, v, ip, sp) < 0)
        return -1;
    if (cJSON_IsObject(v) && check_object(c, &k, v, ip, sp) < 0)
        return -1;
    if (k.all) {
        struct seg as = seg_key(sp, "allOf");
        int i = 0;
        if (!cJSON_IsArray(k.all))
            return schema_fail(c, ip, sp, "'allOf' must be an array");
        for (const cJSON *b = k.all->child; b; b = b->next, i++) {
            struct seg bs = seg_idx(&as, i);
            if (check(c, b, v, ip, &bs) < 0)
                return -1;
        }
    }
    if (k.any && check_branches(c, k.any, "anyOf", false, v, ip, sp) < 0)
        return -1;
    if (k.one && check_branches(c, k.one, "oneOf", true, v, ip, sp) < 0)
        return -1;
    if (k.not_) {
        struct seg ns = seg_key(sp, "not");
        int rc;
        c->quiet++;
        rc = check(c, k.not_, v, ip, &ns);
        c->quiet--;
        if (rc == 0)
            return fail(c, ip, "must not match the schema in 'not'");
        if (c->fail_schema)   /* broken, not merely failed: report it */
            return c->quiet || c->msg ? -1 : check(c, k.not_, v, ip, &ns);
    }
    return 0;
}

static int check(struct ctx *c, const cJSON *s, const cJSON *v, const struct seg *ip,
                 const struct seg *sp)
{
    int rc;

    if (cJSON_IsTrue(s))
        return 0;
    if (cJSON_IsFalse(s))
        return fail(c, ip, "no value is allowed here (the schema is false)");
    if (!cJSON_IsObject(s))
        return schema_fail(c, ip, sp, "expected a schema (object or boolean), got %s",
                           jsonschema_value_type_name(s));
    if (c->frames >= MAX_FRAMES)
        return schema_fail(c, ip, sp, "schema nested deeper than %d levels", MAX_FRAMES);
    if (++c->steps > MAX_STEPS)
        return schema_fail(c, ip, sp, "validation needs more than %d steps "
                           "(recursive anyOf/oneOf, or a $ref loop?)", MAX_STEPS);
    c->frames++;
    rc = check_keywords(c, s, v, ip, sp);
    c->frames--;
    return rc;
}

/* === Public === */

int jsonschema_validate(const cJSON *schema, const cJSON *instance, const char *root_name,
                        char **errmsg)
{
    struct ctx c;
    struct seg ip = {.key = root_name ? root_name : "$"};
    struct seg sp = {.key = "#", .abs = true};
    int rc;

    if (errmsg)
        *errmsg = NULL;
    memset(&c, 0, offsetof(struct ctx, re));
    c.root = schema;
    if (!errmsg)
        c.quiet = 1;
    if (!schema)
        rc = schema_fail(&c, &ip, &sp, "no schema");
    else if (!instance)
        rc = fail(&c, &ip, "no value");
    else
        rc = check(&c, schema, instance, &ip, &sp);
    for (int i = 0; i < c.nre; i++) {
        if (c.re[i].ok)
            regfree(&c.re[i].re);
    }
    if (rc == 0)
        return 0;
    if (errmsg)
        *errmsg = c.msg ? c.msg : xasprintf("%s: invalid", ip.key);
    else
        free(c.msg);
    return -1;
}
