/* heapswitch: the public C API.
 *
 * libheapswitch takes over malloc and its family in any program (through
 * LD_PRELOAD or by linking with -lheapswitch) and routes every call to the
 * backend that HEAPSWITCH_BACKEND names: system (glibc), jemalloc,
 * mimalloc or arena. Every name here starts with heapswitch_.
 */
#ifndef HEAPSWITCH_H
#define HEAPSWITCH_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

#define HEAPSWITCH_VERSION "0.1.0"

/* The name of the backend serving this process's allocations: "system",
 * "jemalloc", "mimalloc" or "arena". Selects the backend if no allocation
 * has done so yet. The string is static. */
const char *heapswitch_backend_name(void);

/* The version of the loaded library, e.g. "0.1.0". */
const char *heapswitch_version(void);

/* Marks the end of one request (or any unit of work): readers divide
 * allocations and bytes by it to show them per request. Cheap: one
 * increment in the calling thread's own counter slot. */
void heapswitch_request_done(void);

/* Whether ptr, a live block from malloc, was made by the active backend
 * itself: 1 yes, 0 no, -1 when the backend cannot tell (only backends
 * with an ownership test of their own can; the arena backend can). */
int heapswitch_backend_owns(const void *ptr);

/* ---- Explicit arenas ---------------------------------------------------
 * Request-scoped memory on purpose, whatever backend is active (the
 * memory comes from mmap, not malloc): allocate freely during a request,
 * then reset the arena to free everything at once. An arena is used by
 * one thread at a time. Blocks are not freed one by one and must not be
 * passed to free() or realloc(). */
typedef struct heapswitch_arena heapswitch_arena;

/* A new arena that grows by chunks of chunk_size bytes (0: 64 KiB).
 * NULL with errno ENOMEM on failure. */
heapswitch_arena *heapswitch_arena_create(size_t chunk_size);
/* size bytes aligned to 16; NULL with errno ENOMEM. */
void *heapswitch_arena_alloc(heapswitch_arena *arena, size_t size);
/* size bytes aligned to alignment (a power of two); NULL with errno
 * EINVAL for a bad alignment, ENOMEM when out of memory. */
void *heapswitch_arena_alloc_aligned(heapswitch_arena *arena, size_t alignment, size_t size);
/* A NUL-terminated copy of at most length bytes of text. */
char *heapswitch_arena_strndup(heapswitch_arena *arena, const char *text, size_t length);
/* Frees every block at once; keeps the first chunk for the next request. */
void heapswitch_arena_reset(heapswitch_arena *arena);
/* Frees every block and the arena itself. */
void heapswitch_arena_destroy(heapswitch_arena *arena);
/* Bytes the arena holds from the OS. */
size_t heapswitch_arena_bytes_held(const heapswitch_arena *arena);

/* ---- Reading the counters of running processes ----------------------
 * In libheapswitch-reader (-lheapswitch-reader), which never takes over
 * malloc: a dashboard linking it is not itself measured. Every process
 * running under libheapswitch publishes its counters in a shared-memory
 * segment, /dev/shm/heapswitch-<uid>-<pid> (HEAPSWITCH_DIR chooses another
 * directory; outside the initial pid namespace the name ends in -<pid
 * namespace inode>); these functions find,
 * validate and copy them. A corrupt or hostile segment is reported and
 * skipped, never trusted. */

#define HEAPSWITCH_SIZE_CLASSES 32

enum heapswitch_process_state {
    HEAPSWITCH_PROCESS_RUNNING,
    HEAPSWITCH_PROCESS_EXITED, /* exited normally: these are its final totals */
    HEAPSWITCH_PROCESS_DEAD    /* gone without exiting (killed): totals as last written */
};

struct heapswitch_counters {
    uint64_t malloc_calls;  /* malloc and C++ new */
    uint64_t calloc_calls;
    uint64_t realloc_calls; /* realloc and reallocarray */
    uint64_t free_calls;    /* free and C++ delete, free(NULL) included */
    uint64_t aligned_calls; /* aligned_alloc, posix_memalign, memalign, valloc, pvalloc */
    uint64_t failures;      /* calls that failed (NULL or an error code) */
    uint64_t bytes_requested;
    uint64_t bytes_allocated; /* usable sizes handed out */
    uint64_t bytes_freed;     /* usable sizes given back */
    uint64_t requests;        /* heapswitch_request_done() calls */
    /* Allocating calls (failed ones too) by requested size: class 0 is size 0, class k is
     * [2^(k-1), 2^k), the last class everything from 2^30 up. At the default counting
     * level malloc's share is sampled (HEAPSWITCH_ESTIMATED_SIZE_CLASSES). */
    uint64_t size_classes[HEAPSWITCH_SIZE_CLASSES];
};

/* Bits of heapswitch_heap.present: the figures a backend has (a figure
 * it does not have is shown as unknown, never as 0). */
#define HEAPSWITCH_HEAP_RESIDENT 1u
#define HEAPSWITCH_HEAP_ACTIVE 2u
#define HEAPSWITCH_HEAP_MAPPED 4u
#define HEAPSWITCH_HEAP_RETAINED 8u
#define HEAPSWITCH_HEAP_COMMITTED 16u
#define HEAPSWITCH_HEAP_RESERVED 32u

/* The backend's own figures (see docs/fragmentation.md). */
struct heapswitch_heap {
    int valid;       /* 0 until the process refreshed them once */
    int approximate; /* the backend's figures lag behind (jemalloc, mimalloc) */
    uint64_t resident; /* bytes the backend holds: the fragmentation denominator */
    uint64_t active;
    uint64_t mapped;
    uint64_t retained;
    uint64_t committed;
    uint64_t reserved;
    double age_seconds; /* since the last refresh */
    unsigned present;   /* HEAPSWITCH_HEAP_* bits of the figures above the backend has */
};

/* Counting levels (HEAPSWITCH_STATS; 0 publishes nothing). */
enum heapswitch_stats_level {
    /* Calls, failures, bytes requested, size classes and requests counted
     * exactly; live bytes from the backend's own books at each refresh. */
    HEAPSWITCH_STATS_DEFAULT = 1,
    /* The usable bytes of every block handed out and given back counted too. */
    HEAPSWITCH_STATS_EXACT = 2,
};

/* Bits of heapswitch_snapshot.estimated: which figures are not exact counts. */
#define HEAPSWITCH_ESTIMATED_LIVE 1u      /* live_bytes, peak_live_bytes, fragmentation, heap_overhead_bytes */
#define HEAPSWITCH_UNCOUNTED_USABLE 2u    /* counters.bytes_allocated and bytes_freed: not counted (0) */
#define HEAPSWITCH_UNKNOWN_LIVE 4u        /* no live figure yet (live_bytes 0 means unknown) */
#define HEAPSWITCH_ESTIMATED_SIZE_CLASSES 8u /* counters.size_classes: malloc's sampled (1 call in 256, weighted) */

/* Sampled call latency (HEAPSWITCH_LATENCY, docs/latency.md): one call
 * of a kind in `rate`, on average, timed around the backend's own call,
 * into log-scale buckets: 8 per power of two, so that a bucket's midpoint
 * is within 6.25% of every duration in it. */
#define HEAPSWITCH_LATENCY_BUCKETS 242

enum heapswitch_latency_kind {
    HEAPSWITCH_LATENCY_ALLOC, /* malloc (and C++ new) */
    HEAPSWITCH_LATENCY_FREE,  /* free (and delete) */
    HEAPSWITCH_LATENCY_KINDS
};

struct heapswitch_latency_histogram {
    uint64_t samples; /* timed calls: the sum of the buckets */
    double sum_ns;    /* of their durations */
    double max_ns;    /* the longest */
    /* Timed calls by duration in the process's clock ticks: bucket i spans
     * [heapswitch_latency_bucket_ns(l, i), heapswitch_latency_bucket_ns(l, i + 1)) ns. */
    uint64_t buckets[HEAPSWITCH_LATENCY_BUCKETS];
};

struct heapswitch_latency {
    int present;         /* 0: the process does not time calls (or not yet) */
    int tsc;             /* 1: timed with rdtsc, 0: with CLOCK_MONOTONIC */
    unsigned rate;       /* one call in `rate` timed, on average */
    double ticks_per_ns; /* the clock's rate, by which durations were converted */
    struct heapswitch_latency_histogram kinds[HEAPSWITCH_LATENCY_KINDS];
};

struct heapswitch_snapshot {
    pid_t pid;
    uid_t uid;
    enum heapswitch_process_state state;
    uint64_t start_time; /* clock ticks after boot, as in /proc/PID/stat */
    char backend[16];
    char tag[64];
    char exe[256];
    char cmdline[512];
    double taken;       /* CLOCK_MONOTONIC seconds when the copy was taken */
    double created;     /* Unix time the process started publishing */
    double exited;      /* Unix time it exited, or 0 */
    unsigned threads;   /* threads owning a counter slot now */
    unsigned overflow_threads; /* threads that had to share the last slot */
    uint64_t rss_bytes; /* the process's resident set, 0 once it is gone */
    uint64_t live_bytes;      /* bytes_allocated - bytes_freed */
    uint64_t peak_live_bytes; /* highest live total seen at a refresh */
    double fragmentation;     /* 1 - live / heap.resident in [0,1], or -1 if unknown */
    struct heapswitch_counters counters;
    struct heapswitch_heap heap;
    enum heapswitch_stats_level stats_level;
    unsigned estimated;          /* HEAPSWITCH_ESTIMATED_LIVE, HEAPSWITCH_UNCOUNTED_USABLE bits */
    /* Bytes the backend holds resident beyond the live ones (heap.resident
     * minus live bytes of the same refresh), or -1 when unknown. */
    int64_t heap_overhead_bytes;
    double cpu_seconds;          /* user + system CPU time of the process, or -1 when unknown */
    /* Containers (docs/containers.md). `pid` above is the process's pid as
     * this reader sees it, found from the holder of the segment's lock,
     * never taken from the segment alone; these say where it runs. */
    pid_t namespace_pid;    /* its pid in its own pid namespace (= pid on the host) */
    uint64_t pid_namespace; /* the inode of its pid namespace (/proc/PID/ns/pid), 0 if unknown */
    char labels[512];       /* HEAPSWITCH_LABELS, "key=value,..." (validated), "" for none */
    struct heapswitch_latency latency; /* sampled call latency, when present */
};

struct heapswitch_rates {
    double seconds;          /* between the two snapshots */
    double allocs_per_second; /* malloc + calloc + realloc + aligned calls */
    double frees_per_second;
    double bytes_per_second;  /* usable bytes allocated; bytes requested where usable bytes are not counted */
    double requests_per_second;
    double allocs_per_request; /* -1 when no request was marked in between */
    double bytes_per_request;
};

/* The directory segments are read from: the one heapswitch_set_directory()
 * chose, else $HEAPSWITCH_DIR when set and not empty, else /dev/shm. */
const char *heapswitch_directory(void);

/* Chooses the segment directory for this process's readers. Returns 0,
 * or -1 with a reason in `why` when path cannot be one (see
 * heapswitch_check_directory). */
int heapswitch_set_directory(const char *path, char *why, size_t why_size);

/* Checks heapswitch_directory() as the scan will: an absolute path to a
 * directory owned by root or this user, writable by nobody else unless
 * sticky. Returns 0, or -1 with a one-line reason in `why`. */
int heapswitch_check_directory(char *why, size_t why_size);

/* Walks labels ("key=value,..." as in heapswitch_snapshot.labels): copies
 * the pair at offset `at` into key and value (truncated to their sizes)
 * and returns the offset of the next one, or 0 when there is none left. */
size_t heapswitch_label_next(const char *labels, size_t at, char *key, size_t key_size,
                             char *value, size_t value_size);

/* Flags of heapswitch_scan(). */
#define HEAPSWITCH_SCAN_REMOVE_DEAD 1u /* unlink segments of processes that died */

typedef void (*heapswitch_snapshot_fn)(const struct heapswitch_snapshot *snapshot,
                                       void *context);
typedef void (*heapswitch_problem_fn)(const char *segment, const char *problem,
                                      void *context);

/* Copies the segment of one process. Returns 0, or -1 with a one-line
 * reason in `why` (no segment, not ours, corrupt...). */
int heapswitch_read_pid(pid_t pid, struct heapswitch_snapshot *out, char *why,
                        size_t why_size);

/* Calls `visit` for every valid segment this user may read (root: every
 * user's) and `problem` for every segment refused, with the reason.
 * Returns the number of segments visited, or -1 if /dev/shm is unreadable. */
int heapswitch_scan(unsigned flags, heapswitch_snapshot_fn visit,
                    heapswitch_problem_fn problem, void *context);

/* Validates and decodes a segment image of `size` bytes owned by `owner`:
 * the parser behind the two functions above, for tools and fuzzing. */
int heapswitch_parse(const void *image, size_t size, uid_t owner,
                     struct heapswitch_snapshot *out, char *why, size_t why_size);

/* Validates and decodes a latency section (version 1) of `size` bytes,
 * as heapswitch_read_pid and heapswitch_scan do: 0, or -1 with a reason. */
int heapswitch_parse_latency(const void *section, size_t size, struct heapswitch_latency *out,
                             char *why, size_t why_size);
/* The duration in ns below which a share q (0 <= q <= 1) of the timed
 * calls of `kind` fall: the midpoint of the bucket holding it (within
 * 6.25%), never above the longest; -1 when none was timed. */
double heapswitch_latency_quantile(const struct heapswitch_latency *latency,
                                   enum heapswitch_latency_kind kind, double q);
/* The lower bound in ns of bucket `bucket` (HEAPSWITCH_LATENCY_BUCKETS:
 * infinity). */
double heapswitch_latency_bucket_ns(const struct heapswitch_latency *latency, unsigned bucket);
/* The number of timed calls of `kind` that took at most `ns` (a bucket
 * counts when its midpoint is at most `ns`): a cumulative bucket. */
uint64_t heapswitch_latency_count_below(const struct heapswitch_latency *latency,
                                        enum heapswitch_latency_kind kind, double ns);

/* Rates between two snapshots of the same process, later one second.
 * Returns 0, or -1 if they are not of the same process or not in order. */
int heapswitch_rates(const struct heapswitch_snapshot *earlier,
                     const struct heapswitch_snapshot *later,
                     struct heapswitch_rates *out);

/* ---- Reading HEAPSWITCH_REPORT lines (libheapswitch-reader) ----------
 * With HEAPSWITCH_REPORT=FILE, every process appends one line of JSON to
 * FILE at exit (JSON Lines). heapswitch_report_parse() reads one line: a
 * strict JSON parser (any syntax error refuses the line) that maps the
 * keys it knows, skips keys it does not know, and leaves a figure whose
 * value is null as absent. */

/* The figures of a report line, as bits of heapswitch_report.present. */
enum heapswitch_report_field {
    HEAPSWITCH_REPORT_PID,
    HEAPSWITCH_REPORT_PPID,
    HEAPSWITCH_REPORT_BACKEND,
    HEAPSWITCH_REPORT_TAG,
    HEAPSWITCH_REPORT_EXE,
    HEAPSWITCH_REPORT_CMDLINE,
    HEAPSWITCH_REPORT_STATS,
    HEAPSWITCH_REPORT_MALLOC_CALLS,
    HEAPSWITCH_REPORT_CALLOC_CALLS,
    HEAPSWITCH_REPORT_REALLOC_CALLS,
    HEAPSWITCH_REPORT_FREE_CALLS,
    HEAPSWITCH_REPORT_ALIGNED_CALLS,
    HEAPSWITCH_REPORT_FAILURES,
    HEAPSWITCH_REPORT_BYTES_REQUESTED,
    HEAPSWITCH_REPORT_BYTES_ALLOCATED,
    HEAPSWITCH_REPORT_BYTES_FREED,
    HEAPSWITCH_REPORT_LIVE_BYTES,
    HEAPSWITCH_REPORT_PEAK_LIVE_BYTES,
    HEAPSWITCH_REPORT_REQUESTS,
    HEAPSWITCH_REPORT_THREADS_OVERFLOWED,
    HEAPSWITCH_REPORT_HEAP_VALID,
    HEAPSWITCH_REPORT_HEAP_APPROXIMATE,
    HEAPSWITCH_REPORT_HEAP_RESIDENT,
    HEAPSWITCH_REPORT_HEAP_ACTIVE,
    HEAPSWITCH_REPORT_HEAP_MAPPED,
    HEAPSWITCH_REPORT_HEAP_RETAINED,
    HEAPSWITCH_REPORT_HEAP_COMMITTED,
    HEAPSWITCH_REPORT_FRAGMENTATION,
    HEAPSWITCH_REPORT_RSS_BYTES,
    HEAPSWITCH_REPORT_MAX_RSS_BYTES,
    HEAPSWITCH_REPORT_USER_SECONDS,
    HEAPSWITCH_REPORT_SYSTEM_SECONDS,
    HEAPSWITCH_REPORT_LABELS,
    HEAPSWITCH_REPORT_LATENCY_RATE, /* latency.rate: the process timed calls */
    HEAPSWITCH_REPORT_MALLOC_LATENCY_SAMPLES,
    HEAPSWITCH_REPORT_MALLOC_LATENCY_MEAN,
    HEAPSWITCH_REPORT_MALLOC_LATENCY_P50,
    HEAPSWITCH_REPORT_MALLOC_LATENCY_P99,
    HEAPSWITCH_REPORT_MALLOC_LATENCY_P999,
    HEAPSWITCH_REPORT_MALLOC_LATENCY_MAX,
    HEAPSWITCH_REPORT_FREE_LATENCY_SAMPLES,
    HEAPSWITCH_REPORT_FREE_LATENCY_MEAN,
    HEAPSWITCH_REPORT_FREE_LATENCY_P50,
    HEAPSWITCH_REPORT_FREE_LATENCY_P99,
    HEAPSWITCH_REPORT_FREE_LATENCY_P999,
    HEAPSWITCH_REPORT_FREE_LATENCY_MAX,
    HEAPSWITCH_REPORT_FIELDS
};

#define HEAPSWITCH_REPORT_HAS(report, field) ((((report)->present) >> (field)) & 1u)

struct heapswitch_report {
    uint64_t present;   /* bit (1 << field) for every figure given and not null */
    uint64_t estimated; /* bit (1 << field) for every figure the line lists as estimated */
    pid_t pid, ppid;
    char backend[16];
    char tag[64];
    char exe[256];     /* longer strings are cut (and stay terminated) */
    char cmdline[512];
    char stats[16];    /* the counting level, e.g. "default" or "exact" */
    struct heapswitch_counters counters; /* calls, failures, bytes, requests
                                            (size_classes are not reported: 0) */
    uint64_t live_bytes;
    uint64_t peak_live_bytes;
    unsigned threads_overflowed;
    struct heapswitch_heap heap; /* valid .. committed, present (reserved, age_seconds: 0) */
    double fragmentation; /* in [0, 1], or -1 if absent */
    uint64_t rss_bytes;
    uint64_t max_rss_bytes;
    double user_seconds;
    double system_seconds;
    char labels[512]; /* HEAPSWITCH_LABELS, "key=value,...", as the process published them */
    /* Sampled call latency (HEAPSWITCH_LATENCY), when the line has it:
     * one call in latency_rate timed; by enum heapswitch_latency_kind. */
    unsigned latency_rate;
    struct heapswitch_report_latency {
        uint64_t samples;
        double mean_ns, p50_ns, p99_ns, p999_ns, max_ns; /* present bits say which */
    } latency[HEAPSWITCH_LATENCY_KINDS];
};

/* Parses one report line of `length` bytes (a trailing newline allowed;
 * nothing at or past line + length is read). Returns 0, or -1 with a
 * one-line reason in `why` (syntax error and its offset, a known key
 * with a value of the wrong type or out of range). */
int heapswitch_report_parse(const char *line, size_t length, struct heapswitch_report *out,
                            char *why, size_t why_size);

/* ---- Reading sampled allocation call sites (libheapswitch-reader) -----
 * With HEAPSWITCH_SAMPLE on, a process publishes the call stacks of its
 * sampled allocations beside its counters (the segment's sites section).
 * Each site is one stack with weighted estimates: unbiased, but estimates.
 * The section is untrusted input like the rest of the segment. */

#define HEAPSWITCH_SITE_FRAMES 32

struct heapswitch_site {
    uint64_t frames[HEAPSWITCH_SITE_FRAMES]; /* return addresses, innermost first */
    unsigned depth;        /* frames used; 0 for the "other" row */
    int other;             /* the row of samples whose stack found no room (or no unwind) */
    uint64_t samples;      /* raw samples taken at this stack */
    double allocations;    /* estimated allocating calls */
    double bytes;          /* estimated bytes allocated */
    double freed_allocations; /* estimated blocks of this site freed since */
    double freed_bytes;
    double live_bytes;     /* bytes - freed_bytes, never below 0 */
    double live_blocks;    /* allocations - freed_allocations, never below 0 */
};

struct heapswitch_sites {
    uint64_t interval;        /* mean bytes between two samples */
    uint64_t samples;         /* samples taken in the whole process */
    uint64_t unwind_failures; /* samples whose stack could not be taken */
    unsigned capacity;        /* entries of the table, the "other" row included; 0 before
                                 the first sample */
    size_t count;             /* sites below: claimed entries (those of equal stacks added up),
                                 then "other" if it has samples; none while capacity is 0 */
    struct heapswitch_site *sites; /* malloc'd; heapswitch_sites_free() */
};

/* Why heapswitch_read_sites() failed: its negative return values. */
enum heapswitch_sites_error {
    HEAPSWITCH_SITES_NO_SEGMENT = -1, /* no readable segment for this pid */
    HEAPSWITCH_SITES_OFF = -2,        /* a segment without sites: sampling is off */
    HEAPSWITCH_SITES_CORRUPT = -3,    /* the section is refused (the reason in why) */
    HEAPSWITCH_SITES_NO_MEMORY = -4,
};

/* Copies the sites of one process (and its snapshot, when snapshot is
 * not NULL). Returns 0, or an enum heapswitch_sites_error with a
 * one-line reason in `why`. Free the result with heapswitch_sites_free(). */
int heapswitch_read_sites(pid_t pid, struct heapswitch_snapshot *snapshot,
                          struct heapswitch_sites *out, char *why, size_t why_size);

/* Validates and decodes one sites section of `size` bytes (a copy of it):
 * the parser behind heapswitch_read_sites(), for tools and fuzzing.
 * Returns 0 or HEAPSWITCH_SITES_CORRUPT / _NO_MEMORY with a reason. */
int heapswitch_parse_sites(const void *section, size_t size, struct heapswitch_sites *out,
                           char *why, size_t why_size);

void heapswitch_sites_free(struct heapswitch_sites *sites);

#ifdef __cplusplus
}
#endif

#endif
