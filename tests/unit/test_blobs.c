/* test_blobs.c — the content-addressed blob store on its own (names,
 * round trip, dedup written once, corrupt and missing blobs, no temporary
 * files left by a write that fails half-way) and through the job queue
 * (large results become blobs beside the database, read back verified by
 * jobq_result, dedup across jobs, corruption detected, the inline limit,
 * falling back to inline when the store cannot be written), with and
 * without a caller's transaction. */
#include "jobq_fixture.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <sys/resource.h>

#include "blobs.h"

#define ABC_SHA "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"

/* Regular files under dir/xx/ (the blob layout); *tmp gets how many of
 * them are temporary (".tmp-"). */
static int count_blob_files(const char *dir, int *tmp)
{
    int n = 0;
    *tmp = 0;
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char *sub = xasprintf("%s/%s", dir, e->d_name);
        DIR *s = opendir(sub);
        struct dirent *x;
        while (s && (x = readdir(s))) {
            if (strcmp(x->d_name, ".") == 0 || strcmp(x->d_name, "..") == 0)
                continue;
            if (strncmp(x->d_name, ".tmp-", 5) == 0)
                (*tmp)++;
            else
                n++;
        }
        if (s)
            closedir(s);
        free(sub);
    }
    closedir(d);
    return n;
}

static char *big_text(size_t n, char fill)
{
    char *s = xmalloc(n + 1);
    for (size_t i = 0; i < n; i++)
        s[i] = (char)(i % 61 == 60 ? '\n' : fill + (char)(i % 7));
    s[n] = '\0';
    return s;
}

static void write_file(const char *path, const char *text)
{
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs(text, fp);
    fclose(fp);
}

/* === The store on its own === */

static void test_names(void **state)
{
    char hex[BLOBS_HEX_LEN + 1];
    assert_int_equal(blobs_sha256_hex("abc", 3, hex), 0);
    assert_string_equal(hex, ABC_SHA);
    assert_int_equal(blobs_sha256_hex(NULL, 0, hex), 0);
    assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    char *p = blobs_path("/d/blobs", ABC_SHA);
    assert_string_equal(p, "/d/blobs/ba/7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f"
                           "20015ad");
    free(p);
    assert_null(blobs_path("/d", "BA7816BF8F01CFEA414140DE5DAE2223"
                                 "B00361A396177A9CB410FF61F20015AD"));   /* upper case */
    assert_null(blobs_path("/d", "ba78"));
    assert_null(blobs_path("/d", "../../etc/passwd"));
    assert_null(blobs_path("/d", NULL));
    assert_null(blobs_path(NULL, ABC_SHA));
}

static void test_put_get_dedup(void **state)
{
    struct fix *f = *state;
    char *dir = xasprintf("%s/store", f->dir);
    char hex[BLOBS_HEX_LEN + 1], hex2[BLOBS_HEX_LEN + 1];
    char *err = NULL;
    assert_int_equal(blobs_put(dir, "abc", 3, hex, &err), 0);
    assert_null(err);
    assert_string_equal(hex, ABC_SHA);
    char *path = blobs_path(dir, hex);
    struct stat a, b;
    assert_int_equal(stat(path, &a), 0);
    assert_int_equal(a.st_size, 3);
    assert_int_equal(a.st_mode & 0777, 0600);

    char *data = NULL;
    size_t len = 0;
    assert_int_equal(blobs_get(dir, hex, &data, &len, &err), 0);
    assert_int_equal(len, 3);
    assert_string_equal(data, "abc");
    free(data);

    /* Same content: the file is not written again (same inode, same
     * mtime even after a pause). */
    usleep(20000);
    assert_int_equal(blobs_put(dir, "abc", 3, hex2, &err), 0);
    assert_string_equal(hex2, hex);
    assert_int_equal(stat(path, &b), 0);
    assert_int_equal(a.st_ino, b.st_ino);
    assert_int_equal(a.st_mtim.tv_nsec, b.st_mtim.tv_nsec);
    int tmp = -1;
    assert_int_equal(count_blob_files(dir, &tmp), 1);
    assert_int_equal(tmp, 0);

    /* Different content, another file. */
    assert_int_equal(blobs_put(dir, "abd", 3, hex2, &err), 0);
    assert_string_not_equal(hex2, hex);
    assert_int_equal(count_blob_files(dir, &tmp), 2);

    /* A damaged file under the right name is replaced by a put. */
    write_file(path, "xyz");
    assert_int_equal(blobs_put(dir, "abc", 3, hex2, &err), 0);
    assert_int_equal(blobs_get(dir, hex, &data, &len, &err), 0);
    assert_string_equal(data, "abc");
    free(data);
    free(path);
    free(dir);
}

static void test_get_errors(void **state)
{
    struct fix *f = *state;
    char *dir = xasprintf("%s/store", f->dir);
    char hex[BLOBS_HEX_LEN + 1];
    char *err = NULL, *data = (char *)"sentinel";
    size_t len = 99;
    assert_int_equal(blobs_get(dir, ABC_SHA, &data, &len, &err), -1);
    assert_non_null(strstr(err, "cannot read blob " ABC_SHA));
    assert_non_null(strstr(err, "No such file"));
    assert_null(data);
    assert_int_equal(len, 0);
    free(err);
    err = NULL;

    assert_int_equal(blobs_put(dir, "abc", 3, hex, &err), 0);
    char *path = blobs_path(dir, hex);
    write_file(path, "abd");
    assert_int_equal(blobs_get(dir, hex, &data, &len, &err), BLOBS_CORRUPT);
    assert_non_null(strstr(err, "blob " ABC_SHA " is corrupt: hash mismatch"));
    assert_null(data);
    free(err);
    err = NULL;
    assert_int_equal(blobs_get(dir, "nothex", &data, &len, &err), -1);
    assert_non_null(strstr(err, "is not a blob name"));
    free(err);
    err = NULL;

    /* The store cannot be created: a file stands where a directory goes. */
    char *blocked = xasprintf("%s/blocked", f->dir);
    write_file(blocked, "in the way");
    assert_int_equal(blobs_put(blocked, "abc", 3, hex, &err), -1);
    assert_non_null(strstr(err, "cannot store blob " ABC_SHA ": mkdir "));
    assert_non_null(strstr(err, "/blocked/ba: Not a directory"));
    free(err);
    err = NULL;
    assert_int_equal(blobs_put(NULL, "abc", 3, hex, &err), -1);
    free(err);
    free(blocked);
    free(path);
    free(dir);
}

/* A write that fails half-way (file size limit: EFBIG) leaves neither the
 * blob nor its temporary file. */
static void test_failed_write_leaves_nothing(void **state)
{
    struct fix *f = *state;
    char *dir = xasprintf("%s/store", f->dir);
    size_t n = 256 * 1024;
    char *data = big_text(n, 'a');
    struct rlimit old, lim;
    assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
    lim = old;
    lim.rlim_cur = 4096;
    void (*prev)(int) = signal(SIGXFSZ, SIG_IGN);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
    char hex[BLOBS_HEX_LEN + 1];
    char *err = NULL;
    int rc = blobs_put(dir, data, n, hex, &err);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
    signal(SIGXFSZ, prev);
    assert_int_equal(rc, -1);
    assert_non_null(strstr(err, ": write "));
    assert_non_null(strstr(err, "/.tmp-"));
    assert_non_null(strstr(err, "File too large"));
    free(err);
    int tmp = -1;
    assert_int_equal(count_blob_files(dir, &tmp), 0);
    assert_int_equal(tmp, 0);

    /* And the same write with room succeeds, again with no leftovers. */
    err = NULL;
    assert_int_equal(blobs_put(dir, data, n, hex, &err), 0);
    assert_int_equal(count_blob_files(dir, &tmp), 1);
    assert_int_equal(tmp, 0);
    free(data);
    free(dir);
}

/* === Through the job queue === */

static int64_t finish_with(struct fix *f, const char *result, size_t len)
{
    int64_t id = submit(f, NULL, NULL, 0);
    assert_int_equal(claim_id(f), id);
    assert_int_equal(jobq_complete(f->q, id, result, len, "application/json", 0), 0);
    return id;
}

static void test_large_result_is_a_blob(void **state)
{
    struct fix *f = *state;
    char *want_dir = xasprintf("%s/blobs", f->dir);
    assert_string_equal(jobq_blob_dir(f->q), want_dir);   /* beside the database */
    size_t n = 100 * 1024;
    char *big = big_text(n, 'A');
    int64_t id = finish_with(f, big, n);
    int64_t small = finish_with(f, "tiny", 4);
    turn(f);

    char hex[BLOBS_HEX_LEN + 1];
    blobs_sha256_hex(big, n, hex);
    assert_sql_text(f, "blob", "SELECT kind FROM results WHERE job_id = 1");
    assert_sql_text(f, hex, "SELECT sha256 FROM results WHERE job_id = 1");
    assert_int_equal(sql_int(f, "SELECT size FROM results WHERE job_id = 1"), n);
    assert_int_equal(sql_int(f, "SELECT body IS NULL FROM results WHERE job_id = 1"), 1);
    assert_sql_text(f, "inline", "SELECT kind FROM results WHERE job_id = 2");
    char *path = blobs_path(want_dir, hex);
    struct stat sb;
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(sb.st_size, n);

    /* jobq_get does not read the blob. */
    struct job j;
    assert_int_equal(jobq_get(f->q, id, &j), 0);
    assert_int_equal(j.has_result, 1);
    assert_int_equal(j.result_blob, 1);
    assert_null(j.result);
    assert_int_equal(j.result_len, 0);
    assert_int_equal(j.result_size, n);
    assert_string_equal(j.result_sha256, hex);
    assert_string_equal(j.result_mime, "application/json");
    job_fini(&j);
    assert_int_equal(jobq_get(f->q, small, &j), 0);
    assert_int_equal(j.result_blob, 0);
    assert_string_equal(j.result, "tiny");
    assert_int_equal(j.result_size, 4);
    job_fini(&j);

    char *body = NULL, *err = NULL;
    size_t len = 0;
    assert_int_equal(jobq_result(f->q, id, &body, &len, &err), 0);
    assert_int_equal(len, n);
    assert_memory_equal(body, big, n);
    assert_int_equal(body[n], '\0');
    free(body);
    assert_int_equal(jobq_result(f->q, small, &body, &len, &err), 0);
    assert_string_equal(body, "tiny");
    free(body);

    /* The final failure's output goes the same way. */
    int64_t failed = submit(f, NULL, NULL, 0);
    assert_int_equal(claim_id(f), failed);
    big[0] = '#';
    assert_int_equal(jobq_fail(f->q, failed, "tool error", 0, big, n, "text/plain", NULL), 0);
    assert_int_equal(jobq_result(f->q, failed, &body, &len, &err), 0);
    assert_memory_equal(body, big, n);
    free(body);
    assert_int_equal(sql_int(f, "SELECT COUNT(*) FROM results WHERE kind = 'blob'"), 2);
    free(path);
    free(big);
    free(want_dir);
}

static void test_dedup_across_jobs(void **state)
{
    struct fix *f = *state;
    size_t n = 70 * 1024;
    char *big = big_text(n, 'k');
    int64_t a = finish_with(f, big, n);
    turn(f);
    int64_t b = finish_with(f, big, n);
    int tmp = -1;
    assert_int_equal(count_blob_files(jobq_blob_dir(f->q), &tmp), 1);
    assert_int_equal(tmp, 0);
    assert_int_equal(sql_int(f, "SELECT COUNT(DISTINCT sha256) FROM results"), 1);
    char *body = NULL, *err = NULL;
    size_t len = 0;
    assert_int_equal(jobq_result(f->q, a, &body, &len, &err), 0);
    free(body);
    assert_int_equal(jobq_result(f->q, b, &body, &len, &err), 0);
    assert_memory_equal(body, big, n);
    free(body);
    free(big);
}

static void test_corrupt_and_missing_blobs(void **state)
{
    struct fix *f = *state;
    size_t n = 80 * 1024;
    char *big = big_text(n, 'c');
    int64_t id = finish_with(f, big, n);
    turn(f);
    char hex[BLOBS_HEX_LEN + 1];
    blobs_sha256_hex(big, n, hex);
    char *path = blobs_path(jobq_blob_dir(f->q), hex);

    big[100] ^= 1;   /* one bit flipped on disk */
    FILE *fp = fopen(path, "w");
    fwrite(big, 1, n, fp);
    fclose(fp);
    char *body = (char *)"x", *err = NULL;
    size_t len = 1;
    assert_int_equal(jobq_result(f->q, id, &body, &len, &err), -1);
    char *want = xasprintf("blob %s for job %lld is corrupt: hash mismatch", hex, (long long)id);
    assert_string_equal(err, want);
    assert_null(body);
    free(want);
    free(err);
    err = NULL;

    assert_int_equal(unlink(path), 0);
    assert_int_equal(jobq_result(f->q, id, &body, &len, &err), -1);
    assert_non_null(strstr(err, "is missing or unreadable"));
    free(err);
    err = NULL;

    /* An inline body changed behind the queue's back is caught too. */
    int64_t small = finish_with(f, "right", 5);
    assert_int_equal(db_exec(f->db, "UPDATE results SET body = 'wrong' WHERE kind = 'inline'",
                             NULL), 0);
    assert_int_equal(jobq_result(f->q, small, &body, &len, &err), -1);
    assert_non_null(strstr(err, "is corrupt: hash mismatch"));
    free(err);
    err = NULL;

    /* No result yet, no such job. */
    int64_t queued = submit(f, NULL, NULL, 0);
    assert_int_equal(jobq_result(f->q, queued, &body, &len, &err), 1);
    assert_null(err);
    assert_int_equal(jobq_result(f->q, 5555, &body, &len, &err), -1);
    assert_string_equal(err, "no job 5555");
    free(err);
    free(path);
    free(big);
}

static void test_inline_limit_and_fallback(void **state)
{
    struct fix *f = *state;
    char *dir = xasprintf("%s/elsewhere", f->dir);
    jobq_set_blob_store(f->q, dir, 10);
    assert_string_equal(jobq_blob_dir(f->q), dir);
    int64_t ten = finish_with(f, "0123456789", 10);
    int64_t eleven = finish_with(f, "0123456789!", 11);
    assert_int_equal(sql_int(f, "SELECT kind = 'inline' FROM results WHERE job_id = %lld",
                             (long long)ten), 1);
    assert_int_equal(sql_int(f, "SELECT kind = 'blob' FROM results WHERE job_id = %lld",
                             (long long)eleven), 1);
    int tmp;
    assert_int_equal(count_blob_files(dir, &tmp), 1);

    /* Limit back to the default, directory kept. */
    jobq_set_blob_store(f->q, NULL, 0);
    assert_string_equal(jobq_blob_dir(f->q), dir);
    int64_t mid = finish_with(f, "0123456789!", 11);
    assert_int_equal(sql_int(f, "SELECT kind = 'inline' FROM results WHERE job_id = %lld",
                             (long long)mid), 1);
    turn(f);

    /* The store cannot be written: the result is kept inline instead. */
    char *blocked = xasprintf("%s/blocked", f->dir);
    write_file(blocked, "a file, not a directory");
    jobq_set_blob_store(f->q, blocked, 4);
    int64_t kept = finish_with(f, "still stored", 12);
    assert_int_equal(sql_int(f, "SELECT kind = 'inline' FROM results WHERE job_id = %lld",
                             (long long)kept), 1);
    char *body = NULL, *err = NULL;
    size_t len = 0;
    assert_int_equal(jobq_result(f->q, kept, &body, &len, &err), 0);
    assert_string_equal(body, "still stored");
    free(body);
    free(blocked);
    free(dir);
}

/* An in-memory database has no directory: everything stays inline. */
static void test_memory_db_inline(void **state)
{
    struct db *db = NULL;
    struct jobq *q = NULL;
    char *err = NULL;
    assert_int_equal(db_open(":memory:", &db, &err), 0);
    assert_int_equal(jobq_open(db, 0, 0, &q), 0);
    assert_null(jobq_blob_dir(q));
    struct jobq_spec s = {.server = "fs", .tool = "x"};
    int64_t id;
    assert_int_equal(jobq_submit(q, &s, &id, &err), 0);
    struct job j;
    assert_int_equal(jobq_claim(q, &j), 1);
    job_fini(&j);
    size_t n = 200 * 1024;
    char *big = big_text(n, 'm');
    assert_int_equal(jobq_complete(q, id, big, n, NULL, 0), 0);
    assert_int_equal(jobq_get(q, id, &j), 0);
    assert_int_equal(j.result_blob, 0);
    assert_int_equal(j.result_len, n);
    job_fini(&j);
    free(big);
    jobq_close(q);
    db_close(db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names),
        T(test_put_get_dedup),
        T(test_get_errors),
        T(test_failed_write_leaves_nothing),
        T(test_large_result_is_a_blob),
        T(test_dedup_across_jobs),
        T(test_corrupt_and_missing_blobs),
        T(test_inline_limit_and_fallback),
        cmocka_unit_test(test_memory_db_inline),
        TX(test_large_result_is_a_blob),
        TX(test_dedup_across_jobs),
        TX(test_corrupt_and_missing_blobs),
        TX(test_inline_limit_and_fallback),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
