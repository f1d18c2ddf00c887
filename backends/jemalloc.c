/* The jemalloc backend.
 *
 * libjemalloc is a load-time dependency of libheapswitch (never dlopen'ed:
 * it uses initial-exec TLS). Its standard entry points are taken from the
 * library itself, so calls reach the same fast paths as when jemalloc is
 * preloaded directly; `mallctl` exists only in jemalloc and anchors the
 * lookup to the right library. jemalloc's realloc returns NULL without
 * setting errno for impossible sizes, so it alone is wrapped. The size of
 * a freed block comes from jemalloc's own per-thread count of freed bytes,
 * checked against sallocx() at start-up; at the default counting level,
 * jemalloc's per-thread counts of allocated and freed bytes are the
 * thread's books (lib/ copies them into its slot at checkpoints). Heap
 * figures come from mallctl after an `epoch` refresh; they lag behind
 * thread caches, so they are approximate.
 */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <jemalloc/jemalloc.h>
#include <stdint.h>

#include "backends/backend.h"

static const struct hsw_library_symbols jemalloc_symbols = {
    .malloc = "malloc",
    .free = "free",
    .calloc = "calloc",
    .realloc = "realloc",
    .aligned_alloc = "aligned_alloc",
    .usable_size = "malloc_usable_size",
};

static void *(*jemalloc_realloc)(void *ptr, size_t size);

static void *jemalloc_realloc_enomem(void *ptr, size_t size)
{
    void *result = jemalloc_realloc(ptr, size);

    if (result == NULL)
        errno = ENOMEM;
    return result;
}

/* sallocx() skips the validation malloc_usable_size() does on its
 * argument: about half the instructions, for a pointer known to be
 * jemalloc's, on the counting path of every call. */
static size_t jemalloc_usable_size(void *ptr)
{
    return sallocx(ptr, 0);
}

/* jemalloc counts, per thread, the usable bytes the thread frees
 * ("thread.deallocatedp" points at the count). Its rise across a free is
 * the freed block's size: two loads, where sallocx() looks the block up.
 * The pointer is asked for at the thread's first counted allocation
 * (thread_started): mallctl() sets up jemalloc's full per-thread state,
 * which a thread whose first call is a free at exit would leak, with its
 * thread cache still linked into an arena. NULL until then, and for
 * good when this jemalloc's count did not match sallocx() at start-up
 * (thread_started is then not installed). */
static __thread const uint64_t *thread_deallocated __attribute__((tls_model("initial-exec")));
static void (*jemalloc_free)(void *ptr);
/* The default counting level reads both per-thread counts as the
 * thread's usable-byte books, whether or not the freed count served
 * free_counted. */
static __thread const uint64_t *books_allocated __attribute__((tls_model("initial-exec")));
static __thread const uint64_t *books_deallocated __attribute__((tls_model("initial-exec")));
static bool deallocated_count_serves_frees;

static const uint64_t *find_thread_counter(const char *name)
{
    uint64_t *counter = NULL;
    size_t length = sizeof counter;

    if (mallctl(name, (void *)&counter, &length, NULL, 0) != 0)
        return NULL;
    return counter;
}

static const uint64_t *find_thread_deallocated(void)
{
    return find_thread_counter("thread.deallocatedp");
}

static void jemalloc_thread_started(void)
{
    books_allocated = find_thread_counter("thread.allocatedp");
    books_deallocated = find_thread_deallocated();
    if (deallocated_count_serves_frees)
        thread_deallocated = books_deallocated;
}

static bool jemalloc_thread_usable_books(uint64_t *allocated, uint64_t *freed)
{
    const uint64_t *allocated_count = books_allocated, *freed_count = books_deallocated;

    if (allocated_count == NULL || freed_count == NULL)
        return false;
    *allocated = __atomic_load_n(allocated_count, __ATOMIC_RELAXED);
    *freed = __atomic_load_n(freed_count, __ATOMIC_RELAXED);
    return true;
}

static size_t free_with_lookup(void *ptr)
{
    size_t usable = sallocx(ptr, 0);

    jemalloc_free(ptr);
    return usable;
}

static size_t jemalloc_free_counted(void *ptr)
{
    const uint64_t *counter = thread_deallocated;
    uint64_t before;

    if (__builtin_expect(counter == NULL, 0))
        return free_with_lookup(ptr);
    /* Atomic loads: the compiler must not reuse the first across the call. */
    before = __atomic_load_n(counter, __ATOMIC_RELAXED);
    jemalloc_free(ptr);
    return (size_t)(__atomic_load_n(counter, __ATOMIC_RELAXED) - before);
}

/* Checks the count against sallocx() on blocks of every kind of size. */
static bool deallocated_count_agrees(const struct hsw_backend_ops *ops)
{
    static const size_t sizes[] = {0, 1, 8, 17, 100, 1000, 4096, 14337, 16385, 100000, 3000000};
    const uint64_t *counter = find_thread_deallocated();

    if (counter == NULL)
        return false;
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        void *block = ops->malloc(sizes[i]);
        size_t usable;
        uint64_t before;

        if (block == NULL)
            return false;
        usable = sallocx(block, 0);
        before = __atomic_load_n(counter, __ATOMIC_RELAXED);
        ops->free(block);
        if (__atomic_load_n(counter, __ATOMIC_RELAXED) - before != usable)
            return false;
    }
    return true;
}

static struct hsw_size_table size_table;

static size_t jemalloc_good_size(size_t size)
{
    return nallocx(size, 0);
}

static int jemalloc_init(struct hsw_backend_ops *ops, const struct hsw_backend_options *options,
                         const char **why)
{
    (void)options;
    if (hsw_library_resolve((const void *)&mallctl, NULL, &jemalloc_symbols, ops, why) != 0)
        return -1;
    jemalloc_realloc = ops->realloc;
    ops->realloc = jemalloc_realloc_enomem;
    ops->usable_size = jemalloc_usable_size;
    jemalloc_free = ops->free;
    ops->free_counted = jemalloc_free_counted;
    deallocated_count_serves_frees = deallocated_count_agrees(ops);
    ops->thread_started = jemalloc_thread_started;
    ops->thread_usable_books = jemalloc_thread_usable_books;
    ops->new_block_usable = hsw_size_table_build(&size_table, jemalloc_good_size, ops);
    return 0;
}

static int read_size(const char *name, uint64_t *out)
{
    size_t value = 0, length = sizeof value;

    if (mallctl(name, &value, &length, NULL, 0) != 0)
        return -1;
    *out = value;
    return 0;
}

static int jemalloc_heap_figures(struct hsw_backend_heap *heap)
{
    uint64_t epoch = 1;
    size_t length = sizeof epoch;

    if (mallctl("epoch", &epoch, &length, &epoch, length) != 0)
        return -1;
    if (read_size("stats.resident", &heap->resident) != 0 ||
        read_size("stats.active", &heap->active) != 0 ||
        read_size("stats.mapped", &heap->mapped) != 0 ||
        read_size("stats.retained", &heap->retained) != 0)
        return -1;
    heap->committed = heap->mapped;
    heap->approximate = 1;
    heap->present = HEAPSWITCH_HEAP_RESIDENT | HEAPSWITCH_HEAP_ACTIVE | HEAPSWITCH_HEAP_MAPPED |
                    HEAPSWITCH_HEAP_RETAINED;
    return 0;
}

const struct hsw_backend hsw_backend_jemalloc = {
    .name = "jemalloc",
    .description = "jemalloc " JEMALLOC_VERSION,
    .init = jemalloc_init,
    .heap_figures = jemalloc_heap_figures,
};
