/* engine_health.c — the servers' health and circuit breakers.
 *
 * Health: every server is checked every health.interval (per-server
 * health_interval) once it is ready: `ping`, or `tools/list` for a server
 * that answers ping with "method not found". The check's latency is
 * recorded. A failed check makes the server unhealthy; a check slower
 * than health.slow, or server faults among the last health.window calls
 * and checks, make it warning; otherwise healthy. Never checked is unknown. Every
 * check and every change of health is a row in servers_health, and a
 * change is an ENGINE_EV_SERVER_HEALTH event with its reason.
 *
 * Breakers (breaker.h): a server fault (transport error, timeout, crash,
 * internal error; not a tool's isError, not invalid params) or a failed
 * check counts against the server's breaker; an open breaker refuses calls
 * until its cooldown ends, then lets one trial through (a call or a check)
 * whose outcome closes or reopens it.
 *
 * Reasons are redacted (redact.h) before they are kept, stored or
 * announced: a check's error may quote what the server said. Changes of
 * health and breaker are logged (warn when worse, info when better). */
#include "engine_int.h"

#include <time.h>

#define CHECK_TIMEOUT_MIN_MS 1000
#define CHECK_TIMEOUT_MAX_MS 30000

const char *server_health_name(enum server_health h)
{
    static const char *const names[] = {"unknown", "healthy", "warning", "unhealthy"};
    return (unsigned)h < ARRAY_LEN(names) ? names[h] : "?";
}

void engine_health_init(struct server *s)
{
    const struct config *c = s->e->cfg;
    breaker_init(&s->breaker, c->breaker_failures, c->breaker_cooldown_ms);
    s->health = SERVER_HEALTH_UNKNOWN;
    s->eval_valid = 0;
    s->latency_ms = -1;
}

void engine_health_fini(struct server *s)
{
    if (s->health_timer)
        loop_timer_del(s->e->loop, s->health_timer);
    s->health_timer = 0;
    free(s->health_reason);
    s->health_reason = NULL;
}

void engine_clock_text(int64_t mono_ms, char out[16])
{
    time_t t = (time_t)((util_wall_ms() + (mono_ms - util_now_ms()) + 999) / 1000);
    struct tm tm;
    localtime_r(&t, &tm);
    strftime(out, 16, "%H:%M:%S", &tm);
}

/* === history and events === */

static void history_add(struct server *s, const char *state, int64_t latency,
                        const char *why)
{
    struct engine *e = s->e;
    sqlite3_stmt *st;
    engine_tx_touch(e);
    if (sqlite3_prepare_v2(db_handle(e->db),
                           "INSERT INTO servers_health (server, ts_ms, state, latency_ms, error) "
                           "VALUES (?1, ?2, ?3, ?4, ?5)", -1, &st, NULL) != SQLITE_OK)
        return;
    sqlite3_bind_text(st, 1, s->name, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, util_wall_ms());
    sqlite3_bind_text(st, 3, state, -1, SQLITE_STATIC);
    if (latency >= 0)
        sqlite3_bind_int64(st, 4, latency);
    char *clean = why ? redact_string(why) : NULL;
    if (clean)
        sqlite3_bind_text(st, 5, clean, -1, SQLITE_STATIC);
    sqlite3_step(st);
    sqlite3_finalize(st);
    free(clean);
}

static void emit_health(struct server *s, const char *why)
{
    struct engine_event ev = {ENGINE_EV_SERVER_HEALTH, 0, 0, s->name, why, 0, 0, NULL};
    engine_emit(s->e, &ev);
}

/* Set the health; a change is stored and announced. */
static void health_set(struct server *s, enum server_health h, const char *why)
{
    s->eval_valid = 0;           /* set from elsewhere: evaluate() looks again */
    int changed = h != s->health;
    char *clean = redact_string(why);
    if (changed || !s->health_reason || strcmp(s->health_reason, clean) != 0) {
        free(s->health_reason);
        s->health_reason = clean;
        clean = NULL;
    }
    free(clean);
    if (!changed)
        return;
    enum server_health was = s->health;
    s->health = h;
    why = s->health_reason;
    if (log_enabled(LOG_LEVEL_INFO)) {
        struct log_ctx ctx = {0, s->name, 0};
        struct log_kv kv[] = {LOG_STR("health", server_health_name(h)),
                              LOG_STR("was", server_health_name(was))};
        log_write_kv(h >= SERVER_HEALTH_WARNING ? LOG_LEVEL_WARN : LOG_LEVEL_INFO, &ctx, kv,
                     ARRAY_LEN(kv), "server %s: %s", server_health_name(h), why);
    }
    history_add(s, server_health_name(h), -1, why);
    emit_health(s, why);
}

static void breaker_changed(struct server *s, enum breaker_state was)
{
    char when[16];
    char *why;
    if (s->breaker.state == BREAKER_OPEN) {
        engine_clock_text(s->breaker.opened_at + s->breaker.cooldown_ms, when);
        why = was == BREAKER_HALF_OPEN
                  ? xasprintf("breaker open again: the trial failed; next trial at %s", when)
                  : xasprintf("breaker open after %d consecutive failures; trial at %s",
                              s->breaker.threshold, when);
    } else {
        why = xasprintf("breaker %s", breaker_state_name(s->breaker.state));
    }
    history_add(s, s->breaker.state == BREAKER_OPEN ? "breaker-open"
                   : s->breaker.state == BREAKER_HALF_OPEN ? "breaker-half-open"
                                                           : "breaker-closed", -1, why);
    engine_log_server(s->breaker.state == BREAKER_OPEN ? LOG_LEVEL_WARN : LOG_LEVEL_INFO, s,
                      "server %s", why);
    emit_health(s, why);
    free(why);
}

static void breaker_outcome(struct server *s, int ok)
{
    enum breaker_state was = s->breaker.state;
    if (breaker_record(&s->breaker, ok, util_now_ms()))
        breaker_changed(s, was);
}

int engine_breaker_allow(struct server *s, char **why)
{
    int64_t retry = 0;
    enum breaker_state was = s->breaker.state;
    int ok = breaker_allow(&s->breaker, util_now_ms(), &retry);
    if (s->breaker.state != was)
        breaker_changed(s, was);
    if (ok)
        return 0;
    if (why) {
        char when[16];
        engine_clock_text(retry, when);
        *why = s->breaker.state == BREAKER_OPEN
                   ? xasprintf("server %s: circuit breaker open after %d consecutive failures; "
                               "it will be retried at %s", s->name, s->breaker.threshold, when)
                   : xasprintf("server %s: circuit breaker half-open, its trial call is still "
                               "out; retry shortly", s->name);
    }
    return -1;
}

/* === evaluation === */

static int window_faults(const struct server *s)
{
    int n = 0;
    for (int i = 0; i < s->wlen; i++)
        n += s->window[i];
    return n;
}

/* Health from the last check and the recent calls. */
static void evaluate(struct server *s, const char *check_error)
{
    const struct config *c = s->e->cfg;
    char *why;
    enum server_health h;
    int faults = window_faults(s);
    /* every call re-evaluates: when nothing the verdict rests on changed,
     * neither does the verdict (nor its text) */
    struct health_basis b = {s->check_ok != 0, s->ping_unsupported != 0, faults, s->wlen,
                             s->latency_ms};
    if (!check_error && s->eval_valid && s->eval.check_ok == b.check_ok &&
        s->eval.ping_unsupported == b.ping_unsupported && s->eval.faults == b.faults &&
        s->eval.wlen == b.wlen && s->eval.latency_ms == b.latency_ms)
        return;
    if (!s->check_ok) {
        h = SERVER_HEALTH_UNHEALTHY;
        why = xasprintf("check failed: %s", check_error ? check_error : "no answer");
    } else if (s->latency_ms > c->health_slow_ms) {
        h = SERVER_HEALTH_WARNING;
        why = xasprintf("slow: the check took %lld ms (threshold %d ms)",
                        (long long)s->latency_ms, c->health_slow_ms);
    } else if (faults) {
        h = SERVER_HEALTH_WARNING;
        why = xasprintf("%d of the last %d calls and checks failed", faults, s->wlen);
    } else {
        h = SERVER_HEALTH_HEALTHY;
        why = xasprintf("%s answered in %lld ms", s->ping_unsupported ? "tools/list" : "ping",
                        (long long)s->latency_ms);
    }
    health_set(s, h, why);
    free(why);
    s->eval = b;                 /* health_set cleared eval_valid: only this verdict counts */
    s->eval_valid = 1;
}

/* The recent window: the last health.window calls and checks. */
static void window_push(struct server *s, int fault)
{
    int cap = s->e->cfg->health_window;
    if (cap > (int)sizeof s->window)
        cap = (int)sizeof s->window;
    s->window[s->wpos] = (unsigned char)(fault != 0);
    s->wpos = (s->wpos + 1) % cap;
    if (s->wlen < cap)
        s->wlen++;
}

void engine_health_call(struct server *s, int fault, int64_t latency_ms)
{
    window_push(s, fault);
    breaker_outcome(s, !fault);
    /* calls refine a checked server's health; they do not replace checks */
    if (s->checked_ms && s->check_ok)
        evaluate(s, NULL);
}

int engine_error_is_fault(const char *error)
{
    /* invalid request / method not found / invalid params are the
     * caller's mistakes, not the server failing */
    return !(strstr(error, "answered error -32600") || strstr(error, "answered error -32601") ||
             strstr(error, "answered error -32602"));
}

void engine_metrics_call(struct server *s, const char *tool, int error, int64_t latency_ms)
{
    struct metrics *m = s->e->metrics;
    const char *st[] = {s->name, tool};
    metrics_inc(m, MET_TOOL_CALLS, st);
    if (error)
        metrics_inc(m, MET_TOOL_ERRORS, st);
    metrics_observe(m, MET_TOOL_CALL_SECONDS, st, (double)latency_ms / 1000.0);
}

/* === checks === */

static void check_done(struct server *s, int ok, const char *error)
{
    struct engine *e = s->e;
    s->check_inflight = 0;
    e->checks_inflight--;
    if (e->stopping)
        return;
    s->latency_ms = util_now_ms() - s->check_started;
    s->checked_ms = util_wall_ms();
    s->check_ok = ok;
    const char *l[] = {s->name};
    metrics_observe(e->metrics, MET_HEALTH_CHECK_SECONDS, l, (double)s->latency_ms / 1000.0);
    history_add(s, ok ? "check-ok" : "check-failed", s->latency_ms, error);
    window_push(s, !ok);
    breaker_outcome(s, ok);
    evaluate(s, error);
    if (e->health_auto)
        engine_health_arm(s, -1);
}

static void send_check(struct server *s);

static void check_answer(void *payload, const cJSON *result, const char *error)
{
    struct server *s = payload;
    if (error && !s->ping_unsupported && strstr(error, "answered error -32601")) {
        s->ping_unsupported = 1;     /* an old server: tools/list it is */
        send_check(s);
        return;
    }
    check_done(s, error == NULL, error);
}

static void send_check(struct server *s)
{
    int timeout = s->e->cfg->health_slow_ms * 5;
    if (timeout < CHECK_TIMEOUT_MIN_MS)
        timeout = CHECK_TIMEOUT_MIN_MS;
    if (timeout > CHECK_TIMEOUT_MAX_MS)
        timeout = CHECK_TIMEOUT_MAX_MS;
    char *err = NULL;
    const char *method = s->ping_unsupported ? "tools/list" : "ping";
    if (mcp_client_request(s->client, method, NULL, timeout, check_answer, s, &err) < 0) {
        check_done(s, 0, err);
        free(err);
    }
}

/* Check one server now (unless a check is out already). */
static void check_server(struct server *s)
{
    struct engine *e = s->e;
    if (s->check_inflight || s->state == SERVER_DISABLED || s->state == SERVER_STOPPED)
        return;
    if (s->state != SERVER_READY) {
        if (s->state == SERVER_FAILED) {
            char *why = xasprintf("not running: %s", s->last_error ? s->last_error : "failed");
            s->checked_ms = util_wall_ms();
            s->check_ok = 0;
            s->latency_ms = -1;
            history_add(s, "check-failed", -1, why);
            health_set(s, SERVER_HEALTH_UNHEALTHY, why);
            free(why);
        }
        return;
    }
    /* an open breaker is not probed before its cooldown; a half-open one
     * takes this check as its trial */
    if (engine_breaker_allow(s, NULL) < 0)
        return;
    s->check_inflight = 1;
    e->checks_inflight++;
    s->check_started = util_now_ms();
    send_check(s);
}

static void health_timer_cb(struct loop *l, uint64_t id, void *payload)
{
    struct server *s = payload;
    s->health_timer = 0;
    check_server(s);
    if (!s->check_inflight && s->e->health_auto)
        engine_health_arm(s, -1);
}

void engine_health_arm(struct server *s, int64_t delay_ms)
{
    if (delay_ms < 0) {
        delay_ms = s->cfg && s->cfg->health_interval_ms > 0 ? s->cfg->health_interval_ms
                                                            : s->e->cfg->health_interval_ms;
        /* an open breaker is probed when its cooldown ends */
        if (s->breaker.state == BREAKER_OPEN) {
            int64_t due = s->breaker.opened_at + s->breaker.cooldown_ms - util_now_ms();
            if (due >= 0 && due < delay_ms)
                delay_ms = due;
        }
    }
    if (s->health_timer)
        loop_timer_del(s->e->loop, s->health_timer);
    s->health_timer = loop_timer_add(s->e->loop, delay_ms, health_timer_cb, s);
}

void engine_health_ready(struct server *s)
{
    if (s->e->health_auto)
        engine_health_arm(s, 0);    /* first check at once */
}

void engine_health_down(struct server *s, const char *error)
{
    if (s->e->stopping)
        return;
    breaker_outcome(s, 0);
    s->check_ok = 0;
    char *why = xasprintf("down: %s", error ? error : "the session closed");
    health_set(s, SERVER_HEALTH_UNHEALTHY, why);
    free(why);
    if (s->e->health_auto)
        engine_health_arm(s, -1);
}

void engine_set_health_checks(struct engine *e, int on)
{
    e->health_auto = on;
    for (size_t i = 0; i < e->nservers; i++) {
        struct server *s = e->servers[i];
        if (on && !s->health_timer && !s->check_inflight && s->state == SERVER_READY)
            engine_health_arm(s, 0);
        else if (!on && s->health_timer) {
            loop_timer_del(e->loop, s->health_timer);
            s->health_timer = 0;
        }
    }
}

int engine_check_servers(struct engine *e, int timeout_ms)
{
    for (size_t i = 0; i < e->nservers; i++) {
        struct server *s = e->servers[i];
        char *err = NULL;
        if (s->state == SERVER_STOPPED && engine_server_start(s, &err) < 0)
            free(err);
    }
    int64_t end = util_now_ms() + timeout_ms;
    int left = engine_wait_servers(e, timeout_ms);
    for (size_t i = 0; i < e->nservers; i++)
        check_server(e->servers[i]);
    for (;;) {
        int64_t rest = end - util_now_ms();
        if (!e->checks_inflight || rest <= 0 || e->interrupted)
            break;
        loop_run_once(e->loop, rest);
    }
    engine_tx_flush(e);
    return e->checks_inflight + left;
}

int engine_check_server(struct engine *e, const char *name, char **errmsg)
{
    struct server *s = engine_server_find(e, name);
    if (!s || s->removed) {
        *errmsg = xasprintf("unknown server '%s'", name);
        return -1;
    }
    switch (s->state) {
    case SERVER_DISABLED:
        *errmsg = xasprintf("server %s is disabled; enable it first", name);
        return -1;
    case SERVER_STOPPED:
        return engine_server_start(s, errmsg);
    case SERVER_STARTING:
        *errmsg = xasprintf("server %s is still starting; it is checked once ready", name);
        return -1;
    default:
        break;
    }
    if (s->state == SERVER_READY && !s->check_inflight) {
        enum breaker_state was = s->breaker.state;
        if (breaker_poll(&s->breaker, util_now_ms()))
            breaker_changed(s, was);
        if (s->breaker.state == BREAKER_OPEN)
            return engine_breaker_allow(s, errmsg);
    }
    check_server(s);
    return 0;
}
