/* Sampled call latency in the runtime (lib/latency.c): which calls are
 * timed, the clock, and the histograms of the latency section. Only the
 * counted paths use it, and only in their cold branches: at a wrap of a
 * thread's malloc or free tick (lib/backend_support.h). */
#ifndef HSW_LATENCY_H
#define HSW_LATENCY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/segment_layout.h"

#pragma GCC visibility push(hidden)

/* Mean calls of a kind between two timed ones (HEAPSWITCH_LATENCY); 0
 * when latency is not sampled. Set once, before counting starts. */
extern unsigned hsw_latency_rate;

#define HSW_LATENCY_DEFAULT_RATE 1024
#define HSW_LATENCY_MAX_RATE (1u << 30)

/* Reads HEAPSWITCH_LATENCY and HEAPSWITCH_LATENCY_CLOCK, picks the clock
 * and asks for the latency section in the segments to come. Returns
 * whether calls are timed. fused_counting: the backend counts inside its
 * own fast paths (the arena), which timing would replace; then calls are
 * timed only when HEAPSWITCH_LATENCY asks. At start-up, before
 * hsw_segment_open. */
bool hsw_latency_configure(bool fused_counting);
/* Fills the header of a fresh segment's latency section (at creation,
 * in a fork child too). */
void hsw_latency_attach(void);
/* Records a (clock, CLOCK_MONOTONIC) pair for the readers' conversion to
 * nanoseconds: at every refresh and at exit. */
void hsw_latency_calibrate(void);

/* Arms this thread's ticks at random phases, so that its first calls
 * are sampled like the others (at its first counted call, when it claims
 * a slot; otherwise the first wrap does it). */
void hsw_latency_thread_start(void);

/* At a wrap of hsw_thread.malloc_tick: re-arms the tick for the next
 * interval and returns the calls of the interval that just ended, this
 * one included (the weight of a sample taken here). *timed: time this
 * call; *checkpoint: 256 calls or more since the last checkpoint. */
unsigned hsw_latency_malloc_wrap(bool *timed, bool *checkpoint);
/* The same at a wrap of hsw_thread.free_tick. */
void hsw_latency_free_wrap(bool *timed, bool *checkpoint);
/* The same at a wrap of hsw_thread.other_tick (calloc, realloc and the
 * aligned calls, which keep no checkpoint): whether to time this call. */
bool hsw_latency_other_wrap(void);

/* The backend's malloc, free and free_counted, timed into this thread's
 * histograms; and calloc, realloc and aligned_alloc, which also make
 * call-site sampling's steps, outside the timed part, when it is on. */
void *hsw_latency_timed_malloc(size_t size);
void *hsw_latency_timed_calloc(size_t count, size_t size);
void *hsw_latency_timed_realloc(void *ptr, size_t size);
void *hsw_latency_timed_aligned_alloc(size_t alignment, size_t size);
void hsw_latency_timed_free(void *ptr);
size_t hsw_latency_timed_free_counted(void *ptr);

/* Adds one duration of `ticks` to this thread's histogram of `kind`
 * (exported for the unit tests, which feed it known durations). */
void hsw_latency_record(enum hsw_latency_kind kind, uint64_t ticks);

/* The exit report's "latency" member: "latency":{rate, clock, and per
 * kind samples, mean, p50, p99, p999 and max in ns} or "latency":null.
 * Returns its length (at most size - 1). */
size_t hsw_latency_report_json(char *out, size_t size);

#pragma GCC visibility pop

#endif
