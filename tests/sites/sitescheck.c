#define _GNU_SOURCE /* dladdr */
/* sitescheck SEGMENT-FILE [MIN-SAMPLES [MIN-STACKS]]: checks that a (kept)
 * segment's sites section is plausible after a real program ran under
 * sampling: at least MIN-SAMPLES samples (default 10), at most 5% of them
 * without a stack (and one more: a sample taken before the library's
 * constructor loaded the unwinder), at least MIN-STACKS stacks (3), every stack 1..HSW_SITE_FRAMES frames
 * deep with no null frame, its raw samples at most its estimated
 * allocations, its frees at most its allocations, and the entries'
 * samples adding up to the header's. Prints the five heaviest stacks
 * by bytes (addresses only: naming them is the reader's job). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "tests/sites/sites_read.h"

static int failures;

#define EXPECT(cond, ...)                                                                         \
    do {                                                                                          \
        if (!(cond)) {                                                                            \
            fprintf(stderr, "sitescheck: " __VA_ARGS__);                                          \
            fputc('\n', stderr);                                                                  \
            failures++;                                                                           \
        }                                                                                         \
    } while (0)

int main(int argc, char **argv)
{
    struct sites_snapshot snapshot;
    uint64_t min_samples = argc > 2 ? strtoull(argv[2], NULL, 10) : 10;
    unsigned min_stacks = argc > 3 ? (unsigned)strtoul(argv[3], NULL, 10) : 3;
    uint64_t samples = 0;
    unsigned used = 0, top[5] = {0};

    if (argc < 2 || sites_snapshot_read_file(argv[1], &snapshot) != 0) {
        fprintf(stderr, "usage: sitescheck SEGMENT-FILE [MIN-SAMPLES [MIN-STACKS]] (a segment with a sites section)\n");
        return 2;
    }
    EXPECT(snapshot.header.capacity >= 2, "capacity %u", snapshot.header.capacity);
    for (unsigned i = 0; i < snapshot.header.capacity; i++) {
        const struct hsw_site *site = &snapshot.sites[i];

        samples += site->samples;
        EXPECT(site->freed_allocations <= site->allocations && site->freed_bytes <= site->bytes,
               "entry %u: more freed than allocated", i);
        EXPECT(site->samples * HSW_SITE_WEIGHT_ONE <= site->allocations + site->samples,
               "entry %u: more samples than estimated allocations", i);
        if (i + 1 == snapshot.header.capacity || site->hash == 0)
            continue;
        used++;
        EXPECT(site->depth >= 1 && site->depth <= HSW_SITE_FRAMES, "entry %u: depth %u", i,
               site->depth);
        for (unsigned f = 0; f < site->depth && f < HSW_SITE_FRAMES; f++)
            EXPECT(site->frames[f] != 0, "entry %u: frame %u is null", i, f);
        for (unsigned t = 0; t < 5; t++) {
            if (top[t] == 0 || site->bytes > snapshot.sites[top[t] - 1].bytes) {
                for (unsigned u = 4; u > t; u--)
                    top[u] = top[u - 1];
                top[t] = i + 1;
                break;
            }
        }
    }
    printf("%s: interval %" PRIu64 ", %" PRIu64 " samples, %" PRIu64 " without a stack, %u stacks, "
           "other row %" PRIu64 " samples\n",
           argv[1], snapshot.header.interval, snapshot.header.samples,
           snapshot.header.unwind_failures, used,
           snapshot.sites[snapshot.header.capacity - 1].samples);
    for (unsigned t = 0; t < 5 && top[t] != 0; t++) {
        const struct hsw_site *site = &snapshot.sites[top[t] - 1];
        printf("  %.0f bytes in %.0f allocations (%" PRIu64 " samples), live %.0f; depth %u:",
               (double)site->bytes / HSW_SITE_WEIGHT_ONE,
               (double)site->allocations / HSW_SITE_WEIGHT_ONE, site->samples,
               ((double)site->bytes - (double)site->freed_bytes) / HSW_SITE_WEIGHT_ONE,
               site->depth);
        for (unsigned f = 0; f < site->depth && f < 4; f++)
            printf(" %#" PRIx64, site->frames[f]);
        printf("%s\n", site->depth > 4 ? " ..." : "");
    }
    EXPECT(samples == snapshot.header.samples, "entries hold %" PRIu64 " samples, the header %" PRIu64,
           samples, snapshot.header.samples);
    EXPECT(snapshot.header.samples >= min_samples, "%" PRIu64 " samples, expected at least %" PRIu64,
           snapshot.header.samples, min_samples);
    EXPECT((snapshot.header.unwind_failures - 1) * 20 <= snapshot.header.samples ||
               snapshot.header.unwind_failures == 0,
           "%" PRIu64 " of %" PRIu64 " samples without a stack", snapshot.header.unwind_failures,
           snapshot.header.samples);
    EXPECT(used >= min_stacks, "only %u stacks", used);
    sites_snapshot_free(&snapshot);
    return failures == 0 ? 0 : 1;
}
