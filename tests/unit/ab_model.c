/* The live A/B view's logic (dashboard/ab_model.c), driven by synthetic
 * snapshot sequences: processes of another program are never compared
 * with the request servers, a program with one arm is listed and not
 * compared, the figures are per request when requests are marked and per
 * 1,000 allocating calls otherwise, an allocation-rate imbalance is
 * flagged, the window keeps only its own samples, and the comparison of
 * a clear difference reaches a verdict once there are samples enough. */
#include "config.h"

#include <math.h>

#include "dashboard/ab_model.h"
#include "tests/harness.h"

#define MAX_PROCS 8

static struct heapswitch_snapshot procs[MAX_PROCS];
static const struct heapswitch_snapshot *listed[MAX_PROCS];
static size_t proc_count;
static double clock_now = 100.0;

static struct heapswitch_snapshot *add_proc(const char *exe, const char *cmdline,
                                            const char *backend, const char *tag)
{
    struct heapswitch_snapshot *p = &procs[proc_count];

    memset(p, 0, sizeof *p);
    p->pid = (pid_t)(1000 + proc_count);
    p->start_time = 5000 + proc_count;
    p->state = HEAPSWITCH_PROCESS_RUNNING;
    snprintf(p->exe, sizeof p->exe, "%s", exe);
    snprintf(p->cmdline, sizeof p->cmdline, "%s", cmdline);
    snprintf(p->backend, sizeof p->backend, "%s", backend);
    snprintf(p->tag, sizeof p->tag, "%s", tag);
    p->taken = clock_now;
    p->cpu_seconds = 1.0;
    p->rss_bytes = 10 << 20;
    p->fragmentation = -1;
    listed[proc_count] = p;
    proc_count++;
    return p;
}

/* One second of work: cpu seconds, requests, allocating calls. */
static void work(struct heapswitch_snapshot *p, double cpu, uint64_t requests,
                 uint64_t calls)
{
    p->taken = clock_now;
    p->cpu_seconds += cpu;
    p->counters.requests += requests;
    p->counters.malloc_calls += calls;
}

static void analyze(struct hsw_ab *ab, enum hsw_ab_key key, bool by_tag, double window,
                    struct hsw_ab_view *view)
{
    struct hsw_ab_options options = {
        .key = key, .by_tag = by_tag, .window_seconds = window, .now = clock_now};

    CHECK(hsw_ab_analyze(ab, listed, proc_count, &options, view) == 0, "analyze");
}

static const struct hsw_ab_program *program_named(const struct hsw_ab_view *view,
                                                  const char *label)
{
    for (size_t i = 0; i < view->count; i++)
        if (strcmp(view->programs[i].label, label) == 0)
            return &view->programs[i];
    return NULL;
}

static bool close_to(double value, double want)
{
    return fabs(value - want) <= 1e-9 * fabs(want) + 1e-12;
}

/* Two request servers (system, jemalloc), one unrelated program. */
static void test_programs_apart(void)
{
    struct hsw_ab ab;
    struct hsw_ab_view view;
    struct heapswitch_snapshot *a, *b, *other;
    const struct hsw_ab_program *server, *python;

    proc_count = 0;
    hsw_ab_init(&ab);
    a = add_proc("/opt/x/request_server", "request_server --naive", "system", "A");
    b = add_proc("/opt/x/request_server", "request_server --naive", "jemalloc", "B");
    other = add_proc("/usr/bin/python3", "python3 loop.py", "mimalloc", "");
    for (int second = 0; second < 20; second++) {
        hsw_ab_update(&ab, listed, proc_count);
        clock_now += 1.0;
        work(a, 0.5, 100, 100000);    /* 5 ms per request */
        work(b, 0.4, 100, 100000);    /* 4 ms per request */
        work(other, 0.9, 0, 3000000); /* 0.3 ms per 1,000 calls */
    }
    hsw_ab_update(&ab, listed, proc_count);

    analyze(&ab, HSW_AB_KEY_EXE, false, 60, &view);
    CHECK(view.count == 2, "two programs, not %zu", view.count);
    CHECK(view.compared == 1, "one program compared, not %zu", view.compared);
    server = program_named(&view, "request_server");
    python = program_named(&view, "python3");
    CHECK(server != NULL && python != NULL, "both programs listed");
    if (server == NULL || python == NULL)
        goto done;
    CHECK(server == &view.programs[0], "the compared program comes first");
    CHECK(server->arm_count == 2 && server->processes == 2,
          "request_server: 2 arms, 2 processes (%zu, %zu)", server->arm_count,
          server->processes);
    CHECK(strcmp(server->arms[0].name, "system") == 0 &&
              strcmp(server->arms[1].name, "jemalloc") == 0,
          "arms system (the baseline), jemalloc: %s, %s", server->arms[0].name,
          server->arms[1].name);
    for (size_t k = 0; k < server->arm_count; k++)
        CHECK(server->arms[k].processes == 1, "arm %s: the server alone",
              server->arms[k].name);
    CHECK(python->arm_count == 1 && strcmp(python->arms[0].name, "mimalloc") == 0,
          "python3: one arm (mimalloc), listed, not compared");

    /* Work normalization. */
    CHECK(server->marks_requests && !python->marks_requests, "who marks requests");
    CHECK(hsw_ab_metric_used(server, HSW_AB_CPU_PER_REQUEST) &&
              hsw_ab_metric_used(server, HSW_AB_REQUESTS_PER_SECOND) &&
              !hsw_ab_metric_used(server, HSW_AB_CPU_PER_KCALLS),
          "request_server: per request");
    CHECK(!hsw_ab_metric_used(python, HSW_AB_CPU_PER_REQUEST) &&
              hsw_ab_metric_used(python, HSW_AB_CPU_PER_KCALLS),
          "python3: per 1,000 allocating calls");
    CHECK(close_to(server->arms[0].median[HSW_AB_CPU_PER_REQUEST], 0.005) &&
              close_to(server->arms[1].median[HSW_AB_CPU_PER_REQUEST], 0.004),
          "CPU per request 5 and 4 ms: %g, %g",
          server->arms[0].median[HSW_AB_CPU_PER_REQUEST],
          server->arms[1].median[HSW_AB_CPU_PER_REQUEST]);
    CHECK(close_to(server->arms[0].median[HSW_AB_REQUESTS_PER_SECOND], 100),
          "requests/s %g", server->arms[0].median[HSW_AB_REQUESTS_PER_SECOND]);
    CHECK(close_to(python->arms[0].median[HSW_AB_CPU_PER_KCALLS], 0.0003),
          "CPU per 1,000 calls %g", python->arms[0].median[HSW_AB_CPU_PER_KCALLS]);
    CHECK(server->arms[0].samples == 20 && server->arms[1].samples == 20,
          "20 intervals per arm: %zu, %zu", server->arms[0].samples,
          server->arms[1].samples);
    CHECK(!server->arms[1].unbalanced && close_to(server->arms[1].balance, 1.0),
          "an arm of equal rate is not flagged");
    CHECK(!server->imbalanced && close_to(server->balance_ratio, 1.0),
          "equal allocation rates are balanced (%g)", server->balance_ratio);
    hsw_ab_view_free(&view);

    /* By tag: the arms are the tags, the python stays apart. */
    analyze(&ab, HSW_AB_KEY_EXE, true, 60, &view);
    server = program_named(&view, "request_server");
    CHECK(server != NULL && server->arm_count == 2 &&
              strcmp(server->arms[0].name, "A") == 0 &&
              strcmp(server->arms[1].name, "B") == 0,
          "by tag: arms A and B");
    CHECK(view.compared == 1, "by tag: still one program compared");
done:
    hsw_ab_view_free(&view);
    hsw_ab_free(&ab);
}

/* A redraw without a new scan adds nothing; a process gone is dropped. */
static void test_updates(void)
{
    struct hsw_ab ab;
    struct hsw_ab_view view;
    struct heapswitch_snapshot *a;

    proc_count = 0;
    hsw_ab_init(&ab);
    a = add_proc("/bin/prog", "prog", "system", "");
    add_proc("/bin/prog", "prog", "arena", "");
    hsw_ab_update(&ab, listed, proc_count);
    clock_now += 1;
    work(a, 0.1, 0, 1000);
    hsw_ab_update(&ab, listed, proc_count);
    hsw_ab_update(&ab, listed, proc_count);
    CHECK(ab.count == 2 && ab.series[0].count == 1, "one interval, not %zu",
          ab.count ? ab.series[0].count : 0);
    analyze(&ab, HSW_AB_KEY_EXE, false, 60, &view);
    CHECK(view.compared == 1 && view.programs[0].arms[0].samples == 1,
          "one sample in the window");
    hsw_ab_view_free(&view);
    procs[1].state = HEAPSWITCH_PROCESS_EXITED;
    analyze(&ab, HSW_AB_KEY_EXE, false, 60, &view);
    CHECK(view.count == 1 && view.compared == 0 && view.programs[0].arm_count == 1,
          "an exited process is no arm");
    hsw_ab_view_free(&view);
    hsw_ab_update(&ab, listed, 1);
    CHECK(ab.count == 1, "the series of a process no longer listed is dropped");
    hsw_ab_free(&ab);
}

/* The window keeps its own samples; older ones are dropped. */
static void test_window(void)
{
    struct hsw_ab ab;
    struct hsw_ab_view view;
    struct heapswitch_snapshot *a, *b;
    const struct hsw_ab_program *p;

    proc_count = 0;
    hsw_ab_init(&ab);
    a = add_proc("/bin/prog", "prog", "system", "");
    b = add_proc("/bin/prog", "prog", "mimalloc", "");
    for (int second = 0; second < 400; second++) {
        hsw_ab_update(&ab, listed, proc_count);
        clock_now += 1;
        /* The first 340 seconds cost 9 ms per 1,000 calls, the rest 1 ms. */
        work(a, second < 340 ? 0.9 : 0.1, 0, 100000);
        work(b, second < 340 ? 0.9 : 0.1, 0, 100000);
    }
    hsw_ab_update(&ab, listed, proc_count);
    CHECK(ab.series[0].count <= (size_t)HSW_AB_RETAIN_SECONDS + 1,
          "samples older than the retention dropped: %zu kept", ab.series[0].count);
    analyze(&ab, HSW_AB_KEY_EXE, false, 30, &view);
    p = &view.programs[0];
    CHECK(p->arms[0].samples == 30 && p->arms[1].samples == 30,
          "a 30 s window: 30 samples per arm, not %zu, %zu", p->arms[0].samples,
          p->arms[1].samples);
    CHECK(close_to(p->arms[0].median[HSW_AB_CPU_PER_KCALLS], 0.001),
          "only the window's figures: %g", p->arms[0].median[HSW_AB_CPU_PER_KCALLS]);
    hsw_ab_view_free(&view);
    analyze(&ab, HSW_AB_KEY_EXE, false, 300, &view);
    p = &view.programs[0];
    CHECK(p->arms[0].samples == 300, "a 300 s window: 300 samples, not %zu",
          p->arms[0].samples);
    CHECK(close_to(p->arms[0].median[HSW_AB_CPU_PER_KCALLS], 0.009),
          "older figures in the longer window: %g",
          p->arms[0].median[HSW_AB_CPU_PER_KCALLS]);
    hsw_ab_view_free(&view);
    hsw_ab_free(&ab);
}

/* Arms with allocation rates 3x apart are flagged. */
static void test_imbalance(void)
{
    struct hsw_ab ab;
    struct hsw_ab_view view;
    struct heapswitch_snapshot *a, *b;

    proc_count = 0;
    hsw_ab_init(&ab);
    a = add_proc("/bin/prog", "prog", "system", "");
    b = add_proc("/bin/prog", "prog", "jemalloc", "");
    for (int second = 0; second < 10; second++) {
        hsw_ab_update(&ab, listed, proc_count);
        clock_now += 1;
        work(a, 0.3, 0, 100000);
        work(b, 0.9, 0, 300000);
    }
    hsw_ab_update(&ab, listed, proc_count);
    analyze(&ab, HSW_AB_KEY_EXE, false, 60, &view);
    CHECK(view.count == 1 && view.programs[0].imbalanced &&
              close_to(view.programs[0].balance_ratio, 3.0),
          "3x the allocation rate flagged (ratio %g)",
          view.count ? view.programs[0].balance_ratio : NAN);
    CHECK(view.count == 1 && !view.programs[0].arms[0].unbalanced &&
              view.programs[0].arms[1].unbalanced &&
              close_to(view.programs[0].arms[1].balance, 3.0),
          "the arm with 3x the baseline's rate flagged (%g)",
          view.count ? view.programs[0].arms[1].balance : NAN);
    CHECK(close_to(view.programs[0].arms[0].median[HSW_AB_CPU_PER_KCALLS],
                   view.programs[0].arms[1].median[HSW_AB_CPU_PER_KCALLS]),
          "the same CPU per 1,000 calls: the work normalized");
    hsw_ab_view_free(&view);
    hsw_ab_free(&ab);
}

/* The user's grouping keys: tag prefix and command line. */
static void test_keys(void)
{
    struct hsw_ab ab;
    struct hsw_ab_view view;
    const struct hsw_ab_program *api, *web;

    proc_count = 0;
    hsw_ab_init(&ab);
    add_proc("/srv/server", "server --port 1", "system", "api-stable");
    add_proc("/srv/server", "server --port 1", "jemalloc", "api-canary");
    add_proc("/srv/server", "server --port 2", "jemalloc", "web-canary");
    analyze(&ab, HSW_AB_KEY_EXE, true, 60, &view);
    CHECK(view.count == 1 && view.programs[0].arm_count == 3,
          "by executable: one program, three tags");
    hsw_ab_view_free(&view);

    analyze(&ab, HSW_AB_KEY_TAG_PREFIX, true, 60, &view);
    api = program_named(&view, "server [api]");
    web = program_named(&view, "server [web]");
    CHECK(view.count == 2 && api != NULL && web != NULL, "by tag prefix: api and web");
    CHECK(api != NULL && api->arm_count == 2 &&
              strcmp(api->arms[0].name, "api-canary") == 0,
          "api: canary and stable compared");
    CHECK(web != NULL && web->arm_count == 1, "web: one arm, not compared");
    hsw_ab_view_free(&view);

    analyze(&ab, HSW_AB_KEY_CMDLINE, false, 60, &view);
    CHECK(view.count == 2 && view.compared == 1 &&
              strcmp(view.programs[0].label, "server --port 1") == 0,
          "by command line: --port 1 compared, --port 2 apart");
    hsw_ab_view_free(&view);
    hsw_ab_free(&ab);
}

/* A clear difference is judged once the window has samples enough; too
 * few samples say so, with how many more are needed. */
static void test_verdicts(void)
{
    struct hsw_ab ab;
    struct hsw_ab_view view;
    struct hsw_comparison result;
    struct heapswitch_snapshot *a, *b;

    proc_count = 0;
    hsw_ab_init(&ab);
    a = add_proc("/opt/x/request_server", "request_server", "system", "");
    b = add_proc("/opt/x/request_server", "request_server", "mimalloc", "");
    hsw_ab_update(&ab, listed, proc_count);
    clock_now += 1;
    work(a, 0.5, 100, 100000);
    work(b, 0.3, 100, 100000);
    hsw_ab_update(&ab, listed, proc_count);
    analyze(&ab, HSW_AB_KEY_EXE, false, 60, &view);
    CHECK(hsw_ab_compare(&view.programs[0], 1, HSW_AB_CPU_PER_REQUEST, &result) == 0 &&
              result.verdict == HSW_VERDICT_NOT_ENOUGH_DATA && result.runs_needed > 0,
          "one sample per arm: not enough data, more needed (%u)", result.runs_needed);
    CHECK(hsw_ab_compare(&view.programs[0], 1, HSW_AB_ALLOCS_PER_SECOND, &result) == -1,
          "the allocation rate is never judged");
    hsw_ab_view_free(&view);
    for (int second = 0; second < 40; second++) {
        clock_now += 1;
        /* CPU per request 5 ms against 3 ms, give or take 0.2 ms. */
        work(a, 0.5 + (second % 5 - 2) * 0.005, 100, 100000);
        work(b, 0.3 + (second % 3 - 1) * 0.005, 100, 100000);
        hsw_ab_update(&ab, listed, proc_count);
    }
    analyze(&ab, HSW_AB_KEY_EXE, false, 60, &view);
    CHECK(hsw_ab_compare(&view.programs[0], 1, HSW_AB_CPU_PER_REQUEST, &result) == 0 &&
              result.verdict == HSW_VERDICT_B_BETTER,
          "mimalloc's lower CPU per request: B better, not %s",
          hsw_verdict_text(result.verdict));
    CHECK(hsw_ab_compare(&view.programs[0], 1, HSW_AB_REQUESTS_PER_SECOND, &result) ==
                  0 &&
              result.verdict == HSW_VERDICT_NO_DIFFERENCE,
          "the same requests/s: no difference, not %s", hsw_verdict_text(result.verdict));
    hsw_ab_view_free(&view);
    hsw_ab_free(&ab);
}

/* Grouped by labels: two deployments of one executable (pods labelled
 * app=web and app=api), each under two backends, are two programs. */
static void test_labels_key(void)
{
    struct hsw_ab ab;
    struct hsw_ab_view view;
    struct heapswitch_snapshot *p[4];
    const struct hsw_ab_program *web, *api;
    static const char *const labels[] = {"app=web,pod=web-1", "app=web,pod=web-1",
                                         "app=api,pod=api-1", "app=api,pod=api-1"};

    proc_count = 0;
    hsw_ab_init(&ab);
    for (int i = 0; i < 4; i++) {
        p[i] = add_proc("/srv/server", "server", i % 2 ? "jemalloc" : "system", "");
        snprintf(p[i]->labels, sizeof p[i]->labels, "%s", labels[i]);
    }
    for (int second = 0; second < 5; second++) {
        hsw_ab_update(&ab, listed, proc_count);
        clock_now += 1.0;
        for (int i = 0; i < 4; i++)
            work(p[i], 0.5, 0, 100000);
    }
    hsw_ab_update(&ab, listed, proc_count);

    analyze(&ab, HSW_AB_KEY_EXE, false, 60, &view);
    CHECK(view.count == 1 && view.programs[0].processes == 4,
          "by executable: one program of 4 processes (%zu programs)", view.count);
    hsw_ab_view_free(&view);

    analyze(&ab, HSW_AB_KEY_LABELS, false, 60, &view);
    CHECK(strcmp(hsw_ab_key_name(HSW_AB_KEY_LABELS), "executable + labels") == 0,
          "the key's name");
    CHECK(view.count == 2, "by labels: two programs, not %zu", view.count);
    web = program_named(&view, "server {app=web,pod=web-1}");
    api = program_named(&view, "server {app=api,pod=api-1}");
    CHECK(web != NULL && api != NULL, "named by their labels");
    if (web != NULL && api != NULL)
        CHECK(web->arm_count == 2 && api->arm_count == 2 && web->processes == 2,
              "each compared system against jemalloc");
    hsw_ab_view_free(&view);
    hsw_ab_free(&ab);
}

/* Per-interval malloc latency: the percentiles of the calls timed
 * between two snapshots (the histograms' difference), NAN with too few. */
static void test_interval_latency(void)
{
    static struct heapswitch_snapshot earlier, later;
    struct hsw_ab_sample sample;
    unsigned fast = 0, slow = 0;

    memset(&earlier, 0, sizeof earlier);
    earlier.latency.present = 1;
    earlier.latency.rate = 256;
    earlier.latency.ticks_per_ns = 1;
    while (heapswitch_latency_bucket_ns(&earlier.latency, fast + 1) <= 100)
        fast++;
    while (heapswitch_latency_bucket_ns(&earlier.latency, slow + 1) <= 50000)
        slow++;
    /* Before: 5000 fast calls. In the interval: 2000 fast, 40 slow. */
    earlier.latency.kinds[0].buckets[fast] = 5000;
    earlier.latency.kinds[0].samples = 5000;
    earlier.latency.kinds[0].max_ns = 100;
    earlier.taken = 1;
    later = earlier;
    later.taken = 2;
    later.latency.kinds[0].buckets[fast] += 2000;
    later.latency.kinds[0].buckets[slow] += 40;
    later.latency.kinds[0].samples += 2040;
    later.latency.kinds[0].max_ns = 50000;
    hsw_ab_sample_between(&earlier, &later, &sample);
    CHECK(sample.value[HSW_AB_MALLOC_P50] > 90 && sample.value[HSW_AB_MALLOC_P50] < 110,
          "interval p50 %f", sample.value[HSW_AB_MALLOC_P50]);
    /* 40 of 2040 slow: p99 is a slow call, though overall it would not be. */
    CHECK(sample.value[HSW_AB_MALLOC_P99] > 45000, "interval p99 %f",
          sample.value[HSW_AB_MALLOC_P99]);
    CHECK(isnan(sample.value[HSW_AB_MALLOC_P999]), "p99.9 needs 10000 calls timed");
    later.latency.present = 0;
    hsw_ab_sample_between(&earlier, &later, &sample);
    CHECK(isnan(sample.value[HSW_AB_MALLOC_P50]), "no latency, no figure");
}

int main(void)
{
    test_labels_key();
    test_interval_latency();
    test_programs_apart();
    test_updates();
    test_window();
    test_imbalance();
    test_keys();
    test_verdicts();
    return test_finish("ab_model");
}
