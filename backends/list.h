/* Every backend heapswitch knows, once, in the order users see them: the
 * runtime's registry (backends/registry.c) and the command's table
 * (dashboard/library.c) are both made from this list. Adding a backend is
 * one line here and its file (docs/ARCHITECTURE.md, "Adding a backend").
 *
 * X(NAME, BUILT, WHY_NOT, DIRECT): NAME is the HEAPSWITCH_BACKEND value and
 * the file's hsw_backend_NAME; BUILT is 1 when this build has it; WHY_NOT
 * says why not; DIRECT is the library that is the same allocator when
 * preloaded alone (for `heapswitch ab`'s timed runs), "" when configure
 * found none, NULL when there is nothing to preload (libc's, or
 * heapswitch's own). Needs config.h. */
#ifndef HSW_BACKEND_LIST_H
#define HSW_BACKEND_LIST_H

#ifdef HAVE_JEMALLOC
#define HSW_BUILT_JEMALLOC 1
#else
#define HSW_BUILT_JEMALLOC 0
#endif
#ifdef HAVE_MIMALLOC
#define HSW_BUILT_MIMALLOC 1
#else
#define HSW_BUILT_MIMALLOC 0
#endif

#define HSW_BACKEND_LIST(X)                                                                  \
    X(system, 1, NULL, NULL)                                                                 \
    X(jemalloc, HSW_BUILT_JEMALLOC,                                                          \
      "this build has no jemalloc (configure found no libjemalloc-dev, or --without-jemalloc)", \
      HSW_JEMALLOC_SO)                                                                       \
    X(mimalloc, HSW_BUILT_MIMALLOC,                                                          \
      "this build has no mimalloc (configure found no libmimalloc-dev, or --without-mimalloc)", \
      HSW_MIMALLOC_SO)                                                                       \
    X(arena, 1, NULL, NULL)

#endif
