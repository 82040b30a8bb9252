/* gitctx.c — git context through libgit2 (see gitctx.h).
 *
 * Each gitctx holds one git_repository. libgit2 is initialised once per
 * process (gitctx_init) and stays so: its init is not cheap (with the
 * mbedTLS backend it parses the system's CA bundle), and pairing it with a
 * shutdown around every open made each job's provenance scan pay it. Texts
 * follow the git CLI's formats where one exists (status --porcelain, diff,
 * show's header) so that what a model or a person reads is what git would
 * have printed. libgit2 errors become sentences naming the operation. */
#include "gitctx.h"
#include "util.h"

#include <git2.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct gitctx {
    git_repository *repo;
    char *root;
};

/* === Helpers === */

/* A sentence for the last libgit2 error of this thread. */
static char *git_err(const char *what)
{
    const git_error *e = git_error_last();
    return xasprintf("%s: %s", what, e && e->message ? e->message : "unknown libgit2 error");
}

static void oid_hex(const git_oid *id, char out[41])
{
    git_oid_tostr(out, 41, id);
}

/* "YYYY-MM-DD" of a signature's time in its own zone. */
static void sig_date(const git_signature *s, char out[16])
{
    time_t t = (time_t)(s->when.time + (git_time_t)s->when.offset * 60);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 16, "%Y-%m-%d", &tm);
}

/* The first line of a commit message, without its newline. */
static char *commit_subject(const git_commit *c)
{
    const char *m = git_commit_summary((git_commit *)c);
    return xstrdup(m ? m : "");
}

/* Resolve rev to a commit. */
static int rev_commit(struct gitctx *g, const char *rev, git_commit **out, char **errmsg)
{
    git_object *obj = NULL;
    if (git_revparse_single(&obj, g->repo, rev) < 0) {
        *errmsg = xasprintf("unknown revision '%s': %s", rev,
                            git_error_last() ? git_error_last()->message : "not found");
        return -1;
    }
    git_object *peeled = NULL;
    int rc = git_object_peel(&peeled, obj, GIT_OBJECT_COMMIT);
    git_object_free(obj);
    if (rc < 0) {
        *errmsg = xasprintf("revision '%s' does not name a commit", rev);
        return -1;
    }
    *out = (git_commit *)peeled;
    return 0;
}

/* === Open === */

static void init_once(void)
{
    git_libgit2_init();
}

void gitctx_init(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, init_once);
}

int gitctx_open(const char *dir, struct gitctx **out, char **errmsg)
{
    gitctx_init();
    git_repository *repo = NULL;
    *out = NULL;
    if (git_repository_open_ext(&repo, dir ? dir : ".", 0, NULL) < 0) {
        *errmsg = xasprintf("no git repository at or above %s", dir ? dir : ".");
        return -1;
    }
    const char *wd = git_repository_workdir(repo);
    if (!wd) {
        *errmsg = xasprintf("the git repository at %s is bare (no work tree)",
                            git_repository_path(repo));
        git_repository_free(repo);
        return -1;
    }
    struct gitctx *g = xcalloc(1, sizeof *g);
    g->repo = repo;
    g->root = xstrdup(wd);
    size_t n = strlen(g->root);
    while (n > 1 && g->root[n - 1] == '/')
        g->root[--n] = '\0';
    *out = g;
    return 0;
}

void gitctx_free(struct gitctx *g)
{
    if (!g)
        return;
    git_repository_free(g->repo);
    free(g->root);
    free(g);
}

const char *gitctx_root(const struct gitctx *g)
{
    return g->root;
}

/* === HEAD and branches === */

/* The upstream ref of a local branch from branch.<name>.remote and
 * branch.<name>.merge, with the default fetch refspec (refs/remotes/
 * <remote>/<branch>; remote "." is this repository). Read from the config
 * directly: git_branch_upstream() looks the remote up, which leaks in
 * libgit2 1.5 (pcre2 match data). malloc'd, or NULL when none. */
static char *upstream_ref(struct gitctx *g, const char *branch)
{
    git_config *cfg = NULL;
    git_config *snap = NULL;
    char *out = NULL;
    if (git_repository_config(&cfg, g->repo) < 0)
        return NULL;
    if (git_config_snapshot(&snap, cfg) == 0) {
        char *rk = xasprintf("branch.%s.remote", branch);
        char *mk = xasprintf("branch.%s.merge", branch);
        const char *remote = NULL, *merge = NULL;
        if (git_config_get_string(&remote, snap, rk) == 0 &&
            git_config_get_string(&merge, snap, mk) == 0) {
            if (strcmp(remote, ".") == 0)
                out = xstrdup(merge);
            else if (strncmp(merge, "refs/heads/", 11) == 0)
                out = xasprintf("refs/remotes/%s/%s", remote, merge + 11);
        }
        free(rk);
        free(mk);
        git_config_free(snap);
    }
    git_config_free(cfg);
    return out;
}

/* Upstream name and ahead/behind of the local branch ref. */
static void upstream_of(struct gitctx *g, git_reference *local, char **name, size_t *ahead,
                        size_t *behind)
{
    git_reference *up = NULL;
    *name = NULL;
    *ahead = *behind = 0;
    const char *bname = NULL;
    if (git_branch_name(&bname, local) < 0 || !bname)
        return;
    char *ref = upstream_ref(g, bname);
    if (!ref)
        return;
    if (git_reference_lookup(&up, g->repo, ref) == 0) {
        const char *sh = git_reference_shorthand(up);
        *name = xstrdup(sh ? sh : ref);
        git_reference *ra = NULL, *rb = NULL;
        if (git_reference_resolve(&ra, local) == 0 && git_reference_resolve(&rb, up) == 0) {
            const git_oid *a = git_reference_target(ra), *b = git_reference_target(rb);
            if (a && b)
                git_graph_ahead_behind(ahead, behind, g->repo, a, b);
        }
        git_reference_free(ra);
        git_reference_free(rb);
        git_reference_free(up);
    }
    free(ref);
}

int gitctx_head(struct gitctx *g, struct gitctx_head *out, char **errmsg)
{
    memset(out, 0, sizeof *out);
    git_reference *head = NULL;
    int rc = git_repository_head(&head, g->repo);
    if (rc == GIT_EUNBORNBRANCH || rc == GIT_ENOTFOUND) {
        out->unborn = 1;
        git_reference *sym = NULL;
        if (git_reference_lookup(&sym, g->repo, "HEAD") == 0) {
            const char *t = git_reference_symbolic_target(sym);
            if (t)
                out->branch = xstrdup(strncmp(t, "refs/heads/", 11) == 0 ? t + 11 : t);
            git_reference_free(sym);
        }
        return 0;
    }
    if (rc < 0) {
        *errmsg = git_err("cannot read HEAD");
        return -1;
    }
    const git_oid *id = git_reference_target(head);
    if (id)
        oid_hex(id, out->oid);
    out->detached = git_repository_head_detached(g->repo) == 1;
    if (!out->detached && git_reference_is_branch(head)) {
        out->branch = xstrdup(git_reference_shorthand(head));
        upstream_of(g, head, &out->upstream, &out->ahead, &out->behind);
    }
    git_reference_free(head);
    return 0;
}

void gitctx_head_fini(struct gitctx_head *h)
{
    free(h->branch);
    free(h->upstream);
    memset(h, 0, sizeof *h);
}

int gitctx_branches(struct gitctx *g, int all, char **out, char **errmsg)
{
    git_branch_iterator *it = NULL;
    if (git_branch_iterator_new(&it, g->repo, all ? GIT_BRANCH_ALL : GIT_BRANCH_LOCAL) < 0) {
        *errmsg = git_err("cannot list branches");
        return -1;
    }
    struct buf b;
    buf_init(&b);
    buf_puts(&b, "");
    git_reference *ref;
    git_branch_t type;
    while (git_branch_next(&ref, &type, it) == 0) {
        const char *name = NULL;
        git_branch_name(&name, ref);
        int current = type == GIT_BRANCH_LOCAL && git_branch_is_head(ref) == 1;
        char hex[41] = "";
        char *subject = NULL;
        git_reference *resolved = NULL;
        if (git_reference_resolve(&resolved, ref) == 0) {
            const git_oid *id = git_reference_target(resolved);
            git_commit *c = NULL;
            if (id && git_commit_lookup(&c, g->repo, id) == 0) {
                oid_hex(id, hex);
                subject = commit_subject(c);
                git_commit_free(c);
            }
            git_reference_free(resolved);
        }
        buf_printf(&b, "%c %s%s %.12s", current ? '*' : ' ',
                   type == GIT_BRANCH_REMOTE ? "remotes/" : "", name ? name : "?", hex);
        if (type == GIT_BRANCH_LOCAL) {
            char *up;
            size_t ahead, behind;
            upstream_of(g, ref, &up, &ahead, &behind);
            if (up) {
                buf_printf(&b, " [%s", up);
                if (ahead || behind)
                    buf_puts(&b, ":");
                if (ahead)
                    buf_printf(&b, " ahead %zu", ahead);
                if (ahead && behind)
                    buf_puts(&b, ",");
                if (behind)
                    buf_printf(&b, " behind %zu", behind);
                buf_puts(&b, "]");
                free(up);
            }
        }
        buf_printf(&b, " %s\n", subject ? subject : "");
        free(subject);
        git_reference_free(ref);
    }
    git_branch_iterator_free(it);
    *out = buf_detach(&b);
    return 0;
}

/* === status === */

static int entry_cmp(const void *a, const void *b)
{
    const struct gitctx_entry *x = a, *y = b;
    int ux = x->x == '?', uy = y->x == '?';
    if (ux != uy)
        return ux - uy;          /* tracked first, as git prints them */
    return strcmp(x->path, y->path);
}

/* Porcelain letters of a conflicted path from its index stages. */
static void conflict_letters(git_index *idx, const char *path, char *x, char *y)
{
    const git_index_entry *anc = NULL, *ours = NULL, *theirs = NULL;
    *x = *y = 'U';
    if (!idx || git_index_conflict_get(&anc, &ours, &theirs, idx, path) < 0)
        return;
    if (!anc && ours && theirs) {
        *x = *y = 'A';
    } else if (anc && !ours && !theirs) {
        *x = *y = 'D';
    } else if (anc && ours && !theirs) {
        *y = 'D';
    } else if (anc && !ours && theirs) {
        *x = 'D';
    } else if (!anc && ours && !theirs) {
        *x = 'A';
    } else if (!anc && !ours && theirs) {
        *y = 'A';
    }
}

static char index_letter(unsigned s)
{
    if (s & GIT_STATUS_INDEX_NEW)
        return 'A';
    if (s & GIT_STATUS_INDEX_MODIFIED)
        return 'M';
    if (s & GIT_STATUS_INDEX_DELETED)
        return 'D';
    if (s & GIT_STATUS_INDEX_RENAMED)
        return 'R';
    if (s & GIT_STATUS_INDEX_TYPECHANGE)
        return 'T';
    return ' ';
}

static char worktree_letter(unsigned s)
{
    if (s & GIT_STATUS_WT_MODIFIED)
        return 'M';
    if (s & GIT_STATUS_WT_DELETED)
        return 'D';
    if (s & GIT_STATUS_WT_TYPECHANGE)
        return 'T';
    if (s & GIT_STATUS_WT_RENAMED)
        return 'R';
    return ' ';
}

int gitctx_status(struct gitctx *g, struct gitctx_status *out, char **errmsg)
{
    memset(out, 0, sizeof *out);
    git_status_options o;
    git_status_options_init(&o, GIT_STATUS_OPTIONS_VERSION);
    o.show = GIT_STATUS_SHOW_INDEX_AND_WORKDIR;
    o.flags = GIT_STATUS_OPT_INCLUDE_UNTRACKED | GIT_STATUS_OPT_RENAMES_HEAD_TO_INDEX |
              GIT_STATUS_OPT_SORT_CASE_SENSITIVELY | GIT_STATUS_OPT_EXCLUDE_SUBMODULES;
    git_status_list *list = NULL;
    if (git_status_list_new(&list, g->repo, &o) < 0) {
        *errmsg = git_err("cannot read the status");
        return -1;
    }
    git_index *idx = NULL;
    git_repository_index(&idx, g->repo);
    size_t n = git_status_list_entrycount(list);
    out->entries = xcalloc(n + 1, sizeof *out->entries);
    for (size_t i = 0; i < n; i++) {
        const git_status_entry *se = git_status_byindex(list, i);
        unsigned s = se->status;
        if (s == GIT_STATUS_CURRENT || (s & GIT_STATUS_IGNORED))
            continue;
        const git_diff_delta *h2i = se->head_to_index, *i2w = se->index_to_workdir;
        const char *path = i2w ? i2w->new_file.path : h2i ? h2i->new_file.path : NULL;
        if (h2i && (s & GIT_STATUS_INDEX_RENAMED))
            path = h2i->new_file.path;
        if (!path)
            continue;
        struct gitctx_entry *e = &out->entries[out->n++];
        e->path = xstrdup(path);
        if (s & GIT_STATUS_CONFLICTED) {
            conflict_letters(idx, path, &e->x, &e->y);
            out->conflicted++;
        } else if (s & GIT_STATUS_WT_NEW) {
            e->x = e->y = '?';
            out->untracked++;
        } else {
            e->x = index_letter(s);
            e->y = worktree_letter(s);
            if (e->x != ' ')
                out->staged++;
            if (e->y != ' ')
                out->unstaged++;
            if ((s & GIT_STATUS_INDEX_RENAMED) && h2i)
                e->orig_path = xstrdup(h2i->old_file.path);
        }
    }
    git_index_free(idx);
    git_status_list_free(list);
    if (out->n > 1)
        qsort(out->entries, out->n, sizeof *out->entries, entry_cmp);
    return 0;
}

void gitctx_status_fini(struct gitctx_status *s)
{
    for (size_t i = 0; i < s->n; i++) {
        free(s->entries[i].path);
        free(s->entries[i].orig_path);
    }
    free(s->entries);
    memset(s, 0, sizeof *s);
}

/* A path as git quotes it in porcelain output (core.quotePath=true):
 * in double quotes with C escapes when it holds a space, a control or
 * non-ASCII byte, a quote or a backslash. */
static void put_path(struct buf *b, const char *p)
{
    int quote = 0;
    for (const unsigned char *s = (const unsigned char *)p; *s; s++)
        if (*s <= 0x20 || *s >= 0x7f || *s == '"' || *s == '\\')
            quote = 1;
    if (!quote) {
        buf_puts(b, p);
        return;
    }
    buf_putc(b, '"');
    for (const unsigned char *s = (const unsigned char *)p; *s; s++) {
        const char *esc = NULL;
        switch (*s) {
        case '\a': esc = "\\a"; break;
        case '\b': esc = "\\b"; break;
        case '\t': esc = "\\t"; break;
        case '\n': esc = "\\n"; break;
        case '\v': esc = "\\v"; break;
        case '\f': esc = "\\f"; break;
        case '\r': esc = "\\r"; break;
        case '"': esc = "\\\""; break;
        case '\\': esc = "\\\\"; break;
        default: break;
        }
        if (esc)
            buf_puts(b, esc);
        else if (*s < 0x20 || *s >= 0x7f)
            buf_printf(b, "\\%03o", *s);
        else
            buf_putc(b, (char)*s);
    }
    buf_putc(b, '"');
}

char *gitctx_status_porcelain(const struct gitctx_status *s)
{
    struct buf b;
    buf_init(&b);
    buf_puts(&b, "");
    for (size_t i = 0; i < s->n; i++) {
        const struct gitctx_entry *e = &s->entries[i];
        buf_putc(&b, e->x);
        buf_putc(&b, e->y);
        buf_putc(&b, ' ');
        if (e->orig_path) {
            put_path(&b, e->orig_path);
            buf_puts(&b, " -> ");
        }
        put_path(&b, e->path);
        buf_putc(&b, '\n');
    }
    return buf_detach(&b);
}

/* === diffs === */

struct diff_sink {
    struct buf out;
    size_t max;
    int truncated;
};

/* A file header as git prints it: git ends a "--- a/x y" or "+++ b/x y"
 * line with a tab when the name holds a space (so that patch tools can
 * tell where the name ends); libgit2 does not. */
static void put_file_header(struct buf *b, const char *p, size_t len)
{
    const char *end = p + len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        buf_append(b, p, n);
        if (n > 4 && (strncmp(p, "--- ", 4) == 0 || strncmp(p, "+++ ", 4) == 0) &&
            p[4] != '"' && memchr(p + 4, ' ', n - 4))
            buf_putc(b, '\t');
        if (nl)
            buf_putc(b, '\n');
        p += n + (nl ? 1 : 0);
    }
}

static int diff_line_cb(const git_diff_delta *d, const git_diff_hunk *h,
                        const git_diff_line *l, void *payload)
{
    struct diff_sink *s = payload;
    size_t need = l->content_len + 1;
    if (s->max && s->out.len + need > s->max) {
        s->truncated = 1;
        return 1;                 /* stop: the caller says where it was cut */
    }
    if (l->origin == GIT_DIFF_LINE_CONTEXT || l->origin == GIT_DIFF_LINE_ADDITION ||
        l->origin == GIT_DIFF_LINE_DELETION)
        buf_putc(&s->out, l->origin);
    if (l->origin == GIT_DIFF_LINE_FILE_HDR) {
        put_file_header(&s->out, l->content, l->content_len);
        return 0;
    }
    buf_append(&s->out, l->content, l->content_len);
    return 0;
}

/* Print diff into *out, cut at max bytes. */
static int diff_text(git_diff *diff, size_t max, char **out, int *truncated, char **errmsg)
{
    struct diff_sink s = {.max = max};
    buf_init(&s.out);
    buf_puts(&s.out, "");
    int rc = git_diff_print(diff, GIT_DIFF_FORMAT_PATCH, diff_line_cb, &s);
    if (rc < 0 && !s.truncated) {
        *errmsg = git_err("cannot print the diff");
        buf_fini(&s.out);
        return -1;
    }
    if (s.truncated)
        buf_printf(&s.out, "[diff truncated at %zu bytes; narrow it with path]\n", max);
    if (truncated)
        *truncated = s.truncated;
    *out = buf_detach(&s.out);
    return 0;
}

int gitctx_diff(struct gitctx *g, const struct gitctx_diff_opts *o, char **out,
                int *truncated, char **errmsg)
{
    git_diff_options dopts;
    git_diff_options_init(&dopts, GIT_DIFF_OPTIONS_VERSION);
    char *pathspec[1] = {(char *)o->path};
    if (o->path && o->path[0]) {
        dopts.pathspec.strings = pathspec;
        dopts.pathspec.count = 1;
    }
    dopts.context_lines = o->context < 0 ? 3 : (uint32_t)o->context;
    dopts.id_abbrev = 7;
    git_diff *diff = NULL;
    git_tree *tree = NULL;
    git_commit *c = NULL;
    int rc = -1;
    *out = NULL;
    if (truncated)
        *truncated = 0;

    switch (o->kind) {
    case GITCTX_DIFF_WORKTREE:
        if (git_diff_index_to_workdir(&diff, g->repo, NULL, &dopts) < 0) {
            *errmsg = git_err("cannot diff the work tree");
            goto done;
        }
        break;
    case GITCTX_DIFF_STAGED: {
        git_object *obj = NULL;
        if (git_revparse_single(&obj, g->repo, "HEAD^{tree}") == 0)
            tree = (git_tree *)obj;     /* unborn: against the empty tree */
        if (git_diff_tree_to_index(&diff, g->repo, tree, NULL, &dopts) < 0) {
            *errmsg = git_err("cannot diff the index");
            goto done;
        }
        break;
    }
    case GITCTX_DIFF_REF:
        if (!o->ref || !o->ref[0]) {
            *errmsg = xstrdup("a diff against a revision needs the revision");
            goto done;
        }
        if (rev_commit(g, o->ref, &c, errmsg) < 0)
            goto done;
        if (git_commit_tree(&tree, c) < 0 ||
            git_diff_tree_to_workdir_with_index(&diff, g->repo, tree, &dopts) < 0) {
            *errmsg = git_err("cannot diff against the revision");
            goto done;
        }
        break;
    }
    if (o->kind != GITCTX_DIFF_WORKTREE) {
        git_diff_find_options f;
        git_diff_find_options_init(&f, GIT_DIFF_FIND_OPTIONS_VERSION);
        f.flags = GIT_DIFF_FIND_RENAMES;
        git_diff_find_similar(diff, &f);
    }
    rc = diff_text(diff, o->max_bytes, out, truncated, errmsg);

done:
    git_diff_free(diff);
    git_tree_free(tree);
    git_commit_free(c);
    return rc;
}

/* === log, show === */

/* 1 when commit c changed path against its first parent (or adds it). */
static int commit_touches(git_commit *c, const char *path)
{
    git_tree *t = NULL, *pt = NULL;
    git_commit *p = NULL;
    git_tree_entry *e = NULL, *pe = NULL;
    int touched = 0;
    if (git_commit_tree(&t, c) < 0)
        return 0;
    git_tree_entry_bypath(&e, t, path);
    if (git_commit_parentcount(c) > 0 && git_commit_parent(&p, c, 0) == 0 &&
        git_commit_tree(&pt, p) == 0)
        git_tree_entry_bypath(&pe, pt, path);
    if (!e != !pe)
        touched = 1;
    else if (e && pe)
        touched = !git_oid_equal(git_tree_entry_id(e), git_tree_entry_id(pe));
    git_tree_entry_free(e);
    git_tree_entry_free(pe);
    git_tree_free(t);
    git_tree_free(pt);
    git_commit_free(p);
    return touched;
}

int gitctx_log(struct gitctx *g, const char *rev, const char *path, size_t max, char **out,
               char **errmsg)
{
    git_revwalk *w = NULL;
    git_commit *start = NULL;
    *out = NULL;
    if (rev_commit(g, rev && rev[0] ? rev : "HEAD", &start, errmsg) < 0)
        return -1;
    if (git_revwalk_new(&w, g->repo) < 0 ||
        git_revwalk_push(w, git_commit_id(start)) < 0) {
        *errmsg = git_err("cannot walk the history");
        git_revwalk_free(w);
        git_commit_free(start);
        return -1;
    }
    git_commit_free(start);
    git_revwalk_sorting(w, GIT_SORT_TIME);
    struct buf b;
    buf_init(&b);
    buf_puts(&b, "");
    git_oid id;
    size_t n = 0;
    while ((max == 0 || n < max) && git_revwalk_next(&id, w) == 0) {
        git_commit *c = NULL;
        if (git_commit_lookup(&c, g->repo, &id) < 0)
            continue;
        if (path && path[0] && !commit_touches(c, path)) {
            git_commit_free(c);
            continue;
        }
        const git_signature *a = git_commit_author(c);
        char hex[41], date[16];
        oid_hex(&id, hex);
        sig_date(a, date);
        char *subj = commit_subject(c);
        buf_printf(&b, "%.12s %s %s: %s\n", hex, date, a->name, subj);
        free(subj);
        git_commit_free(c);
        n++;
    }
    git_revwalk_free(w);
    *out = buf_detach(&b);
    return 0;
}

int gitctx_show(struct gitctx *g, const char *rev, size_t max_bytes, char **out,
                int *truncated, char **errmsg)
{
    git_commit *c = NULL, *parent = NULL;
    git_tree *t = NULL, *pt = NULL;
    git_diff *diff = NULL;
    int rc = -1;
    *out = NULL;
    if (truncated)
        *truncated = 0;
    if (rev_commit(g, rev && rev[0] ? rev : "HEAD", &c, errmsg) < 0)
        return -1;
    if (git_commit_tree(&t, c) < 0 ||
        (git_commit_parentcount(c) > 0 &&
         (git_commit_parent(&parent, c, 0) < 0 || git_commit_tree(&pt, parent) < 0))) {
        *errmsg = git_err("cannot read the commit");
        goto done;
    }
    git_diff_options dopts;
    git_diff_options_init(&dopts, GIT_DIFF_OPTIONS_VERSION);
    dopts.id_abbrev = 7;
    if (git_diff_tree_to_tree(&diff, g->repo, pt, t, &dopts) < 0) {
        *errmsg = git_err("cannot diff the commit");
        goto done;
    }
    git_diff_find_options f;
    git_diff_find_options_init(&f, GIT_DIFF_FIND_OPTIONS_VERSION);
    f.flags = GIT_DIFF_FIND_RENAMES;
    git_diff_find_similar(diff, &f);

    struct buf b;
    buf_init(&b);
    char hex[41];
    oid_hex(git_commit_id(c), hex);
    const git_signature *a = git_commit_author(c);
    time_t when = (time_t)(a->when.time + (git_time_t)a->when.offset * 60);
    struct tm tm;
    gmtime_r(&when, &tm);
    char date[64];
    strftime(date, sizeof date, "%a %b %e %H:%M:%S %Y", &tm);
    int off = a->when.offset;
    buf_printf(&b, "commit %s\n", hex);
    if (git_commit_parentcount(c) > 1) {
        buf_puts(&b, "Merge:");
        for (unsigned i = 0; i < git_commit_parentcount(c); i++) {
            char ph[41];
            oid_hex(git_commit_parent_id(c, i), ph);
            buf_printf(&b, " %.7s", ph);
        }
        buf_putc(&b, '\n');
    }
    /* git prints the day of month unpadded: "Mon Jan 5", not "Mon Jan  5" */
    char *dd = strstr(date, "  ");
    if (dd)
        memmove(dd + 1, dd + 2, strlen(dd + 2) + 1);
    buf_printf(&b, "Author: %s <%s>\nDate:   %s %c%02d%02d\n\n", a->name, a->email, date,
               off < 0 ? '-' : '+', abs(off) / 60, abs(off) % 60);
    const char *msg = git_commit_message(c);
    for (const char *p = msg; p && *p;) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        buf_puts(&b, len ? "    " : "");
        buf_append(&b, p, len);
        buf_putc(&b, '\n');
        p = nl ? nl + 1 : p + len;
    }
    char *patch = NULL;
    size_t room = max_bytes ? (max_bytes > b.len ? max_bytes - b.len : 1) : 0;
    if (diff_text(diff, room, &patch, truncated, errmsg) < 0) {
        buf_fini(&b);
        goto done;
    }
    if (patch[0])
        buf_putc(&b, '\n');
    buf_puts(&b, patch);
    free(patch);
    *out = buf_detach(&b);
    rc = 0;

done:
    git_diff_free(diff);
    git_tree_free(t);
    git_tree_free(pt);
    git_commit_free(parent);
    git_commit_free(c);
    return rc;
}

/* === blame === */

int gitctx_blame(struct gitctx *g, const char *path, size_t first, size_t last, char **out,
                 char **errmsg)
{
    git_blame *bl = NULL;
    git_object *obj = NULL;
    char *spec = NULL;
    int rc = -1;
    *out = NULL;
    if (first == 0)
        first = 1;
    spec = xasprintf("HEAD:%s", path);
    if (git_revparse_single(&obj, g->repo, spec) < 0 ||
        git_object_type(obj) != GIT_OBJECT_BLOB) {
        *errmsg = xasprintf("'%s' is not a file committed at HEAD", path);
        goto done;
    }
    git_blob *blob = (git_blob *)obj;
    const char *data = git_blob_rawcontent(blob);
    size_t size = (size_t)git_blob_rawsize(blob);
    size_t nlines = 0;
    for (size_t i = 0; i < size; i++)
        nlines += data[i] == '\n';
    if (size && data[size - 1] != '\n')
        nlines++;
    if (first > nlines) {
        *errmsg = xasprintf("line %zu is past the end of '%s' (%zu lines at HEAD)", first, path,
                            nlines);
        goto done;
    }
    if (last == 0 || last > nlines)
        last = nlines;
    if (last < first) {
        *errmsg = xasprintf("end line %zu is before start line %zu", last, first);
        goto done;
    }
    git_blame_options bo;
    git_blame_options_init(&bo, GIT_BLAME_OPTIONS_VERSION);
    bo.min_line = first;
    bo.max_line = last;
    if (git_blame_file(&bl, g->repo, path, &bo) < 0) {
        *errmsg = git_err("cannot blame the file");
        goto done;
    }
    struct buf b;
    buf_init(&b);
    buf_puts(&b, "");
    const char *p = data, *end = data + size;
    for (size_t no = 1; no <= last && p < end; no++) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
        if (no >= first) {
            const git_blame_hunk *h = git_blame_get_hunk_byline(bl, no);
            char hex[41] = "", date[16] = "";
            const char *who = "?";
            if (h) {
                oid_hex(&h->final_commit_id, hex);
                if (h->final_signature) {
                    sig_date(h->final_signature, date);
                    who = h->final_signature->name;
                }
            }
            buf_printf(&b, "%.12s (%s %s %zu) ", hex, who, date, no);
            buf_append(&b, p, len);
            buf_putc(&b, '\n');
        }
        p = nl ? nl + 1 : end;
    }
    *out = buf_detach(&b);
    rc = 0;

done:
    git_blame_free(bl);
    git_object_free(obj);
    free(spec);
    return rc;
}

/* === provenance and patches === */

int gitctx_provenance(const char *dir, struct gitctx_provenance *out, char **errmsg)
{
    struct gitctx *g = NULL;
    memset(out, 0, sizeof *out);
    if (gitctx_open(dir, &g, errmsg) < 0)
        return -1;
    struct gitctx_head h;
    if (gitctx_head(g, &h, errmsg) < 0) {
        gitctx_free(g);
        return -1;
    }
    out->root = xstrdup(g->root);
    memcpy(out->head, h.oid, sizeof out->head);
    out->branch = h.branch;
    h.branch = NULL;
    gitctx_head_fini(&h);

    git_status_options o;
    git_status_options_init(&o, GIT_STATUS_OPTIONS_VERSION);
    o.show = GIT_STATUS_SHOW_INDEX_AND_WORKDIR;
    o.flags = GIT_STATUS_OPT_EXCLUDE_SUBMODULES;     /* untracked files do not count */
    git_status_list *list = NULL;
    if (git_status_list_new(&list, g->repo, &o) == 0) {
        out->dirty = git_status_list_entrycount(list) > 0;
        git_status_list_free(list);
    }
    gitctx_free(g);
    return 0;
}

void gitctx_provenance_fini(struct gitctx_provenance *p)
{
    free(p->root);
    free(p->branch);
    memset(p, 0, sizeof *p);
}

int gitctx_apply_diff(struct gitctx *g, const char *diff_text, int check_only,
                      char **errmsg)
{
    git_diff *diff = NULL;
    if (!diff_text || git_diff_from_buffer(&diff, diff_text, strlen(diff_text)) < 0) {
        *errmsg = git_err("the text is not a unified diff git can read");
        return -1;
    }
    git_apply_options ao;
    git_apply_options_init(&ao, GIT_APPLY_OPTIONS_VERSION);
    if (check_only)
        ao.flags |= GIT_APPLY_CHECK;
    int rc = git_apply(g->repo, diff, GIT_APPLY_LOCATION_WORKDIR, &ao);
    if (rc < 0)
        *errmsg = git_err(check_only ? "the diff does not apply" : "cannot apply the diff");
    git_diff_free(diff);
    return rc < 0 ? -1 : 0;
}

/* === finding a diff in text === */

static int count_files(const char *d)
{
    int n = 0;
    for (const char *p = d; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
        if (strncmp(p, "+++ ", 4) == 0)
            n++;
    return n;
}

char *gitctx_find_diff(const char *text, int *files)
{
    *files = 0;
    if (!text)
        return NULL;
    struct buf out;
    buf_init(&out);
    /* fenced blocks first: a model writes its patch in ```diff */
    for (const char *p = text; (p = strstr(p, "```"));) {
        const char *lang = p + 3;
        const char *eol = strchr(lang, '\n');
        if (!eol)
            break;
        int is_diff = (eol - lang >= 4 && strncmp(lang, "diff", 4) == 0) ||
                      (eol - lang >= 5 && strncmp(lang, "patch", 5) == 0);
        const char *end = strstr(eol + 1, "\n```");
        if (!end)
            break;
        if (is_diff)
            buf_append(&out, eol + 1, (size_t)(end - eol));
        p = end + 4;
    }
    if (!out.len) {
        for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
            const char *nl = strchr(p, '\n');
            if (strncmp(p, "diff --git ", 11) == 0 ||
                (strncmp(p, "--- ", 4) == 0 && nl && strncmp(nl + 1, "+++ ", 4) == 0)) {
                buf_puts(&out, p);
                break;
            }
        }
    }
    if (!out.len || !(*files = count_files(out.data))) {
        buf_fini(&out);
        *files = 0;
        return NULL;
    }
    if (out.data[out.len - 1] != '\n')
        buf_putc(&out, '\n');
    /* libgit2 reads git's format: a file's ---/+++ pair needs its
     * "diff --git a/X b/Y" line, which a plain unified diff lacks */
    struct buf g;
    buf_init(&g);
    const char *prev = NULL;
    for (const char *p = out.data; *p;) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p + 1) : strlen(p);
        if (strncmp(p, "--- ", 4) == 0 && nl && strncmp(nl + 1, "+++ ", 4) == 0 &&
            !(prev && strncmp(prev, "diff --git ", 11) == 0) &&
            !(prev && strncmp(prev, "index ", 6) == 0)) {
            const char *a = p + 4, *ae = strpbrk(a, "\t\n");
            const char *b = nl + 5, *be = strpbrk(b, "\t\n");
            if (!strncmp(a, "a/", 2))
                a += 2;
            if (!strncmp(b, "b/", 2))
                b += 2;
            if (strncmp(p + 4, "/dev/null", 9) == 0)
                a = b, ae = be;
            if (strncmp(nl + 5, "/dev/null", 9) == 0)
                b = a, be = ae;
            buf_printf(&g, "diff --git a/%.*s b/%.*s\n", (int)(ae - a), a, (int)(be - b), b);
        }
        buf_append(&g, p, len);
        prev = p;
        p += len;
    }
    buf_fini(&out);
    return buf_detach(&g);
}
