/* pane_registry.c — the Registry pane: one row per server (state glyph,
 * name, state, health, breaker, last check's latency, tool count,
 * calls/errors, kind, capabilities), columns dropped from the right when
 * the pane is narrow, and a footer with the selected server's health
 * reason, task types, restarts and last error.
 *
 * Keys act on the selected server through the commands of cmd.c (restart,
 * enable, disable, a health check now); none of them waits: the outcome
 * arrives as engine events, which mark the pane dirty. Enter lists the
 * server's tools with their input schemas, l shows its log ring, both in
 * an overlay. The pane
 * reads engine_servers() at every draw and is redrawn every tick (the
 * breaker countdown, the age of the last check). */
#include "ui.h"
#include "engine.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NAME_MAX_COLS 16
#define CAPS_MIN_COLS 8              /* narrower than this: no CAPS column */

static const char caps_legend[] = "CAPS (*derived)";

static const struct {
    const char *title;
    int min;                     /* the widest usual value, so columns stay put */
} cols[RCOL_COUNT] = {
    [RCOL_STATE] = {"STATE", 8},    [RCOL_HEALTH] = {"HEALTH", 9},
    [RCOL_BREAKER] = {"BREAKER", 9}, [RCOL_CHECK] = {"CHECK", 5},
    [RCOL_LATENCY] = {"P50/P95", 11},
    [RCOL_TOOLS] = {"TOOLS", 5},    [RCOL_CALLS] = {"CALLS/ERR", 9},
    [RCOL_KIND] = {"KIND", 7},      [RCOL_CAPS] = {"CAPS", 0},
};

/* === styles === */

static enum ui_glyph state_glyph(enum server_state s)
{
    switch (s) {
    case SERVER_READY: return GLYPH_SRV_READY;
    case SERVER_STARTING: return GLYPH_SRV_STARTING;
    case SERVER_FAILED: return GLYPH_SRV_FAILED;
    default: return GLYPH_SRV_STOPPED;
    }
}

static enum theme_el state_el(enum server_state s)
{
    switch (s) {
    case SERVER_READY: return THEME_STATUS_OK;
    case SERVER_STARTING: return THEME_STATUS_RUN;
    case SERVER_FAILED: return THEME_STATUS_FAIL;
    default: return THEME_DIM;
    }
}

static enum theme_el health_el(enum server_health h)
{
    switch (h) {
    case SERVER_HEALTH_HEALTHY: return THEME_HEALTH_OK;
    case SERVER_HEALTH_WARNING: return THEME_HEALTH_WARN;
    case SERVER_HEALTH_UNHEALTHY: return THEME_HEALTH_BAD;
    default: return THEME_DIM;
    }
}

static enum theme_el breaker_el(const char *breaker)
{
    if (breaker && strcmp(breaker, "open") == 0)
        return THEME_HEALTH_BAD;
    if (breaker && strcmp(breaker, "half-open") == 0)
        return THEME_HEALTH_WARN;
    return THEME_COUNT;                /* plain */
}

static attr_t col_attr(const struct theme *th, const struct engine_server_info *s,
                       enum registry_col col)
{
    enum theme_el el = THEME_COUNT;
    if (col == RCOL_STATE)
        el = state_el(s->state);
    else if (col == RCOL_HEALTH)    /* a stopped server's health is history */
        el = s->state == SERVER_DISABLED || s->state == SERVER_STOPPED ? THEME_DIM
                                                                       : health_el(s->health);
    else if (col == RCOL_BREAKER)
        el = breaker_el(s->breaker);
    return el < THEME_COUNT ? th->attr[el] : A_NORMAL;
}

/* === cells === */

/* "850ms" (only when ms_ok), "42s", "599s", "10m05s", "2h03m". */
static void short_duration(char *out, size_t n, int64_t ms, int ms_ok)
{
    if (ms < 0)
        ms = 0;
    if (ms < 1000 && ms_ok)
        snprintf(out, n, "%lldms", (long long)ms);
    else if (ms < 600000)
        snprintf(out, n, "%llds", (long long)(ms / 1000));
    else
        draw_duration(out, n, ms);
}

static int is_derived(const struct engine_server_info *s)
{
    return s->caps_source && strcmp(s->caps_source, "derived") == 0;
}

/* items joined with sep into out (cut short at n). */
static void join(char *out, size_t n, const char *const *items, size_t count, const char *sep)
{
    size_t len = 0;
    out[0] = 0;
    for (size_t i = 0; i < count && len + 1 < n; i++) {
        int w = snprintf(out + len, n - len, "%s%s", i ? sep : "", items[i]);
        if (w < 0)
            break;
        len += (size_t)w;
    }
    if (len >= n)
        out[n - 1] = 0;
}

void pane_registry_cell(char *out, size_t n, const struct engine_server_info *s,
                        enum registry_col col, int64_t now_ms)
{
    if (!n)
        return;
    switch (col) {
    case RCOL_STATE:
        snprintf(out, n, "%s", server_state_name(s->state));
        break;
    case RCOL_HEALTH:
        snprintf(out, n, "%s", server_health_name(s->health));
        break;
    case RCOL_BREAKER:
        if (s->breaker && strcmp(s->breaker, "open") == 0 && s->breaker_retry_ms > 0) {
            char d[24];
            int64_t left = s->breaker_retry_ms - now_ms;
            short_duration(d, sizeof d, left > 0 ? (left + 999) / 1000 * 1000 : 0, 0);
            snprintf(out, n, "open %s", d);
        } else {
            snprintf(out, n, "%s", s->breaker ? s->breaker : "-");
        }
        break;
    case RCOL_CHECK:
        if (s->latency_ms < 0)
            snprintf(out, n, "-");
        else
            short_duration(out, n, s->latency_ms, 1);
        break;
    case RCOL_LATENCY:       /* tool calls' latency, from the metrics table */
        if (s->call_p50_ms < 0) {
            snprintf(out, n, "-");
        } else {
            char a[16], b[16];
            short_duration(a, sizeof a, (int64_t)s->call_p50_ms, 1);
            short_duration(b, sizeof b, (int64_t)s->call_p95_ms, 1);
            snprintf(out, n, "%s/%s", a, b);
        }
        break;
    case RCOL_TOOLS:
        snprintf(out, n, "%d", s->ntools);
        break;
    case RCOL_CALLS:
        snprintf(out, n, "%lld/%lld", (long long)s->calls, (long long)s->errors);
        break;
    case RCOL_KIND:
        snprintf(out, n, "%s", s->kind ? s->kind : "?");
        break;
    case RCOL_CAPS:
        if (!s->ncaps) {
            snprintf(out, n, "-");
            break;
        }
        join(out, n > 1 ? n - 1 : n, s->caps, s->ncaps, ",");
        if (is_derived(s))
            strcat(out, "*");
        break;
    default:
        out[0] = 0;
    }
}

/* === layout === */

struct layout {
    int namew;
    int w[RCOL_COUNT];           /* cell width, 0 = not shown */
    int legend;                  /* CAPS has a derived cell and room for the legend */
};

/* Which columns fit in width: the glyph and name always; then each
 * column left to right while it fits; CAPS takes the rest. */
static void layout_compute(struct layout *L, const struct engine_server_info *v, size_t n,
                           int width, int64_t now_ms)
{
    memset(L, 0, sizeof *L);
    L->namew = 4;
    for (size_t i = 0; i < n; i++) {
        int nw = draw_width(v[i].name, strlen(v[i].name));
        if (nw > L->namew)
            L->namew = nw;
        if (is_derived(&v[i]) && v[i].ncaps)
            L->legend = 1;
    }
    if (L->namew > NAME_MAX_COLS)
        L->namew = NAME_MAX_COLS;
    if (L->namew > width - 2)
        L->namew = width - 2 > 1 ? width - 2 : 1;
    int used = 2 + L->namew;
    for (int c = 0; c < RCOL_COUNT; c++) {
        int cw;
        if (c == RCOL_CAPS) {
            cw = width - used - 1;
            if (cw < CAPS_MIN_COLS)
                break;
        } else {
            cw = cols[c].min;
            for (size_t i = 0; i < n; i++) {
                char cell[256];
                pane_registry_cell(cell, sizeof cell, &v[i], (enum registry_col)c, now_ms);
                int w = draw_width(cell, strlen(cell));
                if (w > cw)
                    cw = w;
            }
        }
        if (used + 1 + cw > width)
            break;                     /* this one and all to its right go */
        L->w[c] = cw;
        used += 1 + cw;
    }
    if (L->w[RCOL_CAPS] < (int)strlen(caps_legend))
        L->legend = 0;
}

/* === drawing === */

static int find_server(const struct engine_server_info *v, size_t n, const char *name)
{
    for (size_t i = 0; name && i < n; i++)
        if (strcmp(v[i].name, name) == 0)
            return (int)i;
    return -1;
}

static void draw_header(WINDOW *w, const struct theme *th, const struct layout *L)
{
    int width = getmaxx(w);
    wmove(w, 0, 0);
    wattrset(w, th->attr[THEME_DIM]);
    waddstr(w, "  ");
    draw_cell(w, "NAME", L->namew);
    for (int c = 0; c < RCOL_COUNT; c++) {
        if (!L->w[c])
            continue;
        draw_cell(w, " ", 1);
        if (c == RCOL_CAPS)
            draw_str(w, L->legend ? caps_legend : cols[c].title, width);
        else
            draw_cell(w, cols[c].title, L->w[c]);
    }
    wattrset(w, A_NORMAL);
}

static void draw_server(WINDOW *w, const struct theme *th, int utf8, int y,
                        const struct engine_server_info *s, const struct layout *L,
                        int selected, int64_t now_ms)
{
    attr_t base = selected ? th->attr[THEME_SELECTED] : A_NORMAL;
    wmove(w, y, 0);
    if (selected)
        draw_fill_line(w, base);
    wattrset(w, selected ? base : th->attr[state_el(s->state)]);
    draw_str(w, draw_glyph(utf8, state_glyph(s->state)), 1);
    wattrset(w, base);
    waddch(w, ' ');
    draw_cell(w, s->name, L->namew);
    for (int c = 0; c < RCOL_COUNT; c++) {
        if (!L->w[c])
            continue;
        char cell[512];
        pane_registry_cell(cell, sizeof cell, s, (enum registry_col)c, now_ms);
        wattrset(w, base);
        draw_cell(w, " ", 1);
        wattrset(w, selected ? base : col_attr(th, s, (enum registry_col)c));
        draw_cell(w, cell, L->w[c]);
    }
    wattrset(w, A_NORMAL);
}

/* The footer, up to nlines lines about s from row y: its health and
 * why; its task types; restarts, the last check's age (and its
 * capabilities when the CAPS column does not show them fully); its last
 * error. */
static void draw_details(WINDOW *w, const struct theme *th, int y, int nlines,
                         const struct engine_server_info *s, const struct layout *L,
                         int64_t now_ms)
{
    int width = getmaxx(w);
    if (nlines <= 0)
        return;
    wmove(w, y, 0);
    wattrset(w, A_BOLD);
    draw_str(w, s->name, width);
    wattrset(w, A_NORMAL);
    draw_str(w, ": ", draw_room(w));
    wattrset(w, th->attr[health_el(s->health)]);
    draw_str(w, server_health_name(s->health), draw_room(w));
    wattrset(w, A_NORMAL);
    draw_printf(w, draw_room(w), ", %s",
                s->health_reason ? s->health_reason : "not checked yet");
    if (nlines < 2)
        return;

    char buf[512];
    join(buf, sizeof buf, s->task_types, s->ntask_types, ", ");
    wmove(w, y + 1, 0);
    wattrset(w, th->attr[THEME_DIM]);
    draw_printf(w, width, "task types: %s", s->ntask_types ? buf : "-");
    if (nlines >= 3) {
        wmove(w, y + 2, 0);
        draw_printf(w, width, "restarts %d", s->restarts);
        if (s->checked_ms > 0) {
            short_duration(buf, sizeof buf, now_ms - s->checked_ms, 0);
            draw_printf(w, draw_room(w), "  checked %s ago", buf);
        }
        if (!L->w[RCOL_CAPS] || (is_derived(s) && s->ncaps && !L->legend)) {
            pane_registry_cell(buf, sizeof buf, s, RCOL_CAPS, now_ms);
            draw_printf(w, draw_room(w), "  caps %s%s", buf,
                        is_derived(s) && s->ncaps ? " (*derived)" : "");
        }
    }
    wattrset(w, A_NORMAL);
    if (nlines < 4 || !s->last_error)
        return;
    wmove(w, y + 3, 0);
    wattrset(w, th->attr[THEME_ERROR]);
    draw_printf(w, width, "error: %s", s->last_error);
    wattrset(w, A_NORMAL);
}

void pane_registry_render(WINDOW *w, const struct theme *th, int utf8,
                          const struct engine_server_info *v, size_t n,
                          struct registry_state *rs, int64_t now_ms)
{
    int h = getmaxy(w), width = getmaxx(w);
    if (n == 0) {
        rs->visible = 0;
        wmove(w, 0, 0);
        wattrset(w, th->attr[THEME_DIM]);
        draw_str(w, "no servers configured", width);
        wattrset(w, A_NORMAL);
        return;
    }
    int sel = find_server(v, n, rs->sel);
    if (sel < 0) {
        sel = 0;
        free(rs->sel);
        rs->sel = xstrdup(v[0].name);
    }
    struct layout L;
    layout_compute(&L, v, n, width, now_ms);

    /* the footer (3 lines, 4 with an error) keeps at least one server row */
    int rows = h - 1 > 0 ? h - 1 : 0;
    int foot = v[sel].last_error ? 4 : 3;
    if (foot > rows - 1)
        foot = rows - 1 > 0 ? rows - 1 : 0;
    rs->visible = rows - foot;
    if (sel < rs->top)
        rs->top = sel;
    if (sel >= rs->top + rs->visible)
        rs->top = sel - rs->visible + 1;
    pane_scroll_clamp(&rs->top, (int)n, rs->visible);

    draw_header(w, th, &L);
    for (int row = 0; row < rs->visible && rs->top + row < (int)n; row++) {
        int i = rs->top + row;
        draw_server(w, th, utf8, row + 1, &v[i], &L, i == sel, now_ms);
    }
    draw_details(w, th, h - foot, foot, &v[sel], &L, now_ms);
}

static void registry_draw(struct tui *t, struct pane *p)
{
    size_t n = engine_servers(t->e, NULL, 0);
    struct engine_server_info *v = xcalloc(n ? n : 1, sizeof *v);
    n = engine_servers(t->e, v, n);
    engine_servers_latency(t->e, v, n);
    pane_registry_render(p->body, &t->theme, t->utf8, v, n, &t->registry, util_wall_ms());
    free(v);
}

void pane_registry_fini(struct tui *t)
{
    free(t->registry.sel);
    t->registry.sel = NULL;
}

/* === keys and commands === */

const char *registry_selected(struct tui *t)
{
    if (t->registry.sel)
        return t->registry.sel;
    /* nothing chosen yet: the first server, as the pane shows it */
    struct engine_server_info one;
    if (engine_servers(t->e, &one, 1) == 0)
        return NULL;
    t->registry.sel = xstrdup(one.name);
    return t->registry.sel;
}

static const char *server_arg(struct tui *t, const char *arg)
{
    while (arg && *arg == ' ')
        arg++;
    return arg && *arg ? arg : registry_selected(t);
}

int registry_cmd_tools(struct tui *t, const char *arg)
{
    const char *name = server_arg(t, arg);
    if (!name) {
        tui_message(t, 1, "no server selected");
        return -1;
    }
    char *srv = xstrdup(name);
    size_t n = engine_server_tools(t->e, srv, NULL, 0);
    struct engine_tool_info *v = xcalloc(n ? n : 1, sizeof *v);
    n = engine_server_tools(t->e, srv, v, n);
    struct buf b;
    buf_init(&b);
    buf_printf(&b, "# %s: %zu tool%s\n", srv, n, n == 1 ? "" : "s");
    if (!n)
        buf_puts(&b, "\n(no tools: the server is not ready, or offers none)\n");
    for (size_t i = 0; i < n; i++) {
        buf_printf(&b, "\n## %s\n", v[i].name ? v[i].name : "?");
        if (v[i].description && *v[i].description)
            buf_printf(&b, "%s\n", v[i].description);
        char *schema = v[i].input_schema ? cJSON_Print(v[i].input_schema) : NULL;
        buf_printf(&b, "```\n%s\n```\n", schema ? schema : "{}");
        cJSON_free(schema);
    }
    free(v);
    char *title = xasprintf("Tools of %s", srv);
    overlay_open(t, title, &b);
    free(title);
    free(srv);
    return 0;
}

int registry_cmd_log(struct tui *t, const char *arg)
{
    const char *name = server_arg(t, arg);
    if (!name) {
        tui_message(t, 1, "no server selected");
        return -1;
    }
    char *srv = xstrdup(name);
    const char *log = engine_server_log(t->e, srv);
    if (!log) {
        tui_message(t, 1, "no server '%s'", srv);
        free(srv);
        return -1;
    }
    struct buf b;
    buf_init(&b);
    if (*log)
        buf_puts(&b, log);
    else
        buf_puts(&b, "(nothing logged yet)");
    char *title = xasprintf("Log of %s", srv);
    overlay_open(t, title, &b);
    /* the newest lines at the bottom: start there */
    t->overlay->rs.top = 1 << 30;
    free(title);
    free(srv);
    return 0;
}

static int registry_key(struct tui *t, struct pane *p, int key)
{
    struct registry_state *rs = &t->registry;
    size_t n = engine_servers(t->e, NULL, 0);
    if (!n)
        return 0;
    struct engine_server_info *v = xcalloc(n, sizeof *v);
    n = engine_servers(t->e, v, n);
    int idx = find_server(v, n, rs->sel);
    if (idx < 0)
        idx = 0;
    int used = 1, page = rs->visible > 1 ? rs->visible - 1 : 1;
    switch (key) {
    case UK_UP: case 'k': idx--; break;
    case UK_DOWN: case 'j': idx++; break;
    case UK_PPAGE: idx -= page; break;
    case UK_NPAGE: idx += page; break;
    case UK_HOME: case 'g': idx = 0; break;
    case UK_END: case 'G': idx = (int)n - 1; break;
    default: used = 0;
    }
    if (used) {
        if (idx < 0)
            idx = 0;
        if (idx >= (int)n)
            idx = (int)n - 1;
        free(rs->sel);
        rs->sel = xstrdup(v[idx].name);
    }
    free(v);
    return used;
}

const struct pane_class pane_registry_class = {
    "Registry", registry_draw, registry_key,
    "Enter tools  l log  R restart  d disable  e enable  h check",
};
