/* test_pathjail.c — the workspace jail against a real temporary tree:
 * inside paths, "..", absolute paths, symlinks in and out, loops, paths
 * for writing, and finding the workspace root. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pathjail.h"
#include "util.h"

struct tree {
    char *root;      /* the jail, resolved */
    char *outside;   /* a directory next to it, outside the jail */
};

static void write_file(const char *dir, const char *name, const char *text)
{
    char *p = xasprintf("%s/%s", dir, name);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    free(p);
}

static void make_link(const char *dir, const char *name, const char *target)
{
    char *p = xasprintf("%s/%s", dir, name);
    assert_int_equal(symlink(target, p), 0);
    free(p);
}

static void make_dir(const char *dir, const char *name)
{
    char *p = xasprintf("%s/%s", dir, name);
    assert_int_equal(util_mkdirs(p, 0755), 0);
    free(p);
}

static char *make_temp_dir(void)
{
    char tmpl[] = "/tmp/mcpdeck-pathjail.XXXXXX";
    assert_non_null(mkdtemp(tmpl));
    char *real = realpath(tmpl, NULL);
    assert_non_null(real);
    return real;
}

static int setup(void **state)
{
    struct tree *t = xcalloc(1, sizeof *t);
    t->root = make_temp_dir();
    t->outside = make_temp_dir();
    write_file(t->root, "a.txt", "a\n");
    make_dir(t->root, "sub");
    write_file(t->root, "sub/b.txt", "b\n");
    make_link(t->root, "link_in", "a.txt");
    make_link(t->root, "link_etc", "/etc");
    make_link(t->root, "link_outdir", t->outside);
    make_link(t->root, "loop_a", "loop_b");
    make_link(t->root, "loop_b", "loop_a");
    make_link(t->root, "dangle", "nowhere");
    write_file(t->outside, "secret.txt", "s\n");
    *state = t;
    return 0;
}

static int rm_entry(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
    return remove(p);
}

static int teardown(void **state)
{
    struct tree *t = *state;
    nftw(t->root, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    nftw(t->outside, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(t->root);
    free(t->outside);
    free(t);
    return 0;
}

/* Resolve path; it must be accepted and resolve to root + "/" + want
 * (want "" = root itself). */
static void expect_ok(const char *root, const char *path, int must_exist, const char *want)
{
    char *out = NULL, *err = NULL;
    int rc = pathjail_resolve(root, path, must_exist, &out, &err);
    if (rc != 0)
        fail_msg("'%s' refused: %s", path, err);
    assert_null(err);
    char *expect = want[0] ? (strcmp(root, "/") == 0 ? xasprintf("/%s", want)
                                                     : xasprintf("%s/%s", root, want))
                           : xstrdup(root);
    assert_string_equal(out, expect);
    free(expect);
    free(out);
}

/* Resolve path; it must be refused with a message holding both needles
 * (needle2 may be NULL). */
static void expect_refused(const char *root, const char *path, int must_exist,
                           const char *needle, const char *needle2)
{
    char *out = NULL, *err = NULL;
    int rc = pathjail_resolve(root, path, must_exist, &out, &err);
    if (rc == 0)
        fail_msg("'%s' accepted as %s", path, out);
    assert_int_equal(rc, -1);
    assert_null(out);
    assert_non_null(err);
    if (!strstr(err, needle) || (needle2 && !strstr(err, needle2)))
        fail_msg("'%s': message \"%s\" lacks \"%s\" / \"%s\"", path, err, needle,
                 needle2 ? needle2 : "");
    free(err);
}

static void test_inside_paths(void **state)
{
    struct tree *t = *state;
    expect_ok(t->root, "a.txt", 1, "a.txt");
    expect_ok(t->root, "sub/b.txt", 1, "sub/b.txt");
    expect_ok(t->root, "sub", 1, "sub");
    expect_ok(t->root, "sub/", 1, "sub");
    expect_ok(t->root, "./sub/../a.txt", 1, "a.txt");
    expect_ok(t->root, "sub//b.txt", 1, "sub/b.txt");
    expect_ok(t->root, ".", 1, "");
    expect_ok(t->root, "link_in", 1, "a.txt");
}

static void test_absolute_paths(void **state)
{
    struct tree *t = *state;
    char *abs = xasprintf("%s/sub/b.txt", t->root);
    expect_ok(t->root, abs, 1, "sub/b.txt");
    expect_ok(t->root, t->root, 1, "");
    free(abs);
    expect_refused(t->root, "/etc/passwd", 1, "path '/etc/passwd' is outside the workspace root",
                   t->root);
    expect_refused(t->root, "/", 1, "outside the workspace root", NULL);
    char *secret = xasprintf("%s/secret.txt", t->outside);
    expect_refused(t->root, secret, 1, "outside the workspace root", NULL);
    free(secret);
    /* A sibling whose name starts with the root's name is still outside. */
    char *sibling = xasprintf("%sx/file", t->root);
    expect_refused(t->root, sibling, 0, "outside the workspace root", NULL);
    free(sibling);
}

static void test_dotdot_refused(void **state)
{
    struct tree *t = *state;
    expect_refused(t->root, "..", 1, "path '..' is outside the workspace root", t->root);
    expect_refused(t->root, "../x", 1, "path '../x' is outside the workspace root", NULL);
    expect_refused(t->root, "sub/../../x", 1, "is outside the workspace root", NULL);
    expect_refused(t->root, "sub/../..", 1, "is outside the workspace root", NULL);
    expect_refused(t->root, "../../../../../../../../etc/passwd", 1,
                   "is outside the workspace root", NULL);
    /* Climbing out and back in by name stays allowed. */
    char *base = strrchr(t->root, '/') + 1;
    char *back = xasprintf("../%s/a.txt", base);
    expect_ok(t->root, back, 1, "a.txt");
    free(back);
}

static void test_symlink_escape(void **state)
{
    struct tree *t = *state;
    expect_refused(t->root, "link_etc", 1, "path 'link_etc' resolves to /etc outside", "(symlink)");
    expect_refused(t->root, "link_etc/passwd", 1, "resolves to /etc/passwd", "(symlink)");
    expect_refused(t->root, "link_outdir/secret.txt", 1, "(symlink)", t->outside);
    expect_refused(t->root, "link_etc/new.txt", 0, "(symlink)", NULL);
    expect_refused(t->root, "link_outdir/new.txt", 0, "(symlink)", NULL);
}

static void test_loop_and_missing(void **state)
{
    struct tree *t = *state;
    expect_refused(t->root, "loop_a", 1, "path 'loop_a'", "symlink loop");
    expect_refused(t->root, "loop_a/x", 0, "loop_a/x", "symlink loop");
    expect_refused(t->root, "nope.txt", 1, "path 'nope.txt' does not exist", NULL);
    expect_refused(t->root, "sub/nope/deeper.txt", 1, "does not exist", NULL);
    expect_refused(t->root, "a.txt/x", 1, "a.txt/x", "not a directory");
    expect_refused(t->root, "dangle", 1, "path 'dangle' does not exist", NULL);
}

static void test_empty_path(void **state)
{
    struct tree *t = *state;
    expect_refused(t->root, "", 1, "empty", NULL);
    expect_refused(t->root, "", 0, "empty", NULL);
    char *out = (char *)"sentinel", *err = NULL;
    assert_int_equal(pathjail_resolve(t->root, NULL, 1, &out, &err), -1);
    assert_null(out);
    assert_non_null(err);
    free(err);
}

static void test_paths_for_writing(void **state)
{
    struct tree *t = *state;
    expect_ok(t->root, "new.txt", 0, "new.txt");
    expect_ok(t->root, "sub/new.txt", 0, "sub/new.txt");
    expect_ok(t->root, "sub/newdir/", 0, "sub/newdir");
    expect_ok(t->root, "a.txt", 0, "a.txt");
    expect_ok(t->root, "link_in", 0, "a.txt");          /* an existing link is followed */
    char *abs = xasprintf("%s/sub/new.txt", t->root);
    expect_ok(t->root, abs, 0, "sub/new.txt");
    free(abs);
    expect_refused(t->root, "missing/new.txt", 0,
                   "parent directory of path 'missing/new.txt' does not exist", NULL);
    expect_refused(t->root, ".", 0, "path '.' must end in a file name", NULL);
    expect_refused(t->root, "sub/..", 0, "must end in a file name", NULL);
    expect_refused(t->root, "sub/.", 0, "must end in a file name", NULL);
    expect_refused(t->root, "..", 0, "outside the workspace root", NULL);
    expect_refused(t->root, "../new.txt", 0, "outside the workspace root", NULL);
    expect_refused(t->root, "a.txt/new", 0, "not a directory", NULL);
    expect_refused(t->root, "dangle", 0, "symlink whose target does not exist", NULL);
    expect_refused(t->root, "/tmp/mcpdeck-elsewhere.txt", 0, "outside the workspace root", NULL);
}

static void test_root_is_slash(void **state)
{
    expect_ok("/", "etc", 1, "etc");
    expect_ok("/", "/etc/..", 1, "");
    expect_ok("/", "..", 1, "");
    expect_ok("/", ".", 1, "");
    expect_ok("/", "/", 1, "");
    expect_ok("/", "tmp/mcpdeck-new.txt", 0, "tmp/mcpdeck-new.txt");
    expect_refused("/", "/", 0, "must end in a file name", NULL);
    /* A root given with a trailing slash behaves like the same root without. */
    struct tree *t = *state;
    char *slashed = xasprintf("%s/", t->root);
    char *out = NULL, *err = NULL;
    assert_int_equal(pathjail_resolve(slashed, "sub/b.txt", 1, &out, &err), 0);
    char *want = xasprintf("%s/sub/b.txt", t->root);
    assert_string_equal(out, want);
    free(want);
    free(out);
    assert_int_equal(pathjail_resolve(slashed, "../x", 1, &out, &err), -1);
    assert_non_null(strstr(err, "outside"));
    free(err);
    free(slashed);
}

static void test_workspace_root(void **state)
{
    struct tree *t = *state;
    make_dir(t->root, "proj/.git");
    make_dir(t->root, "proj/src/deep");
    make_dir(t->root, "worktree/inner");
    write_file(t->root, "worktree/.git", "gitdir: /elsewhere\n");
    make_dir(t->root, "plain/d");

    char *dir = xasprintf("%s/proj/src/deep", t->root);
    char *want = xasprintf("%s/proj", t->root);
    char *got = pathjail_workspace_root(dir);
    assert_string_equal(got, want);
    free(got);
    free(dir);

    got = pathjail_workspace_root(want);   /* the directory holding .git itself */
    assert_string_equal(got, want);
    free(got);
    free(want);

    dir = xasprintf("%s/worktree/inner", t->root);
    want = xasprintf("%s/worktree", t->root);
    got = pathjail_workspace_root(dir);
    assert_string_equal(got, want);
    free(got);
    free(want);
    free(dir);

    /* No .git anywhere above: the directory itself, resolved. */
    dir = xasprintf("%s/plain/d/../d/", t->root);
    want = xasprintf("%s/plain/d", t->root);
    got = pathjail_workspace_root(dir);
    assert_string_equal(got, want);
    free(got);
    free(dir);

    /* NULL = the current directory. */
    char *cwd = getcwd(NULL, 0);
    assert_non_null(cwd);
    assert_int_equal(chdir(want), 0);
    got = pathjail_workspace_root(NULL);
    assert_int_equal(chdir(cwd), 0);
    assert_string_equal(got, want);
    free(got);
    free(cwd);
    free(want);

    /* A directory that does not exist comes back as given, never NULL. */
    got = pathjail_workspace_root("/nonexistent/mcpdeck/dir");
    assert_string_equal(got, "/nonexistent/mcpdeck/dir");
    free(got);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_inside_paths),
        cmocka_unit_test(test_absolute_paths),
        cmocka_unit_test(test_dotdot_refused),
        cmocka_unit_test(test_symlink_escape),
        cmocka_unit_test(test_loop_and_missing),
        cmocka_unit_test(test_empty_path),
        cmocka_unit_test(test_paths_for_writing),
        cmocka_unit_test(test_root_is_slash),
        cmocka_unit_test(test_workspace_root),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
