/* blobs.h — a content-addressed file store for large job results.
 *
 * A blob is a file named by the SHA-256 of its content, under a directory
 * (normally <data_dir>/blobs) split by the first two hex digits:
 * blobs/ab/cdef... . Writes are atomic (a temporary file in the same
 * directory, fsync, rename, fsync of the directory), so a blob is either
 * whole or absent after a crash; the same content is written once. Reads
 * check the content against its name. No state: every function takes the
 * directory. Any thread. */
#ifndef MCPDECK_BLOBS_H
#define MCPDECK_BLOBS_H

#include <stddef.h>

#define BLOBS_HEX_LEN 64

/* Lowercase hex SHA-256 of data into hex (65 bytes with the NUL). 0 or -1. */
int blobs_sha256_hex(const void *data, size_t len, char hex[BLOBS_HEX_LEN + 1]);

/* "<dir>/ab/cdef..." for a hex digest (malloc'd), or NULL if hex is not
 * 64 lowercase hex digits. */
char *blobs_path(const char *dir, const char *hex);

/* Store data unless a file with that content is already there (a file of
 * that name whose content does not match is replaced). Creates the
 * directories (0700). 0 and hex filled, or -1 and *errmsg. */
int blobs_put(const char *dir, const void *data, size_t len, char hex[BLOBS_HEX_LEN + 1],
              char **errmsg);

/* Read a blob and check its hash. 0 and *data (malloc'd, NUL-terminated)
 * and *len; -1 and *errmsg when it cannot be read (missing, unreadable,
 * bad name); BLOBS_CORRUPT and *errmsg when its content does not match
 * its name. */
#define BLOBS_CORRUPT (-2)
int blobs_get(const char *dir, const char *hex, char **data, size_t *len, char **errmsg);

#endif
