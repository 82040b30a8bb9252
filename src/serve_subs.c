/* serve_subs.c — resource subscriptions through the aggregate server.
 *
 * An outer resources/subscribe names a URI as serve lists it (resources
 * keep their URIs; the owner is the server that lists it, or whose
 * template matches it) and is sent to that server; once it agreed, the
 * session is on the subscription. Each (server, URI) is subscribed
 * downstream once however many sessions hold it; the last
 * resources/unsubscribe (or the last holder's session ending) sends
 * resources/unsubscribe down. A downstream
 * notifications/resources/updated goes to the sessions holding that URI
 * (or a URI it lies under). When a server comes back after a restart, its
 * subscriptions are sent again. serve advertises resources.subscribe
 * when some exposed server supports subscriptions. */
#include "serve_int.h"

#include "engine.h"
#include "jsonrpc.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

#define RESOURCE_NOT_FOUND (-32002)

struct serve_sub {
    char *server;
    char *uri;
    struct serve_session **who;  /* the sessions holding it */
    size_t nwho;
    int restarts;                /* the server's restart count when it was sent */
    struct serve_sub *next;
};

/* Whether server says it supports subscriptions. */
static int server_subscribes(struct serve *s, const char *server)
{
    const cJSON *caps = engine_server_capabilities(s->e, server);
    const cJSON *res = cJSON_GetObjectItemCaseSensitive(caps, "resources");
    return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(res, "subscribe"));
}

int serve_subs_available(struct serve *s)
{
    struct serve_exposed x;
    serve_exposed_get(s, &x);
    int yes = 0;
    for (size_t i = 0; i < x.n && !yes; i++)
        yes = x.info[i].state == SERVER_READY && server_subscribes(s, x.info[i].name);
    free(x.info);
    return yes;
}

static int server_restarts(struct serve *s, const char *server, int *ready)
{
    size_t n = engine_servers(s->e, NULL, 0);
    struct engine_server_info *info = xcalloc(n ? n : 1, sizeof *info);
    n = engine_servers(s->e, info, n);
    int r = -1;
    *ready = 0;
    for (size_t i = 0; i < n; i++)
        if (strcmp(info[i].name, server) == 0) {
            r = info[i].restarts;
            *ready = info[i].state == SERVER_READY;
        }
    free(info);
    return r;
}

static struct serve_sub *sub_find(struct serve *s, const char *server, const char *uri)
{
    for (struct serve_sub *b = s->subs; b; b = b->next)
        if (strcmp(b->server, server) == 0 && strcmp(b->uri, uri) == 0)
            return b;
    return NULL;
}

static int sub_holds(const struct serve_sub *b, const struct serve_session *ss)
{
    for (size_t i = 0; i < b->nwho; i++)
        if (b->who[i] == ss)
            return 1;
    return 0;
}

static void sub_add(struct serve_sub *b, struct serve_session *ss)
{
    if (sub_holds(b, ss))
        return;
    b->who = xrealloc(b->who, (b->nwho + 1) * sizeof *b->who);
    b->who[b->nwho++] = ss;
}

static void sub_remove(struct serve_sub *b, const struct serve_session *ss)
{
    for (size_t i = 0; i < b->nwho; i++)
        if (b->who[i] == ss) {
            b->who[i] = b->who[--b->nwho];
            return;
        }
}

static void ignore_answer(void *payload, const cJSON *result, const char *error)
{
    (void)payload;
    (void)result;
    (void)error;
}

/* Send method for uri to server without waiting for the answer. */
static void send_down(struct serve *s, const char *server, const char *method, const char *uri)
{
    cJSON *p = cJSON_CreateObject();
    cJSON_AddStringToObject(p, "uri", uri);
    char *err = NULL;
    if (engine_request(s->e, server, method, p, ignore_answer, NULL, &err) < 0)
        free(err);               /* the server is down: nothing is subscribed there anyway */
}

static void sub_free(struct serve *s, struct serve_sub *b)
{
    for (struct serve_sub **pp = &s->subs; *pp; pp = &(*pp)->next)
        if (*pp == b) {
            *pp = b->next;
            break;
        }
    free(b->server);
    free(b->uri);
    free(b->who);
    free(b);
}

/* b goes; unsubscribed downstream. */
static void sub_drop(struct serve *s, struct serve_sub *b)
{
    send_down(s, b->server, "resources/unsubscribe", b->uri);
    sub_free(s, b);
}

static void subs_done(void *payload, const cJSON *result, const char *error)
{
    struct serve_pending *p = payload;
    struct serve *s = p->s;
    (void)result;
    if (!s) {                    /* the serve is gone */
        serve_pending_free(p);
        return;
    }
    if (error) {
        if (p->ss && !p->cancelled)
            serve_respond_error(p->ss, p->id, p->id_text, JSONRPC_INTERNAL_ERROR, error);
        serve_pending_free(p);
        return;
    }
    if (p->subscribe) {
        struct serve_session *ss = p->cancelled ? NULL : p->ss;
        struct serve_sub *b = sub_find(s, p->server, p->uri);
        if (!b && ss) {
            b = xcalloc(1, sizeof *b);
            b->server = xstrdup(p->server);
            b->uri = xstrdup(p->uri);
            int ready;
            b->restarts = server_restarts(s, p->server, &ready);
            b->next = s->subs;
            s->subs = b;
        }
        if (b && ss)
            sub_add(b, ss);
        else if (!b)             /* its session went (or gave up) while it was on its way */
            send_down(s, p->server, "resources/unsubscribe", p->uri);
    }
    serve_pending_answer(p, cJSON_CreateObject());
}

void serve_subs_request(struct serve_session *ss, const cJSON *id, const char *idt,
                        const cJSON *params, int subscribe)
{
    struct serve *s = ss->s;
    const char *method = subscribe ? "resources/subscribe" : "resources/unsubscribe";
    const char *uri = serve_str(params, "uri");
    if (!uri) {
        char *m = xasprintf("%s needs a uri", method);
        serve_respond_error(ss, id, idt, JSONRPC_INVALID_PARAMS, m);
        free(m);
        return;
    }
    char *server = serve_resource_owner(s, uri, 0);
    struct serve_sub *b = NULL;
    if (!subscribe) {            /* it may be held although its server is down now */
        for (b = s->subs; b && !(strcmp(b->uri, uri) == 0 && sub_holds(b, ss)); b = b->next)
            ;
        if (!b) {
            free(server);
            serve_respond(ss, id, idt, cJSON_CreateObject());   /* nothing held: done */
            return;
        }
        sub_remove(b, ss);
        if (b->nwho > 0) {
            free(server);
            serve_respond(ss, id, idt, cJSON_CreateObject());
            return;
        }
        free(server);
        server = xstrdup(b->server);
        sub_free(s, b);
    } else if (!server) {
        char *m = xasprintf("Resource not found: %s (no exposed server lists it)", uri);
        serve_respond_error(ss, id, idt, RESOURCE_NOT_FOUND, m);
        free(m);
        return;
    } else if (!server_subscribes(s, server)) {
        char *m = xasprintf("server %s does not support resource subscriptions (it does not "
                            "advertise resources.subscribe)", server);
        serve_respond_error(ss, id, idt, JSONRPC_INVALID_PARAMS, m);
        free(m);
        free(server);
        return;
    } else if ((b = sub_find(s, server, uri))) {   /* subscribed downstream already */
        sub_add(b, ss);
        free(server);
        serve_respond(ss, id, idt, cJSON_CreateObject());
        return;
    }
    struct serve_pending *p = serve_pending_new(ss, SERVE_WAIT_SUBSCRIBE, id, params);
    p->server = server;
    p->uri = xstrdup(uri);
    p->subscribe = subscribe;
    cJSON *dp = cJSON_CreateObject();
    cJSON_AddStringToObject(dp, "uri", uri);
    char *err = NULL;
    if (engine_request(s->e, server, method, dp, subs_done, p, &err) < 0) {
        serve_pending_free(p);
        if (subscribe)
            serve_respond_error(ss, id, idt, JSONRPC_INTERNAL_ERROR, err);
        else             /* the server is down: nothing is subscribed there now */
            serve_respond(ss, id, idt, cJSON_CreateObject());
        free(err);
    }
}

/* Whether an update of uri concerns a subscription to sub (the same
 * resource, or one under it). */
static int uri_under(const char *uri, const char *sub)
{
    size_t n = strlen(sub);
    return strncmp(uri, sub, n) == 0 && (uri[n] == 0 || uri[n] == '/' || sub[n - 1] == '/');
}

void serve_subs_updated(struct serve *s, const char *server, const cJSON *params)
{
    const char *uri = serve_str(params, "uri");
    if (!uri)
        return;
    /* a session holding two subscriptions the update concerns hears it once */
    struct serve_session **told = NULL;
    size_t ntold = 0;
    for (struct serve_sub *b = s->subs; b; b = b->next) {
        if (strcmp(b->server, server) != 0 || !*b->uri || !uri_under(uri, b->uri))
            continue;
        for (size_t i = 0; i < b->nwho; i++) {
            size_t k = 0;
            while (k < ntold && told[k] != b->who[i])
                k++;
            if (k < ntold)
                continue;
            told = xrealloc(told, (ntold + 1) * sizeof *told);
            told[ntold++] = b->who[i];
            serve_notify(b->who[i], "notifications/resources/updated",
                         cJSON_Duplicate(params, 1), NULL);
        }
    }
    free(told);
}

void serve_subs_server_state(struct serve *s, const char *server)
{
    int restarts = -2, ready = 0;
    for (struct serve_sub *b = s->subs; b; b = b->next) {
        if (strcmp(b->server, server) != 0)
            continue;
        if (restarts == -2)
            restarts = server_restarts(s, server, &ready);
        if (ready && restarts != b->restarts) {
            b->restarts = restarts;
            send_down(s, server, "resources/subscribe", b->uri);
        }
    }
}

void serve_subs_session_gone(struct serve *s, struct serve_session *ss)
{
    for (struct serve_sub *b = s->subs, *next; b; b = next) {
        next = b->next;
        if (ss)
            sub_remove(b, ss);
        if (!ss || b->nwho == 0)
            sub_drop(s, b);
    }
}
