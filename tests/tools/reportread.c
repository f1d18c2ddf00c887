/* Reads a HEAPSWITCH_REPORT file through heapswitch_report_parse(), for
 * the shell tests: one "key=value ..." line per report line, ending with
 * "absent=..." (the figures the line did not give, by field number, or
 * "none"). Exits 1 if a line does not parse (its reason on stderr), 2 on
 * bad usage. Links libheapswitch-reader only. */
#include "config.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "include/heapswitch.h"

int main(int argc, char **argv)
{
    FILE *file;
    char *line = NULL, why[256];
    size_t capacity = 0;
    ssize_t length;
    int status = 0;

    if (argc != 2) {
        fprintf(stderr, "usage: reportread FILE\n");
        return 2;
    }
    if ((file = fopen(argv[1], "r")) == NULL) {
        perror(argv[1]);
        return 1;
    }
    while ((length = getline(&line, &capacity, file)) > 0) {
        struct heapswitch_report r;
        const struct heapswitch_counters *c = &r.counters;
        bool any = false;

        if (heapswitch_report_parse(line, (size_t)length, &r, why, sizeof why) != 0) {
            fprintf(stderr, "reportread: %s\n", why);
            status = 1;
            continue;
        }
        printf("pid=%d backend=%s tag=%s stats=%s allocs=%" PRIu64 " frees=%" PRIu64
               " bytes_allocated=%" PRIu64 " peak_live=%" PRIu64 " absent=",
               (int)r.pid, r.backend, r.tag, r.stats[0] ? r.stats : "-",
               c->malloc_calls + c->calloc_calls + c->realloc_calls + c->aligned_calls,
               c->free_calls, c->bytes_allocated, r.peak_live_bytes);
        for (int f = 0; f < HEAPSWITCH_REPORT_FIELDS; f++)
            if (!HEAPSWITCH_REPORT_HAS(&r, f)) {
                printf("%s%d", any ? "," : "", f);
                any = true;
            }
        printf("%s\n", any ? "" : "none");
    }
    free(line);
    fclose(file);
    return status;
}
