/* Which calls latency sampling times (lib/latency.c): one in N on
 * average, at random intervals, so that a periodic workload is sampled
 * evenly at every phase; the size-class weights add up to the calls. */
#include "config.h"

#include <math.h>

#include "lib/internal.h"
#include "lib/latency.h"
#include "tests/harness.h"

#define CALLS 20000000u

/* Simulates the light malloc path's tick for CALLS calls; counts timed
 * calls per phase of a workload of `period` calls. */
static void run(unsigned rate, unsigned period, unsigned *per_phase, uint64_t *timed_calls,
                uint64_t *weights, uint64_t *checkpoints)
{
    hsw_latency_rate = rate;
    *timed_calls = *weights = *checkpoints = 0;
    for (unsigned call = 0; call < CALLS; call++) {
        if (++hsw_thread.malloc_tick == 0) {
            bool timed, checkpoint;
            *weights += hsw_latency_malloc_wrap(&timed, &checkpoint);
            *checkpoints += checkpoint;
            if (timed) {
                per_phase[call % period]++;
                ++*timed_calls;
            }
        }
    }
}

static void check_even(unsigned rate, unsigned period)
{
    static unsigned per_phase[4096];
    uint64_t timed, weights, checkpoints;
    double expected = (double)CALLS / rate / period;
    unsigned low = UINT32_MAX, high = 0;

    memset(per_phase, 0, sizeof per_phase);
    run(rate, period, per_phase, &timed, &weights, &checkpoints);
    CHECK(timed > (uint64_t)(0.97 * CALLS / rate) && timed < (uint64_t)(1.03 * CALLS / rate),
          "rate %u: %llu calls timed of %u", rate, (unsigned long long)timed, CALLS);
    for (unsigned phase = 0; phase < period; phase++) {
        low = per_phase[phase] < low ? per_phase[phase] : low;
        high = per_phase[phase] > high ? per_phase[phase] : high;
    }
    /* Binomial noise: within 5 standard deviations; aliasing would leave
     * phases at 0 and others at many times the expected count. */
    CHECK(low > expected - 5 * sqrt(expected) && high < expected + 5 * sqrt(expected),
          "rate %u, period %u: %u to %u timed per phase, %.0f expected", rate, period, low,
          high, expected);
    /* The first and the last interval straddle the runs. */
    CHECK(weights <= CALLS + 256 && weights > CALLS - 256, "weights %llu for %u calls",
          (unsigned long long)weights, CALLS);
    CHECK(checkpoints <= CALLS / 256 && checkpoints >= CALLS / 256 / 2,
          "rate %u: %llu checkpoints", rate, (unsigned long long)checkpoints);
}

int main(void)
{
    uint64_t timed, weights, checkpoints;
    unsigned per_phase[1] = {0};

    check_even(256, 2);
    check_even(256, 256);
    check_even(256, 1000);
    check_even(16, 16);
    check_even(16, 7);
    check_even(1024, 64);

    /* Every call at rate 1. */
    hsw_latency_rate = 1;
    hsw_thread.malloc_tick = 0;
    run(1, 1, per_phase, &timed, &weights, &checkpoints);
    CHECK(timed >= CALLS - 2 * 1024, "rate 1: %llu of %u timed", (unsigned long long)timed, CALLS);

    /* Off: the tick wraps every 256 calls, as it always did. */
    per_phase[0] = 0;
    run(0, 1, per_phase, &timed, &weights, &checkpoints);
    CHECK(timed == 0, "off: nothing timed");
    CHECK(checkpoints + 1 >= CALLS / 256 && checkpoints <= CALLS / 256 + 1,
          "off: a checkpoint every 256 calls (%llu)",
          (unsigned long long)checkpoints);
    return test_finish("latency_sampling");
}
