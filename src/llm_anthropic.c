/* llm_anthropic.c — the Anthropic Messages wire format: requests,
 * complete answers and streamed events (see llm_wire.h). The neutral
 * conversation maps onto content blocks: tool calls become tool_use
 * blocks of the assistant, tool messages become tool_result blocks of
 * the next user message, and consecutive messages of one role are merged
 * into one message, tool results first. */
#include "llm_wire_int.h"

#include <stdlib.h>
#include <string.h>

/* === requests === */

static cJSON *text_block(const char *text)
{
    cJSON *b = cJSON_CreateObject();
    cJSON_AddStringToObject(b, "type", "text");
    cJSON_AddStringToObject(b, "text", text);
    return b;
}

static int is_type(const cJSON *block, const char *type)
{
    const char *t = llm_wire_str(block, "type");
    return t && !strcmp(t, type);
}

/* The content blocks of one neutral message (a new array, maybe empty:
 * the API refuses empty text blocks). */
static cJSON *message_blocks(const cJSON *m, const char *role)
{
    const char *content = llm_wire_str(m, "content");
    cJSON *blocks = cJSON_CreateArray();
    if (!strcmp(role, "tool")) {
        cJSON *b = cJSON_CreateObject();
        cJSON_AddStringToObject(b, "type", "tool_result");
        cJSON_AddStringToObject(b, "tool_use_id", llm_wire_str(m, "tool_call_id"));
        if (content && *content)
            cJSON_AddStringToObject(b, "content", content);
        if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(m, "is_error")))
            cJSON_AddTrueToObject(b, "is_error");
        cJSON_AddItemToArray(blocks, b);
        return blocks;
    }
    if (content && *content)
        cJSON_AddItemToArray(blocks, text_block(content));
    if (strcmp(role, "assistant"))
        return blocks;
    const cJSON *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(m, "tool_calls")) {
        const cJSON *args = cJSON_GetObjectItemCaseSensitive(c, "arguments");
        cJSON *b = cJSON_CreateObject();
        cJSON_AddStringToObject(b, "type", "tool_use");
        cJSON_AddStringToObject(b, "id", llm_wire_str(c, "id"));
        cJSON_AddStringToObject(b, "name", llm_wire_str(c, "name"));
        cJSON_AddItemToObject(b, "input", args ? cJSON_Duplicate(args, 1) : cJSON_CreateObject());
        cJSON_AddItemToArray(blocks, b);
    }
    return blocks;
}

/* Move blocks into content; tool results go before any other block, as
 * the API wants them first in a user message. */
static void merge_blocks(cJSON *content, cJSON *blocks)
{
    cJSON *b;
    while ((b = cJSON_DetachItemFromArray(blocks, 0))) {
        int at = -1, i = 0;
        const cJSON *old;
        if (is_type(b, "tool_result")) {
            cJSON_ArrayForEach(old, content) {
                if (!is_type(old, "tool_result")) {
                    at = i;
                    break;
                }
                i++;
            }
        }
        if (at >= 0)
            cJSON_InsertItemInArray(content, at, b);
        else
            cJSON_AddItemToArray(content, b);
    }
    cJSON_Delete(blocks);
}

static cJSON *conversation(const cJSON *messages)
{
    cJSON *out = cJSON_CreateArray();
    cJSON *cur = NULL;
    const char *cur_role = NULL;
    const cJSON *m;
    cJSON_ArrayForEach(m, messages) {
        const char *role = llm_wire_str(m, "role");
        if (!strcmp(role, "system"))
            continue;
        const char *wire_role = !strcmp(role, "assistant") ? "assistant" : "user";
        cJSON *blocks = message_blocks(m, role);
        if (cJSON_GetArraySize(blocks) == 0) {
            cJSON_Delete(blocks);
            continue;
        }
        if (!cur || strcmp(cur_role, wire_role)) {
            cur = cJSON_CreateObject();
            cJSON_AddStringToObject(cur, "role", wire_role);
            cJSON_AddItemToObject(cur, "content", cJSON_CreateArray());
            cJSON_AddItemToArray(out, cur);
            cur_role = wire_role;
        }
        merge_blocks(cJSON_GetObjectItemCaseSensitive(cur, "content"), blocks);
    }
    /* A message that is a single text block is sent as a plain string. */
    cJSON_ArrayForEach(m, out) {
        cJSON *content = cJSON_GetObjectItemCaseSensitive(m, "content");
        const cJSON *only = cJSON_GetArrayItem(content, 0);
        if (cJSON_GetArraySize(content) == 1 && is_type(only, "text"))
            cJSON_ReplaceItemInObjectCaseSensitive(
                (cJSON *)m, "content", cJSON_CreateString(llm_wire_str(only, "text")));
    }
    return out;
}

char *llm_anthropic_request(const struct llm_wire_req *r, char **errmsg)
{
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "model", r->model);
    cJSON_AddNumberToObject(root, "max_tokens", r->max_tokens);
    const cJSON *first = cJSON_GetArrayItem(r->messages, 0);
    const char *role = llm_wire_str(first, "role");
    const char *system = role && !strcmp(role, "system") ? llm_wire_str(first, "content") : NULL;
    if (system && *system)
        cJSON_AddStringToObject(root, "system", system);
    cJSON *msgs = conversation(r->messages);
    if (cJSON_GetArraySize(msgs) == 0) {
        cJSON_Delete(msgs);
        cJSON_Delete(root);
        llm_wire_fail(errmsg, "the conversation has no user or assistant message with content");
        return NULL;
    }
    cJSON_AddItemToObject(root, "messages", msgs);
    if (cJSON_GetArraySize(r->tools) > 0) {
        cJSON *tools = cJSON_AddArrayToObject(root, "tools");
        const cJSON *t;
        cJSON_ArrayForEach(t, r->tools) {
            cJSON *o = cJSON_CreateObject();
            cJSON_AddStringToObject(o, "name", llm_wire_str(t, "name"));
            const char *desc = llm_wire_str(t, "description");
            if (desc && *desc)
                cJSON_AddStringToObject(o, "description", desc);
            cJSON_AddItemToObject(
                o, "input_schema",
                llm_wire_schema(cJSON_GetObjectItemCaseSensitive(t, "input_schema")));
            cJSON_AddItemToArray(tools, o);
        }
    }
    if (r->temperature >= 0)
        cJSON_AddNumberToObject(root, "temperature", r->temperature);
    if (r->stream)
        cJSON_AddTrueToObject(root, "stream");
    char *t = cJSON_PrintUnformatted(root);
    char *out = xstrdup(t);
    cJSON_free(t);
    cJSON_Delete(root);
    return out;
}

/* === answers === */

enum llm_stop llm_anthropic_stop(const char *reason)
{
    if (!reason)
        return LLM_STOP_OTHER;
    if (!strcmp(reason, "end_turn") || !strcmp(reason, "stop_sequence"))
        return LLM_STOP_END;
    if (!strcmp(reason, "tool_use"))
        return LLM_STOP_TOOL_USE;
    if (!strcmp(reason, "max_tokens"))
        return LLM_STOP_MAX_TOKENS;
    return LLM_STOP_OTHER;
}

/* Usage: input tokens count the cached prompt too (read and written). */
static void usage(const cJSON *u, int64_t *in, int64_t *out)
{
    static const char *const inputs[] = {"input_tokens", "cache_creation_input_tokens",
                                         "cache_read_input_tokens"};
    if (!cJSON_IsObject(u))
        return;
    int64_t sum = -1;
    for (size_t i = 0; i < ARRAY_LEN(inputs); i++) {
        int64_t n = llm_wire_int(u, inputs[i]);
        if (n >= 0)
            sum = (sum < 0 ? 0 : sum) + n;
    }
    if (sum >= 0)
        *in = sum;
    int64_t o = llm_wire_int(u, "output_tokens");
    if (o >= 0)
        *out = o;
}

static const char *error_of(const cJSON *root)
{
    const char *type = llm_wire_str(root, "type");
    if ((type && !strcmp(type, "error")) || cJSON_GetObjectItemCaseSensitive(root, "error")) {
        const char *m = llm_wire_error_message(root);
        return m ? m : "(no message)";
    }
    return NULL;
}

int llm_anthropic_response(const char *body, size_t len, struct llm_result *out, char **errmsg)
{
    struct buf text;
    buf_init(&text);
    cJSON *root = llm_wire_parse(body, len, errmsg);
    if (!root)
        return -1;
    const char *err = cJSON_IsObject(root) ? error_of(root) : NULL;
    const cJSON *content = cJSON_GetObjectItemCaseSensitive(root, "content");
    if (!cJSON_IsObject(root)) {
        llm_wire_fail(errmsg, "the answer is not a JSON object");
        goto fail;
    }
    if (err) {
        llm_wire_fail(errmsg, "the provider returned an error: %s", err);
        goto fail;
    }
    if (!cJSON_IsArray(content)) {
        llm_wire_fail(errmsg, "no content in the answer");
        goto fail;
    }
    out->tool_calls = cJSON_CreateArray();
    int ncalls = 0;
    const cJSON *b;
    cJSON_ArrayForEach(b, content) {
        if (is_type(b, "text")) {
            const char *t = llm_wire_str(b, "text");
            buf_puts(&text, t ? t : "");
        } else if (is_type(b, "tool_use")) {
            const char *name = llm_wire_str(b, "name");
            const cJSON *input = cJSON_GetObjectItemCaseSensitive(b, "input");
            if (ncalls++ == LLM_MAX_TOOL_CALLS) {
                llm_wire_too_many_calls(errmsg);
                goto fail;
            }
            if (!name || !*name) {
                llm_wire_fail(errmsg, "a tool_use block in the answer has no name");
                goto fail;
            }
            if (input && !cJSON_IsObject(input)) {
                llm_wire_fail(errmsg, "the arguments for tool '%s' are not a JSON object", name);
                goto fail;
            }
            cJSON_AddItemToArray(out->tool_calls,
                                 llm_wire_tool_call(llm_wire_str(b, "id"), name,
                                                    input ? cJSON_Duplicate(input, 1)
                                                          : cJSON_CreateObject()));
        }
    }
    out->text = buf_detach(&text);
    const char *reason = llm_wire_str(root, "stop_reason");
    out->stop = llm_anthropic_stop(reason);
    out->stop_raw = xstrdup(reason);
    usage(cJSON_GetObjectItemCaseSensitive(root, "usage"), &out->tokens_in, &out->tokens_out);
    out->model = xstrdup(llm_wire_str(root, "model"));
    out->id = xstrdup(llm_wire_str(root, "id"));
    cJSON_Delete(root);
    return 0;
fail:
    buf_fini(&text);
    cJSON_Delete(root);
    return -1;
}

/* === streams === */

/* -1: the block was started already; -2: a call past LLM_MAX_TOOL_CALLS */
static int block_start(struct llm_stream *s, long index, const cJSON *block)
{
    if (is_type(block, "text")) {
        const char *t = llm_wire_str(block, "text");
        if (t)
            llm_stream_text(s, t, strlen(t));
    } else if (is_type(block, "tool_use")) {
        if (llm_stream_call_find(s, index))
            return -1;
        struct llm_stream_call *c = llm_stream_call_add(s, index);
        if (!c)
            return -2;
        llm_stream_set(&c->id, llm_wire_str(block, "id"));
        llm_stream_set(&c->name, llm_wire_str(block, "name"));
        const cJSON *input = cJSON_GetObjectItemCaseSensitive(block, "input");
        if (cJSON_IsObject(input))
            c->input = cJSON_Duplicate(input, 1);
    }
    return 0;
}

static int block_delta(struct llm_stream *s, long index, const cJSON *delta)
{
    if (is_type(delta, "text_delta")) {
        const char *t = llm_wire_str(delta, "text");
        if (t)
            llm_stream_text(s, t, strlen(t));
    } else if (is_type(delta, "input_json_delta")) {
        struct llm_stream_call *c = llm_stream_call_find(s, index);
        if (!c)
            return -1;
        const char *piece = llm_wire_str(delta, "partial_json");
        if (piece)
            buf_puts(&c->args, piece);
    }
    return 0;
}

int llm_anthropic_stream_event(struct llm_stream *s, const char *type, const char *data,
                               size_t len, char **errmsg)
{
    if (s->complete)
        return 0;
    size_t i = 0;
    while (i < len && (data[i] == ' ' || data[i] == '\n' || data[i] == '\r' || data[i] == '\t'))
        i++;
    if (i == len)
        return 0;
    char *err = NULL;
    cJSON *root = llm_wire_parse(data, len, &err);
    if (!root) {
        char *msg = xasprintf("malformed stream event '%s': %s", type, err);
        free(err);
        return llm_stream_fail(s, msg, errmsg);
    }
    if (!cJSON_IsObject(root)) {
        cJSON_Delete(root);
        return llm_stream_fail(s, xasprintf("malformed stream event '%s': not a JSON object", type),
                               errmsg);
    }
    const char *t = llm_wire_str(root, "type");
    if (!t)
        t = type;
    const cJSON *idx = cJSON_GetObjectItemCaseSensitive(root, "index");
    int64_t at = 0;
    if (cJSON_IsNumber(idx) && !util_whole_in(idx->valuedouble, 0, INT32_MAX, &at))
        at = -1;   /* matches no block */
    long index = (long)at;
    int rc = 0;
    if (!strcmp(t, "error")) {
        const char *m = llm_wire_error_message(root);
        char *msg = xasprintf("the provider sent an error in the stream: %s",
                              m ? m : "(no message)");
        cJSON_Delete(root);
        return llm_stream_fail(s, msg, errmsg);
    } else if (!strcmp(t, "message_start")) {
        const cJSON *msg = cJSON_GetObjectItemCaseSensitive(root, "message");
        llm_stream_set(&s->id, llm_wire_str(msg, "id"));
        llm_stream_set(&s->model, llm_wire_str(msg, "model"));
        usage(cJSON_GetObjectItemCaseSensitive(msg, "usage"), &s->tokens_in, &s->tokens_out);
    } else if (!strcmp(t, "content_block_start")) {
        rc = block_start(s, index, cJSON_GetObjectItemCaseSensitive(root, "content_block"));
    } else if (!strcmp(t, "content_block_delta")) {
        rc = block_delta(s, index, cJSON_GetObjectItemCaseSensitive(root, "delta"));
    } else if (!strcmp(t, "message_delta")) {
        const cJSON *delta = cJSON_GetObjectItemCaseSensitive(root, "delta");
        llm_stream_set(&s->stop_raw, llm_wire_str(delta, "stop_reason"));
        usage(cJSON_GetObjectItemCaseSensitive(root, "usage"), &s->tokens_in, &s->tokens_out);
    } else if (!strcmp(t, "message_stop")) {
        s->complete = 1;
    }
    /* ping, content_block_stop and event types added later need nothing */
    cJSON_Delete(root);
    if (rc == -2) {
        char *msg = NULL;
        llm_wire_too_many_calls(&msg);
        return llm_stream_fail(s, msg, errmsg);
    }
    if (rc < 0)
        return llm_stream_fail(
            s, xasprintf("malformed stream: content block %ld is not a started tool_use", index),
            errmsg);
    return 0;
}
