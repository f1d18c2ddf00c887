/* 10,000 thread create/exit cycles, each thread allocating and handing
 * blocks to the main thread to free (cross-thread frees), two at a time. */
#include "config.h"

#include <pthread.h>
#include <stdint.h>

#include "tests/harness.h"

enum { CYCLES = 10000, PER_THREAD = 8 };

struct work {
    unsigned seed;
    void *handed_over[PER_THREAD];
};

static void *thread_main(void *arg)
{
    struct work *work = arg;
    void *local[PER_THREAD];

    for (int i = 0; i < PER_THREAD; i++) {
        size_t size = 8 + (work->seed * 2654435761u + (unsigned)i * 97) % 8192;
        local[i] = malloc(size);
        memset(local[i], i, size);
        work->handed_over[i] = calloc(1, size);
        ((unsigned char *)work->handed_over[i])[size - 1] = (unsigned char)work->seed;
    }
    for (int i = 0; i < PER_THREAD; i++)
        free(local[i]);
    return work;
}

int main(void)
{
    struct work works[2];
    int failed_creates = 0;

    for (unsigned cycle = 0; cycle < CYCLES; cycle += 2) {
        pthread_t threads[2];
        for (int t = 0; t < 2; t++) {
            works[t].seed = cycle + (unsigned)t;
            if (pthread_create(&threads[t], NULL, thread_main, &works[t]) != 0)
                failed_creates++;
        }
        for (int t = 0; t < 2; t++) {
            void *result = NULL;
            pthread_join(threads[t], &result);
            CHECK(result == &works[t], "thread result");
            for (int i = 0; i < PER_THREAD; i++)
                free(works[t].handed_over[i]);
        }
    }
    CHECK(failed_creates == 0, "%d pthread_create calls failed", failed_creates);
    return test_finish("threads");
}
