/* The sites section's reader: the sampled allocation call sites a
 * process publishes after its segment's core (lib/segment_layout.h, "The
 * sites section").
 *
 * The section is untrusted like the rest of the segment: its header's
 * capacity must fit the section's size, depths the frames an entry holds;
 * entries still being claimed (hash 0 or HSW_SITE_CLAIMING) are skipped.
 * It is copied with pread(), twice, while sampling threads keep adding to
 * it: an entry counts only when both copies agree on its stack, and each
 * estimate is the smaller of its two copies. The estimates only increase,
 * so the smaller one is a value the counter really had, whatever a torn
 * copy of the other held. Live figures are allocated - freed, read apart
 * from each other, so they are clamped at 0. Two threads may claim an
 * entry each for the same new stack: entries with equal stacks are added
 * up into one site. A capacity of 0 is a table not started yet: no site.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "include/heapswitch.h"
#include "lib/export.h"
#include "lib/sections.h"
#include "lib/segment_layout.h"
#include "lib/reader_io.h"

_Static_assert(HEAPSWITCH_SITE_FRAMES == HSW_SITE_FRAMES, "one frame count");

/* The largest table a reader accepts: 64 MiB of entries, the file's bound. */
#define MAX_CAPACITY (HSW_SEGMENT_FILE_MAX_SIZE / sizeof(struct hsw_site))

static int sites_refuse(int code, char *why, size_t why_size, const char *format, ...)
    __attribute__((format(printf, 4, 5)));

static int sites_refuse(int code, char *why, size_t why_size, const char *format, ...)
{
    va_list arguments;

    if (why != NULL && why_size > 0) {
        va_start(arguments, format);
        vsnprintf(why, why_size, format, arguments);
        va_end(arguments);
    }
    return code;
}

static uint64_t smaller(uint64_t a, uint64_t b)
{
    return a < b ? a : b;
}

static double units(uint64_t weight)
{
    return (double)weight / HSW_SITE_WEIGHT_ONE;
}

/* Checks the header against the section's size; gives the capacity. */
static int check_header(const struct hsw_sites_header *header, size_t size, char *why,
                        size_t why_size)
{
    if (header->capacity == 0)
        return 0; /* sampling has not started: interval and frames may still be 0 */
    if (header->frames != HSW_SITE_FRAMES)
        return sites_refuse(HEAPSWITCH_SITES_CORRUPT, why, why_size,
                            "sites: %u frames per entry, this reader reads %u", header->frames,
                            HSW_SITE_FRAMES);
    if (header->capacity > MAX_CAPACITY ||
        (uint64_t)header->capacity * sizeof(struct hsw_site) > size - sizeof *header)
        return sites_refuse(HEAPSWITCH_SITES_CORRUPT, why, why_size,
                            "sites: capacity %u does not fit a section of %zu bytes",
                            header->capacity, size);
    if (header->interval == 0)
        return sites_refuse(HEAPSWITCH_SITES_CORRUPT, why, why_size,
                            "sites: sampling interval 0 in a published table");
    return 0;
}

/* One entry from two copies, or false when it is not a usable site. */
static bool decode_site(const struct hsw_site *first, const struct hsw_site *second,
                        bool other, struct heapswitch_site *out)
{
    memset(out, 0, sizeof *out);
    if (!other) {
        if (first->hash == 0 || first->hash == HSW_SITE_CLAIMING ||
            first->hash != second->hash || first->depth != second->depth ||
            first->depth == 0 || first->depth > HSW_SITE_FRAMES ||
            memcmp(first->frames, second->frames, first->depth * sizeof first->frames[0]) != 0)
            return false;
        out->depth = first->depth;
        memcpy(out->frames, first->frames, first->depth * sizeof first->frames[0]);
    }
    out->other = other;
    out->samples = smaller(first->samples, second->samples);
    out->allocations = units(smaller(first->allocations, second->allocations));
    out->bytes = units(smaller(first->bytes, second->bytes));
    out->freed_allocations = units(smaller(first->freed_allocations, second->freed_allocations));
    out->freed_bytes = units(smaller(first->freed_bytes, second->freed_bytes));
    out->live_bytes = out->bytes > out->freed_bytes ? out->bytes - out->freed_bytes : 0;
    out->live_blocks =
        out->allocations > out->freed_allocations ? out->allocations - out->freed_allocations : 0;
    if (other && out->samples == 0 && out->allocations == 0 && out->bytes == 0)
        return false; /* an empty "other" row is no site */
    return true;
}

/* Sites compare by their stacks, the "other" row last. */
static int compare_stacks(const void *a, const void *b)
{
    const struct heapswitch_site *x = a, *y = b;

    if (x->other != y->other)
        return x->other ? 1 : -1;
    if (x->depth != y->depth)
        return x->depth < y->depth ? -1 : 1;
    return memcmp(x->frames, y->frames, x->depth * sizeof x->frames[0]);
}

/* Adds up sites of equal stacks (sorted first); returns the new count. */
static size_t merge_equal_stacks(struct heapswitch_site *sites, size_t count)
{
    size_t kept = 0;

    qsort(sites, count, sizeof *sites, compare_stacks);
    for (size_t i = 0; i < count; i++) {
        struct heapswitch_site *last = kept > 0 ? &sites[kept - 1] : NULL;

        if (last != NULL && compare_stacks(last, &sites[i]) == 0) {
            last->samples += sites[i].samples;
            last->allocations += sites[i].allocations;
            last->bytes += sites[i].bytes;
            last->freed_allocations += sites[i].freed_allocations;
            last->freed_bytes += sites[i].freed_bytes;
            last->live_bytes += sites[i].live_bytes;
            last->live_blocks += sites[i].live_blocks;
        } else {
            sites[kept++] = sites[i];
        }
    }
    return kept;
}

/* Decodes two copies of the same section (the same bytes for one copy). */
static int parse_copies(const unsigned char *first, const unsigned char *second, size_t size,
                        struct heapswitch_sites *out, char *why, size_t why_size)
{
    struct hsw_sites_header header, header_again;
    int status;

    memset(out, 0, sizeof *out);
    if (first == NULL || size < sizeof header)
        return sites_refuse(HEAPSWITCH_SITES_CORRUPT, why, why_size,
                            "sites: section too small (%zu bytes)", size);
    memcpy(&header, first, sizeof header);
    memcpy(&header_again, second, sizeof header_again);
    if ((status = check_header(&header, size, why, why_size)) != 0)
        return status;
    if (header_again.capacity != header.capacity || header_again.frames != header.frames ||
        header_again.interval != header.interval)
        return sites_refuse(HEAPSWITCH_SITES_CORRUPT, why, why_size,
                            "sites: the table's header changed while read");
    out->interval = header.interval;
    out->samples = smaller(header.samples, header_again.samples);
    out->unwind_failures = smaller(header.unwind_failures, header_again.unwind_failures);
    out->capacity = header.capacity;
    if (header.capacity == 0)
        return 0;
    out->sites = calloc(header.capacity, sizeof *out->sites);
    if (out->sites == NULL)
        return sites_refuse(HEAPSWITCH_SITES_NO_MEMORY, why, why_size,
                            "sites: out of memory for %u entries", header.capacity);
    for (uint32_t entry = 0; entry < header.capacity; entry++) {
        struct hsw_site a, b;
        size_t at = sizeof header + (size_t)entry * sizeof a;

        memcpy(&a, first + at, sizeof a);
        memcpy(&b, second + at, sizeof b);
        if (decode_site(&a, &b, entry + 1 == header.capacity, &out->sites[out->count]))
            out->count++;
    }
    out->count = merge_equal_stacks(out->sites, out->count);
    return 0;
}

HSW_EXPORT int heapswitch_parse_sites(const void *section, size_t size,
                                      struct heapswitch_sites *out, char *why,
                                      size_t why_size)
{
    int status = parse_copies(section, section, size, out, why, why_size);

    if (status != 0)
        heapswitch_sites_free(out);
    return status;
}

HSW_EXPORT void heapswitch_sites_free(struct heapswitch_sites *sites)
{
    free(sites->sites);
    sites->sites = NULL;
    sites->count = 0;
}


/* The sites section named in a validated header, or NULL. */
static const struct hsw_section *find_section(const struct hsw_segment_header *header)
{
    if (header->layout_minor < 2)
        return NULL;
    for (unsigned entry = 0; entry < HSW_SECTION_COUNT; entry++)
        if (header->sections[entry].kind == HSW_SECTION_SITES)
            return &header->sections[entry];
    return NULL;
}

HSW_EXPORT int heapswitch_read_sites(pid_t pid, struct heapswitch_snapshot *snapshot,
                                     struct heapswitch_sites *out, char *why, size_t why_size)
{
    struct heapswitch_snapshot own_snapshot;
    struct hsw_segment_header header;
    const struct hsw_section *section;
    unsigned char *first = NULL, *second = NULL;
    int fd, status;

    memset(out, 0, sizeof *out);
    if (snapshot == NULL)
        snapshot = &own_snapshot;
    if (hsw_read_pid_segment(pid, snapshot, why, why_size, &fd, &header) != 0)
        return HEAPSWITCH_SITES_NO_SEGMENT;
    section = find_section(&header);
    if (section == NULL) {
        status = sites_refuse(HEAPSWITCH_SITES_OFF, why, why_size,
                              "process %d publishes no call sites (sampling is off: "
                              "HEAPSWITCH_SAMPLE=0, or a heapswitch without sampling)",
                              (int)pid);
        goto done;
    }
    if (section->version != HSW_SITES_VERSION) {
        status = sites_refuse(HEAPSWITCH_SITES_CORRUPT, why, why_size,
                              "sites section version %u, this reader reads %u",
                              section->version, HSW_SITES_VERSION);
        goto done;
    }
    /* The reader already bounded the section by the file (64 MiB at most). */
    first = malloc(section->size);
    second = malloc(section->size);
    if (first == NULL || second == NULL) {
        status = sites_refuse(HEAPSWITCH_SITES_NO_MEMORY, why, why_size,
                              "out of memory for a sites section of %llu bytes",
                              (unsigned long long)section->size);
        goto done;
    }
    if (!hsw_pread_exactly(fd, first, section->size, section->offset) ||
        !hsw_pread_exactly(fd, second, section->size, section->offset)) {
        status = sites_refuse(HEAPSWITCH_SITES_CORRUPT, why, why_size,
                              "sites section shorter than recorded (truncated while read)");
        goto done;
    }
    status = parse_copies(first, second, section->size, out, why, why_size);
    if (status != 0)
        heapswitch_sites_free(out);
done:
    free(first);
    free(second);
    close(fd);
    return status;
}
