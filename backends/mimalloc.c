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
 * block size are its live bytes; its resident bytes are those of the
 * segments its pages are in, as the kernel counts them (below). Committed
 * memory (mi_process_info) is address
 * space mimalloc may use, not memory in RAM: it is shown as committed,
 * never as resident. Blocks other threads freed count as live until the
 * owning thread collects them: approximate.
 */
#include "config.h"

#include <errno.h>
#include <mimalloc.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

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

/* mimalloc 2.x carves pages out of 32 MiB segments aligned to their size,
 * each owned by one thread; pages it no longer uses stay in their segment,
 * often still in RAM. A thread's resident bytes are therefore those of
 * the segments its heap's pages are in, as the kernel counts them
 * (mincore), not only those of the pages that hold blocks. mincore also
 * counts pages mimalloc has given back lazily (MADV_FREE) until the
 * kernel takes them; lib/ caps the figure at the process's RSS, which
 * does not count them. Other versions: the touched bytes of the pages
 * alone (their capacity). */
#if MI_MALLOC_VERSION >= 200 && MI_MALLOC_VERSION < 300
#define SEGMENT_SIZE ((uintptr_t)32 << 20)
#else
#define SEGMENT_SIZE ((uintptr_t)0)
#endif
#define MAX_SEGMENTS 512

struct segment_range {
    uintptr_t start, end;
};

struct heap_walk {
    uint64_t live, pages_resident;
    size_t segment_count;
    bool segments_overflowed;
    struct segment_range segments[MAX_SEGMENTS]; /* sorted by start */
};

/* Notes the segment of a page area, once. */
static void note_segment(struct heap_walk *walk, const mi_heap_area_t *area)
{
    uintptr_t start = (uintptr_t)area->blocks & ~(SEGMENT_SIZE - 1);
    uintptr_t end = start + SEGMENT_SIZE;
    size_t low = 0, high = walk->segment_count;

    if ((uintptr_t)area->blocks + area->reserved > end) /* a huge block's own segment */
        end = (uintptr_t)area->blocks + area->reserved;
    while (low < high) {
        size_t middle = (low + high) / 2;
        if (walk->segments[middle].start < start)
            low = middle + 1;
        else
            high = middle;
    }
    if (low < walk->segment_count && walk->segments[low].start == start) {
        if (end > walk->segments[low].end)
            walk->segments[low].end = end;
        return;
    }
    if (walk->segment_count == MAX_SEGMENTS) {
        walk->segments_overflowed = true;
        return;
    }
    memmove(&walk->segments[low + 1], &walk->segments[low],
            (walk->segment_count - low) * sizeof walk->segments[0]);
    walk->segments[low] = (struct segment_range){start, end};
    walk->segment_count++;
}

static bool add_page(const mi_heap_t *heap, const mi_heap_area_t *area, void *block,
                     size_t block_size, void *context)
{
    struct heap_walk *walk = context;

    (void)heap;
    (void)block;
    (void)block_size;
    walk->live += (uint64_t)area->used * area->block_size;
    walk->pages_resident += area->committed;
    if (SEGMENT_SIZE != 0)
        note_segment(walk, area);
    return true;
}

/* The bytes of [start, end) in RAM, by mincore in 4 MiB steps. */
static uint64_t resident_in(uintptr_t start, uintptr_t end, size_t page)
{
    unsigned char pages[1024];
    uint64_t resident = 0;

    for (uintptr_t at = start; at < end; at += sizeof pages * page) {
        size_t length = end - at < sizeof pages * page ? end - at : sizeof pages * page;
        if (mincore((void *)at, length, pages) != 0)
            continue; /* not mapped (yet): nothing resident */
        for (size_t i = 0; i < (length + page - 1) / page; i++)
            resident += pages[i] & 1;
    }
    return resident * page;
}

static bool mimalloc_thread_heap(uint64_t *live, uint64_t *resident)
{
    struct heap_walk walk; /* about 8 KiB of stack, once every ~250 ms */
    size_t page = (size_t)sysconf(_SC_PAGESIZE);

    walk.live = walk.pages_resident = 0;
    walk.segment_count = 0;
    walk.segments_overflowed = false;
    if (!mi_heap_visit_blocks(mi_heap_get_default(), false, add_page, &walk))
        return false;
    *live = walk.live;
    if (SEGMENT_SIZE == 0 || walk.segments_overflowed) {
        *resident = walk.pages_resident;
        return true;
    }
    *resident = 0;
    uintptr_t covered = 0;

    for (size_t i = 0; i < walk.segment_count; i++) {
        /* A huge block's segment may reach into the next one's window. */
        uintptr_t start = walk.segments[i].start > covered ? walk.segments[i].start : covered;
        if (start < walk.segments[i].end)
            *resident += resident_in(start, walk.segments[i].end, page);
        if (walk.segments[i].end > covered)
            covered = walk.segments[i].end;
    }
    return true;
}

static int mimalloc_init(struct hsw_backend_ops *ops, const struct hsw_backend_options *options,
                         const char **why)
{
    (void)options;
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
    heap->present = HEAPSWITCH_HEAP_RESIDENT | HEAPSWITCH_HEAP_COMMITTED;
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
