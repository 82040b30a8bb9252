/* bench_router.c — how long the task router takes to decide, for
 * bench/run.sh.
 *
 *   bench_router [-n DECISIONS] [-r ROUNDS]
 *
 * Builds a synthetic catalog: 100 servers, each with 3–10 capabilities out
 * of 60, 1–3 task types out of 8, light/heavy, health, availability and
 * preferences, and 50 tools with names and one-sentence descriptions
 * (5,000 tools), all from a fixed-seed generator, so every run sees the
 * same catalog. Then, after a warm-up, times with CLOCK_MONOTONIC:
 *   (a) an uncached decision: router_route over the 100 servers and
 *       router_decision_fini (a 'review' task needing 3 capabilities);
 *   (b) a cached decision: router_cache_get for the same task;
 *   (c) router_select_tools over all 5,000 tools for a task text, top 10.
 * Each figure is the median of ROUNDS rounds. Prints a table with the ratio
 * to the 50 µs target and appends rows to $BENCH_SUMMARY when set. Slow
 * figures never fail; exit 1 only when the router gives a wrong answer
 * (no choice, a cache miss, too few tools). */
#include "router.h"
#include "util.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define NSERVERS 100
#define NTOOLS 50
#define TARGET_US 50.0
#define MAX_ROUNDS 15

static const char *const domains[] = {
    "code", "file", "git", "web", "db", "cloud", "image", "audio", "search", "memory",
    "security", "docs",
};
static const char *const actions[] = {"read", "write", "analysis", "search", "review", "deploy"};
static const char *const task_types[] = {
    "review", "build", "test", "deploy", "search", "summarize", "fetch", "refactor",
};
static const char *const verbs[] = {
    "get", "list", "create", "update", "delete", "search", "read", "write", "run", "scan",
    "fetch", "summarize", "check", "find", "open", "close", "merge", "diff", "query", "upload",
};
static const char *const nouns[] = {
    "file", "directory", "issue", "pull_request", "commit", "branch", "page", "image",
    "table", "record", "secret", "bucket", "note", "document", "log", "metric", "alert",
    "user", "project", "release", "build", "test", "container", "function", "schema",
};
static const char *const words[] = {
    "the", "a", "of", "from", "in", "with", "for", "and", "to", "all", "repository",
    "workspace", "remote", "local", "server", "database", "cluster", "service", "content",
    "contents", "given", "path", "name", "identifier", "matching", "pattern", "recent",
    "changes", "staged", "security", "vulnerability", "vulnerabilities", "report", "summary",
    "status", "history", "entries", "results", "query", "filter", "limit", "page", "token",
    "credentials", "configuration", "options", "metadata", "size", "format", "json", "text",
    "markdown", "html", "binary", "stream", "cache", "index", "version", "tag", "label",
    "owner", "team", "member", "permission", "access", "policy", "rule", "check", "score",
    "review", "comment", "thread", "message", "event", "trace", "span", "latency", "error",
    "warning", "health", "usage", "cost", "quota", "region", "zone", "network", "endpoint",
};

#define PICK(a, r) ((a)[(r) % ARRAY_LEN(a)])

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint32_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng >> 16);
}

struct catalog {
    char *capnames[ARRAY_LEN(domains) * ARRAY_LEN(actions)];
    size_t ncapnames;
    struct router_server servers[NSERVERS];
    const char *caps[NSERVERS][10];
    const char *types[NSERVERS][3];
    char names[NSERVERS][24];
    struct router_tool tools[NSERVERS * NTOOLS];
};

static void catalog_build(struct catalog *c)
{
    c->ncapnames = 0;
    for (size_t d = 0; d < ARRAY_LEN(domains); d++)
        for (size_t a = 0; a < ARRAY_LEN(actions) && c->ncapnames < 60; a++)
            c->capnames[c->ncapnames++] = xasprintf("%s_%s", domains[d], actions[a]);
    for (size_t i = 0; i < NSERVERS; i++) {
        struct router_server *s = &c->servers[i];
        snprintf(c->names[i], sizeof c->names[i], "%s-%s-%02zu", PICK(domains, next()),
                 PICK(actions, next()), i);
        size_t ncaps = 3 + next() % 8, ntypes = 1 + next() % 3;
        for (size_t k = 0; k < ncaps; k++)
            c->caps[i][k] = c->capnames[next() % c->ncapnames];
        for (size_t k = 0; k < ntypes; k++)
            c->types[i][k] = PICK(task_types, next());
        uint32_t kind = next() % 3;
        *s = (struct router_server){
            .name = c->names[i], .caps = c->caps[i], .ncaps = ncaps,
            .task_types = c->types[i], .ntask_types = ntypes,
            .light = kind != 1, .heavy = kind != 0,
            .health = (enum router_health)(next() % 4),
            .available = next() % 10 != 0,
            .why = "breaker open, retry at 12:00:03",
            .config_pref = next() % 2 ? (next() % 101) / 100.0 : -1,
            .success_rate = next() % 2 ? (next() % 101) / 100.0 : -1,
        };
        for (size_t k = 0; k < NTOOLS; k++) {
            struct buf name, desc;
            buf_init(&name);
            buf_init(&desc);
            buf_printf(&name, "%s_%s", PICK(verbs, next()), PICK(nouns, next()));
            size_t nw = 8 + next() % 7;
            buf_printf(&desc, "%c%s", "VSRL"[next() % 4], PICK(verbs, next()) + 1);
            for (size_t w = 0; w < nw; w++)
                buf_printf(&desc, " %s", next() % 4 ? PICK(words, next()) : PICK(nouns, next()));
            c->tools[i * NTOOLS + k] = (struct router_tool){
                c->names[i], buf_detach(&name), buf_detach(&desc),
            };
        }
    }
}

static void catalog_free(struct catalog *c)
{
    for (size_t i = 0; i < NSERVERS * NTOOLS; i++) {
        free((char *)c->tools[i].name);
        free((char *)c->tools[i].description);
    }
    for (size_t i = 0; i < c->ncapnames; i++)
        free(c->capnames[i]);
}

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int dbl_cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, dbl_cmp);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static int route_once(const struct catalog *c, const struct router_task *t, const char *want)
{
    struct router_decision d;
    char *err = NULL;
    int rc = router_route(NULL, t, c->servers, NSERVERS, &d, &err);
    int ok = rc == 0 && d.chosen && d.nscores == NSERVERS && (!want || strcmp(d.chosen, want) == 0);
    if (!ok)
        fprintf(stderr, "bench_router: route: %s\n", err ? err : "wrong choice");
    free(err);
    router_decision_fini(&d);
    return ok ? 0 : -1;
}

static void row(const char *label, double us, const char *target, int with_ratio)
{
    char value[32], ratio[16] = "-";
    const char *verdict = "";
    snprintf(value, sizeof value, "%.3f", us);
    if (with_ratio) {
        snprintf(ratio, sizeof ratio, "%.3fx", us / TARGET_US);
        verdict = us <= TARGET_US ? "met" : "MISSED";
    }
    printf("%-44s %10s %8s  %s %s\n", label, value, ratio, target, verdict);
    const char *summary = getenv("BENCH_SUMMARY");
    FILE *f = summary && *summary ? fopen(summary, "a") : NULL;
    if (f) {
        fprintf(f, "router %s\t%s\t-\t-\t%s\t%s\t%s\n", label, value, ratio, target, verdict);
        fclose(f);
    }
}

int main(int argc, char **argv)
{
    long decisions = 20000;
    int rounds = 7, opt;
    while ((opt = getopt(argc, argv, "n:r:")) != -1) {
        if (opt == 'n')
            decisions = atol(optarg);
        else if (opt == 'r')
            rounds = atoi(optarg);
        else {
            fprintf(stderr, "usage: bench_router [-n DECISIONS] [-r ROUNDS]\n");
            return 2;
        }
    }
    if (decisions < 1)
        decisions = 1;
    if (rounds < 1 || rounds > MAX_ROUNDS)
        rounds = rounds < 1 ? 1 : MAX_ROUNDS;

    static struct catalog c;
    catalog_build(&c);
    const char *need[] = {"code_analysis", "security_analysis", "git_read"};
    struct router_task t = {"review", need, ARRAY_LEN(need), NULL, 0};
    const char *text = "Review the staged changes in the repository for security "
                       "vulnerabilities and write a summary report";
    int status = 0;

    /* the reference answer, and a warm-up */
    struct router_decision ref;
    if (router_route(NULL, &t, c.servers, NSERVERS, &ref, NULL) != 0) {
        fprintf(stderr, "bench_router: the synthetic catalog has no server for the task\n");
        return 1;
    }
    for (int i = 0; i < 1000; i++)
        if (route_once(&c, &t, ref.chosen) < 0)
            return 1;

    /* (a) uncached */
    double a[MAX_ROUNDS], b[MAX_ROUNDS], s[MAX_ROUNDS];
    for (int r = 0; r < rounds && !status; r++) {
        double t0 = now_us();
        for (long i = 0; i < decisions; i++)
            if (route_once(&c, &t, ref.chosen) < 0) {
                status = 1;
                break;
            }
        a[r] = (now_us() - t0) / (double)decisions;
    }

    /* (b) cached */
    struct router_cache *cache = router_cache_new();
    router_cache_put(cache, &t, &ref);
    long lookups = decisions * 10;
    for (int r = 0; r < rounds && !status; r++) {
        size_t found = 0;
        double t0 = now_us();
        for (long i = 0; i < lookups; i++) {
            const struct router_decision *d = router_cache_get(cache, &t);
            found += d && d->chosen && d->chosen[0] == ref.chosen[0];
        }
        b[r] = (now_us() - t0) / (double)lookups;
        if (found != (size_t)lookups) {
            fprintf(stderr, "bench_router: the cache missed %zu of %ld lookups\n",
                    (size_t)lookups - found, lookups);
            status = 1;
        }
    }
    router_cache_free(cache);

    /* (c) tool selection over the whole catalog */
    size_t ntools = NSERVERS * NTOOLS, top[10];
    long selects = decisions / 100 > 10 ? decisions / 100 : 10;
    for (int r = 0; r < rounds && !status; r++) {
        double t0 = now_us();
        for (long i = 0; i < selects; i++)
            if (router_select_tools(text, c.tools, ntools, ARRAY_LEN(top), top) !=
                ARRAY_LEN(top)) {
                fprintf(stderr, "bench_router: select_tools returned fewer than 10 tools\n");
                status = 1;
                break;
            }
        s[r] = (now_us() - t0) / (double)selects;
    }

    if (!status) {
        printf("\nRouter: %d servers (3-10 of 60 capabilities each), %zu tools; "
               "median of %d rounds\n", NSERVERS, ntools, rounds);
        printf("%-44s %10s %8s  %s\n", "figure", "us", "/target", "target");
        row("route, uncached (100 servers): us", median(a, rounds), "<= 50 us", 1);
        row("route, cached: us", median(b, rounds), "<= 50 us", 1);
        row("select_tools (5000 tools, top 10): us", median(s, rounds), "", 0);
        printf("chosen: %s; top tool: %s.%s\n", ref.chosen, c.tools[top[0]].server,
               c.tools[top[0]].name);
    }
    router_decision_fini(&ref);
    catalog_free(&c);
    return status;
}
