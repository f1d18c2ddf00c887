/* The bootstrap region: a static bump allocator for the calls that arrive
 * while no backend is ready yet (dlopen/dlsym inside backend selection,
 * other threads racing the first call).
 *
 * Blocks are never reused, so the region needs no lock: a compare-and-swap
 * on the bump offset claims space. It lives in .bss and costs no memory
 * until touched. free() of a bootstrap block is a no-op; realloc() and
 * malloc_usable_size() read the size stored just before the block.
 */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "lib/internal.h"

#define BOOTSTRAP_GRAIN 16 /* the alignment malloc guarantees on x86-64 */

struct block_header {
    size_t usable;
    size_t reserved; /* keeps the block aligned to BOOTSTRAP_GRAIN */
};

unsigned char hsw_bootstrap_region[HSW_BOOTSTRAP_SIZE] __attribute__((aligned(64)));

static size_t bootstrap_used;

static size_t round_up(size_t value, size_t multiple)
{
    return (value + multiple - 1) & ~(multiple - 1);
}

static struct block_header *header_of(const void *ptr)
{
    return (struct block_header *)((uintptr_t)ptr - sizeof(struct block_header));
}

void *hsw_bootstrap_alloc(size_t alignment, size_t size)
{
    size_t old_used, start, end;

    if (alignment < BOOTSTRAP_GRAIN)
        alignment = BOOTSTRAP_GRAIN;
    if (size > HSW_BOOTSTRAP_SIZE || alignment > HSW_BOOTSTRAP_SIZE) {
        errno = ENOMEM;
        return NULL;
    }
    size = round_up(size == 0 ? 1 : size, BOOTSTRAP_GRAIN);
    old_used = __atomic_load_n(&bootstrap_used, __ATOMIC_RELAXED);
    do {
        uintptr_t base = (uintptr_t)hsw_bootstrap_region;
        start = round_up(base + old_used + sizeof(struct block_header),
                         alignment) - base;
        end = start + size;
        if (end > HSW_BOOTSTRAP_SIZE) {
            hsw_log("bootstrap region exhausted; allocation refused", (const char *)NULL);
            errno = ENOMEM;
            return NULL;
        }
    } while (!__atomic_compare_exchange_n(&bootstrap_used, &old_used, end,
                                          true, __ATOMIC_RELAXED,
                                          __ATOMIC_RELAXED));
    header_of(hsw_bootstrap_region + start)->usable = size;
    /* .bss starts zeroed and blocks are never reused: calloc needs no memset. */
    return hsw_bootstrap_region + start;
}

size_t hsw_bootstrap_usable_size(const void *ptr)
{
    return header_of(ptr)->usable;
}

void *hsw_bootstrap_realloc(void *ptr, size_t size)
{
    void *fresh = hsw_bootstrap_alloc(BOOTSTRAP_GRAIN, size);
    size_t old_size;

    if (fresh == NULL || ptr == NULL)
        return fresh;
    old_size = hsw_bootstrap_usable_size(ptr);
    memcpy(fresh, ptr, old_size < size ? old_size : size);
    return fresh;
}
