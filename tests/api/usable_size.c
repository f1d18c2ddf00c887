/* A program that relies on malloc_usable_size: it writes every usable byte
 * and keeps them through realloc, for every entry point and many sizes. */
#include "config.h"

#include <stdint.h>

#include "tests/harness.h"

static int check_block(unsigned char *block, size_t requested, const char *label)
{
    size_t usable = malloc_usable_size(block);
    unsigned char *grown;
    int ok = 1;

    if (usable < requested) {
        CHECK(usable >= requested, "%s(%zu): usable %zu", label, requested, usable);
        return 0;
    }
    memset(block, 0xa5, usable);
    grown = realloc(block, usable + 1);
    for (size_t i = 0; i < usable && grown != NULL; i++)
        if (grown[i] != 0xa5) {
            CHECK(grown[i] == 0xa5, "%s(%zu): byte %zu lost by realloc", label,
                  requested, i);
            ok = 0;
            break;
        }
    CHECK(grown == NULL || malloc_usable_size(grown) >= usable + 1,
          "%s: usable size after realloc", label);
    free(grown);
    return ok;
}

int main(void)
{
    for (size_t size = 0; size <= 70000; size += size < 1024 ? 1 : 509) {
        void *ptr = NULL;
        check_block(malloc(size), size, "malloc");
        check_block(calloc(1, size), size, "calloc");
        check_block(aligned_alloc(64, size), size, "aligned_alloc");
        if (posix_memalign(&ptr, 256, size) == 0)
            check_block(ptr, size, "posix_memalign");
        check_block(memalign(32, size), size, "memalign");
    }
    check_block(valloc(5000), 5000, "valloc");
    check_block(malloc(8 << 20), 8 << 20, "malloc(8 MiB)");
    return test_finish("usable_size");
}
