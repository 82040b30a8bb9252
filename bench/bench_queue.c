/* bench_queue.c — durable job lifecycles per second through jobq.h, for
 * bench/run.sh to set beside BullMQ on Redis (bench/bullmq.mjs).
 *
 *   bench_queue [-n JOBS] [-w WARMUP] [-g GROUP] DIR
 *
 * A lifecycle is submit -> claim -> complete (with a small result), in a
 * SQLite file in DIR (WAL, synchronous=NORMAL, as db_open sets). Like the
 * BullMQ side, the producer first submits every job (a backlog), then the
 * consumer claims and completes them all. Two modes, each on a fresh
 * database after WARMUP lifecycles that are not timed:
 *   autocommit  every submit, claim and complete is its own transaction
 *   grouped     the operations on each group of GROUP jobs are wrapped in
 *               one db_begin/db_commit (GROUP submits; GROUP claims and
 *               completes)
 * Prints one JSON line per mode. Exit 1 when any operation fails or the
 * store does not end with exactly the jobs that succeeded. */
#include "db.h"
#include "jobq.h"
#include "mcp_client.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct run {
    struct db *db;
    struct jobq *q;
    int group;              /* 0: autocommit */
};

static int tx_begin(struct run *r, int i)
{
    return r->group && i % r->group == 0 ? db_begin(r->db) : 0;
}

static int tx_end(struct run *r, int i, int n)
{
    return r->group && ((i + 1) % r->group == 0 || i + 1 == n) ? db_commit(r->db) : 0;
}

/* Submit n jobs numbered from base. */
static int submit_all(struct run *r, int base, int n)
{
    for (int i = 0; i < n; i++) {
        char args[64];
        snprintf(args, sizeof args, "{\"message\":\"job-%d\"}", base + i);
        struct jobq_spec spec = {.server = "everything", .tool = "echo", .args_json = args};
        int64_t id;
        char *err = NULL;
        if (tx_begin(r, i) < 0 ||
            jobq_submit(r->q, &spec, &id, &err) < 0 || tx_end(r, i, n) < 0) {
            fprintf(stderr, "bench_queue: submit %d: %s\n", base + i, err ? err : "failed");
            free(err);
            return -1;
        }
    }
    return 0;
}

/* Claim and complete n jobs. */
static int drain(struct run *r, int n)
{
    for (int i = 0; i < n; i++) {
        struct job j;
        if (tx_begin(r, i) < 0)
            return -1;
        int rc = jobq_claim(r->q, &j);
        if (rc != 1) {
            fprintf(stderr, "bench_queue: claim %d: %s\n", i,
                    rc == 0 ? "nothing ready" : sqlite3_errmsg(db_handle(r->db)));
            return -1;
        }
        const char *msg = strstr(j.args_json, "job-");
        char result[128];
        int len = snprintf(result, sizeof result,
                           "{\"content\":[{\"type\":\"text\",\"text\":\"Echo: %.*s\"}]}",
                           msg ? (int)strcspn(msg, "\"") : 0, msg ? msg : "");
        rc = jobq_complete(r->q, j.id, result, (size_t)len, MCP_RESULT_MIME, 0);
        job_fini(&j);
        if (rc < 0 || tx_end(r, i, n) < 0) {
            fprintf(stderr, "bench_queue: complete %d: %s\n", i,
                    sqlite3_errmsg(db_handle(r->db)));
            return -1;
        }
    }
    return 0;
}

static int run_mode(const char *dir, const char *name, int group, int warmup, int n)
{
    char *path = xasprintf("%s/queue-%s.db", dir, name);
    char *wal = xasprintf("%s-wal", path), *shm = xasprintf("%s-shm", path);
    unlink(path);
    unlink(wal);
    unlink(shm);
    struct run r = {NULL, NULL, group};
    char *err = NULL;
    int rc = -1;
    if (db_open(path, &r.db, &err) < 0) {
        fprintf(stderr, "bench_queue: %s\n", err);
        goto out;
    }
    if (jobq_open(r.db, 0, 0, &r.q) < 0) {
        fprintf(stderr, "bench_queue: cannot open the queue in %s\n", path);
        goto out;
    }
    if (submit_all(&r, -warmup, warmup) < 0 || drain(&r, warmup) < 0)
        goto out;
    int64_t t0 = util_now_us();
    if (submit_all(&r, 0, n) < 0)
        goto out;
    int64_t t1 = util_now_us();
    if (drain(&r, n) < 0)
        goto out;
    int64_t t2 = util_now_us();
    struct jobq_counts c;
    if (jobq_counts(r.q, &c) < 0 || c.n[JOB_SUCCEEDED] != n + warmup ||
        c.n[JOB_QUEUED] != 0 || c.n[JOB_RUNNING] != 0) {
        fprintf(stderr, "bench_queue: %s: the store does not hold %d succeeded jobs\n", name,
                n + warmup);
        goto out;
    }
    double s_sub = (t1 - t0) / 1e6, s_drain = (t2 - t1) / 1e6;
    printf("{\"mode\":\"%s\",\"group\":%d,\"jobs\":%d,\"submit_s\":%.6f,\"drain_s\":%.6f,"
           "\"submit_per_s\":%.1f,\"drain_per_s\":%.1f,\"lifecycles_per_s\":%.1f}\n",
           name, group, n, s_sub, s_drain, n / s_sub, n / s_drain, n / (s_sub + s_drain));
    fflush(stdout);
    rc = 0;
out:
    free(err);
    jobq_close(r.q);
    db_close(r.db);
    unlink(path);
    unlink(wal);
    unlink(shm);
    free(path);
    free(wal);
    free(shm);
    return rc;
}

int main(int argc, char **argv)
{
    int n = 20000, warmup = 1000, group = 100, i;
    for (i = 1; i + 1 < argc; i++) {
        if (strcmp(argv[i], "-n") == 0)
            n = atoi(argv[++i]);
        else if (strcmp(argv[i], "-w") == 0)
            warmup = atoi(argv[++i]);
        else if (strcmp(argv[i], "-g") == 0)
            group = atoi(argv[++i]);
        else
            break;
    }
    if (i + 1 != argc || n < 1 || warmup < 0 || group < 1) {
        fprintf(stderr, "usage: bench_queue [-n JOBS] [-w WARMUP] [-g GROUP] DIR\n");
        return 2;
    }
    if (run_mode(argv[i], "autocommit", 0, warmup, n) < 0 ||
        run_mode(argv[i], "grouped", group, warmup, n) < 0)
        return 1;
    return 0;
}
