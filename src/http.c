/* http.c — libcurl multi on the event loop (see http.h). libcurl tells
 * us which sockets to watch and when to time out; we tell it what
 * happened; finished transfers are collected after every action. */
#include "http.h"
#include "loop.h"
#include "util.h"

#include <ctype.h>
#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>

struct http_req {
    struct http *h;
    CURL *easy;
    struct curl_slist *hdrs;
    char *body;
    char *url;                        /* copied: error messages name it */
    struct http_req_opts o;
    long status;
    char errbuf[CURL_ERROR_SIZE];
    int aborted;                      /* on_data asked to stop */
    struct http_req *next;
};

struct http {
    struct loop *loop;
    CURLM *multi;
    uint64_t timer;
    struct http_req *reqs;
    int in_action;
};

static void check_done(struct http *h);

static void on_sock(struct loop *l, int fd, int mask, void *payload)
{
    struct http *h = payload;
    int ev = 0, running;
    if (mask & LOOP_READ)
        ev |= CURL_CSELECT_IN;
    if (mask & LOOP_WRITE)
        ev |= CURL_CSELECT_OUT;
    if (mask & LOOP_HUP)
        ev |= CURL_CSELECT_ERR;
    curl_multi_socket_action(h->multi, fd, ev, &running);
    check_done(h);
}

static int sock_cb(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp)
{
    struct http *h = userp;
    if (what == CURL_POLL_REMOVE) {
        loop_fd_del(h->loop, (int)s);
        return 0;
    }
    int mask = 0;
    if (what == CURL_POLL_IN || what == CURL_POLL_INOUT)
        mask |= LOOP_READ;
    if (what == CURL_POLL_OUT || what == CURL_POLL_INOUT)
        mask |= LOOP_WRITE;
    loop_fd_add(h->loop, (int)s, mask, on_sock, h);
    return 0;
}

static void on_timer(struct loop *l, uint64_t id, void *payload)
{
    struct http *h = payload;
    int running;
    h->timer = 0;
    curl_multi_socket_action(h->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    check_done(h);
}

static int timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
    struct http *h = userp;
    if (h->timer)
        loop_timer_del(h->loop, h->timer);
    h->timer = 0;
    if (timeout_ms >= 0)
        h->timer = loop_timer_add(h->loop, timeout_ms, on_timer, h);
    return 0;
}

struct http *http_new(struct loop *l)
{
    static int global_done;
    if (!global_done) {
        curl_global_init(CURL_GLOBAL_DEFAULT);
        global_done = 1;
    }
    struct http *h = xcalloc(1, sizeof *h);
    h->loop = l;
    h->multi = curl_multi_init();
    curl_multi_setopt(h->multi, CURLMOPT_SOCKETFUNCTION, sock_cb);
    curl_multi_setopt(h->multi, CURLMOPT_SOCKETDATA, h);
    curl_multi_setopt(h->multi, CURLMOPT_TIMERFUNCTION, timer_cb);
    curl_multi_setopt(h->multi, CURLMOPT_TIMERDATA, h);
    return h;
}

static void req_free(struct http_req *r)
{
    curl_multi_remove_handle(r->h->multi, r->easy);
    curl_easy_cleanup(r->easy);
    curl_slist_free_all(r->hdrs);
    free(r->body);
    free(r->url);
    free(r);
}

static void unlink_req(struct http *h, struct http_req *r)
{
    for (struct http_req **pp = &h->reqs; *pp; pp = &(*pp)->next)
        if (*pp == r) {
            *pp = r->next;
            return;
        }
}

void http_free(struct http *h)
{
    if (!h)
        return;
    while (h->reqs) {
        struct http_req *r = h->reqs;
        h->reqs = r->next;
        req_free(r);
    }
    if (h->timer)
        loop_timer_del(h->loop, h->timer);
    curl_multi_cleanup(h->multi);
    free(h);
}

static size_t header_cb(char *p, size_t size, size_t n, void *userdata)
{
    struct http_req *r = userdata;
    size_t len = size * n;
    if (len >= 5 && memcmp(p, "HTTP/", 5) == 0) {
        /* a status line: "HTTP/1.1 200 OK" (a new one after 1xx/redirect) */
        const char *sp = memchr(p, ' ', len);
        r->status = sp ? strtol(sp + 1, NULL, 10) : 0;
        return len;
    }
    const char *colon = memchr(p, ':', len);
    if (!colon || !r->o.on_header)
        return len;
    char *name = xstrndup(p, (size_t)(colon - p));
    for (char *c = name; *c; c++)
        *c = (char)tolower((unsigned char)*c);
    const char *v = colon + 1;
    size_t vlen = len - (size_t)(v - p);
    while (vlen && (*v == ' ' || *v == '\t')) {
        v++;
        vlen--;
    }
    while (vlen && (v[vlen - 1] == '\r' || v[vlen - 1] == '\n' || v[vlen - 1] == ' '))
        vlen--;
    char *value = xstrndup(v, vlen);
    r->o.on_header(r->o.payload, r->status, name, value);
    free(name);
    free(value);
    return len;
}

static size_t write_cb(char *p, size_t size, size_t n, void *userdata)
{
    struct http_req *r = userdata;
    size_t len = size * n;
    if (r->o.on_data && r->o.on_data(r->o.payload, r->status, p, len)) {
        r->aborted = 1;
        return 0;   /* makes libcurl stop with CURLE_WRITE_ERROR */
    }
    return len;
}

struct http_req *http_start(struct http *h, const struct http_req_opts *o)
{
    struct http_req *r = xcalloc(1, sizeof *r);
    r->h = h;
    r->o = *o;
    r->url = xstrdup(o->url);
    r->o.url = r->url;
    r->o.headers = NULL;              /* copied into r->hdrs below */
    r->easy = curl_easy_init();
    CURL *e = r->easy;
    curl_easy_setopt(e, CURLOPT_URL, o->url);
    curl_easy_setopt(e, CURLOPT_PRIVATE, r);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, r->errbuf);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, header_cb);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, r);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, write_cb);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
    curl_easy_setopt(e, CURLOPT_USERAGENT, "mcpdeck");
    if (o->timeout_ms > 0)
        curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, o->timeout_ms);
    if (o->connect_timeout_ms > 0)
        curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, o->connect_timeout_ms);
    for (size_t i = 0; o->headers && o->headers[i]; i++)
        r->hdrs = curl_slist_append(r->hdrs, o->headers[i]);
    if (strcmp(o->method, "POST") == 0 || (o->body && strcmp(o->method, "GET") != 0)) {
        r->body = xmalloc(o->body_len + 1);
        if (o->body_len)
            memcpy(r->body, o->body, o->body_len);
        r->body[o->body_len] = '\0';
        curl_easy_setopt(e, CURLOPT_POST, 1L);
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, r->body);
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)o->body_len);
        r->hdrs = curl_slist_append(r->hdrs, "Expect:");   /* no 100-continue wait */
        if (strcmp(o->method, "POST") != 0)   /* PUT, PATCH with a body */
            curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, o->method);
    } else if (strcmp(o->method, "GET") != 0) {
        curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, o->method);
    }
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, r->hdrs);
    r->next = h->reqs;
    h->reqs = r;
    curl_multi_add_handle(h->multi, e);
    return r;
}

int http_busy(const struct http *h)
{
    return h && h->reqs != NULL;
}

void http_cancel(struct http *h, struct http_req *r)
{
    if (!r)
        return;
    unlink_req(h, r);
    req_free(r);
}

static void check_done(struct http *h)
{
    CURLMsg *m;
    int left;
    while ((m = curl_multi_info_read(h->multi, &left))) {
        if (m->msg != CURLMSG_DONE)
            continue;
        struct http_req *r = NULL;
        curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&r);
        CURLcode code = m->data.result;
        long status = 0;
        curl_easy_getinfo(m->easy_handle, CURLINFO_RESPONSE_CODE, &status);
        unlink_req(h, r);
        char *err = NULL;
        if (code != CURLE_OK && !(r->aborted && code == CURLE_WRITE_ERROR))
            err = xasprintf("%s %s: %s", r->o.method, r->o.url,
                            r->errbuf[0] ? r->errbuf : curl_easy_strerror(code));
        struct http_req_opts o = r->o;
        req_free(r);
        if (o.on_done)
            o.on_done(o.payload, status, err);
        free(err);
    }
}
