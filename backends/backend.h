/* The backend interface: the one contract between lib/ and the allocators.
 *
 * A backend may use lib/backend_support.h (logging, a size parser, the
 * counting functions) and nothing else of lib/. A backend is a const
 * descriptor. Its init() fills a table of operations,
 * once, at the first allocation call; after that lib/ calls only through
 * the table. init() runs while heapswitch serves allocations from its
 * bootstrap region, so it may call dlsym() and friends, but it must not
 * assume any allocator is usable yet. Adding a backend is one new file that
 * defines a `const struct hsw_backend` and one line in backends/registry.c.
 */
#ifndef HSW_BACKEND_H
#define HSW_BACKEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "include/heapswitch.h"

/* Every allocating operation returns NULL with errno ENOMEM on failure,
 * as glibc documents: a backend that does not set errno wraps itself. */
struct hsw_backend_ops {
    void *(*malloc)(size_t size);
    /* pre: ptr was returned by this backend, or NULL. */
    void (*free)(void *ptr);
    void *(*calloc)(size_t count, size_t size);
    /* pre: ptr is this backend's or NULL; size > 0 (lib/ handles size 0). */
    void *(*realloc)(void *ptr, size_t size);
    /* pre: alignment is a power of two (lib/ validates); any size. */
    void *(*aligned_alloc)(size_t alignment, size_t size);
    /* pre: ptr is this backend's and not NULL. */
    size_t (*usable_size)(void *ptr);
    /* Frees ptr and returns the usable size it had: the counters need the
     * size of every freed block, and a backend that finds it while freeing
     * saves a lookup. pre: ptr is this backend's and not NULL.
     * NULL: lib/ calls usable_size, then free. */
    size_t (*free_counted)(void *ptr);
    /* The usable size of a new block from malloc or calloc by requested
     * size, for requests up to HSW_SIZE_TABLE_MAX (index (requested+7)/8),
     * where it depends on the size alone: the counters read it instead of
     * calling usable_size at every allocation. NULL: they call it. */
    const uint32_t *new_block_usable;
    /* Runs once in a thread, at its first counted allocating call, just
     * after the backend served it: a moment of the thread's ordinary life
     * (a free can come after the thread's destructors have run, when
     * setting up per-thread state would leak it). NULL: nothing to do. */
    void (*thread_started)(void);
    /* malloc and free with the call counted inside, for a backend whose
     * fast path knows the usable size anyway: one call instead of the
     * counters' wrapper around malloc or free_counted, and no size table
     * lookup. They count exactly as lib/ would, with lib/backend_support.h's
     * hsw_count_alloc, hsw_count_failure and hsw_count_free (a malloc
     * after the backend served it). lib/ calls them only while counting;
     * free_and_count gets NULL too, never a bootstrap block.
     * NULL: lib/ counts around malloc and free_counted. */
    void *(*malloc_and_count)(size_t size);
    void (*free_and_count)(void *ptr);
    /* At the default counting level, where lib/ does not ask for the
     * usable size of each block, the backend's own books stand in:
     *
     * thread_usable_books: this thread's cumulative usable bytes allocated
     * and freed, as the backend counts them anyway (a few loads, no call
     * into the allocator, safe from a free after the thread's destructors).
     * Returns false while the thread has no books yet. Read at the
     * thread's checkpoints (every 256 calls) and as it exits.
     *
     * thread_heap: the live and resident bytes of this thread's own heap,
     * for a backend that keeps one per thread; it may walk the heap, so it
     * is called at most every ~250 ms per thread, from an allocating call
     * after the backend served it. Returns false when there is none.
     *
     * NULL: the backend has no such books (heap_figures may still give a
     * global live figure). */
    bool (*thread_usable_books)(uint64_t *allocated, uint64_t *freed);
    bool (*thread_heap)(uint64_t *live, uint64_t *resident);
    /* Whether ptr, a live block, is one of this backend's (its own test,
     * e.g. a chunk header): heapswitch_backend_owns(). NULL: cannot tell. */
    int (*owns)(const void *ptr);
    /* Bytes of each block in use that heap_figures' `live` counts beyond
     * its usable size (glibc: its 8-byte chunk header). At the default
     * level lib/ subtracts them, times its count of live blocks (calls
     * that made a block minus frees of one), from `live`. 0: none. */
    uint32_t live_block_header;
};

/* What lib/ hands a backend's init. */
struct hsw_backend_options {
    /* The value of an environment variable, or NULL when unset; works
     * before libc has finished starting up (no getenv, no allocation). A
     * backend's own variables are named HEAPSWITCH_<BACKEND>_<NAME> and
     * documented with the others in README.md. */
    const char *(*lookup)(const char *variable);
};

/* A backend's own figures about its heap, for the fragmentation figure.
 * `present` has the HEAPSWITCH_HEAP_* bit (include/heapswitch.h) of each
 * figure the backend has; the others stay 0 and are shown as unknown. */
struct hsw_backend_heap {
    uint64_t resident;  /* bytes it holds resident: the fragmentation denominator */
    uint64_t active;    /* bytes in pages that hold live blocks */
    uint64_t mapped;    /* bytes mapped from the OS */
    uint64_t retained;  /* bytes kept as address space but returned to the OS */
    uint64_t committed; /* bytes committed */
    uint64_t reserved;  /* address space reserved */
    uint64_t live;      /* bytes in live blocks, when has_live: the default level's live figure */
    int has_live;
    int approximate;    /* 1 when the backend's own figures lag behind */
    unsigned present;   /* HEAPSWITCH_HEAP_* bits */
};

struct hsw_backend {
    /* The HEAPSWITCH_BACKEND value that selects this backend. */
    const char *name;
    /* One line for help and error messages. */
    const char *description;
    /* Fills every field of *ops it has (the others are NULL). Returns 0,
     * or -1 with *why set to a static string saying what is missing. A bad
     * option value is reported with hsw_log and ignored, never fatal. */
    int (*init)(struct hsw_backend_ops *ops, const struct hsw_backend_options *options,
                const char **why);
    /* Fills *heap from the backend's own statistics; returns 0 or -1.
     * Called at most every ~250 ms, never while the backend is inside a
     * call of this thread; it may take the backend's locks. */
    int (*heap_figures)(struct hsw_backend_heap *heap);
};

/* A backend that is a malloc-compatible shared library already loaded in
 * the process: the exported symbol names to take each operation from. */
struct hsw_library_symbols {
    const char *malloc;
    const char *free;
    const char *calloc;
    const char *realloc;
    const char *aligned_alloc;
    const char *usable_size;
};

/* backends/library.c: resolves `symbols` inside the loaded library that
 * defines `anchor` (or, if anchor is NULL, the library named `soname`),
 * never elsewhere: several loaded libraries export `malloc`. */
int hsw_library_resolve(const void *anchor, const char *soname,
                        const struct hsw_library_symbols *symbols,
                        struct hsw_backend_ops *ops, const char **why);

/* backends/size_table.c: the usable size of a new block by requested
 * size, for requests up to HSW_SIZE_TABLE_MAX bytes, from the backend's
 * own size-class function; checked against real blocks when built. */
#define HSW_SIZE_TABLE_MAX 16384
struct hsw_size_table {
    uint32_t usable[HSW_SIZE_TABLE_MAX / 8 + 1]; /* by (requested + 7) / 8 */
};
/* Fills the table from good_size and checks it against sample blocks of
 * ops; returns the table for ops->new_block_usable, or NULL (unused) when a
 * sample block's usable size disagrees with it. */
const uint32_t *hsw_size_table_build(struct hsw_size_table *table,
                                     size_t (*good_size)(size_t),
                                     const struct hsw_backend_ops *ops);

/* backends/registry.c: every backend name heapswitch knows, in the order
 * they are listed to users. `backend` is NULL for a name this build lacks. */
struct hsw_backend_entry {
    const char *name;
    const struct hsw_backend *backend;
    const char *unavailable_reason;
};
extern const struct hsw_backend_entry hsw_backend_registry[];
extern const size_t hsw_backend_registry_count;

#endif
