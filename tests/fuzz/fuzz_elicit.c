/* fuzz_elicit.c — the TUI's form for a server's elicitation/create, whose
 * message and requestedSchema the server writes. The input is the
 * request's params (JSON), then keys, one per byte (bytes 0x80..0x87 are
 * the arrow, Backspace, Delete, Home and End keys), and the first two
 * bytes set the screen's size. The form is built, typed into, laid out and
 * drawn at every size, and its answer read on Enter: no crash, leak or
 * undefined behaviour; an accepted answer is an object, a refused one
 * says why. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "ui.h"   /* curses first: fuzz.h then has fuzz_screen */
#include "fuzz.h"

static const int special[] = {UK_UP,        UK_DOWN, UK_LEFT, UK_RIGHT,
                              UK_BACKSPACE, UK_DC,   UK_HOME, UK_END};

static void draw(struct elicit_form *f, int rows, int cols)
{
    static const struct theme plain;
    WINDOW *w = elicit_layout(NULL, f, rows, cols);
    if (w) {
        elicit_draw(w, &plain, f, 1);
        delwin(w);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_screen("200", "300");
    if (size < 2)
        return 0;
    int rows = 1 + data[0] % 60, cols = 1 + data[1] % 200;
    const char *text = (const char *)data + 2;
    size_t len = size - 2;
    char *copy;
    const char *end;
    cJSON *params = fuzz_first_json(text, len, &copy, &end);
    if (!params)
        return 0;
    const cJSON *msg = cJSON_GetObjectItemCaseSensitive(params, "message");
    const cJSON *schema = cJSON_GetObjectItemCaseSensitive(params, "requestedSchema");
    int64_t job = 7;
    struct elicit_form *f = elicit_form_new(NULL, "srv", &job, 1,
                                            cJSON_IsString(msg) ? msg->valuestring : NULL,
                                            schema);
    draw(f, rows, cols);
    size_t nkeys = 0;
    for (const unsigned char *k = (const unsigned char *)end; *k; k++) {
        int key = *k >= 0x80 && *k < 0x88 ? special[*k - 0x80] : *k;
        enum elicit_action a = elicit_key(f, key);
        if (a == ELICIT_ACCEPT) {
            cJSON *answer = elicit_form_content(f);
            if (answer)
                FUZZ_CHECK(cJSON_IsObject(answer), "an answer that is not an object");
            else
                FUZZ_CHECK(elicit_form_error(f) && *elicit_form_error(f),
                           "an answer refused without saying why");
            cJSON_Delete(answer);
        }
        if (++nkeys % 16 == 0)
            draw(f, rows, cols);
    }
    draw(f, rows, cols);
    draw(f, 24, 80);
    elicit_form_free(f);
    cJSON_Delete(params);
    free(copy);
    return 0;
}
