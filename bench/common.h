/* What the threaded benchmark programs share: a fixed-seed PRNG and a
 * strict count parser. Header-only, plain libc: the programs link nothing
 * but libc and pthreads, the allocator under test comes by LD_PRELOAD. */
#ifndef HSW_BENCH_COMMON_H
#define HSW_BENCH_COMMON_H

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* xorshift64: the same sequence on every run and allocator. */
static inline uint64_t bench_next_random(uint64_t *state)
{
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    return *state;
}

/* A whole number in 1..max, or exit 2 naming the program and the value. */
static inline unsigned long bench_parse_count(const char *program, const char *text,
                                              const char *what, unsigned long max)
{
    char *end;
    unsigned long value;

    errno = 0;
    value = strtoul(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0' || value == 0 || value > max) {
        fprintf(stderr, "%s: bad %s '%s' (1..%lu)\n", program, what, text, max);
        exit(2);
    }
    return value;
}

#endif
