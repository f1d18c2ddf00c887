/* The jemalloc backend.
 *
 * libjemalloc is a load-time dependency of libheapswitch (never dlopen'ed:
 * it uses initial-exec TLS). Its standard entry points are taken from the
 * library itself, so calls reach the same fast paths as when jemalloc is
 * preloaded directly; `mallctl` exists only in jemalloc and anchors the
 * lookup to the right library. jemalloc's realloc returns NULL without
 * setting errno for impossible sizes, so it alone is wrapped.
 */
#include "config.h"

#include <errno.h>
#include <jemalloc/jemalloc.h>

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

static int jemalloc_init(struct hsw_backend_ops *ops, const char **why)
{
    if (hsw_library_resolve((const void *)&mallctl, NULL, &jemalloc_symbols, ops, why) != 0)
        return -1;
    jemalloc_realloc = ops->realloc;
    ops->realloc = jemalloc_realloc_enomem;
    return 0;
}

const struct hsw_backend hsw_backend_jemalloc = {
    .name = "jemalloc",
    .description = "jemalloc " JEMALLOC_VERSION,
    .init = jemalloc_init,
};
