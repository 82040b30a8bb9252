/* jsonschema_int.h — shared by jsonschema.c and jsonschema_pattern.c only. */
#ifndef MCPDECK_JSONSCHEMA_INT_H
#define MCPDECK_JSONSCHEMA_INT_H

#include <cjson/cJSON.h>
#include <regex.h>

/* Compile an ECMAScript pattern as POSIX ERE. 0, or -1 when it has no
 * faithful translation or regcomp refuses it (re is then not set). */
int jsonschema_pattern_compile(const char *pattern, regex_t *re);

/* The value of a hex digit, or -1. */
int jsonschema_hexval(int ch);

/* The schema a "$ref" names inside root, or NULL. */
const cJSON *jsonschema_ref_resolve(const cJSON *root, const char *ref);

#endif
