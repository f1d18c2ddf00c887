/* The list of backends: one line per backend. */
#include "config.h"

#include "backends/backend.h"

extern const struct hsw_backend hsw_backend_system;
extern const struct hsw_backend hsw_backend_jemalloc;
extern const struct hsw_backend hsw_backend_mimalloc;
extern const struct hsw_backend hsw_backend_arena;

const struct hsw_backend_entry hsw_backend_registry[] = {
    {"system", &hsw_backend_system, NULL},
#ifdef HAVE_JEMALLOC
    {"jemalloc", &hsw_backend_jemalloc, NULL},
#else
    {"jemalloc", NULL, "this build has no jemalloc (configure found no libjemalloc-dev, or --without-jemalloc)"},
#endif
#ifdef HAVE_MIMALLOC
    {"mimalloc", &hsw_backend_mimalloc, NULL},
#else
    {"mimalloc", NULL, "this build has no mimalloc (configure found no libmimalloc-dev, or --without-mimalloc)"},
#endif
    {"arena", &hsw_backend_arena, NULL},
};

const size_t hsw_backend_registry_count =
    sizeof hsw_backend_registry / sizeof hsw_backend_registry[0];
