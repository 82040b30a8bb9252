/* batch.h — the headless front end: run a file of tasks through the
 * queue and report. Exit codes: 0 every task passed; 1 a task or an
 * expectation failed; 2 invalid input or config (nothing ran); 3 a
 * required server never became ready; 130 interrupted (running tasks are
 * cancelled, the report is still written). */
#ifndef MCPDECK_BATCH_H
#define MCPDECK_BATCH_H

struct batch_opts {
    const char *file;            /* path, or "-" for stdin */
    const char *config_path;     /* --config or NULL */
    const char *data_dir;        /* --data-dir or NULL */
    const char *format;          /* text (default), json, jsonl, junit */
    const char *output;          /* -o FILE, or NULL for stdout */
    int concurrency;             /* > 0 overrides the config */
    int dry_run;                 /* validate and print the plan, run nothing */
    int fail_fast;               /* cancel the rest after the first failure */
    int timeout_ms;              /* whole batch; 0 = none */
    int resume;                  /* reuse this file's jobs from an interrupted run */
    int stream;                  /* print model answers as they stream (stderr) */
};

/* Runs the batch; returns the process exit code. */
int batch_run(const struct batch_opts *o);

#endif
