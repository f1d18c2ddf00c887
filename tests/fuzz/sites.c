/* libFuzzer target for heapswitch_parse_sites(), the reader of a
 * process's sites section: any input must be refused with a terminated
 * reason and no sites, or give at most `capacity` sites of depths within
 * their frames, the "other" row last, no stack twice, estimates finite
 * and not negative; with no read past the input (a copy of exactly its
 * size) and no undefined behaviour (lib/sites_reader.c compiled in under
 * ASan and UBSan). Seeds: sites-mutate --seeds DIR. */
#include "config.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "include/heapswitch.h"
#include "lib/segment_layout.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void give_up(const char *problem)
{
    fprintf(stderr, "sites fuzzer: %s\n", problem);
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct heapswitch_sites sites;
    char why[128];
    unsigned char *copy = malloc(size ? size : 1);

    if (copy == NULL)
        return 0;
    memcpy(copy, data, size);
    memset(why, '#', sizeof why);
    if (heapswitch_parse_sites(copy, size, &sites, why, sizeof why) != 0) {
        if (memchr(why, '\0', sizeof why) == NULL || why[0] == '\0')
            give_up("a refusal without a terminated reason");
        if (sites.sites != NULL || sites.count != 0)
            give_up("a refusal that kept sites");
    } else {
        if (sizeof(struct hsw_sites_header) + (size_t)sites.capacity * sizeof(struct hsw_site) > size)
            give_up("a capacity past the section");
        if (sites.count > sites.capacity)
            give_up("more sites than entries");
        for (size_t i = 0; i < sites.count; i++) {
            const struct heapswitch_site *site = &sites.sites[i];
            if (site->depth > HEAPSWITCH_SITE_FRAMES || (site->other && site->depth != 0) ||
                (!site->other && site->depth == 0))
                give_up("a depth out of range");
            if (site->other && i + 1 != sites.count)
                give_up("the other row not last");
            if (!isfinite(site->allocations) || !isfinite(site->bytes) || site->allocations < 0 ||
                site->live_bytes < 0 || site->live_blocks < 0)
                give_up("an estimate out of range");
            if (i > 0 && !site->other && site->depth == sites.sites[i - 1].depth &&
                memcmp(site->frames, sites.sites[i - 1].frames,
                       site->depth * sizeof site->frames[0]) == 0)
                give_up("two sites of one stack");
        }
    }
    heapswitch_sites_free(&sites);
    free(copy);
    return 0;
}
