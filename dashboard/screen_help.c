/* The help screen of `heapswitch top`: the keys, and how to go back. */
#include "config.h"

#include "dashboard/top.h"
#include "dashboard/tui.h"

static const char *const lines[] = {
    "heapswitch top - keys",
    "",
    "  Up/Down PgUp/PgDn Home/End  move the selection",
    "  Enter        details of the selected process (Esc, Enter or q: back)",
    "  s            details: call sites instead of size classes (HEAPSWITCH_SAMPLE);",
    "               o cycles their sort, Up/Down and Enter show a site's stack",
    "  a            A/B view: each program's arms compared (a again: back)",
    "  g            A/B view: arms by backend or by tag",
    "  k            A/B view: what makes one program: executable, executable and",
    "               tag prefix (up to - _ . : /), or command line",
    "  w            A/B view: window of 30, 60, 120 or 300 s; Up/Down scroll",
    "  < > F6       move the sort column left / right (F6: right)",
    "  P M N        sort by allocs/s, live bytes, pid (again: reverse)",
    "  F S B T C    sort by fragmentation, RSS, backend, tag, command",
    "  R            reverse the sort order",
    "  L            latency columns: malloc's P50 P99 P99.9 MAXLAT (sampled)",
    "  l            details: size classes, alloc latency, free latency histogram",
    "  / F4         filter by text (command, backend, tag, labels); Enter keeps, Esc clears",
    "  space p      pause / resume refreshing",
    "  h ? F1       this help",
    "  q F10        quit",
    "",
    "Dimmed rows are processes that ended; they go after a few seconds.",
    "A/B: per request when the program marks requests, else CPU per 1,000",
    "allocation calls; allocs/s only checks that the arms get the same traffic.",
    "Press any key to go back.",
};

static void draw(struct top_state *state)
{
    (void)state;
    for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++)
        tui_text((int)i, 0, -1, i == 0 ? TUI_HEADER : TUI_NORMAL, false, lines[i]);
}

static int key(struct top_state *state, int key_code)
{
    if (key_code == TUI_KEY_RESIZE)
        return TOP_IGNORED;
    if (key_code == 'q' || key_code == TUI_KEY_F10)
        return TOP_QUIT;
    state->view = state->help_return;
    return TOP_REDRAW;
}

const struct top_screen top_screen_help = {.draw = draw, .key = key};
