/* heapswitch_report_parse(): a line as lib/report.c writes it is read in
 * full; unknown keys (of every JSON type) and null values are harmless;
 * every syntax error, every truncation and every value of the wrong type
 * or range is refused with a reason; nothing past `length` is read. */
#include "config.h"

#include <limits.h>

#include "include/heapswitch.h"
#include "tests/harness.h"

/* A line in the writer's format (lib/report.c), with made-up figures. */
static const char written[] =
    "{\"pid\":4242,\"ppid\":4241,\"backend\":\"jemalloc\",\"tag\":\"canary\",\"labels\":\"pod=web-1,namespace=shop\","
    "\"exe\":\"/usr/bin/sort\",\"cmdline\":\"sort -n \\\"a b\\\"\\u0001\","
    "\"stats\":\"default\",\"estimated\":[\"live_bytes\",\"peak_live_bytes\","
    "\"fragmentation\",\"size_classes\"],"
    "\"calls\":{\"malloc\":100,\"calloc\":20,\"realloc\":3,\"free\":110,\"aligned\":4},"
    "\"failures\":1,\"bytes_requested\":12345,\"bytes_allocated\":16384,"
    "\"bytes_freed\":8192,\"live_bytes\":8192,\"peak_live_bytes\":20000,"
    "\"requests\":7,\"threads_overflowed\":0,"
    "\"heap\":{\"valid\":true,\"approximate\":false,\"resident\":65536,"
    "\"active\":32768,\"mapped\":131072,\"retained\":0,\"committed\":0,\"live\":8192,"
    "\"overhead\":57344},"
    "\"fragmentation\":0.8750,\"rss_bytes\":4194304,\"max_rss_bytes\":5242880,"
    "\"user_seconds\":0.012000,\"system_seconds\":0.003000,"
    "\"latency\":{\"rate\":256,\"clock\":\"tsc\",\"alloc\":{\"samples\":39,\"mean_ns\":120.5,"
    "\"p50_ns\":84.0,\"p99_ns\":11776.0,\"p999_ns\":21504.0,\"max_ns\":22295.0},"
    "\"free\":{\"samples\":40,\"mean_ns\":92.0,\"p50_ns\":76.0,\"p99_ns\":110592.0,"
    "\"p999_ns\":148645.0,\"max_ns\":148645.0}}}\n";

static int parse(const char *line, struct heapswitch_report *out, char *why, size_t size)
{
    return heapswitch_report_parse(line, strlen(line), out, why, size);
}

static void test_written_line(void)
{
    struct heapswitch_report r;
    char why[256];

    CHECK(parse(written, &r, why, sizeof why) == 0, "the writer's line: %s", why);
    CHECK(r.pid == 4242 && r.ppid == 4241, "pids %d %d", (int)r.pid, (int)r.ppid);
    CHECK(strcmp(r.backend, "jemalloc") == 0 && strcmp(r.tag, "canary") == 0 &&
              strcmp(r.exe, "/usr/bin/sort") == 0,
          "strings");
    CHECK(strcmp(r.cmdline, "sort -n \"a b\"\001") == 0, "escapes decoded: '%s'", r.cmdline);
    CHECK(strcmp(r.labels, "pod=web-1,namespace=shop") == 0, "labels: '%s'", r.labels);
    CHECK(r.counters.malloc_calls == 100 && r.counters.calloc_calls == 20 &&
              r.counters.realloc_calls == 3 && r.counters.free_calls == 110 &&
              r.counters.aligned_calls == 4,
          "calls");
    CHECK(r.counters.failures == 1 && r.counters.bytes_requested == 12345 &&
              r.counters.bytes_allocated == 16384 && r.counters.bytes_freed == 8192 &&
              r.live_bytes == 8192 && r.peak_live_bytes == 20000 && r.counters.requests == 7,
          "bytes");
    CHECK(r.heap.valid == 1 && r.heap.approximate == 0 && r.heap.resident == 65536 &&
              r.heap.active == 32768 && r.heap.mapped == 131072,
          "heap");
    CHECK(r.fragmentation == 0.875 && r.rss_bytes == 4194304 && r.max_rss_bytes == 5242880,
          "fragmentation, rss");
    CHECK(r.user_seconds == 0.012 && r.system_seconds == 0.003, "cpu");
    CHECK(r.latency_rate == 256 && r.latency[HEAPSWITCH_LATENCY_ALLOC].samples == 39 &&
              r.latency[HEAPSWITCH_LATENCY_ALLOC].p99_ns == 11776.0 &&
              r.latency[HEAPSWITCH_LATENCY_FREE].p999_ns == 148645.0 &&
              r.latency[HEAPSWITCH_LATENCY_FREE].mean_ns == 92.0,
          "latency");
    for (int f = 0; f < HEAPSWITCH_REPORT_FIELDS; f++)
        CHECK(HEAPSWITCH_REPORT_HAS(&r, f), "field %d present", f);
    CHECK(strcmp(r.stats, "default") == 0, "the counting level");
    CHECK(r.estimated == ((1ull << HEAPSWITCH_REPORT_LIVE_BYTES) |
                          (1ull << HEAPSWITCH_REPORT_PEAK_LIVE_BYTES) |
                          (1ull << HEAPSWITCH_REPORT_FRAGMENTATION)),
          "the estimated figures (size_classes is not a figure of the line)");
    CHECK(r.heap.present == (HEAPSWITCH_HEAP_RESIDENT | HEAPSWITCH_HEAP_ACTIVE |
                             HEAPSWITCH_HEAP_MAPPED | HEAPSWITCH_HEAP_RETAINED |
                             HEAPSWITCH_HEAP_COMMITTED),
          "heap figures present: %#x", r.heap.present);
}

static void test_tolerance(void)
{
    struct heapswitch_report r;
    char why[256];
    const char *later =
        "{\"pid\":1,\"stats\":\"default\",\"estimated\":[\"bytes_allocated\","
        "\"heap.resident\",\"calls.free\",\"no_such_figure\"],"
        "\"future\":{\"a\":[1,-2.5e-3,true,false,null,{\"b\":\"\\ud83d\\ude00\"}],\"c\":{}},"
        "\"heap\":{\"live\":5,\"overhead\":null,\"resident\":9},\"list\":[],"
        "\"fragmentation\":null,\"bytes_allocated\":null,\"ppid\":null}";

    CHECK(parse(later, &r, why, sizeof why) == 0, "unknown keys and nulls: %s", why);
    CHECK(strcmp(r.stats, "default") == 0 && HEAPSWITCH_REPORT_HAS(&r, HEAPSWITCH_REPORT_STATS),
          "the counting level");
    CHECK(r.estimated == ((1ull << HEAPSWITCH_REPORT_BYTES_ALLOCATED) |
                          (1ull << HEAPSWITCH_REPORT_HEAP_RESIDENT) |
                          (1ull << HEAPSWITCH_REPORT_FREE_CALLS)),
          "estimated figures %#llx", (unsigned long long)r.estimated);
    CHECK(r.heap.resident == 9 && HEAPSWITCH_REPORT_HAS(&r, HEAPSWITCH_REPORT_HEAP_RESIDENT),
          "known key after unknown ones in heap");
    CHECK(r.fragmentation == -1 && !HEAPSWITCH_REPORT_HAS(&r, HEAPSWITCH_REPORT_FRAGMENTATION),
          "null fragmentation is absent (-1)");
    CHECK(!HEAPSWITCH_REPORT_HAS(&r, HEAPSWITCH_REPORT_BYTES_ALLOCATED) &&
              !HEAPSWITCH_REPORT_HAS(&r, HEAPSWITCH_REPORT_PPID),
          "null figures are absent");
    CHECK(parse("  {}\r\n", &r, why, sizeof why) == 0 && r.present == 0, "empty object");
    CHECK(parse("{\"pid\":1,\"pid\":2}", &r, why, sizeof why) == 0 && r.pid == 2,
          "a repeated key: the last one");
    CHECK(parse("{\"backend\":\"a-backend-name-longer-than-sixteen\",\"tag\":\"\\u00e9\"}", &r,
                why, sizeof why) == 0 &&
              strcmp(r.backend, "a-backend-name-") == 0 && strcmp(r.tag, "\xc3\xa9") == 0,
          "cut to the buffer, UTF-8 decoded: '%s' '%s'", r.backend, r.tag);
    CHECK(parse("{\"bytes_allocated\":18446744073709551615}", &r, why, sizeof why) == 0 &&
              r.counters.bytes_allocated == UINT64_MAX,
          "the largest 64-bit count");
}

static void refused(const char *line, size_t length, const char *what, const char *reason)
{
    struct heapswitch_report r;
    char why[256] = "";

    memset(&r, 0x5a, sizeof r);
    CHECK(heapswitch_report_parse(line, length, &r, why, sizeof why) == -1, "%s: accepted",
          what);
    CHECK(why[0] != '\0' && (reason == NULL || strstr(why, reason) != NULL),
          "%s: reason '%s'", what, why);
    CHECK(r.present == 0 && r.pid == 0 && r.fragmentation == -1, "%s: out is cleared", what);
}

#define REFUSED(line, reason) refused(line, strlen(line), line, reason)

static void test_refusals(void)
{
    char nested[200] = "{\"deep\":";
    char why[4] = {'#', '#', '#', '#'};
    size_t full = strlen(written) - 1; /* less the newline */

    REFUSED("", "JSON object");
    REFUSED("[1]", "JSON object");
    REFUSED("{\"pid\":1,}", "key in quotes");
    REFUSED("{\"pid\":1", "','");
    REFUSED("{\"pid\" 1}", "':'");
    REFUSED("{\"pid\":01}", "leading zero");
    REFUSED("{\"x\":1.}", "decimal point");
    REFUSED("{\"x\":1e}", "exponent");
    REFUSED("{\"x\":-}", "digit");
    REFUSED("{\"x\":+1}", "unexpected");
    REFUSED("{\"x\":\"a\\qb\"}", "bad escape");
    REFUSED("{\"x\":\"a\tb\"}", "control byte");
    REFUSED("{\"x\":\"\\ud800\"}", "surrogate");
    REFUSED("{\"x\":\"\\udc00\"}", "surrogate");
    REFUSED("{\"x\":\"\\u12g4\"}", "hex");
    REFUSED("{\"x\":\"\\u0000\"}", "NUL");
    REFUSED("{\"x\":tru}", "unexpected");
    REFUSED("{\"x\":[1 2]}", "','");
    REFUSED("{} {}", "after the object");
    REFUSED("{\"pid\":\"42\"}", "pid");
    REFUSED("{\"pid\":-1}", "pid");
    REFUSED("{\"pid\":2147483648}", "pid");
    REFUSED("{\"bytes_allocated\":1.5}", "bytes_allocated");
    REFUSED("{\"bytes_allocated\":18446744073709551616}", "bytes_allocated");
    REFUSED("{\"fragmentation\":1.5}", "fragmentation");
    REFUSED("{\"user_seconds\":-1}", "user_seconds");
    REFUSED("{\"calls\":[1]}", "calls");
    REFUSED("{\"backend\":3}", "backend");
    REFUSED("{\"heap\":{\"valid\":1}}", "valid");
    REFUSED("{\"estimated\":[1]}", "estimated");
    refused("{\"pid\":1}\0{", 11, "a NUL byte after the object", "after the object");
    /* Every truncation of a valid line is refused: the parser stops at
     * `length`, even where the buffer goes on. */
    for (size_t length = 0; length < full; length++) {
        char what[64];
        snprintf(what, sizeof what, "the written line cut to %zu bytes", length);
        refused(written, length, what, NULL);
    }
    for (int i = 0; i < 40; i++)
        strcat(nested, "[");
    REFUSED(nested, "nested deeper");
    /* A small reason buffer stays terminated; none at all is fine. */
    CHECK(heapswitch_report_parse("{", 1, NULL, why, 3) == -1 && why[2] == '\0' &&
              why[3] == '#',
          "a 3-byte reason buffer");
    CHECK(heapswitch_report_parse("{", 1, NULL, NULL, 0) == -1, "no reason buffer");
    CHECK(heapswitch_report_parse(NULL, 0, NULL, NULL, 0) == -1, "no line");
}

int main(void)
{
    test_written_line();
    test_tolerance();
    test_refusals();
    return test_finish("report_parse");
}
