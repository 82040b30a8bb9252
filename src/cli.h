/* cli.h — subcommands: `call`, `servers`. Each returns the exit code. */
#ifndef MCPDECK_CLI_H
#define MCPDECK_CLI_H

struct cli_opts {
    const char *config_path;
    const char *data_dir;
    int json;                    /* --json */
};

struct engine;

int cli_call(const struct cli_opts *o, int argc, char **argv);
/* After a wait in a one-shot command whose engine catches interrupts
 * (engine_catch_interrupts): ENGINE_EXIT_INTERRUPTED, said on stderr,
 * when SIGINT or SIGTERM came; else 0. e may be NULL. */
int cli_interrupted(struct engine *e);
/* An engine with every enabled server started and waited for; it runs no
 * jobs; SIGINT and SIGTERM are caught. On failure NULL, the error printed,
 * *rc the exit code (2: a bad config; ENGINE_EXIT_INTERRUPTED). */
struct engine *cli_open_all(const struct cli_opts *o, int *rc);
int cli_servers(const struct cli_opts *o, int argc, char **argv);
/* `mcpdeck servers add|remove|enable|disable|restart NAME ...` */
int cli_servers_admin(const struct cli_opts *o, int argc, char **argv);
/* `mcpdeck servers caps`: each server's profile (capabilities, source,
 * task types, weight). */
int cli_servers_caps(const struct cli_opts *o);
/* `mcpdeck run ...`: route one task (--explain: why) and run it. */
int cli_run(const struct cli_opts *o, int argc, char **argv);
/* `mcpdeck conformance URL`: the client side of the MCP conformance suite
 * (it runs a command with the server URL last and the scenario name in
 * MCP_CONFORMANCE_SCENARIO): connect over Streamable HTTP, list the tools
 * and call each with arguments made from its input schema. */
/* `mcpdeck read SERVER URI`, `mcpdeck prompt SERVER NAME [JSON]` and
 * `mcpdeck complete SERVER PROMPT ARG VALUE [JSON-CONTEXT]`. */
int cli_request(const struct cli_opts *o, const char *what, int argc, char **argv);
/* `mcpdeck subscribe SERVER URI [--count N]`: print each update. */
int cli_subscribe(const struct cli_opts *o, int argc, char **argv);
/* `mcpdeck metrics [--no-check]`: one health round (unless --no-check),
 * then the metrics table in the Prometheus text format on stdout. */
int cli_metrics(const struct cli_opts *o, int argc, char **argv);
int cli_conformance(const struct cli_opts *o, int argc, char **argv);
/* `mcpdeck memory add|search|get|delete|list|export|import|reindex|stats|sync`
 * (cli_memory.c): the memory store, opened directly (no engine). */
int cli_memory(const struct cli_opts *o, int argc, char **argv);

#endif
