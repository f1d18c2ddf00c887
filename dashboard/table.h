/* The process table's columns, and its plain-text, JSON and CSV forms:
 * shared by `stat`, `top -b` and the TUI. */
#ifndef HSW_TABLE_H
#define HSW_TABLE_H

#include <stdbool.h>
#include <stdio.h>

#include "dashboard/model.h"

enum hsw_column {
    HSW_COL_PID,
    HSW_COL_STATE,
    HSW_COL_BACKEND,
    HSW_COL_TAG,
    HSW_COL_ALLOCS,   /* allocating calls per second */
    HSW_COL_FREES,    /* frees per second */
    HSW_COL_BYTES,    /* bytes allocated per second */
    HSW_COL_LIVE,
    HSW_COL_PEAK,
    HSW_COL_RSS,
    HSW_COL_FRAG,
    HSW_COL_FRAG_BYTES, /* bytes the backend holds beyond the live ones */
    HSW_COL_PER_REQUEST, /* allocations per request */
    HSW_COL_LAT_P50,     /* sampled latency of allocating calls (dashboard/latency.c) */
    HSW_COL_LAT_P99,
    HSW_COL_LAT_P999,
    HSW_COL_LAT_MAX,
    HSW_COL_LABELS,   /* HEAPSWITCH_LABELS: key=value,... */
    HSW_COL_COMMAND,
    HSW_COL_COUNT
};

struct hsw_column_info {
    const char *title; /* in the table header */
    const char *key;   /* in JSON, CSV and --sort */
    int width;         /* 0: takes the rest of the line */
    bool numeric;      /* right-aligned; sorts descending first */
};

extern const struct hsw_column_info hsw_columns[HSW_COL_COUNT];

/* Whether a column is one of the latency columns (top shows them on
 * demand). */
static inline bool hsw_column_is_latency(enum hsw_column column)
{
    return column >= HSW_COL_LAT_P50 && column <= HSW_COL_LAT_MAX;
}

/* The column named `key` (as in hsw_columns) or -1. */
int hsw_column_by_key(const char *key);
/* "pid, state, backend, ...": every column's key, for help and errors. */
const char *hsw_column_keys(void);
/* A cell's text for the table. */
const char *hsw_cell(const struct hsw_proc *proc, enum hsw_column column, char *out,
                     size_t size);
/* Sorts pointers to processes by a column; numeric columns biggest first
 * unless reverse. */
void hsw_sort(const struct hsw_proc **procs, size_t count, enum hsw_column column,
              bool reverse);
/* "running", "exited" or "dead" */
const char *hsw_state_name(enum heapswitch_process_state state);

void hsw_table_text(FILE *out, const struct hsw_proc *const *procs, size_t count,
                    int width);
void hsw_table_csv(FILE *out, const struct hsw_proc *const *procs, size_t count,
                   bool header, double timestamp);
/* One JSON object per process, an array around them unless lines. */
void hsw_table_json(FILE *out, const struct hsw_proc *const *procs, size_t count,
                    double timestamp);

#endif
