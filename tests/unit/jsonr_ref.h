/* jsonr_ref.h — what jsonr must agree with: the installed libcjson's
 * parse of the whole buffer, and a field-by-field comparison of two trees.
 * Shared by tests/unit/test_jsonr.c and tests/fuzz/fuzz_jsonr.c. */
#ifndef MCPDECK_JSONR_REF_H
#define MCPDECK_JSONR_REF_H

#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

/* cJSON's parse of the whole buffer: its own parse, then only its
 * whitespace (any byte up to 0x20) may follow. cJSON reads the text from
 * a NUL-terminated copy (it may look one byte past a key); jsonr gets an
 * exact-size copy so AddressSanitizer sees any read past len. */
static cJSON *jsonr_reference(const char *s, size_t len)
{
    char *copy = malloc(len + 1);
    if (!copy)
        abort();
    memcpy(copy, s, len);
    copy[len] = '\0';
    const char *end = NULL;
    cJSON *t = cJSON_ParseWithLengthOpts(copy, len, &end, 0);
    if (t) {
        for (const char *p = end; p < copy + len; p++) {
            if ((unsigned char)*p > ' ') {
                cJSON_Delete(t);
                t = NULL;
                break;
            }
        }
    }
    free(copy);
    return t;
}

static int jsonr_same_cstr(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* NULL when a and b agree in every field cJSON's parser sets, else which
 * field first differs. */
static const char *jsonr_tree_diff(const cJSON *a, const cJSON *b)
{
    if (a->type != b->type)
        return "type";
    if (!jsonr_same_cstr(a->string, b->string))
        return "string (key)";
    if (!jsonr_same_cstr(a->valuestring, b->valuestring))
        return "valuestring";
    if (memcmp(&a->valuedouble, &b->valuedouble, sizeof a->valuedouble) != 0)
        return "valuedouble";
    if (a->valueint != b->valueint)
        return "valueint";
    const cJSON *ca = a->child, *cb = b->child, *pa = NULL, *pb = NULL;
    for (; ca && cb; pa = ca, pb = cb, ca = ca->next, cb = cb->next) {
        if (pa && (ca->prev != pa || cb->prev != pb))
            return "prev link";
        const char *d = jsonr_tree_diff(ca, cb);
        if (d)
            return d;
    }
    if (ca || cb)
        return "child count";
    if (a->child && (a->child->prev != pa || b->child->prev != pb))
        return "first child's prev (the last child)";
    return NULL;
}

#endif
