/* The exported malloc family: thin forwarders to the active backend.
 *
 * Every libc name a program, libc itself or the dynamic loader may call is
 * defined here, including the __libc_* aliases, so that no pointer reaches
 * a free() of another allocator. Argument checks that glibc documents are
 * made here once, so every backend behaves alike on bad input.
 */
#include "config.h"

#include <errno.h>
#include <malloc.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/internal.h"
#include "lib/latency.h"
#include "lib/sample.h"

#define HSW_ALIAS(name) __attribute__((alias(#name), visibility("default")))

/* Relaxed loads of the dispatch table compile to plain moves; they only
 * keep the compiler honest about the one-time switch at initialisation. */
#define OP(name) __atomic_load_n(&hsw_ops.name, __ATOMIC_RELAXED)

static bool is_power_of_two(size_t value)
{
    return value != 0 && (value & (value - 1)) == 0;
}

static size_t page_size(void)
{
    static size_t cached;

    if (HSW_UNLIKELY(cached == 0))
        cached = (size_t)sysconf(_SC_PAGESIZE);
    return cached;
}

/* Whether this call is counted: one load of a flag set at start-up. */
static inline bool counting(void)
{
    return HSW_LIKELY(__atomic_load_n(&hsw_counting, __ATOMIC_RELAXED));
}

/* Whether usable sizes are counted at every call (the exact level, or a
 * backend that counts inside its own fast paths): a second flag, read
 * only where counting is on. */
static inline bool counting_usable(void)
{
    return counting() && __atomic_load_n(&hsw_usable_exact, __ATOMIC_RELAXED);
}

/* The usable size malloc or calloc gives a request, from the backend's
 * table (one load, for the sizes most programs ask for); 0 when the table
 * does not say. No block is 0 bytes. */
static inline size_t usable_size_by_request(size_t requested)
{
    const uint32_t *table = OP(new_block_usable);

    if (HSW_LIKELY(table != NULL && requested <= HSW_SIZE_TABLE_MAX))
        return table[(requested + 7) / 8];
    return 0;
}

/* The usable size of a block malloc or calloc just returned. */
static inline size_t usable_size_of_new(void *ptr, size_t requested)
{
    size_t usable = usable_size_by_request(requested);

    return usable != 0 ? usable : OP(usable_size)(ptr);
}

/* Counts an allocating call's result; returns it. */
static inline void *counted(enum hsw_call_kind kind, size_t requested, void *ptr)
{
    if (HSW_UNLIKELY(ptr == NULL))
        hsw_count_failure(kind, requested);
    else if (!__atomic_load_n(&hsw_usable_exact, __ATOMIC_RELAXED))
        hsw_count_alloc(kind, requested, 0, 0);
    else if (kind == HSW_CALL_MALLOC || kind == HSW_CALL_CALLOC)
        hsw_count_alloc(kind, requested, usable_size_of_new(ptr, requested), 0);
    else
        hsw_count_alloc(kind, requested, OP(usable_size)(ptr), 0);
    return ptr;
}

/* The counted paths live out of line, so that with counting off the
 * exported functions stay a test and a tail jump. A backend may count
 * inside its own malloc and free (malloc_and_count, free_and_count);
 * these are the paths for the others.
 *
 * malloc, the most frequent call, has its own path for a thread with its
 * own slot: what the size alone tells (the call, bytes requested, its size
 * class, and the new block's usable size where the backend's table has
 * it) is counted before the backend runs, so that little has to survive
 * the call; the usable size is added once the block exists. */
__attribute__((noinline)) static void *counted_malloc_general(size_t size)
{
    return counted(HSW_CALL_MALLOC, size, OP(malloc)(size));
}

/* A new block whose usable size the table does not have: ask for it. */
__attribute__((noinline)) static void *add_looked_up_usable(void *ptr)
{
    hsw_thread_slot->bytes_allocated += OP(usable_size)(ptr);
    return ptr;
}

/* A wrap of the malloc tick on the exact level's path, which keeps its
 * own checkpoints: the tick serves latency sampling alone. A timed call
 * is the backend's own; call-site sampling's countdown and sample are
 * made around it. */
__attribute__((noinline, cold)) static void *counted_malloc_wrap(size_t size)
{
    bool timed, checkpoint, sample_due;
    void *ptr;

    hsw_latency_malloc_wrap(&timed, &checkpoint);
    if (!timed)
        return OP(malloc)(size);
    sample_due = hsw_sample_count_down(size);
    ptr = hsw_latency_timed_malloc(size);
    if (sample_due)
        hsw_sample_take(ptr, size);
    return ptr;
}

/* timed: with latency sampling (a tick of its own). */
static inline __attribute__((always_inline)) void *counted_malloc(size_t size, bool timed)
{
    struct hsw_slot *slot = hsw_thread_slot;
    size_t usable; /* 0: ask once the block exists */
    void *ptr;

    if (HSW_UNLIKELY((uintptr_t)slot <= (uintptr_t)HSW_SLOT_SHARED))
        return counted_malloc_general(size);
    usable = usable_size_by_request(size);
    slot->calls[HSW_CALL_MALLOC]++;
    slot->bytes_requested += size;
    slot->size_classes[hsw_size_class(size)]++;
    if (timed && HSW_UNLIKELY(++hsw_thread.malloc_tick == 0))
        ptr = counted_malloc_wrap(size);
    else
        ptr = OP(malloc)(size);
    /* The slot is read again rather than kept: one register less to save
     * around the call. A thread's slot does not change inside malloc. */
    slot = hsw_thread_slot;
    if (HSW_UNLIKELY(ptr == NULL)) {
        slot->failures++;
        return NULL;
    }
    /* After the backend served the call, as hsw_count_alloc does. */
    if (HSW_UNLIKELY((slot->calls[HSW_CALL_MALLOC] & HSW_REFRESH_CALL_MASK) == 0))
        hsw_allocating_checkpoint();
    if (usable == 0)
        return add_looked_up_usable(ptr);
    slot->bytes_allocated += usable;
    return ptr;
}

void *hsw_counted_malloc(size_t size)
{
    return counted_malloc(size, false);
}

void *hsw_counted_malloc_timed(size_t size)
{
    return counted_malloc(size, true);
}

/* The default level's malloc: what the size alone tells (the call,
 * bytes requested, size class) is counted before the backend runs, so
 * nothing has to survive the call; only a failure looks at the slot
 * again. The checkpoint comes first for the same reason. */
__attribute__((noinline, cold)) static void *light_malloc_failed(void)
{
    hsw_thread_slot->failures++;
    return NULL;
}

/* At a wrap of the malloc tick (every 256th malloc, or with latency
 * sampling the random interval lib/latency.c drew): the size-class
 * histogram is sampled there (that call's class, weighted by the calls
 * since the last wrap: an estimate, said so), and the checkpoint runs.
 * Returns whether this call is to be timed. */
static bool light_malloc_wrap(size_t size)
{
    bool timed, checkpoint;
    unsigned weight = hsw_latency_malloc_wrap(&timed, &checkpoint);

    hsw_thread_slot->size_classes[hsw_size_class(size)] += weight;
    if (checkpoint)
        hsw_allocating_checkpoint();
    return timed;
}

/* sampled: the call-site sampling twin, whose backend is hsw_sample_inner's. */
__attribute__((noinline, cold)) static void *light_malloc_checkpoint(size_t size, bool sampled)
{
    void *ptr;

    if (light_malloc_wrap(size))
        ptr = hsw_latency_timed_malloc(size);
    else if (sampled)
        ptr = __atomic_load_n(&hsw_sample_inner.malloc, __ATOMIC_RELAXED)(size);
    else
        ptr = OP(malloc)(size);
    if (HSW_UNLIKELY(ptr == NULL))
        return light_malloc_failed();
    return ptr;
}

/* The rest of a sampled twin's call once its countdown went below zero:
 * everything that follows the countdown, out of the hot path, so that
 * the hot path keeps no register across the checkpoint. A timed call's
 * time is the backend's alone: the sample is taken after it. */
__attribute__((noinline, cold)) static void *light_malloc_sampling(size_t size)
{
    void *ptr;

    if (HSW_UNLIKELY(++hsw_thread.malloc_tick == 0) && light_malloc_wrap(size)) {
        ptr = hsw_latency_timed_malloc(size);
        hsw_sample_take(ptr, size);
    } else {
        ptr = hsw_sample_malloc(size);
    }
    if (HSW_UNLIKELY(ptr == NULL))
        return light_malloc_failed();
    return ptr;
}

/* sampled: the twin used with call-site sampling on, whose only
 * addition is the countdown (lib/sample.c); it calls the backend's own
 * malloc, hsw_ops.malloc being the sampled variant then. */
static inline __attribute__((always_inline)) void *light_malloc(size_t size, bool sampled)
{
    struct hsw_slot *slot = hsw_thread_slot;
    void *ptr;

    if (HSW_UNLIKELY((uintptr_t)slot <= (uintptr_t)HSW_SLOT_SHARED))
        return counted_malloc_general(size);
    slot->bytes_requested += size;
    slot->calls[HSW_CALL_MALLOC]++;
    if (sampled && HSW_UNLIKELY((hsw_thread.sample_countdown -= (int64_t)size) < 0))
        return light_malloc_sampling(size);
    if (HSW_UNLIKELY(++hsw_thread.malloc_tick == 0))
        return light_malloc_checkpoint(size, sampled);
    if (sampled)
        ptr = __atomic_load_n(&hsw_sample_inner.malloc, __ATOMIC_RELAXED)(size);
    else
        ptr = OP(malloc)(size);
    if (HSW_UNLIKELY(ptr == NULL))
        return light_malloc_failed();
    return ptr;
}

void *hsw_light_malloc(size_t size)
{
    return light_malloc(size, false);
}

void *hsw_light_malloc_sampled(size_t size)
{
    return light_malloc(size, true);
}

/* The default level's free: the call is counted, nothing is looked up. */
__attribute__((noinline)) static void light_free_slow(void *ptr)
{
    hsw_count_free_slow(HSW_CALL_FREE, 0);
    OP(free)(ptr);
}

/* A free of a backend without books, with latency sampling: the free
 * tick is the top byte of the slot's free count, so that one add counts
 * the call and moves the tick (a second read-modify-write per free cost
 * more than the 0.3 ns a call latency sampling may add). True when the
 * tick wrapped. */
#define FREE_AND_TICK ((UINT64_C(1) << HSW_CALL_COUNT_BITS) + 1)

static inline bool count_free_and_tick(struct hsw_slot *slot)
{
    return __builtin_add_overflow(slot->calls[HSW_CALL_FREE], FREE_AND_TICK,
                                  &slot->calls[HSW_CALL_FREE]);
}

/* At a wrap of the free tick: the books checkpoint (with_books), or the
 * tick re-armed in the slot's free count (without), and whether this
 * free is timed (lib/latency.c, which re-arms hsw_thread.free_tick). */
static bool free_tick_wrapped(bool with_books)
{
    bool timed, checkpoint;

    hsw_latency_free_wrap(&timed, &checkpoint);
    if (with_books) {
        if (checkpoint)
            hsw_freeing_checkpoint();
    } else {
        hsw_slot_set_free_tick(hsw_thread_slot, hsw_thread.free_tick);
    }
    return timed;
}

/* A wrap of the free tick, then the free: timed, or the backend's, which
 * leaves a block call-site sampling took to it. */
__attribute__((noinline, cold)) static void light_free_wrap(void *ptr, bool with_books)
{
    if (free_tick_wrapped(with_books))
        hsw_latency_timed_free(ptr);
    else
        OP(free)(ptr);
}

/* The rest of a sampled twin's free whose filter bucket is set, its
 * tick moved (wrapped: it wrapped): the block taken off its site and
 * freed (a timed free times the backend's call alone). */
__attribute__((noinline, cold)) static void light_free_sampling(void *ptr, bool with_books,
                                                                bool wrapped)
{
    if (wrapped && free_tick_wrapped(with_books))
        hsw_latency_timed_free(ptr);
    else
        hsw_sample_free(ptr);
}

/* with_books: a backend with per-thread books, whose slot a thread that
 * only frees brings up to them every 256 frees. with_nulls: a backend
 * whose live figure needs the number of live blocks (live_block_header),
 * which free(NULL) does not change. sampled: call-site sampling's twin,
 * whose only addition is the filter. timed: latency sampling, which needs
 * the free tick too. Inlined into each entry point, so each keeps only
 * its own instructions. */
static inline __attribute__((always_inline)) void light_free(void *ptr, bool with_books,
                                                             bool with_nulls, bool sampled,
                                                             bool timed)
{
    struct hsw_slot *slot = hsw_thread_slot;
    bool tick_in_count = timed && !with_books;
    bool wrapped = false;

    if (HSW_UNLIKELY((uintptr_t)slot <= (uintptr_t)HSW_SLOT_SHARED)) {
        light_free_slow(ptr);
        return;
    }
    /* free(NULL)s first, so that the tick's carry can feed its branch. */
    if (with_nulls)
        slot->null_frees += ptr == NULL;
    if (tick_in_count)
        wrapped = count_free_and_tick(slot);
    else
        slot->calls[HSW_CALL_FREE]++;
    /* The sampled twin's filter. A set bucket tail-calls the rest of the
     * call, out of line, so that the common path keeps no stack frame. */
    if (sampled && hsw_sample_maybe_sampled(ptr)) {
        if (with_books)
            wrapped = ++hsw_thread.free_tick == 0;
        light_free_sampling(ptr, with_books, wrapped);
        return;
    }
    if (with_books)
        wrapped = ++hsw_thread.free_tick == 0;
    if ((with_books || tick_in_count) && HSW_UNLIKELY(wrapped)) {
        light_free_wrap(ptr, with_books);
        return;
    }
    if (!sampled) {
        OP(free)(ptr);
        return;
    }
    __atomic_load_n(&hsw_sample_inner.free, __ATOMIC_RELAXED)(ptr);
}

void hsw_light_free(void *ptr)
{
    light_free(ptr, false, false, false, false);
}

void hsw_light_free_with_books(void *ptr)
{
    /* Its tick serves latency sampling too. */
    light_free(ptr, true, false, false, true);
}

void hsw_light_free_with_nulls(void *ptr)
{
    light_free(ptr, false, true, false, false);
}

void hsw_light_free_timed(void *ptr)
{
    light_free(ptr, false, false, false, true);
}

void hsw_light_free_with_nulls_timed(void *ptr)
{
    light_free(ptr, false, true, false, true);
}

void hsw_light_free_sampled(void *ptr)
{
    light_free(ptr, false, false, true, false);
}

void hsw_light_free_with_books_sampled(void *ptr)
{
    light_free(ptr, true, false, true, true);
}

void hsw_light_free_with_nulls_sampled(void *ptr)
{
    light_free(ptr, false, true, true, false);
}

void hsw_light_free_timed_sampled(void *ptr)
{
    light_free(ptr, false, false, true, true);
}

void hsw_light_free_with_nulls_timed_sampled(void *ptr)
{
    light_free(ptr, false, true, true, true);
}

void *hsw_malloc(size_t size)
{
    return __atomic_load_n(&hsw_entries.malloc, __ATOMIC_RELAXED)(size);
}

void hsw_counted_free(void *ptr)
{
    hsw_count_free(HSW_CALL_FREE, ptr != NULL ? OP(free_counted)(ptr) : 0);
}

/* With latency sampling: at a wrap of the free tick, maybe a timed free
 * (free(NULL) too: the backend's own is timed, as the call's cost). */
__attribute__((noinline, cold)) static size_t counted_free_wrap(void *ptr)
{
    bool timed, checkpoint;

    hsw_latency_free_wrap(&timed, &checkpoint);
    if (!timed)
        return ptr != NULL ? OP(free_counted)(ptr) : 0;
    if (ptr != NULL)
        return hsw_latency_timed_free_counted(ptr);
    hsw_latency_timed_free(NULL);
    return 0;
}

void hsw_counted_free_timed(void *ptr)
{
    size_t usable;

    if (HSW_UNLIKELY(++hsw_thread.free_tick == 0))
        usable = counted_free_wrap(ptr);
    else
        usable = ptr != NULL ? OP(free_counted)(ptr) : 0;
    hsw_count_free(HSW_CALL_FREE, usable);
}

void hsw_free(void *ptr)
{
    if (HSW_UNLIKELY(hsw_bootstrap_owns(ptr))) {
        if (counting())
            hsw_count_free(HSW_CALL_FREE, 0);
        return;
    }
    __atomic_load_n(&hsw_entries.free, __ATOMIC_RELAXED)(ptr);
}

/* Whether this calloc, realloc or aligned call is timed (a counted call:
 * latency is published with the counts). Their tick is their own, so
 * that every allocating call is timed at the same rate whatever its kind. */
static inline bool other_call_timed(void)
{
    return HSW_UNLIKELY(++hsw_thread.other_tick == 0) && hsw_latency_other_wrap();
}

void *hsw_calloc(size_t count, size_t size)
{
    size_t total;

    if (!counting())
        return OP(calloc)(count, size);
    if (__builtin_mul_overflow(count, size, &total))
        total = SIZE_MAX;
    if (other_call_timed())
        return counted(HSW_CALL_CALLOC, total, hsw_latency_timed_calloc(count, size));
    return counted(HSW_CALL_CALLOC, total, OP(calloc)(count, size));
}

/* A bootstrap block moves to the backend once one is ready. */
static void *realloc_bootstrap_block(void *ptr, size_t size)
{
    size_t old_size = hsw_bootstrap_usable_size(ptr);
    void *fresh;

    if (!hsw_ensure_ready())
        return hsw_bootstrap_realloc(ptr, size);
    if (size == 0) {
        if (counting())
            hsw_count_free(HSW_CALL_REALLOC, 0);
        return NULL;
    }
    fresh = OP(malloc)(size);
    if (fresh != NULL)
        memcpy(fresh, ptr, old_size < size ? old_size : size);
    return counting() ? counted(HSW_CALL_REALLOC, size, fresh) : fresh;
}

void *hsw_realloc(void *ptr, size_t size)
{
    size_t old_usable;
    void *fresh;

    if (HSW_UNLIKELY(hsw_bootstrap_owns(ptr)))
        return realloc_bootstrap_block(ptr, size);
    old_usable = ptr != NULL && counting_usable() ? OP(usable_size)(ptr) : 0;
    if (HSW_UNLIKELY(size == 0) && ptr != NULL) {
        /* glibc frees and returns NULL; some backends would not. Timed as
         * the free it is, at its own kind's rate. */
        if (counting()) {
            hsw_count_free(HSW_CALL_REALLOC, old_usable);
            if (other_call_timed()) {
                hsw_latency_timed_free(ptr);
                return NULL;
            }
        }
        OP(free)(ptr);
        return NULL;
    }
    if (!counting())
        return OP(realloc)(ptr, size);
    fresh = other_call_timed() ? hsw_latency_timed_realloc(ptr, size) : OP(realloc)(ptr, size);
    if (HSW_UNLIKELY(fresh == NULL))
        hsw_count_failure(HSW_CALL_REALLOC, size);
    else
        hsw_count_alloc(HSW_CALL_REALLOC, size,
                        counting_usable() ? OP(usable_size)(fresh) : 0, old_usable);
    return fresh;
}

void *hsw_reallocarray(void *ptr, size_t count, size_t size)
{
    size_t total;

    if (__builtin_mul_overflow(count, size, &total)) {
        if (counting())
            hsw_count_failure(HSW_CALL_REALLOC, SIZE_MAX);
        errno = ENOMEM;
        return NULL;
    }
    return hsw_realloc(ptr, total);
}

size_t hsw_malloc_usable_size(void *ptr)
{
    if (ptr == NULL)
        return 0;
    if (HSW_UNLIKELY(hsw_bootstrap_owns(ptr)))
        return hsw_bootstrap_usable_size(ptr);
    return OP(usable_size)(ptr);
}

/* Every aligned entry point ends here, alignment already valid. */
static void *aligned(size_t alignment, size_t size)
{
    if (!counting())
        return OP(aligned_alloc)(alignment, size);
    if (other_call_timed())
        return counted(HSW_CALL_ALIGNED, size, hsw_latency_timed_aligned_alloc(alignment, size));
    return counted(HSW_CALL_ALIGNED, size, OP(aligned_alloc)(alignment, size));
}

/* A call refused for its arguments: counted as a failure, errno set. */
static void *refuse(enum hsw_call_kind kind, size_t size, int error)
{
    if (counting())
        hsw_count_failure(kind, size);
    errno = error;
    return NULL;
}

void *hsw_aligned_alloc(size_t alignment, size_t size)
{
    if (!is_power_of_two(alignment))
        return refuse(HSW_CALL_ALIGNED, size, EINVAL);
    return aligned(alignment, size);
}

int hsw_posix_memalign(void **result, size_t alignment, size_t size)
{
    int saved_errno = errno;
    void *ptr;

    if (!is_power_of_two(alignment) || alignment % sizeof(void *) != 0) {
        refuse(HSW_CALL_ALIGNED, size, EINVAL);
        errno = saved_errno;
        return EINVAL;
    }
    ptr = aligned(alignment, size);
    if (ptr == NULL)
        return ENOMEM;
    *result = ptr;
    return 0;
}

/* glibc's memalign rounds an alignment up to a power of two and refuses
 * only those past SIZE_MAX / 2 + 1. */
void *hsw_memalign(size_t alignment, size_t size)
{
    if (alignment > SIZE_MAX / 2 + 1)
        return refuse(HSW_CALL_ALIGNED, size, EINVAL);
    if (!is_power_of_two(alignment))
        alignment = alignment <= 1 ? 1 : (size_t)1 << (64 - __builtin_clzl(alignment - 1));
    return aligned(alignment, size);
}

void *hsw_valloc(size_t size)
{
    return aligned(page_size(), size);
}

void *hsw_pvalloc(size_t size)
{
    size_t page = page_size();

    if (size > SIZE_MAX - page)
        return refuse(HSW_CALL_ALIGNED, size, ENOMEM);
    return aligned(page, (size + page - 1) & ~(page - 1));
}

/* C23 sized frees: the size is a hint none of the backends needs. */
void hsw_free_sized(void *ptr, size_t size)
{
    (void)size;
    hsw_free(ptr);
}

void hsw_free_aligned_sized(void *ptr, size_t alignment, size_t size)
{
    (void)alignment;
    (void)size;
    hsw_free(ptr);
}

/* The standard names, and the ones some libraries and old binaries call. */
void *malloc(size_t size) HSW_ALIAS(hsw_malloc);
void free(void *ptr) HSW_ALIAS(hsw_free);
void *calloc(size_t count, size_t size) HSW_ALIAS(hsw_calloc);
void *realloc(void *ptr, size_t size) HSW_ALIAS(hsw_realloc);
void *reallocarray(void *ptr, size_t count, size_t size) HSW_ALIAS(hsw_reallocarray);
size_t malloc_usable_size(void *ptr) HSW_ALIAS(hsw_malloc_usable_size);
void *aligned_alloc(size_t alignment, size_t size) HSW_ALIAS(hsw_aligned_alloc);
int posix_memalign(void **result, size_t alignment, size_t size) HSW_ALIAS(hsw_posix_memalign);
void *memalign(size_t alignment, size_t size) HSW_ALIAS(hsw_memalign);
void *valloc(size_t size) HSW_ALIAS(hsw_valloc);
void *pvalloc(size_t size) HSW_ALIAS(hsw_pvalloc);
void free_sized(void *ptr, size_t size) HSW_ALIAS(hsw_free_sized);
void free_aligned_sized(void *ptr, size_t alignment, size_t size) HSW_ALIAS(hsw_free_aligned_sized);
void cfree(void *ptr) HSW_ALIAS(hsw_free);
void *__libc_malloc(size_t size) HSW_ALIAS(hsw_malloc);
void __libc_free(void *ptr) HSW_ALIAS(hsw_free);
void __libc_cfree(void *ptr) HSW_ALIAS(hsw_free);
void *__libc_calloc(size_t count, size_t size) HSW_ALIAS(hsw_calloc);
void *__libc_realloc(void *ptr, size_t size) HSW_ALIAS(hsw_realloc);
void *__libc_reallocarray(void *ptr, size_t count, size_t size) HSW_ALIAS(hsw_reallocarray);
void *__libc_memalign(size_t alignment, size_t size) HSW_ALIAS(hsw_memalign);
void *__libc_valloc(size_t size) HSW_ALIAS(hsw_valloc);
void *__libc_pvalloc(size_t size) HSW_ALIAS(hsw_pvalloc);
int __posix_memalign(void **result, size_t alignment, size_t size) HSW_ALIAS(hsw_posix_memalign);
