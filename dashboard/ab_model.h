/* The logic of the live A/B view, without any drawing: which processes
 * are compared with which, and on what samples. Processes are grouped
 * first by program (the executable, optionally refined by a tag prefix,
 * or the command line), then within a program into arms (by backend or
 * by tag); a program with one arm is listed, not compared. Every refresh
 * adds, for every process, one sample per metric: the work-normalized
 * figure over that refresh interval. A comparison uses the samples of a
 * rolling window and dashboard/stats.h. Fed with plain snapshots, so
 * unit tests drive it with synthetic ones. */
#ifndef HSW_AB_MODEL_H
#define HSW_AB_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "dashboard/stats.h"
#include "include/heapswitch.h"

#define HSW_AB_MAX_ARMS 8
/* Samples are kept this long, so that a longer window is full at once. */
#define HSW_AB_RETAIN_SECONDS 300.0
/* Arms whose per-process allocation rates differ by more than this
 * factor are flagged: they do not get the same traffic. */
#define HSW_AB_IMBALANCE_RATIO 1.5

/* What makes two processes the same program. */
enum hsw_ab_key {
    HSW_AB_KEY_EXE,        /* the executable */
    HSW_AB_KEY_TAG_PREFIX, /* the executable and the tag up to its first - _ . : / */
    HSW_AB_KEY_CMDLINE,    /* the whole command line */
    HSW_AB_KEY_LABELS,     /* the executable and its HEAPSWITCH_LABELS (a deployment's pods) */
    HSW_AB_KEY_KINDS
};

/* The figures of one sample; "per interval" means between two
 * consecutive refreshes of one process. */
enum hsw_ab_metric {
    HSW_AB_REQUESTS_PER_SECOND, /* per interval; higher is better */
    HSW_AB_CPU_PER_REQUEST,     /* CPU seconds per request, per interval */
    HSW_AB_CPU_PER_KCALLS,      /* CPU seconds per 1,000 allocating calls, per interval */
    HSW_AB_ALLOCS_PER_SECOND,   /* per interval: the balance check, never judged */
    HSW_AB_RSS,                 /* bytes at the end of the interval */
    HSW_AB_HEAP_RESIDENT,       /* the backend's resident bytes */
    HSW_AB_FRAGMENTATION,       /* in [0, 1] */
    HSW_AB_MALLOC_P50,          /* ns: sampled latency of the allocating calls timed in the interval */
    HSW_AB_MALLOC_P99,
    HSW_AB_MALLOC_P999,
    HSW_AB_METRIC_KINDS
};

struct hsw_ab_metric_info {
    const char *title; /* "CPU/request" */
    bool lower_is_better;
    bool judged; /* compared with a verdict */
};

extern const struct hsw_ab_metric_info hsw_ab_metrics[HSW_AB_METRIC_KINDS];

/* The name of a grouping key: "executable", "tag prefix", "command line". */
const char *hsw_ab_key_name(enum hsw_ab_key key);

struct hsw_ab_sample {
    double end;                        /* monotonic seconds of the later snapshot */
    double value[HSW_AB_METRIC_KINDS]; /* NAN when unknown */
};

/* The samples of one process, oldest first. */
struct hsw_ab_series {
    pid_t pid;
    uint64_t start_time;
    struct heapswitch_snapshot last; /* the snapshot the next interval starts at */
    bool seen;                       /* in the last update */
    struct hsw_ab_sample *samples;
    size_t count, capacity;
};

/* The samples of every process seen, kept across refreshes. */
struct hsw_ab {
    struct hsw_ab_series *series;
    size_t count, capacity;
};

void hsw_ab_init(struct hsw_ab *ab);
void hsw_ab_free(struct hsw_ab *ab);

/* Takes the latest snapshot of every process running now: adds one sample
 * per process whose snapshot is newer than the one before it, drops
 * samples older than HSW_AB_RETAIN_SECONDS and the processes not in the
 * list. Returns 0, or -1 when out of memory (the samples stay valid). */
int hsw_ab_update(struct hsw_ab *ab, const struct heapswitch_snapshot *const *procs,
                  size_t count);

/* The per-interval sample between two snapshots of one process. */
void hsw_ab_sample_between(const struct heapswitch_snapshot *earlier,
                           const struct heapswitch_snapshot *later,
                           struct hsw_ab_sample *out);

struct hsw_ab_options {
    enum hsw_ab_key key;
    bool by_tag;           /* arms by tag instead of backend */
    double window_seconds; /* samples that ended less than this before `now` */
    double now;            /* monotonic seconds */
};

/* One arm of a program: its processes and the samples of its window. */
struct hsw_ab_arm {
    char name[64]; /* backend, or tag ("-" for none) */
    size_t processes;
    size_t samples;                      /* intervals in the window */
    double *values[HSW_AB_METRIC_KINDS]; /* known values of the window */
    size_t known[HSW_AB_METRIC_KINDS];
    double median[HSW_AB_METRIC_KINDS]; /* NAN when nothing is known */
    /* The balance check against the baseline: this arm's median allocation
     * rate over the baseline's (NAN when unknown; 1 for the baseline), and
     * whether it is beyond HSW_AB_IMBALANCE_RATIO either way. */
    double balance;
    bool unbalanced;
};

struct hsw_ab_program {
    char key[512];   /* what its processes share */
    char label[128]; /* shown: the executable's name, and the tag prefix */
    size_t processes;
    bool marks_requests; /* a process of it calls heapswitch_request_done */
    struct hsw_ab_arm arms[HSW_AB_MAX_ARMS]; /* the first is the baseline */
    size_t arm_count;
    size_t arms_left_out; /* beyond HSW_AB_MAX_ARMS */
    /* The balance check: the highest arm's median allocation rate over
     * the lowest's (NAN when unknown), and whether it is over the limit. */
    double balance_ratio;
    bool imbalanced;
};

struct hsw_ab_view {
    struct hsw_ab_program *programs; /* compared ones first, then by label */
    size_t count;
    size_t compared; /* programs with two arms or more: the first ones */
};

/* Groups the processes listed (their latest snapshots; any not running is
 * left out) and gathers their samples of the window. Returns 0, or -1
 * when out of memory. Free the view with hsw_ab_view_free. */
int hsw_ab_analyze(const struct hsw_ab *ab,
                   const struct heapswitch_snapshot *const *procs, size_t count,
                   const struct hsw_ab_options *options, struct hsw_ab_view *view);
void hsw_ab_view_free(struct hsw_ab_view *view);

/* Whether a program's comparison uses a metric: the request figures when
 * it marks requests, CPU per 1,000 calls otherwise; the rest always. */
bool hsw_ab_metric_used(const struct hsw_ab_program *program, enum hsw_ab_metric metric);

/* Compares arm `arm` (B) with the baseline, arm 0 (A), on a judged
 * metric. Returns 0, or -1 if the metric is not judged or the arm does
 * not exist. */
int hsw_ab_compare(const struct hsw_ab_program *program, size_t arm,
                   enum hsw_ab_metric metric, struct hsw_comparison *out);

#endif
