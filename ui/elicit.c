/* elicit.c — servers' elicitation/create requests as modal forms. Each
 * property of the requested schema is one row: strings, numbers and
 * integers are typed (defaults prefilled), booleans and enums (an "enum"
 * list, with "enumNames" as labels, or a "oneOf"/"anyOf" of {const,
 * title}) are chosen with Space or Left/Right. Required fields carry a
 * '*'. Fields of other kinds (arrays, objects) are shown with their
 * default, which the engine fills in on accept.
 *
 * Enter accepts when the content validates against the schema (the first
 * error shows in the form, which stays open); Esc declines; Ctrl-C
 * cancels. Requests queue; the oldest is on screen. tui_modal.c answers
 * the engine with what elicit_key returns. */
#include "ui.h"
#include "jsonschema.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

enum efield_type { EF_STRING, EF_NUMBER, EF_INTEGER, EF_BOOLEAN, EF_ENUM, EF_OTHER };

struct efield {
    char *name;                  /* the property */
    char *label;                 /* its title, else the name */
    char *desc;                  /* its description, or NULL */
    enum efield_type type;
    int required;
    char *format;                /* string: "email", "uri", "date", ... or NULL */
    struct prompt text;          /* string, number, integer */
    int on;                      /* boolean */
    char **values, **labels;     /* enum: the values and how they show */
    size_t nopt;
    int opt;                     /* enum: the chosen index; -1 none */
};

struct elicit_form {
    struct engine_elicit *req;
    int64_t job;                 /* the one job running on the server, else 0 */
    char *server;
    char *message;
    cJSON *schema;
    struct efield *f;
    size_t n;
    int focus;                   /* index into f */
    int top;                     /* first field row shown */
    char *error;
};

static char *json_str(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? xstrdup(v->valuestring) : NULL;
}

static void opt_add(struct efield *fl, const char *value, const char *label)
{
    fl->values = xrealloc(fl->values, (fl->nopt + 1) * sizeof *fl->values);
    fl->labels = xrealloc(fl->labels, (fl->nopt + 1) * sizeof *fl->labels);
    fl->values[fl->nopt] = xstrdup(value);
    fl->labels[fl->nopt] = xstrdup(label ? label : value);
    fl->nopt++;
}

/* An enum's options from "enum" (+ "enumNames") or "oneOf"/"anyOf" of
 * {const, title}; 0 when the property has none. */
static int enum_options(struct efield *fl, const cJSON *p)
{
    const cJSON *en = cJSON_GetObjectItemCaseSensitive(p, "enum");
    const cJSON *names = cJSON_GetObjectItemCaseSensitive(p, "enumNames");
    if (cJSON_IsArray(en)) {
        int i = 0;
        const cJSON *v;
        cJSON_ArrayForEach(v, en) {
            const cJSON *nm = cJSON_GetArrayItem(names, i++);
            if (cJSON_IsString(v))
                opt_add(fl, v->valuestring, cJSON_IsString(nm) ? nm->valuestring : NULL);
        }
        return fl->nopt > 0;
    }
    const cJSON *of = cJSON_GetObjectItemCaseSensitive(p, "oneOf");
    if (!of)
        of = cJSON_GetObjectItemCaseSensitive(p, "anyOf");
    const cJSON *b;
    cJSON_ArrayForEach(b, of) {
        const cJSON *c = cJSON_GetObjectItemCaseSensitive(b, "const");
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(b, "title");
        if (cJSON_IsString(c))
            opt_add(fl, c->valuestring, cJSON_IsString(t) ? t->valuestring : NULL);
    }
    return fl->nopt > 0;
}

static void field_init(struct efield *fl, const char *name, const cJSON *p, const cJSON *required)
{
    fl->name = xstrdup(name);
    fl->label = json_str(p, "title");
    if (!fl->label)
        fl->label = xstrdup(name);
    fl->desc = json_str(p, "description");
    fl->opt = -1;
    const cJSON *r;
    cJSON_ArrayForEach(r, required)
        if (cJSON_IsString(r) && strcmp(r->valuestring, name) == 0)
            fl->required = 1;
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(p, "type");
    const char *ty = cJSON_IsString(type) ? type->valuestring : "string";
    const cJSON *def = cJSON_GetObjectItemCaseSensitive(p, "default");
    if (strcmp(ty, "string") == 0 && enum_options(fl, p)) {
        fl->type = EF_ENUM;
        for (size_t i = 0; i < fl->nopt; i++)
            if (cJSON_IsString(def) && strcmp(def->valuestring, fl->values[i]) == 0)
                fl->opt = (int)i;
        if (fl->opt < 0 && fl->required)
            fl->opt = 0;
    } else if (strcmp(ty, "string") == 0) {
        fl->type = EF_STRING;
        fl->format = json_str(p, "format");
        if (cJSON_IsString(def))
            buf_puts(&fl->text.text, def->valuestring);
    } else if (strcmp(ty, "number") == 0 || strcmp(ty, "integer") == 0) {
        fl->type = ty[0] == 'n' ? EF_NUMBER : EF_INTEGER;
        if (cJSON_IsNumber(def)) {
            char num[64];
            if (fl->type == EF_INTEGER || def->valuedouble == floor(def->valuedouble))
                snprintf(num, sizeof num, "%.0f", def->valuedouble);
            else
                snprintf(num, sizeof num, "%.17g", def->valuedouble);
            buf_puts(&fl->text.text, num);
        }
    } else if (strcmp(ty, "boolean") == 0) {
        fl->type = EF_BOOLEAN;
        fl->on = cJSON_IsTrue(def);
    } else {
        fl->type = EF_OTHER;
        char *d = def ? cJSON_PrintUnformatted(def) : NULL;
        buf_puts(&fl->text.text, d ? d : "(not asked)");
        cJSON_free(d);
    }
}

struct elicit_form *elicit_form_new(struct engine_elicit *req, const char *server,
                                    const int64_t *jobs, size_t njobs, const char *message,
                                    const cJSON *schema)
{
    struct elicit_form *f = xcalloc(1, sizeof *f);
    f->req = req;
    f->job = njobs == 1 ? jobs[0] : 0;
    f->server = xstrdup(server ? server : "?");
    f->message = xstrdup(message ? message : "");
    f->schema = schema ? cJSON_Duplicate(schema, 1) : cJSON_CreateObject();
    const cJSON *props = cJSON_GetObjectItemCaseSensitive(f->schema, "properties");
    const cJSON *required = cJSON_GetObjectItemCaseSensitive(f->schema, "required");
    size_t n = (size_t)cJSON_GetArraySize(props);
    f->f = xcalloc(n ? n : 1, sizeof *f->f);
    const cJSON *p;
    cJSON_ArrayForEach(p, props)
        if (p->string)
            field_init(&f->f[f->n++], p->string, p, required);
    return f;
}

void elicit_form_free(struct elicit_form *f)
{
    if (!f)
        return;
    for (size_t i = 0; i < f->n; i++) {
        struct efield *fl = &f->f[i];
        free(fl->name);
        free(fl->label);
        free(fl->desc);
        free(fl->format);
        buf_fini(&fl->text.text);
        for (size_t k = 0; k < fl->nopt; k++) {
            free(fl->values[k]);
            free(fl->labels[k]);
        }
        free(fl->values);
        free(fl->labels);
    }
    free(f->f);
    free(f->server);
    free(f->message);
    free(f->error);
    cJSON_Delete(f->schema);
    free(f);
}

struct engine_elicit *elicit_form_req(const struct elicit_form *f)
{
    return f->req;
}

const char *elicit_form_error(const struct elicit_form *f)
{
    return f->error;
}

int elicit_form_focus(const struct elicit_form *f)
{
    return f->focus;
}

/* The string formats of elicitation schemas, loosely: an email has text
 * on both sides of one '@', a URI a scheme, a date is YYYY-MM-DD; other
 * formats pass. */
static int format_ok(const char *format, const char *s)
{
    if (strcmp(format, "email") == 0) {
        const char *at = strchr(s, '@');
        return at && at > s && at[1] && !strchr(at + 1, '@') && !strchr(s, ' ');
    }
    if (strcmp(format, "uri") == 0) {
        size_t n = strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+-.");
        return n > 0 && s[n] == ':' && s[n + 1] && !strchr(s, ' ');
    }
    if (strcmp(format, "date") == 0) {
        int y, m, d;
        char tail;
        return strlen(s) == 10 && sscanf(s, "%4d-%2d-%2d%c", &y, &m, &d, &tail) == 3 && m >= 1 &&
               m <= 12 && d >= 1 && d <= 31;
    }
    return 1;
}

cJSON *elicit_form_content(struct elicit_form *f)
{
    free(f->error);
    f->error = NULL;
    cJSON *c = cJSON_CreateObject();
    for (size_t i = 0; i < f->n; i++) {
        struct efield *fl = &f->f[i];
        const char *s = fl->text.text.data ? fl->text.text.data : "";
        switch (fl->type) {
        case EF_STRING:
            if (!*s && fl->required) {
                f->error = xasprintf("%s is required", fl->label);
            } else if (*s && fl->format && !format_ok(fl->format, s)) {
                f->error = xasprintf("%s: '%s' is not a valid %s", fl->label, s, fl->format);
            } else {
                if (*s)
                    cJSON_AddStringToObject(c, fl->name, s);
                break;
            }
            f->focus = (int)i;
            cJSON_Delete(c);
            return NULL;
        case EF_NUMBER:
        case EF_INTEGER: {
            if (!*s)
                break;
            char *end = NULL;
            errno = 0;
            double v = fl->type == EF_INTEGER ? (double)strtoll(s, &end, 10) : strtod(s, &end);
            if (end == s || *end || errno || !isfinite(v)) {
                f->error = xasprintf("%s: '%s' is not %s", fl->label, s,
                                     fl->type == EF_INTEGER ? "an integer" : "a number");
                f->focus = (int)i;
                cJSON_Delete(c);
                return NULL;
            }
            cJSON_AddNumberToObject(c, fl->name, v);
            break;
        }
        case EF_BOOLEAN:
            cJSON_AddBoolToObject(c, fl->name, fl->on);
            break;
        case EF_ENUM:
            if (fl->opt >= 0)
                cJSON_AddStringToObject(c, fl->name, fl->values[fl->opt]);
            break;
        case EF_OTHER:
            break;                     /* the engine fills the default in */
        }
    }
    char *err = NULL;
    if (jsonschema_validate(f->schema, c, "content", &err) < 0) {
        f->error = err;
        /* the focus goes to the field the error names, when it names one */
        for (size_t i = 0; err && i < f->n; i++) {
            size_t k = strlen(f->f[i].name);
            const char *at = strstr(err, f->f[i].name);
            if (at && (at[k] == ':' || at[k] == '\'' || at[k] == ' ' || at[k] == '.' ||
                       at[k] == '[')) {
                f->focus = (int)i;
                break;
            }
        }
        cJSON_Delete(c);
        return NULL;
    }
    return c;
}

enum elicit_action elicit_key(struct elicit_form *f, int key)
{
    if (key == 27)
        return ELICIT_DECLINE;
    if (key == ui_ctrl('c'))
        return ELICIT_CANCEL;
    if (key == '\r' || key == '\n' || key == UK_ENTER || key == ui_ctrl('s'))
        return ELICIT_ACCEPT;
    if (!f->n)
        return ELICIT_NONE;
    if (key == '\t' || key == UK_DOWN) {
        f->focus = (f->focus + 1) % (int)f->n;
        return ELICIT_NONE;
    }
    if (key == UK_BTAB || key == UK_UP) {
        f->focus = (f->focus + (int)f->n - 1) % (int)f->n;
        return ELICIT_NONE;
    }
    struct efield *fl = &f->f[f->focus];
    switch (fl->type) {
    case EF_BOOLEAN:
        if (key == ' ' || key == UK_LEFT || key == UK_RIGHT)
            fl->on = !fl->on;
        else if (key == 'y' || key == 't')
            fl->on = 1;
        else if (key == 'n' || key == 'f')
            fl->on = 0;
        break;
    case EF_ENUM: {
        /* optional enums have "none" (-1) in the cycle */
        int lo = fl->required ? 0 : -1, span = (int)fl->nopt - lo;
        if (key == ' ' || key == UK_RIGHT)
            fl->opt = lo + (fl->opt - lo + 1) % span;
        else if (key == UK_LEFT)
            fl->opt = lo + (fl->opt - lo + span - 1) % span;
        break;
    }
    case EF_OTHER:
        break;
    default:
        if (key == UK_BACKSPACE || key == 127 || key == 8) {
            if (!fl->text.text.len)
                break;                 /* prompt_key would call it a cancel */
        }
        prompt_key(&fl->text, key);
        break;
    }
    return ELICIT_NONE;
}

/* The value as shown. */
static void field_value(const struct efield *fl, struct buf *b)
{
    switch (fl->type) {
    case EF_BOOLEAN:
        buf_puts(b, fl->on ? "[x] yes" : "[ ] no");
        break;
    case EF_ENUM:
        buf_printf(b, "< %s >", fl->opt >= 0 ? fl->labels[fl->opt] : "(none)");
        break;
    default:
        buf_puts(b, fl->text.text.data ? fl->text.text.data : "");
        break;
    }
}

void elicit_draw(WINDOW *w, const struct theme *th, struct elicit_form *f, size_t queued)
{
    if (!w)
        return;
    int h = getmaxy(w), width = getmaxx(w), inner = width - 4;
    werase(w);
    char *title = f->job ? xasprintf("%s asks (job %lld)%s", f->server, (long long)f->job,
                                     queued > 1 ? " +more" : "")
                         : xasprintf("%s asks%s", f->server, queued > 1 ? " +more" : "");
    draw_frame(w, title, 1, th);
    free(title);
    /* the message: up to two lines */
    const char *s = f->message;
    size_t n = strlen(s);
    for (int row = 1; row <= 2 && n; row++) {
        size_t k = draw_fit(s, n, inner, NULL);
        if (!k)
            k = 1;
        wmove(w, row, 2);
        draw_nstr(w, s, k, inner);
        s += k;
        n -= k;
        if (n && *s == '\n') {
            s++;
            n--;
        }
    }
    int labw = 0;
    for (size_t i = 0; i < f->n; i++) {
        int lw = draw_width(f->f[i].label, strlen(f->f[i].label)) + 2;
        if (lw > labw)
            labw = lw;
    }
    if (labw > inner / 2)
        labw = inner / 2;
    int first = 4, visible = h - 4 - first;   /* rows h-4..h-2: help, error, keys */
    if (visible < 1)
        visible = 1;
    if (f->focus < f->top)
        f->top = f->focus;
    if (f->focus >= f->top + visible)
        f->top = f->focus - visible + 1;
    int cury = -1, curx = 0;
    for (int r = 0; r < visible && (size_t)(f->top + r) < f->n; r++) {
        struct efield *fl = &f->f[f->top + r];
        int focused = f->top + r == f->focus;
        wmove(w, first + r, 2);
        wattrset(w, focused ? th->attr[THEME_TITLE] : A_NORMAL);
        char *lab = xasprintf("%s%s", fl->label, fl->required ? "*" : "");
        draw_cell(w, lab, labw);
        free(lab);
        wattrset(w, fl->type == EF_OTHER ? th->attr[THEME_DIM]
                    : focused            ? th->attr[THEME_SELECTED]
                                         : A_UNDERLINE);
        struct buf b;
        buf_init(&b);
        field_value(fl, &b);
        int room = inner - labw - 1;
        const char *v = b.data ? b.data : "";
        size_t len = strlen(v), from = 0;
        if (fl->type <= EF_INTEGER)    /* typed: the end in view */
            while (from < len && draw_width(v + from, len - from) > room)
                from++;
        while (from < len && ((unsigned char)v[from] & 0xc0) == 0x80)
            from++;
        int used = draw_str(w, v + from, room);
        if (focused && fl->type <= EF_INTEGER) {
            cury = first + r;
            curx = getcurx(w);
        }
        for (; used <= room && getcurx(w) < 2 + inner; used++)
            waddch(w, ' ');
        buf_fini(&b);
        wattrset(w, A_NORMAL);
    }
    if (f->n == 0) {
        wmove(w, first, 2);
        wattrset(w, th->attr[THEME_DIM]);
        draw_str(w, "(no fields: Enter accepts)", inner);
    }
    const struct efield *cur = f->n ? &f->f[f->focus] : NULL;
    wmove(w, h - 4, 2);
    wattrset(w, th->attr[THEME_DIM]);
    if (cur && cur->desc)
        draw_str(w, cur->desc, inner);
    if (f->error) {
        wmove(w, h - 3, 2);
        wattrset(w, th->attr[THEME_ERROR]);
        draw_str(w, f->error, inner);
    }
    wmove(w, h - 2, 2);
    wattrset(w, th->attr[THEME_DIM]);
    draw_str(w, "Enter accept  Esc decline  ^C cancel  Tab field  Space/Left/Right choose  "
                "* required",
             inner);
    wattrset(w, A_NORMAL);
    if (cury >= 0)
        wmove(w, cury, curx);
    wnoutrefresh(w);
}

WINDOW *elicit_layout(WINDOW *old, const struct elicit_form *f, int rows, int cols)
{
    if (old)
        delwin(old);
    int w = cols - 4 < 90 ? cols - 4 : 90;
    /* frame and message (rows 0-3), the fields, help, error, keys, frame */
    int h = 4 + (int)(f && f->n ? f->n : 1) + 4;
    if (h > rows - 2)
        h = rows - 2;
    if (w < 30 || h < 9)   /* 9: room for one field */
        return NULL;
    return newwin(h, w, (rows - h) / 2, (cols - w) / 2);
}
