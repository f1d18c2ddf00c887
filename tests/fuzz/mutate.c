/* A deterministic mutation test of heapswitch_parse(), which needs neither
 * clang nor libFuzzer: it starts from the valid images of
 * tests/fuzz/seed-image.h (each must be accepted), then for every
 * iteration applies a few random mutations (bit flips, header and slot
 * fields set to extreme values, unterminated or odd text, truncation,
 * extension, consistent re-layouts, odd sequence numbers, other owners)
 * and parses the variant from a heap buffer of exactly its size. Each
 * result must be a refusal with a terminated, non-empty reason that did
 * not overrun its buffer, or a sane snapshot (tests/fuzz/snapshot-check.h)
 * that parses the same twice; a variant whose mutations all keep it valid
 * (counters, heap figures, times, terminated text, a consistent layout)
 * must be accepted. The random numbers are xorshift64*, seeded per
 * iteration, so any failure is reproducible alone:
 *
 *   mutate [-n ITERATIONS] [-s SEED] [-i ITERATION -o FILE]
 *
 * -i N -o FILE writes the variant of iteration N to FILE (say, to feed it
 * to the fuzzer or look at it) and exits. Exits 0 when every variant
 * behaved, 1 otherwise.
 *
 * Long (about 800 lines) because each mutation kind is a small function
 * beside the one that says whether it keeps an image valid; they are read
 * together, as a table of what the parser must accept and refuse. */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "include/heapswitch.h"
#include "tests/fuzz/mutations.h"
#include "tests/fuzz/seed-image.h"
#include "tests/fuzz/snapshot-check.h"

/* Built with ASan (tests/fuzz/mutate-sanitized): a report names the
 * iteration that caused it. */
#if defined(__SANITIZE_ADDRESS__)
#define MUTATE_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define MUTATE_SANITIZED 1
#endif
#endif
#ifdef MUTATE_SANITIZED
#include <sanitizer/common_interface_defs.h>
#endif

#define DEFAULT_ITERATIONS 200000
#define DEFAULT_SEED UINT64_C(0x6865617073776974) /* "heapswit" */
#define MAX_PROBLEMS 10
#define MAX_MUTATIONS 4
#define WHY_SIZE 256
#define WHY_GUARD 64
/* Room for extending an image past the largest segment. */
#define WORK_SIZE (HSW_SEGMENT_MAX_SIZE + 8192)

struct field {
    const char *name;
    size_t offset, size;
    bool benign; /* any value keeps the image valid */
};

/* clang-format off */
#define HEADER_FIELD(member, benign)                                                      \
    {#member, offsetof(struct hsw_segment_header, member),                                \
     sizeof(((struct hsw_segment_header *)0)->member), benign}
#define SLOT_FIELD(member)                                                                \
    {#member, offsetof(struct hsw_slot, member), sizeof(((struct hsw_slot *)0)->member), true}
/* clang-format on */

static const struct field header_fields[] = {
    HEADER_FIELD(magic, false),
    HEADER_FIELD(layout_major, false),
    HEADER_FIELD(layout_minor, true),
    HEADER_FIELD(header_size, false),
    HEADER_FIELD(slot_size, false),
    HEADER_FIELD(slot_count, false),
    HEADER_FIELD(size_classes, false),
    HEADER_FIELD(segment_size, false),
    HEADER_FIELD(state, false),
    HEADER_FIELD(pid, false),
    HEADER_FIELD(uid, false),
    HEADER_FIELD(overflow_threads, true),
    HEADER_FIELD(start_time, true),
    HEADER_FIELD(created_unix_ns, true),
    HEADER_FIELD(heartbeat_ns, true),
    HEADER_FIELD(exited_unix_ns, true),
    HEADER_FIELD(peak_live_bytes, true),
    HEADER_FIELD(heap.seq, false),
    HEADER_FIELD(heap.refreshed_ns, true),
    HEADER_FIELD(heap.resident, true),
    HEADER_FIELD(heap.active, true),
    HEADER_FIELD(heap.mapped, true),
    HEADER_FIELD(heap.retained, true),
    HEADER_FIELD(heap.committed, true),
    HEADER_FIELD(heap.reserved_bytes, true),
    HEADER_FIELD(heap.approximate, true),
    HEADER_FIELD(heap.valid, true),
    HEADER_FIELD(file_size, false),
    HEADER_FIELD(sections[0].kind, false),
    HEADER_FIELD(sections[0].version, true),
    HEADER_FIELD(sections[0].offset, false),
    HEADER_FIELD(sections[0].size, false),
    HEADER_FIELD(sections[HSW_SECTION_COUNT - 1].kind, false),
    HEADER_FIELD(sections[HSW_SECTION_COUNT - 1].offset, false),
    HEADER_FIELD(sections[HSW_SECTION_COUNT - 1].size, false),
    HEADER_FIELD(spare[0], true),
};

static const struct field slot_fields[] = {
    SLOT_FIELD(owner_tid),
    SLOT_FIELD(calls[HSW_CALL_MALLOC]),
    SLOT_FIELD(calls[HSW_CALL_CALLOC]),
    SLOT_FIELD(calls[HSW_CALL_REALLOC]),
    SLOT_FIELD(calls[HSW_CALL_FREE]),
    SLOT_FIELD(calls[HSW_CALL_ALIGNED]),
    SLOT_FIELD(failures),
    SLOT_FIELD(bytes_requested),
    SLOT_FIELD(bytes_allocated),
    SLOT_FIELD(bytes_freed),
    SLOT_FIELD(requests),
    SLOT_FIELD(size_classes[0]),
    SLOT_FIELD(size_classes[HSW_SIZE_CLASSES - 1]),
    SLOT_FIELD(reserved[4]),
};

static const struct field text_fields[] = {
    HEADER_FIELD(backend, false),
    HEADER_FIELD(tag, false),
    HEADER_FIELD(exe, false),
    HEADER_FIELD(cmdline, false),
};

#define COUNT(array) (sizeof(array) / sizeof((array)[0]))

/* One variant: its bytes, size, the owner to parse it for, and what was
 * done to it (for the report of a failure). */
struct variant {
    unsigned char *bytes; /* WORK_SIZE bytes */
    size_t size;
    uid_t owner;
    enum seed_kind kind;
    bool valid; /* every mutation kept the image valid */
    char done[512];
};

static void note(struct variant *v, const char *format, ...)
    __attribute__((format(printf, 2, 3)));

static void note(struct variant *v, const char *format, ...)
{
    size_t used = strlen(v->done);
    va_list arguments;

    if (used + 2 >= sizeof v->done)
        return;
    if (used > 0)
        v->done[used++] = ' ';
    va_start(arguments, format);
    vsnprintf(v->done + used, sizeof v->done - used, format, arguments);
    va_end(arguments);
}

static uint64_t header_value(const struct variant *v, size_t offset, size_t size)
{
    return read_field(v->bytes + offset, size);
}

#define HEADER_GET(v, member)                                                            \
    header_value(v, offsetof(struct hsw_segment_header, member),                         \
                 sizeof(((struct hsw_segment_header *)0)->member))

/* An extreme or boundary value for a field of `size` bytes. */
static uint64_t extreme_value(const struct variant *v, size_t size)
{
    uint64_t all = size == 4 ? UINT32_MAX : UINT64_MAX;
    uint64_t half = all >> 1;

    switch (below(20)) {
    case 0:
        return 0;
    case 1:
        return 1;
    case 2:
        return all;
    case 3:
        return half; /* INT_MAX */
    case 4:
        return half + 1; /* INT_MIN as unsigned */
    case 5:
        return all - below(4096);
    case 6:
        return 63 + below(3); /* around the 64-byte alignment */
    case 7:
        return sizeof(struct hsw_segment_header) + below(3) * 64 - 1 + below(3);
    case 8:
        return sizeof(struct hsw_slot) + below(3) * 64 - 1 + below(3);
    case 9:
        return HSW_SEGMENT_MAX_SIZE - 1 + below(3);
    case 10:
        return HSW_SEGMENT_MAX_SIZE / 64 - 1 + below(3);
    case 11:
        return v->size - 1 + below(3);
    case 12:
        return HSW_SLOT_COUNT - 1 + below(3);
    case 13:
        return UINT64_C(1) << below(size * 8);
    case 14:
        return (uint64_t)getuid() + below(3) - 1;
    case 15:
        return below(4); /* small: states, booleans */
    default:
        return next_random() & all;
    }
}

/* Text of random bytes (control characters included), NUL-terminated
 * within the field, or filling it entirely (unterminated). */
static void mutate_text(struct variant *v)
{
    const struct field *f = &text_fields[below(COUNT(text_fields))];
    unsigned char *at = v->bytes + f->offset;
    bool terminated = below(2) == 0;
    size_t length = terminated ? below(f->size) : f->size;

    for (size_t i = 0; i < length; i++)
        at[i] = (unsigned char)(below(2) == 0 ? 1 + below(255) : 0x20 + below(0x5f));
    if (terminated)
        at[length] = '\0';
    else
        v->valid = false;
    note(v, "text:%s:%s%zu", f->name, terminated ? "" : "unterminated:", length);
}

static void mutate_header_field(struct variant *v)
{
    const struct field *f = &header_fields[below(COUNT(header_fields))];
    uint64_t value = extreme_value(v, f->size);

    write_field(v->bytes + f->offset, f->size, value);
    if (!f->benign)
        v->valid = false;
    note(v, "header.%s=0x%" PRIx64, f->name,
         value & (f->size == 4 ? UINT32_MAX : UINT64_MAX));
}

/* A counter of a slot: of one of the header's slots (valid), or at a
 * random slot index, perhaps past the slots or the image (only written
 * within the image's size). */
static void mutate_slot_field(struct variant *v)
{
    const struct field *f = &slot_fields[below(COUNT(slot_fields))];
    uint64_t header_size = HEADER_GET(v, header_size),
             slot_size = HEADER_GET(v, slot_size);
    uint64_t slot_count = HEADER_GET(v, slot_count);
    uint64_t slot =
        below(4) == 0 ? below(slot_count + 2) : below(slot_count > 8 ? 8 : slot_count);
    uint64_t offset = header_size + slot * slot_size + f->offset;
    uint64_t value = extreme_value(v, f->size);

    if (offset + f->size > v->size)
        return;
    write_field(v->bytes + offset, f->size, value);
    if (slot >= slot_count)
        v->valid = false; /* it may have hit the bytes that follow (and in a valid
                           * image, these are ignored: but keep it simple) */
    note(v, "slot[%" PRIu64 "].%s=0x%" PRIx64, slot, f->name, value);
}

static void mutate_bits(struct variant *v)
{
    unsigned flips = 1 + (unsigned)below(8);

    if (v->size == 0)
        return;
    for (unsigned i = 0; i < flips; i++) {
        /* Mostly in the header, where the checks are. */
        size_t limit = below(4) != 0 && v->size > sizeof(struct hsw_segment_header)
                           ? sizeof(struct hsw_segment_header)
                           : v->size;
        size_t offset = below(limit);

        if (below(3) == 0)
            v->bytes[offset] = (unsigned char)next_random();
        else
            v->bytes[offset] ^= (unsigned char)(1u << below(8));
        note(v, "byte@%zu", offset);
    }
    v->valid = false;
}

static void mutate_size(struct variant *v)
{
    size_t old = v->size;

    switch (below(4)) {
    case 0: /* anywhere shorter */
        v->size = below(old + 1);
        break;
    case 1: /* a little off */
        v->size = old - below(old < 128 ? old + 1 : 128);
        break;
    case 2: /* longer, perhaps past the largest segment, with segment_size to match */
    case 3: {
        size_t grow;

        if (old >= WORK_SIZE)
            break;
        grow = 1 + below(WORK_SIZE - old);
        for (size_t i = old; i < old + grow; i++)
            v->bytes[i] = below(2) == 0 ? 0 : (unsigned char)next_random();
        v->size = old + grow;
        if (below(2) == 0) {
            write_field(v->bytes + offsetof(struct hsw_segment_header, segment_size), 8,
                        v->size);
            if (v->size > HSW_SEGMENT_MAX_SIZE)
                v->valid = false;
            note(v, "extend:%zu+segment_size", v->size);
            return;
        }
        break;
    }
    }
    if (v->size != old)
        v->valid = false;
    note(v, "size:%zu", v->size);
}

/* A consistent new layout: another slot count (or header or slot size),
 * segment_size and the size to match; valid when it fits 64 KiB. */
static void mutate_layout(struct variant *v)
{
    uint64_t header_size = HEADER_GET(v, header_size),
             slot_size = HEADER_GET(v, slot_size);
    uint64_t slot_count = HEADER_GET(v, slot_count), needed, size;
    uint64_t old_needed = header_size + slot_count * slot_size;
    bool layout_was_valid = v->valid;

    switch (below(3)) {
    case 0:
        slot_count = below(2) == 0 ? 1 + below(slot_count + 4) : extreme_value(v, 4);
        break;
    case 1:
        slot_size += 64 * below(4);
        break;
    default:
        header_size += 64 * below(4);
        break;
    }
    needed = header_size + slot_count * slot_size;
    size = below(2) == 0 ? needed : (needed + 4095) & ~UINT64_C(4095);
    if (size > WORK_SIZE || slot_count == 0) {
        write_field(v->bytes + offsetof(struct hsw_segment_header, slot_count), 4,
                    slot_count);
        v->valid = false;
        note(v, "slot_count=0x%" PRIx64 "(no room)", slot_count);
        return;
    }
    /* Whatever was at the new places of header end and slots, the counts
     * stay plausible: the image is valid if it fits. */
    if (v->size < size)
        memset(v->bytes + v->size, 0, size - v->size);
    (void)old_needed;
    write_field(v->bytes + offsetof(struct hsw_segment_header, header_size), 4,
                header_size);
    write_field(v->bytes + offsetof(struct hsw_segment_header, slot_size), 4, slot_size);
    write_field(v->bytes + offsetof(struct hsw_segment_header, slot_count), 4,
                slot_count);
    write_field(v->bytes + offsetof(struct hsw_segment_header, segment_size), 8, size);
    v->size = size;
    v->valid = layout_was_valid && size <= HSW_SEGMENT_MAX_SIZE &&
               slot_count <= HSW_SEGMENT_MAX_SIZE / 64;
    note(v, "layout:%" PRIu64 "+%" PRIu64 "x%" PRIu64 "=%" PRIu64, header_size,
         slot_count, slot_size, size);
}

static void mutate_misc(struct variant *v)
{
    switch (below(4)) {
    case 0: {
        uint64_t seq = HEADER_GET(v, heap.seq) | 1;
        write_field(v->bytes + offsetof(struct hsw_segment_header, heap.seq), 8, seq);
        note(v, "heap.seq odd");
        break;
    }
    case 1:
        v->owner = getuid() + 1;
        note(v, "owner+1");
        break;
    case 2: {
        uint32_t state = below(2) == 0 ? HSW_STATE_STARTING : 3 + (uint32_t)below(1000);
        write_field(v->bytes + offsetof(struct hsw_segment_header, state), 4, state);
        note(v, "state=%u", state);
        break;
    }
    default: {
        int32_t pid = below(2) == 0 ? 0 : -1 - (int32_t)below(INT32_MAX);
        write_field(v->bytes + offsetof(struct hsw_segment_header, pid), 4,
                    (uint32_t)pid);
        note(v, "pid=%d", pid);
        break;
    }
    }
    v->valid = false;
}

/* Mutates a variant in place: 1 to MAX_MUTATIONS mutations. */
static void mutate(struct variant *v)
{
    unsigned count = 1 + (unsigned)below(MAX_MUTATIONS);

    for (unsigned i = 0; i < count; i++) {
        switch (below(16)) {
        case 0:
        case 1:
        case 2:
            mutate_bits(v);
            break;
        case 3:
        case 4:
        case 5:
            mutate_header_field(v);
            break;
        case 6:
        case 7:
        case 8:
            mutate_slot_field(v);
            break;
        case 9:
        case 10:
            mutate_text(v);
            break;
        case 11:
        case 12:
            mutate_size(v);
            break;
        case 13:
        case 14:
            mutate_layout(v);
            break;
        default:
            mutate_misc(v);
            break;
        }
    }
}

struct seed {
    unsigned char bytes[SEED_IMAGE_CAPACITY];
    size_t size;
    struct heapswitch_snapshot snapshot;
};

static struct seed seeds[SEED_KINDS];

/* Builds the variant of one iteration. */
static void make_variant(struct variant *v, uint64_t seed, uint64_t iteration)
{
    const struct seed *base;

    seed_random(seed ^ (iteration * UINT64_C(0x9e3779b97f4a7c15)));
    v->kind = (enum seed_kind)below(SEED_KINDS);
    base = &seeds[v->kind];
    memcpy(v->bytes, base->bytes, base->size);
    memset(v->bytes + base->size, 0, WORK_SIZE - base->size);
    v->size = base->size;
    v->owner = getuid();
    v->valid = true;
    v->done[0] = '\0';
    mutate(v);
}

/* The bytes that differ from the seed, as "offset: old -> new" runs,
 * then how the size changed. */
static void print_difference(const struct variant *v)
{
    const struct seed *base = &seeds[v->kind];
    size_t common = v->size < base->size ? v->size : base->size;
    unsigned lines = 0;

    for (size_t at = 0; at < common && lines < 40;) {
        size_t end = at;
        while (end < common && end - at < 16 && v->bytes[end] != base->bytes[end])
            end++;
        if (end == at) {
            at++;
            continue;
        }
        fprintf(stderr, "    %06zx:", at);
        for (size_t i = at; i < end; i++)
            fprintf(stderr, " %02x", (unsigned)base->bytes[i]);
        fprintf(stderr, " ->");
        for (size_t i = at; i < end; i++)
            fprintf(stderr, " %02x", (unsigned)v->bytes[i]);
        fprintf(stderr, "\n");
        lines++;
        at = end;
    }
    if (lines == 40)
        fprintf(stderr, "    (more differences left out)\n");
    if (v->size < base->size) {
        fprintf(stderr, "    truncated from %zu to %zu bytes\n", base->size, v->size);
    } else if (v->size > base->size) {
        size_t nonzero = 0;
        for (size_t i = base->size; i < v->size; i++)
            nonzero += v->bytes[i] != 0;
        fprintf(stderr, "    extended from %zu to %zu bytes (%zu of them not zero)\n",
                base->size, v->size, nonzero);
    }
}

static unsigned problems;
static const struct variant *current_variant; /* for the sanitizers' reports */
static uint64_t current_iteration;

static void problem(const struct variant *v, uint64_t iteration, const char *what,
                    const char *why)
{
    problems++;
    if (problems > MAX_PROBLEMS)
        return;
    fprintf(stderr,
            "FAIL: iteration %" PRIu64 " (seed %s, size %zu, owner %u): %s%s%s\n"
            "  mutations: %s\n  differences from the seed:\n",
            iteration, seed_name(v->kind), v->size, (unsigned)v->owner, what,
            why != NULL ? "; reason given: " : "", why != NULL ? why : "", v->done);
    print_difference(v);
}

#ifdef MUTATE_SANITIZED
/* Called by a sanitizer before it exits on an error. */
static void report_current(void)
{
    if (current_variant == NULL)
        return;
    problem(current_variant, current_iteration, "the sanitizer report above", NULL);
    fprintf(stderr, "  write it to a file with: mutate -i %" PRIu64 " -o FILE\n",
            current_iteration);
}
#endif

/* The refusal reasons seen, up to their first digit, with counts. */
struct reason {
    char text[64];
    unsigned long count;
};

static struct reason reasons[48];

static void count_reason(const char *why)
{
    size_t length = strcspn(why, "0123456789(");
    unsigned i;

    while (length > 0 && (why[length - 1] == ' ' || why[length - 1] == '-'))
        length--;
    if (length >= sizeof reasons[0].text)
        length = sizeof reasons[0].text - 1;
    for (i = 0; i < COUNT(reasons) && reasons[i].count > 0; i++)
        if (strncmp(reasons[i].text, why, length) == 0 && reasons[i].text[length] == '\0')
            break;
    if (i == COUNT(reasons))
        return;
    if (reasons[i].count == 0) {
        memcpy(reasons[i].text, why, length);
        reasons[i].text[length] = '\0';
    }
    reasons[i].count++;
}

struct totals {
    unsigned long accepted, refused, valid_variants;
};

static volatile double sink;

/* Parses one variant from a heap copy of exactly its size and checks the
 * outcome. */
static void check_variant(const struct variant *v, uint64_t iteration,
                          struct totals *totals)
{
    struct heapswitch_snapshot snapshot, again;
    struct heapswitch_rates rates;
    char why[WHY_SIZE + WHY_GUARD];
    size_t why_size;
    char *why_arg = why;
    unsigned char *exact = malloc(v->size > 0 ? v->size : 1);
    const char *wrong;
    int result;

    if (exact == NULL) {
        fprintf(stderr, "mutate: out of memory\n");
        exit(99);
    }
    memcpy(exact, v->bytes, v->size);
    switch (below(20)) {
    case 0:
    case 1:
    case 2:
        why_size = 1 + below(16);
        break;
    case 3:
        why_size = 0;
        why_arg = NULL;
        break;
    case 4:
        why_size = 0;
        break;
    default:
        why_size = WHY_SIZE;
        break;
    }
    memset(why, '#', sizeof why);
    memset(&snapshot, 0xa5, sizeof snapshot);
    result = heapswitch_parse(exact, v->size, v->owner, &snapshot, why_arg, why_size);
    for (size_t i = why_size; i < sizeof why; i++)
        if (why[i] != '#') {
            problem(v, iteration, "the reason overran its buffer", NULL);
            break;
        }
    if (result != 0 && result != -1) {
        problem(v, iteration, "returned neither 0 nor -1", NULL);
    } else if (result != 0) {
        totals->refused++;
        if (!check_why_is_sane(why, why_size))
            problem(v, iteration, "refused without a terminated, non-empty reason", NULL);
        else if (v->valid)
            problem(v, iteration, "refused a valid image", why_size > 0 ? why : NULL);
        if (why_size == WHY_SIZE)
            count_reason(why);
    } else {
        totals->accepted++;
        if ((wrong = check_snapshot(&snapshot, exact, v->size, v->owner)) != NULL)
            problem(v, iteration, wrong, NULL);
        /* Parsed again: the same, but for the time it was taken. */
        if (heapswitch_parse(exact, v->size, v->owner, &again, NULL, 0) != 0) {
            problem(v, iteration, "accepted, then refused", NULL);
        } else {
            again.taken = snapshot.taken;
            again.heap.age_seconds = snapshot.heap.age_seconds;
            if (memcmp(&again, &snapshot, sizeof again) != 0)
                problem(v, iteration, "two parses of the same bytes differ", NULL);
        }
        result = heapswitch_rates(&seeds[v->kind].snapshot, &snapshot, &rates);
        if ((wrong = check_rates(&rates, result)) != NULL)
            problem(v, iteration, wrong, NULL);
        sink = touch_rates(&rates);
        result = heapswitch_rates(&snapshot, &seeds[v->kind].snapshot, &rates);
        if ((wrong = check_rates(&rates, result)) != NULL)
            problem(v, iteration, wrong, NULL);
        sink = touch_snapshot(&snapshot) + touch_rates(&rates);
    }
    if (v->valid)
        totals->valid_variants++;
    free(exact);
}

/* Every seed must be accepted as it is; its snapshot is the earlier one
 * of the rates of its variants. */
static int check_seeds(void)
{
    char why[WHY_SIZE];
    int failures = 0;

    for (int kind = 0; kind < SEED_KINDS; kind++) {
        struct seed *seed = &seeds[kind];
        const char *wrong;

        seed->size = seed_build(seed->bytes, (enum seed_kind)kind, (uint32_t)getuid(),
                                (int32_t)getpid());
        if (heapswitch_parse(seed->bytes, seed->size, getuid(), &seed->snapshot, why,
                             sizeof why) != 0) {
            fprintf(stderr, "FAIL: seed %s refused: %s\n",
                    seed_name((enum seed_kind)kind), why);
            failures++;
        } else if ((wrong = check_snapshot(&seed->snapshot, seed->bytes, seed->size,
                                           getuid())) != NULL) {
            fprintf(stderr, "FAIL: seed %s: %s\n", seed_name((enum seed_kind)kind),
                    wrong);
            failures++;
        }
    }
    if (heapswitch_parse(NULL, 4096, getuid(), &seeds[0].snapshot, why, sizeof why) !=
            -1 ||
        why[0] == '\0') {
        fprintf(stderr, "FAIL: a NULL image was not refused with a reason\n");
        failures++;
    }
    /* Restore the snapshot the NULL parse cleared. */
    if (heapswitch_parse(seeds[0].bytes, seeds[0].size, getuid(), &seeds[0].snapshot,
                         NULL, 0) != 0)
        failures++;
    return failures;
}

static int write_variant(const struct variant *v, const char *path)
{
    FILE *file = fopen(path, "wb");

    if (file == NULL || fwrite(v->bytes, 1, v->size, file) != v->size) {
        fprintf(stderr, "mutate: %s: %s\n", path, strerror(errno));
        if (file != NULL)
            fclose(file);
        return 1;
    }
    if (fclose(file) != 0) {
        fprintf(stderr, "mutate: %s: %s\n", path, strerror(errno));
        return 1;
    }
    printf("%s: seed %s, size %zu, owner %u, %s: %s\n", path, seed_name(v->kind), v->size,
           (unsigned)v->owner, v->valid ? "valid" : "maybe invalid", v->done);
    return 0;
}

static int usage(void)
{
    fprintf(stderr, "usage: mutate [-n ITERATIONS] [-s SEED] [-i ITERATION -o FILE]\n");
    return 2;
}

int main(int argc, char **argv)
{
    static unsigned char work[WORK_SIZE];
    struct variant variant = {.bytes = work};
    struct totals totals = {0, 0, 0};
    uint64_t iterations = DEFAULT_ITERATIONS, seed = DEFAULT_SEED;
    const char *write_path = NULL;
    uint64_t write_iteration = 0;
    int option;

    while ((option = getopt(argc, argv, "n:s:i:o:")) != -1) {
        switch (option) {
        case 'n':
            iterations = strtoull(optarg, NULL, 0);
            break;
        case 's':
            seed = strtoull(optarg, NULL, 0);
            break;
        case 'i':
            write_iteration = strtoull(optarg, NULL, 0);
            break;
        case 'o':
            write_path = optarg;
            break;
        default:
            return usage();
        }
    }
    if (optind != argc)
        return usage();

    if (check_seeds() != 0)
        return 1;
    if (write_path != NULL) {
        make_variant(&variant, seed, write_iteration);
        return write_variant(&variant, write_path);
    }
#ifdef MUTATE_SANITIZED
    __sanitizer_set_death_callback(report_current);
#endif
    for (uint64_t i = 0; i < iterations; i++) {
        make_variant(&variant, seed, i);
        current_variant = &variant;
        current_iteration = i;
        check_variant(&variant, i, &totals);
    }
    current_variant = NULL;

    printf("mutate: %" PRIu64 " variants of %d seeds (seed 0x%" PRIx64 "): %lu accepted, "
           "%lu refused, %lu kept valid by their mutations\n",
           iterations, SEED_KINDS, seed, totals.accepted, totals.refused,
           totals.valid_variants);
    printf("mutate: refusals by reason:\n");
    for (unsigned i = 0; i < COUNT(reasons) && reasons[i].count > 0; i++)
        printf("  %8lu  %s\n", reasons[i].count, reasons[i].text);
    if (problems > 0) {
        fprintf(stderr, "mutate: %u problem(s)%s\n", problems,
                problems > MAX_PROBLEMS ? " (the first ones shown)" : "");
        return 1;
    }
    /* Not vacuous: both outcomes must be common. */
    if (iterations >= 1000 &&
        (totals.accepted < iterations / 50 || totals.refused < iterations / 50)) {
        fprintf(stderr, "mutate: too few variants accepted or refused to mean much\n");
        return 1;
    }
    printf("mutate: all variants behaved\n");
    return 0;
}
