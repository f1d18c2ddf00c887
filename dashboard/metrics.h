/* The Prometheus text exposition (format 0.0.4) of a set of snapshots:
 * the one renderer behind `heapswitch export`'s /metrics page and its
 * textfile. Pure: snapshots in, text out, no clock and no I/O but the
 * stream it is given, so that tests can drive it with synthetic values. */
#ifndef HSW_METRICS_H
#define HSW_METRICS_H

#include <stddef.h>
#include <stdio.h>

#include "include/heapswitch.h"

/* What the page says about the scan itself. */
struct hsw_metrics_scan {
    unsigned refused;        /* segments refused as invalid or unreadable */
    double duration_seconds; /* reading the segments; below 0: no sample */
};

/* Writes the whole page for `count` snapshots (one per process). Returns
 * 0, or -1 if the stream reports an error. */
int hsw_metrics_write(FILE *out, const struct heapswitch_snapshot *const *snapshots,
                      size_t count, const struct hsw_metrics_scan *scan);

/* Writes a sample's labels, without the closing brace (metrics.c). */
typedef void (*hsw_metrics_labels_fn)(FILE *out, const struct heapswitch_snapshot *snapshot);
/* The latency histogram family (dashboard/metrics_latency.c). */
void hsw_metrics_latency_write(FILE *out, const struct heapswitch_snapshot *const *snapshots,
                               size_t count, hsw_metrics_labels_fn labels);

#endif
