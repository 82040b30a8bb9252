/* builtin.h — in-process MCP servers (fs, memory; git later).
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

/* Helpers for tool implementations. */
cJSON *builtin_result_text(int is_error, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
cJSON *builtin_result_take_text(int is_error, char *text);  /* takes ownership */

#endif
