/* util.c — see util.h. */
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static void oom(void)
{
    fputs("mcpdeck: out of memory\n", stderr);
    abort();
}

void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        oom();
    return p;
}

/* Small blocks by malloc and memset: glibc's calloc skips its per-thread
 * cache (it goes to the arena every time, and their frees overflow the
 * cache), and structs made and freed per call are small. The memset is
 * called through a volatile pointer, or the compiler turns the pair back
 * into calloc. */
static void *(*volatile zero_fill)(void *, int, size_t) = memset;

void *xcalloc(size_t n, size_t size)
{
    n = n ? n : 1;
    size = size ? size : 1;
    if (n <= 1024 / size) {
        void *p = malloc(n * size);
        if (!p)
            oom();
        return zero_fill(p, 0, n * size);
    }
    void *p = calloc(n, size);
    if (!p)
        oom();
    return p;
}

void *xrealloc(void *p, size_t n)
{
    p = realloc(p, n ? n : 1);
    if (!p)
        oom();
    return p;
}

char *xstrdup(const char *s)
{
    return s ? xstrndup(s, strlen(s)) : NULL;
}

char *xstrndup(const char *s, size_t n)
{
    char *p = xmalloc(n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *xvasprintf(const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0)
        oom();
    char *p = xmalloc((size_t)n + 1);
    vsnprintf(p, (size_t)n + 1, fmt, ap);
    return p;
}

char *xasprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *p = xvasprintf(fmt, ap);
    va_end(ap);
    return p;
}

/* === buf === */

void buf_init(struct buf *b)
{
    b->data = NULL;
    b->len = b->cap = 0;
}

void buf_fini(struct buf *b)
{
    free(b->data);
    buf_init(b);
}

void buf_grow(struct buf *b, size_t extra)
{
    if (b->len + extra + 1 <= b->cap)
        return;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < b->len + extra + 1)
        cap *= 2;
    b->data = xrealloc(b->data, cap);
    b->cap = cap;
}

void buf_reuse(struct buf *b)
{
    if (b->cap > 1u << 20) {
        buf_fini(b);
        buf_init(b);
    }
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

void buf_puts(struct buf *b, const char *s)
{
    buf_append(b, s, strlen(s));
}

void buf_printf(struct buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n > 0) {
        buf_reserve(b, (size_t)n);
        vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
        b->len += (size_t)n;
    }
    va_end(ap);
}

void buf_consume(struct buf *b, size_t n)
{
    if (n >= b->len) {
        b->len = 0;
        if (b->data)
            b->data[0] = '\0';
        return;
    }
    memmove(b->data, b->data + n, b->len - n);
    b->len -= n;
    b->data[b->len] = '\0';
}

void buf_keep_lines(struct buf *b, size_t max)
{
    if (b->len <= max)
        return;
    const char *cut = memchr(b->data + b->len - max / 2, '\n', max / 2);
    buf_consume(b, cut ? (size_t)(cut + 1 - b->data) : b->len - max / 2);
}

char *buf_detach(struct buf *b)
{
    char *p = b->data ? b->data : xstrdup("");
    buf_init(b);
    return p;
}

/* === arena === */

enum { ARENA_FIRST_BLOCK = 16384, ARENA_HEADER = 16 };

void arena_init(struct arena *a, void *space, size_t size)
{
    uintptr_t at = ((uintptr_t)space + 7) & ~(uintptr_t)7;
    size_t skip = (size_t)(at - (uintptr_t)space);
    a->next = space ? (unsigned char *)at : NULL;
    a->end = a->next ? a->next + (size > skip ? size - skip : 0) : NULL;
    a->blocks = NULL;
    a->block_size = 0;
}

/* n bytes (rounded up to 8) from a new heap block twice the size of the
 * last, or bigger: the space left was too small. */
void *arena_grow(struct arena *a, size_t n)
{
    if (n > SIZE_MAX / 4)
        return NULL;
    n = (n + 7) & ~(size_t)7;
    size_t size = a->block_size ? a->block_size * 2 : ARENA_FIRST_BLOCK;
    while (size - ARENA_HEADER < n)
        size *= 2;
    unsigned char *b = malloc(size);
    if (!b)
        return NULL;
    *(void **)b = a->blocks;
    a->blocks = b;
    a->block_size = size;
    a->next = b + ARENA_HEADER + n;
    a->end = b + size;
    return b + ARENA_HEADER;
}

void *arena_xalloc(struct arena *a, size_t n)
{
    void *p = arena_alloc(a, n);
    if (!p)
        oom();
    return p;
}

void arena_fini(struct arena *a)
{
    while (a->blocks) {
        void *b = a->blocks;
        a->blocks = *(void **)b;
        free(b);
    }
    a->next = a->end = NULL;
    a->block_size = 0;
}

uint64_t util_hash_str(const char *s)
{
    uint64_t h = 14695981039346656037u;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211u;
    return h;
}

/* === clocks === */

int64_t util_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t util_now_ms(void)
{
    return util_now_us() / 1000;
}

int64_t util_wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* === files === */

int util_read_file_max(const char *path, size_t max, char **out, size_t *len)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (!f)
        return -errno;
    struct buf b;
    buf_init(&b);
    char tmp[65536];
    size_t n;
    int err = 0;
    errno = 0;
    while (!err && (n = fread(tmp, 1, sizeof tmp, f)) > 0) {
        if (n > max - b.len)
            err = -EFBIG;        /* /dev/zero or a huge file: stop, don't fill memory */
        else
            buf_append(&b, tmp, n);
    }
    if (!err && ferror(f))
        err = errno ? -errno : -EIO;   /* a directory reads as EISDIR */
    if (f != stdin)
        fclose(f);
    if (err) {
        buf_fini(&b);
        return err;
    }
    if (len)
        *len = b.len;
    *out = buf_detach(&b);
    return 0;
}

int util_read_file(const char *path, char **out, size_t *len)
{
    return util_read_file_max(path, SIZE_MAX, out, len);
}

int util_fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    int rc = fsync(fd) < 0 ? -errno : 0;
    close(fd);
    return rc;
}

static int write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

int util_write_atomic(const char *path, const void *data, size_t len, int mode,
                      const char **step, char **where)
{
    const char *slash = strrchr(path, '/');
    char *dir = slash ? xstrndup(path, slash == path ? 1 : (size_t)(slash - path)) : xstrdup(".");
    char *tmp = xasprintf("%s/.tmp-XXXXXX", dir);
    int rc = 0, fd;
    *step = "create a temporary file in";
    if ((fd = mkostemp(tmp, O_CLOEXEC)) < 0) {
        rc = -errno;
        goto out;
    }
    fchmod(fd, (mode_t)mode);
    *step = "write";
    if ((rc = write_all(fd, data, len)) < 0)
        goto out;
    *step = "fsync";
    if (fsync(fd) < 0) {
        rc = -errno;
        goto out;
    }
    *step = "close";
    rc = close(fd) < 0 ? -errno : 0;
    fd = -1;
    if (rc < 0)
        goto out;
    *step = "rename";
    if (rename(tmp, path) < 0) {
        rc = -errno;
        goto out;
    }
    *step = "fsync the directory of";
    rc = util_fsync_dir(dir);
out:
    if (fd >= 0)
        close(fd);
    if (rc < 0 && where)     /* the file the step failed on */
        *where = xstrdup(!strcmp(*step, "rename") || !strcmp(*step, "write") ||
                                 !strcmp(*step, "fsync") || !strcmp(*step, "close")
                             ? tmp : dir);
    if (rc < 0 && strcmp(*step, "fsync the directory of") != 0)
        unlink(tmp);
    free(tmp);
    free(dir);
    return rc;
}

int util_mkdirs(const char *path, int mode)
{
    char *p = xstrdup(path);
    for (char *s = p + 1; *s; s++) {
        if (*s != '/')
            continue;
        *s = '\0';
        if (mkdir(p, (mode_t)mode) < 0 && errno != EEXIST) {
            int e = errno;
            free(p);
            return -e;
        }
        *s = '/';
    }
    int rc = 0;
    if (mkdir(p, (mode_t)mode) < 0 && errno != EEXIST)
        rc = -errno;
    free(p);
    return rc;
}

int util_set_nonblock(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
        return -errno;
    fl = fcntl(fd, F_GETFD);
    if (fl < 0 || fcntl(fd, F_SETFD, fl | FD_CLOEXEC) < 0)
        return -errno;
    return 0;
}

int util_whole_in(double d, int64_t lo, int64_t hi, int64_t *out)
{
    /* 2^63 is the first double no int64_t holds ((double)INT64_MAX is
     * 2^63 too, so the bounds are checked again once converted) */
    if (!(d >= -9223372036854775808.0 && d < 9223372036854775808.0) || d != floor(d))
        return 0;
    int64_t v = (int64_t)d;
    if (v < lo || v > hi)
        return 0;
    *out = v;
    return 1;
}

int util_parse_duration_ms(const char *s, int64_t *ms)
{
    if (!s || !*s)
        return -1;
    char *end;
    double v = strtod(s, &end);
    if (end == s || !(v >= 0))   /* NaN too: strtod reads "nan" */
        return -1;
    double mult = 1000;
    if (*end == '\0' || strcmp(end, "s") == 0)
        mult = 1000;
    else if (strcmp(end, "ms") == 0)
        mult = 1;
    else if (strcmp(end, "m") == 0)
        mult = 60000;
    else if (strcmp(end, "h") == 0)
        mult = 3600000;
    else
        return -1;
    double r = v * mult;
    if (!(r <= 9.2e15))
        return -1;
    *ms = (int64_t)r;
    return 0;
}
