/* heapswitch export: the counters of every process on the host in
 * Prometheus' text format (0.0.4), read afresh from the segments each
 * time: served over HTTP at /metrics (dashboard/export_http.c), written
 * to a file for node_exporter's textfile collector (dashboard/textfile.c),
 * or both. This file holds the options and the one loop: it polls the
 * HTTP server's descriptor and a signalfd for SIGINT and SIGTERM (which
 * end it with status 0), and rewrites the textfile on its interval. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "dashboard/command.h"
#include "dashboard/export.h"
#include "dashboard/format.h"
#include "dashboard/metrics.h"
#include "dashboard/model.h"

#define DEFAULT_LISTEN "127.0.0.1:9464"
#define DEFAULT_MAX_CONNECTIONS 64
#define DEFAULT_TIMEOUT 5
#define USAGE "[--listen ADDRESS:PORT] [--once] [--textfile PATH [--interval SECONDS]]"

/* Below 256: also a short option. */
enum option_id {
    OPT_LISTEN = 'l',
    OPT_HELP = 'h',
    OPT_ONCE = 256,
    OPT_MAX_CONNECTIONS,
    OPT_TIMEOUT,
    OPT_TEXTFILE,
    OPT_INTERVAL,
};

/* The options, their help and getopt_long's table in one place. */
static const struct {
    const char *name;
    enum option_id id;
    const char *argument; /* NULL: takes none */
    const char *help;
} options[] = {
    {"listen", OPT_LISTEN, "ADDRESS:PORT",
     "serve http://ADDRESS:PORT/metrics (default " DEFAULT_LISTEN
     ", loopback only): an IPv4 address, [IPv6 address]:PORT, or :PORT for every "
     "interface"},
    {"once", OPT_ONCE, NULL, "answer one HTTP request, then exit"},
    {"max-connections", OPT_MAX_CONNECTIONS, "N",
     "connections served at once (default 64); more wait in the backlog"},
    {"timeout", OPT_TIMEOUT, "SECONDS",
     "a connection's whole life, however slow the client (default 5)"},
    {"textfile", OPT_TEXTFILE, "PATH",
     "write the same text to PATH (a NAME.prom in node_exporter's textfile directory), "
     "replaced atomically; without --listen, no HTTP server"},
    {"interval", OPT_INTERVAL, "SECONDS",
     "rewrite the textfile every SECONDS until stopped (default: write it once)"},
    {"help", OPT_HELP, NULL, "show this help"},
};
#define OPTION_COUNT (sizeof options / sizeof options[0])

struct settings {
    const char *listen; /* NULL: no HTTP server */
    bool listen_given, once;
    const char *textfile;
    double interval; /* 0: the textfile once */
    struct hsw_http_limits limits;
    bool limits_given;
};

static int help(void)
{
    printf("usage: heapswitch export " USAGE "\n\n"
           "Serves the counters of every process running under libheapswitch in\n"
           "Prometheus' text format (0.0.4), read afresh at each scrape, over HTTP or\n"
           "in a file. Exits 0 on SIGINT or SIGTERM (or after --once, or after\n"
           "writing the textfile once), 1 if it cannot listen or write, 2 on bad "
           "usage.\n\n");
    for (size_t i = 0; i < OPTION_COUNT; i++) {
        char head[64];
        int width;

        if (options[i].id < 256)
            width = snprintf(head, sizeof head, "  -%c, --%s%s%s", options[i].id,
                             options[i].name, options[i].argument ? " " : "",
                             options[i].argument ? options[i].argument : "");
        else
            width = snprintf(head, sizeof head, "      --%s%s%s", options[i].name,
                             options[i].argument ? " " : "",
                             options[i].argument ? options[i].argument : "");
        printf("%s%*s", head, width < 30 ? 30 - width : 1, "");
        /* The help wrapped at 76 columns, continued under itself. */
        for (const char *text = options[i].help; *text != '\0';) {
            size_t length = strlen(text), cut = length;
            if (length > 46) {
                cut = 46;
                while (cut > 0 && text[cut] != ' ')
                    cut--;
                if (cut == 0)
                    cut = 46;
            }
            printf("%.*s\n", (int)cut, text);
            text += cut;
            while (*text == ' ')
                text++;
            if (*text != '\0')
                printf("%30s", "");
        }
    }
    return 0;
}

/* Parses argv into *settings. Returns -1 when done (go on), or an exit
 * status (0 after --help, 2 after a usage error). */
static int parse_options(int argc, char **argv, struct settings *settings)
{
    struct option table[OPTION_COUNT + 1];
    char short_options[2 * OPTION_COUNT + 2] = ":";
    unsigned long count;
    int id;

    memset(table, 0, sizeof table);
    for (size_t i = 0; i < OPTION_COUNT; i++) {
        table[i].name = options[i].name;
        table[i].has_arg = options[i].argument != NULL ? required_argument : no_argument;
        table[i].val = (int)options[i].id;
        if (options[i].id < 256) {
            size_t at = strlen(short_options);
            short_options[at] = (char)options[i].id;
            short_options[at + 1] = options[i].argument != NULL ? ':' : '\0';
            short_options[at + 2] = '\0';
        }
    }
    opterr = 0;
    optind = 1;
    while ((id = getopt_long(argc, argv, short_options, table, NULL)) != -1) {
        switch (id) {
        case OPT_HELP:
            return help();
        case OPT_LISTEN:
            settings->listen = optarg;
            settings->listen_given = true;
            break;
        case OPT_ONCE:
            settings->once = true;
            break;
        case OPT_TEXTFILE:
            if (optarg[0] == '\0')
                return hsw_usage_error("export", "--textfile needs a file name");
            settings->textfile = optarg;
            break;
        case OPT_INTERVAL:
            if (hsw_parse_seconds(optarg, &settings->interval) != 0)
                return hsw_usage_error("export",
                                       "bad --interval '%s': seconds, above 0 "
                                       "and at most 86400",
                                       optarg);
            break;
        case OPT_MAX_CONNECTIONS:
            if (hsw_parse_count(optarg, 10000, &count) != 0)
                return hsw_usage_error("export",
                                       "bad --max-connections '%s': a number "
                                       "from 1 to 10000",
                                       optarg);
            settings->limits.max_connections = (unsigned)count;
            settings->limits_given = true;
            break;
        case OPT_TIMEOUT:
            if (hsw_parse_count(optarg, 3600, &count) != 0)
                return hsw_usage_error("export",
                                       "bad --timeout '%s': whole seconds from 1 "
                                       "to 3600",
                                       optarg);
            settings->limits.timeout_seconds = (unsigned)count;
            settings->limits_given = true;
            break;
        case ':':
            for (size_t i = 0; i < OPTION_COUNT; i++)
                if ((int)options[i].id == optopt)
                    return hsw_usage_error("export", "--%s needs %s", options[i].name,
                                           options[i].argument);
            return hsw_usage_error("export", "%s needs a value", argv[optind - 1]);
        default:
            if (optopt > 0 && optopt < 256) /* a short one, maybe among others */
                return hsw_usage_error("export", "unknown option '-%c'", optopt);
            return hsw_usage_error("export", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return hsw_usage_error("export", "unexpected argument '%s'", argv[optind]);
    if (settings->interval > 0 && settings->textfile == NULL)
        return hsw_usage_error("export", "--interval is the textfile's: give --textfile");
    /* The textfile alone needs no server; asked for, it gets one. */
    if (settings->textfile != NULL && !settings->listen_given) {
        if (settings->once || settings->limits_given)
            return hsw_usage_error("export",
                                   "--once, --max-connections and --timeout are "
                                   "the HTTP server's: add --listen");
        settings->listen = NULL;
    }
    return -1;
}

/* ---- The page ----------------------------------------------------------- */

struct exporter {
    struct hsw_model model;
    const struct heapswitch_snapshot **seen;
    size_t seen_capacity;
};

/* Scans the segments and renders the page into a malloc'ed buffer. */
static int render_page(void *context, char **text, size_t *length)
{
    struct exporter *exporter = context;
    struct hsw_model *model = &exporter->model;
    struct hsw_metrics_scan scan;
    double started = hsw_now();
    size_t count = 0;
    FILE *out;
    int status;

    if (hsw_model_refresh(model, false) != 0)
        return -1;
    if (model->count > exporter->seen_capacity) {
        size_t size = model->count * sizeof(const struct heapswitch_snapshot *);
        const struct heapswitch_snapshot **grown = realloc(exporter->seen, size);
        if (grown == NULL)
            return -1;
        exporter->seen = grown;
        exporter->seen_capacity = model->count;
    }
    for (size_t i = 0; i < model->count; i++)
        if (model->procs[i].seen)
            exporter->seen[count++] = &model->procs[i].now;
    scan.refused = model->problems;
    scan.duration_seconds = hsw_now() - started;
    *text = NULL;
    out = open_memstream(text, length);
    if (out == NULL)
        return -1;
    status = hsw_metrics_write(out, exporter->seen, count, &scan);
    if (fclose(out) != 0 || status != 0) {
        free(*text);
        return -1;
    }
    return 0;
}

static int write_textfile(struct exporter *exporter, const char *path)
{
    char *text;
    size_t length;
    int status;

    if (render_page(exporter, &text, &length) != 0) {
        hsw_error("export", "cannot read the segments in %s", heapswitch_directory());
        return -1;
    }
    status = hsw_textfile_write(path, text, length);
    free(text);
    return status;
}

/* ---- The loop ----------------------------------------------------------- */

/* Runs until SIGINT or SIGTERM (or --once's answer). Returns the status. */
static int serve(struct exporter *exporter, const struct settings *settings,
                 struct hsw_http *http, int signals)
{
    double next_write = settings->interval > 0 ? hsw_now() + settings->interval : -1;

    for (;;) {
        struct pollfd fds[2] = {{.fd = signals, .events = POLLIN},
                                {.fd = http ? hsw_http_fd(http) : -1, .events = POLLIN}};
        int timeout = http ? hsw_http_timeout_ms(http) : -1;

        if (next_write > 0) {
            double until = (next_write - hsw_now()) * 1000 + 1;
            int write_ms = until < 0 ? 0 : until > 60000 ? 60000 : (int)until;
            if (timeout < 0 || write_ms < timeout)
                timeout = write_ms;
        }
        if (poll(fds, 2, timeout) < 0 && errno != EINTR) {
            hsw_error("export", "poll: %s", strerror(errno));
            return 1;
        }
        if (fds[0].revents != 0)
            return 0; /* SIGINT or SIGTERM */
        if (http != NULL && hsw_http_run(http) != 0)
            return 1;
        if (http != NULL && settings->once && hsw_http_answered(http) > 0)
            return 0;
        if (next_write > 0 && hsw_now() >= next_write) {
            /* A failure is reported and retried at the next interval: the
             * directory may come back. */
            write_textfile(exporter, settings->textfile);
            next_write += settings->interval;
            if (next_write < hsw_now())
                next_write = hsw_now() + settings->interval;
        }
    }
}

/* SIGINT and SIGTERM blocked and read from a descriptor instead, so that
 * they end the loop without a race. Returns the descriptor, or -1. */
static int catch_stop_signals(void)
{
    sigset_t stop;
    int fd;

    signal(SIGPIPE, SIG_IGN);
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    sigprocmask(SIG_BLOCK, &stop, NULL);
    fd = signalfd(-1, &stop, SFD_CLOEXEC | SFD_NONBLOCK);
    if (fd < 0)
        hsw_error("export", "signalfd: %s", strerror(errno));
    return fd;
}

static int run(int argc, char **argv)
{
    static struct exporter exporter;
    struct settings settings = {
        .listen = DEFAULT_LISTEN,
        .limits = {.max_connections = DEFAULT_MAX_CONNECTIONS,
                   .timeout_seconds = DEFAULT_TIMEOUT},
    };
    struct hsw_listen_address where;
    struct hsw_http *http = NULL;
    const char *why = NULL;
    int status, signals, listener;

    status = parse_options(argc, argv, &settings);
    if (status >= 0)
        return status;
    if (settings.listen != NULL && hsw_listen_parse(settings.listen, &where, &why) != 0)
        return hsw_usage_error("export", "bad --listen '%s': %s", settings.listen, why);
    signals = catch_stop_signals();
    if (signals < 0)
        return 1;
    hsw_model_init(&exporter.model, 0);
    /* The textfile first: a directory that is not writable fails now. */
    status = settings.textfile != NULL ? write_textfile(&exporter, settings.textfile) : 0;
    if (status == 0 && settings.listen != NULL) {
        listener = hsw_listen_open(&where);
        http = listener >= 0
                   ? hsw_http_start(listener, &settings.limits, render_page, &exporter)
                   : NULL;
        status = http != NULL ? 0 : -1;
        if (http != NULL && where.any)
            fprintf(stderr,
                    "heapswitch export: serving http://*:%u/metrics (every "
                    "interface)\n",
                    where.port);
        else if (http != NULL)
            fprintf(stderr, "heapswitch export: serving http://%s/metrics\n",
                    where.display);
    }
    if (status == 0 && settings.textfile != NULL)
        fprintf(stderr, "heapswitch export: wrote %s%s\n", settings.textfile,
                settings.interval > 0 ? ", rewriting it at each interval" : "");
    if (status == 0 && (http != NULL || settings.interval > 0))
        status = serve(&exporter, &settings, http, signals);
    else if (status != 0)
        status = 1;
    hsw_http_stop(http);
    close(signals);
    hsw_model_free(&exporter.model);
    free(exporter.seen);
    return status;
}

const struct hsw_command hsw_command_export = {
    .name = "export",
    .usage = USAGE,
    .summary = "serve every process's counters to Prometheus (HTTP or a textfile)",
    .run = run,
};
