/* tui_int.h — what the tui*.c files share among themselves: tui.c owns the
 * terminal and wires the others to the engine and the loop; tui_modal.c
 * answers the engine's questions, tui_form.c drives the new-task form,
 * tui_mouse.c takes clicks and tui_draw.c is the redraw hook. struct tui
 * and what the panes call are in ui.h. Only tui*.c include this. Loop
 * thread only. */
#ifndef MCPDECK_TUI_INT_H
#define MCPDECK_TUI_INT_H

#include "ui.h"

struct engine_elicit;

/* tui_modal.c: the engine's approval handler (an engine_approval_cb) and
 * the keys for the question on screen; 1 when the key went to it. */
void tui_on_approval(void *payload, struct engine_approval *q, int64_t job,
                     const char *server, const char *tool, const struct cJSON *args);
int tui_approval_key(struct tui *t, int key);
/* The engine's elicitation handler (an engine_elicit_cb) and the keys for
 * the form on screen (every key while one is); 1 when the key went to it. */
void tui_on_elicit(void *payload, struct engine_elicit *req, const char *server,
                   const int64_t *jobs, size_t njobs, const char *message,
                   const struct cJSON *schema);
int tui_elicit_handle_key(struct tui *t, int key);

/* tui_form.c: what the form's keys ask for (enum form_action). */
void tui_form_close(struct tui *t);
void tui_form_submit(struct tui *t);
void tui_form_kind_changed(struct tui *t);
int tui_form_recall(struct tui *t, int key);
void tui_form_template(struct tui *t);
/* The session's submissions and the loaded templates go (at the end). */
void tui_form_hist_fini(struct tui *t);

/* tui_mouse.c: the mouse event curses has queued (after KEY_MOUSE). */
void tui_mouse_event(struct tui *t);

/* tui_draw.c: the before-sleep hook (a loop hook; payload is the tui). */
void tui_redraw(struct loop *l, void *payload);

#endif
