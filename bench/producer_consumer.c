/* producer_consumer: blocks allocated in one thread and freed in another,
 * in batches, the pattern of the public xmalloc-test benchmark.
 *
 * Each of T threads loops: allocate a batch of BATCH blocks (sizes
 * 8..MAX bytes, uniform, fixed-seed PRNG per thread), push the batch onto
 * a shared stack, pop a batch (most often one another thread made) and
 * free its blocks. The stack is a mutex-protected list of batch headers:
 * its cost is the same under every allocator. Prints the wall time and
 * frees per second; plain libc and pthreads, the allocator is chosen from
 * outside by LD_PRELOAD.
 *
 * Output: threads=T batches=N seconds=S frees_per_second=F
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench/common.h"

#define BATCH 4096
#define MAX_THREADS 256

struct batch {
    struct batch *next;
    void *blocks[BATCH];
};

static pthread_mutex_t stack_lock = PTHREAD_MUTEX_INITIALIZER;
static struct batch *stack_top;
static size_t max_size = 64;
static unsigned long batches_per_thread = 2000;
static pthread_barrier_t start_barrier;
static volatile unsigned long sink;

static void push(struct batch *batch)
{
    pthread_mutex_lock(&stack_lock);
    batch->next = stack_top;
    stack_top = batch;
    pthread_mutex_unlock(&stack_lock);
}

static struct batch *pop(void)
{
    struct batch *batch;

    pthread_mutex_lock(&stack_lock);
    batch = stack_top;
    if (batch != NULL)
        stack_top = batch->next;
    pthread_mutex_unlock(&stack_lock);
    return batch;
}

static void free_batch(struct batch *batch)
{
    for (size_t i = 0; i < BATCH; i++) {
        sink += *(volatile unsigned char *)batch->blocks[i];
        free(batch->blocks[i]);
    }
    free(batch);
}

static void *worker(void *argument)
{
    uint64_t state = 0x9e3779b97f4a7c15u ^ (uintptr_t)argument;

    pthread_barrier_wait(&start_barrier);
    for (unsigned long n = 0; n < batches_per_thread; n++) {
        struct batch *batch = malloc(sizeof *batch), *other;

        if (batch == NULL) {
            fprintf(stderr, "producer_consumer: out of memory\n");
            exit(1);
        }
        for (size_t i = 0; i < BATCH; i++) {
            size_t size = 8 + bench_next_random(&state) % (max_size - 7);
            unsigned char *block = malloc(size);
            if (block == NULL) {
                fprintf(stderr, "producer_consumer: out of memory\n");
                exit(1);
            }
            block[0] = (unsigned char)size;
            batch->blocks[i] = block;
        }
        push(batch);
        other = pop();
        if (other != NULL)
            free_batch(other);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    unsigned long threads = 2;
    pthread_t ids[MAX_THREADS];
    struct timespec start, end;
    struct batch *left;
    double seconds;
    int option;

    while ((option = getopt(argc, argv, "t:n:s:h")) != -1) {
        switch (option) {
        case 't': threads = bench_parse_count("producer_consumer", optarg, "thread count", MAX_THREADS); break;
        case 'n': batches_per_thread = bench_parse_count("producer_consumer", optarg, "batch count", 100000000); break;
        case 's': max_size = bench_parse_count("producer_consumer", optarg, "maximum size", 1 << 20); break;
        case 'h':
            printf("usage: producer_consumer [-t THREADS] [-n BATCHES] [-s MAXSIZE]\n");
            return 0;
        default:
            fprintf(stderr, "usage: producer_consumer [-t THREADS] [-n BATCHES] [-s MAXSIZE]\n");
            return 2;
        }
    }
    if (max_size < 8)
        max_size = 8;
    pthread_barrier_init(&start_barrier, NULL, (unsigned)threads + 1);
    for (unsigned long t = 0; t < threads; t++)
        if (pthread_create(&ids[t], NULL, worker, (void *)(uintptr_t)(t + 1)) != 0) {
            fprintf(stderr, "producer_consumer: cannot create a thread\n");
            return 1;
        }
    clock_gettime(CLOCK_MONOTONIC, &start);
    pthread_barrier_wait(&start_barrier);
    for (unsigned long t = 0; t < threads; t++)
        pthread_join(ids[t], NULL);
    clock_gettime(CLOCK_MONOTONIC, &end);
    while ((left = pop()) != NULL)
        free_batch(left);
    seconds = (double)(end.tv_sec - start.tv_sec) + (double)(end.tv_nsec - start.tv_nsec) / 1e9;
    printf("threads=%lu batches=%lu seconds=%.4f frees_per_second=%.0f\n", threads,
           batches_per_thread, seconds,
           (double)threads * (double)batches_per_thread * BATCH / seconds);
    return 0;
}
