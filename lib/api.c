/* The public API of include/heapswitch.h that is not an allocator entry. */
#include "config.h"

#include "include/heapswitch.h"
#include "lib/internal.h"

__attribute__((visibility("default"))) const char *heapswitch_backend_name(void)
{
    return hsw_active_backend_name();
}

__attribute__((visibility("default"))) const char *heapswitch_version(void)
{
    return PACKAGE_VERSION;
}

__attribute__((visibility("default"))) void heapswitch_request_done(void)
{
    hsw_count_request();
}

__attribute__((visibility("default"))) int heapswitch_backend_owns(const void *ptr)
{
    if (!hsw_ensure_ready() || hsw_ops.owns == NULL)
        return -1;
    return hsw_ops.owns(ptr) ? 1 : 0;
}
