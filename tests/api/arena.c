/* Explicit arenas (any backend), and what is particular to the arena
 * backend when it is active: chunks rewound and reused, realloc growing in
 * place, blocks beyond a chunk, and a long-lived block pinning its chunk,
 * which the published fragmentation figure must show. */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <time.h>
#include <unistd.h>

#include "include/heapswitch.h"
#include "tests/harness.h"

static void explicit_arenas(void)
{
    heapswitch_arena *arena = heapswitch_arena_create(16384);
    unsigned char *first, *again, *blocks[2000];
    size_t held;

    CHECK(arena != NULL, "heapswitch_arena_create");
    if (arena == NULL)
        return;
    first = heapswitch_arena_alloc(arena, 24);
    for (int i = 0; i < 2000; i++) {
        size_t size = 1 + (size_t)(i * 37) % 700;
        blocks[i] = i % 7 ? heapswitch_arena_alloc(arena, size)
                          : heapswitch_arena_alloc_aligned(arena, (size_t)64 << (i % 5), size);
        CHECK(blocks[i] != NULL && (uintptr_t)blocks[i] % 16 == 0, "arena block %d", i);
        memset(blocks[i], i & 0xff, size);
    }
    for (int i = 0; i < 2000; i++)
        CHECK(blocks[i][0] == (i & 0xff) && blocks[i][(i * 37) % 700] == (i & 0xff),
              "arena block %d overwritten", i);
    CHECK(strcmp(heapswitch_arena_strndup(arena, "request-scoped", 7), "request") == 0,
          "strndup");
    CHECK(heapswitch_arena_alloc(arena, 1 << 20) != NULL, "a block bigger than a chunk");
    held = heapswitch_arena_bytes_held(arena);
    CHECK(held > (1 << 20), "held %zu after 1 MiB", held);
    heapswitch_arena_reset(arena);
    CHECK(heapswitch_arena_bytes_held(arena) == 16384, "reset keeps one chunk, holds %zu",
          heapswitch_arena_bytes_held(arena));
    again = heapswitch_arena_alloc(arena, 24);
    CHECK(again == first, "after reset the arena starts over (%p, %p)", (void *)first,
          (void *)again);
    errno = 0;
    CHECK(heapswitch_arena_alloc_aligned(arena, 3, 10) == NULL && errno == EINVAL,
          "a bad alignment is EINVAL");
    errno = 0;
    CHECK(heapswitch_arena_alloc(arena, SIZE_MAX - 8) == NULL && errno == ENOMEM,
          "an impossible size is ENOMEM");
    heapswitch_arena_destroy(arena);
}

static void *volatile sink;
static char *held[64][1100];

/* The arena's mapped bytes, from this process's own segment (refreshed
 * at most every 250 ms: wait, then allocate). */
static uint64_t mapped_now(void)
{
    struct heapswitch_snapshot snapshot;
    struct timespec pause = {0, 300 * 1000 * 1000};
    char why[256];

    nanosleep(&pause, NULL);
    for (int i = 0; i < 1024; i++) {
        sink = malloc(32);
        free(sink);
    }
    if (heapswitch_read_pid(getpid(), &snapshot, why, sizeof why) != 0) {
        CHECK(0, "cannot read my segment: %s", why);
        return 0;
    }
    return snapshot.heap.mapped;
}

static void arena_backend(void)
{
    char *a, *b, *grown;
    uintptr_t first_address = 0;
    uint64_t mapped_after_requests, mapped_after_mix;
    void *pinned[64];
    struct heapswitch_snapshot snapshot;
    struct timespec pause = {0, 300 * 1000 * 1000};
    char why[256];

    /* The last block of the current chunk grows in place (first: the
     * thread's first chunk still has room). */
    b = malloc(40);
    first_address = (uintptr_t)b;
    grown = realloc(b, 4000);
    CHECK((uintptr_t)grown == first_address, "realloc of the last block moved it");
    free(grown);

    /* Request-scoped use reuses its memory: 1000 requests of 300 blocks
     * (65 MB in all) run in a few chunks, rewound or walked again. */
    for (int request = 0; request < 1000; request++) {
        char *parts[300];
        for (int i = 0; i < 300; i++)
            parts[i] = malloc(16 + (size_t)(i % 50) * 8);
        for (int i = 0; i < 300; i++)
            free(parts[i]);
    }
    mapped_after_requests = mapped_now();
    CHECK(mapped_after_requests > 0 && mapped_after_requests <= (uint64_t)8 << 20,
          "1000 requests of 65 KB each: %llu bytes mapped",
          (unsigned long long)mapped_after_requests);

    /* One long-lived block in every 1100 freed: a request's worth later,
     * their free space is walked and bumped through again. */
    for (int chunk = 0; chunk < 64; chunk++) {
        char *filler[1100];
        for (int i = 0; i < 1100; i++)
            filler[i] = malloc(1000);
        pinned[chunk] = filler[0];
        for (int i = 1; i < 1100; i++)
            free(filler[i]);
    }
    mapped_after_mix = mapped_now();
    CHECK(mapped_after_mix <= mapped_after_requests + ((uint64_t)4 << 20),
          "64 long-lived blocks among 70 MB freed: %llu bytes mapped",
          (unsigned long long)mapped_after_mix);
    for (int chunk = 0; chunk < 64; chunk++)
        free(pinned[chunk]);

    /* Beyond a chunk, and aligned beyond a chunk. */
    a = malloc(8 << 20);
    CHECK(a != NULL && malloc_usable_size(a) >= (8u << 20), "an 8 MiB block");
    memset(a, 1, 8 << 20);
    free(a);
    a = aligned_alloc(4 << 20, 100);
    CHECK(a != NULL && (uintptr_t)a % (4u << 20) == 0, "aligned to 4 MiB");
    free(a);

    /* A program that stops allocating: one block kept in each of 64
     * chunks pins them all, and the fragmentation figure shows it. */
    for (int chunk = 0; chunk < 64; chunk++)
        for (int i = 0; i < 1100; i++)
            held[chunk][i] = malloc(1000);
    for (int chunk = 0; chunk < 64; chunk++) {
        pinned[chunk] = held[chunk][0];
        for (int i = 1; i < 1100; i++)
            free(held[chunk][i]);
    }
    nanosleep(&pause, NULL);
    for (int i = 0; i < 1024; i++) {
        sink = malloc(32);
        free(sink);
    }
    if (heapswitch_read_pid(getpid(), &snapshot, why, sizeof why) == 0) {
        CHECK(snapshot.heap.resident >= (uint64_t)64 << 20,
              "64 pinned chunks, resident %llu", (unsigned long long)snapshot.heap.resident);
        CHECK(snapshot.fragmentation > 0.9, "pinned chunks show as fragmentation %.3f",
              snapshot.fragmentation);
        printf("arena: 64 blocks of 1000 B pin %.1f MiB: fragmentation %.3f\n",
               (double)snapshot.heap.resident / 1048576, snapshot.fragmentation);
    } else {
        CHECK(0, "cannot read my segment: %s", why);
    }
    for (int chunk = 0; chunk < 64; chunk++)
        free(pinned[chunk]);
}

int main(void)
{
    explicit_arenas();
    if (strcmp(test_expected_backend(), "arena") == 0)
        arena_backend();
    return test_finish("arena");
}
