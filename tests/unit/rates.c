/* heapswitch_rates(): rates and per-request figures between two snapshots,
 * and refusal of snapshots of different processes or out of order. */
#include "config.h"

#include "include/heapswitch.h"
#include "tests/harness.h"

static int close_to(double value, double want)
{
    return value > want - 1e-9 && value < want + 1e-9;
}

int main(void)
{
    struct heapswitch_snapshot earlier, later;
    struct heapswitch_rates rates;

    memset(&earlier, 0, sizeof earlier);
    earlier.pid = 42;
    earlier.start_time = 1000;
    earlier.taken = 10.0;
    earlier.counters.malloc_calls = 100;
    earlier.counters.free_calls = 50;
    earlier.counters.bytes_allocated = 4096;
    earlier.counters.requests = 3;
    later = earlier;
    later.taken = 12.0;
    later.counters.malloc_calls += 3000;
    later.counters.calloc_calls += 500;
    later.counters.realloc_calls += 400;
    later.counters.aligned_calls += 100;
    later.counters.free_calls += 2000;
    later.counters.bytes_allocated += 1 << 20;
    later.counters.requests += 4;

    CHECK(heapswitch_rates(&earlier, &later, &rates) == 0, "rates of one process");
    CHECK(close_to(rates.seconds, 2.0), "seconds %f", rates.seconds);
    CHECK(close_to(rates.allocs_per_second, 2000.0), "allocs/s %f", rates.allocs_per_second);
    CHECK(close_to(rates.frees_per_second, 1000.0), "frees/s %f", rates.frees_per_second);
    CHECK(close_to(rates.bytes_per_second, 524288.0), "bytes/s %f", rates.bytes_per_second);
    CHECK(close_to(rates.requests_per_second, 2.0), "requests/s %f", rates.requests_per_second);
    CHECK(close_to(rates.allocs_per_request, 1000.0), "allocs/request %f",
          rates.allocs_per_request);
    CHECK(close_to(rates.bytes_per_request, 262144.0), "bytes/request %f",
          rates.bytes_per_request);

    later.counters.requests = earlier.counters.requests;
    CHECK(heapswitch_rates(&earlier, &later, &rates) == 0 && rates.allocs_per_request == -1,
          "no request in between: per-request figures unknown (-1)");

    later.pid = 43;
    CHECK(heapswitch_rates(&earlier, &later, &rates) == -1, "another pid is refused");
    later.pid = 42;
    later.start_time = 2000;
    CHECK(heapswitch_rates(&earlier, &later, &rates) == -1, "a reused pid is refused");
    later.start_time = 1000;
    CHECK(heapswitch_rates(&later, &earlier, &rates) == -1, "snapshots out of order");
    /* Counters that went down (a different process image) never wrap. */
    later = earlier;
    later.taken = 11.0;
    later.counters.malloc_calls = 1;
    CHECK(heapswitch_rates(&earlier, &later, &rates) == 0 && rates.allocs_per_second == 0,
          "a counter that went down gives 0, not a huge rate");
    return test_finish("unit/rates");
}
