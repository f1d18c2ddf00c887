/* Call-site sampling across fork: the child's segment starts with an
 * empty sites section; the blocks the parent sampled are not the child's
 * (freeing them in the child takes nothing off anything), its own site
 * is estimated within 10%; and nothing the child does changes the
 * parent's section. HEAPSWITCH_SAMPLE=4k (re-executes itself with it
 * when unset). Statistics: 32,768 blocks of 1 KiB, p = 0.22, relative
 * standard deviation 1.0%. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/harness.h"
#include "tests/sites/sites_read.h"

#define COUNT 32768
#define SIZE 1024

void *parent_site(void);
void *child_site(void);

__attribute__((noinline)) void *parent_site(void)
{
    void *block = malloc(SIZE);
    __asm__ volatile("" ::: "memory");
    return block;
}

__attribute__((noinline)) void *child_site(void)
{
    void *block = malloc(SIZE);
    __asm__ volatile("" ::: "memory");
    return block;
}

static void *blocks[COUNT];

static void check_estimate(const char *name, struct site_totals got, double live)
{
    printf("[%d] %s: %llu samples; allocations %.0f (true %d), bytes %.0f, live %.0f (true %.0f)\n",
           (int)getpid(), name, (unsigned long long)got.samples, got.allocations, COUNT, got.bytes,
           got.live_bytes, live);
    CHECK(sites_close(got.allocations, COUNT, 0.10), "%s allocations", name);
    CHECK(sites_close(got.bytes, (double)COUNT * SIZE, 0.10), "%s bytes", name);
    if (live == 0)
        CHECK(got.live_bytes == 0, "%s live %.0f", name, got.live_bytes);
    else
        CHECK(sites_close(got.live_bytes, live, 0.10), "%s live", name);
}

static int child(void)
{
    struct sites_snapshot snapshot;
    int status;

    if (sites_snapshot_read(&snapshot) != 0)
        return 1;
    CHECK(sites_for_function(&snapshot, "parent_site").entries == 0,
          "the child's new section has the parent's site");
    sites_snapshot_free(&snapshot);
    for (int i = 0; i < COUNT; i++)
        free(blocks[i]);
    for (int i = 0; i < COUNT; i++)
        free(child_site());
    if (sites_snapshot_read(&snapshot) != 0)
        return 1;
    CHECK(sites_for_function(&snapshot, "parent_site").entries == 0,
          "the parent's blocks freed in the child made an entry");
    CHECK(sites_overfreed(&snapshot) == 0,
          "%u entries of the child's section had the parent's blocks taken off",
          sites_overfreed(&snapshot));
    check_estimate("child_site", sites_for_function(&snapshot, "child_site"), 0);
    sites_snapshot_free(&snapshot);
    status = test_finish("sites fork (child)");
    fflush(stdout); /* the child leaves by _exit */
    return status;
}

int main(int argc, char **argv)
{
    struct sites_snapshot snapshot;
    int status = 0;
    pid_t pid;

    (void)argc;
    sites_reexec_with_sampling(argv, "4k");
    for (int i = 0; i < COUNT; i++)
        blocks[i] = parent_site();
    fflush(stdout);
    pid = fork();
    if (pid == 0)
        _exit(child());
    CHECK(pid > 0, "fork failed");
    waitpid(pid, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the child failed (status %d)", status);
    if (sites_snapshot_read(&snapshot) != 0)
        return 1;
    check_estimate("parent_site", sites_for_function(&snapshot, "parent_site"),
                   (double)COUNT * SIZE);
    CHECK(sites_for_function(&snapshot, "child_site").entries == 0,
          "the child's site in the parent's section");
    sites_snapshot_free(&snapshot);
    for (int i = 0; i < COUNT; i++)
        free(blocks[i]);
    return test_finish("sites fork");
}
