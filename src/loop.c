/* loop.c — the epoll event loop (see loop.h). In the spirit of Redis' ae:
 * small, one thread, no locks except the post queue shared with workers.
 *
 * Why epoll rather than poll(): a sleeping poll() walks every watched fd
 * twice per sleep (to queue itself on each and to take itself off again),
 * which the sequential MCP client paid on every call for fds that never
 * fire (the wakeup and signal fds, the timerfd, each server's stderr);
 * epoll keeps the interest set in the kernel and returns only what is
 * ready. The set is changed only when a watch's events change, so a fd
 * must be loop_fd_del()eted before it is closed (as it always had to be,
 * since its number can come back from the next open). */
#include "loop.h"
#include "util.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

struct watcher {
    int mask;              /* 0 = unused */
    unsigned gen;
    unsigned kev;          /* events the epoll set has for it (0: not in it) */
    int always;            /* epoll refused it (a regular file): always ready */
    loop_fd_cb cb;
    void *payload;
};

struct timer {
    uint64_t id;
    int64_t when_ms;
    loop_timer_cb cb;
    void *payload;
};

struct hook {
    loop_hook_cb cb;
    void *payload;
};

struct post {
    loop_fn fn;
    void *arg;
    struct post *next;
};

struct job {
    loop_fn work, done;
    void *arg;
    struct job *next;
};

#define LOOP_WORKERS 2

struct loop {
    struct watcher *w;
    int nw;
    unsigned gen;
    struct timer *timers;
    size_t ntimers, captimers;
    uint64_t next_timer_id;
    struct hook *hooks;
    size_t nhooks;
    int stop;
    int ep;                              /* the epoll set */
    int nalways;                         /* watchers with .always set */
    int wake;                            /* wakeup eventfd */
    int tfd;                             /* timerfd for the next timer, or -1 */
    int64_t tfd_at;                      /* when it is set to go off (ms), 0: not set */
    atomic_int wake_pending;             /* a byte is (or is about to be) in it */
    pthread_mutex_t mu;                  /* guards posts and jobs */
    pthread_cond_t cv;
    struct post *posts, **posts_tail;
    struct job *jobs, **jobs_tail;
    pthread_t workers[LOOP_WORKERS];
    int nworkers, quitting;
};

/* === signals: one process-wide self-pipe === */

static int sig_pipe[2] = {-1, -1};
static struct {
    loop_signal_cb cb;
    void *payload;
    struct loop *l;
} sig_tab[65];

static void sig_handler(int signo)
{
    int e = errno;
    unsigned char c = (unsigned char)signo;
    if (write(sig_pipe[1], &c, 1) < 0) {
        /* pipe full: the signal is already pending in it */
    }
    errno = e;
}

static void sig_readable(struct loop *l, int fd, int mask, void *payload)
{
    unsigned char cs[64];
    ssize_t n;
    while ((n = read(fd, cs, sizeof cs)) > 0)
        for (ssize_t i = 0; i < n; i++)
            if (cs[i] < 65 && sig_tab[cs[i]].cb)
                sig_tab[cs[i]].cb(sig_tab[cs[i]].l, cs[i], sig_tab[cs[i]].payload);
}

int loop_signal(struct loop *l, int signo, loop_signal_cb cb, void *payload)
{
    if (signo <= 0 || signo >= 65)
        return -EINVAL;
    if (sig_pipe[0] < 0) {
        if (pipe(sig_pipe) < 0)
            return -errno;
        util_set_nonblock(sig_pipe[0]);
        util_set_nonblock(sig_pipe[1]);
    }
    loop_fd_add(l, sig_pipe[0], LOOP_READ, sig_readable, NULL);
    sig_tab[signo].cb = cb;
    sig_tab[signo].payload = payload;
    sig_tab[signo].l = l;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = cb ? sig_handler : SIG_DFL;
    sa.sa_flags = SA_RESTART | (signo == SIGCHLD ? SA_NOCLDSTOP : 0);
    return sigaction(signo, &sa, NULL) < 0 ? -errno : 0;
}

static void run_posts(struct loop *l);

/* === lifecycle === */

/* The loop whose turn this thread is running (loop_post from inside it
 * needs no wakeup: the turn runs its posts before it next sleeps). */
static __thread struct loop *running;

/* Drained first, then the flag cleared: a loop_wakeup() that found the flag
 * still set between the two had already queued what it woke us for, and
 * this turn's run_posts() (after every fd callback) sees it. */
static void wake_readable(struct loop *l, int fd, int mask, void *payload)
{
    uint64_t n;
    if (read(fd, &n, sizeof n) < 0) {
        /* EAGAIN: already read */
    }
    atomic_store_explicit(&l->wake_pending, 0, memory_order_release);
}

/* The timerfd went off: its time has come, so it is no longer set; the
 * timers due run at the end of this turn. */
static void timerfd_readable(struct loop *l, int fd, int mask, void *payload)
{
    uint64_t n;
    if (read(fd, &n, sizeof n) < 0) {
        /* EAGAIN: already read */
    }
    l->tfd_at = 0;
}

struct loop *loop_new(void)
{
    struct loop *l = xcalloc(1, sizeof *l);
    l->ep = epoll_create1(EPOLL_CLOEXEC);
    l->wake = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (l->ep < 0 || l->wake < 0) {
        if (l->ep >= 0)
            close(l->ep);
        if (l->wake >= 0)
            close(l->wake);
        free(l);
        return NULL;
    }
    l->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    pthread_mutex_init(&l->mu, NULL);
    pthread_cond_init(&l->cv, NULL);
    l->posts_tail = &l->posts;
    l->jobs_tail = &l->jobs;
    l->next_timer_id = 1;
    loop_fd_add(l, l->wake, LOOP_READ, wake_readable, NULL);
    if (l->tfd >= 0)
        loop_fd_add(l, l->tfd, LOOP_READ, timerfd_readable, NULL);
    return l;
}

void loop_free(struct loop *l)
{
    if (!l)
        return;
    pthread_mutex_lock(&l->mu);
    l->quitting = 1;
    pthread_cond_broadcast(&l->cv);
    pthread_mutex_unlock(&l->mu);
    for (int i = 0; i < l->nworkers; i++)
        pthread_join(l->workers[i], NULL);
    /* Workers finished every queued job; let their completions run so
     * nothing they allocated is lost. */
    while (l->posts)
        run_posts(l);
    for (int s = 1; s < 65; s++)
        if (sig_tab[s].l == l) {
            signal(s, SIG_DFL);
            sig_tab[s].cb = NULL;
            sig_tab[s].l = NULL;
        }
    for (struct post *p = l->posts, *n; p; p = n) {
        n = p->next;
        free(p);
    }
    for (struct job *j = l->jobs, *n; j; j = n) {
        n = j->next;
        free(j);
    }
    close(l->wake);
    close(l->ep);
    if (l->tfd >= 0)
        close(l->tfd);
    pthread_mutex_destroy(&l->mu);
    pthread_cond_destroy(&l->cv);
    free(l->w);
    free(l->timers);
    free(l->hooks);
    free(l);
}

/* === fds === */

static unsigned epoll_events(int mask)
{
    return (mask > 0 && (mask & LOOP_READ) ? EPOLLIN : 0) |
           (mask > 0 && (mask & LOOP_WRITE) ? EPOLLOUT : 0);
}

/* Bring the epoll set in line with fd's watch. `again`: tell the kernel
 * even if the events look the same (a watch set anew may be for a new
 * file that took a closed one's number). */
static void fd_sync(struct loop *l, int fd, int again)
{
    struct watcher *w = &l->w[fd];
    unsigned want = epoll_events(w->mask);
    if (w->always || (want == w->kev && !again))
        return;
    if (!want) {
        if (w->kev)
            epoll_ctl(l->ep, EPOLL_CTL_DEL, fd, NULL);
        w->kev = 0;
        return;
    }
    struct epoll_event ev = {.events = want, .data.fd = fd};
    int rc = epoll_ctl(l->ep, w->kev ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, fd, &ev);
    if (rc < 0 && errno == ENOENT)
        rc = epoll_ctl(l->ep, EPOLL_CTL_ADD, fd, &ev);
    else if (rc < 0 && errno == EEXIST)
        rc = epoll_ctl(l->ep, EPOLL_CTL_MOD, fd, &ev);
    if (rc == 0) {
        w->kev = want;
    } else if (errno == EPERM) {
        w->kev = 0;                 /* a regular file: ready every turn, as poll() has it */
        w->always = 1;
        l->nalways++;
    } else {
        w->kev = 0;                 /* not an open fd: nothing to watch */
        w->mask = 0;
    }
}

void loop_fd_add(struct loop *l, int fd, int mask, loop_fd_cb cb, void *payload)
{
    if (fd < 0)
        return;
    if (fd >= l->nw) {
        int n = l->nw ? l->nw : 16;
        while (n <= fd)
            n *= 2;
        l->w = xrealloc(l->w, (size_t)n * sizeof *l->w);
        memset(l->w + l->nw, 0, (size_t)(n - l->nw) * sizeof *l->w);
        l->nw = n;
    }
    l->w[fd].mask = mask ? mask : -1;   /* -1: registered, nothing wanted */
    l->w[fd].cb = cb;
    l->w[fd].payload = payload;
    l->w[fd].gen = ++l->gen;
    fd_sync(l, fd, 1);
}

void loop_fd_mask(struct loop *l, int fd, int mask)
{
    if (fd >= 0 && fd < l->nw && l->w[fd].mask) {
        l->w[fd].mask = mask ? mask : -1;
        fd_sync(l, fd, 0);
    }
}

void loop_fd_del(struct loop *l, int fd)
{
    if (fd < 0 || fd >= l->nw || !l->w[fd].mask)
        return;
    struct watcher *w = &l->w[fd];
    if (w->kev)
        epoll_ctl(l->ep, EPOLL_CTL_DEL, fd, NULL);
    if (w->always)
        l->nalways--;
    memset(w, 0, sizeof *w);
}

/* === timers === */

uint64_t loop_timer_add(struct loop *l, int64_t delay_ms, loop_timer_cb cb, void *payload)
{
    if (l->ntimers == l->captimers) {
        l->captimers = l->captimers ? l->captimers * 2 : 16;
        l->timers = xrealloc(l->timers, l->captimers * sizeof *l->timers);
    }
    struct timer *t = &l->timers[l->ntimers++];
    t->id = l->next_timer_id++;
    t->when_ms = util_now_ms() + (delay_ms > 0 ? delay_ms : 0);
    t->cb = cb;
    t->payload = payload;
    return t->id;
}

void loop_timer_del(struct loop *l, uint64_t id)
{
    for (size_t i = 0; i < l->ntimers; i++)
        if (l->timers[i].id == id) {
            l->timers[i] = l->timers[--l->ntimers];
            return;
        }
}

static int64_t next_timer_ms(struct loop *l)
{
    int64_t best = -1;
    for (size_t i = 0; i < l->ntimers; i++)
        if (best < 0 || l->timers[i].when_ms < best)
            best = l->timers[i].when_ms;
    return best;
}

static void run_timers(struct loop *l)
{
    int64_t now = util_now_ms();
    /* Fire due timers one at a time: callbacks may add or delete timers. */
    for (;;) {
        size_t due = (size_t)-1;
        for (size_t i = 0; i < l->ntimers; i++)
            if (l->timers[i].when_ms <= now &&
                (due == (size_t)-1 || l->timers[i].when_ms < l->timers[due].when_ms))
                due = i;
        if (due == (size_t)-1)
            return;
        struct timer t = l->timers[due];
        l->timers[due] = l->timers[--l->ntimers];
        t.cb(l, t.id, t.payload);
    }
}

/* Timers wake the loop through a timerfd rather than a sleep's timeout:
 * a sleep with a timeout arms and cancels a kernel timer every time (on a
 * virtual machine each costs an exit to the hypervisor: ~4 us per sleep
 * here), while the timerfd is set once and reset only when a timer comes
 * due earlier than it is set for. One set for a timer since deleted just
 * wakes the loop once for nothing. Returns the timeout to sleep with. */
static int64_t timer_wait(struct loop *l, int64_t timeout)
{
    int64_t nt = next_timer_ms(l);
    if (nt < 0)
        return timeout;
    int64_t d = nt - util_now_ms();
    if (d <= 0)
        return 0;
    if (timeout >= 0 && timeout <= d)
        return timeout;
    if (l->tfd >= 0 && (!l->tfd_at || nt < l->tfd_at)) {
        struct itimerspec its = {{0, 0}, {nt / 1000, (nt % 1000) * 1000000}};
        if (timerfd_settime(l->tfd, TFD_TIMER_ABSTIME, &its, NULL) == 0)
            l->tfd_at = nt;
    }
    return l->tfd_at && l->tfd_at <= nt ? timeout : d;
}

/* === hooks === */

void loop_hook_add(struct loop *l, loop_hook_cb cb, void *payload)
{
    l->hooks = xrealloc(l->hooks, (l->nhooks + 1) * sizeof *l->hooks);
    l->hooks[l->nhooks].cb = cb;
    l->hooks[l->nhooks].payload = payload;
    l->nhooks++;
}

void loop_hook_del(struct loop *l, loop_hook_cb cb, void *payload)
{
    for (size_t i = 0; i < l->nhooks; i++)
        if (l->hooks[i].cb == cb && l->hooks[i].payload == payload) {
            memmove(&l->hooks[i], &l->hooks[i + 1], (l->nhooks - i - 1) * sizeof *l->hooks);
            l->nhooks--;
            return;
        }
}

/* === cross-thread === */

/* One byte per sleep, not per call: a burst of posts from a worker (or
 * of signals) costs one write and one read. */
void loop_wakeup(struct loop *l)
{
    if (atomic_exchange_explicit(&l->wake_pending, 1, memory_order_acq_rel))
        return;
    uint64_t one = 1;
    if (write(l->wake, &one, sizeof one) < 0) {
        /* counter full: a wakeup is already pending */
    }
}

void loop_post(struct loop *l, loop_fn fn, void *arg)
{
    struct post *p = xmalloc(sizeof *p);
    p->fn = fn;
    p->arg = arg;
    p->next = NULL;
    pthread_mutex_lock(&l->mu);
    *l->posts_tail = p;
    l->posts_tail = &p->next;
    pthread_mutex_unlock(&l->mu);
    if (running != l)
        loop_wakeup(l);
}

static int posts_pending(struct loop *l)
{
    pthread_mutex_lock(&l->mu);
    int any = l->posts != NULL;
    pthread_mutex_unlock(&l->mu);
    return any;
}

static void run_posts(struct loop *l)
{
    pthread_mutex_lock(&l->mu);
    struct post *p = l->posts;
    l->posts = NULL;
    l->posts_tail = &l->posts;
    pthread_mutex_unlock(&l->mu);
    while (p) {
        struct post *n = p->next;
        p->fn(p->arg);
        free(p);
        p = n;
    }
}

static void *worker_main(void *arg)
{
    struct loop *l = arg;
    pthread_mutex_lock(&l->mu);
    for (;;) {
        while (!l->jobs && !l->quitting)
            pthread_cond_wait(&l->cv, &l->mu);
        if (!l->jobs)
            break;     /* quitting, and every queued job is done */
        struct job *j = l->jobs;
        l->jobs = j->next;
        if (!l->jobs)
            l->jobs_tail = &l->jobs;
        pthread_mutex_unlock(&l->mu);
        j->work(j->arg);
        loop_post(l, j->done, j->arg);
        free(j);
        pthread_mutex_lock(&l->mu);
    }
    pthread_mutex_unlock(&l->mu);
    return NULL;
}

void loop_work(struct loop *l, loop_fn work, loop_fn done, void *arg)
{
    struct job *j = xmalloc(sizeof *j);
    j->work = work;
    j->done = done;
    j->arg = arg;
    j->next = NULL;
    pthread_mutex_lock(&l->mu);
    if (l->nworkers < LOOP_WORKERS &&
        pthread_create(&l->workers[l->nworkers], NULL, worker_main, l) == 0)
        l->nworkers++;
    *l->jobs_tail = j;
    l->jobs_tail = &j->next;
    pthread_cond_signal(&l->cv);
    pthread_mutex_unlock(&l->mu);
}

/* === the loop === */

/* A watched regular file that wants something: it is ready now. */
static int any_always_ready(const struct loop *l)
{
    for (int fd = 0; fd < l->nw; fd++)
        if (l->w[fd].always && l->w[fd].mask > 0)
            return 1;
    return 0;
}

/* Skipped if deleted or replaced by an earlier callback of this turn. */
static void dispatch(struct loop *l, int fd, int mask, unsigned gen_before)
{
    if (fd < 0 || fd >= l->nw)
        return;
    struct watcher *w = &l->w[fd];
    if (w->mask > 0 && w->gen <= gen_before)
        w->cb(l, fd, mask, w->payload);
}

void loop_run_once(struct loop *l, int64_t max_wait_ms)
{
    struct loop *outer = running;
    running = l;
    for (size_t i = 0; i < l->nhooks; i++)
        l->hooks[i].cb(l, l->hooks[i].payload);

    int64_t timeout = timer_wait(l, max_wait_ms);
    if (l->stop || posts_pending(l))
        timeout = 0;

    if (l->nalways && any_always_ready(l))
        timeout = 0;
    struct epoll_event ev[64];
    unsigned gen_before = l->gen;
    int n = epoll_wait(l->ep, ev, 64, timeout > INT32_MAX ? INT32_MAX : (int)timeout);
    for (int i = 0; i < n; i++) {
        int fd = ev[i].data.fd;
        unsigned e = ev[i].events;
        int mask = 0;
        if (e & (EPOLLIN | EPOLLHUP | EPOLLERR))
            mask |= LOOP_READ;
        if (e & (EPOLLHUP | EPOLLERR))
            mask |= LOOP_HUP;
        if (e & EPOLLOUT)
            mask |= LOOP_WRITE;
        dispatch(l, fd, mask, gen_before);
    }
    for (int fd = 0; l->nalways && fd < l->nw; fd++)
        if (l->w[fd].always && l->w[fd].mask > 0)
            dispatch(l, fd, l->w[fd].mask & (LOOP_READ | LOOP_WRITE), gen_before);
    run_posts(l);
    run_timers(l);
    running = outer;
}

void loop_run(struct loop *l)
{
    while (!l->stop)
        loop_run_once(l, -1);
}

void loop_stop(struct loop *l)
{
    l->stop = 1;
}

int loop_stopped(const struct loop *l)
{
    return l->stop;
}
