/* Reading the latency section: untrusted input, validated field by field
 * (version, histogram count, bucket count, sizes) before any bucket is
 * summed; durations converted from the writer's clock ticks to ns with
 * the (ticks, CLOCK_MONOTONIC) pairs it recorded. */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#define HAVE_TSC 1
#else
#define HAVE_TSC 0
#endif

#include "lib/export.h"
#include "lib/reader_latency.h"
#include "lib/reader_io.h"

/* At most this many histogram slots: far more than a writer makes. */
#define MAX_HISTOGRAMS 4096
/* A clock rate to believe, in ticks per ns (TSCs run at 0.1 to 10 GHz). */
#define MIN_TICKS_PER_NS 0.05
#define MAX_TICKS_PER_NS 20.0
/* The shortest span of time that calibrates the TSC well enough. */
#define MIN_CALIBRATION_NS 1000000u


static uint64_t saturating_add(uint64_t a, uint64_t b)
{
    return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

/* Ticks per ns of a TSC from the writer's first pair and one of our own:
 * the TSC is one counter for the whole machine. 0 when it cannot say. */
static double rate_from_now(const struct hsw_latency_header *header)
{
#if HAVE_TSC
    struct timespec now;
    uint64_t ticks = __rdtsc(), ns;

    clock_gettime(CLOCK_MONOTONIC, &now);
    ns = (uint64_t)now.tv_sec * 1000000000u + (uint64_t)now.tv_nsec;
    if (ns > header->start_ns && ns - header->start_ns >= MIN_CALIBRATION_NS &&
        ticks > header->start_ticks)
        return (double)(ticks - header->start_ticks) / (double)(ns - header->start_ns);
#else
    (void)header;
#endif
    return 0;
}

/* The clock's ticks per ns, or 0 when unknown yet. */
static double ticks_per_ns(const struct hsw_latency_header *header)
{
    double rate = 0;

    if (header->clock == HSW_LATENCY_CLOCK_MONOTONIC)
        return 1.0;
    if (header->calibration_seq % 2 == 0 && header->last_ns > header->start_ns &&
        header->last_ns - header->start_ns >= MIN_CALIBRATION_NS &&
        header->last_ticks > header->start_ticks)
        rate = (double)(header->last_ticks - header->start_ticks) /
               (double)(header->last_ns - header->start_ns);
    else
        rate = rate_from_now(header);
    if (!(rate >= MIN_TICKS_PER_NS && rate <= MAX_TICKS_PER_NS))
        return 0;
    /* To 1/1000 of a tick per ns (0.05% at most, against buckets of 6.25%):
     * two reads of one process give the same figures, though a young
     * process's rate comes from the reader's own clock at each read. */
    return (double)(int64_t)(rate * 1000 + 0.5) / 1000;
}

/* Where a section's bytes come from: a memory image, or a segment file
 * read piece by piece (no allocation, a histogram on the stack at a time). */
struct source {
    const unsigned char *image; /* or NULL: read from fd */
    int fd;
    uint64_t offset; /* of the section in the file */
    size_t size;     /* of the section */
};

/* Copies `length` bytes at `at` of the section; false when they are not
 * all there. */
static bool fetch(const struct source *source, size_t at, void *out, size_t length)
{
    if (at > source->size || length > source->size - at)
        return false;
    if (source->image != NULL) {
        memcpy(out, source->image + at, length);
        return true;
    }
    return hsw_pread_exactly(source->fd, out, length, source->offset + at);
}

static int parse(const struct source *source, struct heapswitch_latency *out, char *why,
                 size_t why_size)
{
    struct hsw_latency_header header;
    uint64_t max_ticks[HSW_LATENCY_KINDS] = {0};
    uint64_t sum_ticks[HSW_LATENCY_KINDS] = {0};
    uint64_t needed;

    memset(out, 0, sizeof *out);
    if (!fetch(source, 0, &header, sizeof header))
        return hsw_refuse(why, why_size, "latency section too small (%zu bytes)", source->size);
    if (header.clock == HSW_LATENCY_CLOCK_NONE)
        return 0; /* being set up: nothing to show yet */
    if (header.clock != HSW_LATENCY_CLOCK_TSC && header.clock != HSW_LATENCY_CLOCK_MONOTONIC)
        return hsw_refuse(why, why_size, "latency section: bad clock %u", header.clock);
    if (header.kinds != HSW_LATENCY_KINDS)
        return hsw_refuse(why, why_size, "latency section: %u kinds, expected %u", header.kinds,
                      HSW_LATENCY_KINDS);
    if (header.buckets != HSW_LATENCY_BUCKETS)
        return hsw_refuse(why, why_size, "latency section: %u buckets, expected %u", header.buckets,
                      HSW_LATENCY_BUCKETS);
    if (header.histogram_size != sizeof(struct hsw_latency_histogram))
        return hsw_refuse(why, why_size, "latency section: bad histogram size %u",
                      header.histogram_size);
    if (header.histograms < 1 || header.histograms > MAX_HISTOGRAMS)
        return hsw_refuse(why, why_size, "latency section: bad histogram count %u",
                      header.histograms);
    if (header.rate < 1)
        return hsw_refuse(why, why_size, "latency section: bad rate %u", header.rate);
    needed = sizeof header +
             (uint64_t)header.histograms * header.kinds * header.histogram_size;
    if (needed > source->size)
        return hsw_refuse(why, why_size, "latency section: %llu bytes needed, %zu there",
                      (unsigned long long)needed, source->size);

    for (uint32_t i = 0; i < header.histograms * header.kinds; i++) {
        struct hsw_latency_histogram histogram;
        struct heapswitch_latency_histogram *total = &out->kinds[i % HSW_LATENCY_KINDS];

        if (!fetch(source, sizeof header + (size_t)i * sizeof histogram, &histogram,
                   sizeof histogram)) {
            memset(out, 0, sizeof *out);
            return hsw_refuse(why, why_size, "latency section shorter than recorded");
        }
        for (unsigned b = 0; b < HSW_LATENCY_BUCKETS; b++) {
            total->buckets[b] = saturating_add(total->buckets[b], histogram.buckets[b]);
            total->samples = saturating_add(total->samples, histogram.buckets[b]);
        }
        sum_ticks[i % HSW_LATENCY_KINDS] =
            saturating_add(sum_ticks[i % HSW_LATENCY_KINDS], histogram.sum_ticks);
        if (histogram.max_ticks > max_ticks[i % HSW_LATENCY_KINDS])
            max_ticks[i % HSW_LATENCY_KINDS] = histogram.max_ticks;
    }
    out->tsc = header.clock == HSW_LATENCY_CLOCK_TSC;
    out->rate = header.rate;
    out->ticks_per_ns = ticks_per_ns(&header);
    if (out->ticks_per_ns == 0) {
        memset(out, 0, sizeof *out); /* too young to convert: nothing yet */
        return 0;
    }
    for (unsigned k = 0; k < HSW_LATENCY_KINDS; k++) {
        struct heapswitch_latency_histogram *total = &out->kinds[k];
        /* The longest is in the bucket the longest call fell in, or the
         * buckets cannot be believed: at least bound it by them. */
        unsigned last = 0;

        for (unsigned b = 0; b < HSW_LATENCY_BUCKETS; b++)
            if (total->buckets[b] != 0)
                last = b;
        if (total->samples != 0 && hsw_latency_bucket(max_ticks[k]) != last)
            max_ticks[k] = hsw_latency_bucket_low(last + 1) - 1;
        total->sum_ns = (double)sum_ticks[k] / out->ticks_per_ns;
        total->max_ns = total->samples != 0 ? (double)max_ticks[k] / out->ticks_per_ns : 0;
    }
    out->present = 1;
    return 0;
}

HSW_EXPORT int heapswitch_parse_latency(const void *image, size_t size,
                                        struct heapswitch_latency *out, char *why,
                                        size_t why_size)
{
    struct source source = {image, -1, 0, size};

    if (image == NULL) {
        memset(out, 0, sizeof *out);
        return hsw_refuse(why, why_size, "no latency section");
    }
    return parse(&source, out, why, why_size);
}

HSW_EXPORT double heapswitch_latency_bucket_ns(const struct heapswitch_latency *latency,
                                               unsigned bucket)
{
    if (bucket >= HEAPSWITCH_LATENCY_BUCKETS)
        return __builtin_inf();
    if (latency->ticks_per_ns <= 0)
        return 0;
    return (double)hsw_latency_bucket_low(bucket) / latency->ticks_per_ns;
}

/* The bucket's midpoint in ns; the last bucket has no upper bound. */
static double bucket_middle_ns(const struct heapswitch_latency *latency, unsigned bucket,
                               double max_ns)
{
    if (bucket == HEAPSWITCH_LATENCY_BUCKETS - 1)
        return max_ns;
    return (heapswitch_latency_bucket_ns(latency, bucket) +
            heapswitch_latency_bucket_ns(latency, bucket + 1)) / 2;
}

HSW_EXPORT double heapswitch_latency_quantile(const struct heapswitch_latency *latency,
                                              enum heapswitch_latency_kind kind, double q)
{
    const struct heapswitch_latency_histogram *histogram;
    uint64_t rank, seen = 0;
    double target;

    if (!latency->present || (unsigned)kind >= HEAPSWITCH_LATENCY_KINDS)
        return -1;
    histogram = &latency->kinds[kind];
    if (histogram->samples == 0)
        return -1;
    if (!(q > 0))
        q = 0;
    if (q > 1)
        q = 1;
    /* The rank-th smallest of the timed calls, 1 <= rank <= samples (a
     * double past 2^64 does not convert). */
    target = q * (double)histogram->samples;
    if (target >= (double)histogram->samples)
        rank = histogram->samples;
    else {
        rank = (uint64_t)target;
        if ((double)rank < target)
            rank++;
    }
    if (rank == 0)
        rank = 1;
    for (unsigned b = 0; b < HEAPSWITCH_LATENCY_BUCKETS; b++) {
        seen = saturating_add(seen, histogram->buckets[b]);
        if (seen >= rank) {
            double middle = bucket_middle_ns(latency, b, histogram->max_ns);
            return middle < histogram->max_ns ? middle : histogram->max_ns;
        }
    }
    return histogram->max_ns;
}

HSW_EXPORT uint64_t heapswitch_latency_count_below(const struct heapswitch_latency *latency,
                                                   enum heapswitch_latency_kind kind, double ns)
{
    const struct heapswitch_latency_histogram *histogram;
    uint64_t count = 0;

    if (!latency->present || (unsigned)kind >= HEAPSWITCH_LATENCY_KINDS)
        return 0;
    histogram = &latency->kinds[kind];
    for (unsigned b = 0; b < HEAPSWITCH_LATENCY_BUCKETS; b++) {
        if (histogram->buckets[b] == 0)
            continue;
        if (bucket_middle_ns(latency, b, histogram->max_ns) > ns)
            break;
        count = saturating_add(count, histogram->buckets[b]);
    }
    return count;
}

int hsw_read_latency(int fd, const struct hsw_segment_header *header,
                     struct heapswitch_latency *out, char *why, size_t why_size)
{
    const struct hsw_section *section = NULL;
    struct source source;

    memset(out, 0, sizeof *out);
    if (header->layout_minor < 2)
        return 0;
    for (unsigned entry = 0; entry < HSW_SECTION_COUNT; entry++)
        if (header->sections[entry].kind == HSW_SECTION_LATENCY)
            section = &header->sections[entry];
    if (section == NULL)
        return 0;
    if (section->version != HSW_LATENCY_VERSION)
        return 0; /* a later layout of its own: not for this reader */
    /* The segment's checks put the section inside the file. */
    source = (struct source){NULL, fd, section->offset, (size_t)section->size};
    return parse(&source, out, why, why_size);
}
