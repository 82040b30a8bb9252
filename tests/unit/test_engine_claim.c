/* test_engine_claim.c — the engine skips claiming while nothing can have
 * made a job claimable (engine_jobs.c, "the claim gate"), and still runs
 * every job: one submitted through the engine, one written by another
 * connection (another process, as `mcpdeck jobs retry` beside the TUI)
 * after the engine went idle, and a delayed one when it falls due. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "engine.h"
#include "engine_fixture.h"
#include "jobq.h"
#include "loop.h"
#include "util.h"

#define WAIT_MS 20000

struct outside {
    struct db *db;
    struct jobq *q;
};

/* Another connection to the engine's database. */
static void outside_open(struct engine *e, struct outside *o)
{
    char *err = NULL;
    if (db_open(engine_db_path(e), &o->db, &err) < 0)
        fail_msg("db_open: %s", err);
    assert_int_equal(jobq_open(o->db, 30000, 1, &o->q), 0);
}

static void outside_close(struct outside *o)
{
    jobq_close(o->q);
    db_close(o->db);
}

static enum job_status status_of(struct jobq *q, int64_t id)
{
    struct job j;
    assert_int_equal(jobq_get(q, id, &j), 0);
    enum job_status st = j.status;
    job_fini(&j);
    return st;
}

/* Turn the engine's loop until job id (read through o) has finished. */
static enum job_status run_until_done(struct engine *e, struct outside *o, int64_t id)
{
    int64_t until = util_now_ms() + WAIT_MS;
    enum job_status st = status_of(o->q, id);
    while ((st == JOB_QUEUED || st == JOB_RUNNING) && util_now_ms() < until) {
        loop_run_once(engine_loop(e), 20);
        st = status_of(o->q, id);
    }
    return st;
}

static void idle_turns(struct engine *e, int n)
{
    for (int i = 0; i < n; i++)
        loop_run_once(engine_loop(e), 5);
}

struct outside_submit {
    struct outside *o;
    const struct jobq_spec *spec;
    int64_t id;
    int rc;
    char *err;
    atomic_int done;
};

static void *submit_thread(void *arg)
{
    struct outside_submit *s = arg;
    s->rc = jobq_submit(s->o->q, s->spec, &s->id, &s->err);
    atomic_store(&s->done, 1);
    return NULL;
}

/* Submit through the other connection from another thread while the
 * engine's loop keeps turning, as another process would: the engine
 * commits what a turn wrote before it next sleeps, and the other writer
 * waits for that (a submit made between two turns on the loop's own
 * thread would wait for a commit that cannot come). */
static int64_t submit_outside(struct engine *e, struct outside *o, const struct jobq_spec *spec)
{
    struct outside_submit s = {o, spec, 0, -1, NULL, 0};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, submit_thread, &s), 0);
    int64_t end = util_now_ms() + WAIT_MS;
    while (!atomic_load(&s.done) && util_now_ms() < end)
        loop_run_once(engine_loop(e), 5);
    assert_int_equal(pthread_join(th, NULL), 0);
    if (s.rc != 0)
        fail_msg("jobq_submit from another connection: %s", s.err ? s.err : "?");
    return s.id;
}

static const struct jobq_spec file_info = {.server = "fs", .tool = "get_file_info",
                                           .args_json = "{\"path\":\".\"}"};

static void test_claims_everything(void **state)
{
    (void)state;
    char dir[64];
    struct engine *e = fixture_engine(dir, sizeof dir, "mcpdeck-claim", NULL, 1);
    engine_set_scheduling(e, 1);
    struct outside o;
    outside_open(e, &o);
    idle_turns(e, 5);            /* nothing queued: the gate closes */

    /* through the engine */
    int64_t a = 0;
    char *err = NULL;
    assert_int_equal(engine_submit(e, &file_info, &a, &err), 0);
    assert_int_equal(run_until_done(e, &o, a), JOB_SUCCEEDED);
    idle_turns(e, 5);

    /* by another connection, while the engine is idle */
    int64_t b = submit_outside(e, &o, &file_info);
    assert_int_equal(run_until_done(e, &o, b), JOB_SUCCEEDED);
    idle_turns(e, 5);

    /* delayed: not before its time, then run by the wake timer */
    struct jobq_spec later = file_info;
    later.run_at_ms = util_wall_ms() + 300;
    int64_t c = 0;
    assert_int_equal(engine_submit(e, &later, &c, &err), 0);
    idle_turns(e, 3);
    if (util_wall_ms() < later.run_at_ms)
        assert_int_equal(status_of(o.q, c), JOB_QUEUED);
    assert_int_equal(run_until_done(e, &o, c), JOB_SUCCEEDED);

    outside_close(&o);
    fixture_engine_free(e, dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_claims_everything),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
