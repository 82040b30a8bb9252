/* memory.h — the memory store: text entries with JSON metadata in
 * namespaces, searchable by keyword (FTS5 BM25), by vector (an embedder
 * and an in-memory vecindex per namespace) or both fused (reciprocal rank
 * fusion). SQLite (data/schema/006_memory.sql) is the source of truth; the
 * vector indexes are loaded lazily from it and kept in step with writes.
 *
 * An entry's content hash is the SHA-256 of its text: adding the same text
 * to the same namespace again returns the existing entry, its metadata
 * merged (shallow; new keys win). Entries may expire (a namespace's ttl
 * from config, or a ttl per add); expired entries are invisible at once
 * and purged on open and at the next access after they expire.
 *
 * Vectors carry the id of the embedder that made them; vectors of another
 * embedder than the configured one are stale and never searched until
 * memory_reindex() rebuilds them. With memory.qdrant.url configured every
 * add, update and delete also queues an outbox row for the Qdrant client.
 *
 * Loop thread only (it uses the caller's SQLite connection). Without a
 * loop every call blocks, embedding included (fine for the CLI). After
 * memory_attach_loop() the *_async calls embed on the loop's worker pool
 * (one embedding at a time) and finish on the loop thread. */
#ifndef MCPDECK_MEMORY_H
#define MCPDECK_MEMORY_H

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct config;
struct db;
struct embedder;
struct loop;
struct memory;

struct memory_entry {
    int64_t id;
    char *ns;
    char *text;
    cJSON *metadata;             /* an object */
    char hash[65];               /* SHA-256 of text, lowercase hex */
    int64_t created_ms, updated_ms;   /* Unix ms */
    int64_t expires_ms;          /* 0 = never */
};

enum memory_mode { MEMORY_HYBRID, MEMORY_VECTOR, MEMORY_KEYWORD };

struct memory_query {
    const char *text;
    size_t k;                    /* 0: 10 */
    const char *const *ns;       /* namespaces to search; nns 0 = all */
    size_t nns;
    const cJSON *filter;         /* NULL, or {"key": value | {"gte": x, "lt": y, ...}} */
    double min_score;            /* > 0: results scoring below it are dropped */
    enum memory_mode mode;
    int exact;                   /* vector part: a full float32 scan, no int8 pre-pass */
};

struct memory_hit {
    struct memory_entry *entry;  /* owned by the hit array */
    double score;                /* hybrid: fused RRF; vector: cosine; keyword: -bm25 */
    double bm25;                 /* -bm25 (higher is better); 0 when not a keyword hit */
    double vector;               /* cosine; 0 when not a vector hit */
    int rank_keyword, rank_vector;   /* 1-based; 0 = not in that list */
};

/* Open the store on db (migrated), with the embedder and namespaces from
 * cfg (cfg must outlive the store). Marks vectors of other embedders
 * stale and purges expired entries. 0, or -1 and *errmsg. */
int memory_open(struct db *db, const struct config *cfg, struct memory **out, char **errmsg);
/* NULL-safe. Async operations still embedding finish with an error. */
void memory_free(struct memory *m);

/* Replace the embedder (taken; for tests and reindexing with another one):
 * vectors of the old one become stale. */
void memory_set_embedder(struct memory *m, struct embedder *e);
/* Use a fixed Unix-ms clock (tests); 0 goes back to the real one. */
void memory_set_clock(struct memory *m, int64_t now_ms);
/* Answer the vector part of searches with fn instead of the local index
 * (the Qdrant hook, qdrant_msearch_fn): for namespace ns, up to limit
 * entry ids nearest to qvec, best first, with cosine scores (*ids and
 * *scores malloc'd). When it returns -1 (*errmsg set) the local index
 * answers that namespace. fn NULL: the local index only. */
typedef int (*memory_vector_search_fn)(void *ctx, const char *ns, const float *qvec, int dim,
                                       size_t limit, const cJSON *filter, int64_t **ids,
                                       double **scores, size_t *n, char **errmsg);
void memory_set_vector_search(struct memory *m, memory_vector_search_fn fn, void *ctx);
/* The asynchronous form of the hook, for searches on the loop (the
 * engine's Qdrant client): for namespace ns, answer done(token, ...)
 * exactly once, at once or later from the loop thread, with up to limit
 * entry ids nearest to qvec (best first) and their cosine scores
 * (borrowed for the call), or with error set: the local index answers
 * that namespace. score_threshold < 0: none. The *_async searches use it
 * (once the query is embedded) before the synchronous hook; fn NULL: off.
 * The memory's worker slot stays taken until every namespace answered. */
typedef void (*memory_vector_done_fn)(void *token, const int64_t *ids, const double *scores,
                                      size_t n, const char *error);
typedef void (*memory_vector_search_async_fn)(void *ctx, const char *ns, const float *qvec,
                                              int dim, size_t limit, const cJSON *filter,
                                              double score_threshold,
                                              memory_vector_done_fn done, void *token);
void memory_set_vector_search_async(struct memory *m, memory_vector_search_async_fn fn,
                                    void *ctx);
/* Embed on l's worker pool in the *_async calls. */
void memory_attach_loop(struct memory *m, struct loop *l);

/* The namespace used when none is given ("shared" if listed, else the
 * first). Borrowed. */
const char *memory_default_ns(const struct memory *m);

/* Add text to ns (NULL: the default) with metadata (an object or NULL);
 * ttl_ms > 0 overrides the namespace's ttl. Returns 0 (a new entry) or 1
 * (the same text was there: metadata merged, expiry extended), *id set;
 * -1 and *errmsg for an unknown namespace, bad metadata or a store error.
 * Blocking (embeds). An embedding failure keeps the entry without a
 * vector (stale in stats; reindex embeds it) and is logged. */
int memory_add(struct memory *m, const char *ns, const char *text, const cJSON *metadata,
               int64_t ttl_ms, int64_t *id, char **errmsg);
/* The entry, or 1 when there is none (or it expired); -1 on a store error. */
int memory_get(struct memory *m, int64_t id, struct memory_entry **out);
void memory_entry_free(struct memory_entry *e);   /* NULL-safe */
/* Change text (NULL: keep; a change re-embeds) and/or merge metadata
 * (NULL: keep). 0, 1 not found, -1 and *errmsg. */
int memory_update(struct memory *m, int64_t id, const char *text, const cJSON *metadata,
                  char **errmsg);
/* 0, 1 not found, -1 and *errmsg. */
int memory_delete(struct memory *m, int64_t id, char **errmsg);
/* Newest first (by updated time, then id); ns NULL = all; limit 0 = 50.
 * *out is an array of *n owned entries; free with memory_entries_free. */
int memory_list(struct memory *m, const char *ns, size_t limit, struct memory_entry ***out,
                size_t *n);
void memory_entries_free(struct memory_entry **v, size_t n);

/* Search (see struct memory_query). *out holds *n hits best first; free
 * with memory_hits_free. -1 and *errmsg for a bad filter or namespace. */
/* Whether asynchronous adds or searches are still under way (engine_free
 * lets them finish: a captured answer must not be lost at exit). */
int memory_busy(const struct memory *m);
/* An entry as JSON: every field (the export line format, and the CLI's --json). */
cJSON *memory_entry_json(const struct memory_entry *e);

int memory_search(struct memory *m, const struct memory_query *q, struct memory_hit **out,
                  size_t *n, char **errmsg);
void memory_hits_free(struct memory_hit *h, size_t n);

/* Reciprocal rank fusion (k = 60) of two ranked id lists (best first):
 * each id scores the sum of 1 / (60 + rank) over the lists it is in.
 * Fills out (room for nkw + nvec) with distinct ids by fused score, ties
 * by ascending id, and their scores; returns how many. */
size_t memory_fuse(const int64_t *kw, size_t nkw, const int64_t *vec, size_t nvec,
                   int64_t *out, double *scores);

/* A filter (see memory_query) as SQL over "metadata": appends
 * " AND (...)" to sql and the values to bind, in order, to *binds (a new
 * JSON array). 0, or -1 and *errmsg naming what is wrong. */
int memory_filter_sql(const cJSON *filter, const char *column, char **sql, cJSON **binds,
                      char **errmsg);

/* Every entry (ns NULL = all namespaces) as JSON Lines: id, namespace,
 * text, metadata, hash, created_ms, updated_ms, expires_ms (null when
 * never). Returns the number written, or -1 and *errmsg. */
long memory_export(struct memory *m, const char *ns, FILE *out, char **errmsg);
/* Read JSON Lines written by memory_export (only namespace and text are
 * required): adds with the same dedup; a new entry keeps the line's
 * timestamps. Blank lines are skipped. All or nothing: a bad line
 * ("line 3: ...") rolls back and returns -1 with *errmsg; so does a line
 * of more than 64 MiB (read no further: /dev/zero never ends one). *added and
 * *merged count new and deduplicated lines. */
int memory_import(struct memory *m, FILE *in, size_t *added, size_t *merged, char **errmsg);
/* Embed entries without a current vector (all=1: every entry) with the
 * configured embedder. *done counts embedded entries. 0, or -1 and *errmsg. */
int memory_reindex(struct memory *m, int all, size_t *done, char **errmsg);
/* {"entries": {ns: n}, "total": n, "vectors": {embedder: n},
 *  "embedder": id, "stale": n, "outbox": n, "expiring": n}. New object. */
cJSON *memory_stats(struct memory *m);
/* Delete expired entries now. Returns how many went. */
int memory_purge(struct memory *m);

/* The Qdrant point id of a content hash: its first 16 bytes as a UUID
 * (8-4-4-4-12 lowercase hex) with version 5 and the RFC 4122 variant set.
 * out has room for 37 bytes. */
void memory_point_id(const char *hash_hex, char out[37]);

/* Store a model task's final answer when memory.capture.<type> names a
 * namespace (metadata: job, type). No-op otherwise; failures are logged.
 * Loop thread; async when a loop is attached. */
void memory_capture(struct memory *m, const char *type, const char *text, int64_t job_id);

/* === asynchronous forms (after memory_attach_loop) ===
 * The callback runs on the loop thread, once, possibly before the call
 * returns (no loop attached). error is NULL on success. */
typedef void (*memory_add_cb)(void *payload, int rc, int64_t id, const char *error);
typedef void (*memory_search_cb)(void *payload, struct memory_hit *hits, size_t n,
                                 const char *error);   /* hits are the callee's */
void memory_add_async(struct memory *m, const char *ns, const char *text,
                      const cJSON *metadata, int64_t ttl_ms, memory_add_cb cb, void *payload);
void memory_search_async(struct memory *m, const struct memory_query *q, memory_search_cb cb,
                         void *payload);

/* Where a search's vector part came from: backend "qdrant" when the
 * asynchronous hook answered every namespace searched, else "local";
 * fallback_reason says why the hook did not answer (its first error),
 * NULL when it was not asked (no hook, keyword mode, no query vector).
 * Borrowed for the callback. */
struct memory_search_info {
    const char *backend;
    const char *fallback_reason;
};
typedef void (*memory_search_ext_cb)(void *payload, struct memory_hit *hits, size_t n,
                                     const struct memory_search_info *info, const char *error);
/* memory_search_async, telling the callback where the answer came from. */
void memory_search_async_ext(struct memory *m, const struct memory_query *q,
                             memory_search_ext_cb cb, void *payload);

#endif
