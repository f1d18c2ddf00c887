/* The heap figures a process publishes agree with its backend's own
 * statistics read directly (jemalloc mallctl, mimalloc mi_process_info,
 * glibc mallinfo2), and fragmentation is 1 - live / resident. */
#include "config.h"

#include <time.h>
#include <unistd.h>

#include "include/heapswitch.h"
#include "tests/harness.h"

enum { BLOCKS = 4096, BLOCK_SIZE = 16384 }; /* 64 MiB live */

/* The backend's own idea of the bytes it holds resident. */
static size_t backend_resident(const char *backend)
{
    if (strcmp(backend, "arena") == 0)
        return 0; /* no API of its own beyond what it publishes */
    if (strcmp(backend, "jemalloc") == 0) {
        int (*ctl)(const char *, void *, size_t *, void *, size_t) =
            (int (*)(const char *, void *, size_t *, void *, size_t))dlsym(RTLD_DEFAULT,
                                                                            "mallctl");
        uint64_t epoch = 1;
        size_t resident = 0, length = sizeof epoch;
        ctl("epoch", &epoch, &length, &epoch, length);
        length = sizeof resident;
        ctl("stats.resident", &resident, &length, NULL, 0);
        return resident;
    }
    if (strcmp(backend, "mimalloc") == 0) {
        void (*info)(size_t *, size_t *, size_t *, size_t *, size_t *, size_t *, size_t *,
                     size_t *) =
            (void (*)(size_t *, size_t *, size_t *, size_t *, size_t *, size_t *, size_t *,
                      size_t *))dlsym(RTLD_DEFAULT, "mi_process_info");
        size_t a, b, c, d, e, committed = 0, f, g;
        info(&a, &b, &c, &d, &e, &committed, &f, &g);
        return committed;
    }
    struct mallinfo2 glibc = mallinfo2();
    return glibc.arena + glibc.hblkhd;
}

static void *volatile keep[BLOCKS];

int main(void)
{
    const char *backend = test_expected_backend();
    struct heapswitch_snapshot snapshot;
    struct timespec pause = {0, 300 * 1000 * 1000};
    char why[256];
    size_t own, published;
    double expected_fragmentation;

    for (int i = 0; i < BLOCKS; i++) {
        keep[i] = malloc(BLOCK_SIZE);
        memset(keep[i], i, BLOCK_SIZE);
    }
    /* Figures refresh from the allocation path at most every 250 ms. */
    nanosleep(&pause, NULL);
    for (int i = 0; i < 1024; i++) {
        void *volatile churn = malloc(32);
        free(churn);
    }
    own = backend_resident(backend);
    CHECK(heapswitch_read_pid(getpid(), &snapshot, why, sizeof why) == 0, "read: %s", why);
    published = snapshot.heap.resident;
    CHECK(snapshot.heap.valid, "heap figures published");
    CHECK(snapshot.heap.age_seconds >= 0 && snapshot.heap.age_seconds < 1.0,
          "figures are %.3f s old", snapshot.heap.age_seconds);
    CHECK(snapshot.live_bytes >= (uint64_t)BLOCKS * BLOCK_SIZE,
          "live %llu < the 64 MiB held", (unsigned long long)snapshot.live_bytes);
    if (strcmp(backend, "arena") == 0)
        /* The arena's resident is its mapped chunks: the 64 MiB live plus
         * each chunk's unused tail and the thread's current chunk. */
        CHECK(published >= snapshot.live_bytes &&
                  published <= snapshot.live_bytes + snapshot.live_bytes / 10 + (4u << 20),
              "arena: published resident %zu for %llu live", published,
              (unsigned long long)snapshot.live_bytes);
    else
        CHECK(published >= own * 0.95 && published <= own * 1.05,
              "%s: published resident %zu, the backend itself says %zu", backend, published,
              own);
    expected_fragmentation = 1.0 - (double)snapshot.live_bytes / (double)published;
    if (expected_fragmentation < 0)
        expected_fragmentation = 0;
    CHECK(snapshot.fragmentation >= expected_fragmentation - 1e-9 &&
              snapshot.fragmentation <= expected_fragmentation + 1e-9,
          "fragmentation %.6f, want %.6f", snapshot.fragmentation, expected_fragmentation);
    CHECK(snapshot.fragmentation >= 0 && snapshot.fragmentation < 0.5,
          "%s: with 64 MiB live in 16 KiB blocks fragmentation is %.3f", backend,
          snapshot.fragmentation);
    printf("%s: live %llu, resident %zu (backend says %zu), fragmentation %.4f\n", backend,
           (unsigned long long)snapshot.live_bytes, published, own, snapshot.fragmentation);
    for (int i = 0; i < BLOCKS; i++)
        free(keep[i]);
    return test_finish("heap_figures");
}
