/* libFuzzer target for heapswitch_report_parse(), the reader of
 * HEAPSWITCH_REPORT lines: any input must be refused with a reason or
 * give a sane report (tests/fuzz/report-check.h), with no read past the
 * input and no undefined behaviour (ASan, UBSan, lib/report_parse.c
 * compiled in with them). The input is parsed from a copy of exactly its
 * size, so that a read past `length` is caught. */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/fuzz/report-check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct heapswitch_report first, second;
    char why[128];
    char *copy = malloc(size ? size : 1);
    const char *problem;
    int result;

    if (copy == NULL)
        return 0;
    memcpy(copy, data, size);
    memset(why, '#', sizeof why);
    result = heapswitch_report_parse(copy, size, &first, why, sizeof why);
    if ((problem = report_check(result, &first, why, sizeof why)) != NULL) {
        fprintf(stderr, "report fuzzer: %s\n", problem);
        abort();
    }
    if (heapswitch_report_parse(copy, size, &second, NULL, 0) != result ||
        memcmp(&first, &second, sizeof first) != 0) {
        fprintf(stderr, "report fuzzer: two parses differ\n");
        abort();
    }
    free(copy);
    return 0;
}
