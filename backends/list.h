/* Every backend heapswitch knows, once, in the order users see them: the
 * runtime's registry (backends/registry.c) and the command's table
 * (dashboard/library.c) are both made from this list. Adding a backend is
 * one line here and its file (docs/ARCHITECTURE.md, "Adding a backend").
 *
 * X(NAME, BUILT, DESCRIPTOR, WHY_NOT, DIRECT): NAME is the HEAPSWITCH_BACKEND
 * value; BUILT is 1 when this build has it; DESCRIPTOR is the address of
 * the file's hsw_backend_NAME (NULL when not built); WHY_NOT
 * says why not; DIRECT is the library that is the same allocator when
 * preloaded alone (for `heapswitch ab`'s timed runs), "" when configure
 * found none, NULL when there is nothing to preload (libc's, or
 * heapswitch's own). Needs config.h. */
#ifndef HSW_BACKEND_LIST_H
#define HSW_BACKEND_LIST_H

/* BUILT, and DESCRIPTOR: the backend's descriptor where built, NULL
 * where not (only backends/registry.c expands it). */
#ifdef HAVE_JEMALLOC
#define HSW_BUILT_JEMALLOC 1
#define HSW_DESCRIPTOR_JEMALLOC (&hsw_backend_jemalloc)
#else
#define HSW_BUILT_JEMALLOC 0
#define HSW_DESCRIPTOR_JEMALLOC NULL
#endif
#ifdef HAVE_MIMALLOC
#define HSW_BUILT_MIMALLOC 1
#define HSW_DESCRIPTOR_MIMALLOC (&hsw_backend_mimalloc)
#else
#define HSW_BUILT_MIMALLOC 0
#define HSW_DESCRIPTOR_MIMALLOC NULL
#endif

#define HSW_BACKEND_LIST(X)                                                                  \
    X(system, 1, (&hsw_backend_system), NULL, NULL)                                          \
    X(jemalloc, HSW_BUILT_JEMALLOC, HSW_DESCRIPTOR_JEMALLOC,                                 \
      "this build has no jemalloc (configure found no libjemalloc-dev, or --without-jemalloc)", \
      HSW_JEMALLOC_SO)                                                                       \
    X(mimalloc, HSW_BUILT_MIMALLOC, HSW_DESCRIPTOR_MIMALLOC,                                 \
      "this build has no mimalloc (configure found no libmimalloc-dev, or --without-mimalloc)", \
      HSW_MIMALLOC_SO)                                                                       \
    X(arena, 1, (&hsw_backend_arena), NULL, NULL)

#endif
