/* Resolves a backend's operations inside one already-loaded library.
 *
 * glibc, jemalloc and mimalloc all export `malloc`, and Debian's mimalloc
 * also exports `__libc_malloc`: a lookup through the global scope (or
 * RTLD_NEXT) can land in the wrong one. A handle to the library itself
 * limits dlsym() to that library and its own dependencies, where it comes
 * first. The library is a load-time dependency of libheapswitch, so
 * RTLD_NOLOAD always finds it and nothing is loaded at run time.
 */
#include "config.h"

#include <dlfcn.h>
#include <stddef.h>

#include "backends/backend.h"

static void *library_handle(const void *anchor, const char *soname)
{
    Dl_info info;

    if (anchor != NULL) {
        if (dladdr(anchor, &info) == 0 || info.dli_fname == NULL)
            return NULL;
        soname = info.dli_fname;
    }
    return dlopen(soname, RTLD_NOW | RTLD_NOLOAD);
}

static int resolve_one(void *handle, const char *symbol, void **slot)
{
    *slot = dlsym(handle, symbol);
    return *slot != NULL ? 0 : -1;
}

int hsw_library_resolve(const void *anchor, const char *soname,
                        const struct hsw_library_symbols *symbols,
                        struct hsw_backend_ops *ops, const char **why)
{
    void *handle = library_handle(anchor, soname);

    if (handle == NULL) {
        *why = "its shared library is not loaded in this process";
        return -1;
    }
    /* Function and object pointers share a representation on every
     * platform glibc supports; POSIX requires it for dlsym(). */
    if (resolve_one(handle, symbols->malloc, (void **)&ops->malloc) != 0 ||
        resolve_one(handle, symbols->free, (void **)&ops->free) != 0 ||
        resolve_one(handle, symbols->calloc, (void **)&ops->calloc) != 0 ||
        resolve_one(handle, symbols->realloc, (void **)&ops->realloc) != 0 ||
        resolve_one(handle, symbols->aligned_alloc,
                    (void **)&ops->aligned_alloc) != 0 ||
        resolve_one(handle, symbols->usable_size,
                    (void **)&ops->usable_size) != 0) {
        *why = "its shared library lacks a malloc-family symbol";
        return -1;
    }
    ops->free_counted = NULL;
    ops->new_block_usable = NULL;
    ops->thread_started = NULL;
    ops->malloc_and_count = NULL;
    ops->free_and_count = NULL;
    /* The handle is kept: the library must stay for the process's life. */
    return 0;
}
