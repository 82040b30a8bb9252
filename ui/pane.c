/* pane.c — what every pane shares: scrolling a list with the usual keys. */
#include "ui.h"

void pane_scroll_clamp(int *top, int total, int visible)
{
    int max = total - visible;
    if (*top > max)
        *top = max;
    if (*top < 0)
        *top = 0;
}

int pane_scroll_key(int *top, int total, int visible, int key)
{
    int page = visible > 1 ? visible - 1 : 1;
    switch (key) {
    case UK_UP: case 'k': (*top)--; break;
    case UK_DOWN: case 'j': (*top)++; break;
    case UK_PPAGE: *top -= page; break;
    case UK_NPAGE: *top += page; break;
    case UK_HOME: case 'g': *top = 0; break;
    case UK_END: case 'G': *top = total; break;
    default: return 0;
    }
    pane_scroll_clamp(top, total, visible);
    return 1;
}
