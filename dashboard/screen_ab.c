/* The A/B view of `heapswitch top`: the processes grouped by backend or
 * by tag, each group's totals and per-process means, its ratio to the
 * first group (the baseline: `system` when grouping by backend), and one
 * verdict per metric naming the better group. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dashboard/format.h"
#include "dashboard/top.h"
#include "dashboard/tui.h"

#define MAX_GROUPS 16
#define METRIC_WIDTH 18

struct group {
    char name[64];
    size_t count;
    double allocs, live, rss;
    double frag_sum;
    size_t frag_count;
    double request_allocs, requests; /* of the processes that mark requests */
};

enum metric {
    M_COUNT,
    M_ALLOCS,
    M_ALLOCS_MEAN,
    M_LIVE,
    M_LIVE_MEAN,
    M_RSS,
    M_RSS_MEAN,
    M_FRAG,
    M_PER_REQUEST,
    M_METRICS
};

static const struct {
    const char *title;
    const char *noun; /* in the verdict */
    bool bytes;
    int better; /* -1 lower is better, +1 higher, 0 no verdict */
} metrics[M_METRICS] = {
    [M_COUNT] = {"processes", "processes", false, 0},
    [M_ALLOCS] = {"allocs/s total", "allocs/s", false, 0},
    [M_ALLOCS_MEAN] = {"allocs/s mean", "allocs/s", false, +1},
    [M_LIVE] = {"live total", "live bytes", true, 0},
    [M_LIVE_MEAN] = {"live mean", "live bytes", true, -1},
    [M_RSS] = {"RSS total", "RSS", true, 0},
    [M_RSS_MEAN] = {"RSS mean", "RSS", true, -1},
    [M_FRAG] = {"fragmentation", "fragmentation", false, -1},
    [M_PER_REQUEST] = {"allocs/request", "allocs/request", false, -1},
};

/* A metric of a group, or a negative number when unknown. */
static double value_of(const struct group *g, enum metric m)
{
    double n = g->count ? (double)g->count : 1;

    switch (m) {
    case M_COUNT:
        return (double)g->count;
    case M_ALLOCS:
        return g->allocs;
    case M_ALLOCS_MEAN:
        return g->allocs / n;
    case M_LIVE:
        return g->live;
    case M_LIVE_MEAN:
        return g->live / n;
    case M_RSS:
        return g->rss;
    case M_RSS_MEAN:
        return g->rss / n;
    case M_FRAG:
        return g->frag_count ? g->frag_sum / (double)g->frag_count : -1;
    case M_PER_REQUEST:
        return g->requests > 0 ? g->request_allocs / g->requests : -1;
    default:
        return -1;
    }
}

static const char *metric_text(enum metric m, double value, char *out, size_t size)
{
    if (value < 0)
        return "-";
    if (m == M_COUNT)
        snprintf(out, size, "%.0f", value);
    else if (m == M_FRAG)
        snprintf(out, size, "%.1f%%", value * 100);
    else if (metrics[m].bytes)
        hsw_format_bytes(out, size, value);
    else
        hsw_format_count(out, size, value);
    return out;
}

static int compare_groups(const void *a, const void *b, bool by_backend)
{
    const struct group *x = a, *y = b;

    if (by_backend) {
        bool xs = strcmp(x->name, "system") == 0, ys = strcmp(y->name, "system") == 0;
        if (xs != ys)
            return xs ? -1 : 1;
    }
    if ((x->name[0] == '-') != (y->name[0] == '-'))
        return x->name[0] == '-' ? 1 : -1;
    return strcmp(x->name, y->name);
}

static int by_backend_order(const void *a, const void *b)
{
    return compare_groups(a, b, true);
}

static int by_tag_order(const void *a, const void *b)
{
    return compare_groups(a, b, false);
}

/* Groups the running processes shown; returns the number of groups. */
static size_t gather(const struct top_state *state, struct group *groups)
{
    size_t count = 0;

    for (size_t i = 0; i < state->row_count; i++) {
        const struct hsw_proc *p = state->rows[i];
        const char *name =
            state->group_by_tag ? (p->now.tag[0] ? p->now.tag : "-") : p->now.backend;
        struct group *g = NULL;

        if (p->gone_since != 0 || p->now.state != HEAPSWITCH_PROCESS_RUNNING)
            continue;
        for (size_t k = 0; k < count && g == NULL; k++)
            if (strcmp(groups[k].name, name) == 0)
                g = &groups[k];
        if (g == NULL) {
            if (count == MAX_GROUPS)
                continue;
            g = &groups[count++];
            memset(g, 0, sizeof *g);
            snprintf(g->name, sizeof g->name, "%s", name);
        }
        g->count++;
        g->live += (double)p->now.live_bytes;
        g->rss += (double)p->now.rss_bytes;
        if (p->now.fragmentation >= 0) {
            g->frag_sum += p->now.fragmentation;
            g->frag_count++;
        }
        if (p->has_rates) {
            g->allocs += p->rates.allocs_per_second;
            if (p->rates.requests_per_second > 0) {
                g->request_allocs += p->rates.allocs_per_second;
                g->requests += p->rates.requests_per_second;
            }
        }
    }
    qsort(groups, count, sizeof groups[0],
          state->group_by_tag ? by_tag_order : by_backend_order);
    return count;
}

/* "RSS: mimalloc is better, 0.62x the RSS of system" (per process). */
static void verdict(int y, const struct group *groups, size_t count, enum metric m)
{
    double base = value_of(&groups[0], m);
    size_t best = 0, used;
    char line[512];

    for (size_t k = 1; k < count; k++) {
        double v = value_of(&groups[k], m), b = value_of(&groups[best], m);
        if (v < 0)
            continue;
        if (b < 0 || (metrics[m].better < 0 ? v < b : v > b))
            best = k;
    }
    if (value_of(&groups[best], m) < 0 || base < 0 || (base == 0 && best != 0)) {
        snprintf(line, sizeof line, "%s: unknown for some group%s", metrics[m].noun,
                 m == M_PER_REQUEST ? " (no heapswitch_request_done marks)" : "");
        tui_text(y, 2, -1, TUI_NORMAL, false, line);
        return;
    }
    if (best != 0) {
        snprintf(line, sizeof line, "%s: %s is better, %.2fx the %s of %s",
                 metrics[m].noun, groups[best].name, value_of(&groups[best], m) / base,
                 metrics[m].noun, groups[0].name);
    } else {
        used = (size_t)snprintf(line, sizeof line, "%s: %s is better;", metrics[m].noun,
                                groups[0].name);
        for (size_t k = 1; k < count && used < sizeof line; k++) {
            double v = value_of(&groups[k], m);
            if (v >= 0 && base > 0)
                used += (size_t)snprintf(line + used, sizeof line - used, " %s %.2fx",
                                         groups[k].name, v / base);
        }
    }
    tui_text(y, 0, 2, TUI_GOOD, false, "> ");
    tui_text(y, 2, -1, TUI_NORMAL, false, line);
}

static void draw(struct top_state *state)
{
    struct group groups[MAX_GROUPS];
    size_t count = gather(state, groups), fit;
    int column_width = 20, y = 1;
    char text[64], value[32];

    top_draw_header(state);
    top_draw_status(state, "a back  g group by backend/tag  h help  q quit");
    tui_printf(y++, 0, TUI_LABEL, "A/B by %s (g: by %s), per process; ratios to %s",
               state->group_by_tag ? "tag" : "backend",
               state->group_by_tag ? "backend" : "tag", count ? groups[0].name : "-");
    if (count == 0) {
        tui_text(3, 2, -1, TUI_NORMAL, false, "No running process to compare.");
        return;
    }
    if ((tui_columns() - METRIC_WIDTH) / column_width < (int)count)
        column_width = 16;
    fit = (size_t)((tui_columns() - METRIC_WIDTH) / column_width);
    if (fit > count)
        fit = count;
    tui_fill(y, 0, TUI_TITLE);
    tui_text(y, 0, METRIC_WIDTH, TUI_TITLE, false, "METRIC");
    for (size_t k = 0; k < fit; k++)
        tui_text(y, METRIC_WIDTH + (int)k * column_width, column_width - 1, TUI_TITLE,
                 true, groups[k].name);
    y++;
    for (int m = 0; m < M_METRICS; m++, y++) {
        double base = value_of(&groups[0], (enum metric)m);
        tui_text(y, 0, METRIC_WIDTH, TUI_LABEL, false, metrics[m].title);
        for (size_t k = 0; k < fit; k++) {
            double v = value_of(&groups[k], (enum metric)m);
            const char *shown = metric_text((enum metric)m, v, value, sizeof value);
            if (k > 0 && v >= 0 && base > 0)
                snprintf(text, sizeof text, "%s (%.2fx)", shown, v / base);
            else
                snprintf(text, sizeof text, "%s", shown);
            tui_text(y, METRIC_WIDTH + (int)k * column_width, column_width - 1,
                     TUI_NORMAL, true, text);
        }
    }
    y++;
    if (count < 2) {
        tui_text(
            y, 0, -1, TUI_NORMAL, false,
            "One group only: run processes under another backend or tag to compare.");
        return;
    }
    tui_text(y++, 0, -1, TUI_LABEL, false,
             "Verdicts, per process (allocs/s: higher is "
             "better, the rest: lower):");
    for (int m = 0; m < M_METRICS && y < tui_lines() - 1; m++)
        if (metrics[m].better != 0)
            verdict(y++, groups, count, (enum metric)m);
    if (fit < count && y < tui_lines() - 1)
        tui_printf(y, 0, TUI_NORMAL, "(%zu more groups: widen the terminal)",
                   count - fit);
}

static int key(struct top_state *state, int key_code)
{
    if (key_code == TUI_KEY_ESCAPE) {
        state->view = TOP_VIEW_LIST;
        return TOP_REDRAW;
    }
    return TOP_IGNORED;
}

const struct top_screen top_screen_ab = {.draw = draw, .key = key};
