/* libFuzzer target for heapswitch_parse_latency(), the validator of
 * untrusted latency sections (lib/reader_latency.c, compiled in with the
 * same sanitizers): any input must be refused with a reason, or give sane
 * figures (samples the sum of the buckets; percentiles finite, in order,
 * never above the maximum; cumulative counts up to the samples). Any
 * failed check aborts, which libFuzzer reports as a crash. Seeds:
 * tests/fuzz/latency-mutate --seeds DIR. */
#include "config.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "include/heapswitch.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fail(const char *what)
{
    fprintf(stderr, "latency fuzzer: %s\n", what);
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct heapswitch_latency latency;
    char why[128];

    why[0] = '\0';
    if (heapswitch_parse_latency(data, size, &latency, why, sizeof why) != 0) {
        if (why[0] == '\0' || memchr(why, '\0', sizeof why) == NULL)
            fail("refused without a terminated reason");
        if (latency.present)
            fail("refused but present");
        return 0;
    }
    if (!latency.present)
        return 0;
    if (!(latency.ticks_per_ns > 0) || !isfinite(latency.ticks_per_ns))
        fail("bad ticks per ns");
    for (int kind = 0; kind < HEAPSWITCH_LATENCY_KINDS; kind++) {
        const struct heapswitch_latency_histogram *h = &latency.kinds[kind];
        uint64_t sum = 0;
        double previous = -1;

        for (unsigned b = 0; b < HEAPSWITCH_LATENCY_BUCKETS; b++)
            sum = sum + h->buckets[b] < sum ? UINT64_MAX : sum + h->buckets[b];
        if (sum != h->samples)
            fail("samples are not the sum of the buckets");
        for (double q = 0; q <= 1.0; q += 0.0625) {
            double value = heapswitch_latency_quantile(&latency, kind, q);
            if (h->samples == 0 ? value != -1
                                : !isfinite(value) || value < previous || value > h->max_ns + 1e-6)
                fail("a percentile out of order or past the maximum");
            previous = value;
        }
        if (heapswitch_latency_count_below(&latency, kind, INFINITY) != h->samples)
            fail("the cumulative count of every bucket is not the samples");
    }
    return 0;
}
