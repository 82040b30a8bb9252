/* jsonmem.c — cJSON's allocator (see jsonmem.h). */
#include "jsonmem.h"

#include <cjson/cJSON.h>
#include <malloc.h>
#include <pthread.h>
#include <stdlib.h>

#if defined(__SANITIZE_ADDRESS__)
#define JSONMEM_CACHE 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define JSONMEM_CACHE 0
#endif
#endif
#ifndef JSONMEM_CACHE
#define JSONMEM_CACHE 1
#endif

/* Classes by usable size: 16 * (i + 1) bytes up to 128; a block is filed
 * under the largest class its usable size covers, and handed out for any
 * request up to that class. */
enum { JSONMEM_CLASSES = 8, JSONMEM_MAX = 16 * JSONMEM_CLASSES, JSONMEM_KEEP = 256 };

struct jsonmem_cache {
    void *head[JSONMEM_CLASSES];
    int n[JSONMEM_CLASSES];
    int registered;              /* the thread-exit destructor knows us */
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
        /* its own class, or the next: not blocks far too big */
        size_t first = (size - 1) / 16;
        for (size_t i = first; i < JSONMEM_CLASSES && i <= first + 1; i++) {
            void *p = cache.head[i];
            if (p) {
                cache.head[i] = *(void **)p;
                cache.n[i]--;
                return p;
            }
        }
    }
    return malloc(size);
}

static void jm_free(void *p)
{
    if (!p)
        return;
    size_t usable = malloc_usable_size(p);
    if (usable >= 16) {
        size_t i = (usable >= JSONMEM_MAX ? JSONMEM_MAX : usable) / 16 - 1;
        if (usable <= JSONMEM_MAX + 16 && cache.n[i] < JSONMEM_KEEP) {
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

void jsonmem_install(void)
{
    if (!JSONMEM_CACHE)
        return;
    cJSON_Hooks h = {jm_malloc, jm_free};
    cJSON_InitHooks(&h);
}
