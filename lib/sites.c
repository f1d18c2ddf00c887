/* A sample's stack, and the sites section it is added to.
 *
 * Stacks come from libunwind's unw_backtrace (DWARF call-frame
 * information through its cached fast path): Debian builds its libraries
 * without frame pointers, so a frame-pointer walk stops at the first
 * frame of libc or libstdc++ (docs/sampling.md has the measurements).
 * libunwind is loaded with dlopen(RTLD_LOCAL) from the library's
 * constructor, only when sampling is on: its _Unwind_* names must not
 * replace the C++ runtime's in the program, and a program that does not
 * sample does not load it.
 *
 * Frames inside heapswitch itself (and libunwind) are dropped, so that
 * frames[0] is the return address into the code that called malloc,
 * operator new and the rest. A stack is deduplicated into the section's
 * table by a hash of its frames (open addressing, claimed by
 * compare-and-swap as lib/segment_layout.h describes); a stack that finds
 * no entry within SITE_PROBES goes to the last, "other", entry. All
 * updates are atomic adds: this runs once per sampling interval, never on
 * the common path.
 */
#include "config.h"

#include <dlfcn.h>
#include <link.h>
#include <string.h>

#include "lib/internal.h"
#include "lib/sample.h"

#define LIBUNWIND_SONAME "libunwind.so.8"
/* Frames captured beyond HSW_SITE_FRAMES: room for heapswitch's own. */
#define OWN_FRAMES_MAX 16
#define SITE_PROBES 128

typedef int (*backtrace_fn)(void **frames, int size);
static backtrace_fn unwinder;

/* Address ranges whose frames are dropped: heapswitch, then libunwind. */
struct text_range {
    uintptr_t start, end;
};
static struct text_range skipped[2];

struct range_search {
    uintptr_t address;
    struct text_range *out;
};

/* dl_iterate_phdr callback: the executable segment holding the address. */
static int find_text(struct dl_phdr_info *info, size_t size, void *data)
{
    struct range_search *search = data;

    (void)size;
    for (unsigned i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *phdr = &info->dlpi_phdr[i];
        uintptr_t start = info->dlpi_addr + phdr->p_vaddr;

        if (phdr->p_type == PT_LOAD && (phdr->p_flags & PF_X) && search->address >= start &&
            search->address < start + phdr->p_memsz) {
            search->out->start = start;
            search->out->end = start + phdr->p_memsz;
            return 1;
        }
    }
    return 0;
}

static void find_text_range(const void *address, struct text_range *out)
{
    struct range_search search = {(uintptr_t)address, out};

    dl_iterate_phdr(find_text, &search);
}

void hsw_sites_load_unwinder(void)
{
    void *library = dlopen(LIBUNWIND_SONAME, RTLD_NOW | RTLD_LOCAL);
    backtrace_fn found;

    if (library == NULL) {
        const char *why = dlerror();
        hsw_log("cannot load " LIBUNWIND_SONAME " (", why != NULL ? why : "unknown error",
                "); HEAPSWITCH_SAMPLE counts every sample in the 'other' row",
                (const char *)NULL);
        return;
    }
    found = (backtrace_fn)dlsym(library, "unw_backtrace");
    if (found == NULL) {
        hsw_log(LIBUNWIND_SONAME " has no unw_backtrace; HEAPSWITCH_SAMPLE counts every sample "
                "in the 'other' row", (const char *)NULL);
        return;
    }
    find_text_range((const void *)hsw_sites_record, &skipped[0]);
    find_text_range((const void *)found, &skipped[1]);
    __atomic_store_n(&unwinder, found, __ATOMIC_RELEASE);
}

static bool is_skipped(uintptr_t address)
{
    for (unsigned i = 0; i < sizeof skipped / sizeof skipped[0]; i++)
        if (address - skipped[i].start < skipped[i].end - skipped[i].start)
            return true;
    return false;
}

/* The caller's stack, innermost first, heapswitch's frames dropped;
 * returns the depth (0 when it could not be taken). */
static unsigned capture(uint64_t *frames)
{
    void *raw[HSW_SITE_FRAMES + OWN_FRAMES_MAX];
    backtrace_fn backtrace = __atomic_load_n(&unwinder, __ATOMIC_ACQUIRE);
    int taken, first = 0;
    unsigned depth = 0;

    if (backtrace == NULL)
        return 0;
    taken = backtrace(raw, (int)(sizeof raw / sizeof raw[0]));
    while (first < taken && is_skipped((uintptr_t)raw[first]))
        first++;
    for (int i = first; i < taken && depth < HSW_SITE_FRAMES; i++)
        frames[depth++] = (uint64_t)(uintptr_t)raw[i];
    return depth;
}

static uint64_t hash_frames(const uint64_t *frames, unsigned depth)
{
    uint64_t hash = UINT64_C(0xcbf29ce484222325) ^ depth;

    for (unsigned i = 0; i < depth; i++) {
        hash = (hash ^ frames[i]) * UINT64_C(0x100000001b3);
        hash ^= hash >> 29;
    }
    return hash == 0 || hash == HSW_SITE_CLAIMING ? 1 : hash;
}

static bool same_stack(const struct hsw_site *site, const uint64_t *frames, unsigned depth)
{
    return site->depth == depth && memcmp(site->frames, frames, depth * sizeof *frames) == 0;
}

/* The entry of this stack: found, or claimed; the "other" row when the
 * probes run out. Two threads claiming the same new stack at once may
 * each get an entry (the reader adds entries with equal stacks). */
static unsigned find_or_claim(struct hsw_site *sites, const uint64_t *frames, unsigned depth)
{
    const unsigned slots = HSW_SITES_CAPACITY - 1;
    uint64_t hash = hash_frames(frames, depth);
    unsigned start = (unsigned)(hash % slots);

    for (unsigned i = 0; i < SITE_PROBES; i++) {
        unsigned index = (start + i) % slots;
        struct hsw_site *site = &sites[index];
        uint64_t seen = __atomic_load_n(&site->hash, __ATOMIC_ACQUIRE);

        if (seen == 0 && __atomic_compare_exchange_n(&site->hash, &seen, HSW_SITE_CLAIMING, false,
                                                     __ATOMIC_ACQUIRE, __ATOMIC_ACQUIRE)) {
            memcpy(site->frames, frames, depth * sizeof *frames);
            site->depth = depth;
            __atomic_store_n(&site->hash, hash, __ATOMIC_RELEASE);
            return index;
        }
        if (seen == hash && same_stack(site, frames, depth))
            return index;
    }
    return HSW_SITES_CAPACITY - 1;
}

static struct hsw_sites_header *sites_section(void)
{
    return hsw_segment_section(HSW_SECTION_SITES);
}

void hsw_sites_prepare(uint64_t interval)
{
    struct hsw_sites_header *header = sites_section();

    if (header == NULL)
        return;
    header->interval = interval;
    header->frames = HSW_SITE_FRAMES;
    __atomic_store_n(&header->capacity, HSW_SITES_CAPACITY, __ATOMIC_RELEASE);
}

int hsw_sites_record(uint64_t interval, uint64_t allocations, uint64_t bytes)
{
    struct hsw_sites_header *header = sites_section();
    struct hsw_site *sites;
    uint64_t frames[HSW_SITE_FRAMES];
    unsigned depth, index;

    if (header == NULL)
        return -1;
    sites = (struct hsw_site *)(header + 1);
    if (__atomic_load_n(&header->capacity, __ATOMIC_ACQUIRE) == 0)
        hsw_sites_prepare(interval);
    depth = capture(frames);
    if (depth == 0) {
        __atomic_fetch_add(&header->unwind_failures, 1, __ATOMIC_RELAXED);
        index = HSW_SITES_CAPACITY - 1;
    } else {
        index = find_or_claim(sites, frames, depth);
    }
    __atomic_fetch_add(&header->samples, 1, __ATOMIC_RELAXED);
    __atomic_fetch_add(&sites[index].samples, 1, __ATOMIC_RELAXED);
    __atomic_fetch_add(&sites[index].allocations, allocations, __ATOMIC_RELAXED);
    __atomic_fetch_add(&sites[index].bytes, bytes, __ATOMIC_RELAXED);
    return (int)index;
}

void hsw_sites_release(int index, uint64_t allocations, uint64_t bytes)
{
    struct hsw_sites_header *header = sites_section();
    struct hsw_site *site;

    if (header == NULL || index < 0 || index >= HSW_SITES_CAPACITY)
        return;
    site = (struct hsw_site *)(header + 1) + index;
    __atomic_fetch_add(&site->freed_allocations, allocations, __ATOMIC_RELAXED);
    __atomic_fetch_add(&site->freed_bytes, bytes, __ATOMIC_RELAXED);
}
