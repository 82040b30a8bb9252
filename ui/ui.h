/* ui.h — what the files of ui/ share: the TUI state, the pane vtable, key
 * codes, theme elements, drawing helpers and the new-task form. Nothing
 * outside ui/ includes this (only ui/ includes curses); the rest of the
 * program sees tui.h. Everything here runs on the loop thread.
 *
 * How it fits: tui.c owns the terminal and the loop glue (stdin watcher,
 * signals, a 1 s tick, a before-sleep redraw hook); engine events only mark
 * panes dirty; the redraw hook draws the dirty panes (pane_*.c, each an
 * htop-style class with draw and key functions) and calls doupdate() once. */
#ifndef MCPDECK_UI_H
#define MCPDECK_UI_H

#ifndef NCURSES_WIDECHAR
#define NCURSES_WIDECHAR 1
#endif
#include <curses.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"

struct engine;
struct loop;
struct job;
struct tui;
struct engine_server_info;
struct engine_approval;
struct engine_stats;
struct metrics;
struct cJSON;

/* === keys ===
 * A key is an int: a character (its code point, > 0) or a function key as
 * the negated curses KEY_ code, so the two ranges never collide. */
enum { UI_KEY_PASTE_BEGIN = 0x6f00, UI_KEY_PASTE_END = 0x6f01 };   /* past curses' own */
enum ui_key {
    UK_UP = -KEY_UP,
    UK_DOWN = -KEY_DOWN,
    UK_LEFT = -KEY_LEFT,
    UK_RIGHT = -KEY_RIGHT,
    UK_PPAGE = -KEY_PPAGE,
    UK_NPAGE = -KEY_NPAGE,
    UK_HOME = -KEY_HOME,
    UK_END = -KEY_END,
    UK_BTAB = -KEY_BTAB,
    UK_ENTER = -KEY_ENTER,
    UK_BACKSPACE = -KEY_BACKSPACE,
    UK_DC = -KEY_DC,
    UK_RESIZE = -KEY_RESIZE,
    /* the brackets of a bracketed paste (tui.c defines them with
     * define_key): what comes between them is text, never keys */
    UK_PASTE_BEGIN = -UI_KEY_PASTE_BEGIN,
    UK_PASTE_END = -UI_KEY_PASTE_END,
};

static inline int ui_ctrl(int c)
{
    return c & 0x1f;
}

/* === theme (theme.c) === */

enum theme_el {
    THEME_TITLE,
    THEME_TITLE_FOCUS,
    THEME_BORDER,
    THEME_STATUS_OK,
    THEME_STATUS_FAIL,
    THEME_STATUS_RUN,
    THEME_DIM,
    THEME_ERROR,
    THEME_SELECTED,
    THEME_STATUSBAR,
    THEME_HEALTH_OK,             /* a server's health and breaker */
    THEME_HEALTH_WARN,
    THEME_HEALTH_BAD,
    THEME_DIFF_ADD,              /* results: "+" lines of a unified diff */
    THEME_DIFF_DEL,              /* "-" lines */
    THEME_DIFF_HUNK,             /* "@@" lines and file headers */
    THEME_HEADING,               /* markdown headings */
    THEME_CODE,                  /* markdown code fences and their lines */
    THEME_SPARK,                 /* metrics sparklines */
    THEME_COUNT
};

struct theme_style {
    short fg, bg;                /* colour numbers; -1 = the terminal's default */
    attr_t attrs;                /* A_BOLD, A_REVERSE, ... */
};

struct theme {
    struct theme_style style[THEME_COUNT];
    attr_t attr[THEME_COUNT];    /* what drawing uses: attrs | COLOR_PAIR */
    int color;                   /* colour pairs are in use */
};

/* "title", "title_focus", ... (the YAML keys); NULL when out of range. */
const char *theme_el_name(int el);
/* The built-in attribute-only styles (used when a theme fails to load). */
void theme_defaults(struct theme *t);
/* Parse a theme document (YAML: an `elements:` map from element name to
 * {fg, bg, attrs}) over the current styles; elements it does not name keep
 * theirs. Colours are names (default, black, red, ..., bright_white) or
 * numbers 0-255. Does not touch the terminal. Returns 0, or -1 and *errmsg
 * ("name:line:col: what was wrong"); t is left unchanged on error. */
int theme_parse(struct theme *t, const char *name, const char *text, size_t len,
                char **errmsg);
/* Choose and load a theme once curses runs: themes/mono.yaml when NO_COLOR
 * is set (non-empty) or the terminal has no colours, else themes/NAME.yaml
 * (name NULL: dark), from the embedded files; sets up colour pairs (colours
 * beyond the terminal's fall back to the 8 basic ones). On a broken or
 * unknown theme the defaults stay, and -1 is returned with *errmsg for the
 * status bar. */
int theme_setup(struct theme *t, const char *name, char **errmsg);
/* The names of the compiled-in themes ("dark", "light", ...), NULL-ended;
 * static storage. */
const char *const *theme_names(void);
/* Whether colours are off by the environment (NO_COLOR non-empty). */
int theme_no_color(void);

/* === drawing helpers (draw.c) === */

/* Glyphs: UTF-8 when the locale's codeset is UTF-8, else ASCII. */
enum ui_glyph {
    GLYPH_SRV_READY,
    GLYPH_SRV_STARTING,
    GLYPH_SRV_FAILED,
    GLYPH_SRV_STOPPED,
    GLYPH_JOB_QUEUED,
    GLYPH_JOB_RUNNING,
    GLYPH_JOB_SUCCEEDED,
    GLYPH_JOB_FAILED,
    GLYPH_JOB_CANCELLED,
    GLYPH_COUNT
};
const char *draw_glyph(int utf8, enum ui_glyph g);

/* Display columns of the first n bytes of UTF-8 s as draw_nstr shows them
 * (invalid bytes and control characters count as one '?'). */
int draw_width(const char *s, size_t n);
/* How many bytes of s (n bytes, stopping at '\n') fit in maxcols columns;
 * *cols (may be NULL) gets their width. Never splits a character. */
size_t draw_fit(const char *s, size_t n, int maxcols, int *cols);
/* Write s at the cursor, at most maxcols columns and never past the
 * window's right edge; control characters and invalid UTF-8 show as '?'.
 * Returns the columns written. */
int draw_nstr(WINDOW *w, const char *s, size_t n, int maxcols);
int draw_str(WINDOW *w, const char *s, int maxcols);
/* draw_str, then spaces up to exactly width columns (clipped to the edge). */
int draw_cell(WINDOW *w, const char *s, int width);
int draw_printf(WINDOW *w, int maxcols, const char *fmt, ...) PRINTF_LIKE(3, 4);
/* Columns left on the cursor's line. */
int draw_room(WINDOW *w);
/* Fill the cursor's line from the cursor to the edge with spaces in attr. */
void draw_fill_line(WINDOW *w, attr_t attr);
/* A box around w with " title " at the top left, in the focus style when
 * focused. */
void draw_frame(WINDOW *w, const char *title, int focused, const struct theme *th);
/* Boxes in ASCII (+-|) from now on, or the terminal's line drawing (the
 * default). Curses is one per process, so this is too. */
void draw_set_ascii(int on);
/* A plain box (ASCII after draw_set_ascii(1)). */
void draw_box(WINDOW *w);
/* "0.2s", "12.3s", "3m05s", "2h03m"; "-" for negative. */
void draw_duration(char *out, size_t n, int64_t ms);

/* === panes === */

enum pane_id { PANE_TASKS, PANE_RESULTS, PANE_REGISTRY, PANE_METRICS, PANE_COUNT };

struct pane;

/* A pane kind: draw fills p->body (already erased, cursor at 0,0); key
 * gets keys while the pane has focus and returns 1 if it used the key;
 * hints are its own keys for the status bar (NULL: the Tasks keys). */
struct pane_class {
    const char *title;
    void (*draw)(struct tui *t, struct pane *p);
    int (*key)(struct tui *t, struct pane *p, int key);
    const char *hints;
};

extern const struct pane_class pane_tasks_class;
extern const struct pane_class pane_results_class;
extern const struct pane_class pane_registry_class;
extern const struct pane_class pane_metrics_class;

struct pane {
    const struct pane_class *cls;
    WINDOW *frame;               /* the box and its title; NULL when too small */
    WINDOW *body;                /* derived window inside the border */
    int dirty;
};

/* Scrolling shared by the panes: move *top (first row shown) of total rows
 * with visible on screen for Up/Down/PgUp/PgDn/Home/End (and j/k). Returns 1
 * if the key was one of those. */
int pane_scroll_key(int *top, int total, int visible, int key);
/* Keep *top within [0, total - visible]. */
void pane_scroll_clamp(int *top, int total, int visible);

/* The Tasks list is virtual: only the rows on screen are read from the
 * store (engine_jobs_page), in the order and with the filter of query. */
struct tasks_state {
    struct job *jobs;            /* the rows on screen: rows [top, top + njobs) */
    size_t njobs;
    int64_t total;               /* rows the query selects */
    int top;                     /* index of the first row shown */
    int visible;                 /* job rows that fit */
    int sel;                     /* index of the selected row */
    int sel_known;               /* sel matches sel_job (else found again at the next draw) */
    int total_known;             /* total is current (else counted at the next draw) */
    unsigned status_mask;        /* filter: bits 1u << JOB_x; 0 = all */
    char *text;                  /* filter: substring of the target, or NULL */
    int sort;                    /* enum engine_job_sort */
    int ascending;
};
void pane_tasks_fini(struct tui *t);
/* Parse a filter ("failed running fs.read" : status words and text, any
 * order; "" clears) into *mask and *text (malloc'd or NULL). */
void tasks_filter_parse(const char *s, unsigned *mask, char **text);
/* Select the row at index idx of the list (clamped); 0 if the list is empty. */
int tasks_select_row(struct tui *t, int idx);

struct results_line {
    size_t off, len;             /* bytes of results_state.text */
    enum theme_el el;            /* style, THEME_COUNT = plain */
};

struct results_state {
    int64_t job_id;              /* the job the text is about; 0 = none */
    int stale;                   /* reload from the engine at the next draw */
    char *text;                  /* header and result, tabs expanded */
    struct results_line *lines;  /* text wrapped to width */
    size_t nlines;
    int width;                   /* width lines were wrapped to */
    int top;
    int visible;
    /* logical lines of text before wrapping, with their styles */
    struct results_line *para;
    size_t npara;
    int live;                    /* showing a streamed answer */
    int follow;                  /* keep the end in view as text arrives */
};
void pane_results_fini(struct tui *t);

/* === streamed answers of running model tasks (stream.c) === */

struct ui_stream {
    int64_t job;
    struct buf text;             /* the answer so far (its tail when capped) */
    int restarts;                /* times it started over (a retry or fallback) */
    size_t dropped;              /* bytes cut from the front to stay under the cap */
};

struct streams {
    struct ui_stream *v;
    size_t n, cap;
    size_t limit;                /* most bytes kept per job */
};

enum { STREAM_LIMIT = 1024 * 1024 };

void streams_init(struct streams *s, size_t limit);
void streams_fini(struct streams *s);
/* The job's text, or NULL. The pointer is valid until the next add/drop. */
struct ui_stream *streams_find(struct streams *s, int64_t job);
/* Append the next piece of job's answer (text NUL-terminated), or with
 * text NULL forget what came so far and count a restart. Creates the
 * entry; beyond the limit the oldest bytes go (on a character boundary).
 * Returns the entry (valid until the next add/drop). */
struct ui_stream *streams_add(struct streams *s, int64_t job, const char *text);
/* Forget job's text; 1 if there was one. */
int streams_drop(struct streams *s, int64_t job);

/* Build the Results text for job j (a snapshot with its result loaded),
 * showing st (may be NULL) while j is queued or running. Fills rs->text and
 * rs->para; the wrapped lines are made at the next draw. Returns 1 when
 * the text is a live answer (the pane then follows its end). */
int pane_results_build(struct results_state *rs, const struct job *j,
                       const struct ui_stream *st);
/* Wrap rs's text to width columns (rs->lines). */
void pane_results_wrap(struct results_state *rs, int width);
/* The style of one line of a result: diff lines (when diff is set: the
 * text looks like a unified diff), markdown headings, code fences and the
 * lines between them (*in_fence carries the state); THEME_COUNT = plain. */
enum theme_el results_line_style(const char *s, size_t n, int diff, int *in_fence);
/* Whether text looks like a unified diff (a "@@ " hunk after "--- "/"+++ "
 * headers, or starting "diff --git"). */
int results_is_diff(const char *s, size_t n);
/* Replace rs's text with s (n bytes), each line styled by
 * results_line_style (base for plain lines; THEME_COUNT = none). */
void results_set_text(struct results_state *rs, const char *s, size_t n, enum theme_el base);
/* Draw rs into w (wrapping to w's width when needed; the scroll position
 * kept in range); rs->visible is set to w's height. */
void results_render(WINDOW *w, const struct theme *th, struct results_state *rs);
/* Free rs's text and lines. */
void results_free(struct results_state *rs);
/* The Results text (unwrapped) as shown; NULL when there is none. */
const char *pane_results_text(struct tui *t);

/* === text overlays: help, job details, tools, a server's log (overlay.c) ===
 * One modal, scrollable box over the panes; Esc or q closes it. */
struct overlay {
    char *title;
    struct results_state rs;     /* its text, lines and scrolling */
    WINDOW *win;                 /* NULL when the screen is too small */
};
/* Open (replacing any) with title and the text of b (taken); line styles
 * come from results_line_style. */
void overlay_open(struct tui *t, const char *title, struct buf *b);
void overlay_close(struct tui *t);
void overlay_layout(struct tui *t);
void overlay_draw(struct tui *t);
/* Keys while it is open; returns 1 when it closed. */
int overlay_key(struct tui *t, int key);

/* === the one-line prompt in the status bar (prompt.c) === */
enum prompt_kind { PROMPT_COMMAND, PROMPT_FILTER, PROMPT_SAVE, PROMPT_APPLY };
struct prompt {
    enum prompt_kind kind;
    struct buf text;             /* UTF-8 */
    char *hint;                  /* completions shown after Tab, or NULL */
};
enum prompt_action { PROMPT_NONE, PROMPT_DONE, PROMPT_CANCEL, PROMPT_COMPLETE };
/* Edit: printable characters append, Backspace deletes a character,
 * Ctrl-U clears, Ctrl-W deletes a word, Enter -> DONE, Esc -> CANCEL, Tab ->
 * COMPLETE (the caller completes). */
enum prompt_action prompt_key(struct prompt *p, int key);

/* === the memory overlay (memview.c) ===
 * A search box, the hits of a hybrid search (score, namespace, id, first
 * line), adding and deleting entries; modal like the text overlays. */
struct engine_memory_hit;
struct memview_req;
enum memview_focus { MEMVIEW_BOX, MEMVIEW_LIST, MEMVIEW_ADD, MEMVIEW_ADD_NS, MEMVIEW_CONFIRM };
enum { MEMVIEW_K = 20 };         /* hits asked for */
struct memview {
    struct engine *e;
    enum memview_focus focus;
    struct prompt query;         /* the search box */
    struct prompt input;         /* the text to add */
    struct prompt ns;            /* its namespace (the store's default first) */
    struct engine_memory_hit *hits;
    size_t n;
    int sel, top;
    struct memview_req *pending; /* the search in flight, or NULL */
    char *status;                /* "searching…", "deleted entry 3", errors */
    int status_error;
    char *note;                  /* said again before the next search's count */
    int dirty;                   /* changed since drawn (also by a search ending) */
    WINDOW *win;
};
struct memview *memview_new(struct engine *e);
/* NULL-safe; a search in flight is let go (its answer dropped). */
void memview_free(struct memview *mv);
/* Search for the box's text (hybrid) on the worker pool; the hits replace
 * the list when it answers (mv->dirty set). */
void memview_search(struct memview *mv);
/* A search is in flight. */
int memview_busy(const struct memview *mv);
/* One key (see memview.c); returns 1 when the overlay should close. */
int memview_key(struct memview *mv, int key);
/* The selected hit's whole text, or NULL. */
const char *memview_selected_text(const struct memview *mv);
void memview_layout(struct memview *mv, int rows, int cols);
void memview_draw(struct memview *mv, const struct theme *th);

/* === keys and commands (cmd.c) ===
 * Every action is a command string ("cancel", "priority +1", "zoom");
 * keys are bound to command strings in one table that also gives the help
 * text, and the : prompt runs the same commands. */
struct ui_binding {
    int key;
    int pane;                    /* -1 everywhere, else enum pane_id */
    const char *command;
    const char *help;
};
struct ui_command {
    const char *name;
    const char *args;            /* "[+N|-N]", "SERVER", NULL */
    const char *help;
    int (*run)(struct tui *t, const char *arg);   /* 0 ok, -1 (message set) */
    int complete;                /* what its argument completes: CMPL_x */
};
enum { CMPL_NONE, CMPL_SERVER, CMPL_THEME, CMPL_SORT, CMPL_STATUS };
extern const struct ui_binding ui_bindings[];
extern const size_t ui_nbindings;
extern const struct ui_command ui_commands[];
extern const size_t ui_ncommands;
/* The command bound to key in pane (a pane's own binding first), or NULL. */
const char *cmd_for_key(int key, int pane);
/* Run a command line ("priority +2"); unknown commands set an error
 * message. Returns 0 or -1. */
int cmd_run(struct tui *t, const char *line);
/* Complete the last word of line among names (n of them): *out gets line
 * with that word extended to the longest common prefix of the matches
 * (malloc'd); returns the number of matches. */
size_t cmd_complete_word(const char *line, const char *const *names, size_t n, char **out);
/* Complete a command line (command names, then the command's argument:
 * servers, themes, sort fields). *out malloc'd; *hint (may be NULL)
 * lists the matches when there are several. Returns the match count. */
size_t cmd_complete(struct tui *t, const char *line, char **out, char **hint);
/* The help text: every binding (key, command, what it does) by pane, then
 * every command, into b. */
void cmd_help(struct buf *b);
/* A key's name for help ("Tab", "S-Tab", "Enter", "^L", "x"). */
void cmd_key_name(int key, char *out, size_t n);
/* The key a config key name stands for ("x", "^X", "F5", "Enter", "Tab",
 * "S-Tab", "Esc", "Space", "Up", "PgDn", ...); 0 if none. */
int cmd_key_parse(const char *name);
/* Bind a key (by name) to a command string, ahead of the built-in table
 * in every pane (a later binding of the same key replaces it). -1 and
 * *errmsg when the name is not a key or the command is unknown. */
int cmd_bind(const char *key_name, const char *command, char **errmsg);
/* Forget the bindings cmd_bind made. */
void cmd_unbind_all(void);

/* === sparklines (spark.c) === */
enum { SPARK_N = 120 };            /* samples kept: two minutes at one a second */
struct spark {
    double v[SPARK_N];
    size_t n, head;              /* samples held, next slot */
};
void spark_push(struct spark *s, double v);
/* The last width samples as a sparkline (UTF-8 blocks, or " .:-=+*#" when
 * ascii), scaled to their maximum; older samples off the left, padding
 * on the left when fewer. Writes a NUL-terminated string into out (n
 * bytes; up to 3 bytes a column). Returns the columns written. */
int spark_render(const struct spark *s, int width, int utf8, char *out, size_t n);
/* The newest sample (0 when none) and the maximum of the last width. */
double spark_last(const struct spark *s);
double spark_max(const struct spark *s, int width);

/* === approvals of destructive tool calls (approve.c) === */

struct approval_item {
    struct engine_approval *q;   /* the engine's question (answer it once) */
    int64_t job;
    char *what;                  /* "server.tool {args}" (owned) */
};

struct approvals {
    struct approval_item *v;     /* oldest first; v[0] is on screen */
    size_t n, cap;
    WINDOW *win;                 /* the modal box, NULL when it does not fit */
};

/* "server.tool {compact args}", args cut to a few hundred bytes with an
 * ellipsis; malloc'd. args may be NULL. */
char *approve_describe(const char *server, const char *tool, const struct cJSON *args);
/* Queue a question (what is taken). */
void approvals_push(struct approvals *a, struct engine_approval *q, int64_t job, char *what);
/* Take the oldest question into *out (the caller answers it and frees
 * out->what); 0 when none. */
int approvals_pop(struct approvals *a, struct approval_item *out);
/* Forget job's questions without answering them (the job ended and the
 * engine freed them). Returns how many. */
size_t approvals_drop_job(struct approvals *a, int64_t job);
/* Free the queue and the window (questions left are not answered). */
void approvals_fini(struct approvals *a);
/* (Re)create the modal window centred on a rows x cols screen. */
void approvals_layout(struct approvals *a, int rows, int cols);
/* Draw the oldest question into w (nothing when none) and wnoutrefresh. */
void approvals_render(WINDOW *w, const struct theme *th, const struct approvals *a);

/* === servers' elicitation requests as forms (elicit.c) === */

struct engine_elicit;
struct elicit_form;
enum elicit_action { ELICIT_NONE, ELICIT_ACCEPT, ELICIT_DECLINE, ELICIT_CANCEL };
/* A form for one request: a row per property of schema (copied; server,
 * message copied too); jobs: the jobs running on the server (one: it is
 * named in the title). */
struct elicit_form *elicit_form_new(struct engine_elicit *req, const char *server,
                                    const int64_t *jobs, size_t njobs, const char *message,
                                    const struct cJSON *schema);
void elicit_form_free(struct elicit_form *f);  /* NULL-safe; does not answer */
struct engine_elicit *elicit_form_req(const struct elicit_form *f);
/* Enter (or Ctrl-S) -> ACCEPT, Esc -> DECLINE, Ctrl-C -> CANCEL; Tab/Up/Down
 * move; Space/Left/Right change a boolean or an enum; other keys edit the
 * focused text field. */
enum elicit_action elicit_key(struct elicit_form *f, int key);
/* The answer's content: typed values converted (numbers, integers), empty
 * optional fields left out, validated against the schema. NULL when
 * invalid: the error (elicit_form_error) is shown and the focus moves to
 * the field it names. New object otherwise. */
struct cJSON *elicit_form_content(struct elicit_form *f);
const char *elicit_form_error(const struct elicit_form *f);
int elicit_form_focus(const struct elicit_form *f);
/* (Re)create the window for f on a rows x cols screen (old deleted);
 * NULL when it does not fit. */
WINDOW *elicit_layout(WINDOW *old, const struct elicit_form *f, int rows, int cols);
/* Draw f into w; queued: how many requests wait (the title says more). */
void elicit_draw(WINDOW *w, const struct theme *th, struct elicit_form *f, size_t queued);

struct elicits {
    struct elicit_form **v;      /* oldest first; v[0] is on screen */
    size_t n, cap;
    WINDOW *win;
    int dirty;
};

struct scroll_state {
    int top, total, visible;
};

/* The Registry pane (pane_registry.c): one row per server, the selected
 * one's details in a footer. The selection is kept by name. */
struct registry_state {
    char *sel;                   /* selected server (owned), NULL = the first */
    int top;                     /* index of the first server shown */
    int visible;                 /* server rows that fit */
};
void pane_registry_fini(struct tui *t);

/* Its columns after the glyph and name, left to right; a narrow pane
 * drops them from the right. */
enum registry_col {
    RCOL_STATE, RCOL_HEALTH, RCOL_BREAKER, RCOL_CHECK, RCOL_LATENCY, RCOL_TOOLS, RCOL_CALLS,
    RCOL_KIND, RCOL_CAPS, RCOL_COUNT
};
/* The text of one cell of server s at wall-clock now_ms (the breaker's
 * retry countdown) into out. CAPS ends in '*' when they were derived from
 * the tools. */
void pane_registry_cell(char *out, size_t n, const struct engine_server_info *s,
                        enum registry_col col, int64_t now_ms);
/* Draw the pane for servers v[0..n) into w (erased, any size): header,
 * rows and the selected server's details; updates rs (selection, scroll). */
void pane_registry_render(WINDOW *w, const struct theme *th, int utf8,
                          const struct engine_server_info *v, size_t n,
                          struct registry_state *rs, int64_t now_ms);

/* === the form's text fields (textedit.c) ===
 * One line scrolled sideways, or several soft-wrapped to the box's width;
 * the text is wide characters, '\n' between lines. */
struct textedit {
    wchar_t *buf;                /* NUL-terminated */
    size_t len, cap;
    size_t cur;                  /* the cursor: an index into buf */
    size_t top;                  /* first shown: a character (one line), a row (several) */
    int multiline;
    int width;                   /* columns of the last draw (0: none yet; Up/Down wrap by it) */
    int goal;                    /* the column Up/Down aim for; -1: the cursor's */
};
enum textedit_result {
    TEXTEDIT_UNUSED,             /* not a key for the text: the owner's */
    TEXTEDIT_MOVED,              /* used; the text is unchanged */
    TEXTEDIT_CHANGED,
};
void textedit_init(struct textedit *te, int multiline);
void textedit_fini(struct textedit *te);
/* Replace the text with UTF-8 text (filtered as by textedit_insert); the
 * cursor goes to the end. */
void textedit_set(struct textedit *te, const char *text);
/* Insert UTF-8 text at the cursor (a paste): invalid bytes become '?',
 * CR LF and CR become line breaks (spaces in a one-line field), a tab four
 * spaces, other control characters are dropped. */
void textedit_insert(struct textedit *te, const char *text);
/* The text as UTF-8; caller frees. */
char *textedit_text(const struct textedit *te);
/* One key (see textedit.c for the keys). Enter inserts a line break only
 * in a multi-line text; Up/Down on its first/last row are UNUSED. */
enum textedit_result textedit_key(struct textedit *te, int key);
/* The rows the text takes wrapped to width (one line: 1). */
int textedit_rows(const struct textedit *te, int width);
/* Draw into height rows of width columns at (y, x) of w in attr, scrolled
 * so the cursor shows; *cy, *cx get the cursor's screen place. */
void textedit_draw(WINDOW *w, struct textedit *te, int y, int x, int height, int width,
                   attr_t attr, int *cy, int *cx);

/* === the new-task form (form.c) === */

struct form;

/* FORM_RECALL: the caller should put a previous submission in the form
 * (form_restore); asked by Up on an untouched form (in a multi-line box:
 * on its first row), or Ctrl-P. With none
 * to recall, the caller passes Up on as Shift-Tab (the row above). */
enum form_action { FORM_NONE, FORM_SUBMIT, FORM_CANCEL, FORM_KIND, FORM_RECALL,
                   FORM_TEMPLATE };   /* Ctrl-O: the caller fills in the next template */

/* The text fields; which two show first depends on the kind (tool call:
 * TOOL and ARGS; a model task type: PROMPT and MODEL); PRIORITY and
 * TIMEOUT follow for every kind. */
enum form_field {
    FORM_TOOL, FORM_ARGS, FORM_PROMPT, FORM_MODEL, FORM_PRIORITY, FORM_TIMEOUT, FORM_NFIELDS
};

/* What the form asks of its owner (each may be NULL). check: whether
 * args (an object) suit target ("server.tool" as typed); 0, or -1 and
 * *err (malloc'd) for the line under the Args field. targets: every
 * "server.tool" known, for Tab completion; returns how many, *out and
 * its strings malloc'd (the form frees them). */
struct form_hooks {
    void *payload;
    int (*check)(void *payload, const char *target, const struct cJSON *args, char **err);
    size_t (*targets)(void *payload, char ***out);
};

/* A submission kept for recall: the kind and every field's text. */
struct form_saved {
    int kind;
    char *text[FORM_NFIELDS];    /* UTF-8, malloc'd */
};

struct form *form_new(void);
void form_free(struct form *f);               /* NULL-safe */
/* Handle one key; FORM_SUBMIT on Ctrl-S or Enter (in Model, Priority or
 * Timeout; in Args once its text is complete JSON), FORM_CANCEL on Esc,
 * FORM_KIND when the kind changed (Left/Right/Space or a letter on the
 * Kind row, Ctrl-T anywhere). Enter in the Prompt starts a new line. */
enum form_action form_key(struct form *f, int key);
/* Pasted UTF-8 text into the focused field at its cursor, as text (line
 * breaks kept in Prompt and Args, spaces elsewhere). 0 when the focus is
 * on the Kind row (nothing taken), else 1. */
int form_paste(struct form *f, const char *text);
/* A field's text as UTF-8; caller frees. */
char *form_text(const struct form *f, int field);
/* The chosen model task type ("generate" ... "deploy"), or NULL for a
 * tool call (the default). Static storage. */
const char *form_task_type(const struct form *f);
/* Choose the kind by name ("tool" or a task type); -1 if unknown. */
int form_set_kind(struct form *f, const char *name);
/* Show err inline (takes ownership; NULL clears). */
void form_set_error(struct form *f, char *err);
/* Install the owner's hooks (copied) and check the fields again. */
void form_set_hooks(struct form *f, const struct form_hooks *h);
/* The inline error of a field (args against the schema, a bad priority
 * or timeout), or NULL. Submitting is refused while a shown field has one. */
const char *form_field_error(const struct form *f, int field);
/* The priority (empty: 0) and timeout in ms (empty: 0, the queue's
 * default) typed; -1 when the field is invalid (see form_field_error). */
int form_priority(const struct form *f, int *priority);
int form_timeout_ms(const struct form *f, int *timeout_ms);
/* Copy the form's kind and texts into *s / put *s back into the form (the
 * form then counts as untouched, so Up recalls the one before). */
void form_save(const struct form *f, struct form_saved *s);
void form_restore(struct form *f, const struct form_saved *s);
void form_saved_fini(struct form_saved *s);    /* frees the texts */
/* (Re)create the window centred on a rows x cols screen. */
void form_layout(struct form *f, int rows, int cols);
/* Draw and wnoutrefresh the form on top of whatever is below; leaves the
 * cursor in the focused field. */
void form_draw(struct form *f, const struct theme *th);

/* === bracketed paste (paste.c) === */

struct paste {
    struct buf text;             /* what came so far (UTF-8) */
    int open;                    /* between its brackets */
    int64_t last_ms;             /* when its last key came (monotonic) */
};
/* At most PASTE_MAX bytes of a paste are kept; one whose end has not come
 * PASTE_IDLE_MS after its last key ends at the next key. */
enum { PASTE_MAX = 1 << 20, PASTE_IDLE_MS = 1000 };
/* Write the terminal's bracketed paste mode on or off (ESC[?2004h/l). */
void paste_mode(int on);
/* Make curses return ESC[200~ and ESC[201~ as UK_PASTE_BEGIN / _END. */
void paste_define_keys(void);
/* A key read at now_ms (monotonic): 1 when it was the paste's (a bracket,
 * or a character between them: kept as text; other keys dropped), 0 when
 * it is an ordinary key for tui.c. At the end the text goes whole to the
 * focused text field (the form's, the prompt's, the memory overlay's
 * boxes), or is dropped with a note in the status bar when none has the
 * focus. */
int paste_key(struct tui *t, int key, int64_t now_ms);
void paste_fini(struct tui *t);

/* === the TUI (tui*.c, layout.c) === */

enum { FORM_HIST = 16 };         /* submissions of the form kept for recall */

struct form_template {           /* data/templates.yaml */
    char *name;
    char *type;                  /* NULL: a tool call */
    char *tool, *args, *prompt;
};

struct tui {
    struct engine *e;
    struct loop *loop;
    struct theme theme;
    int utf8;                    /* locale codeset is UTF-8 */
    int rows, cols;
    int too_small;
    int full;                    /* everything must be redrawn */
    struct pane panes[PANE_COUNT];
    int focus;                   /* enum pane_id */
    WINDOW *status;
    int status_dirty;
    char *message;               /* last message for the status bar */
    int message_error;
    int64_t sel_job;             /* the selected job, 0 = none yet */
    struct tasks_state tasks;
    struct results_state results;
    struct registry_state registry;
    struct scroll_state metrics;
    struct form *form;           /* the open form, or NULL */
    int form_dirty;
    /* the form's submissions this session, a ring: newest at
     * (form_hist_head + FORM_HIST - 1) % FORM_HIST */
    struct form_saved form_hist[FORM_HIST];
    int form_hist_n, form_hist_head;
    int form_hist_pos;           /* how many back the form shows; 0 = none */
    struct streams streams;      /* answers of running model tasks */
    uint64_t stream_timer;       /* pending Results refresh for a stream, or 0 */
    struct approvals approvals;  /* questions waiting for y/n */
    int approvals_dirty;
    int ascii;                   /* ASCII borders (--ascii, or not UTF-8) */
    char *theme_name;            /* the theme in use (NULL = dark) */
    int zoom;                    /* the focused pane fills the screen */
    struct overlay *overlay;     /* help, details, tools, log: or NULL */
    int overlay_dirty;
    struct prompt *prompt;       /* the : / or save prompt, or NULL */
    struct memview *memview;     /* the memory overlay (m), or NULL */
    struct elicits elicits;      /* servers' questions waiting for a form */
    /* metrics sampled every tick */
    struct spark thru, lat95, depth;
    int64_t last_done;           /* finished jobs at the last sample; -1 = none */
    struct engine_stats *stats;  /* job counts, read at most every STATS_MS */
    const struct metrics *metrics_tab;   /* the engine's metrics table */
    /* read with the stats: memory entries, outbox depth (have_mem: the
     * tables exist), model tokens and cost today (have_usage) */
    int64_t mem_entries, outbox, tokens_today;
    double cost_today;
    int have_mem, have_usage;
    double stats_ms;             /* when (monotonic ms); 0 = never */
    int mouse;                   /* mouse events are on */
    struct paste paste;          /* a bracketed paste coming in */
    uint64_t tick;               /* the 1 s timer */
    int exit_code;               /* what tui_run returns */
    struct form_template *templates; /* loaded on the first Ctrl-O */
    size_t ntemplates;
    size_t template_next;
};

/* Mark a pane for redraw at the end of this loop turn. */
void tui_dirty(struct tui *t, enum pane_id id);
/* Set the status-bar message (printf-style). */
void tui_message(struct tui *t, int is_error, const char *fmt, ...) PRINTF_LIKE(3, 4);
/* Move the focus to pane id (both frames are redrawn). */
void tui_focus(struct tui *t, int id);
/* Select job id in Tasks and show it in Results. */
void tui_select_job(struct tui *t, int64_t id);
/* The engine's job counts, read again when older than STATS_MS (a count
 * over a big store costs milliseconds; panes drawn in one turn share it);
 * the memory and usage figures of struct tui are read with them. */
const struct engine_stats *tui_stats(struct tui *t);
enum { STATS_MS = 500 };
/* The list of Tasks changed (jobs came, went or changed status). */
void tui_jobs_changed(struct tui *t);
/* Switch the theme (NULL: dark); 0, or -1 with a message set. */
int tui_set_theme(struct tui *t, const char *name);
/* Toggle zoom of the focused pane. */
void tui_zoom(struct tui *t);
/* Open the prompt of kind with initial text (may be NULL). */
void tui_prompt_open(struct tui *t, enum prompt_kind kind, const char *text);
/* Open the new-task form. */
void tui_form_open(struct tui *t);
/* Everything is drawn again at the end of this turn. */
void tui_dirty_all(struct tui *t);
/* Run argv-less shell command cmd ("$PAGER" ...) on file path with the
 * terminal handed over, then take the screen back. 0 or -1 (message set). */
int tui_run_external(struct tui *t, const char *prog, const char *path);
/* Commands of the panes, in the files of the panes. */
int tasks_cmd_retry(struct tui *t, const char *arg);
int tasks_cmd_priority(struct tui *t, const char *arg);
int tasks_cmd_details(struct tui *t, const char *arg);
int tasks_cmd_sort(struct tui *t, const char *arg);
int tasks_cmd_filter(struct tui *t, const char *arg);
int results_cmd_save(struct tui *t, const char *arg);
/* `apply [yes]`: the unified diff in the result, checked, then (after a
 * y at the prompt, or with "yes") applied to the work tree. */
int results_cmd_apply(struct tui *t, const char *arg);
int results_cmd_pager(struct tui *t, const char *arg);
int results_cmd_editor(struct tui *t, const char *arg);
int registry_cmd_tools(struct tui *t, const char *arg);
int registry_cmd_log(struct tui *t, const char *arg);
/* `memory`: open the memory overlay. */
int tui_cmd_memory(struct tui *t, const char *arg);
/* The selected server's name (NULL when none; borrowed). */
const char *registry_selected(struct tui *t);

/* Create the pane and status windows for the current LINES x COLS (or
 * note that the terminal is too small) and mark everything dirty. */
void layout_apply(struct tui *t);
void layout_free(struct tui *t);
enum { LAYOUT_MIN_COLS = 80, LAYOUT_MIN_ROWS = 24 };
/* The pane whose frame holds screen cell (y, x), or -1. */
int layout_pane_at(const struct tui *t, int y, int x);

#endif
