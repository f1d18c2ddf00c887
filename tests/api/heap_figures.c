/* The heap figures a process publishes, against the kernel's view and the
 * truth: a heap of 256 MiB in blocks of 1 to 8 KiB, every byte touched,
 * then three blocks in four freed, interleaved, so that no page empties.
 *
 * - The published resident bytes grow as the process's RSS does (from
 *   /proc/self/statm, the kernel's count), within 5%, and are never
 *   above the RSS.
 * - Live bytes grow by the usable sizes of the blocks still held (the
 *   truth, from malloc_usable_size): within 1% where usable bytes are
 *   counted at every call, within 5% where they are estimated.
 * - Fragmentation and the bytes held beyond the live ones come from the
 *   live and resident bytes of one refresh.
 * Then a heap of a million small blocks (16 to 96 bytes, as in a key-value
 * store), where an allocator's per-block overhead weighs most: live bytes
 * against the truth again.
 * Run at the default level (heap_figures@BACKEND) and at the exact level
 * (heap_figures_exact@BACKEND). */
#include "config.h"

#include <math.h>
#include <time.h>
#include <unistd.h>

#include "include/heapswitch.h"
#include "tests/harness.h"

enum { HEAP_BYTES = 256 << 20, MAX_BLOCKS = HEAP_BYTES / 1024 };

static void *keep[MAX_BLOCKS];

static double monotonic_seconds(void)
{
    struct timespec now;

    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)now.tv_sec + (double)now.tv_nsec / 1e9;
}

static uint64_t rss_bytes(void)
{
    FILE *statm = fopen("/proc/self/statm", "r");
    unsigned long size = 0, resident = 0;

    if (statm == NULL || fscanf(statm, "%lu %lu", &size, &resident) != 2)
        resident = 0;
    if (statm != NULL)
        fclose(statm);
    return (uint64_t)resident * (uint64_t)sysconf(_SC_PAGESIZE);
}

/* A snapshot whose heap figures were refreshed after `since`: the
 * refresh rides on allocating calls, at most every 250 ms, so allocate
 * a little between looks; 20 s at most. */
static void read_refreshed(double since, struct heapswitch_snapshot *snapshot)
{
    struct timespec pause = {0, 50 * 1000 * 1000};
    char why[256];

    for (int attempt = 0; attempt < 400; attempt++) {
        for (int i = 0; i < 600; i++) {
            void *volatile churn = malloc(32);
            free(churn);
        }
        if (heapswitch_read_pid(getpid(), snapshot, why, sizeof why) != 0) {
            CHECK(0, "read my own segment: %s", why);
            exit(test_finish("heap_figures"));
        }
        if (snapshot->heap.valid && snapshot->taken - snapshot->heap.age_seconds > since)
            return;
        nanosleep(&pause, NULL);
    }
    CHECK(0, "no refresh of the heap figures within 20 s");
    exit(test_finish("heap_figures"));
}

static double relative(double got, double want)
{
    return want != 0 ? fabs(got - want) / want : INFINITY;
}

enum { SMALL_BLOCKS = 1000000 };

/* A million blocks of 16 to 96 bytes: live bytes grow by their usable
 * sizes, within `tolerance`. */
static void small_blocks(double tolerance)
{
    static void *small[SMALL_BLOCKS];
    struct heapswitch_snapshot before, after;
    uint64_t truth = 0;
    double growth;

    /* Figures of after the big heap's frees (estimates come from refreshes). */
    read_refreshed(monotonic_seconds() + 0.3, &before);
    for (size_t i = 0; i < SMALL_BLOCKS; i++) {
        small[i] = malloc(16 + (i * 7) % 81);
        CHECK(small[i] != NULL, "malloc of a small block");
        if (small[i] == NULL)
            return;
        truth += malloc_usable_size(small[i]);
    }
    read_refreshed(monotonic_seconds() + 0.3, &after);
    growth = (double)after.live_bytes - (double)before.live_bytes;
    printf("small blocks: live +%.1f MiB, truth %.1f MiB (%+.2f%%)\n", growth / 1048576,
           (double)truth / 1048576, (growth / (double)truth - 1) * 100);
    CHECK(relative(growth, (double)truth) <= tolerance,
          "small blocks: live grew %.0f bytes, the blocks held have %llu usable bytes "
          "(tolerance %.0f%%)", growth, (unsigned long long)truth, tolerance * 100);
    for (size_t i = 0; i < SMALL_BLOCKS; i++)
        free(small[i]);
}

int main(void)
{
    const char *backend = test_expected_backend();
    struct heapswitch_snapshot before, after;
    const char *level = getenv("HEAPSWITCH_STATS");
    bool exact = level != NULL && strcmp(level, "exact") == 0;
    double live_tolerance, resident_tolerance, resident_growth, rss_growth, live_growth;
    uint64_t truth = 0, total = 0, rss_after = 0;
    size_t blocks = 0;

    read_refreshed(0, &before);
    CHECK(exact == (before.stats_level == HEAPSWITCH_STATS_EXACT), "counting level %d",
          (int)before.stats_level);
    uint64_t rss_before = rss_bytes();

    for (size_t size = 1024; total < HEAP_BYTES; blocks++) {
        keep[blocks] = malloc(size);
        CHECK(keep[blocks] != NULL, "malloc(%zu)", size);
        if (keep[blocks] == NULL)
            return test_finish("heap_figures");
        memset(keep[blocks], (int)blocks, size);
        total += size;
        size = size >= 8192 ? 1024 : size + 1024 + 8;
    }
    for (size_t i = 0; i < blocks; i++) {
        if (i % 4 == 0) {
            truth += malloc_usable_size(keep[i]);
        } else {
            free(keep[i]);
            keep[i] = NULL;
        }
    }
    /* Allocators give memory back on their own schedule after frees
     * (mimalloc purges freed pages on a later call that needs a page, such
     * as stdio's), and the figures are those of the last refresh: take
     * figures refreshed after an RSS reading, and keep them only if the
     * RSS has not moved since (1%). */
    read_refreshed(monotonic_seconds() + 1.0, &after);
    for (int attempt = 0; attempt < 20; attempt++) {
        uint64_t rss_mark = rss_bytes();
        read_refreshed(monotonic_seconds() + 0.3, &after);
        rss_after = rss_bytes();
        if (relative((double)rss_after, (double)rss_mark) < 0.01)
            break;
    }

    resident_growth = (double)after.heap.resident - (double)before.heap.resident;
    rss_growth = (double)rss_after - (double)rss_before;
    live_growth = (double)after.live_bytes - (double)before.live_bytes;
    live_tolerance = (after.estimated & HEAPSWITCH_ESTIMATED_LIVE) ? 0.05 : 0.01;
    printf("%s (%s level): %zu blocks, %.1f MiB held; live +%.1f MiB (truth %.1f MiB, %s), "
           "resident +%.1f MiB, RSS +%.1f MiB (%.1f MiB in all), fragmentation %.3f, "
           "held beyond live %.1f MiB\n",
           backend, exact ? "exact" : "default", blocks, (double)total / 1048576,
           live_growth / 1048576, (double)truth / 1048576,
           (after.estimated & HEAPSWITCH_ESTIMATED_LIVE) ? "estimated" : "exact",
           resident_growth / 1048576, rss_growth / 1048576, (double)rss_after / 1048576,
           after.fragmentation, (double)after.heap_overhead_bytes / 1048576);

    CHECK(rss_growth > HEAP_BYTES * 0.9, "the kernel saw %.1f MiB of RSS growth",
          rss_growth / 1048576);
    resident_tolerance = 0.05;
    CHECK(relative(resident_growth, rss_growth) <= resident_tolerance,
          "resident grew %.1f MiB, RSS %.1f MiB (tolerance %.0f%%)", resident_growth / 1048576,
          rss_growth / 1048576, resident_tolerance * 100);
    CHECK(after.heap.resident <= rss_after, "resident %llu above the RSS %llu", (unsigned long long)after.heap.resident,
          (unsigned long long)rss_after);
    CHECK(relative(live_growth, (double)truth) <= live_tolerance,
          "live grew %.0f bytes, the blocks held have %llu usable bytes (tolerance %.0f%%)",
          live_growth, (unsigned long long)truth, live_tolerance * 100);
    CHECK(after.fragmentation >= 0.6 && after.fragmentation <= 0.9,
          "three blocks in four freed, fragmentation %.3f", after.fragmentation);
    CHECK(after.heap_overhead_bytes >= 0 &&
              (double)after.heap_overhead_bytes >=
                  (double)after.heap.resident * after.fragmentation - 1.0 &&
              (double)after.heap_overhead_bytes <=
                  (double)after.heap.resident * after.fragmentation + 1.0,
          "held beyond live %lld is not resident x fragmentation (%.0f)",
          (long long)after.heap_overhead_bytes,
          (double)after.heap.resident * after.fragmentation);
    for (size_t i = 0; i < blocks; i++)
        free(keep[i]);
    small_blocks(live_tolerance);
    return test_finish("heap_figures");
}
