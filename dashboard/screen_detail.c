/* The detail view of `heapswitch top`: one process, with its sparklines
 * (last 60 samples), the backend's heap figures, live vs resident vs RSS,
 * calls by kind, and the size-class histogram as bars. */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "dashboard/format.h"
#include "dashboard/latency.h"
#include "dashboard/top.h"
#include "dashboard/tui.h"

#define LABEL_WIDTH 11

/* "[16,32)" for class k = sizes [2^(k-1), 2^k); class 0 is size 0. */
static const char *class_label(int k, char *out, size_t size)
{
    static const char *const units[] = {"", "K", "M", "G"};
    unsigned low = k >= 1 ? (unsigned)k - 1 : 0, high = (unsigned)k;

    if (k == 0)
        snprintf(out, size, "0");
    else if (k == HEAPSWITCH_SIZE_CLASSES - 1)
        snprintf(out, size, ">=%lu%s", 1ul << (low % 10), units[low / 10]);
    else
        snprintf(out, size, "[%lu%s,%lu%s)", 1ul << (low % 10), units[low / 10],
                 1ul << (high % 10), units[high / 10]);
    return out;
}

static void draw_series(int y, const struct hsw_proc *proc, enum hsw_series series,
                        const char *label, bool bytes)
{
    const double *values = proc->history[series];
    unsigned count = proc->history_length;
    double max = 0, last = count ? values[count - 1] : 0;
    int width = tui_columns() - LABEL_WIDTH - 30;
    char now_text[32], max_text[32];

    for (unsigned i = 0; i < count; i++)
        if (values[i] > max)
            max = values[i];
    if (width > HSW_HISTORY)
        width = HSW_HISTORY;
    tui_text(y, 0, LABEL_WIDTH, TUI_LABEL, false, label);
    if (width > 0)
        tui_sparkline(y, LABEL_WIDTH, width, values, count);
    if (bytes) {
        hsw_format_bytes(now_text, sizeof now_text, last);
        hsw_format_bytes(max_text, sizeof max_text, max);
    } else {
        hsw_format_count(now_text, sizeof now_text, last);
        hsw_format_count(max_text, sizeof max_text, max);
    }
    tui_printf(y, LABEL_WIDTH + (width > 0 ? width : 0) + 1, TUI_NORMAL, "now %s  max %s",
               now_text, max_text);
}

/* The size classes: as many rows as fit from `y`, the busiest classes
 * when not all of them fit, in size order. */
static void draw_histogram(int y, const struct hsw_proc *proc)
{
    const uint64_t *classes = proc->now.counters.size_classes;
    int rows = tui_lines() - 1 - y, shown_count = 0, bar_x = LABEL_WIDTH + 10;
    bool shown[HEAPSWITCH_SIZE_CLASSES] = {false};
    uint64_t max = 0, total = 0;
    char label[32], count[32];

    tui_text(
        y++, 0, -1, TUI_LABEL, false,
        "Size classes (allocating calls by requested size, class k = [2^(k-1), 2^k))");
    rows--;
    for (int k = 0; k < HEAPSWITCH_SIZE_CLASSES; k++) {
        total += classes[k];
        if (classes[k] > max)
            max = classes[k];
    }
    if (total == 0) {
        tui_text(y, 2, -1, TUI_NORMAL, false, "(no allocation yet)");
        return;
    }
    /* Pick the busiest classes, at most `rows` of them. */
    while (shown_count < rows) {
        int best = -1;
        for (int k = 0; k < HEAPSWITCH_SIZE_CLASSES; k++)
            if (!shown[k] && classes[k] > 0 && (best < 0 || classes[k] > classes[best]))
                best = k;
        if (best < 0)
            break;
        shown[best] = true;
        shown_count++;
    }
    for (int k = 0; k < HEAPSWITCH_SIZE_CLASSES; k++) {
        if (!shown[k])
            continue;
        tui_text(y, 0, LABEL_WIDTH, TUI_NORMAL, true,
                 class_label(k, label, sizeof label));
        tui_text(y, LABEL_WIDTH + 1, 8, TUI_NORMAL, true,
                 hsw_format_count(count, sizeof count, (double)classes[k]));
        tui_bar(y, bar_x, tui_columns() - bar_x - 7, (double)classes[k], (double)max);
        tui_printf(y, tui_columns() - 6, TUI_NORMAL, "%5.1f%%",
                   100.0 * (double)classes[k] / (double)total);
        y++;
    }
}

struct latency_lines {
    int y;
};

static void emit_latency_line(const char *text, void *context)
{
    struct latency_lines *lines = context;

    tui_text(lines->y++, 2, -1, TUI_NORMAL, false, text);
}

/* The latency line (sampled malloc and free percentiles) and, for
 * detail_histogram 1 or 2, that kind's histogram from `y` down. Returns
 * the next line. */
static int draw_latency(int y, const struct hsw_proc *proc, int histogram)
{
    const struct heapswitch_latency *latency = &proc->now.latency;
    char a[16], b[16], c[16], d[16], e[16], f[16], g[16], h[16];
    enum heapswitch_latency_kind kind =
        histogram == 2 ? HEAPSWITCH_LATENCY_FREE : HEAPSWITCH_LATENCY_ALLOC;
    struct latency_lines lines = {y + 2};

    if (!latency->present) {
        tui_text(y, 0, -1, TUI_LABEL, false, "latency: not sampled (HEAPSWITCH_LATENCY=0)");
        return y + 1;
    }
    tui_printf(y++, 0, TUI_NORMAL,
               "latency: alloc p50 %s p99 %s p99.9 %s max %s  free p50 %s p99 %s p99.9 %s max %s",
               hsw_format_ns(a, sizeof a, heapswitch_latency_quantile(latency, 0, 0.5)),
               hsw_format_ns(b, sizeof b, heapswitch_latency_quantile(latency, 0, 0.99)),
               hsw_format_ns(c, sizeof c, heapswitch_latency_quantile(latency, 0, 0.999)),
               hsw_format_ns(d, sizeof d, latency->kinds[0].samples ? latency->kinds[0].max_ns : -1),
               hsw_format_ns(e, sizeof e, heapswitch_latency_quantile(latency, 1, 0.5)),
               hsw_format_ns(f, sizeof f, heapswitch_latency_quantile(latency, 1, 0.99)),
               hsw_format_ns(g, sizeof g, heapswitch_latency_quantile(latency, 1, 0.999)),
               hsw_format_ns(h, sizeof h, latency->kinds[1].samples ? latency->kinds[1].max_ns : -1));
    if (histogram == 0)
        return y;
    tui_printf(y, 0, TUI_LABEL,
               "%s latency (%llu calls timed, 1 in %u; %s; each bucket within 6.25%%; l: next)",
               kind == HEAPSWITCH_LATENCY_FREE ? "free" : "alloc",
               (unsigned long long)latency->kinds[kind].samples, latency->rate,
               latency->tsc ? "TSC" : "CLOCK_MONOTONIC");
    if (latency->kinds[kind].samples == 0)
        tui_text(y + 1, 2, -1, TUI_NORMAL, false, "(no call timed yet)");
    hsw_latency_histogram_lines(latency, kind, tui_lines() - 2 - y, tui_columns() - 2,
                                emit_latency_line, &lines);
    return tui_lines();
}

/* A heap figure, or "-" when the backend does not have it. */
static const char *heap_figure(char *out, size_t size, const struct heapswitch_heap *heap,
                               unsigned bit, uint64_t value)
{
    return (heap->present & bit) ? hsw_format_bytes(out, size, (double)value) : "-";
}

static void draw(struct top_state *state)
{
    const struct hsw_proc *proc = top_selected(state);
    const struct heapswitch_snapshot *now;
    const struct heapswitch_counters *c;
    char a[32], b[32], d[32], e[32], f[32];
    int y = 1;

    top_draw_header(state);
    top_draw_status(state, top_sites_shown()
                               ? "Esc/q back  s size classes  o sort  Enter stack  h help"
                               : "Esc/Enter/q back  s call sites  l sizes/malloc/free latency  h help");
    if (proc == NULL) {
        state->view = TOP_VIEW_LIST;
        tui_text(2, 2, -1, TUI_LABEL, false, "The process is no longer listed.");
        return;
    }
    now = &proc->now;
    c = &now->counters;
    tui_printf(y++, 0, proc->gone_since ? TUI_GONE : TUI_LABEL,
               "PID %d  backend %s  tag %s  %s  threads publishing %u%s", (int)now->pid,
               now->backend, now->tag[0] ? now->tag : "-", hsw_state_name(now->state),
               now->threads, now->overflow_threads ? " (some share a slot)" : "");
    tui_printf(y++, 0, TUI_NORMAL, "command: %s",
               now->cmdline[0] ? now->cmdline : now->exe);
    draw_series(y++, proc, HSW_SERIES_ALLOCS, "allocs/s", false);
    draw_series(y++, proc, HSW_SERIES_FREES, "frees/s", false);
    draw_series(y++, proc, HSW_SERIES_BYTES, "bytes/s", true);
    draw_series(y++, proc, HSW_SERIES_LIVE, "live", true);
    if (now->heap.valid) {
        const struct heapswitch_heap *h = &now->heap;
        tui_printf(y++, 0, TUI_NORMAL, "backend heap: resident %s  active %s  mapped %s",
                   heap_figure(a, sizeof a, h, HEAPSWITCH_HEAP_RESIDENT, h->resident),
                   heap_figure(b, sizeof b, h, HEAPSWITCH_HEAP_ACTIVE, h->active),
                   heap_figure(d, sizeof d, h, HEAPSWITCH_HEAP_MAPPED, h->mapped));
        tui_printf(y++, 0, h->age_seconds > 2 ? TUI_BAD : TUI_NORMAL,
                   "              retained %s  committed %s  approximate %s  age %.1f s%s",
                   heap_figure(a, sizeof a, h, HEAPSWITCH_HEAP_RETAINED, h->retained),
                   heap_figure(b, sizeof b, h, HEAPSWITCH_HEAP_COMMITTED, h->committed),
                   h->approximate ? "yes" : "no", h->age_seconds,
                   h->age_seconds > 2 ? " (the process has not allocated since)" : "");
    } else {
        tui_printf(y++, 0, TUI_NORMAL, "backend heap: not published yet");
        y++;
    }
    if (now->fragmentation >= 0)
        snprintf(e, sizeof e, "%.1f%% (%s beyond live)", now->fragmentation * 100,
                 hsw_format_bytes(f, sizeof f, (double)now->heap_overhead_bytes));
    else
        snprintf(e, sizeof e, "-");
    tui_printf(
        y++, 0, TUI_NORMAL, "live %s%s  vs resident %s  vs RSS %s  fragmentation %s",
        (now->estimated & HEAPSWITCH_ESTIMATED_LIVE) ? "~" : "",
        (now->estimated & HEAPSWITCH_UNKNOWN_LIVE)
            ? "-"
            : hsw_format_bytes(a, sizeof a, (double)now->live_bytes),
        now->heap.valid ? hsw_format_bytes(b, sizeof b, (double)now->heap.resident) : "-",
        now->rss_bytes ? hsw_format_bytes(d, sizeof d, (double)now->rss_bytes) : "-", e);
    tui_printf(y++, 0, TUI_LABEL, "counting: %s%s",
               now->stats_level == HEAPSWITCH_STATS_EXACT ? "exact" : "default",
               (now->estimated & HEAPSWITCH_ESTIMATED_LIVE)
                   ? "; ~ marks estimates (live bytes from the backend's own books)"
                   : "; every figure counted");
    tui_printf(y++, 0, TUI_NORMAL,
               "calls: malloc %" PRIu64 "  calloc %" PRIu64 "  realloc %" PRIu64
               "  free %" PRIu64 "  aligned %" PRIu64,
               c->malloc_calls, c->calloc_calls, c->realloc_calls, c->free_calls,
               c->aligned_calls);
    if (proc->has_rates && proc->rates.allocs_per_request >= 0)
        hsw_format_count(a, sizeof a, proc->rates.allocs_per_request);
    else
        snprintf(a, sizeof a, "-");
    tui_printf(y++, 0, c->failures ? TUI_BAD : TUI_NORMAL,
               "failures %" PRIu64 "  requests %" PRIu64
               "  allocs/request %s  peak live %s",
               c->failures, c->requests, a,
               hsw_format_bytes(f, sizeof f, (double)now->peak_live_bytes));
    y = draw_latency(y, proc, top_sites_shown() ? 0 : state->detail_histogram);
    if (top_sites_shown())
        top_sites_draw(state, proc, y);
    else if (state->detail_histogram == 0)
        draw_histogram(y, proc);
}

static int key(struct top_state *state, int key_code)
{
    int sites_result = top_sites_key(state, key_code);

    if (sites_result != TOP_IGNORED)
        return sites_result;
    if (key_code == TUI_KEY_ESCAPE || key_code == TUI_KEY_ENTER || key_code == 'q' ||
        key_code == TUI_KEY_BACKSPACE) {
        state->view = TOP_VIEW_LIST;
        top_sites_leave();
        return TOP_REDRAW;
    }
    if (key_code == 'l') { /* size classes, alloc latency, free latency */
        state->detail_histogram = (state->detail_histogram + 1) % 3;
        return TOP_REDRAW;
    }
    return TOP_IGNORED;
}

const struct top_screen top_screen_detail = {.draw = draw, .key = key};
