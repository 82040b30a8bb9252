/* pane_metrics.c — the Metrics pane: sparklines of throughput (jobs
 * finished a second), tool-call latency p95 and queue depth over the last
 * minutes (sampled by tui.c every tick), success rate, model tokens and
 * cost today (engine_usage_today), memory entries and outbox depth, jobs by status (engine_stats), tool
 * calls and errors since start, calls per server (engine_servers), and
 * the latency histograms of the metrics table (engine_metrics: the same
 * figures `mcpdeck metrics` exports) as count / p50 / p95 / p99.
 * Redrawn on job and server events and by the 1 s tick; scrolls when
 * focused and the terminal is short. */
#include "ui.h"
#include "engine.h"
#include "metrics.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Lines are numbered as if the pane were endless; only those between top
 * and top + h are drawn. */
struct vrows {
    WINDOW *w;
    int row, top, h;
};

/* Start the next line; returns 1 when it is on screen (cursor placed). */
static int next_line(struct vrows *v)
{
    int r = v->row++ - v->top;
    if (r < 0 || r >= v->h)
        return 0;
    wmove(v->w, r, 0);
    return 1;
}

static void cell(WINDOW *w, const struct theme *th, const char *label, long long n,
                 enum theme_el el_if_nonzero)
{
    draw_printf(w, 11, " %-10s", label);
    wattrset(w, n && el_if_nonzero < THEME_COUNT ? th->attr[el_if_nonzero] : A_NORMAL);
    draw_printf(w, 6, "%6lld", n);
    wattrset(w, A_NORMAL);
}

struct lat_walk {
    struct vrows *v;
    const struct theme *th;
    int width;
    int titled;
};

static void fmt_secs(char out[16], double s)
{
    if (s != s)
        snprintf(out, 16, "-");
    else if (s < 1.0)
        snprintf(out, 16, "%.1fms", s * 1000.0);
    else
        snprintf(out, 16, "%.2fs", s);
}

/* One histogram series with observations: name{labels} n p50 p95 p99. */
static void latency_row(void *payload, const struct metric_series_view *s)
{
    struct lat_walk *lw = payload;
    if (s->def->kind != METRIC_HISTOGRAM || !s->count)
        return;
    WINDOW *w = lw->v->w;
    if (!lw->titled) {
        lw->titled = 1;
        if (next_line(lw->v)) {
            wattrset(w, lw->th->attr[THEME_DIM]);
            draw_cell(w, "latency", 24);
            draw_str(w, "     n     p50     p95     p99", lw->width);
            wattrset(w, A_NORMAL);
        }
    }
    if (!next_line(lw->v))
        return;
    const char *name = s->def->name;
    if (strncmp(name, "mcpdeck_", 8) == 0)
        name += 8;
    size_t nlen = strlen(name);
    if (nlen > 8 && strcmp(name + nlen - 8, "_seconds") == 0)
        nlen -= 8;               /* every row here is in seconds */
    char label[64];
    if (s->def->nlabels)
        snprintf(label, sizeof label, " %.*s %s", (int)nlen, name, s->labels[0]);
    else
        snprintf(label, sizeof label, " %.*s", (int)nlen, name);
    draw_cell(w, label, 24);
    char a[16], b[16], c[16];
    fmt_secs(a, s->p50);
    fmt_secs(b, s->p95);
    fmt_secs(c, s->p99);
    draw_printf(w, 30, "%6llu %7s %7s %7s", (unsigned long long)s->count, a, b, c);
}

static void metrics_draw(struct tui *t, struct pane *p)
{
    WINDOW *w = p->body;
    const struct theme *th = &t->theme;
    int width = getmaxx(w);
    struct engine_stats st = *tui_stats(t);
    struct scroll_state *sc = &t->metrics;
    sc->visible = getmaxy(w);
    struct vrows v = {w, 0, sc->top, sc->visible};
    struct {
        const char *label;
        long long n;
        enum theme_el el;
    } cells[] = {
        {"queued", st.jobs.n[JOB_QUEUED], THEME_COUNT},
        {"running", st.jobs.n[JOB_RUNNING], THEME_STATUS_RUN},
        {"succeeded", st.jobs.n[JOB_SUCCEEDED], THEME_STATUS_OK},
        {"failed", st.jobs.n[JOB_FAILED], THEME_STATUS_FAIL},
        {"cancelled", st.jobs.n[JOB_CANCELLED], THEME_COUNT},
        {"tool calls", st.calls, THEME_COUNT},
        {"errors", st.errors, THEME_STATUS_FAIL},
    };
    int per_line = width >= 36 ? 2 : 1;
    /* the sparklines: label, line, the newest figure */
    struct {
        const char *label;
        const struct spark *s;
        int secs;
    } lines[] = {
        {"done/s", &t->thru, 0},
        {"p95", &t->lat95, 1},
        {"queued", &t->depth, 0},
    };
    for (size_t i = 0; i < ARRAY_LEN(lines); i++) {
        if (!next_line(&v))
            continue;
        char fig[16];
        if (lines[i].secs)
            fmt_secs(fig, spark_last(lines[i].s));
        else
            snprintf(fig, sizeof fig, "%.0f", spark_last(lines[i].s));
        int sw = width - 8 - 9;
        if (sw > SPARK_N)
            sw = SPARK_N;
        if (sw < 1)
            sw = 1;
        char line[SPARK_N * 3 + 1];
        spark_render(lines[i].s, sw, t->utf8, line, sizeof line);
        draw_printf(w, 8, " %-7s", lines[i].label);
        wattrset(w, th->attr[THEME_SPARK]);
        draw_str(w, line, sw);
        wattrset(w, A_NORMAL);
        draw_printf(w, 9, " %8s", fig);
    }
    int64_t ended = (int64_t)st.jobs.n[JOB_SUCCEEDED] + st.jobs.n[JOB_FAILED];
    int64_t tokens = t->tokens_today;
    double cost = t->cost_today;
    int have_usage = t->have_usage;
    if (next_line(&v)) {
        if (ended)
            draw_printf(w, width, " success %5.1f%%", 100.0 * st.jobs.n[JOB_SUCCEEDED] / (double)ended);
        else
            draw_printf(w, width, " success     -");
        draw_printf(w, width - getcurx(w), "  running %d", st.running);
        if (have_usage)
            draw_printf(w, width - getcurx(w), "  today %lld tok $%.4f", (long long)tokens, cost);
    }
    if (t->have_mem && next_line(&v))
        draw_printf(w, width, " memory %lld entries  outbox %lld", (long long)t->mem_entries,
                    (long long)t->outbox);
    if (next_line(&v)) {
        wattrset(w, th->attr[THEME_DIM]);
        draw_str(w, "jobs", width);
        wattrset(w, A_NORMAL);
    }
    for (size_t i = 0; i < 5; i += (size_t)per_line) {
        if (!next_line(&v))
            continue;
        for (size_t k = i; k < i + (size_t)per_line && k < 5; k++)
            cell(w, th, cells[k].label, cells[k].n, cells[k].el);
    }
    if (next_line(&v)) {
        wattrset(w, th->attr[THEME_DIM]);
        draw_str(w, "since start", width);
        wattrset(w, A_NORMAL);
    }
    for (size_t i = 5; i < ARRAY_LEN(cells); i += (size_t)per_line) {
        if (!next_line(&v))
            continue;
        for (size_t k = i; k < i + (size_t)per_line && k < ARRAY_LEN(cells); k++)
            cell(w, th, cells[k].label, cells[k].n, cells[k].el);
    }

    size_t n = engine_servers(t->e, NULL, 0);
    struct engine_server_info *srv = xcalloc(n ? n : 1, sizeof *srv);
    n = engine_servers(t->e, srv, n);
    if (next_line(&v)) {
        wattrset(w, th->attr[THEME_DIM]);
        draw_cell(w, "per server", 18);
        draw_str(w, "  calls  errors", width);
        wattrset(w, A_NORMAL);
    }
    for (size_t i = 0; i < n; i++) {
        if (!next_line(&v))
            continue;
        waddch(w, ' ');
        draw_cell(w, srv[i].name, 17);
        draw_printf(w, 7, "%7lld", (long long)srv[i].calls);
        wattrset(w, srv[i].errors ? th->attr[THEME_STATUS_FAIL] : A_NORMAL);
        draw_printf(w, 8, "%8lld", (long long)srv[i].errors);
        wattrset(w, A_NORMAL);
    }
    free(srv);

    struct lat_walk lw = {&v, th, width, 0};
    /* the histograms are live; the gauges are refreshed by the tick's
     * engine_metrics call, not here (it counts the jobs again) */
    metrics_foreach(t->metrics_tab, latency_row, &lw);
    sc->total = v.row;
    if (sc->top > 0 && sc->top > sc->total - sc->visible) {
        /* shrank under the scroll position: draw again from a valid top */
        pane_scroll_clamp(&sc->top, sc->total, sc->visible);
        werase(w);
        metrics_draw(t, p);
    }
}

static int metrics_key(struct tui *t, struct pane *p, int key)
{
    struct scroll_state *sc = &t->metrics;
    return pane_scroll_key(&sc->top, sc->total, sc->visible, key);
}

const struct pane_class pane_metrics_class = {"Metrics", metrics_draw, metrics_key, NULL};
