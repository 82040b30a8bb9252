/* form.c — the new-task form: a small modal window with a Kind row, two
 * single-line fields for the kind, then Priority and Timeout. The kind is
 * a tool call (fields "Tool (server.tool)" and "Args (JSON)", default {})
 * or a model task type, generate ... deploy (fields "Prompt" and "Model",
 * empty = the type's default). On the Kind row Left/Right/Space or a
 * type's first letter change it; Ctrl-T changes it from any row. Text
 * fields are edited in place (Left/Right, Home/End, Backspace/Delete,
 * Ctrl-U); Tab/Shift-Tab move between rows (Tab in the Tool field first
 * completes server.tool from the owner's list), Enter on the second
 * field or later or Ctrl-S submits, Esc cancels. Up on an untouched form
 * or Ctrl-P asks the owner for a previous submission. The form opens on
 * the first text field. A default value ({} for the arguments) is shown
 * dimmed until the field is edited; typing into it replaces it.
 *
 * Fields are checked as they change: Args must be a JSON object that the
 * owner's check hook accepts for the tool, Priority an integer, Timeout a
 * duration (30s, 5m); the error shows under or beside the field and
 * submitting is refused until it is fixed. tui.c submits the texts and
 * shows an error here when the engine refuses them. Text is kept as wide
 * characters so the cursor moves by character and scrolls by display
 * column. */
#include "ui.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>
#include <wctype.h>

/* rows: 0 the kind, 1 and 2 the kind's fields, 3 priority, 4 timeout */
enum { NROWS = 5, FORM_HEIGHT = 15, FORM_MAX_WIDTH = 76, ERROR_ROWS = 3, ERROR_Y = 10 };
enum { PRIORITY_MAX = 1000000, SHORT_WIDTH = 10 };

/* kinds[0] is a tool call; the rest are the model task types */
static const char *const kinds[] = {"tool", "generate", "refactor", "debug",
                                    "review", "document", "test", "deploy"};
enum { NKINDS = (int)ARRAY_LEN(kinds) };

struct field {
    const char *label;
    wchar_t *buf;                /* NUL-terminated */
    size_t len, cap;
    size_t cur;                  /* cursor: index into buf */
    size_t scroll;               /* first character shown */
    int pristine;                /* still the default: typing replaces it */
};

struct form {
    WINDOW *win;
    struct field f[FORM_NFIELDS];
    int kind;                    /* index into kinds */
    int focus;                   /* row: 0 the kind, 1 .. NROWS-1 the fields */
    char *error;
    char *ferr[FORM_NFIELDS];    /* inline errors of the fields */
    char *note;                  /* completions after Tab, under the Tool field */
    int touched;                 /* edited since opened or restored */
    struct form_hooks hooks;
};

/* The field index on row 1 .. NROWS-1 for the current kind. */
static int row_index(const struct form *f, int row)
{
    if (row == 3)
        return FORM_PRIORITY;
    if (row == 4)
        return FORM_TIMEOUT;
    if (f->kind == 0)
        return row == 1 ? FORM_TOOL : FORM_ARGS;
    return row == 1 ? FORM_PROMPT : FORM_MODEL;
}

static struct field *row_field(struct form *f, int row)
{
    return &f->f[row_index(f, row)];
}

static void field_set(struct field *fl, const wchar_t *s)
{
    fl->len = wcslen(s);
    if (fl->cap < fl->len + 1) {
        fl->cap = fl->len + 16;
        fl->buf = xrealloc(fl->buf, fl->cap * sizeof *fl->buf);
    }
    wmemcpy(fl->buf, s, fl->len + 1);
    fl->cur = fl->len;
    fl->scroll = 0;
}

static void field_insert(struct field *fl, wchar_t c)
{
    if (fl->len + 2 > fl->cap) {
        fl->cap = fl->cap * 2 + 16;
        fl->buf = xrealloc(fl->buf, fl->cap * sizeof *fl->buf);
    }
    wmemmove(fl->buf + fl->cur + 1, fl->buf + fl->cur, fl->len - fl->cur + 1);
    fl->buf[fl->cur++] = c;
    fl->len++;
}

static void field_delete(struct field *fl, size_t at)
{
    if (at >= fl->len)
        return;
    wmemmove(fl->buf + at, fl->buf + at + 1, fl->len - at);
    fl->len--;
    if (fl->cur > at)
        fl->cur--;
}

struct form *form_new(void)
{
    struct form *f = xcalloc(1, sizeof *f);
    f->f[FORM_TOOL].label = "Tool (server.tool)";
    f->f[FORM_ARGS].label = "Args (JSON)";
    f->f[FORM_PROMPT].label = "Prompt";
    f->f[FORM_MODEL].label = "Model (alias or name; empty: the type's default)";
    f->f[FORM_PRIORITY].label = "Priority";
    f->f[FORM_TIMEOUT].label = "Timeout";
    for (int i = 0; i < FORM_NFIELDS; i++)
        field_set(&f->f[i], L"");
    field_set(&f->f[FORM_ARGS], L"{}");
    f->f[FORM_ARGS].pristine = 1;
    f->focus = 1;
    return f;
}

void form_free(struct form *f)
{
    if (!f)
        return;
    if (f->win)
        delwin(f->win);
    for (int i = 0; i < FORM_NFIELDS; i++) {
        free(f->f[i].buf);
        free(f->ferr[i]);
    }
    free(f->error);
    free(f->note);
    free(f);
}

void form_set_error(struct form *f, char *err)
{
    free(f->error);
    f->error = err;
}

char *form_text(const struct form *f, int field)
{
    if (field < 0 || field >= FORM_NFIELDS)
        return xstrdup("");
    struct buf b;
    buf_init(&b);
    mbstate_t st;
    memset(&st, 0, sizeof st);
    for (size_t i = 0; i < f->f[field].len; i++) {
        char mb[MB_LEN_MAX];
        size_t k = wcrtomb(mb, f->f[field].buf[i], &st);
        if (k == (size_t)-1) {
            buf_putc(&b, '?');
            memset(&st, 0, sizeof st);
        } else {
            buf_append(&b, mb, k);
        }
    }
    return b.data ? buf_detach(&b) : xstrdup("");
}

const char *form_task_type(const struct form *f)
{
    return f->kind ? kinds[f->kind] : NULL;
}

int form_set_kind(struct form *f, const char *name)
{
    for (int i = 0; i < NKINDS; i++)
        if (strcmp(kinds[i], name) == 0) {
            f->kind = i;
            return 0;
        }
    return -1;
}

/* Set fl from UTF-8 text (invalid bytes become '?'). */
static void field_set_mb(struct field *fl, const char *text)
{
    size_t n = strlen(text);
    wchar_t *w = xmalloc((n + 1) * sizeof *w);
    size_t k = 0;
    mbstate_t st;
    memset(&st, 0, sizeof st);
    while (*text) {
        wchar_t c;
        size_t r = mbrtowc(&c, text, strlen(text), &st);
        if (r == (size_t)-1 || r == (size_t)-2) {
            c = L'?';
            r = 1;
            memset(&st, 0, sizeof st);
        }
        w[k++] = c;
        text += r;
    }
    w[k] = 0;
    field_set(fl, w);
    free(w);
}

/* Surrounding blanks of s cut in place; returns the start. */
static char *trim(char *s)
{
    while (*s == ' ')
        s++;
    size_t n = strlen(s);
    while (n && s[n - 1] == ' ')
        s[--n] = 0;
    return s;
}

/* An integer in [-PRIORITY_MAX, PRIORITY_MAX], blanks around it allowed;
 * empty = 0. */
static int parse_priority(const char *text, int *out)
{
    char *t = xstrdup(text), *s = trim(t), *end;
    int rc = 0;
    *out = 0;
    if (*s) {
        errno = 0;
        long v = strtol(s, &end, 10);
        if (errno || *end || end == s || v < -PRIORITY_MAX || v > PRIORITY_MAX)
            rc = -1;
        else
            *out = (int)v;
    }
    free(t);
    return rc;
}

/* A positive duration ("30", "30s", "1500ms", "5m") in ms; empty = 0. */
static int parse_timeout(const char *text, int *out)
{
    char *t = xstrdup(text), *s = trim(t);
    int rc = 0;
    *out = 0;
    if (*s) {
        int64_t ms;
        if (util_parse_duration_ms(s, &ms) < 0 || ms <= 0 || ms > INT_MAX)
            rc = -1;
        else
            *out = (int)ms;
    }
    free(t);
    return rc;
}

static void set_ferr(struct form *f, int field, char *err)
{
    free(f->ferr[field]);
    f->ferr[field] = err;
}

/* Check the fields again: priority, timeout, and for a tool call the
 * arguments (JSON, then the owner's check against the tool). */
static void form_check(struct form *f)
{
    int v;
    char *t = form_text(f, FORM_PRIORITY);
    set_ferr(f, FORM_PRIORITY, parse_priority(t, &v) < 0
                 ? xasprintf("expected an integer, -%d to %d", PRIORITY_MAX, PRIORITY_MAX)
                 : NULL);
    free(t);
    t = form_text(f, FORM_TIMEOUT);
    set_ferr(f, FORM_TIMEOUT,
             parse_timeout(t, &v) < 0 ? xstrdup("expected a duration: 30s, 1500ms, 5m") : NULL);
    free(t);
    set_ferr(f, FORM_ARGS, NULL);
    if (f->kind != 0)
        return;
    char *args = form_text(f, FORM_ARGS);
    char *a = trim(args);
    cJSON *parsed = cJSON_ParseWithOpts(*a ? a : "{}", NULL, 1);
    if (!parsed) {
        set_ferr(f, FORM_ARGS, xstrdup("args: not valid JSON"));
    } else if (!cJSON_IsObject(parsed)) {
        set_ferr(f, FORM_ARGS, xstrdup("args: expected a JSON object"));
    } else if (f->hooks.check) {
        char *target = form_text(f, FORM_TOOL), *tg = trim(target), *err = NULL;
        const char *dot = strchr(tg, '.');
        if (dot && dot != tg && dot[1] &&
            f->hooks.check(f->hooks.payload, tg, parsed, &err) < 0)
            set_ferr(f, FORM_ARGS, err ? err : xstrdup("args: not accepted"));
        else
            free(err);
        free(target);
    }
    cJSON_Delete(parsed);
    free(args);
}

void form_set_hooks(struct form *f, const struct form_hooks *h)
{
    f->hooks = *h;
    form_check(f);
}

const char *form_field_error(const struct form *f, int field)
{
    return field >= 0 && field < FORM_NFIELDS ? f->ferr[field] : NULL;
}

int form_priority(const struct form *f, int *priority)
{
    char *t = form_text(f, FORM_PRIORITY);
    int rc = parse_priority(t, priority);
    free(t);
    return rc;
}

int form_timeout_ms(const struct form *f, int *timeout_ms)
{
    char *t = form_text(f, FORM_TIMEOUT);
    int rc = parse_timeout(t, timeout_ms);
    free(t);
    return rc;
}

void form_save(const struct form *f, struct form_saved *s)
{
    s->kind = f->kind;
    for (int i = 0; i < FORM_NFIELDS; i++)
        s->text[i] = form_text(f, i);
}

void form_restore(struct form *f, const struct form_saved *s)
{
    f->kind = s->kind >= 0 && s->kind < NKINDS ? s->kind : 0;
    for (int i = 0; i < FORM_NFIELDS; i++) {
        field_set_mb(&f->f[i], s->text[i] ? s->text[i] : "");
        f->f[i].pristine = 0;
    }
    free(f->error);
    f->error = NULL;
    free(f->note);
    f->note = NULL;
    f->touched = 0;
    f->focus = 1;
    form_check(f);
}

void form_saved_fini(struct form_saved *s)
{
    for (int i = 0; i < FORM_NFIELDS; i++) {
        free(s->text[i]);
        s->text[i] = NULL;
    }
}

/* Tab in the Tool field: complete the typed prefix from the owner's
 * targets. Returns 1 when the key was used (the text grew, or the
 * candidates are listed for the first time), 0 to move on. */
static int complete_target(struct form *f)
{
    if (!f->hooks.targets)
        return 0;
    char *typed = form_text(f, FORM_TOOL);
    size_t tn = strlen(typed);
    char **v = NULL;
    size_t n = f->hooks.targets(f->hooks.payload, &v);
    size_t nmatch = 0, common = 0;
    const char *first = NULL;
    int exact = 0;
    struct buf list;
    buf_init(&list);
    for (size_t i = 0; i < n; i++) {
        if (strncmp(v[i], typed, tn) != 0)
            continue;
        if (!v[i][tn])
            exact = 1;
        if (!first) {
            first = v[i];
            common = strlen(first);
        } else {
            size_t k = 0;
            while (k < common && first[k] == v[i][k])
                k++;
            common = k;
        }
        if (nmatch++ < 12)
            buf_printf(&list, "%s%s", nmatch > 1 ? "  " : "", v[i]);
    }
    int used = 0;
    char *note = NULL;
    if (nmatch && tn > 0 && common > tn) {
        /* don't split a UTF-8 character */
        while (common > tn && (first[common] & 0xc0) == 0x80)
            common--;
        char *c = xstrndup(first, common);
        field_set_mb(&f->f[FORM_TOOL], c);
        f->f[FORM_TOOL].pristine = 0;
        free(c);
        used = 1;
        if (nmatch > 1)
            note = buf_detach(&list);
    } else if (nmatch > 1 && tn > 0 && !exact && !f->note) {
        note = buf_detach(&list);      /* list them; the next Tab moves on */
        used = 1;
    }
    free(f->note);
    f->note = note;
    buf_fini(&list);
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
    free(typed);
    return used;
}

/* Submitting: refused (the focus on the field) while a shown field has
 * an inline error. */
static enum form_action try_submit(struct form *f)
{
    for (int row = 1; row < NROWS; row++)
        if (f->ferr[row_index(f, row)]) {
            f->focus = row;
            form_set_error(f, xstrdup("fix the field marked in red first"));
            return FORM_NONE;
        }
    return FORM_SUBMIT;
}

/* A key on the Kind row. */
static enum form_action kind_key(struct form *f, int key)
{
    int was = f->kind;
    switch (key) {
    case UK_LEFT:
        f->kind = (f->kind + NKINDS - 1) % NKINDS;
        break;
    case UK_RIGHT: case ' ':
        f->kind = (f->kind + 1) % NKINDS;
        break;
    default:
        /* a first letter: the next kind after this one that starts with it */
        if (key > 0 && key < 128)
            for (int i = 1; i <= NKINDS; i++) {
                int k = (f->kind + i) % NKINDS;
                if (kinds[k][0] == (char)key) {
                    f->kind = k;
                    break;
                }
            }
        break;
    }
    return f->kind != was ? FORM_KIND : FORM_NONE;
}

/* An editing key in a text field; 1 when it may have changed the text. */
static int field_key(struct field *fl, int key)
{
    int was_pristine = fl->pristine;
    fl->pristine = 0;
    switch (key) {
    case UK_LEFT:
        if (fl->cur > 0)
            fl->cur--;
        return 0;
    case UK_RIGHT:
        if (fl->cur < fl->len)
            fl->cur++;
        return 0;
    case UK_HOME: case 1:                      /* Ctrl-A */
        fl->cur = 0;
        return 0;
    case UK_END: case 5:                       /* Ctrl-E */
        fl->cur = fl->len;
        return 0;
    case UK_BACKSPACE: case 127: case 8:
        if (fl->cur > 0)
            field_delete(fl, fl->cur - 1);
        return 1;
    case UK_DC: case 4:                        /* Delete, Ctrl-D */
        field_delete(fl, fl->cur);
        return 1;
    case 21:                                   /* Ctrl-U: clear */
        field_set(fl, L"");
        return 1;
    default:
        if (key >= 32 && key != 127 && iswprint((wint_t)key)) {
            if (was_pristine)
                field_set(fl, L"");
            field_insert(fl, (wchar_t)key);
            return 1;
        }
        fl->pristine = was_pristine;           /* an unbound key changes nothing */
        return 0;
    }
}


static enum form_action form_key_row(struct form *f, int key);

enum form_action form_key(struct form *f, int key)
{
    int had_note = f->note != NULL;
    enum form_action a = form_key_row(f, key);
    if (had_note && f->note && key != '\t') {
        free(f->note);
        f->note = NULL;
    }
    return a;
}

static enum form_action form_key_row(struct form *f, int key)
{
    switch (key) {                             /* keys for every row */
    case 27:                                   /* Esc */
        return FORM_CANCEL;
    case 16:                                   /* Ctrl-P: a previous submission */
        return FORM_RECALL;
    case 15:                                   /* Ctrl-O: the next template */
        return FORM_TEMPLATE;
    case '\t':
        if (f->kind == 0 && f->focus == 1 && complete_target(f)) {
            f->touched = 1;
            form_check(f);
            return FORM_NONE;
        }
        free(f->note);
        f->note = NULL;
        f->focus = (f->focus + 1) % NROWS;
        return FORM_NONE;
    case UK_DOWN:
        f->focus = (f->focus + 1) % NROWS;
        return FORM_NONE;
    case UK_UP:
        if (!f->touched)
            return FORM_RECALL;
        f->focus = (f->focus + NROWS - 1) % NROWS;
        return FORM_NONE;
    case UK_BTAB:
        f->focus = (f->focus + NROWS - 1) % NROWS;
        return FORM_NONE;
    case '\n': case '\r': case UK_ENTER:
        if (f->focus < 2) {
            f->focus++;
            return FORM_NONE;
        }
        return try_submit(f);
    case 19:                                   /* Ctrl-S */
        return try_submit(f);
    case 20:                                   /* Ctrl-T: the next kind */
        f->kind = (f->kind + 1) % NKINDS;
        f->touched = 1;
        form_check(f);
        return FORM_KIND;
    }
    if (f->focus == 0) {
        enum form_action a = kind_key(f, key);
        if (a == FORM_KIND) {
            f->touched = 1;
            form_check(f);
        }
        return a;
    }
    if (field_key(row_field(f, f->focus), key)) {
        f->touched = 1;
        form_check(f);
    }
    return FORM_NONE;
}

void form_layout(struct form *f, int rows, int cols)
{
    if (f->win)
        delwin(f->win);
    int w = cols - 4 < FORM_MAX_WIDTH ? cols - 4 : FORM_MAX_WIDTH;
    int h = FORM_HEIGHT;
    f->win = NULL;
    if (w < 20 || rows < h)
        return;
    f->win = newwin(h, w, (rows - h) / 2, (cols - w) / 2);
}

static int wc_cols(wchar_t c)
{
    int n = wcwidth(c);
    return n < 0 ? 1 : n;
}

/* Draw fl in width columns at (y, x), scrolled so the cursor shows;
 * returns the cursor's column. */
static int field_draw(WINDOW *w, struct field *fl, int y, int x, int width, attr_t attr)
{
    if (fl->scroll > fl->cur)
        fl->scroll = fl->cur;
    for (;;) {
        int used = 0;
        for (size_t i = fl->scroll; i < fl->cur; i++)
            used += wc_cols(fl->buf[i]);
        if (used < width || fl->scroll >= fl->cur)
            break;
        fl->scroll++;
    }
    wattrset(w, attr);
    mvwhline(w, y, x, ' ', width);
    wmove(w, y, x);
    int col = 0, curcol = 0;
    for (size_t i = fl->scroll; i <= fl->len; i++) {
        if (i == fl->cur)
            curcol = col;
        if (i == fl->len)
            break;
        wchar_t c = fl->buf[i];
        int cw = wc_cols(c);
        if (col + cw > width)
            break;
        if (wcwidth(c) < 0)
            waddch(w, '?');
        else
            waddnwstr(w, &c, 1);
        col += cw;
    }
    wattrset(w, A_NORMAL);
    return x + curcol;
}

void form_draw(struct form *f, const struct theme *th)
{
    WINDOW *w = f->win;
    if (!w)
        return;
    int width = getmaxx(w), inner = width - 4;
    werase(w);
    draw_frame(w, "New task", 1, th);
    int cury = 1, curx = 2;
    /* row 1: the kind */
    wmove(w, 1, 2);
    wattrset(w, f->focus == 0 ? th->attr[THEME_TITLE] : A_NORMAL);
    draw_str(w, "Kind ", inner);
    wattrset(w, f->focus == 0 ? th->attr[THEME_SELECTED] : A_UNDERLINE);
    char *k = f->kind ? xasprintf("< %s (model task) >", kinds[f->kind])
                      : xstrdup("< tool call >");
    curx = getcurx(w);
    draw_str(w, k, inner - 5);
    free(k);
    wattrset(w, th->attr[THEME_DIM]);
    draw_str(w, f->focus == 0 ? "  Left/Right change" : "  Ctrl-T change", inner - getcurx(w) + 2);
    wattrset(w, A_NORMAL);
    /* rows 1 and 2: a label, the field, a line for its note or error */
    for (int row = 1; row < 3; row++) {
        struct field *fl = row_field(f, row);
        int y = 2 + (row - 1) * 3;
        wmove(w, y, 2);
        wattrset(w, row == f->focus ? th->attr[THEME_TITLE] : A_NORMAL);
        draw_str(w, fl->label, inner);
        wattrset(w, A_NORMAL);
        attr_t a = row == f->focus ? th->attr[THEME_SELECTED] : A_UNDERLINE;
        if (fl->pristine)
            a |= A_DIM;
        int cx = field_draw(w, fl, y + 1, 2, inner, a);
        if (row == f->focus) {
            cury = y + 1;
            curx = cx;
        }
        const char *err = f->ferr[row_index(f, row)];
        const char *note = row == 1 && f->kind == 0 ? f->note : NULL;
        if (err || note) {
            wmove(w, y + 2, 2);
            wattrset(w, th->attr[err ? THEME_ERROR : THEME_DIM]);
            draw_str(w, err ? err : note, inner);
            wattrset(w, A_NORMAL);
        }
    }
    /* rows 3 and 4: label, a short field and its error on one line */
    for (int row = 3; row < NROWS; row++) {
        struct field *fl = row_field(f, row);
        int y = 8 + (row - 3);
        wmove(w, y, 2);
        wattrset(w, row == f->focus ? th->attr[THEME_TITLE] : A_NORMAL);
        draw_str(w, fl->label, 9);
        wattrset(w, A_NORMAL);
        int fx = 12, fw = inner - 10 < SHORT_WIDTH ? inner - 10 : SHORT_WIDTH;
        if (fw < 1)
            continue;
        attr_t a = row == f->focus ? th->attr[THEME_SELECTED] : A_UNDERLINE;
        int cx = field_draw(w, fl, y, fx, fw, a);
        if (row == f->focus) {
            cury = y;
            curx = cx;
        }
        const char *err = f->ferr[row_index(f, row)];
        wmove(w, y, fx + fw + 2);
        if (err) {
            wattrset(w, th->attr[THEME_ERROR]);
            draw_str(w, err, inner - fw - 12);
        } else {
            wattrset(w, th->attr[THEME_DIM]);
            draw_str(w, row == 3 ? "higher runs first; empty: 0"
                                 : "30s, 5m; empty: the queue's default", inner - fw - 12);
        }
        wattrset(w, A_NORMAL);
    }
    if (f->error) {
        /* up to ERROR_ROWS lines of the error */
        wattrset(w, th->attr[THEME_ERROR]);
        const char *s = f->error;
        size_t n = strlen(s);
        for (int row = ERROR_Y; row < ERROR_Y + ERROR_ROWS && n > 0; row++) {
            size_t kk = draw_fit(s, n, inner, NULL);
            if (kk == 0)
                kk = 1;
            if (kk < n) {              /* break after a space when there is one */
                size_t sp = kk;
                while (sp > 0 && s[sp - 1] != ' ')
                    sp--;
                if (sp > 1)
                    kk = sp;
            }
            wmove(w, row, 2);
            draw_nstr(w, s, kk, inner);
            s += kk;
            n -= kk;
            if (n && *s == '\n') {
                s++;
                n--;
            }
        }
        wattrset(w, A_NORMAL);
    }
    wattrset(w, th->attr[THEME_DIM]);
    wmove(w, ERROR_Y + ERROR_ROWS, 2);
    draw_str(w, "Enter next/submit  Tab complete  ^P previous  ^O template  ^S submit  Esc",
             inner);
    wattrset(w, A_NORMAL);
    wmove(w, cury, curx);
    wnoutrefresh(w);
}
