/* fuzz_llm.c — a provider's answer, whole or streamed, in either dialect.
 * The first byte picks the dialect and whether the rest is one response
 * body or a stream of events, one per line as "type<TAB>data". Either way
 * the answer is read or refused with a message; a read answer has text, a
 * tool-call array whose calls each have an id, a name and object
 * arguments, and usage that is -1 or not negative. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "llm_wire.h"

static void on_delta(void *payload, const char *text, size_t len)
{
    size_t *total = payload;
    FUZZ_CHECK(text != NULL || len == 0, "a delta without text");
    *total += len;
}

static void check_result(const struct llm_result *r)
{
    FUZZ_CHECK(r->text != NULL, "an answer without text");
    FUZZ_CHECK(cJSON_IsArray(r->tool_calls), "tool_calls is not an array");
    const cJSON *c;
    cJSON_ArrayForEach(c, r->tool_calls) {
        FUZZ_CHECK(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(c, "id")), "a call without id");
        FUZZ_CHECK(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(c, "name")),
                   "a call without name");
        FUZZ_CHECK(cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(c, "arguments")),
                   "a call whose arguments are not an object");
    }
    FUZZ_CHECK(r->tokens_in >= -1 && r->tokens_out >= -1, "negative usage %lld/%lld",
               (long long)r->tokens_in, (long long)r->tokens_out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    enum llm_dialect d = data[0] & 1 ? LLM_DIALECT_ANTHROPIC : LLM_DIALECT_OPENAI;
    const char *body = (const char *)data + 1;
    size_t len = size - 1;
    struct llm_result r;
    char *err = NULL;

    if (!(data[0] & 2)) {
        if (llm_wire_response(d, body, len, &r, &err) == 0)
            check_result(&r);
        else
            FUZZ_CHECK(err != NULL, "a refused response without a message");
        llm_result_fini(&r);
        free(err);
        char *why = llm_wire_error(d, 400 + data[0] % 200, body, len);
        FUZZ_CHECK(why != NULL, "no message for an error response");
        free(why);
        return 0;
    }

    size_t total = 0;
    struct llm_stream *s = llm_stream_new(d, on_delta, &total);
    int failed = 0;
    for (size_t at = 0; at < len;) {
        const char *nl = memchr(body + at, '\n', len - at);
        size_t end = nl ? (size_t)(nl - body) : len;
        const char *tab = memchr(body + at, '\t', end - at);
        size_t tlen = tab ? (size_t)(tab - (body + at)) : end - at;
        char *type = strndup(body + at, tlen);
        size_t dstart = tab ? (size_t)(tab - body) + 1 : end;
        char *ev = fuzz_copy(body + dstart, end - dstart, 1);
        if (!type)
            abort();
        char *e = NULL;
        int rc = llm_stream_event(s, tlen ? type : "message", ev, end - dstart, &e);
        FUZZ_CHECK(rc == 0 || e != NULL, "a refused event without a message");
        FUZZ_CHECK(!failed || rc < 0, "an event accepted after the stream failed");
        failed |= rc < 0;
        free(e);
        free(type);
        free(ev);
        at = end + 1;
    }
    if (llm_stream_finish(s, &r, &err) == 0) {
        FUZZ_CHECK(!failed, "a failed stream finished with an answer");
        check_result(&r);
        FUZZ_CHECK(strlen(r.text) <= total, "answer text longer than the deltas sent");
    } else {
        FUZZ_CHECK(err != NULL, "an unfinished stream without a message");
    }
    llm_result_fini(&r);
    free(err);
    llm_stream_free(s);
    return 0;
}
