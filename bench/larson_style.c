/* larson_style: the server pattern of the public larson benchmark.
 *
 * Each of T threads owns a range of SLOTS slots of a shared array and
 * ROUNDS times frees the block of a random slot of its range and
 * allocates a new one of a random size (MIN..MAX bytes) in its place.
 * Then it exits and a new thread takes over its range, freeing the
 * blocks its predecessor allocated: blocks cross threads, and threads
 * come and go (GENERATIONS per range), as in a server's worker pool.
 * Fixed seeds; plain libc and pthreads, the allocator is chosen from
 * outside by LD_PRELOAD.
 *
 * Output: threads=T generations=G seconds=S ops_per_second=F
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

#define SLOTS 1000
#define MIN_SIZE 10
#define MAX_SIZE 500
#define MAX_THREADS 256

static void **slots;
static unsigned long rounds = 200000;
static unsigned long generations = 10;
static volatile unsigned long sink;

struct range {
    unsigned long first;
    uint64_t seed;
};

static void *new_block(uint64_t *state)
{
    size_t size = MIN_SIZE + bench_next_random(state) % (MAX_SIZE - MIN_SIZE + 1);
    unsigned char *block = malloc(size);

    if (block == NULL) {
        fprintf(stderr, "larson_style: out of memory\n");
        exit(1);
    }
    block[0] = (unsigned char)size;
    block[size - 1] = 1;
    return block;
}

static void *worker(void *argument)
{
    struct range *range = argument;
    uint64_t state = range->seed;

    for (unsigned long n = 0; n < rounds; n++) {
        unsigned long slot = range->first + bench_next_random(&state) % SLOTS;
        sink += *(volatile unsigned char *)slots[slot];
        free(slots[slot]);
        slots[slot] = new_block(&state);
    }
    range->seed = state;
    return NULL;
}

int main(int argc, char **argv)
{
    unsigned long threads = 2;
    struct range ranges[MAX_THREADS];
    pthread_t ids[MAX_THREADS];
    struct timespec start, end;
    uint64_t state = 0x2545f4914f6cdd1du;
    double seconds;
    int option;

    while ((option = getopt(argc, argv, "t:n:g:h")) != -1) {
        switch (option) {
        case 't': threads = bench_parse_count("larson_style", optarg, "thread count", MAX_THREADS); break;
        case 'n': rounds = bench_parse_count("larson_style", optarg, "round count", 1000000000); break;
        case 'g': generations = bench_parse_count("larson_style", optarg, "generation count", 1000000); break;
        case 'h':
            printf("usage: larson_style [-t THREADS] [-n ROUNDS] [-g GENERATIONS]\n");
            return 0;
        default:
            fprintf(stderr, "usage: larson_style [-t THREADS] [-n ROUNDS] [-g GENERATIONS]\n");
            return 2;
        }
    }
    slots = malloc(threads * SLOTS * sizeof *slots);
    if (slots == NULL)
        return 1;
    for (unsigned long i = 0; i < threads * SLOTS; i++)
        slots[i] = new_block(&state);
    for (unsigned long t = 0; t < threads; t++)
        ranges[t] = (struct range){t * SLOTS, state ^ (t + 1) * 0x9e3779b97f4a7c15u};
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (unsigned long g = 0; g < generations; g++) {
        for (unsigned long t = 0; t < threads; t++)
            if (pthread_create(&ids[t], NULL, worker, &ranges[t]) != 0) {
                fprintf(stderr, "larson_style: cannot create a thread\n");
                return 1;
            }
        for (unsigned long t = 0; t < threads; t++)
            pthread_join(ids[t], NULL);
    }
    clock_gettime(CLOCK_MONOTONIC, &end);
    for (unsigned long i = 0; i < threads * SLOTS; i++)
        free(slots[i]);
    free(slots);
    seconds = (double)(end.tv_sec - start.tv_sec) + (double)(end.tv_nsec - start.tv_nsec) / 1e9;
    printf("threads=%lu generations=%lu seconds=%.4f ops_per_second=%.0f\n", threads,
           generations, seconds, (double)threads * (double)generations * (double)rounds / seconds);
    return 0;
}
