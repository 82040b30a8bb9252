/* config.c — load mcpdeck's configuration (see config.h).
 *
 * Our own format is YAML with strict keys; the JSON files other MCP
 * clients write (.mcp.json with "mcpServers", VS Code mcp.json with
 * "servers") are read through the same loader, leniently about keys those
 * tools define (they still have to be well-formed where we read them).
 * Every error names file:line:column.
 *
 * ${VAR} and ${VAR:-default} expansion applies to every scalar value (never
 * to keys) in every format. It is a single pass: what a variable or a
 * default expands to is never expanded again, so a secret may contain "${".
 * ${VAR:-default} uses the default when VAR is unset or empty (as sh does).
 * "$${" is the escape for a literal "${" ("$${HOME}" stays "${HOME}"); any
 * other "$" is literal, "$$" included. ${env:VAR} (VS Code's spelling) is
 * the same as ${VAR}. A missing variable without a default, an unterminated
 * "${" and a malformed name (e.g. VS Code's ${input:id}) are errors. */
#include "config.h"
#include "config_int.h"
#include "embedded.h"
#include "util.h"
#include "ydoc.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>




static const char *const top_keys[] = {"servers", "queue", "data_dir", "health", "breaker",
                                        "router", "log", "metrics", "secrets", "providers",
                                        "models", "aliases", "strategies", "llm", "agent",
                                        "tools", "sampling", "memory", "shell", "serve", "theme",
                                        "keys", NULL};
static const char *const health_keys[] = {"interval", "slow", "window", NULL};
static const char *const breaker_keys[] = {"failures", "cooldown", NULL};
static const char *const router_keys[] = {"weights", NULL};
static const char *const weight_keys[] = {"capability", "fit", "health", "preference", NULL};
static const char *const log_keys[] = {"level", "file", "max_size", "keep", NULL};
static const char *const metrics_keys[] = {"file", "interval", NULL};
static const char *const shell_keys[] = {"enabled", "allow", "timeout", "max_output", NULL};
static const char *const queue_keys[] = {"concurrency", "timeout", "retries", NULL};
static const char *const server_keys[] = {"command", "args", "env", "cwd", "url", "headers",
                                           "enabled", "timeout", "startup_timeout", "type",
                                           "log_level", "max_message", "concurrency",
                                           "capabilities", "task_types", "weight",
                                           "preference", "health_interval", NULL};
static const char *const log_levels[] = {"debug", "info", "notice", "warning", "error",
                                         "critical", "alert", "emergency", NULL};

/* === env expansion === */

int cfg_var_name_ok(const char *s)
{
    if (!isalpha((unsigned char)*s) && *s != '_')
        return 0;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && *s != '_')
            return 0;
    return 1;
}

static void add_secret_name(struct config *c, const char *name)
{
    for (size_t i = 0; i < c->nsecret_env; i++)
        if (!strcmp(c->secret_env[i], name))
            return;
    c->secret_env = xrealloc(c->secret_env, (c->nsecret_env + 1) * sizeof *c->secret_env);
    c->secret_env[c->nsecret_env++] = xstrdup(name);
}

/* config_expand_env, noting each variable it read in refs (may be NULL). */
static int expand_env(const char *s, char **out, char **errmsg, struct config *refs);

int config_expand_env(const char *s, char **out, char **errmsg)
{
    return expand_env(s, out, errmsg, NULL);
}

static int expand_env(const char *s, char **out, char **errmsg, struct config *refs)
{
    struct buf b;
    buf_init(&b);
    buf_puts(&b, "");
    char *inner = NULL;
    for (const char *p = s; *p;) {
        if (p[0] == '$' && p[1] == '$' && p[2] == '{') {
            buf_puts(&b, "${");
            p += 3;
            continue;
        }
        if (p[0] != '$' || p[1] != '{') {
            buf_putc(&b, *p++);
            continue;
        }
        const char *end = strchr(p + 2, '}');
        if (!end) {
            *errmsg = xasprintf("unterminated '${' in '%s' (close it with '}', or write '$${' "
                                "for a literal '${')", s);
            goto fail;
        }
        inner = xstrndup(p + 2, (size_t)(end - p - 2));
        char *def = strstr(inner, ":-");
        if (def) {
            *def = '\0';
            def += 2;
        }
        /* VS Code spells environment variables ${env:NAME}. */
        const char *name = strncmp(inner, "env:", 4) == 0 ? inner + 4 : inner;
        if (!cfg_var_name_ok(name)) {
            if (strncmp(inner, "input:", 6) == 0)
                *errmsg = xasprintf("'${%s}' is a VS Code input, which mcpdeck cannot ask for; "
                                    "use an environment variable, ${NAME}", inner);
            else
                *errmsg = xasprintf("'${%s}' is not a valid variable reference (use ${NAME} or "
                                    "${NAME:-default})", inner);
            goto fail;
        }
        const char *v = getenv(name);
        if (refs && v && *v)
            add_secret_name(refs, name);
        if (v && (*v || !def)) {
            buf_puts(&b, v);
        } else if (def) {
            buf_puts(&b, def);
        } else {
            *errmsg = xasprintf("environment variable '%s' is not set (use ${%s:-default} for "
                                "a default)", name, name);
            goto fail;
        }
        free(inner);
        inner = NULL;
        p = end + 1;
    }
    *out = buf_detach(&b);
    return 0;
fail:
    free(inner);
    buf_fini(&b);
    return -1;
}

/* === helpers === */

static const char *const named_keys[] = {"Enter", "Tab", "S-Tab", "Esc", "Space", "Backspace",
                                         "Delete", "Up", "Down", "Left", "Right", "Home",
                                         "End", "PgUp", "PgDn", NULL};

int config_key_name_ok(const char *name)
{
    size_t n = strlen(name);
    if (n == 0)
        return 0;
    /* one (UTF-8) character, printable */
    unsigned char c0 = (unsigned char)name[0];
    size_t clen = c0 < 0x80 ? 1 : c0 >= 0xf0 ? 4 : c0 >= 0xe0 ? 3 : c0 >= 0xc0 ? 2 : 0;
    if (clen && clen == n && (c0 >= 0x80 || (c0 > ' ' && c0 < 127)))
        return 1;
    if (n == 2 && name[0] == '^' && ((name[1] >= 'A' && name[1] <= 'Z') ||
                                     (name[1] >= 'a' && name[1] <= 'z')))
        return 1;
    if (name[0] == 'F' && n >= 2 && n <= 3) {
        char *end;
        long k = strtol(name + 1, &end, 10);
        if (!*end && k >= 1 && k <= 12)
            return 1;
    }
    for (size_t i = 0; named_keys[i]; i++)
        if (strcmp(named_keys[i], name) == 0)
            return 1;
    return 0;
}

/* `theme: NAME` and `keys: {KEY: "command string"}` for the TUI (the
 * commands are checked by the TUI, which knows them). */
static int load_ui(struct loader *L, const struct ydoc_node *root, struct config *c)
{
    const struct ydoc_node *v;
    if ((v = ydoc_map_get(root, "theme"))) {
        char *th;
        if (cfg_scalar(L, v, "theme", &th) < 0)
            return -1;
        if (!*th) {
            free(th);
            return cfg_fail(L, v, "'theme' is empty; expected a theme name (dark, light, mono, ...)");
        }
        free(c->ui_theme);
        c->ui_theme = th;
    }
    v = ydoc_map_get(root, "keys");
    if (!v || (v->kind == YDOC_SCALAR && ydoc_scalar_type(v) == YDOC_T_NULL))
        return 0;
    if (v->kind != YDOC_MAP)
        return cfg_fail(L, v, "'keys' must be a mapping from a key to a command string "
                              "(e.g. keys: {\"x\": \"memory\"})");
    for (size_t i = 0; i < v->npairs; i++) {
        const struct ydoc_node *k = v->pairs[i].key, *cmd = v->pairs[i].value;
        if (!config_key_name_ok(k->str))
            return cfg_fail(L, k, "unknown key name '%s'; expected one character, ^A..^Z, "
                                  "F1..F12, Enter, Tab, S-Tab, Esc, Space, Backspace, Delete, "
                                  "Up, Down, Left, Right, Home, End, PgUp or PgDn", k->str);
        char *command;
        if (cfg_scalar(L, cmd, k->str, &command) < 0)
            return -1;
        if (!*command) {
            free(command);
            return cfg_fail(L, cmd, "the command for key '%s' is empty", k->str);
        }
        c->ui_keys = xrealloc(c->ui_keys, (c->nui_keys + 1) * sizeof *c->ui_keys);
        struct config_key *ck = &c->ui_keys[c->nui_keys++];
        ck->key = xstrdup(k->str);
        ck->command = command;
        ck->line = cmd->line;
        ck->col = cmd->col;
    }
    return 0;
}


int cfg_fail(struct loader *L, const struct ydoc_node *n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *msg = xvasprintf(fmt, ap);
    va_end(ap);
    L->err = ydoc_errorf(L->d, n, "%s", msg);
    free(msg);
    return -1;
}

/* A scalar value with ${VAR} expanded. */
int cfg_scalar(struct loader *L, const struct ydoc_node *n, const char *what, char **out)
{
    if (n->kind != YDOC_SCALAR)
        return cfg_fail(L, n, "'%s' must be a single value, not a %s", what, ydoc_kind_name(n->kind));
    char *err = NULL;
    if (expand_env(n->str, out, &err, L->secret_refs ? L->c : NULL) < 0) {
        cfg_fail(L, n, "%s", err);
        free(err);
        return -1;
    }
    return 0;
}

int cfg_check_keys(struct loader *L, const struct ydoc_node *map, const char *where,
                      const char *const *allowed)
{
    char *e = ydoc_check_keys(L->d, map, where, allowed);
    if (!e)
        return 0;
    free(L->err);
    L->err = e;
    return -1;
}

int cfg_positive_int(struct loader *L, const struct ydoc_node *n, const char *what, int *out)
{
    char *v;
    if (cfg_scalar(L, n, what, &v) < 0)
        return -1;
    char *end;
    long x = strtol(v, &end, 10);
    if (!*v || *end || x < 1 || x > 1000000) {
        cfg_fail(L, n, "'%s' must be a positive integer, got '%s'", what, v);
        free(v);
        return -1;
    }
    free(v);
    *out = (int)x;
    return 0;
}

int cfg_duration(struct loader *L, const struct ydoc_node *n, const char *what, int *out)
{
    char *v;
    if (cfg_scalar(L, n, what, &v) < 0)
        return -1;
    int64_t ms;
    if (util_parse_duration_ms(v, &ms) < 0 || ms <= 0 || ms > 7LL * 86400000) {
        cfg_fail(L, n, "'%s' must be a duration such as 30 (seconds), 1500ms, 30s, 5m or 1h, "
                   "got '%s'", what, v);
        free(v);
        return -1;
    }
    free(v);
    *out = (int)ms;
    return 0;
}

/* true/false (any core-schema spelling), after ${VAR} expansion, so
 * "enabled: ${USE_X:-false}" works. */
int cfg_boolean(struct loader *L, const struct ydoc_node *n, const char *what, int *out)
{
    static const char *const words[] = {"true", "True", "TRUE", "false", "False", "FALSE"};
    if (n->kind != YDOC_SCALAR)
        return cfg_fail(L, n, "'%s' must be true or false, not a %s", what,
                    ydoc_kind_name(n->kind));
    char *v;
    if (cfg_scalar(L, n, what, &v) < 0)
        return -1;
    for (size_t i = 0; i < ARRAY_LEN(words); i++)
        if (!strcmp(v, words[i])) {
            *out = i < 3;
            free(v);
            return 0;
        }
    cfg_fail(L, n, "'%s' must be true or false, got '%s'", what, v);
    free(v);
    return -1;
}

int cfg_string_list(struct loader *L, const struct ydoc_node *n, const char *what,
                       char ***out, size_t *count)
{
    if (n->kind != YDOC_SEQ)
        return cfg_fail(L, n, "'%s' must be a list, not a %s", what, ydoc_kind_name(n->kind));
    *out = xcalloc(n->nitems + 1, sizeof **out);
    *count = 0;
    for (size_t i = 0; i < n->nitems; i++) {
        if (cfg_scalar(L, n->items[i], what, &(*out)[i]) < 0)
            return -1;
        (*count)++;
    }
    return 0;
}

/* Whether name is acceptable in a map rendered by cfg_pair_map(): an
 * environment variable name has no '='; a header name is an HTTP token. */
static int pair_name_ok(const char *name, int header)
{
    if (!*name)
        return 0;
    for (const char *c = name; *c; c++) {
        if (!header && *c == '=')
            return 0;
        if (header && !isalnum((unsigned char)*c) && !strchr("!#$%&'*+-.^_`|~", *c))
            return 0;
    }
    return 1;
}

/* A map of name → value rendered as "name<sep>value" strings: env
 * ("K=V") or headers ("Name: value"; no line breaks in the value). */
int cfg_pair_map(struct loader *L, const struct ydoc_node *n, const char *what,
                    int header, char ***out, size_t *count)
{
    if (n->kind != YDOC_MAP)
        return cfg_fail(L, n, "'%s' must be a mapping of names to values", what);
    *out = xcalloc(n->npairs + 1, sizeof **out);
    *count = 0;
    for (size_t i = 0; i < n->npairs; i++) {
        const struct ydoc_node *k = n->pairs[i].key;
        if (!pair_name_ok(k->str, header))
            return cfg_fail(L, k, header ? "'%s' is not a valid HTTP header name"
                                     : "'%s' is not a valid environment variable name",
                        k->str);
        char *v;
        if (cfg_scalar(L, n->pairs[i].value, what, &v) < 0)
            return -1;
        if (header && strpbrk(v, "\r\n")) {
            free(v);
            return cfg_fail(L, n->pairs[i].value, "header '%s' must not contain a line break",
                        k->str);
        }
        (*out)[i] = xasprintf("%s%s%s", k->str, header ? ": " : "=", v);
        (*count)++;
        free(v);
    }
    return 0;
}

int cfg_valid_name(const char *s)
{
    if (!*s)
        return 0;
    for (const char *c = s; *c; c++)
        if (!isalnum((unsigned char)*c) && *c != '_' && *c != '-')
            return 0;
    return 1;
}

void cfg_strv_free(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

static void server_fini(struct config_server *s)
{
    cfg_strv_free(s->caps, s->ncaps);
    cfg_strv_free(s->task_types, s->ntask_types);
    free(s->weight);
    free(s->name);
    free(s->command);
    for (size_t i = 0; i < s->nargs; i++)
        free(s->args[i]);
    free(s->args);
    for (size_t i = 0; i < s->nenv; i++)
        free(s->env[i]);
    free(s->env);
    free(s->cwd);
    free(s->url);
    free(s->log_level);
    for (size_t i = 0; i < s->nheaders; i++)
        free(s->headers[i]);
    free(s->headers);
}

/* A number in [lo, hi]. */
int cfg_number(struct loader *L, const struct ydoc_node *n, const char *what, double lo,
                  double hi, double *out)
{
    char *v;
    if (cfg_scalar(L, n, what, &v) < 0)
        return -1;
    char *end;
    double x = strtod(v, &end);
    if (!*v || *end || !(x >= lo && x <= hi)) {
        cfg_fail(L, n, "'%s' must be a number from %g to %g, got '%s'", what, lo, hi, v);
        free(v);
        return -1;
    }
    free(v);
    *out = x;
    return 0;
}

/* A size: plain bytes or with B, KiB, MiB; within [lo, hi]. */
int cfg_size_value(struct loader *L, const struct ydoc_node *n, const char *what,
                      double lo, double hi, int *out)
{
    char *t;
    if (cfg_scalar(L, n, what, &t) < 0)
        return -1;
    char *end;
    double x = strtod(t, &end);
    double mult = !strcmp(end, "") || !strcmp(end, "B") ? 1 : !strcmp(end, "KiB") ? 1024
                  : !strcmp(end, "MiB") ? 1048576 : -1;
    int empty = end == t;
    free(t);
    if (empty || mult < 0 || x * mult < lo || x * mult > hi)
        return cfg_fail(L, n, "'%s' must be a size from %.0fKiB to %.0fMiB, such as 16MiB or "
                          "65536", what, lo / 1024, hi / 1048576);
    *out = (int)(x * mult);
    return 0;
}

/* A list of words (capabilities, task types): lowercase letters, digits, '_'. */
int cfg_word_list(struct loader *L, const struct ydoc_node *n, const char *what,
                     char ***out, size_t *count)
{
    if (cfg_string_list(L, n, what, out, count) < 0)
        return -1;
    for (size_t i = 0; i < *count; i++) {
        const char *w = (*out)[i];
        int ok = *w != '\0';
        for (const char *c = w; *c; c++)
            ok &= islower((unsigned char)*c) || isdigit((unsigned char)*c) || *c == '_';
        if (!ok)
            return cfg_fail(L, n->items[i], "'%s' in '%s' must be a lowercase word such as "
                                        "code_analysis", w, what);
    }
    return 0;
}

/* capabilities, task_types, weight, preference, health_interval */
static int routing_keys(struct loader *L, const struct ydoc_node *n, struct config_server *s)
{
    const struct ydoc_node *v;
    if ((v = ydoc_map_get(n, "capabilities"))) {
        s->has_caps = 1;
        if (cfg_word_list(L, v, "capabilities", &s->caps, &s->ncaps) < 0)
            return -1;
    }
    if ((v = ydoc_map_get(n, "task_types"))) {
        s->has_task_types = 1;
        if (cfg_word_list(L, v, "task_types", &s->task_types, &s->ntask_types) < 0)
            return -1;
    }
    if ((v = ydoc_map_get(n, "weight"))) {
        if (cfg_scalar(L, v, "weight", &s->weight) < 0)
            return -1;
        if (strcmp(s->weight, "light") && strcmp(s->weight, "heavy") && strcmp(s->weight, "both"))
            return cfg_fail(L, v, "'weight' must be light, heavy or both; got '%s'", s->weight);
    }
    if ((v = ydoc_map_get(n, "preference")) &&
        cfg_number(L, v, "preference", 0, 1, &s->preference) < 0)
        return -1;
    if ((v = ydoc_map_get(n, "health_interval")) &&
        cfg_duration(L, v, "health_interval", &s->health_interval_ms) < 0)
        return -1;
    return 0;
}

/* === servers === */

static int load_server(struct loader *L, const struct ydoc_node *key, const struct ydoc_node *n,
                       struct config_server *s)
{
    s->enabled = 1;
    s->timeout_ms = 60000;
    s->startup_timeout_ms = 30000;
    s->max_message = 16 << 20;
    s->preference = -1;
    s->line = key->line;
    s->col = key->col;
    s->name = xstrdup(key->str);
    if (!cfg_valid_name(key->str))
        return cfg_fail(L, key, "server name '%s' may use only letters, digits, '_' and '-' "
                            "(tools are addressed server.tool)", key->str);
    if (!strcmp(key->str, "fs") || !strcmp(key->str, "git") || !strcmp(key->str, "memory") ||
        !strcmp(key->str, "shell"))
        return cfg_fail(L, key, "server name '%s' is reserved for the built-in server; choose "
                            "another name", key->str);
    if (n->kind != YDOC_MAP)
        return cfg_fail(L, n, "server '%s' must be a mapping with 'command' or 'url'", key->str);
    if (L->fmt == FMT_MCPDECK && cfg_check_keys(L, n, "a server", server_keys) < 0)
        return -1;
    const struct ydoc_node *v;
    const struct ydoc_node *cmd = ydoc_map_get(n, "command");
    const struct ydoc_node *url = ydoc_map_get(n, "url");
    if ((v = ydoc_map_get(n, "type"))) {
        char *t;
        if (cfg_scalar(L, v, "type", &t) < 0)
            return -1;
        int sse = !strcmp(t, "sse");
        int stdio = !strcmp(t, "stdio");
        int http = !strcmp(t, "http") || !strcmp(t, "streamable-http") ||
                   !strcmp(t, "streamableHttp");
        int rc = 0;
        if (sse)
            rc = cfg_fail(L, v, "the deprecated HTTP+SSE transport is not supported; use the "
                            "server's Streamable HTTP endpoint (type: http)");
        else if (!stdio && !http)
            rc = cfg_fail(L, v, "unknown server type '%s'; expected one of: stdio, http, "
                            "streamable-http", t);
        else if (stdio && !cmd)
            rc = cfg_fail(L, v, "server '%s' has type '%s' but no 'command'", key->str, t);
        else if (http && !url)
            rc = cfg_fail(L, v, "server '%s' has type '%s' but no 'url'", key->str, t);
        free(t);
        if (rc < 0)
            return -1;
    }
    if (cmd && url)
        return cfg_fail(L, n, "server '%s' has both 'command' and 'url'; give one", key->str);
    if (!cmd && !url)
        return cfg_fail(L, n, "server '%s' needs 'command' (stdio) or 'url' (Streamable HTTP)",
                    key->str);
    if (cmd) {
        s->kind = CONFIG_SERVER_STDIO;
        if (cfg_scalar(L, cmd, "command", &s->command) < 0)
            return -1;
        if (!*s->command)
            return cfg_fail(L, cmd, "'command' is empty");
    } else {
        s->kind = CONFIG_SERVER_HTTP;
        L->secret_refs = 1;
        int rc = cfg_scalar(L, url, "url", &s->url);
        L->secret_refs = 0;
        if (rc < 0)
            return -1;
        if (strncmp(s->url, "http://", 7) && strncmp(s->url, "https://", 8))
            return cfg_fail(L, url, "'url' must start with http:// or https://, got '%s'", s->url);
    }
    /* what a server's args, env and headers take from the environment is
     * treated as a secret (tokens live there) */
    L->secret_refs = 1;
    if ((v = ydoc_map_get(n, "args")) && cfg_string_list(L, v, "args", &s->args, &s->nargs) < 0)
        return -1;
    if ((v = ydoc_map_get(n, "env")) && cfg_pair_map(L, v, "env", 0, &s->env, &s->nenv) < 0)
        return -1;
    if ((v = ydoc_map_get(n, "headers")) &&
        cfg_pair_map(L, v, "headers", 1, &s->headers, &s->nheaders) < 0)
        return -1;
    L->secret_refs = 0;
    if (routing_keys(L, n, s) < 0)
        return -1;
    if ((v = ydoc_map_get(n, "cwd")) && cfg_scalar(L, v, "cwd", &s->cwd) < 0)
        return -1;
    if ((v = ydoc_map_get(n, "enabled")) && cfg_boolean(L, v, "enabled", &s->enabled) < 0)
        return -1;
    if ((v = ydoc_map_get(n, "disabled")) && L->fmt != FMT_MCPDECK) {
        int off = 0;
        if (cfg_boolean(L, v, "disabled", &off) < 0)
            return -1;
        s->enabled = !off;
    }
    if ((v = ydoc_map_get(n, "timeout")) && cfg_duration(L, v, "timeout", &s->timeout_ms) < 0)
        return -1;
    if ((v = ydoc_map_get(n, "startup_timeout")) &&
        cfg_duration(L, v, "startup_timeout", &s->startup_timeout_ms) < 0)
        return -1;
    if ((v = ydoc_map_get(n, "log_level"))) {
        if (cfg_scalar(L, v, "log_level", &s->log_level) < 0)
            return -1;
        int ok = 0;
        for (size_t i = 0; log_levels[i]; i++)
            ok |= strcmp(s->log_level, log_levels[i]) == 0;
        if (!ok)
            return cfg_fail(L, v, "'log_level' must be one of: debug, info, notice, warning, error, "
                              "critical, alert, emergency; got '%s'", s->log_level);
    }
    if ((v = ydoc_map_get(n, "concurrency")) &&
        cfg_positive_int(L, v, "concurrency", &s->concurrency) < 0)
        return -1;
    if ((v = ydoc_map_get(n, "max_message")) &&
        cfg_size_value(L, v, "max_message", 1024, 1073741824.0, &s->max_message) < 0)
        return -1;
    return 0;
}

/* The map of servers under key ("servers" or "mcpServers"). */
static int load_servers(struct loader *L, const char *key, const struct ydoc_node *n,
                        struct config *c)
{
    if (n->kind == YDOC_SCALAR && ydoc_scalar_type(n) == YDOC_T_NULL)
        return 0;
    if (n->kind != YDOC_MAP)
        return cfg_fail(L, n, "'%s' must be a mapping of server names to servers", key);
    c->servers = xcalloc(n->npairs ? n->npairs : 1, sizeof *c->servers);
    for (size_t i = 0; i < n->npairs; i++) {
        c->nservers++;
        if (load_server(L, n->pairs[i].key, n->pairs[i].value, &c->servers[i]) < 0)
            return -1;
    }
    return 0;
}

/* === documents === */

static char *default_data_dir(void)
{
    const char *x = getenv("XDG_DATA_HOME");
    if (x && *x)
        return xasprintf("%s/mcpdeck", x);
    const char *h = getenv("HOME");
    return xasprintf("%s/.local/share/mcpdeck", h && *h ? h : ".");
}

/* A section that must be a mapping with known keys; NULL when absent or
 * null (then *ok stays 1). */
const struct ydoc_node *cfg_section(struct loader *L, const struct ydoc_node *root,
                                       const char *name, const char *const *keys, int *ok)
{
    const struct ydoc_node *v = ydoc_map_get(root, name);
    if (!v || (v->kind == YDOC_SCALAR && ydoc_scalar_type(v) == YDOC_T_NULL))
        return NULL;
    if (v->kind != YDOC_MAP) {
        cfg_fail(L, v, "'%s' must be a mapping", name);
        *ok = 0;
        return NULL;
    }
    if (cfg_check_keys(L, v, name, keys) < 0) {
        *ok = 0;
        return NULL;
    }
    return v;
}

/* health, breaker, router, log, metrics, secrets */
static int load_sections(struct loader *L, const struct ydoc_node *root, struct config *c)
{
    int ok = 1;
    const struct ydoc_node *m, *v;
    if ((m = cfg_section(L, root, "health", health_keys, &ok))) {
        if ((v = ydoc_map_get(m, "interval")) &&
            cfg_duration(L, v, "interval", &c->health_interval_ms) < 0)
            return -1;
        if ((v = ydoc_map_get(m, "slow")) && cfg_duration(L, v, "slow", &c->health_slow_ms) < 0)
            return -1;
        if ((v = ydoc_map_get(m, "window")) &&
            cfg_positive_int(L, v, "window", &c->health_window) < 0)
            return -1;
    }
    if (!ok)
        return -1;
    if ((m = cfg_section(L, root, "breaker", breaker_keys, &ok))) {
        if ((v = ydoc_map_get(m, "failures")) &&
            cfg_positive_int(L, v, "failures", &c->breaker_failures) < 0)
            return -1;
        if ((v = ydoc_map_get(m, "cooldown")) &&
            cfg_duration(L, v, "cooldown", &c->breaker_cooldown_ms) < 0)
            return -1;
    }
    if (!ok)
        return -1;
    if ((m = cfg_section(L, root, "router", router_keys, &ok)) &&
        (m = cfg_section(L, m, "weights", weight_keys, &ok))) {
        struct { const char *k; double *d; } w[] = {
            {"capability", &c->weights.capability}, {"fit", &c->weights.fit},
            {"health", &c->weights.health}, {"preference", &c->weights.preference}};
        for (size_t i = 0; i < ARRAY_LEN(w); i++)
            if ((v = ydoc_map_get(m, w[i].k)) && cfg_number(L, v, w[i].k, 0, 1, w[i].d) < 0)
                return -1;
        if (c->weights.capability + c->weights.fit + c->weights.health +
                c->weights.preference <= 0)
            return cfg_fail(L, m, "router weights must not all be 0");
    }
    if (!ok)
        return -1;
    if ((m = cfg_section(L, root, "log", log_keys, &ok))) {
        if ((v = ydoc_map_get(m, "level"))) {
            char *lv;
            if (cfg_scalar(L, v, "level", &lv) < 0)
                return -1;
            free(c->log_level);
            c->log_level = lv;
            if (strcmp(lv, "debug") && strcmp(lv, "info") && strcmp(lv, "warn") &&
                strcmp(lv, "error"))
                return cfg_fail(L, v, "log 'level' must be debug, info, warn or error; got '%s'",
                            lv);
        }
        if ((v = ydoc_map_get(m, "file")) && cfg_scalar(L, v, "file", &c->log_file) < 0)
            return -1;
        if ((v = ydoc_map_get(m, "max_size")) &&
            cfg_size_value(L, v, "max_size", 4096, 1073741824.0, &c->log_max_bytes) < 0)
            return -1;
        if ((v = ydoc_map_get(m, "keep")) && cfg_positive_int(L, v, "keep", &c->log_keep) < 0)
            return -1;
    }
    if (!ok)
        return -1;
    if ((m = cfg_section(L, root, "metrics", metrics_keys, &ok))) {
        if ((v = ydoc_map_get(m, "file")) && cfg_scalar(L, v, "file", &c->metrics_file) < 0)
            return -1;
        if ((v = ydoc_map_get(m, "interval")) &&
            cfg_duration(L, v, "interval", &c->metrics_interval_ms) < 0)
            return -1;
    }
    if (!ok)
        return -1;
    if ((m = cfg_section(L, root, "shell", shell_keys, &ok))) {
        if ((v = ydoc_map_get(m, "enabled")) && cfg_boolean(L, v, "enabled", &c->shell_enabled) < 0)
            return -1;
        if ((v = ydoc_map_get(m, "allow")) &&
            cfg_string_list(L, v, "allow", &c->shell_allow, &c->nshell_allow) < 0)
            return -1;
        if ((v = ydoc_map_get(m, "timeout")) &&
            cfg_duration(L, v, "timeout", &c->shell_timeout_ms) < 0)
            return -1;
        if ((v = ydoc_map_get(m, "max_output")) &&
            cfg_size_value(L, v, "max_output", 1024, 1073741824.0, &c->shell_max_output) < 0)
            return -1;
        if (c->shell_enabled && !c->nshell_allow)
            return cfg_fail(L, m, "shell is enabled but shell.allow lists no program; name the "
                                  "programs it may run (allow: [git, make])");
    }
    if (!ok)
        return -1;
    if ((v = ydoc_map_get(root, "secrets"))) {
        char **names = NULL;
        size_t n = 0;
        int rc = cfg_string_list(L, v, "secrets", &names, &n);
        for (size_t i = 0; i < n && rc == 0; i++) {
            if (!cfg_var_name_ok(names[i]))
                rc = cfg_fail(L, v->items[i], "'%s' in 'secrets' is not an environment variable "
                                          "name", names[i]);
            else
                add_secret_name(c, names[i]);
        }
        cfg_strv_free(names, n);
        if (rc < 0)
            return -1;
    }
    return 0;
}

static int load_doc(struct loader *L, struct config *c)
{
    const struct ydoc_node *root = L->d->root;
    if (!root)
        return 0;   /* an empty file is the defaults */
    if (root->kind != YDOC_MAP)
        return cfg_fail(L, root, "the configuration must be a mapping, not a %s",
                    ydoc_kind_name(root->kind));
    const struct ydoc_node *v;
    size_t nlen = strlen(L->d->name);
    int is_json = nlen >= 5 && strcmp(L->d->name + nlen - 5, ".json") == 0;
    if ((v = ydoc_map_get(root, "mcpServers")))
        L->fmt = FMT_CLAUDE;
    else if (is_json && ydoc_map_get(root, "servers"))
        L->fmt = FMT_VSCODE;
    if (L->fmt == FMT_CLAUDE)
        return load_servers(L, "mcpServers", v, c);
    if (L->fmt == FMT_VSCODE)
        return load_servers(L, "servers", ydoc_map_get(root, "servers"), c);
    if (cfg_check_keys(L, root, "the configuration", top_keys) < 0)
        return -1;
    if ((v = ydoc_map_get(root, "data_dir"))) {
        char *d;
        if (cfg_scalar(L, v, "data_dir", &d) < 0)
            return -1;
        if (!*d) {
            free(d);
            return cfg_fail(L, v, "'data_dir' is empty");
        }
        if (d[0] == '~' && (d[1] == '/' || !d[1])) {
            const char *h = getenv("HOME");
            if (!h || !*h) {
                free(d);
                return cfg_fail(L, v, "'data_dir' starts with ~ but HOME is not set");
            }
            char *e = xasprintf("%s%s", h, d + 1);
            free(d);
            d = e;
        }
        free(c->data_dir);
        c->data_dir = d;
    }
    if ((v = ydoc_map_get(root, "queue")) &&
        !(v->kind == YDOC_SCALAR && ydoc_scalar_type(v) == YDOC_T_NULL)) {
        if (v->kind != YDOC_MAP)
            return cfg_fail(L, v, "'queue' must be a mapping (concurrency, timeout, retries)");
        if (cfg_check_keys(L, v, "queue", queue_keys) < 0)
            return -1;
        const struct ydoc_node *q;
        if ((q = ydoc_map_get(v, "concurrency")) &&
            cfg_positive_int(L, q, "concurrency", &c->queue_concurrency) < 0)
            return -1;
        if ((q = ydoc_map_get(v, "timeout")) &&
            cfg_duration(L, q, "timeout", &c->queue_timeout_ms) < 0)
            return -1;
        if ((q = ydoc_map_get(v, "retries")) &&
            cfg_positive_int(L, q, "retries", &c->queue_retries) < 0)
            return -1;
    }
    if (load_ui(L, root, c) < 0 || load_sections(L, root, c) < 0 || cfg_load_llm(L, root, c) < 0 ||
        cfg_load_memory(L, root, c) < 0 || cfg_load_serve(L, root, c) < 0)
        return -1;
    if ((v = ydoc_map_get(root, "servers")) && load_servers(L, "servers", v, c) < 0)
        return -1;
    return 0;
}

int config_load_string(const char *name, const char *text, size_t len, struct config **out,
                       char **errmsg)
{
    struct loader L;
    memset(&L, 0, sizeof L);
    if (ydoc_load_string(name, text, len, &L.d, errmsg) < 0)
        return -1;
    struct config *c = xcalloc(1, sizeof *c);
    c->source = xstrdup(name);
    c->data_dir = default_data_dir();
    c->queue_concurrency = 10;
    c->queue_timeout_ms = 300000;
    c->queue_retries = 3;
    c->health_interval_ms = 30000;
    c->health_slow_ms = 2000;
    c->health_window = 20;
    c->breaker_failures = 5;
    c->breaker_cooldown_ms = 60000;
    c->weights = (struct config_weights){0.4, 0.3, 0.2, 0.1};
    c->log_level = xstrdup("info");
    c->log_max_bytes = 10 << 20;
    c->log_keep = 5;
    c->metrics_interval_ms = 15000;
    c->shell_timeout_ms = 30000;
    c->shell_max_output = 1 << 20;
    cfg_llm_defaults(c);
    cfg_memory_defaults(c);
    cfg_serve_defaults(c);
    L.c = c;
    int rc = load_doc(&L, c);   /* server names are unique: ydoc refuses duplicate keys */
    ydoc_free(L.d);
    if (rc < 0) {
        config_free(c);
        *errmsg = L.err;
        return -1;
    }
    *out = c;
    return 0;
}

int config_load_file(const char *path, struct config **out, char **errmsg)
{
    char *text;
    size_t len;
    int rc = util_read_file_max(path, YDOC_MAX_FILE, &text, &len);
    if (rc == -EFBIG) {
        *errmsg = xasprintf("cannot read config %s: larger than %d MB", path,
                            YDOC_MAX_FILE >> 20);
        return -1;
    }
    if (rc < 0) {
        *errmsg = xasprintf("cannot read config %s: %s", path, strerror(-rc));
        return -1;
    }
    rc = config_load_string(path, text, len, out, errmsg);
    free(text);
    return rc;
}

int config_load(const char *explicit_path, struct config **out, char **errmsg)
{
    if (explicit_path)
        return config_load_file(explicit_path, out, errmsg);
    if (access("mcpdeck.yaml", F_OK) == 0)
        return config_load_file("mcpdeck.yaml", out, errmsg);
    if (access(".mcp.json", F_OK) == 0)
        return config_load_file(".mcp.json", out, errmsg);
    const char *x = getenv("XDG_CONFIG_HOME");
    const char *h = getenv("HOME");
    char *user = x && *x ? xasprintf("%s/mcpdeck/config.yaml", x)
                         : xasprintf("%s/.config/mcpdeck/config.yaml", h ? h : ".");
    if (access(user, F_OK) == 0) {
        int rc = config_load_file(user, out, errmsg);
        free(user);
        return rc;
    }
    free(user);
    const struct embedded_file *f = embedded_find("data/config.default.yaml");
    if (!f) {
        *errmsg = xasprintf("no configuration found and no embedded default");
        return -1;
    }
    return config_load_string("<embedded default>", (const char *)f->data, f->len, out, errmsg);
}

void config_free(struct config *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->nservers; i++)
        server_fini(&c->servers[i]);
    free(c->servers);
    free(c->source);
    free(c->ui_theme);
    for (size_t i = 0; i < c->nui_keys; i++) {
        free(c->ui_keys[i].key);
        free(c->ui_keys[i].command);
    }
    free(c->ui_keys);
    free(c->data_dir);
    free(c->log_file);
    free(c->log_level);
    free(c->metrics_file);
    cfg_strv_free(c->secret_env, c->nsecret_env);
    cfg_strv_free(c->shell_allow, c->nshell_allow);
    cfg_llm_free(c);
    cfg_memory_free(c);
    cfg_serve_free(c);
    free(c);
}

const struct config_server *config_find_server(const struct config *c, const char *name)
{
    for (size_t i = 0; i < c->nservers; i++)
        if (strcmp(c->servers[i].name, name) == 0)
            return &c->servers[i];
    return NULL;
}
