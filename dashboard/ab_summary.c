/* heapswitch ab's figures: the metric table, each backend's medians and
 * ranges from the runs of the metric's own kind (timed or counted), and
 * its comparison with the first backend through the statistics module
 * (dashboard/stats.c): ratio, interval, verdict. Also the words every
 * output uses for runs, timings and verdicts. */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dashboard/ab.h"
#include "dashboard/format.h"
#include "dashboard/latency.h"
#include "lib/env_names.h"

const struct ab_metric_info ab_metrics[AB_METRIC_COUNT] = {
    [AB_WALL] = {"wall_seconds", "wall time", AB_UNIT_SECONDS, AB_TIMED},
    [AB_CPU] = {"cpu_seconds", "CPU (user+sys)", AB_UNIT_SECONDS, AB_TIMED},
    [AB_USER] = {"user_seconds", "user CPU", AB_UNIT_SECONDS, AB_TIMED},
    [AB_SYSTEM] = {"system_seconds", "system CPU", AB_UNIT_SECONDS, AB_TIMED},
    [AB_MAX_RSS] = {"max_rss_bytes", "max RSS", AB_UNIT_BYTES, AB_TIMED},
    [AB_ALLOCS] = {"allocs", "allocations", AB_UNIT_COUNT, AB_COUNTED},
    [AB_FREES] = {"frees", "frees", AB_UNIT_COUNT, AB_COUNTED},
    [AB_BYTES_REQUESTED] = {"bytes_requested", "bytes requested", AB_UNIT_BYTES, AB_COUNTED},
    [AB_BYTES_ALLOCATED] = {"bytes_allocated", "bytes allocated", AB_UNIT_BYTES, AB_COUNTED},
    [AB_PEAK_LIVE] = {"peak_live_bytes", "peak live (root)", AB_UNIT_BYTES, AB_COUNTED},
    [AB_FRAGMENTATION] = {"fragmentation", "fragmentation (root)", AB_UNIT_FRACTION,
                          AB_COUNTED},
    [AB_PROCESSES] = {"processes", "processes", AB_UNIT_COUNT, AB_COUNTED},
    [AB_MALLOC_P50] = {"alloc_p50_ns", "alloc latency p50 (root)", AB_UNIT_NANOSECONDS, AB_COUNTED},
    [AB_MALLOC_P99] = {"alloc_p99_ns", "alloc latency p99 (root)", AB_UNIT_NANOSECONDS, AB_COUNTED},
    [AB_MALLOC_P999] = {"alloc_p999_ns", "alloc latency p99.9 (root)", AB_UNIT_NANOSECONDS,
                        AB_COUNTED},
    [AB_FREE_P99] = {"free_p99_ns", "free latency p99 (root)", AB_UNIT_NANOSECONDS, AB_COUNTED},
};

/* The successful values of one metric of one backend, from the runs of
 * the metric's kind. Returns their number. */
static size_t values_of(const struct ab *ab, unsigned backend, enum ab_metric metric,
                        double *out)
{
    size_t n = 0;

    for (size_t r = 0; r < ab->run_count; r++) {
        const struct ab_run *run = &ab->runs[r];
        if (run->backend == backend && run->kind == ab_metrics[metric].source && run->ok &&
            run->has[metric])
            out[n++] = run->value[metric];
    }
    return n;
}

void ab_summarize(struct ab *ab)
{
    double *base = calloc(ab->run_count + 1, sizeof *base);
    double *values = calloc(ab->run_count + 1, sizeof *values);

    for (unsigned b = 0; b < ab->backend_count; b++) {
        struct ab_backend *backend = &ab->backends[b];

        for (int m = 0; m < AB_METRIC_COUNT; m++) {
            struct ab_summary *summary = &backend->summary[m];
            struct hsw_comparison *comparison = &backend->comparison[m];
            size_t n, n_base;

            memset(summary, 0, sizeof *summary);
            memset(comparison, 0, sizeof *comparison);
            comparison->verdict = HSW_VERDICT_NOT_ENOUGH_DATA;
            comparison->ratio = comparison->ratio_low = comparison->ratio_high = NAN;
            comparison->p_value = NAN;
            backend->ratio[m] = NAN;
            if (base == NULL || values == NULL)
                continue;
            n = values_of(ab, b, (enum ab_metric)m, values);
            for (size_t r = 0; r < ab->run_count; r++)
                if (ab->runs[r].backend == b && ab->runs[r].ok && ab->runs[r].estimated[m])
                    summary->estimated = true;
            if (n > 0) {
                summary->n = (unsigned)n;
                summary->median = hsw_median(values, n); /* sorts them */
                summary->min = values[0];
                summary->max = values[n - 1];
            }
            n_base = values_of(ab, 0, (enum ab_metric)m, base);
            if (ab_metric_compared((enum ab_metric)m))
                hsw_compare(base, n_base, values, n, &ab->compare, comparison);
            if (n > 0 && ab->backends[0].summary[m].n > 0 && ab->backends[0].summary[m].median > 0)
                backend->ratio[m] = summary->median / ab->backends[0].summary[m].median;
        }
    }
    free(base);
    free(values);
}

const char *ab_format_value(char *out, size_t size, enum ab_metric metric, double value)
{
    switch (ab_metrics[metric].unit) {
    case AB_UNIT_SECONDS:
        if (value < 1)
            snprintf(out, size, "%.1f ms", value * 1e3);
        else
            snprintf(out, size, "%.3f s", value);
        return out;
    case AB_UNIT_BYTES: return hsw_format_bytes(out, size, value);
    case AB_UNIT_COUNT: return hsw_format_count(out, size, value);
    case AB_UNIT_FRACTION: snprintf(out, size, "%.1f%%", value * 100); return out;
    case AB_UNIT_NANOSECONDS: return hsw_format_ns(out, size, value);
    }
    return out;
}

void ab_status_text(char *out, size_t size, const struct ab_run *run)
{
    if (run->signal != 0)
        snprintf(out, size, "killed by signal %d (%s)", run->signal, strsignal(run->signal));
    else
        snprintf(out, size, "exit status %d", run->exit_code);
}

const char *ab_kind_name(enum ab_kind kind)
{
    return kind == AB_TIMED ? "timed" : kind == AB_COUNTED ? "counted" : "warmup";
}

void ab_timing_text(char *out, size_t size, const struct ab *ab, const struct ab_backend *backend)
{
    (void)ab;
    if (backend->timing == AB_TIMING_HEAPSWITCH)
        snprintf(out, size, "libheapswitch, " HSW_ENV_STATS "=0");
    else if (backend->direct[0] == '\0')
        snprintf(out, size, "nothing preloaded");
    else
        snprintf(out, size, "LD_PRELOAD=%s", backend->direct);
}

void ab_counted_text(char *out, size_t size, const struct ab *ab)
{
    if (ab->stats_level != NULL)
        snprintf(out, size, "libheapswitch, " HSW_ENV_STATS "=%s", ab->stats_level);
    else
        snprintf(out, size, "libheapswitch, counting at the default level");
}

const char *ab_better_name(const struct ab *ab, unsigned backend, enum ab_metric metric)
{
    switch (ab->backends[backend].comparison[metric].verdict) {
    case HSW_VERDICT_A_BETTER: return ab->backends[0].name;
    case HSW_VERDICT_B_BETTER: return ab->backends[backend].name;
    default: return NULL;
    }
}

void ab_verdict_text(char *out, size_t size, const struct ab *ab, unsigned backend,
                     enum ab_metric metric)
{
    const struct hsw_comparison *c = &ab->backends[backend].comparison[metric];
    const char *better = ab_better_name(ab, backend, metric);

    if (better != NULL)
        snprintf(out, size, "%s better", better);
    else if (c->verdict == HSW_VERDICT_NOT_ENOUGH_DATA)
        snprintf(out, size, "not enough data (%u more run%s)", c->runs_needed,
                 c->runs_needed == 1 ? "" : "s");
    else
        snprintf(out, size, "%s", hsw_verdict_text(c->verdict));
}
