/* llm.h — the LLM gateway: one call to "a model" becomes requests to the
 * configured providers (llm_wire.h speaks their formats) on the event
 * loop, with aliases and strategies, retries with backoff honouring
 * Retry-After, a fallback cascade, a circuit breaker per model whose
 * cooldown holds during retries and fallbacks, budgets checked before a
 * request is made, an optional exact-match cache, and a usage row and
 * metrics for every call.
 *
 * Failures that move on (retry, then the next model): connection errors,
 * timeouts, 408, 429, 5xx, a malformed answer, and a stream that breaks
 * mid-answer — its partial text is withdrawn (on_delta with NULL) and is
 * never a result. Other 4xx skip to the next model without retrying. An
 * answer cut by max_tokens is a failure that says so. Loop thread only. */
#ifndef MCPDECK_LLM_H
#define MCPDECK_LLM_H

#include "llm_wire.h"

#include <stdint.h>

struct loop;
struct config;
struct db;
struct metrics;
struct llm;
struct llm_call;

struct llm_usage_info {
    const char *model;           /* config name of the model that answered (or failed last) */
    const char *provider;
    int64_t tokens_in, tokens_out;
    double cost;                 /* USD, from the configured prices */
    int64_t latency_ms;          /* the whole call, retries included */
    int cache_hit;
    const char *chain;           /* what was tried: "big: HTTP 429, retried; small: ok" */
    int attempts;                /* requests made */
};

/* The end of a call: r on success, else error (r NULL). u always. */
typedef void (*llm_done_cb)(void *payload, const struct llm_result *r,
                            const struct llm_usage_info *u, const char *error);

struct llm_opts {
    const char *model;           /* a model or alias; NULL = the strategy's first */
    int strategy;                /* enum config_strategy, or -1 for llm.strategy */
    const cJSON *messages;       /* neutral (llm_wire.h); copied */
    const cJSON *tools;          /* neutral, or NULL; copied */
    int max_tokens;              /* 0 = the model's max_tokens */
    double temperature;          /* < 0: not sent */
    int stream;                  /* stream from the provider; text to on_delta */
    int no_fallback;             /* only this model (e.g. an explicit choice in a test) */
    int64_t job_id;              /* recorded with the usage; 0 none */
    double spent;                /* USD the task already spent (llm.budget.task) */
    /* Text as it arrives; text NULL means: forget what came so far (the
     * attempt failed and another one starts). May be NULL. */
    llm_delta_cb on_delta;
    llm_done_cb on_done;
    void *payload;
};

struct llm *llm_new(struct loop *l, const struct config *c, struct db *db, struct metrics *m);
void llm_free(struct llm *g);    /* NULL-safe; calls in flight end without callbacks */

/* NULL when a model can be called, else what to configure (a sentence
 * naming the config keys). */
const char *llm_missing(const struct llm *g);

/* Start a call. NULL and *errmsg when it is refused before any request:
 * no such model, nothing configured, or every candidate over budget
 * ("llm.budget.task: this call could cost up to $0.0615, the task has
 * $0.0100 left"). Otherwise on_done runs later, exactly once. */
struct llm_call *llm_call(struct llm *g, const struct llm_opts *o, char **errmsg);
/* Stop a call; on_done is not called. */
void llm_cancel(struct llm *g, struct llm_call *c);

/* USD spent since local midnight (from the usage table). */
double llm_spent_today(struct llm *g);

#endif
