/* coldstart.c — time from fork/exec of an MCP client to its first
 * tools/list answer, for bench/client.mjs.
 *
 *   coldstart [-r RUNS] [-t TIMEOUT_MS] -- CLIENT [ARG...]
 *
 * Runs the client RUNS times, one after the other, each a fresh process.
 * The client (bench_client --coldstart or sdk_client.mjs --coldstart)
 * writes "ready" on stdout when its first tools/list result is in; the
 * time from just before fork() to reading that line is one sample. The
 * client's shutdown afterwards is not timed, but waited for, so runs do
 * not overlap. Prints one JSON line: every sample and the median (ms).
 * Exit 1 if a run fails (exits non-zero, never says ready, times out). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_RUNS 100

static int64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Wait for pid, killing its process group after grace_ms. Returns the
 * wait status, or -1. */
static int reap(pid_t pid, int grace_ms)
{
    int64_t deadline = now_us() + (int64_t)grace_ms * 1000;
    int status;
    for (;;) {
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid)
            return status;
        if (r < 0 && errno != EINTR)
            return -1;
        if (now_us() > deadline) {
            kill(-pid, SIGKILL);
            return waitpid(pid, &status, 0) == pid ? status : -1;
        }
        usleep(2000);
    }
}

/* One run: returns the time to "ready" in ms, or a negative number. */
static double run_once(char **argv, int timeout_ms)
{
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) < 0) {
        perror("coldstart: pipe");
        return -1;
    }
    int64_t t0 = now_us();
    pid_t pid = fork();
    if (pid < 0) {
        perror("coldstart: fork");
        return -1;
    }
    if (pid == 0) {
        setpgid(0, 0);   /* its own group, so a stuck run can be killed whole */
        dup2(fds[1], STDOUT_FILENO);
        execvp(argv[0], argv);
        fprintf(stderr, "coldstart: cannot run %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    close(fds[1]);
    char buf[256];
    size_t have = 0;
    double ms = -1;
    int64_t deadline = t0 + (int64_t)timeout_ms * 1000;
    while (ms < 0) {
        int64_t left = (deadline - now_us()) / 1000;
        if (left <= 0) {
            fprintf(stderr, "coldstart: %s did not get ready within %d ms\n", argv[0],
                    timeout_ms);
            kill(-pid, SIGKILL);
            break;
        }
        struct pollfd p = {fds[0], POLLIN, 0};
        if (poll(&p, 1, (int)left) <= 0)
            continue;
        ssize_t n = read(fds[0], buf + have, sizeof buf - 1 - have);
        if (n <= 0) {
            fprintf(stderr, "coldstart: %s closed its stdout before saying ready\n", argv[0]);
            break;
        }
        have += (size_t)n;
        buf[have] = '\0';
        if (strstr(buf, "ready\n"))
            ms = (now_us() - t0) / 1000.0;
        else if (have == sizeof buf - 1)
            have = 0;
    }
    close(fds[0]);
    int status = reap(pid, 10000);
    if (ms >= 0 && !(status >= 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
        fprintf(stderr, "coldstart: %s did not exit cleanly (status %d)\n", argv[0], status);
        ms = -1;
    }
    return ms;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    int runs = 5, timeout_ms = 30000, i;
    for (i = 1; i < argc && strcmp(argv[i], "--") != 0; i++) {
        if (strcmp(argv[i], "-r") == 0 && i + 1 < argc)
            runs = atoi(argv[++i]);
        else if (strcmp(argv[i], "-t") == 0 && i + 1 < argc)
            timeout_ms = atoi(argv[++i]);
        else
            break;
    }
    if (i + 1 >= argc || strcmp(argv[i], "--") != 0 || runs < 1 || runs > MAX_RUNS) {
        fprintf(stderr, "usage: coldstart [-r RUNS] [-t TIMEOUT_MS] -- CLIENT [ARG...]\n");
        return 2;
    }
    double ms[MAX_RUNS];
    for (int r = 0; r < runs; r++) {
        ms[r] = run_once(argv + i + 1, timeout_ms);
        if (ms[r] < 0)
            return 1;
    }
    printf("{\"runs_ms\":[");
    for (int r = 0; r < runs; r++)
        printf("%s%.2f", r ? "," : "", ms[r]);
    qsort(ms, (size_t)runs, sizeof *ms, cmp_double);
    double median = runs % 2 ? ms[runs / 2] : (ms[runs / 2 - 1] + ms[runs / 2]) / 2;
    printf("],\"median_ms\":%.2f}\n", median);
    return 0;
}
