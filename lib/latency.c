/* Sampled call latency (HEAPSWITCH_LATENCY): one call of a kind in N, on
 * average, is timed into its thread's log-scale histogram in the latency
 * section of the segment.
 *
 * Which calls: the counted paths already bump a one-byte tick per thread
 * (hsw_thread.malloc_tick, free_tick) and branch when it wraps; the
 * decision is taken only there, so a call that is not timed costs
 * nothing more than it did. At each wrap the tick is re-armed to wrap
 * again after a number of calls drawn afresh, uniform in [1, 2N - 1]
 * (mean N; draws past 256 take several wraps): the gaps between timed
 * calls are random, so a periodic workload cannot alias with them, and
 * the draw comes before the call is seen, so calls are sampled
 * independently of their size and position.
 *
 * The clock: rdtsc where the kernel reports an invariant TSC
 * (constant_tsc and nonstop_tsc), else clock_gettime(CLOCK_MONOTONIC)
 * through the vDSO. Ticks are stored as they are; the section keeps
 * (ticks, CLOCK_MONOTONIC ns) pairs from which readers convert. Only the
 * backend's call lies between the two clock reads, not heapswitch's own
 * counting.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#define HAVE_TSC 1
#else
#define HAVE_TSC 0
#endif

#include "lib/internal.h"
#include "lib/latency.h"
#include "lib/report_keys.h"
#include "lib/sample.h"

unsigned hsw_latency_rate;
static enum hsw_latency_clock clock_kind = HSW_LATENCY_CLOCK_MONOTONIC;
static struct hsw_latency_header *section;
/* Counts the segments attached: a thread's histograms are in the current
 * one only if it claimed them under the current generation. */
static unsigned generation;

/* A tick's state in this thread: calls left to the next timed call once
 * the current interval ends, the current interval's length (0 for a
 * tick that was never re-armed: 256), and calls since the last
 * checkpoint. */
struct ticker {
    uint32_t left;
    uint16_t interval;
    bool armed;
    uint32_t since_checkpoint;
};

struct latency_thread {
    struct ticker malloc, free, other;
    uint64_t random;
    struct hsw_latency_histogram *histograms; /* its slot's first; NULL: the shared slot */
    unsigned generation; /* of the segment `histograms` lies in */
};
static __thread struct latency_thread here __attribute__((tls_model("initial-exec")));

static uint64_t monotonic_ns(void)
{
    struct timespec now;

    clock_gettime(CLOCK_MONOTONIC, &now);
    return (uint64_t)now.tv_sec * 1000000000u + (uint64_t)now.tv_nsec;
}

/* The clock, in ticks. The fences keep the backend's call between the
 * two reads (rdtsc alone may be reordered with it). */
static inline uint64_t clock_ticks(void)
{
#if HAVE_TSC
    if (HSW_LIKELY(clock_kind == HSW_LATENCY_CLOCK_TSC)) {
        uint64_t ticks;

        _mm_lfence();
        ticks = __rdtsc();
        _mm_lfence();
        return ticks;
    }
#endif
    return monotonic_ns();
}

/* Whether `word` appears in `line` as a whole word. */
static bool has_word(const char *line, const char *word)
{
    size_t length = strlen(word);

    for (const char *at = strstr(line, word); at != NULL; at = strstr(at + 1, word))
        if ((at == line || at[-1] == ' ' || at[-1] == '\t') &&
            (at[length] == ' ' || at[length] == '\0'))
            return true;
    return false;
}

/* Whether the first "flags" line of /proc/cpuinfo has constant_tsc and
 * nonstop_tsc: the TSC ticks at one rate in every power state. */
static bool invariant_tsc(void)
{
    static char text[16384]; /* at start-up, inside a malloc: no allocation */
    char *flags, *end;
    ssize_t length = 0, got;
    int fd = open("/proc/cpuinfo", O_RDONLY | O_CLOEXEC);

    if (fd < 0)
        return false;
    while (length < (ssize_t)sizeof text - 1 &&
           (got = read(fd, text + length, sizeof text - 1 - (size_t)length)) > 0)
        length += got;
    close(fd);
    text[length] = '\0';
    flags = strstr(text, "\nflags");
    if (flags == NULL)
        return false;
    end = strchr(flags + 1, '\n');
    if (end == NULL)
        return false;
    *end = '\0';
    return has_word(flags, "constant_tsc") && has_word(flags, "nonstop_tsc");
}

/* A decimal count below HSW_LATENCY_MAX_RATE, nothing else. */
static bool parse_rate(const char *text, unsigned *out)
{
    uint64_t value = 0;

    if (text[0] == '\0')
        return false;
    for (const char *c = text; *c != '\0'; c++) {
        if (*c < '0' || *c > '9')
            return false;
        value = value * 10 + (uint64_t)(*c - '0');
        if (value > HSW_LATENCY_MAX_RATE)
            return false;
    }
    *out = (unsigned)value;
    return true;
}

static unsigned option_rate(bool fused_counting)
{
    const char *value = hsw_option_string(HSW_OPT_LATENCY);
    unsigned rate;

    /* A backend that counts inside its own fast paths would lose them to
     * the generic counted paths (some ns a call): only when asked. */
    if (value == NULL || value[0] == '\0')
        return fused_counting ? 0 : HSW_LATENCY_DEFAULT_RATE;
    if (strcmp(value, "off") == 0)
        return 0;
    if (parse_rate(value, &rate))
        return rate;
    hsw_log("ignoring HEAPSWITCH_LATENCY='", value,
            "' (expected N: time one call in N on average, 1 to 1073741824, or 0/off)",
            (const char *)NULL);
    return fused_counting ? 0 : HSW_LATENCY_DEFAULT_RATE;
}

static enum hsw_latency_clock option_clock(void)
{
    const char *value = hsw_option_string(HSW_OPT_LATENCY_CLOCK);
    bool tsc = HAVE_TSC && invariant_tsc();

    if (value != NULL && strcmp(value, "monotonic") == 0)
        return HSW_LATENCY_CLOCK_MONOTONIC;
    if (value != NULL && value[0] != '\0' && strcmp(value, "auto") != 0)
        hsw_log("ignoring HEAPSWITCH_LATENCY_CLOCK='", value, "' (expected auto or monotonic)",
                (const char *)NULL);
    return tsc ? HSW_LATENCY_CLOCK_TSC : HSW_LATENCY_CLOCK_MONOTONIC;
}

bool hsw_latency_configure(bool fused_counting)
{
    hsw_latency_rate = option_rate(fused_counting);
    if (hsw_latency_rate == 0)
        return false;
    clock_kind = option_clock();
    hsw_segment_want_section(HSW_SECTION_LATENCY, HSW_LATENCY_VERSION, HSW_LATENCY_SECTION_SIZE);
    return true;
}

void hsw_latency_attach(void)
{
    struct hsw_latency_header *header;

    section = NULL;
    if (hsw_latency_rate == 0)
        return;
    header = hsw_segment_section(HSW_SECTION_LATENCY);
    if (header == NULL)
        return;
    header->histograms = HSW_LATENCY_SLOTS;
    header->kinds = HSW_LATENCY_KINDS;
    header->buckets = HSW_LATENCY_BUCKETS;
    header->histogram_size = sizeof(struct hsw_latency_histogram);
    header->rate = hsw_latency_rate;
    header->start_ticks = header->last_ticks = clock_ticks();
    header->start_ns = header->last_ns = monotonic_ns();
    __atomic_store_n(&header->clock, (uint32_t)clock_kind, __ATOMIC_RELEASE);
    section = header;
    generation++; /* never 0: a thread's first record claims */
}

void hsw_latency_calibrate(void)
{
    struct hsw_latency_header *header = section;
    uint64_t ticks, ns;

    if (header == NULL)
        return;
    ticks = clock_ticks();
    ns = monotonic_ns();
    __atomic_store_n(&header->calibration_seq, header->calibration_seq + 1, __ATOMIC_RELAXED);
    __atomic_thread_fence(__ATOMIC_RELEASE);
    __atomic_store_n(&header->last_ticks, ticks, __ATOMIC_RELAXED);
    __atomic_store_n(&header->last_ns, ns, __ATOMIC_RELAXED);
    __atomic_store_n(&header->calibration_seq, header->calibration_seq + 1, __ATOMIC_RELEASE);
}

/* xorshift64*, seeded per thread from its tid and the clock. */
static uint64_t next_random(void)
{
    uint64_t x = here.random;

    if (HSW_UNLIKELY(x == 0))
        x = ((uint64_t)syscall(SYS_gettid) << 32) ^ clock_ticks() ^ UINT64_C(0x9e3779b97f4a7c15);
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    here.random = x;
    return x * UINT64_C(0x2545f4914f6cdd1d);
}

/* Calls to the next timed one: uniform in [1, 2 rate - 1], mean `rate`. */
static uint32_t draw_gap(unsigned rate)
{
    return 1 + (uint32_t)((next_random() >> 16) % (2 * (uint64_t)rate - 1));
}

/* The wrap of a tick: see hsw_latency_malloc_wrap. */
static unsigned wrap(struct ticker *t, uint8_t *tick, bool *timed, bool *checkpoint)
{
    unsigned ended = t->interval != 0 ? t->interval : 256;
    unsigned rate = hsw_latency_rate;
    uint32_t next;

    *timed = false;
    t->since_checkpoint += ended;
    *checkpoint = t->since_checkpoint >= 256;
    if (*checkpoint)
        t->since_checkpoint = 0;
    if (rate == 0) {
        t->interval = 0; /* the tick wraps every 256 calls, as it always did */
        return ended;
    }
    if (!t->armed) {
        t->armed = true;
        t->left = draw_gap(rate);
    } else if (t->left == 0) {
        *timed = true;
        t->left = draw_gap(rate);
    }
    next = t->left < 256 ? t->left : 256;
    t->left -= next;
    t->interval = (uint16_t)next;
    *tick = (uint8_t)(256 - next); /* wraps after `next` more calls */
    return ended;
}

/* Draws a ticker's first interval and sets its tick to wrap after it. */
static void arm(struct ticker *t, uint8_t *tick)
{
    uint32_t next;

    t->armed = true;
    t->left = draw_gap(hsw_latency_rate);
    next = t->left < 256 ? t->left : 256;
    t->left -= next;
    t->interval = (uint16_t)next;
    *tick = (uint8_t)(256 - next);
}

void hsw_latency_thread_start(void)
{
    if (hsw_latency_rate == 0)
        return;
    if (!here.malloc.armed)
        arm(&here.malloc, &hsw_thread.malloc_tick);
    if (!here.free.armed)
        arm(&here.free, &hsw_thread.free_tick);
    if (!here.other.armed)
        arm(&here.other, &hsw_thread.other_tick);
}

unsigned hsw_latency_malloc_wrap(bool *timed, bool *checkpoint)
{
    return wrap(&here.malloc, &hsw_thread.malloc_tick, timed, checkpoint);
}

void hsw_latency_free_wrap(bool *timed, bool *checkpoint)
{
    wrap(&here.free, &hsw_thread.free_tick, timed, checkpoint);
}

bool hsw_latency_other_wrap(void)
{
    bool timed, checkpoint;

    wrap(&here.other, &hsw_thread.other_tick, &timed, &checkpoint);
    return timed;
}

static struct hsw_latency_histogram *histogram_slot(unsigned index)
{
    return (struct hsw_latency_histogram *)(section + 1) + (size_t)index * HSW_LATENCY_KINDS;
}

/* Whether thread `tid` of this process has exited. */
static bool thread_gone(uint64_t tid)
{
    return syscall(SYS_tgkill, getpid(), (pid_t)tid, 0) != 0 && errno == ESRCH;
}

/* A histogram slot for this thread: a free one, else one whose thread
 * has exited; NULL when every one is in use. Off the hot path: once per
 * thread, at its first timed call. */
static struct hsw_latency_histogram *claim_histograms(void)
{
    uint64_t tid = (uint64_t)syscall(SYS_gettid);
    int saved_errno = errno;

    for (int pass = 0; pass < 2; pass++) {
        for (unsigned i = 0; i < HSW_LATENCY_SLOTS - 1; i++) {
            struct hsw_latency_histogram *first = histogram_slot(i);
            uint64_t owner = __atomic_load_n(&first->owner_tid, __ATOMIC_RELAXED);

            if ((owner == 0 || (pass == 1 && thread_gone(owner))) &&
                __atomic_compare_exchange_n(&first->owner_tid, &owner, tid, false,
                                            __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) {
                errno = saved_errno;
                return first;
            }
        }
    }
    errno = saved_errno;
    return NULL;
}

/* This thread's histograms (the first of its slot), or NULL for the shared
 * slot. A fork child's segment is new: its generation tells. */
static struct hsw_latency_histogram *own_histograms(void)
{
    if (HSW_UNLIKELY(here.generation != generation)) {
        here.generation = generation;
        here.histograms = claim_histograms();
    }
    return here.histograms;
}

void hsw_latency_record(enum hsw_latency_kind kind, uint64_t ticks)
{
    struct hsw_latency_histogram *histogram;
    unsigned bucket = hsw_latency_bucket(ticks);

    if (section == NULL)
        return;
    histogram = own_histograms();
    if (histogram != NULL) {
        histogram += kind;
        histogram->buckets[bucket]++;
        histogram->sum_ticks += ticks;
        if (ticks > histogram->max_ticks)
            histogram->max_ticks = ticks;
        histogram->samples++;
        return;
    }
    /* The shared slot: threads that found no free one. */
    histogram = histogram_slot(HSW_LATENCY_SLOTS - 1) + kind;
    __atomic_fetch_add(&histogram->buckets[bucket], 1, __ATOMIC_RELAXED);
    __atomic_fetch_add(&histogram->sum_ticks, ticks, __ATOMIC_RELAXED);
    for (uint64_t seen = __atomic_load_n(&histogram->max_ticks, __ATOMIC_RELAXED); ticks > seen;)
        if (__atomic_compare_exchange_n(&histogram->max_ticks, &seen, ticks, false,
                                        __ATOMIC_RELAXED, __ATOMIC_RELAXED))
            break;
    __atomic_fetch_add(&histogram->samples, 1, __ATOMIC_RELAXED);
}

/* The backend's own operations: under call-site sampling's variants
 * when those are installed (lib/sample.c), so that the time is the
 * backend's alone. */
static const struct hsw_backend_ops *backend_ops(void)
{
    return hsw_sample_on ? &hsw_sample_inner : &hsw_ops;
}

void *hsw_latency_timed_malloc(size_t size)
{
    void *(*backend_malloc)(size_t) = __atomic_load_n(&backend_ops()->malloc, __ATOMIC_RELAXED);
    uint64_t start = clock_ticks();
    void *ptr = backend_malloc(size);
    uint64_t end = clock_ticks();

    hsw_latency_record(HSW_LATENCY_ALLOC, end - start);
    return ptr;
}

/* A backend call of two size arguments (calloc, aligned_alloc), timed:
 * call-site sampling's countdown for a block of `bytes` is made before
 * the clock starts and its sample taken after it stops, as for malloc
 * (sampled: false when the size overflowed, and nothing is sampled). */
static void *timed_allocation(void *(*call)(size_t, size_t), size_t first, size_t second,
                              bool sampled, size_t bytes)
{
    bool sample_due = sampled && hsw_sample_count_down(bytes);
    uint64_t start = clock_ticks();
    void *ptr = call(first, second);
    uint64_t end = clock_ticks();

    hsw_latency_record(HSW_LATENCY_ALLOC, end - start);
    if (sample_due)
        hsw_sample_take(ptr, bytes);
    return ptr;
}

void *hsw_latency_timed_calloc(size_t count, size_t size)
{
    size_t total;
    bool fits = !__builtin_mul_overflow(count, size, &total);

    return timed_allocation(__atomic_load_n(&backend_ops()->calloc, __ATOMIC_RELAXED), count,
                            size, fits, fits ? total : 0);
}

void *hsw_latency_timed_aligned_alloc(size_t alignment, size_t size)
{
    return timed_allocation(__atomic_load_n(&backend_ops()->aligned_alloc, __ATOMIC_RELAXED),
                            alignment, size, true, size);
}

/* The old block leaves its site first (the backend may free it). */
void *hsw_latency_timed_realloc(void *ptr, size_t size)
{
    void *(*backend_realloc)(void *, size_t) =
        __atomic_load_n(&backend_ops()->realloc, __ATOMIC_RELAXED);
    bool sample_due;
    uint64_t start, end;
    void *fresh;

    if (hsw_sample_on && ptr != NULL)
        hsw_sample_untrack(ptr);
    sample_due = hsw_sample_count_down(size);
    start = clock_ticks();
    fresh = backend_realloc(ptr, size);
    end = clock_ticks();
    hsw_latency_record(HSW_LATENCY_ALLOC, end - start);
    if (sample_due)
        hsw_sample_take(fresh, size);
    return fresh;
}

/* A block call-site sampling may have sampled is taken off its site
 * first, out of the timed part. */
void hsw_latency_timed_free(void *ptr)
{
    void (*backend_free)(void *) = __atomic_load_n(&backend_ops()->free, __ATOMIC_RELAXED);
    uint64_t start, end;

    if (hsw_sample_on)
        hsw_sample_untrack(ptr);
    start = clock_ticks();
    backend_free(ptr);
    end = clock_ticks();
    hsw_latency_record(HSW_LATENCY_FREE, end - start);
}

size_t hsw_latency_timed_free_counted(void *ptr)
{
    size_t (*backend_free)(void *) =
        __atomic_load_n(&backend_ops()->free_counted, __ATOMIC_RELAXED);
    uint64_t start, end;
    size_t usable;

    if (hsw_sample_on)
        hsw_sample_untrack(ptr);
    start = clock_ticks();
    usable = backend_free(ptr);
    end = clock_ticks();
    hsw_latency_record(HSW_LATENCY_FREE, end - start);
    return usable;
}

/* ---- The exit report's figures ---------------------------------------- */

/* The duration in ticks below which a share q of `h`'s calls fall: the
 * middle of the bucket holding the rank-th (as the reader does), never
 * above the longest. */
static double quantile_ticks(const struct hsw_latency_histogram *h, double q)
{
    uint64_t rank = (uint64_t)(q * (double)h->samples), seen = 0;

    if ((double)rank < q * (double)h->samples)
        rank++;
    if (rank == 0)
        rank = 1;
    for (unsigned b = 0; b < HSW_LATENCY_BUCKETS - 1; b++) {
        seen += h->buckets[b];
        if (seen >= rank) {
            double middle = ((double)hsw_latency_bucket_low(b) +
                             (double)hsw_latency_bucket_low(b + 1)) / 2;
            return middle < (double)h->max_ticks ? middle : (double)h->max_ticks;
        }
    }
    return (double)h->max_ticks;
}

size_t hsw_latency_report_json(char *out, size_t size)
{
    static struct hsw_latency_histogram sums[HSW_LATENCY_KINDS]; /* at exit: no big frame */
    const struct hsw_latency_histogram *histograms;
    uint64_t ticks, ns;
    double ticks_per_ns = 1;
    size_t used;
    int written;

    if (section == NULL)
        return (size_t)snprintf(out, size, "\"latency\":null");
    memset(sums, 0, sizeof sums);
    histograms = (const struct hsw_latency_histogram *)(section + 1);
    for (unsigned i = 0; i < HSW_LATENCY_SLOTS * HSW_LATENCY_KINDS; i++) {
        struct hsw_latency_histogram *sum = &sums[i % HSW_LATENCY_KINDS];

        for (unsigned b = 0; b < HSW_LATENCY_BUCKETS; b++)
            sum->buckets[b] += histograms[i].buckets[b];
        sum->samples += histograms[i].samples;
        sum->sum_ticks += histograms[i].sum_ticks;
        if (histograms[i].max_ticks > sum->max_ticks)
            sum->max_ticks = histograms[i].max_ticks;
    }
    ticks = clock_ticks();
    ns = monotonic_ns();
    if (clock_kind == HSW_LATENCY_CLOCK_TSC && ns > section->start_ns && ticks > section->start_ticks)
        ticks_per_ns = (double)(ticks - section->start_ticks) / (double)(ns - section->start_ns);
    written = snprintf(out, size, "\"latency\":{\"rate\":%u,\"clock\":\"%s\"", hsw_latency_rate,
                       clock_kind == HSW_LATENCY_CLOCK_TSC ? "tsc" : "monotonic");
    used = written > 0 ? (size_t)written : 0;
    for (unsigned kind = 0; kind < HSW_LATENCY_KINDS && used < size; kind++) {
        const struct hsw_latency_histogram *h = &sums[kind];

        if (h->samples == 0)
            written = snprintf(out + used, size - used, ",\"%s\":{\"samples\":0}",
                               kind == HSW_LATENCY_ALLOC ? HSW_REPORT_LATENCY_ALLOC : HSW_REPORT_LATENCY_FREE);
        else
            written = snprintf(out + used, size - used,
                               ",\"%s\":{\"samples\":%llu,\"mean_ns\":%.1f,\"p50_ns\":%.1f,"
                               "\"p99_ns\":%.1f,\"p999_ns\":%.1f,\"max_ns\":%.1f}",
                               kind == HSW_LATENCY_ALLOC ? HSW_REPORT_LATENCY_ALLOC : HSW_REPORT_LATENCY_FREE,
                               (unsigned long long)h->samples,
                               (double)h->sum_ticks / (double)h->samples / ticks_per_ns,
                               quantile_ticks(h, 0.5) / ticks_per_ns,
                               quantile_ticks(h, 0.99) / ticks_per_ns,
                               quantile_ticks(h, 0.999) / ticks_per_ns,
                               (double)h->max_ticks / ticks_per_ns);
        used += written > 0 ? (size_t)written : 0;
    }
    if (used < size)
        used += (size_t)snprintf(out + used, size - used, "}");
    return used < size ? used : size - 1;
}
