/* A deterministic mutation test of the sites section's reader, in two
 * parts:
 *
 * - heapswitch_parse_sites() on valid sections (claimed, free and
 *   half-claimed entries, the "other" row) after a few random mutations
 *   (bit flips, header and entry fields set to extreme values, truncation,
 *   extension), each parsed from a heap buffer of exactly its size. A
 *   refusal must carry a terminated, non-empty reason and no sites; an
 *   acceptance must hold at most `capacity` sites, each of a depth within
 *   its frames, and estimates that are finite and not negative. A section
 *   whose mutations all keep it valid must be accepted with every
 *   claimed entry.
 * - heapswitch_read_sites() on whole segment files of this process in
 *   /dev/shm (core, then section) whose header.sections[] and file_size
 *   are mutated, and whose files are cut short: a section outside the
 *   file must be refused, never read.
 *
 * The random numbers are seeded per iteration: a failure is reproducible.
 *
 *   sites-mutate [-n ITERATIONS] [-s SEED]
 *   sites-mutate --seeds DIR    (writes valid sections: the fuzzer's seeds)
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "include/heapswitch.h"
#include "tests/fuzz/mutations.h"
#include "tests/fuzz/seed-image.h"
#include "tests/fuzz/own-segment.h"

#define DEFAULT_ITERATIONS 100000
#define FILE_ITERATIONS_DIVISOR 50 /* file round trips cost more: fewer */
#define DEFAULT_SEED UINT64_C(0x7369746573) /* "sites" */
#define MAX_PROBLEMS 10
#define WHY_SIZE 256
#define MAX_CAPACITY 48

static uint64_t extreme(size_t size)
{
    uint64_t all = size == 4 ? UINT32_MAX : UINT64_MAX;

    switch (below(10)) {
    case 0: return 0;
    case 1: return 1;
    case 2: return all;
    case 3: return all >> 1;
    case 4: return HSW_SITE_FRAMES - 1 + below(3);
    case 5: return MAX_CAPACITY - 1 + below(3);
    case 6: return HSW_SITE_CLAIMING - below(2);
    case 7: return UINT64_C(1) << below(size * 8);
    default: return next_random() & all;
    }
}

struct section {
    unsigned char *bytes;
    size_t size;
    bool valid;        /* every mutation so far keeps it valid */
    size_t claimed;    /* entries a reader must return when valid */
    char notes[256];
};

static void note(struct section *s, const char *text)
{
    size_t used = strlen(s->notes);

    snprintf(s->notes + used, sizeof s->notes - used, "%s%s", used > 0 ? " " : "", text);
}

/* A valid section: claimed entries, free ones, one being claimed, "other". */
static void build(struct section *s, unsigned capacity)
{
    struct hsw_sites_header header = {.interval = 512 * 1024, .capacity = capacity,
                                      .frames = HSW_SITE_FRAMES, .samples = 1000};
    struct hsw_site last_claimed = {0};
    bool have_claimed = false;

    s->size = sizeof header + capacity * sizeof(struct hsw_site);
    memset(s->bytes, 0, s->size);
    memcpy(s->bytes, &header, sizeof header);
    s->valid = true;
    s->claimed = 0;
    s->notes[0] = '\0';
    for (unsigned e = 0; e < capacity; e++) {
        struct hsw_site site = {0};
        unsigned kind = (unsigned)below(4);

        if (e + 1 == capacity) { /* "other": counts only */
            site.samples = below(2);
            site.allocations = site.samples * 700;
            site.bytes = site.samples * 9000;
            if (site.samples > 0)
                s->claimed++;
        } else if (kind == 0) {
            site.hash = 0; /* free */
        } else if (kind == 1) {
            site.hash = HSW_SITE_CLAIMING;
            site.depth = (uint32_t)below(HSW_SITE_FRAMES + 1);
        } else {
            bool duplicate = kind == 3 && have_claimed && below(2) == 0;

            site.hash = duplicate ? last_claimed.hash : next_random() | 1;
            site.depth = duplicate ? last_claimed.depth : 1 + (uint32_t)below(HSW_SITE_FRAMES);
            for (unsigned f = 0; f < site.depth; f++)
                site.frames[f] = duplicate ? last_claimed.frames[f] : next_random();
            site.samples = 1 + below(100);
            site.allocations = site.samples * HSW_SITE_WEIGHT_ONE * (1 + below(1000));
            site.bytes = site.allocations * (1 + below(4096));
            site.freed_allocations = below(site.allocations + 1);
            site.freed_bytes = below(site.bytes + 1);
            /* Two entries of one stack (two threads claimed it): one site. */
            if (!duplicate)
                s->claimed++;
            last_claimed = site;
            have_claimed = true;
        }
        memcpy(s->bytes + sizeof header + e * sizeof site, &site, sizeof site);
    }
}

static void mutate(struct section *s, size_t room)
{
    struct hsw_sites_header header;
    unsigned capacity;
    char text[96];

    memcpy(&header, s->bytes, sizeof header);
    capacity = header.capacity;
    switch (below(6)) {
    case 0: { /* a bit anywhere */
        size_t at = below(s->size);
        s->bytes[at] ^= (unsigned char)(1u << below(8));
        s->valid = false;
        snprintf(text, sizeof text, "flip@%zu", at);
        break;
    }
    case 1: { /* a header field */
        static const struct { size_t offset, size; bool benign; } fields[] = {
            {offsetof(struct hsw_sites_header, interval), 8, false},
            {offsetof(struct hsw_sites_header, capacity), 4, false},
            {offsetof(struct hsw_sites_header, frames), 4, false},
            {offsetof(struct hsw_sites_header, samples), 8, true},
            {offsetof(struct hsw_sites_header, unwind_failures), 8, true},
        };
        unsigned f = (unsigned)below(sizeof fields / sizeof fields[0]);
        uint64_t value = extreme(fields[f].size);
        write_field(s->bytes + fields[f].offset, fields[f].size, value);
        s->valid = s->valid && fields[f].benign;
        snprintf(text, sizeof text, "header[%u]=0x%" PRIx64, f, value);
        break;
    }
    case 2: { /* an estimate of an entry: any value is valid */
        static const size_t counters[] = {
            offsetof(struct hsw_site, samples), offsetof(struct hsw_site, allocations),
            offsetof(struct hsw_site, bytes), offsetof(struct hsw_site, freed_allocations),
            offsetof(struct hsw_site, freed_bytes)};
        unsigned e = (unsigned)below(capacity), c = (unsigned)below(5);
        uint64_t value = extreme(8);
        if (capacity == 0 || sizeof header + (e + 1) * sizeof(struct hsw_site) > s->size)
            return;
        write_field(s->bytes + sizeof header + e * sizeof(struct hsw_site) + counters[c], 8, value);
        /* The "other" row appears once it has counts, vanishes without. */
        s->valid = s->valid && e + 1 != capacity;
        snprintf(text, sizeof text, "entry%u.counter%u=0x%" PRIx64, e, c, value);
        break;
    }
    case 3: { /* an entry's hash or depth */
        unsigned e = (unsigned)below(capacity);
        bool depth = below(2) == 0;
        uint64_t value = extreme(depth ? 4 : 8);
        if (capacity == 0 || sizeof header + (e + 1) * sizeof(struct hsw_site) > s->size)
            return;
        write_field(s->bytes + sizeof header + e * sizeof(struct hsw_site) +
                        (depth ? offsetof(struct hsw_site, depth) : offsetof(struct hsw_site, hash)),
                    depth ? 4 : 8, value);
        s->valid = false;
        snprintf(text, sizeof text, "entry%u.%s=0x%" PRIx64, e, depth ? "depth" : "hash", value);
        break;
    }
    case 4: /* cut short */
        s->size = below(s->size);
        s->valid = false;
        snprintf(text, sizeof text, "cut@%zu", s->size);
        break;
    default: { /* longer, with garbage: valid, the entries past capacity unread */
        size_t more = below(room - s->size + 1);
        for (size_t i = 0; i < more; i++)
            s->bytes[s->size + i] = (unsigned char)next_random();
        s->size += more;
        snprintf(text, sizeof text, "extend+%zu", more);
        break;
    }
    }
    note(s, text);
}

static unsigned problems;

static void problem(unsigned long iteration, const struct section *s, const char *what)
{
    if (++problems <= MAX_PROBLEMS)
        fprintf(stderr, "sites-mutate: iteration %lu (%s): %s\n", iteration, s->notes, what);
}

/* Whether an accepted result is sane for a section of `size` bytes. */
static const char *insane(const struct heapswitch_sites *sites, size_t size)
{
    if (sizeof(struct hsw_sites_header) + (size_t)sites->capacity * sizeof(struct hsw_site) > size)
        return "capacity past the section";
    if (sites->capacity == 0 && (sites->count != 0 || sites->sites != NULL))
        return "sites in a table not started";
    if (sites->count > sites->capacity)
        return "more sites than entries";
    for (size_t i = 0; i < sites->count; i++) {
        const struct heapswitch_site *site = &sites->sites[i];
        if (site->depth > HEAPSWITCH_SITE_FRAMES || (site->other && site->depth != 0) ||
            (!site->other && site->depth == 0))
            return "a depth out of range";
        if (!isfinite(site->allocations) || !isfinite(site->bytes) || site->live_bytes < 0 ||
            site->live_blocks < 0 || site->allocations < 0)
            return "an estimate out of range";
        if (site->other && i + 1 != sites->count)
            return "the other row not last";
        if (i > 0 && !site->other && site->depth == sites->sites[i - 1].depth &&
            memcmp(site->frames, sites->sites[i - 1].frames, site->depth * sizeof site->frames[0]) == 0)
            return "two sites of one stack";
    }
    return NULL;
}

static void parse_round(unsigned long iteration, unsigned char *work, size_t room)
{
    struct section s = {.bytes = work};
    struct heapswitch_sites sites;
    char why[WHY_SIZE];
    unsigned char *exact;
    int status;

    build(&s, 1 + (unsigned)below(MAX_CAPACITY));
    for (unsigned m = 0, count = (unsigned)below(4); m < count; m++)
        mutate(&s, room);
    exact = malloc(s.size + 1); /* + 1: malloc(0) may return NULL */
    memcpy(exact, s.bytes, s.size);
    memset(why, 0x7f, sizeof why);
    status = heapswitch_parse_sites(exact, s.size, &sites, why, sizeof why);
    if (status != 0) {
        if (memchr(why, '\0', sizeof why) == NULL || why[0] == '\0')
            problem(iteration, &s, "a refusal without a terminated reason");
        if (sites.sites != NULL || sites.count != 0)
            problem(iteration, &s, "a refusal that kept sites");
        if (s.valid)
            problem(iteration, &s, why);
    } else {
        const char *wrong = insane(&sites, s.size);
        if (wrong != NULL)
            problem(iteration, &s, wrong);
        if (s.valid && sites.count != s.claimed)
            problem(iteration, &s, "a valid section lost claimed entries");
    }
    heapswitch_sites_free(&sites);
    free(exact);
}

/* ---- Whole files: the section found through the header ---------------------- */

static int write_file(const char *path, const unsigned char *bytes, size_t size)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    bool written;

    if (fd < 0)
        return -1;
    written = write(fd, bytes, size) == (ssize_t)size;
    close(fd);
    return written ? 0 : -1;
}

static void file_round(unsigned long iteration, unsigned char *file, size_t room,
                       const char *path)
{
    static const size_t fields[] = {
        offsetof(struct hsw_segment_header, file_size),
        offsetof(struct hsw_segment_header, sections[0].offset),
        offsetof(struct hsw_segment_header, sections[0].size),
        offsetof(struct hsw_segment_header, sections[0].kind),
        offsetof(struct hsw_segment_header, sections[0].version),
        offsetof(struct hsw_segment_header, sections[1].kind),
        offsetof(struct hsw_segment_header, sections[1].offset),
        offsetof(struct hsw_segment_header, layout_minor),
    };
    struct hsw_segment_header header;
    struct section s = {.bytes = NULL};
    struct heapswitch_sites sites;
    size_t core = seed_build(file, SEED_RUNNING, (uint32_t)getuid(), (int32_t)getpid());
    size_t size;
    char why[WHY_SIZE];
    bool valid = true;
    int status;

    s.bytes = file + core;
    build(&s, 1 + (unsigned)below(MAX_CAPACITY));
    memcpy(&header, file, sizeof header);
    header.pid_namespace = own_pid_namespace(); /* as the file's name says */
    header.start_time = 0; /* 0: the reader does not compare start times */
    header.file_size = core + s.size;
    header.sections[0] = (struct hsw_section){HSW_SECTION_SITES, HSW_SITES_VERSION, core, s.size};
    memcpy(file, &header, sizeof header);
    size = core + s.size;
    for (unsigned m = 0, count = (unsigned)below(3); m < count; m++) {
        if (below(4) == 0) {
            size = below(size + 1); /* the file cut short */
        } else {
            const size_t at = fields[below(sizeof fields / sizeof fields[0])];
            const bool wide = at != offsetof(struct hsw_segment_header, sections[0].kind) &&
                              at != offsetof(struct hsw_segment_header, sections[0].version) &&
                              at != offsetof(struct hsw_segment_header, sections[1].kind) &&
                              at != offsetof(struct hsw_segment_header, layout_minor);
            uint64_t value = below(2) == 0 ? extreme(wide ? 8 : 4) : core + below(room - core);
            write_field(file + at, wide ? 8 : 4, value);
        }
        valid = false;
    }
    unlink(path);
    if (write_file(path, file, size) != 0) {
        problem(iteration, &s, "cannot write the segment file");
        return;
    }
    memset(why, 0x7f, sizeof why);
    status = heapswitch_read_sites(getpid(), NULL, &sites, why, sizeof why);
    if (status != 0) {
        if (memchr(why, '\0', sizeof why) == NULL || why[0] == '\0')
            problem(iteration, &s, "a refusal without a terminated reason");
        if (valid)
            problem(iteration, &s, why);
    } else {
        const char *wrong = insane(&sites, room);
        if (wrong != NULL)
            problem(iteration, &s, wrong);
        if (valid && sites.count != s.claimed)
            problem(iteration, &s, "a valid file lost claimed entries");
    }
    heapswitch_sites_free(&sites);
}

/* Valid sections of every capacity kind, for the fuzzer to start from. */
static int write_seeds(const char *directory, unsigned char *work, size_t room)
{
    static const unsigned capacities[] = {1, 2, 5, 16, MAX_CAPACITY};
    struct section s = {.bytes = work};

    (void)room;
    for (unsigned i = 0; i < sizeof capacities / sizeof capacities[0]; i++) {
        char path[512];
        FILE *out;

        seed_random(DEFAULT_SEED + i);
        build(&s, capacities[i]);
        snprintf(path, sizeof path, "%s/sites-%u", directory, capacities[i]);
        out = fopen(path, "wb");
        if (out == NULL || fwrite(s.bytes, 1, s.size, out) != s.size || fclose(out) != 0) {
            fprintf(stderr, "sites-mutate: cannot write %s\n", path);
            return 1;
        }
    }
    return 0;
}

int main(int argc, char **argv)
{
    unsigned long iterations = DEFAULT_ITERATIONS;
    uint64_t seed = DEFAULT_SEED;
    size_t room = sizeof(struct hsw_sites_header) + (MAX_CAPACITY + 4) * sizeof(struct hsw_site);
    unsigned char *work = malloc(room), *file = malloc(SEED_IMAGE_CAPACITY + room);
    char path[128];
    int option;

    if (argc == 3 && strcmp(argv[1], "--seeds") == 0)
        return write_seeds(argv[2], work, room);
    while ((option = getopt(argc, argv, "n:s:")) != -1) {
        if (option == 'n')
            iterations = strtoul(optarg, NULL, 10);
        else if (option == 's')
            seed = strtoull(optarg, NULL, 0);
        else {
            fprintf(stderr, "usage: sites-mutate [-n ITERATIONS] [-s SEED]\n");
            return 2;
        }
    }
    for (unsigned long i = 0; i < iterations; i++) {
        seed_random(seed + i);
        parse_round(i, work, room);
    }
    own_segment_path(path, sizeof path, getpid());
    for (unsigned long i = 0; i < iterations / FILE_ITERATIONS_DIVISOR + 1; i++) {
        seed_random(seed + iterations + i);
        file_round(i, file, SEED_IMAGE_CAPACITY + room, path);
    }
    unlink(path);
    free(work);
    free(file);
    if (problems > 0) {
        fprintf(stderr, "sites-mutate: %u problem(s)\n", problems);
        return 1;
    }
    printf("sites-mutate: %lu sections and %lu files behaved\n", iterations,
           iterations / FILE_ITERATIONS_DIVISOR + 1);
    return 0;
}
