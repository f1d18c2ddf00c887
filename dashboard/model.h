/* The process table every view reads: the segments on this host, each
 * process's latest snapshot, its rates over the last interval, a short
 * history for sparklines, and when it appeared and went away. Built only
 * on libheapswitch-reader. */
#ifndef HSW_MODEL_H
#define HSW_MODEL_H

#include <stdbool.h>
#include <stddef.h>

#include "include/heapswitch.h"

#define HSW_HISTORY 60

enum hsw_series { HSW_SERIES_ALLOCS, HSW_SERIES_FREES, HSW_SERIES_BYTES, HSW_SERIES_LIVE,
                  HSW_SERIES_COUNT };

struct hsw_proc {
    struct heapswitch_snapshot now;
    struct heapswitch_snapshot previous;
    bool has_rates;               /* two snapshots of this process were taken */
    struct heapswitch_rates rates; /* between previous and now */
    double history[HSW_SERIES_COUNT][HSW_HISTORY]; /* oldest first */
    unsigned history_length;
    double first_seen;  /* monotonic seconds */
    double gone_since;  /* when it exited, died or vanished; 0 while running */
    bool seen;          /* in the last scan */
};

struct hsw_model {
    struct hsw_proc *procs;
    size_t count;
    size_t capacity;
    double keep_gone_seconds; /* how long an ended process stays listed */
    unsigned problems;        /* segments refused in the last scan */
    char last_problem[320];   /* "NAME: why" of one of them */
};

void hsw_model_init(struct hsw_model *model, double keep_gone_seconds);
void hsw_model_free(struct hsw_model *model);
/* Scans the segments once (removing those of dead processes when
 * remove_dead) and updates the table. Returns 0, or -1 if /dev/shm cannot
 * be read. */
int hsw_model_refresh(struct hsw_model *model, bool remove_dead);
/* The steps of a refresh, apart so that tests can feed it snapshots:
 * begin marks every process unseen, take adds or updates one process from
 * its snapshot, end marks the unseen ones gone (at monotonic time now) and
 * drops those gone longer than keep_gone_seconds. */
void hsw_model_begin(struct hsw_model *model);
void hsw_model_take(struct hsw_model *model, const struct heapswitch_snapshot *snapshot);
void hsw_model_end(struct hsw_model *model, double now);
/* Finds a process by pid, or NULL. */
struct hsw_proc *hsw_model_find(struct hsw_model *model, pid_t pid);

/* Allocating calls of a snapshot: malloc + calloc + realloc + aligned. */
uint64_t hsw_allocs(const struct heapswitch_counters *counters);
/* Monotonic seconds. */
double hsw_now(void);

#endif
