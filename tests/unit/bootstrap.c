/* The bootstrap region: its blocks are aligned, sized, and accepted by the
 * exported free/realloc/malloc_usable_size once a backend is ready. This
 * program links lib/ directly, so its malloc is heapswitch's. */
#include "config.h"

#include <errno.h>
#include <stdint.h>

#include "lib/internal.h"
#include "tests/harness.h"

int main(void)
{
    unsigned char *blocks[64];
    unsigned char *moved;

    for (int i = 0; i < 64; i++) {
        size_t alignment = (size_t)1 << (i % 13);
        size_t size = (size_t)(i * 37);
        blocks[i] = hsw_bootstrap_alloc(alignment, size);
        CHECK(blocks[i] != NULL, "bootstrap block %d", i);
        CHECK(hsw_bootstrap_owns(blocks[i]), "bootstrap owns block %d", i);
        CHECK((uintptr_t)blocks[i] % (alignment < 16 ? 16 : alignment) == 0,
              "block %d alignment %zu", i, alignment);
        CHECK(malloc_usable_size(blocks[i]) >= size, "block %d usable size", i);
        for (size_t b = 0; b < size; b++)
            CHECK(blocks[i][b] == 0, "bootstrap memory is zeroed");
        memset(blocks[i], i, size);
    }
    for (int i = 1; i < 64; i++)
        CHECK(blocks[i] >= blocks[i - 1] + (i - 1) * 37, "blocks %d and %d overlap", i - 1, i);

    /* realloc moves a bootstrap block to the backend, contents kept. */
    moved = realloc(blocks[10], 5000);
    CHECK(moved != NULL && !hsw_bootstrap_owns(moved), "realloc leaves the region");
    for (int b = 0; b < 370; b++)
        CHECK(moved[b] == 10, "byte %d kept by realloc", b);
    free(moved);
    CHECK(realloc(blocks[11], 0) == NULL, "realloc(bootstrap, 0) frees");
    for (int i = 0; i < 64; i++)
        if (i != 10 && i != 11)
            free(blocks[i]); /* a no-op that must not reach the backend */

    errno = 0;
    CHECK(hsw_bootstrap_alloc(16, SIZE_MAX / 2) == NULL && errno == ENOMEM,
          "oversized bootstrap request is ENOMEM");
    CHECK(!hsw_bootstrap_owns(NULL), "NULL is not a bootstrap pointer");
    CHECK(!hsw_bootstrap_owns(hsw_bootstrap_region + HSW_BOOTSTRAP_SIZE),
          "the end of the region is outside it");
    return test_finish("unit/bootstrap");
}
