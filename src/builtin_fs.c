/* builtin_fs.c — the built-in "fs" MCP server: read, list and search files
 * inside the workspace root.
 *
 * Every path argument goes through pathjail_resolve() against ctx->root,
 * so a tool can never read outside the workspace. The tree walk of
 * `search` opens each directory and file relative to its parent's
 * descriptor with O_NOFOLLOW, never descends into symlinked directories,
 * and sends every symlinked file through the jail before opening it.
 * Tools run on worker threads: no static mutable state, one regex and one
 * set of descriptors per call. */
#include "builtin_fs_int.h"
#include "pathjail.h"
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <limits.h>
#include <math.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define FS_BINARY_PROBE    8192                 /* bytes checked for NUL */
#define FS_SEARCH_DEFAULT  200
#define FS_SEARCH_MAX      10000
#define FS_SEARCH_LINE_MAX 500                  /* bytes of a matching line shown */
#define FS_SEARCH_DEPTH    128                  /* directory levels walked */

/* === Arguments === */

int fs_resolve(const struct builtin_ctx *ctx, const char *path, int must_exist, char **out,
               cJSON **err)
{
    char *msg = NULL;
    if (pathjail_resolve(ctx->root, path, must_exist, out, &msg) < 0) {
        *err = builtin_result_take_text(1, msg);
        return -1;
    }
    return 0;
}

static int arg_path(const struct builtin_ctx *ctx, const char *path, char **out, cJSON **err)
{
    return fs_resolve(ctx, path, 1, out, err);
}

static const char *err_str(int e, char *buf, size_t n)
{
    return strerror_r(e, buf, n);
}

/* 1 when the first FS_BINARY_PROBE bytes of fd hold a NUL byte. */
static int fd_looks_binary(int fd)
{
    char probe[FS_BINARY_PROBE];
    ssize_t n = pread(fd, probe, sizeof probe, 0);
    return n > 0 && memchr(probe, '\0', (size_t)n) != NULL;
}

/* === read_text_file === */

static const char read_schema[] =
    "{\"type\":\"object\",\"properties\":{"
    "\"path\":{\"type\":\"string\",\"description\":"
    "\"File to read, relative to the workspace root or absolute inside it\"},"
    "\"head\":{\"type\":\"integer\",\"minimum\":1,"
    "\"description\":\"Return only the first N lines\"},"
    "\"tail\":{\"type\":\"integer\",\"minimum\":1,"
    "\"description\":\"Return only the last N lines\"},"
    "\"start_line\":{\"type\":\"integer\",\"minimum\":1,"
    "\"description\":\"First line to return (1-based)\"},"
    "\"end_line\":{\"type\":\"integer\",\"minimum\":1,"
    "\"description\":\"Last line to return (1-based, inclusive)\"}},"
    "\"required\":[\"path\"],\"additionalProperties\":false}";

/* Read all of fd (a regular file of at most FS_READ_CAP bytes) as text. */
static cJSON *read_whole(int fd, const char *path, off_t size)
{
    struct buf b;
    buf_init(&b);
    buf_reserve(&b, (size_t)size);
    char chunk[65536];
    for (;;) {
        ssize_t n = read(fd, chunk, sizeof chunk);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            char ebuf[128];
            cJSON *r = builtin_result_text(1, "cannot read '%s': %s", path,
                                           err_str(errno, ebuf, sizeof ebuf));
            buf_fini(&b);
            return r;
        }
        if (n == 0)
            break;
        buf_append(&b, chunk, (size_t)n);
        if (b.len > FS_READ_CAP) {
            buf_fini(&b);
            return builtin_result_text(1, "file '%s' grew past the %u-byte (4 MiB) cap while "
                                       "being read; read part of it with head, tail or "
                                       "start_line/end_line", path, FS_READ_CAP);
        }
    }
    char *nul = b.len ? memchr(b.data, '\0', b.len) : NULL;
    if (nul) {
        long off = (long)(nul - b.data);
        buf_fini(&b);
        return builtin_result_text(1, "file '%s' looks binary (NUL byte at offset %ld); "
                                   "read_text_file only returns text", path, off);
    }
    if (!b.data)
        buf_puts(&b, "");
    return builtin_result_take_text(0, buf_detach(&b));
}

/* Lines first..last (1-based, inclusive; last 0 = to the end) of f. */
static cJSON *read_lines(FILE *f, const char *path, long first, long last)
{
    struct buf b;
    buf_init(&b);
    buf_puts(&b, "");
    char *line = NULL;
    size_t cap = 0;
    long no = 0;
    ssize_t n;
    while ((n = getline(&line, &cap, f)) >= 0) {
        no++;
        if (no < first)
            continue;
        if (last && no > last)
            break;
        buf_append(&b, line, (size_t)n);
        if (b.len > FS_READ_CAP) {
            free(line);
            buf_fini(&b);
            return builtin_result_text(1, "the selected lines of '%s' are more than %u bytes "
                                       "(4 MiB); select fewer lines", path, FS_READ_CAP);
        }
    }
    int rerr = ferror(f) ? errno : 0;
    free(line);
    if (rerr) {
        char ebuf[128];
        buf_fini(&b);
        return builtin_result_text(1, "cannot read '%s': %s", path,
                                   err_str(rerr, ebuf, sizeof ebuf));
    }
    if (first > 1 && no < first) {
        buf_fini(&b);
        return builtin_result_text(1, "start_line %ld is past the end of '%s' (%ld lines)",
                                   first, path, no);
    }
    return builtin_result_take_text(0, buf_detach(&b));
}

/* Number of lines in f (a last line without newline counts); rewinds f. */
static long count_lines(FILE *f)
{
    char chunk[65536];
    long lines = 0;
    size_t n;
    char lastc = '\n';
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        for (const char *p = chunk; (p = memchr(p, '\n', n - (size_t)(p - chunk))); p++)
            lines++;
        lastc = chunk[n - 1];
    }
    if (lastc != '\n')
        lines++;
    rewind(f);
    return lines;
}

static cJSON *fs_read_text_file(const struct builtin_ctx *ctx, const cJSON *args)
{
    static const char *const allowed[] = {"path", "head", "tail", "start_line", "end_line",
                                          NULL};
    const char *path;
    long head = 0, tail = 0, start = 0, end = 0;
    char *real = NULL;
    cJSON *r = builtin_args_check(args, allowed);
    int fd = -1;
    if (r)
        return r;
    if (builtin_arg_string(args, "path", 1, &path, &r) < 0 ||
        builtin_arg_int(args, "head", 1, INT_MAX, &head, &r) < 0 ||
        builtin_arg_int(args, "tail", 1, INT_MAX, &tail, &r) < 0 ||
        builtin_arg_int(args, "start_line", 1, INT_MAX, &start, &r) < 0 ||
        builtin_arg_int(args, "end_line", 1, INT_MAX, &end, &r) < 0)
        return r;
    int ranged = start || end;
    if ((head && tail) || ((head || tail) && ranged))
        return builtin_result_text(1, "give at most one of head, tail or "
                                   "start_line/end_line");
    if (start && end && end < start)
        return builtin_result_text(1, "end_line %ld is before start_line %ld", end, start);
    if (arg_path(ctx, path, &real, &r) < 0)
        return r;

    fd = open(real, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0) {
        char ebuf[128];
        r = builtin_result_text(1, "cannot open '%s': %s", path,
                                err_str(errno, ebuf, sizeof ebuf));
        goto done;
    }
    if (S_ISDIR(st.st_mode)) {
        r = builtin_result_text(1, "path '%s' is a directory; use list_directory", path);
        goto done;
    }
    if (!S_ISREG(st.st_mode)) {
        r = builtin_result_text(1, "path '%s' is not a regular file", path);
        goto done;
    }
    if (fd_looks_binary(fd)) {
        r = builtin_result_text(1, "file '%s' looks binary (NUL byte in the first 8 KiB); "
                                "read_text_file only returns text", path);
        goto done;
    }
    if (!head && !tail && !ranged) {
        if (st.st_size > (off_t)FS_READ_CAP) {
            r = builtin_result_text(1, "file '%s' is %lld bytes, over the %u-byte (4 MiB) "
                                    "cap; read part of it with head, tail or "
                                    "start_line/end_line", path, (long long)st.st_size,
                                    FS_READ_CAP);
            goto done;
        }
        r = read_whole(fd, path, st.st_size);
        goto done;
    }
    FILE *f = fdopen(fd, "r");
    if (!f) {
        r = builtin_result_text(1, "cannot read '%s'", path);
        goto done;
    }
    fd = -1;
    if (head) {
        r = read_lines(f, path, 1, head);
    } else if (tail) {
        long total = count_lines(f);
        r = read_lines(f, path, total > tail ? total - tail + 1 : 1, 0);
    } else {
        r = read_lines(f, path, start ? start : 1, end);
    }
    fclose(f);

done:
    if (fd >= 0)
        close(fd);
    free(real);
    return r;
}

/* === list_directory === */

static const char list_schema[] =
    "{\"type\":\"object\",\"properties\":{"
    "\"path\":{\"type\":\"string\",\"description\":"
    "\"Directory to list, relative to the workspace root or absolute inside it\"}},"
    "\"required\":[\"path\"],\"additionalProperties\":false}";

struct fs_entry {
    char *name;
    const char *type;
    long long size;
};

static int entry_cmp(const void *a, const void *b)
{
    return strcmp(((const struct fs_entry *)a)->name, ((const struct fs_entry *)b)->name);
}

static cJSON *fs_list_directory(const struct builtin_ctx *ctx, const cJSON *args)
{
    static const char *const allowed[] = {"path", NULL};
    const char *path;
    char *real = NULL;
    struct fs_entry *ents = NULL;
    size_t n = 0, cap = 0;
    cJSON *r = builtin_args_check(args, allowed);
    if (r)
        return r;
    if (builtin_arg_string(args, "path", 1, &path, &r) < 0 || arg_path(ctx, path, &real, &r) < 0)
        return r;

    int dfd = open(real, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
    if (!d) {
        int e = errno;
        char ebuf[128];
        if (dfd >= 0)
            close(dfd);
        if (e == ENOTDIR)
            r = builtin_result_text(1, "path '%s' is not a directory; use read_text_file",
                                    path);
        else
            r = builtin_result_text(1, "cannot list '%s': %s", path,
                                    err_str(e, ebuf, sizeof ebuf));
        goto done;
    }
    struct dirent *de;
    while ((de = readdir(d))) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        struct stat st;
        const char *type = "other";
        long long size = 0;
        if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
            if (S_ISREG(st.st_mode)) {
                type = "file";
                size = (long long)st.st_size;
            } else if (S_ISDIR(st.st_mode)) {
                type = "directory";
            } else if (S_ISLNK(st.st_mode)) {
                type = "symlink";
            }
        }
        if (n == cap) {
            cap = cap ? cap * 2 : 32;
            ents = xrealloc(ents, cap * sizeof *ents);
        }
        ents[n++] = (struct fs_entry){xstrdup(de->d_name), type, size};
    }
    closedir(d);
    if (n)
        qsort(ents, n, sizeof *ents, entry_cmp);

    struct buf text;
    buf_init(&text);
    cJSON *sc = cJSON_CreateObject();
    cJSON *arr = cJSON_AddArrayToObject(sc, "entries");
    for (size_t i = 0; i < n; i++) {
        int isdir = strcmp(ents[i].type, "directory") == 0;
        buf_printf(&text, "%s%s\n", isdir ? "[DIR] " : "[FILE] ", ents[i].name);
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "name", ents[i].name);
        cJSON_AddStringToObject(o, "type", ents[i].type);
        cJSON_AddNumberToObject(o, "size", (double)ents[i].size);
        cJSON_AddItemToArray(arr, o);
    }
    if (n == 0)
        buf_puts(&text, "(empty directory)\n");
    r = builtin_result_take_text(0, buf_detach(&text));
    cJSON_AddItemToObject(r, "structuredContent", sc);

done:
    for (size_t i = 0; i < n; i++)
        free(ents[i].name);
    free(ents);
    free(real);
    return r;
}

/* === search === */

static const char search_schema[] =
    "{\"type\":\"object\",\"properties\":{"
    "\"pattern\":{\"type\":\"string\",\"description\":"
    "\"POSIX extended regular expression matched against each line\"},"
    "\"path\":{\"type\":\"string\",\"default\":\".\",\"description\":"
    "\"Directory (or file) to search, relative to the workspace root\"},"
    "\"glob\":{\"type\":\"string\",\"description\":"
    "\"Only search files whose name matches this shell glob, e.g. *.c\"},"
    "\"ignore_case\":{\"type\":\"boolean\",\"default\":false,"
    "\"description\":\"Match without regard to case\"},"
    "\"max_results\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":10000,"
    "\"default\":200,\"description\":\"Stop after this many matching lines\"}},"
    "\"required\":[\"pattern\"],\"additionalProperties\":false}";

struct fs_search {
    const struct builtin_ctx *ctx;
    regex_t re;
    const char *glob;
    const char *exclude;        /* file names to skip, or NULL */
    long context;               /* lines shown around each match */
    long max;
    long count;
    int truncated;
    int unreadable;
    struct buf out;
};

struct fs_dirent {
    char *name;
    unsigned char type;       /* DT_* */
};

static int dirent_cmp(const void *a, const void *b)
{
    return strcmp(((const struct fs_dirent *)a)->name, ((const struct fs_dirent *)b)->name);
}

static int search_skip_dir(const char *name)
{
    return strcmp(name, ".git") == 0 || strcmp(name, "node_modules") == 0 ||
           strcmp(name, "build") == 0;
}

/* Append "rel<sep>no<sep>line" (sep ':' for a match, '-' for context)
 * with the line cut to FS_SEARCH_LINE_MAX bytes on a UTF-8 boundary. */
static void search_emit(struct fs_search *s, const char *rel, long no, char sep,
                        const char *line, size_t len)
{
    while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
        len--;
    buf_printf(&s->out, "%s%c%ld%c", rel, sep, no, sep);
    if (len <= FS_SEARCH_LINE_MAX) {
        buf_append(&s->out, line, len);
    } else {
        size_t cut = FS_SEARCH_LINE_MAX;
        while (cut > 0 && ((unsigned char)line[cut] & 0xC0) == 0x80)
            cut--;
        buf_append(&s->out, line, cut);
        buf_puts(&s->out, "\xE2\x80\xA6");
    }
    buf_putc(&s->out, '\n');
}

/* Where the file's text is, and which line has been printed last. */
struct search_text {
    const char *data;
    size_t len;
    size_t at;                  /* start of line no */
    long no;
    long printed;               /* last line printed; 0 = none */
};

/* Advance t to the start of line no (>= t->no). */
static void text_seek(struct search_text *t, long no)
{
    while (t->no < no && t->at < t->len) {
        const char *nl = memchr(t->data + t->at, '\n', t->len - t->at);
        t->at = nl ? (size_t)(nl - t->data) + 1 : t->len;
        t->no++;
    }
}

static size_t line_len(const struct search_text *t, size_t at)
{
    const char *nl = memchr(t->data + at, '\n', t->len - at);
    return nl ? (size_t)(nl - (t->data + at)) : t->len - at;
}

/* Print context lines from..to (clipped to what exists and was not printed). */
static void emit_context(struct fs_search *s, struct search_text *t, const char *rel,
                         long from, long to)
{
    if (from <= t->printed)
        from = t->printed + 1;
    if (from > to)
        return;
    struct search_text c = *t;
    if (from < c.no) {          /* before the cursor: walk back from it */
        c.at = 0;
        c.no = 1;
    }
    text_seek(&c, from);
    for (long no = from; no <= to && c.at < c.len; no++) {
        search_emit(s, rel, no, '-', c.data + c.at, line_len(&c, c.at));
        t->printed = no;
        text_seek(&c, no + 1);
    }
}

/* Search data (len bytes) shown as rel. Returns 1 when max_results was
 * passed and the walk must stop. The regex runs over the whole text
 * (REG_NEWLINE keeps matches within lines), not line by line. */
static int search_text(struct fs_search *s, const char *data, size_t len, const char *rel)
{
    struct search_text t = {data, len, 0, 1, 0};
    long after_until = 0;
    size_t pos = 0;
    while (pos < len) {
        regmatch_t m[1];
        m[0].rm_so = 0;
        m[0].rm_eo = (regoff_t)(len - pos);
        if (regexec(&s->re, data + pos, 1, m, REG_STARTEND) != 0)
            break;
        size_t hit = pos + (size_t)m[0].rm_so;
        /* the line holding the match */
        long no = t.no;
        size_t at = t.at;
        for (const char *p = data + at; (p = memchr(p, '\n', (size_t)(data + hit - p)));) {
            p++;
            at = (size_t)(p - data);
            no++;
        }
        if (hit == len && at == len && len && data[len - 1] == '\n')
            break;              /* an empty match after the last newline is no line */
        if (s->count == s->max) {
            s->truncated = 1;
            break;
        }
        if (s->context) {
            emit_context(s, &t, rel, t.printed + 1, after_until < no - 1 ? after_until : no - 1);
            long from = no - s->context > 1 ? no - s->context : 1;
            if (t.printed && from > t.printed + 1)
                buf_puts(&s->out, "--\n");
            emit_context(s, &t, rel, from, no - 1);
        }
        t.at = at;
        t.no = no;
        size_t ll = line_len(&t, at);
        search_emit(s, rel, no, ':', data + at, ll);
        t.printed = no;
        s->count++;
        after_until = no + s->context;
        pos = at + ll + 1;
        t.at = pos < len ? pos : len;
        t.no = no + 1;
    }
    if (s->context && after_until > t.printed)
        emit_context(s, &t, rel, t.printed + 1, after_until);
    return s->truncated;
}

/* Search the open regular file fd (taken) shown as rel. Returns 1 when
 * max_results was passed and the walk must stop. */
static int search_file(struct fs_search *s, int fd, const char *rel)
{
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || fd_looks_binary(fd)) {
        close(fd);
        return 0;
    }
    if (st.st_size == 0) {
        close(fd);
        return 0;
    }
    size_t len = (size_t)st.st_size;
    void *map = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (map == MAP_FAILED) {
        s->unreadable++;
        return 0;
    }
    madvise(map, len, MADV_SEQUENTIAL);
    size_t before = s->out.len;
    if (s->context && s->out.len)
        buf_puts(&s->out, "--\n");
    size_t mark = s->out.len;
    int stop = search_text(s, map, len, rel);
    if (s->out.len == mark) {
        s->out.len = before;    /* no match here: no separator either */
        if (s->out.data)
            s->out.data[before] = '\0';
    }
    munmap(map, len);
    return stop;
}

static char *rel_child(const char *rel, const char *name)
{
    return rel[0] ? xasprintf("%s/%s", rel, name) : xstrdup(name);
}

/* A symlink met in the walk: search its target when it is a regular file
 * that passes the jail; symlinked directories are not followed. */
static int search_symlink(struct fs_search *s, const char *rel)
{
    char *real = NULL, *msg = NULL;
    if (pathjail_resolve(s->ctx->root, rel, 1, &real, &msg) < 0) {
        free(msg);
        return 0;
    }
    int stop = 0;
    int fd = open(real, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd >= 0)
        stop = search_file(s, fd, rel);
    free(real);
    return stop;
}

/* Walk the directory dfd (taken), shown as rel ("" for the root). Returns
 * 1 when the walk must stop. */
static int search_dir(struct fs_search *s, int dfd, const char *rel, int depth)
{
    DIR *d = fdopendir(dfd);
    if (!d) {
        close(dfd);
        s->unreadable++;
        return 0;
    }
    struct fs_dirent *ents = NULL;
    size_t n = 0, cap = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        unsigned char type = de->d_type;
        if (type == DT_UNKNOWN) {
            struct stat st;
            if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                continue;
            type = S_ISDIR(st.st_mode) ? DT_DIR : S_ISREG(st.st_mode) ? DT_REG
                 : S_ISLNK(st.st_mode) ? DT_LNK : DT_UNKNOWN;
        }
        if (type != DT_DIR && type != DT_REG && type != DT_LNK)
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 32;
            ents = xrealloc(ents, cap * sizeof *ents);
        }
        ents[n++] = (struct fs_dirent){xstrdup(de->d_name), type};
    }
    if (n)
        qsort(ents, n, sizeof *ents, dirent_cmp);

    int stop = 0;
    for (size_t i = 0; i < n && !stop; i++) {
        const char *name = ents[i].name;
        if (ents[i].type == DT_DIR) {
            if (search_skip_dir(name) || depth >= FS_SEARCH_DEPTH)
                continue;
            int cfd = openat(dirfd(d), name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (cfd < 0) {
                s->unreadable++;
                continue;
            }
            char *crel = rel_child(rel, name);
            stop = search_dir(s, cfd, crel, depth + 1);
            free(crel);
            continue;
        }
        if ((s->glob && fnmatch(s->glob, name, 0) != 0) ||
            (s->exclude && fnmatch(s->exclude, name, 0) == 0))
            continue;
        char *crel = rel_child(rel, name);
        if (ents[i].type == DT_LNK) {
            stop = search_symlink(s, crel);
        } else {
            int fd = openat(dirfd(d), name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
            if (fd >= 0)
                stop = search_file(s, fd, crel);
            else
                s->unreadable++;
        }
        free(crel);
    }
    for (size_t i = 0; i < n; i++)
        free(ents[i].name);
    free(ents);
    closedir(d);
    return stop;
}

const char *fs_rel_to_root(const char *root, const char *real)
{
    if (strcmp(root, "/") == 0)
        return real + 1;
    size_t n = strlen(root);
    while (n > 1 && root[n - 1] == '/')
        n--;
    return real[n] == '/' ? real + n + 1 : real + n;
}

/* The search both tools run: matches of pattern below path, in files
 * named like include and not like exclude, with context lines around. */
static cJSON *search_run(const struct builtin_ctx *ctx, const char *pattern, const char *path,
                         const char *glob, const char *exclude, int icase, long context,
                         long max)
{
    char *real = NULL;
    cJSON *r = NULL;
    if (!path)
        path = ".";

    struct fs_search s = {.ctx = ctx, .glob = glob, .exclude = exclude, .context = context,
                          .max = max};
    buf_init(&s.out);
    int rc = regcomp(&s.re, pattern, REG_EXTENDED | REG_NEWLINE | (icase ? REG_ICASE : 0));
    if (rc != 0) {
        char ebuf[256];
        regerror(rc, &s.re, ebuf, sizeof ebuf);
        return builtin_result_text(1, "invalid regular expression '%s': %s", pattern, ebuf);
    }
    if (arg_path(ctx, path, &real, &r) < 0)
        goto done;

    int fd = open(real, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0) {
        char ebuf[128];
        r = builtin_result_text(1, "cannot open '%s': %s", path,
                                err_str(errno, ebuf, sizeof ebuf));
        if (fd >= 0)
            close(fd);
        goto done;
    }
    const char *rel = fs_rel_to_root(ctx->root, real);
    if (S_ISDIR(st.st_mode)) {
        search_dir(&s, fd, rel, 0);
    } else if (S_ISREG(st.st_mode)) {
        if (fd_looks_binary(fd)) {
            close(fd);
            r = builtin_result_text(1, "file '%s' looks binary (NUL byte in the first 8 KiB)",
                                    path);
            goto done;
        }
        search_file(&s, fd, rel);
    } else {
        close(fd);
        r = builtin_result_text(1, "path '%s' is neither a file nor a directory", path);
        goto done;
    }

    if (s.count == 0)
        buf_printf(&s.out, "No matches for /%s/ in '%s'%s%s\n", pattern, path,
                   glob ? " among files named " : "", glob ? glob : "");
    if (s.truncated)
        buf_printf(&s.out, "[output truncated at %ld matches; narrow the pattern, path or "
                   "glob%s]\n", s.max, s.max < FS_SEARCH_MAX ? ", or raise max_results" : "");
    if (s.unreadable)
        buf_printf(&s.out, "[%d files or directories could not be read]\n", s.unreadable);
    r = builtin_result_take_text(0, buf_detach(&s.out));

done:
    regfree(&s.re);
    buf_fini(&s.out);
    free(real);
    return r;
}

static cJSON *fs_search(const struct builtin_ctx *ctx, const cJSON *args)
{
    static const char *const allowed[] = {"pattern", "path", "glob", "ignore_case",
                                          "max_results", NULL};
    const char *pattern, *path, *glob;
    int icase = 0;
    long max = FS_SEARCH_DEFAULT;
    cJSON *r = builtin_args_check(args, allowed);
    if (r)
        return r;
    if (builtin_arg_string(args, "pattern", 1, &pattern, &r) < 0 ||
        builtin_arg_string(args, "path", 0, &path, &r) < 0 ||
        builtin_arg_string(args, "glob", 0, &glob, &r) < 0 ||
        builtin_arg_bool(args, "ignore_case", &icase, &r) < 0 ||
        builtin_arg_int(args, "max_results", 1, FS_SEARCH_MAX, &max, &r) < 0)
        return r;
    return search_run(ctx, pattern, path, glob, NULL, icase, 0, max);
}

static const char grep_schema[] =
    "{\"type\":\"object\",\"properties\":{"
    "\"pattern\":{\"type\":\"string\",\"description\":"
    "\"POSIX extended regular expression matched against each line\"},"
    "\"path\":{\"type\":\"string\",\"default\":\".\",\"description\":"
    "\"Directory (or file) to search, relative to the workspace root\"},"
    "\"include\":{\"type\":\"string\",\"description\":"
    "\"Only files whose name matches this shell glob, e.g. *.c\"},"
    "\"exclude\":{\"type\":\"string\",\"description\":"
    "\"Skip files whose name matches this shell glob, e.g. *.min.js\"},"
    "\"ignore_case\":{\"type\":\"boolean\",\"default\":false,"
    "\"description\":\"Match without regard to case\"},"
    "\"context\":{\"type\":\"integer\",\"minimum\":0,\"maximum\":20,\"default\":0,"
    "\"description\":\"Lines shown before and after each match\"},"
    "\"max_results\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":10000,"
    "\"default\":200,\"description\":\"Stop after this many matching lines\"}},"
    "\"required\":[\"pattern\"],\"additionalProperties\":false}";

static cJSON *fs_grep(const struct builtin_ctx *ctx, const cJSON *args)
{
    static const char *const allowed[] = {"pattern", "path", "include", "exclude",
                                          "ignore_case", "context", "max_results", NULL};
    const char *pattern, *path, *include, *exclude;
    int icase = 0;
    long max = FS_SEARCH_DEFAULT, context = 0;
    cJSON *r = builtin_args_check(args, allowed);
    if (r)
        return r;
    if (builtin_arg_string(args, "pattern", 1, &pattern, &r) < 0 ||
        builtin_arg_string(args, "path", 0, &path, &r) < 0 ||
        builtin_arg_string(args, "include", 0, &include, &r) < 0 ||
        builtin_arg_string(args, "exclude", 0, &exclude, &r) < 0 ||
        builtin_arg_bool(args, "ignore_case", &icase, &r) < 0 ||
        builtin_arg_int(args, "context", 0, 20, &context, &r) < 0 ||
        builtin_arg_int(args, "max_results", 1, FS_SEARCH_MAX, &max, &r) < 0)
        return r;
    return search_run(ctx, pattern, path, include, exclude, icase, context, max);
}

/* === Server table === */

static const struct builtin_tool fs_tools[] = {
    {"read_text_file",
     "Read a text file inside the workspace root. Returns the whole file (up to 4 MiB), "
     "or only the lines selected by head, tail or start_line/end_line (1-based, "
     "inclusive). Binary files are refused.",
     read_schema, fs_read_text_file, BUILTIN_READ_ONLY | BUILTIN_IDEMPOTENT, NULL},
    {"list_directory",
     "List a directory inside the workspace root: one entry per line, sorted by name, "
     "prefixed [DIR] or [FILE]. structuredContent.entries gives each entry's name, type "
     "(file, directory, symlink, other) and size in bytes.",
     list_schema, fs_list_directory, BUILTIN_READ_ONLY | BUILTIN_IDEMPOTENT, NULL},
    {"search",
     "Search file contents below a directory of the workspace root with a POSIX extended "
     "regular expression. Prints one 'path:line:text' per matching line (paths relative "
     "to the workspace root). Skips .git, node_modules and build directories and binary "
     "files; symlinked directories are not followed.",
     search_schema, fs_search, BUILTIN_READ_ONLY | BUILTIN_IDEMPOTENT, NULL},
    {"grep",
     "Search file contents like grep -rn: a POSIX extended regular expression; files "
     "filtered by name (include, exclude globs); 'path:line:text' per match and, with "
     "context, 'path-line-text' around it and '--' between groups. Skips .git, "
     "node_modules, build and binary files; stops at max_results.",
     grep_schema, fs_grep, BUILTIN_READ_ONLY | BUILTIN_IDEMPOTENT, NULL},
    {"directory_tree",
     "The tree below a directory, one entry a line indented by depth (directories end in "
     "'/'); structuredContent.tree nests children. Symlinks are listed, not followed.",
     fs_tree_schema, fs_directory_tree, BUILTIN_READ_ONLY | BUILTIN_IDEMPOTENT, NULL},
    {"glob",
     "Paths below a directory matching a shell glob (*.c by name at any depth, src/*.h "
     "by path, **/ for any directories), one a line, sorted.",
     fs_glob_schema, fs_glob, BUILTIN_READ_ONLY | BUILTIN_IDEMPOTENT, NULL},
    {"get_file_info",
     "Type, size, permissions and times of a file or directory.",
     fs_info_schema, fs_get_file_info, BUILTIN_READ_ONLY | BUILTIN_IDEMPOTENT, NULL},
    {"write_file",
     "Create or replace a text file inside the workspace (atomically; at most 4 MiB). "
     "Destructive: needs approval.",
     fs_write_schema, fs_write_file, BUILTIN_DESTRUCTIVE | BUILTIN_IDEMPOTENT, NULL},
    {"edit_file",
     "Replace old_text with new_text in a file; old_text must match exactly once, else "
     "nothing changes and the number of matches is said. Returns the unified diff. "
     "Destructive: needs approval.",
     fs_edit_schema, fs_edit_file, BUILTIN_DESTRUCTIVE, NULL},
    {"move_file",
     "Move or rename a file or directory inside the workspace; the destination must not "
     "exist. Destructive: needs approval.",
     fs_move_schema, fs_move_file, BUILTIN_DESTRUCTIVE, NULL},
    {"create_directory",
     "Create a directory and any missing parents inside the workspace.",
     fs_mkdir_schema, fs_create_directory, BUILTIN_IDEMPOTENT, NULL},
};

const struct builtin_server builtin_fs = {
    "fs",
    "1.0.0",
    "The files of the workspace: read, list, search; write, edit and move with "
    "approval. Paths are relative to the workspace root; paths outside it are refused.",
    fs_tools,
    ARRAY_LEN(fs_tools),
};
