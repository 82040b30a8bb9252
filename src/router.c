/* router.c — scoring, explanation, route cache and tool selection (see
 * router.h for the rules and figures).
 *
 * Scoring interns the task's required capabilities into the bits of a
 * 64-bit mask through a small open-addressed table, so each server costs
 * one hash per capability it lists and a popcount. A decision is one
 * block: the score array, a scratch mask per server, then the notes. */
#include "router.h"
#include "util.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* === Figures === */

const char *router_health_name(enum router_health h)
{
    switch (h) {
    case ROUTER_HEALTH_HEALTHY: return "healthy";
    case ROUTER_HEALTH_WARNING: return "warning";
    case ROUTER_HEALTH_UNHEALTHY: return "unhealthy";
    case ROUTER_HEALTH_UNKNOWN: break;
    }
    return "unknown";
}

static double health_value(enum router_health h)
{
    switch (h) {
    case ROUTER_HEALTH_HEALTHY: return 1.0;
    case ROUTER_HEALTH_WARNING: return 0.7;
    case ROUTER_HEALTH_UNHEALTHY: return 0.3;
    case ROUTER_HEALTH_UNKNOWN: break;
    }
    return 0.5;
}

void router_weights_default(struct router_weights *w)
{
    w->capability = 0.4;
    w->fit = 0.3;
    w->health = 0.2;
    w->preference = 0.1;
}

static double fit_value(const struct router_server *s, int heavy)
{
    if (heavy)
        return s->heavy ? 1.0 : s->light ? 0.4 : 0.5;
    return s->light ? 1.0 : s->heavy ? 0.6 : 0.5;
}

static double clamp01(double x)
{
    return x < 0 ? 0 : x > 1 ? 1 : x;
}

static double preference_value(const struct router_server *s)
{
    double sum = 0;
    int known = 0;
    if (s->config_pref >= 0) {
        sum += clamp01(s->config_pref);
        known++;
    }
    if (s->success_rate >= 0) {
        sum += clamp01(s->success_rate);
        known++;
    }
    return known ? sum / known : 0.5;
}

/* === Capability interning === */

static uint64_t fnv1a(const char *s, size_t *len)
{
    uint64_t h = 0xcbf29ce484222325ull;
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        h ^= *p++;
        h *= 0x100000001b3ull;
    }
    *len = (size_t)(p - (const unsigned char *)s);
    return h;
}

#define CAPSET_SLOTS 128   /* a power of two, at least 2 x ROUTER_MAX_CAPS */

/* The task's required capabilities, deduplicated, in order; cap i is bit i. */
struct capset {
    size_t n;
    const char *name[ROUTER_MAX_CAPS];
    size_t len[ROUTER_MAX_CAPS];
    uint64_t hash[ROUTER_MAX_CAPS];
    signed char slot[CAPSET_SLOTS];   /* index into the arrays, -1 empty */
};

static int capset_find(const struct capset *cs, const char *s, size_t len, uint64_t h)
{
    for (size_t p = h & (CAPSET_SLOTS - 1);; p = (p + 1) & (CAPSET_SLOTS - 1)) {
        int i = cs->slot[p];
        if (i < 0)
            return -(int)p - 1;
        if (cs->hash[i] == h && cs->len[i] == len && memcmp(cs->name[i], s, len) == 0)
            return i;
    }
}

/* Returns 0, or -1 when caps hold more than ROUTER_MAX_CAPS distinct names. */
static int capset_init(struct capset *cs, const char *const *caps, size_t ncaps)
{
    cs->n = 0;
    memset(cs->slot, -1, sizeof cs->slot);
    for (size_t i = 0; i < ncaps; i++) {
        if (!caps[i])
            continue;
        size_t len;
        uint64_t h = fnv1a(caps[i], &len);
        int at = capset_find(cs, caps[i], len, h);
        if (at >= 0)
            continue;
        if (cs->n == ROUTER_MAX_CAPS)
            return -1;
        cs->slot[-at - 1] = (signed char)cs->n;
        cs->name[cs->n] = caps[i];
        cs->len[cs->n] = len;
        cs->hash[cs->n] = h;
        cs->n++;
    }
    return 0;
}

static uint64_t capset_full(const struct capset *cs)
{
    return cs->n == 64 ? ~0ull : (1ull << cs->n) - 1;
}

static uint64_t capset_mask(const struct capset *cs, const struct router_server *s)
{
    uint64_t m = 0;
    if (!cs->n)
        return 0;
    for (size_t i = 0; i < s->ncaps; i++) {
        if (!s->caps[i])
            continue;
        size_t len;
        uint64_t h = fnv1a(s->caps[i], &len);
        int at = capset_find(cs, s->caps[i], len, h);
        if (at >= 0)
            m |= 1ull << at;
    }
    return m;
}

static int lists_type(const struct router_server *s, const char *type)
{
    if (!type)
        return 0;
    for (size_t i = 0; i < s->ntask_types; i++)
        if (s->task_types[i] && strcmp(s->task_types[i], type) == 0)
            return 1;
    return 0;
}

/* === Routing === */

static long long quant(double x)
{
    return llround(x * 1e9);
}

/* Decision order: eligible, candidates, total, capability, health, name. */
static int score_cmp(const void *pa, const void *pb)
{
    const struct router_score *a = pa, *b = pb;
    if (a->eligible != b->eligible)
        return b->eligible - a->eligible;
    if (a->candidate != b->candidate)
        return b->candidate - a->candidate;
    long long x, y;
    if ((x = quant(a->total)) != (y = quant(b->total)))
        return x > y ? -1 : 1;
    if ((x = quant(a->capability)) != (y = quant(b->capability)))
        return x > y ? -1 : 1;
    if ((x = quant(a->health)) != (y = quant(b->health)))
        return x > y ? -1 : 1;
    return strcmp(a->name, b->name);
}

#define NOT_TAKEN_A "does not take '"
#define NOT_TAKEN_B "' tasks"

/* Bytes of the note for a scored server (0: none). */
static size_t note_size(const struct capset *cs, const struct router_server *s,
                        const struct router_score *sc, uint64_t lack, const char *type)
{
    if (!s->available)
        return strlen(s->why ? s->why : "unavailable") + 1;
    if (lack) {
        size_t n = sizeof "lacks " - 1;
        for (size_t i = 0; i < cs->n; i++)
            if (lack >> i & 1)
                n += cs->len[i] + 2;
        return n - 2 + 1;
    }
    if (!sc->candidate && type)
        return sizeof NOT_TAKEN_A - 1 + strlen(type) + sizeof NOT_TAKEN_B;
    return 0;
}

static char *note_write(char *at, const struct capset *cs, const struct router_server *s,
                        uint64_t lack, const char *type)
{
    if (!s->available) {
        strcpy(at, s->why ? s->why : "unavailable");
    } else if (lack) {
        char *p = at;
        memcpy(p, "lacks ", 6);
        p += 6;
        for (size_t i = 0; i < cs->n; i++) {
            if (!(lack >> i & 1))
                continue;
            if (p != at + 6) {
                memcpy(p, ", ", 2);
                p += 2;
            }
            memcpy(p, cs->name[i], cs->len[i]);
            p += cs->len[i];
        }
        *p = '\0';
    } else {
        strcpy(stpcpy(stpcpy(at, NOT_TAKEN_A), type), NOT_TAKEN_B);
    }
    return at + strlen(at) + 1;
}

int router_route(const struct router_weights *w, const struct router_task *t,
                 const struct router_server *servers, size_t n,
                 struct router_decision *out, char **errmsg)
{
    struct router_weights defw;
    struct capset cs;
    if (!w) {
        router_weights_default(&defw);
        w = &defw;
    }
    memset(out, 0, sizeof *out);
    if (errmsg)
        *errmsg = NULL;
    if (capset_init(&cs, t->caps, t->ncaps) < 0)
        goto fail;

    size_t first = 0, count = n;
    if (t->server) {
        count = 0;
        for (size_t i = 0; i < n; i++)
            if (servers[i].name && strcmp(servers[i].name, t->server) == 0) {
                first = i;
                count = 1;
                break;
            }
    }
    if (!count)
        goto fail;

    size_t head = count * sizeof(struct router_score);
    size_t masks = count * sizeof(uint64_t);
    char *block = xmalloc(head + masks);
    struct router_score *sc = (struct router_score *)block;
    uint64_t *lack = (uint64_t *)(block + head);
    uint64_t full = capset_full(&cs);
    size_t notes = 0;
    for (size_t i = 0; i < count; i++) {
        const struct router_server *s = &servers[first + i];
        uint64_t have = capset_mask(&cs, s);
        int listed = lists_type(s, t->type);
        struct router_score *r = &sc[i];
        r->name = s->name ? s->name : "";
        r->capability = cs.n ? (double)__builtin_popcountll(have) / (double)cs.n
                             : listed ? 1.0 : 0.0;
        r->fit = fit_value(s, t->heavy);
        r->health = health_value(s->health);
        r->preference = preference_value(s);
        r->total = w->capability * r->capability + w->fit * r->fit + w->health * r->health +
                   w->preference * r->preference;
        r->candidate = t->server || have || listed;
        r->available = s->available != 0;
        r->eligible = r->candidate && r->available;
        r->note = NULL;
        lack[i] = full & ~have;
        notes += note_size(&cs, s, r, lack[i], t->type);
    }
    if (notes) {
        block = xrealloc(block, head + masks + notes);
        sc = (struct router_score *)block;
        lack = (uint64_t *)(block + head);
        char *at = block + head + masks;
        for (size_t i = 0; i < count; i++) {
            const struct router_server *s = &servers[first + i];
            if (note_size(&cs, s, &sc[i], lack[i], t->type)) {
                sc[i].note = at;
                at = note_write(at, &cs, s, lack[i], t->type);
            }
        }
    }
    qsort(sc, count, sizeof *sc, score_cmp);
    out->scores = sc;
    out->nscores = count;
    if (sc[0].eligible) {
        out->chosen = sc[0].name;
        return 0;
    }
fail:
    if (errmsg)
        *errmsg = router_decision_error(out, t);
    return -1;
}

void router_decision_fini(struct router_decision *d)
{
    if (!d)
        return;
    free(d->scores);
    memset(d, 0, sizeof *d);
}

void router_decision_copy(struct router_decision *dst, const struct router_decision *src)
{
    size_t head = src->nscores * sizeof(struct router_score);
    size_t size = head + (src->chosen ? strlen(src->chosen) + 1 : 0);
    for (size_t i = 0; i < src->nscores; i++) {
        size += strlen(src->scores[i].name) + 1;
        if (src->scores[i].note)
            size += strlen(src->scores[i].note) + 1;
    }
    memset(dst, 0, sizeof *dst);
    if (!size)
        return;
    char *block = xmalloc(size), *at = block + head;
    struct router_score *sc = (struct router_score *)block;
    if (head)
        memcpy(sc, src->scores, head);
    for (size_t i = 0; i < src->nscores; i++) {
        size_t len = strlen(src->scores[i].name) + 1;
        sc[i].name = memcpy(at, src->scores[i].name, len);
        at += len;
        if (src->scores[i].note) {
            len = strlen(src->scores[i].note) + 1;
            sc[i].note = memcpy(at, src->scores[i].note, len);
            at += len;
        }
    }
    if (src->chosen)
        dst->chosen = memcpy(at, src->chosen, strlen(src->chosen) + 1);
    dst->scores = sc;
    dst->nscores = src->nscores;
}

static void put_caps(struct buf *b, const struct capset *cs)
{
    for (size_t i = 0; i < cs->n; i++)
        buf_printf(b, "%s%s", i ? ", " : "", cs->name[i]);
}

static int name_cmp(const void *pa, const void *pb)
{
    const struct router_score *const *a = pa, *const *b = pb;
    return strcmp((*a)->name, (*b)->name);
}

char *router_decision_error(const struct router_decision *d, const struct router_task *t)
{
    struct capset cs;
    struct buf b;
    if (d->chosen)
        return NULL;
    if (capset_init(&cs, t->caps, t->ncaps) < 0)
        return xasprintf("the task requires more than %d distinct capabilities; "
                         "the router handles at most %d", ROUTER_MAX_CAPS, ROUTER_MAX_CAPS);
    if (t->server) {
        if (!d->nscores)
            return xasprintf("the task names server '%s', but no server of that name is "
                             "configured", t->server);
        return xasprintf("the task names server '%s', which is excluded (%s)", t->server,
                         d->scores[0].note ? d->scores[0].note : "unavailable");
    }
    if (!t->type && !cs.n)
        return xstrdup("the task names no type, capability or server, so no server can "
                       "take it");
    buf_init(&b);
    if (t->type)
        buf_printf(&b, "no server can route a '%s' task: ", t->type);
    else
        buf_puts(&b, "no server can route the task: ");
    if (!d->nscores) {
        buf_puts(&b, "no servers are configured");
        return buf_detach(&b);
    }
    if (cs.n) {
        buf_puts(&b, "it needs ");
        put_caps(&b, &cs);
    } else {
        buf_printf(&b, "no available server takes '%s' tasks", t->type);
    }
    const struct router_score **by_name = xmalloc(d->nscores * sizeof *by_name);
    for (size_t i = 0; i < d->nscores; i++)
        by_name[i] = &d->scores[i];
    qsort(by_name, d->nscores, sizeof *by_name, name_cmp);
    for (size_t i = 0; i < d->nscores; i++) {
        const struct router_score *r = by_name[i];
        if (!r->available && (cs.n || r->candidate))
            buf_printf(&b, "; %s is excluded (%s)", r->name, r->note ? r->note : "unavailable");
        else if (cs.n && r->note)
            buf_printf(&b, "; %s %s", r->name, r->note);
    }
    free(by_name);
    return buf_detach(&b);
}

/* === Explanation === */

static double round4(double x)
{
    return round(x * 1e4) / 1e4;
}

struct cJSON *router_decision_json(const struct router_decision *d, const struct router_task *t,
                                   const struct router_weights *w)
{
    struct router_weights defw;
    if (!w) {
        router_weights_default(&defw);
        w = &defw;
    }
    cJSON *o = cJSON_CreateObject();
    if (t) {
        cJSON *task = cJSON_AddObjectToObject(o, "task");
        cJSON_AddItemToObject(task, "type", t->type ? cJSON_CreateString(t->type)
                                                    : cJSON_CreateNull());
        cJSON *caps = cJSON_AddArrayToObject(task, "caps");
        for (size_t i = 0; i < t->ncaps; i++)
            if (t->caps[i])
                cJSON_AddItemToArray(caps, cJSON_CreateString(t->caps[i]));
        cJSON_AddItemToObject(task, "server", t->server ? cJSON_CreateString(t->server)
                                                        : cJSON_CreateNull());
        cJSON_AddBoolToObject(task, "heavy", t->heavy != 0);
    }
    cJSON *wo = cJSON_AddObjectToObject(o, "weights");
    cJSON_AddNumberToObject(wo, "capability", w->capability);
    cJSON_AddNumberToObject(wo, "fit", w->fit);
    cJSON_AddNumberToObject(wo, "health", w->health);
    cJSON_AddNumberToObject(wo, "preference", w->preference);
    cJSON_AddItemToObject(o, "chosen", d->chosen ? cJSON_CreateString(d->chosen)
                                                 : cJSON_CreateNull());
    cJSON *arr = cJSON_AddArrayToObject(o, "servers");
    for (size_t i = 0; i < d->nscores; i++) {
        const struct router_score *r = &d->scores[i];
        cJSON *s = cJSON_CreateObject();
        cJSON_AddStringToObject(s, "name", r->name);
        cJSON_AddNumberToObject(s, "total", round4(r->total));
        cJSON_AddNumberToObject(s, "capability", round4(r->capability));
        cJSON_AddNumberToObject(s, "fit", round4(r->fit));
        cJSON_AddNumberToObject(s, "health", round4(r->health));
        cJSON_AddNumberToObject(s, "preference", round4(r->preference));
        cJSON_AddBoolToObject(s, "candidate", r->candidate != 0);
        cJSON_AddBoolToObject(s, "available", r->available != 0);
        cJSON_AddBoolToObject(s, "eligible", r->eligible != 0);
        if (r->note)
            cJSON_AddStringToObject(s, "note", r->note);
        cJSON_AddItemToArray(arr, s);
    }
    return o;
}

char *router_explain(const struct router_decision *d, const struct router_task *t)
{
    struct buf b;
    struct capset cs;
    buf_init(&b);
    buf_puts(&b, "routing ");
    if (t) {
        buf_puts(&b, t->heavy ? "a heavy " : "a light ");
        if (t->type)
            buf_printf(&b, "'%s' ", t->type);
        buf_puts(&b, "task");
        if (capset_init(&cs, t->caps, t->ncaps) == 0 && cs.n) {
            buf_puts(&b, " needing ");
            put_caps(&b, &cs);
        }
        if (t->server)
            buf_printf(&b, " (names server %s)", t->server);
    } else {
        buf_puts(&b, "the task");
    }
    buf_printf(&b, ": %s\n", d->chosen ? d->chosen : "no server");

    int width = 6;
    size_t others = 0;
    for (size_t i = 0; i < d->nscores; i++) {
        int len = (int)strlen(d->scores[i].name);
        if (!d->scores[i].candidate)
            others++;
        else if (len > width)
            width = len;
    }
    if (others < d->nscores)
        buf_printf(&b, "  %-*s %5s %5s %5s %6s %5s  note\n", width, "server", "total", "cap",
                   "fit", "health", "pref");
    for (size_t i = 0; i < d->nscores; i++) {
        const struct router_score *r = &d->scores[i];
        if (!r->candidate)
            continue;
        char mark = d->chosen && strcmp(r->name, d->chosen) == 0 ? '*'
                    : !r->available                              ? 'x'
                                                                 : ' ';
        buf_printf(&b, "%c %-*s %5.3f %5.2f %5.2f %6.2f %5.2f", mark, width, r->name, r->total,
                   r->capability, r->fit, r->health, r->preference);
        if (r->note)
            buf_printf(&b, "  %s%s", r->available ? "" : "excluded: ", r->note);
        buf_putc(&b, '\n');
    }
    if (others)
        buf_printf(&b, "  (%zu %sserver%s match%s nothing)\n", others,
                   others < d->nscores ? "other " : "", others == 1 ? "" : "s",
                   others == 1 ? "es" : "");
    return buf_detach(&b);
}

/* === Route cache === */

#define CACHE_BUCKETS 256
#define CACHE_MAX 1024

struct cache_entry {
    struct cache_entry *next;
    uint64_t hash;
    size_t klen;
    char *key;
    struct router_decision d;
};

struct router_cache {
    struct cache_entry *bucket[CACHE_BUCKETS];
    size_t count;
    unsigned gen;        /* bumped by router_cache_invalidate */
    unsigned swept;      /* the generation every entry belongs to (entries of
                            an older one are freed by the next put) */
    uint64_t hits, misses;
};

static uint64_t hash_bytes(const char *p, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)p[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

static size_t key_put(char *dst, size_t cap, size_t at, const char *s, size_t len)
{
    if (at < cap)
        memcpy(dst + at, s, at + len <= cap ? len : cap - at);
    return at + len;
}

/* Write t's routing key into dst[0..cap) and return its whole length (it
 * did not fit when that is more than cap). Capabilities sorted, deduplicated. */
static size_t key_build(const struct router_task *t, char *dst, size_t cap)
{
    const char *stack[ROUTER_MAX_CAPS];
    const char **caps = t->ncaps <= ROUTER_MAX_CAPS ? stack : xmalloc(t->ncaps * sizeof *caps);
    size_t n = 0;
    for (size_t i = 0; i < t->ncaps; i++) {
        const char *c = t->caps[i];
        if (!c)
            continue;
        size_t j = n++;
        for (; j > 0 && strcmp(caps[j - 1], c) > 0; j--)
            caps[j] = caps[j - 1];
        caps[j] = c;
    }
    size_t at = key_put(dst, cap, 0, t->heavy ? "H" : "L", 1);
    at = t->type ? key_put(dst, cap, key_put(dst, cap, at, "T", 1), t->type, strlen(t->type) + 1)
                 : key_put(dst, cap, at, "t", 1);
    at = t->server
             ? key_put(dst, cap, key_put(dst, cap, at, "S", 1), t->server, strlen(t->server) + 1)
             : key_put(dst, cap, at, "s", 1);
    for (size_t i = 0; i < n; i++)
        if (i == 0 || strcmp(caps[i], caps[i - 1]) != 0)
            at = key_put(dst, cap, at, caps[i], strlen(caps[i]) + 1);
    if (caps != stack)
        free(caps);
    return at;
}

struct router_cache *router_cache_new(void)
{
    return xcalloc(1, sizeof(struct router_cache));
}

/* Free every entry. */
static void cache_drop(struct router_cache *c)
{
    for (size_t i = 0; i < CACHE_BUCKETS; i++) {
        while (c->bucket[i]) {
            struct cache_entry *e = c->bucket[i];
            c->bucket[i] = e->next;
            router_decision_fini(&e->d);
            free(e->key);
            free(e);
        }
    }
    c->count = 0;
}

void router_cache_free(struct router_cache *c)
{
    if (!c)
        return;
    cache_drop(c);
    free(c);
}

void router_cache_invalidate(struct router_cache *c)
{
    c->gen++;
}

static struct cache_entry *cache_find(struct router_cache *c, const char *key, size_t klen,
                                      uint64_t h)
{
    for (struct cache_entry *e = c->bucket[h % CACHE_BUCKETS]; e; e = e->next)
        if (e->hash == h && e->klen == klen && memcmp(e->key, key, klen) == 0)
            return e;
    return NULL;
}

const struct router_decision *router_cache_get(struct router_cache *c,
                                               const struct router_task *t)
{
    char stack[256];
    char *key = stack;
    size_t klen = key_build(t, stack, sizeof stack);
    if (klen > sizeof stack) {
        key = xmalloc(klen);
        key_build(t, key, klen);
    }
    uint64_t h = hash_bytes(key, klen);
    struct cache_entry *e = c->swept == c->gen ? cache_find(c, key, klen, h) : NULL;
    if (key != stack)
        free(key);
    if (e)
        c->hits++;
    else
        c->misses++;
    return e ? &e->d : NULL;
}

void router_cache_put(struct router_cache *c, const struct router_task *t,
                      const struct router_decision *d)
{
    if (c->swept != c->gen) {
        cache_drop(c);
        c->swept = c->gen;
    }
    size_t klen = key_build(t, NULL, 0);
    char *key = xmalloc(klen);
    key_build(t, key, klen);
    uint64_t h = hash_bytes(key, klen);
    struct cache_entry *e = cache_find(c, key, klen, h);
    if (e) {
        free(key);
        router_decision_fini(&e->d);
    } else {
        if (c->count >= CACHE_MAX)
            cache_drop(c);
        e = xcalloc(1, sizeof *e);
        e->hash = h;
        e->klen = klen;
        e->key = key;
        e->next = c->bucket[h % CACHE_BUCKETS];
        c->bucket[h % CACHE_BUCKETS] = e;
        c->count++;
    }
    router_decision_copy(&e->d, d);
}

void router_cache_stats(const struct router_cache *c, uint64_t *hits, uint64_t *misses,
                        size_t *entries)
{
    if (hits)
        *hits = c->hits;
    if (misses)
        *misses = c->misses;
    if (entries)
        *entries = c->swept == c->gen ? c->count : 0;
}

/* === Tool selection === */

#define WORD_MAX 48
#define QUERY_MAX 64
#define QUERY_SLOTS 128
#define NAME_WEIGHT 3.0
#define DESC_WEIGHT 1.0

static const char *const stopwords[] = {
    "a",     "about", "all",   "an",    "and",   "any",   "are",   "as",    "at",
    "be",    "but",   "by",    "can",   "could", "do",    "does",  "for",   "from",
    "has",   "have",  "how",   "i",     "if",    "in",    "into",  "is",    "it",
    "its",   "me",    "my",    "no",    "not",   "of",    "on",    "or",    "our",
    "please", "should", "so",  "some",  "than",  "that",  "the",   "their", "them",
    "then",  "there", "these", "this",  "those", "to",    "up",    "was",   "we",
    "were",  "what",  "when",  "which", "who",   "will",  "with",  "would", "you",
    "your",
};

/* Next word of *p into w (lower-cased, plural folded, at most WORD_MAX
 * bytes kept); returns its length, 0 at the end. */
static size_t next_word(const char **p, char *w)
{
    const unsigned char *s = (const unsigned char *)*p;
    for (;;) {
        while (*s && !(*s >= 0x80 || (*s >= '0' && *s <= '9') || ((*s | 0x20) >= 'a' &&
                                                                   (*s | 0x20) <= 'z')))
            s++;
        if (!*s) {
            *p = (const char *)s;
            return 0;
        }
        size_t n = 0;
        int prev_lower = 0;
        while (*s >= 0x80 || (*s >= '0' && *s <= '9') ||
               ((*s | 0x20) >= 'a' && (*s | 0x20) <= 'z')) {
            int upper = *s >= 'A' && *s <= 'Z';
            if (upper && prev_lower)
                break;   /* camelCase boundary */
            if (n < WORD_MAX)
                w[n++] = (char)(upper ? *s | 0x20 : *s);
            prev_lower = *s >= 'a' && *s <= 'z';
            s++;
        }
        if (n > 4 && memcmp(w + n - 3, "ies", 3) == 0) {
            n -= 2;
            w[n - 1] = 'y';
        } else if (n > 3 && w[n - 1] == 's' && w[n - 2] != 's') {
            n--;
        }
        w[n] = '\0';
        if (n >= 2) {
            *p = (const char *)s;
            return n;
        }
    }
}

struct query {
    size_t n;
    char word[QUERY_MAX][WORD_MAX + 1];
    size_t len[QUERY_MAX];
    uint64_t hash[QUERY_MAX];
    signed char slot[QUERY_SLOTS];
};

static int query_find(const struct query *q, const char *w, size_t len, uint64_t h)
{
    for (size_t p = h & (QUERY_SLOTS - 1);; p = (p + 1) & (QUERY_SLOTS - 1)) {
        int i = q->slot[p];
        if (i < 0)
            return -(int)p - 1;
        if (q->hash[i] == h && q->len[i] == len && memcmp(q->word[i], w, len) == 0)
            return i;
    }
}

static int is_stopword(const char *w)
{
    for (size_t i = 0; i < ARRAY_LEN(stopwords); i++)
        if (strcmp(stopwords[i], w) == 0)
            return 1;
    return 0;
}

static void query_init(struct query *q, const char *text)
{
    char w[WORD_MAX + 1];
    size_t len;
    q->n = 0;
    memset(q->slot, -1, sizeof q->slot);
    while (q->n < QUERY_MAX && (len = next_word(&text, w))) {
        if (is_stopword(w))
            continue;
        uint64_t h = hash_bytes(w, len);
        int at = query_find(q, w, len, h);
        if (at >= 0)
            continue;
        q->slot[-at - 1] = (signed char)q->n;
        memcpy(q->word[q->n], w, len + 1);
        q->len[q->n] = len;
        q->hash[q->n] = h;
        q->n++;
    }
}

/* The bits of the query words found in s. */
static uint64_t query_mask(const struct query *q, const char *s)
{
    char w[WORD_MAX + 1];
    size_t len;
    uint64_t m = 0;
    if (!s)
        return 0;
    while ((len = next_word(&s, w))) {
        int at = query_find(q, w, len, hash_bytes(w, len));
        if (at >= 0)
            m |= 1ull << at;
    }
    return m;
}

struct ranked {
    double score;
    size_t index;
};

static int ranked_cmp(const void *pa, const void *pb)
{
    const struct ranked *a = pa, *b = pb;
    if (a->score != b->score)
        return a->score > b->score ? -1 : 1;
    return a->index < b->index ? -1 : a->index > b->index;
}

size_t router_select_tools(const char *text, const struct router_tool *tools, size_t ntools,
                           size_t k, size_t *out)
{
    struct query q;
    if (!k || !ntools || !text)
        return 0;
    query_init(&q, text);
    if (!q.n)
        return 0;
    uint64_t *mask = xmalloc(2 * ntools * sizeof *mask);
    size_t df[QUERY_MAX] = {0};
    uint64_t server_mask = 0;
    for (size_t i = 0; i < ntools; i++) {
        /* a server's tools usually come together: tokenise its name once */
        if (i == 0 || tools[i].server != tools[i - 1].server)
            server_mask = query_mask(&q, tools[i].server);
        mask[2 * i] = query_mask(&q, tools[i].name);
        mask[2 * i + 1] = query_mask(&q, tools[i].description) | server_mask;
        for (uint64_t any = mask[2 * i] | mask[2 * i + 1]; any; any &= any - 1)
            df[__builtin_ctzll(any)]++;
    }
    double idf[QUERY_MAX];
    for (size_t j = 0; j < q.n; j++)
        idf[j] = log(1.0 + ((double)ntools - (double)df[j] + 0.5) / ((double)df[j] + 0.5));
    struct ranked *r = xmalloc(ntools * sizeof *r);
    size_t nr = 0;
    for (size_t i = 0; i < ntools; i++) {
        uint64_t name = mask[2 * i], desc = mask[2 * i + 1];
        if (!(name | desc))
            continue;
        double s = 0;
        for (size_t j = 0; j < q.n; j++) {
            if (name >> j & 1)
                s += NAME_WEIGHT * idf[j];
            if (desc >> j & 1)
                s += DESC_WEIGHT * idf[j];
        }
        r[nr].score = s;
        r[nr].index = i;
        nr++;
    }
    qsort(r, nr, sizeof *r, ranked_cmp);
    size_t m = nr < k ? nr : k;
    for (size_t i = 0; i < m; i++)
        out[i] = r[i].index;
    free(r);
    free(mask);
    return m;
}
