/* builtin.h — in-process MCP servers (fs now; git and memory later).
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

struct builtin_tool {
    const char *name;
    const char *description;
    const char *input_schema;    /* JSON Schema text (an object schema) */
    /* Return a new MCP CallToolResult object:
     * {"content":[{"type":"text","text":...}], "isError": bool,
     *  optional "structuredContent"}. Bad arguments and refused paths are
     * results with isError true and a message saying what and why. */
    cJSON *(*call)(const struct builtin_ctx *ctx, const cJSON *args);
};

struct builtin_server {
    const char *name;
    const char *version;
    const char *instructions;    /* may be NULL */
    const struct builtin_tool *tools;
    size_t ntools;
};

extern const struct builtin_server builtin_fs;

/* Helpers for tool implementations. */
cJSON *builtin_result_text(int is_error, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
cJSON *builtin_result_take_text(int is_error, char *text);  /* takes ownership */

#endif
