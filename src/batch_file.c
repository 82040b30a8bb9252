/* batch_file.c — parse and check batch files (see batch_file.h).
 *
 *   defaults:                   # optional: timeout, retries, priority, server
 *     timeout: 30s
 *     server: everything        # lets tasks say tool: echo
 *   tasks:                      # or the file is just the list
 *     - id: hello
 *       tool: everything.echo   # server.tool (or tool with defaults.server)
 *       args: {message: hi}
 *       needs: [other-id]       # runs after these succeeded
 *       priority: 5
 *       timeout: 30s
 *       retries: 2              # attempts
 *       delay: 10s              # not before 10 s after it is queued (run_at)
 *       idempotency_key: deploy-42   # queued once, whatever reruns the file
 *       elicit: {name: Ada}     # answers if the server asks the user
 *       expect:                 # turns the batch into a CI smoke test
 *         status: succeeded     # or failed
 *         contains: hi          # or a list
 *         regex: "^Echo: "
 *         json: {"temperature": 22.5}   # path → value in structuredContent
 *         is_error: false
 *         max_duration: 2s
 *     - id: routed
 *       type: review            # a routed tool task: the router picks the
 *       tool: echo              # best server of this type that has the tool
 *       caps: [code_analysis]   # (and/or required capabilities)
 *       heavy: true             # heavy or light work (default: the type's)
 *     - id: review
 *       type: review            # a model task (needs a configured model)
 *       prompt: "check the diff"
 */
#include "batch_file.h"
#include "registry.h"
#include "util.h"

#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const task_keys[] = {"id", "tool", "args", "type", "prompt", "priority",
                                        "timeout", "retries", "needs", "elicit", "expect",
                                        "caps", "heavy", "delay", "idempotency_key", "model", NULL};
static const char *const default_keys[] = {"timeout", "retries", "priority", "server", NULL};
static const char *const expect_keys[] = {"status", "contains", "regex", "json", "is_error",
                                          "max_duration", NULL};
static const char *const task_types[] = {"generate", "refactor", "debug", "review", "document",
                                         "test", "deploy", NULL};

struct defaults {
    int timeout_ms, attempts, priority;
    char *server;
};

static char *get_int(struct ydoc *d, const struct ydoc_node *v, const char *what, int lo, int hi,
                     int *out)
{
    if (v->kind != YDOC_SCALAR || ydoc_scalar_type(v) != YDOC_T_INT || atol(v->str) < lo ||
        atol(v->str) > hi)
        return ydoc_errorf(d, v, "'%s' must be an integer from %d to %d", what, lo, hi);
    *out = atoi(v->str);
    return NULL;
}

static char *get_duration(struct ydoc *d, const struct ydoc_node *v, const char *what,
                          int64_t *out)
{
    if (v->kind != YDOC_SCALAR || util_parse_duration_ms(v->str, out) < 0 || *out <= 0 ||
        *out > 7LL * 86400000)
        return ydoc_errorf(d, v, "'%s' must be a duration like 30s, 5m or 1500ms", what);
    return NULL;
}

static char *get_string(struct ydoc *d, const struct ydoc_node *v, const char *what, char **out)
{
    if (v->kind != YDOC_SCALAR || !v->str[0])
        return ydoc_errorf(d, v, "'%s' must be a non-empty string", what);
    *out = xstrdup(v->str);
    return NULL;
}

static char *parse_expect(struct ydoc *d, const struct ydoc_node *n, struct bexpect *x)
{
    x->is_error = -1;
    if (n->kind != YDOC_MAP)
        return ydoc_errorf(d, n, "'expect' must be a mapping (status, contains, regex, json, "
                                 "is_error, max_duration)");
    char *err = ydoc_check_keys(d, n, "expect", expect_keys);
    if (err)
        return err;
    const struct ydoc_node *v;
    if ((v = ydoc_map_get(n, "status"))) {
        if (v->kind != YDOC_SCALAR ||
            (strcmp(v->str, "succeeded") != 0 && strcmp(v->str, "failed") != 0))
            return ydoc_errorf(d, v, "'status' must be succeeded or failed");
        x->has_status = 1;
        x->status_ok = strcmp(v->str, "succeeded") == 0;
    }
    if ((v = ydoc_map_get(n, "contains"))) {
        if (v->kind == YDOC_SCALAR) {
            x->contains = xcalloc(1, sizeof *x->contains);
            x->contains[x->ncontains++] = xstrdup(v->str);
        } else if (v->kind == YDOC_SEQ) {
            x->contains = xcalloc(v->nitems ? v->nitems : 1, sizeof *x->contains);
            for (size_t i = 0; i < v->nitems; i++) {
                if (v->items[i]->kind != YDOC_SCALAR)
                    return ydoc_errorf(d, v->items[i], "'contains' entries must be strings");
                x->contains[x->ncontains++] = xstrdup(v->items[i]->str);
            }
        } else {
            return ydoc_errorf(d, v, "'contains' must be a string or a list of strings");
        }
    }
    if ((v = ydoc_map_get(n, "regex"))) {
        if (v->kind != YDOC_SCALAR)
            return ydoc_errorf(d, v, "'regex' must be a string");
        regex_t re;
        int rc = regcomp(&re, v->str, REG_EXTENDED | REG_NOSUB);
        if (rc) {
            char msg[128];
            regerror(rc, &re, msg, sizeof msg);
            return ydoc_errorf(d, v, "invalid regex: %s", msg);
        }
        regfree(&re);
        x->regex = xstrdup(v->str);
    }
    if ((v = ydoc_map_get(n, "json"))) {
        if (v->kind != YDOC_MAP)
            return ydoc_errorf(d, v, "'json' must map paths (a.b[0].c) to expected values");
        x->json = ydoc_to_json(v);
    }
    if ((v = ydoc_map_get(n, "is_error"))) {
        if (ydoc_scalar_type(v) != YDOC_T_BOOL)
            return ydoc_errorf(d, v, "'is_error' must be true or false");
        x->is_error = v->str[0] == 't' || v->str[0] == 'T';
    }
    if ((v = ydoc_map_get(n, "max_duration")) &&
        (err = get_duration(d, v, "max_duration", &x->max_duration_ms)))
        return err;
    return NULL;
}

static char *parse_task(struct ydoc *d, const struct ydoc_node *n, const struct defaults *df,
                        size_t index, struct btask *t)
{
    t->node = n;
    t->line = n->line;
    t->col = n->col;
    t->priority = df->priority;
    t->timeout_ms = df->timeout_ms;
    t->attempts = df->attempts;
    t->expect.is_error = -1;
    if (n->kind != YDOC_MAP)
        return ydoc_errorf(d, n, "a task must be a mapping with 'tool' (or 'type' and "
                                 "'prompt'), got a %s", ydoc_kind_name(n->kind));
    char *err = ydoc_check_keys(d, n, "task", task_keys);
    if (err)
        return err;
    const struct ydoc_node *v;
    if ((v = ydoc_map_get(n, "id"))) {
        if ((err = get_string(d, v, "id", &t->id)))
            return err;
        t->has_id = 1;
    } else {
        t->id = xasprintf("#%zu", index + 1);
    }
    const struct ydoc_node *tool = ydoc_map_get(n, "tool");
    const struct ydoc_node *type = ydoc_map_get(n, "type");
    const struct ydoc_node *caps = ydoc_map_get(n, "caps");
    t->heavy = -1;
    if (!tool && !type)
        return ydoc_errorf(d, n, "task has no 'tool' (server.tool) and no 'type'");
    if (type) {
        int ok = 0;
        if (type->kind == YDOC_SCALAR)
            for (size_t i = 0; task_types[i]; i++)
                ok |= strcmp(type->str, task_types[i]) == 0;
        if (!ok)
            return ydoc_errorf(d, type, "'type' must be one of: generate, refactor, debug, "
                                        "review, document, test, deploy");
    }
    if (caps) {
        if (caps->kind != YDOC_SEQ || !caps->nitems)
            return ydoc_errorf(d, caps, "'caps' must be a list of capabilities");
        t->caps = xcalloc(caps->nitems, sizeof *t->caps);
        for (size_t i = 0; i < caps->nitems; i++) {
            const struct ydoc_node *c = caps->items[i];
            if (c->kind != YDOC_SCALAR || !registry_is_capability(c->str)) {
                size_t nc;
                const char *const *all = registry_capabilities(&nc);
                struct buf b;
                buf_init(&b);
                for (size_t k = 0; k < nc; k++)
                    buf_printf(&b, "%s%s", k ? ", " : "", all[k]);
                char *m = ydoc_errorf(d, c, "unknown capability '%s'; expected one of: %s",
                                      c->kind == YDOC_SCALAR ? c->str : "?", b.data);
                buf_fini(&b);
                return m;
            }
            t->caps[t->ncaps++] = xstrdup(c->str);
        }
    }
    if ((v = ydoc_map_get(n, "heavy"))) {
        if (v->kind != YDOC_SCALAR || ydoc_scalar_type(v) != YDOC_T_BOOL)
            return ydoc_errorf(d, v, "'heavy' must be true or false");
        t->heavy = strcmp(v->str, "true") == 0 || strcmp(v->str, "True") == 0 ||
                   strcmp(v->str, "TRUE") == 0;
    }
    if (tool && (type || caps)) {             /* a routed tool task */
        if (tool->kind != YDOC_SCALAR || !tool->str[0] || strchr(tool->str, '.'))
            return ydoc_errorf(d, tool, "a routed task names only the tool ('tool: echo'), "
                                        "the router picks the server; for a fixed server "
                                        "drop 'type' and 'caps'");
        if (ydoc_map_get(n, "prompt"))
            return ydoc_errorf(d, ydoc_map_get(n, "prompt"),
                               "'prompt' belongs to model tasks (type: without tool:)");
        t->routed = 1;
        t->route_type = type ? xstrdup(type->str) : NULL;
        t->tool = xstrdup(tool->str);
        t->tool_node = tool;
    } else if (caps || (ydoc_map_get(n, "heavy") && !type)) {
        return ydoc_errorf(d, caps ? caps : ydoc_map_get(n, "heavy"),
                           "'caps' and 'heavy' route a tool task: add 'tool: NAME'");
    } else if (type) {
        t->type = xstrdup(type->str);
        t->tool_node = type;
        if (!(v = ydoc_map_get(n, "prompt")))
            return ydoc_errorf(d, n, "a '%s' task needs a 'prompt'", t->type);
        if ((err = get_string(d, v, "prompt", &t->prompt)))
            return err;
        if ((v = ydoc_map_get(n, "model")) && (err = get_string(d, v, "model", &t->model)))
            return err;
    } else {
        if (tool->kind != YDOC_SCALAR)
            return ydoc_errorf(d, tool, "'tool' must be a string server.tool");
        t->tool_node = tool;
        const char *dot = strchr(tool->str, '.');
        if (dot && dot != tool->str && dot[1]) {
            t->server = xstrndup(tool->str, (size_t)(dot - tool->str));
            t->tool = xstrdup(dot + 1);
        } else if (!dot && tool->str[0] && df->server) {
            t->server = xstrdup(df->server);
            t->tool = xstrdup(tool->str);
        } else {
            return ydoc_errorf(d, tool, "'tool' must be server.tool (or set defaults.server, or "
                                        "route it with 'type' or 'caps'), got '%s'", tool->str);
        }
        if (ydoc_map_get(n, "prompt"))
            return ydoc_errorf(d, ydoc_map_get(n, "prompt"),
                               "'prompt' belongs to model tasks (type:), not tool calls");
    }
    if ((v = ydoc_map_get(n, "args"))) {
        if (v->kind != YDOC_MAP)
            return ydoc_errorf(d, v, "'args' must be a mapping (a JSON object), got a %s",
                               ydoc_kind_name(v->kind));
        t->args = ydoc_to_json(v);
    } else {
        t->args = cJSON_CreateObject();
    }
    if ((v = ydoc_map_get(n, "priority")) &&
        (err = get_int(d, v, "priority", -1000000, 1000000, &t->priority)))
        return err;
    if ((v = ydoc_map_get(n, "timeout"))) {
        int64_t ms;
        if ((err = get_duration(d, v, "timeout", &ms)))
            return err;
        t->timeout_ms = (int)ms;
    }
    if ((v = ydoc_map_get(n, "retries")) &&
        (err = get_int(d, v, "retries", 1, 100, &t->attempts)))
        return err;
    if ((v = ydoc_map_get(n, "delay")) && (err = get_duration(d, v, "delay", &t->delay_ms)))
        return err;
    if ((v = ydoc_map_get(n, "idempotency_key")) &&
        (err = get_string(d, v, "idempotency_key", &t->idempotency_key)))
        return err;
    if ((v = ydoc_map_get(n, "needs"))) {
        const struct ydoc_node *one = v->kind == YDOC_SCALAR ? v : NULL;
        if (!one && v->kind != YDOC_SEQ)
            return ydoc_errorf(d, v, "'needs' must be a task id or a list of task ids");
        size_t cnt = one ? 1 : v->nitems;
        t->needs = xcalloc(cnt ? cnt : 1, sizeof *t->needs);
        for (size_t i = 0; i < cnt; i++) {
            const struct ydoc_node *it = one ? one : v->items[i];
            if (it->kind != YDOC_SCALAR || !it->str[0])
                return ydoc_errorf(d, it, "'needs' entries must be task ids");
            t->needs[t->nneeds++] = xstrdup(it->str);
        }
    }
    if ((v = ydoc_map_get(n, "elicit"))) {
        if (v->kind != YDOC_MAP)
            return ydoc_errorf(d, v, "'elicit' must be a mapping of answers (field: value)");
        t->elicit = ydoc_to_json(v);
    }
    if ((v = ydoc_map_get(n, "expect"))) {
        t->has_expect = 1;
        if ((err = parse_expect(d, v, &t->expect)))
            return err;
    }
    return NULL;
}

static char *parse_defaults(struct ydoc *d, const struct ydoc_node *n, struct defaults *df)
{
    if (n->kind != YDOC_MAP)
        return ydoc_errorf(d, n, "'defaults' must be a mapping (timeout, retries, priority, "
                                 "server)");
    char *err = ydoc_check_keys(d, n, "defaults", default_keys);
    if (err)
        return err;
    const struct ydoc_node *v;
    if ((v = ydoc_map_get(n, "timeout"))) {
        int64_t ms;
        if ((err = get_duration(d, v, "timeout", &ms)))
            return err;
        df->timeout_ms = (int)ms;
    }
    if ((v = ydoc_map_get(n, "retries")) && (err = get_int(d, v, "retries", 1, 100,
                                                           &df->attempts)))
        return err;
    if ((v = ydoc_map_get(n, "priority")) &&
        (err = get_int(d, v, "priority", -1000000, 1000000, &df->priority)))
        return err;
    if ((v = ydoc_map_get(n, "server")) && (err = get_string(d, v, "server", &df->server)))
        return err;
    return NULL;
}

/* Ids are looked up by binary search: with a linear scan, a file of
 * thousands of tasks chained by needs took minutes to check and run. */
static int id_cmp(const void *a, const void *b)
{
    const struct bfile_id *x = a, *y = b;
    int c = strcmp(x->id, y->id);
    return c ? c : (x->at > y->at) - (x->at < y->at);
}

/* The first entry of ids whose id is not below id. */
static size_t id_lower(const struct bfile *f, const char *id)
{
    size_t lo = 0, hi = f->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (strcmp(f->ids[mid].id, id) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

struct btask *bfile_find(struct bfile *f, const char *id)
{
    size_t i = f->ids ? id_lower(f, id) : f->n;
    return i < f->n && strcmp(f->ids[i].id, id) == 0 ? &f->tasks[f->ids[i].at] : NULL;
}

/* Sort the ids; a named task whose id an earlier task has is an error. */
static char *index_ids(struct bfile *f)
{
    f->ids = xcalloc(f->n ? f->n : 1, sizeof *f->ids);
    for (size_t i = 0; i < f->n; i++)
        f->ids[i] = (struct bfile_id){f->tasks[i].id, i};
    qsort(f->ids, f->n, sizeof *f->ids, id_cmp);
    size_t dup = f->n, first = 0;
    for (size_t i = 1, g = 0; i < f->n; i++) {
        if (strcmp(f->ids[i].id, f->ids[g].id) != 0)
            g = i;                           /* g: the first of this id */
        else if (f->tasks[f->ids[i].at].has_id && f->ids[i].at < dup) {
            dup = f->ids[i].at;
            first = f->ids[g].at;
        }
    }
    if (dup == f->n)
        return NULL;
    return ydoc_errorf(f->doc, ydoc_map_get(f->tasks[dup].node, "id"),
                       "duplicate task id '%s' (first used at line %d)", f->tasks[dup].id,
                       f->tasks[first].node->line);
}

struct dfs_frame {
    size_t task, next;           /* next: the need to look at next */
};

/* Depth-first search for a cycle through needs from task start (0 white,
 * 1 grey, 2 black), with a stack of its own: a chain of needs can be as
 * long as the file. Finished tasks are appended to f->order. Returns a
 * task on a cycle, or NULL. */
static struct btask *cycle_from(struct bfile *f, size_t start, char *color,
                                struct dfs_frame *stack, size_t *norder)
{
    if (color[start])
        return NULL;
    size_t top = 0;
    stack[top++] = (struct dfs_frame){start, 0};
    color[start] = 1;
    while (top) {
        struct dfs_frame *fr = &stack[top - 1];
        const struct btask *t = &f->tasks[fr->task];
        if (fr->next == t->nneeds) {
            color[fr->task] = 2;
            f->order[(*norder)++] = fr->task;
            top--;
            continue;
        }
        size_t c = t->need_at[fr->next++];
        if (color[c] == 1)
            return &f->tasks[c];
        if (color[c] == 0) {
            color[c] = 1;
            stack[top++] = (struct dfs_frame){c, 0};
        }
    }
    return NULL;
}

static char *check_graph(struct bfile *f)
{
    for (size_t i = 0; i < f->n; i++) {
        struct btask *t = &f->tasks[i];
        const struct ydoc_node *nv = ydoc_map_get(t->node, "needs");
        t->need_at = xcalloc(t->nneeds ? t->nneeds : 1, sizeof *t->need_at);
        for (size_t k = 0; k < t->nneeds; k++) {
            if (strcmp(t->needs[k], t->id) == 0)
                return ydoc_errorf(f->doc, nv, "task '%s' needs itself", t->id);
            struct btask *n = bfile_find(f, t->needs[k]);
            if (!n)
                return ydoc_errorf(f->doc, nv, "task '%s' needs '%s', which is not a task id in "
                                               "this file", t->id, t->needs[k]);
            t->need_at[k] = (size_t)(n - f->tasks);
        }
    }
    char *color = xcalloc(f->n ? f->n : 1, 1);
    struct dfs_frame *stack = xcalloc(f->n ? f->n : 1, sizeof *stack);
    f->order = xcalloc(f->n ? f->n : 1, sizeof *f->order);
    size_t norder = 0;
    char *err = NULL;
    for (size_t i = 0; i < f->n && !err; i++) {
        struct btask *c = cycle_from(f, i, color, stack, &norder);
        if (c)
            err = ydoc_errorf(f->doc, ydoc_map_get(c->node, "needs"),
                              "the needs of task '%s' form a cycle", c->id);
    }
    free(stack);
    free(color);
    return err;
}

int bfile_load(const char *path, struct bfile *f, char **errmsg)
{
    memset(f, 0, sizeof *f);
    struct defaults df = {0, 0, 0, NULL};
    char *err = NULL;
    if (ydoc_load_file(path, &f->doc, errmsg) < 0)
        return -1;
    struct ydoc *d = f->doc;
    f->name = xstrdup(d->name);
    const struct ydoc_node *list = d->root;
    if (!list) {
        err = xasprintf("%s: the batch file is empty; expected a list of tasks", d->name);
        goto fail;
    }
    if (list->kind == YDOC_MAP) {
        static const char *const top[] = {"defaults", "tasks", NULL};
        if ((err = ydoc_check_keys(d, list, "the batch file", top)))
            goto fail;
        const struct ydoc_node *dn = ydoc_map_get(list, "defaults");
        if (dn && (err = parse_defaults(d, dn, &df)))
            goto fail;
        list = ydoc_map_get(list, "tasks");
        if (!list) {
            err = ydoc_errorf(d, d->root, "no 'tasks' list");
            goto fail;
        }
    }
    if (list->kind != YDOC_SEQ) {
        err = ydoc_errorf(d, list, "expected a list of tasks, got a %s", ydoc_kind_name(list->kind));
        goto fail;
    }
    if (list->nitems == 0) {
        err = ydoc_errorf(d, list, "the list of tasks is empty");
        goto fail;
    }
    f->tasks = xcalloc(list->nitems, sizeof *f->tasks);
    for (size_t i = 0; i < list->nitems; i++) {
        f->n++;
        if ((err = parse_task(d, list->items[i], &df, i, &f->tasks[i])))
            goto fail;
    }
    if ((err = index_ids(f)) || (err = check_graph(f)))
        goto fail;
    free(df.server);
    return 0;
fail:
    free(df.server);
    *errmsg = err;
    bfile_fini(f);
    return -1;
}

void bfile_fini(struct bfile *f)
{
    for (size_t i = 0; i < f->n; i++) {
        struct btask *t = &f->tasks[i];
        free(t->id);
        free(t->server);
        free(t->tool);
        free(t->type);
        free(t->route_type);
        free(t->idempotency_key);
        free(t->model);
        for (size_t k = 0; k < t->ncaps; k++)
            free(t->caps[k]);
        free(t->caps);
        free(t->prompt);
        cJSON_Delete(t->args);
        for (size_t k = 0; k < t->nneeds; k++)
            free(t->needs[k]);
        free(t->needs);
        free(t->need_at);
        cJSON_Delete(t->elicit);
        for (size_t k = 0; k < t->expect.ncontains; k++)
            free(t->expect.contains[k]);
        free(t->expect.contains);
        free(t->expect.regex);
        cJSON_Delete(t->expect.json);
        free(t->expect_failure);
    }
    free(f->tasks);
    free(f->ids);
    free(f->order);
    ydoc_free(f->doc);
    free(f->name);
    memset(f, 0, sizeof *f);
}

void bfile_drop_doc(struct bfile *f)
{
    for (size_t i = 0; i < f->n; i++)
        f->tasks[i].node = f->tasks[i].tool_node = NULL;
    ydoc_free(f->doc);
    f->doc = NULL;
}

/* === expectations === */

/* Follow "a.b[2].c" from root; NULL if absent. */
static const cJSON *json_path(const cJSON *root, const char *path)
{
    const cJSON *cur = root;
    const char *p = path;
    while (cur && *p) {
        if (*p == '.') {
            p++;
            continue;
        }
        if (*p == '[') {
            char *end;
            long i = strtol(p + 1, &end, 10);
            if (*end != ']' || !cJSON_IsArray(cur))
                return NULL;
            cur = cJSON_GetArrayItem(cur, (int)i);
            p = end + 1;
            continue;
        }
        size_t n = strcspn(p, ".[");
        char *key = xstrndup(p, n);
        cur = cJSON_IsObject(cur) ? cJSON_GetObjectItemCaseSensitive(cur, key) : NULL;
        free(key);
        p += n;
    }
    return cur;
}

static int json_equal(const cJSON *a, const cJSON *b)
{
    if (cJSON_IsNumber(a) && cJSON_IsNumber(b))
        return a->valuedouble == b->valuedouble;
    return cJSON_Compare(a, b, 1);
}

char *bexpect_check(const struct bexpect *x, int succeeded, int is_error, const char *text,
                    const cJSON *structured, int64_t duration_ms)
{
    if (x->has_status && x->status_ok != succeeded)
        return xasprintf("expected status %s, got %s", x->status_ok ? "succeeded" : "failed",
                         succeeded ? "succeeded" : "failed");
    if (x->is_error >= 0 && x->is_error != is_error)
        return xasprintf("expected is_error %s, got %s", x->is_error ? "true" : "false",
                         is_error ? "true" : "false");
    for (size_t i = 0; i < x->ncontains; i++)
        if (!strstr(text, x->contains[i]))
            return xasprintf("expected the result to contain \"%s\"; it was: %.300s%s",
                             x->contains[i], text, strlen(text) > 300 ? "…" : "");
    if (x->regex) {
        regex_t re;
        if (regcomp(&re, x->regex, REG_EXTENDED | REG_NOSUB) == 0) {
            int m = regexec(&re, text, 0, NULL, 0);
            regfree(&re);
            if (m != 0)
                return xasprintf("expected the result to match /%s/; it was: %.300s%s",
                                 x->regex, text, strlen(text) > 300 ? "…" : "");
        }
    }
    const cJSON *want;
    cJSON_ArrayForEach(want, x->json) {
        const cJSON *got = structured ? json_path(structured, want->string) : NULL;
        if (!got || !json_equal(got, want)) {
            char *w = cJSON_PrintUnformatted(want);
            char *g = got ? cJSON_PrintUnformatted(got) : NULL;
            char *m = xasprintf("expected %s = %s in structured content, got %s", want->string,
                                w, g ? g : structured ? "nothing at that path"
                                                      : "no structured content");
            cJSON_free(w);
            cJSON_free(g);
            return m;
        }
    }
    if (x->max_duration_ms && duration_ms > x->max_duration_ms)
        return xasprintf("expected to finish within %lld ms, took %lld ms",
                         (long long)x->max_duration_ms, (long long)duration_ms);
    return NULL;
}
