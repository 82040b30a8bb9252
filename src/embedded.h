/* embedded.h — files from data/ and themes/ compiled into the binary by
 * scripts/embedgen.c (see the Makefile). Names are repository paths,
 * e.g. "data/config.default.yaml", "data/schema/001_init.sql". */
#ifndef MCPDECK_EMBEDDED_H
#define MCPDECK_EMBEDDED_H

#include <stddef.h>

struct embedded_file {
    const char *name;
    const unsigned char *data;   /* NUL-terminated; len excludes the NUL */
    size_t len;
};

/* Terminated by an entry with name == NULL. */
extern const struct embedded_file embedded_files[];

/* The file called name, or NULL. */
const struct embedded_file *embedded_find(const char *name);

#endif
