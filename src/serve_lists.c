/* serve_lists.c — what the aggregate server lists: the exposed servers
 * (serve.expose, disabled ones left out), their tools namespaced
 * "server__tool" plus the task tools, their resources (URIs kept),
 * resource templates and prompts ("server__prompt"), each list with a
 * cheap signature (list_changed compares them), and who owns a name or a
 * URI. The list methods answer one page at a time: at most
 * serve.page_size items, and a nextCursor while more remain. A cursor is
 * "<list>:<offset>"; one this server did not give, or one past the end
 * (the list shrank since), is a JSON-RPC invalid-params error that says
 * to list again from the start. */
#include "serve_int.h"

#include "config.h"
#include "engine.h"
#include "jsonrpc.h"
#include "util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static uint64_t fnv(uint64_t h, const char *s)
{
    for (; s && *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return (h ^ 0xff) * 1099511628211ULL;   /* a separator, so "ab","c" != "a","bc" */
}

/* === the servers exposed === */

void serve_exposed_get(struct serve *s, struct serve_exposed *x)
{
    size_t n = engine_servers(s->e, NULL, 0);
    x->info = xcalloc(n ? n : 1, sizeof *x->info);
    n = engine_servers(s->e, x->info, n);
    x->n = 0;
    for (size_t i = 0; i < n; i++)
        if (x->info[i].state != SERVER_DISABLED &&
            serve_glob_pass(s->cfg->servers, s->cfg->nservers, x->info[i].name))
            x->info[x->n++] = x->info[i];
}

int serve_breaker_open(const struct engine_server_info *si)
{
    return si->breaker && strcmp(si->breaker, "open") == 0;
}

/* The exposed server that owns a namespaced name (the longest server name
 * that is a prefix followed by "__"); *rest points past the separator. */
const struct engine_server_info *serve_owner_of(const struct serve_exposed *x,
                                                const char *full, const char **rest)
{
    const struct engine_server_info *best = NULL;
    size_t blen = 0;
    for (size_t i = 0; i < x->n; i++) {
        size_t l = strlen(x->info[i].name);
        if (l > blen && strncmp(full, x->info[i].name, l) == 0 &&
            strncmp(full + l, SERVE_SEP, 2) == 0 && full[l + 2]) {
            best = &x->info[i];
            blen = l;
        }
    }
    if (best)
        *rest = full + blen + 2;
    return best;
}

/* Every exposed tool (into out when not NULL); returns the signature. */
uint64_t serve_tools_collect(struct serve *s, cJSON *out)
{
    struct serve_exposed x;
    serve_exposed_get(s, &x);
    uint64_t h = 1469598103934665603ULL;
    struct engine_tool_info *ti = NULL;
    size_t cap = 0;
    for (size_t i = 0; i < x.n; i++) {
        const struct engine_server_info *si = &x.info[i];
        if (si->state != SERVER_READY || (s->cfg->hide_open_breakers && serve_breaker_open(si)))
            continue;
        size_t n = engine_server_tools(s->e, si->name, NULL, 0);
        if (n > cap) {
            cap = n;
            ti = xrealloc(ti, cap * sizeof *ti);
        }
        n = engine_server_tools(s->e, si->name, ti, n);
        for (size_t k = 0; k < n; k++) {
            char *full = xasprintf("%s" SERVE_SEP "%s", si->name, ti[k].name);
            if (!serve_glob_pass(s->cfg->tools, s->cfg->ntools, full)) {
                free(full);
                continue;
            }
            h = fnv(fnv(h, full), ti[k].description);
            if (out) {
                cJSON *t = cJSON_CreateObject();
                cJSON_AddStringToObject(t, "name", full);
                if (ti[k].description)
                    cJSON_AddStringToObject(t, "description", ti[k].description);
                cJSON_AddItemToObject(t, "inputSchema",
                                      ti[k].input_schema
                                          ? cJSON_Duplicate(ti[k].input_schema, 1)
                                          : cJSON_Parse("{\"type\":\"object\"}"));
                if (ti[k].output_schema)
                    cJSON_AddItemToObject(t, "outputSchema",
                                          cJSON_Duplicate(ti[k].output_schema, 1));
                if (ti[k].annotations)
                    cJSON_AddItemToObject(t, "annotations",
                                          cJSON_Duplicate(ti[k].annotations, 1));
                cJSON_AddItemToArray(out, t);
            }
            free(full);
        }
    }
    free(ti);
    free(x.info);
    if (s->cfg->task_tools) {
        cJSON *tasks = cJSON_CreateArray();
        serve_tasks_list(s, tasks);
        cJSON *t;
        for (t = tasks->child; t;) {
            cJSON *next = t->next;
            const char *name = serve_str(t, "name");
            if (serve_glob_pass(s->cfg->tools, s->cfg->ntools, name)) {
                h = fnv(h, name);
                if (out)
                    cJSON_AddItemToArray(out, cJSON_DetachItemViaPointer(tasks, t));
            }
            t = next;
        }
        cJSON_Delete(tasks);
    }
    return h;
}

/* Resources, templates or prompts of every exposed server; names
 * namespaced (resource URIs kept). Returns the signature. */
uint64_t serve_list_collect(struct serve *s, const char *which, cJSON *out)
{
    struct serve_exposed x;
    serve_exposed_get(s, &x);
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < x.n; i++) {
        if (x.info[i].state != SERVER_READY)
            continue;
        const cJSON *arr = engine_server_list(s->e, x.info[i].name, which);
        const cJSON *it;
        cJSON_ArrayForEach(it, arr) {
            const char *name = serve_str(it, "name");
            const char *key = serve_str(it, strcmp(which, "resources") == 0   ? "uri"
                                           : strcmp(which, "templates") == 0 ? "uriTemplate"
                                                                              : "name");
            h = fnv(fnv(h, x.info[i].name), key);
            if (!out)
                continue;
            cJSON *d = cJSON_Duplicate(it, 1);
            char *full = xasprintf("%s" SERVE_SEP "%s", x.info[i].name, name ? name : "");
            cJSON_DeleteItemFromObjectCaseSensitive(d, "name");
            cJSON_AddStringToObject(d, "name", full);
            free(full);
            cJSON_AddItemToArray(out, d);
        }
    }
    free(x.info);
    return h;
}

/* The exposed server a resource URI (or, templates, a URI template)
 * belongs to: an exact URI in its resources, else the template whose text
 * before the first '{' is the longest prefix of uri. malloc'd, or NULL. */
char *serve_resource_owner(struct serve *s, const char *uri, int template_only)
{
    struct serve_exposed x;
    serve_exposed_get(s, &x);
    char *best = NULL;
    size_t blen = 0;
    for (size_t i = 0; i < x.n && !best; i++) {
        if (x.info[i].state != SERVER_READY || template_only)
            continue;
        const cJSON *it;
        cJSON_ArrayForEach(it, engine_server_list(s->e, x.info[i].name, "resources")) {
            const char *u = serve_str(it, "uri");
            if (u && strcmp(u, uri) == 0) {
                best = xstrdup(x.info[i].name);
                break;
            }
        }
    }
    for (size_t i = 0; i < x.n && !best; i++) {
        if (x.info[i].state != SERVER_READY)
            continue;
        const cJSON *it;
        cJSON_ArrayForEach(it, engine_server_list(s->e, x.info[i].name, "templates")) {
            const char *t = serve_str(it, "uriTemplate");
            if (!t)
                continue;
            if (template_only) {
                if (strcmp(t, uri) == 0) {
                    best = xstrdup(x.info[i].name);
                    break;
                }
                continue;
            }
            size_t l = strcspn(t, "{");
            if (l > blen && strncmp(uri, t, l) == 0) {
                blen = l;
                free(best);
                best = xstrdup(x.info[i].name);
            }
        }
    }
    free(x.info);
    return best;
}

/* A namespaced prompt name: its server (malloc'd) and the name there. */
char *serve_prompt_owner(struct serve *s, const char *full, const char **name)
{
    struct serve_exposed x;
    serve_exposed_get(s, &x);
    const struct engine_server_info *si = serve_owner_of(&x, full, name);
    char *server = si && si->state == SERVER_READY ? xstrdup(si->name) : NULL;
    free(x.info);
    return server;
}

/* === pages === */

/* The offset a cursor names in a list of n items: 0 and *off, or -1 and
 * *why (malloc'd). No cursor is the start. */
static int cursor_offset(const cJSON *params, const char *which, size_t n, size_t *off,
                         char **why)
{
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(params, "cursor");
    *off = 0;
    if (!c || cJSON_IsNull(c))
        return 0;
    if (!cJSON_IsString(c)) {
        *why = xstrdup("invalid cursor: it must be a string (the nextCursor of a previous page)");
        return -1;
    }
    const char *t = c->valuestring;
    size_t wl = strlen(which);
    char *end = NULL;
    errno = 0;
    unsigned long long v = 0;
    int ok = strncmp(t, which, wl) == 0 && t[wl] == ':' && t[wl + 1] >= '0' && t[wl + 1] <= '9';
    if (ok) {
        v = strtoull(t + wl + 1, &end, 10);
        ok = errno == 0 && !*end && v > 0;
    }
    if (!ok) {
        *why = xasprintf("invalid cursor '%s': not a cursor of this %s list (use the nextCursor "
                         "of the previous page, or none to start)", t, which);
        return -1;
    }
    if (v > n) {
        *why = xasprintf("invalid cursor '%s': past the end of the %s list, which has %zu "
                         "items now (it changed: list again without a cursor)", t, which, n);
        return -1;
    }
    *off = (size_t)v;
    return 0;
}

/* Answer a list request with the page of items (taken) the cursor
 * names, under key. */
static void answer_page(struct serve_session *ss, const cJSON *id, const char *idt,
                        const cJSON *params, const char *which, const char *key, cJSON *items)
{
    size_t n = (size_t)cJSON_GetArraySize(items), off, size = (size_t)ss->s->cfg->page_size;
    char *why = NULL;
    if (cursor_offset(params, which, n, &off, &why) < 0) {
        serve_respond_error(ss, id, idt, JSONRPC_INVALID_PARAMS, why);
        free(why);
        cJSON_Delete(items);
        return;
    }
    if (size == 0)
        size = n ? n : 1;
    cJSON *r = cJSON_CreateObject();
    cJSON *page = cJSON_AddArrayToObject(r, key);
    size_t i = 0;
    for (cJSON *it = items->child, *next; it; it = next, i++) {
        next = it->next;
        if (i >= off && i < off + size)
            cJSON_AddItemToArray(page, cJSON_DetachItemViaPointer(items, it));
    }
    if (off + size < n) {
        char *cur = xasprintf("%s:%zu", which, off + size);
        cJSON_AddStringToObject(r, "nextCursor", cur);
        free(cur);
    }
    cJSON_Delete(items);
    serve_respond(ss, id, idt, r);
}

void serve_lists_answer(struct serve_session *ss, const cJSON *id, const char *idt,
                        const cJSON *params, const char *which)
{
    cJSON *items = cJSON_CreateArray();
    const char *key = which;
    if (strcmp(which, "tools") == 0) {
        serve_tools_collect(ss->s, items);
    } else {
        serve_list_collect(ss->s, which, items);
        if (strcmp(which, "templates") == 0)
            key = "resourceTemplates";
    }
    answer_page(ss, id, idt, params, which, key, items);
}
