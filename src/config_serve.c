/* config_serve.c — the serve section of the configuration: what
 * `mcpdeck serve` (stdio) and --serve-http expose to outer clients.
 *
 *   serve:
 *     expose:
 *       servers: ["*"]          # globs over server names (default all)
 *       tools: ["*"]            # globs over "server__tool" (default all)
 *     hide_open_breakers: false # leave tools of open-breaker servers out of tools/list
 *     record_calls: true        # outer tool calls run as queue jobs (Tasks, Metrics)
 *     task_tools: true          # offer submit_task, task_status, task_result, cancel_task
 *     page_size: 200            # items per page of tools/list, resources/list, ... (cursor)
 *     relay_timeout: 10m        # how long a server's sampling or elicitation request
 *                               # relayed to the outer client waits for its answer
 *     http: {listen: 127.0.0.1:8808, token_env: MCPDECK_SERVE_TOKEN,
 *            origins: ["https://app.example"]}   # Origins allowed besides loopback
 *
 * Globs are fnmatch(3) patterns; a leading '!' excludes what it matches
 * (the last matching pattern wins). */
#include "config_int.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

static const char *const serve_keys[] = {"expose",    "hide_open_breakers", "record_calls",
                                         "task_tools", "page_size", "relay_timeout",
                                         "http",      NULL};
static const char *const expose_keys[] = {"servers", "tools", NULL};
static const char *const http_keys[] = {"listen", "token_env", "origins", NULL};

void cfg_serve_defaults(struct config *c)
{
    struct config_serve *s = &c->serve;
    s->record_calls = 1;
    s->task_tools = 1;
    s->page_size = 200;
    s->relay_timeout_ms = 10 * 60 * 1000;
}

void cfg_serve_free(struct config *c)
{
    struct config_serve *s = &c->serve;
    cfg_strv_free(s->servers, s->nservers);
    cfg_strv_free(s->tools, s->ntools);
    free(s->http_listen);
    free(s->http_token_env);
    cfg_strv_free(s->http_origins, s->nhttp_origins);
}

static int glob_list(struct loader *L, const struct ydoc_node *n, const char *what, char ***out,
                     size_t *count)
{
    if (n->kind == YDOC_SCALAR && ydoc_scalar_type(n) != YDOC_T_NULL) {
        char *one;
        if (cfg_scalar(L, n, what, &one) < 0)
            return -1;
        *out = xcalloc(2, sizeof **out);
        (*out)[0] = one;
        *count = 1;
        return 0;
    }
    return cfg_string_list(L, n, what, out, count);
}

int cfg_load_serve(struct loader *L, const struct ydoc_node *root, struct config *c)
{
    int ok = 1;
    struct config_serve *s = &c->serve;
    const struct ydoc_node *sec = cfg_section(L, root, "serve", serve_keys, &ok), *v, *x;
    if (!sec)
        return ok ? 0 : -1;
    if ((v = cfg_section(L, sec, "expose", expose_keys, &ok))) {
        if ((x = ydoc_map_get(v, "servers")) &&
            glob_list(L, x, "servers", &s->servers, &s->nservers) < 0)
            return -1;
        if ((x = ydoc_map_get(v, "tools")) && glob_list(L, x, "tools", &s->tools, &s->ntools) < 0)
            return -1;
    }
    if (!ok)
        return -1;
    if ((v = ydoc_map_get(sec, "hide_open_breakers")) &&
        cfg_boolean(L, v, "hide_open_breakers", &s->hide_open_breakers) < 0)
        return -1;
    if ((v = ydoc_map_get(sec, "record_calls")) &&
        cfg_boolean(L, v, "record_calls", &s->record_calls) < 0)
        return -1;
    if ((v = ydoc_map_get(sec, "task_tools")) &&
        cfg_boolean(L, v, "task_tools", &s->task_tools) < 0)
        return -1;
    if ((v = ydoc_map_get(sec, "page_size")) &&
        cfg_positive_int(L, v, "page_size", &s->page_size) < 0)
        return -1;
    if ((v = ydoc_map_get(sec, "relay_timeout")) &&
        cfg_duration(L, v, "relay_timeout", &s->relay_timeout_ms) < 0)
        return -1;
    if ((v = cfg_section(L, sec, "http", http_keys, &ok))) {
        if ((x = ydoc_map_get(v, "listen")) && cfg_scalar(L, x, "listen", &s->http_listen) < 0)
            return -1;
        if ((x = ydoc_map_get(v, "token_env")) &&
            cfg_scalar(L, x, "token_env", &s->http_token_env) < 0)
            return -1;
        if (s->http_token_env && !cfg_var_name_ok(s->http_token_env))
            return cfg_fail(L, x, "'token_env' must name an environment variable, got '%s'",
                            s->http_token_env);
        if ((x = ydoc_map_get(v, "origins")) &&
            glob_list(L, x, "origins", &s->http_origins, &s->nhttp_origins) < 0)
            return -1;
    }
    return ok ? 0 : -1;
}
