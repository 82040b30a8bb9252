/* llm_openai.c — the OpenAI Chat Completions wire format, as spoken by
 * OpenAI, OpenRouter, Ollama, vLLM, LM Studio and LiteLLM: requests,
 * complete answers and streamed chunks (see llm_wire.h). Tool call
 * arguments travel as JSON text inside JSON here; the neutral format
 * holds them as objects. */
#include "llm_wire_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* === requests === */

static char *print_json(const cJSON *v)
{
    char *t = cJSON_PrintUnformatted(v);
    char *out = xstrdup(t ? t : "{}");
    cJSON_free(t);
    return out;
}

static cJSON *message_json(const cJSON *m)
{
    const char *role = llm_wire_str(m, "role");
    const char *content = llm_wire_str(m, "content");
    const cJSON *calls = cJSON_GetObjectItemCaseSensitive(m, "tool_calls");
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "role", role);
    if (!strcmp(role, "assistant") && cJSON_GetArraySize(calls) > 0) {
        /* content is null on a message that only calls tools */
        if (content && *content)
            cJSON_AddStringToObject(o, "content", content);
        else
            cJSON_AddNullToObject(o, "content");
        cJSON *tc = cJSON_AddArrayToObject(o, "tool_calls");
        const cJSON *c;
        cJSON_ArrayForEach(c, calls) {
            const cJSON *args = cJSON_GetObjectItemCaseSensitive(c, "arguments");
            cJSON *t = cJSON_CreateObject();
            cJSON_AddStringToObject(t, "id", llm_wire_str(c, "id"));
            cJSON_AddStringToObject(t, "type", "function");
            cJSON *fn = cJSON_AddObjectToObject(t, "function");
            cJSON_AddStringToObject(fn, "name", llm_wire_str(c, "name"));
            char *text = args ? print_json(args) : xstrdup("{}");
            cJSON_AddStringToObject(fn, "arguments", text);
            free(text);
            cJSON_AddItemToArray(tc, t);
        }
    } else {
        cJSON_AddStringToObject(o, "content", content ? content : "");
    }
    if (!strcmp(role, "tool"))
        cJSON_AddStringToObject(o, "tool_call_id", llm_wire_str(m, "tool_call_id"));
    return o;
}

char *llm_openai_request(const struct llm_wire_req *r, char **errmsg)
{
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "model", r->model);
    cJSON *msgs = cJSON_AddArrayToObject(root, "messages");
    const cJSON *m;
    cJSON_ArrayForEach(m, r->messages)
        cJSON_AddItemToArray(msgs, message_json(m));
    if (cJSON_GetArraySize(r->tools) > 0) {
        cJSON *tools = cJSON_AddArrayToObject(root, "tools");
        const cJSON *t;
        cJSON_ArrayForEach(t, r->tools) {
            cJSON *o = cJSON_CreateObject();
            cJSON_AddStringToObject(o, "type", "function");
            cJSON *fn = cJSON_AddObjectToObject(o, "function");
            cJSON_AddStringToObject(fn, "name", llm_wire_str(t, "name"));
            const char *desc = llm_wire_str(t, "description");
            if (desc && *desc)
                cJSON_AddStringToObject(fn, "description", desc);
            cJSON_AddItemToObject(
                fn, "parameters",
                llm_wire_schema(cJSON_GetObjectItemCaseSensitive(t, "input_schema")));
            cJSON_AddItemToArray(tools, o);
        }
    }
    cJSON_AddNumberToObject(root, "max_tokens", r->max_tokens);
    if (r->temperature >= 0)
        cJSON_AddNumberToObject(root, "temperature", r->temperature);
    if (r->stream) {
        cJSON_AddTrueToObject(root, "stream");
        cJSON *so = cJSON_AddObjectToObject(root, "stream_options");
        cJSON_AddTrueToObject(so, "include_usage");
    }
    char *out = print_json(root);
    cJSON_Delete(root);
    (void)errmsg;
    return out;
}

/* === answers === */

enum llm_stop llm_openai_stop(const char *reason, int has_calls)
{
    if (!reason)
        return has_calls ? LLM_STOP_TOOL_USE : LLM_STOP_OTHER;
    /* Some compatible servers (Ollama among them) say "stop" when the
     * answer is tool calls: the calls are what the caller must act on. */
    if (!strcmp(reason, "stop"))
        return has_calls ? LLM_STOP_TOOL_USE : LLM_STOP_END;
    if (!strcmp(reason, "tool_calls") || !strcmp(reason, "function_call"))
        return LLM_STOP_TOOL_USE;
    if (!strcmp(reason, "length"))
        return LLM_STOP_MAX_TOKENS;
    return LLM_STOP_OTHER;
}

/* Message content: a string, null, or (some servers) an array of parts. */
static void content_text(const cJSON *content, struct buf *b)
{
    if (cJSON_IsString(content)) {
        buf_puts(b, content->valuestring);
        return;
    }
    const cJSON *part;
    cJSON_ArrayForEach(part, (cJSON_IsArray(content) ? content : NULL)) {
        const char *type = llm_wire_str(part, "type");
        const char *text = llm_wire_str(part, "text");
        if (text && (!type || !strcmp(type, "text")))
            buf_puts(b, text);
    }
}

/* Neutral tool calls from a message's tool_calls. NULL with *errmsg. */
static cJSON *tool_calls(const cJSON *list, char **errmsg)
{
    cJSON *calls = cJSON_CreateArray();
    int i = 0;
    const cJSON *c;
    cJSON_ArrayForEach(c, (cJSON_IsArray(list) ? list : NULL)) {
        const cJSON *fn = cJSON_GetObjectItemCaseSensitive(c, "function");
        const char *name = llm_wire_str(fn, "name");
        if (i == LLM_MAX_TOOL_CALLS) {
            llm_wire_too_many_calls(errmsg);
            goto fail;
        }
        if (!name || !*name) {
            llm_wire_fail(errmsg, "tool call %d in the answer has no name", i);
            goto fail;
        }
        const cJSON *a = cJSON_GetObjectItemCaseSensitive(fn, "arguments");
        cJSON *args;
        if (cJSON_IsString(a))
            args = llm_wire_parse_args(name, a->valuestring, strlen(a->valuestring), errmsg);
        else if (cJSON_IsObject(a))   /* some servers send the object itself */
            args = cJSON_Duplicate(a, 1);
        else if (!a || cJSON_IsNull(a))
            args = cJSON_CreateObject();
        else
            args = NULL;
        if (!args && a && !cJSON_IsString(a))
            llm_wire_fail(errmsg, "the arguments for tool '%s' are not a JSON object", name);
        if (!args)
            goto fail;
        const char *id = llm_wire_str(c, "id");
        char synth[32];
        snprintf(synth, sizeof synth, "call_%d", i);
        cJSON_AddItemToArray(calls, llm_wire_tool_call(id && *id ? id : synth, name, args));
        i++;
    }
    return calls;
fail:
    cJSON_Delete(calls);
    return NULL;
}

static void usage(const cJSON *root, int64_t *in, int64_t *out)
{
    const cJSON *u = cJSON_GetObjectItemCaseSensitive(root, "usage");
    if (!cJSON_IsObject(u))
        return;
    *in = llm_wire_int(u, "prompt_tokens");
    *out = llm_wire_int(u, "completion_tokens");
}

int llm_openai_response(const char *body, size_t len, struct llm_result *out, char **errmsg)
{
    struct buf text;
    buf_init(&text);
    cJSON *root = llm_wire_parse(body, len, errmsg);
    if (!root)
        return -1;
    if (!cJSON_IsObject(root)) {
        llm_wire_fail(errmsg, "the answer is not a JSON object");
        goto fail;
    }
    if (cJSON_GetObjectItemCaseSensitive(root, "error")) {
        const char *m = llm_wire_error_message(root);
        llm_wire_fail(errmsg, "the provider returned an error: %s", m ? m : "(no message)");
        goto fail;
    }
    const cJSON *choice = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(root, "choices"), 0);
    if (!cJSON_IsObject(choice)) {
        llm_wire_fail(errmsg, "no choices in the answer");
        goto fail;
    }
    const cJSON *msg = cJSON_GetObjectItemCaseSensitive(choice, "message");
    if (!cJSON_IsObject(msg)) {
        llm_wire_fail(errmsg, "the answer's choice has no message");
        goto fail;
    }
    out->tool_calls = tool_calls(cJSON_GetObjectItemCaseSensitive(msg, "tool_calls"), errmsg);
    if (!out->tool_calls)
        goto fail;
    content_text(cJSON_GetObjectItemCaseSensitive(msg, "content"), &text);
    out->text = buf_detach(&text);
    const char *reason = llm_wire_str(choice, "finish_reason");
    out->stop = llm_openai_stop(reason, cJSON_GetArraySize(out->tool_calls) > 0);
    out->stop_raw = xstrdup(reason);
    usage(root, &out->tokens_in, &out->tokens_out);
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

/* One entry of a chunk's delta.tool_calls: find its call by index (or,
 * from servers that send no index, by a new id), and add the pieces.
 * -1 when it would be a call past LLM_MAX_TOOL_CALLS. */
static int stream_tool_call(struct llm_stream *s, const cJSON *tc)
{
    const cJSON *idx = cJSON_GetObjectItemCaseSensitive(tc, "index");
    const char *id = llm_wire_str(tc, "id");
    const cJSON *fn = cJSON_GetObjectItemCaseSensitive(tc, "function");
    struct llm_stream_call *c = NULL;
    int64_t key;
    if (cJSON_IsNumber(idx) && util_whole_in(idx->valuedouble, 0, INT32_MAX, &key)) {
        c = llm_stream_call_find(s, (long)key);
        if (!c)
            c = llm_stream_call_add(s, (long)key);
    } else {
        struct llm_stream_call *last = s->ncalls ? &s->calls[s->ncalls - 1] : NULL;
        if (!last || (id && *id && last->id && strcmp(last->id, id)))
            c = llm_stream_call_add(s, last ? last->key + 1 : 0);
        else
            c = last;
    }
    if (!c)
        return -1;
    llm_stream_set(&c->id, id);
    llm_stream_set(&c->name, llm_wire_str(fn, "name"));
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(fn, "arguments");
    if (cJSON_IsString(a)) {
        buf_puts(&c->args, a->valuestring);
    } else if (cJSON_IsObject(a) && c->args.len == 0) {
        char *t = cJSON_PrintUnformatted(a);
        if (t)
            buf_puts(&c->args, t);
        cJSON_free(t);
    }
    return 0;
}

int llm_openai_stream_event(struct llm_stream *s, const char *type, const char *data,
                            size_t len, char **errmsg)
{
    (void)type;   /* chunks come as plain "message" events */
    if (s->done)
        return 0;
    while (len > 0 && (*data == ' ' || *data == '\n' || *data == '\r' || *data == '\t'))
        data++, len--;
    while (len > 0 && (data[len - 1] == ' ' || data[len - 1] == '\n' || data[len - 1] == '\r'))
        len--;
    if (len == 0)
        return 0;
    if (len == 6 && !memcmp(data, "[DONE]", 6)) {
        s->done = 1;
        return 0;
    }
    char *err = NULL;
    cJSON *root = llm_wire_parse(data, len, &err);
    if (!root) {
        char *msg = xasprintf("malformed stream chunk: %s", err);
        free(err);
        return llm_stream_fail(s, msg, errmsg);
    }
    if (!cJSON_IsObject(root)) {
        cJSON_Delete(root);
        return llm_stream_fail(s, xstrdup("malformed stream chunk: not a JSON object"), errmsg);
    }
    if (cJSON_GetObjectItemCaseSensitive(root, "error")) {
        const char *m = llm_wire_error_message(root);
        char *msg = xasprintf("the provider sent an error in the stream: %s",
                              m ? m : "(no message)");
        cJSON_Delete(root);
        return llm_stream_fail(s, msg, errmsg);
    }
    if (!s->id)
        llm_stream_set(&s->id, llm_wire_str(root, "id"));
    if (!s->model)
        llm_stream_set(&s->model, llm_wire_str(root, "model"));
    usage(root, &s->tokens_in, &s->tokens_out);
    const cJSON *choice;
    cJSON_ArrayForEach(choice, cJSON_GetObjectItemCaseSensitive(root, "choices")) {
        int64_t index = llm_wire_int(choice, "index");
        if (index > 0)
            continue;   /* only the first choice is asked for */
        const cJSON *delta = cJSON_GetObjectItemCaseSensitive(choice, "delta");
        const char *text = llm_wire_str(delta, "content");
        if (text)
            llm_stream_text(s, text, strlen(text));
        const cJSON *tc;
        cJSON_ArrayForEach(tc, cJSON_GetObjectItemCaseSensitive(delta, "tool_calls")) {
            if (stream_tool_call(s, tc) < 0) {
                cJSON_Delete(root);
                char *msg = NULL;
                llm_wire_too_many_calls(&msg);
                return llm_stream_fail(s, msg, errmsg);
            }
        }
        const char *reason = llm_wire_str(choice, "finish_reason");
        if (reason && *reason) {
            llm_stream_set(&s->stop_raw, reason);
            s->complete = 1;
        }
    }
    cJSON_Delete(root);
    return 0;
}
