/* qdrant_memory.c — the memory's side of Qdrant: the client that
 * memory.qdrant configures, the outbox drained from the command line, and
 * a vector search for memory_search() that asks Qdrant and maps its hits
 * back to entries (by namespace and content hash). The blocking helpers
 * run a private event loop until their request ends: for the CLI, never
 * inside the engine's loop. */
#include "qdrant.h"

#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "db.h"
#include "loop.h"
#include "util.h"

struct qdrant *qdrant_from_config(struct loop *l, const struct config *cfg)
{
    const struct config_memory *m = &cfg->memory;
    if (!m->qdrant_url || !*m->qdrant_url)
        return NULL;
    const char *key = m->qdrant_api_key_env ? getenv(m->qdrant_api_key_env) : NULL;
    return qdrant_new(l, m->qdrant_url, key, m->qdrant_timeout_ms);
}

/* === The outbox from the CLI === */

struct sync_wait {
    int done;
    int64_t sent, failed, remaining;
    char *error;
};

static void sync_done(void *payload, int64_t sent, int64_t failed, int64_t remaining,
                      const char *error)
{
    struct sync_wait *w = payload;
    w->done = 1;
    w->sent = sent;
    w->failed = failed;
    w->remaining = remaining;
    w->error = xstrdup(error);
}

int qdrant_sync_blocking(const struct config *cfg, struct db *db, int max_batch,
                         int64_t *sent, int64_t *remaining, char **errmsg)
{
    *sent = 0;
    *remaining = qdrant_outbox_depth(db, NULL);
    struct loop *l = loop_new();
    struct qdrant *q = qdrant_from_config(l, cfg);
    if (!q) {
        loop_free(l);
        *errmsg = xstrdup("Qdrant is not configured (set memory.qdrant.url)");
        return -1;
    }
    struct sync_wait w = {0};
    qdrant_drain(q, db, max_batch, QDRANT_DRAIN_FORCE, sync_done, &w);
    while (!w.done)
        loop_run_once(l, 200);
    qdrant_free(q);
    loop_free(l);
    *sent = w.sent;
    *remaining = w.remaining;
    if (w.error) {
        *errmsg = w.error;
        return -1;
    }
    if (w.remaining != 0) {   /* rows still backing off cannot be: the drain was forced */
        *errmsg = xasprintf("%lld outbox rows were not sent", (long long)w.remaining);
        return -1;
    }
    return 0;
}

/* === Vector search through Qdrant === */

struct qdrant_msearch {
    const struct config *cfg;
    struct db *db;
    FILE *warn;
    struct loop *loop;
    struct qdrant *q;
    int down;                        /* failed once: the local index answers the rest */
    int used;                        /* answered at least one namespace */
};

struct qdrant_msearch *qdrant_msearch_new(const struct config *cfg, struct db *db, FILE *warn)
{
    if (!cfg->memory.qdrant_url || !*cfg->memory.qdrant_url)
        return NULL;
    struct qdrant_msearch *s = xcalloc(1, sizeof *s);
    s->cfg = cfg;
    s->db = db;
    s->warn = warn;
    s->loop = loop_new();
    s->q = qdrant_from_config(s->loop, cfg);
    return s;
}

void qdrant_msearch_free(struct qdrant_msearch *s)
{
    if (!s)
        return;
    qdrant_free(s->q);
    loop_free(s->loop);
    free(s);
}

int qdrant_msearch_used(const struct qdrant_msearch *s)
{
    return s && s->used;
}

/* The memory filter ({"key": value | {"gte": x, ...}} over metadata) as
 * Qdrant conditions on "metadata.<key>", after one on the namespace. What
 * Qdrant cannot say the same way (a float equality, null) is left out:
 * the caller filters the hits by the entries it allows anyway. */
static cJSON *filter_for(const char *ns, const cJSON *filter)
{
    cJSON *f = cJSON_CreateObject();
    cJSON *must = cJSON_AddArrayToObject(f, "must");
    cJSON *c = cJSON_CreateObject();
    cJSON_AddStringToObject(c, "key", "namespace");
    cJSON_AddItemToObject(cJSON_AddObjectToObject(c, "match"), "value", cJSON_CreateString(ns));
    cJSON_AddItemToArray(must, c);
    const cJSON *it;
    cJSON_ArrayForEach(it, filter) {
        cJSON *cond = cJSON_CreateObject();
        char *key = xasprintf("metadata.%s", it->string);
        cJSON_AddStringToObject(cond, "key", key);
        free(key);
        int ok = 0;
        int64_t whole;
        if (cJSON_IsString(it) || cJSON_IsBool(it) ||
            (cJSON_IsNumber(it) && util_whole_in(it->valuedouble, INT64_MIN, INT64_MAX, &whole))) {
            cJSON_AddItemToObject(cJSON_AddObjectToObject(cond, "match"), "value",
                                  cJSON_Duplicate(it, 0));
            ok = 1;
        } else if (cJSON_IsObject(it)) {
            cJSON *range = cJSON_AddObjectToObject(cond, "range");
            static const char *const ops[] = {"gt", "gte", "lt", "lte"};
            for (size_t i = 0; i < ARRAY_LEN(ops); i++) {
                const cJSON *v = cJSON_GetObjectItemCaseSensitive(it, ops[i]);
                if (cJSON_IsNumber(v))
                    cJSON_AddNumberToObject(range, ops[i], v->valuedouble);
            }
            ok = cJSON_GetArraySize(range) > 0;
        }
        if (ok)
            cJSON_AddItemToArray(must, cond);
        else
            cJSON_Delete(cond);
    }
    return f;
}

struct query_wait {
    struct qdrant_msearch *s;
    const char *ns;
    int done;
    char *error;
    int64_t *ids;
    double *scores;
    size_t n;
};

/* Qdrant's hits in namespace ns as entry ids (by content hash) and
 * scores, both malloc'd; points of entries not here are skipped. 0, or
 * -1 and *errmsg. */
static int hits_to_ids(struct db *db, const char *ns, const struct qdrant_hit *hits, size_t n,
                       int64_t **ids, double **scores, size_t *cnt, char **errmsg)
{
    sqlite3 *h = db_handle(db);
    sqlite3_stmt *st = NULL;
    *cnt = 0;
    if (sqlite3_prepare_v2(h, "SELECT id FROM memory WHERE namespace = ?1 AND hash = ?2", -1,
                           &st, NULL) != SQLITE_OK) {
        *errmsg = xasprintf("memory: %s", sqlite3_errmsg(h));
        return -1;
    }
    *ids = xcalloc(n + 1, sizeof **ids);
    *scores = xcalloc(n + 1, sizeof **scores);
    for (size_t i = 0; i < n; i++) {
        const char *hash =
            cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(hits[i].payload, "hash"));
        if (!hash)
            continue;
        sqlite3_reset(st);
        sqlite3_bind_text(st, 1, ns, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, hash, -1, SQLITE_STATIC);
        if (sqlite3_step(st) != SQLITE_ROW)
            continue;   /* deleted here, not yet in Qdrant: SQLite wins */
        (*ids)[*cnt] = sqlite3_column_int64(st, 0);
        (*scores)[*cnt] = hits[i].score;
        (*cnt)++;
    }
    sqlite3_finalize(st);
    return 0;
}

static void query_done(void *payload, const struct qdrant_hit *hits, size_t n, const char *error)
{
    struct query_wait *w = payload;
    w->done = 1;
    if (error) {
        w->error = xstrdup(error);
        return;
    }
    hits_to_ids(w->s->db, w->ns, hits, n, &w->ids, &w->scores, &w->n, &w->error);
}

int qdrant_msearch_fn(void *ctx, const char *ns, const float *qvec, int dim, size_t limit,
                      const cJSON *filter, int64_t **ids, double **scores, size_t *n,
                      char **errmsg)
{
    struct qdrant_msearch *s = ctx;
    *ids = NULL;
    *scores = NULL;
    *n = 0;
    if (s->down) {
        *errmsg = xstrdup("Qdrant is unavailable");
        return -1;
    }
    const char *prefix = s->cfg->memory.qdrant_prefix ? s->cfg->memory.qdrant_prefix : "";
    char *coll = xasprintf("%s%s", prefix, ns);
    cJSON *f = filter_for(ns, filter);
    char *ftext = cJSON_PrintUnformatted(f);
    cJSON_Delete(f);
    struct query_wait w = {.s = s, .ns = ns};
    qdrant_query(s->q, coll, qvec, (size_t)dim, (int)limit, ftext, -1, query_done, &w);
    while (!w.done)
        loop_run_once(s->loop, 200);
    cJSON_free(ftext);
    free(coll);
    if (w.error) {
        s->down = 1;
        if (s->warn)
            fprintf(s->warn, "mcpdeck: %s; searching the local index instead\n", w.error);
        *errmsg = w.error;
        free(w.ids);
        free(w.scores);
        return -1;
    }
    s->used = 1;
    *ids = w.ids;
    *scores = w.scores;
    *n = w.n;
    return 0;
}

/* === Vector search through Qdrant, on the engine's loop === */

struct asearch_q {                   /* one namespace's query in flight */
    struct qdrant_asearch *s;
    struct asearch_q *prev, *next;
    char *ns;
    void (*done)(void *token, const int64_t *ids, const double *scores, size_t n,
                 const char *error);
    void *token;
};

struct qdrant_asearch {
    struct qdrant *q;
    const struct config *cfg;
    struct db *db;
    struct asearch_q *pending;
};

struct qdrant_asearch *qdrant_asearch_new(struct qdrant *q, const struct config *cfg,
                                          struct db *db)
{
    if (!q)
        return NULL;
    struct qdrant_asearch *s = xcalloc(1, sizeof *s);
    s->q = q;
    s->cfg = cfg;
    s->db = db;
    return s;
}

static void asq_unlink(struct asearch_q *a)
{
    if (a->prev)
        a->prev->next = a->next;
    else if (a->s)
        a->s->pending = a->next;
    if (a->next)
        a->next->prev = a->prev;
    a->prev = a->next = NULL;
}

static void asq_free(void *p)
{
    struct asearch_q *a = p;
    free(a->ns);
    free(a);
}

void qdrant_asearch_free(struct qdrant_asearch *s)
{
    if (!s)
        return;
    while (s->pending) {
        struct asearch_q *a = s->pending;
        asq_unlink(a);
        a->done(a->token, NULL, NULL, 0, "the Qdrant client closed");
        asq_free(a);                 /* its request goes with qdrant_free, uncalled */
    }
    free(s);
}

static void asearch_done(void *payload, const struct qdrant_hit *hits, size_t n,
                         const char *error)
{
    struct asearch_q *a = payload;
    asq_unlink(a);
    int64_t *ids = NULL;
    double *scores = NULL;
    size_t cnt = 0;
    char *err = NULL;
    if (!error && hits_to_ids(a->s->db, a->ns, hits, n, &ids, &scores, &cnt, &err) < 0)
        error = err;
    a->done(a->token, error ? NULL : ids, error ? NULL : scores, error ? 0 : cnt, error);
    free(ids);
    free(scores);
    free(err);
    asq_free(a);
}

void qdrant_asearch_fn(void *ctx, const char *ns, const float *qvec, int dim, size_t limit,
                       const cJSON *filter, double score_threshold,
                       void (*done)(void *token, const int64_t *ids, const double *scores,
                                    size_t n, const char *error),
                       void *token)
{
    struct qdrant_asearch *s = ctx;
    const char *prefix = s->cfg->memory.qdrant_prefix ? s->cfg->memory.qdrant_prefix : "";
    char *coll = xasprintf("%s%s", prefix, ns);
    cJSON *f = filter_for(ns, filter);
    char *ftext = cJSON_PrintUnformatted(f);
    cJSON_Delete(f);
    struct asearch_q *a = xcalloc(1, sizeof *a);
    a->s = s;
    a->ns = xstrdup(ns);
    a->done = done;
    a->token = token;
    a->next = s->pending;
    if (s->pending)
        s->pending->prev = a;
    s->pending = a;
    qdrant_query(s->q, coll, qvec, (size_t)dim, (int)limit, ftext, score_threshold,
                 asearch_done, a);
    cJSON_free(ftext);
    free(coll);
}

/* === `mcpdeck memory sync` === */

int qdrant_cli_sync(const struct config *cfg, struct db *db, int argc, char **argv)
{
    int batch = 64;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--batch") == 0 && i + 1 < argc && atoi(argv[i + 1]) > 0) {
            batch = atoi(argv[++i]);
        } else {
            fprintf(stderr, "usage: mcpdeck memory sync [--batch N]\n");
            return 2;
        }
    }
    if (!cfg->memory.qdrant_url || !*cfg->memory.qdrant_url) {
        char *err = NULL;
        int64_t depth = qdrant_outbox_depth(db, &err);
        fprintf(stderr, "mcpdeck: Qdrant is not configured (set memory.qdrant.url); "
                        "%lld writes wait in the outbox\n", (long long)depth);
        free(err);
        return 1;
    }
    int64_t sent = 0, remaining = 0;
    char *err = NULL;
    if (qdrant_sync_blocking(cfg, db, batch, &sent, &remaining, &err) != 0) {
        fprintf(stderr, "mcpdeck: sync to %s failed: %s\n", cfg->memory.qdrant_url, err);
        printf("sent %lld, %lld still queued\n", (long long)sent, (long long)remaining);
        free(err);
        return 1;
    }
    printf("sent %lld, outbox empty\n", (long long)sent);
    return 0;
}
