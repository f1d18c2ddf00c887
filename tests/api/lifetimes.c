/* Blocks of mixed lifetimes across threads: four threads allocate blocks
 * of 1 to 300 bytes, each filled with its own pattern; one in twenty
 * goes into a shared ring where it lives on until another thread evicts
 * and frees it, the rest are freed at once. Every block is checked
 * before it is freed. Under the arena this is the path where retired
 * chunks, their long-lived blocks freed by other threads, are taken
 * again and their freed runs bumped through. */
#include "config.h"

#include <pthread.h>
#include <stdint.h>

#include "tests/harness.h"

enum { THREADS = 4, ROUNDS = 3000, PER_ROUND = 200, KEEP_EVERY = 20, RING = 20000 };

struct kept {
    char *block;
    size_t size;
    unsigned seed;
};

static struct kept ring[RING];
static pthread_mutex_t ring_lock = PTHREAD_MUTEX_INITIALIZER;
static int corrupt; /* under ring_lock */

static void fill(char *block, size_t size, unsigned seed)
{
    for (size_t i = 0; i < size; i++)
        block[i] = (char)(seed + i * 7);
}

static bool intact(const char *block, size_t size, unsigned seed)
{
    for (size_t i = 0; i < size; i++)
        if (block[i] != (char)(seed + i * 7))
            return false;
    return true;
}

static void note_corrupt(void)
{
    pthread_mutex_lock(&ring_lock);
    corrupt++;
    pthread_mutex_unlock(&ring_lock);
}

static void *worker(void *arg)
{
    unsigned seed = (unsigned)(uintptr_t)arg * 7919 + 1;

    for (int round = 0; round < ROUNDS; round++) {
        struct kept made[PER_ROUND];

        for (int i = 0; i < PER_ROUND; i++) {
            seed = seed * 1103515245 + 12345;
            made[i] = (struct kept){malloc(1 + (seed >> 8) % 300), 1 + (seed >> 8) % 300, seed};
            if (made[i].block == NULL)
                abort();
            fill(made[i].block, made[i].size, made[i].seed);
        }
        for (int i = 0; i < PER_ROUND; i++) {
            struct kept evicted = {0};

            if (!intact(made[i].block, made[i].size, made[i].seed))
                note_corrupt();
            if (i % KEEP_EVERY != 0) {
                free(made[i].block);
                continue;
            }
            pthread_mutex_lock(&ring_lock);
            evicted = ring[(seed + (unsigned)i) % RING];
            ring[(seed + (unsigned)i) % RING] = made[i];
            pthread_mutex_unlock(&ring_lock);
            if (evicted.block != NULL) {
                if (!intact(evicted.block, evicted.size, evicted.seed))
                    note_corrupt();
                free(evicted.block);
            }
        }
    }
    return NULL;
}

int main(void)
{
    pthread_t threads[THREADS];

    for (int t = 0; t < THREADS; t++)
        CHECK(pthread_create(&threads[t], NULL, worker, (void *)(uintptr_t)t) == 0, "thread");
    for (int t = 0; t < THREADS; t++)
        pthread_join(threads[t], NULL);
    for (int i = 0; i < RING; i++) {
        if (ring[i].block == NULL)
            continue;
        if (!intact(ring[i].block, ring[i].size, ring[i].seed))
            corrupt++;
        free(ring[i].block);
    }
    CHECK(corrupt == 0, "%d blocks changed while live", corrupt);
    return test_finish("lifetimes");
}
