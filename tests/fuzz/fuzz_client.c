/* fuzz_client.c — the MCP client against a server that says anything. The
 * input is a script, one line each: a line is a message from the server,
 * "$ID" in it replaced by the id of the client's latest request (so
 * answers reach initialize, the lists, calls); or a command: "!call" a
 * tool call, "!read" a resources/read, "!cancel" the latest call, "!close"
 * the transport gone. The first byte picks the client's capabilities and
 * how it answers the server's requests. Whatever comes: no crash, leak or
 * undefined behaviour; every call's callback runs at most once, and every
 * one has run once the transport has closed. FUZZ_SHOW=1 prints what the
 * client sends (for writing seeds). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "jsonrpc.h"
#include "loop.h"
#include "mcp_client.h"
#include "mcp_transport.h"
#include "util.h"

#define MAX_CALLS 16

struct script {
    struct mcp_transport t;
    struct loop *l;
    struct mcp_client *c;
    long long last_id;           /* of the latest request the client sent */
    size_t sent;
    int answer_mode;
    int done[MAX_CALLS];         /* times each call's callback ran */
    int64_t ids[MAX_CALLS];
    int ncalls;
};

static int t_start(struct mcp_transport *t, char **errmsg)
{
    return 0;
}

static int t_send(struct mcp_transport *t, const char *json, size_t len,
                  const struct jsonrpc_sent *what)
{
    struct script *s = (struct script *)t;
    cJSON *m = cJSON_ParseWithLength(json, len);
    FUZZ_CHECK(m != NULL, "the client sent something that is not JSON: %.*s", (int)len, json);
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(m, "id");
    const cJSON *method = cJSON_GetObjectItemCaseSensitive(m, "method");
    FUZZ_CHECK(what && !what->method == !method &&
                   (!method || strcmp(what->method, method->valuestring) == 0),
               "sent as method %s: %.*s", what && what->method ? what->method : "(none)",
               (int)len, json);
    if (cJSON_IsNumber(id) && method) {
        FUZZ_CHECK(what->id == (int64_t)id->valuedouble, "sent as id %lld: %.*s",
                   (long long)what->id, (int)len, json);
        s->last_id = (long long)what->id;
    }
    if (getenv("FUZZ_SHOW"))
        fprintf(stderr, "sent: %.*s\n", (int)len, json);
    cJSON_Delete(m);
    s->sent++;
    return 0;
}

static const char *t_log(struct mcp_transport *t)
{
    return "";
}

static void t_free(struct mcp_transport *t)
{
}

static const struct mcp_transport_ops script_ops = {
    .kind = "script", .start = t_start, .send = t_send, .log = t_log, .free = t_free,
};

static void on_state(void *payload, struct mcp_client *c, enum mcp_client_state st,
                     const char *error)
{
}

static void on_tools(void *payload, struct mcp_client *c)
{
    const struct mcp_tool *tools;
    size_t n = mcp_client_tools(c, &tools);
    for (size_t i = 0; i < n; i++)
        FUZZ_CHECK(tools[i].name != NULL, "a tool without a name");
}

static void on_request(void *payload, struct mcp_client *c, const char *method,
                       const cJSON *params, const cJSON *id)
{
    struct script *s = payload;
    if (s->answer_mode & 1)
        mcp_client_reply(c, id, cJSON_CreateObject());
    else
        mcp_client_reply_error(c, id, -32603, "no");
}

static void on_notify(void *payload, struct mcp_client *c, const char *method,
                      const cJSON *params)
{
}

static void on_result(void *payload, const cJSON *result, const char *error)
{
    int *done = payload;
    FUZZ_CHECK(*done == 0, "a call's callback ran twice");
    FUZZ_CHECK((result == NULL) != (error == NULL), "a call ended with %s",
               result ? "both a result and an error" : "neither result nor error");
    if (result) {
        char *text = mcp_result_text(result);
        free(text);
    }
    (*done)++;
}

static void start_call(struct script *s, int read)
{
    if (s->ncalls == MAX_CALLS)
        return;
    int k = s->ncalls;
    char *err = NULL;
    int64_t id;
    if (read) {
        cJSON *p = cJSON_CreateObject();
        cJSON_AddStringToObject(p, "uri", "file:///x");
        id = mcp_client_request(s->c, "resources/read", p, 1000, on_result, &s->done[k], &err);
    } else {
        struct mcp_call_opts o = {.timeout_ms = 1000, .max_ms = 2000};
        id = mcp_client_call_tool(s->c, "t", NULL, &o, on_result, &s->done[k], &err);
    }
    free(err);
    if (id > 0) {
        s->ids[k] = id;
        s->ncalls++;
    } else {
        FUZZ_CHECK(s->done[k] == 0, "a refused call's callback ran");
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    struct script s;
    memset(&s, 0, sizeof s);
    s.answer_mode = data[0] >> 2;
    s.l = loop_new();
    s.t.ops = &script_ops;
    s.t.loop = s.l;
    s.t.max_message = 4096;
    static const char *const roots[] = {"/tmp", NULL};
    struct mcp_client_caps caps = {.elicitation = data[0] & 1, .sampling = (data[0] >> 1) & 1};
    struct mcp_client_events ev = {.on_state = on_state, .on_tools = on_tools,
                                   .on_request = on_request, .on_notify = on_notify};
    s.c = mcp_client_new(s.l, "fz", &s.t, roots, &caps, &ev, &s);
    char *err = NULL;
    if (mcp_client_connect(s.c, 1000, &err) < 0)
        abort();
    int closed = 0;
    const char *p = (const char *)data + 1, *end = (const char *)data + size;
    while (p < end && !closed) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
        if (len == 5 && !memcmp(p, "!call", 5)) {
            start_call(&s, 0);
        } else if (len == 5 && !memcmp(p, "!read", 5)) {
            start_call(&s, 1);
        } else if (len == 7 && !memcmp(p, "!cancel", 7)) {
            if (s.ncalls)
                mcp_client_cancel(s.c, s.ids[s.ncalls - 1], "fuzz");
        } else if (len == 6 && !memcmp(p, "!close", 6)) {
            s.t.up->on_closed(s.t.owner, "fuzz");
            closed = 1;
        } else if (len == 9 && !memcmp(p, "!oversize", 9)) {
            s.t.up->on_oversize(s.t.owner, 1u << 30);
        } else {
            struct buf msg;
            buf_init(&msg);
            char idtext[24];
            snprintf(idtext, sizeof idtext, "%lld", s.last_id);
            for (size_t i = 0; i < len; i++) {
                if (i + 3 <= len && !memcmp(p + i, "$ID", 3)) {
                    buf_puts(&msg, idtext);
                    i += 2;
                } else {
                    buf_putc(&msg, p[i]);
                }
            }
            char *exact = fuzz_copy(msg.data, msg.len, 0);
            s.t.up->on_message(s.t.owner, exact, msg.len);
            free(exact);
            buf_fini(&msg);
        }
        loop_run_once(s.l, 0);
        p += len + 1;
    }
    if (closed)
        for (int k = 0; k < s.ncalls; k++)
            FUZZ_CHECK(s.done[k] == 1, "call %d still waiting after the transport closed", k);
    mcp_client_free(s.c);
    for (int k = 0; k < s.ncalls; k++)
        FUZZ_CHECK(s.done[k] <= 1, "call %d's callback ran %d times", k, s.done[k]);
    loop_free(s.l);
    return 0;
}
