/* memory_io.c — the memory store in bulk (see memory.h): export and
 * import as JSON Lines, reindexing with the configured embedder, and the
 * figures `mcpdeck memory stats` prints. */
#include "memory_int.h"
#include "blobs.h"
#include "embed.h"
#include "util.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define REINDEX_BATCH 64
#define IMPORT_MAX_LINE (64 << 20)   /* one entry's line, as a stdio message may be */

/* === Export === */

cJSON *memory_entry_json(const struct memory_entry *e)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "id", (double)e->id);
    cJSON_AddStringToObject(o, "namespace", e->ns);
    cJSON_AddStringToObject(o, "text", e->text);
    cJSON_AddItemToObject(o, "metadata", cJSON_Duplicate(e->metadata, 1));
    cJSON_AddStringToObject(o, "hash", e->hash);
    cJSON_AddNumberToObject(o, "created_ms", (double)e->created_ms);
    cJSON_AddNumberToObject(o, "updated_ms", (double)e->updated_ms);
    if (e->expires_ms)
        cJSON_AddNumberToObject(o, "expires_ms", (double)e->expires_ms);
    else
        cJSON_AddNullToObject(o, "expires_ms");
    return o;
}

long memory_export(struct memory *m, const char *ns, FILE *out, char **errmsg)
{
    memory_purge_due(m);
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(m->h, "SELECT " MEMORY_ENTRY_COLS " FROM memory m WHERE "
                                 "(?1 IS NULL OR m.namespace = ?1) AND (m.expires_ms IS NULL "
                                 "OR m.expires_ms > ?2) ORDER BY m.id",
                           -1, &st, NULL) != SQLITE_OK) {
        *errmsg = xasprintf("memory: export: %s", sqlite3_errmsg(m->h));
        return -1;
    }
    if (ns)
        sqlite3_bind_text(st, 1, ns, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, memory_now(m));
    long n = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        struct memory_entry *e = memory_entry_from_row(st, 0);
        cJSON *o = memory_entry_json(e);
        char *line = cJSON_PrintUnformatted(o);
        fprintf(out, "%s\n", line);
        cJSON_free(line);
        cJSON_Delete(o);
        memory_entry_free(e);
        n++;
    }
    sqlite3_finalize(st);
    if (fflush(out) != 0 || ferror(out)) {
        *errmsg = xstrdup("memory: export: cannot write the output");
        return -1;
    }
    return n;
}

/* === Import === */

/* An optional integer field: -1 when absent or null. */
static int opt_ms(const cJSON *o, const char *k, int64_t *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    *out = -1;
    if (!v || cJSON_IsNull(v))
        return 0;
    return cJSON_IsNumber(v) && util_whole_in(floor(v->valuedouble), 0, INT64_C(1) << 53, out)
               ? 0
               : -1;
}

/* One line's add. 0 new, 1 merged, -1 with *errmsg (without the line). */
static int import_line(struct memory *m, const char *line, char **errmsg)
{
    cJSON *o = cJSON_Parse(line);
    int rc = -1;
    if (!cJSON_IsObject(o)) {
        *errmsg = xstrdup("not a JSON object");
        goto out;
    }
    const cJSON *ns = cJSON_GetObjectItemCaseSensitive(o, "namespace");
    const cJSON *text = cJSON_GetObjectItemCaseSensitive(o, "text");
    const cJSON *meta = cJSON_GetObjectItemCaseSensitive(o, "metadata");
    const cJSON *hash = cJSON_GetObjectItemCaseSensitive(o, "hash");
    if (!cJSON_IsString(ns) || !cJSON_IsString(text)) {
        *errmsg = xstrdup("'namespace' and 'text' must be strings");
        goto out;
    }
    if (meta && !cJSON_IsNull(meta) && !cJSON_IsObject(meta)) {
        *errmsg = xstrdup("'metadata' must be an object");
        goto out;
    }
    if (hash && !cJSON_IsNull(hash)) {
        char h[BLOBS_HEX_LEN + 1];
        blobs_sha256_hex(text->valuestring, strlen(text->valuestring), h);
        if (!cJSON_IsString(hash) || strcmp(hash->valuestring, h)) {
            *errmsg = xstrdup("'hash' does not match the text (SHA-256)");
            goto out;
        }
    }
    struct memory_add_args a = {ns->valuestring, text->valuestring,
                                cJSON_IsObject(meta) ? meta : NULL, 0, -1, -1, -1};
    if (opt_ms(o, "created_ms", &a.created_ms) < 0 || opt_ms(o, "updated_ms", &a.updated_ms) < 0 ||
        opt_ms(o, "expires_ms", &a.expires_ms) < 0) {
        *errmsg = xstrdup("created_ms, updated_ms and expires_ms must be numbers or null");
        goto out;
    }
    if (a.expires_ms < 0)
        a.expires_ms = 0;    /* null: never, whatever the namespace's ttl */
    float *vec = NULL;
    int dim = 0;
    char *eerr = NULL;
    if (memory_ns_known(m, a.ns) && memory_embed_one(m, a.text, &vec, &dim, &eerr) < 0)
        free(eerr);          /* kept without a vector; reindex retries */
    int64_t id;
    rc = memory_add_vec(m, &a, vec, dim, &id, errmsg);
    free(vec);
out:
    cJSON_Delete(o);
    return rc;
}

/* Read one line, without its end of line, into b. 1 a line, 0 the end
 * of the file (or a read error: the caller asks ferror), -1 a line of
 * more than max bytes (not read to its end: /dev/zero has none). */
static int read_line(FILE *in, struct buf *b, size_t max)
{
    int c, any = 0;
    b->len = 0;
    while ((c = getc_unlocked(in)) != EOF) {
        any = 1;
        if (c == '\n')
            break;
        if (b->len == max)
            return -1;
        buf_putc(b, (char)c);
    }
    buf_reserve(b, 0);            /* an empty line is "" too */
    b->data[b->len] = '\0';
    return any;
}

int memory_import(struct memory *m, FILE *in, size_t *added, size_t *merged, char **errmsg)
{
    *added = *merged = 0;
    if (db_begin(m->db) < 0) {
        *errmsg = xasprintf("memory: import: %s", sqlite3_errmsg(m->h));
        return -1;
    }
    struct buf b;
    buf_init(&b);
    long no = 0;
    int rc = 0, got;
    while ((got = read_line(in, &b, IMPORT_MAX_LINE)) != 0) {
        no++;
        if (got < 0) {
            *errmsg = xasprintf("line %ld: longer than %d MiB (the limit for one entry's line)",
                                no, IMPORT_MAX_LINE >> 20);
            rc = -1;
            break;
        }
        char *line = b.data;
        size_t len = b.len;
        while (len > 0 && line[len - 1] == '\r')
            line[--len] = '\0';
        if (strspn(line, " \t") == len)
            continue;
        char *lerr = NULL;
        int r = import_line(m, line, &lerr);
        if (r < 0) {
            *errmsg = xasprintf("line %ld: %s", no, lerr);
            free(lerr);
            rc = -1;
            break;
        }
        if (r == 0)
            (*added)++;
        else
            (*merged)++;
    }
    buf_fini(&b);
    if (rc == 0 && ferror(in)) {
        /* a directory, a failing disk: what was read is not the file
         * (errno is the failed read's) */
        *errmsg = xasprintf("cannot read: %s", strerror(errno ? errno : EIO));
        rc = -1;
    }
    if (rc < 0) {
        db_rollback(m->db);
        memory_vi_drop_all(m);   /* they may hold rolled-back vectors */
        memory_purge(m);         /* reloads the earliest expiry */
        *added = *merged = 0;
        return -1;
    }
    if (db_commit(m->db) < 0) {
        *errmsg = xasprintf("memory: import: %s", sqlite3_errmsg(m->h));
        db_rollback(m->db);
        memory_vi_drop_all(m);
        return -1;
    }
    return 0;
}

/* === Reindex === */

int memory_reindex(struct memory *m, int all, size_t *done, char **errmsg)
{
    *done = 0;
    memory_purge_due(m);
    sqlite3_stmt *st = NULL;
    const char *sql = all ? "SELECT id, text FROM memory ORDER BY id"
                          : "SELECT id, text FROM memory m WHERE NOT EXISTS (SELECT 1 FROM "
                            "memory_vec v WHERE v.entry_id = m.id AND v.embedder = ?1 AND "
                            "v.stale = 0) ORDER BY id";
    if (sqlite3_prepare_v2(m->h, sql, -1, &st, NULL) != SQLITE_OK) {
        *errmsg = xasprintf("memory: reindex: %s", sqlite3_errmsg(m->h));
        return -1;
    }
    if (!all)
        sqlite3_bind_text(st, 1, m->emb_id, -1, SQLITE_STATIC);
    int64_t *ids = NULL;
    char **texts = NULL;
    size_t n = 0, cap = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            ids = xrealloc(ids, cap * sizeof *ids);
            texts = xrealloc(texts, cap * sizeof *texts);
        }
        ids[n] = sqlite3_column_int64(st, 0);
        texts[n++] = xstrdup((const char *)sqlite3_column_text(st, 1));
    }
    sqlite3_finalize(st);
    int rc = 0;
    memory_vi_drop_all(m);
    for (size_t i = 0; i < n && rc == 0; i += REINDEX_BATCH) {
        size_t cnt = n - i < REINDEX_BATCH ? n - i : REINDEX_BATCH;
        float *vecs = NULL;
        int dim = 0;
        if (embed_texts(m->emb, (const char *const *)texts + i, cnt, &vecs, &dim, errmsg) < 0) {
            rc = -1;
            break;
        }
        db_begin(m->db);
        for (size_t j = 0; j < cnt && rc == 0; j++) {
            rc = memory_vec_store(m, ids[i + j], vecs + j * (size_t)dim, dim, errmsg);
            if (rc == 0)
                (*done)++;
        }
        if (rc == 0)
            db_commit(m->db);
        else
            db_rollback(m->db);
        free(vecs);
    }
    /* vectors of other embedders of entries that have a current one go */
    if (sqlite3_prepare_v2(m->h, "DELETE FROM memory_vec WHERE embedder != ?1 AND entry_id IN "
                                 "(SELECT entry_id FROM memory_vec WHERE embedder = ?1 AND "
                                 "stale = 0)", -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, m->emb_id, -1, SQLITE_STATIC);
        sqlite3_step(st);
        sqlite3_finalize(st);
    }
    for (size_t i = 0; i < n; i++)
        free(texts[i]);
    free(texts);
    free(ids);
    return rc;
}

/* === Stats === */

static int64_t count_of(struct memory *m, const char *sql, const char *arg)
{
    sqlite3_stmt *st = NULL;
    int64_t n = 0;
    if (sqlite3_prepare_v2(m->h, sql, -1, &st, NULL) != SQLITE_OK)
        return -1;
    if (arg)
        sqlite3_bind_text(st, 1, arg, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW)
        n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return n;
}

/* {key: count} from a two-column query. */
static cJSON *count_map(struct memory *m, const char *sql)
{
    cJSON *o = cJSON_CreateObject();
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(m->h, sql, -1, &st, NULL) != SQLITE_OK)
        return o;
    while (sqlite3_step(st) == SQLITE_ROW)
        cJSON_AddNumberToObject(o, (const char *)sqlite3_column_text(st, 0),
                                (double)sqlite3_column_int64(st, 1));
    sqlite3_finalize(st);
    return o;
}

cJSON *memory_stats(struct memory *m)
{
    memory_purge_due(m);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddItemToObject(o, "entries", count_map(m, "SELECT namespace, COUNT(*) FROM memory "
                                                     "GROUP BY namespace ORDER BY namespace"));
    cJSON_AddNumberToObject(o, "total", (double)count_of(m, "SELECT COUNT(*) FROM memory", NULL));
    cJSON_AddItemToObject(o, "vectors", count_map(m, "SELECT embedder, COUNT(*) FROM memory_vec "
                                                     "GROUP BY embedder ORDER BY embedder"));
    cJSON_AddStringToObject(o, "embedder", m->emb_id);
    cJSON_AddNumberToObject(o, "stale",
                            (double)count_of(m, "SELECT COUNT(*) FROM memory m WHERE NOT EXISTS "
                                                "(SELECT 1 FROM memory_vec v WHERE v.entry_id = "
                                                "m.id AND v.embedder = ? AND v.stale = 0)",
                                             m->emb_id));
    cJSON_AddNumberToObject(o, "outbox", (double)count_of(m, "SELECT COUNT(*) FROM outbox", NULL));
    cJSON_AddNumberToObject(o, "expiring", (double)count_of(m, "SELECT COUNT(*) FROM memory WHERE "
                                                               "expires_ms IS NOT NULL", NULL));
    return o;
}
