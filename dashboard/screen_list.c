/* The process table of `heapswitch top`: one row per process, the
 * columns that fit the terminal (the command column takes the rest), the
 * sort column highlighted, ended processes dimmed. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "dashboard/top.h"
#include "dashboard/tui.h"

#define MIN_COMMAND_WIDTH 16

/* The columns dropped first when the terminal is narrow. */
static const enum hsw_column drop_order[] = {
    HSW_COL_LABELS, HSW_COL_LAT_P50, HSW_COL_LAT_MAX, HSW_COL_PEAK, HSW_COL_STATE, HSW_COL_PER_REQUEST,
    HSW_COL_BYTES,  HSW_COL_FREES,   HSW_COL_FRAG,    HSW_COL_TAG,  HSW_COL_RSS,   HSW_COL_BACKEND,
};

/* Which columns fit in `width` columns; LABELS only where a row has some,
 * the latency columns only when asked for (they go early when the
 * terminal is narrow). */
static void fit_columns(const struct top_state *state, int width, bool latency,
                        bool shown[HSW_COL_COUNT])
{
    int used = 0;

    for (int c = 0; c < HSW_COL_COUNT; c++) {
        shown[c] = latency || !hsw_column_is_latency((enum hsw_column)c);
        used += shown[c] && hsw_columns[c].width ? hsw_columns[c].width + 1 : 0;
    }
    shown[HSW_COL_LABELS] = false;
    used -= hsw_columns[HSW_COL_LABELS].width + 1;
    for (size_t i = 0; i < state->row_count && !shown[HSW_COL_LABELS]; i++)
        if (state->rows[i]->now.labels[0] != '\0') {
            shown[HSW_COL_LABELS] = true;
            used += hsw_columns[HSW_COL_LABELS].width + 1;
        }
    for (size_t d = 0; d < sizeof drop_order / sizeof drop_order[0]; d++) {
        if (width - used >= MIN_COMMAND_WIDTH)
            break;
        if (!shown[drop_order[d]])
            continue;
        shown[drop_order[d]] = false;
        used -= hsw_columns[drop_order[d]].width + 1;
    }
}

/* Keeps the selection inside the window: on the same process once the
 * user moved it, on the same line (the top one at first) before. */
static void place_selection(struct top_state *state, int visible)
{
    size_t index = state->row_count;

    for (size_t i = 0; i < state->row_count && state->follow; i++)
        if (state->rows[i]->now.pid == state->selected_pid)
            index = i;
    if (index == state->row_count)
        index = state->selected < state->row_count ? state->selected
                : state->row_count                 ? state->row_count - 1
                                                   : 0;
    state->selected = index;
    state->selected_pid = state->row_count ? state->rows[index]->now.pid : 0;
    if (visible < 1)
        visible = 1;
    if (state->selected < state->scroll)
        state->scroll = state->selected;
    if (state->selected >= state->scroll + (size_t)visible)
        state->scroll = state->selected - (size_t)visible + 1;
    if (state->scroll > 0 && state->scroll + (size_t)visible > state->row_count)
        state->scroll =
            state->row_count > (size_t)visible ? state->row_count - (size_t)visible : 0;
}

static void draw_row(int y, const struct hsw_proc *proc, const bool shown[HSW_COL_COUNT],
                     bool selected)
{
    bool gone = proc->gone_since != 0 || proc->now.state != HEAPSWITCH_PROCESS_RUNNING;
    enum tui_color color = selected ? TUI_SELECTED : gone ? TUI_GONE : TUI_NORMAL;
    int x = 0;
    char cell[64], command[600];

    if (selected)
        tui_fill(y, 0, TUI_SELECTED);
    for (int c = 0; c < HSW_COL_COUNT; c++) {
        const char *text;
        if (!shown[c])
            continue;
        text = hsw_cell(proc, (enum hsw_column)c, cell, sizeof cell);
        if (c == HSW_COL_COMMAND) {
            if (gone && !shown[HSW_COL_STATE]) {
                snprintf(command, sizeof command, "[%s] %s",
                         hsw_state_name(proc->now.state), text);
                text = command;
            }
            tui_text(y, x, -1, color, false, text);
            break;
        }
        tui_text(y, x, hsw_columns[c].width, color, hsw_columns[c].numeric, text);
        x += hsw_columns[c].width + 1;
    }
}

static void draw(struct top_state *state)
{
    int lines = tui_lines(), visible = lines - 3, x = 0;
    bool shown[HSW_COL_COUNT];

    fit_columns(state, tui_columns(),
                state->latency_columns || hsw_column_is_latency(state->sort), shown);
    place_selection(state, visible);
    top_draw_header(state);
    tui_fill(1, 0, TUI_TITLE);
    for (int c = 0; c < HSW_COL_COUNT; c++) {
        int width = hsw_columns[c].width ? hsw_columns[c].width : -1;
        if (!shown[c])
            continue;
        tui_text(1, x, width, c == (int)state->sort ? TUI_SORTED : TUI_TITLE,
                 hsw_columns[c].numeric, hsw_columns[c].title);
        x += hsw_columns[c].width + 1;
    }
    if (state->row_count == 0)
        tui_text(3, 2, -1, TUI_LABEL, false,
                 state->filter[0] ? "No process matches the filter."
                                  : "No process under libheapswitch: start one with "
                                    "'heapswitch run -b BACKEND -- COMMAND'.");
    for (int line = 0; line < visible; line++) {
        size_t index = state->scroll + (size_t)line;
        if (index >= state->row_count)
            break;
        draw_row(2 + line, state->rows[index], shown, index == state->selected);
    }
    top_draw_status(state, "Enter details  a A/B  L latency  / filter  h help  q quit");
}

static void select_index(struct top_state *state, long index)
{
    if (state->row_count == 0)
        return;
    if (index < 0)
        index = 0;
    if ((size_t)index >= state->row_count)
        index = (long)state->row_count - 1;
    state->selected = (size_t)index;
    state->selected_pid = state->rows[index]->now.pid;
    state->follow = true;
}

static int key(struct top_state *state, int key_code)
{
    long page = tui_lines() - 3 > 1 ? tui_lines() - 3 : 1;
    long at = (long)state->selected;

    switch (key_code) {
    case TUI_KEY_UP:
        select_index(state, at - 1);
        return TOP_HANDLED;
    case TUI_KEY_DOWN:
        select_index(state, at + 1);
        return TOP_HANDLED;
    case TUI_KEY_PAGE_UP:
        select_index(state, at - page);
        return TOP_HANDLED;
    case TUI_KEY_PAGE_DOWN:
        select_index(state, at + page);
        return TOP_HANDLED;
    case TUI_KEY_HOME:
        select_index(state, 0);
        return TOP_HANDLED;
    case TUI_KEY_END:
        select_index(state, (long)state->row_count - 1);
        return TOP_HANDLED;
    case TUI_KEY_ENTER:
        if (top_selected(state) != NULL)
            state->view = TOP_VIEW_DETAIL;
        return TOP_REDRAW;
    default:
        return TOP_IGNORED;
    }
}

const struct top_screen top_screen_list = {.draw = draw, .key = key};
