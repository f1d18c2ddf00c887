/* The jemalloc backend.
 *
 * libjemalloc is a load-time dependency of libheapswitch (never dlopen'ed:
 * it uses initial-exec TLS). Its standard entry points are taken from the
 * library itself, so calls reach the same fast paths as when jemalloc is
 * preloaded directly; `mallctl` exists only in jemalloc and anchors the
 * lookup to the right library. jemalloc's realloc returns NULL without
 * setting errno for impossible sizes, so it alone is wrapped. Heap
 * figures come from mallctl after an `epoch` refresh; they lag behind
 * thread caches, so they are approximate.
 */
#include "config.h"

#include <errno.h>
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

static struct hsw_size_table size_table;

static size_t jemalloc_good_size(size_t size)
{
    return nallocx(size, 0);
}

static int jemalloc_init(struct hsw_backend_ops *ops, const char **why)
{
    if (hsw_library_resolve((const void *)&mallctl, NULL, &jemalloc_symbols, ops, why) != 0)
        return -1;
    jemalloc_realloc = ops->realloc;
    ops->realloc = jemalloc_realloc_enomem;
    ops->usable_size = jemalloc_usable_size;
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
    return 0;
}

const struct hsw_backend hsw_backend_jemalloc = {
    .name = "jemalloc",
    .description = "jemalloc " JEMALLOC_VERSION,
    .init = jemalloc_init,
    .heap_figures = jemalloc_heap_figures,
};
