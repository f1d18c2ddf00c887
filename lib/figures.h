/* What a segment's byte figures mean: live bytes, fragmentation and the
 * bytes held beyond the live ones, and which of them are estimates, from a
 * header and the slots' summed usable-byte counts. One definition for the
 * reader (libheapswitch-reader) and the exit report (libheapswitch). */
#ifndef HSW_FIGURES_H
#define HSW_FIGURES_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/segment_layout.h"

#pragma GCC visibility push(hidden)

struct hsw_live_figures {
    enum hsw_stats_level stats_level;
    bool usable_counted;   /* bytes_allocated/freed hold figures (exact or from books) */
    bool usable_exact;     /* ... counted at every call */
    bool live_known;       /* false: no live figure at all (shown as unknown) */
    uint64_t live;         /* live bytes now (counted) or at the last refresh */
    double fragmentation;  /* of one refresh's live and resident bytes; -1 unknown */
    int64_t overhead;      /* resident - live of that refresh; -1 unknown */
};

/* pre: the header passed the reader's checks (or is this process's own). */
void hsw_figures_decode(const struct hsw_segment_header *header, uint64_t bytes_allocated,
                        uint64_t bytes_freed, struct hsw_live_figures *out);

#pragma GCC visibility pop

#endif
