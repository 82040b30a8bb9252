/* test_engine_pages.c — engine_jobs_page: pages read from an anchor (the
 * previous page's first row) are the same rows the plain OFFSET query
 * gives, in every order of paging, and after jobs are added. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "engine.h"
#include "engine_fixture.h"
#include "util.h"

static void submit(struct engine *e, int n)
{
    struct jobq_spec *s = xcalloc((size_t)n, sizeof *s);
    int64_t *ids = xcalloc((size_t)n, sizeof *ids);
    for (int i = 0; i < n; i++)
        s[i] = (struct jobq_spec){.server = "fs", .tool = i % 3 ? "list_directory" : "search",
                                  .args_json = "{}"};
    char *err = NULL;
    assert_int_equal(engine_submit_group(e, s, (size_t)n, ids, &err), 0);
    free(s);
    free(ids);
}

/* The ids of rows [off, off + lim) in id order, straight from the
 * database file through a connection of its own (nothing of the engine's
 * paging involved). */
static void plain(struct engine *e, int asc, int off, int lim, int64_t *out, size_t *n)
{
    sqlite3 *h;
    assert_int_equal(sqlite3_open_v2(engine_db_path(e), &h, SQLITE_OPEN_READONLY, NULL),
                     SQLITE_OK);
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(h, asc ? "SELECT id FROM jobs ORDER BY id LIMIT ?1 OFFSET ?2"
                                               : "SELECT id FROM jobs ORDER BY id DESC LIMIT ?1 "
                                                 "OFFSET ?2", -1, &st, NULL), SQLITE_OK);
    sqlite3_bind_int(st, 1, lim);
    sqlite3_bind_int(st, 2, off);
    *n = 0;
    while (sqlite3_step(st) == SQLITE_ROW)
        out[(*n)++] = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(h);
}

static void test_pages_match(void **state)
{
    char dir[64];
    struct engine *e = fixture_engine(dir, sizeof dir, "mcpdeck-pages", NULL, 0);
    submit(e, 500);
    static const int offsets[] = {0, 40, 80, 480, 120, 121, 300, 299, 499, 10, 450, 460};
    enum { NOFF = sizeof offsets / sizeof *offsets };
    int64_t want[NOFF][25];
    size_t wn[NOFF];
    for (int asc = 0; asc < 2; asc++) {
        for (size_t k = 0; k < NOFF; k++)
            plain(e, asc, offsets[k], 25, want[k], &wn[k]);
        /* one query paged around: each page after the first may start
         * from the previous page's first row */
        for (int round = 0; round < 2; round++)
            for (size_t k = 0; k < NOFF; k++) {
                struct engine_job_query q = {0, NULL, ENGINE_SORT_ID, asc};
                struct job *v;
                size_t n;
                int64_t total = 0;
                assert_int_equal(engine_jobs_page(e, &q, offsets[k], 25, &v, &n, &total), 0);
                assert_int_equal(n, wn[k]);
                for (size_t i = 0; i < n; i++)
                    if (v[i].id != want[k][i])
                        fail_msg("asc %d round %d offset %d row %zu: %lld, want %lld", asc,
                                 round, offsets[k], i, (long long)v[i].id,
                                 (long long)want[k][i]);
                jobq_jobs_free(v, n);
            }
        /* new jobs move every position: the anchor must not be trusted */
        struct engine_job_query q = {0, NULL, ENGINE_SORT_ID, asc};
        struct job *v;
        size_t n;
        int64_t total = 0;
        assert_int_equal(engine_jobs_page(e, &q, 100, 25, &v, &n, &total), 0);
        jobq_jobs_free(v, n);
        submit(e, 7);
        int64_t after[25];
        size_t an;
        assert_int_equal(engine_jobs_page(e, &q, 130, 25, &v, &n, &total), 0);
        plain(e, asc, 130, 25, after, &an);
        assert_int_equal(n, an);
        for (size_t i = 0; i < n; i++)
            assert_int_equal(v[i].id, after[i]);
        jobq_jobs_free(v, n);
    }
    fixture_engine_free(e, dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pages_match),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
