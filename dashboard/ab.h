/* heapswitch ab, shared by its files: cmd_ab.c (options, the command),
 * ab_run.c (running and run control), ab_summary.c (figures and
 * comparisons), ab_text.c, ab_data.c (JSON, CSV) and ab_svg.c (outputs).
 *
 * Two kinds of runs, interleaved across backends (A B C A B C ...):
 * timed runs measure wall time, CPU time and max RSS of the backend
 * itself (preloaded directly where it is an ordinary library, else
 * through heapswitch with counting off); counted runs go through
 * heapswitch with counting on and supply the allocation figures from
 * their HEAPSWITCH_REPORT lines. Each metric comes from one kind only. */
#ifndef HSW_AB_H
#define HSW_AB_H

#include <stdbool.h>
#include <stdio.h>

#include "dashboard/stats.h"

#define AB_MAX_BACKENDS 8
#define AB_MAX_RUNS 10000

enum ab_metric {
    AB_WALL,
    AB_CPU,
    AB_USER,
    AB_SYSTEM,
    AB_MAX_RSS,
    AB_ALLOCS,
    AB_FREES,
    AB_BYTES_REQUESTED,
    AB_BYTES_ALLOCATED,
    AB_PEAK_LIVE,
    AB_FRAGMENTATION,
    AB_PROCESSES,
    AB_MALLOC_P50, /* sampled allocating-call latency of the root process (HEAPSWITCH_LATENCY) */
    AB_MALLOC_P99,
    AB_MALLOC_P999,
    AB_FREE_P99,
    AB_METRIC_COUNT /* the number of metrics */
};

enum ab_unit { AB_UNIT_SECONDS, AB_UNIT_BYTES, AB_UNIT_COUNT, AB_UNIT_FRACTION, AB_UNIT_NANOSECONDS };

enum ab_kind { AB_WARMUP, AB_TIMED, AB_COUNTED };

/* How a backend's timed runs run. */
enum ab_timing {
    AB_TIMING_DIRECT,    /* its own library preloaded (system: nothing preloaded) */
    AB_TIMING_HEAPSWITCH /* libheapswitch with HEAPSWITCH_STATS=0 */
};

struct ab_metric_info {
    const char *key;   /* JSON and CSV */
    const char *title; /* text and SVG */
    enum ab_unit unit;
    enum ab_kind source; /* AB_TIMED or AB_COUNTED: the runs it comes from */
};

/* ab_summary.c: the metrics, indexed by enum ab_metric. */
extern const struct ab_metric_info ab_metrics[AB_METRIC_COUNT];

/* Whether a metric is compared through the statistics module (ratio,
 * interval, verdict): the timed ones, and the latency percentiles, one
 * per counted run; the other counted figures get a ratio of medians. */
static inline bool ab_metric_compared(enum ab_metric metric)
{
    return ab_metrics[metric].source == AB_TIMED || ab_metrics[metric].unit == AB_UNIT_NANOSECONDS;
}

struct ab_run {
    unsigned backend;  /* index into ab.backends */
    enum ab_kind kind;
    unsigned long index; /* 1-based, per backend and kind */
    bool ok;
    int exit_code; /* -1 when killed */
    int signal;    /* 0 when it exited */
    bool has[AB_METRIC_COUNT];
    bool estimated[AB_METRIC_COUNT]; /* a report line lists the figure as estimated */
    double value[AB_METRIC_COUNT];
};

struct ab_summary {
    unsigned n; /* successful runs of the metric's kind with this figure */
    double median, min, max;
    bool estimated; /* in some of those runs */
};

struct ab_backend {
    const char *name;
    enum ab_timing timing;
    const char *direct;      /* AB_TIMING_DIRECT: the library preloaded, "" for none */
    const char *timing_note; /* why timed through heapswitch though direct was asked */
    unsigned long timed_ok, timed_failed, counted_ok, counted_failed;
    struct ab_summary summary[AB_METRIC_COUNT];
    /* Against the first backend, from the stats module (timed metrics). */
    struct hsw_comparison comparison[AB_METRIC_COUNT];
    /* Ratio of medians to the first backend's (every metric), or NAN. */
    double ratio[AB_METRIC_COUNT];
};

struct ab {
    struct ab_backend backends[AB_MAX_BACKENDS];
    unsigned backend_count;
    struct ab_run *runs; /* every run but warmups, in the order they ran */
    size_t run_count, run_capacity;
    unsigned long min_runs, max_runs, warmup, counted_runs;
    double target_width; /* relative, 0 for none */
    struct hsw_compare_options compare;
    bool show_output;
    const char *stats_level; /* counted runs' HEAPSWITCH_STATS, NULL: unset */
    char **command;
    const char *library; /* libheapswitch */
    unsigned long timed_rounds; /* done */
    const char *stopped;        /* why the timed runs stopped */
    bool progress;
    unsigned long done, total;
};

/* ab_run.c: runs the warmup, counted and timed rounds, with run control.
 * Returns 0, or the exit status for an error that stops ab (message
 * printed): 1, 126, 127, or 128 + a signal. */
int ab_run_all(struct ab *ab);

/* ab_summary.c */
/* Medians and comparisons of every backend, from the runs so far. */
void ab_summarize(struct ab *ab);
/* "1.2 ms", "3.4 MiB", "12,345", "5.0%". */
const char *ab_format_value(char *out, size_t size, enum ab_metric metric, double value);
/* "exit status 3", "killed by signal 9 (Killed)". */
void ab_status_text(char *out, size_t size, const struct ab_run *run);
/* "timed", "counted", "warmup". */
const char *ab_kind_name(enum ab_kind kind);
/* How the backend's timed runs ran: "nothing preloaded",
 * "LD_PRELOAD=/usr/lib/.../libjemalloc.so.2", "libheapswitch, HEAPSWITCH_STATS=0". */
void ab_timing_text(char *out, size_t size, const struct ab *ab, const struct ab_backend *backend);
/* How the counted runs ran. */
void ab_counted_text(char *out, size_t size, const struct ab *ab);
/* The verdict of a comparison in words naming the backends: "jemalloc
 * better", "system better", "no difference detected", "not enough data
 * (3 more runs)". */
void ab_verdict_text(char *out, size_t size, const struct ab *ab, unsigned backend,
                     enum ab_metric metric);
/* The backend a verdict favours, or NULL. */
const char *ab_better_name(const struct ab *ab, unsigned backend, enum ab_metric metric);

/* Outputs: ab_text.c, ab_data.c, ab_svg.c. */
void ab_print_text(const struct ab *ab);
void ab_print_json(const struct ab *ab);
void ab_print_csv(const struct ab *ab);
/* Writes and closes `out`; 0, or -1 after an error message naming path. */
int ab_write_svg(const struct ab *ab, FILE *out, const char *path);

#endif
