/* Private interfaces of lib/, grouped by the file that defines them.
 * Every name here is hsw_… and hidden from the library's exports. */
#ifndef HSW_INTERNAL_H
#define HSW_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "backends/backend.h"

/* Declarations here are of hidden symbols: direct, GOT-free access. */
#pragma GCC visibility push(hidden)

#define HSW_LIKELY(x) __builtin_expect(!!(x), 1)
#define HSW_UNLIKELY(x) __builtin_expect(!!(x), 0)

/* ---- lib/log.c ------------------------------------------------------- */

/* Writes "heapswitch: " and the NULL-terminated string pieces, then a
 * newline, to stderr with one write(2): no stdio, no allocation. */
void hsw_log(const char *first, ...) __attribute__((sentinel));

/* ---- lib/options.c --------------------------------------------------- */

enum hsw_option {
    HSW_OPT_BACKEND, /* HEAPSWITCH_BACKEND: a backend name */
    HSW_OPT_STRICT,  /* HEAPSWITCH_STRICT: fail instead of falling back */
    HSW_OPT_COUNT
};

/* The raw value of an option's environment variable, or NULL when unset.
 * Works before libc has finished starting up (no getenv, no allocation). */
const char *hsw_option_string(enum hsw_option option);
/* A boolean option: 1/true/yes/on and 0/false/no/off, any case; a bad
 * value is reported once and gives `fallback`. */
bool hsw_option_bool(enum hsw_option option, bool fallback);

/* ---- lib/bootstrap.c ------------------------------------------------- */

/* Serves allocations while no backend is ready (the dynamic loader and
 * dlsym() call malloc while heapswitch initialises). Never freed. */
void *hsw_bootstrap_alloc(size_t alignment, size_t size);
void *hsw_bootstrap_realloc(void *ptr, size_t size);
size_t hsw_bootstrap_usable_size(const void *ptr);

#define HSW_BOOTSTRAP_SIZE (1024 * 1024)
extern unsigned char hsw_bootstrap_region[HSW_BOOTSTRAP_SIZE];

/* Whether ptr lies in the bootstrap region: one subtraction and compare. */
static inline bool hsw_bootstrap_owns(const void *ptr)
{
    return (uintptr_t)ptr - (uintptr_t)hsw_bootstrap_region < HSW_BOOTSTRAP_SIZE;
}

/* ---- lib/dispatch.c -------------------------------------------------- */

/* The active backend's operations. Before initialisation they point at
 * functions that initialise first; the hot path only ever calls through. */
extern struct hsw_backend_ops hsw_ops;

/* Selects and initialises the backend once; safe to call from any thread
 * and from inside an allocation. Returns true when hsw_ops is the
 * backend's, false while initialisation is in progress (serve the call
 * from the bootstrap region then). */
bool hsw_ensure_ready(void);
/* The active backend's name ("system" until initialised). */
const char *hsw_active_backend_name(void);

/* ---- lib/interpose.c ------------------------------------------------ */

/* The malloc family as the program sees it; exported under libc names. */
void *hsw_malloc(size_t size);
void hsw_free(void *ptr);
void *hsw_calloc(size_t count, size_t size);
void *hsw_realloc(void *ptr, size_t size);
void *hsw_reallocarray(void *ptr, size_t count, size_t size);
size_t hsw_malloc_usable_size(void *ptr);
void *hsw_aligned_alloc(size_t alignment, size_t size);
int hsw_posix_memalign(void **result, size_t alignment, size_t size);
void *hsw_memalign(size_t alignment, size_t size);
void *hsw_valloc(size_t size);
void *hsw_pvalloc(size_t size);
void hsw_free_sized(void *ptr, size_t size);
void hsw_free_aligned_sized(void *ptr, size_t alignment, size_t size);

#pragma GCC visibility pop

#endif
