/* mcp_inproc.c — a built-in server behind the transport interface.
 *
 * Messages are real JSON text both ways, exactly as over stdio, so the
 * client cannot tell a built-in from a child process. initialize, ping and
 * tools/list are answered on the loop thread (at the next turn, never
 * re-entrantly); tools/call runs the tool on a worker thread, or starts a
 * loop-thread tool (builtin_tool.start) at the next turn. */
#include "builtin.h"
#include "jsonr.h"
#include "jsonw.h"
#include "jsonrpc.h"
#include "loop.h"
#include "mcp_transport.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

struct inproc_t {
    struct mcp_transport base;
    const struct builtin_server *srv;
    char *root;
    struct memory *memory;
    int alive;
    int busy;                 /* worker calls in flight */
    int freeing;              /* free requested while busy */
};

struct inproc_msg {           /* an answer waiting for the next loop turn */
    struct inproc_t *t;
    char *json;
};

struct inproc_call {          /* a tools/call on a worker */
    struct inproc_t *t;
    const struct builtin_tool *tool;
    cJSON *id;
    cJSON *args;
    cJSON *result;
};

static void deliver(void *arg)
{
    struct inproc_msg *m = arg;
    struct inproc_t *t = m->t;
    t->busy--;
    if (t->alive && t->base.up)
        t->base.up->on_message(t->base.owner, m->json, strlen(m->json));
    free(m->json);
    free(m);
    if (t->freeing && t->busy == 0) {
        free(t->root);
        free(t);
    }
}

/* Queue msg (taken) for delivery at the next loop turn. */
static void post_msg(struct inproc_t *t, cJSON *msg)
{
    struct inproc_msg *m = xmalloc(sizeof *m);
    m->t = t;
    m->json = jsonw_print(msg);
    cJSON_Delete(msg);
    t->busy++;
    loop_post(t->base.loop, deliver, m);
}

static cJSON *response(const cJSON *id, cJSON *result)
{
    cJSON *msg = cJSON_CreateObject();
    cJSON_AddStringToObject(msg, "jsonrpc", "2.0");
    cJSON_AddItemToObject(msg, "id", cJSON_Duplicate(id, 1));
    cJSON_AddItemToObject(msg, "result", result);
    return msg;
}

static cJSON *error_response(const cJSON *id, int code, const char *text)
{
    cJSON *msg = cJSON_CreateObject();
    cJSON_AddStringToObject(msg, "jsonrpc", "2.0");
    cJSON_AddItemToObject(msg, "id", cJSON_Duplicate(id, 1));
    cJSON *e = cJSON_AddObjectToObject(msg, "error");
    cJSON_AddNumberToObject(e, "code", code);
    cJSON_AddStringToObject(e, "message", text);
    return msg;
}

static cJSON *initialize_result(struct inproc_t *t, const cJSON *params)
{
    cJSON *r = cJSON_CreateObject();
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(params, "protocolVersion");
    cJSON_AddStringToObject(r, "protocolVersion",
                            cJSON_IsString(v) ? v->valuestring : "2025-11-25");
    cJSON *caps = cJSON_AddObjectToObject(r, "capabilities");
    cJSON_AddObjectToObject(caps, "tools");
    cJSON *info = cJSON_AddObjectToObject(r, "serverInfo");
    cJSON_AddStringToObject(info, "name", t->srv->name);
    cJSON_AddStringToObject(info, "version", t->srv->version);
    if (t->srv->instructions)
        cJSON_AddStringToObject(r, "instructions", t->srv->instructions);
    return r;
}

static cJSON *tools_list(struct inproc_t *t)
{
    cJSON *r = cJSON_CreateObject();
    cJSON *arr = cJSON_AddArrayToObject(r, "tools");
    for (size_t i = 0; i < t->srv->ntools; i++) {
        const struct builtin_tool *bt = &t->srv->tools[i];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "name", bt->name);
        cJSON_AddStringToObject(o, "description", bt->description);
        cJSON *schema = cJSON_Parse(bt->input_schema);
        cJSON_AddItemToObject(o, "inputSchema", schema ? schema : cJSON_CreateObject());
        cJSON *ann = cJSON_AddObjectToObject(o, "annotations");
        cJSON_AddBoolToObject(ann, "readOnlyHint", (bt->hints & BUILTIN_READ_ONLY) != 0);
        cJSON_AddBoolToObject(ann, "destructiveHint", (bt->hints & BUILTIN_DESTRUCTIVE) != 0);
        cJSON_AddBoolToObject(ann, "idempotentHint", (bt->hints & BUILTIN_IDEMPOTENT) != 0);
        cJSON_AddBoolToObject(ann, "openWorldHint", 0);
        cJSON_AddItemToArray(arr, o);
    }
    return r;
}

static void call_work(void *arg)
{
    struct inproc_call *c = arg;
    struct builtin_ctx ctx = {c->t->root, NULL};
    c->result = c->tool->call(&ctx, c->args);
    if (!c->result)
        c->result = builtin_result_text(1, "tool %s returned nothing", c->tool->name);
}

static void call_done(void *arg)
{
    struct inproc_call *c = arg;
    struct inproc_t *t = c->t;
    t->busy--;
    cJSON *msg = response(c->id, c->result);
    cJSON_Delete(c->id);
    cJSON_Delete(c->args);
    free(c);
    if (t->alive) {
        post_msg(t, msg);
    } else {
        cJSON_Delete(msg);
        if (t->freeing && t->busy == 0) {
            free(t->root);
            free(t);
        }
    }
}

/* A loop-thread tool's answer. */
static void start_reply(void *token, cJSON *result)
{
    struct inproc_call *c = token;
    c->result = result ? result
                       : builtin_result_text(1, "tool %s returned nothing", c->tool->name);
    call_done(c);
}

/* Start a loop-thread tool (posted: never inside inproc_send). */
static void start_call(void *arg)
{
    struct inproc_call *c = arg;
    if (!c->t->alive) {
        start_reply(c, builtin_result_text(1, "the server stopped"));
        return;
    }
    struct builtin_ctx ctx = {c->t->root, c->t->memory};
    c->tool->start(&ctx, c->args, start_reply, c);
}

static void tools_call(struct inproc_t *t, const cJSON *id, const cJSON *params)
{
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(params, "name");
    if (!cJSON_IsString(name)) {
        post_msg(t, error_response(id, JSONRPC_INVALID_PARAMS, "params.name must be a string"));
        return;
    }
    const struct builtin_tool *tool = NULL;
    for (size_t i = 0; i < t->srv->ntools; i++)
        if (strcmp(t->srv->tools[i].name, name->valuestring) == 0)
            tool = &t->srv->tools[i];
    if (!tool) {
        char *m = xasprintf("unknown tool '%s' on built-in server %s", name->valuestring,
                            t->srv->name);
        post_msg(t, error_response(id, JSONRPC_INVALID_PARAMS, m));
        free(m);
        return;
    }
    const cJSON *args = cJSON_GetObjectItemCaseSensitive(params, "arguments");
    struct inproc_call *c = xcalloc(1, sizeof *c);
    c->t = t;
    c->tool = tool;
    c->id = cJSON_Duplicate(id, 1);
    c->args = args ? cJSON_Duplicate(args, 1) : cJSON_CreateObject();
    t->busy++;
    if (tool->start)
        loop_post(t->base.loop, start_call, c);
    else
        loop_work(t->base.loop, call_work, call_done, c);
}

static int inproc_send(struct mcp_transport *base, const char *json, size_t len,
                       const struct jsonrpc_sent *what)
{
    struct inproc_t *t = (struct inproc_t *)base;
    if (!t->alive)
        return -1;
    cJSON *msg = jsonr_parse(json, len);
    if (!msg)
        return -1;
    const cJSON *method = cJSON_GetObjectItemCaseSensitive(msg, "method");
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(msg, "id");
    const cJSON *params = cJSON_GetObjectItemCaseSensitive(msg, "params");
    if (cJSON_IsString(method) && id) {
        const char *m = method->valuestring;
        if (strcmp(m, "initialize") == 0)
            post_msg(t, response(id, initialize_result(t, params)));
        else if (strcmp(m, "ping") == 0)
            post_msg(t, response(id, cJSON_CreateObject()));
        else if (strcmp(m, "tools/list") == 0)
            post_msg(t, response(id, tools_list(t)));
        else if (strcmp(m, "tools/call") == 0)
            tools_call(t, id, params);
        else
            post_msg(t, error_response(id, JSONRPC_METHOD_NOT_FOUND, "method not found"));
    }
    /* notifications and responses need no answer */
    cJSON_Delete(msg);
    return 0;
}

static int inproc_start(struct mcp_transport *base, char **errmsg)
{
    ((struct inproc_t *)base)->alive = 1;
    return 0;
}

static const char *inproc_log(struct mcp_transport *base)
{
    return "";
}

static void inproc_free(struct mcp_transport *base)
{
    struct inproc_t *t = (struct inproc_t *)base;
    if (!t)
        return;
    t->alive = 0;
    if (t->busy > 0) {
        t->freeing = 1;     /* the last worker answer frees it */
        return;
    }
    free(t->root);
    free(t);
}

static const struct mcp_transport_ops inproc_ops = {
    "builtin", inproc_start, inproc_send, inproc_log, inproc_free, NULL,
};

struct mcp_transport *mcp_inproc_new(struct loop *l, const struct builtin_server *srv,
                                     const char *root, struct memory *memory)
{
    struct inproc_t *t = xcalloc(1, sizeof *t);
    t->base.ops = &inproc_ops;
    t->base.loop = l;
    t->base.max_message = 16u << 20;
    t->srv = srv;
    t->root = xstrdup(root);
    t->memory = memory;
    return &t->base;
}
