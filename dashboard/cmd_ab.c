/* heapswitch ab: runs one command under several backends and compares
 * them. This file holds the options and the command's flow; the runs are
 * in ab_run.c, the figures and verdicts in ab_summary.c (through the
 * statistics module, dashboard/stats.c), the outputs in ab_text.c,
 * ab_data.c and ab_svg.c; dashboard/ab.h says how they fit. */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dashboard/ab.h"
#include "dashboard/cmdline.h"
#include "dashboard/command.h"
#include "dashboard/library.h"

#define USAGE                                                                           \
    "[-n RUNS | --min-runs N --max-runs N --target-width PCT] [-b BACKEND,...]\n"       \
    "                     [--json | --csv] [--svg FILE] [OPTIONS] -- COMMAND [ARGS...]"
#define DEFAULT_RUNS 10
#define DEFAULT_MAX_WITH_TARGET 100

enum {
    OPT_WARMUP = 256, OPT_MIN_RUNS, OPT_MAX_RUNS, OPT_TARGET_WIDTH, OPT_COUNTED_RUNS,
    OPT_BACKEND, OPT_TIMING, OPT_STATS, OPT_CONFIDENCE, OPT_MIN_EFFECT, OPT_JSON, OPT_CSV,
    OPT_SVG, OPT_SHOW_OUTPUT
};

static const struct hsw_option options[] = {
    {"runs", 'n', "N", "timed runs per backend (both of the next two)"},
    {"min-runs", OPT_MIN_RUNS, "N", "timed runs per backend, at least (default 10)"},
    {"max-runs", OPT_MAX_RUNS, "N", "at most, with --target-width (default 100)"},
    {"target-width", OPT_TARGET_WIDTH, "PCT", "more runs until wall-time intervals are narrower"},
    {"warmup", OPT_WARMUP, "N", "unmeasured runs per backend first (default 1)"},
    {"counted-runs", OPT_COUNTED_RUNS, "N", "runs per backend with counting on (default 1)"},
    {"backends", 'b', "LIST", "comma-separated (default: all of this build)"},
    {"backend", OPT_BACKEND, "LIST", "the same as --backends"},
    {"timing", OPT_TIMING, "HOW", "timed runs: direct (default) or heapswitch"},
    {"stats", OPT_STATS, "LEVEL", "counted runs' counting level: default or exact"},
    {"confidence", OPT_CONFIDENCE, "PCT", "of the intervals (default 95)"},
    {"min-effect", OPT_MIN_EFFECT, "PCT", "smaller effects are no difference (default 2)"},
    {"json", OPT_JSON, NULL, "one JSON object, every run included"},
    {"csv", OPT_CSV, NULL, "summary rows, then a row per run and figure"},
    {"svg", OPT_SVG, "FILE", "also a bar chart with intervals and verdicts"},
    {"show-output", OPT_SHOW_OUTPUT, NULL, "keep COMMAND's output (default: /dev/null)"},
    {"help", 'h', NULL, "this help"},
};
#define OPTION_COUNT (sizeof options / sizeof options[0])


struct settings {
    enum hsw_output output;
    const char *svg;
    char *list;
    bool timing_heapswitch;
    bool max_given;
};

static int help(void)
{
    printf("usage: heapswitch ab " USAGE "\n\n"
           "Runs COMMAND under each backend, interleaved (A B C A B C ...), and compares\n"
           "them with the first. Timed runs give wall time, CPU time and max RSS of the\n"
           "backend itself: preloaded alone where it is an ordinary library (system:\n"
           "nothing preloaded; jemalloc, mimalloc: their own library), else through\n"
           "libheapswitch with counting off (HEAPSWITCH_STATS=0). Counted runs, through\n"
           "libheapswitch with counting on, give the allocation figures from their\n"
           "HEAPSWITCH_REPORT lines: calls and bytes summed over every process of a run,\n"
           "peak live bytes, fragmentation and sampled malloc and free latency\n"
           "(HEAPSWITCH_LATENCY, docs/latency.md) of the root process. Each timed figure,\n"
           "and each latency percentile (one per counted run: use --counted-runs), gets\n"
           "the median ratio to the first backend with its confidence interval and one\n"
           "verdict: one backend better, no difference detected, or not enough data (see\n"
           "docs/statistics.md). A run that fails (non-zero exit, killed) is reported and\n"
           "left out. Exits 0 when every run succeeded, 1 when some failed, 2 on bad\n"
           "usage, 126/127 when COMMAND cannot be run.\n\n");
    hsw_options_help(stdout, options, OPTION_COUNT);
    printf("\nWithout --target-width, exactly --min-runs timed runs. With it, after\n"
           "--min-runs, more rounds until the wall-time interval of every backend\n"
           "against the first is narrower than PCT%% of its ratio, or --max-runs.\n"
           "backends in this build: %s\n", hsw_backend_list());
    return 0;
}

/* Splits "a,b" (or "a, b", the form of hsw_backend_list) into ab->backends.
 * The names point into `list`, which must stay alive. 0 or 2. */
static int parse_backends(struct ab *ab, char *list)
{
    char *save = NULL;
    const char *why = NULL;

    ab->backend_count = 0;
    for (char *name = strtok_r(list, ", ", &save); name != NULL;
         name = strtok_r(NULL, ", ", &save)) {
        if (!hsw_backend_known(name, &why))
            return hsw_usage_error("ab", "backend '%s' %s (valid: %s)", name, why,
                                   hsw_backend_list());
        for (unsigned i = 0; i < ab->backend_count; i++)
            if (strcmp(ab->backends[i].name, name) == 0)
                return hsw_usage_error("ab", "backend '%s' is listed twice", name);
        if (ab->backend_count == AB_MAX_BACKENDS)
            return hsw_usage_error("ab", "at most %d backends", AB_MAX_BACKENDS);
        ab->backends[ab->backend_count++].name = name;
    }
    if (ab->backend_count == 0)
        return hsw_usage_error("ab", "-b needs at least one backend (valid: %s)",
                               hsw_backend_list());
    return 0;
}

/* How each backend's timed runs run (see ab.h). */
static void choose_timing(struct ab *ab, bool through_heapswitch)
{
    for (unsigned b = 0; b < ab->backend_count; b++) {
        struct ab_backend *backend = &ab->backends[b];
        const char *why = NULL;

        backend->timing = AB_TIMING_HEAPSWITCH;
        if (through_heapswitch)
            continue;
        backend->direct = hsw_backend_direct(backend->name, &why);
        if (backend->direct != NULL)
            backend->timing = AB_TIMING_DIRECT;
        else if (strcmp(backend->name, "arena") != 0)
            backend->timing_note = why; /* asked for direct, could not */
    }
}

/* A percentage in (low, high), as a fraction. 0 or -1. */
static int parse_percent(const char *text, double low, double high, double *out)
{
    char *end;
    double value;

    errno = 0;
    value = strtod(text, &end);
    if (errno != 0 || end == text || *end != '\0' || !(value > low && value < high))
        return -1;
    *out = value / 100;
    return 0;
}

static int parse_option(struct ab *ab, struct settings *settings, int option, char **argv)
{
    unsigned long runs;
    const char *name = option == ':' || option == '?'
                           ? hsw_options_culprit(argv, options, OPTION_COUNT)
                           : hsw_options_name(options, OPTION_COUNT, option);

    switch (option) {
    case 'n':
    case OPT_MIN_RUNS:
    case OPT_MAX_RUNS:
        if (hsw_parse_range(optarg, 1, AB_MAX_RUNS, &runs) != 0)
            return hsw_usage_error("ab", "%s needs a number of runs (1 to %d), not '%s'",
                                   name, AB_MAX_RUNS, optarg);
        if (option != OPT_MAX_RUNS)
            ab->min_runs = runs;
        if (option != OPT_MIN_RUNS) {
            ab->max_runs = runs;
            settings->max_given = true;
        }
        return 0;
    case OPT_WARMUP:
    case OPT_COUNTED_RUNS:
        if (hsw_parse_range(optarg, 0, AB_MAX_RUNS, &runs) != 0)
            return hsw_usage_error("ab", "%s needs a number of runs (0 to %d), not '%s'",
                                   name, AB_MAX_RUNS, optarg);
        *(option == OPT_WARMUP ? &ab->warmup : &ab->counted_runs) = runs;
        return 0;
    case OPT_TARGET_WIDTH:
        if (parse_percent(optarg, 0, 1000, &ab->target_width) != 0)
            return hsw_usage_error("ab", "--target-width needs a percentage above 0, not '%s'",
                                   optarg);
        return 0;
    case OPT_CONFIDENCE:
        if (parse_percent(optarg, 50, 100, &ab->compare.confidence) != 0)
            return hsw_usage_error("ab", "--confidence needs a percentage between 50 and 100 "
                                         "(exclusive), not '%s'", optarg);
        return 0;
    case OPT_MIN_EFFECT:
        if (strcmp(optarg, "0") == 0)
            ab->compare.min_effect = 0;
        else if (parse_percent(optarg, 0, 100, &ab->compare.min_effect) != 0)
            return hsw_usage_error("ab", "--min-effect needs a percentage from 0 to under "
                                         "100, not '%s'", optarg);
        return 0;
    case 'b':
    case OPT_BACKEND: settings->list = optarg; return 0;
    case OPT_TIMING:
        if (strcmp(optarg, "direct") != 0 && strcmp(optarg, "heapswitch") != 0)
            return hsw_usage_error("ab", "--timing is direct or heapswitch, not '%s'", optarg);
        settings->timing_heapswitch = strcmp(optarg, "heapswitch") == 0;
        return 0;
    case OPT_STATS:
        if (strcmp(optarg, "default") != 0 && strcmp(optarg, "exact") != 0)
            return hsw_usage_error("ab", "--stats is default or exact, not '%s'", optarg);
        ab->stats_level = strcmp(optarg, "exact") == 0 ? "exact" : NULL;
        return 0;
    case OPT_JSON: settings->output = HSW_OUTPUT_JSON; return 0;
    case OPT_CSV: settings->output = HSW_OUTPUT_CSV; return 0;
    case OPT_SVG:
        if (optarg[0] == '\0')
            return hsw_usage_error("ab", "--svg needs a file name");
        settings->svg = optarg;
        return 0;
    case OPT_SHOW_OUTPUT: ab->show_output = true; return 0;
    case ':': return hsw_usage_error("ab", "%s needs a value", name);
    default: return hsw_usage_error("ab", "unknown option '%s'", name);
    }
}

/* Options into ab and settings. Returns 0, -1 after --help, or 2. */
static int parse(struct ab *ab, struct settings *settings, int argc, char **argv)
{
    static char default_list[128];
    struct option longs[OPTION_COUNT + 1];
    char shorts[32];
    int option, status;

    hsw_options_build(options, OPTION_COUNT, longs, shorts, sizeof shorts);
    optind = 1;
    opterr = 0;
    while ((option = getopt_long(argc, argv, shorts, longs, NULL)) != -1) {
        if (option == 'h')
            return help() == 0 ? -1 : 2;
        if ((status = parse_option(ab, settings, option, argv)) != 0)
            return status;
    }
    ab->command = hsw_command_after_dashes("ab", argc, argv, &status);
    if (ab->command == NULL)
        return status;
    if (!settings->max_given)
        ab->max_runs = ab->target_width > 0 ? DEFAULT_MAX_WITH_TARGET : ab->min_runs;
    if (ab->max_runs < ab->min_runs)
        return hsw_usage_error("ab", "--max-runs %lu is below --min-runs %lu", ab->max_runs,
                               ab->min_runs);
    if (settings->list == NULL) {
        snprintf(default_list, sizeof default_list, "%s", hsw_backend_list());
        settings->list = default_list;
    }
    if ((status = parse_backends(ab, settings->list)) != 0)
        return status;
    choose_timing(ab, settings->timing_heapswitch);
    return 0;
}

static int output(struct ab *ab, const struct settings *settings, FILE **svg_file)
{
    ab_summarize(ab);
    if (settings->output == HSW_OUTPUT_JSON)
        ab_print_json(ab);
    else if (settings->output == HSW_OUTPUT_CSV)
        ab_print_csv(ab);
    else
        ab_print_text(ab);
    if (fflush(stdout) != 0)
        return 1;
    if (*svg_file != NULL) {
        FILE *file = *svg_file;
        *svg_file = NULL;
        if (ab_write_svg(ab, file, settings->svg) != 0)
            return 1;
    }
    for (unsigned b = 0; b < ab->backend_count; b++)
        if (ab->backends[b].timed_failed + ab->backends[b].counted_failed > 0)
            return 1;
    return 0;
}

static int run(int argc, char **argv)
{
    struct ab ab = {.min_runs = DEFAULT_RUNS, .warmup = 1, .counted_runs = 1};
    struct settings settings = {.output = HSW_OUTPUT_TEXT};
    const char *why = NULL;
    FILE *svg_file = NULL;
    int status;

    hsw_compare_defaults(&ab.compare);
    status = parse(&ab, &settings, argc, argv);
    if (status != 0)
        return status < 0 ? 0 : status;
    ab.library = hsw_library_path(&why);
    if (ab.library == NULL) {
        hsw_error("ab", "%s", why);
        return 1;
    }
    /* Opened now: a bad path should not cost the whole run. */
    if (settings.svg != NULL && (svg_file = fopen(settings.svg, "we")) == NULL) {
        hsw_error("ab", "cannot write %s: %s", settings.svg, strerror(errno));
        return 1;
    }
    status = ab_run_all(&ab);
    if (status == 0)
        status = output(&ab, &settings, &svg_file);
    if (svg_file != NULL) {
        /* Nothing to chart: no empty file left behind. */
        fclose(svg_file);
        if (settings.svg != NULL)
            unlink(settings.svg);
    }
    free(ab.runs);
    return status;
}

const struct hsw_command hsw_command_ab = {
    .name = "ab",
    .usage = USAGE,
    .summary = "compare backends on one command (A/B runs)",
    .run = run,
};
