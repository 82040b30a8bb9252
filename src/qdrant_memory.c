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
        if (cJSON_IsString(it) || cJSON_IsBool(it) ||
            (cJSON_IsNumber(it) && it->valuedouble == (double)(int64_t)it->valuedouble)) {
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

static void query_done(void *payload, const struct qdrant_hit *hits, size_t n, const char *error)
{
    struct query_wait *w = payload;
    w->done = 1;
    if (error) {
        w->error = xstrdup(error);
        return;
    }
    sqlite3 *h = db_handle(w->s->db);
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(h, "SELECT id FROM memory WHERE namespace = ?1 AND hash = ?2", -1,
                           &st, NULL) != SQLITE_OK) {
        w->error = xasprintf("memory: %s", sqlite3_errmsg(h));
        return;
    }
    w->ids = xcalloc(n + 1, sizeof *w->ids);
    w->scores = xcalloc(n + 1, sizeof *w->scores);
    for (size_t i = 0; i < n; i++) {
        const char *hash =
            cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(hits[i].payload, "hash"));
        if (!hash)
            continue;
        sqlite3_reset(st);
        sqlite3_bind_text(st, 1, w->ns, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, hash, -1, SQLITE_STATIC);
        if (sqlite3_step(st) != SQLITE_ROW)
            continue;   /* deleted here, not yet in Qdrant: SQLite wins */
        w->ids[w->n] = sqlite3_column_int64(st, 0);
        w->scores[w->n] = hits[i].score;
        w->n++;
    }
    sqlite3_finalize(st);
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
