/* registry.c — the server catalog and capability profiles (see
 * registry.h for the vocabulary, the matching steps and the derivation
 * rules, which the table below implements).
 *
 * The catalog is loaded from YAML through ydoc, so every refusal carries
 * file:line:col. Capabilities are handled internally as bit masks over the
 * sorted vocabulary, which makes "sorted, unique" free. */
#include "registry.h"
#include "embedded.h"
#include "util.h"
#include "ydoc.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* === Vocabulary === */

/* Sorted: a mask's bits in index order are the capabilities sorted. */
static const char *const capabilities[] = {
    "code_analysis",
    "code_search",
    "command_execution",
    "context_persistence",
    "documentation",
    "file_operations",
    "mcp_diagnostics",
    "repository_management",
    "security_analysis",
    "semantic_search",
    "testing",
    "web_fetch",
    NULL,
};
#define NCAPS (ARRAY_LEN(capabilities) - 1)
_Static_assert(NCAPS <= 32, "capability masks are 32 bits");

/* The task types every catalog must define (DESIGN.md: a task's type). */
static const char *const required_task_types[] = {
    "generate", "refactor", "debug", "review", "document", "test", "deploy", NULL,
};

static int cap_index(const char *cap)
{
    for (size_t i = 0; i < NCAPS; i++)
        if (strcmp(capabilities[i], cap) == 0)
            return (int)i;
    return -1;
}

const char *const *registry_capabilities(size_t *n)
{
    *n = NCAPS;
    return capabilities;
}

int registry_is_capability(const char *cap)
{
    return cap && cap_index(cap) >= 0;
}

const char *registry_source_name(enum registry_source s)
{
    switch (s) {
    case REGISTRY_FROM_CATALOG:
        return "catalog";
    case REGISTRY_DERIVED:
        return "derived";
    case REGISTRY_FROM_CONFIG:
        return "config";
    }
    return "?";
}

/* "a, b, c" of a NULL-terminated list, malloc'd. */
static char *join_list(const char *const *v)
{
    struct buf b;
    buf_init(&b);
    for (size_t i = 0; v[i]; i++)
        buf_printf(&b, "%s%s", i ? ", " : "", v[i]);
    return b.data ? buf_detach(&b) : xstrdup("");
}

/* === Catalog === */

struct strv {
    char **v;       /* NULL-terminated when n > 0 */
    size_t n;
};

static void strv_push(struct strv *s, const char *str)
{
    s->v = xrealloc(s->v, (s->n + 2) * sizeof *s->v);
    s->v[s->n++] = xstrdup(str);
    s->v[s->n] = NULL;
}

static void strv_fini(struct strv *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->v[i]);
    free(s->v);
    s->v = NULL;
    s->n = 0;
}

struct task_type {
    char *name;
    char **caps;            /* NULL-terminated, sorted */
    size_t ncaps;
    unsigned mask;
    int heavy;
};

struct entry {
    char *id;
    char *description;
    struct strv names, packages, commands, urls;
    unsigned caps;          /* capability mask */
    unsigned char *types;   /* per catalog task type: served? */
    int light, heavy, builtin;
};

struct registry_catalog {
    struct task_type *types;
    size_t ntypes;
    const char **type_names;   /* NULL-terminated */
    struct entry *entries;
    size_t nentries;
};

void registry_catalog_free(struct registry_catalog *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->ntypes; i++) {
        free(c->types[i].name);
        for (size_t j = 0; j < c->types[i].ncaps; j++)
            free(c->types[i].caps[j]);
        free(c->types[i].caps);
    }
    free(c->types);
    free(c->type_names);
    for (size_t i = 0; i < c->nentries; i++) {
        struct entry *e = &c->entries[i];
        free(e->id);
        free(e->description);
        strv_fini(&e->names);
        strv_fini(&e->packages);
        strv_fini(&e->commands);
        strv_fini(&e->urls);
        free(e->types);
    }
    free(c->entries);
    free(c);
}

static int type_index(const struct registry_catalog *c, const char *name)
{
    for (size_t i = 0; c && i < c->ntypes; i++)
        if (strcmp(c->types[i].name, name) == 0)
            return (int)i;
    return -1;
}

int registry_task_type(const struct registry_catalog *c, const char *type,
                       const char *const **caps, size_t *ncaps, int *heavy)
{
    int i = type ? type_index(c, type) : -1;
    if (i < 0)
        return -1;
    *caps = (const char *const *)c->types[i].caps;
    *ncaps = c->types[i].ncaps;
    *heavy = c->types[i].heavy;
    return 0;
}

const char *const *registry_task_types(const struct registry_catalog *c, size_t *n)
{
    static const char *const none[] = {NULL};
    if (!c) {
        *n = 0;
        return none;
    }
    *n = c->ntypes;
    return c->type_names;
}

/* === Loading === */

struct loader {
    const struct ydoc *d;
    struct registry_catalog *c;
    char *err;
};

static int fail(struct loader *L, const struct ydoc_node *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(struct loader *L, const struct ydoc_node *n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *msg = xvasprintf(fmt, ap);
    va_end(ap);
    free(L->err);
    L->err = ydoc_errorf(L->d, n, "%s", msg);
    free(msg);
    return -1;
}

static int check_keys(struct loader *L, const struct ydoc_node *map, const char *where,
                      const char *const *allowed)
{
    char *e = ydoc_check_keys(L->d, map, where, allowed);
    if (!e)
        return 0;
    free(L->err);
    L->err = e;
    return -1;
}

static int want_map(struct loader *L, const struct ydoc_node *n, const char *what)
{
    if (n->kind == YDOC_MAP)
        return 0;
    return fail(L, n, "'%s' must be a mapping, not a %s", what, ydoc_kind_name(n->kind));
}

/* A non-empty single value; *out is borrowed from the document. */
static int text(struct loader *L, const struct ydoc_node *n, const char *what, const char **out)
{
    if (n->kind != YDOC_SCALAR)
        return fail(L, n, "'%s' must be a single value, not a %s", what,
                    ydoc_kind_name(n->kind));
    if (!n->str[0] || ydoc_scalar_type(n) == YDOC_T_NULL)
        return fail(L, n, "'%s' must not be empty", what);
    *out = n->str;
    return 0;
}

static int want_seq(struct loader *L, const struct ydoc_node *n, const char *what)
{
    if (n->kind == YDOC_SEQ)
        return 0;
    return fail(L, n, "'%s' must be a list, not a %s", what, ydoc_kind_name(n->kind));
}

static int string_list(struct loader *L, const struct ydoc_node *n, const char *what,
                       struct strv *out)
{
    if (want_seq(L, n, what) < 0)
        return -1;
    for (size_t i = 0; i < n->nitems; i++) {
        const char *s;
        if (text(L, n->items[i], what, &s) < 0)
            return -1;
        strv_push(out, s);
    }
    return 0;
}

static int cap_list(struct loader *L, const struct ydoc_node *n, const char *what,
                    unsigned *mask)
{
    if (want_seq(L, n, what) < 0)
        return -1;
    *mask = 0;
    for (size_t i = 0; i < n->nitems; i++) {
        const char *s;
        if (text(L, n->items[i], what, &s) < 0)
            return -1;
        int k = cap_index(s);
        if (k < 0) {
            char *all = join_list(capabilities);
            fail(L, n->items[i], "unknown capability '%s'; expected one of: %s", s, all);
            free(all);
            return -1;
        }
        *mask |= 1u << k;
    }
    return 0;
}

/* light, heavy, or (when both_ok) both. */
static int weight(struct loader *L, const struct ydoc_node *n, int both_ok, int *light,
                  int *heavy)
{
    const char *s;
    if (text(L, n, "weight", &s) < 0)
        return -1;
    *light = !strcmp(s, "light") || (both_ok && !strcmp(s, "both"));
    *heavy = !strcmp(s, "heavy") || (both_ok && !strcmp(s, "both"));
    if (*light || *heavy)
        return 0;
    return fail(L, n, "'weight' must be %s, got '%s'",
                both_ok ? "light, heavy or both" : "light or heavy", s);
}

static int ident_ok(const char *s)
{
    if (!islower((unsigned char)s[0]) && !isdigit((unsigned char)s[0]))
        return 0;
    for (; *s; s++)
        if (!islower((unsigned char)*s) && !isdigit((unsigned char)*s) && *s != '_' &&
            *s != '-')
            return 0;
    return 1;
}

static int load_task_types(struct loader *L, const struct ydoc_node *n)
{
    static const char *const keys[] = {"capabilities", "weight", NULL};
    struct registry_catalog *c = L->c;
    if (want_map(L, n, "task_types") < 0)
        return -1;
    c->types = xcalloc(n->npairs + 1, sizeof *c->types);
    c->type_names = xcalloc(n->npairs + 1, sizeof *c->type_names);
    for (size_t i = 0; i < n->npairs; i++) {
        const struct ydoc_node *k = n->pairs[i].key, *v = n->pairs[i].value;
        if (!ident_ok(k->str))
            return fail(L, k, "task type name '%s' must be lower-case letters, digits, '_' "
                              "or '-'", k->str);
        struct task_type *t = &c->types[c->ntypes++];
        t->name = xstrdup(k->str);
        c->type_names[i] = t->name;
        if (want_map(L, v, k->str) < 0 || check_keys(L, v, "a task type", keys) < 0)
            return -1;
        const struct ydoc_node *caps = ydoc_map_get(v, "capabilities");
        const struct ydoc_node *w = ydoc_map_get(v, "weight");
        if (!caps || !w)
            return fail(L, v, "task type '%s' needs 'capabilities' and 'weight'", k->str);
        int light;
        if (cap_list(L, caps, "capabilities", &t->mask) < 0 ||
            weight(L, w, 0, &light, &t->heavy) < 0)
            return -1;
        t->caps = xcalloc(NCAPS + 1, sizeof *t->caps);
        for (size_t j = 0; j < NCAPS; j++)
            if (t->mask & (1u << j))
                t->caps[t->ncaps++] = xstrdup(capabilities[j]);
    }
    for (size_t i = 0; required_task_types[i]; i++)
        if (type_index(c, required_task_types[i]) < 0)
            return fail(L, n, "task type '%s' is missing from task_types", required_task_types[i]);
    return 0;
}

/* Names compare ignoring case, with '-' and '_' alike. */
static int char_eq(char a, char b)
{
    if ((a == '-' || a == '_') && (b == '-' || b == '_'))
        return 1;
    return tolower((unsigned char)a) == tolower((unsigned char)b);
}

static int name_eq(const char *a, const char *b)
{
    for (; *a && *b; a++, b++)
        if (!char_eq(*a, *b))
            return 0;
    return *a == *b;
}

/* Refuse an id or name some earlier entry (or this one) already has. */
static int name_unique(struct loader *L, const struct ydoc_node *n, const char *s,
                       size_t upto)
{
    const struct registry_catalog *c = L->c;
    for (size_t i = 0; i <= upto && i < c->nentries; i++) {
        const struct entry *e = &c->entries[i];
        int dup = e->id && name_eq(e->id, s);
        for (size_t j = 0; !dup && j < e->names.n; j++)
            dup = name_eq(e->names.v[j], s);
        if (dup)
            return fail(L, n, "name '%s' is already used by entry '%s'", s, e->id);
    }
    return 0;
}

static int load_match(struct loader *L, const struct ydoc_node *n, struct entry *e, size_t idx)
{
    static const char *const keys[] = {"names", "packages", "commands", "urls", NULL};
    static const char *const builtin_keys[] = {"names", NULL};
    if (want_map(L, n, "match") < 0 ||
        check_keys(L, n, e->builtin ? "a builtin entry's match (by name only)" : "match",
                   e->builtin ? builtin_keys : keys) < 0)
        return -1;
    const struct ydoc_node *v;
    if ((v = ydoc_map_get(n, "names"))) {
        if (want_seq(L, v, "names") < 0)
            return -1;
        for (size_t i = 0; i < v->nitems; i++) {
            const char *s;
            if (text(L, v->items[i], "names", &s) < 0 || name_unique(L, v->items[i], s, idx) < 0)
                return -1;
            strv_push(&e->names, s);
        }
    }
    if ((v = ydoc_map_get(n, "packages"))) {
        if (string_list(L, v, "packages", &e->packages) < 0)
            return -1;
        for (size_t i = 0; i < e->packages.n; i++)
            if (strpbrk(e->packages.v[i], " \t"))
                return fail(L, v->items[i], "package '%s' must be one word; use 'commands' "
                                            "for a sequence of words", e->packages.v[i]);
    }
    if ((v = ydoc_map_get(n, "urls")) && string_list(L, v, "urls", &e->urls) < 0)
        return -1;
    if ((v = ydoc_map_get(n, "commands")) && string_list(L, v, "commands", &e->commands) < 0)
        return -1;
    return 0;
}

static int load_entry(struct loader *L, const struct ydoc_node *n, size_t idx)
{
    static const char *const keys[] = {"id",           "description", "builtin", "match",
                                       "capabilities", "task_types",  "weight",  NULL};
    struct registry_catalog *c = L->c;
    struct entry *e = &c->entries[idx];
    e->types = xcalloc(c->ntypes + 1, 1);
    if (want_map(L, n, "servers entry") < 0 || check_keys(L, n, "a server entry", keys) < 0)
        return -1;
    const struct ydoc_node *id = ydoc_map_get(n, "id");
    const struct ydoc_node *desc = ydoc_map_get(n, "description");
    const struct ydoc_node *caps = ydoc_map_get(n, "capabilities");
    const struct ydoc_node *w = ydoc_map_get(n, "weight");
    const struct ydoc_node *v;
    static const char *const need[] = {"id", "description", "capabilities", "weight"};
    for (size_t i = 0; i < ARRAY_LEN(need); i++)
        if (!ydoc_map_get(n, need[i]))
            return fail(L, n, "server entry needs '%s'", need[i]);
    const char *s;
    if (text(L, id, "id", &s) < 0)
        return -1;
    if (!ident_ok(s))
        return fail(L, id, "id '%s' must be lower-case letters, digits, '_' or '-'", s);
    if (name_unique(L, id, s, idx) < 0)
        return -1;
    e->id = xstrdup(s);
    if (text(L, desc, "description", &s) < 0)
        return -1;
    e->description = xstrdup(s);
    if ((v = ydoc_map_get(n, "builtin"))) {
        if (v->kind != YDOC_SCALAR || ydoc_scalar_type(v) != YDOC_T_BOOL)
            return fail(L, v, "'builtin' must be true or false");
        e->builtin = v->str[0] == 't' || v->str[0] == 'T';
    }
    if ((v = ydoc_map_get(n, "match")) && load_match(L, v, e, idx) < 0)
        return -1;
    if (cap_list(L, caps, "capabilities", &e->caps) < 0 ||
        weight(L, w, 1, &e->light, &e->heavy) < 0)
        return -1;
    if ((v = ydoc_map_get(n, "task_types"))) {
        if (want_seq(L, v, "task_types") < 0)
            return -1;
        for (size_t i = 0; i < v->nitems; i++) {
            if (text(L, v->items[i], "task_types", &s) < 0)
                return -1;
            int t = type_index(c, s);
            if (t < 0) {
                char *all = join_list(c->type_names);
                fail(L, v->items[i], "unknown task type '%s'; expected one of: %s", s, all);
                free(all);
                return -1;
            }
            e->types[t] = 1;
        }
    }
    return 0;
}

static int load_doc(struct loader *L)
{
    static const char *const keys[] = {"task_types", "servers", NULL};
    const struct ydoc_node *root = L->d->root;
    if (!root)
        return fail(L, NULL, "the catalog is empty; it needs 'task_types' and 'servers'");
    if (want_map(L, root, "the catalog") < 0 || check_keys(L, root, "the catalog", keys) < 0)
        return -1;
    const struct ydoc_node *types = ydoc_map_get(root, "task_types");
    const struct ydoc_node *servers = ydoc_map_get(root, "servers");
    if (!types || !servers)
        return fail(L, root, "the catalog needs 'task_types' and 'servers'");
    if (load_task_types(L, types) < 0 || want_seq(L, servers, "servers") < 0)
        return -1;
    L->c->entries = xcalloc(servers->nitems + 1, sizeof *L->c->entries);
    for (size_t i = 0; i < servers->nitems; i++) {
        L->c->nentries = i + 1;
        if (load_entry(L, servers->items[i], i) < 0)
            return -1;
    }
    return 0;
}

int registry_catalog_load(const char *name, const char *text_, size_t len,
                          struct registry_catalog **out, char **errmsg)
{
    struct ydoc *d = NULL;
    *out = NULL;
    if (ydoc_load_string(name, text_, len, &d, errmsg) < 0)
        return -1;
    struct loader L = {d, xcalloc(1, sizeof(struct registry_catalog)), NULL};
    if (load_doc(&L) < 0)
        goto fail;
    ydoc_free(d);
    *out = L.c;
    return 0;
fail:
    *errmsg = L.err;
    registry_catalog_free(L.c);
    ydoc_free(d);
    return -1;
}

int registry_catalog_embedded(struct registry_catalog **out, char **errmsg)
{
    const struct embedded_file *f = embedded_find("data/registry.yaml");
    if (!f) {
        *out = NULL;
        *errmsg = xstrdup("data/registry.yaml is missing from this build; rebuild mcpdeck");
        return -1;
    }
    return registry_catalog_load(f->name, (const char *)f->data, f->len, out, errmsg);
}

/* === Matching === */

static const char *base_name(const char *w)
{
    const char *s = strrchr(w, '/');
    return s ? s + 1 : w;
}

/* Whether word w names package p (see registry.h, "Matching"). */
static int word_names_package(const char *w, const char *p)
{
    size_t plen = strlen(p);
    for (size_t i = 0; w[i]; i++) {
        if (i > 0 && w[i - 1] != '/')
            continue;
        size_t k = 0;
        while (k < plen && w[i + k] && char_eq(w[i + k], p[k]))
            k++;
        if (k < plen)
            continue;
        char after = w[i + plen];
        if (!after || strchr("/@=:<>~[!", after))
            return 1;
    }
    return 0;
}

/* Whether command rule r ("w1 w2 ...") matches words[at...]. */
static int command_rule_at(const char *r, const char *const *words, size_t nwords, size_t at)
{
    size_t k = at;
    while (*r) {
        while (*r == ' ' || *r == '\t')
            r++;
        if (!*r)
            break;
        size_t n = strcspn(r, " \t");
        if (k >= nwords)
            return 0;
        const char *w = k == at ? base_name(words[k]) : words[k];
        if (strlen(w) != n)
            return 0;
        for (size_t i = 0; i < n; i++)
            if (!char_eq(w[i], r[i]))
                return 0;
        r += n;
        k++;
    }
    return k > at;
}

static const struct entry *match_command(const struct registry_catalog *c,
                                         const char *const *words, size_t nwords)
{
    for (size_t at = 0; at < nwords; at++)
        for (size_t i = 0; i < c->nentries; i++) {
            const struct entry *e = &c->entries[i];
            for (size_t j = 0; j < e->packages.n; j++)
                if (word_names_package(words[at], e->packages.v[j]))
                    return e;
            for (size_t j = 0; j < e->commands.n; j++)
                if (command_rule_at(e->commands.v[j], words, nwords, at))
                    return e;
        }
    return NULL;
}

static const struct entry *match_url(const struct registry_catalog *c, const char *url)
{
    for (size_t i = 0; i < c->nentries; i++)
        for (size_t j = 0; j < c->entries[i].urls.n; j++)
            if (strcasestr(url, c->entries[i].urls.v[j]))
                return &c->entries[i];
    return NULL;
}

static const struct entry *match_name(const struct registry_catalog *c, const char *name,
                                      int in_process)
{
    for (size_t i = 0; i < c->nentries; i++) {
        const struct entry *e = &c->entries[i];
        if (e->builtin && !in_process)
            continue;
        if (name_eq(e->id, name))
            return e;
        for (size_t j = 0; j < e->names.n; j++)
            if (name_eq(e->names.v[j], name))
                return e;
    }
    return NULL;
}

static const struct entry *match_entry(const struct registry_catalog *c, const char *name,
                                       const char *command, const char *const *args,
                                       size_t nargs, const char *url)
{
    const struct entry *e = NULL;
    if (!c)
        return NULL;
    if (command) {
        const char **words = xmalloc((nargs + 1) * sizeof *words);
        words[0] = command;
        for (size_t i = 0; i < nargs; i++)
            words[i + 1] = args[i] ? args[i] : "";
        e = match_command(c, words, nargs + 1);
        free(words);
    }
    if (!e && url)
        e = match_url(c, url);
    for (size_t i = 0; !e && i < nargs; i++)
        if (args[i] && strstr(args[i], "://"))
            e = match_url(c, args[i]);
    if (!e && name)
        e = match_name(c, name, !command && !url);
    return e;
}

/* === Derivation === */

#define NAME_ONLY 1

/* One rule: every term must occur among a text's words; "x*" is a
 * prefix. The table is the documentation in registry.h, in order. */
static const struct derive_rule {
    const char *cap;
    const char *terms[3];
    int flags;
} derive_rules[] = {
    {"file_operations", {"file*"}, 0},
    {"file_operations", {"director*"}, 0},
    {"file_operations", {"dir"}, 0},
    {"file_operations", {"dirs"}, 0},
    {"file_operations", {"folder*"}, 0},

    {"code_search", {"grep*"}, 0},
    {"code_search", {"ripgrep"}, 0},
    {"code_search", {"find"}, 0},
    {"code_search", {"search*", "code"}, 0},
    {"code_search", {"search*", "file*"}, 0},
    {"code_search", {"search*", "text"}, 0},
    {"code_search", {"search*", "content*"}, 0},
    {"code_search", {"search*", "symbol*"}, 0},
    {"code_search", {"search*", "pattern*"}, 0},
    {"code_search", {"search*", "regex*"}, 0},

    {"code_analysis", {"ast"}, 0},
    {"code_analysis", {"lint*"}, 0},
    {"code_analysis", {"symbol*"}, 0},
    {"code_analysis", {"syntax*"}, 0},
    {"code_analysis", {"sitter"}, 0},
    {"code_analysis", {"complexity"}, 0},
    {"code_analysis", {"diagnos*"}, 0},
    {"code_analysis", {"typecheck*"}, 0},
    {"code_analysis", {"type", "check*"}, 0},
    {"code_analysis", {"analy*"}, NAME_ONLY},
    {"code_analysis", {"parse*"}, NAME_ONLY},

    {"security_analysis", {"vuln*"}, 0},
    {"security_analysis", {"secret*"}, 0},
    {"security_analysis", {"cve*"}, 0},
    {"security_analysis", {"cwe"}, 0},
    {"security_analysis", {"semgrep*"}, 0},
    {"security_analysis", {"security"}, 0},
    {"security_analysis", {"sast"}, 0},
    {"security_analysis", {"exploit*"}, 0},
    {"security_analysis", {"malware"}, 0},
    {"security_analysis", {"scanning", "code"}, 0},

    {"repository_management", {"git"}, 0},
    {"repository_management", {"github"}, 0},
    {"repository_management", {"gitlab"}, 0},
    {"repository_management", {"commit*"}, 0},
    {"repository_management", {"branch*"}, 0},
    {"repository_management", {"diff"}, 0},
    {"repository_management", {"diffs"}, 0},
    {"repository_management", {"repo"}, 0},
    {"repository_management", {"repos"}, 0},
    {"repository_management", {"repositor*"}, 0},
    {"repository_management", {"merge*"}, 0},
    {"repository_management", {"rebase*"}, 0},
    {"repository_management", {"checkout"}, 0},
    {"repository_management", {"stash*"}, 0},
    {"repository_management", {"blame"}, 0},
    {"repository_management", {"pull", "request*"}, 0},
    {"repository_management", {"issue*"}, NAME_ONLY},

    {"semantic_search", {"embed"}, 0},
    {"semantic_search", {"embedding*"}, 0},
    {"semantic_search", {"vector*"}, 0},
    {"semantic_search", {"semantic*"}, 0},
    {"semantic_search", {"similarity"}, 0},

    {"context_persistence", {"memor*"}, 0},
    {"context_persistence", {"remember*"}, 0},
    {"context_persistence", {"recall*"}, 0},
    {"context_persistence", {"knowledge*"}, 0},
    {"context_persistence", {"entit*"}, 0},
    {"context_persistence", {"observation*"}, 0},
    {"context_persistence", {"note"}, 0},
    {"context_persistence", {"notes"}, 0},

    {"web_fetch", {"fetch*"}, 0},
    {"web_fetch", {"http*"}, 0},
    {"web_fetch", {"web*"}, 0},
    {"web_fetch", {"browse*"}, 0},
    {"web_fetch", {"scrap*"}, 0},
    {"web_fetch", {"crawl*"}, 0},
    {"web_fetch", {"download*"}, 0},

    {"testing", {"pytest"}, 0},
    {"testing", {"jest"}, 0},
    {"testing", {"vitest"}, 0},
    {"testing", {"test*"}, NAME_ONLY},
    {"testing", {"coverage"}, NAME_ONLY},

    {"documentation", {"docstring*"}, 0},
    {"documentation", {"readme*"}, 0},
    {"documentation", {"doc"}, NAME_ONLY},
    {"documentation", {"docs"}, NAME_ONLY},
    {"documentation", {"documentation"}, NAME_ONLY},

    {"command_execution", {"exec*"}, 0},
    {"command_execution", {"shell*"}, 0},
    {"command_execution", {"bash"}, 0},
    {"command_execution", {"terminal*"}, 0},
    {"command_execution", {"subprocess*"}, 0},
    {"command_execution", {"run*", "command*"}, 0},
    {"command_execution", {"run*", "script*"}, 0},
    {"command_execution", {"run*", "program*"}, 0},

    {"mcp_diagnostics", {"echo*"}, 0},
    {"mcp_diagnostics", {"elicit*"}, 0},
    {"mcp_diagnostics", {"sampling"}, 0},
    {"mcp_diagnostics", {"sample*", "llm"}, 0},
    {"mcp_diagnostics", {"annotat*"}, NAME_ONLY},
};

struct words {
    char **v;
    size_t n;
};

static void words_fini(struct words *w)
{
    for (size_t i = 0; i < w->n; i++)
        free(w->v[i]);
    free(w->v);
}

/* Split s into lower-case words at non-alphanumerics and camelCase humps
 * ("getTinyImage" → get tiny image, "sampleLLM" → sample llm,
 * "LLMTool" → llm tool). */
static void words_split(const char *s, struct words *out)
{
    struct buf b;
    buf_init(&b);
    memset(out, 0, sizeof *out);
    for (size_t i = 0;; i++) {
        unsigned char ch = (unsigned char)s[i];
        int alnum = ch && ch < 128 && isalnum(ch);
        int hump = 0;
        if (alnum && b.len) {
            unsigned char prev = (unsigned char)s[i - 1], next = (unsigned char)s[i + 1];
            hump = isupper(ch) && (islower(prev) || (isupper(prev) && next < 128 && islower(next)));
        }
        if ((!alnum || hump) && b.len) {
            out->v = xrealloc(out->v, (out->n + 1) * sizeof *out->v);
            out->v[out->n++] = buf_detach(&b);
        }
        if (!ch)
            break;
        if (alnum)
            buf_putc(&b, (char)tolower(ch));
    }
    buf_fini(&b);
}

static int term_matches(const char *term, const char *word)
{
    size_t n = strlen(term);
    if (term[n - 1] == '*')
        return strncmp(word, term, n - 1) == 0;
    return strcmp(word, term) == 0;
}

static int rule_matches(const struct derive_rule *r, const struct words *w)
{
    for (size_t t = 0; t < ARRAY_LEN(r->terms) && r->terms[t]; t++) {
        int found = 0;
        for (size_t i = 0; i < w->n && !found; i++)
            found = term_matches(r->terms[t], w->v[i]);
        if (!found)
            return 0;
    }
    return 1;
}

static unsigned text_caps(const char *s, int description)
{
    struct words w;
    unsigned mask = 0;
    words_split(s, &w);
    for (size_t i = 0; i < ARRAY_LEN(derive_rules); i++) {
        const struct derive_rule *r = &derive_rules[i];
        if (description && (r->flags & NAME_ONLY))
            continue;
        if (rule_matches(r, &w))
            mask |= 1u << cap_index(r->cap);
    }
    words_fini(&w);
    return mask;
}

static unsigned derive_mask(const struct registry_tool *tools, size_t ntools)
{
    unsigned mask = 0;
    for (size_t i = 0; i < ntools; i++) {
        unsigned m = tools[i].name ? text_caps(tools[i].name, 0) : 0;
        if (!m && tools[i].description)
            m = text_caps(tools[i].description, 1);
        mask |= m;
    }
    return mask;
}

static size_t mask_strings(unsigned mask, char ***out)
{
    size_t n = 0;
    *out = xcalloc(NCAPS + 1, sizeof **out);
    for (size_t i = 0; i < NCAPS; i++)
        if (mask & (1u << i))
            (*out)[n++] = xstrdup(capabilities[i]);
    return n;
}

size_t registry_derive_caps(const struct registry_tool *tools, size_t ntools, char ***out)
{
    return mask_strings(derive_mask(tools, ntools), out);
}

/* === Profiles === */

void registry_profile_fini(struct registry_profile *p)
{
    if (!p)
        return;
    free(p->catalog_id);
    free(p->description);
    for (size_t i = 0; i < p->ncaps; i++)
        free(p->caps[i]);
    free(p->caps);
    for (size_t i = 0; i < p->ntask_types; i++)
        free(p->task_types[i]);
    free(p->task_types);
    memset(p, 0, sizeof *p);
}

static char *override_error(const char *name, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static char *override_error(const char *name, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *msg = xvasprintf(fmt, ap);
    va_end(ap);
    if (!name)
        return msg;
    char *r = xasprintf("server '%s': %s", name, msg);
    free(msg);
    return r;
}

/* Check ov against the vocabulary and c; fill the masks and flags it sets. */
static int override_check(const struct registry_catalog *c, const char *name,
                          const struct registry_override *ov, unsigned *caps,
                          unsigned char *types, int *light, int *heavy, char **errmsg)
{
    if (ov->has_caps) {
        *caps = 0;
        for (size_t i = 0; i < ov->ncaps; i++) {
            int k = ov->caps[i] ? cap_index(ov->caps[i]) : -1;
            if (k < 0) {
                char *all = join_list(capabilities);
                *errmsg = override_error(name, "unknown capability '%s'; expected one of: %s",
                                         ov->caps[i] ? ov->caps[i] : "", all);
                free(all);
                return -1;
            }
            *caps |= 1u << k;
        }
    }
    if (ov->has_task_types) {
        memset(types, 0, c ? c->ntypes : 0);
        for (size_t i = 0; i < ov->ntask_types; i++) {
            int t = ov->task_types[i] ? type_index(c, ov->task_types[i]) : -1;
            if (t < 0) {
                char *all = c ? join_list(c->type_names) : xstrdup("");
                *errmsg = override_error(name, "unknown task type '%s'; expected one of: %s",
                                         ov->task_types[i] ? ov->task_types[i] : "", all);
                free(all);
                return -1;
            }
            types[t] = 1;
        }
    }
    if (ov->weight) {
        const char *w = ov->weight;
        if (strcmp(w, "light") && strcmp(w, "heavy") && strcmp(w, "both")) {
            *errmsg = override_error(name, "weight must be light, heavy or both, got '%s'", w);
            return -1;
        }
        *light = strcmp(w, "heavy") != 0;
        *heavy = strcmp(w, "light") != 0;
    }
    return 0;
}

int registry_profile_resolve(const struct registry_catalog *c, const char *name,
                             const char *command, const char *const *args, size_t nargs,
                             const char *url, const struct registry_tool *tools, size_t ntools,
                             const struct registry_override *ov, struct registry_profile *out,
                             char **errmsg)
{
    memset(out, 0, sizeof *out);
    size_t ntypes = c ? c->ntypes : 0;
    unsigned char *types = xcalloc(ntypes + 1, 1);
    const struct entry *e = match_entry(c, name, command, args, nargs, url);
    unsigned caps;
    int light = 1, heavy = 1;
    enum registry_source source = REGISTRY_DERIVED;
    if (e) {
        caps = e->caps;
        light = e->light;
        heavy = e->heavy;
        source = REGISTRY_FROM_CATALOG;
        memcpy(types, e->types, ntypes);
    } else {
        caps = derive_mask(tools, ntools);
    }
    if (ov) {
        if (override_check(c, name, ov, &caps, types, &light, &heavy, errmsg) < 0) {
            free(types);
            return -1;
        }
        if (ov->has_caps)
            source = REGISTRY_FROM_CONFIG;
    }
    int types_set = (ov && ov->has_task_types) || (e && source == REGISTRY_FROM_CATALOG);
    for (size_t t = 0; !types_set && t < ntypes; t++)
        types[t] = (c->types[t].mask & caps) != 0;

    out->catalog_id = e ? xstrdup(e->id) : NULL;
    out->description = e ? xstrdup(e->description) : NULL;
    out->builtin = e ? e->builtin : 0;
    out->source = source;
    out->light = light;
    out->heavy = heavy;
    out->ncaps = mask_strings(caps, &out->caps);
    out->task_types = xcalloc(ntypes + 1, sizeof *out->task_types);
    for (size_t t = 0; t < ntypes; t++)
        if (types[t])
            out->task_types[out->ntask_types++] = xstrdup(c->types[t].name);
    free(types);
    return 0;
}
