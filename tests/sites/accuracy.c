/* Call-site sampling is accurate: three known call sites allocate bytes
 * in a 1:2:7 ratio (and calls in a 4:1:1 ratio), through malloc, calloc
 * and aligned_alloc; the process reads its own sites section and checks
 * each site's estimated allocations, bytes and live bytes against the
 * truth, within 10%. Site B frees everything it allocates (its live
 * estimate must be 0), site C frees every other block (half its bytes
 * stay live), site A frees nothing. A realloc site and a calloc site
 * reached through realloc(p, 0) and free check that those calls are
 * sampled and taken off too.
 *
 * Run with HEAPSWITCH_SAMPLE=4k (re-executes itself with it when unset).
 * Why this never flakes: a block of s bytes is sampled with probability
 * p = 1 - exp(-s/4096), independently of the others; the estimate of a
 * site's N blocks of s bytes has relative standard deviation
 * sqrt((1 - p) / (N p)):
 *   A: 65,536 x 256 B,   p = 0.061 -> 1.5%
 *   B: 16,384 x 2048 B,  p = 0.39  -> 1.0%
 *   C:  8,192 x 14336 B, p = 0.97  -> 0.2%
 *   C live (4,096 of them)          -> 0.3%
 * so 10% is at least 6.5 standard deviations: a failure chance below
 * 1e-10 per check. The live estimate of B is exact (0): every sampled
 * block of B is freed and taken off.
 *
 * Argument "off": the same program without sampling, checked to find no
 * sites section (sampling is off unless HEAPSWITCH_SAMPLE asks).
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/harness.h"
#include "tests/sites/sites_read.h"

#define A_COUNT 65536
#define A_SIZE 256
#define B_COUNT 16384
#define B_SIZE 2048
#define C_COUNT 8192
#define C_SIZE 14336
#define R_COUNT 4096
#define R_SIZE 4096
#define TOLERANCE 0.10

static void *a_blocks[A_COUNT];
static void *c_blocks[C_COUNT];

/* The sites: global and never inlined, so that dladdr names them. */
void *site_a(size_t size);
void *site_b(size_t size);
void *site_c(size_t size);
void *site_r(void *old, size_t size);

__attribute__((noinline)) void *site_a(size_t size)
{
    void *block = malloc(size);
    __asm__ volatile("" ::: "memory"); /* not a tail call: the frame stays */
    return block;
}

__attribute__((noinline)) void *site_b(size_t size)
{
    void *block = calloc(1, size);
    __asm__ volatile("" ::: "memory");
    return block;
}

__attribute__((noinline)) void *site_c(size_t size)
{
    void *block = aligned_alloc(64, size);
    __asm__ volatile("" ::: "memory");
    return block;
}

__attribute__((noinline)) void *site_r(void *old, size_t size)
{
    void *block = realloc(old, size);
    __asm__ volatile("" ::: "memory");
    return block;
}

static void check_site(const struct sites_snapshot *snapshot, const char *name, double count,
                       double size, double live_bytes)
{
    struct site_totals got = sites_for_function(snapshot, name);

    printf("%s: %llu samples in %u entries; allocations %.0f (true %.0f), bytes %.0f (true %.0f), "
           "live bytes %.0f (true %.0f)\n",
           name, (unsigned long long)got.samples, got.entries, got.allocations, count, got.bytes,
           count * size, got.live_bytes, live_bytes);
    CHECK(got.entries >= 1, "%s has no entry", name);
    CHECK(sites_close(got.allocations, count, TOLERANCE), "%s allocations %.0f, true %.0f", name,
          got.allocations, count);
    CHECK(sites_close(got.bytes, count * size, TOLERANCE), "%s bytes %.0f, true %.0f", name,
          got.bytes, count * size);
    if (live_bytes == 0)
        CHECK(got.live_bytes == 0, "%s live bytes %.0f, true 0", name, got.live_bytes);
    else
        CHECK(sites_close(got.live_bytes, live_bytes, TOLERANCE), "%s live bytes %.0f, true %.0f",
              name, got.live_bytes, live_bytes);
}

static int check_off(void)
{
    struct sites_snapshot snapshot;

    for (int i = 0; i < 1000; i++)
        free(site_a(A_SIZE));
    CHECK(sites_snapshot_read(&snapshot) != 0, "a sites section without HEAPSWITCH_SAMPLE");
    return test_finish("sites accuracy (off)");
}

int main(int argc, char **argv)
{
    struct sites_snapshot snapshot;
    void *moved = NULL;

    (void)argc;
    if (argc > 1 && strcmp(argv[1], "off") == 0)
        return check_off();
    sites_reexec_with_sampling(argv, "4k");

    for (int i = 0; i < A_COUNT; i++)
        a_blocks[i] = site_a(A_SIZE);
    for (int i = 0; i < B_COUNT; i++)
        free(site_b(B_SIZE));
    for (int i = 0; i < C_COUNT; i++)
        c_blocks[i] = site_c(C_SIZE);
    for (int i = 0; i < C_COUNT; i += 2)
        free(c_blocks[i]);
    /* realloc: a block moved to ever larger sizes, then freed through
     * realloc(p, 0); every step is an allocation of R_SIZE * k bytes. */
    for (int i = 1; i <= R_COUNT / 64; i++)
        moved = site_r(moved, (size_t)R_SIZE * 64 * (size_t)i / 64);
    site_r(moved, 0);

    if (sites_snapshot_read(&snapshot) != 0)
        return 1;
    printf("interval %llu, capacity %u, samples %llu, unwind failures %llu\n",
           (unsigned long long)snapshot.header.interval, snapshot.header.capacity,
           (unsigned long long)snapshot.header.samples,
           (unsigned long long)snapshot.header.unwind_failures);
    CHECK(snapshot.header.interval == 4096, "interval %llu",
          (unsigned long long)snapshot.header.interval);
    CHECK(snapshot.header.frames == HSW_SITE_FRAMES, "frames %u", snapshot.header.frames);
    CHECK(snapshot.header.unwind_failures * 100 <= snapshot.header.samples,
          "%llu of %llu samples without a stack",
          (unsigned long long)snapshot.header.unwind_failures,
          (unsigned long long)snapshot.header.samples);
    CHECK(sites_overfreed(&snapshot) == 0, "entries with more freed than allocated");
    check_site(&snapshot, "site_a", A_COUNT, A_SIZE, (double)A_COUNT * A_SIZE);
    check_site(&snapshot, "site_b", B_COUNT, B_SIZE, 0);
    check_site(&snapshot, "site_c", C_COUNT, C_SIZE, (double)C_COUNT / 2 * C_SIZE);
    {
        /* Sizes 4 KiB .. 256 KiB: nearly all sampled; all freed. */
        struct site_totals r = sites_for_function(&snapshot, "site_r");
        double bytes = 0;

        for (int i = 1; i <= R_COUNT / 64; i++)
            bytes += (double)R_SIZE * i;
        printf("site_r: allocations %.0f (true %d), bytes %.0f (true %.0f), live %.0f\n",
               r.allocations, R_COUNT / 64, r.bytes, bytes, r.live_bytes);
        CHECK(sites_close(r.bytes, bytes, TOLERANCE), "site_r bytes %.0f, true %.0f", r.bytes,
              bytes);
        CHECK(r.live_bytes == 0, "site_r live bytes %.0f after realloc(p, 0)", r.live_bytes);
    }
    for (int i = 0; i < A_COUNT; i++)
        free(a_blocks[i]);
    for (int i = 1; i < C_COUNT; i += 2)
        free(c_blocks[i]);
    sites_snapshot_free(&snapshot);
    if (sites_snapshot_read(&snapshot) == 0) {
        struct site_totals a = sites_for_function(&snapshot, "site_a");
        CHECK(a.live_bytes == 0, "site_a live bytes %.0f after every block was freed",
              a.live_bytes);
        sites_snapshot_free(&snapshot);
    }
    return test_finish("sites accuracy");
}
