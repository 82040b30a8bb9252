/* jsonr.h — a JSON reader that builds ordinary cJSON trees, for the hot
 * path where every JSON-RPC message is parsed.
 *
 * Why it exists: cJSON's own parser spends many instructions per byte (a
 * bounds check around every character, strings copied byte by byte after
 * a separate length scan, every number copied and handed to strtod with a
 * locale lookup and, in Debian's patched 1.7.15, a heap buffer). jsonr
 * reads the same texts with fewer instructions and hands back the tree
 * cJSON_ParseWithLength would have built: same node types, values, keys
 * and links, every node and string allocated through cJSON's hooks, so
 * the caller uses and frees it with the cJSON API as before.
 *
 * The one deliberate difference: jsonr wants the whole buffer to be one
 * value. cJSON_ParseWithLength stops after the first value and ignores
 * what follows; jsonr fails when anything but whitespace follows.
 * Everything else cJSON tolerates, jsonr tolerates too (leading zeros,
 * "-.5", "1.", any byte up to 0x20 counted as whitespace, raw control
 * bytes inside strings, "\u" with bad hex digits read as U+0000, a UTF-8
 * byte order mark before a text of at least five bytes). */
#ifndef MCPDECK_JSONR_H
#define MCPDECK_JSONR_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "util.h"

/* Parse len bytes at s (need not be NUL-terminated). Returns a tree to
 * free with cJSON_Delete, or NULL when the text is not exactly one JSON
 * value (surrounding whitespace allowed), is nested deeper than
 * CJSON_NESTING_LIMIT, or memory ran out. Thread-safe as cJSON's parser
 * is: it reads cJSON's hooks and, for rare long or inexact numbers, the
 * locale's decimal point. */
cJSON *jsonr_parse(const char *s, size_t len);

/* An arena for trees that live only while one message is handled: nodes
 * and strings are carved from caller-given space (then from heap blocks,
 * each twice the last), and all of it goes at once at jsonr_arena_fini —
 * no allocation or free per node. Such a tree must be treated as const:
 * never cJSON_Delete'd, detached from or added to; keep a cJSON_Duplicate
 * of anything needed later. Under AddressSanitizer the tree is parsed on
 * the heap instead (and freed at fini) so misuse shows. */
struct jsonr_arena {
    struct arena mem;
    cJSON *heap_tree;            /* under AddressSanitizer: the heap-parsed tree */
};

/* space (any alignment) serves the first allocations; may be NULL with size 0. */
void jsonr_arena_init(struct jsonr_arena *a, void *space, size_t size);
/* jsonr_parse, the tree in arena a (one tree per arena). */
cJSON *jsonr_parse_in(struct jsonr_arena *a, const char *s, size_t len);
/* Free the heap blocks; the arena's trees are gone. */
void jsonr_arena_fini(struct jsonr_arena *a);

#endif
