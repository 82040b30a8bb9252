/* jsonschema_defaults.c — jsonschema_apply_defaults: the defaults of a
 * schema's top-level properties (an elicitation form's) added to an
 * instance. Bounded like validation (MAX_WORK). Thread-safe. */
#include "jsonschema.h"
#include "jsonschema_int.h"

/* The schema s points at through $refs (at most MAX_REFS), or s. */
static const cJSON *follow_refs(const cJSON *root, const cJSON *s, long long *work)
{
    for (int i = 0; i < MAX_REFS && cJSON_IsObject(s); i++) {
        const cJSON *ref = cJSON_GetObjectItemCaseSensitive(s, "$ref");
        const cJSON *to;
        if (!cJSON_IsString(ref) || !(to = jsonschema_ref_resolve(root, ref->valuestring, work)))
            break;
        s = to;
    }
    return s;
}

int jsonschema_apply_defaults(const cJSON *schema, cJSON *instance)
{
    const cJSON *s, *props;
    int added = 0;
    long long work = 0;

    if (!cJSON_IsObject(schema) || !cJSON_IsObject(instance))
        return 0;
    s = schema;
    if (!cJSON_GetObjectItemCaseSensitive(s, "properties"))
        s = follow_refs(schema, s, &work);
    props = cJSON_GetObjectItemCaseSensitive(s, "properties");
    if (!cJSON_IsObject(props))
        return 0;
    long long have = cJSON_GetArraySize(instance);
    for (const cJSON *p = props->child; p && work <= MAX_WORK; p = p->next) {
        const cJSON *def;
        cJSON *copy;
        work += have;
        if (!p->string || cJSON_GetObjectItemCaseSensitive(instance, p->string))
            continue;
        def = cJSON_GetObjectItemCaseSensitive(p, "default");
        if (!def && cJSON_IsObject(p))
            def = cJSON_GetObjectItemCaseSensitive(follow_refs(schema, p, &work), "default");
        if (!def || !(copy = cJSON_Duplicate(def, 1)))
            continue;
        cJSON_AddItemToObject(instance, p->string, copy);
        added++;
        have++;
    }
    return added;
}
