/* What a backend may use of lib/: this header and nothing else (named by
 * backends/backend.h). Logging, the size parser for its options, and the
 * counting functions for a backend that counts inside its own fast paths
 * (malloc_and_count, free_and_count): plain stores into the calling
 * thread's own slot, exactly as lib/ counts. Hidden symbols, defined in
 * lib/log.c, lib/options.c and lib/counters.c. */
#ifndef HSW_BACKEND_SUPPORT_H
#define HSW_BACKEND_SUPPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/segment_layout.h"

#pragma GCC visibility push(hidden)

#define HSW_LIKELY(x) __builtin_expect(!!(x), 1)
#define HSW_UNLIKELY(x) __builtin_expect(!!(x), 0)

/* ---- lib/log.c ------------------------------------------------------- */

/* Writes "heapswitch: " and the NULL-terminated string pieces, then a
 * newline, to stderr with one write(2): no stdio, no allocation. */
void hsw_log(const char *first, ...) __attribute__((sentinel));

/* ---- lib/options.c --------------------------------------------------- */

/* A size: decimal digits with an optional K, M or G suffix (binary, any
 * case). Returns false for anything else or a value past 2^62. */
bool hsw_parse_size(const char *text, uint64_t *out);

/* ---- lib/counters.c -------------------------------------------------- */

/* The value of hsw_thread_slot for a thread that writes the shared slot. */
#define HSW_SLOT_SHARED ((struct hsw_slot *)1)
/* Calls between two looks at the clock for a heap-figure refresh. */
#define HSW_REFRESH_CALL_MASK 255

/* This thread's counting state, one TLS block (one address to find):
 * its counter slot, NULL until its first counted call; for the default
 * level, two ticks that wrap every 256 calls (a checkpoint), and a third
 * for the other allocating calls (calloc, realloc, aligned), which serves
 * latency sampling alone (a backend without books keeps its free tick in
 * its slot's free count then, free_tick holding its re-armed value:
 * lib/interpose.c); and, with call-site sampling on, the bytes left
 * before its next sample (0 in a new thread; lib/sample.c). */
struct hsw_thread_state {
    struct hsw_slot *slot;
    uint8_t malloc_tick;
    uint8_t free_tick;
    uint8_t other_tick;
    int64_t sample_countdown;
};
extern __thread struct hsw_thread_state hsw_thread __attribute__((tls_model("initial-exec")));
#define hsw_thread_slot (hsw_thread.slot)

/* The slow paths of the inline counters below: a thread's first call, or
 * a thread on the shared slot. */
void hsw_count_alloc_slow(enum hsw_call_kind kind, size_t requested, size_t usable,
                          size_t freed);
void hsw_count_free_slow(enum hsw_call_kind kind, size_t usable);
void hsw_count_failure(enum hsw_call_kind kind, size_t requested);
/* Every HSW_REFRESH_CALL_MASK + 1 counted allocating calls of a slot,
 * just after the backend served one: hsw_refresh_maybe, and the backend's
 * thread_started in a thread that has not run it yet. */
void hsw_allocating_checkpoint(void);

/* The histogram class of a size below 2^62: its bit length (0 for 0).
 * 2 * size + 1 is never 0, so size 0 needs no branch. */
static inline unsigned hsw_small_size_class(size_t size)
{
    return 63 - (unsigned)__builtin_clzl(2 * size + 1);
}

/* The histogram class of any size: its bit length, at most the last class. */
static inline unsigned hsw_size_class(size_t size)
{
    if (size >= (size_t)1 << (HSW_SIZE_CLASSES - 1))
        return HSW_SIZE_CLASSES - 1;
    return hsw_small_size_class(size);
}

/* Counts an allocating call that succeeded (a realloc also gave back
 * `freed` bytes). The hot path: plain stores
 * into this thread's own slot, nothing else. */
static inline void hsw_count_alloc(enum hsw_call_kind kind, size_t requested,
                                   size_t usable, size_t freed)
{
    struct hsw_slot *slot = hsw_thread_slot;
    uint64_t calls;

    if (HSW_UNLIKELY((uintptr_t)slot <= (uintptr_t)HSW_SLOT_SHARED)) {
        hsw_count_alloc_slow(kind, requested, usable, freed);
        return;
    }
    calls = ++slot->calls[kind];
    slot->bytes_requested += requested;
    slot->bytes_allocated += usable;
    slot->bytes_freed += freed;
    slot->size_classes[hsw_size_class(requested)]++;
    if (HSW_UNLIKELY((calls & HSW_REFRESH_CALL_MASK) == 0))
        hsw_allocating_checkpoint();
}

/* Counts a call that gave back a block of `usable` bytes (0 for NULL) in
 * this thread's own slot; false, counting nothing, for a thread without
 * one. Refreshes are left to the allocating calls: a program always has
 * some. */
static inline bool hsw_count_free_own(enum hsw_call_kind kind, size_t usable)
{
    struct hsw_slot *slot = hsw_thread_slot;

    if (HSW_UNLIKELY((uintptr_t)slot <= (uintptr_t)HSW_SLOT_SHARED))
        return false;
    slot->calls[kind]++;
    slot->bytes_freed += usable;
    return true;
}

/* Counts a call that gave back a block of `usable` bytes (0 for NULL). */
static inline void hsw_count_free(enum hsw_call_kind kind, size_t usable)
{
    if (!hsw_count_free_own(kind, usable))
        hsw_count_free_slow(kind, usable);
}

#pragma GCC visibility pop

#endif
