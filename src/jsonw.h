/* jsonw.h — compact JSON text of a cJSON tree, written into a struct buf.
 *
 * The output is what cJSON_PrintUnformatted gives for the same tree (the
 * same escapes, numbers printed the same way, NaN and infinities as null),
 * written with fewer steps: runs of plain characters are copied whole,
 * integers are printed as integers without a round trip through printf
 * and strtod, and nothing is allocated but the buffer's growth. It is the
 * printer on the paths every message takes (jsonrpc requests, responses
 * and notifications). */
#ifndef MCPDECK_JSONW_H
#define MCPDECK_JSONW_H

#include "util.h"

#include <cjson/cJSON.h>

/* Append a string literal (its length known at compile time). */
#define BUF_LIT(b, lit) buf_append((b), "" lit, sizeof(lit) - 1)

/* Append item's JSON text to b (not NUL-terminated beyond b's own
 * terminator). Returns 0, or -1 when item is NULL or of no JSON type
 * (then b holds whatever was appended before the bad item). */
int jsonw_value(struct buf *b, const cJSON *item);

/* Append s as a JSON string (quoted and escaped). */
void jsonw_string(struct buf *b, const char *s);

/* Append the decimal text of v. */
void jsonw_int(struct buf *b, long long v);

/* A new NUL-terminated string (free with free()), or NULL as above. */
char *jsonw_print(const cJSON *item);

#endif
