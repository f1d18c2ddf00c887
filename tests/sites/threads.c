/* Call-site sampling from several threads: THREADS threads, each with a
 * site of its own and one site they all share, at the same time; every
 * estimate within 10% of the truth, and the shared site's blocks, freed
 * by another thread than the one that made them, leave it.
 * HEAPSWITCH_SAMPLE=4k (re-executes itself with it when unset).
 * Statistics: per thread 32,768 blocks of 512 B (p = 0.118, relative
 * standard deviation 1.6%); the shared site 4 x 16,384 blocks of 1 KiB
 * (p = 0.22, 0.6%): 10% is over 6 of them. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "tests/harness.h"
#include "tests/sites/sites_read.h"

#define THREADS 4
#define OWN_COUNT 32768
#define OWN_SIZE 512
#define SHARED_COUNT 16384
#define SHARED_SIZE 1024

void *thread_site_0(void);
void *thread_site_1(void);
void *thread_site_2(void);
void *thread_site_3(void);
void *shared_site(void);

#define DEFINE_SITE(name, size)                                                                   \
    __attribute__((noinline)) void *name(void)                                                    \
    {                                                                                             \
        void *block = malloc(size);                                                               \
        __asm__ volatile("" ::: "memory");                                                        \
        return block;                                                                             \
    }
DEFINE_SITE(thread_site_0, OWN_SIZE)
DEFINE_SITE(thread_site_1, OWN_SIZE)
DEFINE_SITE(thread_site_2, OWN_SIZE)
DEFINE_SITE(thread_site_3, OWN_SIZE)
DEFINE_SITE(shared_site, SHARED_SIZE)

static void *(*const own_sites[THREADS])(void) = {thread_site_0, thread_site_1, thread_site_2,
                                                  thread_site_3};
static void **shared_blocks[THREADS];
static pthread_barrier_t start;

static void *worker(void *arg)
{
    uintptr_t index = (uintptr_t)arg;

    pthread_barrier_wait(&start);
    for (int i = 0; i < OWN_COUNT; i++) {
        free(own_sites[index]());
        if (i < SHARED_COUNT)
            shared_blocks[index][i] = shared_site();
    }
    return NULL;
}

int main(int argc, char **argv)
{
    pthread_t threads[THREADS];
    struct sites_snapshot snapshot;
    char name[32];

    (void)argc;
    sites_reexec_with_sampling(argv, "4k");
    pthread_barrier_init(&start, NULL, THREADS);
    for (uintptr_t t = 0; t < THREADS; t++) {
        shared_blocks[t] = malloc(SHARED_COUNT * sizeof(void *));
        pthread_create(&threads[t], NULL, worker, (void *)t);
    }
    for (int t = 0; t < THREADS; t++)
        pthread_join(threads[t], NULL);
    /* Blocks freed by another thread than their own. */
    for (int t = 0; t < THREADS; t++)
        for (int i = 0; i < SHARED_COUNT / 2; i++)
            free(shared_blocks[(t + 1) % THREADS][i]);
    if (sites_snapshot_read(&snapshot) != 0)
        return 1;
    for (int t = 0; t < THREADS; t++) {
        struct site_totals got;

        snprintf(name, sizeof name, "thread_site_%d", t);
        got = sites_for_function(&snapshot, name);
        printf("%s: %llu samples; allocations %.0f (true %d), bytes %.0f (true %d), live %.0f\n",
               name, (unsigned long long)got.samples, got.allocations, OWN_COUNT, got.bytes,
               OWN_COUNT * OWN_SIZE, got.live_bytes);
        CHECK(sites_close(got.allocations, OWN_COUNT, 0.10), "%s allocations", name);
        CHECK(sites_close(got.bytes, (double)OWN_COUNT * OWN_SIZE, 0.10), "%s bytes", name);
        CHECK(got.live_bytes == 0, "%s live %.0f", name, got.live_bytes);
    }
    {
        struct site_totals got = sites_for_function(&snapshot, "shared_site");
        double count = (double)THREADS * SHARED_COUNT;

        printf("shared_site: %llu samples in %u entries; allocations %.0f (true %.0f), bytes "
               "%.0f, live %.0f (true %.0f)\n",
               (unsigned long long)got.samples, got.entries, got.allocations, count, got.bytes,
               got.live_bytes, count / 2 * SHARED_SIZE);
        CHECK(sites_close(got.allocations, count, 0.10), "shared_site allocations");
        CHECK(sites_close(got.bytes, count * SHARED_SIZE, 0.10), "shared_site bytes");
        CHECK(sites_close(got.live_bytes, count / 2 * SHARED_SIZE, 0.10), "shared_site live");
    }
    sites_snapshot_free(&snapshot);
    return test_finish("sites threads");
}
