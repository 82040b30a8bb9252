/* spark.c — sparklines for the Metrics pane: a ring of the last SPARK_N
 * samples (one per tick) drawn as block characters scaled to their
 * maximum. Pure: no curses calls. */
#include "ui.h"

#include <string.h>

void spark_push(struct spark *s, double v)
{
    if (v != v || v < 0)
        v = 0;
    s->v[s->head] = v;
    s->head = (s->head + 1) % SPARK_N;
    if (s->n < SPARK_N)
        s->n++;
}

/* The i-th newest sample (0 = newest); i < s->n. */
static double sample(const struct spark *s, size_t i)
{
    return s->v[(s->head + SPARK_N - 1 - i) % SPARK_N];
}

double spark_last(const struct spark *s)
{
    return s->n ? sample(s, 0) : 0;
}

double spark_max(const struct spark *s, int width)
{
    double m = 0;
    for (size_t i = 0; i < s->n && (int)i < width; i++)
        if (sample(s, i) > m)
            m = sample(s, i);
    return m;
}

int spark_render(const struct spark *s, int width, int utf8, char *out, size_t n)
{
    static const char *const blocks[8] = {"\u2581", "\u2582", "\u2583", "\u2584",
                                          "\u2585", "\u2586", "\u2587", "\u2588"};
    static const char ascii[] = " .:-=+*#";
    if (!n)
        return 0;
    size_t len = 0;
    int cols = 0;
    if (width < 0)
        width = 0;
    double max = spark_max(s, width);
    int have = (int)s->n < width ? (int)s->n : width;
    for (int c = 0; c < width; c++) {
        int i = width - 1 - c;           /* sample index, newest at the right */
        const char *cell;
        char one[2] = {0, 0};
        if (i >= have) {
            cell = " ";
        } else {
            double v = sample(s, (size_t)i);
            int level = max > 0 ? (int)(v / max * 7.0 + 0.5) : 0;
            if (level < 0)
                level = 0;
            if (level > 7)
                level = 7;
            if (utf8) {
                cell = blocks[level];
            } else {
                /* ASCII: the lowest level of a non-zero sample is '.', zero is ' ' */
                one[0] = v > 0 && level == 0 ? '.' : ascii[level];
                cell = one;
            }
        }
        size_t cl = strlen(cell);
        if (len + cl + 1 > n)
            break;
        memcpy(out + len, cell, cl);
        len += cl;
        cols++;
    }
    out[len] = 0;
    return cols;
}
