/* Call-site rows: rates between two reads of a process's sites, the
 * frame that names each site, the order they are shown in. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dashboard/sites_model.h"

static const char *const sort_keys[HSW_SITE_SORT_KINDS] = {"allocs", "bytes", "live"};

const char *hsw_site_sort_key(enum hsw_site_sort sort)
{
    return sort < HSW_SITE_SORT_KINDS ? sort_keys[sort] : "?";
}

int hsw_site_sort_by_key(const char *key)
{
    for (int i = 0; i < HSW_SITE_SORT_KINDS; i++)
        if (strcmp(key, sort_keys[i]) == 0)
            return i;
    return -1;
}

/* Sites compare by their stacks: depth, then frames. */
static int compare_stacks(const void *a, const void *b)
{
    const struct heapswitch_site *x = a, *y = b;

    if (x->other != y->other)
        return x->other ? 1 : -1;
    if (x->depth != y->depth)
        return x->depth < y->depth ? -1 : 1;
    return memcmp(x->frames, y->frames, x->depth * sizeof x->frames[0]);
}

static enum hsw_site_sort row_sort;

static double sort_value(const struct hsw_site_row *row)
{
    switch (row_sort) {
    case HSW_SITE_SORT_BYTES: return row->bytes;
    case HSW_SITE_SORT_LIVE: return row->live_bytes;
    default: return row->allocations;
    }
}

/* Largest first; ties by allocations, then by stack, so the order is stable. */
static int compare_rows(const void *a, const void *b)
{
    const struct hsw_site_row *x = a, *y = b;
    double vx = sort_value(x), vy = sort_value(y);

    if (vx != vy)
        return vx > vy ? -1 : 1;
    if (x->allocations != y->allocations)
        return x->allocations > y->allocations ? -1 : 1;
    return compare_stacks(x->site, y->site);
}

struct hsw_site_row *hsw_site_rows(const struct heapswitch_sites *earlier,
                                   const struct heapswitch_sites *later, double seconds,
                                   double requests, enum hsw_site_sort sort)
{
    struct hsw_site_row *rows = calloc(later->count + 1, sizeof *rows);
    struct heapswitch_site *before = NULL;
    size_t before_count = 0;

    if (rows == NULL)
        return NULL;
    if (earlier != NULL && earlier->count > 0) {
        before = malloc(earlier->count * sizeof *before);
        if (before == NULL) {
            free(rows);
            return NULL;
        }
        memcpy(before, earlier->sites, earlier->count * sizeof *before);
        before_count = earlier->count;
        qsort(before, before_count, sizeof *before, compare_stacks);
    }
    for (size_t i = 0; i < later->count; i++) {
        const struct heapswitch_site *now = &later->sites[i];
        const struct heapswitch_site *then =
            before != NULL ? bsearch(now, before, before_count, sizeof *before, compare_stacks)
                           : NULL;
        double allocations = now->allocations, bytes = now->bytes;

        if (then != NULL) {
            allocations = allocations > then->allocations ? allocations - then->allocations : 0;
            bytes = bytes > then->bytes ? bytes - then->bytes : 0;
        }
        rows[i].site = now;
        rows[i].allocations = earlier != NULL && seconds > 0 ? allocations / seconds : allocations;
        rows[i].bytes = earlier != NULL && seconds > 0 ? bytes / seconds : bytes;
        rows[i].live_bytes = now->live_bytes;
        rows[i].allocations_per_request = requests > 0 ? allocations / requests : -1;
    }
    free(before);
    row_sort = sort;
    qsort(rows, later->count, sizeof *rows, compare_rows);
    return rows;
}

bool hsw_site_symbolize(struct hsw_symbolizer *symbolizer, const struct heapswitch_site *site,
                        struct hsw_frame_symbols *frames, struct hsw_site_row *row,
                        unsigned *budget)
{
    bool named = false, complete = true;

    row->label_frame = row->label_symbol = 0;
    for (unsigned f = 0; f < site->depth; f++) {
        if (!hsw_symbolize_within(symbolizer, site->frames[f], &frames[f], budget))
            complete = false;
        for (unsigned s = 0; s < frames[f].count && !named; s++)
            if (!frames[f].symbols[s].system) {
                row->label_frame = f;
                row->label_symbol = s;
                named = true;
            }
    }
    return complete;
}

const char *hsw_symbol_text(const struct hsw_symbol *symbol, char *out, size_t size)
{
    const char *file = strrchr(symbol->file, '/');

    file = file != NULL ? file + 1 : symbol->file;
    if (symbol->line > 0)
        snprintf(out, size, "%s (%s:%u)", symbol->function, file, symbol->line);
    else if (symbol->module[0] != '\0' && strchr(symbol->function, '+') == NULL &&
             strncmp(symbol->function, "0x", 2) != 0)
        snprintf(out, size, "%s [%s]", symbol->function, symbol->module);
    else
        snprintf(out, size, "%s", symbol->function);
    return out;
}

const char *hsw_site_label(const struct hsw_frame_symbols *frames, unsigned depth,
                           const struct hsw_site_row *row, char *out, size_t size)
{
    const struct hsw_symbol *caller = NULL;
    unsigned f = row->label_frame, s = row->label_symbol;
    size_t used;

    hsw_symbol_text(&frames[f].symbols[s], out, size);
    /* The next symbol outward: the function an inlined call sits in, or
     * the next frame's innermost. */
    if (s + 1 < frames[f].count)
        caller = &frames[f].symbols[s + 1];
    else if (f + 1 < depth)
        caller = &frames[f + 1].symbols[0];
    used = strlen(out);
    if (caller != NULL && used + 8 < size) {
        if (caller->line > 0)
            snprintf(out + used, size - used, " < %s:%u", caller->function, caller->line);
        else
            snprintf(out + used, size - used, " < %s", caller->function);
    }
    return out;
}
