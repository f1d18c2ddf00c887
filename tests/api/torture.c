/* A seeded random sequence of every malloc-family call with every byte
 * pattern-checked; producer/consumer threads freeing each other's blocks;
 * request-like bursts. (ENOMEM under RLIMIT_AS: tests/api/enomem.c.)
 * TORTURE_STEPS and TORTURE_MESSAGES (make check-long) raise the number of
 * random steps and of producer/consumer messages; the defaults are below. */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <unistd.h>

#include "tests/harness.h"

enum { SLOTS = 4096, STEPS = 150000, QUEUE = 1024, MESSAGES = 100000 };

static unsigned long steps = STEPS, messages = MESSAGES;

/* A positive count from the environment, or fallback. */
static unsigned long count_from_env(const char *name, unsigned long fallback)
{
    const char *text = getenv(name);
    char *end;
    unsigned long value;

    if (text == NULL || text[0] == '\0')
        return fallback;
    errno = 0;
    value = strtoul(text, &end, 10);
    if (errno != 0 || *end != '\0' || value == 0 || text[0] == '-') {
        fprintf(stderr, "torture: ignoring %s='%s'\n", name, text);
        return fallback;
    }
    return value;
}

struct block {
    unsigned char *ptr;
    size_t size;
    unsigned char seed;
};

static uint64_t rng_state = 0x9e3779b97f4a7c15u;

static uint64_t next_random(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static void fill(unsigned char *ptr, size_t size, unsigned char seed)
{
    for (size_t i = 0; i < size; i++)
        ptr[i] = (unsigned char)(seed + i * 31);
}

static int intact(const unsigned char *ptr, size_t size, unsigned char seed)
{
    for (size_t i = 0; i < size; i++)
        if (ptr[i] != (unsigned char)(seed + i * 31))
            return 0;
    return 1;
}

/* Sizes mostly small, sometimes large, now and then huge. */
static size_t random_size(void)
{
    uint64_t r = next_random();
    if (r % 100 < 80)
        return r % 256;
    if (r % 100 < 98)
        return r % 16384;
    return r % (1u << 20);
}

static void random_sequence(void)
{
    static struct block slots[SLOTS];
    int broken = 0;

    for (unsigned long step = 0; step < steps && broken < 5; step++) {
        struct block *slot = &slots[next_random() % SLOTS];
        uint64_t action = next_random() % 6;
        size_t size = random_size();
        unsigned char seed = (unsigned char)next_random();

        if (slot->ptr != NULL && !intact(slot->ptr, slot->size, slot->seed)) {
            CHECK(0, "step %lu: block of %zu bytes corrupted", step, slot->size);
            broken++;
        }
        if (slot->ptr != NULL && action < 2) {
            free(slot->ptr);
            slot->ptr = NULL;
            continue;
        }
        if (slot->ptr != NULL && action < 4) {
            unsigned char *grown = realloc(slot->ptr, size);
            size_t kept = size < slot->size ? size : slot->size;
            if (size == 0) {
                slot->ptr = NULL;
                continue;
            }
            CHECK(grown != NULL, "realloc(%zu)", size);
            if (grown == NULL)
                continue;
            if (!intact(grown, kept, slot->seed)) {
                CHECK(0, "step %lu: realloc to %zu lost bytes", step, size);
                broken++;
            }
            slot->ptr = grown;
        } else {
            free(slot->ptr);
            switch (action) {
            case 0:
            case 4:
                slot->ptr = malloc(size);
                break;
            case 1:
            case 2:
                slot->ptr = calloc(1, size);
                for (size_t i = 0; slot->ptr != NULL && i < size; i++)
                    if (slot->ptr[i] != 0) {
                        CHECK(0, "step %lu: calloc(%zu) byte %zu not zero", step, size,
                              i);
                        broken++;
                        break;
                    }
                break;
            default: {
                size_t alignment = (size_t)16 << (next_random() % 13);
                slot->ptr = aligned_alloc(alignment, size);
                CHECK(slot->ptr == NULL || (uintptr_t)slot->ptr % alignment == 0,
                      "aligned_alloc(%zu)", alignment);
            }
            }
            CHECK(slot->ptr != NULL, "allocation of %zu failed", size);
            if (slot->ptr == NULL)
                continue;
        }
        CHECK(malloc_usable_size(slot->ptr) >= size, "usable size below %zu", size);
        slot->size = size;
        slot->seed = seed;
        fill(slot->ptr, size, seed);
    }
    for (int i = 0; i < SLOTS; i++) {
        if (slots[i].ptr != NULL)
            CHECK(intact(slots[i].ptr, slots[i].size, slots[i].seed), "final check %d", i);
        free(slots[i].ptr);
        slots[i].ptr = NULL;
    }
}

/* A bounded queue: the producer allocates, the consumer checks and frees. */
static struct block queue[QUEUE];
static unsigned head, tail;
static pthread_mutex_t queue_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t queue_changed = PTHREAD_COND_INITIALIZER;
static int consumer_errors;

static void *producer(void *arg)
{
    (void)arg;
    for (unsigned long m = 0; m < messages; m++) {
        struct block item = {NULL, 1 + ((unsigned)m * 2654435761u) % 2000,
                             (unsigned char)m};
        item.ptr = malloc(item.size);
        fill(item.ptr, item.size, item.seed);
        pthread_mutex_lock(&queue_lock);
        while (head - tail == QUEUE)
            pthread_cond_wait(&queue_changed, &queue_lock);
        queue[head++ % QUEUE] = item;
        pthread_cond_broadcast(&queue_changed);
        pthread_mutex_unlock(&queue_lock);
    }
    return NULL;
}

static void *consumer(void *arg)
{
    (void)arg;
    for (unsigned long m = 0; m < messages; m++) {
        struct block item;
        pthread_mutex_lock(&queue_lock);
        while (head == tail)
            pthread_cond_wait(&queue_changed, &queue_lock);
        item = queue[tail++ % QUEUE];
        pthread_cond_broadcast(&queue_changed);
        pthread_mutex_unlock(&queue_lock);
        if (!intact(item.ptr, item.size, item.seed))
            consumer_errors++;
        free(item.ptr);
    }
    return NULL;
}

static void cross_thread_frees(void)
{
    pthread_t threads[2];

    pthread_create(&threads[0], NULL, producer, NULL);
    pthread_create(&threads[1], NULL, consumer, NULL);
    pthread_join(threads[0], NULL);
    pthread_join(threads[1], NULL);
    CHECK(consumer_errors == 0, "%d blocks arrived corrupted", consumer_errors);
}

int main(void)
{
    steps = count_from_env("TORTURE_STEPS", STEPS);
    messages = count_from_env("TORTURE_MESSAGES", MESSAGES);
    if (steps != STEPS || messages != MESSAGES)
        printf("torture: %lu steps, %lu messages\n", steps, messages);
    random_sequence();
    cross_thread_frees();
    return test_finish("torture");
}
