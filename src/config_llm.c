/* config_llm.c — the model side of the configuration: providers, models,
 * aliases, strategies, the gateway's limits (llm:), the agent (agent:),
 * the tool policy (tools:) and who may sample (sampling:).
 *
 *   providers:
 *     openrouter: {type: openai, base_url: https://openrouter.ai/api/v1,
 *                  api_key_env: OPENROUTER_API_KEY}
 *     anthropic:  {type: anthropic, base_url: https://api.anthropic.com,
 *                  api_key_env: ANTHROPIC_API_KEY}
 *   models:
 *     sonnet: {provider: anthropic, model: claude-sonnet-4-5, context: 200000,
 *              price_in: 3, price_out: 15, max_tokens: 4096}
 *   aliases: {big: sonnet, small: haiku}
 *   strategies: {quality: [big, small], speed: [small], cost: [small, big]}
 *   llm: {strategy: quality, retries: 2, max_price: 20, budget: {task: 0.5, day: 10},
 *         cache: {enabled: false, ttl: 24h, streams: false},
 *         breaker: {failures: 3, cooldown: 60s}}
 *   agent: {max_steps: 8}
 *   tools: {allow: ["*"], deny: [], destructive: [], approve: []}
 *   sampling: {allow: [everything], model: small, max_tokens: 1024, concurrency: 4}
 *
 * Keys are never in the file: api_key_env names the variable. Every
 * cross-reference (a model's provider, an alias's model, a strategy's
 * entries) is checked, and errors say file:line:col. */
#include "config_int.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

static const char *const provider_keys[] = {"type", "base_url", "api_key_env", "headers",
                                             "timeout", NULL};
static const char *const model_keys[] = {"provider", "model", "context", "price_in",
                                          "price_out", "max_tokens", NULL};
static const char *const llm_keys[] = {"strategy", "retries", "max_price", "budget", "cache",
                                        "breaker", NULL};
static const char *const budget_keys[] = {"task", "day", NULL};
static const char *const cache_keys[] = {"enabled", "ttl", "streams", NULL};
static const char *const lbreaker_keys[] = {"failures", "cooldown", NULL};
static const char *const agent_keys[] = {"max_steps", NULL};
static const char *const tools_keys[] = {"allow", "deny", "destructive", "approve", NULL};
static const char *const sampling_keys[] = {"allow", "model", "max_tokens", "concurrency",
                                             NULL};
static const char *const strategy_names[] = {"quality", "speed", "cost"};

const char *config_strategy_name(enum config_strategy s)
{
    return (unsigned)s < CONFIG_STRATEGY_COUNT ? strategy_names[s] : "?";
}

void cfg_llm_defaults(struct config *c)
{
    struct config_llm *m = &c->llm;
    memset(m, 0, sizeof *m);
    m->strategy = CONFIG_STRATEGY_QUALITY;
    m->retries = 2;
    m->max_price = -1;
    m->budget_task = -1;
    m->budget_day = -1;
    m->cache_ttl_ms = 24 * 3600 * 1000;
    m->breaker_failures = 3;
    m->breaker_cooldown_ms = 60000;
    m->max_steps = 8;
    m->sampling_max_tokens = 1024;
    m->sampling_concurrency = 4;
}

void cfg_llm_free(struct config *c)
{
    struct config_llm *m = &c->llm;
    for (size_t i = 0; i < m->nproviders; i++) {
        struct config_provider *p = &m->providers[i];
        free(p->name);
        free(p->base_url);
        free(p->api_key_env);
        cfg_strv_free(p->headers, p->nheaders);
    }
    free(m->providers);
    for (size_t i = 0; i < m->nmodels; i++) {
        free(m->models[i].name);
        free(m->models[i].provider);
        free(m->models[i].model);
    }
    free(m->models);
    cfg_strv_free(m->alias_names, m->naliases);
    cfg_strv_free(m->alias_targets, m->naliases);
    for (int s = 0; s < CONFIG_STRATEGY_COUNT; s++)
        cfg_strv_free(m->strategies[s], m->nstrategies[s]);
    cfg_strv_free(m->tools_allow, m->ntools_allow);
    cfg_strv_free(m->tools_deny, m->ntools_deny);
    cfg_strv_free(m->tools_destructive, m->ntools_destructive);
    cfg_strv_free(m->tools_approve, m->ntools_approve);
    cfg_strv_free(m->sampling_allow, m->nsampling_allow);
    free(m->sampling_model);
}

const struct config_provider *config_find_provider(const struct config *c, const char *name)
{
    for (size_t i = 0; i < c->llm.nproviders; i++)
        if (strcmp(c->llm.providers[i].name, name) == 0)
            return &c->llm.providers[i];
    return NULL;
}

static const struct config_model *model_named(const struct config_llm *m, const char *name)
{
    for (size_t i = 0; i < m->nmodels; i++)
        if (strcmp(m->models[i].name, name) == 0)
            return &m->models[i];
    return NULL;
}

const struct config_model *config_find_model(const struct config *c, const char *name)
{
    for (size_t i = 0; i < c->llm.naliases; i++)
        if (strcmp(c->llm.alias_names[i], name) == 0)
            return model_named(&c->llm, c->llm.alias_targets[i]);
    return model_named(&c->llm, name);
}

/* === sections === */

static int load_providers(struct loader *L, const struct ydoc_node *n, struct config_llm *m)
{
    if (n->kind != YDOC_MAP)
        return cfg_fail(L, n, "'providers' must be a mapping of names to providers");
    m->providers = xcalloc(n->npairs + 1, sizeof *m->providers);
    for (size_t i = 0; i < n->npairs; i++) {
        const struct ydoc_node *k = n->pairs[i].key, *v = n->pairs[i].value, *x;
        struct config_provider *p = &m->providers[m->nproviders++];
        p->name = xstrdup(k->str);
        p->line = k->line;
        p->col = k->col;
        p->timeout_ms = 120000;
        if (!cfg_valid_name(k->str))
            return cfg_fail(L, k, "provider name '%s' may use only letters, digits, '_' and "
                                  "'-'", k->str);
        if (v->kind != YDOC_MAP)
            return cfg_fail(L, v, "provider '%s' must be a mapping (type, base_url, "
                                  "api_key_env)", k->str);
        if (cfg_check_keys(L, v, "a provider", provider_keys) < 0)
            return -1;
        char *type = NULL;
        if (!(x = ydoc_map_get(v, "type")))
            return cfg_fail(L, v, "provider '%s' needs 'type: openai' (any OpenAI-compatible "
                                  "API) or 'type: anthropic'", k->str);
        if (cfg_scalar(L, x, "type", &type) < 0)
            return -1;
        int ok = 1;
        if (!strcmp(type, "openai"))
            p->kind = CONFIG_PROVIDER_OPENAI;
        else if (!strcmp(type, "anthropic"))
            p->kind = CONFIG_PROVIDER_ANTHROPIC;
        else
            ok = 0;
        free(type);
        if (!ok)
            return cfg_fail(L, x, "provider 'type' must be openai or anthropic");
        if (!(x = ydoc_map_get(v, "base_url")))
            return cfg_fail(L, v, "provider '%s' needs a 'base_url' (e.g. "
                                  "https://openrouter.ai/api/v1)", k->str);
        if (cfg_scalar(L, x, "base_url", &p->base_url) < 0)
            return -1;
        if (strncmp(p->base_url, "http://", 7) && strncmp(p->base_url, "https://", 8))
            return cfg_fail(L, x, "'base_url' must start with http:// or https://");
        size_t bl = strlen(p->base_url);
        while (bl > 8 && p->base_url[bl - 1] == '/')
            p->base_url[--bl] = '\0';
        if ((x = ydoc_map_get(v, "api_key_env"))) {
            if (cfg_scalar(L, x, "api_key_env", &p->api_key_env) < 0)
                return -1;
            if (!cfg_var_name_ok(p->api_key_env))
                return cfg_fail(L, x, "'api_key_env' names an environment variable (e.g. "
                                      "OPENROUTER_API_KEY), not the key itself");
            /* its value is a secret wherever it might show up */
            struct config *c = L->c;
            int have = 0;
            for (size_t s = 0; s < c->nsecret_env; s++)
                have |= strcmp(c->secret_env[s], p->api_key_env) == 0;
            if (!have) {
                c->secret_env = xrealloc(c->secret_env,
                                         (c->nsecret_env + 1) * sizeof *c->secret_env);
                c->secret_env[c->nsecret_env++] = xstrdup(p->api_key_env);
            }
        }
        if ((x = ydoc_map_get(v, "headers"))) {
            L->secret_refs = 1;
            int rc = cfg_pair_map(L, x, "headers", 1, &p->headers, &p->nheaders);
            L->secret_refs = 0;
            if (rc < 0)
                return -1;
        }
        if ((x = ydoc_map_get(v, "timeout")) && cfg_duration(L, x, "timeout", &p->timeout_ms) < 0)
            return -1;
    }
    return 0;
}

static int load_models(struct loader *L, const struct ydoc_node *n, struct config *c)
{
    struct config_llm *m = &c->llm;
    if (n->kind != YDOC_MAP)
        return cfg_fail(L, n, "'models' must be a mapping of names to models");
    m->models = xcalloc(n->npairs + 1, sizeof *m->models);
    for (size_t i = 0; i < n->npairs; i++) {
        const struct ydoc_node *k = n->pairs[i].key, *v = n->pairs[i].value, *x;
        struct config_model *md = &m->models[m->nmodels++];
        md->name = xstrdup(k->str);
        md->line = k->line;
        md->col = k->col;
        md->max_tokens = 4096;
        if (v->kind != YDOC_MAP)
            return cfg_fail(L, v, "model '%s' must be a mapping (provider, model, prices)",
                            k->str);
        if (cfg_check_keys(L, v, "a model", model_keys) < 0)
            return -1;
        if (!(x = ydoc_map_get(v, "provider")))
            return cfg_fail(L, v, "model '%s' needs a 'provider'", k->str);
        if (cfg_scalar(L, x, "provider", &md->provider) < 0)
            return -1;
        if (!config_find_provider(c, md->provider)) {
            struct buf b;
            buf_init(&b);
            for (size_t p = 0; p < m->nproviders; p++)
                buf_printf(&b, "%s%s", p ? ", " : "", m->providers[p].name);
            int rc = cfg_fail(L, x, "unknown provider '%s' (providers: %s)", md->provider,
                              b.len ? b.data : "none configured");
            buf_fini(&b);
            return rc;
        }
        if (!(x = ydoc_map_get(v, "model")))
            return cfg_fail(L, v, "model '%s' needs 'model' (the provider's model id)",
                            k->str);
        if (cfg_scalar(L, x, "model", &md->model) < 0)
            return -1;
        double d;
        if ((x = ydoc_map_get(v, "context"))) {
            if (cfg_number(L, x, "context", 1, 1e9, &d) < 0)
                return -1;
            md->context = (int)d;
        }
        if ((x = ydoc_map_get(v, "price_in")) &&
            cfg_number(L, x, "price_in", 0, 1e6, &md->price_in) < 0)
            return -1;
        if ((x = ydoc_map_get(v, "price_out")) &&
            cfg_number(L, x, "price_out", 0, 1e6, &md->price_out) < 0)
            return -1;
        if ((x = ydoc_map_get(v, "max_tokens")) &&
            cfg_positive_int(L, x, "max_tokens", &md->max_tokens) < 0)
            return -1;
    }
    return 0;
}

/* A model name or alias that must exist; the model's own name in *out. */
static int model_ref(struct loader *L, const struct ydoc_node *n, struct config *c,
                     const char *what, char **out)
{
    char *name;
    if (cfg_scalar(L, n, what, &name) < 0)
        return -1;
    const struct config_model *md = config_find_model(c, name);
    if (!md) {
        struct buf b;
        buf_init(&b);
        for (size_t i = 0; i < c->llm.nmodels; i++)
            buf_printf(&b, "%s%s", i ? ", " : "", c->llm.models[i].name);
        int rc = cfg_fail(L, n, "unknown model '%s' in %s (models: %s)", name, what,
                          b.len ? b.data : "none configured");
        buf_fini(&b);
        free(name);
        return rc;
    }
    free(name);
    *out = xstrdup(md->name);
    return 0;
}

static int load_aliases(struct loader *L, const struct ydoc_node *n, struct config *c)
{
    struct config_llm *m = &c->llm;
    if (n->kind != YDOC_MAP)
        return cfg_fail(L, n, "'aliases' must map alias names to models (big: sonnet)");
    m->alias_names = xcalloc(n->npairs + 1, sizeof *m->alias_names);
    m->alias_targets = xcalloc(n->npairs + 1, sizeof *m->alias_targets);
    for (size_t i = 0; i < n->npairs; i++) {
        const struct ydoc_node *k = n->pairs[i].key;
        if (model_named(m, k->str))
            return cfg_fail(L, k, "alias '%s' has the name of a model", k->str);
        char *target;
        if (model_ref(L, n->pairs[i].value, c, "aliases", &target) < 0)
            return -1;
        m->alias_names[m->naliases] = xstrdup(k->str);
        m->alias_targets[m->naliases++] = target;
    }
    return 0;
}

static int load_strategies(struct loader *L, const struct ydoc_node *n, struct config *c)
{
    struct config_llm *m = &c->llm;
    static const char *const keys[] = {"quality", "speed", "cost", NULL};
    if (n->kind != YDOC_MAP)
        return cfg_fail(L, n, "'strategies' must be a mapping (quality, speed, cost)");
    if (cfg_check_keys(L, n, "strategies", keys) < 0)
        return -1;
    for (int s = 0; s < CONFIG_STRATEGY_COUNT; s++) {
        const struct ydoc_node *v = ydoc_map_get(n, strategy_names[s]);
        if (!v)
            continue;
        if (v->kind != YDOC_SEQ)
            return cfg_fail(L, v, "strategy '%s' must be a list of models, best first",
                            strategy_names[s]);
        m->strategies[s] = xcalloc(v->nitems + 1, sizeof *m->strategies[s]);
        for (size_t i = 0; i < v->nitems; i++) {
            char *name;
            if (model_ref(L, v->items[i], c, "strategies", &name) < 0)
                return -1;
            m->strategies[s][m->nstrategies[s]++] = name;
        }
    }
    return 0;
}

static int load_llm_section(struct loader *L, const struct ydoc_node *root, struct config *c)
{
    struct config_llm *m = &c->llm;
    int ok = 1;
    const struct ydoc_node *s, *v, *x;
    if ((s = cfg_section(L, root, "llm", llm_keys, &ok))) {
        if ((v = ydoc_map_get(s, "strategy"))) {
            char *name;
            if (cfg_scalar(L, v, "strategy", &name) < 0)
                return -1;
            int found = -1;
            for (int i = 0; i < CONFIG_STRATEGY_COUNT; i++)
                if (!strcmp(name, strategy_names[i]))
                    found = i;
            free(name);
            if (found < 0)
                return cfg_fail(L, v, "'strategy' must be quality, speed or cost");
            m->strategy = (enum config_strategy)found;
        }
        if ((v = ydoc_map_get(s, "retries"))) {
            double d;
            if (cfg_number(L, v, "retries", 0, 20, &d) < 0)
                return -1;
            m->retries = (int)d;
        }
        if ((v = ydoc_map_get(s, "max_price")) &&
            cfg_number(L, v, "max_price", 0, 1e6, &m->max_price) < 0)
            return -1;
        if ((v = cfg_section(L, s, "budget", budget_keys, &ok))) {
            if ((x = ydoc_map_get(v, "task")) &&
                cfg_number(L, x, "task", 0, 1e9, &m->budget_task) < 0)
                return -1;
            if ((x = ydoc_map_get(v, "day")) && cfg_number(L, x, "day", 0, 1e9, &m->budget_day) < 0)
                return -1;
        }
        if (!ok)
            return -1;
        if ((v = cfg_section(L, s, "cache", cache_keys, &ok))) {
            if ((x = ydoc_map_get(v, "enabled")) && cfg_boolean(L, x, "enabled", &m->cache) < 0)
                return -1;
            if ((x = ydoc_map_get(v, "ttl")) && cfg_duration(L, x, "ttl", &m->cache_ttl_ms) < 0)
                return -1;
            if ((x = ydoc_map_get(v, "streams")) &&
                cfg_boolean(L, x, "streams", &m->cache_streams) < 0)
                return -1;
        }
        if (!ok)
            return -1;
        if ((v = cfg_section(L, s, "breaker", lbreaker_keys, &ok))) {
            if ((x = ydoc_map_get(v, "failures")) &&
                cfg_positive_int(L, x, "failures", &m->breaker_failures) < 0)
                return -1;
            if ((x = ydoc_map_get(v, "cooldown")) &&
                cfg_duration(L, x, "cooldown", &m->breaker_cooldown_ms) < 0)
                return -1;
        }
    }
    if (!ok)
        return -1;
    if ((s = cfg_section(L, root, "agent", agent_keys, &ok)) && (v = ydoc_map_get(s, "max_steps")) &&
        cfg_positive_int(L, v, "max_steps", &m->max_steps) < 0)
        return -1;
    if (!ok)
        return -1;
    if ((s = cfg_section(L, root, "tools", tools_keys, &ok))) {
        struct { const char *k; char ***v; size_t *n; } lists[] = {
            {"allow", &m->tools_allow, &m->ntools_allow},
            {"deny", &m->tools_deny, &m->ntools_deny},
            {"destructive", &m->tools_destructive, &m->ntools_destructive},
            {"approve", &m->tools_approve, &m->ntools_approve}};
        for (size_t i = 0; i < ARRAY_LEN(lists); i++)
            if ((v = ydoc_map_get(s, lists[i].k)) &&
                cfg_string_list(L, v, lists[i].k, lists[i].v, lists[i].n) < 0)
                return -1;
    }
    if (!ok)
        return -1;
    if ((s = cfg_section(L, root, "sampling", sampling_keys, &ok))) {
        if ((v = ydoc_map_get(s, "allow")) &&
            cfg_string_list(L, v, "allow", &m->sampling_allow, &m->nsampling_allow) < 0)
            return -1;
        if ((v = ydoc_map_get(s, "model")) && model_ref(L, v, c, "sampling", &m->sampling_model) < 0)
            return -1;
        if ((v = ydoc_map_get(s, "max_tokens")) &&
            cfg_positive_int(L, v, "max_tokens", &m->sampling_max_tokens) < 0)
            return -1;
        if ((v = ydoc_map_get(s, "concurrency")) &&
            cfg_positive_int(L, v, "concurrency", &m->sampling_concurrency) < 0)
            return -1;
    }
    return ok ? 0 : -1;
}

int cfg_load_llm(struct loader *L, const struct ydoc_node *root, struct config *c)
{
    const struct ydoc_node *v;
    if ((v = ydoc_map_get(root, "providers")) && load_providers(L, v, &c->llm) < 0)
        return -1;
    if ((v = ydoc_map_get(root, "models")) && load_models(L, v, c) < 0)
        return -1;
    if ((v = ydoc_map_get(root, "aliases")) && load_aliases(L, v, c) < 0)
        return -1;
    if ((v = ydoc_map_get(root, "strategies")) && load_strategies(L, v, c) < 0)
        return -1;
    /* without strategies, every model in file order is the quality list */
    for (int s = 0; s < CONFIG_STRATEGY_COUNT; s++) {
        struct config_llm *m = &c->llm;
        if (m->nstrategies[s] || !m->nmodels)
            continue;
        m->strategies[s] = xcalloc(m->nmodels + 1, sizeof *m->strategies[s]);
        for (size_t i = 0; i < m->nmodels; i++)
            m->strategies[s][m->nstrategies[s]++] = xstrdup(m->models[i].name);
    }
    return load_llm_section(L, root, c);
}
