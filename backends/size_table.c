/* Usable sizes by requested size, for the counters.
 *
 * jemalloc and mimalloc round every small request up to a size class that
 * depends only on the size, and both say which (nallocx, mi_good_size),
 * without the pointer lookup their usable-size functions make. A table of
 * those classes, by 8-byte step up to 16 KiB, gives the usable size of a
 * new block in one load. It is built once, then checked against real
 * blocks of a spread of sizes; any disagreement leaves it unused.
 */
#include "config.h"

#include "backends/backend.h"

const uint32_t *hsw_size_table_build(struct hsw_size_table *table,
                                     size_t (*good_size)(size_t),
                                     const struct hsw_backend_ops *ops)
{
    static const size_t samples[] = {0,    1,    7,    8,     9,     16,    17,   24,
                                     31,   33,   100,  127,   129,   500,   1000, 1025,
                                     2047, 3000, 4096, 5000,  7000,  8193,  10000, 12288,
                                     14000, 14336, 14337, 15000, 16383, 16384};

    /* Index i covers requests 8i-7 .. 8i; index 0 is malloc(0), served as 1. */
    for (size_t i = 0; i <= HSW_SIZE_TABLE_MAX / 8; i++)
        table->usable[i] = (uint32_t)good_size(i == 0 ? 1 : i * 8);
    for (size_t i = 0; i < sizeof samples / sizeof samples[0]; i++) {
        void *block = ops->malloc(samples[i]);
        size_t usable;

        if (block == NULL)
            return NULL;
        usable = ops->usable_size(block);
        ops->free(block);
        if (usable != table->usable[(samples[i] + 7) / 8])
            return NULL;
    }
    return table->usable;
}
