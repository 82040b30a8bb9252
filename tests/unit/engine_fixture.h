/* engine_fixture.h — an engine for the unit tests that need a whole one
 * (test_serve.c, test_serve_http.c, test_engine_pages.c): a fresh
 * temporary directory holding its config (data_dir there, plus extra YAML)
 * and its store; fixture_engine_free() frees the engine and removes it. */
#ifndef MCPDECK_TEST_ENGINE_FIXTURE_H
#define MCPDECK_TEST_ENGINE_FIXTURE_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>

#include "engine.h"
#include "util.h"

/* dir: a buffer of n bytes; gets /tmp/<prefix>.XXXXXX made real. With
 * start, the servers are started and waited for. */
static inline struct engine *fixture_engine(char *dir, size_t n, const char *prefix,
                                            const char *extra, int start)
{
    snprintf(dir, n, "/tmp/%s.XXXXXX", prefix);
    assert_non_null(mkdtemp(dir));
    char *cfg = xasprintf("%s/c.yaml", dir);
    FILE *fp = fopen(cfg, "w");
    assert_non_null(fp);
    fprintf(fp, "data_dir: %s/data\n%s", dir, extra ? extra : "");
    fclose(fp);
    struct engine_opts o = {cfg, NULL, 0, NULL};
    struct engine *e = NULL;
    char *err = NULL;
    if (engine_new(&o, &e, &err) < 0)
        fail_msg("engine_new: %s", err);
    free(cfg);
    if (start) {
        engine_start(e);
        assert_int_equal(engine_wait_servers(e, 10000), 0);
    }
    return e;
}

/* Free e and remove dir with everything in it. */
static inline void fixture_engine_free(struct engine *e, const char *dir)
{
    engine_free(e);
    char *cmd = xasprintf("rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
    free(cmd);
}

#endif
