/* Fault injection for tests: HEAPSWITCH_FAULT_EVERY=N makes every Nth
 * allocating call fail with NULL and ENOMEM (posix_memalign: ENOMEM), as
 * if the backend were out of memory, so that programs' and heapswitch's
 * own failure paths can be exercised. The wrappers are installed in the
 * dispatch table only when the variable is set: without it, no call
 * passes through here and nothing is paid.
 */
#include "config.h"

#include <errno.h>
#include <stdint.h>

#include "lib/internal.h"

static struct hsw_backend_ops real;
static uint64_t every;
static uint64_t calls; /* atomic: allocating calls so far */

static bool should_fail(void)
{
    return __atomic_add_fetch(&calls, 1, __ATOMIC_RELAXED) % every == 0;
}

static void *failing_malloc(size_t size)
{
    if (should_fail()) {
        errno = ENOMEM;
        return NULL;
    }
    return real.malloc(size);
}

static void *failing_calloc(size_t count, size_t size)
{
    if (should_fail()) {
        errno = ENOMEM;
        return NULL;
    }
    return real.calloc(count, size);
}

static void *failing_realloc(void *ptr, size_t size)
{
    if (should_fail()) {
        errno = ENOMEM;
        return NULL;
    }
    return real.realloc(ptr, size);
}

static void *failing_aligned_alloc(size_t alignment, size_t size)
{
    if (should_fail()) {
        errno = ENOMEM;
        return NULL;
    }
    return real.aligned_alloc(alignment, size);
}

void hsw_fault_wrap(struct hsw_backend_ops *ops)
{
    const char *text = hsw_option_string(HSW_OPT_FAULT_EVERY);
    uint64_t value = 0;

    if (text == NULL || text[0] == '\0')
        return;
    for (const char *at = text; *at != '\0'; at++) {
        if (*at < '0' || *at > '9' || value > UINT64_MAX / 10) {
            value = 0;
            break;
        }
        value = value * 10 + (uint64_t)(*at - '0');
    }
    if (value == 0) {
        hsw_log("ignoring HEAPSWITCH_FAULT_EVERY='", text, "' (a positive integer)", (const char *)NULL);
        return;
    }
    every = value;
    real = *ops;
    ops->malloc = failing_malloc;
    ops->calloc = failing_calloc;
    ops->realloc = failing_realloc;
    ops->aligned_alloc = failing_aligned_alloc;
    /* A backend's own counted malloc would bypass failing_malloc. */
    ops->malloc_and_count = NULL;
}
