/* libFuzzer target for heapswitch_parse(), the validator of untrusted
 * segment images: any input must be refused with a reason or give a sane
 * snapshot (tests/fuzz/snapshot-check.h), with no bad read or undefined
 * behaviour on the way (built with ASan and UBSan, lib/reader.c and
 * lib/procinfo.c compiled in with the same flags). An accepted input is
 * parsed again from an odd address, and the two snapshots go through
 * heapswitch_rates(). The owner passed is getuid(), the uid the seeds of
 * tests/fuzz/make-seeds record, so mutated seeds pass the owner check.
 * Any failed check aborts, which libFuzzer reports as a crash. */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "include/heapswitch.h"
#include "tests/fuzz/snapshot-check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static volatile double sink;

static void fail(const char *what, const char *detail)
{
    fprintf(stderr, "segment fuzzer: %s%s%s\n", what, detail != NULL ? ": " : "",
            detail != NULL ? detail : "");
    abort();
}

/* Refused inputs: also refused with a tiny reason buffer, and with none. */
static void check_refusal(const uint8_t *data, size_t size, uid_t owner, const char *why,
                          size_t why_size)
{
    struct heapswitch_snapshot snapshot;
    char tiny[4] = {'#', '#', '#', '#'};

    if (!check_why_is_sane(why, why_size))
        fail("refused without a terminated, non-empty reason", NULL);
    if (heapswitch_parse(data, size, owner, &snapshot, tiny, 3) != -1)
        fail("refused, then accepted with a small reason buffer", NULL);
    if (!check_why_is_sane(tiny, 3) || tiny[3] != '#')
        fail("a 3-byte reason buffer was overrun or left unterminated", NULL);
    if (heapswitch_parse(data, size, owner, &snapshot, NULL, 0) != -1)
        fail("refused, then accepted without a reason buffer", NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct heapswitch_snapshot first, second;
    struct heapswitch_rates rates;
    uid_t owner = getuid();
    char why[256];
    unsigned char *shifted;
    const char *problem;
    int result;

    memset(why, '#', sizeof why);
    result = heapswitch_parse(data, size, owner, &first, why, sizeof why);
    if (result != 0 && result != -1)
        fail("heapswitch_parse returned neither 0 nor -1", NULL);
    if (result != 0) {
        check_refusal(data, size, owner, why, sizeof why);
        sink = touch_snapshot(&first); /* zeroed, but every byte written */
        return 0;
    }
    if ((problem = check_snapshot(&first, data, size, owner)) != NULL)
        fail("accepted with a bad snapshot", problem);

    /* The same bytes at an odd address, in a buffer that ends with them
     * (so ASan sees a read past the end), must give the same snapshot. */
    shifted = malloc(size + 1);
    if (shifted == NULL)
        return 0;
    memcpy(shifted + 1, data, size);
    result = heapswitch_parse(shifted + 1, size, owner, &second, NULL, 0);
    if (result != 0)
        fail("accepted once, refused at another address", NULL);
    if ((problem = check_snapshot(&second, shifted + 1, size, owner)) != NULL)
        fail("accepted at an odd address with a bad snapshot", problem);
    free(shifted);
    if (memcmp(&first.counters, &second.counters, sizeof first.counters) != 0 ||
        strcmp(first.exe, second.exe) != 0 ||
        strcmp(first.cmdline, second.cmdline) != 0 ||
        first.live_bytes != second.live_bytes ||
        first.peak_live_bytes != second.peak_live_bytes)
        fail("two parses of the same bytes differ", NULL);

    result = heapswitch_rates(&first, &second, &rates);
    if ((problem = check_rates(&rates, result)) != NULL)
        fail("bad rates", problem);
    sink = touch_snapshot(&first) + touch_snapshot(&second) + touch_rates(&rates);
    /* Out of order: -1, and still no bad value in the output. */
    result = heapswitch_rates(&second, &first, &rates);
    if ((problem = check_rates(&rates, result)) != NULL)
        fail("bad rates out of order", problem);
    sink = touch_rates(&rates);
    return 0;
}
