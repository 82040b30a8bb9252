/* fuzz_jsonr.c — jsonr, the parser of every JSON-RPC message a server
 * sends, builds the tree libcjson builds for any bytes (jsonr_ref.h), on
 * the heap and in an arena; jsonw, the printer of every message mcpdeck
 * sends, prints that tree exactly as cJSON_PrintUnformatted does; and the
 * text parses back. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../unit/jsonr_ref.h"
#include "fuzz.h"
#include "jsonr.h"
#include "jsonw.h"

static void same(const cJSON *want, const cJSON *got, const char *how)
{
    FUZZ_CHECK(!want == !got, "cJSON %s, jsonr%s %s", want ? "accepts" : "refuses", how,
               got ? "accepts" : "refuses");
    if (want) {
        const char *d = jsonr_tree_diff(want, got);
        FUZZ_CHECK(d == NULL, "trees differ (jsonr%s) in %s", how, d);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    cJSON *want = jsonr_reference(s, size);
    cJSON *got = jsonr_parse(s, size);
    same(want, got, "");

    struct jsonr_arena a;
    unsigned long long space[8];
    jsonr_arena_init(&a, space, sizeof space);
    cJSON *in = jsonr_parse_in(&a, s, size);
    same(want, in, " in an arena");
    jsonr_arena_fini(&a);

    if (got) {
        char *text = cJSON_PrintUnformatted(got);
        char *ours = jsonw_print(got);
        if (text) {
            FUZZ_CHECK(ours && strcmp(text, ours) == 0, "jsonw printed\n%s\ncJSON printed\n%s",
                       ours ? ours : "(nothing)", text);
            cJSON *again = jsonr_parse(text, strlen(text));
            FUZZ_CHECK(again != NULL, "its own printed text does not parse: %s", text);
            cJSON_Delete(again);
            free(text);
        }
        free(ours);
    }
    cJSON_Delete(want);
    cJSON_Delete(got);
    return 0;
}
