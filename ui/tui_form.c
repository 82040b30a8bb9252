/* tui_form.c — the new-task form in the TUI (form.c is the widget): its
 * hooks (arguments checked against the tool's inputSchema, the registry's
 * "server.tool" names), the templates of data/templates.yaml (Ctrl-O),
 * the session's submissions for recall (Up on an untouched form, Ctrl-P)
 * and submitting a tool call or a model task to the engine. tui.c hands
 * the form the keys while it is open. Loop thread only. */
#include "tui_int.h"
#include "embedded.h"
#include "engine.h"
#include "ydoc.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

/* === the form === */

/* The form's check hook: args against the tool's inputSchema when the
 * tool is known (an unknown one is the engine's to refuse at submit). */
static int form_check_args(void *payload, const char *target, const cJSON *args, char **err)
{
    struct tui *t = payload;
    const char *dot = strchr(target, '.');
    char *server = xstrndup(target, (size_t)(dot - target));
    const char *tool = dot + 1;
    int rc = 0;
    size_t n = engine_server_tools(t->e, server, NULL, 0);
    struct engine_tool_info *v = n ? xcalloc(n, sizeof *v) : NULL;
    n = engine_server_tools(t->e, server, v, n);
    for (size_t i = 0; i < n; i++) {
        if (strcmp(v[i].name, tool) != 0)
            continue;
        char *why = NULL;
        if (engine_check_args(t->e, server, tool, args, &why) < 0) {
            /* the part after "... do not match its input schema: " */
            const char *at = why ? strstr(why, "input schema: ") : NULL;
            *err = at ? xstrdup(at + strlen("input schema: ")) : why;
            if (at)
                free(why);
            rc = -1;
        }
        break;
    }
    free(v);
    free(server);
    return rc;
}

/* The form's targets hook: every "server.tool" of the registry. */
static size_t form_targets(void *payload, char ***out)
{
    struct tui *t = payload;
    size_t ns = engine_servers(t->e, NULL, 0);
    struct engine_server_info *sv = ns ? xcalloc(ns, sizeof *sv) : NULL;
    ns = engine_servers(t->e, sv, ns);
    char **v = NULL;
    size_t n = 0, cap = 0;
    for (size_t i = 0; i < ns; i++) {
        size_t nt = engine_server_tools(t->e, sv[i].name, NULL, 0);
        struct engine_tool_info *tv = nt ? xcalloc(nt, sizeof *tv) : NULL;
        nt = engine_server_tools(t->e, sv[i].name, tv, nt);
        for (size_t k = 0; k < nt; k++) {
            if (n == cap) {
                cap = cap * 2 + 16;
                v = xrealloc(v, cap * sizeof *v);
            }
            v[n++] = xasprintf("%s.%s", sv[i].name, tv[k].name);
        }
        free(tv);
    }
    free(sv);
    *out = v;
    return n;
}

/* === templates (data/templates.yaml) === */

static void templates_load(struct tui *t)
{
    const struct embedded_file *f = embedded_find("data/templates.yaml");
    struct ydoc *d = NULL;
    char *err = NULL;
    if (!f || ydoc_load_string("data/templates.yaml", (const char *)f->data, f->len, &d,
                               &err) < 0) {
        free(err);
        return;
    }
    const struct ydoc_node *list = d->root ? ydoc_map_get(d->root, "templates") : NULL;
    for (size_t i = 0; list && list->kind == YDOC_SEQ && i < list->nitems; i++) {
        const struct ydoc_node *n = list->items[i], *v;
        if (n->kind != YDOC_MAP)
            continue;
        t->templates = xrealloc(t->templates, (t->ntemplates + 1) * sizeof *t->templates);
        struct form_template *tp = &t->templates[t->ntemplates++];
        memset(tp, 0, sizeof *tp);
        tp->name = xstrdup((v = ydoc_map_get(n, "name")) && v->str ? v->str : "?");
        if ((v = ydoc_map_get(n, "type")) && v->str)
            tp->type = xstrdup(v->str);
        if ((v = ydoc_map_get(n, "tool")) && v->str)
            tp->tool = xstrdup(v->str);
        if ((v = ydoc_map_get(n, "prompt")) && v->str)
            tp->prompt = xstrdup(v->str);
        if ((v = ydoc_map_get(n, "args"))) {
            cJSON *j = ydoc_to_json(v);
            char *txt = cJSON_PrintUnformatted(j);
            tp->args = xstrdup(txt);
            cJSON_free(txt);
            cJSON_Delete(j);
        }
    }
    ydoc_free(d);
}

static void templates_free(struct tui *t)
{
    for (size_t i = 0; i < t->ntemplates; i++) {
        free(t->templates[i].name);
        free(t->templates[i].type);
        free(t->templates[i].tool);
        free(t->templates[i].args);
        free(t->templates[i].prompt);
    }
    free(t->templates);
    t->templates = NULL;
    t->ntemplates = 0;
}

/* Ctrl-O: the next template in the form. */
void tui_form_template(struct tui *t)
{
    if (!t->templates)
        templates_load(t);
    if (!t->ntemplates) {
        tui_message(t, 1, "no templates (data/templates.yaml)");
        return;
    }
    size_t i = t->template_next++ % t->ntemplates;
    const struct form_template *tp = &t->templates[i];
    struct form_saved sv;
    memset(&sv, 0, sizeof sv);
    sv.kind = 0;
    sv.text[FORM_TOOL] = tp->tool ? xstrdup(tp->tool) : NULL;
    sv.text[FORM_ARGS] = tp->args ? xstrdup(tp->args) : NULL;
    sv.text[FORM_PROMPT] = tp->prompt ? xstrdup(tp->prompt) : NULL;
    form_restore(t->form, &sv);
    form_saved_fini(&sv);
    if (tp->type)
        form_set_kind(t->form, tp->type);
    tui_form_kind_changed(t);
    tui_message(t, 0, "template %zu/%zu: %s (Ctrl-O: next)", i + 1, t->ntemplates, tp->name);
}

/* Keep the form's texts as the newest submission of the session. */
static void form_remember(struct tui *t)
{
    int slot;
    if (t->form_hist_n < FORM_HIST) {
        slot = (t->form_hist_head + t->form_hist_n++) % FORM_HIST;
    } else {                           /* full: the oldest goes */
        slot = t->form_hist_head;
        form_saved_fini(&t->form_hist[slot]);
        t->form_hist_head = (t->form_hist_head + 1) % FORM_HIST;
    }
    form_save(t->form, &t->form_hist[slot]);
}

/* Up on an untouched form or Ctrl-P: the submission before the one
 * shown. 0 when there is none (Up then moves up a row, as in a form with
 * nothing to recall), 1 when the form shows it. */
int tui_form_recall(struct tui *t, int key)
{
    if (t->form_hist_pos >= t->form_hist_n) {
        if (key == UK_UP)
            form_key(t->form, UK_BTAB);
        else
            tui_message(t, 0, t->form_hist_n ? "no older submission" : "nothing submitted yet");
        return 0;
    }
    t->form_hist_pos++;
    int slot = (t->form_hist_head + t->form_hist_n - t->form_hist_pos) % FORM_HIST;
    form_restore(t->form, &t->form_hist[slot]);
    /* a model task says at once when no model is set (as a kind change does) */
    const char *missing = form_task_type(t->form) ? engine_llm_missing(t->e) : NULL;
    form_set_error(t->form, missing ? xstrdup(missing) : NULL);
    return 1;
}

void tui_form_hist_fini(struct tui *t)
{
    for (int i = 0; i < FORM_HIST; i++)
        form_saved_fini(&t->form_hist[i]);
    t->form_hist_n = t->form_hist_head = 0;
    templates_free(t);
}

void tui_form_open(struct tui *t)
{
    if (t->form || t->too_small)
        return;
    t->form = form_new();
    t->form_hist_pos = 0;
    struct form_hooks h = {.payload = t, .check = form_check_args, .targets = form_targets};
    form_set_hooks(t->form, &h);
    form_layout(t->form, t->rows, t->cols);
    t->form_dirty = 1;
    curs_set(1);
}

void tui_form_close(struct tui *t)
{
    form_free(t->form);
    t->form = NULL;
    curs_set(0);
    tui_dirty_all(t);                  /* repaint what was under it */
}

/* The form's model task: type, prompt, optional model. */
static int submit_model(struct tui *t, const char *type, int64_t *id, char **err)
{
    const char *missing = engine_llm_missing(t->e);
    if (missing) {
        *err = xstrdup(missing);
        return -1;
    }
    char *prompt = form_text(t->form, FORM_PROMPT), *model = form_text(t->form, FORM_MODEL);
    int rc = -1;
    const char *m = model;
    while (*m == ' ')
        m++;
    size_t mn = strlen(m);
    while (mn && m[mn - 1] == ' ')
        mn--;
    if (!prompt[strspn(prompt, " \n")]) {
        *err = xasprintf("a '%s' task needs a prompt", type);
    } else {
        cJSON *a = cJSON_CreateObject();
        cJSON_AddStringToObject(a, "prompt", prompt);
        if (mn) {
            char *mm = xstrndup(m, mn);
            cJSON_AddStringToObject(a, "model", mm);
            free(mm);
        }
        char *args = cJSON_PrintUnformatted(a);
        cJSON_Delete(a);
        struct jobq_spec spec = {.tool = type, .args_json = args, .kind = "model"};
        if (form_priority(t->form, &spec.priority) < 0 ||
            form_timeout_ms(t->form, &spec.timeout_ms) < 0)
            *err = xstrdup("fix the priority or timeout first");
        else
            rc = engine_submit(t->e, &spec, id, err);
        cJSON_free(args);
    }
    free(prompt);
    free(model);
    return rc;
}

/* The form's tool call: "server.tool", JSON args, priority, timeout. */
static int submit_tool(struct tui *t, const char *target, const char *args_text, int64_t *id,
                       char **err)
{
    const char *dot = strchr(target, '.');
    if (!dot || dot == target || !dot[1]) {
        *err = xasprintf("expected server.tool, got '%s'", target);
        return -1;
    }
    const char *args = *args_text ? args_text : "{}";
    cJSON *parsed = cJSON_ParseWithOpts(args, NULL, 1);
    int ok = cJSON_IsObject(parsed);
    cJSON_Delete(parsed);
    if (!ok) {
        *err = xasprintf("arguments must be a JSON object, got: %s", args);
        return -1;
    }
    struct jobq_spec spec = {0};
    if (form_priority(t->form, &spec.priority) < 0 ||
        form_timeout_ms(t->form, &spec.timeout_ms) < 0) {
        *err = xstrdup("fix the priority or timeout first");
        return -1;
    }
    char *server = xstrndup(target, (size_t)(dot - target));
    spec.server = server;
    spec.tool = dot + 1;
    spec.args_json = args;
    int rc = engine_submit(t->e, &spec, id, err);
    free(server);
    return rc;
}

void tui_form_submit(struct tui *t)
{
    const char *type = form_task_type(t->form);
    int64_t id = 0;
    char *err = NULL;
    if (type) {
        if (submit_model(t, type, &id, &err) < 0) {
            form_set_error(t->form, err ? err : xstrdup("the task was not accepted"));
            return;
        }
        form_remember(t);
        tui_form_close(t);
        tui_select_job(t, id);
        tui_focus(t, PANE_RESULTS);    /* the answer streams there */
        tui_message(t, 0, "queued job %lld: %s (model task)", (long long)id, type);
        return;
    }
    char *target = form_text(t->form, FORM_TOOL), *args = form_text(t->form, FORM_ARGS);
    /* surrounding blanks in the tool name are a typing accident */
    char *s = target;
    while (*s == ' ')
        s++;
    size_t n = strlen(s);
    while (n && s[n - 1] == ' ')
        s[--n] = 0;
    if (submit_tool(t, s, args, &id, &err) < 0) {
        form_set_error(t->form, err ? err : xstrdup("the task was not accepted"));
    } else {
        form_remember(t);
        tui_form_close(t);
        tui_select_job(t, id);
        tui_message(t, 0, "queued job %lld: %s", (long long)id, s);
    }
    free(target);
    free(args);
}

/* The kind changed: a model task type says at once when no model is set. */
void tui_form_kind_changed(struct tui *t)
{
    const char *missing = form_task_type(t->form) ? engine_llm_missing(t->e) : NULL;
    form_set_error(t->form, missing ? xstrdup(missing) : NULL);
}
