/* jobq_deps.c — jobs that need other jobs: submitting a group whose needs
 * name keys inside it (checked for unknown keys and cycles before anything
 * is written), skipping the dependents of a job that ended without
 * succeeding, and running a job again by hand (which brings back what was
 * skipped because of it). The dependency edges are rows of job_deps
 * (002_queue.sql); jobq_claim's NOT EXISTS on them is what holds a job
 * back until every job it needs succeeded. Loop thread only. */
#include <stdlib.h>
#include <string.h>

#include "jobq.h"
#include "jobq_int.h"
#include "util.h"

/* A growable list of job ids. */
struct idvec {
    int64_t *v;
    size_t n, cap;
};

static void idvec_push(struct idvec *s, int64_t id)
{
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 8;
        s->v = xrealloc(s->v, s->cap * sizeof *s->v);
    }
    s->v[s->n++] = id;
}

/* Append the ids from a statement's first column (bound by the caller,
 * reset here). 0 or -1. */
static int idvec_collect(struct idvec *s, sqlite3_stmt *st)
{
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        idvec_push(s, sqlite3_column_int64(st, 0));
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

static int job_exists(struct jobq *q, int64_t id)
{
    sqlite3_stmt *st = q->st[JQ_LABEL];
    sqlite3_bind_int64(st, 1, id);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_ROW;
}

/* "skipped: needs <label> which <status>" for the job `need`, or NULL if
 * there is no such job. */
static char *skip_message(struct jobq *q, int64_t need)
{
    sqlite3_stmt *st = q->st[JQ_LABEL];
    sqlite3_bind_int64(st, 1, need);
    char *msg = NULL;
    if (sqlite3_step(st) == SQLITE_ROW)
        msg = xasprintf("skipped: needs %s which %s", sqlite3_column_text(st, 0),
                        sqlite3_column_text(st, 1));
    sqlite3_reset(st);
    return msg;
}

/* The first job that id needs which failed, was cancelled or skipped, as
 * "skipped: needs ..." text (*msg malloc'd). 1 when there is one, 0 when
 * none, -1 on error. */
static int bad_need(struct jobq *q, int64_t id, char **msg)
{
    *msg = NULL;
    sqlite3_stmt *st = q->st[JQ_BAD_NEED];
    sqlite3_bind_int64(st, 1, id);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *msg = xasprintf("skipped: needs %s which %s", sqlite3_column_text(st, 0),
                         sqlite3_column_text(st, 1));
    sqlite3_reset(st);
    return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

static int dependents(struct jobq *q, int64_t id, const char *status, struct idvec *out)
{
    sqlite3_stmt *st = q->st[JQ_DEPENDENTS];
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_text(st, 2, status, -1, SQLITE_STATIC);
    return idvec_collect(out, st);
}

/* === Skipping === */

/* Breadth-first over job_deps from id: each queued dependent becomes
 * skipped naming the job it needs (so a -> b -> c reads "needs a which
 * failed" on b and "needs b which skipped" on c); a job reached on two
 * paths names the nearer one, and is skipped once: the UPDATE only
 * touches queued rows. */
int jobq_skip_dependents(struct jobq *q, int64_t id, int64_t now)
{
    struct idvec todo = {0}, deps = {0};
    int rc = 0;
    idvec_push(&todo, id);
    for (size_t head = 0; head < todo.n && rc == 0; head++) {
        int64_t need = todo.v[head];
        deps.n = 0;
        if ((rc = dependents(q, need, "queued", &deps)) < 0 || deps.n == 0)
            continue;
        char *msg = skip_message(q, need);
        sqlite3_stmt *st = q->st[JQ_SKIP];
        for (size_t i = 0; i < deps.n && rc == 0; i++) {
            sqlite3_bind_int64(st, 1, deps.v[i]);
            sqlite3_bind_int64(st, 2, now);
            sqlite3_bind_text(st, 3, msg ? msg : "skipped", -1, SQLITE_STATIC);
            rc = jobq_step_done(st);
            if (rc == 0 && sqlite3_changes(q->h) > 0) {
                idvec_push(&todo, deps.v[i]);
                jobq_note_change(q, deps.v[i], JOB_SKIPPED);
            }
        }
        free(msg);
    }
    free(todo.v);
    free(deps.v);
    return rc;
}

/* After id went back to queued: each job skipped that needs it returns to
 * queued when nothing else it needs is failed, cancelled or skipped (else
 * its error is brought up to date), and so on down, breadth-first. A job
 * left skipped on one path is looked at again when its last bad need
 * comes back. Adds to *restored. */
static int restore_dependents(struct jobq *q, int64_t id, int *restored)
{
    struct idvec todo = {0}, deps = {0};
    int rc = 0;
    idvec_push(&todo, id);
    for (size_t head = 0; head < todo.n && rc == 0; head++) {
        int64_t need = todo.v[head];
        deps.n = 0;
        if ((rc = dependents(q, need, "skipped", &deps)) < 0)
            break;
        for (size_t i = 0; i < deps.n && rc == 0; i++) {
            char *msg = NULL;
            int bad = bad_need(q, deps.v[i], &msg);
            sqlite3_stmt *st = q->st[bad ? JQ_SET_ERROR : JQ_UNSKIP];
            sqlite3_bind_int64(st, 1, deps.v[i]);
            if (bad)
                sqlite3_bind_text(st, 2, msg, -1, SQLITE_STATIC);
            rc = bad < 0 ? -1 : jobq_step_done(st);
            if (rc == 0 && !bad) {
                idvec_push(&todo, deps.v[i]);
                jobq_note_change(q, deps.v[i], JOB_QUEUED);
                (*restored)++;
            }
            free(msg);
        }
    }
    free(todo.v);
    free(deps.v);
    return rc;
}

/* === Retry and priority === */

int jobq_retry(struct jobq *q, int64_t id, int *restored, char **errmsg)
{
    int n = 0;
    char *msg = NULL;
    if (restored)
        *restored = 0;
    if (jobq_tx_begin(q) < 0) {
        *errmsg = xasprintf("cannot retry job %lld: %s", (long long)id, sqlite3_errmsg(q->h));
        return -1;
    }
    sqlite3_stmt *st = q->st[JQ_STATE];
    sqlite3_bind_int64(st, 1, id);
    int rc = sqlite3_step(st);
    char *status = rc == SQLITE_ROW ? jobq_col_text(st, 0) : NULL;
    sqlite3_reset(st);
    if (!status) {
        *errmsg = xasprintf("no job %lld", (long long)id);
        goto fail;
    }
    if (strcmp(status, "failed") != 0 && strcmp(status, "cancelled") != 0
        && strcmp(status, "skipped") != 0) {
        *errmsg = xasprintf("job %lld is %s: only failed, cancelled or skipped jobs can be "
                            "retried", (long long)id, status);
        goto fail;
    }
    int bad = bad_need(q, id, &msg);
    if (bad) {
        /* "skipped: needs b which failed" -> "job 3 needs b which failed" */
        *errmsg = bad < 0 ? xasprintf("cannot retry job %lld: %s", (long long)id,
                                      sqlite3_errmsg(q->h))
                          : xasprintf("job %lld %s: retry that first", (long long)id,
                                      msg + strlen("skipped: "));
        goto fail;
    }
    st = q->st[JQ_RETRY];
    sqlite3_bind_int64(st, 1, id);
    if (jobq_step_done(st) < 0 || sqlite3_changes(q->h) == 0)
        goto dbfail;
    st = q->st[JQ_RESULT_DEL];
    sqlite3_bind_int64(st, 1, id);
    if (jobq_step_done(st) < 0 || restore_dependents(q, id, &n) < 0 || jobq_tx_commit(q) < 0)
        goto dbfail;
    free(status);
    if (restored)
        *restored = n;
    return 0;
dbfail:
    *errmsg = xasprintf("cannot retry job %lld: %s", (long long)id, sqlite3_errmsg(q->h));
fail:
    jobq_tx_rollback(q);
    free(status);
    free(msg);
    return -1;
}

/* One statement: atomic on its own and inside a caller's transaction. */
int jobq_set_priority(struct jobq *q, int64_t id, int priority)
{
    sqlite3_stmt *st = q->st[JQ_SET_PRIORITY];
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int(st, 2, priority);
    return jobq_step_done(st) == 0 && sqlite3_changes(q->h) > 0 ? 0 : -1;
}

int jobq_set_route(struct jobq *q, int64_t id, const char *server, const char *route_json)
{
    sqlite3_stmt *st = q->st[JQ_SET_ROUTE];
    sqlite3_bind_int64(st, 1, id);
    jobq_bind_text_or_null(st, 2, server);
    jobq_bind_text_or_null(st, 3, route_json);
    return jobq_step_done(st) == 0 && sqlite3_changes(q->h) > 0 ? 0 : -1;
}

/* === Reading the edges === */

static int ids_of(struct jobq *q, enum jobq_st which, int64_t id, int64_t **out, size_t *n)
{
    struct idvec v = {0};
    sqlite3_bind_int64(q->st[which], 1, id);
    int rc = idvec_collect(&v, q->st[which]);
    if (rc < 0) {
        free(v.v);
        v.v = NULL;
        v.n = 0;
    }
    *out = v.v;
    *n = v.n;
    return rc;
}

int jobq_deps(struct jobq *q, int64_t id, int64_t **needs, size_t *nneeds,
              int64_t **needed_by, size_t *nneeded_by)
{
    *needed_by = NULL;
    *nneeded_by = 0;
    if (ids_of(q, JQ_NEEDS, id, needs, nneeds) < 0)
        return -1;
    if (ids_of(q, JQ_NEEDED_BY, id, needed_by, nneeded_by) < 0) {
        free(*needs);
        *needs = NULL;
        *nneeds = 0;
        return -1;
    }
    return 0;
}

/* === Groups === */

/* Specs of a group by key, sorted, for needs_keys lookups. */
struct keyidx {
    const struct jobq_spec *specs;
    size_t *order;          /* indices of specs with a key, by key */
    size_t n;
};

static int key_cmp(const void *a, const void *b, void *payload)
{
    const struct jobq_spec *specs = payload;
    return strcmp(specs[*(const size_t *)a].key, specs[*(const size_t *)b].key);
}

static void keyidx_init(struct keyidx *k, const struct jobq_spec *specs, size_t n)
{
    k->specs = specs;
    k->order = xcalloc(n, sizeof *k->order);
    k->n = 0;
    for (size_t i = 0; i < n; i++)
        if (specs[i].key)
            k->order[k->n++] = i;
    qsort_r(k->order, k->n, sizeof *k->order, key_cmp, (void *)specs);
}

/* The index of the spec with this key: 0 and *at, -1 none, -2 several. */
static int keyidx_find(const struct keyidx *k, const char *key, size_t *at)
{
    size_t lo = 0, hi = k->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(k->specs[k->order[mid]].key, key);
        if (c == 0) {
            if ((mid > 0 && strcmp(k->specs[k->order[mid - 1]].key, key) == 0)
                || (mid + 1 < k->n && strcmp(k->specs[k->order[mid + 1]].key, key) == 0))
                return -2;
            *at = k->order[mid];
            return 0;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -1;
}

static const char *spec_name(const struct jobq_spec *s)
{
    return s->key ? s->key : s->tool ? s->tool : "?";
}

/* Resolve every needs_key to a spec index: edge[i] points into all[],
 * from off[i] to off[i + 1]. 0, or -1 and *errmsg. */
static int resolve_keys(const struct jobq_spec *specs, size_t n, size_t **off, size_t **all,
                        char **errmsg)
{
    struct keyidx k;
    keyidx_init(&k, specs, n);
    size_t total = 0;
    for (size_t i = 0; i < n; i++)
        total += specs[i].nneeds_keys;
    *off = xcalloc(n + 1, sizeof **off);
    *all = xcalloc(total ? total : 1, sizeof **all);
    size_t e = 0;
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        (*off)[i] = e;
        for (size_t j = 0; j < specs[i].nneeds_keys && rc == 0; j++) {
            const char *key = specs[i].needs_keys[j];
            int found = key ? keyidx_find(&k, key, &(*all)[e]) : -1;
            if (found == -1)
                *errmsg = xasprintf("'%s' needs '%s', which is not a task of this group",
                                    spec_name(&specs[i]), key ? key : "(null)");
            else if (found == -2)
                *errmsg = xasprintf("'%s' needs '%s', but more than one task of this group "
                                    "has that key", spec_name(&specs[i]), key);
            rc = found == 0 ? 0 : -1;
            e++;
        }
    }
    (*off)[n] = e;
    free(k.order);
    return rc;
}

/* "needs form a cycle: a -> c -> b -> a" (a needs c, c needs b, b needs
 * a) for the n specs of path, back to path[0]; a long cycle is shortened
 * in the middle. */
static char *cycle_message(const struct jobq_spec *specs, const size_t *path, size_t n)
{
    struct buf b;
    buf_init(&b);
    buf_puts(&b, "needs form a cycle: ");
    for (size_t i = 0; i < n; i++) {
        if (n > 8 && i == 5) {
            buf_printf(&b, "... (%zu more) -> ", n - 7);
            i = n - 3;
            continue;
        }
        buf_printf(&b, "%s -> ", spec_name(&specs[path[i]]));
    }
    buf_puts(&b, spec_name(&specs[path[0]]));
    return buf_detach(&b);
}

/* Depth-first search with an explicit stack (a long chain must not
 * overflow the C stack). On a cycle, *errmsg spells it "a -> b -> a". */
static int find_cycle(const struct jobq_spec *specs, size_t n, const size_t *off,
                      const size_t *all, char **errmsg)
{
    unsigned char *color = xcalloc(n ? n : 1, 1);   /* 0 new, 1 on the path, 2 done */
    size_t *stack = xcalloc(n ? n : 1, sizeof *stack), *next = xcalloc(n ? n : 1, sizeof *next);
    int rc = 0;
    for (size_t root = 0; root < n && rc == 0; root++) {
        if (color[root])
            continue;
        size_t sp = 0;
        stack[sp++] = root;
        color[root] = 1;
        next[root] = off[root];
        while (sp > 0 && rc == 0) {
            size_t v = stack[sp - 1];
            if (next[v] == off[v + 1]) {
                color[v] = 2;
                sp--;
                continue;
            }
            size_t w = all[next[v]++];
            if (color[w] == 0) {
                color[w] = 1;
                next[w] = off[w];
                stack[sp++] = w;
            } else if (color[w] == 1) {
                size_t from = 0;
                while (stack[from] != w)
                    from++;
                *errmsg = cycle_message(specs, stack + from, sp - from);
                rc = -1;
            }
        }
    }
    free(color);
    free(stack);
    free(next);
    return rc;
}

/* Record spec i's needs (ids and resolved keys) for job ids[i]. */
static int add_deps(struct jobq *q, const struct jobq_spec *specs, size_t i, const int64_t *ids,
                    const size_t *off, const size_t *all, char **errmsg)
{
    const struct jobq_spec *s = &specs[i];
    sqlite3_stmt *dep = q->st[JQ_DEP_ADD];
    for (size_t j = 0; j < s->nneeds + (off[i + 1] - off[i]); j++) {
        int64_t need;
        if (j < s->nneeds) {
            need = s->needs[j];
            if (!job_exists(q, need)) {
                *errmsg = xasprintf("'%s' needs job #%lld, which does not exist",
                                    spec_name(s), (long long)need);
                return -1;
            }
        } else {
            size_t at = all[off[i] + j - s->nneeds];
            need = ids[at];
            if (need == ids[i]) {
                *errmsg = xasprintf("'%s' needs '%s', which is the same job (same "
                                    "idempotency key)", spec_name(s), spec_name(&specs[at]));
                return -1;
            }
        }
        sqlite3_bind_int64(dep, 1, ids[i]);
        sqlite3_bind_int64(dep, 2, need);
        if (jobq_step_done(dep) < 0) {
            *errmsg = xasprintf("cannot record the needs of '%s': %s", spec_name(s),
                                sqlite3_errmsg(q->h));
            return -1;
        }
    }
    return 0;
}

/* Every check that needs no database runs first; then, in one
 * transaction: insert (or find by idempotency key) each spec in order, so
 * ids keep the group's order; add the edges of the new jobs; skip the new
 * jobs that need one already failed, cancelled or skipped, and theirs. */
int jobq_submit_many(struct jobq *q, const struct jobq_spec *specs, size_t n, int64_t *ids,
                     int *created, char **errmsg)
{
    size_t *off = NULL, *all = NULL;
    int *made = xcalloc(n ? n : 1, sizeof *made);
    int began = 0;
    for (size_t i = 0; i < n; i++)
        if (jobq_spec_check(&specs[i], errmsg) < 0)
            goto fail;
    if (resolve_keys(specs, n, &off, &all, errmsg) < 0
        || find_cycle(specs, n, off, all, errmsg) < 0)
        goto fail;
    int64_t now = util_wall_ms();
    if (jobq_tx_begin(q) < 0) {
        *errmsg = xasprintf("cannot queue: %s", sqlite3_errmsg(q->h));
        goto fail;
    }
    began = 1;
    for (size_t i = 0; i < n; i++)
        if (jobq_insert(q, &specs[i], now, &ids[i], &made[i], errmsg) < 0)
            goto fail;
    for (size_t i = 0; i < n; i++)
        if (made[i] && add_deps(q, specs, i, ids, off, all, errmsg) < 0)
            goto fail;
    for (size_t i = 0; i < n; i++) {
        char *msg = NULL;
        int bad = made[i] && (specs[i].nneeds || specs[i].nneeds_keys)
                      ? bad_need(q, ids[i], &msg) : 0;
        int rc = bad;
        if (bad > 0) {
            sqlite3_stmt *st = q->st[JQ_SKIP];
            sqlite3_bind_int64(st, 1, ids[i]);
            sqlite3_bind_int64(st, 2, now);
            sqlite3_bind_text(st, 3, msg, -1, SQLITE_STATIC);
            rc = jobq_step_done(st) < 0 || jobq_skip_dependents(q, ids[i], now) < 0 ? -1 : 0;
            if (rc == 0)
                jobq_note_change(q, ids[i], JOB_SKIPPED);
        }
        free(msg);
        if (rc < 0) {
            *errmsg = xasprintf("cannot queue '%s': %s", spec_name(&specs[i]),
                                sqlite3_errmsg(q->h));
            goto fail;
        }
    }
    if (jobq_tx_commit(q) < 0) {
        *errmsg = xasprintf("cannot queue: %s", sqlite3_errmsg(q->h));
        goto fail;
    }
    if (created)
        memcpy(created, made, n * sizeof *made);
    free(made);
    free(off);
    free(all);
    return 0;
fail:
    if (began)
        jobq_tx_rollback(q);
    free(made);
    free(off);
    free(all);
    return -1;
}
