/* llm_wire.h — the wire formats of the model providers, and nothing else:
 * OpenAI-compatible Chat Completions (OpenRouter, OpenAI, Ollama, vLLM,
 * LM Studio, a LiteLLM proxy) and the Anthropic Messages API. Pure
 * functions over JSON text: no I/O, no clock, no state beyond a stream
 * parser. llm.c (the gateway) does the HTTP, fallbacks and accounting.
 *
 * The gateway speaks one neutral conversation format, converted here:
 *
 *   messages: [{"role": "system" | "user" | "assistant" | "tool",
 *               "content": "text",                        (may be "")
 *               "tool_calls": [{"id": "c1", "name": "server__tool",
 *                               "arguments": {...}}],     (assistant only)
 *               "tool_call_id": "c1",                     (tool only)
 *               "is_error": true}]                        (tool only, optional)
 *   tools:    [{"name": "...", "description": "...", "input_schema": {...}}]
 *
 * A system message may appear first only (Anthropic takes it as the
 * top-level "system"). Tool names are passed through as given (the
 * gateway makes them provider-safe). */
#ifndef MCPDECK_LLM_WIRE_H
#define MCPDECK_LLM_WIRE_H

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>

enum llm_dialect { LLM_DIALECT_OPENAI, LLM_DIALECT_ANTHROPIC };

struct llm_wire_req {
    const char *model;           /* the provider's model id */
    const cJSON *messages;       /* neutral messages (above) */
    const cJSON *tools;          /* neutral tools, or NULL */
    int max_tokens;              /* > 0; Anthropic requires it */
    double temperature;          /* < 0: not sent */
    int stream;                  /* ask for a streamed answer (and usage in it) */
};

enum llm_stop {
    LLM_STOP_END,                /* the model finished its answer */
    LLM_STOP_TOOL_USE,           /* it asks for tool calls */
    LLM_STOP_MAX_TOKENS,         /* cut by max_tokens: the answer is truncated */
    LLM_STOP_OTHER,              /* content filter, refusal, ... (see stop_raw) */
};
/* OpenAI "stop" with tool calls in the answer (some compatible servers
 * say so) is LLM_STOP_TOOL_USE: the calls are what the caller acts on. */

struct llm_result {
    char *text;                  /* the answer's text ("" when none), malloc'd */
    cJSON *tool_calls;           /* neutral tool calls (array, possibly empty); each has an
                                    id ("call_N" when the provider sent none), a name and
                                    object arguments */
    enum llm_stop stop;
    char *stop_raw;              /* the provider's own word ("stop", "end_turn"...) */
    int64_t tokens_in, tokens_out;   /* usage; -1 when the provider sent none */
    char *model;                 /* the model that answered, as reported, or NULL */
    char *id;                    /* the provider's response id, or NULL */
};
void llm_result_fini(struct llm_result *r);      /* NULL-safe; zeroes it */

/* The request path under the provider's base URL: "/chat/completions"
 * or "/v1/messages" (base URLs are given without it, e.g.
 * https://openrouter.ai/api/v1 and https://api.anthropic.com). */
const char *llm_wire_path(enum llm_dialect d);

/* The JSON body of a request (malloc'd), or NULL with *errmsg for a
 * conversation the dialect cannot express (e.g. a tool message whose
 * tool_call_id matches no earlier call, a system message after the
 * first). Tool input schemas are sent as object schemas without
 * "$schema" or top-level oneOf/anyOf/allOf/not. OpenAI has no place for
 * a tool message's is_error: the content alone must say it. */
char *llm_wire_request(enum llm_dialect d, const struct llm_wire_req *r, char **errmsg);

/* A complete (not streamed) 2xx response body. 0, or -1 with *errmsg
 * ("malformed JSON at offset 12", "no choices in the answer"...); an
 * error body sent with a 2xx is -1 too. *out is zeroed (usage -1) on -1;
 * llm_result_fini() it either way. */
int llm_wire_response(enum llm_dialect d, const char *body, size_t len, struct llm_result *out,
                      char **errmsg);

/* The provider's error message from a non-2xx body (malloc'd): its
 * error.message when the body has one, else a short excerpt of the body,
 * always prefixed with the HTTP status ("429: rate limited"). */
char *llm_wire_error(enum llm_dialect d, long status, const char *body, size_t len);

/* === streaming === */

/* Called for each piece of answer text as it arrives. */
typedef void (*llm_delta_cb)(void *payload, const char *text, size_t len);

struct llm_stream;
struct llm_stream *llm_stream_new(enum llm_dialect d, llm_delta_cb cb, void *payload);
void llm_stream_free(struct llm_stream *s);      /* NULL-safe */
/* One Server-Sent Event (type "message" when it had no event: line).
 * 0, or -1 with *errmsg for malformed data or an error event sent in the
 * stream (Anthropic's "error" event, an OpenAI chunk with "error").
 * After an error every later call returns that error again. */
int llm_stream_event(struct llm_stream *s, const char *type, const char *data, size_t len,
                     char **errmsg);
/* The stream ended (the connection closed). 0 and *out when the answer
 * is complete: OpenAI: a finish_reason arrived (and [DONE] when the
 * provider sends it); Anthropic: message_stop arrived. Otherwise -1 with
 * *errmsg ("the stream ended before the answer was complete") — a
 * truncated answer is never a result. Tool call arguments streamed in
 * pieces are assembled and must parse as JSON objects. Call it once: it
 * moves the answer into *out (zeroed, usage -1, on -1). */
int llm_stream_finish(struct llm_stream *s, struct llm_result *out, char **errmsg);

#endif
