/* memory_async.c — the memory store's asynchronous forms (see memory.h):
 * adds and searches whose embedding runs on the loop's worker pool, one
 * at a time from a queue, the vector part of a search asked of the
 * asynchronous hook (Qdrant) per namespace when one is set; the capture
 * of model answers built on them; and memory_free, which fails the
 * queued ops and waits for the running one. */
#include "memory_int.h"
#include "blobs.h"
#include "embed.h"
#include "log.h"
#include "loop.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

/* === Pending ops and closing === */

struct memory_op {
    struct memory *m;
    int search;                  /* else an add */
    struct memory_add_args add;  /* strings below own what it points to */
    char *ns, *text;
    cJSON *meta;
    struct memory_query q;
    char **qns;
    cJSON *filter;
    float *vec;
    int dim;
    char *err;
    memory_add_cb add_cb;
    memory_search_cb search_cb;
    memory_search_ext_cb search_ext_cb;
    void *payload;
    struct memory_op *next;
    /* the vector part asked of the asynchronous hook, per namespace */
    struct memory_rns *rns;
    size_t nrns, rpending;
    int launching;               /* still calling the hook: answers only count */
    char *reason;                /* the hook's first error */
};

struct memory_rns {
    struct memory_op *o;
    const char *ns;              /* borrowed from the query or the config */
    int answered, ok;
    int64_t *ids;
    double *scores;
    size_t n;
};

/* Answer a search op (info NULL: local, not asked). */
static void op_search_reply(struct memory_op *o, struct memory_hit *hits, size_t n,
                            const struct memory_search_info *info, const char *error)
{
    static const struct memory_search_info local = {"local", NULL};
    if (o->search_ext_cb)
        o->search_ext_cb(o->payload, hits, n, info ? info : &local, error);
    else
        o->search_cb(o->payload, hits, n, error);
}

static void op_free(struct memory_op *o)
{
    free(o->ns);
    free(o->text);
    cJSON_Delete(o->meta);
    for (size_t i = 0; i < o->q.nns; i++)
        free(o->qns[i]);
    free(o->qns);
    cJSON_Delete(o->filter);
    free(o->vec);
    free(o->err);
    for (size_t i = 0; i < o->nrns; i++) {
        free(o->rns[i].ids);
        free(o->rns[i].scores);
    }
    free(o->rns);
    free(o->reason);
    free(o);
}

static void op_fail(struct memory_op *o, const char *msg)
{
    if (o->search)
        op_search_reply(o, NULL, 0, NULL, msg);
    else
        o->add_cb(o->payload, -1, 0, msg);
    op_free(o);
}

static void memory_free_now(struct memory *m)
{
    memory_vi_drop_all(m);
    embed_free(m->emb);
    free(m->emb_id);
    free(m);
}

void memory_free(struct memory *m)
{
    if (!m)
        return;
    while (m->ops) {
        struct memory_op *o = m->ops;
        m->ops = o->next;
        op_fail(o, "the memory store closed");
    }
    m->ops_tail = &m->ops;
    if (m->op_running) {
        m->closing = 1;          /* the running op's completion frees it */
        return;
    }
    memory_free_now(m);
}

int memory_busy(const struct memory *m)
{
    return m && (m->ops || m->op_running);
}
/* === Capture of model answers === */

static void capture_done(void *payload, int rc, int64_t id, const char *error)
{
    if (rc < 0)
        log_write(LOG_LEVEL_WARN, NULL, "memory: capturing a task's answer failed: %s", error);
}

void memory_capture(struct memory *m, const char *type, const char *text, int64_t job_id)
{
    if (!m || !type || !text || !*text)
        return;
    const struct config_memory *c = &m->cfg->memory;
    for (size_t i = 0; i < c->ncapture; i++) {
        if (strcmp(c->capture_types[i], type))
            continue;
        cJSON *meta = cJSON_CreateObject();
        cJSON_AddNumberToObject(meta, "job", (double)job_id);
        cJSON_AddStringToObject(meta, "type", type);
        cJSON_AddStringToObject(meta, "source", "capture");
        memory_add_async(m, c->capture_ns[i], text, meta, 0, capture_done, NULL);
        cJSON_Delete(meta);
        return;
    }
}

/* === Asynchronous forms === */

static void op_start_next(struct memory *m);

static void op_work(void *arg)
{
    struct memory_op *o = arg;
    const char *t = o->search ? o->q.text : o->text;
    if (memory_embed_one(o->m, t, &o->vec, &o->dim, &o->err) < 0)
        o->vec = NULL;
}

/* The synchronous hook over the answers the asynchronous one gave. */
static int rns_lookup(void *ctx, const char *ns, const float *qvec, int dim, size_t limit,
                      const cJSON *filter, int64_t **ids, double **scores, size_t *n,
                      char **errmsg)
{
    struct memory_op *o = ctx;
    (void)qvec, (void)dim, (void)filter;
    for (size_t i = 0; i < o->nrns; i++) {
        struct memory_rns *r = &o->rns[i];
        if (strcmp(r->ns, ns) != 0 || !r->ok)
            continue;
        *n = r->n < limit ? r->n : limit;
        *ids = xcalloc(*n + 1, sizeof **ids);
        *scores = xcalloc(*n + 1, sizeof **scores);
        memcpy(*ids, r->ids, *n * sizeof **ids);
        memcpy(*scores, r->scores, *n * sizeof **scores);
        return 0;
    }
    *errmsg = xstrdup("not answered");
    return -1;
}

/* Search with the query vector, the hook's answers (if asked) standing in
 * for the local index, and reply. */
static void op_search_finish(struct memory_op *o)
{
    struct memory *m = o->m;
    struct memory_hit *hits = NULL;
    size_t n = 0;
    char *err = NULL;
    struct memory_search_info info = {"local", NULL};
    memory_vector_search_fn saved = m->vsearch;
    void *saved_ctx = m->vsearch_ctx;
    if (o->nrns) {
        info.backend = o->reason ? "local" : "qdrant";
        info.fallback_reason = o->reason;
        m->vsearch = rns_lookup;
        m->vsearch_ctx = o;
    }
    if (!o->vec && o->q.mode == MEMORY_VECTOR) {
        op_search_reply(o, NULL, 0, &info, o->err ? o->err : "embedding failed");
    } else if (memory_search_vec(m, &o->q, o->vec, o->dim, &hits, &n, &err) < 0) {
        op_search_reply(o, NULL, 0, &info, err);
    } else {
        op_search_reply(o, hits, n, &info, NULL);
    }
    m->vsearch = saved;
    m->vsearch_ctx = saved_ctx;
    memory_hits_free(hits, n);
    free(err);
}

/* The worker slot is free again. Returns 1 when the store is closing: o
 * has been failed and the store freed, nothing more to do. */
static int op_slot_free(struct memory_op *o)
{
    struct memory *m = o->m;
    m->op_running = 0;
    if (!m->closing)
        return 0;
    op_fail(o, "the memory store closed");
    memory_free_now(m);
    return 1;
}

/* Every namespace answered: finish the search and free the worker slot. */
static void op_remote_finish(struct memory_op *o)
{
    struct memory *m = o->m;
    if (op_slot_free(o))
        return;
    op_search_finish(o);
    op_free(o);
    op_start_next(m);
}

static void op_remote_done(void *token, const int64_t *ids, const double *scores, size_t n,
                           const char *error)
{
    struct memory_rns *r = token;
    struct memory_op *o = r->o;
    if (r->answered)
        return;                  /* a second answer is a bug in the hook: ignored */
    r->answered = 1;
    if (error) {
        if (!o->reason)
            o->reason = xstrdup(error);
    } else {
        r->ok = 1;
        r->n = n;
        r->ids = xcalloc(n + 1, sizeof *r->ids);
        r->scores = xcalloc(n + 1, sizeof *r->scores);
        if (n) {
            memcpy(r->ids, ids, n * sizeof *ids);
            memcpy(r->scores, scores, n * sizeof *scores);
        }
    }
    if (--o->rpending == 0 && !o->launching)
        op_remote_finish(o);
}

/* Ask the asynchronous hook for the vector part of every namespace the
 * search covers. 1 when asked (the op finishes in op_remote_finish), 0
 * when the search goes on locally at once. */
static int op_remote_start(struct memory_op *o)
{
    struct memory *m = o->m;
    if (!m->avsearch || !o->vec || o->q.mode == MEMORY_KEYWORD || m->closing)
        return 0;
    const struct config_memory *c = &m->cfg->memory;
    size_t nns = o->q.nns ? o->q.nns : c->nnamespaces;
    if (!nns)
        return 0;
    for (size_t i = 0; i < nns; i++)
        if (!memory_ns_known(m, o->q.nns ? o->q.ns[i] : c->namespaces[i].name))
            return 0;            /* the search itself says which one */
    size_t k = o->q.k ? o->q.k : 10;
    size_t limit = k * 4 < 50 ? 50 : k * 4;
    double threshold = o->q.mode == MEMORY_VECTOR && o->q.min_score > 0 ? o->q.min_score : -1;
    o->rns = xcalloc(nns, sizeof *o->rns);
    o->nrns = nns;
    o->rpending = nns;
    o->launching = 1;
    m->op_running = 1;           /* the slot is held until every answer is in */
    for (size_t i = 0; i < nns; i++) {
        o->rns[i].o = o;
        o->rns[i].ns = o->q.nns ? o->q.ns[i] : c->namespaces[i].name;
        m->avsearch(m->avsearch_ctx, o->rns[i].ns, o->vec, o->dim, limit, o->q.filter,
                    threshold, op_remote_done, &o->rns[i]);
    }
    o->launching = 0;
    if (o->rpending == 0)
        op_remote_finish(o);
    return 1;
}

/* Finish an op whose embedding is done: 1 when it went on to the hook
 * (it is not finished yet), else 0 (finished and freed). */
static int op_finish(struct memory_op *o)
{
    struct memory *m = o->m;
    if (o->search) {
        if (op_remote_start(o))
            return 1;
        op_search_finish(o);
    } else {
        if (!o->vec && o->err)
            log_write(LOG_LEVEL_WARN, NULL, "memory: embedding failed (the entry is kept "
                                            "without a vector): %s", o->err);
        int64_t id = 0;
        char *err = NULL;
        int rc = memory_add_vec(m, &o->add, o->vec, o->dim, &id, &err);
        o->add_cb(o->payload, rc, id, err);
        free(err);
    }
    op_free(o);
    return 0;
}

static void op_done(void *arg)
{
    struct memory_op *o = arg;
    struct memory *m = o->m;
    if (op_slot_free(o))
        return;
    if (op_finish(o))
        return;                  /* op_remote_finish goes on */
    op_start_next(m);
}

static void op_start_next(struct memory *m)
{
    if (m->op_running || !m->ops)
        return;
    struct memory_op *o = m->ops;
    m->ops = o->next;
    if (!m->ops)
        m->ops_tail = &m->ops;
    m->op_running = 1;
    loop_work(m->loop, op_work, op_done, o);
}

static void op_queue(struct memory *m, struct memory_op *o)
{
    if (!m->loop) {              /* no loop: block here */
        op_work(o);
        (void)op_finish(o);
        return;
    }
    o->next = NULL;
    *m->ops_tail = o;
    m->ops_tail = &o->next;
    op_start_next(m);
}

void memory_add_async(struct memory *m, const char *ns, const char *text,
                      const cJSON *metadata, int64_t ttl_ms, memory_add_cb cb, void *payload)
{
    char *err = NULL;
    const char *n = ns ? ns : memory_default_ns(m);
    if (memory_ns_check(m, n, &err) < 0 || memory_meta_check(metadata, &err) < 0 || !text ||
        !*text) {
        cb(payload, -1, 0, err ? err : "the text is empty");
        free(err);
        return;
    }
    /* a text already there needs no embedding: merge now */
    char hash[BLOBS_HEX_LEN + 1];
    blobs_sha256_hex(text, strlen(text), hash);
    memory_purge_due(m);
    sqlite3_stmt *st = memory_prep(m, "SELECT 1 FROM memory WHERE namespace = ? AND hash = ?");
    int exists = 0;
    if (st) {
        sqlite3_bind_text(st, 1, n, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, hash, -1, SQLITE_STATIC);
        exists = sqlite3_step(st) == SQLITE_ROW;
        sqlite3_finalize(st);
    }
    if (exists) {
        struct memory_add_args a = {n, text, metadata, ttl_ms, -1, -1, -1};
        int64_t id = 0;
        int rc = memory_add_vec(m, &a, NULL, 0, &id, &err);
        cb(payload, rc, id, err);
        free(err);
        return;
    }
    struct memory_op *o = xcalloc(1, sizeof *o);
    o->m = m;
    o->ns = xstrdup(n);
    o->text = xstrdup(text);
    o->meta = metadata ? cJSON_Duplicate(metadata, 1) : NULL;
    o->add = (struct memory_add_args){o->ns, o->text, o->meta, ttl_ms, -1, -1, -1};
    o->add_cb = cb;
    o->payload = payload;
    op_queue(m, o);
}

static void search_start(struct memory *m, const struct memory_query *q, memory_search_cb cb,
                         memory_search_ext_cb ext_cb, void *payload)
{
    if (q->mode == MEMORY_KEYWORD || !q->text) {
        static const struct memory_search_info local = {"local", NULL};
        struct memory_hit *hits = NULL;
        size_t n = 0;
        char *err = NULL;
        int rc = memory_search_vec(m, q, NULL, 0, &hits, &n, &err);
        if (ext_cb)
            ext_cb(payload, rc < 0 ? NULL : hits, rc < 0 ? 0 : n, &local, rc < 0 ? err : NULL);
        else
            cb(payload, rc < 0 ? NULL : hits, rc < 0 ? 0 : n, rc < 0 ? err : NULL);
        memory_hits_free(hits, n);
        free(err);
        return;
    }
    struct memory_op *o = xcalloc(1, sizeof *o);
    o->m = m;
    o->search = 1;
    o->q = *q;
    o->text = xstrdup(q->text);
    o->q.text = o->text;
    o->qns = xcalloc(q->nns + 1, sizeof *o->qns);
    for (size_t i = 0; i < q->nns; i++)
        o->qns[i] = xstrdup(q->ns[i]);
    o->q.ns = (const char *const *)o->qns;
    o->filter = q->filter ? cJSON_Duplicate(q->filter, 1) : NULL;
    o->q.filter = o->filter;
    o->search_cb = cb;
    o->search_ext_cb = ext_cb;
    o->payload = payload;
    op_queue(m, o);
}

void memory_search_async(struct memory *m, const struct memory_query *q, memory_search_cb cb,
                         void *payload)
{
    search_start(m, q, cb, NULL, payload);
}

void memory_search_async_ext(struct memory *m, const struct memory_query *q,
                             memory_search_ext_cb cb, void *payload)
{
    search_start(m, q, NULL, cb, payload);
}
