/* llm_wire.c — dispatch by dialect, the stream state both dialects share,
 * and the helpers that do not depend on a dialect (see llm_wire.h). The
 * formats themselves are in llm_openai.c and llm_anthropic.c. */
#include "llm_wire_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* === helpers === */

int llm_wire_fail(char **errmsg, const char *fmt, ...)
{
    if (errmsg) {
        va_list ap;
        va_start(ap, fmt);
        *errmsg = xvasprintf(fmt, ap);
        va_end(ap);
    }
    return -1;
}

cJSON *llm_wire_parse(const char *body, size_t len, char **errmsg)
{
    const char *end = NULL;
    if (!body || len == 0) {
        llm_wire_fail(errmsg, "empty response body");
        return NULL;
    }
    cJSON *root = cJSON_ParseWithLengthOpts(body, len, &end, 0);
    if (!root) {
        size_t off = end && end >= body && end <= body + len ? (size_t)(end - body) : 0;
        llm_wire_fail(errmsg, "malformed JSON at offset %zu", off);
    }
    return root;
}

const char *llm_wire_str(const cJSON *obj, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

int64_t llm_wire_int(const cJSON *obj, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    int64_t n;
    /* past 2^53 a count is not a count: as if none was sent */
    return cJSON_IsNumber(v) && util_whole_in(v->valuedouble, 0, INT64_C(1) << 53, &n) ? n : -1;
}

void llm_result_init(struct llm_result *r)
{
    memset(r, 0, sizeof *r);
    r->tokens_in = -1;
    r->tokens_out = -1;
}

void llm_result_fini(struct llm_result *r)
{
    if (!r)
        return;
    free(r->text);
    cJSON_Delete(r->tool_calls);
    free(r->stop_raw);
    free(r->model);
    free(r->id);
    memset(r, 0, sizeof *r);
}

int llm_wire_check_messages(const cJSON *messages, char **errmsg)
{
    if (!cJSON_IsArray(messages))
        return llm_wire_fail(errmsg, "the conversation (messages) must be an array");
    const char **ids = NULL;
    size_t nids = 0, cap = 0;
    int i = 0;
    const cJSON *m;
    cJSON_ArrayForEach(m, messages) {
        const char *role = cJSON_IsObject(m) ? llm_wire_str(m, "role") : NULL;
        const cJSON *content = cJSON_GetObjectItemCaseSensitive(m, "content");
        if (!role) {
            llm_wire_fail(errmsg, "messages[%d] has no role", i);
            goto fail;
        }
        if (content && !cJSON_IsString(content) && !cJSON_IsNull(content)) {
            llm_wire_fail(errmsg, "messages[%d]: content must be a string", i);
            goto fail;
        }
        if (!strcmp(role, "system")) {
            if (i != 0) {
                llm_wire_fail(errmsg, "messages[%d]: a system message may appear first only", i);
                goto fail;
            }
        } else if (!strcmp(role, "assistant")) {
            const cJSON *calls = cJSON_GetObjectItemCaseSensitive(m, "tool_calls");
            if (calls && !cJSON_IsArray(calls)) {
                llm_wire_fail(errmsg, "messages[%d]: tool_calls must be an array", i);
                goto fail;
            }
            const cJSON *c;
            cJSON_ArrayForEach(c, calls) {
                const char *id = llm_wire_str(c, "id"), *name = llm_wire_str(c, "name");
                const cJSON *args = cJSON_GetObjectItemCaseSensitive(c, "arguments");
                if (!id || !*id || !name || !*name || (args && !cJSON_IsObject(args))) {
                    llm_wire_fail(errmsg,
                                  "messages[%d]: a tool call needs an id, a name and "
                                  "object arguments",
                                  i);
                    goto fail;
                }
                if (nids == cap) {
                    cap = cap ? cap * 2 : 8;
                    ids = xrealloc(ids, cap * sizeof *ids);
                }
                ids[nids++] = id;
            }
        } else if (!strcmp(role, "tool")) {
            const char *id = llm_wire_str(m, "tool_call_id");
            size_t k = 0;
            while (id && k < nids && strcmp(ids[k], id))
                k++;
            if (!id || k == nids) {
                llm_wire_fail(errmsg,
                              "messages[%d]: tool_call_id '%s' matches no earlier tool call", i,
                              id ? id : "");
                goto fail;
            }
        } else if (strcmp(role, "user")) {
            llm_wire_fail(errmsg, "messages[%d]: unknown role '%s'", i, role);
            goto fail;
        }
        i++;
    }
    free(ids);
    return 0;
fail:
    free(ids);
    return -1;
}

cJSON *llm_wire_schema(const cJSON *input_schema)
{
    /* OpenAI wants a top-level object schema; Anthropic refuses oneOf,
     * anyOf and allOf at the top level. The server still validates the
     * arguments against its full schema. */
    static const char *const drop[] = {"$schema", "oneOf", "anyOf", "allOf", "not"};
    cJSON *s = cJSON_IsObject(input_schema) ? cJSON_Duplicate(input_schema, 1)
                                            : cJSON_CreateObject();
    for (size_t i = 0; i < ARRAY_LEN(drop); i++)
        cJSON_DeleteItemFromObjectCaseSensitive(s, drop[i]);
    const char *type = llm_wire_str(s, "type");
    if (!type || strcmp(type, "object")) {
        cJSON_DeleteItemFromObjectCaseSensitive(s, "type");
        cJSON_AddStringToObject(s, "type", "object");
    }
    if (!cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(s, "properties"))) {
        cJSON_DeleteItemFromObjectCaseSensitive(s, "properties");
        cJSON_AddItemToObject(s, "properties", cJSON_CreateObject());
    }
    return s;
}

cJSON *llm_wire_tool_call(const char *id, const char *name, cJSON *args)
{
    cJSON *c = cJSON_CreateObject();
    cJSON_AddStringToObject(c, "id", id ? id : "");
    cJSON_AddStringToObject(c, "name", name ? name : "");
    cJSON_AddItemToObject(c, "arguments", args ? args : cJSON_CreateObject());
    return c;
}

cJSON *llm_wire_parse_args(const char *name, const char *json, size_t len, char **errmsg)
{
    size_t i = 0;
    while (i < len && (json[i] == ' ' || json[i] == '\t' || json[i] == '\n' || json[i] == '\r'))
        i++;
    if (i == len)
        return cJSON_CreateObject();
    const char *end = NULL;
    cJSON *args = cJSON_ParseWithLengthOpts(json, len, &end, 0);
    if (!args) {
        size_t off = end && end >= json && end <= json + len ? (size_t)(end - json) : 0;
        llm_wire_fail(errmsg, "malformed arguments for tool '%s' (JSON error at offset %zu)",
                      name ? name : "", off);
        return NULL;
    }
    if (!cJSON_IsObject(args)) {
        cJSON_Delete(args);
        llm_wire_fail(errmsg, "the arguments for tool '%s' are not a JSON object",
                      name ? name : "");
        return NULL;
    }
    return args;
}

const char *llm_wire_error_message(const cJSON *root)
{
    const cJSON *err = cJSON_GetObjectItemCaseSensitive(root, "error");
    const char *m = cJSON_IsObject(err) ? llm_wire_str(err, "message") : NULL;
    if (!m && cJSON_IsString(err))
        m = err->valuestring;
    if (!m && !err)
        m = llm_wire_str(root, "message");
    if (!m && !err)
        m = llm_wire_str(root, "detail");
    return m && *m ? m : NULL;
}

/* Append s to b on one line: runs of whitespace and control bytes become
 * one space, at most max bytes, never cutting a UTF-8 sequence. */
static void put_clipped(struct buf *b, const char *s, size_t len, size_t max)
{
    size_t start = b->len, i = 0;
    int space = 0;
    while (i < len && (unsigned char)s[i] <= ' ')
        i++;
    for (; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c <= ' ' || c == 0x7f) {
            space = 1;
            continue;
        }
        size_t n = 1;
        if (c >= 0xc0)
            n = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
        if (b->len - start + space + n > max) {
            buf_puts(b, "...");
            return;
        }
        if (space)
            buf_putc(b, ' ');
        space = 0;
        buf_putc(b, (char)c);
        for (size_t k = 1; k < n && i + 1 < len; k++)
            buf_putc(b, s[++i]);
    }
}

char *llm_wire_error(enum llm_dialect d, long status, const char *body, size_t len)
{
    (void)d;   /* both dialects put the message in error.message */
    struct buf b;
    buf_init(&b);
    buf_printf(&b, "%ld: ", status);
    cJSON *root = body && len ? cJSON_ParseWithLength(body, len) : NULL;
    const char *m = llm_wire_error_message(root);
    size_t before = b.len;
    if (m)
        put_clipped(&b, m, strlen(m), 1000);
    else if (body)
        put_clipped(&b, body, len, 200);
    if (b.len == before)
        buf_puts(&b, "empty response body");
    cJSON_Delete(root);
    return buf_detach(&b);
}

/* === dispatch === */

const char *llm_wire_path(enum llm_dialect d)
{
    return d == LLM_DIALECT_ANTHROPIC ? "/v1/messages" : "/chat/completions";
}

char *llm_wire_request(enum llm_dialect d, const struct llm_wire_req *r, char **errmsg)
{
    if (!r->model || !*r->model) {
        llm_wire_fail(errmsg, "no model id given");
        return NULL;
    }
    if (r->max_tokens <= 0) {
        llm_wire_fail(errmsg, "max_tokens must be positive");
        return NULL;
    }
    if (r->tools && !cJSON_IsArray(r->tools)) {
        llm_wire_fail(errmsg, "tools must be an array");
        return NULL;
    }
    const cJSON *t;
    cJSON_ArrayForEach(t, r->tools) {
        const char *name = llm_wire_str(t, "name");
        if (!name || !*name) {
            llm_wire_fail(errmsg, "a tool has no name");
            return NULL;
        }
    }
    if (llm_wire_check_messages(r->messages, errmsg) < 0)
        return NULL;
    if (d == LLM_DIALECT_ANTHROPIC)
        return llm_anthropic_request(r, errmsg);
    return llm_openai_request(r, errmsg);
}

int llm_wire_response(enum llm_dialect d, const char *body, size_t len, struct llm_result *out,
                      char **errmsg)
{
    llm_result_init(out);
    int rc = d == LLM_DIALECT_ANTHROPIC ? llm_anthropic_response(body, len, out, errmsg)
                                        : llm_openai_response(body, len, out, errmsg);
    if (rc < 0) {
        llm_result_fini(out);
        llm_result_init(out);
    }
    return rc;
}

/* === streams === */

struct llm_stream *llm_stream_new(enum llm_dialect d, llm_delta_cb cb, void *payload)
{
    struct llm_stream *s = xcalloc(1, sizeof *s);
    s->dialect = d;
    s->cb = cb;
    s->payload = payload;
    buf_init(&s->text);
    s->tokens_in = -1;
    s->tokens_out = -1;
    return s;
}

static void call_fini(struct llm_stream_call *c)
{
    free(c->id);
    free(c->name);
    buf_fini(&c->args);
    cJSON_Delete(c->input);
}

void llm_stream_free(struct llm_stream *s)
{
    if (!s)
        return;
    buf_fini(&s->text);
    for (size_t i = 0; i < s->ncalls; i++)
        call_fini(&s->calls[i]);
    free(s->calls);
    free(s->stop_raw);
    free(s->error);
    free(s->model);
    free(s->id);
    free(s);
}

int llm_stream_fail(struct llm_stream *s, char *msg, char **errmsg)
{
    if (errmsg)
        *errmsg = xstrdup(msg);
    if (!s->error)
        s->error = msg;
    else
        free(msg);
    return -1;
}

void llm_stream_text(struct llm_stream *s, const char *text, size_t len)
{
    if (len == 0)
        return;
    buf_append(&s->text, text, len);
    if (s->cb)
        s->cb(s->payload, text, len);
}

int llm_wire_too_many_calls(char **errmsg)
{
    return llm_wire_fail(errmsg, "the answer asks for more than %d tool calls",
                         LLM_MAX_TOOL_CALLS);
}

struct llm_stream_call *llm_stream_call_find(struct llm_stream *s, long key)
{
    for (size_t i = 0; i < s->ncalls; i++)
        if (s->calls[i].key == key)
            return &s->calls[i];
    return NULL;
}

struct llm_stream_call *llm_stream_call_add(struct llm_stream *s, long key)
{
    if (s->ncalls == LLM_MAX_TOOL_CALLS)
        return NULL;
    if (s->ncalls == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 4;
        s->calls = xrealloc(s->calls, s->cap * sizeof *s->calls);
    }
    struct llm_stream_call *c = &s->calls[s->ncalls++];
    memset(c, 0, sizeof *c);
    c->key = key;
    buf_init(&c->args);
    return c;
}

void llm_stream_set(char **slot, const char *v)
{
    if (!v || !*v)
        return;
    free(*slot);
    *slot = xstrdup(v);
}

int llm_stream_event(struct llm_stream *s, const char *type, const char *data, size_t len,
                     char **errmsg)
{
    if (s->error)
        return llm_wire_fail(errmsg, "%s", s->error);
    if (s->dialect == LLM_DIALECT_ANTHROPIC)
        return llm_anthropic_stream_event(s, type ? type : "message", data, len, errmsg);
    return llm_openai_stream_event(s, type ? type : "message", data, len, errmsg);
}

static int call_cmp(const void *a, const void *b)
{
    long x = ((const struct llm_stream_call *)a)->key, y = ((const struct llm_stream_call *)b)->key;
    return (x > y) - (x < y);
}

int llm_stream_finish(struct llm_stream *s, struct llm_result *out, char **errmsg)
{
    llm_result_init(out);
    if (s->error)
        return llm_wire_fail(errmsg, "%s", s->error);
    if (!s->complete)
        return llm_wire_fail(errmsg, "the stream ended before the answer was complete");
    if (s->ncalls > 1)
        qsort(s->calls, s->ncalls, sizeof *s->calls, call_cmp);
    cJSON *calls = cJSON_CreateArray();
    for (size_t i = 0; i < s->ncalls; i++) {
        struct llm_stream_call *c = &s->calls[i];
        if (!c->name) {
            cJSON_Delete(calls);
            return llm_wire_fail(errmsg, "a streamed tool call has no name");
        }
        cJSON *args;
        if (c->args.len == 0 && cJSON_IsObject(c->input))
            args = cJSON_Duplicate(c->input, 1);
        else
            args = llm_wire_parse_args(c->name, c->args.data ? c->args.data : "", c->args.len,
                                       errmsg);
        if (!args) {
            cJSON_Delete(calls);
            return -1;
        }
        char synth[32];
        snprintf(synth, sizeof synth, "call_%ld", c->key);
        cJSON_AddItemToArray(calls, llm_wire_tool_call(c->id ? c->id : synth, c->name, args));
    }
    out->text = buf_detach(&s->text);
    out->tool_calls = calls;
    out->stop = s->dialect == LLM_DIALECT_ANTHROPIC
                    ? llm_anthropic_stop(s->stop_raw)
                    : llm_openai_stop(s->stop_raw, cJSON_GetArraySize(calls) > 0);
    out->stop_raw = s->stop_raw;
    s->stop_raw = NULL;
    out->tokens_in = s->tokens_in;
    out->tokens_out = s->tokens_out;
    out->model = s->model;
    s->model = NULL;
    out->id = s->id;
    s->id = NULL;
    return 0;
}
