/* loop.h — the one epoll event loop every part of mcpdeck runs on.
 *
 * fd watchers, one-shot timers, before-sleep hooks, signals delivered
 * through a self-pipe, a wakeup fd other threads may poke, and a small
 * worker pool whose results come back to the loop thread.
 * All functions are loop-thread only except loop_wakeup() and
 * loop_post(), which any thread may call. */
#ifndef MCPDECK_LOOP_H
#define MCPDECK_LOOP_H

#include <stdint.h>

struct loop;

enum { LOOP_READ = 1, LOOP_WRITE = 2, LOOP_HUP = 4 };

typedef void (*loop_fd_cb)(struct loop *l, int fd, int mask, void *payload);
typedef void (*loop_timer_cb)(struct loop *l, uint64_t id, void *payload);
typedef void (*loop_hook_cb)(struct loop *l, void *payload);
typedef void (*loop_signal_cb)(struct loop *l, int signo, void *payload);
typedef void (*loop_fn)(void *arg);

struct loop *loop_new(void);
void loop_free(struct loop *l);                 /* NULL-safe */

/* Watch fd for mask (LOOP_READ|LOOP_WRITE); replaces an earlier watch.
 * The callback gets the ready mask; LOOP_HUP is reported with LOOP_READ.
 * Level-triggered. Delete a watch before closing its fd. A regular file
 * (which epoll cannot watch) is reported ready every turn, as poll() has it. */
void loop_fd_add(struct loop *l, int fd, int mask, loop_fd_cb cb, void *payload);
void loop_fd_mask(struct loop *l, int fd, int mask);
void loop_fd_del(struct loop *l, int fd);

/* A one-shot timer after delay_ms. Returns its id (never 0). */
uint64_t loop_timer_add(struct loop *l, int64_t delay_ms, loop_timer_cb cb, void *payload);
void loop_timer_del(struct loop *l, uint64_t id);   /* unknown ids ignored */

/* Called once per loop turn, before the loop sleeps. */
void loop_hook_add(struct loop *l, loop_hook_cb cb, void *payload);
void loop_hook_del(struct loop *l, loop_hook_cb cb, void *payload);

/* Deliver signo on the loop thread (sigaction + self-pipe). cb NULL restores
 * the default disposition. */
int loop_signal(struct loop *l, int signo, loop_signal_cb cb, void *payload);

/* Any thread: make the loop's sleep end. */
void loop_wakeup(struct loop *l);
/* Any thread: run fn(arg) on the loop thread at the next turn. */
void loop_post(struct loop *l, loop_fn fn, void *arg);
/* Run work(arg) on a worker thread, then done(arg) on the loop thread. */
void loop_work(struct loop *l, loop_fn work, loop_fn done, void *arg);

/* Run until loop_stop(). */
void loop_run(struct loop *l);
/* One turn: hooks, sleep until ready (at most max_wait_ms, -1 = no limit), dispatch. */
void loop_run_once(struct loop *l, int64_t max_wait_ms);
void loop_stop(struct loop *l);
int loop_stopped(const struct loop *l);

#endif
