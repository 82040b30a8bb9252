/* jsonmem.h — cJSON's allocator: a small per-thread cache of freed small
 * blocks in front of malloc.
 *
 * Every message parsed or built is a tree of small cJSON nodes and strings
 * (an echo answer is seventeen allocations), freed a moment later; glibc's
 * own per-thread cache holds seven blocks per size, so most of those frees
 * took its slow path. This cache keeps up to JSONMEM_KEEP blocks of each
 * small size per thread. The blocks are ordinary malloc blocks (the cache
 * only delays their free), so anything cJSON hands out may still be freed
 * with free() and cJSON may free blocks our code malloc'd. Under
 * AddressSanitizer the cache is off (it would hide use-after-free). */
#ifndef MCPDECK_JSONMEM_H
#define MCPDECK_JSONMEM_H

#include <stddef.h>

/* Install the hooks (cJSON_InitHooks). Once, at start, before any cJSON
 * is made: main does it, and programs built on the library may. */
void jsonmem_install(void);

/* This thread's small requests served from the cache (hits) and passed to
 * malloc (misses). Returns 0 when the cache is compiled out (ASan). */
int jsonmem_stats(size_t *hits, size_t *misses);

#endif
