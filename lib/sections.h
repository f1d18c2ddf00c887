/* Between the segment reader (lib/reader.c) and the readers of the
 * segment's sections (lib/sites_reader.c): the core is found and validated once,
 * by the reader; a section reader gets the open file and its header. */
#ifndef HSW_SECTIONS_H
#define HSW_SECTIONS_H

#include <sys/types.h>

#include "include/heapswitch.h"
#include "lib/segment_layout.h"

#pragma GCC visibility push(hidden)

/* heapswitch_read_pid(), and on success, when keep_fd is not NULL, the
 * segment's open file (the caller closes it) and its validated header,
 * whose sections lie inside the file as its size was then. */
int hsw_read_pid_segment(pid_t pid, struct heapswitch_snapshot *out, char *why,
                         size_t why_size, int *keep_fd, struct hsw_segment_header *keep_header);

#pragma GCC visibility pop

#endif
