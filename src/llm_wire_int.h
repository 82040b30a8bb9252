/* llm_wire_int.h — shared by llm_wire.c, llm_openai.c and
 * llm_anthropic.c only: the stream state both dialects fill, and the
 * helpers that do not depend on a dialect. */
#ifndef MCPDECK_LLM_WIRE_INT_H
#define MCPDECK_LLM_WIRE_INT_H

#include "llm_wire.h"
#include "util.h"

/* A tool call being streamed: its arguments arrive as pieces of JSON. */
struct llm_stream_call {
    long key;                    /* OpenAI: tool_calls[].index; Anthropic: block index */
    char *id;
    char *name;
    struct buf args;             /* the argument pieces, joined */
    cJSON *input;                /* Anthropic: content_block.input, used if no pieces */
};

struct llm_stream {
    enum llm_dialect dialect;
    llm_delta_cb cb;
    void *payload;
    struct buf text;
    struct llm_stream_call *calls;
    size_t ncalls, cap;
    char *stop_raw;              /* the finish/stop reason, once it arrived */
    int complete;                /* OpenAI: a finish_reason; Anthropic: message_stop */
    int done;                    /* OpenAI: [DONE] arrived; later events are ignored */
    char *error;                 /* the first error, returned again by finish */
    int64_t tokens_in, tokens_out;
    char *model, *id;
};

/* Tool calls one answer may ask for: each becomes a tool call the agent
 * runs at once, and a stream looks calls up by index. More is refused
 * (llm_wire_too_many_calls). */
#define LLM_MAX_TOOL_CALLS 128

/* === llm_wire.c: helpers === */

/* "the answer asks for more than 128 tool calls" into *errmsg; -1. */
int llm_wire_too_many_calls(char **errmsg);

/* Set *errmsg (when errmsg is not NULL) to a formatted message. Returns -1. */
int llm_wire_fail(char **errmsg, const char *fmt, ...) PRINTF_LIKE(2, 3);

/* Parse a JSON document; NULL with "malformed JSON at offset N" on error. */
cJSON *llm_wire_parse(const char *body, size_t len, char **errmsg);

/* Check a neutral conversation: an array of objects with known roles, a
 * system message first only, tool calls with an id and a name, and tool
 * messages answering an earlier call. 0, or -1 with *errmsg. */
int llm_wire_check_messages(const cJSON *messages, char **errmsg);

/* The provider-side schema of a tool's input (a new object): an object
 * schema always, "$schema" and the top-level combinators providers reject
 * dropped, the rest kept. */
cJSON *llm_wire_schema(const cJSON *input_schema);

/* A neutral tool call {"id", "name", "arguments"}; takes args. */
cJSON *llm_wire_tool_call(const char *id, const char *name, cJSON *args);

/* Parse tool call arguments sent as a JSON string: "" is {}, anything
 * but an object is an error naming the tool. NULL with *errmsg. */
cJSON *llm_wire_parse_args(const char *name, const char *json, size_t len, char **errmsg);

/* The error message in a provider's error body (error.message, a bare
 * error string, message or detail), borrowed from root, or NULL. */
const char *llm_wire_error_message(const cJSON *root);

/* A string member, or NULL. */
const char *llm_wire_str(const cJSON *obj, const char *key);

/* An integer member, or -1 when missing or not a number. */
int64_t llm_wire_int(const cJSON *obj, const char *key);

/* Zero a result and mark its usage unknown. */
void llm_result_init(struct llm_result *r);

/* Streams: record the first error (takes msg) and return -1 with a copy. */
int llm_stream_fail(struct llm_stream *s, char *msg, char **errmsg);
/* Append answer text and pass it to the callback. */
void llm_stream_text(struct llm_stream *s, const char *text, size_t len);
/* The call with this key, or NULL. */
struct llm_stream_call *llm_stream_call_find(struct llm_stream *s, long key);
/* A new call with this key, appended; NULL when there are
 * LLM_MAX_TOOL_CALLS already. */
struct llm_stream_call *llm_stream_call_add(struct llm_stream *s, long key);
/* Replace *slot with a copy of v when v is a non-empty string. */
void llm_stream_set(char **slot, const char *v);

/* === llm_openai.c === */
char *llm_openai_request(const struct llm_wire_req *r, char **errmsg);
int llm_openai_response(const char *body, size_t len, struct llm_result *out, char **errmsg);
enum llm_stop llm_openai_stop(const char *reason, int has_calls);
int llm_openai_stream_event(struct llm_stream *s, const char *type, const char *data,
                            size_t len, char **errmsg);

/* === llm_anthropic.c === */
char *llm_anthropic_request(const struct llm_wire_req *r, char **errmsg);
int llm_anthropic_response(const char *body, size_t len, struct llm_result *out,
                           char **errmsg);
enum llm_stop llm_anthropic_stop(const char *reason);
int llm_anthropic_stream_event(struct llm_stream *s, const char *type, const char *data,
                               size_t len, char **errmsg);

#endif
