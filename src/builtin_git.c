/* builtin_git.c — the built-in "git" MCP server: status, diffs, history,
 * blame and branches of the repository holding the workspace root.
 *
 * A thin layer over gitctx.c: each call opens the repository from
 * ctx->root (tools run on worker threads, one gitctx per call), checks
 * its arguments, and answers with git's own text formats; status also
 * answers structuredContent. Everything here only reads. */
#include "builtin.h"
#include "gitctx.h"
#include "util.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#define GIT_DIFF_DEFAULT  (256u * 1024)          /* bytes of diff text by default */
#define GIT_DIFF_MAX      (4u * 1024 * 1024)
#define GIT_LOG_DEFAULT   20
#define GIT_LOG_MAX       1000

/* === Helpers === */

static int open_repo(const struct builtin_ctx *ctx, struct gitctx **g, cJSON **err)
{
    char *msg = NULL;
    if (gitctx_open(ctx->root, g, &msg) < 0) {
        *err = builtin_result_take_text(1, msg);
        return -1;
    }
    return 0;
}

/* A repository path argument: relative, no ".." component. */
static int repo_path_ok(const char *path, cJSON **err)
{
    if (!path)
        return 0;
    int bad = path[0] == '/';
    for (const char *p = path; *p && !bad;) {
        const char *slash = strchr(p, '/');
        size_t len = slash ? (size_t)(slash - p) : strlen(p);
        if (len == 2 && p[0] == '.' && p[1] == '.')
            bad = 1;
        p += len + (slash ? 1 : 0);
    }
    if (bad) {
        *err = builtin_result_text(1, "path '%s' must be relative to the repository's top "
                                   "and stay inside it (no '..', not absolute)", path);
        return -1;
    }
    return 0;
}

static cJSON *text_or_error(int rc, char *text, char *msg)
{
    if (rc < 0)
        return builtin_result_take_text(1, msg);
    free(msg);
    return builtin_result_take_text(0, text);
}

/* === status === */

static const char status_schema[] =
    "{\"type\":\"object\",\"properties\":{},\"additionalProperties\":false}";

static cJSON *entries_array(const struct gitctx_status *st, int which)
{
    cJSON *arr = cJSON_CreateArray();
    for (size_t i = 0; i < st->n; i++) {
        const struct gitctx_entry *e = &st->entries[i];
        int conflicted = (e->x == 'U' || e->y == 'U' || (e->x == 'A' && e->y == 'A') ||
                          (e->x == 'D' && e->y == 'D'));
        int untracked = e->x == '?';
        int take = which == 0 ? (!conflicted && !untracked && e->x != ' ')
                 : which == 1 ? (!conflicted && !untracked && e->y != ' ')
                 : which == 2 ? untracked : conflicted;
        if (!take)
            continue;
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "path", e->path);
        char code[2] = {which == 1 ? e->y : e->x, '\0'};
        if (which == 3) {
            char both[3] = {e->x, e->y, '\0'};
            cJSON_AddStringToObject(o, "status", both);
        } else if (which != 2) {
            cJSON_AddStringToObject(o, "status", code);
        }
        if (which == 0 && e->orig_path)
            cJSON_AddStringToObject(o, "from", e->orig_path);
        cJSON_AddItemToArray(arr, o);
    }
    return arr;
}

static cJSON *git_status(const struct builtin_ctx *ctx, const cJSON *args)
{
    static const char *const allowed[] = {NULL};
    struct gitctx *g = NULL;
    struct gitctx_head h;
    struct gitctx_status st;
    char *msg = NULL;
    cJSON *r = builtin_args_check(args, allowed);
    if (r || open_repo(ctx, &g, &r) < 0)
        return r;
    if (gitctx_head(g, &h, &msg) < 0) {
        gitctx_free(g);
        return builtin_result_take_text(1, msg);
    }
    if (gitctx_status(g, &st, &msg) < 0) {
        gitctx_head_fini(&h);
        gitctx_free(g);
        return builtin_result_take_text(1, msg);
    }
    /* the branch line of `git status --porcelain -b` */
    struct buf b;
    buf_init(&b);
    if (h.unborn)
        buf_printf(&b, "## No commits yet on %s", h.branch ? h.branch : "HEAD");
    else if (h.detached || !h.branch)
        buf_puts(&b, "## HEAD (no branch)");
    else
        buf_printf(&b, "## %s", h.branch);
    if (h.upstream) {
        buf_printf(&b, "...%s", h.upstream);
        if (h.ahead && h.behind)
            buf_printf(&b, " [ahead %zu, behind %zu]", h.ahead, h.behind);
        else if (h.ahead)
            buf_printf(&b, " [ahead %zu]", h.ahead);
        else if (h.behind)
            buf_printf(&b, " [behind %zu]", h.behind);
    }
    buf_putc(&b, '\n');
    char *porcelain = gitctx_status_porcelain(&st);
    buf_puts(&b, porcelain);
    free(porcelain);

    cJSON *sc = cJSON_CreateObject();
    cJSON_AddStringToObject(sc, "root", gitctx_root(g));
    if (h.branch)
        cJSON_AddStringToObject(sc, "branch", h.branch);
    else
        cJSON_AddNullToObject(sc, "branch");
    cJSON_AddStringToObject(sc, "head", h.oid);
    if (h.upstream) {
        cJSON_AddStringToObject(sc, "upstream", h.upstream);
        cJSON_AddNumberToObject(sc, "ahead", (double)h.ahead);
        cJSON_AddNumberToObject(sc, "behind", (double)h.behind);
    }
    cJSON_AddBoolToObject(sc, "clean", st.n == 0);
    cJSON_AddItemToObject(sc, "staged", entries_array(&st, 0));
    cJSON_AddItemToObject(sc, "unstaged", entries_array(&st, 1));
    cJSON_AddItemToObject(sc, "untracked", entries_array(&st, 2));
    cJSON_AddItemToObject(sc, "conflicted", entries_array(&st, 3));
    r = builtin_result_take_text(0, buf_detach(&b));
    cJSON_AddItemToObject(r, "structuredContent", sc);
    gitctx_status_fini(&st);
    gitctx_head_fini(&h);
    gitctx_free(g);
    return r;
}

/* === diff === */

static const char diff_schema[] =
    "{\"type\":\"object\",\"properties\":{"
    "\"staged\":{\"type\":\"boolean\",\"default\":false,\"description\":"
    "\"The staged changes (HEAD to index, like git diff --cached) instead of the unstaged "
    "ones (index to work tree)\"},"
    "\"ref\":{\"type\":\"string\",\"description\":"
    "\"Compare the work tree with this branch, tag or commit instead (like git diff REF)\"},"
    "\"path\":{\"type\":\"string\",\"description\":"
    "\"Only this file or directory, relative to the repository's top\"},"
    "\"context\":{\"type\":\"integer\",\"minimum\":0,\"maximum\":1000,\"default\":3,"
    "\"description\":\"Lines of context around each change\"},"
    "\"max_bytes\":{\"type\":\"integer\",\"minimum\":1024,\"maximum\":4194304,"
    "\"default\":262144,\"description\":\"Cut the diff text at this size\"}},"
    "\"additionalProperties\":false}";

static cJSON *git_diff(const struct builtin_ctx *ctx, const cJSON *args)
{
    static const char *const allowed[] = {"staged", "ref", "path", "context", "max_bytes",
                                          NULL};
    const char *ref, *path;
    int staged = 0;
    long context = 3, max = GIT_DIFF_DEFAULT;
    cJSON *r = builtin_args_check(args, allowed);
    if (r)
        return r;
    if (builtin_arg_bool(args, "staged", &staged, &r) < 0 ||
        builtin_arg_string(args, "ref", 0, &ref, &r) < 0 ||
        builtin_arg_string(args, "path", 0, &path, &r) < 0 ||
        builtin_arg_int(args, "context", 0, 1000, &context, &r) < 0 ||
        builtin_arg_int(args, "max_bytes", 1024, GIT_DIFF_MAX, &max, &r) < 0 ||
        repo_path_ok(path, &r) < 0)
        return r;
    if (staged && ref)
        return builtin_result_text(1, "give staged or ref, not both");
    struct gitctx *g = NULL;
    if (open_repo(ctx, &g, &r) < 0)
        return r;
    struct gitctx_diff_opts o = {
        ref ? GITCTX_DIFF_REF : staged ? GITCTX_DIFF_STAGED : GITCTX_DIFF_WORKTREE,
        ref, path, (int)context, (size_t)max};
    char *text = NULL, *msg = NULL;
    int truncated = 0;
    int rc = gitctx_diff(g, &o, &text, &truncated, &msg);
    gitctx_free(g);
    if (rc == 0 && !text[0]) {
        free(text);
        text = xasprintf("No %s changes%s%s\n",
                         ref ? "work tree" : staged ? "staged" : "unstaged",
                         ref ? " against " : "", ref ? ref : "");
    }
    return text_or_error(rc, text, msg);
}

/* === log === */

static const char log_schema[] =
    "{\"type\":\"object\",\"properties\":{"
    "\"rev\":{\"type\":\"string\",\"default\":\"HEAD\",\"description\":"
    "\"Start from this branch, tag or commit\"},"
    "\"path\":{\"type\":\"string\",\"description\":"
    "\"Only commits that changed this file, relative to the repository's top\"},"
    "\"max_count\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":1000,\"default\":20,"
    "\"description\":\"At most this many commits\"}},"
    "\"additionalProperties\":false}";

static cJSON *git_log(const struct builtin_ctx *ctx, const cJSON *args)
{
    static const char *const allowed[] = {"rev", "path", "max_count", NULL};
    const char *rev, *path;
    long max = GIT_LOG_DEFAULT;
    cJSON *r = builtin_args_check(args, allowed);
    if (r)
        return r;
    if (builtin_arg_string(args, "rev", 0, &rev, &r) < 0 ||
        builtin_arg_string(args, "path", 0, &path, &r) < 0 ||
        builtin_arg_int(args, "max_count", 1, GIT_LOG_MAX, &max, &r) < 0 ||
        repo_path_ok(path, &r) < 0)
        return r;
    struct gitctx *g = NULL;
    if (open_repo(ctx, &g, &r) < 0)
        return r;
    char *text = NULL, *msg = NULL;
    int rc = gitctx_log(g, rev, path, (size_t)max, &text, &msg);
    gitctx_free(g);
    if (rc == 0 && !text[0]) {
        free(text);
        text = xstrdup("No commits\n");
    }
    return text_or_error(rc, text, msg);
}

/* === show === */

static const char show_schema[] =
    "{\"type\":\"object\",\"properties\":{"
    "\"rev\":{\"type\":\"string\",\"default\":\"HEAD\",\"description\":"
    "\"The commit to show (a hash, branch, tag, HEAD~2...)\"},"
    "\"max_bytes\":{\"type\":\"integer\",\"minimum\":1024,\"maximum\":4194304,"
    "\"default\":262144,\"description\":\"Cut the text at this size\"}},"
    "\"additionalProperties\":false}";

static cJSON *git_show(const struct builtin_ctx *ctx, const cJSON *args)
{
    static const char *const allowed[] = {"rev", "max_bytes", NULL};
    const char *rev;
    long max = GIT_DIFF_DEFAULT;
    cJSON *r = builtin_args_check(args, allowed);
    if (r)
        return r;
    if (builtin_arg_string(args, "rev", 0, &rev, &r) < 0 ||
        builtin_arg_int(args, "max_bytes", 1024, GIT_DIFF_MAX, &max, &r) < 0)
        return r;
    struct gitctx *g = NULL;
    if (open_repo(ctx, &g, &r) < 0)
        return r;
    char *text = NULL, *msg = NULL;
    int rc = gitctx_show(g, rev, (size_t)max, &text, NULL, &msg);
    gitctx_free(g);
    return text_or_error(rc, text, msg);
}

/* === blame === */

static const char blame_schema[] =
    "{\"type\":\"object\",\"properties\":{"
    "\"path\":{\"type\":\"string\",\"description\":"
    "\"File to blame as committed at HEAD, relative to the repository's top\"},"
    "\"start_line\":{\"type\":\"integer\",\"minimum\":1,\"default\":1,"
    "\"description\":\"First line (1-based)\"},"
    "\"end_line\":{\"type\":\"integer\",\"minimum\":1,"
    "\"description\":\"Last line (inclusive); the end of the file when absent\"}},"
    "\"required\":[\"path\"],\"additionalProperties\":false}";

static cJSON *git_blame(const struct builtin_ctx *ctx, const cJSON *args)
{
    static const char *const allowed[] = {"path", "start_line", "end_line", NULL};
    const char *path;
    long first = 1, last = 0;
    cJSON *r = builtin_args_check(args, allowed);
    if (r)
        return r;
    if (builtin_arg_string(args, "path", 1, &path, &r) < 0 ||
        builtin_arg_int(args, "start_line", 1, INT_MAX, &first, &r) < 0 ||
        builtin_arg_int(args, "end_line", 1, INT_MAX, &last, &r) < 0 ||
        repo_path_ok(path, &r) < 0)
        return r;
    if (last && last < first)
        return builtin_result_text(1, "end_line %ld is before start_line %ld", last, first);
    struct gitctx *g = NULL;
    if (open_repo(ctx, &g, &r) < 0)
        return r;
    char *text = NULL, *msg = NULL;
    int rc = gitctx_blame(g, path, (size_t)first, (size_t)last, &text, &msg);
    gitctx_free(g);
    return text_or_error(rc, text, msg);
}

/* === branches === */

static const char branches_schema[] =
    "{\"type\":\"object\",\"properties\":{"
    "\"all\":{\"type\":\"boolean\",\"default\":false,"
    "\"description\":\"Include remote-tracking branches\"}},"
    "\"additionalProperties\":false}";

static cJSON *git_branches(const struct builtin_ctx *ctx, const cJSON *args)
{
    static const char *const allowed[] = {"all", NULL};
    int all = 0;
    cJSON *r = builtin_args_check(args, allowed);
    if (r || builtin_arg_bool(args, "all", &all, &r) < 0)
        return r;
    struct gitctx *g = NULL;
    if (open_repo(ctx, &g, &r) < 0)
        return r;
    char *text = NULL, *msg = NULL;
    int rc = gitctx_branches(g, all, &text, &msg);
    gitctx_free(g);
    return text_or_error(rc, text, msg);
}

/* === Server table === */

static const struct builtin_tool git_tools[] = {
    {"status",
     "The repository's state, as `git status --porcelain -b` prints it: the branch line "
     "(upstream, ahead/behind), then one 'XY path' line per staged, unstaged, untracked "
     "or conflicted path. structuredContent lists them by kind.",
     status_schema, git_status, BUILTIN_READ_ONLY | BUILTIN_IDEMPOTENT, NULL},
    {"diff",
     "A unified diff: unstaged changes (default), staged changes (staged: true), or the "
     "work tree against a branch or commit (ref), optionally for one path; cut at "
     "max_bytes.",
     diff_schema, git_diff, BUILTIN_READ_ONLY | BUILTIN_IDEMPOTENT, NULL},
    {"log",
     "Recent commits, newest first: '<hash> <date> <author>: <subject>' a line; from rev "
     "(default HEAD), optionally only those that changed a path.",
     log_schema, git_log, BUILTIN_READ_ONLY | BUILTIN_IDEMPOTENT, NULL},
    {"show",
     "One commit: hash, author, date, message, and its diff against its first parent.",
     show_schema, git_show, BUILTIN_READ_ONLY | BUILTIN_IDEMPOTENT, NULL},
    {"blame",
     "Who last changed each line of a file (as committed at HEAD): "
     "'<hash> (<author> <date> <line>) <text>' for the lines asked for.",
     blame_schema, git_blame, BUILTIN_READ_ONLY | BUILTIN_IDEMPOTENT, NULL},
    {"branches",
     "Branches with their commit, upstream, ahead/behind and subject; the current one "
     "marked '*'. all: remote-tracking branches too.",
     branches_schema, git_branches, BUILTIN_READ_ONLY | BUILTIN_IDEMPOTENT, NULL},
};

const struct builtin_server builtin_git = {
    "git",
    "1.0.0",
    "Read-only view of the git repository holding the workspace: status, diffs, log, "
    "commits, blame and branches.",
    git_tools,
    ARRAY_LEN(git_tools),
};
