/* test_log.c — the structured log against a real temporary directory:
 * every line is one JSON object with every correlation field (null when
 * unset), the level threshold, hostile messages (quotes, newlines, control
 * characters, invalid UTF-8) staying one valid line, long messages cut,
 * size rotation keeping .1...N and dropping the oldest without losing or
 * splitting a line (also with threads writing at once, and when another
 * process has moved the file away), and a registered secret never reaching
 * the file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <cjson/cJSON.h>
#include <ftw.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "redact.h"
#include "util.h"

static char *tmpdir;
static char *logpath;

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    return remove(path);
}

static int setup(void **state)
{
    char tmpl[] = "/tmp/mcpdeck-test-log-XXXXXX";
    if (!mkdtemp(tmpl))
        return -1;
    tmpdir = xstrdup(tmpl);
    logpath = xasprintf("%s/logs/sub/mcpdeck.log", tmpdir);
    log_set_level(LOG_LEVEL_INFO);
    redact_reset();
    return 0;
}

static int teardown(void **state)
{
    log_close();
    redact_reset();
    nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(tmpdir);
    free(logpath);
    return 0;
}

/* The lines of a file, each parsed; fails the test on a line that is not
 * one JSON object. Returns how many (0 when the file is missing). */
static size_t read_lines(const char *path, cJSON ***out)
{
    char *text = NULL;
    size_t len = 0, n = 0;
    *out = NULL;
    if (util_read_file(path, &text, &len) < 0)
        return 0;
    if (len > 0 && text[len - 1] != '\n')
        fail_msg("%s does not end with a newline", path);
    char *p = text;
    while (p < text + len) {
        char *nl = memchr(p, '\n', (size_t)(text + len - p));
        assert_non_null(nl);
        *nl = '\0';
        cJSON *j = cJSON_Parse(p);
        if (!j || !cJSON_IsObject(j))
            fail_msg("not a JSON object line in %s: %s", path, p);
        *out = xrealloc(*out, (n + 1) * sizeof **out);
        (*out)[n++] = j;
        p = nl + 1;
    }
    free(text);
    return n;
}

static void free_lines(cJSON **lines, size_t n)
{
    for (size_t i = 0; i < n; i++)
        cJSON_Delete(lines[i]);
    free(lines);
}

static char *rotated(int i)
{
    return xasprintf("%s.%d", logpath, i);
}

static int exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

static off_t file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? st.st_size : -1;
}

/* === Levels === */

static void test_level_parse(void **state)
{
    static const struct {
        const char *s;
        int rc;
        enum log_level want;
    } cases[] = {
        {"debug", 0, LOG_LEVEL_DEBUG}, {"info", 0, LOG_LEVEL_INFO},
        {"warn", 0, LOG_LEVEL_WARN},   {"WARNING", 0, LOG_LEVEL_WARN},
        {"Error", 0, LOG_LEVEL_ERROR}, {"verbose", -1, 0},
        {"", -1, 0},                   {NULL, -1, 0},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        enum log_level got = LOG_LEVEL_INFO;
        char *err = NULL;
        assert_int_equal(log_level_parse(cases[i].s, &got, &err), cases[i].rc);
        if (cases[i].rc == 0) {
            assert_int_equal(got, cases[i].want);
            assert_null(err);
        } else {
            assert_non_null(err);
            assert_non_null(strstr(err, "debug, info, warn or error"));
            if (cases[i].s)
                assert_non_null(strstr(err, cases[i].s));
            free(err);
        }
    }
    assert_string_equal(log_level_name(LOG_LEVEL_DEBUG), "debug");
    assert_string_equal(log_level_name(LOG_LEVEL_WARN), "warn");
}

/* === Lines === */

static void test_fields(void **state)
{
    char *err = NULL;
    assert_int_equal(log_open(logpath, 0, 0, &err), 0);
    struct stat st;
    assert_int_equal(stat(logpath, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);

    struct log_ctx ctx = {.job = 12, .server = "fs", .req = 7};
    log_write(LOG_LEVEL_INFO, &ctx, "job %d started on %s", 12, "fs");
    log_write(LOG_LEVEL_ERROR, NULL, "no context");
    struct log_ctx partial = {.server = "git"};
    struct log_kv kv[] = {
        LOG_STR("tool", "read_file"), LOG_INT("ms", 42), LOG_STR("msg", "shadow"),
        LOG_STR("authorization", "Bearer abc"), LOG_STR("nil", NULL),
        LOG_INT("big", INT64_MIN),
    };
    log_write_kv(LOG_LEVEL_WARN, &partial, kv, ARRAY_LEN(kv), "with %s", "extras");

    cJSON **lines;
    size_t n = read_lines(logpath, &lines);
    assert_int_equal(n, 3);

    static const char *fields[] = {"ts", "level", "msg", "job", "server", "req", "pid"};
    for (size_t i = 0; i < n; i++)
        for (size_t f = 0; f < ARRAY_LEN(fields); f++)
            if (!cJSON_HasObjectItem(lines[i], fields[f]))
                fail_msg("line %zu has no %s", i, fields[f]);

    /* 2025-01-02T03:04:05.678Z */
    const char *ts = cJSON_GetObjectItem(lines[0], "ts")->valuestring;
    assert_int_equal(strlen(ts), 24);
    assert_true(ts[4] == '-' && ts[7] == '-' && ts[10] == 'T' && ts[13] == ':' &&
                ts[16] == ':' && ts[19] == '.' && ts[23] == 'Z');
    struct tm tm = {0};
    assert_non_null(strptime(ts, "%Y-%m-%dT%H:%M:%S", &tm));
    time_t when = timegm(&tm);
    assert_true(labs((long)(when - time(NULL))) < 60);

    assert_string_equal(cJSON_GetObjectItem(lines[0], "level")->valuestring, "info");
    assert_string_equal(cJSON_GetObjectItem(lines[0], "msg")->valuestring, "job 12 started on fs");
    assert_int_equal(cJSON_GetObjectItem(lines[0], "job")->valueint, 12);
    assert_string_equal(cJSON_GetObjectItem(lines[0], "server")->valuestring, "fs");
    assert_int_equal(cJSON_GetObjectItem(lines[0], "req")->valueint, 7);
    assert_int_equal(cJSON_GetObjectItem(lines[0], "pid")->valueint, getpid());

    assert_string_equal(cJSON_GetObjectItem(lines[1], "level")->valuestring, "error");
    assert_true(cJSON_IsNull(cJSON_GetObjectItem(lines[1], "job")));
    assert_true(cJSON_IsNull(cJSON_GetObjectItem(lines[1], "server")));
    assert_true(cJSON_IsNull(cJSON_GetObjectItem(lines[1], "req")));

    cJSON *l = lines[2];
    assert_string_equal(cJSON_GetObjectItem(l, "level")->valuestring, "warn");
    assert_string_equal(cJSON_GetObjectItem(l, "msg")->valuestring, "with extras");
    assert_true(cJSON_IsNull(cJSON_GetObjectItem(l, "job")));
    assert_string_equal(cJSON_GetObjectItem(l, "server")->valuestring, "git");
    assert_true(cJSON_IsNull(cJSON_GetObjectItem(l, "req")));
    assert_string_equal(cJSON_GetObjectItem(l, "tool")->valuestring, "read_file");
    assert_int_equal(cJSON_GetObjectItem(l, "ms")->valueint, 42);
    assert_string_equal(cJSON_GetObjectItem(l, "_msg")->valuestring, "shadow");
    assert_string_equal(cJSON_GetObjectItem(l, "authorization")->valuestring, REDACT_MARK);
    assert_true(cJSON_IsNull(cJSON_GetObjectItem(l, "nil")));
    assert_true(cJSON_GetObjectItem(l, "big")->valuedouble < -9.2e18);
    free_lines(lines, n);
}

static void test_threshold(void **state)
{
    assert_int_equal(log_enabled(LOG_LEVEL_ERROR), 0);     /* nothing open */
    assert_int_equal(log_open(logpath, 0, 0, NULL), 0);
    log_set_level(LOG_LEVEL_WARN);
    assert_int_equal(log_get_level(), LOG_LEVEL_WARN);
    assert_false(log_enabled(LOG_LEVEL_DEBUG));
    assert_false(log_enabled(LOG_LEVEL_INFO));
    assert_true(log_enabled(LOG_LEVEL_WARN));
    assert_true(log_enabled(LOG_LEVEL_ERROR));

    static const enum log_level all[] = {LOG_LEVEL_DEBUG, LOG_LEVEL_INFO, LOG_LEVEL_WARN,
                                         LOG_LEVEL_ERROR};
    for (size_t i = 0; i < ARRAY_LEN(all); i++)
        log_write(all[i], NULL, "%s", log_level_name(all[i]));
    log_set_level(LOG_LEVEL_DEBUG);
    log_write(LOG_LEVEL_DEBUG, NULL, "debug now");
    log_close();
    assert_false(log_enabled(LOG_LEVEL_ERROR));
    log_write(LOG_LEVEL_ERROR, NULL, "after close");

    cJSON **lines;
    size_t n = read_lines(logpath, &lines);
    assert_int_equal(n, 3);
    assert_string_equal(cJSON_GetObjectItem(lines[0], "msg")->valuestring, "warn");
    assert_string_equal(cJSON_GetObjectItem(lines[1], "msg")->valuestring, "error");
    assert_string_equal(cJSON_GetObjectItem(lines[2], "msg")->valuestring, "debug now");
    assert_string_equal(cJSON_GetObjectItem(lines[2], "level")->valuestring, "debug");
    free_lines(lines, n);

    /* Reopening appends. */
    assert_int_equal(log_open(logpath, 0, 0, NULL), 0);
    log_write(LOG_LEVEL_INFO, NULL, "again");
    n = read_lines(logpath, &lines);
    assert_int_equal(n, 4);
    free_lines(lines, n);
}

static void test_nasty_messages(void **state)
{
    static const struct {
        const char *msg;
        const char *want;   /* as parsed back; NULL: the same as msg */
    } cases[] = {
        {"quotes \" and \\ backslash \\\"", NULL},
        {"two\nlines\r\nand\ttab", NULL},
        {"ctl \x01\x02\x1b[31m\x1f\x7f end", NULL},
        {"utf8 caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xe2\x80\xa8", NULL},
        {"bad \xff\xfe", "bad \xef\xbf\xbd\xef\xbf\xbd"},
        {"overlong \xc0\xaf", "overlong \xef\xbf\xbd\xef\xbf\xbd"},
        {"surrogate \xed\xa0\x80!", "surrogate \xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd!"},
        {"cut \xe2\x82", "cut \xef\xbf\xbd\xef\xbf\xbd"},
        {"too high \xf4\x90\x80\x80", "too high \xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"},
        {"{\"json\": [1, 2]}\n}", NULL},
        {"%s %d %n", NULL},
        {"", NULL},
    };
    assert_int_equal(log_open(logpath, 0, 0, NULL), 0);
    for (size_t i = 0; i < ARRAY_LEN(cases); i++)
        log_write(LOG_LEVEL_INFO, &(struct log_ctx){.server = cases[i].msg}, "%s", cases[i].msg);

    cJSON **lines;
    size_t n = read_lines(logpath, &lines);
    assert_int_equal(n, ARRAY_LEN(cases));
    for (size_t i = 0; i < n; i++) {
        const char *want = cases[i].want ? cases[i].want : cases[i].msg;
        assert_string_equal(cJSON_GetObjectItem(lines[i], "msg")->valuestring, want);
        assert_string_equal(cJSON_GetObjectItem(lines[i], "server")->valuestring, want);
    }
    free_lines(lines, n);
}

static void test_long_message(void **state)
{
    assert_int_equal(log_open(logpath, 0, 0, NULL), 0);
    size_t big = LOG_MSG_MAX + 5000;
    char *msg = xmalloc(big + 1);
    memset(msg, 'a', big);
    msg[big] = '\0';
    log_write(LOG_LEVEL_INFO, NULL, "%s", msg);
    free(msg);
    cJSON **lines;
    size_t n = read_lines(logpath, &lines);
    assert_int_equal(n, 1);
    const char *got = cJSON_GetObjectItem(lines[0], "msg")->valuestring;
    assert_int_equal(strlen(got), LOG_MSG_MAX + strlen("...[truncated]"));
    assert_string_equal(got + LOG_MSG_MAX, "...[truncated]");
    free_lines(lines, n);
}

/* === Rotation === */

/* Collect the "seq" field of every line in the current file and its
 * rotations .1...keep+1 (oldest first) into seqs; returns the count. */
static size_t collect_seqs(int keep, int64_t *seqs, size_t max)
{
    size_t count = 0;
    for (int i = keep + 1; i >= 0; i--) {
        char *p = i ? rotated(i) : xstrdup(logpath);
        cJSON **lines;
        size_t n = read_lines(p, &lines);
        for (size_t k = 0; k < n; k++) {
            assert_true(count < max);
            seqs[count++] = (int64_t)cJSON_GetObjectItem(lines[k], "seq")->valuedouble;
        }
        free_lines(lines, n);
        free(p);
    }
    return count;
}

static void test_rotation(void **state)
{
    const size_t max = 2000;
    const int keep = 3, total = 200;
    assert_int_equal(log_open(logpath, max, keep, NULL), 0);
    for (int i = 0; i < total; i++) {
        struct log_kv kv[] = {LOG_INT("seq", i)};
        log_write_kv(LOG_LEVEL_INFO, &(struct log_ctx){.job = i + 1}, kv, 1,
                     "line %d of the rotation test, padded to a fair length", i);
    }
    for (int i = 1; i <= keep; i++) {
        char *p = rotated(i);
        assert_true(exists(p));
        assert_true(file_size(p) > 0 && file_size(p) <= (off_t)max);
        free(p);
    }
    char *dropped = rotated(keep + 1);
    assert_false(exists(dropped));
    free(dropped);
    assert_true(file_size(logpath) <= (off_t)max);

    /* The newest lines, in order, none missing or repeated, none split
     * (read_lines parses every line); the oldest were dropped. */
    int64_t seqs[256];
    size_t n = collect_seqs(keep, seqs, ARRAY_LEN(seqs));
    assert_true(n > 0 && n < (size_t)total);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(seqs[i], total - (int64_t)n + (int64_t)i);
}

static void test_rotation_long_line(void **state)
{
    assert_int_equal(log_open(logpath, 500, 2, NULL), 0);
    log_write(LOG_LEVEL_INFO, NULL, "short one");
    char *msg = xmalloc(2001);
    memset(msg, 'x', 2000);
    msg[2000] = '\0';
    log_write(LOG_LEVEL_INFO, NULL, "%s", msg);
    log_write(LOG_LEVEL_INFO, NULL, "after");
    free(msg);

    cJSON **lines;
    char *p1 = rotated(1), *p2 = rotated(2);
    size_t n = read_lines(p2, &lines);
    assert_int_equal(n, 1);
    assert_string_equal(cJSON_GetObjectItem(lines[0], "msg")->valuestring, "short one");
    free_lines(lines, n);
    n = read_lines(p1, &lines);
    assert_int_equal(n, 1);
    assert_int_equal(strlen(cJSON_GetObjectItem(lines[0], "msg")->valuestring), 2000);
    free_lines(lines, n);
    n = read_lines(logpath, &lines);
    assert_int_equal(n, 1);
    assert_string_equal(cJSON_GetObjectItem(lines[0], "msg")->valuestring, "after");
    free_lines(lines, n);
    free(p1);
    free(p2);
}

/* Another process sharing the file rotated it: we follow the path to the
 * new file instead of rotating a second time (which would push that
 * process's fresh file to .1 and ours to .2). */
static void test_rotated_by_someone_else(void **state)
{
    assert_int_equal(log_open(logpath, 1000, 5, NULL), 0);
    int before = 0;
    while (file_size(logpath) < 800)
        log_write(LOG_LEVEL_INFO, NULL, "before %d", before++);
    char *p1 = rotated(1), *p2 = rotated(2);
    assert_int_equal(rename(logpath, p1), 0);
    FILE *fp = fopen(logpath, "w");
    assert_non_null(fp);
    fputs("{\"msg\":\"from the other process\"}\n", fp);
    fclose(fp);
    for (int i = 0; i < 3; i++)
        log_write(LOG_LEVEL_INFO, NULL, "after %d", i);

    assert_false(exists(p2));
    cJSON **lines;
    size_t n = read_lines(p1, &lines);
    assert_int_equal(n, (size_t)before);
    free_lines(lines, n);
    n = read_lines(logpath, &lines);
    assert_int_equal(n, 4);
    assert_string_equal(cJSON_GetObjectItem(lines[0], "msg")->valuestring,
                        "from the other process");
    assert_string_equal(cJSON_GetObjectItem(lines[3], "msg")->valuestring, "after 2");
    free_lines(lines, n);
    free(p1);
    free(p2);
}

#define THREADS 4
#define PER_THREAD 400

static void *writer(void *arg)
{
    intptr_t t = (intptr_t)arg;
    for (int i = 0; i < PER_THREAD; i++) {
        struct log_kv kv[] = {LOG_INT("thread", t), LOG_INT("seq", i)};
        log_write_kv(LOG_LEVEL_INFO, &(struct log_ctx){.job = t + 1}, kv, 2,
                     "thread %ld line %d", (long)t, i);
    }
    return NULL;
}

static void test_threads_with_rotation(void **state)
{
    const int keep = 200;
    assert_int_equal(log_open(logpath, 8192, keep, NULL), 0);
    pthread_t th[THREADS];
    for (intptr_t t = 0; t < THREADS; t++)
        assert_int_equal(pthread_create(&th[t], NULL, writer, (void *)t), 0);
    for (int t = 0; t < THREADS; t++)
        pthread_join(th[t], NULL);

    /* Every line of every thread, once, in each thread's order. */
    int next[THREADS] = {0};
    size_t total = 0;
    for (int i = keep + 1; i >= 0; i--) {
        char *p = i ? rotated(i) : xstrdup(logpath);
        cJSON **lines;
        size_t n = read_lines(p, &lines);
        if (i)
            assert_true(n == 0 || file_size(p) <= 8192);
        for (size_t k = 0; k < n; k++) {
            int t = cJSON_GetObjectItem(lines[k], "thread")->valueint;
            int seq = cJSON_GetObjectItem(lines[k], "seq")->valueint;
            assert_true(t >= 0 && t < THREADS);
            assert_int_equal(seq, next[t]);
            next[t]++;
        }
        total += n;
        free_lines(lines, n);
        free(p);
    }
    assert_int_equal(total, THREADS * PER_THREAD);
    char *p = rotated(2);
    assert_true(exists(p));              /* it did rotate */
    free(p);
}

/* === Redaction and sinks === */

static void test_secret_never_written(void **state)
{
    const char *secret = "planted-secret-0123456789";
    assert_int_equal(redact_add(secret), 1);
    assert_int_equal(log_open(logpath, 0, 0, NULL), 0);
    log_write(LOG_LEVEL_INFO, NULL, "token is %s, again %s", secret, secret);
    log_write(LOG_LEVEL_ERROR, NULL, "GET https://h/x?api_key=%s failed", secret);
    log_write(LOG_LEVEL_ERROR, NULL, "headers: Authorization: Bearer other-token-987");
    struct log_kv kv[] = {LOG_STR("url", "https://u:p4ssw0rd@h/"), LOG_STR("out", secret)};
    log_write_kv(LOG_LEVEL_WARN, NULL, kv, ARRAY_LEN(kv), "extras");
    /* Split over a formatting boundary, the secret is still whole in the
     * message. */
    log_write(LOG_LEVEL_INFO, NULL, "%.10s%s", secret, secret + 10);

    char *text;
    size_t len;
    assert_int_equal(util_read_file(logpath, &text, &len), 0);
    assert_null(strstr(text, secret));
    assert_null(strstr(text, "other-token-987"));
    assert_null(strstr(text, "p4ssw0rd"));
    free(text);

    cJSON **lines;
    size_t n = read_lines(logpath, &lines);
    assert_int_equal(n, 5);
    assert_string_equal(cJSON_GetObjectItem(lines[0], "msg")->valuestring,
                        "token is [REDACTED], again [REDACTED]");
    assert_string_equal(cJSON_GetObjectItem(lines[3], "url")->valuestring,
                        "https://u:[REDACTED]@h/");
    assert_string_equal(cJSON_GetObjectItem(lines[3], "out")->valuestring, REDACT_MARK);
    assert_string_equal(cJSON_GetObjectItem(lines[4], "msg")->valuestring, REDACT_MARK);
    free_lines(lines, n);
}

static void test_stream(void **state)
{
    FILE *fp = tmpfile();
    assert_non_null(fp);
    log_open_stream(fp);
    assert_true(log_enabled(LOG_LEVEL_INFO));
    log_write(LOG_LEVEL_INFO, &(struct log_ctx){.req = 3}, "to a stream");
    log_close();
    log_write(LOG_LEVEL_INFO, NULL, "dropped");
    rewind(fp);
    char line[1024];
    assert_non_null(fgets(line, sizeof line, fp));
    cJSON *j = cJSON_Parse(line);
    assert_non_null(j);
    assert_string_equal(cJSON_GetObjectItem(j, "msg")->valuestring, "to a stream");
    assert_int_equal(cJSON_GetObjectItem(j, "req")->valueint, 3);
    cJSON_Delete(j);
    assert_null(fgets(line, sizeof line, fp));
    fclose(fp);
}

static void test_open_errors(void **state)
{
    char *file = xasprintf("%s/plainfile", tmpdir);
    FILE *fp = fopen(file, "w");
    assert_non_null(fp);
    fclose(fp);
    char *bad = xasprintf("%s/logs/x.log", file);
    char *err = NULL;
    assert_int_equal(log_open(bad, 0, 0, &err), -1);
    assert_non_null(err);
    assert_non_null(strstr(err, file));
    assert_false(log_enabled(LOG_LEVEL_ERROR));
    free(err);
    err = NULL;
    /* The path is a directory. */
    assert_int_equal(log_open(tmpdir, 0, 0, &err), -1);
    assert_non_null(strstr(err, "cannot open log file"));
    free(err);
    free(bad);
    free(file);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_level_parse),
        cmocka_unit_test_setup_teardown(test_fields, setup, teardown),
        cmocka_unit_test_setup_teardown(test_threshold, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nasty_messages, setup, teardown),
        cmocka_unit_test_setup_teardown(test_long_message, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rotation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rotation_long_line, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rotated_by_someone_else, setup, teardown),
        cmocka_unit_test_setup_teardown(test_threads_with_rotation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_secret_never_written, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stream, setup, teardown),
        cmocka_unit_test_setup_teardown(test_open_errors, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
