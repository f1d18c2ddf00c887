/* A test-only reader of a process's own sites section: the tests of the
 * sampling runtime read it themselves (the command's reader is tested
 * apart). Reads /dev/shm/heapswitch-<uid>-<pid> of the calling process,
 * finds the HSW_SECTION_SITES section and sums, per site function, the
 * entries whose innermost frame lies in that function (dladdr: the test
 * programs are linked with -rdynamic and keep their site functions
 * global). Usable from C and C++. */
#ifndef HSW_TEST_SITES_READ_H
#define HSW_TEST_SITES_READ_H

#include <dlfcn.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#if defined(__cplusplus) && !defined(_Static_assert)
#define _Static_assert static_assert /* the layout header is C11 */
#endif
#include "lib/segment_layout.h"

struct site_totals {
    double allocations, bytes, live_bytes, live_allocations;
    uint64_t samples;
    unsigned entries;
};

struct sites_snapshot {
    struct hsw_sites_header header;
    struct hsw_site *sites; /* header.capacity entries */
    size_t mapped;
};

static inline void sites_snapshot_free(struct sites_snapshot *snapshot)
{
    munmap(snapshot->sites, snapshot->mapped);
}

/* Reads the sites section of the segment file at `path`; returns 0, or
 * -1 with a message. */
static inline int sites_snapshot_read_file(const char *path, struct sites_snapshot *out)
{
    struct hsw_segment_header header;
    int fd;

    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        fprintf(stderr, "sites_read: cannot open %s\n", path);
        return -1;
    }
    if (pread(fd, &header, sizeof header, 0) != (ssize_t)sizeof header) {
        close(fd);
        return -1;
    }
    for (unsigned i = 0; i < HSW_SECTION_COUNT; i++) {
        const struct hsw_section *section = &header.sections[i];
        size_t entries_size;

        if (section->kind != HSW_SECTION_SITES)
            continue;
        if (pread(fd, &out->header, sizeof out->header, (off_t)section->offset) !=
            (ssize_t)sizeof out->header) {
            close(fd);
            return -1;
        }
        entries_size = (size_t)out->header.capacity * sizeof(struct hsw_site);
        if (section->size < sizeof out->header + entries_size) {
            fprintf(stderr, "sites_read: capacity %u does not fit the section\n",
                    out->header.capacity);
            close(fd);
            return -1;
        }
        /* Mapped, not malloc'ed: the reading must not be sampled itself. */
        out->sites = (struct hsw_site *)mmap(NULL, entries_size + 1, PROT_READ | PROT_WRITE,
                                             MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        out->mapped = entries_size + 1;
        if (out->sites == MAP_FAILED || pread(fd, out->sites, entries_size, (off_t)(section->offset + sizeof out->header)) !=
            (ssize_t)entries_size) {
            close(fd);
            return -1;
        }
        close(fd);
        return 0;
    }
    close(fd);
    fprintf(stderr, "sites_read: %s has no sites section\n", path);
    return -1;
}

/* Reads this process's own sites section. */
static inline int sites_snapshot_read(struct sites_snapshot *out)
{
    char path[128];

    snprintf(path, sizeof path, "/dev/shm/heapswitch-%u-%d", (unsigned)getuid(), (int)getpid());
    return sites_snapshot_read_file(path, out);
}

/* The name of the function holding return address `frame`, or "?". */
static inline const char *sites_frame_function(uint64_t frame)
{
    Dl_info info;

    if (frame == 0 || dladdr((void *)(uintptr_t)(frame - 1), &info) == 0 || info.dli_sname == NULL)
        return "?";
    return info.dli_sname;
}

/* Sums the entries whose innermost frame is in `function`. */
static inline struct site_totals sites_for_function(const struct sites_snapshot *snapshot,
                                                    const char *function)
{
    struct site_totals totals;

    memset(&totals, 0, sizeof totals);
    for (unsigned i = 0; i + 1 < snapshot->header.capacity; i++) {
        const struct hsw_site *site = &snapshot->sites[i];

        if (site->hash == 0 || site->hash == HSW_SITE_CLAIMING || site->depth == 0 ||
            site->depth > HSW_SITE_FRAMES ||
            strcmp(sites_frame_function(site->frames[0]), function) != 0)
            continue;
        totals.entries++;
        totals.samples += site->samples;
        totals.allocations += (double)site->allocations / HSW_SITE_WEIGHT_ONE;
        totals.bytes += (double)site->bytes / HSW_SITE_WEIGHT_ONE;
        totals.live_allocations +=
            ((double)site->allocations - (double)site->freed_allocations) / HSW_SITE_WEIGHT_ONE;
        totals.live_bytes += ((double)site->bytes - (double)site->freed_bytes) / HSW_SITE_WEIGHT_ONE;
    }
    return totals;
}

/* Entries, claimed or not, with more freed than allocated: weights taken
 * off a site that never had them. */
static inline unsigned sites_overfreed(const struct sites_snapshot *snapshot)
{
    unsigned count = 0;

    for (unsigned i = 0; i < snapshot->header.capacity; i++)
        if (snapshot->sites[i].freed_bytes > snapshot->sites[i].bytes ||
            snapshot->sites[i].freed_allocations > snapshot->sites[i].allocations)
            count++;
    return count;
}

/* Whether `estimate` is within `tolerance` (a fraction) of `truth`. */
static inline int sites_close(double estimate, double truth, double tolerance)
{
    double error = estimate - truth;

    return (error < 0 ? -error : error) <= tolerance * truth;
}

/* Re-runs the program with HEAPSWITCH_SAMPLE=`interval` unless it is set:
 * the runtime reads it once, at start-up. */
static inline void sites_reexec_with_sampling(char **argv, const char *interval)
{
    if (getenv("HEAPSWITCH_SAMPLE") != NULL)
        return;
    setenv("HEAPSWITCH_SAMPLE", interval, 1);
    execv("/proc/self/exe", argv);
    perror("execv /proc/self/exe");
    exit(1);
}

#endif
