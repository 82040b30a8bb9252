/* engine_route.c — what each server is good for (registry.h profiles) and
 * the task router (router.h) inside the engine.
 *
 * A profile is resolved when a server is registered (catalog and config)
 * and again whenever its tools change (derivation from tools). A task
 * that names no server carries a route request ({"request": {"type",
 * "caps", "heavy", "server"}}); when its job starts, the router scores
 * every server (capability match, resource fit, health, preference) and
 * the job goes to the best available one. Servers that are disabled,
 * down, lacking the task's tool, or behind an open breaker are excluded
 * and listed with the reason. The request, the choice and every
 * candidate's scores are stored with the job (route_json) and as a
 * "route" event. While servers are still starting, routed jobs wait for
 * them, so the first jobs of a run see every server. */
#include "engine_int.h"

#include <time.h>

#define SUCCESS_MIN_SAMPLES 3

struct success {                 /* routed jobs per (server, task type) */
    char *server;                /* NULL: marks type as loaded from the store */
    char *type;
    int64_t ok, n;
};

/* === profiles === */

int engine_profile_resolve(struct server *s, char **errmsg)
{
    struct engine *e = s->e;
    const struct mcp_tool *mt = NULL;
    size_t nt = s->client ? mcp_client_tools(s->client, &mt) : 0;
    struct registry_tool *tools = xcalloc(nt ? nt : 1, sizeof *tools);
    for (size_t i = 0; i < nt; i++) {
        tools[i].name = mt[i].name;
        tools[i].description = mt[i].description;
    }
    const struct config_server *c = s->cfg;
    struct registry_override ov = {0};
    if (c) {
        ov.caps = (const char *const *)c->caps;
        ov.ncaps = c->ncaps;
        ov.has_caps = c->has_caps;
        ov.task_types = (const char *const *)c->task_types;
        ov.ntask_types = c->ntask_types;
        ov.has_task_types = c->has_task_types;
        ov.weight = c->weight;
    }
    struct registry_profile p;
    int rc = registry_profile_resolve(e->catalog, s->name, c ? c->command : NULL,
                                      c ? (const char *const *)c->args : NULL,
                                      c ? c->nargs : 0, c ? c->url : NULL, tools, nt,
                                      c ? &ov : NULL, &p, errmsg);
    free(tools);
    if (rc < 0)
        return -1;
    registry_profile_fini(&s->profile);
    s->profile = p;
    engine_route_changed(e);
    return 0;
}

/* === success rates === */

static struct success *success_find(struct engine *e, const char *server, const char *type)
{
    for (size_t i = 0; i < e->nsuccess; i++) {
        struct success *x = &e->success[i];
        if (strcmp(x->type, type) == 0 &&
            (server ? x->server && strcmp(x->server, server) == 0 : !x->server))
            return x;
    }
    return NULL;
}

static struct success *success_add(struct engine *e, const char *server, const char *type)
{
    e->success = xrealloc(e->success, (e->nsuccess + 1) * sizeof *e->success);
    struct success *x = &e->success[e->nsuccess++];
    x->server = server ? xstrdup(server) : NULL;
    x->type = xstrdup(type);
    x->ok = x->n = 0;
    return x;
}

/* The store's history of routed jobs of this type, read once. */
static void success_load(struct engine *e, const char *type)
{
    if (success_find(e, NULL, type))
        return;
    success_add(e, NULL, type);
    sqlite3_stmt *st;
    engine_tx_flush(e);
    if (sqlite3_prepare_v2(db_handle(e->db),
                           "SELECT server, SUM(status = 'succeeded'), COUNT(*) FROM jobs "
                           "WHERE route_json IS NOT NULL AND server IS NOT NULL "
                           "AND (status = 'succeeded' OR status = 'failed') "
                           "AND json_extract(route_json, '$.request.type') = ?1 "
                           "GROUP BY server", -1, &st, NULL) != SQLITE_OK)
        return;
    sqlite3_bind_text(st, 1, type, -1, SQLITE_STATIC);
    while (sqlite3_step(st) == SQLITE_ROW) {
        struct success *x = success_add(e, (const char *)sqlite3_column_text(st, 0), type);
        x->ok = sqlite3_column_int64(st, 1);
        x->n = sqlite3_column_int64(st, 2);
    }
    sqlite3_finalize(st);
}

static double success_rate(struct engine *e, const char *server, const char *type)
{
    if (!type)
        return -1;
    success_load(e, type);
    struct success *x = success_find(e, server, type);
    return x && x->n >= SUCCESS_MIN_SAMPLES ? (double)x->ok / (double)x->n : -1;
}

void engine_route_outcome(struct engine *e, const char *server, const char *type, int ok)
{
    if (!server || !type)
        return;
    success_load(e, type);
    struct success *x = success_find(e, server, type);
    if (!x)
        x = success_add(e, server, type);
    x->n++;
    x->ok += ok != 0;
}

/* === routing === */

static enum router_health health_of(const struct server *s)
{
    switch (s->health) {
    case SERVER_HEALTH_HEALTHY: return ROUTER_HEALTH_HEALTHY;
    case SERVER_HEALTH_WARNING: return ROUTER_HEALTH_WARNING;
    case SERVER_HEALTH_UNHEALTHY: return ROUTER_HEALTH_UNHEALTHY;
    case SERVER_HEALTH_UNKNOWN: break;
    }
    return ROUTER_HEALTH_UNKNOWN;
}

/* Why s cannot take the task now (malloc'd), or NULL when it can. */
static char *unavailable(struct server *s, const char *tool)
{
    switch (s->state) {
    case SERVER_DISABLED: return xstrdup("disabled");
    case SERVER_FAILED:
        return xasprintf("down: %s", s->last_error ? s->last_error : "failed");
    case SERVER_STOPPED: return xstrdup("not running");
    case SERVER_STARTING: return xstrdup("still starting");
    case SERVER_READY: break;
    }
    if (tool && !mcp_client_find_tool(s->client, tool))
        return xasprintf("has no tool '%s'", tool);
    breaker_poll(&s->breaker, util_now_ms());
    if (s->breaker.state == BREAKER_OPEN) {
        char when[16];
        engine_clock_text(s->breaker.opened_at + s->breaker.cooldown_ms, when);
        return xasprintf("breaker open, trial at %s", when);
    }
    if (s->breaker.state == BREAKER_HALF_OPEN && s->breaker.trial)
        return xstrdup("breaker half-open, its trial is out");
    return NULL;
}

/* Excluded whatever the task: disabled, down, breaker open. */
static int unavailable_now(struct server *s)
{
    char *why = unavailable(s, NULL);
    free(why);
    return why != NULL;
}

struct route_ctx {
    struct router_task task;
    const char **caps;               /* the type's and the request's */
    size_t ncaps;
    struct router_server *servers;
    char **whys;
    size_t n;
};

static void route_ctx_fini(struct route_ctx *c)
{
    for (size_t i = 0; i < c->n; i++)
        free(c->whys[i]);
    free(c->whys);
    free(c->servers);
    free(c->caps);
}

/* Fill c for req; -1 and *errmsg for a bad request. */
static int route_prepare(struct engine *e, const struct engine_route_req *req,
                         struct route_ctx *c, char **errmsg)
{
    memset(c, 0, sizeof *c);
    const char *const *tcaps = NULL;
    size_t ntcaps = 0;
    int heavy = 0;
    if (req->type && registry_task_type(e->catalog, req->type, &tcaps, &ntcaps, &heavy) < 0) {
        size_t nt;
        const char *const *types = registry_task_types(e->catalog, &nt);
        struct buf b;
        buf_init(&b);
        for (size_t i = 0; i < nt; i++)
            buf_printf(&b, "%s%s", i ? ", " : "", types[i]);
        *errmsg = xasprintf("unknown task type '%s'; expected one of: %s", req->type,
                            b.data ? b.data : "");
        buf_fini(&b);
        return -1;
    }
    for (size_t i = 0; i < req->ncaps; i++)
        if (!registry_is_capability(req->caps[i])) {
            size_t nc;
            const char *const *all = registry_capabilities(&nc);
            struct buf b;
            buf_init(&b);
            for (size_t k = 0; k < nc; k++)
                buf_printf(&b, "%s%s", k ? ", " : "", all[k]);
            *errmsg = xasprintf("unknown capability '%s'; expected one of: %s", req->caps[i],
                                b.data ? b.data : "");
            buf_fini(&b);
            return -1;
        }
    if (!req->type && !req->ncaps && !req->server) {
        *errmsg = xstrdup("a routed task needs a type, capabilities or a server");
        return -1;
    }
    c->caps = xcalloc(ntcaps + req->ncaps + 1, sizeof *c->caps);
    for (size_t i = 0; i < ntcaps; i++)
        c->caps[c->ncaps++] = tcaps[i];
    for (size_t i = 0; i < req->ncaps; i++) {
        int dup = 0;
        for (size_t k = 0; k < c->ncaps; k++)
            dup |= strcmp(c->caps[k], req->caps[i]) == 0;
        if (!dup)
            c->caps[c->ncaps++] = req->caps[i];
    }
    c->task.type = req->type;
    c->task.caps = c->caps;
    c->task.ncaps = c->ncaps;
    c->task.server = req->server;
    c->task.heavy = req->heavy >= 0 ? req->heavy : heavy;
    c->servers = xcalloc(e->nservers + 1, sizeof *c->servers);
    c->whys = xcalloc(e->nservers + 1, sizeof *c->whys);
    for (size_t i = 0; i < e->nservers; i++) {
        struct server *s = e->servers[i];
        if (s->removed)
            continue;
        struct router_server *rs = &c->servers[c->n];
        rs->name = s->name;
        rs->caps = (const char *const *)s->profile.caps;
        rs->ncaps = s->profile.ncaps;
        rs->task_types = (const char *const *)s->profile.task_types;
        rs->ntask_types = s->profile.ntask_types;
        rs->light = s->profile.light;
        rs->heavy = s->profile.heavy;
        rs->health = health_of(s);
        c->whys[c->n] = unavailable(s, req->tool);
        rs->available = c->whys[c->n] == NULL;
        rs->why = c->whys[c->n];
        rs->config_pref = s->cfg ? s->cfg->preference : -1;
        rs->success_rate = success_rate(e, s->name, req->type);
        c->n++;
    }
    return 0;
}

/* The stored route: the router's JSON plus the request. */
static cJSON *route_json(const struct router_decision *d, const struct route_ctx *c,
                         const struct engine_route_req *req, const struct router_weights *w)
{
    cJSON *j = router_decision_json(d, &c->task, w);
    cJSON *r = cJSON_CreateObject();
    if (req->type)
        cJSON_AddStringToObject(r, "type", req->type);
    if (req->ncaps) {
        cJSON *a = cJSON_AddArrayToObject(r, "caps");
        for (size_t i = 0; i < req->ncaps; i++)
            cJSON_AddItemToArray(a, cJSON_CreateString(req->caps[i]));
    }
    if (req->heavy >= 0)
        cJSON_AddBoolToObject(r, "heavy", req->heavy);
    if (req->server)
        cJSON_AddStringToObject(r, "server", req->server);
    cJSON_DeleteItemFromObjectCaseSensitive(j, "request");
    cJSON_AddItemToObject(j, "request", r);
    if (req->tool)
        cJSON_AddStringToObject(j, "tool", req->tool);
    return j;
}

int engine_route(struct engine *e, const struct engine_route_req *req, char **chosen,
                 char **explain, cJSON **json, char **errmsg)
{
    struct route_ctx c;
    if (chosen)
        *chosen = NULL;
    if (explain)
        *explain = NULL;
    if (json)
        *json = NULL;
    if (route_prepare(e, req, &c, errmsg) < 0)
        return -1;
    struct router_decision d;
    int rc;
    /* Decisions for tasks without a tool filter are cached until anything
     * they depend on changes (health, breakers, servers, tools). */
    const struct router_decision *hit = req->tool ? NULL : router_cache_get(e->rcache, &c.task);
    if (hit) {
        router_decision_copy(&d, hit);
        rc = d.chosen ? 0 : -1;
        if (rc < 0)
            *errmsg = router_decision_error(&d, &c.task);
    } else {
        rc = router_route(&e->weights, &c.task, c.servers, c.n, &d, errmsg);
        if (!req->tool)
            router_cache_put(e->rcache, &c.task, &d);
    }
    if (chosen && d.chosen)
        *chosen = xstrdup(d.chosen);
    if (explain)
        *explain = router_explain(&d, &c.task);
    if (json)
        *json = route_json(&d, &c, req, &e->weights);
    router_decision_fini(&d);
    route_ctx_fini(&c);
    return rc;
}

/* The request of a stored route_json; strings borrowed from j. caps is
 * malloc'd (caller frees). */
static int request_parse(const cJSON *j, struct engine_route_req *req, const char ***caps)
{
    memset(req, 0, sizeof *req);
    req->heavy = -1;
    *caps = NULL;
    const cJSON *r = cJSON_GetObjectItemCaseSensitive(j, "request");
    if (!cJSON_IsObject(r))
        return -1;
    const cJSON *v;
    if (cJSON_IsString(v = cJSON_GetObjectItemCaseSensitive(r, "type")))
        req->type = v->valuestring;
    if (cJSON_IsString(v = cJSON_GetObjectItemCaseSensitive(r, "server")))
        req->server = v->valuestring;
    if (cJSON_IsBool(v = cJSON_GetObjectItemCaseSensitive(r, "heavy")))
        req->heavy = cJSON_IsTrue(v);
    v = cJSON_GetObjectItemCaseSensitive(r, "caps");
    int n = cJSON_IsArray(v) ? cJSON_GetArraySize(v) : 0;
    *caps = xcalloc((size_t)n + 1, sizeof **caps);
    const cJSON *it;
    cJSON_ArrayForEach(it, v) {
        if (cJSON_IsString(it))
            (*caps)[req->ncaps++] = it->valuestring;
    }
    req->caps = *caps;
    return 0;
}

size_t engine_route_tools(struct engine *e, const char *text, size_t k, char ***out)
{
    size_t total = 0;
    for (size_t i = 0; i < e->nservers; i++) {
        const struct mcp_tool *t;
        struct server *s = e->servers[i];
        if (!s->removed && s->state == SERVER_READY && s->client)
            total += mcp_client_tools(s->client, &t);
    }
    struct router_tool *tools = xcalloc(total + 1, sizeof *tools);
    size_t n = 0;
    for (size_t i = 0; i < e->nservers; i++) {
        const struct mcp_tool *t;
        struct server *s = e->servers[i];
        if (s->removed || s->state != SERVER_READY || !s->client || unavailable_now(s))
            continue;
        size_t m = mcp_client_tools(s->client, &t);
        for (size_t j = 0; j < m; j++)
            tools[n++] = (struct router_tool){s->name, t[j].name, t[j].description};
    }
    size_t *idx = xcalloc(k + 1, sizeof *idx);
    size_t got = router_select_tools(text, tools, n, k, idx);
    *out = xcalloc(got + 1, sizeof **out);
    for (size_t i = 0; i < got; i++)
        (*out)[i] = xasprintf("%s.%s", tools[idx[i]].server, tools[idx[i]].name);
    free(idx);
    free(tools);
    return got;
}

char *engine_route_request_json(const struct engine_route_req *req)
{
    cJSON *j = cJSON_CreateObject();
    cJSON *r = cJSON_AddObjectToObject(j, "request");
    if (req->type)
        cJSON_AddStringToObject(r, "type", req->type);
    if (req->ncaps) {
        cJSON *a = cJSON_AddArrayToObject(r, "caps");
        for (size_t i = 0; i < req->ncaps; i++)
            cJSON_AddItemToArray(a, cJSON_CreateString(req->caps[i]));
    }
    if (req->heavy >= 0)
        cJSON_AddBoolToObject(r, "heavy", req->heavy);
    if (req->server)
        cJSON_AddStringToObject(r, "server", req->server);
    char *t = cJSON_PrintUnformatted(j);
    cJSON_Delete(j);
    char *out = xstrdup(t);
    cJSON_free(t);
    return out;
}

static int servers_starting(struct engine *e)
{
    for (size_t i = 0; i < e->nservers; i++)
        if (!e->servers[i]->removed && e->servers[i]->state == SERVER_STARTING)
            return 1;
    return 0;
}

void engine_route_run(struct run *r, const struct job *j)
{
    struct engine *e = r->e;
    if (j && !r->route_json)
        r->route_json = xstrdup(j->route_json);
    if (servers_starting(e)) {           /* route when every server can be seen */
        engine_run_unlink(&e->runs, r);
        r->next = e->route_wait;
        e->route_wait = r;
        return;
    }
    cJSON *stored = cJSON_Parse(r->route_json);
    struct engine_route_req req;
    const char **caps = NULL;
    char *err = NULL, *chosen = NULL;
    cJSON *json = NULL;
    int rc = -1;
    if (request_parse(stored, &req, &caps) < 0) {
        err = xstrdup("the job's route request is unreadable");
    } else {
        req.tool = r->tool;
        free(r->route_type);
        r->route_type = req.type ? xstrdup(req.type) : NULL;
        rc = engine_route(e, &req, &chosen, NULL, &json, &err);
    }
    if (json) {
        redact_json(json);
        char *t = cJSON_PrintUnformatted(json);
        if (log_enabled(LOG_LEVEL_DEBUG)) {
            struct log_ctx ctx = {r->job_id, chosen, 0};
            struct log_kv kv[] = {LOG_STR("route", t)};
            log_write_kv(LOG_LEVEL_DEBUG, &ctx, kv, 1, "job routed to %s",
                         chosen ? chosen : "no server");
        }
        engine_tx_touch(e);
        jobq_set_route(e->q, r->job_id, chosen, t);
        jobq_event_add(e->q, r->job_id, "route", t);
        cJSON_free(t);
        cJSON_Delete(json);
    }
    free(caps);
    cJSON_Delete(stored);
    if (rc < 0) {
        /* nothing fits now; worth another attempt only when some server
         * that could do it is merely unavailable (down, breaker open) */
        int retry = err && strstr(err, "excluded") != NULL;
        engine_run_finish(r, NULL, err ? err : "no route", retry);
        free(err);
        free(chosen);
        return;
    }
    struct server *s = engine_server_find(e, chosen);
    free(chosen);
    engine_run_on(r, s);
}

void engine_route_changed(struct engine *e)
{
    if (e->rcache)
        router_cache_invalidate(e->rcache);
    if (!e->route_wait || e->routing || servers_starting(e))
        return;
    e->routing = 1;
    struct run *w = e->route_wait;
    e->route_wait = NULL;
    while (w) {
        struct run *r = w;
        w = r->next;
        r->next = e->runs;
        e->runs = r;
        engine_route_run(r, NULL);
    }
    e->routing = 0;
}

void engine_route_fini(struct engine *e)
{
    while (e->route_wait) {
        struct run *r = e->route_wait;
        e->route_wait = r->next;
        engine_run_free(r);
    }
    for (size_t i = 0; i < e->nsuccess; i++) {
        free(e->success[i].server);
        free(e->success[i].type);
    }
    free(e->success);
    router_cache_free(e->rcache);
    registry_catalog_free(e->catalog);
    for (size_t i = 0; i < e->nservers; i++)
        registry_profile_fini(&e->servers[i]->profile);
}
