/* builtin.h — in-process MCP servers (fs, git, memory).
 *
 * A built-in server is a table of tools. mcp_inproc.c wraps it in the same
 * transport interface as stdio and HTTP servers: it answers initialize,
 * tools/list and tools/call, so the rest of the program cannot tell the
 * difference. A tool's call runs on a worker thread, so it must be
 * thread-safe and touch nothing but its arguments and the file system.
 * A tool with start instead (memory) runs on the loop thread, where the
 * engine's state lives, and answers when it is done. */
#ifndef MCPDECK_BUILTIN_H
#define MCPDECK_BUILTIN_H

#include <cjson/cJSON.h>
#include <stddef.h>

struct memory;

struct builtin_ctx {
    const char *root;            /* workspace root (absolute, resolved) */
    struct memory *memory;       /* the engine's memory store (start tools only) */
};

/* Tool annotations (MCP ToolAnnotations) a tool declares. */
enum {
    BUILTIN_READ_ONLY = 1,       /* readOnlyHint: changes nothing */
    BUILTIN_DESTRUCTIVE = 2,     /* destructiveHint: may overwrite or remove data */
    BUILTIN_IDEMPOTENT = 4,      /* idempotentHint: repeating it changes nothing more */
};

/* Answer a started tool call: result is taken. Loop thread, exactly once. */
typedef void (*builtin_reply_fn)(void *token, cJSON *result);

struct builtin_tool {
    const char *name;
    const char *description;
    const char *input_schema;    /* JSON Schema text (an object schema) */
    /* Return a new MCP CallToolResult object:
     * {"content":[{"type":"text","text":...}], "isError": bool,
     *  optional "structuredContent"}. Bad arguments and refused paths are
     * results with isError true and a message saying what and why. */
    cJSON *(*call)(const struct builtin_ctx *ctx, const cJSON *args);
    unsigned hints;              /* BUILTIN_* flags, sent as annotations */
    /* Or (call NULL): start on the loop thread and reply(token, result)
     * later or at once. args stay valid until the reply. */
    void (*start)(const struct builtin_ctx *ctx, const cJSON *args, builtin_reply_fn reply,
                  void *token);
};

struct builtin_server {
    const char *name;
    const char *version;
    const char *instructions;    /* may be NULL */
    const struct builtin_tool *tools;
    size_t ntools;
};

extern const struct builtin_server builtin_fs;
extern const struct builtin_server builtin_memory;
extern const struct builtin_server builtin_git;
/* The optional shell server (only when shell.enabled): its settings, set
 * once before it is registered. */
extern const struct builtin_server builtin_shell;
/* hide: the config's secret variables, kept from the commands with those
 * whose names look secret (borrowed). */
void builtin_shell_configure(char *const *allow, size_t nallow, int timeout_ms, size_t max_output,
                             char *const *hide, size_t nhide);

/* Helpers for tool implementations. */
cJSON *builtin_result_text(int is_error, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
cJSON *builtin_result_take_text(int is_error, char *text);  /* takes ownership */

/* Argument checks. Each returns 0, or -1 with an error result (isError,
 * naming the argument and what it must be) in *err. */
/* Refuse arguments not in allowed (NULL-terminated): an error result or NULL. */
cJSON *builtin_args_check(const cJSON *args, const char *const *allowed);
/* A string; *out borrowed, NULL when absent and not required. */
int builtin_arg_string(const cJSON *args, const char *name, int required, const char **out,
                       cJSON **err);
/* An optional integer in [min, max]; *out keeps its value when absent. */
int builtin_arg_int(const cJSON *args, const char *name, long min, long max, long *out,
                    cJSON **err);
/* An optional boolean; *out keeps its value when absent. */
int builtin_arg_bool(const cJSON *args, const char *name, int *out, cJSON **err);

#endif
