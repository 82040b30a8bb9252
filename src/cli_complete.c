/* cli_complete.c — `mcpdeck __complete`: candidates for the shell
 * completion scripts in completions/ (bash, zsh, fish).
 *
 * A completion runs on every Tab, so this must be quick and must not
 * change anything: it loads the config, reads the database through a
 * read-only SQLite connection (no migrations, no job recovery, no
 * engine), and starts no server. What only a live server knows (a
 * configured server's tools) comes from the jobs that called it. */
#include "cli.h"
#include "cli_complete.h"
#include "builtin.h"
#include "config.h"
#include "registry.h"
#include "util.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define JOBS_LIMIT 50
#define DESC_MAX 60          /* bytes of a description kept */

static const char complete_usage[] =
    "usage: mcpdeck __complete servers|jobs|namespaces|models|themes|formats|task-types|\n"
    "                          capabilities|log-levels|statuses|modes [PREFIX]\n"
    "       mcpdeck __complete tools SERVER [PREFIX]\n";

/* === Output === */

struct sink {
    FILE *out;
    const char *prefix;          /* "" = everything */
    char **seen;                 /* candidates printed, for de-duplication */
    size_t nseen;
};

static int sink_seen(const struct sink *s, const char *cand)
{
    for (size_t i = 0; i < s->nseen; i++)
        if (strcmp(s->seen[i], cand) == 0)
            return 1;
    return 0;
}

/* Print cand (and desc after a tab) when it starts with the prefix and
 * was not printed before. Of desc, the first sentence is kept, flattened
 * to one line and cut at DESC_MAX bytes on a character boundary. */
static void emit(struct sink *s, const char *cand, const char *desc)
{
    if (!cand || !*cand || strncmp(cand, s->prefix, strlen(s->prefix)) != 0 || sink_seen(s, cand))
        return;
    s->seen = xrealloc(s->seen, (s->nseen + 1) * sizeof *s->seen);
    s->seen[s->nseen++] = xstrdup(cand);
    fputs(cand, s->out);
    if (desc && *desc) {
        fputc('\t', s->out);
        const char *stop = strstr(desc, ". ");    /* the first sentence is enough */
        size_t n = stop ? (size_t)(stop - desc) : strlen(desc);
        int cut = n > DESC_MAX;
        if (cut) {
            n = DESC_MAX;
            while (n > 0 && ((unsigned char)desc[n] & 0xC0) == 0x80)
                n--;
        }
        int space = 0;
        for (size_t i = 0; i < n; i++) {
            unsigned char c = (unsigned char)desc[i];
            if (c < 0x20 || c == 0x7f) {       /* newlines, tabs: one space */
                if (!space)
                    fputc(' ', s->out);
                space = 1;
                continue;
            }
            space = 0;
            fputc(c, s->out);
        }
        if (cut)
            fputs("...", s->out);
    }
    fputc('\n', s->out);
}

static void sink_fini(struct sink *s)
{
    for (size_t i = 0; i < s->nseen; i++)
        free(s->seen[i]);
    free(s->seen);
}

/* === The database, read-only === */

/* The store in the data directory, opened read-only, or NULL when there
 * is none yet (or it cannot be read: completion then offers nothing). */
static sqlite3 *open_store(const struct cli_opts *o, const struct config *c)
{
    char *path = xasprintf("%s/mcpdeck.db", o->data_dir ? o->data_dir : c->data_dir);
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        sqlite3_close(db);
        db = NULL;
    } else {
        sqlite3_busy_timeout(db, 200);
    }
    free(path);
    return db;
}

/* Prepare sql on db; NULL when db is NULL or the schema lacks the table
 * (an old or foreign database). */
static sqlite3_stmt *prepare(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st = NULL;
    if (!db || sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
        sqlite3_finalize(st);
        return NULL;
    }
    return st;
}

static const char *col_text(sqlite3_stmt *st, int i)
{
    return (const char *)sqlite3_column_text(st, i);
}

/* === Candidates === */

static const struct builtin_server *find_builtin(const struct config *c, const char *name)
{
    const struct builtin_server *all[] = {&builtin_fs, &builtin_git, &builtin_memory,
                                          c->shell_enabled ? &builtin_shell : NULL};
    for (size_t i = 0; i < ARRAY_LEN(all); i++)
        if (all[i] && strcmp(all[i]->name, name) == 0)
            return all[i];
    return NULL;
}

/* The enabled override servers_runtime holds for name: 0, 1, or -1. */
static int runtime_enabled(sqlite3 *db, const char *name)
{
    sqlite3_stmt *st = prepare(db, "SELECT enabled FROM servers_runtime WHERE name = ?1");
    int on = -1;
    if (!st)
        return -1;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
        on = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return on;
}

static void complete_servers(struct sink *s, const struct config *c, sqlite3 *db)
{
    for (size_t i = 0; i < c->nservers; i++) {
        const struct config_server *cs = &c->servers[i];
        int on = runtime_enabled(db, cs->name);
        if (on < 0)
            on = cs->enabled;
        char *d = cs->kind == CONFIG_SERVER_HTTP
                      ? xasprintf("http %s%s", on ? "" : "(disabled) ", cs->url)
                      : xasprintf("stdio %s%s", on ? "" : "(disabled) ", cs->command);
        emit(s, cs->name, d);
        free(d);
    }
    const char *builtins[] = {"fs", "git", "memory", c->shell_enabled ? "shell" : NULL};
    for (size_t i = 0; i < ARRAY_LEN(builtins); i++) {
        const struct builtin_server *b = builtins[i] ? find_builtin(c, builtins[i]) : NULL;
        if (b)
            emit(s, b->name, "built-in");
    }
    sqlite3_stmt *st = prepare(db, "SELECT name, enabled FROM servers_runtime "
                                   "WHERE spec_json IS NOT NULL ORDER BY name");
    while (st && sqlite3_step(st) == SQLITE_ROW) {
        int off = sqlite3_column_type(st, 1) != SQLITE_NULL && !sqlite3_column_int(st, 1);
        emit(s, col_text(st, 0), off ? "added at run time (disabled)" : "added at run time");
    }
    sqlite3_finalize(st);
}

static void complete_tools(struct sink *s, const struct config *c, sqlite3 *db,
                           const char *server)
{
    const struct builtin_server *b = find_builtin(c, server);
    for (size_t i = 0; b && i < b->ntools; i++)
        emit(s, b->tools[i].name, b->tools[i].description);
    sqlite3_stmt *st = prepare(db, "SELECT tool FROM jobs WHERE server = ?1 AND kind = 'tool' "
                                   "AND tool IS NOT NULL GROUP BY tool ORDER BY MAX(id) DESC "
                                   "LIMIT 200");
    if (st)
        sqlite3_bind_text(st, 1, server, -1, SQLITE_STATIC);
    while (st && sqlite3_step(st) == SQLITE_ROW)
        emit(s, col_text(st, 0), "called before");
    sqlite3_finalize(st);
}

static void complete_jobs(struct sink *s, sqlite3 *db)
{
    /* the prefix goes into SQL so that the limit counts matching ids */
    sqlite3_stmt *st = prepare(db,
        "SELECT id, status, kind, server, tool, "
        "       CASE WHEN kind = 'model' AND json_valid(args_json) "
        "            THEN json_extract(args_json, '$.prompt') END "
        "FROM jobs WHERE CAST(id AS TEXT) LIKE ?1 || '%' ESCAPE '\\' "
        "ORDER BY id DESC LIMIT ?2");
    if (!st)
        return;
    struct buf esc;
    buf_init(&esc);
    for (const char *p = s->prefix; *p; p++) {
        if (*p == '%' || *p == '_' || *p == '\\')
            buf_putc(&esc, '\\');
        buf_putc(&esc, *p);
    }
    buf_putc(&esc, '\0');
    sqlite3_bind_text(st, 1, esc.data, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, JOBS_LIMIT);
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *status = col_text(st, 1), *kind = col_text(st, 2);
        const char *server = col_text(st, 3), *tool = col_text(st, 4);
        const char *prompt = col_text(st, 5);
        char *d;
        if (kind && strcmp(kind, "model") == 0)
            d = xasprintf("%s %s: %s", status, tool ? tool : "model", prompt ? prompt : "");
        else
            d = xasprintf("%s %s.%s", status, server ? server : "(routed)", tool ? tool : "?");
        emit(s, col_text(st, 0), d);
        free(d);
    }
    sqlite3_finalize(st);
    buf_fini(&esc);
}

static void complete_models(struct sink *s, const struct config *c)
{
    for (size_t i = 0; i < c->llm.naliases; i++) {
        char *d = xasprintf("alias of %s", c->llm.alias_targets[i]);
        emit(s, c->llm.alias_names[i], d);
        free(d);
    }
    for (size_t i = 0; i < c->llm.nmodels; i++) {
        const struct config_model *m = &c->llm.models[i];
        char *d = xasprintf("%s %s", m->provider, m->model);
        emit(s, m->name, d);
        free(d);
    }
}

struct word {
    const char *word, *desc;
};

static void emit_words(struct sink *s, const struct word *w, size_t n)
{
    for (size_t i = 0; i < n; i++)
        emit(s, w[i].word, w[i].desc);
}

static const struct word themes[] = {
    {"dark", "the default"}, {"light", NULL}, {"high-contrast", NULL}, {"mono", "no colours"},
};
static const struct word formats[] = {
    {"text", "batch and jobs: readable text"},
    {"json", "batch and jobs: one JSON document"},
    {"jsonl", "batch: one JSON object per task"},
    {"junit", "batch: JUnit XML for CI"},
    {"md", "jobs: Markdown"},
};
static const struct word log_levels[] = {
    {"debug", NULL}, {"info", "the default"}, {"warn", NULL}, {"error", NULL},
};
static const struct word statuses[] = {
    {"queued", NULL},    {"running", NULL},   {"succeeded", NULL},
    {"failed", NULL},    {"cancelled", NULL}, {"skipped", NULL},
};
static const struct word modes[] = {
    {"hybrid", "keyword and vector (default)"}, {"vector", NULL}, {"keyword", NULL},
};

/* === Entry === */

int cli_complete(const struct cli_opts *o, int argc, char **argv, FILE *out)
{
    const char *what = argc > 0 ? argv[0] : "";
    int is_tools = strcmp(what, "tools") == 0;
    int npos = is_tools ? 2 : 1;       /* WHAT [SERVER] before the prefix */
    if (argc < npos || argc > npos + 1) {
        fputs(complete_usage, stderr);
        return 2;
    }
    struct sink s = {out, argc > npos ? argv[npos] : "", NULL, 0};
    int rc = 0;
    const struct { const char *name; const struct word *w; size_t n; } fixed[] = {
        {"themes", themes, ARRAY_LEN(themes)},
        {"formats", formats, ARRAY_LEN(formats)},
        {"log-levels", log_levels, ARRAY_LEN(log_levels)},
        {"statuses", statuses, ARRAY_LEN(statuses)},
        {"modes", modes, ARRAY_LEN(modes)},
    };
    for (size_t i = 0; i < ARRAY_LEN(fixed); i++) {
        if (strcmp(what, fixed[i].name) == 0) {
            emit_words(&s, fixed[i].w, fixed[i].n);
            goto done;
        }
    }
    if (strcmp(what, "capabilities") == 0) {
        size_t n;
        const char *const *caps = registry_capabilities(&n);
        for (size_t i = 0; i < n; i++)
            emit(&s, caps[i], NULL);
        goto done;
    }
    if (strcmp(what, "task-types") == 0) {
        struct registry_catalog *cat = NULL;
        char *err = NULL;
        if (registry_catalog_embedded(&cat, &err) < 0) {
            fprintf(stderr, "mcpdeck: %s\n", err);
            free(err);
            rc = 2;
            goto done;
        }
        size_t n;
        const char *const *types = registry_task_types(cat, &n);
        for (size_t i = 0; i < n; i++)
            emit(&s, types[i], NULL);
        registry_catalog_free(cat);
        goto done;
    }
    static const char *const need_config[] = {"servers", "tools", "jobs", "namespaces",
                                              "models"};
    int known = 0;
    for (size_t i = 0; i < ARRAY_LEN(need_config); i++)
        known |= strcmp(what, need_config[i]) == 0;
    if (!known) {
        fprintf(stderr, "mcpdeck: __complete: unknown kind '%s'\n%s", what, complete_usage);
        rc = 2;
        goto done;
    }
    struct config *c = NULL;
    char *err = NULL;
    if (config_load(o->config_path, &c, &err) < 0) {
        fprintf(stderr, "mcpdeck: %s\n", err);
        free(err);
        rc = 2;
        goto done;
    }
    if (strcmp(what, "namespaces") == 0) {
        for (size_t i = 0; i < c->memory.nnamespaces; i++)
            emit(&s, c->memory.namespaces[i].name, NULL);
    } else if (strcmp(what, "models") == 0) {
        complete_models(&s, c);
    } else {
        sqlite3 *db = open_store(o, c);
        if (strcmp(what, "servers") == 0)
            complete_servers(&s, c, db);
        else if (is_tools)
            complete_tools(&s, c, db, argv[1]);
        else
            complete_jobs(&s, db);
        sqlite3_close(db);
    }
    config_free(c);
done:
    sink_fini(&s);
    return rc;
}
