/* config_int.h — the config loader's helpers, shared by config.c (the
 * servers, queue and registry sections) and config_llm.c (providers,
 * models and the agent). Every helper reports "file:line:col: what" into
 * L->err and returns -1. Nothing outside config*.c includes it. */
#ifndef MCPDECK_CONFIG_INT_H
#define MCPDECK_CONFIG_INT_H

#include "config.h"
#include "ydoc.h"

#include <stddef.h>

enum format { FMT_MCPDECK, FMT_CLAUDE, FMT_VSCODE };

struct loader {
    struct ydoc *d;
    enum format fmt;
    char *err;
    struct config *c;
    int secret_refs;         /* variables expanded now are secrets (server env, headers...) */
};

int cfg_fail(struct loader *L, const struct ydoc_node *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* A scalar with ${VAR} expanded (malloc'd *out). */
int cfg_scalar(struct loader *L, const struct ydoc_node *n, const char *what, char **out);
int cfg_check_keys(struct loader *L, const struct ydoc_node *map, const char *where,
                   const char *const *allowed);
int cfg_positive_int(struct loader *L, const struct ydoc_node *n, const char *what, int *out);
int cfg_duration(struct loader *L, const struct ydoc_node *n, const char *what, int *out);
int cfg_boolean(struct loader *L, const struct ydoc_node *n, const char *what, int *out);
int cfg_string_list(struct loader *L, const struct ydoc_node *n, const char *what,
                    char ***out, size_t *count);
int cfg_pair_map(struct loader *L, const struct ydoc_node *n, const char *what, int header,
                 char ***out, size_t *count);
int cfg_valid_name(const char *s);
int cfg_var_name_ok(const char *s);
void cfg_strv_free(char **v, size_t n);
int cfg_number(struct loader *L, const struct ydoc_node *n, const char *what, double lo,
               double hi, double *out);
int cfg_size_value(struct loader *L, const struct ydoc_node *n, const char *what, double lo,
                   double hi, int *out);
int cfg_word_list(struct loader *L, const struct ydoc_node *n, const char *what, char ***out,
                  size_t *count);
/* A section that must be a mapping with known keys; NULL when absent or
 * null (*ok stays 1), NULL with *ok = 0 on an error. */
const struct ydoc_node *cfg_section(struct loader *L, const struct ydoc_node *root,
                                    const char *name, const char *const *keys, int *ok);

/* config_llm.c: providers, models, aliases, strategies, llm, agent,
 * tools, sampling. */
int cfg_load_llm(struct loader *L, const struct ydoc_node *root, struct config *c);
void cfg_llm_defaults(struct config *c);
void cfg_llm_free(struct config *c);

/* config_memory.c: the memory section (namespaces, embedder, capture,
 * qdrant). */
int cfg_load_memory(struct loader *L, const struct ydoc_node *root, struct config *c);
void cfg_memory_defaults(struct config *c);
void cfg_memory_free(struct config *c);

/* config_serve.c: the serve section (expose, breakers, http). */
int cfg_load_serve(struct loader *L, const struct ydoc_node *root, struct config *c);
void cfg_serve_defaults(struct config *c);
void cfg_serve_free(struct config *c);

#endif
