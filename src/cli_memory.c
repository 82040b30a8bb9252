/* cli_memory.c — `mcpdeck memory ...`: the memory store from the shell.
 *
 *   add TEXT [--ns N] [--meta JSON] [--ttl DUR]
 *   search QUERY [--ns N]... [-k K] [--mode hybrid|vector|keyword]
 *                [--filter JSON] [--min-score X] [--exact] [--json]
 *   get ID | delete ID | list [--ns N] [--limit N]
 *   export [--ns N] > file.jsonl | import FILE (- = stdin)
 *   reindex [--all] | stats | sync
 *
 * It opens the database directly (no engine, no servers) and embeds in
 * this process, blocking, which is fine for a one-shot command.
 * Exit codes: 0 ok, 1 not found or failed, 2 bad input. */
#include "cli.h"
#include "config.h"
#include "db.h"
#include "memory.h"
#include "qdrant.h"
#include "util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char memory_usage[] =
    "usage: mcpdeck memory add TEXT [--ns N] [--meta JSON] [--ttl DUR]\n"
    "       mcpdeck memory search QUERY [--ns N]... [-k K] [--mode hybrid|vector|keyword]\n"
    "                             [--filter JSON] [--min-score X] [--exact] [--json]\n"
    "       mcpdeck memory get ID | delete ID | list [--ns N] [--limit N]\n"
    "       mcpdeck memory export [--ns N] > FILE.jsonl | import FILE|-\n"
    "       mcpdeck memory reindex [--all] | stats | sync\n";

struct mem_args {
    const char *pos;             /* the one positional argument */
    const char *ns[32];
    size_t nns;
    const char *meta, *ttl, *mode, *filter, *min_score, *k, *limit;
    int all;
    int exact;                   /* search --exact: float32 scan */
};

static int bad(const char *fmt, ...) PRINTF_LIKE(1, 2);
static int bad(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "mcpdeck: memory: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n%s", memory_usage);
    va_end(ap);
    return 2;
}

/* Parse argv (after the subcommand). Returns 0 or the exit code 2. */
static int parse_args(int argc, char **argv, struct mem_args *a)
{
    memset(a, 0, sizeof *a);
    for (int i = 0; i < argc; i++) {
        const char *s = argv[i];
        const char **slot = NULL;
        if (!strcmp(s, "--all")) {
            a->all = 1;
            continue;
        }
        if (!strcmp(s, "--exact")) {
            a->exact = 1;
            continue;
        }
        if (!strcmp(s, "--ns") || !strcmp(s, "--namespace")) {
            if (a->nns == ARRAY_LEN(a->ns))
                return bad("%s: at most 32 namespaces", s);
            slot = &a->ns[a->nns++];
        } else if (!strcmp(s, "--meta")) {
            slot = &a->meta;
        } else if (!strcmp(s, "--ttl")) {
            slot = &a->ttl;
        } else if (!strcmp(s, "--mode")) {
            slot = &a->mode;
        } else if (!strcmp(s, "--filter")) {
            slot = &a->filter;
        } else if (!strcmp(s, "--min-score")) {
            slot = &a->min_score;
        } else if (!strcmp(s, "-k") || !strcmp(s, "--k")) {
            slot = &a->k;
        } else if (!strcmp(s, "--limit")) {
            slot = &a->limit;
        } else if (s[0] == '-' && s[1]) {
            return bad("unknown option %s", s);
        } else if (!a->pos) {
            a->pos = s;
            continue;
        } else {
            return bad("unexpected argument '%s' (quote text with spaces)", s);
        }
        if (i + 1 >= argc)
            return bad("%s needs a value", s);
        *slot = argv[++i];
    }
    return 0;
}

static int parse_count(const char *s, long max, long *out)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (!*s || *end || v < 1 || v > max)
        return -1;
    *out = v;
    return 0;
}

/* A ttl: util_parse_duration_ms, or whole days "7d". */
static int parse_ttl(const char *s, int64_t *ms)
{
    size_t n = strlen(s);
    if (n > 1 && s[n - 1] == 'd') {
        char *end;
        long d = strtol(s, &end, 10);
        if (end != s + n - 1 || d < 1 || d > 36500)
            return -1;
        *ms = (int64_t)d * 86400000;
        return 0;
    }
    return util_parse_duration_ms(s, ms) == 0 && *ms > 0 ? 0 : -1;
}

static void print_time(int64_t ms)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    char b[32];
    localtime_r(&t, &tm);
    strftime(b, sizeof b, "%Y-%m-%d %H:%M:%S", &tm);
    fputs(b, stdout);
}

/* The first line of text, cut to max bytes (on a UTF-8 boundary). */
static void print_snippet(const char *text, size_t max)
{
    size_t n = strcspn(text, "\n");
    int cut = n > max || text[n] == '\n';
    if (n > max) {
        n = max;
        while (n > 0 && ((unsigned char)text[n] & 0xC0) == 0x80)
            n--;
    }
    printf("%.*s%s", (int)n, text, cut ? " …" : "");
}


static void print_json(cJSON *j)
{
    char *t = cJSON_Print(j);
    printf("%s\n", t);
    cJSON_free(t);
    cJSON_Delete(j);
}

/* === subcommands === */

static int do_add(struct memory *m, const struct mem_args *a, int json)
{
    if (!a->pos)
        return bad("%s", "add needs the TEXT");
    if (a->nns > 1)
        return bad("%s", "add takes one --ns");
    int64_t ttl = 0;
    if (a->ttl && parse_ttl(a->ttl, &ttl) < 0)
        return bad("--ttl must be a duration such as 90s, 10m, 24h or 7d, got '%s'", a->ttl);
    cJSON *meta = NULL;
    if (a->meta && !cJSON_IsObject(meta = cJSON_Parse(a->meta))) {
        cJSON_Delete(meta);
        return bad("--meta must be a JSON object, got: %s", a->meta);
    }
    int64_t id;
    char *err = NULL;
    int rc = memory_add(m, a->nns ? a->ns[0] : NULL, a->pos, meta, ttl, &id, &err);
    cJSON_Delete(meta);
    if (rc < 0) {
        fprintf(stderr, "mcpdeck: memory: %s\n", err);
        int unknown = strstr(err, "unknown namespace") || strstr(err, "empty");
        free(err);
        return unknown ? 2 : 1;
    }
    if (json) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "id", (double)id);
        cJSON_AddBoolToObject(o, "created", rc == 0);
        print_json(o);
    } else {
        printf(rc == 0 ? "added %lld\n" : "exists %lld (metadata merged)\n", (long long)id);
    }
    return 0;
}

static int do_search(struct memory *m, const struct mem_args *a, int json)
{
    if (!a->pos)
        return bad("%s", "search needs the QUERY");
    struct memory_query q = {a->pos, 10, a->nns ? a->ns : NULL, a->nns, NULL, 0, MEMORY_HYBRID, 0};
    long k;
    if (a->k) {
        if (parse_count(a->k, 1000, &k) < 0)
            return bad("-k must be an integer from 1 to 1000, got '%s'", a->k);
        q.k = (size_t)k;
    }
    if (a->mode) {
        if (!strcmp(a->mode, "hybrid"))
            q.mode = MEMORY_HYBRID;
        else if (!strcmp(a->mode, "vector"))
            q.mode = MEMORY_VECTOR;
        else if (!strcmp(a->mode, "keyword"))
            q.mode = MEMORY_KEYWORD;
        else
            return bad("--mode must be hybrid, vector or keyword, got '%s'", a->mode);
    }
    q.exact = a->exact;
    if (a->min_score) {
        char *end;
        q.min_score = strtod(a->min_score, &end);
        if (!*a->min_score || *end)
            return bad("--min-score must be a number, got '%s'", a->min_score);
    }
    cJSON *filter = NULL;
    if (a->filter && !cJSON_IsObject(filter = cJSON_Parse(a->filter))) {
        cJSON_Delete(filter);
        return bad("--filter must be a JSON object, got: %s", a->filter);
    }
    q.filter = filter;
    struct memory_hit *h;
    size_t n;
    char *err = NULL;
    int rc = memory_search(m, &q, &h, &n, &err);
    cJSON_Delete(filter);
    if (rc < 0) {
        fprintf(stderr, "mcpdeck: memory: %s\n", err);
        int input = strstr(err, "filter") || strstr(err, "namespace");
        free(err);
        return input ? 2 : 1;
    }
    if (json) {
        cJSON *arr = cJSON_CreateArray();
        for (size_t i = 0; i < n; i++) {
            cJSON *o = memory_entry_json(h[i].entry);
            cJSON_AddNumberToObject(o, "score", h[i].score);
            cJSON_AddNumberToObject(o, "bm25", h[i].bm25);
            cJSON_AddNumberToObject(o, "vector", h[i].vector);
            cJSON_AddNumberToObject(o, "rank_keyword", h[i].rank_keyword);
            cJSON_AddNumberToObject(o, "rank_vector", h[i].rank_vector);
            cJSON_AddItemToArray(arr, o);
        }
        print_json(arr);
    } else {
        for (size_t i = 0; i < n; i++) {
            printf("%3zu. [%lld] %-13s %.4f  ", i + 1, (long long)h[i].entry->id,
                   h[i].entry->ns, h[i].score);
            print_snippet(h[i].entry->text, 90);
            putchar('\n');
        }
        if (n == 0)
            printf("no results\n");
    }
    memory_hits_free(h, n);
    return 0;
}

static int parse_id(const char *s, int64_t *id)
{
    char *end;
    long long v = s ? strtoll(s, &end, 10) : 0;
    if (!s || !*s || *end || v < 1)
        return -1;
    *id = v;
    return 0;
}

static int do_get(struct memory *m, const struct mem_args *a, int json)
{
    int64_t id;
    if (parse_id(a->pos, &id) < 0)
        return bad("get needs an entry ID (a positive integer), got '%s'",
                   a->pos ? a->pos : "");
    struct memory_entry *e;
    int rc = memory_get(m, id, &e);
    if (rc != 0) {
        fprintf(stderr, "mcpdeck: memory: no entry %lld\n", (long long)id);
        return 1;
    }
    if (json) {
        print_json(memory_entry_json(e));
    } else {
        char *mj = cJSON_PrintUnformatted(e->metadata);
        printf("id:        %lld\nnamespace: %s\nmetadata:  %s\nhash:      %s\ncreated:   ",
               (long long)e->id, e->ns, mj, e->hash);
        print_time(e->created_ms);
        printf("\nupdated:   ");
        print_time(e->updated_ms);
        if (e->expires_ms) {
            printf("\nexpires:   ");
            print_time(e->expires_ms);
        }
        printf("\n\n%s\n", e->text);
        free(mj);
    }
    memory_entry_free(e);
    return 0;
}

static int do_delete(struct memory *m, const struct mem_args *a)
{
    int64_t id;
    if (parse_id(a->pos, &id) < 0)
        return bad("delete needs an entry ID (a positive integer), got '%s'",
                   a->pos ? a->pos : "");
    char *err = NULL;
    int rc = memory_delete(m, id, &err);
    if (rc < 0) {
        fprintf(stderr, "mcpdeck: memory: %s\n", err);
        free(err);
        return 1;
    }
    if (rc == 1) {
        fprintf(stderr, "mcpdeck: memory: no entry %lld\n", (long long)id);
        return 1;
    }
    printf("deleted %lld\n", (long long)id);
    return 0;
}

static int do_list(struct memory *m, const struct mem_args *a, int json)
{
    long limit = 50;
    if (a->limit && parse_count(a->limit, 1000000, &limit) < 0)
        return bad("--limit must be a positive integer, got '%s'", a->limit);
    if (a->nns > 1)
        return bad("%s", "list takes one --ns");
    struct memory_entry **v;
    size_t n;
    if (memory_list(m, a->nns ? a->ns[0] : NULL, (size_t)limit, &v, &n) < 0) {
        fprintf(stderr, "mcpdeck: memory: cannot list the entries\n");
        return 1;
    }
    if (json) {
        cJSON *arr = cJSON_CreateArray();
        for (size_t i = 0; i < n; i++)
            cJSON_AddItemToArray(arr, memory_entry_json(v[i]));
        print_json(arr);
    } else {
        for (size_t i = 0; i < n; i++) {
            printf("%6lld  %-13s ", (long long)v[i]->id, v[i]->ns);
            print_time(v[i]->updated_ms);
            printf("  ");
            print_snippet(v[i]->text, 80);
            putchar('\n');
        }
    }
    memory_entries_free(v, n);
    return 0;
}

static int do_import(struct memory *m, const struct mem_args *a)
{
    if (!a->pos)
        return bad("%s", "import needs a FILE (- for stdin)");
    FILE *in = strcmp(a->pos, "-") ? fopen(a->pos, "r") : stdin;
    if (!in) {
        fprintf(stderr, "mcpdeck: memory: cannot open %s\n", a->pos);
        return 2;
    }
    size_t added, merged;
    char *err = NULL;
    int rc = memory_import(m, in, &added, &merged, &err);
    if (in != stdin)
        fclose(in);
    if (rc < 0) {
        fprintf(stderr, "mcpdeck: memory: %s: %s (nothing was imported)\n", a->pos, err);
        free(err);
        return 2;
    }
    printf("imported %zu new, %zu merged\n", added, merged);
    return 0;
}

static void print_counts(const cJSON *o)
{
    const cJSON *it;
    if (!o->child)
        printf("  (none)\n");
    cJSON_ArrayForEach(it, o)
        printf("  %-24s %lld\n", it->string, (long long)it->valuedouble);
}

static int do_stats(struct memory *m, int json)
{
    cJSON *s = memory_stats(m);
    if (json) {
        print_json(s);
        return 0;
    }
    printf("entries: %lld\n", (long long)cJSON_GetObjectItem(s, "total")->valuedouble);
    print_counts(cJSON_GetObjectItem(s, "entries"));
    printf("vectors (embedder in use: %s):\n", cJSON_GetObjectItem(s, "embedder")->valuestring);
    print_counts(cJSON_GetObjectItem(s, "vectors"));
    printf("stale:   %lld (without a current vector; `mcpdeck memory reindex`)\n",
           (long long)cJSON_GetObjectItem(s, "stale")->valuedouble);
    printf("expiring: %lld\n", (long long)cJSON_GetObjectItem(s, "expiring")->valuedouble);
    printf("outbox:  %lld (writes waiting for Qdrant)\n",
           (long long)cJSON_GetObjectItem(s, "outbox")->valuedouble);
    cJSON_Delete(s);
    return 0;
}

static int do_sync(struct memory *m, const struct config *c, struct db *db)
{
    cJSON *s = memory_stats(m);
    long long depth = (long long)cJSON_GetObjectItem(s, "outbox")->valuedouble;
    cJSON_Delete(s);
    if (!c->memory.qdrant_url) {
        printf("outbox: %lld pending; Qdrant is not configured (set memory.qdrant.url)\n",
               depth);
        return 0;
    }
    return qdrant_cli_sync(c, db, 0, NULL);
}

int cli_memory(const struct cli_opts *o, int argc, char **argv)
{
    if (argc < 1) {
        fputs(memory_usage, stderr);
        return 2;
    }
    static const char *const cmds[] = {"add",    "search",  "get",   "delete", "list",
                                       "export", "import",  "reindex", "stats", "sync"};
    const char *cmd = argv[0];
    int known = 0;
    for (size_t i = 0; i < ARRAY_LEN(cmds); i++)
        known |= !strcmp(cmd, cmds[i]);
    if (!known)
        return bad("unknown subcommand '%s'", cmd);
    struct mem_args a;
    if (parse_args(argc - 1, argv + 1, &a) != 0)
        return 2;
    struct config *c = NULL;
    struct db *db = NULL;
    struct memory *m = NULL;
    char *err = NULL;
    int rc = 2;
    if (config_load(o->config_path, &c, &err) < 0)
        goto out;
    char *path = xasprintf("%s/mcpdeck.db", o->data_dir ? o->data_dir : c->data_dir);
    int orc = db_open(path, &db, &err);
    free(path);
    if (orc < 0 || memory_open(db, c, &m, &err) < 0) {
        rc = 1;
        goto out;
    }
    if (!strcmp(cmd, "add")) {
        rc = do_add(m, &a, o->json);
    } else if (!strcmp(cmd, "search")) {
        /* the vector part asks Qdrant when configured; the local index if it fails */
        struct qdrant_msearch *qs = qdrant_msearch_new(c, db, stderr);
        if (qs)
            memory_set_vector_search(m, qdrant_msearch_fn, qs);
        rc = do_search(m, &a, o->json);
        memory_set_vector_search(m, NULL, NULL);
        qdrant_msearch_free(qs);
    } else if (!strcmp(cmd, "get")) {
        rc = do_get(m, &a, o->json);
    } else if (!strcmp(cmd, "delete")) {
        rc = do_delete(m, &a);
    } else if (!strcmp(cmd, "list")) {
        rc = do_list(m, &a, o->json);
    } else if (!strcmp(cmd, "export")) {
        long n = memory_export(m, a.nns ? a.ns[0] : NULL, stdout, &err);
        rc = n < 0 ? 1 : 0;
        if (n >= 0)
            fprintf(stderr, "exported %ld entries\n", n);
    } else if (!strcmp(cmd, "import")) {
        rc = do_import(m, &a);
    } else if (!strcmp(cmd, "reindex")) {
        size_t done;
        rc = memory_reindex(m, a.all, &done, &err) < 0 ? 1 : 0;
        if (rc == 0)
            printf("reindexed %zu entries\n", done);
    } else if (!strcmp(cmd, "stats")) {
        rc = do_stats(m, o->json);
    } else {
        rc = do_sync(m, c, db);
    }
out:
    if (err)
        fprintf(stderr, "mcpdeck: memory: %s\n", err);
    free(err);
    memory_free(m);
    db_close(db);
    config_free(c);
    return rc;
}
