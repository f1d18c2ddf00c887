/* The mimalloc backend.
 *
 * libmimalloc is a load-time dependency of libheapswitch (never dlopen'ed:
 * it uses initial-exec TLS). Its mi_* API names are unique to it, so they
 * are bound at link time; no lookup is needed. mimalloc returns NULL
 * without setting errno. It reports failures of malloc and realloc to its
 * error handler, which sets errno, so those two need no wrapper; calloc
 * overflow and aligned failures are not reported, so those are wrapped.
 * mimalloc keeps a heap per thread, and its release builds keep no
 * allocation statistics; each thread walks its own heap's pages instead
 * (mi_heap_visit_blocks, pages only, never blocks): blocks in use times
 * block size are its live bytes, and blocks ever handed out (the page's
 * capacity, which mimalloc extends as it hands blocks out) times block
 * size its resident bytes. Committed memory (mi_process_info) is address
 * space mimalloc may use, not memory in RAM: it is shown as committed,
 * never as resident. Blocks other threads freed count as live until the
 * owning thread collects them: approximate.
 */
#include "config.h"

#include <errno.h>
#include <mimalloc.h>

#include "backends/backend.h"

static void *enomem_if_null(void *ptr)
{
    if (ptr == NULL)
        errno = ENOMEM;
    return ptr;
}

/* mi_malloc_aligned_at(..., 0), not mi_malloc_aligned(): in mimalloc 2.0.9
 * (Debian 12) the latter takes a shortcut for power-of-two sizes up to
 * 1 KiB that are at least the alignment, assuming such small blocks are
 * naturally aligned, and so returns e.g. 256 bytes aligned to 256 only
 * 128-aligned (microsoft/mimalloc#602, #700, fixed in 2.1). The _at entry
 * point goes straight to the general path, which checks the alignment. */
static void *mimalloc_aligned_alloc(size_t alignment, size_t size)
{
    return enomem_if_null(mi_malloc_aligned_at(size, alignment, 0));
}

static void *mimalloc_calloc(size_t count, size_t size)
{
    return enomem_if_null(mi_calloc(count, size));
}

static size_t mimalloc_usable_size(void *ptr)
{
    return mi_usable_size(ptr);
}

/* Out of memory (ENOMEM) or a size past PTRDIFF_MAX (EOVERFLOW): the
 * failing call returns NULL right after, and glibc would say ENOMEM. */
static void mimalloc_error(int error, void *unused)
{
    (void)unused;
    if (error == ENOMEM || error == EOVERFLOW)
        errno = ENOMEM;
}

static struct hsw_size_table size_table;

static size_t mimalloc_good_size(size_t size)
{
    return mi_good_size(size);
}

struct heap_walk {
    uint64_t live, resident;
};

static bool add_page(const mi_heap_t *heap, const mi_heap_area_t *area, void *block,
                     size_t block_size, void *context)
{
    struct heap_walk *walk = context;

    (void)heap;
    (void)block;
    (void)block_size;
    walk->live += (uint64_t)area->used * area->block_size;
    walk->resident += area->committed;
    return true;
}

static bool mimalloc_thread_heap(uint64_t *live, uint64_t *resident)
{
    struct heap_walk walk = {0, 0};

    if (!mi_heap_visit_blocks(mi_heap_get_default(), false, add_page, &walk))
        return false;
    *live = walk.live;
    *resident = walk.resident;
    return true;
}

static int mimalloc_init(struct hsw_backend_ops *ops, const char **why)
{
    (void)why;
    mi_register_error(mimalloc_error, NULL);
    ops->malloc = mi_malloc;
    ops->free = mi_free;
    ops->calloc = mimalloc_calloc;
    ops->realloc = mi_realloc;
    ops->aligned_alloc = mimalloc_aligned_alloc;
    ops->usable_size = mimalloc_usable_size;
    ops->new_block_usable = hsw_size_table_build(&size_table, mimalloc_good_size, ops);
    ops->thread_heap = mimalloc_thread_heap;
    return 0;
}

/* Resident and live bytes come from the threads' heaps (thread_heap). */
static int mimalloc_heap_figures(struct hsw_backend_heap *heap)
{
    size_t elapsed, user, system, rss, peak_rss, committed, peak_committed, faults;

    mi_process_info(&elapsed, &user, &system, &rss, &peak_rss, &committed,
                    &peak_committed, &faults);
    heap->committed = committed;
    heap->approximate = 1;
    return 0;
}

#define HSW_STR2(x) #x
#define HSW_STR(x) HSW_STR2(x)

const struct hsw_backend hsw_backend_mimalloc = {
    .name = "mimalloc",
    .description = "mimalloc " HSW_STR(MI_MALLOC_VERSION),
    .init = mimalloc_init,
    .heap_figures = mimalloc_heap_figures,
};
