/* memory_search.c — search over the memory store (see memory.h):
 * keyword (FTS5 BM25 over a query made safe), vector (the namespaces'
 * vecindexes, current embedder only) and hybrid (reciprocal rank fusion
 * of both lists, k = 60), with a metadata filter applied in SQL to both.
 *
 * The keyword query never reaches FTS5 as syntax: the text is split into
 * words (ASCII letters and digits, and any UTF-8 byte), each word becomes
 * a quoted string and the words are OR-ed, so BM25 ranks entries that
 * share more (and rarer) words first. */
#include "memory_int.h"
#include "util.h"
#include "vecindex.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define RRF_K         60
#define FTS_MAX_WORDS 64

/* === Reciprocal rank fusion === */

struct fused {
    int64_t id;
    double score;
};

static int fused_cmp(const void *a, const void *b)
{
    const struct fused *x = a, *y = b;
    if (x->score != y->score)
        return x->score > y->score ? -1 : 1;
    return x->id < y->id ? -1 : x->id > y->id;
}

size_t memory_fuse(const int64_t *kw, size_t nkw, const int64_t *vec, size_t nvec,
                   int64_t *out, double *scores)
{
    struct fused *f = xcalloc(nkw + nvec + 1, sizeof *f);
    size_t n = 0;
    for (int list = 0; list < 2; list++) {
        const int64_t *ids = list ? vec : kw;
        size_t cnt = list ? nvec : nkw;
        for (size_t r = 0; r < cnt; r++) {
            size_t j = 0;
            while (j < n && f[j].id != ids[r])
                j++;
            if (j == n)
                f[n++].id = ids[r];
            f[j].score += 1.0 / (double)(RRF_K + r + 1);
        }
    }
    qsort(f, n, sizeof *f, fused_cmp);
    for (size_t i = 0; i < n; i++) {
        out[i] = f[i].id;
        if (scores)
            scores[i] = f[i].score;
    }
    free(f);
    return n;
}

/* === Filters === */

static int filter_key_ok(const char *k)
{
    if (!*k)
        return 0;
    for (const unsigned char *p = (const unsigned char *)k; *p; p++)
        if (*p < 0x20 || *p == '"' || *p == '\\')
            return 0;
    return 1;
}

static int filter_value_ok(const cJSON *v)
{
    return cJSON_IsString(v) || cJSON_IsNumber(v) || cJSON_IsBool(v);
}

/* A value to bind, as the comparison with json_extract needs it: JSON
 * true/false come back from json_extract as 1/0. */
static cJSON *bind_value(const cJSON *v)
{
    if (cJSON_IsBool(v))
        return cJSON_CreateNumber(cJSON_IsTrue(v) ? 1 : 0);
    return cJSON_Duplicate(v, 0);
}

int memory_filter_sql(const cJSON *filter, const char *column, char **sql, cJSON **binds,
                      char **errmsg)
{
    static const struct { const char *op, *sql; } ops[] = {
        {"eq", "="}, {"ne", "!="}, {"gt", ">"}, {"gte", ">="}, {"lt", "<"}, {"lte", "<="}};
    struct buf b;
    buf_init(&b);
    buf_puts(&b, *sql ? *sql : "");
    *binds = cJSON_CreateArray();
    if (!filter || cJSON_IsNull(filter))
        goto done;
    if (!cJSON_IsObject(filter)) {
        *errmsg = xstrdup("the filter must be a JSON object like {\"lang\": \"c\", "
                          "\"score\": {\"gte\": 3}}");
        goto fail;
    }
    const cJSON *it;
    cJSON_ArrayForEach(it, filter) {
        if (!filter_key_ok(it->string)) {
            *errmsg = xasprintf("filter key '%s' cannot be used (no quotes, backslashes or "
                                "control characters)", it->string);
            goto fail;
        }
        char *path = xasprintf("$.\"%s\"", it->string);
        if (cJSON_IsNull(it)) {
            buf_printf(&b, " AND json_extract(%s, ?) IS NULL", column);
            cJSON_AddItemToArray(*binds, cJSON_CreateString(path));
        } else if (filter_value_ok(it)) {
            buf_printf(&b, " AND json_extract(%s, ?) = ?", column);
            cJSON_AddItemToArray(*binds, cJSON_CreateString(path));
            cJSON_AddItemToArray(*binds, bind_value(it));
        } else if (cJSON_IsObject(it) && it->child) {
            const cJSON *op;
            cJSON_ArrayForEach(op, it) {
                const char *s = NULL;
                for (size_t i = 0; i < ARRAY_LEN(ops); i++)
                    if (!strcmp(op->string, ops[i].op))
                        s = ops[i].sql;
                if (!strcmp(op->string, "in") && cJSON_IsArray(op) && op->child) {
                    buf_printf(&b, " AND json_extract(%s, ?) IN (", column);
                    cJSON_AddItemToArray(*binds, cJSON_CreateString(path));
                    const cJSON *x;
                    int first = 1;
                    cJSON_ArrayForEach(x, op) {
                        if (!filter_value_ok(x)) {
                            *errmsg = xasprintf("filter '%s': 'in' takes a list of strings, "
                                                "numbers or booleans", it->string);
                            free(path);
                            goto fail;
                        }
                        buf_puts(&b, first ? "?" : ", ?");
                        first = 0;
                        cJSON_AddItemToArray(*binds, bind_value(x));
                    }
                    buf_putc(&b, ')');
                    continue;
                }
                if (!s || !filter_value_ok(op)) {
                    *errmsg = xasprintf("filter '%s': '%s' is not eq, ne, gt, gte, lt, lte or in "
                                        "with a string, number or boolean", it->string,
                                        op->string);
                    free(path);
                    goto fail;
                }
                buf_printf(&b, " AND json_extract(%s, ?) %s ?", column, s);
                cJSON_AddItemToArray(*binds, cJSON_CreateString(path));
                cJSON_AddItemToArray(*binds, bind_value(op));
            }
        } else {
            *errmsg = xasprintf("filter '%s' must be a string, number, boolean, null or an "
                                "object of comparisons ({\"gte\": 3, \"lt\": 9})", it->string);
            free(path);
            goto fail;
        }
        free(path);
    }
done:
    free(*sql);
    *sql = buf_detach(&b);
    return 0;
fail:
    buf_fini(&b);
    cJSON_Delete(*binds);
    *binds = NULL;
    return -1;
}

/* Bind the JSON values of binds from parameter index first. */
static void bind_all(sqlite3_stmt *st, int first, const cJSON *binds)
{
    int i = first;
    const cJSON *v;
    cJSON_ArrayForEach(v, binds) {
        if (cJSON_IsString(v))
            sqlite3_bind_text(st, i, v->valuestring, -1, SQLITE_TRANSIENT);
        else if (v->valuedouble == floor(v->valuedouble) && fabs(v->valuedouble) < 9e15)
            sqlite3_bind_int64(st, i, (int64_t)v->valuedouble);
        else
            sqlite3_bind_double(st, i, v->valuedouble);
        i++;
    }
}

/* === The keyword query === */

/* text → "w1" OR "w2" ..., or NULL when it has no words. */
static char *fts_expr(const char *text)
{
    struct buf b;
    buf_init(&b);
    int words = 0;
    const unsigned char *p = (const unsigned char *)text;
    while (*p && words < FTS_MAX_WORDS) {
        while (*p && *p < 0x80 && !((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'z') ||
                                    (*p >= 'A' && *p <= 'Z')))
            p++;
        const unsigned char *s = p;
        while (*p && (*p >= 0x80 || (*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'z') ||
                      (*p >= 'A' && *p <= 'Z')))
            p++;
        if (p > s) {
            buf_printf(&b, "%s\"%.*s\"", words ? " OR " : "", (int)(p - s), (const char *)s);
            words++;
        }
    }
    return words ? buf_detach(&b) : (buf_fini(&b), NULL);
}

/* === Search === */

struct ranked {
    int64_t id;
    double score;
};

/* "m.namespace IN (?, ?)" for the query's namespaces (all configured when
 * none), their values appended to binds. */
static int ns_clause(struct memory *m, const struct memory_query *q, struct buf *sql,
                     cJSON *binds, char **errmsg)
{
    buf_puts(sql, "m.namespace IN (");
    const struct config_memory *c = &m->cfg->memory;
    size_t n = q->nns ? q->nns : c->nnamespaces;
    for (size_t i = 0; i < n; i++) {
        const char *ns = q->nns ? q->ns[i] : c->namespaces[i].name;
        if (!memory_ns_known(m, ns)) {
            *errmsg = xasprintf("unknown namespace '%s'", ns);
            return -1;
        }
        buf_puts(sql, i ? ", ?" : "?");
        cJSON_AddItemToArray(binds, cJSON_CreateString(ns));
    }
    buf_putc(sql, ')');
    return 0;
}

static int keyword_ranks(struct memory *m, const char *expr, const char *where,
                         const cJSON *binds, size_t limit, struct ranked **out, size_t *n,
                         char **errmsg)
{
    char *sql = xasprintf("SELECT m.id, bm25(memory_fts) AS s FROM memory_fts JOIN memory m ON "
                          "m.id = memory_fts.rowid WHERE memory_fts MATCH ? AND %s "
                          "ORDER BY s, m.id LIMIT %zu", where, limit);
    sqlite3_stmt *st = NULL;
    *out = NULL;
    *n = 0;
    if (sqlite3_prepare_v2(m->h, sql, -1, &st, NULL) != SQLITE_OK) {
        *errmsg = xasprintf("memory: keyword search: %s", sqlite3_errmsg(m->h));
        free(sql);
        return -1;
    }
    free(sql);
    sqlite3_bind_text(st, 1, expr, -1, SQLITE_STATIC);
    bind_all(st, 2, binds);
    *out = xcalloc(limit, sizeof **out);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW && *n < limit) {
        (*out)[*n].id = sqlite3_column_int64(st, 0);
        (*out)[(*n)++].score = -sqlite3_column_double(st, 1);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
        *errmsg = xasprintf("memory: keyword search: %s", sqlite3_errmsg(m->h));
        return -1;
    }
    return 0;
}

struct allowed {
    int64_t *ids;
    size_t n;
};

static int id_cmp(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

static int allowed_keep(void *payload, int64_t id)
{
    struct allowed *a = payload;
    return a->n && bsearch(&id, a->ids, a->n, sizeof id, id_cmp) != NULL;
}

static int vec_hit_cmp(const void *a, const void *b)
{
    const struct vec_hit *x = a, *y = b;
    if (x->score != y->score)
        return x->score > y->score ? -1 : 1;
    return x->id < y->id ? -1 : x->id > y->id;
}

/* The vector part of namespace ns from m->vsearch (Qdrant), appended to
 * *all; 0 when it failed and the local index must answer. */
static int vector_elsewhere(struct memory *m, const char *ns, const struct memory_query *q,
                            const float *qvec, int qdim, size_t limit, struct allowed *al,
                            struct vec_hit **all, size_t *nall)
{
    int64_t *ids = NULL;
    double *scores = NULL;
    size_t n = 0;
    char *err = NULL;
    if (m->vsearch(m->vsearch_ctx, ns, qvec, qdim, limit, q->filter, &ids, &scores, &n, &err) <
        0) {
        free(err);
        return 0;
    }
    *all = xrealloc(*all, (*nall + n + 1) * sizeof **all);
    for (size_t i = 0; i < n; i++)
        if (!q->filter || allowed_keep(al, ids[i]))
            (*all)[(*nall)++] = (struct vec_hit){.id = ids[i], .score = (float)scores[i]};
    free(ids);
    free(scores);
    return 1;
}

static int vector_ranks(struct memory *m, const struct memory_query *q, const float *qvec,
                        int qdim, const char *where, const cJSON *binds, size_t limit,
                        struct ranked **out, size_t *n, char **errmsg)
{
    *out = NULL;
    *n = 0;
    struct allowed al = {NULL, 0};
    if (q->filter) {         /* the ids the filter lets through, for keep() */
        char *sql = xasprintf("SELECT m.id FROM memory m WHERE %s ORDER BY m.id", where);
        sqlite3_stmt *st = NULL;
        if (sqlite3_prepare_v2(m->h, sql, -1, &st, NULL) != SQLITE_OK) {
            *errmsg = xasprintf("memory: filter: %s", sqlite3_errmsg(m->h));
            free(sql);
            return -1;
        }
        free(sql);
        bind_all(st, 1, binds);
        size_t cap = 0;
        while (sqlite3_step(st) == SQLITE_ROW) {
            if (al.n == cap) {
                cap = cap ? cap * 2 : 64;
                al.ids = xrealloc(al.ids, cap * sizeof *al.ids);
            }
            al.ids[al.n++] = sqlite3_column_int64(st, 0);
        }
        sqlite3_finalize(st);
    }
    const struct config_memory *c = &m->cfg->memory;
    size_t nns = q->nns ? q->nns : c->nnamespaces;
    struct vec_hit *all = NULL;
    size_t nall = 0;
    struct vec_hit *tmp = xcalloc(limit, sizeof *tmp);
    for (size_t i = 0; i < nns; i++) {
        const char *ns = q->nns ? q->ns[i] : c->namespaces[i].name;
        if (m->vsearch && vector_elsewhere(m, ns, q, qvec, qdim, limit, &al, &all, &nall))
            continue;
        struct vecindex *vi = memory_vi_get(m, ns);
        if (!vi || vecindex_dim(vi) != qdim || vecindex_count(vi) == 0)
            continue;
        size_t got = vecindex_search(vi, qvec, limit, q->exact, q->filter ? allowed_keep : NULL, &al,
                                     tmp);
        all = xrealloc(all, (nall + got + 1) * sizeof *all);
        memcpy(all + nall, tmp, got * sizeof *tmp);
        nall += got;
    }
    free(tmp);
    free(al.ids);
    if (nall)
        qsort(all, nall, sizeof *all, vec_hit_cmp);
    if (nall > limit)
        nall = limit;
    *out = xcalloc(nall + 1, sizeof **out);
    for (size_t i = 0; i < nall; i++)
        (*out)[i] = (struct ranked){all[i].id, all[i].score};
    *n = nall;
    free(all);
    return 0;
}

static double ranked_score(const struct ranked *r, size_t n, int64_t id, int *rank)
{
    for (size_t i = 0; i < n; i++)
        if (r[i].id == id) {
            *rank = (int)i + 1;
            return r[i].score;
        }
    *rank = 0;
    return 0;
}

int memory_search_vec(struct memory *m, const struct memory_query *q, const float *qvec,
                      int qdim, struct memory_hit **out, size_t *n, char **errmsg)
{
    *out = NULL;
    *n = 0;
    memory_purge_due(m);
    size_t k = q->k ? q->k : 10;
    size_t limit = k * 4 < 50 ? 50 : k * 4;
    struct buf where;
    buf_init(&where);
    cJSON *binds = cJSON_CreateArray();
    char *fsql = NULL;
    cJSON *fbinds = NULL;
    struct ranked *kw = NULL, *vr = NULL;
    size_t nkw = 0, nvr = 0;
    int64_t *ids = NULL;
    double *scores = NULL;
    char *expr = NULL;
    int rc = -1;
    if (ns_clause(m, q, &where, binds, errmsg) < 0)
        goto out;
    buf_printf(&where, " AND (m.expires_ms IS NULL OR m.expires_ms > %lld)",
               (long long)memory_now(m));
    if (memory_filter_sql(q->filter, "m.metadata", &fsql, &fbinds, errmsg) < 0)
        goto out;
    buf_puts(&where, fsql);
    const cJSON *fb;
    cJSON_ArrayForEach(fb, fbinds)
        cJSON_AddItemToArray(binds, cJSON_Duplicate(fb, 0));

    if (q->mode != MEMORY_VECTOR && q->text && (expr = fts_expr(q->text)) &&
        keyword_ranks(m, expr, where.data, binds, limit, &kw, &nkw, errmsg) < 0)
        goto out;
    if (q->mode != MEMORY_KEYWORD && qvec &&
        vector_ranks(m, q, qvec, qdim, where.data, binds, limit, &vr, &nvr, errmsg) < 0)
        goto out;

    ids = xcalloc(nkw + nvr + 1, sizeof *ids);
    scores = xcalloc(nkw + nvr + 1, sizeof *scores);
    size_t total;
    if (q->mode == MEMORY_HYBRID) {
        int64_t *a = xcalloc(nkw + 1, sizeof *a), *b = xcalloc(nvr + 1, sizeof *b);
        for (size_t i = 0; i < nkw; i++)
            a[i] = kw[i].id;
        for (size_t i = 0; i < nvr; i++)
            b[i] = vr[i].id;
        total = memory_fuse(a, nkw, b, nvr, ids, scores);
        free(a);
        free(b);
    } else {
        const struct ranked *r = q->mode == MEMORY_KEYWORD ? kw : vr;
        total = q->mode == MEMORY_KEYWORD ? nkw : nvr;
        for (size_t i = 0; i < total; i++) {
            ids[i] = r[i].id;
            scores[i] = r[i].score;
        }
    }
    *out = xcalloc(k, sizeof **out);
    for (size_t i = 0; i < total && *n < k; i++) {
        if (q->min_score > 0 && scores[i] < q->min_score)
            continue;
        struct memory_entry *e;
        if (memory_get(m, ids[i], &e) != 0)
            continue;
        struct memory_hit *h = &(*out)[(*n)++];
        h->entry = e;
        h->score = scores[i];
        h->bm25 = ranked_score(kw, nkw, ids[i], &h->rank_keyword);
        h->vector = ranked_score(vr, nvr, ids[i], &h->rank_vector);
    }
    rc = 0;
out:
    if (rc < 0) {
        free(*out);
        *out = NULL;
    }
    buf_fini(&where);
    cJSON_Delete(binds);
    cJSON_Delete(fbinds);
    free(fsql);
    free(expr);
    free(kw);
    free(vr);
    free(ids);
    free(scores);
    return rc;
}

int memory_search(struct memory *m, const struct memory_query *q, struct memory_hit **out,
                  size_t *n, char **errmsg)
{
    float *vec = NULL;
    int dim = 0;
    if (q->mode != MEMORY_KEYWORD && q->text) {
        char *eerr = NULL;
        if (memory_embed_one(m, q->text, &vec, &dim, &eerr) < 0) {
            if (q->mode == MEMORY_VECTOR) {
                *errmsg = xasprintf("memory: embedding the query failed: %s", eerr);
                free(eerr);
                return -1;
            }
            free(eerr);      /* hybrid: the keyword part still answers */
        }
    }
    int rc = memory_search_vec(m, q, vec, dim, out, n, errmsg);
    free(vec);
    return rc;
}

void memory_hits_free(struct memory_hit *h, size_t n)
{
    for (size_t i = 0; i < n; i++)
        memory_entry_free(h[i].entry);
    free(h);
}
