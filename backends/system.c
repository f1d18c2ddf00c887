/* The system backend: glibc's own allocator (ptmalloc2).
 *
 * Resolved inside libc.so.6 itself, so that it is glibc's allocator even
 * when jemalloc or mimalloc, which export the same names, are loaded too.
 * glibc's memalign takes any power-of-two alignment, which is the contract.
 * Heap figures: mallinfo2(), whose `arena` is the bytes of all arenas
 * obtained from the OS and `hblkhd` the bytes of mmapped blocks; at the
 * default counting level its `uordblks` (chunks in use) plus `hblkhd` are
 * the live bytes.
 *
 * Usable sizes are read from the chunk header, as glibc's own
 * malloc_usable_size() does, without its call and checks: the counters
 * need one per call. init() verifies the reading against glibc on a range
 * of sizes and keeps glibc's function if any differs (another layout).
 */
#include "config.h"

#include <gnu/lib-names.h>
#include <malloc.h>
#include <stdbool.h>
#include <stdint.h>

#include "backends/backend.h"

static const struct hsw_library_symbols system_symbols = {
    .malloc = "malloc",
    .free = "free",
    .calloc = "calloc",
    .realloc = "realloc",
    .aligned_alloc = "memalign",
    .usable_size = "malloc_usable_size",
};

#define CHUNK_SIZE_BITS (~(size_t)7)
#define CHUNK_IS_MMAPPED ((size_t)2)

/* glibc's musable() for a chunk in use: the size field minus the header
 * words the block cannot use (one, or two for an mmapped chunk). */
static size_t system_usable_size(void *ptr)
{
    size_t field = ((const size_t *)ptr)[-1];
    size_t overhead = (field & CHUNK_IS_MMAPPED) ? 2 * sizeof(size_t) : sizeof(size_t);

    return (field & CHUNK_SIZE_BITS) - overhead;
}

static void (*glibc_free)(void *ptr);

static size_t system_free_counted(void *ptr)
{
    size_t usable = system_usable_size(ptr);

    glibc_free(ptr);
    return usable;
}

/* Runs at every start-up: small blocks, and one above the mmap threshold. */
static bool header_reading_agrees(const struct hsw_backend_ops *ops)
{
    static const size_t sizes[] = {0, 1, 24, 25, 100, 1000, 4096, 100000, 300000};
    bool agrees = true;

    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        void *block = ops->malloc(sizes[i]);
        if (block == NULL)
            return false;
        agrees = agrees && system_usable_size(block) == ops->usable_size(block);
        ops->free(block);
    }
    return agrees;
}

static int system_init(struct hsw_backend_ops *ops, const struct hsw_backend_options *options,
                       const char **why)
{
    (void)options;
    if (hsw_library_resolve(NULL, LIBC_SO, &system_symbols, ops, why) != 0)
        return -1;
    if (header_reading_agrees(ops)) {
        glibc_free = ops->free;
        ops->usable_size = system_usable_size;
        ops->free_counted = system_free_counted;
        /* mallinfo2's in-use bytes are chunk sizes: usable + 8 each. */
        ops->live_block_header = sizeof(size_t);
    }
    return 0;
}

static int system_heap_figures(struct hsw_backend_heap *heap)
{
    struct mallinfo2 info = mallinfo2();

    heap->resident = info.arena + info.hblkhd;
    heap->committed = heap->resident;
    heap->mapped = heap->resident;
    heap->active = info.uordblks + info.hblkhd;
    /* Bytes of chunks in use, headers included (8 bytes a chunk, taken
     * off by lib/: live_block_header), and of mmapped blocks: the default
     * level's live figure. */
    heap->live = heap->active;
    heap->has_live = 1;
    /* No `retained`: glibc's free chunks (fordblks) are memory it holds,
     * not memory given back to the kernel. */
    heap->present = HEAPSWITCH_HEAP_RESIDENT | HEAPSWITCH_HEAP_ACTIVE | HEAPSWITCH_HEAP_MAPPED |
                    HEAPSWITCH_HEAP_COMMITTED;
    return 0;
}

const struct hsw_backend hsw_backend_system = {
    .name = "system",
    .description = "glibc's malloc (ptmalloc2)",
    .init = system_init,
    .heap_figures = system_heap_figures,
};
