/* The jemalloc backend.
 *
 * libjemalloc is a load-time dependency of libheapswitch (never dlopen'ed:
 * it uses initial-exec TLS). Its standard entry points are taken from the
 * library itself, so calls reach the same fast paths as when jemalloc is
 * preloaded directly; `mallctl` exists only in jemalloc and anchors the
 * lookup to the right library.
 */
#include "config.h"

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

static int jemalloc_init(struct hsw_backend_ops *ops, const char **why)
{
    return hsw_library_resolve((const void *)&mallctl, NULL, &jemalloc_symbols,
                               ops, why);
}

const struct hsw_backend hsw_backend_jemalloc = {
    .name = "jemalloc",
    .description = "jemalloc " JEMALLOC_VERSION,
    .init = jemalloc_init,
};
