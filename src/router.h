/* router.h — the task router: which server takes a task, and why.
 *
 * Pure: no I/O, no engine, no shared state. The engine hands in plain
 * arrays (the servers with their capabilities, task types, health and
 * availability as it knows them now) and gets back a decision holding the
 * score breakdown of every server, which it stores with the job (as JSON)
 * and shows with `mcpdeck run --explain` (as a text table). A route cache
 * keeps decisions per routing key until the engine bumps its generation.
 * For model tasks over large catalogs, router_select_tools() picks the few
 * tools relevant to the task text. All functions are thread-safe except
 * that one router_cache must not be used by two threads at once.
 *
 * Scoring (weights configurable, defaults in brackets):
 *   total = capability [0.4] + fit [0.3] + health [0.2] + preference [0.1]
 *   capability  fraction of the task's required capabilities the server
 *               lists; 1.0 when the task requires none and the server lists
 *               the task's type among its task types
 *   fit         heavy task: 1.0 heavy-capable server, 0.4 light-only;
 *               light task: 1.0 light-capable server, 0.6 heavy-only;
 *               0.5 when the server declares neither light nor heavy
 *   health      healthy 1.0, warning 0.7, unhealthy 0.3, unknown 0.5
 *   preference  the mean of those known of config_pref and success_rate
 *               (each clamped to 0..1); 0.5 when neither is known
 *
 * Candidates are the servers listing at least one required capability or
 * the task's type. A task naming a server considers that server only, and
 * it is a candidate whatever it lists (the user chose it). Unavailable
 * servers are never chosen but stay in the breakdown with the caller's
 * reason. Order (and so the choice): eligible first, then candidates, then
 * total, capability, health (each compared at 1e-9), then name bytewise
 * ascending; the result does not depend on the order of the input. Server
 * names are assumed unique. */
#ifndef MCPDECK_ROUTER_H
#define MCPDECK_ROUTER_H

#include <stddef.h>
#include <stdint.h>

struct cJSON;

/* A task may require at most this many distinct capabilities (they are
 * interned to the bits of a 64-bit mask while scoring). */
#define ROUTER_MAX_CAPS 64

enum router_health {
    ROUTER_HEALTH_UNKNOWN,
    ROUTER_HEALTH_HEALTHY,
    ROUTER_HEALTH_WARNING,
    ROUTER_HEALTH_UNHEALTHY,
};

/* "unknown", "healthy", "warning", "unhealthy" (static). */
const char *router_health_name(enum router_health h);

struct router_weights {
    double capability, fit, health, preference;
};

/* Fill *w with the defaults: 0.4, 0.3, 0.2, 0.1. */
void router_weights_default(struct router_weights *w);

/* One server as the engine sees it now. Every pointer is borrowed for the
 * duration of the call. */
struct router_server {
    const char *name;
    const char *const *caps;
    size_t ncaps;
    const char *const *task_types;
    size_t ntask_types;
    int light, heavy;              /* the kinds of task it can take */
    enum router_health health;
    int available;                 /* 0: excluded; why says why */
    const char *why;               /* e.g. "breaker open, retry at 12:00:03" */
    double config_pref;            /* 0..1, or < 0 when not configured */
    double success_rate;           /* 0..1 for this task type, or < 0 when no history */
};

struct router_task {
    const char *type;              /* task type or NULL */
    const char *const *caps;       /* required capabilities */
    size_t ncaps;
    const char *server;            /* explicit server or NULL */
    int heavy;                     /* 1 heavy, 0 light */
};

struct router_score {
    const char *name;              /* see router_decision */
    double total, capability, fit, health, preference;
    int candidate;                 /* matched the task at all */
    int available;                 /* the router_server's available */
    int eligible;                  /* candidate and available */
    char *note;                    /* "lacks x, y" / the exclusion reason /
                                      "does not take 'T' tasks" / NULL */
};

/* A decision owns one block holding its scores and their notes (and, for
 * a copy, the names): free it with router_decision_fini() only, never the
 * notes one by one. From router_route() the names are borrowed from the
 * router_server array; from router_decision_copy() and the cache they are
 * owned by the decision. */
struct router_decision {
    const char *chosen;            /* NULL when none */
    struct router_score *scores;   /* best first (eligible before others) */
    size_t nscores;                /* every server; only the named one when
                                      the task names a server */
};

/* Route task t over servers[0..n). w NULL means the defaults. Fills *out
 * (always; release it with router_decision_fini) and returns 0 with
 * out->chosen set, or -1 with out->chosen NULL and a malloc'd *errmsg
 * (errmsg may be NULL) saying why no server fits: the required
 * capabilities and, for each server (by name), what it lacked or why it
 * was excluded; or that the named server is unknown or excluded, and why.
 * Allocates the result block only (two allocations at most). */
int router_route(const struct router_weights *w, const struct router_task *t,
                 const struct router_server *servers, size_t n,
                 struct router_decision *out, char **errmsg);

/* Release what *d owns and zero it. NULL-safe; a zeroed decision is fine. */
void router_decision_fini(struct router_decision *d);

/* Deep-copy src into *dst (names, notes and chosen included; dst owns
 * them). Release with router_decision_fini. */
void router_decision_copy(struct router_decision *dst, const struct router_decision *src);

/* Why d chose nothing, as router_route's errmsg says it (malloc'd), or
 * NULL when d chose a server. For decisions taken from the cache. */
char *router_decision_error(const struct router_decision *d, const struct router_task *t);

/* The decision as JSON (caller frees with cJSON_Delete):
 *   {"task": {"type", "caps": [], "server", "heavy"},   (when t is given)
 *    "weights": {"capability", "fit", "health", "preference"},
 *    "chosen": name | null,
 *    "servers": [{"name", "total", "capability", "fit", "health",
 *                 "preference", "candidate", "available", "eligible",
 *                 "note"?}, ...]}
 * Figures are rounded to 4 decimals; "servers" is in decision order; w NULL
 * means the defaults. */
struct cJSON *router_decision_json(const struct router_decision *d, const struct router_task *t,
                                   const struct router_weights *w);

/* A short aligned text table of the decision (malloc'd): a heading with
 * the task and the choice, then one row per candidate ('*' the chosen one,
 * 'x' an excluded one) with its figures and note, then a count of the
 * servers that match nothing. t may be NULL. */
char *router_explain(const struct router_decision *d, const struct router_task *t);

/* === Route cache === */

/* Decisions keyed by the task's routing key: type, required capabilities
 * (as a set: order and repeats do not matter), explicit server, heavy.
 * One generation counter: router_cache_invalidate() makes every entry
 * stale at once; the engine calls it when any server's health, breaker or
 * availability changes, when the server set changes, and when the weights
 * or preferences change. Holds at most 1024 live entries (past that it
 * starts afresh). */
struct router_cache;

struct router_cache *router_cache_new(void);
void router_cache_free(struct router_cache *c);    /* NULL-safe */
void router_cache_invalidate(struct router_cache *c);   /* bumps the generation */

/* The cached decision for t's routing key in the current generation, or
 * NULL. Owned by the cache: valid until the next router_cache_put,
 * router_cache_invalidate or router_cache_free on c (copy it with
 * router_decision_copy to keep it). Counts a hit or a miss. */
const struct router_decision *router_cache_get(struct router_cache *c,
                                               const struct router_task *t);

/* Store a deep copy of d (names and notes copied) under t's routing key in
 * the current generation, replacing any entry for that key. */
void router_cache_put(struct router_cache *c, const struct router_task *t,
                      const struct router_decision *d);

/* Counters since router_cache_new: get() calls that found / did not find
 * a live entry; and live entries now. Any out-pointer may be NULL. */
void router_cache_stats(const struct router_cache *c, uint64_t *hits, uint64_t *misses,
                        size_t *entries);

/* === Tool selection === */

struct router_tool {
    const char *server;
    const char *name;
    const char *description;       /* may be NULL */
};

/* Indices of the k tools most relevant to text, best first; returns the
 * count written to out (at most k; tools sharing no word with text are
 * never returned, so it may be fewer). Words are runs of letters and digits,
 * split at camelCase, lower-cased, plural 's'/'ies' folded, common English
 * words dropped from text (at most 64 distinct words of text are used).
 * A tool scores, for each word of text it contains, idf(word) x (3 when in
 * its name + 1 when in its description or server name), idf computed over
 * these ntools tools (BM25's form). Ties go to the lower index. */
size_t router_select_tools(const char *text, const struct router_tool *tools, size_t ntools,
                           size_t k, size_t *out);

#endif
