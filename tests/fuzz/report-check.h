/* Shared by the report fuzzer (tests/fuzz/report.c) and the report
 * mutation test (tests/fuzz/report-mutate.c): the seed lines, and what
 * every result of heapswitch_report_parse() must satisfy. */
#ifndef HSW_REPORT_CHECK_H
#define HSW_REPORT_CHECK_H

#include <stdlib.h>
#include <string.h>

#include "include/heapswitch.h"

/* Valid lines: as lib/report.c writes them, and with what later runtimes
 * may add (unknown keys, nulls, nested values). */
static const char *const report_seeds[] = {
    "{\"pid\":4242,\"ppid\":4241,\"backend\":\"jemalloc\",\"tag\":\"\",\"exe\":\"/bin/sort\","
    "\"cmdline\":\"sort -n \\\"x\\\"\",\"calls\":{\"malloc\":100,\"calloc\":20,\"realloc\":3,"
    "\"free\":110,\"aligned\":4},\"failures\":0,\"bytes_requested\":12345,"
    "\"bytes_allocated\":16384,\"bytes_freed\":8192,\"live_bytes\":8192,"
    "\"peak_live_bytes\":20000,\"requests\":7,\"threads_overflowed\":0,\"heap\":{\"valid\":true,"
    "\"approximate\":false,\"resident\":65536,\"active\":32768,\"mapped\":131072,"
    "\"retained\":0,\"committed\":0},\"fragmentation\":0.8750,\"rss_bytes\":4194304,"
    "\"max_rss_bytes\":5242880,\"user_seconds\":0.012000,\"system_seconds\":0.003000}\n",
    "{\"pid\":1,\"stats\":\"exact\",\"estimated\":[\"bytes_allocated\",\"heap.resident\"],"
    "\"heap\":{\"live\":5,\"overhead\":null},\"fragmentation\":null,"
    "\"x\":[1,-2.5e-3,true,false,null,{\"y\":\"\\ud83d\\ude00\\u00e9\\n\"}]}",
    "{}",
};
#define REPORT_SEED_COUNT (sizeof report_seeds / sizeof report_seeds[0])

/* NULL when the result is sane, else what is wrong. */
static inline const char *report_check(int result, const struct heapswitch_report *r,
                                       const char *why, size_t why_size)
{
    if (result != 0 && result != -1)
        return "returned neither 0 nor -1";
    if (memchr(why, '\0', why_size) == NULL)
        return "the reason is not terminated";
    if (result == -1)
        return why[0] == '\0' ? "refused without a reason" : r->present != 0 ? "refused, yet figures present" : NULL;
    if (memchr(r->backend, '\0', sizeof r->backend) == NULL ||
        memchr(r->tag, '\0', sizeof r->tag) == NULL ||
        memchr(r->exe, '\0', sizeof r->exe) == NULL ||
        memchr(r->cmdline, '\0', sizeof r->cmdline) == NULL ||
        memchr(r->stats, '\0', sizeof r->stats) == NULL)
        return "an unterminated string";
    if (!(r->fragmentation == -1 || (r->fragmentation >= 0 && r->fragmentation <= 1)))
        return "fragmentation out of range";
    if (r->pid < 0 || r->ppid < 0 || r->user_seconds < 0 || r->system_seconds < 0)
        return "a negative figure";
    if (r->present >> HEAPSWITCH_REPORT_FIELDS || r->estimated >> HEAPSWITCH_REPORT_FIELDS)
        return "a bit past the last field";
    return NULL;
}

#endif
