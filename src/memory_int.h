/* memory_int.h — the memory store's state, shared by memory.c (entries,
 * vectors, the outbox), memory_async.c (async embedding, closing),
 * memory_search.c (keyword, vector and fused search, filters) and
 * memory_io.c (export, import, reindex, stats). Nothing else includes it. */
#ifndef MCPDECK_MEMORY_INT_H
#define MCPDECK_MEMORY_INT_H

#include "memory.h"
#include "config.h"
#include "db.h"

#include <sqlite3.h>

struct vecindex;
struct memory_op;

struct memory_vi {               /* one namespace's vectors of the current embedder */
    char *ns;
    struct vecindex *vi;
};

struct memory {
    struct db *db;
    sqlite3 *h;
    const struct config *cfg;
    struct embedder *emb;
    char *emb_id;
    int dim;                     /* of the current embedder; 0 = not known yet */
    struct memory_vi *vis;
    size_t nvis;
    int64_t fixed_now;           /* memory_set_clock; 0 = real time */
    memory_vector_search_fn vsearch;   /* memory_set_vector_search; NULL = local */
    void *vsearch_ctx;
    memory_vector_search_async_fn avsearch;   /* memory_set_vector_search_async */
    void *avsearch_ctx;
    int64_t next_expiry;         /* earliest expires_ms; 0 = none */
    struct loop *loop;
    struct memory_op *ops, **ops_tail;   /* async embeddings waiting */
    int op_running;              /* one on the worker pool */
    int closing;                 /* memory_free while op_running */
};

int64_t memory_now(const struct memory *m);
/* A statement for sql on the store's handle, or NULL (the error logged). */
sqlite3_stmt *memory_prep(struct memory *m, const char *sql);
/* Purge when the earliest expiry has passed. */
void memory_purge_due(struct memory *m);
int memory_ns_known(const struct memory *m, const char *ns);
/* 0 when ns is configured, else -1 and *errmsg naming those that are. */
int memory_ns_check(const struct memory *m, const char *ns, char **errmsg);
/* 0 when meta is NULL or a JSON object, else -1 and *errmsg. */
int memory_meta_check(const cJSON *meta, char **errmsg);
/* The namespace's index, loaded from SQLite on first use; NULL when no
 * dimension is known yet (no vector stored by this embedder). */
struct vecindex *memory_vi_get(struct memory *m, const char *ns);
/* Forget every loaded index (they reload on next use). */
void memory_vi_drop_all(struct memory *m);
/* Embed one text (blocking). 0 and *vec (dim floats, malloc'd), or -1. */
int memory_embed_one(struct memory *m, const char *text, float **vec, int *dim, char **errmsg);
/* Store (replace) entry id's vector for the current embedder, update the
 * namespace's index and, with Qdrant configured, queue the upsert. */
int memory_vec_store(struct memory *m, int64_t id, const float *vec, int dim, char **errmsg);
/* Read an entry from a statement whose columns are id, namespace, text,
 * metadata, hash, created_ms, updated_ms, expires_ms (from column col0). */
struct memory_entry *memory_entry_from_row(sqlite3_stmt *st, int col0);
#define MEMORY_ENTRY_COLS \
    "m.id, m.namespace, m.text, m.metadata, m.hash, m.created_ms, m.updated_ms, m.expires_ms"

/* The add of memory_add with the vector given (vec NULL: none, e.g. the
 * embedding failed). created/updated/expires >= 0 override the clock and
 * the ttl (import). Same returns as memory_add. */
struct memory_add_args {
    const char *ns, *text;
    const cJSON *metadata;
    int64_t ttl_ms;
    int64_t created_ms, updated_ms, expires_ms;   /* -1: now / from the ttl */
};
int memory_add_vec(struct memory *m, const struct memory_add_args *a, const float *vec, int dim,
                   int64_t *id, char **errmsg);
/* Search with the query vector given (qvec NULL: no vector part). */
int memory_search_vec(struct memory *m, const struct memory_query *q, const float *qvec,
                      int qdim, struct memory_hit **out, size_t *n, char **errmsg);

#endif
