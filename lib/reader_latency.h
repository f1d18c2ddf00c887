/* The reader's side of the latency section (lib/reader_latency.c), for
 * lib/reader.c. */
#ifndef HSW_READER_LATENCY_H
#define HSW_READER_LATENCY_H

#include <stddef.h>

#include "include/heapswitch.h"
#include "lib/segment_layout.h"

#pragma GCC visibility push(hidden)

/* Reads and decodes the latency section `header` names, if any, from the
 * segment open as `fd`; a segment without one leaves out->present 0.
 * Returns 0, or -1 with a reason for a section that cannot be trusted. */
int hsw_read_latency(int fd, const struct hsw_segment_header *header,
                     struct heapswitch_latency *out, char *why, size_t why_size);

#pragma GCC visibility pop

#endif
