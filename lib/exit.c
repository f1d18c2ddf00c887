/* _exit and _Exit: a process that ends this way (dash always does, fork
 * children usually do) runs no destructor, so the segment would be left
 * behind as if the process had been killed. These finish it first, then
 * end the process as glibc's _exit does, with exit_group. glibc's own
 * internal calls to _exit (posix_spawn's child) do not come here.
 */
#include "config.h"

#include <sys/syscall.h>
#include <unistd.h>

#include "lib/export.h"
#include "lib/internal.h"

HSW_EXPORT void _exit(int status)
{
    hsw_segment_finish(false);
    for (;;)
        syscall(SYS_exit_group, status);
}

void _Exit(int status) __attribute__((alias("_exit"), visibility("default")));
