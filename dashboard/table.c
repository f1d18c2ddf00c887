/* The process table in its text, JSON and CSV forms. */
#include "config.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "dashboard/format.h"
#include "dashboard/latency.h"
#include "dashboard/table.h"

const struct hsw_column_info hsw_columns[HSW_COL_COUNT] = {
    [HSW_COL_PID] = {"PID", "pid", 7, true},
    [HSW_COL_STATE] = {"STATE", "state", 7, false},
    [HSW_COL_BACKEND] = {"BACKEND", "backend", 8, false},
    [HSW_COL_TAG] = {"TAG", "tag", 8, false},
    [HSW_COL_ALLOCS] = {"ALLOC/s", "allocs", 8, true},
    [HSW_COL_FREES] = {"FREE/s", "frees", 8, true},
    [HSW_COL_BYTES] = {"BYTES/s", "bytes", 9, true},
    [HSW_COL_LIVE] = {"LIVE", "live", 9, true},
    [HSW_COL_PEAK] = {"PEAK", "peak", 9, true},
    [HSW_COL_RSS] = {"RSS", "rss", 9, true},
    [HSW_COL_FRAG] = {"FRAG%", "frag", 6, true},
    [HSW_COL_FRAG_BYTES] = {"FRAG-B", "frag_bytes", 9, true},
    [HSW_COL_PER_REQUEST] = {"ALLOC/REQ", "per_request", 9, true},
    [HSW_COL_LAT_P50] = {"P50", "p50", 6, true},
    [HSW_COL_LAT_P99] = {"P99", "p99", 6, true},
    [HSW_COL_LAT_P999] = {"P99.9", "p999", 6, true},
    [HSW_COL_LAT_MAX] = {"MAXLAT", "max_latency", 6, true},
    [HSW_COL_LABELS] = {"LABELS", "labels", 16, false},
    [HSW_COL_COMMAND] = {"COMMAND", "command", 0, false},
};

int hsw_column_by_key(const char *key)
{
    for (int c = 0; c < HSW_COL_COUNT; c++)
        if (strcmp(hsw_columns[c].key, key) == 0)
            return c;
    return -1;
}

const char *hsw_column_keys(void)
{
    static char text[256];

    if (text[0] == '\0')
        for (int c = 0; c < HSW_COL_COUNT; c++) {
            size_t used = strlen(text);
            snprintf(text + used, sizeof text - used, "%s%s", c ? ", " : "", hsw_columns[c].key);
        }
    return text;
}

const char *hsw_state_name(enum heapswitch_process_state state)
{
    return state == HEAPSWITCH_PROCESS_RUNNING ? "running"
           : state == HEAPSWITCH_PROCESS_EXITED ? "exited"
                                                : "dead";
}

/* A numeric value of a column, for sorting. */
static double value_of(const struct hsw_proc *proc, enum hsw_column column)
{
    switch (column) {
    case HSW_COL_PID: return proc->now.pid;
    case HSW_COL_ALLOCS: return proc->has_rates ? proc->rates.allocs_per_second : -1;
    case HSW_COL_FREES: return proc->has_rates ? proc->rates.frees_per_second : -1;
    case HSW_COL_BYTES: return proc->has_rates ? proc->rates.bytes_per_second : -1;
    case HSW_COL_LIVE: return (double)proc->now.live_bytes;
    case HSW_COL_PEAK: return (double)proc->now.peak_live_bytes;
    case HSW_COL_RSS: return (double)proc->now.rss_bytes;
    case HSW_COL_FRAG: return proc->now.fragmentation;
    case HSW_COL_FRAG_BYTES: return (double)proc->now.heap_overhead_bytes;
    case HSW_COL_PER_REQUEST: return proc->has_rates ? proc->rates.allocs_per_request : -1;
    case HSW_COL_LAT_P50:
    case HSW_COL_LAT_P99:
    case HSW_COL_LAT_P999:
        return heapswitch_latency_quantile(&proc->now.latency, HEAPSWITCH_LATENCY_ALLOC,
                                           hsw_latency_points[column - HSW_COL_LAT_P50].share);
    case HSW_COL_LAT_MAX:
        return proc->now.latency.present &&
                       proc->now.latency.kinds[HEAPSWITCH_LATENCY_ALLOC].samples != 0
                   ? proc->now.latency.kinds[HEAPSWITCH_LATENCY_ALLOC].max_ns
                   : -1;
    default: return 0;
    }
}

static const char *text_of(const struct hsw_proc *proc, enum hsw_column column)
{
    switch (column) {
    case HSW_COL_STATE: return hsw_state_name(proc->now.state);
    case HSW_COL_BACKEND: return proc->now.backend;
    case HSW_COL_TAG: return proc->now.tag;
    case HSW_COL_LABELS: return proc->now.labels;
    case HSW_COL_COMMAND: return proc->now.cmdline[0] ? proc->now.cmdline : proc->now.exe;
    default: return "";
    }
}

/* "~" before a figure that is an estimate (docs/fragmentation.md). */
static const char *estimate_mark(const struct hsw_proc *proc)
{
    return (proc->now.estimated & HEAPSWITCH_ESTIMATED_LIVE) ? "~" : "";
}

/* Live and peak bytes: "-" when unknown, "~" when estimated. */
static const char *live_cell(const struct hsw_proc *proc, double value, char *out, size_t size)
{
    char bytes[32];

    if (proc->now.estimated & HEAPSWITCH_UNKNOWN_LIVE)
        return "-";
    snprintf(out, size, "%s%s", estimate_mark(proc),
             hsw_format_bytes(bytes, sizeof bytes, value));
    return out;
}

const char *hsw_cell(const struct hsw_proc *proc, enum hsw_column column, char *out,
                     size_t size)
{
    double value = value_of(proc, column);

    switch (column) {
    case HSW_COL_PID:
        snprintf(out, size, "%d", (int)proc->now.pid);
        return out;
    case HSW_COL_ALLOCS:
    case HSW_COL_FREES:
        return proc->has_rates ? hsw_format_count(out, size, value) : "-";
    case HSW_COL_BYTES:
        return proc->has_rates ? hsw_format_bytes(out, size, value) : "-";
    case HSW_COL_LIVE:
    case HSW_COL_PEAK:
        return live_cell(proc, value, out, size);
    case HSW_COL_RSS:
        return proc->now.rss_bytes ? hsw_format_bytes(out, size, value) : "-";
    case HSW_COL_FRAG:
        if (proc->now.fragmentation < 0)
            return "-";
        snprintf(out, size, "%s%.1f", estimate_mark(proc), proc->now.fragmentation * 100);
        return out;
    case HSW_COL_FRAG_BYTES:
        if (proc->now.fragmentation < 0 || proc->now.heap_overhead_bytes < 0)
            return "-";
        return hsw_format_bytes(out, size, value);
    case HSW_COL_PER_REQUEST:
        if (!proc->has_rates || proc->rates.allocs_per_request < 0)
            return "-";
        return hsw_format_count(out, size, value);
    case HSW_COL_TAG:
        return proc->now.tag[0] ? proc->now.tag : "-";
    case HSW_COL_LABELS:
        return proc->now.labels[0] ? proc->now.labels : "-";
    case HSW_COL_LAT_P50:
    case HSW_COL_LAT_P99:
    case HSW_COL_LAT_P999:
    case HSW_COL_LAT_MAX:
        return hsw_format_ns(out, size, value);
    default:
        return text_of(proc, column);
    }
}

static enum hsw_column sort_column;
static bool sort_reverse;

static int compare(const void *a, const void *b)
{
    const struct hsw_proc *x = *(const struct hsw_proc *const *)a;
    const struct hsw_proc *y = *(const struct hsw_proc *const *)b;
    int order;

    if (hsw_columns[sort_column].numeric) {
        double u = value_of(x, sort_column), v = value_of(y, sort_column);
        order = u < v ? 1 : u > v ? -1 : 0; /* biggest first */
    } else {
        order = strcmp(text_of(x, sort_column), text_of(y, sort_column));
    }
    if (order == 0)
        order = x->now.pid < y->now.pid ? -1 : x->now.pid > y->now.pid;
    return sort_reverse ? -order : order;
}

void hsw_sort(const struct hsw_proc **procs, size_t count, enum hsw_column column,
              bool reverse)
{
    sort_column = column;
    sort_reverse = reverse;
    qsort(procs, count, sizeof procs[0], compare); // NOLINT(bugprone-sizeof-expression): sorts pointers
}

/* Whether any of the processes has labels: the LABELS column is left
 * out of a text table where none has. */
static bool any_labels(const struct hsw_proc *const *procs, size_t count)
{
    for (size_t i = 0; i < count; i++)
        if (procs[i]->now.labels[0] != '\0')
            return true;
    return false;
}

/* Whether any of the processes times its calls: the text table shows
 * the latency columns only then. */
static bool any_latency(const struct hsw_proc *const *procs, size_t count)
{
    for (size_t i = 0; i < count; i++)
        if (procs[i]->now.latency.present)
            return true;
    return false;
}

/* Whether a text table leaves column c out. */
static bool column_left_out(int c, bool labels, bool latency)
{
    return (c == HSW_COL_LABELS && !labels) ||
           (!latency && hsw_column_is_latency((enum hsw_column)c));
}

void hsw_table_text(FILE *out, const struct hsw_proc *const *procs, size_t count,
                    int width)
{
    bool latency = any_latency(procs, count);
    char cell[64];
    int used = 0;
    bool labels = any_labels(procs, count);

    for (int c = 0; c < HSW_COL_COUNT; c++)
        if (column_left_out(c, labels, latency))
            continue;
        else if (hsw_columns[c].width == 0) /* the last: no padding past the line's end */
            fputs(hsw_columns[c].title, out);
        else
            fprintf(out, hsw_columns[c].numeric ? "%*s " : "%-*s ", hsw_columns[c].width,
                    hsw_columns[c].title);
    fputc('\n', out);
    for (size_t i = 0; i < count; i++) {
        used = 0;
        for (int c = 0; c < HSW_COL_COUNT; c++) {
            const char *text;

            if (column_left_out(c, labels, latency))
                continue;
            text = hsw_cell(procs[i], (enum hsw_column)c, cell, sizeof cell);
            if (hsw_columns[c].width == 0) {
                int room = width > used ? width - used : 0;
                fprintf(out, "%.*s", width > 0 ? room : (int)strlen(text), text);
            } else {
                used += fprintf(out, hsw_columns[c].numeric ? "%*.*s " : "%-*.*s ",
                                hsw_columns[c].width, hsw_columns[c].width, text);
            }
        }
        fputc('\n', out);
    }
}

/* The names of the figures that are estimates, separated by `separator`. */
static const char *estimated_list(const struct heapswitch_snapshot *snapshot, char separator)
{
    static char text[128];
    bool usable = !(snapshot->estimated & HEAPSWITCH_UNCOUNTED_USABLE);

    text[0] = '\0';
    if (snapshot->estimated & HEAPSWITCH_ESTIMATED_LIVE)
        snprintf(text, sizeof text,
                 "%slive_bytes%cpeak_live_bytes%cfragmentation%cheap_overhead_bytes%csize_classes",
                 usable ? (separator == ' ' ? "bytes_allocated bytes_freed " : "bytes_allocated,bytes_freed,") : "",
                 separator, separator, separator, separator);
    return text;
}

void hsw_table_csv(FILE *out, const struct hsw_proc *const *procs, size_t count, bool header,
                   double timestamp)
{
    if (header)
        fprintf(out, "time,pid,state,backend,tag,allocs_per_second,frees_per_second,"
                     "bytes_per_second,live_bytes,peak_live_bytes,rss_bytes,fragmentation,"
                     "allocs_per_request,malloc,calloc,realloc,free,aligned,failures,"
                     "bytes_requested,bytes_allocated,bytes_freed,requests,threads,"
                     "stats,estimated,heap_overhead_bytes,cpu_seconds");
    if (header) {
        hsw_latency_csv_header(out);
        fputs(",command,labels\n", out);
    }
    for (size_t i = 0; i < count; i++) {
        const struct hsw_proc *p = procs[i];
        const struct heapswitch_counters *c = &p->now.counters;
        fprintf(out, "%.3f,%d,%s,", timestamp, (int)p->now.pid, hsw_state_name(p->now.state));
        hsw_csv_field(out, p->now.backend);
        fputc(',', out);
        hsw_csv_field(out, p->now.tag);
        fprintf(out, ",%.1f,%.1f,%.1f,%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%.4f,%.1f,",
                p->has_rates ? p->rates.allocs_per_second : 0,
                p->has_rates ? p->rates.frees_per_second : 0,
                p->has_rates ? p->rates.bytes_per_second : 0, p->now.live_bytes,
                p->now.peak_live_bytes, p->now.rss_bytes, p->now.fragmentation,
                p->has_rates ? p->rates.allocs_per_request : -1);
        fprintf(out,
                "%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64
                ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%u,",
                c->malloc_calls, c->calloc_calls, c->realloc_calls, c->free_calls,
                c->aligned_calls, c->failures, c->bytes_requested, c->bytes_allocated,
                c->bytes_freed, c->requests, p->now.threads);
        fprintf(out, "%s,", p->now.stats_level == HEAPSWITCH_STATS_EXACT ? "exact" : "default");
        hsw_csv_field(out, estimated_list(&p->now, ' '));
        fprintf(out, ",%" PRId64 ",%.2f", p->now.heap_overhead_bytes, p->now.cpu_seconds);
        hsw_latency_csv(out, &p->now.latency);
        fputc(',', out);
        hsw_csv_field(out, p->now.cmdline);
        fputc(',', out);
        hsw_csv_field(out, p->now.labels);
        fputc('\n', out);
    }
}

static void json_u64_or_null(FILE *out, const char *key, bool known, uint64_t value)
{
    if (known)
        fprintf(out, ",\"%s\":%" PRIu64, key, value);
    else
        fprintf(out, ",\"%s\":null", key);
}

static void json_number_or_null(FILE *out, const char *key, bool known, double value)
{
    if (known)
        fprintf(out, ",\"%s\":%.4f", key, value);
    else
        fprintf(out, ",\"%s\":null", key);
}

/* "key":"value",... of a validated label list. */
static void json_labels(FILE *out, const char *labels)
{
    char key[64], value[128];
    size_t at = 0, next;

    while ((next = heapswitch_label_next(labels, at, key, sizeof key, value, sizeof value)) != 0) {
        if (at != 0)
            fputc(',', out);
        hsw_json_string(out, key);
        fputc(':', out);
        hsw_json_string(out, value);
        at = next;
    }
}

void hsw_table_json(FILE *out, const struct hsw_proc *const *procs, size_t count,
                    double timestamp)
{
    fprintf(out, "{\"time\":%.3f,\"processes\":[", timestamp);
    for (size_t i = 0; i < count; i++) {
        const struct hsw_proc *p = procs[i];
        const struct heapswitch_counters *c = &p->now.counters;
        fprintf(out, "%s{\"pid\":%d,\"state\":\"%s\",\"backend\":", i ? "," : "",
                (int)p->now.pid, hsw_state_name(p->now.state));
        hsw_json_string(out, p->now.backend);
        fputs(",\"tag\":", out);
        hsw_json_string(out, p->now.tag);
        fputs(",\"labels\":{", out);
        json_labels(out, p->now.labels);
        fputs("},\"exe\":", out);
        hsw_json_string(out, p->now.exe);
        fputs(",\"command\":", out);
        hsw_json_string(out, p->now.cmdline);
        fprintf(out,
                ",\"calls\":{\"malloc\":%" PRIu64 ",\"calloc\":%" PRIu64
                ",\"realloc\":%" PRIu64 ",\"free\":%" PRIu64 ",\"aligned\":%" PRIu64 "}",
                c->malloc_calls, c->calloc_calls, c->realloc_calls, c->free_calls,
                c->aligned_calls);
        fprintf(out, ",\"failures\":%" PRIu64 ",\"bytes_requested\":%" PRIu64, c->failures,
                c->bytes_requested);
        json_u64_or_null(out, "bytes_allocated",
                         !(p->now.estimated & HEAPSWITCH_UNCOUNTED_USABLE), c->bytes_allocated);
        json_u64_or_null(out, "bytes_freed", !(p->now.estimated & HEAPSWITCH_UNCOUNTED_USABLE),
                         c->bytes_freed);
        json_u64_or_null(out, "live_bytes", !(p->now.estimated & HEAPSWITCH_UNKNOWN_LIVE),
                         p->now.live_bytes);
        json_u64_or_null(out, "peak_live_bytes", !(p->now.estimated & HEAPSWITCH_UNKNOWN_LIVE),
                         p->now.peak_live_bytes);
        fprintf(out, ",\"requests\":%" PRIu64 ",\"threads\":%u,\"rss_bytes\":%" PRIu64,
                c->requests, p->now.threads, p->now.rss_bytes);
        fprintf(out, ",\"stats\":\"%s\",\"estimated\":[",
                p->now.stats_level == HEAPSWITCH_STATS_EXACT ? "exact" : "default");
        if (estimated_list(&p->now, ',')[0] != '\0') {
            /* Each name quoted: the list is made of plain keys. */
            const char *at = estimated_list(&p->now, ',');
            fputc('"', out);
            for (; *at != '\0'; at++)
                fputs(*at == ',' ? "\",\"" : (char[]){*at, '\0'}, out);
            fputc('"', out);
        }
        fputc(']', out);
        json_u64_or_null(out, "heap_overhead_bytes", p->now.heap_overhead_bytes >= 0,
                         (uint64_t)p->now.heap_overhead_bytes);
        json_number_or_null(out, "cpu_seconds", p->now.cpu_seconds >= 0, p->now.cpu_seconds);
        json_number_or_null(out, "fragmentation", p->now.fragmentation >= 0,
                            p->now.fragmentation);
        json_number_or_null(out, "allocs_per_second", p->has_rates, p->rates.allocs_per_second);
        json_number_or_null(out, "frees_per_second", p->has_rates, p->rates.frees_per_second);
        json_number_or_null(out, "bytes_per_second", p->has_rates, p->rates.bytes_per_second);
        json_number_or_null(out, "allocs_per_request",
                            p->has_rates && p->rates.allocs_per_request >= 0,
                            p->rates.allocs_per_request);
        fprintf(out, ",\"heap\":{\"valid\":%s,\"approximate\":%s",
                p->now.heap.valid ? "true" : "false", p->now.heap.approximate ? "true" : "false");
        {
            const struct heapswitch_heap *h = &p->now.heap;
            json_u64_or_null(out, "resident", h->present & HEAPSWITCH_HEAP_RESIDENT, h->resident);
            json_u64_or_null(out, "active", h->present & HEAPSWITCH_HEAP_ACTIVE, h->active);
            json_u64_or_null(out, "mapped", h->present & HEAPSWITCH_HEAP_MAPPED, h->mapped);
            json_u64_or_null(out, "retained", h->present & HEAPSWITCH_HEAP_RETAINED, h->retained);
            json_u64_or_null(out, "committed", h->present & HEAPSWITCH_HEAP_COMMITTED,
                             h->committed);
            json_number_or_null(out, "age_seconds", h->age_seconds >= 0, h->age_seconds);
        }
        fputc('}', out);
        hsw_latency_json(out, &p->now.latency);
        fputs(",\"size_classes\":[", out);
        for (int k = 0; k < HEAPSWITCH_SIZE_CLASSES; k++)
            fprintf(out, "%s%" PRIu64, k ? "," : "", c->size_classes[k]);
        fputs("]}", out);
    }
    fputs("]}\n", out);
}
