/* heapswitch sites: the sampled allocation call sites of one process, as
 * a table, JSON, or collapsed stacks for flame graphs. */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dashboard/cmdline.h"
#include "dashboard/command.h"
#include "dashboard/format.h"
#include "dashboard/sites_model.h"
#include "dashboard/symbols.h"

#define USAGE "[-i SECONDS] [--sort KEY] [--live] [--limit N] [--stacks] [--json | --folded] PID"
#define DEFAULT_LIMIT 20

/* Exit statuses: 2 is a usage error, as for every command. */
enum {
    EXIT_NO_SEGMENT = 1, /* bad or gone PID, no readable segment */
    EXIT_SAMPLING_OFF = 3,
    EXIT_BAD_SECTION = 4,
};

enum { OPT_JSON = 256, OPT_FOLDED, OPT_SORT, OPT_LIVE, OPT_LIMIT, OPT_STACKS };

enum sites_output { OUTPUT_TABLE, OUTPUT_JSON, OUTPUT_FOLDED };

static const struct hsw_option options[] = {
    {"interval", 'i', "SECONDS", "read twice, SECONDS apart: rates per second (default: totals)"},
    {"sort", OPT_SORT, "KEY", "allocs, bytes or live (default allocs; live with --live)"},
    {"live", OPT_LIVE, NULL, "weigh sites by their live bytes instead of allocations"},
    {"limit", OPT_LIMIT, "N", "show the top N sites (default 20; --json, --folded: all)"},
    {"stacks", OPT_STACKS, NULL, "print every site's whole stack under it"},
    {"json", OPT_JSON, NULL, "one JSON object: sites, estimates, symbolized stacks"},
    {"folded", OPT_FOLDED, NULL, "collapsed stacks (\"outer;...;inner COUNT\") for flame graphs"},
    {"help", 'h', NULL, "this help"},
};
#define OPTION_COUNT (sizeof options / sizeof options[0])

struct sites_request {
    pid_t pid;
    double interval; /* 0: one read, totals */
    enum sites_output output;
    enum hsw_site_sort sort;
    bool sort_given, live, stacks;
    unsigned long limit; /* 0: the default */
};

static int help(void)
{
    printf("usage: heapswitch sites " USAGE "\n\n"
           "Prints where a process's allocations come from: the call sites that\n"
           "HEAPSWITCH_SAMPLE sampling found (estimates, weighted to be unbiased),\n"
           "each named by its innermost frame outside libc, libstdc++ and heapswitch.\n"
           "Symbols come from /proc/PID/maps and the mapped files (elfutils libdw).\n\n");
    hsw_options_help(stdout, options, OPTION_COUNT);
    printf("\nexit status: 0 shown, 1 no segment for PID, 2 usage error,\n"
           "3 sampling is off in PID, 4 its sites section is refused as corrupt.\n");
    return 0;
}

static int parse(int argc, char **argv, struct sites_request *request, int *status)
{
    struct option longs[OPTION_COUNT + 1];
    char shorts[32];
    unsigned long pid;
    int option, sort;

    hsw_options_build_permuting(options, OPTION_COUNT, longs, shorts, sizeof shorts);
    optind = 1;
    opterr = 0;
    while ((option = getopt_long(argc, argv, shorts, longs, NULL)) != -1) {
        switch (option) {
        case 'h': *status = help(); return -1;
        case OPT_JSON: request->output = OUTPUT_JSON; break;
        case OPT_FOLDED: request->output = OUTPUT_FOLDED; break;
        case OPT_LIVE: request->live = true; break;
        case OPT_STACKS: request->stacks = true; break;
        case 'i':
            if (hsw_parse_seconds(optarg, &request->interval) != 0) {
                *status = hsw_usage_error("sites", "--interval needs a number of seconds (0 < S <= 86400), not '%s'",
                                          optarg);
                return -1;
            }
            break;
        case OPT_SORT:
            if ((sort = hsw_site_sort_by_key(optarg)) < 0) {
                *status = hsw_usage_error("sites", "--sort needs allocs, bytes or live, not '%s'",
                                          optarg);
                return -1;
            }
            request->sort = (enum hsw_site_sort)sort;
            request->sort_given = true;
            break;
        case OPT_LIMIT:
            if (hsw_parse_count(optarg, 1000000, &request->limit) != 0) {
                *status = hsw_usage_error("sites", "--limit needs a number of sites (1 to 1000000), not '%s'",
                                          optarg);
                return -1;
            }
            break;
        case ':':
            *status = hsw_usage_error("sites", "%s needs a value",
                                      hsw_options_culprit(argv, options, OPTION_COUNT));
            return -1;
        default:
            *status = hsw_usage_error("sites", "unknown option '%s'",
                                      hsw_options_culprit(argv, options, OPTION_COUNT));
            return -1;
        }
    }
    if (optind >= argc) {
        *status = hsw_usage_error("sites", "missing the PID");
        return -1;
    }
    if (optind + 1 < argc) {
        *status = hsw_usage_error("sites", "one PID only ('%s' is extra)", argv[optind + 1]);
        return -1;
    }
    if (hsw_parse_count(argv[optind], 0x7fffffff, &pid) != 0) {
        *status = hsw_usage_error("sites", "'%s' is not a process id", argv[optind]);
        return -1;
    }
    request->pid = (pid_t)pid;
    if (request->live && !request->sort_given)
        request->sort = HSW_SITE_SORT_LIVE;
    return 0;
}

/* Reads the sites, or returns an exit status after saying why. */
static int read_sites(pid_t pid, struct heapswitch_snapshot *snapshot,
                      struct heapswitch_sites *sites)
{
    char why[256];

    switch (heapswitch_read_sites(pid, snapshot, sites, why, sizeof why)) {
    case 0: return 0;
    case HEAPSWITCH_SITES_OFF: hsw_error("sites", "%s", why); return EXIT_SAMPLING_OFF;
    case HEAPSWITCH_SITES_CORRUPT:
        hsw_error("sites", "process %d: %s", (int)pid, why);
        return EXIT_BAD_SECTION;
    default: hsw_error("sites", "%s", why); return EXIT_NO_SEGMENT;
    }
}

/* ---- The three outputs ------------------------------------------------------- */

struct sites_view {
    const struct sites_request *request;
    const struct heapswitch_snapshot *snapshot;
    const struct heapswitch_sites *sites;
    struct hsw_site_row *rows;
    size_t shown;
    struct hsw_frame_symbols *frames; /* HEAPSWITCH_SITE_FRAMES per shown row */
    double seconds;  /* between the reads, 0 for totals */
    double requests; /* marked in between (or in all) */
    const char *symbols_problem; /* NULL when the process's maps were read */
};

static const struct hsw_frame_symbols *row_frames(const struct sites_view *view, size_t row)
{
    return &view->frames[row * HEAPSWITCH_SITE_FRAMES];
}

static const char *row_label(const struct sites_view *view, size_t row, char *out, size_t size)
{
    const struct hsw_site_row *r = &view->rows[row];

    if (r->site->other)
        return snprintf(out, size, "[other: stacks with no room in the table, or not unwound]"),
               out;
    return hsw_site_label(row_frames(view, row), r->site->depth, r, out, size);
}

static void print_table(const struct sites_view *view)
{
    const char *per = view->seconds > 0 ? "/s" : "";
    bool per_request = view->requests > 0;
    char a[32], b[32], c[32], d[32], label[512];

    printf("process %d (%s): %llu samples, one per %s allocated on average%s\n",
           (int)view->snapshot->pid, view->snapshot->exe,
           (unsigned long long)view->sites->samples,
           hsw_format_bytes(a, sizeof a, (double)view->sites->interval),
           view->seconds > 0 ? "" : "; totals since it started");
    if (view->symbols_problem != NULL)
        printf("(%s)\n", view->symbols_problem);
    printf("%9s %10s %10s", per[0] ? "ALLOCS/s" : "ALLOCS", per[0] ? "BYTES/s" : "BYTES", "LIVE");
    if (per_request)
        printf(" %9s", "ALLOC/REQ");
    printf("  SITE\n");
    for (size_t i = 0; i < view->shown; i++) {
        const struct hsw_site_row *r = &view->rows[i];

        printf("%9s %10s %10s", hsw_format_count(a, sizeof a, r->allocations),
               hsw_format_bytes(b, sizeof b, r->bytes),
               hsw_format_bytes(c, sizeof c, r->live_bytes));
        if (per_request)
            printf(" %9s", r->allocations_per_request >= 0
                               ? (snprintf(d, sizeof d, "%.2f", r->allocations_per_request), d)
                               : "-");
        printf("  %s\n", row_label(view, i, label, sizeof label));
        if (!view->request->stacks || r->site->other)
            continue;
        for (unsigned f = 0; f < r->site->depth; f++) {
            const struct hsw_frame_symbols *frame = &row_frames(view, i)[f];
            for (unsigned s = 0; s < frame->count; s++)
                printf("%*s#%-2u %s%s\n", per_request ? 43 : 33, "", f,
                       frame->symbols[s].inlined ? "(inlined) " : "",
                       hsw_symbol_text(&frame->symbols[s], label, sizeof label));
        }
    }
    if (view->shown < view->sites->count)
        printf("(%zu more sites; --limit N shows more)\n", view->sites->count - view->shown);
    printf("estimates from sampling; %s\n", view->seconds > 0 ? "rates over the interval"
                                                              : "-i SECONDS gives rates");
}

static void json_number(const char *key, double value, bool comma)
{
    printf("\"%s\":%.6g%s", key, isfinite(value) ? value : 0, comma ? "," : "");
}

static void print_json(const struct sites_view *view)
{
    char address[32];

    printf("{\"pid\":%d,\"interval_bytes\":%llu,\"samples\":%llu,\"unwind_failures\":%llu,"
           "\"capacity\":%u,\"sites_total\":%zu,",
           (int)view->snapshot->pid, (unsigned long long)view->sites->interval,
           (unsigned long long)view->sites->samples,
           (unsigned long long)view->sites->unwind_failures, view->sites->capacity,
           view->sites->count);
    json_number("seconds", view->seconds, true);
    json_number("requests", view->requests, true);
    printf("\"rates\":%s,\"symbols\":", view->seconds > 0 ? "true" : "false");
    hsw_json_string(stdout, view->symbols_problem != NULL ? view->symbols_problem : "ok");
    printf(",\"sites\":[");
    for (size_t i = 0; i < view->shown; i++) {
        const struct hsw_site_row *r = &view->rows[i];
        const struct heapswitch_site *site = r->site;
        char label[512];

        printf("%s{\"other\":%s,\"site\":", i > 0 ? "," : "", site->other ? "true" : "false");
        hsw_json_string(stdout, row_label(view, i, label, sizeof label));
        printf(",\"samples\":%llu,", (unsigned long long)site->samples);
        json_number(view->seconds > 0 ? "allocations_per_second" : "allocations", r->allocations, true);
        json_number(view->seconds > 0 ? "bytes_per_second" : "bytes", r->bytes, true);
        if (r->allocations_per_request >= 0)
            json_number("allocations_per_request", r->allocations_per_request, true);
        json_number("total_allocations", site->allocations, true);
        json_number("total_bytes", site->bytes, true);
        json_number("live_bytes", site->live_bytes, true);
        json_number("live_blocks", site->live_blocks, true);
        printf("\"stack\":[");
        for (unsigned f = 0; f < site->depth; f++) {
            const struct hsw_frame_symbols *frame = &row_frames(view, i)[f];
            snprintf(address, sizeof address, "0x%llx", (unsigned long long)site->frames[f]);
            for (unsigned s = 0; s < frame->count; s++) {
                const struct hsw_symbol *symbol = &frame->symbols[s];
                printf("%s{\"frame\":%u,\"address\":\"%s\",\"function\":", f + s > 0 ? "," : "",
                       f, address);
                hsw_json_string(stdout, symbol->function);
                printf(",\"file\":");
                if (symbol->line > 0)
                    hsw_json_string(stdout, symbol->file);
                else
                    printf("null");
                printf(",\"line\":%u,\"module\":", symbol->line);
                hsw_json_string(stdout, symbol->module);
                printf(",\"inlined\":%s,\"system\":%s}", symbol->inlined ? "true" : "false",
                       symbol->system ? "true" : "false");
            }
        }
        printf("]}");
    }
    printf("]}\n");
}

/* A frame name for a collapsed stack: ';' separates frames and the line
 * ends with " COUNT", so neither ';' nor a newline may appear in it. */
static void folded_name(const char *name)
{
    for (const char *c = name; *c != '\0'; c++)
        putchar(*c == ';' ? ':' : (unsigned char)*c < 0x20 ? '?' : *c);
}

static void print_folded(const struct sites_view *view)
{
    for (size_t i = 0; i < view->shown; i++) {
        const struct hsw_site_row *r = &view->rows[i];
        double weight = view->request->live ? r->live_bytes : r->allocations;
        unsigned long long count = (unsigned long long)llround(weight);

        if (count == 0)
            continue;
        printf("%s", view->snapshot->exe[0] != '\0' && strrchr(view->snapshot->exe, '/') != NULL
                         ? strrchr(view->snapshot->exe, '/') + 1
                         : "process");
        if (r->site->other)
            printf(";[other]");
        for (unsigned f = r->site->depth; f-- > 0;) {
            const struct hsw_frame_symbols *frame = &row_frames(view, i)[f];
            for (unsigned s = frame->count; s-- > 0;) {
                putchar(';');
                folded_name(frame->symbols[s].function);
            }
        }
        printf(" %llu\n", count);
    }
}

/* Requests marked between two reads (since the start without the first). */
static double requests_between(const struct heapswitch_snapshot *earlier,
                               const struct heapswitch_snapshot *later)
{
    uint64_t then = earlier != NULL ? earlier->counters.requests : 0;

    return later->counters.requests > then ? (double)(later->counters.requests - then) : 0;
}

/* ---- Running ------------------------------------------------------------------- */

static int show(const struct sites_request *request, const struct heapswitch_snapshot *before_snapshot,
                const struct heapswitch_sites *before, const struct heapswitch_snapshot *snapshot,
                const struct heapswitch_sites *sites)
{
    struct sites_view view = {.request = request, .snapshot = snapshot, .sites = sites};
    struct hsw_symbolizer *symbolizer;
    unsigned long limit = request->limit;
    char why[256];

    if (before != NULL)
        view.seconds = snapshot->taken - before_snapshot->taken;
    view.requests = requests_between(before != NULL ? before_snapshot : NULL, snapshot);
    view.rows = hsw_site_rows(before, sites, view.seconds, view.requests, request->sort);
    if (limit == 0)
        limit = request->output == OUTPUT_TABLE ? DEFAULT_LIMIT : sites->count;
    view.shown = sites->count < limit ? sites->count : limit;
    view.frames = calloc(view.shown * HEAPSWITCH_SITE_FRAMES + 1, sizeof *view.frames);
    if (view.rows == NULL || view.frames == NULL) {
        free(view.rows);
        free(view.frames);
        hsw_error("sites", "out of memory");
        return 1;
    }
    symbolizer = hsw_symbolizer_open(snapshot->pid, why, sizeof why);
    if (symbolizer == NULL)
        view.symbols_problem = why;
    for (size_t i = 0; i < view.shown; i++)
        hsw_site_symbolize(symbolizer, view.rows[i].site, &view.frames[i * HEAPSWITCH_SITE_FRAMES],
                           &view.rows[i], NULL);
    hsw_symbolizer_close(symbolizer);
    if (request->output == OUTPUT_JSON)
        print_json(&view);
    else if (request->output == OUTPUT_FOLDED)
        print_folded(&view);
    else
        print_table(&view);
    if (view.symbols_problem != NULL && request->output != OUTPUT_TABLE)
        hsw_error("sites", "%s", view.symbols_problem);
    free(view.rows);
    free(view.frames);
    hsw_symbols_cache_clear();
    return 0;
}

static int run(int argc, char **argv)
{
    struct sites_request request = {.sort = HSW_SITE_SORT_ALLOCATIONS};
    struct heapswitch_snapshot first_snapshot, snapshot;
    struct heapswitch_sites first = {0}, sites = {0};
    int status = 0;

    if (parse(argc, argv, &request, &status) != 0)
        return status;
    if ((status = read_sites(request.pid, &first_snapshot, &first)) != 0)
        return status;
    if (request.interval > 0) {
        struct timespec pause = {(time_t)request.interval,
                                 (long)((request.interval - (double)(time_t)request.interval) * 1e9)};
        nanosleep(&pause, NULL);
        if ((status = read_sites(request.pid, &snapshot, &sites)) == 0)
            status = show(&request, &first_snapshot, &first, &snapshot, &sites);
    } else {
        status = show(&request, NULL, NULL, &first_snapshot, &first);
    }
    heapswitch_sites_free(&first);
    heapswitch_sites_free(&sites);
    return status;
}

const struct hsw_command hsw_command_sites = {
    .name = "sites",
    .usage = USAGE,
    .summary = "print where a process's allocations come from (sampled call sites)",
    .run = run,
};
