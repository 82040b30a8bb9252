/* test_gitctx.c — gitctx and the built-in git server against real
 * repositories made in a temporary directory with the git CLI: status
 * and diffs must be byte for byte what git prints, log and blame must
 * name the commits git names, provenance and applying a diff work, and
 * the tools refuse bad arguments. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "builtin.h"
#include "gitctx.h"
#include "util.h"

struct repo {
    char *dir;
    struct builtin_ctx ctx;
};

/* Run a shell command in dir; its stdout (malloc'd). The command must
 * succeed. */
static char *sh(const char *dir, const char *cmd)
{
    char *full = xasprintf("cd '%s' && { %s ; }", dir, cmd);
    FILE *p = popen(full, "r");
    assert_non_null(p);
    struct buf b;
    buf_init(&b);
    buf_puts(&b, "");
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, p)) > 0)
        buf_append(&b, chunk, n);
    int st = pclose(p);
    if (st != 0)
        fail_msg("command failed (%d): %s", st, cmd);
    free(full);
    return buf_detach(&b);
}

static void run(const char *dir, const char *cmd)
{
    free(sh(dir, cmd));
}

static const char git_env[] =
    "export GIT_AUTHOR_NAME='Ann Author' GIT_AUTHOR_EMAIL=ann@example.invalid "
    "GIT_COMMITTER_NAME='Ann Author' GIT_COMMITTER_EMAIL=ann@example.invalid; ";

static void git(const char *dir, const char *args)
{
    char *cmd = xasprintf("%s git -c init.defaultBranch=main %s >/dev/null 2>&1", git_env, args);
    run(dir, cmd);
    free(cmd);
}

static int setup(void **state)
{
    struct repo *r = xcalloc(1, sizeof *r);
    char tmpl[] = "/tmp/mcpdeck-git.XXXXXX";
    assert_non_null(mkdtemp(tmpl));
    r->dir = realpath(tmpl, NULL);
    r->ctx.root = r->dir;
    const char *d = r->dir;
    git(d, "init -q .");
    run(d, "printf 'alpha\\nbeta\\ngamma\\ndelta\\n' > a.txt && mkdir -p src && "
           "printf 'int x;\\n' > src/x.c && printf 'old\\n' > gone.txt && "
           "printf 'keep\\n' > 'sp ace.txt'");
    git(d, "add -A");
    char *c = xasprintf("%s GIT_AUTHOR_DATE='2024-01-02T03:04:05+0100' "
                        "GIT_COMMITTER_DATE='2024-01-02T03:04:05+0100' "
                        "git commit -q -m 'first: the files' >/dev/null", git_env);
    run(d, c);
    free(c);
    run(d, "printf 'alpha\\nBETA\\ngamma\\ndelta\\n' > a.txt");
    c = xasprintf("%s GIT_AUTHOR_NAME='Bob Builder' GIT_AUTHOR_DATE='2024-02-03T10:00:00+0000' "
                  "GIT_COMMITTER_DATE='2024-02-03T10:00:00+0000' "
                  "git commit -q -am 'second: shout beta' >/dev/null", git_env);
    run(d, c);
    free(c);
    *state = r;
    return 0;
}

static int teardown(void **state)
{
    struct repo *r = *state;
    char *cmd = xasprintf("rm -rf '%s'", r->dir);
    assert_int_equal(system(cmd), 0);
    free(cmd);
    free(r->dir);
    free(r);
    return 0;
}

static const struct builtin_tool *tool(const char *name)
{
    for (size_t i = 0; i < builtin_git.ntools; i++)
        if (strcmp(builtin_git.tools[i].name, name) == 0)
            return &builtin_git.tools[i];
    fail_msg("no tool %s in builtin_git", name);
    return NULL;
}

/* Call a git tool; its text (malloc'd); *is_error set. */
static char *call(const struct repo *r, const char *name, const char *args_json, int *is_error,
                  cJSON **structured)
{
    cJSON *args = args_json ? cJSON_Parse(args_json) : NULL;
    cJSON *res = tool(name)->call(&r->ctx, args);
    cJSON_Delete(args);
    assert_non_null(res);
    *is_error = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(res, "isError"));
    const cJSON *block = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(res, "content"), 0);
    char *text = xstrdup(cJSON_GetObjectItemCaseSensitive(block, "text")->valuestring);
    if (structured)
        *structured = cJSON_DetachItemFromObject(res, "structuredContent");
    cJSON_Delete(res);
    return text;
}

static char *call_ok(const struct repo *r, const char *name, const char *args_json)
{
    int err;
    char *t = call(r, name, args_json, &err, NULL);
    if (err)
        fail_msg("git.%s %s failed: %s", name, args_json ? args_json : "", t);
    return t;
}

static void expect_error(const struct repo *r, const char *name, const char *args,
                         const char *needle)
{
    int err;
    char *t = call(r, name, args, &err, NULL);
    if (!err || !strstr(t, needle))
        fail_msg("git.%s %s: want an error with \"%s\", got \"%s\"", name, args, needle, t);
    free(t);
}

/* The tool's text must equal what the git command prints. */
static void same_as_git(const struct repo *r, const char *name, const char *args,
                        const char *gitcmd)
{
    char *want = sh(r->dir, gitcmd);
    char *got = call_ok(r, name, args);
    if (strcmp(want, got) != 0)
        fail_msg("git.%s %s differs from `%s`:\n--- got\n%s--- want\n%s", name, args, gitcmd,
                 got, want);
    free(want);
    free(got);
}

/* === Tests === */

static void test_table(void **state)
{
    const char *names[] = {"status", "diff", "log", "show", "blame", "branches"};
    assert_string_equal(builtin_git.name, "git");
    assert_int_equal(builtin_git.ntools, ARRAY_LEN(names));
    for (size_t i = 0; i < ARRAY_LEN(names); i++) {
        const struct builtin_tool *t = tool(names[i]);
        assert_true(t->hints & BUILTIN_READ_ONLY);
        assert_false(t->hints & BUILTIN_DESTRUCTIVE);
        cJSON *s = cJSON_Parse(t->input_schema);
        assert_non_null(s);
        assert_true(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(s, "additionalProperties")));
        cJSON_Delete(s);
    }
}

static void test_clean_then_dirty_status(void **state)
{
    struct repo *r = *state;
    same_as_git(r, "status", "{}", "git status --porcelain -b");
    /* every kind of change */
    run(r->dir, "printf 'alpha\\nBETA\\ngamma\\nDELTA\\n' > a.txt && rm gone.txt && "
                "printf 'new\\n' > staged.txt && git add staged.txt && "
                "printf 'new2\\n' > 'sp ace.txt' && git add 'sp ace.txt' && "
                "printf 'again\\n' >> 'sp ace.txt' && mkdir -p untr/deep && "
                "printf 'u\\n' > untr/deep/u.txt && printf 'q\\n' > 'qu\"ote.txt' && "
                "git mv src/x.c src/y.c");
    same_as_git(r, "status", "{}", "git status --porcelain -b");
    int err;
    cJSON *sc = NULL;
    char *t = call(r, "status", "{}", &err, &sc);
    assert_false(err);
    free(t);
    assert_non_null(sc);
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(sc, "branch")->valuestring, "main");
    assert_true(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(sc, "clean")));
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(sc, "staged")), 3);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(sc, "unstaged")), 3);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(sc, "untracked")), 2);
    char *head = sh(r->dir, "git rev-parse HEAD | tr -d '\\n'");
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(sc, "head")->valuestring, head);
    free(head);
    cJSON_Delete(sc);

    same_as_git(r, "diff", "{}", "git diff");
    same_as_git(r, "diff", "{\"path\":\"a.txt\"}", "git diff -- a.txt");
    same_as_git(r, "diff", "{\"context\":0}", "git diff -U0");
    same_as_git(r, "diff", "{\"staged\":true}", "git diff --cached");
    same_as_git(r, "diff", "{\"ref\":\"HEAD~1\",\"path\":\"a.txt\"}", "git diff HEAD~1 -- a.txt");

    /* the size cap cuts at a line and says so */
    t = call_ok(r, "diff", "{\"max_bytes\":1024,\"ref\":\"HEAD~1\"}");
    assert_true(strlen(t) < 1200);
    free(t);
    run(r->dir, "seq 1 2000 > long.txt && git add long.txt");
    t = call_ok(r, "diff", "{\"staged\":true,\"max_bytes\":2048}");
    assert_non_null(strstr(t, "[diff truncated at 2048 bytes"));
    assert_true(strlen(t) <= 2048 + 80);
    free(t);
    run(r->dir, "git reset -q --hard && git clean -fdq");
    t = call_ok(r, "diff", "{}");
    assert_string_equal(t, "No unstaged changes\n");
    free(t);
    same_as_git(r, "status", "{}", "git status --porcelain -b");
}

static void test_log_show_blame(void **state)
{
    struct repo *r = *state;
    same_as_git(r, "log", "{}",
                "git log --date=short --abbrev=12 --format='%h %ad %an: %s'");
    same_as_git(r, "log", "{\"max_count\":1}",
                "git log -1 --date=short --abbrev=12 --format='%h %ad %an: %s'");
    same_as_git(r, "log", "{\"path\":\"src/x.c\"}",
                "git log --date=short --abbrev=12 --format='%h %ad %an: %s' -- src/x.c");
    same_as_git(r, "show", "{}", "git show");
    same_as_git(r, "show", "{\"rev\":\"HEAD~1\"}", "git show HEAD~1");
    /* blame: the commit of each line, as git blame names it */
    char *t = call_ok(r, "blame", "{\"path\":\"a.txt\",\"start_line\":2,\"end_line\":3}");
    char *want = sh(r->dir, "git blame --root -l -L 2,3 -- a.txt | cut -c1-12");
    char *l1 = xasprintf("%.12s (Bob Builder 2024-02-03 2) BETA\n", want);
    char *l2 = xasprintf("%.12s (Ann Author 2024-01-02 3) gamma\n", want + 13);
    char *expect = xasprintf("%s%s", l1, l2);
    assert_string_equal(t, expect);
    free(t);
    free(want);
    free(l1);
    free(l2);
    free(expect);
    expect_error(r, "blame", "{\"path\":\"a.txt\",\"start_line\":9}", "past the end");
    expect_error(r, "blame", "{\"path\":\"nope.txt\"}", "not a file committed at HEAD");
    expect_error(r, "blame", "{\"path\":\"../etc/passwd\"}", "stay inside");
    expect_error(r, "show", "{\"rev\":\"no-such-rev\"}", "unknown revision 'no-such-rev'");
    expect_error(r, "diff", "{\"staged\":true,\"ref\":\"HEAD\"}", "not both");
    expect_error(r, "log", "{\"max_count\":0}", "argument 'max_count'");
    expect_error(r, "status", "{\"x\":1}", "unknown argument 'x'");
}

static void test_branches_and_upstream(void **state)
{
    struct repo *r = *state;
    git(r->dir, "branch feature HEAD~1");
    char *t = call_ok(r, "branches", "{}");
    char *h1 = sh(r->dir, "git rev-parse --short=12 HEAD~1 | tr -d '\\n'");
    char *h2 = sh(r->dir, "git rev-parse --short=12 HEAD | tr -d '\\n'");
    char *want = xasprintf("  feature %s first: the files\n* main %s second: shout beta\n", h1,
                           h2);
    assert_string_equal(t, want);
    free(t);
    free(want);
    /* upstream: a clone one commit behind, then ahead */
    char *clone = xasprintf("%s-clone", r->dir);
    char *cmd = xasprintf("git clone -q '%s' '%s' && cd '%s' && git reset -q --hard HEAD~1 && "
                          "printf 'z\\n' > z.txt && git add z.txt && %s git commit -qm local",
                          r->dir, clone, clone, git_env);
    run(r->dir, cmd);
    free(cmd);
    struct gitctx *g = NULL;
    char *err = NULL;
    assert_int_equal(gitctx_open(clone, &g, &err), 0);
    struct gitctx_head h;
    assert_int_equal(gitctx_head(g, &h, &err), 0);
    assert_string_equal(h.branch, "main");
    assert_string_equal(h.upstream, "origin/main");
    assert_int_equal(h.ahead, 1);
    assert_int_equal(h.behind, 1);
    gitctx_head_fini(&h);
    gitctx_free(g);
    struct repo rc = {clone, {.root = clone}};
    same_as_git(&rc, "status", "{}", "git status --porcelain -b");
    cmd = xasprintf("rm -rf '%s'", clone);
    run("/", cmd);
    free(cmd);
    free(clone);
    free(h1);
    free(h2);
    git(r->dir, "branch -D feature");
}

static void test_provenance_and_apply(void **state)
{
    struct repo *r = *state;
    struct gitctx_provenance p;
    char *err = NULL;
    char *sub = xasprintf("%s/src", r->dir);
    assert_int_equal(gitctx_provenance(sub, &p, &err), 0);
    char *head = sh(r->dir, "git rev-parse HEAD | tr -d '\\n'");
    assert_string_equal(p.root, r->dir);
    assert_string_equal(p.head, head);
    assert_string_equal(p.branch, "main");
    assert_false(p.dirty);
    gitctx_provenance_fini(&p);
    run(r->dir, "printf 'untracked\\n' > u.txt");      /* untracked files are not dirt */
    assert_int_equal(gitctx_provenance(r->dir, &p, &err), 0);
    assert_false(p.dirty);
    gitctx_provenance_fini(&p);
    run(r->dir, "rm u.txt && printf 'x\\n' >> a.txt");
    assert_int_equal(gitctx_provenance(r->dir, &p, &err), 0);
    assert_true(p.dirty);
    gitctx_provenance_fini(&p);
    assert_int_equal(gitctx_provenance("/", &p, &err), -1);
    assert_non_null(strstr(err, "no git repository"));
    free(err);
    err = NULL;

    /* apply: take the working change as a diff, undo it, apply it again */
    char *diff = sh(r->dir, "git diff");
    run(r->dir, "git checkout -q -- a.txt");
    struct gitctx *g = NULL;
    assert_int_equal(gitctx_open(sub, &g, &err), 0);
    assert_string_equal(gitctx_root(g), r->dir);
    assert_int_equal(gitctx_apply_diff(g, diff, 1, &err), 0);
    char *same = sh(r->dir, "git diff");
    assert_string_equal(same, "");                   /* check_only wrote nothing */
    free(same);
    assert_int_equal(gitctx_apply_diff(g, diff, 0, &err), 0);
    same = sh(r->dir, "git diff");
    assert_string_equal(same, diff);
    free(same);
    run(r->dir, "printf 'something else\\n' > a.txt");
    assert_int_equal(gitctx_apply_diff(g, diff, 1, &err), -1);   /* the context is gone */
    assert_non_null(strstr(err, "does not apply"));
    free(err);
    err = NULL;
    assert_int_equal(gitctx_apply_diff(g, "not a diff", 1, &err), -1);
    free(err);
    gitctx_free(g);
    run(r->dir, "git checkout -q -- a.txt");
    free(diff);
    free(head);
    free(sub);
}

static void test_conflicts(void **state)
{
    struct repo *r = *state;
    char *cmd = xasprintf("%s git checkout -q -b other HEAD~1 && printf 'alpha\\nbeta2\\ngamma\\n"
                          "delta\\n' > a.txt && git commit -qam other && git checkout -q main && "
                          "{ git merge -q other >/dev/null 2>&1 || true; }", git_env);
    run(r->dir, cmd);
    free(cmd);
    same_as_git(r, "status", "{}", "git status --porcelain -b");
    int err;
    cJSON *sc = NULL;
    char *t = call(r, "status", "{}", &err, &sc);
    assert_non_null(strstr(t, "UU a.txt\n"));
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(sc, "conflicted");
    assert_int_equal(cJSON_GetArraySize(c), 1);
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(c, 0),
                                                         "status")->valuestring, "UU");
    free(t);
    cJSON_Delete(sc);
    run(r->dir, "git merge --abort && git branch -D other >/dev/null");
}

static void test_not_a_repository(void **state)
{
    struct builtin_ctx ctx = {.root = "/"};
    cJSON *res = tool("status")->call(&ctx, NULL);
    assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(res, "isError")));
    const cJSON *block = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(res, "content"), 0);
    assert_non_null(strstr(cJSON_GetObjectItemCaseSensitive(block, "text")->valuestring,
                           "no git repository"));
    cJSON_Delete(res);
}

/* Finding the patch in a model's answer or a tool's result. */
static void test_find_diff(void **state)
{
    int files = -1;
    char *d = gitctx_find_diff("Here is the fix:\n\n```diff\n--- a/x.c\n+++ b/x.c\n"
                               "@@ -1 +1 @@\n-old\n+new\n```\nThat is all.", &files);
    assert_non_null(d);
    assert_string_equal(d, "diff --git a/x.c b/x.c\n--- a/x.c\n+++ b/x.c\n@@ -1 +1 @@\n"
                           "-old\n+new\n");
    assert_int_equal(files, 1);
    free(d);
    d = gitctx_find_diff("intro\ndiff --git a/a b/a\n--- a/a\n+++ b/a\n@@ -1 +1 @@\n-1\n+2\n"
                         "diff --git a/b b/b\n--- a/b\n+++ b/b\n@@ -1 +1 @@\n-1\n+2",
                         &files);
    assert_non_null(d);
    assert_int_equal(strncmp(d, "diff --git a/a b/a\n", 19), 0);
    assert_int_equal(files, 2);
    assert_int_equal(d[strlen(d) - 1], '\n');
    free(d);
    /* prose with dashes, a fence of another language, nothing at all */
    assert_null(gitctx_find_diff("--- not a diff\njust text\n", &files));
    assert_int_equal(files, 0);
    assert_null(gitctx_find_diff("```c\nint x;\n```\n", &files));
    assert_null(gitctx_find_diff("", &files));
    assert_null(gitctx_find_diff(NULL, &files));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_clean_then_dirty_status),
        cmocka_unit_test(test_log_show_blame),
        cmocka_unit_test(test_branches_and_upstream),
        cmocka_unit_test(test_provenance_and_apply),
        cmocka_unit_test(test_conflicts),
        cmocka_unit_test(test_not_a_repository),
        cmocka_unit_test(test_find_diff),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
