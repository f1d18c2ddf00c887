/* Sampled call latency in the heapswitch command (dashboard/latency.c):
 * durations as text, the figures of one process in JSON and CSV, and the
 * histogram of the detail view. */
#ifndef HSW_DASHBOARD_LATENCY_H
#define HSW_DASHBOARD_LATENCY_H

#include <stdio.h>

#include "include/heapswitch.h"

/* The percentiles every view shows, by name ("p50", "p99", "p999"). */
#define HSW_LATENCY_POINTS 3
extern const struct hsw_latency_point {
    const char *key;   /* in JSON, CSV, --sort */
    const char *title; /* in tables */
    double share;
} hsw_latency_points[HSW_LATENCY_POINTS];

/* "84ns", "1.2us", "15us", "3.1ms", "1.2s"; "-" for a negative duration. */
const char *hsw_format_ns(char *out, size_t size, double ns);

/* ,"latency":{...} or ,"latency":null: rate, clock, and per kind the
 * samples, mean, percentiles and maximum in ns. */
void hsw_latency_json(FILE *out, const struct heapswitch_latency *latency);
/* The CSV header's fields and one row's (each starting with a comma):
 * alloc and free p50, p99, p999 and max in ns, empty when unknown. */
void hsw_latency_csv_header(FILE *out);
void hsw_latency_csv(FILE *out, const struct heapswitch_latency *latency);

/* The allocating calls' histogram as text lines for the detail view: at
 * most `lines` lines of `width` columns, each a range of durations, its
 * share of the timed calls and a bar; calls `emit` per line. */
void hsw_latency_histogram_lines(const struct heapswitch_latency *latency,
                                 enum heapswitch_latency_kind kind, int lines, int width,
                                 void (*emit)(const char *text, void *context), void *context);

#endif
