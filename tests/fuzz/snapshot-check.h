/* What a sane result of heapswitch_parse() and heapswitch_rates() is, for
 * the fuzzer (segment.c) and the mutation test (mutate.c) alike: the
 * properties any accepted image must give, whatever its bytes, checked
 * against an independent reading of the image. And functions that read
 * every output field, so that ASan/UBSan see any bad value behind them.
 * Header-only (static inline): each program compiles it with its flags. */
#ifndef HSW_FUZZ_SNAPSHOT_CHECK_H
#define HSW_FUZZ_SNAPSHOT_CHECK_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/types.h>

#include "include/heapswitch.h"
#include "lib/segment_layout.h"

/* A text field of the snapshot: NUL-terminated within its array, with no
 * control character before the NUL (the reader replaces them). */
static inline int check_text_is_sane(const char *text, size_t size)
{
    const char *end = memchr(text, '\0', size);

    if (end == NULL)
        return 0;
    for (const char *at = text; at < end; at++)
        if ((unsigned char)*at < 0x20)
            return 0;
    return 1;
}

/* The refusal reason of heapswitch_parse(): non-empty, NUL-terminated
 * within why_size. */
static inline int check_why_is_sane(const char *why, size_t why_size)
{
    if (why_size == 0)
        return 1;
    if (memchr(why, '\0', why_size) == NULL)
        return 0;
    return why_size == 1 || why[0] != '\0';
}

/* NULL when `s`, which heapswitch_parse(image, size, owner, s, ...) gave
 * with success, is sane; otherwise what is wrong with it. */
static inline const char *check_snapshot(const struct heapswitch_snapshot *s,
                                         const void *image, size_t size, uid_t owner)
{
    struct hsw_segment_header header;
    struct heapswitch_counters sums;
    unsigned threads = 0;

    if (size < HSW_SEGMENT_HEADER_MIN_SIZE || size > HSW_SEGMENT_MAX_SIZE)
        return "accepted an image of an impossible size";
    /* A minor-2 header is smaller: the fields past it read as zeros. */
    memset(&header, 0, sizeof header);
    memcpy(&header, image, HSW_SEGMENT_HEADER_MIN_SIZE);
    memcpy(&header, image,
           header.header_size < sizeof header && header.header_size <= size ? header.header_size
                                                                           : sizeof header);
    if (header.layout_minor < 3 ||
        header.header_size < offsetof(struct hsw_segment_header, labels) + sizeof header.labels) {
        header.pid_namespace = 0;
        memset(header.labels, 0, sizeof header.labels);
    }
    if (header.magic != HSW_SEGMENT_MAGIC ||
        header.layout_major != HSW_SEGMENT_LAYOUT_MAJOR)
        return "accepted a bad magic or layout";
    if (header.segment_size != size || header.size_classes != HSW_SIZE_CLASSES)
        return "accepted a size or size-class count that does not match";
    if (header.slot_size < sizeof(struct hsw_slot) ||
        header.header_size < HSW_SEGMENT_HEADER_MIN_SIZE || header.slot_count < 1 ||
        (uint64_t)header.header_size + (uint64_t)header.slot_count * header.slot_size >
            size)
        return "accepted a layout that does not fit";
    if (header.pid <= 0 || s->pid != header.pid)
        return "bad pid";
    if (header.uid != owner || s->uid != owner)
        return "bad uid";
    if (!(header.state == HSW_STATE_RUNNING && s->state == HEAPSWITCH_PROCESS_RUNNING) &&
        !(header.state == HSW_STATE_EXITED && s->state == HEAPSWITCH_PROCESS_EXITED))
        return "bad state";
    if (header.heap.seq % 2 != 0)
        return "accepted heap figures in the middle of an update";
    if (!check_text_is_sane(s->backend, sizeof s->backend) ||
        !check_text_is_sane(s->tag, sizeof s->tag) ||
        !check_text_is_sane(s->exe, sizeof s->exe) ||
        !check_text_is_sane(s->cmdline, sizeof s->cmdline) ||
        !check_text_is_sane(s->labels, sizeof s->labels))
        return "a text field is unterminated or holds control characters";
    if (strcmp(s->labels, header.labels) != 0 || strchr(s->labels, ' ') != NULL ||
        (s->labels[0] != '\0' && strchr(s->labels, '=') == NULL))
        return "labels differ from the image or break the label rules";
    if (s->pid_namespace != header.pid_namespace || s->namespace_pid != header.pid)
        return "pid namespace differs from the image";
    if (memchr(header.backend, '\0', sizeof header.backend) == NULL ||
        memchr(header.tag, '\0', sizeof header.tag) == NULL ||
        memchr(header.exe, '\0', sizeof header.exe) == NULL ||
        memchr(header.cmdline, '\0', sizeof header.cmdline) == NULL)
        return "accepted an unterminated text field";
    if (s->start_time != header.start_time ||
        s->overflow_threads != header.overflow_threads)
        return "start time or overflow threads differ from the image";
    if (!(s->fragmentation == -1 || (s->fragmentation >= 0 && s->fragmentation <= 1)))
        return "fragmentation outside [0,1] and not -1";
    if (s->fragmentation != -1 && !(header.heap.valid != 0 && header.heap.resident > 0))
        return "fragmentation known without valid heap figures";
    if ((s->fragmentation != -1) != (s->heap_overhead_bytes != -1))
        return "fragmentation known without the bytes held beyond the live ones, or the reverse";
    if (s->heap_overhead_bytes > 0 && (uint64_t)s->heap_overhead_bytes > header.heap.resident)
        return "more bytes held beyond the live ones than resident";
    if (s->heap.valid != (header.heap.valid != 0) ||
        s->heap.approximate != (header.heap.approximate != 0) ||
        s->heap.resident != header.heap.resident)
        return "heap figures differ from the image";
    if (s->rss_bytes != 0)
        return "rss from a parse";
    if (!isfinite(s->taken) || !isfinite(s->created) || !isfinite(s->exited) ||
        !isfinite(s->heap.age_seconds))
        return "a time is not finite";

    /* The counters, summed again from the image. */
    memset(&sums, 0, sizeof sums);
    for (uint32_t i = 0; i < header.slot_count; i++) {
        struct hsw_slot slot;

        memcpy(&slot,
               (const unsigned char *)image + header.header_size +
                   (size_t)i * header.slot_size,
               sizeof slot);
        sums.malloc_calls += hsw_call_count(slot.calls[HSW_CALL_MALLOC]);
        sums.calloc_calls += hsw_call_count(slot.calls[HSW_CALL_CALLOC]);
        sums.realloc_calls += hsw_call_count(slot.calls[HSW_CALL_REALLOC]);
        sums.free_calls += hsw_call_count(slot.calls[HSW_CALL_FREE]);
        sums.aligned_calls += hsw_call_count(slot.calls[HSW_CALL_ALIGNED]);
        sums.failures += slot.failures;
        sums.bytes_requested += slot.bytes_requested;
        sums.bytes_allocated += slot.bytes_allocated;
        sums.bytes_freed += slot.bytes_freed;
        sums.requests += slot.requests;
        for (unsigned c = 0; c < HSW_SIZE_CLASSES; c++)
            sums.size_classes[c] += slot.size_classes[c];
        if (slot.owner_tid != 0 && i + 1 < header.slot_count)
            threads++;
    }
    if (memcmp(&sums, &s->counters, sizeof sums) != 0)
        return "counters differ from the sums of the slots";
    if (s->threads != threads || s->threads >= header.slot_count)
        return "thread count differs from the owned slots";
    if (!(s->estimated & HEAPSWITCH_UNCOUNTED_USABLE) &&
        s->live_bytes != (sums.bytes_allocated > sums.bytes_freed
                              ? sums.bytes_allocated - sums.bytes_freed
                              : 0))
        return "live bytes are not allocated - freed where usable bytes are counted";
    if ((s->estimated & HEAPSWITCH_UNCOUNTED_USABLE) &&
        s->live_bytes != (header.heap.live_valid ? header.heap.live : 0))
        return "live bytes are not the refresh's where usable bytes are not counted";
    if (s->peak_live_bytes < s->live_bytes || s->peak_live_bytes < header.peak_live_bytes)
        return "peak live bytes below live bytes or below the recorded peak";
    return NULL;
}

/* NULL when the rates heapswitch_rates() gave with `result` are sane. */
static inline const char *check_rates(const struct heapswitch_rates *r, int result)
{
    if (result != 0 && result != -1)
        return "heapswitch_rates returned neither 0 nor -1";
    if (result != 0)
        return NULL;
    if (!(r->seconds > 0) || !isfinite(r->seconds))
        return "rates over a non-positive time";
    if (!(r->allocs_per_second >= 0) || !(r->frees_per_second >= 0) ||
        !(r->bytes_per_second >= 0) || !(r->requests_per_second >= 0) ||
        !isfinite(r->allocs_per_second) || !isfinite(r->frees_per_second) ||
        !isfinite(r->bytes_per_second) || !isfinite(r->requests_per_second))
        return "a rate per second is negative or not finite";
    if (!(r->allocs_per_request == -1 || r->allocs_per_request >= 0) ||
        !(r->bytes_per_request == -1 || r->bytes_per_request >= 0) ||
        !isfinite(r->allocs_per_request) || !isfinite(r->bytes_per_request))
        return "a rate per request is neither -1 nor a finite non-negative number";
    return NULL;
}

static inline double touch_bytes(const void *bytes, size_t size)
{
    const unsigned char *at = bytes;
    double sum = 0;

    for (size_t i = 0; i < size; i++)
        sum += at[i];
    return sum;
}

/* Reads every field of a snapshot, one by one (not as raw bytes only, so
 * that UBSan checks the enum and the doubles as what they are). */
static inline double touch_snapshot(const struct heapswitch_snapshot *s)
{
    const struct heapswitch_counters *c = &s->counters;
    double sum = 0;

    sum += (double)s->pid + (double)s->uid + (double)s->state + (double)s->start_time;
    sum += touch_bytes(s->backend, sizeof s->backend) +
           touch_bytes(s->tag, sizeof s->tag) + touch_bytes(s->exe, sizeof s->exe) +
           touch_bytes(s->cmdline, sizeof s->cmdline) + touch_bytes(s->labels, sizeof s->labels);
    sum += s->taken + s->created + s->exited + s->threads + s->overflow_threads;
    sum += (double)s->rss_bytes + (double)s->live_bytes + (double)s->peak_live_bytes +
           s->fragmentation;
    sum += (double)c->malloc_calls + (double)c->calloc_calls + (double)c->realloc_calls +
           (double)c->free_calls + (double)c->aligned_calls + (double)c->failures +
           (double)c->bytes_requested + (double)c->bytes_allocated +
           (double)c->bytes_freed + (double)c->requests;
    for (unsigned i = 0; i < HEAPSWITCH_SIZE_CLASSES; i++)
        sum += (double)c->size_classes[i];
    sum += s->heap.valid + s->heap.approximate + (double)s->heap.resident +
           (double)s->heap.active + (double)s->heap.mapped + (double)s->heap.retained +
           (double)s->heap.committed + (double)s->heap.reserved + s->heap.age_seconds;
    return sum;
}

static inline double touch_rates(const struct heapswitch_rates *r)
{
    return r->seconds + r->allocs_per_second + r->frees_per_second + r->bytes_per_second +
           r->requests_per_second + r->allocs_per_request + r->bytes_per_request;
}

#endif
