/* ydoc.h — a YAML (or JSON) document loaded into a small tree whose every
 * node remembers its line and column, so config and batch errors can say
 * file:line:column. libyaml does the parsing; JSON files go through the
 * same parser (JSON is YAML flow syntax), so .mcp.json errors get
 * positions too. Anchors/aliases are refused (no billion laughs). */
#ifndef MCPDECK_YDOC_H
#define MCPDECK_YDOC_H

#include <cjson/cJSON.h>
#include <stddef.h>

#include "util.h"

enum ydoc_kind { YDOC_SCALAR, YDOC_MAP, YDOC_SEQ };

struct ydoc_pair;

struct ydoc_node {
    enum ydoc_kind kind;
    int line, col;               /* 1-based position of the node's start */
    /* YDOC_SCALAR */
    int quoted;                  /* 1 if single/double quoted or block */
    char *str;                   /* NUL-terminated value */
    size_t len;
    /* YDOC_SEQ */
    struct ydoc_node **items;
    size_t nitems;
    /* YDOC_MAP (keys are scalars) */
    struct ydoc_pair *pairs;
    size_t npairs;
};

struct ydoc_pair {
    struct ydoc_node *key;
    struct ydoc_node *value;
};

struct ydoc {
    char *name;                  /* file name used in messages */
    struct ydoc_node *root;      /* NULL for an empty document */
    struct arena mem;            /* every node, string and array of the tree */
};

/* Files larger than this are refused unread (a config or batch file
 * that big is a mistake: a log, a device such as /dev/zero). */
#define YDOC_MAX_FILE (64 << 20)

/* Load path ("-" = stdin). On error returns -1 and sets *errmsg
 * ("file:line:col: what was wrong"), caller frees. */
int ydoc_load_file(const char *path, struct ydoc **out, char **errmsg);
/* Load from memory; name is used in messages. */
int ydoc_load_string(const char *name, const char *text, size_t len,
                     struct ydoc **out, char **errmsg);
void ydoc_free(struct ydoc *d);                     /* NULL-safe */

/* Value for key in a map node, or NULL (also when map is not a map). */
const struct ydoc_node *ydoc_map_get(const struct ydoc_node *map, const char *key);

/* "file:line:col: <formatted message>", malloc'd. */
char *ydoc_errorf(const struct ydoc *d, const struct ydoc_node *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* NULL if every key of map is in allowed (NULL-terminated), else a
 * malloc'd "file:line:col: unknown key 'k' in <where>; expected one of:
 * a, b, c" pointing at the first stranger. */
char *ydoc_check_keys(const struct ydoc *d, const struct ydoc_node *map, const char *where,
                      const char *const *allowed);

/* Scalar typing per the YAML core schema: plain null/~/empty → null,
 * true/false → bool, integers and floats → number; quoted → string. */
enum ydoc_scalar_type { YDOC_T_NULL, YDOC_T_BOOL, YDOC_T_INT, YDOC_T_FLOAT, YDOC_T_STRING };
enum ydoc_scalar_type ydoc_scalar_type(const struct ydoc_node *n);

/* Convert a node to cJSON (typed as above). Never fails for a valid tree. */
cJSON *ydoc_to_json(const struct ydoc_node *n);

const char *ydoc_kind_name(enum ydoc_kind k);   /* "scalar", "mapping", "sequence" */

#endif
