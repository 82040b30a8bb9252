/* proc.c — child processes (see proc.h). */
#include "proc.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

struct child {
    pid_t pid;
    proc_exit_cb cb;
    void *payload;
};

/* Children we spawned and have not reaped yet. */
static struct child *children;
static size_t nchildren, capchildren;

static void child_add(pid_t pid, proc_exit_cb cb, void *payload)
{
    if (nchildren == capchildren) {
        capchildren = capchildren ? capchildren * 2 : 8;
        children = xrealloc(children, capchildren * sizeof *children);
    }
    children[nchildren].pid = pid;
    children[nchildren].cb = cb;
    children[nchildren].payload = payload;
    nchildren++;
}

static void close_pair(int p[2])
{
    if (p[0] >= 0)
        close(p[0]);
    if (p[1] >= 0)
        close(p[1]);
}

int proc_spawn(char *const argv[], char *const envp[], const char *cwd,
               proc_exit_cb on_exit, void *payload, struct proc *out, char **errmsg)
{
    int in[2] = {-1, -1}, o[2] = {-1, -1}, e[2] = {-1, -1}, ex[2] = {-1, -1};
    if (pipe(in) < 0 || pipe(o) < 0 || pipe(e) < 0 || pipe2(ex, O_CLOEXEC) < 0) {
        *errmsg = xasprintf("cannot create pipes: %s", strerror(errno));
        goto fail;
    }
    pid_t pid = fork();
    if (pid < 0) {
        *errmsg = xasprintf("cannot fork: %s", strerror(errno));
        goto fail;
    }
    if (pid == 0) {
        /* child: own process group, pipes on 0/1/2, default signals */
        setpgid(0, 0);
        dup2(in[0], 0);
        dup2(o[1], 1);
        dup2(e[1], 2);
        for (int fd = 3; fd < 1024; fd++)
            if (fd != ex[1])
                close(fd);
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        for (int s = 1; s < 32; s++)
            if (s != SIGKILL && s != SIGSTOP)
                signal(s, SIG_DFL);
        if (envp)
            environ = (char **)envp;   /* execvp passes it on */
        int err = 0;
        if (cwd && chdir(cwd) < 0)
            err = errno;
        else {
            execvp(argv[0], argv);
            err = errno;
        }
        char msg[16];
        int n = snprintf(msg, sizeof msg, "%c%d", cwd && err && errno == err ? 'c' : 'x', err);
        if (write(ex[1], msg, (size_t)n) < 0) {
            /* nothing more we can do */
        }
        _exit(127);
    }
    setpgid(pid, pid);   /* also from the parent: no race with kill(-pid) */
    close(ex[1]);
    ex[1] = -1;
    char msg[16] = {0};
    ssize_t n;
    do
        n = read(ex[0], msg, sizeof msg - 1);
    while (n < 0 && errno == EINTR);
    close(ex[0]);
    ex[0] = -1;
    if (n > 0) {
        int err = atoi(msg + 1);
        waitpid(pid, NULL, 0);
        if (msg[0] == 'c')
            *errmsg = xasprintf("cannot change to directory %s: %s", cwd, strerror(err));
        else
            *errmsg = xasprintf("cannot run %s: %s", argv[0], strerror(err));
        goto fail;
    }
    close(in[0]);
    close(o[1]);
    close(e[1]);
    util_set_nonblock(in[1]);
    util_set_nonblock(o[0]);
    util_set_nonblock(e[0]);
    out->pid = pid;
    out->in_fd = in[1];
    out->out_fd = o[0];
    out->err_fd = e[0];
    child_add(pid, on_exit, payload);
    return 0;
fail:
    close_pair(in);
    close_pair(o);
    close_pair(e);
    close_pair(ex);
    return -1;
}

void proc_reap_all(void)
{
    for (size_t i = 0; i < nchildren;) {
        int status;
        pid_t r = waitpid(children[i].pid, &status, WNOHANG);
        if (r == children[i].pid || (r < 0 && errno == ECHILD)) {
            struct child c = children[i];
            children[i] = children[--nchildren];
            if (c.cb)
                c.cb(c.payload, c.pid, r < 0 ? 0 : status);
            i = 0;   /* the callback may have changed the table */
            continue;
        }
        i++;
    }
    if (nchildren == 0) {
        free(children);
        children = NULL;
        capchildren = 0;
    }
}

void proc_forget(pid_t pid)
{
    for (size_t i = 0; i < nchildren; i++)
        if (children[i].pid == pid) {
            children[i].cb = NULL;
            children[i].payload = NULL;
        }
}

static int all_reaped(struct proc **procs, int n)
{
    int alive = 0;
    for (int i = 0; i < n; i++) {
        if (procs[i]->pid <= 0)
            continue;
        pid_t r = waitpid(procs[i]->pid, NULL, WNOHANG);
        if (r == procs[i]->pid || (r < 0 && errno == ECHILD)) {
            kill(-procs[i]->pid, SIGTERM);   /* grandchildren left in the group */
            proc_forget(procs[i]->pid);
            procs[i]->pid = -procs[i]->pid;  /* remember the group, mark reaped */
        } else {
            alive++;
        }
    }
    return alive == 0;
}

static void wait_some(struct proc **procs, int n, int ms)
{
    int64_t end = util_now_ms() + ms;
    while (!all_reaped(procs, n) && util_now_ms() < end)
        usleep(5000);
}

void proc_stop_all(struct proc **procs, int n, int grace_ms)
{
    for (int i = 0; i < n; i++)
        if (procs[i]->in_fd >= 0) {
            close(procs[i]->in_fd);
            procs[i]->in_fd = -1;
        }
    wait_some(procs, n, grace_ms);
    for (int i = 0; i < n; i++)
        if (procs[i]->pid > 0)
            kill(-procs[i]->pid, SIGTERM);
    wait_some(procs, n, 1000);
    for (int i = 0; i < n; i++) {
        pid_t g = procs[i]->pid > 0 ? procs[i]->pid : -procs[i]->pid;
        if (g > 0)
            kill(-g, SIGKILL);   /* anything left in the group */
    }
    for (int i = 0; i < n; i++)
        if (procs[i]->pid > 0) {
            waitpid(procs[i]->pid, NULL, 0);
            proc_forget(procs[i]->pid);
        }
    proc_reap_all();
}

const char *proc_status_str(int status, char *buf, unsigned len)
{
    if (WIFEXITED(status))
        snprintf(buf, len, "exited with status %d", WEXITSTATUS(status));
    else if (WIFSIGNALED(status))
        snprintf(buf, len, "killed by signal %d (%s)", WTERMSIG(status),
                 strsignal(WTERMSIG(status)));
    else
        snprintf(buf, len, "stopped (status 0x%x)", status);
    return buf;
}
