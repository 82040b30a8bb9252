/* builtin_memory.c — the built-in "memory" MCP server: store, search and
 * delete entries of the engine's memory store (memory.h).
 *
 * Unlike fs, these tools use the engine's SQLite connection, so they run
 * on the loop thread (builtin_tool.start): a store or a search that needs
 * an embedding hands it to the worker pool through memory_*_async and
 * replies when the write or the search is done. Results carry the entries
 * as structuredContent besides a readable text block. */
#include "builtin.h"
#include "memory.h"
#include "util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

struct reply {
    builtin_reply_fn fn;
    void *token;
};

static struct reply *reply_new(builtin_reply_fn fn, void *token)
{
    struct reply *r = xmalloc(sizeof *r);
    r->fn = fn;
    r->token = token;
    return r;
}

/* Refuse arguments the schema does not list (NULL-terminated). */
static cJSON *args_check(const cJSON *args, const char *const *allowed)
{
    if (args && !cJSON_IsObject(args))
        return builtin_result_text(1, "arguments must be a JSON object");
    const cJSON *it;
    cJSON_ArrayForEach(it, args) {
        int ok = 0;
        for (size_t i = 0; allowed[i]; i++)
            if (!strcmp(it->string, allowed[i]))
                ok = 1;
        if (!ok)
            return builtin_result_text(1, "unknown argument '%s'", it->string);
    }
    return NULL;
}

/* A text result with structuredContent sc (taken). */
static cJSON *result_structured(char *text, cJSON *sc)
{
    cJSON *r = builtin_result_take_text(0, text);
    cJSON_AddItemToObject(r, "structuredContent", sc);
    return r;
}

/* === memory_store === */

static const char store_schema[] =
    "{\"type\":\"object\",\"properties\":{"
    "\"text\":{\"type\":\"string\",\"minLength\":1,\"description\":\"What to remember\"},"
    "\"namespace\":{\"type\":\"string\",\"description\":"
    "\"coding, architecture, documentation, testing or shared (default shared)\"},"
    "\"metadata\":{\"type\":\"object\",\"description\":"
    "\"Facts about the text, e.g. {\\\"lang\\\": \\\"c\\\", \\\"file\\\": \\\"src/loop.c\\\"}\"}},"
    "\"required\":[\"text\"],\"additionalProperties\":false}";

static void store_done(void *payload, int rc, int64_t id, const char *error)
{
    struct reply *r = payload;
    cJSON *res;
    if (rc < 0) {
        res = builtin_result_text(1, "%s", error ? error : "storing failed");
    } else {
        cJSON *sc = cJSON_CreateObject();
        cJSON_AddNumberToObject(sc, "id", (double)id);
        cJSON_AddBoolToObject(sc, "created", rc == 0);
        res = result_structured(xasprintf(rc == 0 ? "stored as entry %lld"
                                                  : "already stored as entry %lld (metadata "
                                                    "merged)", (long long)id), sc);
    }
    r->fn(r->token, res);
    free(r);
}

static void store_start(const struct builtin_ctx *ctx, const cJSON *args, builtin_reply_fn fn,
                        void *token)
{
    static const char *const allowed[] = {"text", "namespace", "metadata", NULL};
    cJSON *err = args_check(args, allowed);
    const cJSON *text = cJSON_GetObjectItemCaseSensitive(args, "text");
    const cJSON *ns = cJSON_GetObjectItemCaseSensitive(args, "namespace");
    const cJSON *meta = cJSON_GetObjectItemCaseSensitive(args, "metadata");
    if (!err && (!cJSON_IsString(text) || !*text->valuestring))
        err = builtin_result_text(1, "argument 'text' is required (a non-empty string)");
    if (!err && ns && !cJSON_IsNull(ns) && !cJSON_IsString(ns))
        err = builtin_result_text(1, "argument 'namespace' must be a string");
    if (!err && meta && !cJSON_IsNull(meta) && !cJSON_IsObject(meta))
        err = builtin_result_text(1, "argument 'metadata' must be an object");
    if (!err && !ctx->memory)
        err = builtin_result_text(1, "the memory store is not open");
    if (err) {
        fn(token, err);
        return;
    }
    memory_add_async(ctx->memory, cJSON_IsString(ns) ? ns->valuestring : NULL,
                     text->valuestring, cJSON_IsObject(meta) ? meta : NULL, 0, store_done,
                     reply_new(fn, token));
}

/* === memory_search === */

static const char search_schema[] =
    "{\"type\":\"object\",\"properties\":{"
    "\"query\":{\"type\":\"string\",\"minLength\":1,\"description\":\"What to look for\"},"
    "\"namespace\":{\"description\":\"A namespace or a list of them (default: all)\","
    "\"anyOf\":[{\"type\":\"string\"},{\"type\":\"array\",\"items\":{\"type\":\"string\"}}]},"
    "\"k\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":100,"
    "\"description\":\"How many results (default 10)\"},"
    "\"mode\":{\"type\":\"string\",\"enum\":[\"hybrid\",\"vector\",\"keyword\"],"
    "\"description\":\"hybrid (default) fuses keyword and vector ranks\"},"
    "\"filter\":{\"type\":\"object\",\"description\":"
    "\"Metadata conditions: {\\\"lang\\\": \\\"c\\\", \\\"score\\\": {\\\"gte\\\": 3}} "
    "(eq, ne, gt, gte, lt, lte, in)\"},"
    "\"min_score\":{\"type\":\"number\",\"description\":"
    "\"Drop results scoring below this (vector mode: cosine; sent to Qdrant as its "
    "score_threshold)\"},"
    "\"exact\":{\"type\":\"boolean\",\"description\":"
    "\"Vector part by a full float32 scan instead of int8 + rescoring\"}},"
    "\"required\":[\"query\"],\"additionalProperties\":false}";

static void search_done(void *payload, struct memory_hit *hits, size_t n,
                        const struct memory_search_info *info, const char *error)
{
    struct reply *r = payload;
    cJSON *res;
    if (error) {
        res = builtin_result_text(1, "%s", error);
    } else {
        cJSON *sc = cJSON_CreateObject();
        cJSON *arr = cJSON_AddArrayToObject(sc, "results");
        struct buf b;
        buf_init(&b);
        cJSON_AddStringToObject(sc, "backend", info->backend);
        if (info->fallback_reason)
            cJSON_AddStringToObject(sc, "fallback_reason", info->fallback_reason);
        buf_printf(&b, "%zu result%s\n", n, n == 1 ? "" : "s");
        if (info->fallback_reason)
            buf_printf(&b, "(Qdrant did not answer: %s; searched the local index)\n",
                       info->fallback_reason);
        for (size_t i = 0; i < n; i++) {
            cJSON *o = memory_entry_json(hits[i].entry);
            cJSON_AddNumberToObject(o, "score", hits[i].score);
            cJSON_AddNumberToObject(o, "bm25", hits[i].bm25);
            cJSON_AddNumberToObject(o, "vector", hits[i].vector);
            cJSON_AddItemToArray(arr, o);
            buf_printf(&b, "[%lld] (%s, %.4f) %s\n", (long long)hits[i].entry->id,
                       hits[i].entry->ns, hits[i].score, hits[i].entry->text);
        }
        res = result_structured(buf_detach(&b), sc);
    }
    r->fn(r->token, res);
    free(r);
}

static void search_start(const struct builtin_ctx *ctx, const cJSON *args, builtin_reply_fn fn,
                         void *token)
{
    static const char *const allowed[] = {"query", "namespace", "k", "mode", "filter",
                                          "min_score", "exact", NULL};
    cJSON *err = args_check(args, allowed);
    const cJSON *query = cJSON_GetObjectItemCaseSensitive(args, "query");
    const cJSON *ns = cJSON_GetObjectItemCaseSensitive(args, "namespace");
    const cJSON *k = cJSON_GetObjectItemCaseSensitive(args, "k");
    const cJSON *mode = cJSON_GetObjectItemCaseSensitive(args, "mode");
    const cJSON *filter = cJSON_GetObjectItemCaseSensitive(args, "filter");
    const cJSON *min = cJSON_GetObjectItemCaseSensitive(args, "min_score");
    struct memory_query q = {NULL, 10, NULL, 0, NULL, 0, MEMORY_HYBRID, 0};
    q.exact = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(args, "exact"));
    if (min && !cJSON_IsNull(min)) {
        if (cJSON_IsNumber(min))
            q.min_score = min->valuedouble;
        else
            err = builtin_result_text(1, "argument 'min_score' must be a number");
    }
    const char *nsv[32];
    if (!err && (!cJSON_IsString(query) || !*query->valuestring))
        err = builtin_result_text(1, "argument 'query' is required (a non-empty string)");
    if (!err && k && !cJSON_IsNull(k)) {
        if (!cJSON_IsNumber(k) || k->valuedouble != floor(k->valuedouble) ||
            k->valuedouble < 1 || k->valuedouble > 100)
            err = builtin_result_text(1, "argument 'k' must be an integer from 1 to 100");
        else
            q.k = (size_t)k->valuedouble;
    }
    if (!err && mode && !cJSON_IsNull(mode)) {
        const char *m = cJSON_IsString(mode) ? mode->valuestring : "";
        if (!strcmp(m, "hybrid"))
            q.mode = MEMORY_HYBRID;
        else if (!strcmp(m, "vector"))
            q.mode = MEMORY_VECTOR;
        else if (!strcmp(m, "keyword"))
            q.mode = MEMORY_KEYWORD;
        else
            err = builtin_result_text(1, "argument 'mode' must be hybrid, vector or keyword");
    }
    if (!err && cJSON_IsString(ns)) {
        nsv[q.nns++] = ns->valuestring;
    } else if (!err && cJSON_IsArray(ns)) {
        const cJSON *it;
        cJSON_ArrayForEach(it, ns) {
            if (!cJSON_IsString(it) || q.nns == ARRAY_LEN(nsv)) {
                err = builtin_result_text(1, "argument 'namespace' must be a string or a list "
                                             "of at most 32 strings");
                break;
            }
            nsv[q.nns++] = it->valuestring;
        }
    } else if (!err && ns && !cJSON_IsNull(ns)) {
        err = builtin_result_text(1, "argument 'namespace' must be a string or a list of them");
    }
    if (!err && filter && !cJSON_IsNull(filter) && !cJSON_IsObject(filter))
        err = builtin_result_text(1, "argument 'filter' must be an object");
    if (!err && !ctx->memory)
        err = builtin_result_text(1, "the memory store is not open");
    if (err) {
        fn(token, err);
        return;
    }
    q.text = query->valuestring;
    q.ns = q.nns ? nsv : NULL;
    q.filter = cJSON_IsObject(filter) ? filter : NULL;
    memory_search_async_ext(ctx->memory, &q, search_done, reply_new(fn, token));
}

/* === memory_delete === */

static const char delete_schema[] =
    "{\"type\":\"object\",\"properties\":{"
    "\"id\":{\"type\":\"integer\",\"minimum\":1,\"description\":\"The entry's id\"}},"
    "\"required\":[\"id\"],\"additionalProperties\":false}";

static void delete_start(const struct builtin_ctx *ctx, const cJSON *args, builtin_reply_fn fn,
                         void *token)
{
    static const char *const allowed[] = {"id", NULL};
    cJSON *res = args_check(args, allowed);
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(args, "id");
    int64_t v = 0;
    if (!res && (!cJSON_IsNumber(id) || !util_whole_in(id->valuedouble, 1, INT64_MAX, &v)))
        res = builtin_result_text(1, "argument 'id' is required (a positive integer)");
    if (!res && !ctx->memory)
        res = builtin_result_text(1, "the memory store is not open");
    if (!res) {
        char *err = NULL;
        int rc = memory_delete(ctx->memory, v, &err);
        if (rc < 0) {
            res = builtin_result_take_text(1, err);
        } else if (rc == 1) {
            res = builtin_result_text(1, "no entry %lld", (long long)v);
        } else {
            cJSON *sc = cJSON_CreateObject();
            cJSON_AddNumberToObject(sc, "id", (double)v);
            cJSON_AddBoolToObject(sc, "deleted", 1);
            res = result_structured(xasprintf("deleted entry %lld", (long long)v), sc);
        }
    }
    fn(token, res);
}

static const struct builtin_tool memory_tools[] = {
    {"memory_store", "Remember a text in the local memory (deduplicated by content; metadata "
                     "of a repeat is merged). Returns the entry id.",
     store_schema, NULL, 0, store_start},
    {"memory_search", "Search the local memory by meaning and keywords (hybrid), by meaning "
                      "only (vector) or by keywords only (keyword), with optional metadata "
                      "filters.",
     search_schema, NULL, BUILTIN_READ_ONLY, search_start},
    {"memory_delete", "Delete a memory entry by id.", delete_schema, NULL, 0, delete_start},
};

const struct builtin_server builtin_memory = {
    "memory",
    "1.0.0",
    "A local memory of notes in namespaces (coding, architecture, documentation, testing, "
    "shared). Store facts worth keeping with memory_store; look them up with memory_search.",
    memory_tools,
    ARRAY_LEN(memory_tools),
};
