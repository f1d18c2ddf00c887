/* Private interfaces of lib/, grouped by the file that defines them.
 * Every name here is hsw_… and hidden from the library's exports. */
#ifndef HSW_INTERNAL_H
#define HSW_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "backends/backend.h"
#include "lib/backend_support.h"
#include "lib/segment_layout.h"

/* Declarations here are of hidden symbols: direct, GOT-free access. */
#pragma GCC visibility push(hidden)

/* ---- lib/options.c --------------------------------------------------- */

enum hsw_option {
    HSW_OPT_BACKEND, /* HEAPSWITCH_BACKEND: a backend name */
    HSW_OPT_STRICT,  /* HEAPSWITCH_STRICT: fail instead of falling back */
    HSW_OPT_TAG,     /* HEAPSWITCH_TAG: a label for A/B groups */
    HSW_OPT_STATS,   /* HEAPSWITCH_STATS: 0 turns counting and publishing off */
    HSW_OPT_REPORT,  /* HEAPSWITCH_REPORT: path of a JSON summary at exit */
    HSW_OPT_KEEP,    /* HEAPSWITCH_KEEP: keep the segment after exit */
    HSW_OPT_FAULT_EVERY, /* HEAPSWITCH_FAULT_EVERY: fail every Nth allocation (tests) */
    HSW_OPT_REFRESH_THREAD, /* HEAPSWITCH_REFRESH_THREAD: 1 starts a refresher thread */
    HSW_OPT_SAMPLE,  /* HEAPSWITCH_SAMPLE: mean bytes between call-site samples, 0 off */
    HSW_OPT_DIR,     /* HEAPSWITCH_DIR: the segment directory (default /dev/shm) */
    HSW_OPT_LABELS,  /* HEAPSWITCH_LABELS: key=value,... published in the segment */
    HSW_OPT_WARNED,  /* HEAPSWITCH_WARNED: warnings a parent gave (lib/warned.c) */
    HSW_OPT_LATENCY,        /* HEAPSWITCH_LATENCY: time one call in N (lib/latency.c) */
    HSW_OPT_LATENCY_CLOCK,  /* HEAPSWITCH_LATENCY_CLOCK: auto or monotonic */
    HSW_OPT_COUNT
};

/* The raw value of an option's environment variable, or NULL when unset.
 * Works before libc has finished starting up (no getenv, no allocation). */
const char *hsw_option_string(enum hsw_option option);
/* The same for any variable by name (a backend's own: hsw_backend_options). */
const char *hsw_option_lookup(const char *variable);
/* A boolean option: 1/true/yes/on and 0/false/no/off, any case; a bad
 * value is reported once and gives `fallback`. */
bool hsw_option_bool(enum hsw_option option, bool fallback);
/* HEAPSWITCH_STATS: 0 (off: the boolean falsities), HSW_STATS_DEFAULT
 * (unset, empty, "default", the boolean truths) or HSW_STATS_EXACT
 * ("exact"); any other value is reported and gives the default. */
unsigned hsw_option_stats_level(void);

/* ---- lib/bootstrap.c ------------------------------------------------- */

/* Serves allocations while no backend is ready (the dynamic loader and
 * dlsym() call malloc while heapswitch initialises). Never freed. */
void *hsw_bootstrap_alloc(size_t alignment, size_t size);
void *hsw_bootstrap_realloc(void *ptr, size_t size);
size_t hsw_bootstrap_usable_size(const void *ptr);

#define HSW_BOOTSTRAP_SIZE (1024 * 1024)
extern unsigned char hsw_bootstrap_region[HSW_BOOTSTRAP_SIZE];

/* Whether ptr lies in the bootstrap region: one subtraction and compare. */
static inline bool hsw_bootstrap_owns(const void *ptr)
{
    return (uintptr_t)ptr - (uintptr_t)hsw_bootstrap_region < HSW_BOOTSTRAP_SIZE;
}

/* ---- lib/interpose.c ------------------------------------------------- */

/* malloc and free counted around the backend's own: the defaults of
 * malloc_and_count and free_and_count. Only called while counting. */
void *hsw_counted_malloc(size_t size);
void hsw_counted_free(void *ptr);
/* The default level's malloc and free: calls, bytes requested and size
 * class counted, no usable size asked for. Only called while counting. */
void *hsw_light_malloc(size_t size);
void hsw_light_free(void *ptr);
void hsw_light_free_with_books(void *ptr); /* for thread_usable_books backends */
void hsw_light_free_with_nulls(void *ptr); /* for live_block_header backends */
/* Their twins with call-site sampling on (lib/sample.c installs them). */
void *hsw_light_malloc_sampled(size_t size);
void hsw_light_free_sampled(void *ptr);
void hsw_light_free_with_books_sampled(void *ptr);
void hsw_light_free_with_nulls_sampled(void *ptr);
void hsw_light_free_timed_sampled(void *ptr);
void hsw_light_free_with_nulls_timed_sampled(void *ptr);
/* The same with latency timing (lib/latency.h): a free tick of their own. */
void hsw_light_free_timed(void *ptr);
void hsw_light_free_with_nulls_timed(void *ptr);
void *hsw_counted_malloc_timed(size_t size);
void hsw_counted_free_timed(void *ptr);

/* ---- lib/dispatch.c -------------------------------------------------- */

/* The active backend's operations. Before initialisation they point at
 * functions that initialise first; the hot path only ever calls through. */
extern struct hsw_backend_ops hsw_ops;

/* The exported malloc and free jump through these: the backend's own
 * while nothing is counted, the counted paths (hsw_ops.malloc_and_count,
 * free_and_count) while counting. One indirect jump, no flag test. */
struct hsw_entries {
    void *(*malloc)(size_t size);
    void (*free)(void *ptr);
};
extern struct hsw_entries hsw_entries;
/* Points hsw_entries at the counted or the plain paths, as hsw_counting
 * says (when the backend is chosen, and when counting starts or stops). */
void hsw_entries_update(void);

/* Selects and initialises the backend once; safe to call from any thread
 * and from inside an allocation. Returns true when hsw_ops is the
 * backend's, false while initialisation is in progress (serve the call
 * from the bootstrap region then). */
bool hsw_ensure_ready(void);
/* The active backend's name ("system" until initialised). */
const char *hsw_active_backend_name(void);

/* ---- lib/fault.c ---------------------------------------------------- */

/* With HEAPSWITCH_FAULT_EVERY=N set, wraps the allocating operations so
 * that every Nth call fails with ENOMEM; otherwise leaves ops alone. */
void hsw_fault_wrap(struct hsw_backend_ops *ops);

/* ---- lib/counters.c -------------------------------------------------- */

/* The counting functions a backend may call too: lib/backend_support.h. */
/* Whether calls are counted: set once a segment exists. */
extern bool hsw_counting;
/* The counting level (enum hsw_stats_level), and whether usable sizes are
 * counted at every call (the exact level, or a backend that counts inside
 * its own fast paths). Set once, before counting starts. */
extern enum hsw_stats_level hsw_stats_level;
extern bool hsw_usable_exact;
/* Starts counting into the current segment (at start-up and in a fork child). */
void hsw_counters_start(void);
/* Stops counting and forgets this thread's slot (in a fork child). */
void hsw_counters_stop(void);
void hsw_count_request(void);
/* Refreshes the heap figures if ~250 ms have passed since the last time. */
void hsw_refresh_maybe(void);
/* Every HSW_REFRESH_CALL_MASK + 1 frees of a slot at the default level,
 * before the backend frees: brings the slot's usable-byte counts up to the
 * backend's per-thread books (no backend set-up: a free may come after the
 * thread's destructors). */
void hsw_freeing_checkpoint(void);
/* Sets the free tick that rides in the top byte of a slot's free count
 * (latency sampling on a backend without books: lib/interpose.c) to
 * `tick`, the value lib/latency.c armed in hsw_thread.free_tick. The
 * slot is this thread's own. */
static inline void hsw_slot_set_free_tick(struct hsw_slot *slot, uint8_t tick)
{
    slot->calls[HSW_CALL_FREE] =
        hsw_call_count(slot->calls[HSW_CALL_FREE]) | (uint64_t)tick << HSW_CALL_COUNT_BITS;
}
/* Brings this thread's slot up to the backend's books and its own heap's
 * figures now (before the final refresh at exit). */
void hsw_counters_flush_thread(void);
/* Starts the refresher thread if HEAPSWITCH_REFRESH_THREAD=1 asked for
 * one and none runs (from the library's constructor). */
void hsw_refresher_start_if_wanted(void);

/* ---- lib/warned.c ---------------------------------------------------- */

/* Whether a parent process already gave this warning line (it is in
 * HEAPSWITCH_WARNED, and HEAPSWITCH_STRICT is off); remembers the line
 * otherwise. No allocation: called by hsw_log. */
bool hsw_warning_given_by_parent(const char *line, size_t length);
/* Sets HEAPSWITCH_WARNED for the children when this process gave a
 * warning. Allocates (setenv): only from the library's constructor. */
void hsw_warnings_pass_on(void);

/* ---- lib/segment.c --------------------------------------------------- */

/* This process's segment, or NULL when it publishes nothing. */
extern struct hsw_segment_header *hsw_segment;

/* Creates and publishes this process's segment for `backend`; on failure
 * warns once and returns false (the program runs on, uncounted). */
bool hsw_segment_open(const struct hsw_backend *backend);
/* Asks for a section of `size` bytes in the segments created from now on
 * (call before hsw_segment_open; a fork child's segment gets it too). */
void hsw_segment_want_section(enum hsw_section_kind kind, uint32_t version, size_t size);
/* The current segment's section of that kind, zero-filled at creation,
 * or NULL when there is none. */
void *hsw_segment_section(enum hsw_section_kind kind);
/* The segment's counter slots; the last one is the shared slot. */
static inline struct hsw_slot *hsw_segment_slots(void)
{
    return (struct hsw_slot *)((char *)hsw_segment + sizeof(struct hsw_segment_header));
}
/* Publishes fresh heap figures, the live bytes of the same moment, the
 * peak of live bytes and a heartbeat. */
void hsw_segment_refresh(void);
/* Marks the segment exited, writes the report and removes the name
 * (unless HEAPSWITCH_KEEP=1); once, and only in the process that made it.
 * refresh_heap: ask the backend for final figures (not from _exit, which
 * may run where the backend's locks are not safe to take). */
void hsw_segment_finish(bool refresh_heap);
/* Sums every slot of this process's segment into *total. */
void hsw_segment_totals(struct hsw_slot *total);

/* ---- lib/report.c ---------------------------------------------------- */

/* Appends one line of JSON about this process to the file at `path`. */
void hsw_report_write(const char *path);

/* ---- lib/interpose.c ------------------------------------------------- */

/* The malloc family as the program sees it; exported under libc names. */
void *hsw_malloc(size_t size);
void hsw_free(void *ptr);
void *hsw_calloc(size_t count, size_t size);
void *hsw_realloc(void *ptr, size_t size);
void *hsw_reallocarray(void *ptr, size_t count, size_t size);
size_t hsw_malloc_usable_size(void *ptr);
void *hsw_aligned_alloc(size_t alignment, size_t size);
int hsw_posix_memalign(void **result, size_t alignment, size_t size);
void *hsw_memalign(size_t alignment, size_t size);
void *hsw_valloc(size_t size);
void *hsw_pvalloc(size_t size);
void hsw_free_sized(void *ptr, size_t size);
void hsw_free_aligned_sized(void *ptr, size_t alignment, size_t size);

#pragma GCC visibility pop

#endif
