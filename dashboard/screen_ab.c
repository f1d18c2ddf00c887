/* The A/B view of `heapswitch top`: drawing only. dashboard/ab_model.c
 * groups the processes into programs and arms and keeps the samples;
 * here each compared program gets a table (one row per metric, one
 * column per arm, then each arm against the baseline: ratio, interval
 * and verdict from dashboard/stats.c), and the programs with one arm are
 * listed below, not compared. The lines scroll with Up/Down. */
#include "config.h"

#include <math.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dashboard/format.h"
#include "dashboard/top.h"
#include "dashboard/tui.h"

#define METRIC_WIDTH 15
#define VALUE_WIDTH 11
#define VERSUS_WIDTH 40

const double top_ab_windows[TOP_AB_WINDOWS] = {30, 60, 120, 300};

/* The rows of a program's table after the metrics. */
enum extra_row { ROW_PROCESSES, ROW_SAMPLES, EXTRA_ROWS };

/* The order of the metric rows: the work figures first. */
static const enum hsw_ab_metric row_order[] = {
    HSW_AB_REQUESTS_PER_SECOND, HSW_AB_CPU_PER_REQUEST,
    HSW_AB_CPU_PER_KCALLS,      HSW_AB_RSS,
    HSW_AB_HEAP_RESIDENT,       HSW_AB_FRAGMENTATION,
    HSW_AB_MALLOC_P50,          HSW_AB_MALLOC_P99,
    HSW_AB_MALLOC_P999,         HSW_AB_ALLOCS_PER_SECOND,
};

/* Lines are numbered from the top of the content; those scrolled away or
 * below the screen are not drawn. */
struct page {
    int line;        /* the next line of content */
    int first;       /* the first one shown */
    int top, bottom; /* the screen lines for content */
};

static int screen_line(const struct page *page)
{
    int y = page->top + page->line - page->first;

    return page->line >= page->first && y < page->bottom ? y : -1;
}

static void put(struct page *page, int x, int width, enum tui_color color, bool right,
                const char *text)
{
    int y = screen_line(page);

    if (y >= 0)
        tui_text(y, x, width, color, right, text);
}

/* "950 ms", "12.0 us", "1.25 s" */
static const char *format_seconds(char *out, size_t size, double seconds)
{
    if (seconds >= 1)
        snprintf(out, size, "%.2f s", seconds);
    else if (seconds >= 1e-3)
        snprintf(out, size, "%.3g ms", seconds * 1e3);
    else if (seconds >= 1e-6)
        snprintf(out, size, "%.3g us", seconds * 1e6);
    else
        snprintf(out, size, "%.3g ns", seconds * 1e9);
    return out;
}

/* A ratio with three significant digits at most: "1.015", "49.1", "248". */
static const char *format_ratio(char *out, size_t size, double ratio)
{
    snprintf(out, size, ratio >= 100 ? "%.0f" : ratio >= 10 ? "%.1f" : "%.3f", ratio);
    return out;
}

static const char *metric_text(enum hsw_ab_metric m, double value, char *out, size_t size)
{
    if (!isfinite(value))
        return "-";
    switch (m) {
    case HSW_AB_CPU_PER_REQUEST:
    case HSW_AB_CPU_PER_KCALLS:
        return format_seconds(out, size, value);
    case HSW_AB_RSS:
    case HSW_AB_HEAP_RESIDENT:
        return hsw_format_bytes(out, size, value);
    case HSW_AB_FRAGMENTATION:
        snprintf(out, size, "%.1f%%", value * 100);
        return out;
    case HSW_AB_MALLOC_P50:
    case HSW_AB_MALLOC_P99:
    case HSW_AB_MALLOC_P999:
        return format_seconds(out, size, value * 1e-9);
    default:
        return hsw_format_count(out, size, value);
    }
}

/* Seconds of refreshes until `needed` more samples per arm, at one sample
 * per process and refresh. */
static double seconds_until(const struct top_state *state,
                            const struct hsw_ab_program *program, size_t arm,
                            unsigned needed)
{
    size_t processes = program->arms[0].processes < program->arms[arm].processes
                           ? program->arms[0].processes
                           : program->arms[arm].processes;

    if (processes == 0)
        processes = 1;
    return ceil((double)needed / (double)processes) * state->delay;
}

/* The comparison of an arm with the baseline on one metric, in a cell:
 * "0.52x [0.50-0.54] jemalloc better". */
static void versus_cell(const struct top_state *state,
                        const struct hsw_ab_program *program, size_t arm,
                        enum hsw_ab_metric m, char *out, size_t size,
                        enum tui_color *color)
{
    struct hsw_comparison c;
    char ratio[16], low[16], high[16];

    *color = TUI_NORMAL;
    if (m == HSW_AB_ALLOCS_PER_SECOND) {
        const struct hsw_ab_arm *b = &program->arms[arm];
        if (!isfinite(b->balance))
            snprintf(out, size, "balance: unknown");
        else
            snprintf(out, size, "%.2fx balance: %s", b->balance,
                     b->unbalanced ? "UNEQUAL TRAFFIC" : "ok");
        *color = b->unbalanced ? TUI_BAD : TUI_NORMAL;
        return;
    }
    if (hsw_ab_compare(program, arm, m, &c) != 0) {
        snprintf(out, size, "-");
        return;
    }
    switch (c.verdict) {
    case HSW_VERDICT_NOT_ENOUGH_DATA:
        snprintf(out, size, "not enough data: %u more (~%.0f s)", c.runs_needed,
                 seconds_until(state, program, arm, c.runs_needed));
        break;
    default:
        snprintf(out, size, "%sx [%s-%s] %s%s",
                 format_ratio(ratio, sizeof ratio, c.ratio),
                 format_ratio(low, sizeof low, c.ratio_low),
                 format_ratio(high, sizeof high, c.ratio_high),
                 c.verdict == HSW_VERDICT_NO_DIFFERENCE ? ""
                 : c.verdict == HSW_VERDICT_A_BETTER    ? program->arms[0].name
                                                        : program->arms[arm].name,
                 c.verdict == HSW_VERDICT_NO_DIFFERENCE ? "no difference" : " better");
        *color = c.verdict == HSW_VERDICT_NO_DIFFERENCE ? TUI_NORMAL : TUI_GOOD;
        break;
    }
}

/* How many arms fit beside the metric names, with their comparisons. */
static size_t arms_that_fit(size_t arm_count)
{
    size_t fit = 1;
    int width = tui_columns() - METRIC_WIDTH - VALUE_WIDTH;

    while (fit < arm_count && width >= VALUE_WIDTH + VERSUS_WIDTH) {
        width -= VALUE_WIDTH + VERSUS_WIDTH;
        fit++;
    }
    return fit;
}

static void draw_program(const struct top_state *state, struct page *page,
                         const struct hsw_ab_program *program)
{
    size_t fit = arms_that_fit(program->arm_count);
    int versus_x = METRIC_WIDTH + (int)fit * VALUE_WIDTH;
    char text[256], value[32];

    snprintf(text, sizeof text, "%s: %zu arms, %zu processes; %s", program->label,
             program->arm_count, program->processes,
             program->marks_requests ? "per request (marked)"
                                     : "per 1,000 allocation calls (no request marked)");
    put(page, 0, -1, TUI_HEADER, false, text);
    page->line++;
    put(page, 0, METRIC_WIDTH, TUI_TITLE, false, "METRIC");
    for (size_t k = 0; k < fit; k++)
        put(page, METRIC_WIDTH + (int)k * VALUE_WIDTH, VALUE_WIDTH - 1, TUI_TITLE, true,
            program->arms[k].name);
    for (size_t k = 1; k < fit; k++) {
        snprintf(text, sizeof text, "%s vs %s", program->arms[k].name,
                 program->arms[0].name);
        put(page, versus_x + 1 + (int)(k - 1) * VERSUS_WIDTH, VERSUS_WIDTH - 1, TUI_TITLE,
            false, text);
    }
    page->line++;
    for (size_t r = 0; r < sizeof row_order / sizeof row_order[0]; r++) {
        enum hsw_ab_metric m = row_order[r];
        if (!hsw_ab_metric_used(program, m))
            continue;
        put(page, 0, METRIC_WIDTH, TUI_LABEL, false, hsw_ab_metrics[m].title);
        for (size_t k = 0; k < fit; k++)
            put(page, METRIC_WIDTH + (int)k * VALUE_WIDTH, VALUE_WIDTH - 1, TUI_NORMAL,
                true, metric_text(m, program->arms[k].median[m], value, sizeof value));
        for (size_t k = 1; k < fit && screen_line(page) >= 0; k++) {
            enum tui_color color;
            versus_cell(state, program, k, m, text, sizeof text, &color);
            put(page, versus_x + 1 + (int)(k - 1) * VERSUS_WIDTH, VERSUS_WIDTH - 1, color,
                false, text);
        }
        page->line++;
    }
    for (int r = 0; r < EXTRA_ROWS; r++, page->line++) {
        put(page, 0, METRIC_WIDTH, TUI_LABEL, false,
            r == ROW_PROCESSES ? "processes" : "samples");
        for (size_t k = 0; k < fit; k++) {
            snprintf(value, sizeof value, "%zu",
                     r == ROW_PROCESSES ? program->arms[k].processes
                                        : program->arms[k].samples);
            put(page, METRIC_WIDTH + (int)k * VALUE_WIDTH, VALUE_WIDTH - 1, TUI_NORMAL,
                true, value);
        }
    }
    if (program->imbalanced) {
        snprintf(text, sizeof text,
                 "! allocation rates %.2fx apart: the arms do not get the same traffic",
                 program->balance_ratio);
        put(page, 0, -1, TUI_BAD, false, text);
        page->line++;
        put(page, 0, -1, TUI_BAD, false,
            "  (or, running flat out, one is that much faster); the figures per unit "
            "of work still compare, memory levels less so");
        page->line++;
    }
    if (fit < program->arm_count || program->arms_left_out > 0) {
        snprintf(text, sizeof text, "(%zu more arms: widen the terminal)",
                 program->arm_count - fit + program->arms_left_out);
        put(page, 0, -1, TUI_NORMAL, false, text);
        page->line++;
    }
    page->line++;
}

/* The programs with one arm: listed, never compared. */
static void draw_single(struct page *page, const struct hsw_ab_view *view)
{
    char text[256];

    if (view->compared == view->count)
        return;
    put(page, 0, -1, TUI_LABEL, false, "Not compared (one arm only):");
    page->line++;
    for (size_t i = view->compared; i < view->count; i++, page->line++) {
        const struct hsw_ab_program *p = &view->programs[i];
        snprintf(text, sizeof text, "  %s: %s only, %zu process%s", p->label,
                 p->arms[0].name, p->processes, p->processes == 1 ? "" : "es");
        put(page, 0, -1, TUI_NORMAL, false, text);
    }
}

static void draw_content(const struct top_state *state, struct page *page,
                         const struct hsw_ab_view *view)
{
    if (view->count > 0 && view->compared == 0) {
        put(page, 2, -1, TUI_NORMAL, false,
            "No program runs under two arms: start one under another backend or tag.");
        page->line += 2;
    }
    for (size_t i = 0; i < view->compared; i++)
        draw_program(state, page, &view->programs[i]);
    draw_single(page, view);
}

static void draw(struct top_state *state)
{
    const struct heapswitch_snapshot **running = malloc(
        (state->row_count + 1) *
        sizeof *running); // NOLINT(bugprone-sizeof-expression): an array of pointers
    struct hsw_ab_options options = {
        .key = state->ab_key,
        .by_tag = state->group_by_tag,
        .window_seconds = top_ab_windows[state->ab_window],
        .now = 0,
    };
    struct hsw_ab_view view;
    struct page page = {0, 0, 2, tui_lines() - 1};
    size_t count = 0;

    top_draw_header(state);
    top_draw_status(state,
                    "a back  g arms  k program key  w window  Up/Down scroll  h help");
    tui_printf(1, 0, TUI_LABEL,
               "A/B within each program (k: %s), arms by %s (g), window %.0f s (w)",
               hsw_ab_key_name(state->ab_key), state->group_by_tag ? "tag" : "backend",
               options.window_seconds);
    if (running == NULL)
        return;
    for (size_t i = 0; i < state->row_count; i++) {
        if (state->rows[i]->gone_since != 0)
            continue;
        running[count++] = &state->rows[i]->now;
        /* The window ends at the last scan: paused, the view stands still. */
        if (state->rows[i]->now.taken > options.now)
            options.now = state->rows[i]->now.taken;
    }
    if (hsw_ab_analyze(&state->ab, running, count, &options, &view) != 0) {
        free(running);
        tui_text(3, 2, -1, TUI_BAD, false, "Out of memory.");
        return;
    }
    free(running);
    if (view.count == 0)
        tui_text(3, 2, -1, TUI_NORMAL, false, "No running process to compare.");
    /* A first pass draws (and compares) nothing and counts the lines, to
     * keep the last page full when the content shrank. */
    page.first = INT_MAX;
    draw_content(state, &page, &view);
    if (state->ab_scroll > page.line - (page.bottom - page.top))
        state->ab_scroll =
            page.line > page.bottom - page.top ? page.line - (page.bottom - page.top) : 0;
    page.line = 0;
    page.first = state->ab_scroll;
    draw_content(state, &page, &view);
    hsw_ab_view_free(&view);
}

static int key(struct top_state *state, int key_code)
{
    int page = tui_lines() - 3;

    switch (key_code) {
    case TUI_KEY_ESCAPE:
        state->view = TOP_VIEW_LIST;
        return TOP_REDRAW;
    case 'k':
        state->ab_key = (enum hsw_ab_key)((state->ab_key + 1) % HSW_AB_KEY_KINDS);
        state->ab_scroll = 0;
        return TOP_REDRAW;
    case 'w':
        state->ab_window = (state->ab_window + 1) % TOP_AB_WINDOWS;
        return TOP_REDRAW;
    case TUI_KEY_DOWN:
        state->ab_scroll++;
        return TOP_HANDLED;
    case TUI_KEY_UP:
        state->ab_scroll = state->ab_scroll > 0 ? state->ab_scroll - 1 : 0;
        return TOP_HANDLED;
    case TUI_KEY_PAGE_DOWN:
        state->ab_scroll += page > 1 ? page : 1;
        return TOP_HANDLED;
    case TUI_KEY_PAGE_UP:
        state->ab_scroll = state->ab_scroll > page ? state->ab_scroll - page : 0;
        return TOP_HANDLED;
    case TUI_KEY_HOME:
        state->ab_scroll = 0;
        return TOP_HANDLED;
    default:
        return TOP_IGNORED;
    }
}

const struct top_screen top_screen_ab = {.draw = draw, .key = key};
