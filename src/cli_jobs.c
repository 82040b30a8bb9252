/* cli_jobs.c — `mcpdeck jobs` (see cli_jobs.h): list, show, cancel, retry
 * and print results of queued jobs, reading the database directly through
 * jobq. Three sinks for the same data: text (aligned columns for people),
 * json (for scripts), md (Markdown for reports and issues). */
#include "cli_jobs.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "db.h"
#include "jobq.h"
#include "util.h"

#define DEFAULT_LIMIT 50
#define ERROR_WIDTH 60

enum fmt { FMT_TEXT, FMT_JSON, FMT_MD };

static const char usage[] =
    "usage: mcpdeck jobs [list] [--status S[,S...]] [--limit N]\n"
    "       mcpdeck jobs show ID | cancel ID | retry ID | result ID | priority ID N\n"
    "  --format text|json|md   output format (result prints the body as stored)\n"
    "  statuses: queued, running, succeeded, failed, cancelled, skipped\n";

/* === Small formatting helpers === */

/* "2025-01-31 14:05:09" in local time, or "" for 0. */
static void fmt_time(int64_t ms, char out[32])
{
    out[0] = '\0';
    if (ms <= 0)
        return;
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    if (localtime_r(&t, &tm))
        strftime(out, 32, "%Y-%m-%d %H:%M:%S", &tm);
}

/* s on one line (control characters as spaces), cut to max characters
 * with "…" when longer (max 0: no cut). Malloc'd. */
static char *one_line(const char *s, size_t max)
{
    struct buf b;
    buf_init(&b);
    buf_puts(&b, "");
    size_t chars = 0;
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
        if ((*p & 0xC0) != 0x80 && max && chars++ == max) {
            while (b.len > 0 && ((unsigned char)b.data[b.len - 1] & 0xC0) == 0x80)
                b.len--;
            if (b.len > 0)
                b.len--;
            b.data[b.len] = '\0';
            buf_puts(&b, "\u2026");
            break;
        }
        buf_putc(&b, *p < 0x20 || *p == 0x7F ? ' ' : (char)*p);
    }
    return buf_detach(&b);
}

/* Characters (not bytes) in UTF-8 text, for column widths. */
static size_t text_width(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

static char *task_name(const struct job *j)
{
    return xasprintf("%s.%s", j->server ? j->server : "?", j->tool ? j->tool : "?");
}

/* === Tables: text columns or Markdown === */

struct table {
    size_t ncols;
    const char *const *head;
    unsigned right;          /* bit i: column i is right-aligned (numbers) */
    int indent;              /* text: spaces before each line */
    char **cells;            /* nrows * ncols, owned */
    size_t nrows, cap;
};

static void table_init(struct table *t, const char *const *head, size_t ncols, unsigned right)
{
    memset(t, 0, sizeof *t);
    t->head = head;
    t->ncols = ncols;
    t->right = right;
}

/* Add a row of ncols cells; each is taken (malloc'd) and may be NULL. */
static void table_row(struct table *t, char **cells)
{
    if (t->nrows == t->cap) {
        t->cap = t->cap ? t->cap * 2 : 16;
        t->cells = xrealloc(t->cells, t->cap * t->ncols * sizeof *t->cells);
    }
    for (size_t c = 0; c < t->ncols; c++)
        t->cells[t->nrows * t->ncols + c] = cells[c] ? cells[c] : xstrdup("");
    t->nrows++;
}

static void table_fini(struct table *t)
{
    for (size_t i = 0; i < t->nrows * t->ncols; i++)
        free(t->cells[i]);
    free(t->cells);
}

static void pad(struct buf *b, size_t n)
{
    while (n--)
        buf_putc(b, ' ');
}

/* Columns two spaces apart; no trailing blanks when the last cells are
 * empty. */
static void table_print_text(const struct table *t, FILE *out)
{
    size_t *w = xcalloc(t->ncols, sizeof *w);
    for (size_t c = 0; c < t->ncols; c++) {
        w[c] = text_width(t->head[c]);
        for (size_t r = 0; r < t->nrows; r++) {
            size_t cw = text_width(t->cells[r * t->ncols + c]);
            w[c] = cw > w[c] ? cw : w[c];
        }
    }
    struct buf line;
    buf_init(&line);
    for (size_t r = 0; r <= t->nrows; r++) {
        line.len = 0;
        pad(&line, (size_t)t->indent);
        for (size_t c = 0; c < t->ncols; c++) {
            const char *s = r == 0 ? t->head[c] : t->cells[(r - 1) * t->ncols + c];
            size_t gap = w[c] - text_width(s);
            if (c > 0)
                buf_puts(&line, "  ");
            if (t->right & (1u << c))
                pad(&line, gap);
            buf_puts(&line, s);
            if (!(t->right & (1u << c)))
                pad(&line, gap);
        }
        while (line.len > 0 && line.data[line.len - 1] == ' ')
            line.len--;
        fprintf(out, "%.*s\n", (int)line.len, line.data);
    }
    buf_fini(&line);
    free(w);
}

static void md_cell(FILE *out, const char *s)
{
    for (; *s; s++) {
        if (*s == '|' || *s == '\\' || *s == '`' || *s == '*' || *s == '_')
            fputc('\\', out);
        fputc(*s == '\n' || *s == '\r' ? ' ' : *s, out);
    }
}

static void table_print_md(const struct table *t, FILE *out)
{
    for (size_t c = 0; c < t->ncols; c++) {
        fputs("| ", out);
        md_cell(out, t->head[c]);
        fputc(' ', out);
    }
    fputs("|\n", out);
    for (size_t c = 0; c < t->ncols; c++)
        fputs(t->right & (1u << c) ? "|---:" : "|---", out);
    fputs("|\n", out);
    for (size_t r = 0; r < t->nrows; r++) {
        for (size_t c = 0; c < t->ncols; c++) {
            fputs("| ", out);
            md_cell(out, t->cells[r * t->ncols + c]);
            fputc(' ', out);
        }
        fputs("|\n", out);
    }
}

static void table_print(const struct table *t, enum fmt f, FILE *out)
{
    if (f == FMT_MD)
        table_print_md(t, out);
    else
        table_print_text(t, out);
}

/* === JSON === */

static void add_ms(cJSON *o, const char *name, int64_t ms)
{
    if (ms > 0)
        cJSON_AddNumberToObject(o, name, (double)ms);
    else
        cJSON_AddNullToObject(o, name);
}

static void add_str(cJSON *o, const char *name, const char *s)
{
    if (s)
        cJSON_AddStringToObject(o, name, s);
    else
        cJSON_AddNullToObject(o, name);
}

/* JSON text as a value (a string when it does not parse). */
static cJSON *json_value(const char *text)
{
    if (!text)
        return cJSON_CreateNull();
    cJSON *v = cJSON_Parse(text);
    return v ? v : cJSON_CreateString(text);
}

static cJSON *job_json(const struct job *j)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "id", (double)j->id);
    add_str(o, "key", j->key);
    add_str(o, "batch", j->batch);
    add_str(o, "server", j->server);
    add_str(o, "tool", j->tool);
    cJSON_AddItemToObject(o, "args", json_value(j->args_json));
    cJSON_AddStringToObject(o, "status", job_status_name(j->status));
    cJSON_AddNumberToObject(o, "priority", j->priority);
    cJSON_AddNumberToObject(o, "attempts", j->attempts);
    cJSON_AddNumberToObject(o, "max_attempts", j->max_attempts);
    cJSON_AddNumberToObject(o, "timeout_ms", j->timeout_ms);
    add_ms(o, "created_ms", j->created_ms);
    add_ms(o, "run_at_ms", j->run_at_ms);
    add_ms(o, "started_ms", j->started_ms);
    add_ms(o, "finished_ms", j->finished_ms);
    add_str(o, "idempotency_key", j->idempotency_key);
    add_str(o, "error", j->error);
    return o;
}

static void print_json(cJSON *v, FILE *out)
{
    char *t = cJSON_Print(v);
    fprintf(out, "%s\n", t);
    cJSON_free(t);
    cJSON_Delete(v);
}

/* === list === */

static int parse_statuses(const char *list, unsigned *mask)
{
    char *copy = xstrdup(list), *save = NULL;
    int rc = 0;
    for (char *s = strtok_r(copy, ",", &save); s; s = strtok_r(NULL, ",", &save)) {
        enum job_status st;
        if (job_status_parse(s, &st) < 0) {
            fprintf(stderr, "mcpdeck: jobs: unknown status '%s'\n%s", s, usage);
            rc = -1;
            break;
        }
        *mask |= 1u << st;
    }
    free(copy);
    if (rc == 0 && !*mask) {
        fprintf(stderr, "mcpdeck: jobs: --status needs a status\n%s", usage);
        rc = -1;
    }
    return rc;
}

static int cmd_list(struct jobq *q, int argc, char **argv, enum fmt f)
{
    struct jobq_filter flt = {.limit = DEFAULT_LIMIT};
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--status") == 0 && i + 1 < argc) {
            if (parse_statuses(argv[++i], &flt.status_mask) < 0)
                return 2;
        } else if (strcmp(argv[i], "--limit") == 0 && i + 1 < argc) {
            char *end = NULL;
            errno = 0;
            long n = strtol(argv[++i], &end, 10);
            if (errno || end == argv[i] || *end || n < 0 || n > 1000000000) {
                fprintf(stderr, "mcpdeck: jobs: --limit must be a number (0 = all), got "
                                "'%s'\n", argv[i]);
                return 2;
            }
            flt.limit = (int)n;
        } else {
            fprintf(stderr, "mcpdeck: jobs list: unexpected '%s'\n%s", argv[i], usage);
            return 2;
        }
    }
    struct job *v = NULL;
    size_t n = 0;
    if (jobq_list_filtered(q, &flt, &v, &n) < 0) {
        fprintf(stderr, "mcpdeck: cannot list jobs\n");
        return 1;
    }
    if (f == FMT_JSON) {
        cJSON *arr = cJSON_CreateArray();
        for (size_t i = 0; i < n; i++)
            cJSON_AddItemToArray(arr, job_json(&v[i]));
        print_json(arr, stdout);
    } else if (n == 0) {
        puts(f == FMT_MD ? "_No jobs._" : "no jobs");
    } else {
        static const char *const head[] = {"ID", "STATUS", "PRI", "TRIES", "TASK", "KEY",
                                           "CREATED", "ERROR"};
        struct table t;
        table_init(&t, head, ARRAY_LEN(head), 1u << 0 | 1u << 2);
        for (size_t i = 0; i < n; i++) {
            char created[32];
            fmt_time(v[i].created_ms, created);
            char *cells[] = {
                xasprintf("%lld", (long long)v[i].id),
                xstrdup(job_status_name(v[i].status)),
                xasprintf("%d", v[i].priority),
                xasprintf("%d/%d", v[i].attempts, v[i].max_attempts),
                task_name(&v[i]),
                one_line(v[i].key, 24),
                xstrdup(created),
                one_line(v[i].error, f == FMT_MD ? 0 : ERROR_WIDTH),
            };
            table_row(&t, cells);
        }
        table_print(&t, f, stdout);
        table_fini(&t);
    }
    jobq_jobs_free(v, n);
    return 0;
}

/* === show === */

/* "#3 build (succeeded)" for each id, comma-separated. */
static char *job_refs(struct jobq *q, const int64_t *ids, size_t n)
{
    struct buf b;
    buf_init(&b);
    buf_puts(&b, "");
    for (size_t i = 0; i < n; i++) {
        struct job j;
        int have = jobq_get(q, ids[i], &j) == 0;
        buf_printf(&b, "%s#%lld", i ? ", " : "", (long long)ids[i]);
        if (have)
            buf_printf(&b, "%s%s (%s)", j.key ? " " : "", j.key ? j.key : "",
                       job_status_name(j.status));
        job_fini(&j);
    }
    return buf_detach(&b);
}

static cJSON *refs_json(struct jobq *q, const int64_t *ids, size_t n)
{
    cJSON *arr = cJSON_CreateArray();
    for (size_t i = 0; i < n; i++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "id", (double)ids[i]);
        struct job j;
        if (jobq_get(q, ids[i], &j) == 0) {
            add_str(o, "key", j.key);
            cJSON_AddStringToObject(o, "status", job_status_name(j.status));
        }
        job_fini(&j);
        cJSON_AddItemToArray(arr, o);
    }
    return arr;
}

static char *result_summary(const struct job *j)
{
    if (!j->has_result)
        return xstrdup("none");
    return xasprintf("%s, %s, %zu bytes%s, sha256 %s", j->result_blob ? "blob" : "inline",
                     j->result_mime ? j->result_mime : "?", j->result_size,
                     j->result_is_error ? ", is_error" : "",
                     j->result_sha256 ? j->result_sha256 : "-");
}

struct show_data {
    struct job j;
    int64_t *needs, *by;
    size_t nneeds, nby;
    struct jobq_attempt *att;
    size_t natt;
    struct jobq_event *ev;
    size_t nev;
};

static void show_json(struct jobq *q, const struct show_data *d)
{
    cJSON *o = job_json(&d->j);
    if (d->j.has_result) {
        cJSON *r = cJSON_AddObjectToObject(o, "result");
        cJSON_AddStringToObject(r, "kind", d->j.result_blob ? "blob" : "inline");
        add_str(r, "mime", d->j.result_mime);
        cJSON_AddNumberToObject(r, "size", (double)d->j.result_size);
        add_str(r, "sha256", d->j.result_sha256);
        cJSON_AddBoolToObject(r, "is_error", d->j.result_is_error);
    } else {
        cJSON_AddNullToObject(o, "result");
    }
    cJSON_AddItemToObject(o, "needs", refs_json(q, d->needs, d->nneeds));
    cJSON_AddItemToObject(o, "needed_by", refs_json(q, d->by, d->nby));
    cJSON *att = cJSON_AddArrayToObject(o, "attempts");
    for (size_t i = 0; i < d->natt; i++) {
        cJSON *a = cJSON_CreateObject();
        cJSON_AddNumberToObject(a, "n", d->att[i].n);
        add_ms(a, "started_ms", d->att[i].started_ms);
        add_ms(a, "finished_ms", d->att[i].finished_ms);
        add_str(a, "outcome", d->att[i].outcome);
        add_str(a, "error", d->att[i].error);
        cJSON_AddItemToArray(att, a);
    }
    cJSON *evs = cJSON_AddArrayToObject(o, "events");
    for (size_t i = 0; i < d->nev; i++) {
        cJSON *e = cJSON_CreateObject();
        cJSON_AddNumberToObject(e, "id", (double)d->ev[i].id);
        add_ms(e, "ts_ms", d->ev[i].ts_ms);
        add_str(e, "kind", d->ev[i].kind);
        cJSON_AddItemToObject(e, "data", json_value(d->ev[i].data_json));
        cJSON_AddItemToArray(evs, e);
    }
    print_json(o, stdout);
}

/* The job's fields as (name, value) rows; values malloc'd. */
static void show_fields(struct jobq *q, const struct show_data *d, struct table *t)
{
    const struct job *j = &d->j;
    char tbuf[32];
#define ROW(name, value)                                \
    do {                                                \
        char *cells_[] = {xstrdup(name), (value)};      \
        table_row(t, cells_);                           \
    } while (0)
    ROW("task", task_name(j));
    ROW("status", xstrdup(job_status_name(j->status)));
    if (j->key)
        ROW("key", xstrdup(j->key));
    if (j->batch)
        ROW("batch", xstrdup(j->batch));
    ROW("args", one_line(j->args_json, 0));
    ROW("priority", xasprintf("%d", j->priority));
    ROW("attempts", xasprintf("%d of %d", j->attempts, j->max_attempts));
    ROW("timeout", xasprintf("%d ms", j->timeout_ms));
    fmt_time(j->created_ms, tbuf);
    ROW("created", xstrdup(tbuf));
    if (j->run_at_ms > j->created_ms) {
        fmt_time(j->run_at_ms, tbuf);
        ROW("run at", xstrdup(tbuf));
    }
    if (j->started_ms) {
        fmt_time(j->started_ms, tbuf);
        ROW("started", xstrdup(tbuf));
    }
    if (j->finished_ms) {
        fmt_time(j->finished_ms, tbuf);
        ROW("finished", j->started_ms && j->finished_ms >= j->started_ms
                            ? xasprintf("%s (%.1f s)", tbuf,
                                        (double)(j->finished_ms - j->started_ms) / 1000.0)
                            : xstrdup(tbuf));
    }
    if (j->idempotency_key)
        ROW("idempotency", xstrdup(j->idempotency_key));
    if (j->error)
        ROW("error", one_line(j->error, 0));
    ROW("result", result_summary(j));
    if (d->nneeds)
        ROW("needs", job_refs(q, d->needs, d->nneeds));
    if (d->nby)
        ROW("needed by", job_refs(q, d->by, d->nby));
#undef ROW
}

static void show_lists(const struct show_data *d, enum fmt f)
{
    static const char *const ahead[] = {"#", "STARTED", "FINISHED", "OUTCOME", "ERROR"};
    static const char *const ehead[] = {"TIME", "KIND", "DATA"};
    char t1[32], t2[32];
    fputs(f == FMT_MD ? "\n### Attempts\n\n" : "\nattempts\n", stdout);
    if (d->natt == 0)
        puts(f == FMT_MD ? "_None._" : "  none");
    struct table t;
    table_init(&t, ahead, ARRAY_LEN(ahead), 1u);
    t.indent = 2;
    for (size_t i = 0; i < d->natt; i++) {
        fmt_time(d->att[i].started_ms, t1);
        fmt_time(d->att[i].finished_ms, t2);
        char *cells[] = {xasprintf("%d", d->att[i].n), xstrdup(t1), xstrdup(t2),
                         xstrdup(d->att[i].outcome), one_line(d->att[i].error, 0)};
        table_row(&t, cells);
    }
    if (d->natt)
        table_print(&t, f, stdout);
    table_fini(&t);

    fputs(f == FMT_MD ? "\n### Events\n\n" : "\nevents\n", stdout);
    if (d->nev == 0)
        puts(f == FMT_MD ? "_None._" : "  none");
    table_init(&t, ehead, ARRAY_LEN(ehead), 0);
    t.indent = 2;
    for (size_t i = 0; i < d->nev; i++) {
        fmt_time(d->ev[i].ts_ms, t1);
        char *cells[] = {xstrdup(t1), xstrdup(d->ev[i].kind), one_line(d->ev[i].data_json, 0)};
        table_row(&t, cells);
    }
    if (d->nev)
        table_print(&t, f, stdout);
    table_fini(&t);
}

static int cmd_show(struct jobq *q, int64_t id, enum fmt f)
{
    struct show_data d;
    memset(&d, 0, sizeof d);
    if (jobq_get(q, id, &d.j) < 0) {
        fprintf(stderr, "mcpdeck: no job %lld\n", (long long)id);
        return 1;
    }
    if (jobq_deps(q, id, &d.needs, &d.nneeds, &d.by, &d.nby) < 0
        || jobq_attempts(q, id, &d.att, &d.natt) < 0
        || jobq_events(q, id, 0, 0, &d.ev, &d.nev) < 0) {
        fprintf(stderr, "mcpdeck: cannot read job %lld\n", (long long)id);
        job_fini(&d.j);
        free(d.needs);
        free(d.by);
        jobq_attempts_free(d.att, d.natt);
        return 1;
    }
    if (f == FMT_JSON) {
        show_json(q, &d);
    } else {
        static const char *const head[] = {"FIELD", "VALUE"};
        struct table t;
        table_init(&t, head, 2, 0);
        show_fields(q, &d, &t);
        if (f == FMT_MD) {
            printf("## Job %lld\n\n", (long long)id);
            table_print_md(&t, stdout);
        } else {
            printf("job %lld\n", (long long)id);
            for (size_t r = 0; r < t.nrows; r++)
                printf("  %-12s %s\n", t.cells[r * 2], t.cells[r * 2 + 1]);
        }
        table_fini(&t);
        show_lists(&d, f);
    }
    job_fini(&d.j);
    free(d.needs);
    free(d.by);
    jobq_attempts_free(d.att, d.natt);
    jobq_events_free(d.ev, d.nev);
    return 0;
}

/* === cancel, retry, result === */

/* Why a job cannot be acted on: it does not exist, or its status. */
static void say_state(struct jobq *q, int64_t id, const char *what)
{
    struct job j;
    if (jobq_get(q, id, &j) < 0)
        fprintf(stderr, "mcpdeck: no job %lld\n", (long long)id);
    else
        fprintf(stderr, "mcpdeck: job %lld is %s: %s\n", (long long)id,
                job_status_name(j.status), what);
    job_fini(&j);
}

static void say_done(enum fmt f, int64_t id, const char *status, const char *text, int restored)
{
    if (f == FMT_JSON) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "id", (double)id);
        cJSON_AddStringToObject(o, "status", status);
        if (restored >= 0)
            cJSON_AddNumberToObject(o, "restored", restored);
        print_json(o, stdout);
    } else {
        printf("%s%s\n", text, f == FMT_MD ? "." : "");
    }
}

static int cmd_cancel(struct jobq *q, int64_t id, enum fmt f)
{
    if (jobq_cancel(q, id) < 0) {
        say_state(q, id, "only queued or running jobs can be cancelled");
        return 1;
    }
    jobq_event_add(q, id, "state", "{\"status\": \"cancelled\", \"by\": \"mcpdeck jobs\"}");
    char *text = xasprintf("cancelled job %lld", (long long)id);
    say_done(f, id, "cancelled", text, -1);
    free(text);
    return 0;
}

static int cmd_retry(struct jobq *q, int64_t id, enum fmt f)
{
    int restored = 0;
    char *err = NULL;
    if (jobq_retry(q, id, &restored, &err) < 0) {
        fprintf(stderr, "mcpdeck: %s\n", err);
        free(err);
        return 1;
    }
    jobq_event_add(q, id, "state", "{\"status\": \"queued\", \"by\": \"mcpdeck jobs retry\"}");
    char *text = restored
                     ? xasprintf("job %lld queued again; %d skipped job%s that need%s it too",
                                 (long long)id, restored, restored == 1 ? "" : "s",
                                 restored == 1 ? "s" : "")
                     : xasprintf("job %lld queued again", (long long)id);
    say_done(f, id, "queued", text, restored);
    free(text);
    return 0;
}

static int cmd_priority(struct jobq *q, int64_t id, const char *value, enum fmt f)
{
    char *end = NULL;
    long v = strtol(value, &end, 10);
    if (!*value || *end || v < -1000000 || v > 1000000) {
        fprintf(stderr, "mcpdeck: jobs priority: '%s' is not an integer from -1000000 to "
                        "1000000\n", value);
        return 2;
    }
    if (jobq_set_priority(q, id, (int)v) < 0) {
        say_state(q, id, "only a queued job's priority can change");
        return 1;
    }
    char *data = xasprintf("{\"priority\": %ld, \"by\": \"mcpdeck jobs priority\"}", v);
    jobq_event_add(q, id, "state", data);
    free(data);
    char *text = xasprintf("job %lld now has priority %ld", (long long)id, v);
    say_done(f, id, "queued", text, -1);
    free(text);
    return 0;
}

static int cmd_result(struct jobq *q, int64_t id)
{
    char *body = NULL, *err = NULL;
    size_t len = 0;
    int rc = jobq_result(q, id, &body, &len, &err);
    if (rc < 0) {
        fprintf(stderr, "mcpdeck: %s\n", err);
        free(err);
        return 1;
    }
    if (rc == 1) {
        say_state(q, id, "it has no result");
        return 1;
    }
    int ok = fwrite(body, 1, len, stdout) == len && fflush(stdout) == 0;
    free(body);
    if (!ok) {
        fprintf(stderr, "mcpdeck: cannot write the result: %s\n", strerror(errno));
        return 1;
    }
    return 0;
}

/* === Entry === */

static int parse_id(const char *s, int64_t *id)
{
    if (!s)
        return -1;
    if (*s == '#')
        s++;
    char *end = NULL;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || *end || v <= 0)
        return -1;
    *id = v;
    return 0;
}

int cli_jobs(const char *db_path, const char *data_dir, int argc, char **argv,
             const char *format)
{
    /* --format may come here too; take it out of argv. */
    char **args = xcalloc((size_t)argc + 1, sizeof *args);
    int nargs = 0, rc = 2;
    struct db *db = NULL;
    struct jobq *q = NULL;
    char *err = NULL;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--format") == 0 && i + 1 < argc)
            format = argv[++i];
        else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            fputs(usage, stdout);
            rc = 0;
            goto out;
        } else
            args[nargs++] = argv[i];
    }
    enum fmt f;
    if (!format || strcmp(format, "text") == 0)
        f = FMT_TEXT;
    else if (strcmp(format, "json") == 0)
        f = FMT_JSON;
    else if (strcmp(format, "md") == 0)
        f = FMT_MD;
    else {
        fprintf(stderr, "mcpdeck: jobs: --format must be text, json or md, not '%s'\n", format);
        goto out;
    }
    const char *cmd = nargs > 0 && args[0][0] != '-' ? args[0] : "list";
    int first = nargs > 0 && args[0][0] != '-' ? 1 : 0;
    int64_t id = 0;
    int is_list = strcmp(cmd, "list") == 0;
    if (!is_list && strcmp(cmd, "show") != 0 && strcmp(cmd, "cancel") != 0
        && strcmp(cmd, "retry") != 0 && strcmp(cmd, "result") != 0
        && strcmp(cmd, "priority") != 0) {
        fprintf(stderr, "mcpdeck: jobs: unknown command '%s'\n%s", cmd, usage);
        goto out;
    }
    int want = strcmp(cmd, "priority") == 0 ? 2 : 1;
    if (!is_list && (nargs - first != want || parse_id(args[first], &id) < 0)) {
        fprintf(stderr, "mcpdeck: jobs %s needs one job ID (a number)%s\n%s", cmd,
                want == 2 ? " and a priority" : "", usage);
        goto out;
    }
    if (db_open(db_path, &db, &err) < 0)
        goto out;
    if (jobq_open(db, 0, 0, &q) < 0) {
        err = xasprintf("cannot read the job queue in %s: %s", db_path,
                        sqlite3_errmsg(db_handle(db)));
        goto out;
    }
    if (data_dir) {
        char *blobs = xasprintf("%s/blobs", data_dir);
        jobq_set_blob_store(q, blobs, 0);
        free(blobs);
    }
    if (is_list)
        rc = cmd_list(q, nargs - first, args + first, f);
    else if (strcmp(cmd, "show") == 0)
        rc = cmd_show(q, id, f);
    else if (strcmp(cmd, "cancel") == 0)
        rc = cmd_cancel(q, id, f);
    else if (strcmp(cmd, "retry") == 0)
        rc = cmd_retry(q, id, f);
    else if (strcmp(cmd, "priority") == 0)
        rc = cmd_priority(q, id, args[first + 1], f);
    else
        rc = cmd_result(q, id);
out:
    if (err)
        fprintf(stderr, "mcpdeck: %s\n", err);
    free(err);
    free(args);
    jobq_close(q);
    db_close(db);
    return rc;
}
