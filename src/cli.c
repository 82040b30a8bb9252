/* cli.c — one-shot subcommands on the same engine as the TUI and batch.
 *   mcpdeck call SERVER TOOL [JSON]   prints the text content (or the whole
 *                                      result with --json); exit 1 when the
 *                                      tool result isError, 2 on bad input
 *   mcpdeck servers [list]             name, kind, state, tool count
 *   mcpdeck servers tools NAME         the server's tools and their schemas
 *   mcpdeck servers log NAME           the server's captured stderr
 *   mcpdeck conformance URL            client mode for the conformance suite */
#include "cli.h"
#include "config.h"
#include "engine.h"
#include "metrics.h"
#include "loop.h"
#include "mcp_client.h"
#include "util.h"

#include <cjson/cJSON.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* === engines for one-shot commands === */

int cli_interrupted(struct engine *e)
{
    if (!e || !engine_interrupted(e))
        return 0;
    fprintf(stderr, "mcpdeck: interrupted (%s); stopping the servers\n",
            engine_interrupted(e) == SIGINT ? "SIGINT" : "SIGTERM");
    return ENGINE_EXIT_INTERRUPTED;
}

/* (see cli.h) Interrupted while the servers started: they are stopped. */
struct engine *cli_open_all(const struct cli_opts *o, int *rc)
{
    struct engine *e = NULL;
    char *err = NULL;
    struct engine_opts eo = {o->config_path, o->data_dir, 0, NULL};
    *rc = 2;
    if (engine_new(&eo, &e, &err) < 0) {
        fprintf(stderr, "mcpdeck: %s\n", err);
        free(err);
        return NULL;
    }
    engine_catch_interrupts(e);
    engine_start(e);
    engine_set_scheduling(e, 0);
    engine_wait_servers(e, 60000);
    if ((*rc = cli_interrupted(e)) != 0) {
        engine_free(e);
        return NULL;
    }
    return e;
}

/* An engine with one server started and waited for; SIGINT and SIGTERM
 * are caught. On failure NULL, the error printed, *rc the exit code: 2
 * for a bad config or an unknown server, 3 for a server that cannot
 * start, ENGINE_EXIT_INTERRUPTED when interrupted while it started. */
static struct engine *open_one(const struct cli_opts *o, const char *server, int *rc)
{
    struct engine *e = NULL;
    char *err = NULL;
    struct engine_opts eo = {o->config_path, o->data_dir, 0, NULL};
    *rc = 2;
    if (engine_new(&eo, &e, &err) == 0) {
        engine_catch_interrupts(e);
        if (engine_start_server(e, server, &err) == 0) {
            engine_wait_servers(e, 60000);
            if ((*rc = cli_interrupted(e)) == 0)
                return e;
            engine_free(e);
            return NULL;
        }
        *rc = strncmp(err, "unknown server", 14) == 0 ? 2 : 3;
    }
    fprintf(stderr, "mcpdeck: %s\n", err);
    free(err);
    engine_free(e);
    return NULL;
}

struct call_state {
    int done;
    int rc;
    int json;
};

static void call_done(void *payload, const cJSON *result, const char *error)
{
    struct call_state *cs = payload;
    if (cs->json < 0)            /* interrupted: the call fails as the servers stop */
        return;
    cs->done = 1;
    if (error) {
        fprintf(stderr, "mcpdeck: %s\n", error);
        cs->rc = 1;
        return;
    }
    if (cs->json) {
        char *t = cJSON_Print(result);
        printf("%s\n", t);
        cJSON_free(t);
    } else {
        char *t = mcp_result_text(result);
        printf("%s%s", t, *t && t[strlen(t) - 1] != '\n' ? "\n" : "");
        free(t);
    }
    cs->rc = mcp_result_is_error(result) ? 1 : 0;
}

int cli_call(const struct cli_opts *o, int argc, char **argv)
{
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: mcpdeck call SERVER TOOL [JSON-ARGS]\n");
        return 2;
    }
    cJSON *args = cJSON_ParseWithOpts(argc == 3 ? argv[2] : "{}", NULL, 1);
    if (!cJSON_IsObject(args)) {
        fprintf(stderr, "mcpdeck: arguments must be a JSON object, got: %s\n", argv[2]);
        cJSON_Delete(args);
        return 2;
    }
    char *err = NULL;
    int rc;
    struct engine *e = open_one(o, argv[0], &rc);
    if (!e)
        goto out;
    struct call_state cs = {0, 1, o->json};
    if (engine_call(e, argv[0], argv[1], args, call_done, &cs, &err) < 0) {
        rc = strstr(err, "has no tool") ? 2 : 3;
        goto out;
    }
    while (!cs.done && !engine_interrupted(e))
        loop_run_once(engine_loop(e), -1);
    rc = cs.done ? cs.rc : cli_interrupted(e);
    cs.json = -1;                /* an answer from here on is not printed */
out:
    if (err)
        fprintf(stderr, "mcpdeck: %s\n", err);
    free(err);
    cJSON_Delete(args);
    engine_free(e);
    return rc;
}

static const char servers_usage[] =
    "usage: mcpdeck servers [list | check | tools NAME | resources NAME | templates NAME |\n"
    "                        prompts NAME | log NAME | caps | add NAME ... | remove NAME |\n"
    "                        enable NAME | disable NAME | restart NAME]\n";

/* `servers tools NAME` and `servers log NAME`: start that one server. */
static int server_detail(const struct cli_opts *o, const char *what, const char *name)
{
    struct engine *e = NULL;
    char *err = NULL;
    struct engine_opts eo = {o->config_path, o->data_dir, 0, NULL};
    int rc = 2;
    if (engine_new(&eo, &e, &err) < 0)
        goto out;
    engine_catch_interrupts(e);
    if (engine_start_server(e, name, &err) < 0) {
        rc = strncmp(err, "unknown server", 14) == 0 ? 2 : 3;
        if (strcmp(what, "log") != 0)
            goto out;
        free(err);
        err = NULL;
    }
    engine_wait_servers(e, 60000);
    if ((rc = cli_interrupted(e)) != 0)
        goto out;
    if (strcmp(what, "log") == 0) {
        const char *log = engine_server_log(e, name);
        fputs(log ? log : "", stdout);
        rc = 0;
        goto out;
    }
    if (strcmp(what, "tools") != 0) {
        const cJSON *list = engine_server_list(e, name, what);
        if (!list) {
            err = xasprintf("server %s offers no %s (or is not ready)", name, what);
            rc = 1;
            goto out;
        }
        if (o->json) {
            char *t = cJSON_Print(list);
            printf("%s\n", t);
            cJSON_free(t);
        } else {
            const cJSON *it;
            cJSON_ArrayForEach(it, list) {
                const cJSON *id = cJSON_GetObjectItemCaseSensitive(it, "uri");
                if (!id)
                    id = cJSON_GetObjectItemCaseSensitive(it, "uriTemplate");
                if (!id)
                    id = cJSON_GetObjectItemCaseSensitive(it, "name");
                const cJSON *d = cJSON_GetObjectItemCaseSensitive(it, "description");
                if (!cJSON_IsString(d))
                    d = cJSON_GetObjectItemCaseSensitive(it, "name");
                printf("%-40s %s\n", cJSON_IsString(id) ? id->valuestring : "?",
                       cJSON_IsString(d) ? d->valuestring : "");
            }
        }
        rc = 0;
        goto out;
    }
    struct engine_tool_info tools[1024];
    size_t n = engine_server_tools(e, name, tools, ARRAY_LEN(tools));
    struct engine_server_info info[256];
    size_t ns = engine_servers(e, info, ARRAY_LEN(info));
    for (size_t i = 0; i < ns && i < ARRAY_LEN(info); i++)
        if (strcmp(info[i].name, name) == 0 && info[i].state != SERVER_READY) {
            err = xasprintf("server %s is %s: %s", name, server_state_name(info[i].state),
                            info[i].last_error ? info[i].last_error : "");
            rc = 3;
            goto out;
        }
    cJSON *arr = cJSON_CreateArray();
    for (size_t i = 0; i < n && i < ARRAY_LEN(tools); i++) {
        if (o->json) {
            cJSON *t = cJSON_CreateObject();
            cJSON_AddStringToObject(t, "name", tools[i].name);
            if (tools[i].description)
                cJSON_AddStringToObject(t, "description", tools[i].description);
            if (tools[i].input_schema)
                cJSON_AddItemToObject(t, "inputSchema", cJSON_Duplicate(tools[i].input_schema, 1));
            cJSON_AddItemToArray(arr, t);
        } else {
            const char *d = tools[i].description ? tools[i].description : "";
            const char *nl = strchr(d, '\n');
            printf("%-32s %.*s\n", tools[i].name, nl ? (int)(nl - d) : (int)strlen(d), d);
        }
    }
    if (o->json) {
        char *t = cJSON_Print(arr);
        printf("%s\n", t);
        cJSON_free(t);
    }
    cJSON_Delete(arr);
    rc = 0;
out:
    if (err)
        fprintf(stderr, "mcpdeck: %s\n", err);
    free(err);
    engine_free(e);
    return rc;
}

/* === metrics === */

int cli_metrics(const struct cli_opts *o, int argc, char **argv)
{
    int check = 1;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--no-check") == 0) {
            check = 0;
        } else {
            fprintf(stderr, "usage: mcpdeck metrics [--no-check]\n");
            return 2;
        }
    }
    int rc = 2;
    struct engine *e = check ? cli_open_all(o, &rc) : NULL;
    if (!check) {
        char *err = NULL;
        struct engine_opts eo = {o->config_path, o->data_dir, 0, NULL};
        if (engine_new(&eo, &e, &err) < 0) {
            fprintf(stderr, "mcpdeck: %s\n", err);
            free(err);
            return 2;
        }
    }
    if (!e)
        return rc;
    if (check)
        engine_check_servers(e, 15000);
    if ((rc = cli_interrupted(e)) != 0) {
        engine_free(e);
        return rc;
    }
    struct buf b;
    buf_init(&b);
    metrics_prometheus(engine_metrics(e), &b);
    fwrite(b.data, 1, b.len, stdout);
    buf_fini(&b);
    engine_free(e);
    return 0;
}

/* === servers check: one health round with latency === */

static int servers_check(const struct cli_opts *o)
{
    int rc;
    struct engine *e = cli_open_all(o, &rc);
    if (!e)
        return rc;
    engine_check_servers(e, 15000);
    if ((rc = cli_interrupted(e)) != 0) {
        engine_free(e);
        return rc;
    }
    struct engine_server_info info[256];
    size_t n = engine_servers(e, info, ARRAY_LEN(info));
    if (n > ARRAY_LEN(info))
        n = ARRAY_LEN(info);
    int bad = 0;
    cJSON *arr = o->json ? cJSON_CreateArray() : NULL;
    if (!o->json)
        printf("%-20s %-8s %-9s %-9s %9s  %-9s  %s\n", "NAME", "KIND", "STATE", "HEALTH",
               "LATENCY", "BREAKER", "REASON");
    for (size_t i = 0; i < n; i++) {
        const struct engine_server_info *si = &info[i];
        const char *health = si->state == SERVER_DISABLED ? "disabled"
                                                          : server_health_name(si->health);
        bad |= si->health == SERVER_HEALTH_UNHEALTHY;
        const char *why = si->health_reason ? si->health_reason
                          : si->last_error  ? si->last_error : "";
        if (o->json) {
            cJSON *j = cJSON_CreateObject();
            cJSON_AddStringToObject(j, "name", si->name);
            cJSON_AddStringToObject(j, "kind", si->kind);
            cJSON_AddStringToObject(j, "state", server_state_name(si->state));
            cJSON_AddStringToObject(j, "health", health);
            if (si->latency_ms >= 0 && si->checked_ms)
                cJSON_AddNumberToObject(j, "latency_ms", (double)si->latency_ms);
            cJSON_AddStringToObject(j, "breaker", si->breaker);
            cJSON_AddStringToObject(j, "reason", why);
            cJSON_AddItemToArray(arr, j);
            continue;
        }
        char lat[32] = "-";
        if (si->latency_ms >= 0 && si->checked_ms)
            snprintf(lat, sizeof lat, "%lldms", (long long)si->latency_ms);
        printf("%-20s %-8s %-9s %-9s %9s  %-9s  %s\n", si->name, si->kind,
               server_state_name(si->state), health, lat, si->breaker, why);
    }
    struct engine_qdrant_info qi;
    if (engine_check_qdrant(e, 15000, &qi)) {      /* the memory's backend, when set */
        bad |= !qi.healthy;
        char *why = xasprintf("%s%soutbox %lld", qi.error ? qi.error : "",
                              qi.error ? "; " : "", (long long)qi.outbox);
        if (arr) {
            cJSON *j = cJSON_CreateObject();
            cJSON_AddStringToObject(j, "name", "qdrant");
            cJSON_AddStringToObject(j, "kind", "memory");
            cJSON_AddStringToObject(j, "state", "ready");
            cJSON_AddStringToObject(j, "health", qi.healthy ? "healthy" : "unhealthy");
            cJSON_AddNumberToObject(j, "latency_ms", (double)qi.latency_ms);
            cJSON_AddStringToObject(j, "breaker", qi.breaker);
            cJSON_AddStringToObject(j, "reason", why);
            cJSON_AddStringToObject(j, "url", qi.url);
            cJSON_AddNumberToObject(j, "outbox", (double)qi.outbox);
            cJSON_AddItemToArray(arr, j);
        } else {
            char lat[32];
            snprintf(lat, sizeof lat, "%lldms", (long long)qi.latency_ms);
            printf("%-20s %-8s %-9s %-9s %9s  %-9s  %s\n", "qdrant", "memory", "ready",
                   qi.healthy ? "healthy" : "unhealthy", lat, qi.breaker, why);
        }
        free(why);
        free(qi.error);
    }
    if (arr) {
        char *t = cJSON_Print(arr);
        printf("%s\n", t);
        cJSON_free(t);
        cJSON_Delete(arr);
    }
    engine_free(e);
    return bad ? 1 : 0;
}

int cli_servers(const struct cli_opts *o, int argc, char **argv)
{
    if (argc == 1 && strcmp(argv[0], "check") == 0)
        return servers_check(o);
    if (argc == 1 && strcmp(argv[0], "caps") == 0)
        return cli_servers_caps(o);
    static const char *const admin[] = {"add", "remove", "enable", "disable", "restart"};
    for (size_t i = 0; argc >= 1 && i < ARRAY_LEN(admin); i++)
        if (strcmp(argv[0], admin[i]) == 0)
            return cli_servers_admin(o, argc, argv);
    static const char *const details[] = {"tools", "log", "resources", "templates", "prompts"};
    for (size_t i = 0; argc == 2 && i < ARRAY_LEN(details); i++)
        if (strcmp(argv[0], details[i]) == 0)
            return server_detail(o, argv[0], argv[1]);
    if (argc > 1 || (argc == 1 && strcmp(argv[0], "list") != 0)) {
        fputs(servers_usage, stderr);
        return 2;
    }
    int rc;
    struct engine *e = cli_open_all(o, &rc);
    if (!e)
        return rc;
    struct engine_server_info info[256];
    size_t n = engine_servers(e, info, ARRAY_LEN(info));
    int bad = 0;
    if (o->json) {
        cJSON *arr = cJSON_CreateArray();
        for (size_t i = 0; i < n && i < ARRAY_LEN(info); i++) {
            cJSON *s = cJSON_CreateObject();
            cJSON_AddStringToObject(s, "name", info[i].name);
            cJSON_AddStringToObject(s, "kind", info[i].kind);
            cJSON_AddStringToObject(s, "state", server_state_name(info[i].state));
            cJSON_AddNumberToObject(s, "tools", info[i].ntools);
            cJSON_AddNumberToObject(s, "restarts", info[i].restarts);
            if (info[i].last_error)
                cJSON_AddStringToObject(s, "error", info[i].last_error);
            cJSON_AddItemToArray(arr, s);
        }
        char *t = cJSON_Print(arr);
        printf("%s\n", t);
        cJSON_free(t);
        cJSON_Delete(arr);
    } else {
        printf("%-20s %-8s %-9s %5s  %s\n", "NAME", "KIND", "STATE", "TOOLS", "ERROR");
    }
    for (size_t i = 0; i < n && i < ARRAY_LEN(info); i++) {
        if (info[i].state == SERVER_FAILED)
            bad = 1;
        if (!o->json)
            printf("%-20s %-8s %-9s %5d  %s\n", info[i].name, info[i].kind,
                   server_state_name(info[i].state), info[i].ntools,
                   info[i].last_error ? info[i].last_error : "");
    }
    engine_free(e);
    return bad ? 1 : 0;
}

/* === conformance client === */

/* Arguments for a tool from its input schema: every required property
 * and every property with a default, with a value of the right type. */
static cJSON *sample_args(const cJSON *schema)
{
    cJSON *args = cJSON_CreateObject();
    const cJSON *props = cJSON_GetObjectItemCaseSensitive(schema, "properties");
    const cJSON *req = cJSON_GetObjectItemCaseSensitive(schema, "required");
    const cJSON *p;
    cJSON_ArrayForEach(p, props) {
        const cJSON *def = cJSON_GetObjectItemCaseSensitive(p, "default");
        int required = 0;
        const cJSON *r;
        cJSON_ArrayForEach(r, req)
            required |= cJSON_IsString(r) && strcmp(r->valuestring, p->string) == 0;
        if (def) {
            cJSON_AddItemToObject(args, p->string, cJSON_Duplicate(def, 1));
            continue;
        }
        if (!required)
            continue;
        const cJSON *en = cJSON_GetObjectItemCaseSensitive(p, "enum");
        const cJSON *ty = cJSON_GetObjectItemCaseSensitive(p, "type");
        const char *t = cJSON_IsString(ty) ? ty->valuestring : "string";
        if (cJSON_IsArray(en) && cJSON_GetArraySize(en) > 0)
            cJSON_AddItemToObject(args, p->string, cJSON_Duplicate(en->child, 1));
        else if (strcmp(t, "number") == 0 || strcmp(t, "integer") == 0)
            cJSON_AddNumberToObject(args, p->string, 1);
        else if (strcmp(t, "boolean") == 0)
            cJSON_AddTrueToObject(args, p->string);
        else if (strcmp(t, "object") == 0)
            cJSON_AddObjectToObject(args, p->string);
        else if (strcmp(t, "array") == 0)
            cJSON_AddArrayToObject(args, p->string);
        else
            cJSON_AddStringToObject(args, p->string, "test");
    }
    return args;
}

struct conf_state {
    int pending;
    int failed;
};

static void conf_done(void *payload, const cJSON *result, const char *error)
{
    struct conf_state *cs = payload;
    cs->pending--;
    if (error) {
        fprintf(stderr, "mcpdeck conformance: %s\n", error);
        cs->failed = 1;
    } else {
        char *t = mcp_result_text(result);
        printf("%s\n", t);
        free(t);
    }
}

/* The conformance client accepts every elicitation, with the schema's
 * defaults filling the answer. */
static void conf_elicit(void *payload, struct engine_elicit *req, const char *server,
                        const int64_t *jobs, size_t njobs, const char *message,
                        const cJSON *schema)
{
    engine_elicit_answer(payload, req, "accept", cJSON_CreateObject());
}

int cli_conformance(const struct cli_opts *o, int argc, char **argv)
{
    if (argc < 1) {
        fprintf(stderr, "usage: mcpdeck conformance URL   (scenario in MCP_CONFORMANCE_SCENARIO)\n");
        return 2;
    }
    const char *scenario = getenv("MCP_CONFORMANCE_SCENARIO");
    fprintf(stderr, "mcpdeck conformance: scenario %s, server %s\n",
            scenario ? scenario : "(none)", argv[argc - 1]);
    struct config_server cs_cfg;
    memset(&cs_cfg, 0, sizeof cs_cfg);
    cs_cfg.name = "conformance";
    cs_cfg.kind = CONFIG_SERVER_HTTP;
    cs_cfg.url = argv[argc - 1];
    cs_cfg.enabled = 1;
    cs_cfg.timeout_ms = 20000;
    cs_cfg.startup_timeout_ms = 20000;
    struct engine *e = NULL;
    char *err = NULL;
    struct engine_opts eo = {o->config_path, o->data_dir, 0, NULL};
    int rc = 1;
    if (engine_new(&eo, &e, &err) < 0 || engine_add_server(e, &cs_cfg, &err) < 0)
        goto out;
    engine_set_elicit_handler(e, conf_elicit, e);
    engine_catch_interrupts(e);
    if (engine_start_server(e, "conformance", &err) < 0)
        goto out;
    engine_wait_servers(e, 20000);
    if ((rc = cli_interrupted(e)) != 0)
        goto out;
    rc = 1;
    struct engine_tool_info tools[256];
    size_t n = engine_server_tools(e, "conformance", tools, ARRAY_LEN(tools));
    struct engine_server_info info[64];
    size_t ns = engine_servers(e, info, ARRAY_LEN(info));
    for (size_t i = 0; i < ns && i < ARRAY_LEN(info); i++)
        if (strcmp(info[i].name, "conformance") == 0 && info[i].state != SERVER_READY) {
            err = xasprintf("server not ready: %s",
                            info[i].last_error ? info[i].last_error : "?");
            goto out;
        }
    struct conf_state st = {0, 0};
    for (size_t i = 0; i < n && i < ARRAY_LEN(tools); i++) {
        cJSON *args = sample_args(tools[i].input_schema);
        if (engine_call(e, "conformance", tools[i].name, args, conf_done, &st, &err) == 0)
            st.pending++;
        else {
            fprintf(stderr, "mcpdeck conformance: %s\n", err);
            free(err);
            err = NULL;
            st.failed = 1;
        }
        cJSON_Delete(args);
    }
    while (st.pending > 0 && !engine_interrupted(e))
        loop_run_once(engine_loop(e), -1);
    rc = st.pending > 0 ? cli_interrupted(e) : st.failed;
out:
    if (err)
        fprintf(stderr, "mcpdeck conformance: %s\n", err);
    free(err);
    engine_free(e);
    return rc;
}

/* === read, prompt: one request, result printed === */

struct req_state {
    int done, rc, json;
};

static void req_done(void *payload, const cJSON *result, const char *error)
{
    struct req_state *rs = payload;
    if (rs->json < 0)            /* interrupted: the request fails as the servers stop */
        return;
    rs->done = 1;
    if (error) {
        fprintf(stderr, "mcpdeck: %s\n", error);
        rs->rc = 1;
        return;
    }
    rs->rc = 0;
    if (rs->json) {
        char *t = cJSON_Print(result);
        printf("%s\n", t);
        cJSON_free(t);
        return;
    }
    /* resources/read: contents[].text; prompts/get: messages[].content.text */
    const cJSON *it;
    cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(result, "contents")) {
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(it, "text");
        const cJSON *b = cJSON_GetObjectItemCaseSensitive(it, "blob");
        if (cJSON_IsString(t))
            printf("%s\n", t->valuestring);
        else if (cJSON_IsString(b))
            printf("[binary, %zu base64 characters]\n", strlen(b->valuestring));
    }
    const cJSON *comp = cJSON_GetObjectItemCaseSensitive(result, "completion");
    cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(comp, "values"))
        if (cJSON_IsString(it))
            printf("%s\n", it->valuestring);
    cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(result, "messages")) {
        const cJSON *role = cJSON_GetObjectItemCaseSensitive(it, "role");
        const cJSON *c = cJSON_GetObjectItemCaseSensitive(it, "content");
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(c, "text");
        printf("%s: %s\n", cJSON_IsString(role) ? role->valuestring : "?",
               cJSON_IsString(t) ? t->valuestring : "[non-text content]");
    }
}

int cli_request(const struct cli_opts *o, const char *what, int argc, char **argv)
{
    int is_read = strcmp(what, "read") == 0, is_complete = strcmp(what, "complete") == 0;
    if (is_complete ? (argc < 4 || argc > 5) : (argc < 2 || argc > (is_read ? 2 : 3))) {
        fprintf(stderr, is_read ? "usage: mcpdeck read SERVER URI\n"
                        : is_complete
                            ? "usage: mcpdeck complete SERVER PROMPT ARGUMENT VALUE [JSON-CONTEXT]\n"
                            : "usage: mcpdeck prompt SERVER NAME [JSON-ARGS]\n");
        return 2;
    }
    cJSON *params = cJSON_CreateObject();
    const char *method = is_read ? "resources/read" : is_complete ? "completion/complete"
                                                                  : "prompts/get";
    if (is_read) {
        cJSON_AddStringToObject(params, "uri", argv[1]);
    } else if (is_complete) {
        cJSON *ref = cJSON_AddObjectToObject(params, "ref");
        cJSON_AddStringToObject(ref, "type", "ref/prompt");
        cJSON_AddStringToObject(ref, "name", argv[1]);
        cJSON *arg = cJSON_AddObjectToObject(params, "argument");
        cJSON_AddStringToObject(arg, "name", argv[2]);
        cJSON_AddStringToObject(arg, "value", argv[3]);
        if (argc == 5) {
            cJSON *ctx = cJSON_ParseWithOpts(argv[4], NULL, 1);
            if (!cJSON_IsObject(ctx)) {
                fprintf(stderr, "mcpdeck: the completion context must be a JSON object of "
                                "arguments already chosen\n");
                cJSON_Delete(ctx);
                cJSON_Delete(params);
                return 2;
            }
            cJSON *c = cJSON_AddObjectToObject(params, "context");
            cJSON_AddItemToObject(c, "arguments", ctx);
        }
    } else {
        cJSON_AddStringToObject(params, "name", argv[1]);
        cJSON *args = cJSON_ParseWithOpts(argc == 3 ? argv[2] : "{}", NULL, 1);
        if (!cJSON_IsObject(args)) {
            fprintf(stderr, "mcpdeck: prompt arguments must be a JSON object\n");
            cJSON_Delete(args);
            cJSON_Delete(params);
            return 2;
        }
        cJSON_AddItemToObject(params, "arguments", args);
    }
    char *err = NULL;
    int rc;
    struct engine *e = open_one(o, argv[0], &rc);
    if (!e)
        goto out;
    struct req_state rs = {0, 1, o->json};
    rc = 3;
    int r = engine_request(e, argv[0], method, params, req_done, &rs, &err);
    params = NULL;
    if (r < 0)
        goto out;
    while (!rs.done && !engine_interrupted(e))
        loop_run_once(engine_loop(e), -1);
    rc = rs.done ? rs.rc : cli_interrupted(e);
    rs.json = -1;                /* an answer from here on is not printed */
out:
    if (err)
        fprintf(stderr, "mcpdeck: %s\n", err);
    free(err);
    cJSON_Delete(params);
    engine_free(e);
    return rc;
}

/* === subscribe: follow a resource's updates === */

struct sub_state {
    const char *server, *uri;
    int want, seen, failed;
};

static void sub_event(void *payload, const struct engine_event *ev)
{
    /* the engine reports server notifications as SERVER_STATE events whose
     * text is the method; the updated URI is not in the event, so each
     * notifications/resources/updated from this server counts */
    struct sub_state *ss = payload;
    if (ev->kind == ENGINE_EV_SERVER_STATE && ev->server && strcmp(ev->server, ss->server) == 0 &&
        ev->text && strcmp(ev->text, "notifications/resources/updated") == 0) {
        ss->seen++;
        printf("updated %s\n", ss->uri);
        fflush(stdout);
    }
}

static void sub_done(void *payload, const cJSON *result, const char *error)
{
    struct sub_state *ss = payload;
    if (error && ss->want >= 0) {     /* want < 0: interrupted, the servers stopping */
        fprintf(stderr, "mcpdeck: %s\n", error);
        ss->failed = 1;
    }
}

int cli_subscribe(const struct cli_opts *o, int argc, char **argv)
{
    int count = 0;
    if (argc == 4 && strcmp(argv[2], "--count") == 0)
        count = atoi(argv[3]);
    if (!(argc == 2 || (argc == 4 && count > 0))) {
        fprintf(stderr, "usage: mcpdeck subscribe SERVER URI [--count N]\n");
        return 2;
    }
    int rc;
    struct engine *e = open_one(o, argv[0], &rc);
    if (!e)
        return rc;
    struct sub_state ss = {argv[0], argv[1], count, 0, 0};
    engine_subscribe(e, sub_event, &ss);
    cJSON *params = cJSON_CreateObject();
    cJSON_AddStringToObject(params, "uri", argv[1]);
    char *err = NULL;
    rc = 0;
    if (engine_request(e, argv[0], "resources/subscribe", params, sub_done, &ss, &err) < 0) {
        fprintf(stderr, "mcpdeck: %s\n", err);
        free(err);
        rc = 3;
    } else {
        while (!ss.failed && (!ss.want || ss.seen < ss.want) && !engine_interrupted(e))
            loop_run_once(engine_loop(e), -1);
        rc = engine_interrupted(e) ? cli_interrupted(e) : ss.failed ? 1 : 0;
        ss.want = -1;            /* an error from here on (the servers stop) is not printed */
    }
    engine_free(e);
    return rc;
}
