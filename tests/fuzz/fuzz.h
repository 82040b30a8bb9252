/* fuzz.h — the one entry point every harness in tests/fuzz/ defines.
 *
 * Each fuzz_*.c feeds one parser that reads text mcpdeck does not control
 * (a server's messages and schemas, an event stream, a provider's answer,
 * a config or batch file) and checks what must hold for any input: no
 * crash, no leak, no undefined behaviour, and where two paths must agree
 * (one chunk or many, two JSON parsers) that they do — abort() otherwise.
 *
 * `make fuzz` links them with libFuzzer (clang) and runs each for a while;
 * `make test` links them with replay.c and runs them over the inputs kept
 * in tests/fuzz/corpus/NAME/ (seeds, and every input that once failed). */
#ifndef MCPDECK_FUZZ_H
#define MCPDECK_FUZZ_H

#include <locale.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Abort with a message when cond is false (the fuzzer records the input). */
#define FUZZ_CHECK(cond, ...)                                                      \
    do {                                                                           \
        if (!(cond)) {                                                             \
            fprintf(stderr, "%s:%d: check failed: %s: ", __FILE__, __LINE__, #cond); \
            fprintf(stderr, __VA_ARGS__);                                          \
            fputc('\n', stderr);                                                   \
            abort();                                                               \
        }                                                                          \
    } while (0)

/* For the harnesses that draw (they include curses first): one screen of
 * rows x cols for the whole run, writing to /dev/null, in a UTF-8 locale
 * so text is measured as the TUI measures it. */
#ifdef NCURSES_VERSION
static inline void fuzz_screen(const char *rows, const char *cols)
{
    static SCREEN *scr;
    if (scr)
        return;
    setlocale(LC_ALL, "C.UTF-8");
    FILE *out = fopen("/dev/null", "w"), *in = fopen("/dev/null", "r");
    setenv("LINES", rows, 1);
    setenv("COLUMNS", cols, 1);
    scr = newterm("xterm", out, in);
    if (!scr)
        abort();
    set_term(scr);
}
#endif

/* A malloc'd copy of p[0..n) holding exactly those bytes (and a NUL after
 * them when nul), so AddressSanitizer sees any read past the end, as a
 * transport or file would hand them over. Aborts when memory runs out. */
static inline char *fuzz_copy(const void *p, size_t n, int nul)
{
    char *c = malloc(n + (nul ? 1 : 0) + (n == 0 && !nul));
    if (!c)
        abort();
    if (n)
        memcpy(c, p, n);
    if (nul)
        c[n] = '\0';
    return c;
}

/* For the harnesses that read JSON (they include cJSON first): the first
 * JSON value in p[0..n), parsed from a fuzz_copy left in *copy (the caller
 * frees it) with *rest at the text after the value; NULL, and nothing
 * left to free, when it does not start with one. */
#ifdef cJSON__h
static inline cJSON *fuzz_first_json(const void *p, size_t n, char **copy, const char **rest)
{
    *copy = fuzz_copy(p, n, 1);
    *rest = NULL;
    cJSON *v = cJSON_ParseWithLengthOpts(*copy, n, rest, 0);
    if (!v) {
        free(*copy);
        *copy = NULL;
    }
    return v;
}
#endif

#endif
