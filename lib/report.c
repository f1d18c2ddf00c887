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
#include "lib/procinfo.h"

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
    append_raw(json, "\"estimated\":[", 13);
    if (!figures->usable_exact)
        append_format(json, "%s\"live_bytes\",\"peak_live_bytes\",\"fragmentation\","
                            "\"size_classes\"",
                      figures->usable_counted ? "\"bytes_allocated\",\"bytes_freed\"," : "");
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
    append_format(&json, "{\"pid\":%d,\"ppid\":%d,", header->pid, (int)getppid());
    append_string(&json, "backend", header->backend);
    append_string(&json, "tag", header->tag);
    append_string(&json, "exe", header->exe);
    append_string(&json, "cmdline", header->cmdline);
    append_string(&json, "stats", figures.stats_level == HSW_STATS_EXACT ? "exact" : "default");
    append_estimated(&json, &figures);
    append_format(&json,
                  "\"calls\":{\"malloc\":%llu,\"calloc\":%llu,\"realloc\":%llu,"
                  "\"free\":%llu,\"aligned\":%llu},",
                  (unsigned long long)total.calls[HSW_CALL_MALLOC],
                  (unsigned long long)total.calls[HSW_CALL_CALLOC],
                  (unsigned long long)total.calls[HSW_CALL_REALLOC],
                  (unsigned long long)total.calls[HSW_CALL_FREE],
                  (unsigned long long)total.calls[HSW_CALL_ALIGNED]);
    append_format(&json, "\"failures\":%llu,\"bytes_requested\":%llu,",
                  (unsigned long long)total.failures,
                  (unsigned long long)total.bytes_requested);
    append_count_or_null(&json, "bytes_allocated", figures.usable_counted, total.bytes_allocated);
    append_count_or_null(&json, "bytes_freed", figures.usable_counted, total.bytes_freed);
    append_count_or_null(&json, "live_bytes", figures.live_known, figures.live);
    append_count_or_null(&json, "peak_live_bytes", figures.live_known, header->peak_live_bytes);
    append_format(&json, "\"requests\":%llu,\"threads_overflowed\":%u,",
                  (unsigned long long)total.requests, header->overflow_threads);
    append_format(&json,
                  "\"heap\":{\"valid\":%s,\"approximate\":%s,\"resident\":%llu,"
                  "\"active\":%llu,\"mapped\":%llu,\"retained\":%llu,\"committed\":%llu,",
                  header->heap.valid ? "true" : "false",
                  header->heap.approximate ? "true" : "false",
                  (unsigned long long)header->heap.resident,
                  (unsigned long long)header->heap.active,
                  (unsigned long long)header->heap.mapped,
                  (unsigned long long)header->heap.retained,
                  (unsigned long long)header->heap.committed);
    append_count_or_null(&json, "live", header->heap.live_valid != 0, header->heap.live);
    append_count_or_null(&json, "overhead", figures.overhead >= 0, (uint64_t)figures.overhead);
    json.used--; /* the last comma closes the heap object instead */
    append_raw(&json, "},", 2);
    if (figures.fragmentation >= 0)
        append_format(&json, "\"fragmentation\":%.4f,", figures.fragmentation);
    else
        append_raw(&json, "\"fragmentation\":null,", 21);
    append_format(&json, "\"rss_bytes\":%llu,\"max_rss_bytes\":%llu,",
                  (unsigned long long)hsw_proc_rss_bytes(header->pid),
                  (unsigned long long)usage.ru_maxrss * 1024);
    append_format(&json, "\"user_seconds\":%.6f,\"system_seconds\":%.6f}\n",
                  (double)usage.ru_utime.tv_sec + (double)usage.ru_utime.tv_usec / 1e6,
                  (double)usage.ru_stime.tv_sec + (double)usage.ru_stime.tv_usec / 1e6);

    fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0 || write(fd, json.text, json.used) != (ssize_t)json.used)
        hsw_log("cannot write the report to HEAPSWITCH_REPORT=", path, (const char *)NULL);
    if (fd >= 0)
        close(fd);
}
