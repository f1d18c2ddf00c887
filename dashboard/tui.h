/* The one module that owns ncurses: terminal set-up and teardown, the
 * colour table, UTF-8 or ASCII drawing, key reading and resize. The
 * screens of `heapswitch top` draw only through these functions. */
#ifndef HSW_TUI_H
#define HSW_TUI_H

#include <stdbool.h>
#include <stddef.h>

/* The colours of the UI, indexed into one table in tui.c. */
enum tui_color {
    TUI_NORMAL,
    TUI_HEADER,   /* the totals line */
    TUI_TITLE,    /* column titles */
    TUI_SORTED,   /* the title of the sort column */
    TUI_SELECTED, /* the selected row */
    TUI_GONE,     /* a process that ended */
    TUI_BAR,      /* bars and sparklines */
    TUI_STATUS,   /* the status line */
    TUI_GOOD,     /* the better group in the A/B view */
    TUI_BAD,
    TUI_LABEL, /* labels in the detail view */
    TUI_COLOR_COUNT
};

/* Keys beyond plain characters, as tui_read_key returns them. */
enum {
    TUI_KEY_NONE = -1, /* the timeout passed */
    TUI_KEY_ENTER = 0x100,
    TUI_KEY_ESCAPE,
    TUI_KEY_UP,
    TUI_KEY_DOWN,
    TUI_KEY_PAGE_UP,
    TUI_KEY_PAGE_DOWN,
    TUI_KEY_HOME,
    TUI_KEY_END,
    TUI_KEY_BACKSPACE,
    TUI_KEY_RESIZE,
    TUI_KEY_F1,
    TUI_KEY_F4 = TUI_KEY_F1 + 3,
    TUI_KEY_F6 = TUI_KEY_F1 + 5,
    TUI_KEY_F10 = TUI_KEY_F1 + 9,
};

/* Sets the locale, starts ncurses on the terminal, picks colours and
 * UTF-8 or ASCII. Returns 0, or -1 with a reason in `why` (an unknown
 * terminal type, or one that cannot move the cursor, such as dumb). */
int tui_init(char *why, size_t why_size);
/* Restores the terminal; safe to call twice. */
void tui_end(void);
/* Whether bars and sparklines use UTF-8 blocks. */
bool tui_utf8(void);
int tui_lines(void);
int tui_columns(void);

/* Starts a frame: erases the screen buffer (no clear, no flicker). */
void tui_begin_frame(void);
/* Ends a frame: copies the buffer to the terminal in one update. */
void tui_end_frame(void);

/* Writes text at (y, x) in a colour, at most `width` columns (the rest of
 * the line when width < 0); bytes the terminal cannot show become '?'.
 * Right-aligned in width when right. Returns the columns written. */
int tui_text(int y, int x, int width, enum tui_color color, bool right, const char *text);
/* printf to (y, x), clipped to the line. */
int tui_printf(int y, int x, enum tui_color color, const char *format, ...)
    __attribute__((format(printf, 4, 5)));
/* Fills a line from x to its end with spaces in a colour. */
void tui_fill(int y, int x, enum tui_color color);
/* A horizontal bar of value/max over width columns (eighths in UTF-8). */
void tui_bar(int y, int x, int width, double value, double max);
/* A sparkline of values (oldest first), the last `width` of them. */
void tui_sparkline(int y, int x, int width, const double *values, unsigned count);

/* Waits up to timeout_ms for a key (forever when < 0); returns a
 * character, a TUI_KEY_ value, or TUI_KEY_NONE. */
int tui_read_key(int timeout_ms);

#endif
