/* qdrant.h — the Qdrant REST client: the memory's optional scale-out
 * backend. SQLite stays the source of truth; memory writes land in the
 * `outbox` table and qdrant_drain() sends them, in order, batched per
 * collection. Searches may ask Qdrant (qdrant_query) and fall back to the
 * local index when it fails.
 *
 * Requests run on the event loop through http.h (libcurl multi); nothing
 * blocks. A circuit breaker guards the client: connection errors, timeouts
 * and 5xx answers count as failures; while it is open calls fail fast with
 * a message saying when the next try goes. Callbacks always come later,
 * from the loop, never from inside the call that started them.
 * Loop thread only (that includes the SQLite writes of qdrant_drain). */
#ifndef MCPDECK_QDRANT_H
#define MCPDECK_QDRANT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cjson/cJSON.h>

struct config;
struct loop;
struct db;
struct qdrant;

/* A point to upsert. id is a UUID; payload_json a JSON object or NULL. */
struct qdrant_point {
    const char *id;
    const float *vector;
    size_t dim;
    const char *payload_json;
};

/* A search hit; everything is borrowed for the callback's duration. */
struct qdrant_hit {
    const char *id;
    double score;
    const cJSON *payload;         /* NULL when the point has none */
};

/* error is NULL on success, else a sentence. */
typedef void (*qdrant_done_cb)(void *payload, const char *error);
typedef void (*qdrant_query_cb)(void *payload, const struct qdrant_hit *hits, size_t n,
                                const char *error);
/* sent: rows delivered and deleted from the outbox by this drain; failed:
 * rows of the batch that failed (kept, with attempts/next_ms/error bumped);
 * remaining: the outbox depth at the end (-1 if it could not be read). */
typedef void (*qdrant_drain_cb)(void *payload, int64_t sent, int64_t failed, int64_t remaining,
                                const char *error);

/* A client for the server at url ("http://127.0.0.1:6333"; a trailing "/"
 * is ignored). api_key (may be NULL) goes in the api-key header;
 * timeout_ms bounds each request (0 = 10 s). The breaker opens after 3
 * consecutive failures and retries after 15 s (qdrant_set_breaker). */
struct qdrant *qdrant_new(struct loop *l, const char *url, const char *api_key, long timeout_ms);
/* Cancels pending requests without calling their callbacks. NULL-safe. */
void qdrant_free(struct qdrant *q);
void qdrant_set_breaker(struct qdrant *q, int threshold, int64_t cooldown_ms);

/* Make sure collection `name` exists: GET it; when missing create it
 * (dim-sized Cosine vectors) and a keyword index on payload "namespace".
 * An existing collection whose vector size is not dim is an error.
 * Collections ensured once are remembered for the client's lifetime. */
void qdrant_ensure_collection(struct qdrant *q, const char *name, size_t dim, qdrant_done_cb cb,
                              void *payload);

/* Upsert n points (PUT .../points?wait=true); points are copied. */
void qdrant_upsert(struct qdrant *q, const char *collection, const struct qdrant_point *points,
                   size_t n, qdrant_done_cb cb, void *payload);
/* Delete points by id (POST .../points/delete?wait=true). A missing
 * collection is success: its points are gone anyway. */
void qdrant_delete(struct qdrant *q, const char *collection, const char *const *ids, size_t n,
                   qdrant_done_cb cb, void *payload);

/* The k nearest points to vector (POST .../points/query) with payloads.
 * filter_json: a Qdrant filter object ({"must": [...]}) or NULL;
 * score_threshold < 0: none. A missing collection gives no hits. */
void qdrant_query(struct qdrant *q, const char *collection, const float *vector, size_t dim,
                  int k, const char *filter_json, double score_threshold, qdrant_query_cb cb,
                  void *payload);

/* A cheap request to see that Qdrant answers (GET /collections), through
 * the breaker like every other: cb's error is NULL when it did. */
void qdrant_ping(struct qdrant *q, qdrant_done_cb cb, void *payload);

/* Send the outbox: rows in id order, consecutive rows of one collection
 * and one op sent as one request of at most max_batch points (upserts
 * ensure their collection first, dim = vector bytes / 4); each batch sent
 * is deleted from the outbox in one transaction. On a failure the batch's
 * rows get attempts + 1, next_ms = now + backoff (1 s doubling, capped at
 * 60 s, wall clock) and the error, and the drain stops: nothing is lost.
 * Unless QDRANT_DRAIN_FORCE, a head row still backing off (next_ms in the
 * future) ends the drain quietly. One drain at a time per client. */
enum { QDRANT_DRAIN_FORCE = 1 };
void qdrant_drain(struct qdrant *q, struct db *db, int max_batch, int flags, qdrant_drain_cb cb,
                  void *payload);

/* 1 while the breaker is closed and the last request did not fail. */
int qdrant_healthy(const struct qdrant *q);
/* The last failure's message, NULL after a success. Borrowed. */
const char *qdrant_last_error(const struct qdrant *q);
/* "closed", "half-open" or "open". */
const char *qdrant_breaker_state(struct qdrant *q);
/* Rows waiting in the outbox, or -1 with *errmsg (may be NULL). */
int64_t qdrant_outbox_depth(struct db *db, char **errmsg);

/* The ms to wait after `attempts` failed attempts: 1 s doubling, capped
 * at 60 s. */
int64_t qdrant_backoff_ms(int attempts);

/* === The memory's side (qdrant_memory.c) === */

/* The client memory.qdrant configures (url, the key from the environment
 * variable api_key_env, timeout), or NULL when there is no url. */
struct qdrant *qdrant_from_config(struct loop *l, const struct config *cfg);

/* CLI: send the whole outbox now (backoff ignored), blocking on a private
 * loop; *sent rows went, *remaining are left. 0 when the outbox ended
 * empty; -1 and *errmsg (not configured, or why a batch failed: its rows
 * stay queued). Never on the engine's loop. */
int qdrant_sync_blocking(const struct config *cfg, struct db *db, int max_batch, int64_t *sent,
                         int64_t *remaining, char **errmsg);

/* `mcpdeck memory sync [--batch N]`: qdrant_sync_blocking with batches of
 * N (default 64) points; prints "sent N, outbox empty" or "sent N, M
 * still queued" on stdout, the reason on stderr. Returns the exit code:
 * 0 all sent, 1 not configured or a failure, 2 usage. */
int qdrant_cli_sync(const struct config *cfg, struct db *db, int argc, char **argv);

/* CLI: memory_search()'s vector part through Qdrant. qdrant_msearch_fn
 * fits memory_set_vector_search(): for namespace ns it queries collection
 * <prefix><ns> (the memory filter translated to Qdrant conditions on
 * metadata.<key>) and maps the hits back to entry ids by content hash
 * (points of entries deleted here are skipped). After the first failure
 * it says so once on warn ("...; searching the local index instead") and
 * returns -1 for every later namespace, so the local index answers.
 * Blocking (a private loop): never on the engine's loop. new returns NULL
 * when Qdrant is not configured. */
struct qdrant_msearch;
struct qdrant_msearch *qdrant_msearch_new(const struct config *cfg, struct db *db, FILE *warn);
void qdrant_msearch_free(struct qdrant_msearch *s);   /* NULL-safe */
int qdrant_msearch_fn(void *ctx, const char *ns, const float *qvec, int dim, size_t limit,
                      const cJSON *filter, int64_t **ids, double **scores, size_t *n,
                      char **errmsg);
/* 1 when Qdrant answered at least one namespace. */
int qdrant_msearch_used(const struct qdrant_msearch *s);

/* Engine: the same search without blocking. qdrant_asearch_fn fits
 * memory_set_vector_search_async(): it queries <prefix><ns> on q (the
 * engine's client, its breaker and timeout) with the translated filter and
 * score_threshold, maps the hits back to entry ids in db and answers
 * later from the loop; an error (refused, timed out, the breaker open)
 * is answered as such, so the local index takes that namespace. free
 * answers the searches still waiting with an error: call it just before
 * qdrant_free(q), with no loop turn between. */
struct qdrant_asearch;
struct qdrant_asearch *qdrant_asearch_new(struct qdrant *q, const struct config *cfg,
                                          struct db *db);
void qdrant_asearch_free(struct qdrant_asearch *s);   /* NULL-safe */
void qdrant_asearch_fn(void *ctx, const char *ns, const float *qvec, int dim, size_t limit,
                       const cJSON *filter, double score_threshold,
                       void (*done)(void *token, const int64_t *ids, const double *scores,
                                    size_t n, const char *error),
                       void *token);

#endif
