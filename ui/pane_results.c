/* pane_results.c — the Results pane: the selected job's result (JSON
 * pretty-printed), its error when it failed, "(no result yet)" while it is
 * queued or running, and for a running model task its answer as it
 * streams (tui.c keeps the text, stream.c), followed at its end unless the
 * user scrolls up. The text is built once per job change (or, for a live
 * answer, when more arrived), wrapped to the pane's width (again only when
 * the width changes or the text was rebuilt) and scrolled when the pane
 * has focus. */
#include "ui.h"
#include "engine.h"
#include "gitctx.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { TAB_STOP = 4 };

/* A growing array of lines. */
struct lines {
    struct results_line *v;
    size_t n, cap;
};

static void lines_push(struct lines *l, size_t off, size_t len, enum theme_el el)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 64;
        l->v = xrealloc(l->v, l->cap * sizeof *l->v);
    }
    l->v[l->n].off = off;
    l->v[l->n].len = len;
    l->v[l->n].el = el;
    l->n++;
}

static void results_clear(struct results_state *rs)
{
    free(rs->text);
    free(rs->lines);
    free(rs->para);
    rs->text = NULL;
    rs->lines = rs->para = NULL;
    rs->nlines = rs->npara = 0;
    rs->width = 0;
}

void pane_results_fini(struct tui *t)
{
    results_clear(&t->results);
}

void results_free(struct results_state *rs)
{
    results_clear(rs);
}

/* === styles of result lines === */

static int starts(const char *s, size_t n, const char *p)
{
    size_t k = strlen(p);
    return n >= k && memcmp(s, p, k) == 0;
}

int results_is_diff(const char *s, size_t n)
{
    if (starts(s, n, "diff --git "))
        return 1;
    int minus = 0, plus = 0;
    size_t i = 0;
    while (i < n) {
        const char *l = s + i;
        const char *nl = memchr(l, '\n', n - i);
        size_t len = nl ? (size_t)(nl - l) : n - i;
        if (starts(l, len, "--- "))
            minus = 1;
        else if (starts(l, len, "+++ ") && minus)
            plus = 1;
        else if (starts(l, len, "@@ ") && plus)
            return 1;
        i += len + 1;
    }
    return 0;
}

enum theme_el results_line_style(const char *s, size_t n, int diff, int *in_fence)
{
    size_t lead = 0;
    while (lead < n && lead < 3 && s[lead] == ' ')
        lead++;
    if (starts(s + lead, n - lead, "```") || starts(s + lead, n - lead, "~~~")) {
        *in_fence = !*in_fence;
        return THEME_CODE;
    }
    if (*in_fence)
        return THEME_CODE;
    if (diff) {
        if (starts(s, n, "@@") || starts(s, n, "diff ") || starts(s, n, "--- ") ||
            starts(s, n, "+++ ") || starts(s, n, "index "))
            return THEME_DIFF_HUNK;
        if (n && s[0] == '+')
            return THEME_DIFF_ADD;
        if (n && s[0] == '-')
            return THEME_DIFF_DEL;
        return THEME_COUNT;
    }
    size_t h = 0;
    while (lead + h < n && s[lead + h] == '#')
        h++;
    if (h >= 1 && h <= 6 && (lead + h == n || s[lead + h] == ' '))
        return THEME_HEADING;
    return THEME_COUNT;
}

/* Append s (n bytes) as logical lines in style el: split at '\n', drop
 * '\r', expand tabs. */
static void add_text(struct buf *b, struct lines *para, const char *s, size_t n,
                     enum theme_el el)
{
    size_t i = 0;
    do {
        size_t start = b->len;
        int col = 0;
        for (; i < n && s[i] != '\n'; i++) {
            if (s[i] == '\r')
                continue;
            if (s[i] == '\t') {
                do
                    buf_putc(b, ' ');
                while (++col % TAB_STOP);
                continue;
            }
            buf_putc(b, s[i]);
            col++;
        }
        lines_push(para, start, b->len - start, el);
        buf_putc(b, '\n');
        i++;                           /* past the '\n' */
    } while (i < n);
}

/* Append s as lines styled by results_line_style (el for the rest; an
 * error keeps el throughout). */
static void add_styled(struct buf *b, struct lines *para, const char *s, size_t n,
                       enum theme_el el)
{
    if (el != THEME_COUNT) {
        add_text(b, para, s, n, el);
        return;
    }
    int diff = results_is_diff(s, n), fence = 0;
    size_t i = 0;
    do {
        const char *l = s + i;
        const char *nl = memchr(l, '\n', n - i);
        size_t len = nl ? (size_t)(nl - l) : n - i;
        add_text(b, para, l, len, results_line_style(l, len, diff, &fence));
        i += len + 1;
    } while (i < n);
}

static void add_line(struct buf *b, struct lines *para, enum theme_el el, const char *fmt,
                     ...) PRINTF_LIKE(4, 5);

static void add_line(struct buf *b, struct lines *para, enum theme_el el, const char *fmt,
                     ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = xvasprintf(fmt, ap);
    va_end(ap);
    add_text(b, para, s, strlen(s), el);
    free(s);
}

static enum theme_el status_el(enum job_status s)
{
    switch (s) {
    case JOB_SUCCEEDED: return THEME_STATUS_OK;
    case JOB_FAILED: return THEME_STATUS_FAIL;
    case JOB_RUNNING: return THEME_STATUS_RUN;
    default: return THEME_DIM;
    }
}

/* The result body: JSON pretty-printed when its mime type says JSON. */
static void add_result(struct buf *b, struct lines *para, const struct job *j)
{
    enum theme_el el = j->result_is_error ? THEME_ERROR : THEME_COUNT;
    if (j->result_mime && strstr(j->result_mime, "tool-result")) {
        char *text = engine_result_text(j);   /* text content, then structured */
        if (*text)
            add_styled(b, para, text, strlen(text), el);
        else
            add_line(b, para, THEME_DIM, "(empty result)");
        free(text);
        return;
    }
    if (j->result_mime && strncmp(j->result_mime, "application/json", 16) == 0) {
        cJSON *v = cJSON_ParseWithLength(j->result, j->result_len);
        char *pretty = v ? cJSON_Print(v) : NULL;
        cJSON_Delete(v);
        if (pretty) {
            add_styled(b, para, pretty, strlen(pretty), el);
            cJSON_free(pretty);
            return;
        }
    }
    if (j->result_len == 0)
        add_line(b, para, THEME_DIM, "(empty result)");
    else
        add_styled(b, para, j->result, j->result_len, el);
}

static void add_header(struct buf *b, struct lines *para, const struct job *j)
{
    if (j->kind && strcmp(j->kind, "model") == 0)
        add_line(b, para, status_el(j->status), "job %lld  %s (model task)%s%s  %s",
                 (long long)j->id, j->tool ? j->tool : "?", j->server ? " via " : "",
                 j->server ? j->server : "", job_status_name(j->status));
    else
        add_line(b, para, status_el(j->status), "job %lld  %s.%s  %s", (long long)j->id,
                 j->server ? j->server : "?", j->tool ? j->tool : "?",
                 job_status_name(j->status));
    add_line(b, para, THEME_DIM, "attempts %d/%d  args %s", j->attempts, j->max_attempts,
             j->args_json ? j->args_json : "{}");
    add_line(b, para, THEME_COUNT, "%s", "");
}

int pane_results_build(struct results_state *rs, const struct job *j,
                       const struct ui_stream *st)
{
    struct buf b;
    struct lines para = {0};
    buf_init(&b);
    int live = 0;
    add_header(&b, &para, j);
    switch (j->status) {
    case JOB_QUEUED:
    case JOB_RUNNING:
        if (j->error)
            add_line(&b, &para, THEME_ERROR, "last attempt failed: %s", j->error);
        if (st) {
            live = 1;
            if (st->restarts)
                add_line(&b, &para, THEME_DIM, "(the model's answer restarts)");
            if (st->dropped)
                add_line(&b, &para, THEME_DIM, "(%zu KiB from the start not kept)",
                         (st->dropped + 1023) / 1024);
            if (st->text.len)
                add_styled(&b, &para, st->text.data, st->text.len, THEME_COUNT);
        } else {
            add_line(&b, &para, THEME_DIM, "(no result yet)");
        }
        break;
    case JOB_FAILED:
        add_line(&b, &para, THEME_ERROR, "error: %s", j->error ? j->error : "(no message)");
        if (j->has_result && j->result_len && (!j->error || strcmp(j->error, j->result) != 0)) {
            add_line(&b, &para, THEME_COUNT, "%s", "");
            add_result(&b, &para, j);
        }
        break;
    case JOB_CANCELLED:
        add_line(&b, &para, THEME_DIM, "cancelled%s%s", j->error ? ": " : "",
                 j->error ? j->error : "");
        break;
    default:
        if (j->has_result)
            add_result(&b, &para, j);
        else
            add_line(&b, &para, THEME_DIM, "(empty result)");
        break;
    }
    free(rs->text);
    free(rs->para);
    free(rs->lines);
    rs->lines = NULL;
    rs->nlines = 0;
    rs->width = 0;
    rs->text = buf_detach(&b);
    rs->para = para.v;
    rs->npara = para.n;
    rs->live = live;
    return live;
}

/* Build the text for the selected job into rs. */
static void results_load(struct tui *t, struct results_state *rs)
{
    rs->job_id = t->sel_job;
    rs->stale = 0;
    struct job j;
    memset(&j, 0, sizeof j);
    if (t->sel_job && engine_job(t->e, t->sel_job, &j) == 0) {
        pane_results_build(rs, &j, streams_find(&t->streams, t->sel_job));
        job_fini(&j);
        return;
    }
    results_clear(rs);
    rs->live = 0;
    struct buf b;
    struct lines para = {0};
    buf_init(&b);
    if (!t->sel_job)
        add_line(&b, &para, THEME_DIM, "(no task selected)");
    else
        add_line(&b, &para, THEME_ERROR, "job %lld is not in the store", (long long)t->sel_job);
    rs->text = buf_detach(&b);
    rs->para = para.v;
    rs->npara = para.n;
}

/* Wrap the logical lines to width columns, breaking after a space when
 * one is on the line. */
void pane_results_wrap(struct results_state *rs, int width)
{
    free(rs->lines);
    struct lines out = {0};
    for (size_t i = 0; i < rs->npara; i++) {
        const struct results_line *p = &rs->para[i];
        const char *s = rs->text + p->off;
        size_t pos = 0;
        if (p->len == 0)
            lines_push(&out, p->off, 0, p->el);
        while (pos < p->len) {
            size_t n = draw_fit(s + pos, p->len - pos, width, NULL);
            if (n == 0)
                n = 1;                 /* a character wider than the pane */
            if (pos + n < p->len) {
                size_t sp = n;
                while (sp > 0 && s[pos + sp - 1] != ' ')
                    sp--;
                if (sp > 1)
                    n = sp;
            }
            lines_push(&out, p->off + pos, n, p->el);
            pos += n;
        }
    }
    rs->lines = out.v;
    rs->nlines = out.n;
    rs->width = width;
}

void results_set_text(struct results_state *rs, const char *s, size_t n, enum theme_el base)
{
    struct buf b;
    struct lines para = {0};
    buf_init(&b);
    if (base == THEME_COUNT)
        add_styled(&b, &para, s, n, THEME_COUNT);
    else
        add_text(&b, &para, s, n, base);
    results_clear(rs);
    rs->text = buf_detach(&b);
    rs->para = para.v;
    rs->npara = para.n;
}

void results_render(WINDOW *w, const struct theme *th, struct results_state *rs)
{
    int h = getmaxy(w), width = getmaxx(w);
    if (rs->width != width)
        pane_results_wrap(rs, width);
    rs->visible = h;
    pane_scroll_clamp(&rs->top, (int)rs->nlines, h);
    for (int row = 0; row < h && rs->top + row < (int)rs->nlines; row++) {
        const struct results_line *l = &rs->lines[rs->top + row];
        wmove(w, row, 0);
        wattrset(w, l->el < THEME_COUNT ? th->attr[l->el] : A_NORMAL);
        draw_nstr(w, rs->text + l->off, l->len, width);
    }
    wattrset(w, A_NORMAL);
}

const char *pane_results_text(struct tui *t)
{
    return t->results.text;
}

static void results_draw(struct tui *t, struct pane *p)
{
    struct results_state *rs = &t->results;
    WINDOW *w = p->body;
    int h = getmaxy(w), width = getmaxx(w);
    if (rs->stale || rs->job_id != t->sel_job || !rs->text) {
        int same = rs->job_id == t->sel_job && rs->text;
        int was_live = same && rs->live;
        results_load(t, rs);
        if (!same)
            rs->follow = rs->live;     /* a new selection: a live answer from its end */
        else if (!was_live && rs->live)
            rs->follow = 1;            /* the answer started */
        if (!rs->follow && !same)
            rs->top = 0;
    }
    if (rs->width != width)
        pane_results_wrap(rs, width);
    rs->visible = h;
    if (rs->follow)
        rs->top = (int)rs->nlines - h;
    pane_scroll_clamp(&rs->top, (int)rs->nlines, h);
    for (int row = 0; row < h && rs->top + row < (int)rs->nlines; row++) {
        const struct results_line *l = &rs->lines[rs->top + row];
        wmove(w, row, 0);
        wattrset(w, l->el < THEME_COUNT ? t->theme.attr[l->el] : A_NORMAL);
        draw_nstr(w, rs->text + l->off, l->len, width);
    }
    wattrset(w, A_NORMAL);
    if ((int)rs->nlines > h) {
        /* where we are, on the bottom border */
        char pos[48];
        int n = snprintf(pos, sizeof pos, " %d-%d/%zu ", rs->top + 1,
                         rs->top + h < (int)rs->nlines ? rs->top + h : (int)rs->nlines,
                         rs->nlines);
        int fw = getmaxx(p->frame);
        if (n + 4 < fw) {
            wattrset(p->frame, t->theme.attr[THEME_DIM]);
            mvwaddstr(p->frame, getmaxy(p->frame) - 1, fw - n - 2, pos);
            wattrset(p->frame, A_NORMAL);
        }
    }
}

static int results_key(struct tui *t, struct pane *p, int key)
{
    struct results_state *rs = &t->results;
    if (!pane_scroll_key(&rs->top, (int)rs->nlines, rs->visible, key))
        return 0;
    /* at the end, a live answer is followed again; scrolled up, it stays put */
    rs->follow = rs->live && rs->top >= (int)rs->nlines - rs->visible;
    return 1;
}

const struct pane_class pane_results_class = {"Results", results_draw, results_key,
                                              "s save  o pager  e editor"};

/* === s save, o $PAGER, e $EDITOR === */

/* Write the Results text to path; 0 or -1 (message set). */
static int save_text(struct tui *t, const char *path)
{
    const char *text = pane_results_text(t);
    if (!text) {
        tui_message(t, 1, "nothing to save");
        return -1;
    }
    FILE *f = fopen(path, "w");
    if (!f) {
        tui_message(t, 1, "cannot write %s: %s", path, strerror(errno));
        return -1;
    }
    size_t n = strlen(text);
    int ok = fwrite(text, 1, n, f) == n;
    ok &= fclose(f) == 0;
    if (!ok) {
        tui_message(t, 1, "cannot write %s: %s", path, strerror(errno));
        return -1;
    }
    tui_message(t, 0, "saved %zu bytes to %s", n, path);
    return 0;
}

int results_cmd_save(struct tui *t, const char *arg)
{
    while (arg && *arg == ' ')
        arg++;
    if (!arg || !*arg) {
        char *def = t->results.job_id ? xasprintf("job-%lld.txt", (long long)t->results.job_id)
                                      : xstrdup("result.txt");
        tui_prompt_open(t, PROMPT_SAVE, def);
        free(def);
        return 0;
    }
    if (arg[0] == '~' && arg[1] == '/' && getenv("HOME")) {
        char *p = xasprintf("%s%s", getenv("HOME"), arg + 1);
        int rc = save_text(t, p);
        free(p);
        return rc;
    }
    return save_text(t, arg);
}

int results_cmd_apply(struct tui *t, const char *arg)
{
    while (arg && *arg == ' ')
        arg++;
    int files = 0;
    char *diff = gitctx_find_diff(pane_results_text(t), &files);
    if (!diff) {
        tui_message(t, 1, "no unified diff in this result");
        return -1;
    }
    char *err = NULL;
    if (engine_apply_diff(t->e, diff, 1, &err) < 0) {
        tui_message(t, 1, "the diff does not apply: %s", err ? err : "?");
        free(err);
        free(diff);
        return -1;
    }
    if (!arg || (strcmp(arg, "y") && strcmp(arg, "yes"))) {
        /* the diff is on screen (the preview); ask before writing */
        tui_prompt_open(t, PROMPT_APPLY, "");
        free(diff);
        return 0;
    }
    if (engine_apply_diff(t->e, diff, 0, &err) < 0) {
        tui_message(t, 1, "applying the diff failed: %s", err ? err : "?");
        free(err);
        free(diff);
        return -1;
    }
    tui_message(t, 0, "applied the diff: %d file%s changed", files, files == 1 ? "" : "s");
    free(diff);
    return 0;
}

/* Show the text to an external program on a temporary copy. */
static int external(struct tui *t, const char *var, const char *def)
{
    const char *text = pane_results_text(t);
    if (!text) {
        tui_message(t, 1, "nothing to show");
        return -1;
    }
    const char *dir = getenv("TMPDIR");
    char *path = xasprintf("%s/mcpdeck-result-XXXXXX", dir && *dir ? dir : "/tmp");
    int fd = mkstemp(path);
    if (fd < 0) {
        tui_message(t, 1, "cannot create %s: %s", path, strerror(errno));
        free(path);
        return -1;
    }
    size_t n = strlen(text), off = 0;
    while (off < n) {
        ssize_t w = write(fd, text + off, n - off);
        if (w <= 0)
            break;
        off += (size_t)w;
    }
    close(fd);
    const char *prog = getenv(var);
    int rc = tui_run_external(t, prog && *prog ? prog : def, path);
    unlink(path);
    free(path);
    return rc;
}

int results_cmd_pager(struct tui *t, const char *arg)
{
    (void)arg;
    return external(t, "PAGER", "less");
}

int results_cmd_editor(struct tui *t, const char *arg)
{
    (void)arg;
    return external(t, "EDITOR", "vi");
}
