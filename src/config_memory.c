/* config_memory.c — the memory section of the configuration.
 *
 *   memory:
 *     namespaces: [coding, architecture, documentation, testing, shared,
 *                  {name: scratch, ttl: 24h}]
 *     embedder: {type: hashing, dim: 384}
 *     #  or     {type: openai, base_url: http://localhost:11434/v1,
 *     #          model: nomic-embed-text, api_key_env: OLLAMA_KEY, batch: 64}
 *     capture: {review: coding, document: documentation}
 *     qdrant: {url: http://localhost:6333, api_key_env: QDRANT_API_KEY,
 *              prefix: mcpdeck_, timeout: 10s}
 *
 * A namespace's ttl takes durations with a unit (ms, s, m, h) or days
 * ("30d"). capture maps a model task type to the namespace its final
 * answers are stored in; the namespace must be listed. */
#include "config_int.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

static const char *const memory_keys[] = {"namespaces", "embedder", "capture", "qdrant", NULL};
static const char *const ns_keys[] = {"name", "ttl", NULL};
static const char *const embedder_keys[] = {"type", "dim", "base_url", "api_key_env", "model",
                                             "batch", NULL};
static const char *const qdrant_keys[] = {"url", "api_key_env", "prefix", "timeout", NULL};
static const char *const default_ns[] = {"coding", "architecture", "documentation", "testing",
                                          "shared"};

static void ns_clear(struct config_memory *m)
{
    for (size_t i = 0; i < m->nnamespaces; i++)
        free(m->namespaces[i].name);
    free(m->namespaces);
    m->namespaces = NULL;
    m->nnamespaces = 0;
}

void cfg_memory_defaults(struct config *c)
{
    struct config_memory *m = &c->memory;
    m->nnamespaces = ARRAY_LEN(default_ns);
    m->namespaces = xcalloc(m->nnamespaces, sizeof *m->namespaces);
    for (size_t i = 0; i < m->nnamespaces; i++)
        m->namespaces[i].name = xstrdup(default_ns[i]);
    m->embedder = xstrdup("hashing");
    m->dim = 384;
    m->batch = 64;
    m->qdrant_prefix = xstrdup("mcpdeck_");
    m->qdrant_timeout_ms = 10000;
}

void cfg_memory_free(struct config *c)
{
    struct config_memory *m = &c->memory;
    ns_clear(m);
    free(m->embedder);
    free(m->base_url);
    free(m->api_key_env);
    free(m->model);
    cfg_strv_free(m->capture_types, m->ncapture);
    cfg_strv_free(m->capture_ns, m->ncapture);
    free(m->qdrant_url);
    free(m->qdrant_api_key_env);
    free(m->qdrant_prefix);
}

/* A ttl: a duration (util_parse_duration_ms) or whole days ("30d"). */
static int ttl_value(struct loader *L, const struct ydoc_node *n, long long *out)
{
    char *v;
    if (cfg_scalar(L, n, "ttl", &v) < 0)
        return -1;
    int64_t ms = 0;
    size_t len = strlen(v);
    int ok;
    if (len > 1 && v[len - 1] == 'd') {
        char *end;
        long d = strtol(v, &end, 10);
        ok = end == v + len - 1 && d > 0 && d <= 36500;
        ms = (int64_t)d * 86400000;
    } else {
        ok = util_parse_duration_ms(v, &ms) == 0 && ms > 0;
    }
    if (!ok) {
        cfg_fail(L, n, "'ttl' must be a duration such as 500ms, 30s, 5m, 24h or 30d, got '%s'",
                 v);
        free(v);
        return -1;
    }
    free(v);
    *out = ms;
    return 0;
}

static int load_namespaces(struct loader *L, const struct ydoc_node *n, struct config_memory *m)
{
    if (n->kind != YDOC_SEQ || n->nitems == 0)
        return cfg_fail(L, n, "'namespaces' must be a non-empty list of names "
                              "(or {name: N, ttl: DURATION})");
    ns_clear(m);
    m->namespaces = xcalloc(n->nitems, sizeof *m->namespaces);
    for (size_t i = 0; i < n->nitems; i++) {
        const struct ydoc_node *it = n->items[i], *v;
        struct config_memory_ns *ns = &m->namespaces[m->nnamespaces++];
        if (it->kind == YDOC_MAP) {
            if (cfg_check_keys(L, it, "a namespace", ns_keys) < 0)
                return -1;
            if (!(v = ydoc_map_get(it, "name")))
                return cfg_fail(L, it, "a namespace needs a 'name'");
            if (cfg_scalar(L, v, "name", &ns->name) < 0)
                return -1;
            if ((v = ydoc_map_get(it, "ttl")) && ttl_value(L, v, &ns->ttl_ms) < 0)
                return -1;
        } else if (cfg_scalar(L, it, "namespace", &ns->name) < 0) {
            return -1;
        }
        if (!cfg_valid_name(ns->name))
            return cfg_fail(L, it, "namespace '%s' must use letters, digits, '_' and '-'",
                            ns->name);
        for (size_t j = 0; j + 1 < m->nnamespaces; j++)
            if (!strcmp(m->namespaces[j].name, ns->name))
                return cfg_fail(L, it, "namespace '%s' is listed twice", ns->name);
    }
    return 0;
}

static int load_embedder(struct loader *L, const struct ydoc_node *n, struct config_memory *m)
{
    const struct ydoc_node *v;
    if ((v = ydoc_map_get(n, "type"))) {
        char *t;
        if (cfg_scalar(L, v, "type", &t) < 0)
            return -1;
        free(m->embedder);
        m->embedder = t;
        if (strcmp(t, "hashing") && strcmp(t, "openai"))
            return cfg_fail(L, v, "embedder 'type' must be hashing or openai, got '%s'", t);
    }
    if ((v = ydoc_map_get(n, "dim")) && cfg_positive_int(L, v, "dim", &m->dim) < 0)
        return -1;
    if (m->dim > 8192)
        return cfg_fail(L, v, "embedder 'dim' must be at most 8192");
    if ((v = ydoc_map_get(n, "base_url")) && cfg_scalar(L, v, "base_url", &m->base_url) < 0)
        return -1;
    if ((v = ydoc_map_get(n, "api_key_env")) &&
        cfg_scalar(L, v, "api_key_env", &m->api_key_env) < 0)
        return -1;
    if ((v = ydoc_map_get(n, "model")) && cfg_scalar(L, v, "model", &m->model) < 0)
        return -1;
    if ((v = ydoc_map_get(n, "batch")) && cfg_positive_int(L, v, "batch", &m->batch) < 0)
        return -1;
    if (!strcmp(m->embedder, "openai") && (!m->base_url || !m->model))
        return cfg_fail(L, n, "the openai embedder needs 'base_url' and 'model'");
    return 0;
}

static int ns_known(const struct config_memory *m, const char *name)
{
    for (size_t i = 0; i < m->nnamespaces; i++)
        if (!strcmp(m->namespaces[i].name, name))
            return 1;
    return 0;
}

int cfg_load_memory(struct loader *L, const struct ydoc_node *root, struct config *c)
{
    int ok = 1;
    struct config_memory *m = &c->memory;
    const struct ydoc_node *sec = cfg_section(L, root, "memory", memory_keys, &ok), *v;
    if (!sec)
        return ok ? 0 : -1;
    if ((v = ydoc_map_get(sec, "namespaces")) && load_namespaces(L, v, m) < 0)
        return -1;
    if ((v = cfg_section(L, sec, "embedder", embedder_keys, &ok)) && load_embedder(L, v, m) < 0)
        return -1;
    if (!ok)
        return -1;
    if ((v = ydoc_map_get(sec, "capture")) &&
        !(v->kind == YDOC_SCALAR && ydoc_scalar_type(v) == YDOC_T_NULL)) {
        if (v->kind != YDOC_MAP)
            return cfg_fail(L, v, "'capture' must map task types to namespaces");
        m->capture_types = xcalloc(v->npairs + 1, sizeof *m->capture_types);
        m->capture_ns = xcalloc(v->npairs + 1, sizeof *m->capture_ns);
        for (size_t i = 0; i < v->npairs; i++) {
            const struct ydoc_node *k = v->pairs[i].key, *nv = v->pairs[i].value;
            char *ns;
            if (cfg_scalar(L, nv, "capture", &ns) < 0)
                return -1;
            m->capture_types[m->ncapture] = xstrdup(k->str);
            m->capture_ns[m->ncapture++] = ns;
            if (!ns_known(m, ns))
                return cfg_fail(L, nv, "capture: namespace '%s' (for %s) is not in "
                                       "memory.namespaces", ns, k->str);
        }
    }
    if ((v = cfg_section(L, sec, "qdrant", qdrant_keys, &ok))) {
        const struct ydoc_node *q;
        if ((q = ydoc_map_get(v, "url")) && cfg_scalar(L, q, "url", &m->qdrant_url) < 0)
            return -1;
        if ((q = ydoc_map_get(v, "api_key_env")) &&
            cfg_scalar(L, q, "api_key_env", &m->qdrant_api_key_env) < 0)
            return -1;
        if ((q = ydoc_map_get(v, "prefix"))) {
            free(m->qdrant_prefix);
            m->qdrant_prefix = NULL;
            if (cfg_scalar(L, q, "prefix", &m->qdrant_prefix) < 0)
                return -1;
        }
        if ((q = ydoc_map_get(v, "timeout")) &&
            cfg_duration(L, q, "timeout", &m->qdrant_timeout_ms) < 0)
            return -1;
        if (m->qdrant_url && !*m->qdrant_url) {
            free(m->qdrant_url);   /* "${QDRANT_URL:-}" unset: no Qdrant */
            m->qdrant_url = NULL;
        }
    }
    return ok ? 0 : -1;
}
