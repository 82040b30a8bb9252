/* proc.h — child processes: spawn in their own process group with pipes,
 * reap on SIGCHLD, stop without leaving orphans.
 * Loop thread only (proc_reap_all is called from the SIGCHLD handler that
 * the loop delivers on its own thread). */
#ifndef MCPDECK_PROC_H
#define MCPDECK_PROC_H

#include <sys/types.h>

struct proc {
    pid_t pid;               /* also the process group id */
    int in_fd;               /* child's stdin (we write), -1 when closed */
    int out_fd;              /* child's stdout (we read) */
    int err_fd;              /* child's stderr (we read) */
};

typedef void (*proc_exit_cb)(void *payload, pid_t pid, int status);

/* Spawn argv[0] (PATH searched) with argv and the environment envp
 * ("K=V" entries; NULL: ours); cwd may be NULL. All three pipes are
 * non-blocking and close-on-exec on our side. An exec failure is reported
 * here (through a close-on-exec pipe), not as a dead child later.
 * on_exit is called once when the child is reaped. */
int proc_spawn(char *const argv[], char *const envp[], const char *cwd,
               proc_exit_cb on_exit, void *payload, struct proc *out, char **errmsg);

/* Reap every exited child we spawned and call their callbacks. */
void proc_reap_all(void);

/* Forget the callback for pid (its owner is gone); the child is still
 * reaped when it exits. */
void proc_forget(pid_t pid);

/* Graceful stop of several children at once: close their stdin, wait up
 * to grace_ms for them to exit, then SIGTERM their process groups, wait
 * up to 1 s, then SIGKILL. Blocks (used at shutdown). */
void proc_stop_all(struct proc **procs, int n, int grace_ms);

/* Describe a wait status: "exited with status 3", "killed by signal 9". */
const char *proc_status_str(int status, char *buf, unsigned len);

#endif
