/* builtin.h — in-process MCP servers (fs, git; memory later).
 *
 * A built-in server is a table of tools. mcp_inproc.c wraps it in the same
 * transport interface as stdio and HTTP servers: it answers initialize,
 * tools/list and tools/call, so the rest of the program cannot tell the
 * difference. Tool calls run on a worker thread, so a tool function must
 * be thread-safe and touch nothing but its arguments and the file system. */
#ifndef MCPDECK_BUILTIN_H
#define MCPDECK_BUILTIN_H

#include <cjson/cJSON.h>
#include <stddef.h>

struct builtin_ctx {
    const char *root;            /* workspace root (absolute, resolved) */
};

/* Tool annotations (MCP ToolAnnotations) a tool declares. */
enum {
    BUILTIN_READ_ONLY = 1,       /* readOnlyHint: changes nothing */
    BUILTIN_DESTRUCTIVE = 2,     /* destructiveHint: may overwrite or remove data */
    BUILTIN_IDEMPOTENT = 4,      /* idempotentHint: repeating it changes nothing more */
};

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
};

struct builtin_server {
    const char *name;
    const char *version;
    const char *instructions;    /* may be NULL */
    const struct builtin_tool *tools;
    size_t ntools;
};

extern const struct builtin_server builtin_fs;
extern const struct builtin_server builtin_git;

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
