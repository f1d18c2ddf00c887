/* heapswitch stat: one look at the processes, the figures of `top`. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dashboard/command.h"
#include "dashboard/format.h"
#include "dashboard/table.h"

#define USAGE "[-i SECONDS] [--json | --csv] [--sort COLUMN] [--all | PID...]"
#define MAX_PIDS 1024

static int help(void)
{
    printf("usage: heapswitch stat " USAGE "\n\n"
           "Prints the processes running under libheapswitch once: calls per second\n"
           "(measured over SECONDS, default 1), live and peak bytes, RSS,\n"
           "fragmentation, allocations per request. Without PIDs, every process\n"
           "this user may read (root: all). Exits 1 if a PID has no segment.\n\n"
           "  -i, --interval SECONDS  time between the two looks that give rates\n"
           "  --json                  one JSON object, with every counter\n"
           "  --csv                   CSV with a header line\n"
           "  --sort COLUMN           pid, allocs, frees, bytes, live, peak, rss, frag, frag_bytes,\n"
           "                          per_request, backend, tag, state, command\n"
           "  --all                   every process (the default without PIDs)\n");
    return 0;
}

enum output { OUTPUT_TEXT, OUTPUT_JSON, OUTPUT_CSV };

static int run(int argc, char **argv)
{
    enum output output = OUTPUT_TEXT;
    double interval = 1.0;
    pid_t pids[MAX_PIDS];
    size_t pid_count = 0, shown = 0;
    int sort = HSW_COL_PID, status = 0;
    struct hsw_model model;
    const struct hsw_proc **rows;

    for (int at = 1; at < argc; at++) {
        const char *option = argv[at];
        unsigned long pid;

        if (strcmp(option, "-h") == 0 || strcmp(option, "--help") == 0)
            return help();
        if (strcmp(option, "--json") == 0)
            output = OUTPUT_JSON;
        else if (strcmp(option, "--csv") == 0)
            output = OUTPUT_CSV;
        else if (strcmp(option, "--all") == 0)
            continue;
        else if (strcmp(option, "-i") == 0 || strcmp(option, "--interval") == 0) {
            if (at + 1 >= argc || hsw_parse_seconds(argv[at + 1], &interval) != 0)
                return hsw_usage_error("stat", "%s needs a number of seconds (0 < S <= 86400)",
                                       option);
            at++;
        } else if (strcmp(option, "--sort") == 0) {
            if (at + 1 >= argc || (sort = hsw_column_by_key(argv[at + 1])) < 0)
                return hsw_usage_error("stat", "--sort needs a column name");
            at++;
        } else if (option[0] == '-') {
            return hsw_usage_error("stat", "unknown option '%s'", option);
        } else if (hsw_parse_count(option, 0x7fffffff, &pid) != 0) {
            return hsw_usage_error("stat", "'%s' is not a process id", option);
        } else if (pid_count == MAX_PIDS) {
            return hsw_usage_error("stat", "at most %d PIDs", MAX_PIDS);
        } else {
            pids[pid_count++] = (pid_t)pid;
        }
    }

    hsw_model_init(&model, 3600);
    if (hsw_model_refresh(&model, false) != 0) {
        hsw_error("stat", "cannot read /dev/shm");
        return 1;
    }
    if (model.count > 0) {
        struct timespec pause = {(time_t)interval,
                                 (long)((interval - (double)(time_t)interval) * 1e9)};
        nanosleep(&pause, NULL);
        hsw_model_refresh(&model, false);
    }
    rows = calloc(model.count + 1, sizeof *rows); // NOLINT(bugprone-sizeof-expression): an array of pointers
    if (rows == NULL) {
        hsw_error("stat", "out of memory");
        return 1;
    }
    for (size_t i = 0; i < model.count; i++) {
        bool wanted = pid_count == 0;
        for (size_t p = 0; p < pid_count && !wanted; p++)
            wanted = model.procs[i].now.pid == pids[p];
        if (wanted)
            rows[shown++] = &model.procs[i];
    }
    for (size_t p = 0; p < pid_count; p++) {
        if (hsw_model_find(&model, pids[p]) == NULL) {
            struct heapswitch_snapshot snapshot;
            char why[256];
            if (heapswitch_read_pid(pids[p], &snapshot, why, sizeof why) != 0)
                hsw_error("stat", "%s", why);
            else
                hsw_error("stat", "process %d ended while it was read", (int)pids[p]);
            status = 1;
        }
    }
    hsw_sort(rows, shown, (enum hsw_column)sort, false);
    if (output == OUTPUT_JSON)
        hsw_table_json(stdout, rows, shown, (double)time(NULL));
    else if (output == OUTPUT_CSV)
        hsw_table_csv(stdout, rows, shown, true, (double)time(NULL));
    else
        hsw_table_text(stdout, rows, shown, isatty(STDOUT_FILENO) ? 160 : 0);
    if (model.problems > 0 && output == OUTPUT_TEXT)
        fprintf(stderr, "heapswitch stat: %u segment(s) refused, e.g. %s\n", model.problems,
                model.last_problem);
    free(rows);
    hsw_model_free(&model);
    return status;
}

const struct hsw_command hsw_command_stat = {
    .name = "stat",
    .usage = USAGE,
    .summary = "print the processes' allocation figures once",
    .run = run,
};
