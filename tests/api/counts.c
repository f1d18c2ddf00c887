/* Counters are exact: a program that makes exactly N calls of each kind,
 * from 1 thread or from 8, reads back exactly N more of each from its own
 * segment, with the exact bytes (usable sizes) and size classes. The
 * reader allocates nothing, so reading does not disturb the counts. */
#include "config.h"

#include <pthread.h>
#include <stdint.h>
#include <unistd.h>

#include "include/heapswitch.h"
#include "tests/harness.h"

/* 8 threads own a slot each; 150 are more than the segment's slots, so
 * some share the last slot, with atomic adds. */
enum { THREADS = 8, MANY_THREADS = 150, ROUNDS = 2000, FEW_ROUNDS = 200 };

struct expected {
    uint64_t malloc_calls, calloc_calls, realloc_calls, free_calls, aligned_calls;
    uint64_t failures, requested, allocated, freed, requests;
    uint64_t size_classes[HEAPSWITCH_SIZE_CLASSES];
};

static pthread_barrier_t start_line, finish_line, leave_line;
static struct expected expectations[MANY_THREADS];
static unsigned rounds_per_thread;
static volatile size_t impossible = SIZE_MAX / 2;
static void *volatile null_block; /* the compiler drops a literal free(NULL) */
/* From the preloaded library: this program links only the reader. */
static void (*request_done)(void);

static unsigned size_class(size_t size)
{
    unsigned size_class = size == 0 ? 0 : 64 - (unsigned)__builtin_clzl(size);
    return size_class < HEAPSWITCH_SIZE_CLASSES ? size_class : HEAPSWITCH_SIZE_CLASSES - 1;
}

static void note_alloc(struct expected *e, size_t requested, void *block)
{
    e->requested += requested;
    e->allocated += malloc_usable_size(block);
    e->size_classes[size_class(requested)]++;
}

/* Exactly these calls, with their expected effect on the counters. */
static void work(struct expected *e, unsigned seed, unsigned rounds)
{
    for (unsigned round = 0; round < rounds; round++) {
        size_t size = 1 + (seed * 7919u + round * 104729u) % 5000;
        char *a = malloc(size), *b = calloc(3, size), *c;
        void *d = NULL;

        note_alloc(e, size, a);
        note_alloc(e, 3 * size, b);
        e->malloc_calls++;
        e->calloc_calls++;
        a[0] = (char)round;
        e->freed += malloc_usable_size(a);
        c = realloc(a, size * 2 + 1);
        note_alloc(e, size * 2 + 1, c);
        e->realloc_calls++;
        if (posix_memalign(&d, 64, size) == 0)
            note_alloc(e, size, d);
        e->aligned_calls++;
        e->freed += malloc_usable_size(b) + malloc_usable_size(c) + malloc_usable_size(d);
        free(b);
        free(c);
        free(d);
        free(null_block);
        e->free_calls += 4;
        if (round % 100 == 0) {
            /* A failing call counts as a call and a failure. */
            void *never = malloc(impossible);
            e->malloc_calls++;
            e->failures++;
            e->requested += impossible;
            e->size_classes[size_class(impossible)]++;
            free(never);
            e->free_calls++;
            request_done();
            e->requests++;
        }
    }
}

static void *thread_main(void *arg)
{
    struct expected *e = arg;

    pthread_barrier_wait(&start_line);
    work(e, (unsigned)(e - expectations), rounds_per_thread);
    pthread_barrier_wait(&finish_line);
    pthread_barrier_wait(&leave_line);
    return NULL;
}

static void read_self(struct heapswitch_snapshot *snapshot)
{
    char why[256];

    if (heapswitch_read_pid(getpid(), snapshot, why, sizeof why) != 0) {
        fprintf(stderr, "cannot read my own segment: %s\n", why);
        exit(1);
    }
}

#define CHECK_DELTA(field, want)                                                    \
    CHECK(after.field - before.field == (want), "%s: %s: got %llu, want %llu", label, \
          #field, (unsigned long long)(after.field - before.field),                 \
          (unsigned long long)(want))

/* What the process's counting level counts: usable bytes exactly (the
 * exact level, or the arena, which counts them in its own fast paths),
 * from the backend's books (jemalloc at the default level: they lag a
 * thread's last calls, so only their presence is checked), or not at all
 * (the byte counters must then stay 0). */
enum usable_counting { USABLE_EXACT, USABLE_BOOKS, USABLE_NONE };
static enum usable_counting usable_counting;

static void check_level(const struct heapswitch_snapshot *snapshot)
{
    const char *level = getenv("HEAPSWITCH_STATS");
    bool exact = level != NULL && strcmp(level, "exact") == 0;
    const char *backend = test_expected_backend();

    CHECK(snapshot->stats_level == (exact ? HEAPSWITCH_STATS_EXACT : HEAPSWITCH_STATS_DEFAULT),
          "counting level %d", (int)snapshot->stats_level);
    if (exact || strcmp(backend, "arena") == 0)
        usable_counting = USABLE_EXACT;
    else if (strcmp(backend, "jemalloc") == 0)
        usable_counting = USABLE_BOOKS;
    else
        usable_counting = USABLE_NONE;
    CHECK(snapshot->estimated == (usable_counting == USABLE_EXACT ? 0u
                                  : usable_counting == USABLE_BOOKS
                                      ? HEAPSWITCH_ESTIMATED_LIVE | HEAPSWITCH_ESTIMATED_SIZE_CLASSES
                                      : HEAPSWITCH_ESTIMATED_LIVE | HEAPSWITCH_UNCOUNTED_USABLE |
                                            HEAPSWITCH_ESTIMATED_SIZE_CLASSES),
          "estimated figures 0x%x under %s", snapshot->estimated, backend);
}

static void compare(const char *label, const struct heapswitch_counters *before_counters,
                    const struct heapswitch_counters *after_counters,
                    const struct expected *want, unsigned copies)
{
    const struct heapswitch_counters before = *before_counters, after = *after_counters;
    struct expected total;

    memset(&total, 0, sizeof total);
    for (unsigned i = 0; i < copies; i++) {
        total.malloc_calls += want[i].malloc_calls;
        total.calloc_calls += want[i].calloc_calls;
        total.realloc_calls += want[i].realloc_calls;
        total.free_calls += want[i].free_calls;
        total.aligned_calls += want[i].aligned_calls;
        total.failures += want[i].failures;
        total.requested += want[i].requested;
        total.allocated += want[i].allocated;
        total.freed += want[i].freed;
        total.requests += want[i].requests;
        for (unsigned c = 0; c < HEAPSWITCH_SIZE_CLASSES; c++)
            total.size_classes[c] += want[i].size_classes[c];
    }
    CHECK_DELTA(malloc_calls, total.malloc_calls);
    CHECK_DELTA(calloc_calls, total.calloc_calls);
    CHECK_DELTA(realloc_calls, total.realloc_calls);
    CHECK_DELTA(free_calls, total.free_calls);
    CHECK_DELTA(aligned_calls, total.aligned_calls);
    CHECK_DELTA(failures, total.failures);
    CHECK_DELTA(bytes_requested, total.requested);
    if (usable_counting == USABLE_EXACT) {
        CHECK_DELTA(bytes_allocated, total.allocated);
        CHECK_DELTA(bytes_freed, total.freed);
    } else if (usable_counting == USABLE_NONE) {
        CHECK_DELTA(bytes_allocated, 0);
        CHECK_DELTA(bytes_freed, 0);
    } else {
        CHECK(after.bytes_allocated > 0, "%s: no usable bytes from the backend's books", label);
    }
    CHECK_DELTA(requests, total.requests);
    if (usable_counting == USABLE_EXACT) {
        for (unsigned c = 0; c < HEAPSWITCH_SIZE_CLASSES; c++)
            CHECK_DELTA(size_classes[c], total.size_classes[c]);
    } else {
        /* malloc's classes are sampled, one call in 256 of each thread
         * weighted 256: the total is within 256 a thread of the calls. */
        uint64_t got = 0, want_total = 0;
        for (unsigned c = 0; c < HEAPSWITCH_SIZE_CLASSES; c++) {
            got += after.size_classes[c] - before.size_classes[c];
            want_total += total.size_classes[c];
        }
        CHECK(got + 256 * (copies + 1) >= want_total && got <= want_total + 256 * (copies + 1),
              "%s: size classes sum to %llu, want %llu within %u", label,
              (unsigned long long)got, (unsigned long long)want_total, 256 * (copies + 1));
    }
}

static void run_threads(const char *label, unsigned count, unsigned rounds)
{
    struct heapswitch_snapshot before, after;
    pthread_t threads[MANY_THREADS];

    memset(expectations, 0, sizeof expectations);
    rounds_per_thread = rounds;
    pthread_barrier_init(&start_line, NULL, count + 1);
    pthread_barrier_init(&finish_line, NULL, count + 1);
    pthread_barrier_init(&leave_line, NULL, count + 1);
    for (unsigned t = 0; t < count; t++)
        CHECK(pthread_create(&threads[t], NULL, thread_main, &expectations[t]) == 0,
              "pthread_create");
    read_self(&before);
    pthread_barrier_wait(&start_line);
    pthread_barrier_wait(&finish_line);
    read_self(&after);
    CHECK(after.threads >= (count < 100 ? count + 1 : 100), "%s: %u threads publishing",
          label, after.threads);
    if (count > 120)
        CHECK(after.overflow_threads > 0, "%s: no thread had to share a slot", label);
    pthread_barrier_wait(&leave_line);
    for (unsigned t = 0; t < count; t++)
        pthread_join(threads[t], NULL);
    pthread_barrier_destroy(&start_line);
    pthread_barrier_destroy(&finish_line);
    pthread_barrier_destroy(&leave_line);
    compare(label, &before.counters, &after.counters, expectations, count);
}

int main(void)
{
    struct heapswitch_snapshot before, after;

    request_done = (void (*)(void))dlsym(RTLD_DEFAULT, "heapswitch_request_done");
    if (request_done == NULL) {
        fprintf(stderr, "libheapswitch is not preloaded\n");
        return 1;
    }
    /* One thread: the main one. */
    read_self(&before);
    work(&expectations[0], 0, ROUNDS);
    read_self(&after);
    CHECK(strcmp(after.backend, test_expected_backend()) == 0, "backend %s", after.backend);
    check_level(&after);
    compare("1 thread", &before.counters, &after.counters, expectations, 1);

    /* Every request size up to past 16 KiB: the counters' usable size of
     * each new block is exactly the backend's own. */
    memset(expectations, 0, sizeof expectations);
    read_self(&before);
    for (size_t size = 0; size <= 16500; size++) {
        void *block = size % 2 ? malloc(size) : calloc(1, size);
        note_alloc(&expectations[0], size, block);
        if (size % 2)
            expectations[0].malloc_calls++;
        else
            expectations[0].calloc_calls++;
        expectations[0].freed += malloc_usable_size(block);
        free(block);
        expectations[0].free_calls++;
    }
    read_self(&after);
    compare("every size", &before.counters, &after.counters, expectations, 1);

    /* Threads created before and joined after the measurement, so the
     * loader's own allocations for them stay outside it. */
    run_threads("8 threads", THREADS, ROUNDS);
    run_threads("150 threads", MANY_THREADS, FEW_ROUNDS);
    return test_finish("counts");
}
