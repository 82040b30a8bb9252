/* ydoc.c — YAML/JSON into a position-keeping tree (see ydoc.h).
 *
 * libyaml's event parser builds the tree; every node keeps the line and
 * column where it started. Refused: more than one document, anchors and
 * aliases, non-scalar keys, duplicate keys, tags other than the core
 * schema's (a scalar tagged !!str or ! counts as quoted: it is a string).
 *
 * JSON goes through libyaml too, so JSON errors have positions. Text that
 * is valid JSON (checked with cJSON) is first rewritten in place, keeping
 * every column of every node: tabs outside strings become spaces (YAML does
 * not allow tabs everywhere JSON does) and UTF-16 surrogate pairs
 * (\ud83d\ude00, which libyaml refuses) become one \U escape, padded with
 * spaces after the string's closing quote. A file whose name ends in .json
 * must be strict JSON. */
#include "ydoc.h"
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

void ydoc_free(struct ydoc *d)
{
    if (!d)
        return;
    arena_fini(&d->mem);
    free(d->name);
    free(d);
}

static char *errat(const char *name, int line, int col, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static char *errat(const char *name, int line, int col, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *msg = xvasprintf(fmt, ap);
    va_end(ap);
    char *r = xasprintf("%s:%d:%d: %s", name, line, col, msg);
    free(msg);
    return r;
}

char *ydoc_errorf(const struct ydoc *d, const struct ydoc_node *n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *msg = xvasprintf(fmt, ap);
    va_end(ap);
    char *r = n ? xasprintf("%s:%d:%d: %s", d->name, n->line, n->col, msg)
                : xasprintf("%s: %s", d->name, msg);
    free(msg);
    return r;
}

char *ydoc_check_keys(const struct ydoc *d, const struct ydoc_node *map, const char *where,
                      const char *const *allowed)
{
    for (size_t i = 0; map && i < map->npairs; i++) {
        const char *k = map->pairs[i].key->str;
        int ok = 0;
        for (size_t j = 0; allowed[j] && !ok; j++)
            ok = strcmp(k, allowed[j]) == 0;
        if (ok)
            continue;
        struct buf b;
        buf_init(&b);
        for (size_t j = 0; allowed[j]; j++)
            buf_printf(&b, "%s%s", j ? ", " : "", allowed[j]);
        char *e = ydoc_errorf(d, map->pairs[i].key, "unknown key '%s' in %s; expected one of: %s",
                              k, where, b.data ? b.data : "");
        buf_fini(&b);
        return e;
    }
    return NULL;
}

const char *ydoc_kind_name(enum ydoc_kind k)
{
    return k == YDOC_MAP ? "mapping" : k == YDOC_SEQ ? "sequence" : "scalar";
}

struct parse {
    yaml_parser_t p;
    const char *name;
    const char *text;            /* what libyaml reads, for error hints */
    size_t len;
    char *err;
    /* The tree goes into the document's arena: a 300,000-task batch is
     * over a million nodes, and a malloc each cost more in headers and
     * rounding than the nodes themselves. Children wait on one stack
     * until their container ends, then move into an array of the exact
     * size (a map's as key, value, key, value...). */
    struct arena *mem;
    struct ydoc_node **stack;
    size_t nstack, capstack;
};

static struct ydoc_node *node_new(struct parse *ps, enum ydoc_kind k, const yaml_mark_t *m)
{
    struct ydoc_node *n = arena_xalloc(ps->mem, sizeof *n);
    memset(n, 0, sizeof *n);
    n->kind = k;
    n->line = (int)m->line + 1;
    n->col = (int)m->column + 1;
    return n;
}

static void push(struct parse *ps, struct ydoc_node *n)
{
    if (ps->nstack == ps->capstack) {
        ps->capstack = ps->capstack ? ps->capstack * 2 : 64;
        ps->stack = xrealloc(ps->stack, ps->capstack * sizeof *ps->stack);
    }
    ps->stack[ps->nstack++] = n;
}

/* Move the children above base on the stack into container n. */
static void adopt(struct parse *ps, struct ydoc_node *n, size_t base)
{
    struct ydoc_node **c = ps->stack + base;
    size_t k = ps->nstack - base;
    ps->nstack = base;
    if (k == 0)
        return;
    if (n->kind == YDOC_SEQ) {
        n->items = arena_xalloc(ps->mem, k * sizeof *n->items);
        memcpy(n->items, c, k * sizeof *n->items);
        n->nitems = k;
        return;
    }
    n->npairs = k / 2;
    n->pairs = arena_xalloc(ps->mem, n->npairs * sizeof *n->pairs);
    for (size_t i = 0; i < n->npairs; i++) {
        n->pairs[i].key = c[2 * i];
        n->pairs[i].value = c[2 * i + 1];
    }
}

/* Whether the indentation of line (0-based) in text contains a tab. */
static int indent_has_tab(const char *text, size_t len, size_t line)
{
    size_t i = 0;
    for (size_t l = 0; l < line && i < len; i++)
        if (text[i] == '\n')
            l++;
    for (; i < len && (text[i] == ' ' || text[i] == '\t'); i++)
        if (text[i] == '\t')
            return 1;
    return 0;
}

static int next_event(struct parse *ps, yaml_event_t *ev)
{
    if (yaml_parser_parse(&ps->p, ev))
        return 0;
    const yaml_mark_t *m = &ps->p.problem_mark;
    const char *ctx = ps->p.context;
    const char *hint = indent_has_tab(ps->text, ps->len, m->line)
                           ? " (YAML does not allow tabs for indentation; use spaces)" : "";
    ps->err = errat(ps->name, (int)m->line + 1, (int)m->column + 1, "%s%s%s%s",
                    ps->p.problem ? ps->p.problem : "syntax error", ctx ? " " : "",
                    ctx ? ctx : "", hint);
    return -1;
}

/* Tags: the core schema's are accepted (a scalar tagged !!str or with the
 * non-specific "!" is a string); any other tag is refused. Returns 1 when
 * the scalar must be read as a string, 0 otherwise, -1 on refusal. */
static int check_tag(struct parse *ps, const yaml_event_t *ev, const yaml_char_t *utag)
{
    static const char *const core[] = {"null", "bool", "int", "float", "map", "seq"};
    const char *tag = (const char *)utag;
    if (!tag)
        return 0;
    if (!strcmp(tag, "!") || !strcmp(tag, YAML_STR_TAG))
        return 1;
    if (!strncmp(tag, "tag:yaml.org,2002:", 18))
        for (size_t i = 0; i < ARRAY_LEN(core); i++)
            if (!strcmp(tag + 18, core[i]))
                return 0;
    ps->err = errat(ps->name, (int)ev->start_mark.line + 1, (int)ev->start_mark.column + 1,
                    "tag '%s' is not supported; remove it", tag);
    return -1;
}

/* The keys of one mapping so far, to find a repeated one: compared one by
 * one while there are few, then through a hash table (open addressing,
 * at most half full), so a mapping of a million keys is not a trillion
 * compares. Keys are equal as C strings, as cJSON will hold them. */
struct keyset {
    struct ydoc_node **slot;
    size_t cap;
};

enum { KEYSET_LINEAR = 32 };

static size_t key_hash(const char *s)
{
    uint64_t h = util_hash_str(s);
    return (size_t)(h ^ (h >> 29));
}

/* The slot for key: where it is, or the empty one where it would go. */
static struct ydoc_node **key_slot(const struct keyset *ks, const char *key)
{
    size_t i = key_hash(key) & (ks->cap - 1);
    while (ks->slot[i] && strcmp(ks->slot[i]->str, key) != 0)
        i = (i + 1) & (ks->cap - 1);
    return &ks->slot[i];
}

static void keyset_grow(struct keyset *ks, struct ydoc_node *const *pairs, size_t n)
{
    free(ks->slot);
    ks->cap = ks->cap ? ks->cap * 2 : 4 * KEYSET_LINEAR;
    ks->slot = xcalloc(ks->cap, sizeof *ks->slot);
    for (size_t i = 0; i < n; i++)
        *key_slot(ks, pairs[2 * i]->str) = pairs[2 * i];
}

/* The earlier key of the mapping equal to key, or NULL when there is
 * none (then key counts as seen). pairs: the n pairs so far as they wait
 * on the stack, key, value, key, value... */
static struct ydoc_node *key_seen(struct keyset *ks, struct ydoc_node *const *pairs, size_t n,
                                  struct ydoc_node *key)
{
    if (n < KEYSET_LINEAR) {
        for (size_t i = 0; i < n; i++)
            if (strcmp(pairs[2 * i]->str, key->str) == 0)
                return pairs[2 * i];
        return NULL;
    }
    if ((n + 1) * 2 > ks->cap)
        keyset_grow(ks, pairs, n);
    struct ydoc_node **at = key_slot(ks, key->str);
    if (*at)
        return *at;
    *at = key;
    return NULL;
}

/* Build the node that starts with ev (already read). */
static struct ydoc_node *build(struct parse *ps, yaml_event_t *ev, int depth)
{
    if (depth > 200) {
        ps->err = errat(ps->name, (int)ev->start_mark.line + 1, (int)ev->start_mark.column + 1,
                        "nesting is too deep");
        return NULL;
    }
    switch (ev->type) {
    case YAML_ALIAS_EVENT:
        ps->err = errat(ps->name, (int)ev->start_mark.line + 1, (int)ev->start_mark.column + 1,
                        "aliases (*%s) are not supported; write the value out",
                        (const char *)ev->data.alias.anchor);
        return NULL;
    case YAML_SCALAR_EVENT: {
        if (ev->data.scalar.anchor) {
            ps->err = errat(ps->name, (int)ev->start_mark.line + 1,
                            (int)ev->start_mark.column + 1,
                            "anchors (&%s) are not supported", ev->data.scalar.anchor);
            return NULL;
        }
        int as_string = check_tag(ps, ev, ev->data.scalar.tag);
        if (as_string < 0)
            return NULL;
        struct ydoc_node *n = node_new(ps, YDOC_SCALAR, &ev->start_mark);
        n->len = ev->data.scalar.length;
        n->str = arena_xalloc(ps->mem, n->len + 1);
        memcpy(n->str, ev->data.scalar.value, n->len);
        n->str[n->len] = '\0';
        n->quoted = as_string || ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE;
        return n;
    }
    case YAML_SEQUENCE_START_EVENT:
    case YAML_MAPPING_START_EVENT: {
        int is_map = ev->type == YAML_MAPPING_START_EVENT;
        const yaml_char_t *anchor = is_map ? ev->data.mapping_start.anchor
                                           : ev->data.sequence_start.anchor;
        const yaml_char_t *tag = is_map ? ev->data.mapping_start.tag
                                        : ev->data.sequence_start.tag;
        if (!anchor && check_tag(ps, ev, tag) != 0) {
            if (!ps->err)
                ps->err = errat(ps->name, (int)ev->start_mark.line + 1,
                                (int)ev->start_mark.column + 1,
                                "tag '%s' cannot be used on a %s", (const char *)tag,
                                is_map ? "mapping" : "sequence");
            return NULL;
        }
        if (anchor) {
            ps->err = errat(ps->name, (int)ev->start_mark.line + 1,
                            (int)ev->start_mark.column + 1, "anchors (&%s) are not supported",
                            anchor);
            return NULL;
        }
        struct ydoc_node *n = node_new(ps, is_map ? YDOC_MAP : YDOC_SEQ, &ev->start_mark);
        size_t base = ps->nstack;
        struct keyset keys = {NULL, 0};
        for (;;) {
            yaml_event_t e;
            if (next_event(ps, &e) < 0)
                goto fail;
            if (e.type == YAML_SEQUENCE_END_EVENT || e.type == YAML_MAPPING_END_EVENT) {
                yaml_event_delete(&e);
                adopt(ps, n, base);
                free(keys.slot);
                return n;
            }
            struct ydoc_node *child = build(ps, &e, depth + 1);
            yaml_event_delete(&e);
            if (!child)
                goto fail;
            if (!is_map) {
                push(ps, child);
                continue;
            }
            if (child->kind != YDOC_SCALAR) {
                ps->err = errat(ps->name, child->line, child->col,
                                "a mapping key must be a plain value, not a %s",
                                ydoc_kind_name(child->kind));
                goto fail;
            }
            const struct ydoc_node *first =
                key_seen(&keys, ps->stack + base, (ps->nstack - base) / 2, child);
            if (first) {
                ps->err = errat(ps->name, child->line, child->col,
                                "duplicate key '%s' (first at line %d)", child->str,
                                first->line);
                goto fail;
            }
            if (next_event(ps, &e) < 0)
                goto fail;
            struct ydoc_node *val = build(ps, &e, depth + 1);
            yaml_event_delete(&e);
            if (!val)
                goto fail;
            push(ps, child);
            push(ps, val);
        }
    fail:
        ps->nstack = base;
        free(keys.slot);
        return NULL;
    }
    default:
        ps->err = errat(ps->name, (int)ev->start_mark.line + 1, (int)ev->start_mark.column + 1,
                        "unexpected YAML event");
        return NULL;
    }
}

/* === JSON === */

static int ydoc_load_prepared(const char *name, const char *text, size_t len, char *prepared,
                              struct ydoc **out, char **errmsg);

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* Line and column (1-based, counting UTF-8 characters) of offset in text. */
static void text_position(const char *text, size_t off, int *line, int *col)
{
    *line = 1;
    *col = 1;
    for (size_t i = 0; i < off; i++) {
        if (text[i] == '\n') {
            (*line)++;
            *col = 1;
        } else if (((unsigned char)text[i] & 0xC0) != 0x80) {
            (*col)++;
        }
    }
}

static int hex4(const char *p, unsigned *out)
{
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        int c = (unsigned char)p[i];
        if (!isxdigit(c))
            return -1;
        v = v * 16 + (unsigned)(isdigit(c) ? c - '0' : tolower(c) - 'a' + 10);
    }
    *out = v;
    return 0;
}

/* The rewrite described at the top of the file; text must be valid JSON.
 * The result has the same length and every node the same position. */
static char *json_rewrite(const char *text, size_t len)
{
    char *t = xmalloc(len + 1);
    size_t o = 0, pad = 0;
    int in_str = 0;
    for (size_t k = 0; k < len; k++) {
        char c = text[k];
        if (!in_str) {
            in_str = c == '"';
            t[o++] = c == '\t' ? ' ' : c;
            continue;
        }
        unsigned hi, lo;
        if (c == '\\' && k + 11 < len && text[k + 1] == 'u' && hex4(text + k + 2, &hi) == 0 &&
            hi >= 0xD800 && hi <= 0xDBFF && text[k + 6] == '\\' && text[k + 7] == 'u' &&
            hex4(text + k + 8, &lo) == 0 && lo >= 0xDC00 && lo <= 0xDFFF) {
            unsigned cp = 0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00);
            snprintf(t + o, 11, "\\U%08X", cp);
            o += 10;
            pad += 2;
            k += 11;
        } else if (c == '\\' && k + 1 < len) {
            t[o++] = c;
            t[o++] = text[++k];
        } else if (c == '"') {
            t[o++] = c;
            for (; pad; pad--)
                t[o++] = ' ';
            in_str = 0;
        } else {
            t[o++] = c;
        }
    }
    t[o] = '\0';
    return t;
}

/* The innermost bracket ('{' or '[') still open at offset end of JSON
 * text, or 0. */
static char innermost_open(const char *text, size_t end)
{
    char stack[1024];
    size_t depth = 0;
    int in_str = 0;
    for (size_t i = 0; i < end; i++) {
        char c = text[i];
        if (in_str) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_str = 0;
        } else if (c == '"') {
            in_str = 1;
        } else if (c == '{' || c == '[') {
            if (depth == sizeof stack)
                return 0;
            stack[depth++] = c;
        } else if ((c == '}' || c == ']') && depth) {
            depth--;
        }
    }
    return depth ? stack[depth - 1] : 0;
}

/* Decide how text is read. JSON-looking text (first non-space character {
 * or [) that cJSON accepts is rewritten into *prepared; text in a file
 * named *.json must be such text, else an error says where it stops being
 * JSON. Anything else is left to libyaml (*prepared = NULL). */
static int json_prepare(const char *name, const char *text, size_t len, char **prepared,
                        char **errmsg)
{
    *prepared = NULL;
    size_t i = 0;
    if (len >= 3 && !memcmp(text, "\xEF\xBB\xBF", 3))
        i = 3;   /* a UTF-8 byte order mark */
    size_t body = i;
    while (i < len && isspace((unsigned char)text[i]))
        i++;
    int looks = i < len && (text[i] == '{' || text[i] == '[');
    int must = ends_with(name, ".json");
    if (!looks && !must)
        return 0;
    const char *end = NULL;
    cJSON *j = cJSON_ParseWithLengthOpts(text + body, len - body, &end, 0);
    cJSON_Delete(j);
    size_t off = end && end >= text && end <= text + len ? (size_t)(end - text) : body;
    if (j) {
        while (off < len && isspace((unsigned char)text[off]))
            off++;
        if (off == len) {
            *prepared = json_rewrite(text, len);
            return 0;
        }
    }
    if (!must)
        return 0;
    /* cJSON stops one character after a key that does not start with '"'. */
    if (!j && off > body + 1 && off <= len && !isspace((unsigned char)text[off - 1]) &&
        text[off - 1] != '"') {
        size_t p = off - 1;
        while (p > body && isspace((unsigned char)text[p - 1]))
            p--;
        if (p > body && (text[p - 1] == '{' || text[p - 1] == ',') &&
            innermost_open(text + body, off - 1 - body) == '{')
            off--;
    }
    int line, col;
    text_position(text + body, off - body, &line, &col);
    char c = off < len ? text[off] : '\0';
    size_t before = off;
    while (before > body && isspace((unsigned char)text[before - 1]))
        before--;
    const char *what;
    if (j)
        what = "unexpected text after the JSON value";
    else if (off >= len)
        what = "invalid JSON: the file ends too early";
    else if (c == '/')
        what = "invalid JSON: comments are not allowed";
    else if ((c == '}' || c == ']') && before > body && text[before - 1] == ',')
        what = "invalid JSON: a trailing comma is not allowed";
    else if (c == '\'')
        what = "invalid JSON: strings need double quotes";
    else if (isalpha((unsigned char)c) && before > body &&
             (text[before - 1] == '{' || text[before - 1] == ','))
        what = "invalid JSON: keys need double quotes";
    else
        what = "invalid JSON here (a missing comma, quote or bracket?)";
    *errmsg = xasprintf("%s:%d:%d: %s", name, line, col, what);
    return -1;
}

/* VS Code's mcp.json is JSON with comments: in a *.json file, // and
 * block comments outside strings become spaces (newlines kept, so every
 * position stays). Returns a copy, or NULL when there is no comment. */
static char *blank_comments(const char *name, const char *text, size_t len)
{
    if (!ends_with(name, ".json"))
        return NULL;
    char *t = NULL;
    int in_str = 0;
    for (size_t i = 0; i < len; i++) {
        const char *src = t ? t : text;
        if (in_str) {
            if (src[i] == '\\')
                i++;
            else if (src[i] == '"')
                in_str = 0;
            continue;
        }
        if (src[i] == '"') {
            in_str = 1;
            continue;
        }
        if (src[i] != '/' || i + 1 >= len || (src[i + 1] != '/' && src[i + 1] != '*'))
            continue;
        if (!t)
            t = xstrndup(text, len);
        int block = text[i + 1] == '*';
        size_t j = i;
        for (; j < len; j++) {
            if (!block && text[j] == '\n')
                break;
            int closes = block && j > i + 2 && text[j - 1] == '*' && text[j] == '/';
            if (text[j] != '\n')
                t[j] = ' ';
            if (closes) {
                j++;
                break;
            }
        }
        i = j - 1;
    }
    return t;
}

int ydoc_load_string(const char *name, const char *text, size_t len, struct ydoc **out,
                     char **errmsg)
{
    char *uncommented = blank_comments(name, text, len);
    if (uncommented)
        text = uncommented;
    char *prepared;
    int rc = json_prepare(name, text, len, &prepared, errmsg);
    if (rc < 0) {
        free(uncommented);
        return -1;
    }
    rc = ydoc_load_prepared(name, text, len, prepared, out, errmsg);
    free(uncommented);
    return rc;
}

static int ydoc_load_prepared(const char *name, const char *text, size_t len, char *prepared,
                              struct ydoc **out, char **errmsg)
{
    struct parse ps;
    memset(&ps, 0, sizeof ps);
    ps.name = name;
    ps.text = prepared ? prepared : text;
    ps.len = len;
    if (!yaml_parser_initialize(&ps.p)) {
        free(prepared);
        *errmsg = xasprintf("%s: cannot initialise the YAML parser", name);
        return -1;
    }
    yaml_parser_set_input_string(&ps.p, (const unsigned char *)ps.text, len);
    struct ydoc *d = xcalloc(1, sizeof *d);
    d->name = xstrdup(name);
    arena_init(&d->mem, NULL, 0);
    ps.mem = &d->mem;
    yaml_event_t ev;
    int docs = 0;
    for (;;) {
        if (next_event(&ps, &ev) < 0)
            goto fail;
        yaml_event_type_t ty = ev.type;
        if (ty == YAML_STREAM_END_EVENT) {
            yaml_event_delete(&ev);
            break;
        }
        if (ty == YAML_DOCUMENT_START_EVENT) {
            if (++docs > 1) {
                ps.err = errat(name, (int)ev.start_mark.line + 1, (int)ev.start_mark.column + 1,
                               "only one YAML document is allowed in the file");
                yaml_event_delete(&ev);
                goto fail;
            }
        } else if (ty != YAML_STREAM_START_EVENT && ty != YAML_DOCUMENT_END_EVENT) {
            d->root = build(&ps, &ev, 0);
            if (!d->root) {
                yaml_event_delete(&ev);
                goto fail;
            }
        }
        yaml_event_delete(&ev);
    }
    /* An empty plain scalar as the whole document means an empty file. */
    if (d->root && d->root->kind == YDOC_SCALAR && !d->root->quoted && d->root->len == 0)
        d->root = NULL;
    yaml_parser_delete(&ps.p);
    free(ps.stack);
    free(prepared);
    *out = d;
    return 0;
fail:
    yaml_parser_delete(&ps.p);
    free(ps.stack);
    free(prepared);
    ydoc_free(d);
    *errmsg = ps.err ? ps.err : xasprintf("%s: cannot parse", name);
    return -1;
}

int ydoc_load_file(const char *path, struct ydoc **out, char **errmsg)
{
    char *text;
    size_t len;
    int rc = util_read_file_max(path, YDOC_MAX_FILE, &text, &len);
    const char *name = strcmp(path, "-") == 0 ? "<stdin>" : path;
    if (rc == -EFBIG) {
        *errmsg = xasprintf("cannot read %s: larger than %d MB", name, YDOC_MAX_FILE >> 20);
        return -1;
    }
    if (rc < 0) {
        *errmsg = xasprintf("cannot read %s: %s", name, strerror(-rc));
        return -1;
    }
    rc = ydoc_load_string(name, text, len, out, errmsg);
    free(text);
    return rc;
}

const struct ydoc_node *ydoc_map_get(const struct ydoc_node *map, const char *key)
{
    if (!map || map->kind != YDOC_MAP)
        return NULL;
    for (size_t i = 0; i < map->npairs; i++)
        if (strcmp(map->pairs[i].key->str, key) == 0)
            return map->pairs[i].value;
    return NULL;
}

static int all_match(const char *s, const char *set, size_t from)
{
    if (!s[from])
        return 0;
    for (size_t i = from; s[i]; i++)
        if (!strchr(set, s[i]))
            return 0;
    return 1;
}

enum ydoc_scalar_type ydoc_scalar_type(const struct ydoc_node *n)
{
    if (!n || n->kind != YDOC_SCALAR)
        return YDOC_T_STRING;
    if (n->quoted)
        return YDOC_T_STRING;
    const char *s = n->str;
    if (!*s || !strcmp(s, "~") || !strcmp(s, "null") || !strcmp(s, "Null") || !strcmp(s, "NULL"))
        return YDOC_T_NULL;
    static const char *const bools[] = {"true", "True", "TRUE", "false", "False", "FALSE"};
    for (size_t i = 0; i < ARRAY_LEN(bools); i++)
        if (!strcmp(s, bools[i]))
            return YDOC_T_BOOL;
    size_t sign = (*s == '-' || *s == '+') ? 1 : 0;
    if (all_match(s, "0123456789", sign))
        return YDOC_T_INT;
    if (!strncmp(s, "0x", 2) && all_match(s, "0123456789abcdefABCDEF", 2))
        return YDOC_T_INT;
    if (!strncmp(s, "0o", 2) && all_match(s, "01234567", 2))
        return YDOC_T_INT;
    static const char *const inf[] = {".inf", ".Inf", ".INF"};
    static const char *const nan[] = {".nan", ".NaN", ".NAN"};
    for (size_t i = 0; i < ARRAY_LEN(inf); i++)
        if (!strcmp(s + sign, inf[i]) || !strcmp(s, nan[i]))
            return YDOC_T_FLOAT;
    /* [-+]? ( \. [0-9]+ | [0-9]+ ( \. [0-9]* )? ) ( [eE] [-+]? [0-9]+ )? */
    const char *p = s + sign;
    int digits = 0;
    while (isdigit((unsigned char)*p)) {
        p++;
        digits++;
    }
    if (*p == '.') {
        p++;
        while (isdigit((unsigned char)*p)) {
            p++;
            digits++;
        }
    }
    if (!digits)
        return YDOC_T_STRING;
    if (*p == 'e' || *p == 'E') {
        p++;
        if (*p == '-' || *p == '+')
            p++;
        if (!isdigit((unsigned char)*p))
            return YDOC_T_STRING;
        while (isdigit((unsigned char)*p))
            p++;
    }
    return *p ? YDOC_T_STRING : YDOC_T_FLOAT;
}

cJSON *ydoc_to_json(const struct ydoc_node *n)
{
    if (!n)
        return cJSON_CreateNull();
    if (n->kind == YDOC_MAP) {
        cJSON *o = cJSON_CreateObject();
        for (size_t i = 0; i < n->npairs; i++)
            cJSON_AddItemToObject(o, n->pairs[i].key->str, ydoc_to_json(n->pairs[i].value));
        return o;
    }
    if (n->kind == YDOC_SEQ) {
        cJSON *a = cJSON_CreateArray();
        for (size_t i = 0; i < n->nitems; i++)
            cJSON_AddItemToArray(a, ydoc_to_json(n->items[i]));
        return a;
    }
    switch (ydoc_scalar_type(n)) {
    case YDOC_T_NULL:
        return cJSON_CreateNull();
    case YDOC_T_BOOL:
        return cJSON_CreateBool(n->str[0] == 't' || n->str[0] == 'T');
    case YDOC_T_INT:
        if (!strncmp(n->str, "0x", 2))
            return cJSON_CreateNumber((double)strtoll(n->str + 2, NULL, 16));
        if (!strncmp(n->str, "0o", 2))
            return cJSON_CreateNumber((double)strtoll(n->str + 2, NULL, 8));
        return cJSON_CreateNumber(strtod(n->str, NULL));
    case YDOC_T_FLOAT: {
        const char *s = n->str;
        if (strstr(s, "nan") || strstr(s, "NaN") || strstr(s, "NAN") || strstr(s, "inf") ||
            strstr(s, "Inf") || strstr(s, "INF"))
            return cJSON_CreateNull();   /* JSON has no NaN or infinity */
        return cJSON_CreateNumber(strtod(s, NULL));
    }
    default:
        return cJSON_CreateString(n->str);
    }
}
