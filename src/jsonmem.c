/* jsonmem.c — cJSON's allocator (see jsonmem.h). */
#include "jsonmem.h"
#include "sanitize.h"

#include <cjson/cJSON.h>
#include <malloc.h>
#include <pthread.h>
#include <stdlib.h>

#define JSONMEM_CACHE (!MCPDECK_ASAN)

/* Classes by usable size, laid on glibc's: on x86_64 a malloc block's
 * usable size is 24, 40, 56, ... (16k + 8), so class i holds blocks of at
 * least CLASS_SIZE(i) = 16 (i + 1) + 8 bytes, a block is filed under the
 * largest class it covers and a request goes to the smallest class that
 * covers it. (Classes cut at multiples of 16 filed a 24-byte block where
 * no request of 17..24 bytes looked, and those went to malloc every time.)
 * On an allocator with other sizes the rule still holds, a little wider. */
enum { JSONMEM_CLASSES = 8, JSONMEM_KEEP = 256 };
#define CLASS_SIZE(i) ((size_t)(16 * ((i) + 1) + 8))
#define JSONMEM_MAX CLASS_SIZE(JSONMEM_CLASSES - 1)

struct jsonmem_cache {
    void *head[JSONMEM_CLASSES];
    int n[JSONMEM_CLASSES];
    int registered;              /* the thread-exit destructor knows us */
    size_t hits, misses;
};

static __thread struct jsonmem_cache cache;
static pthread_key_t exit_key;
static pthread_once_t key_once = PTHREAD_ONCE_INIT;

/* At thread exit: give the cached blocks back. */
static void drain(void *arg)
{
    struct jsonmem_cache *c = arg;
    for (int i = 0; i < JSONMEM_CLASSES; i++) {
        while (c->head[i]) {
            void *p = c->head[i];
            c->head[i] = *(void **)p;
            free(p);
        }
        c->n[i] = 0;
    }
}

static void make_key(void)
{
    pthread_key_create(&exit_key, drain);
}

static void *jm_malloc(size_t size)
{
    if (size && size <= JSONMEM_MAX) {
        /* the smallest class that covers it, or the next: not blocks far
         * too big */
        size_t first = size <= CLASS_SIZE(0) ? 0 : (size - 8 + 15) / 16 - 1;
        for (size_t i = first; i < JSONMEM_CLASSES && i <= first + 1; i++) {
            void *p = cache.head[i];
            if (p) {
                cache.head[i] = *(void **)p;
                cache.n[i]--;
                cache.hits++;
                return p;
            }
        }
        cache.misses++;
    }
    return malloc(size);
}

static void jm_free(void *p)
{
    if (!p)
        return;
    size_t usable = malloc_usable_size(p);
    if (usable >= CLASS_SIZE(0) && usable < JSONMEM_MAX + 16) {
        size_t i = (usable - 8) / 16 - 1;
        if (i >= JSONMEM_CLASSES)
            i = JSONMEM_CLASSES - 1;
        if (cache.n[i] < JSONMEM_KEEP) {
            if (!cache.registered) {
                pthread_once(&key_once, make_key);
                pthread_setspecific(exit_key, &cache);
                cache.registered = 1;
            }
            *(void **)p = cache.head[i];
            cache.head[i] = p;
            cache.n[i]++;
            return;
        }
    }
    free(p);
}

int jsonmem_stats(size_t *hits, size_t *misses)
{
    *hits = cache.hits;
    *misses = cache.misses;
    return JSONMEM_CACHE;
}

void jsonmem_install(void)
{
    if (!JSONMEM_CACHE)
        return;
    cJSON_Hooks h = {jm_malloc, jm_free};
    cJSON_InitHooks(&h);
}
