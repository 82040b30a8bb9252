/* cli_registry.c — `mcpdeck servers add|remove|enable|disable|restart`:
 * registry changes that outlive the command (engine_admin.c keeps them in
 * the store; the TUI and the next runs see them). */
#include "cli.h"
#include "engine.h"
#include "loop.h"
#include "util.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char admin_usage[] =
    "usage: mcpdeck servers add NAME -- COMMAND [ARGS...]   a stdio server\n"
    "       mcpdeck servers add NAME URL                   a Streamable HTTP server\n"
    "       mcpdeck servers add NAME --spec '{...}'        any definition (config keys)\n"
    "       mcpdeck servers remove NAME                    one added with `servers add`\n"
    "       mcpdeck servers enable|disable NAME\n"
    "       mcpdeck servers restart NAME                   stop, start, wait until ready\n";

/* The definition `servers add` was given, as JSON text (malloc'd). */
static char *add_spec(int argc, char **argv, char **errmsg)
{
    if (argc >= 2 && strcmp(argv[0], "--spec") == 0 && argc == 2)
        return xstrdup(argv[1]);
    cJSON *spec = cJSON_CreateObject();
    if (argc >= 2 && strcmp(argv[0], "--") == 0) {
        cJSON_AddStringToObject(spec, "command", argv[1]);
        cJSON *args = cJSON_AddArrayToObject(spec, "args");
        for (int i = 2; i < argc; i++)
            cJSON_AddItemToArray(args, cJSON_CreateString(argv[i]));
    } else if (argc == 1 && (strncmp(argv[0], "http://", 7) == 0 ||
                             strncmp(argv[0], "https://", 8) == 0)) {
        cJSON_AddStringToObject(spec, "url", argv[0]);
    } else {
        cJSON_Delete(spec);
        *errmsg = xstrdup("give the server as `-- COMMAND [ARGS...]`, a URL, or --spec '{...}'");
        return NULL;
    }
    char *t = cJSON_PrintUnformatted(spec);
    cJSON_Delete(spec);
    char *out = xstrdup(t);
    cJSON_free(t);
    return out;
}

int cli_servers_admin(const struct cli_opts *o, int argc, char **argv)
{
    if (argc < 2) {
        fputs(admin_usage, stderr);
        return 2;
    }
    const char *verb = argv[0], *name = argv[1];
    char *err = NULL, *spec = NULL;
    int rc = 2;
    if (strcmp(verb, "add") == 0 && !(spec = add_spec(argc - 2, argv + 2, &err))) {
        fprintf(stderr, "mcpdeck: %s\n%s", err, admin_usage);
        free(err);
        return 2;
    }
    if (strcmp(verb, "add") != 0 && argc != 2) {
        fputs(admin_usage, stderr);
        return 2;
    }
    struct engine *e = NULL;
    struct engine_opts eo = {o->config_path, o->data_dir, 0, NULL};
    if (engine_new(&eo, &e, &err) < 0)
        goto out;
    engine_set_scheduling(e, 0);
    if (strcmp(verb, "add") == 0) {
        if (engine_server_add(e, name, spec, &err) == 0) {
            printf("added %s; it starts with mcpdeck from now on (`mcpdeck servers check` to "
                   "try it)\n", name);
            rc = 0;
        }
    } else if (strcmp(verb, "remove") == 0) {
        if (engine_server_remove(e, name, &err) == 0) {
            printf("removed %s\n", name);
            rc = 0;
        }
    } else if (strcmp(verb, "enable") == 0 || strcmp(verb, "disable") == 0) {
        int on = verb[0] == 'e';
        if (engine_server_enable(e, name, on, &err) == 0) {
            printf("%s %s\n", on ? "enabled" : "disabled", name);
            rc = 0;
        }
    } else if (strcmp(verb, "restart") == 0) {
        engine_catch_interrupts(e);
        if (engine_server_restart(e, name, &err) == 0) {
            engine_wait_servers(e, 60000);
            if ((rc = cli_interrupted(e)) != 0)
                goto out;
            struct engine_server_info info[256];
            size_t n = engine_servers(e, info, 256);
            rc = 3;
            for (size_t i = 0; i < n && i < 256; i++)
                if (strcmp(info[i].name, name) == 0) {
                    printf("%s %s%s%s\n", name, server_state_name(info[i].state),
                           info[i].last_error ? ": " : "",
                           info[i].last_error ? info[i].last_error : "");
                    rc = info[i].state == SERVER_READY ? 0 : 3;
                }
        } else {
            rc = strncmp(err, "unknown server", 14) == 0 ? 2 : 3;
        }
    } else {
        fputs(admin_usage, stderr);
    }
out:
    if (err)
        fprintf(stderr, "mcpdeck: %s\n", err);
    free(err);
    free(spec);
    engine_free(e);
    return rc;
}

/* === servers caps: what the router knows of each server === */

int cli_servers_caps(const struct cli_opts *o)
{
    int rc;
    struct engine *e = cli_open_all(o, &rc);   /* derived profiles need the tools */
    if (!e)
        return rc;
    struct engine_server_info info[256];
    size_t n = engine_servers(e, info, 256);
    cJSON *arr = o->json ? cJSON_CreateArray() : NULL;
    if (!o->json)
        printf("%-20s %-8s %-6s %-12s %s\n", "NAME", "SOURCE", "WEIGHT", "CATALOG",
               "CAPABILITIES / TASK TYPES");
    for (size_t i = 0; i < n && i < 256; i++) {
        const struct engine_server_info *s = &info[i];
        const char *w = s->light && s->heavy ? "both" : s->heavy ? "heavy" : s->light ? "light"
                                                                                      : "-";
        if (arr) {
            cJSON *j = cJSON_CreateObject();
            cJSON_AddStringToObject(j, "name", s->name);
            cJSON_AddStringToObject(j, "source", s->caps_source);
            cJSON_AddStringToObject(j, "weight", w);
            if (s->catalog_id)
                cJSON_AddStringToObject(j, "catalog", s->catalog_id);
            cJSON_AddItemToObject(j, "capabilities",
                                  cJSON_CreateStringArray(s->caps, (int)s->ncaps));
            cJSON_AddItemToObject(j, "task_types",
                                  cJSON_CreateStringArray(s->task_types, (int)s->ntask_types));
            cJSON_AddItemToArray(arr, j);
            continue;
        }
        printf("%-20s %-8s %-6s %-12s ", s->name, s->caps_source, w,
               s->catalog_id ? s->catalog_id : "-");
        for (size_t k = 0; k < s->ncaps; k++)
            printf("%s%s", k ? ", " : "", s->caps[k]);
        printf("%s\n%-49s ", s->ncaps ? "" : "(none)", "");
        for (size_t k = 0; k < s->ntask_types; k++)
            printf("%s%s", k ? ", " : "", s->task_types[k]);
        printf("%s\n", s->ntask_types ? "" : "(no task types)");
    }
    if (arr) {
        char *t = cJSON_Print(arr);
        printf("%s\n", t);
        cJSON_free(t);
        cJSON_Delete(arr);
    }
    engine_free(e);
    return 0;
}

/* === run: one routed task === */

static const char run_usage[] =
    "usage: mcpdeck run [--type TYPE] [--cap CAP]... [--heavy | --light] [--server NAME]\n"
    "                   [--tool TOOL [--args JSON]] [--model M] [--explain] [PROMPT...]\n"
    "  routes the task to the best server (capability, fit, health, preference);\n"
    "  --explain prints every candidate's score. With --tool it calls that tool on the\n"
    "  chosen server; without, a model answers the prompt using the routed servers'\n"
    "  tools, streaming its answer (needs providers: and models: in the config).\n";

struct run_wait {
    int64_t id;
    int done;
    int streamed;                /* answer text went to stdout as it came */
};

static void run_event(void *payload, const struct engine_event *ev)
{
    struct run_wait *w = payload;
    if (ev->kind == ENGINE_EV_JOB_DONE && ev->job_id == w->id)
        w->done = 1;
    if (ev->kind == ENGINE_EV_JOB_TOKENS && ev->job_id == w->id) {
        if (ev->text) {
            fputs(ev->text, stdout);
            w->streamed = 1;
        } else if (w->streamed) {
            fputs("\n[the model's answer restarts]\n", stdout);
        }
        fflush(stdout);
    }
}

int cli_run(const struct cli_opts *o, int argc, char **argv)
{
    struct engine_route_req req = {.heavy = -1};
    const char **caps = xcalloc((size_t)argc + 1, sizeof *caps);
    const char *args = "{}", *model = NULL;
    int explain = 0, rc = 2;
    struct buf prompt;
    buf_init(&prompt);
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        int more = i + 1 < argc;
        if (strcmp(a, "--type") == 0 && more)
            req.type = argv[++i];
        else if (strcmp(a, "--cap") == 0 && more)
            caps[req.ncaps++] = argv[++i];
        else if (strcmp(a, "--server") == 0 && more)
            req.server = argv[++i];
        else if (strcmp(a, "--tool") == 0 && more)
            req.tool = argv[++i];
        else if (strcmp(a, "--args") == 0 && more)
            args = argv[++i];
        else if (strcmp(a, "--model") == 0 && more)
            model = argv[++i];
        else if (strcmp(a, "--heavy") == 0)
            req.heavy = 1;
        else if (strcmp(a, "--light") == 0)
            req.heavy = 0;
        else if (strcmp(a, "--explain") == 0)
            explain = 1;
        else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "mcpdeck: run: unknown option %s\n%s", a, run_usage);
            goto out_args;
        } else
            buf_printf(&prompt, "%s%s", prompt.len ? " " : "", a);
    }
    req.caps = caps;
    if (!req.type && !req.ncaps && !req.server) {
        fprintf(stderr, "mcpdeck: run needs --type, --cap or --server\n%s", run_usage);
        goto out_args;
    }
    struct engine *e = NULL;
    char *err = NULL, *chosen = NULL, *table = NULL;
    struct engine_opts eo = {o->config_path, o->data_dir, 0, NULL};
    if (engine_new(&eo, &e, &err) < 0)
        goto out;
    engine_catch_interrupts(e);
    engine_start(e);
    engine_set_scheduling(e, 0);
    engine_check_servers(e, 10000);  /* route on what the servers are like now */
    if ((rc = cli_interrupted(e)) != 0)
        goto out;
    int routed = engine_route(e, &req, &chosen, explain ? &table : NULL, NULL, &err);
    if (table)
        fputs(table, stdout);
    if (routed < 0 && req.tool) {
        rc = 2;
        goto out;
    }
    if (routed < 0) {                /* a model task still runs, with fewer tools */
        if (explain)
            fprintf(stderr, "mcpdeck: %s\n", err);
        free(err);
        err = NULL;
    }
    if (!req.tool && explain && prompt.len) {
        char **tools = NULL;
        size_t nt = engine_route_tools(e, prompt.data, 8, &tools);
        printf("tools for the model (of every available server's, by relevance to the "
               "prompt):%s", nt ? "\n" : " none match\n");
        for (size_t i = 0; i < nt; i++) {
            printf("  %s\n", tools[i]);
            free(tools[i]);
        }
        free(tools);
    }
    char *route = NULL, *margs = NULL;
    struct jobq_spec spec = {.tool = req.tool, .args_json = args};
    if (!req.tool) {                 /* a model task: the prompt is its argument */
        if (!req.type || !prompt.len) {
            free(err);
            err = xstrdup("a model task needs --type and a prompt (or give --tool TOOL)");
            rc = 2;
            goto out;
        }
        cJSON *a = cJSON_CreateObject();
        cJSON_AddStringToObject(a, "prompt", prompt.data);
        if (model)
            cJSON_AddStringToObject(a, "model", model);
        char *t = cJSON_PrintUnformatted(a);
        margs = xstrdup(t);
        cJSON_free(t);
        cJSON_Delete(a);
        spec = (struct jobq_spec){.tool = req.type, .args_json = margs, .kind = "model"};
    } else {
        route = engine_route_request_json(&req);
        spec.route_json = route;
    }
    struct run_wait w = {0, 0, 0};
    engine_subscribe(e, run_event, &w);
    int sub = engine_submit(e, &spec, &w.id, &err);
    free(route);
    free(margs);
    if (sub < 0) {
        rc = 2;
        goto out;
    }
    engine_set_scheduling(e, 1);
    while (!w.done && !engine_interrupted(e))
        loop_run_once(engine_loop(e), 200);
    if ((rc = cli_interrupted(e)) != 0) {
        char *cerr = NULL;
        if (engine_cancel(e, w.id, &cerr) < 0)   /* not left queued for a later run */
            free(cerr);
        for (int i = 0; i < 5 && !w.done; i++)  /* the cancellation reaches the server */
            loop_run_once(engine_loop(e), 20);
        goto out;
    }
    struct job j;
    if (engine_job(e, w.id, &j) == 0) {
        char *text = engine_result_text(&j);
        if (j.status == JOB_SUCCEEDED) {
            if (w.streamed)          /* the answer is on stdout already */
                printf("\n");
            else
                printf("%s%s", text, *text && text[strlen(text) - 1] != '\n' ? "\n" : "");
            fprintf(stderr, "job %lld on %s: succeeded\n", (long long)w.id,
                    j.server ? j.server : "?");
            rc = 0;
        } else {
            if (*text)
                printf("%s\n", text);
            err = xasprintf("job %lld on %s: %s: %s", (long long)w.id, j.server ? j.server : "?",
                            job_status_name(j.status), j.error ? j.error : "");
            rc = 1;
        }
        free(text);
        job_fini(&j);
    }
out:
    if (err)
        fprintf(stderr, "mcpdeck: %s\n", err);
    free(err);
    free(chosen);
    free(table);
    engine_free(e);
out_args:
    free(caps);
    buf_fini(&prompt);
    return rc;
}
