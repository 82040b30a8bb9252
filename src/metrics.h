/* metrics.h — counters, gauges and histograms from one declarative table,
 * exposed as Prometheus text (format 0.0.4), as a textfile-collector file,
 * as a short human summary, and walked series by series for the TUI pane.
 *
 * Every metric family is a row of one table (metrics_def()): name, kind,
 * help, up to three label names and, for histograms, the fixed Prometheus
 * buckets. A series (one set of label values) is created on first use;
 * a family holds at most METRICS_SERIES_MAX series, further label sets are
 * counted together in one series whose label values are all "_other".
 *
 * Histograms also keep a finer log-scale array (8 sub-buckets per power of
 * two from 1 µs to about 1.2 h) for quantiles without storing samples: a
 * reported quantile is within a factor 2^(1/16) (±4.5 %) of the sample of
 * that rank when that sample lies in the range; below 1 µs the smallest
 * sample is reported, above the range the largest.
 *
 * Encodings: mcpdeck_server_health is one series per server with the value
 * 0 unknown, 1 healthy, 2 warning, 3 unhealthy; mcpdeck_breaker_state is
 * 0 closed, 1 half-open, 2 open. Job status labels are the job's final
 * state (done, failed, canceled); tokens' direction is input or output.
 *
 * Label arrays hold one value per label name of the family, NULL for a
 * family without labels; a NULL value counts as "". Values that are not
 * UTF-8 or longer than METRICS_LABEL_MAX bytes are repaired and cut.
 *
 * Loop thread only: nothing here locks. */
#ifndef MCPDECK_METRICS_H
#define MCPDECK_METRICS_H

#include <stddef.h>
#include <stdint.h>

struct buf;

#define METRICS_SERIES_MAX 1000   /* series per family before "_other" */
#define METRICS_LABEL_MAX 256     /* bytes kept of a label value */

enum metric_kind { METRIC_COUNTER, METRIC_GAUGE, METRIC_HISTOGRAM };

/* Table order is exposition order. */
enum metric_id {
    MET_UP,                   /* gauge 1 */
    MET_BUILD_INFO,           /* gauge 1 {version} */
    MET_START_TIME,           /* gauge, Unix seconds */
    MET_TOOL_CALLS,           /* counter {server,tool} */
    MET_TOOL_ERRORS,          /* counter {server,tool} */
    MET_TOOL_CALL_SECONDS,    /* histogram {server} */
    MET_JOBS_SUBMITTED,       /* counter */
    MET_JOBS,                 /* counter {status} */
    MET_JOB_RETRIES,          /* counter */
    MET_JOB_DURATION_SECONDS, /* histogram {status} */
    MET_QUEUE_WAIT_SECONDS,   /* histogram */
    MET_QUEUE_DEPTH,          /* gauge */
    MET_JOBS_RUNNING,         /* gauge */
    MET_SERVER_HEALTH,        /* gauge {server} */
    MET_HEALTH_CHECK_SECONDS, /* histogram {server} */
    MET_SERVER_RESTARTS,      /* counter {server} */
    MET_BREAKER_STATE,        /* gauge {target} */
    MET_MODEL_CALLS,          /* counter {model} */
    MET_MODEL_ERRORS,         /* counter {model} */
    MET_MODEL_CALL_SECONDS,   /* histogram {model} */
    MET_TOKENS,               /* counter {model,direction} */
    MET_COST_USD,             /* counter {model} */
    MET_MEMORY_ENTRIES,       /* gauge {namespace} */
    MET_OUTBOX_DEPTH,         /* gauge: writes waiting for Qdrant */
    MET_QDRANT_UP,            /* gauge: 1 healthy, 0 not (only with memory.qdrant) */
    MET__COUNT
};

struct metric_def {
    const char *name;
    enum metric_kind kind;
    const char *help;
    const char *labels[3];
    size_t nlabels;
    const double *buckets;    /* histograms: upper bounds, ascending, no +Inf */
    size_t nbuckets;
};

/* The table row of id (static storage), or NULL for an id out of range. */
const struct metric_def *metrics_def(enum metric_id id);

/* A new registry with mcpdeck_up 1, mcpdeck_build_info{version} 1,
 * mcpdeck_start_time_seconds now, and every family without labels present
 * at zero. Caller owns it; metrics_free() is NULL-safe. */
struct metrics *metrics_new(void);
void metrics_free(struct metrics *m);

/* Counters: add v (v < 0 or NaN is ignored). Gauges: add v (may be < 0).
 * Ignored for histograms. */
void metrics_add(struct metrics *m, enum metric_id id, const char *const *labels, double v);

static inline void metrics_inc(struct metrics *m, enum metric_id id, const char *const *labels)
{
    metrics_add(m, id, labels, 1);
}

/* Gauges: set the value. Ignored for other kinds. */
void metrics_set(struct metrics *m, enum metric_id id, const char *const *labels, double v);

/* Histograms: record one observation v, in seconds (NaN is ignored,
 * v < 0 counts as 0). Ignored for other kinds. */
void metrics_observe(struct metrics *m, enum metric_id id, const char *const *labels, double v);

/* The value of a counter or gauge, the observation count of a histogram;
 * 0 for a series that does not exist (never creates one). */
double metrics_get(const struct metrics *m, enum metric_id id, const char *const *labels);

/* Quantile q (0..1) of a histogram series into *out. Returns 0, or -1 when
 * the series has no observations or is not a histogram. */
int metrics_quantile(const struct metrics *m, enum metric_id id, const char *const *labels,
                     double q, double *out);

/* Number of series the family holds now (the "_other" one included). */
size_t metrics_series_count(const struct metrics *m, enum metric_id id);

/* Append the Prometheus text exposition (format 0.0.4) of every family to
 * out: # HELP and # TYPE once per family in table order, series sorted by
 * label values, histograms as _bucket{le=...} (cumulative), _sum, _count. */
void metrics_prometheus(const struct metrics *m, struct buf *out);

/* Append a human summary: one line per series, histograms with count,
 * p50/p95/p99 and mean. */
void metrics_summary(const struct metrics *m, struct buf *out);

/* Atomically replace the file at path with metrics_prometheus() text:
 * write path.tmp.<pid> in the same directory, fsync, rename, fsync the
 * directory (the node_exporter textfile collector convention). Returns 0,
 * or -1 and a malloc'd *errmsg naming the file and the system's reason. */
int metrics_write_file(const struct metrics *m, const char *path, char **errmsg);

/* One series as the walkers see it; everything is borrowed for the
 * duration of the callback. labels holds def->nlabels values. value is a
 * counter's or gauge's value, a histogram's sum; count, sum and the
 * quantiles are for histograms (quantiles NaN without observations; count
 * 0, sum = value and quantiles NaN for counters and gauges). */
struct metric_series_view {
    enum metric_id id;
    const struct metric_def *def;
    const char *const *labels;
    double value;
    uint64_t count;
    double sum, p50, p95, p99;
};

typedef void (*metrics_series_cb)(void *payload, const struct metric_series_view *s);

/* Call cb for every series of every family, families in table order,
 * series sorted by label values. Do not change m from cb. */
void metrics_foreach(const struct metrics *m, metrics_series_cb cb, void *payload);

/* The same for the series of one family. */
void metrics_foreach_family(const struct metrics *m, enum metric_id id, metrics_series_cb cb,
                            void *payload);

#endif
