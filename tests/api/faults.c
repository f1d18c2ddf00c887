/* HEAPSWITCH_FAULT_EVERY=10 (set by this program for itself, through a
 * re-exec): every 10th allocating call fails with ENOMEM; the failures
 * reach the caller and the counters exactly, and nothing else breaks. */
#include "config.h"

#include <errno.h>
#include <unistd.h>

#include "include/heapswitch.h"
#include "tests/harness.h"

enum { CALLS = 10000 };

int main(int argc, char **argv)
{
    struct heapswitch_snapshot before, after;
    char why[256];
    int nulls = 0, wrong_errno = 0;
    void *blocks[64] = {0};

    if (getenv("HEAPSWITCH_FAULT_EVERY") == NULL) {
        setenv("HEAPSWITCH_FAULT_EVERY", "10", 1);
        execv("/proc/self/exe", argv);
        perror("re-exec");
        return 1;
    }
    (void)argc;
    if (heapswitch_read_pid(getpid(), &before, why, sizeof why) != 0) {
        fprintf(stderr, "%s\n", why);
        return 1;
    }
    /* Exactly CALLS allocating calls of the four kinds; frees never fail. */
    for (int i = 0; i < CALLS; i++) {
        void *block = NULL;
        int slot = i % 64;
        errno = 0;
        switch (i % 4) {
        case 0: block = malloc(24 + (size_t)i % 100); break;
        case 1: block = calloc(3, 8); break;
        case 2: block = realloc(blocks[slot], 48); if (block != NULL) blocks[slot] = NULL; break;
        default: block = aligned_alloc(64, 64); break;
        }
        if (block == NULL) {
            nulls++;
            wrong_errno += errno != ENOMEM;
            continue;
        }
        free(blocks[slot]);
        blocks[slot] = block;
    }
    if (heapswitch_read_pid(getpid(), &after, why, sizeof why) != 0) {
        fprintf(stderr, "%s\n", why);
        return 1;
    }
    for (int i = 0; i < 64; i++)
        free(blocks[i]);
    /* The calls between the two reads are exactly CALLS, so 1 in 10 failed. */
    CHECK(nulls == CALLS / 10, "%d of %d calls failed, want %d", nulls, CALLS, CALLS / 10);
    CHECK(wrong_errno == 0, "%d failures without ENOMEM", wrong_errno);
    CHECK(after.counters.failures - before.counters.failures == (uint64_t)nulls,
          "counted %llu failures for %d", (unsigned long long)(after.counters.failures -
                                                                before.counters.failures),
          nulls);
    /* Failed calls count in the size histogram too: every one of them. */
    uint64_t classified = 0;
    for (unsigned c = 0; c < HEAPSWITCH_SIZE_CLASSES; c++)
        classified += after.counters.size_classes[c] - before.counters.size_classes[c];
    /* Exactly, where the histogram is counted at every call; at the
     * default level malloc's share is sampled 1 in 256 (weighted 256). */
    if (after.estimated & HEAPSWITCH_ESTIMATED_SIZE_CLASSES)
        CHECK(classified + 256 >= CALLS && classified <= CALLS + 256,
              "the size histogram gained %llu calls for %d (within 256)",
              (unsigned long long)classified, CALLS);
    else
        CHECK(classified == CALLS, "the size histogram gained %llu calls for %d",
              (unsigned long long)classified, CALLS);
    return test_finish("faults");
}
