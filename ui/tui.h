/* tui.h — the ncurses front end (ui/). main.c calls tui_run() when mcpdeck
 * runs with no subcommand. Only ui/ includes curses. */
#ifndef MCPDECK_TUI_H
#define MCPDECK_TUI_H

struct engine;

/* Run the four-pane TUI on the engine's loop until the user quits (q,
 * Ctrl-C, SIGTERM/SIGHUP). The engine must be created and started; it is
 * not freed here. Curses is ended on every path before this returns.
 * Returns the process exit status: 0 after a normal quit, 2 when there is
 * no usable terminal (the reason is printed on stderr). Loop thread. */
int tui_run(struct engine *e);

/* Options from the command line, set before tui_run: the theme's name
 * (--theme; NULL keeps the one set, dark by default) and ASCII borders
 * and glyphs (--ascii; -1 keeps). The string must outlive tui_run. */
void tui_set_options(const char *theme, int ascii);

#endif
