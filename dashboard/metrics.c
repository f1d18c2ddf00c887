/* The Prometheus text exposition of heapswitch's snapshots (format 0.0.4):
 * one family per figure, each with its HELP and TYPE lines once, then one
 * sample per process labelled pid, program (the executable's path),
 * command (its base name), backend and tag, then the process's own
 * HEAPSWITCH_LABELS (docs/containers.md). A figure a process does not
 * have (CPU time of an exited process, heap figures not yet published,
 * usable bytes not counted at the default level) has no sample rather
 * than a 0. heapswitch_process_info says which counting level a process
 * runs at and which of its figures are estimates. */
#include "config.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dashboard/metrics.h"

/* Writes text as a label value: backslash, double quote and newline
 * escaped, bytes that are not UTF-8 replaced by '?'. */
static void label_value(FILE *out, const char *text)
{
    const unsigned char *at = (const unsigned char *)text;

    while (*at != '\0') {
        unsigned length = *at < 0x80             ? 1
                          : (*at & 0xe0) == 0xc0 ? 2
                          : (*at & 0xf0) == 0xe0 ? 3
                          : (*at & 0xf8) == 0xf0 ? 4
                                                 : 0;
        bool valid = length > 0 && !(length == 2 && *at < 0xc2);

        for (unsigned i = 1; valid && i < length; i++)
            valid = (at[i] & 0xc0) == 0x80;
        if (!valid) {
            fputc('?', out);
            at++;
            continue;
        }
        if (*at == '\\')
            fputs("\\\\", out);
        else if (*at == '"')
            fputs("\\\"", out);
        else if (*at == '\n')
            fputs("\\n", out);
        else
            fwrite(at, 1, length, out);
        at += length;
    }
}

/* The shortest of %.15g..%.17g that reads back as the same double: exact,
 * and 0.25 stays "0.25". */
static void write_double(FILE *out, double value)
{
    char text[32];

    for (int precision = 15; precision <= 17; precision++) {
        snprintf(text, sizeof text, "%.*g", precision, value);
        if (strtod(text, NULL) == value)
            break;
    }
    fputs(text, out);
}

/* The program: the executable's path, or the command line's first word
 * when the executable is unknown. */
static void program_of(const struct heapswitch_snapshot *s, char *out, size_t size)
{
    if (s->exe[0] != '\0')
        snprintf(out, size, "%s", s->exe);
    else
        snprintf(out, size, "%.*s", (int)strcspn(s->cmdline, " "), s->cmdline);
}

/* HEAPSWITCH_LABELS, "key=value,...": names and values were checked by
 * the reader (Prometheus names, none of the above; no ',' or '=' in a
 * value). Walked here so that this file needs no library. */
static void user_labels(FILE *out, const char *labels)
{
    for (const char *at = labels; *at != '\0';) {
        size_t pair = strcspn(at, ","), name = strcspn(at, "=");
        char value[128];

        if (name < pair) {
            snprintf(value, sizeof value, "%.*s", (int)(pair - name - 1), at + name + 1);
            fprintf(out, ",%.*s=\"", (int)name, at);
            label_value(out, value);
            fputc('"', out);
        }
        at += pair + (at[pair] == ',');
    }
}

/* The labels every sample of a process has, without the closing brace:
 * the caller may add its own. */
static void open_labels(FILE *out, const struct heapswitch_snapshot *s)
{
    char program[sizeof s->cmdline];
    const char *slash;

    program_of(s, program, sizeof program);
    slash = strrchr(program, '/');
    fprintf(out, "{pid=\"%d\",program=\"", (int)s->pid);
    label_value(out, program);
    fputs("\",command=\"", out);
    label_value(out, slash != NULL ? slash + 1 : program);
    fputs("\",backend=\"", out);
    label_value(out, s->backend);
    fputs("\",tag=\"", out);
    label_value(out, s->tag);
    fputc('"', out);
    user_labels(out, s->labels);
}

enum family {
    F_INFO,
    F_CALLS,
    F_FAILURES,
    F_BYTES_REQUESTED,
    F_BYTES_ALLOCATED,
    F_BYTES_FREED,
    F_REQUESTS,
    F_CPU,
    F_LIVE,
    F_PEAK,
    F_RSS,
    F_FRAGMENTATION,
    F_HEAP_RESIDENT,
    F_HEAP_OVERHEAD,
    F_THREADS,
    F_COUNT
};

static const struct {
    const char *name;
    const char *type;
    const char *help;
} families[F_COUNT] = {
    [F_INFO] = {"heapswitch_process_info", "gauge",
                "Always 1: the counting level of the process (stats) and which of its "
                "figures are estimates (estimated: live, usable)."},
    [F_CALLS] = {"heapswitch_calls_total", "counter",
                 "Allocator calls by kind (malloc, calloc, realloc, free, aligned)."},
    [F_FAILURES] = {"heapswitch_failures_total", "counter",
                    "Allocator calls that failed (NULL or an error code)."},
    [F_BYTES_REQUESTED] = {"heapswitch_bytes_requested_total", "counter",
                           "Bytes asked for by allocating calls."},
    [F_BYTES_ALLOCATED] = {"heapswitch_bytes_allocated_total", "counter",
                           "Usable bytes of the blocks handed out (counted at the exact "
                           "level only)."},
    [F_BYTES_FREED] =
        {"heapswitch_bytes_freed_total", "counter",
         "Usable bytes of the blocks given back (counted at the exact level "
         "only)."},
    [F_REQUESTS] = {"heapswitch_requests_total", "counter",
                    "Requests marked with heapswitch_request_done()."},
    [F_CPU] = {"heapswitch_cpu_seconds_total", "counter",
               "User and system CPU time of the process."},
    [F_LIVE] = {"heapswitch_live_bytes", "gauge",
                "Bytes allocated and not yet freed (an estimate where "
                "heapswitch_process_info says estimated=live)."},
    [F_PEAK] = {"heapswitch_peak_live_bytes", "gauge",
                "Highest live bytes seen at a refresh of the heap figures."},
    [F_RSS] = {"heapswitch_rss_bytes", "gauge", "Resident set size of the process."},
    [F_FRAGMENTATION] = {"heapswitch_fragmentation_ratio", "gauge",
                         "1 - live bytes / heap resident bytes, when known."},
    [F_HEAP_RESIDENT] = {"heapswitch_heap_resident_bytes", "gauge",
                         "Bytes the backend holds resident, by its own figures."},
    [F_HEAP_OVERHEAD] = {"heapswitch_heap_overhead_bytes", "gauge",
                         "Bytes the backend holds resident beyond the live ones."},
    [F_THREADS] = {"heapswitch_threads", "gauge", "Threads owning a counter slot."},
};

static void sample_u64(FILE *out, enum family f, const struct heapswitch_snapshot *s,
                       const char *kind, uint64_t value)
{
    fputs(families[f].name, out);
    open_labels(out, s);
    if (kind != NULL)
        fprintf(out, ",kind=\"%s\"", kind);
    fprintf(out, "} %" PRIu64 "\n", value);
}

static void sample_double(FILE *out, enum family f, const struct heapswitch_snapshot *s,
                          double value)
{
    fputs(families[f].name, out);
    open_labels(out, s);
    fputs("} ", out);
    write_double(out, value);
    fputc('\n', out);
}

static void sample_info(FILE *out, const struct heapswitch_snapshot *s)
{
    bool live = (s->estimated & HEAPSWITCH_ESTIMATED_LIVE) != 0;
    bool usable = (s->estimated & HEAPSWITCH_UNCOUNTED_USABLE) != 0;

    fputs(families[F_INFO].name, out);
    open_labels(out, s);
    fprintf(out, ",stats=\"%s\",estimated=\"%s%s%s\"} 1\n",
            s->stats_level == HEAPSWITCH_STATS_EXACT ? "exact" : "default",
            live ? "live" : "", live && usable ? "," : "", usable ? "usable" : "");
}

static void samples(FILE *out, enum family f, const struct heapswitch_snapshot *s)
{
    static const char *const kinds[] = {"malloc", "calloc", "realloc", "free", "aligned"};
    const struct heapswitch_counters *c = &s->counters;
    bool running = s->state == HEAPSWITCH_PROCESS_RUNNING;
    bool usable = (s->estimated & HEAPSWITCH_UNCOUNTED_USABLE) == 0;

    switch (f) {
    case F_INFO:
        sample_info(out, s);
        break;
    case F_CALLS: {
        const uint64_t calls[] = {c->malloc_calls, c->calloc_calls, c->realloc_calls,
                                  c->free_calls, c->aligned_calls};
        for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++)
            sample_u64(out, F_CALLS, s, kinds[k], calls[k]);
        break;
    }
    case F_FAILURES:
        sample_u64(out, f, s, NULL, c->failures);
        break;
    case F_BYTES_REQUESTED:
        sample_u64(out, f, s, NULL, c->bytes_requested);
        break;
    case F_BYTES_ALLOCATED:
        if (usable)
            sample_u64(out, f, s, NULL, c->bytes_allocated);
        break;
    case F_BYTES_FREED:
        if (usable)
            sample_u64(out, f, s, NULL, c->bytes_freed);
        break;
    case F_REQUESTS:
        sample_u64(out, f, s, NULL, c->requests);
        break;
    case F_CPU:
        if (s->cpu_seconds >= 0)
            sample_double(out, f, s, s->cpu_seconds);
        break;
    case F_LIVE:
        sample_u64(out, f, s, NULL, s->live_bytes);
        break;
    case F_PEAK:
        sample_u64(out, f, s, NULL, s->peak_live_bytes);
        break;
    case F_RSS:
        /* A process that is gone has no resident set (the reader says 0). */
        if (running)
            sample_u64(out, f, s, NULL, s->rss_bytes);
        break;
    case F_FRAGMENTATION:
        if (s->fragmentation >= 0)
            sample_double(out, f, s, s->fragmentation);
        break;
    case F_HEAP_RESIDENT:
        if (s->heap.valid)
            sample_u64(out, f, s, NULL, s->heap.resident);
        break;
    case F_HEAP_OVERHEAD:
        if (s->heap_overhead_bytes >= 0)
            sample_u64(out, f, s, NULL, (uint64_t)s->heap_overhead_bytes);
        break;
    case F_THREADS:
        sample_u64(out, f, s, NULL, s->threads);
        break;
    case F_COUNT:
        break;
    }
}

int hsw_metrics_write(FILE *out, const struct heapswitch_snapshot *const *snapshots,
                      size_t count, const struct hsw_metrics_scan *scan)
{
    for (int f = 0; f < F_COUNT; f++) {
        fprintf(out, "# HELP %s %s\n# TYPE %s %s\n", families[f].name, families[f].help,
                families[f].name, families[f].type);
        for (size_t i = 0; i < count; i++)
            samples(out, (enum family)f, snapshots[i]);
    }
    hsw_metrics_latency_write(out, snapshots, count, open_labels);
    fprintf(out,
            "# HELP heapswitch_processes Processes with a readable segment.\n"
            "# TYPE heapswitch_processes gauge\nheapswitch_processes %zu\n",
            count);
    fprintf(out,
            "# HELP heapswitch_segments_refused Segments refused as invalid or not "
            "readable in this scan.\n"
            "# TYPE heapswitch_segments_refused gauge\nheapswitch_segments_refused %u\n",
            scan->refused);
    fprintf(out, "# HELP heapswitch_up Whether the exporter could read the segments.\n"
                 "# TYPE heapswitch_up gauge\nheapswitch_up 1\n");
    if (scan->duration_seconds >= 0) {
        fprintf(out, "# HELP heapswitch_scrape_duration_seconds Time taken to read the "
                     "segments.\n"
                     "# TYPE heapswitch_scrape_duration_seconds gauge\n"
                     "heapswitch_scrape_duration_seconds ");
        write_double(out, scan->duration_seconds);
        fputc('\n', out);
    }
    fflush(out);
    return ferror(out) ? -1 : 0;
}
