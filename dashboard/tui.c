/* The one module that owns ncurses (as CRT.c does in htop): set-up and
 * teardown, the colour table, UTF-8 or ASCII drawing, keys and resize.
 * Frames are drawn with werase + wnoutrefresh + doupdate: ncurses sends
 * only the cells that changed, so nothing flickers. */
#include "config.h"

#include <langinfo.h>
#include <locale.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include <curses.h>

#include "dashboard/tui.h"

static SCREEN *screen;
static bool utf8;
static bool colors;

/* One entry per enum tui_color: colours when the terminal has them, the
 * attribute alone on a monochrome one. */
static const struct {
    short foreground, background;
    attr_t color_attr; /* added to the colour pair */
    attr_t mono_attr;
} color_table[TUI_COLOR_COUNT] = {
    [TUI_NORMAL] = {-1, -1, A_NORMAL, A_NORMAL},
    [TUI_HEADER] = {COLOR_CYAN, -1, A_BOLD, A_BOLD},
    [TUI_TITLE] = {COLOR_BLACK, COLOR_GREEN, A_NORMAL, A_REVERSE},
    [TUI_SORTED] = {COLOR_BLACK, COLOR_CYAN, A_BOLD, A_REVERSE | A_BOLD},
    [TUI_SELECTED] = {COLOR_BLACK, COLOR_CYAN, A_NORMAL, A_REVERSE},
    [TUI_GONE] = {COLOR_RED, -1, A_DIM, A_DIM},
    [TUI_BAR] = {COLOR_GREEN, -1, A_NORMAL, A_NORMAL},
    [TUI_STATUS] = {COLOR_BLACK, COLOR_WHITE, A_NORMAL, A_REVERSE},
    [TUI_GOOD] = {COLOR_GREEN, -1, A_BOLD, A_BOLD},
    [TUI_BAD] = {COLOR_RED, -1, A_NORMAL, A_NORMAL},
    [TUI_LABEL] = {COLOR_YELLOW, -1, A_NORMAL, A_BOLD},
};

static attr_t attr_of(enum tui_color color)
{
    if (!colors)
        return color_table[color].mono_attr;
    return COLOR_PAIR((short)color + 1) | color_table[color].color_attr;
}

/* UTF-8 only with a UTF-8 locale on a terminal that is not dumb. */
static bool detect_utf8(void)
{
    const char *term = getenv("TERM");
    const char *codeset = nl_langinfo(CODESET);

    if (term == NULL || strcmp(term, "dumb") == 0)
        return false;
    return codeset != NULL &&
           (strcmp(codeset, "UTF-8") == 0 || strcmp(codeset, "utf8") == 0);
}

int tui_init(char *why, size_t why_size)
{
    const char *term = getenv("TERM");

    setlocale(LC_ALL, "");
    utf8 = detect_utf8();
    screen = newterm(NULL, stdout, stdin);
    if (screen == NULL) {
        snprintf(why, why_size, "cannot use terminal type '%s': use -b, or set TERM",
                 term ? term : "(unset)");
        return -1;
    }
    set_term(screen);
    if (tigetstr("cup") == NULL || tigetstr("cup") == (char *)-1) {
        /* A dumb terminal: no full-screen drawing. */
        tui_end();
        snprintf(why, why_size,
                 "terminal type '%s' cannot move the cursor: use -b, or set TERM "
                 "(e.g. TERM=xterm)",
                 term ? term : "(unset)");
        return -1;
    }
    cbreak();
    noecho();
    nonl();
    keypad(stdscr, TRUE);
    curs_set(0);
    set_escdelay(25);
    colors = has_colors();
    if (colors && start_color() == OK) {
        use_default_colors();
        for (int c = 0; c < TUI_COLOR_COUNT; c++)
            init_pair((short)(c + 1), color_table[c].foreground,
                      color_table[c].background);
    } else {
        colors = false;
    }
    return 0;
}

void tui_end(void)
{
    if (screen == NULL)
        return;
    endwin();
    delscreen(screen);
    screen = NULL;
}

bool tui_utf8(void)
{
    return utf8;
}

int tui_lines(void)
{
    return LINES;
}

int tui_columns(void)
{
    return COLS;
}

void tui_begin_frame(void)
{
    werase(stdscr);
}

void tui_end_frame(void)
{
    wnoutrefresh(stdscr);
    doupdate();
}

/* Copies text into out as the terminal can show it, at most `width`
 * columns; returns the columns used. */
static int printable(const char *text, int width, char *out, size_t size)
{
    size_t used = 0;
    int columns = 0;
    mbstate_t state;

    memset(&state, 0, sizeof state);
    while (*text != '\0' && columns < width && used + 8 < size) {
        unsigned char byte = (unsigned char)*text;
        wchar_t wide;
        size_t length;
        int cells;

        if (byte < 0x80) {
            out[used++] = (char)(byte >= 0x20 && byte != 0x7f ? byte : '?');
            text++;
            columns++;
            continue;
        }
        length = utf8 ? mbrtowc(&wide, text, MB_CUR_MAX, &state) : (size_t)-1;
        cells = length < (size_t)-2 && length > 0 ? wcwidth(wide) : -1;
        if (cells < 0 || columns + cells > width) {
            memset(&state, 0, sizeof state);
            if (cells >= 0)
                break;
            out[used++] = '?';
            text++;
            columns++;
            continue;
        }
        memcpy(out + used, text, length);
        used += length;
        text += length;
        columns += cells;
    }
    out[used] = '\0';
    return columns;
}

int tui_text(int y, int x, int width, enum tui_color color, bool right, const char *text)
{
    char buffer[1024];
    int columns;

    if (y < 0 || y >= LINES || x >= COLS)
        return 0;
    if (width < 0 || x + width > COLS)
        width = COLS - x;
    if (width <= 0)
        return 0;
    columns = printable(text, width, buffer, sizeof buffer);
    if (right && columns < width)
        x += width - columns;
    /* The last cell of the screen cannot be written without scrolling on
     * some terminals: ncurses reports an error, which does not matter. */
    wattrset(stdscr, (int)attr_of(color)); /* ncurses takes attributes as int */
    mvwaddstr(stdscr, y, x, buffer);
    wattrset(stdscr, A_NORMAL);
    return columns;
}

int tui_printf(int y, int x, enum tui_color color, const char *format, ...)
{
    char buffer[1024];
    va_list arguments;

    va_start(arguments, format);
    vsnprintf(buffer, sizeof buffer, format, arguments);
    va_end(arguments);
    return tui_text(y, x, -1, color, false, buffer);
}

void tui_fill(int y, int x, enum tui_color color)
{
    if (y < 0 || y >= LINES || x >= COLS)
        return;
    wattrset(stdscr, (int)attr_of(color)); /* ncurses takes attributes as int */
    wmove(stdscr, y, x);
    for (int at = x; at < COLS; at++)
        waddch(stdscr, ' ');
    wattrset(stdscr, A_NORMAL);
}

void tui_bar(int y, int x, int width, double value, double max)
{
    static const char *const eighths[] = {"", "▏", "▎", "▍", "▌", "▋", "▊", "▉"};
    char buffer[1024];
    size_t used = 0;
    double cells;
    int full;

    if (x + width > COLS)
        width = COLS - x;
    if (y < 0 || y >= LINES || width <= 0 || max <= 0 || !(value > 0))
        return;
    if (width > 100)
        width = 100;
    cells = value / max * width;
    if (cells > width)
        cells = width;
    full = (int)cells;
    for (int i = 0; i < full; i++) {
        const char *piece = utf8 ? "█" : "#";
        memcpy(buffer + used, piece, strlen(piece));
        used += strlen(piece);
    }
    if (utf8 && full < width) {
        int eighth = (int)((cells - full) * 8);
        memcpy(buffer + used, eighths[eighth], strlen(eighths[eighth]));
        used += strlen(eighths[eighth]);
    }
    buffer[used] = '\0';
    if (used == 0) /* something, however small */
        strcpy(buffer, utf8 ? "▏" : "|"); // NOLINT(clang-analyzer-security.insecureAPI.strcpy): 4 bytes, constant
    wattrset(stdscr, (int)attr_of(TUI_BAR));
    mvwaddstr(stdscr, y, x, buffer);
    wattrset(stdscr, A_NORMAL);
}

void tui_sparkline(int y, int x, int width, const double *values, unsigned count)
{
    static const char *const blocks[] = {"▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"};
    static const char ascii[] = "_.-:=+*#";
    char buffer[1024];
    size_t used = 0;
    unsigned first;
    double low = 0, high = 0;

    if (x + width > COLS)
        width = COLS - x;
    if (y < 0 || y >= LINES || width <= 0 || count == 0)
        return;
    if (width > 100)
        width = 100;
    first = count > (unsigned)width ? count - (unsigned)width : 0;
    for (unsigned i = first; i < count; i++) {
        if (i == first || values[i] < low)
            low = values[i];
        if (i == first || values[i] > high)
            high = values[i];
    }
    if (low > 0)
        low = 0; /* bars from zero read more honestly */
    for (unsigned i = first; i < count; i++) {
        int level = high > low ? (int)lround((values[i] - low) / (high - low) * 7) : 0;
        if (level < 0)
            level = 0;
        if (level > 7)
            level = 7;
        if (utf8) {
            memcpy(buffer + used, blocks[level], strlen(blocks[level]));
            used += strlen(blocks[level]);
        } else {
            buffer[used++] = ascii[level];
        }
    }
    buffer[used] = '\0';
    wattrset(stdscr, (int)attr_of(TUI_BAR));
    mvwaddstr(stdscr, y, x, buffer);
    wattrset(stdscr, A_NORMAL);
}

int tui_read_key(int timeout_ms)
{
    int key;

    wtimeout(stdscr, timeout_ms);
    key = wgetch(stdscr);
    switch (key) {
    case ERR:
        return TUI_KEY_NONE;
    case '\n':
    case '\r':
    case KEY_ENTER:
        return TUI_KEY_ENTER;
    case 27:
        return TUI_KEY_ESCAPE;
    case KEY_UP:
        return TUI_KEY_UP;
    case KEY_DOWN:
        return TUI_KEY_DOWN;
    case KEY_PPAGE:
        return TUI_KEY_PAGE_UP;
    case KEY_NPAGE:
        return TUI_KEY_PAGE_DOWN;
    case KEY_HOME:
        return TUI_KEY_HOME;
    case KEY_END:
        return TUI_KEY_END;
    case KEY_BACKSPACE:
    case 127:
    case 8:
        return TUI_KEY_BACKSPACE;
    case KEY_RESIZE:
        return TUI_KEY_RESIZE;
    default:
        if (key >= KEY_F(1) && key <= KEY_F(10))
            return TUI_KEY_F1 + (key - KEY_F(1));
        if (key >= 0x100)
            return TUI_KEY_NONE;
        return key;
    }
}
