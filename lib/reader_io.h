/* What every part of the reader library shares: a refusal with its reason
 * (for the `why` buffers of the public API), and an exact read at an
 * offset of a file (a segment, or one of its sections). Header-only, so
 * each reader file and the sanitized test builds that compile the readers
 * in take it without one more source. */
#ifndef HSW_READER_IO_H
#define HSW_READER_IO_H

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>

/* Writes the reason into why (when there is room) and returns -1. */
static inline int hsw_refuse(char *why, size_t why_size, const char *format, ...)
    __attribute__((format(printf, 3, 4)));

static inline int hsw_refuse(char *why, size_t why_size, const char *format, ...)
{
    va_list arguments;

    if (why != NULL && why_size > 0) {
        va_start(arguments, format);
        vsnprintf(why, why_size, format, arguments);
        va_end(arguments);
    }
    return -1;
}

/* Reads exactly size bytes at offset; false when the file is shorter or
 * a read fails. */
static inline bool hsw_pread_exactly(int fd, void *buffer, size_t size, uint64_t offset)
{
    size_t done = 0;

    while (done < size) {
        ssize_t got = pread(fd, (char *)buffer + done, size - done, (off_t)(offset + done));
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            return false;
        done += (size_t)got;
    }
    return true;
}

#endif
