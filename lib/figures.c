/* What a segment's byte figures mean (see lib/figures.h). A minor-0
 * writer counted usable bytes at every call and published no live figure
 * of its refreshes. */
#include "config.h"

#include "lib/figures.h"

void hsw_figures_decode(const struct hsw_segment_header *header, uint64_t bytes_allocated,
                        uint64_t bytes_freed, struct hsw_live_figures *out)
{
    bool minor_1 = header->layout_minor >= 1;
    uint32_t figures = minor_1 ? header->figures : HSW_USABLE_EXACT;
    bool live_at_refresh = minor_1 && header->heap.live_valid != 0;
    uint64_t refresh_live;

    out->stats_level = minor_1 && header->stats_level == HSW_STATS_DEFAULT ? HSW_STATS_DEFAULT
                                                                          : HSW_STATS_EXACT;
    out->usable_exact = (figures & HSW_USABLE_EXACT) != 0;
    out->usable_counted = (figures & (HSW_USABLE_EXACT | HSW_USABLE_FROM_BOOKS)) != 0;
    /* Counted usable bytes give live bytes of this moment; the others,
     * those of the last refresh. */
    out->live_known = out->usable_counted || live_at_refresh;
    if (out->usable_counted)
        out->live = bytes_allocated > bytes_freed ? bytes_allocated - bytes_freed : 0;
    else
        out->live = live_at_refresh ? header->heap.live : 0;

    out->fragmentation = -1;
    out->overhead = -1;
    if (!header->heap.valid || header->heap.resident == 0 || !out->live_known)
        return;
    refresh_live = live_at_refresh ? header->heap.live : out->live;
    out->fragmentation = hsw_fragmentation(refresh_live, header->heap.resident);
    if (refresh_live >= header->heap.resident)
        out->overhead = 0;
    else if (header->heap.resident - refresh_live > (uint64_t)INT64_MAX)
        out->overhead = INT64_MAX; /* a hostile segment: keep it non-negative */
    else
        out->overhead = (int64_t)(header->heap.resident - refresh_live);
}
