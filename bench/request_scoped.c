/* A request-scoped workload: each request builds thousands of small
 * strings and a few growing vectors, uses them, and drops them all at its
 * end, the way request handlers in services do. Prints requests per
 * second and a checksum (equal under every allocator).
 *
 * With -k K, every K-th string outlives its request in a cache of 10,000
 * entries (the oldest dropped): a long-lived mix, where a bump allocator
 * pays for pinned chunks.
 *
 * Each string is copied from a precomputed repeated alphabet: a division
 * per byte ('a' + (id + i + k) % 26, as the fill once was) made the
 * benchmark measure division, not allocation (~92% of instructions under
 * mimalloc). The bytes, and the checksum, are the same.
 *
 *   request_scoped [-r REQUESTS] [-s STRINGS_PER_REQUEST] [-t THREADS] [-k K]
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static unsigned long requests = 20000, strings_per_request = 2000, keep_every = 0;

/* Strings are MIN_LENGTH .. MIN_LENGTH + LENGTH_SPREAD - 1 bytes (8 to
 * 63: copy_string relies on it). */
#define MIN_LENGTH 8
#define LENGTH_SPREAD 56
/* Byte k of string i of request id is 'a' + (id + i + k) % 26: the string
 * is this buffer from (id + i) % 26 on. */
static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz"
                               "abcdefghijklmnopqrstuvwxyz"
                               "abcdefghijklmnopqrstuvwxyz"
                               "abcdefghijklmnopqrstuvwxyz";
_Static_assert(sizeof alphabet - 1 >= 25 + MIN_LENGTH + LENGTH_SPREAD - 1,
               "every string fits in the alphabet buffer from any start");
_Static_assert(MIN_LENGTH >= 8 && MIN_LENGTH + LENGTH_SPREAD - 1 <= 64,
               "copy_string copies 8 to 64 bytes");

#define CACHE_ENTRIES 10000
static _Thread_local char *cache[CACHE_ENTRIES];
static _Thread_local unsigned long cache_next;

struct vector {
    char **items;
    size_t count, capacity;
};

static void push(struct vector *vector, char *item)
{
    if (vector->count == vector->capacity) {
        vector->capacity = vector->capacity ? vector->capacity * 2 : 4;
        vector->items = realloc(vector->items, vector->capacity * sizeof *vector->items);
        if (vector->items == NULL)
            abort();
    }
    vector->items[vector->count++] = item;
}

/* Copies a string of 8 to 63 bytes as two overlapping memcpys of a fixed
 * size, which compile to plain moves. A memcpy of the variable length
 * compiles (GCC -O2, knowing the range) to `rep movsq`, whose start-up
 * cost cut requests/s by about a third under mimalloc: the fill would
 * again outweigh the allocator. */
static void copy_string(char *text, const char *from, size_t length)
{
    if (length >= 32) {
        memcpy(text, from, 32);
        memcpy(text + length - 32, from + length - 32, 32);
    } else if (length >= 16) {
        memcpy(text, from, 16);
        memcpy(text + length - 16, from + length - 16, 16);
    } else {
        memcpy(text, from, 8);
        memcpy(text + length - 8, from + length - 8, 8);
    }
}

static uint64_t one_request(unsigned long id)
{
    struct vector fields[4] = {{0}};
    uint64_t hash = 1469598103934665603u;

    for (unsigned long i = 0; i < strings_per_request; i++) {
        size_t length = MIN_LENGTH + (id * 131 + i * 17) % LENGTH_SPREAD;
        char *text = malloc(length + 1);
        if (text == NULL)
            abort();
        copy_string(text, alphabet + (id + i) % 26, length);
        text[length] = '\0';
        push(&fields[i % 4], text);
    }
    for (int f = 0; f < 4; f++) {
        for (size_t i = 0; i < fields[f].count; i++) {
            hash = (hash ^ (unsigned char)fields[f].items[i][0]) * 1099511628211u;
            if (keep_every != 0 && i % keep_every == 0) {
                /* Outlives the request: into the cache, evicting the oldest. */
                free(cache[cache_next % CACHE_ENTRIES]);
                cache[cache_next++ % CACHE_ENTRIES] = fields[f].items[i];
                continue;
            }
            free(fields[f].items[i]);
        }
        free(fields[f].items);
    }
    return hash;
}

static void *worker(void *arg)
{
    uint64_t *checksum = arg;

    for (unsigned long id = 0; id < requests; id++)
        *checksum += one_request(id);
    return NULL;
}

static unsigned long parse(const char *text, const char *what)
{
    char *end;
    unsigned long value;

    errno = 0;
    value = strtoul(text, &end, 10);
    if (errno != 0 || *end != '\0' || value == 0 || text[0] == '-') {
        fprintf(stderr, "request_scoped: %s must be a positive integer, not '%s'\n", what, text);
        exit(2);
    }
    return value;
}

int main(int argc, char **argv)
{
    unsigned long threads = 1;
    uint64_t checksums[64] = {0}, checksum = 0;
    pthread_t ids[64];
    struct timespec start, end;
    double seconds;
    int option;

    while ((option = getopt(argc, argv, "r:s:t:k:")) != -1) {
        if (option == 'r')
            requests = parse(optarg, "-r");
        else if (option == 's')
            strings_per_request = parse(optarg, "-s");
        else if (option == 't')
            threads = parse(optarg, "-t");
        else if (option == 'k')
            keep_every = parse(optarg, "-k");
        else
            return 2;
    }
    if (threads > 64) {
        fprintf(stderr, "request_scoped: at most 64 threads\n");
        return 2;
    }
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (unsigned long t = 0; t < threads; t++)
        pthread_create(&ids[t], NULL, worker, &checksums[t]);
    for (unsigned long t = 0; t < threads; t++) {
        pthread_join(ids[t], NULL);
        checksum += checksums[t];
    }
    clock_gettime(CLOCK_MONOTONIC, &end);
    seconds = (double)(end.tv_sec - start.tv_sec) + (double)(end.tv_nsec - start.tv_nsec) / 1e9;
    printf("requests=%lu threads=%lu seconds=%.4f requests_per_second=%.1f checksum=%016" PRIx64
           "\n",
           requests * threads, threads, seconds, (double)(requests * threads) / seconds, checksum);
    return 0;
}
