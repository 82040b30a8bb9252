/* batch.c — `mcpdeck --batch FILE` (see batch.h).
 *
 * The file is a YAML (or JSON) list of tasks, or a map with `tasks:`:
 *     - id: hello                 # optional, unique
 *       tool: everything.echo     # server.tool
 *       args: {message: hi}       # optional JSON object
 *       priority: 5               # optional
 *       timeout: 30s              # optional
 *       retries: 2                # optional, attempts
 * Everything is validated before anything runs; errors name
 * file:line:column and exit 2. */
#include "batch.h"
#include "engine.h"
#include "loop.h"
#include "util.h"
#include "ydoc.h"

#include <cjson/cJSON.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct btask {
    const struct ydoc_node *node;
    const struct ydoc_node *tool_node;
    char *id;
    char *server;
    char *tool;
    char *args_json;
    int priority;
    int timeout_ms;
    int attempts;
    cJSON *elicit;              /* answers for server elicitation, or NULL */
    int progress_events;        /* notifications/progress seen */
    double progress, total;
    int64_t job_id;
    int done;
};

struct bstate {
    struct engine *e;
    struct btask *tasks;
    size_t n;
    size_t ndone;
    int interrupted;
    int tty;
};

static const char *const task_keys[] = {"id", "tool", "args", "priority", "timeout", "retries",
                                        "elicit"};

static char *check_task(struct ydoc *d, const struct ydoc_node *n, struct btask *t)
{
    if (n->kind != YDOC_MAP)
        return ydoc_errorf(d, n, "a task must be a mapping with 'tool' and 'args', got a %s",
                           ydoc_kind_name(n->kind));
    t->node = n;
    for (size_t i = 0; i < n->npairs; i++) {
        const char *k = n->pairs[i].key->str;
        int known = 0;
        for (size_t j = 0; j < ARRAY_LEN(task_keys); j++)
            known |= strcmp(k, task_keys[j]) == 0;
        if (!known)
            return ydoc_errorf(d, n->pairs[i].key,
                               "unknown key '%s' in task; expected one of: id, tool, args, "
                               "priority, timeout, retries, elicit", k);
    }
    const struct ydoc_node *v = ydoc_map_get(n, "tool");
    if (!v)
        return ydoc_errorf(d, n, "task has no 'tool' (expected server.tool)");
    if (v->kind != YDOC_SCALAR)
        return ydoc_errorf(d, v, "'tool' must be a string server.tool");
    const char *dot = strchr(v->str, '.');
    if (!dot || dot == v->str || !dot[1])
        return ydoc_errorf(d, v, "'tool' must be server.tool, got '%s'", v->str);
    t->tool_node = v;
    t->server = xstrndup(v->str, (size_t)(dot - v->str));
    t->tool = xstrdup(dot + 1);
    if ((v = ydoc_map_get(n, "id"))) {
        if (v->kind != YDOC_SCALAR || !*v->str)
            return ydoc_errorf(d, v, "'id' must be a non-empty string");
        t->id = xstrdup(v->str);
    }
    if ((v = ydoc_map_get(n, "args"))) {
        if (v->kind != YDOC_MAP)
            return ydoc_errorf(d, v, "'args' must be a mapping (a JSON object), got a %s",
                               ydoc_kind_name(v->kind));
        cJSON *j = ydoc_to_json(v);
        char *txt = cJSON_PrintUnformatted(j);
        t->args_json = xstrdup(txt);
        cJSON_free(txt);
        cJSON_Delete(j);
    } else {
        t->args_json = xstrdup("{}");
    }
    if ((v = ydoc_map_get(n, "elicit"))) {
        if (v->kind != YDOC_MAP)
            return ydoc_errorf(d, v, "'elicit' must be a mapping of answers (field: value)");
        t->elicit = ydoc_to_json(v);
    }
    if ((v = ydoc_map_get(n, "priority"))) {
        if (ydoc_scalar_type(v) != YDOC_T_INT)
            return ydoc_errorf(d, v, "'priority' must be an integer");
        t->priority = atoi(v->str);
    }
    if ((v = ydoc_map_get(n, "timeout"))) {
        int64_t ms;
        if (v->kind != YDOC_SCALAR || util_parse_duration_ms(v->str, &ms) < 0 || ms <= 0 ||
            ms > 86400000)
            return ydoc_errorf(d, v, "'timeout' must be a duration like 30s, 5m or 1500ms");
        t->timeout_ms = (int)ms;
    }
    if ((v = ydoc_map_get(n, "retries"))) {
        if (ydoc_scalar_type(v) != YDOC_T_INT || atoi(v->str) < 1 || atoi(v->str) > 100)
            return ydoc_errorf(d, v, "'retries' must be the number of attempts, 1 to 100");
        t->attempts = atoi(v->str);
    }
    return NULL;
}

static char *parse_batch(struct ydoc *d, struct bstate *b)
{
    const struct ydoc_node *list = d->root;
    if (!list)
        return xasprintf("%s: the batch file is empty; expected a list of tasks", d->name);
    if (list->kind == YDOC_MAP) {
        for (size_t i = 0; i < list->npairs; i++)
            if (strcmp(list->pairs[i].key->str, "tasks") != 0)
                return ydoc_errorf(d, list->pairs[i].key,
                                   "unknown key '%s'; expected 'tasks'", list->pairs[i].key->str);
        list = ydoc_map_get(list, "tasks");
        if (!list)
            return ydoc_errorf(d, d->root, "no 'tasks' list");
    }
    if (list->kind != YDOC_SEQ)
        return ydoc_errorf(d, list, "expected a list of tasks, got a %s",
                           ydoc_kind_name(list->kind));
    if (list->nitems == 0)
        return ydoc_errorf(d, list, "the list of tasks is empty");
    b->tasks = xcalloc(list->nitems, sizeof *b->tasks);
    b->n = list->nitems;
    for (size_t i = 0; i < list->nitems; i++) {
        char *err = check_task(d, list->items[i], &b->tasks[i]);
        if (err)
            return err;
        for (size_t j = 0; j < i && b->tasks[i].id; j++)
            if (b->tasks[j].id && strcmp(b->tasks[j].id, b->tasks[i].id) == 0)
                return ydoc_errorf(d, ydoc_map_get(list->items[i], "id"),
                                   "duplicate task id '%s' (first used at line %d)",
                                   b->tasks[i].id, ydoc_map_get(list->items[j], "id")->line);
    }
    return NULL;
}

static struct btask *task_by_job(struct bstate *b, int64_t id)
{
    for (size_t i = 0; i < b->n; i++)
        if (b->tasks[i].job_id == id)
            return &b->tasks[i];
    return NULL;
}

static const char *task_name(const struct btask *t, char *buf, size_t len)
{
    if (t->id)
        return t->id;
    snprintf(buf, len, "%s.%s", t->server, t->tool);
    return buf;
}

static void on_event(void *payload, const struct engine_event *ev)
{
    struct bstate *b = payload;
    if (ev->kind != ENGINE_EV_JOB_DONE && ev->kind != ENGINE_EV_JOB_RETRY &&
        ev->kind != ENGINE_EV_JOB_PROGRESS)
        return;
    struct btask *t = task_by_job(b, ev->job_id);
    if (!t || t->done)
        return;
    if (ev->kind == ENGINE_EV_JOB_PROGRESS) {
        t->progress_events++;
        t->progress = ev->progress;
        t->total = ev->total;
        return;
    }
    char nb[256];
    if (ev->kind == ENGINE_EV_JOB_RETRY) {
        fprintf(stderr, "  retry  %s: %s\n", task_name(t, nb, sizeof nb), ev->text);
        return;
    }
    t->done = 1;
    b->ndone++;
}

/* A server asks for input while running a task: answer from the task's
 * elicit: answers (the schema's defaults fill the rest), else decline.
 * The task is the one running on that server, or, when several run, the
 * one of them that has elicit: answers. */
static void on_elicit(void *payload, struct engine_elicit *req, const char *server,
                      const int64_t *jobs, size_t njobs, const char *message,
                      const cJSON *schema)
{
    struct bstate *b = payload;
    struct btask *t = njobs == 1 ? task_by_job(b, jobs[0]) : NULL;
    for (size_t i = 0; !t && i < njobs; i++) {
        struct btask *c = task_by_job(b, jobs[i]);
        if (c && c->elicit) {
            if (t && t->elicit) {   /* two candidates: we cannot tell which */
                t = NULL;
                break;
            }
            t = c;
        }
    }
    char nb[256];
    if (t && t->elicit) {
        fprintf(stderr, "  elicit %s: answered from the batch file (%s)\n",
                task_name(t, nb, sizeof nb), message);
        engine_elicit_answer(b->e, req, "accept", cJSON_Duplicate(t->elicit, 1));
    } else {
        fprintf(stderr, "  elicit %s: declined, no elicit: answers (%s)\n",
                t ? task_name(t, nb, sizeof nb) : server, message);
        engine_elicit_answer(b->e, req, "decline", NULL);
    }
}

static void on_sigint(struct loop *l, int signo, void *payload)
{
    struct bstate *b = payload;
    b->interrupted = 1;
}

static void json_escape_into(cJSON *o, const char *k, const char *v)
{
    if (v)
        cJSON_AddStringToObject(o, k, v);
    else
        cJSON_AddNullToObject(o, k);
}

static int report(struct bstate *b, const char *format, int64_t started_ms)
{
    int failed = 0, succeeded = 0, other = 0;
    cJSON *doc = cJSON_CreateObject();
    cJSON *arr = cJSON_AddArrayToObject(doc, "tasks");
    for (size_t i = 0; i < b->n; i++) {
        struct btask *t = &b->tasks[i];
        struct job j;
        memset(&j, 0, sizeof j);
        int have = t->job_id > 0 && engine_job(b->e, t->job_id, &j) == 0;
        enum job_status st = have ? j.status : JOB_QUEUED;
        if (st == JOB_SUCCEEDED)
            succeeded++;
        else if (st == JOB_FAILED)
            failed++;
        else
            other++;
        char nb[256];
        int64_t dur = have && j.finished_ms && j.started_ms ? j.finished_ms - j.started_ms : 0;
        const char *mark = st == JOB_SUCCEEDED ? "ok  " : st == JOB_FAILED ? "FAIL" : "----";
        fprintf(stderr, "  %s %-24s %-12s %6lldms  attempts %d%s%s\n", mark,
                task_name(t, nb, sizeof nb), job_status_name(st), (long long)dur,
                have ? j.attempts : 0, have && j.error && st != JOB_SUCCEEDED ? "  " : "",
                have && j.error && st != JOB_SUCCEEDED ? j.error : "");
        cJSON *o = cJSON_CreateObject();
        json_escape_into(o, "id", t->id);
        char *tool = xasprintf("%s.%s", t->server, t->tool);
        cJSON_AddStringToObject(o, "tool", tool);
        free(tool);
        cJSON_AddNumberToObject(o, "job", (double)t->job_id);
        cJSON_AddStringToObject(o, "status", job_status_name(st));
        cJSON_AddNumberToObject(o, "attempts", have ? j.attempts : 0);
        cJSON_AddNumberToObject(o, "duration_ms", (double)dur);
        if (t->progress_events) {
            cJSON *pr = cJSON_AddObjectToObject(o, "progress");
            cJSON_AddNumberToObject(pr, "events", t->progress_events);
            cJSON_AddNumberToObject(pr, "last", t->progress);
            if (t->total >= 0)
                cJSON_AddNumberToObject(pr, "total", t->total);
        }
        cJSON_AddBoolToObject(o, "is_error", have && j.result_is_error);
        if (have && j.has_result) {
            char *text = engine_result_text(&j);
            cJSON_AddStringToObject(o, "result", text);
            free(text);
            cJSON *sc = engine_result_structured(&j);
            if (sc)
                cJSON_AddItemToObject(o, "structured", sc);
        } else {
            cJSON_AddNullToObject(o, "result");
        }
        json_escape_into(o, "error", have && st != JOB_SUCCEEDED ? j.error : NULL);
        cJSON_AddItemToArray(arr, o);
        if (have)
            job_fini(&j);
    }
    int64_t wall = util_now_ms() - started_ms;
    fprintf(stderr, "%zu tasks: %d succeeded, %d failed%s%s in %.2fs\n", b->n, succeeded, failed,
            other ? ", " : "", other ? "others not finished" : "", (double)wall / 1000.0);
    cJSON *sum = cJSON_AddObjectToObject(doc, "summary");
    cJSON_AddNumberToObject(sum, "total", (double)b->n);
    cJSON_AddNumberToObject(sum, "succeeded", succeeded);
    cJSON_AddNumberToObject(sum, "failed", failed);
    cJSON_AddNumberToObject(sum, "unfinished", other);
    cJSON_AddNumberToObject(sum, "duration_ms", (double)wall);
    if (format && strcmp(format, "json") == 0) {
        char *txt = cJSON_Print(doc);
        printf("%s\n", txt);
        cJSON_free(txt);
    }
    cJSON_Delete(doc);
    fflush(stdout);
    return failed || other ? 1 : 0;
}

static void free_tasks(struct bstate *b)
{
    for (size_t i = 0; i < b->n; i++) {
        free(b->tasks[i].id);
        free(b->tasks[i].server);
        free(b->tasks[i].tool);
        free(b->tasks[i].args_json);
        cJSON_Delete(b->tasks[i].elicit);
    }
    free(b->tasks);
}

int batch_run(const struct batch_opts *o)
{
    int64_t started = util_now_ms();
    struct bstate b;
    memset(&b, 0, sizeof b);
    struct ydoc *d = NULL;
    char *err = NULL;
    int rc = 2;
    if (o->format && strcmp(o->format, "json") != 0 && strcmp(o->format, "text") != 0) {
        fprintf(stderr, "mcpdeck: unknown --format '%s' (expected text or json)\n", o->format);
        return 2;
    }
    if (ydoc_load_file(o->file, &d, &err) < 0 || (err = parse_batch(d, &b))) {
        fprintf(stderr, "mcpdeck: %s\n", err);
        goto out;
    }
    struct engine_opts eo = {o->config_path, o->data_dir, o->concurrency, NULL};
    if (engine_new(&eo, &b.e, &err) < 0) {
        fprintf(stderr, "mcpdeck: %s\n", err);
        goto out;
    }
    /* Every server named must exist; start those that are used. */
    struct engine_server_info info[256];
    size_t ns = engine_servers(b.e, info, ARRAY_LEN(info));
    for (size_t i = 0; i < b.n; i++) {
        int found = 0;
        for (size_t k = 0; k < ns && k < ARRAY_LEN(info); k++)
            found |= strcmp(info[k].name, b.tasks[i].server) == 0;
        if (!found) {
            struct buf names;
            buf_init(&names);
            for (size_t k = 0; k < ns && k < ARRAY_LEN(info); k++)
                buf_printf(&names, "%s%s", k ? ", " : "", info[k].name);
            err = ydoc_errorf(d, b.tasks[i].tool_node, "unknown server '%s' (configured: %s)",
                              b.tasks[i].server, names.data ? names.data : "none");
            buf_fini(&names);
            fprintf(stderr, "mcpdeck: %s\n", err);
            goto out;
        }
        char *serr = NULL;
        if (engine_start_server(b.e, b.tasks[i].server, &serr) < 0) {
            fprintf(stderr, "mcpdeck: %s\n", serr);
            free(serr);
            rc = 3;
            goto out;
        }
    }
    engine_wait_servers(b.e, 60000);
    ns = engine_servers(b.e, info, ARRAY_LEN(info));
    for (size_t i = 0; i < b.n; i++)
        for (size_t k = 0; k < ns && k < ARRAY_LEN(info); k++) {
            if (strcmp(info[k].name, b.tasks[i].server) != 0)
                continue;
            if (info[k].state != SERVER_READY) {
                fprintf(stderr, "mcpdeck: server %s never became ready: %s\n", info[k].name,
                        info[k].last_error ? info[k].last_error : server_state_name(info[k].state));
                rc = 3;
                goto out;
            }
            if (!engine_wait_tool(b.e, info[k].name, b.tasks[i].tool, 1500)) {
                err = ydoc_errorf(d, b.tasks[i].tool_node, "server %s has no tool '%s'",
                                  info[k].name, b.tasks[i].tool);
                fprintf(stderr, "mcpdeck: %s\n", err);
                goto out;
            }
        }
    /* Submit everything (each job is on disk before any runs), then run. */
    engine_subscribe(b.e, on_event, &b);
    engine_set_elicit_handler(b.e, on_elicit, &b);
    for (size_t i = 0; i < b.n; i++) {
        struct btask *t = &b.tasks[i];
        struct jobq_spec spec = {t->id, o->file, t->server, t->tool, t->args_json,
                                 t->priority, t->timeout_ms, t->attempts};
        if (engine_submit(b.e, &spec, &t->job_id, &err) < 0) {
            char *where = ydoc_errorf(d, t->node, "%s", err);
            fprintf(stderr, "mcpdeck: %s\n", where);
            free(where);
            goto out;
        }
    }
    loop_signal(engine_loop(b.e), SIGINT, on_sigint, &b);
    loop_signal(engine_loop(b.e), SIGTERM, on_sigint, &b);
    engine_set_scheduling(b.e, 1);
    while (b.ndone < b.n && !b.interrupted)
        loop_run_once(engine_loop(b.e), 1000);
    if (b.interrupted) {
        for (size_t i = 0; i < b.n; i++) {
            char *cerr = NULL;
            if (!b.tasks[i].done && engine_cancel(b.e, b.tasks[i].job_id, &cerr) < 0)
                free(cerr);
        }
        fprintf(stderr, "mcpdeck: interrupted; unfinished tasks cancelled\n");
    }
    rc = report(&b, o->format, started);
    if (b.interrupted)
        rc = 130;
out:
    free(err);
    engine_free(b.e);
    free_tasks(&b);
    ydoc_free(d);
    return rc;
}
