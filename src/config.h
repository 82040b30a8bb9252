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

/* === models (config_llm.c) === */

enum config_provider_kind {
    CONFIG_PROVIDER_OPENAI,      /* any OpenAI-compatible Chat Completions endpoint */
    CONFIG_PROVIDER_ANTHROPIC,   /* the Anthropic Messages API */
};

struct config_provider {
    char *name;
    enum config_provider_kind kind;
    char *base_url;              /* e.g. https://openrouter.ai/api/v1 (no trailing path) */
    char *api_key_env;           /* the variable holding the key (read at call time), or NULL */
    char **headers;              /* extra "Name: value" headers */
    size_t nheaders;
    int timeout_ms;              /* per request, default 120000 */
    int line, col;
};

struct config_model {
    char *name;                  /* what config and tasks call it */
    char *provider;              /* a providers: name */
    char *model;                 /* the provider's model id */
    int context;                 /* tokens; 0 = unknown */
    double price_in, price_out;  /* USD per million tokens */
    int max_tokens;              /* answer limit, default 4096 */
    int line, col;
};

enum config_strategy { CONFIG_STRATEGY_QUALITY, CONFIG_STRATEGY_SPEED, CONFIG_STRATEGY_COST,
                       CONFIG_STRATEGY_COUNT };

struct config_llm {
    struct config_provider *providers;
    size_t nproviders;
    struct config_model *models;
    size_t nmodels;
    char **alias_names, **alias_targets;   /* big → a model name, small → ... */
    size_t naliases;
    char **strategies[CONFIG_STRATEGY_COUNT];   /* ordered model names (aliases resolved) */
    size_t nstrategies[CONFIG_STRATEGY_COUNT];
    enum config_strategy strategy;           /* llm.strategy, default quality */
    int retries;                 /* per model before falling back, default 2 */
    double max_price;            /* USD per million output tokens a fallback may cost; < 0 none */
    double budget_task;          /* USD per task; < 0 none */
    double budget_day;           /* USD per day (local midnight); < 0 none */
    int cache;                   /* exact-match response cache on */
    int cache_ttl_ms;            /* default 24 h */
    int cache_streams;           /* cache answers that were streamed to a viewer too */
    int breaker_failures;        /* per model, default 3 */
    int breaker_cooldown_ms;     /* default 60000 */
    /* agent */
    int max_steps;               /* model turns per task, default 8 */
    char **tools_allow, **tools_deny, **tools_destructive, **tools_approve;
    size_t ntools_allow, ntools_deny, ntools_destructive, ntools_approve;
    /* sampling/createMessage from servers */
    char **sampling_allow;       /* server names (globs) that may sample */
    size_t nsampling_allow;
    char *sampling_model;        /* alias or model, NULL = the strategy's first */
    int sampling_max_tokens;     /* default 1024 */
    int sampling_concurrency;    /* per server in flight, default 4; more are refused */
};

/* === memory (config_memory.c) === */

struct config_memory_ns {
    char *name;
    long long ttl_ms;            /* entries expire after this; 0 = never */
};

struct config_memory {
    struct config_memory_ns *namespaces;   /* default coding, architecture,
                                              documentation, testing, shared */
    size_t nnamespaces;
    char *embedder;              /* "hashing" (default) or "openai" */
    int dim;                     /* hashing buckets, default 384 */
    char *base_url;              /* openai: e.g. http://localhost:11434/v1 */
    char *api_key_env;           /* openai: the variable holding the key, or NULL */
    char *model;                 /* openai: the model id */
    int batch;                   /* openai: texts per request, default 64 */
    char **capture_types;        /* model task type → namespace its answers go to */
    char **capture_ns;
    size_t ncapture;
    char *qdrant_url;            /* NULL: no Qdrant (no outbox rows) */
    char *qdrant_api_key_env;
    char *qdrant_prefix;         /* collection = prefix + namespace, default "mcpdeck_" */
    int qdrant_timeout_ms;       /* default 10000 */
};

/* === serve (config_serve.c): mcpdeck as an MCP server === */

struct config_serve {
    char **servers;              /* expose.servers globs ('!' excludes); none = all */
    size_t nservers;
    char **tools;                /* expose.tools globs over "server__tool"; none = all */
    size_t ntools;
    int hide_open_breakers;      /* default 0 */
    int record_calls;            /* outer tool calls run as queue jobs; default 1 */
    int task_tools;              /* submit_task & co. offered; default 1 */
    int page_size;               /* items per page of the list methods; default 200 */
    int relay_timeout_ms;        /* a relayed server request waits this long; default 10 min */
    char *http_listen;           /* "127.0.0.1:8808", or NULL */
    char *http_token_env;        /* variable holding the bearer token, or NULL */
    char **http_origins;         /* Origin values allowed besides loopback ("https://x:8443") */
    size_t nhttp_origins;
};

struct config_weights {
    double capability, fit, health, preference;   /* default 0.4 0.3 0.2 0.1 */
};

/* A key binding of the TUI (`keys:`): the key's name as written and the
 * command string it runs. */
struct config_key {
    char *key;               /* "x", "^X", "Enter", "Tab", "Space", "F5", "Up", ... */
    char *command;           /* "memory", "priority +1", ... */
    int line, col;           /* where the binding was written */
};

struct config {
    char *source;            /* path the config came from, or "<embedded default>" */
    char *ui_theme;          /* `theme:` of the TUI, or NULL (dark) */
    struct config_key *ui_keys;   /* `keys:`, in the order written */
    size_t nui_keys;
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
    struct config_llm llm;
    int shell_enabled;       /* the shell built-in: off unless shell.enabled */
    char **shell_allow;      /* programs it may run (names or globs of argv[0]) */
    size_t nshell_allow;
    int shell_timeout_ms;    /* default 30 s */
    int shell_max_output;    /* bytes of output kept, default 1 MiB */
    struct config_memory memory;
    struct config_serve serve;
    struct config_server *servers;
    size_t nservers;
};

/* Whether name is a key name `keys:` accepts: one character, ^A..^Z,
 * F1..F12, Enter, Tab, S-Tab, Esc, Space, Backspace, Delete, Up, Down,
 * Left, Right, Home, End, PgUp, PgDn. */
int config_key_name_ok(const char *name);

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
/* A model by name or alias (aliases resolved), or NULL. */
const struct config_model *config_find_model(const struct config *c, const char *name);
const struct config_provider *config_find_provider(const struct config *c, const char *name);
const char *config_strategy_name(enum config_strategy s);   /* "quality", "speed", "cost" */

#endif
