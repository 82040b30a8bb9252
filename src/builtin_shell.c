/* builtin_shell.c — the optional `shell` built-in server: one tool, `run`,
 * that executes a program with arguments (argv, never a shell: no
 * globbing, no pipes, no variable expansion), only programs the config
 * allows (shell.allow: names or globs matched against argv[0]), in a
 * working directory inside the workspace root, with a timeout and a cap
 * on the output kept. Registered only when shell.enabled is true. The tool
 * says it is destructive, so the tool policy asks (TUI) or needs
 * tools.approve (batch) before it runs.
 *
 * The call runs on a worker thread (like every built-in call): fork,
 * exec in a new process group, read stdout and stderr with poll until
 * both close or the deadline passes (then the group is killed). */
#include "builtin.h"
#include "pathjail.h"
#include "redact.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <poll.h>
#include <stdio.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static struct {                  /* set once at start-up by builtin_shell_configure */
    char **allow;
    size_t nallow;
    int timeout_ms;
    size_t max_output;
    char *const *hide;
    size_t nhide;
} shell_cfg = {NULL, 0, 30000, 1 << 20, NULL, 0};

void builtin_shell_configure(char *const *allow, size_t nallow, int timeout_ms, size_t max_output,
                             char *const *hide, size_t nhide)
{
    shell_cfg.hide = hide;
    shell_cfg.nhide = nhide;
    shell_cfg.allow = (char **)allow;
    shell_cfg.nallow = nallow;
    shell_cfg.timeout_ms = timeout_ms > 0 ? timeout_ms : 30000;
    shell_cfg.max_output = max_output > 0 ? max_output : 1 << 20;
}

static const char run_schema[] =
    "{\"type\":\"object\",\"properties\":{"
    "\"argv\":{\"type\":\"array\",\"items\":{\"type\":\"string\"},\"minItems\":1,"
    "\"description\":\"the program and its arguments (no shell: no globs, pipes or $VARS)\"},"
    "\"cwd\":{\"type\":\"string\",\"description\":\"working directory inside the workspace "
    "(default: the workspace root)\"},"
    "\"timeout_ms\":{\"type\":\"integer\",\"minimum\":1,\"description\":\"at most the "
    "configured shell.timeout\"}},\"required\":[\"argv\"],\"additionalProperties\":false}";

static int allowed(const char *prog)
{
    const char *base = strrchr(prog, '/');
    base = base ? base + 1 : prog;
    for (size_t i = 0; i < shell_cfg.nallow; i++)
        if (fnmatch(shell_cfg.allow[i], base, 0) == 0 || fnmatch(shell_cfg.allow[i], prog, 0) == 0)
            return 1;
    return 0;
}

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Append up to the cap; count what was dropped. */
static void keep(struct buf *b, const char *data, size_t n, size_t *dropped)
{
    size_t room = b->len < shell_cfg.max_output ? shell_cfg.max_output - b->len : 0;
    size_t take = n < room ? n : room;
    buf_append(b, data, take);
    *dropped += n - take;
}

static cJSON *shell_run(const struct builtin_ctx *ctx, const cJSON *args)
{
    static const char *const keys[] = {"argv", "cwd", "timeout_ms", NULL};
    cJSON *err = builtin_args_check(args, keys);
    if (err)
        return err;
    const cJSON *argv = cJSON_GetObjectItemCaseSensitive(args, "argv");
    int argc = cJSON_IsArray(argv) ? cJSON_GetArraySize(argv) : 0;
    if (argc < 1)
        return builtin_result_text(1, "argv must be a non-empty array of strings");
    const char *cwd_arg = NULL;
    long timeout = shell_cfg.timeout_ms;
    if (builtin_arg_string(args, "cwd", 0, &cwd_arg, &err) < 0 ||
        builtin_arg_int(args, "timeout_ms", 1, shell_cfg.timeout_ms, &timeout, &err) < 0)
        return err;
    char **av = xcalloc((size_t)argc + 1, sizeof *av);
    int i = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, argv) {
        if (!cJSON_IsString(it)) {
            free(av);
            return builtin_result_text(1, "argv[%d] must be a string", i);
        }
        av[i++] = it->valuestring;
    }
    if (!allowed(av[0])) {
        cJSON *r = builtin_result_text(1, "refused: '%s' is not in shell.allow in the config",
                                       av[0]);
        free(av);
        return r;
    }
    char *cwd = NULL, *why = NULL;
    if (pathjail_resolve(ctx->root, cwd_arg ? cwd_arg : ".", 1, &cwd, &why) < 0) {
        cJSON *r = builtin_result_text(1, "cwd: %s", why);
        free(why);
        free(av);
        return r;
    }
    int out[2], errp[2];
    if (pipe2(out, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0) {
        free(cwd);
        free(av);
        return builtin_result_text(1, "cannot create pipes: %s", strerror(errno));
    }
    /* a command gets no secret: the model chose it */
    char **env = redact_child_env(shell_cfg.hide, shell_cfg.nhide, NULL, 0, NULL);
    pid_t pid = fork();
    if (pid == 0) {
        environ = env;
        setpgid(0, 0);
        int devnull = open("/dev/null", O_RDONLY);
        dup2(devnull, 0);
        dup2(out[1], 1);
        dup2(errp[1], 2);
        if (chdir(cwd) < 0)
            _exit(126);
        execvp(av[0], av);
        dprintf(2, "cannot run %s: %s\n", av[0], strerror(errno));
        _exit(127);
    }
    free(env);
    close(out[1]);
    close(errp[1]);
    free(cwd);
    if (pid < 0) {
        close(out[0]);
        close(errp[0]);
        free(av);
        return builtin_result_text(1, "cannot fork: %s", strerror(errno));
    }
    struct buf o, e;
    buf_init(&o);
    buf_init(&e);
    size_t dropped = 0;
    int64_t deadline = mono_ms() + timeout;
    int timed_out = 0;
    struct pollfd fds[2] = {{out[0], POLLIN, 0}, {errp[0], POLLIN, 0}};
    int open_fds = 2;
    char chunk[8192];
    while (open_fds > 0) {
        int64_t left = deadline - mono_ms();
        if (left <= 0) {
            timed_out = 1;
            break;
        }
        if (poll(fds, 2, (int)left) < 0 && errno != EINTR)
            break;
        for (int k = 0; k < 2; k++) {
            if (fds[k].fd < 0 || !(fds[k].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            ssize_t n = read(fds[k].fd, chunk, sizeof chunk);
            if (n > 0) {
                keep(k ? &e : &o, chunk, (size_t)n, &dropped);
            } else if (n == 0 || errno != EINTR) {
                close(fds[k].fd);
                fds[k].fd = -1;
                open_fds--;
            }
        }
    }
    if (timed_out)
        kill(-pid, SIGKILL);
    for (int k = 0; k < 2; k++)
        if (fds[k].fd >= 0)
            close(fds[k].fd);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    struct buf text;
    buf_init(&text);
    buf_printf(&text, "$ %s", av[0]);
    for (int k = 1; k < argc; k++)
        buf_printf(&text, " %s", av[k]);
    buf_puts(&text, "\n");
    if (o.len)
        buf_append(&text, o.data, o.len);
    if (e.len) {
        buf_puts(&text, o.len && o.data[o.len - 1] != '\n' ? "\n[stderr]\n" : "[stderr]\n");
        buf_append(&text, e.data, e.len);
    }
    if (dropped)
        buf_printf(&text, "\n[%zu bytes of output dropped: over shell.max_output]", dropped);
    if (timed_out)
        buf_printf(&text, "\n[killed after %ld ms: the timeout]", timeout);
    else if (WIFSIGNALED(status))
        buf_printf(&text, "\n[killed by signal %d]", WTERMSIG(status));
    else
        buf_printf(&text, "\n[exit status %d]", code);
    int failed = timed_out || code != 0;
    cJSON *r = builtin_result_take_text(failed, buf_detach(&text));
    cJSON *sc = cJSON_AddObjectToObject(r, "structuredContent");
    cJSON_AddNumberToObject(sc, "exit_code", code);
    cJSON_AddBoolToObject(sc, "timed_out", timed_out);
    cJSON_AddStringToObject(sc, "stdout", o.data ? o.data : "");
    cJSON_AddStringToObject(sc, "stderr", e.data ? e.data : "");
    buf_fini(&o);
    buf_fini(&e);
    free(av);
    return r;
}

static const struct builtin_tool shell_tools[] = {
    {"run",
     "Run a program with arguments (argv; no shell) in the workspace, if the config allows "
     "it; returns its output and exit status.",
     run_schema, shell_run, BUILTIN_DESTRUCTIVE, NULL},
};

const struct builtin_server builtin_shell = {"shell", "1", NULL, shell_tools, 1};
