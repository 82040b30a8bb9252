/* config.h — mcpdeck's configuration.
 *
 * YAML (mcpdeck.yaml), or the JSON files other MCP clients use:
 * Claude Desktop / Claude Code ".mcp.json" ({"mcpServers": {name: {...}}})
 * and VS Code "mcp.json" ({"servers": {...}}). Discovery order:
 * --config PATH, ./mcpdeck.yaml, ./.mcp.json,
 * $XDG_CONFIG_HOME/mcpdeck/config.yaml (~/.config/...), the embedded
 * data/config.default.yaml.
 *
 * ${VAR} and ${VAR:-default} in scalar values are expanded from the
 * environment in a single pass (the result is not expanded again); a
 * missing variable without a default is an error. Unknown keys are errors.
 * Errors read "file:line:col: what was wrong; what was expected". */
#ifndef MCPDECK_CONFIG_H
#define MCPDECK_CONFIG_H

#include <stddef.h>

enum config_server_kind {
    CONFIG_SERVER_STDIO,     /* command + args */
    CONFIG_SERVER_HTTP,      /* url (Streamable HTTP) */
};

struct config_server {
    char *name;
    enum config_server_kind kind;
    char *command;           /* stdio */
    char **args;             /* stdio, nargs entries */
    size_t nargs;
    char **env;              /* "KEY=VALUE" entries added to the child's env */
    size_t nenv;
    char *cwd;               /* NULL = inherit */
    char *url;               /* http */
    char **headers;          /* "Name: value" */
    size_t nheaders;
    int enabled;             /* default 1 */
    int timeout_ms;          /* per-call timeout, default 60000 */
    int startup_timeout_ms;  /* default 30000 */
    char *log_level;         /* logging/setLevel after connecting, or NULL */
    int max_message;         /* bytes; default 16 MiB */
    int concurrency;         /* jobs on this server at once; 0 = only the global limit */
    /* routing: what config says of the server (overrides the catalog) */
    char **caps;             /* capabilities, ncaps entries; has_caps when given */
    size_t ncaps;
    int has_caps;
    char **task_types;       /* task types it serves */
    size_t ntask_types;
    int has_task_types;
    char *weight;            /* "light", "heavy", "both" or NULL */
    double preference;       /* 0..1, or -1 when not given */
    int health_interval_ms;  /* 0 = health.interval */
    int line, col;           /* where it was defined */
};

struct config_weights {
    double capability, fit, health, preference;   /* default 0.4 0.3 0.2 0.1 */
};

struct config {
    char *source;            /* path the config came from, or "<embedded default>" */
    char *data_dir;          /* expanded; default $XDG_DATA_HOME/mcpdeck or ~/.local/share/mcpdeck */
    int queue_concurrency;   /* default 10 */
    int queue_timeout_ms;    /* per-job timeout, default 300000 ("300s", "5m", or seconds) */
    int queue_retries;       /* attempts per job, default 3 */
    int health_interval_ms;  /* periodic check, default 30000 */
    int health_slow_ms;      /* a check or call slower than this: warning; default 2000 */
    int health_window;       /* recent calls looked at for errors, default 20 */
    int breaker_failures;    /* consecutive failures that open a breaker, default 5 */
    int breaker_cooldown_ms; /* open → half-open, default 60000 */
    struct config_weights weights;
    char *log_file;          /* NULL = data_dir/logs/mcpdeck.log */
    char *log_level;         /* debug, info, warn, error; default info */
    int log_max_bytes;       /* rotate beyond this, default 10 MiB */
    int log_keep;            /* rotated files kept, default 5 */
    char *metrics_file;      /* rewritten every metrics_interval_ms, or NULL */
    int metrics_interval_ms; /* default 15000 */
    char **secret_env;       /* environment variables whose values are secrets: */
    size_t nsecret_env;      /* those under 'secrets:' and those ${...} in servers */
    struct config_server *servers;
    size_t nservers;
};

/* Discover and load (see above). explicit_path may be NULL. */
int config_load(const char *explicit_path, struct config **out, char **errmsg);
/* Load one file; YAML or JSON chosen by content. */
int config_load_file(const char *path, struct config **out, char **errmsg);
/* Load from memory; name is used in messages. */
int config_load_string(const char *name, const char *text, size_t len,
                       struct config **out, char **errmsg);
void config_free(struct config *c);  /* NULL-safe */

/* Expand ${VAR} / ${VAR:-default} in s. Returns 0 and a malloc'd *out, or
 * -1 and *errmsg (e.g. "environment variable TOKEN is not set"). */
int config_expand_env(const char *s, char **out, char **errmsg);

const struct config_server *config_find_server(const struct config *c, const char *name);

#endif
