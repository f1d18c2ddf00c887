/* Sampled call latency in the heapswitch command: the reader gives
 * per-process histograms (include/heapswitch.h); this file turns them
 * into text for the tables, JSON and CSV fields, and the detail view's
 * histogram. */
#include "config.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "dashboard/latency.h"

const struct hsw_latency_point hsw_latency_points[HSW_LATENCY_POINTS] = {
    {"p50", "P50", 0.5},
    {"p99", "P99", 0.99},
    {"p999", "P99.9", 0.999},
};

const char *hsw_format_ns(char *out, size_t size, double ns)
{
    if (!(ns >= 0))
        return "-";
    if (ns < 1000)
        snprintf(out, size, "%.0fns", ns);
    else if (ns < 10e3)
        snprintf(out, size, "%.1fus", ns / 1e3);
    else if (ns < 1e6)
        snprintf(out, size, "%.0fus", ns / 1e3);
    else if (ns < 10e6)
        snprintf(out, size, "%.1fms", ns / 1e6);
    else if (ns < 1e9)
        snprintf(out, size, "%.0fms", ns / 1e6);
    else
        snprintf(out, size, "%.2fs", ns / 1e9);
    return out;
}

static const char *const kind_keys[HEAPSWITCH_LATENCY_KINDS] = {"alloc", "free"};

/* A duration in JSON: null when unknown. */
static void json_ns(FILE *out, const char *key, double ns)
{
    if (ns >= 0)
        fprintf(out, ",\"%s\":%.1f", key, ns);
    else
        fprintf(out, ",\"%s\":null", key);
}

void hsw_latency_json(FILE *out, const struct heapswitch_latency *latency)
{
    if (!latency->present) {
        fputs(",\"latency\":null", out);
        return;
    }
    fprintf(out, ",\"latency\":{\"rate\":%u,\"clock\":\"%s\"", latency->rate,
            latency->tsc ? "tsc" : "monotonic");
    for (int kind = 0; kind < HEAPSWITCH_LATENCY_KINDS; kind++) {
        const struct heapswitch_latency_histogram *h = &latency->kinds[kind];
        char key[32];

        fprintf(out, ",\"%s\":{\"samples\":%llu", kind_keys[kind], (unsigned long long)h->samples);
        json_ns(out, "mean_ns", h->samples ? h->sum_ns / (double)h->samples : -1);
        for (int p = 0; p < HSW_LATENCY_POINTS; p++) {
            snprintf(key, sizeof key, "%s_ns", hsw_latency_points[p].key);
            json_ns(out, key, heapswitch_latency_quantile(latency, kind, hsw_latency_points[p].share));
        }
        json_ns(out, "max_ns", h->samples ? h->max_ns : -1);
        fputc('}', out);
    }
    fputc('}', out);
}

void hsw_latency_csv_header(FILE *out)
{
    for (int kind = 0; kind < HEAPSWITCH_LATENCY_KINDS; kind++) {
        for (int p = 0; p < HSW_LATENCY_POINTS; p++)
            fprintf(out, ",%s_%s_ns", kind_keys[kind], hsw_latency_points[p].key);
        fprintf(out, ",%s_max_ns", kind_keys[kind]);
    }
}

void hsw_latency_csv(FILE *out, const struct heapswitch_latency *latency)
{
    for (int kind = 0; kind < HEAPSWITCH_LATENCY_KINDS; kind++) {
        bool known = latency->present && latency->kinds[kind].samples != 0;

        for (int p = 0; p < HSW_LATENCY_POINTS; p++)
            if (known)
                fprintf(out, ",%.1f",
                        heapswitch_latency_quantile(latency, kind, hsw_latency_points[p].share));
            else
                fputc(',', out);
        if (known)
            fprintf(out, ",%.1f", latency->kinds[kind].max_ns);
        else
            fputc(',', out);
    }
}

/* Buckets merged four at a time (half a power of two: 9% apart at most)
 * so that a screen holds the range from the shortest to the longest. */
#define MERGE 4

void hsw_latency_histogram_lines(const struct heapswitch_latency *latency,
                                 enum heapswitch_latency_kind kind, int lines, int width,
                                 void (*emit)(const char *text, void *context), void *context)
{
    const struct heapswitch_latency_histogram *h = &latency->kinds[kind];
    uint64_t merged[HEAPSWITCH_LATENCY_BUCKETS / MERGE + 1] = {0}, most = 0;
    int first = -1, last = -1, groups = 0;
    char line[256], low[16], high[16];

    if (!latency->present || h->samples == 0 || lines < 1)
        return;
    for (unsigned b = 0; b < HEAPSWITCH_LATENCY_BUCKETS; b++)
        merged[b / MERGE] += h->buckets[b];
    for (int g = 0; g < HEAPSWITCH_LATENCY_BUCKETS / MERGE + 1; g++) {
        if (merged[g] == 0)
            continue;
        if (first < 0)
            first = g;
        last = g;
        most = merged[g] > most ? merged[g] : most;
    }
    groups = last - first + 1;
    /* Too many for the screen: keep the longest ones, where the tail is. */
    if (groups > lines)
        first = last - lines + 1;
    if (width > (int)sizeof line - 1)
        width = (int)sizeof line - 1;
    for (int g = first; g <= last; g++) {
        unsigned b = (unsigned)g * MERGE;
        double share = (double)merged[g] / (double)h->samples;
        int bar_room = width - 30, bar;

        hsw_format_ns(low, sizeof low, heapswitch_latency_bucket_ns(latency, b));
        if (b + MERGE >= HEAPSWITCH_LATENCY_BUCKETS)
            snprintf(high, sizeof high, "...");
        else
            hsw_format_ns(high, sizeof high, heapswitch_latency_bucket_ns(latency, b + MERGE));
        bar = bar_room > 0 && most > 0 ? (int)ceil((double)merged[g] * bar_room / (double)most) : 0;
        if (merged[g] == 0)
            bar = 0;
        snprintf(line, sizeof line, "%7s-%-7s %6.2f%% %.*s", low, high, share * 100, bar,
                 "################################################################"
                 "################################################################"
                 "################################################################");
        emit(line, context);
    }
}
