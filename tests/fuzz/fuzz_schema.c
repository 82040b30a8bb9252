/* fuzz_schema.c — validation against a schema a server sends (a tool's
 * outputSchema, an elicitation's requestedSchema): the input is a schema
 * followed by an instance, both JSON. Any pair is validated without a
 * crash, a hang or a leak; an error always comes with a message naming a
 * path from the root; validating twice gives the same answer; defaults
 * applied to an object never remove or change what it had. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "fuzz.h"
#include "jsonschema.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text;
    const char *end;
    cJSON *schema = fuzz_first_json(data, size, &text, &end);
    if (!schema)
        return 0;
    cJSON *instance = cJSON_Parse(end);
    if (!instance)
        instance = cJSON_CreateNull();

    char *e1 = NULL, *e2 = NULL;
    int r1 = jsonschema_validate(schema, instance, "args", &e1);
    int r2 = jsonschema_validate(schema, instance, NULL, &e2);
    FUZZ_CHECK(r1 == r2, "validating twice gave %d then %d", r1, r2);
    if (r1 < 0) {
        FUZZ_CHECK(e1 && strncmp(e1, "args", 4) == 0, "error without the root's name: %s",
                   e1 ? e1 : "(none)");
        FUZZ_CHECK(e2 && e2[0] == '$', "error without a path from $: %s", e2 ? e2 : "(none)");
    } else {
        FUZZ_CHECK(!e1 && !e2, "an error message for a valid instance: %s", e1 ? e1 : e2);
    }
    free(e1);
    free(e2);

    if (cJSON_IsObject(instance)) {
        cJSON *before = cJSON_Duplicate(instance, 1);
        int added = jsonschema_apply_defaults(schema, instance);
        FUZZ_CHECK(added >= 0 && cJSON_GetArraySize(instance) ==
                                     cJSON_GetArraySize(before) + added,
                   "%d defaults added but %d members became %d", added,
                   cJSON_GetArraySize(before), cJSON_GetArraySize(instance));
        /* what was there stays, in place; defaults come after it (compared
         * as text: cJSON_Compare is not reflexive with duplicate keys) */
        const cJSON *now = instance->child;
        for (const cJSON *m = before->child; m; m = m->next, now = now->next) {
            FUZZ_CHECK(now && now->string && m->string && strcmp(m->string, now->string) == 0,
                       "member '%s' moved by defaults", m->string ? m->string : "");
            char *a = cJSON_PrintUnformatted(m), *b = cJSON_PrintUnformatted(now);
            FUZZ_CHECK(a && b && strcmp(a, b) == 0, "member '%s' changed by defaults", m->string);
            free(a);
            free(b);
        }
        cJSON_Delete(before);
    }
    cJSON_Delete(schema);
    cJSON_Delete(instance);
    free(text);
    return 0;
}
