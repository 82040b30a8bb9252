/* form.c — the new-task form: a small modal window with a Kind row, two
 * text fields for the kind, then Priority and Timeout. The kind is a tool
 * call (fields "Tool (server.tool)" and "Args (JSON)", default {}) or a
 * model task type, generate ... deploy (fields "Prompt" and "Model",
 * empty = the type's default). On the Kind row Left/Right/Space or a
 * type's first letter change it; Ctrl-T changes it from any row.
 *
 * Prompt and Args are multi-line boxes (textedit.c: wrapped, Up/Down by
 * row, Backspace/Delete join lines, Ctrl-U/Ctrl-K cut to the line's
 * start/end); the box is BOX_ROWS high and grows with its text while the
 * screen has room. In the Prompt, Enter starts a new line; in Args, Enter
 * submits once the text is complete JSON and starts a new line otherwise;
 * Ctrl-J always starts one. The other fields are one line; Enter there
 * moves on (Kind, Tool) or submits. Tab/Shift-Tab move between rows (Tab
 * in the Tool field first completes server.tool from the owner's list);
 * Up/Down move between rows from a one-line field or the first/last row
 * of a box; Ctrl-S submits, Esc cancels. Up on an untouched form (in a
 * box: from its first row) or Ctrl-P asks the owner for a previous
 * submission. A paste (form_paste) goes into the focused field as text,
 * line breaks included. The form opens on the first text field. A default
 * value ({} for the arguments) is shown dimmed until the field is edited;
 * typing into it replaces it.
 *
 * Fields are checked as they change: Args must be a JSON object that the
 * owner's check hook accepts for the tool, Priority an integer, Timeout a
 * duration (30s, 5m); the error shows under or beside the field and
 * submitting is refused until it is fixed. tui_form.c submits the texts
 * and shows an error here when the engine refuses them. */
#include "ui.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>
#include <wctype.h>

/* rows: 0 the kind, 1 and 2 the kind's fields, 3 priority, 4 timeout.
 * The window is FORM_BASE_HEIGHT rows plus the box's; the box shows at
 * least BOX_ROWS rows and grows to BOX_MAX_ROWS with its text. */
enum { NROWS = 5, FORM_BASE_HEIGHT = 14, FORM_MAX_WIDTH = 76, ERROR_ROWS = 3 };
enum { BOX_ROWS = 6, BOX_MAX_ROWS = 14 };
enum { PRIORITY_MAX = 1000000, SHORT_WIDTH = 10 };

/* kinds[0] is a tool call; the rest are the model task types */
static const char *const kinds[] = {"tool", "generate", "refactor", "debug",
                                    "review", "document", "test", "deploy"};
enum { NKINDS = (int)ARRAY_LEN(kinds) };

struct field {
    const char *label;
    struct textedit te;
    int pristine;                /* still the default: typing replaces it */
};

struct form {
    WINDOW *win;
    int scr_rows, scr_cols;      /* the screen it was laid out on */
    int box;                     /* rows of the multi-line box now */
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
        textedit_init(&f->f[i].te, i == FORM_ARGS || i == FORM_PROMPT);
    textedit_set(&f->f[FORM_ARGS].te, "{}");
    f->f[FORM_ARGS].pristine = 1;
    f->focus = 1;
    f->box = BOX_ROWS;
    return f;
}

void form_free(struct form *f)
{
    if (!f)
        return;
    if (f->win)
        delwin(f->win);
    for (int i = 0; i < FORM_NFIELDS; i++) {
        textedit_fini(&f->f[i].te);
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
    return textedit_text(&f->f[field].te);
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
        textedit_set(&f->f[i].te, s->text[i] ? s->text[i] : "");
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
        textedit_set(&f->f[FORM_TOOL].te, c);
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

/* A key for the text of a field. Typing into a default replaces it; any
 * key the text uses makes it the user's. */
static enum textedit_result field_key(struct field *fl, int key)
{
    if (fl->pristine && key >= 32 && key != 127 && iswprint((wint_t)key))
        textedit_set(&fl->te, "");
    enum textedit_result r = textedit_key(&fl->te, key);
    if (r != TEXTEDIT_UNUSED)
        fl->pristine = 0;
    return r;
}

/* The text of a field changed: the form is the user's now. */
static void changed(struct form *f)
{
    f->touched = 1;
    form_check(f);
}

/* Whether the Args text is complete: empty (= {}) or valid JSON. */
static int args_complete(const struct form *f)
{
    char *t = form_text(f, FORM_ARGS);
    size_t i = strspn(t, " \n");
    cJSON *j = t[i] ? cJSON_ParseWithOpts(t, NULL, 1) : NULL;
    int done = !t[i] || j;
    cJSON_Delete(j);
    free(t);
    return done;
}

/* Enter: the next row from the Kind row and the Tool field; a new line
 * in the Prompt, and in Args until its JSON is complete (Ctrl-J, '\n':
 * always); submit elsewhere. */
static enum form_action enter_key(struct form *f, int key)
{
    if (f->focus == 0) {
        f->focus++;
        return FORM_NONE;
    }
    struct field *fl = row_field(f, f->focus);
    if (fl->te.multiline) {
        if (row_index(f, f->focus) == FORM_ARGS && key != '\n' && args_complete(f))
            return try_submit(f);
        if (field_key(fl, '\n') == TEXTEDIT_CHANGED)
            changed(f);
        return FORM_NONE;
    }
    if (f->focus == 1) {
        f->focus++;
        return FORM_NONE;
    }
    return try_submit(f);
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
    struct field *fl = f->focus > 0 ? row_field(f, f->focus) : NULL;
    switch (key) {                             /* keys for every row */
    case 27:                                   /* Esc */
        return FORM_CANCEL;
    case 16:                                   /* Ctrl-P: a previous submission */
        return FORM_RECALL;
    case 15:                                   /* Ctrl-O: the next template */
        return FORM_TEMPLATE;
    case '\t':
        if (f->kind == 0 && f->focus == 1 && complete_target(f)) {
            changed(f);
            return FORM_NONE;
        }
        free(f->note);
        f->note = NULL;
        f->focus = (f->focus + 1) % NROWS;
        return FORM_NONE;
    case UK_DOWN:                              /* within a box, then the next row */
        if (fl && field_key(fl, key) != TEXTEDIT_UNUSED)
            return FORM_NONE;
        f->focus = (f->focus + 1) % NROWS;
        return FORM_NONE;
    case UK_UP:
        if (fl && field_key(fl, key) != TEXTEDIT_UNUSED)
            return FORM_NONE;
        if (!f->touched)
            return FORM_RECALL;
        f->focus = (f->focus + NROWS - 1) % NROWS;
        return FORM_NONE;
    case UK_BTAB:
        f->focus = (f->focus + NROWS - 1) % NROWS;
        return FORM_NONE;
    case '\n': case '\r': case UK_ENTER:
        return enter_key(f, key);
    case 19:                                   /* Ctrl-S */
        return try_submit(f);
    case 20:                                   /* Ctrl-T: the next kind */
        f->kind = (f->kind + 1) % NKINDS;
        changed(f);
        return FORM_KIND;
    }
    if (!fl) {
        enum form_action a = kind_key(f, key);
        if (a == FORM_KIND)
            changed(f);
        return a;
    }
    if (field_key(fl, key) == TEXTEDIT_CHANGED)
        changed(f);
    return FORM_NONE;
}

int form_paste(struct form *f, const char *text)
{
    if (f->focus == 0)
        return 0;                              /* the Kind row takes no text */
    struct field *fl = row_field(f, f->focus);
    if (fl->pristine)
        textedit_set(&fl->te, "");
    fl->pristine = 0;
    textedit_insert(&fl->te, text);
    free(f->note);
    f->note = NULL;
    changed(f);
    return 1;
}

/* === layout and drawing === */

/* The row of the form that holds the multi-line box (1 or 2). */
static int box_row(const struct form *f)
{
    return f->f[row_index(f, 1)].te.multiline ? 1 : 2;
}

static int row_height(const struct form *f, int row)
{
    return row == box_row(f) ? f->box : 1;
}

/* The most rows the box may have on the screen laid out. */
static int box_max(const struct form *f)
{
    int m = f->scr_rows - 2 - FORM_BASE_HEIGHT;    /* the status bar and a margin */
    return m < 1 ? 1 : m < BOX_MAX_ROWS ? m : BOX_MAX_ROWS;
}

void form_layout(struct form *f, int rows, int cols)
{
    if (f->win)
        delwin(f->win);
    f->win = NULL;
    f->scr_rows = rows;
    f->scr_cols = cols;
    if (f->box > box_max(f))
        f->box = box_max(f);
    int w = cols - 4 < FORM_MAX_WIDTH ? cols - 4 : FORM_MAX_WIDTH;
    int h = FORM_BASE_HEIGHT + f->box;
    if (w < 20 || rows < h)
        return;
    /* centred over the panes; the status bar below stays in view */
    int y = (rows - 1 - h) / 2;
    f->win = newwin(h, w, y < 0 ? 0 : y, (cols - w) / 2);
}

/* Grow the box (never shrink it while the form is open, so the bigger
 * window always covers the smaller) to show the box's text, as far as
 * the screen allows. */
static void fit_box(struct form *f)
{
    if (!f->win)
        return;
    struct field *fl = row_field(f, box_row(f));
    int want = textedit_rows(&fl->te, getmaxx(f->win) - 4), max = box_max(f);
    if (want > max)
        want = max;
    if (want > f->box) {
        f->box = want;
        form_layout(f, f->scr_rows, f->scr_cols);
    }
}

/* The label of a box, with "rows 3-8/12" at the right when its text is
 * taller than the box. */
static void draw_box_label(WINDOW *w, const struct field *fl, int inner, int height)
{
    draw_str(w, fl->label, inner);
    int n = textedit_rows(&fl->te, inner);
    if (n <= height)
        return;
    char pos[48];
    snprintf(pos, sizeof pos, "rows %zu-%zu/%d", fl->te.top + 1, fl->te.top + (size_t)height, n);
    int at = 2 + inner - (int)strlen(pos);
    if (at > getcurx(w) + 1) {
        wmove(w, getcury(w), at);
        draw_str(w, pos, inner);
    }
}

void form_draw(struct form *f, const struct theme *th)
{
    fit_box(f);
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
    /* rows 1 and 2: a label, the field (the box: several rows), a line
     * for its note or error */
    int y = 2;
    for (int row = 1; row < 3; row++) {
        struct field *fl = row_field(f, row);
        int h = row_height(f, row);
        attr_t a = row == f->focus ? th->attr[THEME_SELECTED] : A_UNDERLINE;
        if (fl->pristine)
            a |= A_DIM;
        int cy = 0, cx = 0;
        textedit_draw(w, &fl->te, y + 1, 2, h, inner, a, &cy, &cx);   /* first: it scrolls */
        wmove(w, y, 2);
        wattrset(w, row == f->focus ? th->attr[THEME_TITLE] : A_NORMAL);
        draw_box_label(w, fl, inner, h);
        wattrset(w, A_NORMAL);
        if (row == f->focus) {
            cury = cy;
            curx = cx;
        }
        const char *err = f->ferr[row_index(f, row)];
        const char *note = row == 1 && f->kind == 0 ? f->note : NULL;
        if (err || note) {
            wmove(w, y + 1 + h, 2);
            wattrset(w, th->attr[err ? THEME_ERROR : THEME_DIM]);
            draw_str(w, err ? err : note, inner);
            wattrset(w, A_NORMAL);
        }
        y += h + 2;
    }
    /* rows 3 and 4: label, a short field and its error on one line */
    for (int row = 3; row < NROWS; row++, y++) {
        struct field *fl = row_field(f, row);
        wmove(w, y, 2);
        wattrset(w, row == f->focus ? th->attr[THEME_TITLE] : A_NORMAL);
        draw_str(w, fl->label, 9);
        wattrset(w, A_NORMAL);
        int fx = 12, fw = inner - 10 < SHORT_WIDTH ? inner - 10 : SHORT_WIDTH;
        if (fw < 1)
            continue;
        attr_t a = row == f->focus ? th->attr[THEME_SELECTED] : A_UNDERLINE;
        int cy = 0, cx = 0;
        textedit_draw(w, &fl->te, y, fx, 1, fw, a, &cy, &cx);
        if (row == f->focus) {
            cury = cy;
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
        for (int row = y; row < y + ERROR_ROWS && n > 0; row++) {
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
    /* the keys that matter in the focused field */
    int focus_field = f->focus ? row_index(f, f->focus) : -1;
    const char *keys =
        focus_field == FORM_PROMPT ? "Enter new line  ^S submit  Tab next  ^P previous  "
                                     "^O template  Esc"
        : focus_field == FORM_ARGS ? "Enter submits complete JSON, else new line  ^J new line  "
                                     "^S submit  Esc"
                                   : "Enter next/submit  Tab complete  ^P previous  ^O template  "
                                     "^S submit  Esc";
    wattrset(w, th->attr[THEME_DIM]);
    wmove(w, y + ERROR_ROWS, 2);
    draw_str(w, keys, inner);
    wattrset(w, A_NORMAL);
    wmove(w, cury, curx);
    wnoutrefresh(w);
}
