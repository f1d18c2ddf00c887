/* Allocation call-site sampling (HEAPSWITCH_SAMPLE): the runtime half.
 *
 * lib/sample.c decides which blocks are sampled (a per-thread countdown
 * of allocated bytes, exponentially distributed) and remembers the
 * sampled blocks until they are freed; lib/sites.c captures a sample's
 * stack and adds its weights to the sites section of the segment
 * (lib/segment_layout.h, "The sites section"). Hidden symbols. */
#ifndef HSW_SAMPLE_H
#define HSW_SAMPLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/backend_support.h"

#pragma GCC visibility push(hidden)

/* Entries of the sites section, the "other" row included: the section is
 * sizeof(struct hsw_sites_header) + HSW_SITES_CAPACITY * sizeof(struct
 * hsw_site) bytes (64 + 1024 * 320 = 327,744; 331,776 with the page
 * rounding). */
#define HSW_SITES_CAPACITY 1024

/* The mean interval when HEAPSWITCH_SAMPLE is unset: 0, off (see
 * docs/sampling.md for the measurement behind the choice). */
#define HSW_SAMPLE_DEFAULT_INTERVAL 0

/* ---- lib/sample.c ---------------------------------------------------- */

/* Reads HEAPSWITCH_SAMPLE and, when sampling is on, asks for the sites
 * section in the segments to come. Call once, before hsw_segment_open. */
void hsw_sample_configure(void);
/* Whether HEAPSWITCH_SAMPLE turned sampling on (after configure). */
bool hsw_sample_wanted(void);
/* Once the backend's operations are final (after counting started or
 * not): puts the sampled variants in front of the allocating and freeing
 * operations of hsw_ops, if sampling is on and the segment has its
 * section, and updates hsw_entries. */
void hsw_sample_install(void);
/* From the library's constructor: loads the unwinder (lib/sites.c). */
void hsw_sample_load_unwinder(void);

/* For the sampled twins of the default level's counting paths
 * (lib/interpose.c), which count down and filter inline. */

/* The backend's operations under the sampled variants: what the twins
 * call. Set by hsw_sample_install. */
extern struct hsw_backend_ops hsw_sample_inner;

/* The filter of sampled blocks: one byte counter per bucket of a hash of
 * the address; 0 means no block of the bucket was sampled. */
#define HSW_SAMPLE_FILTER_BITS 16
extern uint8_t hsw_sample_filter[1u << HSW_SAMPLE_FILTER_BITS];

static inline size_t hsw_sample_address_hash(const void *ptr)
{
    return (size_t)(((uintptr_t)ptr * UINT64_C(0x9e3779b97f4a7c15)) >>
                    (64 - HSW_SAMPLE_FILTER_BITS));
}

/* Whether the block at ptr may have been sampled: one load, one branch. */
static inline bool hsw_sample_maybe_sampled(const void *ptr)
{
    return __builtin_expect(
        __atomic_load_n(&hsw_sample_filter[hsw_sample_address_hash(ptr)], __ATOMIC_RELAXED) != 0,
        0);
}

/* The cold paths: a malloc whose countdown went below zero (allocates
 * with hsw_sample_inner.malloc and takes the sample), and a free whose
 * filter bucket is set (takes the block off its site if it was sampled,
 * then frees it with hsw_sample_inner.free). */
void *hsw_sample_malloc(size_t size);
void hsw_sample_free(void *ptr);

/* Whether the sampled variants are installed (set once, at start-up). */
extern bool hsw_sample_on;

/* For a call that latency sampling times (lib/latency.c times the
 * backend's own operation, under the sampled variants): the countdown
 * before the call, true when a sample is due, which hsw_sample_take then
 * takes once the block exists; and hsw_sample_untrack before a free,
 * which takes a sampled block off its site. So a timed call is sampled
 * as any other, and its time is the backend's alone. */
static inline bool hsw_sample_count_down(size_t size)
{
    return hsw_sample_on && (hsw_thread.sample_countdown -= (int64_t)size) < 0;
}
void hsw_sample_take(void *ptr, size_t size);
void hsw_sample_untrack(void *ptr);

/* ---- lib/sites.c ----------------------------------------------------- */

/* Loads libunwind (RTLD_LOCAL, so that its _Unwind_* names never replace
 * the C++ runtime's) and finds heapswitch's own code, whose frames are
 * dropped. Until it has run, samples go to the "other" row as unwind
 * failures. Not from inside an allocation. */
void hsw_sites_load_unwinder(void);
/* Fills in the current segment's sites header (interval, capacity,
 * frames): at start-up and in a fork child, whose segment is new. */
void hsw_sites_prepare(uint64_t interval);
/* Records one sample of a `size`-byte block with weights (HSW_SITE_WEIGHT_ONE
 * units) `allocations` and `bytes`: captures the stack and adds to its
 * entry. Returns the entry's index, or -1 when there is no sites section. */
int hsw_sites_record(uint64_t interval, uint64_t allocations, uint64_t bytes);
/* Takes a freed sampled block's weights off entry `index`. */
void hsw_sites_release(int index, uint64_t allocations, uint64_t bytes);

#pragma GCC visibility pop

#endif
