/* The sites pane of top's detail view ('s' shows it in place of the size
 * classes): the process's top call sites by allocations/s, bytes/s or
 * live bytes ('o' cycles), each named by its innermost frame outside
 * libc, libstdc++ and heapswitch, allocations per request where the
 * program marks requests, and the selected site's whole stack on Enter.
 *
 * Only the process whose pane is open is read, once per scan; nothing is
 * read or symbolized for the others. Symbols are cached per build ID and
 * address (dashboard/symbols.c) and at most SYMBOL_BUDGET new frames are
 * resolved per frame drawn, so a first look at a large program never
 * stalls the refresh: the rest shows as addresses until the next one. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dashboard/format.h"
#include "dashboard/sites_model.h"
#include "dashboard/symbols.h"
#include "dashboard/top.h"
#include "dashboard/tui.h"

#define SYMBOL_BUDGET 64
#define SYMBOLIZER_REOPEN_READS 30 /* maps change (dlopen): reread them now and then */

struct sites_pane {
    bool shown, stack_open;
    enum hsw_site_sort sort;
    size_t selected;
    pid_t pid;
    double read_scan; /* state->last_scan of the last read */
    unsigned reads;
    struct heapswitch_snapshot earlier_snapshot, later_snapshot;
    struct heapswitch_sites earlier, later;
    bool have_earlier, have_later;
    struct hsw_site_row *rows;
    struct hsw_symbolizer *symbolizer;
    char problem[256];         /* why there are no sites, "" when there are */
    char symbols_problem[256]; /* why there are no symbols, "" when there are */
};

static struct sites_pane pane = {.sort = HSW_SITE_SORT_ALLOCATIONS};

static void forget(void)
{
    heapswitch_sites_free(&pane.earlier);
    heapswitch_sites_free(&pane.later);
    free(pane.rows);
    pane.rows = NULL;
    pane.have_earlier = pane.have_later = false;
    hsw_symbolizer_close(pane.symbolizer);
    pane.symbolizer = NULL;
    pane.problem[0] = pane.symbols_problem[0] = '\0';
    pane.reads = 0;
    pane.read_scan = 0;
}

static void at_exit(void)
{
    forget();
    hsw_symbols_cache_clear();
}

static void sort_rows(void)
{
    double seconds, requests;

    free(pane.rows);
    pane.rows = NULL;
    if (!pane.have_later)
        return;
    seconds = pane.have_earlier ? pane.later_snapshot.taken - pane.earlier_snapshot.taken : 0;
    requests = pane.have_earlier && pane.later_snapshot.counters.requests >
                                        pane.earlier_snapshot.counters.requests
                   ? (double)(pane.later_snapshot.counters.requests -
                              pane.earlier_snapshot.counters.requests)
                   : 0;
    pane.rows = hsw_site_rows(pane.have_earlier ? &pane.earlier : NULL, &pane.later, seconds,
                              requests, pane.sort);
}

/* One read per scan, of this process only. */
static void refresh(const struct top_state *state, pid_t pid)
{
    static bool registered;
    struct heapswitch_snapshot snapshot;
    struct heapswitch_sites sites;
    int status;

    if (!registered) {
        atexit(at_exit);
        registered = true;
    }
    if (pid != pane.pid) {
        forget();
        pane.pid = pid;
        pane.selected = 0;
        pane.stack_open = false;
    }
    if (pane.reads > 0 && pane.read_scan == state->last_scan)
        return;
    pane.read_scan = state->last_scan;
    status = heapswitch_read_sites(pid, &snapshot, &sites, pane.problem, sizeof pane.problem);
    if (status != 0) {
        heapswitch_sites_free(&pane.earlier);
        heapswitch_sites_free(&pane.later);
        pane.have_earlier = pane.have_later = false;
        free(pane.rows);
        pane.rows = NULL;
        pane.reads++;
        return;
    }
    pane.problem[0] = '\0';
    heapswitch_sites_free(&pane.earlier);
    pane.earlier = pane.later;
    pane.earlier_snapshot = pane.later_snapshot;
    pane.have_earlier = pane.have_later;
    pane.later = sites;
    pane.later_snapshot = snapshot;
    pane.have_later = true;
    if (pane.symbolizer == NULL || pane.reads % SYMBOLIZER_REOPEN_READS == 0) {
        hsw_symbolizer_close(pane.symbolizer);
        pane.symbolizer =
            hsw_symbolizer_open(pid, pane.symbols_problem, sizeof pane.symbols_problem);
        if (pane.symbolizer != NULL)
            pane.symbols_problem[0] = '\0';
    }
    pane.reads++;
    sort_rows();
}

bool top_sites_shown(void)
{
    return pane.shown;
}

static void draw_stack(int y, const struct hsw_site_row *row, unsigned *budget)
{
    struct hsw_frame_symbols frames[HEAPSWITCH_SITE_FRAMES];
    struct hsw_site_row scratch = *row;
    char text[512];
    int bottom = tui_lines() - 1;

    hsw_site_symbolize(pane.symbolizer, row->site, frames, &scratch, budget);
    tui_text(y++, 0, -1, TUI_LABEL, false, "Stack of the selected site, innermost first (Esc: back to the sites)");
    if (row->site->other) {
        tui_text(y, 2, -1, TUI_NORMAL, false,
                 "[other]: samples whose stack found no room in the table, or was not unwound");
        return;
    }
    for (unsigned f = 0; f < row->site->depth && y < bottom; f++)
        for (unsigned s = 0; s < frames[f].count && y < bottom; s++)
            tui_printf(y++, 2, f == scratch.label_frame && s == scratch.label_symbol ? TUI_SORTED
                                                                                   : TUI_NORMAL,
                       "#%-2u %s%s", f, frames[f].symbols[s].inlined ? "(inlined) " : "",
                       hsw_symbol_text(&frames[f].symbols[s], text, sizeof text));
}

void top_sites_draw(struct top_state *state, const struct hsw_proc *proc, int y)
{
    static const char *const sort_titles[HSW_SITE_SORT_KINDS] = {"allocs/s", "bytes/s",
                                                                 "live bytes"};
    unsigned budget = SYMBOL_BUDGET;
    int bottom = tui_lines() - 1, width = tui_columns();
    bool rates, per_request;
    char a[32], b[32], c[32], d[32], label[512];

    refresh(state, proc->now.pid);
    tui_printf(y++, 0, TUI_LABEL, "Call sites, sampled, by %s  (o: sort  Up/Down, Enter: stack  s: size classes)",
               sort_titles[pane.sort]);
    if (pane.problem[0] != '\0') {
        tui_text(y, 2, -1, TUI_NORMAL, false, pane.problem);
        return;
    }
    if (pane.rows == NULL || pane.later.count == 0) {
        tui_text(y, 2, -1, TUI_NORMAL, false, "(no sample yet)");
        return;
    }
    if (pane.selected >= pane.later.count)
        pane.selected = pane.later.count - 1;
    if (pane.symbols_problem[0] != '\0')
        tui_text(y++, 2, -1, TUI_BAD, false, pane.symbols_problem);
    if (pane.stack_open) {
        draw_stack(y, &pane.rows[pane.selected], &budget);
        return;
    }
    rates = pane.have_earlier;
    per_request = rates && pane.later_snapshot.counters.requests >
                               pane.earlier_snapshot.counters.requests;
    tui_printf(y++, 0, TUI_TITLE, "%9s %10s %10s %9s  %s", rates ? "ALLOCS/s" : "ALLOCS",
               rates ? "BYTES/s" : "BYTES", "LIVE", per_request ? "ALLOC/REQ" : "", "SITE");
    for (size_t i = 0; i < pane.later.count && y < bottom; i++, y++) {
        struct hsw_site_row *row = &pane.rows[i];
        struct hsw_frame_symbols frames[HEAPSWITCH_SITE_FRAMES];
        const char *name;

        if (row->site->other) {
            name = "[other]";
        } else {
            hsw_site_symbolize(pane.symbolizer, row->site, frames, row, &budget);
            name = hsw_site_label(frames, row->site->depth, row, label, sizeof label);
        }
        if (per_request && row->allocations_per_request >= 0)
            snprintf(d, sizeof d, "%.2f", row->allocations_per_request);
        else
            d[0] = '\0';
        if (i == pane.selected)
            tui_fill(y, 0, TUI_SELECTED);
        tui_printf(y, 0, i == pane.selected ? TUI_SELECTED : TUI_NORMAL, "%9s %10s %10s %9s  %.*s",
                   hsw_format_count(a, sizeof a, row->allocations),
                   hsw_format_bytes(b, sizeof b, row->bytes),
                   hsw_format_bytes(c, sizeof c, row->live_bytes), d,
                   width > 45 ? width - 45 : 0, name);
    }
}

int top_sites_key(struct top_state *state, int key)
{
    (void)state;
    if (key == 's') {
        pane.shown = !pane.shown;
        pane.stack_open = false;
        if (!pane.shown)
            forget();
        return TOP_HANDLED;
    }
    if (!pane.shown)
        return TOP_IGNORED;
    switch (key) {
    case 'o':
        pane.sort = (enum hsw_site_sort)((pane.sort + 1) % HSW_SITE_SORT_KINDS);
        sort_rows();
        return TOP_HANDLED;
    case TUI_KEY_UP:
        if (pane.selected > 0)
            pane.selected--;
        return TOP_HANDLED;
    case TUI_KEY_DOWN:
        if (pane.selected + 1 < pane.later.count)
            pane.selected++;
        return TOP_HANDLED;
    case TUI_KEY_ENTER:
        if (pane.later.count == 0)
            return TOP_IGNORED;
        pane.stack_open = !pane.stack_open;
        return TOP_HANDLED;
    case TUI_KEY_ESCAPE:
    case TUI_KEY_BACKSPACE:
    case 'q':
        if (!pane.stack_open)
            return TOP_IGNORED;
        pane.stack_open = false;
        return TOP_HANDLED;
    default:
        return TOP_IGNORED;
    }
}

/* Leaving the detail view closes the pane's process: nothing is read for it. */
void top_sites_leave(void)
{
    forget();
    pane.pid = 0;
    pane.stack_open = false;
}
