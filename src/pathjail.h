/* pathjail.h — keep tool paths inside the workspace root.
 *
 * Every path is resolved (realpath, symlinks followed) and must stay at or
 * under the root: "..", absolute paths outside the root and symlinks that
 * lead outside are refused with a message saying which path and why.
 * Thread-safe (no shared state). */
#ifndef MCPDECK_PATHJAIL_H
#define MCPDECK_PATHJAIL_H

/* root must be an absolute, already-resolved directory. path is relative
 * to root or absolute. must_exist=1: the whole path must exist (reads);
 * must_exist=0: the parent must exist inside root, the last component may
 * not exist yet (writes). Returns 0 and a malloc'd absolute *out, or -1 and
 * a malloc'd *errmsg. */
int pathjail_resolve(const char *root, const char *path, int must_exist,
                     char **out, char **errmsg);

/* The workspace root: the enclosing git repository's top directory
 * (a directory holding .git, walking up from dir), else dir itself;
 * resolved with realpath. dir NULL = current directory. malloc'd. */
char *pathjail_workspace_root(const char *dir);

#endif
