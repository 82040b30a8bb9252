/* bench_git.c — the built-in git.status and fs.grep tools beside the git
 * and grep commands, in the same run on the same files.
 *
 *   bench_git [-f FILES] [-m MEGABYTES] [-r ROUNDS] [-k]
 *
 * 1. A repository of FILES files (default 50,000: 250 directories of 200
 *    small files), committed, then a few changed, staged and untracked.
 *    git.status (the tool function, as the built-in server runs it on a
 *    worker) against `git status --porcelain`; both must list the same
 *    paths. Target: at most 1.5x git's time.
 * 2. A tree of MEGABYTES MB of text (default 100: 400 files of 256 KB)
 *    with a rare word. fs.grep against `grep -rn`; both must find the
 *    same number of lines. Target: at most 2x grep's time.
 * Each figure is the median of ROUNDS runs after one warm-up (page cache
 * warm for both). Prints the ratios side by side and appends rows to
 * $BENCH_SUMMARY when set. -k keeps the generated trees. Exit 1 when a
 * result is wrong; slow figures do not fail. */
#include "builtin.h"
#include "util.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return v[n / 2];
}

static int sh(const char *cmd)
{
    int rc = system(cmd);
    if (rc != 0)
        fprintf(stderr, "bench_git: command failed (%d): %s\n", rc, cmd);
    return rc;
}

/* Run cmd in dir, its stdout in *out; seconds taken. */
static double timed_cmd(const char *dir, const char *cmd, char **out)
{
    char *full = xasprintf("cd '%s' && %s", dir, cmd);
    int64_t t0 = util_now_us();
    FILE *p = popen(full, "r");
    struct buf b;
    buf_init(&b);
    buf_puts(&b, "");
    char chunk[65536];
    size_t n;
    while (p && (n = fread(chunk, 1, sizeof chunk, p)) > 0)
        buf_append(&b, chunk, n);
    if (p)
        pclose(p);
    double s = (double)(util_now_us() - t0) / 1e6;
    free(full);
    *out = buf_detach(&b);
    return s;
}

static const struct builtin_tool *find_tool(const struct builtin_server *srv, const char *name)
{
    for (size_t i = 0; i < srv->ntools; i++)
        if (strcmp(srv->tools[i].name, name) == 0)
            return &srv->tools[i];
    return NULL;
}

/* Call tool with args; seconds taken; its text in *out. */
static double timed_tool(const struct builtin_tool *t, const char *root, const char *args,
                         char **out, int *is_error)
{
    struct builtin_ctx ctx = {.root = root};
    cJSON *a = cJSON_Parse(args);
    int64_t t0 = util_now_us();
    cJSON *r = t->call(&ctx, a);
    double s = (double)(util_now_us() - t0) / 1e6;
    *is_error = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r, "isError"));
    const cJSON *block = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(r, "content"), 0);
    *out = xstrdup(cJSON_GetObjectItemCaseSensitive(block, "text")->valuestring);
    cJSON_Delete(r);
    cJSON_Delete(a);
    return s;
}

static size_t count_lines(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

static void summary_row(const char *label, double ours, const char *peer, double theirs,
                        double target)
{
    double ratio = ours / theirs;
    const char *verdict = ratio <= target ? "ok" : "SLOW";
    printf("%-34s %9.1f ms  %-10s %9.1f ms  ratio %.2fx  (target <= %.1fx) %s\n", label,
           ours * 1e3, peer, theirs * 1e3, ratio, target, verdict);
    const char *summary = getenv("BENCH_SUMMARY");
    FILE *f = summary && *summary ? fopen(summary, "a") : NULL;
    if (f) {
        fprintf(f, "git %s\t%.1f ms\t%s\t%.1f ms\t%.2fx\t<= %.1fx\t%s\n", label, ours * 1e3,
                peer, theirs * 1e3, ratio, target, verdict);
        fclose(f);
    }
}

/* === git.status === */

static int bench_status(const char *dir, long files, int rounds)
{
    char *cmd = xasprintf(
        "cd '%s' && git -c init.defaultBranch=main init -q . && "
        "awk -v n=%ld 'BEGIN { for (i = 0; i < n; i++) { d = sprintf(\"d%%03d\", i / 200); "
        "if (i %% 200 == 0) system(\"mkdir -p \" d); "
        "f = sprintf(\"%%s/f%%05d.txt\", d, i); print \"file \" i > f; close(f) } }' && "
        "git add -A && git -c user.name=b -c user.email=b@b.invalid commit -qm init && "
        "for i in 1 2 3 4 5; do echo changed >> d001/f0020$i.txt; done && "
        "echo staged >> d002/f00400.txt && git add d002/f00400.txt && "
        "mkdir -p new && echo u > new/u.txt && echo u > d003/untracked.txt", dir, files);
    int rc = sh(cmd);
    free(cmd);
    if (rc != 0)
        return -1;
    const struct builtin_tool *st = find_tool(&builtin_git, "status");
    double *a = xcalloc((size_t)rounds, sizeof *a), *b = xcalloc((size_t)rounds, sizeof *b);
    char *ours = NULL, *theirs = NULL;
    int err = 0, bad = 0;
    for (int i = -1; i < rounds; i++) {        /* round -1 warms the caches */
        free(ours);
        free(theirs);
        double x = timed_tool(st, dir, "{}", &ours, &err);
        double y = timed_cmd(dir, "git status --porcelain", &theirs);
        if (i >= 0) {
            a[i] = x;
            b[i] = y;
        }
    }
    /* the tool prints the branch line first, then git's porcelain lines */
    const char *body = strchr(ours, '\n');
    if (err || !body || strcmp(body + 1, theirs) != 0) {
        fprintf(stderr, "bench_git: git.status and git status --porcelain differ:\n%s---\n%s",
                ours, theirs);
        bad = 1;
    }
    printf("git.status on %ld files: %zu changed paths\n", files, count_lines(theirs));
    char *label = xasprintf("git.status (%ld files)", files);
    summary_row(label, median(a, rounds), "git status", median(b, rounds), 1.5);
    free(label);
    free(ours);
    free(theirs);
    free(a);
    free(b);
    return bad ? -1 : 0;
}

/* === fs.grep === */

static int bench_grep(const char *dir, long megabytes, int rounds)
{
    long nfiles = megabytes * 4;               /* 256 KB each */
    char *cmd = xasprintf(
        "cd '%s' && awk -v n=%ld 'BEGIN { srand(7); "
        "for (i = 0; i < n; i++) { d = sprintf(\"g%%02d\", i / 40); "
        "if (i %% 40 == 0) system(\"mkdir -p \" d); f = sprintf(\"%%s/t%%04d.txt\", d, i); "
        "sz = 0; ln = 0; while (sz < 262144) { ln++; "
        "s = sprintf(\"%%d the quick brown fox %%d jumps over the lazy dog %%d\", ln, "
        "int(rand() * 100000), i); if (ln %% 997 == 0) s = s \" zebracorn\"; print s > f; "
        "sz += length(s) + 1 } close(f) } }'", dir, nfiles);
    int rc = sh(cmd);
    free(cmd);
    if (rc != 0)
        return -1;
    const struct builtin_tool *gt = find_tool(&builtin_fs, "grep");
    double *a = xcalloc((size_t)rounds, sizeof *a), *b = xcalloc((size_t)rounds, sizeof *b);
    char *ours = NULL, *theirs = NULL;
    int err = 0, bad = 0;
    for (int i = -1; i < rounds; i++) {
        free(ours);
        free(theirs);
        double x = timed_tool(gt, dir, "{\"pattern\":\"zebracorn\",\"max_results\":10000}",
                              &ours, &err);
        double y = timed_cmd(dir, "grep -rn zebracorn .", &theirs);
        if (i >= 0) {
            a[i] = x;
            b[i] = y;
        }
    }
    size_t n1 = count_lines(ours), n2 = count_lines(theirs);
    if (err || n1 != n2 || strstr(ours, "truncated")) {
        fprintf(stderr, "bench_git: fs.grep found %zu lines, grep -rn %zu\n", n1, n2);
        bad = 1;
    }
    printf("fs.grep over %ld MB (%ld files): %zu matching lines\n", megabytes, nfiles, n2);
    char *label = xasprintf("fs.grep (%ld MB)", megabytes);
    summary_row(label, median(a, rounds), "grep -rn", median(b, rounds), 2.0);
    free(label);
    free(ours);
    free(theirs);
    free(a);
    free(b);
    return bad ? -1 : 0;
}

int main(int argc, char **argv)
{
    long files = 50000, megabytes = 100;
    int rounds = 5, keep = 0, opt;
    while ((opt = getopt(argc, argv, "f:m:r:k")) != -1) {
        switch (opt) {
        case 'f': files = atol(optarg); break;
        case 'm': megabytes = atol(optarg); break;
        case 'r': rounds = atoi(optarg); break;
        case 'k': keep = 1; break;
        default:
            fprintf(stderr, "usage: bench_git [-f FILES] [-m MEGABYTES] [-r ROUNDS] [-k]\n");
            return 2;
        }
    }
    if (files < 1000 || megabytes < 1 || rounds < 1) {
        fprintf(stderr, "bench_git: -f at least 1000, -m and -r at least 1\n");
        return 2;
    }
    char tmpl[] = "/tmp/mcpdeck-bench-git.XXXXXX";
    if (!mkdtemp(tmpl)) {
        perror("mkdtemp");
        return 1;
    }
    char *repo = xasprintf("%s/repo", tmpl), *tree = xasprintf("%s/tree", tmpl);
    mkdir(repo, 0755);
    mkdir(tree, 0755);
    int status = 0;
    if (bench_status(repo, files, rounds) < 0)
        status = 1;
    if (bench_grep(tree, megabytes, rounds) < 0)
        status = 1;
    if (!keep) {
        char *rm = xasprintf("rm -rf '%s'", tmpl);
        sh(rm);
        free(rm);
    } else {
        printf("kept %s\n", tmpl);
    }
    free(repo);
    free(tree);
    return status;
}
