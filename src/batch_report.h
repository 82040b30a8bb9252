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

/* format: text, json, jsonl, junit. Returns 0 or -1 on a write error. */
int batch_report_write(FILE *out, const char *format, const char *name, const struct brow *rows,
                       size_t n, int64_t wall_ms);
/* ::error annotations (GitHub Actions) for tasks that did not pass. */
void batch_report_annotations(FILE *out, const char *file, const struct brow *rows, size_t n);

#endif
