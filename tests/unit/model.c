/* dashboard/model.c fed synthetic snapshots through the steps of a
 * refresh (begin, take, end): rates and history between two snapshots of
 * a process, a reused pid starting afresh, a process whose segment
 * vanished marked exited, and exited and dead processes kept for
 * keep_gone_seconds, then dropped. */
#include "config.h"

#include <time.h>

#include "dashboard/model.h"
#include "tests/harness.h"

static struct heapswitch_snapshot snapshot(pid_t pid, double taken, uint64_t mallocs)
{
    struct heapswitch_snapshot s;

    memset(&s, 0, sizeof s);
    s.pid = pid;
    s.start_time = 1000 + (uint64_t)pid;
    s.state = HEAPSWITCH_PROCESS_RUNNING;
    s.taken = taken;
    s.counters.malloc_calls = mallocs;
    s.counters.free_calls = mallocs / 2;
    s.rss_bytes = 1 << 20;
    s.fragmentation = -1;
    return s;
}

/* One refresh in which exactly these snapshots are seen, ending at now. */
static void refresh(struct hsw_model *model, const struct heapswitch_snapshot *seen, size_t count,
                    double now)
{
    hsw_model_begin(model);
    for (size_t i = 0; i < count; i++)
        hsw_model_take(model, &seen[i]);
    hsw_model_end(model, now);
}

static double wall_now(void)
{
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    return (double)now.tv_sec + (double)now.tv_nsec / 1e9;
}

static void rates_and_history(void)
{
    struct hsw_model model;
    struct heapswitch_snapshot s[2] = {snapshot(100, 10.0, 1000), snapshot(200, 10.0, 0)};
    struct hsw_proc *p;
    double now = hsw_now();

    hsw_model_init(&model, 5);
    refresh(&model, s, 2, now);
    CHECK(model.count == 2, "two processes, %zu", model.count);
    p = hsw_model_find(&model, 100);
    CHECK(p != NULL && !p->has_rates && p->history_length == 0,
          "first sight: no rates, no history");
    CHECK(p != NULL && p->gone_since == 0 && p->first_seen > 0, "first sight: running");
    CHECK(hsw_model_find(&model, 300) == NULL, "an unknown pid is not found");

    /* 2 s later: 3000 more mallocs, 100 callocs, 1500 frees. */
    s[0] = snapshot(100, 12.0, 4000);
    s[0].counters.calloc_calls = 100;
    s[0].counters.free_calls = 500 + 1500;
    s[0].counters.bytes_allocated = 2 << 20;
    s[0].live_bytes = 777;
    s[1].taken = 12.0;
    refresh(&model, s, 2, now + 2);
    p = hsw_model_find(&model, 100);
    CHECK(model.count == 2 && p != NULL && p->has_rates, "second sight: rates");
    if (p == NULL || !p->has_rates)
        return;
    CHECK(p->rates.seconds == 2.0, "over %f s", p->rates.seconds);
    CHECK(p->rates.allocs_per_second == 1550, "allocs/s %f", p->rates.allocs_per_second);
    CHECK(p->rates.frees_per_second == 750, "frees/s %f", p->rates.frees_per_second);
    CHECK(p->rates.bytes_per_second == 1 << 20, "bytes/s %f", p->rates.bytes_per_second);
    CHECK(p->previous.counters.malloc_calls == 1000 && p->now.counters.malloc_calls == 4000,
          "previous and now snapshots");
    CHECK(p->history_length == 1 && p->history[HSW_SERIES_ALLOCS][0] == 1550 &&
              p->history[HSW_SERIES_FREES][0] == 750 &&
              p->history[HSW_SERIES_BYTES][0] == 1 << 20 && p->history[HSW_SERIES_LIVE][0] == 777,
          "one history sample of each series");
    CHECK(hsw_allocs(&p->now.counters) == 4100, "allocating calls %llu",
          (unsigned long long)hsw_allocs(&p->now.counters));

    /* The history keeps the last HSW_HISTORY samples, oldest first. */
    for (int i = 1; i <= HSW_HISTORY + 5; i++) {
        s[0] = snapshot(100, 12.0 + i, 4000 + (uint64_t)i * 10 * (uint64_t)i);
        refresh(&model, s, 1, now + 2);
    }
    p = hsw_model_find(&model, 100);
    CHECK(p != NULL && p->history_length == HSW_HISTORY, "history full at %d", HSW_HISTORY);
    if (p != NULL) {
        /* Sample i is the rate between i-1 and i: 10 * (2i - 1) per second. */
        CHECK(p->history[HSW_SERIES_ALLOCS][HSW_HISTORY - 1] == 10.0 * (2 * (HSW_HISTORY + 5) - 1),
              "newest last: %f", p->history[HSW_SERIES_ALLOCS][HSW_HISTORY - 1]);
        CHECK(p->history[HSW_SERIES_ALLOCS][0] == 10.0 * (2 * 6 - 1), "oldest first: %f",
              p->history[HSW_SERIES_ALLOCS][0]);
    }

    /* The pid reused by another process: a new row, no rates across. */
    s[0] = snapshot(100, 100.0, 5);
    s[0].start_time = 99999;
    refresh(&model, s, 1, now + 2);
    p = hsw_model_find(&model, 100);
    CHECK(model.count == 2, "a reused pid is one row, %zu", model.count);
    CHECK(p != NULL && !p->has_rates && p->history_length == 0 &&
              p->now.counters.malloc_calls == 5,
          "a reused pid starts afresh");
    hsw_model_free(&model);
    CHECK(model.count == 0 && model.procs == NULL, "freed");
}

static void gone_processes(void)
{
    struct hsw_model model;
    struct heapswitch_snapshot s[3] = {snapshot(1, 1.0, 10), snapshot(2, 1.0, 20),
                                       snapshot(3, 1.0, 30)};
    struct hsw_proc *p;
    double start = hsw_now(), t;

    hsw_model_init(&model, 5);
    refresh(&model, s, 3, start);
    CHECK(model.count == 3, "three running");

    /* 1's segment vanished (normal exit without HEAPSWITCH_KEEP); 2 was
     * killed (its segment says dead); 3 exited with its segment kept. */
    s[1].state = HEAPSWITCH_PROCESS_DEAD;
    s[2].state = HEAPSWITCH_PROCESS_EXITED;
    s[2].exited = wall_now() - 1;
    s[1].taken = s[2].taken = 2.0;
    t = hsw_now();
    refresh(&model, s + 1, 2, t);
    CHECK(model.count == 3, "ended processes are still listed, %zu", model.count);
    p = hsw_model_find(&model, 1);
    CHECK(p != NULL && p->now.state == HEAPSWITCH_PROCESS_EXITED && p->gone_since == t &&
              p->now.rss_bytes == 0,
          "vanished: exited at this refresh, no RSS");
    p = hsw_model_find(&model, 2);
    CHECK(p != NULL && p->now.state == HEAPSWITCH_PROCESS_DEAD && p->gone_since >= start &&
              p->gone_since <= hsw_now(),
          "dead: gone since it was seen dead");
    p = hsw_model_find(&model, 3);
    CHECK(p != NULL && p->now.state == HEAPSWITCH_PROCESS_EXITED &&
              p->gone_since > t - 1.5 && p->gone_since < t - 0.5,
          "exited: gone since its recorded exit, 1 s ago (%f)", p ? t - p->gone_since : -1);

    /* Still within keep_gone_seconds: listed; gone_since does not move. */
    refresh(&model, s + 1, 2, t + 3);
    CHECK(model.count == 3, "still listed within 5 s, %zu", model.count);
    p = hsw_model_find(&model, 1);
    CHECK(p != NULL && p->gone_since == t, "gone_since kept");
    /* 3 ended a second before the others: it goes first. */
    refresh(&model, s + 1, 2, t + 4.6);
    CHECK(model.count == 2 && hsw_model_find(&model, 3) == NULL,
          "exited 5.6 s ago: dropped, %zu left", model.count);
    refresh(&model, s + 1, 2, t + 5.5);
    CHECK(model.count == 0, "all dropped after 5 s, %zu left", model.count);

    /* A segment kept long ago is never listed again by later scans. */
    s[2].exited = wall_now() - 60;
    refresh(&model, s + 2, 1, hsw_now());
    CHECK(model.count == 0, "a process that exited a minute ago is not listed");
    hsw_model_free(&model);
}

int main(void)
{
    rates_and_history();
    gone_processes();
    return test_finish("unit/model");
}
