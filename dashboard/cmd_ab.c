/* heapswitch ab: runs one command under several backends, interleaved
 * (A B C A B C ...) so that drift of the machine hits every backend alike,
 * and compares wall time, CPU time, max RSS (wait4's rusage) and the
 * allocation figures of the HEAPSWITCH_REPORT lines.
 *
 * Each run gets its own temporary report file. A command that runs several
 * processes appends one line per process: calls and bytes are summed over
 * all of them, while peak live bytes and fragmentation are those of the
 * root process (the child ab forked: its line's pid is that child's pid),
 * since a sum of peaks reached at different moments means nothing. A run
 * that exits non-zero or is killed is reported with its status and left
 * out of the figures.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "dashboard/command.h"
#include "dashboard/format.h"
#include "dashboard/library.h"
#include "include/heapswitch.h"

#define USAGE                                                                           \
    "[-n RUNS] [--warmup N] [-b BACKEND,...] [--json | --csv] [--svg FILE]\n"           \
    "                     [--show-output] -- COMMAND [ARGS...]"
#define MAX_BACKENDS 8
#define MAX_RUNS 10000

enum unit { UNIT_SECONDS, UNIT_BYTES, UNIT_COUNT, UNIT_FRACTION };

enum metric {
    M_WALL,
    M_CPU,
    M_USER,
    M_SYSTEM,
    M_MAX_RSS,
    M_ALLOCS,
    M_FREES,
    M_BYTES_REQUESTED,
    M_BYTES_ALLOCATED,
    M_PEAK_LIVE,
    M_FRAGMENTATION,
    M_PROCESSES,
    M_COUNT
};

static const struct {
    const char *key;   /* JSON and CSV */
    const char *title; /* text and SVG */
    enum unit unit;
} metrics[M_COUNT] = {
    [M_WALL] = {"wall_seconds", "wall time", UNIT_SECONDS},
    [M_CPU] = {"cpu_seconds", "CPU (user+sys)", UNIT_SECONDS},
    [M_USER] = {"user_seconds", "user CPU", UNIT_SECONDS},
    [M_SYSTEM] = {"system_seconds", "system CPU", UNIT_SECONDS},
    [M_MAX_RSS] = {"max_rss_bytes", "max RSS", UNIT_BYTES},
    [M_ALLOCS] = {"allocs", "allocations", UNIT_COUNT},
    [M_FREES] = {"frees", "frees", UNIT_COUNT},
    [M_BYTES_REQUESTED] = {"bytes_requested", "bytes requested", UNIT_BYTES},
    [M_BYTES_ALLOCATED] = {"bytes_allocated", "bytes allocated", UNIT_BYTES},
    [M_PEAK_LIVE] = {"peak_live_bytes", "peak live (root)", UNIT_BYTES},
    [M_FRAGMENTATION] = {"fragmentation", "fragmentation (root)", UNIT_FRACTION},
    [M_PROCESSES] = {"processes", "processes", UNIT_COUNT},
};

/* The metrics of the text table, in order. */
static const enum metric shown[] = {M_WALL, M_CPU, M_MAX_RSS, M_ALLOCS, M_BYTES_ALLOCATED,
                                    M_PEAK_LIVE, M_FRAGMENTATION};
/* The groups of bars of the SVG chart. */
static const enum metric charted[] = {M_WALL, M_CPU, M_MAX_RSS, M_ALLOCS};

struct sample {
    bool ok;
    int exit_code; /* -1 when killed */
    int signal;    /* 0 when it exited */
    bool has[M_COUNT];
    double value[M_COUNT];
};

struct summary {
    unsigned n; /* successful runs with this figure */
    double median, min, max;
};

struct backend {
    const char *name;
    struct sample *samples; /* the measured runs, in order */
    unsigned ok, failed;
    struct summary summary[M_COUNT];
};

struct ab {
    struct backend backends[MAX_BACKENDS];
    unsigned backend_count;
    unsigned long runs, warmup;
    bool show_output;
    char **command;
    const char *library;
    /* The progress bar, on stderr when it is a terminal. */
    bool progress;
    unsigned long done, total;
};

static volatile sig_atomic_t interrupted;

static void on_signal(int signal_number)
{
    interrupted = signal_number;
}

static int help(void)
{
    printf("usage: heapswitch ab " USAGE "\n\n"
           "Runs COMMAND under each backend, interleaved (A B C A B C ...), and compares\n"
           "wall time, CPU time and max RSS (from wait4) with the allocation figures of\n"
           "the HEAPSWITCH_REPORT lines: calls and bytes summed over every process of\n"
           "a run, peak live bytes and fragmentation of the root process. Prints the\n"
           "median and min-max of each, and the ratio to the first backend; when the\n"
           "ranges overlap the difference is \"within noise\". A run that fails (non-zero\n"
           "exit, killed) is reported with its status and left out. Exits 0 when every\n"
           "run succeeded, 1 when some failed, 2 on bad usage, 126/127 when COMMAND\n"
           "cannot be run.\n\n"
           "  -n, --runs N          measured runs per backend (default 5)\n"
           "  --warmup N            unmeasured runs per backend first (default 1)\n"
           "  -b, --backends LIST   comma-separated, from: %s (default: all of them)\n"
           "  --json                the results as one JSON object\n"
           "  --csv                 the results as CSV, one line per backend and metric\n"
           "  --svg FILE            also write a bar chart (median, min-max whiskers)\n"
           "  --show-output         keep COMMAND's stdout and stderr (default: /dev/null)\n",
           hsw_backend_list());
    return 0;
}

/* ---- Options ---------------------------------------------------------- */

static int parse_number(const char *text, unsigned long min, unsigned long max,
                        unsigned long *out)
{
    char *end;
    unsigned long value;

    if (text[0] < '0' || text[0] > '9')
        return -1;
    errno = 0;
    value = strtoul(text, &end, 10);
    if (errno != 0 || *end != '\0' || value < min || value > max)
        return -1;
    *out = value;
    return 0;
}

/* Splits "a,b" (or "a, b", the form of hsw_backend_list) into ab->backends.
 * The names point into `list`, which must stay alive. Returns 2 after a
 * usage error, 0 otherwise. */
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
        if (ab->backend_count == MAX_BACKENDS)
            return hsw_usage_error("ab", "at most %d backends", MAX_BACKENDS);
        ab->backends[ab->backend_count++].name = name;
    }
    if (ab->backend_count == 0)
        return hsw_usage_error("ab", "-b needs at least one backend (valid: %s)",
                               hsw_backend_list());
    return 0;
}

/* ---- Running ---------------------------------------------------------- */


static void progress(struct ab *ab, const char *what, const char *backend)
{
    enum { WIDTH = 30 };
    unsigned long filled;

    if (!ab->progress)
        return;
    filled = ab->total ? ab->done * WIDTH / ab->total : WIDTH;
    fprintf(stderr, "\r\033[Kheapswitch ab [");
    for (unsigned long i = 0; i < WIDTH; i++)
        fputc(i < filled ? '#' : '.', stderr);
    fprintf(stderr, "] %lu/%lu %s %s", ab->done, ab->total, what, backend);
    fflush(stderr);
}

static void progress_end(struct ab *ab)
{
    if (ab->progress)
        fprintf(stderr, "\r\033[K");
}

/* The number after "KEY": in a report line, or -1 if absent or null. Keys
 * are found only outside strings: inside one every quote is escaped. */
static double json_number(const char *line, const char *key)
{
    char pattern[64];
    const char *at;
    char *end;
    double value;

    snprintf(pattern, sizeof pattern, "\"%s\":", key);
    at = strstr(line, pattern);
    if (at == NULL)
        return -1;
    at += strlen(pattern);
    value = strtod(at, &end);
    return end == at ? -1 : value;
}

static void add(struct sample *sample, enum metric metric, double value)
{
    sample->value[metric] += value;
    sample->has[metric] = true;
}

/* Reads a run's report lines into its sample. */
static void read_report(const char *path, pid_t child, struct sample *sample)
{
    FILE *file = fopen(path, "r");
    char *line = NULL;
    size_t capacity = 0;

    if (file == NULL)
        return;
    sample->has[M_PROCESSES] = true;
    while (getline(&line, &capacity, file) > 0) {
        double pid = json_number(line, "pid"), value;

        if (pid < 0 || json_number(line, "bytes_requested") < 0)
            continue; /* not a report line (a truncated write?) */
        add(sample, M_PROCESSES, 1);
        add(sample, M_ALLOCS,
            json_number(line, "malloc") + json_number(line, "calloc") +
                json_number(line, "realloc") + json_number(line, "aligned"));
        add(sample, M_FREES, json_number(line, "free"));
        add(sample, M_BYTES_REQUESTED, json_number(line, "bytes_requested"));
        /* null at the default counting level under some backends */
        if ((value = json_number(line, "bytes_allocated")) >= 0)
            add(sample, M_BYTES_ALLOCATED, value);
        if ((pid_t)pid == child || (pid_t)json_number(line, "ppid") == getpid()) {
            if ((value = json_number(line, "peak_live_bytes")) >= 0) {
                sample->value[M_PEAK_LIVE] = value;
                sample->has[M_PEAK_LIVE] = true;
            }
            if ((value = json_number(line, "fragmentation")) >= 0) {
                sample->value[M_FRAGMENTATION] = value;
                sample->has[M_FRAGMENTATION] = true;
            }
        }
    }
    free(line);
    fclose(file);
}

/* A killed child leaves its segment behind: remove it, once the reader
 * agrees that it is dead (nobody holds its lock). */
static void remove_dead_segment(pid_t child)
{
    struct heapswitch_snapshot snapshot;
    char why[256], path[128];

    if (heapswitch_read_pid(child, &snapshot, why, sizeof why) != 0 ||
        snapshot.state != HEAPSWITCH_PROCESS_DEAD)
        return;
    snprintf(path, sizeof path, "/dev/shm/heapswitch-%u-%d", (unsigned)snapshot.uid,
             (int)child);
    unlink(path);
}

static double seconds_of(struct timeval time)
{
    return (double)time.tv_sec + (double)time.tv_usec / 1e6;
}

/* Runs the command once under `backend`. Returns 0, or the errno of a
 * failed exec (the command cannot be run at all), or -1 on an error of
 * our own (message printed). */
static int run_once(struct ab *ab, const char *backend, struct sample *sample)
{
    char report[4096];
    const char *tmpdir = getenv("TMPDIR");
    struct timespec start, end;
    struct rusage usage;
    int report_fd, errors[2], status, exec_errno = 0, result = -1;
    pid_t child, waited;

    memset(sample, 0, sizeof *sample);
    if (tmpdir == NULL || tmpdir[0] == '\0')
        tmpdir = "/tmp";
    snprintf(report, sizeof report, "%s/heapswitch-ab-XXXXXX", tmpdir);
    report_fd = mkstemp(report);
    if (report_fd < 0) {
        hsw_error("ab", "cannot create a report file in %s: %s", tmpdir, strerror(errno));
        return -1;
    }
    close(report_fd);
    if (pipe2(errors, O_CLOEXEC) != 0) {
        hsw_error("ab", "pipe: %s", strerror(errno));
        goto out;
    }
    fflush(NULL);
    clock_gettime(CLOCK_MONOTONIC, &start);
    child = fork();
    if (child < 0) {
        hsw_error("ab", "fork: %s", strerror(errno));
        close(errors[0]);
        close(errors[1]);
        goto out;
    }
    if (child == 0) {
        int code;

        close(errors[0]);
        if (!ab->show_output) {
            int null = open("/dev/null", O_WRONLY);
            if (null >= 0) {
                dup2(null, STDOUT_FILENO);
                dup2(null, STDERR_FILENO);
                if (null > STDERR_FILENO)
                    close(null);
            }
        }
        if (hsw_set_preload(ab->library) == 0 && setenv("HEAPSWITCH_BACKEND", backend, 1) == 0 &&
            setenv("HEAPSWITCH_STRICT", "1", 1) == 0 &&
            setenv("HEAPSWITCH_STATS", "1", 1) == 0 &&
            setenv("HEAPSWITCH_REPORT", report, 1) == 0)
            execvp(ab->command[0], ab->command);
        code = errno;
        if (write(errors[1], &code, sizeof code) < 0)
            _exit(126);
        _exit(code == ENOENT ? 127 : 126);
    }
    close(errors[1]);
    do
        waited = wait4(child, &status, 0, &usage);
    while (waited < 0 && errno == EINTR);
    clock_gettime(CLOCK_MONOTONIC, &end);
    if (read(errors[0], &exec_errno, sizeof exec_errno) != (ssize_t)sizeof exec_errno)
        exec_errno = 0;
    close(errors[0]);
    if (waited < 0) {
        hsw_error("ab", "wait4: %s", strerror(errno));
        goto out;
    }
    if (exec_errno != 0) {
        result = exec_errno;
        goto out;
    }
    sample->exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    sample->signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
    sample->ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
    if (WIFSIGNALED(status))
        remove_dead_segment(child);
    sample->value[M_WALL] = (double)(end.tv_sec - start.tv_sec) +
                            (double)(end.tv_nsec - start.tv_nsec) / 1e9;
    sample->value[M_USER] = seconds_of(usage.ru_utime);
    sample->value[M_SYSTEM] = seconds_of(usage.ru_stime);
    sample->value[M_CPU] = sample->value[M_USER] + sample->value[M_SYSTEM];
    sample->value[M_MAX_RSS] = (double)usage.ru_maxrss * 1024;
    sample->has[M_WALL] = sample->has[M_USER] = sample->has[M_SYSTEM] = sample->has[M_CPU] =
        sample->has[M_MAX_RSS] = true;
    read_report(report, child, sample);
    result = 0;
out:
    unlink(report);
    return result;
}

/* ---- Figures ---------------------------------------------------------- */

static int compare_doubles(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

static void summarize(struct ab *ab, struct backend *backend)
{
    double *values = calloc(ab->runs, sizeof *values);

    for (int m = 0; m < M_COUNT; m++) {
        struct summary *summary = &backend->summary[m];
        unsigned n = 0;

        memset(summary, 0, sizeof *summary);
        if (values == NULL)
            continue;
        for (unsigned long r = 0; r < ab->runs; r++)
            if (backend->samples[r].ok && backend->samples[r].has[m])
                values[n++] = backend->samples[r].value[m];
        if (n == 0)
            continue;
        qsort(values, n, sizeof *values, compare_doubles);
        summary->n = n;
        summary->min = values[0];
        summary->max = values[n - 1];
        summary->median = n % 2 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
    }
    free(values);
}

/* The ratio of a backend's median to the first backend's, or NAN. */
static double ratio(const struct ab *ab, const struct backend *backend, enum metric m)
{
    const struct summary *base = &ab->backends[0].summary[m], *this = &backend->summary[m];

    if (base->n == 0 || this->n == 0 || base->median == 0)
        return NAN;
    return this->median / base->median;
}

/* Whether the min-max ranges of a backend and the first one overlap. */
static bool within_noise(const struct ab *ab, const struct backend *backend, enum metric m)
{
    const struct summary *base = &ab->backends[0].summary[m], *this = &backend->summary[m];

    return base->n > 0 && this->n > 0 && this->min <= base->max && base->min <= this->max;
}

static const char *format_value(char *out, size_t size, enum metric m, double value)
{
    switch (metrics[m].unit) {
    case UNIT_SECONDS:
        if (value < 1)
            snprintf(out, size, "%.1f ms", value * 1e3);
        else
            snprintf(out, size, "%.3f s", value);
        return out;
    case UNIT_BYTES: return hsw_format_bytes(out, size, value);
    case UNIT_COUNT: return hsw_format_count(out, size, value);
    case UNIT_FRACTION: snprintf(out, size, "%.1f%%", value * 100); return out;
    }
    return out;
}

static void status_text(char *out, size_t size, const struct sample *sample)
{
    if (sample->signal != 0)
        snprintf(out, size, "killed by signal %d (%s)", sample->signal,
                 strsignal(sample->signal));
    else
        snprintf(out, size, "exit status %d", sample->exit_code);
}

/* ---- Output ----------------------------------------------------------- */

static void print_text(const struct ab *ab)
{
    char median[32], low[32], high[32];
    bool any_ok = false;

    printf("heapswitch ab: %lu run%s per backend (%lu warmup), interleaved:", ab->runs,
           ab->runs == 1 ? "" : "s", ab->warmup);
    for (char **word = ab->command; *word != NULL; word++)
        printf(" %s", *word);
    printf("\n");
    for (unsigned b = 0; b < ab->backend_count; b++)
        any_ok = any_ok || ab->backends[b].ok > 0;
    for (size_t s = 0; any_ok && s < sizeof shown / sizeof shown[0]; s++) {
        enum metric m = shown[s];

        printf("\n%s\n", metrics[m].title);
        for (unsigned b = 0; b < ab->backend_count; b++) {
            const struct backend *backend = &ab->backends[b];
            const struct summary *summary = &backend->summary[m];
            double r = ratio(ab, backend, m);

            printf("  %-10s ", backend->name);
            if (summary->n == 0) {
                printf("%s\n", backend->ok == 0 ? "no successful run" : "unknown");
                continue;
            }
            format_value(median, sizeof median, m, summary->median);
            format_value(low, sizeof low, m, summary->min);
            format_value(high, sizeof high, m, summary->max);
            printf("%10s  [%s - %s]", median, low, high);
            if (b > 0 && !isnan(r)) {
                printf("  %.2fx", r);
                if (within_noise(ab, backend, m))
                    printf("  within noise");
                else if (metrics[m].unit == UNIT_SECONDS)
                    printf("  %s", r < 1 ? "faster" : "slower");
                else
                    printf("  %s", r < 1 ? "lower" : "higher");
            }
            printf("\n");
        }
    }
    for (unsigned b = 0; b < ab->backend_count; b++) {
        const struct backend *backend = &ab->backends[b];
        if (backend->failed == 0)
            continue;
        printf("\n%s: %u of %lu runs failed (left out):", backend->name, backend->failed,
               ab->runs);
        for (unsigned long r = 0; r < ab->runs; r++) {
            char status[96];
            if (backend->samples[r].ok)
                continue;
            status_text(status, sizeof status, &backend->samples[r]);
            printf(" run %lu %s;", r + 1, status);
        }
        printf("\n");
    }
}

static void json_double(FILE *out, double value)
{
    if (isnan(value) || isinf(value))
        fputs("null", out);
    else if (value == floor(value) && fabs(value) < 1e15)
        fprintf(out, "%.0f", value);
    else
        fprintf(out, "%.9g", value);
}

static void print_json(const struct ab *ab)
{
    printf("{\"command\":[");
    for (char **word = ab->command; *word != NULL; word++) {
        if (word != ab->command)
            putchar(',');
        hsw_json_string(stdout, *word);
    }
    printf("],\"runs\":%lu,\"warmup\":%lu,\"baseline\":", ab->runs, ab->warmup);
    hsw_json_string(stdout, ab->backends[0].name);
    printf(",\"backends\":[");
    for (unsigned b = 0; b < ab->backend_count; b++) {
        const struct backend *backend = &ab->backends[b];

        printf("%s\n{\"backend\":", b ? "," : "");
        hsw_json_string(stdout, backend->name);
        printf(",\"ok\":%u,\"failed\":%u,\"metrics\":{", backend->ok, backend->failed);
        for (int m = 0; m < M_COUNT; m++) {
            const struct summary *summary = &backend->summary[m];

            printf("%s\"%s\":{\"n\":%u,\"median\":", m ? "," : "", metrics[m].key, summary->n);
            json_double(stdout, summary->n ? summary->median : NAN);
            printf(",\"min\":");
            json_double(stdout, summary->n ? summary->min : NAN);
            printf(",\"max\":");
            json_double(stdout, summary->n ? summary->max : NAN);
            printf(",\"ratio\":");
            json_double(stdout, ratio(ab, backend, (enum metric)m));
            printf(",\"within_noise\":%s}",
                   summary->n == 0 ? "null"
                   : within_noise(ab, backend, (enum metric)m) ? "true"
                                                               : "false");
        }
        printf("},\"samples\":[");
        for (unsigned long r = 0; r < ab->runs; r++) {
            const struct sample *sample = &backend->samples[r];
            char status[96];

            status_text(status, sizeof status, sample);
            printf("%s\n {\"run\":%lu,\"ok\":%s,\"exit_code\":", r ? "," : "", r + 1,
                   sample->ok ? "true" : "false");
            if (sample->signal)
                printf("null,\"signal\":%d", sample->signal);
            else
                printf("%d,\"signal\":null", sample->exit_code);
            printf(",\"status\":");
            hsw_json_string(stdout, status);
            for (int m = 0; m < M_COUNT; m++) {
                printf(",\"%s\":", metrics[m].key);
                json_double(stdout, sample->has[m] ? sample->value[m] : NAN);
            }
            putchar('}');
        }
        printf("]}");
    }
    printf("]}\n");
}

static void csv_double(FILE *out, double value)
{
    if (!isnan(value))
        json_double(out, value);
}

static void print_csv(const struct ab *ab)
{
    printf("backend,metric,runs,ok,failed,median,min,max,ratio,within_noise\n");
    for (unsigned b = 0; b < ab->backend_count; b++) {
        const struct backend *backend = &ab->backends[b];

        for (int m = 0; m < M_COUNT; m++) {
            const struct summary *summary = &backend->summary[m];

            hsw_csv_field(stdout, backend->name);
            printf(",%s,%lu,%u,%u,", metrics[m].key, ab->runs, backend->ok, backend->failed);
            csv_double(stdout, summary->n ? summary->median : NAN);
            putchar(',');
            csv_double(stdout, summary->n ? summary->min : NAN);
            putchar(',');
            csv_double(stdout, summary->n ? summary->max : NAN);
            putchar(',');
            csv_double(stdout, ratio(ab, backend, (enum metric)m));
            printf(",%s\n", summary->n == 0                                 ? ""
                            : within_noise(ab, backend, (enum metric)m) ? "true"
                                                                            : "false");
        }
    }
}

static void xml_text(FILE *out, const char *text)
{
    for (const unsigned char *at = (const unsigned char *)text; *at != '\0'; at++) {
        switch (*at) {
        case '<': fputs("&lt;", out); break;
        case '>': fputs("&gt;", out); break;
        case '&': fputs("&amp;", out); break;
        case '"': fputs("&quot;", out); break;
        default:
            /* Control bytes are not allowed in XML 1.0. */
            fputc(*at < 0x20 ? ' ' : *at, out);
        }
    }
}

/* A bar chart: one group per metric, one bar per backend (median) with a
 * min-max whisker, the median and the ratio to the first backend above. */
static int write_svg(const struct ab *ab, FILE *out, const char *path)
{
    static const char *const colors[MAX_BACKENDS] = {"#4e79a7", "#f28e2b", "#59a14f",
                                                     "#e15759", "#76b7b2", "#edc948",
                                                     "#b07aa1", "#9c755f"};
    const unsigned groups = sizeof charted / sizeof charted[0];
    const double bar = 56, gap = 14, group_gap = 40, plot_top = 70, plot_height = 220,
                 left = 30;
    double group_width = ab->backend_count * (bar + gap) - gap;
    double width = left * 2 + groups * group_width + (groups - 1) * group_gap;
    double height = plot_top + plot_height + 90;
    char text[64];
    int result;

    if (width < 480)
        width = 480;
    fprintf(out,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
            "viewBox=\"0 0 %.0f %.0f\" font-family=\"sans-serif\" font-size=\"12\">\n",
            width, height, width, height);
    fprintf(out, "<title>heapswitch ab:");
    for (char **word = ab->command; *word != NULL; word++) {
        fputc(' ', out);
        xml_text(out, *word);
    }
    fprintf(out, "</title>\n<rect width=\"100%%\" height=\"100%%\" fill=\"#ffffff\"/>\n");
    fprintf(out, "<text x=\"%.0f\" y=\"22\" font-size=\"14\" font-weight=\"bold\">heapswitch "
                 "ab:",
            left);
    for (char **word = ab->command; *word != NULL; word++) {
        fputc(' ', out);
        xml_text(out, *word);
    }
    fprintf(out, "</text>\n<text x=\"%.0f\" y=\"40\" fill=\"#555555\">median of %lu run%s "
                 "per backend, whiskers min-max, ratio to ",
            left, ab->runs, ab->runs == 1 ? "" : "s");
    xml_text(out, ab->backends[0].name);
    fprintf(out, "</text>\n");

    for (unsigned g = 0; g < groups; g++) {
        enum metric m = charted[g];
        double x0 = left + g * (group_width + group_gap), top = 0;
        double baseline = plot_top + plot_height;

        for (unsigned b = 0; b < ab->backend_count; b++)
            if (ab->backends[b].summary[m].n > 0 && ab->backends[b].summary[m].max > top)
                top = ab->backends[b].summary[m].max;
        if (top <= 0)
            top = 1;
        fprintf(out, "<g class=\"metric\" id=\"%s\">\n", metrics[m].key);
        fprintf(out,
                "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#333333\"/>\n",
                x0 - 4, baseline, x0 + group_width + 4, baseline);
        for (unsigned b = 0; b < ab->backend_count; b++) {
            const struct backend *backend = &ab->backends[b];
            const struct summary *summary = &backend->summary[m];
            double x = x0 + b * (bar + gap), center = x + bar / 2;
            double r = ratio(ab, backend, m);

            fprintf(out, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">", center,
                    baseline + 16);
            xml_text(out, backend->name);
            fprintf(out, "</text>\n");
            if (summary->n == 0) {
                fprintf(out,
                        "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" "
                        "fill=\"#aa0000\">failed</text>\n",
                        center, baseline - 6);
                continue;
            }
            double h = summary->median / top * (plot_height - 30);
            double y_min = baseline - summary->min / top * (plot_height - 30);
            double y_max = baseline - summary->max / top * (plot_height - 30);
            fprintf(out,
                    "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
                    "fill=\"%s\"><title>",
                    x, baseline - h, bar, h, colors[b]);
            xml_text(out, backend->name);
            fprintf(out, " %s: median %s", metrics[m].title,
                    format_value(text, sizeof text, m, summary->median));
            fprintf(out, ", min %s", format_value(text, sizeof text, m, summary->min));
            fprintf(out, ", max %s</title></rect>\n",
                    format_value(text, sizeof text, m, summary->max));
            fprintf(out,
                    "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#000000\"/>\n"
                    "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#000000\"/>\n"
                    "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#000000\"/>\n",
                    center, y_min, center, y_max, center - 8, y_min, center + 8, y_min,
                    center - 8, y_max, center + 8, y_max);
            fprintf(out, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s</text>\n",
                    center, y_max - 18, format_value(text, sizeof text, m, summary->median));
            if (!isnan(r))
                fprintf(out,
                        "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" "
                        "fill=\"#555555\">%.2fx%s</text>\n",
                        center, y_max - 5, r, b > 0 && within_noise(ab, backend, m) ? " ~" : "");
        }
        fprintf(out,
                "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" "
                "font-weight=\"bold\">%s</text>\n</g>\n",
                x0 + group_width / 2, baseline + 36, metrics[m].title);
    }
    fprintf(out,
            "<text x=\"%.0f\" y=\"%.0f\" fill=\"#555555\">~ : within noise (the min-max "
            "ranges overlap)</text>\n</svg>\n",
            left, height - 12);
    result = ferror(out) ? -1 : 0;
    if (fclose(out) != 0)
        result = -1;
    if (result != 0)
        hsw_error("ab", "cannot write %s", path);
    return result;
}

/* ---- The command ------------------------------------------------------ */

enum output { OUTPUT_TEXT, OUTPUT_JSON, OUTPUT_CSV };

static int run(int argc, char **argv)
{
    static char default_list[128];
    struct ab ab = {.runs = 5, .warmup = 1};
    enum output output = OUTPUT_TEXT;
    const char *svg = NULL, *why = NULL;
    FILE *svg_file = NULL;
    char *list = NULL;
    int at = 1, status = 0;
    struct sigaction action, old_int, old_term;
    struct sample scratch;

    for (; at < argc; at++) {
        const char *option = argv[at];

        if (strcmp(option, "--") == 0)
            break;
        if (strcmp(option, "-h") == 0 || strcmp(option, "--help") == 0)
            return help();
        if (strcmp(option, "--json") == 0)
            output = OUTPUT_JSON;
        else if (strcmp(option, "--csv") == 0)
            output = OUTPUT_CSV;
        else if (strcmp(option, "--show-output") == 0)
            ab.show_output = true;
        else if (strcmp(option, "-n") == 0 || strcmp(option, "--runs") == 0) {
            if (at + 1 >= argc || parse_number(argv[at + 1], 1, MAX_RUNS, &ab.runs) != 0)
                return hsw_usage_error("ab", "%s needs a number of runs (1 to %d)", option,
                                       MAX_RUNS);
            at++;
        } else if (strcmp(option, "--warmup") == 0) {
            if (at + 1 >= argc || parse_number(argv[at + 1], 0, MAX_RUNS, &ab.warmup) != 0)
                return hsw_usage_error("ab", "--warmup needs a number of runs (0 to %d)",
                                       MAX_RUNS);
            at++;
        } else if (strcmp(option, "-b") == 0 || strcmp(option, "--backends") == 0 ||
                   strcmp(option, "--backend") == 0) {
            if (at + 1 >= argc)
                return hsw_usage_error("ab", "%s needs a list of backends", option);
            list = argv[++at];
        } else if (strcmp(option, "--svg") == 0) {
            if (at + 1 >= argc || argv[at + 1][0] == '\0')
                return hsw_usage_error("ab", "--svg needs a file name");
            svg = argv[++at];
        } else if (option[0] == '-') {
            return hsw_usage_error("ab", "unknown option '%s'", option);
        } else {
            return hsw_usage_error("ab", "put '--' before the command ('%s')", option);
        }
    }
    if (at >= argc)
        return hsw_usage_error("ab", "missing '--' and the command to run");
    if (at + 1 >= argc)
        return hsw_usage_error("ab", "missing the command after '--'");
    ab.command = argv + at + 1;
    if (list == NULL) {
        snprintf(default_list, sizeof default_list, "%s", hsw_backend_list());
        list = default_list;
    }
    if ((status = parse_backends(&ab, list)) != 0)
        return status;
    ab.library = hsw_library_path(&why);
    if (ab.library == NULL) {
        hsw_error("ab", "%s", why);
        return 1;
    }
    /* Opened now: a bad path should not cost the whole run. */
    if (svg != NULL && (svg_file = fopen(svg, "we")) == NULL) {
        hsw_error("ab", "cannot write %s: %s", svg, strerror(errno));
        return 1;
    }
    for (unsigned b = 0; b < ab.backend_count; b++) {
        ab.backends[b].samples = calloc(ab.runs, sizeof *ab.backends[b].samples);
        if (ab.backends[b].samples == NULL) {
            hsw_error("ab", "out of memory");
            status = 1;
            goto out;
        }
    }

    /* Ctrl-C reaches the command too; ab waits for it, then stops. */
    memset(&action, 0, sizeof action);
    action.sa_handler = on_signal;
    sigemptyset(&action.sa_mask);
    sigaction(SIGINT, &action, &old_int);
    sigaction(SIGTERM, &action, &old_term);

    ab.progress = isatty(STDERR_FILENO) && !ab.show_output;
    ab.total = (ab.warmup + ab.runs) * ab.backend_count;
    for (unsigned long round = 0; round < ab.warmup + ab.runs && status == 0; round++) {
        bool warm = round < ab.warmup;

        for (unsigned b = 0; b < ab.backend_count && status == 0; b++) {
            struct backend *backend = &ab.backends[b];
            struct sample *sample = warm ? &scratch : &backend->samples[round - ab.warmup];
            int result;

            progress(&ab, warm ? "warmup" : "run", backend->name);
            result = run_once(&ab, backend->name, sample);
            ab.done++;
            if (interrupted) {
                progress_end(&ab);
                hsw_error("ab", "interrupted");
                status = 128 + interrupted;
            } else if (result < 0) {
                progress_end(&ab);
                status = 1;
            } else if (result > 0) {
                progress_end(&ab);
                hsw_error("ab", "%s: %s", ab.command[0],
                          result == ENOENT ? "command not found" : strerror(result));
                status = result == ENOENT ? 127 : 126;
            } else if (!warm) {
                if (sample->ok)
                    backend->ok++;
                else
                    backend->failed++;
            }
        }
    }
    progress_end(&ab);
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    if (status != 0)
        goto out;

    for (unsigned b = 0; b < ab.backend_count; b++)
        summarize(&ab, &ab.backends[b]);
    if (output == OUTPUT_JSON)
        print_json(&ab);
    else if (output == OUTPUT_CSV)
        print_csv(&ab);
    else
        print_text(&ab);
    if (fflush(stdout) != 0) {
        status = 1;
        goto out;
    }
    if (svg_file != NULL) {
        FILE *file = svg_file;
        svg_file = NULL;
        if (write_svg(&ab, file, svg) != 0) {
            status = 1;
            goto out;
        }
    }
    for (unsigned b = 0; b < ab.backend_count; b++)
        if (ab.backends[b].failed > 0)
            status = 1;
out:
    if (svg_file != NULL) {
        /* Nothing to chart: no empty file left behind. */
        fclose(svg_file);
        unlink(svg);
    }
    for (unsigned b = 0; b < ab.backend_count; b++)
        free(ab.backends[b].samples);
    return status;
}

const struct hsw_command hsw_command_ab = {
    .name = "ab",
    .usage = USAGE,
    .summary = "compare backends on one command (A/B runs)",
    .run = run,
};
