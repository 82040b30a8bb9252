/* jsonschema_int.h — shared by the jsonschema*.c files only. */
#ifndef MCPDECK_JSONSCHEMA_INT_H
#define MCPDECK_JSONSCHEMA_INT_H

#include <cjson/cJSON.h>
#include <regex.h>
#include <stdbool.h>
#include <stddef.h>

#include "util.h"

enum {
    MAX_REFS = 64,       /* $refs followed without descending */
    /* Work besides visiting schemas: members looked up by name (cJSON
     * scans them), enum values compared, $ref targets looked for,
     * patterns tried. A server's schema and its answer are both untrusted:
     * a 10,000-name 'required' over a 10,000-member object is 10^8. */
    MAX_WORK = 20000000,
};

/* Compile an ECMAScript pattern as POSIX ERE. 0, or -1 when it has no
 * faithful translation or regcomp refuses it (re is then not set). */
int jsonschema_pattern_compile(const char *pattern, regex_t *re);

/* The value of a hex digit, or -1. */
int jsonschema_hexval(int ch);

/* The schema a local $ref points at, or NULL; adds to *work the nodes
 * and members it went through (a lookup scans every member). */
const cJSON *jsonschema_ref_resolve(const cJSON *root, const char *ref, long long *work);

/* jsonschema_values.c */
bool jsonschema_key_is_plain(const char *k);
void jsonschema_put_json_string(struct buf *b, const char *s);
const char *jsonschema_value_type_name(const cJSON *v);
void jsonschema_fmt_num(char out[32], double d);
void jsonschema_put_clipped(struct buf *b, const char *s, size_t max);
char *jsonschema_render_value(const cJSON *v);
char *jsonschema_render_json(const cJSON *v);
bool jsonschema_is_integral(double d);
bool jsonschema_json_equal(const cJSON *a, const cJSON *b);
/* The first pair of equal items of array arr as a nested loop finds it
 * (smallest i, then smallest j): true with *i and *j set, or false. */
bool jsonschema_first_repeat(const cJSON *arr, int *i, int *j);
size_t jsonschema_utf8_length(const char *s);

#endif
