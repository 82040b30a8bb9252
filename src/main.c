/* main.c — argv → the TUI, --batch, or a subcommand. The only place that
 * calls exit. */
#include "batch.h"
#include "cli.h"
#include "cli_complete.h"
#include "cli_jobs.h"
#include "config.h"
#include "engine.h"
#include "jsonmem.h"
#include "serve.h"
#include "serve_http.h"
#include "util.h"
#include "version.h"
#include "tui.h"          /* ui/: the one front end main.c picks */

#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
    "usage: mcpdeck [OPTIONS]                     open the terminal UI\n"
    "       mcpdeck [OPTIONS] --batch FILE        run a task file headless (FILE - = stdin)\n"
    "       mcpdeck [OPTIONS] call SERVER TOOL [JSON]   call one tool, print its text\n"
    "       mcpdeck [OPTIONS] servers [list]      list servers with state and tool count\n"
    "       mcpdeck [OPTIONS] servers check       ping every server, print health and latency\n"
    "       mcpdeck [OPTIONS] servers caps        what each server is good for, and from where\n"
    "       mcpdeck [OPTIONS] run --type T [--cap C] [--heavy|--light] [--server S]\n"
    "                         [--tool TOOL [--args JSON]] [--model M] [--explain] [PROMPT]\n"
    "                                             route one task (a tool call, or a model\n"
    "                                             answering PROMPT) and run it\n"
    "       mcpdeck [OPTIONS] servers tools NAME  a server's tools (--json: with schemas)\n"
    "       mcpdeck [OPTIONS] servers log NAME    a server's captured stderr and log messages\n"
    "       mcpdeck [OPTIONS] servers add NAME -- CMD [ARGS] | add NAME URL | remove NAME\n"
    "       mcpdeck [OPTIONS] servers enable|disable|restart NAME   kept for later runs\n"
    "       mcpdeck [OPTIONS] servers resources|templates|prompts NAME\n"
    "       mcpdeck [OPTIONS] jobs [list [--status S] [--limit N] | show ID | cancel ID |\n"
    "                              retry ID | result ID | priority ID N]\n"
    "                                             the job store (--format text|json|md)\n"
    "       mcpdeck [OPTIONS] read SERVER URI     read a resource\n"
    "       mcpdeck [OPTIONS] prompt SERVER NAME [JSON]   get a prompt\n"
    "       mcpdeck [OPTIONS] complete SERVER PROMPT ARG VALUE [JSON]  completion/complete\n"
    "       mcpdeck [OPTIONS] subscribe SERVER URI [--count N]   print resource updates\n"
    "       mcpdeck [OPTIONS] conformance URL     client mode for the MCP conformance suite\n"
    "       mcpdeck [OPTIONS] memory add TEXT [--ns N] [--meta JSON] [--ttl DUR]\n"
    "       mcpdeck [OPTIONS] memory search QUERY [--ns N]... [-k K] [--mode hybrid|vector|\n"
    "                              keyword] [--filter JSON] [--min-score X] [--exact] (--json)\n"
    "       mcpdeck [OPTIONS] memory get ID | delete ID | list [--ns N] [--limit N] |\n"
    "                              export [--ns N] | import FILE | reindex [--all] |\n"
    "                              stats | sync   the memory store\n"
    "       mcpdeck [OPTIONS] serve               be an MCP server on stdin/stdout: every\n"
    "                                             server's tools as server__tool, resources,\n"
    "                                             prompts, and submit_task/task_status/\n"
    "                                             task_result/cancel_task (config: serve:)\n"
    "       mcpdeck [OPTIONS] serve --http [ADDR:PORT]   the same over Streamable HTTP at\n"
    "                                             http://ADDR:PORT/mcp (default serve.http.listen,\n"
    "                                             else 127.0.0.1:8808)\n"
    "       mcpdeck [OPTIONS] metrics [--no-check]   Prometheus text: one health round, then\n"
    "                                             the queue, health and breaker figures\n"
    "\n"
    "options:\n"
    "  -c, --config PATH     config file (YAML, or .mcp.json / VS Code mcp.json)\n"
    "      --data-dir DIR    where the database lives (default $XDG_DATA_HOME/mcpdeck)\n"
    "      --format FMT      batch report: text (default, on stderr), json, jsonl, junit\n"
    "  -o, --output FILE     write the batch report to FILE instead of stdout\n"
    "      --dry-run         check the batch and print the plan; run nothing\n"
    "      --fail-fast       stop the batch at the first failed task\n"
    "      --timeout DUR     cancel what is unfinished after DUR (e.g. 10m)\n"
    "      --resume          continue an interrupted batch: finished tasks are kept\n"
    "      --stream          print model answers as they stream (on stderr)\n"
    "      --serve-http ADDR:PORT  TUI: also serve MCP over HTTP (outer calls show in Tasks)\n"
    "      --json            call/servers: print JSON\n"
    "      --concurrency N   jobs run at once (default from config, 10)\n"
    "      --metrics-file PATH  rewrite Prometheus metrics to PATH every metrics.interval\n"
    "      --log-level LVL   debug, info, warn or error (default from config, info)\n"
    "      --log-file PATH   the JSON-lines log (default <data_dir>/logs/mcpdeck.log)\n"
    "      --theme NAME      TUI colours: dark (default), light, high-contrast, mono\n"
    "      --ascii           TUI: ASCII borders and glyphs\n"
    "  -V, --version         print the version\n"
    "  -h, --help            this help\n"
    "\n"
    "exit codes: 0 success; 1 a task or tool call failed; 2 invalid input or config;\n"
    "            3 a required server never became ready; 130 interrupted\n";

static const char *need_arg(int *i, int argc, char **argv)
{
    if (*i + 1 >= argc) {
        fprintf(stderr, "mcpdeck: %s needs a value\n%s", argv[*i], usage);
        exit(2);
    }
    return argv[++*i];
}

/* `mcpdeck jobs ...` reads the store directly (no engine: it must not
 * recover jobs another running mcpdeck owns). */
static int run_jobs(const char *config, const char *data_dir, int argc, char **argv,
                    const char *format)
{
    struct config *c = NULL;
    char *err = NULL;
    if (config_load(config, &c, &err) < 0) {
        fprintf(stderr, "mcpdeck: %s\n", err);
        free(err);
        return 2;
    }
    const char *dir = data_dir ? data_dir : c->data_dir;
    char *db = xasprintf("%s/mcpdeck.db", dir);
    int rc = cli_jobs(db, dir, argc, argv, format);
    free(db);
    config_free(c);
    return rc;
}

/* `mcpdeck serve [--http [ADDR:PORT]]`: the engine with every server,
 * answering MCP on stdio, or on Streamable HTTP. */
static int run_serve(const char *config, const char *data_dir, int concurrency, int argc,
                     char **argv)
{
    int http = 0;
    const char *listen = NULL;
    if (argc > 0 && strcmp(argv[0], "--http") == 0) {
        http = 1;
        if (argc > 1)
            listen = argv[1];
    }
    if (argc > (http ? 2 : 0)) {
        fprintf(stderr, "mcpdeck: serve takes only --http [ADDR:PORT] (the serve: config "
                        "section says what is exposed)\n");
        return 2;
    }
    struct engine *e = NULL;
    char *err = NULL;
    struct engine_opts eo = {config, data_dir, concurrency, NULL};
    if (engine_new(&eo, &e, &err) < 0) {
        fprintf(stderr, "mcpdeck: %s\n", err);
        free(err);
        return 2;
    }
    int rc = 0;
    if ((http ? serve_http_run(e, listen, &err) : serve_stdio_run(e, &err)) < 0) {
        fprintf(stderr, "mcpdeck: serve: %s\n", err);
        free(err);
        rc = 2;
    }
    engine_free(e);
    return rc;
}

int main(int argc, char **argv)
{
    signal(SIGPIPE, SIG_IGN);
    jsonmem_install();
    const char *config = NULL, *data_dir = NULL, *batch = NULL, *format = NULL, *output = NULL;
    const char *serve_http = NULL;
    int json = 0, concurrency = 0, dry_run = 0, fail_fast = 0, resume = 0, timeout_ms = 0;
    int stream = 0;
    char **rest = xcalloc((size_t)argc + 1, sizeof *rest);
    struct engine_overrides ov = {NULL, NULL, NULL};
    int nrest = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            fputs(usage, stdout);
            free(rest);
            return 0;
        } else if (strcmp(a, "-V") == 0 || strcmp(a, "--version") == 0) {
            printf("mcpdeck %s\n", MCPDECK_VERSION);
            free(rest);
            return 0;
        } else if (strcmp(a, "-c") == 0 || strcmp(a, "--config") == 0) {
            config = need_arg(&i, argc, argv);
        } else if (strcmp(a, "--data-dir") == 0) {
            data_dir = need_arg(&i, argc, argv);
        } else if (strcmp(a, "--theme") == 0) {
            tui_set_options(need_arg(&i, argc, argv), -1);
        } else if (strcmp(a, "--ascii") == 0) {
            tui_set_options(NULL, 1);
        } else if (strcmp(a, "--batch") == 0) {
            batch = need_arg(&i, argc, argv);
        } else if (strcmp(a, "--format") == 0) {
            format = need_arg(&i, argc, argv);
        } else if (strcmp(a, "--concurrency") == 0) {
            concurrency = atoi(need_arg(&i, argc, argv));
            if (concurrency < 1) {
                fprintf(stderr, "mcpdeck: --concurrency must be a positive integer\n");
                free(rest);
                return 2;
            }
        } else if (strcmp(a, "--metrics-file") == 0) {
            ov.metrics_file = need_arg(&i, argc, argv);
        } else if (strcmp(a, "--log-level") == 0) {
            ov.log_level = need_arg(&i, argc, argv);
            if (strcmp(ov.log_level, "debug") && strcmp(ov.log_level, "info") &&
                strcmp(ov.log_level, "warn") && strcmp(ov.log_level, "error")) {
                fprintf(stderr, "mcpdeck: --log-level must be debug, info, warn or error\n");
                free(rest);
                return 2;
            }
        } else if (strcmp(a, "--log-file") == 0) {
            ov.log_file = need_arg(&i, argc, argv);
        } else if (strcmp(a, "--serve-http") == 0) {
            serve_http = need_arg(&i, argc, argv);
        } else if (strcmp(a, "--json") == 0) {
            json = 1;
        } else if (strcmp(a, "-o") == 0 || strcmp(a, "--output") == 0) {
            output = need_arg(&i, argc, argv);
        } else if (strcmp(a, "--dry-run") == 0) {
            dry_run = 1;
        } else if (strcmp(a, "--fail-fast") == 0) {
            fail_fast = 1;
        } else if (strcmp(a, "--stream") == 0) {
            stream = 1;
        } else if (strcmp(a, "--resume") == 0) {
            resume = 1;
        } else if (strcmp(a, "--timeout") == 0) {
            int64_t ms;
            const char *v = need_arg(&i, argc, argv);
            if (util_parse_duration_ms(v, &ms) < 0 || ms <= 0 || ms > INT32_MAX) {
                fprintf(stderr, "mcpdeck: --timeout must be a duration like 90s or 10m\n");
                free(rest);
                return 2;
            }
            timeout_ms = (int)ms;
        } else if (a[0] == '-' && a[1] && nrest == 0) {
            fprintf(stderr, "mcpdeck: unknown option %s\n%s", a, usage);
            free(rest);
            return 2;
        } else {
            rest[nrest++] = argv[i];
        }
    }
    int rc;
    engine_set_overrides(&ov);
    struct cli_opts co = {config, data_dir, json};
    if (batch) {
        struct batch_opts bo = {batch,   config,    data_dir,   format, output,
                                concurrency, dry_run, fail_fast, timeout_ms, resume, stream};
        rc = nrest ? (fprintf(stderr, "mcpdeck: --batch takes no subcommand\n"), 2)
                   : batch_run(&bo);
    } else if (nrest > 0 && strcmp(rest[0], "call") == 0) {
        rc = cli_call(&co, nrest - 1, rest + 1);
    } else if (nrest > 0 && strcmp(rest[0], "servers") == 0) {
        rc = cli_servers(&co, nrest - 1, rest + 1);
    } else if (nrest > 0 && strcmp(rest[0], "subscribe") == 0) {
        rc = cli_subscribe(&co, nrest - 1, rest + 1);
    } else if (nrest > 0 && (strcmp(rest[0], "read") == 0 || strcmp(rest[0], "prompt") == 0 ||
                             strcmp(rest[0], "complete") == 0)) {
        rc = cli_request(&co, rest[0], nrest - 1, rest + 1);
    } else if (nrest > 0 && strcmp(rest[0], "jobs") == 0) {
        rc = run_jobs(config, data_dir, nrest - 1, rest + 1, format ? format : json ? "json"
                                                                                     : "text");
    } else if (nrest > 0 && strcmp(rest[0], "run") == 0) {
        rc = cli_run(&co, nrest - 1, rest + 1);
    } else if (nrest > 0 && strcmp(rest[0], "metrics") == 0) {
        rc = cli_metrics(&co, nrest - 1, rest + 1);
    } else if (nrest > 0 && strcmp(rest[0], "memory") == 0) {
        rc = cli_memory(&co, nrest - 1, rest + 1);
    } else if (nrest > 0 && strcmp(rest[0], "serve") == 0) {
        rc = run_serve(config, data_dir, concurrency, nrest - 1, rest + 1);
    } else if (nrest > 0 && strcmp(rest[0], "__complete") == 0) {
        rc = cli_complete(&co, nrest - 1, rest + 1, stdout);
    } else if (nrest > 0 && strcmp(rest[0], "conformance") == 0) {
        rc = cli_conformance(&co, nrest - 1, rest + 1);
    } else if (nrest > 0) {
        fprintf(stderr, "mcpdeck: unknown command '%s'\n%s", rest[0], usage);
        rc = 2;
    } else {
        struct engine *e = NULL;
        char *err = NULL;
        struct engine_opts eo = {config, data_dir, concurrency, NULL};
        if (engine_new(&eo, &e, &err) < 0) {
            fprintf(stderr, "mcpdeck: %s\n", err);
            free(err);
            rc = 2;
        } else {
            if (serve_http)      /* outer clients may answer the servers' sampling */
                engine_set_sampling_relay(e, 1);
            engine_start(e);
            struct serve_http *sh = NULL;
            if (serve_http && serve_http_open(e, serve_http, &sh, &err) < 0) {
                fprintf(stderr, "mcpdeck: --serve-http: %s\n", err);
                free(err);
                rc = 2;
            } else {
                rc = tui_run(e);
            }
            serve_http_free(sh);
            engine_free(e);
        }
    }
    free(rest);
    return rc;
}
