/* Sampled call latency as a Prometheus histogram:
 * heapswitch_call_latency_seconds{kind="alloc"|"free", le=...} with the
 * usual cumulative _bucket series (and +Inf), _sum and _count, so that
 * histogram_quantile() works on one process and on sums across a fleet by
 * backend and tag. The buckets are the same for every process (1, 2.5 and
 * 5 per decade from 25 ns to 10 s), whatever its clock: each process's
 * finer histogram (8 buckets per power of two) is read into them, a bucket
 * counted below a bound when its midpoint is. _count counts the timed
 * calls (one in HEAPSWITCH_LATENCY), not every call. */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>

#include "dashboard/metrics.h"

static const double bounds_seconds[] = {
    25e-9, 50e-9, 100e-9, 250e-9, 500e-9, 1e-6, 2.5e-6, 5e-6, 10e-6, 25e-6, 50e-6, 100e-6,
    250e-6, 500e-6, 1e-3, 2.5e-3, 5e-3, 10e-3, 25e-3, 50e-3, 100e-3, 250e-3, 500e-3, 1, 2.5, 5,
    10,
};
/* The le labels as written: the shortest form that reads back exact. */
static const char *const bound_labels[] = {
    "2.5e-08", "5e-08", "1e-07", "2.5e-07", "5e-07", "1e-06", "2.5e-06", "5e-06", "1e-05",
    "2.5e-05", "5e-05", "0.0001", "0.00025", "0.0005", "0.001", "0.0025", "0.005", "0.01",
    "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10",
};
_Static_assert(sizeof bounds_seconds / sizeof bounds_seconds[0] ==
                   sizeof bound_labels / sizeof bound_labels[0],
               "a label per bound");

static const char *const kind_names[HEAPSWITCH_LATENCY_KINDS] = {"alloc", "free"};

void hsw_metrics_latency_write(FILE *out, const struct heapswitch_snapshot *const *snapshots,
                               size_t count, hsw_metrics_labels_fn labels)
{
    const char *name = "heapswitch_call_latency_seconds";

    fprintf(out,
            "# HELP %s Duration of the backend's own allocating calls and frees, timed for one call "
            "in HEAPSWITCH_LATENCY (the count is of timed calls).\n# TYPE %s histogram\n",
            name, name);
    for (size_t i = 0; i < count; i++) {
        const struct heapswitch_snapshot *s = snapshots[i];

        if (!s->latency.present)
            continue;
        for (int kind = 0; kind < HEAPSWITCH_LATENCY_KINDS; kind++) {
            const struct heapswitch_latency_histogram *h = &s->latency.kinds[kind];

            for (size_t b = 0; b < sizeof bounds_seconds / sizeof bounds_seconds[0]; b++) {
                fprintf(out, "%s_bucket", name);
                labels(out, s);
                fprintf(out, ",kind=\"%s\",le=\"%s\"} %" PRIu64 "\n", kind_names[kind],
                        bound_labels[b],
                        heapswitch_latency_count_below(&s->latency, kind, bounds_seconds[b] * 1e9));
            }
            fprintf(out, "%s_bucket", name);
            labels(out, s);
            fprintf(out, ",kind=\"%s\",le=\"+Inf\"} %" PRIu64 "\n", kind_names[kind], h->samples);
            fprintf(out, "%s_sum", name);
            labels(out, s);
            fprintf(out, ",kind=\"%s\"} %.9g\n", kind_names[kind], h->sum_ns / 1e9);
            fprintf(out, "%s_count", name);
            labels(out, s);
            fprintf(out, ",kind=\"%s\"} %" PRIu64 "\n", kind_names[kind], h->samples);
        }
    }
}
