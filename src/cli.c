/* cli.c — one-shot subcommands on the same engine as the TUI and batch.
 *   mcpdeck call SERVER TOOL [JSON]   prints the text content (or the whole
 *                                      result with --json); exit 1 when the
 *                                      tool result isError, 2 on bad input
 *   mcpdeck servers [list]             name, kind, state, tool count */
#include "cli.h"
#include "engine.h"
#include "loop.h"
#include "mcp_client.h"
#include "util.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct call_state {
    int done;
    int rc;
    int json;
};

static void call_done(void *payload, const cJSON *result, const char *error)
{
    struct call_state *cs = payload;
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
    cJSON *args = cJSON_Parse(argc == 3 ? argv[2] : "{}");
    if (!cJSON_IsObject(args)) {
        fprintf(stderr, "mcpdeck: arguments must be a JSON object, got: %s\n", argv[2]);
        cJSON_Delete(args);
        return 2;
    }
    struct engine *e = NULL;
    char *err = NULL;
    struct engine_opts eo = {o->config_path, o->data_dir, 0, NULL};
    int rc = 2;
    if (engine_new(&eo, &e, &err) < 0)
        goto out;
    if (engine_start_server(e, argv[0], &err) < 0) {
        rc = strncmp(err, "unknown server", 14) == 0 ? 2 : 3;
        goto out;
    }
    engine_wait_servers(e, 60000);
    struct call_state cs = {0, 1, o->json};
    if (engine_call(e, argv[0], argv[1], args, call_done, &cs, &err) < 0) {
        rc = strstr(err, "has no tool") ? 2 : 3;
        goto out;
    }
    while (!cs.done)
        loop_run_once(engine_loop(e), -1);
    rc = cs.rc;
out:
    if (err)
        fprintf(stderr, "mcpdeck: %s\n", err);
    free(err);
    cJSON_Delete(args);
    engine_free(e);
    return rc;
}

int cli_servers(const struct cli_opts *o, int argc, char **argv)
{
    if (argc > 1 || (argc == 1 && strcmp(argv[0], "list") != 0)) {
        fprintf(stderr, "usage: mcpdeck servers [list]\n");
        return 2;
    }
    struct engine *e = NULL;
    char *err = NULL;
    struct engine_opts eo = {o->config_path, o->data_dir, 0, NULL};
    if (engine_new(&eo, &e, &err) < 0) {
        fprintf(stderr, "mcpdeck: %s\n", err);
        free(err);
        return 2;
    }
    engine_start(e);
    engine_set_scheduling(e, 0);
    engine_wait_servers(e, 60000);
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
