/* batch_report.h — writing a finished batch (batch.c's output half). */
#ifndef MCPDECK_BATCH_REPORT_H
#define MCPDECK_BATCH_REPORT_H

#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdio.h>

/* One task's outcome, everything borrowed. */
struct brow {
    const char *id;
    const char *target;          /* server.tool or type */
    int64_t job_id;
    const char *status;          /* succeeded, failed, skipped, cancelled, queued... */
    int passed;                  /* succeeded and every expectation held */
    int attempts;
    int64_t duration_ms;
    int is_error;
    const char *result;          /* text, or NULL */
    const cJSON *structured;     /* or NULL */
    const char *error;           /* why it did not pass, or NULL */
    int progress_events;
    double progress, total;
    int line, col;               /* where the task is in the batch file */
};

/* The report is streamed, one row at a time, so a batch of any size costs
 * one row of memory: begin, then row for each task, then end.
 * format: text, json, jsonl, junit. */
struct breport_totals {
    size_t total, passed, failed, succeeded, skipped, unfinished;
    int64_t wall_ms;
};

void batch_report_begin(FILE *out, const char *format, const char *name,
                        const struct breport_totals *t);
void batch_report_row(FILE *out, const char *format, const struct brow *r, size_t index);
/* Returns 0, or -1 if writing failed. */
int batch_report_end(FILE *out, const char *format, const struct breport_totals *t);
/* One ::error annotation (GitHub Actions) for a task that did not pass. */
void batch_report_annotation(FILE *out, const char *file, const struct brow *r);

#endif
