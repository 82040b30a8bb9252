/* util.h — allocation that aborts on OOM, a growable byte buffer, clocks.
 * Everything here is thread-safe (no shared state). */
#ifndef MCPDECK_UTIL_H
#define MCPDECK_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define PRINTF_LIKE(f, a) __attribute__((format(printf, f, a)))

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);             /* NULL in, NULL out */
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) PRINTF_LIKE(1, 2);
char *xvasprintf(const char *fmt, va_list ap);

/* A growable buffer. data is NUL-terminated whenever it is non-NULL. */
struct buf {
    char *data;
    size_t len;
    size_t cap;
};

void buf_init(struct buf *b);
void buf_fini(struct buf *b);
void buf_grow(struct buf *b, size_t extra);   /* buf_reserve's slow path */
void buf_puts(struct buf *b, const char *s);
/* Empty b to print the next message into, keeping its memory unless it
 * grew past 1 MiB (one huge message must not pin that much for good). */
void buf_reuse(struct buf *b);

/* Inline: every message mcpdeck sends is printed by many small appends,
 * and most of them fit the buffer as it is. */
static inline void buf_reserve(struct buf *b, size_t extra)
{
    if (b->len + extra + 1 > b->cap)
        buf_grow(b, extra);
}

static inline void buf_append(struct buf *b, const void *p, size_t n)
{
    buf_reserve(b, n);
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
}

static inline void buf_putc(struct buf *b, char c)
{
    buf_reserve(b, 1);
    b->data[b->len++] = c;
    b->data[b->len] = '\0';
}

/* An arena: many small allocations carved from big blocks (the first
 * from caller-given space, then heap blocks each twice the last), all
 * freed at once by arena_fini; no header, rounding or free per piece. */
struct arena {
    unsigned char *next, *end;   /* free space */
    void *blocks;                /* heap blocks, each linked to the one before */
    size_t block_size;           /* the last heap block's size */
};

/* space (any alignment) serves the first allocations; may be NULL with size 0. */
void arena_init(struct arena *a, void *space, size_t size);
void *arena_grow(struct arena *a, size_t n);   /* arena_alloc's slow path */
void arena_fini(struct arena *a);              /* frees the heap blocks */
void *arena_xalloc(struct arena *a, size_t n); /* arena_alloc; aborts as xmalloc does */

/* n bytes aligned to 8, or NULL when memory ran out. Inline: a parser
 * takes one per node. */
static inline void *arena_alloc(struct arena *a, size_t n)
{
    size_t r = (n + 7) & ~(size_t)7;
    if (r < n || (size_t)(a->end - a->next) < r)
        return arena_grow(a, n);
    void *p = a->next;
    a->next += r;
    return p;
}

void buf_printf(struct buf *b, const char *fmt, ...) PRINTF_LIKE(2, 3);
void buf_consume(struct buf *b, size_t n);   /* drop n bytes from the front */
/* A log of lines kept under max bytes: once past it, the oldest lines go
 * and about the newest half stays, cut at a line start. */
void buf_keep_lines(struct buf *b, size_t max);
char *buf_detach(struct buf *b);             /* caller owns; b is reset */

/* FNV-1a of a C string: for hash tables of names, not against an
 * adversary who picks the names. */
uint64_t util_hash_str(const char *s);

int64_t util_now_ms(void);   /* monotonic milliseconds */
int64_t util_now_us(void);   /* monotonic microseconds */
int64_t util_wall_ms(void);  /* Unix time in milliseconds */

/* Read a whole file into *out (NUL-terminated). Returns 0 or -errno. */
int util_read_file(const char *path, char **out, size_t *len);
/* The same, refusing (-EFBIG) a file of more than max bytes. */
int util_read_file_max(const char *path, size_t max, char **out, size_t *len);

/* mkdir -p. Returns 0 or -errno. */
int util_mkdirs(const char *path, int mode);
/* Replace path with data atomically and durably, the file getting mode:
 * a temporary file in the same directory, fsync, rename over path, fsync
 * the directory. 0, or -errno with *step naming what failed ("write",
 * "rename"...) and *where (when not NULL; malloc'd) the file or directory
 * it failed on; nothing is left behind on failure. */
int util_write_atomic(const char *path, const void *data, size_t len, int mode,
                      const char **step, char **where);
/* fsync a directory (a rename or a new entry in it becomes durable). */
int util_fsync_dir(const char *dir);

/* Set O_NONBLOCK and FD_CLOEXEC. */
int util_set_nonblock(int fd);

/* Parse a duration: a number of seconds ("30", "1.5") or a number with a
 * unit: ms, s, m, h ("1500ms", "300s", "5m"). Returns 0 and *ms, or -1. */
int util_parse_duration_ms(const char *s, int64_t *ms);
/* 1 and *out = d when d is a whole number within [lo, hi], else 0 (NaN
 * never is). For numbers read from JSON: converting a double outside the
 * target type's range is undefined behaviour in C. */
int util_whole_in(double d, int64_t lo, int64_t hi, int64_t *out);
#endif
