/* heapswitch ab's runs: warmup rounds, then counted rounds, then timed
 * rounds, each round one run per backend in order (A B C A B C ...), so
 * that drift of the machine hits every backend alike. Timed runs get the
 * backend alone where it is an ordinary library (or heapswitch with
 * counting off), never counting; counted runs get heapswitch with
 * counting and a report file, whose lines (heapswitch_report_parse)
 * give the allocation figures: calls and bytes summed over every process
 * of the run, peak live bytes and fragmentation of the root process (the
 * child ab forked), since a sum of peaks reached at different moments
 * means nothing. Run control: at least min_runs timed rounds; then, with
 * a target width, more until every wall-time interval is that narrow or
 * max_runs is reached. */
#include "config.h"

#include <errno.h>
#include <stddef.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "dashboard/ab.h"
#include "dashboard/command.h"
#include "dashboard/launch.h"
#include "include/heapswitch.h"
#include "lib/env_names.h"

static volatile sig_atomic_t interrupted;

static void on_signal(int signal_number)
{
    interrupted = signal_number;
}

static void progress(struct ab *ab, enum ab_kind kind, const char *backend)
{
    enum { WIDTH = 30 };
    unsigned long filled;

    if (!ab->progress)
        return;
    filled = ab->total ? ab->done * WIDTH / ab->total : WIDTH;
    if (filled > WIDTH)
        filled = WIDTH;
    fprintf(stderr, "\r\033[Kheapswitch ab [");
    for (unsigned long i = 0; i < WIDTH; i++)
        fputc(i < filled ? '#' : '.', stderr);
    fprintf(stderr, "] %lu/%lu %s %s", ab->done, ab->total, ab_kind_name(kind), backend);
    fflush(stderr);
}

static void progress_end(struct ab *ab)
{
    if (ab->progress)
        fprintf(stderr, "\r\033[K");
}

static void add(struct ab_run *run, enum ab_metric metric, double value)
{
    run->value[metric] += value;
    run->has[metric] = true;
}

/* The figures a report line lists as estimated (at the default counting
 * level, bytes may come from the backend's books or from sampling). */
static void mark_estimated(struct ab_run *run, uint64_t fields)
{
    static const struct {
        enum ab_metric metric;
        enum heapswitch_report_field field;
    } map[] = {
        {AB_ALLOCS, HEAPSWITCH_REPORT_MALLOC_CALLS},
        {AB_ALLOCS, HEAPSWITCH_REPORT_CALLOC_CALLS},
        {AB_ALLOCS, HEAPSWITCH_REPORT_REALLOC_CALLS},
        {AB_ALLOCS, HEAPSWITCH_REPORT_ALIGNED_CALLS},
        {AB_FREES, HEAPSWITCH_REPORT_FREE_CALLS},
        {AB_BYTES_REQUESTED, HEAPSWITCH_REPORT_BYTES_REQUESTED},
        {AB_BYTES_ALLOCATED, HEAPSWITCH_REPORT_BYTES_ALLOCATED},
        {AB_PEAK_LIVE, HEAPSWITCH_REPORT_PEAK_LIVE_BYTES},
        {AB_FRAGMENTATION, HEAPSWITCH_REPORT_FRAGMENTATION},
    };

    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (fields >> map[i].field & 1)
            run->estimated[map[i].metric] = true;
}

/* The root process's sampled latency percentiles, where it timed calls. */
static void root_latency(struct ab_run *run, const struct heapswitch_report *report)
{
    static const struct {
        enum ab_metric metric;
        enum heapswitch_report_field field;
        enum heapswitch_latency_kind kind;
        size_t offset;
    } map[] = {
        {AB_MALLOC_P50, HEAPSWITCH_REPORT_MALLOC_LATENCY_P50, HEAPSWITCH_LATENCY_ALLOC,
         offsetof(struct heapswitch_report_latency, p50_ns)},
        {AB_MALLOC_P99, HEAPSWITCH_REPORT_MALLOC_LATENCY_P99, HEAPSWITCH_LATENCY_ALLOC,
         offsetof(struct heapswitch_report_latency, p99_ns)},
        {AB_MALLOC_P999, HEAPSWITCH_REPORT_MALLOC_LATENCY_P999, HEAPSWITCH_LATENCY_ALLOC,
         offsetof(struct heapswitch_report_latency, p999_ns)},
        {AB_FREE_P99, HEAPSWITCH_REPORT_FREE_LATENCY_P99, HEAPSWITCH_LATENCY_FREE,
         offsetof(struct heapswitch_report_latency, p99_ns)},
    };

    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++) {
        if (!HEAPSWITCH_REPORT_HAS(report, map[i].field))
            continue;
        memcpy(&run->value[map[i].metric],
               (const char *)&report->latency[map[i].kind] + map[i].offset, sizeof(double));
        run->has[map[i].metric] = true;
    }
}

/* Figures taken from the root process's line only. */
#define ROOT_ONLY                                                               \
    ((1ull << HEAPSWITCH_REPORT_PEAK_LIVE_BYTES) | (1ull << HEAPSWITCH_REPORT_FRAGMENTATION))

/* Reads a counted run's report lines; a line that does not parse (a
 * truncated write?) is left out with a warning. */
static void read_report(const char *path, pid_t child, struct ab_run *run)
{
    FILE *file = fopen(path, "r");
    char *line = NULL, why[160];
    size_t capacity = 0;
    ssize_t length;
    struct heapswitch_report report;

    if (file == NULL)
        return;
    run->has[AB_PROCESSES] = true;
    while ((length = getline(&line, &capacity, file)) > 0) {
        if (heapswitch_report_parse(line, (size_t)length, &report, why, sizeof why) != 0) {
            hsw_error("ab", "a report line left out: %s", why);
            continue;
        }
        add(run, AB_PROCESSES, 1);
        add(run, AB_ALLOCS,
            (double)(report.counters.malloc_calls + report.counters.calloc_calls +
                     report.counters.realloc_calls + report.counters.aligned_calls));
        add(run, AB_FREES, (double)report.counters.free_calls);
        add(run, AB_BYTES_REQUESTED, (double)report.counters.bytes_requested);
        /* null at the default counting level under some backends */
        if (HEAPSWITCH_REPORT_HAS(&report, HEAPSWITCH_REPORT_BYTES_ALLOCATED))
            add(run, AB_BYTES_ALLOCATED, (double)report.counters.bytes_allocated);
        mark_estimated(run, report.estimated & ~ROOT_ONLY);
        if (report.pid != child && report.ppid != getpid())
            continue;
        mark_estimated(run, report.estimated & ROOT_ONLY);
        if (HEAPSWITCH_REPORT_HAS(&report, HEAPSWITCH_REPORT_PEAK_LIVE_BYTES)) {
            run->value[AB_PEAK_LIVE] = (double)report.peak_live_bytes;
            run->has[AB_PEAK_LIVE] = true;
        }
        if (HEAPSWITCH_REPORT_HAS(&report, HEAPSWITCH_REPORT_FRAGMENTATION)) {
            run->value[AB_FRAGMENTATION] = report.fragmentation;
            run->has[AB_FRAGMENTATION] = true;
        }
        root_latency(run, &report);
    }
    free(line);
    fclose(file);
}

/* A killed child leaves its segment behind: remove it, once the reader
 * agrees that it is dead (nobody holds its lock). */
static void remove_dead_segment(pid_t child)
{
    struct heapswitch_snapshot snapshot;
    char why[256], path[4096];

    if (heapswitch_read_pid(child, &snapshot, why, sizeof why) != 0 ||
        snapshot.state != HEAPSWITCH_PROCESS_DEAD)
        return;
    snprintf(path, sizeof path, "%s/heapswitch-%u-%d", heapswitch_directory(),
             (unsigned)snapshot.uid, (int)child);
    unlink(path);
}

/* The environment of one run of `backend` (see the file comment). */
static void environment(const struct ab *ab, const struct ab_backend *backend,
                        enum ab_kind kind, const char *report, struct hsw_launch *launch)
{
    memset(launch, 0, sizeof *launch);
    launch->argv = ab->command;
    launch->quiet = !ab->show_output;
    if (kind != AB_COUNTED && backend->timing == AB_TIMING_DIRECT) {
        /* Counting off all the same, for a program linked with
         * libheapswitch (examples/request_server): it is there anyway. */
        launch->preload = backend->direct[0] != '\0' ? backend->direct : NULL;
        hsw_launch_setenv(launch, HSW_ENV_BACKEND, NULL);
        hsw_launch_setenv(launch, HSW_ENV_STRICT, NULL);
        hsw_launch_setenv(launch, HSW_ENV_STATS, "0");
        hsw_launch_setenv(launch, HSW_ENV_REPORT, NULL);
        return;
    }
    launch->preload = ab->library;
    hsw_launch_setenv(launch, HSW_ENV_BACKEND, backend->name);
    hsw_launch_setenv(launch, HSW_ENV_STRICT, "1");
    if (kind == AB_COUNTED) {
        hsw_launch_setenv(launch, HSW_ENV_STATS, ab->stats_level);
        hsw_launch_setenv(launch, HSW_ENV_REPORT, report);
    } else {
        hsw_launch_setenv(launch, HSW_ENV_STATS, "0");
        hsw_launch_setenv(launch, HSW_ENV_REPORT, NULL);
    }
}

/* Runs the command once. Returns 0, the errno of a failed exec (the
 * command cannot be run at all), or -1 on an error of our own (printed). */
static int run_once(const struct ab *ab, unsigned b, enum ab_kind kind, struct ab_run *run)
{
    char report[4096];
    const char *tmpdir = getenv("TMPDIR");
    struct hsw_launch launch;
    struct hsw_launch_result result;
    int fd;

    memset(run, 0, sizeof *run);
    run->backend = b;
    run->kind = kind;
    report[0] = '\0';
    if (kind == AB_COUNTED) {
        if (tmpdir == NULL || tmpdir[0] == '\0')
            tmpdir = "/tmp";
        snprintf(report, sizeof report, "%s/heapswitch-ab-XXXXXX", tmpdir);
        fd = mkstemp(report);
        if (fd < 0) {
            hsw_error("ab", "cannot create a report file in %s: %s", tmpdir, strerror(errno));
            return -1;
        }
        close(fd);
    }
    environment(ab, &ab->backends[b], kind, report, &launch);
    if (hsw_launch_wait(&launch, "ab", &result) != 0) {
        if (report[0] != '\0')
            unlink(report);
        return -1;
    }
    if (result.exec_errno != 0) {
        if (report[0] != '\0')
            unlink(report);
        return result.exec_errno;
    }
    run->exit_code = WIFEXITED(result.status) ? WEXITSTATUS(result.status) : -1;
    run->signal = WIFSIGNALED(result.status) ? WTERMSIG(result.status) : 0;
    run->ok = WIFEXITED(result.status) && WEXITSTATUS(result.status) == 0;
    if (WIFSIGNALED(result.status) && kind == AB_COUNTED)
        remove_dead_segment(result.pid);
    add(run, AB_WALL, result.wall_seconds);
    add(run, AB_USER, result.user_seconds);
    add(run, AB_SYSTEM, result.system_seconds);
    add(run, AB_CPU, result.user_seconds + result.system_seconds);
    add(run, AB_MAX_RSS, (double)result.max_rss_bytes);
    if (report[0] != '\0') {
        read_report(report, result.pid, run);
        unlink(report);
    }
    return 0;
}

/* Whether the timed rounds are done, and why (ab->stopped). */
static bool enough(struct ab *ab)
{
    if (ab->timed_rounds < ab->min_runs)
        return false;
    if (ab->target_width <= 0 || ab->backend_count == 1) {
        ab->stopped = "runs done";
        return true;
    }
    ab_summarize(ab);
    for (unsigned b = 1; b < ab->backend_count; b++) {
        double width = hsw_comparison_width(&ab->backends[b].comparison[AB_WALL]);
        if (!(width < ab->target_width)) {
            if (ab->timed_rounds >= ab->max_runs) {
                ab->stopped = "run budget spent before the target width";
                return true;
            }
            return false;
        }
    }
    ab->stopped = "target width reached";
    return true;
}

static int record(struct ab *ab, const struct ab_run *run)
{
    if (ab->run_count == ab->run_capacity) {
        size_t capacity = ab->run_capacity ? ab->run_capacity * 2 : 64;
        struct ab_run *grown = realloc(ab->runs, capacity * sizeof *grown);
        if (grown == NULL) {
            hsw_error("ab", "out of memory");
            return -1;
        }
        ab->runs = grown;
        ab->run_capacity = capacity;
    }
    ab->runs[ab->run_count++] = *run;
    return 0;
}

/* One round of `kind`: a run of every backend. Returns 0 or an exit status. */
static int round_of(struct ab *ab, enum ab_kind kind, unsigned long index)
{
    for (unsigned b = 0; b < ab->backend_count; b++) {
        struct ab_backend *backend = &ab->backends[b];
        struct ab_run run;
        int result;

        progress(ab, kind, backend->name);
        result = run_once(ab, b, kind, &run);
        ab->done++;
        if (interrupted) {
            progress_end(ab);
            hsw_error("ab", "interrupted");
            return 128 + interrupted;
        }
        if (result < 0)
            return 1;
        if (result > 0) {
            progress_end(ab);
            hsw_error("ab", "%s: %s", ab->command[0],
                      result == ENOENT ? "command not found" : strerror(result));
            return hsw_launch_exit_status(result);
        }
        if (kind == AB_WARMUP)
            continue;
        run.index = index;
        if (kind == AB_TIMED)
            *(run.ok ? &backend->timed_ok : &backend->timed_failed) += 1;
        else
            *(run.ok ? &backend->counted_ok : &backend->counted_failed) += 1;
        if (record(ab, &run) != 0)
            return 1;
    }
    return 0;
}

int ab_run_all(struct ab *ab)
{
    struct sigaction action, old_int, old_term;
    int status = 0;

    /* Ctrl-C reaches the command too; ab waits for it, then stops. */
    memset(&action, 0, sizeof action);
    action.sa_handler = on_signal;
    sigemptyset(&action.sa_mask);
    sigaction(SIGINT, &action, &old_int);
    sigaction(SIGTERM, &action, &old_term);
    ab->progress = isatty(STDERR_FILENO) && !ab->show_output;
    ab->total = (ab->warmup + ab->counted_runs + ab->max_runs) * ab->backend_count;
    for (unsigned long i = 0; i < ab->warmup && status == 0; i++)
        status = round_of(ab, AB_WARMUP, i + 1);
    for (unsigned long i = 0; i < ab->counted_runs && status == 0; i++)
        status = round_of(ab, AB_COUNTED, i + 1);
    while (status == 0 && !enough(ab)) {
        status = round_of(ab, AB_TIMED, ab->timed_rounds + 1);
        ab->timed_rounds++;
    }
    progress_end(ab);
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    return status;
}
