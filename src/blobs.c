/* blobs.c — the content-addressed blob store (see blobs.h): SHA-256 names
 * from libcrypto, atomic writes by temporary file + fsync + rename + fsync
 * of the directory, reads verified against the name. */
#include "blobs.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

int blobs_sha256_hex(const void *data, size_t len, char hex[BLOBS_HEX_LEN + 1])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    if (EVP_Digest(len ? data : "", len, md, &mdlen, EVP_sha256(), NULL) != 1 || mdlen != 32)
        return -1;
    static const char digits[] = "0123456789abcdef";
    for (unsigned int i = 0; i < mdlen; i++) {
        hex[2 * i] = digits[md[i] >> 4];
        hex[2 * i + 1] = digits[md[i] & 15];
    }
    hex[BLOBS_HEX_LEN] = '\0';
    return 0;
}

static int hex_valid(const char *hex)
{
    if (!hex || strlen(hex) != BLOBS_HEX_LEN)
        return 0;
    for (const char *p = hex; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
            return 0;
    return 1;
}

char *blobs_path(const char *dir, const char *hex)
{
    if (!dir || !hex_valid(hex))
        return NULL;
    return xasprintf("%s/%.2s/%s", dir, hex, hex + 2);
}

/* === Writing === */

/* Whether path holds exactly data (the dedup check: the same content is
 * the same name, so a match means nothing is left to write). */
static int file_holds(const char *path, const void *data, size_t len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    struct stat sb;
    int same = fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode) && (size_t)sb.st_size == len;
    char chunk[65536];
    size_t off = 0;
    while (same && off < len) {
        ssize_t r = read(fd, chunk, sizeof chunk < len - off ? sizeof chunk : len - off);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0 || memcmp(chunk, (const char *)data + off, (size_t)r) != 0)
            same = 0;
        else
            off += (size_t)r;
    }
    close(fd);
    return same;
}

int blobs_put(const char *dir, const void *data, size_t len, char hex[BLOBS_HEX_LEN + 1],
              char **errmsg)
{
    char *path = NULL, *sub = NULL, *where = NULL;
    int rc = 0;
    const char *what = "";
    if (!dir || !*dir) {
        *errmsg = xstrdup("no blob directory is set");
        return -1;
    }
    if (blobs_sha256_hex(data, len, hex) < 0) {
        *errmsg = xstrdup("cannot compute SHA-256 (libcrypto failed)");
        return -1;
    }
    path = blobs_path(dir, hex);
    if (file_holds(path, data, len)) {
        free(path);
        return 0;
    }
    sub = xasprintf("%s/%.2s", dir, hex);
    struct stat sb;
    int new_sub = stat(sub, &sb) < 0;
    what = "mkdir";
    if ((rc = util_mkdirs(sub, 0700)) < 0)
        goto fail;
    if ((rc = util_write_atomic(path, data, len, 0600, &what, &where)) < 0)
        goto fail;
    what = "fsync the directory of";
    if (new_sub && (rc = util_fsync_dir(dir)) < 0)     /* the new subdirectory's entry */
        goto fail;
    free(sub);
    free(path);
    return 0;
fail:
    *errmsg = xasprintf("cannot store blob %s: %s %s: %s", hex, what, where ? where : sub,
                        strerror(-rc));
    free(where);
    free(sub);
    free(path);
    return -1;
}

/* === Reading === */

int blobs_get(const char *dir, const char *hex, char **data, size_t *len, char **errmsg)
{
    *data = NULL;
    *len = 0;
    char *path = blobs_path(dir, hex);
    if (!path) {
        *errmsg = xasprintf("'%s' is not a blob name (64 lowercase hex digits)",
                            hex ? hex : "");
        return -1;
    }
    char *buf = NULL;
    size_t n = 0;
    int rc = util_read_file(path, &buf, &n);
    if (rc < 0) {
        *errmsg = xasprintf("cannot read blob %s: %s: %s", hex, path, strerror(-rc));
        free(path);
        return -1;
    }
    char got[BLOBS_HEX_LEN + 1];
    if (blobs_sha256_hex(buf, n, got) < 0 || strcmp(got, hex) != 0) {
        *errmsg = xasprintf("blob %s is corrupt: hash mismatch (%s)", hex, path);
        free(buf);
        free(path);
        return BLOBS_CORRUPT;
    }
    free(path);
    *data = buf;
    *len = n;
    return 0;
}
