/* The shared-memory segment: the one contract between the writer (every
 * process running under libheapswitch) and the readers (heapswitch top,
 * stat, ab, export, through lib/reader.c).
 *
 * One segment per process, a POSIX shm object named
 * "/heapswitch-<uid>-<pid>" (so /dev/shm/heapswitch-<uid>-<pid>), created
 * O_EXCL with mode 0600, pre-sized, at most 64 KiB. It holds a header and
 * an array of per-thread counter slots. Each slot has one writer, the
 * thread that claimed it, which updates it with plain stores; readers sum
 * the slots. The last slot is shared by threads that found no free slot,
 * with atomic adds. Every counter only increases.
 *
 * Compatibility: `magic` never moves; a reader accepts only its own
 * `layout_major`; a writer may add fields at the end of the header or of
 * a slot (raising layout_minor) since sizes are recorded, never assumed.
 *
 * Call counts (major 2): a slot's calls[] hold the count in their low
 * HSW_CALL_COUNT_BITS bits; the bits above belong to the writing thread
 * (its free tick for latency sampling rides in the free count, so that
 * one add counts a free and moves the tick). Readers take the count with
 * hsw_call_count(). Major 2 went on from minor 3: the minors below say
 * which fields a header or slot holds, whatever the major.
 *
 * Containers (minor 3): a process outside the initial pid namespace names
 * its segment heapswitch-<uid>-<pid>-<pid namespace inode>, pid being its
 * pid in that namespace, and records the namespace in the header; the
 * directory is HEAPSWITCH_DIR (default /dev/shm). See docs/containers.md.
 *
 * Sections (minor 2): the header and the slots are the segment's core,
 * at most HSW_SEGMENT_MAX_SIZE bytes (segment_size). Optional regions may
 * follow the core in the same file, each named in header.sections by its
 * kind, offset and size; a reader skips the kinds it does not know and
 * reads each section apart from the core. The whole file (file_size) is
 * at most HSW_SEGMENT_FILE_MAX_SIZE.
 */
#ifndef HSW_SEGMENT_LAYOUT_H
#define HSW_SEGMENT_LAYOUT_H

#include <stddef.h>
#include <stdint.h>

#define HSW_SEGMENT_MAGIC UINT64_C(0x3147455357534848) /* "HHSWSEG1" */
#define HSW_SEGMENT_LAYOUT_MAJOR 2
#define HSW_SEGMENT_LAYOUT_MINOR 3
#define HSW_SEGMENT_NAME_PREFIX "heapswitch-"
#define HSW_SEGMENT_MAX_SIZE (64 * 1024)
#define HSW_SEGMENT_FILE_MAX_SIZE (64u * 1024 * 1024)

/* header.sections: at most HSW_SECTION_COUNT, kind 0 for an unused entry. */
#define HSW_SECTION_COUNT 4
enum hsw_section_kind {
    HSW_SECTION_UNUSED = 0,
    HSW_SECTION_SITES = 1,   /* sampled allocation call sites */
    HSW_SECTION_LATENCY = 2, /* sampled call latency histograms */
    HSW_SECTION_KINDS
};

struct hsw_section {
    uint32_t kind;     /* enum hsw_section_kind */
    uint32_t version;  /* the kind's own layout version */
    uint64_t offset;   /* from the start of the file: at or past segment_size, page-aligned */
    uint64_t size;     /* offset + size <= file_size */
};

/* Size classes: class 0 counts size 0; class k counts sizes in
 * [2^(k-1), 2^k); the last class counts everything from 2^(CLASSES-2). */
#define HSW_SIZE_CLASSES 32

/* Slots: HSW_THREAD_SLOTS owned by one thread each, then one shared. */
#define HSW_THREAD_SLOTS 120
#define HSW_SLOT_COUNT (HSW_THREAD_SLOTS + 1)

enum hsw_call_kind {
    HSW_CALL_MALLOC,  /* malloc, C++ new */
    HSW_CALL_CALLOC,
    HSW_CALL_REALLOC, /* realloc, reallocarray */
    HSW_CALL_FREE,    /* free and every delete; free(NULL) included */
    HSW_CALL_ALIGNED, /* aligned_alloc, posix_memalign, memalign, valloc, pvalloc, aligned new */
    HSW_CALL_KINDS
};

/* Writer states, in header.state. */
enum hsw_segment_state {
    HSW_STATE_STARTING = 0, /* being filled in: readers skip it */
    HSW_STATE_RUNNING = 1,
    HSW_STATE_EXITED = 2,   /* final totals: the process has exited */
};

/* The count in a word of hsw_slot.calls: 2^56 calls last 20 years at
 * 10^8 a second. */
#define HSW_CALL_COUNT_BITS 56
#define HSW_CALL_COUNT_MASK ((UINT64_C(1) << HSW_CALL_COUNT_BITS) - 1)

static inline uint64_t hsw_call_count(uint64_t word)
{
    return word & HSW_CALL_COUNT_MASK;
}

struct hsw_slot {
    uint64_t owner_tid; /* the owning thread's tid, 0 when free */
    uint64_t calls[HSW_CALL_KINDS]; /* hsw_call_count() of each is the count */
    uint64_t failures;        /* calls that returned NULL (or an error code) */
    uint64_t bytes_requested; /* sizes asked for by allocating calls */
    uint64_t bytes_allocated; /* usable sizes of blocks handed out */
    uint64_t bytes_freed;     /* usable sizes of blocks given back */
    uint64_t requests;        /* heapswitch_request_done() calls */
    uint64_t size_classes[HSW_SIZE_CLASSES]; /* allocating calls by requested size, failed ones too */
    /* Gauges, not counters (minor 1): the live and resident bytes of the
     * owning thread's own heap, where the backend keeps a heap per thread
     * (HSW_LIVE_FROM_THREAD_HEAPS); 0 once the thread has exited. */
    uint64_t thread_heap_live;
    uint64_t thread_heap_resident;
    /* Counter (minor 1): free(NULL) calls, counted where the backend's live
     * figure needs the number of live blocks (HSW_LIVE_FROM_HEAP with a
     * per-block header); 0 elsewhere. */
    uint64_t null_frees;
    uint64_t reserved[2];
} __attribute__((aligned(64)));

/* The backend's own view of its heap, refreshed at most every ~250 ms
 * from the allocation path and published under a sequence lock: `seq` is
 * odd while the writer updates the figures. */
struct hsw_heap_figures {
    uint64_t seq;
    uint64_t refreshed_ns; /* CLOCK_MONOTONIC of the refresh */
    uint64_t resident;     /* the bytes the backend holds resident (the fragmentation denominator) */
    uint64_t active;       /* bytes in pages with live blocks (jemalloc: stats.active) */
    uint64_t mapped;       /* bytes mapped from the OS (jemalloc: stats.mapped) */
    uint64_t retained;     /* bytes kept but returned to the OS (jemalloc: stats.retained) */
    uint64_t committed;    /* mimalloc: committed; glibc: arena + mmapped */
    uint64_t reserved_bytes; /* mimalloc: reserved address space */
    uint32_t approximate;  /* 1 when the backend says the figures lag */
    uint32_t valid;        /* 0 until the first refresh */
    /* Live bytes at this refresh (minor 1), from the source header.figures
     * names: the moment of `resident`, so fragmentation compares like with
     * like. live_valid is 0 when there is no such figure. */
    uint64_t live;
    uint32_t live_valid;
    uint32_t present;      /* minor 1: HEAPSWITCH_HEAP_* bits (include/heapswitch.h) */
    uint64_t spare[2];
};

struct hsw_segment_header {
    uint64_t magic;
    uint32_t layout_major;
    uint32_t layout_minor;
    uint32_t header_size;  /* sizeof(struct hsw_segment_header) */
    uint32_t slot_size;    /* sizeof(struct hsw_slot) */
    uint32_t slot_count;   /* HSW_SLOT_COUNT; the last one is shared */
    uint32_t size_classes; /* HSW_SIZE_CLASSES */
    uint64_t segment_size; /* header_size + slot_count * slot_size, rounded */
    uint32_t state;        /* enum hsw_segment_state, stored with release */
    int32_t pid;
    uint32_t uid;
    uint32_t overflow_threads; /* threads that had to share the last slot */
    uint64_t start_time;   /* /proc/PID/stat field 22: catches pid reuse */
    uint64_t created_unix_ns;
    uint64_t heartbeat_ns; /* CLOCK_MONOTONIC at the last refresh */
    uint64_t exited_unix_ns;
    uint64_t peak_live_bytes; /* highest live total seen at a refresh */
    char backend[16];
    char tag[64];
    char exe[256];
    char cmdline[512]; /* arguments separated by spaces, truncated */
    struct hsw_heap_figures heap;
    uint32_t stats_level;  /* minor 1: enum hsw_stats_level; 0 from a minor-0 writer (exact) */
    uint32_t figures;      /* minor 1: HSW_USABLE_* and HSW_LIVE_* bits below */
    uint64_t file_size;    /* minor 2: the core and its sections; segment_size from older writers */
    struct hsw_section sections[HSW_SECTION_COUNT]; /* minor 2 */
    uint64_t spare[2];
    uint64_t minor2_padding[5]; /* where a minor-2 header's alignment padding was */
    /* Minor 3 (docs/containers.md). The writer's pid namespace, the inode
     * of /proc/self/ns/pid (0 when unknown): `pid` is its pid there. */
    uint64_t pid_namespace;
    char labels[512]; /* HEAPSWITCH_LABELS as validated (lib/labels.h), "" for none */
} __attribute__((aligned(64)));

/* The header of a minor-2 writer: a reader accepts any header_size from
 * there up and reads the fields past it as zeros; the minor-3 fields only
 * from a header of minor 3 or later that holds them whole. */
#define HSW_SEGMENT_HEADER_MIN_SIZE 1216u

/* The initial pid namespace's inode (the kernel's PROC_PID_INIT_INO): a
 * writer there keeps the short name heapswitch-<uid>-<pid>; elsewhere the
 * name ends in -<pid namespace inode>, unique on the host. */
#define HSW_INITIAL_PID_NAMESPACE UINT64_C(0xeffffffc)

/* Counting levels (HEAPSWITCH_STATS; 0 publishes no segment at all). */
enum hsw_stats_level {
    HSW_STATS_DEFAULT = 1, /* calls, failures, bytes requested, size classes, requests */
    HSW_STATS_EXACT = 2,   /* and the usable bytes of every block, at every call */
};

/* header.figures: where the byte figures come from. */
#define HSW_USABLE_EXACT 1u       /* slots' bytes_allocated/freed: counted at every call */
#define HSW_USABLE_FROM_BOOKS 2u  /* ... copied from the backend's per-thread books: estimates */
#define HSW_LIVE_FROM_HEAP 4u     /* live bytes: heap.live, the backend's own global figure */
#define HSW_LIVE_FROM_THREAD_HEAPS 8u /* live and resident: the sum of the slots' thread_heap gauges */

/* ---- The sites section (HSW_SECTION_SITES, version 1) -----------------
 *
 * Sampled allocation call sites: a header, then `capacity` site entries;
 * the last entry is the "other" row, which takes the samples of every
 * stack that found no free entry (its depth is 0).
 *
 * An entry is claimed by the sampling thread that first sees its stack:
 * a compare-and-swap of `hash` from 0 to HSW_SITE_CLAIMING, then the
 * frames and depth, then `hash` stored with release. A reader skips an
 * entry whose hash is 0 or HSW_SITE_CLAIMING and treats every other field
 * as untrusted. The estimates are sums of each sample's weight, the
 * inverse of its probability of being sampled, in fixed point with
 * HSW_SITE_WEIGHT_ONE per unit; they only increase (atomic adds from the
 * sampling path, which runs once per HSW_SAMPLE's mean interval of bytes,
 * never in the common case). Live = allocated - freed.
 * Two threads sampling the same new stack at once may each claim an
 * entry for it: a reader adds up entries whose stacks are equal. The
 * header's interval, capacity and frames are written when sampling
 * starts (a capacity of 0 means no entry is in use yet). */
#define HSW_SITES_VERSION 1
#define HSW_SITE_FRAMES 32
#define HSW_SITE_CLAIMING UINT64_MAX
#define HSW_SITE_WEIGHT_ONE 256 /* fixed point: 1/256 of an allocation or a byte */

struct hsw_sites_header {
    uint64_t interval;      /* mean bytes between two samples (HEAPSWITCH_SAMPLE) */
    uint32_t capacity;      /* entries that follow, the "other" row included */
    uint32_t frames;        /* HSW_SITE_FRAMES: frames an entry holds */
    uint64_t samples;       /* samples taken */
    uint64_t unwind_failures; /* samples whose stack could not be taken (in "other") */
    uint64_t spare[4];
};

struct hsw_site {
    uint64_t hash;          /* of the frames; 0 free, HSW_SITE_CLAIMING being written */
    uint32_t depth;         /* frames used, innermost first */
    uint32_t flags;
    uint64_t samples;       /* raw samples taken at this stack */
    uint64_t allocations;   /* estimated allocating calls, weight units */
    uint64_t bytes;         /* estimated bytes allocated, weight units */
    uint64_t freed_allocations; /* estimated blocks of the site freed since, weight units */
    uint64_t freed_bytes;   /* estimated bytes of them, weight units */
    uint64_t spare;
    uint64_t frames[HSW_SITE_FRAMES]; /* return addresses in the writer's address space */
};

_Static_assert(sizeof(struct hsw_sites_header) % 64 == 0, "the sites header is whole cache lines");
_Static_assert(sizeof(struct hsw_site) % 64 == 0, "a site entry is whole cache lines");

/* ---- The latency section (HSW_SECTION_LATENCY, version 1) -----------
 *
 * Sampled call latency (HEAPSWITCH_LATENCY): a header, then
 * `histograms` histogram slots of HSW_LATENCY_KINDS histograms each.
 * A thread claims a free histogram slot at its first timed call (a
 * compare-and-swap of the first histogram's owner_tid from 0, off the
 * hot path), as it claims a counter slot; the slot of a thread that has
 * exited is taken over by the next claimer, and keeps its counts. The
 * last slot is shared by the threads that found none free (atomic adds,
 * on timed calls only). Like the counter slots, a histogram has one
 * writer, which uses plain stores, and only increases; readers sum.
 *
 * Durations are in clock ticks (header.clock): TSC ticks, or nanoseconds
 * of CLOCK_MONOTONIC. A reader converts ticks to nanoseconds with the two
 * (ticks, CLOCK_MONOTONIC ns) pairs of the header, taken at creation and
 * at the latest refresh (under calibration_seq, odd while they change).
 *
 * Buckets are log-linear: 8 per power of two. Bucket 0 holds durations
 * below 32 ticks; bucket 1 + 8 (e - 5) + s, for e in [5, 34] and s in
 * [0, 7], holds [(8 + s) 2^(e-3), (9 + s) 2^(e-3)) ticks; the last one
 * everything from 2^35 ticks (about 11 s of a 3 GHz TSC). A bucket's
 * width is at most 1/8 of its lower bound, so its midpoint is within
 * 1/16 (6.25%) of every duration in it. */
#define HSW_LATENCY_VERSION 1
#define HSW_LATENCY_SLOTS 17 /* 16 of their own, then the shared one */
#define HSW_LATENCY_BUCKETS 242
#define HSW_LATENCY_SUB_BITS 3 /* 8 buckets per power of two */
#define HSW_LATENCY_MIN_EXPONENT 5
#define HSW_LATENCY_MAX_EXPONENT 34

enum hsw_latency_kind {
    HSW_LATENCY_ALLOC, /* malloc (and C++ new), calloc, realloc, aligned */
    HSW_LATENCY_FREE,  /* free (and delete), free(NULL) included */
    HSW_LATENCY_KINDS
};

enum hsw_latency_clock {
    HSW_LATENCY_CLOCK_NONE = 0,      /* not set up: readers show nothing */
    HSW_LATENCY_CLOCK_TSC = 1,       /* rdtsc: invariant TSC (constant_tsc, nonstop_tsc) */
    HSW_LATENCY_CLOCK_MONOTONIC = 2, /* clock_gettime(CLOCK_MONOTONIC): ticks are ns */
};

struct hsw_latency_header {
    uint32_t histograms;     /* histogram slots that follow: HSW_LATENCY_SLOTS */
    uint32_t kinds;          /* HSW_LATENCY_KINDS histograms per slot */
    uint32_t buckets;        /* HSW_LATENCY_BUCKETS per histogram */
    uint32_t histogram_size; /* sizeof(struct hsw_latency_histogram) */
    uint32_t clock;          /* enum hsw_latency_clock */
    uint32_t rate;           /* mean calls between two timed calls of a kind (HEAPSWITCH_LATENCY) */
    uint64_t calibration_seq; /* odd while the pairs below change */
    uint64_t start_ticks;    /* the clock at creation */
    uint64_t start_ns;       /* CLOCK_MONOTONIC at the same moment */
    uint64_t last_ticks;     /* the clock at the latest refresh */
    uint64_t last_ns;        /* CLOCK_MONOTONIC at the same moment */
    uint64_t spare[8];
};

struct hsw_latency_histogram {
    uint64_t owner_tid; /* the first histogram of a slot: its thread's tid, 0 when free */
    uint64_t samples;   /* timed calls: the sum of the buckets */
    uint64_t sum_ticks; /* of the timed durations */
    uint64_t max_ticks; /* the longest timed duration */
    uint64_t spare[2];
    uint64_t buckets[HSW_LATENCY_BUCKETS];
};

/* The section's size (version 1). */
#define HSW_LATENCY_SECTION_SIZE                                                  \
    (sizeof(struct hsw_latency_header) +                                           \
     (size_t)HSW_LATENCY_SLOTS * HSW_LATENCY_KINDS * sizeof(struct hsw_latency_histogram))

/* The bucket of a duration of `ticks`, for writer and reader alike. */
static inline unsigned hsw_latency_bucket(uint64_t ticks)
{
    unsigned exponent;

    if (ticks < (UINT64_C(1) << HSW_LATENCY_MIN_EXPONENT))
        return 0;
    exponent = 63 - (unsigned)__builtin_clzll(ticks);
    if (exponent > HSW_LATENCY_MAX_EXPONENT)
        return HSW_LATENCY_BUCKETS - 1;
    return 1 + ((exponent - HSW_LATENCY_MIN_EXPONENT) << HSW_LATENCY_SUB_BITS) +
           (unsigned)((ticks >> (exponent - HSW_LATENCY_SUB_BITS)) &
                      ((1u << HSW_LATENCY_SUB_BITS) - 1));
}

/* The lowest duration in ticks of bucket `bucket` (0 for the first). */
static inline uint64_t hsw_latency_bucket_low(unsigned bucket)
{
    unsigned exponent, sub;

    if (bucket == 0)
        return 0;
    if (bucket >= HSW_LATENCY_BUCKETS - 1)
        return UINT64_C(1) << (HSW_LATENCY_MAX_EXPONENT + 1);
    exponent = HSW_LATENCY_MIN_EXPONENT + ((bucket - 1) >> HSW_LATENCY_SUB_BITS);
    sub = (bucket - 1) & ((1u << HSW_LATENCY_SUB_BITS) - 1);
    return (uint64_t)((1u << HSW_LATENCY_SUB_BITS) + sub) << (exponent - HSW_LATENCY_SUB_BITS);
}

_Static_assert(sizeof(struct hsw_latency_header) % 64 == 0, "the latency header is whole cache lines");
_Static_assert(sizeof(struct hsw_latency_histogram) % 64 == 0, "a histogram is whole cache lines");
_Static_assert(1 + ((HSW_LATENCY_MAX_EXPONENT - HSW_LATENCY_MIN_EXPONENT + 1) << HSW_LATENCY_SUB_BITS) ==
                   HSW_LATENCY_BUCKETS - 1,
               "the buckets cover the exponents, then one for the longest durations");
_Static_assert(HSW_LATENCY_SECTION_SIZE == 67584, "the latency section is 66 KiB (17 pages)");

/* The fragmentation definition (docs/fragmentation.md), for writer and
 * reader alike: 1 - live / resident, in [0, 1]; -1 when resident is 0. */
static inline double hsw_fragmentation(uint64_t live, uint64_t resident)
{
    if (resident == 0)
        return -1;
    return live >= resident ? 0.0 : 1.0 - (double)live / (double)resident;
}

/* The core's size (header and slots) for the layout this header describes. */
#define HSW_SEGMENT_SIZE                                                      \
    ((sizeof(struct hsw_segment_header) + HSW_SLOT_COUNT * sizeof(struct hsw_slot) + 4095) & ~(size_t)4095)

_Static_assert(HSW_SEGMENT_SIZE <= HSW_SEGMENT_MAX_SIZE, "a segment is at most 64 KiB");
_Static_assert(sizeof(struct hsw_slot) % 64 == 0, "slots are whole cache lines");
_Static_assert(sizeof(struct hsw_segment_header) % 64 == 0, "the header is whole cache lines");
_Static_assert(offsetof(struct hsw_segment_header, pid_namespace) == HSW_SEGMENT_HEADER_MIN_SIZE,
               "minor 3 grows the header at its end");

#endif
