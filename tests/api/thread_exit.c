/* Threads whose only calls come at their exit, after their destructors
 * have run (glibc frees its per-thread buffers then): heapswitch must
 * neither set up backend state it would leak there (jemalloc's thread
 * cache: a later heap refresh walked the dead thread's cache and
 * crashed), nor lose the counter slot such a thread took, nor go on
 * reporting it as a live thread. Each round's
 * threads outlive the 250 ms refresh interval, so that the main thread's
 * next calls refresh the heap figures with the dead threads behind them. */
#include "config.h"

#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "include/heapswitch.h"
#include "tests/harness.h"

enum { SLOW_ROUNDS = 6, FAST_THREADS = 300, CALLS_PER_ROUND = 2000 };

static void *idle_thread(void *arg)
{
    usleep(300 * 1000);
    return arg;
}

/* strerror of an unknown number formats into a buffer glibc allocates
 * for the thread and frees at its exit. */
static void *strerror_thread(void *arg)
{
    (void)strerror(12345);
    return arg;
}

static void *nothing_thread(void *arg)
{
    return arg;
}

/* A destructor that sets its key again until glibc's last round of
 * destructors, then allocates: the thread's slot is claimed when no
 * destructor will run again to give it back, so only taking over the
 * slots of exited threads keeps them from running out. */
static pthread_key_t late_key;

static void late_destructor(void *value)
{
    uintptr_t round = (uintptr_t)value;

    if (round < PTHREAD_DESTRUCTOR_ITERATIONS) {
        pthread_setspecific(late_key, (void *)(round + 1));
        return;
    }
    char *volatile block = malloc(32);
    if (block != NULL)
        block[0] = 1;
    free(block);
}

static void *late_thread(void *arg)
{
    pthread_setspecific(late_key, (void *)1);
    return arg;
}

static void run_threads(void *(*body)(void *), int count)
{
    for (int i = 0; i < count; i++) {
        pthread_t thread;
        CHECK(pthread_create(&thread, NULL, body, NULL) == 0, "pthread_create");
        pthread_join(thread, NULL);
    }
}

/* Enough calls to reach the every-256-calls look at the clock. */
static void churn(void)
{
    for (int i = 0; i < CALLS_PER_ROUND; i++) {
        char *volatile block = malloc(16 + (size_t)i % 4000);
        CHECK(block != NULL, "malloc");
        block[0] = 1;
        free(block);
    }
}

int main(void)
{
    struct heapswitch_snapshot snapshot;
    char why[256];

    for (int round = 0; round < SLOW_ROUNDS; round++) {
        pthread_t threads[3];
        for (int t = 0; t < 3; t++)
            CHECK(pthread_create(&threads[t], NULL, t == 2 ? strerror_thread : idle_thread,
                                 NULL) == 0,
                  "pthread_create");
        for (int t = 0; t < 3; t++)
            pthread_join(threads[t], NULL);
        churn();
    }
    usleep(300 * 1000);
    churn();
    /* More exiting threads than the segment has slots. */
    run_threads(nothing_thread, FAST_THREADS);
    run_threads(strerror_thread, FAST_THREADS);
    CHECK(pthread_key_create(&late_key, late_destructor) == 0, "pthread_key_create");
    run_threads(late_thread, FAST_THREADS);
    /* Past the refresh interval, so that the next calls refresh. */
    usleep(300 * 1000);
    churn();

    if (heapswitch_read_pid(getpid(), &snapshot, why, sizeof why) == 0) {
        CHECK(snapshot.overflow_threads == 0,
              "%u threads had to share the last slot: slots of exited threads were lost",
              snapshot.overflow_threads);
        CHECK(snapshot.threads <= 2, "%u threads still own slots, want at most 2",
              snapshot.threads);
    } else {
        CHECK(getenv("HEAPSWITCH_STATS") != NULL, "cannot read my own segment: %s", why);
    }
    return test_finish("thread_exit");
}
