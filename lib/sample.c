/* Which blocks are sampled, and which sampled blocks are still live.
 *
 * HEAPSWITCH_SAMPLE=BYTES (k/M/G suffixes; 0 off) sets the mean number of
 * bytes a thread allocates between two samples. Each thread counts down
 * an exponentially distributed number of bytes, so that a block of s
 * bytes is sampled with probability p = 1 - exp(-s / interval) whatever
 * came before it; a sample weighs 1/p allocations and s/p bytes, which
 * makes every sum of samples an unbiased estimate.
 *
 * At the default counting level, malloc and free have sampled twins of
 * their counting paths (hsw_light_malloc_sampled and the
 * hsw_light_free_*_sampled forms in lib/interpose.c) that count down and
 * filter inline; every other path goes through sampled variants of the
 * backend's operations, put in front of them in hsw_ops. Both are chosen
 * once at start-up: with sampling off nothing on the allocation paths
 * changes. With it on, an allocating call pays a subtraction and a branch
 * on a thread-local counter, and a free pays one load and a branch: a
 * counting filter indexed by a hash of the address says whether the block
 * may have been sampled. Only then is the private table of sampled blocks
 * (address -> site and weights) looked up. Both are process-private and bounded; the table is reset in a fork
 * child, whose segment starts with an empty sites section.
 *
 * The sampling path itself (once per interval) may take the unwinder's
 * locks and use atomic adds; a per-thread flag makes every allocation
 * made while a sample is taken (by the unwinder, or a signal handler)
 * plain: neither sampled nor counted down.
 */
#include "config.h"

#include <math.h>
#include <pthread.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "lib/internal.h"
#include "lib/sample.h"

/* ---- The interval ------------------------------------------------------ */

static uint64_t interval = HSW_SAMPLE_DEFAULT_INTERVAL;

void hsw_sample_configure(void)
{
    const char *value = hsw_option_string(HSW_OPT_SAMPLE);
    uint64_t parsed;

    if (value != NULL && value[0] != '\0') {
        if (hsw_parse_size(value, &parsed))
            interval = parsed;
        else
            hsw_log("ignoring HEAPSWITCH_SAMPLE='", value,
                    "' (expected a mean interval in bytes with an optional k, M or G suffix, "
                    "or 0 for off)",
                    (const char *)NULL);
    }
    if (interval != 0)
        hsw_segment_want_section(HSW_SECTION_SITES, HSW_SITES_VERSION,
                                 sizeof(struct hsw_sites_header) +
                                     HSW_SITES_CAPACITY * sizeof(struct hsw_site));
}

bool hsw_sample_wanted(void)
{
    return interval != 0;
}

/* ---- Per-thread state -------------------------------------------------- */

/* The countdown itself is hsw_thread.sample_countdown, in the counting
 * paths' own TLS block. */
struct sample_thread {
    uint64_t random;   /* xorshift64* state */
    bool seeded;
    bool busy;         /* taking a sample: allocations are plain */
};
static __thread struct sample_thread sample_thread __attribute__((tls_model("initial-exec")));

static uint64_t process_seed;

static uint64_t mix64(uint64_t x)
{
    x ^= x >> 30;
    x *= UINT64_C(0xbf58476d1ce4e5b9);
    x ^= x >> 27;
    x *= UINT64_C(0x94d049bb133111eb);
    return x ^ (x >> 31);
}

static uint64_t next_random(struct sample_thread *t)
{
    t->random ^= t->random >> 12;
    t->random ^= t->random << 25;
    t->random ^= t->random >> 27;
    return t->random * UINT64_C(0x2545f4914f6cdd1d);
}

/* An exponentially distributed number of bytes with mean `interval`. */
static int64_t draw_countdown(struct sample_thread *t)
{
    double uniform = (double)((next_random(t) >> 11) + 1) * 0x1p-53; /* (0, 1] */
    double bytes = -log(uniform) * (double)interval;

    if (bytes < 1)
        return 1;
    if (bytes > 0x1p62)
        return INT64_C(1) << 62;
    return (int64_t)bytes;
}

/* A thread's first draw, seeded from the process seed and the thread's
 * own TLS address: no system call. */
static void seed_thread(struct sample_thread *t)
{
    t->random = mix64(process_seed ^ (uintptr_t)t) | 1;
    t->seeded = true;
    hsw_thread.sample_countdown = draw_countdown(t);
}

/* ---- Sampled blocks ---------------------------------------------------- */

/* The filter: one byte counter per hash bucket of addresses, saturating at
 * 255 (a saturated bucket stays set: only a little slower). 64 KiB of
 * zero pages until samples touch them. */
uint8_t hsw_sample_filter[1u << HSW_SAMPLE_FILTER_BITS];

static void filter_add(size_t bucket, int delta)
{
    uint8_t count = __atomic_load_n(&hsw_sample_filter[bucket], __ATOMIC_RELAXED);

    while (count != UINT8_MAX &&
           !__atomic_compare_exchange_n(&hsw_sample_filter[bucket], &count, (uint8_t)(count + delta), true,
                                        __ATOMIC_RELAXED, __ATOMIC_RELAXED))
        ;
}

/* The table of sampled blocks: open addressing from the address's hash,
 * keys claimed by compare-and-swap. A block is inserted before its
 * address reaches the program and removed before the backend frees it,
 * so one address is never inserted and removed at once. Removed keys
 * become tombstones (reused by inserts), so a probe stops at an empty
 * key. A block that finds no key within TRACKED_PROBES is not tracked:
 * its site's live estimate keeps it. */
#define TRACKED_BITS 16
#define TRACKED_CAPACITY (1u << TRACKED_BITS)
#define TRACKED_PROBES 64
#define TRACKED_EMPTY 0
#define TRACKED_TOMBSTONE 1

struct tracked_block {
    uintptr_t address;
    int32_t site;
    uint32_t unused;
    uint64_t allocations;
    uint64_t bytes;
};
static struct tracked_block *tracked; /* TRACKED_CAPACITY entries, mmap'ed */

static void track(void *ptr, int site, uint64_t allocations, uint64_t bytes)
{
    size_t start = hsw_sample_address_hash(ptr); /* TRACKED_BITS == HSW_SAMPLE_FILTER_BITS */

    for (unsigned i = 0; i < TRACKED_PROBES; i++) {
        struct tracked_block *entry = &tracked[(start + i) & (TRACKED_CAPACITY - 1)];
        uintptr_t key = __atomic_load_n(&entry->address, __ATOMIC_RELAXED);

        if ((key == TRACKED_EMPTY || key == TRACKED_TOMBSTONE) &&
            __atomic_compare_exchange_n(&entry->address, &key, (uintptr_t)ptr, false,
                                        __ATOMIC_RELAXED, __ATOMIC_RELAXED)) {
            entry->site = site;
            entry->allocations = allocations;
            entry->bytes = bytes;
            filter_add(start, 1);
            return;
        }
    }
}

/* A free whose filter bucket is set: if the block was sampled, its
 * weights leave its site. */
__attribute__((noinline)) static void untrack(void *ptr)
{
    size_t start = hsw_sample_address_hash(ptr);

    for (unsigned i = 0; i < TRACKED_PROBES; i++) {
        struct tracked_block *entry = &tracked[(start + i) & (TRACKED_CAPACITY - 1)];
        uintptr_t key = __atomic_load_n(&entry->address, __ATOMIC_RELAXED);

        if (key == TRACKED_EMPTY)
            return;
        if (key == (uintptr_t)ptr) {
            hsw_sites_release(entry->site, entry->allocations, entry->bytes);
            __atomic_store_n(&entry->address, TRACKED_TOMBSTONE, __ATOMIC_RELAXED);
            filter_add(start, -1);
            return;
        }
    }
}


/* ---- Taking a sample --------------------------------------------------- */

/* The operations the sampled variants call: the ones they replaced. */
struct hsw_backend_ops hsw_sample_inner;
bool hsw_sample_on;

/* A thread's countdown went below zero at a `size`-byte request that
 * gave `ptr` (NULL: the call failed). */
__attribute__((noinline)) static void take_sample(void *ptr, size_t size)
{
    struct sample_thread *t = &sample_thread;
    double probability;
    uint64_t allocations, bytes;
    int site;

    if (t->busy) {
        hsw_thread.sample_countdown += (int64_t)size; /* heapswitch's own: not counted */
        return;
    }
    if (!t->seeded) {
        seed_thread(t);
        hsw_thread.sample_countdown -= (int64_t)size;
        if (hsw_thread.sample_countdown >= 0)
            return;
    }
    hsw_thread.sample_countdown = draw_countdown(t);
    if (ptr == NULL || size == 0)
        return;
    probability = -expm1(-(double)size / (double)interval);
    allocations = (uint64_t)llround(HSW_SITE_WEIGHT_ONE / probability);
    bytes = (uint64_t)llround(HSW_SITE_WEIGHT_ONE * (double)size / probability);
    t->busy = true;
    site = hsw_sites_record(interval, allocations, bytes);
    if (site >= 0)
        track(ptr, site, allocations, bytes);
    t->busy = false;
}

/* Counts `size` bytes down; true when a sample is due. */
static inline bool count_down(size_t size)
{
    return HSW_UNLIKELY((hsw_thread.sample_countdown -= (int64_t)size) < 0);
}

/* ---- The sampled variants ---------------------------------------------- */

__attribute__((noinline)) static void *malloc_then_sample(void *(*allocate)(size_t), size_t size)
{
    void *ptr = allocate(size);

    take_sample(ptr, size);
    return ptr;
}

/* The cold half of hsw_light_malloc_sampled (lib/interpose.c), whose
 * countdown went below zero: the block is allocated here, so that the
 * sample can record it. */
__attribute__((noinline, cold)) void *hsw_sample_malloc(size_t size)
{
    void *ptr = hsw_sample_inner.malloc(size);

    take_sample(ptr, size);
    return ptr;
}

void hsw_sample_take(void *ptr, size_t size)
{
    take_sample(ptr, size);
}

void hsw_sample_untrack(void *ptr)
{
    if (hsw_sample_maybe_sampled(ptr))
        untrack(ptr);
}

/* The cold half of the hsw_light_free*_sampled twins, whose filter
 * bucket is set. */
__attribute__((noinline, cold)) void hsw_sample_free(void *ptr)
{
    untrack(ptr);
    hsw_sample_inner.free(ptr);
}

static void *sampled_malloc(size_t size)
{
    if (count_down(size))
        return malloc_then_sample(hsw_sample_inner.malloc, size);
    return hsw_sample_inner.malloc(size);
}

static void *sampled_malloc_and_count(size_t size)
{
    if (count_down(size))
        return malloc_then_sample(hsw_sample_inner.malloc_and_count, size);
    return hsw_sample_inner.malloc_and_count(size);
}

static void *sampled_calloc(size_t count, size_t size)
{
    size_t total;
    void *ptr;

    if (__builtin_mul_overflow(count, size, &total) || !count_down(total))
        return hsw_sample_inner.calloc(count, size);
    ptr = hsw_sample_inner.calloc(count, size);
    take_sample(ptr, total);
    return ptr;
}

static void *sampled_aligned_alloc(size_t alignment, size_t size)
{
    void *ptr;

    if (!count_down(size))
        return hsw_sample_inner.aligned_alloc(alignment, size);
    ptr = hsw_sample_inner.aligned_alloc(alignment, size);
    take_sample(ptr, size);
    return ptr;
}

/* The old block leaves its site before the backend may free it (its
 * address may then be reused); a failed realloc leaves it untracked. */
static void *sampled_realloc(void *ptr, size_t size)
{
    void *fresh;

    if (ptr != NULL && hsw_sample_maybe_sampled(ptr))
        untrack(ptr);
    if (!count_down(size))
        return hsw_sample_inner.realloc(ptr, size);
    fresh = hsw_sample_inner.realloc(ptr, size);
    take_sample(fresh, size);
    return fresh;
}

static void sampled_free(void *ptr)
{
    if (hsw_sample_maybe_sampled(ptr))
        untrack(ptr);
    hsw_sample_inner.free(ptr);
}

static size_t sampled_free_counted(void *ptr)
{
    if (hsw_sample_maybe_sampled(ptr))
        untrack(ptr);
    return hsw_sample_inner.free_counted(ptr);
}

static void sampled_free_and_count(void *ptr)
{
    if (hsw_sample_maybe_sampled(ptr))
        untrack(ptr);
    hsw_sample_inner.free_and_count(ptr);
}

/* ---- Start-up and fork ------------------------------------------------- */

/* Whether malloc_and_count is lib/'s own counting around hsw_ops.malloc
 * (which is sampled already) rather than the backend's own path. */
static bool counts_around_malloc(void *(*fn)(size_t))
{
    return fn == NULL || fn == hsw_light_malloc || fn == hsw_counted_malloc ||
           fn == hsw_counted_malloc_timed;
}

static bool counts_around_free(void (*fn)(void *))
{
    return fn == NULL || fn == hsw_light_free || fn == hsw_light_free_with_books ||
           fn == hsw_light_free_with_nulls || fn == hsw_counted_free ||
           fn == hsw_light_free_timed || fn == hsw_light_free_with_nulls_timed ||
           fn == hsw_counted_free_timed;
}

/* The default level's counting paths have sampled twins that count down
 * and filter themselves (lib/interpose.c), calling hsw_sample_inner's operations:
 * no extra layer. */
static void *(*sampled_twin_malloc(void *(*fn)(size_t)))(size_t)
{
    return fn == hsw_light_malloc ? hsw_light_malloc_sampled : fn;
}

static void (*sampled_twin_free(void (*fn)(void *)))(void *)
{
    if (fn == hsw_light_free)
        return hsw_light_free_sampled;
    if (fn == hsw_light_free_with_books)
        return hsw_light_free_with_books_sampled;
    if (fn == hsw_light_free_with_nulls)
        return hsw_light_free_with_nulls_sampled;
    if (fn == hsw_light_free_timed)
        return hsw_light_free_timed_sampled;
    if (fn == hsw_light_free_with_nulls_timed)
        return hsw_light_free_with_nulls_timed_sampled;
    return fn;
}

/* The child's segment has a fresh, empty sites section: the blocks the
 * parent sampled are not the child's to take off it. */
static void sample_fork_child(void)
{
    madvise(tracked, TRACKED_CAPACITY * sizeof *tracked, MADV_DONTNEED);
    __builtin_memset(hsw_sample_filter, 0, sizeof hsw_sample_filter);
    process_seed = mix64(process_seed ^ (uint64_t)getpid());
    sample_thread.seeded = false;
    hsw_thread.sample_countdown = 0;
    sample_thread.busy = false;
    hsw_sites_prepare(interval);
}

void hsw_sample_install(void)
{
    struct timespec now;
    void *table;

    if (interval == 0 || hsw_segment_section(HSW_SECTION_SITES) == NULL)
        return;
    table = mmap(NULL, TRACKED_CAPACITY * sizeof *tracked, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (table == MAP_FAILED) {
        hsw_log("cannot map the table of sampled blocks; HEAPSWITCH_SAMPLE is off",
                (const char *)NULL);
        return;
    }
    tracked = table;
    clock_gettime(CLOCK_MONOTONIC, &now);
    process_seed = mix64((uint64_t)now.tv_nsec ^ ((uint64_t)now.tv_sec << 30) ^
                         ((uint64_t)getpid() << 40));
    /* pthread_atfork may allocate: still served by the bootstrap region. */
    pthread_atfork(NULL, NULL, sample_fork_child);

    hsw_sample_inner = hsw_ops;
    hsw_sample_on = true;
    __atomic_store_n(&hsw_ops.malloc, sampled_malloc, __ATOMIC_RELAXED);
    __atomic_store_n(&hsw_ops.calloc, sampled_calloc, __ATOMIC_RELAXED);
    __atomic_store_n(&hsw_ops.realloc, sampled_realloc, __ATOMIC_RELAXED);
    __atomic_store_n(&hsw_ops.aligned_alloc, sampled_aligned_alloc, __ATOMIC_RELAXED);
    __atomic_store_n(&hsw_ops.free, sampled_free, __ATOMIC_RELAXED);
    __atomic_store_n(&hsw_ops.free_counted, sampled_free_counted, __ATOMIC_RELAXED);
    if (!counts_around_malloc(hsw_sample_inner.malloc_and_count))
        __atomic_store_n(&hsw_ops.malloc_and_count, sampled_malloc_and_count, __ATOMIC_RELAXED);
    if (!counts_around_free(hsw_sample_inner.free_and_count))
        __atomic_store_n(&hsw_ops.free_and_count, sampled_free_and_count, __ATOMIC_RELAXED);
    __atomic_store_n(&hsw_ops.malloc_and_count, sampled_twin_malloc(hsw_ops.malloc_and_count),
                     __ATOMIC_RELAXED);
    __atomic_store_n(&hsw_ops.free_and_count, sampled_twin_free(hsw_ops.free_and_count),
                     __ATOMIC_RELAXED);
    hsw_sites_prepare(interval);
    hsw_entries_update();
}

void hsw_sample_load_unwinder(void)
{
    if (tracked == NULL)
        return;
    sample_thread.busy = true;
    hsw_sites_load_unwinder();
    sample_thread.busy = false;
}
