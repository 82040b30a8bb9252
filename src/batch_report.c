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

void batch_report_begin(FILE *out, const char *format, const char *name,
                        const struct breport_totals *t)
{
    if (strcmp(format, "json") == 0) {
        fputs("{\n\"tasks\": [", out);
    } else if (strcmp(format, "junit") == 0) {
        struct buf b;
        buf_init(&b);
        buf_puts(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>\n");
        buf_puts(&b, "  <testsuite name=\"");
        xml_escape(&b, name);
        buf_printf(&b, "\" tests=\"%zu\" failures=\"%zu\" errors=\"0\" skipped=\"0\" "
                       "time=\"%.3f\">\n", t->total, t->failed, (double)t->wall_ms / 1000.0);
        fputs(b.data, out);
        buf_fini(&b);
    }
}

void batch_report_row(FILE *out, const char *format, const struct brow *r, size_t index)
{
    if (strcmp(format, "json") == 0 || strcmp(format, "jsonl") == 0) {
        int json = format[4] == '\0';
        cJSON *o = row_json(r);
        char *t = json ? cJSON_Print(o) : cJSON_PrintUnformatted(o);
        fprintf(out, json ? "%s\n%s" : "%.0s%s\n", index ? "," : "", t);
        cJSON_free(t);
        cJSON_Delete(o);
    } else if (strcmp(format, "junit") == 0) {
        struct buf b;
        buf_init(&b);
        buf_puts(&b, "    <testcase classname=\"");
        xml_escape(&b, r->target);
        buf_puts(&b, "\" name=\"");
        xml_escape(&b, r->id);
        buf_printf(&b, "\" time=\"%.3f\"", (double)r->duration_ms / 1000.0);
        if (r->passed) {
            buf_puts(&b, "/>\n");
        } else {
            buf_puts(&b, ">\n      <failure message=\"");
            xml_escape(&b, r->error ? r->error : r->status);
            buf_printf(&b, "\" type=\"%s\">", r->status);
            xml_escape(&b, r->result ? r->result : r->error ? r->error : "");
            buf_puts(&b, "</failure>\n    </testcase>\n");
        }
        fputs(b.data, out);
        buf_fini(&b);
    } else {   /* text */
        fprintf(out, "%s %-24s %-10s %6lldms  attempts %d  %s%s%s\n",
                r->passed ? "ok  " : "FAIL", r->id, r->status, (long long)r->duration_ms,
                r->attempts, r->target, r->error ? "  " : "", r->error ? r->error : "");
    }
}

int batch_report_end(FILE *out, const char *format, const struct breport_totals *t)
{
    if (strcmp(format, "json") == 0) {
        fprintf(out, "],\n\"summary\": {\"total\": %zu, \"passed\": %zu, \"failed\": %zu, "
                     "\"succeeded\": %zu, \"skipped\": %zu, \"unfinished\": %zu, "
                     "\"duration_ms\": %lld}\n}\n",
                t->total, t->passed, t->failed, t->succeeded, t->skipped, t->unfinished,
                (long long)t->wall_ms);
    } else if (strcmp(format, "junit") == 0) {
        fputs("  </testsuite>\n</testsuites>\n", out);
    }
    return ferror(out) ? -1 : 0;
}

void batch_report_annotation(FILE *out, const char *file, const struct brow *r)
{
    fprintf(out, "::error file=%s,line=%d,col=%d,title=mcpdeck task %s::", file, r->line, r->col,
            r->id);
    gh_escape(out, r->error ? r->error : r->status);
    fputc('\n', out);
}
