/* dlopen without RTLD_DEEPBIND.
 *
 * A library loaded with RTLD_DEEPBIND looks symbols up in itself and its
 * own dependencies before the global scope: its malloc and free are
 * libc's, not heapswitch's, and a block that crosses between it and the
 * rest of the program reaches an allocator that did not make it (glibc
 * aborts with "free(): invalid pointer", jemalloc and mimalloc crash).
 * PHP loads its extensions so. heapswitch loads such a library without
 * the flag, and says so once.
 *
 * glibc's dlopen finds its caller from its own return address (the
 * caller's RUNPATH and namespace apply), so the wrapper ends in a tail
 * jump: the real dlopen returns straight to the caller.
 * tests/api/dlopen checks that a name only the caller's RUNPATH finds
 * still loads.
 */
#include "config.h"

#include <dlfcn.h>
#include <stddef.h>

#include "lib/export.h"
#include "lib/internal.h"

typedef void *(*dlopen_function)(const char *file, int mode);

static dlopen_function next_dlopen(void)
{
    static dlopen_function next;

    if (__atomic_load_n(&next, __ATOMIC_ACQUIRE) == NULL)
        __atomic_store_n(&next, (dlopen_function)dlsym(RTLD_NEXT, "dlopen"), __ATOMIC_RELEASE);
    return __atomic_load_n(&next, __ATOMIC_ACQUIRE);
}

__attribute__((noinline, cold)) static void note_deepbind(const char *file)
{
    static int noted;

    if (__atomic_exchange_n(&noted, 1, __ATOMIC_RELAXED) == 0)
        hsw_log("loading ", file != NULL ? file : "(the program)",
                " without RTLD_DEEPBIND, which would bind its malloc and free to libc's "
                "instead of the active backend's (said once)",
                (const char *)NULL);
}

HSW_EXPORT void *dlopen(const char *file, int mode)
{
    dlopen_function next = next_dlopen();

    if (next == NULL)
        return NULL;
    if (HSW_UNLIKELY((mode & RTLD_DEEPBIND) != 0)) {
        note_deepbind(file);
        mode &= ~RTLD_DEEPBIND;
    }
    return next(file, mode);
}
