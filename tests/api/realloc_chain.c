/* A deep realloc chain: one block grown one byte at a time, then shrunk one
 * byte at a time back to one byte, its contents checked as it goes: the
 * bytes near both ends and a sample across it on every step (so that a
 * move that loses or shifts data is caught), the whole block every 4,096
 * steps and whenever realloc moved it. Up to 64 KiB; LONG=1 (make
 * check-long) goes to 1 MiB. */
#include "config.h"

#include <stdint.h>

#include "tests/harness.h"

static unsigned char expected(size_t i)
{
    return (unsigned char)(i * 131 + (i >> 8) + 7);
}

/* The first `size` bytes of block hold the pattern (all of them, or ends
 * and a sample). */
static int intact(const unsigned char *block, size_t size, int whole)
{
    size_t stride = whole ? 1 : 4093;

    for (size_t i = 0; i < size && i < 64; i++)
        if (block[i] != expected(i))
            return 0;
    for (size_t i = size > 64 ? size - 64 : 0; i < size; i++)
        if (block[i] != expected(i))
            return 0;
    for (size_t i = 0; i < size; i += stride)
        if (block[i] != expected(i))
            return 0;
    return 1;
}

int main(void)
{
    const char *long_run = getenv("LONG");
    size_t limit = long_run != NULL && strcmp(long_run, "1") == 0 ? (size_t)1 << 20
                                                                  : (size_t)64 << 10;
    unsigned char *block = malloc(1);
    unsigned long moves = 0;
    size_t have = 1;
    int broken = 0;

    CHECK(block != NULL, "malloc(1)");
    if (block == NULL)
        return test_finish("realloc_chain");
    block[0] = expected(0);
    for (size_t size = 2; size <= limit && broken < 3; size++) {
        unsigned char *grown = realloc(block, size);
        CHECK(grown != NULL, "realloc to %zu", size);
        if (grown == NULL)
            break;
        if (grown != block)
            moves++;
        if (!intact(grown, size - 1, grown != block || size % 4096 == 0)) {
            CHECK(0, "growing to %zu bytes lost data", size);
            broken++;
        }
        CHECK(malloc_usable_size(grown) >= size, "usable size below %zu", size);
        grown[size - 1] = expected(size - 1);
        block = grown;
        have = size;
    }
    for (size_t size = have - 1; size >= 1 && broken < 3; size--) {
        unsigned char *shrunk = realloc(block, size);
        CHECK(shrunk != NULL, "realloc down to %zu", size);
        if (shrunk == NULL)
            break;
        if (shrunk != block)
            moves++;
        if (!intact(shrunk, size, shrunk != block || size % 4096 == 0)) {
            CHECK(0, "shrinking to %zu bytes lost data", size);
            broken++;
        }
        block = shrunk;
    }
    CHECK(block[0] == expected(0), "the first byte at the end");
    free(block);
    printf("realloc_chain: up to %zu bytes and back, %lu moves\n", limit, moves);
    return test_finish("realloc_chain");
}
