/* llm.c — the LLM gateway (see llm.h).
 *
 * A call walks a list of candidate models: the one asked for (or the
 * strategy's first), then the rest of the strategy's list, leaving out
 * fallbacks priced above llm.max_price. For each candidate: its breaker
 * must let a request through, the request must fit the budgets, then up
 * to 1 + llm.retries requests are made, waiting between them for the
 * longer of the provider's Retry-After and an exponential backoff. A
 * failure counts against the model's breaker; once it opens, the model is
 * skipped until its cooldown ends, also by later retries of this call.
 * Everything that happened is the call's chain, stored in `usage`. */
#include "llm.h"

#include "blobs.h"
#include "breaker.h"
#include "config.h"
#include "db.h"
#include "http.h"
#include "loop.h"
#include "metrics.h"
#include "sse.h"
#include "util.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BACKOFF_BASE_MS 500
#define BACKOFF_CAP_MS 30000
#define RETRY_AFTER_MAX_MS 60000     /* a longer wait goes to the next model instead */
#define BODY_MAX (64u << 20)
#define SSE_EVENT_MAX (16u << 20)

struct model {
    const struct config_model *cm;
    const struct config_provider *cp;
    struct breaker br;
    double ewma_ms;              /* measured latency, 0 = none yet */
};

struct llm {
    struct loop *loop;
    const struct config *cfg;
    struct db *db;
    struct metrics *metrics;
    struct http *http;
    struct model *models;
    size_t nmodels;
    struct llm_call *calls;
    double day_spent;            /* cached SUM(cost) since day_start */
    int64_t day_start;           /* local midnight (Unix ms) the cache is for; 0 = unread */
};

struct llm_call {
    struct llm *g;
    struct llm_opts o;
    cJSON *messages, *tools;
    size_t *cand;                /* indices into g->models */
    size_t ncand, ci;
    int retry;                   /* retries made on the current candidate */
    int attempts;
    struct http_req *req;
    uint64_t timer;
    long status;
    int64_t retry_after_ms;      /* from the last answer, -1 none */
    int is_stream;               /* the answer is an event stream */
    struct sse_parser sse;
    struct llm_stream *stream;
    char *stream_err;
    struct buf body;
    int emitted;                 /* deltas went out during this attempt */
    int64_t t0, attempt_t0;      /* monotonic */
    struct buf chain;
    char *cache_key;             /* when the cache applies */
    struct llm_call *next;
};

/* === helpers === */

static struct model *model_find(struct llm *g, const char *name)
{
    const struct config_model *cm = config_find_model(g->cfg, name);
    for (size_t i = 0; cm && i < g->nmodels; i++)
        if (g->models[i].cm == cm)
            return &g->models[i];
    return NULL;
}

static double cost_of(const struct config_model *cm, int64_t in, int64_t out)
{
    return ((double)(in > 0 ? in : 0) * cm->price_in + (double)(out > 0 ? out : 0) * cm->price_out) /
           1e6;
}

static int64_t local_midnight_ms(void)
{
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
    return (int64_t)mktime(&tm) * 1000;
}

double llm_spent_today(struct llm *g)
{
    int64_t mid = local_midnight_ms();
    if (g->day_start == mid)
        return g->day_spent;
    g->day_start = mid;
    g->day_spent = 0;
    sqlite3_stmt *st;
    if (g->db && sqlite3_prepare_v2(db_handle(g->db),
                                    "SELECT COALESCE(SUM(cost), 0) FROM usage WHERE ts_ms >= ?1",
                                    -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_int64(st, 1, mid);
        if (sqlite3_step(st) == SQLITE_ROW)
            g->day_spent = sqlite3_column_double(st, 0);
        sqlite3_finalize(st);
    }
    return g->day_spent;
}

/* Characters of the conversation and tools: the token estimate is 1/4. */
static int64_t estimate_tokens_in(const struct llm_call *c)
{
    char *a = cJSON_PrintUnformatted(c->messages);
    char *b = c->tools ? cJSON_PrintUnformatted(c->tools) : NULL;
    int64_t n = (int64_t)(a ? strlen(a) : 0) + (int64_t)(b ? strlen(b) : 0);
    cJSON_free(a);
    cJSON_free(b);
    return (n + 3) / 4;
}

static int max_tokens_for(const struct llm_call *c, const struct model *m)
{
    return c->o.max_tokens > 0 ? c->o.max_tokens : m->cm->max_tokens;
}

/* NULL when the model's worst case fits the budgets, else why not. */
static char *over_budget(struct llm_call *c, const struct model *m)
{
    const struct config_llm *L = &c->g->cfg->llm;
    if (L->budget_task < 0 && L->budget_day < 0)
        return NULL;
    double worst = cost_of(m->cm, estimate_tokens_in(c), max_tokens_for(c, m));
    if (L->budget_task >= 0 && c->o.spent + worst > L->budget_task)
        return xasprintf("llm.budget.task: a call to %s could cost up to $%.4f, the task has "
                         "$%.4f left of $%.4f", m->cm->name, worst,
                         L->budget_task - c->o.spent > 0 ? L->budget_task - c->o.spent : 0.0,
                         L->budget_task);
    double day = llm_spent_today(c->g);
    if (L->budget_day >= 0 && day + worst > L->budget_day)
        return xasprintf("llm.budget.day: a call to %s could cost up to $%.4f, today has "
                         "$%.4f left of $%.4f", m->cm->name, worst,
                         L->budget_day - day > 0 ? L->budget_day - day : 0.0, L->budget_day);
    return NULL;
}

static void chain_add(struct llm_call *c, const struct model *m, const char *what)
{
    buf_printf(&c->chain, "%s%s: %s", c->chain.len ? "; " : "", m->cm->name, what);
}

static void metrics_breaker(struct llm *g, const struct model *m)
{
    if (!g->metrics)
        return;
    char *target = xasprintf("model:%s", m->cm->name);
    const char *l[] = {target};
    metrics_set(g->metrics, MET_BREAKER_STATE, l, m->br.state);
    free(target);
}

/* === the call's end === */

static void usage_row(struct llm_call *c, const struct model *m, const struct llm_result *r,
                      double cost, int cache_hit, const char *error)
{
    struct llm *g = c->g;
    if (!g->db)
        return;
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db_handle(g->db),
                           "INSERT INTO usage (ts_ms, job_id, model, provider, tokens_in, "
                           "tokens_out, cost, latency_ms, cache_hit, status, chain, error) "
                           "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
                           -1, &st, NULL) != SQLITE_OK)
        return;
    sqlite3_bind_int64(st, 1, util_wall_ms());
    if (c->o.job_id)
        sqlite3_bind_int64(st, 2, c->o.job_id);
    sqlite3_bind_text(st, 3, m ? m->cm->name : "-", -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, m ? m->cp->name : "-", -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, r && r->tokens_in > 0 ? r->tokens_in : 0);
    sqlite3_bind_int64(st, 6, r && r->tokens_out > 0 ? r->tokens_out : 0);
    sqlite3_bind_double(st, 7, cost);
    sqlite3_bind_int64(st, 8, util_now_ms() - c->t0);
    sqlite3_bind_int(st, 9, cache_hit);
    sqlite3_bind_text(st, 10, error ? "failed" : "ok", -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 11, c->chain.len ? c->chain.data : "", -1, SQLITE_STATIC);
    if (error)
        sqlite3_bind_text(st, 12, error, -1, SQLITE_STATIC);
    sqlite3_step(st);
    sqlite3_finalize(st);
    if (g->day_start)
        g->day_spent += cost;
}

static void call_unlink(struct llm_call *c)
{
    for (struct llm_call **pp = &c->g->calls; *pp; pp = &(*pp)->next)
        if (*pp == c) {
            *pp = c->next;
            return;
        }
}

static void call_free(struct llm_call *c)
{
    if (c->timer)
        loop_timer_del(c->g->loop, c->timer);
    if (c->req)
        http_cancel(c->g->http, c->req);
    cJSON_Delete(c->messages);
    cJSON_Delete(c->tools);
    free(c->cand);
    sse_fini(&c->sse);
    llm_stream_free(c->stream);
    free(c->stream_err);
    buf_fini(&c->body);
    buf_fini(&c->chain);
    free(c->cache_key);
    free(c);
}

/* Finish: exactly one on_done, then the call is gone. */
static void finish(struct llm_call *c, const struct model *m, const struct llm_result *r,
                   int cache_hit, const char *error)
{
    double cost = r && m && !cache_hit ? cost_of(m->cm, r->tokens_in, r->tokens_out) : 0;
    usage_row(c, m, r, cost, cache_hit, error);
    struct llm_usage_info u = {m ? m->cm->name : NULL, m ? m->cp->name : NULL,
                               r ? r->tokens_in : 0, r ? r->tokens_out : 0, cost,
                               util_now_ms() - c->t0, cache_hit,
                               c->chain.len ? c->chain.data : "", c->attempts};
    if (c->g->metrics && m && r && !cache_hit) {
        const char *l[] = {m->cm->name};
        const char *in[] = {m->cm->name, "input"}, *out[] = {m->cm->name, "output"};
        metrics_add(c->g->metrics, MET_TOKENS, in, (double)(r->tokens_in > 0 ? r->tokens_in : 0));
        metrics_add(c->g->metrics, MET_TOKENS, out,
                    (double)(r->tokens_out > 0 ? r->tokens_out : 0));
        metrics_add(c->g->metrics, MET_COST_USD, l, cost);
    }
    call_unlink(c);
    c->o.on_done(c->o.payload, r, &u, error);
    call_free(c);
}

/* === the cache === */

static char *cache_key(struct llm_call *c, const struct model *m)
{
    cJSON *k = cJSON_CreateObject();
    cJSON_AddStringToObject(k, "provider", m->cp->base_url);
    cJSON_AddStringToObject(k, "model", m->cm->model);
    cJSON_AddItemToObject(k, "messages", cJSON_Duplicate(c->messages, 1));
    if (c->tools)
        cJSON_AddItemToObject(k, "tools", cJSON_Duplicate(c->tools, 1));
    cJSON_AddNumberToObject(k, "max_tokens", max_tokens_for(c, m));
    cJSON_AddNumberToObject(k, "temperature", c->o.temperature);
    char *t = cJSON_PrintUnformatted(k);
    cJSON_Delete(k);
    char hex[BLOBS_HEX_LEN + 1];
    blobs_sha256_hex(t, strlen(t), hex);
    cJSON_free(t);
    return xstrdup(hex);
}

static int cache_get(struct llm_call *c, struct llm_result *out)
{
    sqlite3_stmt *st;
    int hit = 0;
    if (sqlite3_prepare_v2(db_handle(c->g->db),
                           "SELECT result FROM llm_cache WHERE key = ?1 AND expires_ms > ?2", -1,
                           &st, NULL) != SQLITE_OK)
        return 0;
    sqlite3_bind_text(st, 1, c->cache_key, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, util_wall_ms());
    if (sqlite3_step(st) == SQLITE_ROW) {
        cJSON *j = cJSON_Parse((const char *)sqlite3_column_text(st, 0));
        const cJSON *text = cJSON_GetObjectItemCaseSensitive(j, "text");
        const cJSON *calls = cJSON_GetObjectItemCaseSensitive(j, "tool_calls");
        const cJSON *stop = cJSON_GetObjectItemCaseSensitive(j, "stop");
        if (cJSON_IsString(text)) {
            memset(out, 0, sizeof *out);
            out->text = xstrdup(text->valuestring);
            out->tool_calls = cJSON_IsArray(calls) ? cJSON_Duplicate(calls, 1) : cJSON_CreateArray();
            out->stop = cJSON_IsNumber(stop) ? (enum llm_stop)stop->valueint : LLM_STOP_END;
            out->tokens_in = out->tokens_out = 0;
            hit = 1;
        }
        cJSON_Delete(j);
    }
    sqlite3_finalize(st);
    return hit;
}

static void cache_put(struct llm_call *c, const struct model *m, const struct llm_result *r)
{
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "text", r->text ? r->text : "");
    cJSON_AddItemToObject(j, "tool_calls", r->tool_calls ? cJSON_Duplicate(r->tool_calls, 1)
                                                         : cJSON_CreateArray());
    cJSON_AddNumberToObject(j, "stop", r->stop);
    char *t = cJSON_PrintUnformatted(j);
    cJSON_Delete(j);
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db_handle(c->g->db),
                           "INSERT OR REPLACE INTO llm_cache (key, model, result, created_ms, "
                           "expires_ms) VALUES (?1, ?2, ?3, ?4, ?5)", -1, &st, NULL) == SQLITE_OK) {
        int64_t now = util_wall_ms();
        sqlite3_bind_text(st, 1, c->cache_key, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, m->cm->name, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, t, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 4, now);
        sqlite3_bind_int64(st, 5, now + c->g->cfg->llm.cache_ttl_ms);
        sqlite3_step(st);
        sqlite3_finalize(st);
    }
    cJSON_free(t);
}

/* === attempts === */

static void next_attempt(struct llm_call *c);

static void retry_timer(struct loop *l, uint64_t id, void *payload)
{
    struct llm_call *c = payload;
    c->timer = 0;
    next_attempt(c);
}

/* This attempt failed. retryable: another request to the same model may
 * help (after a wait); else the next candidate. */
static void attempt_failed(struct llm_call *c, const char *why, int retryable)
{
    struct model *m = &c->g->models[c->cand[c->ci]];
    if (c->emitted && c->o.on_delta)
        c->o.on_delta(c->o.payload, NULL, 0);      /* withdraw the partial answer */
    c->emitted = 0;
    enum breaker_state was = m->br.state;
    breaker_record(&m->br, 0, util_now_ms());
    if (m->br.state != was)
        metrics_breaker(c->g, m);
    if (c->g->metrics) {
        const char *l[] = {m->cm->name};
        metrics_inc(c->g->metrics, MET_MODEL_ERRORS, l);
    }
    int64_t wait = BACKOFF_BASE_MS << (c->retry < 6 ? c->retry : 6);
    if (wait > BACKOFF_CAP_MS)
        wait = BACKOFF_CAP_MS;
    if (c->retry_after_ms > wait)
        wait = c->retry_after_ms;
    int again = retryable && c->retry < c->g->cfg->llm.retries &&
                m->br.state == BREAKER_CLOSED && c->retry_after_ms <= RETRY_AFTER_MAX_MS;
    char *what = again ? xasprintf("%s, retry in %lld ms", why, (long long)wait)
                 : m->br.state == BREAKER_OPEN ? xasprintf("%s; breaker open", why)
                                               : xstrdup(why);
    chain_add(c, m, what);
    free(what);
    if (again) {
        c->retry++;
        c->timer = loop_timer_add(c->g->loop, wait, retry_timer, c);
        return;
    }
    c->ci++;
    c->retry = 0;
    /* not from inside libcurl's callback: on the next loop turn */
    c->timer = loop_timer_add(c->g->loop, 0, retry_timer, c);
}

static void attempt_ok(struct llm_call *c, struct llm_result *r)
{
    struct model *m = &c->g->models[c->cand[c->ci]];
    int64_t ms = util_now_ms() - c->attempt_t0;
    m->ewma_ms = m->ewma_ms > 0 ? 0.8 * m->ewma_ms + 0.2 * (double)ms : (double)ms;
    enum breaker_state was = m->br.state;
    breaker_record(&m->br, 1, util_now_ms());
    if (m->br.state != was)
        metrics_breaker(c->g, m);
    if (c->g->metrics) {
        const char *l[] = {m->cm->name};
        metrics_observe(c->g->metrics, MET_MODEL_CALL_SECONDS, l, (double)ms / 1000.0);
    }
    if (r->stop == LLM_STOP_MAX_TOKENS) {
        /* a cut answer is not an answer, and another model will not
         * change max_tokens: fail, saying which limit to raise */
        chain_add(c, m, "cut at max_tokens");
        char *e = xasprintf("the answer from %s was cut at max_tokens (%d): it is incomplete; "
                            "raise models.%s.max_tokens", m->cm->name, max_tokens_for(c, m),
                            m->cm->name);
        finish(c, m, r, 0, e);
        free(e);
        return;
    }
    chain_add(c, m, "ok");
    if (c->cache_key && c->ci == 0)
        cache_put(c, m, r);
    finish(c, m, r, 0, NULL);
}

static void on_delta(void *payload, const char *text, size_t len)
{
    struct llm_call *c = payload;
    c->emitted = 1;
    if (c->o.on_delta)
        c->o.on_delta(c->o.payload, text, len);
}

static int on_sse(void *payload, const struct sse_event *ev)
{
    struct llm_call *c = payload;
    char *err = NULL;
    if (llm_stream_event(c->stream, ev->type, ev->data, ev->data_len, &err) < 0) {
        free(c->stream_err);
        c->stream_err = err;
        return 1;
    }
    return 0;
}

static void http_header(void *payload, long status, const char *name, const char *value)
{
    struct llm_call *c = payload;
    c->status = status;
    if (strcmp(name, "retry-after") == 0) {
        char *end;
        double s = strtod(value, &end);
        if (end != value && s >= 0)
            c->retry_after_ms = (int64_t)(s * 1000.0);
    } else if (strcmp(name, "content-type") == 0) {
        c->is_stream = strstr(value, "text/event-stream") != NULL;
    }
}

static int http_data(void *payload, long status, const char *data, size_t n)
{
    struct llm_call *c = payload;
    c->status = status;
    if (status >= 200 && status < 300 && c->is_stream) {
        if (!c->stream) {
            c->stream = llm_stream_new(c->g->models[c->cand[c->ci]].cp->kind ==
                                               CONFIG_PROVIDER_ANTHROPIC
                                           ? LLM_DIALECT_ANTHROPIC
                                           : LLM_DIALECT_OPENAI,
                                       on_delta, c);
            sse_fini(&c->sse);
            sse_init(&c->sse, SSE_EVENT_MAX);
        }
        return sse_feed(&c->sse, data, n, on_sse, c);   /* nonzero: a bad event, stop */
    }
    if (c->body.len + n > BODY_MAX)
        return 1;
    buf_append(&c->body, data, n);
    return 0;
}

static void http_done(void *payload, long status, const char *error)
{
    struct llm_call *c = payload;
    c->req = NULL;
    struct model *m = &c->g->models[c->cand[c->ci]];
    enum llm_dialect d = m->cp->kind == CONFIG_PROVIDER_ANTHROPIC ? LLM_DIALECT_ANTHROPIC
                                                                   : LLM_DIALECT_OPENAI;
    struct llm_result r;
    memset(&r, 0, sizeof r);
    char *why = NULL;
    if (c->stream_err) {
        why = xasprintf("stream broke: %s", c->stream_err);
        attempt_failed(c, why, 1);
    } else if (error && c->stream) {
        why = xasprintf("stream broke mid-answer: %s", error);
        attempt_failed(c, why, 1);
    } else if (error) {
        why = xasprintf("%s", error);
        attempt_failed(c, why, 1);
    } else if (status < 200 || status >= 300) {
        why = llm_wire_error(d, status, c->body.data ? c->body.data : "", c->body.len);
        int retryable = status == 408 || status == 429 || status >= 500;
        attempt_failed(c, why, retryable);
    } else if (c->stream) {
        char *err = NULL;
        if (llm_stream_finish(c->stream, &r, &err) < 0) {
            why = xasprintf("stream broke mid-answer: %s", err ? err : "incomplete");
            free(err);
            attempt_failed(c, why, 1);
        } else {
            attempt_ok(c, &r);
        }
    } else {
        char *err = NULL;
        if (llm_wire_response(d, c->body.data ? c->body.data : "", c->body.len, &r, &err) < 0) {
            why = xasprintf("malformed answer: %s", err ? err : "?");
            free(err);
            attempt_failed(c, why, 1);
        } else {
            attempt_ok(c, &r);
        }
    }
    free(why);
    llm_result_fini(&r);
}

/* Send the current candidate's request, or move on / finish. */
static void next_attempt(struct llm_call *c)
{
    struct llm *g = c->g;
    char *budget_err = NULL;
    for (; c->ci < c->ncand; c->ci++, c->retry = 0) {
        struct model *m = &g->models[c->cand[c->ci]];
        int64_t retry_at = 0;
        enum breaker_state was = m->br.state;
        if (!breaker_allow(&m->br, util_now_ms(), &retry_at)) {
            if (m->br.state != was)
                metrics_breaker(g, m);
            char *w = xasprintf("breaker open (cooling down for %lld ms more)",
                                (long long)(retry_at - util_now_ms()));
            chain_add(c, m, w);
            free(w);
            continue;
        }
        char *over = over_budget(c, m);
        if (over) {
            breaker_release(&m->br);
            chain_add(c, m, "over budget");
            free(budget_err);
            budget_err = over;
            continue;
        }
        const char *key = NULL;
        if (m->cp->api_key_env && !(key = getenv(m->cp->api_key_env))) {
            breaker_release(&m->br);
            char *w = xasprintf("%s is not set", m->cp->api_key_env);
            chain_add(c, m, w);
            free(w);
            continue;
        }
        enum llm_dialect d = m->cp->kind == CONFIG_PROVIDER_ANTHROPIC ? LLM_DIALECT_ANTHROPIC
                                                                       : LLM_DIALECT_OPENAI;
        struct llm_wire_req wr = {m->cm->model, c->messages, c->tools, max_tokens_for(c, m),
                                  c->o.temperature, c->o.stream};
        char *err = NULL;
        char *body = llm_wire_request(d, &wr, &err);
        if (!body) {
            breaker_release(&m->br);
            chain_add(c, m, err ? err : "cannot build the request");
            free(budget_err);
            budget_err = err;
            continue;
        }
        /* headers: content type, auth, the provider's extras */
        const char **h = xcalloc(m->cp->nheaders + 6, sizeof *h);
        char *auth = NULL;
        size_t nh = 0;
        h[nh++] = "Content-Type: application/json";
        if (c->o.stream)
            h[nh++] = "Accept: text/event-stream";
        if (d == LLM_DIALECT_ANTHROPIC) {
            h[nh++] = "anthropic-version: 2023-06-01";
            if (key)
                h[nh++] = auth = xasprintf("x-api-key: %s", key);
        } else if (key) {
            h[nh++] = auth = xasprintf("Authorization: Bearer %s", key);
        }
        for (size_t i = 0; i < m->cp->nheaders; i++)
            h[nh++] = m->cp->headers[i];
        char *url = xasprintf("%s%s", m->cp->base_url, llm_wire_path(d));
        c->status = 0;
        c->retry_after_ms = -1;
        c->is_stream = 0;
        buf_consume(&c->body, c->body.len);
        llm_stream_free(c->stream);
        c->stream = NULL;
        sse_fini(&c->sse);
        sse_init(&c->sse, SSE_EVENT_MAX);
        free(c->stream_err);
        c->stream_err = NULL;
        c->attempts++;
        c->attempt_t0 = util_now_ms();
        if (g->metrics) {
            const char *l[] = {m->cm->name};
            metrics_inc(g->metrics, MET_MODEL_CALLS, l);
        }
        struct http_req_opts ho = {"POST", url, h, body, strlen(body), m->cp->timeout_ms, 10000,
                                   http_header, http_data, http_done, c};
        c->req = http_start(g->http, &ho);
        free(url);
        free(auth);
        free(h);
        cJSON_free(body);
        free(budget_err);
        return;
    }
    /* nothing left */
    char *e = budget_err && c->attempts == 0
                  ? xasprintf("%s", budget_err)
                  : xasprintf("every model failed (%s)", c->chain.len ? c->chain.data : "none");
    free(budget_err);
    finish(c, c->ncand ? &g->models[c->cand[c->ncand - 1]] : NULL, NULL, 0, e);
    free(e);
}

static void start_cb(struct loop *l, uint64_t id, void *payload)
{
    struct llm_call *c = payload;
    c->timer = 0;
    struct model *m0 = &c->g->models[c->cand[0]];
    struct llm_result r;
    if (c->cache_key && cache_get(c, &r)) {
        chain_add(c, m0, "cache hit");
        if (c->o.on_delta && r.text && *r.text)
            c->o.on_delta(c->o.payload, r.text, strlen(r.text));
        finish(c, m0, &r, 1, NULL);
        llm_result_fini(&r);
        return;
    }
    next_attempt(c);
}

/* === public === */

struct llm *llm_new(struct loop *l, const struct config *c, struct db *db, struct metrics *m)
{
    struct llm *g = xcalloc(1, sizeof *g);
    g->loop = l;
    g->cfg = c;
    g->db = db;
    g->metrics = m;
    g->http = http_new(l);
    g->nmodels = c->llm.nmodels;
    g->models = xcalloc(g->nmodels + 1, sizeof *g->models);
    for (size_t i = 0; i < g->nmodels; i++) {
        g->models[i].cm = &c->llm.models[i];
        g->models[i].cp = config_find_provider(c, c->llm.models[i].provider);
        breaker_init(&g->models[i].br, c->llm.breaker_failures, c->llm.breaker_cooldown_ms);
    }
    return g;
}

void llm_free(struct llm *g)
{
    if (!g)
        return;
    while (g->calls) {
        struct llm_call *c = g->calls;
        g->calls = c->next;
        call_free(c);
    }
    http_free(g->http);
    free(g->models);
    free(g);
}

const char *llm_missing(const struct llm *g)
{
    if (!g || !g->cfg->llm.nproviders)
        return "no model is configured: add 'providers:' (type, base_url, api_key_env) and "
               "'models:' (provider, model, price_in, price_out) to the config";
    if (!g->nmodels)
        return "no model is configured: add 'models:' (provider, model, price_in, price_out) "
               "to the config";
    return NULL;
}

struct llm_call *llm_call(struct llm *g, const struct llm_opts *o, char **errmsg)
{
    const char *missing = llm_missing(g);
    if (missing) {
        *errmsg = xstrdup(missing);
        return NULL;
    }
    const struct config_llm *L = &g->cfg->llm;
    int strat = o->strategy >= 0 && o->strategy < CONFIG_STRATEGY_COUNT ? o->strategy
                                                                          : (int)L->strategy;
    struct model *first = NULL;
    if (o->model && !(first = model_find(g, o->model))) {
        struct buf b;
        buf_init(&b);
        for (size_t i = 0; i < g->nmodels; i++)
            buf_printf(&b, "%s%s", i ? ", " : "", g->models[i].cm->name);
        for (size_t i = 0; i < L->naliases; i++)
            buf_printf(&b, ", %s", L->alias_names[i]);
        *errmsg = xasprintf("unknown model '%s' (models and aliases: %s)", o->model, b.data);
        buf_fini(&b);
        return NULL;
    }
    struct llm_call *c = xcalloc(1, sizeof *c);
    c->g = g;
    c->o = *o;
    c->messages = cJSON_Duplicate(o->messages, 1);
    c->tools = o->tools && cJSON_GetArraySize(o->tools) > 0 ? cJSON_Duplicate(o->tools, 1) : NULL;
    c->cand = xcalloc(g->nmodels + 1, sizeof *c->cand);
    c->t0 = util_now_ms();
    buf_init(&c->body);
    buf_init(&c->chain);
    sse_init(&c->sse, SSE_EVENT_MAX);
    if (first)
        c->cand[c->ncand++] = (size_t)(first - g->models);
    if (!first || !o->no_fallback) {
        size_t start = c->ncand;
        for (size_t i = 0; i < L->nstrategies[strat]; i++) {
            struct model *m = model_find(g, L->strategies[strat][i]);
            int dup = 0;
            for (size_t k = 0; k < c->ncand; k++)
                dup |= c->cand[k] == (size_t)(m - g->models);
            /* a fallback is never pricier than llm.max_price */
            if (!m || dup || (c->ncand > 0 && L->max_price >= 0 && m->cm->price_out > L->max_price))
                continue;
            c->cand[c->ncand++] = (size_t)(m - g->models);
        }
        /* speed: the fastest measured first (unmeasured ones are tried to
         * be measured: they count as 0) */
        if (strat == CONFIG_STRATEGY_SPEED && !first)
            for (size_t i = start + 1; i < c->ncand; i++)
                for (size_t k = i; k > start && g->models[c->cand[k]].ewma_ms <
                                                    g->models[c->cand[k - 1]].ewma_ms; k--) {
                    size_t t = c->cand[k];
                    c->cand[k] = c->cand[k - 1];
                    c->cand[k - 1] = t;
                }
    }
    if (!c->ncand) {
        *errmsg = xasprintf("no model in the '%s' strategy", config_strategy_name(strat));
        call_free(c);
        return NULL;
    }
    /* before anything: could any candidate fit the budget? */
    char *budget = NULL;
    int fits = 0;
    for (size_t i = 0; i < c->ncand && !fits; i++) {
        char *why = over_budget(c, &g->models[c->cand[i]]);
        fits = why == NULL;
        if (why && !budget)
            budget = why;
        else
            free(why);
    }
    if (!fits) {
        *errmsg = budget;
        call_free(c);
        return NULL;
    }
    free(budget);
    c->next = g->calls;
    g->calls = c;
    if (L->cache && g->db && (!o->stream || L->cache_streams))
        c->cache_key = cache_key(c, &g->models[c->cand[0]]);
    /* on_done always comes later, never from inside llm_call */
    c->timer = loop_timer_add(g->loop, 0, start_cb, c);
    return c;
}

void llm_cancel(struct llm *g, struct llm_call *c)
{
    if (!c)
        return;
    for (struct llm_call *x = g->calls; x; x = x->next)
        if (x == c) {
            call_unlink(c);
            call_free(c);
            return;
        }
}
