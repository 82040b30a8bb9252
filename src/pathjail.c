/* pathjail.c — keep tool paths inside the workspace root (see pathjail.h).
 *
 * A path is joined to the root, resolved with realpath() (the whole path
 * for reads, the parent directory for writes) and accepted only when the
 * result is the root or lies under it. A lexical normalisation of the same
 * path (".." and "." folded, no symlinks followed) only chooses the wording
 * of a refusal: "outside the workspace root" when the path itself climbs
 * out, "(symlink)" when it looks inside but a link leads out. */
#include "pathjail.h"
#include "util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* === Helpers === */

/* 1 when p (absolute, normalised) is root or lies under it. */
static int path_is_inside(const char *root, const char *p)
{
    if (strcmp(root, "/") == 0)
        return p[0] == '/';
    size_t n = strlen(root);
    return strncmp(p, root, n) == 0 && (p[n] == '\0' || p[n] == '/');
}

/* root + "/" + path for relative paths, a copy of path for absolute ones. */
static char *path_join(const char *root, const char *path)
{
    if (path[0] == '/')
        return xstrdup(path);
    if (strcmp(root, "/") == 0)
        return xasprintf("/%s", path);
    return xasprintf("%s/%s", root, path);
}

/* Fold "." and ".." and repeated slashes of an absolute path without
 * touching the file system. ".." at "/" stays at "/". */
static char *path_normalize(const char *abs)
{
    size_t n = strlen(abs);
    char *out = xmalloc(n + 2);
    size_t len = 0;
    const char *p = abs;
    while (*p) {
        while (*p == '/')
            p++;
        const char *end = strchr(p, '/');
        size_t clen = end ? (size_t)(end - p) : strlen(p);
        if (clen == 0)
            break;
        if (clen == 1 && p[0] == '.') {
            /* nothing */
        } else if (clen == 2 && p[0] == '.' && p[1] == '.') {
            while (len > 0 && out[len - 1] != '/')
                len--;
            if (len > 0)
                len--;            /* drop the slash too */
        } else {
            out[len++] = '/';
            memcpy(out + len, p, clen);
            len += clen;
        }
        p += clen;
    }
    if (len == 0)
        out[len++] = '/';
    out[len] = '\0';
    return out;
}

/* The reason realpath() failed with errno e, for path (as given). */
static char *resolve_error(const char *path, int e, int parent)
{
    const char *what = parent ? "the parent directory of path" : "path";
    switch (e) {
    case ENOENT:
        return xasprintf("%s '%s' does not exist", what, path);
    case ENOTDIR:
        return xasprintf("%s '%s' does not exist (a component of it is not a directory)",
                         what, path);
    case ELOOP:
        return xasprintf("%s '%s' cannot be resolved: symlink loop (too many levels of "
                         "symbolic links)", what, path);
    case EACCES:
        return xasprintf("%s '%s' cannot be resolved: permission denied", what, path);
    case ENAMETOOLONG:
        return xasprintf("%s '%s' is too long", what, path);
    default: {
        char ebuf[128];
        return xasprintf("%s '%s' cannot be resolved: %s", what, path,
                         strerror_r(e, ebuf, sizeof ebuf));
    }
    }
}

/* The refusal for a resolved path that fell outside root. */
static char *outside_error(const char *root, const char *path, const char *lexical,
                           const char *resolved)
{
    if (!path_is_inside(root, lexical))
        return xasprintf("path '%s' is outside the workspace root %s", path, root);
    return xasprintf("path '%s' resolves to %s outside the workspace root %s (symlink)",
                     path, resolved, root);
}

/* must_exist=0: resolve the parent of joined and append its last component.
 * An existing last component is resolved too, so a symlink cannot carry a
 * write out of the root. Returns the resolved path or NULL and *errmsg. */
static char *resolve_for_write(const char *path, char *joined, char **errmsg)
{
    size_t n = strlen(joined);
    while (n > 1 && joined[n - 1] == '/')
        joined[--n] = '\0';
    char *slash = strrchr(joined, '/');
    const char *last = slash + 1;
    if (*last == '\0' || strcmp(last, ".") == 0 || strcmp(last, "..") == 0) {
        *errmsg = xasprintf("path '%s' must end in a file name, not '.', '..' or '/'", path);
        return NULL;
    }
    char *parent = slash == joined ? xstrdup("/") : xstrndup(joined, (size_t)(slash - joined));
    char *parent_real = realpath(parent, NULL);
    int e = errno;
    free(parent);
    if (!parent_real) {
        *errmsg = resolve_error(path, e, 1);
        return NULL;
    }
    struct stat st;
    if (stat(parent_real, &st) != 0 || !S_ISDIR(st.st_mode)) {
        *errmsg = xasprintf("the parent of path '%s' is not a directory", path);
        free(parent_real);
        return NULL;
    }
    char *cand = strcmp(parent_real, "/") == 0 ? xasprintf("/%s", last)
                                               : xasprintf("%s/%s", parent_real, last);
    free(parent_real);
    if (lstat(cand, &st) == 0) {
        char *real = realpath(cand, NULL);
        e = errno;
        if (!real) {
            if (e == ENOENT)
                *errmsg = xasprintf("path '%s' is a symlink whose target does not exist",
                                    path);
            else
                *errmsg = resolve_error(path, e, 0);
            free(cand);
            return NULL;
        }
        free(cand);
        cand = real;
    }
    return cand;
}

/* === Public === */

int pathjail_resolve(const char *root, const char *path, int must_exist,
                     char **out, char **errmsg)
{
    char *joined = NULL, *lexical = NULL, *resolved = NULL;
    char *rootc = NULL;
    *out = NULL;
    *errmsg = NULL;

    if (!path || path[0] == '\0') {
        *errmsg = xasprintf("path is empty; give a path inside the workspace root %s", root);
        goto fail;
    }
    /* A C string cannot hold a NUL; callers that get lengths (JSON) must
     * check that strlen matches before calling. */
    rootc = xstrdup(root);
    size_t rn = strlen(rootc);
    while (rn > 1 && rootc[rn - 1] == '/')
        rootc[--rn] = '\0';

    joined = path_join(rootc, path);
    lexical = path_normalize(joined);
    if (must_exist) {
        resolved = realpath(joined, NULL);
        if (!resolved) {
            int e = errno;
            if (!path_is_inside(rootc, lexical))
                *errmsg = xasprintf("path '%s' is outside the workspace root %s", path, rootc);
            else
                *errmsg = resolve_error(path, e, 0);
            goto fail;
        }
    } else {
        if (!path_is_inside(rootc, lexical)) {
            *errmsg = xasprintf("path '%s' is outside the workspace root %s", path, rootc);
            goto fail;
        }
        resolved = resolve_for_write(path, joined, errmsg);
        if (!resolved)
            goto fail;
    }
    if (!path_is_inside(rootc, resolved)) {
        *errmsg = outside_error(rootc, path, lexical, resolved);
        goto fail;
    }
    *out = resolved;
    free(joined);
    free(lexical);
    free(rootc);
    return 0;

fail:
    free(resolved);
    free(joined);
    free(lexical);
    free(rootc);
    return -1;
}

char *pathjail_workspace_root(const char *dir)
{
    const char *start = dir ? dir : ".";
    char *d = realpath(start, NULL);
    if (!d)
        return xstrdup(start);
    char *cur = xstrdup(d);
    for (;;) {
        struct stat st;
        char *git = strcmp(cur, "/") == 0 ? xstrdup("/.git") : xasprintf("%s/.git", cur);
        int found = stat(git, &st) == 0 && (S_ISDIR(st.st_mode) || S_ISREG(st.st_mode));
        free(git);
        if (found) {
            free(d);
            return cur;
        }
        if (strcmp(cur, "/") == 0)
            break;
        char *slash = strrchr(cur, '/');
        if (slash == cur)
            slash[1] = '\0';
        else
            *slash = '\0';
    }
    free(cur);
    return d;
}
