/* cmd.c — keys and commands. Every action of the TUI is a command string
 * ("retry", "priority +1", "theme light"); the key table binds keys to
 * command strings, the : prompt runs them typed, and the help (?) is
 * generated from both tables, so a key, its command and its description
 * are written once. Commands act on the selection (the selected job, the
 * selected server) unless given an argument. */
#include "ui.h"
#include "engine.h"
#include "loop.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* === the commands === */

static const char *skip_blanks(const char *s)
{
    while (s && *s == ' ')
        s++;
    return s && *s ? s : NULL;
}

static int cmd_help_open(struct tui *t, const char *arg)
{
    (void)arg;
    struct buf b;
    buf_init(&b);
    cmd_help(&b);
    overlay_open(t, "Help", &b);
    return 0;
}

static int cmd_prompt(struct tui *t, const char *arg)
{
    tui_prompt_open(t, PROMPT_COMMAND, arg);
    return 0;
}

static const char *const pane_names[PANE_COUNT] = {"tasks", "results", "registry", "metrics"};

static int cmd_focus(struct tui *t, const char *arg)
{
    arg = skip_blanks(arg);
    if (!arg || strcmp(arg, "next") == 0) {
        tui_focus(t, (t->focus + 1) % PANE_COUNT);
        return 0;
    }
    if (strcmp(arg, "prev") == 0) {
        tui_focus(t, (t->focus + PANE_COUNT - 1) % PANE_COUNT);
        return 0;
    }
    for (int i = 0; i < PANE_COUNT; i++)
        if (strcmp(arg, pane_names[i]) == 0 || (arg[0] == '1' + i && !arg[1])) {
            tui_focus(t, i);
            return 0;
        }
    tui_message(t, 1, "focus: no pane '%s' (1-4, tasks, results, registry, metrics, next, prev)",
                arg);
    return -1;
}

static int cmd_zoom(struct tui *t, const char *arg)
{
    (void)arg;
    tui_zoom(t);
    return 0;
}

static int cmd_new(struct tui *t, const char *arg)
{
    (void)arg;
    tui_form_open(t);
    return 0;
}

static int cmd_quit(struct tui *t, const char *arg)
{
    (void)arg;
    loop_stop(t->loop);
    return 0;
}

static int cmd_redraw(struct tui *t, const char *arg)
{
    (void)arg;
    clearok(curscr, TRUE);
    t->full = 1;
    tui_dirty_all(t);
    return 0;
}

/* The job an argument names, or the selected one; 0 (message set) if none. */
static int64_t job_arg(struct tui *t, const char *arg)
{
    arg = skip_blanks(arg);
    if (arg) {
        char *end;
        long long v = strtoll(arg[0] == '#' ? arg + 1 : arg, &end, 10);
        if (v > 0 && (!*end || *end == ' '))
            return v;
        tui_message(t, 1, "'%s' is not a job id", arg);
        return 0;
    }
    if (!t->sel_job)
        tui_message(t, 1, "no task selected");
    return t->sel_job;
}

static int cmd_cancel(struct tui *t, const char *arg)
{
    int64_t id = job_arg(t, arg);
    if (!id)
        return -1;
    char *err = NULL;
    if (engine_cancel(t->e, id, &err) < 0) {
        tui_message(t, 1, "%s", err ? err : "cannot cancel");
        free(err);
        return -1;
    }
    tui_message(t, 0, "cancelled job %lld", (long long)id);
    return 0;
}

static int cmd_theme(struct tui *t, const char *arg)
{
    arg = skip_blanks(arg);
    if (!arg) {
        tui_message(t, 0, "theme %s (dark, light, high-contrast, mono)",
                    t->theme_name ? t->theme_name : "dark");
        return 0;
    }
    return tui_set_theme(t, arg);
}

/* Registry commands: on the server named, or the selected one. */
static int server_cmd(struct tui *t, const char *arg, const char *verb,
                      int (*run)(struct tui *t, const char *name, char **err),
                      const char *done, const char *note)
{
    const char *name = skip_blanks(arg);
    if (!name)
        name = registry_selected(t);
    if (!name) {
        tui_message(t, 1, "%s: no server selected", verb);
        return -1;
    }
    char *copy = xstrdup(name);        /* the command may change the list */
    char *err = NULL;
    int rc = run(t, copy, &err);
    if (rc < 0)
        tui_message(t, 1, "%s", err ? err : "the server did not accept the command");
    else
        tui_message(t, 0, "%s %s%s", done, copy, note);
    free(err);
    free(copy);
    tui_dirty(t, PANE_REGISTRY);
    return rc;
}

static int do_restart(struct tui *t, const char *n, char **err)
{
    return engine_server_restart(t->e, n, err);
}
static int do_enable(struct tui *t, const char *n, char **err)
{
    return engine_server_enable(t->e, n, 1, err);
}
static int do_disable(struct tui *t, const char *n, char **err)
{
    return engine_server_enable(t->e, n, 0, err);
}
static int do_check(struct tui *t, const char *n, char **err)
{
    return engine_check_server(t->e, n, err);
}

static int cmd_restart(struct tui *t, const char *a)
{
    return server_cmd(t, a, "restart", do_restart, "restarting", "");
}
static int cmd_enable(struct tui *t, const char *a)
{
    return server_cmd(t, a, "enable", do_enable, "enabled", "");
}
static int cmd_disable(struct tui *t, const char *a)
{
    return server_cmd(t, a, "disable", do_disable, "disabled",
                      " (kept across restarts; e enables)");
}
static int cmd_check(struct tui *t, const char *a)
{
    return server_cmd(t, a, "check", do_check, "checking", " now");
}

const struct ui_command ui_commands[] = {
    {"help", NULL, "this help", cmd_help_open, CMPL_NONE},
    {"prompt", "[TEXT]", "the command prompt", cmd_prompt, CMPL_NONE},
    {"focus", "next|prev|1-4|PANE", "move the focus", cmd_focus, CMPL_NONE},
    {"zoom", NULL, "the focused pane fills the screen (again: back)", cmd_zoom, CMPL_NONE},
    {"new", NULL, "the new-task form", cmd_new, CMPL_NONE},
    {"cancel", "[ID]", "cancel the selected (or given) job", cmd_cancel, CMPL_NONE},
    {"retry", "[ID]", "run a failed, cancelled or skipped job again", tasks_cmd_retry, CMPL_NONE},
    {"priority", "+N|-N|N", "change a queued job's priority", tasks_cmd_priority, CMPL_NONE},
    {"details", "[ID]", "a job's route, attempts and events", tasks_cmd_details, CMPL_NONE},
    {"filter", "[STATUS...] [TEXT]", "show only these jobs (nothing: all)", tasks_cmd_filter,
     CMPL_STATUS},
    {"sort", "FIELD [asc|desc]|next", "order jobs by id, status, priority, target, elapsed",
     tasks_cmd_sort, CMPL_SORT},
    {"save", "[PATH]", "save the result to a file", results_cmd_save, CMPL_NONE},
    {"apply", "[yes]", "apply the unified diff in the result to the work tree (asks first)",
     results_cmd_apply, CMPL_NONE},
    {"pager", NULL, "show the result in $PAGER", results_cmd_pager, CMPL_NONE},
    {"editor", NULL, "open the result in $EDITOR", results_cmd_editor, CMPL_NONE},
    {"restart", "[SERVER]", "restart a server", cmd_restart, CMPL_SERVER},
    {"enable", "[SERVER]", "enable a server", cmd_enable, CMPL_SERVER},
    {"disable", "[SERVER]", "disable a server (kept across restarts)", cmd_disable,
     CMPL_SERVER},
    {"check", "[SERVER]", "health-check a server now", cmd_check, CMPL_SERVER},
    {"tools", "[SERVER]", "a server's tools and their input schemas", registry_cmd_tools,
     CMPL_SERVER},
    {"log", "[SERVER]", "a server's stderr/log lines", registry_cmd_log, CMPL_SERVER},
    {"memory", NULL, "search, add and delete memory entries", tui_cmd_memory, CMPL_NONE},
    {"theme", "NAME", "switch the colour theme", cmd_theme, CMPL_THEME},
    {"redraw", NULL, "repaint the screen", cmd_redraw, CMPL_NONE},
    {"quit", NULL, "leave mcpdeck", cmd_quit, CMPL_NONE},
};
const size_t ui_ncommands = ARRAY_LEN(ui_commands);

/* === the keys === */

const struct ui_binding ui_bindings[] = {
    {'?', -1, "help", "help: keys and commands"},
    {':', -1, "prompt", "command prompt (Tab completes)"},
    {'\t', -1, "focus next", "next pane"},
    {UK_BTAB, -1, "focus prev", "previous pane"},
    {'1', -1, "focus tasks", "Tasks"},
    {'2', -1, "focus results", "Results"},
    {'3', -1, "focus registry", "Registry"},
    {'4', -1, "focus metrics", "Metrics"},
    {'z', -1, "zoom", "zoom the focused pane"},
    {'n', -1, "new", "new task"},
    {'m', -1, "memory", "the memory: search, add, delete"},
    {'c', -1, "cancel", "cancel the selected job"},
    {'q', -1, "quit", "quit"},
    {0x0c, -1, "redraw", "repaint the screen"},
    {'\r', PANE_TASKS, "details", "job details: route, attempts, events"},
    {'r', PANE_TASKS, "retry", "retry the selected job"},
    {'+', PANE_TASKS, "priority +1", "raise its priority"},
    {'-', PANE_TASKS, "priority -1", "lower its priority"},
    {'/', PANE_TASKS, "filter", "filter by status and text"},
    {'s', PANE_TASKS, "sort next", "next sort order"},
    {'s', PANE_RESULTS, "save", "save the result to a file"},
    {'a', PANE_RESULTS, "apply", "apply its diff to the work tree (asks)"},
    {'o', PANE_RESULTS, "pager", "open it in $PAGER"},
    {'e', PANE_RESULTS, "editor", "open it in $EDITOR"},
    {'\r', PANE_REGISTRY, "tools", "the server's tools and schemas"},
    {'l', PANE_REGISTRY, "log", "the server's log"},
    {'R', PANE_REGISTRY, "restart", "restart the server"},
    {'d', PANE_REGISTRY, "disable", "disable it"},
    {'e', PANE_REGISTRY, "enable", "enable it"},
    {'h', PANE_REGISTRY, "check", "check it now"},
};
const size_t ui_nbindings = ARRAY_LEN(ui_bindings);

/* === bindings from the config (keys:) === */

struct user_binding {
    int key;
    char *command;
};
static struct user_binding *user_keys;
static size_t nuser_keys;

int cmd_key_parse(const char *name)
{
    static const struct {
        const char *name;
        int key;
    } named[] = {
        {"Enter", '\r'}, {"Tab", '\t'}, {"S-Tab", UK_BTAB}, {"Esc", 27}, {"Space", ' '},
        {"Backspace", UK_BACKSPACE}, {"Delete", UK_DC}, {"Up", UK_UP}, {"Down", UK_DOWN},
        {"Left", UK_LEFT}, {"Right", UK_RIGHT}, {"Home", UK_HOME}, {"End", UK_END},
        {"PgUp", UK_PPAGE}, {"PgDn", UK_NPAGE},
    };
    for (size_t i = 0; i < ARRAY_LEN(named); i++)
        if (strcmp(named[i].name, name) == 0)
            return named[i].key;
    size_t n = strlen(name);
    if (n == 2 && name[0] == '^' && ((name[1] >= 'A' && name[1] <= 'Z') ||
                                     (name[1] >= 'a' && name[1] <= 'z')))
        return name[1] & 0x1f;
    if (name[0] == 'F' && n >= 2 && n <= 3) {
        char *end;
        long k = strtol(name + 1, &end, 10);
        if (!*end && k >= 1 && k <= 12)
            return -KEY_F((int)k);
    }
    /* one UTF-8 character */
    const unsigned char *u = (const unsigned char *)name;
    unsigned c = u[0];
    size_t len = c < 0x80 ? 1 : c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 0;
    if (!len || len != n || (c < 0x80 && (c <= ' ' || c == 127)))
        return 0;
    if (len > 1) {
        c &= 0xff >> (len + 1);
        for (size_t i = 1; i < len; i++) {
            if ((u[i] & 0xc0) != 0x80)
                return 0;
            c = (c << 6) | (u[i] & 0x3f);
        }
    }
    return (int)c;
}

static const struct ui_command *find_command(const char *name, size_t n);

/* The command a line starts with: exact, else a unique prefix; NULL. */
static const struct ui_command *line_command(const char *line)
{
    while (*line == ' ' || *line == ':')
        line++;
    size_t n = strcspn(line, " ");
    if (!n)
        return NULL;
    const struct ui_command *c = find_command(line, n);
    if (c)
        return c;
    size_t hits = 0;
    for (size_t i = 0; i < ui_ncommands; i++)
        if (strncmp(ui_commands[i].name, line, n) == 0) {
            c = &ui_commands[i];
            hits++;
        }
    return hits == 1 ? c : NULL;
}

int cmd_bind(const char *key_name, const char *command, char **errmsg)
{
    int key = cmd_key_parse(key_name);
    if (!key) {
        *errmsg = xasprintf("'%s' is not a key name", key_name);
        return -1;
    }
    if (!line_command(command)) {
        const char *w = command;
        while (*w == ' ' || *w == ':')
            w++;
        *errmsg = xasprintf("key '%s': unknown command '%.*s' (the : prompt lists them with Tab)",
                            key_name, (int)strcspn(w, " "), w);
        return -1;
    }
    for (size_t i = 0; i < nuser_keys; i++)
        if (user_keys[i].key == key) {
            free(user_keys[i].command);
            user_keys[i].command = xstrdup(command);
            return 0;
        }
    user_keys = xrealloc(user_keys, (nuser_keys + 1) * sizeof *user_keys);
    user_keys[nuser_keys].key = key;
    user_keys[nuser_keys].command = xstrdup(command);
    nuser_keys++;
    return 0;
}

void cmd_unbind_all(void)
{
    for (size_t i = 0; i < nuser_keys; i++)
        free(user_keys[i].command);
    free(user_keys);
    user_keys = NULL;
    nuser_keys = 0;
}

const char *cmd_for_key(int key, int pane)
{
    if (key == '\n' || key == UK_ENTER)
        key = '\r';
    for (size_t i = 0; i < nuser_keys; i++)
        if (user_keys[i].key == key)
            return user_keys[i].command;
    for (size_t i = 0; i < ui_nbindings; i++)
        if (ui_bindings[i].key == key && ui_bindings[i].pane == pane)
            return ui_bindings[i].command;
    for (size_t i = 0; i < ui_nbindings; i++)
        if (ui_bindings[i].key == key && ui_bindings[i].pane < 0)
            return ui_bindings[i].command;
    return NULL;
}

static const struct ui_command *find_command(const char *name, size_t n)
{
    for (size_t i = 0; i < ui_ncommands; i++)
        if (strlen(ui_commands[i].name) == n && memcmp(ui_commands[i].name, name, n) == 0)
            return &ui_commands[i];
    return NULL;
}

int cmd_run(struct tui *t, const char *line)
{
    while (*line == ' ' || *line == ':')
        line++;
    size_t n = strcspn(line, " ");
    if (!n)
        return 0;
    const struct ui_command *c = find_command(line, n);
    if (!c) {
        /* a unique prefix will do ("pri +1") */
        size_t hits = 0;
        for (size_t i = 0; i < ui_ncommands; i++)
            if (strncmp(ui_commands[i].name, line, n) == 0) {
                c = &ui_commands[i];
                hits++;
            }
        if (hits != 1) {
            tui_message(t, 1, "%s command '%.*s' (? lists them)",
                        hits ? "ambiguous" : "unknown", (int)n, line);
            return -1;
        }
    }
    const char *arg = line + n;
    while (*arg == ' ')
        arg++;
    /* trailing blanks (left by completion) are not part of the argument */
    char *copy = xstrdup(arg);
    size_t len = strlen(copy);
    while (len && copy[len - 1] == ' ')
        copy[--len] = 0;
    int rc = c->run(t, *copy ? copy : NULL);
    free(copy);
    return rc;
}

/* === completion === */

size_t cmd_complete_word(const char *line, const char *const *names, size_t n, char **out)
{
    const char *word = strrchr(line, ' ');
    word = word ? word + 1 : line;
    size_t wl = strlen(word), hits = 0, common = 0;
    const char *first = NULL;
    for (size_t i = 0; i < n; i++) {
        if (strncmp(names[i], word, wl) != 0)
            continue;
        if (!first) {
            first = names[i];
            common = strlen(first);
        } else {
            size_t k = 0;
            while (k < common && names[i][k] == first[k])
                k++;
            common = k;
        }
        hits++;
    }
    struct buf b;
    buf_init(&b);
    buf_append(&b, line, (size_t)(word - line));
    if (first) {
        buf_append(&b, first, common);
        if (hits == 1)
            buf_putc(&b, ' ');
    } else {
        buf_puts(&b, word);
    }
    *out = buf_detach(&b);
    return hits;
}

/* The words the command's argument completes over (malloc'd array of
 * borrowed or static strings; *owned set when the strings are malloc'd). */
static const char **arg_names(struct tui *t, int kind, size_t *n)
{
    static const char *const statuses[] = {"queued", "running", "succeeded", "failed",
                                           "cancelled", "skipped"};
    const char **v = NULL;
    *n = 0;
    switch (kind) {
    case CMPL_SERVER: {
        size_t k = engine_servers(t->e, NULL, 0);
        struct engine_server_info *s = xcalloc(k ? k : 1, sizeof *s);
        k = engine_servers(t->e, s, k);
        v = xcalloc(k ? k : 1, sizeof *v);
        for (size_t i = 0; i < k; i++)
            v[i] = s[i].name;          /* valid until the next loop turn */
        free(s);
        *n = k;
        break;
    }
    case CMPL_THEME: {
        const char *const *th = theme_names();
        while (th[*n])
            (*n)++;
        v = xcalloc(*n, sizeof *v);
        memcpy(v, th, *n * sizeof *v);
        break;
    }
    case CMPL_SORT:
        v = xcalloc(ENGINE_SORT_COUNT + 3, sizeof *v);
        for (int i = 0; i < ENGINE_SORT_COUNT; i++)
            v[(*n)++] = engine_job_sort_name((enum engine_job_sort)i);
        v[(*n)++] = "next";
        v[(*n)++] = "asc";
        v[(*n)++] = "desc";
        break;
    case CMPL_STATUS:
        v = xcalloc(ARRAY_LEN(statuses), sizeof *v);
        for (size_t i = 0; i < ARRAY_LEN(statuses); i++)
            v[(*n)++] = statuses[i];
        break;
    }
    return v;
}

/* "a  b  c" of the matches of the last word of line. */
static char *list_matches(const char *line, const char *const *names, size_t n)
{
    const char *word = strrchr(line, ' ');
    word = word ? word + 1 : line;
    struct buf b;
    buf_init(&b);
    for (size_t i = 0; i < n; i++)
        if (strncmp(names[i], word, strlen(word)) == 0) {
            if (b.len)
                buf_puts(&b, "  ");
            buf_puts(&b, names[i]);
        }
    return buf_detach(&b);
}

size_t cmd_complete(struct tui *t, const char *line, char **out, char **hint)
{
    if (hint)
        *hint = NULL;
    const char *sp = strchr(line, ' ');
    const char **names;
    size_t n, hits;
    if (!sp) {
        names = xcalloc(ui_ncommands, sizeof *names);
        for (size_t i = 0; i < ui_ncommands; i++)
            names[i] = ui_commands[i].name;
        n = ui_ncommands;
    } else {
        const struct ui_command *c = find_command(line, (size_t)(sp - line));
        if (!c || c->complete == CMPL_NONE) {
            *out = xstrdup(line);
            return 0;
        }
        names = arg_names(t, c->complete, &n);
    }
    hits = cmd_complete_word(line, names, n, out);
    if (hint && hits > 1)
        *hint = list_matches(line, names, n);
    free(names);
    return hits;
}

/* === help === */

void cmd_key_name(int key, char *out, size_t n)
{
    switch (key) {
    case '\t': snprintf(out, n, "Tab"); return;
    case UK_BTAB: snprintf(out, n, "S-Tab"); return;
    case '\r': case '\n': case UK_ENTER: snprintf(out, n, "Enter"); return;
    case 27: snprintf(out, n, "Esc"); return;
    case ' ': snprintf(out, n, "Space"); return;
    }
    if (key > 0 && key < 32)
        snprintf(out, n, "^%c", key + '@');
    else if (key > 0 && key < 127)
        snprintf(out, n, "%c", key);
    else
        snprintf(out, n, "key%d", key);
}

void cmd_help(struct buf *b)
{
    static const char *const sections[PANE_COUNT + 1] = {"Everywhere", "Tasks", "Results",
                                                         "Registry", "Metrics"};
    buf_puts(b, "# Keys (key, command, what it does)\n");
    if (nuser_keys) {
        buf_puts(b, "\n## From the config (keys:; they come first)\n");
        for (size_t i = 0; i < nuser_keys; i++) {
            char name[16];
            cmd_key_name(user_keys[i].key, name, sizeof name);
            buf_printf(b, "  %-6s %s\n", name, user_keys[i].command);
        }
    }
    for (int pane = -1; pane < PANE_COUNT; pane++) {
        int titled = 0;
        for (size_t i = 0; i < ui_nbindings; i++) {
            const struct ui_binding *k = &ui_bindings[i];
            if (k->pane != pane)
                continue;
            if (!titled) {
                buf_printf(b, "\n## %s\n", sections[pane + 1]);
                titled = 1;
            }
            char name[16];
            cmd_key_name(k->key, name, sizeof name);
            buf_printf(b, "  %-6s %-16s %s\n", name, k->command, k->help);
        }
    }
    buf_puts(b, "\n  Up/Down/PgUp/PgDn/Home/End, j/k/g/G move or scroll the focused pane;"
                " a mouse click focuses a pane and selects a row.\n");
    buf_puts(b, "\n## In the new-task form (n)\n"
                "  Tab/S-Tab next/previous row  ^S submit  Esc cancel  ^T next kind\n"
                "  Up on a fresh form, ^P: an earlier submission  ^O: the next template\n"
                "  Prompt and Args are multi-line: Enter starts a line (in Args: submits once\n"
                "  the JSON is complete), ^J always does; Up/Down by row, leaving the box at\n"
                "  its first/last; Home/End, Backspace/Delete (joining lines), ^U/^K cut to\n"
                "  the line's start/end, ^W the word before.\n"
                "  A paste goes into the focused text field as text; it never runs a key.\n");
    buf_puts(b, "\n# Commands (: then the command; Tab completes)\n\n");
    for (size_t i = 0; i < ui_ncommands; i++) {
        const struct ui_command *c = &ui_commands[i];
        char head[48];
        snprintf(head, sizeof head, "%s%s%s", c->name, c->args ? " " : "", c->args ? c->args : "");
        buf_printf(b, "  %-28s %s\n", head, c->help);
    }
}
