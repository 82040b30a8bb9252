/* pingpong.c — what one round trip between two processes over pipes costs
 * on this host, for bench/bench_serve.mjs.
 *
 *   pingpong [-n ROUNDS]
 *
 * A parent and a forked child pass one byte back and forth through two
 * pipes, each side sleeping in poll() until the byte arrives — the two
 * transits a proxy hop adds to every call (the request into one more
 * process, the answer out of it), with no work at all in between. Two
 * idle processes wake each other on the other vCPU every time; in a
 * longer chain some transits stay on one CPU, so this is a scale, not a
 * floor. Prints one JSON line:
 * {"rounds":N,"p50_us":..,"p90_us":..}. No pinning: the kernel places both
 * processes as it places mcpdeck's. */
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int64_t now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

/* Sleep in poll() until fd is readable, then take the byte. */
static int take(int fd, char *c)
{
    struct pollfd p = {fd, POLLIN, 0};
    if (poll(&p, 1, -1) != 1)
        return -1;
    return read(fd, c, 1) == 1 ? 0 : -1;
}

static int cmp(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    int n = 20000, warm = 1000;
    if (argc == 3 && strcmp(argv[1], "-n") == 0)
        n = atoi(argv[2]);
    else if (argc != 1) {
        fprintf(stderr, "usage: pingpong [-n ROUNDS]\n");
        return 2;
    }
    if (n < 1)
        n = 1;
    int there[2], back[2];
    if (pipe(there) < 0 || pipe(back) < 0) {
        perror("pipe");
        return 1;
    }
    pid_t pid = fork();
    if (pid < 0) {
        perror("fork");
        return 1;
    }
    if (pid == 0) {
        close(there[1]);
        close(back[0]);
        char c;
        while (take(there[0], &c) == 0)
            if (write(back[1], &c, 1) != 1)
                break;
        _exit(0);
    }
    close(there[0]);
    close(back[1]);
    int64_t *rtt = malloc((size_t)n * sizeof *rtt);
    if (!rtt)
        return 1;
    char c = 'x';
    for (int i = -warm; i < n; i++) {
        int64_t t0 = now_ns();
        if (write(there[1], &c, 1) != 1 || take(back[0], &c) < 0) {
            fprintf(stderr, "pingpong: the child went away\n");
            return 1;
        }
        if (i >= 0)
            rtt[i] = now_ns() - t0;
    }
    close(there[1]);
    waitpid(pid, NULL, 0);
    qsort(rtt, (size_t)n, sizeof *rtt, cmp);
    printf("{\"rounds\":%d,\"p50_us\":%.1f,\"p90_us\":%.1f}\n", n, rtt[n / 2] / 1e3,
           rtt[(int64_t)n * 9 / 10] / 1e3);
    free(rtt);
    return 0;
}
