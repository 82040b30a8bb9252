/* test_cli_jobs.c — `mcpdeck jobs` (cli_jobs) on a store filled through
 * jobq: list in the three formats with filters, show with needs, attempts
 * and events, result (inline, blob, corrupt), cancel and retry with their
 * exit codes, usage errors. stdout and stderr are captured to files. */
#include "jobq_fixture.h"

#include <cjson/cJSON.h>
#include <fcntl.h>

#include "blobs.h"
#include "cli_jobs.h"

struct out {
    int rc;
    char *out;      /* captured stdout */
    char *err;      /* captured stderr */
};

static void out_fini(struct out *o)
{
    free(o->out);
    free(o->err);
}

/* Run cli_jobs(db, data_dir, argv...) with stdout and stderr captured. */
static struct out run(struct fix *f, const char *format, const char *a0, const char *a1,
                      const char *a2, const char *a3)
{
    char *argv[5] = {(char *)a0, (char *)a1, (char *)a2, (char *)a3, NULL};
    int argc = 0;
    while (argc < 4 && argv[argc])
        argc++;
    char *po = xasprintf("%s/stdout", f->dir), *pe = xasprintf("%s/stderr", f->dir);
    fflush(stdout);
    fflush(stderr);
    int so = dup(1), se = dup(2);
    int fo = open(po, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    int fe = open(pe, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    dup2(fo, 1);
    dup2(fe, 2);
    struct out o = {0};
    o.rc = cli_jobs(f->path, f->dir, argc, argv, format);
    fflush(stdout);
    fflush(stderr);
    dup2(so, 1);
    dup2(se, 2);
    close(so);
    close(se);
    close(fo);
    close(fe);
    size_t n;
    assert_int_equal(util_read_file(po, &o.out, &n), 0);
    assert_int_equal(util_read_file(pe, &o.err, &n), 0);
    free(po);
    free(pe);
    return o;
}

static void want_in(const char *hay, const char *needle)
{
    if (!strstr(hay, needle))
        fail_msg("expected \"%s\" in:\n%s", needle, hay);
}

/* a (succeeded, big result: a blob) <- b (failed) <- c (skipped); d queued. */
static void fill(struct fix *f, int64_t ids[4])
{
    static const char *const na[] = {"a"}, *const nb[] = {"b"};
    struct jobq_spec g[4] = {
        {.key = "a", .server = "fs", .tool = "read_text_file", .args_json = "{\"path\":\"x\"}"},
        {.key = "b", .server = "fs", .tool = "list_directory", .needs_keys = na,
         .nneeds_keys = 1},
        {.key = "c", .server = "fs", .tool = "search", .needs_keys = nb, .nneeds_keys = 1},
        {.key = "d|pipe", .server = "fs", .tool = "list_directory", .priority = -1},
    };
    char *err = NULL;
    assert_int_equal(jobq_submit_many(f->q, g, 4, ids, NULL, &err), 0);
    size_t n = 100 * 1024;
    char *big = xmalloc(n);
    memset(big, 'z', n);
    assert_int_equal(claim_id(f), ids[0]);
    assert_int_equal(jobq_event_add(f->q, ids[0], "progress", "{\"progress\": 1}"), 0);
    assert_int_equal(jobq_complete(f->q, ids[0], big, n, "text/plain", 0), 0);
    free(big);
    assert_int_equal(claim_id(f), ids[1]);
    assert_int_equal(jobq_fail(f->q, ids[1], "line one\nline two", 0, "oops", 4, NULL, NULL), 0);
}

static void test_list_formats(void **state)
{
    struct fix *f = *state;
    int64_t ids[4];
    fill(f, ids);
    struct out o = run(f, NULL, NULL, NULL, NULL, NULL);
    assert_int_equal(o.rc, 0);
    want_in(o.out, "ID  STATUS     PRI  TRIES  TASK               KEY     CREATED  ");
    want_in(o.out, "\n 4  queued      -1  0/3    fs.list_directory  d|pipe  2");
    want_in(o.out, "\n 2  failed       0  1/3    fs.list_directory  b       2");
    want_in(o.out, "  line one line two\n");   /* one line per job */
    want_in(o.out, "\n 3  skipped      0  0/3    fs.search          c       2");
    out_fini(&o);

    o = run(f, "json", "list", "--status", "failed,skipped", NULL);
    assert_int_equal(o.rc, 0);
    cJSON *arr = cJSON_Parse(o.out);
    assert_int_equal(cJSON_GetArraySize(arr), 2);
    cJSON *first = cJSON_GetArrayItem(arr, 0);
    assert_string_equal(cJSON_GetObjectItem(first, "status")->valuestring, "skipped");
    assert_string_equal(cJSON_GetObjectItem(first, "error")->valuestring,
                        "skipped: needs b which failed");
    cJSON_Delete(arr);
    out_fini(&o);

    o = run(f, "md", "list", "--limit", "1", NULL);
    assert_int_equal(o.rc, 0);
    want_in(o.out, "| ID | STATUS | PRI | TRIES | TASK | KEY | CREATED | ERROR |\n"
                   "|---:|---|---:|---|---|---|---|---|\n| 4 | queued | -1 | 0/3 |");
    want_in(o.out, "d\\|pipe");
    assert_null(strstr(o.out, "| 3 |"));
    out_fini(&o);

    o = run(f, "text", "list", "--status", "running", NULL);
    assert_string_equal(o.out, "no jobs\n");
    out_fini(&o);
}

static void test_show(void **state)
{
    struct fix *f = *state;
    int64_t ids[4];
    fill(f, ids);
    struct out o = run(f, NULL, "show", "2", NULL, NULL);
    assert_int_equal(o.rc, 0);
    want_in(o.out, "job 2\n");
    want_in(o.out, "  status       failed\n");
    want_in(o.out, "  error        line one line two\n");
    want_in(o.out, "  needs        #1 a (succeeded)\n");
    want_in(o.out, "  needed by    #3 c (skipped)\n");
    want_in(o.out, "  result       inline, text/plain, 4 bytes, is_error, sha256 ");
    want_in(o.out, "attempts\n  #  STARTED");
    want_in(o.out, "failed   line one line two");
    want_in(o.out, "events\n  none\n");
    out_fini(&o);

    o = run(f, "json", "show", "#1", NULL, NULL);
    assert_int_equal(o.rc, 0);
    cJSON *j = cJSON_Parse(o.out);
    assert_non_null(j);
    cJSON *r = cJSON_GetObjectItem(j, "result");
    assert_string_equal(cJSON_GetObjectItem(r, "kind")->valuestring, "blob");
    assert_int_equal(cJSON_GetObjectItem(r, "size")->valuedouble, 100 * 1024);
    cJSON *ev = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "events"), 0);
    assert_string_equal(cJSON_GetObjectItem(ev, "kind")->valuestring, "progress");
    assert_int_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(ev, "data"), "progress")->valueint,
                     1);
    cJSON *by = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "needed_by"), 0);
    assert_string_equal(cJSON_GetObjectItem(by, "key")->valuestring, "b");
    cJSON_Delete(j);
    out_fini(&o);

    o = run(f, "md", "show", "3", NULL, NULL);
    want_in(o.out, "## Job 3\n\n| FIELD | VALUE |\n|---|---|\n| task | fs.search |\n");
    want_in(o.out, "### Attempts\n\n_None._");
    out_fini(&o);

    o = run(f, NULL, "show", "77", NULL, NULL);
    assert_int_equal(o.rc, 1);
    assert_string_equal(o.err, "mcpdeck: no job 77\n");
    out_fini(&o);
}

static void test_result(void **state)
{
    struct fix *f = *state;
    int64_t ids[4];
    fill(f, ids);
    struct out o = run(f, "json", "result", "1", NULL, NULL);   /* format does not apply */
    assert_int_equal(o.rc, 0);
    assert_int_equal(strlen(o.out), 100 * 1024);
    assert_int_equal(strspn(o.out, "z"), 100 * 1024);
    out_fini(&o);
    o = run(f, NULL, "result", "2", NULL, NULL);
    assert_int_equal(o.rc, 0);
    assert_string_equal(o.out, "oops");
    out_fini(&o);
    o = run(f, NULL, "result", "4", NULL, NULL);
    assert_int_equal(o.rc, 1);
    assert_string_equal(o.err, "mcpdeck: job 4 is queued: it has no result\n");
    out_fini(&o);

    char *sha = sql_text(f, "SELECT sha256 FROM results WHERE job_id = 1");
    char *dir = xasprintf("%s/blobs", f->dir);
    char *path = blobs_path(dir, sha);
    FILE *fp = fopen(path, "a");
    fputs("!", fp);
    fclose(fp);
    o = run(f, NULL, "result", "1", NULL, NULL);
    assert_int_equal(o.rc, 1);
    assert_string_equal(o.out, "");
    char *want = xasprintf("mcpdeck: blob %s for job 1 is corrupt: hash mismatch\n", sha);
    assert_string_equal(o.err, want);
    out_fini(&o);
    free(want);
    free(path);
    free(dir);
    free(sha);
}

static void test_cancel_and_retry(void **state)
{
    struct fix *f = *state;
    int64_t ids[4];
    fill(f, ids);
    struct out o = run(f, NULL, "retry", "2", NULL, NULL);
    assert_int_equal(o.rc, 0);
    assert_string_equal(o.out, "job 2 queued again; 1 skipped job that needs it too\n");
    out_fini(&o);
    assert_job_state(f, ids[2], "queued|-");
    o = run(f, "json", "retry", "2", NULL, NULL);
    assert_int_equal(o.rc, 1);
    want_in(o.err, "job 2 is queued: only failed, cancelled or skipped jobs can be retried");
    out_fini(&o);

    o = run(f, "json", "cancel", "2", NULL, NULL);
    assert_int_equal(o.rc, 0);
    cJSON *j = cJSON_Parse(o.out);
    assert_string_equal(cJSON_GetObjectItem(j, "status")->valuestring, "cancelled");
    cJSON_Delete(j);
    out_fini(&o);
    assert_job_state(f, ids[2], "skipped|skipped: needs b which cancelled");
    assert_int_equal(sql_int(f, "SELECT COUNT(*) FROM events WHERE job_id = 2 "
                                "AND kind = 'state'"), 2);

    o = run(f, "md", "cancel", "1", NULL, NULL);
    assert_int_equal(o.rc, 1);
    assert_string_equal(o.err, "mcpdeck: job 1 is succeeded: only queued or running jobs can "
                               "be cancelled\n");
    out_fini(&o);
    o = run(f, NULL, "cancel", "999", NULL, NULL);
    assert_int_equal(o.rc, 1);
    assert_string_equal(o.err, "mcpdeck: no job 999\n");
    out_fini(&o);
    o = run(f, "md", "retry", "2", NULL, NULL);
    assert_int_equal(o.rc, 0);
    assert_string_equal(o.out, "job 2 queued again; 1 skipped job that needs it too.\n");
    out_fini(&o);
}

static void test_usage(void **state)
{
    struct fix *f = *state;
    static const char *const bad[][4] = {
        {"frob", NULL, NULL, NULL},          {"show", NULL, NULL, NULL},
        {"show", "0", NULL, NULL},           {"show", "1x", NULL, NULL},
        {"show", "1", "2", NULL},            {"list", "--status", "nope", NULL},
        {"list", "--status", ",", NULL},     {"list", "--limit", "-3", NULL},
        {"list", "--limit", "many", NULL},   {"list", "extra", NULL, NULL},
        {"list", "--status", NULL, NULL},
    };
    for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
        struct out o = run(f, NULL, bad[i][0], bad[i][1], bad[i][2], bad[i][3]);
        if (o.rc != 2)
            fail_msg("jobs %s %s %s: exit %d, want 2", bad[i][0], bad[i][1] ? bad[i][1] : "",
                     bad[i][2] ? bad[i][2] : "", o.rc);
        assert_string_equal(o.out, "");
        want_in(o.err, "mcpdeck: jobs");
        out_fini(&o);
    }
    struct out o = run(f, "yaml", "list", NULL, NULL, NULL);
    assert_int_equal(o.rc, 2);
    assert_string_equal(o.err, "mcpdeck: jobs: --format must be text, json or md, not 'yaml'\n");
    out_fini(&o);
    o = run(f, NULL, "list", "--format", "json", NULL);   /* --format inside argv */
    assert_int_equal(o.rc, 0);
    assert_string_equal(o.out, "[]\n");
    out_fini(&o);
    o = run(f, NULL, "--help", NULL, NULL, NULL);
    assert_int_equal(o.rc, 0);
    want_in(o.out, "usage: mcpdeck jobs");
    out_fini(&o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_list_formats),
        T(test_show),
        T(test_result),
        T(test_cancel_and_retry),
        T(test_usage),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
