/* The Prometheus renderer (dashboard/metrics.c) on synthetic snapshots:
 * family names with their HELP and TYPE lines once each and before their
 * samples, exact sample lines and values, label escaping of tags and
 * executable paths, figures left out rather than shown as 0 when a process
 * does not have them, and the counting level in heapswitch_process_info. */
#include "config.h"

#include <stdint.h>

#include "dashboard/metrics.h"
#include "tests/harness.h"

static char *render(const struct heapswitch_snapshot *const *snapshots, size_t count,
                    unsigned refused, double duration)
{
    struct hsw_metrics_scan scan = {.refused = refused, .duration_seconds = duration};
    char *text = NULL;
    size_t length = 0;
    FILE *out = open_memstream(&text, &length);
    int status;

    if (out == NULL) {
        perror("open_memstream");
        exit(99);
    }
    status = hsw_metrics_write(out, snapshots, count, &scan);
    fclose(out);
    CHECK(status == 0, "hsw_metrics_write returned %d", status);
    return text;
}

/* Whether `line` is one whole line of the page. */
static bool has_line(const char *page, const char *line)
{
    size_t length = strlen(line);

    for (const char *at = page; (at = strstr(at, line)) != NULL; at++)
        if ((at == page || at[-1] == '\n') && at[length] == '\n')
            return true;
    return false;
}

/* Lines that start with `prefix`. */
static unsigned lines_starting(const char *page, const char *prefix)
{
    unsigned count = 0;
    size_t length = strlen(prefix);

    for (const char *line = page; *line != '\0';) {
        const char *end = strchr(line, '\n');
        count += strncmp(line, prefix, length) == 0;
        line = end != NULL ? end + 1 : line + strlen(line);
    }
    return count;
}

/* Every sample's family has its HELP then TYPE lines, once, before it;
 * every line is a comment or "name{...} value" or "name value". */
static void check_structure(const char *page)
{
    char family[128] = "";

    for (const char *line = page; *line != '\0';) {
        const char *end = strchr(line, '\n');
        size_t length = end != NULL ? (size_t)(end - line) : strlen(line);
        char name[sizeof family + 16];

        CHECK(end != NULL, "the page ends with a newline");
        if (strncmp(line, "# HELP ", 7) == 0) {
            size_t name_length = strcspn(line + 7, " ");
            snprintf(family, sizeof family, "%.*s", (int)name_length, line + 7);
            snprintf(name, sizeof name, "# HELP %s ", family);
            CHECK(lines_starting(page, name) == 1, "HELP of %s once", family);
            snprintf(name, sizeof name, "# TYPE %s ", family);
            CHECK(lines_starting(page, name) == 1, "TYPE of %s once", family);
            CHECK(strncmp(end + 1, name, strlen(name)) == 0, "TYPE follows HELP of %s",
                  family);
        } else if (line[0] != '#') {
            size_t name_length = strcspn(line, "{ ");
            bool histogram = strstr(page, "# TYPE ") != NULL && strncmp(line, family, strlen(family)) == 0 &&
                             (strncmp(line + strlen(family), "_bucket{", 8) == 0 ||
                              strncmp(line + strlen(family), "_sum{", 5) == 0 ||
                              strncmp(line + strlen(family), "_count{", 7) == 0);
            CHECK(histogram || (name_length == strlen(family) &&
                                strncmp(line, family, name_length) == 0),
                  "sample under its own family: %.*s (family %s)", (int)length, line,
                  family);
            CHECK(memchr(line, ' ', length) != NULL, "a value: %.*s", (int)length, line);
        }
        line += length + (end != NULL);
    }
}

static void fill(struct heapswitch_snapshot *s)
{
    memset(s, 0, sizeof *s);
    s->pid = 4242;
    s->state = HEAPSWITCH_PROCESS_RUNNING;
    strcpy(s->backend, "jemalloc");
    strcpy(s->tag, "canary");
    strcpy(s->exe, "/srv/bin/server");
    strcpy(s->cmdline, "/srv/bin/server --port 80");
    s->threads = 3;
    s->rss_bytes = 104857600;
    s->live_bytes = 5000000;
    s->peak_live_bytes = 6000000;
    s->fragmentation = 0.25;
    s->counters.malloc_calls = 1000;
    s->counters.calloc_calls = 20;
    s->counters.realloc_calls = 30;
    s->counters.free_calls = 990;
    s->counters.aligned_calls = 4;
    s->counters.failures = 1;
    s->counters.bytes_requested = 123456789;
    s->counters.bytes_allocated = 18446744073709551615u;
    s->counters.bytes_freed = 7;
    s->counters.requests = 77;
    s->heap.valid = 1;
    s->heap.resident = 8388608;
    s->stats_level = HEAPSWITCH_STATS_EXACT;
    s->estimated = 0;
    s->heap_overhead_bytes = 3388608;
    s->cpu_seconds = 12.5;
}

/* A process that timed its calls: 99 mallocs of 80 ns and one of 30 us
 * (a clock of 1 tick per ns), no free: a cumulative histogram. */
static void fill_latency(struct heapswitch_snapshot *s)
{
    struct heapswitch_latency *l = &s->latency;
    unsigned fast = 0, slow = 0;

    l->present = 1;
    l->rate = 256;
    l->ticks_per_ns = 1;
    while (heapswitch_latency_bucket_ns(l, fast + 1) <= 80)
        fast++;
    while (heapswitch_latency_bucket_ns(l, slow + 1) <= 30000)
        slow++;
    l->kinds[HEAPSWITCH_LATENCY_ALLOC].buckets[fast] = 99;
    l->kinds[HEAPSWITCH_LATENCY_ALLOC].buckets[slow] = 1;
    l->kinds[HEAPSWITCH_LATENCY_ALLOC].samples = 100;
    l->kinds[HEAPSWITCH_LATENCY_ALLOC].sum_ns = 99 * 80 + 30000;
    l->kinds[HEAPSWITCH_LATENCY_ALLOC].max_ns = 30000;
}

#define LABELS                                                                           \
    "pid=\"4242\",program=\"/srv/bin/server\",command=\"server\","                       \
    "backend=\"jemalloc\",tag=\"canary\""

static void test_exact_values(void)
{
    struct heapswitch_snapshot s;
    const struct heapswitch_snapshot *list[] = {&s};
    static const char *const want[] = {
        "heapswitch_process_info{" LABELS ",stats=\"exact\",estimated=\"\"} 1",
        "heapswitch_calls_total{" LABELS ",kind=\"malloc\"} 1000",
        "heapswitch_calls_total{" LABELS ",kind=\"calloc\"} 20",
        "heapswitch_calls_total{" LABELS ",kind=\"realloc\"} 30",
        "heapswitch_calls_total{" LABELS ",kind=\"free\"} 990",
        "heapswitch_calls_total{" LABELS ",kind=\"aligned\"} 4",
        "heapswitch_failures_total{" LABELS "} 1",
        "heapswitch_bytes_requested_total{" LABELS "} 123456789",
        "heapswitch_bytes_allocated_total{" LABELS "} 18446744073709551615",
        "heapswitch_bytes_freed_total{" LABELS "} 7",
        "heapswitch_requests_total{" LABELS "} 77",
        "heapswitch_cpu_seconds_total{" LABELS "} 12.5",
        "heapswitch_live_bytes{" LABELS "} 5000000",
        "heapswitch_peak_live_bytes{" LABELS "} 6000000",
        "heapswitch_rss_bytes{" LABELS "} 104857600",
        "heapswitch_fragmentation_ratio{" LABELS "} 0.25",
        "heapswitch_heap_resident_bytes{" LABELS "} 8388608",
        "heapswitch_heap_overhead_bytes{" LABELS "} 3388608",
        "heapswitch_threads{" LABELS "} 3",
        "heapswitch_processes 1",
        "heapswitch_segments_refused 2",
        "heapswitch_up 1",
        "heapswitch_scrape_duration_seconds 0.001",
        "# TYPE heapswitch_process_info gauge",
        "# TYPE heapswitch_calls_total counter",
        "# TYPE heapswitch_failures_total counter",
        "# TYPE heapswitch_bytes_requested_total counter",
        "# TYPE heapswitch_bytes_allocated_total counter",
        "# TYPE heapswitch_bytes_freed_total counter",
        "# TYPE heapswitch_requests_total counter",
        "# TYPE heapswitch_cpu_seconds_total counter",
        "# TYPE heapswitch_live_bytes gauge",
        "# TYPE heapswitch_peak_live_bytes gauge",
        "# TYPE heapswitch_rss_bytes gauge",
        "# TYPE heapswitch_fragmentation_ratio gauge",
        "# TYPE heapswitch_heap_resident_bytes gauge",
        "# TYPE heapswitch_heap_overhead_bytes gauge",
        "# TYPE heapswitch_threads gauge",
        "# TYPE heapswitch_processes gauge",
        "# TYPE heapswitch_segments_refused gauge",
        "# TYPE heapswitch_up gauge",
        "# TYPE heapswitch_scrape_duration_seconds gauge",
    };
    char *page;
    unsigned samples;

    fill(&s);
    page = render(list, 1, 2, 0.001);
    check_structure(page);
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        CHECK(has_line(page, want[i]), "missing line: %s\n--- page:\n%s", want[i], page);
    /* Nothing more: every sample line of the process is one of the above
     * (19 of them), so a family written twice would show here. */
    samples = lines_starting(page, "heapswitch_");
    CHECK(samples == 23, "23 sample lines, not %u", samples);
    free(page);
}

/* What a process does not have is left out, not written as 0. */
static void test_unknown_figures(void)
{
    struct heapswitch_snapshot s;
    const struct heapswitch_snapshot *list[] = {&s};
    char *page;

    fill(&s);
    s.stats_level = HEAPSWITCH_STATS_DEFAULT;
    s.estimated = HEAPSWITCH_ESTIMATED_LIVE | HEAPSWITCH_UNCOUNTED_USABLE;
    s.cpu_seconds = -1;
    s.heap_overhead_bytes = -1;
    s.fragmentation = -1;
    s.heap.valid = 0;
    s.state = HEAPSWITCH_PROCESS_EXITED;
    s.rss_bytes = 0;
    page = render(list, 1, 0, -1);
    check_structure(page);
    CHECK(has_line(page, "heapswitch_process_info{" LABELS
                         ",stats=\"default\",estimated=\"live,usable\"} 1"),
          "default level, live and usable bytes estimated:\n%s", page);
    CHECK(has_line(page, "# TYPE heapswitch_bytes_allocated_total counter"),
          "the family is still described");
    CHECK(lines_starting(page, "heapswitch_bytes_allocated_total{") == 0,
          "no bytes_allocated sample when usable bytes are not counted");
    CHECK(lines_starting(page, "heapswitch_bytes_freed_total{") == 0,
          "no bytes_freed sample when usable bytes are not counted");
    CHECK(lines_starting(page, "heapswitch_cpu_seconds_total{") == 0, "no CPU sample");
    CHECK(lines_starting(page, "heapswitch_heap_overhead_bytes{") == 0, "no overhead");
    CHECK(lines_starting(page, "heapswitch_fragmentation_ratio{") == 0,
          "no fragmentation");
    CHECK(lines_starting(page, "heapswitch_heap_resident_bytes{") == 0, "no resident");
    CHECK(lines_starting(page, "heapswitch_rss_bytes{") == 0, "no RSS once exited");
    CHECK(lines_starting(page, "heapswitch_scrape_duration_seconds") == 0,
          "no duration sample when not measured");
    CHECK(has_line(page, "heapswitch_bytes_requested_total{" LABELS "} 123456789"),
          "bytes requested are counted at every level");
    CHECK(has_line(page, "heapswitch_live_bytes{" LABELS "} 5000000"), "live bytes");
    free(page);

    s.estimated = HEAPSWITCH_ESTIMATED_LIVE;
    page = render(list, 1, 0, -1);
    CHECK(has_line(page, "heapswitch_process_info{" LABELS
                         ",stats=\"default\",estimated=\"live\"} 1"),
          "only live bytes estimated:\n%s", page);
    CHECK(has_line(page,
                   "heapswitch_bytes_allocated_total{" LABELS "} 18446744073709551615"),
          "usable bytes counted: sampled");
    free(page);
}

/* Quotes, backslashes, newlines and bytes that are not UTF-8 in tags and
 * paths; a program known only from its command line. */
static void test_escaping(void)
{
    struct heapswitch_snapshot s, t;
    const struct heapswitch_snapshot *list[] = {&s, &t};
    char *page;

    fill(&s);
    strcpy(s.tag, "a\"b\\c\nd");
    strcpy(s.exe, "/opt/we\"ird\\dir/new\nline/caf\xc3\xa9\xff");
    fill(&t);
    t.pid = 7;
    t.exe[0] = '\0';
    strcpy(t.cmdline, "python3 -c pass");
    strcpy(t.backend, "system");
    t.tag[0] = '\0';
    page = render(list, 2, 0, 0.5);
    check_structure(page);
    CHECK(has_line(page, "heapswitch_requests_total{pid=\"4242\","
                         "program=\"/opt/we\\\"ird\\\\dir/new\\nline/caf\xc3\xa9?\","
                         "command=\"caf\xc3\xa9?\","
                         "backend=\"jemalloc\",tag=\"a\\\"b\\\\c\\nd\"} 77"),
          "escaped labels:\n%s", page);
    CHECK(has_line(page, "heapswitch_requests_total{pid=\"7\",program=\"python3\","
                         "command=\"python3\",backend=\"system\",tag=\"\"} 77"),
          "program from the command line:\n%s", page);
    CHECK(lines_starting(page, "heapswitch_calls_total{") == 10,
          "5 kinds for 2 processes");
    CHECK(has_line(page, "heapswitch_processes 2"), "two processes");
    CHECK(strchr(page, '\xff') == NULL, "no byte that is not UTF-8");
    free(page);
}

/* Values that need care: shortest exact decimals, huge counters. */
static void test_values(void)
{
    struct heapswitch_snapshot s;
    const struct heapswitch_snapshot *list[] = {&s};
    char *page;

    fill(&s);
    s.cpu_seconds = 0.1;
    s.fragmentation = 1.0 / 3.0;
    page = render(list, 1, 0, 1e-6);
    CHECK(has_line(page, "heapswitch_cpu_seconds_total{" LABELS "} 0.1"), "0.1:\n%s",
          page);
    CHECK(has_line(page, "heapswitch_fragmentation_ratio{" LABELS "} 0.3333333333333333"),
          "1/3 to 16 digits, the fewest exact ones:\n%s", page);
    CHECK(has_line(page, "heapswitch_scrape_duration_seconds 9.9999999999999995e-07") ||
              has_line(page, "heapswitch_scrape_duration_seconds 1e-06"),
          "1e-6:\n%s", page);
    free(page);
    s.cpu_seconds = 0;
    page = render(list, 1, 0, 0);
    CHECK(has_line(page, "heapswitch_cpu_seconds_total{" LABELS "} 0"),
          "0 CPU seconds is a value:\n%s", page);
    free(page);
}

static void test_latency(void)
{
    struct heapswitch_snapshot s;
    const struct heapswitch_snapshot *list[] = {&s};
    struct heapswitch_latency *l = &s.latency;
    char *page;

    fill(&s);
    fill_latency(&s);
    page = render(list, 1, 0, -1);
    check_structure(page);
    CHECK(has_line(page, "# TYPE heapswitch_call_latency_seconds histogram"), "histogram type");
    CHECK(has_line(page, "heapswitch_call_latency_seconds_bucket{" LABELS ",kind=\"alloc\",le=\"5e-08\"} 0"),
          "below the fast calls: 0\n%s", page);
    CHECK(has_line(page, "heapswitch_call_latency_seconds_bucket{" LABELS ",kind=\"alloc\",le=\"1e-07\"} 99"),
          "the fast calls under 100 ns");
    CHECK(has_line(page, "heapswitch_call_latency_seconds_bucket{" LABELS ",kind=\"alloc\",le=\"2.5e-05\"} 99"),
          "still 99 under 25 us");
    CHECK(has_line(page, "heapswitch_call_latency_seconds_bucket{" LABELS ",kind=\"alloc\",le=\"5e-05\"} 100"),
          "all under 50 us");
    CHECK(has_line(page, "heapswitch_call_latency_seconds_bucket{" LABELS ",kind=\"alloc\",le=\"+Inf\"} 100"),
          "+Inf");
    CHECK(has_line(page, "heapswitch_call_latency_seconds_count{" LABELS ",kind=\"alloc\"} 100"), "count");
    CHECK(has_line(page, "heapswitch_call_latency_seconds_sum{" LABELS ",kind=\"alloc\"} 3.792e-05"),
          "sum in seconds");
    CHECK(has_line(page, "heapswitch_call_latency_seconds_count{" LABELS ",kind=\"free\"} 0"), "free count");
    CHECK(lines_starting(page, "heapswitch_call_latency_seconds_bucket{") == 2 * 28, "28 buckets a kind");
    free(page);
    l->present = 0;
    page = render(list, 1, 0, -1);
    CHECK(lines_starting(page, "heapswitch_call_latency_seconds_") == 0, "no latency, no sample");
    free(page);
}

static void test_no_process(void)
{
    char *page = render(NULL, 0, 3, 0.25);

    check_structure(page);
    CHECK(has_line(page, "heapswitch_processes 0"), "no process");
    CHECK(has_line(page, "heapswitch_segments_refused 3"), "3 refused");
    CHECK(has_line(page, "heapswitch_scrape_duration_seconds 0.25"), "duration");
    CHECK(lines_starting(page, "heapswitch_") == 4, "only the scan's own samples");
    free(page);
}

/* `metrics FILE` also writes a page of awkward labels and values to FILE,
 * for promtool to check (tests/cli/export_rules.sh). */
static void write_sample_page(const char *path)
{
    struct heapswitch_snapshot s, t;
    const struct heapswitch_snapshot *list[] = {&s, &t};
    char *page;
    FILE *out = fopen(path, "w");

    fill(&s);
    strcpy(s.tag, "a\"b\\c\nd");
    strcpy(s.exe, "/opt/we\"ird\\dir/new\nline/caf\xc3\xa9\xff");
    s.fragmentation = 1.0 / 3.0;
    s.cpu_seconds = 0.1;
    fill_latency(&s);
    fill_latency(&s);
    fill(&t);
    t.pid = 7;
    t.stats_level = HEAPSWITCH_STATS_DEFAULT;
    t.estimated = HEAPSWITCH_ESTIMATED_LIVE | HEAPSWITCH_UNCOUNTED_USABLE;
    t.cpu_seconds = -1;
    page = render(list, 2, 1, 1e-6);
    if (out == NULL || fputs(page, out) == EOF || fclose(out) != 0) {
        perror(path);
        exit(99);
    }
    free(page);
}

int main(int argc, char **argv)
{
    if (argc > 1)
        write_sample_page(argv[1]);
    test_exact_values();
    test_unknown_figures();
    test_escaping();
    test_values();
    test_no_process();
    test_latency();
    return test_finish("metrics");
}
