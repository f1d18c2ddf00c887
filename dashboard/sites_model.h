/* Call-site rows for `heapswitch sites` and top's sites pane: the sites
 * of one process between two reads (rates) or at one (totals), named by
 * their innermost frame outside libc, libstdc++ and heapswitch, sorted. */
#ifndef HSW_SITES_MODEL_H
#define HSW_SITES_MODEL_H

#include <stdbool.h>
#include <stddef.h>

#include "dashboard/symbols.h"
#include "include/heapswitch.h"

enum hsw_site_sort {
    HSW_SITE_SORT_ALLOCATIONS, /* allocations (per second with two reads) */
    HSW_SITE_SORT_BYTES,       /* bytes allocated (per second with two reads) */
    HSW_SITE_SORT_LIVE,        /* live bytes now */
    HSW_SITE_SORT_KINDS
};

struct hsw_site_row {
    const struct heapswitch_site *site; /* in the later read */
    double allocations; /* per second with two reads, else totals */
    double bytes;
    double live_bytes;  /* now */
    double allocations_per_request; /* -1 when no request was marked */
    unsigned label_frame;  /* the frame that names the site */
    unsigned label_symbol; /* the symbol within it */
};

/* "allocs", "bytes", "live" (for --sort and the pane's title). */
const char *hsw_site_sort_key(enum hsw_site_sort sort);
/* The sort a key names, or -1. */
int hsw_site_sort_by_key(const char *key);

/* Rows for every site of `later`: rates against `earlier` over seconds
 * when earlier is not NULL (a site absent from it counts from zero),
 * totals otherwise; per request where requests > 0 marked in between (or
 * in all, for totals). Sorted by `sort`, largest first. Returns a
 * malloc'd array of later->count rows, or NULL out of memory. */
struct hsw_site_row *hsw_site_rows(const struct heapswitch_sites *earlier,
                                   const struct heapswitch_sites *later, double seconds,
                                   double requests, enum hsw_site_sort sort);

/* Symbols of every frame of a site (depth entries in out), and which
 * symbol names it: the innermost outside the system's libraries. With a
 * budget (hsw_symbolize_within), false when some frames were left bare. */
bool hsw_site_symbolize(struct hsw_symbolizer *symbolizer, const struct heapswitch_site *site,
                        struct hsw_frame_symbols *frames, struct hsw_site_row *row,
                        unsigned *budget);

/* A row's name: its naming symbol, then " < " and the function (and line)
 * that called it, so that rows of one function reached from different
 * calls tell apart (`depth` frames of symbols). */
const char *hsw_site_label(const struct hsw_frame_symbols *frames, unsigned depth,
                           const struct hsw_site_row *row, char *out, size_t size);

/* "function (file:line)", "function", "module+0xOFFSET" for one symbol. */
const char *hsw_symbol_text(const struct hsw_symbol *symbol, char *out, size_t size);

#endif
