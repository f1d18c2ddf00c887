/* C++ operator new and delete, by their Itanium-ABI names.
 *
 * libjemalloc and libmimalloc export their own operator new/delete; when
 * they are loaded ahead of libstdc++ (a C program that loads a C++ plugin,
 * or libstdc++'s own internal calls) those would win and bypass the active
 * backend. Defining them here, ahead of both, routes them through malloc.
 * Failure follows the standard: call the new-handler until it gives up,
 * then throw std::bad_alloc (nothrow forms return NULL). The libstdc++
 * helpers are weak so the library itself needs no C++ runtime. This file
 * is built with -fexceptions so that exceptions unwind through it.
 */
#include "config.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>

#include "lib/export.h"
#include "lib/internal.h"

#define HSW_ALIAS(name) __attribute__((alias(#name), visibility("default")))

typedef void (*new_handler_fn)(void);
/* std::get_new_handler() and std::__throw_bad_alloc() */
extern new_handler_fn _ZSt15get_new_handlerv(void) __attribute__((weak));
extern void _ZSt17__throw_bad_allocv(void) __attribute__((weak, noreturn));

static void *allocate(size_t size, size_t alignment)
{
    if (alignment == 0)
        return hsw_malloc(size);
    return hsw_aligned_alloc(alignment, size);
}

static void *cxx_new(size_t size, size_t alignment, bool nothrow)
{
    for (;;) {
        void *ptr = allocate(size, alignment);
        new_handler_fn handler;

        if (__builtin_expect(ptr != NULL, 1))
            return ptr;
        handler = _ZSt15get_new_handlerv != NULL ? _ZSt15get_new_handlerv() : NULL;
        if (handler == NULL) {
            if (nothrow)
                return NULL;
            if (_ZSt17__throw_bad_allocv != NULL)
                _ZSt17__throw_bad_allocv();
            abort();
        }
        handler();
    }
}

/* operator new(size_t) and new[] */
HSW_EXPORT void *_Znwm(size_t size);
HSW_EXPORT void *_Znwm(size_t size) { return cxx_new(size, 0, false); }
void *_Znam(size_t size) HSW_ALIAS(_Znwm);

/* operator new(size_t, const std::nothrow_t &) and new[] */
HSW_EXPORT void *_ZnwmRKSt9nothrow_t(size_t size, const void *tag);
HSW_EXPORT void *_ZnwmRKSt9nothrow_t(size_t size, const void *tag)
{
    (void)tag;
    return cxx_new(size, 0, true);
}
void *_ZnamRKSt9nothrow_t(size_t size, const void *tag) HSW_ALIAS(_ZnwmRKSt9nothrow_t);

/* operator new(size_t, std::align_val_t) and new[] */
HSW_EXPORT void *_ZnwmSt11align_val_t(size_t size, size_t alignment);
HSW_EXPORT void *_ZnwmSt11align_val_t(size_t size, size_t alignment)
{
    return cxx_new(size, alignment, false);
}
void *_ZnamSt11align_val_t(size_t size, size_t alignment) HSW_ALIAS(_ZnwmSt11align_val_t);

/* operator new(size_t, std::align_val_t, const std::nothrow_t &) and new[] */
HSW_EXPORT void *_ZnwmSt11align_val_tRKSt9nothrow_t(size_t size, size_t alignment,
                                                     const void *tag);
HSW_EXPORT void *_ZnwmSt11align_val_tRKSt9nothrow_t(size_t size, size_t alignment,
                                                     const void *tag)
{
    (void)tag;
    return cxx_new(size, alignment, true);
}
void *_ZnamSt11align_val_tRKSt9nothrow_t(size_t size, size_t alignment, const void *tag)
    HSW_ALIAS(_ZnwmSt11align_val_tRKSt9nothrow_t);

/* Every operator delete, sized or aligned or nothrow, is free(). */
HSW_EXPORT void _ZdlPv(void *ptr);
HSW_EXPORT void _ZdlPv(void *ptr) { hsw_free(ptr); }
void _ZdaPv(void *ptr) HSW_ALIAS(_ZdlPv);

HSW_EXPORT void _ZdlPvm(void *ptr, size_t size);
HSW_EXPORT void _ZdlPvm(void *ptr, size_t size)
{
    (void)size;
    hsw_free(ptr);
}
void _ZdaPvm(void *ptr, size_t size) HSW_ALIAS(_ZdlPvm);
void _ZdlPvSt11align_val_t(void *ptr, size_t alignment) HSW_ALIAS(_ZdlPvm);
void _ZdaPvSt11align_val_t(void *ptr, size_t alignment) HSW_ALIAS(_ZdlPvm);

HSW_EXPORT void _ZdlPvRKSt9nothrow_t(void *ptr, const void *tag);
HSW_EXPORT void _ZdlPvRKSt9nothrow_t(void *ptr, const void *tag)
{
    (void)tag;
    hsw_free(ptr);
}
void _ZdaPvRKSt9nothrow_t(void *ptr, const void *tag) HSW_ALIAS(_ZdlPvRKSt9nothrow_t);

HSW_EXPORT void _ZdlPvmSt11align_val_t(void *ptr, size_t size, size_t alignment);
HSW_EXPORT void _ZdlPvmSt11align_val_t(void *ptr, size_t size, size_t alignment)
{
    (void)size;
    (void)alignment;
    hsw_free(ptr);
}
void _ZdaPvmSt11align_val_t(void *ptr, size_t size, size_t alignment)
    HSW_ALIAS(_ZdlPvmSt11align_val_t);

HSW_EXPORT void _ZdlPvSt11align_val_tRKSt9nothrow_t(void *ptr, size_t alignment,
                                                     const void *tag);
HSW_EXPORT void _ZdlPvSt11align_val_tRKSt9nothrow_t(void *ptr, size_t alignment,
                                                     const void *tag)
{
    (void)alignment;
    (void)tag;
    hsw_free(ptr);
}
void _ZdaPvSt11align_val_tRKSt9nothrow_t(void *ptr, size_t alignment, const void *tag)
    HSW_ALIAS(_ZdlPvSt11align_val_tRKSt9nothrow_t);
