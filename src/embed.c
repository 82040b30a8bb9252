/* embed.c — the embedders (see embed.h): feature hashing, and a blocking
 * client for OpenAI-compatible /embeddings endpoints.
 *
 * The OpenAI client uses libcurl's easy interface on purpose: embedding is
 * bulk work for a worker thread or a one-shot CLI, never the event loop. */
#include "embed.h"
#include "util.h"
#include "vecindex.h"

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <errno.h>
#include <float.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define EMBED_DIM_DEFAULT 384
#define EMBED_DIM_MAX 65536
#define EMBED_BATCH_DEFAULT 64
#define EMBED_RETRIES 4
#define EMBED_BACKOFF_MS 500
#define EMBED_BACKOFF_MAX_MS 30000
#define EMBED_TIMEOUT_MS 120000L
#define EMBED_BODY_MAX (256u << 20)

#define W_WORD 1.0f
#define W_GRAM 0.5f

enum embed_kind { EMBED_HASHING, EMBED_OPENAI };

struct embedder {
    enum embed_kind kind;
    int dim;
    char *id;
    /* openai */
    char *url;        /* base_url + "/embeddings" */
    char *key_env;
    char *model;
    int batch;
    CURL *curl;
};

/* === Hashing === */

#define FNV_OFFSET 14695981039346656037ULL
#define FNV_PRIME 1099511628211ULL

/* FNV-1a of a kind byte followed by the feature's bytes; seed separates
 * the bucket hash from the sign hash. */
static uint64_t fnv1a(uint64_t seed, char kind, const unsigned char *p, size_t n)
{
    uint64_t h = FNV_OFFSET ^ seed;
    h = (h ^ (unsigned char)kind) * FNV_PRIME;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * FNV_PRIME;
    return h;
}

static void hash_feature(float *v, int dim, char kind, const unsigned char *p, size_t n, float w)
{
    uint64_t b = fnv1a(0, kind, p, n);
    uint64_t s = fnv1a(0x9e3779b97f4a7c15ULL, kind, p, n);
    v[b % (uint64_t)dim] += (s >> 63) ? -w : w;
}

static int word_byte(unsigned char c)
{
    return c >= 0x80 || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* Words longer than this keep their first WORD_MAX bytes for hashing. */
#define WORD_MAX 64

static void hash_text(const char *text, float *v, int dim)
{
    const unsigned char *p = (const unsigned char *)text;
    unsigned char w[WORD_MAX + 2];
    memset(v, 0, (size_t)dim * sizeof(float));
    while (*p) {
        while (*p && !word_byte(*p))
            p++;
        if (!*p)
            break;
        size_t n = 0;
        w[n++] = '^';
        for (; *p && word_byte(*p); p++)
            if (n <= WORD_MAX)
                w[n++] = (*p >= 'A' && *p <= 'Z') ? (unsigned char)(*p + 32) : *p;
        w[n++] = '$';
        hash_feature(v, dim, 'w', w + 1, n - 2, W_WORD);
        for (size_t g = 3; g <= 4; g++)
            for (size_t i = 0; i + g <= n; i++)
                hash_feature(v, dim, (char)('0' + g), w + i, g, W_GRAM);
    }
    vec_normalise(v, dim);
}

struct embedder *embed_hashing_new(int dim)
{
    if (dim <= 0)
        dim = EMBED_DIM_DEFAULT;
    if (dim > EMBED_DIM_MAX)
        return NULL;
    struct embedder *e = xcalloc(1, sizeof(*e));
    e->kind = EMBED_HASHING;
    e->dim = dim;
    e->id = xasprintf("hashing-%d-v1", dim);
    return e;
}

/* === OpenAI-compatible === */

struct embedder *embed_openai_new(const char *base_url, const char *key_env, const char *model,
                                  int batch)
{
    if (!base_url || !*base_url || !model || !*model)
        return NULL;
    struct embedder *e = xcalloc(1, sizeof(*e));
    size_t n = strlen(base_url);
    while (n > 0 && base_url[n - 1] == '/')
        n--;
    char *base = xstrndup(base_url, n);
    e->kind = EMBED_OPENAI;
    e->url = xasprintf("%s/embeddings", base);
    e->id = xasprintf("openai:%s@%s", model, base);
    free(base);
    e->key_env = xstrdup(key_env);
    e->model = xstrdup(model);
    e->batch = batch > 0 ? batch : EMBED_BATCH_DEFAULT;
    return e;
}

void embed_free(struct embedder *e)
{
    if (!e)
        return;
    if (e->curl)
        curl_easy_cleanup(e->curl);
    free(e->id);
    free(e->url);
    free(e->key_env);
    free(e->model);
    free(e);
}

const char *embed_id(const struct embedder *e)
{
    return e->id;
}

int embed_dim(const struct embedder *e)
{
    return e->dim;
}

struct embed_resp {
    struct buf body;
    int64_t retry_after_ms;    /* -1: none */
};

static size_t on_body(char *p, size_t size, size_t nmemb, void *ud)
{
    struct embed_resp *r = ud;
    size_t n = size * nmemb;
    if (r->body.len + n > EMBED_BODY_MAX)
        return 0;
    buf_append(&r->body, p, n);
    return n;
}

static size_t on_header(char *p, size_t size, size_t nmemb, void *ud)
{
    struct embed_resp *r = ud;
    size_t n = size * nmemb;
    static const char name[] = "retry-after:";
    if (n > sizeof(name) - 1 && strncasecmp(p, name, sizeof(name) - 1) == 0) {
        char *end;
        double s = strtod(p + sizeof(name) - 1, &end);
        if (end != p + sizeof(name) - 1 && s >= 0 && isfinite(s))
            r->retry_after_ms = s * 1000.0 > 1e9 ? (int64_t)1e9 : (int64_t)(s * 1000.0);
    }
    return n;
}

static void sleep_ms(int64_t ms)
{
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
        ;
}

static void curl_init_once(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* A short, single-line excerpt of an error body for a message. */
static char *body_excerpt(const struct buf *b)
{
    size_t n = b->len < 200 ? b->len : 200;
    char *s = xstrndup(b->data ? b->data : "", n);
    for (char *c = s; *c; c++)
        if (*c == '\n' || *c == '\r')
            *c = ' ';
    return s;
}

/* Parse an answer for n texts into out (n * *dim floats, allocated when
 * *out is NULL; *dim fixed by the first embedding when 0). */
static int parse_answer(struct embedder *e, const struct buf *b, size_t n, float **out,
                        size_t first, size_t total, char **errmsg)
{
    cJSON *root = cJSON_ParseWithLength(b->data ? b->data : "", b->len);
    cJSON *data = root ? cJSON_GetObjectItemCaseSensitive(root, "data") : NULL;
    unsigned char *seen = xcalloc(n ? n : 1, 1);
    int rc = -1;
    if (!cJSON_IsArray(data)) {
        *errmsg = xasprintf("%s: the answer has no \"data\" array", e->url);
        goto fail;
    }
    size_t pos = 0;
    cJSON *item;
    cJSON_ArrayForEach(item, data) {
        cJSON *idx = cJSON_GetObjectItemCaseSensitive(item, "index");
        cJSON *emb = cJSON_GetObjectItemCaseSensitive(item, "embedding");
        int64_t at = (int64_t)pos;
        int bad_index =
            cJSON_IsNumber(idx) && !util_whole_in(idx->valuedouble, 0, (int64_t)n - 1, &at);
        size_t i = (size_t)at;
        pos++;
        if (bad_index || i >= n || seen[i]) {
            *errmsg = xasprintf("%s: the answer has a bad or repeated index", e->url);
            goto fail;
        }
        int d = cJSON_GetArraySize(emb);
        if (!cJSON_IsArray(emb) || d < 1 || d > EMBED_DIM_MAX) {
            *errmsg = xasprintf("%s: embedding %zu is not an array of numbers (base64 answers "
                                "are not supported)", e->url, i);
            goto fail;
        }
        if (e->dim == 0)
            e->dim = d;
        if (d != e->dim) {
            *errmsg = xasprintf("%s: embedding of %d dimensions, expected %d", e->url, d, e->dim);
            goto fail;
        }
        if (!*out)
            *out = xmalloc(total * (size_t)e->dim * sizeof(float));
        float *row = *out + (first + i) * (size_t)e->dim;
        int j = 0;
        cJSON *x;
        cJSON_ArrayForEach(x, emb) {
            if (!cJSON_IsNumber(x) || fabs(x->valuedouble) > FLT_MAX) {
                *errmsg = xasprintf("%s: embedding %zu has a %s", e->url, i,
                                    cJSON_IsNumber(x) ? "value no float holds" : "non-number");
                goto fail;
            }
            row[j++] = (float)x->valuedouble;
        }
        vec_normalise(row, e->dim);
        seen[i] = 1;
    }
    for (size_t i = 0; i < n; i++)
        if (!seen[i]) {
            *errmsg = xasprintf("%s: the answer has %zu embeddings for %zu texts", e->url, pos, n);
            goto fail;
        }
    rc = 0;
fail:
    free(seen);
    cJSON_Delete(root);
    return rc;
}

/* One batch texts[0..n) into rows first.. of *out, with retries. */
static int openai_batch(struct embedder *e, const char *const *texts, size_t n, float **out,
                        size_t first, size_t total, char **errmsg)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, curl_init_once);
    if (!e->curl && !(e->curl = curl_easy_init())) {
        *errmsg = xstrdup("cannot start libcurl");
        return -1;
    }
    cJSON *req = cJSON_CreateObject();
    cJSON_AddStringToObject(req, "model", e->model);
    cJSON *in = cJSON_AddArrayToObject(req, "input");
    for (size_t i = 0; i < n; i++)
        cJSON_AddItemToArray(in, cJSON_CreateString(texts[i]));
    char *body = cJSON_PrintUnformatted(req);
    cJSON_Delete(req);

    struct curl_slist *hdrs = curl_slist_append(NULL, "Content-Type: application/json");
    const char *key = e->key_env ? getenv(e->key_env) : NULL;
    if (key && *key) {
        char *h = xasprintf("Authorization: Bearer %s", key);
        hdrs = curl_slist_append(hdrs, h);
        free(h);
    }
    struct embed_resp r;
    buf_init(&r.body);
    char errbuf[CURL_ERROR_SIZE];
    int rc = -1;
    for (int attempt = 0;; attempt++) {
        CURL *c = e->curl;
        curl_easy_reset(c);
        buf_fini(&r.body);
        buf_init(&r.body);
        r.retry_after_ms = -1;
        errbuf[0] = 0;
        curl_easy_setopt(c, CURLOPT_URL, e->url);
        curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
        curl_easy_setopt(c, CURLOPT_USERAGENT, "mcpdeck");
        curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");
        curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, EMBED_TIMEOUT_MS);
        curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(body));
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
        curl_easy_setopt(c, CURLOPT_WRITEDATA, &r);
        curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
        curl_easy_setopt(c, CURLOPT_HEADERDATA, &r);
        CURLcode cc = curl_easy_perform(c);
        long status = 0;
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
        int retry = cc != CURLE_OK || status == 429 || status >= 500;
        if (!retry && status >= 200 && status < 300) {
            rc = parse_answer(e, &r.body, n, out, first, total, errmsg);
            break;
        }
        if (!retry || attempt == EMBED_RETRIES) {
            if (cc != CURLE_OK) {
                *errmsg = xasprintf("%s: %s", e->url, errbuf[0] ? errbuf : curl_easy_strerror(cc));
            } else {
                char *ex = body_excerpt(&r.body);
                *errmsg = xasprintf("%s: HTTP %ld%s%s", e->url, status, *ex ? ": " : "", ex);
                free(ex);
            }
            break;
        }
        int64_t wait = (int64_t)EMBED_BACKOFF_MS << attempt;
        if (r.retry_after_ms >= 0)
            wait = r.retry_after_ms;
        sleep_ms(wait > EMBED_BACKOFF_MAX_MS ? EMBED_BACKOFF_MAX_MS : wait);
    }
    buf_fini(&r.body);
    curl_slist_free_all(hdrs);
    cJSON_free(body);
    return rc;
}

/* === Both === */

int embed_texts(struct embedder *e, const char *const *texts, size_t n, float **out, int *dim,
                char **errmsg)
{
    *out = NULL;
    *errmsg = NULL;
    if (n == 0) {
        *dim = e->dim;
        return 0;
    }
    if (e->kind == EMBED_HASHING) {
        float *v = xmalloc(n * (size_t)e->dim * sizeof(float));
        for (size_t i = 0; i < n; i++)
            hash_text(texts[i] ? texts[i] : "", v + i * (size_t)e->dim, e->dim);
        *out = v;
        *dim = e->dim;
        return 0;
    }
    for (size_t i = 0; i < n; i += (size_t)e->batch) {
        size_t m = n - i < (size_t)e->batch ? n - i : (size_t)e->batch;
        for (size_t j = i; j < i + m; j++)
            if (!texts[j]) {
                *errmsg = xasprintf("text %zu is missing", j);
                goto fail;
            }
        if (openai_batch(e, texts + i, m, out, i, n, errmsg) < 0)
            goto fail;
    }
    *dim = e->dim;
    return 0;
fail:
    free(*out);
    *out = NULL;
    return -1;
}
