/* bare_client.c — for scale beside benchmark 1: the least a stdio MCP
 * client can spend per sequential call on this host.
 *
 *   bare_client [-w WARMUP] [-n CALLS] -- SERVER-COMMAND...
 *
 * Spawns the server with pipes, sends initialize and
 * notifications/initialized, then calls `echo` one call at a time: the
 * request is formatted with snprintf, written with one write(), and the
 * answer is waited for with poll() and read() until its newline — no JSON
 * parsing, no event loop, no bookkeeping. What is left is what every
 * client pays: the pipe write that wakes the server, the sleep until the
 * answer and the read. Prints {"calls":N,"cpu_us_per_call":..} with the
 * CPU of this process only (getrusage RUSAGE_SELF over the timed calls).
 * Exit 1 if the server goes away or answers something unexpected. */
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

static int to_server, from_server;
static char in[1 << 16];
static size_t have;

static void die(const char *why)
{
    fprintf(stderr, "bare_client: %s\n", why);
    exit(1);
}

/* Read lines until one holds must_contain, dropping what the server sends
 * on its own meanwhile (server-everything logs and sends notifications
 * every few seconds); anything else is an unexpected answer. */
static void read_line(const char *must_contain)
{
    for (;;) {
        char *nl = memchr(in, '\n', have);
        if (nl) {
            *nl = '\0';
            int found = strstr(in, must_contain) != NULL;
            if (!found && !strstr(in, "\"method\""))
                die("unexpected answer");
            size_t n = (size_t)(nl - in) + 1;
            memmove(in, nl + 1, have - n);
            have -= n;
            if (found)
                return;
            continue;
        }
        if (have == sizeof in)
            die("line too long");
        struct pollfd p = {from_server, POLLIN, 0};
        if (poll(&p, 1, -1) < 0)
            die("poll failed");
        ssize_t r = read(from_server, in + have, sizeof in - have);
        if (r <= 0)
            die("the server went away");
        have += (size_t)r;
    }
}

static void send_text(const char *s, size_t n)
{
    if (write(to_server, s, n) != (ssize_t)n)
        die("write failed");
}

static void call(int i)
{
    char req[256], want[64];
    int n = snprintf(req, sizeof req,
                     "{\"jsonrpc\":\"2.0\",\"id\":%d,\"method\":\"tools/call\",\"params\":"
                     "{\"name\":\"echo\",\"arguments\":{\"message\":\"m-%d\"}}}\n",
                     i, i);
    snprintf(want, sizeof want, "Echo: m-%d\"", i);
    send_text(req, (size_t)n);
    read_line(want);
}

static double cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec +
           (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

int main(int argc, char **argv)
{
    int warmup = 200, calls = 2000, i;
    for (i = 1; i < argc && strcmp(argv[i], "--") != 0; i++) {
        if (strcmp(argv[i], "-w") == 0 && i + 1 < argc)
            warmup = atoi(argv[++i]);
        else if (strcmp(argv[i], "-n") == 0 && i + 1 < argc)
            calls = atoi(argv[++i]);
        else
            break;
    }
    if (i >= argc - 1 || strcmp(argv[i], "--") != 0 || calls < 1) {
        fprintf(stderr, "usage: bare_client [-w WARMUP] [-n CALLS] -- SERVER-COMMAND...\n");
        return 2;
    }
    int up[2], down[2];
    if (pipe(up) < 0 || pipe(down) < 0)
        die("pipe failed");
    signal(SIGPIPE, SIG_IGN);
    pid_t pid = fork();
    if (pid < 0)
        die("fork failed");
    if (pid == 0) {
        dup2(up[0], 0);
        dup2(down[1], 1);
        close(up[0]);
        close(up[1]);
        close(down[0]);
        close(down[1]);
        execvp(argv[i + 1], argv + i + 1);
        _exit(127);
    }
    close(up[0]);
    close(down[1]);
    to_server = up[1];
    from_server = down[0];
    static const char init[] =
        "{\"jsonrpc\":\"2.0\",\"id\":0,\"method\":\"initialize\",\"params\":"
        "{\"protocolVersion\":\"2025-11-25\",\"capabilities\":{},"
        "\"clientInfo\":{\"name\":\"bare_client\",\"version\":\"1\"}}}\n";
    static const char ready[] =
        "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}\n";
    send_text(init, sizeof init - 1);
    read_line("\"protocolVersion\"");
    send_text(ready, sizeof ready - 1);
    for (int k = 1; k <= warmup; k++)
        call(k);
    double c0 = cpu_s();
    for (int k = 1; k <= calls; k++)
        call(warmup + k);
    double used = cpu_s() - c0;
    close(to_server);
    waitpid(pid, NULL, 0);
    printf("{\"client\":\"bare\",\"calls\":%d,\"cpu_us_per_call\":%.3f}\n", calls,
           used / calls * 1e6);
    return 0;
}
