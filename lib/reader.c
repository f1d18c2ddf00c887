/* The segment reader: finds, validates and copies the segments that
 * processes running under libheapswitch publish.
 *
 * Nothing in a segment is trusted. A segment is opened without following
 * symlinks, must be a regular file owned by the user it is named after
 * (and by the reader, unless the reader is root), private (mode 0600), of
 * a plausible size; it is copied with pread(), never mapped, so a writer
 * that truncates it cannot fault the reader; then every field is checked
 * against the layout before use. The heap figures are read under their
 * sequence lock. A process is dead when nobody holds the segment's lock
 * and its pid is gone or was reused (start time differs).
 *
 * A segment's process is found as this reader sees it from the holder of
 * the segment's lock in /proc/locks (lib/lock_holders.h), not from the
 * pid the segment records: that pid is only the process's pid in its own
 * pid namespace. A segment from another pid namespace whose holder this
 * reader cannot see is refused as unresolved (docs/containers.md).
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "include/heapswitch.h"
#include "lib/export.h"
#include "lib/figures.h"
#include "lib/labels.h"
#include "lib/lock_holders.h"
#include "lib/procinfo.h"
#include "lib/sections.h"
#include "lib/reader_latency.h"
#include "lib/segment_layout.h"
#include "lib/segment_place.h"
#include "lib/reader_io.h"

static char chosen_directory[HSW_SEGMENT_DIR_MAX];
#define SEQLOCK_TRIES 16

_Static_assert(HEAPSWITCH_SIZE_CLASSES == HSW_SIZE_CLASSES, "one size-class count");


static double monotonic_seconds(void)
{
    struct timespec now;

    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)now.tv_sec + (double)now.tv_nsec / 1e9;
}

/* Copies a fixed-size text field, which must hold a NUL. */
static bool copy_field(char *out, size_t out_size, const char *field, size_t field_size)
{
    size_t length = strnlen(field, field_size);

    if (length == field_size || length >= out_size)
        return false;
    for (size_t i = 0; i < length; i++)
        out[i] = (char)((unsigned char)field[i] < 0x20 ? '?' : field[i]);
    out[length] = '\0';
    return true;
}

static void sum_slots(const unsigned char *slots, uint32_t slot_count, uint32_t slot_size,
                      struct heapswitch_snapshot *out)
{
    struct heapswitch_counters *total = &out->counters;

    for (uint32_t s = 0; s < slot_count; s++) {
        struct hsw_slot slot;

        memcpy(&slot, slots + (size_t)s * slot_size, sizeof slot);
        total->malloc_calls += hsw_call_count(slot.calls[HSW_CALL_MALLOC]);
        total->calloc_calls += hsw_call_count(slot.calls[HSW_CALL_CALLOC]);
        total->realloc_calls += hsw_call_count(slot.calls[HSW_CALL_REALLOC]);
        total->free_calls += hsw_call_count(slot.calls[HSW_CALL_FREE]);
        total->aligned_calls += hsw_call_count(slot.calls[HSW_CALL_ALIGNED]);
        total->failures += slot.failures;
        total->bytes_requested += slot.bytes_requested;
        total->bytes_allocated += slot.bytes_allocated;
        total->bytes_freed += slot.bytes_freed;
        total->requests += slot.requests;
        for (unsigned c = 0; c < HSW_SIZE_CLASSES; c++)
            total->size_classes[c] += slot.size_classes[c];
        if (slot.owner_tid != 0 && s + 1 < slot_count)
            out->threads++;
    }
}

/* Live bytes, fragmentation and which figures are estimates. */
static void decode_figures(const struct hsw_segment_header *header,
                           struct heapswitch_snapshot *out)
{
    struct hsw_live_figures figures;

    hsw_figures_decode(header, out->counters.bytes_allocated, out->counters.bytes_freed,
                       &figures);
    out->stats_level = figures.stats_level == HSW_STATS_DEFAULT ? HEAPSWITCH_STATS_DEFAULT
                                                                 : HEAPSWITCH_STATS_EXACT;
    out->estimated = (figures.usable_exact ? 0 : HEAPSWITCH_ESTIMATED_LIVE) |
                     (figures.usable_counted ? 0 : HEAPSWITCH_UNCOUNTED_USABLE) |
                     (figures.live_known ? 0 : HEAPSWITCH_UNKNOWN_LIVE) |
                     (figures.usable_exact ? 0 : HEAPSWITCH_ESTIMATED_SIZE_CLASSES);
    out->live_bytes = figures.live;
    if (out->live_bytes > out->peak_live_bytes)
        out->peak_live_bytes = out->live_bytes;
    out->fragmentation = figures.fragmentation;
    out->heap_overhead_bytes = figures.overhead;
}

/* The file's recorded size: the core alone before minor 2, and where a
 * writer recorded none (0). */
static uint64_t header_file_size(const struct hsw_segment_header *header)
{
    return header->layout_minor < 2 || header->file_size == 0 ? header->segment_size
                                                              : header->file_size;
}

/* Minor 2: the file holds the core and the sections, each of which lies
 * past the core and inside the file. */
static bool sections_fit(const struct hsw_segment_header *header)
{
    uint64_t file_size = header_file_size(header);

    if (file_size < header->segment_size || file_size > HSW_SEGMENT_FILE_MAX_SIZE)
        return false;
    for (unsigned entry = 0; entry < HSW_SECTION_COUNT; entry++) {
        const struct hsw_section *section = &header->sections[entry];

        if (section->kind == HSW_SECTION_UNUSED)
            continue;
        if (section->offset < header->segment_size || section->offset > file_size ||
            section->size > file_size - section->offset)
            return false;
    }
    return true;
}

HSW_EXPORT int heapswitch_parse(const void *image, size_t size, uid_t owner,
                                struct heapswitch_snapshot *out, char *why,
                                size_t why_size)
{
    struct hsw_segment_header header;
    uint64_t needed;

    memset(out, 0, sizeof *out);
    out->cpu_seconds = -1;
    out->heap_overhead_bytes = -1;
    out->stats_level = HEAPSWITCH_STATS_EXACT;
    if (image == NULL || size < HSW_SEGMENT_HEADER_MIN_SIZE)
        return hsw_refuse(why, why_size, "too small for a segment (%zu bytes)", size);
    if (size > HSW_SEGMENT_MAX_SIZE)
        return hsw_refuse(why, why_size, "too large for a segment (%zu bytes)", size);
    /* An older writer's header is smaller: the fields it lacks read as 0. */
    memset(&header, 0, sizeof header);
    memcpy(&header, image, HSW_SEGMENT_HEADER_MIN_SIZE);
    if (header.magic != HSW_SEGMENT_MAGIC)
        return hsw_refuse(why, why_size, "not a heapswitch segment (bad magic)");
    if (header.layout_major != HSW_SEGMENT_LAYOUT_MAJOR)
        return hsw_refuse(why, why_size, "segment layout %u.%u, this reader reads %u.x",
                      header.layout_major, header.layout_minor, HSW_SEGMENT_LAYOUT_MAJOR);
    if (header.header_size < HSW_SEGMENT_HEADER_MIN_SIZE || header.header_size > size ||
        header.header_size % 64 != 0)
        return hsw_refuse(why, why_size, "bad header size %u", header.header_size);
    memcpy(&header, image,
           header.header_size < sizeof header ? header.header_size : sizeof header);
    /* Minor-3 fields exist only in a minor-3 header that holds them whole. */
    if (header.layout_minor < 3 ||
        header.header_size < offsetof(struct hsw_segment_header, labels) + sizeof header.labels) {
        header.pid_namespace = 0;
        memset(header.labels, 0, sizeof header.labels);
    }
    if (header.slot_size < sizeof(struct hsw_slot) || header.slot_size % 64 != 0 ||
        header.slot_size > HSW_SEGMENT_MAX_SIZE)
        return hsw_refuse(why, why_size, "bad slot size %u", header.slot_size);
    if (header.slot_count < 1 || header.slot_count > HSW_SEGMENT_MAX_SIZE / 64)
        return hsw_refuse(why, why_size, "bad slot count %u", header.slot_count);
    if (header.size_classes != HSW_SIZE_CLASSES)
        return hsw_refuse(why, why_size, "bad size-class count %u", header.size_classes);
    needed = (uint64_t)header.header_size + (uint64_t)header.slot_count * header.slot_size;
    if (needed > size || header.segment_size != size)
        return hsw_refuse(why, why_size, "size %zu does not match its layout (%llu needed, %llu recorded)",
                      size, (unsigned long long)needed,
                      (unsigned long long)header.segment_size);
    if (header.state != HSW_STATE_RUNNING && header.state != HSW_STATE_EXITED)
        return hsw_refuse(why, why_size, header.state == HSW_STATE_STARTING
                                         ? "still being created"
                                         : "bad state %u", header.state);
    if (header.pid <= 0)
        return hsw_refuse(why, why_size, "bad pid %d", header.pid);
    if (header.uid != owner)
        return hsw_refuse(why, why_size, "claims uid %u but is owned by uid %u", header.uid,
                      (unsigned)owner);
    if (!copy_field(out->backend, sizeof out->backend, header.backend, sizeof header.backend) ||
        !copy_field(out->tag, sizeof out->tag, header.tag, sizeof header.tag) ||
        !copy_field(out->exe, sizeof out->exe, header.exe, sizeof header.exe) ||
        !copy_field(out->cmdline, sizeof out->cmdline, header.cmdline, sizeof header.cmdline))
        return hsw_refuse(why, why_size, "a text field is not terminated");
    if (header.heap.seq % 2 != 0)
        return hsw_refuse(why, why_size, "heap figures in the middle of an update");
    if (memchr(header.labels, '\0', sizeof header.labels) == NULL)
        return hsw_refuse(why, why_size, "the labels field is not terminated");
    {
        /* Checked as written, not as copied: the copy replaces control bytes. */
        size_t culprit_at, culprit_length;
        const char *problem = hsw_labels_check(header.labels, &culprit_at, &culprit_length);
        if (problem != NULL)
            return hsw_refuse(why, why_size, "bad labels: %s", problem);
    }
    copy_field(out->labels, sizeof out->labels, header.labels, sizeof header.labels);
    if (!sections_fit(&header))
        return hsw_refuse(why, why_size, "a section lies outside the file (file size %llu)",
                      (unsigned long long)header_file_size(&header));

    out->pid = header.pid; /* until the reader finds the process as it sees it */
    out->namespace_pid = header.pid;
    out->pid_namespace = header.pid_namespace;
    out->uid = header.uid;
    out->state = header.state == HSW_STATE_EXITED ? HEAPSWITCH_PROCESS_EXITED
                                                   : HEAPSWITCH_PROCESS_RUNNING;
    out->start_time = header.start_time;
    out->taken = monotonic_seconds();
    out->created = (double)header.created_unix_ns / 1e9;
    out->exited = (double)header.exited_unix_ns / 1e9;
    out->overflow_threads = header.overflow_threads;
    out->peak_live_bytes = header.peak_live_bytes;
    sum_slots((const unsigned char *)image + header.header_size, header.slot_count,
              header.slot_size, out);
    out->heap.valid = header.heap.valid != 0;
    out->heap.approximate = header.heap.approximate != 0;
    out->heap.resident = header.heap.resident;
    out->heap.active = header.heap.active;
    out->heap.mapped = header.heap.mapped;
    out->heap.retained = header.heap.retained;
    out->heap.committed = header.heap.committed;
    out->heap.reserved = header.heap.reserved_bytes;
    /* A minor-0 writer published no such bits: all but reserved then. */
    out->heap.present = header.layout_minor >= 1
                            ? header.heap.present
                            : HEAPSWITCH_HEAP_RESIDENT | HEAPSWITCH_HEAP_ACTIVE |
                                  HEAPSWITCH_HEAP_MAPPED | HEAPSWITCH_HEAP_RETAINED |
                                  HEAPSWITCH_HEAP_COMMITTED;
    out->heap.age_seconds =
        header.heap.refreshed_ns != 0 ? out->taken - (double)header.heap.refreshed_ns / 1e9 : -1;
    decode_figures(&header, out);
    return 0;
}

static bool lock_is_free(int fd)
{
    if (flock(fd, LOCK_SH | LOCK_NB) != 0)
        return false;
    flock(fd, LOCK_UN);
    return true;
}

/* A writer of this pid namespace is gone when nobody holds the lock and
 * its pid is gone or now belongs to another process. */
static bool writer_is_gone(int fd, const struct heapswitch_snapshot *snapshot)
{
    uint64_t start_time;

    if (!lock_is_free(fd))
        return false;
    if (hsw_proc_start_time(snapshot->pid, &start_time) != 0)
        return true;
    return snapshot->start_time != 0 && start_time != snapshot->start_time;
}

/* Whether the segment's process runs in a pid namespace other than the
 * reader's. A segment that records none (an older writer) is the
 * reader's own, as before. */
/* The reader's own pid namespace, looked up once per scan or read. */
static __thread uint64_t own_namespace;

static bool from_other_namespace(const struct heapswitch_snapshot *snapshot)
{
    return snapshot->pid_namespace != 0 && own_namespace != 0 &&
           snapshot->pid_namespace != own_namespace;
}

/* A running segment's process as this reader sees it, from the holder of
 * its lock (from `holders`, or looked up when NULL): sets out->pid, or
 * marks it dead; -1 when it cannot be trusted or found. */
static int find_process(int fd, const struct stat *info, const struct hsw_lock_holders *holders,
                        struct heapswitch_snapshot *out, char *why, size_t why_size)
{
    bool other = from_other_namespace(out);
    pid_t holder = holders != NULL ? hsw_lock_holder_of(holders, info->st_dev, info->st_ino)
                                   : hsw_lock_holder_find(info->st_dev, info->st_ino);
    uint64_t start_time;

    if (holder < 0)
        holder = 0; /* /proc/locks unreadable: nothing known */
    if (holder == 0 && (other ? lock_is_free(fd) : writer_is_gone(fd, out))) {
        out->state = HEAPSWITCH_PROCESS_DEAD;
        return 0;
    }
    if (!other) {
        if (holder != 0 && holder != out->namespace_pid)
            return hsw_refuse(why, why_size, "records pid %d but its lock is held by pid %d",
                          out->namespace_pid, holder);
        return 0; /* without /proc/locks, as before: the recorded pid */
    }
    if (holder == 0)
        return hsw_refuse(why, why_size,
                      "unresolved: pid %d of pid namespace %llu, whose lock holder this "
                      "reader's /proc cannot see (read from the host or the same namespace)",
                      out->namespace_pid, (unsigned long long)out->pid_namespace);
    if (hsw_pid_namespace_of(holder) != out->pid_namespace)
        return hsw_refuse(why, why_size,
                      "records pid namespace %llu but its lock is held by pid %d, which is "
                      "not in it",
                      (unsigned long long)out->pid_namespace, holder);
    if (out->start_time != 0 &&
        (hsw_proc_start_time(holder, &start_time) != 0 || start_time != out->start_time))
        return hsw_refuse(why, why_size,
                      "records start time %llu but its lock holder, pid %d, started at "
                      "another time",
                      (unsigned long long)out->start_time, holder);
    out->pid = holder;
    return 0;
}

static ssize_t read_image(int fd, unsigned char *image, size_t size)
{
    size_t done = 0;

    while (done < size) {
        ssize_t got = pread(fd, image + done, size - done, (off_t)done);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            break;
        done += (size_t)got;
    }
    return (ssize_t)done;
}

/* Opens, checks and copies one segment by name (relative to /dev/shm).
 * With keep_fd, a section reader gets the open file and its header too. */
static int read_segment(int directory, const char *name, bool remove_dead,
                        const struct hsw_lock_holders *holders,
                        struct heapswitch_snapshot *out, char *why, size_t why_size,
                        int *keep_fd, struct hsw_segment_header *keep_header)
{
    unsigned char image[HSW_SEGMENT_MAX_SIZE]; /* on the stack: no allocation, thread-safe */
    struct hsw_segment_header header;
    uint64_t core_size, file_size;
    struct stat info;
    uid_t named_uid;
    pid_t named_pid;
    uint64_t named_namespace;
    int fd, result = -1;

    if (!hsw_segment_parse_name(name, &named_uid, &named_pid, &named_namespace))
        return hsw_refuse(why, why_size, "not a segment name");
    fd = openat(directory, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return hsw_refuse(why, why_size, errno == ELOOP ? "is a symbolic link" : "cannot open: %s",
                      strerror(errno));
    if (fstat(fd, &info) != 0) {
        hsw_refuse(why, why_size, "cannot stat: %s", strerror(errno));
        goto done;
    }
    if (!S_ISREG(info.st_mode)) {
        hsw_refuse(why, why_size, "not a regular file");
        goto done;
    }
    if (info.st_uid != named_uid) {
        hsw_refuse(why, why_size, "owned by uid %u, named for uid %u", (unsigned)info.st_uid,
               (unsigned)named_uid);
        goto done;
    }
    if (getuid() != 0 && info.st_uid != getuid()) {
        hsw_refuse(why, why_size, "belongs to another user (uid %u)", (unsigned)info.st_uid);
        goto done;
    }
    if ((info.st_mode & 077) != 0) {
        hsw_refuse(why, why_size, "readable by others (mode %03o): not a private segment",
               (unsigned)(info.st_mode & 0777));
        goto done;
    }
    if (info.st_size < (off_t)HSW_SEGMENT_HEADER_MIN_SIZE ||
        info.st_size > HSW_SEGMENT_FILE_MAX_SIZE) {
        hsw_refuse(why, why_size, "implausible size %lld", (long long)info.st_size);
        goto done;
    }
    /* The core (header and slots) is read here; sections, by whoever reads them. */
    if (pread(fd, &core_size, sizeof core_size,
              (off_t)offsetof(struct hsw_segment_header, segment_size)) != sizeof core_size ||
        core_size < HSW_SEGMENT_HEADER_MIN_SIZE || core_size > HSW_SEGMENT_MAX_SIZE ||
        core_size > (uint64_t)info.st_size) {
        hsw_refuse(why, why_size, "implausible core size %llu in a file of %lld bytes",
               (unsigned long long)core_size, (long long)info.st_size);
        goto done;
    }
    for (int attempt = 0;; attempt++) {
        size_t size = (size_t)core_size;
        uint64_t seq_before, seq_after;

        if (read_image(fd, image, size) != (ssize_t)size) {
            hsw_refuse(why, why_size, "shorter than its size (truncated while read)");
            goto done;
        }
        memcpy(&seq_before, image + offsetof(struct hsw_segment_header, heap.seq),
               sizeof seq_before);
        if (pread(fd, &seq_after, sizeof seq_after,
                  (off_t)offsetof(struct hsw_segment_header, heap.seq)) != sizeof seq_after)
            seq_after = seq_before + 1;
        if (seq_before == seq_after && seq_before % 2 == 0)
            break;
        if (attempt == SEQLOCK_TRIES) {
            hsw_refuse(why, why_size, "heap figures kept changing while read");
            goto done;
        }
    }
    if (heapswitch_parse(image, (size_t)core_size, info.st_uid, out, why, why_size) != 0)
        goto done;
    memset(&header, 0, sizeof header);
    memcpy(&header, image, HSW_SEGMENT_HEADER_MIN_SIZE); /* the fields used here */
    file_size = header_file_size(&header);
    if (file_size != (uint64_t)info.st_size) {
        hsw_refuse(why, why_size, "is %lld bytes but records %llu", (long long)info.st_size,
               (unsigned long long)file_size);
        goto done;
    }
    if (hsw_read_latency(fd, &header, &out->latency, why, why_size) != 0)
        goto done;
    if (out->pid != named_pid) {
        hsw_refuse(why, why_size, "records pid %d but is named for pid %d", out->pid, named_pid);
        goto done;
    }
    if (named_namespace != 0 ? out->pid_namespace != named_namespace
                             : out->pid_namespace != 0 &&
                                   out->pid_namespace != HSW_INITIAL_PID_NAMESPACE) {
        hsw_refuse(why, why_size, "records pid namespace %llu but is named for %llu",
               (unsigned long long)out->pid_namespace,
               (unsigned long long)(named_namespace != 0 ? named_namespace
                                                         : HSW_INITIAL_PID_NAMESPACE));
        goto done;
    }
    if (out->state == HEAPSWITCH_PROCESS_RUNNING &&
        find_process(fd, &info, holders, out, why, why_size) != 0)
        goto done;
    if (out->state == HEAPSWITCH_PROCESS_DEAD && remove_dead)
        unlinkat(directory, name, 0);
    if (out->state != HEAPSWITCH_PROCESS_RUNNING && from_other_namespace(out)) {
        /* Its pid here is unknown once it is gone: never shown under another's. */
        hsw_refuse(why, why_size, "%s: pid %d of pid namespace %llu%s",
               out->state == HEAPSWITCH_PROCESS_DEAD ? "killed" : "exited", out->namespace_pid,
               (unsigned long long)out->pid_namespace,
               out->state == HEAPSWITCH_PROCESS_DEAD && remove_dead ? " (removed)" : "");
        goto done;
    }
    if (out->state == HEAPSWITCH_PROCESS_RUNNING) {
        out->rss_bytes = hsw_proc_rss_bytes(out->pid);
        out->cpu_seconds = hsw_proc_cpu_seconds(out->pid);
    }
    result = 0;
    if (keep_fd != NULL) {
        *keep_fd = fd;
        *keep_header = header;
        return result;
    }
done:
    close(fd);
    return result;
}

HSW_EXPORT const char *heapswitch_directory(void)
{
    const char *from_environment = getenv("HEAPSWITCH_DIR");

    if (chosen_directory[0] != '\0')
        return chosen_directory;
    if (from_environment != NULL && from_environment[0] != '\0')
        return from_environment;
    return HSW_DEFAULT_SEGMENT_DIR;
}

/* Opens and checks a segment directory; -1 with a reason. */
static int open_directory(const char *path, char *why, size_t why_size)
{
    const char *problem = hsw_segment_dir_path_problem(path);
    struct stat info;
    int directory;

    if (problem != NULL)
        return hsw_refuse(why, why_size, "segment directory '%s' %s", path, problem);
    directory = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (directory < 0) {
        int error = errno;
        if ((error == ENOTDIR || error == ELOOP) && lstat(path, &info) == 0)
            return hsw_refuse(why, why_size, "the segment directory %s %s", path,
                          S_ISLNK(info.st_mode) ? "is a symbolic link (name its target)"
                                                : "is not a directory");
        return hsw_refuse(why, why_size, "cannot open the segment directory %s: %s", path,
                      strerror(error));
    }
    problem = fstat(directory, &info) != 0 ? "cannot be examined"
                                           : hsw_segment_dir_problem(&info, getuid());
    if (problem != NULL) {
        close(directory);
        return hsw_refuse(why, why_size, "the segment directory %s %s", path, problem);
    }
    return directory;
}

HSW_EXPORT int heapswitch_set_directory(const char *path, char *why, size_t why_size)
{
    int directory;

    if (path == NULL || path[0] == '\0')
        return hsw_refuse(why, why_size, "the segment directory is empty");
    directory = open_directory(path, why, why_size);
    if (directory < 0)
        return -1;
    close(directory);
    snprintf(chosen_directory, sizeof chosen_directory, "%s", path);
    return 0;
}

HSW_EXPORT int heapswitch_check_directory(char *why, size_t why_size)
{
    int directory = open_directory(heapswitch_directory(), why, why_size);

    if (directory < 0)
        return -1;
    close(directory);
    return 0;
}

HSW_EXPORT size_t heapswitch_label_next(const char *labels, size_t at, char *key,
                                        size_t key_size, char *value, size_t value_size)
{
    size_t pair = strcspn(labels + at, ","), name = strcspn(labels + at, "=");

    if (labels[at] == '\0' || key_size == 0 || value_size == 0)
        return 0;
    if (name > pair)
        name = pair;
    snprintf(key, key_size, "%.*s", (int)name, labels + at);
    snprintf(value, value_size, "%.*s", name < pair ? (int)(pair - name - 1) : 0,
             labels + at + (name < pair ? name + 1 : name));
    return labels[at + pair] == ',' ? at + pair + 1 : at + pair;
}

/* The segment of a process of another pid namespace that this reader
 * sees as pid: found by reading every namespaced name. */
static int find_namespaced(int directory, pid_t pid, struct heapswitch_snapshot *out,
                           int *keep_fd, struct hsw_segment_header *keep_header)
{
    DIR *listing;
    struct dirent *entry;
    int found = -1, copy = dup(directory);

    if (copy < 0 || (listing = fdopendir(copy)) == NULL) {
        if (copy >= 0)
            close(copy);
        return -1;
    }
    while (found != 0 && (entry = readdir(listing)) != NULL) {
        uid_t uid;
        pid_t named_pid;
        uint64_t namespace;
        char why[256];

        if (hsw_segment_parse_name(entry->d_name, &uid, &named_pid, &namespace) &&
            namespace != 0 && (getuid() == 0 || uid == getuid()) &&
            read_segment(directory, entry->d_name, false, NULL, out, why, sizeof why, keep_fd,
                         keep_header) == 0) {
            if (out->pid == pid)
                found = 0;
            else if (keep_fd != NULL)
                close(*keep_fd); /* another process's: not the one asked for */
        }
    }
    closedir(listing);
    return found;
}

int hsw_read_pid_segment(pid_t pid, struct heapswitch_snapshot *out, char *why,
                         size_t why_size, int *keep_fd, struct hsw_segment_header *keep_header)
{
    char name[HSW_SEGMENT_NAME_MAX];
    int directory, result;

    if (pid <= 0)
        return hsw_refuse(why, why_size, "bad pid %d", (int)pid);
    hsw_segment_format_name(name, getuid(), pid, 0);
    directory = open_directory(heapswitch_directory(), why, why_size);
    if (directory < 0)
        return -1;
    /* No allocation on this path: a process may read its own segment. */
    own_namespace = hsw_pid_namespace_self();
    if (faccessat(directory, name, F_OK, AT_SYMLINK_NOFOLLOW) == 0)
        result = read_segment(directory, name, false, NULL, out, why, why_size, keep_fd,
                              keep_header);
    else if (find_namespaced(directory, pid, out, keep_fd, keep_header) == 0)
        result = 0;
    else
        result = hsw_refuse(why, why_size, "process %d publishes no segment (not running under "
                                       "libheapswitch, or with HEAPSWITCH_STATS=0)",
                        (int)pid);
    close(directory);
    return result;
}

HSW_EXPORT int heapswitch_read_pid(pid_t pid, struct heapswitch_snapshot *out, char *why,
                                   size_t why_size)
{
    return hsw_read_pid_segment(pid, out, why, why_size, NULL, NULL);
}

HSW_EXPORT int heapswitch_scan(unsigned flags, heapswitch_snapshot_fn visit,
                               heapswitch_problem_fn problem, void *context)
{
    int descriptor = open_directory(heapswitch_directory(), NULL, 0);
    DIR *directory = descriptor >= 0 ? fdopendir(descriptor) : NULL;
    struct hsw_lock_holders holders;
    struct dirent *entry;
    int visited = 0;

    if (directory == NULL) {
        if (descriptor >= 0)
            close(descriptor);
        return -1;
    }
    hsw_lock_holders_load(&holders); /* once for all: /proc/locks costs the kernel */
    own_namespace = hsw_pid_namespace_self();
    while ((entry = readdir(directory)) != NULL) {
        struct heapswitch_snapshot snapshot;
        char why[256];
        uid_t uid;
        pid_t pid;
        uint64_t namespace;

        if (!hsw_segment_parse_name(entry->d_name, &uid, &pid, &namespace))
            continue;
        if (getuid() != 0 && uid != getuid())
            continue; /* another user's, by its name: not ours to read */
        if (read_segment(dirfd(directory), entry->d_name,
                         (flags & HEAPSWITCH_SCAN_REMOVE_DEAD) != 0, &holders, &snapshot, why,
                         sizeof why, NULL, NULL) != 0) {
            if (problem != NULL)
                problem(entry->d_name, why, context);
            continue;
        }
        visited++;
        if (visit != NULL)
            visit(&snapshot, context);
    }
    hsw_lock_holders_free(&holders);
    closedir(directory);
    return visited;
}

HSW_EXPORT int heapswitch_rates(const struct heapswitch_snapshot *earlier,
                                const struct heapswitch_snapshot *later,
                                struct heapswitch_rates *out)
{
    const struct heapswitch_counters *a = &earlier->counters, *b = &later->counters;
    double seconds = later->taken - earlier->taken;
    uint64_t allocs, requests;

    memset(out, 0, sizeof *out);
    out->allocs_per_request = out->bytes_per_request = -1;
    if (earlier->pid != later->pid || earlier->start_time != later->start_time ||
        !(seconds > 0))
        return -1;
#define DELTA(field) (b->field >= a->field ? b->field - a->field : 0)
    allocs = DELTA(malloc_calls) + DELTA(calloc_calls) + DELTA(realloc_calls) +
             DELTA(aligned_calls);
    requests = DELTA(requests);
    out->seconds = seconds;
    out->allocs_per_second = (double)allocs / seconds;
    out->frees_per_second = (double)DELTA(free_calls) / seconds;
    /* Usable bytes where they are counted, requested bytes otherwise. */
    out->bytes_per_second = (later->estimated & HEAPSWITCH_UNCOUNTED_USABLE)
                                ? (double)DELTA(bytes_requested) / seconds
                                : (double)DELTA(bytes_allocated) / seconds;
    out->requests_per_second = (double)requests / seconds;
    if (requests > 0) {
        out->allocs_per_request = (double)allocs / (double)requests;
        out->bytes_per_request = (double)DELTA(bytes_allocated) / (double)requests;
    }
#undef DELTA
    return 0;
}
