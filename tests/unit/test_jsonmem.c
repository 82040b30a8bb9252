/* test_jsonmem.c — with jsonmem's hooks installed, cJSON trees built and
 * freed on different threads, texts printed by cJSON and freed with
 * free(), and strings malloc'd by us and freed by cJSON all stay correct
 * (under AddressSanitizer the cache is off and this checks the plain
 * path); and once warm, a steady stream of messages with strings of every
 * small length is served from the cache without calling malloc. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonmem.h"
#include "util.h"

#include <cjson/cJSON.h>

enum { ROUNDS = 2000, BATCH = 16 };

struct handoff {
    cJSON *trees[BATCH];
    int made;
};

/* A tree whose text we know. */
static cJSON *make_tree(int i, char *want, size_t n)
{
    snprintf(want, n, "{\"jsonrpc\":\"2.0\",\"id\":%d,\"result\":{\"content\":[{\"type\":"
                      "\"text\",\"text\":\"Echo: bench-%d\"}]}}", i, i);
    cJSON *t = cJSON_Parse(want);
    assert_non_null(t);
    return t;
}

static void *maker(void *arg)
{
    struct handoff *h = arg;
    char want[160];
    for (int i = 0; i < BATCH; i++)
        h->trees[i] = make_tree(h->made + i, want, sizeof want);
    return NULL;
}

static void test_threads_and_free(void **state)
{
    (void)state;
    jsonmem_install();
    struct handoff h;
    for (int r = 0; r < ROUNDS; r++) {
        h.made = r * BATCH;
        pthread_t th;
        assert_int_equal(pthread_create(&th, NULL, maker, &h), 0);
        assert_int_equal(pthread_join(th, NULL), 0);
        for (int i = 0; i < BATCH; i++) {
            char want[160];
            snprintf(want, sizeof want, "{\"jsonrpc\":\"2.0\",\"id\":%d,\"result\":{\"content\":"
                     "[{\"type\":\"text\",\"text\":\"Echo: bench-%d\"}]}}", h.made + i,
                     h.made + i);
            char *got = cJSON_PrintUnformatted(h.trees[i]);
            assert_string_equal(got, want);
            free(got);                       /* a plain free of cJSON's memory */
            cJSON_Delete(h.trees[i]);        /* freed here, made on another thread */
        }
    }
    /* a string we malloc'd, handed to cJSON and freed by it */
    cJSON *o = cJSON_CreateObject();
    cJSON *s = cJSON_CreateString("x");
    free(s->valuestring);
    s->valuestring = xstrdup("a longer string that we allocated ourselves");
    cJSON_AddItemToObject(o, "k", s);
    char *txt = cJSON_PrintUnformatted(o);
    assert_string_equal(txt, "{\"k\":\"a longer string that we allocated ourselves\"}");
    cJSON_free(txt);
    cJSON_Delete(o);
    /* sizes around the cache's classes */
    for (size_t n = 1; n < 300; n++) {
        char *big = cJSON_malloc(n);
        memset(big, 'a', n);
        cJSON_free(big);
    }
}

/* Parse and free a message whose strings are 1..150 bytes long, over and
 * over: after the first rounds every small request finds a block. */
static void test_steady_stream_needs_no_malloc(void **state)
{
    (void)state;
    jsonmem_install();
    char text[400];
    size_t hits0, misses0, hits, misses;
    int cached = 1;
    for (int round = 0; round < 3; round++) {
        if (round == 2)
            cached = jsonmem_stats(&hits0, &misses0);
        for (int len = 1; len <= 150; len++) {
            char v[160];
            memset(v, 'v', (size_t)len);
            v[len] = '\0';
            snprintf(text, sizeof text, "{\"jsonrpc\":\"2.0\",\"id\":%d,\"result\":"
                     "{\"content\":[{\"type\":\"text\",\"text\":\"%s\"}]}}", len, v);
            cJSON *t = cJSON_Parse(text);
            assert_non_null(t);
            const cJSON *c = cJSON_GetObjectItem(cJSON_GetObjectItem(t, "result"), "content");
            assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(c, 0), "text")
                                    ->valuestring, v);
            cJSON_Delete(t);
        }
    }
    jsonmem_stats(&hits, &misses);
    if (!cached) {                          /* compiled out under ASan: nothing counted */
        assert_int_equal(hits + misses, 0);
        return;
    }
    assert_true(hits - hits0 >= 150 * 10);  /* nodes and strings of 150 messages */
    assert_int_equal(misses - misses0, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_threads_and_free),
        cmocka_unit_test(test_steady_stream_needs_no_malloc),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
