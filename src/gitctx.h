/* gitctx.h — what git knows about the workspace, through libgit2.
 *
 * The repository is discovered from a directory (walking up, like git).
 * Everything here is read-only except gitctx_apply_diff(). The operations
 * stat or read the whole tree (status, diffs, blame), so they are meant for
 * worker threads (loop_work), never the loop thread: the built-in git
 * server's tools run on workers, and job provenance is computed on one.
 * A struct gitctx is used by one thread at a time; separate gitctx objects
 * may be used on separate threads at once. Texts are malloc'd, the caller
 * frees them. */
#ifndef MCPDECK_GITCTX_H
#define MCPDECK_GITCTX_H

#include <stddef.h>

struct gitctx;

/* Open the repository holding dir (dir itself or a parent). 0 and *out,
 * or -1 with *errmsg saying where nothing was found. */
/* Initialise libgit2 for the process (once; thread-safe; never undone). */
void gitctx_init(void);
int gitctx_open(const char *dir, struct gitctx **out, char **errmsg);
void gitctx_free(struct gitctx *g);                 /* NULL-safe */
/* The work tree's top directory, without a trailing slash (borrowed). */
const char *gitctx_root(const struct gitctx *g);

/* === HEAD and branches === */

struct gitctx_head {
    char *branch;            /* short name; NULL when detached */
    char oid[41];            /* HEAD commit; "" on an unborn branch */
    char *upstream;          /* e.g. "origin/main"; NULL when none */
    size_t ahead, behind;    /* commits against the upstream */
    int detached, unborn;
};
int gitctx_head(struct gitctx *g, struct gitctx_head *out, char **errmsg);
void gitctx_head_fini(struct gitctx_head *h);

/* Local branches (all=1: remote-tracking too), one a line like
 * `git branch -vv`: "* main 1a2b3c4d5e6f [origin/main: ahead 1] subject". */
int gitctx_branches(struct gitctx *g, int all, char **out, char **errmsg);

/* === status === */

struct gitctx_entry {
    char x, y;               /* the two porcelain status letters ("??" untracked) */
    char *path;
    char *orig_path;         /* a staged rename's old path, else NULL */
};

struct gitctx_status {
    struct gitctx_entry *entries;   /* tracked changes by path, then untracked */
    size_t n;
    size_t staged, unstaged, untracked, conflicted;
};

/* Like `git status`: staged and unstaged changes (renames in the index
 * detected), untracked files (a wholly untracked directory is one "dir/"
 * entry), conflicts with their porcelain letters (UU, AA, DU...). */
int gitctx_status(struct gitctx *g, struct gitctx_status *out, char **errmsg);
void gitctx_status_fini(struct gitctx_status *s);
/* The same bytes `git status --porcelain` prints for s (paths quoted as
 * git quotes them). */
char *gitctx_status_porcelain(const struct gitctx_status *s);

/* === diffs, log, show, blame === */

enum gitctx_diff_kind {
    GITCTX_DIFF_WORKTREE,    /* index → work tree (`git diff`) */
    GITCTX_DIFF_STAGED,      /* HEAD → index (`git diff --cached`) */
    GITCTX_DIFF_REF,         /* a commit or branch → work tree (`git diff REF`) */
};

struct gitctx_diff_opts {
    enum gitctx_diff_kind kind;
    const char *ref;         /* GITCTX_DIFF_REF: any revision git understands */
    const char *path;        /* limit to this file or directory; NULL = all */
    int context;             /* lines of context; < 0 = 3 */
    size_t max_bytes;        /* cut the text here (at a line end); 0 = no limit */
};

/* A unified diff as `git diff` prints it. *truncated is 1 when the text was
 * cut at max_bytes (a last line says so). */
int gitctx_diff(struct gitctx *g, const struct gitctx_diff_opts *o, char **out,
                int *truncated, char **errmsg);

/* Up to max commits from rev (NULL = HEAD), newest first, touching path
 * when given: "<12-hex> <YYYY-MM-DD> <author>: <subject>" a line. */
int gitctx_log(struct gitctx *g, const char *rev, const char *path, size_t max, char **out,
               char **errmsg);

/* One commit: header (commit, Author, Date, the message indented) and its
 * diff against the first parent, cut at max_bytes (0 = no limit). */
int gitctx_show(struct gitctx *g, const char *rev, size_t max_bytes, char **out,
                int *truncated, char **errmsg);

/* Blame lines first..last (1-based, inclusive; last 0 = to the end) of
 * path as committed at HEAD: "<12-hex> (<author> <YYYY-MM-DD> <n>) <text>".
 * path is relative to the work tree's top. */
int gitctx_blame(struct gitctx *g, const char *path, size_t first, size_t last, char **out,
                 char **errmsg);

/* === provenance and patches === */

struct gitctx_provenance {
    char *root;              /* the work tree's top */
    char head[41];           /* "" on an unborn branch */
    char *branch;            /* NULL when detached */
    int dirty;               /* tracked files differ from HEAD (index or work tree) */
};
/* Provenance of the repository holding dir: -1 with *errmsg when there is
 * none. */
int gitctx_provenance(const char *dir, struct gitctx_provenance *out, char **errmsg);
void gitctx_provenance_fini(struct gitctx_provenance *p);

/* Apply a unified diff (as `git apply` would) to the work tree; with
 * check_only nothing is written, only whether it applies is said. */
int gitctx_apply_diff(struct gitctx *g, const char *diff_text, int check_only,
                      char **errmsg);

/* The unified diff inside a text (a model's answer, a tool's result):
 * the contents of ```diff / ```patch fences, else everything from the
 * first "diff --git " or "--- " line followed by "+++ ". malloc'd, or
 * NULL when the text holds none. *files gets the number of files it
 * touches. Pure; any thread. */
char *gitctx_find_diff(const char *text, int *files);

#endif
