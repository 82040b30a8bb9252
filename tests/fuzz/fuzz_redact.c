/* fuzz_redact.c — what keeps secrets out of the database, logs and
 * results. For any text: no registered secret survives redact_text, and
 * redacting its output again changes nothing. For any JSON document:
 * redact_json_needed says exactly whether redact_json changes something,
 * no secret is left in the redacted document, and a second pass changes
 * nothing. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "fuzz.h"
#include "redact.h"

static const char *const secrets[] = {"sk-or-v1-f00dfeed", "ghp_T0ken42x", "hunter2hunter2"};
#define NSECRETS (sizeof secrets / sizeof *secrets)

static void no_secret_in(const char *s, size_t len, const char *what)
{
    for (size_t i = 0; i < NSECRETS; i++)
        FUZZ_CHECK(memmem(s, len, secrets[i], strlen(secrets[i])) == NULL,
                   "secret '%s' left in the %s", secrets[i], what);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;
    if (!ready) {
        for (size_t i = 0; i < NSECRETS; i++)
            redact_add(secrets[i]);
        ready = 1;
    }
    size_t n1 = 0, n2 = 0;
    char *once = redact_text((const char *)data, size, &n1);
    FUZZ_CHECK(once != NULL, "no text back");
    no_secret_in(once, n1, "text");
    char *twice = redact_text(once, n1, &n2);
    FUZZ_CHECK(n1 == n2 && memcmp(once, twice, n1) == 0,
               "redacting the redacted text changed it:\n%s\n%s", once, twice);
    free(once);
    free(twice);

    cJSON *j = cJSON_ParseWithLength((const char *)data, size);
    if (j) {
        int needed = redact_json_needed(j);
        int changed = redact_json(j);
        FUZZ_CHECK(needed == (changed > 0), "redact_json_needed said %d, redact_json changed %d",
                   needed, changed);
        char *out = cJSON_PrintUnformatted(j);
        if (out) {
            no_secret_in(out, strlen(out), "document");
            free(out);
        }
        FUZZ_CHECK(redact_json(j) == 0 && !redact_json_needed(j),
                   "a second pass over a redacted document changed it");
        cJSON_Delete(j);
    }
    return 0;
}
