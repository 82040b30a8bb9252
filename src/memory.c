/* memory.c — the memory store (see memory.h): opening, entries (add with
 * dedup, get, update, delete, list), expiry, vectors and their per
 * namespace indexes, and the Qdrant outbox. The asynchronous forms that
 * embed on the worker pool, and closing, are in memory_async.c.
 *
 * Vectors are stored twice in memory_vec, as the schema says: int8 with a
 * scale (vec_quantise) and float32 in host byte order (little-endian on
 * every machine we build for). The in-memory vecindex of a namespace
 * holds only vectors of the current embedder that are not stale. */
#include "memory_int.h"
#include "blobs.h"
#include "embed.h"
#include "log.h"
#include "util.h"
#include "vecindex.h"

#include <stdlib.h>
#include <string.h>

/* === Small helpers === */

int64_t memory_now(const struct memory *m)
{
    return m->fixed_now ? m->fixed_now : util_wall_ms();
}

static sqlite3_stmt *prep(struct memory *m, const char *sql)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(m->h, sql, -1, &st, NULL) != SQLITE_OK) {
        log_write(LOG_LEVEL_ERROR, NULL, "memory: cannot prepare %s: %s", sql,
                  sqlite3_errmsg(m->h));
        return NULL;
    }
    return st;
}

sqlite3_stmt *memory_prep(struct memory *m, const char *sql)
{
    return prep(m, sql);
}

static int db_error(struct memory *m, char **errmsg, const char *what)
{
    if (errmsg)
        *errmsg = xasprintf("memory: %s: %s", what, sqlite3_errmsg(m->h));
    return -1;
}

int memory_ns_known(const struct memory *m, const char *ns)
{
    for (size_t i = 0; i < m->cfg->memory.nnamespaces; i++)
        if (!strcmp(m->cfg->memory.namespaces[i].name, ns))
            return 1;
    return 0;
}

int memory_ns_check(const struct memory *m, const char *ns, char **errmsg)
{
    if (memory_ns_known(m, ns))
        return 0;
    struct buf b;
    buf_init(&b);
    for (size_t i = 0; i < m->cfg->memory.nnamespaces; i++)
        buf_printf(&b, "%s%s", i ? ", " : "", m->cfg->memory.namespaces[i].name);
    *errmsg = xasprintf("unknown namespace '%s' (memory.namespaces: %s)", ns, b.data);
    buf_fini(&b);
    return -1;
}

static int64_t ns_ttl(const struct memory *m, const char *ns)
{
    for (size_t i = 0; i < m->cfg->memory.nnamespaces; i++)
        if (!strcmp(m->cfg->memory.namespaces[i].name, ns))
            return m->cfg->memory.namespaces[i].ttl_ms;
    return 0;
}

const char *memory_default_ns(const struct memory *m)
{
    if (memory_ns_known(m, "shared"))
        return "shared";
    return m->cfg->memory.namespaces[0].name;
}

static void text_col(sqlite3_stmt *st, int col, char **out)
{
    const unsigned char *t = sqlite3_column_text(st, col);
    *out = xstrdup(t ? (const char *)t : "");
}

struct memory_entry *memory_entry_from_row(sqlite3_stmt *st, int c)
{
    struct memory_entry *e = xcalloc(1, sizeof *e);
    e->id = sqlite3_column_int64(st, c);
    text_col(st, c + 1, &e->ns);
    text_col(st, c + 2, &e->text);
    const char *meta = (const char *)sqlite3_column_text(st, c + 3);
    e->metadata = meta ? cJSON_Parse(meta) : NULL;
    if (!cJSON_IsObject(e->metadata)) {
        cJSON_Delete(e->metadata);
        e->metadata = cJSON_CreateObject();
    }
    const char *h = (const char *)sqlite3_column_text(st, c + 4);
    snprintf(e->hash, sizeof e->hash, "%s", h ? h : "");
    e->created_ms = sqlite3_column_int64(st, c + 5);
    e->updated_ms = sqlite3_column_int64(st, c + 6);
    e->expires_ms = sqlite3_column_int64(st, c + 7);   /* NULL reads as 0 */
    return e;
}

void memory_entry_free(struct memory_entry *e)
{
    if (!e)
        return;
    free(e->ns);
    free(e->text);
    cJSON_Delete(e->metadata);
    free(e);
}

void memory_entries_free(struct memory_entry **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        memory_entry_free(v[i]);
    free(v);
}

void memory_point_id(const char *hash_hex, char out[37])
{
    unsigned char b[16];
    for (int i = 0; i < 16; i++) {
        unsigned v = 0;
        for (int j = 0; j < 2; j++) {
            char c = hash_hex ? hash_hex[2 * i + j] : '0';
            v = v * 16 + (unsigned)(c >= 'a' && c <= 'f'   ? c - 'a' + 10
                                    : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                    : c >= '0' && c <= '9' ? c - '0'
                                                           : 0);
            if (!c)
                hash_hex = NULL;   /* short input: zeros from here on */
        }
        b[i] = (unsigned char)v;
    }
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x50);   /* version 5 */
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);   /* RFC 4122 variant */
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out[o++] = '-';
        out[o++] = hex[b[i] >> 4];
        out[o++] = hex[b[i] & 15];
    }
    out[o] = '\0';
}

/* === The outbox (Qdrant) === */

static void outbox_upsert(struct memory *m, int64_t id, const char *ns, const char *hash,
                          const char *text, const cJSON *meta, const float *vec, int dim)
{
    const struct config_memory *c = &m->cfg->memory;
    if (!c->qdrant_url || !vec)
        return;
    char pid[37];
    memory_point_id(hash, pid);
    char *coll = xasprintf("%s%s", c->qdrant_prefix ? c->qdrant_prefix : "", ns);
    cJSON *p = cJSON_CreateObject();
    cJSON_AddStringToObject(p, "namespace", ns);
    cJSON_AddStringToObject(p, "hash", hash);
    cJSON_AddStringToObject(p, "text", text);
    cJSON_AddItemToObject(p, "metadata", meta ? cJSON_Duplicate(meta, 1) : cJSON_CreateObject());
    cJSON_AddNumberToObject(p, "entry_id", (double)id);
    char *pj = cJSON_PrintUnformatted(p);
    cJSON_Delete(p);
    sqlite3_stmt *st = prep(m, "INSERT INTO outbox (op, collection, point_id, vector, payload, "
                               "created_ms) VALUES ('upsert', ?, ?, ?, ?, ?)");
    if (st) {
        sqlite3_bind_text(st, 1, coll, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 2, pid, -1, SQLITE_TRANSIENT);
        sqlite3_bind_blob(st, 3, vec, (int)(sizeof(float) * (size_t)dim), SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 4, pj, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 5, util_wall_ms());
        if (sqlite3_step(st) != SQLITE_DONE)
            log_write(LOG_LEVEL_WARN, NULL, "memory: outbox: %s", sqlite3_errmsg(m->h));
        sqlite3_finalize(st);
    }
    free(pj);
    free(coll);
}

static void outbox_delete(struct memory *m, const char *ns, const char *hash)
{
    const struct config_memory *c = &m->cfg->memory;
    if (!c->qdrant_url)
        return;
    char pid[37];
    memory_point_id(hash, pid);
    char *coll = xasprintf("%s%s", c->qdrant_prefix ? c->qdrant_prefix : "", ns);
    sqlite3_stmt *st = prep(m, "INSERT INTO outbox (op, collection, point_id, created_ms) "
                               "VALUES ('delete', ?, ?, ?)");
    if (st) {
        sqlite3_bind_text(st, 1, coll, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 2, pid, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 3, util_wall_ms());
        if (sqlite3_step(st) != SQLITE_DONE)
            log_write(LOG_LEVEL_WARN, NULL, "memory: outbox: %s", sqlite3_errmsg(m->h));
        sqlite3_finalize(st);
    }
    free(coll);
}

/* The current embedder's vector of entry id, or NULL. *dim set. */
static float *vec_read(struct memory *m, int64_t id, int *dim)
{
    sqlite3_stmt *st = prep(m, "SELECT f32, dim FROM memory_vec WHERE entry_id = ? AND "
                               "embedder = ? AND stale = 0");
    float *v = NULL;
    if (!st)
        return NULL;
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_text(st, 2, m->emb_id, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW) {
        int d = sqlite3_column_int(st, 1);
        int bytes = sqlite3_column_bytes(st, 0);
        if (d > 0 && bytes == d * (int)sizeof(float)) {
            v = xmalloc((size_t)bytes);
            memcpy(v, sqlite3_column_blob(st, 0), (size_t)bytes);
            *dim = d;
        }
    }
    sqlite3_finalize(st);
    return v;
}

/* === Vector indexes === */

static struct memory_vi *vi_find(struct memory *m, const char *ns)
{
    for (size_t i = 0; i < m->nvis; i++)
        if (!strcmp(m->vis[i].ns, ns))
            return &m->vis[i];
    return NULL;
}

void memory_vi_drop_all(struct memory *m)
{
    for (size_t i = 0; i < m->nvis; i++) {
        free(m->vis[i].ns);
        vecindex_free(m->vis[i].vi);
    }
    free(m->vis);
    m->vis = NULL;
    m->nvis = 0;
}

struct vecindex *memory_vi_get(struct memory *m, const char *ns)
{
    struct memory_vi *x = vi_find(m, ns);
    if (x)
        return x->vi;
    if (m->dim <= 0) {
        sqlite3_stmt *st = prep(m, "SELECT dim FROM memory_vec WHERE embedder = ? LIMIT 1");
        if (st) {
            sqlite3_bind_text(st, 1, m->emb_id, -1, SQLITE_STATIC);
            if (sqlite3_step(st) == SQLITE_ROW)
                m->dim = sqlite3_column_int(st, 0);
            sqlite3_finalize(st);
        }
        if (m->dim <= 0)
            return NULL;
    }
    struct vecindex *vi = vecindex_new(m->dim);
    if (!vi)
        return NULL;
    sqlite3_stmt *st = prep(m, "SELECT v.entry_id, v.f32, v.dim FROM memory_vec v JOIN memory m "
                               "ON m.id = v.entry_id WHERE m.namespace = ? AND v.embedder = ? "
                               "AND v.stale = 0");
    if (st) {
        sqlite3_bind_text(st, 1, ns, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, m->emb_id, -1, SQLITE_STATIC);
        while (sqlite3_step(st) == SQLITE_ROW) {
            if (sqlite3_column_int(st, 2) != m->dim ||
                sqlite3_column_bytes(st, 1) != m->dim * (int)sizeof(float))
                continue;
            /* the blob may not be aligned for float: copy */
            float *v = xmalloc(sizeof(float) * (size_t)m->dim);
            memcpy(v, sqlite3_column_blob(st, 1), sizeof(float) * (size_t)m->dim);
            vecindex_put(vi, sqlite3_column_int64(st, 0), v);
            free(v);
        }
        sqlite3_finalize(st);
    }
    m->vis = xrealloc(m->vis, (m->nvis + 1) * sizeof *m->vis);
    m->vis[m->nvis].ns = xstrdup(ns);
    m->vis[m->nvis].vi = vi;
    m->nvis++;
    return vi;
}

/* Drop id from ns's index when that index is loaded. */
static void vi_forget(struct memory *m, const char *ns, int64_t id)
{
    struct memory_vi *x = vi_find(m, ns);
    if (x)
        vecindex_del(x->vi, id);
}

int memory_embed_one(struct memory *m, const char *text, float **vec, int *dim, char **errmsg)
{
    const char *t[1] = {text};
    *vec = NULL;
    if (embed_texts(m->emb, t, 1, vec, dim, errmsg) < 0)
        return -1;
    return 0;
}

/* ns of entry id (malloc'd) or NULL. */
static char *entry_ns(struct memory *m, int64_t id)
{
    sqlite3_stmt *st = prep(m, "SELECT namespace FROM memory WHERE id = ?");
    char *ns = NULL;
    if (!st)
        return NULL;
    sqlite3_bind_int64(st, 1, id);
    if (sqlite3_step(st) == SQLITE_ROW)
        text_col(st, 0, &ns);
    sqlite3_finalize(st);
    return ns;
}

int memory_vec_store(struct memory *m, int64_t id, const float *vec, int dim, char **errmsg)
{
    if (m->dim <= 0)
        m->dim = dim;
    if (dim != m->dim) {
        *errmsg = xasprintf("memory: embedder %s answered %d dimensions, expected %d", m->emb_id,
                            dim, m->dim);
        return -1;
    }
    int8_t *q = xmalloc((size_t)dim);
    float scale;
    vec_quantise(vec, dim, q, &scale);
    sqlite3_stmt *st = prep(m, "INSERT OR REPLACE INTO memory_vec (entry_id, embedder, dim, "
                               "scale, q, f32, stale) VALUES (?, ?, ?, ?, ?, ?, 0)");
    int rc = -1;
    if (st) {
        sqlite3_bind_int64(st, 1, id);
        sqlite3_bind_text(st, 2, m->emb_id, -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 3, dim);
        sqlite3_bind_double(st, 4, scale);
        sqlite3_bind_blob(st, 5, q, dim, SQLITE_STATIC);
        sqlite3_bind_blob(st, 6, vec, (int)(sizeof(float) * (size_t)dim), SQLITE_STATIC);
        rc = sqlite3_step(st) == SQLITE_DONE ? 0 : db_error(m, errmsg, "storing a vector");
        sqlite3_finalize(st);
    } else {
        db_error(m, errmsg, "storing a vector");
    }
    free(q);
    if (rc == 0) {
        char *ns = entry_ns(m, id);
        struct memory_vi *x = ns ? vi_find(m, ns) : NULL;
        if (x)
            vecindex_put(x->vi, id, vec);
        free(ns);
    }
    return rc;
}

/* === Expiry === */

static void next_expiry_load(struct memory *m)
{
    m->next_expiry = 0;
    sqlite3_stmt *st = prep(m, "SELECT MIN(expires_ms) FROM memory WHERE expires_ms IS NOT NULL");
    if (st && sqlite3_step(st) == SQLITE_ROW)
        m->next_expiry = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
}

static void next_expiry_note(struct memory *m, int64_t exp)
{
    if (exp > 0 && (m->next_expiry == 0 || exp < m->next_expiry))
        m->next_expiry = exp;
}

int memory_purge(struct memory *m)
{
    int64_t now = memory_now(m);
    int n = 0;
    sqlite3_stmt *st = prep(m, "SELECT id, namespace, hash FROM memory WHERE expires_ms IS NOT "
                               "NULL AND expires_ms <= ?");
    if (!st)
        return 0;
    sqlite3_bind_int64(st, 1, now);
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *ns = (const char *)sqlite3_column_text(st, 1);
        vi_forget(m, ns, sqlite3_column_int64(st, 0));
        outbox_delete(m, ns, (const char *)sqlite3_column_text(st, 2));
        n++;
    }
    sqlite3_finalize(st);
    if (n) {
        st = prep(m, "DELETE FROM memory WHERE expires_ms IS NOT NULL AND expires_ms <= ?");
        if (st) {
            sqlite3_bind_int64(st, 1, now);
            sqlite3_step(st);
            sqlite3_finalize(st);
        }
    }
    next_expiry_load(m);
    return n;
}

void memory_purge_due(struct memory *m)
{
    if (m->next_expiry && memory_now(m) >= m->next_expiry)
        memory_purge(m);
}

/* === Lifecycle === */

static struct embedder *embedder_from_config(const struct config_memory *c)
{
    if (c->embedder && !strcmp(c->embedder, "openai"))
        return embed_openai_new(c->base_url, c->api_key_env, c->model, c->batch);
    return embed_hashing_new(c->dim);
}

/* Vectors of other embedders are stale. */
static void mark_stale(struct memory *m)
{
    sqlite3_stmt *st = prep(m, "UPDATE memory_vec SET stale = 1 WHERE embedder != ? AND "
                               "stale = 0");
    if (st) {
        sqlite3_bind_text(st, 1, m->emb_id, -1, SQLITE_STATIC);
        sqlite3_step(st);
        sqlite3_finalize(st);
    }
}

void memory_set_embedder(struct memory *m, struct embedder *e)
{
    embed_free(m->emb);
    m->emb = e;
    free(m->emb_id);
    m->emb_id = xstrdup(embed_id(e));
    m->dim = embed_dim(e);
    memory_vi_drop_all(m);
    mark_stale(m);
}

int memory_open(struct db *db, const struct config *cfg, struct memory **out, char **errmsg)
{
    struct embedder *e = embedder_from_config(&cfg->memory);
    if (!e) {
        *errmsg = xasprintf("memory: cannot make the %s embedder (check memory.embedder)",
                            cfg->memory.embedder);
        return -1;
    }
    struct memory *m = xcalloc(1, sizeof *m);
    m->db = db;
    m->h = db_handle(db);
    m->cfg = cfg;
    m->ops_tail = &m->ops;
    memory_set_embedder(m, e);
    memory_purge(m);
    *out = m;
    return 0;
}

void memory_set_vector_search(struct memory *m, memory_vector_search_fn fn, void *ctx)
{
    m->vsearch = fn;
    m->vsearch_ctx = ctx;
}

void memory_set_vector_search_async(struct memory *m, memory_vector_search_async_fn fn,
                                    void *ctx)
{
    m->avsearch = fn;
    m->avsearch_ctx = ctx;
}

void memory_set_clock(struct memory *m, int64_t now_ms)
{
    m->fixed_now = now_ms;
}

void memory_attach_loop(struct memory *m, struct loop *l)
{
    m->loop = l;
}

/* === Entries === */

/* Shallow merge of add into base (new keys win). */
static void meta_merge(cJSON *base, const cJSON *add)
{
    const cJSON *it;
    cJSON_ArrayForEach(it, add) {
        cJSON_DeleteItemFromObjectCaseSensitive(base, it->string);
        cJSON_AddItemToObject(base, it->string, cJSON_Duplicate(it, 1));
    }
}

int memory_meta_check(const cJSON *meta, char **errmsg)
{
    if (meta && !cJSON_IsObject(meta)) {
        *errmsg = xstrdup("metadata must be a JSON object");
        return -1;
    }
    return 0;
}

int memory_add_vec(struct memory *m, const struct memory_add_args *a, const float *vec, int dim,
                   int64_t *id, char **errmsg)
{
    const char *ns = a->ns ? a->ns : memory_default_ns(m);
    if (memory_ns_check(m, ns, errmsg) < 0 || memory_meta_check(a->metadata, errmsg) < 0)
        return -1;
    if (!a->text || !*a->text) {
        *errmsg = xstrdup("the text is empty");
        return -1;
    }
    memory_purge_due(m);
    int64_t now = memory_now(m);
    int64_t ttl = a->ttl_ms > 0 ? a->ttl_ms : ns_ttl(m, ns);
    int64_t exp = a->expires_ms >= 0 ? a->expires_ms : ttl > 0 ? now + ttl : 0;
    char hash[BLOBS_HEX_LEN + 1];
    blobs_sha256_hex(a->text, strlen(a->text), hash);

    sqlite3_stmt *st = prep(m, "SELECT id, metadata FROM memory WHERE namespace = ? AND hash = ?");
    if (!st)
        return db_error(m, errmsg, "looking up the hash");
    sqlite3_bind_text(st, 1, ns, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, hash, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW) {
        /* the same text: merge metadata, extend the expiry */
        *id = sqlite3_column_int64(st, 0);
        const char *old = (const char *)sqlite3_column_text(st, 1);
        cJSON *meta = old ? cJSON_Parse(old) : NULL;
        if (!cJSON_IsObject(meta)) {
            cJSON_Delete(meta);
            meta = cJSON_CreateObject();
        }
        sqlite3_finalize(st);
        if (a->metadata)
            meta_merge(meta, a->metadata);
        char *mj = cJSON_PrintUnformatted(meta);
        st = prep(m, "UPDATE memory SET metadata = ?, updated_ms = ?, expires_ms = ? "
                     "WHERE id = ?");
        int rc = -1;
        if (st) {
            sqlite3_bind_text(st, 1, mj, -1, SQLITE_STATIC);
            sqlite3_bind_int64(st, 2, now);
            if (exp > 0)
                sqlite3_bind_int64(st, 3, exp);
            else
                sqlite3_bind_null(st, 3);
            sqlite3_bind_int64(st, 4, *id);
            rc = sqlite3_step(st) == SQLITE_DONE ? 1 : db_error(m, errmsg, "merging metadata");
            sqlite3_finalize(st);
        }
        if (rc == 1) {
            next_expiry_load(m);
            int d = 0;
            float *v = vec_read(m, *id, &d);
            outbox_upsert(m, *id, ns, hash, a->text, meta, v, d);
            free(v);
        }
        free(mj);
        cJSON_Delete(meta);
        return rc;
    }
    sqlite3_finalize(st);

    char *mj = a->metadata ? cJSON_PrintUnformatted(a->metadata) : xstrdup("{}");
    st = prep(m, "INSERT INTO memory (namespace, text, metadata, hash, created_ms, updated_ms, "
                 "expires_ms) VALUES (?, ?, ?, ?, ?, ?, ?)");
    if (!st) {
        free(mj);
        return db_error(m, errmsg, "adding an entry");
    }
    sqlite3_bind_text(st, 1, ns, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, a->text, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, mj, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, hash, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, a->created_ms >= 0 ? a->created_ms : now);
    sqlite3_bind_int64(st, 6, a->updated_ms >= 0 ? a->updated_ms : now);
    if (exp > 0)
        sqlite3_bind_int64(st, 7, exp);
    else
        sqlite3_bind_null(st, 7);
    int ok = sqlite3_step(st) == SQLITE_DONE;
    sqlite3_finalize(st);
    if (!ok) {
        free(mj);
        return db_error(m, errmsg, "adding an entry");
    }
    *id = sqlite3_last_insert_rowid(m->h);
    next_expiry_note(m, exp);
    if (vec) {
        char *verr = NULL;
        if (memory_vec_store(m, *id, vec, dim, &verr) < 0) {
            log_write(LOG_LEVEL_WARN, NULL, "memory: entry %lld kept without a vector: %s",
                      (long long)*id, verr);
            free(verr);
        } else {
            outbox_upsert(m, *id, ns, hash, a->text, a->metadata, vec, dim);
        }
    }
    free(mj);
    return 0;
}

int memory_add(struct memory *m, const char *ns, const char *text, const cJSON *metadata,
               int64_t ttl_ms, int64_t *id, char **errmsg)
{
    struct memory_add_args a = {ns, text, metadata, ttl_ms, -1, -1, -1};
    if (memory_meta_check(metadata, errmsg) < 0)
        return -1;
    float *vec = NULL;
    int dim = 0;
    char *eerr = NULL;
    if (text && *text && memory_embed_one(m, text, &vec, &dim, &eerr) < 0) {
        log_write(LOG_LEVEL_WARN, NULL, "memory: embedding failed (the entry is kept without "
                                        "a vector; `mcpdeck memory reindex` retries): %s", eerr);
        free(eerr);
    }
    int rc = memory_add_vec(m, &a, vec, dim, id, errmsg);
    free(vec);
    return rc;
}

int memory_get(struct memory *m, int64_t id, struct memory_entry **out)
{
    memory_purge_due(m);
    sqlite3_stmt *st = prep(m, "SELECT " MEMORY_ENTRY_COLS " FROM memory m WHERE m.id = ? AND "
                               "(m.expires_ms IS NULL OR m.expires_ms > ?)");
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int64(st, 2, memory_now(m));
    int rc = sqlite3_step(st);
    *out = rc == SQLITE_ROW ? memory_entry_from_row(st, 0) : NULL;
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? 1 : -1;
}

int memory_update(struct memory *m, int64_t id, const char *text, const cJSON *metadata,
                  char **errmsg)
{
    if (memory_meta_check(metadata, errmsg) < 0)
        return -1;
    struct memory_entry *e;
    int rc = memory_get(m, id, &e);
    if (rc != 0) {
        if (rc < 0)
            db_error(m, errmsg, "reading the entry");
        return rc;
    }
    int text_changed = text && strcmp(text, e->text) != 0;
    if (text && !*text) {
        *errmsg = xstrdup("the text is empty");
        memory_entry_free(e);
        return -1;
    }
    if (metadata)
        meta_merge(e->metadata, metadata);
    char hash[BLOBS_HEX_LEN + 1];
    snprintf(hash, sizeof hash, "%s", e->hash);
    if (text_changed)
        blobs_sha256_hex(text, strlen(text), hash);
    char *mj = cJSON_PrintUnformatted(e->metadata);
    sqlite3_stmt *st = prep(m, "UPDATE memory SET text = ?, hash = ?, metadata = ?, "
                               "updated_ms = ? WHERE id = ?");
    rc = -1;
    if (st) {
        sqlite3_bind_text(st, 1, text_changed ? text : e->text, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, hash, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, mj, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 4, memory_now(m));
        sqlite3_bind_int64(st, 5, id);
        int s = sqlite3_step(st);
        if (s == SQLITE_DONE)
            rc = 0;
        else if (s == SQLITE_CONSTRAINT)
            *errmsg = xasprintf("the same text is already an entry in namespace %s", e->ns);
        else
            db_error(m, errmsg, "updating the entry");
        sqlite3_finalize(st);
    }
    free(mj);
    if (rc == 0 && text_changed) {
        /* the old vectors describe the old text */
        st = prep(m, "DELETE FROM memory_vec WHERE entry_id = ?");
        if (st) {
            sqlite3_bind_int64(st, 1, id);
            sqlite3_step(st);
            sqlite3_finalize(st);
        }
        vi_forget(m, e->ns, id);
        outbox_delete(m, e->ns, e->hash);
        float *vec = NULL;
        int dim = 0;
        char *eerr = NULL;
        if (memory_embed_one(m, text, &vec, &dim, &eerr) < 0 ||
            memory_vec_store(m, id, vec, dim, &eerr) < 0) {
            log_write(LOG_LEVEL_WARN, NULL, "memory: entry %lld kept without a vector: %s",
                      (long long)id, eerr);
            free(eerr);
        } else {
            outbox_upsert(m, id, e->ns, hash, text, e->metadata, vec, dim);
        }
        free(vec);
    } else if (rc == 0) {
        int dim = 0;
        float *vec = vec_read(m, id, &dim);
        outbox_upsert(m, id, e->ns, hash, e->text, e->metadata, vec, dim);
        free(vec);
    }
    memory_entry_free(e);
    return rc;
}

int memory_delete(struct memory *m, int64_t id, char **errmsg)
{
    struct memory_entry *e;
    int rc = memory_get(m, id, &e);
    if (rc != 0)
        return rc < 0 ? db_error(m, errmsg, "reading the entry") : 1;
    sqlite3_stmt *st = prep(m, "DELETE FROM memory WHERE id = ?");
    rc = -1;
    if (st) {
        sqlite3_bind_int64(st, 1, id);
        rc = sqlite3_step(st) == SQLITE_DONE ? 0 : db_error(m, errmsg, "deleting the entry");
        sqlite3_finalize(st);
    }
    if (rc == 0) {
        vi_forget(m, e->ns, id);
        outbox_delete(m, e->ns, e->hash);
    }
    memory_entry_free(e);
    return rc;
}

int memory_list(struct memory *m, const char *ns, size_t limit, struct memory_entry ***out,
                size_t *n)
{
    memory_purge_due(m);
    *out = NULL;
    *n = 0;
    sqlite3_stmt *st = prep(m, "SELECT " MEMORY_ENTRY_COLS " FROM memory m WHERE "
                               "(?1 IS NULL OR m.namespace = ?1) AND (m.expires_ms IS NULL OR "
                               "m.expires_ms > ?2) ORDER BY m.updated_ms DESC, m.id DESC "
                               "LIMIT ?3");
    if (!st)
        return -1;
    if (ns)
        sqlite3_bind_text(st, 1, ns, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, memory_now(m));
    sqlite3_bind_int64(st, 3, limit ? (int64_t)limit : 50);
    size_t cap = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (*n == cap) {
            cap = cap ? cap * 2 : 16;
            *out = xrealloc(*out, cap * sizeof **out);
        }
        (*out)[(*n)++] = memory_entry_from_row(st, 0);
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : -1;
}
