/* builtin_fs_tree.c — the fs server's tools that look at the shape of the
 * tree: directory_tree, glob, get_file_info.
 *
 * The walks open every directory relative to its parent with O_NOFOLLOW
 * and never descend into symlinked directories (a link is listed as a
 * link), so they cannot leave the workspace root nor loop; .git is not
 * entered. Both walks stop at a cap on entries and say so. */
#include "builtin_fs_int.h"
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define TREE_DEPTH_DEFAULT 3
#define TREE_DEPTH_MAX     32
#define TREE_ENTRIES_MAX   5000
#define GLOB_DEFAULT       1000
#define GLOB_MAX           20000

/* === the walk === */

struct walk_ent {
    char *name;
    unsigned char type;       /* DT_DIR, DT_REG, DT_LNK, DT_UNKNOWN (other) */
};

static int ent_cmp(const void *a, const void *b)
{
    return strcmp(((const struct walk_ent *)a)->name, ((const struct walk_ent *)b)->name);
}

/* The entries of dfd (borrowed) sorted by name, without . and .. */
static struct walk_ent *read_dir(int dfd, size_t *n)
{
    struct walk_ent *v = NULL;
    size_t cap = 0;
    *n = 0;
    int fd = dup(dfd);
    DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
    if (!d) {
        if (fd >= 0)
            close(fd);
        return NULL;
    }
    struct dirent *de;
    while ((de = readdir(d))) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        unsigned char t = de->d_type;
        if (t == DT_UNKNOWN) {
            struct stat st;
            if (fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0)
                t = S_ISDIR(st.st_mode) ? DT_DIR : S_ISREG(st.st_mode) ? DT_REG
                  : S_ISLNK(st.st_mode) ? DT_LNK : DT_UNKNOWN;
        }
        if (t != DT_DIR && t != DT_REG && t != DT_LNK)
            t = DT_UNKNOWN;
        if (*n == cap) {
            cap = cap ? cap * 2 : 32;
            v = xrealloc(v, cap * sizeof *v);
        }
        v[(*n)++] = (struct walk_ent){xstrdup(de->d_name), t};
    }
    closedir(d);
    if (*n)
        qsort(v, *n, sizeof *v, ent_cmp);
    return v;
}

static void free_ents(struct walk_ent *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i].name);
    free(v);
}

static const char *type_name(unsigned char t)
{
    return t == DT_DIR ? "directory" : t == DT_REG ? "file" : t == DT_LNK ? "symlink" : "other";
}

/* Open the directory argument path: 0 and an O_DIRECTORY fd, or -1 with *err. */
static int open_dir_arg(const struct builtin_ctx *ctx, const char *path, char **real, int *fd,
                        cJSON **err)
{
    if (fs_resolve(ctx, path, 1, real, err) < 0)
        return -1;
    *fd = open(*real, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (*fd < 0) {
        char ebuf[128];
        *err = errno == ENOTDIR
            ? builtin_result_text(1, "path '%s' is not a directory", path)
            : builtin_result_text(1, "cannot open '%s': %s", path,
                                  strerror_r(errno, ebuf, sizeof ebuf));
        free(*real);
        *real = NULL;
        return -1;
    }
    return 0;
}

/* === directory_tree === */

const char fs_tree_schema[] =
    "{\"type\":\"object\",\"properties\":{"
    "\"path\":{\"type\":\"string\",\"default\":\".\",\"description\":"
    "\"Directory to start from, relative to the workspace root\"},"
    "\"max_depth\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":32,\"default\":3,"
    "\"description\":\"Levels of directories to descend\"}},"
    "\"additionalProperties\":false}";

struct tree_walk {
    struct buf text;
    size_t count;
    int truncated;
};

static cJSON *tree_dir(struct tree_walk *w, int dfd, int depth, int max_depth)
{
    size_t n;
    struct walk_ent *v = read_dir(dfd, &n);
    cJSON *arr = cJSON_CreateArray();
    for (size_t i = 0; i < n; i++) {
        if (w->count >= TREE_ENTRIES_MAX) {
            w->truncated = 1;
            break;
        }
        w->count++;
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "name", v[i].name);
        cJSON_AddStringToObject(o, "type", type_name(v[i].type));
        for (int k = 0; k < depth; k++)
            buf_puts(&w->text, "  ");
        buf_printf(&w->text, "%s%s%s\n", v[i].name, v[i].type == DT_DIR ? "/" : "",
                   v[i].type == DT_LNK ? " (symlink)" : "");
        if (v[i].type == DT_DIR && strcmp(v[i].name, ".git") != 0 && depth + 1 < max_depth) {
            int cfd = openat(dfd, v[i].name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (cfd >= 0) {
                cJSON_AddItemToObject(o, "children", tree_dir(w, cfd, depth + 1, max_depth));
                close(cfd);
            }
        }
        cJSON_AddItemToArray(arr, o);
    }
    free_ents(v, n);
    return arr;
}

cJSON *fs_directory_tree(const struct builtin_ctx *ctx, const cJSON *args)
{
    static const char *const allowed[] = {"path", "max_depth", NULL};
    const char *path;
    long depth = TREE_DEPTH_DEFAULT;
    char *real = NULL;
    int fd;
    cJSON *r = builtin_args_check(args, allowed);
    if (r)
        return r;
    if (builtin_arg_string(args, "path", 0, &path, &r) < 0 ||
        builtin_arg_int(args, "max_depth", 1, TREE_DEPTH_MAX, &depth, &r) < 0)
        return r;
    if (open_dir_arg(ctx, path ? path : ".", &real, &fd, &r) < 0)
        return r;
    struct tree_walk w = {.count = 0};
    buf_init(&w.text);
    buf_puts(&w.text, "");
    cJSON *tree = tree_dir(&w, fd, 0, (int)depth);
    close(fd);
    if (w.truncated)
        buf_printf(&w.text, "[tree truncated at %d entries; start deeper or lower max_depth]\n",
                   TREE_ENTRIES_MAX);
    r = builtin_result_take_text(0, buf_detach(&w.text));
    cJSON *sc = cJSON_AddObjectToObject(r, "structuredContent");
    cJSON_AddItemToObject(sc, "tree", tree);
    cJSON_AddBoolToObject(sc, "truncated", w.truncated);
    free(real);
    return r;
}

/* === glob === */

const char fs_glob_schema[] =
    "{\"type\":\"object\",\"properties\":{"
    "\"pattern\":{\"type\":\"string\",\"description\":"
    "\"Shell glob matched against paths relative to path: *.c matches file names at any "
    "depth, src/*.h paths, **/ any directories\"},"
    "\"path\":{\"type\":\"string\",\"default\":\".\",\"description\":"
    "\"Directory to search below, relative to the workspace root\"},"
    "\"max_results\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":20000,\"default\":1000,"
    "\"description\":\"Stop after this many paths\"}},"
    "\"required\":[\"pattern\"],\"additionalProperties\":false}";

struct glob_walk {
    const char *pattern;
    int has_slash;
    long max, count;
    int truncated;
    struct buf out;
};

static int glob_match(const struct glob_walk *g, const char *rel, const char *name)
{
    if (!g->has_slash)
        return fnmatch(g->pattern, name, 0) == 0;
    if (fnmatch(g->pattern, rel, FNM_PATHNAME) == 0)
        return 1;
    /* "**" spans directories: let "*" cross slashes, and "**\/x" match "x" */
    if (strstr(g->pattern, "**")) {
        if (fnmatch(g->pattern, rel, 0) == 0)
            return 1;
        if (strncmp(g->pattern, "**/", 3) == 0 && fnmatch(g->pattern + 3, rel, 0) == 0)
            return 1;
    }
    return 0;
}

static void glob_dir(struct glob_walk *g, int dfd, const char *rel, int depth)
{
    size_t n;
    struct walk_ent *v = read_dir(dfd, &n);
    for (size_t i = 0; i < n && !g->truncated; i++) {
        char *crel = rel[0] ? xasprintf("%s/%s", rel, v[i].name) : xstrdup(v[i].name);
        if (glob_match(g, crel, v[i].name)) {
            if (g->count == g->max) {
                g->truncated = 1;
                free(crel);
                break;
            }
            buf_printf(&g->out, "%s%s\n", crel, v[i].type == DT_DIR ? "/" : "");
            g->count++;
        }
        if (v[i].type == DT_DIR && strcmp(v[i].name, ".git") != 0 && depth < 128) {
            int cfd = openat(dfd, v[i].name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (cfd >= 0) {
                glob_dir(g, cfd, crel, depth + 1);
                close(cfd);
            }
        }
        free(crel);
    }
    free_ents(v, n);
}

cJSON *fs_glob(const struct builtin_ctx *ctx, const cJSON *args)
{
    static const char *const allowed[] = {"pattern", "path", "max_results", NULL};
    const char *pattern, *path;
    long max = GLOB_DEFAULT;
    char *real = NULL;
    int fd;
    cJSON *r = builtin_args_check(args, allowed);
    if (r)
        return r;
    if (builtin_arg_string(args, "pattern", 1, &pattern, &r) < 0 ||
        builtin_arg_string(args, "path", 0, &path, &r) < 0 ||
        builtin_arg_int(args, "max_results", 1, GLOB_MAX, &max, &r) < 0)
        return r;
    if (open_dir_arg(ctx, path ? path : ".", &real, &fd, &r) < 0)
        return r;
    struct glob_walk g = {pattern, strchr(pattern, '/') != NULL, max, 0, 0, {0}};
    buf_init(&g.out);
    buf_puts(&g.out, "");
    glob_dir(&g, fd, "", 0);
    close(fd);
    if (g.count == 0)
        buf_printf(&g.out, "No paths match '%s' under '%s'\n", pattern, path ? path : ".");
    if (g.truncated)
        buf_printf(&g.out, "[output truncated at %ld paths; narrow the pattern or raise "
                   "max_results]\n", g.max);
    r = builtin_result_take_text(0, buf_detach(&g.out));
    free(real);
    return r;
}

/* === get_file_info === */

const char fs_info_schema[] =
    "{\"type\":\"object\",\"properties\":{"
    "\"path\":{\"type\":\"string\",\"description\":"
    "\"File or directory, relative to the workspace root\"}},"
    "\"required\":[\"path\"],\"additionalProperties\":false}";

static void iso_time(const struct timespec *ts, char out[32])
{
    struct tm tm;
    gmtime_r(&ts->tv_sec, &tm);
    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

cJSON *fs_get_file_info(const struct builtin_ctx *ctx, const cJSON *args)
{
    static const char *const allowed[] = {"path", NULL};
    const char *path;
    char *real = NULL;
    cJSON *r = builtin_args_check(args, allowed);
    if (r)
        return r;
    if (builtin_arg_string(args, "path", 1, &path, &r) < 0 ||
        fs_resolve(ctx, path, 1, &real, &r) < 0)
        return r;
    struct stat st, lst;
    if (stat(real, &st) < 0) {
        char ebuf[128];
        r = builtin_result_text(1, "cannot stat '%s': %s", path,
                                strerror_r(errno, ebuf, sizeof ebuf));
        free(real);
        return r;
    }
    /* the path as given may be a link (inside the root) to real */
    char *given = path[0] == '/' ? xstrdup(path) : xasprintf("%s/%s", ctx->root, path);
    int is_link = lstat(given, &lst) == 0 && S_ISLNK(lst.st_mode);
    free(given);
    const char *type = S_ISREG(st.st_mode) ? "file" : S_ISDIR(st.st_mode) ? "directory"
                                                                           : "other";
    char mtime[32], ctime_s[32], atime[32];
    iso_time(&st.st_mtim, mtime);
    iso_time(&st.st_ctim, ctime_s);
    iso_time(&st.st_atim, atime);
    char mode[8];
    snprintf(mode, sizeof mode, "%04o", (unsigned)(st.st_mode & 07777));
    const char *rel = fs_rel_to_root(ctx->root, real);
    cJSON *sc = cJSON_CreateObject();
    cJSON_AddStringToObject(sc, "path", rel[0] ? rel : ".");
    cJSON_AddStringToObject(sc, "type", type);
    cJSON_AddNumberToObject(sc, "size", (double)st.st_size);
    cJSON_AddStringToObject(sc, "mode", mode);
    cJSON_AddStringToObject(sc, "modified", mtime);
    cJSON_AddStringToObject(sc, "changed", ctime_s);
    cJSON_AddStringToObject(sc, "accessed", atime);
    cJSON_AddBoolToObject(sc, "symlink", is_link);
    cJSON_AddBoolToObject(sc, "readable", access(real, R_OK) == 0);
    cJSON_AddBoolToObject(sc, "writable", access(real, W_OK) == 0);
    r = builtin_result_text(0, "path: %s\ntype: %s\nsize: %lld\nmode: %s\nmodified: %s\n"
                            "changed: %s\naccessed: %s\nsymlink: %s\n", rel[0] ? rel : ".",
                            type, (long long)st.st_size, mode, mtime, ctime_s, atime,
                            is_link ? "yes" : "no");
    cJSON_AddItemToObject(r, "structuredContent", sc);
    free(real);
    return r;
}
