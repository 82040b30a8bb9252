/* builtin_fs_write.c — the fs server's tools that change files:
 * write_file, edit_file, move_file, create_directory.
 *
 * Every target goes through the jail for writes: the parent directory
 * must resolve inside the workspace root, and an existing target that is
 * a symlink is followed only when it leads inside (pathjail.c). Files are
 * replaced atomically: the new text goes to a temporary file in the same
 * directory, which is renamed over the target, so a reader sees the old
 * or the new file and never a part. Writes and edits are capped at
 * FS_WRITE_CAP bytes. These tools are annotated destructive: the engine's
 * tool policy decides whether they may run (engine_policy.c). */
#include "builtin_fs_int.h"
#include "gitctx.h"
#include "pathjail.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <git2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* === Helpers === */

static char *errno_text(int e)
{
    char ebuf[128];
    return xstrdup(strerror_r(e, ebuf, sizeof ebuf));
}

/* Replace real with len bytes of data through a temporary file beside it.
 * An existing file keeps its mode. 0, or -1 with *errmsg. */
static int write_atomic(const char *real, const char *shown, const char *data, size_t len,
                        char **errmsg)
{
    char *tmp = xasprintf("%s.mcpdeck-XXXXXX", real);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        char *e = errno_text(errno);
        *errmsg = xasprintf("cannot write '%s': %s", shown, e);
        free(e);
        free(tmp);
        return -1;
    }
    struct stat st;
    mode_t mode = 0644;
    if (stat(real, &st) == 0)
        mode = st.st_mode & 07777;
    fchmod(fd, mode);
    size_t off = 0;
    while (off < len) {
        ssize_t n = write(fd, data + off, len - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            goto fail;
        off += (size_t)n;
    }
    if (close(fd) < 0) {
        fd = -1;
        goto fail;
    }
    fd = -1;
    if (rename(tmp, real) < 0)
        goto fail;
    free(tmp);
    return 0;
fail: {
        char *e = errno_text(errno);
        *errmsg = xasprintf("cannot write '%s': %s", shown, e);
        free(e);
        if (fd >= 0)
            close(fd);
        unlink(tmp);
        free(tmp);
        return -1;
    }
}

/* The whole regular file real (at most FS_WRITE_CAP bytes) into *out. */
static int read_for_edit(const char *real, const char *shown, char **out, size_t *len,
                         char **errmsg)
{
    struct stat st;
    if (stat(real, &st) < 0 || !S_ISREG(st.st_mode)) {
        *errmsg = xasprintf("path '%s' is not a regular file", shown);
        return -1;
    }
    if (st.st_size > (off_t)FS_WRITE_CAP) {
        *errmsg = xasprintf("file '%s' is %lld bytes, over the %u-byte (4 MiB) edit cap",
                            shown, (long long)st.st_size, FS_WRITE_CAP);
        return -1;
    }
    if (util_read_file(real, out, len) < 0) {
        char *e = errno_text(errno);
        *errmsg = xasprintf("cannot read '%s': %s", shown, e);
        free(e);
        return -1;
    }
    if (memchr(*out, '\0', *len)) {
        free(*out);
        *out = NULL;
        *errmsg = xasprintf("file '%s' looks binary (it holds a NUL byte); edit_file only "
                            "edits text", shown);
        return -1;
    }
    return 0;
}

/* A unified diff of the change from old to new, shown as path. */
static char *unified_diff(const char *path, const char *old, size_t olen, const char *new,
                          size_t nlen)
{
    gitctx_init();
    git_patch *patch = NULL;
    git_buf b = {0};
    char *out = NULL;
    if (git_patch_from_buffers(&patch, old, olen, path, new, nlen, path, NULL) == 0 &&
        git_patch_to_buf(&b, patch) == 0)
        out = xstrndup(b.ptr ? b.ptr : "", b.size);
    git_buf_dispose(&b);
    git_patch_free(patch);
    return out ? out : xstrdup("");
}

/* === write_file === */

const char fs_write_schema[] =
    "{\"type\":\"object\",\"properties\":{"
    "\"path\":{\"type\":\"string\",\"description\":"
    "\"File to create or replace, relative to the workspace root\"},"
    "\"content\":{\"type\":\"string\",\"description\":\"The whole new text (at most 4 MiB)\"}},"
    "\"required\":[\"path\",\"content\"],\"additionalProperties\":false}";

cJSON *fs_write_file(const struct builtin_ctx *ctx, const cJSON *args)
{
    static const char *const allowed[] = {"path", "content", NULL};
    const char *path, *content;
    char *real = NULL, *msg = NULL;
    cJSON *r = builtin_args_check(args, allowed);
    if (r)
        return r;
    if (builtin_arg_string(args, "path", 1, &path, &r) < 0 ||
        builtin_arg_string(args, "content", 1, &content, &r) < 0)
        return r;
    size_t len = strlen(content);
    if (len > FS_WRITE_CAP)
        return builtin_result_text(1, "content is %zu bytes, over the %u-byte (4 MiB) write "
                                   "cap", len, FS_WRITE_CAP);
    if (fs_resolve(ctx, path, 0, &real, &r) < 0)
        return r;
    struct stat st;
    if (stat(real, &st) == 0 && !S_ISREG(st.st_mode)) {
        r = builtin_result_text(1, "path '%s' exists and is not a regular file", path);
    } else if (write_atomic(real, path, content, len, &msg) < 0) {
        r = builtin_result_take_text(1, msg);
    } else {
        r = builtin_result_text(0, "Wrote %zu bytes to %s", len,
                                fs_rel_to_root(ctx->root, real));
    }
    free(real);
    return r;
}

/* === edit_file === */

const char fs_edit_schema[] =
    "{\"type\":\"object\",\"properties\":{"
    "\"path\":{\"type\":\"string\",\"description\":"
    "\"File to edit, relative to the workspace root\"},"
    "\"old_text\":{\"type\":\"string\",\"description\":"
    "\"Exact text to replace; it must occur exactly once in the file\"},"
    "\"new_text\":{\"type\":\"string\",\"description\":\"The replacement text\"},"
    "\"dry_run\":{\"type\":\"boolean\",\"default\":false,\"description\":"
    "\"Only return the diff, change nothing\"}},"
    "\"required\":[\"path\",\"old_text\",\"new_text\"],\"additionalProperties\":false}";

cJSON *fs_edit_file(const struct builtin_ctx *ctx, const cJSON *args)
{
    static const char *const allowed[] = {"path", "old_text", "new_text", "dry_run", NULL};
    const char *path, *old_text, *new_text;
    int dry = 0;
    char *real = NULL, *data = NULL, *msg = NULL;
    size_t len = 0;
    cJSON *r = builtin_args_check(args, allowed);
    if (r)
        return r;
    if (builtin_arg_string(args, "path", 1, &path, &r) < 0 ||
        builtin_arg_string(args, "old_text", 1, &old_text, &r) < 0 ||
        builtin_arg_string(args, "new_text", 1, &new_text, &r) < 0 ||
        builtin_arg_bool(args, "dry_run", &dry, &r) < 0)
        return r;
    size_t olen = strlen(old_text), nlen = strlen(new_text);
    if (olen == 0)
        return builtin_result_text(1, "old_text is empty; give the exact text to replace");
    if (fs_resolve(ctx, path, 1, &real, &r) < 0)
        return r;
    if (read_for_edit(real, path, &data, &len, &msg) < 0) {
        r = builtin_result_take_text(1, msg);
        goto done;
    }
    size_t count = 0;
    const char *at = NULL;
    for (const char *p = data; (p = memmem(p, len - (size_t)(p - data), old_text, olen));
         p += olen) {
        if (!at)
            at = p;
        count++;
    }
    if (count != 1) {
        r = count == 0
            ? builtin_result_text(1, "old_text was not found in '%s'; nothing was changed "
                                  "(it must match the file exactly, whitespace included)", path)
            : builtin_result_text(1, "old_text matches %zu times in '%s'; nothing was changed: "
                                  "include more of the surrounding text so that it matches "
                                  "exactly once", count, path);
        goto done;
    }
    size_t newlen = len - olen + nlen;
    if (newlen > FS_WRITE_CAP) {
        r = builtin_result_text(1, "the edited file would be %zu bytes, over the %u-byte "
                                "(4 MiB) cap", newlen, FS_WRITE_CAP);
        goto done;
    }
    size_t pre = (size_t)(at - data);
    char *edited = xmalloc(newlen + 1);
    memcpy(edited, data, pre);
    memcpy(edited + pre, new_text, nlen);
    memcpy(edited + pre + nlen, at + olen, len - pre - olen);
    edited[newlen] = '\0';
    const char *rel = fs_rel_to_root(ctx->root, real);
    if (!dry && write_atomic(real, path, edited, newlen, &msg) < 0) {
        r = builtin_result_take_text(1, msg);
    } else {
        char *diff = unified_diff(rel, data, len, edited, newlen);
        r = builtin_result_take_text(0, diff);
    }
    free(edited);

done:
    free(data);
    free(real);
    return r;
}

/* === move_file === */

const char fs_move_schema[] =
    "{\"type\":\"object\",\"properties\":{"
    "\"source\":{\"type\":\"string\",\"description\":"
    "\"File or directory to move or rename, relative to the workspace root\"},"
    "\"destination\":{\"type\":\"string\",\"description\":"
    "\"New path; it must not exist yet\"}},"
    "\"required\":[\"source\",\"destination\"],\"additionalProperties\":false}";

cJSON *fs_move_file(const struct builtin_ctx *ctx, const cJSON *args)
{
    static const char *const allowed[] = {"source", "destination", NULL};
    const char *src, *dst;
    char *rsrc = NULL, *rdst = NULL;
    cJSON *r = builtin_args_check(args, allowed);
    if (r)
        return r;
    if (builtin_arg_string(args, "source", 1, &src, &r) < 0 ||
        builtin_arg_string(args, "destination", 1, &dst, &r) < 0)
        return r;
    if (fs_resolve(ctx, src, 1, &rsrc, &r) < 0 || fs_resolve(ctx, dst, 0, &rdst, &r) < 0)
        goto done;
    if (strcmp(rsrc, ctx->root) == 0) {
        r = builtin_result_text(1, "the workspace root itself cannot be moved");
        goto done;
    }
    struct stat st;
    if (lstat(rdst, &st) == 0) {
        r = builtin_result_text(1, "destination '%s' already exists; move_file does not "
                                "overwrite", dst);
        goto done;
    }
    if (renameat2(AT_FDCWD, rsrc, AT_FDCWD, rdst, RENAME_NOREPLACE) < 0) {
        char *e = errno_text(errno);
        r = builtin_result_text(1, "cannot move '%s' to '%s': %s", src, dst, e);
        free(e);
        goto done;
    }
    r = builtin_result_text(0, "Moved %s to %s", src, fs_rel_to_root(ctx->root, rdst));

done:
    free(rsrc);
    free(rdst);
    return r;
}

/* === create_directory === */

const char fs_mkdir_schema[] =
    "{\"type\":\"object\",\"properties\":{"
    "\"path\":{\"type\":\"string\",\"description\":"
    "\"Directory to create, with any missing parents, relative to the workspace root\"}},"
    "\"required\":[\"path\"],\"additionalProperties\":false}";

cJSON *fs_create_directory(const struct builtin_ctx *ctx, const cJSON *args)
{
    static const char *const allowed[] = {"path", NULL};
    const char *path;
    cJSON *r = builtin_args_check(args, allowed);
    if (r)
        return r;
    if (builtin_arg_string(args, "path", 1, &path, &r) < 0)
        return r;
    if (!path[0])
        return builtin_result_text(1, "path is empty; give a directory inside the workspace");
    /* one component at a time, each through the jail, so that no link
     * met on the way can lead the new directories outside */
    char *prefix = xstrdup(path);
    size_t n = strlen(prefix);
    int created = 0;
    for (size_t i = 1; i <= n; i++) {
        if (i < n && prefix[i] != '/')
            continue;
        if (i < n && prefix[i - 1] == '/')
            continue;
        char save = prefix[i];
        prefix[i] = '\0';
        char *real = NULL;
        if (fs_resolve(ctx, prefix, 0, &real, &r) < 0) {
            free(prefix);
            return r;
        }
        struct stat st;
        if (stat(real, &st) == 0) {
            if (!S_ISDIR(st.st_mode)) {
                r = builtin_result_text(1, "'%s' exists and is not a directory", prefix);
                free(real);
                free(prefix);
                return r;
            }
        } else if (mkdir(real, 0755) < 0 && errno != EEXIST) {
            char *e = errno_text(errno);
            r = builtin_result_text(1, "cannot create directory '%s': %s", prefix, e);
            free(e);
            free(real);
            free(prefix);
            return r;
        } else {
            created = 1;
        }
        free(real);
        prefix[i] = save;
    }
    r = builtin_result_text(0, created ? "Created directory %s" : "Directory %s already exists",
                            path);
    free(prefix);
    return r;
}
