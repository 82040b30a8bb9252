/* batch_file.h — a batch file parsed and checked (used by batch.c and
 * batch_report.c only). Every task remembers where it was written, so
 * later checks (unknown server, bad arguments) can still say
 * file:line:column. */
#ifndef MCPDECK_BATCH_FILE_H
#define MCPDECK_BATCH_FILE_H

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>

#include "ydoc.h"

struct bexpect {
    int has_status;
    int status_ok;               /* expect status: succeeded (1) or failed (0) */
    char **contains;             /* each must appear in the result text */
    size_t ncontains;
    char *regex;                 /* POSIX extended regex over the result text */
    cJSON *json;                 /* {"path.to[0].field": value} in structured content */
    int is_error;                /* -1 unset, 0/1 */
    int64_t max_duration_ms;     /* 0 unset */
};

struct btask {
    const struct ydoc_node *node;       /* valid until bfile_drop_doc() */
    const struct ydoc_node *tool_node;
    int line, col;                      /* where the task starts */
    char *id;                    /* the task's id, or "#n" (1-based) when none given */
    int has_id;
    char *server;
    char *tool;
    char *type;                  /* model task type, or NULL for tool tasks */
    /* a routed tool task (tool: NAME with type: and/or caps:): server is
     * NULL and the router picks one that has the tool */
    int routed;
    char *route_type;            /* task type for the router, or NULL */
    char **caps;                 /* required capabilities, ncaps */
    size_t ncaps;
    int heavy;                   /* 1, 0, or -1 (the type's default) */
    int64_t delay_ms;            /* run_at = queued + delay; 0 = at once */
    char *idempotency_key;       /* or NULL */
    char *model;                 /* model tasks: a model or alias, or NULL */
    char *prompt;
    cJSON *args;                 /* object */
    int priority;
    int timeout_ms;              /* 0 = default */
    int attempts;                /* 0 = default */
    char **needs;                /* ids of tasks this one waits for */
    size_t *need_at;             /* ... as indices into bfile.tasks */
    size_t nneeds;
    cJSON *elicit;               /* answers for server elicitation, or NULL */
    struct bexpect expect;
    int has_expect;
    /* filled while running */
    int64_t job_id;
    int done;
    int progress_events;
    double progress, total;
    char *expect_failure;        /* why an expectation failed, or NULL */
};

struct bfile_id {
    const char *id;              /* borrowed from the task */
    size_t at;                   /* its index in tasks */
};

struct bfile {
    char *name;                  /* the file's name as given ("<stdin>" for -) */
    struct ydoc *doc;
    struct btask *tasks;
    size_t n;
    struct bfile_id *ids;        /* sorted by id, then index: bfile_find */
    size_t *order;               /* task indices, each after the tasks it needs */
};

/* Parse and check a batch file ("-" = stdin): keys, types, duplicate ids,
 * unknown needs, cycles. Returns 0, or -1 with *errmsg (file:line:col). */
int bfile_load(const char *path, struct bfile *out, char **errmsg);
void bfile_fini(struct bfile *f);
/* Free the parsed YAML tree once every positioned check is done (a big
 * batch should not carry it while it runs); node pointers become NULL. */
void bfile_drop_doc(struct bfile *f);

/* The task with this id (the first, if written twice), or NULL. */
struct btask *bfile_find(struct bfile *f, const char *id);

/* Check a finished task against its expect: block. Returns NULL when it
 * holds, else a message showing expected and actual (malloc'd).
 * structured may be NULL. */
char *bexpect_check(const struct bexpect *x, int succeeded, int is_error, const char *text,
                    const cJSON *structured, int64_t duration_ms);

#endif
