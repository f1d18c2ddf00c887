/* The random numbers and field accessors of the deterministic mutation
 * tests (the *-mutate.c files of tests/fuzz): xorshift64*, seeded
 * through a splitmix64 step, so that one seed per iteration makes any
 * failure reproducible alone; and reads and writes of the 4- and 8-byte
 * fields of an image, through memcpy because a mutated offset need not
 * be aligned.
 *
 * Each test program includes it once: the generator's state is that
 * program's own (static). */
#ifndef HSW_TESTS_FUZZ_MUTATIONS_H
#define HSW_TESTS_FUZZ_MUTATIONS_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

static uint64_t random_state;

/* One xorshift64* step of *state (never 0). */
static inline uint64_t xorshift64star(uint64_t *state)
{
    *state ^= *state >> 12;
    *state ^= *state << 25;
    *state ^= *state >> 27;
    return *state * UINT64_C(0x2545f4914f6cdd1d);
}

/* After a splitmix64 step, which spreads nearby seeds apart. */
static inline void seed_random(uint64_t seed)
{
    uint64_t z = seed + UINT64_C(0x9e3779b97f4a7c15);

    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    random_state = (z ^ (z >> 31)) | 1;
}

static inline uint64_t next_random(void)
{
    return xorshift64star(&random_state);
}

/* A number in [0, bound). */
static inline uint64_t below(uint64_t bound)
{
    return bound == 0 ? 0 : next_random() % bound;
}

/* The field of `size` bytes (4 or 8) at `at`. */
static inline uint64_t read_field(const unsigned char *at, size_t size)
{
    uint32_t u32;
    uint64_t u64;

    if (size == 4) {
        memcpy(&u32, at, 4);
        return u32;
    }
    memcpy(&u64, at, 8);
    return u64;
}

/* Stores `value` in the field of `size` bytes (4 or 8) at `at`, truncated
 * to 32 bits for a 4-byte field. */
static inline void write_field(unsigned char *at, size_t size, uint64_t value)
{
    uint32_t u32 = (uint32_t)value;

    if (size == 4)
        memcpy(at, &u32, 4);
    else
        memcpy(at, &value, 8);
}

#endif
