/* The keys of heapswitch top that every screen shares (quit, help, pause,
 * the A/B view's toggles, sorting) and the filter's line editing; the
 * screens' own keys are in their files. */
#include "config.h"

#include <string.h>

#include "dashboard/top.h"
#include "dashboard/tui.h"

/* Moves the sort column by `step` among all the columns. */
static void move_sort(struct top_state *state, int step)
{
    state->sort =
        (enum hsw_column)(((int)state->sort + step + HSW_COL_COUNT) % HSW_COL_COUNT);
    state->reverse = false;
}

static void sort_by(struct top_state *state, enum hsw_column column)
{
    if (state->sort == column)
        state->reverse = !state->reverse;
    else
        state->reverse = false;
    state->sort = column;
}

/* Keys while the filter is typed. */
int top_filter_key(struct top_state *state, int key)
{
    size_t length = strlen(state->filter);

    if (key == TUI_KEY_ENTER) {
        state->editing_filter = false;
    } else if (key == TUI_KEY_ESCAPE) {
        state->editing_filter = false;
        state->filter[0] = '\0';
    } else if (key == TUI_KEY_BACKSPACE) {
        if (length > 0)
            state->filter[length - 1] = '\0';
    } else if (key >= 0x20 && key < 0x7f && length + 1 < sizeof state->filter) {
        state->filter[length] = (char)key;
        state->filter[length + 1] = '\0';
    } else {
        return TOP_HANDLED;
    }
    state->scroll = 0;
    return TOP_REDRAW;
}

/* The keys every screen shares. */
int top_common_key(struct top_state *state, int key)
{
    switch (key) {
    case 'q':
    case TUI_KEY_F10:
        return TOP_QUIT;
    case 'h':
    case '?':
    case TUI_KEY_F1:
        if (state->view != TOP_VIEW_HELP) {
            state->help_return = state->view;
            state->view = TOP_VIEW_HELP;
        }
        return TOP_REDRAW;
    case ' ':
    case 'p':
        state->paused = !state->paused;
        return TOP_REDRAW;
    case 'a':
        state->view = state->view == TOP_VIEW_AB ? TOP_VIEW_LIST : TOP_VIEW_AB;
        return TOP_REDRAW;
    case 'g':
        state->group_by_tag = !state->group_by_tag;
        return TOP_REDRAW;
    case '/':
    case TUI_KEY_F4:
        state->editing_filter = true;
        return TOP_REDRAW;
    case '<':
        move_sort(state, -1);
        return TOP_REDRAW;
    case '>':
    case TUI_KEY_F6:
        move_sort(state, 1);
        return TOP_REDRAW;
    case 'R':
        state->reverse = !state->reverse;
        return TOP_REDRAW;
    case 'L':
        state->latency_columns = !state->latency_columns;
        if (!state->latency_columns && hsw_column_is_latency(state->sort))
            state->sort = HSW_COL_ALLOCS;
        return TOP_REDRAW;
    case 'P':
        sort_by(state, HSW_COL_ALLOCS);
        return TOP_REDRAW;
    case 'M':
        sort_by(state, HSW_COL_LIVE);
        return TOP_REDRAW;
    case 'N':
        sort_by(state, HSW_COL_PID);
        return TOP_REDRAW;
    case 'F':
        sort_by(state, HSW_COL_FRAG);
        return TOP_REDRAW;
    case 'S':
        sort_by(state, HSW_COL_RSS);
        return TOP_REDRAW;
    case 'B':
        sort_by(state, HSW_COL_BACKEND);
        return TOP_REDRAW;
    case 'T':
        sort_by(state, HSW_COL_TAG);
        return TOP_REDRAW;
    case 'C':
        sort_by(state, HSW_COL_COMMAND);
        return TOP_REDRAW;
    case TUI_KEY_RESIZE:
        return TOP_REDRAW;
    default:
        return TOP_IGNORED;
    }
}

