/* Backend selection and the dispatch table.
 *
 * hsw_ops starts out pointing at functions that select the backend and
 * then call through again, like a lazy PLT: the hot path never tests
 * whether initialisation has happened. Selection reads HEAPSWITCH_BACKEND
 * once. While it runs (dlopen/dlsym allocate), every call is served from
 * the bootstrap region.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/internal.h"
#include "lib/latency.h"
#include "lib/sample.h"

enum init_state { STATE_UNINITIALISED, STATE_INITIALISING, STATE_READY };

static int init_state = STATE_UNINITIALISED;
static const char *active_name = "system";

static void *first_malloc(size_t size)
{
    if (hsw_ensure_ready())
        return hsw_ops.malloc(size);
    return hsw_bootstrap_alloc(0, size);
}

static void first_free(void *ptr)
{
    /* Before a backend is ready every pointer is a bootstrap one, which
     * the caller has already recognised; anything else is not ours. */
    if (hsw_ensure_ready())
        hsw_ops.free(ptr);
}

static void *first_calloc(size_t count, size_t size)
{
    size_t total;

    if (hsw_ensure_ready())
        return hsw_ops.calloc(count, size);
    if (__builtin_mul_overflow(count, size, &total)) {
        errno = ENOMEM;
        return NULL;
    }
    return hsw_bootstrap_alloc(0, total);
}

static void *first_realloc(void *ptr, size_t size)
{
    if (hsw_ensure_ready())
        return hsw_ops.realloc(ptr, size);
    return hsw_bootstrap_realloc(ptr, size);
}

static void *first_aligned_alloc(size_t alignment, size_t size)
{
    if (hsw_ensure_ready())
        return hsw_ops.aligned_alloc(alignment, size);
    return hsw_bootstrap_alloc(alignment, size);
}

static size_t first_usable_size(void *ptr)
{
    if (hsw_ensure_ready())
        return hsw_ops.usable_size(ptr);
    return 0;
}

static size_t first_free_counted(void *ptr)
{
    if (hsw_ensure_ready())
        return hsw_ops.free_counted(ptr);
    return 0;
}

struct hsw_backend_ops hsw_ops = {
    .malloc = first_malloc,
    .free = first_free,
    .calloc = first_calloc,
    .realloc = first_realloc,
    .aligned_alloc = first_aligned_alloc,
    .usable_size = first_usable_size,
    .free_counted = first_free_counted,
    .new_block_usable = NULL,
    .malloc_and_count = hsw_counted_malloc,
    .free_and_count = hsw_counted_free,
};

struct hsw_entries hsw_entries = {
    .malloc = first_malloc,
    .free = first_free,
};

void hsw_entries_update(void)
{
    bool on = __atomic_load_n(&hsw_counting, __ATOMIC_ACQUIRE);

    __atomic_store_n(&hsw_entries.malloc, on ? hsw_ops.malloc_and_count : hsw_ops.malloc,
                     __ATOMIC_RELEASE);
    __atomic_store_n(&hsw_entries.free, on ? hsw_ops.free_and_count : hsw_ops.free,
                     __ATOMIC_RELEASE);
}

static const struct hsw_backend_entry *find_entry(const char *name)
{
    for (size_t i = 0; i < hsw_backend_registry_count; i++)
        if (strcmp(hsw_backend_registry[i].name, name) == 0)
            return &hsw_backend_registry[i];
    return NULL;
}

/* Appends text to a NUL-terminated buffer, truncating: no stdio here. */
static void append(char *buffer, size_t capacity, const char *text)
{
    size_t used = strlen(buffer);
    size_t length = strlen(text);

    if (length > capacity - 1 - used)
        length = capacity - 1 - used;
    memcpy(buffer + used, text, length);
    buffer[used + length] = '\0';
}

/* "system, jemalloc, mimalloc; not in this build: arena" */
static const char *describe_valid_names(void)
{
    static char text[256];
    const char *separator = "";

    text[0] = '\0';
    for (size_t i = 0; i < hsw_backend_registry_count; i++) {
        if (hsw_backend_registry[i].backend == NULL)
            continue;
        append(text, sizeof text, separator);
        append(text, sizeof text, hsw_backend_registry[i].name);
        separator = ", ";
    }
    separator = "; not in this build: ";
    for (size_t i = 0; i < hsw_backend_registry_count; i++) {
        if (hsw_backend_registry[i].backend != NULL)
            continue;
        append(text, sizeof text, separator);
        append(text, sizeof text, hsw_backend_registry[i].name);
        separator = ", ";
    }
    return text;
}

static struct hsw_backend_ops chosen_ops;

/* For backends with no faster way: look the size up, then free. */
static size_t free_counted_by_lookup(void *ptr)
{
    size_t usable = chosen_ops.usable_size(ptr);

    chosen_ops.free(ptr);
    return usable;
}

/* Whether the backend counts inside its own malloc and free: it knows
 * usable sizes for free, so they are counted at every level. */
static bool backend_counts_usable;

static void publish_ops(const struct hsw_backend_ops *ops)
{
    backend_counts_usable = ops->malloc_and_count != NULL;
    chosen_ops = *ops;
    hsw_fault_wrap(&chosen_ops);
    if (chosen_ops.free_counted == NULL)
        chosen_ops.free_counted = free_counted_by_lookup;
    if (chosen_ops.malloc_and_count == NULL)
        chosen_ops.malloc_and_count = hsw_counted_malloc;
    if (chosen_ops.free_and_count == NULL)
        chosen_ops.free_and_count = hsw_counted_free;
    ops = &chosen_ops;
    __atomic_store_n(&hsw_ops.malloc, ops->malloc, __ATOMIC_RELAXED);
    __atomic_store_n(&hsw_ops.free, ops->free, __ATOMIC_RELAXED);
    __atomic_store_n(&hsw_ops.calloc, ops->calloc, __ATOMIC_RELAXED);
    __atomic_store_n(&hsw_ops.realloc, ops->realloc, __ATOMIC_RELAXED);
    __atomic_store_n(&hsw_ops.aligned_alloc, ops->aligned_alloc,
                     __ATOMIC_RELAXED);
    __atomic_store_n(&hsw_ops.usable_size, ops->usable_size, __ATOMIC_RELAXED);
    __atomic_store_n(&hsw_ops.free_counted, ops->free_counted, __ATOMIC_RELAXED);
    __atomic_store_n(&hsw_ops.new_block_usable, ops->new_block_usable, __ATOMIC_RELAXED);
    __atomic_store_n(&hsw_ops.thread_started, ops->thread_started, __ATOMIC_RELAXED);
    __atomic_store_n(&hsw_ops.malloc_and_count, ops->malloc_and_count, __ATOMIC_RELAXED);
    __atomic_store_n(&hsw_ops.free_and_count, ops->free_and_count, __ATOMIC_RELAXED);
    __atomic_store_n(&hsw_ops.thread_usable_books, ops->thread_usable_books, __ATOMIC_RELAXED);
    __atomic_store_n(&hsw_ops.thread_heap, ops->thread_heap, __ATOMIC_RELAXED);
    __atomic_store_n(&hsw_ops.owns, ops->owns, __ATOMIC_RELAXED);
    __atomic_store_n(&hsw_ops.live_block_header, ops->live_block_header, __ATOMIC_RELAXED);
    hsw_entries_update();
}

/* Reports why the requested backend cannot be used, then exits (strict)
 * or returns so that the caller falls back to the system backend. */
static void refuse_backend(const char *wanted, bool strict,
                           const char *problem, const char *detail)
{
    hsw_log("HEAPSWITCH_BACKEND='", wanted, "' ", problem, detail, " (valid: ",
            describe_valid_names(), "); ",
            strict ? "exiting because HEAPSWITCH_STRICT=1" : "using system",
            (const char *)NULL);
    if (strict)
        _exit(1);
}

static const struct hsw_backend_options backend_options = {.lookup = hsw_option_lookup};

static const struct hsw_backend *select_backend(void)
{
    const char *wanted = hsw_option_string(HSW_OPT_BACKEND);
    const struct hsw_backend_entry *entry;
    struct hsw_backend_ops ops = {0}; /* optional fields stay NULL */
    const char *why = NULL;
    bool strict = hsw_option_bool(HSW_OPT_STRICT, false);

    if (wanted == NULL || wanted[0] == '\0')
        wanted = "system";
    entry = find_entry(wanted);
    if (entry == NULL) {
        refuse_backend(wanted, strict, "is not a backend", "");
    } else if (entry->backend == NULL) {
        refuse_backend(wanted, strict, "is not available: ", entry->unavailable_reason);
    } else if (entry->backend->init(&ops, &backend_options, &why) != 0) {
        refuse_backend(wanted, strict, "failed to start: ", why);
    } else {
        active_name = entry->backend->name;
        publish_ops(&ops);
        return entry->backend;
    }

    entry = find_entry("system");
    ops = (struct hsw_backend_ops){0}; /* nothing left from a failed init */
    if (entry->backend->init(&ops, &backend_options, &why) != 0) {
        hsw_log("the system backend failed too: ", why, (const char *)NULL);
        abort();
    }
    active_name = entry->backend->name;
    publish_ops(&ops);
    return entry->backend;
}

/* Counting and the segment, unless HEAPSWITCH_STATS=0. At the default
 * level malloc and free are counted without asking for usable sizes,
 * unless the backend counts inside its own fast paths. */
static void start_publishing(const struct hsw_backend *backend)
{
    unsigned level = hsw_option_stats_level();
    bool timed;

    if (level == 0) {
        /* Sampled call sites are still published: a segment whose
         * counters stay at zero (docs/sampling.md). */
        if (hsw_sample_wanted())
            hsw_segment_open(backend);
        return;
    }
    hsw_stats_level = (enum hsw_stats_level)level;
    hsw_usable_exact = level == HSW_STATS_EXACT || backend_counts_usable;
    /* Latency sampling needs a free tick (the books variant has one). */
    timed = hsw_latency_configure(backend_counts_usable);
    if (!hsw_usable_exact) {
        __atomic_store_n(&hsw_ops.malloc_and_count, hsw_light_malloc, __ATOMIC_RELAXED);
        __atomic_store_n(&hsw_ops.free_and_count,
                         hsw_ops.thread_usable_books != NULL ? hsw_light_free_with_books
                         : hsw_ops.live_block_header != 0
                             ? (timed ? hsw_light_free_with_nulls_timed : hsw_light_free_with_nulls)
                             : (timed ? hsw_light_free_timed : hsw_light_free),
                         __ATOMIC_RELAXED);
    } else if (timed) {
        /* The generic counted paths, also for a backend that counts in its
         * own fast paths: the timed call must be the backend's alone. */
        __atomic_store_n(&hsw_ops.malloc_and_count, hsw_counted_malloc_timed, __ATOMIC_RELAXED);
        __atomic_store_n(&hsw_ops.free_and_count, hsw_counted_free_timed, __ATOMIC_RELAXED);
    }
    /* Counting starts in hsw_counters_start, which updates hsw_entries. */
    if (hsw_segment_open(backend))
        hsw_counters_start();
}

bool hsw_ensure_ready(void)
{
    int state = __atomic_load_n(&init_state, __ATOMIC_ACQUIRE);
    int expected = STATE_UNINITIALISED;

    if (HSW_LIKELY(state == STATE_READY))
        return true;
    if (state == STATE_UNINITIALISED &&
        __atomic_compare_exchange_n(&init_state, &expected,
                                    STATE_INITIALISING, false,
                                    __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
        const struct hsw_backend *backend = select_backend();
        /* Segment creation allocates nothing, but pthread_atfork may: it
         * is still served by the bootstrap region here. */
        hsw_sample_configure();
        start_publishing(backend);
        hsw_sample_install();
        __atomic_store_n(&init_state, STATE_READY, __ATOMIC_RELEASE);
        return true;
    }
    /* Initialisation is under way, in this thread (a recursive call from
     * dlsym) or another: waiting could deadlock on the loader's lock. */
    return false;
}

const char *hsw_active_backend_name(void)
{
    hsw_ensure_ready();
    return active_name;
}

/* Selects the backend at load time too, so that a strict-mode error stops
 * a program before its main() even if the program never allocates. */
__attribute__((constructor)) static void dispatch_constructor(void)
{
    hsw_ensure_ready();
    hsw_refresher_start_if_wanted();
    hsw_sample_load_unwinder();
    hsw_warnings_pass_on(); /* malloc works now: setenv may allocate */
}
