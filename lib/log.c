/* Diagnostics on stderr without stdio or allocation: they are written from
 * inside malloc, where neither is safe. */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <string.h>
#include <unistd.h>

#include "lib/internal.h"

void hsw_log(const char *first, ...)
{
    char line[1024];
    size_t used = 0;
    const char *piece = "heapswitch: ";
    va_list pieces;
    int saved_errno = errno;

    va_start(pieces, first);
    for (int index = 0; piece != NULL; index++) {
        size_t length = strlen(piece);
        if (length > sizeof line - 1 - used)
            length = sizeof line - 1 - used;
        memcpy(line + used, piece, length); // NOLINT(bugprone-not-null-terminated-result): a line for write(), not a string
        used += length;
        piece = index == 0 ? first : va_arg(pieces, const char *);
    }
    va_end(pieces);
    if (hsw_warning_given_by_parent(line, used)) {
        errno = saved_errno;
        return; /* once per process tree */
    }
    line[used++] = '\n';

    for (size_t done = 0; done < used;) {
        ssize_t written = write(STDERR_FILENO, line + done, used - done);
        if (written < 0 && errno == EINTR)
            continue;
        if (written <= 0)
            break;
        done += (size_t)written;
    }
    errno = saved_errno;
}
