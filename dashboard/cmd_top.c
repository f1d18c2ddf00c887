/* heapswitch top: the live dashboard. Batch mode (-b) prints the table of
 * `stat` every refresh as text, JSON lines or CSV; otherwise a terminal UI
 * (tui.c owns ncurses) runs the loop of htop's ScreenManager: scan, draw
 * the current screen, read a key, dispatch it to the screen, then to the
 * keys every screen shares. */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dashboard/cmdline.h"
#include "dashboard/command.h"
#include "dashboard/format.h"
#include "dashboard/top.h"
#include "dashboard/tui.h"

#define USAGE                                                                            \
    "[-b] [-n COUNT] [-d SECONDS] [-p PID[,PID...]] [--sort COLUMN] [--json | --csv]"
#define MIN_DELAY 0.1
#define MAX_DELAY 3600.0
#define KEEP_GONE_SECONDS 3.0

enum { OPT_SORT = 256, OPT_JSON, OPT_CSV, OPT_FILTER };

static const struct hsw_option options[] = {
    {"delay", 'd', "SECONDS", "time between refreshes, 0.1 to 3600 (default 1)"},
    {"batch", 'b', NULL, "no UI: print a table every refresh on stdout"},
    {"iterations", 'n', "COUNT", "refreshes before exiting (default: until interrupted)"},
    {"pid", 'p', "PID[,PID...]", "only these processes (the option can repeat)"},
    {"sort", OPT_SORT, "COLUMN", "the column to sort on (see below; default allocs)"},
    {"json", OPT_JSON, NULL, "batch: one JSON object per refresh, one per line"},
    {"csv", OPT_CSV, NULL, "batch: a CSV header, then rows every refresh"},
    {"filter", OPT_FILTER, "TEXT", "only processes whose command, backend, tag or labels hold TEXT"},
    {"help", 'h', NULL, "this help"},
};
#define OPTION_COUNT (sizeof options / sizeof options[0])

static int help(void)
{
    printf("usage: heapswitch top " USAGE "\n\n"
           "Shows the processes running under libheapswitch, refreshed every SECONDS:\n"
           "allocations, frees and bytes per second, live and peak bytes, RSS,\n"
           "fragmentation, allocations per request. Processes that end are shown\n"
           "dimmed for %.0f seconds, then dropped. Needs a terminal unless -b.\n\n",
           KEEP_GONE_SECONDS);
    hsw_options_help(stdout, options, OPTION_COUNT);
    printf("\ncolumns: %s\n\n", hsw_column_keys());
    printf(
           "Keys in the UI:\n"
           "  Up/Down PgUp/PgDn Home/End  move the selection\n"
           "  Enter          details of the selected process (Esc, Enter or q: back)\n"
           "  s              details: call sites instead of size classes; o sorts them,\n"
           "                 Up/Down and Enter show a site's stack\n"
           "  a              A/B view: each program's processes compared, arm against\n"
           "                 arm (again: back)\n"
           "  g              A/B view: arms by backend or by tag\n"
           "  k              A/B view: what makes one program: executable, executable\n"
           "                 and tag prefix, or command line\n"
           "  w              A/B view: window of 30, 60, 120 or 300 seconds\n"
           "  < > F6         move the sort column left / right (F6: right)\n"
           "  P M N R        sort by allocs/s, live bytes, pid; R reverses the order\n"
           "  F S B T C      sort by frag, RSS, backend, tag, command\n"
           "  / F4           filter (command, backend, tag, labels); Enter keeps, Esc clears\n"
           "  space p        pause / resume refreshing\n"
           "  h ? F1         help\n"
           "  q F10          quit (Ctrl-C too)\n");
    return 0;
}


static volatile sig_atomic_t stop_requested;

static void request_stop(int signal_number)
{
    (void)signal_number;
    stop_requested = 1;
}

/* Whether `needle` occurs in `text`, ignoring case. */
static bool contains(const char *text, const char *needle)
{
    return strcasestr(text, needle) != NULL;
}

bool top_wanted(const struct top_state *state, const struct hsw_proc *proc, bool filtered)
{
    if (state->pid_count > 0) {
        bool listed = false;
        for (size_t i = 0; i < state->pid_count && !listed; i++)
            listed = state->pids[i] == proc->now.pid;
        if (!listed)
            return false;
    }
    if (!filtered || state->filter[0] == '\0')
        return true;
    return contains(proc->now.cmdline, state->filter) ||
           contains(proc->now.exe, state->filter) ||
           contains(proc->now.backend, state->filter) ||
           contains(proc->now.tag, state->filter) ||
           contains(proc->now.labels, state->filter);
}

/* Fills state->rows with the processes to show, sorted. */
static int select_rows(struct top_state *state, bool filtered)
{
    const struct hsw_proc **rows =
        realloc(state->rows, (state->model.count + 1) * sizeof *rows); // NOLINT(bugprone-sizeof-expression): an array of pointers

    if (rows == NULL)
        return -1;
    state->rows = rows;
    state->row_count = 0;
    for (size_t i = 0; i < state->model.count; i++)
        if (top_wanted(state, &state->model.procs[i], filtered))
            rows[state->row_count++] = &state->model.procs[i];
    hsw_sort(rows, state->row_count, state->sort, state->reverse);
    return 0;
}

/* Adds a comma-separated list of pids to -p. */
static int parse_pids(struct top_state *state, const char *list)
{
    char copy[4096];
    char *save = NULL;

    if (strlen(list) >= sizeof copy || list[0] == '\0')
        return -1;
    strcpy(copy, list); // NOLINT(clang-analyzer-security.insecureAPI.strcpy): length checked above
    for (char *item = strtok_r(copy, ",", &save); item;
         item = strtok_r(NULL, ",", &save)) {
        unsigned long pid;
        if (hsw_parse_count(item, 0x7fffffff, &pid) != 0 ||
            state->pid_count == TOP_MAX_PIDS)
            return -1;
        state->pids[state->pid_count++] = (pid_t)pid;
    }
    return state->pid_count > 0 ? 0 : -1;
}

static void sleep_seconds(double seconds)
{
    struct timespec pause = {(time_t)seconds,
                             (long)((seconds - (double)(time_t)seconds) * 1e9)};

    while (nanosleep(&pause, &pause) != 0 && errno == EINTR && !stop_requested)
        ;
}

/* The totals of the shown rows, for the batch header and the UI. */
static void totals(const struct top_state *state, size_t *running, double *allocs,
                   double *live)
{
    *running = 0;
    *allocs = 0;
    *live = 0;
    for (size_t i = 0; i < state->row_count; i++) {
        const struct hsw_proc *proc = state->rows[i];
        if (proc->now.state == HEAPSWITCH_PROCESS_RUNNING && proc->gone_since == 0)
            (*running)++;
        if (proc->has_rates)
            *allocs += proc->rates.allocs_per_second;
        *live += (double)proc->now.live_bytes;
    }
}

static int run_batch(struct top_state *state, enum hsw_output output,
                     unsigned long iterations)
{
    bool header = true;

    if (hsw_model_refresh(&state->model, true) != 0) {
        hsw_error("top", "cannot read the segments in %s", heapswitch_directory());
        return 1;
    }
    for (unsigned long done = 0; iterations == 0 || done < iterations; done++) {
        sleep_seconds(state->delay);
        if (stop_requested)
            break;
        hsw_model_refresh(&state->model, true);
        if (select_rows(state, true) != 0) {
            hsw_error("top", "out of memory");
            return 1;
        }
        if (output == HSW_OUTPUT_JSON) {
            hsw_table_json(stdout, state->rows, state->row_count, (double)time(NULL));
        } else if (output == HSW_OUTPUT_CSV) {
            hsw_table_csv(stdout, state->rows, state->row_count, header,
                          (double)time(NULL));
            header = false;
        } else {
            char when[32], allocs_text[32], live_text[32];
            time_t now = time(NULL);
            size_t running;
            double allocs, live;

            totals(state, &running, &allocs, &live);
            strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", localtime(&now));
            printf("%sheapswitch top - %s - %zu processes (%zu running), %s allocs/s, "
                   "%s live",
                   done ? "\n" : "", when, state->row_count, running,
                   hsw_format_count(allocs_text, sizeof allocs_text, allocs),
                   hsw_format_bytes(live_text, sizeof live_text, live));
            if (state->model.problems > 0)
                printf(", %u refused (%s)", state->model.problems,
                       state->model.last_problem);
            printf("\n");
            hsw_table_text(stdout, state->rows, state->row_count, 0);
        }
        if (fflush(stdout) != 0 || ferror(stdout))
            return 1; /* the reader went away */
    }
    return 0;
}

/* ---- the terminal UI ------------------------------------------------ */

static const struct top_screen *const screens[TOP_VIEW_COUNT] = {
    [TOP_VIEW_LIST] = &top_screen_list,
    [TOP_VIEW_DETAIL] = &top_screen_detail,
    [TOP_VIEW_AB] = &top_screen_ab,
    [TOP_VIEW_HELP] = &top_screen_help,
};

const struct hsw_proc *top_selected(const struct top_state *state)
{
    for (size_t i = 0; i < state->row_count; i++)
        if (state->rows[i]->now.pid == state->selected_pid)
            return state->rows[i];
    return NULL;
}

void top_draw_header(const struct top_state *state)
{
    char when[32], allocs_text[32], live_text[32];
    time_t now = (time_t)state->last_scan;
    size_t running;
    double allocs, live;

    totals(state, &running, &allocs, &live);
    strftime(when, sizeof when, "%H:%M:%S", localtime(&now));
    tui_printf(0, 0, TUI_HEADER,
               "top %s | processes: %zu (%zu running) | allocs/s: %s | live: %s", when,
               state->row_count, running,
               hsw_format_count(allocs_text, sizeof allocs_text, allocs),
               hsw_format_bytes(live_text, sizeof live_text, live));
}

void top_draw_status(const struct top_state *state, const char *keys)
{
    char line[512];
    int y = tui_lines() - 1;
    size_t used;

    if (state->editing_filter) {
        tui_fill(y, 0, TUI_STATUS);
        tui_printf(y, 0, TUI_STATUS, "filter: %s_   (Enter: keep, Esc: clear)",
                   state->filter);
        return;
    }
    used =
        (size_t)snprintf(line, sizeof line, "sort: %s%s", hsw_columns[state->sort].title,
                         state->reverse ? " (reversed)" : "");
    if (state->filter[0] != '\0' && used < sizeof line)
        used += (size_t)snprintf(line + used, sizeof line - used, "  filter: %s",
                                 state->filter);
    if (state->paused && used < sizeof line)
        used += (size_t)snprintf(line + used, sizeof line - used, "  PAUSED");
    if (state->model.problems > 0 && used < sizeof line)
        used += (size_t)snprintf(line + used, sizeof line - used, "  refused: %u (%s)",
                                 state->model.problems, state->model.last_problem);
    if (used < sizeof line)
        snprintf(line + used, sizeof line - used, "  | %s", keys);
    tui_fill(y, 0, TUI_STATUS);
    tui_text(y, 0, -1, TUI_STATUS, false, line);
}

/* Hands the A/B view this scan's snapshots of the processes running. */
static void sample_ab(struct top_state *state)
{
    const struct heapswitch_snapshot **running =
        malloc((state->model.count + 1) * sizeof *running); // NOLINT(bugprone-sizeof-expression): an array of pointers
    size_t count = 0;

    if (running == NULL)
        return;
    for (size_t i = 0; i < state->model.count; i++)
        if (state->model.procs[i].gone_since == 0)
            running[count++] = &state->model.procs[i].now;
    hsw_ab_update(&state->ab, running, count);
    free(running);
}

static int run_tui(struct top_state *state, unsigned long iterations)
{
    char why[256];
    double next_scan;
    unsigned long scans = 0;

    if (tui_init(why, sizeof why) != 0)
        return hsw_usage_error("top", "%s", why);
    hsw_model_refresh(&state->model, true);
    sample_ab(state);
    state->last_scan = (double)time(NULL);
    /* The first rates come sooner than a whole delay. */
    next_scan = hsw_now() + (state->delay < 0.5 ? state->delay : 0.5);
    while (!stop_requested) {
        double now = hsw_now();
        int key, result, wait_ms;

        if (!state->paused && now >= next_scan) {
            hsw_model_refresh(&state->model, true);
            sample_ab(state);
            state->last_scan = (double)time(NULL);
            next_scan = now + state->delay;
            if (iterations > 0 && ++scans > iterations)
                break;
        }
        if (select_rows(state, true) != 0)
            break;
        tui_begin_frame();
        screens[state->view]->draw(state);
        tui_end_frame();
        wait_ms = state->paused ? 1000 : (int)((next_scan - hsw_now()) * 1000) + 1;
        key = tui_read_key(wait_ms < 0 ? 0 : wait_ms);
        if (key == TUI_KEY_NONE)
            continue;
        if (state->editing_filter)
            result = top_filter_key(state, key);
        else if ((result = screens[state->view]->key(state, key)) == TOP_IGNORED)
            result = top_common_key(state, key);
        if (result & TOP_QUIT)
            break;
        if (result & TOP_RESCAN)
            next_scan = 0;
    }
    tui_end();
    return 0;
}

static int run(int argc, char **argv)
{
    static struct top_state state;
    enum hsw_output output = HSW_OUTPUT_TEXT;
    unsigned long iterations = 0;
    struct option longs[OPTION_COUNT + 1];
    char shorts[32];
    bool batch = false;
    int sort, status, option;

    memset(&state, 0, sizeof state);
    state.delay = 1.0;
    state.sort = HSW_COL_ALLOCS;
    state.ab_window = TOP_AB_DEFAULT_WINDOW;
    hsw_ab_init(&state.ab);
    hsw_options_build_permuting(options, OPTION_COUNT, longs, shorts, sizeof shorts);
    optind = 1;
    opterr = 0;
    while ((option = getopt_long(argc, argv, shorts, longs, NULL)) != -1) {
        /* The option as named in errors: its long name for a bad value,
         * the word getopt_long refused otherwise. */
        const char *name = option == ':' || option == '?'
                               ? hsw_options_culprit(argv, options, OPTION_COUNT)
                               : hsw_options_name(options, OPTION_COUNT, option);

        switch (option) {
        case 'h': return help();
        case 'b': batch = true; break;
        case OPT_JSON: output = HSW_OUTPUT_JSON; break;
        case OPT_CSV: output = HSW_OUTPUT_CSV; break;
        case 'd':
            if (hsw_parse_seconds(optarg, &state.delay) != 0 || state.delay < MIN_DELAY ||
                state.delay > MAX_DELAY)
                return hsw_usage_error("top", "%s needs a number of seconds from %.1f to %.0f, not '%s'",
                                       name, MIN_DELAY, MAX_DELAY, optarg);
            break;
        case 'n':
            if (hsw_parse_count(optarg, 1000000000, &iterations) != 0)
                return hsw_usage_error("top", "%s needs a count from 1 to 1000000000, not '%s'",
                                       name, optarg);
            break;
        case 'p':
            if (parse_pids(&state, optarg) != 0)
                return hsw_usage_error("top", "%s needs process ids separated by commas, not '%s'",
                                       name, optarg);
            break;
        case OPT_SORT:
            if ((sort = hsw_column_by_key(optarg)) < 0)
                return hsw_usage_error("top", "--sort needs a column (%s), not '%s'",
                                       hsw_column_keys(), optarg);
            state.sort = (enum hsw_column)sort;
            break;
        case OPT_FILTER:
            if (strlen(optarg) >= sizeof state.filter)
                return hsw_usage_error("top", "%s takes at most %zu characters", name,
                                       sizeof state.filter - 1);
            snprintf(state.filter, sizeof state.filter, "%s", optarg);
            break;
        case ':': return hsw_usage_error("top", "%s needs a value", name);
        default: return hsw_usage_error("top", "unknown option '%s'", name);
        }
    }
    if (optind < argc)
        return hsw_usage_error("top", "unexpected argument '%s' (use -p PID)", argv[optind]);
    if (output != HSW_OUTPUT_TEXT && !batch)
        return hsw_usage_error("top", "--json and --csv need -b (batch mode)");
    if (!batch && (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)))
        return hsw_usage_error("top", "not a terminal: use -b for batch output "
                                      "(e.g. heapswitch top -b -n 1)");

    signal(SIGINT, request_stop);
    signal(SIGTERM, request_stop);
    signal(SIGHUP, request_stop);
    signal(SIGPIPE, SIG_IGN);
    hsw_model_init(&state.model, KEEP_GONE_SECONDS);
    status = batch ? run_batch(&state, output, iterations) : run_tui(&state, iterations);
    free(state.rows);
    hsw_ab_free(&state.ab);
    hsw_model_free(&state.model);
    return status;
}

const struct hsw_command hsw_command_top = {
    .name = "top",
    .usage = USAGE,
    .summary = "live dashboard of the processes' allocators (-b: batch output)",
    .run = run,
};
