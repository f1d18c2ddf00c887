/* A deterministic mutation test of heapswitch_parse_latency(), the
 * validator of untrusted latency sections (lib/reader_latency.c): from a
 * valid section with figures in it, every iteration applies a few random
 * mutations (bit flips, header fields set to extreme values, bucket and
 * maximum words overwritten, truncation) and parses the variant from a
 * heap buffer of exactly its size. Each result must be a refusal with a
 * terminated, non-empty reason, or sane figures: samples the sum of the
 * buckets, percentiles finite, in order and never above the maximum. A
 * variant whose mutations touched only figures (buckets, sums, maxima,
 * the spare words) must be accepted. xorshift64*, seeded per iteration:
 *
 *   latency-mutate [-n ITERATIONS] | --seeds DIR
 *
 * --seeds DIR writes valid sections (TSC and CLOCK_MONOTONIC, full and
 * being set up) to DIR, the seeds of the libFuzzer target
 * (tests/fuzz/latency.c), and exits.
 * Exits 0 when every variant behaved, 1 otherwise. */
#include "config.h"

#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "include/heapswitch.h"
#include "lib/segment_layout.h"
#include "tests/fuzz/mutations.h"

#define DEFAULT_ITERATIONS 20000
#define MAX_PROBLEMS 10

static const uint64_t extremes[] = {0, 1, 2, 31, 32, 241, 242, 243, 4096, 0x7fffffff,
                                    0xffffffff, UINT64_C(0x100000000), UINT64_MAX / 2,
                                    UINT64_MAX - 1, UINT64_MAX};

static unsigned char valid[HSW_LATENCY_SECTION_SIZE];

static void make_valid(void)
{
    struct hsw_latency_header *header = (struct hsw_latency_header *)valid;
    struct hsw_latency_histogram *histograms = (struct hsw_latency_histogram *)(header + 1);

    header->histograms = HSW_LATENCY_SLOTS;
    header->kinds = HSW_LATENCY_KINDS;
    header->buckets = HSW_LATENCY_BUCKETS;
    header->histogram_size = sizeof(struct hsw_latency_histogram);
    header->clock = HSW_LATENCY_CLOCK_TSC;
    header->rate = 256;
    header->start_ns = 1000000000;
    header->last_ns = 3000000000;
    header->start_ticks = 1000;
    header->last_ticks = 1000 + 6000000000u;
    for (unsigned i = 0; i < 5 * HSW_LATENCY_KINDS; i++)
        for (uint64_t t = 20; t < 100000000; t = t * 3 / 2) {
            struct hsw_latency_histogram *h = &histograms[i];
            h->buckets[hsw_latency_bucket(t)] += i + 1;
            h->samples += i + 1;
            h->sum_ticks += t * (i + 1);
            h->max_ticks = t > h->max_ticks ? t : h->max_ticks;
        }
}

/* One mutation of `image` (of *size bytes); returns whether the section
 * stays valid. */
static bool mutate(unsigned char *image, size_t *size)
{
    size_t histograms_bytes;
    uint64_t value = below(4) == 0 ? next_random() : extremes[below(sizeof extremes / sizeof extremes[0])];

    if (*size < sizeof(struct hsw_latency_header) + 8) { /* truncated already */
        if (*size > 0)
            image[below(*size)] ^= (unsigned char)(1u << below(8));
        return false;
    }
    histograms_bytes = *size - sizeof(struct hsw_latency_header);
    switch (below(5)) {
    case 0: /* a bit anywhere */
        image[below(*size)] ^= (unsigned char)(1u << below(8));
        return false;
    case 1: { /* a 32-bit header field, or a 64-bit one */
        size_t offset = below(offsetof(struct hsw_latency_header, calibration_seq) / 4) * 4;
        if (below(2) == 0) {
            uint32_t small = (uint32_t)value;
            memcpy(image + offset, &small, sizeof small);
        } else {
            offset = offsetof(struct hsw_latency_header, calibration_seq) +
                     below((sizeof(struct hsw_latency_header) -
                            offsetof(struct hsw_latency_header, calibration_seq)) / 8) * 8;
            memcpy(image + offset, &value, sizeof value);
            return offset >= offsetof(struct hsw_latency_header, spare);
        }
        return false;
    }
    case 2: /* a figure: a bucket, a sum, a maximum, an owner */
    case 3: {
        size_t word = below(histograms_bytes / 8) * 8;
        memcpy(image + sizeof(struct hsw_latency_header) + word, &value, sizeof value);
        return true;
    }
    default: /* truncation */
        *size = below(*size);
        return false;
    }
}

static bool write_seed(const char *directory, const char *name, const void *image, size_t size)
{
    char path[4096];
    FILE *out;
    bool ok;

    snprintf(path, sizeof path, "%s/%s", directory, name);
    out = fopen(path, "wb");
    if (out == NULL)
        return false;
    ok = fwrite(image, 1, size, out) == size;
    return fclose(out) == 0 && ok;
}

static int write_seeds(const char *directory)
{
    static unsigned char seed[HSW_LATENCY_SECTION_SIZE];
    struct hsw_latency_header *header = (struct hsw_latency_header *)seed;
    bool ok;

    memcpy(seed, valid, sizeof seed);
    ok = write_seed(directory, "tsc", seed, sizeof seed);
    header->clock = HSW_LATENCY_CLOCK_MONOTONIC;
    ok = ok && write_seed(directory, "monotonic", seed, sizeof seed);
    header->clock = HSW_LATENCY_CLOCK_NONE;
    ok = ok && write_seed(directory, "starting", seed, sizeof(struct hsw_latency_header));
    if (!ok) {
        fprintf(stderr, "latency-mutate: cannot write the seeds to %s\n", directory);
        return 1;
    }
    return 0;
}

static bool sane(const struct heapswitch_latency *latency, char *problem, size_t size)
{
    if (!latency->present)
        return true;
    if (!(latency->ticks_per_ns > 0) || !isfinite(latency->ticks_per_ns)) {
        snprintf(problem, size, "ticks per ns %g", latency->ticks_per_ns);
        return false;
    }
    for (int kind = 0; kind < HEAPSWITCH_LATENCY_KINDS; kind++) {
        const struct heapswitch_latency_histogram *h = &latency->kinds[kind];
        uint64_t sum = 0;
        double previous = -1;

        for (unsigned b = 0; b < HEAPSWITCH_LATENCY_BUCKETS; b++)
            sum = sum + h->buckets[b] < sum ? UINT64_MAX : sum + h->buckets[b];
        if (sum != h->samples) {
            snprintf(problem, size, "kind %d: samples %llu, buckets %llu", kind,
                     (unsigned long long)h->samples, (unsigned long long)sum);
            return false;
        }
        for (double q = 0; q <= 1.0; q += 0.125) {
            double value = heapswitch_latency_quantile(latency, kind, q);
            if (h->samples == 0 ? value != -1
                                : !isfinite(value) || value < previous || value > h->max_ns + 1e-6) {
                snprintf(problem, size, "kind %d: quantile %g is %g (max %g)", kind, q, value,
                         h->max_ns);
                return false;
            }
            previous = value;
        }
        if (heapswitch_latency_count_below(latency, kind, INFINITY) != h->samples) {
            snprintf(problem, size, "kind %d: cumulative count", kind);
            return false;
        }
    }
    return true;
}

int main(int argc, char **argv)
{
    unsigned long iterations = DEFAULT_ITERATIONS;
    unsigned problems = 0;
    struct heapswitch_latency latency;
    char why[256];

    if (argc == 3 && strcmp(argv[1], "-n") == 0)
        iterations = strtoul(argv[2], NULL, 10);
    make_valid();
    if (argc == 3 && strcmp(argv[1], "--seeds") == 0)
        return write_seeds(argv[2]);
    if (heapswitch_parse_latency(valid, sizeof valid, &latency, why, sizeof why) != 0 ||
        !latency.present) {
        fprintf(stderr, "latency-mutate: the valid section is refused: %s\n", why);
        return 1;
    }
    for (unsigned long i = 0; i < iterations && problems < MAX_PROBLEMS; i++) {
        size_t size = sizeof valid;
        bool stays_valid = true;
        unsigned char *image;
        char problem[256] = "";
        int result;

        random_state = (UINT64_C(0x9e3779b97f4a7c15) * (i + 1)) | 1;
        image = malloc(size);
        memcpy(image, valid, size);
        for (uint64_t m = 1 + below(4); m > 0; m--)
            stays_valid &= mutate(image, &size);
        image = realloc(image, size == 0 ? 1 : size); /* exactly its size: ASan sees overruns */
        why[0] = '\0';
        result = heapswitch_parse_latency(image, size, &latency, why, sizeof why);
        if (result != 0 && (why[0] == '\0' || memchr(why, '\0', sizeof why) == NULL))
            snprintf(problem, sizeof problem, "refused without a reason");
        else if (result != 0 && stays_valid)
            snprintf(problem, sizeof problem, "a valid variant refused: %s", why);
        else if (result == 0)
            sane(&latency, problem, sizeof problem);
        if (problem[0] != '\0') {
            fprintf(stderr, "latency-mutate: iteration %lu: %s\n", i, problem);
            problems++;
        }
        free(image);
    }
    if (problems != 0)
        return 1;
    printf("latency-mutate: %lu variants, all refused with a reason or sane\n", iterations);
    return 0;
}
