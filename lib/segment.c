/* The segment writer: creates this process's shared-memory segment,
 * refreshes its heap figures, replaces it in a fork child, and marks it
 * exited (then removes it) at exit.
 *
 * The segment is heapswitch-<uid>-<pid> (-<pid namespace> appended outside
 * the initial pid namespace) in HEAPSWITCH_DIR, /dev/shm by default, a
 * directory checked as lib/segment_place.c says; created with O_EXCL,
 * O_NOFOLLOW and mode 0600, pre-sized with posix_fallocate so that a full
 * /dev/shm fails here rather than with SIGBUS later. The writer holds an
 * exclusive flock on it for its whole life: a reader that can take the
 * lock knows the writer is gone. Everything here runs inside malloc, so it
 * uses system calls only: no stdio, no allocation.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lib/internal.h"
#include "lib/labels.h"
#include "lib/latency.h"
#include "lib/procinfo.h"
#include "lib/segment_place.h"

struct hsw_segment_header *hsw_segment;

static int segment_fd = -1;
static char segment_name[HSW_SEGMENT_NAME_MAX];
static char segment_dir[HSW_SEGMENT_DIR_MAX];
static char segment_labels[HSW_LABELS_SIZE];
static pid_t segment_pid;
static const struct hsw_backend *segment_backend;
static bool keep_segment;
static char report_path[4096];
static bool atfork_registered;

/* Sections wanted before the segment exists, and where they landed. */
struct wanted_section {
    uint32_t version;
    uint64_t size;
};
static struct wanted_section wanted_sections[HSW_SECTION_KINDS];
static size_t mapped_size; /* the whole file: core and sections */

static uint64_t clock_ns(clockid_t clock)
{
    struct timespec now;

    clock_gettime(clock, &now);
    return (uint64_t)now.tv_sec * 1000000000u + (uint64_t)now.tv_nsec;
}

/* Copies at most capacity - 1 bytes and NUL-terminates. */
static void copy_text(char *out, size_t capacity, const char *text)
{
    size_t length = text != NULL ? strnlen(text, capacity - 1) : 0;

    memcpy(out, text != NULL ? text : "", length);
    out[length] = '\0';
}

/* A segment of ours left by a process with our pid that is gone: one
 * that exec'ed (the new image starts afresh) or was killed. Nobody holds
 * its lock. Removes it and returns true. */
static bool remove_stale_segment(int directory, const char *name)
{
    /* O_NONBLOCK: a FIFO planted at the name must not hang us. */
    int fd = openat(directory, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    struct stat info;
    bool removed = false;

    if (fd < 0)
        return false;
    if (fstat(fd, &info) == 0 && info.st_uid == getuid() && S_ISREG(info.st_mode) &&
        flock(fd, LOCK_EX | LOCK_NB) == 0)
        removed = unlinkat(directory, name, 0) == 0;
    close(fd);
    return removed;
}

static void warn_unavailable(const char *step, int error)
{
    const char *error_name = strerrorname_np(error);

    hsw_log("cannot ", step, " ", segment_dir, "/", segment_name, " (",
            error_name != NULL ? error_name : "error",
            "); counting and publishing are off for this process", (const char *)NULL);
}

/* Opens the segment directory after checking it; -1 with a warning
 * when it cannot be used. */
static int open_directory(void)
{
    int directory = open(segment_dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    const char *problem;
    struct stat info;

    if (directory < 0) {
        int error = errno;
        if ((error == ENOTDIR || error == ELOOP) && lstat(segment_dir, &info) == 0)
            hsw_log("the segment directory ", segment_dir,
                    S_ISLNK(info.st_mode) ? " is a symbolic link (name its target)"
                                          : " is not a directory",
                    "; counting and publishing are off for this process", (const char *)NULL);
        else
            warn_unavailable("create", error);
        return -1;
    }
    problem = fstat(directory, &info) != 0 ? "cannot be examined"
                                           : hsw_segment_dir_problem(&info, getuid());
    if (problem != NULL) {
        hsw_log("the segment directory ", segment_dir, " ", problem,
                "; counting and publishing are off for this process", (const char *)NULL);
        close(directory);
        return -1;
    }
    return directory;
}

static int create_file(int directory)
{
    int fd = openat(directory, segment_name,
                    O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, S_IRUSR | S_IWUSR);

    if (fd < 0 && errno == EEXIST && remove_stale_segment(directory, segment_name))
        fd = openat(directory, segment_name, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                    S_IRUSR | S_IWUSR);
    return fd;
}

/* Removes the segment's name: the directory is opened again rather than
 * kept open, since a program may close or reuse any descriptor. */
static void unlink_segment(void)
{
    int directory = open(segment_dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

    if (directory < 0)
        return;
    unlinkat(directory, segment_name, 0);
    close(directory);
}

/* Reads the command line with its NULs turned into spaces. */
static void read_cmdline(char *out, size_t capacity)
{
    ssize_t length = hsw_read_small_file("/proc/self/cmdline", out, capacity);

    if (length <= 0) {
        out[0] = '\0';
        return;
    }
    while (length > 0 && out[length - 1] == '\0')
        length--;
    for (ssize_t i = 0; i < length; i++)
        if (out[i] == '\0' || out[i] == '\n')
            out[i] = ' ';
    out[length] = '\0';
}

/* Where this process's byte figures come from (header.figures). */
static uint32_t figure_sources(void)
{
    if (hsw_usable_exact)
        return HSW_USABLE_EXACT;
    if (hsw_ops.thread_usable_books != NULL)
        return HSW_USABLE_FROM_BOOKS;
    if (hsw_ops.thread_heap != NULL)
        return HSW_LIVE_FROM_THREAD_HEAPS;
    return HSW_LIVE_FROM_HEAP;
}

static void fill_header(struct hsw_segment_header *header, const struct hsw_backend *backend)
{
    ssize_t exe_length;
    const char *tag = hsw_option_string(HSW_OPT_TAG);

    header->magic = HSW_SEGMENT_MAGIC;
    header->layout_major = HSW_SEGMENT_LAYOUT_MAJOR;
    header->layout_minor = HSW_SEGMENT_LAYOUT_MINOR;
    header->header_size = sizeof(struct hsw_segment_header);
    header->slot_size = sizeof(struct hsw_slot);
    header->slot_count = HSW_SLOT_COUNT;
    header->size_classes = HSW_SIZE_CLASSES;
    header->segment_size = HSW_SEGMENT_SIZE;
    header->file_size = mapped_size;
    header->pid = getpid();
    header->uid = getuid();
    header->pid_namespace = hsw_pid_namespace_self();
    /* /proc/self: this process even where /proc is another namespace's. */
    if (hsw_proc_start_time(0, &header->start_time) != 0)
        header->start_time = 0;
    header->created_unix_ns = clock_ns(CLOCK_REALTIME);
    header->heartbeat_ns = clock_ns(CLOCK_MONOTONIC);
    copy_text(header->backend, sizeof header->backend, backend->name);
    copy_text(header->tag, sizeof header->tag, tag);
    copy_text(header->labels, sizeof header->labels, segment_labels);
    header->stats_level = hsw_stats_level;
    header->figures = figure_sources();
    exe_length = readlink("/proc/self/exe", header->exe, sizeof header->exe - 1);
    header->exe[exe_length > 0 ? exe_length : 0] = '\0';
    read_cmdline(header->cmdline, sizeof header->cmdline);
}

void hsw_segment_want_section(enum hsw_section_kind kind, uint32_t version, size_t size)
{
    if (kind <= HSW_SECTION_UNUSED || kind >= HSW_SECTION_KINDS)
        return;
    wanted_sections[kind].version = version;
    wanted_sections[kind].size = (size + 4095) & ~(size_t)4095;
}

/* The file's size: the core, then each wanted section, page-aligned. */
static size_t layout_size(void)
{
    size_t size = HSW_SEGMENT_SIZE;

    for (unsigned kind = 1; kind < HSW_SECTION_KINDS; kind++)
        size += wanted_sections[kind].size;
    return size <= HSW_SEGMENT_FILE_MAX_SIZE ? size : HSW_SEGMENT_SIZE;
}

static void fill_sections(struct hsw_segment_header *header)
{
    uint64_t offset = HSW_SEGMENT_SIZE;
    unsigned entry = 0;

    if (mapped_size == HSW_SEGMENT_SIZE)
        return; /* none wanted, or more than a file may hold */
    for (unsigned kind = 1; kind < HSW_SECTION_KINDS && entry < HSW_SECTION_COUNT; kind++) {
        if (wanted_sections[kind].size == 0)
            continue;
        header->sections[entry].kind = kind;
        header->sections[entry].version = wanted_sections[kind].version;
        header->sections[entry].offset = offset;
        header->sections[entry].size = wanted_sections[kind].size;
        offset += wanted_sections[kind].size;
        entry++;
    }
}

void *hsw_segment_section(enum hsw_section_kind kind)
{
    struct hsw_segment_header *header = hsw_segment;

    if (header == NULL)
        return NULL;
    for (unsigned entry = 0; entry < HSW_SECTION_COUNT; entry++)
        if (header->sections[entry].kind == (uint32_t)kind)
            return (char *)header + header->sections[entry].offset;
    return NULL;
}

static void fork_child(void);

static bool create_segment(void)
{
    int fd, error, directory;
    void *mapping;

    mapped_size = layout_size();
    segment_pid = getpid();
    hsw_segment_format_name(segment_name, getuid(), segment_pid, hsw_pid_namespace_self());
    directory = open_directory();
    if (directory < 0)
        return false;
    fd = create_file(directory);
    error = errno;
    close(directory);
    if (fd < 0) {
        warn_unavailable("create", error);
        return false;
    }
    /* Lock first: a reader must never see an unlocked segment of a live
     * writer. Blocking: a reader may hold a shared lock for an instant. */
    if (flock(fd, LOCK_EX) != 0)
        error = errno;
    else
        error = posix_fallocate(fd, 0, (off_t)mapped_size); /* returns, not errno */
    if (error != 0) {
        warn_unavailable("size", error);
        unlink_segment();
        close(fd);
        return false;
    }
    mapping = mmap(NULL, mapped_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (mapping == MAP_FAILED) {
        warn_unavailable("map", errno);
        unlink_segment();
        close(fd);
        return false;
    }
    fill_header(mapping, segment_backend);
    fill_sections(mapping);
    segment_fd = fd;
    __atomic_store_n(&((struct hsw_segment_header *)mapping)->state, HSW_STATE_RUNNING,
                     __ATOMIC_RELEASE);
    hsw_segment = mapping;
    hsw_latency_attach();
    return true;
}

/* HEAPSWITCH_DIR: false, with a warning, when it cannot be one. */
static bool choose_directory(void)
{
    const char *directory = hsw_option_string(HSW_OPT_DIR);
    const char *problem;

    if (directory == NULL || directory[0] == '\0')
        directory = HSW_DEFAULT_SEGMENT_DIR;
    problem = hsw_segment_dir_path_problem(directory);
    if (problem != NULL) {
        hsw_log("HEAPSWITCH_DIR='", directory, "' ", problem,
                "; counting and publishing are off for this process", (const char *)NULL);
        return false;
    }
    copy_text(segment_dir, sizeof segment_dir, directory);
    return true;
}

/* HEAPSWITCH_LABELS, checked once: a bad list is reported and dropped. */
static void choose_labels(void)
{
    const char *labels = hsw_option_string(HSW_OPT_LABELS);
    const char *problem;
    size_t at, length;
    char culprit[HSW_LABELS_SIZE];

    if (labels == NULL)
        return;
    problem = hsw_labels_check(labels, &at, &length);
    if (problem == NULL) {
        copy_text(segment_labels, sizeof segment_labels, labels);
        return;
    }
    copy_text(culprit, length + 1 < sizeof culprit ? length + 1 : sizeof culprit, labels + at);
    hsw_log("ignoring HEAPSWITCH_LABELS: it ", problem, " (at '", culprit,
            "'); expected key=value,... with Prometheus label names", (const char *)NULL);
}

bool hsw_segment_open(const struct hsw_backend *backend)
{
    const char *report = hsw_option_string(HSW_OPT_REPORT);

    segment_backend = backend;
    keep_segment = hsw_option_bool(HSW_OPT_KEEP, false);
    if (report != NULL && report[0] != '\0') {
        if (strlen(report) >= sizeof report_path)
            hsw_log("ignoring HEAPSWITCH_REPORT: the path is too long", (const char *)NULL);
        else
            copy_text(report_path, sizeof report_path, report);
    }
    choose_labels();
    if (!choose_directory())
        return false;
    if (!atfork_registered)
        atfork_registered = pthread_atfork(NULL, NULL, fork_child) == 0;
    return create_segment();
}

/* The child of a fork gets a segment and counters of its own; it must not
 * write the parent's slots nor hold the parent's lock. */
static void fork_child(void)
{
    struct hsw_segment_header *inherited = hsw_segment;

    if (inherited == NULL)
        return;
    hsw_counters_stop();
    hsw_segment = NULL;
    munmap(inherited, mapped_size);
    close(segment_fd);
    segment_fd = -1;
    if (create_segment())
        hsw_counters_start();
}

static uint64_t call_count(const struct hsw_slot *slot, enum hsw_call_kind kind)
{
    return hsw_call_count(__atomic_load_n(&slot->calls[kind], __ATOMIC_RELAXED));
}

void hsw_segment_totals(struct hsw_slot *total)
{
    const struct hsw_slot *slots = hsw_segment_slots();

    memset(total, 0, sizeof *total);
    for (unsigned s = 0; s < HSW_SLOT_COUNT; s++) {
        const struct hsw_slot *slot = &slots[s];
        for (unsigned k = 0; k < HSW_CALL_KINDS; k++)
            total->calls[k] += call_count(slot, (enum hsw_call_kind)k);
        total->failures += __atomic_load_n(&slot->failures, __ATOMIC_RELAXED);
        total->bytes_requested += __atomic_load_n(&slot->bytes_requested, __ATOMIC_RELAXED);
        total->bytes_allocated += __atomic_load_n(&slot->bytes_allocated, __ATOMIC_RELAXED);
        total->bytes_freed += __atomic_load_n(&slot->bytes_freed, __ATOMIC_RELAXED);
        total->requests += __atomic_load_n(&slot->requests, __ATOMIC_RELAXED);
        for (unsigned c = 0; c < HSW_SIZE_CLASSES; c++)
            total->size_classes[c] += __atomic_load_n(&slot->size_classes[c], __ATOMIC_RELAXED);
        if (slot->owner_tid != 0)
            total->owner_tid++; /* here: the number of slots in use */
    }
}

/* Blocks in use, from the calls: those that make a block (malloc, calloc,
 * the aligned ones; failures off) minus frees of one (free(NULL) off).
 * realloc keeps the count. */
static uint64_t live_blocks(void)
{
    const struct hsw_slot *slots = hsw_segment_slots();
    uint64_t made = 0, gone = 0;

    for (unsigned s = 0; s < HSW_SLOT_COUNT; s++) {
        made += call_count(&slots[s], HSW_CALL_MALLOC) + call_count(&slots[s], HSW_CALL_CALLOC) +
                call_count(&slots[s], HSW_CALL_ALIGNED);
        gone += __atomic_load_n(&slots[s].failures, __ATOMIC_RELAXED) +
                call_count(&slots[s], HSW_CALL_FREE) -
                __atomic_load_n(&slots[s].null_frees, __ATOMIC_RELAXED);
    }
    return made > gone ? made - gone : 0;
}

/* The live bytes of this moment, from the source header.figures names;
 * where threads have heaps of their own, the sum of their resident bytes
 * is the backend's resident figure.
 * Returns false when there is no live figure. */
static bool live_now(const struct hsw_segment_header *header, struct hsw_backend_heap *heap,
                     uint64_t *live)
{
    struct hsw_slot total;
    const struct hsw_slot *slots = hsw_segment_slots();
    uint64_t heaps_live = 0;

    if (hsw_ops.thread_heap != NULL) {
        heap->resident = 0;
        for (unsigned s = 0; s < HSW_SLOT_COUNT; s++) {
            heaps_live += __atomic_load_n(&slots[s].thread_heap_live, __ATOMIC_RELAXED);
            heap->resident += __atomic_load_n(&slots[s].thread_heap_resident, __ATOMIC_RELAXED);
        }
    }
    if (header->figures & (HSW_USABLE_EXACT | HSW_USABLE_FROM_BOOKS)) {
        hsw_segment_totals(&total);
        *live = total.bytes_allocated > total.bytes_freed
                    ? total.bytes_allocated - total.bytes_freed
                    : 0;
        return true;
    }
    if (header->figures & HSW_LIVE_FROM_THREAD_HEAPS) {
        *live = heaps_live;
        return true;
    }
    *live = heap->live;
    if (hsw_ops.live_block_header != 0) {
        /* Each block in use carries a header the backend counts as live. */
        uint64_t blocks = live_blocks();
        uint64_t headers = blocks * hsw_ops.live_block_header;
        *live = *live > headers ? *live - headers : 0;
    }
    return heap->has_live != 0;
}

/* The contract: a heap's resident bytes are never above the process's
 * RSS. A count of pages in RAM (mimalloc's, by mincore) includes pages
 * the allocator gave back lazily (MADV_FREE), which the kernel no longer
 * counts in the RSS; such a figure is capped, and marked approximate. */
static void cap_at_rss(struct hsw_backend_heap *heap)
{
    uint64_t rss = hsw_proc_rss_bytes(0); /* this process, whatever /proc's namespace */

    if (rss != 0 && heap->resident > rss) {
        heap->resident = rss;
        heap->approximate = 1;
    }
}

void hsw_segment_refresh(void)
{
    struct hsw_segment_header *header = hsw_segment;
    struct hsw_backend_heap heap;
    uint64_t live = 0;
    bool valid, live_valid;

    memset(&heap, 0, sizeof heap);
    valid = segment_backend->heap_figures != NULL && segment_backend->heap_figures(&heap) == 0;
    live_valid = live_now(header, &heap, &live);
    cap_at_rss(&heap);

    /* Sequence lock: odd while the figures change. */
    __atomic_store_n(&header->heap.seq, header->heap.seq + 1, __ATOMIC_RELAXED);
    __atomic_thread_fence(__ATOMIC_RELEASE);
    header->heap.refreshed_ns = clock_ns(CLOCK_MONOTONIC);
    header->heap.resident = heap.resident;
    header->heap.active = heap.active;
    header->heap.mapped = heap.mapped;
    header->heap.retained = heap.retained;
    header->heap.committed = heap.committed;
    header->heap.reserved_bytes = heap.reserved;
    header->heap.approximate = (uint32_t)heap.approximate;
    header->heap.live = live;
    header->heap.live_valid = live_valid;
    header->heap.present = heap.present;
    header->heap.valid = valid;
    __atomic_store_n(&header->heap.seq, header->heap.seq + 1, __ATOMIC_RELEASE);

    if (live_valid && live > header->peak_live_bytes)
        __atomic_store_n(&header->peak_live_bytes, live, __ATOMIC_RELAXED);
    __atomic_store_n(&header->heartbeat_ns, header->heap.refreshed_ns, __ATOMIC_RELEASE);
    hsw_latency_calibrate();
}

void hsw_segment_finish(bool refresh_heap)
{
    struct hsw_segment_header *header = hsw_segment;

    /* A vfork child shares our memory but is not us: leave it alone. */
    if (header == NULL || getpid() != segment_pid ||
        __atomic_load_n(&header->state, __ATOMIC_ACQUIRE) == HSW_STATE_EXITED)
        return;
    if (refresh_heap) {
        hsw_counters_flush_thread();
        hsw_segment_refresh();
    }
    hsw_latency_calibrate();
    header->exited_unix_ns = clock_ns(CLOCK_REALTIME);
    __atomic_store_n(&header->state, HSW_STATE_EXITED, __ATOMIC_RELEASE);
    if (report_path[0] != '\0')
        hsw_report_write(report_path);
    if (!keep_segment)
        unlink_segment();
}

/* At exit: final heap figures, the report, state EXITED, and the name
 * removed unless HEAPSWITCH_KEEP=1. The mapping and the lock stay until
 * the process ends, since later destructors may still allocate. */
__attribute__((destructor)) static void segment_at_exit(void)
{
    hsw_segment_finish(true);
}
