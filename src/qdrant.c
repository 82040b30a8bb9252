/* qdrant.c — the Qdrant REST client (see qdrant.h): one request helper
 * with the breaker and the response envelope, the four operations
 * (ensure collection, upsert, delete, query) and the outbox sender. */
#include "qdrant.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "breaker.h"
#include "db.h"
#include "http.h"
#include "loop.h"
#include "util.h"

#define QDRANT_BODY_MAX (64u << 20)          /* a response larger than this is an error */
#define QDRANT_DEFAULT_TIMEOUT_MS 10000
#define QDRANT_BREAKER_FAILURES 3
#define QDRANT_BREAKER_COOLDOWN_MS 15000
#define QDRANT_BACKOFF_CAP_MS 60000

/* The outcome of one request: status 0 with error set when it never got
 * an answer (or the breaker refused it); json is the parsed body (may be
 * NULL); error is also set for a 5xx. */
typedef void (*req_result_fn)(void *ctx, long status, const cJSON *json, const char *error);

struct req {
    struct qdrant *q;
    struct req *prev, *next;
    struct http_req *hr;
    uint64_t timer;                  /* a result delivered later, without I/O */
    char *what;                      /* "PUT /collections/x" for messages */
    char *error;                     /* for the timer path */
    struct buf body;
    int too_big;
    long status;
    req_result_fn fn;
    void *ctx;
    void (*ctx_free)(void *ctx);
};

struct ensured {
    char *name;
    size_t dim;
};

struct drain;

struct qdrant {
    struct loop *loop;
    struct http *http;
    char *url;
    char *auth;                      /* "api-key: ..." or NULL */
    long timeout_ms;
    struct breaker br;
    char *last_error;
    int last_failed;
    struct req *reqs;
    struct ensured *ens;
    size_t nens;
    struct drain *drain;
};

/* === Requests === */

static void req_unlink(struct req *r)
{
    struct qdrant *q = r->q;
    if (r->prev)
        r->prev->next = r->next;
    else
        q->reqs = r->next;
    if (r->next)
        r->next->prev = r->prev;
    r->prev = r->next = NULL;
}

static void req_free(struct req *r)
{
    free(r->what);
    free(r->error);
    buf_fini(&r->body);
    free(r);
}

static struct req *req_new(struct qdrant *q, req_result_fn fn, void *ctx, void (*ctx_free)(void *))
{
    struct req *r = xcalloc(1, sizeof *r);
    r->q = q;
    r->fn = fn;
    r->ctx = ctx;
    r->ctx_free = ctx_free;
    buf_init(&r->body);
    r->next = q->reqs;
    if (q->reqs)
        q->reqs->prev = r;
    q->reqs = r;
    return r;
}

static void set_last_error(struct qdrant *q, const char *msg)
{
    free(q->last_error);
    q->last_error = xstrdup(msg);
    q->last_failed = msg != NULL;
}

static void later_cb(struct loop *l, uint64_t id, void *payload)
{
    struct req *r = payload;
    r->timer = 0;
    req_unlink(r);
    req_result_fn fn = r->fn;
    void *ctx = r->ctx;
    char *err = r->error;
    r->error = NULL;
    req_free(r);
    fn(ctx, 0, NULL, err);
    free(err);
}

/* Deliver error to fn(ctx) on a later loop turn. */
static void fail_later(struct qdrant *q, req_result_fn fn, void *ctx, void (*ctx_free)(void *),
                       const char *error)
{
    struct req *r = req_new(q, fn, ctx, ctx_free);
    r->error = xstrdup(error);
    r->timer = loop_timer_add(q->loop, 0, later_cb, r);
}

/* A readable reason out of a Qdrant error envelope, else the body's start. */
static char *answer_reason(const cJSON *json, const struct buf *body)
{
    const cJSON *st = cJSON_GetObjectItemCaseSensitive(json, "status");
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(st, "error");
    if (cJSON_IsString(e))
        return xstrdup(e->valuestring);
    if (body->len)
        return xstrndup(body->data, body->len > 200 ? 200 : body->len);
    return xstrdup("no details");
}

static int on_data(void *payload, long status, const char *data, size_t n)
{
    struct req *r = payload;
    if (r->body.len + n > QDRANT_BODY_MAX) {
        r->too_big = 1;
        return 1;
    }
    buf_append(&r->body, data, n);
    return 0;
}

static void on_done(void *payload, long status, const char *error)
{
    struct req *r = payload;
    struct qdrant *q = r->q;
    r->hr = NULL;
    req_unlink(r);
    cJSON *json = r->body.len ? cJSON_ParseWithLength(r->body.data, r->body.len) : NULL;
    char *err = NULL;
    int64_t now = util_now_ms();
    if (r->too_big) {
        err = xasprintf("Qdrant: the answer to %s is larger than %u MiB", r->what,
                        QDRANT_BODY_MAX >> 20);
        breaker_record(&q->br, 1, now);
        set_last_error(q, NULL);
    } else if (error) {
        err = xasprintf("Qdrant unreachable: %s", error);
        breaker_record(&q->br, 0, now);
        set_last_error(q, err);
    } else if (status >= 500 || status < 100) {
        char *why = answer_reason(json, &r->body);
        err = xasprintf("Qdrant answered %ld to %s: %s", status, r->what, why);
        free(why);
        breaker_record(&q->br, 0, now);
        set_last_error(q, err);
    } else {
        breaker_record(&q->br, 1, now);
        set_last_error(q, NULL);
    }
    req_result_fn fn = r->fn;
    void *ctx = r->ctx;
    r->status = status;
    struct buf body = r->body;
    buf_init(&r->body);
    req_free(r);
    /* 4xx: the callee reads the reason from json (or the raw body) */
    if (!err && status >= 400 && !json) {
        cJSON *o = cJSON_CreateObject();
        cJSON *st = cJSON_AddObjectToObject(o, "status");
        char *why = answer_reason(NULL, &body);
        cJSON_AddStringToObject(st, "error", why);
        free(why);
        json = o;
    }
    buf_fini(&body);
    fn(ctx, status, json, err);   /* may free q: touch nothing after */
    cJSON_Delete(json);
    free(err);
}

static void url_escape(struct buf *b, const char *s)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '_' || c == '.' || c == '~')
            buf_putc(b, (char)c);
        else
            buf_printf(b, "%%%02X", c);
    }
}

/* Start method on /collections/<collection><tail> (collection NULL:
 * /collections<tail>) with body (taken; may be NULL). fn(ctx) gets the outcome; ctx_free(ctx) runs if the client is
 * freed first. */
static void send_req(struct qdrant *q, const char *method, const char *collection,
                     const char *tail, cJSON *body, req_result_fn fn, void *ctx,
                     void (*ctx_free)(void *))
{
    struct buf path;
    buf_init(&path);
    buf_puts(&path, "/collections");
    if (collection) {
        buf_putc(&path, '/');
        url_escape(&path, collection);
    }
    buf_puts(&path, tail);
    int64_t now = util_now_ms(), retry_at = 0;
    if (!breaker_allow(&q->br, now, &retry_at)) {
        int64_t wait = retry_at > now ? retry_at - now : 0;
        char *msg = xasprintf("Qdrant circuit open after repeated failures (%s); next try in "
                              "%lld s",
                              q->last_error ? q->last_error : "no details",
                              (long long)((wait + 999) / 1000));
        cJSON_Delete(body);
        fail_later(q, fn, ctx, ctx_free, msg);
        free(msg);
        buf_fini(&path);
        return;
    }
    struct req *r = req_new(q, fn, ctx, ctx_free);
    char *qpos = strchr(path.data, '?');
    r->what = xasprintf("%s %.*s", method, (int)(qpos ? qpos - path.data : (long)path.len),
                        path.data);
    char *url = xasprintf("%s%s", q->url, path.data);
    char *text = body ? cJSON_PrintUnformatted(body) : NULL;
    const char *hdr[4];
    size_t nh = 0;
    hdr[nh++] = "Content-Type: application/json";
    if (q->auth)
        hdr[nh++] = q->auth;
    hdr[nh] = NULL;
    struct http_req_opts o = {
        .method = method,
        .url = url,
        .headers = hdr,
        .body = text,
        .body_len = text ? strlen(text) : 0,
        .timeout_ms = q->timeout_ms,
        .connect_timeout_ms = q->timeout_ms < 5000 ? q->timeout_ms : 5000,
        .on_data = on_data,
        .on_done = on_done,
        .payload = r,
    };
    r->hr = http_start(q->http, &o);
    free(url);
    cJSON_free(text);
    cJSON_Delete(body);
    buf_fini(&path);
}

/* "Qdrant refused what (status): reason" for a 4xx. */
static char *refused(long status, const char *what, const cJSON *json)
{
    struct buf b;
    buf_init(&b);
    char *why = answer_reason(json, &b);
    char *m = xasprintf("Qdrant refused %s (%ld): %s", what, status, why);
    free(why);
    return m;
}

/* === Ensure a collection === */

struct ens_op {
    struct qdrant *q;
    char *name;
    size_t dim;
    int step;                        /* 0 GET, 1 PUT collection, 2 PUT index */
    qdrant_done_cb cb;
    void *payload;
};

static void ens_free(void *p)
{
    struct ens_op *e = p;
    free(e->name);
    free(e);
}

static void ens_finish(struct ens_op *e, const char *error)
{
    if (!error && e->step != 3) {
        struct qdrant *q = e->q;
        q->ens = xrealloc(q->ens, (q->nens + 1) * sizeof *q->ens);
        q->ens[q->nens].name = xstrdup(e->name);
        q->ens[q->nens].dim = e->dim;
        q->nens++;
    }
    qdrant_done_cb cb = e->cb;
    void *payload = e->payload;
    ens_free(e);
    cb(payload, error);
}

static void ens_step(void *ctx, long status, const cJSON *json, const char *error);

static void ens_send(struct ens_op *e)
{
    cJSON *body = NULL;
    if (e->step == 0) {
        send_req(e->q, "GET", e->name, "", NULL, ens_step, e, ens_free);
    } else if (e->step == 1) {
        body = cJSON_CreateObject();
        cJSON *v = cJSON_AddObjectToObject(body, "vectors");
        cJSON_AddNumberToObject(v, "size", (double)e->dim);
        cJSON_AddStringToObject(v, "distance", "Cosine");
        send_req(e->q, "PUT", e->name, "", body, ens_step, e, ens_free);
    } else {
        body = cJSON_CreateObject();
        cJSON_AddStringToObject(body, "field_name", "namespace");
        cJSON_AddStringToObject(body, "field_schema", "keyword");
        send_req(e->q, "PUT", e->name, "/index?wait=true", body, ens_step, e, ens_free);
    }
}

static void ens_step(void *ctx, long status, const cJSON *json, const char *error)
{
    struct ens_op *e = ctx;
    if (error) {
        ens_finish(e, error);
        return;
    }
    char *msg = NULL;
    if (e->step == 0) {
        if (status == 404) {
            e->step = 1;
            ens_send(e);
            return;
        }
        if (status >= 300) {
            msg = refused(status, "GET collection", json);
        } else {
            const cJSON *res = cJSON_GetObjectItemCaseSensitive(json, "result");
            const cJSON *cfg = cJSON_GetObjectItemCaseSensitive(res, "config");
            const cJSON *par = cJSON_GetObjectItemCaseSensitive(cfg, "params");
            const cJSON *vec = cJSON_GetObjectItemCaseSensitive(par, "vectors");
            const cJSON *size = cJSON_GetObjectItemCaseSensitive(vec, "size");
            if (cJSON_IsNumber(size) && size->valuedouble != (double)e->dim)
                msg = xasprintf("Qdrant collection %s holds vectors of size %.0f, not %zu "
                                "(a different embedder? use another memory.qdrant.prefix)",
                                e->name, size->valuedouble, e->dim);
        }
    } else if (e->step == 1) {
        if (status < 300) {
            e->step = 2;
            ens_send(e);
            return;
        }
        char *why = refused(status, "PUT collection", json);
        if (strstr(why, "already exists")) {   /* created meanwhile by someone else */
            free(why);
        } else {
            msg = why;
        }
    } else if (status >= 300) {
        msg = refused(status, "PUT index", json);
    }
    ens_finish(e, msg);
    free(msg);
}

void qdrant_ensure_collection(struct qdrant *q, const char *name, size_t dim, qdrant_done_cb cb,
                              void *payload)
{
    struct ens_op *e = xcalloc(1, sizeof *e);
    e->q = q;
    e->name = xstrdup(name);
    e->dim = dim;
    e->cb = cb;
    e->payload = payload;
    for (size_t i = 0; i < q->nens; i++) {
        if (strcmp(q->ens[i].name, name) != 0)
            continue;
        if (q->ens[i].dim == dim) {
            /* known: answer on the next turn without a request */
            struct req *r = req_new(q, ens_step, e, ens_free);
            e->step = 3;
            r->timer = loop_timer_add(q->loop, 0, later_cb, r);
            return;
        }
        char *msg = xasprintf("Qdrant collection %s holds vectors of size %zu, not %zu", name,
                              q->ens[i].dim, dim);
        fail_later(q, ens_step, e, ens_free, msg);
        free(msg);
        return;
    }
    if (dim == 0) {
        fail_later(q, ens_step, e, ens_free, "Qdrant: a collection needs a vector size");
        return;
    }
    ens_send(e);
}

/* === Upsert, delete === */

struct done_op {
    qdrant_done_cb cb;
    void *payload;
    int missing_ok;                  /* 404 is success (delete) */
    const char *what;
};

static void done_step(void *ctx, long status, const cJSON *json, const char *error)
{
    struct done_op *d = ctx;
    char *msg = NULL;
    if (!error && status >= 300 && !(d->missing_ok && status == 404))
        msg = refused(status, d->what, json);
    qdrant_done_cb cb = d->cb;
    void *payload = d->payload;
    free(d);
    cb(payload, error ? error : msg);
    free(msg);
}

static struct done_op *done_new(qdrant_done_cb cb, void *payload, const char *what)
{
    struct done_op *d = xcalloc(1, sizeof *d);
    d->cb = cb;
    d->payload = payload;
    d->what = what;
    return d;
}

void qdrant_upsert(struct qdrant *q, const char *collection, const struct qdrant_point *points,
                   size_t n, qdrant_done_cb cb, void *payload)
{
    struct done_op *d = done_new(cb, payload, "upsert");
    cJSON *body = cJSON_CreateObject();
    cJSON *arr = cJSON_AddArrayToObject(body, "points");
    for (size_t i = 0; i < n; i++) {
        const struct qdrant_point *p = &points[i];
        cJSON *pt = cJSON_CreateObject();
        cJSON_AddItemToArray(arr, pt);
        cJSON_AddStringToObject(pt, "id", p->id ? p->id : "");
        cJSON_AddItemToObject(pt, "vector", cJSON_CreateFloatArray(p->vector, (int)p->dim));
        if (p->payload_json) {
            cJSON *pl = cJSON_Parse(p->payload_json);
            if (!cJSON_IsObject(pl)) {
                cJSON_Delete(pl);
                cJSON_Delete(body);
                char *msg = xasprintf("point %s: the payload is not a JSON object", p->id);
                fail_later(q, done_step, d, free, msg);
                free(msg);
                return;
            }
            cJSON_AddItemToObject(pt, "payload", pl);
        }
    }
    send_req(q, "PUT", collection, "/points?wait=true", body, done_step, d, free);
}

void qdrant_delete(struct qdrant *q, const char *collection, const char *const *ids, size_t n,
                   qdrant_done_cb cb, void *payload)
{
    struct done_op *d = done_new(cb, payload, "delete");
    d->missing_ok = 1;
    cJSON *body = cJSON_CreateObject();
    cJSON *arr = cJSON_AddArrayToObject(body, "points");
    for (size_t i = 0; i < n; i++)
        cJSON_AddItemToArray(arr, cJSON_CreateString(ids[i]));
    send_req(q, "POST", collection, "/points/delete?wait=true", body, done_step, d, free);
}

/* === Query === */

struct query_op {
    qdrant_query_cb cb;
    void *payload;
};

static void query_step(void *ctx, long status, const cJSON *json, const char *error)
{
    struct query_op *o = ctx;
    qdrant_query_cb cb = o->cb;
    void *payload = o->payload;
    free(o);
    if (error) {
        cb(payload, NULL, 0, error);
        return;
    }
    if (status == 404) {             /* nothing was ever synced there */
        cb(payload, NULL, 0, NULL);
        return;
    }
    if (status >= 300) {
        char *msg = refused(status, "query", json);
        cb(payload, NULL, 0, msg);
        free(msg);
        return;
    }
    const cJSON *res = cJSON_GetObjectItemCaseSensitive(json, "result");
    const cJSON *pts = cJSON_GetObjectItemCaseSensitive(res, "points");
    if (!cJSON_IsArray(pts)) {
        cb(payload, NULL, 0, "Qdrant: the query answer has no result.points array");
        return;
    }
    size_t n = (size_t)cJSON_GetArraySize(pts), k = 0;
    struct qdrant_hit *hits = xcalloc(n + 1, sizeof *hits);
    char (*num)[24] = xcalloc(n + 1, sizeof *num);
    const cJSON *p;
    cJSON_ArrayForEach(p, pts) {
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(p, "id");
        const cJSON *score = cJSON_GetObjectItemCaseSensitive(p, "score");
        const cJSON *pl = cJSON_GetObjectItemCaseSensitive(p, "payload");
        if (!cJSON_IsNumber(score))
            continue;
        if (cJSON_IsString(id)) {
            hits[k].id = id->valuestring;
        } else if (cJSON_IsNumber(id)) {
            snprintf(num[k], sizeof num[k], "%.0f", id->valuedouble);
            hits[k].id = num[k];
        } else {
            continue;
        }
        hits[k].score = score->valuedouble;
        hits[k].payload = cJSON_IsObject(pl) ? pl : NULL;
        k++;
    }
    cb(payload, hits, k, NULL);
    free(hits);
    free(num);
}

static void query_fail(void *ctx, long status, const cJSON *json, const char *error)
{
    struct query_op *o = ctx;
    qdrant_query_cb cb = o->cb;
    void *payload = o->payload;
    free(o);
    cb(payload, NULL, 0, error);
}

void qdrant_query(struct qdrant *q, const char *collection, const float *vector, size_t dim,
                  int k, const char *filter_json, double score_threshold, qdrant_query_cb cb,
                  void *payload)
{
    struct query_op *o = xcalloc(1, sizeof *o);
    o->cb = cb;
    o->payload = payload;
    cJSON *body = cJSON_CreateObject();
    cJSON_AddItemToObject(body, "query", cJSON_CreateFloatArray(vector, (int)dim));
    cJSON_AddNumberToObject(body, "limit", k > 0 ? k : 10);
    cJSON_AddBoolToObject(body, "with_payload", 1);
    if (score_threshold >= 0)
        cJSON_AddNumberToObject(body, "score_threshold", score_threshold);
    if (filter_json && *filter_json) {
        cJSON *f = cJSON_Parse(filter_json);
        if (!cJSON_IsObject(f)) {
            cJSON_Delete(f);
            cJSON_Delete(body);
            fail_later(q, query_fail, o, free, "Qdrant query: the filter is not a JSON object");
            return;
        }
        cJSON_AddItemToObject(body, "filter", f);
    }
    send_req(q, "POST", collection, "/points/query", body, query_step, o, free);
}

/* === Ping === */

void qdrant_ping(struct qdrant *q, qdrant_done_cb cb, void *payload)
{
    send_req(q, "GET", NULL, "", NULL, done_step, done_new(cb, payload, "GET /collections"),
             free);
}

/* === The outbox sender === */

struct drain_row {
    int64_t id;
    char *point_id;
    float *vec;
    size_t dim;
    char *payload;
};

struct drain {
    struct qdrant *q;
    struct db *db;
    int max_batch;
    int flags;
    qdrant_drain_cb cb;
    void *payload;
    int64_t sent, failed;
    uint64_t start_timer;
    /* the batch in flight */
    int op_delete;
    char *collection;
    struct drain_row *rows;
    size_t n;
};

static void drain_batch_clear(struct drain *d)
{
    for (size_t i = 0; i < d->n; i++) {
        free(d->rows[i].point_id);
        free(d->rows[i].vec);
        free(d->rows[i].payload);
    }
    free(d->rows);
    d->rows = NULL;
    d->n = 0;
    free(d->collection);
    d->collection = NULL;
}

int64_t qdrant_backoff_ms(int attempts)
{
    if (attempts < 0)
        attempts = 0;
    if (attempts >= 6)
        return QDRANT_BACKOFF_CAP_MS;
    int64_t ms = 1000LL << attempts;
    return ms > QDRANT_BACKOFF_CAP_MS ? QDRANT_BACKOFF_CAP_MS : ms;
}

int64_t qdrant_outbox_depth(struct db *db, char **errmsg)
{
    sqlite3_stmt *st = NULL;
    int64_t n = -1;
    if (sqlite3_prepare_v2(db_handle(db), "SELECT COUNT(*) FROM outbox", -1, &st, NULL) !=
        SQLITE_OK) {
        if (errmsg)
            *errmsg = xasprintf("outbox: %s", sqlite3_errmsg(db_handle(db)));
        return -1;
    }
    if (sqlite3_step(st) == SQLITE_ROW)
        n = sqlite3_column_int64(st, 0);
    else if (errmsg)
        *errmsg = xasprintf("outbox: %s", sqlite3_errmsg(db_handle(db)));
    sqlite3_finalize(st);
    return n;
}

/* End the drain: the callback gets the totals and the depth. */
static void drain_finish(struct drain *d, const char *error)
{
    struct qdrant *q = d->q;
    int64_t remaining = qdrant_outbox_depth(d->db, NULL);
    qdrant_drain_cb cb = d->cb;
    void *payload = d->payload;
    int64_t sent = d->sent, failed = d->failed;
    drain_batch_clear(d);
    free(d);
    q->drain = NULL;
    cb(payload, sent, failed, remaining, error);
}

/* Run sql once for each row of the batch, in one transaction: with
 * backoff, the UPDATE of a batch that failed (?1 now, ?2 the cap, ?3 the
 * error, ?4 the row id); without, the DELETE of a batch that arrived (?1
 * the row id). */
static int drain_rows(struct drain *d, const char *sql, int backoff, const char *error,
                      char **errmsg)
{
    sqlite3 *h = db_handle(d->db);
    sqlite3_stmt *st = NULL;
    if (db_begin(d->db) != 0)
        goto fail;
    if (sqlite3_prepare_v2(h, sql, -1, &st, NULL) != SQLITE_OK)
        goto fail;
    for (size_t i = 0; i < d->n; i++) {
        sqlite3_reset(st);
        int idx = 1;
        if (backoff) {
            sqlite3_bind_int64(st, idx++, util_wall_ms());
            sqlite3_bind_int64(st, idx++, QDRANT_BACKOFF_CAP_MS);
            sqlite3_bind_text(st, idx++, error, -1, SQLITE_TRANSIENT);
        }
        sqlite3_bind_int64(st, idx, d->rows[i].id);
        if (sqlite3_step(st) != SQLITE_DONE)
            goto fail;
    }
    sqlite3_finalize(st);
    if (db_commit(d->db) != 0)
        goto fail_nost;
    return 0;
fail:
    sqlite3_finalize(st);
fail_nost:
    if (errmsg)
        *errmsg = xasprintf("outbox: %s", sqlite3_errmsg(h));
    db_rollback(d->db);
    return -1;
}

/* The batch failed: bump its rows' backoff and keep them. */
static int drain_mark_failed(struct drain *d, const char *error, char **errmsg)
{
    return drain_rows(d, "UPDATE outbox SET next_ms = ?1 + min(?2, 1000 << min(attempts, 6)), "
                         "attempts = attempts + 1, error = ?3 WHERE id = ?4",
                      1, error, errmsg);
}

/* The batch arrived: its rows leave the outbox in one transaction. */
static int drain_delete_sent(struct drain *d, char **errmsg)
{
    return drain_rows(d, "DELETE FROM outbox WHERE id = ?1", 0, NULL, errmsg);
}

static void drain_next(struct drain *d);

static void drain_failed(struct drain *d, const char *error)
{
    char *dberr = NULL;
    d->failed += (int64_t)d->n;
    if (drain_mark_failed(d, error, &dberr) != 0) {
        char *m = xasprintf("%s; and %s", error, dberr);
        drain_finish(d, m);
        free(m);
    } else {
        drain_finish(d, error);
    }
    free(dberr);
}

static void drain_sent(void *payload, const char *error)
{
    struct drain *d = payload;
    if (error) {
        drain_failed(d, error);
        return;
    }
    char *dberr = NULL;
    if (drain_delete_sent(d, &dberr) != 0) {
        drain_finish(d, dberr);
        free(dberr);
        return;
    }
    d->sent += (int64_t)d->n;
    drain_batch_clear(d);
    drain_next(d);
}

static void drain_ensured(void *payload, const char *error)
{
    struct drain *d = payload;
    if (error) {
        drain_failed(d, error);
        return;
    }
    struct qdrant_point *pts = xcalloc(d->n, sizeof *pts);
    for (size_t i = 0; i < d->n; i++) {
        pts[i].id = d->rows[i].point_id;
        pts[i].vector = d->rows[i].vec;
        pts[i].dim = d->rows[i].dim;
        pts[i].payload_json = d->rows[i].payload;
    }
    qdrant_upsert(d->q, d->collection, pts, d->n, drain_sent, d);
    free(pts);
}

/* Why an upsert row cannot be sent, or NULL. */
static const char *row_invalid(sqlite3_stmt *st)
{
    int vbytes = sqlite3_column_bytes(st, 4);
    if (sqlite3_column_type(st, 4) != SQLITE_BLOB || vbytes <= 0 || vbytes % 4 != 0)
        return "the outbox row has no float32 vector";
    const char *pl = (const char *)sqlite3_column_text(st, 5);
    if (pl) {
        cJSON *j = cJSON_Parse(pl);
        int ok = cJSON_IsObject(j);
        cJSON_Delete(j);
        if (!ok)
            return "the outbox row's payload is not a JSON object";
    }
    return NULL;
}

/* Read the next batch (consecutive rows of one collection and op) and
 * send it; or finish when there is none. */
static void drain_next(struct drain *d)
{
    sqlite3 *h = db_handle(d->db);
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(h,
                           "SELECT id, op, collection, point_id, vector, payload, next_ms "
                           "FROM outbox ORDER BY id LIMIT ?1",
                           -1, &st, NULL) != SQLITE_OK) {
        char *m = xasprintf("outbox: %s", sqlite3_errmsg(h));
        drain_finish(d, m);
        free(m);
        return;
    }
    sqlite3_bind_int(st, 1, d->max_batch);
    const char *invalid = NULL;
    size_t dim = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *op = (const char *)sqlite3_column_text(st, 1);
        const char *coll = (const char *)sqlite3_column_text(st, 2);
        int del = op && strcmp(op, "delete") == 0;
        if (d->n == 0) {
            if (!(d->flags & QDRANT_DRAIN_FORCE) && sqlite3_column_int64(st, 6) > util_wall_ms())
                break;   /* still backing off */
            d->op_delete = del;
            d->collection = xstrdup(coll ? coll : "");
        } else if (del != d->op_delete || strcmp(coll ? coll : "", d->collection) != 0) {
            break;
        }
        const char *why = del ? NULL : row_invalid(st);
        if (why && d->n > 0)
            break;   /* it fails alone, as the head of the next batch */
        int vbytes = sqlite3_column_bytes(st, 4);
        if (!del && !why) {
            size_t rdim = (size_t)vbytes / 4;
            if (d->n > 0 && rdim != dim)
                break;   /* one vector size per request */
            dim = rdim;
        }
        d->rows = xrealloc(d->rows, (d->n + 1) * sizeof *d->rows);
        struct drain_row *r = &d->rows[d->n++];
        memset(r, 0, sizeof *r);
        r->id = sqlite3_column_int64(st, 0);
        r->point_id = xstrdup((const char *)sqlite3_column_text(st, 3));
        if (!del && !why) {
            r->dim = (size_t)vbytes / 4;
            r->vec = xmalloc((size_t)vbytes);
            memcpy(r->vec, sqlite3_column_blob(st, 4), (size_t)vbytes);
            r->payload = xstrdup((const char *)sqlite3_column_text(st, 5));
        }
        if (why) {
            invalid = why;
            break;
        }
    }
    sqlite3_finalize(st);
    if (d->n == 0) {
        drain_finish(d, NULL);
        return;
    }
    if (invalid) {
        drain_failed(d, invalid);
        return;
    }
    if (d->op_delete) {
        const char **ids = xcalloc(d->n, sizeof *ids);
        for (size_t i = 0; i < d->n; i++)
            ids[i] = d->rows[i].point_id;
        qdrant_delete(d->q, d->collection, ids, d->n, drain_sent, d);
        free(ids);
    } else {
        qdrant_ensure_collection(d->q, d->collection, dim, drain_ensured, d);
    }
}

struct busy {
    struct db *db;
    qdrant_drain_cb cb;
    void *payload;
};

static void drain_busy(void *ctx, long status, const cJSON *json, const char *error)
{
    struct busy b = *(struct busy *)ctx;
    free(ctx);
    b.cb(b.payload, 0, 0, qdrant_outbox_depth(b.db, NULL), error);
}

static void drain_start(struct loop *l, uint64_t id, void *payload)
{
    struct drain *d = payload;
    d->start_timer = 0;
    drain_next(d);
}

void qdrant_drain(struct qdrant *q, struct db *db, int max_batch, int flags, qdrant_drain_cb cb,
                  void *payload)
{
    if (q->drain) {
        struct busy *b = xcalloc(1, sizeof *b);
        b->db = db;
        b->cb = cb;
        b->payload = payload;
        fail_later(q, drain_busy, b, free, "a Qdrant sync is already running");
        return;
    }
    struct drain *d = xcalloc(1, sizeof *d);
    d->q = q;
    d->db = db;
    d->max_batch = max_batch > 0 ? max_batch : 64;
    d->flags = flags;
    d->cb = cb;
    d->payload = payload;
    q->drain = d;
    /* start on the next turn: the callback never runs inside this call */
    d->start_timer = loop_timer_add(q->loop, 0, drain_start, d);
}

/* === Lifecycle, health === */

struct qdrant *qdrant_new(struct loop *l, const char *url, const char *api_key, long timeout_ms)
{
    struct qdrant *q = xcalloc(1, sizeof *q);
    q->loop = l;
    q->http = http_new(l);
    q->url = xstrdup(url ? url : "");
    size_t n = strlen(q->url);
    while (n && q->url[n - 1] == '/')
        q->url[--n] = '\0';
    if (api_key && *api_key)
        q->auth = xasprintf("api-key: %s", api_key);
    q->timeout_ms = timeout_ms > 0 ? timeout_ms : QDRANT_DEFAULT_TIMEOUT_MS;
    breaker_init(&q->br, QDRANT_BREAKER_FAILURES, QDRANT_BREAKER_COOLDOWN_MS);
    return q;
}

void qdrant_set_breaker(struct qdrant *q, int threshold, int64_t cooldown_ms)
{
    breaker_init(&q->br, threshold, cooldown_ms);
}

void qdrant_free(struct qdrant *q)
{
    if (!q)
        return;
    while (q->reqs) {
        struct req *r = q->reqs;
        req_unlink(r);
        if (r->hr)
            http_cancel(q->http, r->hr);
        if (r->timer)
            loop_timer_del(q->loop, r->timer);
        if (r->ctx_free)
            r->ctx_free(r->ctx);
        req_free(r);
    }
    http_free(q->http);
    if (q->drain) {
        if (q->drain->start_timer)
            loop_timer_del(q->loop, q->drain->start_timer);
        drain_batch_clear(q->drain);
        free(q->drain);
    }
    for (size_t i = 0; i < q->nens; i++)
        free(q->ens[i].name);
    free(q->ens);
    free(q->url);
    free(q->auth);
    free(q->last_error);
    free(q);
}

int qdrant_healthy(const struct qdrant *q)
{
    return q->br.state == BREAKER_CLOSED && !q->last_failed;
}

const char *qdrant_last_error(const struct qdrant *q)
{
    return q->last_error;
}

const char *qdrant_breaker_state(struct qdrant *q)
{
    breaker_poll(&q->br, util_now_ms());
    return breaker_state_name(q->br.state);
}
