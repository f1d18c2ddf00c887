/* HEAPSWITCH_REPORT: one line of JSON per process, appended at exit, for
 * A/B runs (`heapswitch ab`) and scripts. A program that forks or runs
 * others under the same environment adds one line per process, so the
 * file is JSON Lines; each line is written with a single write(2) on an
 * O_APPEND descriptor, so concurrent exits do not interleave.
 */
#include "config.h"

#include <fcntl.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "lib/figures.h"
#include "lib/internal.h"
#include "lib/latency.h"
#include "lib/procinfo.h"
#include "lib/report_keys.h"

#define KEY HSW_REPORT_KEY

struct json_buffer {
    char text[8192];
    size_t used;
};

static void append_raw(struct json_buffer *json, const char *text, size_t length)
{
    if (length > sizeof json->text - 1 - json->used)
        length = sizeof json->text - 1 - json->used;
    memcpy(json->text + json->used, text, length);
    json->used += length;
    json->text[json->used] = '\0';
}

static void append_format(struct json_buffer *json, const char *format, ...)
    __attribute__((format(printf, 2, 3)));

static void append_format(struct json_buffer *json, const char *format, ...)
{
    va_list arguments;
    int written;

    va_start(arguments, format);
    written = vsnprintf(json->text + json->used, sizeof json->text - json->used, format,
                        arguments);
    va_end(arguments);
    if (written > 0)
        json->used += (size_t)written < sizeof json->text - json->used
                          ? (size_t)written
                          : sizeof json->text - 1 - json->used;
}

/* A JSON string: quotes, backslashes and control bytes escaped. */
static void append_string(struct json_buffer *json, const char *key, const char *value)
{
    append_format(json, "\"%s\":\"", key);
    for (const unsigned char *at = (const unsigned char *)value; *at != '\0'; at++) {
        if (*at == '"' || *at == '\\')
            append_format(json, "\\%c", *at);
        else if (*at < 0x20 || *at == 0x7f)
            append_format(json, "\\u%04x", *at);
        else
            append_raw(json, (const char *)at, 1);
    }
    append_raw(json, "\",", 2);
}

/* "key":N, or "key":null for a figure this process does not have. */
static void append_count_or_null(struct json_buffer *json, const char *key, bool known,
                                 uint64_t value)
{
    if (known)
        append_format(json, "\"%s\":%llu,", key, (unsigned long long)value);
    else
        append_format(json, "\"%s\":null,", key);
}

/* The figures that are estimates rather than exact counts, by key. */
static void append_estimated(struct json_buffer *json, const struct hsw_live_figures *figures)
{
    append_format(json, KEY(ESTIMATED) "[");
    if (!figures->usable_exact)
        append_format(json, "%s\"" HSW_REPORT_LIVE_BYTES "\",\"" HSW_REPORT_PEAK_LIVE_BYTES
                            "\",\"" HSW_REPORT_FRAGMENTATION "\",\"size_classes\"",
                      figures->usable_counted ? "\"" HSW_REPORT_BYTES_ALLOCATED "\",\""
                                                HSW_REPORT_BYTES_FREED "\","
                                              : "");
    append_raw(json, "],", 2);
}

void hsw_report_write(const char *path)
{
    static struct json_buffer json; /* static: no large stack frame at exit */
    const struct hsw_segment_header *header = hsw_segment;
    struct hsw_slot total;
    struct hsw_live_figures figures;
    struct rusage usage;
    int fd;

    hsw_segment_totals(&total);
    hsw_figures_decode(header, total.bytes_allocated, total.bytes_freed, &figures);
    getrusage(RUSAGE_SELF, &usage);

    json.used = 0;
    append_format(&json, "{" KEY(PID) "%d," KEY(PPID) "%d,", header->pid, (int)getppid());
    append_string(&json, HSW_REPORT_BACKEND, header->backend);
    append_string(&json, HSW_REPORT_TAG, header->tag);
    append_string(&json, HSW_REPORT_LABELS, header->labels);
    append_string(&json, HSW_REPORT_EXE, header->exe);
    append_string(&json, HSW_REPORT_CMDLINE, header->cmdline);
    append_string(&json, HSW_REPORT_STATS,
                  figures.stats_level == HSW_STATS_EXACT ? "exact" : "default");
    append_estimated(&json, &figures);
    append_format(&json,
                  KEY(CALLS) "{" KEY(CALLS_MALLOC) "%llu," KEY(CALLS_CALLOC) "%llu,"
                  KEY(CALLS_REALLOC) "%llu," KEY(CALLS_FREE) "%llu," KEY(CALLS_ALIGNED) "%llu},",
                  (unsigned long long)total.calls[HSW_CALL_MALLOC],
                  (unsigned long long)total.calls[HSW_CALL_CALLOC],
                  (unsigned long long)total.calls[HSW_CALL_REALLOC],
                  (unsigned long long)total.calls[HSW_CALL_FREE],
                  (unsigned long long)total.calls[HSW_CALL_ALIGNED]);
    append_format(&json, KEY(FAILURES) "%llu," KEY(BYTES_REQUESTED) "%llu,",
                  (unsigned long long)total.failures,
                  (unsigned long long)total.bytes_requested);
    append_count_or_null(&json, HSW_REPORT_BYTES_ALLOCATED, figures.usable_counted,
                         total.bytes_allocated);
    append_count_or_null(&json, HSW_REPORT_BYTES_FREED, figures.usable_counted,
                         total.bytes_freed);
    append_count_or_null(&json, HSW_REPORT_LIVE_BYTES, figures.live_known, figures.live);
    append_count_or_null(&json, HSW_REPORT_PEAK_LIVE_BYTES, figures.live_known,
                         header->peak_live_bytes);
    append_format(&json, KEY(REQUESTS) "%llu," KEY(THREADS_OVERFLOWED) "%u,",
                  (unsigned long long)total.requests, header->overflow_threads);
    append_format(&json,
                  KEY(HEAP) "{" KEY(HEAP_VALID) "%s," KEY(HEAP_APPROXIMATE) "%s,"
                  KEY(HEAP_RESIDENT) "%llu," KEY(HEAP_ACTIVE) "%llu," KEY(HEAP_MAPPED) "%llu,"
                  KEY(HEAP_RETAINED) "%llu," KEY(HEAP_COMMITTED) "%llu,",
                  header->heap.valid ? "true" : "false",
                  header->heap.approximate ? "true" : "false",
                  (unsigned long long)header->heap.resident,
                  (unsigned long long)header->heap.active,
                  (unsigned long long)header->heap.mapped,
                  (unsigned long long)header->heap.retained,
                  (unsigned long long)header->heap.committed);
    append_count_or_null(&json, HSW_REPORT_HEAP_LIVE, header->heap.live_valid != 0,
                         header->heap.live);
    append_count_or_null(&json, HSW_REPORT_HEAP_OVERHEAD, figures.overhead >= 0,
                         (uint64_t)figures.overhead);
    json.used--; /* the last comma closes the heap object instead */
    append_raw(&json, "},", 2);
    if (figures.fragmentation >= 0)
        append_format(&json, KEY(FRAGMENTATION) "%.4f,", figures.fragmentation);
    else
        append_format(&json, KEY(FRAGMENTATION) "null,");
    append_format(&json, KEY(RSS_BYTES) "%llu," KEY(MAX_RSS_BYTES) "%llu,",
                  (unsigned long long)hsw_proc_rss_bytes(header->pid),
                  (unsigned long long)usage.ru_maxrss * 1024);
    append_format(&json, KEY(USER_SECONDS) "%.6f," KEY(SYSTEM_SECONDS) "%.6f,",
                  (double)usage.ru_utime.tv_sec + (double)usage.ru_utime.tv_usec / 1e6,
                  (double)usage.ru_stime.tv_sec + (double)usage.ru_stime.tv_usec / 1e6);
    json.used += hsw_latency_report_json(json.text + json.used, sizeof json.text - json.used);
    append_raw(&json, "}\n", 2);

    fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0 || write(fd, json.text, json.used) != (ssize_t)json.used)
        hsw_log("cannot write the report to HEAPSWITCH_REPORT=", path, (const char *)NULL);
    if (fd >= 0)
        close(fd);
}
