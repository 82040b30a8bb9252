/* batch.h — the headless front end: run a file of tasks through the queue
 * and report (human summary on stderr, JSON on stdout with --format json).
 * Exit codes: 0 all succeeded, 1 a task failed, 2 invalid input or config,
 * 3 a required server never became ready, 130 interrupted. */
#ifndef MCPDECK_BATCH_H
#define MCPDECK_BATCH_H

struct batch_opts {
    const char *file;            /* path, or "-" for stdin */
    const char *config_path;     /* --config or NULL */
    const char *data_dir;        /* --data-dir or NULL */
    const char *format;          /* "text" (default) or "json" */
    int concurrency;             /* > 0 overrides the config */
};

/* Runs the batch; returns the process exit code. */
int batch_run(const struct batch_opts *o);

#endif
