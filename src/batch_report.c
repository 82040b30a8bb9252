/* batch_report.c — a finished batch written as text, json, jsonl or
 * JUnit XML, plus GitHub Actions annotations (see batch.h). */
#include "batch_file.h"
#include "batch_report.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void xml_escape(struct buf *b, const char *s)
{
    for (; s && *s; s++) {
        unsigned char c = (unsigned char)*s;
        switch (c) {
        case '<': buf_puts(b, "&lt;"); break;
        case '>': buf_puts(b, "&gt;"); break;
        case '&': buf_puts(b, "&amp;"); break;
        case '"': buf_puts(b, "&quot;"); break;
        case '\'': buf_puts(b, "&apos;"); break;
        default:
            /* XML 1.0 allows no control characters but tab, LF, CR */
            if (c < 0x20 && c != '\t' && c != '\n' && c != '\r')
                buf_printf(b, "\\x%02x", c);
            else
                buf_putc(b, (char)c);
        }
    }
}

/* GitHub's workflow commands need %, CR and LF escaped in the message. */
static void gh_escape(FILE *out, const char *s)
{
    for (; s && *s; s++) {
        if (*s == '%')
            fputs("%25", out);
        else if (*s == '\r')
            fputs("%0D", out);
        else if (*s == '\n')
            fputs("%0A", out);
        else
            fputc(*s, out);
    }
}

static cJSON *row_json(const struct brow *r)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "id", r->id);
    cJSON_AddStringToObject(o, "tool", r->target);
    cJSON_AddNumberToObject(o, "job", (double)r->job_id);
    cJSON_AddStringToObject(o, "status", r->status);
    cJSON_AddBoolToObject(o, "passed", r->passed);
    cJSON_AddNumberToObject(o, "attempts", r->attempts);
    cJSON_AddNumberToObject(o, "duration_ms", (double)r->duration_ms);
    cJSON_AddBoolToObject(o, "is_error", r->is_error);
    if (r->result)
        cJSON_AddStringToObject(o, "result", r->result);
    else
        cJSON_AddNullToObject(o, "result");
    if (r->structured)
        cJSON_AddItemToObject(o, "structured", cJSON_Duplicate(r->structured, 1));
    if (r->error)
        cJSON_AddStringToObject(o, "error", r->error);
    else
        cJSON_AddNullToObject(o, "error");
    if (r->progress_events) {
        cJSON *pr = cJSON_AddObjectToObject(o, "progress");
        cJSON_AddNumberToObject(pr, "events", r->progress_events);
        cJSON_AddNumberToObject(pr, "last", r->progress);
        if (r->total >= 0)
            cJSON_AddNumberToObject(pr, "total", r->total);
    }
    return o;
}

int batch_report_write(FILE *out, const char *format, const char *name, const struct brow *rows,
                       size_t n, int64_t wall_ms)
{
    int passed = 0, failed = 0;
    for (size_t i = 0; i < n; i++)
        rows[i].passed ? passed++ : failed++;
    if (strcmp(format, "json") == 0) {
        cJSON *doc = cJSON_CreateObject();
        cJSON *arr = cJSON_AddArrayToObject(doc, "tasks");
        for (size_t i = 0; i < n; i++)
            cJSON_AddItemToArray(arr, row_json(&rows[i]));
        cJSON *sum = cJSON_AddObjectToObject(doc, "summary");
        cJSON_AddNumberToObject(sum, "total", (double)n);
        cJSON_AddNumberToObject(sum, "passed", passed);
        cJSON_AddNumberToObject(sum, "failed", failed);
        int st[4] = {0, 0, 0, 0};
        for (size_t i = 0; i < n; i++)
            st[strcmp(rows[i].status, "succeeded") == 0   ? 0
               : strcmp(rows[i].status, "failed") == 0    ? 1
               : strcmp(rows[i].status, "skipped") == 0   ? 2
                                                          : 3]++;
        cJSON_AddNumberToObject(sum, "succeeded", st[0]);
        cJSON_AddNumberToObject(sum, "skipped", st[2]);
        cJSON_AddNumberToObject(sum, "unfinished", st[3]);
        cJSON_AddNumberToObject(sum, "duration_ms", (double)wall_ms);
        char *t = cJSON_Print(doc);
        fprintf(out, "%s\n", t);
        cJSON_free(t);
        cJSON_Delete(doc);
    } else if (strcmp(format, "jsonl") == 0) {
        for (size_t i = 0; i < n; i++) {
            cJSON *o = row_json(&rows[i]);
            char *t = cJSON_PrintUnformatted(o);
            fprintf(out, "%s\n", t);
            cJSON_free(t);
            cJSON_Delete(o);
        }
    } else if (strcmp(format, "junit") == 0) {
        struct buf b;
        buf_init(&b);
        buf_puts(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>\n");
        buf_puts(&b, "  <testsuite name=\"");
        xml_escape(&b, name);
        buf_printf(&b, "\" tests=\"%zu\" failures=\"%d\" errors=\"0\" skipped=\"0\" "
                       "time=\"%.3f\">\n", n, failed, (double)wall_ms / 1000.0);
        for (size_t i = 0; i < n; i++) {
            const struct brow *r = &rows[i];
            buf_puts(&b, "    <testcase classname=\"");
            xml_escape(&b, r->target);
            buf_puts(&b, "\" name=\"");
            xml_escape(&b, r->id);
            buf_printf(&b, "\" time=\"%.3f\"", (double)r->duration_ms / 1000.0);
            if (r->passed) {
                buf_puts(&b, "/>\n");
                continue;
            }
            buf_puts(&b, ">\n      <failure message=\"");
            xml_escape(&b, r->error ? r->error : r->status);
            buf_printf(&b, "\" type=\"%s\">", r->status);
            xml_escape(&b, r->result ? r->result : r->error ? r->error : "");
            buf_puts(&b, "</failure>\n    </testcase>\n");
        }
        buf_puts(&b, "  </testsuite>\n</testsuites>\n");
        fputs(b.data, out);
        buf_fini(&b);
    } else {   /* text */
        for (size_t i = 0; i < n; i++) {
            const struct brow *r = &rows[i];
            fprintf(out, "%s %-24s %-10s %6lldms  attempts %d  %s%s%s\n",
                    r->passed ? "ok  " : "FAIL", r->id, r->status, (long long)r->duration_ms,
                    r->attempts, r->target, r->error ? "  " : "", r->error ? r->error : "");
        }
    }
    return ferror(out) ? -1 : 0;
}

void batch_report_annotations(FILE *out, const char *file, const struct brow *rows, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (rows[i].passed)
            continue;
        fprintf(out, "::error file=%s,line=%d,col=%d,title=mcpdeck task %s::", file,
                rows[i].line, rows[i].col, rows[i].id);
        gh_escape(out, rows[i].error ? rows[i].error : rows[i].status);
        fputc('\n', out);
    }
}
