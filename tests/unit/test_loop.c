/* test_loop.c — the epoll loop: fd watchers (a watch moved between read
 * and write, a fd number reused after a close, a watch replaced or deleted
 * by an earlier callback of the same turn, more ready fds than one sleep
 * returns, regular files), timers in order, deletion from callbacks,
 * before-sleep hooks, cross-thread posts (bursts coalesce wakeups, none is
 * lost; posts on the loop thread need none), worker jobs and signals
 * through the self-pipe. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "loop.h"
#include "util.h"

struct rec {
    char order[64];
    int n;
    struct loop *l;
    uint64_t other;
};

static void tmark(struct loop *l, uint64_t id, void *payload)
{
    struct rec *r = payload;
    r->order[r->n++] = (char)('a' + (int)(id % 26));
}

static void test_timers_fire_in_order(void **state)
{
    struct loop *l = loop_new();
    struct rec r = {{0}, 0, l, 0};
    uint64_t t3 = loop_timer_add(l, 30, tmark, &r);
    uint64_t t1 = loop_timer_add(l, 10, tmark, &r);
    uint64_t t2 = loop_timer_add(l, 20, tmark, &r);
    int64_t end = util_now_ms() + 2000;
    while (r.n < 3 && util_now_ms() < end)
        loop_run_once(l, 100);
    assert_int_equal(r.n, 3);
    assert_int_equal(r.order[0], 'a' + (int)(t1 % 26));
    assert_int_equal(r.order[1], 'a' + (int)(t2 % 26));
    assert_int_equal(r.order[2], 'a' + (int)(t3 % 26));
    loop_free(l);
}

static void del_other(struct loop *l, uint64_t id, void *payload)
{
    struct rec *r = payload;
    loop_timer_del(l, r->other);
    r->n++;
}

static void test_timer_deleted_by_callback_never_fires(void **state)
{
    struct loop *l = loop_new();
    struct rec r = {{0}, 0, l, 0};
    loop_timer_add(l, 0, del_other, &r);
    r.other = loop_timer_add(l, 15, tmark, &r);  /* deleted before it is due */
    int64_t end = util_now_ms() + 60;
    while (util_now_ms() < end)
        loop_run_once(l, 10);
    assert_int_equal(r.n, 1);                     /* only del_other ran */
    loop_timer_del(l, 12345);                     /* unknown id: ignored */
    loop_free(l);
}

/* Timers wake a loop that sleeps with no timeout (they go through a
 * timerfd, not poll()'s timeout), also when the next timer moves earlier
 * than the timerfd is set for, and when the one it was set for is deleted
 * (a wakeup for nothing, then the next). No timer ever runs early. */
struct when {
    int64_t due[4];
    int64_t ran[4];
    int n;
};

static void mark_when(struct loop *l, uint64_t id, void *payload)
{
    struct when *w = payload;
    w->ran[w->n++] = util_now_ms();
}

/* Sleep with no timeout until w has n runs; a watchdog thread rescues a
 * loop that never wakes (and the test then fails). */
struct sleeper {
    struct loop *l;
    volatile int done, rescued;
};

static void sleeper_nop(void *arg)
{
    (void)arg;
}

static void *sleeper_watch(void *arg)
{
    struct sleeper *z = arg;
    for (int i = 0; i < 100 && !z->done; i++)
        usleep(50000);
    if (!z->done) {
        z->rescued = 1;
        loop_post(z->l, sleeper_nop, NULL);
    }
    return NULL;
}

static int sleep_until(struct loop *l, struct when *w, int n)
{
    struct sleeper z = {l, 0, 0};
    pthread_t th;
    pthread_create(&th, NULL, sleeper_watch, &z);
    while (w->n < n && !z.rescued)
        loop_run_once(l, -1);
    z.done = 1;
    pthread_join(th, NULL);
    return !z.rescued;
}

static void test_timers_wake_a_loop_with_no_timeout(void **state)
{
    struct loop *l = loop_new();
    struct when w = {{0}, {0}, 0};

    /* plain: one timer, a loop that would otherwise sleep forever */
    w.due[0] = util_now_ms() + 20;
    loop_timer_add(l, 20, mark_when, &w);
    assert_true(sleep_until(l, &w, 1));

    /* moved earlier: set for 300 ms, then a 20 ms timer replaces it */
    uint64_t far = loop_timer_add(l, 300, mark_when, &w);
    loop_run_once(l, 0);   /* the timerfd is now set for the far one */
    loop_timer_del(l, far);
    w.due[1] = util_now_ms() + 20;
    loop_timer_add(l, 20, mark_when, &w);
    assert_true(sleep_until(l, &w, 2));

    /* set for one since deleted: a wakeup for nothing, then the later one */
    uint64_t gone = loop_timer_add(l, 10, mark_when, &w);
    loop_run_once(l, 0);
    loop_timer_del(l, gone);
    w.due[2] = util_now_ms() + 40;
    loop_timer_add(l, 40, mark_when, &w);
    assert_true(sleep_until(l, &w, 3));

    assert_int_equal(w.n, 3);
    for (int i = 0; i < 3; i++)
        assert_true(w.ran[i] >= w.due[i]);
    loop_free(l);
}

struct fdrec {
    int reads;
    char got[32];
};

static void on_read(struct loop *l, int fd, int mask, void *payload)
{
    struct fdrec *f = payload;
    ssize_t n = read(fd, f->got, sizeof f->got - 1);
    if (n > 0)
        f->got[n] = '\0';
    f->reads++;
    if (n == 0)
        loop_fd_del(l, fd);
}

static void test_fd_watch_and_hup(void **state)
{
    struct loop *l = loop_new();
    int p[2];
    assert_int_equal(pipe(p), 0);
    struct fdrec f = {0, {0}};
    loop_fd_add(l, p[0], LOOP_READ, on_read, &f);
    loop_run_once(l, 20);
    assert_int_equal(f.reads, 0);               /* nothing to read: no call */
    assert_int_equal(write(p[1], "ping", 4), 4);
    loop_run_once(l, 1000);
    assert_int_equal(f.reads, 1);
    assert_string_equal(f.got, "ping");
    close(p[1]);                                /* EOF is reported as readable */
    loop_run_once(l, 1000);
    assert_int_equal(f.reads, 2);
    loop_run_once(l, 20);                       /* deleted: no more calls */
    assert_int_equal(f.reads, 2);
    close(p[0]);
    loop_free(l);
}

struct maskrec {
    int calls, last;
};

static void on_any(struct loop *l, int fd, int mask, void *payload)
{
    struct maskrec *m = payload;
    m->calls++;
    m->last = mask;
}

/* The kernel's interest set follows loop_fd_mask: a pipe's write end is
 * reported writable only while write is asked for, and never for read. */
static void test_fd_mask_moves_the_watch(void **state)
{
    struct loop *l = loop_new();
    int p[2];
    assert_int_equal(pipe(p), 0);
    struct maskrec m = {0, 0};
    loop_fd_add(l, p[1], LOOP_READ, on_any, &m);
    loop_run_once(l, 20);
    assert_int_equal(m.calls, 0);               /* never readable */
    loop_fd_mask(l, p[1], LOOP_WRITE);
    loop_run_once(l, 1000);
    assert_int_equal(m.calls, 1);
    assert_int_equal(m.last & LOOP_WRITE, LOOP_WRITE);
    loop_fd_mask(l, p[1], 0);                   /* nothing wanted: no calls */
    loop_run_once(l, 20);
    assert_int_equal(m.calls, 1);
    loop_fd_mask(l, p[1], LOOP_READ | LOOP_WRITE);
    loop_run_once(l, 1000);
    assert_int_equal(m.calls, 2);
    loop_fd_del(l, p[1]);
    loop_run_once(l, 20);
    assert_int_equal(m.calls, 2);
    close(p[0]);
    close(p[1]);
    loop_free(l);
}

/* A fd closed while still watched, its number then taken by a new pipe and
 * watched again the same way: the new pipe is the one watched. */
static void test_fd_number_reused_after_close(void **state)
{
    struct loop *l = loop_new();
    int p[2], q[2];
    assert_int_equal(pipe(p), 0);
    struct fdrec f = {0, {0}};
    loop_fd_add(l, p[0], LOOP_READ, on_read, &f);
    int num = p[0];
    close(p[0]);
    close(p[1]);
    assert_int_equal(pipe(q), 0);
    if (q[0] != num) {                          /* take the number back */
        assert_int_equal(dup2(q[0], num), num);
        close(q[0]);
        q[0] = num;
    }
    loop_fd_add(l, q[0], LOOP_READ, on_read, &f);
    assert_int_equal(write(q[1], "new", 3), 3);
    loop_run_once(l, 1000);
    assert_int_equal(f.reads, 1);
    assert_string_equal(f.got, "new");
    loop_fd_del(l, q[0]);
    close(q[0]);
    close(q[1]);
    loop_free(l);
}

struct pair {
    int fd[2];
    int calls[2];
    int replace;              /* 1: replace the other watch, 0: delete it */
};

static void on_pair(struct loop *l, int fd, int mask, void *payload)
{
    struct pair *pr = payload;
    int me = fd == pr->fd[1];
    char c;
    if (read(fd, &c, 1) < 0) {
        /* nothing: counted all the same */
    }
    pr->calls[me]++;
    int other = pr->fd[!me];
    if (pr->replace)
        loop_fd_add(l, other, LOOP_READ, on_pair, pr);
    else
        loop_fd_del(l, other);
}

/* Two fds ready in one turn: whichever runs first deletes (or replaces)
 * the other's watch, and the other is not called with the old watch. */
static void test_watch_changed_by_earlier_callback_is_skipped(void **state)
{
    for (int replace = 0; replace < 2; replace++) {
        struct loop *l = loop_new();
        int a[2], b[2];
        assert_int_equal(pipe(a), 0);
        assert_int_equal(pipe(b), 0);
        struct pair pr = {{a[0], b[0]}, {0, 0}, replace};
        loop_fd_add(l, a[0], LOOP_READ, on_pair, &pr);
        loop_fd_add(l, b[0], LOOP_READ, on_pair, &pr);
        assert_int_equal(write(a[1], "x", 1), 1);
        assert_int_equal(write(b[1], "y", 1), 1);
        loop_run_once(l, 1000);
        assert_int_equal(pr.calls[0] + pr.calls[1], 1);
        if (replace) {                          /* the new watch is live next turn */
            loop_run_once(l, 1000);
            assert_int_equal(pr.calls[0] + pr.calls[1], 2);
        }
        loop_fd_del(l, a[0]);
        loop_fd_del(l, b[0]);
        for (int i = 0; i < 2; i++) {
            close(a[i]);
            close(b[i]);
        }
        loop_free(l);
    }
}

static void count_and_drain(struct loop *l, int fd, int mask, void *payload)
{
    char c;
    if (read(fd, &c, 1) == 1)
        (*(int *)payload)++;
    loop_fd_del(l, fd);
}

/* More fds ready at once than one sleep returns (64): none is forgotten. */
static void test_many_ready_fds_all_served(void **state)
{
    enum { N = 150 };
    struct loop *l = loop_new();
    int p[N][2], served = 0;
    for (int i = 0; i < N; i++) {
        assert_int_equal(pipe(p[i]), 0);
        loop_fd_add(l, p[i][0], LOOP_READ, count_and_drain, &served);
        assert_int_equal(write(p[i][1], "z", 1), 1);
    }
    for (int turn = 0; turn < 10 && served < N; turn++)
        loop_run_once(l, 1000);
    assert_int_equal(served, N);
    for (int i = 0; i < N; i++) {
        close(p[i][0]);
        close(p[i][1]);
    }
    loop_free(l);
}

struct filerec {
    int calls;
    size_t bytes;
    int eof;
};

static void on_file(struct loop *l, int fd, int mask, void *payload)
{
    struct filerec *fr = payload;
    char buf[4];
    ssize_t n = read(fd, buf, sizeof buf);
    fr->calls++;
    if (n > 0) {
        fr->bytes += (size_t)n;
    } else {
        fr->eof = 1;
        loop_fd_del(l, fd);
    }
}

/* A regular file (which epoll refuses) is ready every turn, as poll() has
 * it: read to its end a few bytes a turn without the loop ever sleeping. */
static void test_regular_file_is_always_ready(void **state)
{
    char path[] = "/tmp/test_loop_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    unlink(path);
    assert_int_equal(write(fd, "0123456789", 10), 10);
    assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
    struct loop *l = loop_new();
    struct filerec fr = {0, 0, 0};
    loop_fd_add(l, fd, LOOP_READ, on_file, &fr);
    for (int turn = 0; turn < 10 && !fr.eof; turn++)
        loop_run_once(l, 100);
    assert_true(fr.eof);
    assert_int_equal(fr.bytes, 10);
    assert_int_equal(fr.calls, 4);              /* 4 + 4 + 2, then the end */
    int before = fr.calls;
    loop_run_once(l, 20);                       /* deleted: not called again */
    assert_int_equal(fr.calls, before);
    close(fd);
    loop_free(l);
}

static void count_timer(struct loop *l, uint64_t id, void *payload)
{
    (*(int *)payload)++;
}

/* A regular file watched for nothing (reading paused) does not keep the
 * loop from sleeping: one turn with no limit lasts until the timer. */
static void test_paused_regular_file_lets_the_loop_sleep(void **state)
{
    char path[] = "/tmp/test_loop_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    unlink(path);
    struct loop *l = loop_new();
    struct filerec fr = {0, 0, 0};
    loop_fd_add(l, fd, LOOP_READ, on_file, &fr);
    loop_fd_mask(l, fd, 0);
    int fired = 0;
    loop_timer_add(l, 30, count_timer, &fired);
    loop_run_once(l, -1);
    assert_int_equal(fired, 1);
    assert_int_equal(fr.calls, 0);
    loop_fd_mask(l, fd, LOOP_READ);             /* resumed: ready at once */
    loop_run_once(l, -1);
    assert_int_equal(fr.calls, 1);
    loop_fd_del(l, fd);
    close(fd);
    loop_free(l);
}

static void hook(struct loop *l, void *payload)
{
    (*(int *)payload)++;
}

static void test_hooks_run_every_turn(void **state)
{
    struct loop *l = loop_new();
    int n = 0;
    loop_hook_add(l, hook, &n);
    loop_run_once(l, 0);
    loop_run_once(l, 0);
    assert_int_equal(n, 2);
    loop_hook_del(l, hook, &n);
    loop_run_once(l, 0);
    assert_int_equal(n, 2);
    loop_free(l);
}

struct xthread {
    struct loop *l;
    int posted;
    pthread_t on;
};

static void posted(void *arg)
{
    struct xthread *x = arg;
    x->posted++;
    x->on = pthread_self();
}

static void *poster(void *arg)
{
    struct xthread *x = arg;
    usleep(20000);
    loop_post(x->l, posted, x);
    return NULL;
}

static void test_post_from_thread_wakes_loop(void **state)
{
    struct xthread x = {loop_new(), 0, 0};
    pthread_t th;
    pthread_create(&th, NULL, poster, &x);
    int64_t t0 = util_now_ms();
    while (!x.posted && util_now_ms() - t0 < 5000)
        loop_run_once(x.l, -1);   /* would sleep forever without the wakeup */
    pthread_join(th, NULL);
    assert_int_equal(x.posted, 1);
    assert_true(pthread_equal(x.on, pthread_self()));
    loop_free(x.l);
}

/* A burst of posts from another thread costs one wakeup, but none is lost:
 * the loop sleeps with no timeout between turns and must still see every
 * post. A watchdog rescues (and fails) a loop left asleep. */
struct burst {
    struct loop *l;
    int ran;                 /* loop thread only */
    volatile int finished;   /* the loop saw all of them */
    volatile int rescued;
};

static void burst_one(void *arg)
{
    ((struct burst *)arg)->ran++;
}

static void burst_nop(void *arg)
{
    (void)arg;
}

#define BURST 20000

static void *burst_poster(void *arg)
{
    struct burst *b = arg;
    for (int i = 0; i < BURST; i++) {
        loop_post(b->l, burst_one, b);
        if (i % 1000 == 0)
            usleep(100);   /* some posts land while the loop sleeps */
    }
    return NULL;
}

/* A lost wakeup can also swallow the rescue's: then the test process
 * says so and exits rather than hang. */
static void *watchdog(void *arg)
{
    struct burst *b = arg;
    for (int i = 0; i < 200 && !b->finished; i++)
        usleep(50000);
    if (b->finished)
        return NULL;
    b->rescued = 1;
    loop_post(b->l, burst_nop, b);
    for (int i = 0; i < 40 && !b->finished; i++)
        usleep(50000);
    if (!b->finished) {
        fprintf(stderr, "test_loop: the loop slept through posts (a lost wakeup)\n");
        _exit(1);
    }
    return NULL;
}

static void test_post_bursts_lose_no_wakeup(void **state)
{
    struct burst b = {loop_new(), 0, 0, 0};
    pthread_t th, wd;
    pthread_create(&wd, NULL, watchdog, &b);
    pthread_create(&th, NULL, burst_poster, &b);
    while (b.ran < BURST && !b.rescued)
        loop_run_once(b.l, -1);
    b.finished = 1;
    pthread_join(th, NULL);
    pthread_join(wd, NULL);
    assert_false(b.rescued);
    assert_int_equal(b.ran, BURST);
    loop_free(b.l);
}

/* A post made on the loop thread (from a callback, a timer or between
 * turns) needs no wakeup: the next turn runs it instead of sleeping. */
static void post_from_timer(struct loop *l, uint64_t id, void *payload)
{
    loop_post(l, burst_one, payload);
}

static void test_post_on_loop_thread_runs_without_sleeping(void **state)
{
    struct burst b = {loop_new(), 0, 0, 0};
    pthread_t wd;
    pthread_create(&wd, NULL, watchdog, &b);
    loop_post(b.l, burst_one, &b);   /* between turns */
    loop_run_once(b.l, -1);
    assert_int_equal(b.ran, 1);
    loop_timer_add(b.l, 0, post_from_timer, &b);   /* posted after this turn's posts ran */
    loop_run_once(b.l, -1);
    while (b.ran < 2 && !b.rescued)
        loop_run_once(b.l, -1);
    b.finished = 1;
    pthread_join(wd, NULL);
    assert_false(b.rescued);
    assert_int_equal(b.ran, 2);
    loop_free(b.l);
}

struct work {
    int sum;
    pthread_t ran_on;
    int done;
    pthread_t done_on;
};

static void work_fn(void *arg)
{
    struct work *w = arg;
    w->ran_on = pthread_self();
    for (int i = 1; i <= 100; i++)
        w->sum += i;
}

static void done_fn(void *arg)
{
    struct work *w = arg;
    w->done = 1;
    w->done_on = pthread_self();
}

static void test_worker_runs_off_loop_and_reports_back(void **state)
{
    struct loop *l = loop_new();
    struct work w[4];
    memset(w, 0, sizeof w);
    for (int i = 0; i < 4; i++)
        loop_work(l, work_fn, done_fn, &w[i]);
    int64_t t0 = util_now_ms();
    int all = 0;
    while (!all && util_now_ms() - t0 < 5000) {
        loop_run_once(l, 100);
        all = w[0].done && w[1].done && w[2].done && w[3].done;
    }
    assert_true(all);
    for (int i = 0; i < 4; i++) {
        assert_int_equal(w[i].sum, 5050);
        assert_false(pthread_equal(w[i].ran_on, pthread_self()));
        assert_true(pthread_equal(w[i].done_on, pthread_self()));
    }
    loop_free(l);
}

static void test_free_finishes_queued_work(void **state)
{
    struct loop *l = loop_new();
    struct work w;
    memset(&w, 0, sizeof w);
    loop_work(l, work_fn, done_fn, &w);
    loop_free(l);   /* the job and its completion still run */
    assert_int_equal(w.sum, 5050);
    assert_int_equal(w.done, 1);
}

static void on_usr1(struct loop *l, int signo, void *payload)
{
    *(int *)payload = signo;
}

static void test_signal_delivered_on_loop(void **state)
{
    struct loop *l = loop_new();
    int got = 0;
    assert_int_equal(loop_signal(l, SIGUSR1, on_usr1, &got), 0);
    kill(getpid(), SIGUSR1);
    int64_t t0 = util_now_ms();
    while (!got && util_now_ms() - t0 < 2000)
        loop_run_once(l, 100);
    assert_int_equal(got, SIGUSR1);
    loop_signal(l, SIGUSR1, NULL, NULL);
    loop_free(l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_timers_fire_in_order),
        cmocka_unit_test(test_timer_deleted_by_callback_never_fires),
        cmocka_unit_test(test_timers_wake_a_loop_with_no_timeout),
        cmocka_unit_test(test_fd_watch_and_hup),
        cmocka_unit_test(test_fd_mask_moves_the_watch),
        cmocka_unit_test(test_fd_number_reused_after_close),
        cmocka_unit_test(test_watch_changed_by_earlier_callback_is_skipped),
        cmocka_unit_test(test_many_ready_fds_all_served),
        cmocka_unit_test(test_regular_file_is_always_ready),
        cmocka_unit_test(test_paused_regular_file_lets_the_loop_sleep),
        cmocka_unit_test(test_hooks_run_every_turn),
        cmocka_unit_test(test_post_from_thread_wakes_loop),
        cmocka_unit_test(test_post_bursts_lose_no_wakeup),
        cmocka_unit_test(test_post_on_loop_thread_runs_without_sleeping),
        cmocka_unit_test(test_worker_runs_off_loop_and_reports_back),
        cmocka_unit_test(test_free_finishes_queued_work),
        cmocka_unit_test(test_signal_delivered_on_loop),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
