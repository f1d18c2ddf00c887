/* heapswitch stat: one look at the processes, the figures of `top`. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dashboard/cmdline.h"
#include "dashboard/command.h"
#include "dashboard/format.h"
#include "dashboard/table.h"

#define USAGE "[-i SECONDS] [--json | --csv] [--sort COLUMN] [--all | PID...]"
#define MAX_PIDS 1024

enum { OPT_JSON = 256, OPT_CSV, OPT_SORT, OPT_ALL };

static const struct hsw_option options[] = {
    {"interval", 'i', "SECONDS", "time between the two looks that give rates (default 1)"},
    {"json", OPT_JSON, NULL, "one JSON object, with every counter"},
    {"csv", OPT_CSV, NULL, "CSV with a header line"},
    {"sort", OPT_SORT, "COLUMN", "the column to sort on (see below; default pid)"},
    {"all", OPT_ALL, NULL, "every process (the default without PIDs)"},
    {"help", 'h', NULL, "this help"},
};
#define OPTION_COUNT (sizeof options / sizeof options[0])

static int help(void)
{
    printf("usage: heapswitch stat " USAGE "\n\n"
           "Prints the processes running under libheapswitch once: calls per second\n"
           "(measured over SECONDS, default 1), live and peak bytes, RSS,\n"
           "fragmentation, allocations per request. Without PIDs, every process\n"
           "this user may read (root: all). Exits 1 if a PID has no segment.\n\n");
    hsw_options_help(stdout, options, OPTION_COUNT);
    printf("\ncolumns: %s\n", hsw_column_keys());
    return 0;
}

/* The options and PIDs of the command line; returns -1 when run() should
 * return *status right away (help, or a usage error). */
static int parse(int argc, char **argv, enum hsw_output *output, double *interval, int *sort,
                 pid_t *pids, size_t *pid_count, int *status)
{
    struct option longs[OPTION_COUNT + 1];
    char shorts[32];
    int option;

    hsw_options_build_permuting(options, OPTION_COUNT, longs, shorts, sizeof shorts);
    optind = 1;
    opterr = 0;
    while ((option = getopt_long(argc, argv, shorts, longs, NULL)) != -1) {
        switch (option) {
        case 'h': *status = help(); return -1;
        case OPT_JSON: *output = HSW_OUTPUT_JSON; break;
        case OPT_CSV: *output = HSW_OUTPUT_CSV; break;
        case OPT_ALL: break;
        case 'i':
            if (hsw_parse_seconds(optarg, interval) != 0) {
                *status = hsw_usage_error("stat", "--interval needs a number of seconds (0 < S <= 86400), not '%s'",
                                          optarg);
                return -1;
            }
            break;
        case OPT_SORT:
            if ((*sort = hsw_column_by_key(optarg)) < 0) {
                *status = hsw_usage_error("stat", "--sort needs a column (%s), not '%s'",
                                          hsw_column_keys(), optarg);
                return -1;
            }
            break;
        case ':':
            *status = hsw_usage_error("stat", "%s needs a value",
                                      hsw_options_culprit(argv, options, OPTION_COUNT));
            return -1;
        default:
            *status = hsw_usage_error("stat", "unknown option '%s'",
                                      hsw_options_culprit(argv, options, OPTION_COUNT));
            return -1;
        }
    }
    for (int at = optind; at < argc; at++) {
        unsigned long pid;

        if (hsw_parse_count(argv[at], 0x7fffffff, &pid) != 0) {
            *status = hsw_usage_error("stat", "'%s' is not a process id", argv[at]);
            return -1;
        }
        if (*pid_count == MAX_PIDS) {
            *status = hsw_usage_error("stat", "at most %d PIDs", MAX_PIDS);
            return -1;
        }
        pids[(*pid_count)++] = (pid_t)pid;
    }
    return 0;
}

static int run(int argc, char **argv)
{
    enum hsw_output output = HSW_OUTPUT_TEXT;
    double interval = 1.0;
    pid_t pids[MAX_PIDS];
    size_t pid_count = 0, shown = 0;
    int sort = HSW_COL_PID, status = 0;
    struct hsw_model model;
    const struct hsw_proc **rows;

    if (parse(argc, argv, &output, &interval, &sort, pids, &pid_count, &status) != 0)
        return status;

    hsw_model_init(&model, 3600);
    if (hsw_model_refresh(&model, false) != 0) {
        hsw_error("stat", "cannot read the segments in %s", heapswitch_directory());
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
    if (output == HSW_OUTPUT_JSON)
        hsw_table_json(stdout, rows, shown, (double)time(NULL));
    else if (output == HSW_OUTPUT_CSV)
        hsw_table_csv(stdout, rows, shown, true, (double)time(NULL));
    else
        hsw_table_text(stdout, rows, shown, isatty(STDOUT_FILENO) ? 160 : 0);
    if (model.problems > 0 && output == HSW_OUTPUT_TEXT)
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
