/* Per-thread counter slots: claiming, releasing, the shared slot, and the
 * periodic heap-figure refresh.
 *
 * A thread claims a free slot of the segment at its first counted call
 * (a compare-and-swap on the slot's owner, off the hot path), and is from
 * then on its only writer. A pthread key destructor gives the slot back
 * when the thread exits; the counts stay in it, and the next owner adds
 * to them, so totals never drop. The slot of a thread that exited
 * without giving it back is freed at the next refresh, or when no slot
 * is free. Threads that find no free slot, and exiting threads after
 * their destructor ran, write the shared last slot with atomic adds.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "lib/internal.h"
#include "lib/latency.h"

__thread struct hsw_thread_state hsw_thread __attribute__((tls_model("initial-exec")));
bool hsw_counting;
enum hsw_stats_level hsw_stats_level = HSW_STATS_DEFAULT;
bool hsw_usable_exact;

/* The backend's per-thread books as last copied into this thread's slot
 * (default level): the slot gets the rise since, so a slot taken over
 * from an exited thread keeps adding. */
static __thread uint64_t books_allocated_seen __attribute__((tls_model("initial-exec")));
static __thread uint64_t books_freed_seen __attribute__((tls_model("initial-exec")));
/* When this thread last walked its own heap (thread_heap backends). */
static __thread uint64_t heap_walked_ns __attribute__((tls_model("initial-exec")));

/* Whether the backend's thread_started ran in this thread. */
static __thread bool backend_thread_started __attribute__((tls_model("initial-exec")));
static pthread_key_t slot_key;
static bool slot_key_created;
static int refresh_busy;
static uint64_t last_refresh_ns;

#define REFRESH_INTERVAL_NS (250 * 1000 * 1000)

static bool slot_in_segment(const struct hsw_slot *slot)
{
    const struct hsw_slot *slots;

    if (hsw_segment == NULL)
        return false;
    slots = hsw_segment_slots();
    return slot >= slots && slot < slots + HSW_SLOT_COUNT;
}

/* Adds the rise of the backend's per-thread usable-byte books since the
 * last copy to the slot (default level; the exact level counts them). */
static void sync_books(struct hsw_slot *slot)
{
    uint64_t allocated, freed;

    if (hsw_usable_exact || hsw_ops.thread_usable_books == NULL ||
        !hsw_ops.thread_usable_books(&allocated, &freed))
        return;
    if (allocated >= books_allocated_seen && freed >= books_freed_seen) {
        slot->bytes_allocated += allocated - books_allocated_seen;
        slot->bytes_freed += freed - books_freed_seen;
    }
    books_allocated_seen = allocated;
    books_freed_seen = freed;
}

/* Runs as a thread exits: later calls of the thread go to the shared
 * slot. The books are brought up to date; the thread's heap gauges go
 * to 0, since its heap is no longer its own. */
static void release_slot(void *value)
{
    struct hsw_slot *slot = value;

    hsw_thread_slot = HSW_SLOT_SHARED;
    if (slot_in_segment(slot)) {
        sync_books(slot);
        __atomic_store_n(&slot->thread_heap_live, 0, __ATOMIC_RELAXED);
        __atomic_store_n(&slot->thread_heap_resident, 0, __ATOMIC_RELAXED);
        __atomic_store_n(&slot->owner_tid, 0, __ATOMIC_RELEASE);
    }
}

/* HEAPSWITCH_REFRESH_THREAD=1: a thread of heapswitch's own refreshes
 * the heap figures every 250 ms, so that a process that stops allocating
 * keeps fresh figures. Off by default (the contract: no thread in the
 * user's process unless asked for). Started by the library's constructor;
 * a fork child, which has no such thread, starts its own at its first
 * allocating checkpoint (inside a malloc call, before the backend runs,
 * with no lock of heapswitch's held: pthread_create's own allocations
 * come back through the counted paths). */
static bool refresher_wanted;
static int refresher_started;

static void start_refresher_once(void);

static void *refresher_main(void *unused)
{
    struct timespec pause = {0, REFRESH_INTERVAL_NS};

    (void)unused;
    for (;;) {
        nanosleep(&pause, NULL);
        if (__atomic_load_n(&hsw_counting, __ATOMIC_ACQUIRE))
            hsw_refresh_maybe();
    }
    return NULL;
}

void hsw_refresher_start_if_wanted(void)
{
    if (refresher_wanted && __atomic_load_n(&hsw_counting, __ATOMIC_ACQUIRE))
        start_refresher_once();
}

static void start_refresher_once(void)
{
    int expected = 0;
    pthread_attr_t attributes;
    sigset_t all, saved;
    pthread_t thread;

    if (!__atomic_compare_exchange_n(&refresher_started, &expected, 1, false,
                                     __ATOMIC_ACQ_REL, __ATOMIC_RELAXED))
        return;
    /* The thread takes none of the program's signals. */
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &saved);
    if (pthread_attr_init(&attributes) == 0) {
        pthread_attr_setdetachstate(&attributes, PTHREAD_CREATE_DETACHED);
        pthread_attr_setstacksize(&attributes, 64 * 1024);
        if (pthread_create(&thread, &attributes, refresher_main, NULL) != 0)
            hsw_log("cannot start the refresher thread (HEAPSWITCH_REFRESH_THREAD)",
                    (const char *)NULL);
        pthread_attr_destroy(&attributes);
    }
    pthread_sigmask(SIG_SETMASK, &saved, NULL);
}

void hsw_counters_start(void)
{
    if (!slot_key_created)
        slot_key_created = pthread_key_create(&slot_key, release_slot) == 0;
    last_refresh_ns = 0;
    __atomic_store_n(&refresh_busy, 0, __ATOMIC_RELAXED);
    refresher_wanted = hsw_option_bool(HSW_OPT_REFRESH_THREAD, false);
    __atomic_store_n(&refresher_started, 0, __ATOMIC_RELAXED); /* none in a fork child */
    __atomic_store_n(&hsw_counting, slot_key_created, __ATOMIC_RELEASE);
    hsw_entries_update();
}

void hsw_counters_stop(void)
{
    __atomic_store_n(&hsw_counting, false, __ATOMIC_RELAXED);
    hsw_entries_update();
    hsw_thread_slot = NULL;
    if (slot_key_created)
        pthread_setspecific(slot_key, NULL);
}

/* Whether thread `tid` of this process has exited. */
static bool thread_gone(pid_t pid, uint64_t tid)
{
    return tid != 0 && syscall(SYS_tgkill, pid, (pid_t)tid, 0) != 0 && errno == ESRCH;
}

/* Frees the slots of threads that exited without giving theirs back (a
 * thread whose first claim came after its last destructor round); their
 * counts stay for the next owner. Off the hot path: at a refresh, and
 * when a thread finds no free slot. */
static void release_dead_slots(void)
{
    struct hsw_slot *slots = hsw_segment_slots();
    pid_t pid = getpid();

    for (unsigned i = 0; i < HSW_THREAD_SLOTS; i++) {
        uint64_t owner = __atomic_load_n(&slots[i].owner_tid, __ATOMIC_RELAXED);
        if (thread_gone(pid, owner))
            __atomic_compare_exchange_n(&slots[i].owner_tid, &owner, 0, false,
                                        __ATOMIC_RELAXED, __ATOMIC_RELAXED);
    }
}

/* A free slot for thread `tid`, or NULL when all are in use. */
static struct hsw_slot *find_free_slot(uint64_t tid)
{
    struct hsw_slot *slots = hsw_segment_slots();

    for (unsigned i = 0; i < HSW_THREAD_SLOTS; i++) {
        struct hsw_slot *slot = &slots[(tid + i) % HSW_THREAD_SLOTS];
        uint64_t free_owner = 0;

        if (__atomic_load_n(&slot->owner_tid, __ATOMIC_RELAXED) == 0 &&
            __atomic_compare_exchange_n(&slot->owner_tid, &free_owner, tid, false,
                                        __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
            return slot;
    }
    return NULL;
}

static struct hsw_slot *find_slot(uint64_t tid)
{
    struct hsw_slot *slot = find_free_slot(tid);

    if (slot != NULL)
        return slot;
    release_dead_slots();
    return find_free_slot(tid);
}

static void start_backend_thread(void)
{
    backend_thread_started = true;
    if (hsw_ops.thread_started != NULL)
        hsw_ops.thread_started();
}

/* A thread's first counted call: find it a slot. An allocating call
 * comes from the thread's ordinary life, where the backend may set up
 * per-thread state and take its locks; a free may come after the
 * thread's destructors, where neither is safe. */
static struct hsw_slot *claim_slot(bool allocating)
{
    uint64_t tid = (uint64_t)gettid();
    int saved_errno = errno;
    struct hsw_slot *slot = find_slot(tid);

    if (slot == NULL) {
        hsw_thread_slot = HSW_SLOT_SHARED;
        __atomic_fetch_add(&hsw_segment->overflow_threads, 1, __ATOMIC_RELAXED);
        errno = saved_errno;
        return HSW_SLOT_SHARED;
    }
    /* Set before pthread_setspecific, which may allocate. */
    hsw_thread_slot = slot;
    hsw_latency_thread_start();
    /* A free tick riding in the free count starts from this thread's draw,
     * not from where the slot's last owner left it. */
    hsw_slot_set_free_tick(slot, hsw_thread.free_tick);
    pthread_setspecific(slot_key, slot);
    if (allocating) {
        start_backend_thread();
        hsw_refresh_maybe();
    }
    errno = saved_errno;
    return slot;
}

/* The slot to count into, or NULL when this thread shares the last one. */
static struct hsw_slot *own_slot(bool allocating)
{
    struct hsw_slot *slot = hsw_thread_slot;

    if (slot == NULL)
        slot = claim_slot(allocating);
    return slot == HSW_SLOT_SHARED ? NULL : slot;
}

static struct hsw_slot *shared_slot(void)
{
    return &hsw_segment_slots()[HSW_SLOT_COUNT - 1];
}

static void add_shared(uint64_t *counter, uint64_t amount)
{
    __atomic_fetch_add(counter, amount, __ATOMIC_RELAXED);
}

void hsw_count_alloc_slow(enum hsw_call_kind kind, size_t requested, size_t usable,
                          size_t freed)
{
    struct hsw_slot *slot;

    if (!__atomic_load_n(&hsw_counting, __ATOMIC_ACQUIRE))
        return;
    slot = own_slot(true);
    if (slot != NULL) {
        hsw_count_alloc(kind, requested, usable, freed);
        return;
    }
    slot = shared_slot();
    add_shared(&slot->calls[kind], 1);
    add_shared(&slot->bytes_requested, requested);
    add_shared(&slot->bytes_allocated, usable);
    add_shared(&slot->bytes_freed, freed);
    add_shared(&slot->size_classes[hsw_size_class(requested)], 1);
}

void hsw_count_free_slow(enum hsw_call_kind kind, size_t usable)
{
    struct hsw_slot *slot;

    if (!__atomic_load_n(&hsw_counting, __ATOMIC_ACQUIRE))
        return;
    slot = own_slot(false);
    if (slot != NULL) {
        hsw_count_free(kind, usable);
        return;
    }
    slot = shared_slot();
    add_shared(&slot->calls[kind], 1);
    add_shared(&slot->bytes_freed, usable);
}

void hsw_count_failure(enum hsw_call_kind kind, size_t requested)
{
    struct hsw_slot *slot;

    if (!__atomic_load_n(&hsw_counting, __ATOMIC_ACQUIRE))
        return;
    slot = own_slot(true);
    if (slot != NULL) {
        slot->calls[kind]++;
        slot->failures++;
        slot->bytes_requested += requested;
        slot->size_classes[hsw_size_class(requested)]++;
        return;
    }
    slot = shared_slot();
    add_shared(&slot->calls[kind], 1);
    add_shared(&slot->failures, 1);
    add_shared(&slot->bytes_requested, requested);
    add_shared(&slot->size_classes[hsw_size_class(requested)], 1);
}

void hsw_count_request(void)
{
    struct hsw_slot *slot;

    if (!__atomic_load_n(&hsw_counting, __ATOMIC_ACQUIRE))
        return;
    slot = own_slot(true);
    if (slot != NULL)
        slot->requests++;
    else
        add_shared(&shared_slot()->requests, 1);
}

static uint64_t monotonic_coarse_ns(void)
{
    struct timespec now;

    clock_gettime(CLOCK_MONOTONIC_COARSE, &now);
    return (uint64_t)now.tv_sec * 1000000000u + (uint64_t)now.tv_nsec;
}

/* Publishes this thread's own heap figures in its slot, at most every
 * ~250 ms per thread (thread_heap backends, at every level: the resident
 * figure comes from them). */
static void walk_thread_heap_maybe(struct hsw_slot *slot)
{
    uint64_t now, live, resident;

    if (hsw_ops.thread_heap == NULL)
        return;
    now = monotonic_coarse_ns();
    if (heap_walked_ns != 0 && now - heap_walked_ns < REFRESH_INTERVAL_NS)
        return;
    heap_walked_ns = now;
    if (!hsw_ops.thread_heap(&live, &resident))
        return;
    __atomic_store_n(&slot->thread_heap_live, live, __ATOMIC_RELAXED);
    __atomic_store_n(&slot->thread_heap_resident, resident, __ATOMIC_RELAXED);
}

/* A thread whose slot a free claimed starts the backend's per-thread
 * state here, at most 256 allocating calls later (until then the backend
 * counts its frees the slow way). */
void hsw_allocating_checkpoint(void)
{
    struct hsw_slot *slot = hsw_thread_slot;

    if (HSW_UNLIKELY(!backend_thread_started))
        start_backend_thread();
    if ((uintptr_t)slot > (uintptr_t)HSW_SLOT_SHARED) {
        sync_books(slot);
        walk_thread_heap_maybe(slot);
    }
    if (HSW_UNLIKELY(refresher_wanted))
        start_refresher_once();
    hsw_refresh_maybe();
}

void hsw_counters_flush_thread(void)
{
    struct hsw_slot *slot = hsw_thread_slot;

    if ((uintptr_t)slot <= (uintptr_t)HSW_SLOT_SHARED)
        return;
    sync_books(slot);
    heap_walked_ns = 0;
    walk_thread_heap_maybe(slot);
}

void hsw_freeing_checkpoint(void)
{
    struct hsw_slot *slot = hsw_thread_slot;

    if ((uintptr_t)slot > (uintptr_t)HSW_SLOT_SHARED)
        sync_books(slot);
}

void hsw_refresh_maybe(void)
{
    uint64_t now = monotonic_coarse_ns();
    int idle = 0;

    if (now - __atomic_load_n(&last_refresh_ns, __ATOMIC_RELAXED) < REFRESH_INTERVAL_NS &&
        __atomic_load_n(&last_refresh_ns, __ATOMIC_RELAXED) != 0)
        return;
    /* One refresher at a time; the others carry on without waiting. */
    if (!__atomic_compare_exchange_n(&refresh_busy, &idle, 1, false, __ATOMIC_ACQUIRE,
                                     __ATOMIC_RELAXED))
        return;
    __atomic_store_n(&last_refresh_ns, now, __ATOMIC_RELAXED);
    if (hsw_segment != NULL) {
        int saved_errno = errno;
        release_dead_slots();
        hsw_segment_refresh();
        errno = saved_errno;
    }
    __atomic_store_n(&refresh_busy, 0, __ATOMIC_RELEASE);
}
