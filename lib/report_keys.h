/* The key names of a HEAPSWITCH_REPORT line, the one definition that the
 * writer (lib/report.c) and the parser (lib/report_parse.c,
 * heapswitch_report_parse) share: renaming a key here renames it on both
 * sides, so `heapswitch ab` cannot silently stop finding it. */
#ifndef HSW_REPORT_KEYS_H
#define HSW_REPORT_KEYS_H

/* "\"pid\":" for HSW_REPORT_KEY(PID): the writer's format strings. */
#define HSW_REPORT_KEY(name) "\"" HSW_REPORT_##name "\":"

#define HSW_REPORT_PID "pid"
#define HSW_REPORT_PPID "ppid"
#define HSW_REPORT_BACKEND "backend"
#define HSW_REPORT_TAG "tag"
#define HSW_REPORT_LABELS "labels" /* HEAPSWITCH_LABELS, "key=value,..." */
#define HSW_REPORT_EXE "exe"
#define HSW_REPORT_CMDLINE "cmdline"
#define HSW_REPORT_STATS "stats"
#define HSW_REPORT_ESTIMATED "estimated"
#define HSW_REPORT_CALLS "calls" /* an object of the keys below */
#define HSW_REPORT_CALLS_MALLOC "malloc"
#define HSW_REPORT_CALLS_CALLOC "calloc"
#define HSW_REPORT_CALLS_REALLOC "realloc"
#define HSW_REPORT_CALLS_FREE "free"
#define HSW_REPORT_CALLS_ALIGNED "aligned"
#define HSW_REPORT_FAILURES "failures"
#define HSW_REPORT_BYTES_REQUESTED "bytes_requested"
#define HSW_REPORT_BYTES_ALLOCATED "bytes_allocated"
#define HSW_REPORT_BYTES_FREED "bytes_freed"
#define HSW_REPORT_LIVE_BYTES "live_bytes"
#define HSW_REPORT_PEAK_LIVE_BYTES "peak_live_bytes"
#define HSW_REPORT_REQUESTS "requests"
#define HSW_REPORT_THREADS_OVERFLOWED "threads_overflowed"
#define HSW_REPORT_HEAP "heap" /* an object of the keys below */
#define HSW_REPORT_HEAP_VALID "valid"
#define HSW_REPORT_HEAP_APPROXIMATE "approximate"
#define HSW_REPORT_HEAP_RESIDENT "resident"
#define HSW_REPORT_HEAP_ACTIVE "active"
#define HSW_REPORT_HEAP_MAPPED "mapped"
#define HSW_REPORT_HEAP_RETAINED "retained"
#define HSW_REPORT_HEAP_COMMITTED "committed"
#define HSW_REPORT_HEAP_LIVE "live"
#define HSW_REPORT_HEAP_OVERHEAD "overhead"
#define HSW_REPORT_FRAGMENTATION "fragmentation"
#define HSW_REPORT_RSS_BYTES "rss_bytes"
#define HSW_REPORT_MAX_RSS_BYTES "max_rss_bytes"
#define HSW_REPORT_USER_SECONDS "user_seconds"
#define HSW_REPORT_SYSTEM_SECONDS "system_seconds"
#define HSW_REPORT_LATENCY "latency" /* an object of the keys below, or null */
#define HSW_REPORT_LATENCY_RATE "rate"
#define HSW_REPORT_LATENCY_CLOCK "clock"
#define HSW_REPORT_LATENCY_ALLOC "alloc" /* objects of the keys below */
#define HSW_REPORT_LATENCY_FREE "free"
#define HSW_REPORT_LATENCY_SAMPLES "samples"
#define HSW_REPORT_LATENCY_MEAN "mean_ns"
#define HSW_REPORT_LATENCY_P50 "p50_ns"
#define HSW_REPORT_LATENCY_P99 "p99_ns"
#define HSW_REPORT_LATENCY_P999 "p999_ns"
#define HSW_REPORT_LATENCY_MAX "max_ns"

#endif
