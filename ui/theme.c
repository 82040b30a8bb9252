/* theme.c — colour themes. UI code names elements (title, border,
 * status_ok, ...); a theme file maps each to {fg, bg, attrs}. Themes are
 * YAML files under themes/, compiled into the binary (embedded.h) and read
 * with ydoc. NO_COLOR or a terminal without colours selects the
 * attribute-only mono theme. */
#include "ui.h"
#include "embedded.h"
#include "ydoc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* === the element table === */

static const struct {
    const char *name;
    attr_t mono;                 /* built-in default: attributes only */
} elements[THEME_COUNT] = {
    [THEME_TITLE] = {"title", A_BOLD},
    [THEME_TITLE_FOCUS] = {"title_focus", A_BOLD | A_REVERSE},
    [THEME_BORDER] = {"border", A_NORMAL},
    [THEME_STATUS_OK] = {"status_ok", A_BOLD},
    [THEME_STATUS_FAIL] = {"status_fail", A_BOLD},
    [THEME_STATUS_RUN] = {"status_run", A_NORMAL},
    [THEME_DIM] = {"dim", A_DIM},
    [THEME_ERROR] = {"error", A_BOLD},
    [THEME_SELECTED] = {"selected", A_REVERSE},
    [THEME_STATUSBAR] = {"statusbar", A_REVERSE},
    [THEME_HEALTH_OK] = {"health_ok", A_NORMAL},
    [THEME_HEALTH_WARN] = {"health_warn", A_BOLD},
    [THEME_HEALTH_BAD] = {"health_bad", A_BOLD | A_UNDERLINE},
    [THEME_DIFF_ADD] = {"diff_add", A_BOLD},
    [THEME_DIFF_DEL] = {"diff_del", A_DIM},
    [THEME_DIFF_HUNK] = {"diff_hunk", A_UNDERLINE},
    [THEME_HEADING] = {"heading", A_BOLD | A_UNDERLINE},
    [THEME_CODE] = {"code", A_DIM},
    [THEME_SPARK] = {"spark", A_BOLD},
};

static const char *const theme_list[] = {"dark", "light", "high-contrast", "mono", NULL};

const char *const *theme_names(void)
{
    return theme_list;
}

int theme_no_color(void)
{
    const char *nc = getenv("NO_COLOR");
    return nc && *nc;
}

static const struct {
    const char *name;
    attr_t attr;
} attr_names[] = {
    {"normal", A_NORMAL}, {"bold", A_BOLD},       {"dim", A_DIM},
    {"reverse", A_REVERSE}, {"underline", A_UNDERLINE}, {"standout", A_STANDOUT},
    {"blink", A_BLINK},   {"italic", A_ITALIC},
};

static const char *const colour_names[] = {
    "black", "red", "green", "yellow", "blue", "magenta", "cyan", "white",
};

const char *theme_el_name(int el)
{
    return el >= 0 && el < THEME_COUNT ? elements[el].name : NULL;
}

void theme_defaults(struct theme *t)
{
    memset(t, 0, sizeof *t);
    for (int i = 0; i < THEME_COUNT; i++) {
        t->style[i].fg = -1;
        t->style[i].bg = -1;
        t->style[i].attrs = elements[i].mono;
        t->attr[i] = elements[i].mono;
    }
}

/* === parsing === */

/* A colour: default, a name, bright_<name>, or 0-255. */
static int parse_colour(const struct ydoc_node *n, short *out)
{
    if (n->kind != YDOC_SCALAR)
        return -1;
    const char *s = n->str;
    if (strcmp(s, "default") == 0) {
        *out = -1;
        return 0;
    }
    int bright = 0;
    if (strncmp(s, "bright_", 7) == 0) {
        bright = 8;
        s += 7;
    }
    for (size_t i = 0; i < ARRAY_LEN(colour_names); i++)
        if (strcmp(s, colour_names[i]) == 0) {
            *out = (short)(i + (size_t)bright);
            return 0;
        }
    if (bright || !*s)
        return -1;
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || *end || v < 0 || v > 255)
        return -1;
    *out = (short)v;
    return 0;
}

static int parse_attr_name(const struct ydoc_node *n, attr_t *acc)
{
    if (n->kind != YDOC_SCALAR)
        return -1;
    for (size_t i = 0; i < ARRAY_LEN(attr_names); i++)
        if (strcmp(n->str, attr_names[i].name) == 0) {
            *acc |= attr_names[i].attr;
            return 0;
        }
    return -1;
}

/* One element's {fg, bg, attrs} into *st. */
static int parse_style(const struct ydoc *d, const struct ydoc_node *v,
                       struct theme_style *st, char **errmsg)
{
    if (v->kind != YDOC_MAP) {
        *errmsg = ydoc_errorf(d, v, "expected a mapping {fg, bg, attrs}, got a %s",
                              ydoc_kind_name(v->kind));
        return -1;
    }
    struct theme_style s = {-1, -1, A_NORMAL};
    for (size_t i = 0; i < v->npairs; i++) {
        const struct ydoc_node *k = v->pairs[i].key, *val = v->pairs[i].value;
        if (strcmp(k->str, "fg") == 0 || strcmp(k->str, "bg") == 0) {
            short *dst = k->str[0] == 'f' ? &s.fg : &s.bg;
            if (parse_colour(val, dst) < 0) {
                *errmsg = ydoc_errorf(d, val,
                                      "bad colour for %s: expected default, black, red, "
                                      "green, yellow, blue, magenta, cyan, white, "
                                      "bright_<colour> or 0-255",
                                      k->str);
                return -1;
            }
        } else if (strcmp(k->str, "attrs") == 0) {
            size_t n = val->kind == YDOC_SEQ ? val->nitems : 1;
            for (size_t j = 0; j < n; j++) {
                const struct ydoc_node *a = val->kind == YDOC_SEQ ? val->items[j] : val;
                if (parse_attr_name(a, &s.attrs) < 0) {
                    *errmsg = ydoc_errorf(d, a,
                                          "unknown attribute: expected normal, bold, dim, "
                                          "reverse, underline, standout, blink or italic");
                    return -1;
                }
            }
        } else {
            *errmsg = ydoc_errorf(d, k, "unknown key '%s': expected fg, bg or attrs", k->str);
            return -1;
        }
    }
    *st = s;
    return 0;
}

static int find_element(const char *name)
{
    for (int i = 0; i < THEME_COUNT; i++)
        if (strcmp(name, elements[i].name) == 0)
            return i;
    return -1;
}

int theme_parse(struct theme *t, const char *name, const char *text, size_t len,
                char **errmsg)
{
    struct ydoc *d = NULL;
    struct theme_style styles[THEME_COUNT];
    memcpy(styles, t->style, sizeof styles);
    if (ydoc_load_string(name, text, len, &d, errmsg) < 0)
        return -1;
    const struct ydoc_node *root = d->root;
    if (!root) {
        *errmsg = xasprintf("%s: the theme is empty; expected an 'elements' mapping", name);
        goto fail;
    }
    if (root->kind != YDOC_MAP) {
        *errmsg = ydoc_errorf(d, root, "a theme is a mapping with an 'elements' key");
        goto fail;
    }
    for (size_t i = 0; i < root->npairs; i++) {
        const char *k = root->pairs[i].key->str;
        if (strcmp(k, "name") && strcmp(k, "description") && strcmp(k, "elements")) {
            *errmsg = ydoc_errorf(d, root->pairs[i].key,
                                  "unknown key '%s': expected name, description or elements",
                                  k);
            goto fail;
        }
    }
    const struct ydoc_node *els = ydoc_map_get(root, "elements");
    if (!els || els->kind != YDOC_MAP) {
        *errmsg = ydoc_errorf(d, els ? els : root, "'elements' must be a mapping");
        goto fail;
    }
    for (size_t i = 0; i < els->npairs; i++) {
        const struct ydoc_node *k = els->pairs[i].key;
        int el = find_element(k->str);
        if (el < 0) {
            struct buf known;
            buf_init(&known);
            for (int j = 0; j < THEME_COUNT; j++)
                buf_printf(&known, "%s%s", j ? ", " : "", elements[j].name);
            *errmsg = ydoc_errorf(d, k, "unknown theme element '%s' (known: %s)", k->str,
                                  known.data);
            buf_fini(&known);
            goto fail;
        }
        if (parse_style(d, els->pairs[i].value, &styles[el], errmsg) < 0)
            goto fail;
    }
    memcpy(t->style, styles, sizeof styles);
    for (int i = 0; i < THEME_COUNT; i++)
        t->attr[i] = styles[i].attrs;
    ydoc_free(d);
    return 0;
fail:
    ydoc_free(d);
    return -1;
}

/* === the terminal === */

static short fit_colour(short c, short fallback)
{
    if (c < 0)
        return c;
    if (c < COLORS)
        return c;
    return c < 16 && c - 8 < COLORS ? (short)(c - 8) : fallback;
}

/* One colour pair per element that names a colour. */
static void apply_colours(struct theme *t)
{
    int defaults = use_default_colors() == OK;
    for (int i = 0; i < THEME_COUNT; i++) {
        struct theme_style *s = &t->style[i];
        t->attr[i] = s->attrs;
        if (s->fg < 0 && s->bg < 0)
            continue;
        short fg = fit_colour(s->fg, -1), bg = fit_colour(s->bg, -1);
        if (!defaults) {
            fg = fg < 0 ? COLOR_WHITE : fg;
            bg = bg < 0 ? COLOR_BLACK : bg;
        }
        if (i + 1 < COLOR_PAIRS && init_pair((short)(i + 1), fg, bg) == OK)
            t->attr[i] |= COLOR_PAIR(i + 1);
    }
    t->color = 1;
}

int theme_setup(struct theme *t, const char *name, char **errmsg)
{
    int mono = theme_no_color() || !has_colors();
    if (mono || (name && strcmp(name, "mono") == 0)) {
        name = "mono";
        mono = 1;
    } else if (!name) {
        name = "dark";
    }
    theme_defaults(t);
    char path[96];
    snprintf(path, sizeof path, "themes/%s.yaml", name);
    const struct embedded_file *f = strchr(name, '/') ? NULL : embedded_find(path);
    if (!f) {
        *errmsg = xasprintf("no theme '%s' (themes: dark, light, high-contrast, mono); "
                            "using the default look", name);
        return -1;
    }
    if (theme_parse(t, path, (const char *)f->data, f->len, errmsg) < 0)
        return -1;
    if (!mono && start_color() == OK)
        apply_colours(t);
    return 0;
}
