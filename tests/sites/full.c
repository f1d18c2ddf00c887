/* The sites table when full: 40 x 40 = 1,600 distinct stacks (an outer
 * function of 40 calling an inner one of 40, which allocates) against
 * 1,023 entries. Every block is 64 KiB and HEAPSWITCH_SAMPLE=4k, so each
 * is sampled (p = 1 - exp(-16) > 0.9999998) with weight ~1: the stacks
 * that found no entry go to the "other" row, counted; no sample is lost
 * (the entries' samples add up to the header's, and their bytes to the
 * truth within 1%); every block is freed, and every stack's entry ends
 * with no live bytes (the "other" row keeps the start-up blocks sampled
 * before the unwinder was loaded, such as libstdc++'s exception pool). */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "tests/harness.h"
#include "tests/sites/sites_read.h"

#define FANOUT 40
#define BLOCK (64 * 1024)
#define ROUNDS 2

typedef void *(*alloc_fn)(void);

#define TEN(M, base) M(base##0) M(base##1) M(base##2) M(base##3) M(base##4) \
    M(base##5) M(base##6) M(base##7) M(base##8) M(base##9)
#define FORTY(M) TEN(M, 1) TEN(M, 2) TEN(M, 3) TEN(M, 4)

#define INNER(n)                                                                                  \
    __attribute__((noinline)) static void *inner_##n(void)                                        \
    {                                                                                             \
        void *block = malloc(BLOCK);                                                              \
        __asm__ volatile("" ::: "memory");                                                        \
        return block;                                                                             \
    }
FORTY(INNER)

#define INNER_ENTRY(n) inner_##n,
static const alloc_fn inners[FANOUT] = {FORTY(INNER_ENTRY)};

#define OUTER(n)                                                                                  \
    __attribute__((noinline)) static void *outer_##n(alloc_fn inner)                              \
    {                                                                                             \
        void *block = inner();                                                                    \
        __asm__ volatile("" ::: "memory");                                                        \
        return block;                                                                             \
    }
FORTY(OUTER)

#define OUTER_ENTRY(n) outer_##n,
static void *(*const outers[FANOUT])(alloc_fn) = {FORTY(OUTER_ENTRY)};

int main(int argc, char **argv)
{
    struct sites_snapshot snapshot;
    double bytes = 0, live = 0, truth = (double)ROUNDS * FANOUT * FANOUT * BLOCK;
    uint64_t samples = 0;
    unsigned used = 0;
    const struct hsw_site *other;

    (void)argc;
    sites_reexec_with_sampling(argv, "4k");
    for (int round = 0; round < ROUNDS; round++)
        for (int i = 0; i < FANOUT; i++)
            for (int j = 0; j < FANOUT; j++)
                free(outers[i](inners[j]));
    if (sites_snapshot_read(&snapshot) != 0)
        return 1;
    for (unsigned e = 0; e < snapshot.header.capacity; e++) {
        const struct hsw_site *site = &snapshot.sites[e];
        samples += site->samples;
        bytes += (double)site->bytes / HSW_SITE_WEIGHT_ONE;
        if (e + 1 < snapshot.header.capacity && site->hash != 0) {
            used++;
            live += ((double)site->bytes - (double)site->freed_bytes) / HSW_SITE_WEIGHT_ONE;
        }
    }
    other = &snapshot.sites[snapshot.header.capacity - 1];
    printf("%u of %u entries used, other row: %llu samples, %.0f bytes; total %llu samples "
           "(header %llu), %.0f bytes (true %.0f), live %.0f\n",
           used, snapshot.header.capacity - 1, (unsigned long long)other->samples,
           (double)other->bytes / HSW_SITE_WEIGHT_ONE, (unsigned long long)samples,
           (unsigned long long)snapshot.header.samples, bytes, truth, live);
    CHECK(used <= snapshot.header.capacity - 1, "more entries than the table has");
    CHECK(used >= (snapshot.header.capacity - 1) * 9 / 10, "only %u entries used", used);
    CHECK(other->depth == 0, "the other row has a stack");
    CHECK(other->samples >= ROUNDS * (FANOUT * FANOUT - (snapshot.header.capacity - 1)),
          "the other row has %llu samples", (unsigned long long)other->samples);
    CHECK(samples == snapshot.header.samples, "samples lost: %llu in entries, %llu in the header",
          (unsigned long long)samples, (unsigned long long)snapshot.header.samples);
    CHECK(sites_close(bytes, truth, 0.01), "bytes %.0f, true %.0f", bytes, truth);
    CHECK(other->freed_bytes > 0, "nothing freed in the other row");
    CHECK(live == 0, "live bytes %.0f after every block was freed", live);
    CHECK(sites_overfreed(&snapshot) == 0, "entries with more freed than allocated");
    sites_snapshot_free(&snapshot);
    return test_finish("sites full");
}
