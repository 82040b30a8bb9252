/* cli_registry.c — `mcpdeck servers add|remove|enable|disable|restart`:
 * registry changes that outlive the command (engine_admin.c keeps them in
 * the store; the TUI and the next runs see them). */
#include "cli.h"
#include "engine.h"
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
        if (engine_server_restart(e, name, &err) == 0) {
            engine_wait_servers(e, 60000);
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
