/* Valid segment images, laid out as lib/segment.c writes them, for the
 * fuzzer's seed corpus (make-seeds.c) and the mutation test (mutate.c):
 * one builder, so both start from the same images. Random bytes never
 * get past the magic check; these do, and mutations of them reach every
 * later check of heapswitch_parse(). Header-only (static inline) so that
 * each program compiles it with its own flags. */
#ifndef HSW_FUZZ_SEED_IMAGE_H
#define HSW_FUZZ_SEED_IMAGE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "lib/segment_layout.h"

enum seed_kind {
    SEED_RUNNING,  /* a live process: a few threads, heap figures valid */
    SEED_EXITED,   /* final totals of a process that exited */
    SEED_MANY,     /* every slot owned, huge (wrapping) counts, overflow threads */
    SEED_MINIMAL,  /* one slot, no rounding: the smallest valid image */
    SEED_NEWER,    /* a later minor layout: larger header and slots */
    SEED_ODD_TEXT, /* control characters and full-length text, heap never refreshed */
    SEED_OLDER,    /* a minor-2 writer: the smallest header readers accept */
    SEED_KINDS
};

/* The biggest image seed_build() writes: a buffer of this size holds any. */
#define SEED_IMAGE_CAPACITY HSW_SEGMENT_MAX_SIZE

static inline const char *seed_name(enum seed_kind kind)
{
    switch (kind) {
    case SEED_RUNNING:
        return "running";
    case SEED_EXITED:
        return "exited";
    case SEED_MANY:
        return "many";
    case SEED_MINIMAL:
        return "minimal";
    case SEED_NEWER:
        return "newer";
    case SEED_ODD_TEXT:
        return "odd-text";
    case SEED_OLDER:
        return "older";
    case SEED_KINDS:
        break;
    }
    return "?";
}

/* Copies text into a fixed-size field, truncated, always NUL-terminated. */
static inline void seed_text(char *field, size_t field_size, const char *text)
{
    size_t length = strlen(text);

    if (length >= field_size)
        length = field_size - 1;
    memset(field, 0, field_size);
    memcpy(field, text, length);
}

/* Fills field_size - 1 bytes of a field with a repeated pattern. */
static inline void seed_fill_text(char *field, size_t field_size, const char *pattern)
{
    size_t pattern_length = strlen(pattern);

    for (size_t i = 0; i + 1 < field_size; i++)
        field[i] = pattern[i % pattern_length];
    field[field_size - 1] = '\0';
}

/* Slot s of a seed: counts that differ per slot and per field, so that a
 * reader summing the wrong fields or slots gives other totals. */
static inline void seed_slot(struct hsw_slot *slot, enum seed_kind kind, unsigned s,
                             unsigned slot_count, int32_t pid)
{
    uint64_t scale;
    unsigned owned;

    memset(slot, 0, sizeof *slot);
    switch (kind) {
    case SEED_MANY:
        owned = slot_count;
        scale = UINT64_C(0x0123456789abcdef);
        break;
    case SEED_EXITED:
        owned = 0; /* the threads have given their slots back */
        scale = 1000;
        break;
    case SEED_MINIMAL:
        owned = 0;
        scale = 1;
        break;
    default:
        owned = 3;
        scale = 10;
        break;
    }
    /* The last slot is the shared one: it has counts but no owner. */
    if (s < owned && s + 1 < slot_count)
        slot->owner_tid = (uint64_t)pid + s;
    if (kind == SEED_MANY && s + 1 == slot_count)
        slot->owner_tid = UINT64_MAX; /* never counted as a thread */
    if (s >= 8 && kind != SEED_MANY && s + 1 < slot_count)
        return; /* idle slots stay zero, as in a real segment */
    for (unsigned k = 0; k < HSW_CALL_KINDS; k++)
        slot->calls[k] = scale * (s + 1) * (k + 3);
    /* A live thread's free tick rides in the top byte of its free count. */
    if (kind == SEED_RUNNING && s < owned)
        slot->calls[HSW_CALL_FREE] |= (uint64_t)(0x81 + 0x35 * s) << HSW_CALL_COUNT_BITS;
    slot->failures = s % 3 == 0 ? scale : 0;
    slot->bytes_requested = scale * (s + 1) * 4000;
    slot->bytes_allocated = scale * (s + 1) * 4096;
    slot->bytes_freed = kind == SEED_MANY ? UINT64_MAX - s : scale * (s + 1) * 3000;
    slot->requests = kind == SEED_RUNNING ? (s + 1) * 7 : 0;
    for (unsigned c = 0; c < HSW_SIZE_CLASSES; c++)
        slot->size_classes[c] = scale * (s + 1) + c;
}

/* Writes the image of a seed into image (SEED_IMAGE_CAPACITY bytes) and
 * returns its size: a header with state RUNNING (EXITED for SEED_EXITED),
 * the given uid and pid, then the slots, then zeros up to segment_size. */
static inline size_t seed_build(unsigned char *image, enum seed_kind kind, uint32_t uid,
                                int32_t pid)
{
    struct hsw_segment_header header;
    size_t header_size = sizeof header, slot_size = sizeof(struct hsw_slot);
    size_t slot_count = HSW_SLOT_COUNT, size;

    if (kind == SEED_NEWER) {
        header_size += 64; /* fields a newer writer appended */
        slot_size += 128;
    } else if (kind == SEED_MINIMAL) {
        slot_count = 1;
    } else if (kind == SEED_OLDER) {
        header_size = HSW_SEGMENT_HEADER_MIN_SIZE;
    }
    size = header_size + slot_count * slot_size;
    if (kind != SEED_MINIMAL)
        size = (size + 4095) & ~(size_t)4095; /* as the writer rounds it */

    memset(image, 0, size);
    memset(&header, 0, sizeof header);
    header.magic = HSW_SEGMENT_MAGIC;
    header.layout_major = HSW_SEGMENT_LAYOUT_MAJOR;
    header.layout_minor = kind == SEED_NEWER   ? HSW_SEGMENT_LAYOUT_MINOR + 1
                          : kind == SEED_OLDER ? 2
                                               : HSW_SEGMENT_LAYOUT_MINOR;
    header.header_size = (uint32_t)header_size;
    header.slot_size = (uint32_t)slot_size;
    header.slot_count = (uint32_t)slot_count;
    header.size_classes = HSW_SIZE_CLASSES;
    header.segment_size = size;
    header.state = kind == SEED_EXITED ? HSW_STATE_EXITED : HSW_STATE_RUNNING;
    header.pid = pid;
    header.uid = uid;
    header.overflow_threads = kind == SEED_MANY ? 1000 : 0;
    header.start_time = 123456789;
    header.created_unix_ns = UINT64_C(1700000000) * 1000000000;
    header.heartbeat_ns = UINT64_C(5000) * 1000000000;
    header.exited_unix_ns =
        kind == SEED_EXITED ? header.created_unix_ns + 42000000000 : 0;
    header.peak_live_bytes = kind == SEED_MANY ? UINT64_MAX : 1 << 20;
    seed_text(header.backend, sizeof header.backend,
              kind == SEED_MANY    ? "jemalloc"
              : kind == SEED_NEWER ? "mimalloc"
                                   : "system");
    seed_text(header.tag, sizeof header.tag, kind == SEED_RUNNING ? "seed" : "");
    if (kind == SEED_RUNNING || kind == SEED_MANY) {
        seed_text(header.labels, sizeof header.labels, "pod=seed-1,namespace=fuzz,c=x");
        header.pid_namespace = UINT64_C(4026532178);
    }
    seed_text(header.exe, sizeof header.exe, "/usr/bin/heapswitch-seed");
    seed_text(header.cmdline, sizeof header.cmdline, "heapswitch-seed --run 1");
    if (kind == SEED_ODD_TEXT) {
        seed_fill_text(header.backend, sizeof header.backend, "\x01\t\x7f");
        seed_fill_text(header.tag, sizeof header.tag, "t\x1f\xc3\xa9");
        seed_fill_text(header.exe, sizeof header.exe, "/x\n");
        seed_fill_text(header.cmdline, sizeof header.cmdline, "a \x1b[0m\xff");
    } else {
        header.heap.seq = 42;
        header.heap.refreshed_ns = header.heartbeat_ns - 100000000;
        header.heap.resident = kind == SEED_MANY ? 4096 : UINT64_C(64) << 20;
        header.heap.active = header.heap.resident / 2;
        header.heap.mapped = header.heap.resident * 2;
        header.heap.retained = 1 << 16;
        header.heap.committed = header.heap.resident;
        header.heap.reserved_bytes = UINT64_C(1) << 30;
        header.heap.approximate = kind == SEED_MANY || kind == SEED_NEWER;
        header.heap.valid = 1;
    }
    memcpy(image, &header, header_size < sizeof header ? header_size : sizeof header);
    if (header_size > sizeof header)
        memset(image + sizeof header, 0xa5, header_size - sizeof header);

    for (size_t s = 0; s < slot_count; s++) {
        struct hsw_slot slot;
        unsigned char *at = image + header_size + s * slot_size;

        seed_slot(&slot, kind, (unsigned)s, (unsigned)slot_count, pid);
        memcpy(at, &slot, sizeof slot);
        if (slot_size > sizeof slot)
            memset(at + sizeof slot, 0x5a, slot_size - sizeof slot);
    }
    return size;
}

#endif
