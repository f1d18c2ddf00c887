/* Writes segments with a sites section, as a sampling process would, for
 * the tests of the reading side (heapswitch sites, top's sites pane):
 *
 *   sitegen [--grow] [--no-sites] [--bad-capacity] [--exit]
 *       publishes its own segment (/dev/shm/heapswitch-UID-PID) whose
 *       sites hold real return addresses taken with backtrace() in this
 *       PIE program, in a shared library it links, in a C++ member
 *       function, behind an inlined function, and under libc's qsort;
 *       prints "pid PID" and waits for a signal (--grow: site "plain"
 *       gains 100 allocations and slot 0 10 requests every 0.1 s; --exit: exits at once, its
 *       segment left behind as of an exited process).
 *   sitegen --pid PID ADDRESS...
 *       publishes a segment for another, running process PID with one
 *       site of these return addresses (hex), innermost first; exits.
 *
 * The estimates (tests/siteview/sites.sh checks them) are, in allocations:
 * plain 1000, inlined 3000, library 2000, cxx 500, qsort 100, other 10;
 * bytes 64 per allocation but cxx 2048; half of plain's blocks freed.
 */
#include "config.h"

#include <errno.h>
#include <execinfo.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "lib/procinfo.h"
#include "tests/fuzz/seed-image.h"
#include "tests/fuzz/own-segment.h"
#include "tests/siteview/sitegen.h"

#define CAPACITY 64
enum { SITE_PLAIN, SITE_INLINED, SITE_LIBRARY, SITE_CXX, SITE_QSORT, SITE_KINDS };

static const uint64_t site_allocations[SITE_KINDS] = {1000, 3000, 2000, 500, 100};

struct section {
    struct hsw_sites_header header;
    struct hsw_site sites[CAPACITY];
};

static struct section section;
static unsigned char image[SEED_IMAGE_CAPACITY];
static size_t core_size;

static int capture(int which, int skip)
{
    void *stack[HSW_SITE_FRAMES + 8];
    int depth = backtrace(stack, HSW_SITE_FRAMES + 8);
    struct hsw_site *site = &section.sites[which];
    uint64_t allocations = site_allocations[which];
    uint64_t size = which == SITE_CXX ? 2048 : 64;

    site->depth = 0;
    for (int i = 1 + skip; i < depth && site->depth < HSW_SITE_FRAMES; i++)
        site->frames[site->depth++] = (uint64_t)(uintptr_t)stack[i];
    site->samples = allocations / 10;
    site->allocations = allocations * HSW_SITE_WEIGHT_ONE;
    site->bytes = allocations * size * HSW_SITE_WEIGHT_ONE;
    if (which == SITE_PLAIN) {
        site->freed_allocations = site->allocations / 2;
        site->freed_bytes = site->bytes / 2;
    }
    site->hash = UINT64_C(0x1000) + (uint64_t)which;
    return depth;
}

__attribute__((noinline)) static int plain_site(void)
{
    return capture(SITE_PLAIN, 0) + 1;
}

static inline __attribute__((always_inline)) int inlined_helper(void)
{
    return capture(SITE_INLINED, 0) + 2;
}

__attribute__((noinline)) static int outer_of_inlined(void)
{
    return inlined_helper() + 1;
}

static int compare_capturing(const void *a, const void *b)
{
    static int taken;

    if (!taken)
        taken = capture(SITE_QSORT, 1); /* drop this comparator: qsort is innermost */
    return *(const int *)a - *(const int *)b;
}

__attribute__((noinline)) static int qsort_site(void)
{
    int values[] = {3, 1, 2};

    qsort(values, 3, sizeof values[0], compare_capturing);
    return values[0];
}

static void fill_other(void)
{
    struct hsw_site *other = &section.sites[CAPACITY - 1];

    other->samples = 1;
    other->allocations = 10 * HSW_SITE_WEIGHT_ONE;
    other->bytes = 10 * 64 * HSW_SITE_WEIGHT_ONE;
}

/* Writes the segment file for pid; returns its descriptor or -1. */
static int publish(pid_t pid, bool with_sites, bool bad_capacity, bool exited)
{
    struct hsw_segment_header header;
    size_t core = seed_build(image, SEED_RUNNING, (uint32_t)getuid(), (int32_t)pid);
    char path[128], exe[256] = "", link[64];
    ssize_t length;
    int fd;

    core_size = core;
    memcpy(&header, image, sizeof header);
    header.pid_namespace = own_pid_namespace(); /* as the name says */
    hsw_proc_start_time(pid, &header.start_time);
    snprintf(link, sizeof link, "/proc/%d/exe", (int)pid);
    length = readlink(link, exe, sizeof exe - 1);
    exe[length > 0 ? length : 0] = '\0';
    seed_text(header.exe, sizeof header.exe, exe);
    seed_text(header.tag, sizeof header.tag, "sitegen");
    header.state = exited ? HSW_STATE_EXITED : HSW_STATE_RUNNING;
    header.file_size = core;
    if (with_sites) {
        section.header.interval = 512 * 1024;
        section.header.capacity = bad_capacity ? CAPACITY * 2 : CAPACITY;
        section.header.frames = HSW_SITE_FRAMES;
        for (unsigned i = 0; i < CAPACITY; i++)
            section.header.samples += section.sites[i].samples;
        header.sections[0].kind = HSW_SECTION_SITES;
        header.sections[0].version = HSW_SITES_VERSION;
        header.sections[0].offset = core;
        header.sections[0].size = sizeof section;
        header.file_size = core + sizeof section;
    }
    memcpy(image, &header, sizeof header);
    own_segment_path(path, sizeof path, pid);
    fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0 && errno == EEXIST) {
        /* Left by an earlier process of the same pid, as the library does. */
        unlink(path);
        fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    }
    if (fd < 0) {
        fprintf(stderr, "sitegen: cannot create %s: %s\n", path, strerror(errno));
        return -1;
    }
    if (pwrite(fd, image, core, 0) != (ssize_t)core ||
        (with_sites && pwrite(fd, &section, sizeof section, (off_t)core) != (ssize_t)sizeof section)) {
        fprintf(stderr, "sitegen: cannot write %s\n", path);
        unlink(path);
        close(fd);
        return -1;
    }
    return fd;
}

static volatile sig_atomic_t stop;

static void on_signal(int signal_number)
{
    (void)signal_number;
    stop = 1;
}

static int other_process(int argc, char **argv)
{
    pid_t pid = (pid_t)atoi(argv[2]);
    struct hsw_site *site = &section.sites[0];
    int fd;

    for (int i = 3; i < argc && site->depth < HSW_SITE_FRAMES; i++)
        site->frames[site->depth++] = strtoull(argv[i], NULL, 16);
    site->hash = 1;
    site->samples = 5;
    site->allocations = 5000 * HSW_SITE_WEIGHT_ONE;
    site->bytes = 5000 * 100 * HSW_SITE_WEIGHT_ONE;
    fd = publish(pid, true, false, false);
    if (fd < 0)
        return 1;
    close(fd);
    return 0;
}

int main(int argc, char **argv)
{
    bool grow = false, with_sites = true, bad_capacity = false, exited = false;
    uint64_t requests;
    char path[128];
    int fd;

    if (argc >= 3 && strcmp(argv[1], "--pid") == 0)
        return other_process(argc, argv);
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--grow") == 0)
            grow = true;
        else if (strcmp(argv[i], "--no-sites") == 0)
            with_sites = false;
        else if (strcmp(argv[i], "--bad-capacity") == 0)
            bad_capacity = true;
        else if (strcmp(argv[i], "--exit") == 0)
            exited = true;
        else {
            fprintf(stderr, "sitegen: unknown argument '%s'\n", argv[i]);
            return 2;
        }
    }
    plain_site();
    outer_of_inlined();
    sitegen_library_site(capture, SITE_LIBRARY);
    sitegen_cxx_site(capture, SITE_CXX);
    qsort_site();
    fill_other();
    signal(SIGTERM, on_signal);
    signal(SIGUSR1, on_signal);
    fd = publish(getpid(), with_sites, bad_capacity, exited);
    if (fd < 0)
        return 1;
    printf("pid %d\n", (int)getpid());
    fflush(stdout);
    if (exited)
        return 0; /* the segment stays, as an exited process's does */
    memcpy(&requests, image + sizeof(struct hsw_segment_header) + offsetof(struct hsw_slot, requests),
           sizeof requests);
    flock(fd, LOCK_EX);
    while (!stop) {
        usleep(100000);
        if (grow) {
            section.sites[SITE_PLAIN].allocations += 100 * HSW_SITE_WEIGHT_ONE;
            section.sites[SITE_PLAIN].bytes += 100 * 64 * HSW_SITE_WEIGHT_ONE;
            /* and 10 requests: 10 allocations per request at plain_site */
            requests += 10;
            if (pwrite(fd, &section.sites[SITE_PLAIN], sizeof section.sites[SITE_PLAIN],
                       (off_t)(core_size + offsetof(struct section, sites))) < 0 ||
                pwrite(fd, &requests, sizeof requests,
                       (off_t)(sizeof(struct hsw_segment_header) + offsetof(struct hsw_slot, requests))) < 0)
                break;
        }
    }
    own_segment_path(path, sizeof path, getpid());
    unlink(path);
    return 0;
}
