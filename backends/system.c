/* The system backend: glibc's own allocator (ptmalloc2).
 *
 * Resolved inside libc.so.6 itself, so that it is glibc's allocator even
 * when jemalloc or mimalloc, which export the same names, are loaded too.
 * glibc's memalign takes any power-of-two alignment, which is the contract.
 * Heap figures: mallinfo2(), whose `arena` is the bytes of all arenas
 * obtained from the OS and `hblkhd` the bytes of mmapped blocks.
 */
#include "config.h"

#include <gnu/lib-names.h>
#include <malloc.h>

#include "backends/backend.h"

static const struct hsw_library_symbols system_symbols = {
    .malloc = "malloc",
    .free = "free",
    .calloc = "calloc",
    .realloc = "realloc",
    .aligned_alloc = "memalign",
    .usable_size = "malloc_usable_size",
};

static int system_init(struct hsw_backend_ops *ops, const char **why)
{
    return hsw_library_resolve(NULL, LIBC_SO, &system_symbols, ops, why);
}

static int system_heap_figures(struct hsw_backend_heap *heap)
{
    struct mallinfo2 info = mallinfo2();

    heap->resident = info.arena + info.hblkhd;
    heap->committed = heap->resident;
    heap->mapped = heap->resident;
    heap->active = info.uordblks + info.hblkhd;
    heap->retained = info.fordblks;
    return 0;
}

const struct hsw_backend hsw_backend_system = {
    .name = "system",
    .description = "glibc's malloc (ptmalloc2)",
    .init = system_init,
    .heap_figures = system_heap_figures,
};
