/* The latency histogram against known distributions: durations fed
 * through the writer's bucket function into a section image, read back
 * through heapswitch_parse_latency, must give every percentile within
 * the stated bucket error (6.25%) of the exact one; a hostile section is
 * refused with a reason. */
#include "config.h"

#include <math.h>

#include "include/heapswitch.h"
#include "lib/segment_layout.h"
#include "tests/harness.h"

#define TICKS_PER_NS 2.5 /* a 2.5 GHz TSC */
#define SAMPLES 200000
#define BUCKET_ERROR 0.0625

static unsigned char image[HSW_LATENCY_SECTION_SIZE];
static uint64_t durations[SAMPLES];

static struct hsw_latency_header *header_of(void)
{
    return (struct hsw_latency_header *)image;
}

static struct hsw_latency_histogram *histogram_of(unsigned slot, enum hsw_latency_kind kind)
{
    return (struct hsw_latency_histogram *)(image + sizeof(struct hsw_latency_header)) +
           slot * HSW_LATENCY_KINDS + kind;
}

static void fresh_section(enum hsw_latency_clock clock)
{
    struct hsw_latency_header *header = header_of();

    memset(image, 0, sizeof image);
    header->histograms = HSW_LATENCY_SLOTS;
    header->kinds = HSW_LATENCY_KINDS;
    header->buckets = HSW_LATENCY_BUCKETS;
    header->histogram_size = sizeof(struct hsw_latency_histogram);
    header->clock = clock;
    header->rate = 256;
    header->start_ns = 1000000000;
    header->last_ns = header->start_ns + 2000000000; /* two seconds later */
    header->start_ticks = 5000000000;
    header->last_ticks = header->start_ticks +
                         (clock == HSW_LATENCY_CLOCK_TSC ? (uint64_t)(2e9 * TICKS_PER_NS) : 2000000000);
}

/* As the writer records: spread over the thread slots. */
static void record(unsigned slot, enum hsw_latency_kind kind, uint64_t ticks)
{
    struct hsw_latency_histogram *histogram = histogram_of(slot % HSW_LATENCY_SLOTS, kind);

    histogram->buckets[hsw_latency_bucket(ticks)]++;
    histogram->samples++;
    histogram->sum_ticks += ticks;
    if (ticks > histogram->max_ticks)
        histogram->max_ticks = ticks;
}

static int compare_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* A fixed generator: the test gives the same figures every run. */
static uint64_t state = 88172645463325252u;
static double uniform(void)
{
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return ((double)(state >> 11) + 0.5) / 9007199254740992.0;
}

/* Checks p50 .. p99.99 and the maximum against the exact ones. */
static void check_quantiles(const char *name, double ticks_per_ns, unsigned count)
{
    static const double shares[] = {0.01, 0.1, 0.5, 0.9, 0.99, 0.999, 0.9999, 1.0};
    struct heapswitch_latency latency;
    char why[256];

    qsort(durations, count, sizeof durations[0], compare_u64);
    CHECK(heapswitch_parse_latency(image, sizeof image, &latency, why, sizeof why) == 0,
          "%s: parsed (%s)", name, why);
    CHECK(latency.present, "%s: present", name);
    CHECK(fabs(latency.ticks_per_ns - ticks_per_ns) < 1e-9, "%s: %f ticks per ns", name,
          latency.ticks_per_ns);
    CHECK(latency.kinds[HEAPSWITCH_LATENCY_ALLOC].samples == count, "%s: %llu samples", name,
          (unsigned long long)latency.kinds[HEAPSWITCH_LATENCY_ALLOC].samples);
    for (size_t i = 0; i < sizeof shares / sizeof shares[0]; i++) {
        size_t rank = (size_t)ceil(shares[i] * count);
        double exact = (double)durations[(rank == 0 ? 1 : rank) - 1] / ticks_per_ns;
        double got = heapswitch_latency_quantile(&latency, HEAPSWITCH_LATENCY_ALLOC, shares[i]);
        /* Durations under 32 ticks share one bucket: there, within it. */
        double allowed = exact < 32 / ticks_per_ns ? 32 / ticks_per_ns : exact * BUCKET_ERROR;

        CHECK(fabs(got - exact) <= allowed + 1e-9, "%s: p%g is %.1f ns, exactly %.1f ns", name,
              shares[i] * 100, got, exact);
    }
    CHECK(fabs(latency.kinds[HEAPSWITCH_LATENCY_ALLOC].max_ns -
               (double)durations[count - 1] / ticks_per_ns) < 1e-6,
          "%s: the maximum", name);
    CHECK(heapswitch_latency_quantile(&latency, HEAPSWITCH_LATENCY_FREE, 0.5) == -1,
          "%s: no frees timed, no figure", name);
}

static void check_buckets(void)
{
    /* Every duration lies in its bucket, and a bucket is at most 1/8 of
     * its lower bound wide. */
    for (uint64_t ticks = 1; ticks < (UINT64_C(1) << 40); ticks = ticks * 1.01 + 1) {
        unsigned bucket = hsw_latency_bucket(ticks);
        uint64_t low = hsw_latency_bucket_low(bucket);

        CHECK(low <= ticks, "%llu ticks: bucket %u starts at %llu", (unsigned long long)ticks,
              bucket, (unsigned long long)low);
        if (bucket + 1 < HSW_LATENCY_BUCKETS) {
            uint64_t high = hsw_latency_bucket_low(bucket + 1);
            CHECK(ticks < high, "%llu ticks: bucket %u ends at %llu", (unsigned long long)ticks,
                  bucket, (unsigned long long)high);
            CHECK(bucket == 0 || (high - low) * 8 <= low, "bucket %u is too wide", bucket);
        }
    }
    CHECK(hsw_latency_bucket(31) == 0 && hsw_latency_bucket(32) == 1, "the first bucket");
    CHECK(hsw_latency_bucket(UINT64_MAX) == HSW_LATENCY_BUCKETS - 1, "the last bucket");
}

static void check_refused(const char *name, void (*spoil)(void))
{
    struct heapswitch_latency latency;
    char why[256] = "";

    fresh_section(HSW_LATENCY_CLOCK_TSC);
    spoil();
    CHECK(heapswitch_parse_latency(image, sizeof image, &latency, why, sizeof why) == -1,
          "%s: refused", name);
    CHECK(why[0] != '\0', "%s: with a reason", name);
    CHECK(!latency.present, "%s: nothing kept", name);
}

static void spoil_buckets(void) { header_of()->buckets = 300; }
static void spoil_histograms(void) { header_of()->histograms = 1000000; }
static void spoil_count(void) { header_of()->histograms = HSW_LATENCY_SLOTS + 1; }
static void spoil_kinds(void) { header_of()->kinds = 3; }
static void spoil_clock(void) { header_of()->clock = 7; }
static void spoil_size(void) { header_of()->histogram_size = 64; }
static void spoil_rate(void) { header_of()->rate = 0; }

int main(void)
{
    struct heapswitch_latency latency;
    char why[256];

    check_buckets();

    /* A log-normal body around 80 ns (TSC). */
    fresh_section(HSW_LATENCY_CLOCK_TSC);
    for (unsigned i = 0; i < SAMPLES; i++) {
        double u1 = uniform(), u2 = uniform();
        double normal = sqrt(-2 * log(u1)) * cos(2 * M_PI * u2);
        durations[i] = (uint64_t)(80 * TICKS_PER_NS * exp(0.6 * normal)) + 1;
        record(i, HSW_LATENCY_ALLOC, durations[i]);
    }
    check_quantiles("log-normal", TICKS_PER_NS, SAMPLES);

    /* A slow tail: 2% of the calls take 20-60 us (a fresh mmap, touched). */
    fresh_section(HSW_LATENCY_CLOCK_TSC);
    for (unsigned i = 0; i < SAMPLES; i++) {
        bool slow = uniform() < 0.02;
        durations[i] = (uint64_t)((slow ? 20000 + 40000 * uniform() : 40 + 60 * uniform()) *
                                  TICKS_PER_NS);
        record(i * 7, HSW_LATENCY_ALLOC, durations[i]);
    }
    check_quantiles("slow tail", TICKS_PER_NS, SAMPLES);
    CHECK(heapswitch_parse_latency(image, sizeof image, &latency, why, sizeof why) == 0, "%s", why);
    CHECK(heapswitch_latency_quantile(&latency, HEAPSWITCH_LATENCY_ALLOC, 0.97) < 100 &&
              heapswitch_latency_quantile(&latency, HEAPSWITCH_LATENCY_ALLOC, 0.99) > 20000,
          "the slow 2%% lie above p98");
    CHECK(heapswitch_latency_count_below(&latency, HEAPSWITCH_LATENCY_ALLOC, 1000) ==
              latency.kinds[HEAPSWITCH_LATENCY_ALLOC].samples -
                  heapswitch_latency_count_below(&latency, HEAPSWITCH_LATENCY_ALLOC, 1e12) +
                  heapswitch_latency_count_below(&latency, HEAPSWITCH_LATENCY_ALLOC, 1000),
          "cumulative counts");

    /* Uniform over six decades, timed with CLOCK_MONOTONIC (ticks are ns). */
    fresh_section(HSW_LATENCY_CLOCK_MONOTONIC);
    for (unsigned i = 0; i < SAMPLES; i++) {
        durations[i] = (uint64_t)exp(log(20.0) + uniform() * log(2e7));
        record(i, HSW_LATENCY_ALLOC, durations[i]);
    }
    check_quantiles("log-uniform, monotonic", 1.0, SAMPLES);

    /* Not set up yet: no figures, no error. */
    fresh_section(HSW_LATENCY_CLOCK_TSC);
    header_of()->clock = HSW_LATENCY_CLOCK_NONE;
    CHECK(heapswitch_parse_latency(image, sizeof image, &latency, why, sizeof why) == 0 &&
              !latency.present,
          "a section being set up shows nothing");

    check_refused("bucket count", spoil_buckets);
    check_refused("histogram count", spoil_histograms);
    check_refused("histograms past the section", spoil_count);
    check_refused("kinds", spoil_kinds);
    check_refused("clock", spoil_clock);
    check_refused("histogram size", spoil_size);
    check_refused("rate", spoil_rate);
    fresh_section(HSW_LATENCY_CLOCK_TSC);
    CHECK(heapswitch_parse_latency(image, 100, &latency, why, sizeof why) == -1,
          "a truncated section is refused");
    return test_finish("latency");
}
